//! gzip (RFC 1952) decompression that keeps every byte decoded before a
//! corruption.
//!
//! Contract: [`GzipReader`] reads all members of a gzip stream in order.
//! When the deflate data is corrupt, the bytes decoded before the damage are
//! returned first and the error comes on the next call, so the capture
//! reader can still hand out the frames before it. (`flate2`'s
//! `MultiGzDecoder` returns the error instead of those bytes; our
//! `capture_reader` fuzz target found that, see
//! `fuzz/regressions/capture_reader/`.) Trailing bytes that do not start a
//! new member end the stream, as `gzip -d` does.
//!
//! Determinism: on corrupt data the inflater may emit a different number of
//! bytes before it gives up depending on how its input and output were cut
//! (miniz_oxide decodes a distance reaching before the stream start as
//! zeros and notices later). So the decoder never sees the caller's buffer
//! or the source's read sizes: input is always refilled to a full
//! [`IN_CHUNK`] (or end of input) and output goes to an internal
//! [`OUT_CHUNK`] buffer that is drained before the next call. The same
//! bytes therefore give the same frames and the same error offset however
//! they are read (fuzz finding 3, `fuzz/regressions/capture_reader/`).

use std::io::{self, Read};

/// Longest member header accepted: the 10 fixed bytes, a 64 KiB extra
/// field, and 64 KiB for the file name and comment together.
const MAX_HEADER: usize = 10 + 2 + 65_535 + 65_536;

use flate2::{Crc, Decompress, FlushDecompress, Status};

const IN_CHUNK: usize = 64 * 1024;
const OUT_CHUNK: usize = 128 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Body,
    Trailer,
    Done,
}

/// Reads a (multi-member) gzip stream.
pub(crate) struct GzipReader<R> {
    src: R,
    input: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    state: State,
    inflate: Decompress,
    crc: Crc,
    members: u64,
    /// Decoded bytes not yet handed out: `outbuf[out_pos..out_end]`.
    outbuf: Vec<u8>,
    out_pos: usize,
    out_end: usize,
    /// An error to report once the bytes decoded before it were returned.
    pending: Option<io::Error>,
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn cut_short(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what.to_string())
}

impl<R: Read> GzipReader<R> {
    pub(crate) fn new(src: R) -> Self {
        GzipReader {
            src,
            input: vec![0; IN_CHUNK],
            pos: 0,
            end: 0,
            eof: false,
            state: State::Header,
            inflate: Decompress::new(false),
            crc: Crc::new(),
            members: 0,
            outbuf: vec![0; OUT_CHUNK],
            out_pos: 0,
            out_end: 0,
            pending: None,
        }
    }

    /// Makes at least `n` input bytes available (fewer at end of input).
    fn need(&mut self, n: usize) -> io::Result<bool> {
        while self.end - self.pos < n && !self.eof {
            if self.pos > 0 {
                self.input.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
            }
            if self.end == self.input.len() {
                self.input.resize(self.input.len() * 2, 0);
            }
            match self.src.read(&mut self.input[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end = (self.end + k).min(self.input.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.pos >= n)
    }

    fn byte(&self, off: usize) -> u8 {
        self.input.get(self.pos + off).copied().unwrap_or(0)
    }

    /// Parses a member header (RFC 1952 section 2.3). Returns false at the
    /// end of the stream (or at trailing bytes after the last member).
    fn header(&mut self) -> io::Result<bool> {
        let full = self.need(10)?;
        if self.members > 0 && (!full || self.byte(0) != 0x1f || self.byte(1) != 0x8b) {
            return Ok(false);
        }
        if !full {
            return Err(cut_short("gzip header cut short"));
        }
        if self.byte(0) != 0x1f || self.byte(1) != 0x8b {
            return Err(corrupt("not a gzip header"));
        }
        if self.byte(2) != 8 {
            return Err(corrupt("gzip compression method is not deflate"));
        }
        let flags = self.byte(3);
        let mut off = 10usize;
        if flags & 0x04 != 0 {
            if !self.need(off + 2)? {
                return Err(cut_short("gzip extra field cut short"));
            }
            off += 2 + usize::from(u16::from_le_bytes([self.byte(off), self.byte(off + 1)]));
        }
        for bit in [0x08u8, 0x10] {
            if flags & bit != 0 {
                // A zero-terminated file name or comment.
                loop {
                    // Bounded: an unterminated name must not make the
                    // input buffer grow with the whole file.
                    if off > MAX_HEADER {
                        return Err(corrupt("gzip file name or comment longer than 64 KiB"));
                    }
                    if !self.need(off + 1)? {
                        return Err(cut_short("gzip header cut short"));
                    }
                    off += 1;
                    if self.byte(off - 1) == 0 {
                        break;
                    }
                }
            }
        }
        if flags & 0x02 != 0 {
            off += 2;
        }
        if !self.need(off)? {
            return Err(cut_short("gzip header cut short"));
        }
        self.pos += off;
        self.inflate.reset(false);
        self.crc.reset();
        self.members += 1;
        Ok(true)
    }

    fn trailer(&mut self) -> io::Result<()> {
        if !self.need(8)? {
            return Err(cut_short("gzip trailer cut short"));
        }
        let w = |o: usize| {
            u32::from_le_bytes([
                self.byte(o),
                self.byte(o + 1),
                self.byte(o + 2),
                self.byte(o + 3),
            ])
        };
        let (crc, size) = (w(0), w(4));
        self.pos += 8;
        if crc != self.crc.sum() || size != self.crc.amount() {
            return Err(corrupt("gzip CRC or length mismatch"));
        }
        Ok(())
    }
}

impl<R: Read> Read for GzipReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.out_pos == self.out_end {
            if let Some(e) = self.pending.take() {
                self.state = State::Done;
                return Err(e);
            }
            self.out_pos = 0;
            self.out_end = self.fill()?;
        }
        let n = out.len().min(self.out_end - self.out_pos);
        out[..n].copy_from_slice(&self.outbuf[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

impl<R: Read> GzipReader<R> {
    /// Decodes the next bytes into `outbuf` (from 0); 0 at the end.
    fn fill(&mut self) -> io::Result<usize> {
        let mut out = std::mem::take(&mut self.outbuf);
        let r = self.fill_into(&mut out);
        self.outbuf = out;
        r
    }

    fn fill_into(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.state {
                State::Done => return Ok(0),
                State::Header => {
                    self.state = if self.header()? {
                        State::Body
                    } else {
                        State::Done
                    };
                }
                State::Trailer => {
                    self.trailer()?;
                    self.state = State::Header;
                }
                State::Body => {
                    self.need(IN_CHUNK)?;
                    let input_left = self.end - self.pos;
                    let flush = if input_left == 0 {
                        FlushDecompress::Finish
                    } else {
                        FlushDecompress::None
                    };
                    let before_in = self.inflate.total_in();
                    let before_out = self.inflate.total_out();
                    let input = self.input.get(self.pos..self.end).unwrap_or(&[]);
                    let res = self.inflate.decompress(input, out, flush);
                    let consumed = (self.inflate.total_in() - before_in) as usize;
                    let produced = (self.inflate.total_out() - before_out) as usize;
                    self.pos = (self.pos + consumed).min(self.end);
                    self.crc.update(out.get(..produced).unwrap_or(&[]));
                    match res {
                        Err(_) => {
                            let e = corrupt("corrupt deflate data");
                            if produced > 0 {
                                self.pending = Some(e);
                                return Ok(produced);
                            }
                            self.state = State::Done;
                            return Err(e);
                        }
                        Ok(Status::StreamEnd) => {
                            self.state = State::Trailer;
                            if produced > 0 {
                                return Ok(produced);
                            }
                        }
                        Ok(Status::Ok | Status::BufError) => {
                            if produced > 0 {
                                return Ok(produced);
                            }
                            if input_left == 0 && self.eof {
                                self.state = State::Done;
                                return Err(cut_short("gzip data cut short"));
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(data: Vec<u8>) -> (Vec<u8>, Option<io::Error>) {
        let mut r = GzipReader::new(std::io::Cursor::new(data));
        let mut out = Vec::new();
        let mut buf = [0u8; 777];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    fn noise(n: u32) -> Vec<u8> {
        (0..n)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect()
    }

    /// A header whose file name never ends is an error after 64 KiB, not a
    /// buffer the size of the file; a long but terminated name still reads.
    #[test]
    fn unterminated_file_name_is_bounded() {
        let mut h = vec![0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3];
        h.extend(std::iter::repeat_n(b'a', 1 << 20));
        let (out, err) = read_all(h);
        assert!(out.is_empty());
        let e = err.expect("an error");
        assert!(e.to_string().contains("longer than 64 KiB"), "{e}");

        let body = gz(b"payload");
        let mut named = body[..10].to_vec();
        named[3] |= 0x08;
        named.extend(std::iter::repeat_n(b'n', 60_000));
        named.push(0);
        named.extend_from_slice(&body[10..]);
        let (out, err) = read_all(named);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out, b"payload");
    }

    #[test]
    fn members_and_trailing_garbage() {
        let a: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let mut two = gz(&a[..20_000]);
        two.extend(gz(&a[20_000..]));
        two.extend_from_slice(b"garbage");
        let (out, err) = read_all(two);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out, a);
    }

    #[test]
    fn corruption_keeps_what_came_before() {
        let a = noise(200_000);
        let mut z = gz(&a);
        let mid = z.len() / 2;
        for b in &mut z[mid..mid + 64] {
            *b ^= 0x5a;
        }
        let (out, err) = read_all(z.clone());
        // Deflate may decode damaged bits into wrong bytes before it notices
        // (then the CRC says so), but everything before the damage is kept.
        assert!(err.is_some());
        let matching = out.iter().zip(&a).take_while(|(x, y)| x == y).count();
        // What the undamaged first half of the stream decodes to, alone.
        let (before, _) = read_all(gz(&a)[..mid].to_vec());
        assert!(
            matching + 1024 >= before.len(),
            "kept {matching} good bytes, {} decode before the damage",
            before.len()
        );
    }

    #[test]
    fn cut_anywhere_gives_a_prefix_and_an_error() {
        let a = noise(60_000);
        let z = gz(&a);
        for cut in (0..z.len()).step_by(331) {
            let (out, err) = read_all(z[..cut].to_vec());
            assert!(out[..] == a[..out.len()], "cut at {cut}: not a prefix");
            assert!(err.is_some(), "cut at {cut}");
        }
    }
}
