//! NAT detection from the NAT-D hashes (RFC 7296 section 2.23, RFC 3947
//! section 3.2): recompute each hash from the addresses and ports seen in
//! the capture and compare.
//!
//! IKEv2: `SHA-1(SPIi | SPIr | IP | port)` in NAT_DETECTION_SOURCE_IP (the
//! sender's own address) and NAT_DETECTION_DESTINATION_IP (the address it
//! sends to). IKEv1: `HASH(CKY-I | CKY-R | IP | port)` with the negotiated
//! hash (the digest length tells which); the first NAT-D payload is the
//! peer's address, the others the sender's own.

mod search;

pub use search::{
    BUDGET_PER_CAPTURE, BUDGET_PER_SA, SearchStop, Searcher, SourceHash, SourceSearch,
};

use std::net::IpAddr;

use sha1::Digest;

use super::{CaptureSide, Endpoint, IkeSa, MessageFact, NatFacts};
use crate::ike::{IkeMessage, PayloadDetail};

/// Raw comparison results, kept on the SA until the analysis ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct NatChecks {
    /// The initiator's source hash matches the source seen.
    pub initiator_source: Option<bool>,
    /// The initiator's destination hash matches the destination seen.
    pub initiator_destination: Option<bool>,
    pub responder_source: Option<bool>,
    pub responder_destination: Option<bool>,
}

fn nat_hash(len: usize, ispi: &[u8; 8], rspi: &[u8; 8], ep: &Endpoint) -> Option<Vec<u8>> {
    let mut input = Vec::with_capacity(36);
    input.extend_from_slice(ispi);
    input.extend_from_slice(rspi);
    match ep.addr {
        IpAddr::V4(a) => input.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => input.extend_from_slice(&a.octets()),
    }
    input.extend_from_slice(&ep.port.to_be_bytes());
    Some(match len {
        16 => return None, // MD5: not worth a dependency; treated as unknown
        20 => sha1::Sha1::digest(&input).to_vec(),
        32 => sha2::Sha256::digest(&input).to_vec(),
        48 => sha2::Sha384::digest(&input).to_vec(),
        64 => sha2::Sha512::digest(&input).to_vec(),
        _ => return None,
    })
}

/// Records the NAT-D comparisons of one message.
pub(crate) fn observe(sa: &mut IkeSa, fact: &MessageFact, m: &IkeMessage<'_>) {
    let h = &m.header;
    let mut source = Vec::new();
    let mut destination = Vec::new();
    if m.version() == 2 {
        for n in m.notifies() {
            match n.notify_type {
                16388 => source.push(n.data),
                16389 => destination.push(n.data),
                _ => {}
            }
        }
    } else {
        let mut first = true;
        for p in &m.payloads {
            if let PayloadDetail::NatD(hash) = p.detail {
                if first {
                    destination.push(hash);
                    first = false;
                } else {
                    source.push(hash);
                }
            }
        }
    }
    if source.is_empty() && destination.is_empty() {
        return;
    }
    let check = |hashes: &[&[u8]], ep: &Endpoint| -> Option<bool> {
        let mut known = false;
        for hash in hashes {
            if let Some(want) = nat_hash(hash.len(), &h.ispi, &h.rspi, ep) {
                known = true;
                if want == *hash {
                    return Some(true);
                }
            }
        }
        known.then_some(false)
    };
    let s = check(&source, &fact.src);
    let d = check(&destination, &fact.dst);
    let c = &mut sa.nat_checks;
    if fact.from_initiator {
        c.initiator_source = c.initiator_source.or(s);
        c.initiator_destination = c.initiator_destination.or(d);
    } else {
        c.responder_source = c.responder_source.or(s);
        c.responder_destination = c.responder_destination.or(d);
    }
    if !sa.nat.frames.contains(&fact.frame) {
        sa.nat.frames.push(fact.frame);
    }
}

/// Turns the comparisons into conclusions once the capture side is known.
pub(crate) fn conclude(sa: &mut IkeSa) {
    let c = sa.nat_checks;
    let mismatch = |x: Option<bool>| x == Some(false);
    let matched = |x: Option<bool>| x == Some(true);
    let exchanged = (c.initiator_source.is_some() || c.initiator_destination.is_some())
        && (c.responder_source.is_some() || c.responder_destination.is_some());
    // Seen on the initiator's side of any NAT, the initiator's own hash
    // must match what we see; if it does not while the responder saw the
    // initiator's real address, the initiator made it up.
    let faked = sa.capture_side == CaptureSide::Initiator
        && mismatch(c.initiator_source)
        && matched(c.responder_destination);
    sa.nat = NatFacts {
        exchanged,
        initiator_behind_nat: !faked
            && (mismatch(c.initiator_source) || mismatch(c.responder_destination)),
        responder_behind_nat: mismatch(c.initiator_destination) || mismatch(c.responder_source),
        faked_by_initiator: faked,
        frames: std::mem::take(&mut sa.nat.frames),
    };
}
