//! Capture artefacts the decoder corrects before anything is analysed:
//! time stamps that go backwards, and frames the capture holds twice.
//!
//! Contract:
//! - [`Timeline::place`] puts every frame on a non-decreasing timeline,
//!   the time all analysis uses. A frame stamped earlier than the frame
//!   before it (a clock step, captures merged out of order, multi-queue
//!   capture) is placed at the previous frame's time, and the frames after
//!   it keep their spacing from it until their own stamps catch up with
//!   the timeline; so a block of frames stamped 2,410 s too early keeps its
//!   internal timing and joins the rest of the capture where the file puts
//!   it. Each such frame is reported as a [`TimeStep`].
//! - [`Duplicates::check`] recognises a frame that repeats an earlier one
//!   from the IP header on, within [`DUPLICATE_WINDOW_NS`] on that
//!   timeline: the capture saw one packet twice (a mirror port copying
//!   both directions of a link, `tcpdump -i any` on a bridge, which sees a
//!   packet on the port and on the bridge). Link headers are not compared:
//!   on `-i any` the two copies differ in the SLL packet type or interface.
//!   Hosts' own link-local control messages (IGMP, ICMPv6 multicast
//!   listener and neighbour discovery, [`is_host_control`]) are left out:
//!   hosts send those twice in quick succession on purpose (Linux sends
//!   its MLD reports twice when an interface comes up, 32 µs apart in a lab
//!   capture), and ikediag does not analyse them.
//!   Only once the capture's stamps have shown sub-millisecond digits:
//!   in a file whose stamps are all zero, or whole seconds or milliseconds,
//!   "less than 1 ms apart" cannot be told (the tcpdump test file
//!   `isakmp4500.pcap`, all stamped 0, holds Quick Mode retransmissions
//!   with identical bytes).
//! - Both are O(1) per frame, allocate nothing after construction and
//!   cannot panic on any input.
//!
//! Why 1 ms: the copies a capture makes are microseconds apart (9 µs in the
//! capture behind issue 11). A sender repeats the same bytes on purpose much
//! later: IKE retransmits after 0.5 s or more (strongSwan 4 s, libreswan
//! 0.5 s, Windows 1 s), TCP after its RTO (at least 200 ms on Linux, 1 s by
//! RFC 6298) or a tail-loss probe (at least 10 ms), and ESP never repeats a
//! packet (its sequence number grows with each one). The only genuine
//! repeat within 1 ms would be a TCP fast retransmission on a LAN with a
//! sub-millisecond round trip, without TCP timestamps and with the same IP
//! identification (IPv6, or a stack that sends ID 0): at worst one such
//! inner-traffic retransmission is not counted.
//!
//! What "the same bytes" means here: the same length (captured and on the
//! wire) and the same first [`COMPARED`] and last [`COMPARED_TAIL`] bytes
//! from the IP header on, compared through a 64-bit digest; for TCP, ESP
//! and IP fragments the first bytes alone ([`head_identifies`]). The frames
//! themselves are not kept (that would copy every byte of every frame), and
//! the middle of a packet is not read: the check costs about 20 ns a frame
//! as it is (`messages` on the 1 GB bench capture: 263 to 296 ms of CPU,
//! medians of 15 paired runs), and reading the last cache line of every
//! bulk TCP or ESP packet, which nothing else reads, was the largest part
//! of a first version's cost (about twice this). The compared bytes hold the IP
//! header with its identification and checksum, the UDP or TCP header with
//! the checksum over the whole payload and TCP's sequence numbers, the IKE
//! header, the ESP SPI and sequence number, and a UDP datagram's last bytes
//! (an RFC 7383 fragment's ciphertext and integrity check value); two
//! different packets that agree on all of them within 1 ms do not occur in
//! practice, and packets of up to 96 bytes (64 for TCP, ESP and fragments)
//! are compared whole.

/// Two frames with the same bytes at most this far apart (capture time)
/// are one packet captured twice.
pub const DUPLICATE_WINDOW_NS: i64 = 1_000_000;

/// Bytes compared at the start of a packet (IP, transport and ESP or IKE
/// headers).
pub const COMPARED: usize = 64;
/// Bytes compared at its end (an ESP integrity check value is 12 to 32).
pub const COMPARED_TAIL: usize = 32;

/// IGMP, or ICMPv6 of type 130 and above (multicast listener discovery,
/// router and neighbour discovery, and later control types): messages a
/// host repeats on purpose within microseconds.
pub fn is_host_control(p: &crate::wire::ip::IpPacket<'_>) -> bool {
    match p.protocol {
        2 => true,
        58 => p.fragment.is_none() && p.payload.first().is_some_and(|&t| t >= 130),
        _ => false,
    }
}

/// Packets whose first [`COMPARED`] bytes already tell them apart from any
/// other packet of the same length: IP fragments (identification and
/// offset), ESP (SPI and sequence number) and TCP (sequence and
/// acknowledgement numbers). Their last bytes are not compared, which
/// spares reading a cache line the decoder never needs for bulk traffic.
/// UDP needs them: IKEv2 fragments (RFC 7383) of one message have the same
/// length and differ only past the 64th byte, and a capture on the sender
/// with checksum offload shows the same UDP checksum field for both.
pub fn head_identifies(p: &crate::wire::ip::IpPacket<'_>) -> bool {
    p.fragment.is_some() || matches!(p.protocol, 6 | 50)
}

/// A frame the capture holds twice: dropped before reassembly and analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplicateFrame {
    /// The copy (the later frame in the file), which is ignored.
    pub frame: u64,
    /// The frame it repeats, which is analysed.
    pub original: u64,
    /// Time between the two on the analysis timeline (0 to 1 ms).
    pub gap_ns: i64,
}

/// A frame stamped earlier than the frame before it in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeStep {
    pub frame: u64,
    pub previous_frame: u64,
    /// How much earlier than the previous frame it is stamped (> 0).
    pub back_ns: i64,
    /// The frame's own time stamp.
    pub stamp_ns: i64,
    /// Where it was placed on the analysis timeline: the previous frame's time.
    pub placed_ns: i64,
}

/// The analysis timeline: see the module documentation.
#[derive(Debug, Default)]
pub struct Timeline {
    /// (frame, its stamp, its time on the timeline) of the previous frame.
    last: Option<(u64, i64, i64)>,
    /// What is added to stamps to place them: 0 while stamps are in order.
    offset: i64,
}

impl Timeline {
    /// The time of a frame stamped `stamp_ns` on the timeline, and the step
    /// back when its stamp is earlier than the previous frame's.
    pub fn place(&mut self, frame: u64, stamp_ns: i64) -> (i64, Option<TimeStep>) {
        let Some((last_frame, last_stamp, last_placed)) = self.last else {
            self.last = Some((frame, stamp_ns, stamp_ns));
            return (stamp_ns, None);
        };
        let (placed, step) = if stamp_ns >= last_placed {
            // The stamps are back in step with the timeline (or never left it).
            self.offset = 0;
            (stamp_ns, None)
        } else if stamp_ns >= last_stamp {
            // Later than the previous stamp: keep the spacing from it.
            (stamp_ns.saturating_add(self.offset).max(last_placed), None)
        } else {
            self.offset = last_placed.saturating_sub(stamp_ns);
            let step = TimeStep {
                frame,
                previous_frame: last_frame,
                back_ns: last_stamp.saturating_sub(stamp_ns),
                stamp_ns,
                placed_ns: last_placed,
            };
            (last_placed, Some(step))
        };
        self.last = Some((frame, stamp_ns, placed));
        (placed, step)
    }
}

/// Packets remembered: the copies a capture makes follow their original
/// within a few frames (the next one on `-i any`), and a short list scanned
/// whole stays in the first-level cache while the capture streams past.
const RECENT: usize = 32;

/// The last [`RECENT`] packets, by digest, in a ring.
pub struct Duplicates {
    digests: [u64; RECENT],
    times: [i64; RECENT],
    /// 0 when empty (frame numbers start at 1).
    frames: [u64; RECENT],
    next: usize,
    /// A stamp with sub-millisecond digits has been seen.
    fine_stamps: bool,
}

impl Default for Duplicates {
    fn default() -> Self {
        Duplicates {
            digests: [0; RECENT],
            times: [0; RECENT],
            frames: [0; RECENT],
            next: 0,
            fine_stamps: false,
        }
    }
}

impl std::fmt::Debug for Duplicates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Duplicates").finish_non_exhaustive()
    }
}

/// One step of the FxHash scheme.
#[inline]
fn mix(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

/// Bytes digested: the first [`COMPARED`] and the last [`COMPARED_TAIL`].
const DIGESTED: usize = COMPARED + COMPARED_TAIL;

/// Mixes whole 8-byte words into four independent lanes (so the
/// multiplications do not wait on each other); with a fixed-size input the
/// loop unrolls completely.
#[inline(always)]
fn absorb(lanes: &mut [u64; 4], words: &[[u8; 8]]) {
    for (i, w) in words.iter().enumerate() {
        if let Some(lane) = lanes.get_mut(i % 4) {
            *lane = mix(*lane, u64::from_le_bytes(*w));
        }
    }
}

/// The digest of a packet: its lengths and its first [`COMPARED`] bytes,
/// and with `tail` its last [`COMPARED_TAIL`] (all of it, zero-padded,
/// when it is shorter than what is compared).
#[inline]
fn digest(ip: &[u8], wire_len: u64, tail: bool) -> u64 {
    let mut lanes = [
        ip.len() as u64,
        wire_len,
        u64::from(tail),
        0x9e37_79b9_7f4a_7c15,
    ];
    let whole = if tail { DIGESTED } else { COMPARED };
    match (
        ip.first_chunk::<COMPARED>(),
        ip.last_chunk::<COMPARED_TAIL>(),
    ) {
        (Some(head), Some(end)) if ip.len() >= whole => {
            absorb(&mut lanes, head.as_chunks::<8>().0);
            if tail {
                absorb(&mut lanes, end.as_chunks::<8>().0);
            }
        }
        _ => {
            let mut block = [0u8; DIGESTED];
            if let Some(dst) = block.get_mut(..ip.len()) {
                dst.copy_from_slice(ip);
            }
            absorb(&mut lanes, block.as_chunks::<8>().0);
        }
    }
    let [a, b, c, d] = lanes;
    mix(mix(mix(a, b), c), d)
}

impl Duplicates {
    /// Notes the time stamp of every frame (in nanoseconds, as the file
    /// has it), so copies are recognised only when stamps are finer than
    /// the window.
    #[inline]
    pub fn note_stamp(&mut self, stamp_ns: i64) {
        if !self.fine_stamps {
            self.fine_stamps = stamp_ns.rem_euclid(DUPLICATE_WINDOW_NS) != 0;
        }
    }

    /// Is the packet `ip` (the bytes from the IP header on, `wire_len`
    /// bytes long on the wire) of frame `frame` at `time_ns` on the
    /// timeline a copy of a recent frame? If not, it is remembered. Its
    /// last bytes are compared too unless `head_identifies` ([`head_identifies`]).
    #[inline]
    pub fn check(
        &mut self,
        frame: u64,
        time_ns: i64,
        ip: &[u8],
        wire_len: u64,
        head_identifies: bool,
    ) -> Option<DuplicateFrame> {
        let d = digest(ip, wire_len, !head_identifies);
        // `contains` over the digests alone is a few vector compares.
        if self.fine_stamps && self.digests.contains(&d) {
            let hit = self
                .digests
                .iter()
                .zip(&self.times)
                .zip(&self.frames)
                .filter(|((x, _), f)| **x == d && **f != 0)
                .map(|((_, &t), &f)| (time_ns.saturating_sub(t), f))
                .find(|(gap, _)| (0..=DUPLICATE_WINDOW_NS).contains(gap));
            if let Some((gap_ns, original)) = hit {
                // A third copy is a copy of the same original.
                return Some(DuplicateFrame {
                    frame,
                    original,
                    gap_ns,
                });
            }
        }
        let i = self.next % RECENT;
        if let (Some(x), Some(t), Some(f)) = (
            self.digests.get_mut(i),
            self.times.get_mut(i),
            self.frames.get_mut(i),
        ) {
            (*x, *t, *f) = (d, time_ns, frame);
        }
        self.next = (i + 1) % RECENT;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_in_order_are_kept() {
        let mut t = Timeline::default();
        assert_eq!(t.place(1, 100), (100, None));
        assert_eq!(t.place(2, 100), (100, None));
        assert_eq!(t.place(3, 250), (250, None));
    }

    #[test]
    fn a_block_stamped_too_early_keeps_its_spacing_and_rejoins() {
        let mut t = Timeline::default();
        let s = 1_000_000_000i64;
        assert_eq!(t.place(1, 10 * s).0, 10 * s);
        // Frames 2-4 stamped 2,410 s too early, 1 s apart.
        let (p2, step) = t.place(2, 11 * s - 2410 * s);
        assert_eq!(p2, 10 * s);
        assert_eq!(
            step,
            Some(TimeStep {
                frame: 2,
                previous_frame: 1,
                back_ns: 2409 * s,
                stamp_ns: 11 * s - 2410 * s,
                placed_ns: 10 * s,
            })
        );
        assert_eq!(t.place(3, 12 * s - 2410 * s), (11 * s, None));
        assert_eq!(t.place(4, 13 * s - 2410 * s), (12 * s, None));
        // The clock is right again from frame 5.
        assert_eq!(t.place(5, 14 * s), (14 * s, None));
        assert_eq!(t.place(6, 15 * s), (15 * s, None));
    }

    #[test]
    fn a_frame_a_little_out_of_order_is_placed_at_the_previous_time() {
        let mut t = Timeline::default();
        t.place(1, 1_000);
        t.place(2, 2_000);
        let (p, step) = t.place(3, 1_500);
        assert_eq!(p, 2_000);
        assert_eq!(step.map(|s| s.back_ns), Some(500));
        assert_eq!(t.place(4, 2_100), (2_100, None));
    }

    #[test]
    fn a_permanent_step_back_shifts_everything_after_it() {
        let mut t = Timeline::default();
        t.place(1, 5_000);
        assert_eq!(t.place(2, 1_000).0, 5_000);
        assert_eq!(t.place(3, 1_300), (5_300, None));
        assert_eq!(t.place(4, 1_900), (5_900, None));
    }

    #[test]
    fn extreme_stamps_never_overflow_or_go_backwards() {
        let mut t = Timeline::default();
        let mut last = i64::MIN;
        for (i, s) in [i64::MAX, i64::MIN, 0, i64::MIN + 1, i64::MAX, -5]
            .into_iter()
            .enumerate()
        {
            let (p, _) = t.place(i as u64 + 1, s);
            assert!(p >= last);
            last = p;
        }
    }

    #[test]
    fn a_copy_within_1_ms_is_a_duplicate_and_a_later_one_is_not() {
        let mut d = Duplicates::default();
        d.note_stamp(1_000);
        let pkt: Vec<u8> = (0..200u8).collect();
        assert_eq!(d.check(1, 0, &pkt, 200, false), None);
        assert_eq!(
            d.check(2, 9_000, &pkt, 200, false),
            Some(DuplicateFrame {
                frame: 2,
                original: 1,
                gap_ns: 9_000
            })
        );
        // A third copy still points at the first.
        assert_eq!(
            d.check(3, 20_000, &pkt, 200, false).map(|x| x.original),
            Some(1)
        );
        // 0.5 s later (an IKE retransmission): not a copy; it becomes the
        // packet later copies are compared with.
        assert_eq!(d.check(4, 500_000_000, &pkt, 200, false), None);
        assert_eq!(
            d.check(5, 500_001_000, &pkt, 200, false)
                .map(|x| x.original),
            Some(4)
        );
    }

    #[test]
    fn without_sub_millisecond_stamps_nothing_is_a_duplicate() {
        // All stamped 0 (or whole milliseconds): the same bytes may well be
        // a retransmission seconds later.
        let mut d = Duplicates::default();
        let pkt = [0x45u8; 60];
        for (frame, stamp) in [(1, 0), (2, 0), (3, 5_000_000)] {
            d.note_stamp(stamp);
            assert_eq!(d.check(frame, stamp, &pkt, 60, false), None);
        }
        d.note_stamp(5_000_009);
        assert_eq!(
            d.check(4, 5_000_009, &pkt, 60, false).map(|x| x.original),
            Some(3)
        );
    }

    #[test]
    fn packets_that_differ_anywhere_compared_are_not_duplicates() {
        let mut d = Duplicates::default();
        d.note_stamp(1);
        let a: Vec<u8> = (0..100u8).collect();
        let mut b = a.clone();
        b[50] ^= 1; // within 64 bytes of the end
        assert_eq!(d.check(1, 0, &a, 100, false), None);
        assert_eq!(d.check(2, 1, &b, 100, false), None);
        // A difference in the last 32 bytes counts unless the head alone
        // identifies the packet (TCP, ESP, fragments).
        let mut c = a.clone();
        c[90] ^= 1;
        assert_eq!(d.check(6, 5, &c, 100, false), None);
        let mut e = a.clone();
        e[91] ^= 1;
        assert_eq!(d.check(7, 6, &a, 100, true), None);
        assert_eq!(d.check(8, 7, &e, 100, true).map(|x| x.original), Some(7));
        // Same captured bytes, different length on the wire (snaplen).
        assert_eq!(d.check(3, 2, &a, 1400, false), None);
        assert_eq!(d.check(4, 3, &[], 0, false), None);
        assert_eq!(d.check(5, 4, &[], 0, false).map(|x| x.original), Some(4));
    }
}
