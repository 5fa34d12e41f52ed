//! IKE009 `peer-deleted-sa`: the SA was deleted, or a peer announced
//! INITIAL_CONTACT after an SA was up (it rebooted).

use super::{authenticated, exch};
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "IKE009",
    name: "peer-deleted-sa",
    severity: Severity::Info,
    summary: "A peer deleted the SA (or rebooted)",
    doc: RuleDoc {
        detects: "Delete payloads seen in clear (IKEv1), the final INFORMATIONAL exchange that closes \
                  an IKEv2 SA (its Delete payload is encrypted), and INITIAL_CONTACT seen after an \
                  SA between the same peers was already up.",
        why_it_fails: "A delete ends the tunnel on purpose; one right after setup, or from the side \
                       that did not initiate, points to a policy or lifetime problem on that side.",
        evidence: "The Delete / closing INFORMATIONAL, and INITIAL_CONTACT.",
        likely_causes: "A user disconnecting; an idle or lifetime timeout; the peer restarting its \
                        daemon; a failed CHILD SA on an otherwise good IKE SA.",
        how_to_fix: "Nothing if intended; otherwise check the deleting side's log for the reason.",
    },
    summary_ja: "ピアが SA を削除した (または再起動した)",
    doc_ja: RuleDoc {
        detects: "平文で見える Delete ペイロード (IKEv1)、IKEv2 の SA を閉じる最後の INFORMATIONAL 交換 (Delete ペイロードは暗号化されている)、同じピア間の SA が確立済みなのに送られた INITIAL_CONTACT。",
        why_it_fails: "削除は意図的にトンネルを終わらせるものです。確立直後の削除や、開始していない側からの削除は、その側のポリシーやライフタイムの問題を示します。",
        evidence: "Delete / 終了の INFORMATIONAL と INITIAL_CONTACT。",
        likely_causes: "利用者による切断、アイドルやライフタイムのタイムアウト、相手のデーモンの再起動、IKE SA は正常だが CHILD SA が失敗した。",
        how_to_fix: "意図したものなら対処は不要です。そうでなければ削除した側のログで理由を確認してください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        // A Delete in clear (IKEv1), or decrypted with the user's keys.
        for m in sa.exchanges.iter().flat_map(|x| &x.messages) {
            if m.has_payload("D") && (!m.encrypted || m.decrypted) {
                e.emit(
                    Draft::new(
                        Severity::Info,
                        format!(
                            "{} deleted an SA (Delete payload in frame {})",
                            m.src.addr, m.frame
                        ),
                        vec![m.frame],
                    )
                    .ja(format!(
                        "{} が SA を削除しました (フレーム {} の Delete ペイロード)",
                        m.src.addr, m.frame
                    ))
                    .sa(sa),
                );
            }
        }
        if !authenticated(sa) {
            continue;
        }
        // The last exchange of an IKEv2 SA is an INFORMATIONAL that is not a
        // repeated liveness check and nothing follows: a Delete.
        if sa.version == 2
            && let Some(last) = sa
                .exchanges
                .iter()
                .max_by_key(|x| x.messages.first().map(|m| m.frame))
            && last.exchange_type == exch::INFORMATIONAL
            && last.is_answered()
            && let Some(req) = last.first_request()
            && !req.decrypted
        {
            let capture_end = a.stats.last_ts_ns.unwrap_or(req.ts_ns);
            // The capture went on after it (or its time is unknown there).
            if capture_end - req.ts_ns > 0
                || super::time_unknown_between(a, req.frame, a.stats.frames)
            {
                e.emit(
                    Draft::new(
                        Severity::Info,
                        format!(
                            "{} closed the IKE SA with an INFORMATIONAL exchange (frame {}, presumably a Delete: it is encrypted) and nothing followed",
                            req.src.addr, req.frame
                        ),
                        last.messages.iter().map(|m| m.frame).collect(),
                    )
                    .ja(format!(
                        "{} が INFORMATIONAL 交換 (フレーム {}、暗号化されているがおそらく Delete) で IKE SA を閉じ、その後は何も続いていません",
                        req.src.addr, req.frame
                    ))
                    .sa(sa)
                    .confidence(Confidence::Possible),
                );
            }
        }
    }
    // INITIAL_CONTACT after an earlier SA between the same peers was up.
    for sa in &a.sas {
        let ic: Vec<_> = sa
            .exchanges
            .iter()
            .flat_map(|x| &x.messages)
            .filter(|m| m.has_notify(16384) || m.has_notify(24578))
            .collect();
        if let Some(m) = ic.first()
            && a.sas
                .iter()
                .any(|o| o.index < sa.index && super::same_peers(o, sa) && authenticated(o))
        {
            e.emit(
                Draft::new(
                    Severity::Warning,
                    format!("{} sent INITIAL_CONTACT (frame {}) while an earlier SA with {} was up: it restarted and lost its SAs", m.src.addr, m.frame, m.dst.addr),
                    vec![m.frame],
                )
                .ja(format!(
                    "{} は {} との以前の SA が確立していたのに INITIAL_CONTACT を送りました (フレーム {}): 再起動して SA を失っています",
                    m.src.addr, m.dst.addr, m.frame
                ))
                .sa(sa),
            );
        }
    }
}
