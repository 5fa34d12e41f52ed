//! IKEv2 SK payload decryption (RFC 7296 §3.14; AES-CTR RFC 5930; AES-GCM
//! RFC 5282).

use std::fmt;

use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::AeadInOut;
use aes_gcm::aead::consts::{U8, U12, U16};
use aes_gcm::{AesGcm, KeyInit};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};

use super::keys::{EncAlg, Ikev2Sa, IntegAlg, KeyStore, hex};
use crate::ike::{self, IkeAnomaly, IkeHeader, IkeMessage, PayloadDetail};

/// Why a message could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecryptError {
    /// Fewer bytes than the IKE header or its Length field say.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        available: usize,
    },
    /// Not an IKEv2 message.
    NotIkev2 {
        /// Major version from the header.
        version: u8,
    },
    /// The message has no SK payload.
    NoEncryptedPayload,
    /// The message carries an SKF payload (RFC 7383 fragment); reassembly is
    /// not supported yet.
    Fragmented,
    /// The payload chain is malformed around the SK payload.
    Malformed(&'static str),
    /// No key-table line for these SPIs.
    NoKeys {
        /// Initiator SPI, hex.
        spi_i: String,
        /// Responder SPI, hex.
        spi_r: String,
    },
    /// The key material does not fit the algorithm (only possible with an
    /// [`Ikev2Sa`] built by hand).
    BadKey(&'static str),
    /// The ICV does not match: wrong keys, or the message was altered.
    IntegrityFailed,
    /// The ciphertext length does not fit the cipher (not a whole number of
    /// blocks, or shorter than IV + ICV).
    BadLength {
        /// Ciphertext length (without IV and ICV).
        len: usize,
        /// The cipher's block size.
        block: usize,
    },
    /// The Pad Length octet points before the start of the plaintext.
    BadPadding {
        /// Pad Length octet.
        pad_len: u8,
        /// Decrypted length (with padding and the Pad Length octet).
        len: usize,
    },
    /// An algorithm this module cannot decrypt.
    UnsupportedAlgorithm(String),
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecryptError::Truncated { needed, available } => write!(
                f,
                "IKE message truncated: {available} bytes captured, {needed} needed"
            ),
            DecryptError::NotIkev2 { version } => {
                write!(f, "not an IKEv2 message (major version {version})")
            }
            DecryptError::NoEncryptedPayload => write!(f, "no SK (encrypted) payload"),
            DecryptError::Fragmented => write!(
                f,
                "SKF payload (RFC 7383 fragment): fragment reassembly is not supported yet"
            ),
            DecryptError::Malformed(what) => write!(f, "malformed message: {what}"),
            DecryptError::NoKeys { spi_i, spi_r } => {
                write!(f, "no keys for IKE SA {spi_i}/{spi_r} in the key tables")
            }
            DecryptError::BadKey(what) => write!(f, "key does not fit the algorithm: {what}"),
            DecryptError::IntegrityFailed => write!(
                f,
                "integrity check failed: wrong keys for this SA, or the message was altered"
            ),
            DecryptError::BadLength { len, block } => write!(
                f,
                "encrypted data of {len} bytes is not a whole number of {block}-byte blocks"
            ),
            DecryptError::BadPadding { pad_len, len } => write!(
                f,
                "pad length {pad_len} does not fit in {len} decrypted bytes"
            ),
            DecryptError::UnsupportedAlgorithm(a) => write!(f, "unsupported algorithm: {a}"),
        }
    }
}

impl std::error::Error for DecryptError {}

/// The verified and decrypted contents of one SK payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// Header of the message it came from.
    pub header: IkeHeader,
    /// Type of the first inner payload (the SK payload's Next Payload).
    pub first_payload: u8,
    /// The inner payloads, padding and Pad Length removed.
    pub plaintext: Vec<u8>,
}

impl Decrypted {
    /// The inner payload chain parsed by the crate's IKE parser, as an
    /// [`IkeMessage`] with the outer header, so that `notifies()`,
    /// `payload_names()` etc. work. Payload offsets and anomaly offsets count
    /// from the start of [`Decrypted::plaintext`].
    pub fn inner(&self) -> IkeMessage<'_> {
        let (payloads, anomalies): (_, Vec<IkeAnomaly>) =
            ike::parse_payload_chain(&self.plaintext, 2, self.first_payload);
        IkeMessage {
            header: self.header,
            payloads,
            anomalies,
        }
    }
}

/// Decrypts the SK payload of one IKEv2 message (bytes from the IKE header
/// on) with the keys of its SPIs from `keys`. See the module doc.
pub fn decrypt(message: &[u8], keys: &KeyStore) -> Result<Decrypted, DecryptError> {
    decrypt_inner(message, |h| {
        keys.ikev2(&h.ispi, &h.rspi)
            .ok_or_else(|| DecryptError::NoKeys {
                spi_i: hex(&h.ispi),
                spi_r: hex(&h.rspi),
            })
    })
}

/// Like [`decrypt`], with the keys given (the SPIs are not checked).
pub fn decrypt_with(message: &[u8], sa: &Ikev2Sa) -> Result<Decrypted, DecryptError> {
    decrypt_inner(message, |_| Ok(sa))
}

fn decrypt_inner<'k>(
    data: &[u8],
    lookup: impl FnOnce(&IkeHeader) -> Result<&'k Ikev2Sa, DecryptError>,
) -> Result<Decrypted, DecryptError> {
    let msg = ike::parse(data).map_err(|_| DecryptError::Truncated {
        needed: ike::HEADER_LEN,
        available: data.len(),
    })?;
    let h = msg.header;
    if h.major_version != 2 {
        return Err(DecryptError::NotIkev2 {
            version: h.major_version,
        });
    }
    let len = usize::try_from(h.length).unwrap_or(usize::MAX);
    if len > data.len() {
        return Err(DecryptError::Truncated {
            needed: len,
            available: data.len(),
        });
    }
    if len < ike::HEADER_LEN {
        return Err(DecryptError::Malformed("IKE header length below 28"));
    }
    let message = &data[..len];
    let mut sk = None;
    for p in &msg.payloads {
        match &p.detail {
            PayloadDetail::EncryptedFragment(_) => return Err(DecryptError::Fragmented),
            PayloadDetail::Encrypted(e) => sk = Some((p.offset, e.first_payload, e.data)),
            _ => {}
        }
    }
    let Some((sk_offset, first_payload, body)) = sk else {
        return Err(DecryptError::NoEncryptedPayload);
    };
    // The SK payload must be whole and last: its ICV is the end of the message.
    if sk_offset + 4 + body.len() != message.len() {
        return Err(DecryptError::Malformed(
            "SK payload does not end at the end of the message",
        ));
    }
    let sa = lookup(&h)?;
    let initiator = h.is_initiator();
    let (sk_e, sk_a) = if initiator {
        (&sa.sk_ei, &sa.sk_ai)
    } else {
        (&sa.sk_er, &sa.sk_ar)
    };
    if sk_e.len() != sa.enc.key_material_len() {
        return Err(DecryptError::BadKey("SK_e length"));
    }
    let iv_len = sa.enc.iv_len();
    let plain = if let EncAlg::AesGcm { key_len, icv_len } = sa.enc {
        let sk_header_end = sk_offset + 4;
        let min = iv_len + icv_len;
        if body.len() < min {
            return Err(DecryptError::Truncated {
                needed: sk_header_end + min,
                available: message.len(),
            });
        }
        let aad = &message[..sk_header_end];
        let iv = &body[..iv_len];
        let ct = &body[iv_len..body.len() - icv_len];
        let icv = &body[body.len() - icv_len..];
        let (key, salt) = sk_e.split_at(key_len);
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(salt);
        nonce[4..].copy_from_slice(iv);
        let mut buf = ct.to_vec();
        gcm_open(key, &nonce, aad, &mut buf, icv)?;
        buf
    } else {
        let icv_len = sa.integ.icv_len();
        if sk_a.len() != sa.integ.key_len() {
            return Err(DecryptError::BadKey("SK_a length"));
        }
        let min = iv_len + icv_len;
        if body.len() < min {
            return Err(DecryptError::Truncated {
                needed: sk_offset + 4 + min,
                available: message.len(),
            });
        }
        // RFC 7296 §3.14: the checksum covers the message from the IKE
        // header to the end of the encrypted data, and is checked before
        // anything is decrypted.
        let signed = &message[..message.len() - icv_len];
        let icv = &message[message.len() - icv_len..];
        verify_icv(sa.integ, sk_a, signed, icv)?;
        let iv = &body[..iv_len];
        let mut buf = body[iv_len..body.len() - icv_len].to_vec();
        decrypt_unauthenticated(sa.enc, sk_e, iv, &mut buf)?;
        buf
    };
    let Some(&pad_len) = plain.last() else {
        return Err(DecryptError::BadPadding { pad_len: 0, len: 0 });
    };
    let keep =
        plain
            .len()
            .checked_sub(usize::from(pad_len) + 1)
            .ok_or(DecryptError::BadPadding {
                pad_len,
                len: plain.len(),
            })?;
    let mut plaintext = plain;
    plaintext.truncate(keep);
    Ok(Decrypted {
        header: h,
        first_payload,
        plaintext,
    })
}

fn verify_icv(alg: IntegAlg, key: &[u8], signed: &[u8], icv: &[u8]) -> Result<(), DecryptError> {
    fn check<M: Mac + KeyInit>(key: &[u8], signed: &[u8], icv: &[u8]) -> Result<(), DecryptError> {
        let mut m =
            <M as KeyInit>::new_from_slice(key).map_err(|_| DecryptError::BadKey("SK_a length"))?;
        m.update(signed);
        // Constant-time comparison of the leftmost bytes (the truncated ICV).
        m.verify_truncated_left(icv)
            .map_err(|_| DecryptError::IntegrityFailed)
    }
    match alg {
        IntegAlg::None => Err(DecryptError::UnsupportedAlgorithm(
            "integrity NONE with a non-AEAD cipher".into(),
        )),
        IntegAlg::HmacMd5_96 => check::<Hmac<md5::Md5>>(key, signed, icv),
        IntegAlg::HmacSha1_96 => check::<Hmac<sha1::Sha1>>(key, signed, icv),
        IntegAlg::HmacSha256_96 | IntegAlg::HmacSha256_128 => {
            check::<Hmac<sha2::Sha256>>(key, signed, icv)
        }
        IntegAlg::HmacSha384_192 => check::<Hmac<sha2::Sha384>>(key, signed, icv),
        IntegAlg::HmacSha512_256 => check::<Hmac<sha2::Sha512>>(key, signed, icv),
    }
}

fn decrypt_unauthenticated(
    alg: EncAlg,
    key: &[u8],
    iv: &[u8],
    buf: &mut [u8],
) -> Result<(), DecryptError> {
    fn cbc<C>(key: &[u8], iv: &[u8], buf: &mut [u8]) -> Result<(), DecryptError>
    where
        cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
        C: cbc::cipher::BlockCipherDecrypt,
    {
        let block = iv.len();
        if buf.is_empty() || buf.len() % block != 0 {
            return Err(DecryptError::BadLength {
                len: buf.len(),
                block,
            });
        }
        let d = cbc::Decryptor::<C>::new_from_slices(key, iv)
            .map_err(|_| DecryptError::BadKey("key or IV length"))?;
        let len = buf.len();
        d.decrypt_padded::<NoPadding>(buf)
            .map_err(|_| DecryptError::BadLength { len, block })?;
        Ok(())
    }
    // RFC 5930 / RFC 3686: counter block = nonce(4) | IV(8) | 1.
    macro_rules! ctr {
        ($c:ty) => {{
            let (k, nonce) = key.split_at(key.len().saturating_sub(4));
            let mut block = [0u8; 16];
            if nonce.len() != 4 || iv.len() != 8 {
                return Err(DecryptError::BadKey("AES-CTR nonce or IV length"));
            }
            block[..4].copy_from_slice(nonce);
            block[4..12].copy_from_slice(iv);
            block[15] = 1;
            let mut c = ctr::Ctr32BE::<$c>::new_from_slices(k, &block)
                .map_err(|_| DecryptError::BadKey("key length"))?;
            c.apply_keystream(buf);
            Ok(())
        }};
    }
    match alg {
        EncAlg::Null => Ok(()),
        EncAlg::TripleDesCbc => cbc::<des::TdesEde3>(key, iv, buf),
        EncAlg::AesCbc { key_len: 16 } => cbc::<Aes128>(key, iv, buf),
        EncAlg::AesCbc { key_len: 24 } => cbc::<Aes192>(key, iv, buf),
        EncAlg::AesCbc { key_len: 32 } => cbc::<Aes256>(key, iv, buf),
        EncAlg::AesCtr { key_len: 16 } => ctr!(Aes128),
        EncAlg::AesCtr { key_len: 24 } => ctr!(Aes192),
        EncAlg::AesCtr { key_len: 32 } => ctr!(Aes256),
        other => Err(DecryptError::UnsupportedAlgorithm(format!("{other:?}"))),
    }
}

/// AES-GCM open with an 8-, 12- or 16-byte ICV (RFC 5282 §3-5).
fn gcm_open(
    key: &[u8],
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    icv: &[u8],
) -> Result<(), DecryptError> {
    fn open<A, T>(
        key: &[u8],
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        icv: &[u8],
    ) -> Result<(), DecryptError>
    where
        AesGcm<A, U12, T>: KeyInit + AeadInOut<NonceSize = U12, TagSize = T>,
        T: aes_gcm::TagSize,
    {
        let c = <AesGcm<A, U12, T> as KeyInit>::new_from_slice(key)
            .map_err(|_| DecryptError::BadKey("AES-GCM key length"))?;
        let tag = aes_gcm::Tag::<T>::try_from(icv).map_err(|_| DecryptError::IntegrityFailed)?;
        let nonce = aes_gcm::Nonce::<U12>::from(*nonce);
        c.decrypt_inout_detached(&nonce, aad, buf.into(), &tag)
            .map_err(|_| DecryptError::IntegrityFailed)
    }
    macro_rules! by_tag {
        ($a:ty) => {
            match icv.len() {
                8 => open::<$a, U8>(key, nonce, aad, buf, icv),
                12 => open::<$a, U12>(key, nonce, aad, buf, icv),
                16 => open::<$a, U16>(key, nonce, aad, buf, icv),
                n => Err(DecryptError::UnsupportedAlgorithm(format!(
                    "AES-GCM with a {n}-byte ICV"
                ))),
            }
        };
    }
    match key.len() {
        16 => by_tag!(Aes128),
        24 => by_tag!(Aes192),
        32 => by_tag!(Aes256),
        _ => Err(DecryptError::BadKey("AES-GCM key length")),
    }
}
