//! The HTML report: one self-contained, printable page (inline CSS, no
//! script, no external asset) with the verdict, the findings, an SVG
//! ladder diagram per IKE SA and the fixes.
//!
//! Contract: a pure function of the [`Report`]. Every arrow of a ladder is
//! an SVG `<g class="msg KIND">` with `data-frame`, so tests (and users'
//! tools) can find them; unanswered requests, retransmissions, lost IP
//! fragments, ESP and ICMP are drawn differently so they stand out.

use std::fmt::Write;

use super::{LadderEvent, Lang, Report, SaReport};
use crate::diag::verdict::Outcome;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px; color: #1b1b1b; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
table.side th { text-align: left; vertical-align: top; }
table.side td { vertical-align: top; font-family: ui-monospace, monospace; font-size: .9em; }
tr.mismatch th, tr.mismatch td { background: #fdecea; color: #8a1c1c; }
.meta { color: #555; }
.verdict { border-left: 6px solid #888; padding: .6em 1em; margin: 1em 0; background: #f6f6f6; }
.verdict.failure { border-color: #c62828; background: #fdecea; }
.verdict.success { border-color: #2e7d32; background: #edf7ed; }
.verdict.inconclusive { border-color: #f9a825; background: #fff8e1; }
.verdict strong { font-size: 1.15em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1.5em; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .5em; vertical-align: top; text-align: left; }
th { background: #f0f0f0; }
td.sev-error { color: #c62828; font-weight: bold; }
td.sev-warning { color: #ef6c00; font-weight: bold; }
td.sev-info { color: #1565c0; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; }
pre { background: #f6f8fa; border: 1px solid #ddd; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
svg.ladder { width: 100%; height: auto; border: 1px solid #ddd; background: #fff; }
svg.ladder text { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; }
.legend span { display: inline-block; margin-right: 1em; font-size: .85em; }
@media print { body { margin: 0; max-width: none; } .verdict, pre { break-inside: avoid; } svg.ladder { break-inside: avoid; } }
"#;

/// A side-by-side table; rows where the sides disagree get the
/// `mismatch` class (highlighted) and a `≠` mark.
fn side_table(s: &mut String, header: [&str; 3], rows: &[super::SideRow]) {
    let _ = writeln!(
        s,
        "<table class=\"side\">\n<tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(header[0]),
        esc(header[1]),
        esc(header[2])
    );
    for r in rows {
        let cell = |t: &str| esc(t).replace('\n', "<br>");
        let _ = writeln!(
            s,
            "<tr{}><th>{}{}</th><td>{}</td><td>{}</td></tr>",
            if r.mismatch {
                " class=\"mismatch\""
            } else {
                ""
            },
            if r.mismatch { "&ne; " } else { "" },
            esc(&r.label),
            cell(&r.left),
            cell(&r.right)
        );
    }
    let _ = writeln!(s, "</table>");
}

fn outcome(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Success => ("SUCCESS", "success"),
        Outcome::Failure => ("FAILURE", "failure"),
        Outcome::Inconclusive => ("INCONCLUSIVE", "inconclusive"),
    }
}

/// Colour and dash pattern of an arrow kind.
fn style(e: &LadderEvent) -> (&'static str, &'static str) {
    if e.unanswered {
        return ("#c62828", "");
    }
    match e.kind {
        "response" => ("#2e7d32", "6 3"),
        "retransmission" => ("#ef6c00", ""),
        "esp" => ("#757575", "2 3"),
        "icmp" => ("#6a1b9a", "4 2"),
        "lost" => ("#c62828", "1 3"),
        _ => ("#1565c0", ""),
    }
}

fn ladder_svg(s: &mut String, sa: &SaReport) {
    const W: i32 = 1000;
    const XI: i32 = 190;
    const XP: i32 = 500;
    const XR: i32 = 810;
    const TOP: i32 = 70;
    const STEP: i32 = 34;
    let n = sa.ladder.len() as i32;
    let h = TOP + STEP * n + 40;
    let x = |who: &str| match who {
        "initiator" => XI,
        "responder" => XR,
        _ => XP,
    };
    let _ = writeln!(
        s,
        r#"<svg class="ladder" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" role="img" aria-label="IKE SA {} ladder diagram">"#,
        sa.index
    );
    let _ = writeln!(
        s,
        r##"<defs><marker id="arrow{i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="context-stroke"/></marker></defs>"##,
        i = sa.index
    );
    let _ = writeln!(
        s,
        r#"<text x="{XI}" y="24" text-anchor="middle" font-weight="bold">Initiator</text><text x="{XI}" y="40" text-anchor="middle">{}</text>"#,
        esc(&sa.initiator)
    );
    let _ = writeln!(
        s,
        r#"<text x="{XR}" y="24" text-anchor="middle" font-weight="bold">Responder</text><text x="{XR}" y="40" text-anchor="middle">{}</text>"#,
        esc(&sa.responder)
    );
    for lx in [XI, XR] {
        let _ = writeln!(
            s,
            r##"<line x1="{lx}" y1="50" x2="{lx}" y2="{}" stroke="#444" stroke-width="2"/>"##,
            h - 20
        );
    }
    if sa.ladder.iter().any(|e| e.from == "path" || e.to == "path") {
        let _ = writeln!(
            s,
            r##"<text x="{XP}" y="40" text-anchor="middle" fill="#6a1b9a">path (router)</text><line x1="{XP}" y1="50" x2="{XP}" y2="{}" stroke="#bbb" stroke-dasharray="3 4"/>"##,
            h - 20
        );
    }
    for (k, e) in sa.ladder.iter().enumerate() {
        let y = TOP + STEP * k as i32 + 16;
        let (x1, x2) = (x(e.from), x(e.to));
        let (color, dash) = style(e);
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let class = if e.unanswered {
            format!("msg {} unanswered", e.kind)
        } else {
            format!("msg {}", e.kind)
        };
        let _ = write!(
            s,
            r#"<g class="{class}" data-frame="{}"><title>frame {}: {}</title>"#,
            e.frame,
            e.frame,
            esc(&e.label)
        );
        // Unanswered: the arrow stops short and ends in a cross.
        let end = if e.unanswered {
            x1 + (x2 - x1) * 3 / 4
        } else {
            x2
        };
        let _ = write!(
            s,
            r#"<line x1="{x1}" y1="{y}" x2="{end}" y2="{y}" stroke="{color}" stroke-width="2"{dash} marker-end="url(#arrow{})"/>"#,
            sa.index
        );
        if e.unanswered {
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" fill="{color}" font-size="16" text-anchor="middle" font-weight="bold">✕</text>"#,
                end + if x2 > x1 { 12 } else { -12 },
                y + 5
            );
        }
        let mid = (x1 + x2) / 2;
        let _ = write!(
            s,
            r#"<text x="{mid}" y="{}" text-anchor="middle" fill="{color}">{}</text>"#,
            y - 5,
            esc(&e.label)
        );
        let _ = writeln!(
            s,
            r##"<text x="8" y="{}" fill="#555">#{} +{:.3}s</text></g>"##,
            y + 4,
            e.frame,
            e.time
        );
    }
    let _ = writeln!(s, "</svg>");
}

/// Renders the whole report as one HTML page (English).
pub fn render(r: &Report) -> String {
    render_lang(r, Lang::En)
}

/// The fixed labels of the page, English -> Japanese (exact fragments of
/// the template; the findings' own text is chosen per language).
const LABELS_JA: &[(&str, &str)] = &[
    ("<html lang=\"en\">", "<html lang=\"ja\">"),
    ("<title>ikediag report:", "<title>ikediag 診断レポート:"),
    ("<h1>ikediag report:", "<h1>ikediag 診断レポート:"),
    (
        "<strong>Verdict: FAILURE</strong>",
        "<strong>判定: 失敗</strong>",
    ),
    (
        "<strong>Verdict: SUCCESS</strong>",
        "<strong>判定: 成功</strong>",
    ),
    (
        "<strong>Verdict: INCONCLUSIVE</strong>",
        "<strong>判定: 判定不能</strong>",
    ),
    (" (failed exchange: <code>", " (失敗した交換: <code>"),
    (
        "<strong>Warning:</strong> the capture could not be read to the end:",
        "<strong>警告:</strong> キャプチャを最後まで読めませんでした:",
    ),
    ("<h2>Findings</h2>", "<h2>検出結果</h2>"),
    (
        "<th>Severity</th><th>Code</th><th>Rule</th><th>Finding</th><th>Frames</th><th>Wireshark filter</th>",
        "<th>重大度</th><th>コード</th><th>ルール</th><th>内容</th><th>フレーム</th><th>Wireshark フィルタ</th>",
    ),
    ("\">error</td>", "\">エラー</td>"),
    ("\">warning</td>", "\">警告</td>"),
    ("\">info</td>", "\">情報</td>"),
    (" <em>(likely)</em>", " <em>(推定: 確度高)</em>"),
    (" <em>(possible)</em>", " <em>(推定: 確度低)</em>"),
    ("<h2>Path MTU</h2>", "<h2>経路 MTU</h2>"),
    ("; captured at ", "; キャプチャ地点 "),
    ("; outcome failure", "; 結果 失敗"),
    ("; outcome success", "; 結果 成功"),
    ("; outcome inconclusive", "; 結果 判定不能"),
    (
        "font-weight=\"bold\">Initiator</text>",
        "font-weight=\"bold\">イニシエータ</text>",
    ),
    (
        "font-weight=\"bold\">Responder</text>",
        "font-weight=\"bold\">レスポンダ</text>",
    ),
    (">path (router)</text>", ">経路 (ルータ)</text>"),
    ("&#9472; request</span>", "&#9472; 要求</span>"),
    ("- - response</span>", "- - 応答</span>"),
    ("&#9472; retransmission</span>", "&#9472; 再送</span>"),
    (
        "&#9472;&#10005; unanswered / lost</span>",
        "&#9472;&#10005; 応答なし / 消失</span>",
    ),
    ("<h2>How to fix</h2>", "<h2>対処方法</h2>"),
    (
        "<p class=\"meta\">Generated by ikediag",
        "<p class=\"meta\">生成: ikediag",
    ),
    ("(report schema ", "(レポートスキーマ "),
];

/// Renders the whole report as one HTML page in `lang`.
pub fn render_lang(r: &Report, lang: Lang) -> String {
    let page = render_inner(r, lang);
    match lang {
        Lang::En => page,
        Lang::Ja => {
            let mut p = page;
            for (en, ja) in LABELS_JA {
                p = p.replace(en, ja);
            }
            p
        }
    }
}

fn render_inner(r: &Report, lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    let mut s = String::new();
    let (word, class) = outcome(r.verdict.outcome);
    let _ = writeln!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>ikediag report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>",
        esc(&r.file)
    );
    let _ = writeln!(s, "<h1>ikediag report: <code>{}</code></h1>", esc(&r.file));
    let meta = if ja {
        format!(
            "{} フレーム ({:.3} 秒)、IKE メッセージ {} 個、IKE SA の試行 {} 回、応答のない要求 {} 件。",
            r.capture.frames,
            r.capture.duration_s,
            r.stats.ike_messages,
            r.stats.ike_sas,
            r.stats.unanswered_requests
        )
    } else {
        format!(
            "{} frames over {:.3} s; {} IKE messages in {} IKE SA attempt(s); {} unanswered request(s).",
            r.capture.frames,
            r.capture.duration_s,
            r.stats.ike_messages,
            r.stats.ike_sas,
            r.stats.unanswered_requests
        )
    };
    let _ = writeln!(s, "<p class=\"meta\">{meta}</p>");
    if let Some(k) = super::keys_line(r, ja) {
        let _ = writeln!(s, "<p class=\"meta\">{}</p>", esc(&k));
    }
    let _ = writeln!(
        s,
        "<div class=\"verdict {class}\"><strong>Verdict: {word}</strong>{}<p>{}</p></div>",
        r.verdict
            .failed_exchange
            .as_ref()
            .map(|x| format!(" (failed exchange: <code>{}</code>)", esc(x)))
            .unwrap_or_default(),
        esc(if ja {
            &r.verdict.summary_ja
        } else {
            &r.verdict.summary
        })
    );
    if let Some(e) = &r.capture.read_error {
        let _ = writeln!(
            s,
            "<p><strong>Warning:</strong> the capture could not be read to the end: {}</p>",
            esc(e)
        );
    }
    if !r.findings.is_empty() {
        let _ = writeln!(
            s,
            "<h2>Findings</h2>\n<table>\n<tr><th>Severity</th><th>Code</th><th>Rule</th><th>Finding</th><th>Frames</th><th>Wireshark filter</th></tr>"
        );
        for f in &r.findings {
            let conf = match f.confidence {
                crate::diag::Confidence::Certain => "",
                crate::diag::Confidence::Likely => " <em>(likely)</em>",
                crate::diag::Confidence::Possible => " <em>(possible)</em>",
            };
            let frames: Vec<String> = f.frames.iter().take(30).map(u64::to_string).collect();
            let _ = writeln!(
                s,
                "<tr><td class=\"sev-{sev}\">{sev}</td><td>{}</td><td><code>{}</code></td><td>{}{conf}</td><td>{}</td><td><code>{}</code></td></tr>",
                f.code,
                f.name,
                esc(if ja { &f.message_ja } else { &f.message }),
                frames.join(" "),
                esc(&f.filter),
                sev = f.severity.as_str()
            );
        }
        let _ = writeln!(s, "</table>");
    }
    if let Some(p) = &r.path_mtu {
        let _ = writeln!(s, "<h2>Path MTU</h2>\n<ul>");
        for e in if ja { &p.evidence_ja } else { &p.evidence } {
            let _ = writeln!(s, "<li>{}</li>", esc(e));
        }
        let _ = writeln!(s, "</ul>");
    }
    for sa in &r.sas {
        let (w, _) = outcome(sa.outcome);
        let _ = writeln!(
            s,
            "<h2>IKE SA #{}: IKEv{} {} &rarr; {}</h2>\n<p class=\"meta\">SPIs <code>{}</code> / <code>{}</code>; captured at {}; outcome {}{}</p>",
            sa.index,
            sa.version,
            esc(&sa.initiator),
            esc(&sa.responder),
            sa.ispi,
            sa.rspi,
            super::wire_name(sa.capture_side),
            w.to_lowercase(),
            sa.failed_exchange
                .as_ref()
                .map(|x| format!(" at <code>{}</code>", esc(x)))
                .unwrap_or_default()
        );
        ladder_svg(&mut s, sa);
        if let Some(p) = &sa.peers {
            let _ = writeln!(
                s,
                "<h3>{}</h3>",
                if ja {
                    "ピア (メッセージの内容)"
                } else {
                    "Peers (what their messages say)"
                }
            );
            side_table(
                &mut s,
                if ja {
                    ["", "イニシエータ", "レスポンダ"]
                } else {
                    ["", "Initiator", "Responder"]
                },
                &super::peer_rows(p, ja),
            );
        }
        for c in &sa.child_sas {
            let _ = writeln!(
                s,
                "<h3>CHILD SA ({}): {} {} / {} {}</h3>",
                esc(&c.exchange),
                if ja {
                    "提案 フレーム"
                } else {
                    "proposed in frame"
                },
                c.request_frame,
                if ja {
                    "応答 フレーム"
                } else {
                    "answered in frame"
                },
                c.response_frame
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| if ja { "なし" } else { "none" }.into())
            );
            side_table(
                &mut s,
                if ja {
                    ["", "提案", "選択"]
                } else {
                    ["", "Proposed", "Chosen"]
                },
                &super::child_rows(c, ja),
            );
        }
        let _ = writeln!(
            s,
            "<p class=\"legend\"><span style=\"color:#1565c0\">&#9472; request</span><span style=\"color:#2e7d32\">- - response</span><span style=\"color:#ef6c00\">&#9472; retransmission</span><span style=\"color:#c62828\">&#9472;&#10005; unanswered / lost</span><span style=\"color:#757575\">&middot;&middot; ESP</span><span style=\"color:#6a1b9a\">- ICMP</span></p>"
        );
    }
    let groups = super::fix_groups(r);
    if !groups.is_empty() {
        let _ = writeln!(s, "<h2>How to fix</h2>");
        for g in groups {
            if let Some(same) = g.same_as {
                let _ = writeln!(
                    s,
                    "<h3>{} <code>{}</code></h3><p>{}</p>",
                    g.code,
                    g.name,
                    if ja {
                        format!("{same} と同じです。")
                    } else {
                        format!("As {same} above.")
                    }
                );
                continue;
            }
            let _ = writeln!(s, "<h3>{} <code>{}</code></h3>", g.code, g.name);
            for step in g.steps {
                let _ = writeln!(
                    s,
                    "<p><strong>{}</strong></p><pre>{}</pre>",
                    esc(&super::platform_label(&step.platform, ja)),
                    esc(&step.commands.join("\n"))
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "<p class=\"meta\">Generated by ikediag {} (report schema {}).</p>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION"),
        r.schema_version
    );
    s
}
