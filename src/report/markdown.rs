//! The Markdown report (GitHub / GitLab flavoured) for tickets: verdict,
//! findings with frames and display filters, a Mermaid `sequenceDiagram`
//! ladder per IKE SA, the exchange table, and the fixes as fenced blocks.
//!
//! Contract: a pure function of the [`Report`]; it says what the text
//! report says. Table cells are escaped (pipes, newlines) so the document
//! renders with any CommonMark + tables renderer.

use std::fmt::Write;

use super::{Lang, Report, SaReport};
use crate::diag::verdict::Outcome;

/// Escapes text for a Markdown table cell.
///
/// Certificate names and identities come from strangers, so every character
/// Markdown gives a meaning to inline (links, images, emphasis, code, HTML)
/// is escaped; only the line breaks this renderer adds become `<br>`.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("<br>"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '|' | '[' | ']' | '!' | '*' | '_' | '`' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A side-by-side table; rows where the sides disagree are marked `≠` and
/// set in bold.
fn side_table(s: &mut String, header: [&str; 3], rows: &[super::SideRow]) {
    let _ = writeln!(
        s,
        "| {} | {} | {} |\n|---|---|---|",
        header[0], header[1], header[2]
    );
    for r in rows {
        if r.mismatch {
            let _ = writeln!(
                s,
                "| **≠ {}** | {} | **{}** |",
                cell(&r.label),
                cell(&r.left),
                cell(&r.right)
            );
        } else {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                cell(&r.label),
                cell(&r.left),
                cell(&r.right)
            );
        }
    }
    let _ = writeln!(s);
}

/// Escapes text for a Mermaid message label (no `;`, `#` or `:` tricks).
fn mermaid(s: &str) -> String {
    s.replace(';', ",")
        .replace('#', "no. ")
        .replace(['\n', '"'], " ")
}

fn outcome(o: Outcome, lang: Lang) -> &'static str {
    match o {
        Outcome::Success => lang.pick("SUCCESS", "成功"),
        Outcome::Failure => lang.pick("FAILURE", "失敗"),
        Outcome::Inconclusive => lang.pick("INCONCLUSIVE", "判定不能"),
    }
}

fn ladder(s: &mut String, sa: &SaReport, lang: Lang) {
    let l = |en: &'static str, ja: &'static str| lang.pick(en, ja);
    let _ = writeln!(s, "```mermaid\nsequenceDiagram");
    let _ = writeln!(
        s,
        "    participant I as Initiator {}",
        mermaid(&sa.initiator)
    );
    let _ = writeln!(
        s,
        "    participant R as Responder {}",
        mermaid(&sa.responder)
    );
    for e in &sa.exchanges {
        let (from, to) = if e.requester == "initiator" {
            ("I", "R")
        } else {
            ("R", "I")
        };
        let first = e.request_frames.first().copied().unwrap_or(0);
        let frags = if e.request_ip_fragments > 1 {
            match lang {
                Lang::En => format!(", {} IP fragments", e.request_ip_fragments),
                Lang::Ja => format!(", IP フラグメント {} 個", e.request_ip_fragments),
            }
        } else {
            String::new()
        };
        let retx = if e.retransmissions > 0 {
            match lang {
                Lang::En => format!(", sent {} times", e.retransmissions + 1),
                Lang::Ja => format!(", {} 回送信", e.retransmissions + 1),
            }
        } else {
            String::new()
        };
        let arrow = if e.unanswered { "-x" } else { "->>" };
        let _ = writeln!(
            s,
            "    {from}{arrow}{to}: {} {}, msg ID {}, {} B{frags}{retx} ({} {first})",
            mermaid(&e.exchange),
            l("request", "要求"),
            e.message_id,
            e.request_length,
            l("frame", "フレーム")
        );
        if let (Some(len), Some(f)) = (e.response_length, e.response_frames.first()) {
            let notes = if e.notify.iter().any(|n| {
                n.contains("FAIL")
                    || n.contains("NO_PROPOSAL")
                    || n.contains("NO-PROPOSAL")
                    || n.contains("INVALID")
                    || n == "COOKIE"
            }) {
                format!(" [{}]", mermaid(&e.notify.join(", ")))
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "    {to}-->>{from}: {} {}, {len} B{notes} ({} {f})",
                mermaid(&e.exchange),
                l("response", "応答"),
                l("frame", "フレーム")
            );
        } else if e.unanswered {
            let _ = writeln!(
                s,
                "    Note over {from},{to}: {}",
                l("no answer", "応答なし")
            );
        }
    }
    let _ = writeln!(s, "```");
}

/// Renders the report as Markdown (English).
pub fn render(r: &Report) -> String {
    render_lang(r, Lang::En)
}

/// Renders the report as Markdown in `lang`.
pub fn render_lang(r: &Report, lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    let l = |en: &'static str, j: &'static str| if ja { j } else { en };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# {}: `{}`\n",
        l("ikediag report", "ikediag 診断レポート"),
        r.file.replace('`', "'")
    );
    let _ = write!(
        s,
        "**{}: {}**",
        l("Verdict", "判定"),
        outcome(r.verdict.outcome, lang)
    );
    if let Some(x) = &r.verdict.failed_exchange {
        let _ = write!(s, " ({}: `{x}`)", l("failed exchange", "失敗した交換"));
    }
    let summary = if ja {
        &r.verdict.summary_ja
    } else {
        &r.verdict.summary
    };
    let _ = writeln!(s, "\n\n> {}\n", cell(&summary.replace('\n', " ")));
    if ja {
        let _ = writeln!(
            s,
            "{} フレーム ({:.3} 秒)、IKE メッセージ {} 個、IKE SA の試行 {} 回、応答のない要求 {} 件。\n",
            r.capture.frames,
            r.capture.duration_s,
            r.stats.ike_messages,
            r.stats.ike_sas,
            r.stats.unanswered_requests
        );
    } else {
        let _ = writeln!(
            s,
            "{} frames over {:.3} s; {} IKE messages in {} IKE SA attempt(s); {} unanswered request(s).\n",
            r.capture.frames,
            r.capture.duration_s,
            r.stats.ike_messages,
            r.stats.ike_sas,
            r.stats.unanswered_requests
        );
    }
    if let Some(k) = super::keys_line(r, lang == Lang::Ja) {
        let _ = writeln!(s, "{k}\n");
    }
    if let Some(e) = &r.capture.read_error {
        let _ = writeln!(
            s,
            "**{}** {}\n",
            l("Warning:", "警告:"),
            if ja {
                format!("キャプチャを最後まで読めませんでした: {}", cell(e))
            } else {
                format!("the capture could not be read to the end: {}", cell(e))
            }
        );
    }
    if !r.findings.is_empty() {
        let _ = writeln!(s, "## {}\n", l("Findings", "検出結果"));
        let _ = writeln!(
            s,
            "{}",
            l(
                "| Severity | Code | Rule | Finding | Frames |",
                "| 重大度 | コード | ルール | 内容 | フレーム |"
            )
        );
        let _ = writeln!(s, "|---|---|---|---|---|");
        for f in &r.findings {
            let conf = match f.confidence {
                crate::diag::Confidence::Certain => "",
                crate::diag::Confidence::Likely => l(" *(likely)*", " *(推定: 確度高)*"),
                crate::diag::Confidence::Possible => l(" *(possible)*", " *(推定: 確度低)*"),
            };
            let frames: Vec<String> = f.frames.iter().take(20).map(u64::to_string).collect();
            let more = if f.frames.len() > 20 {
                format!(" … (+{})", f.frames.len() - 20)
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "| {} | {} | `{}` | {}{} | {}{} |",
                match (ja, f.severity) {
                    (false, x) => x.as_str(),
                    (true, crate::diag::Severity::Error) => "エラー",
                    (true, crate::diag::Severity::Warning) => "警告",
                    (true, crate::diag::Severity::Info) => "情報",
                },
                f.code,
                f.name,
                cell(if ja { &f.message_ja } else { &f.message }),
                conf,
                frames.join(" "),
                more
            );
        }
        let _ = writeln!(
            s,
            "\n{}\n",
            l(
                "Wireshark display filters (paste into the filter bar):",
                "Wireshark の表示フィルタ (フィルタバーに貼り付けてください):"
            )
        );
        for f in r.findings.iter().filter(|f| !f.filter.is_empty()) {
            let _ = writeln!(s, "- {} `{}`: `{}`", f.code, f.name, f.filter);
        }
        let _ = writeln!(s);
    }
    if let Some(p) = &r.path_mtu {
        let _ = writeln!(s, "## {}\n", l("Path MTU", "経路 MTU"));
        let v = |x: Option<u32>| {
            x.map(|v| v.to_string())
                .unwrap_or_else(|| l("unknown", "不明").into())
        };
        let _ = writeln!(
            s,
            "{}: {}, {}: {}, {}: {}.\n",
            l("Value", "値"),
            v(p.value),
            l("lower bound", "下限"),
            v(p.lower),
            l("upper bound", "上限"),
            v(p.upper)
        );
        for e in if ja { &p.evidence_ja } else { &p.evidence } {
            let _ = writeln!(s, "- {}", cell(e));
        }
        let _ = writeln!(s);
    }
    for sa in &r.sas {
        let _ = writeln!(
            s,
            "## IKE SA #{}: IKEv{} {} → {}\n\nSPI `{}` / `{}`; {}: {}; {}: {}{}\n",
            sa.index,
            sa.version,
            sa.initiator,
            sa.responder,
            sa.ispi,
            sa.rspi,
            l("captured at", "キャプチャ地点"),
            super::wire_name(sa.capture_side),
            l("outcome", "結果"),
            outcome(sa.outcome, lang).to_lowercase(),
            sa.failed_exchange
                .as_ref()
                .map(|x| if ja {
                    format!(" (`{x}` で失敗)")
                } else {
                    format!(" at `{x}`")
                })
                .unwrap_or_default()
        );
        ladder(&mut s, sa, lang);
        let _ = writeln!(
            s,
            "\n{}",
            l(
                "| Exchange | Msg ID | By | Request frames | Response frames | Retransmissions | RTT ms |",
                "| 交換 | Msg ID | 要求元 | 要求フレーム | 応答フレーム | 再送 | RTT ms |"
            )
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        for e in &sa.exchanges {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(&e.exchange),
                e.message_id,
                match (ja, e.requester) {
                    (true, "initiator") => "イニシエータ",
                    (true, _) => "レスポンダ",
                    (false, x) => x,
                },
                e.request_frames
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                if e.answered {
                    e.response_frames
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    l("none", "なし").into()
                },
                e.retransmissions,
                e.rtt_ms.map(|r| format!("{r:.1}")).unwrap_or_default()
            );
        }
        let _ = writeln!(s);
        if let Some(p) = &sa.peers {
            let _ = writeln!(
                s,
                "{}\n",
                l(
                    "**Peers** (what their messages say)",
                    "**ピア** (メッセージの内容)"
                )
            );
            side_table(
                &mut s,
                [
                    "",
                    l("Initiator", "イニシエータ"),
                    l("Responder", "レスポンダ"),
                ],
                &super::peer_rows(p, ja),
            );
        }
        for c in &sa.child_sas {
            let _ = writeln!(
                s,
                "**CHILD SA** ({}): {} {} / {} {}\n",
                cell(&c.exchange),
                l("proposed in frame", "提案 フレーム"),
                c.request_frame,
                l("answered in frame", "応答 フレーム"),
                c.response_frame
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| l("none", "なし").into())
            );
            side_table(
                &mut s,
                ["", l("Proposed", "提案"), l("Chosen", "選択")],
                &super::child_rows(c, ja),
            );
        }
    }
    let groups = super::fix_groups(r);
    if !groups.is_empty() {
        let _ = writeln!(s, "## {}\n", l("How to fix", "対処方法"));
        for g in groups {
            if let Some(same) = g.same_as {
                if ja {
                    let _ = writeln!(s, "### {} `{}`\n\n{same} と同じです。\n", g.code, g.name);
                } else {
                    let _ = writeln!(s, "### {} `{}`\n\nAs {same} above.\n", g.code, g.name);
                }
                continue;
            }
            let _ = writeln!(s, "### {} `{}`\n", g.code, g.name);
            for step in g.steps {
                let _ = writeln!(
                    s,
                    "**{}**\n\n```\n{}\n```\n",
                    cell(&super::platform_label(&step.platform, ja)),
                    step.commands.join("\n").replace("```", "'''")
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "---\n*{} ikediag {} ({} {}).*",
        l("Generated by", "生成:"),
        env!("CARGO_PKG_VERSION"),
        l("report schema", "レポートスキーマ"),
        r.schema_version
    );
    s
}

#[cfg(test)]
mod tests {
    /// Names from certificates cannot become links, images, emphasis or
    /// HTML in a ticket.
    #[test]
    fn cells_neutralise_markdown_and_html() {
        let c = super::cell(
            "CN=<img src=x onerror=alert(1)> ![x](http://a/p.png) [Fix](http://evil) *b* `c` a|b<br>\nz",
        );
        assert!(!c.contains("<img"));
        assert!(!c.contains("!["));
        assert!(!c.contains("[Fix]"));
        assert_eq!(c.matches("<br>").count(), 1, "{c}");
        assert!(c.contains("\\|"));
    }
}
