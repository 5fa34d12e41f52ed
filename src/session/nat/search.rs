//! Recovering the address a peer hashed into its NAT_DETECTION_SOURCE_IP
//! (RFC 7296 section 2.23; IKEv1: its own NAT-D, RFC 3947 section 3.2)
//! when that hash matches no address seen in the capture.
//!
//! Contract: the hash is `HASH(SPIi | SPIr | IP | port)`, so a peer behind
//! a NAT hashed its own private address and port, and trying the private
//! and shared IPv4 ranges finds it; a made-up hash (strongSwan
//! `encap = yes`) matches nothing. [`Searcher::search`] tries, in this fixed
//! order, most likely first:
//!
//! 1. hints, outside the budget and not counted as candidates (at most 50):
//!    the addresses this capture's earlier searches recovered, then the
//!    address seen with the other ports (a NAT that changes only the port);
//! 2. the home and office LANs (tier A): 192.168.0.0/16, and in 10.0.0.0/8
//!    and 172.16.0.0/12 every /22 whose third octet is 0-3 (10.0.0.x,
//!    10.0.1.x, 10.1.1.x, 10.8.0.x, 172.17.0.x, ...), with port 500, then
//!    4500, then the port seen if it is another one;
//! 3. with port 500: the rest of 172.16.0.0/12 (tier B), 100.64.0.0/10
//!    (CGNAT, RFC 6598; tier C), the rest of 10.0.0.0/8 (tier D);
//! 4. tiers B, C, D with port 4500, then with the port seen.
//!
//! The candidates are the 22,085,632 addresses of those four ranges times
//! the two or three ports: 44,171,264 or 66,256,896. Work is bounded by a
//! budget in candidates, not by time, so results are reproducible: at most
//! [`BUDGET_PER_SA`] per IKE SA and [`BUDGET_PER_CAPTURE`] for a whole
//! capture, each search taking at most half of what the capture has left,
//! so that a peer that fakes its hash in SA after SA cannot starve the
//! others. A search that stops says how many candidates it tried.
//!
//! SHA-1 (all of IKEv2, IKEv1 with SHA-1) and MD5 (IKEv1, with the
//! `decrypt` feature that brings md-5) run the compression function on one
//! prepared block: SHA-1 at about 19 million candidates per CPU second
//! with the SHA extensions, 7.5 million without, MD5 at 7.8 million
//! (`docs/PERFORMANCE.md`).
//! IKEv1's SHA-2 hashes go through the generic digest, more slowly, within
//! the same budget; a hash of another length is not searched
//! ([`SearchStop::UnsupportedHash`]), nor is an IPv6 address (its private
//! space is 2^64 per prefix).

use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;
use sha1::Digest;

use crate::session::Endpoint;

/// Candidates one IKE SA's search may hash (0.11 CPU seconds with SHA-NI,
/// 0.28 without): tier A with all ports, the rest of 172.16.0.0/12 and the
/// start of 100.64.0.0/10 with port 500.
pub const BUDGET_PER_SA: u64 = 1 << 21;
/// Candidates all the searches of one capture may hash together; each
/// search may use at most half of what is left (rounded up).
pub const BUDGET_PER_CAPTURE: u64 = 1 << 22;

/// Addresses kept as hints for later searches in the same capture.
const MAX_HINTS: usize = 16;

/// The ranges searched, as (network, prefix length).
const RANGES: [(u32, u32); 4] = [
    (0xC0A8_0000, 16), // 192.168.0.0/16
    (0x0A00_0000, 8),  // 10.0.0.0/8
    (0xAC10_0000, 12), // 172.16.0.0/12
    (0x6440_0000, 10), // 100.64.0.0/10
];

/// The tier of a /22 block (its first address), see the module comment.
fn tier_of(block: u32) -> Option<u8> {
    let [a, b, c, _] = block.to_be_bytes();
    match (a, b) {
        (192, 168) => Some(0),
        (10, _) if c < 4 => Some(0),
        (172, 16..=31) if c < 4 => Some(0),
        (172, 16..=31) => Some(1),
        (100, 64..=127) => Some(2),
        (10, _) => Some(3),
        _ => None,
    }
}

/// The first addresses of a tier's /22 blocks, in address order within
/// each range.
fn tier_blocks(tier: u8) -> impl Iterator<Item = u32> {
    RANGES.iter().flat_map(move |&(net, len)| {
        let blocks = 1u32 << (22 - len);
        (0..blocks)
            .map(move |i| net + (i << 10))
            .filter(move |b| tier_of(*b) == Some(tier))
    })
}

/// Addresses in all the ranges (each range once; tiers partition them).
fn range_addresses() -> u64 {
    RANGES.iter().map(|&(_, len)| 1u64 << (32 - len)).sum()
}

/// Why a search ended without finding the address or trying every
/// candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SearchStop {
    /// The per-SA budget ([`BUDGET_PER_SA`]) was spent.
    Budget,
    /// What was left of the capture's budget ([`BUDGET_PER_CAPTURE`]) was
    /// spent (possibly before any candidate, by earlier SAs).
    CaptureBudget,
    /// The peer's address is IPv6: not searched.
    Ipv6,
    /// The hash's length names no function ikediag recomputes (IKEv1
    /// with MD5): not searched.
    UnsupportedHash,
}

/// The outcome of one search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceSearch {
    /// The address and port the peer's packets came from, as seen.
    pub seen: Endpoint,
    /// The address and port the hash was computed over, when found: the
    /// peer's own, before a NAT rewrote them.
    pub found: Option<Endpoint>,
    /// Candidates from the ranges tried (hints not counted).
    pub searched: u64,
    /// Candidates in the ranges: addresses times ports.
    pub candidates: u64,
    /// Ports tried with each address, in order.
    pub ports: Vec<u16>,
    /// The hash function ("SHA-1", "SHA2-256", ...).
    pub hash: &'static str,
    /// Frame of the message whose hash was searched.
    pub frame: u64,
    /// Set when it ended early without finding the address.
    pub stopped: Option<SearchStop>,
}

impl SourceSearch {
    /// Every candidate was tried and none matched.
    pub fn is_exhausted(&self) -> bool {
        self.found.is_none() && self.stopped.is_none()
    }
}

/// One unexplained source hash with what it was computed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceHash {
    pub ispi: [u8; 8],
    pub rspi: [u8; 8],
    /// The hashes of one message (IKEv2 allows several source notifies,
    /// IKEv1 several own NAT-D payloads), all of one length.
    pub hashes: Vec<Vec<u8>>,
    /// The sender's address and port as seen.
    pub seen: Endpoint,
    pub frame: u64,
}

#[derive(Clone, Copy)]
enum Algo {
    #[cfg(feature = "decrypt")]
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algo {
    fn of_len(len: usize) -> Option<Algo> {
        match len {
            #[cfg(feature = "decrypt")]
            16 => Some(Algo::Md5),
            20 => Some(Algo::Sha1),
            32 => Some(Algo::Sha256),
            48 => Some(Algo::Sha384),
            64 => Some(Algo::Sha512),
            _ => None,
        }
    }
    /// MD5 pads and outputs little-endian; the SHAs big-endian.
    fn is_little_endian(self) -> bool {
        #[cfg(feature = "decrypt")]
        if let Algo::Md5 = self {
            return true;
        }
        false
    }
    fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "decrypt")]
            Algo::Md5 => "MD5",
            Algo::Sha1 => "SHA-1",
            Algo::Sha256 => "SHA2-256",
            Algo::Sha384 => "SHA2-384",
            Algo::Sha512 => "SHA2-512",
        }
    }
}

/// SHA-1's initial state (FIPS 180-4 section 5.3.1).
const SHA1_H0: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// MD5's initial state (RFC 1321 section 3.3).
#[cfg(feature = "decrypt")]
const MD5_A0: [u32; 4] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476];

/// Tests candidates against the target hashes.
struct Matcher {
    algo: Algo,
    /// The 22-byte input, padded into one 64-byte block for SHA-1 and MD5.
    block: [u8; 64],
    /// The targets as the compression function's state words (SHA-1 big-
    /// endian, five; MD5 little-endian, four and a zero).
    words: Vec<[u32; 5]>,
    targets: Vec<Vec<u8>>,
}

impl Matcher {
    fn new(h: &SourceHash) -> Option<Matcher> {
        let len = h.hashes.first()?.len();
        let algo = Algo::of_len(len)?;
        let mut block = [0u8; 64];
        block[..8].copy_from_slice(&h.ispi);
        block[8..16].copy_from_slice(&h.rspi);
        // Padding of a 22-byte message: 0x80, zeros, the length in bits
        // (176) as a u64 at the end of the block, big-endian for SHA-1
        // (FIPS 180-4 5.1.1), little-endian for MD5 (RFC 1321 3.2).
        block[22] = 0x80;
        let little_endian = algo.is_little_endian();
        block[56..].copy_from_slice(&if little_endian {
            176u64.to_le_bytes()
        } else {
            176u64.to_be_bytes()
        });
        let targets: Vec<Vec<u8>> = h
            .hashes
            .iter()
            .filter(|x| x.len() == len)
            .cloned()
            .collect();
        let words = targets
            .iter()
            .filter_map(|t| {
                let mut w = [0u32; 5];
                for (i, c) in t.chunks_exact(4).enumerate() {
                    let c: [u8; 4] = c.try_into().ok()?;
                    *w.get_mut(i)? = if little_endian {
                        u32::from_le_bytes(c)
                    } else {
                        u32::from_be_bytes(c)
                    };
                }
                Some(w)
            })
            .collect();
        Some(Matcher {
            algo,
            block,
            words,
            targets,
        })
    }

    fn matches(&mut self, addr: u32, port: u16) -> bool {
        self.block[16..20].copy_from_slice(&addr.to_be_bytes());
        self.block[20..22].copy_from_slice(&port.to_be_bytes());
        let input = &self.block[..22];
        match self.algo {
            Algo::Sha1 => {
                let mut st = SHA1_H0;
                sha1::block_api::compress(&mut st, std::slice::from_ref(&self.block));
                self.words.contains(&st)
            }
            #[cfg(feature = "decrypt")]
            Algo::Md5 => {
                let mut st = MD5_A0;
                md5::block_api::compress(&mut st, std::slice::from_ref(&self.block));
                let [a, b, c, d] = st;
                self.words.contains(&[a, b, c, d, 0])
            }
            Algo::Sha256 => {
                let d = sha2::Sha256::digest(input);
                self.targets.iter().any(|t| t.as_slice() == d.as_slice())
            }
            Algo::Sha384 => {
                let d = sha2::Sha384::digest(input);
                self.targets.iter().any(|t| t.as_slice() == d.as_slice())
            }
            Algo::Sha512 => {
                let d = sha2::Sha512::digest(input);
                self.targets.iter().any(|t| t.as_slice() == d.as_slice())
            }
        }
    }
}

/// Runs the searches of one capture, in SA order, within its budgets, and
/// remembers what they recovered as hints for the next.
#[derive(Debug, Clone)]
pub struct Searcher {
    per_sa: u64,
    /// Candidates the capture may still hash.
    left: u64,
    hints: Vec<Ipv4Addr>,
}

impl Default for Searcher {
    fn default() -> Self {
        Searcher::with_budget(BUDGET_PER_SA, BUDGET_PER_CAPTURE)
    }
}

impl Searcher {
    /// A searcher with other budgets (tests; a future CLI flag).
    pub fn with_budget(per_sa: u64, per_capture: u64) -> Self {
        Searcher {
            per_sa,
            left: per_capture,
            hints: Vec::new(),
        }
    }

    /// Candidates the capture may still hash.
    pub fn left(&self) -> u64 {
        self.left
    }

    /// Searches the private and shared ranges for the endpoint `h` was
    /// computed over.
    pub fn search(&mut self, h: &SourceHash) -> SourceSearch {
        let mut ports = vec![500, 4500];
        if !ports.contains(&h.seen.port) {
            ports.push(h.seen.port);
        }
        let n_ports = ports.len() as u64;
        let mut out = SourceSearch {
            seen: h.seen,
            found: None,
            searched: 0,
            candidates: range_addresses() * n_ports,
            ports,
            hash: h
                .hashes
                .first()
                .and_then(|x| Algo::of_len(x.len()))
                .map_or("unknown", Algo::name),
            frame: h.frame,
            stopped: None,
        };
        let IpAddr::V4(seen) = h.seen.addr else {
            out.stopped = Some(SearchStop::Ipv6);
            return out;
        };
        let Some(mut m) = Matcher::new(h) else {
            out.stopped = Some(SearchStop::UnsupportedHash);
            return out;
        };
        // Half of what the capture has left (see the module comment).
        let limit = self.per_sa.min(self.left.div_ceil(2));
        let mut spent = 0u64;
        let stop_reason = if limit < self.per_sa {
            SearchStop::CaptureBudget
        } else {
            SearchStop::Budget
        };
        let found = 'search: {
            // Hints: the addresses recovered earlier (the latest first),
            // then the address seen with the other ports.
            let mut hints: Vec<(u32, u16)> = Vec::new();
            for a in self.hints.iter().rev() {
                for &p in &out.ports {
                    hints.push((u32::from(*a), p));
                }
            }
            for &p in &out.ports {
                if p != h.seen.port {
                    hints.push((u32::from(seen), p));
                }
            }
            for (a, p) in hints {
                if m.matches(a, p) {
                    break 'search Some((a, p));
                }
            }
            // The ranges, tier by tier, see the module comment.
            let mut order: Vec<(u8, u16)> = out.ports.iter().map(|&p| (0, p)).collect();
            for &p in &out.ports {
                order.extend([(1, p), (2, p), (3, p)]);
            }
            for (tier, port) in order {
                for block in tier_blocks(tier) {
                    for a in block..block + 1024 {
                        if spent >= limit {
                            break 'search None;
                        }
                        spent += 1;
                        out.searched += 1;
                        if m.matches(a, port) {
                            break 'search Some((a, port));
                        }
                    }
                }
            }
            None
        };
        self.left = self.left.saturating_sub(spent);
        match found {
            Some((a, p)) => {
                let a = Ipv4Addr::from(a);
                if !self.hints.contains(&a) && self.hints.len() < MAX_HINTS {
                    self.hints.push(a);
                }
                out.found = Some(Endpoint {
                    addr: IpAddr::V4(a),
                    port: p,
                });
            }
            None if out.searched < out.candidates => out.stopped = Some(stop_reason),
            None => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISPI: [u8; 8] = [0x4a, 0xcb, 0x6b, 0xc0, 0x33, 0x17, 0xbc, 0xe5];

    fn ep(s: &str) -> Endpoint {
        let (a, p) = s.rsplit_once(':').unwrap();
        Endpoint {
            addr: a.trim_matches(['[', ']']).parse().unwrap(),
            port: p.parse().unwrap(),
        }
    }

    /// The NAT-D hash of `e` as a peer computes it (RFC 7296 2.23).
    fn natd(len: usize, e: &Endpoint) -> Vec<u8> {
        let mut input = Vec::new();
        input.extend_from_slice(&ISPI);
        input.extend_from_slice(&[0; 8]);
        if let IpAddr::V4(a) = e.addr {
            input.extend_from_slice(&a.octets());
        }
        input.extend_from_slice(&e.port.to_be_bytes());
        match len {
            #[cfg(feature = "decrypt")]
            16 => md5::Md5::digest(&input).to_vec(),
            20 => sha1::Sha1::digest(&input).to_vec(),
            32 => sha2::Sha256::digest(&input).to_vec(),
            _ => sha2::Sha512::digest(&input).to_vec(),
        }
    }

    fn source(hash: Vec<u8>, seen: &str) -> SourceHash {
        SourceHash {
            ispi: ISPI,
            rspi: [0; 8],
            hashes: vec![hash],
            seen: ep(seen),
            frame: 1,
        }
    }

    #[test]
    fn tiers_partition_the_ranges() {
        let per_tier: Vec<u64> = (0..4)
            .map(|t| tier_blocks(t).count() as u64 * 1024)
            .collect();
        assert_eq!(per_tier, [344_064, 1_032_192, 4_194_304, 16_515_072]);
        assert_eq!(per_tier.iter().sum::<u64>(), range_addresses());
        assert_eq!(range_addresses(), 22_085_632);
        assert_eq!(tier_of(0x0A08_0000), Some(0)); // 10.8.0.0
        assert_eq!(tier_of(0x0A08_0400), Some(3)); // 10.8.4.0
        assert_eq!(tier_of(0xAC14_0A00), Some(1)); // 172.20.10.0
        assert_eq!(tier_of(0x0B00_0000), None);
    }

    #[test]
    fn finds_a_home_lan_address_quickly() {
        let own = ep("192.168.1.77:500");
        let mut s = Searcher::default();
        let r = s.search(&source(natd(20, &own), "198.51.100.7:61034"));
        assert_eq!(r.found, Some(own));
        assert_eq!(r.stopped, None);
        assert_eq!(r.hash, "SHA-1");
        assert_eq!(r.ports, [500, 4500, 61034]);
        assert_eq!(r.candidates, 22_085_632 * 3);
        // 192.168.0.0/16 comes first: 256 + 77 + 1 candidates.
        assert_eq!(r.searched, 334);
        assert_eq!(s.left(), BUDGET_PER_CAPTURE - 334);
    }

    #[test]
    fn finds_the_lab_initiator_behind_masquerading() {
        // lab-both/natt_ok_responder: 10.8.0.23:500 seen as 198.18.99.1:500.
        let own = ep("10.8.0.23:500");
        let mut s = Searcher::default();
        let r = s.search(&source(natd(20, &own), "198.18.99.1:500"));
        assert_eq!(r.found, Some(own));
        assert!(r.searched < 200_000, "{}", r.searched);
    }

    #[test]
    fn a_nat_that_changes_only_the_port_is_a_hint() {
        let own = ep("203.0.113.5:500");
        let r = Searcher::default().search(&source(natd(20, &own), "203.0.113.5:1024"));
        assert_eq!(r.found, Some(own));
        assert_eq!(r.searched, 0);
    }

    #[test]
    fn earlier_recoveries_are_tried_first() {
        let own = ep("10.200.7.9:4500");
        let mut s = Searcher::with_budget(u64::MAX, u64::MAX);
        s.hints.push(Ipv4Addr::new(10, 200, 7, 9));
        let r = s.search(&source(natd(20, &own), "198.51.100.7:4500"));
        assert_eq!(r.found, Some(own));
        assert_eq!(r.searched, 0);
    }

    #[test]
    fn ikev1_md5_and_sha2_hashes() {
        #[cfg(feature = "decrypt")]
        let lens = [16, 32, 64];
        #[cfg(not(feature = "decrypt"))]
        let lens = [32, 64];
        for len in lens {
            let own = ep("192.168.0.3:500");
            let r = Searcher::default().search(&source(natd(len, &own), "198.51.100.7:500"));
            assert_eq!(r.found, Some(own), "{len}");
        }
    }

    #[test]
    fn a_random_hash_stops_at_the_budget() {
        let mut s = Searcher::with_budget(1000, 2400);
        let r = s.search(&source(vec![0x5a; 20], "203.0.113.66:500"));
        assert_eq!(r.found, None);
        assert_eq!(r.stopped, Some(SearchStop::Budget));
        assert_eq!(r.searched, 1000);
        assert!(!r.is_exhausted());
        // Later searches get half of what the capture has left.
        let r = s.search(&source(vec![0x5b; 20], "203.0.113.67:500"));
        assert_eq!(
            (r.searched, r.stopped),
            (700, Some(SearchStop::CaptureBudget))
        );
        assert_eq!(s.left(), 700);
        let r = s.search(&source(vec![0x5c; 20], "203.0.113.68:500"));
        assert_eq!(
            (r.searched, r.stopped),
            (350, Some(SearchStop::CaptureBudget))
        );
        let mut s = Searcher::with_budget(1000, 0);
        let r = s.search(&source(vec![0x5c; 20], "203.0.113.68:500"));
        assert_eq!(
            (r.searched, r.stopped),
            (0, Some(SearchStop::CaptureBudget))
        );
    }

    #[test]
    fn ipv6_is_not_searched() {
        let r = Searcher::default().search(&source(vec![0x5a; 20], "[2001:db8::1]:500"));
        assert_eq!((r.searched, r.stopped), (0, Some(SearchStop::Ipv6)));
    }

    #[test]
    fn a_hash_of_unknown_length_is_not_searched() {
        let r = Searcher::default().search(&source(vec![0x5a; 24], "203.0.113.66:500"));
        assert_eq!(
            (r.found, r.searched, r.stopped),
            (None, 0, Some(SearchStop::UnsupportedHash))
        );
        assert!(!r.is_exhausted());
    }
}
