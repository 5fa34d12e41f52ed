//! Fix builders shared by rules: the commands per platform, with numbers
//! computed from the capture through the overhead model in `crate::mtu`.

use crate::diag::pmtu::{DirectionBounds, SizedPacket, Unanswered, direction_bounds};
use crate::diag::{FixStep, bytes};
use crate::mtu::{CipherSuite, Encapsulation, Mode, TunnelLimits};
use crate::session::{Analysis, IkeSa};

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

/// The largest IP packet IKE should send on this path, with the reason
/// (see [`ike_path_choice`]).
pub(crate) fn ike_packet_limit(a: &Analysis, sa: &IkeSa) -> (u32, String) {
    let (v, en, _) = ike_packet_limit_both(a, sa);
    (v, en)
}

/// As [`ike_packet_limit`], with the reason in English and in Japanese.
pub(crate) fn ike_packet_limit_both(a: &Analysis, sa: &IkeSa) -> (u32, String, String) {
    let c = ike_path_choice(a, sa);
    (c.path_mtu, c.why, c.why_ja)
}

/// The path MTU an SA's IKE packets should fit, both peers alike: the
/// smaller [`choose_path_mtu`] of the directions that have an upper bound
/// (an ICMP-reported MTU, or a packet lost for its size as
/// `pmtu-blackhole` judges it), else the standard value.
pub(crate) fn ike_path_choice(a: &Analysis, sa: &IkeSa) -> PathChoice {
    let (i, r) = (sa.initiator.addr, sa.responder.addr);
    let size_loss = |u: &Unanswered<'_>| super::pmtu_blackhole::lost_for_size(sa, u);
    let both = [
        direction_bounds(a, sa, i, r, size_loss),
        direction_bounds(a, sa, r, i, size_loss),
    ];
    let bounded = both
        .iter()
        .filter(|b| b.icmp_mtu.is_some() || b.unanswered.is_some())
        .map(choose_path_mtu)
        .min_by_key(|c| c.path_mtu);
    match bounded {
        Some(c) => c,
        None => choose_path_mtu(&both[0]),
    }
}

/// Where a recommended path MTU came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Basis {
    /// The MTU an ICMP fragmentation-needed / packet-too-big reported.
    Icmp,
    /// An ICMP-reported MTU below the protocol's minimum: the minimum.
    IcmpBelowMinimum,
    /// The largest packet seen to cross, when it is above 1,280 and not
    /// excluded by a smaller lost one.
    Crossed,
    /// 1,280, the IPv6 minimum MTU: the standard safe value, for IPv4 too
    /// unless a smaller packet was lost.
    Standard,
    /// 576, the IPv4 minimum, when a packet below 1,280 was lost.
    Ipv4Minimum,
}

/// A path MTU to plan for (IKE fragment size, tunnel MTU), with the
/// reason in English and Japanese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathChoice {
    pub path_mtu: u32,
    pub basis: Basis,
    pub why: String,
    pub why_ja: String,
}

/// The smallest path MTU of an IP version: IPv6 links carry 1,280 bytes
/// (RFC 8200 section 5); every IPv4 host accepts 576-byte datagrams
/// (RFC 791), the least any real IPv4 path carries.
pub(crate) fn minimum_mtu(ipv6: bool) -> u32 {
    if ipv6 { 1280 } else { 576 }
}

/// The path MTU to plan for, from the bounds the capture gives (the
/// largest size seen to pass, the smallest seen to fail, an ICMP-reported
/// MTU) and the standard values: 1,280 (the IPv6 minimum MTU, which nearly
/// every IPv4 path carries too) unless the evidence says smaller; never
/// below 576 (IPv4) or 1,280 (IPv6), and a loss at or below those says
/// nothing about the path MTU. The reason says which and why.
pub(crate) fn choose_path_mtu(b: &DirectionBounds) -> PathChoice {
    let floor = minimum_mtu(b.ipv6);
    let v = if b.ipv6 { "IPv6" } else { "IPv4" };
    let lost = b.unanswered.as_ref().filter(|u| u.size > floor);
    let upper = match (
        b.icmp_mtu.map(|(m, _)| m),
        lost.map(|u| u.size.saturating_sub(1)),
    ) {
        (Some(m), Some(u)) => Some(m.min(u)),
        (m, u) => m.or(u),
    };
    // "the smallest failing size 1,360 (frame 7)"
    let (failing, failing_ja) = lost
        .map(|u| {
            (
                format!(
                    "the smallest failing size {} (frame {})",
                    bytes(u64::from(u.size)),
                    u.frame
                ),
                format!(
                    "失敗した最小のサイズ {} (フレーム {})",
                    bytes(u64::from(u.size)),
                    u.frame
                ),
            )
        })
        .unwrap_or_default();
    let choice = |path_mtu, basis, why: String, why_ja: String| PathChoice {
        path_mtu,
        basis,
        why,
        why_ja,
    };
    // 1. An ICMP-reported MTU, unless a smaller packet failed anyway.
    if let Some((m, frame)) = b.icmp_mtu
        && upper == Some(m)
    {
        if m < floor {
            let rfc = if b.ipv6 {
                "RFC 8201 section 4"
            } else {
                "RFC 1191; Linux's min_pmtu"
            };
            return choice(
                floor,
                Basis::IcmpBelowMinimum,
                format!(
                    "the {v} minimum; ICMP reported a next-hop MTU of {m} (frame {frame}), below it, and stacks ignore such reports ({rfc})"
                ),
                format!(
                    "{v} の最小値。ICMP は次ホップの MTU {m} を通知しましたが (フレーム {frame})、それより小さい通知はスタックが無視します ({rfc})"
                ),
            );
        }
        return choice(
            m,
            Basis::Icmp,
            format!("the path MTU reported by ICMP in this capture (frame {frame})"),
            format!("このキャプチャの ICMP が示す経路 MTU (フレーム {frame})"),
        );
    }
    let passed = b
        .crossed
        .as_ref()
        .filter(|c| upper.is_none_or(|u| c.size <= u));
    let passed_text = |c: &SizedPacket| {
        (
            format!(
                "the largest size seen to pass ({}, frame {})",
                c.what, c.frame
            ),
            format!(
                "通過が確認された最大のサイズ ({}、フレーム {})",
                c.what_ja, c.frame
            ),
        )
    };
    // 2. Room for 1,280, or more when a larger packet passed.
    if upper.is_none_or(|u| u >= 1280) {
        if let Some(c) = passed.filter(|c| c.size > 1280) {
            let (en, ja) = passed_text(c);
            return choice(
                c.size,
                Basis::Crossed,
                if failing.is_empty() {
                    en
                } else {
                    format!("{en}, below {failing}")
                },
                if failing_ja.is_empty() {
                    ja
                } else {
                    format!("{ja}で、{failing_ja}未満です")
                },
            );
        }
        if lost.is_none() {
            return choice(
                1280,
                Basis::Standard,
                "the IPv6 minimum MTU, which every path carries; no ICMP in the capture gives the path MTU".into(),
                "どの経路でも通る IPv6 の最小 MTU。キャプチャには経路 MTU を示す ICMP がありません".into(),
            );
        }
        let (carries, carries_ja) = if b.ipv6 {
            (
                "which every IPv6 link carries (RFC 8200)",
                "すべての IPv6 リンクが通す値 (RFC 8200)",
            )
        } else {
            (
                "which nearly every IPv4 path carries too",
                "ほとんどの IPv4 経路も通す値",
            )
        };
        return choice(
            1280,
            Basis::Standard,
            format!("the IPv6 minimum MTU, {carries}, below {failing}"),
            format!("IPv6 の最小 MTU で、{carries_ja}。{failing_ja}未満です"),
        );
    }
    // 3. A size below 1,280 (and above the floor) failed.
    if let Some(c) = passed.filter(|c| c.size >= floor) {
        let (en, ja) = passed_text(c);
        return choice(
            c.size,
            Basis::Crossed,
            format!("{en}; {failing} rules out 1,280"),
            format!("{ja}。{failing_ja}のため 1,280 は使えません"),
        );
    }
    let (seen, seen_ja) = b
        .crossed
        .as_ref()
        .map(|c| {
            (
                format!(
                    ", and the largest size seen to pass is only {} (frame {})",
                    bytes(u64::from(c.size)),
                    c.frame
                ),
                format!(
                    "。通過が確認された最大のサイズは {} (フレーム {}) にすぎません",
                    bytes(u64::from(c.size)),
                    c.frame
                ),
            )
        })
        .unwrap_or_default();
    choice(
        576,
        Basis::Ipv4Minimum,
        format!(
            "the IPv4 minimum every host must accept (RFC 791): {failing} rules out 1,280{seen}"
        ),
        format!(
            "すべてのホストが受け付けるべき IPv4 の最小値 (RFC 791)。{failing_ja}のため 1,280 は使えません{seen_ja}"
        ),
    )
}

/// The tunnel over a path MTU for an SA's peers, with what it assumes.
pub(crate) struct SaTunnel {
    pub limits: TunnelLimits,
    pub natt: bool,
    pub outer_ipv6: bool,
    /// The ESP suite, strongSwan style (`aes128-sha256`).
    pub suite: String,
    /// The assumptions in words (English, Japanese).
    pub how: String,
    pub how_ja: String,
}

/// The tunnel limits over a path MTU for an SA's peers: outer IP version
/// from its addresses, UDP encapsulation from what the capture shows
/// ([`esp_encapsulation`]), the cipher suite from
/// [`assumed_suite`](crate::diag::pmtu::assumed_suite).
pub(crate) fn sa_tunnel_limits(a: &Analysis, sa: &IkeSa, path_mtu: u32) -> Option<SaTunnel> {
    let (natt, natt_en, natt_ja) = esp_encapsulation(a, sa);
    let (suite, suite_en, suite_ja) = crate::diag::pmtu::assumed_suite(a);
    let name = suite.name.clone();
    let outer_ipv6 = sa.initiator.addr.is_ipv6();
    let limits = Encapsulation {
        mode: Mode::Tunnel,
        natt,
        outer_ipv6,
        tcp: false,
        ah: false,
        suite,
    }
    .limits(path_mtu)?;
    Some(SaTunnel {
        limits,
        natt,
        outer_ipv6,
        suite: name,
        how: format!("{natt_en}; {suite_en}"),
        how_ja: format!("{natt_ja}。{suite_ja}"),
    })
}

/// Is ESP between the SA's peers UDP-encapsulated (NAT-T, 8 bytes more)?
/// From the ESP seen, else from NAT detection; unknown counts as yes.
pub(crate) fn esp_encapsulation(a: &Analysis, sa: &IkeSa) -> (bool, String, String) {
    let flows = super::esp_between(a, sa, sa.first_ts_ns);
    if let Some(f) = flows.first() {
        let udp = f.udp_ports.is_some();
        return (
            udp,
            format!(
                "ESP is {}UDP-encapsulated in this capture (frame {})",
                if udp { "" } else { "not " },
                f.first_frame
            ),
            format!(
                "このキャプチャの ESP は UDP カプセル化{} (フレーム {})",
                if udp {
                    "されています"
                } else {
                    "されていません"
                },
                f.first_frame
            ),
        );
    }
    let n = &sa.nat;
    if n.initiator_behind_nat || n.responder_behind_nat || n.faked_by_initiator {
        return (
            true,
            "NAT detection found a NAT, so ESP is UDP-encapsulated (NAT-T)".into(),
            "NAT 検出で NAT が見つかったため、ESP は UDP カプセル化されます (NAT-T)".into(),
        );
    }
    if n.exchanged {
        return (
            false,
            "NAT detection found no NAT, so ESP is not UDP-encapsulated".into(),
            "NAT 検出で NAT が見つからなかったため、ESP は UDP カプセル化されません".into(),
        );
    }
    (
        true,
        "NAT detection is not visible; UDP encapsulation (NAT-T, 8 bytes more) assumed".into(),
        "NAT 検出が見えないため、UDP カプセル化 (NAT-T、8 バイト増) を仮定".into(),
    )
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

/// Measuring the path MTU with DF pings from `start` bytes down, then
/// redoing the tunnel arithmetic with `ikediag mtu` for the size answered.
pub(crate) fn measure_path_mtu(dst: std::net::IpAddr, start: u32, t: Option<&SaTunnel>) -> FixStep {
    let v6 = dst.is_ipv6();
    let payload = start.saturating_sub(if v6 { 48 } else { 28 });
    let mut commands = if v6 {
        vec![
            format!(
                "ping -6 -M do -s {payload} {dst}   # Linux: a {start}-byte IPv6 packet; lower -s until it is answered"
            ),
            format!("ping -6 -l {payload} {dst}   # Windows"),
        ]
    } else {
        vec![
            format!(
                "ping -M do -s {payload} {dst}   # Linux: a {start}-byte packet with DF; lower -s until it is answered"
            ),
            format!("ping -f -l {payload} {dst}   # Windows"),
        ]
    };
    if let Some(t) = t {
        commands.push(format!(
            "ikediag mtu --ping-payload <largest answered -s>{}{}{} --esp {}   # the tunnel MTU and MSS for the measured path",
            if v6 { " --ping-ipv6" } else { "" },
            if t.outer_ipv6 { " --outer-ipv6" } else { "" },
            if t.natt { " --natt" } else { "" },
            t.suite
        ));
    }
    FixStep {
        platform: "Measure the path MTU (DF ping)".into(),
        commands,
    }
}
/// Letting ICMP fragmentation-needed and packet-too-big through, so path
/// MTU discovery works again.
pub(crate) fn allow_icmp_too_big() -> FixStep {
    FixStep {
        platform: "Firewalls on the path (nftables)".into(),
        commands: vec![
            "nft add rule inet filter forward icmp type destination-unreachable icmp code frag-needed accept".into(),
            "nft add rule inet filter forward icmpv6 type packet-too-big accept".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::pmtu::testing::analysis;

    fn pkt(size: u32, frame: u64) -> Option<SizedPacket> {
        Some(SizedPacket {
            size,
            frame,
            what: "IKE_SA_INIT request".into(),
            what_ja: "IKE_SA_INIT 要求".into(),
        })
    }

    fn bounds(ipv6: bool, crossed: u32, lost: Option<u32>, icmp: Option<u32>) -> DirectionBounds {
        DirectionBounds {
            ipv6,
            crossed: pkt(crossed, 5),
            unanswered: lost.and_then(|l| pkt(l, 7)),
            icmp_mtu: icmp.map(|m| (m, 9)),
        }
    }

    fn pick(ipv6: bool, crossed: u32, lost: Option<u32>, icmp: Option<u32>) -> (u32, Basis) {
        let c = choose_path_mtu(&bounds(ipv6, crossed, lost, icmp));
        (c.path_mtu, c.basis)
    }

    #[test]
    fn the_standard_1280_below_the_smallest_failing_size() {
        // lab/mtu_blackhole_df: 268 passed, 1,360 failed. Not 268.
        let c = choose_path_mtu(&bounds(false, 268, Some(1360), None));
        assert_eq!((c.path_mtu, c.basis), (1280, Basis::Standard));
        assert!(
            c.why.contains("IPv6 minimum MTU")
                && c.why.contains("smallest failing size 1,360 (frame 7)"),
            "{}",
            c.why
        );
        assert!(c.why_ja.contains("1,360"), "{}", c.why_ja);
        assert_eq!(pick(true, 288, Some(1300), None), (1280, Basis::Standard));
    }

    #[test]
    fn ipv4_below_1280_falls_to_what_passed_or_to_576() {
        let c = choose_path_mtu(&bounds(false, 268, Some(1250), None));
        assert_eq!((c.path_mtu, c.basis), (576, Basis::Ipv4Minimum));
        assert!(
            c.why.contains("RFC 791") && c.why.contains("rules out 1,280"),
            "{}",
            c.why
        );
        assert!(c.why.contains("only 268 (frame 5)"), "{}", c.why);
        assert_eq!(pick(false, 1100, Some(1250), None), (1100, Basis::Crossed));
    }

    #[test]
    fn a_larger_size_seen_to_pass_beats_1280() {
        assert_eq!(pick(false, 1400, Some(1500), None), (1400, Basis::Crossed));
        assert_eq!(pick(false, 1400, None, None), (1400, Basis::Crossed));
        // A size that passed but is above a failing one is not used.
        assert_eq!(pick(false, 1400, Some(1300), None), (1280, Basis::Standard));
    }

    #[test]
    fn icmp_gives_the_value_but_never_below_the_minimum() {
        assert_eq!(pick(false, 268, None, Some(1400)), (1400, Basis::Icmp));
        assert_eq!(
            pick(false, 268, Some(1500), Some(1400)),
            (1400, Basis::Icmp)
        );
        assert_eq!(
            pick(true, 288, None, Some(1000)),
            (1280, Basis::IcmpBelowMinimum)
        );
        assert_eq!(
            pick(false, 268, None, Some(300)),
            (576, Basis::IcmpBelowMinimum)
        );
        // A smaller DF packet lost anyway: ICMP's value is not trusted.
        assert_eq!(
            pick(false, 268, Some(1250), Some(1400)),
            (576, Basis::Ipv4Minimum)
        );
    }

    #[test]
    fn a_loss_at_or_below_the_minimum_bounds_nothing() {
        // No IPv6 path may drop 1,250 bytes for their size: no bound.
        let c = choose_path_mtu(&bounds(true, 288, Some(1250), None));
        assert_eq!((c.path_mtu, c.basis), (1280, Basis::Standard));
        assert!(c.why.contains("no ICMP"), "{}", c.why);
        assert_eq!(pick(false, 268, Some(500), None), (1280, Basis::Standard));
    }

    #[test]
    fn never_below_the_minimum_nor_above_a_failing_size() {
        for v6 in [false, true] {
            let floor = minimum_mtu(v6);
            for lost in (300..1600).step_by(7) {
                for crossed in [100, 268, 600, 1100, 1290, 1450] {
                    let c = choose_path_mtu(&bounds(v6, crossed, Some(lost), None));
                    assert!(c.path_mtu >= floor, "{v6} {crossed} {lost}: {}", c.path_mtu);
                    if lost > floor {
                        assert!(c.path_mtu < lost, "{v6} {crossed} {lost}: {}", c.path_mtu);
                    }
                    assert!(!c.why.is_empty() && !c.why_ja.is_empty());
                }
            }
        }
    }

    #[test]
    fn ike_packet_limit_of_the_lab_captures() {
        // Fragments lost, nothing else known: the standard value, as before.
        let a = analysis("ipv6_cert_fragmented.pcap");
        let (v, why, _) = ike_packet_limit_both(&a, &a.sas[0]);
        assert_eq!(v, 1280);
        assert_eq!(
            why,
            "the IPv6 minimum MTU, which every path carries; no ICMP in the capture gives the path MTU"
        );
        // A DF IKE_AUTH of 1,360 bytes lost: still 1,280, and it says why.
        let a = analysis("mtu_blackhole_df.pcap");
        let (v, why, _) = ike_packet_limit_both(&a, &a.sas[0]);
        assert_eq!(v, 1280);
        assert!(why.contains("smallest failing size 1,360"), "{why}");
    }

    #[test]
    fn the_tunnel_follows_the_capture() {
        // No NAT found, IKE SA aes128-sha256: 1280 - 20 - 8 - 16 - 16 = 1220,
        // floor(1220 / 16) * 16 = 1216, - 2 = 1214 (docs/mtu.md).
        let a = analysis("mtu_blackhole_df.pcap");
        let t = sa_tunnel_limits(&a, &a.sas[0], 1280).expect("limits");
        assert!(!t.natt && !t.outer_ipv6);
        assert_eq!(t.suite, "aes128-sha256");
        assert_eq!(t.limits.tunnel_mtu, 1214);
        assert_eq!(t.limits.tcp_mss_ipv4, 1174);
        assert!(t.how.contains("found no NAT"), "{}", t.how);
        // Over IPv6: 1280 - 40 - 8 - 16 - 16 = 1200 -> 1200 - 2 = 1198.
        let a = analysis("ipv6_ok_psk.pcap");
        let t = sa_tunnel_limits(&a, &a.sas[0], 1280).expect("limits");
        assert!(t.outer_ipv6);
        assert_eq!(t.limits.tunnel_mtu, 1198);
    }
}
