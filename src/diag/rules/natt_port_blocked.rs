//! NET004 `natt-port-blocked`: IKE_SA_INIT worked on UDP 500, the peers
//! moved to 4500, and 4500 is silent.

use super::{fixes, icmp_for, pending};
use crate::decode::Transport;
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity, plural, secs};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "NET004",
    name: "natt-port-blocked",
    severity: Severity::Error,
    summary: "UDP 4500 (NAT traversal) is blocked after a successful exchange on UDP 500",
    doc: RuleDoc {
        detects: "An IKE SA whose IKE_SA_INIT (or IKEv1 Main Mode start) was answered on UDP 500, \
                  whose peers then switched to UDP 4500 (RFC 7296 section 2.23, RFC 3947), and \
                  whose first request on 4500 is never answered, while nothing at all comes back on \
                  4500 and the lost messages are small enough to fit any path.",
        why_it_fails: "After NAT detection (or with MOBIKE) both peers continue on UDP 4500; if a \
                       firewall or NAT passes 500 but not 4500, IKE_AUTH never completes.",
        evidence: "The answered exchange on 500, the first message on 4500, and its unanswered \
                   retransmissions.",
        likely_causes: "A firewall rule that opens only UDP 500 (and ESP) for IPsec; a NAT that maps \
                        500 but not 4500; a cloud security group missing UDP 4500.",
        how_to_fix: "Open UDP 4500 in both directions between the peers on every firewall and NAT in \
                     the path.",
    },
    summary_ja: "UDP 500 では成功した後、UDP 4500 (NAT トラバーサル) が遮断されている",
    doc_ja: RuleDoc {
        detects: "IKE_SA_INIT (または IKEv1 Main Mode の開始) に UDP 500 で応答があり、その後ピアが UDP 4500 に移り (RFC 7296 2.23 節、RFC 3947)、4500 での最初の要求に応答がなく、4500 では何も返ってこず、失われたメッセージはどの経路にも収まる小ささである場合。",
        why_it_fails: "NAT 検出の後 (または MOBIKE の場合) 両ピアは UDP 4500 で続けます。ファイアウォールや NAT が 500 は通して 4500 を通さないと、IKE_AUTH が完了しません。",
        evidence: "UDP 500 で応答のあった交換、4500 での最初のメッセージ、その応答のない再送。",
        likely_causes: "IPsec 用に UDP 500 (と ESP) だけを開けたファイアウォールのルール、500 はマッピングするが 4500 はしない NAT、UDP 4500 のないクラウドのセキュリティグループ。",
        how_to_fix: "経路上のすべてのファイアウォールと NAT で、ピア間の UDP 4500 を双方向に許可してください。",
    },
    check,
};

/// Larger requests are judged by the MTU rules instead.
const SMALL: u32 = 1200;

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        let Some(switch) = sa.natt_switch_frame else {
            continue;
        };
        let msgs = sa.messages();
        let responder_on_4500 = msgs
            .iter()
            .any(|m| !m.from_initiator && m.transport == Transport::UdpNatt);
        if responder_on_4500 || icmp_for(a, sa).next().is_some() {
            continue;
        }
        for p in pending(sa) {
            let first = p.first();
            if first.transport != Transport::UdpNatt || p.fragmented() || p.max_len() > SMALL {
                continue;
            }
            let mut msg = format!(
                "IKE_SA_INIT was answered on UDP 500, then from frame {switch} the peers moved to UDP 4500, \
                 and the {} to {} on UDP 4500 got no answer ({} over {}): UDP 4500 is blocked",
                p.what(sa),
                first.dst.addr,
                plural(p.sends.len(), "transmission"),
                secs(p.span_ns())
            );
            if sa.nat.initiator_behind_nat || sa.nat.responder_behind_nat {
                msg.push_str("; NAT was detected, so NAT traversal on 4500 is required");
            }
            let mut frames = p.all_frames.clone();
            frames.extend(
                msgs.iter()
                    .filter(|m| m.transport == Transport::Udp)
                    .map(|m| m.frame),
            );
            let mut ja = format!(
                "IKE_SA_INIT には UDP 500 で応答があり、フレーム {switch} からピアは UDP 4500 に移りましたが、UDP 4500 で {} に送った {} に応答がありません ({} にわたり {} 回送信): UDP 4500 が遮断されています",
                first.dst.addr,
                p.what_ja(sa),
                secs(p.span_ns()),
                p.sends.len()
            );
            if sa.nat.initiator_behind_nat || sa.nat.responder_behind_nat {
                ja.push_str("。NAT が検出されているため、4500 での NAT トラバーサルが必要です");
            }
            e.emit(
                Draft::new(Severity::Error, msg, frames)
                    .ja(ja)
                    .sa(sa)
                    .exchange(p.exchange.name.clone())
                    .confidence(Confidence::Likely)
                    .fix(fixes::open_ike_ports(&first.dst.addr.to_string(), &[4500])),
            );
        }
    }
}
