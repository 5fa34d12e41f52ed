//! ESP (RFC 4303) decryption with the keys of an `esp_sa` table (or
//! tcpdump's `-E` secrets, turned into the same [`EspSa`] lines).
//!
//! Contract:
//! - [`EspKey::from_sa`] turns one `esp_sa` line into algorithms and
//!   checked key lengths, or a message saying what does not fit (unknown or
//!   unsupported algorithm, key of the wrong length, address that is not an
//!   address or `*`). [`super::KeyStore`] calls it when the line is loaded,
//!   so the message carries the file and line number.
//! - [`decrypt_esp`] takes the ESP bytes of one packet (from the SPI on:
//!   after the IP header, or after the UDP header for ESP-in-UDP, RFC 3948)
//!   and a key. When the SA has an integrity algorithm, **the ICV is
//!   checked first** (HMAC over SPI, sequence number, IV and ciphertext,
//!   RFC 4303 §3.4.4.1; for AES-GCM the AEAD tag with AAD = SPI ‖ sequence
//!   number, RFC 4106 §5) and nothing is decrypted on a mismatch. With
//!   "ANY n bit authentication [no checking]" or NULL authentication the
//!   ICV (if any) is skipped, and the decrypted trailer must look right
//!   instead: the default padding 1, 2, 3, … (RFC 4303 §2.4) and a known
//!   Next Header, so that a wrong key is still refused; the result says
//!   `verified: false`.
//! - Ciphers: NULL, 3DES-CBC, AES-CBC (128/192/256), AES-CTR (RFC 3686),
//!   AES-GCM with 8/12/16-byte ICV (RFC 4106). Integrity: HMAC-MD5-96,
//!   HMAC-SHA-1-96, HMAC-SHA-256-96, HMAC-SHA-256-128, HMAC-SHA-384-192,
//!   HMAC-SHA-512-256, ANY n bit (unchecked), NULL. Not done: ESN (64-bit
//!   sequence numbers: the high half is not on the wire), DES, CAST5,
//!   Blowfish, Twofish, RIPEMD, AES-CCM, ChaCha20-Poly1305 for ESP.
//! - No panic on any input; every failure is an [`EspError`].

use std::fmt;
use std::net::IpAddr;

use super::ikev2::{DecryptError, decrypt_unauthenticated, gcm_open, verify_icv};
use super::keys::{EncAlg, EspSa, IntegAlg};

/// How an ESP SA's ICV is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EspAuth {
    /// `NULL`: no ICV on the wire (or an AEAD cipher's own).
    Null,
    /// An HMAC the ICV is checked with.
    Checked(IntegAlg),
    /// `ANY n bit authentication [no checking]`: an ICV of `icv_len`
    /// bytes is there and skipped.
    Unchecked {
        /// ICV length in bytes.
        icv_len: usize,
    },
}

impl EspAuth {
    /// Parses Wireshark's `esp_sa` name (`"HMAC-SHA-256-128 [RFC4868]"`).
    pub fn from_wireshark_name(name: &str) -> Result<EspAuth, String> {
        let n = super::keys::strip_reference(name).to_ascii_uppercase();
        let integ = match n.as_str() {
            "NULL" | "" => return Ok(EspAuth::Null),
            "HMAC-MD5-96" => IntegAlg::HmacMd5_96,
            "HMAC-SHA-1-96" => IntegAlg::HmacSha1_96,
            "HMAC-SHA-256-96" => IntegAlg::HmacSha256_96,
            "HMAC-SHA-256-128" => IntegAlg::HmacSha256_128,
            "HMAC-SHA-384-192" => IntegAlg::HmacSha384_192,
            "HMAC-SHA-512-256" => IntegAlg::HmacSha512_256,
            other => {
                // "ANY 96 BIT AUTHENTICATION"
                let mut w = other.split_whitespace();
                if w.next() == Some("ANY")
                    && let Some(bits) = w.next().and_then(|b| b.parse::<usize>().ok())
                    && w.next() == Some("BIT")
                    && matches!(bits, 64 | 96 | 128 | 160 | 192 | 256)
                {
                    return Ok(EspAuth::Unchecked { icv_len: bits / 8 });
                }
                return Err(format!(
                    "authentication algorithm {name:?} is not supported"
                ));
            }
        };
        Ok(EspAuth::Checked(integ))
    }

    /// Bytes of ICV at the end of the packet (without an AEAD's).
    pub fn icv_len(self) -> usize {
        match self {
            EspAuth::Null => 0,
            EspAuth::Checked(i) => i.icv_len(),
            EspAuth::Unchecked { icv_len } => icv_len,
        }
    }
}

/// Parses Wireshark's `esp_sa` encryption name; the key length picks the
/// AES variant, as in Wireshark (whose names carry no key size).
fn enc_from_wireshark_name(name: &str, key_len: usize) -> Result<EncAlg, String> {
    let n = super::keys::strip_reference(name).to_ascii_uppercase();
    let aes = |k: usize| matches!(k, 16 | 24 | 32);
    let bad_len = |want: &str| {
        Err(format!(
            "encryption key: {key_len} bytes, {name:?} needs {want}"
        ))
    };
    match n.as_str() {
        "NULL" => Ok(EncAlg::Null),
        "TRIPLEDES-CBC" => Ok(EncAlg::TripleDesCbc),
        "AES-CBC" if aes(key_len) => Ok(EncAlg::AesCbc { key_len }),
        "AES-CBC" => bad_len("16, 24 or 32"),
        "AES-CTR" if key_len >= 4 && aes(key_len - 4) => Ok(EncAlg::AesCtr {
            key_len: key_len - 4,
        }),
        "AES-CTR" => bad_len("20, 28 or 36 (AES key and 4-byte nonce)"),
        _ => {
            let icv_len = match n.strip_prefix("AES-GCM") {
                Some("") => 16,
                Some(rest) => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
                    ["WITH", icv, "OCTET", "ICV"] => match *icv {
                        "8" => 8,
                        "12" => 12,
                        "16" => 16,
                        _ => return Err(format!("unknown encryption algorithm {name:?}")),
                    },
                    _ => return Err(format!("unknown encryption algorithm {name:?}")),
                },
                None => {
                    return Err(format!(
                        "encryption algorithm {name:?} is not supported (NULL, TripleDES-CBC, AES-CBC, AES-CTR, AES-GCM are)"
                    ));
                }
            };
            if key_len >= 4 && aes(key_len - 4) {
                Ok(EncAlg::AesGcm {
                    key_len: key_len - 4,
                    icv_len,
                })
            } else {
                bad_len("20, 28 or 36 (AES key and 4-byte salt)")
            }
        }
    }
}

/// One usable ESP SA: algorithms resolved, key lengths checked.
#[derive(Clone, PartialEq, Eq)]
pub struct EspKey {
    /// SPI.
    pub spi: u32,
    /// Source address, `None` for `*`.
    pub src: Option<IpAddr>,
    /// Destination address, `None` for `*`.
    pub dst: Option<IpAddr>,
    /// 4 or 6 when the line says `IPv4` / `IPv6`, `None` for `Any IP`.
    pub ip_version: Option<u8>,
    /// Encryption algorithm.
    pub enc: EncAlg,
    enc_key: Vec<u8>,
    /// Authentication.
    pub auth: EspAuth,
    auth_key: Vec<u8>,
}

impl fmt::Debug for EspKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EspKey")
            .field("spi", &format_args!("0x{:08x}", self.spi))
            .field("src", &self.src)
            .field("dst", &self.dst)
            .field("enc", &self.enc)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl EspKey {
    /// Resolves one `esp_sa` line. See the module doc.
    pub fn from_sa(sa: &EspSa) -> Result<EspKey, String> {
        let addr = |what: &str, s: &str| -> Result<Option<IpAddr>, String> {
            let t = s.trim();
            if t == "*" || t.is_empty() {
                return Ok(None);
            }
            t.parse::<IpAddr>()
                .map(Some)
                .map_err(|_| format!("{what} address {t:?}: only an address or * is supported"))
        };
        let ip_version = match sa.protocol.as_str() {
            "IPv4" => Some(4),
            "IPv6" => Some(6),
            _ => None,
        };
        let enc = enc_from_wireshark_name(&sa.enc_alg, sa.enc_key.len())?;
        if sa.enc_key.len() != enc.key_material_len() {
            return Err(format!(
                "encryption key: {} bytes, {:?} needs {}",
                sa.enc_key.len(),
                sa.enc_alg,
                enc.key_material_len()
            ));
        }
        let auth = if enc.is_aead() {
            EspAuth::Null
        } else {
            EspAuth::from_wireshark_name(&sa.auth_alg)?
        };
        if let EspAuth::Checked(i) = auth
            && sa.auth_key.len() != i.key_len()
        {
            return Err(format!(
                "authentication key: {} bytes, {:?} needs {}",
                sa.auth_key.len(),
                sa.auth_alg,
                i.key_len()
            ));
        }
        Ok(EspKey {
            spi: sa.spi,
            src: addr("source", &sa.src)?,
            dst: addr("destination", &sa.dst)?,
            ip_version,
            enc,
            enc_key: sa.enc_key.clone(),
            auth,
            auth_key: sa.auth_key.clone(),
        })
    }

    /// This SA applies to a packet with this SPI between these addresses.
    pub fn matches(&self, spi: u32, src: IpAddr, dst: IpAddr) -> bool {
        let v = if src.is_ipv4() { 4 } else { 6 };
        self.spi == spi
            && self.ip_version.is_none_or(|x| x == v)
            && self.src.is_none_or(|a| a == src)
            && self.dst.is_none_or(|a| a == dst)
    }

    /// The ICV is checked (an HMAC or an AEAD tag).
    pub fn checks_integrity(&self) -> bool {
        self.enc.is_aead() || matches!(self.auth, EspAuth::Checked(_))
    }
}

/// Why an ESP packet could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EspError {
    /// Shorter than SPI + sequence number + IV + ICV + trailer.
    Truncated {
        /// Bytes given.
        len: usize,
        /// Bytes needed at least.
        needed: usize,
    },
    /// The ICV does not match: wrong keys for this SA, or altered.
    IntegrityFailed,
    /// The ciphertext is not a whole number of cipher blocks.
    BadLength {
        /// Ciphertext length.
        len: usize,
        /// Block size.
        block: usize,
    },
    /// The trailer does not fit: Pad Length beyond the data, or (without
    /// an integrity check) padding that is not 1, 2, 3, … or an unknown
    /// Next Header — most likely a wrong key.
    BadTrailer(String),
    /// The key does not fit the algorithm.
    BadKey(&'static str),
}

impl fmt::Display for EspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EspError::Truncated { len, needed } => write!(
                f,
                "ESP packet of {len} bytes, at least {needed} needed (cut by the snap length?)"
            ),
            EspError::IntegrityFailed => write!(
                f,
                "integrity check failed: wrong keys for this SA, or the packet was altered"
            ),
            EspError::BadLength { len, block } => write!(
                f,
                "encrypted data of {len} bytes is not a whole number of {block}-byte blocks"
            ),
            EspError::BadTrailer(why) => write!(f, "{why}"),
            EspError::BadKey(what) => write!(f, "key does not fit the algorithm: {what}"),
        }
    }
}

impl std::error::Error for EspError {}

impl From<DecryptError> for EspError {
    fn from(e: DecryptError) -> Self {
        match e {
            DecryptError::IntegrityFailed => EspError::IntegrityFailed,
            DecryptError::BadLength { len, block } => EspError::BadLength { len, block },
            DecryptError::BadKey(w) => EspError::BadKey(w),
            other => EspError::BadTrailer(other.to_string()),
        }
    }
}

/// One decrypted ESP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspDecrypted {
    /// Sequence number (low 32 bits).
    pub seq: u32,
    /// Next Header: 4 (IPv4) or 41 (IPv6) in tunnel mode, the transport
    /// protocol in transport mode, 59 for a dummy packet (RFC 4303 §2.6).
    pub next_header: u8,
    /// The payload, padding and trailer removed.
    pub payload: Vec<u8>,
    /// Pad Length.
    pub pad_len: u8,
    /// The ICV was checked (HMAC or AEAD); false with "no checking" or
    /// NULL authentication, where only the trailer was checked.
    pub verified: bool,
}

/// Next Header values accepted without an integrity check: IPv4, IPv6,
/// ICMP, TCP, UDP, GRE, ICMPv6, no next header, IP-in-IP, SCTP, ESP, AH.
const PLAUSIBLE_NEXT_HEADERS: [u8; 12] = [4, 41, 1, 6, 17, 47, 58, 59, 94, 132, 50, 51];

/// Decrypts one ESP packet (bytes from the SPI on). See the module doc.
pub fn decrypt_esp(packet: &[u8], key: &EspKey) -> Result<EspDecrypted, EspError> {
    let iv_len = key.enc.iv_len();
    let icv_len = match key.enc.aead_key_and_icv_len() {
        Some((_, icv)) => icv,
        None => key.auth.icv_len(),
    };
    // SPI, sequence number, IV, at least Pad Length + Next Header, ICV.
    let needed = 8 + iv_len + 2 + icv_len;
    if packet.len() < needed {
        return Err(EspError::Truncated {
            len: packet.len(),
            needed,
        });
    }
    let seq = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
    let body_end = packet.len() - icv_len;
    let icv = &packet[body_end..];
    let iv = &packet[8..8 + iv_len];
    let mut buf = packet[8 + iv_len..body_end].to_vec();
    if let Some((aes_len, _)) = key.enc.aead_key_and_icv_len() {
        // RFC 4106 §4-5: nonce = salt ‖ IV, AAD = SPI ‖ sequence number.
        let (k, salt) = key.enc_key.split_at(aes_len.min(key.enc_key.len()));
        if salt.len() != 4 || iv.len() != 8 {
            return Err(EspError::BadKey("AES-GCM salt or IV length"));
        }
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(salt);
        nonce[4..].copy_from_slice(iv);
        gcm_open(k, &nonce, &packet[..8], &mut buf, icv)?;
    } else {
        if let EspAuth::Checked(alg) = key.auth {
            verify_icv(alg, &key.auth_key, &packet[..body_end], icv)?;
        }
        decrypt_unauthenticated(key.enc, &key.enc_key, iv, &mut buf)?;
    }
    let verified = key.checks_integrity();
    let [.., pad_len, next_header] = buf[..] else {
        return Err(EspError::Truncated {
            len: packet.len(),
            needed,
        });
    };
    let keep = buf
        .len()
        .checked_sub(2 + usize::from(pad_len))
        .ok_or_else(|| {
            EspError::BadTrailer(format!(
                "pad length {pad_len} does not fit in {} decrypted bytes (wrong key?)",
                buf.len()
            ))
        })?;
    if !verified {
        let padding = &buf[keep..buf.len() - 2];
        let default = padding
            .iter()
            .enumerate()
            .all(|(i, &b)| usize::from(b) == i + 1);
        if !default || !PLAUSIBLE_NEXT_HEADERS.contains(&next_header) {
            return Err(EspError::BadTrailer(format!(
                "decrypted trailer is implausible (pad length {pad_len}, next header {next_header}) \
                 and this SA has no integrity check: wrong key?"
            )));
        }
    }
    buf.truncate(keep);
    Ok(EspDecrypted {
        seq,
        next_header,
        payload: buf,
        pad_len,
        verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbc::cipher::block_padding::NoPadding;
    use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
    use hmac::{Hmac, KeyInit, Mac};

    fn sa(enc: &str, ek: &[u8], auth: &str, ak: &[u8]) -> EspSa {
        EspSa {
            protocol: "IPv4".into(),
            src: "*".into(),
            dst: "192.0.2.1".into(),
            spi: 0x0102_0304,
            enc_alg: enc.into(),
            enc_key: ek.to_vec(),
            auth_alg: auth.into(),
            auth_key: ak.to_vec(),
        }
    }

    /// Payload + default padding to `block` + pad length + next header.
    fn trailer(payload: &[u8], block: usize, next: u8) -> Vec<u8> {
        let mut p = payload.to_vec();
        let mut n = 1u8;
        while !(p.len() + 2).is_multiple_of(block) {
            p.push(n);
            n += 1;
        }
        p.push(n - 1);
        p.push(next);
        p
    }

    /// AES-128-CBC + HMAC-SHA-256-128, sealed with the RustCrypto crates.
    fn cbc_packet(ek: &[u8; 16], ak: &[u8; 32], payload: &[u8]) -> Vec<u8> {
        let iv = [9u8; 16];
        let mut body = trailer(payload, 16, 4);
        let n = body.len();
        cbc::Encryptor::<aes::Aes128>::new_from_slices(ek, &iv)
            .unwrap()
            .encrypt_padded::<NoPadding>(&mut body, n)
            .unwrap();
        let mut p = vec![1, 2, 3, 4, 0, 0, 0, 7];
        p.extend(iv);
        p.extend(body);
        let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(ak).unwrap();
        m.update(&p);
        p.extend(&m.finalize().into_bytes()[..16]);
        p
    }

    #[test]
    fn cbc_hmac_round_trip_and_refusals() {
        let (ek, ak) = ([3u8; 16], [4u8; 32]);
        let key = EspKey::from_sa(&sa(
            "AES-CBC [RFC3602]",
            &ek,
            "HMAC-SHA-256-128 [RFC4868]",
            &ak,
        ))
        .unwrap();
        let inner = [
            0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let p = cbc_packet(&ek, &ak, &inner);
        let d = decrypt_esp(&p, &key).unwrap();
        assert_eq!((d.seq, d.next_header, d.verified), (7, 4, true));
        assert_eq!(d.payload, inner);
        for i in 0..p.len() {
            let mut m = p.clone();
            m[i] ^= 0x20;
            assert!(decrypt_esp(&m, &key).is_err(), "flip at {i}");
        }
        for cut in 0..p.len() {
            assert!(decrypt_esp(&p[..cut], &key).is_err(), "cut {cut}");
        }
        let wrong = EspKey::from_sa(&sa("AES-CBC", &ek, "HMAC-SHA-256-128", &[5u8; 32])).unwrap();
        assert_eq!(decrypt_esp(&p, &wrong), Err(EspError::IntegrityFailed));
        // Unchecked ICV with the wrong encryption key: the trailer check
        // refuses it.
        let unchecked = EspKey::from_sa(&sa(
            "AES-CBC",
            &[6u8; 16],
            "ANY 128 bit authentication [no checking]",
            &[],
        ))
        .unwrap();
        assert!(matches!(
            decrypt_esp(&p, &unchecked),
            Err(EspError::BadTrailer(_))
        ));
        let right_unchecked = EspKey::from_sa(&sa(
            "AES-CBC",
            &ek,
            "ANY 128 bit authentication [no checking]",
            &[],
        ))
        .unwrap();
        let d = decrypt_esp(&p, &right_unchecked).unwrap();
        assert!(!d.verified);
        assert_eq!(d.payload, inner);
    }

    #[test]
    fn gcm_round_trip() {
        use aes_gcm::aead::AeadInOut;
        let key_material = [7u8; 20];
        let key = EspKey::from_sa(&sa(
            "AES-GCM with 16 octet ICV [RFC4106]",
            &key_material,
            "NULL",
            &[],
        ))
        .unwrap();
        let iv = [1u8; 8];
        let head = [1u8, 2, 3, 4, 0, 0, 0, 9];
        let mut body = trailer(&[0x60, 0, 0, 0], 4, 41);
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&key_material[16..]);
        nonce[4..].copy_from_slice(&iv);
        let c = aes_gcm::Aes128Gcm::new_from_slice(&key_material[..16]).unwrap();
        let tag = c
            .encrypt_inout_detached(&nonce.into(), &head, body.as_mut_slice().into())
            .unwrap();
        let mut p = head.to_vec();
        p.extend(iv);
        p.extend(&body);
        p.extend(tag.as_slice());
        let d = decrypt_esp(&p, &key).unwrap();
        assert_eq!((d.next_header, d.verified), (41, true));
        assert_eq!(d.payload, [0x60, 0, 0, 0]);
        // The AAD covers the sequence number.
        let mut m = p.clone();
        m[7] = 10;
        assert_eq!(decrypt_esp(&m, &key), Err(EspError::IntegrityFailed));
    }

    #[test]
    fn sa_lines_resolve_or_say_why() {
        let ok = [
            ("NULL", 0, "HMAC-SHA-1-96 [RFC2404]", 20),
            ("TripleDES-CBC [RFC2451]", 24, "HMAC-MD5-96 [RFC2403]", 16),
            (
                "TripleDes-CBC [RFC2451]",
                24,
                "ANY 96 bit authentication [no checking]",
                0,
            ),
            ("AES-CBC [RFC3602]", 32, "HMAC-SHA-512-256 [RFC4868]", 64),
            ("AES-CTR [RFC3686]", 20, "HMAC-SHA-384-192 [RFC4868]", 48),
            ("AES-GCM with 8 octet ICV [RFC4106]", 36, "NULL", 0),
        ];
        for (enc, ek, auth, ak) in ok {
            let k = EspKey::from_sa(&sa(enc, &vec![1; ek], auth, &vec![2; ak]));
            assert!(k.is_ok(), "{enc} {auth}: {k:?}");
        }
        let bad = [
            (
                "AES-CBC [RFC3602]",
                15,
                "NULL",
                0,
                "encryption key: 15 bytes",
            ),
            ("TripleDES-CBC", 16, "NULL", 0, "needs 24"),
            (
                "AES-CBC",
                16,
                "HMAC-SHA-256-128",
                16,
                "authentication key: 16 bytes",
            ),
            ("CAST5-CBC [RFC2144]", 16, "NULL", 0, "not supported"),
            (
                "AES-CBC",
                16,
                "MAC-RIPEMD-160-96 [RFC2857]",
                20,
                "not supported",
            ),
            ("AES-GCM with 9 octet ICV", 20, "NULL", 0, "unknown"),
        ];
        for (enc, ek, auth, ak, want) in bad {
            let e = EspKey::from_sa(&sa(enc, &vec![1; ek], auth, &vec![2; ak])).unwrap_err();
            assert!(e.contains(want), "{enc} {auth}: {e}");
        }
        let mut s = sa("NULL", &[], "NULL", &[]);
        s.dst = "10.0.0.*".into();
        assert!(EspKey::from_sa(&s).unwrap_err().contains("destination"));
        // Matching: SPI, destination, address family.
        let k = EspKey::from_sa(&sa("NULL", &[], "NULL", &[])).unwrap();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(k.matches(0x0102_0304, b, a));
        assert!(!k.matches(0x0102_0304, a, b));
        assert!(!k.matches(0x0102_0305, b, a));
        assert!(!format!("{k:?}").contains("enc_key"));
    }
}
