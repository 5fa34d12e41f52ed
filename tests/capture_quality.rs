//! Capture artefacts must not be taken for network behaviour (issue 11).
//!
//! Real lab captures are altered the way captures go wrong, in memory, and
//! analysed: every frame copied 9 µs later (a mirror port, `tcpdump -i any`
//! on a bridge), a block of frames stamped 2,410.865 s too early (a clock
//! step), the file cut in the middle of a record or right after an IP
//! fragment, and a small snaplen. The verdict (outcome and failed exchange)
//! must stay the original's, with a capture-quality finding added, or turn
//! inconclusive where the cut removed what decided it; never a failure the
//! whole capture does not have.

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use ikediag::capture::CaptureReader;
use ikediag::decode::DecodeConfig;
use ikediag::diag::RuleSelection;
use ikediag::diag::verdict::Outcome;
use ikediag::report::Report;
use ikediag::session::KeySource;

/// One record of a classic little-endian microsecond pcap.
#[derive(Clone)]
struct Rec {
    ts_us: i64,
    orig_len: u32,
    data: Vec<u8>,
    /// Byte offset of the record header in the file.
    offset: usize,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// The global header and the records of a lab capture (all are
/// little-endian microsecond pcap).
fn read_pcap(path: &Path) -> (Vec<u8>, Vec<Rec>) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(u32_at(&b, 0), 0xa1b2_c3d4, "{}", path.display());
    let mut recs = Vec::new();
    let mut off = 24;
    while off + 16 <= b.len() {
        let incl = u32_at(&b, off + 8) as usize;
        recs.push(Rec {
            ts_us: i64::from(u32_at(&b, off)) * 1_000_000 + i64::from(u32_at(&b, off + 4)),
            orig_len: u32_at(&b, off + 12),
            data: b[off + 16..off + 16 + incl].to_vec(),
            offset: off,
        });
        off += 16 + incl;
    }
    (b[..24].to_vec(), recs)
}

fn write_pcap(header: &[u8], recs: &[Rec]) -> Vec<u8> {
    let mut out = header.to_vec();
    for r in recs {
        out.extend_from_slice(&((r.ts_us / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((r.ts_us % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&r.orig_len.to_le_bytes());
        out.extend_from_slice(&r.data);
    }
    out
}

/// Analyses capture bytes as `ikediag analyze --no-auto-keys` does.
fn report(name: &str, bytes: Vec<u8>) -> Report {
    let path = PathBuf::from(name);
    let mut reader =
        CaptureReader::from_read(path.clone(), Box::new(Cursor::new(bytes))).expect("a capture");
    ikediag::report::of_capture(
        &path,
        &mut reader,
        DecodeConfig::default(),
        &KeySource::default(),
        &RuleSelection::default(),
    )
}

fn report_file(path: &Path) -> Report {
    report(
        &path.file_name().unwrap().to_string_lossy(),
        std::fs::read(path).unwrap(),
    )
}

/// Finding names and severities, sorted, without the capture-quality ones.
fn findings_but_capture(r: &Report) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = r
        .findings
        .iter()
        .filter(|f| !f.code.starts_with("CAP"))
        .map(|f| (f.name.to_string(), f.severity.as_str().to_string()))
        .collect();
    v.sort();
    v
}

fn has(r: &Report, name: &str) -> bool {
    r.findings.iter().any(|f| f.name == name)
}

fn lab_captures(what: &str) -> Vec<PathBuf> {
    let Some(lab) = common::lab_dir(what) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(lab)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    v.sort();
    v
}

/// What must not change when a capture artefact is added.
fn assert_same_diagnosis(name: &str, orig: &Report, alt: &Report) {
    assert_eq!(alt.verdict.outcome, orig.verdict.outcome, "{name}: outcome");
    assert_eq!(
        alt.verdict.failed_exchange, orig.verdict.failed_exchange,
        "{name}: failed exchange"
    );
    assert_eq!(alt.verdict.cause, orig.verdict.cause, "{name}: cause");
    assert_eq!(
        findings_but_capture(alt),
        findings_but_capture(orig),
        "{name}: findings"
    );
    assert_eq!(alt.sas.len(), orig.sas.len(), "{name}: IKE SAs");
    assert_eq!(
        alt.stats.retransmissions, orig.stats.retransmissions,
        "{name}: retransmissions"
    );
    assert_eq!(
        alt.stats.ike_messages, orig.stats.ike_messages,
        "{name}: IKE messages"
    );
    assert_eq!(
        alt.stats.incomplete_fragment_sets, orig.stats.incomplete_fragment_sets,
        "{name}: incomplete fragment sets"
    );
}

/// The clock step of the issue: frames stamped 2,410.865 s (40 minutes)
/// too early.
const STEP_US: i64 = 2_410_865_000;

/// Frames `from..=to` (1-based) stamped `STEP_US` too early.
fn clock_step(recs: &[Rec], from: usize, to: usize) -> Vec<Rec> {
    let mut v = recs.to_vec();
    for r in v.iter_mut().take(to).skip(from - 1) {
        r.ts_us -= STEP_US;
    }
    v
}

#[test]
fn a_block_stamped_2410_s_too_early_changes_no_verdict() {
    let files = lab_captures("clock-step test");
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (hdr, recs) = read_pcap(path);
        let orig = report_file(path);
        let n = recs.len();
        // The middle third, and the second half to the end.
        for (from, to) in [(n / 3 + 1, 2 * n / 3), (n / 2 + 1, n)] {
            if to < from || from < 2 {
                continue;
            }
            let what = format!("{name} frames {from}-{to} stamped early");
            let alt = report(&name, write_pcap(&hdr, &clock_step(&recs, from, to)));
            assert_same_diagnosis(&what, &orig, &alt);
            let f = alt
                .findings
                .iter()
                .find(|f| f.name == "capture-time-backwards")
                .unwrap_or_else(|| panic!("{what}: no capture-time-backwards"));
            assert!(f.frames.contains(&(from as u64)), "{what}: {:?}", f.frames);
            assert!(alt.capture.duration_s >= 0.0, "{what}");
            assert!(
                alt.capture.duration_s <= orig.capture.duration_s,
                "{what}: {} s",
                alt.capture.duration_s
            );
            let text = ikediag::report::text::render(&alt, 200);
            assert!(!text.contains("over -"), "{what}: {text}");
        }
    }
}

#[test]
fn a_clock_step_right_after_ike_auth_is_not_an_immediate_teardown() {
    // ok_cert_fragmented: IKE_AUTH answered in frames 9-11, the Delete
    // 0.54 s later (frame 12). Stamped early from frame 12 on, the Delete
    // lands at the time of frame 11 on the timeline: "0 µs later" must not
    // read as the initiator rejecting the certificate.
    let files = lab_captures("clock-step-after-IKE_AUTH test");
    let Some(path) = files
        .iter()
        .find(|p| p.ends_with("ok_cert_fragmented.pcap"))
    else {
        return;
    };
    let (hdr, recs) = read_pcap(path);
    let orig = report_file(path);
    let alt = report(
        "ok_cert_fragmented.pcap",
        write_pcap(&hdr, &clock_step(&recs, 12, recs.len())),
    );
    assert_eq!(orig.verdict.outcome, Outcome::Success);
    assert_same_diagnosis("ok_cert_fragmented stepped at 12", &orig, &alt);
    assert!(has(&alt, "capture-time-backwards"));
}

/// Every frame followed by a copy of itself 9 µs later; on Ethernet the
/// copy's source address differs (seen on another port of a bridge).
fn doubled(header: &[u8], recs: &[Rec]) -> Vec<Rec> {
    let ethernet = u32_at(header, 20) == 1;
    let mut v = Vec::new();
    for r in recs {
        v.push(r.clone());
        let mut copy = r.clone();
        copy.ts_us += 9;
        if ethernet && let Some(b) = copy.data.get_mut(11) {
            *b ^= 0x5a;
        }
        v.push(copy);
    }
    v
}

#[test]
fn every_frame_twice_changes_no_verdict_and_no_count() {
    let files = lab_captures("duplicate-frames test");
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (hdr, recs) = read_pcap(path);
        let orig = report_file(path);
        let alt = report(&name, write_pcap(&hdr, &doubled(&hdr, &recs)));
        let what = format!("{name} doubled");
        assert_same_diagnosis(&what, &orig, &alt);
        assert_eq!(alt.capture.frames, 2 * orig.capture.frames, "{what}");
        if orig.stats.ike_messages > 0 {
            let f = alt
                .findings
                .iter()
                .find(|f| f.name == "capture-duplicate-frames")
                .unwrap_or_else(|| panic!("{what}: no capture-duplicate-frames"));
            // The first IKE frame's copy is cited beside it.
            assert!(f.frames.len() >= 2, "{what}: {:?}", f.frames);
            assert!(f.message.contains("9 µs"), "{what}: {}", f.message);
        }
    }
}

#[test]
fn the_sample_twice_over_is_the_sample() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/mtu_blackhole.pcap");
    let (hdr, recs) = read_pcap(&path);
    let orig = report_file(&path);
    let alt = report(
        "mtu_blackhole.pcap",
        write_pcap(&hdr, &doubled(&hdr, &recs)),
    );
    assert_same_diagnosis("mtu_blackhole doubled", &orig, &alt);
    let f = alt
        .findings
        .iter()
        .find(|f| f.name == "capture-duplicate-frames")
        .expect("capture-duplicate-frames");
    // Every IKE message and fragment twice (the hosts' own MLD reports
    // are not compared).
    assert!(
        f.message
            .contains(&format!("of the {} frames are copies", 2 * recs.len())),
        "{}",
        f.message
    );
    assert!(f.message.contains("9 µs later"), "{}", f.message);
}

/// The file cut `keep` bytes into record `k` (0-based); `keep` 0 cuts
/// right after record `k - 1`.
fn cut(bytes: &[u8], recs: &[Rec], k: usize, keep: usize) -> Vec<u8> {
    bytes[..recs[k].offset + keep].to_vec()
}

/// Records whose IPv4/IPv6 packet is a first fragment with more to come.
fn first_fragments(recs: &[Rec]) -> Vec<usize> {
    recs.iter()
        .enumerate()
        .filter(|(_, r)| {
            let ip = &r.data[14..];
            match ip.first().map(|b| b >> 4) {
                Some(4) => {
                    let ff = u16::from_be_bytes([ip[6], ip[7]]);
                    ff & 0x2000 != 0 && ff & 0x1fff == 0
                }
                // The IPv6 Fragment header right after the fixed header.
                Some(6) => ip[6] == 44 && ip[43] & 1 == 1 && ip[42] == 0 && ip[43] & 0xf8 == 0,
                _ => false,
            }
        })
        .map(|(i, _)| i)
        .collect()
}

fn assert_cut_by_the_end(what: &str, r: &Report) {
    assert!(!has(r, "ip-fragments-lost"), "{what}: {:#?}", r.findings);
    assert!(!has(r, "mtu-blackhole"), "{what}: {:#?}", r.findings);
    assert!(has(r, "capture-cut-short"), "{what}: {:#?}", r.findings);
    assert_eq!(
        r.verdict.outcome,
        Outcome::Inconclusive,
        "{what}: {:?}",
        r.verdict
    );
}

#[test]
fn a_file_cut_after_the_ike_auth_first_fragment_is_inconclusive() {
    // IPv6, IKE_AUTH request and response in IP fragments, success.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ipv6_cert_fragmented.pcap");
    let bytes = std::fs::read(&path).unwrap();
    let (_, recs) = read_pcap(&path);
    let orig = report_file(&path);
    assert_eq!(orig.verdict.outcome, Outcome::Success);
    let first = *first_fragments(&recs).first().expect("a first fragment");
    // Right after the first fragment (a clean end of file), and in the
    // middle of the next record (the reader's read error).
    for (keep, how) in [(0, "after"), (40, "inside the next record after")] {
        let what = format!("ipv6_cert_fragmented cut {how} frame {}", first + 1);
        let r = report("cut.pcap", cut(&bytes, &recs, first + 1, keep));
        assert_cut_by_the_end(&what, &r);
        assert_eq!(r.capture.read_error.is_some(), keep > 0, "{what}");
        let f = r
            .findings
            .iter()
            .find(|f| f.name == "capture-cut-short")
            .unwrap();
        assert!(
            f.frames.contains(&(first as u64 + 1)),
            "{what}: {:?}",
            f.frames
        );
        assert!(
            f.message.contains("IKE_AUTH request"),
            "{what}: {}",
            f.message
        );
        if keep > 0 {
            assert!(
                f.message.starts_with(&format!(
                    "The capture file ends in the middle of a record after frame {}",
                    first + 1
                )),
                "{what}: {}",
                f.message
            );
        }
        assert!(
            r.verdict.summary.contains("the capture ends before"),
            "{what}: {}",
            r.verdict.summary
        );
    }
}

#[test]
fn the_retransmissions_before_the_cut_still_prove_the_loss() {
    // mtu_blackhole: the IKE_AUTH request in IP fragments, sent 4 times,
    // never answered. Cut after the last transmission's first fragment:
    // the earlier three still show the fragments do not get through.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/mtu_blackhole.pcap");
    let bytes = std::fs::read(&path).unwrap();
    let (_, recs) = read_pcap(&path);
    let orig = report_file(&path);
    let firsts = first_fragments(&recs);
    let last = *firsts.last().unwrap();
    let r = report("cut.pcap", cut(&bytes, &recs, last + 1, 0));
    assert_eq!(r.verdict.outcome, orig.verdict.outcome);
    assert_eq!(r.verdict.failed_exchange, orig.verdict.failed_exchange);
    assert!(has(&r, "capture-cut-short"));
    // Cut after the first transmission's first fragment: nothing is known.
    let first = firsts[0];
    let r = report("cut.pcap", cut(&bytes, &recs, first + 1, 0));
    assert_cut_by_the_end("mtu_blackhole cut after its first fragment", &r);
}

#[test]
fn a_cut_capture_never_fails_where_the_whole_one_does_not() {
    // Every lab capture, cut after every frame and inside every record: the
    // cut may end before the outcome (inconclusive), or before a later
    // failure (success so far), but never be a failure of another exchange
    // than the whole capture's.
    let files = lab_captures("cut-capture test");
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(path).unwrap();
        let (_, recs) = read_pcap(path);
        let orig = report_file(path);
        for k in 1..recs.len() {
            for keep in [0, 16 + recs[k].data.len() / 2] {
                let r = report(&name, cut(&bytes, &recs, k, keep));
                let what = format!("{name} cut at frame {} + {keep} bytes", k + 1);
                if r.verdict.outcome == Outcome::Failure {
                    assert_eq!(
                        orig.verdict.outcome,
                        Outcome::Failure,
                        "{what}: {:?}",
                        r.verdict
                    );
                    assert_eq!(
                        r.verdict.failed_exchange, orig.verdict.failed_exchange,
                        "{what}: {:?}",
                        r.verdict
                    );
                }
                if keep > 0 {
                    assert!(has(&r, "capture-cut-short"), "{what}");
                }
            }
        }
    }
}

#[test]
fn fragments_cut_by_the_snaplen_are_not_lost_on_the_path() {
    // tcp_mss_too_large: ESP-in-UDP packets IP-fragmented by the sender,
    // every fragment captured. With a 200-byte snaplen the fragments are
    // cut and not reassembled: the sets are incomplete in the capture, not
    // on the path.
    let files = lab_captures("snaplen test");
    let Some(path) = files.iter().find(|p| p.ends_with("tcp_mss_too_large.pcap")) else {
        return;
    };
    let (mut hdr, recs) = read_pcap(path);
    hdr[16..20].copy_from_slice(&200u32.to_le_bytes());
    let cut: Vec<Rec> = recs
        .iter()
        .map(|r| Rec {
            data: r.data[..r.data.len().min(200)].to_vec(),
            ..r.clone()
        })
        .collect();
    let orig = report_file(path);
    let r = report("snap.pcap", write_pcap(&hdr, &cut));
    assert!(!has(&r, "ip-fragments-lost"), "{:#?}", r.findings);
    assert_eq!(r.verdict.outcome, orig.verdict.outcome);
    assert_eq!(r.verdict.failed_exchange, orig.verdict.failed_exchange);
    let f = r
        .findings
        .iter()
        .find(|f| f.name == "capture-truncated-packets")
        .expect("capture-truncated-packets");
    assert!(
        f.message
            .contains("could not be reassembled because the snaplen cut"),
        "{}",
        f.message
    );
}
