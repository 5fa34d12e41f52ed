//! ICMP (RFC 792, RFC 1191, RFC 4884) and ICMPv6 (RFC 4443) messages.
//!
//! Errors carry the start of the packet that caused them; [`quoted`]
//! decodes that packet as far as it goes so an error can be tied to the IKE
//! or ESP flow it refers to. Echo requests and replies are kept for path MTU
//! sweeps (`ping -f -l`, `ping -M do -s`).

use std::net::IpAddr;

use super::{be16, be32, ip, link::NetKind, udp};

/// The meaning of an ICMP or ICMPv6 error, independent of the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Port unreachable (v4 3/3, v6 1/4).
    PortUnreachable,
    /// Fragmentation needed and DF set (v4 3/4) or packet too big (v6 2).
    FragmentationNeeded,
    /// Administratively prohibited (v4 3/9, 3/10, 3/13; v6 1/1, 1/5, 1/6).
    AdminProhibited,
    /// Host or network unreachable (v4 3/0, 3/1, ...; v6 1/0, 1/3).
    HostUnreachable,
    /// Protocol unreachable (v4 3/2).
    ProtocolUnreachable,
    /// TTL or reassembly time exceeded (v4 11, v6 3).
    TimeExceeded,
    /// Parameter problem (v4 12, v6 4).
    ParameterProblem,
    /// Source quench, redirect and the rest.
    Other,
}

/// One ICMP or ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpMessage<'a> {
    Error {
        kind: ErrorKind,
        icmp_type: u8,
        code: u8,
        /// Next-hop MTU (v4 3/4, RFC 1191) or MTU (v6 packet too big).
        mtu: Option<u32>,
        /// The quoted packet, starting at its IP header.
        quoted: &'a [u8],
    },
    Echo {
        request: bool,
        id: u16,
        seq: u16,
    },
    Other {
        icmp_type: u8,
        code: u8,
    },
}

/// Decodes an ICMP (`v6 == false`) or ICMPv6 message.
pub fn parse(v6: bool, data: &[u8]) -> Option<IcmpMessage<'_>> {
    let icmp_type = *data.first()?;
    let code = *data.get(1)?;
    let rest = data.get(8..).unwrap_or(&[]);
    let err = |kind, mtu| IcmpMessage::Error {
        kind,
        icmp_type,
        code,
        mtu,
        quoted: rest,
    };
    let msg = if !v6 {
        match (icmp_type, code) {
            (0, _) | (8, _) => IcmpMessage::Echo {
                request: icmp_type == 8,
                id: be16(data, 4)?,
                seq: be16(data, 6)?,
            },
            (3, 3) => err(ErrorKind::PortUnreachable, None),
            (3, 4) => err(
                ErrorKind::FragmentationNeeded,
                be16(data, 6).map(u32::from).filter(|m| *m > 0),
            ),
            (3, 2) => err(ErrorKind::ProtocolUnreachable, None),
            (3, 9) | (3, 10) | (3, 13) => err(ErrorKind::AdminProhibited, None),
            (3, _) => err(ErrorKind::HostUnreachable, None),
            (11, _) => err(ErrorKind::TimeExceeded, None),
            (12, _) => err(ErrorKind::ParameterProblem, None),
            (4, _) | (5, _) => err(ErrorKind::Other, None),
            _ => IcmpMessage::Other { icmp_type, code },
        }
    } else {
        match (icmp_type, code) {
            (128, _) | (129, _) => IcmpMessage::Echo {
                request: icmp_type == 128,
                id: be16(data, 4)?,
                seq: be16(data, 6)?,
            },
            (1, 4) => err(ErrorKind::PortUnreachable, None),
            (1, 1) | (1, 5) | (1, 6) => err(ErrorKind::AdminProhibited, None),
            (1, _) => err(ErrorKind::HostUnreachable, None),
            (2, _) => err(ErrorKind::FragmentationNeeded, be32(data, 4)),
            (3, _) => err(ErrorKind::TimeExceeded, None),
            (4, _) => err(ErrorKind::ParameterProblem, None),
            _ => IcmpMessage::Other { icmp_type, code },
        }
    };
    Some(msg)
}

/// What an ICMP error quotes of the offending packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    /// Length of the offending datagram according to its header.
    pub datagram_len: u32,
    pub dont_fragment: bool,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    /// ESP SPI (protocol 50, or ESP-in-UDP on 4500) when quoted.
    pub esp_spi: Option<u32>,
    /// IKE initiator SPI when enough of an IKE message is quoted.
    pub ike_ispi: Option<[u8; 8]>,
}

/// Decodes the quoted packet of an ICMP error.
pub fn quoted(data: &[u8]) -> Option<Quoted> {
    let kind = match data.first()? >> 4 {
        4 => NetKind::Ipv4,
        6 => NetKind::Ipv6,
        _ => return None,
    };
    let p = ip::parse(kind, data).ok()?;
    let mut q = Quoted {
        src: p.src,
        dst: p.dst,
        protocol: p.protocol,
        datagram_len: p.datagram_len,
        dont_fragment: p.dont_fragment,
        src_port: None,
        dst_port: None,
        esp_spi: None,
        ike_ispi: None,
    };
    let first = p.fragment.is_none_or(|f| f.offset == 0);
    if !first {
        return Some(q);
    }
    match p.protocol {
        17 => {
            let pl = p.payload;
            q.src_port = be16(pl, 0);
            q.dst_port = be16(pl, 2);
            let body = pl.get(8..).unwrap_or(&[]);
            let natt = q.src_port == Some(udp::NATT_PORT) || q.dst_port == Some(udp::NATT_PORT);
            let role = if natt {
                udp::PortRole::Natt
            } else {
                udp::PortRole::Ike
            };
            match udp::classify(role, body) {
                udp::IkePortPayload::Ike { data, .. } => {
                    q.ike_ispi = data.first_chunk::<8>().copied();
                }
                udp::IkePortPayload::Esp { spi, .. } => q.esp_spi = Some(spi),
                _ => {}
            }
        }
        50 => q.esp_spi = be32(p.payload, 0),
        6 => {
            q.src_port = be16(p.payload, 0);
            q.dst_port = be16(p.payload, 2);
        }
        _ => {}
    }
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frag_needed_with_quoted_natt_esp() {
        let mut m = vec![3u8, 4, 0, 0, 0, 0, 0x05, 0x8c];
        // quoted IPv4 header: 1500 bytes, DF, UDP 4500 -> 4500, ESP SPI c1c2c3c4
        m.extend_from_slice(&[
            0x45, 0, 0x05, 0xdc, 0, 1, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 10, 203, 0, 113, 20,
        ]);
        m.extend_from_slice(&[
            0x11, 0x94, 0x11, 0x94, 0x05, 0xc8, 0, 0, 0xc1, 0xc2, 0xc3, 0xc4,
        ]);
        let Some(IcmpMessage::Error {
            kind,
            mtu,
            quoted: qd,
            ..
        }) = parse(false, &m)
        else {
            panic!("not an error")
        };
        assert_eq!(kind, ErrorKind::FragmentationNeeded);
        assert_eq!(mtu, Some(1420));
        let q = quoted(qd).unwrap();
        assert_eq!(q.datagram_len, 1500);
        assert!(q.dont_fragment);
        assert_eq!(q.dst_port, Some(4500));
        assert_eq!(q.esp_spi, Some(0xc1c2_c3c4));
        for n in 0..m.len() {
            let _ = parse(false, &m[..n]).map(|x| match x {
                IcmpMessage::Error { quoted: qd, .. } => quoted(qd).is_some(),
                _ => false,
            });
        }
    }

    #[test]
    fn v6_packet_too_big_and_echo() {
        let m = [2u8, 0, 0, 0, 0, 0, 0x05, 0x00];
        assert!(matches!(
            parse(true, &m),
            Some(IcmpMessage::Error {
                kind: ErrorKind::FragmentationNeeded,
                mtu: Some(1280),
                ..
            })
        ));
        let e = [128u8, 0, 0, 0, 0, 7, 0, 9];
        assert_eq!(
            parse(true, &e),
            Some(IcmpMessage::Echo {
                request: true,
                id: 7,
                seq: 9
            })
        );
    }
}
