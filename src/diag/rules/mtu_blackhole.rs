//! NET006 `mtu-blackhole`: IKE_SA_INIT succeeds, IKE_AUTH is never
//! answered, and everything points to a large IKE_AUTH lost to IP
//! fragmentation.

use super::{
    exch, fixes, fragmentation_offered, frame_list, frame_list_ja, lost_answer_vantage,
    lost_answers, pending,
};
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity, bytes, secs};
use crate::session::{Analysis, CaptureSide, Exchange};

pub(crate) static RULE: Rule = Rule {
    code: "NET006",
    name: "mtu-blackhole",
    severity: Severity::Error,
    summary: "IKE_AUTH is too large for the path: its IP fragments are dropped",
    doc: RuleDoc {
        detects: "IKE_SA_INIT is answered but IKE_AUTH never is, and the evidence points to a large \
                  IKE_AUTH lost to IP fragmentation: the request is IP-fragmented, or the responder \
                  asked for certificates (CERTREQ) while neither peer offered RFC 7383 fragmentation, \
                  so the certificate-laden reply is fragmented and lost (the capture then shows no \
                  fragments at all, because they were dropped before the capture point). From the responder's side the same failure looks different and is read from evidence that holds there: \
                  the IKE_AUTH request arrives again and again after each IP-fragmented answer was sent (the \
                  answers are lost on the way back), or only its first IP fragments arrive.",
        why_it_fails: "Certificates make IKE_AUTH 2-6 kB. Over UDP it is IP-fragmented, and paths \
                       that drop fragments (mobile, tethering, PPPoE routers, some firewalls) lose the \
                       whole message every time it is retransmitted.",
        evidence: "The answered IKE_SA_INIT (with CERTREQ), the unanswered IKE_AUTH transmissions \
                   with their sizes and fragments, and the missing fragmentation support.",
        likely_causes: "A path that drops IP fragments; a certificate chain (with intermediate CAs) \
                        sent in IKE_AUTH; IKEv2 fragmentation disabled or unsupported on one peer.",
        how_to_fix: "Enable IKEv2 fragmentation (RFC 7383) on both peers with a fragment size that \
                     fits the path; or send a shorter chain (no intermediate CA, ECDSA instead of \
                     RSA-4096); or fix the path so it carries fragments.",
    },
    summary_ja: "IKE_AUTH が経路に対して大きすぎ、IP フラグメントが破棄されている",
    doc_ja: RuleDoc {
        detects: "IKE_SA_INIT には応答があるのに IKE_AUTH には一度も応答がなく、証拠が「大きな IKE_AUTH が IP フラグメント化されて失われた」ことを示している場合: 要求が IP フラグメント化されている、またはレスポンダが証明書を要求 (CERTREQ) したのにどちらのピアも RFC 7383 のフラグメンテーションを提示していないため、証明書を含む応答がフラグメント化されて失われる (この場合フラグメントはキャプチャ地点より前で破棄されるので、キャプチャにはフラグメントが一切見えません)。 レスポンダ側では同じ障害が別の形で見えます: IP フラグメント化された応答を送るたびに同じ IKE_AUTH 要求が届く (応答が戻りの経路で失われている)、または要求の先頭フラグメントだけが届く。",
        why_it_fails: "証明書を含む IKE_AUTH は 2〜6 kB になり、UDP では IP フラグメント化されます。フラグメントを破棄する経路 (モバイル、テザリング、PPPoE ルータ、一部のファイアウォール) では、再送のたびにメッセージ全体が失われます。",
        evidence: "応答のあった IKE_SA_INIT (CERTREQ 付き)、応答のない IKE_AUTH の送信とそのサイズ・フラグメント、フラグメンテーション対応の欠如。",
        likely_causes: "IP フラグメントを破棄する経路、IKE_AUTH で送られる証明書チェーン (中間 CA を含む)、片方のピアで IKEv2 フラグメンテーションが無効か非対応。",
        how_to_fix: "経路に収まるフラグメントサイズで両ピアの IKEv2 フラグメンテーション (RFC 7383) を有効にしてください。あるいは短い証明書チェーンを送る (中間 CA を含めない、RSA-4096 ではなく ECDSA にする)、または経路がフラグメントを通すよう修正してください。",
    },
    check,
};

fn certreq(e: &Exchange) -> bool {
    e.messages.iter().any(|m| m.has_payload("CERTREQ"))
}

/// The incomplete fragment sets that hold an IKE_AUTH request's first
/// fragment, by SA: built once, on first need.
fn first_fragments_of_auth_requests(
    a: &Analysis,
) -> std::collections::HashMap<usize, Vec<&crate::session::IncompleteFact>> {
    let mut m: std::collections::HashMap<usize, Vec<_>> = std::collections::HashMap::new();
    for f in &a.incomplete_fragments {
        if let Some(sa) = f.sa
            && f.has_first
            && f.ike
                .as_ref()
                .is_some_and(|i| i.exchange_type == exch::IKE_AUTH && !i.is_response)
        {
            m.entry(sa).or_default().push(f);
        }
    }
    m
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let mut auth_first_fragments = None;
    for sa in &a.sas {
        if sa.version != 2 {
            continue;
        }
        let Some(init) = sa.exchange(exch::IKE_SA_INIT) else {
            continue;
        };
        if !init.is_answered() {
            continue;
        }
        let (frag_i, frag_r) = fragmentation_offered(sa);
        let certs = certreq(init);
        let (limit, limit_why, limit_why_ja) = fixes::ike_packet_limit_both(a, sa);
        // Answered, fragmented, and asked again and again: the answers'
        // fragments are lost on the way back (the seed case seen from the
        // server's side, where it otherwise looks like success).
        for l in lost_answers(sa) {
            if l.exchange.exchange_type != exch::IKE_AUTH
                || !l.fragmented()
                || l.recovered.is_some()
            {
                continue;
            }
            let Some(resp) = l.first_response() else {
                continue;
            };
            let last = l.repeats.last().map_or(resp.ts_ns, |m| m.ts_ns);
            let (seen, seen_ja, confidence) = lost_answer_vantage(sa, &l);
            let resp_frames: Vec<u64> = l.responses.iter().map(|m| m.frame).collect();
            let rep_frames: Vec<u64> = l.repeats.iter().map(|m| m.frame).collect();
            e.emit(
                Draft::new(
                    Severity::Error,
                    format!(
                        "The IKE_AUTH response is {} bytes and went out as {} IP fragments, {} times ({}), and {} sent the same \
                         request again after it {} ({}, the last {} after the first response): the responses never reach the \
                         initiator, whose path drops their IP fragments. {seen}. Enable IKEv2 fragmentation on both peers with \
                         IKE packets of at most {limit} bytes ({limit_why})",
                        bytes(u64::from(resp.length)),
                        resp.ip_fragments,
                        l.responses.len(),
                        frame_list(&resp_frames),
                        sa.initiator.addr,
                        super::super::plural(l.repeats.len(), "time"),
                        frame_list(&rep_frames),
                        secs(last - resp.ts_ns),
                    ),
                    l.frames(),
                )
                .ja(format!(
                    "IKE_AUTH 応答は {} バイトで、{} 個の IP フラグメントとして {} 回送られました ({})。そのたびに {} は同じ要求を再送しています ({} 回、{}、最後は最初の応答の {} 後): 応答はイニシエータに届いておらず、経路が IP フラグメントを破棄しています。{seen_ja}。両ピアで IKEv2 フラグメンテーションを有効にし、IKE パケットを {limit} バイト以下にしてください ({limit_why_ja})",
                    bytes(u64::from(resp.length)),
                    resp.ip_fragments,
                    l.responses.len(),
                    frame_list_ja(&resp_frames),
                    sa.initiator.addr,
                    l.repeats.len(),
                    frame_list_ja(&rep_frames),
                    secs(last - resp.ts_ns),
                ))
                .sa(sa)
                .exchange("IKE_AUTH")
                .confidence(confidence)
                .seen_from(seen, seen_ja)
                .fix(fixes::ikev2_fragmentation(limit)),
            );
        }
        let pend: Vec<_> = pending(sa)
            .into_iter()
            .filter(|p| p.exchange.exchange_type == exch::IKE_AUTH && !p.cut_by_capture_end(a))
            .collect();
        let mut init_frames: Vec<u64> = init.messages.iter().map(|m| m.frame).collect();
        if let Some(p) = pend.first() {
            let first = p.first();
            let msgs = sa.messages();
            let responder_later = msgs.iter().any(|m| {
                !m.from_initiator && m.ts_ns > first.ts_ns && m.transport == first.transport
            });
            let (msg, ja, confidence) = if p.fragmented() {
                (
                    format!(
                        "The IKE_AUTH request is {} bytes and went out as {} IP fragments, {} times, and was never answered: \
                         the path drops IP fragments",
                        bytes(u64::from(first.length)),
                        first.ip_fragments,
                        p.sends.len()
                    ),
                    format!(
                        "IKE_AUTH 要求は {} バイトで、{} 個の IP フラグメントとして {} 回送られましたが一度も応答がありません: 経路が IP フラグメントを破棄しています",
                        bytes(u64::from(first.length)),
                        first.ip_fragments,
                        p.sends.len()
                    ),
                    Confidence::Likely,
                )
            } else if p.max_len() >= limit && first.dont_fragment {
                // Large and unfragmented with DF: pmtu-blackhole's case.
                continue;
            } else if certs && !frag_i && !frag_r {
                let how_ja = if responder_later {
                    format!(
                        "。その後 {} から同じポートで送られたメッセージは届いているので、経路は開いており、失われているのは大きな応答です",
                        first.dst.addr
                    )
                } else {
                    String::new()
                };
                let how = if responder_later {
                    format!(
                        "; later messages from {} on the same port do arrive, so the path is open and the large reply is what gets lost",
                        first.dst.addr
                    )
                } else {
                    String::new()
                };
                (
                    format!(
                        "The VPN server's IKE_AUTH reply never arrived: the server asked for certificates (CERTREQ) and neither peer \
                         offered IKEv2 fragmentation, so its certificate-laden reply (typically 2-5 kB) is IP-fragmented and the \
                         fragments are dropped on the way{how}"
                    ),
                    format!(
                        "VPN サーバの IKE_AUTH 応答が届いていません: サーバが証明書を要求 (CERTREQ) し、どちらのピアも IKEv2 フラグメンテーションを提示していないため、証明書を含む応答 (通常 2〜5 kB) が IP フラグメント化され、途中でフラグメントが破棄されています{how_ja}"
                    ),
                    if responder_later {
                        Confidence::Likely
                    } else {
                        Confidence::Possible
                    },
                )
            } else {
                continue;
            };
            let mut frames = p.all_frames.clone();
            frames.append(&mut init_frames);
            e.emit(
                Draft::new(
                    Severity::Error,
                    format!("{msg}. Enable IKEv2 fragmentation on both peers with IKE packets of at most {limit} bytes ({limit_why})"),
                    frames,
                )
                .ja(format!(
                    "{ja}。両ピアで IKEv2 フラグメンテーションを有効にし、IKE パケットを {limit} バイト以下にしてください ({limit_why_ja})"
                ))
                .sa(sa)
                .exchange("IKE_AUTH")
                .confidence(confidence)
                .fix(fixes::ikev2_fragmentation(limit)),
            );
        } else if sa.exchange(exch::IKE_AUTH).is_none()
            && sa.capture_side == CaptureSide::Responder
            && certs
            && !frag_i
            && !frag_r
        {
            // At the responder, a lost IKE_AUTH request leaves no trace at
            // all, or only its first fragments (the rest dropped on the way).
            let partial: &[&crate::session::IncompleteFact] = auth_first_fragments
                .get_or_insert_with(|| first_fragments_of_auth_requests(a))
                .get(&sa.index)
                .map_or(&[], Vec::as_slice);
            let (msg, ja, confidence) = if let Some(f) = partial.first() {
                let frames: Vec<u64> = partial
                    .iter()
                    .flat_map(|g| g.frames.iter().copied())
                    .collect();
                init_frames.extend(&frames);
                (
                    format!(
                        "IKE_SA_INIT was answered, and the IKE_AUTH request ({} bytes) reached the responder {} times only as its \
                         first IP fragment ({}): the other fragments were dropped on the way, so the request never completed \
                         and was never answered",
                        bytes(u64::from(f.ike.as_ref().map_or(0, |i| i.length))),
                        partial.len(),
                        frame_list(&frames)
                    ),
                    format!(
                        "IKE_SA_INIT には応答しましたが、IKE_AUTH 要求 ({} バイト) は先頭の IP フラグメントだけが {} 回レスポンダに届いています ({}): 残りのフラグメントが途中で破棄されたため、要求は一度も揃わず、応答もされていません",
                        bytes(u64::from(f.ike.as_ref().map_or(0, |i| i.length))),
                        partial.len(),
                        frame_list_ja(&frames)
                    ),
                    Confidence::Likely,
                )
            } else {
                (
                    "IKE_SA_INIT was answered but no IKE_AUTH request ever reached the responder: with certificates and \
                     without IKEv2 fragmentation it is IP-fragmented, and the fragments were dropped before the capture point"
                        .to_string(),
                    "IKE_SA_INIT には応答しましたが、IKE_AUTH 要求は一度もレスポンダに届いていません: 証明書を使い IKEv2 フラグメンテーションがないため IP フラグメント化され、そのフラグメントがキャプチャ地点より前で破棄されています".to_string(),
                    Confidence::Possible,
                )
            };
            e.emit(
                Draft::new(
                    Severity::Error,
                    format!(
                        "{msg}. Enable IKEv2 fragmentation on both peers with IKE packets of at most {limit} bytes ({limit_why})"
                    ),
                    init_frames,
                )
                .ja(format!(
                    "{ja}。両ピアで IKEv2 フラグメンテーションを有効にし、IKE パケットを {limit} バイト以下にしてください ({limit_why_ja})"
                ))
                .sa(sa)
                .exchange("IKE_AUTH")
                .confidence(confidence)
                .fix(fixes::ikev2_fragmentation(limit)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::rules::testkit::*;
    use crate::diag::{Confidence, Severity, rules::authenticated};

    /// IKE_SA_INIT answered, then IKE_AUTH asked `repeats` more times,
    /// each answered by a 2-fragment response.
    fn answered_again_and_again(side: Side, repeats: usize) -> crate::session::IkeSa {
        let mut sa = sa_v2(side);
        push(&mut sa, 34, 0, Dir::Request, 1, 0.0, 456);
        push(&mut sa, 34, 0, Dir::Response, 2, 0.003, 509);
        let mut f = 3;
        let mut t = 0.01;
        for _ in 0..=repeats {
            push(&mut sa, 35, 1, Dir::Request, f, t, 368);
            push_full(
                &mut sa,
                35,
                1,
                true,
                Dir::Response,
                &[f + 1, f + 2],
                t + 0.01,
                2272,
            );
            f += 3;
            t = t * 1.5 + 0.4;
        }
        sa
    }

    #[test]
    fn answers_lost_on_the_way_back_seen_at_the_responder() {
        let a = analysis(vec![answered_again_and_again(Side::Responder, 4)]);
        assert!(!authenticated(&a.sas[0]));
        let f = run("mtu-blackhole", &a);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].exchange.as_deref(), Some("IKE_AUTH"));
        assert_eq!(f[0].confidence, Confidence::Likely);
        assert!(
            f[0].message
                .contains("sent the same request again after it 4 times"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("Seen where the answer is sent"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn same_pattern_at_the_initiator_is_only_possible() {
        let a = analysis(vec![answered_again_and_again(Side::Initiator, 4)]);
        let f = run("mtu-blackhole", &a);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].confidence, Confidence::Possible);
        assert!(
            f[0].message.contains("Seen at the requester itself"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn one_retransmission_crossing_the_answer_is_no_loss() {
        let mut sa = sa_v2(Side::Responder);
        push(&mut sa, 34, 0, Dir::Request, 1, 0.0, 456);
        push(&mut sa, 34, 0, Dir::Response, 2, 0.003, 509);
        push(&mut sa, 35, 1, Dir::Request, 3, 0.01, 368);
        push_full(&mut sa, 35, 1, true, Dir::Response, &[4, 5], 0.40, 2272);
        // Sent by the initiator before the answer reached it.
        push(&mut sa, 35, 1, Dir::Request, 6, 0.41, 368);
        let a = analysis(vec![sa]);
        assert!(authenticated(&a.sas[0]));
        assert!(run("mtu-blackhole", &a).is_empty());
        assert!(run("ike-no-response", &a).is_empty());
    }

    #[test]
    fn recovered_answer_loss_is_a_warning_not_a_failure() {
        let mut sa = answered_again_and_again(Side::Responder, 2);
        // The initiator's next request proves it got an answer.
        push(&mut sa, 37, 2, Dir::Request, 20, 3.0, 80);
        push(&mut sa, 37, 2, Dir::Response, 21, 3.001, 80);
        let a = analysis(vec![sa]);
        assert!(authenticated(&a.sas[0]));
        assert!(run("mtu-blackhole", &a).is_empty());
        let all = run_all(&a);
        assert!(all.iter().all(|f| f.severity != Severity::Error), "{all:?}");
        let w = run("ip-fragments-lost", &a);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].severity, Severity::Warning);
        assert!(
            w[0].message.contains("frame 20 shows it had it"),
            "{}",
            w[0].message
        );
    }
}
