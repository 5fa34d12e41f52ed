//! What the decoder takes for IKE on the IKE ports (issue 11), one
//! synthetic datagram at a time: a plausible IKE header decides whatever
//! the other port is (IKE from a NAT that mapped 500 to 419), DNS and NTP
//! next to port 500 or 4500 are neither IKE nor ESP, and malformed IKE
//! still counts where the port pair leaves no other reading. The DNS and
//! NTP payloads are real ones (`public/PcapPlusPlus/many_interfaces-1.pcapng`
//! frames 5, 7 and 6), moved to the ports named in each case.

use ikediag::capture::Frame;
use ikediag::decode::{DecodeConfig, Decoder, EspPacket, IkeDatagram, Keepalive, Sink, Transport};

#[derive(Debug, Default, PartialEq, Eq)]
struct Events {
    ike: Vec<(Transport, usize, Option<String>)>,
    esp: usize,
    keepalives: usize,
}

impl Sink for Events {
    fn ike(&mut self, m: &IkeDatagram<'_>) {
        let err = m.message.as_ref().err().map(|e| e.to_string());
        self.ike.push((m.transport, m.raw.len(), err));
    }
    fn esp(&mut self, _e: &EspPacket<'_>) {
        self.esp += 1;
    }
    fn keepalive(&mut self, _k: &Keepalive<'_>) {
        self.keepalives += 1;
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// An IKEv2 IKE_SA_INIT request (the header of lab `ok_psk.pcap` frame 5)
/// with a body of `body` bytes and the length field to match.
fn ike_sa_init(body: usize) -> Vec<u8> {
    let mut m = unhex("fa013deb7dd2fca20000000000000000212022080000000000000000");
    m[24..28].copy_from_slice(&((28 + body) as u32).to_be_bytes());
    m.extend((0..body).map(|i| i as u8));
    m
}

const DNS_QUERY: &str =
    "f30301000001000000000000033133390131033136380331393207696e2d61646472046172706100000c0001";
const DNS_RESPONSE: &str = "f30385800001000100000000033133390131033136380331393207696e2d61646472046172706100000c0001c00c000c000100000000000e0c4861647269656c732d4d425000";
const NTP_CLIENT: &str = "23020aec00000d0b00000af611fd0cfdd97b623cbfe49dcdd97b6437ad7fd089d97b6437b6d0e9b0d97b647e296af531";

/// Raw IPv4 (LINKTYPE_RAW) carrying UDP `sport -> dport` with `payload`;
/// only `captured` bytes of the frame are kept (the snaplen).
fn frame(sport: u16, dport: u16, payload: &[u8], captured: Option<usize>) -> (Vec<u8>, u32) {
    let udp_len = 8 + payload.len();
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&((20 + udp_len) as u16).to_be_bytes());
    p.extend_from_slice(&[
        0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 198, 18, 99, 1, 198, 18, 99, 10,
    ]);
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&(udp_len as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    let orig_len = p.len() as u32;
    if let Some(n) = captured {
        p.truncate(n);
    }
    (p, orig_len)
}

fn decode(sport: u16, dport: u16, payload: &[u8], captured: Option<usize>) -> Events {
    let (data, orig_len) = frame(sport, dport, payload, captured);
    let mut d = Decoder::new(DecodeConfig::default());
    let mut sink = Events::default();
    d.frame(
        &Frame {
            number: 1,
            ts_ns: 0,
            linktype: 101,
            orig_len,
            data: &data,
        },
        &mut sink,
    );
    sink
}

fn with_marker(p: &[u8]) -> Vec<u8> {
    let mut m = vec![0, 0, 0, 0];
    m.extend_from_slice(p);
    m
}

fn ike(transport: Transport, len: usize) -> Events {
    Events {
        ike: vec![(transport, len, None)],
        ..Events::default()
    }
}

#[test]
fn ike_from_a_remapped_low_port_is_ike() {
    let m = ike_sa_init(212);
    for (sport, dport) in [(419, 500), (500, 419), (1, 500), (501, 500), (500, 1023)] {
        assert_eq!(
            decode(sport, dport, &m, None),
            ike(Transport::Udp, 240),
            "{sport} -> {dport}"
        );
    }
    // After the non-ESP marker, too.
    assert_eq!(
        decode(419, 4500, &with_marker(&m), None),
        ike(Transport::UdpNatt, 240)
    );
    // Cut by the snaplen right after the header: judged by the UDP length.
    let cut = decode(419, 500, &m, Some(20 + 8 + 28));
    assert_eq!(cut, ike(Transport::Udp, 28));
}

#[test]
fn dns_and_ntp_on_ike_ports_are_not_ike() {
    let nothing = Events::default();
    for (what, hex, ports) in [
        ("DNS query", DNS_QUERY, [(500, 53), (4500, 53)]),
        ("DNS response", DNS_RESPONSE, [(53, 500), (53, 4500)]),
        ("NTP", NTP_CLIENT, [(123, 500), (500, 123)]),
        ("NTP", NTP_CLIENT, [(123, 4500), (4500, 123)]),
    ] {
        let p = unhex(hex);
        for (sport, dport) in ports {
            assert_eq!(
                decode(sport, dport, &p, None),
                nothing,
                "{what} {sport} -> {dport}"
            );
        }
    }
    // A DNS query with ID 0 and no flags starts like a non-ESP marker.
    let mut q = unhex(DNS_QUERY);
    q[..4].copy_from_slice(&[0, 0, 0, 0]);
    assert_eq!(decode(4500, 53, &q, None), nothing);
    assert_eq!(decode(53, 4500, &[0xff], None), nothing, "not a keepalive");
}

#[test]
fn malformed_ike_counts_where_only_ike_ports_meet() {
    // Zero initiator SPI (as in tcpdump's isakmp-no-none-np.pcapng).
    let mut m = ike_sa_init(20);
    m[..8].copy_from_slice(&[0; 8]);
    for (sport, dport) in [(500, 500), (500, 49152), (0, 500)] {
        assert_eq!(
            decode(sport, dport, &m, None),
            ike(Transport::Udp, 48),
            "{sport} -> {dport}"
        );
    }
    assert_eq!(decode(419, 500, &m, None), Events::default());
    assert_eq!(
        decode(4500, 4500, &with_marker(&m), None),
        ike(Transport::UdpNatt, 48)
    );
    // Fewer than 28 bytes captured of a longer datagram: nothing to check,
    // the ports decide.
    let short = decode(500, 500, &ike_sa_init(20), Some(20 + 8 + 10));
    assert_eq!(short.ike.len(), 1);
    assert!(short.ike[0].2.is_some(), "a too-short message: {short:?}");
    assert_eq!(
        decode(419, 500, &ike_sa_init(20), Some(20 + 8 + 10)),
        Events::default()
    );
    // No IKE dissector takes a header length below 28 or a datagram shorter
    // than a header (as Wireshark: tcpdump's isakmp-pointer-loop.pcap).
    let mut zero_len = ike_sa_init(20);
    zero_len[24..28].copy_from_slice(&[0; 4]);
    assert_eq!(decode(500, 500, &zero_len, None), Events::default());
    assert_eq!(decode(500, 500, &[1, 2, 3], None), Events::default());
}

#[test]
fn esp_and_keepalives_on_4500() {
    let esp = [0xc0, 0, 0, 1, 0, 0, 0, 7, 1, 2, 3, 4];
    let one_esp = Events {
        esp: 1,
        ..Events::default()
    };
    for (sport, dport) in [(4500, 4500), (40000, 4500), (4500, 0)] {
        assert_eq!(
            decode(sport, dport, &esp, None),
            one_esp,
            "{sport} -> {dport}"
        );
    }
    // Next to another service's port, ESP-looking bytes are that service's.
    assert_eq!(decode(4500, 443, &esp, None), Events::default());
    assert_eq!(decode(500, 4500, &esp, None), Events::default());
    let keepalive = Events {
        keepalives: 1,
        ..Events::default()
    };
    assert_eq!(decode(40000, 4500, &[0xff], None), keepalive);
}
