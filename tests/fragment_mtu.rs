//! What an IP fragment says about its sender's MTU (issue 11): a non-last
//! fragment of F bytes carries a multiple of 8 data bytes, so the MTU the
//! sender applied was between F and F + 7; after an ICMP fragmentation
//! needed for it, that is the path MTU it learned, not its interface's.

mod common;

use std::path::Path;

/// The report's path MTU evidence, in words.
fn path_mtu_message(path: &Path) -> String {
    let r = common::report(path);
    r.path_mtu
        .map(|p| p.evidence.join("; "))
        .unwrap_or_else(|| panic!("{}: no path MTU evidence", path.display()))
}

#[test]
fn a_fragment_gives_a_range_not_an_interface_mtu() {
    // mtu_blackhole: 192.0.2.10 fragments the IKE_AUTH request at 1500
    // bytes (frame 6); no ICMP.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/mtu_blackhole.pcap");
    let m = path_mtu_message(&path);
    assert!(
        m.contains("192.0.2.10 sent a non-last IP fragment of 1500 bytes (frame 6): the MTU it applied (its interface's, or a path MTU it had learned) was between 1500 and 1507 bytes"),
        "{m}"
    );
    assert!(!m.contains("interface MTU is"), "{m}");
}

#[test]
fn a_fragment_after_icmp_names_the_learned_path_mtu() {
    // tcp_mss_too_large: the router reports MTU 1454 (frame 13), and the
    // sender's next ESP packet leaves in fragments of 1452 bytes (frame 14).
    let Some(lab) = common::lab_dir("tcp_mss_too_large fragment test") else {
        return;
    };
    let m = path_mtu_message(&lab.join("tcp_mss_too_large.pcap"));
    assert!(
        m.contains("100.64.7.10 sent a non-last IP fragment of 1452 bytes (frame 14): the MTU it applied was between 1452 and 1459 bytes"),
        "{m}"
    );
    assert!(
        m.contains("the path MTU of 1454 it had learned from the ICMP 'fragmentation needed' in frame 13, not its interface's MTU"),
        "{m}"
    );
    assert!(!m.contains("own interface MTU is 1452"), "{m}");
}
