//! Fuzzes `ikediag::decrypt::Ikev1Decryptor`: IKEv1 decryption with the
//! RFC 2409 Appendix B IV chains, over a sequence of messages.
//!
//! The first input byte picks the mode, the rest is the input:
//! - 0 (raw): records `[len: u16 BE][bytes]` are fed in order as IKE
//!   messages to one decryptor whose key store has two keys for cookie
//!   0102030405060708 (16 bytes, the key of the lab capture
//!   ikev1_main_mode_ok, and 24 bytes) and one for 1112131415161718. Checked: no panic; an `Ok` names its message's
//!   header, its plaintext is shorter than the message and its inner
//!   chain parses with offsets inside the plaintext; every error displays.
//! - 1 (encrypted by the harness): the harness first feeds a clear Main
//!   Mode 2 (AES-CBC-128 + SHA1 chosen), 3 and 4 (KE), then per record
//!   `[ctl][first payload][len: u8][plaintext]` builds an encrypted
//!   message with its own copy of the IV chains (ctl bits 0-1 pick Message
//!   ID 0, 1, 2 or 0xdeadbeef; bit 2 resends the previous message
//!   unchanged, a retransmission) and pads it with zeros. Checked: an `Ok`
//!   is a prefix of what the harness encrypted (never garbage), and a
//!   retransmission gets the same result as its first copy.
#![no_main]

use std::path::Path;

use aes::Aes128;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
use ikediag::decrypt::{Decrypted, Ikev1DecryptError, Ikev1Decryptor, KeyStore, TableKind};
use libfuzzer_sys::fuzz_target;
use sha1::{Digest, Sha1};

const ICOOKIE: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
const RCOOKIE: [u8; 8] = [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18];
/// The key of the lab capture ikev1_main_mode_ok, so its messages (seeded
/// by `seed.sh` with their cookie rewritten) decrypt in mode 0.
const KEY: [u8; 16] = [
    0x01, 0x59, 0x37, 0x2e, 0xab, 0x40, 0x14, 0x9f, 0x28, 0xbd, 0x6d, 0xaa, 0x96, 0xdb, 0xac, 0x5c,
];

fn store() -> KeyStore {
    let text = "0102030405060708,0159372eab40149f28bd6daa96dbac5c\n\
                0102030405060708,000102030405060708090a0b0c0d0e0f1011121314151617\n\
                1112131415161718,f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff\n";
    let mut ks = KeyStore::new();
    assert_eq!(ks.load_table(Path::new("fuzz"), text, TableKind::Ikev1), 3);
    ks
}

fn header(np: u8, exch: u8, flags: u8, mid: u32, len: usize) -> Vec<u8> {
    let mut h = Vec::with_capacity(len);
    h.extend(ICOOKIE);
    h.extend(RCOOKIE);
    h.extend([np, 0x10, exch, flags]);
    h.extend(mid.to_be_bytes());
    h.extend((len as u32).to_be_bytes());
    h
}

fn payload(np: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![np, 0];
    p.extend(((4 + body.len()) as u16).to_be_bytes());
    p.extend(body);
    p
}

fn check_ok(msg: &[u8], d: &Decrypted) {
    assert!(d.plaintext.len() < msg.len());
    assert_eq!(ikediag::ike::IkeHeader::parse(msg).ok(), Some(d.header));
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

fn check_err(e: &Ikev1DecryptError) {
    assert!(!e.to_string().is_empty());
}

fn raw_mode(data: &[u8]) {
    let ks = store();
    let mut d = Ikev1Decryptor::new();
    let mut rest = data;
    while let [a, b, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*a, *b])).min(tail.len());
        let (msg, after) = tail.split_at(n);
        rest = after;
        match d.feed(msg, &ks) {
            Some(Ok(dec)) => check_ok(msg, &dec),
            Some(Err(e)) => check_err(&e),
            None => {}
        }
    }
}

fn harness_mode(data: &[u8]) {
    let ks = store();
    let mut d = Ikev1Decryptor::new();
    // Main Mode 2: SA with AES-CBC (7), Key Length 128 (14), SHA1 (2).
    let attrs: Vec<u8> = [(1u16, 7u16), (2, 2), (3, 1), (4, 14), (14, 128)]
        .iter()
        .flat_map(|(t, v)| {
            let mut a = (0x8000 | t).to_be_bytes().to_vec();
            a.extend(v.to_be_bytes());
            a
        })
        .collect();
    let mut transform = vec![0, 0];
    transform.extend(((8 + attrs.len()) as u16).to_be_bytes());
    transform.extend([1, 1, 0, 0]);
    transform.extend(&attrs);
    let mut proposal = vec![0, 0];
    proposal.extend(((8 + transform.len()) as u16).to_be_bytes());
    proposal.extend([1, 1, 0, 1]);
    proposal.extend(&transform);
    let mut sa = vec![0, 0, 0, 1, 0, 0, 0, 1];
    sa.extend(&proposal);
    let body = payload(0, &sa);
    let mut mm2 = header(1, 2, 0, 0, 28 + body.len());
    mm2.extend(body);
    assert!(d.feed(&mm2, &ks).is_none());
    let (gi, gr) = ([0x33u8; 64], [0x44u8; 64]);
    for g in [&gi, &gr] {
        let body = payload(0, g);
        let mut m = header(4, 2, 0, 0, 28 + body.len());
        m.extend(body);
        assert!(d.feed(&m, &ks).is_none());
    }
    // The harness's own IV chains.
    let mut p1: [u8; 16] = Sha1::digest([gi, gr].concat())[..16].try_into().unwrap();
    let mut p2: Vec<(u32, [u8; 16])> = Vec::new();
    let mut previous: Option<(Vec<u8>, Vec<u8>, bool)> = None;
    let mut rest = data;
    while let [ctl, first, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (plain, after) = tail.split_at(n);
        rest = after;
        if ctl & 4 != 0
            && let Some((msg, padded, ok_before)) = &previous
        {
            let r = d.feed(msg, &ks).expect("encrypted");
            assert_eq!(
                r.is_ok(),
                *ok_before,
                "retransmission decrypted differently"
            );
            if let Ok(dec) = r {
                assert!(padded.starts_with(&dec.plaintext));
            }
            continue;
        }
        let mid = [0u32, 1, 2, 0xdead_beef][usize::from(ctl & 3)];
        let iv: [u8; 16] = if mid == 0 {
            p1
        } else if let Some((_, iv)) = p2.iter().find(|(m, _)| *m == mid) {
            *iv
        } else {
            Sha1::digest([&p1[..], &mid.to_be_bytes()].concat())[..16]
                .try_into()
                .unwrap()
        };
        let mut padded = plain.to_vec();
        padded.resize(plain.len().div_ceil(16).max(1) * 16, 0);
        let mut ct = padded.clone();
        let len = ct.len();
        cbc::Encryptor::<Aes128>::new_from_slices(&KEY, &iv)
            .unwrap()
            .encrypt_padded::<NoPadding>(&mut ct, len)
            .unwrap();
        let last: [u8; 16] = ct[len - 16..].try_into().unwrap();
        if mid == 0 {
            p1 = last;
        } else if let Some(e) = p2.iter_mut().find(|(m, _)| *m == mid) {
            e.1 = last;
        } else {
            p2.push((mid, last));
        }
        let exch = if mid == 0 { 2 } else { 32 };
        let mut msg = header(*first, exch, 1, mid, 28 + ct.len());
        msg.extend(&ct);
        let r = d.feed(&msg, &ks).expect("encrypted");
        let ok = match &r {
            Ok(dec) => {
                check_ok(&msg, dec);
                assert!(
                    padded.starts_with(&dec.plaintext),
                    "decrypted to something the harness did not encrypt"
                );
                true
            }
            Err(e) => {
                check_err(e);
                false
            }
        };
        previous = Some((msg, padded, ok));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        raw_mode(rest);
    } else {
        harness_mode(rest);
    }
});
