//! IKEv2 SK decryption against the lab captures and the key tables made
//! beside them (from the daemons' debug logs), and against the tshark view
//! that was made with the same keys.
#![cfg(feature = "decrypt")]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ikediag::capture::CaptureReader;
use ikediag::decode::DecodeConfig;
use ikediag::decrypt::{
    DecryptError, Decrypted, KeyStore, Reassembler, Reassembly, decrypt, decrypt_with,
};
use ikediag::ike::{self, IkeAnomaly, PayloadDetail};

const IKE_AUTH: u8 = 35;
const INFORMATIONAL: u8 = 37;

fn lab() -> Option<PathBuf> {
    common::lab_dir("decryption test")
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

/// Every decrypted message of a capture: (frame, Decrypted); an RFC 7383
/// fragmented message under the frame of the fragment that completed it.
fn decrypt_capture(pcap: &Path, ks: &KeyStore) -> Vec<(u64, Decrypted)> {
    decrypt_capture_with_fragments(pcap, ks).0
}

/// [`decrypt_capture`], and the frames of the SKF fragments decrypted.
fn decrypt_capture_with_fragments(pcap: &Path, ks: &KeyStore) -> (Vec<(u64, Decrypted)>, Vec<u64>) {
    let mut skf = Reassembler::new();
    let mut whole = Vec::new();
    let mut fragments = Vec::new();
    for (f, raw) in common::raw_ike_messages(pcap) {
        if !matches!(kind(&raw), Kind::Sk { truncated: false } | Kind::Skf) {
            continue;
        }
        let Ok(d) = decrypt(&raw, ks) else { continue };
        if d.is_fragment() {
            fragments.push(f);
            if let Reassembly::Complete(m) = skf.push(d) {
                whole.push((f, m));
            }
        } else {
            whole.push((f, d));
        }
    }
    (whole, fragments)
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
        let mut reassembler = Reassembler::new();
        let mut reassembled = 0;
        let mut notifies = BTreeMap::<String, usize>::new();
        for (frame, raw) in common::raw_ike_messages(pcap) {
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
                    let d =
                        decrypt(&raw, &ks).unwrap_or_else(|e| panic!("{stem} frame {frame}: {e}"));
                    assert!(d.is_fragment(), "{stem} frame {frame}");
                    match reassembler.push(d) {
                        Reassembly::Complete(m) => {
                            let inner = m.inner();
                            assert!(
                                inner.anomalies.is_empty(),
                                "{stem} frame {frame}: {:?}",
                                inner.anomalies
                            );
                            for n in inner.notify_names() {
                                *notifies.entry(n.into_owned()).or_default() += 1;
                            }
                            reassembled += 1;
                        }
                        Reassembly::Pending { .. } | Reassembly::Duplicate => {}
                        other => panic!("{stem} frame {frame}: {other:?}"),
                    }
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
            "{stem}: decrypted={ok} skf={skf} reassembled={reassembled} truncated={truncated} no_keys={no_keys} notifies={notifies:?}"
        ));
        // Every fragmented message is complete in these captures.
        assert_eq!(reassembler.pending(), 0, "{stem}");
        assert_eq!(skf > 0, reassembled > 0, "{stem}");
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
    let mut skf_compared = BTreeMap::<String, usize>::new();
    for (stem, pcap, table) in keyed_captures(&lab) {
        let tsv = lab.join(format!("{stem}.tshark.tsv"));
        if !tsv.is_file() {
            continue;
        }
        let ks = store(&table);
        let (ours, fragments) = decrypt_capture_with_fragments(&pcap, &ks);
        let ours: BTreeMap<u64, Decrypted> = ours.into_iter().collect();
        let mut here = 0;
        for row in common::read_tsv(&tsv) {
            let payloads = &row["payloads"];
            if row["decrypted"] != "yes" {
                continue;
            }
            let frame: u64 = row["frame"].parse().expect("frame");
            // tshark shows a reassembled SKF message on its last fragment
            // ("SKF,IDr,CERT,…") and the others as "SKF" alone.
            let (outer, rest) = match payloads.strip_prefix("SKF") {
                Some(rest) => ("SKF", rest),
                None => match payloads.strip_prefix("SK") {
                    Some(rest) => ("SK", rest),
                    None => continue,
                },
            };
            if outer == "SKF" {
                assert!(
                    fragments.contains(&frame),
                    "{stem}: tshark decrypted fragment {frame}, we did not"
                );
                *skf_compared.entry(stem.clone()).or_default() += 1;
                if rest.is_empty() && !ours.contains_key(&frame) {
                    continue;
                }
            }
            // "SK" alone: an empty INFORMATIONAL (liveness check or reply).
            let inner = match rest {
                "" => "",
                rest => match rest.strip_prefix(',') {
                    Some(inner) => inner,
                    None => continue,
                },
            };
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
    common::skip_note(&format!(
        "SKF frames compared with tshark: {skf_compared:?}"
    ));
    // The SKF captures with a tshark view: 2 + 9 + 9 fragments.
    for (stem, n) in [
        ("auth_failed_cert_untrusted", 2),
        ("ikev2_fragmentation_over_fragdrop_path", 9),
        ("ikev2_fragmentation_rfc7383", 9),
    ] {
        assert_eq!(skf_compared.get(stem), Some(&n), "{stem}");
    }
}

/// The SK messages of ok_psk, with their keys.
fn ok_psk_sk(lab: &Path) -> (KeyStore, Vec<Vec<u8>>) {
    let ks = store(&lab.join("ok_psk.ikev2_decryption_table"));
    let msgs: Vec<Vec<u8>> = common::raw_ike_messages(&lab.join("ok_psk.pcap"))
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

/// auth_failed_cert_untrusted: the responder's IKE_AUTH response comes as
/// two RFC 7383 fragments (frames 6 and 7); reassembled it holds IDr, the
/// responder's certificate and a signature AUTH. The initiator then refuses
/// it (AUTHENTICATION_FAILED in frame 8).
#[test]
fn cert_untrusted_ike_auth_response_reassembles() {
    let Some(lab) = lab() else { return };
    let stem = "auth_failed_cert_untrusted";
    let ks = store(&lab.join(format!("{stem}.ikev2_decryption_table")));
    let (msgs, fragments) = decrypt_capture_with_fragments(&lab.join(format!("{stem}.pcap")), &ks);
    assert_eq!(fragments, vec![6, 7]);
    let frames: Vec<u64> = msgs.iter().map(|(f, _)| *f).collect();
    assert_eq!(frames, vec![5, 7, 8, 9], "every message decrypts");
    let (_, resp) = &msgs[1];
    assert_eq!(resp.header.exchange_type, IKE_AUTH);
    assert!(resp.header.is_response());
    let inner = resp.inner();
    assert!(inner.anomalies.is_empty(), "{:?}", inner.anomalies);
    assert_eq!(
        inner.payload_names().join(","),
        "IDr,CERT,AUTH,SA,TSi,TSr,N,N"
    );
    let mut seen = Vec::new();
    for p in &inner.payloads {
        match &p.detail {
            PayloadDetail::Id(id) => {
                seen.push(format!(
                    "IDr type {} {:?}",
                    id.id_type,
                    String::from_utf8_lossy(id.data)
                ));
                // ID_FQDN (2), the certificate's subject CN.
                assert_eq!((id.id_type, id.data), (2, &b"gw.lab-a.example"[..]));
            }
            PayloadDetail::Cert(c) => {
                seen.push(format!(
                    "CERT encoding {} ({} bytes)",
                    c.encoding,
                    c.data.len()
                ));
                // X.509 Certificate - Signature (4), a DER SEQUENCE.
                assert_eq!(c.encoding, 4);
                assert_eq!(c.data.first(), Some(&0x30));
                assert!(c.data.len() > 500);
            }
            PayloadDetail::Auth(a) => {
                seen.push(format!("AUTH method {} ({} bytes)", a.method, a.data.len()));
                // RSA signature (1) or Digital Signature (14, RFC 7427).
                assert!(matches!(a.method, 1 | 14), "{}", a.method);
            }
            _ => {}
        }
    }
    common::skip_note(&format!("{stem} IKE_AUTH response (frame 7): {seen:?}"));
    assert_eq!(seen.len(), 3);
}

/// The session layer: with the key table beside the capture, the fragment
/// that completes the IKE_AUTH response (frame 7) carries the reassembled
/// message's payloads; frame 6 is decrypted too but keeps only "SKF".
#[test]
fn session_attaches_reassembled_message_to_last_fragment() {
    let Some(lab) = lab() else { return };
    for (stem, last, want) in [
        ("auth_failed_cert_untrusted", 7, "IDr,CERT,AUTH"),
        (
            "ikev2_fragmentation_rfc7383",
            11,
            "IDi,CERT,CERT,N,CERTREQ,IDr,AUTH",
        ),
        ("ikev2_fragmentation_rfc7383", 15, "IDr,CERT,CERT,AUTH"),
    ] {
        let pcap = lab.join(format!("{stem}.pcap"));
        let mut reader = CaptureReader::open(&pcap).expect("open");
        let b = ikediag::session::KeySource::new(&[], true).builder_for(&pcap);
        let a = ikediag::session::analyze_with(&mut reader, DecodeConfig::default(), b);
        let d = a
            .decryption
            .as_ref()
            .expect("keys found beside the capture");
        assert_eq!(d.failures_total, 0, "{stem}: {:?}", d.failures);
        assert!(d.reassembled >= 1, "{stem}");
        let msgs: Vec<_> = a.sas.iter().flat_map(|s| s.messages()).collect();
        assert!(
            msgs.iter().filter(|m| m.encrypted).all(|m| m.decrypted),
            "{stem}: every encrypted message decrypted"
        );
        let m = msgs.iter().find(|m| m.frame == last).expect("frame");
        if m.is_response {
            let auth = a.sas[0]
                .exchanges
                .iter()
                .find(|x| x.exchange_type == IKE_AUTH)
                .expect("IKE_AUTH");
            assert_eq!(auth.decrypted_response().map(|r| r.frame), Some(last));
        }
        let names = m.payloads.join(",");
        assert!(
            names.starts_with("SKF,") && names.contains(want),
            "{stem} {last}: {names}"
        );
        for other in msgs
            .iter()
            .filter(|o| o.ike_fragment.is_some() && o.frame != last)
        {
            if same_direction(other, m) {
                assert_eq!(other.payloads, ["SKF"], "{stem} frame {}", other.frame);
            }
        }
    }
}

fn same_direction(a: &ikediag::session::MessageFact, b: &ikediag::session::MessageFact) -> bool {
    a.from_initiator == b.from_initiator && a.is_response == b.is_response
}

/// tcpdump's ikev2pI2.pcap with its secrets file (tcpdump's IKEv2 format,
/// the I and R lines joined into one SA). Its IKE_AUTH request (frame 2)
/// carries an ICV that is not the HMAC-SHA1-96 of the message with SK_ai:
/// tshark says "incorrect, should be 579ae74ad294a105b0b6f1c4", and we
/// compute the same value, so we refuse the message. With the ICV
/// tshark expects put in its place, it verifies and decrypts to IDi
/// (FQDN `west`) and AUTH, as tshark shows it:
///
/// ```sh
/// tshark -r ikev2pI2.pcap -o 'uat:ikev2_decryption_table:0001020304050607,c02e7a3031a03188,3f44bf47cafd8150591deb088199fcbf,bedb67ec7dc3d00cccac42e70cd63bde,"AES-CBC-128 [RFC3602]",4ea8e662b07cdd430f6944c6723e4b82d5722418,515b0bd22e6d76b34fdb760aa7bfad80b109b75d,"HMAC_SHA1_96 [RFC2404]"' -Y frame.number==2 -V
/// # Integrity Checksum Data: e5119d72d74e695b1032b957 (12 bytes) <HMAC_SHA1_96 [RFC2404]>[incorrect, should be 579ae74ad294a105b0b6f1c4]
/// ```
#[test]
fn tcpdump_ikev2pi2_with_tcpdump_secrets() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("public/tcpdump");
    let mut ks = KeyStore::new();
    assert_eq!(ks.load_file(&dir.join("ikev2pI2-secrets.txt")), Ok(2));
    assert_eq!(ks.ikev2_sas().len(), 1);
    let msgs = common::raw_ike_messages(&dir.join("ikev2pI2.pcap"));
    let (frame, raw) = msgs
        .iter()
        .find(|(_, r)| matches!(kind(r), Kind::Sk { truncated: false }))
        .expect("IKE_AUTH");
    assert_eq!(*frame, 2);
    assert_eq!(decrypt(raw, &ks), Err(DecryptError::IntegrityFailed));
    let mut fixed = raw.clone();
    let n = fixed.len();
    fixed[n - 12..].copy_from_slice(&[
        0x57, 0x9a, 0xe7, 0x4a, 0xd2, 0x94, 0xa1, 0x05, 0xb0, 0xb6, 0xf1, 0xc4,
    ]);
    let d = decrypt(&fixed, &ks).expect("verifies with the ICV tshark expects");
    let inner = d.inner();
    assert_eq!(inner.payload_names(), vec!["IDi", "AUTH"]);
    let id = inner
        .payloads
        .iter()
        .find_map(|p| match &p.detail {
            PayloadDetail::Id(id) => Some(id),
            _ => None,
        })
        .expect("IDi");
    assert_eq!((id.id_type, id.data), (2, &b"west"[..]));
}
