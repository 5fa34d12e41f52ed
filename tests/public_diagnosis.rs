//! The diagnosis over the public corpus: every unanswered request is cited
//! by a finding (the corpus README calls several out), and no Error finding
//! lands on an IKE SA whose exchanges all succeeded.

mod common;

use ikediag::diag::Severity;

/// Data-plane rules: they judge ESP, not an exchange.
const DATA_PLANE: &[&str] = &["esp-one-way", "nat-without-natt"];

#[test]
fn unanswered_requests_are_cited_and_successes_have_no_errors() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let public = corpus.join("public");
    let rows = common::read_tsv(&public.join("MANIFEST.tsv"));
    let mut problems = Vec::new();
    let mut unanswered_total = 0;
    for row in &rows {
        if row["ike_packets"] == "0" || !row["format"].starts_with("pcap") {
            continue;
        }
        let path = public.join(&row["path"]);
        let r = common::report(&path);
        let name = &row["path"];
        for sa in &r.sas {
            let mut clean = true;
            for e in &sa.exchanges {
                if e.unanswered {
                    clean = false;
                    unanswered_total += 1;
                    let Some(&first) = e.request_frames.first() else {
                        continue;
                    };
                    if !r
                        .findings
                        .iter()
                        .any(|f| f.sa == Some(sa.index) && f.frames.contains(&first))
                    {
                        problems.push(format!(
                            "{name}: unanswered {} (frame {first}) is cited by no finding",
                            e.exchange
                        ));
                    }
                }
                if e.notify.iter().any(|n| {
                    n.contains("FAIL")
                        || n.contains("NO_PROPOSAL")
                        || n.contains("NO-PROPOSAL")
                        || n.contains("INVALID")
                        || n.contains("UNACCEPTABLE")
                        || n == "COOKIE"
                }) {
                    clean = false;
                }
                if e.answered
                    && e.response_length.is_some_and(|l| l <= 96)
                    && e.exchange == "IKE_AUTH"
                {
                    clean = false; // a lone encrypted error notify
                }
            }
            if sa.retry_of.is_some() || r.sas.iter().any(|o| o.retry_of == Some(sa.index)) {
                clean = false;
            }
            if !clean {
                continue;
            }
            for f in r
                .findings
                .iter()
                .filter(|f| f.sa == Some(sa.index) && f.severity == Severity::Error)
            {
                if !DATA_PLANE.contains(&f.name) {
                    problems.push(format!(
                        "{name}: Error {} on an SA whose exchanges all succeeded: {}",
                        f.name, f.message
                    ));
                }
            }
        }
    }
    // The corpus README's callouts: requests without responses.
    for (file, frame) in [
        ("zeek-spicy-ipsec/ipsec_client.pcap", 5),
        ("tcpdump/ikev2pI2.pcap", 1),
        ("tcpdump/ikev2pI2.pcap", 2),
        ("tcpdump/ikev2four.pcap", 0),
        ("libreswan/01-isakmp-vid-first.pcap", 1),
    ] {
        let r = common::report(&public.join(file));
        let cited = r.findings.iter().any(|f| {
            matches!(
                f.name,
                "ike-no-response"
                    | "mtu-blackhole"
                    | "ip-fragments-lost"
                    | "dpd-timeout"
                    | "udp-port-blocked"
                    // The answer is missing from the file although a later
                    // message shows the requester got it.
                    | "capture-gap"
            ) && (frame == 0 || f.frames.contains(&frame))
        });
        if !cited {
            problems.push(format!("{file}: the unanswered request (frame {frame}) the corpus README names is not found"));
        }
    }
    assert!(
        unanswered_total > 20,
        "only {unanswered_total} unanswered requests in the public corpus"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
