//! Capture input: pcap, pcapng, gzip and zstd, streamed with a bounded buffer.
//!
//! Contract: [`CaptureReader::next_frame`] yields frames numbered from 1 in
//! file order (Wireshark's numbering). A damaged file yields every frame read
//! before the damage, then one [`CaptureError`] naming the file and the byte
//! offset (in the decompressed stream for gzip/zstd input), then `None`.
//! Nothing here panics on any input.

use std::path::PathBuf;

/// Link-layer type numbers (tcpdump.org LINKTYPE_* values).
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW_OLD: u32 = 12; // OpenBSD DLT_RAW; also 14 on some systems
    pub const RAW_BSD: u32 = 14;
    pub const PPP: u32 = 9;
    pub const LOOP: u32 = 108;
    pub const RAW: u32 = 101;
    pub const LINUX_SLL: u32 = 113;
    pub const NFLOG: u32 = 239;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
}

/// The container format of a capture, as recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    PcapNg,
}

/// Compression wrapped around the capture, recognised by magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// One captured frame, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based frame number in file order, as Wireshark numbers frames.
    pub number: u64,
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// LINKTYPE_* of the interface the frame was captured on.
    pub linktype: u32,
    /// Original length on the wire (may exceed `data.len()` when snaplen cut it).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// A tool failure while reading a capture.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a pcap or pcapng capture (first bytes {magic})")]
    NotACapture { path: PathBuf, magic: String },
    #[error("{path}: truncated at byte offset {offset}: {what}")]
    Truncated {
        path: PathBuf,
        offset: u64,
        what: String,
    },
    #[error("{path}: corrupt at byte offset {offset}: {what}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        what: String,
    },
}
