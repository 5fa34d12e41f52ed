//! `docs/rules/` is generated from the rules; this test fails when it is
//! stale. `IKEDIAG_UPDATE_DOCS=1 cargo test --test rule_docs` rewrites it.
//! It also checks the registry: unique codes and names, codes of the form
//! AREA + three digits, kebab-case names, every documentation section filled.

use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn rule_docs_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules");
    let docs = ikediag::diag::rule_docs();
    if std::env::var_os("IKEDIAG_UPDATE_DOCS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("ja")).unwrap();
        for (name, text) in &docs {
            std::fs::write(dir.join(name), text).unwrap();
        }
        return;
    }
    let mut stale = Vec::new();
    for (name, text) in &docs {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(t) if t == *text => {}
            _ => stale.push(name.clone()),
        }
    }
    let list = |d: &Path, prefix: &str| -> Vec<String> {
        std::fs::read_dir(d)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().is_file())
                    .map(|e| format!("{prefix}{}", e.file_name().to_string_lossy()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut on_disk: BTreeSet<String> = list(&dir, "").into_iter().collect();
    on_disk.extend(list(&dir.join("ja"), "ja/"));
    let wanted: BTreeSet<String> = docs.iter().map(|(n, _)| n.clone()).collect();
    stale.extend(on_disk.difference(&wanted).cloned());
    assert!(
        stale.is_empty(),
        "docs/rules is stale ({}); run IKEDIAG_UPDATE_DOCS=1 cargo test --test rule_docs",
        stale.join(", ")
    );
}

#[test]
fn registry_is_well_formed() {
    let mut codes = BTreeSet::new();
    let mut names = BTreeSet::new();
    for r in ikediag::diag::rules::ALL {
        assert!(codes.insert(r.code), "duplicate code {}", r.code);
        assert!(names.insert(r.name), "duplicate name {}", r.name);
        let (area, num) = r.code.split_at(3);
        assert!(
            ["IKE", "NET", "NAT", "ESP", "CAP"].contains(&area),
            "{}",
            r.code
        );
        assert!(
            num.len() == 3 && num.chars().all(|c| c.is_ascii_digit()),
            "{}",
            r.code
        );
        assert!(
            r.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
            "{}",
            r.name
        );
        let d = &r.doc;
        for (sec, text) in [
            ("detects", d.detects),
            ("why_it_fails", d.why_it_fails),
            ("evidence", d.evidence),
            ("likely_causes", d.likely_causes),
            ("how_to_fix", d.how_to_fix),
        ] {
            assert!(
                text.split_whitespace().count() >= 5,
                "{} has a thin {sec} section",
                r.name
            );
        }
        // Japanese: every section present, and actually Japanese.
        let j = &r.doc_ja;
        for (sec, text) in [
            ("summary_ja", r.summary_ja),
            ("detects", j.detects),
            ("why_it_fails", j.why_it_fails),
            ("evidence", j.evidence),
            ("likely_causes", j.likely_causes),
            ("how_to_fix", j.how_to_fix),
        ] {
            let kana = text
                .chars()
                .filter(|c| ('\u{3040}'..='\u{30ff}').contains(c))
                .count();
            assert!(
                text.chars().count() >= 8 && kana >= 2,
                "{}: Japanese {sec} missing or not Japanese: {text:?}",
                r.name
            );
        }
    }
    // The names the diagnosis issue asks for are all there.
    for n in [
        "ike-no-response",
        "udp-port-blocked",
        "icmp-port-unreachable",
        "icmp-admin-prohibited",
        "natt-port-blocked",
        "ip-fragments-lost",
        "mtu-blackhole",
        "pmtu-blackhole",
        "ip-fragmentation",
        "ikev2-fragmentation",
        "no-proposal-chosen",
        "invalid-ke-payload",
        "cookie-challenge",
        "authentication-failed",
        "child-sa-failed",
        "dpd-timeout",
        "rekey-failed",
        "peer-deleted-sa",
        "nat-detected",
        "nat-without-natt",
        "nat-detection-faked",
        "esp-one-way",
        "map-e-port-restriction",
        "weak-crypto",
        "capture-one-sided",
        "capture-no-ike",
        "capture-truncated-packets",
    ] {
        assert!(names.contains(n), "rule {n} missing");
    }
}
