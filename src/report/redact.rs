//! `--redact`: consistent pseudonymisation of what identifies a customer.
//!
//! Contract: every IP address in the report (in any field or sentence) is
//! replaced by one from the documentation ranges, prefix-preserving within
//! the capture: each IPv4 /24 maps to its own documentation /24 (RFC 5737:
//! 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, then the RFC 2544
//! benchmarking range 198.18.0.0/15) keeping the host octet, and each IPv6
//! /64 to its own 2001:db8:x::/64 (RFC 3849) keeping the interface ID. A
//! prefix never maps to itself. The capture's file name becomes
//! `capture.<ext>`. SPIs, sizes, ports and frame numbers stay, so a vendor
//! can still reason about the report. What decryption reveals is
//! pseudonymised the same way, consistently across every field and
//! sentence: identities (`host-N.example`, `user-N@example.net`,
//! `name-N`), each value of a certificate's subject and issuer except the
//! country, subjectAltName entries, certificate serial numbers
//! (`redacted`) and the CA key hashes of certificate requests (`ca-key-N`);
//! traffic selectors, configuration attributes and the addresses of the
//! NAT detection search (the initiator's private address recovered from
//! its hash, and the address it was seen with) go through the address
//! mapping.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::Report;

/// The replacement /24s, in the order they are handed out.
fn v4_pool() -> impl Iterator<Item = [u8; 3]> {
    [[192, 0, 2], [198, 51, 100], [203, 0, 113]]
        .into_iter()
        .chain((0u16..512).map(|i| [198, 18 + (i >> 8) as u8, (i & 0xff) as u8]))
}

/// Consistent address mapping for one report.
#[derive(Default)]
pub struct Redactor {
    v4: BTreeMap<[u8; 3], [u8; 3]>,
    v6: BTreeMap<[u16; 4], [u16; 4]>,
    /// Prefixes present in the input: never used as replacements, so a
    /// replacement can never be mistaken for (or equal) an original.
    seen4: std::collections::BTreeSet<[u8; 3]>,
    seen6: std::collections::BTreeSet<[u16; 4]>,
    file: Option<(String, String)>,
    /// Names revealed by decryption and their pseudonyms, longest first.
    names: Vec<(String, String)>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn v4(&mut self, a: Ipv4Addr) -> Ipv4Addr {
        let o = a.octets();
        let key = [o[0], o[1], o[2]];
        let used: Vec<[u8; 3]> = self.v4.values().copied().collect();
        let seen = &self.seen4;
        let p = *self.v4.entry(key).or_insert_with(|| {
            v4_pool()
                .find(|c| *c != key && !used.contains(c) && !seen.contains(c))
                .unwrap_or([198, 19, 255])
        });
        Ipv4Addr::new(p[0], p[1], p[2], o[3])
    }

    pub fn v6(&mut self, a: Ipv6Addr) -> Ipv6Addr {
        let s = a.segments();
        let key = [s[0], s[1], s[2], s[3]];
        let used: Vec<[u16; 4]> = self.v6.values().copied().collect();
        let seen = &self.seen6;
        let p = *self.v6.entry(key).or_insert_with(|| {
            (0x100u16..)
                .map(|x| [0x2001, 0x0db8, x, 0])
                .find(|c| *c != key && !used.contains(c) && !seen.contains(c))
                .unwrap_or([0x2001, 0x0db8, 0xffff, 0])
        });
        Ipv6Addr::new(p[0], p[1], p[2], p[3], s[4], s[5], s[6], s[7])
    }

    pub fn addr(&mut self, a: IpAddr) -> IpAddr {
        match a {
            IpAddr::V4(v) => IpAddr::V4(self.v4(v)),
            IpAddr::V6(v) => IpAddr::V6(self.v6(v)),
        }
    }

    /// Replaces every IP address in a sentence (also `a.b.c.d:port` and
    /// `[v6]:port`), and the capture's file name.
    pub fn text(&mut self, s: &str) -> String {
        let mut s = s.to_string();
        if let Some((from, to)) = &self.file
            && !from.is_empty()
        {
            s = s.replace(from.as_str(), to);
        }
        for (from, to) in &self.names {
            s = replace_word(&s, from, to);
        }
        let mut out = String::with_capacity(s.len());
        let bytes: Vec<char> = s.chars().collect();
        let mut i = 0;
        let is_tok = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
        while i < bytes.len() {
            if !is_tok(bytes[i])
                || (i > 0 && (bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_'))
            {
                out.push(bytes[i]);
                i += 1;
                continue;
            }
            let mut j = i;
            while j < bytes.len() && is_tok(bytes[j]) {
                j += 1;
            }
            let tok: String = bytes[i..j].iter().collect();
            out.push_str(&self.token(&tok));
            i = j;
        }
        out
    }

    fn token(&mut self, tok: &str) -> String {
        let trimmed = tok.trim_end_matches(['.', ':']);
        let tail = &tok[trimmed.len()..];
        if let Ok(a) = trimmed.parse::<IpAddr>() {
            return format!("{}{tail}", self.addr(a));
        }
        // a.b.c.d:port
        if let Some((host, port)) = trimmed.rsplit_once(':')
            && let Ok(a) = host.parse::<Ipv4Addr>()
        {
            return format!("{}:{port}{tail}", self.v4(a));
        }
        tok.to_string()
    }

    /// Notes the prefixes of every address in a text (the pre-pass).
    fn reserve(&mut self, s: &str) {
        for tok in s.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':')) {
            let t = tok.trim_end_matches(['.', ':']);
            let host = t
                .rsplit_once(':')
                .filter(|(h, _)| h.contains('.'))
                .map_or(t, |(h, _)| h);
            match host.parse::<IpAddr>() {
                Ok(IpAddr::V4(a)) => {
                    let o = a.octets();
                    self.seen4.insert([o[0], o[1], o[2]]);
                }
                Ok(IpAddr::V6(a)) => {
                    let s = a.segments();
                    self.seen6.insert([s[0], s[1], s[2], s[3]]);
                }
                Err(_) => {}
            }
        }
    }

    /// Gathers the names decryption revealed and gives each a pseudonym.
    fn collect_names(&mut self, r: &Report) {
        let mut found: Vec<(String, &'static str)> = Vec::new();
        let mut add = |v: &str, kind: &'static str| {
            let v = v.trim();
            if v.len() >= 3 && v.parse::<IpAddr>().is_err() && !found.iter().any(|(f, _)| f == v) {
                found.push((v.to_string(), kind));
            }
        };
        let kind_of = |v: &str| {
            if v.contains('@') {
                "user"
            } else if v.contains('.') && !v.contains(' ') {
                "host"
            } else {
                "name"
            }
        };
        for sa in &r.sas {
            let Some(p) = &sa.peers else { continue };
            for side in [&p.initiator, &p.responder] {
                for id in &side.identities {
                    // A distinguished name: its values one by one, and the
                    // whole string (values may hold ", "); any other kind
                    // (FQDN, USER_FQDN, key ID, a DN shown as hex) whole.
                    if id.kind == "ID_DER_ASN1_DN" && dn_complete(&id.value) {
                        for v in dn_values(&id.value) {
                            add(v, kind_of(v));
                        }
                    } else {
                        add(&id.value, kind_of(&id.value));
                    }
                }
                for c in &side.certificates {
                    for dn in [&c.cert.subject, &c.cert.issuer] {
                        if dn_complete(dn) {
                            for v in dn_values(dn) {
                                add(v, kind_of(v));
                            }
                        } else {
                            add(dn, "name");
                        }
                    }
                    for n in &c.cert.subject_alt_names {
                        if let Some((_, v)) = n.split_once(':') {
                            add(v, kind_of(v));
                        }
                    }
                }
                for h in &side.cert_requests {
                    if h.len() == 40 && h.chars().all(|c| c.is_ascii_hexdigit()) {
                        add(h, "ca-key");
                    }
                }
            }
        }
        let mut counters: BTreeMap<&'static str, usize> = BTreeMap::new();
        for (v, kind) in found {
            let n = counters.entry(kind).or_insert(0);
            *n += 1;
            let to = match kind {
                "user" => format!("user-{n}@example.net"),
                "host" => format!("host-{n}.example"),
                "ca-key" => format!("ca-key-{n}"),
                _ => format!("name-{n}"),
            };
            self.names.push((v, to));
        }
        self.names
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    }

    /// Redacts a whole report in place.
    pub fn report(&mut self, r: &mut Report) {
        // Pre-pass: every prefix present is excluded from the replacements.
        if let Ok(all) = serde_json::to_string(&*r) {
            self.reserve(&all);
        }
        let ext = std::path::Path::new(&r.file)
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        self.file = Some((r.file.clone(), format!("capture{ext}")));
        r.file = format!("capture{ext}");
        if let Some(e) = &r.capture.read_error {
            r.capture.read_error = Some(self.text(e));
        }
        for t in &mut r.capture.tunnels {
            t.outer_src = self.addr(t.outer_src);
            t.outer_dst = self.addr(t.outer_dst);
        }
        if let Some(d) = &mut r.decryption {
            // Key file names carry the capture's name; the keys' lines
            // (in key_errors) may carry key material: both go.
            for (i, k) in d.key_files.iter_mut().enumerate() {
                let ext = std::path::Path::new(&k.path)
                    .extension()
                    .map(|e| format!(".{}", e.to_string_lossy()))
                    .unwrap_or_default();
                k.path = format!("keys-{}{ext}", i + 1);
            }
            let n = d.key_errors.len();
            d.key_errors = (1..=n).map(|i| format!("key line {i}: redacted")).collect();
            for (_, why) in &mut d.failures {
                *why = self.text(why);
            }
        }
        self.collect_names(r);
        for sa in &mut r.sas {
            if let Some(p) = &mut sa.peers {
                for side in [&mut p.initiator, &mut p.responder] {
                    for id in &mut side.identities {
                        id.value = self.text(&id.value);
                    }
                    for c in &mut side.certificates {
                        let x = &mut c.cert;
                        x.subject = self.text(&x.subject);
                        x.issuer = self.text(&x.issuer);
                        if !x.serial.is_empty() {
                            x.serial = "redacted".into();
                        }
                        x.subject_alt_names =
                            x.subject_alt_names.iter().map(|n| self.text(n)).collect();
                    }
                    side.cert_requests = side.cert_requests.iter().map(|n| self.text(n)).collect();
                    side.config = side.config.iter().map(|n| self.text(n)).collect();
                }
            }
            for c in &mut sa.child_sas {
                for v in [
                    &mut c.ts_i_proposed,
                    &mut c.ts_r_proposed,
                    &mut c.ts_i_chosen,
                    &mut c.ts_r_chosen,
                ] {
                    *v = v.iter().map(|t| self.text(t)).collect();
                }
            }
        }
        r.verdict.summary = self.text(&r.verdict.summary);
        r.verdict.summary_ja = self.text(&r.verdict.summary_ja);
        for f in &mut r.findings {
            f.message = self.text(&f.message);
            f.message_ja = self.text(&f.message_ja);
            f.vantage.reading = self.text(&f.vantage.reading);
            f.vantage.reading_ja = self.text(&f.vantage.reading_ja);
            for step in &mut f.fix {
                step.commands = step.commands.iter().map(|c| self.text(c)).collect();
            }
        }
        for sa in &mut r.sas {
            if let Some(s) = &mut sa.nat.initiator_source_search {
                s.seen.addr = self.addr(s.seen.addr);
                if let Some(f) = &mut s.found {
                    f.addr = self.addr(f.addr);
                }
            }
            sa.initiator = self.text(&sa.initiator);
            sa.responder = self.text(&sa.responder);
            sa.summary = self.text(&sa.summary);
            sa.summary_ja = self.text(&sa.summary_ja);
            for e in &mut sa.ladder {
                e.label = self.text(&e.label);
            }
        }
        if let Some(p) = &mut r.path_mtu {
            p.src = p.src.map(|a| self.addr(a));
            p.dst = p.dst.map(|a| self.addr(a));
            p.evidence = p.evidence.iter().map(|e| self.text(e)).collect();
            p.evidence_ja = p.evidence_ja.iter().map(|e| self.text(e)).collect();
        }
    }
}

/// The values of a distinguished name (`C=XX, O=Org, CN=host`), except
/// the country.
fn dn_values(dn: &str) -> Vec<&str> {
    dn.split(", ")
        .filter_map(|part| part.split_once('='))
        .filter(|(k, _)| *k != "C")
        .map(|(_, v)| v)
        .collect()
}

/// Whether every ", "-separated part of a DN is `key=value` (x509-parser
/// does not escape a ", " inside a value; such a DN is redacted whole).
fn dn_complete(dn: &str) -> bool {
    !dn.is_empty()
        && dn
            .split(", ")
            .all(|p| p.contains('=') && !p.contains(" + "))
}

/// Replaces `from` where it stands as a whole word (not inside a longer
/// name: the characters around it are not alphanumeric, `-`, `_` or `.`
/// followed by a letter).
fn replace_word(s: &str, from: &str, to: &str) -> String {
    if from.is_empty() || !s.contains(from) {
        return s.to_string();
    }
    let inside = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().next_back();
        let after_str = &rest[i + from.len()..];
        let after = after_str.chars().next();
        let after2 = after_str.chars().nth(1);
        let glued_before = before.is_some_and(|c| inside(c) || c == '.');
        let glued_after = after.is_some_and(inside)
            || (after == Some('.') && after2.is_some_and(char::is_alphanumeric));
        out.push_str(&rest[..i]);
        if glued_before || glued_after {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = after_str;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_preserving_and_consistent() {
        let mut r = Redactor::new();
        let a =
            r.text("from 192.0.2.10:500 to 203.0.113.20, via 192.0.2.1 and [2001:db8:a::10]:4500");
        assert!(
            !a.contains("192.0.2.10")
                && !a.contains("203.0.113.20")
                && !a.contains("2001:db8:a::10"),
            "{a}"
        );
        // Same /24 -> same replacement /24, host octet kept.
        assert!(
            a.contains("198.51.100.10:500") && a.contains("198.51.100.1 "),
            "{a}"
        );
        assert_eq!(r.text("192.0.2.10"), "198.51.100.10");
        // Not an address: untouched.
        assert_eq!(
            r.text("SPI 81330cf1abd4c7f8, 3.0 s, 1,840 bytes"),
            "SPI 81330cf1abd4c7f8, 3.0 s, 1,840 bytes"
        );
    }
}
