//! IKE message parser: the ISAKMP header and payload chain of IKEv1 (RFC 2408
//! §3, RFC 2409, RFC 3947) and IKEv2 (RFC 7296 §3, RFC 7383 §2.5) messages.
//!
//! Contract:
//! - [`parse`] takes the bytes of one IKE message, starting at the ISAKMP
//!   header (after the UDP header and, on port 4500, after the 4-byte
//!   non-ESP marker). It fails only when fewer than 28 bytes are given.
//! - Everything else that is wrong with a message is data: an [`IkeAnomaly`]
//!   in [`IkeMessage::anomalies`]. A payload whose body cannot be decoded is
//!   kept with [`PayloadDetail::Raw`] and parsing goes on wherever the
//!   payload lengths still allow it.
//! - Zero-copy: payload bodies and all variable fields borrow the input.
//! - No panic on any input; work is O(n) in the message size (every step
//!   consumes at least 4 bytes, the chain is capped at [`MAX_PAYLOADS`]), no
//!   recursion.
//! - Encrypted content is opaque: the IKEv2 SK / SKF payloads and an IKEv1
//!   message with the E flag are kept as bytes, never decrypted.
//!
//! Layout: this file holds the header, the generic payload chain (RFC 2408
//! §3.2 and RFC 7296 §3.2 share the 4-byte generic payload header), the
//! message-level queries and the anomaly type; `v1.rs` and `v2.rs` decode
//! payload bodies; `names.rs` and `vendor.rs` hold the number-to-name tables;
//! `detect.rs` checks whether a header is plausible at all (what tells IKE
//! from other traffic on the IKE ports).

mod detect;
mod names;
mod v1;
mod v2;
mod vendor;

#[cfg(test)]
mod tests;

use serde::Serialize;
use std::borrow::Cow;
use std::fmt;

pub use detect::{NotIke, check_header};
pub use names::*;
pub use v1::{AttributeValue, DataAttribute, V1Proposal, V1SaPayload, V1Transform};
pub use v2::{Proposal, SaPayload, TrafficSelector, Transform, TsPayload};
pub use vendor::vendor_name;

/// Length of the ISAKMP / IKE header (RFC 2408 §3.1, RFC 7296 §3.1).
pub const HEADER_LEN: usize = 28;

/// Most payloads walked in one message (the chain of a real message has a
/// few dozen at most); the rest is reported as [`IkeAnomaly::TooManyPayloads`].
pub const MAX_PAYLOADS: usize = 256;

/// IKEv2 header flag: the sender is the original initiator (RFC 7296 §3.1).
pub const FLAG_INITIATOR: u8 = 0x08;
/// IKEv2 header flag: the message is a response (RFC 7296 §3.1).
pub const FLAG_RESPONSE: u8 = 0x20;
/// IKEv1 header flag: everything after the header is encrypted (RFC 2408 §3.1).
pub const FLAG_ENCRYPTION_V1: u8 = 0x01;
/// IKEv1 header flag: commit (RFC 2408 §3.1).
pub const FLAG_COMMIT_V1: u8 = 0x02;

/// A message too short to hold an IKE header: the only parse failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IkeError {
    /// Fewer than [`HEADER_LEN`] bytes.
    #[error("IKE message too short: {len} bytes, the header alone needs 28")]
    TooShort {
        /// Bytes available.
        len: usize,
    },
}

/// The fixed 28-byte header (RFC 2408 §3.1, RFC 7296 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IkeHeader {
    /// Initiator SPI (IKEv1: initiator cookie).
    pub ispi: [u8; 8],
    /// Responder SPI (IKEv1: responder cookie).
    pub rspi: [u8; 8],
    /// Type of the first payload.
    pub next_payload: u8,
    /// Major version (high nibble of the version octet).
    pub major_version: u8,
    /// Minor version (low nibble).
    pub minor_version: u8,
    /// Exchange type.
    pub exchange_type: u8,
    /// Flags octet.
    pub flags: u8,
    /// Message ID.
    pub message_id: u32,
    /// Length of the whole message, header included, as declared.
    pub length: u32,
}

impl IkeHeader {
    /// Reads the header from the first 28 bytes.
    pub fn parse(data: &[u8]) -> Result<IkeHeader, IkeError> {
        let h: &[u8; HEADER_LEN] = data
            .get(..HEADER_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(IkeError::TooShort { len: data.len() })?;
        let mut ispi = [0u8; 8];
        ispi.copy_from_slice(&h[0..8]);
        let mut rspi = [0u8; 8];
        rspi.copy_from_slice(&h[8..16]);
        Ok(IkeHeader {
            ispi,
            rspi,
            next_payload: h[16],
            major_version: h[17] >> 4,
            minor_version: h[17] & 0x0f,
            exchange_type: h[18],
            flags: h[19],
            message_id: u32::from_be_bytes([h[20], h[21], h[22], h[23]]),
            length: u32::from_be_bytes([h[24], h[25], h[26], h[27]]),
        })
    }

    /// IKEv2 Initiator flag (0x08).
    pub fn is_initiator(&self) -> bool {
        self.flags & FLAG_INITIATOR != 0
    }

    /// IKEv2 Response flag (0x20).
    pub fn is_response(&self) -> bool {
        self.flags & FLAG_RESPONSE != 0
    }

    /// IKEv1 Encryption flag (0x01): the payloads are encrypted.
    pub fn is_encrypted_v1(&self) -> bool {
        self.flags & FLAG_ENCRYPTION_V1 != 0
    }

    /// IKEv1 Commit flag (0x02).
    pub fn is_commit_v1(&self) -> bool {
        self.flags & FLAG_COMMIT_V1 != 0
    }

    /// Initiator SPI as a big-endian integer.
    pub fn ispi_u64(&self) -> u64 {
        u64::from_be_bytes(self.ispi)
    }

    /// Responder SPI as a big-endian integer.
    pub fn rspi_u64(&self) -> u64 {
        u64::from_be_bytes(self.rspi)
    }
}

/// One payload of the chain: a view into the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload<'a> {
    /// Payload type number (from the previous payload's Next Payload field,
    /// or the header's). For an encrypted IKEv1 body, the header's
    /// `next_payload` (the type of the first, encrypted, payload).
    pub payload_type: u8,
    /// Short name ([`v1_payload_short_name`] / [`v2_payload_short_name`]);
    /// `"encrypted"` for an IKEv1 encrypted body, `"unknown"` for an
    /// unassigned type.
    pub name: &'static str,
    /// Next Payload field of this payload's generic header (0 for an
    /// encrypted IKEv1 body).
    pub next_payload: u8,
    /// IKEv2 critical bit (RFC 7296 §3.2); for IKEv1 the same bit of the
    /// reserved octet.
    pub is_critical: bool,
    /// Offset of the generic payload header from the start of the message
    /// (of the body itself for an encrypted IKEv1 body).
    pub offset: usize,
    /// The payload body after the 4-byte generic header (for a payload that
    /// overruns the message: what is there).
    pub body: &'a [u8],
    /// Decoded contents.
    pub detail: PayloadDetail<'a>,
}

/// Decoded payload contents. [`PayloadDetail::Raw`] means "not decoded": an
/// unknown type, a type kept opaque on purpose, or a malformed body (then an
/// anomaly says why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadDetail<'a> {
    /// IKEv2 Security Association (RFC 7296 §3.3).
    Sa(SaPayload<'a>),
    /// IKEv1 Security Association with its Proposal and Transform payloads
    /// (RFC 2408 §3.4-3.6).
    V1Sa(V1SaPayload<'a>),
    /// Key Exchange (RFC 7296 §3.4; RFC 2408 §3.7 has no group field).
    Ke(KePayload<'a>),
    /// Identification: IKEv2 IDi/IDr (RFC 7296 §3.5), IKEv1 ID (RFC 2407 §4.6.2).
    Id(IdPayload<'a>),
    /// Certificate (RFC 7296 §3.6, RFC 2408 §3.9).
    Cert(CertPayload<'a>),
    /// Certificate Request (RFC 7296 §3.7, RFC 2408 §3.10).
    CertReq(CertPayload<'a>),
    /// IKEv2 Authentication (RFC 7296 §3.8).
    Auth(AuthPayload<'a>),
    /// IKEv1 Hash (RFC 2408 §3.11).
    Hash(&'a [u8]),
    /// IKEv1 Signature (RFC 2408 §3.12).
    Sig(&'a [u8]),
    /// Nonce (RFC 7296 §3.9, RFC 2408 §3.13).
    Nonce(&'a [u8]),
    /// Notify (RFC 7296 §3.10, RFC 2408 §3.14).
    Notify(NotifyPayload<'a>),
    /// Delete (RFC 7296 §3.11, RFC 2408 §3.15).
    Delete(DeletePayload<'a>),
    /// Vendor ID (RFC 7296 §3.12, RFC 2408 §3.16).
    VendorId(VendorIdPayload<'a>),
    /// IKEv2 Traffic Selectors (RFC 7296 §3.13).
    Ts(TsPayload<'a>),
    /// IKEv2 SK payload (RFC 7296 §3.14), or the whole encrypted body of an
    /// IKEv1 message with the E flag.
    Encrypted(EncryptedPayload<'a>),
    /// IKEv2 SKF payload (RFC 7383 §2.5).
    EncryptedFragment(EncryptedFragmentPayload<'a>),
    /// IKEv2 Configuration (RFC 7296 §3.15) or IKEv1 Attributes (mode config).
    Config(ConfigPayload<'a>),
    /// IKEv2 EAP (RFC 7296 §3.16).
    Eap(EapPayload<'a>),
    /// IKEv1 NAT-D, payload 20 or the draft number 130 (RFC 3947 §3.2).
    NatD(&'a [u8]),
    /// IKEv1 NAT-OA, payload 21 or 131 (RFC 3947 §5.1).
    NatOa(NatOaPayload<'a>),
    /// Cisco IKEv1 fragmentation payload 132.
    CiscoFragment(CiscoFragmentPayload<'a>),
    /// Not decoded; see [`Payload::body`].
    Raw,
}

/// Key Exchange payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KePayload<'a> {
    /// IKEv2 Diffie-Hellman group / KE method; `None` for IKEv1.
    pub dh_group: Option<u16>,
    /// The public value.
    pub data: &'a [u8],
}

impl KePayload<'_> {
    /// Group name ([`dh_group_name`]).
    pub fn group_name(&self) -> Option<&'static str> {
        self.dh_group.and_then(dh_group_name)
    }
}

/// Identification payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPayload<'a> {
    /// IKE major version the type numbers belong to.
    pub ike_version: u8,
    /// ID type.
    pub id_type: u8,
    /// IKEv1 IPsec DOI protocol ID (RFC 2407 §4.6.2); `None` for IKEv2.
    pub protocol_id: Option<u8>,
    /// IKEv1 port; `None` for IKEv2.
    pub port: Option<u16>,
    /// Identification data.
    pub data: &'a [u8],
}

impl IdPayload<'_> {
    /// ID type name.
    pub fn type_name(&self) -> Option<&'static str> {
        if self.ike_version == 1 {
            v1_id_type_name(self.id_type)
        } else {
            v2_id_type_name(self.id_type)
        }
    }

    /// The identity as an address, for ID_IPV4_ADDR / ID_IPV6_ADDR.
    pub fn ip_addr(&self) -> Option<std::net::IpAddr> {
        match self.id_type {
            1 | 5 => ip_from(self.data),
            _ => None,
        }
    }

    /// The identity as text, for ID_FQDN / ID_RFC822_ADDR (ID_USER_FQDN),
    /// when it is valid UTF-8.
    pub fn text(&self) -> Option<&str> {
        match self.id_type {
            2 | 3 => std::str::from_utf8(self.data).ok(),
            _ => None,
        }
    }
}

fn ip_from(data: &[u8]) -> Option<std::net::IpAddr> {
    if let Ok(a) = <[u8; 4]>::try_from(data) {
        Some(std::net::IpAddr::from(a))
    } else if let Ok(a) = <[u8; 16]>::try_from(data) {
        Some(std::net::IpAddr::from(a))
    } else {
        None
    }
}

/// Certificate or certificate request payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPayload<'a> {
    /// Certificate encoding / type.
    pub encoding: u8,
    /// Certificate data, or the certification authority data of a request.
    pub data: &'a [u8],
}

impl CertPayload<'_> {
    /// Encoding name ([`cert_encoding_name`]).
    pub fn encoding_name(&self) -> Option<&'static str> {
        cert_encoding_name(self.encoding)
    }
}

/// IKEv2 Authentication payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthPayload<'a> {
    /// Auth method.
    pub method: u8,
    /// Authentication data.
    pub data: &'a [u8],
}

impl AuthPayload<'_> {
    /// Method name ([`v2_auth_method_name`]).
    pub fn method_name(&self) -> Option<&'static str> {
        v2_auth_method_name(self.method)
    }
}

/// Notify payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyPayload<'a> {
    /// IKE major version the type number belongs to.
    pub ike_version: u8,
    /// IKEv1 Domain of Interpretation; `None` for IKEv2.
    pub doi: Option<u32>,
    /// Protocol ID.
    pub protocol_id: u8,
    /// SPI (SPI Size bytes).
    pub spi: &'a [u8],
    /// Notify message type.
    pub notify_type: u16,
    /// Notification data.
    pub data: &'a [u8],
}

impl NotifyPayload<'_> {
    /// IANA / RFC name of the type ([`v2_notify_name`] / [`v1_notify_name`]).
    pub fn name(&self) -> Option<&'static str> {
        if self.ike_version == 1 {
            v1_notify_name(self.notify_type)
        } else {
            v2_notify_name(self.notify_type)
        }
    }

    /// Name, or the number as text.
    pub fn name_or_number(&self) -> Cow<'static, str> {
        match self.name() {
            Some(n) => Cow::Borrowed(n),
            None => Cow::Owned(self.notify_type.to_string()),
        }
    }

    /// Error types are below 16384 in both versions.
    pub fn is_error(&self) -> bool {
        self.notify_type < 16384
    }

    /// For an IKEv2 INVALID_KE_PAYLOAD (17): the 2-byte DH group the
    /// responder wants (RFC 7296 §3.10.1).
    pub fn invalid_ke_group(&self) -> Option<u16> {
        if self.ike_version != 2 || self.notify_type != 17 {
            return None;
        }
        match self.data {
            [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
            _ => None,
        }
    }

    /// For an IKEv2 NAT_DETECTION_SOURCE_IP / _DESTINATION_IP notify: the
    /// hash (RFC 7296 §2.23).
    pub fn nat_detection_hash(&self) -> Option<&[u8]> {
        (self.ike_version == 2 && matches!(self.notify_type, 16388 | 16389)).then_some(self.data)
    }

    /// For an IKEv2 COOKIE notify: the cookie (RFC 7296 §2.6).
    pub fn cookie(&self) -> Option<&[u8]> {
        (self.ike_version == 2 && self.notify_type == 16390).then_some(self.data)
    }
}

/// Delete payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletePayload<'a> {
    /// IKEv1 Domain of Interpretation; `None` for IKEv2.
    pub doi: Option<u32>,
    /// Protocol ID.
    pub protocol_id: u8,
    /// Size of each SPI.
    pub spi_size: u8,
    /// Number of SPIs as declared.
    pub num_spis: u16,
    /// The SPIs, concatenated.
    pub spis: &'a [u8],
}

impl<'a> DeletePayload<'a> {
    /// The SPIs one by one (whole SPIs only; none when `spi_size` is 0).
    pub fn spi_list(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let size = usize::from(self.spi_size).max(1);
        let spis = if self.spi_size == 0 {
            &[][..]
        } else {
            self.spis
        };
        spis.chunks_exact(size)
    }
}

/// Vendor ID payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorIdPayload<'a> {
    /// The vendor ID bytes.
    pub data: &'a [u8],
    /// Known name ([`vendor_name`]).
    pub name: Option<&'static str>,
}

/// Encrypted content: an IKEv2 SK payload or an IKEv1 encrypted body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedPayload<'a> {
    /// Type of the first payload inside (SK's Next Payload field; for IKEv1
    /// the header's).
    pub first_payload: u8,
    /// IV, ciphertext, padding and ICV, opaque.
    pub data: &'a [u8],
}

/// IKEv2 SKF payload (RFC 7383 §2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedFragmentPayload<'a> {
    /// Type of the first inner payload (non-zero only in fragment 1).
    pub first_payload: u8,
    /// Fragment Number, from 1.
    pub fragment_number: u16,
    /// Total Fragments.
    pub total_fragments: u16,
    /// IV, ciphertext, padding and ICV, opaque.
    pub data: &'a [u8],
}

/// IKEv2 Configuration payload, or IKEv1 Attributes payload (mode config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPayload<'a> {
    /// CFG Type (1 request, 2 reply, 3 set, 4 ack).
    pub cfg_type: u8,
    /// IKEv1 identifier; `None` for IKEv2.
    pub identifier: Option<u16>,
    /// Configuration attributes, not decoded.
    pub attributes: &'a [u8],
}

/// IKEv2 EAP payload: the EAP message header (RFC 3748 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EapPayload<'a> {
    /// EAP Code (1 request, 2 response, 3 success, 4 failure).
    pub code: u8,
    /// EAP Identifier.
    pub identifier: u8,
    /// EAP Type, present in requests and responses.
    pub eap_type: Option<u8>,
    /// The whole EAP message.
    pub message: &'a [u8],
}

/// IKEv1 NAT-OA payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatOaPayload<'a> {
    /// ID type (1 IPv4, 5 IPv6).
    pub id_type: u8,
    /// Original address bytes.
    pub address: &'a [u8],
}

impl NatOaPayload<'_> {
    /// The original address.
    pub fn ip_addr(&self) -> Option<std::net::IpAddr> {
        ip_from(self.address)
    }
}

/// Cisco IKEv1 fragmentation payload (type 132).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiscoFragmentPayload<'a> {
    /// Fragment ID shared by all fragments of one message.
    pub fragment_id: u16,
    /// Fragment number, from 1.
    pub fragment_number: u8,
    /// Set on the last fragment.
    pub is_last: bool,
    /// Fragment data.
    pub data: &'a [u8],
}

/// One parsed IKE message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeMessage<'a> {
    /// The header.
    pub header: IkeHeader,
    /// The payload chain, in order.
    pub payloads: Vec<Payload<'a>>,
    /// What was wrong with the message, in the order found.
    pub anomalies: Vec<IkeAnomaly>,
}

impl<'a> IkeMessage<'a> {
    /// Major version from the header.
    pub fn version(&self) -> u8 {
        self.header.major_version
    }

    /// Exchange type name, by version.
    pub fn exchange_name(&self) -> Option<&'static str> {
        match self.version() {
            1 => v1_exchange_name(self.header.exchange_type),
            2 => v2_exchange_name(self.header.exchange_type),
            _ => None,
        }
    }

    /// Short payload names in chain order. For IKEv1, each SA is followed by
    /// one `P` per proposal and one `T` per transform, as `tshark` lists them.
    pub fn payload_names(&self) -> Vec<&'static str> {
        let mut names = Vec::with_capacity(self.payloads.len());
        for p in &self.payloads {
            names.push(p.name);
            if let PayloadDetail::V1Sa(sa) = &p.detail {
                for prop in &sa.proposals {
                    names.push("P");
                    names.extend(prop.transforms.iter().map(|_| "T"));
                }
            }
        }
        names
    }

    /// Every Notify payload visible in clear, in order.
    pub fn notifies(&self) -> impl Iterator<Item = &NotifyPayload<'a>> {
        self.payloads.iter().filter_map(|p| match &p.detail {
            PayloadDetail::Notify(n) => Some(n),
            _ => None,
        })
    }

    /// Every Notify payload's type, in order.
    pub fn notify_types(&self) -> Vec<u16> {
        self.notifies().map(|n| n.notify_type).collect()
    }

    /// Every Notify payload's name (IKEv2: IANA; IKEv1: RFC 2408 / `tshark`,
    /// with hyphens); an unknown type as its number.
    pub fn notify_names(&self) -> Vec<Cow<'static, str>> {
        self.notifies().map(|n| n.name_or_number()).collect()
    }

    /// Like [`IkeMessage::notify_names`] with IKEv1 names in the IKEv2
    /// underscore spelling (`NO_PROPOSAL_CHOSEN` for both versions), as the
    /// lab summaries list them.
    pub fn notify_names_normalized(&self) -> Vec<Cow<'static, str>> {
        self.notify_names()
            .into_iter()
            .map(|n| {
                if n.contains('-') {
                    Cow::Owned(normalize_notify_name(&n))
                } else {
                    n
                }
            })
            .collect()
    }

    /// Fragment number and total: from an IKEv2 SKF payload (RFC 7383), or
    /// from a Cisco IKEv1 fragment (payload 132), whose total is known only
    /// on the last fragment (then equal to its number; 0 before).
    pub fn fragment(&self) -> Option<(u16, u16)> {
        self.payloads.iter().find_map(|p| match &p.detail {
            PayloadDetail::EncryptedFragment(f) => Some((f.fragment_number, f.total_fragments)),
            PayloadDetail::CiscoFragment(f) => {
                let n = u16::from(f.fragment_number);
                Some((n, if f.is_last { n } else { 0 }))
            }
            _ => None,
        })
    }

    /// The first IKEv2 KE payload's DH group.
    pub fn ke_group(&self) -> Option<u16> {
        self.payloads.iter().find_map(|p| match &p.detail {
            PayloadDetail::Ke(ke) => ke.dh_group,
            _ => None,
        })
    }

    /// Group requested by an INVALID_KE_PAYLOAD notify, if any.
    pub fn invalid_ke_group(&self) -> Option<u16> {
        self.notifies().find_map(|n| n.invalid_ke_group())
    }

    /// Vendor ID payloads, in order.
    pub fn vendor_ids(&self) -> impl Iterator<Item = &VendorIdPayload<'a>> {
        self.payloads.iter().filter_map(|p| match &p.detail {
            PayloadDetail::VendorId(v) => Some(v),
            _ => None,
        })
    }

    /// True when the payloads after the header are encrypted (an IKEv2 SK or
    /// SKF payload, or an IKEv1 message with the E flag).
    pub fn has_encrypted_payload(&self) -> bool {
        self.payloads.iter().any(|p| {
            matches!(
                p.detail,
                PayloadDetail::Encrypted(_) | PayloadDetail::EncryptedFragment(_)
            )
        })
    }
}

/// Something wrong with a message. The Serialize form carries the stable
/// [`IkeAnomaly::code`] in a `code` field; offsets count from the start of
/// the IKE header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum IkeAnomaly {
    /// The header's Length field is below 28.
    HeaderLengthTooSmall {
        /// Declared length.
        length: u32,
    },
    /// The header's Length field is larger than the bytes given (the message
    /// was truncated, e.g. by the capture's snap length or IP fragment loss);
    /// the available bytes are parsed.
    MessageTruncated {
        /// Declared length.
        declared: u32,
        /// Bytes available.
        available: usize,
    },
    /// More bytes were given than the header's Length field declares; the
    /// extra bytes are ignored.
    TrailingDataAfterMessage {
        /// Declared length.
        declared: u32,
        /// Bytes available.
        available: usize,
    },
    /// A major version other than 1 or 2; payloads are not parsed.
    UnknownMajorVersion {
        /// The version.
        major_version: u8,
    },
    /// Fewer than 4 bytes left where a payload header was expected.
    PayloadHeaderTruncated {
        /// Offset of the expected header.
        offset: usize,
        /// Expected payload type.
        payload_type: u8,
        /// Bytes left.
        available: usize,
    },
    /// A payload length below the 4-byte generic header; the chain stops.
    PayloadLengthTooSmall {
        /// Payload offset.
        offset: usize,
        /// Payload type.
        payload_type: u8,
        /// Declared length.
        length: u16,
    },
    /// A payload length running past the end of the message; what is there
    /// is kept raw and the chain stops.
    PayloadBeyondMessage {
        /// Payload offset.
        offset: usize,
        /// Payload type.
        payload_type: u8,
        /// Declared length.
        length: u16,
        /// Bytes left from the payload's offset.
        available: usize,
    },
    /// Bytes left after the last payload (Next Payload 0, or after SK/SKF).
    TrailingBytesAfterPayloads {
        /// Offset of the first extra byte.
        offset: usize,
        /// Number of extra bytes.
        count: usize,
    },
    /// A payload type not assigned for this IKE version; it was skipped by
    /// its length.
    UnknownPayloadType {
        /// Payload offset.
        offset: usize,
        /// Payload type.
        payload_type: u8,
        /// IKEv2 critical bit (the peer must reject the message if set).
        is_critical: bool,
    },
    /// The chain has more than [`MAX_PAYLOADS`] payloads; the rest is ignored.
    TooManyPayloads {
        /// The cap.
        limit: usize,
    },
    /// A payload body shorter than its fixed fields; kept raw.
    PayloadBodyTooShort {
        /// Payload offset.
        offset: usize,
        /// Payload type.
        payload_type: u8,
        /// Body length.
        length: usize,
        /// Minimum for this payload.
        minimum: usize,
    },
    /// A substructure (proposal, transform, attribute, traffic selector,
    /// nested IKEv1 payload) whose length field is inconsistent; decoding of
    /// that payload stops there and what was decoded is kept.
    SubstructureMalformed {
        /// Offset of the enclosing payload.
        offset: usize,
        /// Payload type.
        payload_type: u8,
        /// Which substructure.
        what: &'static str,
    },
    /// A count field disagreeing with what the payload holds (transforms in
    /// a proposal, SPIs in a Delete, selectors in a TS payload).
    CountMismatch {
        /// Offset of the enclosing payload.
        offset: usize,
        /// Payload type.
        payload_type: u8,
        /// What is counted.
        what: &'static str,
        /// Declared count.
        declared: usize,
        /// Count found.
        found: usize,
    },
}

impl IkeAnomaly {
    /// Stable kebab-case code, never reused.
    pub fn code(&self) -> &'static str {
        match self {
            IkeAnomaly::HeaderLengthTooSmall { .. } => "header-length-too-small",
            IkeAnomaly::MessageTruncated { .. } => "message-truncated",
            IkeAnomaly::TrailingDataAfterMessage { .. } => "trailing-data-after-message",
            IkeAnomaly::UnknownMajorVersion { .. } => "unknown-major-version",
            IkeAnomaly::PayloadHeaderTruncated { .. } => "payload-header-truncated",
            IkeAnomaly::PayloadLengthTooSmall { .. } => "payload-length-too-small",
            IkeAnomaly::PayloadBeyondMessage { .. } => "payload-beyond-message",
            IkeAnomaly::TrailingBytesAfterPayloads { .. } => "trailing-bytes-after-payloads",
            IkeAnomaly::UnknownPayloadType { .. } => "unknown-payload-type",
            IkeAnomaly::TooManyPayloads { .. } => "too-many-payloads",
            IkeAnomaly::PayloadBodyTooShort { .. } => "payload-body-too-short",
            IkeAnomaly::SubstructureMalformed { .. } => "substructure-malformed",
            IkeAnomaly::CountMismatch { .. } => "count-mismatch",
        }
    }
}

impl fmt::Display for IkeAnomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IkeAnomaly::HeaderLengthTooSmall { length } => {
                write!(f, "IKE header length {length} is below the 28-byte header")
            }
            IkeAnomaly::MessageTruncated {
                declared,
                available,
            } => write!(
                f,
                "IKE header declares {declared} bytes but only {available} are present"
            ),
            IkeAnomaly::TrailingDataAfterMessage {
                declared,
                available,
            } => write!(
                f,
                "{} bytes follow the {declared}-byte IKE message",
                available.saturating_sub(*declared as usize)
            ),
            IkeAnomaly::UnknownMajorVersion { major_version } => {
                write!(
                    f,
                    "unknown IKE major version {major_version}; payloads not parsed"
                )
            }
            IkeAnomaly::PayloadHeaderTruncated {
                offset,
                payload_type,
                available,
            } => write!(
                f,
                "payload type {payload_type} expected at offset {offset} but only {available} bytes remain"
            ),
            IkeAnomaly::PayloadLengthTooSmall {
                offset,
                payload_type,
                length,
            } => write!(
                f,
                "payload type {payload_type} at offset {offset} has length {length}, below 4"
            ),
            IkeAnomaly::PayloadBeyondMessage {
                offset,
                payload_type,
                length,
                available,
            } => write!(
                f,
                "payload type {payload_type} at offset {offset} declares {length} bytes but only {available} remain"
            ),
            IkeAnomaly::TrailingBytesAfterPayloads { offset, count } => {
                write!(
                    f,
                    "{count} bytes after the last payload, at offset {offset}"
                )
            }
            IkeAnomaly::UnknownPayloadType {
                offset,
                payload_type,
                is_critical,
            } => write!(
                f,
                "unknown payload type {payload_type} at offset {offset}{}",
                if *is_critical {
                    " (critical bit set)"
                } else {
                    ""
                }
            ),
            IkeAnomaly::TooManyPayloads { limit } => {
                write!(f, "more than {limit} payloads; the rest is ignored")
            }
            IkeAnomaly::PayloadBodyTooShort {
                offset,
                payload_type,
                length,
                minimum,
            } => write!(
                f,
                "payload type {payload_type} at offset {offset} has a {length}-byte body, below its {minimum}-byte fixed part"
            ),
            IkeAnomaly::SubstructureMalformed {
                offset,
                payload_type,
                what,
            } => write!(
                f,
                "malformed {what} in payload type {payload_type} at offset {offset}"
            ),
            IkeAnomaly::CountMismatch {
                offset,
                payload_type,
                what,
                declared,
                found,
            } => write!(
                f,
                "payload type {payload_type} at offset {offset} declares {declared} {what} but holds {found}"
            ),
        }
    }
}

/// Parses one IKE message (the ISAKMP header and payload chain). `data`
/// starts at the ISAKMP header (after the UDP header and, on port 4500, after
/// the 4-byte non-ESP marker). Err only when fewer than 28 bytes are given.
pub fn parse(data: &[u8]) -> Result<IkeMessage<'_>, IkeError> {
    let header = IkeHeader::parse(data)?;
    let mut msg = IkeMessage {
        header,
        payloads: Vec::new(),
        anomalies: Vec::new(),
    };

    let declared = usize::try_from(header.length).unwrap_or(usize::MAX);
    let end = if declared < HEADER_LEN {
        msg.anomalies.push(IkeAnomaly::HeaderLengthTooSmall {
            length: header.length,
        });
        data.len()
    } else if declared > data.len() {
        msg.anomalies.push(IkeAnomaly::MessageTruncated {
            declared: header.length,
            available: data.len(),
        });
        data.len()
    } else {
        if declared < data.len() {
            msg.anomalies.push(IkeAnomaly::TrailingDataAfterMessage {
                declared: header.length,
                available: data.len(),
            });
        }
        declared
    };
    let message = data.get(..end).unwrap_or(data);

    match header.major_version {
        1 if header.is_encrypted_v1() => {
            let body = message.get(HEADER_LEN..).unwrap_or(&[]);
            msg.payloads.push(Payload {
                payload_type: header.next_payload,
                name: "encrypted",
                next_payload: 0,
                is_critical: false,
                offset: HEADER_LEN,
                body,
                detail: PayloadDetail::Encrypted(EncryptedPayload {
                    first_payload: header.next_payload,
                    data: body,
                }),
            });
        }
        1 | 2 => walk_chain(
            message,
            HEADER_LEN,
            header.major_version,
            header.next_payload,
            &mut msg,
        ),
        v => msg
            .anomalies
            .push(IkeAnomaly::UnknownMajorVersion { major_version: v }),
    }
    Ok(msg)
}

/// Walks a payload chain that does not start after an IKE header: the
/// plaintext of an IKEv2 SK payload (RFC 7296 §3.14), whose first payload
/// type is the SK payload's Next Payload field. `data` holds the payloads
/// only (no padding, no ICV); offsets in the returned payloads and anomalies
/// count from the start of `data`. The message carries `header` (the
/// outer message's), so its queries work as for a parsed message. Same
/// guarantees as [`parse`]: no panic, O(n), everything wrong is an
/// [`IkeAnomaly`].
pub fn parse_payload_chain(data: &[u8], header: IkeHeader, first_payload: u8) -> IkeMessage<'_> {
    let mut msg = IkeMessage {
        header,
        payloads: Vec::new(),
        anomalies: Vec::new(),
    };
    walk_chain(data, 0, header.major_version, first_payload, &mut msg);
    msg
}

/// Walks the generic payload chain from `start` (the end of the header, or 0
/// for decrypted SK contents) to the end of `message` (RFC 2408 §3.2, RFC
/// 7296 §3.2).
fn walk_chain<'a>(
    message: &'a [u8],
    start: usize,
    version: u8,
    first: u8,
    msg: &mut IkeMessage<'a>,
) {
    let end = message.len();
    let mut offset = start;
    let mut next = first;
    while next != 0 {
        if msg.payloads.len() >= MAX_PAYLOADS {
            msg.anomalies.push(IkeAnomaly::TooManyPayloads {
                limit: MAX_PAYLOADS,
            });
            return;
        }
        let payload_type = next;
        let available = end.saturating_sub(offset);
        let Some(&[np, flags, l0, l1]) = message.get(offset..offset.saturating_add(4)) else {
            msg.anomalies.push(IkeAnomaly::PayloadHeaderTruncated {
                offset,
                payload_type,
                available,
            });
            return;
        };
        let length = u16::from_be_bytes([l0, l1]);
        let is_critical = flags & 0x80 != 0;
        if length < 4 {
            msg.anomalies.push(IkeAnomaly::PayloadLengthTooSmall {
                offset,
                payload_type,
                length,
            });
            return;
        }
        let name = short_name(version, payload_type);
        let body_start = offset + 4;
        let body_end = offset + usize::from(length);
        if body_end > end {
            msg.anomalies.push(IkeAnomaly::PayloadBeyondMessage {
                offset,
                payload_type,
                length,
                available,
            });
            let body = message.get(body_start..).unwrap_or(&[]);
            // A capture cut by its snaplen still shows the fixed fields of
            // SK / SKF (RFC 7383 fragment number and total), which say which
            // fragments were sent; other payloads stay raw.
            let detail = if version == 2 && matches!(payload_type, 46 | 53) {
                let ctx = Ctx {
                    offset,
                    payload_type,
                    next_payload: np,
                };
                v2::decode(ctx, body, &mut msg.anomalies)
            } else {
                PayloadDetail::Raw
            };
            msg.payloads.push(Payload {
                payload_type,
                name: name.unwrap_or("unknown"),
                next_payload: np,
                is_critical,
                offset,
                body,
                detail,
            });
            return;
        }
        let body = message.get(body_start..body_end).unwrap_or(&[]);
        let detail = if name.is_none() {
            msg.anomalies.push(IkeAnomaly::UnknownPayloadType {
                offset,
                payload_type,
                is_critical,
            });
            PayloadDetail::Raw
        } else {
            let ctx = Ctx {
                offset,
                payload_type,
                next_payload: np,
            };
            if version == 1 {
                v1::decode(ctx, body, &mut msg.anomalies)
            } else {
                v2::decode(ctx, body, &mut msg.anomalies)
            }
        };
        msg.payloads.push(Payload {
            payload_type,
            name: name.unwrap_or("unknown"),
            next_payload: np,
            is_critical,
            offset,
            body,
            detail,
        });
        offset = body_end;
        // In IKEv2, SK and SKF are last; their Next Payload names the first
        // payload inside the encrypted data (RFC 7296 §3.14, RFC 7383 §2.5).
        next = if version == 2 && matches!(payload_type, 46 | 53) {
            0
        } else {
            np
        };
    }
    if offset < end {
        msg.anomalies.push(IkeAnomaly::TrailingBytesAfterPayloads {
            offset,
            count: end - offset,
        });
    }
}

fn short_name(version: u8, payload_type: u8) -> Option<&'static str> {
    if version == 1 {
        v1_payload_short_name(payload_type)
    } else {
        v2_payload_short_name(payload_type)
    }
}

/// Where a payload sits, for anomalies raised while decoding its body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    pub offset: usize,
    pub payload_type: u8,
    pub next_payload: u8,
}

impl Ctx {
    pub(crate) fn too_short(self, body: &[u8], minimum: usize) -> IkeAnomaly {
        IkeAnomaly::PayloadBodyTooShort {
            offset: self.offset,
            payload_type: self.payload_type,
            length: body.len(),
            minimum,
        }
    }

    pub(crate) fn malformed(self, what: &'static str) -> IkeAnomaly {
        IkeAnomaly::SubstructureMalformed {
            offset: self.offset,
            payload_type: self.payload_type,
            what,
        }
    }

    pub(crate) fn count(self, what: &'static str, declared: usize, found: usize) -> IkeAnomaly {
        IkeAnomaly::CountMismatch {
            offset: self.offset,
            payload_type: self.payload_type,
            what,
            declared,
            found,
        }
    }
}

/// A cursor over a byte slice whose reads return `None` past the end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_be_bytes([s[0], s[1]]))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = self.data.get(self.pos..).unwrap_or(&[]);
        self.pos = self.data.len();
        s
    }
}
