//! IKE008 `rekey-failed`: CREATE_CHILD_SA / Quick Mode rekey unanswered.

use super::{authenticated, exch, pending};
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, plural, secs};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "IKE008",
    name: "rekey-failed",
    severity: Severity::Error,
    summary: "A rekey (CREATE_CHILD_SA / Quick Mode) went unanswered: the tunnel drops at rekey time",
    doc: RuleDoc {
        detects: "A CREATE_CHILD_SA request, or a Quick Mode after the first one, on an established \
                  SA, retransmitted and never answered.",
        why_it_fails: "When the SA's lifetime runs out without a new one, traffic stops; the sender \
                       usually deletes the IKE SA after the last retransmission.",
        evidence: "The unanswered rekey requests and their sizes.",
        likely_causes: "The path broke since the tunnel came up; the rekey request is larger than \
                        the path MTU (a KE payload for PFS, many traffic selectors) and its \
                        fragments are dropped; the peer disagrees on PFS for rekeys.",
        how_to_fix: "Check the path as for DPD; if the rekey requests are large, enable IKEv2 \
                     fragmentation and clamp the MTU; make PFS settings equal on both sides.",
    },
    summary_ja: "リキー (CREATE_CHILD_SA / Quick Mode) に応答がない: リキーの時刻にトンネルが切れる",
    doc_ja: RuleDoc {
        detects: "確立済みの SA での CREATE_CHILD_SA 要求、または 2 回目以降の Quick Mode が、再送されても応答がない。",
        why_it_fails: "新しい SA ができないまま SA のライフタイムが切れると通信が止まります。送信側は最後の再送の後、通常 IKE SA を削除します。",
        evidence: "応答のないリキー要求とそのサイズ。",
        likely_causes: "トンネル確立後に経路が切れた、リキー要求が経路 MTU より大きく (PFS の KE ペイロード、多数のトラフィックセレクタ) フラグメントが破棄される、リキー時の PFS の設定が相手と異なる。",
        how_to_fix: "DPD と同様に経路を確認してください。リキー要求が大きい場合は IKEv2 フラグメンテーションを有効にして MTU をクランプし、PFS の設定を両側で揃えてください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        if !authenticated(sa) {
            continue;
        }
        let first_qm_done = sa
            .exchanges_of(exch::V1_QUICK)
            .any(|q| q.first_response().is_some());
        for p in pending(sa) {
            let rekey = p.exchange.exchange_type == exch::CREATE_CHILD_SA
                || (p.exchange.exchange_type == exch::V1_QUICK && first_qm_done);
            if !rekey || p.sends.len() < 2 {
                continue;
            }
            let first = p.first();
            e.emit(
                Draft::new(
                    Severity::Error,
                    format!(
                        "The rekey ({} from {} at frame {}, {} bytes) was never answered: {} over {}; the tunnel drops when the old SA expires",
                        p.exchange.name,
                        first.src.addr,
                        first.frame,
                        first.length,
                        plural(p.sends.len(), "transmission"),
                        secs(p.span_ns())
                    ),
                    p.all_frames.clone(),
                )
                .ja(format!(
                    "リキー ({}、{} からフレーム {}、{} バイト) に応答がありません: {} にわたり {} 回送信。古い SA が期限切れになるとトンネルが切れます",
                    p.exchange.name,
                    first.src.addr,
                    first.frame,
                    first.length,
                    secs(p.span_ns()),
                    p.sends.len()
                ))
                .sa(sa)
                .exchange(p.exchange.name.clone())
                .fix(super::fixes::keep_alive()),
            );
        }
    }
}
