//! IKEv1 / ISAKMP payload body decoders (RFC 2408 §3.4-3.16, RFC 2407 §4.5-4.6,
//! RFC 2409 App. A, RFC 3947 §3-5) and the data attribute format shared with
//! IKEv2 transforms (RFC 2408 §3.3, RFC 7296 §3.3.5).
//!
//! Contract: [`decode`] turns one payload body (after the generic header)
//! into a [`PayloadDetail`]. Every length is checked; a body shorter than its
//! fixed part becomes [`PayloadDetail::Raw`] plus an anomaly; an inconsistent
//! Proposal / Transform payload or attribute inside an SA stops decoding of
//! that SA and keeps what was decoded. The nested Proposal and Transform
//! chains are walked iteratively. No panics, linear in the body size.

use super::v2::check_spi_count;
use super::{
    CertPayload, CiscoFragmentPayload, ConfigPayload, Ctx, DeletePayload, IdPayload, IkeAnomaly,
    KePayload, NatOaPayload, NotifyPayload, PayloadDetail, Reader, VendorIdPayload, names,
    vendor_name,
};

/// IKEv1 SA payload (RFC 2408 §3.4, RFC 2407 §4.6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1SaPayload<'a> {
    /// Domain of Interpretation (1 = IPSEC).
    pub doi: u32,
    /// Situation (4 bytes in the IPsec DOI).
    pub situation: &'a [u8],
    /// Proposal payloads in order.
    pub proposals: Vec<V1Proposal<'a>>,
}

/// IKEv1 Proposal payload (RFC 2408 §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Proposal<'a> {
    /// Proposal #.
    pub proposal_number: u8,
    /// Protocol-ID (1 ISAKMP, 2 AH, 3 ESP, 4 IPCOMP).
    pub protocol_id: u8,
    /// SPI.
    pub spi: &'a [u8],
    /// # of Transforms as declared.
    pub num_transforms: u8,
    /// Transform payloads in order.
    pub transforms: Vec<V1Transform<'a>>,
}

impl V1Proposal<'_> {
    /// Protocol name ([`names::v1_protocol_name`]).
    pub fn protocol_name(&self) -> Option<&'static str> {
        names::v1_protocol_name(self.protocol_id)
    }
}

/// IKEv1 Transform payload (RFC 2408 §3.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Transform<'a> {
    /// Transform #.
    pub transform_number: u8,
    /// Transform-Id (meaning depends on the proposal's protocol).
    pub transform_id: u8,
    /// SA attributes in order.
    pub attributes: Vec<DataAttribute<'a>>,
}

impl V1Transform<'_> {
    /// The first attribute of a type.
    pub fn attribute(&self, attribute_type: u16) -> Option<&DataAttribute<'_>> {
        self.attributes
            .iter()
            .find(|a| a.attribute_type == attribute_type)
    }

    /// Numeric value of the first attribute of a type.
    pub fn attribute_value(&self, attribute_type: u16) -> Option<u64> {
        self.attribute(attribute_type)
            .and_then(|a| a.value.as_u64())
    }

    /// Transform-Id name for the given proposal protocol
    /// ([`names::v1_transform_name`]).
    pub fn name(&self, protocol_id: u8) -> Option<&'static str> {
        names::v1_transform_name(protocol_id, self.transform_id)
    }
}

/// A data attribute (RFC 2408 §3.3): TV form (AF bit set, 2-byte value) or
/// TLV form (variable value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataAttribute<'a> {
    /// Attribute type without the AF bit.
    pub attribute_type: u16,
    /// Value.
    pub value: AttributeValue<'a>,
}

impl DataAttribute<'_> {
    /// Attribute class name for a proposal protocol ([`names::v1_attribute_name`]).
    pub fn name(&self, protocol_id: u8) -> Option<&'static str> {
        names::v1_attribute_name(protocol_id, self.attribute_type)
    }

    /// Value name for enumerated attributes ([`names::v1_attribute_value_name`]).
    pub fn value_name(&self, protocol_id: u8) -> Option<&'static str> {
        names::v1_attribute_value_name(protocol_id, self.attribute_type, self.value.as_u64()?)
    }
}

/// Attribute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeValue<'a> {
    /// TV format: the value itself.
    Basic(u16),
    /// TLV format: the value bytes.
    Variable(&'a [u8]),
}

impl AttributeValue<'_> {
    /// The value as an integer (TLV values up to 8 bytes, big-endian, as
    /// life durations are sent).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            AttributeValue::Basic(v) => Some(u64::from(*v)),
            AttributeValue::Variable(b) if b.len() <= 8 => {
                Some(b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)))
            }
            AttributeValue::Variable(_) => None,
        }
    }
}

/// Parses a run of data attributes. Returns what was parsed and `false`
/// when the run ended inside an attribute.
pub(crate) fn parse_attributes(data: &[u8]) -> (Vec<DataAttribute<'_>>, bool) {
    let mut attrs = Vec::new();
    let mut r = Reader::new(data);
    while r.remaining() > 0 {
        let (Some(t), Some(v)) = (r.u16(), r.u16()) else {
            return (attrs, false);
        };
        let attribute_type = t & 0x7fff;
        let value = if t & 0x8000 != 0 {
            AttributeValue::Basic(v)
        } else {
            match r.take(usize::from(v)) {
                Some(b) => AttributeValue::Variable(b),
                None => return (attrs, false),
            }
        };
        attrs.push(DataAttribute {
            attribute_type,
            value,
        });
    }
    (attrs, true)
}

/// Decodes one IKEv1 payload body.
pub(crate) fn decode<'a>(
    ctx: Ctx,
    body: &'a [u8],
    anomalies: &mut Vec<IkeAnomaly>,
) -> PayloadDetail<'a> {
    let mut r = Reader::new(body);
    let minimum = match ctx.payload_type {
        1 | 11 | 12 => 8,
        5 | 14 | 21 | 131 | 132 => 4,
        6 | 7 => 1,
        _ => 0,
    };
    if body.len() < minimum {
        anomalies.push(ctx.too_short(body, minimum));
        return PayloadDetail::Raw;
    }
    match ctx.payload_type {
        1 => PayloadDetail::V1Sa(decode_sa(ctx, body, anomalies)),
        4 => PayloadDetail::Ke(KePayload {
            dh_group: None,
            data: body,
        }),
        5 => {
            let id_type = r.u8().unwrap_or(0);
            let protocol_id = r.u8();
            let port = r.u16();
            PayloadDetail::Id(IdPayload {
                ike_version: 1,
                id_type,
                protocol_id,
                port,
                data: r.rest(),
            })
        }
        6 | 7 => {
            let encoding = r.u8().unwrap_or(0);
            let cert = CertPayload {
                encoding,
                data: r.rest(),
            };
            if ctx.payload_type == 6 {
                PayloadDetail::Cert(cert)
            } else {
                PayloadDetail::CertReq(cert)
            }
        }
        8 => PayloadDetail::Hash(body),
        9 => PayloadDetail::Sig(body),
        10 => PayloadDetail::Nonce(body),
        11 => {
            let doi = r.u32();
            let protocol_id = r.u8().unwrap_or(0);
            let spi_size = r.u8().unwrap_or(0);
            let notify_type = r.u16().unwrap_or(0);
            let Some(spi) = r.take(usize::from(spi_size)) else {
                anomalies.push(ctx.too_short(body, 8 + usize::from(spi_size)));
                return PayloadDetail::Raw;
            };
            PayloadDetail::Notify(NotifyPayload {
                ike_version: 1,
                doi,
                protocol_id,
                spi,
                notify_type,
                data: r.rest(),
            })
        }
        12 => {
            let doi = r.u32();
            let protocol_id = r.u8().unwrap_or(0);
            let spi_size = r.u8().unwrap_or(0);
            let num_spis = r.u16().unwrap_or(0);
            let spis = r.rest();
            check_spi_count(ctx, spi_size, num_spis, spis, anomalies);
            PayloadDetail::Delete(DeletePayload {
                doi,
                protocol_id,
                spi_size,
                num_spis,
                spis,
            })
        }
        13 => PayloadDetail::VendorId(VendorIdPayload {
            data: body,
            name: vendor_name(body),
        }),
        14 => {
            let cfg_type = r.u8().unwrap_or(0);
            let _reserved = r.u8();
            let identifier = r.u16();
            PayloadDetail::Config(ConfigPayload {
                cfg_type,
                identifier,
                attributes: r.rest(),
            })
        }
        20 | 130 => PayloadDetail::NatD(body),
        21 | 131 => {
            let id_type = r.u8().unwrap_or(0);
            let _reserved = r.take(3);
            PayloadDetail::NatOa(NatOaPayload {
                id_type,
                address: r.rest(),
            })
        }
        132 => {
            let fragment_id = r.u16().unwrap_or(0);
            let fragment_number = r.u8().unwrap_or(0);
            let flags = r.u8().unwrap_or(0);
            PayloadDetail::CiscoFragment(CiscoFragmentPayload {
                fragment_id,
                fragment_number,
                is_last: flags & 0x01 != 0,
                data: r.rest(),
            })
        }
        // Proposal / Transform outside an SA, SAK, SAT, KD, SEQ, POP, GAP: raw.
        _ => PayloadDetail::Raw,
    }
}

/// SA payload with its nested Proposal (2) and Transform (3) payloads.
fn decode_sa<'a>(ctx: Ctx, body: &'a [u8], anomalies: &mut Vec<IkeAnomaly>) -> V1SaPayload<'a> {
    let mut r = Reader::new(body);
    let doi = r.u32().unwrap_or(0);
    let situation = r.take(4).unwrap_or(&[]);
    let mut proposals = Vec::new();
    while r.remaining() > 0 {
        let Some(hdr) = r.take(8) else {
            anomalies.push(ctx.malformed("proposal payload header"));
            break;
        };
        let next = hdr[0];
        let length = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        let proposal_number = hdr[4];
        let protocol_id = hdr[5];
        let spi_size = usize::from(hdr[6]);
        let num_transforms = hdr[7];
        if length < 8 + spi_size || length - 8 > r.remaining() {
            anomalies.push(ctx.malformed("proposal payload"));
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
        proposals.push(V1Proposal {
            proposal_number,
            protocol_id,
            spi,
            num_transforms,
            transforms,
        });
        if next != 2 {
            if r.remaining() > 0 {
                anomalies.push(ctx.malformed("data after last proposal payload"));
            }
            break;
        }
    }
    V1SaPayload {
        doi,
        situation,
        proposals,
    }
}

fn decode_transforms<'a>(
    ctx: Ctx,
    data: &'a [u8],
    anomalies: &mut Vec<IkeAnomaly>,
) -> Vec<V1Transform<'a>> {
    let mut transforms = Vec::new();
    let mut r = Reader::new(data);
    while r.remaining() > 0 {
        let Some(hdr) = r.take(8) else {
            anomalies.push(ctx.malformed("transform payload header"));
            break;
        };
        let next = hdr[0];
        let length = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        let transform_number = hdr[4];
        let transform_id = hdr[5];
        if length < 8 || length - 8 > r.remaining() {
            anomalies.push(ctx.malformed("transform payload"));
            break;
        }
        let (attributes, ok) = parse_attributes(r.take(length - 8).unwrap_or(&[]));
        if !ok {
            anomalies.push(ctx.malformed("SA attribute"));
        }
        transforms.push(V1Transform {
            transform_number,
            transform_id,
            attributes,
        });
        if next != 3 {
            break;
        }
    }
    transforms
}
