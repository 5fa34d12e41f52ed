//! Who the peers say they are and what they ask for: identities,
//! authentication methods, certificates, certificate requests, traffic
//! selectors and configuration attributes of one IKE message.
//!
//! Contract: [`details`] reads a parsed message (the decrypted inner chain,
//! or a clear one such as IKEv1 Aggressive Mode) and returns `None` when it
//! carries none of these payloads. Certificates are parsed with
//! `x509-parser`; one that does not parse keeps its encoding and a
//! `parse_error`, never a panic. Everything here identifies a customer:
//! `report::redact` pseudonymises every string of it.

use serde::Serialize;

use crate::ike::{IkeMessage, PayloadDetail};

/// What one message reveals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageDetails {
    /// IDi/IDr (IKEv2), ID (IKEv1 Phase 1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<Identity>,
    /// AUTH payload methods (IKEv2), e.g. `Shared Key Message Integrity Code`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auth_methods: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<Certificate>,
    /// Certificate requests: for X.509 the SHA-1 hashes of the CA public
    /// keys asked for (RFC 7296 section 3.7), in hex.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cert_requests: Vec<String>,
    /// Traffic selectors of the initiator (TSi; IKEv1 Quick Mode IDci).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ts_i: Vec<String>,
    /// Traffic selectors of the responder (TSr; IKEv1 Quick Mode IDcr).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ts_r: Vec<String>,
    /// Configuration payload attributes (`INTERNAL_IP4_ADDRESS=10.0.0.2`;
    /// a bare name is a request).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
}

/// One identity payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// `IDi`, `IDr` or `ID` (IKEv1).
    pub role: &'static str,
    /// ID type name, e.g. `ID_FQDN`.
    pub kind: String,
    /// The identity as text (addresses, names; DER names as DNs; other
    /// types in hex).
    pub value: String,
}

/// One certificate payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certificate {
    /// Encoding name, e.g. `X.509 Certificate - Signature`.
    pub encoding: String,
    pub subject: String,
    pub issuer: String,
    /// Serial number, colon-separated hex.
    pub serial: String,
    /// Validity, seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// subjectAltName entries (`DNS:…`, `email:…`, `IP:…`, `URI:…`).
    pub subject_alt_names: Vec<String>,
    /// Public key algorithm and size, e.g. `RSA 2048`.
    pub key: String,
    pub is_ca: bool,
    /// Why the certificate could not be read; the other fields are then empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
}

impl Certificate {
    /// Whether `t` (seconds since the epoch) lies outside the validity
    /// period: `Some("expired")`, `Some("not yet valid")` or `None`.
    pub fn validity_problem(&self, t: i64) -> Option<&'static str> {
        if self.parse_error.is_some() {
            None
        } else if t > self.not_after {
            Some("expired")
        } else if t < self.not_before {
            Some("not yet valid")
        } else {
            None
        }
    }
}

/// Formats seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Most certificates, selectors and attributes kept per message.
const MAX_ITEMS: usize = 16;

/// What `m` reveals, or `None` when it has none of these payloads.
pub fn details(m: &IkeMessage<'_>) -> Option<MessageDetails> {
    let mut d = MessageDetails::default();
    let v1 = m.header.major_version == 1;
    let quick_mode = v1 && m.header.exchange_type == 32;
    let mut v1_ids = 0usize;
    for p in &m.payloads {
        match &p.detail {
            PayloadDetail::Id(id) => {
                let kind = id
                    .type_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("ID type {}", id.id_type));
                // Bounded whatever the type: identities come from strangers.
                let value = printable(&id_value(id));
                if quick_mode {
                    // RFC 2409 section 5.5: IDci then IDcr.
                    let sel = v1_selector(id, &value);
                    if v1_ids == 0 {
                        d.ts_i.push(sel);
                    } else if v1_ids == 1 {
                        d.ts_r.push(sel);
                    }
                    v1_ids += 1;
                } else if d.identities.len() < MAX_ITEMS {
                    let role = match p.payload_type {
                        35 => "IDi",
                        36 => "IDr",
                        _ => "ID",
                    };
                    d.identities.push(Identity { role, kind, value });
                }
            }
            PayloadDetail::Auth(a) => d.auth_methods.push(
                a.method_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("method {}", a.method)),
            ),
            PayloadDetail::Cert(c) if d.certificates.len() < MAX_ITEMS => {
                d.certificates.push(certificate(c.encoding, c.data));
            }
            PayloadDetail::CertReq(c) => {
                // X.509 (4): concatenated 20-byte SHA-1 key hashes.
                if c.encoding == 4 {
                    for h in c.data.chunks(20).take(MAX_ITEMS) {
                        d.cert_requests.push(super::hex(h));
                    }
                } else {
                    d.cert_requests.push(
                        c.encoding_name()
                            .map(str::to_string)
                            .unwrap_or_else(|| format!("encoding {}", c.encoding)),
                    );
                }
            }
            PayloadDetail::Ts(ts) => {
                let out = if p.payload_type == 44 {
                    &mut d.ts_i
                } else {
                    &mut d.ts_r
                };
                for s in ts.selectors.iter().take(MAX_ITEMS) {
                    out.push(selector(s));
                }
            }
            PayloadDetail::Config(c) if !v1 => {
                d.config.extend(config_attributes(c.attributes));
            }
            _ => {}
        }
    }
    (d != MessageDetails::default()).then_some(d)
}

fn id_value(id: &crate::ike::IdPayload<'_>) -> String {
    if let Some(a) = id.ip_addr() {
        return a.to_string();
    }
    if let Some(t) = id.text() {
        return printable(t);
    }
    match (id.ike_version, id.id_type) {
        // ID_DER_ASN1_DN (IKEv1 9, IKEv2 9).
        (_, 9) => match <x509_parser::x509::X509Name as x509_parser::prelude::FromDer<
            x509_parser::error::X509Error,
        >>::from_der(id.data)
        {
            Ok((_, name)) => name.to_string(),
            Err(_) => super::hex(id.data),
        },
        // IKEv1 subnets and ranges: address + mask / address + address.
        (1, 4 | 6 | 7 | 8) => {
            let half = id.data.len() / 2;
            let (a, b) = id.data.split_at(half);
            match (ip_of(a), ip_of(b)) {
                (Some(a), Some(b)) if matches!(id.id_type, 4 | 6) => {
                    format!("{a}/{}", prefix_len(b))
                }
                (Some(a), Some(b)) => format!("{a}-{b}"),
                _ => super::hex(id.data),
            }
        }
        _ => {
            let mut s = super::hex(&id.data[..id.data.len().min(64)]);
            if id.data.len() > 64 {
                s.push('…');
            }
            s
        }
    }
}

fn ip_of(b: &[u8]) -> Option<std::net::IpAddr> {
    if let Ok(a) = <[u8; 4]>::try_from(b) {
        Some(a.into())
    } else {
        <[u8; 16]>::try_from(b).ok().map(Into::into)
    }
}

/// Prefix length of a netmask (leading one bits).
fn prefix_len(mask: std::net::IpAddr) -> String {
    let (ones, contiguous) = match mask {
        std::net::IpAddr::V4(m) => {
            let v = u32::from(m);
            (
                v.leading_ones(),
                v.checked_shl(v.leading_ones()).unwrap_or(0) == 0,
            )
        }
        std::net::IpAddr::V6(m) => {
            let v = u128::from(m);
            (
                v.leading_ones(),
                v.checked_shl(v.leading_ones()).unwrap_or(0) == 0,
            )
        }
    };
    // A non-contiguous mask is shown as it is: it is a misconfiguration.
    if contiguous {
        ones.to_string()
    } else {
        mask.to_string()
    }
}

/// An IKEv1 Quick Mode client ID as a selector: `10.0.0.0/24 udp/1701`.
fn v1_selector(id: &crate::ike::IdPayload<'_>, value: &str) -> String {
    let mut s = value.to_string();
    let proto = id.protocol_id.unwrap_or(0);
    if proto != 0 {
        s.push(' ');
        s.push_str(&proto_name(proto));
        if let Some(port) = id.port.filter(|p| *p != 0) {
            s.push_str(&format!("/{port}"));
        }
    }
    s
}

fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        47 => "gre".into(),
        58 => "ipv6-icmp".into(),
        n => format!("proto {n}"),
    }
}

/// An IKEv2 traffic selector as text: `10.0.0.0/24`, `10.0.0.1-10.0.0.9`,
/// with ` tcp/443` or ` udp/1000-2000` when restricted.
pub fn selector(s: &crate::ike::TrafficSelector<'_>) -> String {
    let mut out = match s.address_range() {
        Some((a, b)) => range_text(a, b),
        None => format!(
            "{} {}",
            s.type_name().unwrap_or("TS"),
            super::hex(s.start_address)
        ),
    };
    if s.ip_protocol_id != 0 {
        out.push(' ');
        out.push_str(&proto_name(s.ip_protocol_id));
    }
    if !(s.start_port == 0 && s.end_port == 65535) {
        if s.ip_protocol_id == 0 {
            out.push_str(" port");
        }
        if s.start_port == s.end_port {
            out.push_str(&format!("/{}", s.start_port));
        } else {
            out.push_str(&format!("/{}-{}", s.start_port, s.end_port));
        }
    }
    out
}

/// A range as a CIDR prefix when it is one.
fn range_text(a: std::net::IpAddr, b: std::net::IpAddr) -> String {
    use std::net::IpAddr;
    let (lo, hi, bits) = match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return format!("{a}-{b}"),
    };
    if lo == hi {
        return a.to_string();
    }
    let span = hi.wrapping_sub(lo).wrapping_add(1);
    let full = bits == 128 && lo == 0 && hi == u128::MAX;
    if full {
        return format!("{a}/0");
    }
    if hi > lo && span.is_power_of_two() && lo & (span - 1) == 0 {
        let host_bits = span.trailing_zeros();
        return format!("{a}/{}", bits - host_bits);
    }
    format!("{a}-{b}")
}

/// IKEv2 configuration attributes (RFC 7296 section 3.15.1).
fn config_attributes(mut b: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while b.len() >= 4 && out.len() < MAX_ITEMS {
        let t = u16::from_be_bytes([b[0], b[1]]) & 0x7fff;
        let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
        let Some(value) = b.get(4..4 + len) else {
            out.push(format!("{} (truncated)", config_name(t)));
            break;
        };
        let name = config_name(t);
        out.push(match (t, value.len()) {
            (_, 0) => name,
            // Addresses, possibly with a prefix length / netmask.
            (1..=4 | 6 | 8 | 10 | 13 | 15, 4) | (8 | 10 | 15, 16) => {
                format!(
                    "{name}={}",
                    ip_of(value).map(|a| a.to_string()).unwrap_or_default()
                )
            }
            (8 | 15, 17) => match ip_of(&value[..16]) {
                Some(a) => format!("{name}={a}/{}", value[16]),
                None => name,
            },
            (13, 8) => match (ip_of(&value[..4]), ip_of(&value[4..])) {
                (Some(a), Some(m)) => format!("{name}={a}/{}", prefix_len(m)),
                _ => name,
            },
            (7, _) => format!("{name}={}", printable(&String::from_utf8_lossy(value))),
            _ => format!("{name} ({} bytes)", value.len()),
        });
        b = &b[(4 + len).min(b.len())..];
    }
    out
}

fn config_name(t: u16) -> String {
    match t {
        1 => "INTERNAL_IP4_ADDRESS",
        2 => "INTERNAL_IP4_NETMASK",
        3 => "INTERNAL_IP4_DNS",
        4 => "INTERNAL_IP4_NBNS",
        6 => "INTERNAL_IP4_DHCP",
        7 => "APPLICATION_VERSION",
        8 => "INTERNAL_IP6_ADDRESS",
        10 => "INTERNAL_IP6_DNS",
        12 => "INTERNAL_IP6_DHCP",
        13 => "INTERNAL_IP4_SUBNET",
        14 => "SUPPORTED_ATTRIBUTES",
        15 => "INTERNAL_IP6_SUBNET",
        25 => "INTERNAL_DNS_DOMAIN",
        _ => return format!("attribute {t}"),
    }
    .to_string()
}

/// Control characters replaced, length capped: identities come from strangers.
fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(256)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().nth(256).is_some() {
        out.push('…');
    }
    out
}

/// Reads one CERT payload.
pub fn certificate(encoding: u8, data: &[u8]) -> Certificate {
    let encoding_name = crate::ike::cert_encoding_name(encoding)
        .map(str::to_string)
        .unwrap_or_else(|| format!("encoding {encoding}"));
    let mut c = Certificate {
        encoding: encoding_name,
        subject: String::new(),
        issuer: String::new(),
        serial: String::new(),
        not_before: 0,
        not_after: 0,
        subject_alt_names: Vec::new(),
        key: String::new(),
        is_ca: false,
        parse_error: None,
    };
    if encoding != 4 {
        c.parse_error = Some("not an X.509 signature certificate (encoding 4)".into());
        return c;
    }
    let cert = match x509_parser::parse_x509_certificate(data) {
        Ok((_, cert)) => cert,
        Err(e) => {
            c.parse_error = Some(format!("X.509 certificate does not parse: {e}"));
            return c;
        }
    };
    c.subject = printable(&cert.subject().to_string());
    c.issuer = printable(&cert.issuer().to_string());
    c.serial = cert.raw_serial_as_string();
    c.not_before = cert.validity().not_before.timestamp();
    c.not_after = cert.validity().not_after.timestamp();
    c.is_ca = cert.is_ca();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        use x509_parser::extensions::GeneralName;
        for n in san.value.general_names.iter().take(MAX_ITEMS) {
            let s = match n {
                GeneralName::DNSName(s) => format!("DNS:{}", printable(s)),
                GeneralName::RFC822Name(s) => format!("email:{}", printable(s)),
                GeneralName::URI(s) => format!("URI:{}", printable(s)),
                GeneralName::IPAddress(b) => match ip_of(b) {
                    Some(a) => format!("IP:{a}"),
                    None => format!("IP:{}", super::hex(b)),
                },
                GeneralName::DirectoryName(n) => format!("DirName:{}", printable(&n.to_string())),
                _ => continue,
            };
            c.subject_alt_names.push(s);
        }
    }
    c.key = match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(k)) => format!("RSA {}", k.key_size()),
        Ok(x509_parser::public_key::PublicKey::EC(k)) => format!("EC {}", k.key_size()),
        Ok(x509_parser::public_key::PublicKey::DSA(_)) => "DSA".into(),
        _ => {
            // Ed25519 / Ed448 are "unknown" to the parser: name the OID.
            let oid = cert.public_key().algorithm.algorithm.to_id_string();
            match oid.as_str() {
                "1.3.101.112" => "Ed25519".into(),
                "1.3.101.113" => "Ed448".into(),
                _ => oid,
            }
        }
    };
    c
}

/// What one side of an IKE SA said about itself, from every message it sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PeerSide {
    pub identities: Vec<Identity>,
    pub auth_methods: Vec<String>,
    pub certificates: Vec<SeenCertificate>,
    /// CA key hashes (or encodings) it asked the other side for.
    pub cert_requests: Vec<String>,
    /// Configuration attributes it sent (requests or assignments).
    pub config: Vec<String>,
    /// Frames of the messages these come from.
    pub frames: Vec<u64>,
}

/// A certificate with where and when it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeenCertificate {
    #[serde(flatten)]
    pub cert: Certificate,
    pub frame: u64,
    /// `expired` or `not yet valid` at the capture time of that frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_problem: Option<&'static str>,
}

/// Both sides of an IKE SA.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Peers {
    pub initiator: PeerSide,
    pub responder: PeerSide,
}

/// The identities and credentials of an IKE SA, or `None` when no message
/// carried any (IKEv2 without keys).
pub fn peers(sa: &super::IkeSa) -> Option<Peers> {
    let mut p = Peers::default();
    let mut any = false;
    for m in sa.messages() {
        let Some(d) = m.details.as_deref() else {
            continue;
        };
        if m.retransmission {
            continue;
        }
        let side = if m.from_initiator {
            &mut p.initiator
        } else {
            &mut p.responder
        };
        let before = (
            side.identities.len(),
            side.auth_methods.len(),
            side.certificates.len(),
            side.cert_requests.len(),
            side.config.len(),
        );
        for id in &d.identities {
            if !side.identities.contains(id) {
                side.identities.push(id.clone());
            }
        }
        for a in &d.auth_methods {
            if !side.auth_methods.contains(a) {
                side.auth_methods.push(a.clone());
            }
        }
        for c in &d.certificates {
            if !side.certificates.iter().any(|s| s.cert == *c) {
                side.certificates.push(SeenCertificate {
                    cert: c.clone(),
                    frame: m.frame,
                    validity_problem: c.validity_problem(m.ts_ns.div_euclid(1_000_000_000)),
                });
            }
        }
        for r in &d.cert_requests {
            if !side.cert_requests.contains(r) {
                side.cert_requests.push(r.clone());
            }
        }
        for c in &d.config {
            if !side.config.contains(c) {
                side.config.push(c.clone());
            }
        }
        let after = (
            side.identities.len(),
            side.auth_methods.len(),
            side.certificates.len(),
            side.cert_requests.len(),
            side.config.len(),
        );
        if after != before {
            side.frames.push(m.frame);
            any = true;
        }
    }
    any.then_some(p)
}

/// One CHILD SA negotiation (IKEv2 IKE_AUTH or CREATE_CHILD_SA, IKEv1
/// Quick Mode): what was proposed and what was chosen, side by side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildNegotiation {
    pub exchange: String,
    pub request_frame: u64,
    pub response_frame: Option<u64>,
    /// The requester's proposals, one line each (`#1 ESP: ENCR_AES_CBC-128, …`).
    pub proposed: Vec<String>,
    /// The proposal the responder chose, when it answered with one.
    pub chosen: Option<String>,
    pub ts_i_proposed: Vec<String>,
    pub ts_r_proposed: Vec<String>,
    pub ts_i_chosen: Vec<String>,
    pub ts_r_chosen: Vec<String>,
    /// The error notify that refused the CHILD SA (NO_PROPOSAL_CHOSEN,
    /// TS_UNACCEPTABLE, …), if any.
    pub error: Option<String>,
    /// The proposals did not match (NO_PROPOSAL_CHOSEN).
    pub proposal_mismatch: bool,
    /// The selectors did not match (TS_UNACCEPTABLE), or the responder
    /// narrowed them (chosen differ from proposed).
    pub ts_mismatch: bool,
    pub ts_narrowed: bool,
}

/// Error notifies that refuse a CHILD SA (RFC 7296 section 3.10.1).
const CHILD_ERRORS: &[&str] = &[
    "NO_PROPOSAL_CHOSEN",
    "TS_UNACCEPTABLE",
    "SINGLE_PAIR_REQUIRED",
    "INTERNAL_ADDRESS_FAILURE",
    "FAILED_CP_REQUIRED",
    "NO_ADDITIONAL_SAS",
    "INVALID_KE_PAYLOAD",
    "AUTHENTICATION_FAILED",
    "INVALID_ID_INFORMATION",
    "TEMPORARY_FAILURE",
];

/// A CHILD SA error notify, in IKEv2 (`NO_PROPOSAL_CHOSEN`) or IKEv1
/// (`NO-PROPOSAL-CHOSEN`) spelling.
fn is_child_error(n: &str) -> bool {
    CHILD_ERRORS.contains(&n.replace('-', "_").as_str())
}

/// A proposal as one line.
pub fn proposal_line(p: &super::ProposalSummary) -> String {
    format!("#{} {}: {}", p.number, p.protocol, p.transforms.join(", "))
}

/// The CHILD SA negotiations of an IKE SA whose request could be read
/// (decrypted or in clear), in capture order.
pub fn children(sa: &super::IkeSa) -> Vec<ChildNegotiation> {
    let mut out = Vec::new();
    for x in &sa.exchanges {
        let child_exchange = matches!((sa.version, x.exchange_type), (2, 35 | 36) | (1, 32));
        if !child_exchange {
            continue;
        }
        let Some(req) = x.first_request() else {
            continue;
        };
        let child_props: Vec<_> = req
            .proposals
            .iter()
            .filter(|p| p.protocol != "IKE" && p.protocol != "ISAKMP")
            .collect();
        let req_d = req.details.as_deref();
        if child_props.is_empty() && req_d.is_none_or(|d| d.ts_i.is_empty()) {
            continue;
        }
        let resp = if sa.version == 1 {
            // Quick Mode: the second distinct message answers the first.
            x.messages
                .iter()
                .find(|m| !m.retransmission && m.from_initiator != req.from_initiator)
        } else if x.exchange_type == 35 {
            // EAP / multiple authentication: the CHILD SA is answered in the
            // last IKE_AUTH response, not the first.
            sa.exchanges
                .iter()
                .filter(|y| y.exchange_type == 35 && y.message_id >= x.message_id)
                .filter_map(|y| y.first_response())
                .next_back()
        } else {
            x.first_response()
        };
        // IKEv1 refuses a Quick Mode with an Informational of its own.
        let refusal = if sa.version == 1 && resp.is_none() {
            sa.v1_refusal(req)
                .filter(|m| m.notify.iter().any(|n| is_child_error(n)))
        } else {
            None
        };
        let resp_d = resp.and_then(|m| m.details.as_deref());
        let error = resp
            .or(refusal)
            .and_then(|m| m.notify.iter().find(|n| is_child_error(n)))
            .map(|n| n.replace('-', "_"));
        let resp = resp.or(refusal);
        let ts = |d: Option<&MessageDetails>, i: bool| -> Vec<String> {
            d.map(|d| if i { d.ts_i.clone() } else { d.ts_r.clone() })
                .unwrap_or_default()
        };
        let (ts_i_proposed, ts_r_proposed) = (ts(req_d, true), ts(req_d, false));
        let (ts_i_chosen, ts_r_chosen) = (ts(resp_d, true), ts(resp_d, false));
        let ts_narrowed = !ts_i_chosen.is_empty()
            && (ts_i_chosen != ts_i_proposed || ts_r_chosen != ts_r_proposed);
        out.push(ChildNegotiation {
            exchange: x.name.clone(),
            request_frame: req.frame,
            response_frame: resp.map(|m| m.frame),
            proposed: child_props.iter().map(|p| proposal_line(p)).collect(),
            chosen: resp
                .and_then(|m| {
                    m.proposals
                        .iter()
                        .find(|p| p.protocol != "IKE" && p.protocol != "ISAKMP")
                })
                .map(proposal_line),
            ts_i_proposed,
            ts_r_proposed,
            ts_i_chosen,
            ts_r_chosen,
            proposal_mismatch: error.as_deref() == Some("NO_PROPOSAL_CHOSEN"),
            ts_mismatch: error.as_deref() == Some("TS_UNACCEPTABLE"),
            error,
            ts_narrowed,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks() {
        let a = |s: &str| s.parse().unwrap();
        assert_eq!(prefix_len(a("255.255.255.0")), "24");
        assert_eq!(prefix_len(a("255.255.255.255")), "32");
        assert_eq!(prefix_len(a("0.0.0.0")), "0");
        assert_eq!(prefix_len(a("255.0.255.0")), "255.0.255.0");
        assert_eq!(prefix_len(a("ffff:ffff::")), "32");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_392_000), "2026-11-23 00:00:00 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn ranges_as_prefixes() {
        let a = |s: &str| s.parse().unwrap();
        assert_eq!(range_text(a("10.0.0.0"), a("10.0.0.255")), "10.0.0.0/24");
        assert_eq!(range_text(a("0.0.0.0"), a("255.255.255.255")), "0.0.0.0/0");
        assert_eq!(range_text(a("10.0.0.1"), a("10.0.0.1")), "10.0.0.1");
        assert_eq!(
            range_text(a("10.0.0.1"), a("10.0.0.9")),
            "10.0.0.1-10.0.0.9"
        );
        assert_eq!(
            range_text(a("::"), a("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
            "::/0"
        );
        assert_eq!(range_text(a("10.0.0.0"), a("::1")), "10.0.0.0-::1");
    }

    #[test]
    fn config_attributes_decode_and_stop_on_truncation() {
        let b = [
            0, 1, 0, 4, 10, 0, 0, 2, 0, 3, 0, 0, 0, 13, 0, 8, 10, 1, 0, 0, 255, 255, 0, 0,
        ];
        assert_eq!(
            config_attributes(&b),
            [
                "INTERNAL_IP4_ADDRESS=10.0.0.2",
                "INTERNAL_IP4_DNS",
                "INTERNAL_IP4_SUBNET=10.1.0.0/16"
            ]
        );
        assert_eq!(
            config_attributes(&[0, 1, 0, 9, 1]),
            ["INTERNAL_IP4_ADDRESS (truncated)"]
        );
    }

    #[test]
    fn garbage_certificate_is_an_error_not_a_panic() {
        for data in [&[][..], &[0x30], &[0x30, 0x82, 0xff, 0xff, 0], &[0xa0; 40]] {
            let c = certificate(4, data);
            assert!(c.parse_error.is_some());
            assert_eq!(c.validity_problem(0), None);
        }
        assert!(certificate(7, b"x").parse_error.is_some());
    }
}
