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
            .sa(sa)
            .fix(super::fixes::ikev2_fragmentation(limit)),
        );
    }
}
