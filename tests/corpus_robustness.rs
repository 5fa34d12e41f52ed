//! Every file of the shared corpus goes through the whole decode pipeline
//! without a panic; damaged files give an error naming the file and a byte
//! offset after the frames before the damage were decoded; files that are
//! not captures are refused with a clear error.

mod common;

#[test]
fn every_public_file_decodes_or_fails_cleanly() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let public = corpus.join("public");
    let rows = common::read_tsv(&public.join("MANIFEST.tsv"));
    assert_eq!(rows.len(), 135, "the manifest lists 135 files");
    let mut problems = Vec::new();
    for row in &rows {
        let path = public.join(&row["path"]);
        let (records, stats, err) = common::messages(&path);
        let status = row["status"].as_str();
        let format = row["format"].as_str();
        let name = path.display().to_string();
        if format.starts_with("text") || format.starts_with("raw IKE") {
            match &err {
                Some(e) if e.contains("not a pcap or pcapng capture") && e.contains(&name) => {}
                other => problems.push(format!(
                    "{name}: expected a not-a-capture error, got {other:?}"
                )),
            }
            continue;
        }
        if status.contains("cut-short") || status.contains("corrupt") {
            match &err {
                Some(e) if e.contains(&name) && e.contains("byte offset") => {}
                other => problems.push(format!(
                    "{name} ({status}): expected an error with path and offset, got {other:?}"
                )),
            }
            if stats.frames == 0 {
                problems.push(format!("{name}: no frame decoded before the damage"));
            }
        } else if let Some(e) = err {
            problems.push(format!("{name} ({status}): unexpected error {e}"));
        }
        // tshark's frame count (the manifest's `packets`, first number).
        let want: u64 = row["packets"]
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if stats.frames > want {
            problems.push(format!(
                "{name}: decoded {} frames, tshark read {want}",
                stats.frames
            ));
        }
        let ike_packets: usize = row["ike_packets"].parse().unwrap_or(0);
        // tshark shows a message whose header length is below 28 as data;
        // ikediag lists it with the header-length-too-small anomaly, so a
        // user sees that something odd was sent to an IKE port.
        let listed = records
            .iter()
            .filter(|r| !r.anomalies.iter().any(|a| a == "header-length-too-small"))
            .count();
        if ike_packets == 0 && listed > 0 {
            problems.push(format!(
                "{name}: {listed} IKE messages where tshark shows none"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_lab_capture_decodes_without_error() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut n = 0;
    for e in std::fs::read_dir(corpus.join("lab"))
        .expect("lab dir")
        .flatten()
    {
        let path = e.path();
        if path.extension().and_then(|x| x.to_str()) != Some("pcap") {
            continue;
        }
        let (_records, stats, err) = common::messages(&path);
        assert!(err.is_none(), "{}: {err:?}", path.display());
        assert!(stats.frames > 0, "{}: no frames", path.display());
        n += 1;
    }
    assert!(n >= 49, "only {n} lab captures");
}
