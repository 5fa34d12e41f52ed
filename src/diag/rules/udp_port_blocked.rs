//! NET001 `udp-port-blocked`: IKE from one side never answered, no ICMP: a
//! silent drop on the path.

use super::{fixes, icmp_for, pending};
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity, plural, secs};
use crate::session::{Analysis, CaptureSide};

pub(crate) static RULE: Rule = Rule {
    code: "NET001",
    name: "udp-port-blocked",
    severity: Severity::Error,
    summary: "UDP 500 or 4500 silently dropped: the first IKE message is never answered and no ICMP comes back",
    doc: RuleDoc {
        detects: "The first message of an IKE SA (IKE_SA_INIT, or IKEv1 Main/Aggressive Mode message 1) \
                  is sent and retransmitted, nothing at all comes back from the responder, and no \
                  ICMP error refers to it.",
        why_it_fails: "Without an answer to the very first message no SA can start; the silence \
                       (no ICMP) means a firewall or NAT drops the packets without telling anyone.",
        evidence: "The transmissions of the first message, the port they used, and the absence of any \
                   packet from the responder.",
        likely_causes: "A firewall (cloud security group, ISP filter, corporate egress policy) drops \
                        UDP 500 or 4500; a CGNAT / MAP-E / DS-Lite access that cannot carry port 500; \
                        a responder that silently ignores the request (e.g. libreswan with \
                        ikev1-policy=drop for IKEv1); the wrong server address.",
        how_to_fix: "Open UDP 500 and 4500 (and ESP) towards the VPN server on every firewall in the \
                     path; behind CGNAT/MAP-E start IKE on UDP 4500 or use IKE over TCP; check the \
                     server's address and that its IKE daemon accepts this IKE version.",
    },
    summary_ja: "UDP 500 または 4500 が黙って破棄されている: 最初の IKE メッセージに応答も ICMP もない",
    doc_ja: RuleDoc {
        detects: "IKE SA の最初のメッセージ (IKE_SA_INIT、または IKEv1 の Main/Aggressive Mode メッセージ1) が送られて再送され、レスポンダからは一切何も返らず、それを示す ICMP エラーもない。",
        why_it_fails: "最初のメッセージに応答がなければ SA は始まりません。ICMP もないということは、ファイアウォールや NAT が誰にも知らせずにパケットを破棄しているということです。",
        evidence: "最初のメッセージの送信とそのポート、レスポンダからのパケットが一つもないこと。",
        likely_causes: "UDP 500 や 4500 を破棄するファイアウォール (クラウドのセキュリティグループ、ISP のフィルタ、社内の送信ポリシー)、ポート 500 を通せない CGNAT / MAP-E / DS-Lite の回線、要求を黙って無視するレスポンダ (例: IKEv1 に対する libreswan の ikev1-policy=drop)、サーバのアドレスの誤り。",
        how_to_fix: "経路上のすべてのファイアウォールで VPN サーバ宛ての UDP 500 と 4500 (と ESP) を開けてください。CGNAT / MAP-E の背後では UDP 4500 で IKE を始めるか IKE over TCP を使い、サーバのアドレスと、その IKE デーモンがこの IKE バージョンを受け付けるかを確認してください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    // Every address that sent IKE somewhere in the capture, once (not per
    // pending message per SA).
    let ike_senders: std::collections::HashSet<std::net::IpAddr> = a
        .sas
        .iter()
        .flat_map(|s| &s.exchanges)
        .flat_map(|x| &x.messages)
        .map(|m| m.src.addr)
        .collect();
    for sa in &a.sas {
        let responder_spoke = sa
            .exchanges
            .iter()
            .flat_map(|x| &x.messages)
            .any(|m| !m.from_initiator);
        if responder_spoke || icmp_for(a, sa).next().is_some() {
            continue;
        }
        for p in pending(sa) {
            let first = p.first();
            let opening = matches!(p.exchange.exchange_type, 34 | 2 | 4);
            // A single transmission proves little (the capture may just end);
            // and if the responder speaks IKE anywhere in the capture, the
            // port is not blocked.
            let responder_heard = ike_senders.contains(&first.dst.addr);
            if !opening || !first.from_initiator || p.sends.len() < 2 || responder_heard {
                continue;
            }
            let port = first.dst.port;
            let mut msg = format!(
                "{} to {} on UDP {} got no answer and no ICMP error: {} over {}",
                p.what(sa),
                first.dst.addr,
                port,
                plural(p.sends.len(), "transmission"),
                secs(p.span_ns())
            );
            let mut confidence = Confidence::Likely;
            let routed = !crate::session::is_initial_ttl(first.ttl);
            let (reading, reading_ja) = if sa.capture_side == CaptureSide::Responder {
                confidence = Confidence::Possible;
                (
                    "the capture shows it arriving at the responder, which stays silent: its host firewall drops it \
                     (a capture on the host sees packets before the firewall) or its IKE daemon ignores it",
                    "キャプチャではレスポンダに届いていますが、レスポンダは応答しません: ホストのファイアウォールが破棄している (ホスト上のキャプチャはファイアウォールより前でパケットを見ます) か、IKE デーモンが無視しています",
                )
            } else if sa.capture_side != CaptureSide::Initiator && routed {
                confidence = Confidence::Possible;
                (
                    "it reached this capture point after being routed, so whatever drops it is beyond this point: a \
                     firewall in front of or on the responder, or the responder ignores it",
                    "ルーティングされた後にこのキャプチャ地点に届いているので、破棄しているのはこの地点より先です: レスポンダの前かレスポンダ上のファイアウォール、またはレスポンダが無視しています",
                )
            } else {
                (
                    "something on the path drops it silently",
                    "経路上の何かが黙って破棄しています",
                )
            };
            msg.push_str(&format!("; {reading}"));
            if sa.version == 1 {
                msg.push_str(
                    " (or the responder ignores IKEv1, e.g. libreswan's default ikev1-policy=drop)",
                );
            }
            let mut ja = format!(
                "UDP {port} で {} に送った {} に応答も ICMP エラーもありません ({} にわたり {} 回送信)",
                first.dst.addr,
                p.what_ja(sa),
                secs(p.span_ns()),
                p.sends.len()
            );
            ja.push_str(&format!("。{reading_ja}"));
            if sa.version == 1 {
                ja.push_str(" (またはレスポンダが IKEv1 を無視しています。例: libreswan の既定の ikev1-policy=drop)");
            }
            e.emit(
                Draft::new(Severity::Error, msg, p.all_frames.clone())
                    .ja(ja)
                    .sa(sa)
                    .exchange(p.exchange.name.clone())
                    .confidence(confidence)
                    .seen_from(reading, reading_ja)
                    .fix(fixes::open_ike_ports(
                        &first.dst.addr.to_string(),
                        &[500, 4500],
                    )),
            );
        }
    }
}
