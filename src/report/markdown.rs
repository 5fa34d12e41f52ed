//! The Markdown report (GitHub / GitLab flavoured) for tickets: verdict,
//! findings with frames and display filters, a Mermaid `sequenceDiagram`
//! ladder per IKE SA, the exchange table, and the fixes as fenced blocks.
//!
//! Contract: a pure function of the [`Report`]; it says what the text
//! report says. Table cells are escaped (pipes, newlines) so the document
//! renders with any CommonMark + tables renderer.

use std::fmt::Write;

use super::{Report, SaReport};
use crate::diag::verdict::Outcome;

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', "<br>")
        .replace('<', "&lt;")
        .replace("&lt;br>", "<br>")
}

/// Escapes text for a Mermaid message label (no `;`, `#` or `:` tricks).
fn mermaid(s: &str) -> String {
    s.replace(';', ",")
        .replace('#', "no. ")
        .replace(['\n', '"'], " ")
}

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Success => "SUCCESS",
        Outcome::Failure => "FAILURE",
        Outcome::Inconclusive => "INCONCLUSIVE",
    }
}

fn ladder(s: &mut String, sa: &SaReport) {
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
            format!(", {} IP fragments", e.request_ip_fragments)
        } else {
            String::new()
        };
        let retx = if e.retransmissions > 0 {
            format!(", sent {} times", e.retransmissions + 1)
        } else {
            String::new()
        };
        let arrow = if e.unanswered { "-x" } else { "->>" };
        let _ = writeln!(
            s,
            "    {from}{arrow}{to}: {} request, msg ID {}, {} B{frags}{retx} (frame {first})",
            mermaid(&e.exchange),
            e.message_id,
            e.request_length
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
                "    {to}-->>{from}: {} response, {len} B{notes} (frame {f})",
                mermaid(&e.exchange)
            );
        } else if e.unanswered {
            let _ = writeln!(s, "    Note over {from},{to}: no answer");
        }
    }
    let _ = writeln!(s, "```");
}

/// Renders the report as Markdown.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# ikediag report: `{}`\n", r.file.replace('`', "'"));
    let _ = write!(s, "**Verdict: {}**", outcome(r.verdict.outcome));
    if let Some(x) = &r.verdict.failed_exchange {
        let _ = write!(s, " (failed exchange: `{x}`)");
    }
    let _ = writeln!(s, "\n\n> {}\n", r.verdict.summary.replace('\n', " "));
    let _ = writeln!(
        s,
        "{} frames over {:.3} s; {} IKE messages in {} IKE SA attempt(s); {} unanswered request(s).\n",
        r.capture.frames,
        r.capture.duration_s,
        r.stats.ike_messages,
        r.stats.ike_sas,
        r.stats.unanswered_requests
    );
    if let Some(e) = &r.capture.read_error {
        let _ = writeln!(
            s,
            "**Warning:** the capture could not be read to the end: {}\n",
            cell(e)
        );
    }
    if !r.findings.is_empty() {
        let _ = writeln!(s, "## Findings\n");
        let _ = writeln!(s, "| Severity | Code | Rule | Finding | Frames |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for f in &r.findings {
            let conf = match f.confidence {
                crate::diag::Confidence::Certain => "",
                crate::diag::Confidence::Likely => " *(likely)*",
                crate::diag::Confidence::Possible => " *(possible)*",
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
                f.severity.as_str(),
                f.code,
                f.name,
                cell(&f.message),
                conf,
                frames.join(" "),
                more
            );
        }
        let _ = writeln!(
            s,
            "\nWireshark display filters (paste into the filter bar):\n"
        );
        for f in r.findings.iter().filter(|f| !f.filter.is_empty()) {
            let _ = writeln!(s, "- {} `{}`: `{}`", f.code, f.name, f.filter);
        }
        let _ = writeln!(s);
    }
    if let Some(p) = &r.path_mtu {
        let _ = writeln!(s, "## Path MTU\n");
        let v = |x: Option<u32>| x.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into());
        let _ = writeln!(
            s,
            "Value: {}, lower bound: {}, upper bound: {}.\n",
            v(p.value),
            v(p.lower),
            v(p.upper)
        );
        for e in &p.evidence {
            let _ = writeln!(s, "- {}", cell(e));
        }
        let _ = writeln!(s);
    }
    for sa in &r.sas {
        let _ = writeln!(
            s,
            "## IKE SA #{}: IKEv{} {} → {}\n\nSPIs `{}` / `{}`; captured at: {}; outcome: {}{}\n",
            sa.index,
            sa.version,
            sa.initiator,
            sa.responder,
            sa.ispi,
            sa.rspi,
            serde_json::to_value(sa.capture_side)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            outcome(sa.outcome).to_lowercase(),
            sa.failed_exchange
                .as_ref()
                .map(|x| format!(" at `{x}`"))
                .unwrap_or_default()
        );
        ladder(&mut s, sa);
        let _ = writeln!(
            s,
            "\n| Exchange | Msg ID | By | Request frames | Response frames | Retransmissions | RTT ms |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        for e in &sa.exchanges {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(&e.exchange),
                e.message_id,
                e.requester,
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
                    "none".into()
                },
                e.retransmissions,
                e.rtt_ms.map(|r| format!("{r:.1}")).unwrap_or_default()
            );
        }
        let _ = writeln!(s);
    }
    let with_fix: Vec<_> = r.findings.iter().filter(|f| !f.fix.is_empty()).collect();
    if !with_fix.is_empty() {
        let _ = writeln!(s, "## How to fix\n");
        let mut seen: Vec<(&str, &Vec<crate::diag::FixStep>)> = Vec::new();
        for f in with_fix {
            if seen.iter().any(|(c, _)| *c == f.code) {
                continue;
            }
            if let Some((same, _)) = seen.iter().find(|(_, fix)| **fix == f.fix) {
                let _ = writeln!(s, "### {} `{}`\n\nAs {same} above.\n", f.code, f.name);
                seen.push((f.code, &f.fix));
                continue;
            }
            seen.push((f.code, &f.fix));
            let _ = writeln!(s, "### {} `{}`\n", f.code, f.name);
            for step in &f.fix {
                let _ = writeln!(
                    s,
                    "**{}**\n\n```\n{}\n```\n",
                    cell(&step.platform),
                    step.commands.join("\n").replace("```", "'''")
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "---\n*Generated by ikediag {} (report schema {}).*",
        env!("CARGO_PKG_VERSION"),
        r.schema_version
    );
    s
}
