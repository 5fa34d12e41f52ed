//! NET003 `icmp-admin-prohibited`: a router refused IKE with ICMP
//! administratively prohibited or host/network unreachable.

use super::{frame_list, frame_list_ja};
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;
use crate::wire::icmp::ErrorKind;

pub(crate) static RULE: Rule = Rule {
    code: "NET003",
    name: "icmp-admin-prohibited",
    severity: Severity::Error,
    summary: "A firewall or router rejects IKE with ICMP (administratively prohibited / unreachable)",
    doc: RuleDoc {
        detects: "ICMP destination unreachable with code 9, 10 or 13 (administratively prohibited), or \
                  host/network unreachable (ICMPv6 1/1, 1/5, 1/6, 1/0, 1/3), quoting IKE traffic.",
        why_it_fails: "A router on the path refuses to forward IKE and says so; nothing reaches the \
                       responder.",
        evidence: "The ICMP errors, the router that sent them, and the IKE packets they quote.",
        likely_causes: "A firewall rule with REJECT (nftables `reject with icmp type admin-prohibited`, \
                        iptables `REJECT --reject-with icmp-admin-prohibited`), an ACL on a router, or no \
                        route to the VPN server.",
        how_to_fix: "Allow UDP 500 and 4500 (and ESP) towards the VPN server on the router that sent \
                     the ICMP error, or fix its routing.",
    },
    summary_ja: "ファイアウォールかルータが IKE を ICMP (administratively prohibited / unreachable) で拒否している",
    doc_ja: RuleDoc {
        detects: "IKE の通信を引用した、コード 9・10・13 (administratively prohibited) の ICMP 宛先到達不能、または host/network unreachable (ICMPv6 の 1/1、1/5、1/6、1/0、1/3)。",
        why_it_fails: "経路上のルータが IKE の転送を拒否し、その旨を返しています。レスポンダには何も届きません。",
        evidence: "ICMP エラー、それを送ったルータ、引用されている IKE パケット。",
        likely_causes: "REJECT を使うファイアウォールのルール (nftables の `reject with icmp type admin-prohibited`、iptables の `REJECT --reject-with icmp-admin-prohibited`)、ルータの ACL、VPN サーバへの経路がない。",
        how_to_fix: "ICMP エラーを返したルータで VPN サーバ宛ての UDP 500 と 4500 (と ESP) を許可するか、そのルーティングを修正してください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let mut groups: std::collections::BTreeMap<(String, String, Option<usize>), Vec<u64>> =
        Default::default();
    for i in &a.icmp_errors {
        let ike = i.quoted_protocol == Some(17)
            && (matches!(i.quoted_dst_port, Some(500 | 4500))
                || matches!(i.quoted_src_port, Some(500 | 4500)))
            || i.quoted_protocol == Some(50);
        let what = match i.kind {
            ErrorKind::AdminProhibited => "administratively prohibited",
            ErrorKind::HostUnreachable => "host/network unreachable",
            _ => continue,
        };
        if ike {
            groups
                .entry((
                    i.src.to_string(),
                    format!("{what} (type {} code {})", i.icmp_type, i.code),
                    i.sa,
                ))
                .or_default()
                .push(i.frame);
        }
    }
    for ((router, what, sa), frames) in groups {
        let s = sa.and_then(|s| a.sas.get(s));
        let mut related = frames.clone();
        if let Some(s) = s {
            related.extend(
                super::pending(s)
                    .iter()
                    .flat_map(|p| p.all_frames.iter().copied()),
            );
        }
        let target = s
            .map(|s| s.responder.to_string())
            .unwrap_or_else(|| "the VPN server".into());
        let mut d = Draft::new(
            Severity::Error,
            format!(
                "{router} rejects IKE to {target} with ICMP {what} ({}): a firewall or router on the path refuses it",
                frame_list(&frames)
            ),
            related,
        );
        if let Some(s) = s {
            d = d.sa(s);
            if let Some(p) = super::pending(s).first() {
                d = d.exchange(p.exchange.name.clone());
            }
            d = d.fix(super::fixes::open_ike_ports(
                &s.responder.addr.to_string(),
                &[500, 4500],
            ));
        }
        d = d.ja(format!(
            "{router} が {target} 宛ての IKE を ICMP {what} で拒否しています ({}): 経路上のファイアウォールかルータが通していません",
            frame_list_ja(&frames)
        ));
        e.emit(d);
    }
}
