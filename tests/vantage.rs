//! The verdict holds wherever the capture was taken, and does not take
//! capture artefacts for the path: regression tests on shipped fixtures
//! (`tests/fixtures/README.md`) and on captures altered here, so they run
//! without `../shared`; and on the public captures issue 11 named, when
//! `../shared` is there.

mod common;

use std::path::{Path, PathBuf};

use ikediag::diag::verdict::Outcome;
use ikediag::diag::{Confidence, Severity};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn errors(r: &ikediag::report::Report) -> Vec<&str> {
    r.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.name)
        .collect()
}

#[test]
fn lost_fragmented_reply_is_a_failure_from_both_ends() {
    let client = common::report(&fixture("mtu_blackhole_reply.pcapng"));
    let server = common::report(&fixture("mtu_blackhole_reply_responder.pcapng"));
    for r in [&client, &server] {
        assert_eq!(
            r.verdict.outcome,
            Outcome::Failure,
            "{}: {}",
            r.file,
            r.verdict.summary
        );
        assert_eq!(r.verdict.failed_exchange.as_deref(), Some("IKE_AUTH"));
        assert!(
            errors(r).contains(&"mtu-blackhole"),
            "{}: {:?}",
            r.file,
            errors(r)
        );
    }
    // From the server: its six answers, the five repeats, read from where
    // the answers are sent.
    let f = server
        .findings
        .iter()
        .find(|f| f.name == "mtu-blackhole")
        .unwrap();
    assert_eq!(f.confidence, Confidence::Likely);
    assert!(f.message.contains("2,272 bytes"), "{}", f.message);
    assert!(
        f.message.contains("frames 5, 8, 11, 14, 17 and 24"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("again after it 5 times"),
        "{}",
        f.message
    );
    assert_eq!(
        serde_json::to_value(f.vantage.capture_point).unwrap(),
        "responder"
    );
    assert!(!f.vantage.reading.is_empty());
    // The server's own INFORMATIONAL is judged from the sender's end.
    let info = server
        .findings
        .iter()
        .find(|f| f.name == "ike-no-response")
        .unwrap();
    assert!(!info.message.contains("did not answer"), "{}", info.message);
}

#[test]
fn recovered_fragment_loss_is_a_warning_on_a_success() {
    let r = common::report(&fixture("lab_both_ipv6_cert_fragmented.pcapng"));
    assert_eq!(r.verdict.outcome, Outcome::Success, "{}", r.verdict.summary);
    assert!(errors(&r).is_empty(), "{:?}", errors(&r));
    let w = r
        .findings
        .iter()
        .find(|f| f.name == "ip-fragments-lost")
        .expect("the loss is named");
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(w.frames, vec![8, 12, 13]);
    assert!(w.message.contains("392.2 ms later"), "{}", w.message);
    assert!(w.message.contains("1,496-byte packet"), "{}", w.message);
    assert!(w.message.contains("at most 1,448 bytes"), "{}", w.message);
}

#[test]
fn rewritten_source_port_into_udp_500_at_the_server() {
    let r = common::report(&fixture("map_e_udp500_blocked_responder.pcapng"));
    assert_eq!(r.verdict.outcome, Outcome::Failure);
    assert_eq!(r.verdict.failed_exchange.as_deref(), Some("IKE_SA_INIT"));
    let f = r
        .findings
        .iter()
        .find(|f| f.name == "map-e-port-restriction")
        .expect("map-e-port-restriction");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("source port 5061"), "{}", f.message);
    assert!(f.message.contains("PSID 60"), "{}", f.message);
    assert!(f.message.contains("5056-5071"), "{}", f.message);
    assert!(!f.fix.is_empty());
}

/// Reads a classic pcap file into its global header and records.
fn pcap_records(data: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let le = data[..4] == [0xd4, 0xc3, 0xb2, 0xa1];
    let rd = |b: &[u8]| {
        let a = [b[0], b[1], b[2], b[3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let incl = rd(&data[at + 8..at + 12]) as usize;
        out.push(data[at..at + 16 + incl].to_vec());
        at += 16 + incl;
    }
    (data[..24].to_vec(), out)
}

#[test]
fn request_fragment_missed_by_the_capture_is_not_a_loss() {
    // The shipped IPv6 certificate capture with one fragment of its
    // IKE_AUTH request removed, as if the capture point had missed it:
    // the responder's answer (whose reply needs the whole request) proves
    // it arrived.
    let src = fixture("ipv6_cert_fragmented.pcap");
    let (msgs, _, _) = common::messages(&src);
    let req = msgs
        .iter()
        .find(|m| m.exchange.as_deref() == Some("IKE_AUTH") && m.response == Some(false))
        .expect("IKE_AUTH request");
    assert!(req.frames.len() >= 2, "{:?}", req.frames);
    let drop = req.frames[0];
    let data = std::fs::read(&src).unwrap();
    let (hdr, recs) = pcap_records(&data);
    let mut out = hdr;
    for (i, r) in recs.iter().enumerate() {
        if i as u64 + 1 != drop {
            out.extend_from_slice(r);
        }
    }
    let dir = std::env::temp_dir().join(format!("ikediag-vantage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("missed_request_fragment.pcap");
    std::fs::write(&cut, &out).unwrap();
    let original = common::report(&src);
    let r = common::report(&cut);
    assert_eq!(original.verdict.outcome, Outcome::Success);
    assert_eq!(r.verdict.outcome, Outcome::Success, "{}", r.verdict.summary);
    assert!(errors(&r).is_empty(), "{:?}", errors(&r));
    let f = r
        .findings
        .iter()
        .find(|f| f.name == "ip-fragments-lost")
        .expect("the gap is named");
    assert_eq!(f.severity, Severity::Info);
    assert!(
        f.message.contains("not a loss on the path"),
        "{}",
        f.message
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn public_captures_named_in_issue_11() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let public = corpus.join("public");
    // INVALID_KE_PAYLOAD at frame 619, retried 91 ms later at frame 620
    // under a new SPI (an SPI the file already holds out of time order).
    let r = common::report(&public.join("nDPI/ipsec_isakmp_esp.pcap"));
    for f in r.findings.iter().filter(|f| f.name == "invalid-ke-payload") {
        assert!(!f.message.contains("never retried"), "{}", f.message);
        assert_ne!(f.severity, Severity::Error, "{}", f.message);
    }
    let ke = r
        .findings
        .iter()
        .find(|f| f.frames.contains(&619))
        .expect("the INVALID_KE_PAYLOAD of frame 619");
    assert!(
        ke.message.contains("frame 620 was accepted"),
        "{}",
        ke.message
    );
    // IKE_SA_INIT's answer is not in the file, but frame 2 carries the
    // responder SPI only that answer could give: a gap, not a loss.
    let r = common::report(&public.join("tcpdump/ikev2pI2.pcap"));
    assert!(errors(&r).is_empty(), "{:?}", errors(&r));
    assert_ne!(r.verdict.failed_exchange.as_deref(), Some("IKE_SA_INIT"));
    let gap = r
        .findings
        .iter()
        .find(|f| f.name == "capture-gap")
        .expect("capture-gap");
    assert_eq!(gap.frames, vec![1, 2]);
}
