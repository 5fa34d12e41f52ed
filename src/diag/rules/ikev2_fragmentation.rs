//! IKE011 `ikev2-fragmentation`: RFC 7383 fragmentation in use, and whether
//! each fragment set is complete.

use std::collections::BTreeMap;

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "IKE011",
    name: "ikev2-fragmentation",
    severity: Severity::Info,
    summary: "IKEv2 fragmentation (RFC 7383) is in use",
    doc: RuleDoc {
        detects: "Encrypted Fragment (SKF) payloads: which messages were split, into how many \
                  fragments, and whether every fragment of each set was seen.",
        why_it_fails: "It does not: this is the fix for IP fragment loss. A set with missing \
                       fragments that is not retransmitted complete is lost, though.",
        evidence: "The SKF fragments of each message, numbered n/total.",
        likely_causes: "Both peers sent IKEV2_FRAGMENTATION_SUPPORTED and a message exceeded the \
                        configured fragment size.",
        how_to_fix: "Nothing to fix; if fragments go missing, lower the fragment size \
                     (strongSwan charon.fragment_size).",
    },
    summary_ja: "IKEv2 フラグメンテーション (RFC 7383) を使用中",
    doc_ja: RuleDoc {
        detects: "Encrypted Fragment (SKF) ペイロード: どのメッセージが何個のフラグメントに分割されたか、各セットのフラグメントがすべて見えたか。",
        why_it_fails: "問題ではありません。IP フラグメントの消失に対する対策です。ただし欠けたフラグメントが揃って再送されなければ、そのメッセージは失われます。",
        evidence: "各メッセージの SKF フラグメント (番号/総数)。",
        likely_causes: "両ピアが IKEV2_FRAGMENTATION_SUPPORTED を送り、メッセージが設定されたフラグメントサイズを超えた。",
        how_to_fix: "対処は不要です。フラグメントが欠ける場合はフラグメントサイズを小さくしてください (strongSwan の charon.fragment_size)。",
    },
    check,
};

/// Total, fragment numbers seen, frames.
type FragSet = (u16, Vec<u16>, Vec<u64>);

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        for ex in &sa.exchanges {
            // (from_initiator, is_response) -> (total, numbers seen, frames)
            let mut sets: BTreeMap<(bool, bool), FragSet> = BTreeMap::new();
            for m in &ex.messages {
                if let Some((n, t)) = m.ike_fragment {
                    let s = sets.entry((m.from_initiator, m.is_response)).or_insert((
                        t,
                        Vec::new(),
                        Vec::new(),
                    ));
                    s.0 = s.0.max(t);
                    if !s.1.contains(&n) {
                        s.1.push(n);
                    }
                    s.2.push(m.frame);
                }
            }
            for ((_, resp), (total, seen, frames)) in sets {
                let missing: Vec<String> = (1..=total)
                    .filter(|n| !seen.contains(n))
                    .map(|n| n.to_string())
                    .collect();
                let msg = if missing.is_empty() {
                    format!(
                        "{} {} (message ID {}) was sent in {} IKEv2 fragments (RFC 7383), all of them seen",
                        ex.name,
                        if resp { "response" } else { "request" },
                        ex.message_id,
                        total
                    )
                } else {
                    format!(
                        "{} {} (message ID {}) was sent in {} IKEv2 fragments (RFC 7383); fragment(s) {} never seen",
                        ex.name,
                        if resp { "response" } else { "request" },
                        ex.message_id,
                        total,
                        missing.join(", ")
                    )
                };
                let sev = if missing.is_empty() {
                    Severity::Info
                } else {
                    Severity::Warning
                };
                let ja = if missing.is_empty() {
                    format!(
                        "{} {} (メッセージ ID {}) は {} 個の IKEv2 フラグメント (RFC 7383) で送られ、すべて確認できました",
                        ex.name,
                        if resp { "応答" } else { "要求" },
                        ex.message_id,
                        total
                    )
                } else {
                    format!(
                        "{} {} (メッセージ ID {}) は {} 個の IKEv2 フラグメント (RFC 7383) で送られましたが、フラグメント {} は一度も見えていません",
                        ex.name,
                        if resp { "応答" } else { "要求" },
                        ex.message_id,
                        total,
                        missing.join(", ")
                    )
                };
                e.emit(
                    Draft::new(sev, msg, frames)
                        .ja(ja)
                        .sa(sa)
                        .exchange(ex.name.clone()),
                );
            }
        }
    }
}
