//! The rule registry and the small helpers rules share.
//!
//! Codes by area: `IKE` the IKE exchanges themselves, `NET` the path
//! (ports, ICMP, fragments, MTU), `NAT` NAT traversal, `ESP` the data plane,
//! `CAP` the capture's own quality. Codes are never reused.

mod authentication_failed;
mod capture_cut_short;
mod capture_duplicate_frames;
mod capture_gap;
mod capture_no_ike;
mod capture_one_sided;
mod capture_time_backwards;
mod capture_truncated_packets;
mod certificate_validity;
mod child_sa_failed;
mod cookie_challenge;
mod dpd_timeout;
mod esp_one_way;
pub(crate) mod fixes;
mod icmp_admin_prohibited;
mod icmp_port_unreachable;
mod ike_no_response;
mod ikev1_aggressive_mode;
mod ikev2_fragmentation;
mod invalid_ke_payload;
mod ip_fragmentation;
mod ip_fragments_lost;
mod map_e_port_restriction;
mod mss_too_large;
mod mtu_blackhole;
mod nat_detected;
mod nat_detection_faked;
mod nat_without_natt;
mod natt_port_blocked;
mod no_proposal_chosen;
mod oversized_ike_message;
mod path_mtu;
mod peer_deleted_sa;
mod pmtu_blackhole;
mod pmtu_icmp_filtered;
mod rekey_failed;
mod sa_rekeyed;
mod transport_mode;
mod udp_port_blocked;
mod weak_crypto;

#[cfg(test)]
pub(crate) mod testkit;

use std::net::IpAddr;

use super::Rule;
use crate::defrag::IncompleteReason;
use crate::session::{
    Analysis, CaptureSide, Exchange, IcmpFact, IkeSa, IncompleteFact, MessageFact,
};

/// Every rule, in code order.
pub static ALL: &[&Rule] = &[
    &capture_no_ike::RULE,
    &capture_one_sided::RULE,
    &capture_truncated_packets::RULE,
    &capture_duplicate_frames::RULE,
    &capture_time_backwards::RULE,
    &capture_cut_short::RULE,
    &capture_gap::RULE,
    &esp_one_way::RULE,
    &ike_no_response::RULE,
    &no_proposal_chosen::RULE,
    &invalid_ke_payload::RULE,
    &cookie_challenge::RULE,
    &authentication_failed::RULE,
    &child_sa_failed::RULE,
    &dpd_timeout::RULE,
    &rekey_failed::RULE,
    &peer_deleted_sa::RULE,
    &weak_crypto::RULE,
    &ikev2_fragmentation::RULE,
    &ikev1_aggressive_mode::RULE,
    &sa_rekeyed::RULE,
    &certificate_validity::RULE,
    &transport_mode::RULE,
    &nat_detected::RULE,
    &nat_without_natt::RULE,
    &nat_detection_faked::RULE,
    &udp_port_blocked::RULE,
    &icmp_port_unreachable::RULE,
    &icmp_admin_prohibited::RULE,
    &natt_port_blocked::RULE,
    &ip_fragments_lost::RULE,
    &mtu_blackhole::RULE,
    &pmtu_blackhole::RULE,
    &ip_fragmentation::RULE,
    &map_e_port_restriction::RULE,
    &path_mtu::RULE,
    &pmtu_icmp_filtered::RULE,
    &mss_too_large::RULE,
    &oversized_ike_message::RULE,
];

/// Notify numbers used by the rules (RFC 7296 section 3.10.1; the IKEv1
/// ones of RFC 2408 section 3.14.1 share 1-30).
pub(crate) mod notify {
    pub const NO_PROPOSAL_CHOSEN: u16 = 14;
    pub const INVALID_KE_PAYLOAD: u16 = 17;
    pub const AUTHENTICATION_FAILED: u16 = 24;
    pub const TS_UNACCEPTABLE: u16 = 38;
    pub const SINGLE_PAIR_REQUIRED: u16 = 34;
    pub const INTERNAL_ADDRESS_FAILURE: u16 = 36;
    pub const FAILED_CP_REQUIRED: u16 = 37;
    pub const COOKIE: u16 = 16390;
    pub const IKEV2_FRAGMENTATION_SUPPORTED: u16 = 16430;
    /// IKEv1 only (RFC 2408 section 3.14.1).
    pub const PAYLOAD_MALFORMED: u16 = 16;
    /// IKEv1 only (RFC 2408 section 3.14.1).
    pub const INVALID_HASH_INFORMATION: u16 = 23;
}

/// Exchange type numbers.
pub(crate) mod exch {
    pub const V1_MAIN: u8 = 2;
    pub const V1_AGGRESSIVE: u8 = 4;
    pub const V1_INFORMATIONAL: u8 = 5;
    pub const V1_QUICK: u8 = 32;
    pub const IKE_SA_INIT: u8 = 34;
    pub const IKE_AUTH: u8 = 35;
    pub const CREATE_CHILD_SA: u8 = 36;
    pub const INFORMATIONAL: u8 = 37;
}

/// A message that was sent (perhaps several times) and never answered.
pub(crate) struct Pending<'a> {
    pub exchange: &'a Exchange,
    /// Every transmission of the unanswered message (first fragments only
    /// for RFC 7383 fragments; all fragments are in `all_frames`).
    pub sends: Vec<&'a MessageFact>,
    pub all_frames: Vec<u64>,
}

impl Pending<'_> {
    pub fn first(&self) -> &MessageFact {
        self.sends[0]
    }
    pub fn retransmissions(&self) -> usize {
        self.sends.len().saturating_sub(1)
    }
    pub fn span_ns(&self) -> i64 {
        match (self.sends.first(), self.sends.last()) {
            (Some(a), Some(b)) => b.ts_ns - a.ts_ns,
            _ => 0,
        }
    }
    pub fn max_len(&self) -> u32 {
        self.sends
            .iter()
            .map(|m| m.ip_payload_len)
            .max()
            .unwrap_or(0)
    }
    pub fn fragmented(&self) -> bool {
        self.sends.iter().any(|m| m.ip_fragments > 1)
    }
    /// Sent once and the capture ends right after it ([`near_capture_end`]):
    /// its answer may simply not have been captured, so its silence says
    /// nothing about the path.
    pub fn cut_by_capture_end(&self, a: &Analysis) -> bool {
        self.sends.len() == 1 && self.sends.iter().all(|m| near_capture_end(a, m.ts_ns))
    }
    /// The position of the unanswered IKEv1 message in its exchange.
    fn v1_position(&self) -> usize {
        self.exchange
            .messages
            .iter()
            .filter(|m| !m.retransmission)
            .count()
            .max(1)
    }

    /// 「IKE_AUTH 要求」/「MAIN_MODE メッセージ5」.
    pub fn what_ja(&self, sa: &IkeSa) -> String {
        if sa.version == 2 {
            format!("{} 要求", self.exchange.name)
        } else {
            format!("{} メッセージ{}", self.exchange.name, self.v1_position())
        }
    }

    /// "IKE_AUTH request" / "MAIN_MODE message 5".
    pub fn what(&self, sa: &IkeSa) -> String {
        if sa.version == 2 {
            format!("{} request", self.exchange.name)
        } else {
            format!("{} message {}", self.exchange.name, self.v1_position())
        }
    }
}

/// How soon after a message or fragment the capture may end for what did
/// not follow (an answer, a retransmission, the other fragments of the
/// datagram) to say nothing: the capture may simply have stopped first.
pub(crate) const END_GRACE_NS: i64 = 2_000_000_000;

/// The capture ends less than [`END_GRACE_NS`] after `ts_ns`.
pub(crate) fn near_capture_end(a: &Analysis, ts_ns: i64) -> bool {
    a.stats
        .last_ts_ns
        .is_some_and(|end| end.saturating_sub(ts_ns) < END_GRACE_NS)
}

/// An incomplete IP fragment set that says nothing about the path: the
/// capture ended while it was open, right after its last fragment, or the
/// snaplen cut some of its fragments (seen, but not reassembled).
pub(crate) fn fragments_cut_by_capture(a: &Analysis, f: &IncompleteFact) -> bool {
    !f.snaplen_frames.is_empty() || ends_with_capture(a, f)
}

/// A frame stamped this much or more before the frame before it is a step
/// back in time (`capture-time-backwards`); smaller steps only reorder
/// packets captured at nearly the same time.
pub(crate) const TIME_STEP_NS: i64 = 1_000_000;

/// The time from frame `from` to frame `to` (later in the file) is
/// unknown: the time stamps step back by [`TIME_STEP_NS`] or more in
/// between, and the decoder's timeline took each such step as no time at
/// all. Intervals across a step are no evidence of "right after".
pub(crate) fn time_unknown_between(a: &Analysis, from: u64, to: u64) -> bool {
    let q = &a.quality;
    let kept_all = q.time_steps_total <= q.time_steps.len() as u64;
    q.time_steps
        .iter()
        .any(|s| s.back_ns >= TIME_STEP_NS && s.frame > from && s.frame <= to)
        || (!kept_all && q.time_steps.last().is_none_or(|s| s.frame < to))
}

/// How soon after the last fragment of an incomplete set the capture may
/// end for the set to be cut by the end rather than by the path: a sender
/// emits all fragments of a datagram at once, so they are captured within
/// microseconds (a few milliseconds on a slow link) of each other. A set
/// followed by 100 ms or more of capture had its chance.
pub(crate) const FRAGMENT_TRAIN_NS: i64 = 100_000_000;

/// The capture ended while the set was open, less than
/// [`FRAGMENT_TRAIN_NS`] after its last fragment.
pub(crate) fn ends_with_capture(a: &Analysis, f: &IncompleteFact) -> bool {
    f.reason == IncompleteReason::EndOfCapture
        && a.stats
            .last_ts_ns
            .is_some_and(|end| end.saturating_sub(f.last_ts_ns) < FRAGMENT_TRAIN_NS)
}

/// An incomplete set that carried IKE (or ESP-in-UDP) between IKE peers:
/// its first fragment says IKE, it belongs to an SA, or its ports are 500/4500.
pub(crate) fn is_ike_fragment_set(f: &IncompleteFact) -> bool {
    f.ike.is_some()
        || f.sa.is_some()
        || matches!(f.udp_ports, Some((500 | 4500, _)) | Some((_, 500 | 4500)))
}

/// How many messages a complete IKEv1 exchange has.
fn v1_expected_messages(exchange_type: u8) -> Option<usize> {
    match exchange_type {
        exch::V1_MAIN => Some(6),
        exch::V1_AGGRESSIVE => Some(2), // the third needs no reply
        exch::V1_QUICK => Some(2),      // QM3 needs no reply
        _ => None,
    }
}

/// The unanswered messages of an SA.
pub(crate) fn pending(sa: &IkeSa) -> Vec<Pending<'_>> {
    let mut out = Vec::new();
    for e in &sa.exchanges {
        if sa.version == 2 {
            // An answer the requester evidently got is missing from the
            // capture, not from the path (capture-gap says so).
            if e.is_answered() || e.first_request().is_none() || e.implied_answer.is_some() {
                continue;
            }
            let sends: Vec<&MessageFact> = e
                .requests()
                .filter(|m| m.ike_fragment.is_none_or(|(n, _)| n == 1))
                .collect();
            if sends.is_empty() {
                continue;
            }
            let all_frames = e
                .requests()
                .flat_map(|m| m.frames.iter().copied())
                .collect();
            out.push(Pending {
                exchange: e,
                sends,
                all_frames,
            });
        } else {
            let Some(expected) = v1_expected_messages(e.exchange_type) else {
                continue;
            };
            let distinct: Vec<&MessageFact> =
                e.messages.iter().filter(|m| !m.retransmission).collect();
            let Some(last) = distinct.last() else {
                continue;
            };
            // Unanswered: the exchange is incomplete and the last word is a
            // request (after a response the requester owes the next message).
            if distinct.len() >= expected || last.is_response {
                continue;
            }
            // Answered after all, by an Informational from the other side
            // carrying an error notify (NO-PROPOSAL-CHOSEN after Quick
            // Mode 1, seen in clear or decrypted): refused, not lost.
            let refused = sa.v1_refusal(last).is_some();
            if refused {
                continue;
            }
            // The last distinct message and its retransmissions.
            let sends: Vec<&MessageFact> = e
                .messages
                .iter()
                .filter(|m| m.digest == last.digest)
                .collect();
            let all_frames = sends
                .iter()
                .flat_map(|m| m.frames.iter().copied())
                .collect();
            out.push(Pending {
                exchange: e,
                sends,
                all_frames,
            });
        }
    }
    out
}

/// An answered IKEv2 exchange whose requester kept sending the request
/// after the response was in the capture: the responses did not reach it
/// (or it did not accept them).
pub(crate) struct LostAnswer<'a> {
    pub exchange: &'a Exchange,
    /// Every transmission of the response (first RFC 7383 fragments only).
    pub responses: Vec<&'a MessageFact>,
    /// Request transmissions after the first response.
    pub repeats: Vec<&'a MessageFact>,
    /// The frame proving the requester got an answer in the end.
    pub recovered: Option<u64>,
}

impl LostAnswer<'_> {
    pub fn first_response(&self) -> Option<&MessageFact> {
        self.responses.first().copied()
    }
    /// The responses went out as IP fragments.
    pub fn fragmented(&self) -> bool {
        self.responses.iter().any(|m| m.ip_fragments > 1)
    }
    /// Every frame of the requests and responses.
    pub fn frames(&self) -> Vec<u64> {
        frames_of(self.exchange.messages.iter())
    }
    /// From the first request to the frame that proved recovery.
    pub fn delay_ns(&self, sa: &IkeSa) -> Option<i64> {
        let end = self.recovered?;
        let t_end = sa
            .messages()
            .iter()
            .find(|m| m.frame == end)
            .map(|m| m.ts_ns);
        let start = self.exchange.first_request()?.ts_ns;
        t_end.map(|t| t - start)
    }
}

/// A single request repeated after the response counts as a lost answer
/// only this long after the response: earlier, it may have crossed the
/// answer in flight (sent before the answer arrived).
const CROSSING_NS: i64 = 1_000_000_000;

/// The IKEv2 exchanges of `sa` whose responses did not get through the
/// first time: two or more repeats of the request after a response was
/// sent (one can cross the answer in flight), or one repeat later than a
/// crossing explains (more than 1 s, and four IKE_SA_INIT round trips,
/// after the response).
pub(crate) fn lost_answers(sa: &IkeSa) -> Vec<LostAnswer<'_>> {
    if sa.version != 2 {
        return Vec::new();
    }
    let init_rtt = sa
        .exchange(exch::IKE_SA_INIT)
        .and_then(Exchange::rtt_ns)
        .unwrap_or(0);
    let allowance = CROSSING_NS.max(init_rtt.saturating_mul(4));
    let mut out = Vec::new();
    for e in &sa.exchanges {
        let repeats: Vec<&MessageFact> = e.requests_after_answer().collect();
        if repeats.is_empty() {
            continue;
        }
        let responses: Vec<&MessageFact> = e
            .responses()
            .filter(|m| m.ike_fragment.is_none_or(|(n, _)| n == 1))
            .collect();
        let Some(first_resp) = responses.first() else {
            continue;
        };
        let late = match repeats.as_slice() {
            [] => false,
            [one] => one.ts_ns - first_resp.ts_ns > allowance,
            _ => true,
        };
        if !late {
            continue;
        }
        out.push(LostAnswer {
            exchange: e,
            responses,
            repeats,
            recovered: e.answer_received,
        });
    }
    out
}

/// What a lost answer means from where the capture was taken: an English
/// and a Japanese sentence, and how sure the path reading is.
pub(crate) fn lost_answer_vantage(
    sa: &IkeSa,
    l: &LostAnswer<'_>,
) -> (&'static str, &'static str, super::Confidence) {
    use super::Confidence;
    let requester_is_initiator = l.exchange.requester_is_initiator;
    let at_answerer = matches!(
        (sa.capture_side, requester_is_initiator),
        (CaptureSide::Responder, true) | (CaptureSide::Initiator, false)
    );
    let at_requester = matches!(
        (sa.capture_side, requester_is_initiator),
        (CaptureSide::Initiator, true) | (CaptureSide::Responder, false)
    );
    if at_answerer {
        (
            "Seen where the answer is sent: the request arrives and is answered every time, so the answers are \
             lost on the way back (or rejected by the requester)",
            "応答を送る側で取られたキャプチャです: 要求は毎回届き、毎回応答しているので、応答が戻りの経路で失われています (または要求側が受け付けていません)",
            Confidence::Likely,
        )
    } else if at_requester {
        (
            "Seen at the requester itself: the answers reach this capture point, yet it keeps asking, so they \
             are dropped after it (a host firewall dropping IP fragments, reassembly limits) or fail its checks",
            "要求する側で取られたキャプチャです: 応答はこのキャプチャ地点までは届いているのに要求が繰り返されているので、その後 (IP フラグメントを破棄するホストのファイアウォール、再構成の制限) で破棄されているか、検証に失敗しています",
            Confidence::Possible,
        )
    } else {
        (
            "The answers pass the capture point and the requester keeps asking: they are lost between here and \
             the requester, or rejected by it",
            "応答はキャプチャ地点を通過しているのに要求が繰り返されています: ここから要求側までの間で失われているか、要求側が受け付けていません",
            Confidence::Possible,
        )
    }
}

/// The last IKE_AUTH exchange (EAP and multiple authentication use several).
pub(crate) fn last_ike_auth(sa: &IkeSa) -> Option<&Exchange> {
    sa.exchanges_of(exch::IKE_AUTH).max_by_key(|e| e.message_id)
}

/// The IKE SA got past authentication (IKEv2 IKE_AUTH answered with more
/// than a lone error notify; IKEv1 Main Mode or Aggressive Mode complete).
pub(crate) fn authenticated(sa: &IkeSa) -> bool {
    if sa.version == 2 {
        let Some(auth) = last_ike_auth(sa) else {
            return false;
        };
        // Answers that never reached the initiator (it kept asking and
        // never showed it got one) did not authenticate it.
        let lost = lost_answers(sa)
            .iter()
            .any(|l| std::ptr::eq(l.exchange, auth) && l.recovered.is_none());
        !lost && auth.first_response().is_some_and(|r| !is_lone_error(r))
    } else {
        sa.exchanges.iter().any(|e| {
            let n = e.messages.iter().filter(|m| !m.retransmission).count();
            (e.exchange_type == exch::V1_MAIN && n >= 6)
                || (e.exchange_type == exch::V1_AGGRESSIVE && n >= 3)
        })
    }
}

/// An encrypted IKEv2 response whose SK payload can hold no more than one
/// notify: header 28, SK header 4, IV 16, one 8-byte notify padded to 16,
/// ICV up to 32: 96 bytes. A successful IKE_AUTH response carries IDr,
/// AUTH, SA and TS payloads and is always larger.
pub(crate) fn is_lone_error(r: &MessageFact) -> bool {
    r.encrypted && r.length <= 96 && r.payloads.len() <= 1
        || r.notify_types.iter().any(|&t| t > 0 && t < 16384)
}

/// ESP seen between the SA's peers (either direction) after `after_ns`.
pub(crate) fn esp_between<'a>(
    a: &'a Analysis,
    sa: &IkeSa,
    after_ns: i64,
) -> Vec<&'a crate::session::EspFlow> {
    let (x, y) = sa.peers();
    a.esp_flows
        .iter()
        .filter(|f| {
            ((f.src == x && f.dst == y) || (f.src == y && f.dst == x)) && f.last_ts_ns >= after_ns
        })
        .collect()
}

/// ICMP errors tied to an SA.
pub(crate) fn icmp_for<'a>(a: &'a Analysis, sa: &IkeSa) -> impl Iterator<Item = &'a IcmpFact> {
    let index = sa.index;
    a.icmp_errors.iter().filter(move |i| i.sa == Some(index))
}

/// The SAs to judge: the latest attempt of each retry chain is the one
/// that matters for the outcome, but rules look at all of them.
pub(crate) fn superseded(a: &Analysis, sa: &IkeSa) -> bool {
    a.sas.iter().any(|s| s.retry_of == Some(sa.index))
}

/// Every attempt that retries `sa`, directly or through other retries.
pub(crate) fn retries<'a>(a: &'a Analysis, sa: &IkeSa) -> Vec<&'a IkeSa> {
    let mut out: Vec<&IkeSa> = Vec::new();
    let mut frontier = vec![sa.index];
    while let Some(i) = frontier.pop() {
        for s in a.sas.iter().filter(|s| s.retry_of == Some(i)) {
            if !out.iter().any(|o| o.index == s.index) && out.len() < 64 {
                out.push(s);
                frontier.push(s.index);
            }
        }
    }
    out.sort_by_key(|s| s.index);
    out
}

/// An IKE_SA_INIT answered with a KE payload and no error: the SA started.
pub(crate) fn init_accepted(sa: &IkeSa) -> bool {
    sa.exchange(exch::IKE_SA_INIT)
        .and_then(Exchange::first_response)
        .is_some_and(|r| r.has_payload("KE") && !r.notify_types.iter().any(|&t| t < 16384))
}

/// A later attempt between the same peers that got authenticated.
pub(crate) fn later_success(a: &Analysis, sa: &IkeSa) -> bool {
    a.sas
        .iter()
        .any(|s| s.index > sa.index && same_peers(s, sa) && authenticated(s))
}

pub(crate) fn same_peers(x: &IkeSa, y: &IkeSa) -> bool {
    let (a, b) = x.peers();
    let (c, d) = y.peers();
    (a == c && b == d) || (a == d && b == c)
}

/// RFC 6598 shared address space (CGN, MAP-E / DS-Lite style access).
pub(crate) fn is_shared_address(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            o[0] == 100 && (o[1] & 0xc0) == 64
        }
        IpAddr::V6(_) => false,
    }
}

/// The frames of a list of messages.
pub(crate) fn frames_of<'a>(msgs: impl IntoIterator<Item = &'a MessageFact>) -> Vec<u64> {
    msgs.into_iter()
        .flat_map(|m| m.frames.iter().copied())
        .collect()
}

/// 「フレーム 4, 5, 8」.
pub(crate) fn frame_list_ja(frames: &[u64]) -> String {
    let v: Vec<String> = frames.iter().map(u64::to_string).collect();
    format!("フレーム {}", v.join(", "))
}

/// "frames 4, 5 and 8" style list for messages.
pub(crate) fn frame_list(frames: &[u64]) -> String {
    let v: Vec<String> = frames.iter().map(u64::to_string).collect();
    match v.len() {
        0 => String::new(),
        1 => format!("frame {}", v[0]),
        n => format!("frames {} and {}", v[..n - 1].join(", "), v[n - 1]),
    }
}

/// Does any message of the SA carry this notify in clear?
pub(crate) fn notify_seen(sa: &IkeSa, t: u16) -> Vec<&MessageFact> {
    sa.exchanges
        .iter()
        .flat_map(|e| &e.messages)
        .filter(|m| m.has_notify(t))
        .collect()
}

/// An IKEv1 message whose body was encrypted (its first payload name is
/// the parser's `encrypted`, which IKEv2 never uses).
fn is_ikev1_encrypted(m: &MessageFact) -> bool {
    m.payloads.first() == Some(&"encrypted")
}

/// Says that a finding's message was read by decrypting it (IKEv1 has no
/// integrity check over the ciphertext, so none is claimed for it).
pub(crate) fn decrypted_note(m: &MessageFact) -> &'static str {
    match (m.decrypted, is_ikev1_encrypted(m)) {
        (false, _) => "",
        (true, false) => " (decrypted with the given keys, integrity verified)",
        (true, true) => " (decrypted with the given keys)",
    }
}

/// [`decrypted_note`] in Japanese.
pub(crate) fn decrypted_note_ja(m: &MessageFact) -> &'static str {
    match (m.decrypted, is_ikev1_encrypted(m)) {
        (false, _) => "",
        (true, false) => " (指定された鍵で復号し、完全性を検証済み)",
        (true, true) => " (指定された鍵で復号)",
    }
}

/// The exchange of the SA that holds the message of `frame`.
pub(crate) fn exchange_of(sa: &IkeSa, frame: u64) -> Option<&Exchange> {
    sa.exchanges
        .iter()
        .find(|x| x.messages.iter().any(|m| m.frame == frame))
}

/// Is the IKEv2 message of `frame` part of an IKE_AUTH or CREATE_CHILD_SA
/// exchange (where an error notify is about a CHILD SA)?
pub(crate) fn in_child_exchange(sa: &IkeSa, frame: u64) -> bool {
    exchange_of(sa, frame)
        .is_some_and(|x| matches!(x.exchange_type, exch::IKE_AUTH | exch::CREATE_CHILD_SA))
}

/// Did either peer offer IKEv2 fragmentation (RFC 7383)?
pub(crate) fn fragmentation_offered(sa: &IkeSa) -> (bool, bool) {
    let mut i = false;
    let mut r = false;
    for m in sa.exchanges.iter().flat_map(|e| &e.messages) {
        if m.has_notify(notify::IKEV2_FRAGMENTATION_SUPPORTED) || m.ike_fragment.is_some() {
            if m.from_initiator {
                i = true;
            } else {
                r = true;
            }
        }
    }
    (i, r)
}

/// The capture's largest IP payload that crossed from `src` to `dst`
/// without IP fragmentation, if any: a lower bound for the path MTU.
pub(crate) fn largest_unfragmented(a: &Analysis, src: IpAddr, dst: IpAddr) -> Option<(u32, u64)> {
    let mut best: Option<(u32, u64)> = None;
    for sa in &a.sas {
        // Only exchanges that were answered: their messages provably crossed.
        for m in sa
            .exchanges
            .iter()
            .filter(|e| e.is_answered())
            .flat_map(|e| &e.messages)
        {
            if m.src.addr == src && m.dst.addr == dst && m.ip_fragments == 0 {
                let hdr = if src.is_ipv6() { 40 } else { 20 };
                let total = m.ip_payload_len + hdr;
                if best.is_none_or(|(b, _)| total > b) {
                    best = Some((total, m.frame));
                }
            }
        }
    }
    best
}

/// What the decrypted CHILD SA negotiation answered by `frame` shows about
/// why `notify` refused it: an English and a Japanese clause (starting with
/// ": ") and the request frame, or `None` when its request was not read.
pub(crate) fn child_refusal_detail(
    sa: &IkeSa,
    frame: u64,
    notify: &str,
) -> Option<(String, String, u64)> {
    let c = sa
        .child_sas
        .iter()
        .find(|c| c.response_frame == Some(frame))?;
    let ts = |v: &[String]| v.join(", ");
    let (en, ja) = match notify {
        "NO_PROPOSAL_CHOSEN" if !c.proposed.is_empty() => (
            format!(
                ": it accepts none of the {} CHILD SA proposal(s) offered in frame {}: {}. Its own ESP/AH \
                 proposal differs (algorithms, key sizes, ESN) or one side wants PFS (a DH group) and the other not",
                c.proposed.len(),
                c.request_frame,
                c.proposed.join("; ")
            ),
            format!(
                ": フレーム {} で提案された CHILD SA のプロポーザル {} 個のどれも受け入れません: {}。相手側の ESP/AH プロポーザル (アルゴリズム、鍵長、ESN) が異なるか、一方だけが PFS (DH グループ) を要求しています",
                c.request_frame,
                c.proposed.len(),
                c.proposed.join("; ")
            ),
        ),
        "TS_UNACCEPTABLE" if !c.ts_i_proposed.is_empty() => (
            format!(
                ": it accepts none of the traffic selectors proposed in frame {}: TSi {} (initiator side) and TSr {} \
                 (responder side). Its own local/remote subnets (or protocol/ports) do not match or contain them",
                c.request_frame,
                ts(&c.ts_i_proposed),
                ts(&c.ts_r_proposed)
            ),
            format!(
                ": フレーム {} で提案されたトラフィックセレクタを受け入れません: TSi {} (イニシエータ側)、TSr {} (レスポンダ側)。相手側で設定されたローカル/リモートのサブネット (またはプロトコル/ポート) が一致しないか、それを含んでいません",
                c.request_frame,
                ts(&c.ts_i_proposed),
                ts(&c.ts_r_proposed)
            ),
        ),
        _ => return None,
    };
    Some((en, ja, c.request_frame))
}
