//! Fuzzes `ikediag::ike::parse` and every accessor of the parsed message.
//!
//! Checked:
//! - no panic;
//! - `parse` fails exactly when the input is shorter than the 28-byte header;
//! - at most `MAX_PAYLOADS` payloads (+1 for an IKEv1 encrypted body);
//! - every borrowed slice (payload bodies, SPIs, attributes, addresses, ...)
//!   lies inside the input (zero-copy views cannot point elsewhere);
//! - payload offsets are inside the message;
//! - the message-level helpers agree with the payload list (payload_names
//!   starts with the payload names in order, notify_types/notify_names have
//!   one entry per Notify, fragment()/ke_group() come from a payload);
//! - every anomaly has a non-empty code, Display and a JSON form with that
//!   code.
#![no_main]

use ikediag::ike::{self, AttributeValue, IkeMessage, PayloadDetail, HEADER_LEN, MAX_PAYLOADS};
use libfuzzer_sys::fuzz_target;

struct Bounds {
    start: usize,
    end: usize,
}

impl Bounds {
    fn check(&self, s: &[u8], what: &str) {
        if s.is_empty() {
            return;
        }
        let p = s.as_ptr() as usize;
        assert!(
            p >= self.start && p + s.len() <= self.end,
            "{what} ({} bytes) does not point into the input",
            s.len()
        );
    }
}

fn sink<T: std::fmt::Debug>(v: T) {
    std::hint::black_box(format!("{v:?}"));
}

fn exercise(msg: &IkeMessage<'_>, data: &[u8]) {
    let b = Bounds {
        start: data.as_ptr() as usize,
        end: data.as_ptr() as usize + data.len(),
    };
    let h = &msg.header;
    sink((
        h.is_initiator(),
        h.is_response(),
        h.is_encrypted_v1(),
        h.is_commit_v1(),
        h.ispi_u64(),
        h.rspi_u64(),
        msg.version(),
        msg.exchange_name(),
        msg.has_encrypted_payload(),
    ));
    let extra = usize::from(h.major_version == 1 && h.is_encrypted_v1());
    assert!(msg.payloads.len() <= MAX_PAYLOADS + extra);

    let names = msg.payload_names();
    assert!(names.len() >= msg.payloads.len());
    let mut notify_count = 0usize;
    let mut first_frag = None;
    let mut first_ke_group = None;
    for p in &msg.payloads {
        assert!(!p.name.is_empty());
        assert!(p.offset >= HEADER_LEN && p.offset <= data.len(), "payload offset outside");
        b.check(p.body, "payload body");
        let v = p.detail.clone();
        match &p.detail {
            PayloadDetail::Sa(sa) => {
                for prop in &sa.proposals {
                    b.check(prop.spi, "v2 proposal spi");
                    sink((prop.proposal_number, prop.num_transforms, prop.protocol_name()));
                    for ty in 0..=8u8 {
                        sink(prop.transforms_of(ty).count());
                    }
                    for t in &prop.transforms {
                        b.check(t.attributes, "v2 transform attributes");
                        sink((t.type_name(), t.name(), t.key_length, t.transform_id));
                    }
                }
            }
            PayloadDetail::V1Sa(sa) => {
                b.check(sa.situation, "v1 situation");
                sink((sa.doi, ike::v1_doi_name(sa.doi)));
                for prop in &sa.proposals {
                    b.check(prop.spi, "v1 proposal spi");
                    sink((prop.proposal_number, prop.num_transforms, prop.protocol_name()));
                    for t in &prop.transforms {
                        sink((t.transform_number, t.name(prop.protocol_id)));
                        for a in &t.attributes {
                            if let AttributeValue::Variable(v) = a.value {
                                b.check(v, "v1 attribute value");
                            }
                            sink((
                                a.name(prop.protocol_id),
                                a.value_name(prop.protocol_id),
                                a.value.as_u64(),
                                t.attribute(a.attribute_type).is_some(),
                                t.attribute_value(a.attribute_type),
                            ));
                        }
                    }
                }
            }
            PayloadDetail::Ke(ke) => {
                b.check(ke.data, "ke data");
                sink(ke.group_name());
                if first_ke_group.is_none() {
                    first_ke_group = ke.dh_group;
                }
            }
            PayloadDetail::Id(id) => {
                b.check(id.data, "id data");
                sink((id.type_name(), id.ip_addr(), id.text(), id.protocol_id, id.port));
            }
            PayloadDetail::Cert(c) | PayloadDetail::CertReq(c) => {
                b.check(c.data, "cert data");
                sink(c.encoding_name());
            }
            PayloadDetail::Auth(a) => {
                b.check(a.data, "auth data");
                sink(a.method_name());
            }
            PayloadDetail::Hash(d)
            | PayloadDetail::Sig(d)
            | PayloadDetail::Nonce(d)
            | PayloadDetail::NatD(d) => b.check(d, "opaque body"),
            PayloadDetail::Notify(n) => {
                notify_count += 1;
                b.check(n.spi, "notify spi");
                b.check(n.data, "notify data");
                sink((
                    n.name(),
                    n.name_or_number(),
                    n.is_error(),
                    n.invalid_ke_group(),
                    n.nat_detection_hash(),
                    n.cookie(),
                    n.doi,
                    n.protocol_id,
                ));
            }
            PayloadDetail::Delete(d) => {
                b.check(d.spis, "delete spis");
                let mut count = 0usize;
                for spi in d.spi_list() {
                    b.check(spi, "delete spi");
                    assert_eq!(spi.len(), usize::from(d.spi_size));
                    count += 1;
                }
                if d.spi_size == 0 {
                    assert_eq!(count, 0);
                }
                sink((d.doi, d.protocol_id, d.num_spis, count));
            }
            PayloadDetail::VendorId(vid) => {
                b.check(vid.data, "vendor id");
                assert_eq!(vid.name, ike::vendor_name(vid.data));
            }
            PayloadDetail::Ts(ts) => {
                for s in &ts.selectors {
                    b.check(s.start_address, "ts start");
                    b.check(s.end_address, "ts end");
                    sink((s.type_name(), s.address_range(), s.start_port, s.end_port));
                }
                sink(ts.num_ts);
            }
            PayloadDetail::Encrypted(e) => {
                b.check(e.data, "encrypted data");
                sink(e.first_payload);
            }
            PayloadDetail::EncryptedFragment(f) => {
                b.check(f.data, "skf data");
                if first_frag.is_none() {
                    first_frag = Some((f.fragment_number, f.total_fragments));
                }
            }
            PayloadDetail::Config(c) => {
                b.check(c.attributes, "config attributes");
                sink((c.cfg_type, c.identifier));
            }
            PayloadDetail::Eap(e) => {
                b.check(e.message, "eap message");
                sink((e.code, e.identifier, e.eap_type));
            }
            PayloadDetail::NatOa(o) => {
                b.check(o.address, "nat-oa address");
                sink(o.ip_addr());
            }
            PayloadDetail::CiscoFragment(f) => {
                b.check(f.data, "cisco fragment data");
                if first_frag.is_none() {
                    let n = u16::from(f.fragment_number);
                    first_frag = Some((n, if f.is_last { n } else { 0 }));
                }
            }
            PayloadDetail::Raw => {}
        }
        assert_eq!(v, p.detail);
    }
    // payload_names: each payload's name in order, with P/T inserted.
    let mut it = names.iter().filter(|n| **n != "P" && **n != "T");
    for p in &msg.payloads {
        if p.name == "P" || p.name == "T" {
            continue;
        }
        assert_eq!(it.next(), Some(&p.name), "payload_names out of order");
    }

    let types = msg.notify_types();
    let nnames = msg.notify_names();
    let normalized = msg.notify_names_normalized();
    assert_eq!(types.len(), notify_count);
    assert_eq!(nnames.len(), notify_count);
    assert_eq!(normalized.len(), notify_count);
    assert_eq!(msg.notifies().count(), notify_count);
    for n in &normalized {
        assert!(!n.contains('-'));
    }
    assert_eq!(msg.fragment(), first_frag);
    let ke = msg.ke_group();
    if ke.is_some() {
        assert_eq!(ke, first_ke_group);
    }
    let ikg = msg.invalid_ke_group();
    if ikg.is_some() {
        assert!(types.contains(&17));
    }
    for v in msg.vendor_ids() {
        sink(v.name);
    }

    for a in &msg.anomalies {
        let code = a.code();
        assert!(!code.is_empty());
        let shown = a.to_string();
        assert!(!shown.is_empty());
        let json = serde_json::to_value(a).expect("anomaly serialises");
        assert_eq!(json.get("code").and_then(|c| c.as_str()), Some(code));
    }
}

fuzz_target!(|data: &[u8]| {
    match ike::parse(data) {
        Ok(msg) => {
            assert!(data.len() >= HEADER_LEN);
            exercise(&msg, data);
            // The header parser agrees with the message parser.
            assert_eq!(ike::IkeHeader::parse(data).ok(), Some(msg.header.clone()));
        }
        Err(e) => {
            assert!(data.len() < HEADER_LEN, "parse failed on {} bytes: {e}", data.len());
        }
    }
    // Name tables must accept any number.
    if let [a, b, c, ..] = data {
        let w = u16::from_be_bytes([*b, *c]);
        sink((
            ike::v1_payload_short_name(*a),
            ike::v2_payload_short_name(*a),
            ike::v1_notify_name(w),
            ike::v2_notify_name(w),
            ike::v2_transform_name(*a, w),
            ike::v1_transform_name(*a, *b),
            ike::v1_attribute_name(*a, w),
            ike::dh_group_name(w),
        ));
    }
});
