//! IKE behind AH in fragmented IPv4 (a review finding): the AH header of a
//! first fragment used to be stripped before reassembly, so the fragment
//! offsets no longer matched and the datagram was lost. Built here
//! synthetically: no capture in the corpus has fragmented AH.

use ikediag::capture::Frame;
use ikediag::decode::{DecodeConfig, Decoder, IkeDatagram, Sink};

#[derive(Default)]
struct Ike(Vec<(u64, Vec<u64>, usize)>, u64);

impl Sink for Ike {
    fn ike(&mut self, m: &IkeDatagram<'_>) {
        self.0
            .push((m.seen.frame, m.seen.frames.to_vec(), m.raw.len()));
    }
}

/// An IKEv2 IKE_SA_INIT request of 332 bytes (header + one Nonce payload).
fn ike_message() -> Vec<u8> {
    let mut m = vec![
        1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0x20, 34, 0x08,
    ];
    m.extend_from_slice(&0u32.to_be_bytes());
    m.extend_from_slice(&332u32.to_be_bytes());
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&304u16.to_be_bytes());
    m.extend((0..300).map(|i| i as u8));
    assert_eq!(m.len(), 332);
    m
}

/// AH (12-byte ICV) + UDP 500 -> 500 + the IKE message.
fn ah_udp_ike() -> Vec<u8> {
    let ike = ike_message();
    let mut p = vec![17, 4, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1];
    p.extend_from_slice(&[0xaa; 12]);
    p.extend_from_slice(&500u16.to_be_bytes());
    p.extend_from_slice(&500u16.to_be_bytes());
    p.extend_from_slice(&((8 + ike.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&ike);
    p
}

fn ipv4(payload: &[u8], offset: usize, more: bool) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    h.extend_from_slice(&[0x12, 0x34]);
    let flags = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
    h.extend_from_slice(&flags.to_be_bytes());
    h.extend_from_slice(&[64, 51, 0, 0, 192, 0, 2, 10, 203, 0, 113, 20]);
    h.extend_from_slice(payload);
    h
}

fn decode(frames: &[Vec<u8>]) -> Ike {
    let mut d = Decoder::new(DecodeConfig::default());
    let mut sink = Ike::default();
    for (i, data) in frames.iter().enumerate() {
        let f = Frame {
            number: i as u64 + 1,
            ts_ns: i as i64 * 1000,
            linktype: 228, // raw IPv4
            orig_len: data.len() as u32,
            data,
        };
        d.frame(&f, &mut sink);
    }
    sink.1 = d.finish(&mut sink).ah_packets;
    sink
}

#[test]
fn fragmented_ah_reassembles_in_either_order() {
    let whole = ah_udp_ike();
    let (a, b) = whole.split_at(200);
    let first = ipv4(a, 0, true);
    let second = ipv4(b, 200, false);
    for order in [
        vec![first.clone(), second.clone()],
        vec![second.clone(), first.clone()],
    ] {
        let got = decode(&order);
        assert_eq!(got.0.len(), 1, "one IKE message from two fragments");
        let (frame, frames, len) = &got.0[0];
        assert_eq!(*frame, 2, "Wireshark shows it at the completing frame");
        assert_eq!(frames.len(), 2);
        assert_eq!(*len, 332);
        assert_eq!(got.1, 1, "one AH packet");
    }
    // Unfragmented AH still decodes.
    let got = decode(&[ipv4(&whole, 0, false)]);
    assert_eq!(got.0.len(), 1);
    assert_eq!(got.0[0].2, 332);
    assert_eq!(got.1, 1);
}
