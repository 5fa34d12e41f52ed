//! IKE013 `sa-rekeyed`: rekeys that worked.

use super::exch;
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "IKE013",
    name: "sa-rekeyed",
    severity: Severity::Info,
    summary: "SAs were rekeyed successfully",
    doc: RuleDoc {
        detects: "Answered CREATE_CHILD_SA exchanges (CHILD SA or IKE SA rekeys; which one is \
                  encrypted), and IKEv1 Quick Modes after the first one.",
        why_it_fails: "It does not: it shows that rekeying works on this path.",
        evidence: "The answered CREATE_CHILD_SA or later Quick Mode exchanges.",
        likely_causes: "SA lifetimes (rekey_time, lifetime, ikelifetime) running out, as configured.",
        how_to_fix: "Nothing to fix: rekeying works on this path.",
    },
    summary_ja: "SA のリキーが成功した",
    doc_ja: RuleDoc {
        detects: "応答のあった CREATE_CHILD_SA 交換 (CHILD SA か IKE SA のリキー。どちらかは暗号化されていて見えない)、および 2 回目以降の IKEv1 Quick Mode。",
        why_it_fails: "問題ではありません。この経路でリキーが動くことを示しています。",
        evidence: "応答のあった CREATE_CHILD_SA または 2 回目以降の Quick Mode の交換。",
        likely_causes: "設定どおりに SA のライフタイム (rekey_time、lifetime、ikelifetime) が切れた。",
        how_to_fix: "対処は不要です。この経路でリキーは動いています。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        let v2: Vec<_> = sa
            .exchanges_of(exch::CREATE_CHILD_SA)
            .filter(|x| x.is_answered())
            .collect();
        let qms: Vec<_> = sa
            .exchanges_of(exch::V1_QUICK)
            .filter(|x| x.is_answered())
            .skip(1)
            .collect();
        let all: Vec<_> = v2.iter().chain(qms.iter()).collect();
        if all.is_empty() {
            continue;
        }
        let frames: Vec<u64> = all
            .iter()
            .flat_map(|x| x.messages.iter().map(|m| m.frame))
            .collect();
        e.emit(
            Draft::new(
                Severity::Info,
                format!(
                    "{} rekey exchange(s) between {} and {} were answered ({}): rekeying works",
                    all.len(),
                    sa.initiator.addr,
                    sa.responder.addr,
                    all[0].name
                ),
                frames,
            )
            .ja(format!(
                "{} と {} の間で {} 回のリキー交換 ({}) に応答がありました: リキーは動いています",
                sa.initiator.addr,
                sa.responder.addr,
                all.len(),
                all[0].name
            ))
            .sa(sa),
        );
    }
    // An IKE SA rekey (IKEv2) shows up as a new SPI pair whose first
    // exchange is not IKE_SA_INIT, between peers that already had an SA.
    for sa in &a.sas {
        if sa.version != 2 || sa.exchange(exch::IKE_SA_INIT).is_some() {
            continue;
        }
        if a.sas
            .iter()
            .any(|o| o.index < sa.index && super::same_peers(o, sa) && super::authenticated(o))
        {
            e.emit(
                Draft::new(
                    Severity::Info,
                    format!(
                        "A new IKE SA (SPIs {}) between {} and {} continues without IKE_SA_INIT: the IKE SA was rekeyed",
                        crate::session::hex(&sa.ispi),
                        sa.initiator.addr,
                        sa.responder.addr
                    ),
                    vec![sa.first_frame()],
                )
                .ja(format!(
                    "{} と {} の間で新しい IKE SA (SPI {}) が IKE_SA_INIT なしで続いています: IKE SA がリキーされました",
                    sa.initiator.addr,
                    sa.responder.addr,
                    crate::session::hex(&sa.ispi)
                ))
                .sa(sa),
            );
        }
    }
}
