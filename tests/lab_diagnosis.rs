//! Every lab capture gets the outcome and failed exchange of its `.label`,
//! and findings that cover each word of its `diagnosis` list.
//!
//! The words are the labeller's; the rule names are ours. `WORDS` maps one
//! to the other (a word is covered when any of its rules fired). Words that
//! only keys can confirm (the capture shows them encrypted) are listed in
//! `NEEDS_KEYS` with the reason; they are checked once decryption exists.

mod common;

use std::collections::BTreeSet;

/// Label word -> rule names, any of which covers it.
const WORDS: &[(&str, &[&str])] = &[
    ("ok", &[]),
    ("authentication_failed", &["authentication-failed"]),
    ("psk_mismatch", &["authentication-failed"]),
    ("peer_certificate_untrusted", &["authentication-failed"]),
    ("aggressive_mode_psk_refused", &["authentication-failed"]),
    ("capture_truncated_packets", &["capture-truncated-packets"]),
    ("capture_no_ike", &["capture-no-ike"]),
    ("child_sa_failed", &["child-sa-failed"]),
    (
        "no_proposal_chosen",
        &["no-proposal-chosen", "child-sa-failed"],
    ),
    (
        "esp_proposal_mismatch",
        &["child-sa-failed", "no-proposal-chosen"],
    ),
    ("pfs_mismatch", &["child-sa-failed", "no-proposal-chosen"]),
    ("ts_unacceptable", &["child-sa-failed"]),
    ("ike_proposal_mismatch", &["no-proposal-chosen"]),
    ("cookie_challenge", &["cookie-challenge"]),
    ("dpd_timeout", &["dpd-timeout"]),
    ("dead_peer", &["dpd-timeout"]),
    ("path_lost", &["dpd-timeout", "rekey-failed"]),
    ("icmp_port_unreachable", &["icmp-port-unreachable"]),
    ("responder_daemon_down", &["icmp-port-unreachable"]),
    ("responder_not_listening", &["icmp-port-unreachable"]),
    ("esp_one_way", &["esp-one-way"]),
    ("tunnel_up_no_return_traffic", &["esp-one-way"]),
    ("ikev1_aggressive_mode", &["ikev1-aggressive-mode"]),
    ("weak_crypto", &["weak-crypto"]),
    ("ikev2_fragmentation", &["ikev2-fragmentation"]),
    ("invalid_ke_payload_retry", &["invalid-ke-payload"]),
    ("ip_fragmentation", &["ip-fragmentation"]),
    (
        "ip_fragments_dropped",
        &["ip-fragments-lost", "mtu-blackhole"],
    ),
    ("non_first_fragments_dropped", &["ip-fragments-lost"]),
    ("ike_auth_no_response", &["ike-no-response"]),
    (
        "ike_auth_response_lost",
        &["mtu-blackhole", "ike-no-response"],
    ),
    ("ike_sa_init_no_response", &["ike-no-response"]),
    ("main_mode_no_response", &["ike-no-response"]),
    (
        "ikev1_not_accepted_by_peer",
        &["ike-no-response", "udp-port-blocked"],
    ),
    ("create_child_sa_no_response", &["rekey-failed"]),
    ("rekey_timeout", &["rekey-failed"]),
    ("mtu_blackhole", &["mtu-blackhole"]),
    ("pmtu_blackhole", &["pmtu-blackhole", "pmtu-icmp-filtered"]),
    ("icmp_suppressed", &["pmtu-icmp-filtered"]),
    ("ping_sweep", &["path-mtu"]),
    ("icmp_frag_needed", &["path-mtu"]),
    ("path_mtu_below_link_mtu", &["path-mtu"]),
    ("tcp_mss_too_large", &["mss-too-large"]),
    ("tunnel_mtu_exceeded", &["mss-too-large"]),
    ("esp_fragments_dropped", &["mss-too-large"]),
    ("icmp_frag_needed_filtered", &["pmtu-blackhole"]),
    ("nat_detected", &["nat-detected"]),
    ("nat_traversal", &["nat-detected"]),
    ("nat_detection_faked", &["nat-detection-faked"]),
    ("forced_udp_encapsulation", &["nat-detection-faked"]),
    ("map_e_port_restriction", &["map-e-port-restriction"]),
    (
        "udp500_blocked",
        &["udp-port-blocked", "icmp-admin-prohibited"],
    ),
    ("icmp_admin_prohibited", &["icmp-admin-prohibited"]),
    ("udp4500_blocked", &["natt-port-blocked"]),
    ("child_sa_rekeyed", &["sa-rekeyed"]),
    ("ike_sa_rekeyed", &["sa-rekeyed"]),
    ("l2tp_ipsec", &["transport-mode"]),
    ("transport_mode", &["transport-mode"]),
];

/// Words only visible with keys: the Quick Mode that says transport mode
/// and names L2TP's UDP 1701 is encrypted. Checked only in the run with
/// the key tables beside the captures.
const NEEDS_KEYS: &[(&str, &str)] = &[
    (
        "l2tp_ipsec",
        "the Quick Mode IDs naming UDP 1701 are encrypted",
    ),
    (
        "transport_mode",
        "the Quick Mode encapsulation attribute is encrypted",
    ),
];

/// `pmtu = { path_mtu = 1280, ... }` in a label, if there.
fn label_path_mtu(path: &std::path::Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with("pmtu = "))?;
    let rest = line.split("path_mtu = ").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The label spells IKEv1 exchanges `IKEv1_MAIN_MODE`; ours are `MAIN_MODE`.
fn label_exchange(x: &Option<String>) -> Option<String> {
    match x.as_deref() {
        None | Some("none") | Some("") => None,
        Some(s) => Some(s.trim_start_matches("IKEv1_").to_string()),
    }
}

#[test]
fn lab_captures_get_their_labels() {
    check_labels(false);
}

/// The same labels hold when the key tables beside the lab captures are
/// used (IKEv2 messages decrypted): decryption must never make a diagnosis
/// wrong.
#[test]
fn lab_captures_get_their_labels_with_keys() {
    check_labels(true);
}

fn check_labels(with_keys: bool) {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let lab = corpus.join("lab");
    let mut entries: Vec<_> = std::fs::read_dir(&lab)
        .expect("lab")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut problems = Vec::new();
    let mut checked = 0;
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
    {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let label = common::read_label(&path.with_extension("label"));
        let r = if with_keys {
            common::report_with_keys(path)
        } else {
            common::report(path)
        };
        let name = if with_keys {
            format!("{name} (with keys)")
        } else {
            name
        };
        checked += 1;
        let outcome = serde_json::to_value(r.verdict.outcome).unwrap();
        if outcome != label.outcome.as_str() {
            problems.push(format!(
                "{name}: outcome {outcome}, label {}",
                label.outcome
            ));
        }
        if r.verdict.failed_exchange != label_exchange(&label.failed_exchange) {
            problems.push(format!(
                "{name}: failed exchange {:?}, label {:?}",
                r.verdict.failed_exchange, label.failed_exchange
            ));
        }
        if let Some(want) = label_path_mtu(&path.with_extension("label")) {
            let got = r.path_mtu.as_ref().and_then(|p| p.value);
            if got != Some(want) {
                problems.push(format!("{name}: path_mtu.value {got:?}, label {want}"));
            }
        }
        let fired: BTreeSet<&str> = r.findings.iter().map(|f| f.name).collect();
        for word in &label.diagnosis {
            if !with_keys && NEEDS_KEYS.iter().any(|(w, _)| w == word) {
                continue;
            }
            match WORDS.iter().find(|(w, _)| w == word) {
                None => problems.push(format!(
                    "{name}: label word {word:?} has no mapping in WORDS"
                )),
                Some((_, [])) => {}
                Some((_, rules)) => {
                    if !rules.iter().any(|r| fired.contains(r)) {
                        problems.push(format!(
                            "{name}: {word:?} not covered (wanted one of {rules:?}, got {fired:?})"
                        ));
                    }
                }
            }
        }
        // A success must not carry an Error finding.
        if label.outcome == "success"
            && let Some(f) = r
                .findings
                .iter()
                .find(|f| f.severity == ikediag::diag::Severity::Error)
        {
            problems.push(format!(
                "{name}: success with Error finding {} ({})",
                f.name, f.message
            ));
        }
        // Every Error finding says what to change.
        for f in r
            .findings
            .iter()
            .filter(|f| f.severity == ikediag::diag::Severity::Error)
        {
            if f.fix.is_empty() {
                problems.push(format!("{name}: Error {} has no fix", f.name));
            }
        }
        // Every finding cites frames that exist.
        for f in &r.findings {
            if let Some(&last) = f.frames.last()
                && last > r.capture.frames
            {
                problems.push(format!(
                    "{name}: {} cites frame {last} of {}",
                    f.name, r.capture.frames
                ));
            }
        }
    }
    assert!(checked >= 45, "only {checked} lab captures checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
