//! Wireshark UAT key tables, as users export them or as strongSwan /
//! libreswan debug-log scripts write them:
//!
//! - `ikev2_decryption_table`: `SPIi,SPIr,SK_ei,SK_er,"ENC ALG",SK_ai,SK_ar,"INTEG ALG"`
//! - `ikev1_decryption_table`: `icookie,enc_key`
//! - `esp_sa`: `"proto","src","dst","SPI","enc alg","enc key","auth alg","auth key"`
//!
//! Fields are comma-separated, optionally double-quoted (with Wireshark's
//! `\xHH`, `\"` and `\\` escapes inside quotes); hex may carry a `0x` prefix;
//! `#` starts a comment line; blank lines are skipped. A bad line is an
//! error with its file and line number and never stops the other lines.
//!
//! tcpdump's secrets files are read too:
//!
//! - `-E` / `-E file:` ESP secrets: `0xSPI@dst alg:secret` (e.g.
//!   `0x12345678@192.1.2.45 3des-cbc-hmac96:0x4043…`), several per line
//!   separated by commas; `-hmac96` means a 12-byte ICV that tcpdump does
//!   not check; a secret without `0x` is ASCII. Each becomes an `esp_sa`
//!   entry.
//! - IKEv2 secrets: `ikev2 I|R 0xSPIi 0xSPIr integ:0xSK_a enc:0xSK_e`, the
//!   `I` line with the initiator's keys and the `R` line with the
//!   responder's, joined into one IKEv2 SA.

use super::esp::EspKey;
use crate::session::hex;
use std::fmt;
use std::path::{Path, PathBuf};

/// IKEv2 encryption algorithm of an `ikev2_decryption_table` line, by
/// Wireshark's name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncAlg {
    /// `NULL [RFC2410]`: no encryption, no IV.
    Null,
    /// `3DES [RFC2451]`: 24-byte key, 8-byte IV.
    TripleDesCbc,
    /// `AES-CBC-{128,192,256} [RFC3602]`: key of `key_len` bytes, 16-byte IV.
    AesCbc {
        /// 16, 24 or 32.
        key_len: usize,
    },
    /// `AES-CTR-{128,192,256} [RFC5930]`: key material is the AES key plus a
    /// 4-byte nonce; 8-byte IV.
    AesCtr {
        /// AES key length: 16, 24 or 32 (the key material is 4 bytes longer).
        key_len: usize,
    },
    /// `AES-GCM-{128,192,256} with {8,12,16} octet ICV [RFC5282]`: key
    /// material is the AES key plus a 4-byte salt; 8-byte IV.
    AesGcm {
        /// AES key length: 16, 24 or 32 (the key material is 4 bytes longer).
        key_len: usize,
        /// ICV length: 8, 12 or 16.
        icv_len: usize,
    },
    /// `CHACHA20-POLY1305 [RFC7634]` (our name: Wireshark's IKEv2 table
    /// has no entry for it; `ChaCha20-Poly1305`, `CHACHA20_POLY1305` and
    /// `ENCR_CHACHA20_POLY1305` are accepted too): key material is the
    /// 32-byte key plus a 4-byte salt; 8-byte IV; 16-byte ICV.
    ChaCha20Poly1305,
}

impl EncAlg {
    /// Parses Wireshark's name ("AES-CBC-128 [RFC3602]"); the bracketed
    /// reference is ignored, case too.
    pub fn from_wireshark_name(name: &str) -> Option<EncAlg> {
        let n = strip_reference(name).to_ascii_uppercase();
        let aes_len = |bits: &str| match bits {
            "128" => Some(16),
            "192" => Some(24),
            "256" => Some(32),
            _ => None,
        };
        if n == "NULL" {
            return Some(EncAlg::Null);
        }
        if n == "3DES" {
            return Some(EncAlg::TripleDesCbc);
        }
        if matches!(
            n.replace('_', "-").as_str(),
            "CHACHA20-POLY1305" | "ENCR-CHACHA20-POLY1305"
        ) {
            return Some(EncAlg::ChaCha20Poly1305);
        }
        if let Some(bits) = n.strip_prefix("AES-CBC-") {
            return aes_len(bits).map(|key_len| EncAlg::AesCbc { key_len });
        }
        if let Some(bits) = n.strip_prefix("AES-CTR-") {
            return aes_len(bits).map(|key_len| EncAlg::AesCtr { key_len });
        }
        if let Some(rest) = n.strip_prefix("AES-GCM-") {
            // "128 WITH 16 OCTET ICV"
            let mut w = rest.split_whitespace();
            let key_len = aes_len(w.next()?)?;
            if w.next()? != "WITH" {
                return None;
            }
            let icv_len = match w.next()? {
                "8" => 8,
                "12" => 12,
                "16" => 16,
                _ => return None,
            };
            if w.next()? != "OCTET" || w.next()? != "ICV" || w.next().is_some() {
                return None;
            }
            return Some(EncAlg::AesGcm { key_len, icv_len });
        }
        None
    }

    /// Length of SK_e for this algorithm (key plus salt/nonce).
    pub fn key_material_len(self) -> usize {
        match self {
            EncAlg::Null => 0,
            EncAlg::TripleDesCbc => 24,
            EncAlg::AesCbc { key_len } => key_len,
            EncAlg::AesCtr { key_len } | EncAlg::AesGcm { key_len, .. } => key_len + 4,
            EncAlg::ChaCha20Poly1305 => 36,
        }
    }

    /// Length of the IV at the start of the SK payload body.
    pub fn iv_len(self) -> usize {
        match self {
            EncAlg::Null => 0,
            EncAlg::TripleDesCbc => 8,
            EncAlg::AesCbc { .. } => 16,
            EncAlg::AesCtr { .. } | EncAlg::AesGcm { .. } | EncAlg::ChaCha20Poly1305 => 8,
        }
    }

    /// True for a combined-mode (AEAD) algorithm, whose ICV replaces the
    /// integrity algorithm's.
    pub fn is_aead(self) -> bool {
        self.aead_key_and_icv_len().is_some()
    }

    /// For an AEAD: the cipher key length (SK_e without its 4-byte salt)
    /// and the ICV length.
    pub fn aead_key_and_icv_len(self) -> Option<(usize, usize)> {
        match self {
            EncAlg::AesGcm { key_len, icv_len } => Some((key_len, icv_len)),
            EncAlg::ChaCha20Poly1305 => Some((32, 16)),
            _ => None,
        }
    }
}

/// IKEv2 integrity algorithm of an `ikev2_decryption_table` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegAlg {
    /// `NONE`: only valid with an AEAD encryption algorithm.
    None,
    /// `HMAC_MD5_96 [RFC2403]`.
    HmacMd5_96,
    /// `HMAC_SHA1_96 [RFC2404]`.
    HmacSha1_96,
    /// `HMAC_SHA2_256_96` (pre-RFC 4868 truncation, as Wireshark offers it).
    HmacSha256_96,
    /// `HMAC_SHA2_256_128 [RFC4868]`.
    HmacSha256_128,
    /// `HMAC_SHA2_384_192 [RFC4868]`.
    HmacSha384_192,
    /// `HMAC_SHA2_512_256 [RFC4868]`.
    HmacSha512_256,
}

impl IntegAlg {
    /// Parses Wireshark's name ("HMAC_SHA2_256_128 [RFC4868]"); the
    /// bracketed reference is ignored, case too.
    pub fn from_wireshark_name(name: &str) -> Option<IntegAlg> {
        Some(match strip_reference(name).to_ascii_uppercase().as_str() {
            "NONE" => IntegAlg::None,
            "HMAC_MD5_96" => IntegAlg::HmacMd5_96,
            "HMAC_SHA1_96" => IntegAlg::HmacSha1_96,
            "HMAC_SHA2_256_96" => IntegAlg::HmacSha256_96,
            "HMAC_SHA2_256_128" => IntegAlg::HmacSha256_128,
            "HMAC_SHA2_384_192" => IntegAlg::HmacSha384_192,
            "HMAC_SHA2_512_256" => IntegAlg::HmacSha512_256,
            _ => return None,
        })
    }

    /// Length of SK_a (RFC 4868 §2.1.1: the hash output length).
    pub fn key_len(self) -> usize {
        match self {
            IntegAlg::None => 0,
            IntegAlg::HmacMd5_96 => 16,
            IntegAlg::HmacSha1_96 => 20,
            IntegAlg::HmacSha256_96 | IntegAlg::HmacSha256_128 => 32,
            IntegAlg::HmacSha384_192 => 48,
            IntegAlg::HmacSha512_256 => 64,
        }
    }

    /// Length of the truncated ICV at the end of the message.
    pub fn icv_len(self) -> usize {
        match self {
            IntegAlg::None => 0,
            IntegAlg::HmacMd5_96 | IntegAlg::HmacSha1_96 | IntegAlg::HmacSha256_96 => 12,
            IntegAlg::HmacSha256_128 => 16,
            IntegAlg::HmacSha384_192 => 24,
            IntegAlg::HmacSha512_256 => 32,
        }
    }
}

/// A Wireshark UAT algorithm name without its `[RFC…]` reference.
pub(super) fn strip_reference(name: &str) -> &str {
    name.split('[').next().unwrap_or("").trim()
}

/// The keys of one IKEv2 SA (one `ikev2_decryption_table` line). Key
/// lengths were checked against the algorithms when the line was parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct Ikev2Sa {
    /// Initiator SPI.
    pub spi_i: [u8; 8],
    /// Responder SPI.
    pub spi_r: [u8; 8],
    /// Encryption algorithm.
    pub enc: EncAlg,
    /// SK_ei: encrypts what the original initiator sends.
    pub sk_ei: Vec<u8>,
    /// SK_er: encrypts what the original responder sends.
    pub sk_er: Vec<u8>,
    /// Integrity algorithm (ignored with an AEAD `enc`).
    pub integ: IntegAlg,
    /// SK_ai.
    pub sk_ai: Vec<u8>,
    /// SK_ar.
    pub sk_ar: Vec<u8>,
}

impl fmt::Debug for Ikev2Sa {
    // Keys stay out of logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ikev2Sa")
            .field("spi_i", &hex(&self.spi_i))
            .field("spi_r", &hex(&self.spi_r))
            .field("enc", &self.enc)
            .field("integ", &self.integ)
            .finish_non_exhaustive()
    }
}

/// One `ikev1_decryption_table` line: the IKEv1 encryption key of the SA
/// whose initiator cookie is `icookie`.
#[derive(Clone, PartialEq, Eq)]
pub struct Ikev1Key {
    /// Initiator cookie.
    pub icookie: [u8; 8],
    /// Encryption key (its length depends on the negotiated cipher).
    pub enc_key: Vec<u8>,
}

impl fmt::Debug for Ikev1Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ikev1Key")
            .field("icookie", &hex(&self.icookie))
            .finish_non_exhaustive()
    }
}

/// One `esp_sa` line. Algorithm names are kept as Wireshark writes them.
#[derive(Clone, PartialEq, Eq)]
pub struct EspSa {
    /// `IPv4`, `IPv6` or `Any IP`.
    pub protocol: String,
    /// Source address or `*`.
    pub src: String,
    /// Destination address or `*`.
    pub dst: String,
    /// SPI.
    pub spi: u32,
    /// Encryption algorithm name, e.g. `AES-CBC [RFC3602]`.
    pub enc_alg: String,
    /// Encryption key (may be empty for NULL).
    pub enc_key: Vec<u8>,
    /// Authentication algorithm name, e.g. `HMAC-SHA-256-128 [RFC4868]`.
    pub auth_alg: String,
    /// Authentication key (may be empty).
    pub auth_key: Vec<u8>,
}

impl fmt::Debug for EspSa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EspSa")
            .field("protocol", &self.protocol)
            .field("src", &self.src)
            .field("dst", &self.dst)
            .field("spi", &format_args!("0x{:08x}", self.spi))
            .field("enc_alg", &self.enc_alg)
            .field("auth_alg", &self.auth_alg)
            .finish_non_exhaustive()
    }
}

/// Which key table a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// `ikev2_decryption_table`.
    Ikev2,
    /// `ikev1_decryption_table`.
    Ikev1,
    /// `esp_sa`.
    EspSa,
    /// tcpdump's `-E` ESP secrets (`0xSPI@dst alg:secret`).
    TcpdumpEsp,
    /// tcpdump's IKEv2 secrets (`ikev2 I|R 0xSPIi 0xSPIr integ:… enc:…`).
    TcpdumpIkev2,
}

impl TableKind {
    /// Wireshark's UAT file name for the table, or a name for tcpdump's.
    pub fn uat_name(self) -> &'static str {
        match self {
            TableKind::Ikev2 => "ikev2_decryption_table",
            TableKind::Ikev1 => "ikev1_decryption_table",
            TableKind::EspSa => "esp_sa",
            TableKind::TcpdumpEsp => "tcpdump ESP secrets",
            TableKind::TcpdumpIkev2 => "tcpdump IKEv2 secrets",
        }
    }

    /// The table a file holds: a `# Wireshark UAT '<name>'` comment, else
    /// the file name's suffix, else the first data line: `ikev2 …` or
    /// `0x…@…` (tcpdump), or its field count (8 with a quoted first field:
    /// `esp_sa`; 8: IKEv2; 2: IKEv1).
    pub fn detect(path: &Path, text: &str) -> Option<TableKind> {
        let all = [TableKind::Ikev2, TableKind::Ikev1, TableKind::EspSa];
        for line in text.lines().take(20) {
            let l = line.trim();
            if l.starts_with('#') {
                for k in all {
                    if l.contains(&format!("'{}'", k.uat_name())) {
                        return Some(k);
                    }
                }
            }
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        for k in all {
            if name.ends_with(k.uat_name()) {
                return Some(k);
            }
        }
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))?;
        let word = first.split_whitespace().next().unwrap_or("");
        if word == "ikev2" {
            return Some(TableKind::TcpdumpIkev2);
        }
        if word.contains('@') && !first.starts_with('"') {
            return Some(TableKind::TcpdumpEsp);
        }
        let fields = split_fields(first).ok()?;
        match fields.len() {
            8 if first.starts_with('"') => Some(TableKind::EspSa),
            8 => Some(TableKind::Ikev2),
            2 => Some(TableKind::Ikev1),
            _ => None,
        }
    }
}

/// A key-table problem: which file, which line (1-based; 0 for the whole
/// file, e.g. it could not be read), and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// The file, as given to the loader.
    pub path: PathBuf,
    /// 1-based line number; 0 when the error is about the whole file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for KeyError {}

/// Keys loaded from any number of UAT files, with the errors of the lines
/// that could not be used.
#[derive(Debug, Default, Clone)]
pub struct KeyStore {
    ikev2: Vec<Ikev2Sa>,
    ikev1: Vec<Ikev1Key>,
    esp: Vec<EspSa>,
    /// `esp` resolved, same order.
    esp_keys: Vec<EspKey>,
    errors: Vec<KeyError>,
}

impl KeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads and loads one file (see [`KeyStore::load_str`]). Returns the
    /// number of entries loaded; a file that cannot be read or whose table
    /// cannot be recognised is also recorded in [`KeyStore::errors`].
    pub fn load_file(&mut self, path: &Path) -> Result<usize, KeyError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                let err = KeyError {
                    path: path.to_path_buf(),
                    line: 0,
                    message: format!("cannot read key table: {e}"),
                };
                self.errors.push(err.clone());
                return Err(err);
            }
        };
        self.load_str(path, &String::from_utf8_lossy(&bytes))
    }

    /// Loads the text of one table; `path` names it in errors and helps
    /// [`TableKind::detect`]. Bad lines are recorded in
    /// [`KeyStore::errors`] and skipped; returns the number of entries
    /// loaded, or Err when the table kind cannot be told.
    pub fn load_str(&mut self, path: &Path, text: &str) -> Result<usize, KeyError> {
        let Some(kind) = TableKind::detect(path, text) else {
            let err = KeyError {
                path: path.to_path_buf(),
                line: 0,
                message:
                    "not a Wireshark ikev2_decryption_table, ikev1_decryption_table or esp_sa file, nor tcpdump secrets"
                        .into(),
            };
            self.errors.push(err.clone());
            return Err(err);
        };
        Ok(self.load_table(path, text, kind))
    }

    /// Loads the text of a table of a known kind; returns the number of
    /// entries loaded (bad lines go to [`KeyStore::errors`]).
    pub fn load_table(&mut self, path: &Path, text: &str, kind: TableKind) -> usize {
        let mut loaded = 0;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let r = match kind {
                TableKind::Ikev2 => split_fields(line)
                    .and_then(|f| parse_ikev2(&f))
                    .map(|sa| self.ikev2.push(sa)),
                TableKind::Ikev1 => split_fields(line)
                    .and_then(|f| parse_ikev1(&f))
                    .map(|k| self.ikev1.push(k)),
                TableKind::EspSa => split_fields(line)
                    .and_then(|f| parse_esp(&f))
                    .and_then(|e| self.push_esp(vec![e])),
                TableKind::TcpdumpEsp => parse_tcpdump_esp(line).and_then(|e| self.push_esp(e)),
                TableKind::TcpdumpIkev2 => {
                    parse_tcpdump_ikev2(line).map(|half| self.merge_ikev2_half(half))
                }
            };
            match r {
                Ok(()) => loaded += 1,
                Err(message) => self.errors.push(KeyError {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message,
                }),
            }
        }
        loaded
    }

    /// Adds ESP SAs once all resolve ([`EspKey::from_sa`]).
    fn push_esp(&mut self, sas: Vec<EspSa>) -> Result<(), String> {
        let keys = sas
            .iter()
            .map(EspKey::from_sa)
            .collect::<Result<Vec<_>, _>>()?;
        self.esp.extend(sas);
        self.esp_keys.extend(keys);
        Ok(())
    }

    /// Joins a tcpdump `ikev2 I` or `ikev2 R` line with the other half of
    /// the same SA, if loaded; the algorithms of the later line win.
    fn merge_ikev2_half(&mut self, half: Ikev2Half) {
        let sa = match self
            .ikev2
            .iter_mut()
            .find(|s| s.spi_i == half.spi_i && s.spi_r == half.spi_r)
        {
            Some(sa) => sa,
            None => {
                self.ikev2.push(Ikev2Sa {
                    spi_i: half.spi_i,
                    spi_r: half.spi_r,
                    enc: half.enc,
                    sk_ei: Vec::new(),
                    sk_er: Vec::new(),
                    integ: half.integ,
                    sk_ai: Vec::new(),
                    sk_ar: Vec::new(),
                });
                let n = self.ikev2.len();
                &mut self.ikev2[n - 1]
            }
        };
        sa.enc = half.enc;
        sa.integ = half.integ;
        if half.initiator {
            sa.sk_ei = half.sk_e;
            sa.sk_ai = half.sk_a;
        } else {
            sa.sk_er = half.sk_e;
            sa.sk_ar = half.sk_a;
        }
    }

    /// The ESP SA for a packet with this SPI between these addresses (the
    /// first loaded that matches wins).
    pub fn esp(&self, spi: u32, src: std::net::IpAddr, dst: std::net::IpAddr) -> Option<&EspKey> {
        self.esp_keys.iter().find(|k| k.matches(spi, src, dst))
    }

    /// All resolved ESP SAs, in load order.
    pub fn esp_keys(&self) -> &[EspKey] {
        &self.esp_keys
    }

    /// Keys of the IKEv2 SA with these SPIs (the first loaded wins).
    pub fn ikev2(&self, spi_i: &[u8; 8], spi_r: &[u8; 8]) -> Option<&Ikev2Sa> {
        self.ikev2
            .iter()
            .find(|s| &s.spi_i == spi_i && &s.spi_r == spi_r)
    }

    /// All IKEv2 SAs, in load order.
    pub fn ikev2_sas(&self) -> &[Ikev2Sa] {
        &self.ikev2
    }

    /// All IKEv1 keys, in load order.
    pub fn ikev1_keys(&self) -> &[Ikev1Key] {
        &self.ikev1
    }

    /// All ESP SAs, in load order.
    pub fn esp_sas(&self) -> &[EspSa] {
        &self.esp
    }

    /// Every line or file that could not be used, in load order.
    pub fn errors(&self) -> &[KeyError] {
        &self.errors
    }
}

/// Splits a UAT line into fields: comma-separated, each either bare or
/// double-quoted with `\xHH`, `\"`, `\\` escapes.
fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('x') => {
                            // Two hex digits, strictly (no sign, as in keys).
                            let h: String = chars.by_ref().take(2).collect();
                            let b = match h.as_bytes() {
                                &[a, b] => hex_val(a).zip(hex_val(b)).map(|(a, b)| a << 4 | b),
                                _ => None,
                            }
                            .ok_or_else(|| format!("bad escape \\x{h} in a quoted field"))?;
                            field.push(char::from(b));
                        }
                        Some(c) => field.push(c),
                        None => return Err("unterminated escape at end of line".into()),
                    },
                    c => field.push(c),
                }
            }
            if !closed {
                return Err("unterminated quoted field".into());
            }
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => return Err(format!("unexpected {c:?} after a quoted field")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field.trim().to_string());
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field.trim().to_string());
        }
    }
}

fn expect_fields(f: &[String], n: usize, layout: &str) -> Result<(), String> {
    if f.len() == n {
        Ok(())
    } else {
        Err(format!("expected {n} fields ({layout}), found {}", f.len()))
    }
}

/// Hex with an optional `0x` prefix; empty is allowed (empty key).
fn parse_hex(what: &str, s: &str) -> Result<Vec<u8>, String> {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if !t.len().is_multiple_of(2) {
        return Err(format!("{what}: odd number of hex digits ({})", t.len()));
    }
    let b = t.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks_exact(2) {
        let hi = hex_val(pair[0]);
        let lo = hex_val(pair[1]);
        match (hi, lo) {
            (Some(h), Some(l)) => out.push(h << 4 | l),
            _ => return Err(format!("{what}: not hex: {:?}", truncate(t))),
        }
    }
    Ok(out)
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn parse_spi(what: &str, s: &str) -> Result<[u8; 8], String> {
    let v = parse_hex(what, s)?;
    <[u8; 8]>::try_from(v.as_slice())
        .map_err(|_| format!("{what}: {} bytes, an SPI has 8", v.len()))
}

fn check_len(what: &str, key: &[u8], want: usize, alg: &str) -> Result<(), String> {
    if key.len() == want {
        Ok(())
    } else {
        Err(format!("{what}: {} bytes, {alg} needs {want}", key.len()))
    }
}

fn parse_ikev2(f: &[String]) -> Result<Ikev2Sa, String> {
    expect_fields(
        f,
        8,
        "SPIi,SPIr,SK_ei,SK_er,encryption algorithm,SK_ai,SK_ar,integrity algorithm",
    )?;
    let spi_i = parse_spi("SPIi", &f[0])?;
    let spi_r = parse_spi("SPIr", &f[1])?;
    let sk_ei = parse_hex("SK_ei", &f[2])?;
    let sk_er = parse_hex("SK_er", &f[3])?;
    let enc = EncAlg::from_wireshark_name(&f[4])
        .ok_or_else(|| format!("unknown encryption algorithm {:?}", f[4]))?;
    let sk_ai = parse_hex("SK_ai", &f[5])?;
    let sk_ar = parse_hex("SK_ar", &f[6])?;
    let integ = IntegAlg::from_wireshark_name(&f[7])
        .ok_or_else(|| format!("unknown integrity algorithm {:?}", f[7]))?;
    check_len("SK_ei", &sk_ei, enc.key_material_len(), &f[4])?;
    check_len("SK_er", &sk_er, enc.key_material_len(), &f[4])?;
    if !enc.is_aead() {
        if integ == IntegAlg::None {
            return Err(format!(
                "integrity algorithm NONE needs an AEAD encryption algorithm, not {:?}",
                f[4]
            ));
        }
        check_len("SK_ai", &sk_ai, integ.key_len(), &f[7])?;
        check_len("SK_ar", &sk_ar, integ.key_len(), &f[7])?;
    }
    Ok(Ikev2Sa {
        spi_i,
        spi_r,
        enc,
        sk_ei,
        sk_er,
        integ,
        sk_ai,
        sk_ar,
    })
}

fn parse_ikev1(f: &[String]) -> Result<Ikev1Key, String> {
    expect_fields(f, 2, "initiator cookie,encryption key")?;
    let icookie = parse_spi("initiator cookie", &f[0])?;
    let enc_key = parse_hex("encryption key", &f[1])?;
    if enc_key.is_empty() {
        return Err("encryption key: empty".into());
    }
    Ok(Ikev1Key { icookie, enc_key })
}

fn parse_esp(f: &[String]) -> Result<EspSa, String> {
    expect_fields(
        f,
        8,
        "protocol,source,destination,SPI,encryption algorithm,encryption key,authentication algorithm,authentication key",
    )?;
    let spi_bytes = parse_hex("SPI", &f[3])?;
    let spi = <[u8; 4]>::try_from(spi_bytes.as_slice())
        .map(u32::from_be_bytes)
        .map_err(|_| format!("SPI: {} bytes, an ESP SPI has 4", spi_bytes.len()))?;
    let protocol = f[0].clone();
    if !matches!(protocol.as_str(), "IPv4" | "IPv6" | "Any IP") {
        return Err(format!(
            "protocol {protocol:?}: expected \"IPv4\", \"IPv6\" or \"Any IP\""
        ));
    }
    if f[4].trim().is_empty() {
        return Err("encryption algorithm: empty".into());
    }
    Ok(EspSa {
        protocol,
        src: f[1].clone(),
        dst: f[2].clone(),
        spi,
        enc_alg: f[4].clone(),
        enc_key: parse_hex("encryption key", &f[5])?,
        auth_alg: f[6].clone(),
        auth_key: parse_hex("authentication key", &f[7])?,
    })
}

/// tcpdump secrets: `0x`-prefixed hex, else the text's bytes (tcpdump
/// takes a secret without `0x` as ASCII).
fn tcpdump_secret(what: &str, s: &str) -> Result<Vec<u8>, String> {
    if s.starts_with("0x") || s.starts_with("0X") {
        parse_hex(what, s)
    } else {
        Ok(s.as_bytes().to_vec())
    }
}

/// One tcpdump `-E` line: `spi@dst alg:secret[,spi@dst alg:secret…]`.
fn parse_tcpdump_esp(line: &str) -> Result<Vec<EspSa>, String> {
    let mut out = Vec::new();
    for entry in line.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (sa, alg_secret) = entry.split_once(char::is_whitespace).ok_or_else(|| {
            format!(
                "{:?}: expected \"0xSPI@address algorithm:secret\"",
                truncate(entry)
            )
        })?;
        let (spi, dst) = sa
            .split_once('@')
            .ok_or_else(|| format!("{:?}: expected 0xSPI@address", truncate(sa)))?;
        let spi_digits = spi
            .strip_prefix("0x")
            .or_else(|| spi.strip_prefix("0X"))
            .unwrap_or(spi);
        let spi = u32::from_str_radix(spi_digits, 16)
            .ok()
            .filter(|_| spi_digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| format!("SPI {spi:?}: not a 32-bit hex number"))?;
        let dst_addr: std::net::IpAddr = dst
            .parse()
            .map_err(|_| format!("address {dst:?}: not an IP address"))?;
        let (alg, secret) = alg_secret
            .trim()
            .split_once(':')
            .ok_or_else(|| "expected algorithm:secret".to_string())?;
        let alg_l = alg.to_ascii_lowercase();
        let (cipher, hmac96) = match alg_l.strip_suffix("-hmac96") {
            Some(c) => (c, true),
            None => (alg_l.as_str(), false),
        };
        let enc_alg = match cipher {
            "none" | "null" => "NULL",
            "3des-cbc" | "des-ede3-cbc" => "TripleDES-CBC [RFC2451]",
            "aes128-cbc" | "aes192-cbc" | "aes256-cbc" | "aes-128-cbc" | "aes-192-cbc"
            | "aes-256-cbc" => "AES-CBC [RFC3602]",
            other => {
                return Err(format!(
                    "tcpdump algorithm {other:?} is not supported (none, 3des-cbc, aes128/192/256-cbc are)"
                ));
            }
        };
        let enc_key = tcpdump_secret("secret", secret.trim())?;
        if enc_alg.starts_with("AES") {
            let want = match cipher.trim_start_matches("aes").trim_start_matches('-') {
                c if c.starts_with("128") => 16,
                c if c.starts_with("192") => 24,
                _ => 32,
            };
            check_len("secret", &enc_key, want, alg)?;
        }
        out.push(EspSa {
            protocol: if dst_addr.is_ipv4() { "IPv4" } else { "IPv6" }.into(),
            src: "*".into(),
            dst: dst.to_string(),
            spi,
            enc_alg: enc_alg.into(),
            enc_key,
            auth_alg: if hmac96 {
                "ANY 96 bit authentication [no checking]"
            } else {
                "NULL"
            }
            .into(),
            auth_key: Vec::new(),
        });
    }
    if out.is_empty() {
        return Err("no ESP secret on the line".into());
    }
    Ok(out)
}

/// One side's keys of a tcpdump `ikev2` line.
struct Ikev2Half {
    initiator: bool,
    spi_i: [u8; 8],
    spi_r: [u8; 8],
    enc: EncAlg,
    sk_e: Vec<u8>,
    integ: IntegAlg,
    sk_a: Vec<u8>,
}

/// `ikev2 I|R 0xSPIi 0xSPIr integ:0xSK_a enc:0xSK_e` (tcpdump's
/// `print-esp.c` format).
fn parse_tcpdump_ikev2(line: &str) -> Result<Ikev2Half, String> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let [kw, side, spi_i, spi_r, integ, enc] = w.as_slice() else {
        return Err(format!(
            "expected 6 words (ikev2 I|R 0xSPIi 0xSPIr integ:0xkey enc:0xkey), found {}",
            w.len()
        ));
    };
    if *kw != "ikev2" {
        return Err(format!("{kw:?}: expected \"ikev2\""));
    }
    let initiator = match *side {
        "I" | "i" => true,
        "R" | "r" => false,
        other => return Err(format!("{other:?}: expected I or R")),
    };
    let (integ_name, sk_a) = integ
        .split_once(':')
        .ok_or_else(|| format!("{integ:?}: expected integrity:0xkey"))?;
    let (enc_name, sk_e) = enc
        .split_once(':')
        .ok_or_else(|| format!("{enc:?}: expected encryption:0xkey"))?;
    let integ = match integ_name.to_ascii_lowercase().as_str() {
        "md5" | "hmac-md5" => IntegAlg::HmacMd5_96,
        "sha1" | "hmac-sha1" => IntegAlg::HmacSha1_96,
        "sha256" | "sha2-256" => IntegAlg::HmacSha256_128,
        "sha384" | "sha2-384" => IntegAlg::HmacSha384_192,
        "sha512" | "sha2-512" => IntegAlg::HmacSha512_256,
        other => return Err(format!("integrity algorithm {other:?} is not supported")),
    };
    let enc = match enc_name.to_ascii_lowercase().trim_end_matches("-cbc") {
        "aes128" | "aes" => EncAlg::AesCbc { key_len: 16 },
        "aes192" => EncAlg::AesCbc { key_len: 24 },
        "aes256" => EncAlg::AesCbc { key_len: 32 },
        "3des" | "des-ede3" => EncAlg::TripleDesCbc,
        "null" | "none" => EncAlg::Null,
        other => return Err(format!("encryption algorithm {other:?} is not supported")),
    };
    let sk_a = tcpdump_secret("integrity key", sk_a)?;
    let sk_e = tcpdump_secret("encryption key", sk_e)?;
    check_len("integrity key", &sk_a, integ.key_len(), integ_name)?;
    check_len("encryption key", &sk_e, enc.key_material_len(), enc_name)?;
    Ok(Ikev2Half {
        initiator,
        spi_i: parse_spi("SPIi", spi_i)?,
        spi_r: parse_spi("SPIr", spi_r)?,
        enc,
        sk_e,
        integ,
        sk_a,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"48e568162c1b8339,a7cbf7ce7cd79ae1,24989d8c3108e42be74827701c32ff0a,320c75dd465c02d57936c0b237f07d41,"AES-CBC-128 [RFC3602]",e0f49d4f87aba15cc233b51e90bfb4c3dce4249e6b081e5b2a36173541953b35,35d2b519d410fb1147233ea2a31fd97ad2b6d3dc073be18bee5275c4311378fd,"HMAC_SHA2_256_128 [RFC4868]""#;

    #[test]
    fn ikev2_line_parses() {
        let mut ks = KeyStore::new();
        let n = ks.load_table(Path::new("t"), LINE, TableKind::Ikev2);
        assert_eq!(n, 1, "{:?}", ks.errors());
        let sa = &ks.ikev2_sas()[0];
        assert_eq!(hex(&sa.spi_i), "48e568162c1b8339");
        assert_eq!(hex(&sa.spi_r), "a7cbf7ce7cd79ae1");
        assert_eq!(sa.enc, EncAlg::AesCbc { key_len: 16 });
        assert_eq!(sa.integ, IntegAlg::HmacSha256_128);
        assert_eq!(hex(&sa.sk_er), "320c75dd465c02d57936c0b237f07d41");
        assert!(ks.ikev2(&sa.spi_i, &sa.spi_r).is_some());
        assert!(ks.ikev2(&sa.spi_r, &sa.spi_i).is_none());
        // Keys never show in Debug.
        assert!(!format!("{sa:?}").contains("320c75dd"));
    }

    #[test]
    fn algorithm_names() {
        use EncAlg::*;
        for (n, a) in [
            ("AES-CBC-128 [RFC3602]", AesCbc { key_len: 16 }),
            ("AES-CBC-192 [RFC3602]", AesCbc { key_len: 24 }),
            ("AES-CBC-256 [RFC3602]", AesCbc { key_len: 32 }),
            ("3DES [RFC2451]", TripleDesCbc),
            ("NULL [RFC2410]", Null),
            ("AES-CTR-256 [RFC5930]", AesCtr { key_len: 32 }),
            ("CHACHA20-POLY1305 [RFC7634]", ChaCha20Poly1305),
            ("ChaCha20-Poly1305", ChaCha20Poly1305),
            ("ENCR_CHACHA20_POLY1305", ChaCha20Poly1305),
            (
                "AES-GCM-128 with 8 octet ICV [RFC4106]",
                AesGcm {
                    key_len: 16,
                    icv_len: 8,
                },
            ),
            (
                "AES-GCM-256 with 16 octet ICV [RFC5282]",
                AesGcm {
                    key_len: 32,
                    icv_len: 16,
                },
            ),
        ] {
            assert_eq!(EncAlg::from_wireshark_name(n), Some(a), "{n}");
        }
        for bad in [
            "AES-CBC-64",
            "AES-GCM-128 with 9 octet ICV",
            "DES",
            "",
            "[",
            "CHACHA20",
            "XCHACHA20-POLY1305",
        ] {
            assert_eq!(EncAlg::from_wireshark_name(bad), None, "{bad}");
        }
        assert_eq!(
            IntegAlg::from_wireshark_name("HMAC_SHA1_96 [RFC2404]"),
            Some(IntegAlg::HmacSha1_96)
        );
        assert_eq!(
            IntegAlg::from_wireshark_name("NONE [RFC4306]"),
            Some(IntegAlg::None)
        );
        assert_eq!(IntegAlg::from_wireshark_name("HMAC_SHA3"), None);
    }

    #[test]
    fn quoted_and_escaped_fields() {
        assert_eq!(
            split_fields(r#""a\x2cb", c ,"d\"e""#).unwrap(),
            vec!["a,b", "c", "d\"e"]
        );
        assert!(split_fields(r#""abc"#).is_err());
        // \x takes exactly two hex digits (u8::from_str_radix took "+4").
        assert!(split_fields(r#""a\x+4""#).is_err());
        assert!(split_fields(r#""a\x4""#).is_err());
        assert!(split_fields(r#""a"x,b"#).is_err());
        assert!(split_fields(r#""\x4""#).is_err());
    }

    #[test]
    fn garbage_lines_have_line_numbers() {
        let text = format!(
            "# comment\n\n{LINE}\nzz,a7cbf7ce7cd79ae1\n{}\n{}\n{}\n",
            LINE.replace("AES-CBC-128", "AES-CBC-256"),
            LINE.replace("e0f49d4f", "e0f49d4"),
            LINE.replace("HMAC_SHA2_256_128", "HMAC_FOO"),
        );
        let mut ks = KeyStore::new();
        assert_eq!(ks.load_table(Path::new("k"), &text, TableKind::Ikev2), 1);
        let lines: Vec<usize> = ks.errors().iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7]);
        assert!(
            ks.errors()[1].message.contains("SK_ei"),
            "{}",
            ks.errors()[1]
        );
        assert!(ks.errors()[2].message.contains("odd"), "{}", ks.errors()[2]);
        assert!(ks.errors()[3].message.contains("HMAC_FOO"));
        assert_eq!(ks.errors()[0].to_string().split(':').nth(1), Some("4"));
    }

    #[test]
    fn integrity_none_only_with_aead() {
        let mut ks = KeyStore::new();
        let null_none = "0102030405060708,1112131415161718,,,\"NULL [RFC2410]\",,,\"NONE\"";
        let gcm_none = format!(
            "0102030405060708,1112131415161718,{k},{k},\"AES-GCM-128 with 16 octet ICV [RFC4106]\",,,\"NONE\"",
            k = "ab".repeat(20)
        );
        let text = format!("{null_none}\n{gcm_none}\n");
        assert_eq!(ks.load_table(Path::new("n"), &text, TableKind::Ikev2), 1);
        assert_eq!(ks.errors().len(), 1);
        assert_eq!(ks.errors()[0].line, 1);
        assert!(ks.errors()[0].message.contains("AEAD"));
        assert_eq!(
            ks.ikev2_sas()[0].enc,
            EncAlg::AesGcm {
                key_len: 16,
                icv_len: 16
            }
        );
    }

    #[test]
    fn chacha20_poly1305_lines() {
        let line = |k: &str, integ: &str| {
            format!(
                "0102030405060708,1112131415161718,{k},{k},\"CHACHA20-POLY1305 [RFC7634]\",,,\"{integ}\""
            )
        };
        let text = [
            line(&"ab".repeat(36), "NONE [RFC4306]"),
            // 32 bytes: the salt is missing.
            line(&"ab".repeat(32), "NONE"),
            line(&"ab".repeat(37), "NONE"),
        ]
        .join("\n");
        let mut ks = KeyStore::new();
        assert_eq!(ks.load_table(Path::new("c"), &text, TableKind::Ikev2), 1);
        let sa = &ks.ikev2_sas()[0];
        assert_eq!(sa.enc, EncAlg::ChaCha20Poly1305);
        assert!(sa.enc.is_aead());
        assert_eq!(sa.enc.aead_key_and_icv_len(), Some((32, 16)));
        assert_eq!((sa.enc.key_material_len(), sa.enc.iv_len()), (36, 8));
        let lines: Vec<usize> = ks.errors().iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3]);
        assert!(
            ks.errors()[0].message.contains("SK_ei: 32 bytes"),
            "{}",
            ks.errors()[0]
        );
    }

    #[test]
    fn esp_lines_are_checked_when_loaded() {
        let text = r#""IPv4","*","192.0.2.1","0x00000001","AES-CBC [RFC3602]","0x0102","HMAC-SHA-1-96 [RFC2404]","0x"
"IPv4","*","*","0x00000002","AES-CBC [RFC3602]","0x07a0f2a8dde514e8302154df2f6ec8b8","HMAC-SHA-1-96 [RFC2404]","0x0102"
"IPv4","*","*","0x00000003","Blowfish-CBC [RFC2451]","0x07a0f2a8dde514e8302154df2f6ec8b8","NULL",""
"IPv4","*","*","0x00000004","AES-GCM with 16 octet ICV [RFC4106]","0x07a0f2a8dde514e8302154df2f6ec8b801020304","NULL","""#;
        let mut ks = KeyStore::new();
        assert_eq!(ks.load_table(Path::new("e"), text, TableKind::EspSa), 1);
        let msgs: Vec<String> = ks.errors().iter().map(|e| e.to_string()).collect();
        assert!(
            msgs[0].starts_with("e:1: encryption key: 2 bytes"),
            "{msgs:?}"
        );
        assert!(
            msgs[1].starts_with("e:2: authentication key: 2 bytes"),
            "{msgs:?}"
        );
        assert!(msgs[2].contains("not supported"), "{msgs:?}");
        let a: std::net::IpAddr = "192.0.2.1".parse().unwrap();
        assert!(ks.esp(4, a, a).is_some());
        assert!(ks.esp(1, a, a).is_none());
    }

    /// tcpdump's test secrets (tcpdump `tests/esp-secrets.txt`,
    /// `tests/ikev2pI2-secrets.txt`).
    #[test]
    fn tcpdump_secrets() {
        let esp = "# a comment\n\n0x12345678@192.1.2.45 3des-cbc-hmac96:0x43434545464649494a4a4c4c4f4f51515252545457575840\n\
                   0xabcdabcd@192.0.1.1  3des-cbc-hmac96:0x434545464649494a4a4c4c4f4f5151525254545757584043\n\
                   0xd1234567@192.1.2.45 aes256-cbc-hmac96:0xaaaabbbbccccdddd4043434545464649494a4a4c4c4f4f515152525454575758\n\
                   0x1@10.0.0.1 none:0x,0x2@10.0.0.2 3des-cbc:abcdefghijklmnopqrstuvwx\n\
                   0x3@10.0.0.3 rc5-cbc:0x00\n\
                   0x4@nowhere 3des-cbc:0x00\n\
                   0x5@10.0.0.5 aes128-cbc:0x0102\n";
        let p = Path::new("esp-secrets.txt");
        assert_eq!(TableKind::detect(p, esp), Some(TableKind::TcpdumpEsp));
        let mut ks = KeyStore::new();
        assert_eq!(ks.load_str(p, esp), Ok(4));
        let lines: Vec<usize> = ks.errors().iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![7, 8, 9], "{:?}", ks.errors());
        assert_eq!(ks.esp_keys().len(), 5);
        let k = &ks.esp_keys()[2];
        assert_eq!(k.spi, 0xd123_4567);
        assert_eq!(k.enc, EncAlg::AesCbc { key_len: 32 });
        assert_eq!(k.auth, super::super::EspAuth::Unchecked { icv_len: 12 });
        assert_eq!(ks.esp_sas()[4].enc_key, b"abcdefghijklmnopqrstuvwx");
        assert_eq!(ks.esp_keys()[3].auth, super::super::EspAuth::Null);

        let ike = "ikev2 I 0x0001020304050607 0xc02e7a3031a03188 sha1:0x4ea8e662b07cdd430f6944c6723e4b82d5722418 aes128:0x3f44bf47cafd8150591deb088199fcbf\n\
                   ikev2 R 0x0001020304050607 0xc02e7a3031a03188 sha1:0x515b0bd22e6d76b34fdb760aa7bfad80b109b75d aes128:0xbedb67ec7dc3d00cccac42e70cd63bde\n\
                   ikev2 X 0x0001020304050607 0xc02e7a3031a03188 sha1:0x00 aes128:0x00\n\
                   ikev2 I 0x0001020304050607 0xc02e7a3031a03188 sha1:0x4ea8 aes128:0x3f44bf47cafd8150591deb088199fcbf\n";
        let p = Path::new("ikev2pI2-secrets.txt");
        assert_eq!(TableKind::detect(p, ike), Some(TableKind::TcpdumpIkev2));
        let mut ks = KeyStore::new();
        assert_eq!(ks.load_str(p, ike), Ok(2));
        assert_eq!(ks.ikev2_sas().len(), 1, "the I and R lines make one SA");
        let sa = &ks.ikev2_sas()[0];
        assert_eq!(hex(&sa.spi_r), "c02e7a3031a03188");
        assert_eq!(
            (sa.enc, sa.integ),
            (EncAlg::AesCbc { key_len: 16 }, IntegAlg::HmacSha1_96)
        );
        assert_eq!(hex(&sa.sk_ei), "3f44bf47cafd8150591deb088199fcbf");
        assert_eq!(hex(&sa.sk_ar), "515b0bd22e6d76b34fdb760aa7bfad80b109b75d");
        let msgs: Vec<String> = ks.errors().iter().map(|e| e.to_string()).collect();
        assert!(msgs[0].contains(":3: \"X\": expected I or R"), "{msgs:?}");
        assert!(msgs[1].contains(":4: integrity key: 2 bytes"), "{msgs:?}");
    }

    #[test]
    fn detect_kinds() {
        let p = Path::new("x.txt");
        assert_eq!(TableKind::detect(p, LINE), Some(TableKind::Ikev2));
        assert_eq!(
            TableKind::detect(p, "447aa0bcb83c59e6,0159372eab40149f"),
            Some(TableKind::Ikev1)
        );
        assert_eq!(
            TableKind::detect(
                p,
                r#""IPv4","*","*","0x3a5ba4ca","AES-CBC [RFC3602]","0x07","HMAC-SHA-256-128 [RFC4868]","0x90""#
            ),
            Some(TableKind::EspSa)
        );
        assert_eq!(
            TableKind::detect(Path::new("a.esp_sa"), ""),
            Some(TableKind::EspSa)
        );
        assert_eq!(
            TableKind::detect(p, "# Wireshark UAT 'ikev1_decryption_table' for x\n"),
            Some(TableKind::Ikev1)
        );
        assert_eq!(TableKind::detect(p, "a,b,c"), None);
    }

    #[test]
    fn esp_and_ikev1_lines() {
        let mut ks = KeyStore::new();
        let esp = format!(
            r#""IPv4","*","*","0x3a5ba4ca","AES-CBC [RFC3602]","0x07a0f2a8dde514e8302154df2f6ec8b8","HMAC-SHA-256-128 [RFC4868]","0x{}"
"IPv5","*","*","0x3a5ba4ca","AES-CBC [RFC3602]","0x07","x","0x90"
"IPv4","*","*","0x3a5ba4","AES-CBC [RFC3602]","0x07","x","0x90""#,
            "90".repeat(32)
        );
        assert_eq!(ks.load_table(Path::new("e"), &esp, TableKind::EspSa), 1);
        assert_eq!(ks.esp_sas()[0].spi, 0x3a5ba4ca);
        assert_eq!(ks.esp_sas()[0].enc_key.len(), 16);
        assert_eq!(ks.esp_keys().len(), 1);
        let v1 =
            "447aa0bcb83c59e6,0159372eab40149f28bd6daa96dbac5c\n447aa0bc,00\n447aa0bcb83c59e6,\n";
        assert_eq!(ks.load_table(Path::new("v1"), v1, TableKind::Ikev1), 1);
        assert_eq!(ks.ikev1_keys()[0].enc_key.len(), 16);
        let lines: Vec<(String, usize)> = ks
            .errors()
            .iter()
            .map(|e| (e.path.display().to_string(), e.line))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("e".into(), 2),
                ("e".into(), 3),
                ("v1".into(), 2),
                ("v1".into(), 3)
            ]
        );
    }
}
