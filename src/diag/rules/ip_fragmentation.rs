//! NET008 `ip-fragmentation`: IKE messages were IP-fragmented on this path.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, bytes};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "NET008",
    name: "ip-fragmentation",
    severity: Severity::Info,
    summary: "IKE messages were IP-fragmented",
    doc: RuleDoc {
        detects: "IKE messages that were carried in several IP fragments (IPv4, or IPv6 Fragment headers).",
        why_it_fails: "It does not by itself; but every path that drops fragments will lose these \
                       messages, so the tunnel works on one network and not on another.",
        evidence: "Each fragmented message with its size and the number of fragments.",
        likely_causes: "Certificates in IKE_AUTH (or IKEv1 Main Mode 5/6) larger than the MTU, without \
                        IKEv2 fragmentation.",
        how_to_fix: "Nothing is broken here; to be robust on fragment-dropping paths, enable IKEv2 \
                     fragmentation (RFC 7383) on both peers.",
    },
    summary_ja: "IKE メッセージが IP フラグメント化された",
    doc_ja: RuleDoc {
        detects: "複数の IP フラグメント (IPv4、または IPv6 の Fragment ヘッダ) で運ばれた IKE メッセージ。",
        why_it_fails: "それ自体は問題ではありません。ただしフラグメントを破棄する経路ではこれらのメッセージが失われるため、ある回線ではつながり別の回線ではつながらない、ということが起きます。",
        evidence: "フラグメント化された各メッセージのサイズとフラグメント数。",
        likely_causes: "IKEv2 フラグメンテーションなしで、IKE_AUTH (または IKEv1 の Main Mode 5/6) の証明書が MTU を超えた。",
        how_to_fix: "壊れているものはありません。フラグメントを破棄する経路でも動くよう、両ピアで IKEv2 フラグメンテーション (RFC 7383) を有効にしてください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        let frag: Vec<_> = sa
            .messages()
            .into_iter()
            .filter(|m| m.ip_fragments > 1)
            .collect();
        if frag.is_empty() {
            continue;
        }
        let list: Vec<String> = frag
            .iter()
            .filter(|m| !m.retransmission)
            .map(|m| {
                format!(
                    "{} {} of {} bytes in {} fragments (frame {})",
                    super::exchange_of(sa, m.frame)
                        .map(|x| x.name.as_str())
                        .unwrap_or("IKE"),
                    if m.is_response { "response" } else { "request" },
                    bytes(u64::from(m.length)),
                    m.ip_fragments,
                    m.frame
                )
            })
            .collect();
        let list_ja: Vec<String> = frag
            .iter()
            .filter(|m| !m.retransmission)
            .map(|m| {
                format!(
                    "{} {} ({} バイト、フラグメント {} 個、フレーム {})",
                    super::exchange_of(sa, m.frame)
                        .map(|x| x.name.as_str())
                        .unwrap_or("IKE"),
                    if m.is_response { "応答" } else { "要求" },
                    bytes(u64::from(m.length)),
                    m.ip_fragments,
                    m.frame
                )
            })
            .collect();
        let ja = format!(
            "{} と {} の間の IKE メッセージが IP フラグメント化されています: {}",
            sa.initiator.addr,
            sa.responder.addr,
            list_ja.join("、")
        );
        e.emit(
            Draft::new(
                Severity::Info,
                format!(
                    "IKE messages between {} and {} were IP-fragmented: {}",
                    sa.initiator.addr,
                    sa.responder.addr,
                    list.join("; ")
                ),
                super::frames_of(frag.iter().copied()),
            )
            .ja(ja)
            .sa(sa),
        );
    }
}
