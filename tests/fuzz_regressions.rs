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

#[test]
fn capture_reader_keeps_frames_before_a_corrupt_gzip_stream() {
    let files = regressions("capture_reader");
    assert!(!files.is_empty());
    for f in files {
        let mut r = CaptureReader::open(&f).expect("opens");
        let mut frames = 0;
        let err = loop {
            match r.next_frame() {
                Ok(Some(_)) => frames += 1,
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        assert_eq!(frames, 4, "{}", f.display());
        let e = err.expect("the corruption is reported");
        assert_eq!(e.offset(), 708, "{e}");
        assert!(r.next_frame().unwrap().is_none());
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
