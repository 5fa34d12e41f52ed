//! Helpers shared by the integration tests: locating the shared corpus and
//! running the decoder over a capture.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ikediag::capture::CaptureReader;
use ikediag::decode::{DecodeConfig, DecodeStats, decode_capture};
use ikediag::messages::{MessageCollector, MessageRecord};

/// `../shared/corpus` beside the checkout, or `None` (with a message saying
/// the test was skipped) when it is absent. `.ci/run` refuses to run
/// without it, so CI never skips.
pub fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: {} not found; corpus-wide test not run",
            p.display()
        );
        None
    }
}

/// Decodes a capture into message records; the read error, if any, is returned beside them.
pub fn messages(path: &Path) -> (Vec<MessageRecord>, DecodeStats, Option<String>) {
    let mut reader = match CaptureReader::open(path) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), DecodeStats::default(), Some(e.to_string())),
    };
    let mut sink = MessageCollector::default();
    let (stats, err) = decode_capture(&mut reader, DecodeConfig::default(), &mut sink);
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
