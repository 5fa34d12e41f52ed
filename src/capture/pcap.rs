//! Classic libpcap files: the 24-byte file header and the packet records.
//!
//! Contract: [`PcapReader::open`] reads the file header and guesses the
//! record-header variant the way Wireshark's `libpcap.c` does (standard,
//! Red Hat SS990417 and Nokia layouts for the standard magic; SS991029 and
//! SS990915 for the "modified" Kuznetzov magic a1b2cd34), by scoring the
//! first three records of each variant. [`PcapReader::next`] then yields one
//! record at a time as indices into the [`StreamBuf`], never copying packet
//! bytes. Files of version 2.2 and older (and 543.x) store `orig_len` before
//! `incl_len`; version 2.3 files are swapped when `incl_len > orig_len`, as
//! Wireshark does. Errors carry the offset of the record that is damaged.

use super::stream::StreamBuf;
use super::{Fail, RawFrame};

/// Wireshark's `WTAP_MAX_PACKET_SIZE_STANDARD`.
pub(crate) const MAX_SNAPLEN_STANDARD: u32 = 262_144;
/// Hard cap on one record, whatever the header says.
pub(crate) const MAX_RECORD: u32 = 16 * 1024 * 1024;

const MAGIC_USEC: u32 = 0xa1b2_c3d4;
const MAGIC_NSEC: u32 = 0xa1b2_3c4d;
const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

/// Record-header layouts (Wireshark's `pcap_variant_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    /// 16-byte record header, microseconds.
    Standard,
    /// 16-byte record header, nanoseconds (magic a1b23c4d).
    Nsec,
    /// 24 bytes: + ifindex u32, protocol u16, pkt_type u8, pad u8 (standard magic).
    Ss990417,
    /// 24 bytes, same layout as SS990417 (modified magic).
    Ss991029,
    /// 28 bytes: + ifindex, protocol, pkt_type, cpu1, cpu2, pad[3] (modified magic).
    Ss990915,
    /// 20 bytes: + 4 bytes of Nokia data.
    Nokia,
}

impl Variant {
    fn header_len(self) -> usize {
        match self {
            Variant::Standard | Variant::Nsec => 16,
            Variant::Nokia => 20,
            Variant::Ss990417 | Variant::Ss991029 => 24,
            Variant::Ss990915 => 28,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LengthsSwapped {
    No,
    Yes,
    /// Version 2.3: swap only when incl_len > orig_len.
    Maybe,
}

/// Is `magic` (read as little-endian) one of the pcap magics, in either byte order?
pub(crate) fn is_pcap_magic(magic_le: u32) -> bool {
    [MAGIC_USEC, MAGIC_NSEC, MAGIC_MODIFIED]
        .iter()
        .any(|&m| magic_le == m || magic_le == m.swap_bytes())
}

pub(crate) struct PcapReader {
    big_endian: bool,
    variant: Variant,
    hdr_len: usize,
    lengths: LengthsSwapped,
    linktype: u32,
    snaplen: u32,
    /// Records with a larger incl_len are corrupt.
    max_incl: u32,
}

#[inline(always)]
fn rd32(b: [u8; 4], big_endian: bool) -> u32 {
    if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

/// The four u32 fields every record header starts with:
/// ts_sec, ts_frac, incl_len, orig_len (before any length swap).
#[inline(always)]
fn record_fields(h: &[u8; 16], big_endian: bool) -> [u32; 4] {
    [
        rd32([h[0], h[1], h[2], h[3]], big_endian),
        rd32([h[4], h[5], h[6], h[7]], big_endian),
        rd32([h[8], h[9], h[10], h[11]], big_endian),
        rd32([h[12], h[13], h[14], h[15]], big_endian),
    ]
}

/// Wireshark's `wtap_max_snaplen_for_encap`, keyed by LINKTYPE_ value.
fn max_snaplen_for_linktype(linktype: u32) -> u32 {
    match linktype {
        231 | 249 => 128 * 1024 * 1024, // D-Bus, USBPcap
        279 => 8 * 1024 * 1024,         // EBHSCR
        _ => MAX_SNAPLEN_STANDARD,
    }
}

impl PcapReader {
    /// Reads the file header (the magic is known to be a pcap magic) and
    /// picks the record variant.
    pub(crate) fn open(buf: &mut StreamBuf, notes: &mut Vec<String>) -> Result<Self, Fail> {
        let off = buf.offset();
        if !buf.ensure(24).map_err(|e| Fail::Io(e, off))? {
            return Err(Fail::Truncated(
                off,
                format!(
                    "pcap file header needs 24 bytes, the file has {}",
                    buf.avail().len()
                ),
            ));
        }
        let h: [u8; 24] = match buf.avail().first_chunk::<24>() {
            Some(h) => *h,
            None => return Err(Fail::Truncated(off, "pcap file header".into())),
        };
        let magic_le = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        // `is_pcap_magic` accepted it in one byte order or the other.
        let big_endian = !matches!(magic_le, MAGIC_USEC | MAGIC_NSEC | MAGIC_MODIFIED);
        let magic = if big_endian {
            magic_le.swap_bytes()
        } else {
            magic_le
        };
        let rd16 = |a: u8, b: u8| {
            if big_endian {
                u16::from_be_bytes([a, b])
            } else {
                u16::from_le_bytes([a, b])
            }
        };
        let version_major = rd16(h[4], h[5]);
        let version_minor = rd16(h[6], h[7]);
        let snaplen = rd32([h[16], h[17], h[18], h[19]], big_endian);
        let network = rd32([h[20], h[21], h[22], h[23]], big_endian);
        if version_major < 2 {
            return Err(Fail::Corrupt(
                off + 4,
                format!("pcap major version {version_major} is not supported (2.x expected)"),
            ));
        }
        // LT_LINKTYPE: the low 16 bits; the upper bits carry FCS information.
        let linktype = network & 0x0000_ffff;
        if network & 0x03ff_0000 != 0 {
            notes.push(format!(
                "pcap header link-type field 0x{network:08x} has reserved bits set; using link type {linktype}"
            ));
        }
        let lengths = match (version_major, version_minor) {
            (2, m) if m < 3 => LengthsSwapped::Yes,
            (2, 3) => LengthsSwapped::Maybe,
            (543, _) => LengthsSwapped::Yes,
            _ => LengthsSwapped::No,
        };
        buf.consume(24);
        let max_wtap = max_snaplen_for_linktype(linktype);
        let mut r = PcapReader {
            big_endian,
            variant: Variant::Standard,
            hdr_len: 16,
            lengths,
            linktype,
            snaplen,
            max_incl: max_wtap,
        };
        let candidates: &[Variant] = match magic {
            MAGIC_NSEC => &[Variant::Nsec],
            MAGIC_MODIFIED => &[Variant::Ss991029, Variant::Ss990915],
            _ => &[Variant::Standard, Variant::Ss990417, Variant::Nokia],
        };
        r.variant = r.guess_variant(buf, candidates);
        r.hdr_len = r.variant.header_len();
        if r.variant != Variant::Standard && r.variant != Variant::Nsec {
            notes.push(format!(
                "pcap record headers read as the {:?} variant ({} bytes)",
                r.variant, r.hdr_len
            ));
        }
        Ok(r)
    }

    /// Wireshark's `libpcap_try_variants`: score the first three records of
    /// each candidate layout (0 = no problem) and keep the first perfect one,
    /// else the least bad one.
    fn guess_variant(&self, buf: &mut StreamBuf, candidates: &[Variant]) -> Variant {
        let Some(&first) = candidates.first() else {
            return Variant::Standard;
        };
        if candidates.len() == 1 {
            return first;
        }
        // Three records of at most 28 + 262144 bytes fit well within this.
        let want = 3 * (28 + MAX_SNAPLEN_STANDARD as usize);
        buf.prefetch(want);
        let data = buf.avail();
        let mut best = (u32::MAX, first);
        for &v in candidates {
            let merit = self.try_variant(data, v);
            if merit == 0 {
                return v;
            }
            if merit < best.0 {
                best = (merit, v);
            }
        }
        best.1
    }

    fn try_variant(&self, data: &[u8], v: Variant) -> u32 {
        let hl = v.header_len();
        let max_wtap = self.max_incl;
        let mut at = 0usize;
        for _ in 0..3 {
            let rest = data.get(at..).unwrap_or(&[]);
            if rest.is_empty() {
                return 0; // EOF: fewer records than we try; fine.
            }
            let Some(h) = rest.first_chunk::<16>() else {
                return 1; // short read
            };
            if rest.len() < hl {
                return 1;
            }
            let [_, ts_frac, incl, orig] = self.fields(h);
            let mut merit = 0;
            merit += u32::from(ts_frac >= 1_000_000);
            merit += u32::from(incl > max_wtap);
            merit += u32::from(orig > 128 * 1024 * 1024);
            merit += u32::from(incl > self.snaplen);
            merit += u32::from(incl > orig);
            if merit != 0 {
                return merit;
            }
            let need = hl.saturating_add(incl as usize);
            if rest.len() < need {
                return 1;
            }
            at = at.saturating_add(need);
        }
        0
    }

    /// ts_sec, ts_frac, incl_len, orig_len with the length swap applied.
    #[inline(always)]
    fn fields(&self, h: &[u8; 16]) -> [u32; 4] {
        let [s, f, a, b] = record_fields(h, self.big_endian);
        let swap = match self.lengths {
            LengthsSwapped::No => false,
            LengthsSwapped::Yes => true,
            LengthsSwapped::Maybe => a > b,
        };
        if swap { [s, f, b, a] } else { [s, f, a, b] }
    }

    pub(crate) fn linktype(&self) -> u32 {
        self.linktype
    }

    /// The next record, or `None` at a clean end of file.
    #[inline]
    pub(crate) fn next(
        &mut self,
        buf: &mut StreamBuf,
        number: &mut u64,
    ) -> Result<Option<RawFrame>, Fail> {
        let off = buf.offset();
        let hl = self.hdr_len;
        if !buf.ensure(hl).map_err(|e| Fail::Io(e, off))? {
            let left = buf.avail().len();
            if left == 0 {
                return Ok(None);
            }
            return Err(Fail::Truncated(
                off,
                format!(
                    "file ends inside a pcap record header ({left} of {hl} bytes present) of frame {}",
                    number.saturating_add(1)
                ),
            ));
        }
        let Some(h) = buf.avail().first_chunk::<16>() else {
            return Err(Fail::Truncated(off, "pcap record header".into()));
        };
        let [ts_sec, ts_frac, incl, orig] = self.fields(h);
        if (incl > self.max_incl && incl > self.snaplen) || incl > MAX_RECORD {
            return Err(Fail::Corrupt(
                off,
                format!(
                    "pcap record header of frame {} claims a {incl}-byte packet, more than the maximum of {} and the file's snaplen of {}",
                    number.saturating_add(1),
                    self.max_incl.min(MAX_RECORD),
                    self.snaplen
                ),
            ));
        }
        let total = hl + incl as usize;
        if !buf.ensure(total).map_err(|e| Fail::Io(e, off))? {
            return Err(Fail::Truncated(
                off,
                format!(
                    "file ends inside the data of frame {} ({} of {incl} bytes present)",
                    number.saturating_add(1),
                    buf.avail().len().saturating_sub(hl)
                ),
            ));
        }
        let start = buf.pos() + hl;
        buf.consume(total);
        *number = number.saturating_add(1);
        let frac_ns = if self.variant == Variant::Nsec {
            i64::from(ts_frac)
        } else {
            i64::from(ts_frac) * 1000
        };
        Ok(Some(RawFrame {
            number: *number,
            ts_ns: i64::from(ts_sec) * 1_000_000_000 + frac_ns,
            linktype: self.linktype,
            orig_len: orig,
            start,
            len: incl as usize,
        }))
    }
}
