//! Fuzzes `ikediag::defrag::Defragmenter` with a hand-decoded stream of
//! fragments, `expire` calls and a final `finish`.
//!
//! Input layout (every read past the end yields zeros, so any input is valid):
//! - 8 config bytes: max_datagram_len, max_total_bytes, max_sets,
//!   max_fragments_per_set, max_pending_reports, timeout (small values, so
//!   the limits and eviction paths are actually reached);
//! - then records; the first byte of each is an opcode:
//!   - `op & 7 == 7`: `expire(now)` with the current time;
//!   - otherwise a fragment: key byte (2 bits address pair incl. IPv6,
//!     2 bits protocol, 2 bits id), offset (u16 BE, `*8` when op bit 3),
//!     declared length (u16 BE, reduced mod max_datagram_len+64), MF = op bit 4,
//!     captured length (declared, or shorter when op bit 5: snaplen),
//!     time step (u8, ms; op bit 6 makes it a 30 s jump; op bit 7 a step
//!     backwards), then the data bytes (taken from the input, zero padded).
//!
//! Invariants checked on every result (see `check_*`).
#![no_main]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ikediag::defrag::{
    DefragConfig, Defragmenter, FragKey, Fragment, IncompleteReason, IncompleteSet, Pushed,
    Reassembled,
};
use libfuzzer_sys::fuzz_target;

struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    /// Up to `n` bytes of input (fewer at the end).
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.pos = start.saturating_add(n);
        &self.data[start..end]
    }
}

const ADDRS: [(IpAddr, IpAddr); 4] = [
    (
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
    ),
    (
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
    ),
    (
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
    ),
    (
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
    ),
];
const PROTOCOLS: [u8; 4] = [17, 50, 6, 58];

fn check_reassembled(r: &Reassembled, cfg: &DefragConfig, frag: &Fragment<'_>) {
    assert!(r.total_len <= cfg.max_datagram_len, "total_len over max");
    assert!(r.total_len > 0);
    assert!(
        r.payload.len() <= r.total_len as usize,
        "payload {} longer than total_len {}",
        r.payload.len(),
        r.total_len
    );
    if !r.truncated {
        assert_eq!(r.payload.len(), r.total_len as usize, "untruncated payload short");
    }
    assert!(!r.frames.is_empty(), "Reassembled.frames empty");
    assert!(r.frames.contains(&r.completing_frame));
    assert_eq!(r.completing_frame, frag.frame);
    assert_eq!(r.key, frag.key);
    assert!(r.first_ts_ns <= r.last_ts_ns);
    assert!(r.frames.len() <= cfg.max_fragments_per_set.max(1));
    assert!(r.duplicate_frames.len() <= r.duplicates as usize);
    // Without overlaps every byte of the completing fragment is in the payload.
    let declared = frag.declared_len as usize;
    if r.overlaps == 0 && !r.truncated && frag.data.len() >= declared {
        let off = frag.offset as usize;
        assert_eq!(
            &r.payload[off..off + declared],
            &frag.data[..declared],
            "completing fragment's bytes not in the payload"
        );
    }
}

fn check_incomplete(s: &IncompleteSet, cfg: &DefragConfig) {
    assert!(!s.frames.is_empty(), "IncompleteSet.frames empty: {s:?}");
    assert!(s.first_ts_ns <= s.last_ts_ns);
    assert!(s.first_bytes.len() <= 64);
    assert!(s.frames.len() <= cfg.max_fragments_per_set.max(1));
    if s.first_udp_ports.is_some() {
        assert_eq!(s.key.protocol, 17);
        assert!(s.first_bytes.len() >= 4);
    }
    assert!(!s.received.is_empty(), "IncompleteSet with no byte received");
    let mut covered: u64 = 0;
    let mut prev_end: Option<u32> = None;
    for r in &s.received {
        assert!(r.start < r.end, "empty/inverted received range {r:?}");
        assert!(r.end <= cfg.max_datagram_len);
        if let Some(p) = prev_end {
            assert!(p < r.start, "received ranges not sorted/merged: {:?}", s.received);
        }
        prev_end = Some(r.end);
        covered += u64::from(r.end - r.start);
    }
    assert!(u64::from(s.bytes_held) <= covered, "bytes_held beyond received");
    assert_eq!(s.has_first, s.received[0].start == 0);
    if !s.has_first {
        assert!(s.first_bytes.is_empty());
    }
    assert_eq!(s.has_last, s.total_len.is_some());
    // received and missing tile [0, total) (or [0, inf) without the last).
    let mut pieces: Vec<(u32, Option<u32>)> = s
        .received
        .iter()
        .map(|r| (r.start, Some(r.end)))
        .chain(s.missing.iter().map(|m| (m.start, m.end)))
        .collect();
    pieces.sort();
    let mut pos = 0u32;
    for (i, (start, end)) in pieces.iter().enumerate() {
        assert_eq!(*start, pos, "gap/overlap in received+missing: {s:?}");
        match end {
            Some(e) => {
                assert!(*e > *start);
                pos = *e;
            }
            None => {
                assert!(!s.has_last);
                assert_eq!(i, pieces.len() - 1, "open range not last");
                pos = u32::MAX;
            }
        }
    }
    match s.total_len {
        Some(t) => {
            assert_eq!(pos, t, "ranges do not end at total_len");
            assert!(!s.missing.is_empty(), "complete set reported incomplete: {s:?}");
        }
        None => assert_eq!(pos, u32::MAX, "no open range without the last fragment"),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input { data, pos: 0 };
    let cfg = DefragConfig {
        max_datagram_len: u32::from(inp.u16()),
        max_total_bytes: 256 + usize::from(inp.u16()) * 4,
        max_sets: usize::from(inp.u8() % 16),
        max_fragments_per_set: 1 + usize::from(inp.u8() % 32),
        max_pending_reports: usize::from(inp.u8() % 8),
        timeout_ns: i64::from(inp.u8()) * 100_000_000,
    };
    let mut d = Defragmenter::new(cfg.clone());
    let mut now: i64 = 1_700_000_000_000_000_000;
    let mut frame: u64 = 0;
    let mut pushes = 0u64;
    let mut completes = 0u64;
    let mut rejects = 0u64;
    let mut completing_frames: HashSet<u64> = HashSet::new();
    let mut scratch = Vec::new();

    while !inp.done() {
        let op = inp.u8();
        if op & 7 == 7 {
            let out = d.expire(now);
            assert!(out.len() <= cfg.max_pending_reports + cfg.max_sets);
            for s in &out {
                check_incomplete(s, &cfg);
                assert_ne!(s.reason, IncompleteReason::EndOfCapture);
            }
            continue;
        }
        let kb = inp.u8();
        let (src, dst) = ADDRS[usize::from(kb & 3)];
        let key = FragKey {
            src,
            dst,
            protocol: PROTOCOLS[usize::from((kb >> 2) & 3)],
            id: u32::from((kb >> 4) & 3),
        };
        let mut offset = u32::from(inp.u16());
        if op & 0x08 != 0 {
            offset *= 8;
        }
        let declared_len = u32::from(inp.u16()) % (cfg.max_datagram_len + 64);
        let more_fragments = op & 0x10 != 0;
        let captured = if op & 0x20 != 0 {
            usize::from(inp.u8()).min(declared_len as usize)
        } else {
            declared_len as usize
        };
        let step = i64::from(inp.u8()) * 1_000_000;
        now = match op >> 6 {
            0 => now.saturating_add(step),
            1 => now.saturating_add(30_000_000_000 + step),
            2 => now.saturating_sub(step),
            _ => now,
        };
        // Data: input bytes, padded with a pattern so big fragments stay cheap
        // to describe.
        let got = inp.bytes(captured.min(64));
        scratch.clear();
        scratch.extend_from_slice(got);
        while scratch.len() < captured {
            scratch.push((scratch.len() as u8) ^ kb);
        }
        frame += 1;
        let frag = Fragment {
            key,
            offset,
            more_fragments,
            data: &scratch,
            declared_len,
            frame,
            ts_ns: now,
        };
        pushes += 1;
        match d.push(frag) {
            Pushed::Held => {}
            Pushed::Duplicate { completing_frame } => {
                if let Some(f) = completing_frame {
                    assert!(
                        completing_frames.contains(&f),
                        "late duplicate names frame {f}, which completed nothing"
                    );
                }
            }
            Pushed::Complete(r) => {
                completes += 1;
                check_reassembled(&r, &cfg, &frag);
                completing_frames.insert(r.completing_frame);
            }
            Pushed::Rejected(_) => rejects += 1,
        }
        let st = d.stats();
        assert_eq!(st.fragments, pushes);
        assert_eq!(st.reassembled, completes);
        assert_eq!(st.rejected, rejects);
        assert_eq!(st.sets_now, d.len());
        assert_eq!(d.is_empty(), d.len() == 0);
        assert!(d.len() <= cfg.max_sets, "more sets than max_sets");
        assert!(st.peak_sets <= cfg.max_sets);
        assert!(
            st.bytes_held_now <= cfg.max_total_bytes,
            "bytes held {} over the cap {}",
            st.bytes_held_now,
            cfg.max_total_bytes
        );
        assert!(st.peak_bytes_held <= cfg.max_total_bytes);
        assert!(st.bytes_held_now <= st.peak_bytes_held);
    }
    assert_eq!(d.config(), &cfg);
    let held = d.len();
    let out = d.finish();
    assert!(out.len() <= held + cfg.max_pending_reports);
    let mut end_of_capture = 0;
    for s in &out {
        check_incomplete(s, &cfg);
        if s.reason == IncompleteReason::EndOfCapture {
            end_of_capture += 1;
        }
    }
    assert_eq!(end_of_capture, held, "finish lost or invented held sets");
    // Sorted by first frame.
    for w in out.windows(2) {
        assert!(w[0].frames.first() <= w[1].frames.first());
    }
});
