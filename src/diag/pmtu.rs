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
use crate::session::{Analysis, EchoFact, IcmpFact};
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
    // 4. The fragment size a sender used: its own interface MTU (an upper
    // bound only for its first hop, so it is evidence, not a bound here).
    let sender = p.src;
    for (src, size, frame) in &a.fragment_sizes {
        if sender.is_none_or(|s| s == *src) {
            p.evidence.push(format!(
                "{src} IP-fragmented at {size} bytes (frame {frame}), so its own interface MTU is {size}"
            ));
            p.evidence_ja.push(format!(
                "{src} は {size} バイトで IP フラグメント化しています (フレーム {frame})。つまり自身のインタフェース MTU は {size} です"
            ));
            p.frames.push(*frame);
            if p.src.is_none() {
                p.src = Some(*src);
            }
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
