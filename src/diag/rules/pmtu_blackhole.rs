//! NET007 `pmtu-blackhole`: whole IKE packets with DF set (or over IPv6,
//! whose routers never fragment), larger than the ones that got through,
//! vanish again and again and no ICMP fragmentation-needed / packet-too-big
//! comes back.
//!
//! Contract: judges [`crate::diag::pmtu::unanswered`] packets against the
//! [`pmtu::DirectionBounds`] of their direction; says what the capture shows from
//! where it was taken (`IkeSa::capture_side`) and the other readings that
//! fit; the numbers it recommends come from [`fixes::choose_path_mtu`] and
//! the overhead model, never from the size of a small packet that passed.
use super::{fixes, frame_list, frame_list_ja};
use crate::diag::pmtu::{self, Unanswered, direction_bounds, ip_size, largest_crossed, unanswered};
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity, bytes};
use crate::session::{Analysis, CaptureSide, IkeSa, MessageFact};
use crate::wire::icmp::ErrorKind;

pub(crate) static RULE: Rule = Rule {
    code: "NET007",
    name: "pmtu-blackhole",
    severity: Severity::Error,
    summary: "Large packets with DF set vanish and no ICMP 'fragmentation needed' comes back",
    doc: RuleDoc {
        detects: "An IKE message sent whole with DF set (IPv6 is always so: its routers never fragment), \
                  larger than the messages to the same peer that got through, sent again and again and \
                  never arriving, with no ICMP fragmentation-needed or packet-too-big in the capture: a \
                  request never answered (in a capture not taken at its destination, where its arrival \
                  would prove it crossed), or a response the responder sends for every retransmitted \
                  request (seen at the responder or between the peers). Sizes below 1,280 count too. \
                  Not for packets of 576 bytes or less, nor, on a port where nothing got through yet, for \
                  ones small enough that a blocked port is the likelier reading (natt-port-blocked).",
        why_it_fails: "A link on the path has a smaller MTU; the router there drops the packet and \
                       should send ICMP 'fragmentation needed' (RFC 1191) or 'packet too big' \
                       (RFC 8201), but that ICMP is filtered, so the sender never learns to send \
                       smaller packets.",
        evidence: "The lost packets and their size, the largest packet that crossed, the bracket they \
                   leave for the path MTU, what the capture point can see (request or answer lost), \
                   and the other readings that fit: a firewall dropping large UDP packets, a blocked \
                   port, a responder ignoring the request. An IPv6 packet of 1,280 bytes or less is \
                   reported as possible only: every IPv6 link carries it.",
        likely_causes: "A tunnel, PPPoE or MAP-E link on the path; a firewall that drops all ICMP.",
        how_to_fix: "Let ICMP type 3 code 4 (and ICMPv6 type 2) through; enable IKEv2 fragmentation \
                     with IKE packets no larger than the value given, and set the tunnel MTU and MSS \
                     that follow from it. The value comes from the capture's bounds (an ICMP-reported \
                     MTU, the largest size seen to pass, the smallest seen to fail) and the standard \
                     ones: 1,280 (the IPv6 minimum MTU, which nearly every IPv4 path carries too) \
                     unless a smaller packet failed, never below 576 (IPv4) or 1,280 (IPv6); the \
                     finding says which it used. Measure the path with DF pings to do better.",
    },
    summary_ja: "DF 付きの大きなパケットが消え、ICMP fragmentation needed が返らない",
    doc_ja: RuleDoc {
        detects: "DF 付きで (IPv6 は常にそう: ルータでフラグメント化されない) フラグメント化されずに送られた IKE メッセージで、同じ相手に届いた小さなメッセージより大きく、繰り返し送られても届かず、キャプチャに ICMP fragmentation needed / packet too big がないもの: 応答のない要求 (宛先で取られたキャプチャでは、届いていること自体が通過の証拠になるため対象外)、または再送される要求のたびにレスポンダが送る応答 (レスポンダ側かピアの間で見た場合)。1,280 未満のサイズも対象です。576 バイト以下のパケット、およびまだ何も届いていないポートでポートの遮断の方が考えやすい小さなパケット (natt-port-blocked) は対象外です。",
        why_it_fails: "経路上のリンクの MTU が小さく、そこでルータがパケットを破棄して ICMP fragmentation needed (RFC 1191) や packet too big (RFC 8201) を送るはずが、その ICMP が遮断されているため、送信側は小さいパケットを送るべきことを知ることができません。",
        evidence: "失われたパケットとそのサイズ、通過した最大のパケット、それらが示す経路 MTU の範囲、キャプチャ地点から見えること (要求と応答のどちらが失われたか)、同じように見える他の解釈 (大きな UDP パケットを破棄するファイアウォール、ポートの遮断、要求を無視するレスポンダ)。1,280 バイト以下の IPv6 パケットはすべての IPv6 リンクが通すため、可能性としてのみ報告します。",
        likely_causes: "経路上のトンネル・PPPoE・MAP-E のリンク、すべての ICMP を破棄するファイアウォール。",
        how_to_fix: "ICMP タイプ 3 コード 4 (と ICMPv6 タイプ 2) を通してください。示された値以下の IKE パケットで IKEv2 フラグメンテーションを有効にし、そこから導かれるトンネル MTU と MSS を設定してください。値はキャプチャが示す範囲 (ICMP が通知した MTU、通過した最大のサイズ、失敗した最小のサイズ) と標準値から決めます: より小さいパケットが失敗していなければ 1,280 (IPv6 の最小 MTU で、ほとんどの IPv4 経路も通します)、IPv4 で 576、IPv6 で 1,280 を下回ることはありません。どれを使ったかは検出結果に書かれます。DF 付き ping で経路を計測すればより正確になります。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        let frag_needed = super::icmp_for(a, sa).any(|i| i.kind == ErrorKind::FragmentationNeeded);
        if frag_needed {
            continue;
        }
        for u in unanswered(sa) {
            if let Some(d) = judge(a, sa, &u) {
                e.emit(d);
            }
        }
    }
}

/// IKE packets this small are lost for other reasons (ports, daemons): no
/// IPv4 path worth the name carries less than 576 bytes.
const SMALLEST_CREDIBLE: u32 = 576;

/// On a port where nothing got through yet, a lost packet this small
/// (IP payload) is more likely a blocked port (`natt-port-blocked` takes
/// it) than a too-small path.
const PORT_BLOCK_SIZE: u32 = 1200;

fn side_name(from_initiator: bool) -> (&'static str, &'static str) {
    if from_initiator {
        ("initiator", "イニシエータ")
    } else {
        ("responder", "レスポンダ")
    }
}

/// Does the size of `u` explain its loss? It is larger than every packet
/// that crossed in its direction and than any real path's minimum (576),
/// and either a smaller packet crossed on its port or it is too large for
/// a blocked port to be the likelier reading. IPv6 packets of 1,280 bytes
/// or less qualify here (every IPv6 link carries them, so the rule says a
/// filter or a broken link is likelier), but [`lost_for_size`] excludes them.
fn size_suspect(sa: &IkeSa, u: &Unanswered<'_>) -> bool {
    let m = u.message;
    let size = ip_size(m);
    size > SMALLEST_CREDIBLE
        && largest_crossed(sa, m.src.addr, m.dst.addr).is_some_and(|c| c.size < size)
        && (crossed_on_transport(sa, m) || m.ip_payload_len > PORT_BLOCK_SIZE)
}

/// Is `u` a loss that bounds the path MTU from above: [`size_suspect`] and
/// larger than its IP version's minimum MTU?
pub(crate) fn lost_for_size(sa: &IkeSa, u: &Unanswered<'_>) -> bool {
    size_suspect(sa, u) && ip_size(u.message) > fixes::minimum_mtu(u.message.src.addr.is_ipv6())
}

fn judge(a: &Analysis, sa: &IkeSa, u: &Unanswered<'_>) -> Option<Draft> {
    if !size_suspect(sa, u) {
        return None;
    }
    let m = u.message;
    let size = ip_size(m);
    let ipv6 = m.src.addr.is_ipv6();
    let b = direction_bounds(a, sa, m.src.addr, m.dst.addr, |x| lost_for_size(sa, x));
    let crossed = b.crossed.clone()?;
    let same_port = crossed_on_transport(sa, m);
    let choice = fixes::choose_path_mtu(&b);
    let below_v6_minimum = ipv6 && size <= fixes::minimum_mtu(true);
    let response = m.is_response;
    let (sender, sender_ja) = side_name(m.from_initiator);
    let (receiver, receiver_ja) = side_name(!m.from_initiator);
    let kind = if response {
        ("response", "応答")
    } else {
        ("request", "要求")
    };
    let what = format!("{} {}", u.exchange.name, kind.0);
    let what_ja = format!("{} {}", u.exchange.name, kind.1);
    let (icmp, packet, packet_ja) = if ipv6 {
        (
            "ICMPv6 'packet too big'",
            "IPv6 packet (IPv6 routers never fragment: as good as DF)",
            "IPv6 パケット (IPv6 のルータはフラグメント化しないため DF と同じ)",
        )
    } else {
        (
            "ICMP 'fragmentation needed'",
            "IPv4 packet with DF set",
            "DF 付きの IPv4 パケット",
        )
    };
    let size_s = bytes(u64::from(size));
    let crossed_s = bytes(u64::from(crossed.size));

    // 1. What vanished, what got through, and the bracket they leave.
    let (mut msg, mut ja) = if response {
        (
            format!(
                "The {what}, a {size_s}-byte {packet}, never arrived: the {receiver} sent its request {} and the {sender} \
                 answered every one ({}), and no {icmp} came back, while the {crossed_s}-byte {} got through (frame {})",
                times(u.requests.len()),
                frame_list(&u.frames),
                crossed.what,
                crossed.frame
            ),
            format!(
                "{size_s} バイトの {packet_ja}である {what_ja}が届いていません: {receiver_ja}は要求を {} 回送り、{sender_ja}はそのすべてに応答しました ({})。{icmp} は返らず、一方で {crossed_s} バイトの {}は届いています (フレーム {})",
                u.requests.len(),
                frame_list_ja(&u.frames),
                crossed.what_ja,
                crossed.frame
            ),
        )
    } else {
        (
            format!(
                "The {what}, a {size_s}-byte {packet}, was sent {} ({}) and never answered, and no {icmp} came back, \
                 while the {crossed_s}-byte {} got through (frame {})",
                times(u.sends),
                frame_list(&u.frames),
                crossed.what,
                crossed.frame
            ),
            format!(
                "{size_s} バイトの {packet_ja}である {what_ja}は {} 回送られても ({}) 応答がなく、{icmp} も返っていません。一方、{crossed_s} バイトの {}は届いています (フレーム {})",
                u.sends,
                frame_list_ja(&u.frames),
                crossed.what_ja,
                crossed.frame
            ),
        )
    };
    if below_v6_minimum {
        msg.push_str(&format!(
            ". Every IPv6 link carries 1,280 bytes (RFC 8200), so no compliant path drops {size_s} bytes for their size: \
             a link or tunnel set below the IPv6 minimum, or a filter on large UDP packets, is more likely"
        ));
        ja.push_str(&format!(
            "。IPv6 のリンクはすべて 1,280 バイトを通すため (RFC 8200)、規格どおりの経路が {size_s} バイトをサイズを理由に破棄することはありません: IPv6 の最小値未満に設定されたリンクやトンネル、または大きな UDP パケットを破棄するフィルタの可能性が高いです"
        ));
    } else {
        let upper = bytes(u64::from(size - 1));
        msg.push_str(&format!(
            ": the path MTU towards {} is between {crossed_s} and {upper} bytes and the ICMP that should say so is filtered (a PMTU black hole)",
            m.dst.addr
        ));
        ja.push_str(&format!(
            ": {} への経路 MTU は {crossed_s}〜{upper} バイトで、それを知らせるはずの ICMP が遮断されています (PMTU ブラックホール)",
            m.dst.addr
        ));
    }

    // 2. What the capture shows from where it was taken, and the other readings.
    let at_sender = sa.capture_side == pmtu::side_of(m.from_initiator);
    let confidence = if below_v6_minimum || (!at_sender && sa.capture_side == CaptureSide::Unknown)
    {
        Confidence::Possible
    } else {
        Confidence::Likely
    };
    let (seen, seen_ja) = match (response, sa.capture_side) {
        (false, CaptureSide::InBetween) => (
            "The request passed the capture point, so it or its answer was lost beyond it"
                .to_string(),
            "要求はキャプチャ地点を通過しているので、その先で要求か応答が失われています"
                .to_string(),
        ),
        (false, CaptureSide::Unknown) => (
            "Where the capture was taken is unknown: the request or its answer was lost"
                .to_string(),
            "キャプチャ地点が不明なため、要求と応答のどちらが失われたかはわかりません".to_string(),
        ),
        (false, _) => (
            format!(
                "Seen from the {sender}, the request or its answer was lost; the size points to the request"
            ),
            format!(
                "{sender_ja}側のキャプチャからは要求と応答のどちらが失われたかは見えませんが、サイズからは要求と考えられます"
            ),
        ),
        (true, CaptureSide::InBetween) => (
            "The answers passed the capture point and were lost beyond it".to_string(),
            "応答はキャプチャ地点を通過し、その先で失われています".to_string(),
        ),
        (true, _) => (
            format!(
                "Seen from the {sender}, every answer left; had one arrived, the {receiver} would not have repeated its request"
            ),
            format!(
                "{sender_ja}側のキャプチャでは応答はすべて送り出されています。届いていれば{receiver_ja}は同じ要求を繰り返しません"
            ),
        ),
    };
    let port = m.dst.port;
    let mut others = vec!["a firewall dropping large UDP packets".to_string()];
    let mut others_ja = vec!["大きな UDP パケットを破棄するファイアウォール".to_string()];
    if !same_port {
        others.push(format!(
            "a block of UDP {port} towards {} (nothing on it got through)",
            m.dst.addr
        ));
        others_ja.push(format!(
            "{} へ向かう UDP {port} の遮断 (このポートではまだ何も届いていません)",
            m.dst.addr
        ));
    }
    if !response {
        others.push(format!("a {receiver} ignoring the request (see its log)"));
        others_ja.push(format!(
            "要求を無視する{receiver_ja} (そのログで確認できます)"
        ));
    }
    msg.push_str(&format!(
        ". {seen}, though {} would look the same",
        join_or(&others)
    ));
    ja.push_str(&format!(
        "。{seen_ja}。ただし{}でも同じように見えます",
        others_ja.join("、")
    ));

    // 3. The numbers to use, and why.
    let v = choice.path_mtu;
    let v_s = bytes(u64::from(v));
    msg.push_str(&format!(
        ". Let ICMP through, and use IKEv2 fragmentation with IKE packets of at most {v_s} bytes, {}",
        choice.why
    ));
    ja.push_str(&format!(
        "。ICMP を通し、IKEv2 フラグメンテーションで IKE パケットを {v_s} バイト以下にしてください。{v_s} は {}",
        choice.why_ja
    ));
    let tunnel = fixes::sa_tunnel_limits(a, sa, v);
    let mut fix = fixes::ikev2_fragmentation(v);
    fix.push(fixes::measure_path_mtu(
        m.dst.addr,
        size - 1,
        tunnel.as_ref(),
    ));
    fix.push(fixes::allow_icmp_too_big());
    if let Some(t) = &tunnel {
        let l = &t.limits;
        msg.push_str(&format!(
            ". Over {v_s} bytes an IPsec tunnel ({}) carries inner packets of at most {}: tunnel MTU {}, TCP MSS {} (IPv4) / {} (IPv6)",
            t.how,
            bytes(u64::from(l.tunnel_mtu)),
            l.tunnel_mtu,
            l.tcp_mss_ipv4,
            l.tcp_mss_ipv6
        ));
        ja.push_str(&format!(
            "。{v_s} バイトの経路上の IPsec トンネル ({}) で通せる内側のパケットは最大 {} バイト: トンネル MTU {}、TCP MSS {} (IPv4) / {} (IPv6)",
            t.how_ja,
            bytes(u64::from(l.tunnel_mtu)),
            l.tunnel_mtu,
            l.tcp_mss_ipv4,
            l.tcp_mss_ipv6
        ));
        if !l.carries_ipv6() {
            msg.push_str(", too small for IPv6 inside the tunnel (which needs 1,280)");
            ja.push_str("。トンネル内の IPv6 に必要な 1,280 には足りません");
        }
        if l.tcp_mss_ipv4 < crate::mtu::TCP_DEFAULT_MSS {
            msg.push_str(&format!(
                "; the MSS is below TCP's default 536 because only {} bytes are left inside the tunnel: measure the path and redo the arithmetic (`ikediag mtu`)",
                l.tunnel_mtu
            ));
            ja.push_str(&format!(
                "。トンネル内に {} バイトしか残らないため MSS は TCP の既定値 536 を下回ります: 経路を計測して計算し直してください (`ikediag mtu`)",
                l.tunnel_mtu
            ));
        }
        fix.extend(fixes::mtu_mss(l));
    }
    let mut frames = u.frames.clone();
    frames.extend(u.requests.iter().copied());
    frames.push(crossed.frame);
    Some(
        Draft::new(Severity::Error, msg, frames)
            .ja(ja)
            .sa(sa)
            .exchange(u.exchange.name.clone())
            .confidence(confidence)
            .seen_from(seen, seen_ja)
            .fix(fix),
    )
}

/// "a", "a or b", "a, b or c".
fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// "once" / "4 times".
fn times(n: usize) -> String {
    if n == 1 {
        "once".into()
    } else {
        format!("{n} times")
    }
}

/// Did a message from the same sender to the same peer, on the same
/// transport and port as `m`, get through? (Then the port is open and the
/// size is what differs.)
fn crossed_on_transport(sa: &IkeSa, m: &MessageFact) -> bool {
    sa.exchanges.iter().any(|e| {
        e.messages.iter().any(|o| {
            o.src.addr == m.src.addr
                && o.dst == m.dst
                && o.transport == m.transport
                && o.ip_payload_len < m.ip_payload_len
                && pmtu::crossed(sa, e, o)
        })
    })
}

#[cfg(test)]
mod tests {
    use crate::diag::pmtu::testing::*;
    use crate::diag::rules::exch;
    use crate::diag::{Confidence, Finding};
    use crate::session::{Analysis, CaptureSide};

    fn findings(a: &Analysis, rule: &str) -> Vec<Finding> {
        let sel = crate::diag::RuleSelection {
            select: vec![rule.to_string()],
            ignore: Vec::new(),
        };
        crate::diag::run_rules(a, &sel)
    }

    fn one(a: &Analysis) -> Finding {
        let f = findings(a, "pmtu-blackhole");
        assert_eq!(f.len(), 1, "{f:#?}");
        f.into_iter().next().expect("one finding")
    }

    fn fix_text(f: &Finding) -> String {
        f.fix
            .iter()
            .flat_map(|s| &s.commands)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn at_the_initiator_a_lost_df_request_is_a_black_hole_with_sane_numbers() {
        // lab/mtu_blackhole_df.pcap as captured: 1,360 bytes lost, 268 passed.
        let a = analysis("mtu_blackhole_df.pcap");
        let f = one(&a);
        assert_eq!(f.exchange.as_deref(), Some("IKE_AUTH"));
        assert_eq!(f.confidence, Confidence::Likely);
        assert_eq!(f.frames, vec![5, 7, 8, 9, 10]);
        for want in [
            "between 268 and 1,359 bytes",
            "Seen from the initiator, the request or its answer was lost",
            "a firewall dropping large UDP packets",
            "a responder ignoring the request",
            "at most 1,280 bytes, the IPv6 minimum MTU",
            "smallest failing size 1,360 (frame 7)",
            "tunnel MTU 1214, TCP MSS 1174",
        ] {
            assert!(f.message.contains(want), "{want:?} missing: {}", f.message);
        }
        assert!(!f.message.contains("268 bytes (IKEv2"), "{}", f.message);
        assert!(f.message_ja.contains("1,280") && f.message_ja.contains("イニシエータ"));
        let fix = fix_text(&f);
        assert!(fix.contains("charon.fragment_size = 1280"), "{fix}");
        assert!(fix.contains("ping -M do -s 1331 203.0.113.20"), "{fix}");
        assert!(!fix.contains("ipv6 set subinterface"), "{fix}");
    }

    #[test]
    fn below_1280_on_ipv4_it_still_fires_and_falls_to_576() {
        let mut a = analysis("mtu_blackhole_df.pcap");
        resize(&mut a, exch::IKE_AUTH, false, 1250);
        let f = one(&a);
        assert!(
            f.message.contains("a 1,250-byte IPv4 packet with DF set"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("at most 576 bytes, the IPv4 minimum"),
            "{}",
            f.message
        );
        // 576 - 20 - 8 - 16 - 16 = 516 -> 512 - 2 = 510; MSS 470, below 536: said why.
        assert!(
            f.message.contains("tunnel MTU 510, TCP MSS 470"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("below TCP's default 536"),
            "{}",
            f.message
        );
        assert!(fix_text(&f).contains("charon.fragment_size = 576"));
    }

    #[test]
    fn in_between_or_unknown_the_capture_says_less() {
        let mut a = analysis("mtu_blackhole_df.pcap");
        side(&mut a, CaptureSide::InBetween);
        let f = one(&a);
        assert_eq!(f.confidence, Confidence::Likely);
        assert!(
            f.message.contains("passed the capture point"),
            "{}",
            f.message
        );
        side(&mut a, CaptureSide::Unknown);
        let f = one(&a);
        assert_eq!(f.confidence, Confidence::Possible);
        assert!(
            f.message.contains("Where the capture was taken is unknown"),
            "{}",
            f.message
        );
    }

    #[test]
    fn at_the_responder_an_arrived_request_is_no_black_hole() {
        // The same packets seen where they were going: the request arrived.
        let mut a = analysis("mtu_blackhole_df.pcap");
        side(&mut a, CaptureSide::Responder);
        assert!(findings(&a, "pmtu-blackhole").is_empty());
    }

    #[test]
    fn at_the_responder_lost_responses_are_a_black_hole() {
        let mut a = analysis("ipv6_ok_psk_responder.pcapng");
        cut_after(&mut a, exch::IKE_AUTH, true);
        resize(&mut a, exch::IKE_AUTH, true, 1300);
        repeat(&mut a, exch::IKE_AUTH, 4);
        let f = one(&a);
        assert_eq!(f.confidence, Confidence::Likely);
        assert_eq!(f.exchange.as_deref(), Some("IKE_AUTH"));
        for want in [
            "The IKE_AUTH response, a 1,300-byte IPv6 packet",
            "the initiator sent its request 5 times and the responder answered every one",
            "Seen from the responder, every answer left",
            "at most 1,280 bytes, the IPv6 minimum MTU, which every IPv6 link carries",
            // 1280 - 40 - 8 - 16 - 16 = 1200 -> 1198.
            "tunnel MTU 1198",
        ] {
            assert!(f.message.contains(want), "{want:?} missing: {}", f.message);
        }
        assert!(!f.message.contains("ignoring the request"), "{}", f.message);
        // The same responses captured at the initiator arrived: no loss.
        side(&mut a, CaptureSide::Initiator);
        assert!(findings(&a, "pmtu-blackhole").is_empty());
    }

    #[test]
    fn ipv6_below_1280_is_only_possible() {
        let mut a = analysis("ipv6_ok_psk.pcap");
        cut_after(&mut a, exch::IKE_AUTH, false);
        resize(&mut a, exch::IKE_AUTH, false, 1250);
        repeat(&mut a, exch::IKE_AUTH, 3);
        let f = one(&a);
        assert_eq!(f.confidence, Confidence::Possible);
        assert!(
            f.message.contains("Every IPv6 link carries 1,280 bytes"),
            "{}",
            f.message
        );
        assert!(!f.message.contains("between 288"), "{}", f.message);
        assert!(fix_text(&f).contains("charon.fragment_size = 1280"));
        // 1,300 bytes: a black hole, likely.
        resize(&mut a, exch::IKE_AUTH, false, 1300);
        let f = one(&a);
        assert_eq!(f.confidence, Confidence::Likely);
        assert!(
            f.message.contains("between 288 and 1,299 bytes"),
            "{}",
            f.message
        );
    }

    #[test]
    fn no_finding_when_the_large_request_was_answered() {
        let mut a = analysis("ipv6_ok_psk.pcap");
        resize(&mut a, exch::IKE_AUTH, false, 1400);
        repeat(&mut a, exch::IKE_AUTH, 1);
        assert!(findings(&a, "pmtu-blackhole").is_empty());
    }

    #[test]
    fn no_finding_for_small_losses_or_when_icmp_came_back() {
        // A 700-byte IKE_AUTH on a new port: a blocked port is likelier.
        let mut a = analysis("mtu_blackhole_df.pcap");
        resize(&mut a, exch::IKE_AUTH, false, 700);
        assert!(findings(&a, "pmtu-blackhole").is_empty());
        // Not larger than what passed.
        let mut a = analysis("mtu_blackhole_df.pcap");
        resize(&mut a, exch::IKE_SA_INIT, false, 1400);
        assert!(findings(&a, "pmtu-blackhole").is_empty());
        // Sent once: nothing to judge yet.
        let mut a = analysis("mtu_blackhole_df.pcap");
        exchange(&mut a, exch::IKE_AUTH).messages.truncate(1);
        assert!(findings(&a, "pmtu-blackhole").is_empty());
        // ICMP 'fragmentation needed' came back: PMTU discovery works.
        let mut a = analysis("mtu_blackhole_df.pcap");
        let (i, r) = a.sas[0].peers();
        a.icmp_errors.push(crate::session::IcmpFact {
            frame: 8,
            ts_ns: 0,
            v6: false,
            src: "192.0.2.1".parse().expect("address"),
            dst: i,
            kind: crate::wire::icmp::ErrorKind::FragmentationNeeded,
            icmp_type: 3,
            code: 4,
            mtu: Some(1280),
            quoted_src: Some(i),
            quoted_dst: Some(r),
            quoted_protocol: Some(17),
            quoted_src_port: Some(4500),
            quoted_dst_port: Some(4500),
            quoted_len: Some(1360),
            quoted_esp_spi: None,
            quoted_ike_ispi: None,
            sa: Some(0),
        });
        assert!(findings(&a, "pmtu-blackhole").is_empty());
    }
}
