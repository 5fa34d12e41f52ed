//! IKE009 `peer-deleted-sa`: the SA was deleted, or a peer announced
//! INITIAL_CONTACT after an SA was up (it rebooted).

use super::{authenticated, exch};
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "IKE009",
    name: "peer-deleted-sa",
    severity: Severity::Info,
    summary: "A peer deleted the SA (or rebooted)",
    doc: RuleDoc {
        detects: "Delete payloads seen in clear (IKEv1), the final INFORMATIONAL exchange that closes \
                  an IKEv2 SA (its Delete payload is encrypted), and INITIAL_CONTACT seen after an \
                  SA between the same peers was already up.",
        why_it_fails: "A delete ends the tunnel on purpose; one right after setup, or from the side \
                       that did not initiate, points to a policy or lifetime problem on that side.",
        evidence: "The Delete / closing INFORMATIONAL, and INITIAL_CONTACT.",
        likely_causes: "A user disconnecting; an idle or lifetime timeout; the peer restarting its \
                        daemon; a failed CHILD SA on an otherwise good IKE SA.",
        how_to_fix: "Nothing if intended; otherwise check the deleting side's log for the reason.",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        // IKEv1 Delete in clear.
        for m in sa.exchanges.iter().flat_map(|x| &x.messages) {
            if m.has_payload("D") && !m.encrypted {
                e.emit(
                    Draft::new(
                        Severity::Info,
                        format!(
                            "{} deleted an SA (Delete payload in frame {})",
                            m.src.addr, m.frame
                        ),
                        vec![m.frame],
                    )
                    .sa(sa),
                );
            }
        }
        if !authenticated(sa) {
            continue;
        }
        // The last exchange of an IKEv2 SA is an INFORMATIONAL that is not a
        // repeated liveness check and nothing follows: a Delete.
        if sa.version == 2
            && let Some(last) = sa
                .exchanges
                .iter()
                .max_by_key(|x| x.messages.first().map(|m| m.frame))
            && last.exchange_type == exch::INFORMATIONAL
            && last.is_answered()
            && let Some(req) = last.first_request()
        {
            let capture_end = a.stats.last_ts_ns.unwrap_or(req.ts_ns);
            if capture_end - req.ts_ns > 0 {
                e.emit(
                    Draft::new(
                        Severity::Info,
                        format!(
                            "{} closed the IKE SA with an INFORMATIONAL exchange (frame {}, presumably a Delete: it is encrypted) and nothing followed",
                            req.src.addr, req.frame
                        ),
                        last.messages.iter().map(|m| m.frame).collect(),
                    )
                    .sa(sa)
                    .confidence(Confidence::Possible),
                );
            }
        }
    }
    // INITIAL_CONTACT after an earlier SA between the same peers was up.
    for sa in &a.sas {
        let ic: Vec<_> = sa
            .exchanges
            .iter()
            .flat_map(|x| &x.messages)
            .filter(|m| m.has_notify(16384) || m.has_notify(24578))
            .collect();
        if let Some(m) = ic.first()
            && a.sas
                .iter()
                .any(|o| o.index < sa.index && super::same_peers(o, sa) && authenticated(o))
        {
            e.emit(
                Draft::new(
                    Severity::Warning,
                    format!("{} sent INITIAL_CONTACT (frame {}) while an earlier SA with {} was up: it restarted and lost its SAs", m.src.addr, m.frame, m.dst.addr),
                    vec![m.frame],
                )
                .sa(sa),
            );
        }
    }
}
