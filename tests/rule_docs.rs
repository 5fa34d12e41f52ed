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
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            std::fs::remove_file(e.path()).unwrap();
        }
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
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
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
