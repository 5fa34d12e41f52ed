//! TCP (RFC 9293) header fields ikediag uses: ports, flags, the MSS option
//! (RFC 9293 section 3.7.1), and RFC 8229 IKE over TCP framing.

use super::be16;

/// The TCP header fields ikediag looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub syn: bool,
    pub ack: bool,
    /// Sequence number.
    pub seq: u32,
    /// The MSS option, on SYN segments.
    pub mss: Option<u16>,
    pub payload: &'a [u8],
}

/// Decodes a TCP header; options are scanned for MSS only.
pub fn parse(data: &[u8]) -> Option<TcpSegment<'_>> {
    let src_port = be16(data, 0)?;
    let dst_port = be16(data, 2)?;
    let off = usize::from(*data.get(12)? >> 4) * 4;
    let flags = *data.get(13)?;
    if off < 20 {
        return None;
    }
    let syn = flags & 0x02 != 0;
    let mut mss = None;
    if syn {
        let opts = data.get(20..off.min(data.len())).unwrap_or(&[]);
        let mut i = 0usize;
        while i < opts.len() {
            match opts[i] {
                0 => break,
                1 => i += 1,
                kind => {
                    let len = usize::from(*opts.get(i + 1).unwrap_or(&0));
                    if len < 2 {
                        break;
                    }
                    if kind == 2 && len == 4 {
                        mss = be16(opts, i + 2);
                    }
                    i += len;
                }
            }
        }
    }
    Some(TcpSegment {
        src_port,
        dst_port,
        syn,
        ack: flags & 0x10 != 0,
        seq: super::be32(data, 4)?,
        mss,
        payload: data.get(off..).unwrap_or(&[]),
    })
}

/// The RFC 8229 stream prefix sent by the initiator once per connection.
pub const IKE_TCP_PREFIX: &[u8] = b"IKETCP";

/// Finds an IKE message in a TCP segment payload framed as in RFC 8229
/// section 3 (2-byte length, 4-byte non-ESP marker, IKE message), optionally
/// preceded by the "IKETCP" prefix. Only messages that start at a segment
/// boundary are found: ikediag does not reassemble TCP streams.
pub fn ike_in_segment(payload: &[u8]) -> Option<&[u8]> {
    let p = payload.strip_prefix(IKE_TCP_PREFIX).unwrap_or(payload);
    let len = usize::from(be16(p, 0)?);
    let marker = p.get(2..6)?;
    if marker != [0, 0, 0, 0] || len < 6 + 28 {
        return None;
    }
    let end = len.min(p.len());
    p.get(6..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syn_mss_option() {
        let mut s = vec![
            0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02, 0, 0, 0, 0, 0, 0,
        ];
        s.extend_from_slice(&[2, 4, 0x05, 0x63]);
        let t = parse(&s).unwrap();
        assert!(t.syn && !t.ack);
        assert_eq!(t.mss, Some(1379));
        for n in 0..s.len() {
            let _ = parse(&s[..n]);
        }
    }

    #[test]
    fn rfc8229_framing() {
        let mut p = b"IKETCP".to_vec();
        p.extend_from_slice(&[0, 40, 0, 0, 0, 0]);
        p.extend_from_slice(&[7u8; 34]);
        assert_eq!(ike_in_segment(&p).map(<[u8]>::len), Some(34));
        assert!(ike_in_segment(&[0, 40, 1, 0, 0, 0]).is_none());
    }
}
