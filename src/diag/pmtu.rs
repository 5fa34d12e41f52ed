//! Path MTU evidence from the capture, each piece cited by frame number:
//! ICMP fragmentation-needed / packet-too-big with their MTU, DF ping sweeps
//! (answered, refused with ICMP, or vanished), and the largest packets that
//! provably crossed; plus the cipher suite to compute tunnel limits with.
//!
//! Contract: a pure function of the [`Analysis`]; it judges nothing (the
//! rules `path-mtu`, `pmtu-icmp-filtered` and `mss-too-large` do).

use std::net::IpAddr;

use serde::Serialize;

use crate::mtu::CipherSuite;
use crate::session::{Analysis, CaptureSide, EchoFact, Exchange, IcmpFact, IkeSa, MessageFact};
use crate::wire::icmp::ErrorKind;

/// What the capture says about the path MTU towards one destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PathMtu {
    /// Exact, when the evidence pins it down.
    pub value: Option<u32>,
    /// Largest packet size known to cross.
    pub lower: Option<u32>,
    /// Largest size not excluded (one below the smallest that failed).
    pub upper: Option<u32>,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    /// Frames of the evidence.
    pub frames: Vec<u64>,
    /// The evidence in words, with the arithmetic.
    pub evidence: Vec<String>,
    /// The same in Japanese.
    pub evidence_ja: Vec<String>,
    /// DF probes larger than the path MTU that vanished with no ICMP error.
    pub vanished_frames: Vec<u64>,
    /// ICMP fragmentation-needed / packet-too-big frames and their MTU.
    pub icmp_frames: Vec<u64>,
    pub icmp_mtu: Option<u32>,
}

/// One DF echo probe and what became of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Answered(u64),
    Refused(u64, Option<u32>),
    Vanished,
}

fn ping_payload(e: &EchoFact) -> u32 {
    let hdr = if e.src.is_ipv6() { 48 } else { 28 };
    e.datagram_len.saturating_sub(hdr)
}

fn fate(a: &Analysis, req: &EchoFact) -> Fate {
    if let Some(r) = a.echoes.iter().find(|r| {
        !r.request
            && r.src == req.dst
            && r.dst == req.src
            && r.id == req.id
            && r.seq == req.seq
            && r.ts_ns >= req.ts_ns
    }) {
        return Fate::Answered(r.frame);
    }
    let icmp = a.icmp_errors.iter().find(|i: &&IcmpFact| {
        i.kind == ErrorKind::FragmentationNeeded
            && i.quoted_protocol == Some(if req.src.is_ipv6() { 58 } else { 1 })
            && i.quoted_src == Some(req.src)
            && i.quoted_dst == Some(req.dst)
            && i.quoted_len == Some(req.datagram_len)
            && i.ts_ns >= req.ts_ns
    });
    match icmp {
        Some(i) => Fate::Refused(i.frame, i.mtu),
        None => Fate::Vanished,
    }
}

/// The path MTU evidence of the capture (towards the destination with the
/// most evidence), or `None` when there is none.
pub fn path_mtu(a: &Analysis) -> Option<PathMtu> {
    let mut p = PathMtu::default();
    // 1. DF ping sweeps, grouped by destination.
    let probes: Vec<&EchoFact> = a
        .echoes
        .iter()
        .filter(|e| e.request && e.dont_fragment)
        .collect();
    let mut dsts: Vec<(IpAddr, IpAddr)> = probes.iter().map(|e| (e.src, e.dst)).collect();
    dsts.sort();
    dsts.dedup();
    let best = dsts
        .into_iter()
        .max_by_key(|(s, d)| probes.iter().filter(|e| e.src == *s && e.dst == *d).count());
    if let Some((src, dst)) = best {
        let mine: Vec<&&EchoFact> = probes
            .iter()
            .filter(|e| e.src == src && e.dst == dst)
            .collect();
        let sizes: std::collections::BTreeSet<u32> = mine.iter().map(|e| e.datagram_len).collect();
        if sizes.len() >= 2 {
            p.src = Some(src);
            p.dst = Some(dst);
            let mut ok: Option<(u32, u64, u64)> = None; // (size, request frame, reply frame)
            let mut fails: Vec<(u32, u64, Fate)> = Vec::new();
            for e in &mine {
                match fate(a, e) {
                    Fate::Answered(r) => {
                        if ok.is_none_or(|(s, _, _)| e.datagram_len > s) {
                            ok = Some((e.datagram_len, e.frame, r));
                        }
                    }
                    f => fails.push((e.datagram_len, e.frame, f)),
                }
            }
            if let Some((size, req, rep)) = ok {
                p.lower = Some(size);
                p.frames.extend([req, rep]);
                let v6 = src.is_ipv6();
                p.evidence.push(format!(
                    "a DF ping with a {}-byte payload was answered (frames {req} and {rep}): {} + 8 (ICMP header) + {} ({} header) = {size} bytes cross",
                    size.saturating_sub(if v6 { 48 } else { 28 }),
                    size.saturating_sub(if v6 { 48 } else { 28 }),
                    if v6 { 40 } else { 20 },
                    if v6 { "IPv6" } else { "IPv4" },
                ));
                let pl = size.saturating_sub(if v6 { 48 } else { 28 });
                p.evidence_ja.push(format!(
                    "ペイロード {pl} バイトの DF 付き ping に応答がありました (フレーム {req} と {rep}): {pl} + 8 (ICMP ヘッダ) + {} ({} ヘッダ) = {size} バイトが通過します",
                    if v6 { 40 } else { 20 },
                    if v6 { "IPv6" } else { "IPv4" },
                ));
            }
            let lower = p.lower.unwrap_or(0);
            let failing: Vec<&(u32, u64, Fate)> =
                fails.iter().filter(|(s, _, _)| *s > lower).collect();
            if let Some(&&(size, frame, f)) = failing.iter().min_by_key(|(s, _, _)| *s) {
                p.upper = Some(size - 1);
                p.frames.push(frame);
                let payload = mine
                    .iter()
                    .find(|e| e.frame == frame)
                    .map(|e| ping_payload(e))
                    .unwrap_or(0);
                let how_ja = match f {
                    Fate::Refused(icmp, Some(m)) => {
                        format!("ICMP fragmentation needed (MTU {m}、フレーム {icmp}) が返りました")
                    }
                    Fate::Refused(icmp, None) => {
                        format!("ICMP fragmentation needed (フレーム {icmp}) が返りました")
                    }
                    _ => "応答も ICMP エラーもなく消えました".to_string(),
                };
                p.evidence_ja.push(format!(
                    "ペイロード {payload} バイト ({size} バイト、フレーム {frame}) の DF 付き ping は{how_ja}"
                ));
                let how = match f {
                    Fate::Refused(icmp, Some(m)) => {
                        p.frames.push(icmp);
                        format!("drew ICMP 'fragmentation needed' with MTU {m} (frame {icmp})")
                    }
                    Fate::Refused(icmp, None) => {
                        p.frames.push(icmp);
                        format!("drew ICMP 'fragmentation needed' (frame {icmp})")
                    }
                    _ => "vanished: no reply and no ICMP error".to_string(),
                };
                p.evidence.push(format!(
                    "a DF ping with a {payload}-byte payload ({size} bytes, frame {frame}) {how}"
                ));
            }
            for (size, frame, f) in &fails {
                if *f == Fate::Vanished && *size > lower {
                    p.vanished_frames.push(*frame);
                }
            }
        }
    }
    // 2. ICMP fragmentation needed / packet too big.
    let icmp: Vec<&IcmpFact> = a
        .icmp_errors
        .iter()
        .filter(|i| i.kind == ErrorKind::FragmentationNeeded && i.mtu.is_some())
        .collect();
    if let Some(first) = icmp.first() {
        let m = icmp.iter().filter_map(|i| i.mtu).min().unwrap_or(0);
        p.icmp_mtu = Some(m);
        p.icmp_frames = icmp.iter().map(|i| i.frame).collect();
        p.frames.extend(p.icmp_frames.iter().copied());
        if p.dst.is_none() {
            p.src = first.quoted_src;
            p.dst = first.quoted_dst;
        }
        p.evidence.push(format!(
            "{} reported a next-hop MTU of {m} bytes in ICMP '{}' (frame {}), quoting a {}-byte packet",
            first.src,
            if first.v6 { "packet too big" } else { "fragmentation needed" },
            first.frame,
            first.quoted_len.unwrap_or(0)
        ));
        p.evidence_ja.push(format!(
            "{} が ICMP {} (フレーム {}) で次ホップの MTU {m} バイトを通知しました。引用されているのは {} バイトのパケットです",
            first.src,
            if first.v6 { "packet too big" } else { "fragmentation needed" },
            first.frame,
            first.quoted_len.unwrap_or(0)
        ));
        p.upper = Some(p.upper.map_or(m, |u| u.min(m)));
    }
    // 3. The largest IKE packet that provably crossed (its exchange was answered).
    if let (Some(src), Some(dst)) = (p.src, p.dst)
        && let Some((size, frame)) = crate::diag::rules::largest_unfragmented(a, src, dst)
        && p.lower.is_none_or(|l| size > l)
    {
        p.lower = Some(size);
        p.frames.push(frame);
        p.evidence.push(format!(
            "a {size}-byte IKE packet to {dst} was answered (frame {frame})"
        ));
        p.evidence_ja.push(format!(
            "{dst} への {size} バイトの IKE パケットに応答がありました (フレーム {frame})"
        ));
    }
    // 4. The fragments a sender made. A non-last fragment carries a
    // multiple of 8 data bytes, so one of F bytes says only that the MTU the
    // sender applied was between F and F + 7 (an upper bound only for its
    // first hop, so it is evidence, not a bound here). When an ICMP
    // fragmentation-needed / packet-too-big for that sender, with an MTU in
    // that range, came before it, that MTU is the path MTU it had learned,
    // not its interface's.
    let sender = p.src;
    for &(src, size, frame) in &a.fragment_sizes {
        if sender.is_some_and(|s| s != src) {
            continue;
        }
        let high = size.saturating_add(7);
        let learned = a
            .icmp_errors
            .iter()
            .filter(|i| {
                i.kind == ErrorKind::FragmentationNeeded
                    && i.frame < frame
                    && (i.dst == src || i.quoted_src == Some(src))
            })
            .filter_map(|i| i.mtu.filter(|m| (size..=high).contains(m)).map(|m| (i, m)))
            .next_back();
        match learned {
            Some((i, m)) => {
                let kind = if i.v6 {
                    "packet too big"
                } else {
                    "fragmentation needed"
                };
                p.evidence.push(format!(
                    "{src} sent a non-last IP fragment of {size} bytes (frame {frame}): the MTU it applied was between \
                     {size} and {high} bytes (such a fragment carries a multiple of 8 data bytes), which is the path MTU \
                     of {m} it had learned from the ICMP '{kind}' in frame {}, not its interface's MTU",
                    i.frame
                ));
                p.evidence_ja.push(format!(
                    "{src} は {size} バイトの (最後ではない) IP フラグメントを送っています (フレーム {frame})。最後でないフラグメントのデータは 8 バイトの倍数なので、適用された MTU は {size}〜{high} バイトです。これはフレーム {} の ICMP {kind} で知った経路 MTU {m} で、インタフェースの MTU ではありません",
                    i.frame
                ));
                p.frames.push(i.frame);
            }
            None => {
                p.evidence.push(format!(
                    "{src} sent a non-last IP fragment of {size} bytes (frame {frame}): the MTU it applied (its \
                     interface's, or a path MTU it had learned) was between {size} and {high} bytes (such a fragment \
                     carries a multiple of 8 data bytes)"
                ));
                p.evidence_ja.push(format!(
                    "{src} は {size} バイトの (最後ではない) IP フラグメントを送っています (フレーム {frame})。最後でないフラグメントのデータは 8 バイトの倍数なので、適用された MTU (インタフェースのもの、または知った経路 MTU) は {size}〜{high} バイトです"
                ));
            }
        }
        p.frames.push(frame);
        if p.src.is_none() {
            p.src = Some(src);
        }
    }
    if p.evidence.is_empty() {
        return None;
    }
    p.value = match (p.lower, p.upper, p.icmp_mtu) {
        (Some(l), Some(u), _) if l == u => Some(l),
        (l, Some(u), Some(m)) if u == m && l.is_none_or(|l| l <= m) => Some(m),
        _ => None,
    };
    p.frames.sort_unstable();
    p.frames.dedup();
    Some(p)
}

/// The ESP cipher suite to compute tunnel limits with, and where it came
/// from. ESP proposals travel encrypted in IKE_AUTH, so the IKE SA's chosen
/// algorithms (in clear in the IKE_SA_INIT response) are the best guess;
/// without them, AES-CBC-256 with HMAC-SHA2-256-128 (one of the largest
/// common overheads).
pub fn assumed_suite(a: &Analysis) -> (CipherSuite, String, String) {
    for sa in &a.sas {
        for m in sa.exchanges.iter().flat_map(|e| &e.messages) {
            if !m.is_response {
                continue;
            }
            for p in &m.proposals {
                let enc = p.transforms.iter().find_map(|t| suite_word(t));
                let integ = p.transforms.iter().find_map(|t| integ_word(t));
                if let Some(e) = enc {
                    let name = match integ {
                        Some(i) if !e.contains("gcm") && !e.contains("chacha") => {
                            format!("{e}-{i}")
                        }
                        _ => e,
                    };
                    if let Ok(s) = CipherSuite::parse(&name) {
                        return (
                            s,
                            format!(
                                "the ESP algorithms are encrypted; assumed the IKE SA's ({name}, frame {})",
                                m.frame
                            ),
                            format!(
                                "ESP のアルゴリズムは暗号化されているため、IKE SA のもの ({name}、フレーム {}) を仮定",
                                m.frame
                            ),
                        );
                    }
                }
            }
        }
    }
    (
        crate::diag::rules::fixes::assumed_suite(),
        "no algorithm is visible; assumed aes256-sha256 (AES-CBC-256 + HMAC-SHA2-256-128)"
            .to_string(),
        "アルゴリズムが見えないため aes256-sha256 (AES-CBC-256 + HMAC-SHA2-256-128) を仮定"
            .to_string(),
    )
}

/// strongSwan's word for an IKEv2 encryption transform name ("ENCR_AES_CBC-256").
fn suite_word(t: &str) -> Option<String> {
    let (name, bits) = match t.rsplit_once('-') {
        Some((n, b)) if b.chars().all(|c| c.is_ascii_digit()) => (n, b),
        _ => (t, "128"),
    };
    Some(match name {
        "ENCR_AES_CBC" => format!("aes{bits}"),
        "ENCR_AES_CTR" => format!("aes{bits}ctr"),
        "ENCR_AES_GCM_16" => format!("aes{bits}gcm16"),
        "ENCR_AES_GCM_12" => format!("aes{bits}gcm12"),
        "ENCR_AES_GCM_8" => format!("aes{bits}gcm8"),
        "ENCR_3DES" => "3des".into(),
        "ENCR_CHACHA20_POLY1305" => "chacha20poly1305".into(),
        _ => return None,
    })
}

fn integ_word(t: &str) -> Option<&'static str> {
    Some(match t {
        "AUTH_HMAC_SHA1_96" => "sha1",
        "AUTH_HMAC_SHA2_256_128" => "sha256",
        "AUTH_HMAC_SHA2_384_192" => "sha384",
        "AUTH_HMAC_SHA2_512_256" => "sha512",
        "AUTH_HMAC_MD5_96" => "md5",
        "AUTH_AES_XCBC_96" => "aesxcbc",
        _ => return None,
    })
}

/// One IKE packet cited as path MTU evidence: its IP size, its frame and
/// what it was ("IKE_SA_INIT request").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SizedPacket {
    /// The IP packet's size (header included).
    pub size: u32,
    pub frame: u64,
    pub what: String,
    pub what_ja: String,
}

/// What one IKE SA's packets show about the path MTU in one direction,
/// from `src` to `dst`: the bounds a recommendation starts from.
///
/// Only whole packets count (not IP-fragmented), with DF set or over IPv6
/// (whose routers never fragment): only they say anything about the
/// path MTU. A packet *crossed* when the capture proves it reached `dst`:
/// it was captured at `dst`, it is a request that was answered, or it is
/// a response after which its requester went on to a new message. A packet
/// *went unanswered* when it was sent at least twice and nothing shows that
/// it arrived (see [`unanswered`] for the two shapes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DirectionBounds {
    pub ipv6: bool,
    /// The largest packet that crossed: the path MTU is at least its size.
    pub crossed: Option<SizedPacket>,
    /// The smallest packet that went unanswered (of those the caller
    /// counts).
    pub unanswered: Option<SizedPacket>,
    /// The smallest MTU that an ICMP fragmentation-needed / packet-too-big
    /// tied to the SA reported for this direction, and its frame.
    pub icmp_mtu: Option<(u32, u64)>,
}

/// The IP header size of a message's packet.
pub fn ip_header_len(m: &MessageFact) -> u32 {
    if m.src.addr.is_ipv6() { 40 } else { 20 }
}

/// The IP packet size of a message's (largest) packet.
pub fn ip_size(m: &MessageFact) -> u32 {
    m.ip_payload_len + ip_header_len(m)
}

/// A whole packet whose size says something about the path MTU.
fn is_probe(m: &MessageFact) -> bool {
    m.ip_fragments <= 1 && (m.dont_fragment || m.src.addr.is_ipv6())
}

/// The capture side of the peer that sent a message.
pub fn side_of(from_initiator: bool) -> CaptureSide {
    if from_initiator {
        CaptureSide::Initiator
    } else {
        CaptureSide::Responder
    }
}

fn what(sa: &IkeSa, e: &Exchange, m: &MessageFact) -> (String, String) {
    let kind = if sa.version == 2 {
        if m.is_response {
            ("response", "応答")
        } else {
            ("request", "要求")
        }
    } else {
        ("message", "メッセージ")
    };
    (
        format!("{} {}", e.name, kind.0),
        format!("{} {}", e.name, kind.1),
    )
}

/// Did `m`, a message of exchange `e`, provably reach its destination?
pub fn crossed(sa: &IkeSa, e: &Exchange, m: &MessageFact) -> bool {
    // Captured where it was going.
    if sa.capture_side == side_of(!m.from_initiator) {
        return true;
    }
    let from_peer_later =
        |o: &&MessageFact| o.from_initiator != m.from_initiator && o.ts_ns > m.ts_ns;
    if sa.version != 2 {
        // IKEv1: the peer said something new afterwards.
        return sa
            .exchanges
            .iter()
            .flat_map(|x| &x.messages)
            .filter(from_peer_later)
            .any(|o| !o.retransmission);
    }
    if !m.is_response {
        return e.responses().any(|r| r.ts_ns >= m.ts_ns);
    }
    // A response: its requester started a new exchange afterwards.
    sa.exchanges
        .iter()
        .filter(|x| !std::ptr::eq(*x, e))
        .flat_map(|x| &x.messages)
        .filter(from_peer_later)
        .any(|o| !o.is_response && !o.retransmission)
}

/// An unanswered transmission, as [`DirectionBounds::unanswered`] counts
/// it: (the packet, every frame of its transmissions, how many times it
/// was sent).
pub struct Unanswered<'a> {
    pub exchange: &'a Exchange,
    /// The largest transmission.
    pub message: &'a MessageFact,
    pub frames: Vec<u64>,
    pub sends: usize,
    /// The requests that drew the lost responses (response case only).
    pub requests: Vec<u64>,
}

/// The packets of `sa` that were sent at least twice, whole, with DF set
/// (or over IPv6), and never shown to arrive, in two shapes:
///
/// - a request never answered, retransmitted, in a capture not taken at
///   its destination (there, its arrival would be proof that it crossed);
/// - a response sent again and again because its request kept coming
///   (retransmitted after the first response) while the requester never
///   went on to anything new, in a capture not taken at the requester.
pub fn unanswered(sa: &IkeSa) -> Vec<Unanswered<'_>> {
    let mut out = Vec::new();
    for e in &sa.exchanges {
        let Some(req) = e.first_request() else {
            continue;
        };
        let requester = req.from_initiator;
        if !e.is_answered() {
            let sends: Vec<&MessageFact> = e
                .requests()
                .filter(|m| m.ike_fragment.is_none_or(|(n, _)| n == 1))
                .collect();
            if sends.len() < 2 || sa.capture_side == side_of(!requester) {
                continue;
            }
            // For IKEv1 only the last distinct message can be the one unanswered.
            if sa.version != 2 {
                continue;
            }
            if !sends.iter().all(|m| is_probe(m)) {
                continue;
            }
            let Some(largest) = first_largest(&sends) else {
                continue;
            };
            out.push(Unanswered {
                exchange: e,
                message: largest,
                frames: e
                    .requests()
                    .flat_map(|m| m.frames.iter().copied())
                    .collect(),
                sends: sends.len(),
                requests: Vec::new(),
            });
            continue;
        }
        if sa.version != 2 || sa.capture_side == side_of(requester) {
            continue;
        }
        let responses: Vec<&MessageFact> = e
            .responses()
            .filter(|m| m.ike_fragment.is_none_or(|(n, _)| n == 1))
            .collect();
        let Some(first) = responses.first() else {
            continue;
        };
        let again: Vec<&MessageFact> = e.requests().filter(|m| m.ts_ns > first.ts_ns).collect();
        if again.is_empty() || responses.len() < 2 || !responses.iter().all(|m| is_probe(m)) {
            continue;
        }
        if responses.iter().any(|r| crossed(sa, e, r)) {
            continue;
        }
        let Some(largest) = first_largest(&responses) else {
            continue;
        };
        out.push(Unanswered {
            exchange: e,
            message: largest,
            frames: e
                .responses()
                .flat_map(|m| m.frames.iter().copied())
                .collect(),
            sends: responses.len(),
            requests: e.requests().map(|m| m.frame).collect(),
        });
    }
    out
}

/// The largest whole packet (DF set, or IPv6) of `sa` from `src` to `dst`
/// that provably crossed: a lower bound for the path MTU.
pub fn largest_crossed(sa: &IkeSa, src: IpAddr, dst: IpAddr) -> Option<SizedPacket> {
    let mut best: Option<SizedPacket> = None;
    for e in &sa.exchanges {
        for m in &e.messages {
            if m.src.addr != src || m.dst.addr != dst || !is_probe(m) || !crossed(sa, e, m) {
                continue;
            }
            let size = ip_size(m);
            if best.as_ref().is_none_or(|c| size > c.size) {
                let (w, wj) = what(sa, e, m);
                best = Some(SizedPacket {
                    size,
                    frame: m.frame,
                    what: w,
                    what_ja: wj,
                });
            }
        }
    }
    best
}

/// The first of the largest transmissions.
fn first_largest<'a>(sends: &[&'a MessageFact]) -> Option<&'a MessageFact> {
    let max = sends.iter().map(|m| m.ip_payload_len).max()?;
    sends.iter().copied().find(|m| m.ip_payload_len == max)
}

/// The path MTU bounds of `sa`'s packets from `src` to `dst`; of the
/// [`unanswered`] packets, only those `counts` accepts (the caller judges
/// which losses the size explains).
pub fn direction_bounds(
    a: &Analysis,
    sa: &IkeSa,
    src: IpAddr,
    dst: IpAddr,
    counts: impl Fn(&Unanswered<'_>) -> bool,
) -> DirectionBounds {
    let mut b = DirectionBounds {
        ipv6: src.is_ipv6(),
        ..DirectionBounds::default()
    };
    b.crossed = largest_crossed(sa, src, dst);
    for u in unanswered(sa) {
        let m = u.message;
        if m.src.addr != src || m.dst.addr != dst || !counts(&u) {
            continue;
        }
        let size = ip_size(m);
        if b.unanswered.as_ref().is_none_or(|c| size < c.size) {
            let (w, wj) = what(sa, u.exchange, m);
            b.unanswered = Some(SizedPacket {
                size,
                frame: m.frame,
                what: w,
                what_ja: wj,
            });
        }
    }
    b.icmp_mtu = a
        .icmp_errors
        .iter()
        .filter(|i| {
            i.kind == ErrorKind::FragmentationNeeded
                && i.sa == Some(sa.index)
                && i.quoted_src.is_none_or(|s| s == src)
                && i.quoted_dst.is_none_or(|d| d == dst)
        })
        .filter_map(|i| i.mtu.map(|m| (m, i.frame)))
        .min();
    b
}

/// Helpers for the unit tests of the path MTU rules: real lab captures
/// from `tests/fixtures/`, analysed, then edited as the network would
/// have shaped them.
#[cfg(test)]
pub(crate) mod testing {
    use crate::session::{Analysis, CaptureSide, IkeSa, MessageFact};

    /// Analyses `tests/fixtures/NAME` (no keys).
    pub(crate) fn analysis(name: &str) -> Analysis {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let mut r = crate::capture::CaptureReader::open(&path).expect("fixture");
        crate::session::analyze_reader(&mut r, Default::default())
    }

    /// The exchange of type `t` in the first SA.
    pub(crate) fn exchange(a: &mut Analysis, t: u8) -> &mut crate::session::Exchange {
        a.sas[0]
            .exchanges
            .iter_mut()
            .find(|e| e.exchange_type == t)
            .expect("exchange")
    }

    /// Sets the IP size of every message of exchange `t` sent by the
    /// responder (`response`) or the requester.
    pub(crate) fn resize(a: &mut Analysis, t: u8, response: bool, ip_total: u32) {
        for m in exchange(a, t).messages.iter_mut() {
            if m.is_response == response {
                let hdr = if m.src.addr.is_ipv6() { 40 } else { 20 };
                m.ip_payload_len = ip_total - hdr;
            }
        }
    }

    /// Drops every exchange after the one of type `t`, and its responses
    /// when `answers` is false.
    pub(crate) fn cut_after(a: &mut Analysis, t: u8, answers: bool) {
        let sa: &mut IkeSa = &mut a.sas[0];
        let Some(i) = sa.exchanges.iter().position(|e| e.exchange_type == t) else {
            return;
        };
        sa.exchanges.truncate(i + 1);
        if !answers {
            sa.exchanges[i].messages.retain(|m| !m.is_response);
        }
    }

    /// Sends the messages of exchange `t` again, `n` times, one second
    /// apart, as retransmissions (new frame numbers after the last one).
    pub(crate) fn repeat(a: &mut Analysis, t: u8, n: usize) {
        let last_frame = a.sas[0]
            .exchanges
            .iter()
            .flat_map(|e| &e.messages)
            .map(|m| m.frame)
            .max()
            .unwrap_or(0);
        let e = exchange(a, t);
        let orig: Vec<MessageFact> = e.messages.clone();
        let mut frame = last_frame;
        for k in 1..=n {
            for m in &orig {
                let mut c = m.clone();
                frame += 1;
                c.frame = frame;
                c.frames = vec![frame];
                c.ts_ns += i64::try_from(k).unwrap_or(0) * 1_000_000_000;
                c.retransmission = true;
                e.messages.push(c);
            }
        }
    }

    pub(crate) fn side(a: &mut Analysis, s: CaptureSide) {
        a.sas[0].capture_side = s;
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::diag::rules::exch;

    #[test]
    fn bounds_of_the_lab_df_black_hole() {
        // lab/mtu_blackhole_df.pcap: IKE_SA_INIT request of 268 bytes
        // answered, IKE_AUTH request of 1,360 bytes with DF sent 4 times.
        let a = analysis("mtu_blackhole_df.pcap");
        let sa = &a.sas[0];
        let (i, r) = sa.peers();
        let b = direction_bounds(&a, sa, i, r, |_| true);
        let c = b.crossed.expect("IKE_SA_INIT crossed");
        assert_eq!(
            (c.size, c.frame, c.what.as_str()),
            (268, 5, "IKE_SA_INIT request")
        );
        let u = b.unanswered.expect("IKE_AUTH lost");
        assert_eq!(
            (u.size, u.frame, u.what.as_str()),
            (1360, 7, "IKE_AUTH request")
        );
        assert_eq!(b.icmp_mtu, None);
        assert!(!b.ipv6);
        // Back from the responder: its IKE_SA_INIT response reached the
        // initiator (captured there); nothing was lost that way.
        let back = direction_bounds(&a, sa, r, i, |_| true);
        assert_eq!(back.crossed.map(|c| c.size), Some(313));
        assert_eq!(back.unanswered, None);
        // A caller that counts no loss gets no upper bound.
        assert_eq!(direction_bounds(&a, sa, i, r, |_| false).unanswered, None);
    }

    #[test]
    fn a_request_captured_at_its_destination_crossed_and_was_not_lost() {
        let mut a = analysis("mtu_blackhole_df.pcap");
        side(&mut a, CaptureSide::Responder);
        let sa = &a.sas[0];
        let (i, r) = sa.peers();
        let b = direction_bounds(&a, sa, i, r, |_| true);
        assert_eq!(b.crossed.map(|c| c.size), Some(1360));
        assert_eq!(b.unanswered, None);
        assert!(unanswered(sa).is_empty());
    }

    #[test]
    fn responses_sent_again_and_again_at_the_responder_are_lost() {
        // lab-both/ipv6_ok_psk_responder.pcapng with an IKE_AUTH response
        // of 1,300 bytes, sent 4 more times for 4 more requests.
        let mut a = analysis("ipv6_ok_psk_responder.pcapng");
        assert_eq!(a.sas[0].capture_side, CaptureSide::Responder);
        cut_after(&mut a, exch::IKE_AUTH, true);
        resize(&mut a, exch::IKE_AUTH, true, 1300);
        repeat(&mut a, exch::IKE_AUTH, 4);
        let sa = &a.sas[0];
        let lost = unanswered(sa);
        assert_eq!(lost.len(), 1);
        assert!(lost[0].message.is_response);
        assert_eq!(lost[0].sends, 5);
        assert_eq!(lost[0].requests.len(), 5);
        let (i, r) = sa.peers();
        let b = direction_bounds(&a, sa, r, i, |_| true);
        assert_eq!(b.unanswered.map(|u| u.size), Some(1300));
        // The IKE_SA_INIT response crossed: the initiator went on to IKE_AUTH.
        assert_eq!(
            b.crossed.map(|c| c.what),
            Some("IKE_SA_INIT response".into())
        );
        // Had the initiator gone on to something new, they arrived.
        let mut a2 = analysis("ipv6_ok_psk_responder.pcapng");
        resize(&mut a2, exch::IKE_AUTH, true, 1300);
        repeat(&mut a2, exch::IKE_AUTH, 1);
        for m in &mut exchange(&mut a2, exch::INFORMATIONAL).messages {
            m.ts_ns += 10_000_000_000;
        }
        assert!(unanswered(&a2.sas[0]).is_empty());
    }
}

/// What a non-last fragment says about its sender's MTU (item 4 above).
#[cfg(test)]
mod fragment_tests {
    use super::*;

    fn sender() -> IpAddr {
        "100.64.7.10".parse().unwrap()
    }

    /// A sender that sent a 1452-byte non-last fragment in frame 14, and an
    /// ICMP fragmentation-needed for it with `mtu`, in frame `icmp_frame`.
    fn analysis(icmp_frame: u64, mtu: u32) -> Analysis {
        let router: IpAddr = "100.64.7.1".parse().unwrap();
        Analysis {
            fragment_sizes: vec![(sender(), 1452, 14)],
            icmp_errors: vec![IcmpFact {
                frame: icmp_frame,
                ts_ns: 0,
                src: router,
                dst: sender(),
                v6: false,
                kind: ErrorKind::FragmentationNeeded,
                icmp_type: 3,
                code: 4,
                mtu: Some(mtu),
                quoted_src: Some(sender()),
                quoted_dst: Some("203.0.113.20".parse().unwrap()),
                quoted_protocol: Some(17),
                quoted_src_port: Some(4500),
                quoted_dst_port: Some(4500),
                quoted_len: Some(1476),
                quoted_esp_spi: None,
                quoted_ike_ispi: None,
                sa: None,
            }],
            ..Analysis::default()
        }
    }

    fn fragment_evidence(a: &Analysis) -> String {
        let p = path_mtu(a).unwrap();
        p.evidence
            .into_iter()
            .find(|e| e.contains("non-last IP fragment"))
            .unwrap()
    }

    #[test]
    fn a_fragment_after_icmp_names_the_learned_path_mtu() {
        let e = fragment_evidence(&analysis(13, 1454));
        assert!(e.contains("between 1452 and 1459 bytes"), "{e}");
        assert!(
            e.contains("the path MTU of 1454 it had learned from the ICMP 'fragmentation needed' in frame 13"),
            "{e}"
        );
        assert!(!e.contains("interface MTU is"), "{e}");
    }

    #[test]
    fn a_fragment_before_the_icmp_or_outside_its_mtu_gives_only_the_bound() {
        for (frame, mtu) in [(15, 1454), (13, 1400), (13, 1460)] {
            let e = fragment_evidence(&analysis(frame, mtu));
            assert!(e.contains("between 1452 and 1459 bytes"), "{e}");
            assert!(
                e.contains("its interface's, or a path MTU it had learned"),
                "{e}"
            );
            assert!(!e.contains("learned from the ICMP"), "{e}");
        }
    }
}
