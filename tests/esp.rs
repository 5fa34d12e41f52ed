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
/// (frame, SPI, source, destination, bytes from the SPI).
type EspRecord = (u64, u32, std::net::IpAddr, std::net::IpAddr, Vec<u8>);

#[derive(Default)]
struct RawEsp(Vec<EspRecord>);

impl Sink for RawEsp {
    fn esp(&mut self, e: &EspPacket<'_>) {
        self.0
            .push((e.seen.frame, e.spi, e.seen.src, e.seen.dst, e.raw.to_vec()));
    }
}

fn esp_packets(path: &Path) -> Vec<EspRecord> {
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

/// (SPI, inner protocol, packets).
type SpiProtoCount = (u32, u8, u64);

/// tshark's view of the ESP of the lab captures, with the `esp_sa` beside
/// each and `esp.enable_encryption_decode:TRUE`,
/// `esp.enable_authentication_check:TRUE` (every ICV good):
///
/// ```sh
/// tshark -r LAB.pcap -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE \
///   -o 'uat:esp_sa:<each line of LAB.esp_sa>' -Y esp -T fields -e esp.spi -e ip.proto -e esp.protocol -e esp.icv_good | sort | uniq -c
/// ```
///
/// (SPI, inner protocol, packets). tcp_mss_too_large has a 22nd `esp`
/// frame that is an ICMP error quoting ESP-in-UDP, not an ESP packet.
const LAB_ESP: &[(&str, &[SpiProtoCount])] = &[
    ("esp_one_way", &[(0x2925b583, 1, 6)]),
    ("map_e_natt_ok", &[(0x989d693b, 1, 3), (0xe52cb42e, 1, 3)]),
    ("natt_ok", &[(0x8af459cc, 1, 3), (0xbfe9fdf6, 1, 3)]),
    (
        "rekey_ok",
        &[
            (0x00853e32, 1, 4),
            (0x028aceaa, 1, 6),
            (0x65ef734e, 1, 6),
            (0x6ae14791, 1, 6),
            (0x9f142890, 1, 4),
            (0xaf7d95f1, 1, 6),
            (0xde38d790, 1, 6),
            (0xfcc8a50d, 1, 6),
        ],
    ),
    (
        "tcp_mss_too_large",
        &[(0x73518090, 6, 19), (0xaed13351, 6, 2)],
    ),
];

fn analyze_with_keys(pcap: &Path) -> ikediag::session::Analysis {
    let mut reader = CaptureReader::open(pcap).expect("open");
    let b = ikediag::session::KeySource::new(&[], true).builder_for(pcap);
    ikediag::session::analyze_with(&mut reader, DecodeConfig::default(), b)
}

/// The session layer on the lab captures with an `esp_sa` beside them:
/// every ESP packet of a keyed SA decrypts with its ICV verified, and the
/// inner protocols are tshark's.
#[test]
fn lab_esp_flows_decrypt_in_the_session() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let lab = corpus.join("lab");
    let mut stems: Vec<String> = std::fs::read_dir(&lab)
        .expect("lab")
        .filter_map(|e| {
            let n = e.ok()?.file_name().to_str()?.to_string();
            n.strip_suffix(".esp_sa").map(str::to_string)
        })
        .collect();
    stems.sort();
    assert!(stems.len() >= 20, "{stems:?}");
    for stem in &stems {
        let a = analyze_with_keys(&lab.join(format!("{stem}.pcap")));
        let d = a.decryption.as_ref().expect("keys");
        assert_eq!(
            (d.esp_failed, d.esp_no_keys, d.esp_skipped),
            (0, 0, 0),
            "{stem}: {:?}",
            d.esp_failures
        );
        let mut got: Vec<(u32, u8, u64)> = Vec::new();
        for f in &a.esp_flows {
            let i = f.inner.as_ref().expect("every flow keyed");
            assert_eq!(i.verified, i.decrypted, "{stem}: ICV checked");
            assert_eq!(i.decrypted, f.packets, "{stem} {:08x}", f.spi);
            got.extend(i.inner_protocols.iter().map(|(p, n)| (f.spi, *p, *n)));
        }
        got.sort();
        let want = LAB_ESP
            .iter()
            .find(|(s, _)| s == stem)
            .map(|(_, v)| v.to_vec())
            .unwrap_or_default();
        assert_eq!(got, want, "{stem}");
        assert_eq!(
            d.esp_decrypted,
            want.iter().map(|w| w.2).sum::<u64>(),
            "{stem}"
        );
    }
}

/// tcp_mss_too_large: the inner SYN and SYN-ACK carry MSS 1360, as tshark
/// shows them (frames 9 and 10), and the largest inner packet is 1400
/// bytes (frame 12: outer ip.len 1476, inner 1400; tshark's "1476" in
/// frame 13 is the ICMP "fragmentation needed" quoting that packet):
///
/// ```sh
/// tshark … -Y 'esp && tcp.flags.syn==1' -T fields -e frame.number -e esp.spi -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport -e tcp.flags.ack -e tcp.options.mss_val
/// # 9   0x73518090  100.64.7.10,198.18.1.1   203.0.113.20,198.18.2.1  53909  80     0  1360
/// # 10  0xaed13351  203.0.113.20,198.18.2.1  100.64.7.10,198.18.1.1   80     53909  1  1360
/// ```
#[test]
fn inner_syn_mss_of_tcp_mss_too_large() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let a = analyze_with_keys(&corpus.join("lab/tcp_mss_too_large.pcap"));
    let mut syns = Vec::new();
    for f in &a.esp_flows {
        let i = f.inner.as_ref().expect("keyed");
        for s in &i.syns {
            syns.push((
                s.frame,
                f.spi,
                s.src.to_string(),
                s.dst.to_string(),
                s.ack,
                s.mss,
            ));
        }
        if f.spi == 0x73518090 {
            assert_eq!(i.max_inner_len, 1400);
        }
    }
    syns.sort();
    assert_eq!(
        syns,
        vec![
            (
                9,
                0x73518090,
                "198.18.1.1:53909".to_string(),
                "198.18.2.1:80".to_string(),
                false,
                Some(1360)
            ),
            (
                10,
                0xaed13351,
                "198.18.2.1:80".to_string(),
                "198.18.1.1:53909".to_string(),
                true,
                Some(1360)
            ),
        ]
    );
    // Without keys: no inner facts, no ESP counters.
    let mut reader = CaptureReader::open(&corpus.join("lab/tcp_mss_too_large.pcap")).expect("open");
    let plain = ikediag::session::analyze_reader(&mut reader, DecodeConfig::default());
    assert!(plain.esp_flows.iter().all(|f| f.inner.is_none()));
    assert!(plain.decryption.is_none());
}

/// Throughput of `decrypt_esp` on the largest ESP packet of
/// tcp_mss_too_large (1452 ESP bytes, AES-CBC-128 + HMAC-SHA-256-128).
/// Run by hand: `cargo test --release --test esp -- --ignored --nocapture`.
#[test]
#[ignore]
fn esp_decrypt_throughput() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let lab = corpus.join("lab");
    let mut ks = KeyStore::new();
    ks.load_file(&lab.join("tcp_mss_too_large.esp_sa"))
        .expect("keys");
    let pkts = esp_packets(&lab.join("tcp_mss_too_large.pcap"));
    let (_, spi, src, dst, raw) = pkts.iter().max_by_key(|p| p.4.len()).expect("ESP");
    let key = ks.esp(*spi, *src, *dst).expect("key");
    let n = 100_000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        assert!(decrypt_esp(std::hint::black_box(raw), key).is_ok());
    }
    let s = t.elapsed().as_secs_f64();
    let mb = (n * raw.len()) as f64 / 1e6;
    eprintln!(
        "{n} x {} bytes: {s:.3} s, {:.0} MB/s, {:.2} us/packet",
        raw.len(),
        mb / s,
        s * 1e6 / n as f64
    );
}

/// In the session: a wrong key gives one line for its SA, a key for
/// another SPI is named as unused with the ESP that had no key.
#[test]
fn session_names_wrong_and_unused_esp_keys() {
    let Some(dir) = tcpdump() else { return };
    let pcap = dir.join("02-sunrise-sunset-esp.pcap");
    let run = |keys: &Path| {
        let mut reader = CaptureReader::open(&pcap).expect("open");
        let b = ikediag::session::KeySource::new(&[keys.to_path_buf()], false).builder_for(&pcap);
        ikediag::session::analyze_with(&mut reader, DecodeConfig::default(), b)
            .decryption
            .expect("keys")
    };
    // tcpdump's secrets: 0x12345678@192.1.2.45 has the key of another
    // capture (08-sunrise-sunset-esp2); the other two SAs match nothing.
    let d = run(&dir.join("esp-secrets.txt"));
    assert_eq!((d.esp_decrypted, d.esp_failed, d.esp_no_keys), (0, 8, 0));
    assert_eq!(
        d.esp_failures.len(),
        1,
        "one line per SA: {:?}",
        d.esp_failures
    );
    assert_eq!(d.esp_failures[0].0, 1);
    assert!(
        d.esp_failures[0].1.starts_with(
            "ESP SA 0x12345678 (192.1.2.23 -> 192.1.2.45): decrypted trailer is implausible"
        ),
        "{:?}",
        d.esp_failures
    );
    assert_eq!(d.esp_unused_keys.len(), 2, "{:?}", d.esp_unused_keys);
    assert!(d.esp_unused_keys[0].starts_with("ESP SA 0xabcdabcd (* -> 192.0.1.1): no ESP packet"));
    // Only a key for another SPI: nothing decrypted, the unkeyed flow named.
    let other = std::env::temp_dir().join(format!("ikediag-esp-other-{}.txt", std::process::id()));
    std::fs::write(
        &other,
        "0xabcdabcd@192.1.2.45 3des-cbc-hmac96:0x4043434545464649494a4a4c4c4f4f515152525454575758\n",
    )
    .expect("write");
    let d = run(&other);
    let _ = std::fs::remove_file(&other);
    assert_eq!((d.esp_decrypted, d.esp_failed, d.esp_no_keys), (0, 0, 8));
    assert_eq!(
        d.esp_unused_keys,
        vec![
            "ESP SA 0xabcdabcd (* -> 192.1.2.45): no ESP packet in the capture has this SPI and these \
             addresses; ESP without keys: 0x12345678 192.1.2.23 -> 192.1.2.45"
                .to_string()
        ]
    );
}
