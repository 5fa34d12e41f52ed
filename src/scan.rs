//! Batch scanning: find the captures under some paths, analyse each one
//! (in parallel, one file per worker), reduce every report to a small
//! [`FileEntry`] right away, and fold the entries into a [`Fleet`] summary.
//!
//! Contract: a file that cannot be read or is not a capture becomes an
//! entry with its reason; nothing stops the batch. Entries are what NDJSON
//! carries (one per line, with the full report when asked), so
//! [`Fleet::from_entries`] gives the same summary from a live scan and from
//! `merge` of shard outputs. Memory is one file's analysis per worker plus
//! the entries, never the reports of all files.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::capture::CaptureReader;
use crate::decode::DecodeConfig;
use crate::diag::{RuleSelection, Severity};
use crate::report::{self, Report};

/// What the first bytes of a file say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniff {
    /// pcap, pcapng, gzip or zstd.
    Capture(&'static str),
    /// Not a capture, with the reason.
    Skip(String),
    /// The file could not be opened or read.
    Unreadable(String),
}

/// Recognises a capture by its magic bytes (never by its name).
pub fn sniff(path: &Path) -> Sniff {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return Sniff::Unreadable(e.to_string()),
    };
    let mut b = [0u8; 4];
    let mut n = 0;
    while n < 4 {
        match f.read(&mut b[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Sniff::Unreadable(e.to_string()),
        }
    }
    if n == 0 {
        return Sniff::Skip("empty file".into());
    }
    let le = u32::from_le_bytes(b);
    match (b, le) {
        (_, 0xa1b2_c3d4 | 0xa1b2_3c4d | 0xa1b2_cd34) => Sniff::Capture("pcap"),
        (_, 0xd4c3_b2a1 | 0x4d3c_b2a1 | 0x34cd_b2a1) => Sniff::Capture("pcap"),
        ([0x0a, 0x0d, 0x0d, 0x0a], _) => Sniff::Capture("pcapng"),
        ([0x1f, 0x8b, _, _], _) => Sniff::Capture("gzip"),
        ([0x28, 0xb5, 0x2f, 0xfd], _) => Sniff::Capture("zstd"),
        _ => Sniff::Skip(format!(
            "not a capture (first bytes {})",
            b[..n]
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        )),
    }
}

/// A path [`collect`] could not read, and why.
pub type WalkError = (PathBuf, String);

/// Every file under the paths (directories recursively, hidden entries
/// included), sorted; symbolic links are followed, but a directory reached
/// twice (a link loop) is walked once. Each file comes with its size;
/// paths that could not be read come with the error.
pub fn collect(paths: &[PathBuf]) -> (Vec<(PathBuf, u64)>, Vec<WalkError>) {
    let mut files = BTreeMap::new();
    let mut errors = Vec::new();
    let mut seen_dirs: HashSet<PathBuf> = HashSet::new();
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let meta = match std::fs::metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                errors.push((p, e.to_string()));
                continue;
            }
        };
        if meta.is_dir() {
            let canon = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if !seen_dirs.insert(canon) {
                continue; // a symlink loop or a directory named twice
            }
            match std::fs::read_dir(&p) {
                Ok(rd) => {
                    for e in rd.flatten() {
                        stack.push(e.path());
                    }
                }
                Err(e) => errors.push((p, e.to_string())),
            }
        } else if meta.is_file() {
            files.insert(p, meta.len());
        }
    }
    (files.into_iter().collect(), errors)
}

/// Keeps shard `k` of `n` (1-based) of a sorted list: every n-th file.
pub fn shard<T>(items: Vec<T>, k: usize, n: usize) -> Vec<T> {
    if n <= 1 || k == 0 || k > n {
        return items;
    }
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % n == k - 1)
        .map(|(_, x)| x)
        .collect()
}

/// Parses `K/N`.
pub fn parse_shard(s: &str) -> Option<(usize, usize)> {
    let (k, n) = s.split_once('/')?;
    let (k, n): (usize, usize) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
    (n >= 1 && k >= 1 && k <= n).then_some((k, n))
}

/// One file of a scan, reduced to what the fleet summary needs. This is
/// the NDJSON line format (with `report` when the full report is asked for).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `capture`, `skipped` or `unreadable`.
    pub kind: String,
    /// Why the file was skipped, or the error that stopped its reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_exchange: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Rule names that fired, each once.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Rule names that fired with severity Error.
    #[serde(default)]
    pub error_rules: Vec<String>,
    /// `initiator -> responder` address pairs of the failed IKE SAs.
    #[serde(default)]
    pub failed_peers: Vec<(String, String)>,
    /// Capture time span, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_time: Option<f64>,
    pub unanswered_requests: usize,
    pub incomplete_fragment_sets: u64,
    /// The whole report (`analyze --format json`), with `--full`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<serde_json::Value>,
}

impl FileEntry {
    fn from_report(path: &Path, size: u64, r: &Report) -> Self {
        let mut rules: Vec<String> = Vec::new();
        let mut error_rules: Vec<String> = Vec::new();
        for f in &r.findings {
            if !rules.iter().any(|x| x == f.name) {
                rules.push(f.name.to_string());
            }
            if f.severity == Severity::Error && !error_rules.iter().any(|x| x == f.name) {
                error_rules.push(f.name.to_string());
            }
        }
        let failed_peers = r
            .sas
            .iter()
            .filter(|s| s.outcome == crate::diag::verdict::Outcome::Failure)
            .map(|s| (addr_of(&s.initiator), addr_of(&s.responder)))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        FileEntry {
            path: path.display().to_string(),
            size,
            sha256: None,
            kind: if r.capture.read_error.is_some() {
                "unreadable".into()
            } else {
                "capture".into()
            },
            error: r.capture.read_error.clone(),
            outcome: serde_json::to_value(r.verdict.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string)),
            failed_exchange: r.verdict.failed_exchange.clone(),
            summary: Some(r.verdict.summary.clone()),
            rules,
            error_rules,
            failed_peers,
            first_time: r.capture.first_time,
            last_time: r.capture.last_time,
            unanswered_requests: r.stats.unanswered_requests,
            incomplete_fragment_sets: r.stats.incomplete_fragment_sets,
            report: None,
        }
    }
}

/// "192.0.2.1:500" -> "192.0.2.1"; "[2001:db8::1]:500" -> "2001:db8::1".
fn addr_of(endpoint: &str) -> String {
    if let Some(rest) = endpoint.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    endpoint
        .rsplit_once(':')
        .map_or(endpoint, |(a, _)| a)
        .to_string()
}

/// Options of one scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pub sha256: bool,
    /// Keep the full report in each entry (NDJSON `report`).
    pub full_report: bool,
    pub rules: RuleSelection,
    pub extra_ports: Vec<u16>,
    /// The user's keys (`--keys`, tables beside each capture).
    pub keys: crate::session::KeySource,
}

fn sha256_of(path: &Path) -> Option<String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(_) => return None,
        }
    }
    Some(crate::session::hex(&h.finalize()))
}

/// Analyses one file into its entry. Never panics on the file's content;
/// every problem becomes the entry's `error`.
/// `size` is the file's length as [`collect`] found it.
pub fn scan_file(path: &Path, size: u64, opts: &ScanOptions) -> FileEntry {
    let sha256 = if opts.sha256 { sha256_of(path) } else { None };
    let base = FileEntry {
        path: path.display().to_string(),
        size,
        sha256: sha256.clone(),
        ..FileEntry::default()
    };
    match sniff(path) {
        Sniff::Skip(reason) => {
            return FileEntry {
                kind: "skipped".into(),
                error: Some(reason),
                ..base
            };
        }
        Sniff::Unreadable(e) => {
            return FileEntry {
                kind: "unreadable".into(),
                error: Some(e),
                ..base
            };
        }
        Sniff::Capture(_) => {}
    }
    let mut reader = match CaptureReader::open(path) {
        Ok(r) => r,
        Err(e) => {
            return FileEntry {
                kind: "unreadable".into(),
                error: Some(e.to_string()),
                ..base
            };
        }
    };
    let config = DecodeConfig {
        extra_ports: opts.extra_ports.clone(),
        ..DecodeConfig::default()
    };
    let rep = report::of_capture(path, &mut reader, config, &opts.keys, &opts.rules);
    let mut entry = FileEntry::from_report(path, size, &rep);
    entry.sha256 = sha256;
    if opts.full_report {
        entry.report = serde_json::to_value(&rep).ok();
    }
    entry
}

/// A pair of peers with failures across the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct PeerFailures {
    pub initiator: String,
    pub responder: String,
    /// Files in which an IKE SA between them failed.
    pub files: usize,
    pub first_time: Option<f64>,
    pub last_time: Option<f64>,
}

/// The fleet summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fleet {
    pub files: usize,
    pub captures: usize,
    pub skipped: Vec<(String, String)>,
    pub unreadable: Vec<(String, String)>,
    /// Captures by verdict outcome.
    pub by_outcome: BTreeMap<String, usize>,
    /// Rule name -> number of files where it fired.
    pub by_rule: BTreeMap<String, usize>,
    /// Rule name -> number of files where it fired as an Error.
    pub by_error_rule: BTreeMap<String, usize>,
    pub worst_peers: Vec<PeerFailures>,
    /// Day (UTC, YYYY-MM-DD) -> failed captures, when the captures span days.
    pub failures_by_day: BTreeMap<String, usize>,
    pub unanswered_requests: usize,
    pub incomplete_fragment_sets: u64,
}

/// Days since 1970-01-01 -> (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// "YYYY-MM-DD" of a Unix time.
pub fn day_of(t: f64) -> String {
    let (y, m, d) = civil((t / 86_400.0).floor() as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

impl Fleet {
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a FileEntry>) -> Fleet {
        let mut f = Fleet::default();
        let mut peers: BTreeMap<(String, String), PeerFailures> = BTreeMap::new();
        let mut days_all: BTreeSet<String> = BTreeSet::new();
        for e in entries {
            f.files += 1;
            match e.kind.as_str() {
                "skipped" => {
                    f.skipped
                        .push((e.path.clone(), e.error.clone().unwrap_or_default()));
                    continue;
                }
                "unreadable" if e.outcome.is_none() => {
                    f.unreadable
                        .push((e.path.clone(), e.error.clone().unwrap_or_default()));
                    continue;
                }
                "unreadable" => {
                    // Read partly: counted as unreadable and analysed as far as it went.
                    f.unreadable
                        .push((e.path.clone(), e.error.clone().unwrap_or_default()));
                }
                _ => {}
            }
            f.captures += 1;
            if let Some(o) = &e.outcome {
                *f.by_outcome.entry(o.clone()).or_default() += 1;
            }
            for r in &e.rules {
                *f.by_rule.entry(r.clone()).or_default() += 1;
            }
            for r in &e.error_rules {
                *f.by_error_rule.entry(r.clone()).or_default() += 1;
            }
            f.unanswered_requests += e.unanswered_requests;
            f.incomplete_fragment_sets += e.incomplete_fragment_sets;
            for t in [e.first_time, e.last_time].into_iter().flatten() {
                days_all.insert(day_of(t));
            }
            if e.outcome.as_deref() == Some("failure") {
                if let Some(t) = e.first_time {
                    *f.failures_by_day.entry(day_of(t)).or_default() += 1;
                }
                for (i, r) in &e.failed_peers {
                    let p = peers.entry((i.clone(), r.clone())).or_insert(PeerFailures {
                        initiator: i.clone(),
                        responder: r.clone(),
                        files: 0,
                        first_time: None,
                        last_time: None,
                    });
                    p.files += 1;
                    p.first_time = match (p.first_time, e.first_time) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    p.last_time = match (p.last_time, e.last_time) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                }
            }
        }
        if days_all.len() < 2 {
            f.failures_by_day.clear();
        }
        let mut worst: Vec<PeerFailures> = peers.into_values().collect();
        worst.sort_by(|a, b| {
            b.files
                .cmp(&a.files)
                .then(a.initiator.cmp(&b.initiator))
                .then(a.responder.cmp(&b.responder))
        });
        worst.truncate(10);
        f.worst_peers = worst;
        f.skipped.sort();
        f.unreadable.sort();
        f
    }

    /// The fleet summary as text tables.
    pub fn render_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Fleet summary: {} files, {} captures analysed, {} skipped (not captures), {} unreadable or damaged",
            self.files,
            self.captures,
            self.skipped.len(),
            self.unreadable.len()
        );
        let _ = writeln!(
            s,
            "Captures by verdict: {}",
            self.by_outcome
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(
            s,
            "Unanswered IKE requests: {}; incomplete IP fragment sets: {}",
            self.unanswered_requests, self.incomplete_fragment_sets
        );
        if !self.by_rule.is_empty() {
            let mut t = comfy_table::Table::new();
            t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header(["rule", "files", "as error"]);
            let mut rows: Vec<_> = self.by_rule.iter().collect();
            rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (rule, n) in rows {
                t.add_row([
                    rule.clone(),
                    n.to_string(),
                    self.by_error_rule
                        .get(rule)
                        .copied()
                        .unwrap_or(0)
                        .to_string(),
                ]);
            }
            let _ = writeln!(s, "\nFindings by rule (number of files)\n{t}");
        }
        if !self.worst_peers.is_empty() {
            let mut t = comfy_table::Table::new();
            t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header([
                "initiator",
                "responder",
                "failed files",
                "first failure",
                "last failure",
            ]);
            for p in &self.worst_peers {
                t.add_row([
                    p.initiator.clone(),
                    p.responder.clone(),
                    p.files.to_string(),
                    p.first_time.map(day_of).unwrap_or_default(),
                    p.last_time.map(day_of).unwrap_or_default(),
                ]);
            }
            let _ = writeln!(s, "\nWorst peers\n{t}");
        }
        if !self.failures_by_day.is_empty() {
            let max = self
                .failures_by_day
                .values()
                .copied()
                .max()
                .unwrap_or(1)
                .max(1);
            let _ = writeln!(s, "\nFailed captures by day");
            for (d, n) in &self.failures_by_day {
                let bar = "#".repeat((n * 40).div_ceil(max));
                let _ = writeln!(s, "  {d} {n:>5} {bar}");
            }
        }
        for (title, list) in [
            ("Skipped", &self.skipped),
            ("Unreadable or damaged", &self.unreadable),
        ] {
            if !list.is_empty() {
                let _ = writeln!(s, "\n{title}:");
                for (p, why) in list.iter().take(50) {
                    let _ = writeln!(s, "  {p}: {why}");
                }
                if list.len() > 50 {
                    let _ = writeln!(s, "  ... and {} more", list.len() - 50);
                }
            }
        }
        s
    }

    /// The fleet summary as Markdown.
    pub fn render_markdown(&self) -> String {
        use std::fmt::Write;
        let mut s = String::from("# ikediag fleet summary\n\n");
        let _ = writeln!(
            s,
            "{} files: {} captures analysed, {} skipped, {} unreadable or damaged.\n",
            self.files,
            self.captures,
            self.skipped.len(),
            self.unreadable.len()
        );
        let _ = writeln!(s, "| Verdict | Captures |\n|---|---|");
        for (k, v) in &self.by_outcome {
            let _ = writeln!(s, "| {k} | {v} |");
        }
        let _ = writeln!(
            s,
            "\n## Findings by rule\n\n| Rule | Files | As error |\n|---|---|---|"
        );
        let mut rows: Vec<_> = self.by_rule.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (rule, n) in rows {
            let _ = writeln!(
                s,
                "| `{rule}` | {n} | {} |",
                self.by_error_rule.get(rule).copied().unwrap_or(0)
            );
        }
        if !self.worst_peers.is_empty() {
            let _ = writeln!(
                s,
                "\n## Worst peers\n\n| Initiator | Responder | Failed files | First | Last |\n|---|---|---|---|---|"
            );
            for p in &self.worst_peers {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} |",
                    p.initiator,
                    p.responder,
                    p.files,
                    p.first_time.map(day_of).unwrap_or_default(),
                    p.last_time.map(day_of).unwrap_or_default()
                );
            }
        }
        if !self.failures_by_day.is_empty() {
            let _ = writeln!(
                s,
                "\n## Failed captures by day\n\n| Day | Failed |\n|---|---|"
            );
            for (d, n) in &self.failures_by_day {
                let _ = writeln!(s, "| {d} | {n} |");
            }
        }
        for (title, list) in [
            ("Skipped", &self.skipped),
            ("Unreadable or damaged", &self.unreadable),
        ] {
            if !list.is_empty() {
                let _ = writeln!(s, "\n## {title}\n");
                for (p, why) in list {
                    let _ = writeln!(s, "- `{p}`: {}", why.replace('|', "\\|"));
                }
            }
        }
        s
    }

    /// The fleet summary as a self-contained HTML page.
    pub fn render_html(&self) -> String {
        use crate::report::html::esc;
        let md = self.render_markdown();
        // A simple, faithful rendering: headings, tables and lists of the Markdown.
        let mut body = String::new();
        let mut in_table = false;
        for line in md.lines() {
            if let Some(h) = line.strip_prefix("## ") {
                body.push_str(&format!("<h2>{}</h2>\n", esc(h)));
            } else if let Some(h) = line.strip_prefix("# ") {
                body.push_str(&format!("<h1>{}</h1>\n", esc(h)));
            } else if line.starts_with('|') {
                if line.starts_with("|---") {
                    continue;
                }
                if !in_table {
                    body.push_str("<table>\n");
                    in_table = true;
                }
                let cells: Vec<String> = line
                    .trim_matches('|')
                    .split(" | ")
                    .map(|c| format!("<td>{}</td>", esc(c.trim().trim_matches('`'))))
                    .collect();
                body.push_str(&format!("<tr>{}</tr>\n", cells.join("")));
                continue;
            } else if let Some(item) = line.strip_prefix("- ") {
                body.push_str(&format!("<li>{}</li>\n", esc(item)));
            } else if !line.trim().is_empty() {
                body.push_str(&format!("<p>{}</p>\n", esc(line)));
            }
            if in_table {
                body.push_str("</table>\n");
                in_table = false;
            }
        }
        if in_table {
            body.push_str("</table>\n");
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>ikediag fleet summary</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse;margin:.5em 0 1.5em}}td{{border:1px solid #ccc;padding:.3em .6em}}tr:first-child td{{font-weight:bold;background:#f0f0f0}}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
        )
    }
}
