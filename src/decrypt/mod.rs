//! Decryption of IKEv2 and IKEv1 messages and ESP packets with the keys
//! users already have: the Wireshark key tables (UAT files) that
//! strongSwan/libreswan log scripts or Wireshark itself produce, and
//! tcpdump's secrets files.
//!
//! Contract:
//! - [`KeyStore`] loads `ikev2_decryption_table`, `ikev1_decryption_table`
//!   and `esp_sa` files, and tcpdump's `-E` ESP secrets and IKEv2 secrets
//!   ([`KeyStore::load_file`], [`KeyStore::load_str`]). A bad line is a
//!   [`KeyError`] with the file and 1-based line number in
//!   [`KeyStore::errors`]; the good lines are still loaded. `esp_sa` lines
//!   are resolved into [`EspKey`]s when loaded (algorithms known, key
//!   lengths right).
//! - [`decrypt`] takes the bytes of one IKE message, starting at the IKE
//!   header (after UDP and, on port 4500, after the 4-byte non-ESP marker),
//!   finds its SK payload (RFC 7296 §3.14) or SKF payload (RFC 7383 §2.5),
//!   looks the keys up by (SPIi, SPIr), **verifies the integrity checksum
//!   first** and only then decrypts and strips the padding. Every failure
//!   is a [`DecryptError`]; a message is never returned undecrypted or
//!   unverified.
//! - An SKF fragment decrypts to a piece ([`Decrypted::fragment`] is set);
//!   [`Reassembler`] joins the verified pieces of one message (RFC 7383
//!   §2.6.2: duplicates ignored, a changed Total Fragments restarts or is
//!   discarded, state capped) into a whole [`Decrypted`].
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
//! - [`decrypt_esp`] decrypts one ESP packet (RFC 4303, ESP-in-UDP RFC
//!   3948) with its [`EspKey`] ([`KeyStore::esp`] finds it by SPI and
//!   addresses): ICV checked first when the SA has an integrity algorithm;
//!   without one, the trailer must be plausible and the result says
//!   `verified: false`. See docs/decryption.md.
//! - IKEv2 ciphers: NULL, 3DES, AES-CBC, AES-CTR, AES-GCM (8/12/16-byte
//!   ICV), ChaCha20-Poly1305 (RFC 7634). ESP: NULL, 3DES, AES-CBC, AES-CTR,
//!   AES-GCM.
//! - Not done yet: AES-CCM, ESN for ESP; for IKEv1, Cisco fragments
//!   (payload 132) reassembly, IDEA/Blowfish/CAST/Camellia and the Tiger
//!   hash.

mod esp;
mod ikev1;
mod ikev2;
mod keys;
mod skf;

pub use esp::{EspAuth, EspDecrypted, EspError, EspKey, decrypt_esp};
pub use ikev1::{Ikev1DecryptError, Ikev1Decryptor};
pub use ikev2::{DecryptError, Decrypted, decrypt, decrypt_parsed, decrypt_with};
pub use keys::{EncAlg, EspSa, Ikev1Key, Ikev2Sa, IntegAlg, KeyError, KeyStore, TableKind};
pub use skf::{MAX_HELD_BYTES, MAX_SETS, Reassembler, Reassembly};
