//! IKE behind a NAT that moved source port 500 below 1024 (issue 11), on
//! `tests/fixtures/low_port_nat.pcapng`: lab-both's `natt_ok_responder`
//! with the initiator's port 500 rewritten to 419 (see the fixtures
//! README). These tests need neither `../shared` nor tshark:
//!
//! - `messages` lists exactly the IKE messages tshark lists
//!   (`low_port_nat.tshark.tsv`, tshark 4.0.17's dissection, checked in),
//!   with the same addresses, ports, exchange, flags, message ID, SPIs,
//!   notify types and length;
//! - `analyze` gives the original capture's diagnosis: success, NAT
//!   detected, NAT-T from frame 3. With `../shared` present, the whole JSON
//!   report equals the original's once the port is put back.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn hex_u32(s: &str) -> Option<u32> {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

#[test]
fn messages_are_the_ike_messages_tshark_lists() {
    let (records, _, err) = common::messages(&fixture("low_port_nat.pcapng"));
    assert!(err.is_none(), "{err:?}");
    let expected = common::read_tsv(&fixture("low_port_nat.tshark.tsv"));
    let frames = |rows: &[BTreeMap<String, String>]| -> Vec<u64> {
        rows.iter()
            .filter_map(|r| r.get("frame.number")?.parse().ok())
            .collect()
    };
    let ours: Vec<u64> = records.iter().map(|r| r.frame).collect();
    assert_eq!(ours, frames(&expected), "frames listed");
    assert_eq!(ours, [1, 2, 3, 4, 19, 20]);
    for (row, r) in expected.iter().zip(&records) {
        let g = |k: &str| row.get(k).map(String::as_str).unwrap_or_default();
        let what = format!("frame {}", r.frame);
        assert_eq!(
            (g("ip.src"), g("ip.dst")),
            (r.src.as_str(), r.dst.as_str()),
            "{what}"
        );
        assert_eq!(
            (g("udp.srcport"), g("udp.dstport")),
            (r.sport.to_string().as_str(), r.dport.to_string().as_str()),
            "{what}"
        );
        assert_eq!(
            hex_u32(g("isakmp.mjver")),
            r.version.map(u32::from),
            "{what}"
        );
        assert_eq!(
            g("isakmp.exchangetype").parse::<u8>().ok(),
            r.exchange_type,
            "{what}"
        );
        assert_eq!(
            g("isakmp.flag_i") == "1",
            r.initiator == Some(true),
            "{what}"
        );
        assert_eq!(
            g("isakmp.flag_r") == "1",
            r.response == Some(true),
            "{what}"
        );
        assert_eq!(hex_u32(g("isakmp.messageid")), r.message_id, "{what}");
        assert_eq!(Some(g("isakmp.ispi")), r.ispi.as_deref(), "{what}");
        assert_eq!(Some(g("isakmp.rspi")), r.rspi.as_deref(), "{what}");
        let notify: Vec<String> = r.notify_types.iter().map(u16::to_string).collect();
        assert_eq!(g("isakmp.notify.msgtype"), notify.join(","), "{what}");
        assert_eq!(g("isakmp.length").parse::<u32>().ok(), r.length, "{what}");
    }
    // The point of the fixture: the IKE_SA_INIT exchange on 419 <-> 500.
    assert_eq!((records[0].sport, records[0].dport), (419, 500));
    assert_eq!((records[1].sport, records[1].dport), (500, 419));
}

#[test]
fn analysis_is_the_original_one() {
    let r = common::report(&fixture("low_port_nat.pcapng"));
    assert_eq!(serde_json::to_value(r.verdict.outcome).unwrap(), "success");
    assert_eq!(r.verdict.failed_exchange, None);
    let mut rules: Vec<&str> = r.findings.iter().map(|f| f.name).collect();
    rules.sort();
    assert_eq!(rules, ["nat-detected", "peer-deleted-sa"]);
    assert_eq!(r.stats.ike_messages, 6);
    assert_eq!(r.sas.len(), 1, "one IKE SA, not one starting in the middle");
    let sa = &r.sas[0];
    assert_eq!(sa.initiator, "198.18.99.1:419");
    assert_eq!(sa.natt_switch_frame, Some(3));
    assert!(sa.nat.initiator_behind_nat && !sa.nat.responder_behind_nat);
    // The hash names the initiator's own port, 500, behind the NAT's 419.
    let search = sa.nat.initiator_source_search.as_ref().expect("searched");
    assert_eq!(
        (search.seen.to_string(), search.found.map(|e| e.to_string())),
        (
            "198.18.99.1:419".to_string(),
            Some("10.8.0.23:500".to_string())
        )
    );
    let exchanges: Vec<&str> = sa.exchanges.iter().map(|e| e.exchange.as_str()).collect();
    assert_eq!(exchanges, ["IKE_SA_INIT", "IKE_AUTH", "INFORMATIONAL"]);

    // The capture it was made from, where the NAT had kept port 500.
    let Some(corpus) = common::corpus() else {
        return;
    };
    let original = common::report(&corpus.join("lab-both/natt_ok_responder.pcapng"));
    let normalised = |r: &ikediag::report::Report| {
        let mut v = serde_json::to_value(r).unwrap();
        v["file"] = serde_json::Value::Null;
        // The NAT detection search also tries the port seen (419 here), so
        // its port list and candidate count are not the original's.
        if let Some(s) = v["sas"][0]["nat"]["initiator_source_search"].as_object_mut() {
            s.remove("ports");
            s.remove("candidates");
            s.insert("seen".into(), serde_json::json!("normalised"));
        }
        v.to_string().replace("198.18.99.1:419", "198.18.99.1:500")
    };
    assert_eq!(normalised(&r), normalised(&original));
}
