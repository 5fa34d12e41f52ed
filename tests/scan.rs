//! `ikediag scan` and `ikediag merge` over the shared corpus: one entry per
//! file, unreadable files named with their reason, the fleet summary's
//! verdict counts equal to the lab labels, shards merged equal to one scan,
//! and symlink loops walked once.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn ikediag() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ikediag"))
}

fn ndjson(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("NDJSON line"))
        .collect()
}

fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            n += count_files(&p);
        } else {
            n += 1;
        }
    }
    n
}

#[test]
fn whole_corpus_one_entry_per_file_and_damage_named() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let out = ikediag()
        .args(["scan", "-j", "2", "--format", "ndjson"])
        .arg(&corpus)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "damaged files in the corpus give exit status 2"
    );
    let lines = ndjson(&out.stdout);
    assert_eq!(lines.len(), count_files(&corpus), "one entry per file");
    let unreadable: Vec<_> = lines.iter().filter(|l| l["kind"] == "unreadable").collect();
    assert_eq!(unreadable.len(), 3, "the three damaged public captures");
    for u in &unreadable {
        let err = u["error"].as_str().unwrap();
        assert!(err.contains("byte offset"), "{err}");
        assert!(
            u["outcome"].is_string(),
            "the frames before the damage are still analysed"
        );
    }
    for s in lines.iter().filter(|l| l["kind"] == "skipped") {
        assert!(
            s["error"].as_str().unwrap().starts_with("not a capture") || s["error"] == "empty file"
        );
    }
}

#[test]
fn lab_fleet_summary_matches_the_labels() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let lab = corpus.join("lab");
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    for row in common::read_tsv(&lab.join("INDEX.tsv")) {
        *want.entry(row["outcome"].clone()).or_default() += 1;
    }
    let out = ikediag()
        .args(["scan", "--format", "ndjson"])
        .arg(&lab)
        .output()
        .unwrap();
    let ndj = std::env::temp_dir().join(format!("ikediag-lab-{}.ndjson", std::process::id()));
    std::fs::write(&ndj, &out.stdout).unwrap();
    let merged = ikediag()
        .args(["merge", "--format", "json"])
        .arg(&ndj)
        .output()
        .unwrap();
    let fleet: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    let got: BTreeMap<String, usize> = fleet["by_outcome"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap() as usize))
        .collect();
    assert_eq!(got, want, "captures by verdict vs the lab labels");
    assert_eq!(fleet["captures"], 49);
    let _ = std::fs::remove_file(&ndj);
}

#[test]
fn shards_merge_to_the_same_summary() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let lab = corpus.join("lab");
    let dir = std::env::temp_dir().join(format!("ikediag-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Four workers, as a Kubernetes Indexed Job or a Slurm array would run them.
    let mut children = Vec::new();
    for k in 1..=4 {
        let out = std::fs::File::create(dir.join(format!("part{k}.ndjson"))).unwrap();
        children.push(
            ikediag()
                .args([
                    "scan",
                    "-j",
                    "1",
                    "--format",
                    "ndjson",
                    "--shard",
                    &format!("{k}/4"),
                ])
                .arg(&lab)
                .stdout(out)
                .spawn()
                .unwrap(),
        );
    }
    for mut c in children {
        c.wait().unwrap();
    }
    let mut merge = ikediag();
    merge.args(["merge", "--format", "json"]);
    for k in 1..=4 {
        merge.arg(dir.join(format!("part{k}.ndjson")));
    }
    let sharded = merge.output().unwrap();
    let whole = ikediag()
        .args(["scan", "--format", "ndjson"])
        .arg(&lab)
        .output()
        .unwrap();
    std::fs::write(dir.join("whole.ndjson"), &whole.stdout).unwrap();
    let single = ikediag()
        .args(["merge", "--format", "json"])
        .arg(dir.join("whole.ndjson"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&sharded.stdout),
        String::from_utf8_lossy(&single.stdout)
    );
    // The terminal summary of the unsharded scan ends with exactly the
    // merged one (the scan lists the files first).
    let mut merge_text = ikediag();
    merge_text.arg("merge");
    for k in 1..=4 {
        merge_text.arg(dir.join(format!("part{k}.ndjson")));
    }
    let merged_text = String::from_utf8(merge_text.output().unwrap().stdout).unwrap();
    let scan_text = ikediag().arg("scan").arg(&lab).output().unwrap();
    let scan_text = String::from_utf8(scan_text.stdout).unwrap();
    assert!(merged_text.starts_with("Fleet summary: "), "{merged_text}");
    assert!(
        scan_text.ends_with(&merged_text),
        "scan:\n{scan_text}\nmerge:\n{merged_text}"
    );
    let parts: usize = (1..=4)
        .map(|k| ndjson(&std::fs::read(dir.join(format!("part{k}.ndjson"))).unwrap()).len())
        .sum();
    assert_eq!(parts, count_files(&lab), "every file in exactly one shard");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn symlink_loops_and_odd_files_do_not_stop_a_batch() {
    let dir = std::env::temp_dir().join(format!("ikediag-walk-{}", std::process::id()));
    let sub = dir.join(".hidden");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/ok_psk.pcap"),
        sub.join("a.cap"),
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), b"hello").unwrap();
    std::fs::write(dir.join("empty"), b"").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&dir, sub.join("loop")).unwrap();
    let out = ikediag()
        .args(["scan", "--format", "ndjson"])
        .arg(&dir)
        .output()
        .unwrap();
    let lines = ndjson(&out.stdout);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines.iter().any(
        |l| l["path"].as_str().unwrap().ends_with(".hidden/a.cap") && l["outcome"] == "success"
    ));
    assert_eq!(out.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}
