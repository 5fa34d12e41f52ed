//! Decryption of IKEv2 and IKEv1 messages with the keys users already
//! have: the Wireshark key tables (UAT files) that strongSwan/libreswan log
//! scripts or Wireshark itself produce.
//!
//! Contract:
//! - [`KeyStore`] loads `ikev2_decryption_table`, `ikev1_decryption_table`
//!   and `esp_sa` files ([`KeyStore::load_file`], [`KeyStore::load_str`]).
//!   A bad line is a [`KeyError`] with the file and 1-based line number in
//!   [`KeyStore::errors`]; the good lines are still loaded. The IKEv2 and
//!   IKEv1 tables are used for decryption; `esp_sa` is parsed and kept.
//! - [`decrypt`] takes the bytes of one IKE message, starting at the IKE
//!   header (after UDP and, on port 4500, after the 4-byte non-ESP marker),
//!   finds its SK payload (RFC 7296 §3.14), looks the keys up by (SPIi,
//!   SPIr), **verifies the integrity checksum first** and only then
//!   decrypts and strips the padding. Every failure is a [`DecryptError`];
//!   a message is never returned undecrypted or unverified.
//! - [`Decrypted::inner`] walks the decrypted payload chain with the
//!   crate's normal parser, so notifies, IDi/IDr, AUTH, CERT, SA, TSi/TSr
//!   are read as [`crate::ike::PayloadDetail`] values.
//! - [`Ikev1Decryptor`] decrypts IKEv1 messages with the E flag. IKEv1 IVs
//!   depend on earlier messages (RFC 2409 Appendix B: the KE payloads, the
//!   last ciphertext block of the previous message of the same phase or
//!   Message ID), so it is fed every IKE message of a capture in order and
//!   keeps that state per initiator cookie; a retransmission reuses the IV
//!   of its first copy. IKEv1 has no integrity check: a key is taken as
//!   right when the plaintext is a clean payload chain starting with the
//!   header's Next Payload; anything else is
//!   [`Ikev1DecryptError::WrongKey`]. The result is a [`Decrypted`] like
//!   IKEv2's (padding removed).
//! - No panic on any input (message bytes or key-table text); no `unsafe`.
//! - Not done yet: SKF (RFC 7383 fragments) reassembly ([`DecryptError::Fragmented`]),
//!   ESP decryption, ChaCha20-Poly1305, AES-CCM; for IKEv1, Cisco
//!   fragments (payload 132) reassembly, IDEA/Blowfish/CAST/Camellia and
//!   the Tiger hash.

mod ikev1;
mod ikev2;
mod keys;

pub use ikev1::{Ikev1DecryptError, Ikev1Decryptor};
pub use ikev2::{DecryptError, Decrypted, decrypt, decrypt_parsed, decrypt_with};
pub use keys::{EncAlg, EspSa, Ikev1Key, Ikev2Sa, IntegAlg, KeyError, KeyStore, TableKind};
