//! Helpers shared by the integration tests: locating the shared corpus and
//! running the decoder over a capture.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ikediag::capture::CaptureReader;
use ikediag::decode::{DecodeConfig, DecodeStats, decode_capture};
use ikediag::messages::{MessageCollector, MessageRecord};

/// Says that a test was skipped, on stderr directly: the harness captures
/// `eprintln!` of passing tests, and a skip must be seen.
pub fn skip_note(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// `../shared/corpus` beside the checkout, or `None` (with a message saying
/// the test was skipped) when it is absent. `.ci/run` refuses to run
/// without it, so CI never skips.
pub fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        skip_note(&format!(
            "SKIPPED: {} not found; corpus-wide test not run",
            p.display()
        ));
        None
    }
}

/// Decodes a capture into message records, as `ikediag messages` does
/// (frames the capture holds twice are listed twice); the read error, if
/// any, is returned beside them.
pub fn messages(path: &Path) -> (Vec<MessageRecord>, DecodeStats, Option<String>) {
    let mut reader = match CaptureReader::open(path) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), DecodeStats::default(), Some(e.to_string())),
    };
    let mut sink = MessageCollector::default();
    let config = DecodeConfig {
        keep_duplicates: true,
        ..DecodeConfig::default()
    };
    let (stats, err) = decode_capture(&mut reader, config, &mut sink);
    (sink.records, stats, err.map(|e| e.to_string()))
}

/// Reads a TSV file with a header line into rows of (column name -> value).
pub fn read_tsv(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let cols: Vec<&str> = header.split('\t').collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            cols.iter()
                .zip(l.split('\t').chain(std::iter::repeat("")))
                .map(|(c, v)| (c.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Analyses a capture and builds its report, as `ikediag analyze` does
/// with `--no-auto-keys` (the report names the file by its name only).
pub fn report(path: &Path) -> ikediag::report::Report {
    report_keys(path, &ikediag::session::KeySource::default())
}

/// As [`report`], with the key tables beside the capture (what
/// `ikediag analyze` does by default).
pub fn report_with_keys(path: &Path) -> ikediag::report::Report {
    report_keys(path, &ikediag::session::KeySource::new(&[], true))
}

fn report_keys(path: &Path, keys: &ikediag::session::KeySource) -> ikediag::report::Report {
    let mut reader = CaptureReader::open(path).expect("open capture");
    let mut r = ikediag::report::of_capture(
        path,
        &mut reader,
        DecodeConfig::default(),
        keys,
        &ikediag::diag::RuleSelection::default(),
    );
    r.file = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    r
}

/// A lab label (`*.label`, TOML), the few keys the tests read.
#[derive(Debug)]
pub struct Label {
    pub outcome: String,
    pub failed_exchange: Option<String>,
    pub diagnosis: Vec<String>,
    /// `initiator` or `responder` (lab-both), empty when absent.
    pub capture_point: String,
    /// The initiator-side capture of the same run (lab-both responder files).
    pub companion_of: Option<String>,
}

/// Reads the keys the tests need from a lab label (a tiny TOML subset:
/// `key = "string"` and `key = ["a", "b"]` lines).
pub fn read_label(path: &Path) -> Label {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut l = Label {
        outcome: String::new(),
        failed_exchange: None,
        diagnosis: Vec::new(),
        capture_point: String::new(),
        companion_of: None,
    };
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let unq = |s: &str| s.trim().trim_matches('"').to_string();
        match k.trim() {
            "outcome" => l.outcome = unq(v),
            "failed_exchange" => l.failed_exchange = Some(unq(v)),
            "capture_point" => l.capture_point = unq(v),
            "companion_of" => l.companion_of = Some(unq(v.split('#').next().unwrap_or_default())),
            "diagnosis" => {
                l.diagnosis = v
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .split(',')
                    .map(unq)
                    .filter(|s| !s.is_empty())
                    .collect()
            }
            _ => {}
        }
    }
    l
}

/// Collects the raw bytes of every IKE message, with the frame that
/// completed it.
#[derive(Default)]
struct RawIke(Vec<(u64, Vec<u8>)>);

impl ikediag::decode::Sink for RawIke {
    fn ike(&mut self, m: &ikediag::decode::IkeDatagram<'_>) {
        self.0.push((m.seen.frame, m.raw.to_vec()));
    }
}

/// The raw bytes of every IKE message of a capture (from the IKE header,
/// after UDP and the non-ESP marker), with the frame that completed it.
pub fn raw_ike_messages(path: &Path) -> Vec<(u64, Vec<u8>)> {
    let mut reader = CaptureReader::open(path).expect("open capture");
    let mut sink = RawIke::default();
    let (_, err) = decode_capture(&mut reader, DecodeConfig::default(), &mut sink);
    assert!(err.is_none(), "{}: {err:?}", path.display());
    sink.0
}

/// `../shared/corpus/lab`, or `None` with a note that `what` was skipped.
pub fn lab_dir(what: &str) -> Option<PathBuf> {
    let lab = corpus()?.join("lab");
    if lab.is_dir() {
        Some(lab)
    } else {
        skip_note(&format!(
            "SKIPPED: {} not found; {what} not run",
            lab.display()
        ));
        None
    }
}
