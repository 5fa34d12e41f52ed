//! IKE007 `dpd-timeout`: liveness checks unanswered: peer dead or path lost.

use super::{authenticated, frame_list, frame_list_ja, icmp_for, pending};
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, plural, secs};
use crate::session::Analysis;
use crate::wire::icmp::ErrorKind;

pub(crate) static RULE: Rule = Rule {
    code: "IKE007",
    name: "dpd-timeout",
    severity: Severity::Error,
    summary: "Dead peer detection timed out: the peer or the path is gone",
    doc: RuleDoc {
        detects: "Liveness checks of an established SA (IKEv2 empty INFORMATIONAL requests, IKEv1 \
                  R-U-THERE) retransmitted and never answered.",
        why_it_fails: "After the last retransmission the sender declares the peer dead and deletes \
                       the SAs: the tunnel drops.",
        evidence: "The unanswered liveness checks, and ICMP errors that came back instead.",
        likely_causes: "The peer rebooted or its IKE daemon stopped (then ICMP port unreachable often \
                        comes back); the path broke (Wi-Fi/mobile handover, NAT mapping expired \
                        because keepalives were off); a firewall state timeout for UDP 4500.",
        how_to_fix: "Check the peer is up; keep NAT mappings alive (NAT-T keepalives, strongSwan \
                     charon.keep_alive = 20s); raise UDP timeouts on firewalls; use MOBIKE for roaming.",
    },
    summary_ja: "DPD (Dead Peer Detection) がタイムアウト: 相手か経路が失われた",
    doc_ja: RuleDoc {
        detects: "確立済み SA の死活監視 (IKEv2 の空の INFORMATIONAL 要求、IKEv1 の R-U-THERE) が再送されても応答がない。",
        why_it_fails: "最後の再送の後、送信側は相手がダウンしたと判断して SA を削除し、トンネルが切れます。",
        evidence: "応答のない死活監視と、代わりに返ってきた ICMP エラー。",
        likely_causes: "相手が再起動した、または IKE デーモンが停止した (その場合は ICMP port unreachable が返ることが多い)、経路が切れた (Wi-Fi やモバイル回線の切り替え、キープアライブ無効による NAT マッピングの消失)、ファイアウォールの UDP 4500 のセッションタイムアウト。",
        how_to_fix: "相手が稼働しているか確認してください。NAT のマッピングを維持し (NAT-T キープアライブ、strongSwan の charon.keep_alive = 20s)、ファイアウォールの UDP タイムアウトを延ばし、移動する端末では MOBIKE を使ってください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        if sa.version == 2 && !authenticated(sa) {
            continue;
        }
        for p in pending(sa) {
            if !p.exchange.is_dpd(sa.version) || p.sends.len() < 2 {
                continue;
            }
            let icmp: Vec<_> = icmp_for(a, sa)
                .filter(|i| i.ts_ns >= p.first().ts_ns)
                .collect();
            let port_unreach: Vec<u64> = icmp
                .iter()
                .filter(|i| i.kind == ErrorKind::PortUnreachable)
                .map(|i| i.frame)
                .collect();
            let first = p.first();
            let mut msg = format!(
                "Dead peer detection from {} to {} went unanswered: {} over {}, after which the sender gives up and deletes the tunnel",
                first.src.addr,
                first.dst.addr,
                plural(p.sends.len(), "liveness check"),
                secs(p.span_ns())
            );
            if !port_unreach.is_empty() {
                msg.push_str(&format!(
                    "; {} answered with ICMP port unreachable ({}): the host is up but its IKE daemon is not",
                    first.dst.addr,
                    frame_list(&port_unreach)
                ));
            } else {
                msg.push_str("; nothing came back at all: the peer is down or the path is lost");
            }
            let mut ja = format!(
                "{} から {} への DPD (死活監視) に応答がありません: {} にわたり {} 回送信され、この後送信側は諦めてトンネルを削除します",
                first.src.addr,
                first.dst.addr,
                secs(p.span_ns()),
                p.sends.len()
            );
            if !port_unreach.is_empty() {
                ja.push_str(&format!(
                    "。{} が ICMP port unreachable を返しています ({}): ホストは稼働していますが IKE デーモンが動いていません",
                    first.dst.addr,
                    frame_list_ja(&port_unreach)
                ));
            } else {
                ja.push_str("。何も返ってきていません: 相手がダウンしているか経路が失われています");
            }
            let mut frames = p.all_frames.clone();
            frames.extend(icmp.iter().map(|i| i.frame));
            e.emit(
                Draft::new(Severity::Error, msg, frames)
                    .ja(ja)
                    .sa(sa)
                    .exchange(p.exchange.name.clone())
                    .fix(if port_unreach.is_empty() {
                        super::fixes::keep_alive()
                    } else {
                        super::fixes::start_daemon()
                    }),
            );
        }
    }
}
