//! Fuzzes `ikediag::decode::Decoder::frame` (link, IP, tunnels, reassembly,
//! UDP/TCP/ICMP classification, IKE parsing) with one frame, then `finish`.
//!
//! Input: the first byte picks the link type from the ones the decoder
//! supports (modulo the list length), the rest is the frame. The sink reads
//! every field of every event. Checked:
//! - no panic;
//! - every event is about frame 1, with `frames` non-empty and containing it;
//! - an IKE datagram's `raw` is inside the frame, and its parse result is
//!   the same as parsing `raw` directly;
//! - the stats returned by `finish` count the events the sink saw.
#![no_main]

use ikediag::capture::Frame;
use ikediag::decode::{
    DecodeAnomaly, DecodeConfig, DecodeStats, Decoder, EspPacket, IcmpEvent, IkeDatagram,
    Keepalive, Seen, Sink, TcpSyn,
};
use ikediag::defrag::IncompleteSet;
use ikediag::ike;
use libfuzzer_sys::fuzz_target;

const LINKTYPES: [u32; 12] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 239, 276, 9];
const FRAME: u64 = 1;

fn sink<T: std::fmt::Debug>(v: T) {
    std::hint::black_box(format!("{v:?}"));
}

#[derive(Default)]
struct Counting {
    ike: u64,
    esp: u64,
    keepalives: u64,
    icmp_errors: u64,
    anomalies: u64,
    incomplete: u64,
    ended: bool,
}

fn seen(s: &Seen<'_>) {
    assert_eq!(s.frame, FRAME);
    assert!(!s.frames.is_empty());
    assert!(s.frames.contains(&s.frame));
    sink((
        s.ts_ns,
        s.src,
        s.dst,
        s.ip_payload_len,
        s.dont_fragment,
        s.tunnel.map(|t| (t.kind, t.outer_src, t.outer_dst)),
        s.truncated,
    ));
}

impl Sink for Counting {
    fn ike(&mut self, m: &IkeDatagram<'_>) {
        self.ike += 1;
        seen(&m.seen);
        sink((m.src_port, m.dst_port, m.transport, m.raw.len()));
        match &m.message {
            Ok(msg) => {
                sink((
                    msg.payload_names(),
                    msg.notify_names(),
                    msg.fragment(),
                    msg.ke_group(),
                    msg.invalid_ke_group(),
                    msg.vendor_ids().count(),
                    &msg.anomalies,
                ));
            }
            Err(e) => sink(e),
        }
        assert_eq!(m.message, ike::parse(m.raw));
    }
    fn esp(&mut self, e: &EspPacket<'_>) {
        self.esp += 1;
        seen(&e.seen);
        sink((e.spi, e.seq, e.udp_ports));
    }
    fn keepalive(&mut self, k: &Keepalive<'_>) {
        self.keepalives += 1;
        seen(&k.seen);
        sink((k.src_port, k.dst_port));
    }
    fn icmp(&mut self, i: &IcmpEvent<'_>) {
        seen(&i.seen);
        if matches!(i.message, ikediag::wire::icmp::IcmpMessage::Error { .. }) {
            self.icmp_errors += 1;
        }
        sink((i.v6, i.message, i.quoted, i.datagram_len));
    }
    fn tcp_syn(&mut self, s: &TcpSyn<'_>) {
        seen(&s.seen);
        sink((s.src_port, s.dst_port, s.ack, s.mss));
    }
    fn incomplete_fragments(&mut self, s: &IncompleteSet) {
        self.incomplete += 1;
        assert!(!s.frames.is_empty());
        sink(s);
    }
    fn anomaly(&mut self, frame: u64, a: DecodeAnomaly) {
        self.anomalies += 1;
        assert_eq!(frame, FRAME);
        assert!(!a.code().is_empty());
        sink(a);
    }
    fn end(&mut self, stats: &DecodeStats) {
        assert!(!self.ended, "end called twice");
        self.ended = true;
        sink(stats);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let linktype = LINKTYPES[usize::from(sel) % LINKTYPES.len()];
    // Bit 7 of the selector: pretend the snaplen cut the frame.
    let orig_len = rest.len() as u32 + if sel & 0x80 != 0 { 100 } else { 0 };
    let frame = Frame {
        number: FRAME,
        ts_ns: 1_700_000_000_000_000_000,
        linktype,
        orig_len,
        data: rest,
    };
    let mut dec = Decoder::new(DecodeConfig::default());
    let mut s = Counting::default();
    dec.frame(&frame, &mut s);
    let stats = dec.finish(&mut s);
    assert!(s.ended);
    assert_eq!(stats.frames, 1);
    assert_eq!(stats.bytes, rest.len() as u64);
    assert_eq!(stats.ike_messages, s.ike);
    assert_eq!(stats.esp_packets, s.esp);
    assert_eq!(stats.keepalives, s.keepalives);
    assert_eq!(stats.icmp_errors, s.icmp_errors);
    assert_eq!(stats.anomalies, s.anomalies);
    assert_eq!(stats.incomplete_fragment_sets, s.incomplete);
    assert_eq!(stats.truncated_frames, u64::from(sel & 0x80 != 0));
});
