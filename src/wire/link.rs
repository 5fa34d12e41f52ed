//! Link-layer framing down to the IP packet.
//!
//! Supported LINKTYPE_* values: NULL (0) and LOOP (108) BSD loopback,
//! ETHERNET (1) with any number of 802.1Q / 802.1ad / QinQ tags, PPPoE
//! session frames (RFC 2516) and MPLS label stacks, PPP (9) and PPP_HDLC
//! (50), the raw IP variants (12, 14, 101, 228, 229), LINUX_SLL (113),
//! LINUX_SLL2 (276) and NFLOG (239). Anything else is reported as
//! [`LinkError::UnsupportedLinkType`] so the caller can count it.

use super::be16;
use crate::capture::linktype;

/// The network-layer packet found inside a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetPacket<'a> {
    pub kind: NetKind,
    /// The bytes starting at the IP header.
    pub data: &'a [u8],
    /// Number of VLAN tags that were stripped.
    pub vlan_tags: u8,
    /// The frame was carried in a PPPoE session.
    pub pppoe: bool,
}

/// What the link layer says the payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetKind {
    Ipv4,
    Ipv6,
}

/// Why a frame did not lead to an IP packet (data, not a failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The link type is not one ikediag decodes.
    UnsupportedLinkType(u32),
    /// The frame ends inside the link header.
    Truncated,
    /// The frame carries something other than IP (ARP, LLDP, ...).
    NotIp,
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD1: u16 = 0x9100;
const ETH_QINQ_OLD2: u16 = 0x9200;
const ETH_PPPOE_SESSION: u16 = 0x8864;
const ETH_MPLS: u16 = 0x8847;
const ETH_MPLS_MC: u16 = 0x8848;

const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;

/// At most this many stacked tags (VLAN, MPLS) are followed.
const MAX_TAGS: u8 = 16;

/// Decodes the link layer of one frame.
pub fn decode(link_type: u32, data: &[u8]) -> Result<NetPacket<'_>, LinkError> {
    match link_type {
        linktype::ETHERNET => ethernet(data),
        linktype::NULL | linktype::LOOP => loopback(data),
        linktype::RAW | linktype::RAW_OLD | linktype::RAW_BSD => by_version(data, 0, false),
        linktype::IPV4 => Ok(plain(NetKind::Ipv4, data)),
        linktype::IPV6 => Ok(plain(NetKind::Ipv6, data)),
        linktype::LINUX_SLL => {
            let proto = be16(data, 14).ok_or(LinkError::Truncated)?;
            ethertype(proto, data.get(16..).ok_or(LinkError::Truncated)?, 0, false)
        }
        linktype::LINUX_SLL2 => {
            let proto = be16(data, 0).ok_or(LinkError::Truncated)?;
            ethertype(proto, data.get(20..).ok_or(LinkError::Truncated)?, 0, false)
        }
        linktype::NFLOG => nflog(data),
        linktype::PPP | linktype::PPP_HDLC => ppp(data, 0, false),
        other => Err(LinkError::UnsupportedLinkType(other)),
    }
}

fn plain(kind: NetKind, data: &[u8]) -> NetPacket<'_> {
    NetPacket {
        kind,
        data,
        vlan_tags: 0,
        pppoe: false,
    }
}

/// Chooses IPv4 or IPv6 from the version nibble.
fn by_version(data: &[u8], vlan_tags: u8, pppoe: bool) -> Result<NetPacket<'_>, LinkError> {
    let kind = match data.first().map(|b| b >> 4) {
        Some(4) => NetKind::Ipv4,
        Some(6) => NetKind::Ipv6,
        Some(_) => return Err(LinkError::NotIp),
        None => return Err(LinkError::Truncated),
    };
    Ok(NetPacket {
        kind,
        data,
        vlan_tags,
        pppoe,
    })
}

fn ethernet(data: &[u8]) -> Result<NetPacket<'_>, LinkError> {
    let proto = be16(data, 12).ok_or(LinkError::Truncated)?;
    ethertype(proto, data.get(14..).ok_or(LinkError::Truncated)?, 0, false)
}

fn ethertype(
    mut proto: u16,
    mut rest: &[u8],
    mut vlan_tags: u8,
    pppoe: bool,
) -> Result<NetPacket<'_>, LinkError> {
    loop {
        match proto {
            ETH_IPV4 => {
                return Ok(NetPacket {
                    kind: NetKind::Ipv4,
                    data: rest,
                    vlan_tags,
                    pppoe,
                });
            }
            ETH_IPV6 => {
                return Ok(NetPacket {
                    kind: NetKind::Ipv6,
                    data: rest,
                    vlan_tags,
                    pppoe,
                });
            }
            ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD1 | ETH_QINQ_OLD2 => {
                if vlan_tags >= MAX_TAGS {
                    return Err(LinkError::NotIp);
                }
                proto = be16(rest, 2).ok_or(LinkError::Truncated)?;
                rest = rest.get(4..).ok_or(LinkError::Truncated)?;
                vlan_tags += 1;
            }
            ETH_PPPOE_SESSION => {
                // RFC 2516: ver/type, code, session id, length, then PPP protocol.
                let body = rest.get(6..).ok_or(LinkError::Truncated)?;
                return ppp(body, vlan_tags, true);
            }
            ETH_MPLS | ETH_MPLS_MC => {
                let mut labels = 0u8;
                loop {
                    let entry = rest.get(..4).ok_or(LinkError::Truncated)?;
                    rest = rest.get(4..).ok_or(LinkError::Truncated)?;
                    labels += 1;
                    if entry[2] & 1 == 1 || labels >= MAX_TAGS {
                        break;
                    }
                }
                return by_version(rest, vlan_tags, pppoe);
            }
            _ => return Err(LinkError::NotIp),
        }
    }
}

/// PPP (RFC 1661), with or without the HDLC address/control bytes and with
/// a one- or two-byte protocol field (RFC 1661 section 6.5).
fn ppp(data: &[u8], vlan_tags: u8, pppoe: bool) -> Result<NetPacket<'_>, LinkError> {
    let data = if data.starts_with(&[0xff, 0x03]) {
        &data[2..]
    } else {
        data
    };
    let first = *data.first().ok_or(LinkError::Truncated)?;
    let (proto, rest) = if first & 1 == 1 {
        (u16::from(first), &data[1..])
    } else {
        (
            be16(data, 0).ok_or(LinkError::Truncated)?,
            data.get(2..).ok_or(LinkError::Truncated)?,
        )
    };
    let kind = match proto {
        PPP_IPV4 => NetKind::Ipv4,
        PPP_IPV6 => NetKind::Ipv6,
        _ => return Err(LinkError::NotIp),
    };
    Ok(NetPacket {
        kind,
        data: rest,
        vlan_tags,
        pppoe,
    })
}

/// BSD loopback: a 4-byte address family in the writer's byte order (NULL)
/// or network order (LOOP). AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30
/// depending on the BSD, 10 on Linux. When the family is unknown the IP
/// version nibble decides.
fn loopback(data: &[u8]) -> Result<NetPacket<'_>, LinkError> {
    let fam = data.get(..4).ok_or(LinkError::Truncated)?;
    let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
    let be = u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]]);
    let rest = &data[4..];
    let kind = |f: u32| match f {
        2 => Some(NetKind::Ipv4),
        10 | 24 | 28 | 30 => Some(NetKind::Ipv6),
        _ => None,
    };
    match kind(le).or_else(|| kind(be)) {
        Some(k) => Ok(plain(k, rest)),
        None => by_version(rest, 0, false),
    }
}

/// NFLOG (LINKTYPE_NFLOG): a 4-byte header, then TLVs in host byte order
/// whose NFULA_PAYLOAD (type 9) holds the IP packet. TLVs are padded to 4.
fn nflog(data: &[u8]) -> Result<NetPacket<'_>, LinkError> {
    let family = *data.first().ok_or(LinkError::Truncated)?;
    let mut off = 4usize;
    // At most a few dozen TLVs exist; bound the walk anyway.
    for _ in 0..256 {
        let hdr = data.get(off..off + 4).ok_or(LinkError::Truncated)?;
        // Host byte order: the length is never larger than the frame, so try
        // little-endian first and fall back to big-endian.
        let (len, ty) = {
            let le_len = u16::from_le_bytes([hdr[0], hdr[1]]);
            if usize::from(le_len) <= data.len() - off && le_len >= 4 {
                (le_len, u16::from_le_bytes([hdr[2], hdr[3]]))
            } else {
                (
                    u16::from_be_bytes([hdr[0], hdr[1]]),
                    u16::from_be_bytes([hdr[2], hdr[3]]),
                )
            }
        };
        let len = usize::from(len);
        if len < 4 {
            return Err(LinkError::Truncated);
        }
        if ty & 0x7fff == 9 {
            let end = (off + len).min(data.len());
            let payload = data.get(off + 4..end).ok_or(LinkError::Truncated)?;
            return match family {
                2 => Ok(plain(NetKind::Ipv4, payload)),
                10 => Ok(plain(NetKind::Ipv6, payload)),
                _ => by_version(payload, 0, false),
            };
        }
        off = off
            .checked_add((len + 3) & !3)
            .ok_or(LinkError::Truncated)?;
    }
    Err(LinkError::NotIp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPV4_MIN: [u8; 20] = [
        0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
    ];

    #[test]
    fn ethernet_with_three_vlan_tags() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[
            0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x81, 0x00, 0, 3, 0x08, 0x00,
        ]);
        f.extend_from_slice(&IPV4_MIN);
        let p = decode(linktype::ETHERNET, &f).unwrap();
        assert_eq!(p.kind, NetKind::Ipv4);
        assert_eq!(p.vlan_tags, 3);
        assert_eq!(p.data, &IPV4_MIN);
    }

    #[test]
    fn pppoe_session() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0x64, 0x11, 0x00, 0x12, 0x34, 0x00, 0x16, 0x00, 0x21]);
        f.extend_from_slice(&IPV4_MIN);
        let p = decode(linktype::ETHERNET, &f).unwrap();
        assert!(p.pppoe);
        assert_eq!(p.data, &IPV4_MIN);
    }

    #[test]
    fn loopback_both_orders_and_unknown_family() {
        for fam in [[2, 0, 0, 0], [0, 0, 0, 2], [9, 9, 9, 9]] {
            let mut f = fam.to_vec();
            f.extend_from_slice(&IPV4_MIN);
            assert_eq!(decode(linktype::NULL, &f).unwrap().kind, NetKind::Ipv4);
        }
        let f = [30u8, 0, 0, 0, 0x60, 0, 0, 0];
        assert_eq!(decode(linktype::LOOP, &f).unwrap().kind, NetKind::Ipv6);
    }

    #[test]
    fn nflog_payload_tlv() {
        let mut f = vec![2u8, 0, 0, 0];
        f.extend_from_slice(&[8, 0, 1, 0, 0, 0, 0, 0]); // a 4-byte TLV body
        f.extend_from_slice(&[24, 0, 9, 0]);
        f.extend_from_slice(&IPV4_MIN);
        let p = decode(linktype::NFLOG, &f).unwrap();
        assert_eq!(p.data, &IPV4_MIN);
    }

    #[test]
    fn sll2_and_truncation() {
        let mut f = vec![0x08, 0x00];
        f.extend_from_slice(&[0u8; 18]);
        f.extend_from_slice(&IPV4_MIN);
        assert_eq!(decode(linktype::LINUX_SLL2, &f).unwrap().data, &IPV4_MIN);
        for n in 0..f.len() {
            let _ = decode(linktype::LINUX_SLL2, &f[..n]);
            let _ = decode(linktype::ETHERNET, &f[..n]);
            let _ = decode(linktype::NFLOG, &f[..n]);
            let _ = decode(linktype::NULL, &f[..n]);
        }
        assert_eq!(decode(147, &f), Err(LinkError::UnsupportedLinkType(147)));
    }
}
