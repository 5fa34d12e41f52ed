//! Fix builders shared by rules: the commands per platform, with numbers
//! computed from the capture through the overhead model in `crate::mtu`.

use crate::diag::FixStep;
use crate::mtu::{CipherSuite, Encapsulation, Mode, TunnelLimits};

fn step(platform: &str, commands: &[String]) -> FixStep {
    FixStep {
        platform: platform.to_string(),
        commands: commands.to_vec(),
    }
}

/// IKEv2 fragmentation (RFC 7383) on both peers, with a fragment size that
/// fits `path_mtu` (IP + UDP + non-ESP marker subtracted as strongSwan
/// counts it: `fragment_size` is the IP packet size).
pub(crate) fn ikev2_fragmentation(path_mtu: u32) -> Vec<FixStep> {
    vec![
        step(
            "strongSwan (swanctl.conf)",
            &[
                "connections.<name>.fragmentation = yes".into(),
                format!("charon.fragment_size = {path_mtu}   # in strongswan.conf; the largest IP packet IKE may send"),
            ],
        ),
        step("strongSwan (ipsec.conf)", &["conn <name>\n    fragmentation=yes".into()]),
        step("libreswan (ipsec.conf)", &["conn <name>\n    fragmentation=yes".into()]),
        step(
            "Windows (RRAS VPN server)",
            &[
                r"reg add HKLM\SYSTEM\CurrentControlSet\Services\RemoteAccess\Parameters\Ikev2 /v EnableServerFragmentation /t REG_DWORD /d 1 /f".into(),
                "Restart-Service RemoteAccess   # Windows 10 1803+ clients support IKEv2 fragmentation".into(),
            ],
        ),
    ]
}

/// Default suite assumed when the CHILD SA algorithms are not visible:
/// AES-CBC-256 with HMAC-SHA2-256-128, among the largest common overheads.
pub(crate) fn assumed_suite() -> CipherSuite {
    CipherSuite::parse("aes256-sha256").unwrap_or(CipherSuite {
        name: "aes256-sha256".into(),
        encryption: "AES-CBC-256".into(),
        integrity: "HMAC-SHA2-256-128".into(),
        iv: 16,
        block: 16,
        icv: 16,
    })
}

/// Tunnel limits for a path MTU with NAT-T or not, under the assumed suite.
pub(crate) fn limits(path_mtu: u32, natt: bool, ipv6: bool) -> Option<TunnelLimits> {
    Encapsulation {
        mode: Mode::Tunnel,
        natt,
        outer_ipv6: ipv6,
        tcp: false,
        ah: false,
        suite: assumed_suite(),
    }
    .limits(path_mtu)
}

/// Tunnel MTU and TCP MSS clamping commands for the usual platforms.
pub(crate) fn mtu_mss(l: &TunnelLimits) -> Vec<FixStep> {
    crate::mtu::apply_commands(l)
        .into_iter()
        .map(|p| FixStep {
            platform: p.platform,
            commands: p.commands,
        })
        .collect()
}

/// Opening the IKE ports (and ESP) on a firewall in front of the server.
pub(crate) fn open_ike_ports(server: &str, ports: &[u16]) -> Vec<FixStep> {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let set = list.join(", ");
    vec![
        step(
            "Linux firewall in front of the VPN server (nftables)",
            &[
                format!(
                    "nft add rule inet filter forward ip daddr {server} udp dport {{ {set} }} accept"
                ),
                format!(
                    "nft add rule inet filter forward ip daddr {server} meta l4proto esp accept"
                ),
            ],
        ),
        step(
            "Linux firewall (iptables)",
            &list
                .iter()
                .map(|p| format!("iptables -A FORWARD -d {server} -p udp --dport {p} -j ACCEPT"))
                .chain([format!("iptables -A FORWARD -d {server} -p esp -j ACCEPT")])
                .collect::<Vec<_>>(),
        ),
        step(
            "Cloud security group / ACL",
            &[format!(
                "allow inbound UDP {set} (and IP protocol 50, ESP, when no NAT is in the path) to {server}"
            )],
        ),
    ]
}

/// The largest IP packet IKE should send on this path, with the reason:
/// an ICMP fragmentation-needed / packet-too-big MTU for the SA when the
/// capture has one, else 1280 (the IPv6 minimum MTU, RFC 8200 section 5,
/// which leaves room for PPPoE, MAP-E and tunnels on any path).
pub(crate) fn ike_packet_limit(
    a: &crate::session::Analysis,
    sa: &crate::session::IkeSa,
) -> (u32, String) {
    let (v, en, _) = ike_packet_limit_both(a, sa);
    (v, en)
}

/// As [`ike_packet_limit`], with the reason in English and in Japanese.
pub(crate) fn ike_packet_limit_both(
    a: &crate::session::Analysis,
    sa: &crate::session::IkeSa,
) -> (u32, String, String) {
    let icmp_mtu = super::icmp_for(a, sa).filter_map(|i| i.mtu).min();
    match icmp_mtu {
        Some(m) => (
            m,
            "the path MTU reported by ICMP in this capture".to_string(),
            "このキャプチャの ICMP が示す経路 MTU".to_string(),
        ),
        None => (
            1280,
            "the IPv6 minimum MTU, which every path carries; no ICMP in the capture gives the path MTU".into(),
            "どの経路でも通る IPv6 の最小 MTU。キャプチャには経路 MTU を示す ICMP がありません".into(),
        ),
    }
}

fn steps(items: &[(&str, &[&str])]) -> Vec<FixStep> {
    items
        .iter()
        .map(|(p, c)| FixStep {
            platform: (*p).to_string(),
            commands: c.iter().map(|s| (*s).to_string()).collect(),
        })
        .collect()
}

/// Finding out whether the responder receives a request it does not answer.
pub(crate) fn check_responder(server: &str) -> Vec<FixStep> {
    let capture = format!(
        "tcpdump -ni any -s 0 -w server.pcap 'host {server} and (udp port 500 or udp port 4500 or esp or icmp)'"
    );
    let mut v = vec![FixStep {
        platform: "On the VPN server, while the client connects".into(),
        commands: vec![
            capture,
            "ikediag analyze server.pcap   # does the request arrive? is an answer sent?".into(),
        ],
    }];
    v.extend(steps(&[
        ("strongSwan", &["journalctl -u strongswan -f   # the responder's view of the same exchange"]),
        ("libreswan", &["journalctl -u ipsec -f"]),
        ("Windows RRAS / client", &["Get-WinEvent -LogName System | Where-Object ProviderName -like '*RasClient*' | Select -First 20"]),
    ]));
    v
}

/// Starting the IKE daemon that does not listen.
pub(crate) fn start_daemon() -> Vec<FixStep> {
    steps(&[
        (
            "strongSwan",
            &[
                "systemctl restart strongswan   # (strongswan-starter on older systems)",
                "ss -lunp | grep -E ':(500|4500) '",
            ],
        ),
        (
            "libreswan",
            &[
                "systemctl restart ipsec",
                "ss -lunp | grep -E ':(500|4500) '",
            ],
        ),
        ("Windows", &["Restart-Service IKEEXT, PolicyAgent"]),
    ])
}

/// Keeping the path and the peer alive for DPD and rekeys.
pub(crate) fn keep_alive() -> Vec<FixStep> {
    steps(&[
        (
            "strongSwan",
            &[
                "charon.keep_alive = 20s   # NAT-T keepalives, in strongswan.conf",
                "connections.<name>.dpd_delay = 30s",
                "connections.<name>.mobike = yes   # survive address changes",
            ],
        ),
        (
            "libreswan (ipsec.conf)",
            &["conn <name>\n    dpddelay=30\n    dpdtimeout=120\n    nat-keepalive=yes"],
        ),
        (
            "Firewalls / NAT on the path",
            &["raise the UDP timeout for 4500 above the keepalive interval (e.g. 120 s)"],
        ),
    ])
}

/// Checking why ESP does not come back.
pub(crate) fn esp_return() -> Vec<FixStep> {
    steps(&[
        (
            "strongSwan (remote peer)",
            &[
                "swanctl --list-sas   # bytes_in grows? then the return traffic is the problem",
                "ip xfrm state; ip route get <sender's inner address>",
            ],
        ),
        (
            "Linux firewall (remote peer)",
            &[
                "nft add rule inet filter forward meta ipsec exists accept   # allow decrypted traffic",
            ],
        ),
        (
            "Any firewall on the path",
            &["allow ESP (IP protocol 50) or UDP 4500 in both directions"],
        ),
    ])
}
