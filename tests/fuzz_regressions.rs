//! Every input a fuzz target once crashed on (`fuzz/regressions/`) is
//! replayed through the library on each test run, so the bugs stay fixed:
//! the gzip reader must keep the frames decoded before a corruption, and
//! IPv6 packets cut inside an extension header must decode without reading
//! out of bounds (the etherparse bug that made us parse IP ourselves).

use std::path::{Path, PathBuf};

use ikediag::capture::{CaptureReader, Frame};
use ikediag::decode::{DecodeConfig, Decoder, Sink};

fn regressions(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// A reader that hands out at most `step` bytes per `read` call.
struct Trickle {
    inner: std::io::Cursor<Vec<u8>>,
    step: usize,
}

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step);
        self.inner.read(&mut buf[..n])
    }
}

/// Frame lengths, then the error's (offset, text) if one ended the read.
type Outcome = (Vec<usize>, Option<(u64, String)>);

fn read_all(mut r: CaptureReader) -> Outcome {
    let mut frames = Vec::new();
    let err = loop {
        match r.next_frame() {
            Ok(Some(f)) => frames.push(f.data.len()),
            Ok(None) => break None,
            Err(e) => break Some((e.offset(), e.to_string())),
        }
    };
    assert!(r.next_frame().unwrap().is_none(), "reader ended");
    (frames, err)
}

#[test]
fn capture_reader_keeps_frames_before_a_corrupt_gzip_stream() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions/capture_reader/gzip-corrupt-deflate-loses-frames.pcap.gz");
    let (frames, err) = read_all(CaptureReader::open(&f).expect("opens"));
    assert_eq!(frames.len(), 4);
    let (offset, text) = err.expect("the corruption is reported");
    assert_eq!(offset, 708, "{text}");
}

/// Fuzz finding 3: what a corrupt gzip stream decodes to before the error
/// must not depend on the buffer size or on how the source's reads are cut.
#[test]
fn capture_reader_outcome_does_not_depend_on_read_sizes() {
    let files = regressions("capture_reader");
    assert!(files.len() >= 3);
    for f in files {
        let data = std::fs::read(&f).unwrap();
        let whole = read_all(
            CaptureReader::from_read(
                PathBuf::from("x"),
                Box::new(std::io::Cursor::new(data.clone())),
            )
            .expect("opens"),
        );
        assert!(whole.1.is_some(), "{}: corruption reported", f.display());
        for step in [1, 3, 4, 7, 64, 4096] {
            let trickle = Trickle {
                inner: std::io::Cursor::new(data.clone()),
                step,
            };
            let r = CaptureReader::with_capacity(PathBuf::from("x"), Box::new(trickle), 64)
                .expect("opens");
            assert_eq!(
                read_all(r),
                whole,
                "{} read {step} bytes at a time",
                f.display()
            );
        }
    }
}

struct Count(u64);
impl Sink for Count {
    fn anomaly(&mut self, _frame: u64, _a: ikediag::decode::DecodeAnomaly) {
        self.0 += 1;
    }
}

/// The link types of the `decode_frame` fuzz target, selected by byte 0.
const LINKTYPES: [u32; 12] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 239, 276, 9];

#[test]
fn decode_frame_reproducers_decode() {
    let files = regressions("decode_frame");
    assert!(files.len() >= 4);
    for f in files {
        let data = std::fs::read(&f).unwrap();
        let (&sel, rest) = data.split_first().unwrap();
        let frame = Frame {
            number: 1,
            ts_ns: 0,
            linktype: LINKTYPES[usize::from(sel) % LINKTYPES.len()],
            orig_len: rest.len() as u32 + if sel & 0x80 != 0 { 100 } else { 0 },
            data: rest,
        };
        let mut d = Decoder::new(DecodeConfig::default());
        let mut sink = Count(0);
        d.frame(&frame, &mut sink);
        let stats = d.finish(&mut sink);
        assert_eq!(stats.frames, 1, "{}", f.display());
    }
}

/// `reveal` once let an identity grow with its payload (an IKEv1 subnet ID
/// of odd length was shown as its whole hex): every value is now bounded.
#[test]
fn reveal_reproducers_stay_bounded() {
    let files = regressions("reveal");
    assert!(!files.is_empty(), "fuzz/regressions/reveal is empty");
    for f in files {
        let data = std::fs::read(&f).unwrap();
        let _ = ikediag::session::reveal::certificate(4, &data);
        if let Ok(msg) = ikediag::ike::parse(&data)
            && let Some(d) = ikediag::session::reveal::details(&msg)
        {
            for id in &d.identities {
                assert!(id.value.chars().count() <= 257, "{}", f.display());
            }
        }
    }
}
