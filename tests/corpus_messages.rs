//! `ikediag messages` against tshark's reference dissections: every IKE
//! message tshark shows in `../shared/corpus/public/expected/**.tsv` and in
//! `../shared/corpus/{lab,lab-both}/*.tshark.tsv` must be listed by ikediag
//! at the same frame with the same exchange type, flags, message ID, SPIs
//! and (where tshark did not decrypt) the same notify types, and ikediag
//! must list no IKE message that tshark does not.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use ikediag::messages::MessageRecord;

/// Files where ikediag deliberately differs from tshark, with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[(
    "tcpdump/isakmp-delete-segfault.pcap",
    "major version 11: tshark stops after the version field, ikediag still reports the \
     header's exchange type, flags and message ID, with an unknown-major-version anomaly",
)];

fn parse_hex_u32(s: &str) -> Option<u32> {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

fn last(s: &str) -> &str {
    s.rsplit(',').next().unwrap_or(s)
}

/// Compares one expected row with our record; returns the differences.
fn compare(exp: &BTreeMap<String, String>, ours: &MessageRecord, public: bool) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut check = |what: &str, a: String, b: String| {
        if a != b {
            diffs.push(format!("{what}: tshark {a:?}, ikediag {b:?}"));
        }
    };
    let g = |k: &str| exp.get(k).map(String::as_str).unwrap_or("");
    if public {
        check(
            "exchange_type",
            g("exchange_type").to_string(),
            ours.exchange_type
                .map(|x| x.to_string())
                .unwrap_or_default(),
        );
        if g("ike_version").starts_with('2') {
            check(
                "flag_i",
                g("flag_i").to_string(),
                ours.initiator
                    .map(|b| u8::from(b).to_string())
                    .unwrap_or_default(),
            );
            check(
                "flag_r",
                g("flag_r").to_string(),
                ours.response
                    .map(|b| u8::from(b).to_string())
                    .unwrap_or_default(),
            );
        }
        check(
            "message_id",
            format!("{:?}", parse_hex_u32(g("message_id"))),
            format!("{:?}", ours.message_id),
        );
        check(
            "ispi",
            g("ispi").to_string(),
            ours.ispi.clone().unwrap_or_default(),
        );
        check(
            "rspi",
            g("rspi").to_string(),
            ours.rspi.clone().unwrap_or_default(),
        );
        let nt: Vec<String> = ours.notify_types.iter().map(u16::to_string).collect();
        check("notify_types", g("notify_types").to_string(), nt.join(","));
        check("src", last(g("src")).to_string(), ours.src.clone());
        check(
            "sport",
            last(g("sport")).to_string(),
            ours.sport.to_string(),
        );
    } else {
        let exch = match g("exchange") {
            "IKE_SA_INIT" => "34",
            "IKE_AUTH" => "35",
            "CREATE_CHILD_SA" => "36",
            "INFORMATIONAL" => "37",
            "Main Mode" => "2",
            "Aggressive" => "4",
            "Informational" => "5",
            "Transaction (Config Mode)" => "6",
            "Quick Mode" => "32",
            other => other,
        };
        check(
            "exchange_type",
            exch.to_string(),
            ours.exchange_type
                .map(|x| x.to_string())
                .unwrap_or_default(),
        );
        let dir = g("direction");
        if g("ike_ver") == "2" {
            check(
                "flag_i",
                dir.ends_with("from initiator").to_string(),
                format!("{}", ours.initiator == Some(true)),
            );
            check(
                "flag_r",
                dir.starts_with("response").to_string(),
                format!("{}", ours.response == Some(true)),
            );
        }
        check(
            "message_id",
            g("msg_id").to_string(),
            ours.message_id.map(|m| m.to_string()).unwrap_or_default(),
        );
        check(
            "ispi",
            g("spi_i").to_string(),
            ours.ispi.clone().unwrap_or_default(),
        );
        check(
            "rspi",
            g("spi_r").to_string(),
            ours.rspi.clone().unwrap_or_default(),
        );
        if g("decrypted").is_empty() {
            // The lab TSVs spell IKEv1 notifies with underscores, tshark's
            // own dissection (and ikediag) with RFC 2408's hyphens.
            check(
                "notify",
                g("notifies").to_string(),
                ours.notify.join(",").replace('-', "_"),
            );
        }
        let frags = if g("ip_frags").is_empty() {
            0
        } else {
            g("ip_frags").parse().unwrap_or(0)
        };
        check(
            "ip_fragments",
            frags.to_string(),
            ours.ip_fragments.to_string(),
        );
    }
    diffs
}

fn compare_file(
    capture: &Path,
    expected_rows: Vec<BTreeMap<String, String>>,
    public: bool,
    problems: &mut Vec<String>,
) -> usize {
    let (records, _stats, _err) = common::messages(capture);
    let mut ours: BTreeMap<u64, &MessageRecord> = BTreeMap::new();
    for r in &records {
        ours.insert(r.frame, r);
    }
    let mut expected_frames = std::collections::BTreeSet::new();
    let name = capture.display().to_string();
    let mut compared = 0;
    for row in &expected_rows {
        if public && !row.get("icmp_type").map(|s| s.is_empty()).unwrap_or(true) {
            continue; // IKE quoted inside an ICMP error: an ICMP event for us.
        }
        if !public && row.get("kind").map(String::as_str) != Some("IKE") {
            continue;
        }
        let Some(frame) = row.get("frame").and_then(|f| f.parse::<u64>().ok()) else {
            continue;
        };
        expected_frames.insert(frame);
        compared += 1;
        match ours.get(&frame) {
            None => problems.push(format!(
                "{name} frame {frame}: tshark shows IKE, ikediag does not"
            )),
            Some(r) => {
                for d in compare(row, r, public) {
                    problems.push(format!("{name} frame {frame}: {d}"));
                }
            }
        }
    }
    for f in ours.keys() {
        if !expected_frames.contains(f) {
            problems.push(format!(
                "{name} frame {f}: ikediag shows IKE, tshark does not"
            ));
        }
    }
    compared
}

fn known(path: &Path) -> bool {
    let s = path.to_string_lossy();
    KNOWN_DIFFERENCES.iter().any(|(f, _)| s.ends_with(f))
}

#[test]
fn public_corpus_matches_tshark() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let expected_dir = corpus.join("public/expected");
    let mut problems = Vec::new();
    let mut files = 0;
    let mut rows = 0;
    for source in std::fs::read_dir(&expected_dir)
        .expect("expected dir")
        .flatten()
    {
        for tsv in std::fs::read_dir(source.path())
            .expect("source dir")
            .flatten()
        {
            let tsv = tsv.path();
            let fname = tsv
                .file_name()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches(".tsv")
                .to_string();
            let capture = corpus.join("public").join(source.file_name()).join(&fname);
            if known(&capture) {
                continue;
            }
            files += 1;
            rows += compare_file(&capture, common::read_tsv(&tsv), true, &mut problems);
        }
    }
    eprintln!(
        "compared {rows} IKE messages in {files} public captures; {} differences",
        problems.len()
    );
    assert!(files >= 70, "only {files} reference dissections found");
    assert!(
        problems.is_empty(),
        "differences from tshark:\n{}",
        problems.join("\n")
    );
}

/// The public captures without a reference dissection are those where
/// tshark finds no IKE (MANIFEST.tsv: `ike_packets` 0): ikediag must list
/// none either, so that nothing else on the IKE ports (DNS, NTP, fuzzed
/// bytes) is taken for IKE. Together with `public_corpus_matches_tshark`
/// this makes the frames ikediag lists a subset of tshark's in every
/// public capture.
#[test]
fn public_captures_without_ike_list_none() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let public = corpus.join("public");
    let mut problems = Vec::new();
    let mut files = 0;
    for row in common::read_tsv(&public.join("MANIFEST.tsv")) {
        let g = |k: &str| row.get(k).map(String::as_str).unwrap_or("");
        if g("expected") != "-" || !g("format").starts_with("pcap") {
            continue;
        }
        assert_eq!(g("ike_packets"), "0", "{}", g("path"));
        files += 1;
        let (records, _, _) = common::messages(&public.join(g("path")));
        for r in records {
            problems.push(format!(
                "{} frame {}: ikediag shows IKE ({}:{} -> {}:{}), tshark does not",
                g("path"),
                r.frame,
                r.src,
                r.sport,
                r.dst,
                r.dport
            ));
        }
    }
    eprintln!("{files} public captures where tshark finds no IKE");
    assert!(files >= 55, "only {files} captures without IKE found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn lab_corpus_matches_tshark() {
    lab_dir_matches_tshark("lab", 45);
}

/// lab-both: pcapng captures from both ends of each run, dissected by the
/// same tool into the same TSV columns as `lab/`.
#[test]
fn lab_both_corpus_matches_tshark() {
    lab_dir_matches_tshark("lab-both", 60);
}

/// Compares every `DIR/*.tshark.tsv` with the capture beside it (`.pcap`
/// or `.pcapng`); at least `min_files` must be found.
fn lab_dir_matches_tshark(dir: &str, min_files: usize) {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let lab = corpus.join(dir);
    let mut problems = Vec::new();
    let mut files = 0;
    let mut rows = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&lab)
        .expect("lab dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for tsv in entries {
        let n = tsv.to_string_lossy().to_string();
        let Some(stem) = n.strip_suffix(".tshark.tsv") else {
            continue;
        };
        let Some(capture) = ["pcap", "pcapng"]
            .iter()
            .map(|ext| Path::new(&format!("{stem}.{ext}")).to_path_buf())
            .find(|p| p.is_file())
        else {
            problems.push(format!("{n}: no capture beside it"));
            continue;
        };
        if known(&capture) {
            continue;
        }
        files += 1;
        rows += compare_file(&capture, common::read_tsv(&tsv), false, &mut problems);
    }
    eprintln!(
        "compared {rows} IKE messages in {files} {dir} captures; {} differences",
        problems.len()
    );
    assert!(files >= min_files, "only {files} {dir} dissections found");
    assert!(
        problems.is_empty(),
        "differences from tshark:\n{}",
        problems.join("\n")
    );
}
