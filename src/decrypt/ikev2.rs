//! IKEv2 SK payload decryption (RFC 7296 §3.14; AES-CTR RFC 5930; AES-GCM
//! RFC 5282; ChaCha20-Poly1305 RFC 7634).

use std::fmt;

use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::AeadInOut;
use aes_gcm::aead::consts::{U8, U12, U16};
use aes_gcm::{AesGcm, KeyInit};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};

use super::keys::{EncAlg, Ikev2Sa, IntegAlg, KeyStore};
use crate::ike::{self, IkeHeader, IkeMessage, PayloadDetail};
use crate::session::hex;

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
    /// The message has no SK or SKF payload.
    NoEncryptedPayload,
    /// An SKF payload (RFC 7383 §2.5) whose Fragment Number is 0 or above
    /// its Total Fragments, or whose Total Fragments is 0.
    BadFragmentNumber {
        /// Fragment Number.
        number: u16,
        /// Total Fragments.
        total: u16,
    },
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
            DecryptError::BadFragmentNumber { number, total } => write!(
                f,
                "SKF fragment number {number} of {total} (RFC 7383 wants 1 <= number <= total)"
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

/// The verified and decrypted contents of one SK payload, of one SKF
/// payload (an RFC 7383 fragment), or of a reassembled fragmented message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// Header of the message it came from (for a reassembled message: of
    /// the fragment that completed it).
    pub header: IkeHeader,
    /// Type of the first inner payload (the SK or SKF payload's Next
    /// Payload; 0 in SKF fragments other than number 1).
    pub first_payload: u8,
    /// The inner payloads, padding and Pad Length removed.
    pub plaintext: Vec<u8>,
    /// `Some((fragment_number, total_fragments))` when this is one SKF
    /// fragment: `plaintext` is then a piece of the inner payload chain, to
    /// be joined with the others by a [`super::Reassembler`]. `None` for an
    /// SK payload and for a reassembled message.
    pub fragment: Option<(u16, u16)>,
}

impl Decrypted {
    /// The inner payload chain parsed by the crate's IKE parser, as an
    /// [`IkeMessage`] with the outer header, so that `notifies()`,
    /// `payload_names()` etc. work. Payload offsets and anomaly offsets count
    /// from the start of [`Decrypted::plaintext`]. For a lone fragment
    /// ([`Decrypted::is_fragment`]) other than a 1-of-1, the chain is only a
    /// piece and will not parse cleanly: reassemble first.
    pub fn inner(&self) -> IkeMessage<'_> {
        ike::parse_payload_chain(&self.plaintext, self.header, self.first_payload)
    }

    /// One SKF fragment, not (yet) a whole message.
    pub fn is_fragment(&self) -> bool {
        self.fragment.is_some()
    }
}

/// Decrypts the SK payload, or the SKF payload (one RFC 7383 fragment, its
/// own IV and ICV), of one IKEv2 message (bytes from the IKE header on)
/// with the keys of its SPIs from `keys`. See the module doc.
pub fn decrypt(message: &[u8], keys: &KeyStore) -> Result<Decrypted, DecryptError> {
    decrypt_parsed(message, &parse(message)?, keys)
}

/// Like [`decrypt`], with the keys given (the SPIs are not checked).
pub fn decrypt_with(message: &[u8], sa: &Ikev2Sa) -> Result<Decrypted, DecryptError> {
    decrypt_message(message, &parse(message)?, |_| Ok(sa))
}

/// Like [`decrypt`], for a message the caller already parsed: `msg` must
/// be `ike::parse(message)` (the session layer has it, so it is not parsed
/// twice).
pub fn decrypt_parsed(
    message: &[u8],
    msg: &IkeMessage<'_>,
    keys: &KeyStore,
) -> Result<Decrypted, DecryptError> {
    decrypt_message(message, msg, |h| {
        keys.ikev2(&h.ispi, &h.rspi)
            .ok_or_else(|| DecryptError::NoKeys {
                spi_i: hex(&h.ispi),
                spi_r: hex(&h.rspi),
            })
    })
}

fn parse(data: &[u8]) -> Result<IkeMessage<'_>, DecryptError> {
    ike::parse(data).map_err(|_| DecryptError::Truncated {
        needed: ike::HEADER_LEN,
        available: data.len(),
    })
}

fn decrypt_message<'k>(
    data: &[u8],
    msg: &IkeMessage<'_>,
    lookup: impl FnOnce(&IkeHeader) -> Result<&'k Ikev2Sa, DecryptError>,
) -> Result<Decrypted, DecryptError> {
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
            // RFC 7383 §2.5: the SKF header is the generic header plus
            // Fragment Number and Total Fragments.
            PayloadDetail::EncryptedFragment(f) => {
                if f.fragment_number == 0
                    || f.total_fragments == 0
                    || f.fragment_number > f.total_fragments
                {
                    return Err(DecryptError::BadFragmentNumber {
                        number: f.fragment_number,
                        total: f.total_fragments,
                    });
                }
                let fragment = Some((f.fragment_number, f.total_fragments));
                sk = Some((p.offset + 8, f.first_payload, f.data, fragment));
            }
            PayloadDetail::Encrypted(e) => sk = Some((p.offset + 4, e.first_payload, e.data, None)),
            _ => {}
        }
    }
    let Some((header_end, first_payload, body, fragment)) = sk else {
        return Err(DecryptError::NoEncryptedPayload);
    };
    // An SK/SKF payload whose own Length runs past the IKE Length: the
    // parser kept what is there, but the payload is not whole.
    if msg.anomalies.iter().any(|a| {
        matches!(
            a,
            ike::IkeAnomaly::PayloadBeyondMessage {
                payload_type: 46 | 53,
                ..
            }
        )
    }) {
        return Err(DecryptError::Malformed(
            "SK payload length runs past the end of the message",
        ));
    }
    // The SK/SKF payload must be whole and last: its ICV is the end of the
    // message.
    if header_end + body.len() != message.len() {
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
    let plain = if let Some((key_len, icv_len)) = sa.enc.aead_key_and_icv_len() {
        let min = iv_len + icv_len;
        if body.len() < min {
            return Err(DecryptError::Malformed(
                "SK payload shorter than its IV and ICV",
            ));
        }
        // RFC 5282 §5.1 / RFC 7383 §2.5: the AAD runs from the IKE header
        // to the end of the SK (or SKF) header.
        let aad = &message[..header_end];
        let iv = &body[..iv_len];
        let ct = &body[iv_len..body.len() - icv_len];
        let icv = &body[body.len() - icv_len..];
        let (key, salt) = sk_e.split_at(key_len);
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(salt);
        nonce[4..].copy_from_slice(iv);
        let mut buf = ct.to_vec();
        if sa.enc == EncAlg::ChaCha20Poly1305 {
            chacha_open(key, &nonce, aad, &mut buf, icv)?;
        } else {
            gcm_open(key, &nonce, aad, &mut buf, icv)?;
        }
        buf
    } else {
        let icv_len = sa.integ.icv_len();
        if sk_a.len() != sa.integ.key_len() {
            return Err(DecryptError::BadKey("SK_a length"));
        }
        let min = iv_len + icv_len;
        if body.len() < min {
            return Err(DecryptError::Malformed(
                "SK payload shorter than its IV and ICV",
            ));
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
        fragment,
    })
}

pub(super) fn verify_icv(
    alg: IntegAlg,
    key: &[u8],
    signed: &[u8],
    icv: &[u8],
) -> Result<(), DecryptError> {
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

/// CBC decryption in place without padding removal (shared with IKEv1):
/// `BadLength` unless `buf` is a non-empty whole number of blocks, the IV
/// being one block; `BadKey` for a key or IV of the wrong size.
pub(super) fn cbc_decrypt<C>(key: &[u8], iv: &[u8], buf: &mut [u8]) -> Result<(), DecryptError>
where
    cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
    C: cbc::cipher::BlockCipherDecrypt,
{
    let block = iv.len();
    if block == 0 || buf.is_empty() || !buf.len().is_multiple_of(block) {
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

pub(super) fn decrypt_unauthenticated(
    alg: EncAlg,
    key: &[u8],
    iv: &[u8],
    buf: &mut [u8],
) -> Result<(), DecryptError> {
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
        EncAlg::TripleDesCbc => cbc_decrypt::<des::TdesEde3>(key, iv, buf),
        EncAlg::AesCbc { key_len: 16 } => cbc_decrypt::<Aes128>(key, iv, buf),
        EncAlg::AesCbc { key_len: 24 } => cbc_decrypt::<Aes192>(key, iv, buf),
        EncAlg::AesCbc { key_len: 32 } => cbc_decrypt::<Aes256>(key, iv, buf),
        EncAlg::AesCtr { key_len: 16 } => ctr!(Aes128),
        EncAlg::AesCtr { key_len: 24 } => ctr!(Aes192),
        EncAlg::AesCtr { key_len: 32 } => ctr!(Aes256),
        other => Err(DecryptError::UnsupportedAlgorithm(format!("{other:?}"))),
    }
}

/// ChaCha20-Poly1305 open (RFC 7634 §2-3: nonce = 4-byte salt ‖ 8-byte IV,
/// 16-byte ICV, the AAD as for AES-GCM).
pub(super) fn chacha_open(
    key: &[u8],
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    icv: &[u8],
) -> Result<(), DecryptError> {
    use chacha20poly1305::ChaCha20Poly1305;
    let c = <ChaCha20Poly1305 as KeyInit>::new_from_slice(key)
        .map_err(|_| DecryptError::BadKey("ChaCha20-Poly1305 key length"))?;
    let tag = chacha20poly1305::Tag::try_from(icv).map_err(|_| DecryptError::IntegrityFailed)?;
    let nonce = chacha20poly1305::Nonce::from(*nonce);
    c.decrypt_inout_detached(&nonce, aad, buf.into(), &tag)
        .map_err(|_| DecryptError::IntegrityFailed)
}

/// AES-GCM open with an 8-, 12- or 16-byte ICV (RFC 5282 §3-5).
pub(super) fn gcm_open(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    // Generated by an independent implementation (Python `cryptography`
    // and `hmac`): (enc, integ, SK_ei, SK_ai, message with the I flag).
    const VECTORS: &[(&str, &str, &str, &str, &str)] = &[
        (
            "AES-CBC-192 [RFC3602]",
            "HMAC_SHA2_384_192 [RFC4868]",
            "52f22665a60c12d289185d950ee8813609166f6b113d178d",
            "6c0fd3901ff239a1a095f20f9395650cf9380b8edb224a6b248a1e924e8fd0ae2e1a9492a3305f188cb610900f9e347f",
            "010203040506070811121314151617182e20230800000001000000682900004cae886dc6507795ec745c4c3fcb2eb2c773e7473e07d690724ff6d97d6a6f8fecb0a0b3b9381d308079951fbf748c178c49aaaa02e77c5570a059f8eb49de40cf18c16dc0423e719b",
        ),
        (
            "AES-CBC-256 [RFC3602]",
            "HMAC_SHA2_512_256 [RFC4868]",
            "6b0af6ab13c38e92cae0d15057b159987f94cc7411d717f14579b2aa100fbbb3",
            "4fa593feaed27248b762e3ab5805f0765a2b9c1d7e0f37c44921bd3f6564eadf7f142a72668c47e223d16edd8c47b46afc5baee261f53b26152d263ba83b037c",
            "010203040506070811121314151617182e202308000000010000007029000054d4962e434801256b885e9c9051f320b0030a6d886c070ef5bf8fa0a913404284287652c404080e2c10d4ea5dcf1e1c355a402109ec717a7064bec47330ff5b43970019854f0539642d9d3e958f40d567",
        ),
        (
            "3DES [RFC2451]",
            "HMAC_MD5_96 [RFC2403]",
            "a2660f3011fc3570291c57990d1a0091268919f25d9d0612",
            "df359d6026a240f4589a5d791f1dd97c",
            "010203040506070811121314151617182e202308000000010000004c29000030fefa777a7b4f152405344e21c3ef749282eca2731986ca9868005d3a8d136247cff17f64a57bbbb384b0a77d",
        ),
        (
            "AES-CTR-128 [RFC5930]",
            "HMAC_SHA1_96 [RFC2404]",
            "5c25b08bea06c2874cfaa4dd17b2d842845de82a",
            "5bc539888ac78054a2399ccfc9fcc2da31ce3dd1",
            "010203040506070811121314151617182e20230800000001000000402900002466bdcd3a33847e5b07712e771c184c9e12e92ad2f5ced10c4ddb440a6fd955da",
        ),
        (
            "NULL [RFC2410]",
            "HMAC_SHA2_256_128 [RFC4868]",
            "",
            "bb07fd07ca47784231b19af45872ceefb9fc59f4f95d14381a3a783256347b9f",
            "010203040506070811121314151617182e202308000000010000003a2900001e000000080000001801010f767ed694c290cf1d7bb569b953c838",
        ),
        (
            "AES-GCM-128 with 8 octet ICV [RFC4106]",
            "NONE",
            "fce69cd7007ae8a758cca415d5a91ee863c8b6c0",
            "",
            "010203040506070811121314151617182e20230800000001000000392900001d337ae32d6fcaa25564e2932ebc00c2b63dcb269317702a4d06",
        ),
        (
            "AES-GCM-192 with 12 octet ICV [RFC4106]",
            "NONE",
            "16cdf2f8b8657666bef215b9282bfe20072697e777cea7259cd398fa",
            "",
            "010203040506070811121314151617182e202308000000010000003d2900002179a8ef59278c8c21a987f949fb611bf6ecddbcaf61e906bc9e7a1850cd",
        ),
        (
            "AES-GCM-256 with 16 octet ICV [RFC4106]",
            "NONE",
            "0503ccf8b9a61a86bfef236ffcdf31d3df360740364a803dc39653428b6bd5210fe8bd5a",
            "",
            "010203040506070811121314151617182e202308000000010000004129000025e575a995d0e7846bedae2ce34be3f336ff54e63b704f38e62295b0dfc4a87fce9e",
        ),
        (
            "CHACHA20-POLY1305 [RFC7634]",
            "NONE",
            "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
            "",
            "010203040506070811121314151617182e2025080000000100000041290000251011121314151617610394741f8d41667c9b4fe99d3b1c6cd79a25169bca775d6f",
        ),
    ];

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    fn store(enc: &str, integ: &str, ke: &str, ka: &str) -> KeyStore {
        let line =
            format!("0102030405060708,1112131415161718,{ke},{ke},\"{enc}\",{ka},{ka},\"{integ}\"");
        let mut ks = KeyStore::new();
        let n = ks.load_table(Path::new("v"), &line, super::super::TableKind::Ikev2);
        assert_eq!(n, 1, "{enc}: {:?}", ks.errors());
        ks
    }

    /// An SK payload whose Length claims more than the IKE Length leaves
    /// room for is refused, even with the extra bytes present after it.
    #[test]
    fn sk_length_past_the_ike_length_is_refused() {
        let (enc, integ, ke, ka, msg) = VECTORS[0];
        let ks = store(enc, integ, ke, ka);
        let mut m = unhex(msg);
        assert!(decrypt(&m, &ks).is_ok());
        let sk_len = u16::from_be_bytes([m[30], m[31]]) + 8;
        m[30..32].copy_from_slice(&sk_len.to_be_bytes());
        m.extend_from_slice(&[0; 8]);
        match decrypt(&m, &ks) {
            Err(DecryptError::Malformed(why)) => assert!(why.contains("past the end"), "{why}"),
            other => panic!("accepted: {other:?}"),
        }
    }

    #[test]
    fn independent_vectors_decrypt_and_verify() {
        assert_eq!(VECTORS.len(), 9);
        for &(enc, integ, ke, ka, msg) in VECTORS {
            let ks = store(enc, integ, ke, ka);
            let msg = unhex(msg);
            let d = decrypt(&msg, &ks).unwrap_or_else(|e| panic!("{enc}: {e}"));
            assert_eq!(d.first_payload, 41, "{enc}");
            assert_eq!(d.plaintext, [0, 0, 0, 8, 0, 0, 0, 24], "{enc}");
            let inner = d.inner();
            assert!(inner.anomalies.is_empty(), "{enc}");
            assert_eq!(inner.notify_types(), vec![24], "{enc}");
            // Any single flipped bit is refused.
            for i in 0..msg.len() {
                let mut m = msg.clone();
                m[i] ^= 0x80;
                assert!(decrypt(&m, &ks).is_err(), "{enc}: flip at {i} accepted");
            }
            // The last ICV byte is checked by the integrity step.
            let mut m = msg.clone();
            *m.last_mut().unwrap() ^= 1;
            assert_eq!(
                decrypt(&m, &ks),
                Err(DecryptError::IntegrityFailed),
                "{enc}"
            );
            // Every prefix is an error.
            for cut in 0..msg.len() {
                assert!(decrypt(&msg[..cut], &ks).is_err(), "{enc}: cut {cut}");
            }
            // Other SPIs: no keys.
            let mut m = msg.clone();
            m[0] ^= 1;
            assert!(matches!(decrypt(&m, &ks), Err(DecryptError::NoKeys { .. })));
        }
    }

    /// A NULL-encrypted message with a chosen plaintext, correctly signed.
    fn null_message(plain: &[u8], key: &[u8]) -> Vec<u8> {
        let sk_len = 4 + plain.len() + 16;
        let mut m = vec![
            1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
        ];
        m.extend([46, 0x20, 37, 0x08, 0, 0, 0, 2]);
        m.extend(((28 + sk_len) as u32).to_be_bytes());
        m.extend([41, 0]);
        m.extend((sk_len as u16).to_be_bytes());
        m.extend(plain);
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
        mac.update(&m);
        m.extend(&mac.finalize().into_bytes()[..16]);
        m
    }

    #[test]
    fn padding_and_empty_plaintext() {
        let key = [7u8; 32];
        let ks = store("NULL [RFC2410]", "HMAC_SHA2_256_128", "", &"07".repeat(32));
        // Pad length pointing before the start: BadPadding, after a good ICV.
        let m = null_message(&[0, 0, 0, 8, 0, 0, 0, 24, 9], &key);
        assert_eq!(
            decrypt(&m, &ks),
            Err(DecryptError::BadPadding { pad_len: 9, len: 9 })
        );
        // No plaintext at all (not even the Pad Length octet).
        let m = null_message(&[], &key);
        assert!(matches!(
            decrypt(&m, &ks),
            Err(DecryptError::BadPadding { .. })
        ));
        // An empty INFORMATIONAL: only the Pad Length octet.
        let m = null_message(&[0], &key);
        let d = decrypt(&m, &ks).unwrap();
        assert!(d.plaintext.is_empty());
        assert!(d.inner().payloads.is_empty());
    }

    /// An IKE_AUTH response in two SKF fragments, each sealed with
    /// ChaCha20-Poly1305 by the `chacha20poly1305` crate the way RFC 7634
    /// §3 / RFC 7383 §2.5 say (nonce = salt ‖ IV; AAD = IKE header + SKF
    /// header with Fragment Number and Total Fragments).
    fn chacha_fragment(key: &[u8; 36], number: u16, total: u16, piece: &[u8]) -> Vec<u8> {
        use chacha20poly1305::ChaCha20Poly1305;
        let iv = [number as u8; 8];
        let mut plain = piece.to_vec();
        plain.push(0); // Pad Length
        let skf_len = 8 + 8 + plain.len() + 16;
        let mut m = vec![
            1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
        ];
        m.extend([53, 0x20, 35, 0x20, 0, 0, 0, 1]);
        m.extend(((28 + skf_len) as u32).to_be_bytes());
        m.extend([if number == 1 { 36 } else { 0 }, 0]);
        m.extend((skf_len as u16).to_be_bytes());
        m.extend(number.to_be_bytes());
        m.extend(total.to_be_bytes());
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&key[32..]);
        nonce[4..].copy_from_slice(&iv);
        let c = <ChaCha20Poly1305 as KeyInit>::new_from_slice(&key[..32]).unwrap();
        let tag = c
            .encrypt_inout_detached(
                &chacha20poly1305::Nonce::from(nonce),
                &m,
                plain.as_mut_slice().into(),
            )
            .unwrap();
        m.extend(iv);
        m.extend(plain);
        m.extend(tag.as_slice());
        m
    }

    #[test]
    fn chacha20_poly1305_skf_fragments_reassemble() {
        let key = [0x5a; 36];
        let ks = store("ChaCha20-Poly1305", "NONE", &"5a".repeat(36), "");
        // IDr (FQDN "gw") then N(MOBIKE_SUPPORTED), split inside IDr.
        let chain = [
            41, 0, 0, 10, 2, 0, 0, 0, b'g', b'w', 0, 0, 0, 8, 0, 0, 0x40, 0x0c,
        ];
        let (a, b) = chain.split_at(7);
        let f1 = chacha_fragment(&key, 1, 2, a);
        let f2 = chacha_fragment(&key, 2, 2, b);
        let d1 = decrypt(&f1, &ks).unwrap();
        let d2 = decrypt(&f2, &ks).unwrap();
        assert_eq!((d1.fragment, d2.fragment), (Some((1, 2)), Some((2, 2))));
        let mut r = super::super::Reassembler::new();
        assert!(matches!(
            r.push(d2),
            super::super::Reassembly::Pending { have: 1, total: 2 }
        ));
        let super::super::Reassembly::Complete(whole) = r.push(d1) else {
            panic!("not complete")
        };
        let inner = whole.inner();
        assert!(inner.anomalies.is_empty(), "{:?}", inner.anomalies);
        assert_eq!(inner.payload_names(), vec!["IDr", "N"]);
        assert_eq!(inner.notify_types(), vec![16396]);
        // The AAD covers the Fragment Number: changing it breaks the tag.
        let mut bad = f2.clone();
        bad[33] = 1;
        assert_eq!(decrypt(&bad, &ks), Err(DecryptError::IntegrityFailed));
        // So does every flipped bit, and every cut.
        for i in 0..f1.len() {
            let mut m = f1.clone();
            m[i] ^= 0x01;
            assert!(decrypt(&m, &ks).is_err(), "flip at {i} accepted");
        }
        for cut in 0..f1.len() {
            assert!(decrypt(&f1[..cut], &ks).is_err(), "cut {cut}");
        }
        // Fragment number 3 of 2, and 0 of 2.
        for (n, t) in [(3u16, 2u16), (0, 2), (1, 0)] {
            let m = chacha_fragment(&key, n, t, a);
            assert_eq!(
                decrypt(&m, &ks),
                Err(DecryptError::BadFragmentNumber {
                    number: n,
                    total: t
                })
            );
        }
    }

    #[test]
    fn not_encrypted_or_not_v2() {
        let ks = KeyStore::new();
        let mut m = vec![0u8; 28];
        m[17] = 0x20;
        m[27] = 28;
        assert_eq!(decrypt(&m, &ks), Err(DecryptError::NoEncryptedPayload));
        m[17] = 0x10;
        assert_eq!(decrypt(&m, &ks), Err(DecryptError::NotIkev2 { version: 1 }));
        assert!(matches!(
            decrypt(&m[..27], &ks),
            Err(DecryptError::Truncated { .. })
        ));
    }
}
