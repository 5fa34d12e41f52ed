//! CAP001 `capture-no-ike`: the capture holds no IKE at all.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "CAP001",
    name: "capture-no-ike",
    severity: Severity::Warning,
    summary: "No IKE in the capture: wrong interface, filter or time?",
    doc: RuleDoc {
        detects: "A capture with no IKE message on UDP 500, UDP 4500 or RFC 8229 TCP.",
        why_it_fails: "Nothing can be said about the VPN: the connection attempt is not in the capture.",
        evidence: "What the capture does hold (frames, ESP, ICMP).",
        likely_causes: "The capture was taken on the wrong interface (inside the tunnel, on a LAN \
                        port), with a capture filter that excluded UDP 500/4500, or at a time when \
                        no connection was attempted; IKE runs on a non-standard port.",
        how_to_fix: "Capture on the interface that faces the VPN server while connecting, e.g. \
                     `tcpdump -i <wan> -s 0 -w vpn.pcap 'udp port 500 or udp port 4500 or esp or icmp or icmp6'`; \
                     if IKE uses other ports, pass them with --port.",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    if !a.sas.is_empty() || a.stats.ike_messages > 0 {
        return;
    }
    e.emit(Draft::new(
        Severity::Warning,
        format!(
            "The capture holds {} frames but no IKE message (UDP 500/4500): {} ESP packets, {} ICMP errors, {} ICMP echoes. \
             Was it taken on the interface that faces the VPN server, while connecting?",
            a.stats.frames,
            a.stats.esp_packets,
            a.icmp_errors.len(),
            a.echoes.len()
        ),
        Vec::new(),
    ));
}
