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
                  4500 and the lost messages are small enough to fit any path. At the responder: IKE_SA_INIT answered with a NAT detected and nothing more from the initiator \
                  while the capture goes on (possible: the other readings are said).",
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
        detects: "IKE_SA_INIT (または IKEv1 Main Mode の開始) に UDP 500 で応答があり、その後ピアが UDP 4500 に移り (RFC 7296 2.23 節、RFC 3947)、4500 での最初の要求に応答がなく、4500 では何も返ってこず、失われたメッセージはどの経路にも収まる小ささである場合。 レスポンダ側では、NAT を検出して IKE_SA_INIT に応答した後、キャプチャが続いているのにイニシエータから何も届かない場合 (可能性: 他の読み方も示します)。",
        why_it_fails: "NAT 検出の後 (または MOBIKE の場合) 両ピアは UDP 4500 で続けます。ファイアウォールや NAT が 500 は通して 4500 を通さないと、IKE_AUTH が完了しません。",
        evidence: "UDP 500 で応答のあった交換、4500 での最初のメッセージ、その応答のない再送。",
        likely_causes: "IPsec 用に UDP 500 (と ESP) だけを開けたファイアウォールのルール、500 はマッピングするが 4500 はしない NAT、UDP 4500 のないクラウドのセキュリティグループ。",
        how_to_fix: "経路上のすべてのファイアウォールと NAT で、ピア間の UDP 4500 を双方向に許可してください。",
    },
    check,
};

/// Larger requests are judged by the MTU rules instead.
const SMALL: u32 = 1200;

/// At the responder: IKE_SA_INIT answered on UDP 500 with a NAT detected
/// (so the initiator moves to UDP 4500 for IKE_AUTH), and nothing more of
/// the initiator ever arrives although the capture goes on.
fn nothing_arrives_on_4500(a: &Analysis, e: &mut Emitter<'_>) {
    let capture_end = a.stats.last_ts_ns.unwrap_or(0);
    for sa in &a.sas {
        if sa.version != 2 || sa.capture_side != crate::session::CaptureSide::Responder {
            continue;
        }
        if !(sa.nat.initiator_behind_nat || sa.nat.responder_behind_nat) {
            continue;
        }
        let Some(init) = sa.exchange(super::exch::IKE_SA_INIT) else {
            continue;
        };
        let Some(resp) = init.first_response() else {
            continue;
        };
        if resp.transport != Transport::Udp || !super::init_accepted(sa) {
            continue;
        }
        let more = sa
            .messages()
            .iter()
            .any(|m| m.from_initiator && m.ts_ns > resp.ts_ns && m.transport != Transport::Udp)
            || sa
                .exchanges
                .iter()
                .any(|x| x.exchange_type != super::exch::IKE_SA_INIT);
        if more || capture_end - resp.ts_ns < 5_000_000_000 {
            continue;
        }
        let frames: Vec<u64> = init.messages.iter().map(|m| m.frame).collect();
        e.emit(
            Draft::new(
                Severity::Error,
                format!(
                    "{} answered IKE_SA_INIT on UDP 500 (frame {}) and detected a NAT, so {} moves to UDP 4500 for \
                     IKE_AUTH, but nothing more from it arrived in the following {}: UDP 4500 is likely blocked on \
                     the way here. The other reading: the IKE_AUTH request is lost for another reason (IP fragments \
                     of a large request dropped, see mtu-blackhole), or the initiator gave up after IKE_SA_INIT; a \
                     capture at the initiator or its log decides",
                    sa.responder.addr,
                    resp.frame,
                    sa.initiator.addr,
                    secs(capture_end - resp.ts_ns),
                ),
                frames,
            )
            .ja(format!(
                "{} は UDP 500 で IKE_SA_INIT に応答し (フレーム {})、NAT を検出しました。{} は IKE_AUTH で UDP 4500 に移りますが、その後 {} の間、何も届いていません: UDP 4500 が途中で遮断されている可能性が高いです。別の読み方として、IKE_AUTH 要求が別の理由で失われた (大きな要求の IP フラグメントの破棄、mtu-blackhole を参照) か、イニシエータが IKE_SA_INIT の後に諦めたことも考えられます。イニシエータ側のキャプチャかログで判断できます",
                sa.responder.addr,
                resp.frame,
                sa.initiator.addr,
                secs(capture_end - resp.ts_ns),
            ))
            .sa(sa)
            .exchange("IKE_AUTH")
            .confidence(Confidence::Possible)
            .seen_from(
                "seen at the responder: a request lost on the way leaves no trace here, so the silence after \
                 IKE_SA_INIT is the evidence",
                "レスポンダ側のキャプチャです: 途中で失われた要求はここには何の痕跡も残さないため、IKE_SA_INIT 後の無音が証拠です",
            )
            .fix(fixes::open_ike_ports(&sa.responder.addr.to_string(), &[4500])),
        );
    }
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    nothing_arrives_on_4500(a, e);
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
            if first.transport != Transport::UdpNatt
                || p.fragmented()
                || p.max_len() > SMALL
                || p.cut_by_capture_end(a)
            {
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

#[cfg(test)]
mod tests {
    use crate::diag::Severity;
    use crate::diag::rules::testkit::*;

    fn init_only(side: Side, nat: bool) -> crate::session::Analysis {
        let mut sa = sa_v2(side);
        sa.nat.initiator_behind_nat = nat;
        push(&mut sa, 34, 0, Dir::Request, 1, 0.0, 456);
        push(&mut sa, 34, 0, Dir::Response, 2, 0.003, 509);
        analysis(vec![sa])
    }

    #[test]
    fn silence_after_init_with_nat_at_the_responder() {
        let a = init_only(Side::Responder, true);
        let f = run("natt-port-blocked", &a);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].confidence, crate::diag::Confidence::Possible);
        assert!(
            f[0].message.contains("The other reading"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn no_nat_or_other_vantage_no_claim() {
        assert!(run("natt-port-blocked", &init_only(Side::Responder, false)).is_empty());
        assert!(run("natt-port-blocked", &init_only(Side::Initiator, true)).is_empty());
    }
}
