//! NET013 `oversized-ike-message`: an IKE message larger than the known
//! path MTU, sent without RFC 7383 fragmentation.

use super::fragmentation_offered;
use crate::diag::pmtu::path_mtu;
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, bytes};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "NET013",
    name: "oversized-ike-message",
    severity: Severity::Warning,
    summary: "IKE messages larger than the path MTU, without IKEv2 fragmentation",
    doc: RuleDoc {
        detects: "An IKE message whose IP packet is larger than the path MTU known from the capture \
                  (ICMP or a ping sweep), sent as one UDP datagram (IP-fragmented, or dropped with DF) \
                  instead of RFC 7383 fragments.",
        why_it_fails: "Such a message only crosses the path as IP fragments; wherever fragments are \
                       dropped (and on the next network the user tries) the exchange fails.",
        evidence: "The oversized messages and the path MTU evidence.",
        likely_causes: "Certificates or many traffic selectors in IKE_AUTH / CREATE_CHILD_SA, with \
                        IKEv2 fragmentation off or unsupported on one peer.",
        how_to_fix: "Enable IKEv2 fragmentation on both peers with a fragment size at or below the \
                     path MTU (strongSwan charon.fragment_size).",
    },
    summary_ja: "経路 MTU より大きい IKE メッセージを IKEv2 フラグメンテーションなしで送っている",
    doc_ja: RuleDoc {
        detects: "キャプチャから分かる経路 MTU (ICMP や ping スイープ) より IP パケットが大きい IKE メッセージで、RFC 7383 のフラグメントではなく 1 つの UDP データグラムとして (IP フラグメント化されて、または DF 付きで破棄されて) 送られたもの。",
        why_it_fails: "このようなメッセージは IP フラグメントとしてしか経路を通れません。フラグメントが破棄される場所では (そして利用者が次に試す回線でも) 交換が失敗します。",
        evidence: "大きすぎるメッセージと、経路 MTU の根拠。",
        likely_causes: "IKE_AUTH / CREATE_CHILD_SA の証明書や多数のトラフィックセレクタ、片方のピアで IKEv2 フラグメンテーションが無効か非対応。",
        how_to_fix: "経路 MTU 以下のフラグメントサイズで両ピアの IKEv2 フラグメンテーションを有効にしてください (strongSwan の charon.fragment_size)。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let Some(p) = path_mtu(a) else { return };
    let Some(limit) = p.value.or(p.upper) else {
        return;
    };
    for sa in &a.sas {
        let (fi, fr) = fragmentation_offered(sa);
        let big: Vec<_> = sa
            .messages()
            .into_iter()
            .filter(|m| !m.retransmission && m.ike_fragment.is_none())
            .filter(|m| m.ip_payload_len + if m.src.addr.is_ipv6() { 40 } else { 20 } > limit)
            .collect();
        let Some(first) = big.first() else { continue };
        let size = first.ip_payload_len + if first.src.addr.is_ipv6() { 40 } else { 20 };
        let support = match (fi, fr) {
            (true, true) => "both peers offered IKEv2 fragmentation, yet it was not used for it",
            (true, false) => "the responder did not offer IKEv2 fragmentation",
            (false, true) => "the initiator did not offer IKEv2 fragmentation",
            (false, false) => "neither peer offered IKEv2 fragmentation",
        };
        let support_ja = match (fi, fr) {
            (true, true) => {
                "両ピアが IKEv2 フラグメンテーションを提示しているのに、このメッセージには使われていません"
            }
            (true, false) => "レスポンダが IKEv2 フラグメンテーションを提示していません",
            (false, true) => "イニシエータが IKEv2 フラグメンテーションを提示していません",
            (false, false) => "どちらのピアも IKEv2 フラグメンテーションを提示していません",
        };
        let ja = format!(
            "{} 個の IKE メッセージが経路 MTU {limit} バイトより大きく、最初のものは {} からの {} バイトのパケットです (フレーム {})。{support_ja}",
            big.len(),
            first.src.addr,
            bytes(u64::from(size)),
            first.frame
        );
        e.emit(
            Draft::new(
                Severity::Warning,
                format!(
                    "{} IKE message(s) are larger than the {limit}-byte path MTU, the first a {}-byte packet from {} (frame {}); {support}",
                    big.len(),
                    bytes(u64::from(size)),
                    first.src.addr,
                    first.frame
                ),
                big.iter().map(|m| m.frame).chain(p.frames.iter().copied()).collect(),
            )
            .ja(ja)
            .sa(sa)
            .fix(super::fixes::ikev2_fragmentation(limit)),
        );
    }
}
