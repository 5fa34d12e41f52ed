//! NAT003 `nat-detection-faked`: a peer fakes NAT detection to force UDP
//! encapsulation.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "NAT003",
    name: "nat-detection-faked",
    severity: Severity::Info,
    summary: "The initiator fakes NAT detection to force UDP encapsulation",
    doc: RuleDoc {
        detects: "The initiator's NAT_DETECTION_SOURCE_IP matches none of its addresses while the \
                  responder saw the initiator's real address and port: there is no NAT, but the \
                  initiator pretends there is (strongSwan `encap = yes`, libreswan \
                  `encapsulation=yes`).",
        why_it_fails: "It does not: it forces ESP into UDP 4500, usually on purpose to cross \
                       firewalls that block ESP.",
        evidence: "The IKE_SA_INIT NAT detection payloads and the addresses seen.",
        likely_causes: "A configuration that forces UDP encapsulation.",
        how_to_fix: "Nothing to fix. If ESP (protocol 50) is allowed end to end, encapsulation can be \
                     turned off to save 8 bytes per packet.",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in a.sas.iter().filter(|s| s.nat.faked_by_initiator) {
        e.emit(
            Draft::new(
                Severity::Info,
                format!(
                    "{} sent a NAT_DETECTION_SOURCE_IP that matches none of its addresses, while the responder saw its real \
                     address: it fakes NAT detection to force UDP encapsulation (strongSwan encap=yes)",
                    sa.initiator.addr
                ),
                sa.nat.frames.clone(),
            )
            .sa(sa),
        );
    }
}
