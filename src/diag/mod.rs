//! Diagnosis: rules judge the session facts and produce findings, then a
//! verdict per IKE SA attempt and one for the capture.
//!
//! Contract: `diag` never touches bytes; it reads an [`Analysis`] only. A
//! rule is a [`Rule`] value in its own file under `rules/`, with a stable
//! code (area prefix + three digits, never reused), a kebab-case name, a
//! default severity, and its documentation in fixed sections ([`RuleDoc`]);
//! `rules::ALL` is the registry. Findings are sorted (severity, then first
//! frame, then code) so output is deterministic.

pub mod pmtu;
pub mod rules;
pub mod verdict;

use serde::Serialize;

use crate::session::{Analysis, CaptureSide, IkeSa};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Explains a failure.
    Error,
    /// Puts the tunnel at risk.
    Warning,
    /// Context.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// How sure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Seen in clear in the capture.
    Certain,
    /// Inferred from strong evidence (sizes, timing, what follows).
    Likely,
    /// Inferred from weak evidence; check with keys or logs.
    Possible,
}

/// The fixed documentation sections of a rule.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleDoc {
    pub detects: &'static str,
    pub why_it_fails: &'static str,
    pub evidence: &'static str,
    pub likely_causes: &'static str,
    pub how_to_fix: &'static str,
}

/// One diagnosis rule.
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    /// The severity it usually reports (a rule may lower it, e.g. when a
    /// retry succeeded).
    pub severity: Severity,
    pub summary: &'static str,
    pub doc: RuleDoc,
    /// The same in Japanese (`--lang ja`).
    pub summary_ja: &'static str,
    pub doc_ja: RuleDoc,
    pub check: fn(&Analysis, &mut Emitter<'_>),
}

/// One command or setting that fixes the problem on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixStep {
    /// "strongSwan", "Windows", "Linux (nftables)", ...
    pub platform: String,
    /// What to type or set, one item per line.
    pub commands: Vec<String>,
}

/// A finding: the product.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Wireshark frame numbers of the evidence, sorted.
    pub frames: Vec<u64>,
    /// A Wireshark display filter that shows exactly those frames.
    pub filter: String,
    /// What to change, when the finding explains a failure.
    pub fix: Vec<FixStep>,
    /// The message in Japanese (`--lang ja`).
    pub message_ja: String,
    pub confidence: Confidence,
    /// The IKE SA attempt it is about.
    pub sa: Option<usize>,
    /// The exchange that failed, when the finding explains a failure.
    pub exchange: Option<String>,
    /// The notify behind it, when one was seen.
    pub notify: Option<String>,
    /// Where the capture was taken, and what the rule read from there.
    pub vantage: Vantage,
}

/// Where the capture was taken relative to the peers of the IKE SA a
/// finding is about (for a finding about no SA: the point every SA of the
/// capture agrees on, else unknown), and what the rule concluded from
/// there. Evidence reads differently from each end: an unanswered request
/// seen at the peer that should answer was received and ignored; seen at
/// its sender, the request or the answer was lost on the way.
#[derive(Debug, Clone, Serialize)]
pub struct Vantage {
    pub capture_point: CaptureSide,
    /// The rule's reading from that point, in English; empty when the
    /// finding reads the same from anywhere.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reading: String,
    /// The same in Japanese.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reading_ja: String,
}

/// Collects a rule's findings, stamping them with the rule's identity.
pub struct Emitter<'r> {
    rule: &'r Rule,
    a: &'r Analysis,
    out: Vec<Finding>,
}

/// A finding under construction.
pub struct Draft {
    pub severity: Severity,
    pub message: String,
    pub message_ja: String,
    pub frames: Vec<u64>,
    pub fix: Vec<FixStep>,
    pub confidence: Confidence,
    pub sa: Option<usize>,
    pub exchange: Option<String>,
    pub notify: Option<String>,
    pub reading: String,
    pub reading_ja: String,
}

impl Draft {
    pub fn new(severity: Severity, message: impl Into<String>, frames: Vec<u64>) -> Self {
        Draft {
            severity,
            message: message.into(),
            message_ja: String::new(),
            frames,
            fix: Vec::new(),
            confidence: Confidence::Certain,
            sa: None,
            exchange: None,
            notify: None,
            reading: String::new(),
            reading_ja: String::new(),
        }
    }
    /// What the rule read from where the capture was taken (English and
    /// Japanese), for [`Vantage::reading`].
    pub fn seen_from(mut self, en: impl Into<String>, ja: impl Into<String>) -> Self {
        self.reading = en.into();
        self.reading_ja = ja.into();
        self
    }
    pub fn sa(mut self, sa: &IkeSa) -> Self {
        self.sa = Some(sa.index);
        self
    }
    pub fn exchange(mut self, e: impl Into<String>) -> Self {
        self.exchange = Some(e.into());
        self
    }
    pub fn notify(mut self, n: impl Into<String>) -> Self {
        self.notify = Some(n.into());
        self
    }
    pub fn confidence(mut self, c: Confidence) -> Self {
        self.confidence = c;
        self
    }
    pub fn fix(mut self, fix: Vec<FixStep>) -> Self {
        self.fix = fix;
        self
    }
    /// The message in Japanese.
    pub fn ja(mut self, m: impl Into<String>) -> Self {
        self.message_ja = m.into();
        self
    }
}

impl Emitter<'_> {
    pub fn emit(&mut self, d: Draft) {
        let mut frames = d.frames;
        frames.sort_unstable();
        frames.dedup();
        let filter = display_filter(&frames);
        let capture_point = match d.sa.and_then(|i| self.a.sas.get(i)) {
            Some(sa) => sa.capture_side,
            None => capture_point(self.a),
        };
        self.out.push(Finding {
            code: self.rule.code,
            name: self.rule.name,
            severity: d.severity,
            message: d.message,
            frames,
            filter,
            fix: d.fix,
            message_ja: d.message_ja,
            confidence: d.confidence,
            sa: d.sa,
            exchange: d.exchange,
            notify: d.notify,
            vantage: Vantage {
                capture_point,
                reading: d.reading,
                reading_ja: d.reading_ja,
            },
        });
    }
}

/// `frame.number in {1 2 3}`; empty when there are no frames.
pub fn display_filter(frames: &[u64]) -> String {
    match frames {
        [] => String::new(),
        [f] => format!("frame.number == {f}"),
        fs => {
            let list: Vec<String> = fs.iter().map(u64::to_string).collect();
            format!("frame.number in {{{}}}", list.join(" "))
        }
    }
}

/// The capture point of the whole capture: the one every IKE SA whose
/// side is known agrees on, else unknown.
pub fn capture_point(a: &Analysis) -> CaptureSide {
    let mut known = a
        .sas
        .iter()
        .map(|s| s.capture_side)
        .filter(|s| *s != CaptureSide::Unknown);
    match known.next() {
        Some(first) if known.all(|s| s == first) => first,
        _ => CaptureSide::Unknown,
    }
}

/// Which rules run: codes or names to select (empty: all) and to ignore.
#[derive(Debug, Clone, Default)]
pub struct RuleSelection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl RuleSelection {
    fn matches(list: &[String], r: &Rule) -> bool {
        list.iter()
            .any(|s| s.eq_ignore_ascii_case(r.code) || s.eq_ignore_ascii_case(r.name))
    }
    pub fn wants(&self, r: &Rule) -> bool {
        (self.select.is_empty() || Self::matches(&self.select, r))
            && !Self::matches(&self.ignore, r)
    }
    /// Names or codes that match no rule.
    pub fn unknown(&self) -> Vec<String> {
        self.select
            .iter()
            .chain(&self.ignore)
            .filter(|s| {
                !rules::ALL
                    .iter()
                    .any(|r| s.eq_ignore_ascii_case(r.code) || s.eq_ignore_ascii_case(r.name))
            })
            .cloned()
            .collect()
    }
}

/// Runs the selected rules over the facts; findings come back sorted.
pub fn run_rules(a: &Analysis, sel: &RuleSelection) -> Vec<Finding> {
    let mut all = Vec::new();
    for r in rules::ALL {
        if !sel.wants(r) {
            continue;
        }
        let mut e = Emitter {
            rule: r,
            a,
            out: Vec::new(),
        };
        (r.check)(a, &mut e);
        all.extend(e.out);
    }
    all.sort_by(|x, y| {
        (x.severity, x.frames.first(), x.code).cmp(&(y.severity, y.frames.first(), y.code))
    });
    all
}

/// Looks a rule up by code or name.
pub fn find_rule(key: &str) -> Option<&'static Rule> {
    rules::ALL
        .iter()
        .copied()
        .find(|r| key.eq_ignore_ascii_case(r.code) || key.eq_ignore_ascii_case(r.name))
}

/// Formats seconds for messages: "31 s", "0.5 s", "2.3 ms".
pub fn secs(ns: i64) -> String {
    let s = ns as f64 / 1e9;
    if s >= 10.0 {
        format!("{s:.0} s")
    } else if s >= 1.0 {
        format!("{s:.1} s")
    } else if s >= 0.001 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// Formats a byte count with a thousands separator: "1,840".
pub fn bytes(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats a count with a noun: "1 retransmission", "3 retransmissions".
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A rule's documentation as Markdown (the text of `docs/rules/<name>.md`
/// and of `ikediag rules NAME`).
pub fn rule_markdown(r: &Rule) -> String {
    rule_markdown_lang(r, false)
}

/// As [`rule_markdown`], in Japanese when `ja` (`docs/rules/ja/<name>.md`).
pub fn rule_markdown_lang(r: &Rule, ja: bool) -> String {
    if ja {
        let d = &r.doc_ja;
        return format!(
            "# {code} `{name}`\n\n{summary}。\n\n既定の重大度: {sev}。\n\n\
             ## 検出内容\n\n{}\n\n## トンネルが失敗する理由\n\n{}\n\n## 示す証拠\n\n{}\n\n\
             ## よくある原因\n\n{}\n\n## 対処方法\n\n{}\n",
            d.detects.trim(),
            d.why_it_fails.trim(),
            d.evidence.trim(),
            d.likely_causes.trim(),
            d.how_to_fix.trim(),
            code = r.code,
            name = r.name,
            summary = r.summary_ja,
            sev = match r.severity {
                Severity::Error => "エラー",
                Severity::Warning => "警告",
                Severity::Info => "情報",
            },
        );
    }
    let d = &r.doc;
    format!(
        "# {code} `{name}`\n\n{summary}.\n\nDefault severity: {sev}.\n\n\
         ## What it detects\n\n{}\n\n## Why the tunnel fails\n\n{}\n\n## Evidence shown\n\n{}\n\n\
         ## Likely causes\n\n{}\n\n## How to fix it\n\n{}\n",
        squash(d.detects),
        squash(d.why_it_fails),
        squash(d.evidence),
        squash(d.likely_causes),
        squash(d.how_to_fix),
        code = r.code,
        name = r.name,
        summary = r.summary,
        sev = r.severity.as_str(),
    )
}

/// Joins the continuation lines of a doc string into one paragraph.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The generated `docs/rules/` tree: (file name, contents), the index first.
pub fn rule_docs() -> Vec<(String, String)> {
    let mut index = String::from(
        "# Diagnosis rules\n\nGenerated from the rules themselves (`src/diag/rules/`); do not edit by hand.\n\
         Regenerate with `IKEDIAG_UPDATE_DOCS=1 cargo test --test rule_docs`.\n\n\
         | code | name | severity | summary |\n|---|---|---|---|\n",
    );
    let mut files = Vec::new();
    let mut all: Vec<&Rule> = rules::ALL.to_vec();
    all.sort_by_key(|r| r.code);
    for r in all {
        index.push_str(&format!(
            "| {} | [`{}`]({}.md) | {} | {} |\n",
            r.code,
            r.name,
            r.name,
            r.severity.as_str(),
            r.summary
        ));
        files.push((format!("{}.md", r.name), rule_markdown(r)));
    }
    files.insert(0, ("README.md".to_string(), index));
    // Japanese: docs/rules/ja/.
    let mut index_ja = String::from(
        "# 診断ルール\n\nルール自体 (`src/diag/rules/`) から生成しています。手で編集しないでください。\n\
         再生成: `IKEDIAG_UPDATE_DOCS=1 cargo test --test rule_docs`\n\n\
         | コード | 名前 | 重大度 | 概要 |\n|---|---|---|---|\n",
    );
    let mut all: Vec<&Rule> = rules::ALL.to_vec();
    all.sort_by_key(|r| r.code);
    for r in all {
        index_ja.push_str(&format!(
            "| {} | [`{}`]({}.md) | {} | {} |\n",
            r.code,
            r.name,
            r.name,
            r.severity.as_str(),
            r.summary_ja
        ));
        files.push((format!("ja/{}.md", r.name), rule_markdown_lang(r, true)));
    }
    files.push(("ja/README.md".to_string(), index_ja));
    files
}
