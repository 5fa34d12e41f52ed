//! Capture input: pcap, pcapng, gzip and zstd, streamed with a bounded buffer.
//!
//! Contract: [`CaptureReader::next_frame`] yields frames numbered from 1 in
//! file order (Wireshark's numbering). A damaged file yields every frame read
//! before the damage, then one [`CaptureError`] naming the file and the byte
//! offset (in the decompressed stream for gzip/zstd input), then `None`.
//! Nothing here panics on any input.
//!
//! Format and compression are recognised by magic bytes only (never by file
//! name): gzip (all members) or zstd around pcap (both byte orders,
//! micro/nanosecond, the Kuznetzov "modified" record layout) or pcapng
//! (several sections, either byte order). Input is streamed through one
//! buffer of [`stream::CHUNK`] bytes that grows only as far as one record
//! needs (at most 16 MiB); frames borrow from it, so nothing is copied or
//! allocated per frame.

mod pcap;
mod pcapng;
mod stream;
#[cfg(test)]
mod tests;

use std::io::{ErrorKind, Read};
mod gzip;

use std::path::{Path, PathBuf};

use stream::StreamBuf;

/// Link-layer type numbers (tcpdump.org LINKTYPE_* values).
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW_OLD: u32 = 12; // OpenBSD DLT_RAW; also 14 on some systems
    pub const RAW_BSD: u32 = 14;
    pub const PPP: u32 = 9;
    pub const PPP_HDLC: u32 = 50;
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

/// Hands the zstd decompressor at most [`SMALL_READ`] bytes of output space
/// per call. Like flate2 (see `gzip.rs`), a decompressor that fails returns
/// the error instead of the bytes it decoded in the same call; with small
/// reads at most [`SMALL_READ`] bytes before a corruption are lost.
struct SmallReads<R>(R);

/// Output bytes asked of a decompressor per call.
const SMALL_READ: usize = 2048;

impl<R: Read> Read for SmallReads<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(SMALL_READ);
        self.0.read(buf.get_mut(..n).unwrap_or(&mut []))
    }
}

/// A tool failure while reading a capture.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: read error at byte offset {offset}: {source}")]
    Io {
        path: PathBuf,
        /// Offset (in the decompressed stream) of the record being read.
        offset: u64,
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

impl CaptureError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            CaptureError::Io { path, .. }
            | CaptureError::NotACapture { path, .. }
            | CaptureError::Truncated { path, .. }
            | CaptureError::Corrupt { path, .. } => path,
        }
    }

    /// Byte offset of the damage (0 when the file is not a capture at all).
    pub fn offset(&self) -> u64 {
        match self {
            CaptureError::Io { offset, .. }
            | CaptureError::Truncated { offset, .. }
            | CaptureError::Corrupt { offset, .. } => *offset,
            CaptureError::NotACapture { .. } => 0,
        }
    }
}

/// Internal failure, before the path is attached.
#[derive(Debug)]
pub(crate) enum Fail {
    Io(std::io::Error, u64),
    Truncated(u64, String),
    Corrupt(u64, String),
}

/// A frame as positions in the stream buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawFrame {
    pub(crate) number: u64,
    pub(crate) ts_ns: i64,
    pub(crate) linktype: u32,
    pub(crate) orig_len: u32,
    /// Absolute index of the first data byte in the stream buffer.
    pub(crate) start: usize,
    pub(crate) len: usize,
}

/// At most this many notes are kept; later ones are counted in one line.
const MAX_NOTES: usize = 64;

pub(crate) fn push_note(notes: &mut Vec<String>, note: String) {
    if notes.len() < MAX_NOTES {
        notes.push(note);
    } else if notes.len() == MAX_NOTES {
        notes.push("further notes suppressed".to_string());
    }
}

enum Format {
    Pcap(pcap::PcapReader),
    PcapNg(pcapng::PcapNgReader),
}

/// Streams the frames of one capture file. See the module documentation.
pub struct CaptureReader {
    path: PathBuf,
    buf: StreamBuf,
    format: Format,
    compression: Compression,
    /// Number of the last frame (or Wireshark-numbered record) read.
    number: u64,
    done: bool,
    notes: Vec<String>,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Reads up to `out.len()` bytes, stopping early only at end of stream.
fn read_prefix(r: &mut dyn Read, out: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < out.len() {
        let free = out.get_mut(got..).unwrap_or(&mut []);
        match r.read(free) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "none, the input is empty".to_string();
    }
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl CaptureReader {
    /// Opens a file; the path "-" reads standard input.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        if path.as_os_str() == "-" {
            return Self::from_read(path.to_path_buf(), Box::new(std::io::stdin()));
        }
        let file = std::fs::File::open(path).map_err(|source| CaptureError::Io {
            path: path.to_path_buf(),
            offset: 0,
            source,
        })?;
        Self::from_read(path.to_path_buf(), Box::new(file))
    }

    /// Reads from any byte stream; `path` is only used in error messages.
    pub fn from_read(path: PathBuf, r: Box<dyn Read + Send>) -> Result<Self, CaptureError> {
        Self::with_capacity(path, r, stream::CHUNK)
    }

    /// Like [`Self::from_read`] with a chosen initial buffer size (tests and
    /// benchmarks; the buffer still grows for a larger record).
    pub fn with_capacity(
        path: PathBuf,
        mut r: Box<dyn Read + Send>,
        capacity: usize,
    ) -> Result<Self, CaptureError> {
        let mut prefix = [0u8; 4];
        let n = read_prefix(&mut r, &mut prefix).map_err(|source| CaptureError::Io {
            path: path.clone(),
            offset: 0,
            source,
        })?;
        let prefix = prefix.get(..n).unwrap_or(&[]).to_vec();
        let compression = if prefix.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if prefix.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        };
        let raw: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(prefix).chain(r));
        let src: Box<dyn Read + Send> = match compression {
            Compression::None => raw,
            Compression::Gzip => Box::new(gzip::GzipReader::new(raw)),
            Compression::Zstd => match zstd::stream::read::Decoder::new(raw) {
                Ok(d) => Box::new(SmallReads(d)),
                Err(source) => {
                    return Err(CaptureError::Io {
                        path,
                        offset: 0,
                        source,
                    });
                }
            },
        };
        let mut buf = StreamBuf::new(src, capacity);
        let mut notes = Vec::new();
        let fail = |f: Fail, path: &Path| into_error(f, path, compression);
        let have = buf.ensure(4).map_err(|e| fail(Fail::Io(e, 0), &path))?;
        let magic = buf.avail().first_chunk::<4>().copied();
        let format = match magic {
            Some(m) if pcap::is_pcap_magic(u32::from_le_bytes(m)) => Format::Pcap(
                pcap::PcapReader::open(&mut buf, &mut notes).map_err(|f| fail(f, &path))?,
            ),
            Some(m) if u32::from_le_bytes(m) == pcap_parser::pcapng::SHB_MAGIC => {
                Format::PcapNg(pcapng::PcapNgReader::new())
            }
            _ => {
                let shown = if have {
                    buf.avail().get(..4)
                } else {
                    Some(buf.avail())
                };
                return Err(CaptureError::NotACapture {
                    path,
                    magic: hex(shown.unwrap_or(&[])),
                });
            }
        };
        Ok(CaptureReader {
            path,
            buf,
            format,
            compression,
            number: 0,
            done: false,
            notes,
        })
    }

    /// The container format found inside any compression.
    pub fn format(&self) -> CaptureFormat {
        match self.format {
            Format::Pcap(_) => CaptureFormat::Pcap,
            Format::PcapNg(_) => CaptureFormat::PcapNg,
        }
    }

    /// The compression wrapped around the capture.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Link type of a pcap file (pcapng has one per interface).
    pub fn pcap_linktype(&self) -> Option<u32> {
        match &self.format {
            Format::Pcap(p) => Some(p.linktype()),
            Format::PcapNg(_) => None,
        }
    }

    /// Next frame, borrowed from the internal buffer (lending iterator).
    /// After an error has been returned once, every later call returns Ok(None).
    #[inline]
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        let r = match &mut self.format {
            Format::Pcap(p) => p.next(&mut self.buf, &mut self.number),
            Format::PcapNg(p) => p.next(&mut self.buf, &mut self.number, &mut self.notes),
        };
        match r {
            Ok(Some(f)) => Ok(Some(Frame {
                number: f.number,
                ts_ns: f.ts_ns,
                linktype: f.linktype,
                orig_len: f.orig_len,
                data: self.buf.slice(f.start, f.len),
            })),
            Ok(None) => {
                self.finish();
                Ok(None)
            }
            Err(f) => {
                self.finish();
                Err(into_error(f, &self.path, self.compression))
            }
        }
    }

    #[cold]
    fn finish(&mut self) {
        self.done = true;
        if let Format::PcapNg(p) = &mut self.format {
            p.finish(&mut self.notes);
        }
    }

    /// Bytes consumed so far from the (decompressed) capture stream.
    pub fn offset(&self) -> u64 {
        self.buf.offset()
    }

    /// Number of the last frame returned, counting the non-packet records
    /// Wireshark also numbers (pcapng custom and systemd journal blocks) and
    /// packets skipped for an undeclared interface. After the end of the
    /// file this equals Wireshark's frame count.
    pub fn frames_numbered(&self) -> u64 {
        self.number
    }

    /// Non-fatal notes gathered so far. Per-file summaries (counts of
    /// skipped block types) are added when the end or an error is reached.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

/// Attaches the path. Read errors of a decompressor are damage to the data:
/// an early end is `Truncated`, undecodable data `Corrupt`.
fn into_error(f: Fail, path: &Path, compression: Compression) -> CaptureError {
    let path = path.to_path_buf();
    match f {
        Fail::Truncated(offset, what) => CaptureError::Truncated { path, offset, what },
        Fail::Corrupt(offset, what) => CaptureError::Corrupt { path, offset, what },
        Fail::Io(source, offset) => {
            let name = match compression {
                Compression::None => {
                    return CaptureError::Io {
                        path,
                        offset,
                        source,
                    };
                }
                Compression::Gzip => "gzip",
                Compression::Zstd => "zstd",
            };
            match source.kind() {
                ErrorKind::UnexpectedEof => CaptureError::Truncated {
                    path,
                    offset,
                    what: format!("{name} stream ends early: {source}"),
                },
                ErrorKind::InvalidData | ErrorKind::InvalidInput | ErrorKind::Other => {
                    CaptureError::Corrupt {
                        path,
                        offset,
                        what: format!("{name} data cannot be decompressed: {source}"),
                    }
                }
                _ => CaptureError::Io {
                    path,
                    offset,
                    source,
                },
            }
        }
    }
}
