//! NET009 `map-e-port-restriction`: IPv4-in-IPv6 (MAP-E / DS-Lite) access
//! and UDP 500 silent: the shared IPv4 address cannot carry port 500.

use std::collections::HashMap;
use std::net::IpAddr;

use super::{exch, is_shared_address, pending};
use crate::decode::Transport;
use crate::diag::{Confidence, Draft, Emitter, FixStep, Rule, RuleDoc, Severity};
use crate::session::{Analysis, CaptureSide, Endpoint};

pub(crate) static RULE: Rule = Rule {
    code: "NET009",
    name: "map-e-port-restriction",
    severity: Severity::Error,
    summary: "MAP-E / DS-Lite access: the shared IPv4 address cannot carry UDP 500",
    doc: RuleDoc {
        detects: "IPv4 carried in IPv6 (MAP-E, DS-Lite, \"v6 plus\" style ISPs) or an initiator \
                  address from the RFC 6598 shared range, together with IKE_SA_INIT on UDP 500 that \
                  is never answered; or, as information, IKE working on UDP 4500 over such an access. Seen at the server (or past the NAT): IKE_SA_INIT reaching UDP 500 from a source port other than \
                  500 and 4500, routed, repeated and never answered: a NAT rewrote the port (MAP-E port sets, \
                  CGNAT) and the server admits IKE only from port 500; where the port fits a v6プラス-style port \
                  set (PSID offset 4, 16 ports per range) the PSID and its ranges are given.",
        why_it_fails: "These accesses share one IPv4 address between customers and give each a small \
                       set of high ports; UDP 500 leaves from a port in that set, and servers that \
                       expect source port 500 (or filter it) never answer.",
        evidence: "The IPv4-in-IPv6 encapsulation (outer IPv6 addresses) and the unanswered IKE_SA_INIT.",
        likely_causes: "A MAP-E / DS-Lite / CGNAT access line; a VPN server or firewall that only \
                        admits IKE from source port 500.",
        how_to_fix: "Use IPsec over IPv6 end to end if the server has IPv6; start IKE on UDP 4500 \
                     (strongSwan local_port/remote_port = 4500) or IKE over TCP (RFC 8229); route VPN \
                     traffic over a PPPoE (IPv4) session instead of the IPv4-in-IPv6 tunnel; or use an \
                     SSL VPN.",
    },
    summary_ja: "MAP-E / DS-Lite 回線: 共有 IPv4 アドレスで UDP 500 が使えない",
    doc_ja: RuleDoc {
        detects: "IPv6 で運ばれる IPv4 (MAP-E、DS-Lite、「v6 プラス」型の ISP)、または RFC 6598 の共有アドレス帯のイニシエータで、UDP 500 の IKE_SA_INIT に応答がない場合。あるいは情報として、そうした回線で UDP 4500 で IKE が動いている場合。 サーバ側 (NAT の後) では、500 でも 4500 でもない送信元ポートから UDP 500 に届き、繰り返され、応答されない IKE_SA_INIT: NAT がポートを書き換え、サーバが送信元ポート 500 の IKE しか受け付けていません。v6プラス 方式のポートセットに当てはまれば PSID と範囲を示します。",
        why_it_fails: "これらの回線は 1 つの IPv4 アドレスを複数の契約者で共有し、各契約者に少数の高位ポートを割り当てます。UDP 500 はその範囲のポートから出ていくため、送信元ポート 500 を前提とする (またはそれでフィルタする) サーバは応答しません。",
        evidence: "IPv4-in-IPv6 のカプセル化 (外側の IPv6 アドレス) と、応答のない IKE_SA_INIT。",
        likely_causes: "MAP-E / DS-Lite / CGNAT の回線、送信元ポート 500 からの IKE しか受け付けない VPN サーバやファイアウォール。",
        how_to_fix: "サーバに IPv6 があれば IPv6 で IPsec を使う、最初から UDP 4500 で IKE を始める (strongSwan の local_port/remote_port = 4500)、IKE over TCP (RFC 8229) を使う、VPN の通信を IPv4-in-IPv6 トンネルではなく PPPoE (IPv4) に流す、または SSL-VPN を使ってください。",
    },
    check,
};

/// The v6プラス-style MAP-E port set a source port belongs to, if it fits
/// one: PSID offset 4 (ports below 4096 are never given out), 8 PSID bits
/// and 16 contiguous ports per range, 15 ranges. Returns the PSID and the
/// ranges.
pub(crate) fn map_e_port_set(port: u16) -> Option<(u16, Vec<(u16, u16)>)> {
    if port < 4096 {
        return None;
    }
    let psid = (port >> 4) & 0xff;
    let ranges = (1u16..16)
        .map(|a| {
            let lo = (a << 12) | (psid << 4);
            (lo, lo | 0xf)
        })
        .collect();
    Some((psid, ranges))
}

fn ranges_text(r: &[(u16, u16)]) -> String {
    let v: Vec<String> = r.iter().map(|(lo, hi)| format!("{lo}-{hi}")).collect();
    v.join(", ")
}

/// Per capture: which SAs had an exchange with message ID 0 answered, by
/// (initiator endpoint, responder address), and the source ports each
/// initiator address used (one SA per port, in SA order).
struct PortIndex {
    answered: HashMap<(Endpoint, IpAddr), Vec<usize>>,
    ports: HashMap<IpAddr, Vec<u16>>,
}

impl PortIndex {
    fn of(a: &Analysis) -> Self {
        let mut answered: HashMap<(Endpoint, IpAddr), Vec<usize>> = HashMap::new();
        let mut ports: HashMap<IpAddr, Vec<u16>> = HashMap::new();
        for s in &a.sas {
            if s.exchanges
                .iter()
                .any(|x| x.message_id == 0 && x.is_answered())
            {
                answered
                    .entry((s.initiator, s.responder.addr))
                    .or_default()
                    .push(s.index);
            }
            ports
                .entry(s.initiator.addr)
                .or_default()
                .push(s.initiator.port);
        }
        PortIndex { answered, ports }
    }
}

/// IKE_SA_INIT (IKEv1 Main/Aggressive Mode 1) to UDP 500 that reached the
/// capture point from a source port other than 500 and 4500, after being
/// routed, and was never answered: a NAT rewrote the port and the server
/// (or its ACL) admits IKE only from port 500.
fn rewritten_port(a: &Analysis, e: &mut Emitter<'_>) {
    // Built on first need: most captures have no such request.
    let mut index: Option<PortIndex> = None;
    for sa in &a.sas {
        let Some(p) = pending(sa).into_iter().find(|p| {
            matches!(
                p.exchange.exchange_type,
                exch::IKE_SA_INIT | exch::V1_MAIN | exch::V1_AGGRESSIVE
            ) && p.first().transport == Transport::Udp
                && p.first().from_initiator
        }) else {
            continue;
        };
        let first = p.first();
        let port = first.src.port;
        if first.dst.port != 500 || port == 500 || port == 4500 {
            continue;
        }
        // At the client itself the port is its own choice, not a rewrite;
        // a single transmission proves little; and a server that answers
        // this source port elsewhere in the capture does not filter it.
        if sa.capture_side == CaptureSide::Initiator
            || crate::session::is_initial_ttl(first.ttl)
            || p.sends.len() < 2
        {
            continue;
        }
        let idx = index.get_or_insert_with(|| PortIndex::of(a));
        let answered_elsewhere = idx
            .answered
            .get(&(sa.initiator, sa.responder.addr))
            .is_some_and(|v| v.iter().any(|&i| i != sa.index));
        if answered_elsewhere {
            continue;
        }
        let others: Vec<u16> = idx
            .ports
            .get(&sa.initiator.addr)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&q| q != port && q != 500 && q != 4500)
            .collect();
        let (psid_en, psid_ja) = match map_e_port_set(port) {
            Some((psid, ranges)) => {
                let same: Vec<u16> = others
                    .iter()
                    .copied()
                    .filter(|&q| map_e_port_set(q).is_some_and(|(p2, _)| p2 == psid))
                    .collect();
                let also = if same.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (ports {} from the same address fit it too)",
                        same.iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                (
                    format!(
                        ". If the client is on a MAP-E line with v6プラス-style port sets (PSID offset 4, 16 ports per range), \
                         port {port} is PSID {psid}, whose ports are {}{also}",
                        ranges_text(&ranges)
                    ),
                    format!(
                        "。クライアントが v6プラス 方式 (PSID オフセット 4、1 範囲 16 ポート) の MAP-E 回線なら、ポート {port} は PSID {psid} で、使えるポートは {} です",
                        ranges_text(&ranges)
                    ),
                )
            }
            None => (String::new(), String::new()),
        };
        let n = p.sends.len();
        e.emit(
            Draft::new(
                Severity::Error,
                format!(
                    "{} from {} reached UDP 500 of {} from source port {port}, neither 500 nor 4500, {} and was never answered: a NAT \
                     between the client and this capture point rewrote the port (a MAP-E / v6プラス port set, CGNAT, a home \
                     router whose port 500 was taken), and the server or a firewall in front of it admits IKE only from \
                     source port 500 (an ACL like `permit udp any eq isakmp any eq isakmp`, some appliances' defaults){psid_en}. \
                     The other reading, the server not serving this client at all, would show the same silence: its log decides",
                    p.what(sa),
                    sa.initiator.addr,
                    first.dst.addr,
                    if n == 1 { "once".to_string() } else { format!("{n} times") },
                ),
                p.all_frames.clone(),
            )
            .ja(format!(
                "{} からの {} が、500 でも 4500 でもない送信元ポート {port} から {} の UDP 500 に届き ({} 回)、一度も応答されていません: クライアントとこのキャプチャ地点の間の NAT がポートを書き換え (MAP-E / v6プラス のポートセット、CGNAT、ポート 500 が使用中の家庭用ルータ)、サーバかその前のファイアウォールが送信元ポート 500 の IKE しか受け付けていません (`permit udp any eq isakmp any eq isakmp` のような ACL、一部の機器の既定値){psid_ja}。サーバがこのクライアントをそもそも受け付けていない場合も同じく無応答になるため、サーバのログで確認してください",
                sa.initiator.addr,
                p.what_ja(sa),
                first.dst.addr,
                n,
            ))
            .sa(sa)
            .exchange(p.exchange.name.clone())
            .confidence(Confidence::Likely)
            .seen_from(
                format!(
                    "the request reached this point routed (TTL {}) from port {port}: a NAT sits between the client and here, \
                     and the silence is at or beyond this point",
                    first.ttl
                ),
                format!(
                    "要求はルーティングされて (TTL {}) ポート {port} からこの地点に届いています: クライアントとここの間に NAT があり、無応答はこの地点かその先で起きています",
                    first.ttl
                ),
            )
            .fix(vec![
                FixStep {
                    platform: "Client (strongSwan swanctl.conf): NAT-T from the first packet".into(),
                    commands: vec![
                        "connections.<name>.local_port = 4500".into(),
                        "connections.<name>.remote_port = 4500".into(),
                    ],
                },
                FixStep {
                    platform: "Server ACL: admit IKE from any source port".into(),
                    commands: vec![
                        "Cisco IOS: permit udp any any eq isakmp   (instead of: permit udp any eq isakmp any eq isakmp)".into(),
                        "nftables: udp dport { 500, 4500 } accept   (no udp sport match)".into(),
                    ],
                },
            ]),
        );
    }
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    rewritten_port(a, e);
    let v4_in_v6: Vec<_> = a
        .tunnels
        .iter()
        .filter(|t| t.kind == "ipv4-in-ipv6")
        .collect();
    for sa in &a.sas {
        let shared = is_shared_address(sa.initiator.addr);
        let tunnelled = sa
            .messages()
            .iter()
            .any(|m| m.tunnel.is_some_and(|t| t.kind == "ipv4-in-ipv6"));
        if !tunnelled && !shared && v4_in_v6.is_empty() {
            continue;
        }
        let access = match sa.messages().iter().find_map(|m| m.tunnel) {
            Some(t) => format!(
                "IPv4-in-IPv6 (MAP-E / DS-Lite) between {} and {}",
                t.outer_src, t.outer_dst
            ),
            None if shared => format!(
                "a shared IPv4 address ({}, RFC 6598: CGNAT, MAP-E or DS-Lite)",
                sa.initiator.addr
            ),
            None => "IPv4-in-IPv6 in this capture".to_string(),
        };
        let access_ja = match sa.messages().iter().find_map(|m| m.tunnel) {
            Some(t) => format!(
                "{} と {} の間の IPv4-in-IPv6 (MAP-E / DS-Lite)",
                t.outer_src, t.outer_dst
            ),
            None if shared => format!(
                "共有 IPv4 アドレス ({}、RFC 6598: CGNAT、MAP-E、DS-Lite)",
                sa.initiator.addr
            ),
            None => "このキャプチャ内の IPv4-in-IPv6".to_string(),
        };
        let init_blocked = pending(sa).into_iter().find(|p| {
            p.exchange.exchange_type == exch::IKE_SA_INIT
                && p.first().transport == Transport::Udp
                && !p.cut_by_capture_end(a)
        });
        let fix = vec![
            FixStep {
                platform: "strongSwan (swanctl.conf)".into(),
                commands: vec!["connections.<name>.local_port = 4500".into(), "connections.<name>.remote_port = 4500".into()],
            },
            FixStep {
                platform: "Any".into(),
                commands: vec![
                    "Use IPsec over IPv6 to the server's IPv6 address, or IKE over TCP (RFC 8229)".into(),
                    "Or route VPN traffic over a PPPoE IPv4 session instead of the IPv4-in-IPv6 tunnel".into(),
                ],
            },
        ];
        match init_blocked {
            Some(p) => e.emit(
                Draft::new(
                    Severity::Error,
                    format!(
                        "IKE_SA_INIT on UDP 500 from {} is never answered and the access is {access}: the ISP's shared IPv4 \
                         address gives this line only a set of high ports, so IKE arrives from a port other than 500 and the \
                         server (or its firewall) drops it",
                        sa.initiator.addr
                    ),
                    p.all_frames.clone(),
                )
                .ja(format!(
                    "{} からの UDP 500 の IKE_SA_INIT に一度も応答がなく、回線は{access_ja}です: ISP の共有 IPv4 アドレスではこの回線に高位ポートの一部しか割り当てられないため、IKE は 500 以外の送信元ポートで届き、サーバ (またはそのファイアウォール) が破棄しています",
                    sa.initiator.addr
                ))
                .sa(sa)
                .exchange("IKE_SA_INIT")
                .confidence(if tunnelled { Confidence::Likely } else { Confidence::Possible })
                .fix(fix),
            ),
            None if super::authenticated(sa)
                && tunnelled
                && sa.messages().first().is_some_and(|m| m.transport == Transport::UdpNatt) =>
            {
                e.emit(
                Draft::new(
                    Severity::Info,
                    format!(
                        "The access is {access}; IKE works here because it runs on UDP 4500 (NAT traversal) from the start, \
                         which the shared-address port mapping carries. Keep it that way: UDP 500 would not get through"
                    ),
                    sa.messages().iter().take(2).map(|m| m.frame).collect(),
                )
                .ja(format!(
                    "回線は{access_ja}です。ここで IKE が動いているのは、最初から UDP 4500 (NAT トラバーサル) を使っており、共有アドレスのポートマッピングがそれを通すためです。この設定を維持してください: UDP 500 は通りません"
                ))
                .sa(sa),
                )
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::map_e_port_set;
    use crate::diag::rules::testkit::*;

    #[test]
    fn v6plus_port_sets() {
        // lab-both map_e: PSID 60, ports 5056-5071 (psid_offset 4).
        let (psid, ranges) = map_e_port_set(5061).unwrap();
        assert_eq!(psid, 60);
        assert_eq!(ranges.len(), 15);
        assert_eq!(ranges[0], (5056, 5071));
        assert_eq!(ranges[14], (62400, 62415));
        assert!(ranges.iter().all(|(lo, hi)| hi - lo == 15));
        assert!(map_e_port_set(500).is_none());
        assert!(map_e_port_set(4095).is_none());
    }

    /// IKE_SA_INIT from port 5061 to 500, sent three times, never answered.
    fn from_high_port(side: Side) -> crate::session::Analysis {
        let mut sa = sa_v2(side);
        sa.initiator.port = 5061;
        for (f, t) in [(1, 0.0), (2, 0.4), (3, 1.0)] {
            push(&mut sa, 34, 0, Dir::Request, f, t, 464);
        }
        for x in &mut sa.exchanges {
            for m in &mut x.messages {
                m.src.port = 5061;
            }
        }
        analysis(vec![sa])
    }

    #[test]
    fn rewritten_port_seen_past_the_nat() {
        let f = run("map-e-port-restriction", &from_high_port(Side::Responder));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("PSID 60"), "{}", f[0].message);
        assert!(!f[0].vantage.reading.is_empty());
    }

    #[test]
    fn own_high_port_at_the_client_is_no_rewrite() {
        assert!(run("map-e-port-restriction", &from_high_port(Side::Initiator)).is_empty());
    }
}
