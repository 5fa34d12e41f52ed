//! The human report: verdict first, then findings (most severe first) with
//! their Wireshark frames and display filters, then each IKE SA's exchanges,
//! then the fixes.
//!
//! Contract: a pure function of the [`Report`] and a width; the same input
//! gives the same text (snapshot-tested).

use std::fmt::Write;

use comfy_table::{ContentArrangement, Table, presets};

use super::Report;
use crate::diag::verdict::Outcome;

fn table(width: u16) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_width(width);
    t.force_no_tty();
    t
}

/// Status notifies every modern peer sends; the exchange table leaves them
/// out (the JSON report keeps them all).
const ROUTINE_NOTIFIES: &[&str] = &[
    "NAT_DETECTION_SOURCE_IP",
    "NAT_DETECTION_DESTINATION_IP",
    "SIGNATURE_HASH_ALGORITHMS",
    "REDIRECT_SUPPORTED",
    "CHILDLESS_IKEV2_SUPPORTED",
    "MULTIPLE_AUTH_SUPPORTED",
    "MOBIKE_SUPPORTED",
    "ADDITIONAL_IP4_ADDRESS",
    "ADDITIONAL_IP6_ADDRESS",
    "EAP_ONLY_AUTHENTICATION",
    "IKEV2_MESSAGE_ID_SYNC_SUPPORTED",
    "INITIAL_CONTACT",
    "INITIAL-CONTACT",
];

fn frames_short(frames: &[u64]) -> String {
    const MAX: usize = 12;
    let mut v: Vec<String> = frames.iter().take(MAX).map(u64::to_string).collect();
    if frames.len() > MAX {
        v.push(format!("… (+{})", frames.len() - MAX));
    }
    v.join(" ")
}

/// The terminal's width when standard output is a terminal.
pub fn terminal_width() -> Option<u16> {
    Table::new().width()
}

/// Renders the report as plain text for a terminal of `width` columns.
pub fn render(r: &Report, width: u16) -> String {
    render_styled(r, width, false)
}

/// As [`render`]; with `color`, the verdict is coloured (ANSI), for a
/// terminal that has not asked for `NO_COLOR`.
pub fn render_styled(r: &Report, width: u16, color: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "ikediag report for {}", r.file);
    let _ = writeln!(
        s,
        "{} frames over {:.3} s, {} IKE messages in {} IKE SA attempt(s)",
        r.capture.frames, r.capture.duration_s, r.stats.ike_messages, r.stats.ike_sas
    );
    if let Some(e) = &r.capture.read_error {
        let _ = writeln!(s, "warning: the capture could not be read to the end: {e}");
    }
    let _ = writeln!(s);
    let outcome = match r.verdict.outcome {
        Outcome::Success => "SUCCESS",
        Outcome::Failure => "FAILURE",
        Outcome::Inconclusive => "INCONCLUSIVE",
    };
    let painted = if color {
        let code = match r.verdict.outcome {
            Outcome::Success => "32",
            Outcome::Failure => "31",
            Outcome::Inconclusive => "33",
        };
        format!("\x1b[1;{code}m{outcome}\x1b[0m")
    } else {
        outcome.to_string()
    };
    match &r.verdict.failed_exchange {
        Some(x) => {
            let _ = writeln!(s, "Verdict: {painted} (failed exchange: {x})");
        }
        None => {
            let _ = writeln!(s, "Verdict: {painted}");
        }
    }
    let _ = writeln!(s, "  {}", r.verdict.summary);

    if !r.findings.is_empty() {
        let _ = writeln!(s, "\nFindings");
        let mut t = table(width);
        t.set_header(["severity", "code", "rule", "finding", "frames"]);
        for f in &r.findings {
            let conf = match f.confidence {
                crate::diag::Confidence::Certain => String::new(),
                c => format!(
                    " [{}]",
                    serde_json::to_value(c)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                ),
            };
            t.add_row([
                f.severity.as_str().to_string(),
                f.code.to_string(),
                f.name.to_string(),
                format!("{}{conf}", f.message),
                frames_short(&f.frames),
            ]);
        }
        let _ = writeln!(s, "{t}");
        let _ = writeln!(s, "Wireshark display filters:");
        for f in r.findings.iter().filter(|f| !f.filter.is_empty()) {
            let _ = writeln!(s, "  {} {}: {}", f.code, f.name, f.filter);
        }
    }

    for sa in &r.sas {
        let _ = writeln!(
            s,
            "\nIKE SA #{}: IKEv{} {} -> {} (SPIs {} / {}), captured at: {}",
            sa.index,
            sa.version,
            sa.initiator,
            sa.responder,
            sa.ispi,
            sa.rspi,
            serde_json::to_value(sa.capture_side)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        );
        let mut extra = Vec::new();
        if let Some(r) = sa.retry_of {
            extra.push(format!("retries SA #{r}"));
        }
        if let Some(f) = sa.natt_switch_frame {
            extra.push(format!("moved to UDP 4500 at frame {f}"));
        }
        if sa.nat.initiator_behind_nat {
            extra.push("initiator behind NAT".into());
        }
        if sa.nat.responder_behind_nat {
            extra.push("responder behind NAT".into());
        }
        if sa.nat.faked_by_initiator {
            extra.push("NAT detection faked by the initiator".into());
        }
        let oc = match sa.outcome {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Inconclusive => "inconclusive",
        };
        let _ = writeln!(
            s,
            "  outcome: {oc}{}{}",
            sa.failed_exchange
                .as_ref()
                .map(|x| format!(" at {x}"))
                .unwrap_or_default(),
            if extra.is_empty() {
                String::new()
            } else {
                format!("; {}", extra.join("; "))
            }
        );
        let mut t = table(width);
        t.set_header([
            "exchange",
            "msg id",
            "by",
            "request frames",
            "response frames",
            "retx",
            "RTT ms",
            "bytes req/resp",
            "notify",
        ]);
        for e in &sa.exchanges {
            t.add_row([
                e.exchange.clone(),
                e.message_id.to_string(),
                e.requester.to_string(),
                frames_short(&e.request_frames),
                if e.answered {
                    frames_short(&e.response_frames)
                } else {
                    "none".into()
                },
                if e.retransmissions > 0 {
                    format!(
                        "{} (at +{} s)",
                        e.retransmissions,
                        e.retransmission_times
                            .iter()
                            .map(|t| format!("{t:.1}"))
                            .collect::<Vec<_>>()
                            .join(", +")
                    )
                } else {
                    "0".into()
                },
                e.rtt_ms.map(|r| format!("{r:.1}")).unwrap_or_default(),
                format!(
                    "{}{} / {}",
                    e.request_length,
                    if e.request_ip_fragments > 1 {
                        format!(" ({} frags)", e.request_ip_fragments)
                    } else {
                        String::new()
                    },
                    e.response_length
                        .map(|l| l.to_string())
                        .unwrap_or_else(|| "-".into())
                ),
                e.notify
                    .iter()
                    .filter(|n| !ROUTINE_NOTIFIES.contains(&n.as_str()))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            ]);
        }
        let _ = writeln!(s, "{t}");
    }

    let with_fix: Vec<_> = r.findings.iter().filter(|f| !f.fix.is_empty()).collect();
    if !with_fix.is_empty() {
        let _ = writeln!(s, "\nHow to fix");
        let mut seen: Vec<(&str, &Vec<crate::diag::FixStep>)> = Vec::new();
        for f in with_fix {
            if seen.iter().any(|(c, _)| *c == f.code) {
                continue;
            }
            if let Some((same, _)) = seen.iter().find(|(_, fix)| **fix == f.fix) {
                let _ = writeln!(s, "\n  {} {}: as {same} above", f.code, f.name);
                seen.push((f.code, &f.fix));
                continue;
            }
            seen.push((f.code, &f.fix));
            let _ = writeln!(s, "\n  {} {}:", f.code, f.name);
            for step in &f.fix {
                let _ = writeln!(s, "    {}:", step.platform);
                for c in &step.commands {
                    for line in c.lines() {
                        let _ = writeln!(s, "      {line}");
                    }
                }
            }
        }
    }
    s
}
