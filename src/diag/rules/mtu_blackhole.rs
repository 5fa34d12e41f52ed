//! NET006 `mtu-blackhole`: IKE_SA_INIT succeeds, IKE_AUTH is never
//! answered, and everything points to a large IKE_AUTH lost to IP
//! fragmentation.

use super::{exch, fixes, fragmentation_offered, pending};
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity, bytes};
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
                  fragments at all, because they were dropped before the capture point).",
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
    check,
};

fn certreq(e: &Exchange) -> bool {
    e.messages.iter().any(|m| m.has_payload("CERTREQ"))
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
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
        let (limit, limit_why) = fixes::ike_packet_limit(a, sa);
        let pend: Vec<_> = pending(sa)
            .into_iter()
            .filter(|p| p.exchange.exchange_type == exch::IKE_AUTH)
            .collect();
        let mut init_frames: Vec<u64> = init.messages.iter().map(|m| m.frame).collect();
        if let Some(p) = pend.first() {
            let first = p.first();
            let msgs = sa.messages();
            let responder_later = msgs.iter().any(|m| {
                !m.from_initiator && m.ts_ns > first.ts_ns && m.transport == first.transport
            });
            let (msg, confidence) = if p.fragmented() {
                (
                    format!(
                        "The IKE_AUTH request is {} bytes and went out as {} IP fragments, {} times, and was never answered: \
                         the path drops IP fragments",
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
            // At the responder, a lost IKE_AUTH request leaves no trace at all.
            e.emit(
                Draft::new(
                    Severity::Error,
                    format!(
                        "IKE_SA_INIT was answered but no IKE_AUTH request ever reached the responder: with certificates and \
                         without IKEv2 fragmentation it is IP-fragmented, and the fragments were dropped before the capture point. \
                         Enable IKEv2 fragmentation on both peers with IKE packets of at most {limit} bytes ({limit_why})"
                    ),
                    init_frames,
                )
                .sa(sa)
                .exchange("IKE_AUTH")
                .confidence(Confidence::Possible)
                .fix(fixes::ikev2_fragmentation(limit)),
            );
        }
    }
}
