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
    summary_ja: "キャプチャで計測された経路 MTU と、それに基づくトンネル MTU・MSS",
    doc_ja: RuleDoc {
        detects: "経路 MTU の根拠: MTU 値付きの ICMP fragmentation needed / packet too big、DF 付き ping スイープ (Windows の `ping -f -l`、Linux の `ping -M do -s`: どのサイズが応答され、どれが ICMP で拒否され、どれが消えたか)、通過した最大のパケット。",
        why_it_fails: "それ自体は問題ではありません。ただし IPsec のパケットは中身より必ず大きくなるため、1500 未満の経路 MTU (PPPoE、MAP-E、トンネル、モバイル) では、トンネル MTU と TCP MSS を小さくしないと大きなパケットが失われます。",
        evidence: "経路 MTU を挟み込む ping と ICMP エラー、およびヘッダの計算。",
        likely_causes: "PPPoE (1492)、IPv4-in-IPv6 回線 (1460)、経路上の GRE などのトンネル、モバイル回線。",
        how_to_fix: "示された値 (docs/mtu.md のオーバーヘッドモデルで使用中のアルゴリズムについて計算した値) でトンネル MTU を設定し TCP MSS をクランプしてください。別の設定での計算は `ikediag mtu` で行えます。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let Some(p) = path_mtu(a) else { return };
    let (suite, suite_why, suite_why_ja) = assumed_suite(a);
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
    let target_ja = p.dst.map(|d| format!("{d} への")).unwrap_or_default();
    let mtu_ja = match (p.value, p.lower, p.upper) {
        (Some(v), _, _) => format!("{target_ja}経路 MTU は {v} バイトです"),
        (None, Some(l), Some(u)) => format!("{target_ja}経路 MTU は {l}〜{u} バイトです"),
        (None, Some(l), None) => format!("{target_ja}経路 MTU は少なくとも {l} バイトです"),
        (None, None, Some(u)) => format!("{target_ja}経路 MTU は最大 {u} バイトです"),
        (None, None, None) => return,
    };
    let mut ja = format!("{mtu_ja}: {}", p.evidence_ja.join("。"));
    if let Some(v) = base.filter(|v| *v < 1500) {
        ja.push_str(&format!(
            "。Ethernet の 1500 バイトより {} バイト小さい値です",
            1500 - v
        ));
    }
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
            ja.push_str(&format!(
                "。この経路上の IPsec トンネル ({}、{suite_why_ja}) で通せる内側のパケットは最大 {} バイト: トンネル MTU {}、TCP MSS {} (IPv4) / {} (IPv6)",
                if natt { "NAT-T あり" } else { "NAT-T なし" },
                l.tunnel_mtu,
                l.tunnel_mtu,
                l.tcp_mss_ipv4,
                l.tcp_mss_ipv6
            ));
            fix = fixes::mtu_mss(&l);
        }
    }
    e.emit(
        Draft::new(Severity::Info, msg, p.frames.clone())
            .ja(ja)
            .fix(fix),
    );
}
