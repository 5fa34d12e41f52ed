//! A bounded, refillable read buffer over any byte stream.
//!
//! Contract: bytes are read from the source in large chunks into one buffer;
//! [`StreamBuf::ensure`] makes at least `n` unconsumed bytes contiguous,
//! moving only the unconsumed tail to the front when it refills, and growing
//! the buffer only as far as one record needs (callers cap `n`). Slices
//! returned by [`StreamBuf::avail`] and the absolute indices derived from
//! [`StreamBuf::pos`] stay valid until the next call to `ensure`.
//! [`StreamBuf::offset`] is the stream offset of the first unconsumed byte.

use std::io::{ErrorKind, Read};

/// Default buffer size: large reads amortise the system call and the
/// tail move, and 1 MiB still sits comfortably in L2/L3 cache.
pub(crate) const CHUNK: usize = 1 << 20;

pub(crate) struct StreamBuf {
    src: Box<dyn Read + Send>,
    /// Zero-initialised storage; `buf.len()` is the capacity in use.
    buf: Vec<u8>,
    /// Index of the first unconsumed byte.
    pos: usize,
    /// One past the last valid byte.
    end: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    eof: bool,
    /// A read error met by [`StreamBuf::prefetch`], reported by the next
    /// `ensure` that needs bytes beyond those read before it.
    pending: Option<std::io::Error>,
}

impl StreamBuf {
    pub(crate) fn new(src: Box<dyn Read + Send>, capacity: usize) -> Self {
        StreamBuf {
            src,
            buf: vec![0; capacity.max(64)],
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
            pending: None,
        }
    }

    /// The unconsumed bytes currently buffered.
    #[inline]
    pub(crate) fn avail(&self) -> &[u8] {
        self.buf.get(self.pos..self.end).unwrap_or(&[])
    }

    /// Index in the internal buffer of the first unconsumed byte.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// `len` bytes of the internal buffer starting at absolute index `start`
    /// (as derived from [`Self::pos`] after a successful `ensure`).
    #[inline]
    pub(crate) fn slice(&self, start: usize, len: usize) -> &[u8] {
        start
            .checked_add(len)
            .and_then(|end| self.buf.get(start..end))
            .unwrap_or(&[])
    }

    /// Stream offset of the first unconsumed byte.
    #[inline]
    pub(crate) fn offset(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    /// Marks `n` bytes as consumed (clamped to what is buffered).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.end);
    }

    /// Makes at least `n` unconsumed bytes available. Returns `Ok(false)` if
    /// the stream ended first (whatever was left stays available).
    #[inline]
    pub(crate) fn ensure(&mut self, n: usize) -> std::io::Result<bool> {
        if self.end - self.pos >= n {
            return Ok(true);
        }
        self.fill(n)
    }

    /// Best effort: buffers up to `n` bytes; a read error is kept for the
    /// `ensure` call that actually needs the missing bytes.
    pub(crate) fn prefetch(&mut self, n: usize) {
        if let Err(e) = self.ensure(n) {
            self.pending = Some(e);
            self.eof = true;
        }
    }

    #[cold]
    #[inline(never)]
    fn fill(&mut self, n: usize) -> std::io::Result<bool> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base = self.base.saturating_add(self.pos as u64);
            self.end -= self.pos;
            self.pos = 0;
        }
        if n > self.buf.len() {
            // Grow to the record's size, rounded up to a whole chunk.
            let want = n.div_ceil(CHUNK).saturating_mul(CHUNK);
            self.buf.resize(want, 0);
        }
        while self.end < n && !self.eof {
            let free = self.buf.get_mut(self.end..).unwrap_or(&mut []);
            match self.src.read(free) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end = (self.end + k).min(self.buf.len()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.end < n
            && let Some(e) = self.pending.take()
        {
            return Err(e);
        }
        Ok(self.end >= n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per call.
    struct Dribble {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }
    impl Read for Dribble {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let rest = self.data.get(self.at..).unwrap_or(&[]);
            let k = rest.len().min(out.len()).min(self.step);
            out[..k].copy_from_slice(&rest[..k]);
            self.at += k;
            Ok(k)
        }
    }

    #[test]
    fn refills_moves_tail_and_grows() {
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let src = Dribble {
            data: data.clone(),
            at: 0,
            step: 7,
        };
        let mut b = StreamBuf::new(Box::new(src), 64);
        assert!(b.ensure(10).unwrap());
        assert_eq!(&b.avail()[..10], &data[..10]);
        b.consume(10);
        assert_eq!(b.offset(), 10);
        // Needs more than the initial capacity: grows.
        assert!(b.ensure(200).unwrap());
        assert_eq!(&b.avail()[..200], &data[10..210]);
        b.consume(200);
        assert_eq!(b.offset(), 210);
        assert!(!b.ensure(10_000).unwrap());
        assert_eq!(b.avail(), &data[210..]);
    }
}
