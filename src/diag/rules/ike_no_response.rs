//! IKE001 `ike-no-response`: a request was never answered.

use super::{exch, pending};
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, bytes, plural, secs};
use crate::session::{Analysis, CaptureSide};

pub(crate) static RULE: Rule = Rule {
    code: "IKE001",
    name: "ike-no-response",
    severity: Severity::Error,
    summary: "An IKE request was never answered",
    doc: RuleDoc {
        detects: "An IKE request (IKEv2) or an IKEv1 Main, Aggressive or Quick Mode message that \
                  expects a reply, sent once or retransmitted, with no answer anywhere in the capture. \
                  Liveness checks and rekeys have their own rules (dpd-timeout, rekey-failed). Also an answered request that the requester kept sending after the answer was sent (two or more \
                  repeats, or one later than a crossing explains): the answers never reached it. It says where \
                  the capture sits: at the peer that should answer (it received and ignored the request), at the \
                  sender (the request or the answer was lost), or in between. A single copy never retransmitted \
                  while its sender carried on, and an answer the requester evidently got (capture-gap), are not \
                  judged as failures.",
        why_it_fails: "IKE is request/response: the initiator retransmits with a growing timeout and \
                       gives up after a few tries, so the SA is never set up (or is torn down).",
        evidence: "Every transmission of the unanswered message, with its size and IP fragments.",
        likely_causes: "The request or the response is dropped on the path (firewall, NAT, MTU and \
                        fragments), the responder is down or ignores the request (wrong IKE version \
                        or policy), or the capture ended too early.",
        how_to_fix: "Follow the more specific findings beside this one (udp-port-blocked, \
                     natt-port-blocked, mtu-blackhole, ip-fragments-lost, ...). Without them: check \
                     that the responder receives the request (capture there) and its log.",
    },
    summary_ja: "IKE の要求に応答がない",
    doc_ja: RuleDoc {
        detects: "IKE の要求 (IKEv2)、または応答を必要とする IKEv1 の Main / Aggressive / Quick Mode のメッセージが、一度または再送を含めて送られ、キャプチャのどこにも応答がない。死活監視とリキーはそれぞれ専用のルール (dpd-timeout、rekey-failed) が扱います。 応答が送られた後も要求側が同じ要求を送り続けた場合 (2 回以上、または行き違いでは説明できない遅い 1 回) も検出します: 応答が届いていません。キャプチャ地点 (応答すべき側、送信側、その間) に応じて読み方を変えます。",
        why_it_fails: "IKE は要求と応答で進みます。イニシエータは間隔を広げながら再送し、数回で諦めるため、SA が確立しない (または切断される) ことになります。",
        evidence: "応答のないメッセージのすべての送信、そのサイズと IP フラグメント。",
        likely_causes: "要求か応答が経路上で破棄されている (ファイアウォール、NAT、MTU とフラグメント)、レスポンダが停止しているか要求を無視している (IKE のバージョンやポリシーの違い)、キャプチャが早く終わった。",
        how_to_fix: "並んで出ている、より具体的な検出結果 (udp-port-blocked、natt-port-blocked、mtu-blackhole、ip-fragments-lost など) に従ってください。それがない場合は、レスポンダに要求が届いているか (そちらでキャプチャ) とそのログを確認してください。",
    },
    check,
};

/// The last time each address sent IKE, on any SA: built once per run.
fn last_sent(a: &Analysis) -> std::collections::HashMap<std::net::IpAddr, i64> {
    let mut m = std::collections::HashMap::new();
    for msg in a
        .sas
        .iter()
        .flat_map(|s| &s.exchanges)
        .flat_map(|x| &x.messages)
    {
        let t = m.entry(msg.src.addr).or_insert(msg.ts_ns);
        *t = (*t).max(msg.ts_ns);
    }
    m
}

/// Where the capture sits relative to an exchange.
#[derive(Clone, Copy)]
enum At {
    /// At the peer that should answer.
    Answerer,
    /// At the peer that asked.
    Requester,
    /// In between, or unknown.
    Elsewhere,
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    lost(a, e);
    let capture_end = a.stats.last_ts_ns.unwrap_or(0);
    // Built on first need (most captures have no single unanswered copy).
    let mut last_sent: Option<std::collections::HashMap<std::net::IpAddr, i64>> = None;
    for sa in &a.sas {
        for p in pending(sa) {
            let ex = p.exchange;
            // Retransmitted liveness checks and rekeys are judged by their
            // own rules (dpd-timeout, rekey-failed).
            let retransmitted = p.sends.len() >= 2;
            let rekey_qm = sa.version == 1
                && ex.exchange_type == exch::V1_QUICK
                && super::authenticated(sa)
                && sa
                    .exchanges_of(exch::V1_QUICK)
                    .any(|q| q.first_response().is_some());
            if retransmitted
                && (ex.is_dpd(sa.version) || ex.exchange_type == exch::CREATE_CHILD_SA || rekey_qm)
            {
                continue;
            }
            let first = p.first();
            let n = p.retransmissions();
            let mut msg = format!(
                "{} from {} to {} was never answered: sent {} (first at frame {}){}",
                p.what(sa),
                first.src,
                first.dst,
                if n == 0 {
                    "once".to_string()
                } else {
                    format!(
                        "{} times, {} over {}",
                        n + 1,
                        plural(n, "retransmission"),
                        secs(p.span_ns())
                    )
                },
                first.frame,
                if p.fragmented() {
                    format!(
                        "; it is {} bytes and went out as {} IP fragments",
                        bytes(u64::from(first.length)),
                        first.ip_fragments
                    )
                } else {
                    format!("; it is {} bytes", bytes(u64::from(first.length)))
                }
            );
            // Where the capture sits relative to this request's sender.
            let at = match (sa.capture_side, ex.requester_is_initiator) {
                (CaptureSide::Responder, true) | (CaptureSide::Initiator, false) => At::Answerer,
                (CaptureSide::Initiator, true) | (CaptureSide::Responder, false) => At::Requester,
                _ => At::Elsewhere,
            };
            let (reading, reading_ja) = match at {
                At::Answerer => (
                    format!(
                        "The capture was taken at {}, which received the request and did not answer",
                        first.dst.addr
                    ),
                    format!(
                        "キャプチャは {} 側で取られており、要求を受け取ったのに応答していません",
                        first.dst.addr
                    ),
                ),
                At::Requester => (
                    format!(
                        "The capture was taken at the sender ({}): the request or the answer was lost on the way",
                        first.src.addr
                    ),
                    format!(
                        "キャプチャは送信側 ({}) で取られており、要求か応答が途中で失われています",
                        first.src.addr
                    ),
                ),
                At::Elsewhere => (String::new(), String::new()),
            };
            let mut ja = format!(
                "{} から {} への {} に応答がありません: {} (最初はフレーム {})。サイズは {} バイト{}",
                first.src,
                first.dst,
                p.what_ja(sa),
                if n == 0 {
                    "1 回だけ送信".to_string()
                } else {
                    format!(
                        "{} 回送信 ({} にわたり {} 回再送)",
                        n + 1,
                        secs(p.span_ns()),
                        n
                    )
                },
                first.frame,
                bytes(u64::from(first.length)),
                if p.fragmented() {
                    format!(
                        "で、{} 個の IP フラグメントで送られています",
                        first.ip_fragments
                    )
                } else {
                    "です".to_string()
                }
            );
            let last = p.sends.last().map(|m| m.ts_ns).unwrap_or(0);
            let severity = if n == 0 && capture_end - last < 2_000_000_000 {
                ja.push_str(" (キャプチャがその直後に終わっているため、応答がキャプチャされなかっただけかもしれません)");
                msg.push_str(" (the capture ends right after it, so the answer may simply not have been captured)");
                Severity::Warning
            } else if n == 0
                // Sent IKE again more than 10 s later (longer than any
                // first retransmission timer).
                && last_sent
                    .get_or_insert_with(|| self::last_sent(a))
                    .get(&first.src.addr)
                    .is_some_and(|&t| t > last + 10_000_000_000)
            {
                // RFC 7296 section 2.1: a requester retransmits until it
                // gets an answer or gives up. One copy, and the requester
                // busy with other IKE long after: the answer was missed by
                // the capture, or the attempt was abandoned at once.
                msg.push_str(&format!(
                    " and never retransmitted, although {} sent IKE again later: it either got an answer the capture missed, or abandoned the attempt at once",
                    first.src.addr
                ));
                ja.push_str(&format!(
                    "。再送されていませんが、{} はその後も IKE を送っています: キャプチャが取りこぼした応答を受け取ったか、すぐに試行をやめたかのどちらかです",
                    first.src.addr
                ));
                Severity::Warning
            } else if n == 0
                && matches!(
                    ex.exchange_type,
                    exch::INFORMATIONAL | exch::V1_INFORMATIONAL
                )
                && super::authenticated(sa)
            {
                // A lone Delete or notification on an SA that came up: the
                // peer may already have closed its side; not a failure.
                msg.push_str(" (the SA had come up; the peer may already have closed its side)");
                ja.push_str(" (SA は確立済みで、相手側がすでに SA を閉じていた可能性があります)");
                Severity::Warning
            } else {
                Severity::Error
            };
            if !reading.is_empty() {
                msg.push_str(&format!(". {reading}"));
            }
            if !reading_ja.is_empty() {
                ja.push_str(&format!("。{reading_ja}"));
            }
            let frames = p.all_frames.clone();
            e.emit(
                Draft::new(severity, msg, frames)
                    .ja(ja)
                    .seen_from(reading, reading_ja)
                    .sa(sa)
                    .exchange(ex.name.clone())
                    .fix(super::fixes::check_responder(&first.dst.addr.to_string())),
            );
        }
    }
}

/// Answers sent and not taken: the requester asked again after each. IP-
/// fragmented IKE_AUTH answers are mtu-blackhole's; recovered fragmented
/// ones are ip-fragments-lost's.
fn lost(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        for l in super::lost_answers(sa) {
            let fragmented = l.fragmented();
            if fragmented && (l.recovered.is_some() || l.exchange.exchange_type == exch::IKE_AUTH) {
                continue;
            }
            let Some(resp) = l.first_response() else {
                continue;
            };
            let ex = l.exchange;
            let requester = resp.dst;
            let resp_frames: Vec<u64> = l.responses.iter().map(|m| m.frame).collect();
            let rep_frames: Vec<u64> = l.repeats.iter().map(|m| m.frame).collect();
            let (seen, seen_ja, confidence) = super::lost_answer_vantage(sa, &l);
            let what = format!(
                "The {} response from {} ({} bytes{}) was sent {} ({}), and {} sent the same request again {} after it ({})",
                ex.name,
                resp.src,
                bytes(u64::from(resp.length)),
                if fragmented {
                    format!(", {} IP fragments", resp.ip_fragments)
                } else {
                    String::new()
                },
                plural(l.responses.len(), "time"),
                super::frame_list(&resp_frames),
                requester.addr,
                plural(l.repeats.len(), "time"),
                super::frame_list(&rep_frames),
            );
            let what_ja = format!(
                "{} からの {} 応答 ({} バイト{}) は {} 回送られ ({})、そのたびに {} は同じ要求を再送しています ({} 回、{})",
                resp.src,
                ex.name,
                bytes(u64::from(resp.length)),
                if fragmented {
                    format!("、{} 個の IP フラグメント", resp.ip_fragments)
                } else {
                    String::new()
                },
                l.responses.len(),
                super::frame_list_ja(&resp_frames),
                requester.addr,
                l.repeats.len(),
                super::frame_list_ja(&rep_frames),
            );
            let d = match (l.recovered, l.delay_ns(sa)) {
                (Some(proof), delay) => {
                    let cost = delay
                        .map(|d| format!(", {} after the first request", secs(d)))
                        .unwrap_or_default();
                    let cost_ja = delay
                        .map(|d| format!("、最初の要求の {} 後", secs(d)))
                        .unwrap_or_default();
                    Draft::new(
                        Severity::Warning,
                        format!(
                            "{what}: the first answers were lost on the way, and one got through in the end (frame {proof} shows \
                             the requester had it{cost}). {seen}"
                        ),
                        l.frames(),
                    )
                    .ja(format!(
                        "{what_ja}: 最初の応答は途中で失われ、最後には届きました (フレーム {proof} で要求側が受け取ったことが分かります{cost_ja})。{seen_ja}"
                    ))
                    .confidence(confidence)
                }
                (None, _) => Draft::new(
                    Severity::Error,
                    format!("{what}: the answers never reach it. {seen}"),
                    l.frames(),
                )
                .ja(format!("{what_ja}: 応答が届いていません。{seen_ja}"))
                .exchange(ex.name.clone())
                .confidence(confidence)
                .fix(super::fixes::check_responder(&requester.addr.to_string())),
            };
            e.emit(d.sa(sa).seen_from(seen, seen_ja));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Severity;
    use crate::diag::rules::testkit::*;

    #[test]
    fn request_of_the_responder_is_judged_from_its_own_end() {
        // At the responder, its own INFORMATIONAL goes unanswered: it is the
        // sender here, so the capture cannot say which way the loss was.
        let mut sa = sa_v2(Side::Responder);
        push(&mut sa, 34, 0, Dir::Request, 1, 0.0, 456);
        push(&mut sa, 34, 0, Dir::Response, 2, 0.003, 509);
        push(&mut sa, 35, 1, Dir::Request, 3, 0.01, 368);
        push(&mut sa, 35, 1, Dir::Response, 4, 0.02, 300);
        push_full(&mut sa, 37, 0, false, Dir::Request, &[5], 5.0, 80);
        let a = analysis(vec![sa]);
        let f = run("ike-no-response", &a);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].message.contains("taken at the sender (203.0.113.20)"),
            "{}",
            f[0].message
        );
        assert!(!f[0].message.contains("did not answer"), "{}", f[0].message);
    }

    #[test]
    fn unanswered_request_at_the_answerer_says_it_did_not_answer() {
        let mut sa = sa_v2(Side::Responder);
        push(&mut sa, 34, 0, Dir::Request, 1, 0.0, 456);
        push(&mut sa, 34, 0, Dir::Request, 2, 1.0, 456);
        let a = analysis(vec![sa]);
        let f = run("ike-no-response", &a);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].message
                .contains("taken at 203.0.113.20, which received the request and did not answer"),
            "{}",
            f[0].message
        );
    }

    /// IKE_AUTH asked four times, answered each time (unfragmented).
    fn answered_four_times(side: Side) -> crate::session::Analysis {
        let mut sa = sa_v2(side);
        push(&mut sa, 34, 0, Dir::Request, 1, 0.0, 456);
        push(&mut sa, 34, 0, Dir::Response, 2, 0.003, 509);
        for (i, t) in [0.01, 0.5, 1.3, 2.5].iter().enumerate() {
            let f = 3 + 2 * i as u64;
            push(&mut sa, 35, 1, Dir::Request, f, *t, 368);
            push(&mut sa, 35, 1, Dir::Response, f + 1, t + 0.001, 400);
        }
        analysis(vec![sa])
    }

    #[test]
    fn unfragmented_answers_lost_are_an_error_here() {
        let a = answered_four_times(Side::Responder);
        let f = run("ike-no-response", &a);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].exchange.as_deref(), Some("IKE_AUTH"));
        assert!(
            f[0].message.contains("the answers never reach it"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].confidence, crate::diag::Confidence::Likely);
    }

    #[test]
    fn lost_answers_seen_in_between_are_only_possible() {
        let a = answered_four_times(Side::Middle);
        let f = run("ike-no-response", &a);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].confidence, crate::diag::Confidence::Possible);
        assert!(
            f[0].message.contains("lost between here and the requester"),
            "{}",
            f[0].message
        );
    }
}
