//! IPv4 and IPv6 fragment reassembly (RFC 791 section 3.2, RFC 8200
//! section 4.5), built to explain failures rather than only to reassemble.
//!
//! # Job
//!
//! The decoder hands over every fragment it sees as a [`Fragment`] (already
//! past the IPv4 header or the IPv6 Fragment header). The [`Defragmenter`]
//! groups them by [`FragKey`] (source, destination, protocol and
//! identification, never the identification alone), and returns
//! [`Pushed::Complete`] with the original payload once every byte arrived.
//! Sets that never complete come back as [`IncompleteSet`]s that say exactly
//! which byte ranges are missing, whether the first and last fragments came,
//! and the UDP ports and first bytes of the first fragment, so the caller can
//! tell "the IKE_AUTH request lost its second fragment" from "nothing came".
//!
//! # Contract
//!
//! - Time is capture time, passed in by the caller (`Fragment::ts_ns`,
//!   [`Defragmenter::expire`]); the wall clock is never read. A set expires
//!   when more than `timeout_ns` passed since its first-arriving fragment,
//!   as in RFC 8200 section 4.5 (60 s by default).
//! - Nothing panics on any input, and memory is bounded by
//!   [`DefragConfig`]: per datagram (`max_datagram_len`), per set
//!   (`max_fragments_per_set`) and in total (`max_total_bytes`, `max_sets`).
//!   When a limit is hit the oldest sets are evicted and reported with
//!   [`IncompleteReason::Evicted`], so a fragment flood cannot exhaust memory.
//! - **Duplicates**: a fragment with the same offset and length as one
//!   already accepted, whose bytes equal the bytes held, is counted and
//!   ignored ([`Pushed::Duplicate`]). Its frame is not added to `frames` but to
//!   `duplicate_frames`. A duplicate that arrives after its datagram was
//!   reassembled (within the timeout) is recognised too, by a digest of each
//!   fragment, so a capture that holds every frame twice does not produce
//!   phantom incomplete sets.
//! - **Overlaps**: a fragment that covers bytes already held with different
//!   content or different boundaries is counted in `overlaps`, and the data
//!   first received is kept (the BSD/Linux "first wins" policy for the held
//!   bytes); only the bytes it adds are taken. RFC 5722 requires an IPv6
//!   receiver to drop the whole datagram in that case; this module
//!   reassembles anyway so the message can still be decoded, and leaves the
//!   judgement to the caller (`overlaps > 0` on an IPv6 key means a compliant
//!   receiver would have discarded it).
//! - **Inconsistent ends**: a fragment that reaches past the end set by the
//!   last fragment, or a second last fragment with another end, is rejected
//!   ([`RejectReason::BeyondEnd`], [`RejectReason::ConflictingEnd`]); the set
//!   keeps what it had (first received wins here too).
//! - **Truncation** (snaplen): a fragment whose captured data is shorter than
//!   its declared length still covers its declared range, so the set can
//!   complete; [`Reassembled::truncated`] is then set and
//!   [`Reassembled::payload`] holds only the bytes captured contiguously from
//!   offset 0 (it stops before the first byte that was not captured; nothing
//!   is zero-filled). [`Reassembled::total_len`] gives the declared length.
//! - An atomic fragment (offset 0, no more fragments, RFC 6946) completes at
//!   once and is never merged with other fragments.
//! - Non-final fragments whose length is not a multiple of 8 are accepted
//!   (Wireshark does the same); offsets are byte offsets.
//! - Sets evicted or expired inside [`Defragmenter::push`] are queued and
//!   returned by the next [`Defragmenter::expire`] or
//!   [`Defragmenter::finish`]; that queue is capped by
//!   `max_pending_reports` (reports beyond it are counted in
//!   [`DefragStats::reports_dropped`]).

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;

use serde::Serialize;

#[cfg(test)]
mod tests;

/// What makes fragments belong to one datagram: RFC 791 section 3.2
/// (source, destination, protocol, identification) and RFC 8200 section 4.5
/// (source, destination, identification; the next header of the Fragment
/// header is part of the key here too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FragKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 protocol field, or the IPv6 Fragment header's next header.
    pub protocol: u8,
    /// IPv4 identification (16 bits) or IPv6 identification (32 bits).
    pub id: u32,
}

/// One fragment as the decoder hands it over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub key: FragKey,
    /// Byte offset of this fragment's data in the original payload
    /// (fragment offset * 8).
    pub offset: u32,
    pub more_fragments: bool,
    /// The fragment data as captured: may be shorter than `declared_len`
    /// when the snaplen cut it. Bytes beyond `declared_len` (link padding)
    /// are ignored.
    pub data: &'a [u8],
    /// The data length the IP header declares.
    pub declared_len: u32,
    /// 1-based capture frame number.
    pub frame: u64,
    /// Capture time in nanoseconds.
    pub ts_ns: i64,
}

/// Limits. All of them bound memory; see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefragConfig {
    /// A set is abandoned when more than this much capture time passed since
    /// its first-arriving fragment.
    pub timeout_ns: i64,
    /// Largest reassembled payload accepted (offset + length of any
    /// fragment). 65535 covers IPv4 and the IPv6 fragmentable part.
    pub max_datagram_len: u32,
    /// Memory budget for all held sets: captured bytes plus a fixed
    /// bookkeeping cost per set and per fragment.
    pub max_total_bytes: usize,
    /// Most sets held at once.
    pub max_sets: usize,
    /// Most accepted fragments in one set; beyond it the set is dropped as
    /// hostile ([`IncompleteReason::TooManyFragments`]).
    pub max_fragments_per_set: usize,
    /// Most evicted/expired reports queued between two calls to
    /// [`Defragmenter::expire`].
    pub max_pending_reports: usize,
}

impl Default for DefragConfig {
    fn default() -> Self {
        Self {
            timeout_ns: 60_000_000_000,
            max_datagram_len: 65_535,
            max_total_bytes: 64 * 1024 * 1024,
            max_sets: 65_536,
            max_fragments_per_set: 1024,
            max_pending_reports: 4096,
        }
    }
}

/// The outcome of [`Defragmenter::push`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Pushed {
    /// Kept; the datagram is not complete yet.
    Held,
    /// A copy of a fragment already accepted. `completing_frame` is set when
    /// the datagram was already reassembled (the frame that completed it).
    Duplicate { completing_frame: Option<u64> },
    /// This fragment completed the datagram.
    Complete(Reassembled),
    /// Not used; the set (if any) is unchanged unless the reason says so.
    Rejected(RejectReason),
}

/// Why a fragment was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum RejectReason {
    /// The declared data length is zero.
    ZeroLength,
    /// offset + length overflows or exceeds `max_datagram_len`.
    TooLarge,
    /// Data beyond the end that the last fragment (MF=0) set.
    BeyondEnd,
    /// A last fragment whose end differs from the last fragment already
    /// received, or ends before data already held.
    ConflictingEnd,
    /// The set reached `max_fragments_per_set`; it was dropped and reported
    /// with [`IncompleteReason::TooManyFragments`].
    TooManyFragments,
    /// The fragment alone does not fit in `max_total_bytes`.
    MemoryLimit,
}

/// Why a set was given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum IncompleteReason {
    /// Still held when the capture ended.
    EndOfCapture,
    /// The timeout passed since its first fragment.
    Expired,
    /// Dropped to stay within `max_sets` / `max_total_bytes`.
    Evicted,
    /// Reached `max_fragments_per_set`.
    TooManyFragments,
}

/// A half-open byte range `[start, end)` of the original payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ByteRange {
    pub start: u32,
    pub end: u32,
}

/// A half-open byte range not received. `end` is `None` when the last
/// fragment never came, so the end of the datagram is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct MissingRange {
    pub start: u32,
    pub end: Option<u32>,
}

/// A datagram whose fragments all arrived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reassembled {
    pub key: FragKey,
    /// The payload in order. When `truncated`, only the bytes captured
    /// contiguously from offset 0 (shorter than `total_len`).
    pub payload: Vec<u8>,
    /// The declared length of the original payload.
    pub total_len: u32,
    /// Every frame that contributed, in arrival order, without duplicates.
    pub frames: Vec<u64>,
    /// Frames that carried an exact duplicate of an accepted fragment.
    pub duplicate_frames: Vec<u64>,
    /// The frame that completed it: Wireshark shows the message there.
    pub completing_frame: u64,
    /// Earliest and latest capture time of its fragments.
    pub first_ts_ns: i64,
    pub last_ts_ns: i64,
    pub duplicates: u32,
    pub overlaps: u32,
    /// Some fragment was cut by the snaplen.
    pub truncated: bool,
}

/// A set given up before it completed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IncompleteSet {
    pub key: FragKey,
    /// Frames accepted, in arrival order.
    pub frames: Vec<u64>,
    pub duplicate_frames: Vec<u64>,
    /// Captured data bytes held.
    pub bytes_held: u32,
    /// Declared byte ranges received, merged and sorted.
    pub received: Vec<ByteRange>,
    /// Byte ranges not received, sorted.
    pub missing: Vec<MissingRange>,
    /// The fragment at offset 0 arrived.
    pub has_first: bool,
    /// The last fragment (MF=0) arrived.
    pub has_last: bool,
    /// Known when the last fragment arrived.
    pub total_len: Option<u32>,
    /// Up to the first 64 bytes captured at offset 0 (empty without the
    /// first fragment): the UDP header and the start of the IKE header.
    pub first_bytes: Vec<u8>,
    /// (source port, destination port) when the protocol is UDP (17) and
    /// the first fragment carries at least 4 bytes.
    pub first_udp_ports: Option<(u16, u16)>,
    /// Earliest and latest capture time of its fragments.
    pub first_ts_ns: i64,
    pub last_ts_ns: i64,
    pub duplicates: u32,
    pub overlaps: u32,
    pub truncated: bool,
    pub reason: IncompleteReason,
}

/// Counters since the defragmenter was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DefragStats {
    pub fragments: u64,
    pub reassembled: u64,
    pub duplicates: u64,
    pub overlaps: u64,
    pub expired: u64,
    /// Sets evicted for memory limits or too many fragments.
    pub evicted: u64,
    pub rejected: u64,
    pub sets_now: usize,
    pub peak_sets: usize,
    /// Captured data bytes held now.
    pub bytes_held_now: usize,
    pub peak_bytes_held: usize,
    /// Evicted/expired reports dropped because the pending queue was full.
    pub reports_dropped: u64,
}

/// Bookkeeping charged against `max_total_bytes` per set and per fragment,
/// on top of the captured bytes.
const SET_COST: usize = 256;
const FRAGMENT_COST: usize = 96;
/// Bookkeeping per fragment digest kept after completion.
const DIGEST_COST: usize = 24;
/// `first_bytes` length in [`IncompleteSet`].
const FIRST_BYTES: usize = 64;

/// A held piece of the payload: declared range `[start, end)`, of which
/// `data` holds the captured prefix. Pieces of a set never overlap.
#[derive(Debug)]
struct Piece {
    start: u32,
    end: u32,
    data: Vec<u8>,
}

/// An accepted fragment's boundaries and a digest of its captured bytes.
#[derive(Clone, Copy, Debug)]
struct Signature {
    start: u32,
    end: u32,
    digest: u64,
}

#[derive(Debug)]
struct FragSet {
    key: FragKey,
    age: (i64, u64),
    /// Sorted by `start`, non-overlapping.
    pieces: Vec<Piece>,
    signatures: Vec<Signature>,
    frames: Vec<u64>,
    duplicate_frames: Vec<u64>,
    total_len: Option<u32>,
    /// Declared bytes covered by `pieces`.
    covered: u64,
    bytes_held: usize,
    cost: usize,
    first_ts_ns: i64,
    last_ts_ns: i64,
    duplicates: u32,
    overlaps: u32,
    truncated: bool,
}

/// What a fragment is to its set.
enum Verdict {
    Reject(RejectReason),
    Duplicate,
    Accept { overlap: bool },
}

/// A datagram reassembled recently, kept to recognise late duplicates.
#[derive(Debug)]
struct Recent {
    age: (i64, u64),
    completing_frame: u64,
    signatures: Vec<Signature>,
}

/// The reassembly engine. See the module documentation for the semantics.
#[derive(Debug)]
pub struct Defragmenter {
    config: DefragConfig,
    sets: HashMap<FragKey, FragSet>,
    /// Sets by (first arrival time, creation sequence): expiry and eviction
    /// order.
    age: BTreeMap<(i64, u64), FragKey>,
    recent: HashMap<FragKey, Recent>,
    recent_age: BTreeMap<(i64, u64), FragKey>,
    recent_cost: usize,
    held_cost: usize,
    next_seq: u64,
    pending: Vec<IncompleteSet>,
    stats: DefragStats,
}

fn to_usize(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn to_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn is_expired(first_ts_ns: i64, now_ns: i64, timeout_ns: i64) -> bool {
    now_ns.saturating_sub(first_ts_ns) > timeout_ns
}

fn digest(data: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    data.hash(&mut hasher);
    hasher.finish()
}

/// The part of `data` (captured from `start`) that falls in `[from, to)`.
fn captured_slice(data: &[u8], start: u32, from: u32, to: u32) -> &[u8] {
    let lo = to_usize(from.saturating_sub(start));
    let hi = to_usize(to.saturating_sub(start)).min(data.len());
    data.get(lo..hi).unwrap_or(&[])
}

impl FragSet {
    fn new(key: FragKey, age: (i64, u64), ts_ns: i64) -> Self {
        Self {
            key,
            age,
            pieces: Vec::new(),
            signatures: Vec::new(),
            frames: Vec::new(),
            duplicate_frames: Vec::new(),
            total_len: None,
            covered: 0,
            bytes_held: 0,
            cost: SET_COST,
            first_ts_ns: ts_ns,
            last_ts_ns: ts_ns,
            duplicates: 0,
            overlaps: 0,
            truncated: false,
        }
    }

    /// Index of the first piece that ends after `start`.
    fn first_piece_after(&self, start: u32) -> usize {
        self.pieces.partition_point(|p| p.end <= start)
    }

    fn judge(&self, start: u32, end: u32, more: bool, data: &[u8], dig: u64) -> Verdict {
        let held_end = self.pieces.last().map_or(0, |p| p.end);
        match (self.total_len, more) {
            (Some(total), true) if end > total => return Verdict::Reject(RejectReason::BeyondEnd),
            (Some(total), false) if end != total => {
                return Verdict::Reject(RejectReason::ConflictingEnd);
            }
            (None, false) if held_end > end => {
                return Verdict::Reject(RejectReason::ConflictingEnd);
            }
            _ => {}
        }
        let mut covered: u64 = 0;
        let mut same_bytes = true;
        for p in self.pieces.iter().skip(self.first_piece_after(start)) {
            if p.start >= end {
                break;
            }
            let lo = p.start.max(start);
            let hi = p.end.min(end);
            covered = covered.saturating_add(u64::from(hi.saturating_sub(lo)));
            let held = captured_slice(&p.data, p.start, lo, hi);
            let new = captured_slice(data, start, lo, hi);
            let n = held.len().min(new.len());
            if held.get(..n) != new.get(..n) {
                same_bytes = false;
            }
        }
        if covered == 0 {
            return Verdict::Accept { overlap: false };
        }
        // Same boundaries as an accepted fragment, fully held, and the same
        // bytes: either the held bytes match, or its digest matches (the
        // held bytes came partly from an earlier overlapping fragment).
        let full = covered == u64::from(end.saturating_sub(start));
        let copy_of_accepted = self
            .signatures
            .iter()
            .any(|s| s.start == start && s.end == end && (same_bytes || s.digest == dig));
        if full && copy_of_accepted {
            return Verdict::Duplicate;
        }
        Verdict::Accept { overlap: true }
    }

    /// Stores the parts of `[start, end)` not held yet. Returns the captured
    /// bytes added.
    fn insert(&mut self, start: u32, end: u32, data: &[u8]) -> usize {
        let idx = self.first_piece_after(start);
        let stop = idx.saturating_add(
            self.pieces
                .get(idx..)
                .unwrap_or(&[])
                .iter()
                .take_while(|p| p.start < end)
                .count(),
        );
        let old: Vec<Piece> = self.pieces.drain(idx..stop).collect();
        let mut merged = Vec::with_capacity(old.len().saturating_mul(2).saturating_add(1));
        let mut added = 0usize;
        let mut spans = 0u64;
        let mut pos = start;
        let mut gap = |from: u32, to: u32, merged: &mut Vec<Piece>| {
            let piece_data = captured_slice(data, start, from, to).to_vec();
            added = added.saturating_add(piece_data.len());
            spans = spans.saturating_add(u64::from(to.saturating_sub(from)));
            merged.push(Piece {
                start: from,
                end: to,
                data: piece_data,
            });
        };
        for p in old {
            if p.start > pos {
                gap(pos, p.start, &mut merged);
            }
            pos = pos.max(p.end);
            merged.push(p);
        }
        if pos < end {
            gap(pos, end, &mut merged);
        }
        self.pieces.splice(idx..idx, merged);
        self.covered = self.covered.saturating_add(spans);
        self.bytes_held = self.bytes_held.saturating_add(added);
        added
    }

    fn is_complete(&self) -> bool {
        self.total_len.is_some_and(|t| self.covered == u64::from(t))
    }

    /// The bytes captured contiguously from offset 0, at most `limit`.
    fn captured_prefix(&self, limit: usize) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut pos = 0u32;
        for p in &self.pieces {
            if p.start != pos || out.len() >= limit {
                return (out, false);
            }
            let room = limit.saturating_sub(out.len());
            out.extend_from_slice(p.data.get(..room.min(p.data.len())).unwrap_or(&[]));
            if p.data.len() < to_usize(p.end.saturating_sub(p.start)) {
                return (out, false);
            }
            pos = p.end;
        }
        (out, true)
    }

    fn received(&self) -> Vec<ByteRange> {
        let mut out: Vec<ByteRange> = Vec::new();
        for p in &self.pieces {
            match out.last_mut() {
                Some(last) if last.end == p.start => last.end = p.end,
                _ => out.push(ByteRange {
                    start: p.start,
                    end: p.end,
                }),
            }
        }
        out
    }

    fn into_incomplete(self, reason: IncompleteReason) -> IncompleteSet {
        let received = self.received();
        let mut missing = Vec::new();
        let mut pos = 0u32;
        for r in &received {
            if r.start > pos {
                missing.push(MissingRange {
                    start: pos,
                    end: Some(r.start),
                });
            }
            pos = r.end;
        }
        match self.total_len {
            Some(total) if pos < total => missing.push(MissingRange {
                start: pos,
                end: Some(total),
            }),
            Some(_) => {}
            None => missing.push(MissingRange {
                start: pos,
                end: None,
            }),
        }
        let (first_bytes, _) = self.captured_prefix(FIRST_BYTES);
        let first_udp_ports = match (self.key.protocol, first_bytes.get(..4)) {
            (17, Some(&[a, b, c, d])) => {
                Some((u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])))
            }
            _ => None,
        };
        IncompleteSet {
            key: self.key,
            frames: self.frames,
            duplicate_frames: self.duplicate_frames,
            bytes_held: to_u32(self.bytes_held),
            has_first: received.first().is_some_and(|r| r.start == 0),
            has_last: self.total_len.is_some(),
            received,
            missing,
            total_len: self.total_len,
            first_bytes,
            first_udp_ports,
            first_ts_ns: self.first_ts_ns,
            last_ts_ns: self.last_ts_ns,
            duplicates: self.duplicates,
            overlaps: self.overlaps,
            truncated: self.truncated,
            reason,
        }
    }
}

impl Default for Defragmenter {
    fn default() -> Self {
        Self::new(DefragConfig::default())
    }
}

impl Defragmenter {
    pub fn new(config: DefragConfig) -> Self {
        Self {
            config,
            sets: HashMap::new(),
            age: BTreeMap::new(),
            recent: HashMap::new(),
            recent_age: BTreeMap::new(),
            recent_cost: 0,
            held_cost: 0,
            next_seq: 0,
            pending: Vec::new(),
            stats: DefragStats::default(),
        }
    }

    pub fn config(&self) -> &DefragConfig {
        &self.config
    }

    pub fn stats(&self) -> DefragStats {
        self.stats
    }

    /// Number of sets held now.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Adds one fragment. Call [`Defragmenter::expire`] with the capture
    /// time regularly (every packet is fine) to collect abandoned sets.
    pub fn push(&mut self, frag: Fragment<'_>) -> Pushed {
        self.stats.fragments = self.stats.fragments.saturating_add(1);
        let pushed = self.push_inner(frag);
        if matches!(pushed, Pushed::Rejected(_)) {
            self.stats.rejected = self.stats.rejected.saturating_add(1);
        }
        pushed
    }

    fn push_inner(&mut self, frag: Fragment<'_>) -> Pushed {
        let key = frag.key;
        if frag.declared_len == 0 {
            return Pushed::Rejected(RejectReason::ZeroLength);
        }
        let Some(end) = frag
            .offset
            .checked_add(frag.declared_len)
            .filter(|&e| e <= self.config.max_datagram_len)
        else {
            return Pushed::Rejected(RejectReason::TooLarge);
        };
        let declared = to_usize(frag.declared_len);
        let data = frag.data.get(..declared).unwrap_or(frag.data);
        let truncated = data.len() < declared;

        if frag.offset == 0 && !frag.more_fragments {
            // RFC 6946: an atomic fragment is processed in isolation.
            self.stats.reassembled = self.stats.reassembled.saturating_add(1);
            return Pushed::Complete(Reassembled {
                key,
                payload: data.to_vec(),
                total_len: end,
                frames: vec![frag.frame],
                duplicate_frames: Vec::new(),
                completing_frame: frag.frame,
                first_ts_ns: frag.ts_ns,
                last_ts_ns: frag.ts_ns,
                duplicates: 0,
                overlaps: 0,
                truncated,
            });
        }

        let stale = self
            .sets
            .get(&key)
            .is_some_and(|s| is_expired(s.age.0, frag.ts_ns, self.config.timeout_ns));
        if stale {
            self.remove_set(&key, Some(IncompleteReason::Expired));
        }

        let dig = digest(data);
        if !self.sets.contains_key(&key) {
            if let Some(completing_frame) =
                self.late_duplicate(&key, frag.offset, end, dig, frag.ts_ns)
            {
                self.stats.duplicates = self.stats.duplicates.saturating_add(1);
                return Pushed::Duplicate {
                    completing_frame: Some(completing_frame),
                };
            }
            let cost = SET_COST
                .saturating_add(FRAGMENT_COST)
                .saturating_add(data.len());
            if !self.make_room(None, cost, true) {
                return Pushed::Rejected(RejectReason::MemoryLimit);
            }
            let seq = self.next_seq;
            self.next_seq = self.next_seq.wrapping_add(1);
            let set = FragSet::new(key, (frag.ts_ns, seq), frag.ts_ns);
            self.age.insert(set.age, key);
            self.held_cost = self.held_cost.saturating_add(set.cost);
            self.sets.insert(key, set);
            self.stats.sets_now = self.sets.len();
            self.stats.peak_sets = self.stats.peak_sets.max(self.sets.len());
        }

        let (verdict, accepted) = match self.sets.get(&key) {
            Some(set) => (
                set.judge(frag.offset, end, frag.more_fragments, data, dig),
                set.frames.len(),
            ),
            None => return Pushed::Rejected(RejectReason::MemoryLimit),
        };
        let overlap = match verdict {
            Verdict::Reject(reason) => return Pushed::Rejected(reason),
            Verdict::Duplicate => {
                self.stats.duplicates = self.stats.duplicates.saturating_add(1);
                let cap = self.config.max_fragments_per_set;
                if let Some(set) = self.sets.get_mut(&key) {
                    set.duplicates = set.duplicates.saturating_add(1);
                    set.first_ts_ns = set.first_ts_ns.min(frag.ts_ns);
                    set.last_ts_ns = set.last_ts_ns.max(frag.ts_ns);
                    if set.duplicate_frames.len() < cap
                        && set.duplicate_frames.last() != Some(&frag.frame)
                    {
                        set.duplicate_frames.push(frag.frame);
                        set.cost = set.cost.saturating_add(8);
                        self.held_cost = self.held_cost.saturating_add(8);
                    }
                }
                return Pushed::Duplicate {
                    completing_frame: None,
                };
            }
            Verdict::Accept { overlap } => overlap,
        };
        if accepted >= self.config.max_fragments_per_set {
            self.remove_set(&key, Some(IncompleteReason::TooManyFragments));
            return Pushed::Rejected(RejectReason::TooManyFragments);
        }
        let extra = FRAGMENT_COST.saturating_add(data.len());
        if !self.make_room(Some(&key), extra, false) {
            return Pushed::Rejected(RejectReason::MemoryLimit);
        }
        let Some(set) = self.sets.get_mut(&key) else {
            return Pushed::Rejected(RejectReason::MemoryLimit);
        };
        let added = set.insert(frag.offset, end, data);
        set.signatures.push(Signature {
            start: frag.offset,
            end,
            digest: dig,
        });
        if set.frames.last() != Some(&frag.frame) {
            set.frames.push(frag.frame);
        }
        if !frag.more_fragments {
            set.total_len = Some(end);
        }
        if overlap {
            set.overlaps = set.overlaps.saturating_add(1);
            self.stats.overlaps = self.stats.overlaps.saturating_add(1);
        }
        set.truncated |= truncated;
        set.first_ts_ns = set.first_ts_ns.min(frag.ts_ns);
        set.last_ts_ns = set.last_ts_ns.max(frag.ts_ns);
        let delta = FRAGMENT_COST.saturating_add(added);
        set.cost = set.cost.saturating_add(delta);
        self.held_cost = self.held_cost.saturating_add(delta);
        self.stats.bytes_held_now = self.stats.bytes_held_now.saturating_add(added);
        self.stats.peak_bytes_held = self.stats.peak_bytes_held.max(self.stats.bytes_held_now);

        if !set.is_complete() {
            return Pushed::Held;
        }
        let Some(set) = self.remove_set(&key, None) else {
            return Pushed::Held;
        };
        self.stats.reassembled = self.stats.reassembled.saturating_add(1);
        Pushed::Complete(self.complete(set, frag.frame, frag.ts_ns))
    }

    /// Builds the result and remembers the fragments' signatures.
    fn complete(&mut self, set: FragSet, completing_frame: u64, ts_ns: i64) -> Reassembled {
        let total_len = set.total_len.unwrap_or(0);
        let (payload, _) = set.captured_prefix(to_usize(total_len));
        let reassembled = Reassembled {
            key: set.key,
            payload,
            total_len,
            frames: set.frames,
            duplicate_frames: set.duplicate_frames,
            completing_frame,
            first_ts_ns: set.first_ts_ns,
            last_ts_ns: set.last_ts_ns,
            duplicates: set.duplicates,
            overlaps: set.overlaps,
            truncated: set.truncated,
        };
        self.remember(set.key, ts_ns, completing_frame, set.signatures);
        reassembled
    }

    fn remember(
        &mut self,
        key: FragKey,
        ts_ns: i64,
        completing_frame: u64,
        signatures: Vec<Signature>,
    ) {
        if self.config.max_sets == 0 {
            return;
        }
        self.forget(&key);
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let cost = SET_COST.saturating_add(DIGEST_COST.saturating_mul(signatures.len()));
        self.recent_cost = self.recent_cost.saturating_add(cost);
        self.recent_age.insert((ts_ns, seq), key);
        self.recent.insert(
            key,
            Recent {
                age: (ts_ns, seq),
                completing_frame,
                signatures,
            },
        );
        let budget = self.config.max_total_bytes / 4;
        while self.recent.len() > self.config.max_sets || self.recent_cost > budget {
            let Some((_, oldest)) = self.recent_age.first_key_value() else {
                break;
            };
            let oldest = *oldest;
            self.forget(&oldest);
        }
    }

    fn forget(&mut self, key: &FragKey) {
        if let Some(r) = self.recent.remove(key) {
            self.recent_age.remove(&r.age);
            let cost = SET_COST.saturating_add(DIGEST_COST.saturating_mul(r.signatures.len()));
            self.recent_cost = self.recent_cost.saturating_sub(cost);
        }
    }

    fn late_duplicate(
        &mut self,
        key: &FragKey,
        start: u32,
        end: u32,
        dig: u64,
        ts_ns: i64,
    ) -> Option<u64> {
        let recent = self.recent.get(key)?;
        if is_expired(recent.age.0, ts_ns, self.config.timeout_ns) {
            self.forget(key);
            return None;
        }
        recent
            .signatures
            .iter()
            .any(|s| s.start == start && s.end == end && s.digest == dig)
            .then_some(recent.completing_frame)
    }

    /// Evicts the oldest sets (never `keep`) until `extra` more bytes (and a
    /// new set when `new_set`) fit. False when they cannot fit.
    fn make_room(&mut self, keep: Option<&FragKey>, extra: usize, new_set: bool) -> bool {
        loop {
            let sets_full = new_set && self.sets.len() >= self.config.max_sets;
            let bytes_full = self.held_cost.saturating_add(extra) > self.config.max_total_bytes;
            if !sets_full && !bytes_full {
                return true;
            }
            let victim = self.age.values().find(|k| Some(*k) != keep).copied();
            match victim {
                Some(victim) => {
                    self.remove_set(&victim, Some(IncompleteReason::Evicted));
                }
                None => return false,
            }
        }
    }

    /// Removes a set; with a reason, queues its report.
    fn remove_set(&mut self, key: &FragKey, reason: Option<IncompleteReason>) -> Option<FragSet> {
        let set = self.sets.remove(key)?;
        self.age.remove(&set.age);
        self.held_cost = self.held_cost.saturating_sub(set.cost);
        self.stats.bytes_held_now = self.stats.bytes_held_now.saturating_sub(set.bytes_held);
        self.stats.sets_now = self.sets.len();
        let Some(reason) = reason else {
            return Some(set);
        };
        match reason {
            IncompleteReason::Expired => {
                self.stats.expired = self.stats.expired.saturating_add(1);
            }
            IncompleteReason::Evicted | IncompleteReason::TooManyFragments => {
                self.stats.evicted = self.stats.evicted.saturating_add(1);
            }
            IncompleteReason::EndOfCapture => {}
        }
        if self.pending.len() < self.config.max_pending_reports {
            self.pending.push(set.into_incomplete(reason));
        } else {
            self.stats.reports_dropped = self.stats.reports_dropped.saturating_add(1);
        }
        None
    }

    /// Removes and returns the sets whose first fragment is more than the
    /// timeout older than `now_ns` (capture time), plus any set evicted or
    /// expired during [`Defragmenter::push`] since the last call; sorted by
    /// first frame. O(log n) when nothing expires.
    pub fn expire(&mut self, now_ns: i64) -> Vec<IncompleteSet> {
        let timeout = self.config.timeout_ns;
        while let Some((&(ts, _), &key)) = self.age.first_key_value() {
            if !is_expired(ts, now_ns, timeout) {
                break;
            }
            self.remove_set(&key, Some(IncompleteReason::Expired));
        }
        while let Some((&(ts, _), &key)) = self.recent_age.first_key_value() {
            if !is_expired(ts, now_ns, timeout) {
                break;
            }
            self.forget(&key);
        }
        if self.pending.is_empty() {
            return Vec::new();
        }
        let mut out = std::mem::take(&mut self.pending);
        sort_reports(&mut out);
        out
    }

    /// End of capture: every set still held (reason `EndOfCapture`) and any
    /// report not collected yet, sorted by first frame.
    pub fn finish(mut self) -> Vec<IncompleteSet> {
        let mut out = std::mem::take(&mut self.pending);
        out.extend(
            self.sets
                .into_values()
                .map(|s| s.into_incomplete(IncompleteReason::EndOfCapture)),
        );
        sort_reports(&mut out);
        out
    }
}

fn sort_reports(reports: &mut [IncompleteSet]) {
    reports.sort_by(|a, b| {
        (a.frames.first(), a.first_ts_ns, &a.key).cmp(&(b.frames.first(), b.first_ts_ns, &b.key))
    });
}
