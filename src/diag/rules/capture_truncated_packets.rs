//! CAP003 `capture-truncated-packets`: the snaplen cut IKE messages.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, plural};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "CAP003",
    name: "capture-truncated-packets",
    severity: Severity::Warning,
    summary: "The capture's snaplen cut IKE messages",
    doc: RuleDoc {
        detects: "IKE frames whose captured length is shorter than their length on the wire.",
        why_it_fails: "It limits what can be said: payloads (notifies, certificates) and RFC 7383 \
                       fragments beyond the cut are not visible, and IP fragments cut short cannot \
                       be reassembled.",
        evidence: "The frames whose captured length is shorter than their length on the wire.",
        likely_causes: "A capture taken with a small snaplen (`tcpdump -s 128`, a router's packet \
                        capture with a default slice size).",
        how_to_fix: "Capture whole packets: `tcpdump -s 0` (the default in current tcpdump), or raise \
                     the router's capture slice size.",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let frames = &a.truncated_ike_frames;
    if frames.is_empty() {
        return;
    }
    e.emit(Draft::new(
        Severity::Warning,
        format!(
            "{} carrying IKE were cut by the capture's snaplen (first: frame {}); what lies beyond the cut is not analysed",
            plural(frames.len(), "frame"),
            frames[0]
        ),
        frames.iter().copied().take(50).collect(),
    ));
}
