//! NET011 `pmtu-icmp-filtered`: DF packets larger than the path MTU vanish
//! and no ICMP says why.

use crate::diag::pmtu::path_mtu;
use crate::diag::{Draft, Emitter, FixStep, Rule, RuleDoc, Severity, plural};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "NET011",
    name: "pmtu-icmp-filtered",
    severity: Severity::Warning,
    summary: "DF packets above the path MTU vanish without ICMP: PMTU discovery is broken",
    doc: RuleDoc {
        detects: "DF probes (pings) larger than the largest size that crossed, which got neither a \
                  reply nor an ICMP fragmentation-needed / packet-too-big error.",
        why_it_fails: "Path MTU discovery (RFC 1191, RFC 8201) depends on that ICMP. Without it, \
                       senders keep sending packets that are silently dropped: large IKE messages, \
                       full-sized TCP segments through the tunnel (a PMTU black hole).",
        evidence: "The vanished probes and the bracket they leave.",
        likely_causes: "A firewall that drops all ICMP; a router configured not to send \
                        unreachables; asymmetric filtering on the return path.",
        how_to_fix: "Allow ICMP type 3 code 4 and ICMPv6 type 2 through every firewall; until then \
                     clamp the TCP MSS and lower the tunnel MTU to the measured path MTU (see \
                     path-mtu).",
    },
    summary_ja: "経路 MTU を超える DF パケットが ICMP なしで消える: PMTU 探索が機能しない",
    doc_ja: RuleDoc {
        detects: "通過した最大サイズより大きい DF 付きのプローブ (ping) で、応答も ICMP fragmentation needed / packet too big も返らなかったもの。",
        why_it_fails: "経路 MTU 探索 (RFC 1191、RFC 8201) はこの ICMP に依存しています。それがないと、送信側は黙って破棄されるパケットを送り続けます: 大きな IKE メッセージや、トンネルを通る最大長の TCP セグメント (PMTU ブラックホール)。",
        evidence: "消えたプローブと、それによって残る範囲。",
        likely_causes: "すべての ICMP を破棄するファイアウォール、到達不能を送らない設定のルータ、戻り経路での非対称なフィルタ。",
        how_to_fix: "すべてのファイアウォールで ICMP タイプ 3 コード 4 と ICMPv6 タイプ 2 を通してください。それまでは TCP MSS をクランプし、トンネル MTU を計測された経路 MTU に合わせて下げてください (path-mtu を参照)。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let Some(p) = path_mtu(a) else { return };
    if p.vanished_frames.len() < 2 || !p.icmp_frames.is_empty() {
        return;
    }
    let bound = p
        .lower
        .map(|l| format!(" larger than {l} bytes"))
        .unwrap_or_default();
    e.emit(
        Draft::new(
            Severity::Warning,
            format!(
                "{}{bound} vanished without any ICMP 'fragmentation needed' coming back: ICMP is filtered on the path, so path MTU discovery cannot work (a PMTU black hole)",
                plural(p.vanished_frames.len(), "DF probe")
            ),
            p.vanished_frames.clone(),
        )
        .ja(format!(
            "{}DF 付きプローブ {} 個が、ICMP fragmentation needed も返らずに消えています: 経路上で ICMP が遮断されているため、経路 MTU 探索が機能しません (PMTU ブラックホール)",
            p.lower.map(|l| format!("{l} バイトより大きい ")).unwrap_or_default(),
            p.vanished_frames.len()
        ))
        .fix(vec![FixStep {
            platform: "Firewalls on the path (nftables)".into(),
            commands: vec![
                "nft add rule inet filter forward icmp type destination-unreachable icmp code frag-needed accept".into(),
                "nft add rule inet filter forward icmpv6 type packet-too-big accept".into(),
            ],
        }]),
    );
}
