//! What decryption reveals, on the lab captures with their key tables:
//! identities, authentication methods, certificates (checked against the
//! daemons' logs), CHILD SA proposals and traffic selectors side by side,
//! and findings that name the exact cause of each label. Plus the
//! certificate-validity rule on a real capture whose clock is moved.
#![cfg(feature = "decrypt")]

mod common;

use std::path::{Path, PathBuf};

use ikediag::report::Report;

fn lab(name: &str) -> Option<PathBuf> {
    let p = common::corpus()?.join("lab").join(format!("{name}.pcap"));
    p.is_file().then_some(p)
}

fn finding<'a>(r: &'a Report, name: &str) -> Option<&'a ikediag::diag::Finding> {
    r.findings.iter().find(|f| f.name == name)
}

/// The quoted certificate subjects strongSwan logged as `using certificate "…"`.
fn logged_certificates(log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.split("using certificate \"").nth(1)
            && let Some(subject) = rest.split('"').next()
            && !out.contains(&subject.to_string())
        {
            out.push(subject.to_string());
        }
    }
    out
}

#[test]
fn certificates_and_identities_match_the_daemon_logs() {
    let Some(p) = lab("ok_cert_fragmented") else {
        return;
    };
    let r = common::report_with_keys(&p);
    let sa = &r.sas[0];
    let peers = sa.peers.as_ref().expect("peers decrypted");
    let ids = |s: &ikediag::session::reveal::PeerSide| {
        s.identities
            .iter()
            .map(|i| format!("{} {} {}", i.role, i.kind, i.value))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&peers.initiator),
        [
            "IDi ID_FQDN client.lab-a.example",
            "IDr ID_FQDN gw.lab-a.example"
        ]
    );
    assert_eq!(ids(&peers.responder), ["IDr ID_FQDN gw.lab-a.example"]);
    assert_eq!(peers.initiator.auth_methods, ["Digital Signature"]);
    assert_eq!(peers.responder.auth_methods, ["Digital Signature"]);
    // Each side's end-entity certificate is the one the other side logged
    // as "using certificate".
    let i_log = logged_certificates(&p.with_extension("initiator.log"));
    let r_log = logged_certificates(&p.with_extension("responder.log"));
    let subjects = |s: &ikediag::session::reveal::PeerSide| {
        s.certificates
            .iter()
            .map(|c| c.cert.subject.clone())
            .collect::<Vec<_>>()
    };
    assert!(
        i_log.contains(&subjects(&peers.responder)[0]),
        "{i_log:?} vs {:?}",
        subjects(&peers.responder)
    );
    assert!(
        r_log.contains(&subjects(&peers.initiator)[0]),
        "{r_log:?} vs {:?}",
        subjects(&peers.initiator)
    );
    for side in [&peers.initiator, &peers.responder] {
        assert_eq!(side.certificates.len(), 2, "end entity + intermediate");
        let ee = &side.certificates[0];
        assert!(!ee.cert.is_ca);
        assert!(side.certificates[1].cert.is_ca);
        assert_eq!(ee.cert.issuer, side.certificates[1].cert.subject);
        assert_eq!(ee.cert.key, "RSA 4096");
        assert!(ee.validity_problem.is_none());
        assert!(ee.cert.not_before < ee.cert.not_after);
        assert_eq!(
            side.cert_requests.len(),
            2,
            "CERTREQ with two CA key hashes"
        );
    }
    assert_eq!(
        peers.responder.certificates[0].cert.subject_alt_names,
        ["DNS:gw.lab-a.example"]
    );
    // The CHILD SA: proposed = chosen, selectors not narrowed.
    assert_eq!(sa.child_sas.len(), 1);
    let c = &sa.child_sas[0];
    assert_eq!(
        c.proposed,
        ["#1 ESP: ENCR_AES_CBC-128, AUTH_HMAC_SHA2_256_128, NO_ESN"]
    );
    assert_eq!(c.chosen.as_deref(), Some(c.proposed[0].as_str()));
    assert_eq!(c.ts_i_proposed, ["198.18.1.0/24"]);
    assert_eq!(c.ts_r_proposed, ["198.18.2.0/24"]);
    assert_eq!(c.ts_i_chosen, c.ts_i_proposed);
    assert!(!c.ts_mismatch && !c.ts_narrowed && !c.proposal_mismatch);
    assert!(finding(&r, "certificate-validity").is_none());
}

#[test]
fn without_keys_only_clear_payloads_are_revealed() {
    let Some(p) = lab("ok_cert_fragmented") else {
        return;
    };
    let r = common::report(&p);
    // Only the responder's CERTREQ of IKE_SA_INIT is in clear.
    let peers = r.sas[0].peers.as_ref().expect("clear CERTREQ");
    for side in [&peers.initiator, &peers.responder] {
        assert!(side.identities.is_empty() && side.certificates.is_empty());
        assert!(side.auth_methods.is_empty());
    }
    assert_eq!(peers.responder.cert_requests.len(), 2);
    assert!(r.sas[0].child_sas.is_empty());
}

/// The lab labels whose cause is only inside the encrypted IKE_AUTH, and
/// what the finding must name with the keys.
#[test]
fn findings_name_the_exact_cause_of_each_label() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(corpus.join("lab")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "pcap")
            || !p.with_extension("ikev2_decryption_table").is_file()
        {
            continue;
        }
        let label = common::read_label(&p.with_extension("label"));
        let has = |w: &str| label.diagnosis.iter().any(|d| d == w);
        let r = common::report_with_keys(&p);
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if has("authentication_failed") {
            let f = finding(&r, "authentication-failed")
                .unwrap_or_else(|| panic!("{name}: no authentication-failed"));
            assert_eq!(f.notify.as_deref(), Some("AUTHENTICATION_FAILED"), "{name}");
            assert_eq!(f.confidence, ikediag::diag::Confidence::Certain, "{name}");
            if has("psk_mismatch") {
                assert!(
                    f.message.contains("Shared Key") && f.message.contains("keys differ"),
                    "{name}: {}",
                    f.message
                );
            }
            if has("peer_certificate_untrusted") {
                // The subject strongSwan could not find an issuer for.
                let log = std::fs::read_to_string(p.with_extension("initiator.log")).unwrap();
                let subject = log
                    .lines()
                    .find_map(|l| l.split("no issuer certificate found for \"").nth(1))
                    .and_then(|r| r.split('"').next())
                    .expect("the log names the untrusted certificate");
                assert!(
                    f.message.contains(&format!("certificate \"{subject}\""))
                        && f.message.contains("does not trust"),
                    "{name}: {}",
                    f.message
                );
            }
            checked += 1;
        }
        if has("ts_unacceptable") {
            let f = finding(&r, "child-sa-failed").expect("child-sa-failed");
            assert_eq!(f.notify.as_deref(), Some("TS_UNACCEPTABLE"), "{name}");
            let c = r.sas[0].child_sas.iter().find(|c| c.ts_mismatch).unwrap();
            for ts in c.ts_i_proposed.iter().chain(&c.ts_r_proposed) {
                assert!(f.message.contains(ts.as_str()), "{name}: {}", f.message);
            }
            checked += 1;
        }
        if has("esp_proposal_mismatch") {
            let f = finding(&r, "child-sa-failed").expect("child-sa-failed");
            assert_eq!(f.notify.as_deref(), Some("NO_PROPOSAL_CHOSEN"), "{name}");
            let c = r.sas[0]
                .child_sas
                .iter()
                .find(|c| c.proposal_mismatch)
                .unwrap();
            assert!(!c.proposed.is_empty());
            for prop in &c.proposed {
                assert!(f.message.contains(prop.as_str()), "{name}: {}", f.message);
            }
            // The offered ESP proposal is the label's initiator_esp
            // (strongSwan names), transform by transform.
            let text = std::fs::read_to_string(p.with_extension("label")).unwrap();
            let esp = text
                .split("initiator_esp = \"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .expect("label names initiator_esp");
            for part in esp.split('-') {
                let ours = match part {
                    "aes128" => "ENCR_AES_CBC-128",
                    "aes256" => "ENCR_AES_CBC-256",
                    "sha256" => "AUTH_HMAC_SHA2_256_128",
                    "sha512" => "AUTH_HMAC_SHA2_512_256",
                    other => panic!("{name}: no mapping for {other:?} in {esp:?}"),
                };
                assert!(
                    c.proposed[0].contains(ours),
                    "{name}: {ours} not in {:?}",
                    c.proposed
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} labelled captures checked");
}

/// Rewrites every record timestamp of a classic little-endian pcap.
fn shift_pcap(src: &Path, dst: &Path, secs: i64) {
    let mut b = std::fs::read(src).unwrap();
    assert_eq!(&b[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let mut off = 24;
    while off + 16 <= b.len() {
        let ts = u32::from_le_bytes(b[off..off + 4].try_into().unwrap());
        let incl = u32::from_le_bytes(b[off + 8..off + 12].try_into().unwrap()) as usize;
        let new = u32::try_from(i64::from(ts) + secs).unwrap();
        b[off..off + 4].copy_from_slice(&new.to_le_bytes());
        off += 16 + incl;
    }
    std::fs::write(dst, b).unwrap();
}

/// The same real capture and keys, with the clock moved past the end
/// entities' notAfter (two years) but before the intermediates' (five):
/// both end-entity certificates are reported expired, the CAs are not.
#[test]
fn expired_and_not_yet_valid_certificates_are_findings() {
    let Some(p) = lab("ok_cert_fragmented") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("ikediag-reveal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (shift, problem, count) in [
        (3 * 365 * 86_400, "expired", 2),
        (-86_400, "not yet valid", 4),
    ] {
        let cap = dir.join("shifted.pcap");
        shift_pcap(&p, &cap, shift);
        std::fs::copy(
            p.with_extension("ikev2_decryption_table"),
            dir.join("shifted.ikev2_decryption_table"),
        )
        .unwrap();
        let r = common::report_with_keys(&cap);
        let found: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.name == "certificate-validity")
            .collect();
        assert_eq!(found.len(), count, "{problem}: {found:#?}");
        for f in &found {
            assert!(f.message.contains(problem), "{}", f.message);
            // The tunnel came up: the verifier's clock agreed, so a warning.
            assert_eq!(f.severity, ikediag::diag::Severity::Warning);
            assert_eq!(f.frames.len(), 1);
        }
        let peers = r.sas[0].peers.as_ref().unwrap();
        assert_eq!(
            peers.initiator.certificates[0].validity_problem,
            Some(problem)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--redact` leaves no FQDN identity in any format of a PSK capture,
/// where no certificate names them too (a review found them left).
#[test]
fn redaction_covers_identities_without_certificates() {
    let Some(p) = lab("auth_failed") else {
        return;
    };
    let mut r = common::report_with_keys(&p);
    assert!(
        r.findings
            .iter()
            .any(|f| f.message.contains("client.lab-a.example"))
    );
    ikediag::report::redact::Redactor::new().report(&mut r);
    let all = [
        serde_json::to_string(&r).unwrap(),
        ikediag::report::text::render(&r, 200),
        ikediag::report::markdown::render(&r),
        ikediag::report::html::render(&r),
    ];
    for out in all {
        assert!(!out.contains("lab-a.example"), "identity left: {out}");
    }
}

/// `--redact` leaves no identity, certificate name or selector in the report.
#[test]
fn redaction_covers_what_decryption_reveals() {
    let Some(p) = lab("ok_cert_fragmented") else {
        return;
    };
    let mut r = common::report_with_keys(&p);
    ikediag::report::redact::Redactor::new().report(&mut r);
    let json = serde_json::to_string(&r).unwrap();
    let text = ikediag::report::text::render(&r, 200);
    for secret in [
        "lab-a.example",
        "IKE Lab a",
        "198.18.1.0",
        "198.18.2.0",
        "10f0e80fe02f23ede26f872cd4f4e3cd3477bdf4",
    ] {
        assert!(!json.contains(secret), "{secret} left in the JSON report");
        assert!(!text.contains(secret), "{secret} left in the text report");
    }
    let peers = r.sas[0].peers.as_ref().unwrap();
    assert!(!peers.initiator.identities.is_empty());
    assert!(!peers.initiator.certificates[0].cert.subject.is_empty());
}
