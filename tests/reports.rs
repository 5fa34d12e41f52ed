//! The report formats over the whole lab corpus: text, JSON and Markdown
//! render for every capture; the Markdown parses as CommonMark with tables
//! and carries a Mermaid ladder per IKE SA; the JSON carries every field
//! `docs/json-schema.md` documents; `--redact` leaks no original address in
//! any format; and snapshots of the Markdown of lab captures.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use ikediag::report::{Report, html, markdown, redact::Redactor, text};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn lab_captures() -> Vec<std::path::PathBuf> {
    let Some(corpus) = common::corpus() else {
        return Vec::new();
    };
    let mut v: Vec<_> = std::fs::read_dir(corpus.join("lab"))
        .expect("lab")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    v.sort();
    v
}

/// Top-level and nested field names the schema document lists (first
/// column of its tables, in backticks).
fn documented_fields() -> BTreeSet<String> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json-schema.md"))
            .unwrap();
    let mut out = BTreeSet::new();
    // Every `name` in backticks anywhere in the document counts as documented.
    for (i, chunk) in doc.split('`').enumerate() {
        if i % 2 == 1 {
            for part in chunk.split(['/', ',', ' ']) {
                let f = part.trim();
                // A name starts with a letter; digits may follow (`decrypted_ikev1`).
                if f.starts_with(|c: char| c.is_ascii_lowercase())
                    && f.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    out.insert(f.to_string());
                }
            }
        }
    }
    out
}

fn keys(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                out.insert(k.clone());
                keys(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

fn check_markdown(name: &str, md: &str, r: &Report) {
    let mut tables = 0;
    let mut mermaid = 0;
    let mut in_heading = false;
    let mut headings = Vec::new();
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match ev {
            Event::Start(Tag::Table(cols)) => {
                tables += 1;
                assert!(
                    cols.len() >= 5 || cols.len() == 3, // side-by-side tables have 3
                    "{name}: a table with {} columns",
                    cols.len()
                );
            }
            Event::Start(Tag::CodeBlock(pulldown_cmark::CodeBlockKind::Fenced(lang)))
                if &*lang == "mermaid" =>
            {
                mermaid += 1
            }
            Event::Start(Tag::Heading { .. }) => in_heading = true,
            Event::End(TagEnd::Heading(_)) => in_heading = false,
            Event::Text(t) if in_heading => headings.push(t.to_string()),
            _ => {}
        }
    }
    assert_eq!(mermaid, r.sas.len(), "{name}: one ladder per IKE SA");
    // Findings, each SA's exchanges, its peers and each CHILD SA side by side.
    let want_tables = usize::from(!r.findings.is_empty())
        + r.sas
            .iter()
            .map(|sa| 1 + usize::from(sa.peers.is_some()) + sa.child_sas.len())
            .sum::<usize>();
    assert_eq!(tables, want_tables, "{name}: tables");
    assert!(
        headings.iter().any(|h| h.starts_with("ikediag report")),
        "{name}: title"
    );
}

#[test]
fn every_lab_capture_renders_in_every_format() {
    let documented = documented_fields();
    assert!(
        documented.len() > 40,
        "only {} documented fields",
        documented.len()
    );
    let mut seen_keys = BTreeSet::new();
    for path in lab_captures() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        // With the key tables beside the capture, so `decryption` is filled.
        let r = common::report_with_keys(&path);
        let t = text::render(&r, 100);
        assert!(t.contains("Verdict:"), "{name}");
        let md = markdown::render(&r);
        check_markdown(&name, &md, &r);
        let page = html::render(&r);
        assert!(
            page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"),
            "{name}"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["schema_version"], 1);
        keys(&json, &mut seen_keys);
    }
    // Every key the reports produce is documented.
    let undocumented: Vec<_> = seen_keys.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "fields missing from docs/json-schema.md: {undocumented:?}"
    );
}

/// The addresses a capture holds, as ikediag decodes them.
fn addresses(path: &Path) -> BTreeSet<String> {
    let mut reader = ikediag::capture::CaptureReader::open(path).unwrap();
    let a = ikediag::session::analyze_reader(&mut reader, Default::default());
    let mut out = BTreeSet::new();
    for sa in &a.sas {
        for m in sa.messages() {
            out.insert(m.src.addr.to_string());
            out.insert(m.dst.addr.to_string());
            if let Some(t) = m.tunnel {
                out.insert(t.outer_src.to_string());
                out.insert(t.outer_dst.to_string());
            }
        }
    }
    for i in &a.icmp_errors {
        out.insert(i.src.to_string());
        out.insert(i.dst.to_string());
    }
    for e in &a.echoes {
        out.insert(e.src.to_string());
        out.insert(e.dst.to_string());
    }
    for f in &a.esp_flows {
        out.insert(f.src.to_string());
        out.insert(f.dst.to_string());
    }
    for t in &a.tunnels {
        out.insert(t.outer_src.to_string());
        out.insert(t.outer_dst.to_string());
    }
    for s in &a.syns {
        out.insert(s.src.addr.to_string());
        out.insert(s.dst.addr.to_string());
    }
    out
}

/// `needle` occurs in `hay` as a whole address (not inside a longer one).
fn contains_token(hay: &str, needle: &str) -> bool {
    let is_part = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        before.is_none_or(|c| !is_part(c))
            && after.is_none_or(|c| {
                !(c.is_ascii_hexdigit() || c == '.') && (c != ':' || needle.contains('.'))
            })
    })
}

#[test]
fn redaction_leaks_no_address_in_any_format() {
    let mut checked = 0;
    for path in lab_captures() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let originals = addresses(&path);
        // With keys: the key files' names carry the capture's name too.
        let mut r = common::report_with_keys(&path);
        let stem = name.trim_end_matches(".pcap");
        r.file = path.display().to_string();
        Redactor::new().report(&mut r);
        let outputs = [
            text::render(&r, 100),
            markdown::render(&r),
            html::render(&r),
            serde_json::to_string(&r).unwrap(),
        ];
        for out in &outputs {
            for a in &originals {
                assert!(
                    !contains_token(out, a),
                    "{name}: {a} leaks through --redact"
                );
            }
            assert!(!out.contains(&name), "{name}: the file name leaks");
            for table in ["ikev2_decryption_table", "ikev1_decryption_table", "esp_sa"] {
                assert!(
                    !out.contains(&format!("{stem}.{table}")),
                    "{name}: a key file name leaks"
                );
            }
        }
        checked += 1;
    }
    if common::corpus().is_some() {
        assert!(checked >= 49);
    }
}

/// Every finding the lab and public captures produce has its Japanese
/// message, and so does every verdict.
#[test]
fn every_finding_has_japanese() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut paths = lab_captures();
    for row in common::read_tsv(&corpus.join("public/MANIFEST.tsv")) {
        if row["format"].starts_with("pcap") {
            paths.push(corpus.join("public").join(&row["path"]));
        }
    }
    let is_ja = |t: &str| t.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c));
    let mut missing = BTreeSet::new();
    for path in paths {
        let Ok(mut reader) = ikediag::capture::CaptureReader::open(&path) else {
            continue;
        };
        let a = ikediag::session::analyze_reader(&mut reader, Default::default());
        let r = ikediag::report::build("x", &a, &Default::default());
        for f in &r.findings {
            if !is_ja(&f.message_ja) {
                missing.insert(f.name);
            }
        }
        if !is_ja(&r.verdict.summary_ja) {
            missing.insert("verdict");
        }
    }
    assert!(missing.is_empty(), "no Japanese message for: {missing:?}");
}

#[test]
fn japanese_snapshots() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    for name in [
        "mtu_blackhole",
        "mtu_blackhole_reply",
        "natt_udp4500_blocked",
        "udp500_icmp_unreachable",
        "no_proposal_chosen",
        "auth_failed",
        "dpd_responder_down",
        "rekey_timeout",
        "ikev1_psk_mismatch",
        "map_e_udp500_blocked",
        "pmtu_ping_sweep",
        "tcp_mss_too_large_inner",
    ] {
        let r = common::report(&corpus.join("lab").join(format!("{name}.pcap")));
        insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(
                format!("ja_text_{name}"),
                text::render_styled(&r, 110, false, ikediag::report::Lang::Ja)
            );
            insta::assert_snapshot!(
                format!("ja_md_{name}"),
                markdown::render_lang(&r, ikediag::report::Lang::Ja)
            );
        });
    }
}

#[test]
fn markdown_snapshots() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    for name in [
        "mtu_blackhole",
        "mtu_blackhole_reply",
        "natt_udp4500_blocked",
        "udp500_icmp_unreachable",
        "no_proposal_chosen",
        "auth_failed",
        "dpd_responder_down",
        "rekey_timeout",
        "ikev1_quick_mode_no_proposal",
        "map_e_udp500_blocked",
        "pmtu_ping_sweep",
        "tcp_mss_too_large",
    ] {
        let r = common::report(&corpus.join("lab").join(format!("{name}.pcap")));
        insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("md_{name}"), markdown::render(&r));
        });
    }
}
