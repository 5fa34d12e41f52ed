//! Link, network and transport headers: zero-copy views that never panic.
//!
//! Contract: every function takes bytes from a capture and returns `None` or
//! a partial result when the bytes are too short or inconsistent; nothing here
//! panics, allocates per packet, or judges what it decodes.
//!
//! - [`link`]: link-layer framing (Ethernet + VLAN/QinQ + PPPoE + MPLS, Linux
//!   cooked v1/v2, raw IP, BSD loopback, NFLOG, PPP) down to an IP packet.
//! - [`ip`]: IPv4 (RFC 791) and IPv6 (RFC 8200) with extension headers,
//!   decoded as far as the bytes go, plus the fragment fields the
//!   reassembler needs.
//! - [`udp`]: the UDP header and the RFC 3948 / RFC 7296 section 2.23
//!   classification of UDP 500/4500 payloads (IKE, non-ESP marker, NAT
//!   keepalive, ESP-in-UDP).
//! - [`icmp`]: ICMP (RFC 792, RFC 1191) and ICMPv6 (RFC 4443) errors with the
//!   quoted packet, and echo requests/replies.
//! - [`tcp`]: the TCP header, its MSS option and RFC 8229 IKE over TCP framing.

pub mod icmp;
pub mod ip;
pub mod link;
pub mod tcp;
pub mod udp;

/// Reads a big-endian u16 at `off`, or `None` when out of range.
#[inline]
pub(crate) fn be16(d: &[u8], off: usize) -> Option<u16> {
    let b = d.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

/// Reads a big-endian u32 at `off`, or `None` when out of range.
#[inline]
pub(crate) fn be32(d: &[u8], off: usize) -> Option<u32> {
    let b = d.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}
