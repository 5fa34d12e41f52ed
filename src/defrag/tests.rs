//! Tests over real captures from `../shared/corpus` (skipped when absent)
//! and synthetic fragment sets.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

// ---------------------------------------------------------------------------
// A minimal capture reader, enough for the corpus files used here: classic
// little-endian pcap (micro- or nanosecond), Ethernet (with VLAN/MPLS), BSD
// loopback, Linux cooked or raw IP; IPv4 fragments and IPv6 Fragment headers
// after optional Hop-by-Hop / Routing / Destination Options headers.

#[derive(Clone, Debug)]
struct OwnedFrag {
    key: FragKey,
    offset: u32,
    more: bool,
    data: Vec<u8>,
    declared: u32,
    frame: u64,
    ts_ns: i64,
}

impl OwnedFrag {
    fn as_frag(&self) -> Fragment<'_> {
        Fragment {
            key: self.key,
            offset: self.offset,
            more_fragments: self.more,
            data: &self.data,
            declared_len: self.declared,
            frame: self.frame,
            ts_ns: self.ts_ns,
        }
    }
}

fn corpus(rel: &str) -> Option<Vec<u8>> {
    let path = format!(
        "{}/corpus/{rel}",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")
    );
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(_) => {
            crate::skip_note(&format!("skipped: {path} not found"));
            None
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Every IP fragment in a capture, with its 1-based frame number (nothing
/// for files that are not little-endian classic pcap).
fn read_fragments(file: &[u8]) -> Vec<OwnedFrag> {
    let nanos = match file.get(..4) {
        Some([0xd4, 0xc3, 0xb2, 0xa1]) => false,
        Some([0x4d, 0x3c, 0xb2, 0xa1]) => true,
        _ => return Vec::new(),
    };
    let linktype = u32_le(file, 20).unwrap_or(0);
    let mut out = Vec::new();
    let mut at = 24;
    let mut frame = 0u64;
    while let (Some(sec), Some(frac), Some(incl)) =
        (u32_le(file, at), u32_le(file, at + 4), u32_le(file, at + 8))
    {
        let Some(pkt) = file.get(at + 16..at + 16 + incl as usize) else {
            break;
        };
        at += 16 + incl as usize;
        frame += 1;
        let ts_ns = i64::from(sec) * 1_000_000_000 + i64::from(frac) * if nanos { 1 } else { 1000 };
        if let Some(ip) = link_payload(linktype, pkt)
            && let Some(mut f) = ip_fragment(ip)
        {
            f.frame = frame;
            f.ts_ns = ts_ns;
            out.push(f);
        }
    }
    out
}

fn link_payload(linktype: u32, pkt: &[u8]) -> Option<&[u8]> {
    match linktype {
        1 => {
            let mut at = 12;
            let mut ethertype = u16_at(pkt, at)?;
            while ethertype == 0x8100 || ethertype == 0x88a8 {
                at += 4;
                ethertype = u16_at(pkt, at)?;
            }
            at += 2;
            if ethertype == 0x8847 {
                while pkt.get(at + 2)? & 1 == 0 {
                    at += 4;
                }
                at += 4;
            } else if ethertype != 0x0800 && ethertype != 0x86dd {
                return None;
            }
            pkt.get(at..)
        }
        0 => pkt.get(4..),
        113 => pkt.get(16..),
        12 | 101 | 228 | 229 => Some(pkt),
        _ => None,
    }
}

fn ip_fragment(ip: &[u8]) -> Option<OwnedFrag> {
    match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16_at(ip, 2)?);
            let flags_offset = u16_at(ip, 6)?;
            let more = flags_offset & 0x2000 != 0;
            let offset = u32::from(flags_offset & 0x1fff) * 8;
            if !more && offset == 0 {
                return None;
            }
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            let data = ip.get(ihl.min(ip.len())..total.min(ip.len()).max(ihl.min(ip.len())))?;
            Some(OwnedFrag {
                key: FragKey {
                    src: IpAddr::V4(Ipv4Addr::from(src)),
                    dst: IpAddr::V4(Ipv4Addr::from(dst)),
                    protocol: *ip.get(9)?,
                    id: u32::from(u16_at(ip, 4)?),
                },
                offset,
                more,
                data: data.to_vec(),
                declared: u32::try_from(total.saturating_sub(ihl)).ok()?,
                frame: 0,
                ts_ns: 0,
            })
        }
        6 => {
            let payload_len = usize::from(u16_at(ip, 4)?);
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            let mut next = *ip.get(6)?;
            let mut at = 40;
            while matches!(next, 0 | 43 | 60) {
                next = *ip.get(at)?;
                at += (usize::from(*ip.get(at + 1)?) + 1) * 8;
            }
            if next != 44 {
                return None;
            }
            let protocol = *ip.get(at)?;
            let flags_offset = u16_at(ip, at + 2)?;
            let id = u32::from_be_bytes(ip.get(at + 4..at + 8)?.try_into().ok()?);
            at += 8;
            let end = 40 + payload_len;
            let data = ip.get(at.min(ip.len())..end.min(ip.len()).max(at.min(ip.len())))?;
            Some(OwnedFrag {
                key: FragKey {
                    src: IpAddr::V6(Ipv6Addr::from(src)),
                    dst: IpAddr::V6(Ipv6Addr::from(dst)),
                    protocol,
                    id,
                },
                offset: u32::from(flags_offset & 0xfff8),
                more: flags_offset & 1 != 0,
                data: data.to_vec(),
                declared: u32::try_from(end.saturating_sub(at)).ok()?,
                frame: 0,
                ts_ns: 0,
            })
        }
        _ => None,
    }
}

/// Everything a capture's fragments produce.
#[derive(Debug, Default)]
struct Outcome {
    complete: Vec<Reassembled>,
    late_duplicates: Vec<(u64, u64)>,
    rejected: Vec<(u64, RejectReason)>,
    incomplete: Vec<IncompleteSet>,
    stats: DefragStats,
}

fn run(frags: &[OwnedFrag]) -> Outcome {
    let mut defrag = Defragmenter::default();
    let mut out = Outcome::default();
    for f in frags {
        out.incomplete.extend(defrag.expire(f.ts_ns));
        match defrag.push(f.as_frag()) {
            Pushed::Complete(r) => out.complete.push(r),
            Pushed::Duplicate {
                completing_frame: Some(c),
            } => out.late_duplicates.push((f.frame, c)),
            Pushed::Rejected(reason) => out.rejected.push((f.frame, reason)),
            Pushed::Held | Pushed::Duplicate { .. } => {}
        }
    }
    out.stats = defrag.stats();
    out.incomplete.extend(defrag.finish());
    out
}

fn run_file(rel: &str) -> Option<Outcome> {
    Some(run(&read_fragments(&corpus(rel)?)))
}

/// (completing frame, every fragment frame sorted as tshark lists them,
/// reassembled length) as tshark 4 shows them with defragmentation on.
type Summary = (u64, Vec<u64>, usize);

fn summary(r: &Reassembled) -> Summary {
    let mut all: Vec<u64> = r
        .frames
        .iter()
        .chain(&r.duplicate_frames)
        .copied()
        .collect();
    all.sort_unstable();
    (r.completing_frame, all, r.payload.len())
}

/// The UDP length field of each reassembled datagram matches its length
/// (`udp_exact`), or at least fits in it (a generator that appended junk).
fn check_udp_lengths(out: &Outcome, udp_exact: bool) {
    for r in &out.complete {
        assert!(!r.truncated);
        assert_eq!(r.payload.len(), r.total_len as usize);
        if r.key.protocol == 17 {
            let udp_len = u16_at(&r.payload, 4).map_or(0, usize::from);
            if udp_exact {
                assert_eq!(udp_len, r.payload.len(), "frame {}", r.completing_frame);
            } else {
                assert!((8..=r.payload.len()).contains(&udp_len));
            }
        }
    }
}

fn range(a: u64, b: u64) -> Vec<u64> {
    (a..=b).collect()
}

#[test]
fn corpus_matches_tshark() {
    let cases: Vec<(&str, Vec<Summary>)> = vec![
        (
            "public/zeek-spicy-ipsec/ipsec_client.pcap",
            vec![
                (5, range(3, 5), 3480),
                (8, range(6, 8), 3480),
                (11, range(9, 11), 3480),
            ],
        ),
        (
            "public/PcapPlusPlus/ip4_fragments.pcap",
            vec![
                (6, range(1, 6), 8320),
                (12, range(7, 12), 8320),
                (18, range(13, 18), 8320),
                (28, range(19, 28), 8320),
                (40, range(31, 40), 8320),
                (53, [range(43, 50), vec![52, 53]].concat(), 8320),
            ],
        ),
        (
            "public/PcapPlusPlus/ip6_fragments.pcap",
            vec![
                (7, range(1, 7), 741),
                (20, range(8, 20), 1452),
                (29, range(21, 29), 1003),
                (36, range(30, 36), 786),
            ],
        ),
        (
            "public/PcapPlusPlus/IPv4Frag.pcap",
            vec![(3, range(1, 3), 4060)],
        ),
        (
            "public/PcapPlusPlus/ipv6-frag.pcap",
            vec![(6, range(3, 6), 5387)],
        ),
        (
            "public/PcapPlusPlus/frag_with_padding.pcap",
            vec![(8, range(1, 8), 9409)],
        ),
        (
            "public/zeek/ipv6-fragmented-dns.pcap",
            vec![(8, range(6, 8), 3238)],
        ),
        (
            "lab/ok_cert_fragmented.pcap",
            vec![(8, range(6, 8), 3676), (11, range(9, 11), 3564)],
        ),
        (
            "lab/ipv6_cert_fragmented.pcap",
            vec![(7, range(5, 7), 3660), (10, range(8, 10), 3548)],
        ),
        (
            "lab/mtu_blackhole_partial.pcap",
            vec![
                (7, range(5, 7), 3676),
                (11, range(9, 11), 3676),
                (14, range(12, 14), 3676),
                (19, range(17, 19), 3676),
            ],
        ),
    ];
    for (file, expected) in cases {
        let Some(out) = run_file(file) else { continue };
        let got: Vec<_> = out.complete.iter().map(summary).collect();
        assert_eq!(got, expected, "{file}");
        // ipv6-fragmented-dns.pcap also holds a lone last fragment (frame 4),
        // checked in `ipv6_dns_lost_first_fragments`.
        let lone = usize::from(file.ends_with("ipv6-fragmented-dns.pcap"));
        assert_eq!(out.incomplete.len(), lone, "{file}: {:?}", out.incomplete);
        assert!(out.rejected.is_empty(), "{file}: {:?}", out.rejected);
        // ip6_fragments.pcap's first datagram carries 4 bytes after the
        // 737 that its UDP header declares (tshark shows the same).
        check_udp_lengths(&out, !file.ends_with("ip6_fragments.pcap"));
    }
}

#[test]
fn every_corpus_capture_keeps_the_invariants() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");
    let Ok(dirs) = std::fs::read_dir(format!("{root}/public")) else {
        crate::skip_note(&format!("skipped: {root} not found"));
        return;
    };
    let mut paths: Vec<std::path::PathBuf> = dirs
        .flatten()
        .filter(|d| d.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .chain(
            std::fs::read_dir(format!("{root}/lab"))
                .into_iter()
                .flatten()
                .flatten(),
        )
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "cap"))
        .collect();
    paths.sort();
    let (mut files, mut fragments, mut complete) = (0, 0, 0);
    for path in paths {
        let frags = read_fragments(&std::fs::read(&path).unwrap());
        files += 1;
        fragments += frags.len();
        let out = run(&frags);
        complete += out.complete.len();
        for r in &out.complete {
            assert!(r.payload.len() <= r.total_len as usize, "{path:?}");
            assert_eq!(
                r.truncated,
                r.payload.len() < r.total_len as usize,
                "{path:?}"
            );
            assert_eq!(r.frames.last(), Some(&r.completing_frame), "{path:?}");
        }
        for s in &out.incomplete {
            assert!(!s.missing.is_empty(), "{path:?}");
            assert!(!s.frames.is_empty(), "{path:?}");
        }
    }
    eprintln!("{files} captures, {fragments} fragments, {complete} reassembled");
    assert!(complete > 0);
}

#[test]
fn ip4_fragments_duplicates_inside_and_after() {
    let Some(out) = run_file("public/PcapPlusPlus/ip4_fragments.pcap") else {
        return;
    };
    // Set 0x1ea3: frames 19..28, every offset but 555 captured twice.
    let r = &out.complete[3];
    assert_eq!(r.key.id, 0x1ea3);
    assert_eq!(r.frames, vec![19, 21, 23, 25, 26, 28]);
    assert_eq!(r.duplicate_frames, vec![20, 22, 24, 27]);
    assert_eq!((r.duplicates, r.overlaps), (4, 0));
    // Frames 30 and 42 repeat the last fragment after reassembly.
    assert_eq!(out.late_duplicates, vec![(30, 28), (42, 40)]);
    assert_eq!(out.stats.reassembled, 6);
}

/// Reads the tshark dissection beside a capture and checks that each
/// reassembled IKE message sits at the frame and has the fragment count and
/// length that tshark shows.
fn check_ike_against_tsv(pcap: &str, tsv: &str, count_col: &str, len_col: &str) {
    let (Some(out), Some(tsv)) = (run_file(pcap), corpus(tsv)) else {
        return;
    };
    let tsv = String::from_utf8_lossy(&tsv);
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (frame_col, count_col, len_col) = (col("frame"), col(count_col), col(len_col));
    let mut expected = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split('\t').collect();
        if let Some(count) = cells.get(count_col).filter(|c| !c.is_empty()) {
            expected.push((
                cells[frame_col].parse::<u64>().unwrap(),
                count.parse::<usize>().unwrap(),
                cells[len_col].parse::<u32>().unwrap(),
            ));
        }
    }
    assert!(!expected.is_empty(), "{tsv}");
    let mut got = Vec::new();
    for r in &out.complete {
        let ports = (u16_at(&r.payload, 0), u16_at(&r.payload, 2));
        let ike_at = match ports {
            (Some(500), _) | (_, Some(500)) => 8,
            (Some(4500), _) | (_, Some(4500)) if r.payload.get(8..12) == Some(&[0; 4]) => 12,
            _ => continue,
        };
        let ike_len = r.payload.get(ike_at + 24..ike_at + 28).unwrap();
        got.push((
            r.completing_frame,
            r.frames.len() + r.duplicate_frames.len(),
            u32::from_be_bytes(ike_len.try_into().unwrap()),
        ));
    }
    assert_eq!(got, expected, "{pcap}");
}

#[test]
fn ike_messages_match_tshark_tsv() {
    check_ike_against_tsv(
        "public/zeek-spicy-ipsec/ipsec_client.pcap",
        "public/expected/zeek-spicy-ipsec/ipsec_client.pcap.tsv",
        "ip_frag_count",
        "length",
    );
    for name in [
        "ok_cert_fragmented",
        "ipv6_cert_fragmented",
        "mtu_blackhole",
        "mtu_blackhole_partial",
    ] {
        check_ike_against_tsv(
            &format!("lab/{name}.pcap"),
            &format!("lab/{name}.tshark.tsv"),
            "ip_frags",
            "ike_len",
        );
    }
}

#[test]
fn ipv6_dns_lost_first_fragments() {
    // Frame 4: the last fragment (offset 2896) of a DNS response whose first
    // two fragments never came; the retry (frames 6-8) arrives whole.
    let Some(out) = run_file("public/zeek/ipv6-fragmented-dns.pcap") else {
        return;
    };
    let [set] = out.incomplete.as_slice() else {
        panic!("{:?}", out.incomplete)
    };
    assert_eq!(set.key.id, 1);
    assert_eq!(set.frames, vec![4]);
    assert!(!set.has_first && set.has_last);
    assert_eq!(set.total_len, Some(3238));
    assert_eq!(set.bytes_held, 342);
    assert_eq!(
        set.missing,
        vec![MissingRange {
            start: 0,
            end: Some(2896)
        }]
    );
    assert_eq!(set.reason, IncompleteReason::EndOfCapture);
}

#[test]
fn zeek_overlapping_fragment_past_the_end() {
    // Frame 1: [0, 18) MF; frame 2: [48, 164) last; frame 3: [0, 304) MF,
    // which reaches past the end the last fragment set.
    let Some(out) = run_file("public/zeek/ipv4__fragmented-1.pcap") else {
        return;
    };
    assert!(out.complete.is_empty());
    assert_eq!(out.rejected, vec![(3, RejectReason::BeyondEnd)]);
    let [set] = out.incomplete.as_slice() else {
        panic!("{:?}", out.incomplete)
    };
    assert_eq!(set.frames, vec![1, 2]);
    assert_eq!(
        set.missing,
        vec![MissingRange {
            start: 18,
            end: Some(48)
        }]
    );
    assert!(set.has_first && set.has_last);
    assert_eq!(set.total_len, Some(164));
    assert_eq!(set.reason, IncompleteReason::EndOfCapture);
}

#[test]
fn zeek_duplicate_first_fragment_never_completes() {
    let Some(out) = run_file("public/zeek/ipv4__fragmented-2.pcap") else {
        return;
    };
    let [set] = out.incomplete.as_slice() else {
        panic!("{:?}", out.incomplete)
    };
    assert_eq!(set.frames, vec![1, 2]);
    assert_eq!(set.duplicate_frames, vec![3]);
    assert_eq!(set.duplicates, 1);
    assert_eq!(set.received.len(), 2);
    assert_eq!(set.first_udp_ports.map(|_| ()), Some(()));
}

#[test]
fn bad_fragment_with_header_longer_than_capture() {
    // MPLS, IHL 60 with 42 bytes captured, offset 36 * 8, last fragment.
    let Some(out) = run_file("public/PcapPlusPlus/ip4_bad_fragment.pcap") else {
        return;
    };
    let [set] = out.incomplete.as_slice() else {
        panic!("{:?}", out.incomplete)
    };
    assert!(set.truncated && set.has_last && !set.has_first);
    assert_eq!(set.bytes_held, 0);
    assert_eq!(
        set.missing,
        vec![MissingRange {
            start: 0,
            end: Some(288)
        }]
    );
    assert!(set.first_bytes.is_empty());
}

#[test]
fn missing_fragments_from_a_real_ike_auth() {
    // Drop the middle fragment of each IKE_AUTH in ipsec_client.pcap.
    let Some(file) = corpus("public/zeek-spicy-ipsec/ipsec_client.pcap") else {
        return;
    };
    let frags: Vec<OwnedFrag> = read_fragments(&file)
        .into_iter()
        .filter(|f| ![4, 7, 10].contains(&f.frame))
        .collect();
    let out = run(&frags);
    assert!(out.complete.is_empty());
    assert_eq!(out.incomplete.len(), 3);
    let first = &out.incomplete[0];
    assert_eq!(first.frames, vec![3, 5]);
    assert_eq!(first.first_udp_ports, Some((4500, 4500)));
    assert_eq!(first.first_bytes.get(8..12), Some(&[0u8; 4][..]));
    assert_eq!(first.first_bytes.len(), 64);
    assert_eq!(first.total_len, Some(3480));
    assert_eq!(first.missing.len(), 1);
    let gap = first.missing[0];
    assert_eq!(Some(gap.start), first.received.first().map(|r| r.end));
    assert_eq!(gap.end, first.received.get(1).map(|r| r.start));
}

// ---------------------------------------------------------------------------
// Synthetic sets.

fn key(id: u32) -> FragKey {
    FragKey {
        src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
        dst: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 20)),
        protocol: 17,
        id,
    }
}

fn frag(key: FragKey, offset: u32, more: bool, data: &[u8], frame: u64) -> Fragment<'_> {
    Fragment {
        key,
        offset,
        more_fragments: more,
        data,
        declared_len: data.len() as u32,
        frame,
        ts_ns: i64::try_from(frame).unwrap() * 1_000_000,
    }
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

fn complete(p: Pushed) -> Reassembled {
    match p {
        Pushed::Complete(r) => r,
        other => panic!("expected Complete, got {other:?}"),
    }
}

#[test]
fn in_order_and_out_of_order() {
    let p = payload(40);
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
        let mut d = Defragmenter::default();
        let parts = [(0u32, true), (16, true), (32, false)];
        let mut last = None;
        for (i, &idx) in order.iter().enumerate() {
            let (off, more) = parts[idx];
            let end = if more { off as usize + 16 } else { 40 };
            let pushed = d.push(frag(key(1), off, more, &p[off as usize..end], i as u64 + 1));
            if i < 2 {
                assert_eq!(pushed, Pushed::Held);
            } else {
                last = Some(complete(pushed));
            }
        }
        let r = last.unwrap();
        assert_eq!(r.payload, p);
        assert_eq!(r.frames, vec![1, 2, 3]);
        assert_eq!(r.completing_frame, 3);
        assert_eq!((r.first_ts_ns, r.last_ts_ns), (1_000_000, 3_000_000));
        assert!(d.is_empty());
        assert_eq!(d.stats().bytes_held_now, 0);
        assert_eq!(d.stats().reassembled, 1);
    }
}

#[test]
fn duplicate_is_counted_not_merged() {
    let p = payload(24);
    let mut d = Defragmenter::default();
    assert_eq!(d.push(frag(key(1), 0, true, &p[..16], 1)), Pushed::Held);
    assert_eq!(
        d.push(frag(key(1), 0, true, &p[..16], 2)),
        Pushed::Duplicate {
            completing_frame: None
        }
    );
    let r = complete(d.push(frag(key(1), 16, false, &p[16..], 3)));
    assert_eq!(r.payload, p);
    assert_eq!(r.frames, vec![1, 3]);
    assert_eq!(r.duplicate_frames, vec![2]);
    assert_eq!((r.duplicates, r.overlaps), (1, 0));
    // After reassembly, a copy of a fragment is a late duplicate, not a new set.
    assert_eq!(
        d.push(frag(key(1), 16, false, &p[16..], 4)),
        Pushed::Duplicate {
            completing_frame: Some(3)
        }
    );
    assert!(d.is_empty());
    assert_eq!(d.stats().duplicates, 2);
    // The same ID with other content is a new datagram.
    let other = payload(30);
    assert_eq!(
        d.push(frag(key(1), 16, false, &other[16..], 5)),
        Pushed::Held
    );
}

#[test]
fn late_duplicate_forgotten_after_timeout() {
    let p = payload(24);
    let mut d = Defragmenter::default();
    d.push(frag(key(1), 0, true, &p[..16], 1));
    complete(d.push(frag(key(1), 16, false, &p[16..], 2)));
    assert!(d.expire(61_000_000_000).is_empty());
    let mut late = frag(key(1), 16, false, &p[16..], 3);
    late.ts_ns = 61_000_000_000;
    assert_eq!(d.push(late), Pushed::Held);
}

#[test]
fn overlap_keeps_first_data() {
    let p = payload(32);
    let mut d = Defragmenter::default();
    assert_eq!(d.push(frag(key(1), 0, true, &p[..16], 1)), Pushed::Held);
    // Same range, other bytes: overlap, first bytes kept.
    let evil = vec![0xee; 16];
    assert_eq!(d.push(frag(key(1), 0, true, &evil, 2)), Pushed::Held);
    // Other boundaries, [8, 24): adds [16, 24) only.
    let mut mixed = p[8..24].to_vec();
    mixed[0] = 0xff;
    assert_eq!(d.push(frag(key(1), 8, true, &mixed, 3)), Pushed::Held);
    let r = complete(d.push(frag(key(1), 24, false, &p[24..], 4)));
    assert_eq!(r.payload, p);
    assert_eq!(r.frames, vec![1, 2, 3, 4]);
    assert_eq!((r.duplicates, r.overlaps), (0, 2));
    assert_eq!(d.stats().overlaps, 2);
}

#[test]
fn fragment_spanning_several_gaps() {
    let p = payload(64);
    let mut d = Defragmenter::default();
    d.push(frag(key(1), 8, true, &p[8..16], 1));
    d.push(frag(key(1), 32, true, &p[32..40], 2));
    d.push(frag(key(1), 56, false, &p[56..], 3));
    let r = complete(d.push(frag(key(1), 0, true, &p[..56], 4)));
    assert_eq!(r.payload, p);
    assert_eq!(r.overlaps, 1);
}

fn only_set(d: Defragmenter) -> IncompleteSet {
    let sets = d.finish();
    assert_eq!(sets.len(), 1, "{sets:?}");
    sets.into_iter().next().unwrap()
}

#[test]
fn missing_middle_first_last() {
    let p = payload(48);
    // Middle: [0,16) and [32,48) last.
    let mut d = Defragmenter::default();
    d.push(frag(key(1), 0, true, &p[..16], 1));
    d.push(frag(key(1), 32, false, &p[32..], 2));
    let s = only_set(d);
    assert_eq!(
        s.missing,
        vec![MissingRange {
            start: 16,
            end: Some(32)
        }]
    );
    assert_eq!(
        s.received,
        vec![
            ByteRange { start: 0, end: 16 },
            ByteRange { start: 32, end: 48 }
        ]
    );
    assert!(s.has_first && s.has_last);
    assert_eq!((s.total_len, s.bytes_held), (Some(48), 32));
    assert_eq!(s.first_bytes, p[..16].to_vec());
    let port = |i: usize| u16::from_be_bytes([p[i], p[i + 1]]);
    assert_eq!(s.first_udp_ports, Some((port(0), port(2))));
    assert_eq!(s.reason, IncompleteReason::EndOfCapture);

    // First: [16,48) only.
    let mut d = Defragmenter::default();
    d.push(frag(key(1), 16, true, &p[16..32], 1));
    d.push(frag(key(1), 32, false, &p[32..], 2));
    let s = only_set(d);
    assert_eq!(
        s.missing,
        vec![MissingRange {
            start: 0,
            end: Some(16)
        }]
    );
    assert!(!s.has_first && s.has_last);
    assert!(s.first_bytes.is_empty() && s.first_udp_ports.is_none());

    // Last: [0,32), end unknown.
    let mut d = Defragmenter::default();
    d.push(frag(key(1), 0, true, &p[..16], 1));
    d.push(frag(key(1), 16, true, &p[16..32], 2));
    let s = only_set(d);
    assert_eq!(
        s.missing,
        vec![MissingRange {
            start: 32,
            end: None
        }]
    );
    assert!(s.has_first && !s.has_last && s.total_len.is_none());
    assert_eq!(s.frames, vec![1, 2]);
}

#[test]
fn finish_sorts_by_first_frame() {
    let p = payload(16);
    let mut d = Defragmenter::default();
    for (id, frame) in [(5, 3), (1, 9), (9, 1)] {
        d.push(frag(key(id), 0, true, &p, frame));
    }
    let firsts: Vec<u64> = d.finish().iter().map(|s| s.frames[0]).collect();
    assert_eq!(firsts, vec![1, 3, 9]);
}

#[test]
fn expiry_by_capture_time() {
    let p = payload(16);
    let mut d = Defragmenter::default();
    let mut f = frag(key(1), 0, true, &p, 1);
    f.ts_ns = 0;
    d.push(f);
    let mut g = frag(key(2), 0, true, &p, 2);
    g.ts_ns = 10_000_000_000;
    d.push(g);
    assert!(d.expire(60_000_000_000).is_empty());
    let gone = d.expire(60_000_000_001);
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].key.id, 1);
    assert_eq!(gone[0].reason, IncompleteReason::Expired);
    assert_eq!(d.stats().expired, 1);
    assert_eq!(d.len(), 1);
    // Time going backwards expires nothing.
    assert!(d.expire(i64::MIN).is_empty());
    // A fragment for a stale set starts a new one; the old one is reported.
    let mut h = frag(key(2), 8, false, &p[..8], 3);
    h.ts_ns = 100_000_000_000;
    assert_eq!(d.push(h), Pushed::Held);
    let gone = d.expire(100_000_000_000);
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].frames, vec![2]);
    let s = only_set(d);
    assert_eq!(s.frames, vec![3]);
    assert!(d_is_sane(&s));
}

fn d_is_sane(s: &IncompleteSet) -> bool {
    !s.missing.is_empty() && s.bytes_held as usize <= 65_535
}

#[test]
fn flood_of_distinct_ids_stays_bounded() {
    let config = DefragConfig::default();
    let max_sets = config.max_sets;
    let max_bytes = config.max_total_bytes;
    let mut d = Defragmenter::new(config);
    let data = [0u8; 8];
    let mut reports = 0usize;
    const N: u32 = 1_000_000;
    for i in 0..N {
        let mut k = key(i);
        k.src = IpAddr::V4(Ipv4Addr::from(i.to_be_bytes()));
        let f = Fragment {
            key: k,
            offset: 8,
            more_fragments: true,
            data: &data,
            declared_len: 8,
            frame: u64::from(i) + 1,
            ts_ns: i64::from(i),
        };
        assert_eq!(d.push(f), Pushed::Held);
        if i % 1000 == 0 {
            reports += d.expire(i64::from(i)).len();
        }
    }
    let stats = d.stats();
    assert_eq!(stats.sets_now, max_sets);
    assert_eq!(stats.peak_sets, max_sets);
    assert_eq!(stats.evicted, u64::from(N) - max_sets as u64);
    assert_eq!(stats.bytes_held_now, max_sets * 8);
    assert!(stats.peak_bytes_held <= max_bytes);
    assert!(d.held_cost <= max_bytes);
    assert!(d.pending.len() <= d.config.max_pending_reports);
    reports += d.expire(i64::from(N)).len();
    assert_eq!(reports as u64 + stats.reports_dropped, stats.evicted);
    // Oldest went first: the survivors are the last max_sets.
    let left = d.finish();
    assert_eq!(left.len(), max_sets);
    assert_eq!(left[0].frames, vec![u64::from(N) - max_sets as u64 + 1]);
}

#[test]
fn memory_cap_evicts_oldest() {
    let config = DefragConfig {
        max_total_bytes: 3 * (SET_COST + FRAGMENT_COST + 1000),
        ..DefragConfig::default()
    };
    let mut d = Defragmenter::new(config);
    let data = vec![1u8; 1000];
    for i in 0..10u32 {
        assert_eq!(
            d.push(frag(key(i), 0, true, &data, u64::from(i) + 1)),
            Pushed::Held
        );
    }
    assert_eq!(d.len(), 3);
    let evicted = d.expire(0);
    assert_eq!(evicted.len(), 7);
    assert!(
        evicted
            .iter()
            .all(|s| s.reason == IncompleteReason::Evicted)
    );
    assert_eq!(evicted[0].frames, vec![1]);
    assert_eq!(d.stats().bytes_held_now, 3000);
    // A fragment that cannot fit even alone is rejected.
    let tiny = DefragConfig {
        max_total_bytes: 10,
        ..DefragConfig::default()
    };
    let mut d = Defragmenter::new(tiny);
    assert_eq!(
        d.push(frag(key(1), 0, true, &data, 1)),
        Pushed::Rejected(RejectReason::MemoryLimit)
    );
    assert_eq!(d.stats().rejected, 1);
}

#[test]
fn too_many_fragments_drops_the_set() {
    let config = DefragConfig {
        max_fragments_per_set: 4,
        ..DefragConfig::default()
    };
    let mut d = Defragmenter::new(config);
    let data = [0u8; 8];
    for i in 0..4u32 {
        assert_eq!(
            d.push(frag(key(1), i * 8, true, &data, u64::from(i) + 1)),
            Pushed::Held
        );
    }
    assert_eq!(
        d.push(frag(key(1), 32, true, &data, 5)),
        Pushed::Rejected(RejectReason::TooManyFragments)
    );
    let gone = d.expire(0);
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].reason, IncompleteReason::TooManyFragments);
    assert_eq!(gone[0].frames, vec![1, 2, 3, 4]);
    assert!(d.is_empty());
}

#[test]
fn pending_reports_are_capped() {
    let config = DefragConfig {
        max_sets: 1,
        max_pending_reports: 2,
        ..DefragConfig::default()
    };
    let mut d = Defragmenter::new(config);
    let data = [0u8; 8];
    for i in 0..5u32 {
        d.push(frag(key(i), 0, true, &data, u64::from(i) + 1));
    }
    assert_eq!(d.expire(0).len(), 2);
    assert_eq!(d.stats().reports_dropped, 2);
    assert_eq!(d.stats().evicted, 4);
}

#[test]
fn zero_length_and_overflowing_offsets() {
    let mut d = Defragmenter::default();
    assert_eq!(
        d.push(frag(key(1), 8, true, &[], 1)),
        Pushed::Rejected(RejectReason::ZeroLength)
    );
    let data = vec![0u8; 1480];
    assert_eq!(
        d.push(frag(key(1), 65528, false, &data, 2)),
        Pushed::Rejected(RejectReason::TooLarge)
    );
    let mut f = frag(key(1), u32::MAX - 3, true, &data, 3);
    f.declared_len = u32::MAX;
    assert_eq!(d.push(f), Pushed::Rejected(RejectReason::TooLarge));
    // The largest legal end is accepted.
    assert_eq!(
        d.push(frag(key(1), 65528, false, &data[..7], 4)),
        Pushed::Held
    );
    assert_eq!(d.stats().rejected, 3);
    let s = only_set(d);
    assert_eq!(s.total_len, Some(65535));
    assert_eq!(
        s.missing,
        vec![MissingRange {
            start: 0,
            end: Some(65528)
        }]
    );
}

#[test]
fn inconsistent_ends_are_rejected() {
    let p = payload(48);
    let mut d = Defragmenter::default();
    d.push(frag(key(1), 0, true, &p[..16], 1));
    d.push(frag(key(1), 32, false, &p[32..], 2));
    assert_eq!(
        d.push(frag(key(1), 40, true, &p[..16], 3)),
        Pushed::Rejected(RejectReason::BeyondEnd)
    );
    assert_eq!(
        d.push(frag(key(1), 16, false, &p[16..24], 4)),
        Pushed::Rejected(RejectReason::ConflictingEnd)
    );
    // Last fragment ending before data already held.
    let mut d2 = Defragmenter::default();
    d2.push(frag(key(1), 32, true, &p[32..], 1));
    assert_eq!(
        d2.push(frag(key(1), 16, false, &p[16..24], 2)),
        Pushed::Rejected(RejectReason::ConflictingEnd)
    );
    let r = complete(d.push(frag(key(1), 16, true, &p[16..32], 5)));
    assert_eq!(r.payload, p);
    assert_eq!(r.frames, vec![1, 2, 5]);
}

#[test]
fn keyed_by_addresses_protocol_and_32_bit_id() {
    let p = payload(16);
    let v6 = |id: u32, proto: u8| FragKey {
        src: IpAddr::V6("2001:db8:a::10".parse().unwrap()),
        dst: IpAddr::V6("2001:db8:b::20".parse().unwrap()),
        protocol: proto,
        id,
    };
    let mut d = Defragmenter::default();
    let mut other_src = key(7);
    other_src.src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11));
    let mut other_proto = key(7);
    other_proto.protocol = 50;
    for (k, frame) in [
        (key(7), 1),
        (other_src, 2),
        (other_proto, 3),
        (v6(0xdead_beef, 17), 4),
        (v6(0xbeef, 17), 5),
        (v6(0xdead_beef, 50), 6),
    ] {
        assert_eq!(d.push(frag(k, 0, true, &p[..8], frame)), Pushed::Held);
    }
    assert_eq!(d.len(), 6);
    let r = complete(d.push(frag(v6(0xdead_beef, 17), 8, false, &p[8..], 7)));
    assert_eq!(r.key.id, 0xdead_beef);
    assert_eq!(r.frames, vec![4, 7]);
    assert_eq!(d.len(), 5);
}

#[test]
fn truncated_fragment_still_completes() {
    let p = payload(48);
    let mut d = Defragmenter::default();
    let mut first = frag(key(1), 0, true, &p[..10], 1);
    first.declared_len = 24;
    d.push(first);
    let r = complete(d.push(frag(key(1), 24, false, &p[24..], 2)));
    assert!(r.truncated);
    assert_eq!(r.total_len, 48);
    assert_eq!(r.payload, p[..10].to_vec());
    // Link padding beyond the declared length is ignored.
    let mut d = Defragmenter::default();
    let mut padded = frag(key(2), 0, true, &p[..30], 1);
    padded.declared_len = 24;
    d.push(padded);
    let r = complete(d.push(frag(key(2), 24, false, &p[24..], 2)));
    assert!(!r.truncated);
    assert_eq!(r.payload, p);
}

#[test]
fn atomic_fragment_is_processed_alone() {
    let p = payload(16);
    let mut d = Defragmenter::default();
    d.push(frag(key(1), 8, false, &p[8..], 1));
    let r = complete(d.push(frag(key(1), 0, false, &p, 2)));
    assert_eq!((r.payload, r.frames), (p, vec![2]));
    assert_eq!(d.len(), 1);
}

#[test]
fn arbitrary_fragments_never_panic() {
    // A small deterministic generator over odd offsets, lengths, flags,
    // timestamps and truncation.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let config = DefragConfig {
        max_sets: 16,
        max_total_bytes: 64 * 1024,
        max_fragments_per_set: 32,
        ..DefragConfig::default()
    };
    let mut d = Defragmenter::new(config);
    let buf = payload(4096);
    for frame in 1..20_000u64 {
        let r = next();
        let offset = match r % 4 {
            0 => (r >> 8) as u32 % 128 * 8,
            1 => (r >> 8) as u32 % 70_000,
            2 => u32::MAX - (r >> 40) as u32 % 16,
            _ => (r >> 8) as u32 % 64,
        };
        let declared = (r >> 20) as u32 % 1600;
        let captured = ((r >> 32) as usize % 1700).min(buf.len());
        let f = Fragment {
            key: key((r >> 50) as u32 % 24),
            offset,
            more_fragments: r & 0x10 != 0,
            data: &buf[..captured],
            declared_len: declared,
            frame,
            ts_ns: (r >> 3) as i64 % 200_000_000_000 - 1,
        };
        if let Pushed::Complete(c) = d.push(f) {
            assert!(c.payload.len() <= c.total_len as usize);
        }
        if frame % 7 == 0 {
            d.expire(f.ts_ns);
        }
        assert!(d.held_cost <= d.config.max_total_bytes);
    }
    for s in d.finish() {
        assert!(!s.missing.is_empty());
    }
}
