//! UDP (RFC 768) and what rides on the IKE ports.
//!
//! On UDP 4500 (RFC 3948, RFC 7296 section 2.23) a payload is one of: a NAT
//! keepalive (the single byte 0xFF), an IKE message behind the four-byte
//! non-ESP marker (zero), or an ESP packet whose first four bytes are its
//! non-zero SPI. On UDP 500 the payload is an IKE message. Like Wireshark,
//! ikediag does not treat an IKE header on 4500 without the marker as IKE.
//! This file only frames: whether the bytes framed as IKE really are IKE
//! (the other port may be DNS or NTP) is decided in `decode` from the IKE
//! header and [`UdpHeader::payload_len`].

use super::{be16, be32};

/// The UDP header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    /// The length field (header + payload).
    pub length: u16,
}

impl UdpHeader {
    /// The payload length the length field declares (`None` when the field
    /// is below the header's 8 bytes, e.g. 0 for an IPv6 jumbogram). It
    /// counts bytes the snaplen may have cut.
    pub fn payload_len(&self) -> Option<usize> {
        usize::from(self.length).checked_sub(8)
    }
}

/// Splits a UDP header from its payload. The payload is what was captured,
/// clipped to the length field when the field is sane.
pub fn parse(data: &[u8]) -> Option<(UdpHeader, &[u8])> {
    let h = UdpHeader {
        src_port: be16(data, 0)?,
        dst_port: be16(data, 2)?,
        length: be16(data, 4)?,
    };
    let rest = data.get(8..)?;
    let declared = usize::from(h.length).saturating_sub(8);
    let payload = if usize::from(h.length) >= 8 && declared <= rest.len() {
        &rest[..declared]
    } else {
        rest
    };
    Some((h, payload))
}

/// What a UDP payload on an IKE port carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IkePortPayload<'a> {
    /// An IKE message (starting at the ISAKMP header).
    Ike {
        data: &'a [u8],
        /// It followed a non-ESP marker (UDP 4500 style).
        natt: bool,
    },
    /// A NAT-T keepalive (RFC 3948 section 2.3).
    Keepalive,
    /// ESP in UDP (RFC 3948 section 2.1).
    Esp { spi: u32, seq: Option<u32> },
    /// Too short to tell.
    Runt,
}

/// The well-known ports.
pub const IKE_PORT: u16 = 500;
pub const NATT_PORT: u16 = 4500;

/// How a port is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRole {
    /// UDP 500: IKE directly.
    Ike,
    /// UDP 4500 (and extra ports given by the user): marker-based.
    Natt,
}

/// Classifies a payload on a port with the given role.
pub fn classify(role: PortRole, payload: &[u8]) -> IkePortPayload<'_> {
    match role {
        PortRole::Ike => IkePortPayload::Ike {
            data: payload,
            natt: false,
        },
        PortRole::Natt => {
            if payload == [0xff] {
                return IkePortPayload::Keepalive;
            }
            match be32(payload, 0) {
                Some(0) => IkePortPayload::Ike {
                    data: &payload[4..],
                    natt: true,
                },
                Some(spi) => IkePortPayload::Esp {
                    spi,
                    seq: be32(payload, 4),
                },
                None => IkePortPayload::Runt,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natt_classification() {
        assert_eq!(classify(PortRole::Natt, &[0xff]), IkePortPayload::Keepalive);
        assert_eq!(
            classify(PortRole::Natt, &[0, 0, 0, 0, 1, 2]),
            IkePortPayload::Ike {
                data: &[1, 2],
                natt: true
            }
        );
        assert_eq!(
            classify(PortRole::Natt, &[0xc0, 0, 0, 1, 0, 0, 0, 7, 9]),
            IkePortPayload::Esp {
                spi: 0xc000_0001,
                seq: Some(7)
            }
        );
        assert_eq!(classify(PortRole::Natt, &[0, 0]), IkePortPayload::Runt);
    }

    #[test]
    fn udp_length_clips_padding() {
        let d = [0x01, 0xf4, 0x01, 0xf4, 0, 10, 0, 0, 0xaa, 0xbb, 0, 0, 0, 0];
        let (h, p) = parse(&d).unwrap();
        assert_eq!((h.src_port, h.dst_port), (500, 500));
        assert_eq!(p, &[0xaa, 0xbb]);
        assert_eq!(h.payload_len(), Some(2));
        assert!(parse(&d[..7]).is_none());
        // Cut by the snaplen: the field still says what was sent.
        let (h, p) = parse(&[0x01, 0xf4, 0x01, 0xa3, 0x01, 0x00, 0, 0, 0x12]).unwrap();
        assert_eq!((h.dst_port, h.payload_len(), p.len()), (419, Some(248), 1));
        let (h, _) = parse(&[0, 1, 0, 2, 0, 7, 0, 0]).unwrap();
        assert_eq!(h.payload_len(), None);
    }
}
