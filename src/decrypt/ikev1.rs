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
        /// Whose KE payloads are missing.
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
                "IKEv1 SA {icookie}: Phase 1 IV unknown: the {missing} KE payload \
                 (Main Mode 3/4, Aggressive Mode 1/2) is not in the capture"
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
                        missing: match (a.is_some(), b.is_some()) {
                            (false, false) => "initiator's and responder's",
                            (true, _) => "responder's",
                            _ => "initiator's",
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
