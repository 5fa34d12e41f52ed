//! RFC 5685 REDIRECT: a gateway answers IKE_SA_INIT with REDIRECT naming
//! another gateway, and the initiator opens a new IKE SA (a fresh SPI) to
//! it. The new attempt retries the redirected one (issue 11: follow a
//! peer's attempts across fresh SPIs). Built synthetically: no capture in
//! the corpus redirects.

mod common;

fn ike(ispi: u8, rspi: u8, response: bool, payload: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![ispi; 8];
    m.extend_from_slice(&[rspi; 8]);
    m.extend_from_slice(&[payload, 0x20, 34, if response { 0x20 } else { 0x08 }]);
    m.extend_from_slice(&0u32.to_be_bytes());
    m.extend_from_slice(&((28 + body.len()) as u32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// A Nonce payload (type 40) of 32 bytes, last in the chain.
fn nonce() -> Vec<u8> {
    let mut p = vec![0, 0, 0, 36];
    p.extend((0..32).map(|i| i as u8));
    p
}

/// A REDIRECT notify (16407) naming the IPv4 gateway `gw`.
fn redirect(gw: [u8; 4]) -> Vec<u8> {
    let mut p = vec![0, 0, 0, 14, 0, 0, 0x40, 0x17, 1, 4];
    p.extend_from_slice(&gw);
    p
}

fn udp_ipv4(src: [u8; 4], dst: [u8; 4], ttl: u8, ike: &[u8]) -> Vec<u8> {
    let mut u = 500u16.to_be_bytes().to_vec();
    u.extend_from_slice(&500u16.to_be_bytes());
    u.extend_from_slice(&((8 + ike.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(ike);
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&((20 + u.len()) as u16).to_be_bytes());
    h.extend_from_slice(&[0, 1, 0x40, 0, ttl, 17, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(&u);
    h
}

#[test]
fn a_new_attempt_to_the_gateway_named_by_redirect_retries_the_redirected_one() {
    let client = [192, 0, 2, 10];
    let gw1 = [203, 0, 113, 20];
    let gw2 = [198, 51, 100, 7];
    let packets = [
        udp_ipv4(client, gw1, 64, &ike(0xa1, 0, false, 40, &nonce())),
        udp_ipv4(gw1, client, 60, &ike(0xa1, 0, true, 41, &redirect(gw2))),
        udp_ipv4(client, gw2, 64, &ike(0xb2, 0, false, 40, &nonce())),
        udp_ipv4(gw2, client, 60, &ike(0xb2, 0xc3, true, 40, &nonce())),
    ];
    // pcap, raw IPv4 (linktype 228), 50 ms apart.
    let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&228u32.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        f.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        f.extend_from_slice(&(i as u32 * 50_000).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(p);
    }
    let dir = std::env::temp_dir().join(format!("ikediag-redirect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("redirect.pcap");
    std::fs::write(&path, &f).unwrap();
    let r = common::report(&path);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        r.sas.len(),
        2,
        "{:?}",
        r.sas.iter().map(|s| &s.summary).collect::<Vec<_>>()
    );
    assert_eq!(
        r.sas[1].retry_of,
        Some(0),
        "the attempt at the named gateway retries the redirected one"
    );
    assert!(
        r.findings
            .iter()
            .all(|f| f.severity != ikediag::diag::Severity::Error),
        "{:?}",
        r.findings
            .iter()
            .map(|f| (f.name, &f.message))
            .collect::<Vec<_>>()
    );
}
