//! NET009 `map-e-port-restriction`: IPv4-in-IPv6 (MAP-E / DS-Lite) access
//! and UDP 500 silent: the shared IPv4 address cannot carry port 500.

use super::{exch, is_shared_address, pending};
use crate::decode::Transport;
use crate::diag::{Confidence, Draft, Emitter, FixStep, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "NET009",
    name: "map-e-port-restriction",
    severity: Severity::Error,
    summary: "MAP-E / DS-Lite access: the shared IPv4 address cannot carry UDP 500",
    doc: RuleDoc {
        detects: "IPv4 carried in IPv6 (MAP-E, DS-Lite, \"v6 plus\" style ISPs) or an initiator \
                  address from the RFC 6598 shared range, together with IKE_SA_INIT on UDP 500 that \
                  is never answered; or, as information, IKE working on UDP 4500 over such an access.",
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
        detects: "IPv6 で運ばれる IPv4 (MAP-E、DS-Lite、「v6 プラス」型の ISP)、または RFC 6598 の共有アドレス帯のイニシエータで、UDP 500 の IKE_SA_INIT に応答がない場合。あるいは情報として、そうした回線で UDP 4500 で IKE が動いている場合。",
        why_it_fails: "これらの回線は 1 つの IPv4 アドレスを複数の契約者で共有し、各契約者に少数の高位ポートを割り当てます。UDP 500 はその範囲のポートから出ていくため、送信元ポート 500 を前提とする (またはそれでフィルタする) サーバは応答しません。",
        evidence: "IPv4-in-IPv6 のカプセル化 (外側の IPv6 アドレス) と、応答のない IKE_SA_INIT。",
        likely_causes: "MAP-E / DS-Lite / CGNAT の回線、送信元ポート 500 からの IKE しか受け付けない VPN サーバやファイアウォール。",
        how_to_fix: "サーバに IPv6 があれば IPv6 で IPsec を使う、最初から UDP 4500 で IKE を始める (strongSwan の local_port/remote_port = 4500)、IKE over TCP (RFC 8229) を使う、VPN の通信を IPv4-in-IPv6 トンネルではなく PPPoE (IPv4) に流す、または SSL-VPN を使ってください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
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
            p.exchange.exchange_type == exch::IKE_SA_INIT && p.first().transport == Transport::Udp
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
