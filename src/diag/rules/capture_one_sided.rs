//! CAP002 `capture-one-sided`: only one direction of IKE was captured.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "CAP002",
    name: "capture-one-sided",
    severity: Severity::Info,
    summary: "Only one direction of IKE is in the capture",
    doc: RuleDoc {
        detects: "A capture in which every IKE message comes from the same side and nothing at all \
                  (IKE, ESP or ICMP) comes from the other.",
        why_it_fails: "It limits what can be said: either nothing came back (a real failure, see the \
                       other findings), or the capture point misses the return path.",
        evidence: "The IKE messages, all from one side.",
        likely_causes: "Nothing came back; asymmetric routing; a capture filter on one direction \
                        (`src host ...`); port mirroring of one direction only.",
        how_to_fix: "If the other findings do not explain the silence, capture on both peers at once \
                     to tell a lost request from a lost answer.",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    if a.sas.is_empty() {
        return;
    }
    let msgs: Vec<_> = a.sas.iter().flat_map(|s| s.messages()).collect();
    let Some(first) = msgs.first() else { return };
    let one = first.src.addr;
    if msgs.iter().any(|m| m.src.addr != one) {
        return;
    }
    let from_other =
        a.esp_flows.iter().any(|f| f.dst == one) || a.icmp_errors.iter().any(|i| i.dst == one);
    if from_other {
        return;
    }
    e.emit(Draft::new(
        Severity::Info,
        format!(
            "All {} IKE messages in the capture come from {one}; nothing at all came back from {}",
            msgs.len(),
            first.dst.addr
        ),
        msgs.iter().map(|m| m.frame).take(20).collect(),
    ));
}
