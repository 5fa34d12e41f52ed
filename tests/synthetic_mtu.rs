//! A real capture with one synthetic packet added: the lab's
//! `mtu_blackhole.pcap` (IKE_AUTH of 3,664 bytes in IP fragments, never
//! answered) plus an ICMP "fragmentation needed" (MTU 1400) from the router,
//! quoting the IKE_AUTH. The path MTU must come from it, the fixes must use
//! it, and the oversized IKE message must be reported.

use std::path::Path;

use ikediag::capture::CaptureReader;

fn pcap_header() -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&65535u32.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
    h
}

fn record(out: &mut Vec<u8>, ts_ns: i64, data: &[u8]) {
    let s = (ts_ns / 1_000_000_000) as u32;
    let us = ((ts_ns % 1_000_000_000) / 1000) as u32;
    out.extend_from_slice(&s.to_le_bytes());
    out.extend_from_slice(&us.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
}

/// ICMP fragmentation needed from 192.0.2.1 to 192.0.2.10, MTU 1400, quoting
/// a 1500-byte UDP 4500 packet from 192.0.2.10 to 203.0.113.20.
fn icmp_frag_needed() -> Vec<u8> {
    let mut quoted = vec![
        0x45, 0, 0x05, 0xdc, 0x12, 0x34, 0x20, 0x00, 64, 17, 0, 0, 192, 0, 2, 10, 203, 0, 113, 20,
    ];
    quoted.extend_from_slice(&[0x11, 0x94, 0x11, 0x94, 0x0e, 0x54, 0, 0]);
    let mut icmp = vec![3, 4, 0, 0, 0, 0, 0x05, 0x78];
    icmp.extend_from_slice(&quoted);
    let total = (20 + icmp.len()) as u16;
    let mut ip = vec![0x45, 0xc0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 1, 0, 0, 64, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 10]);
    ip.extend_from_slice(&icmp);
    let mut eth = vec![0u8; 12];
    eth.extend_from_slice(&[0x08, 0x00]);
    eth.extend_from_slice(&ip);
    eth
}

#[test]
fn icmp_mtu_drives_the_path_mtu_and_the_fixes() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/mtu_blackhole.pcap");
    let mut reader = CaptureReader::open(&src).unwrap();
    let mut out = pcap_header();
    let mut n = 0;
    while let Some(f) = reader.next_frame().unwrap() {
        n += 1;
        record(&mut out, f.ts_ns, f.data);
        if n == 8 {
            // Right after the first IKE_AUTH transmission.
            record(&mut out, f.ts_ns + 1000, &icmp_frag_needed());
        }
    }
    let dir = std::env::temp_dir().join(format!("ikediag-synth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mtu_blackhole_icmp.pcap");
    std::fs::write(&path, &out).unwrap();

    let mut r = CaptureReader::open(&path).unwrap();
    let a = ikediag::session::analyze_reader(&mut r, Default::default());
    let rep = ikediag::report::build("synthetic", &a, &Default::default());
    let pm = rep.path_mtu.as_ref().expect("path MTU evidence");
    assert_eq!(pm.value, Some(1400));
    assert!(
        pm.frames.contains(&9),
        "the ICMP is frame 9: {:?}",
        pm.frames
    );
    let names: Vec<&str> = rep.findings.iter().map(|f| f.name).collect();
    for want in ["path-mtu", "oversized-ike-message", "mtu-blackhole"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let blackhole = rep
        .findings
        .iter()
        .find(|f| f.name == "mtu-blackhole")
        .unwrap();
    assert!(
        blackhole.message.contains("at most 1400 bytes"),
        "{}",
        blackhole.message
    );
    let fix = serde_json::to_string(&blackhole.fix).unwrap();
    assert!(fix.contains("charon.fragment_size = 1400"), "{fix}");
    let path_mtu = rep.findings.iter().find(|f| f.name == "path-mtu").unwrap();
    // 1400 - 20 - 8 - 8 - 16 - 16 = 1332 -> 1328 - 2 = 1326 (NAT-T: the SA moved to 4500).
    assert!(
        path_mtu.message.contains("tunnel MTU 1326"),
        "{}",
        path_mtu.message
    );
    let _ = std::fs::remove_dir_all(&dir);
}
