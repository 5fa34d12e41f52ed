//! NAT detection from the NAT-D hashes (RFC 7296 section 2.23, RFC 3947
//! section 3.2): recompute each hash from the addresses and ports seen in
//! the capture and compare.
//!
//! IKEv2: `SHA-1(SPIi | SPIr | IP | port)` in NAT_DETECTION_SOURCE_IP (the
//! sender's own address) and NAT_DETECTION_DESTINATION_IP (the address it
//! sends to). IKEv1: `HASH(CKY-I | CKY-R | IP | port)` with the negotiated
//! hash (the digest length tells which: MD5 with the `decrypt` feature,
//! SHA-1, SHA2-256/384/512; another length is not compared); the first
//! NAT-D payload is the peer's address, the others the sender's own.
//!
//! A source hash that matches no address seen has two readings: the
//! sender is behind a NAT (it hashed its own private address), or it made
//! the hash up to force UDP encapsulation (strongSwan `encap = yes`). At
//! the initiator, or on its link (its packets unrouted), the capture shows
//! the initiator's own address, so a mismatch there while the responder
//! saw that address is the made-up hash. Where the initiator's packets were routed before the capture (at
//! the responder, in between, or a capture of the initiator's packets
//! alone), [`conclude`] searches the private and shared ranges for the
//! initiator's own address ([`search`]): found, it proves the NAT and
//! names the address behind it; not found, both readings stay open and the
//! facts say how far the search went.

mod search;

pub use search::{
    BUDGET_PER_CAPTURE, BUDGET_PER_SA, SearchStop, Searcher, SourceHash, SourceSearch,
};

use std::net::IpAddr;

use sha1::Digest;

use super::{Endpoint, IkeSa, MessageFact, NatFacts};
use crate::ike::{IkeMessage, PayloadDetail};

/// Raw comparison results, kept on the SA until the analysis ends.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NatChecks {
    /// The initiator's source hash matches the source seen.
    pub initiator_source: Option<bool>,
    /// The initiator's destination hash matches the destination seen.
    pub initiator_destination: Option<bool>,
    pub responder_source: Option<bool>,
    pub responder_destination: Option<bool>,
    /// The initiator's source hashes that decided `initiator_source` when
    /// they matched nothing, with their SPIs (what the search needs).
    pub initiator_source_hash: Option<SourceHash>,
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
        // MD5 (IKEv1) with the `decrypt` feature's md-5; unknown without.
        #[cfg(feature = "decrypt")]
        16 => md5::Md5::digest(&input).to_vec(),
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
    if fact.from_initiator && s == Some(false) && c.initiator_source.is_none() {
        // The message that decides `initiator_source`: its hashes that
        // ikediag can recompute, as the search needs them.
        let hashes: Vec<Vec<u8>> = source
            .iter()
            .filter(|x| nat_hash(x.len(), &h.ispi, &h.rspi, &fact.src).is_some())
            .map(|x| x.to_vec())
            .collect();
        c.initiator_source_hash = Some(SourceHash {
            ispi: h.ispi,
            rspi: h.rspi,
            hashes,
            seen: fact.src,
            frame: fact.frame,
        });
    }
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

/// Whether the initiator's first packet outside a tunnel arrived with a
/// TTL below its initial value (as in [`super::capture_side`]): routers,
/// and so possibly a NAT, lay between it and the capture. `None` when no
/// such packet was seen.
fn initiator_routed(sa: &IkeSa) -> Option<bool> {
    sa.messages()
        .iter()
        .find(|m| m.from_initiator && m.tunnel.is_none())
        .map(|m| !super::is_initial_ttl(m.ttl))
}

/// Turns the comparisons into conclusions once the capture side is known;
/// `searcher` carries the capture's search budget from SA to SA.
pub(crate) fn conclude(sa: &mut IkeSa, searcher: &mut Searcher) {
    let c = &sa.nat_checks;
    let mismatch = |x: Option<bool>| x == Some(false);
    let matched = |x: Option<bool>| x == Some(true);
    let exchanged = (c.initiator_source.is_some() || c.initiator_destination.is_some())
        && (c.responder_source.is_some() || c.responder_destination.is_some());
    // Seen on the initiator's side of any NAT (its packets unrouted: at the
    // initiator or on its link), the initiator's own hash must match what
    // we see; if it does not while the responder saw the initiator's real
    // address, the initiator made it up.
    let routed = initiator_routed(sa);
    let faked =
        routed == Some(false) && mismatch(c.initiator_source) && matched(c.responder_destination);
    // Where the initiator's packets were routed before the capture (at the
    // responder, in between, or a one-sided capture of them), a NAT may
    // sit on the way: a source hash that matches nothing, while the
    // responder's destination hash does not already prove the NAT, is
    // searched for.
    let search = match &c.initiator_source_hash {
        Some(h)
            if routed == Some(true)
                && mismatch(c.initiator_source)
                && !mismatch(c.responder_destination) =>
        {
            Some(searcher.search(h))
        }
        _ => None,
    };
    let initiator_behind_nat = match &search {
        Some(s) => s.found.is_some(),
        None => !faked && (mismatch(c.initiator_source) || mismatch(c.responder_destination)),
    };
    sa.nat = NatFacts {
        exchanged,
        initiator_behind_nat,
        responder_behind_nat: mismatch(c.initiator_destination) || mismatch(c.responder_source),
        faked_by_initiator: faked,
        frames: std::mem::take(&mut sa.nat.frames),
        initiator_source_search: search,
    };
}
