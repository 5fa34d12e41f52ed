//! Tests of the capture reader over real captures from the shared corpus
//! (skipped with a message when `../shared` is absent) and over small
//! pcapng files built here on top of real packet bytes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    number: u64,
    ts_ns: i64,
    linktype: u32,
    orig_len: u32,
    data: Vec<u8>,
}

struct ReadAll {
    frames: Vec<Owned>,
    /// Stream offset after each frame.
    ends: Vec<u64>,
    err: Option<CaptureError>,
    numbered: u64,
    notes: Vec<String>,
}

fn drain(mut r: CaptureReader) -> ReadAll {
    let mut frames = Vec::new();
    let mut ends = Vec::new();
    let err = loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                frames.push(Owned {
                    number: f.number,
                    ts_ns: f.ts_ns,
                    linktype: f.linktype,
                    orig_len: f.orig_len,
                    data: f.data.to_vec(),
                });
                ends.push(r.offset());
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    // After the end or an error, the reader stays finished.
    assert!(matches!(r.next_frame(), Ok(None)));
    ReadAll {
        frames,
        ends,
        err,
        numbered: r.frames_numbered(),
        notes: r.notes().to_vec(),
    }
}

fn read_bytes(name: &str, bytes: Vec<u8>) -> Result<ReadAll, CaptureError> {
    CaptureReader::from_read(PathBuf::from(name), Box::new(std::io::Cursor::new(bytes))).map(drain)
}

fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"));
    if p.join("corpus/public/MANIFEST.tsv").is_file() {
        Some(p)
    } else {
        crate::skip_note(&format!(
            "skipped: shared corpus not found at {}",
            p.display()
        ));
        None
    }
}

fn public(rel: &str) -> Option<PathBuf> {
    shared().map(|s| s.join("corpus/public").join(rel))
}

fn read_path(p: &Path) -> ReadAll {
    drain(CaptureReader::open(p).unwrap_or_else(|e| panic!("open {}: {e}", p.display())))
}

struct ManifestRow {
    path: String,
    format: String,
    packets: u64,
    capinfos: Option<u64>,
    status: String,
}

fn manifest(shared: &Path) -> Vec<ManifestRow> {
    let text = std::fs::read_to_string(shared.join("corpus/public/MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (c_path, c_format, c_packets, c_status) =
        (col("path"), col("format"), col("packets"), col("status"));
    let mut rows = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let format = f[c_format].to_string();
        if !format.starts_with("pcap") {
            continue;
        }
        // "8 (capinfos 5)" or "27"
        let packets_field = f[c_packets];
        let packets = packets_field
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let capinfos = packets_field
            .split("capinfos ")
            .nth(1)
            .map(|s| s.trim_end_matches(')').parse().unwrap());
        rows.push(ManifestRow {
            path: f[c_path].to_string(),
            format,
            packets,
            capinfos,
            status: f[c_status].to_string(),
        });
    }
    rows
}

#[test]
fn every_manifest_capture_has_tsharks_frame_count() {
    let Some(shared) = shared() else { return };
    let rows = manifest(&shared);
    assert!(rows.len() > 100, "manifest has {} capture rows", rows.len());
    for row in rows {
        let p = shared.join("corpus/public").join(&row.path);
        let r = CaptureReader::open(&p).unwrap_or_else(|e| panic!("{}: {e}", row.path));
        let want_format = if row.format.starts_with("pcapng") {
            CaptureFormat::PcapNg
        } else {
            CaptureFormat::Pcap
        };
        assert_eq!(r.format(), want_format, "{}", row.path);
        assert_eq!(r.compression(), Compression::None);
        let all = drain(r);
        assert_eq!(all.numbered, row.packets, "{}: frame numbers", row.path);
        // Wireshark-numbered non-packet records are not returned, so the
        // frames returned match capinfos where the two differ.
        let returned = row.capinfos.unwrap_or(row.packets);
        assert_eq!(all.frames.len() as u64, returned, "{}: frames", row.path);
        for (i, f) in all.frames.iter().enumerate() {
            assert!(f.number > i as u64);
        }
        let damaged = row.status.contains("cut-short") || row.status.contains("corrupt");
        match (&all.err, damaged) {
            (None, false) => {}
            (Some(e), true) => {
                let msg = e.to_string();
                assert!(msg.contains(&row.path), "{msg}");
                assert!(msg.contains(&format!("offset {}", e.offset())), "{msg}");
            }
            (e, _) => panic!("{}: status {} but error {e:?}", row.path, row.status),
        }
    }
}

#[test]
fn damaged_files_yield_frames_then_error_at_the_record() {
    let Some(dir) = public("") else { return };
    let cases = [
        // incl/orig swapped (version 2.0): 197 bytes of 524501, then 2 stray bytes.
        ("nDPI/fuzz-2021-10-13.pcap", 1, "truncated", 24 + 16 + 197),
        // Wireshark reads this one as the SS990417 variant (24-byte record
        // headers); the third header then claims a 16 MB packet.
        ("suricata-verify/bug-6875-01__fuzz.pcap", 2, "corrupt", 261),
        (
            "suricata-verify/bug-1450-04__tls_DER-incomplete-header.pcap",
            6,
            "corrupt",
            5035,
        ),
    ];
    for (rel, frames, kind, offset) in cases {
        let p = dir.join(rel);
        let all = read_path(&p);
        assert_eq!(all.frames.len(), frames, "{rel}");
        let e = all.err.unwrap_or_else(|| panic!("{rel}: no error"));
        match (&e, kind) {
            (CaptureError::Truncated { .. }, "truncated")
            | (CaptureError::Corrupt { .. }, "corrupt") => {}
            _ => panic!("{rel}: unexpected {e:?}"),
        }
        assert_eq!(e.offset(), offset, "{rel}: {e}");
        assert!(e.to_string().contains(&p.display().to_string()));
        assert_eq!(e.path(), p);
    }
    // The fuzzed file's single frame: nanosecond magic, lengths swapped.
    let all = read_path(&dir.join("nDPI/fuzz-2021-10-13.pcap"));
    let f = &all.frames[0];
    assert_eq!(
        (f.data.len(), f.orig_len, f.linktype),
        (197, 524_501, linktype::NULL)
    );
    assert_eq!(f.ts_ns, 980_658_802 * 1_000_000_000 + 1_882_137_472);
}

#[test]
fn pcapng_variants_from_the_corpus() {
    let Some(dir) = public("") else { return };
    // Big-endian, one section.
    let all = read_path(&dir.join("pcap-parser/test001-be.pcapng"));
    assert_eq!(all.frames.len(), 4);
    assert!(all.frames.iter().all(|f| f.linktype == linktype::ETHERNET));
    let le = read_path(&dir.join("pcap-parser/test016-le.pcapng"));
    assert_eq!(le.frames.len(), 4);

    // Big-endian, three sections, SPB with the interface snaplen.
    let all = read_path(&dir.join("pcapng-test-generator/output_be__difficult__test201.pcapng"));
    assert!(all.err.is_none());
    assert_eq!(all.frames.len(), 4);
    // Three sections each resetting interfaces; custom blocks numbered.
    let all = read_path(&dir.join("pcapng-test-generator/output_le__difficult__test202.pcapng"));
    assert_eq!((all.frames.len(), all.numbered), (8, 11));
    let numbers: Vec<u64> = all.frames.iter().map(|f| f.number).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert!(
        all.notes.iter().any(|n| n.contains("non-packet record")),
        "{:?}",
        all.notes
    );
    // Sections of only headers: no frames, no error.
    let all = read_path(&dir.join("pcapng-test-generator/output_le__difficult__test200.pcapng"));
    assert!(all.err.is_none() && all.frames.is_empty());

    // Eleven interfaces with mixed link types.
    let all = read_path(&dir.join("PcapPlusPlus/many_interfaces-1.pcapng"));
    assert_eq!(all.frames.len(), 64);
    let mut kinds: Vec<u32> = all.frames.iter().map(|f| f.linktype).collect();
    kinds.sort();
    kinds.dedup();
    // Packets only on interface 0 (Ethernet) and 10 (BSD loopback); the raw-IP
    // interfaces carry none.
    assert_eq!(kinds, vec![linktype::NULL, linktype::ETHERNET]);
    let all = read_path(&dir.join("PcapPlusPlus/too_many_interfaces.pcapng"));
    assert_eq!(all.frames.len(), 1);

    // pcapng content behind a .pcap name.
    let r = CaptureReader::open(&dir.join("joy/ikev1.pcap")).unwrap();
    assert_eq!(r.format(), CaptureFormat::PcapNg);
    assert_eq!(drain(r).frames.len(), 27);
}

#[test]
fn modified_magic_pcap() {
    let Some(p) = public("pcap-parser/modified-format.pcap") else {
        return;
    };
    let r = CaptureReader::open(&p).unwrap();
    assert_eq!(r.format(), CaptureFormat::Pcap);
    let all = drain(r);
    assert!(all.err.is_none());
    assert_eq!(all.frames.len(), 1);
    let f = &all.frames[0];
    assert_eq!((f.data.len(), f.orig_len), (98, 98));
    assert_eq!(f.ts_ns, 1_712_763_541_734_807_000);
    // Data starts after the 24-byte record header: an Ethernet frame whose
    // EtherType sits at bytes 12..14.
    let bytes = std::fs::read(&p).unwrap();
    assert_eq!(f.data, bytes[24 + 24..24 + 24 + 98]);
}

/// Parses tshark's `time_epoch` ("1343054404.119051000") into nanoseconds.
fn epoch_ns(s: &str) -> i64 {
    let (sec, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut frac = frac.to_string();
    while frac.len() < 9 {
        frac.push('0');
    }
    sec.parse::<i64>().unwrap() * 1_000_000_000 + frac[..9].parse::<i64>().unwrap()
}

#[test]
fn first_ike_frame_time_matches_tshark_for_every_expected_file() {
    let Some(shared) = shared() else { return };
    let expected = shared.join("corpus/public/expected");
    let mut checked = 0;
    for source in std::fs::read_dir(&expected).unwrap() {
        let source = source.unwrap().path();
        for tsv in std::fs::read_dir(&source).unwrap() {
            let tsv = tsv.unwrap().path();
            let text = std::fs::read_to_string(&tsv).unwrap();
            let Some(row) = text.lines().nth(1) else {
                continue;
            };
            let cols: Vec<&str> = row.split('\t').collect();
            let number: u64 = cols[0].parse().unwrap();
            let want = epoch_ns(cols[1]);
            let name = tsv
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .trim_end_matches(".tsv");
            let capture = shared
                .join("corpus/public")
                .join(source.file_name().unwrap())
                .join(name);
            let all = read_path(&capture);
            let f = all
                .frames
                .iter()
                .find(|f| f.number == number)
                .unwrap_or_else(|| panic!("{}: no frame {number}", capture.display()));
            assert_eq!(f.ts_ns, want, "{} frame {number}", capture.display());
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} files checked");
}

#[test]
fn lab_captures_read_cleanly() {
    let Some(shared) = shared() else { return };
    let mut n = 0;
    for e in std::fs::read_dir(shared.join("corpus/lab")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) != Some("pcap") {
            continue;
        }
        let all = read_path(&p);
        assert!(all.err.is_none(), "{}: {:?}", p.display(), all.err);
        assert!(!all.frames.is_empty(), "{}", p.display());
        n += 1;
    }
    assert!(n >= 49, "only {n} lab captures");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zstd_frame(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

#[test]
fn gzip_and_zstd_give_identical_frames() {
    for rel in ["zeek-spicy-ipsec/ipsec.cap", "scapy/ikev2_nat_t.pcapng"] {
        let Some(p) = public(rel) else { return };
        let plain = std::fs::read(&p).unwrap();
        let want = read_bytes(rel, plain.clone()).unwrap();
        assert!(want.err.is_none() && !want.frames.is_empty());
        let cut = plain.len() / 2 + 3; // mid-record on purpose
        let mut two_members = gzip(&plain[..cut]);
        two_members.extend(gzip(&plain[cut..]));
        let mut two_frames = zstd_frame(&plain[..cut]);
        two_frames.extend(zstd_frame(&plain[cut..]));
        for (label, bytes, comp) in [
            ("gzip", gzip(&plain), Compression::Gzip),
            ("gzip x2", two_members, Compression::Gzip),
            ("zstd", zstd_frame(&plain), Compression::Zstd),
            ("zstd x2", two_frames, Compression::Zstd),
        ] {
            let r = CaptureReader::from_read(rel.into(), Box::new(std::io::Cursor::new(bytes)))
                .unwrap();
            assert_eq!(r.compression(), comp, "{label}");
            let got = drain(r);
            assert!(got.err.is_none(), "{rel} {label}: {:?}", got.err);
            assert_eq!(got.frames, want.frames, "{rel} {label}");
        }
    }
}

#[test]
fn cut_compressed_streams_are_truncated_after_the_frames_before() {
    // Large enough for several zstd blocks, so a cut one still decodes a part.
    let Some(p) = public("nDPI/ipsec_isakmp_esp.pcap") else {
        return;
    };
    let plain = std::fs::read(&p).unwrap();
    let full = read_bytes("x", plain.clone()).unwrap();
    for (label, mut bytes) in [("gzip", gzip(&plain)), ("zstd", zstd_frame(&plain))] {
        bytes.truncate(bytes.len() * 2 / 3);
        let got = read_bytes("cut.gz", bytes).unwrap();
        let e = got.err.unwrap_or_else(|| panic!("{label}: no error"));
        assert!(
            matches!(
                e,
                CaptureError::Truncated { .. } | CaptureError::Corrupt { .. }
            ),
            "{label}: {e:?}"
        );
        assert!(!got.frames.is_empty() && got.frames.len() < full.frames.len());
        assert_eq!(got.frames[..], full.frames[..got.frames.len()], "{label}");
        // The error names the first record not returned.
        assert_eq!(e.offset(), got.ends[got.ends.len() - 1], "{label}: {e}");
    }
}

/// Cutting a capture anywhere gives the frames wholly before the cut, then
/// `Truncated` at the start of the record the cut falls in.
fn check_cuts(rel: &str, header_end: u64) {
    let Some(p) = public(rel) else { return };
    let bytes = std::fs::read(&p).unwrap();
    let full = read_bytes(rel, bytes.clone()).unwrap();
    assert!(full.err.is_none());
    let mut cuts: Vec<u64> = vec![header_end, header_end + 1, bytes.len() as u64 - 1];
    for (i, &end) in full.ends.iter().enumerate().step_by(3) {
        cuts.extend([end, end + 1, end + 15, end + 17, end + 60 + i as u64]);
    }
    for cut in cuts {
        if cut >= bytes.len() as u64 {
            continue;
        }
        let got = read_bytes(rel, bytes[..cut as usize].to_vec()).unwrap();
        let before = full.ends.iter().filter(|&&e| e <= cut).count();
        assert_eq!(got.frames[..], full.frames[..before], "{rel} cut at {cut}");
        let record_start = if before == 0 {
            header_end
        } else {
            full.ends[before - 1]
        };
        if cut == record_start {
            assert!(got.err.is_none(), "{rel} cut at {cut}: {:?}", got.err);
        } else {
            match got.err {
                Some(CaptureError::Truncated { offset, .. }) => {
                    assert_eq!(offset, record_start, "{rel} cut at {cut}")
                }
                e => panic!("{rel} cut at {cut}: {e:?}"),
            }
        }
    }
}

#[test]
fn truncated_pcap_at_many_offsets() {
    check_cuts("tcpdump/isakmp4500.pcap", 24);
}

#[test]
fn truncated_pcapng_at_many_offsets() {
    // joy/ikev1.pcap: SHB (52) + IDB (20), then only EPBs.
    check_cuts("joy/ikev1.pcap", 72);
}

#[test]
fn truncated_headers() {
    let Some(p) = public("tcpdump/isakmp4500.pcap") else {
        return;
    };
    let bytes = std::fs::read(&p).unwrap();
    for cut in [0, 1, 3] {
        let e = read_bytes("short", bytes[..cut].to_vec()).err().unwrap();
        assert!(
            matches!(e, CaptureError::NotACapture { .. }),
            "{cut}: {e:?}"
        );
    }
    for cut in [4, 10, 23] {
        let e = read_bytes("short", bytes[..cut].to_vec()).err().unwrap();
        assert!(
            matches!(e, CaptureError::Truncated { offset: 0, .. }),
            "{cut}: {e:?}"
        );
    }
    let e = read_bytes("text", b"hello world".to_vec()).err().unwrap();
    assert!(e.to_string().contains("68 65 6c 6c"), "{e}");
}

/// Serves at most `step` bytes per read call.
struct Dribble {
    data: Vec<u8>,
    at: usize,
    step: usize,
}
impl Read for Dribble {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.data[self.at..];
        let k = rest.len().min(out.len()).min(self.step);
        out[..k].copy_from_slice(&rest[..k]);
        self.at += k;
        Ok(k)
    }
}

#[test]
fn tiny_buffers_and_short_reads_give_the_same_frames() {
    for rel in [
        "nDPI/ipsec_isakmp_esp.pcap",
        "PcapPlusPlus/many_interfaces-1.pcapng",
    ] {
        let Some(p) = public(rel) else { return };
        let bytes = std::fs::read(&p).unwrap();
        let want = read_bytes(rel, bytes.clone()).unwrap();
        for (cap, step) in [(64, 1 << 20), (64, 7), (4096, 1), (1 << 20, 1000)] {
            let src = Dribble {
                data: bytes.clone(),
                at: 0,
                step,
            };
            let r = CaptureReader::with_capacity(rel.into(), Box::new(src), cap).unwrap();
            let got = drain(r);
            assert!(got.err.is_none());
            assert_eq!(got.frames, want.frames, "{rel} cap {cap} step {step}");
            assert_eq!(got.ends, want.ends);
        }
    }
}

/// Rewrites a little-endian standard pcap as big-endian (header and record
/// headers), optionally with the modified magic and 24-byte record headers.
fn to_big_endian(le: &[u8], modified: bool) -> Vec<u8> {
    let u32le = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let mut out = Vec::new();
    let magic: u32 = if modified { 0xa1b2_cd34 } else { 0xa1b2_c3d4 };
    out.extend(magic.to_be_bytes());
    out.extend(u16::from_le_bytes([le[4], le[5]]).to_be_bytes());
    out.extend(u16::from_le_bytes([le[6], le[7]]).to_be_bytes());
    for at in [8, 12, 16, 20] {
        out.extend(u32le(le, at).to_be_bytes());
    }
    let mut at = 24;
    while at + 16 <= le.len() {
        let incl = u32le(le, at + 8) as usize;
        for k in 0..4 {
            out.extend(u32le(le, at + 4 * k).to_be_bytes());
        }
        if modified {
            out.extend([0, 0, 0, 2, 0x08, 0x00, 0, 0]);
        }
        out.extend(&le[at + 16..at + 16 + incl]);
        at += 16 + incl;
    }
    out
}

#[test]
fn big_endian_and_modified_pcap_match_the_little_endian_original() {
    let Some(p) = public("zeek-spicy-ipsec/ipsec.cap") else {
        return;
    };
    let le = std::fs::read(&p).unwrap();
    let want = read_bytes("le", le.clone()).unwrap();
    for modified in [false, true] {
        let got = read_bytes("be", to_big_endian(&le, modified)).unwrap();
        assert!(got.err.is_none(), "{:?}", got.err);
        assert_eq!(got.frames, want.frames, "modified={modified}");
    }
}

// ---- synthetic pcapng on top of real packet bytes ----

struct NgBuilder {
    be: bool,
    out: Vec<u8>,
}

impl NgBuilder {
    fn new(be: bool) -> Self {
        let mut b = NgBuilder {
            be,
            out: Vec::new(),
        };
        b.shb();
        b
    }
    fn u16(&self, v: u16) -> [u8; 2] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn u32(&self, v: u32) -> [u8; 4] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn block(&mut self, t: u32, body: &[u8]) {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let total = 12 + body.len() as u32;
        let (a, b) = (self.u32(t), self.u32(total));
        self.out.extend(a);
        self.out.extend(b);
        self.out.extend(body);
        self.out.extend(self.u32(total));
    }
    fn shb(&mut self) {
        let mut body = Vec::new();
        body.extend(self.u32(0x1a2b_3c4d));
        body.extend(self.u16(1));
        body.extend(self.u16(0));
        body.extend([0xff; 8]); // section length -1
        self.block(0x0a0d_0d0a, &body);
    }
    fn option(&self, body: &mut Vec<u8>, code: u16, value: &[u8]) {
        body.extend(self.u16(code));
        body.extend(self.u16(value.len() as u16));
        body.extend(value);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
    }
    fn idb(&mut self, linktype: u16, snaplen: u32, tsresol: Option<u8>, tsoffset: Option<i64>) {
        let mut body = Vec::new();
        body.extend(self.u16(linktype));
        body.extend(self.u16(0));
        body.extend(self.u32(snaplen));
        if let Some(r) = tsresol {
            self.option(&mut body, 9, &[r]);
        }
        if let Some(o) = tsoffset {
            let v = if self.be {
                o.to_be_bytes()
            } else {
                o.to_le_bytes()
            };
            self.option(&mut body, 14, &v);
        }
        if tsresol.is_some() || tsoffset.is_some() {
            self.option(&mut body, 0, &[]);
        }
        self.block(1, &body);
    }
    fn epb_like(&mut self, t: u32, first_word: [u8; 4], ts: u64, data: &[u8], orig: u32) {
        let mut body = first_word.to_vec();
        body.extend(self.u32((ts >> 32) as u32));
        body.extend(self.u32(ts as u32));
        body.extend(self.u32(data.len() as u32));
        body.extend(self.u32(orig));
        body.extend(data);
        self.block(t, &body);
    }
    fn epb(&mut self, if_id: u32, ts: u64, data: &[u8]) {
        let w = self.u32(if_id);
        self.epb_like(6, w, ts, data, data.len() as u32);
    }
    fn obsolete_pb(&mut self, if_id: u16, drops: u16, ts: u64, data: &[u8]) {
        let mut w = [0u8; 4];
        w[..2].copy_from_slice(&self.u16(if_id));
        w[2..].copy_from_slice(&self.u16(drops));
        self.epb_like(2, w, ts, data, data.len() as u32 + 10);
    }
    fn spb(&mut self, orig: u32, data: &[u8]) {
        let mut body = self.u32(orig).to_vec();
        body.extend(data);
        self.block(3, &body);
    }
}

/// A real IKE frame (Ethernet) from the corpus, or a fixed stand-in.
fn real_packet() -> Vec<u8> {
    public("zeek-spicy-ipsec/ipsec.cap")
        .filter(|p| p.is_file())
        .and_then(|p| read_path(&p).frames.into_iter().next())
        .map(|f| f.data)
        .unwrap_or_else(|| (0..90u8).collect())
}

#[test]
fn synthetic_pcapng_tsresol_obsolete_block_and_sections() {
    let pkt = real_packet();
    for be in [false, true] {
        let mut b = NgBuilder::new(be);
        b.idb(1, 0, Some(0x80 | 20), Some(100)); // 2^-20 s units, +100 s
        b.idb(101, 0, Some(9), None); // nanoseconds, raw IP
        b.idb(0, 64, None, None); // microseconds by default, snaplen 64
        b.epb(0, (3 << 20) | (1 << 19), &pkt); // 3.5 s
        b.obsolete_pb(1, 7, 1_234_567_891, &pkt[14..]);
        b.block(0x0BAD, &[0, 0, 0x7f, 0xff, 1, 2, 3, 4]); // custom: numbered
        b.epb(2, 5_000_001, &pkt);
        b.block(0x7777, &[1, 2, 3, 4]); // unknown
        b.epb(9, 0, &pkt); // undeclared interface
        b.shb(); // new section: interfaces reset
        b.idb(1, 40, Some(3), None);
        b.spb(pkt.len() as u32, &pkt); // captured = min(orig, block, snaplen 40)
        b.epb(1, 0, &pkt); // interface 1 no longer exists
        let all = read_bytes("synthetic.pcapng", b.out).unwrap();
        assert!(all.err.is_none(), "{:?}", all.err);
        let got: Vec<(u64, i64, u32, usize, u32)> = all
            .frames
            .iter()
            .map(|f| (f.number, f.ts_ns, f.linktype, f.data.len(), f.orig_len))
            .collect();
        let n = pkt.len();
        assert_eq!(
            got,
            vec![
                (1, 103_500_000_000, 1, n, n as u32),
                (2, 1_234_567_891, 101, n - 14, n as u32 - 14 + 10),
                (4, 5_000_001_000, 0, n, n as u32),
                (6, 0, 1, 40, n as u32),
            ],
            "be={be}"
        );
        assert_eq!(all.frames[0].data, pkt);
        assert_eq!(all.frames[1].data, pkt[14..]);
        assert_eq!(all.frames[3].data, pkt[..40]);
        assert_eq!(all.numbered, 7);
        let notes = all.notes.join("\n");
        assert!(
            notes.contains("undeclared interface 9 at offset"),
            "{notes}"
        );
        assert!(notes.contains("undeclared interface 1"), "{notes}");
        assert!(
            notes.contains("unknown pcapng block(s) of type 0x00007777"),
            "{notes}"
        );
        assert!(
            notes.contains("interface 2 of section 1 has no if_tsresol"),
            "{notes}"
        );
    }
}

#[test]
fn synthetic_pcapng_damage() {
    let pkt = real_packet();
    let base = || {
        let mut b = NgBuilder::new(false);
        b.idb(1, 0, None, None);
        b.epb(0, 1, &pkt);
        b
    };
    let good_len = base().out.len() as u64;

    // Trailing length differs.
    let mut b = base();
    let at = b.out.len();
    b.epb(0, 2, &pkt);
    let last = b.out.len() - 4;
    b.out[last] ^= 0x40;
    let all = read_bytes("t.pcapng", b.out).unwrap();
    assert_eq!(all.frames.len(), 1);
    assert!(
        matches!(all.err, Some(CaptureError::Corrupt { offset, .. }) if offset == at as u64),
        "{:?}",
        all.err
    );

    // Total length below 12.
    let mut b = base();
    b.out.extend(6u32.to_le_bytes());
    b.out.extend(8u32.to_le_bytes());
    b.out.extend(8u32.to_le_bytes());
    let all = read_bytes("t.pcapng", b.out).unwrap();
    assert!(matches!(all.err, Some(CaptureError::Corrupt { offset, .. }) if offset == good_len));

    // Captured length larger than the block.
    let mut b = base();
    b.epb_like(6, [0; 4], 0, &pkt, 5);
    let caplen_at = good_len as usize + 8 + 12;
    b.out[caplen_at..caplen_at + 4].copy_from_slice(&10_000u32.to_le_bytes());
    let all = read_bytes("t.pcapng", b.out).unwrap();
    assert!(matches!(all.err, Some(CaptureError::Corrupt { offset, .. }) if offset == good_len));

    // Huge block length: corrupt, not an allocation.
    let mut b = base();
    b.out.extend(6u32.to_le_bytes());
    b.out.extend(0xffff_fff0u32.to_le_bytes());
    b.out.extend([0; 32]);
    let all = read_bytes("t.pcapng", b.out).unwrap();
    assert!(matches!(all.err, Some(CaptureError::Corrupt { .. })));

    // Bad byte-order magic in a later section.
    let mut b = base();
    let at = b.out.len();
    b.shb();
    b.out[at + 8..at + 12].copy_from_slice(&[1, 2, 3, 4]);
    let all = read_bytes("t.pcapng", b.out).unwrap();
    assert_eq!(all.frames.len(), 1);
    assert!(matches!(all.err, Some(CaptureError::Corrupt { .. })));

    // A total length that is not a multiple of 4 is accepted.
    let mut b = base();
    let mut body = 0u32.to_le_bytes().to_vec();
    body.extend([0; 16]);
    body.extend([0xaa, 0xbb, 0xcc]);
    // EPB with caplen 3 and a block total of 8 + 23 + 4 = 35.
    body[12..16].copy_from_slice(&3u32.to_le_bytes());
    body[16..20].copy_from_slice(&3u32.to_le_bytes());
    b.out.extend(6u32.to_le_bytes());
    b.out.extend(35u32.to_le_bytes());
    b.out.extend(&body);
    b.out.extend(35u32.to_le_bytes());
    let all = read_bytes("t.pcapng", b.out).unwrap();
    assert!(all.err.is_none(), "{:?}", all.err);
    assert_eq!(all.frames.len(), 2);
    assert_eq!(all.frames[1].data, [0xaa, 0xbb, 0xcc]);
}

/// Deterministic byte flips and cuts over real captures: never a panic,
/// and the reader always terminates.
#[test]
fn mutated_captures_never_panic() {
    let Some(dir) = public("") else { return };
    let files = [
        "zeek-spicy-ipsec/ipsec.cap",
        "PcapPlusPlus/many_interfaces-1.pcapng",
        "pcapng-test-generator/output_be__difficult__test201.pcapng",
        "pcap-parser/modified-format.pcap",
        "nDPI/fuzz-2021-10-13.pcap",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for rel in files {
        let bytes = std::fs::read(dir.join(rel)).unwrap();
        for _ in 0..300 {
            let mut m = bytes.clone();
            for _ in 0..(1 + next() % 4) {
                let i = (next() % m.len() as u64) as usize;
                m[i] = next() as u8;
            }
            if next() % 4 == 0 {
                let cut = (next() % m.len() as u64) as usize;
                m.truncate(cut);
            }
            if let Ok(all) = read_bytes(rel, m)
                && let Some(e) = all.err
            {
                assert!(e.to_string().contains(rel));
            }
        }
    }
}
