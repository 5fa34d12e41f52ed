//! The synthetic captures of `../shared/tools/make-bench-capture.py` are
//! diagnosed at scale: `stats.unanswered_requests` and
//! `stats.incomplete_fragment_sets` equal the truth file's, and every IKE
//! message is found. (Timings live in `bench/run.sh`, not here.)

mod common;

use std::path::Path;
use std::process::Command;

fn truth_u64(t: &serde_json::Value, k: &str) -> u64 {
    t[k].as_u64().unwrap_or_else(|| panic!("truth has no {k}"))
}

fn check(format: &str, seed: u32) {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let tool = corpus.join("../tools/make-bench-capture.py");
    let dir = std::env::temp_dir().join(format!(
        "ikediag-truth-{}-{format}-{seed}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("bench.{format}"));
    let status = Command::new("python3")
        .arg(&tool)
        .args([
            "--size-mb",
            "6",
            "--format",
            format,
            "--seed",
            &seed.to_string(),
            "--out",
        ])
        .arg(&out)
        .output();
    let Ok(st) = status else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must have python3 (see .ci/run)"
        );
        common::skip_note("SKIPPED: python3 not available; bench truth not checked");
        return;
    };
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}.truth.json", out.display())).unwrap(),
    )
    .unwrap();
    let r = common::report(Path::new(&out));
    assert_eq!(r.stats.ike_messages, truth_u64(&truth, "ike_messages"));
    assert_eq!(
        r.stats.unanswered_requests as u64,
        truth_u64(&truth, "unanswered_requests")
    );
    assert_eq!(
        r.stats.incomplete_fragment_sets,
        truth_u64(&truth, "incomplete_fragment_sets")
    );
    assert_eq!(r.stats.esp_packets, truth_u64(&truth, "esp_packets"));
    assert_eq!(r.capture.frames, truth_u64(&truth, "packets"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pcap_truth() {
    check("pcap", 3);
}

#[test]
fn pcapng_truth() {
    check("pcapng", 4);
}
