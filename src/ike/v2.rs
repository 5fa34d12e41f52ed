//! IKEv2 payload body decoders (RFC 7296 §3.3-3.16, RFC 7383 §2.5).
//!
//! Contract: [`decode`] turns one payload body (after the generic header)
//! into a [`PayloadDetail`]. Every length is checked against the body; a body
//! shorter than its fixed part becomes [`PayloadDetail::Raw`] plus an
//! anomaly, an inconsistent substructure (proposal, transform, attribute,
//! selector) stops decoding of that payload and keeps what was decoded. No
//! panics, no recursion, linear in the body size.

use super::v1::{AttributeValue, parse_attributes};
use super::{
    AuthPayload, CertPayload, ConfigPayload, Ctx, DeletePayload, EapPayload,
    EncryptedFragmentPayload, EncryptedPayload, IdPayload, IkeAnomaly, KePayload, NotifyPayload,
    PayloadDetail, Reader, VendorIdPayload, names, vendor_name,
};

/// IKEv2 SA payload (RFC 7296 §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaPayload<'a> {
    /// Proposals in order.
    pub proposals: Vec<Proposal<'a>>,
}

/// Proposal substructure (RFC 7296 §3.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal<'a> {
    /// Proposal Num.
    pub proposal_number: u8,
    /// Protocol ID (1 IKE, 2 AH, 3 ESP).
    pub protocol_id: u8,
    /// SPI (empty in an initial IKE SA proposal).
    pub spi: &'a [u8],
    /// Num Transforms as declared.
    pub num_transforms: u8,
    /// Transforms in order.
    pub transforms: Vec<Transform<'a>>,
}

impl Proposal<'_> {
    /// Protocol name ([`names::v2_protocol_name`]).
    pub fn protocol_name(&self) -> Option<&'static str> {
        names::v2_protocol_name(self.protocol_id)
    }

    /// Transforms of one type (1 ENCR, 2 PRF, 3 INTEG, 4 DH, 5 ESN).
    pub fn transforms_of(&self, transform_type: u8) -> impl Iterator<Item = &Transform<'_>> {
        self.transforms
            .iter()
            .filter(move |t| t.transform_type == transform_type)
    }
}

/// Transform substructure (RFC 7296 §3.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transform<'a> {
    /// Transform Type.
    pub transform_type: u8,
    /// Transform ID.
    pub transform_id: u16,
    /// Key Length attribute (type 14, RFC 7296 §3.3.5), in bits.
    pub key_length: Option<u16>,
    /// All transform attributes, raw.
    pub attributes: &'a [u8],
}

impl Transform<'_> {
    /// Transform type name: ENCR, PRF, INTEG, DH, ESN, ADDKE1..7.
    pub fn type_name(&self) -> Option<&'static str> {
        names::v2_transform_type_name(self.transform_type)
    }

    /// Transform ID name (e.g. `ENCR_AES_GCM_16`, `PRF_HMAC_SHA2_256`).
    pub fn name(&self) -> Option<&'static str> {
        names::v2_transform_name(self.transform_type, self.transform_id)
    }
}

/// Traffic selector payload (RFC 7296 §3.13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsPayload<'a> {
    /// Number of TSs as declared.
    pub num_ts: u8,
    /// Selectors in order.
    pub selectors: Vec<TrafficSelector<'a>>,
}

/// One traffic selector (RFC 7296 §3.13.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficSelector<'a> {
    /// TS Type (7 IPv4 range, 8 IPv6 range).
    pub ts_type: u8,
    /// IP protocol ID (0 any).
    pub ip_protocol_id: u8,
    /// Start port.
    pub start_port: u16,
    /// End port.
    pub end_port: u16,
    /// Starting address (for other TS types: first half of the data).
    pub start_address: &'a [u8],
    /// Ending address (for other TS types: second half of the data).
    pub end_address: &'a [u8],
}

impl TrafficSelector<'_> {
    /// TS type name ([`names::ts_type_name`]).
    pub fn type_name(&self) -> Option<&'static str> {
        names::ts_type_name(self.ts_type)
    }

    /// Address range, for TS_IPV4_ADDR_RANGE / TS_IPV6_ADDR_RANGE.
    pub fn address_range(&self) -> Option<(std::net::IpAddr, std::net::IpAddr)> {
        Some((
            super::ip_from(self.start_address)?,
            super::ip_from(self.end_address)?,
        ))
    }
}

/// Decodes one IKEv2 payload body.
pub(crate) fn decode<'a>(
    ctx: Ctx,
    body: &'a [u8],
    anomalies: &mut Vec<IkeAnomaly>,
) -> PayloadDetail<'a> {
    let mut r = Reader::new(body);
    // Fixed-part minimum of each payload.
    let minimum = match ctx.payload_type {
        34 | 35 | 36 | 39 | 41 | 42 | 44 | 45 | 47 | 48 | 53 => 4,
        37 | 38 => 1,
        _ => 0,
    };
    if body.len() < minimum {
        anomalies.push(ctx.too_short(body, minimum));
        return PayloadDetail::Raw;
    }
    match ctx.payload_type {
        33 => PayloadDetail::Sa(decode_sa(ctx, body, anomalies)),
        34 => {
            let dh_group = r.u16();
            let _reserved = r.u16();
            PayloadDetail::Ke(KePayload {
                dh_group,
                data: r.rest(),
            })
        }
        35 | 36 => {
            let id_type = r.u8().unwrap_or(0);
            let _reserved = r.take(3);
            PayloadDetail::Id(IdPayload {
                ike_version: 2,
                id_type,
                protocol_id: None,
                port: None,
                data: r.rest(),
            })
        }
        37 | 38 => {
            let encoding = r.u8().unwrap_or(0);
            let cert = CertPayload {
                encoding,
                data: r.rest(),
            };
            if ctx.payload_type == 37 {
                PayloadDetail::Cert(cert)
            } else {
                PayloadDetail::CertReq(cert)
            }
        }
        39 => {
            let method = r.u8().unwrap_or(0);
            let _reserved = r.take(3);
            PayloadDetail::Auth(AuthPayload {
                method,
                data: r.rest(),
            })
        }
        40 => PayloadDetail::Nonce(body),
        41 => {
            let protocol_id = r.u8().unwrap_or(0);
            let spi_size = r.u8().unwrap_or(0);
            let notify_type = r.u16().unwrap_or(0);
            let Some(spi) = r.take(usize::from(spi_size)) else {
                anomalies.push(ctx.too_short(body, 4 + usize::from(spi_size)));
                return PayloadDetail::Raw;
            };
            PayloadDetail::Notify(NotifyPayload {
                ike_version: 2,
                doi: None,
                protocol_id,
                spi,
                notify_type,
                data: r.rest(),
            })
        }
        42 => {
            let protocol_id = r.u8().unwrap_or(0);
            let spi_size = r.u8().unwrap_or(0);
            let num_spis = r.u16().unwrap_or(0);
            let spis = r.rest();
            check_spi_count(ctx, spi_size, num_spis, spis, anomalies);
            PayloadDetail::Delete(DeletePayload {
                doi: None,
                protocol_id,
                spi_size,
                num_spis,
                spis,
            })
        }
        43 => PayloadDetail::VendorId(VendorIdPayload {
            data: body,
            name: vendor_name(body),
        }),
        44 | 45 => PayloadDetail::Ts(decode_ts(ctx, body, anomalies)),
        46 => PayloadDetail::Encrypted(EncryptedPayload {
            first_payload: ctx.next_payload,
            data: body,
        }),
        47 => {
            let cfg_type = r.u8().unwrap_or(0);
            let _reserved = r.take(3);
            PayloadDetail::Config(ConfigPayload {
                cfg_type,
                identifier: None,
                attributes: r.rest(),
            })
        }
        48 => {
            let code = r.u8().unwrap_or(0);
            let identifier = r.u8().unwrap_or(0);
            let _length = r.u16();
            let eap_type = if matches!(code, 1 | 2) { r.u8() } else { None };
            PayloadDetail::Eap(EapPayload {
                code,
                identifier,
                eap_type,
                message: body,
            })
        }
        53 => {
            let fragment_number = r.u16().unwrap_or(0);
            let total_fragments = r.u16().unwrap_or(0);
            PayloadDetail::EncryptedFragment(EncryptedFragmentPayload {
                first_payload: ctx.next_payload,
                fragment_number,
                total_fragments,
                data: r.rest(),
            })
        }
        // GSPM, IDg, GSA, KD: known, kept raw.
        _ => PayloadDetail::Raw,
    }
}

/// Notes a Delete payload whose SPI bytes do not match `num_spis * spi_size`.
pub(crate) fn check_spi_count(
    ctx: Ctx,
    spi_size: u8,
    num_spis: u16,
    spis: &[u8],
    anomalies: &mut Vec<IkeAnomaly>,
) {
    let expected = usize::from(spi_size) * usize::from(num_spis);
    if expected != spis.len() {
        let found = if spi_size == 0 {
            0
        } else {
            spis.len() / usize::from(spi_size)
        };
        anomalies.push(ctx.count("SPIs", usize::from(num_spis), found));
    }
}

/// SA payload: proposals, each with transforms (RFC 7296 §3.3.1-3.3.5).
fn decode_sa<'a>(ctx: Ctx, body: &'a [u8], anomalies: &mut Vec<IkeAnomaly>) -> SaPayload<'a> {
    let mut proposals = Vec::new();
    let mut r = Reader::new(body);
    while r.remaining() > 0 {
        let Some(hdr) = r.take(8) else {
            anomalies.push(ctx.malformed("proposal header"));
            break;
        };
        let last = hdr[0];
        let length = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        let proposal_number = hdr[4];
        let protocol_id = hdr[5];
        let spi_size = usize::from(hdr[6]);
        let num_transforms = hdr[7];
        if length < 8 + spi_size || length - 8 > r.remaining() {
            anomalies.push(ctx.malformed("proposal"));
            break;
        }
        let Some(rest) = r.take(length - 8) else {
            break;
        };
        let mut pr = Reader::new(rest);
        let spi = pr.take(spi_size).unwrap_or(&[]);
        let transforms = decode_transforms(ctx, pr.rest(), anomalies);
        if transforms.len() != usize::from(num_transforms) {
            anomalies.push(ctx.count("transforms", usize::from(num_transforms), transforms.len()));
        }
        proposals.push(Proposal {
            proposal_number,
            protocol_id,
            spi,
            num_transforms,
            transforms,
        });
        if last == 0 {
            if r.remaining() > 0 {
                anomalies.push(ctx.malformed("data after last proposal"));
            }
            break;
        }
    }
    SaPayload { proposals }
}

fn decode_transforms<'a>(
    ctx: Ctx,
    data: &'a [u8],
    anomalies: &mut Vec<IkeAnomaly>,
) -> Vec<Transform<'a>> {
    let mut transforms = Vec::new();
    let mut r = Reader::new(data);
    while r.remaining() > 0 {
        let Some(hdr) = r.take(8) else {
            anomalies.push(ctx.malformed("transform header"));
            break;
        };
        let last = hdr[0];
        let length = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        let transform_type = hdr[4];
        let transform_id = u16::from_be_bytes([hdr[6], hdr[7]]);
        if length < 8 || length - 8 > r.remaining() {
            anomalies.push(ctx.malformed("transform"));
            break;
        }
        let attributes = r.take(length - 8).unwrap_or(&[]);
        let (attrs, ok) = parse_attributes(attributes);
        if !ok {
            anomalies.push(ctx.malformed("transform attribute"));
        }
        let key_length = attrs
            .iter()
            .find_map(|a| match (a.attribute_type, a.value) {
                (14, AttributeValue::Basic(v)) => Some(v),
                _ => None,
            });
        transforms.push(Transform {
            transform_type,
            transform_id,
            key_length,
            attributes,
        });
        if last == 0 {
            break;
        }
    }
    transforms
}

/// Traffic selector payload (RFC 7296 §3.13).
fn decode_ts<'a>(ctx: Ctx, body: &'a [u8], anomalies: &mut Vec<IkeAnomaly>) -> TsPayload<'a> {
    let mut r = Reader::new(body);
    let num_ts = r.u8().unwrap_or(0);
    let _reserved = r.take(3);
    let mut selectors = Vec::new();
    while r.remaining() > 0 {
        let Some(hdr) = r.take(8) else {
            anomalies.push(ctx.malformed("traffic selector"));
            break;
        };
        let ts_type = hdr[0];
        let ip_protocol_id = hdr[1];
        let length = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        let start_port = u16::from_be_bytes([hdr[4], hdr[5]]);
        let end_port = u16::from_be_bytes([hdr[6], hdr[7]]);
        let fixed = match ts_type {
            7 => Some(16),
            8 => Some(40),
            _ => None,
        };
        if length < 8 || length - 8 > r.remaining() || fixed.is_some_and(|f| f != length) {
            anomalies.push(ctx.malformed("traffic selector"));
            break;
        }
        let addresses = r.take(length - 8).unwrap_or(&[]);
        let (start_address, end_address) = addresses.split_at(addresses.len() / 2);
        selectors.push(TrafficSelector {
            ts_type,
            ip_protocol_id,
            start_port,
            end_port,
            start_address,
            end_address,
        });
    }
    if selectors.len() != usize::from(num_ts) {
        anomalies.push(ctx.count("traffic selectors", usize::from(num_ts), selectors.len()));
    }
    TsPayload { num_ts, selectors }
}
