//! NET010 `path-mtu`: the path MTU the capture proves, and the tunnel MTU
//! and MSS that follow from it.

use super::fixes;
use crate::diag::pmtu::{assumed_suite, path_mtu};
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::mtu::{Encapsulation, Mode};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "NET010",
    name: "path-mtu",
    severity: Severity::Info,
    summary: "The path MTU measured in the capture, and the tunnel MTU and MSS it allows",
    doc: RuleDoc {
        detects: "Evidence of the path MTU: ICMP fragmentation-needed / packet-too-big with their \
                  MTU, DF ping sweeps (Windows `ping -f -l`, Linux `ping -M do -s`: which sizes were \
                  answered, refused with ICMP, or vanished), and the largest packets that crossed.",
        why_it_fails: "It does not by itself; but every IPsec packet is larger than what it carries, \
                       so a path MTU below 1500 (PPPoE, MAP-E, tunnels, mobile) needs a smaller tunnel \
                       MTU and TCP MSS, or large packets are lost.",
        evidence: "The probes and ICMP errors that bracket the path MTU, with the header arithmetic.",
        likely_causes: "PPPoE (1492), IPv4-in-IPv6 access (1460), GRE or other tunnels on the path, \
                        mobile networks.",
        how_to_fix: "Set the tunnel MTU and clamp the TCP MSS to the values given (computed by the \
                     overhead model in docs/mtu.md for the algorithms in use); `ikediag mtu` redoes \
                     the arithmetic for other settings.",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let Some(p) = path_mtu(a) else { return };
    let (suite, suite_why) = assumed_suite(a);
    let natt = a.sas.iter().any(|s| {
        s.nat.initiator_behind_nat || s.nat.responder_behind_nat || s.natt_switch_frame.is_some()
    }) || a.esp_flows.iter().any(|f| f.udp_ports.is_some());
    let target = p.dst.map(|d| format!(" to {d}")).unwrap_or_default();
    let (mtu_text, base) = match (p.value, p.lower, p.upper) {
        (Some(v), _, _) => (format!("The path MTU{target} is {v} bytes"), Some(v)),
        (None, Some(l), Some(u)) => (
            format!("The path MTU{target} is between {l} and {u} bytes"),
            Some(l),
        ),
        (None, Some(l), None) => (format!("The path MTU{target} is at least {l} bytes"), None),
        (None, None, Some(u)) => (
            format!("The path MTU{target} is at most {u} bytes"),
            Some(u),
        ),
        (None, None, None) => return,
    };
    let mut msg = format!("{mtu_text}: {}", p.evidence.join("; "));
    if let Some(v) = base.filter(|v| *v < 1500) {
        msg.push_str(&format!(
            ". That is below the 1500 bytes of an Ethernet link by {}",
            1500 - v
        ));
    }
    let mut fix = Vec::new();
    if let Some(v) = base {
        let enc = Encapsulation {
            mode: Mode::Tunnel,
            natt,
            outer_ipv6: p.dst.is_some_and(|d| d.is_ipv6()),
            tcp: false,
            ah: false,
            suite,
        };
        if let Some(l) = enc.limits(v) {
            msg.push_str(&format!(
                ". An IPsec tunnel over it ({}; {suite_why}) carries inner packets of at most {} bytes: tunnel MTU {}, TCP MSS {} (IPv4) / {} (IPv6)",
                if natt { "NAT-T" } else { "no NAT-T" },
                l.tunnel_mtu,
                l.tunnel_mtu,
                l.tcp_mss_ipv4,
                l.tcp_mss_ipv6
            ));
            fix = fixes::mtu_mss(&l);
        }
    }
    e.emit(Draft::new(Severity::Info, msg, p.frames.clone()).fix(fix));
}
