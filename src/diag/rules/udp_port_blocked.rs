//! NET001 `udp-port-blocked`: IKE from one side never answered, no ICMP: a
//! silent drop on the path.

use super::{fixes, icmp_for, pending};
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity, plural, secs};
use crate::session::{Analysis, CaptureSide};

pub(crate) static RULE: Rule = Rule {
    code: "NET001",
    name: "udp-port-blocked",
    severity: Severity::Error,
    summary: "UDP 500 or 4500 silently dropped: the first IKE message is never answered and no ICMP comes back",
    doc: RuleDoc {
        detects: "The first message of an IKE SA (IKE_SA_INIT, or IKEv1 Main/Aggressive Mode message 1) \
                  is sent and retransmitted, nothing at all comes back from the responder, and no \
                  ICMP error refers to it.",
        why_it_fails: "Without an answer to the very first message no SA can start; the silence \
                       (no ICMP) means a firewall or NAT drops the packets without telling anyone.",
        evidence: "The transmissions of the first message, the port they used, and the absence of any \
                   packet from the responder.",
        likely_causes: "A firewall (cloud security group, ISP filter, corporate egress policy) drops \
                        UDP 500 or 4500; a CGNAT / MAP-E / DS-Lite access that cannot carry port 500; \
                        a responder that silently ignores the request (e.g. libreswan with \
                        ikev1-policy=drop for IKEv1); the wrong server address.",
        how_to_fix: "Open UDP 500 and 4500 (and ESP) towards the VPN server on every firewall in the \
                     path; behind CGNAT/MAP-E start IKE on UDP 4500 or use IKE over TCP; check the \
                     server's address and that its IKE daemon accepts this IKE version.",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        let responder_spoke = sa.messages().iter().any(|m| !m.from_initiator);
        if responder_spoke || !icmp_for(a, sa).is_empty() {
            continue;
        }
        for p in pending(sa) {
            let first = p.first();
            let opening = matches!(p.exchange.exchange_type, 34 | 2 | 4);
            // A single transmission proves little (the capture may just end);
            // and if the responder speaks IKE anywhere in the capture, the
            // port is not blocked.
            let responder_heard = a
                .sas
                .iter()
                .flat_map(|s| s.messages())
                .any(|m| m.src.addr == first.dst.addr);
            if !opening || !first.from_initiator || p.sends.len() < 2 || responder_heard {
                continue;
            }
            let port = first.dst.port;
            let mut msg = format!(
                "{} to {} on UDP {} got no answer and no ICMP error: {} over {}",
                p.what(sa),
                first.dst.addr,
                port,
                plural(p.sends.len(), "transmission"),
                secs(p.span_ns())
            );
            let mut confidence = Confidence::Likely;
            if sa.capture_side == CaptureSide::Responder {
                msg.push_str(
                    "; the capture shows it arriving at the responder, which stays silent (its IKE daemon ignores it)",
                );
                confidence = Confidence::Possible;
            } else {
                msg.push_str(": something on the path drops it silently");
            }
            if sa.version == 1 {
                msg.push_str(
                    " (or the responder ignores IKEv1, e.g. libreswan's default ikev1-policy=drop)",
                );
            }
            e.emit(
                Draft::new(Severity::Error, msg, p.all_frames.clone())
                    .sa(sa)
                    .exchange(p.exchange.name.clone())
                    .confidence(confidence)
                    .fix(fixes::open_ike_ports(
                        &first.dst.addr.to_string(),
                        &[500, 4500],
                    )),
            );
        }
    }
}
