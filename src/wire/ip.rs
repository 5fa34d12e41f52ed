//! IPv4 (RFC 791) and IPv6 (RFC 8200) headers, extension headers included.
//!
//! Parsing is delegated to etherparse's lax slicer (`LaxIpSlice`), which
//! decodes as far as the captured bytes go; this module adds what ikediag
//! needs on top: the fragment fields (RFC 791 section 3.2, RFC 8200 section
//! 4.5) for our own reassembler, the declared datagram length (for MTU
//! evidence), DF, whether an AH header (RFC 4302) was passed, and whether
//! the snaplen cut the packet.

use std::net::IpAddr;

use etherparse::{Ipv6ExtensionSlice, LaxIpSlice};

use super::link::NetKind;

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

/// Decodes one IP packet. `kind` is what the link layer announced; the
/// version nibble wins when they disagree (as in Wireshark).
pub fn parse(_kind: NetKind, data: &[u8]) -> Result<IpPacket<'_>, IpError> {
    let (slice, _ext_err) = LaxIpSlice::from_slice(data).map_err(|e| match e {
        etherparse::err::ip::LaxHeaderSliceError::Len(_) => IpError::Truncated,
        etherparse::err::ip::LaxHeaderSliceError::Content(_) => IpError::Malformed,
    })?;
    let payload = slice.payload();
    match &slice {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            let frag_off = u32::from(h.fragments_offset().value()) * 8;
            let more = h.more_fragments();
            let ihl = u32::from(h.ihl()) * 4;
            let total = u32::from(h.total_len());
            let has_ah = v4.extensions().auth.is_some();
            let ah_len = v4
                .extensions()
                .auth
                .map(|a| a.slice().len() as u32)
                .unwrap_or(0);
            Ok(IpPacket {
                version: 4,
                src: IpAddr::V4(h.source_addr()),
                dst: IpAddr::V4(h.destination_addr()),
                protocol: payload.ip_number.0,
                payload: payload.payload,
                payload_declared_len: total.saturating_sub(ihl + ah_len),
                datagram_len: total,
                dont_fragment: h.dont_fragment(),
                fragment: (frag_off > 0 || more).then_some(FragInfo {
                    id: u32::from(h.identification()),
                    offset: frag_off,
                    more,
                }),
                has_ah,
                truncated: payload.incomplete,
                ttl: h.ttl(),
            })
        }
        LaxIpSlice::Ipv6(v6) => {
            let h = v6.header();
            let mut fragment = None;
            let mut has_ah = false;
            for ext in v6.extensions().clone() {
                match ext {
                    Ipv6ExtensionSlice::Fragment(f) => {
                        let offset = u32::from(f.fragment_offset().value()) * 8;
                        let more = f.more_fragments();
                        if offset > 0 || more {
                            fragment = Some(FragInfo {
                                id: f.identification(),
                                offset,
                                more,
                            });
                        }
                    }
                    Ipv6ExtensionSlice::Authentication(_) => has_ah = true,
                    _ => {}
                }
            }
            let ext_len = v6.extensions().slice().len() as u32;
            let plen = u32::from(h.payload_length());
            Ok(IpPacket {
                version: 6,
                src: IpAddr::V6(h.source_addr()),
                dst: IpAddr::V6(h.destination_addr()),
                protocol: payload.ip_number.0,
                payload: payload.payload,
                payload_declared_len: plen.saturating_sub(ext_len),
                datagram_len: 40 + plen,
                dont_fragment: true,
                fragment,
                has_ah,
                truncated: payload.incomplete,
                ttl: h.hop_limit(),
            })
        }
    }
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
    fn never_panics_on_prefixes() {
        let p = first_fragment_header();
        for n in 0..64 {
            let _ = parse(NetKind::Ipv4, &p[..n]);
        }
        assert_eq!(parse(NetKind::Ipv4, &[]), Err(IpError::Truncated));
        assert_eq!(
            parse(NetKind::Ipv4, &[0x41, 0, 0, 0]),
            Err(IpError::Malformed)
        );
    }
}
