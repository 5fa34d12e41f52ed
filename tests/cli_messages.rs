//! `ikediag messages` end to end: the JSON fields, reassembled messages,
//! compressed input, standard input, and errors with partial results.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ikediag() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ikediag"))
}

fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

fn run_json(path: &Path) -> (Vec<serde_json::Value>, std::process::Output) {
    let out = ikediag()
        .args(["messages", "--format", "json"])
        .arg(path)
        .output()
        .expect("run ikediag");
    (json_lines(&out.stdout), out)
}

#[test]
fn json_fields_and_reassembly_on_mtu_blackhole() {
    let (rows, out) = run_json(&root().join("samples/mtu_blackhole.pcap"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rows.len(), 6);
    for key in [
        "frame",
        "frames",
        "time",
        "src",
        "dst",
        "sport",
        "dport",
        "transport",
        "version",
        "exchange_type",
        "exchange",
        "initiator",
        "response",
        "message_id",
        "ispi",
        "rspi",
        "payloads",
        "notify_types",
        "notify",
        "length",
        "ip_fragments",
        "ike_fragment",
        "anomalies",
    ] {
        assert!(rows[0].get(key).is_some(), "missing {key}");
    }
    let init = &rows[0];
    assert_eq!(init["frame"], 4);
    assert_eq!(init["exchange"], "IKE_SA_INIT");
    assert_eq!(init["initiator"], true);
    assert_eq!(init["response"], false);
    assert_eq!(init["ispi"], "81330cf1abd4c7f8");
    assert_eq!(init["rspi"], "0000000000000000");
    assert_eq!(init["transport"], "udp");
    assert_eq!(
        init["notify_types"],
        serde_json::json!([16388, 16389, 16431, 16406])
    );
    // IKE_AUTH: 3 IPv4 fragments, shown at the last one (as Wireshark does).
    let auth = &rows[2];
    assert_eq!(auth["exchange"], "IKE_AUTH");
    assert_eq!(auth["frame"], 8);
    assert_eq!(auth["frames"], serde_json::json!([6, 7, 8]));
    assert_eq!(auth["ip_fragments"], 3);
    assert_eq!(auth["transport"], "udp-natt");
    assert_eq!(auth["length"], 3664);
    assert_eq!(auth["message_id"], 1);
}

#[test]
fn ikev1_notify_in_clear() {
    let (rows, out) = run_json(&root().join("samples/ikev1_no_proposal.pcap"));
    assert!(out.status.success());
    let info = rows
        .iter()
        .find(|r| r["exchange"] == "INFORMATIONAL")
        .expect("informational");
    assert_eq!(info["version"], 1);
    assert_eq!(info["initiator"], serde_json::Value::Null);
    assert_eq!(info["notify"], serde_json::json!(["NO-PROPOSAL-CHOSEN"]));
    assert_eq!(info["notify_types"], serde_json::json!([14]));
}

#[test]
fn tunnel_ipv6_fragments_and_truncation_are_recorded() {
    let (rows, _) = run_json(&root().join("tests/fixtures/map_e_natt_ok.pcap"));
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["tunnel"]["kind"] == "ipv4-in-ipv6"));
    assert_eq!(rows[0]["tunnel"]["outer_src"], "2001:db8:a::10");

    let (rows, _) = run_json(&root().join("tests/fixtures/ipv6_cert_fragmented.pcap"));
    let frag: Vec<_> = rows
        .iter()
        .filter(|r| r["ip_fragments"].as_u64() > Some(1))
        .collect();
    assert_eq!(
        frag.len(),
        2,
        "IKE_AUTH request and response are IPv6-fragmented"
    );
    assert!(
        frag.iter()
            .all(|r| r["src"].as_str().unwrap().contains(':'))
    );

    let (rows, out) = run_json(&root().join("tests/fixtures/capture_truncated_snaplen.pcap"));
    assert!(out.status.success());
    let cut: Vec<_> = rows.iter().filter(|r| r["truncated"] == true).collect();
    assert!(cut.len() >= 10, "the snaplen cut the IKE_AUTH fragments");
    assert!(cut.iter().any(|r| r["ike_fragment"]["total"] == 5));
}

#[test]
fn gzip_zstd_and_stdin_give_the_same_messages() {
    let path = root().join("samples/ok_psk.pcap");
    let plain = std::fs::read(&path).unwrap();
    let (want, _) = run_json(&path);
    assert!(want.len() >= 4);

    let dir = std::env::temp_dir().join(format!("ikediag-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Two gzip members: MultiGzDecoder must read both.
    let half = plain.len() / 2;
    let mut gz = Vec::new();
    for part in [&plain[..half], &plain[half..]] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(part).unwrap();
        gz.extend(e.finish().unwrap());
    }
    let gz_path = dir.join("capture.bin"); // the name says nothing: magic bytes decide
    std::fs::write(&gz_path, &gz).unwrap();
    assert_eq!(run_json(&gz_path).0, want);

    let zst_path = dir.join("capture.zst");
    std::fs::write(&zst_path, zstd::encode_all(&plain[..], 3).unwrap()).unwrap();
    assert_eq!(run_json(&zst_path).0, want);

    let mut child = ikediag()
        .args(["messages", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&gz).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(json_lines(&out.stdout), want);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_input_keeps_partial_results_and_names_file_and_offset() {
    let path = root().join("samples/ok_psk.pcap");
    let (want, _) = run_json(&path);
    let data = std::fs::read(&path).unwrap();
    let dir = std::env::temp_dir().join(format!("ikediag-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &data[..data.len() - 10]).unwrap();
    let (rows, out) = run_json(&cut);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.pcap") && err.contains("byte offset"),
        "{err}"
    );
    assert!(!rows.is_empty() && rows.len() <= want.len());
    assert_eq!(rows[..], want[..rows.len()]);

    let junk = dir.join("notes.txt");
    std::fs::write(&junk, b"this is not a capture at all").unwrap();
    let out = ikediag()
        .args(["messages"])
        .arg(&junk)
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a pcap or pcapng capture"));
    // The good file after the bad one is still listed.
    assert!(String::from_utf8_lossy(&out.stdout).contains("IKE_SA_INIT"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn analyze_output_file_format_from_extension_redaction_and_colour() {
    let sample = root().join("samples/natt_udp4500_blocked.pcap");
    let dir = std::env::temp_dir().join(format!("ikediag-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (file, probe) in [
        ("r.md", "```mermaid"),
        ("r.json", "\"schema_version\": 1"),
        ("r.txt", "Verdict: FAILURE"),
    ] {
        let out = ikediag()
            .args(["analyze", "--redact", "-o"])
            .arg(dir.join(file))
            .arg(&sample)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "an Error finding gives exit status 1"
        );
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(text.contains(probe), "{file} lacks {probe}");
        assert!(
            !text.contains("100.64.7.10") && !text.contains("203.0.113.20"),
            "{file} leaks an address"
        );
    }
    // Piped: no colour; --color always: ANSI on the verdict; NO_COLOR is honoured by auto.
    let plain = ikediag().args(["analyze"]).arg(&sample).output().unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains('\u{1b}'));
    let coloured = ikediag()
        .args(["analyze", "--color", "always"])
        .arg(&sample)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&coloured.stdout).contains("\u{1b}[1;31mFAILURE"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn japanese_from_flag_and_locale() {
    let sample = root().join("samples/mtu_blackhole.pcap");
    let out = ikediag()
        .args(["analyze", "--lang", "ja"])
        .arg(&sample)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("判定: 失敗") && text.contains("対処方法"),
        "{text}"
    );
    let out = ikediag()
        .args(["analyze"])
        .arg(&sample)
        .env("LANG", "ja_JP.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("判定: 失敗"));
    let out = ikediag()
        .args(["analyze"])
        .arg(&sample)
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verdict: FAILURE"));
    let out = ikediag()
        .args(["rules", "mtu-blackhole", "--lang", "ja"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("## 対処方法"));
    let out = ikediag()
        .args(["analyze", "--lang", "ja", "--format", "html"])
        .arg(&sample)
        .output()
        .unwrap();
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(html.contains("<html lang=\"ja\">") && html.contains("判定: 失敗"));
}

/// `messages --decrypt` on every keyed lab capture: each message tshark
/// decrypted (with the same keys) is decrypted, and for IKEv2 the outer
/// payload plus our inner payloads equal tshark's payload list, RFC 7383
/// fragments on the fragment that completes the message as tshark shows
/// them.
#[test]
fn decrypt_shows_the_inner_payloads_tshark_shows() {
    let lab = root().join("../shared/corpus/lab");
    if !lab.is_dir() {
        eprintln!("SKIPPED: no lab corpus");
        return;
    }
    let mut compared = 0;
    for entry in std::fs::read_dir(&lab).unwrap() {
        let p = entry.unwrap().path();
        let v2 = p.with_extension("ikev2_decryption_table").is_file();
        let v1 = p.with_extension("ikev1_decryption_table").is_file();
        if p.extension().is_none_or(|e| e != "pcap") || !(v1 || v2) {
            continue;
        }
        let out = ikediag()
            .args(["messages", "--decrypt", "--format", "json"])
            .arg(&p)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", p.display());
        let recs = json_lines(&out.stdout);
        let by_frame: std::collections::HashMap<u64, &serde_json::Value> = recs
            .iter()
            .map(|r| (r["frame"].as_u64().unwrap(), r))
            .collect();
        for row in common::read_tsv(&p.with_extension("tshark.tsv")) {
            if row.get("decrypted").map(String::as_str) != Some("yes") {
                continue;
            }
            let frame: u64 = row["frame"].parse().unwrap();
            let r = by_frame
                .get(&frame)
                .unwrap_or_else(|| panic!("{} frame {frame}: no message", p.display()));
            let d = &r["decrypted"];
            assert!(
                d.is_object(),
                "{} frame {frame}: not decrypted: {r}",
                p.display()
            );
            if v2 {
                let mut ours: Vec<String> = r["payloads"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect();
                ours.extend(
                    d["payloads"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_string()),
                );
                let theirs: Vec<String> = row["payloads"].split(',').map(String::from).collect();
                // A fragment that does not complete its message: SKF only.
                if !(ours == ["SKF"] && theirs.first().is_some_and(|t| t == "SKF")) {
                    assert_eq!(ours, theirs, "{} frame {frame}", p.display());
                }
            }
            compared += 1;
        }
    }
    assert!(
        compared > 100,
        "only {compared} decrypted messages compared"
    );
    // Standard input cannot be read twice: refused with a message.
    let mut child = ikediag()
        .args(["messages", "--decrypt", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let cap = std::fs::read(lab.join("auth_failed.pcap")).unwrap();
    child.stdin.take().unwrap().write_all(&cap).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not standard input"));
}
