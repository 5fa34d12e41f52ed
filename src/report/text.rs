//! The human report: verdict first, then findings (most severe first) with
//! their Wireshark frames and display filters, then each IKE SA's exchanges,
//! then the fixes.
//!
//! Contract: a pure function of the [`Report`] and a width; the same input
//! gives the same text (snapshot-tested).

use std::fmt::Write;

use comfy_table::{ContentArrangement, Table, presets};

use super::{Lang, Report};
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

/// A three-column side-by-side table; rows where the sides disagree are
/// marked with `≠` before their label.
fn side_table(width: u16, header: [&str; 3], rows: &[super::SideRow]) -> Table {
    let mut t = table(width);
    t.set_header(header);
    for r in rows {
        let label = if r.mismatch {
            format!("≠ {}", r.label)
        } else {
            r.label.clone()
        };
        t.add_row([label, r.left.clone(), r.right.clone()]);
    }
    t
}

/// The terminal's width when standard output is a terminal.
pub fn terminal_width() -> Option<u16> {
    Table::new().width()
}

/// Renders the report as plain text for a terminal of `width` columns.
pub fn render(r: &Report, width: u16) -> String {
    render_styled(r, width, false, Lang::En)
}

/// As [`render`]; with `color`, the verdict is coloured (ANSI), for a
/// terminal that has not asked for `NO_COLOR`; in `lang`.
pub fn render_styled(r: &Report, width: u16, color: bool, lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    let l = |en: &'static str, j: &'static str| if ja { j } else { en };
    let mut s = String::new();
    if ja {
        let _ = writeln!(s, "ikediag 診断レポート: {}", r.file);
        let _ = writeln!(
            s,
            "{} フレーム ({:.3} 秒)、IKE メッセージ {} 個、IKE SA の試行 {} 回",
            r.capture.frames, r.capture.duration_s, r.stats.ike_messages, r.stats.ike_sas
        );
    } else {
        let _ = writeln!(s, "ikediag report for {}", r.file);
        let _ = writeln!(
            s,
            "{} frames over {:.3} s, {} IKE messages in {} IKE SA attempt(s)",
            r.capture.frames, r.capture.duration_s, r.stats.ike_messages, r.stats.ike_sas
        );
    }
    if let Some(k) = super::keys_line(r, ja) {
        let _ = writeln!(s, "{k}");
    }
    if let Some(e) = &r.capture.read_error {
        let _ = writeln!(
            s,
            "{}: {e}",
            l(
                "warning: the capture could not be read to the end",
                "警告: キャプチャを最後まで読めませんでした"
            )
        );
    }
    let _ = writeln!(s);
    let outcome = match r.verdict.outcome {
        Outcome::Success => l("SUCCESS", "成功"),
        Outcome::Failure => l("FAILURE", "失敗"),
        Outcome::Inconclusive => l("INCONCLUSIVE", "判定不能"),
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
            let _ = writeln!(
                s,
                "{}: {painted} ({}: {x})",
                l("Verdict", "判定"),
                l("failed exchange", "失敗した交換")
            );
        }
        None => {
            let _ = writeln!(s, "{}: {painted}", l("Verdict", "判定"));
        }
    }
    let _ = writeln!(
        s,
        "  {}",
        if ja {
            &r.verdict.summary_ja
        } else {
            &r.verdict.summary
        }
    );

    if !r.findings.is_empty() {
        let _ = writeln!(s, "\n{}", l("Findings", "検出結果"));
        let mut t = table(width);
        if ja {
            t.set_header(["重大度", "コード", "ルール", "内容", "フレーム"]);
        } else {
            t.set_header(["severity", "code", "rule", "finding", "frames"]);
        }
        for f in &r.findings {
            let conf = match f.confidence {
                crate::diag::Confidence::Certain => "",
                crate::diag::Confidence::Likely => l(" [likely]", " [推定: 確度高]"),
                crate::diag::Confidence::Possible => l(" [possible]", " [推定: 確度低]"),
            };
            let sev = match (ja, f.severity) {
                (false, x) => x.as_str(),
                (true, crate::diag::Severity::Error) => "エラー",
                (true, crate::diag::Severity::Warning) => "警告",
                (true, crate::diag::Severity::Info) => "情報",
            };
            t.add_row([
                sev.to_string(),
                f.code.to_string(),
                f.name.to_string(),
                format!("{}{conf}", if ja { &f.message_ja } else { &f.message }),
                frames_short(&f.frames),
            ]);
        }
        let _ = writeln!(s, "{t}");
        let _ = writeln!(
            s,
            "{}",
            l("Wireshark display filters:", "Wireshark の表示フィルタ:")
        );
        for f in r.findings.iter().filter(|f| !f.filter.is_empty()) {
            let _ = writeln!(s, "  {} {}: {}", f.code, f.name, f.filter);
        }
    }

    for sa in &r.sas {
        let _ = writeln!(
            s,
            "\nIKE SA #{}: IKEv{} {} -> {} (SPI {} / {}), {}: {}",
            sa.index,
            sa.version,
            sa.initiator,
            sa.responder,
            sa.ispi,
            sa.rspi,
            l("captured at", "キャプチャ地点"),
            super::wire_name(sa.capture_side)
        );
        let mut extra = Vec::new();
        if let Some(r) = sa.retry_of {
            extra.push(if ja {
                format!("SA #{r} の再試行")
            } else {
                format!("retries SA #{r}")
            });
        }
        if let Some(f) = sa.natt_switch_frame {
            extra.push(if ja {
                format!("フレーム {f} で UDP 4500 に移行")
            } else {
                format!("moved to UDP 4500 at frame {f}")
            });
        }
        if sa.nat.initiator_behind_nat {
            extra.push(l("initiator behind NAT", "イニシエータは NAT の背後").into());
        }
        if sa.nat.responder_behind_nat {
            extra.push(l("responder behind NAT", "レスポンダは NAT の背後").into());
        }
        if sa.nat.faked_by_initiator {
            extra.push(
                l(
                    "NAT detection faked by the initiator",
                    "イニシエータが NAT 検出を偽装",
                )
                .into(),
            );
        }
        let oc = match sa.outcome {
            Outcome::Success => l("success", "成功"),
            Outcome::Failure => l("failure", "失敗"),
            Outcome::Inconclusive => l("inconclusive", "判定不能"),
        };
        let _ = writeln!(
            s,
            "  {}: {oc}{}{}",
            l("outcome", "結果"),
            sa.failed_exchange
                .as_ref()
                .map(|x| if ja {
                    format!(" ({x} で失敗)")
                } else {
                    format!(" at {x}")
                })
                .unwrap_or_default(),
            if extra.is_empty() {
                String::new()
            } else {
                format!("; {}", extra.join("; "))
            }
        );
        let mut t = table(width);
        if ja {
            t.set_header([
                "交換",
                "msg id",
                "要求元",
                "要求フレーム",
                "応答フレーム",
                "再送",
                "RTT ms",
                "バイト 要求/応答",
                "notify",
            ]);
        } else {
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
        }
        for e in &sa.exchanges {
            t.add_row([
                e.exchange.clone(),
                e.message_id.to_string(),
                match (ja, e.requester) {
                    (true, "initiator") => "イニシエータ".to_string(),
                    (true, _) => "レスポンダ".to_string(),
                    (false, x) => x.to_string(),
                },
                frames_short(&e.request_frames),
                if e.answered {
                    frames_short(&e.response_frames)
                } else {
                    l("none", "なし").into()
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
        if let Some(p) = &sa.peers {
            let _ = writeln!(
                s,
                "  {}",
                l("Peers (what their messages say)", "ピア (メッセージの内容)")
            );
            let _ = writeln!(
                s,
                "{}",
                side_table(
                    width,
                    [
                        "",
                        l("initiator", "イニシエータ"),
                        l("responder", "レスポンダ")
                    ],
                    &super::peer_rows(p, ja)
                )
            );
        }
        for c in &sa.child_sas {
            let by = |f: Option<u64>| match f {
                Some(f) if ja => format!("フレーム {f}"),
                Some(f) => format!("frame {f}"),
                None => l("none", "なし").to_string(),
            };
            let _ = writeln!(
                s,
                "  CHILD SA ({}): {} ({}) / {} ({})",
                c.exchange,
                l("proposed", "提案"),
                by(Some(c.request_frame)),
                l("chosen", "選択"),
                by(c.response_frame)
            );
            let _ = writeln!(
                s,
                "{}",
                side_table(
                    width,
                    ["", l("proposed", "提案"), l("chosen", "選択")],
                    &super::child_rows(c, ja)
                )
            );
        }
    }

    let groups = super::fix_groups(r);
    if !groups.is_empty() {
        let _ = writeln!(s, "\n{}", l("How to fix", "対処方法"));
        for g in groups {
            if let Some(same) = g.same_as {
                if ja {
                    let _ = writeln!(s, "\n  {} {}: {same} と同じ", g.code, g.name);
                } else {
                    let _ = writeln!(s, "\n  {} {}: as {same} above", g.code, g.name);
                }
                continue;
            }
            let _ = writeln!(s, "\n  {} {}:", g.code, g.name);
            for step in g.steps {
                let _ = writeln!(s, "    {}:", super::platform_label(&step.platform, ja));
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
