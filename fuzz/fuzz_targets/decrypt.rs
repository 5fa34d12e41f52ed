//! Fuzzes `ikediag::decrypt`: the key-table parser and IKEv2 SK decryption.
//!
//! The first input byte picks the mode, the rest is the input:
//! - 0: key-table text through `KeyStore::load_str` and `load_table` for each
//!   table kind; every error has a line number inside the text (or 0 for a
//!   whole-file error from `load_str`), loaded + errors never exceed the
//!   data lines.
//! - 1: `decrypt` of the bytes as an IKE message with a fixed AES-CBC-128 /
//!   HMAC-SHA2-256-128 key for SPIs 0102030405060708/1112131415161718 (any
//!   Ok must have passed a forged ICV: never happens); also `decrypt_with`
//!   with AES-GCM-128/16, which must fail the same way.
//! - 2: the harness appends a correct HMAC-SHA2-256-128 ICV (key SK_ai or
//!   SK_ar per the I flag) to the bytes, so the fuzzer gets past the
//!   integrity check into CBC decryption, padding removal and the inner
//!   payload chain (SK, or SKF: one RFC 7383 fragment). Checked: no panic;
//!   an Ok's plaintext is shorter than the message; the inner chain parses
//!   without panic and its offsets are inside the plaintext.
//! - 3: RFC 7383 reassembly: the bytes are cut into fragments (message ID,
//!   flags, Fragment Number, Total Fragments, length, piece) pushed into a
//!   `Reassembler`; its state stays within `MAX_SETS` / `MAX_HELD_BYTES`,
//!   a completed message is no longer than the bytes pushed, and its inner
//!   chain parses without panic.
#![no_main]

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use ikediag::decrypt::{
    DecryptError, Decrypted, KeyStore, MAX_HELD_BYTES, MAX_SETS, Reassembler, Reassembly,
    TableKind, decrypt, decrypt_with,
};
use libfuzzer_sys::fuzz_target;

const SPI_I: &str = "0102030405060708";
const SPI_R: &str = "1112131415161718";
const SK_EI: &str = "000102030405060708090a0b0c0d0e0f";
const SK_ER: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
const SK_AI: [u8; 32] = [0x11; 32];
const SK_AR: [u8; 32] = [0x22; 32];

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn cbc_store() -> KeyStore {
    let line = format!(
        "{SPI_I},{SPI_R},{SK_EI},{SK_ER},\"AES-CBC-128 [RFC3602]\",{},{},\"HMAC_SHA2_256_128 [RFC4868]\"",
        hex(&SK_AI),
        hex(&SK_AR)
    );
    let mut ks = KeyStore::new();
    assert_eq!(ks.load_table(Path::new("fuzz"), &line, TableKind::Ikev2), 1);
    ks
}

fn gcm_store() -> KeyStore {
    let line = format!(
        "{SPI_I},{SPI_R},{SK_EI}01020304,{SK_ER}01020304,\"AES-GCM-128 with 16 octet ICV [RFC4106]\",,,\"NONE\""
    );
    let mut ks = KeyStore::new();
    assert_eq!(ks.load_table(Path::new("fuzz"), &line, TableKind::Ikev2), 1);
    ks
}

fn check_ok(msg: &[u8], d: &ikediag::decrypt::Decrypted) {
    assert!(d.plaintext.len() < msg.len());
    let inner = d.inner();
    for p in &inner.payloads {
        assert!(p.offset <= d.plaintext.len());
    }
    std::hint::black_box(format!(
        "{:?} {:?}",
        inner.notify_names(),
        inner.payload_names()
    ));
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            let data_lines = text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
                .count();
            let total_lines = text.lines().count();
            let mut ks = KeyStore::new();
            let _ = ks.load_str(Path::new("fuzz"), &text);
            for kind in [
                TableKind::Ikev2,
                TableKind::Ikev1,
                TableKind::EspSa,
                TableKind::TcpdumpEsp,
                TableKind::TcpdumpIkev2,
            ] {
                let mut k = KeyStore::new();
                let n = k.load_table(Path::new("fuzz"), &text, kind);
                assert_eq!(n + k.errors().len(), data_lines);
                for e in k.errors() {
                    assert!(e.line >= 1 && e.line <= total_lines);
                    assert!(!e.to_string().is_empty());
                }
                std::hint::black_box(format!(
                    "{:?}",
                    (k.ikev2_sas(), k.ikev1_keys(), k.esp_sas())
                ));
            }
            for e in ks.errors() {
                assert!(e.line <= total_lines);
            }
        }
        1 => {
            let ks = cbc_store();
            match decrypt(rest, &ks) {
                Ok(d) => panic!("forged message accepted: {d:?}"),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
            let gcm = gcm_store();
            if let Ok(d) = decrypt_with(rest, &gcm.ikev2_sas()[0]) {
                panic!("forged GCM message accepted: {d:?}");
            }
        }
        3 => {
            let mut r = Reassembler::new();
            let mut pushed = 0usize;
            let mut header = [0u8; 28];
            header[17] = 0x20;
            header[18] = 35;
            let mut rest = rest;
            while let [mid, flags, n, total, len, tail @ ..] = rest {
                let take = usize::from(*len).min(tail.len());
                let (piece, next) = tail.split_at(take);
                rest = next;
                header[19] = *flags;
                header[23] = *mid;
                let Ok(h) = ikediag::ike::IkeHeader::parse(&header) else {
                    continue;
                };
                pushed += piece.len();
                let out = r.push(Decrypted {
                    header: h,
                    first_payload: if *n == 1 { 41 } else { 0 },
                    plaintext: piece.to_vec(),
                    fragment: Some((u16::from(*n), u16::from(*total))),
                });
                assert!(r.pending() <= MAX_SETS);
                assert!(r.held_bytes() <= MAX_HELD_BYTES);
                if let Reassembly::Complete(m) = out {
                    assert!(m.plaintext.len() <= pushed);
                    assert!(m.fragment.is_none());
                    std::hint::black_box(m.inner().payload_names());
                }
            }
        }
        _ => {
            let ks = cbc_store();
            let mut msg = rest.to_vec();
            let initiator = msg.get(19).is_some_and(|f| f & 0x08 != 0);
            let key = if initiator { &SK_AI } else { &SK_AR };
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).expect("key");
            mac.update(&msg);
            msg.extend_from_slice(&mac.finalize().into_bytes()[..16]);
            match decrypt(&msg, &ks) {
                Ok(d) => check_ok(&msg, &d),
                Err(DecryptError::IntegrityFailed) => {
                    // Only possible when the header's Length or the SK
                    // payload do not cover what was signed.
                }
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
    }
});
