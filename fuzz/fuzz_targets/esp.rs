//! Fuzzes `ikediag::decrypt::decrypt_esp` and the tcpdump secrets parsers.
//!
//! The first input byte picks the mode, the rest is the input:
//! - 0: the bytes as an ESP packet (from the SPI on) for an AES-CBC-128 +
//!   HMAC-SHA-256-128 SA and an AES-GCM-128/16 SA: any Ok would have passed
//!   a forged ICV, so it must never happen.
//! - 1: the harness appends a correct HMAC-SHA-256-128 ICV, so the fuzzer
//!   reaches CBC decryption and the trailer. Checked: no panic; an Ok is
//!   verified, its payload shorter than the packet.
//! - 2: a 3DES SA with "ANY 96 bit authentication [no checking]" (and a
//!   NULL-encryption one): an Ok is unverified, its padding was the
//!   default 1, 2, 3, … and its payload shorter than the packet; the inner
//!   bytes go through the crate's IP and TCP parsers.
//! - 3: the bytes as tcpdump secrets text (`-E` and `ikev2` formats):
//!   loaded + errors equal the data lines, every error has a line number.
#![no_main]

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use ikediag::decrypt::{EspKey, KeyStore, TableKind, decrypt_esp};
use libfuzzer_sys::fuzz_target;

const AK: [u8; 32] = [0x33; 32];

fn key(line: &str) -> EspKey {
    let mut ks = KeyStore::new();
    assert_eq!(ks.load_table(Path::new("fuzz"), line, TableKind::EspSa), 1);
    ks.esp_keys()[0].clone()
}

fn keys() -> [EspKey; 4] {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    [
        key(&format!(
            r#""IPv4","*","*","0x01020304","AES-CBC [RFC3602]","0x{}","HMAC-SHA-256-128 [RFC4868]","0x{}""#,
            "11".repeat(16),
            hex(&AK)
        )),
        key(&format!(
            r#""IPv4","*","*","0x01020304","AES-GCM with 16 octet ICV [RFC4106]","0x{}","NULL","""#,
            "22".repeat(20)
        )),
        key(&format!(
            r#""Any IP","*","*","0x01020304","TripleDES-CBC [RFC2451]","0x{}","ANY 96 bit authentication [no checking]","""#,
            "44".repeat(24)
        )),
        key(r#""Any IP","*","*","0x01020304","NULL","","NULL","""#),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let [cbc, gcm, tdes, null] = keys();
    match mode % 4 {
        0 => {
            if let Ok(d) = decrypt_esp(rest, &cbc) {
                panic!("forged ESP accepted: {d:?}");
            }
            if let Ok(d) = decrypt_esp(rest, &gcm) {
                panic!("forged ESP-GCM accepted: {d:?}");
            }
        }
        1 => {
            let mut p = rest.to_vec();
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&AK).expect("key");
            mac.update(&p);
            p.extend_from_slice(&mac.finalize().into_bytes()[..16]);
            match decrypt_esp(&p, &cbc) {
                Ok(d) => {
                    assert!(d.verified);
                    assert!(d.payload.len() < p.len());
                }
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
        2 => {
            for k in [&tdes, &null] {
                match decrypt_esp(rest, k) {
                    Ok(d) => {
                        assert!(!d.verified);
                        assert!(d.payload.len() < rest.len());
                        if let Ok(ip) =
                            ikediag::wire::ip::parse(ikediag::wire::link::NetKind::Ipv4, &d.payload)
                        {
                            std::hint::black_box(ikediag::wire::tcp::parse(ip.payload));
                        }
                    }
                    Err(e) => assert!(!e.to_string().is_empty()),
                }
            }
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            let data_lines = text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
                .count();
            let total_lines = text.lines().count();
            for kind in [TableKind::TcpdumpEsp, TableKind::TcpdumpIkev2] {
                let mut k = KeyStore::new();
                let n = k.load_table(Path::new("fuzz"), &text, kind);
                assert_eq!(n + k.errors().len(), data_lines);
                assert_eq!(k.esp_sas().len(), k.esp_keys().len());
                for e in k.errors() {
                    assert!(e.line >= 1 && e.line <= total_lines);
                }
                std::hint::black_box(format!("{:?} {:?}", k.ikev2_sas(), k.esp_keys()));
            }
        }
    }
});
