//! IKE007 `dpd-timeout`: liveness checks unanswered: peer dead or path lost.

use super::{authenticated, frame_list, icmp_for, pending};
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, plural, secs};
use crate::session::Analysis;
use crate::wire::icmp::ErrorKind;

pub(crate) static RULE: Rule = Rule {
    code: "IKE007",
    name: "dpd-timeout",
    severity: Severity::Error,
    summary: "Dead peer detection timed out: the peer or the path is gone",
    doc: RuleDoc {
        detects: "Liveness checks of an established SA (IKEv2 empty INFORMATIONAL requests, IKEv1 \
                  R-U-THERE) retransmitted and never answered.",
        why_it_fails: "After the last retransmission the sender declares the peer dead and deletes \
                       the SAs: the tunnel drops.",
        evidence: "The unanswered liveness checks, and ICMP errors that came back instead.",
        likely_causes: "The peer rebooted or its IKE daemon stopped (then ICMP port unreachable often \
                        comes back); the path broke (Wi-Fi/mobile handover, NAT mapping expired \
                        because keepalives were off); a firewall state timeout for UDP 4500.",
        how_to_fix: "Check the peer is up; keep NAT mappings alive (NAT-T keepalives, strongSwan \
                     charon.keep_alive = 20s); raise UDP timeouts on firewalls; use MOBIKE for roaming.",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        if sa.version == 2 && !authenticated(sa) {
            continue;
        }
        for p in pending(sa) {
            if !p.exchange.is_dpd(sa.version) || p.sends.len() < 2 {
                continue;
            }
            let icmp: Vec<_> = icmp_for(a, sa)
                .into_iter()
                .filter(|i| i.ts_ns >= p.first().ts_ns)
                .collect();
            let port_unreach: Vec<u64> = icmp
                .iter()
                .filter(|i| i.kind == ErrorKind::PortUnreachable)
                .map(|i| i.frame)
                .collect();
            let first = p.first();
            let mut msg = format!(
                "Dead peer detection from {} to {} went unanswered: {} over {}, after which the sender gives up and deletes the tunnel",
                first.src.addr,
                first.dst.addr,
                plural(p.sends.len(), "liveness check"),
                secs(p.span_ns())
            );
            if !port_unreach.is_empty() {
                msg.push_str(&format!(
                    "; {} answered with ICMP port unreachable ({}): the host is up but its IKE daemon is not",
                    first.dst.addr,
                    frame_list(&port_unreach)
                ));
            } else {
                msg.push_str("; nothing came back at all: the peer is down or the path is lost");
            }
            let mut frames = p.all_frames.clone();
            frames.extend(icmp.iter().map(|i| i.frame));
            e.emit(
                Draft::new(Severity::Error, msg, frames)
                    .sa(sa)
                    .exchange(p.exchange.name.clone())
                    .fix(if port_unreach.is_empty() {
                        super::fixes::keep_alive()
                    } else {
                        super::fixes::start_daemon()
                    }),
            );
        }
    }
}
