//! pcapng files: sections, interfaces and packet blocks.
//!
//! Contract: [`PcapNgReader::next`] walks the blocks of every section
//! (big- or little-endian, each Section Header Block resets the interface
//! table) and yields Enhanced (type 6), Simple (type 3) and obsolete Packet
//! (type 2) blocks as indices into the [`StreamBuf`], with the link type of
//! their interface and the timestamp converted to nanoseconds using the
//! interface's `if_tsresol` (powers of 10 or of 2; default 10^-6) and
//! `if_tsoffset`. Simple Packet Blocks carry no timestamp; their `ts_ns`
//! is 0, as in Wireshark. Frame numbers follow Wireshark: every packet block takes a
//! number, and so do the non-packet records Wireshark lists as frames
//! (custom blocks 0x0BAD/0x40000BAD and systemd journal export blocks),
//! which are numbered but not yielded. Other blocks are skipped by their
//! length; unknown types are counted in the notes. A block whose total
//! length is below 12 or above 16 MiB, or whose trailing length differs, is
//! `Corrupt`; a block cut by the end of the file is `Truncated`; both carry
//! the block's offset.

use std::collections::BTreeMap;

use pcap_parser::pcapng::{
    BOM_MAGIC, CB_MAGIC, DCB_MAGIC, DSB_MAGIC, EPB_MAGIC, IDB_MAGIC, ISB_MAGIC, NRB_MAGIC,
    PIB_MAGIC, SHB_MAGIC, SJE_MAGIC, SPB_MAGIC,
};

use super::stream::StreamBuf;
use super::{Fail, RawFrame, push_note};

/// The obsolete Packet Block (pcapng draft, appendix "Packet Block").
const PB_MAGIC: u32 = 0x0000_0002;
/// Blocks above this size are treated as corrupt.
pub(crate) const MAX_BLOCK: u32 = 16 * 1024 * 1024;
/// if_tsresol (RFC draft-ietf-opsawg-pcapng, section 4.2).
const OPT_IF_TSRESOL: u16 = 9;
/// if_tsoffset, seconds (section 4.2).
const OPT_IF_TSOFFSET: u16 = 14;
const OPT_ENDOFOPT: u16 = 0;
const DEFAULT_UNITS: u64 = 1_000_000;

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    /// Timestamp units per second.
    units: u64,
    /// if_tsoffset, seconds.
    offset_s: i64,
}

pub(crate) struct PcapNgReader {
    big_endian: bool,
    interfaces: Vec<Interface>,
    /// 1-based index of the current section.
    section: u32,
    unknown_blocks: BTreeMap<u32, u64>,
    numbered_non_packets: u64,
    undeclared_interface: u64,
    odd_lengths: u64,
}

/// What one block turned out to be.
enum Outcome {
    Packet {
        ts_ns: i64,
        linktype: u32,
        orig_len: u32,
        data_at: usize,
        len: usize,
    },
    /// A record Wireshark numbers as a frame, not a packet.
    NumberedRecord,
    /// A packet for an interface the section never declared.
    Undeclared(u32),
    Skip,
}

#[inline(always)]
fn rd32(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    let a: [u8; 4] = s.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

#[inline(always)]
fn rd16(b: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    let a: [u8; 2] = s.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    })
}

/// Units per second for an `if_tsresol` byte: high bit clear = 10^-n,
/// set = 2^-n. `None` when it does not fit in 64 bits.
pub(crate) fn tsresol_units(tsresol: u8) -> Option<u64> {
    let exp = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(exp)
    } else {
        1u64.checked_shl(exp)
    }
}

/// `ts` units since the epoch (plus `offset_s` seconds) as nanoseconds,
/// saturating at the ends of `i64`.
#[inline]
pub(crate) fn ts_to_ns(ts: u64, units: u64, offset_s: i64) -> i64 {
    let ns: u128 = match units {
        1_000_000 => u128::from(ts) * 1_000,
        1_000_000_000 => u128::from(ts),
        0 => 0,
        u => u128::from(ts) * 1_000_000_000 / u128::from(u),
    };
    // ns < 2^64 * 10^9 < 2^94, offset_s * 10^9 < 2^94: no overflow in i128.
    let total = i128::try_from(ns).unwrap_or(i128::MAX) + i128::from(offset_s) * 1_000_000_000;
    i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
}

impl PcapNgReader {
    pub(crate) fn new() -> Self {
        PcapNgReader {
            big_endian: false,
            interfaces: Vec::new(),
            section: 0,
            unknown_blocks: BTreeMap::new(),
            numbered_non_packets: 0,
            undeclared_interface: 0,
            odd_lengths: 0,
        }
    }

    /// Notes that summarise the whole file; called once at the end.
    pub(crate) fn finish(&mut self, notes: &mut Vec<String>) {
        for (t, n) in std::mem::take(&mut self.unknown_blocks) {
            push_note(
                notes,
                format!("skipped {n} unknown pcapng block(s) of type 0x{t:08x}"),
            );
        }
        if self.numbered_non_packets > 0 {
            push_note(
                notes,
                format!(
                    "{} non-packet record(s) (custom or systemd journal blocks) took a frame number, as in Wireshark, but are not returned",
                    self.numbered_non_packets
                ),
            );
        }
        if self.undeclared_interface > 0 {
            push_note(
                notes,
                format!(
                    "{} packet block(s) named an undeclared interface and were skipped",
                    self.undeclared_interface
                ),
            );
        }
        if self.odd_lengths > 0 {
            push_note(
                notes,
                format!(
                    "{} pcapng block(s) have a total length that is not a multiple of 4 (accepted)",
                    self.odd_lengths
                ),
            );
        }
    }

    pub(crate) fn next(
        &mut self,
        buf: &mut StreamBuf,
        number: &mut u64,
        notes: &mut Vec<String>,
    ) -> Result<Option<RawFrame>, Fail> {
        loop {
            let off = buf.offset();
            if !buf.ensure(12).map_err(|e| Fail::Io(e, off))? {
                let left = buf.avail().len();
                if left == 0 {
                    return Ok(None);
                }
                return Err(Fail::Truncated(
                    off,
                    format!("file ends inside a pcapng block header ({left} of 12 bytes present)"),
                ));
            }
            let head = buf.avail();
            let type_le = rd32(head, 0, false).unwrap_or(0);
            if type_le == SHB_MAGIC {
                self.read_section_header(buf, notes)?;
                continue;
            }
            let be = self.big_endian;
            let block_type = rd32(head, 0, be).unwrap_or(0);
            let total = rd32(head, 4, be).unwrap_or(0);
            if total < 12 {
                return Err(Fail::Corrupt(
                    off,
                    format!(
                        "pcapng block of type 0x{block_type:08x} has total length {total}, below the minimum of 12"
                    ),
                ));
            }
            if total > MAX_BLOCK {
                return Err(Fail::Corrupt(
                    off,
                    format!(
                        "pcapng block of type 0x{block_type:08x} claims {total} bytes, above the limit of {MAX_BLOCK}"
                    ),
                ));
            }
            if !total.is_multiple_of(4) {
                self.odd_lengths += 1;
            }
            let total = total as usize;
            if !buf.ensure(total).map_err(|e| Fail::Io(e, off))? {
                return Err(Fail::Truncated(
                    off,
                    format!(
                        "file ends inside a pcapng block of type 0x{block_type:08x} ({} of {total} bytes present)",
                        buf.avail().len()
                    ),
                ));
            }
            let block_start = buf.pos();
            let block = buf.slice(block_start, total);
            let trailer = rd32(block, total - 4, be).unwrap_or(0);
            if trailer as usize != total {
                return Err(Fail::Corrupt(
                    off,
                    format!(
                        "pcapng block of type 0x{block_type:08x}: leading length {total} and trailing length {trailer} differ"
                    ),
                ));
            }
            let body = block.get(8..total - 4).unwrap_or(&[]);
            let outcome = self.block(block_type, body, off, notes)?;
            buf.consume(total);
            match outcome {
                Outcome::Skip => {}
                Outcome::NumberedRecord => {
                    *number = number.saturating_add(1);
                    self.numbered_non_packets += 1;
                }
                Outcome::Undeclared(if_id) => {
                    *number = number.saturating_add(1);
                    self.undeclared_interface += 1;
                    push_note(
                        notes,
                        format!(
                            "packet block for undeclared interface {if_id} at offset {off} (frame {number}) skipped; section {} declares {} interface(s)",
                            self.section,
                            self.interfaces.len()
                        ),
                    );
                }
                Outcome::Packet {
                    ts_ns,
                    linktype,
                    orig_len,
                    data_at,
                    len,
                } => {
                    *number = number.saturating_add(1);
                    return Ok(Some(RawFrame {
                        number: *number,
                        ts_ns,
                        linktype,
                        orig_len,
                        start: block_start + data_at,
                        len,
                    }));
                }
            }
        }
    }

    /// Interprets one whole block (`body` excludes the 8-byte header and the
    /// trailing length).
    fn block(
        &mut self,
        block_type: u32,
        body: &[u8],
        off: u64,
        notes: &mut Vec<String>,
    ) -> Result<Outcome, Fail> {
        let be = self.big_endian;
        match block_type {
            EPB_MAGIC | PB_MAGIC => {
                let name = if block_type == EPB_MAGIC {
                    "enhanced packet block"
                } else {
                    "packet block"
                };
                let (Some(w0), Some(ts_hi), Some(ts_lo), Some(caplen), Some(orig_len)) = (
                    rd32(body, 0, be),
                    rd32(body, 4, be),
                    rd32(body, 8, be),
                    rd32(body, 12, be),
                    rd32(body, 16, be),
                ) else {
                    return Err(Fail::Corrupt(
                        off,
                        format!(
                            "{name} body is {} bytes, shorter than its 20-byte header",
                            body.len()
                        ),
                    ));
                };
                let if_id = if block_type == EPB_MAGIC {
                    w0
                } else {
                    u32::from(rd16(body, 0, be).unwrap_or(0))
                };
                let room = body.len() - 20;
                if caplen as usize > room {
                    return Err(Fail::Corrupt(
                        off,
                        format!(
                            "{name} captured length {caplen} exceeds the {room} bytes of the block"
                        ),
                    ));
                }
                let Some(iface) = self.interfaces.get(if_id as usize) else {
                    return Ok(Outcome::Undeclared(if_id));
                };
                let ts = (u64::from(ts_hi) << 32) | u64::from(ts_lo);
                Ok(Outcome::Packet {
                    ts_ns: ts_to_ns(ts, iface.units, iface.offset_s),
                    linktype: iface.linktype,
                    orig_len,
                    data_at: 28,
                    len: caplen as usize,
                })
            }
            SPB_MAGIC => {
                let Some(orig_len) = rd32(body, 0, be) else {
                    return Err(Fail::Corrupt(
                        off,
                        "simple packet block is shorter than 16 bytes".into(),
                    ));
                };
                let Some(iface) = self.interfaces.first() else {
                    return Ok(Outcome::Undeclared(0));
                };
                let mut len = (body.len() - 4).min(orig_len as usize);
                if iface.snaplen != 0 {
                    len = len.min(iface.snaplen as usize);
                }
                Ok(Outcome::Packet {
                    ts_ns: 0,
                    linktype: iface.linktype,
                    orig_len,
                    data_at: 12,
                    len,
                })
            }
            IDB_MAGIC => {
                self.interface_description(body, off, notes)?;
                Ok(Outcome::Skip)
            }
            CB_MAGIC | DCB_MAGIC | SJE_MAGIC => Ok(Outcome::NumberedRecord),
            NRB_MAGIC | ISB_MAGIC | DSB_MAGIC | PIB_MAGIC => Ok(Outcome::Skip),
            other => {
                *self.unknown_blocks.entry(other).or_insert(0) += 1;
                Ok(Outcome::Skip)
            }
        }
    }

    fn interface_description(
        &mut self,
        body: &[u8],
        off: u64,
        notes: &mut Vec<String>,
    ) -> Result<(), Fail> {
        let be = self.big_endian;
        let (Some(linktype), Some(snaplen)) = (rd16(body, 0, be), rd32(body, 4, be)) else {
            return Err(Fail::Corrupt(
                off,
                format!(
                    "interface description block body is {} bytes, shorter than 8",
                    body.len()
                ),
            ));
        };
        let id = self.interfaces.len();
        let mut iface = Interface {
            linktype: u32::from(linktype),
            snaplen,
            units: DEFAULT_UNITS,
            offset_s: 0,
        };
        let mut has_tsresol = false;
        let mut opts = body.get(8..).unwrap_or(&[]);
        while opts.len() >= 4 {
            let code = rd16(opts, 0, be).unwrap_or(OPT_ENDOFOPT);
            let len = usize::from(rd16(opts, 2, be).unwrap_or(0));
            if code == OPT_ENDOFOPT {
                break;
            }
            let Some(value) = opts.get(4..4 + len) else {
                push_note(
                    notes,
                    format!(
                        "interface {id} (block at offset {off}): option {code} overruns the block; later options ignored"
                    ),
                );
                break;
            };
            match code {
                OPT_IF_TSRESOL if !value.is_empty() => {
                    has_tsresol = true;
                    let r = value.first().copied().unwrap_or(6);
                    match tsresol_units(r) {
                        Some(u) => iface.units = u,
                        None => push_note(
                            notes,
                            format!(
                                "interface {id}: if_tsresol 0x{r:02x} is out of range; using microseconds"
                            ),
                        ),
                    }
                }
                OPT_IF_TSOFFSET => match <[u8; 8]>::try_from(value) {
                    Ok(a) => {
                        iface.offset_s = if be {
                            i64::from_be_bytes(a)
                        } else {
                            i64::from_le_bytes(a)
                        }
                    }
                    Err(_) => push_note(
                        notes,
                        format!(
                            "interface {id}: if_tsoffset has {len} bytes instead of 8; ignored"
                        ),
                    ),
                },
                _ => {}
            }
            let padded = (4 + len).next_multiple_of(4);
            opts = opts.get(padded..).unwrap_or(&[]);
        }
        if !has_tsresol {
            push_note(
                notes,
                format!(
                    "interface {id} of section {} has no if_tsresol; using microseconds",
                    self.section
                ),
            );
        }
        self.interfaces.push(iface);
        Ok(())
    }

    fn read_section_header(
        &mut self,
        buf: &mut StreamBuf,
        notes: &mut Vec<String>,
    ) -> Result<(), Fail> {
        let off = buf.offset();
        let head = buf.avail();
        let big_endian = match rd32(head, 8, false) {
            Some(BOM_MAGIC) => false,
            Some(m) if m.swap_bytes() == BOM_MAGIC => true,
            m => {
                return Err(Fail::Corrupt(
                    off + 8,
                    format!(
                        "section header block has byte-order magic 0x{:08x}, not 1a2b3c4d",
                        m.unwrap_or(0)
                    ),
                ));
            }
        };
        let total = rd32(head, 4, big_endian).unwrap_or(0);
        if !(28..=MAX_BLOCK).contains(&total) {
            return Err(Fail::Corrupt(
                off,
                format!("section header block has total length {total}, outside 28..={MAX_BLOCK}"),
            ));
        }
        let total = total as usize;
        if !buf.ensure(total).map_err(|e| Fail::Io(e, off))? {
            return Err(Fail::Truncated(
                off,
                format!(
                    "file ends inside the section header block ({} of {total} bytes present)",
                    buf.avail().len()
                ),
            ));
        }
        let block = buf.slice(buf.pos(), total);
        let trailer = rd32(block, total - 4, big_endian).unwrap_or(0);
        if trailer as usize != total {
            return Err(Fail::Corrupt(
                off,
                format!(
                    "section header block: leading length {total} and trailing length {trailer} differ"
                ),
            ));
        }
        let major = rd16(block, 12, big_endian).unwrap_or(0);
        let minor = rd16(block, 14, big_endian).unwrap_or(0);
        buf.consume(total);
        self.big_endian = big_endian;
        self.interfaces.clear();
        self.section += 1;
        if major != 1 {
            push_note(
                notes,
                format!(
                    "section {} at offset {off} has version {major}.{minor}; read as 1.0",
                    self.section
                ),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsresol_powers_of_ten_and_two() {
        assert_eq!(tsresol_units(6), Some(1_000_000));
        assert_eq!(tsresol_units(9), Some(1_000_000_000));
        assert_eq!(tsresol_units(0), Some(1));
        assert_eq!(tsresol_units(19), Some(10_000_000_000_000_000_000));
        assert_eq!(tsresol_units(20), None);
        assert_eq!(tsresol_units(0x80 | 10), Some(1024));
        assert_eq!(tsresol_units(0x80 | 63), Some(1 << 63));
        assert_eq!(tsresol_units(0x80 | 64), None);
    }

    #[test]
    fn timestamps_saturate_and_scale() {
        assert_eq!(ts_to_ns(1_500_000, 1_000_000, 0), 1_500_000_000);
        assert_eq!(ts_to_ns(3, 2, 0), 1_500_000_000);
        assert_eq!(ts_to_ns(1024, 1024, -1), 0);
        assert_eq!(ts_to_ns(u64::MAX, 1, 0), i64::MAX);
        assert_eq!(ts_to_ns(0, 1_000_000, i64::MIN), i64::MIN);
        assert_eq!(ts_to_ns(u64::MAX, 1_000_000_000, i64::MAX), i64::MAX);
    }
}
