//! IPv4 (RFC 791) and IPv6 (RFC 8200) headers, extension headers included.
//!
//! Decodes as far as the captured bytes go (a lax decode: a packet cut by
//! the snaplen still yields its header fields and the bytes that are there,
//! with `truncated` set), and extracts what ikediag needs: the fragment
//! fields (RFC 791 section 3.2, RFC 8200 section 4.5) for our reassembler,
//! the declared datagram length (MTU evidence), DF, and whether an
//! Authentication Header (RFC 4302) was passed.
//!
//! These headers are parsed here rather than with etherparse: our fuzzer
//! found an out-of-bounds read (undefined behaviour, in `unsafe` code) in
//! etherparse 0.21's IPv6 extension header iterator on a 49-byte input
//! (`fuzz/regressions/decode_frame/`); see `docs/architecture.md`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{be16, be32, link::NetKind};

/// Fragment fields of a packet that is one fragment of a larger datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragInfo {
    /// IPv4 identification (16 bit) or IPv6 Fragment header identification.
    pub id: u32,
    /// Offset of this fragment's data, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// A decoded IP header and its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPacket<'a> {
    pub version: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Protocol of the payload, after IPv6 extension headers and AH.
    pub protocol: u8,
    /// The payload as captured (shorter than declared when truncated).
    pub payload: &'a [u8],
    /// Payload length according to the header(s).
    pub payload_declared_len: u32,
    /// Length of the whole datagram on the wire according to the header
    /// (IPv4 total length, IPv6 40 + payload length).
    pub datagram_len: u32,
    /// IPv4 DF bit; always true for IPv6, where routers never fragment.
    pub dont_fragment: bool,
    /// Set when the packet is a fragment (offset > 0 or more fragments).
    pub fragment: Option<FragInfo>,
    /// An Authentication Header was passed on the way to the payload.
    pub has_ah: bool,
    /// The captured bytes end before the header says the packet ends.
    pub truncated: bool,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
}

/// Why bytes did not decode as an IP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpError {
    /// Shorter than a minimal header.
    Truncated,
    /// Version nibble, header length or another basic field is wrong.
    Malformed,
}

/// Extension headers followed at most (RFC 8200 allows a handful).
const MAX_EXT_HEADERS: usize = 16;

/// Decodes one IP packet. The version nibble decides, as in Wireshark;
/// `_kind` (what the link layer announced) is only a hint.
pub fn parse(_kind: NetKind, data: &[u8]) -> Result<IpPacket<'_>, IpError> {
    match data.first().map(|b| b >> 4) {
        None => Err(IpError::Truncated),
        Some(4) => parse_v4(data),
        Some(6) => parse_v6(data),
        Some(_) => Err(IpError::Malformed),
    }
}

/// Skips one AH header (RFC 4302 section 2.2: length in 4-byte words, minus 2).
pub(crate) fn skip_ah(p: &[u8]) -> Option<(u8, usize)> {
    let next = *p.first()?;
    let len = (usize::from(*p.get(1)?) + 2) * 4;
    (p.len() >= len).then_some((next, len))
}

fn parse_v4(data: &[u8]) -> Result<IpPacket<'_>, IpError> {
    if data.len() < 20 {
        return Err(IpError::Truncated);
    }
    let ihl = usize::from(data[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(IpError::Malformed);
    }
    if data.len() < ihl {
        return Err(IpError::Truncated);
    }
    let total = usize::from(be16(data, 2).ok_or(IpError::Truncated)?);
    // A total length of 0 (segmentation offload) or below the header:
    // take what was captured, as Wireshark does.
    let total = if total < ihl { data.len() } else { total };
    let flags = be16(data, 6).ok_or(IpError::Truncated)?;
    let offset = u32::from(flags & 0x1fff) * 8;
    let more = flags & 0x2000 != 0;
    let end = total.min(data.len());
    let mut payload = data.get(ihl..end).unwrap_or(&[]);
    let mut declared = total - ihl;
    let mut protocol = data[9];
    let mut has_ah = false;
    // Only an unfragmented packet: a fragmented one is reassembled with its
    // AH in place (the fragment offsets count it) and the decoder skips it
    // afterwards.
    if protocol == 51
        && offset == 0
        && !more
        && let Some((next, len)) = skip_ah(payload)
    {
        has_ah = true;
        protocol = next;
        payload = payload.get(len..).unwrap_or(&[]);
        declared = declared.saturating_sub(len);
    }
    let src = Ipv4Addr::new(data[12], data[13], data[14], data[15]);
    let dst = Ipv4Addr::new(data[16], data[17], data[18], data[19]);
    Ok(IpPacket {
        version: 4,
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        protocol,
        payload,
        payload_declared_len: declared as u32,
        datagram_len: total as u32,
        dont_fragment: flags & 0x4000 != 0,
        fragment: (offset > 0 || more).then_some(FragInfo {
            id: u32::from(be16(data, 4).unwrap_or(0)),
            offset,
            more,
        }),
        has_ah,
        truncated: data.len() < total,
        ttl: data[8],
    })
}

fn addr16(d: &[u8], off: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    if let Some(s) = d.get(off..off + 16) {
        a.copy_from_slice(s);
    }
    Ipv6Addr::from(a)
}

fn parse_v6(data: &[u8]) -> Result<IpPacket<'_>, IpError> {
    if data.len() < 40 {
        return Err(IpError::Truncated);
    }
    let plen = usize::from(be16(data, 4).ok_or(IpError::Truncated)?);
    // Payload length 0: a jumbogram or offload; take what was captured.
    let declared_total = if plen == 0 { data.len() - 40 } else { plen };
    let end = (40 + declared_total).min(data.len());
    let region = data.get(40..end).unwrap_or(&[]);
    let mut next = data[6];
    let mut off = 0usize;
    let mut fragment = None;
    let mut has_ah = false;
    let mut cut = false;
    for _ in 0..MAX_EXT_HEADERS {
        let h = region.get(off..).unwrap_or(&[]);
        match next {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6.
            0 | 43 | 60 | 135 | 139 | 140 => {
                let (Some(&nh), Some(&l)) = (h.first(), h.get(1)) else {
                    cut = true;
                    break;
                };
                let len = (usize::from(l) + 1) * 8;
                if h.len() < len {
                    cut = true;
                    break;
                }
                next = nh;
                off += len;
            }
            44 => {
                if h.len() < 8 {
                    cut = true;
                    break;
                }
                let fo = be16(h, 2).unwrap_or(0);
                let frag_off = u32::from(fo & 0xfff8);
                let more = fo & 1 != 0;
                next = h[0];
                off += 8;
                if frag_off > 0 || more {
                    fragment = Some(FragInfo {
                        id: be32(h, 4).unwrap_or(0),
                        offset: frag_off,
                        more,
                    });
                    // The rest is fragment data: the fragmentable part of the
                    // original packet, reassembled before it is decoded.
                    break;
                }
                // An atomic fragment (RFC 6946): carry on.
            }
            51 => match skip_ah(h) {
                Some((nh, len)) => {
                    has_ah = true;
                    next = nh;
                    off += len;
                }
                None => {
                    cut = true;
                    break;
                }
            },
            _ => break,
        }
    }
    let payload = region.get(off..).unwrap_or(&[]);
    Ok(IpPacket {
        version: 6,
        src: IpAddr::V6(addr16(data, 8)),
        dst: IpAddr::V6(addr16(data, 24)),
        protocol: next,
        payload,
        payload_declared_len: declared_total.saturating_sub(off) as u32,
        datagram_len: (40 + declared_total) as u32,
        dont_fragment: true,
        fragment,
        has_ah,
        truncated: cut || data.len() < 40 + declared_total,
        ttl: data[7],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic first IPv4 fragment shaped like the IKE_AUTH fragments of
    /// `lab/mtu_blackhole.pcap` (1500-byte datagram, MF set); the corpus
    /// tests in `tests/` cover the real frames.
    fn first_fragment_header() -> Vec<u8> {
        let mut p = vec![
            0x45, 0x00, 0x05, 0xdc, 0x12, 0x34, 0x20, 0x00, 0x40, 0x11, 0x00, 0x00, 192, 0, 2, 10,
            203, 0, 113, 20,
        ];
        p.extend_from_slice(&[0u8; 1480]);
        p
    }

    #[test]
    fn ipv4_fragment_fields() {
        let p = first_fragment_header();
        let ip = parse(NetKind::Ipv4, &p).unwrap();
        assert_eq!(ip.protocol, 17);
        assert_eq!(ip.datagram_len, 1500);
        assert_eq!(ip.payload_declared_len, 1480);
        assert_eq!(
            ip.fragment,
            Some(FragInfo {
                id: 0x1234,
                offset: 0,
                more: true
            })
        );
        assert!(!ip.truncated);
        // Cut by a snaplen: still decoded, and the cut is noted.
        let ip = parse(NetKind::Ipv4, &p[..100]).unwrap();
        assert!(ip.truncated);
        assert_eq!(ip.payload.len(), 80);
        assert_eq!(ip.datagram_len, 1500);
    }

    #[test]
    fn ipv6_fragment_header() {
        let mut p = vec![0x60, 0, 0, 0, 0, 16, 44, 64];
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        p.extend_from_slice(&[0u8; 12]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        p.extend_from_slice(&[0u8; 11]);
        p.push(1);
        // Fragment header: next UDP, offset 1448 bytes (181 * 8), M=1, id 0xdeadbeef.
        p.extend_from_slice(&[17, 0, 0x05, 0xa9, 0xde, 0xad, 0xbe, 0xef]);
        p.extend_from_slice(&[0u8; 8]);
        let ip = parse(NetKind::Ipv6, &p).unwrap();
        assert_eq!(ip.protocol, 17);
        assert_eq!(
            ip.fragment,
            Some(FragInfo {
                id: 0xdead_beef,
                offset: 1448,
                more: true
            })
        );
        assert_eq!(ip.payload.len(), 8);
        assert_eq!(ip.payload_declared_len, 8);
    }

    #[test]
    fn ipv6_extension_chain_and_cut_headers() {
        let mut p = vec![0x60, 0, 0, 0, 0, 32, 0, 64];
        p.extend_from_slice(&[0u8; 32]);
        // Hop-by-hop (8 bytes) -> destination options (8) -> UDP.
        p.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[17, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[0x01, 0xf4, 0x01, 0xf4, 0, 16, 0, 0]);
        p.extend_from_slice(&[0u8; 8]);
        let ip = parse(NetKind::Ipv6, &p).unwrap();
        assert_eq!(ip.protocol, 17);
        assert_eq!(ip.payload.len(), 16);
        assert_eq!(ip.payload_declared_len, 16);
        // Cut inside the second extension header: decoded as far as it goes.
        let ip = parse(NetKind::Ipv6, &p[..52]).unwrap();
        assert!(ip.truncated);
        assert_eq!(ip.protocol, 60);
        // A hop-by-hop length that runs past the packet.
        let mut q = p.clone();
        q[41] = 200;
        let ip = parse(NetKind::Ipv6, &q).unwrap();
        assert!(ip.truncated);
        for n in 0..p.len() {
            let _ = parse(NetKind::Ipv6, &p[..n]);
            let _ = parse(NetKind::Ipv6, &q[..n]);
        }
    }

    #[test]
    fn never_panics_on_prefixes() {
        let p = first_fragment_header();
        for n in 0..64 {
            let _ = parse(NetKind::Ipv4, &p[..n]);
        }
        assert_eq!(parse(NetKind::Ipv4, &[]), Err(IpError::Truncated));
        assert_eq!(
            parse(NetKind::Ipv4, &[0x41, 0, 0, 0]),
            Err(IpError::Truncated)
        );
        let mut bad_ihl = first_fragment_header();
        bad_ihl[0] = 0x41;
        assert_eq!(parse(NetKind::Ipv4, &bad_ihl), Err(IpError::Malformed));
        assert_eq!(parse(NetKind::Ipv4, &[0x71; 40]), Err(IpError::Malformed));
    }
}
