//! Snapshots of the human report for lab captures, so a reviewer reads what
//! a user sees (`tests/snapshots/*.snap`). Regenerate after an intended
//! change with `INSTA_UPDATE=always cargo test --test snapshots_lab` and
//! review the diff.

mod common;

const CAPTURES: &[&str] = &[
    "mtu_blackhole",
    "mtu_blackhole_reply",
    "mtu_blackhole_df",
    "natt_udp4500_blocked",
    "udp500_blocked",
    "udp500_icmp_unreachable",
    "udp500_icmp_admin_prohibited",
    "no_proposal_chosen",
    "auth_failed",
    "ts_unacceptable",
    "dpd_dead_peer",
    "rekey_timeout",
    "esp_one_way",
    "ikev1_no_proposal",
    "ikev1_psk_mismatch",
    "map_e_udp500_blocked",
    "invalid_ke",
    "ok_psk",
];

#[test]
fn human_reports() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    for name in CAPTURES {
        let r = common::report(&corpus.join("lab").join(format!("{name}.pcap")));
        let text = ikediag::report::text::render(&r, 110);
        insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(*name, text);
        });
    }
}
