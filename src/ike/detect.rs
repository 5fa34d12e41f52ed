//! Is it IKE? Checks on the fixed header (RFC 2408 §3.1, RFC 7296 §3.1)
//! that tell an IKE message from other traffic on the IKE ports: behind a
//! masquerading NAT, IKE from port 500 can arrive from any port below 1024
//! (Linux maps 500 to, say, 419 when 500 is taken), where DNS, NTP and other
//! services live too, so the port pair alone cannot decide.
//!
//! Contract:
//! - [`check_header`] reads at most the first 28 bytes and the length the
//!   transport declares (the UDP header's length field, not the bytes
//!   captured, so a message cut by the snaplen still counts). It never
//!   panics and allocates nothing.
//! - `Ok` means the header is one an IKE implementation sends: major version
//!   1 or 2 (IKEv1 minor version 0), a known or plausible exchange type, no
//!   flag outside those the version defines, a non-zero initiator SPI, a
//!   zero responder SPI only in an exchange that may open an SA, and a
//!   message length of at least 28 bytes that fits in the datagram (bytes
//!   after it are allowed: they are an anomaly of an IKE message).
//! - `Err` says which check failed. Judging what to do with such a datagram
//!   (ports may still say it is IKE, malformed) is the decoder's call;
//!   [`NotIke::rules_out_ike`] marks the failures that no IKE dissector
//!   accepts whatever the ports (Wireshark's ISAKMP dissector refuses them
//!   too).

use super::{
    FLAG_COMMIT_V1, FLAG_ENCRYPTION_V1, FLAG_INITIATOR, FLAG_RESPONSE, HEADER_LEN, IkeHeader,
};

/// IKEv1 header flag: authentication only (RFC 2408 §3.1).
const FLAG_AUTH_ONLY_V1: u8 = 0x04;
/// IKEv2 header flag: a higher major version is supported (RFC 7296 §3.1).
const FLAG_VERSION_V2: u8 = 0x10;

/// Why bytes are not taken for an IKE header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotIke {
    /// The datagram declares fewer bytes than a header.
    DatagramTooShort { declared: usize },
    /// The datagram is long enough but fewer than 28 bytes were captured:
    /// nothing can be checked.
    HeaderNotCaptured { captured: usize },
    /// The header's length field is below the header's own size.
    LengthTooSmall { length: u32 },
    /// The header's length field is larger than the datagram.
    LengthExceedsDatagram { length: u32, declared: usize },
    /// Major version other than 1 or 2.
    MajorVersion { major_version: u8 },
    /// IKEv1 with a minor version other than 0 (RFC 2408 §3.1; IKEv2
    /// receivers ignore the minor version, RFC 7296 §3.1).
    MinorVersion { minor_version: u8 },
    /// An exchange type no implementation of this version uses.
    ExchangeType {
        major_version: u8,
        exchange_type: u8,
    },
    /// A flag bit the version does not define.
    Flags { major_version: u8, flags: u8 },
    /// The initiator SPI (IKEv1: cookie) is zero.
    ZeroInitiatorSpi,
    /// The responder SPI is zero in an exchange that runs inside an SA.
    ZeroResponderSpi { exchange_type: u8 },
}

impl NotIke {
    /// No IKE dissector takes these, whatever the ports: a datagram too
    /// short for a header, or a header whose length field is below 28
    /// (Wireshark's ISAKMP dissector returns "not mine" for both).
    pub fn rules_out_ike(&self) -> bool {
        matches!(
            self,
            NotIke::DatagramTooShort { .. } | NotIke::LengthTooSmall { .. }
        )
    }
}

/// Exchange types plausible for a major version: the IANA registries
/// ("IKEv2 Exchange Types", ISAKMP "Exchange Type") and their private-use
/// range 240-255 (Microsoft AuthIP uses 243-246 with version 1.0).
fn plausible_exchange(major_version: u8, exchange_type: u8) -> bool {
    match major_version {
        // Base, Identity Protection, Authentication Only, Aggressive,
        // Informational, Transaction (mode config), Quick Mode, New Group.
        1 => matches!(exchange_type, 1..=6 | 32 | 33 | 240..=255),
        // 34-45 are assigned (IKE_SA_INIT ... GSA_INBAND_REKEY); the rest of
        // the block up to 63 is left for the next assignments.
        _ => matches!(exchange_type, 34..=63 | 240..=255),
    }
}

/// Exchanges whose messages may carry a zero responder SPI: the ones that
/// open an SA (and their error answers), Informational messages sent
/// outside any SA, and the private-use types, whose rules are unknown.
fn responder_spi_may_be_zero(major_version: u8, exchange_type: u8) -> bool {
    match major_version {
        1 => matches!(exchange_type, 1..=5 | 240..=255),
        // IKE_SA_INIT (request, and COOKIE / INVALID_KE_PAYLOAD answers),
        // INFORMATIONAL outside an SA (RFC 7296 §1.5).
        _ => matches!(exchange_type, 34 | 37 | 240..=255),
    }
}

/// Checks that `data` starts with a plausible IKE header. `declared` is the
/// number of IKE bytes the transport says the datagram holds (UDP length
/// minus 8, minus 4 more after a non-ESP marker), which may exceed what
/// was captured.
pub fn check_header(data: &[u8], declared: usize) -> Result<IkeHeader, NotIke> {
    if declared < HEADER_LEN {
        return Err(NotIke::DatagramTooShort { declared });
    }
    let h = IkeHeader::parse(data).map_err(|_| NotIke::HeaderNotCaptured {
        captured: data.len(),
    })?;
    if h.length < HEADER_LEN as u32 {
        return Err(NotIke::LengthTooSmall { length: h.length });
    }
    if usize::try_from(h.length).map_or(true, |l| l > declared) {
        return Err(NotIke::LengthExceedsDatagram {
            length: h.length,
            declared,
        });
    }
    let defined_flags = match h.major_version {
        1 => {
            if h.minor_version != 0 {
                return Err(NotIke::MinorVersion {
                    minor_version: h.minor_version,
                });
            }
            FLAG_ENCRYPTION_V1 | FLAG_COMMIT_V1 | FLAG_AUTH_ONLY_V1
        }
        2 => FLAG_INITIATOR | FLAG_VERSION_V2 | FLAG_RESPONSE,
        v => return Err(NotIke::MajorVersion { major_version: v }),
    };
    if !plausible_exchange(h.major_version, h.exchange_type) {
        return Err(NotIke::ExchangeType {
            major_version: h.major_version,
            exchange_type: h.exchange_type,
        });
    }
    if h.flags & !defined_flags != 0 {
        return Err(NotIke::Flags {
            major_version: h.major_version,
            flags: h.flags,
        });
    }
    if h.ispi == [0; 8] {
        return Err(NotIke::ZeroInitiatorSpi);
    }
    if h.rspi == [0; 8] && !responder_spi_may_be_zero(h.major_version, h.exchange_type) {
        return Err(NotIke::ZeroResponderSpi {
            exchange_type: h.exchange_type,
        });
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// Real headers (first 28 bytes, non-ESP marker removed) with the UDP
    /// length of their datagram, from the lab and public corpora.
    const REAL: &[(&str, &str, u16)] = &[
        // lab/ok_psk.pcap frame 5: IKEv2 IKE_SA_INIT request (zero responder SPI).
        (
            "v2 IKE_SA_INIT request",
            "fa013deb7dd2fca200000000000000002120220800000000000000f0",
            248,
        ),
        // lab/ok_psk.pcap frame 6: IKEv2 IKE_SA_INIT response.
        (
            "v2 IKE_SA_INIT response",
            "fa013deb7dd2fca26dc4df981a7b2f97212022200000000000000125",
            301,
        ),
        // lab/ok_psk.pcap frame 7 (UDP 4500): IKEv2 IKE_AUTH request.
        (
            "v2 IKE_AUTH request",
            "fa013deb7dd2fca26dc4df981a7b2f972e20230800000001000000f0",
            252,
        ),
        // lab-both/cookie.pcapng frame 5: COOKIE answer, responder SPI still zero.
        (
            "v2 COOKIE answer",
            "3a36d29390c7389b000000000000000029202220000000000000003c",
            68,
        ),
        // lab-both/ikev1_main_mode_ok.pcapng frame 4: Main Mode 1 (zero responder cookie).
        (
            "v1 Main Mode 1",
            "3a3ed151564edfe100000000000000000110020000000000000000b4",
            188,
        ),
        // lab-both/ikev1_main_mode_ok.pcapng frame 10: Quick Mode, encrypted.
        (
            "v1 Quick Mode",
            "3a3ed151564edfe15eb6074e8b0cb32e0810200125becc9a000000bc",
            196,
        ),
        // lab-both/ikev1_no_proposal.pcapng frame 6: the refusal, an Informational.
        (
            "v1 Informational",
            "d7a1ae327970882eef3a84ab5a53a4090b1005009101e58a00000038",
            64,
        ),
        // public libreswan/replay-authip-01__weirdike-eastwest.pcap-ike.pcap frame 1:
        // Microsoft AuthIP (exchange 243), zero responder cookie.
        (
            "AuthIP Main Mode",
            "85f7330bf85f7b1600000000000000008510f3000000000000000150",
            344,
        ),
    ];

    #[test]
    fn real_headers_are_plausible() {
        for (what, hex, udp_len) in REAL {
            let h = unhex(hex);
            assert_eq!(h.len(), 28, "{what}");
            let declared = usize::from(*udp_len) - 8;
            let r = check_header(&h, declared);
            assert!(r.is_ok(), "{what}: {r:?}");
            // The capture may hold only the header (snaplen), the UDP length
            // still counts; trailing bytes after the message are allowed.
            assert!(check_header(&h, declared + 100).is_ok(), "{what}");
        }
    }

    /// Each check on its own: one field of a real header changed at a time.
    #[test]
    fn each_check_rejects_one_field() {
        let v2 = unhex(REAL[0].1); // IKE_SA_INIT request, length 240
        let v1 = unhex(REAL[5].1); // Quick Mode, length 188
        let with = |base: &[u8], at: usize, bytes: &[u8]| {
            let mut m = base.to_vec();
            m[at..at + bytes.len()].copy_from_slice(bytes);
            m
        };
        let cases: Vec<(&str, Vec<u8>, usize, NotIke)> = vec![
            (
                "datagram too short",
                v2.clone(),
                27,
                NotIke::DatagramTooShort { declared: 27 },
            ),
            (
                "header not captured",
                v2[..20].to_vec(),
                240,
                NotIke::HeaderNotCaptured { captured: 20 },
            ),
            (
                "length 0",
                with(&v2, 24, &[0, 0, 0, 0]),
                240,
                NotIke::LengthTooSmall { length: 0 },
            ),
            (
                "length 27",
                with(&v2, 24, &[0, 0, 0, 27]),
                240,
                NotIke::LengthTooSmall { length: 27 },
            ),
            (
                "length over the datagram",
                v2.clone(),
                239,
                NotIke::LengthExceedsDatagram {
                    length: 240,
                    declared: 239,
                },
            ),
            (
                "major 3",
                with(&v2, 17, &[0x30]),
                240,
                NotIke::MajorVersion { major_version: 3 },
            ),
            (
                "major 0",
                with(&v2, 17, &[0x00]),
                240,
                NotIke::MajorVersion { major_version: 0 },
            ),
            (
                "IKEv1 minor 1",
                with(&v1, 17, &[0x11]),
                188,
                NotIke::MinorVersion { minor_version: 1 },
            ),
            (
                "IKEv2 exchange 33",
                with(&v2, 18, &[33]),
                240,
                NotIke::ExchangeType {
                    major_version: 2,
                    exchange_type: 33,
                },
            ),
            (
                "IKEv2 exchange 64",
                with(&v2, 18, &[64]),
                240,
                NotIke::ExchangeType {
                    major_version: 2,
                    exchange_type: 64,
                },
            ),
            (
                "IKEv1 exchange 0",
                with(&v1, 18, &[0]),
                188,
                NotIke::ExchangeType {
                    major_version: 1,
                    exchange_type: 0,
                },
            ),
            (
                "IKEv1 exchange 34",
                with(&v1, 18, &[34]),
                188,
                NotIke::ExchangeType {
                    major_version: 1,
                    exchange_type: 34,
                },
            ),
            (
                "IKEv2 flag 0x01",
                with(&v2, 19, &[0x09]),
                240,
                NotIke::Flags {
                    major_version: 2,
                    flags: 0x09,
                },
            ),
            (
                "IKEv2 flag 0x80",
                with(&v2, 19, &[0x88]),
                240,
                NotIke::Flags {
                    major_version: 2,
                    flags: 0x88,
                },
            ),
            (
                "IKEv1 flag 0x08",
                with(&v1, 19, &[0x09]),
                188,
                NotIke::Flags {
                    major_version: 1,
                    flags: 0x09,
                },
            ),
            (
                "zero initiator SPI",
                with(&v2, 0, &[0; 8]),
                240,
                NotIke::ZeroInitiatorSpi,
            ),
            (
                "zero responder SPI in IKE_AUTH",
                with(&v2, 18, &[35]),
                240,
                NotIke::ZeroResponderSpi { exchange_type: 35 },
            ),
            (
                "zero responder cookie in Quick Mode",
                with(&v1, 8, &[0; 8]),
                188,
                NotIke::ZeroResponderSpi { exchange_type: 32 },
            ),
        ];
        for (what, bytes, declared, want) in cases {
            assert_eq!(check_header(&bytes, declared), Err(want), "{what}");
        }
        // The values at the edges of what is allowed.
        assert!(
            check_header(&with(&v2, 19, &[0x38]), 240).is_ok(),
            "I, V and R"
        );
        assert!(
            check_header(&with(&v2, 17, &[0x2f]), 240).is_ok(),
            "IKEv2 minor ignored"
        );
        assert!(
            check_header(&with(&v2, 18, &[37]), 240).is_ok(),
            "INFORMATIONAL outside an SA"
        );
        assert!(
            check_header(&with(&v2, 18, &[255]), 240).is_ok(),
            "private use"
        );
        assert!(
            check_header(&with(&v1, 19, &[0x07]), 188).is_ok(),
            "E, C and A"
        );
        assert!(
            check_header(&with(&v1, 18, &[240]), 188).is_ok(),
            "private use"
        );
        let one_byte_v2 = with(&v2, 24, &[0, 0, 0, 28]);
        assert!(check_header(&one_byte_v2, 28).is_ok(), "a bare header");
    }

    #[test]
    fn only_size_failures_rule_out_ike_whatever_the_ports() {
        assert!(NotIke::DatagramTooShort { declared: 1 }.rules_out_ike());
        assert!(NotIke::LengthTooSmall { length: 0 }.rules_out_ike());
        assert!(!NotIke::HeaderNotCaptured { captured: 0 }.rules_out_ike());
        assert!(!NotIke::ZeroInitiatorSpi.rules_out_ike());
        assert!(!NotIke::MajorVersion { major_version: 11 }.rules_out_ike());
    }

    /// UDP payloads of real DNS and NTP datagrams from the public corpus
    /// (`PcapPlusPlus/many_interfaces-1.pcapng`, frames 5, 6, 7, 9, 11).
    const DNS_NTP: &[(&str, &str)] = &[
        (
            "DNS query (frame 5)",
            "f30301000001000000000000033133390131033136380331393207696e2d61646472046172706100000c0001",
        ),
        (
            "NTP client (frame 6)",
            "23020aec00000d0b00000af611fd0cfdd97b623cbfe49dcdd97b6437ad7fd089d97b6437b6d0e9b0d97b647e296af531",
        ),
        (
            "DNS response (frame 7)",
            "f30385800001000100000000033133390131033136380331393207696e2d61646472046172706100000c0001c00c000c000100000000000e0c4861647269656c732d4d425000",
        ),
        (
            "DNS response with SOA (frame 9)",
            "f1ea858000010000000100000332353503323535033235350332353507696e2d61646472046172706100000c00010332353503323535033235350332353507494e2d4144445204415250410000060001000151800017c02e00000000000000708000001c2000093a8000015180",
        ),
        (
            "NTP server (frame 11)",
            "240106ec000000000000004747505373d97b647791fdbdc8d97b647e296af531d97b647e48bec57cd97b647e48bfafd4",
        ),
    ];

    #[test]
    fn real_dns_and_ntp_are_not_ike() {
        for (what, hex) in DNS_NTP {
            let p = unhex(hex);
            let r = check_header(&p, p.len());
            assert!(r.is_err(), "{what}: {r:?}");
        }
    }

    /// The same DNS and NTP datagrams with the fields a sender varies made
    /// pseudo-random (DNS ID, NTP timestamps): no variant passes. Random
    /// bytes pass all checks with a probability of about 2^-37 in a
    /// 100-byte datagram (below 2^-27 in the largest).
    #[test]
    fn varied_dns_and_ntp_are_not_ike() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut tried = 0;
        for (what, hex) in DNS_NTP {
            let base = unhex(hex);
            for i in 0..40_000 {
                let mut p = base.clone();
                let r = next().to_be_bytes();
                if what.starts_with("DNS") {
                    p[..2].copy_from_slice(&(i as u16).to_be_bytes());
                } else {
                    // Reference, origin, receive and transmit timestamps.
                    for chunk in p[16..48].chunks_mut(8) {
                        chunk.copy_from_slice(&next().to_be_bytes());
                    }
                    p[4..12].copy_from_slice(&r);
                }
                tried += 1;
                assert!(check_header(&p, p.len()).is_err(), "{what} variant {i}");
            }
        }
        assert_eq!(tried, 200_000);
    }

    #[test]
    fn never_panics_on_any_prefix_or_declared_length() {
        let m = unhex(REAL[1].1);
        for n in 0..=m.len() {
            for declared in [0, 1, 27, 28, 100, 293, usize::MAX] {
                let _ = check_header(&m[..n], declared);
            }
        }
    }
}
