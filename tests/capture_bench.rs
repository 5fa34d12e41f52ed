//! Throughput of `CaptureReader` over a large capture (ignored by default).
//!
//! ```text
//! cargo test --release --test capture_bench -- --ignored --nocapture
//! ```
//!
//! The capture is `$IKEDIAG_BENCH_PCAP` or `/work/bench/bench-1g.pcap`; the
//! test is skipped (with a message) when it, or its `.truth.json`, is absent.
//! `$IKEDIAG_BENCH_BUF` sets the initial buffer size in bytes.

use std::path::PathBuf;
use std::time::Instant;

use ikediag::capture::CaptureReader;

#[test]
#[ignore = "needs a large capture; run with --ignored --release"]
fn iterate_all_frames_of_a_large_capture() {
    let path = PathBuf::from(
        std::env::var("IKEDIAG_BENCH_PCAP").unwrap_or_else(|_| "/work/bench/bench-1g.pcap".into()),
    );
    let truth = PathBuf::from(format!("{}.truth.json", path.display()));
    if !path.is_file() || !truth.is_file() {
        println!("skipped: {} or its .truth.json is missing", path.display());
        return;
    }
    let capacity: usize = std::env::var("IKEDIAG_BENCH_BUF")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1 << 20);
    let truth = std::fs::read_to_string(&truth).unwrap();
    let want_packets: Option<u64> = truth
        .split("\"packets\":")
        .nth(1)
        .and_then(|s| s.split([',', '}']).next())
        .and_then(|s| s.trim().parse().ok());

    for round in 0..3 {
        let start = Instant::now();
        let file = std::fs::File::open(&path).unwrap();
        let mut r = CaptureReader::with_capacity(path.clone(), Box::new(file), capacity).unwrap();
        let (mut frames, mut bytes, mut checksum) = (0u64, 0u64, 0u64);
        while let Some(f) = r.next_frame().unwrap() {
            frames += 1;
            bytes += f.data.len() as u64;
            checksum = checksum.wrapping_add(f.ts_ns as u64 ^ u64::from(f.orig_len));
        }
        let secs = start.elapsed().as_secs_f64();
        let file_bytes = r.offset();
        println!(
            "round {round}: {frames} frames, {bytes} data bytes, {file_bytes} file bytes in {secs:.3} s: {:.2} Mframes/s, {:.2} GB/s (buffer {capacity} B, checksum {checksum:x})",
            frames as f64 / secs / 1e6,
            file_bytes as f64 / secs / 1e9,
        );
        if let Some(want) = want_packets {
            assert_eq!(frames, want);
        }
    }
}
