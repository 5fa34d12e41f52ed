//! IKEv2 SK decryption against the lab captures and the key tables made
//! beside them (from the daemons' debug logs), and against the tshark view
//! that was made with the same keys.
#![cfg(feature = "decrypt")]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ikediag::capture::CaptureReader;
use ikediag::decode::{DecodeConfig, IkeDatagram, Sink, decode_capture};
use ikediag::decrypt::{DecryptError, Decrypted, KeyStore, decrypt, decrypt_with};
use ikediag::ike::{self, IkeAnomaly, PayloadDetail};

const IKE_AUTH: u8 = 35;
const INFORMATIONAL: u8 = 37;

/// Raw bytes of every IKE message, with the frame that completed it.
#[derive(Default)]
struct RawIke(Vec<(u64, Vec<u8>)>);

impl Sink for RawIke {
    fn ike(&mut self, m: &IkeDatagram<'_>) {
        self.0.push((m.seen.frame, m.raw.to_vec()));
    }
}

fn raw_messages(path: &Path) -> Vec<(u64, Vec<u8>)> {
    let mut reader = CaptureReader::open(path).expect("open capture");
    let mut sink = RawIke::default();
    let (_, err) = decode_capture(&mut reader, DecodeConfig::default(), &mut sink);
    assert!(err.is_none(), "{}: {err:?}", path.display());
    sink.0
}

fn lab() -> Option<PathBuf> {
    let lab = common::corpus()?.join("lab");
    if lab.is_dir() {
        Some(lab)
    } else {
        common::skip_note(&format!(
            "SKIPPED: {} not found; decryption test not run",
            lab.display()
        ));
        None
    }
}

/// (stem, pcap, ikev2 table) of every lab capture with an IKEv2 key table.
fn keyed_captures(lab: &Path) -> Vec<(String, PathBuf, PathBuf)> {
    let mut v: Vec<_> = std::fs::read_dir(lab)
        .expect("read lab")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let name = p.file_name()?.to_str()?.to_string();
            let stem = name.strip_suffix(".ikev2_decryption_table")?.to_string();
            let pcap = lab.join(format!("{stem}.pcap"));
            pcap.is_file().then_some((stem, pcap, p))
        })
        .collect();
    v.sort();
    v
}

fn store(table: &Path) -> KeyStore {
    let mut ks = KeyStore::new();
    let n = ks.load_file(table).expect("load key table");
    assert!(n > 0, "{}: no keys", table.display());
    assert!(ks.errors().is_empty(), "{:?}", ks.errors());
    ks
}

/// What a message is, for decryption purposes.
enum Kind {
    NotSk,
    Skf,
    Sk { truncated: bool },
}

fn kind(raw: &[u8]) -> Kind {
    let Ok(m) = ike::parse(raw) else {
        return Kind::NotSk;
    };
    if m.version() != 2 {
        return Kind::NotSk;
    }
    let truncated = m
        .anomalies
        .iter()
        .any(|a| matches!(a, IkeAnomaly::MessageTruncated { .. }));
    let skf = m
        .payloads
        .iter()
        .any(|p| matches!(p.detail, PayloadDetail::EncryptedFragment(_)));
    if skf && truncated {
        // Truncation is reported before fragmentation.
        Kind::Sk { truncated }
    } else if skf {
        Kind::Skf
    } else if m
        .payloads
        .iter()
        .any(|p| matches!(p.detail, PayloadDetail::Encrypted(_)))
    {
        Kind::Sk { truncated }
    } else {
        Kind::NotSk
    }
}

/// Every decrypted message of a capture: (frame, Decrypted).
fn decrypt_capture(pcap: &Path, ks: &KeyStore) -> Vec<(u64, Decrypted)> {
    raw_messages(pcap)
        .into_iter()
        .filter(|(_, raw)| matches!(kind(raw), Kind::Sk { truncated: false }))
        .filter_map(|(f, raw)| decrypt(&raw, ks).ok().map(|d| (f, d)))
        .collect()
}

/// Captures with an IKEv2 key table but no IKE traffic to decrypt.
/// (No IKE in the first; only the tunnel's inner TCP in the second.)
const NOTHING_TO_DECRYPT: &[&str] = &["capture_wrong_interface", "tcp_mss_too_large_inner"];

#[test]
fn every_keyed_lab_capture_decrypts_with_integrity() {
    let Some(lab) = lab() else { return };
    let caps = keyed_captures(&lab);
    assert!(caps.len() >= 30, "only {} keyed captures", caps.len());
    let mut total = 0;
    for (stem, pcap, table) in &caps {
        let ks = store(table);
        let (mut ok, mut skf, mut truncated, mut no_keys) = (0, 0, 0, 0);
        let mut notifies = BTreeMap::<String, usize>::new();
        for (frame, raw) in raw_messages(pcap) {
            let k = kind(&raw);
            if matches!(k, Kind::NotSk) {
                continue;
            }
            let h = ike::IkeHeader::parse(&raw).expect("header");
            if ks.ikev2(&h.ispi, &h.rspi).is_none() {
                no_keys += 1;
                assert!(
                    matches!(decrypt(&raw, &ks), Err(DecryptError::NoKeys { .. })),
                    "{stem} frame {frame}"
                );
                continue;
            }
            match k {
                Kind::Skf => {
                    skf += 1;
                    assert_eq!(
                        decrypt(&raw, &ks),
                        Err(DecryptError::Fragmented),
                        "{stem} frame {frame}"
                    );
                }
                Kind::Sk { truncated: true } => {
                    truncated += 1;
                    assert!(
                        matches!(decrypt(&raw, &ks), Err(DecryptError::Truncated { .. })),
                        "{stem} frame {frame}"
                    );
                }
                Kind::Sk { truncated: false } => {
                    let d =
                        decrypt(&raw, &ks).unwrap_or_else(|e| panic!("{stem} frame {frame}: {e}"));
                    let inner = d.inner();
                    assert!(
                        inner.anomalies.is_empty(),
                        "{stem} frame {frame}: {:?}",
                        inner.anomalies
                    );
                    for n in inner.notify_names() {
                        *notifies.entry(n.into_owned()).or_default() += 1;
                    }
                    ok += 1;
                }
                Kind::NotSk => unreachable!(),
            }
        }
        common::skip_note(&format!(
            "{stem}: decrypted={ok} skf={skf} truncated={truncated} no_keys={no_keys} notifies={notifies:?}"
        ));
        if NOTHING_TO_DECRYPT.contains(&stem.as_str()) {
            assert_eq!(ok + skf + truncated + no_keys, 0, "{stem}");
        } else {
            assert!(ok > 0, "{stem}: nothing decrypted");
        }
        total += ok;
    }
    assert!(total > 100, "{total}");
}

/// Notify types of the decrypted messages: (frame, exchange type, types).
fn inner_notifies(lab: &Path, stem: &str) -> Vec<(u64, u8, Vec<u16>)> {
    let ks = store(&lab.join(format!("{stem}.ikev2_decryption_table")));
    decrypt_capture(&lab.join(format!("{stem}.pcap")), &ks)
        .iter()
        .map(|(f, d)| (*f, d.header.exchange_type, d.inner().notify_types()))
        .collect()
}

#[test]
fn failure_notifies_are_found_inside_sk() {
    let Some(lab) = lab() else { return };
    for (stem, notify, exchange) in [
        ("auth_failed", 24u16, IKE_AUTH),
        ("libreswan_ikev2_auth_failed", 24, IKE_AUTH),
        // The initiator rejects the responder's certificate: it says so in
        // an INFORMATIONAL after IKE_AUTH.
        ("auth_failed_cert_untrusted", 24, INFORMATIONAL),
        ("ts_unacceptable", 38, IKE_AUTH),
        ("child_no_proposal_chosen", 14, IKE_AUTH),
    ] {
        let all = inner_notifies(&lab, stem);
        let hits: Vec<_> = all
            .iter()
            .filter(|(_, x, n)| *x == exchange && n.contains(&notify))
            .collect();
        assert!(
            !hits.is_empty(),
            "{stem}: no notify {notify} in exchange {exchange}: {all:?}"
        );
        common::skip_note(&format!(
            "{stem}: notify {notify} in frames {:?}",
            hits.iter().map(|h| h.0).collect::<Vec<_>>()
        ));
    }
    // And not where it does not belong.
    for (_, _, n) in inner_notifies(&lab, "ok_psk") {
        assert!(!n.contains(&24) && !n.contains(&38) && !n.contains(&14));
    }
}

#[test]
fn ok_psk_ike_auth_has_ids_and_auth_and_no_error() {
    let Some(lab) = lab() else { return };
    let ks = store(&lab.join("ok_psk.ikev2_decryption_table"));
    let msgs = decrypt_capture(&lab.join("ok_psk.pcap"), &ks);
    let auth: Vec<_> = msgs
        .iter()
        .filter(|(_, d)| d.header.exchange_type == IKE_AUTH)
        .collect();
    assert_eq!(auth.len(), 2, "one IKE_AUTH request and its response");
    for (frame, d) in auth {
        let inner = d.inner();
        let want_id = if d.header.is_response() { 36 } else { 35 };
        let id = inner
            .payloads
            .iter()
            .find_map(|p| match &p.detail {
                PayloadDetail::Id(id) if p.payload_type == want_id => Some(id),
                _ => None,
            })
            .unwrap_or_else(|| panic!("frame {frame}: no ID{want_id}"));
        assert!(!id.data.is_empty());
        let auth = inner
            .payloads
            .iter()
            .find_map(|p| match &p.detail {
                PayloadDetail::Auth(a) => Some(a),
                _ => None,
            })
            .unwrap_or_else(|| panic!("frame {frame}: no AUTH"));
        assert_eq!(auth.method, 2, "frame {frame}: PSK (shared key MIC)");
        assert!(auth.data.len() >= 20);
        assert!(
            !inner.notifies().any(|n| n.is_error()),
            "frame {frame}: {:?}",
            inner.notify_names()
        );
        for t in ["SA", "TSi", "TSr"] {
            assert!(inner.payload_names().contains(&t), "frame {frame}: {t}");
        }
    }
}

#[test]
fn inner_payloads_and_notifies_match_tshark() {
    let Some(lab) = lab() else { return };
    let mut compared = 0;
    for (stem, pcap, table) in keyed_captures(&lab) {
        let tsv = lab.join(format!("{stem}.tshark.tsv"));
        if !tsv.is_file() {
            continue;
        }
        let ks = store(&table);
        let ours: BTreeMap<u64, Decrypted> = decrypt_capture(&pcap, &ks).into_iter().collect();
        let mut here = 0;
        for row in common::read_tsv(&tsv) {
            let payloads = &row["payloads"];
            // "SK" alone: an empty INFORMATIONAL (liveness check or reply).
            let inner = match payloads.strip_prefix("SK") {
                Some("") => "",
                Some(rest) => match rest.strip_prefix(',') {
                    Some(inner) => inner,
                    None => continue,
                },
                None => continue,
            };
            if row["decrypted"] != "yes" {
                continue;
            }
            let frame: u64 = row["frame"].parse().expect("frame");
            let d = ours
                .get(&frame)
                .unwrap_or_else(|| panic!("{stem}: tshark decrypted frame {frame}, we did not"));
            let m = d.inner();
            assert_eq!(m.payload_names().join(","), inner, "{stem} frame {frame}");
            let names: Vec<String> = m.notify_names().into_iter().map(|c| c.into()).collect();
            let theirs: Vec<&str> = row["notifies"]
                .split(',')
                .filter(|s| !s.is_empty())
                .collect();
            assert_eq!(names, theirs, "{stem} frame {frame}");
            here += 1;
        }
        // Every message we decrypted, tshark decrypted too.
        assert_eq!(here, ours.len(), "{stem}");
        compared += here;
    }
    assert!(compared > 100, "{compared}");
}

/// The SK messages of ok_psk, with their keys.
fn ok_psk_sk(lab: &Path) -> (KeyStore, Vec<Vec<u8>>) {
    let ks = store(&lab.join("ok_psk.ikev2_decryption_table"));
    let msgs: Vec<Vec<u8>> = raw_messages(&lab.join("ok_psk.pcap"))
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| matches!(kind(r), Kind::Sk { truncated: false }))
        .collect();
    assert!(msgs.len() >= 4);
    (ks, msgs)
}

#[test]
fn wrong_keys_fail_the_integrity_check() {
    let Some(lab) = lab() else { return };
    let (ks, msgs) = ok_psk_sk(&lab);
    let good = ks.ikev2_sas()[0].clone();
    let mut bad_ai = good.clone();
    bad_ai.sk_ai[5] ^= 0x10;
    let mut bad_ar = good.clone();
    bad_ar.sk_ar[0] ^= 0x01;
    let (mut from_i, mut from_r) = (0, 0);
    for raw in &msgs {
        let h = ike::IkeHeader::parse(raw).expect("header");
        assert!(decrypt_with(raw, &good).is_ok());
        if h.is_initiator() {
            from_i += 1;
            assert_eq!(
                decrypt_with(raw, &bad_ai),
                Err(DecryptError::IntegrityFailed)
            );
            assert!(decrypt_with(raw, &bad_ar).is_ok());
        } else {
            from_r += 1;
            assert_eq!(
                decrypt_with(raw, &bad_ar),
                Err(DecryptError::IntegrityFailed)
            );
            assert!(decrypt_with(raw, &bad_ai).is_ok());
        }
        // A flipped bit anywhere in the message (header, IV, ciphertext or
        // ICV) fails too.
        for i in (0..raw.len()).step_by(7) {
            let mut m = raw.clone();
            m[i] ^= 0x04;
            let r = decrypt_with(&m, &good);
            assert!(r.is_err(), "bit flip at {i} accepted");
        }
    }
    assert!(from_i > 0 && from_r > 0);
}

#[test]
fn truncated_messages_are_errors() {
    let Some(lab) = lab() else { return };
    let (ks, msgs) = ok_psk_sk(&lab);
    for raw in &msgs {
        for cut in 0..raw.len() {
            let m = &raw[..cut];
            assert!(decrypt(m, &ks).is_err(), "cut at {cut}");
            // Also with the header's Length fixed up to the cut, so that the
            // SK payload itself is what is short.
            if cut >= 28 {
                let mut m = m.to_vec();
                m[24..28].copy_from_slice(&(cut as u32).to_be_bytes());
                assert!(decrypt(&m, &ks).is_err(), "cut at {cut}, length fixed");
            }
        }
    }
}

#[test]
fn garbage_key_lines_are_reported_with_line_numbers() {
    let Some(lab) = lab() else { return };
    let good =
        std::fs::read_to_string(lab.join("auth_failed.ikev2_decryption_table")).expect("table");
    let good_line = good
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .expect("key line");
    let text = format!(
        "# Wireshark UAT 'ikev2_decryption_table' test\n\
         not,a,key\n\
         \n\
         {}\n\
         {good_line}\n\
         {}\n\
         \"unterminated\n",
        good_line.replacen("48e5", "48g5", 1),
        good_line.replace("AES-CBC-128 [RFC3602]", "ROT13"),
    );
    let path =
        std::env::temp_dir().join(format!("ikediag-decrypt-test-{}.txt", std::process::id()));
    std::fs::write(&path, text).expect("write");
    let mut ks = KeyStore::new();
    let loaded = ks.load_file(&path);
    let _ = std::fs::remove_file(&path);
    assert_eq!(loaded, Ok(1));
    let lines: Vec<usize> = ks.errors().iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 4, 6, 7], "{:?}", ks.errors());
    for e in ks.errors() {
        let s = e.to_string();
        assert!(
            s.starts_with(&format!("{}:{}: ", path.display(), e.line)),
            "{s}"
        );
    }
    assert!(ks.errors()[2].message.contains("ROT13"));
    // The good line still decrypts the capture.
    let n = decrypt_capture(&lab.join("auth_failed.pcap"), &ks).len();
    assert_eq!(n, 2);
    // A missing file is an error, not a panic.
    assert!(ks.load_file(Path::new("/nonexistent/keys")).is_err());
}
