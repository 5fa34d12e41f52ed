//! NET012 `mss-too-large`: TCP through the tunnel uses segments larger than
//! the tunnel carries.

use super::fixes;
use super::{frame_list, frame_list_ja};
use crate::diag::pmtu::{assumed_suite, path_mtu};
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity};
use crate::mtu::{Access, Encapsulation, Mode, TunnelLimits};
use crate::session::Analysis;
use crate::wire::icmp::ErrorKind;

pub(crate) static RULE: Rule = Rule {
    code: "NET012",
    name: "mss-too-large",
    severity: Severity::Error,
    summary: "TCP segments are larger than the tunnel carries: clamp the MSS",
    doc: RuleDoc {
        detects: "ESP packets larger than the path MTU (ICMP fragmentation-needed quoting ESP, or ESP \
                  that had to be IP-fragmented); full-sized TCP segments retransmitted again and again \
                  while small packets pass (a capture on the tunnel interface); or a TCP MSS option \
                  above the MSS the measured path allows.",
        why_it_fails: "The tunnel comes up and small packets pass, but every full-sized TCP segment \
                       becomes an ESP packet above the path MTU: it is dropped or fragmented, and \
                       fragments are often dropped. Web pages hang, uploads stall, SSH works.",
        evidence: "The SYN MSS, the oversized ESP packets or retransmitted segments, and the ICMP \
                   that gives the path MTU.",
        likely_causes: "Nobody clamps the TCP MSS on the VPN gateway; the tunnel interface MTU \
                        (often 1400 or 1500) is above what the path (PPPoE, MAP-E, mobile) carries \
                        after IPsec overhead; ICMP filtered, so PMTU discovery cannot correct it.",
        how_to_fix: "Clamp the TCP MSS on the VPN gateway in both directions and lower the tunnel \
                     MTU to the values given (computed for this path and these algorithms).",
    },
    summary_ja: "TCP セグメントがトンネルに収まらない: MSS をクランプする",
    doc_ja: RuleDoc {
        detects: "経路 MTU を超える ESP パケット (ESP を引用した ICMP fragmentation needed、または IP フラグメント化が必要だった ESP)、小さいパケットは通るのに最大長の TCP セグメントだけが何度も再送される (トンネルインタフェースでのキャプチャ)、または計測された経路で許される値を超える TCP MSS オプション。",
        why_it_fails: "トンネルは確立し小さいパケットは通りますが、最大長の TCP セグメントはすべて経路 MTU を超える ESP パケットになり、破棄されるかフラグメント化され、そのフラグメントもしばしば破棄されます。Web ページが途中で止まる、アップロードが止まる、SSH は使える、という症状になります。",
        evidence: "SYN の MSS、大きすぎる ESP パケットまたは再送されるセグメント、経路 MTU を示す ICMP。",
        likely_causes: "VPN ゲートウェイで誰も TCP MSS をクランプしていない、トンネルインタフェースの MTU (1400 や 1500 が多い) が IPsec のオーバーヘッドを引いた経路 (PPPoE、MAP-E、モバイル) の許容量を超えている、ICMP が遮断されていて PMTU 探索で補正できない。",
        how_to_fix: "VPN ゲートウェイで双方向に TCP MSS をクランプし、トンネル MTU を示された値 (この経路とアルゴリズムで計算した値) に下げてください。",
    },
    check,
};

/// The tightest limits over the common access lines, when the path is unknown.
fn conservative() -> Option<(TunnelLimits, &'static str)> {
    let mut best: Option<(TunnelLimits, &'static str)> = None;
    for (acc, name) in [
        (Access::Ethernet, "Ethernet"),
        (Access::Pppoe, "PPPoE"),
        (Access::MapE, "MAP-E / DS-Lite"),
        (Access::PppoeMapE, "MAP-E over PPPoE"),
    ] {
        // NAT traversal assumed: it adds 8 bytes, so the result fits either way.
        let l = fixes::limits(acc.path_mtu(), true, false)?;
        if best
            .as_ref()
            .is_none_or(|(b, _)| l.tunnel_mtu < b.tunnel_mtu)
        {
            best = Some((l, name));
        }
    }
    best
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let (suite, suite_why, suite_why_ja) = assumed_suite(a);
    let natt = a.esp_flows.iter().any(|f| f.udp_ports.is_some())
        || a.sas.iter().any(|s| s.natt_switch_frame.is_some());
    let pm = path_mtu(a);
    let limits_for = |mtu: u32| {
        Encapsulation {
            mode: Mode::Tunnel,
            natt,
            outer_ipv6: false,
            tcp: false,
            ah: false,
            suite: suite.clone(),
        }
        .limits(mtu)
    };
    // B. ESP larger than the path MTU an ICMP error reported.
    let esp_icmp: Vec<_> = a
        .icmp_errors
        .iter()
        .filter(|i| i.kind == ErrorKind::FragmentationNeeded && i.mtu.is_some())
        .filter(|i| i.quoted_esp_spi.is_some() || i.quoted_protocol == Some(50))
        .collect();
    if let Some(i) = esp_icmp.first() {
        let m = i.mtu.unwrap_or(0);
        let big: Vec<_> = a
            .esp_flows
            .iter()
            .filter(|f| f.max_ip_payload_len + 20 > m)
            .collect();
        let mut frames: Vec<u64> = esp_icmp.iter().map(|i| i.frame).collect();
        frames.extend(big.iter().map(|f| f.first_frame));
        let largest = big
            .iter()
            .map(|f| f.max_ip_payload_len + 20)
            .max()
            .unwrap_or(i.quoted_len.unwrap_or(0));
        let mut msg = format!(
            "ESP packets of up to {largest} bytes exceed the path MTU of {m} bytes that {} reported in ICMP 'fragmentation needed' ({}): full-sized packets in the tunnel are fragmented or dropped",
            i.src,
            frame_list(&esp_icmp.iter().map(|i| i.frame).collect::<Vec<_>>())
        );
        let mut ja = format!(
            "最大 {largest} バイトの ESP パケットが、{} が ICMP fragmentation needed ({}) で通知した経路 MTU {m} バイトを超えています: トンネル内の最大長のパケットはフラグメント化されるか破棄されます",
            i.src,
            frame_list_ja(&esp_icmp.iter().map(|i| i.frame).collect::<Vec<_>>())
        );
        if let Some(l) = limits_for(m) {
            ja.push_str(&format!(
                "。トンネルで通せる内側のパケットは最大 {} バイトです ({}、{suite_why_ja}): TCP MSS を {} にクランプし、トンネル MTU を {} にしてください",
                l.tunnel_mtu,
                if natt { "NAT-T あり" } else { "NAT-T なし" },
                l.tcp_mss_ipv4,
                l.tunnel_mtu
            ));
        }
        let mut fix = Vec::new();
        if let Some(l) = limits_for(m) {
            msg.push_str(&format!(
                ". The tunnel carries at most {}-byte inner packets ({}; {suite_why}): clamp the TCP MSS to {} and set the tunnel MTU to {}",
                l.tunnel_mtu,
                if natt { "NAT-T" } else { "no NAT-T" },
                l.tcp_mss_ipv4,
                l.tunnel_mtu
            ));
            fix = fixes::mtu_mss(&l);
        }
        e.emit(
            Draft::new(Severity::Error, msg, frames)
                .ja(ja)
                .confidence(Confidence::Likely)
                .fix(fix),
        );
        return;
    }
    // C. Full-sized segments retransmitted (a capture inside the tunnel).
    let retx: Vec<_> = a
        .tcp_retransmissions
        .iter()
        .filter(|r| r.packet_len >= 1000 && r.frames.len() >= 3)
        .collect();
    if let Some(r) = retx.first() {
        let mss = a
            .syns
            .iter()
            .filter(|s| (s.src == r.src && s.dst == r.dst) || (s.src == r.dst && s.dst == r.src))
            .filter_map(|s| s.mss.map(|m| (m, s.frame)))
            .collect::<Vec<_>>();
        let mss_text = if mss.is_empty() {
            String::new()
        } else {
            format!(
                " with MSS {} (SYN {})",
                mss.iter()
                    .map(|(m, _)| m.to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
                frame_list(&mss.iter().map(|(_, f)| *f).collect::<Vec<_>>())
            )
        };
        let basis_ja = match pm.as_ref().and_then(|p| p.value.or(p.upper)) {
            Some(v) => format!("このキャプチャで計測した経路 MTU {v} バイト"),
            None => match conservative() {
                Some((l, acc)) => format!(
                    "代表的なアクセス回線のうち最も小さいもの ({acc}、経路 MTU {})、NAT-T と AES-CBC-256/SHA-256 を仮定。このキャプチャには経路が写っていないので、DF 付き ping スイープで計測してください",
                    l.path_mtu
                ),
                None => String::new(),
            },
        };
        let (limits, basis) = match pm.as_ref().and_then(|p| p.value.or(p.upper)) {
            Some(v) => (
                limits_for(v),
                format!("the path MTU of {v} bytes measured in this capture"),
            ),
            None => match conservative() {
                Some((l, acc)) => {
                    let path = l.path_mtu;
                    (
                        Some(l),
                        format!(
                            "the smallest common access line ({acc}, path MTU {path}) with NAT-T and AES-CBC-256/SHA-256, since this capture does not show the path; measure it with a DF ping sweep"
                        ),
                    )
                }
                None => (None, String::new()),
            },
        };
        let mut msg = format!(
            "TCP from {} to {}{mss_text} sends {}-byte packets that never get through: the segment at sequence {} went out {} times ({}) while small packets pass",
            r.src,
            r.dst,
            r.packet_len,
            r.seq,
            r.frames.len(),
            frame_list(&r.frames)
        );
        let mut ja = format!(
            "{} から {} への TCP{} が送る {} バイトのパケットが届いていません: シーケンス {} のセグメントが {} 回送られています ({})。小さいパケットは通っています",
            r.src,
            r.dst,
            if mss.is_empty() {
                String::new()
            } else {
                format!(
                    " (MSS {}、SYN {})",
                    mss.iter()
                        .map(|(m, _)| m.to_string())
                        .collect::<Vec<_>>()
                        .join("/"),
                    frame_list_ja(&mss.iter().map(|(_, f)| *f).collect::<Vec<_>>())
                )
            },
            r.packet_len,
            r.seq,
            r.frames.len(),
            frame_list_ja(&r.frames)
        );
        if let Some(l) = &limits {
            ja.push_str(&format!(
                "。TCP MSS を {} にクランプし、トンネル MTU を {} にしてください ({basis_ja} で計算)",
                l.tcp_mss_ipv4, l.tunnel_mtu
            ));
        }
        let mut fix = Vec::new();
        if let Some(l) = limits {
            msg.push_str(&format!(
                ". Clamp the TCP MSS to {} and set the tunnel MTU to {} (computed for {basis})",
                l.tcp_mss_ipv4, l.tunnel_mtu
            ));
            fix = fixes::mtu_mss(&l);
        }
        let mut frames = r.frames.clone();
        frames.extend(mss.iter().map(|(_, f)| *f));
        e.emit(
            Draft::new(Severity::Error, msg, frames)
                .ja(ja)
                .confidence(Confidence::Likely)
                .fix(fix),
        );
        return;
    }
    // A. A SYN MSS above what the measured path allows.
    if let Some(v) = pm.as_ref().and_then(|p| p.value)
        && let Some(l) = limits_for(v)
        && let Some(s) = a
            .syns
            .iter()
            .find(|s| s.mss.is_some_and(|m| u32::from(m) > l.tcp_mss_ipv4))
    {
        e.emit(
            Draft::new(
                Severity::Warning,
                format!(
                    "{} advertises TCP MSS {} (frame {}), above the {} that fits a tunnel over this {v}-byte path: if this traffic crosses the VPN, clamp the MSS",
                    s.src,
                    s.mss.unwrap_or(0),
                    s.frame,
                    l.tcp_mss_ipv4
                ),
                vec![s.frame],
            )
            .ja(format!(
                "{} が TCP MSS {} を広告しています (フレーム {}) が、この {v} バイトの経路上のトンネルに収まるのは {} までです: この通信が VPN を通るなら MSS をクランプしてください",
                s.src,
                s.mss.unwrap_or(0),
                s.frame,
                l.tcp_mss_ipv4
            ))
            .fix(fixes::mtu_mss(&l)),
        );
    }
}
