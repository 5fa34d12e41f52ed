//! ESP decryption (`ikediag::decrypt::decrypt_esp`) against tcpdump's ESP
//! test captures and the keys of tcpdump's test harness, with tshark's
//! view of the same packets as literal expectations.
#![cfg(feature = "decrypt")]

mod common;

use std::path::{Path, PathBuf};

use ikediag::capture::CaptureReader;
use ikediag::decode::{DecodeConfig, EspPacket, Sink, decode_capture};
use ikediag::decrypt::{EspError, KeyStore, decrypt_esp};

/// Every ESP packet: (frame, SPI, source, destination, bytes from the SPI).
#[derive(Default)]
struct RawEsp(Vec<(u64, u32, std::net::IpAddr, std::net::IpAddr, Vec<u8>)>);

impl Sink for RawEsp {
    fn esp(&mut self, e: &EspPacket<'_>) {
        self.0
            .push((e.seen.frame, e.spi, e.seen.src, e.seen.dst, e.raw.to_vec()));
    }
}

fn esp_packets(path: &Path) -> Vec<(u64, u32, std::net::IpAddr, std::net::IpAddr, Vec<u8>)> {
    let mut reader = CaptureReader::open(path).expect("open capture");
    let mut sink = RawEsp::default();
    let _ = decode_capture(&mut reader, DecodeConfig::default(), &mut sink);
    sink.0
}

fn tcpdump() -> Option<PathBuf> {
    let d = common::corpus()?.join("public/tcpdump");
    d.is_dir().then_some(d)
}

fn keys(name: &str, text: &str) -> KeyStore {
    let mut ks = KeyStore::new();
    ks.load_str(Path::new(name), text).expect("key table");
    assert!(ks.errors().is_empty(), "{:?}", ks.errors());
    ks
}

/// The 02-sunrise-sunset-esp / espudp1 key (tcpdump's TESTrun), as an
/// `esp_sa` line with tshark's "no checking" authentication.
const SA_4043: &str = r#""IPv4","*","192.1.2.45","0x12345678","TripleDES-CBC [RFC2451]","0x4043434545464649494a4a4c4c4f4f515152525454575758","ANY 96 bit authentication [no checking]","""#;

/// What tshark shows inside each packet of these captures (frame n):
/// IPv4 192.0.2.1 -> 192.0.1.1, total length 84, ICMP echo request whose
/// icmp.seq is 1280 + 256 (n - 1); ESP Next Header 4 (IPv4).
///
/// ```sh
/// tshark -r 02-sunrise-sunset-esp.pcap -o esp.enable_encryption_decode:TRUE \
///   -o 'uat:esp_sa:"IPv4","*","192.1.2.45","0x12345678","TripleDES-CBC [RFC2451]","0x4043434545464649494a4a4c4c4f4f515152525454575758","ANY 96 bit authentication [no checking]",""' \
///   -T fields -e frame.number -e esp.sequence -e ip.src -e ip.dst -e ip.proto -e icmp.type -e icmp.seq -e ip.len -e esp.pad_len -e esp.protocol
/// # 1  1  192.1.2.23,192.0.2.1  192.1.2.45,192.0.1.1  50,1  8  1280  136,84  2  0x04
/// ```
/// (08-sunrise-sunset-aes: pad length 10; espudp1: pad length 2, over UDP
/// 4500; 08-sunrise-sunset-esp2: 0x12345678 holds 192.1.2.23 -> 192.0.1.1
/// ESP 0xabcdabcd of 136 bytes, pad length 6, which holds the same ICMP,
/// pad length 2.)
fn check_icmp_echo(frame: u64, inner: &[u8]) {
    assert_eq!(inner.len(), 84, "frame {frame}");
    assert_eq!(inner[0] >> 4, 4, "frame {frame}: IPv4");
    assert_eq!(u16::from_be_bytes([inner[2], inner[3]]), 84);
    assert_eq!(inner[9], 1, "frame {frame}: ICMP");
    assert_eq!(&inner[12..16], &[192, 0, 2, 1]);
    assert_eq!(&inner[16..20], &[192, 0, 1, 1]);
    assert_eq!(inner[20], 8, "frame {frame}: echo request");
    let seq = u16::from_be_bytes([inner[26], inner[27]]);
    assert_eq!(u64::from(seq), 1280 + 256 * (frame - 1), "frame {frame}");
}

#[test]
fn tcpdump_esp_captures_decrypt_to_icmp_echo() {
    let Some(dir) = tcpdump() else { return };
    let secrets = std::fs::read_to_string(dir.join("esp-secrets.txt")).expect("secrets");
    let tcpdump_keys = keys("esp-secrets.txt", &secrets);
    let sa_4043 = keys("x.esp_sa", SA_4043);
    for (file, ks, pad_len) in [
        ("02-sunrise-sunset-esp.pcap", &sa_4043, 2),
        // ESP-in-UDP (RFC 3948) on 4500.
        ("espudp1.pcap", &sa_4043, 2),
        ("08-sunrise-sunset-aes.pcap", &tcpdump_keys, 10),
    ] {
        let pkts = esp_packets(&dir.join(file));
        assert_eq!(pkts.len(), 8, "{file}");
        for (frame, spi, src, dst, raw) in &pkts {
            let key = ks.esp(*spi, *src, *dst).expect("key");
            let d = decrypt_esp(raw, key).unwrap_or_else(|e| panic!("{file} {frame}: {e}"));
            assert!(!d.verified, "no checking");
            assert_eq!(
                (d.seq, d.next_header, d.pad_len),
                (*frame as u32, 4, pad_len)
            );
            check_icmp_echo(*frame, &d.payload);
        }
    }
    // Nested: 0x12345678 carries ESP 0xabcdabcd, both keys in the tcpdump
    // secrets file.
    for (frame, spi, src, dst, raw) in esp_packets(&dir.join("08-sunrise-sunset-esp2.pcap")) {
        let outer = decrypt_esp(&raw, tcpdump_keys.esp(spi, src, dst).expect("outer key"))
            .unwrap_or_else(|e| panic!("frame {frame}: {e}"));
        assert_eq!((outer.next_header, outer.pad_len), (4, 6));
        let ip = &outer.payload;
        assert_eq!((ip.len(), ip[9]), (136, 50), "frame {frame}: ESP inside");
        let inner_src = std::net::IpAddr::from([ip[12], ip[13], ip[14], ip[15]]);
        let inner_dst = std::net::IpAddr::from([ip[16], ip[17], ip[18], ip[19]]);
        let inner_spi = u32::from_be_bytes([ip[20], ip[21], ip[22], ip[23]]);
        assert_eq!(inner_spi, 0xabcd_abcd);
        let key = tcpdump_keys
            .esp(inner_spi, inner_src, inner_dst)
            .expect("inner key");
        let inner = decrypt_esp(&ip[20..], key).unwrap_or_else(|e| panic!("frame {frame}: {e}"));
        assert_eq!((inner.next_header, inner.pad_len), (4, 2));
        check_icmp_echo(frame, &inner.payload);
    }
}

#[test]
fn wrong_truncated_or_other_keys_are_clear_errors() {
    let Some(dir) = tcpdump() else { return };
    let pkts = esp_packets(&dir.join("02-sunrise-sunset-esp.pcap"));
    // The 08-esp2 key for the same SPI: garbage, refused by the trailer check.
    let secrets = std::fs::read_to_string(dir.join("esp-secrets.txt")).expect("secrets");
    let wrong = keys("esp-secrets.txt", &secrets);
    let (_, spi, src, dst, raw) = &pkts[0];
    let e = decrypt_esp(raw, wrong.esp(*spi, *src, *dst).expect("key")).unwrap_err();
    assert!(matches!(e, EspError::BadTrailer(_)), "{e}");
    assert!(e.to_string().contains("wrong key"), "{e}");
    // A key for another SPI does not match the packet at all.
    assert!(wrong.esp(0xabcd_abcd, *src, *dst).is_none());
    // Truncated key in the table: refused when loaded, with the line.
    let mut ks = KeyStore::new();
    let short = SA_4043.replace("575758", "5757");
    assert_eq!(ks.load_str(Path::new("s.esp_sa"), &short), Ok(0));
    assert!(
        ks.errors()[0]
            .to_string()
            .starts_with("s.esp_sa:1: encryption key: 23 bytes"),
        "{}",
        ks.errors()[0]
    );
    // A checked HMAC over these packets (which carry no real ICV for it):
    // the integrity check refuses them before decrypting.
    let checked = SA_4043.replace(
        r#""ANY 96 bit authentication [no checking]","""#,
        r#""HMAC-SHA-1-96 [RFC2404]","0x0000000000000000000000000000000000000000""#,
    );
    let ks = keys("c.esp_sa", &checked);
    let k = ks.esp(*spi, *src, *dst).expect("key");
    assert_eq!(decrypt_esp(raw, k), Err(EspError::IntegrityFailed));
    // Every cut of a packet is an error, never a panic.
    let good = keys("g.esp_sa", SA_4043);
    let k = good.esp(*spi, *src, *dst).expect("key");
    for cut in 0..raw.len() {
        assert!(decrypt_esp(&raw[..cut], k).is_err(), "cut {cut}");
    }
    // tcpdump's esp_truncated.pcap: a 46-byte capture of a 65613-byte packet.
    for (_, _, _, _, raw) in esp_packets(&dir.join("esp_truncated.pcap")) {
        assert!(decrypt_esp(&raw, k).is_err());
    }
}
