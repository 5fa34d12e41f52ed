//! IKEv1 decryption (RFC 2408 §3.1 E flag, RFC 2409 Appendix B IV
//! chaining) with the keys of Wireshark's `ikev1_decryption_table`.
//!
//! Contract:
//! - [`Ikev1Decryptor`] is fed every IKE message of a capture, in capture
//!   order ([`Ikev1Decryptor::feed`] / [`Ikev1Decryptor::feed_parsed`]).
//!   From the messages in clear it keeps, per initiator cookie that has a
//!   key, the chosen ISAKMP transform (cipher and hash, from the
//!   responder's SA payload) and both KE payloads; encrypted messages are
//!   decrypted with the IV RFC 2409 Appendix B gives them:
//!   - Phase 1 (Message ID 0): the first encrypted message's IV is
//!     `hash(g^xi | g^xr)` truncated to the cipher block; each later one's
//!     is the last ciphertext block of the previous encrypted Phase 1
//!     message.
//!   - Any other Message ID (Quick Mode, Informational, Transaction): the
//!     first message's IV is `hash(last Phase 1 ciphertext block | M-ID)`
//!     truncated; the next ones of that Message ID chain from the last
//!     ciphertext block of the previous one.
//!   - A retransmission (the same bytes) is decrypted with the IV its first
//!     copy had and does not move any chain.
//! - IKEv1 has no integrity check over the ciphertext. A key is taken as
//!   right when the plaintext is a clean payload chain: it starts with the
//!   header's Next Payload type, every payload header has a known type, a
//!   zero reserved octet and a length that fits, every body decodes with
//!   no anomaly, and what follows the last payload (the padding) is
//!   shorter than 256 bytes. Anything else is
//!   [`Ikev1DecryptError::WrongKey`]. A wrong key passes this by chance with
//!   a probability below about 1e-6 per message.
//! - When a new Message ID does not decrypt with the IV from the last
//!   Phase 1 block, the IVs from the earlier Phase 1 blocks are tried too
//!   (newest first): a peer that could not decrypt a Phase 1 message (a
//!   PSK mismatch) derives its Phase 2 IVs from the last Phase 1 message
//!   it did accept. Several keys for one cookie (both peers' tables) are
//!   tried in table order.
//! - Every problem is an [`Ikev1DecryptError`] naming the SA; no panic on
//!   any input; memory is bounded by the number of keys (only SAs whose
//!   cookie has a key are tracked) and per-SA caps.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use aes::{Aes128, Aes192, Aes256};
use sha2::Digest;

use super::ikev2::{DecryptError, Decrypted, cbc_decrypt};
use super::keys::KeyStore;
use crate::ike::{self, IkeAnomaly, IkeHeader, IkeMessage, PayloadDetail};
use crate::session::hex;

/// Why an IKEv1 message could not be decrypted. Errors about an SA name
/// its initiator cookie (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ikev1DecryptError {
    /// Fewer bytes than the ISAKMP header or its Length field say.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        available: usize,
    },
    /// No key-table line for this initiator cookie.
    NoKey {
        /// Initiator cookie.
        icookie: String,
    },
    /// The cipher and hash are unknown: the responder's SA payload (Main or
    /// Aggressive Mode message 2) is not in the capture.
    NoProposal {
        /// Initiator cookie.
        icookie: String,
    },
    /// The negotiated cipher or hash is not supported.
    UnsupportedAlgorithm {
        /// Initiator cookie.
        icookie: String,
        /// What was negotiated.
        what: String,
    },
    /// The Phase 1 IV is unknown: a KE payload of Main Mode 3/4 or
    /// Aggressive Mode 1/2 is not in the capture (it started mid-way).
    NoKeyExchange {
        /// Initiator cookie.
        icookie: String,
        /// `"neither KE payload"` or `"only one KE payload"`.
        missing: &'static str,
    },
    /// The key's length does not fit the negotiated cipher.
    KeyLength {
        /// Initiator cookie.
        icookie: String,
        /// Cipher name.
        cipher: &'static str,
        /// Key bytes in the table.
        have: usize,
        /// Key bytes the cipher needs.
        need: usize,
    },
    /// The encrypted body is empty or not a whole number of cipher blocks.
    BadLength {
        /// Initiator cookie.
        icookie: String,
        /// Encrypted bytes.
        len: usize,
        /// Cipher block size.
        block: usize,
    },
    /// The plaintext is not a clean payload chain with any key and IV.
    WrongKey {
        /// Initiator cookie.
        icookie: String,
        /// Message ID of the message.
        message_id: u32,
        /// What was wrong with the plaintext (first key, first IV tried).
        why: String,
    },
}

impl fmt::Display for Ikev1DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ikev1DecryptError::Truncated { needed, available } => write!(
                f,
                "IKEv1 message truncated: {available} bytes captured, {needed} needed"
            ),
            Ikev1DecryptError::NoKey { icookie } => {
                write!(f, "IKEv1 SA {icookie}: no key in the key tables")
            }
            Ikev1DecryptError::NoProposal { icookie } => write!(
                f,
                "IKEv1 SA {icookie}: cipher and hash unknown: the responder's SA payload \
                 (Main/Aggressive Mode message 2) is not in the capture"
            ),
            Ikev1DecryptError::UnsupportedAlgorithm { icookie, what } => {
                write!(f, "IKEv1 SA {icookie}: unsupported algorithm: {what}")
            }
            Ikev1DecryptError::NoKeyExchange { icookie, missing } => write!(
                f,
                "IKEv1 SA {icookie}: Phase 1 IV unknown: {missing} of Main Mode 3/4 or \
                 Aggressive Mode 1/2 is in the capture (it started mid-way or lost them)"
            ),
            Ikev1DecryptError::KeyLength {
                icookie,
                cipher,
                have,
                need,
            } => write!(
                f,
                "IKEv1 SA {icookie}: the key has {have} bytes, {cipher} needs {need}"
            ),
            Ikev1DecryptError::BadLength {
                icookie,
                len,
                block,
            } => write!(
                f,
                "IKEv1 SA {icookie}: encrypted data of {len} bytes is not a whole number of \
                 {block}-byte blocks"
            ),
            Ikev1DecryptError::WrongKey {
                icookie,
                message_id,
                why,
            } => write!(
                f,
                "IKEv1 SA {icookie}, message ID {message_id}: the decrypted payloads do not \
                 parse ({why}): wrong key for this SA, or the IV chain is broken by an \
                 encrypted message missing from the capture"
            ),
        }
    }
}

impl std::error::Error for Ikev1DecryptError {}

/// Cipher of the ISAKMP SA (RFC 2409 Appendix A, Encryption Algorithm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cipher {
    Des,
    TripleDes,
    /// AES-CBC with the Key Length attribute in bytes, if sent.
    Aes(Option<usize>),
}

impl Cipher {
    fn block(self) -> usize {
        match self {
            Cipher::Des | Cipher::TripleDes => 8,
            Cipher::Aes(_) => 16,
        }
    }

    /// Key bytes needed, given the table key's length (AES without a Key
    /// Length attribute takes the table key's if it is 16, 24 or 32).
    fn key_len(self, have: usize) -> usize {
        match self {
            Cipher::Des => 8,
            Cipher::TripleDes => 24,
            Cipher::Aes(Some(n)) => n,
            Cipher::Aes(None) if matches!(have, 16 | 24 | 32) => have,
            Cipher::Aes(None) => 16,
        }
    }

    fn name(self, key_len: usize) -> &'static str {
        match (self, key_len) {
            (Cipher::Des, _) => "DES-CBC",
            (Cipher::TripleDes, _) => "3DES-CBC",
            (Cipher::Aes(_), 24) => "AES-CBC-192",
            (Cipher::Aes(_), 32) => "AES-CBC-256",
            (Cipher::Aes(_), _) => "AES-CBC-128",
        }
    }

    fn decrypt(self, key: &[u8], iv: &[u8], buf: &mut [u8]) -> Result<(), DecryptError> {
        match (self, key.len()) {
            (Cipher::Des, _) => cbc_decrypt::<des::Des>(key, iv, buf),
            (Cipher::TripleDes, _) => cbc_decrypt::<des::TdesEde3>(key, iv, buf),
            (Cipher::Aes(_), 16) => cbc_decrypt::<Aes128>(key, iv, buf),
            (Cipher::Aes(_), 24) => cbc_decrypt::<Aes192>(key, iv, buf),
            (Cipher::Aes(_), 32) => cbc_decrypt::<Aes256>(key, iv, buf),
            _ => Err(DecryptError::BadKey("AES key length")),
        }
    }
}

/// Hash algorithm of the ISAKMP SA (RFC 2409 Appendix A; RFC 4868 §3 for
/// SHA2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HashAlg {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            HashAlg::Md5 => run::<md5::Md5>(parts),
            HashAlg::Sha1 => run::<sha1::Sha1>(parts),
            HashAlg::Sha256 => run::<sha2::Sha256>(parts),
            HashAlg::Sha384 => run::<sha2::Sha384>(parts),
            HashAlg::Sha512 => run::<sha2::Sha512>(parts),
        }
    }
}

/// The chosen ISAKMP transform, or why it cannot be used.
type Suite = Result<(Cipher, HashAlg), String>;

/// Reads the cipher and hash of an ISAKMP transform's attributes.
fn suite_of(t: &ike::V1Transform<'_>) -> Suite {
    let cipher = match t.attribute_value(1) {
        Some(1) => Cipher::Des,
        Some(5) => Cipher::TripleDes,
        Some(7) => {
            let bits = t.attribute_value(14);
            match bits {
                None => Cipher::Aes(None),
                Some(b @ (128 | 192 | 256)) => Cipher::Aes(Some((b / 8) as usize)),
                Some(b) => return Err(format!("AES-CBC with a {b}-bit key")),
            }
        }
        Some(n) => {
            let name = ike::v1_attribute_value_name(1, 1, n)
                .map(str::to_string)
                .unwrap_or_else(|| format!("encryption algorithm {n}"));
            return Err(name);
        }
        None => return Err("no encryption algorithm attribute".into()),
    };
    let hash = match t.attribute_value(2) {
        Some(1) => HashAlg::Md5,
        Some(2) => HashAlg::Sha1,
        Some(4) => HashAlg::Sha256,
        Some(5) => HashAlg::Sha384,
        Some(6) => HashAlg::Sha512,
        Some(n) => {
            let name = ike::v1_attribute_value_name(1, 2, n)
                .map(str::to_string)
                .unwrap_or_else(|| format!("hash algorithm {n}"));
            return Err(name);
        }
        None => return Err("no hash algorithm attribute".into()),
    };
    Ok((cipher, hash))
}

/// The ISAKMP transforms of the first SA payload of a message.
fn isakmp_transforms<'m>(m: &'m IkeMessage<'_>) -> Option<Vec<&'m ike::V1Transform<'m>>> {
    m.payloads.iter().find_map(|p| match &p.detail {
        PayloadDetail::V1Sa(sa) => Some(
            sa.proposals
                .iter()
                .filter(|p| p.protocol_id == 1)
                .flat_map(|p| &p.transforms)
                .collect(),
        ),
        _ => None,
    })
}

/// Most Phase 1 IV checkpoints, Message IDs and message digests kept per
/// SA: a real SA has a handful of each.
const MAX_P1_BLOCKS: usize = 64;
const MAX_MESSAGE_IDS: usize = 4096;
const MAX_SEEN: usize = 8192;
/// Phase 1 blocks tried for a new Message ID (newest first).
const MAX_P2_FALLBACKS: usize = 8;
/// Most plaintext bytes after the last payload (RFC 2409 Appendix B pads
/// with at most 255 bytes).
const MAX_PADDING: usize = 255;

/// What is known of one ISAKMP SA (by initiator cookie).
#[derive(Default)]
struct SaState {
    rcookie: [u8; 8],
    /// From the responder's SA payload (its one chosen transform).
    chosen: Option<Suite>,
    /// From the initiator's SA payload when it offered one transform.
    offered: Option<Suite>,
    ke_i: Option<Vec<u8>>,
    ke_r: Option<Vec<u8>>,
    /// The Phase 1 IV checkpoints: `hash(g^xi | g^xr)` truncated, then the
    /// last ciphertext block of each new encrypted Phase 1 message. The
    /// last one is the next Phase 1 message's IV.
    p1_blocks: Vec<Vec<u8>>,
    /// Per Message ID (not 0): the next message's IV.
    p2_next: HashMap<u32, Vec<u8>>,
    /// Messages already seen (digest of their bytes) -> the IV they were
    /// decrypted with (retransmissions reuse it).
    seen: HashMap<u64, Vec<u8>>,
}

impl SaState {
    fn suite(&self) -> Option<&Suite> {
        self.chosen.as_ref().or(self.offered.as_ref())
    }

    /// Learns the transform and KE payloads from a message in clear.
    fn learn(&mut self, m: &IkeMessage<'_>) {
        let h = &m.header;
        if h.message_id != 0 {
            return;
        }
        let from_initiator_first = h.rspi == [0; 8];
        if let Some(ts) = isakmp_transforms(m) {
            if from_initiator_first {
                if self.offered.is_none() && ts.len() == 1 {
                    self.offered = ts.first().map(|t| suite_of(t));
                }
            } else if self.chosen.is_none() {
                self.chosen = ts.first().map(|t| suite_of(t));
            }
        }
        let ke = m.payloads.iter().find_map(|p| match &p.detail {
            PayloadDetail::Ke(k) => Some(k.data),
            _ => None,
        });
        if let Some(ke) = ke {
            if from_initiator_first || self.ke_i.is_none() {
                if self.ke_i.is_none() {
                    self.ke_i = Some(ke.to_vec());
                }
            } else if self.ke_r.is_none() && self.ke_i.as_deref() != Some(ke) {
                self.ke_r = Some(ke.to_vec());
            }
        }
    }

    /// The Phase 1 IV checkpoints, computing the first one when both KE
    /// payloads are known.
    fn p1_blocks(
        &mut self,
        icookie: &str,
        hash: HashAlg,
        block: usize,
    ) -> Result<&[Vec<u8>], Ikev1DecryptError> {
        if self.p1_blocks.is_empty() {
            let (gi, gr) = match (&self.ke_i, &self.ke_r) {
                (Some(gi), Some(gr)) => (gi, gr),
                (a, b) => {
                    return Err(Ikev1DecryptError::NoKeyExchange {
                        icookie: icookie.to_string(),
                        // Which peer sent the one seen is not known for
                        // sure (the first KE seen is taken as the
                        // initiator's), so it is not named.
                        missing: if a.is_some() || b.is_some() {
                            "only one KE payload"
                        } else {
                            "neither KE payload"
                        },
                    });
                }
            };
            let mut iv = hash.hash(&[gi, gr]);
            iv.truncate(block);
            self.p1_blocks.push(iv);
        }
        Ok(&self.p1_blocks)
    }
}

/// Per-capture IKEv1 decryption state: feed it every IKE message in
/// capture order. See the module doc.
#[derive(Default)]
pub struct Ikev1Decryptor {
    sas: HashMap<[u8; 8], SaState>,
}

impl fmt::Debug for Ikev1Decryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ikev1Decryptor")
            .field("sas", &self.sas.len())
            .finish()
    }
}

fn digest(data: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    h.finish()
}

impl Ikev1Decryptor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one IKE message (bytes from the ISAKMP header on). `None` when
    /// it is not an encrypted IKEv1 message (what it shows in clear is
    /// kept when its SA has a key); else its decryption.
    pub fn feed(
        &mut self,
        message: &[u8],
        keys: &KeyStore,
    ) -> Option<Result<Decrypted, Ikev1DecryptError>> {
        match ike::parse(message) {
            Ok(m) => self.feed_parsed(message, &m, keys),
            Err(_) => None,
        }
    }

    /// Like [`Ikev1Decryptor::feed`] for a message the caller already
    /// parsed: `msg` must be `ike::parse(message)`.
    pub fn feed_parsed(
        &mut self,
        message: &[u8],
        msg: &IkeMessage<'_>,
        keys: &KeyStore,
    ) -> Option<Result<Decrypted, Ikev1DecryptError>> {
        let h = msg.header;
        if h.major_version != 1 {
            return None;
        }
        let has_key = keys.ikev1_keys().iter().any(|k| k.icookie == h.ispi);
        if !h.is_encrypted_v1() {
            if has_key {
                let sa = self.sas.entry(h.ispi).or_default();
                // A new responder cookie: a new negotiation with the same
                // initiator cookie starts over.
                if h.rspi != [0; 8] && sa.rcookie != [0; 8] && sa.rcookie != h.rspi {
                    *sa = SaState::default();
                }
                if h.rspi != [0; 8] {
                    sa.rcookie = h.rspi;
                }
                sa.learn(msg);
            }
            return None;
        }
        if !has_key {
            return Some(Err(Ikev1DecryptError::NoKey {
                icookie: hex(&h.ispi),
            }));
        }
        let sa = self.sas.entry(h.ispi).or_default();
        Some(decrypt_message(sa, message, &h, keys))
    }
}

fn decrypt_message(
    sa: &mut SaState,
    data: &[u8],
    h: &IkeHeader,
    keys: &KeyStore,
) -> Result<Decrypted, Ikev1DecryptError> {
    let icookie = hex(&h.ispi);
    let len = usize::try_from(h.length).unwrap_or(usize::MAX);
    if len > data.len() {
        return Err(Ikev1DecryptError::Truncated {
            needed: len,
            available: data.len(),
        });
    }
    let body = data.get(ike::HEADER_LEN..len).unwrap_or(&[]);
    let (cipher, hash) = match sa.suite() {
        None => return Err(Ikev1DecryptError::NoProposal { icookie }),
        Some(Err(what)) => {
            return Err(Ikev1DecryptError::UnsupportedAlgorithm {
                icookie,
                what: what.clone(),
            });
        }
        Some(Ok(s)) => *s,
    };
    let block = cipher.block();
    if body.is_empty() || !body.len().is_multiple_of(block) {
        return Err(Ikev1DecryptError::BadLength {
            icookie,
            len: body.len(),
            block,
        });
    }
    let last_block = body.get(body.len() - block..).unwrap_or(&[]).to_vec();
    let dig = digest(data.get(..len).unwrap_or(data));
    let retransmission = sa.seen.get(&dig).cloned();
    let candidates: Vec<Vec<u8>> = if let Some(iv) = &retransmission {
        vec![iv.clone()]
    } else if h.message_id == 0 {
        let blocks = sa.p1_blocks(&icookie, hash, block)?;
        blocks.last().cloned().into_iter().collect()
    } else if let Some(iv) = sa.p2_next.get(&h.message_id) {
        vec![iv.clone()]
    } else {
        let mid = h.message_id.to_be_bytes();
        let blocks = sa.p1_blocks(&icookie, hash, block)?;
        blocks
            .iter()
            .rev()
            .take(MAX_P2_FALLBACKS)
            .map(|b| {
                let mut iv = hash.hash(&[b, &mid]);
                iv.truncate(block);
                iv
            })
            .collect()
    };
    let mut result = Err(None);
    'keys: for key in keys.ikev1_keys().iter().filter(|k| k.icookie == h.ispi) {
        let need = cipher.key_len(key.enc_key.len());
        if key.enc_key.len() != need {
            if matches!(result, Err(None)) {
                result = Err(Some(Ikev1DecryptError::KeyLength {
                    icookie: icookie.clone(),
                    cipher: cipher.name(need),
                    have: key.enc_key.len(),
                    need,
                }));
            }
            continue;
        }
        for iv in &candidates {
            let mut plain = body.to_vec();
            if cipher.decrypt(&key.enc_key, iv, &mut plain).is_err() {
                continue;
            }
            match check_plaintext(&plain, h) {
                Ok(end) => {
                    plain.truncate(end);
                    result = Ok((iv.clone(), plain));
                    break 'keys;
                }
                Err(why) => {
                    if !matches!(result, Err(Some(Ikev1DecryptError::WrongKey { .. }))) {
                        result = Err(Some(Ikev1DecryptError::WrongKey {
                            icookie: icookie.clone(),
                            message_id: h.message_id,
                            why,
                        }));
                    }
                }
            }
        }
    }
    // Move the chains on (not for a retransmission): the next IV is this
    // message's last ciphertext block, whatever the key did.
    if retransmission.is_none() {
        let used = match &result {
            Ok((iv, _)) => Some(iv.clone()),
            Err(_) => candidates.first().cloned(),
        };
        if let Some(iv) = used
            && sa.seen.len() < MAX_SEEN
        {
            sa.seen.insert(dig, iv);
        }
        if h.message_id == 0 {
            if sa.p1_blocks.len() < MAX_P1_BLOCKS {
                sa.p1_blocks.push(last_block);
            } else if let Some(b) = sa.p1_blocks.last_mut() {
                *b = last_block;
            }
        } else if sa.p2_next.len() < MAX_MESSAGE_IDS || sa.p2_next.contains_key(&h.message_id) {
            sa.p2_next.insert(h.message_id, last_block);
        }
    }
    match result {
        Ok((_, plaintext)) => Ok(Decrypted {
            header: *h,
            first_payload: h.next_payload,
            plaintext,
            fragment: None,
        }),
        Err(Some(e)) => Err(e),
        Err(None) => Err(Ikev1DecryptError::NoKey { icookie }),
    }
}

/// Checks that `plain` is a clean IKEv1 payload chain starting with the
/// header's Next Payload; returns where the chain ends (the padding
/// follows), or what is wrong.
fn check_plaintext(plain: &[u8], h: &IkeHeader) -> Result<usize, String> {
    if h.next_payload == 0 {
        return Err("the header names no first payload".into());
    }
    let m = ike::parse_payload_chain(plain, *h, h.next_payload);
    let mut end = 0;
    for p in &m.payloads {
        if plain.get(p.offset + 1).is_some_and(|&r| r != 0) {
            return Err(format!(
                "reserved octet not zero in payload type {} at offset {}",
                p.payload_type, p.offset
            ));
        }
        end = p.offset + 4 + p.body.len();
    }
    for a in &m.anomalies {
        match a {
            IkeAnomaly::TrailingBytesAfterPayloads { .. } => {}
            other => return Err(other.to_string()),
        }
    }
    let padding = plain.len().saturating_sub(end);
    if padding > MAX_PADDING {
        return Err(format!("{padding} bytes after the last payload"));
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decrypt::TableKind;
    use std::path::Path;

    /// (name, key-table line, messages, plaintexts of the encrypted ones).
    type Vector = (
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    );

    // Made by an independent implementation (Python `cryptography` and
    // `hashlib`): Main Mode 2 (the responder's SA), 3 and 4 (KE) in clear;
    // Main Mode 5 and 6 (ID, HASH), two Quick Mode messages (HASH, NONCE)
    // and an Informational (HASH, N NO-PROPOSAL-CHOSEN) encrypted with
    // the RFC 2409 Appendix B IVs, padded as Appendix B says.
    const VECTORS: &[Vector] = &[
        (
            "DES-CBC + SHA1",
            "67ab4d4450ed213d,a025d2e3ed5f84e8",
            &[
                "67ab4d4450ed213d3fb2aee0e7cf786f0110020000000000000000480000002c0000000100000001000000200101000100000018010100008001000180020002800300018004000e",
                "67ab4d4450ed213d3fb2aee0e7cf786f0410020000000000000000740a00004409f52121bf1d55dee8df278841ab25ac523e05bea2b23bab399ac523947d4f372e80daf6af6777963a21bc85bf4f2a6127a090ae482fffd03d44b89341156f45000000146fa6a5fac7c80249382047eaf2aad7f5",
                "67ab4d4450ed213d3fb2aee0e7cf786f0410020000000000000000740a00004433697cf739970ee2c9edcc9476ee3819b5c6927ec95b121c30dd1a682d4c4bdcc9565afc78dd85ccd3e5180e8d2fe381cdbf68a41ae31b04a7b81a7d9ef58ad10000001419ade8ddfe405240061f1ce3e73c316f",
                "67ab4d4450ed213d3fb2aee0e7cf786f0510020100000000000000441bd011a2931ebf2c6fa0e9c9aed404724cf42f1add72fab6f9d16791d4ce6634e36582666156c369",
                "67ab4d4450ed213d3fb2aee0e7cf786f051002010000000000000044d713699c469c8d63b21be2aad9e2069a54cdc0d438cfc0af130f9bbd25385cc6758de3dfeb2476c4",
                "67ab4d4450ed213d3fb2aee0e7cf786f081020010102030400000054d0de3db3c1da856511c64351d7278010fd29d367efc0b5dda4662ae9601547473d0a693bbd86d9a8532008850a69c7e97ef17bc250bdae85",
                "67ab4d4450ed213d3fb2aee0e7cf786f081020010102030400000054b4e1632d723f5669d6b1f9d609e476040d48ac5f96702e3f34eab0c12ce5ce019698e23774874d230065c8b508ffed25d6bda360f14f528a",
                "67ab4d4450ed213d3fb2aee0e7cf786f081005010a0b0c0d0000004c26b68d8731213144935932ba52ad3b661c51539f7095f13c692b5566ab3cd9297a463db495895b2bf88d82cd6ad55ef9",
            ],
            &[
                "0800000c01000000c000020a000000187e71ded9f880d6e0e4de10d5f25fc23593c35f70",
                "0800000c01000000cb007114000000188289d21907f33f06ddcd5eb9bc449ae2bbce2f43",
                "0a0000180afdb467c4c41cf735a1eb08c9195b4a76474f43000000187d64538a529e3fb518eddc2dd5d9ae95251495b6",
                "0a0000188a46bc21ed27b1d09d15135da270ea60c03cf4ba000000184a44353da7ffb0d9c753781afb3f9ab7d272e898",
                "0b0000186b46ff917bf570402c022a84166a5b9ec602973700000010000000010304000ef33ca6dd",
            ],
        ),
        (
            "3DES-CBC + SHA2-512",
            "976816e829270826,6cd33be430a3fccfd01823a8aa913dcaf2c14b1db3d247b8",
            &[
                "976816e8292708264bf3de225f79a2a30110020000000000000000480000002c0000000100000001000000200101000100000018010100008001000580020006800300018004000e",
                "976816e8292708264bf3de225f79a2a30410020000000000000000740a00004457d8c5afc7c3dfb3d7e0f1acc27e41b80311e587a3921a53c84a5992129f424ea5d594e020996b6e58d9f4191668f63748a7ad8364def826dad1c1bc5aa3810200000014283fa767cb0f1e7b5dc2fb594b419175",
                "976816e8292708264bf3de225f79a2a30410020000000000000000740a00004455b18ac50add5d8d72d1f3ce81a184652c183dbbbedd401683273dda1263873f672c3772c2260797a7f849935d4d0f166a53d4591cc1167296df9d75ddec681a000000149b2ad44a5c399457b3a62e599cf2e4ba",
                "976816e8292708264bf3de225f79a2a3051002010000000000000074b9635d0f0f7db28adb672f621836d6f40f2bceba67f670a56f9c1324dc58827a20f5ab60af13a74d3679e46bd62ad5a1ab930b012d722a4ee2a91061c9883a340f999bf25b1839f374bb10113bf0ec8787cb1f9356297b4a",
                "976816e8292708264bf3de225f79a2a30510020100000000000000747d3a570098af56165a24a024bc547bc6594678134ff530e2fe68760c16c4819fa1ce421fa784791495d0941ea7c51517fb77dfef3e3a54b3da03042ebb52f2f1969287cb4586485aaa4b6d2c6c70b2d4660871f9feedea15",
                "976816e8292708264bf3de225f79a2a308102001010203040000007c5ae8482bb3146fc60f3be89c8cbc5e63bb61ce6bb34ffb0f4b138b0b9697f1b9ce49bc13702b0471a21b88efe8d188b97f3d96333b9b8ec405f23a36808186f0b958c7acc3275de246809d3b4fdd13ea601065af2a3276cc23573c70690873dd",
                "976816e8292708264bf3de225f79a2a308102001010203040000007cd0e5f596fd7bd12bbb13d63c4ddbcb2dbf2cdee0a4ea4cd945d612e945acba0fcefa17b6e10d8cafc1e8e17ce2b2596a3567c68ba4993334654f8885c830fbd9bd2576190bacfed5af3893e91fe24c28fb9e6b7abbdf443862179a0e192c9215",
                "976816e8292708264bf3de225f79a2a3081005010a0b0c0d000000741f4692a7764e45efd722a1dbdafb4df1955c54ae4512822c5028f793e118a9836a250b109ec2e7873e2a98d748da173ebe60b9608f6f65ef40f197d51468ac7bf956980644c475dbba3d15585b27000170b1316a6819510f",
            ],
            &[
                "0800000c01000000c000020a00000044d42ad9150e1c4cc8a1b6be40289eb3e0a831eab2c633e8716a8e1c704fcca2541fcbc8c8117aac2681ed3d642a712c7c03df4ade4827e2178db012862b304691",
                "0800000c01000000cb00711400000044d3a7e2c007ae0c193ba2612fc24b38c1caeff93d6cf9cf5a86889424b359d19ead23a5624d68c188642ff16844cee433d62e9296a9b9276a3912425609922219",
                "0a00004495a7b4a051b6767822a90afad373f17f6390ed5b24bf29c3a478548d12aaaa7d6ca5c6a6a684a66b828575b1d4dd7828e53adfc29706705da35a8c81f73870a0000000185ad7bdb7e5f0505d9d74c77441b37331b71a9506",
                "0a00004487a15a966589b452da57454a82339a56ef4bf20fabe0454b3a66ff8d554a0c2caa1264fad5f1e40e1978d311e92f72774a34edfc7e43511cd3f3bb6514b8737f00000018c8ef7e22fe70f3fab9cd73b02fac567767cac670",
                "0b00004447933571ad4302826d50b23c528f6e055bcb9c38c893518085bb88c22308c625e24b89467b4c1d5832b58990cafdb87f0614d3a20dbdb384e4f1d32ab671e16e00000010000000010304000e88a97b07",
            ],
        ),
        (
            "AES-CBC-256 + SHA2-256",
            "1575a53781369aa3,d1c5616b650380e6b8bb824668c839ab94e8efab82e396b5ef6804ccf128fe16",
            &[
                "1575a53781369aa3796a88b43fd8522401100200000000000000004c00000030000000010000000100000024010100010000001c010100008001000780020004800300018004000e800e0100",
                "1575a53781369aa3796a88b43fd852240410020000000000000000740a0000443c8044329c133e7acdf80477576a9288e1dd9641191b38a11da0c5201f00b0fb0cd562fbf8ff3cc2e1fcfbf9543c28374befe11ffb8a385087bad5f3c4445a1900000014986357ae8b6752e1c056b972b01d1389",
                "1575a53781369aa3796a88b43fd852240410020000000000000000740a000044a90e223ed7b9084b23b86169f8f245927ad2bdf4885328596a4350b04bcedf29574569d7c494e5fd20de8630c7944ac582b7079359077afe7cd983fff40e74e70000001485ce28fad7472f35c010708eb58ca54b",
                "1575a53781369aa3796a88b43fd8522405100201000000000000005c11728f8472f8e2a6c59d72b9671fb3e8715435f6f406634b79da59bf03666dd3a0c93ae8af9bcfdaf23abb6b4fcdc78f735168b2e0c7220ef9bc6d36a4cf9875",
                "1575a53781369aa3796a88b43fd8522405100201000000000000005ce89a324b815450ccfcc63a747d7f025c3d779493e62c73720477a5ae14056f7a609428c21f9a22cf451a1a984eadd32e48f3c0e7c4df106d6afd9109fce0f724",
                "1575a53781369aa3796a88b43fd8522408102001010203040000005c64d2c72b6fc118358378dada79d7f76cd271d4f05e11e9d14c137a70310322449fd9074dd79ccf28626ff71681f4dc6df359491896c04d4c280634f823c6d34a",
                "1575a53781369aa3796a88b43fd8522408102001010203040000005c3133890dccff47f73b0fca2e423990331be92ffc30410e302bd89a1a872b82b3c060bd15eb2ad5bbc76333977ddd49f032eb9949846e972728a9e703667ed3c8",
                "1575a53781369aa3796a88b43fd85224081005010a0b0c0d0000005cb7a9cf344a4f9b55f3051693440fbf6ae639343a6fbdf516914a8cd2a242420e66f2dd7cdf0bd7a43239dee070c237e1bd6255386255580225676b53f19140cb",
            ],
            &[
                "0800000c01000000c000020a0000002432b242437dc3ce33527a51604af478d074940856c06b2ff86aa5c0db7c60bf0b",
                "0800000c01000000cb007114000000248c198729c18ed893cbeb8640c77541740f5812c8cf1fa3a35ddf1ea9248d1cf3",
                "0a0000241c1d19b358019ccd6db89498e843e8ad3e70eab86be300851fbf80658492088f00000018f5bbe0bd1e68e052744229bcc755e091fd558332",
                "0a000024686dc25f5ca0e6a519623a1c447ea253c96dd563420fdd8bc1ec2b674026acea00000018544e69616edcd7740387b79d3a97b389b511de85",
                "0b0000249d710aaf6ecfc719c2f652ca8828313f8fe94db91a8a6bb30a7853e6f85a741700000010000000010304000e443b9f6e",
            ],
        ),
        (
            "AES-CBC-192 + SHA2-384",
            "860ad437eaf0ab31,407ce18cd78e9f654ae7743b8be4b980f4f657634671fa6e",
            &[
                "860ad437eaf0ab318a86aa221b88f2df01100200000000000000004c00000030000000010000000100000024010100010000001c010100008001000780020005800300018004000e800e00c0",
                "860ad437eaf0ab318a86aa221b88f2df0410020000000000000000740a000044b3b8bf00128a29db0014c94e88a864399d4fb9a8c740e3b7ec50b2c34340ea0cbe65f70be8fc121d7ca40cc34da9f83b27d1f0699e8bc570f689484f5aa15618000000143e7e768e3e32775b1d73674cc0d31a39",
                "860ad437eaf0ab318a86aa221b88f2df0410020000000000000000740a0000442464800b2df4c6b5da6563c66bda93d73060236b2fab1bca863105ee46ab31f156c98300e4464c7317b83c86880a07547f60c1316d2b32f7fb7c6341b24ea8ab000000141c71353cf302e17e2bcd1c73bc4ba7e3",
                "860ad437eaf0ab318a86aa221b88f2df05100201000000000000006c2c613f314a94d1e65e0b7ecfcfbce52928a0ce69c5c549fbafc7cf49d41b6910ffc2a37f7f1706e65869847479468489aba4fcb8ee0b813ae2114e7fa2c34563ea35f800a6647bf58f8e4d54e982b601",
                "860ad437eaf0ab318a86aa221b88f2df05100201000000000000006c37c076ca4f6f6d25a2e94efe9d9bba6cc0cb849c9f101e235d04d508926e05e2401e1ff9dc103bbed05ca5e27d5b88a18896f6bfc351a7e1137bdbe2e77deb821cc7352158a062e3654f93394b1498f8",
                "860ad437eaf0ab318a86aa221b88f2df08102001010203040000006cfdab9e2b04daa1c4370b7833b8804187bd0fb49b9e2f60ba10182109bbf9b0b40cd7dd449bff2a7f43467ab35942c42d08c6513d9ef868c7bec4cf610315846f437eb1e04c20cfd7b73d941e707c3e16",
                "860ad437eaf0ab318a86aa221b88f2df08102001010203040000006ce3987611401c3fbb66b80297d7c60dec16ed278ca55c2abf02c4a41c57cd11ffb74adb08c2df794ae17cd98ddb1631a35b8b265385bdbb35efa3c4e647836ed6c6f3b51d8d90555fee73a38117c826c6",
                "860ad437eaf0ab318a86aa221b88f2df081005010a0b0c0d0000006c36618c0c33dca39dad2594b44abb4a423ea509eb63b58fab3b12bf8dc9851d2d1859cd2d3a17ce62f93f7f342c30e696f85a9747f11cd717015655cd08adb1a95682e19c7898b136a0a5f8ae9c70f4d9",
            ],
            &[
                "0800000c01000000c000020a00000034d79e61cc4cb396bc930769a6bb626b2a103a8408325238a1449c5c284f0d5f6ed746a22ae37ab54defbc7af7d9113389",
                "0800000c01000000cb0071140000003465c40e3c9e46a286bff60af14d20b2275e46e95e44ebd370ef69c744a67fe659ea0189780f8aa802338590d235698814",
                "0a000034c10412609009a6fb3fe8ab443c74fbf5b90eb3c0dd87f2bcda80944cc9b17353c2779cfdb2b1b1f2444fa0900eb9c78000000018f054da93f5c8114cef40ecf46c729a1d3d845633",
                "0a000034d7ce015d009430901e65c23f6d28b18061c2bb4e2af5b26c825311b83568518390d4cc8e530657b69cea8b6b4ecce96f000000187e2c5e80c8d9d46b36ac64a46c6790fd2bc0bff4",
                "0b0000342ca777f89efa842bb2d461c1fc7b7bd0f6a8b86f9fe57efc667d761c70c2f5f079e2cf61c6514c4f6de3747bd211a4de00000010000000010304000edf50725f",
            ],
        ),
        (
            "AES-CBC (no Key Length attribute) + MD5",
            "0893e420c37df119,6ea53660cec3019f582248b1ae0f4d91",
            &[
                "0893e420c37df1194369b2c23d22f4330110020000000000000000480000002c0000000100000001000000200101000100000018010100008001000780020001800300018004000e",
                "0893e420c37df1194369b2c23d22f4330410020000000000000000740a0000449ec98a1bea6bfdcb858d2d3f42d1332f2b3c90c7d64dfd6bc12f347022a99509b2332b678b96b52f527980e6c1da266c6ce39dc46c66214a56bb1531fad3b5470000001418572316fc96d325206616191fa6dda0",
                "0893e420c37df1194369b2c23d22f4330410020000000000000000740a000044afed65dbf17c238aae99c684c0619ce461fd2b39f9ebce8736379fca0ceb853fd0151ecd6bd6387a8aeef8cc6f1041b5cbba2410488064807d03ab8a34464c2b0000001429afb13001247aac79991c135a145ed1",
                "0893e420c37df1194369b2c23d22f43305100201000000000000004ca173430cf38dfed6398868183f71d31dc31559a0037998f7907b5476b203ef2dff3d833b4fed1792e13078662bd0c10e",
                "0893e420c37df1194369b2c23d22f43305100201000000000000004c3c791a9fd7c2d4023f59eee2a5ef40d2e59b380f7c106f25d2ad4c8f9686bdf231144640622cff466431e2d757f47536",
                "0893e420c37df1194369b2c23d22f43308102001010203040000004cc6a2cf1025fee2bba2bce1773f4ecc7490674343303497f70f311a287613a633eb61e0b57c535b943b890200061c2437",
                "0893e420c37df1194369b2c23d22f43308102001010203040000004c558c32ffb06638eb0085a32d203cce2807b76daf62c02de63cd1ea2a942d2b15bcee145c0ab53ddc421a932338fa6038",
                "0893e420c37df1194369b2c23d22f433081005010a0b0c0d0000004ce78eafca5e826a33c3514fa3cd6dc9f3ff84522b8affe1e04a0fbee45a1e8dbcf14ae5eb4201d8def12f9e953cd13e8d",
            ],
            &[
                "0800000c01000000c000020a000000148bfd30bb1fea2d0e9d3c56861ceac567",
                "0800000c01000000cb007114000000143d40d84f61f13f04c0af8c4a5bf47beb",
                "0a000014515b90c39af2134bb6c4faefd2620c3e0000001880269e0fbe5583873fe85b4a72ec995e87ff68c8",
                "0a000014ceafe92526a33e36ebf1627048eb5277000000187ef934c321400f4b8f637ca5d84c134f22ad8a15",
                "0b0000144978f53afa81bcb93f57719857d74e8700000010000000010304000ec745a979",
            ],
        ),
    ];

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    fn store(line: &str) -> KeyStore {
        let mut ks = KeyStore::new();
        assert_eq!(ks.load_table(Path::new("v"), line, TableKind::Ikev1), 1);
        ks
    }

    #[test]
    fn independent_vectors_decrypt() {
        assert_eq!(VECTORS.len(), 5);
        for &(name, line, msgs, plains) in VECTORS {
            let ks = store(line);
            let mut d = Ikev1Decryptor::new();
            let mut got = Vec::new();
            for m in msgs {
                if let Some(r) = d.feed(&unhex(m), &ks) {
                    got.push(r.unwrap_or_else(|e| panic!("{name}: {e}")));
                }
            }
            assert_eq!(got.len(), plains.len(), "{name}");
            for (g, p) in got.iter().zip(plains.iter()) {
                assert_eq!(g.plaintext, unhex(p), "{name}");
                assert!(g.inner().anomalies.is_empty(), "{name}");
            }
            let last = got.last().unwrap().inner();
            assert_eq!(last.notify_types(), vec![14], "{name}");
        }
    }

    #[test]
    fn vectors_refuse_wrong_keys_and_survive_every_cut_and_flip() {
        for &(name, line, msgs, _) in VECTORS {
            let (cookie, key) = line.split_once(',').unwrap();
            let mut wrong = unhex(key);
            wrong[0] ^= 0x40;
            let ks = store(&format!("{cookie},{}", hex(&wrong)));
            let mut d = Ikev1Decryptor::new();
            for m in msgs {
                if let Some(r) = d.feed(&unhex(m), &ks) {
                    assert!(
                        matches!(r, Err(Ikev1DecryptError::WrongKey { .. })),
                        "{name}: {r:?}"
                    );
                }
            }
            // Cuts and bit flips of each message after a good prefix: an
            // error or a decryption, never a panic.
            let ks = store(line);
            let all: Vec<Vec<u8>> = msgs.iter().map(|m| unhex(m)).collect();
            for (i, m) in all.iter().enumerate() {
                for cut in (0..m.len()).step_by(3) {
                    let mut d = Ikev1Decryptor::new();
                    for p in &all[..i] {
                        let _ = d.feed(p, &ks);
                    }
                    let _ = d.feed(&m[..cut], &ks);
                    let mut f = m.clone();
                    f[cut] ^= 0x10;
                    let _ = d.feed(&f, &ks);
                }
            }
        }
    }

    #[test]
    fn a_new_responder_cookie_starts_over() {
        let (name, line, msgs, _) = VECTORS[0];
        let ks = store(line);
        let mut d = Ikev1Decryptor::new();
        let all: Vec<Vec<u8>> = msgs.iter().map(|m| unhex(m)).collect();
        for m in &all[..3] {
            assert!(d.feed(m, &ks).is_none());
        }
        // A clear message with another responder cookie: a new
        // negotiation, whose SA and KE payloads are not known yet.
        let mut other = all[0].clone();
        other[8] ^= 0xff;
        assert!(d.feed(&other, &ks).is_none());
        let r = d.feed(&all[3], &ks).expect("encrypted");
        assert!(
            matches!(r, Err(Ikev1DecryptError::NoKeyExchange { .. })),
            "{name}: {r:?}"
        );
        // An unkeyed cookie keeps no state at all.
        let mut stranger = all[1].clone();
        stranger[0] ^= 0xff;
        assert!(d.feed(&stranger, &ks).is_none());
        assert_eq!(d.sas.len(), 1);
    }

    #[test]
    fn suites_from_attributes() {
        let (_, line, msgs, _) = VECTORS[2];
        let ks = store(line);
        let mut d = Ikev1Decryptor::new();
        let _ = d.feed(&unhex(msgs[0]), &ks);
        let sa = d.sas.values().next().unwrap();
        assert_eq!(
            sa.chosen,
            Some(Ok((Cipher::Aes(Some(32)), HashAlg::Sha256)))
        );
        // A key of the wrong length is named with the cipher's needs.
        let (cookie, key) = line.split_once(',').unwrap();
        let ks = store(&format!("{cookie},{}", &key[..32]));
        let mut d = Ikev1Decryptor::new();
        let errs: Vec<_> = msgs.iter().filter_map(|m| d.feed(&unhex(m), &ks)).collect();
        assert_eq!(errs.len(), 5);
        for e in errs {
            assert_eq!(
                e.unwrap_err().to_string(),
                format!("IKEv1 SA {cookie}: the key has 16 bytes, AES-CBC-256 needs 32")
            );
        }
    }
}
