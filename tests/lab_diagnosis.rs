//! Every lab capture (`lab/`, and `lab-both/` with the captures taken at
//! the responder) gets the outcome and failed exchange of its `.label`,
//! and findings that cover each word of its `diagnosis` list; both files
//! of a `lab-both` pair get the same outcome.
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

/// Words a responder-side capture covers with other rules: what the
/// initiator sees as "no response" the responder sees as the request's
/// fragments arriving incomplete, or as its own answers being asked for
/// again.
const RESPONDER_WORDS: &[(&str, &[&str])] = &[(
    "ike_auth_no_response",
    &["ike-no-response", "ip-fragments-lost", "mtu-blackhole"],
)];

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
    let mut entries: Vec<std::path::PathBuf> = Vec::new();
    for (dir, ext) in [("lab", "pcap"), ("lab-both", "pcapng")] {
        let Ok(rd) = std::fs::read_dir(corpus.join(dir)) else {
            continue;
        };
        entries.extend(
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == ext)),
        );
    }
    entries.sort();
    let mut problems = Vec::new();
    let mut checked = 0;
    // (directory, stem) -> outcome, for the pairs.
    let mut outcomes: std::collections::BTreeMap<(String, String), String> = Default::default();
    let mut companions: Vec<(String, String, String)> = Vec::new();
    for path in &entries {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let dir = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let label = common::read_label(&path.with_extension("label"));
        let r = if with_keys {
            common::report_with_keys(path)
        } else {
            common::report(path)
        };
        let name = format!(
            "{dir}/{stem}{}",
            if with_keys { " (with keys)" } else { "" }
        );
        checked += 1;
        let outcome = serde_json::to_value(r.verdict.outcome).unwrap();
        let outcome = outcome.as_str().unwrap_or_default().to_string();
        outcomes.insert((dir.clone(), stem.clone()), outcome.clone());
        if let Some(c) = &label.companion_of {
            companions.push((dir.clone(), stem.clone(), c.clone()));
        }
        if outcome != label.outcome {
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
            let responder_rules = RESPONDER_WORDS
                .iter()
                .find(|(w, _)| label.capture_point == "responder" && w == word);
            match responder_rules.or_else(|| WORDS.iter().find(|(w, _)| w == word)) {
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
        // Every finding cites frames that exist, and says where the
        // capture was taken as the report's SA table does.
        for f in &r.findings {
            if let Some(&last) = f.frames.last()
                && last > r.capture.frames
            {
                problems.push(format!(
                    "{name}: {} cites frame {last} of {}",
                    f.name, r.capture.frames
                ));
            }
            if let Some(sa) = f.sa.and_then(|i| r.sas.get(i))
                && sa.capture_side != f.vantage.capture_point
            {
                problems.push(format!(
                    "{name}: {} says captured at {:?}, its SA at {:?}",
                    f.name, f.vantage.capture_point, sa.capture_side
                ));
            }
        }
        // Where the label says where the capture was taken and the TTLs
        // tell, the report agrees.
        for sa in &r.sas {
            let side = serde_json::to_value(sa.capture_side).unwrap();
            let side = side.as_str().unwrap_or_default();
            if !label.capture_point.is_empty()
                && side != "unknown"
                && side != label.capture_point
                && !(side == "in-between" && label.capture_point == "responder")
            {
                problems.push(format!(
                    "{name}: SA {} captured at {side}, label {}",
                    sa.index, label.capture_point
                ));
            }
        }
    }
    // Both ends of one run tell the same story.
    for (dir, stem, companion) in &companions {
        let mine = outcomes.get(&(dir.clone(), stem.clone()));
        let theirs = outcomes.get(&(dir.clone(), companion.clone()));
        if mine != theirs {
            problems.push(format!(
                "{dir}/{stem}: outcome {mine:?}, its companion {companion} {theirs:?}"
            ));
        }
    }
    assert!(checked >= 110, "only {checked} lab captures checked");
    assert!(
        companions.len() >= 20,
        "only {} responder-side captures",
        companions.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
