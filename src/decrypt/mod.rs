//! Decryption of IKEv2 messages with the keys users already have: the
//! Wireshark key tables (UAT files) that strongSwan/libreswan log scripts or
//! Wireshark itself produce.
//!
//! Contract:
//! - [`KeyStore`] loads `ikev2_decryption_table`, `ikev1_decryption_table`
//!   and `esp_sa` files ([`KeyStore::load_file`], [`KeyStore::load_str`]).
//!   A bad line is a [`KeyError`] with the file and 1-based line number in
//!   [`KeyStore::errors`]; the good lines are still loaded. Only the IKEv2
//!   table is used for decryption so far; the other two are parsed and kept.
//! - [`decrypt`] takes the bytes of one IKE message, starting at the IKE
//!   header (after UDP and, on port 4500, after the 4-byte non-ESP marker),
//!   finds its SK payload (RFC 7296 §3.14), looks the keys up by (SPIi,
//!   SPIr), **verifies the integrity checksum first** and only then
//!   decrypts and strips the padding. Every failure is a [`DecryptError`];
//!   a message is never returned undecrypted or unverified.
//! - [`Decrypted::inner`] walks the decrypted payload chain with the
//!   crate's normal parser, so notifies, IDi/IDr, AUTH, CERT, SA, TSi/TSr
//!   are read as [`crate::ike::PayloadDetail`] values.
//! - No panic on any input (message bytes or key-table text); no `unsafe`.
//! - Not done yet: SKF (RFC 7383 fragments) reassembly ([`DecryptError::Fragmented`]),
//!   IKEv1 decryption, ESP decryption, ChaCha20-Poly1305, AES-CCM.

mod ikev1;
mod ikev2;
mod keys;

pub use ikev1::{Ikev1DecryptError, Ikev1Decryptor};
pub use ikev2::{DecryptError, Decrypted, decrypt, decrypt_parsed, decrypt_with};
pub use keys::{EncAlg, EspSa, Ikev1Key, Ikev2Sa, IntegAlg, KeyError, KeyStore, TableKind};
