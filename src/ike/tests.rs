//! Tests of the IKE parser over real messages from the project corpus,
//! embedded as hex so they need no files, plus malformed variants of each
//! (every truncation, every length field flipped) that must never panic and
//! must yield anomalies rather than errors.
//!
//! Sources (frame numbers are Wireshark's, 1-based) are named above each
//! constant; for UDP 4500 the 4-byte non-ESP marker was removed.

use super::*;

/// corpus/public/ipsec-parser/ike-sa-init-req.bin (raw IKEv2 IKE_SA_INIT request)
const IPSEC_PARSER_INIT_REQ: &str = concat!(
    "54c184961bc3fd7700000000000000002120220800000000000001002200003800000034010100050300000c0100000c",
    "800e008003000008010000030300000802000002030000080300000200000008040000022800008800020000c72c1cfd",
    "ccbb5b0dc0f654861d4aa3987293bd41e9d2dc9b2b806c26c1dcf880908f6a8a3c7065b40bf458c86787c135c570c8df",
    "48b740f0ed283d73056272baf68491a3443e159c5cd14c15a15cf2fc86459dc80b6e76ca01fa458fc8828c05d03dbb37",
    "bbbeb882d51b3412dd87cf68322ff4bb40b6c4b66191bc580d9fe1a8000000244b98c2d7d3d81e9f52b0ca4e0545817d",
    "94560249583970190d97e44002ce1752",
);

/// corpus/public/ipsec-parser/ike-sa-init-resp.bin (raw IKEv2 IKE_SA_INIT response)
const IPSEC_PARSER_INIT_RESP: &str = concat!(
    "54c184961bc3fd776386aa2273ed3972212022200000000000000119220000300000002c010100040300000c0100000c",
    "800e008003000008020000020300000803000002000000080400000228000088000200009393d1e7d1476396c255940d",
    "aca988e1d54fdc9f594d7a6584af8fc890308fe8b3d3428104cbc722de436f821fa8bb2c67fe70293e97f297ca5a8253",
    "863c2c904cce45c33949701f20be59857d49ce3f6485681eb40331273b48b6f2966fd3436a11bd85d6bc0e514a223575",
    "e8a6b6779b0615364d83701442ed893544c6cebb260000245f1da86cf3de54db061b7b334dce9756b85254c841551b0e",
    "6cdc8cd3c2d5867c2900001904447641e5268ad6a4bc5b982460aa0c66103c05c30000000800004008",
);

/// corpus/lab/ok_psk.pcap frame 5: IKEv2 IKE_SA_INIT request, UDP 500
const OK_PSK_INIT_REQ: &str = concat!(
    "fa013deb7dd2fca200000000000000002120220800000000000000f0220000300000002c010100040300000c0100000c",
    "800e0080030000080300000c0300000802000005000000080400001f28000028001f0000dd86af1a1d46100fd95a73e7",
    "94fa5752e71c22d7f5ebe683ef006899b1a0980d290000248f6bd496b376a246cfa868f34a30cb97f7ff3e49d2cfc633",
    "f36f5acb931b763a2900001c000040043baa78f27ceaac59a3810b4ae7338c6bf7fb15152900001c00004005c077ba0c",
    "ad96b90eadcab0c744d910094656e5cc290000080000402e290000100000402f00020003000400050000000800004016",
);

/// corpus/lab/ok_psk.pcap frame 6: IKEv2 IKE_SA_INIT response, UDP 500
const OK_PSK_INIT_RESP: &str = concat!(
    "fa013deb7dd2fca26dc4df981a7b2f97212022200000000000000125220000300000002c010100040300000c0100000c",
    "800e0080030000080300000c0300000802000005000000080400001f28000028001f0000c1d42b69b62ee4fce06b4d13",
    "58a2fac4959287e2c823290e630167c01d8b176f290000249a0b3fbf67ff50db3217d9571032fa5fb0facba6862d69b6",
    "0ff28163d94fc9802900001c00004004813ed5b348c687fbdd142eab869ff4ee62008d092600001c000040059ccc95a5",
    "d231d3d713b1be365924f62e4d2b44582900002d0410f0e80fe02f23ede26f872cd4f4e3cd3477bdf4a704f321ae5777",
    "58dae72129074ff288c68a35c0290000080000402e290000100000402f00020003000400052900000800004022000000",
    "0800004014",
);

/// corpus/lab/invalid_ke.pcap frame 6: IKE_SA_INIT response with INVALID_KE_PAYLOAD, UDP 500
const INVALID_KE_RESP: &str =
    "8fbc7924c47bbc6f00000000000000002920222000000000000000260000000a00000011000e";

/// corpus/lab/cookie.pcap frame 6: IKE_SA_INIT response with COOKIE, UDP 500
const COOKIE_RESP: &str = concat!(
    "8cbf2926cdd7ce2c000000000000000029202220000000000000003c000000200000400679020000bd2c0fd252bdd09d",
    "2922ee02464f93a944b5887d",
);

/// corpus/lab/cookie.pcap frame 7: IKE_SA_INIT request repeated with the COOKIE, UDP 500
const COOKIE_RETRY_REQ: &str = concat!(
    "8cbf2926cdd7ce2c0000000000000000292022080000000000000110210000200000400679020000bd2c0fd252bdd09d",
    "2922ee02464f93a944b5887d220000300000002c010100040300000c0100000c800e0080030000080300000c03000008",
    "02000005000000080400001f28000028001f000094b25f0c2aa7a6c98639c4c1e7162e6b8b19673933e77b576d2b4df0",
    "2b4f566929000024dba5c51ab3fc0bf33cdf4ff27e5c7374c6adc16f7dd365db0c8e4aaa2527530e2900001c00004004",
    "988ee6f7c454073b142f555492287a9f43a1489c2900001c00004005a9836397e75342b3cb7d623e3beb701d8fe364b7",
    "290000080000402e290000100000402f00020003000400050000000800004016",
);

/// corpus/lab/ikev2_fragmentation_rfc7383.pcap frame 11: IKE_AUTH request fragment 5/5, UDP 4500 (non-ESP marker removed)
const SKF_FRAGMENT: &str = concat!(
    "8cdb4ef46dda163df311a94a7548dc3d35202308000000010000005400000038000500051b2993aa14eec7d4c5fe60b3",
    "07c486f23bf03f37d64c2a1507bd170ba06ed842975192422aa2a9ad33296303f75da735",
);

/// corpus/lab/invalid_ke.pcap frame 11: INFORMATIONAL request (SK), UDP 4500 (non-ESP marker removed)
const SK_INFORMATIONAL: &str = concat!(
    "8fbc7924c47bbc6f007db43503dfd3052e20250800000002000000502a00003455879181e2cac88c7971eb3af294a36b",
    "d4026a90ad644459384f0c3f203daa088fda4c0f40895be2668debfb619a5623",
);

/// corpus/lab/ikev1_main_mode_ok.pcap frame 4: Main Mode message 1 (SA + VIDs), UDP 500
const V1_MAIN_MODE_SA_REQ: &str = concat!(
    "447aa0bcb83c59e600000000000000000110020000000000000000b40d00003800000001000000010000002c01010001",
    "000000240101000080010007800e0080800200028004000e80030001800b0001800c3de00d00000c09002689dfd6b712",
    "0d000014afcad71368a1f1c96b8696fc775701000d0000184048b7d56ebce88525e7de7f00d6c2d3800000000d000014",
    "4a131c81070358455c5728f20e95452f0000001490cb80913ebb696e086381b5ec427b1f",
);

/// corpus/lab/ikev1_main_mode_ok.pcap frame 5: Main Mode message 2 (SA + VIDs), UDP 500
const V1_MAIN_MODE_SA_RESP: &str = concat!(
    "447aa0bcb83c59e65eabc33bad50a8b60110020000000000000000a00d00003800000001000000010000002c01010001",
    "000000240101000080010007800e0080800200028004000e80030001800b0001800c3de00d00000c09002689dfd6b712",
    "0d000014afcad71368a1f1c96b8696fc775701000d0000184048b7d56ebce88525e7de7f00d6c2d38000000000000014",
    "4a131c81070358455c5728f20e95452f",
);

/// corpus/lab/ikev1_main_mode_ok.pcap frame 8: Main Mode message 5, encrypted, UDP 500
const V1_MAIN_MODE_ENCRYPTED: &str = concat!(
    "447aa0bcb83c59e65eabc33bad50a8b605100201000000000000007cec82e9601c24e15f3d4b1be75d8ecaae03aff272",
    "b55bfa0220e8a0a431bd90497c61681fb1a461eb95375f48482167251ed3c0458e2d1313ddaa9a2ccf399792f23bbc17",
    "ebfbf3f47f967d9a3e92dc7902498bde428e91016548b9554dac34da",
);

/// corpus/lab/ikev1_aggressive_ok.pcap frame 4: Aggressive Mode message 1, UDP 500
const V1_AGGRESSIVE_REQ: &str = concat!(
    "89d400efdce7c70100000000000000000110040000000000000001f80400003800000001000000010000002c01010001",
    "000000240101000080010007800e0080800200028004000e80030001800b0001800c3de00a0001044ba94247131dd64e",
    "61931472287ce1c1bb9d0ad337496dcf37dabc30a01bdee6e8100b0d56d280ad18367aeff9bb3c044af68d36e15c90ed",
    "80f524223bc5d4c61977a4476dc0c38e6032d5fe90916f5f12f67e972fb9a2064e8fd3eed9d5287b812fc2816d1e49bd",
    "7a6526ec56ded6f43062a7f0d5812e7303f114020f8538c71877455bf0fbce4a8cd50da314ae05fedc378c1b695e4218",
    "47b028cc14619fac572b02bcaab8ece56d0e05ebb2821f27cb453c4fdbdce4a3cb5bc9c86581b393953b1953e67daf86",
    "ba1e71a84b941ccfd13ce306dbf2b55e284e7bced6589cc92b60c4782d1441ae3dfb2e35d8b4612871b5b8bec3586761",
    "c1eddf4a6a826def0500002428e52f36cf37360959b2da78ea61200e83efa7ac9c09303be32aa3fd5369d3e10d00001c",
    "02000000636c69656e742e6c61622d612e6578616d706c650d00000c09002689dfd6b7120d000014afcad71368a1f1c9",
    "6b8696fc775701000d0000184048b7d56ebce88525e7de7f00d6c2d3800000000d0000144a131c81070358455c5728f2",
    "0e95452f0000001490cb80913ebb696e086381b5ec427b1f",
);

/// corpus/lab/ikev1_no_proposal.pcap frame 4: Informational with NO-PROPOSAL-CHOSEN, UDP 500
const V1_NO_PROPOSAL: &str = concat!(
    "a0a9189288cbedea8544c034f95f5a990b100500713a451c000000380000001c000000010110000ea0a9189288cbedea",
    "8544c034f95f5a99",
);

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2));
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

const ALL: &[(&str, &str)] = &[
    ("ipsec-parser init req", IPSEC_PARSER_INIT_REQ),
    ("ipsec-parser init resp", IPSEC_PARSER_INIT_RESP),
    ("ok_psk 5", OK_PSK_INIT_REQ),
    ("ok_psk 6", OK_PSK_INIT_RESP),
    ("invalid_ke 6", INVALID_KE_RESP),
    ("cookie 6", COOKIE_RESP),
    ("cookie 7", COOKIE_RETRY_REQ),
    ("rfc7383 11", SKF_FRAGMENT),
    ("invalid_ke 11", SK_INFORMATIONAL),
    ("main mode 4", V1_MAIN_MODE_SA_REQ),
    ("main mode 5", V1_MAIN_MODE_SA_RESP),
    ("main mode 8", V1_MAIN_MODE_ENCRYPTED),
    ("aggressive 4", V1_AGGRESSIVE_REQ),
    ("no proposal 4", V1_NO_PROPOSAL),
];

#[test]
fn every_real_message_parses_without_anomaly() {
    for (name, h) in ALL {
        let data = hex(h);
        let msg = parse(&data).expect(name);
        assert!(msg.anomalies.is_empty(), "{name}: {:?}", msg.anomalies);
        assert_eq!(msg.header.length as usize, data.len(), "{name}");
    }
}

#[test]
fn ikev2_sa_init_request() {
    let data = hex(OK_PSK_INIT_REQ);
    let msg = parse(&data).unwrap();
    assert_eq!(msg.version(), 2);
    assert_eq!(msg.exchange_name(), Some("IKE_SA_INIT"));
    assert!(msg.header.is_initiator());
    assert!(!msg.header.is_response());
    assert_eq!(
        msg.header.ispi,
        [0xfa, 0x01, 0x3d, 0xeb, 0x7d, 0xd2, 0xfc, 0xa2]
    );
    assert_eq!(msg.header.message_id, 0);
    // As the lab summary lists them (ok_psk.tshark.tsv frame 5).
    assert_eq!(
        msg.payload_names(),
        ["SA", "KE", "Nonce", "N", "N", "N", "N", "N"]
    );
    assert_eq!(
        msg.notify_names(),
        [
            "NAT_DETECTION_SOURCE_IP",
            "NAT_DETECTION_DESTINATION_IP",
            "IKEV2_FRAGMENTATION_SUPPORTED",
            "SIGNATURE_HASH_ALGORITHMS",
            "REDIRECT_SUPPORTED"
        ]
    );
    assert_eq!(msg.notify_types(), [16388, 16389, 16430, 16431, 16406]);
    assert_eq!(msg.ke_group(), Some(31));
    let PayloadDetail::Sa(sa) = &msg.payloads[0].detail else {
        panic!("SA")
    };
    assert_eq!(sa.proposals.len(), 1);
    let p = &sa.proposals[0];
    assert_eq!((p.proposal_number, p.protocol_id, p.spi.len()), (1, 1, 0));
    assert_eq!(p.protocol_name(), Some("IKE"));
    let t: Vec<_> = p
        .transforms
        .iter()
        .map(|t| (t.type_name(), t.name(), t.key_length))
        .collect();
    assert_eq!(
        t,
        [
            (Some("ENCR"), Some("ENCR_AES_CBC"), Some(128)),
            (Some("INTEG"), Some("AUTH_HMAC_SHA2_256_128"), None),
            (Some("PRF"), Some("PRF_HMAC_SHA2_256"), None),
            (Some("DH"), Some("Curve25519"), None),
        ]
    );
    let nat_d: Vec<_> = msg
        .notifies()
        .filter_map(|n| n.nat_detection_hash())
        .collect();
    assert_eq!(nat_d.len(), 2);
    assert!(nat_d.iter().all(|h| h.len() == 20), "SHA-1 NAT-D hashes");
    let PayloadDetail::Ke(ke) = &msg.payloads[1].detail else {
        panic!("KE")
    };
    assert_eq!(ke.group_name(), Some("Curve25519"));
    assert_eq!(ke.data.len(), 32);
}

#[test]
fn ikev2_sa_init_response() {
    let data = hex(OK_PSK_INIT_RESP);
    let msg = parse(&data).unwrap();
    assert!(msg.header.is_response());
    assert!(!msg.header.is_initiator());
    assert_eq!(
        msg.payload_names(),
        ["SA", "KE", "Nonce", "N", "N", "CERTREQ", "N", "N", "N", "N"]
    );
    assert_eq!(
        msg.notify_names(),
        [
            "NAT_DETECTION_SOURCE_IP",
            "NAT_DETECTION_DESTINATION_IP",
            "IKEV2_FRAGMENTATION_SUPPORTED",
            "SIGNATURE_HASH_ALGORITHMS",
            "CHILDLESS_IKEV2_SUPPORTED",
            "MULTIPLE_AUTH_SUPPORTED"
        ]
    );
    let PayloadDetail::Sa(sa) = &msg.payloads[0].detail else {
        panic!("SA")
    };
    assert_eq!(sa.proposals[0].transforms.len(), 4);
    assert_eq!(msg.fragment(), None);
}

#[test]
fn ipsec_parser_assets() {
    let req = hex(IPSEC_PARSER_INIT_REQ);
    let msg = parse(&req).unwrap();
    assert_eq!(msg.exchange_name(), Some("IKE_SA_INIT"));
    assert!(msg.header.is_initiator());
    assert_eq!(msg.payload_names(), ["SA", "KE", "Nonce"]);
    let PayloadDetail::Sa(sa) = &msg.payloads[0].detail else {
        panic!("SA")
    };
    let names: Vec<_> = sa.proposals[0]
        .transforms
        .iter()
        .map(|t| t.name())
        .collect();
    assert_eq!(
        names,
        [
            Some("ENCR_AES_CBC"),
            Some("ENCR_3DES"),
            Some("PRF_HMAC_SHA1"),
            Some("AUTH_HMAC_SHA1_96"),
            Some("1024-bit MODP Group")
        ]
    );
    assert_eq!(msg.ke_group(), Some(2));
    let resp = hex(IPSEC_PARSER_INIT_RESP);
    let msg = parse(&resp).unwrap();
    assert!(msg.header.is_response());
    assert_eq!(msg.payload_names(), RESP_NAMES);
    let n = msg.notifies().last().unwrap();
    assert_eq!(n.name(), Some("HTTP_CERT_LOOKUP_SUPPORTED"));
}

const RESP_NAMES: [&str; 5] = ["SA", "KE", "Nonce", "CERTREQ", "N"];

#[test]
fn invalid_ke_payload_carries_the_wanted_group() {
    let data = hex(INVALID_KE_RESP);
    let msg = parse(&data).unwrap();
    assert_eq!(msg.payload_names(), ["N"]);
    assert_eq!(msg.notify_names(), ["INVALID_KE_PAYLOAD"]);
    assert_eq!(msg.invalid_ke_group(), Some(14));
    assert_eq!(dh_group_name(14), Some("2048-bit MODP Group"));
}

#[test]
fn cookie_exchange() {
    let data = hex(COOKIE_RESP);
    let msg = parse(&data).unwrap();
    assert_eq!(msg.notify_names(), ["COOKIE"]);
    let cookie = msg.notifies().find_map(|n| n.cookie()).unwrap();
    assert_eq!(
        cookie,
        hex("79020000bd2c0fd252bdd09d2922ee02464f93a944b5887d").as_slice()
    );
    // The repeated request starts with the same cookie.
    let retry = hex(COOKIE_RETRY_REQ);
    let msg2 = parse(&retry).unwrap();
    assert_eq!(msg2.notify_types().first(), Some(&16390));
    assert_eq!(
        msg2.notifies().next().and_then(|n| n.cookie()),
        Some(cookie)
    );
    assert_eq!(msg2.payload_names()[0], "N");
}

#[test]
fn skf_fragment() {
    let data = hex(SKF_FRAGMENT);
    let msg = parse(&data).unwrap();
    assert_eq!(msg.exchange_name(), Some("IKE_AUTH"));
    assert_eq!(msg.payload_names(), ["SKF"]);
    assert_eq!(msg.fragment(), Some((5, 5)));
    assert!(msg.has_encrypted_payload());
    let PayloadDetail::EncryptedFragment(f) = &msg.payloads[0].detail else {
        panic!("SKF")
    };
    assert_eq!(
        f.first_payload, 0,
        "only fragment 1 names the inner payload"
    );
    assert_eq!(f.data.len(), data.len() - HEADER_LEN - 8);
}

#[test]
fn sk_payload_is_opaque_and_last() {
    let data = hex(SK_INFORMATIONAL);
    let msg = parse(&data).unwrap();
    assert_eq!(msg.exchange_name(), Some("INFORMATIONAL"));
    assert_eq!(msg.payload_names(), ["SK"]);
    assert!(msg.notify_names().is_empty(), "nothing visible in clear");
    let PayloadDetail::Encrypted(e) = &msg.payloads[0].detail else {
        panic!("SK")
    };
    assert_eq!(e.first_payload, msg.payloads[0].next_payload);
}

#[test]
fn ikev1_main_mode_sa_with_attributes() {
    let data = hex(V1_MAIN_MODE_SA_REQ);
    let msg = parse(&data).unwrap();
    assert_eq!(msg.version(), 1);
    assert_eq!(msg.exchange_name(), Some("MAIN_MODE"));
    // As the lab summary lists them (ikev1_main_mode_ok.tshark.tsv frame 4).
    assert_eq!(
        msg.payload_names(),
        ["SA", "P", "T", "VID", "VID", "VID", "VID", "VID"]
    );
    let PayloadDetail::V1Sa(sa) = &msg.payloads[0].detail else {
        panic!("SA")
    };
    assert_eq!(sa.doi, 1);
    assert_eq!(sa.situation, [0, 0, 0, 1]);
    let p = &sa.proposals[0];
    assert_eq!(p.protocol_name(), Some("PROTO_ISAKMP"));
    let t = &p.transforms[0];
    assert_eq!(t.name(p.protocol_id), Some("KEY_IKE"));
    let attrs: Vec<_> = t
        .attributes
        .iter()
        .map(|a| (a.name(1), a.value.as_u64(), a.value_name(1)))
        .collect();
    assert_eq!(
        attrs,
        [
            (Some("Encryption Algorithm"), Some(7), Some("AES-CBC")),
            (Some("Key Length"), Some(128), None),
            (Some("Hash Algorithm"), Some(2), Some("SHA")),
            (
                Some("Group Description"),
                Some(14),
                Some("2048-bit MODP Group")
            ),
            (
                Some("Authentication Method"),
                Some(1),
                Some("pre-shared key")
            ),
            (Some("Life Type"), Some(1), Some("seconds")),
            (Some("Life Duration"), Some(15840), None),
        ]
    );
    let vids: Vec<_> = msg.vendor_ids().map(|v| v.name).collect();
    assert_eq!(
        vids,
        [
            Some("XAUTH"),
            Some("RFC 3706 DPD"),
            Some("IKE Fragmentation"),
            Some("RFC 3947 NAT-T"),
            Some("draft-ietf-ipsec-nat-t-ike-02\\n")
        ]
    );
}

#[test]
fn ikev1_aggressive_mode() {
    let data = hex(V1_AGGRESSIVE_REQ);
    let msg = parse(&data).unwrap();
    assert_eq!(msg.exchange_name(), Some("AGGRESSIVE_MODE"));
    assert_eq!(
        msg.payload_names(),
        [
            "SA", "P", "T", "KE", "NONCE", "ID", "VID", "VID", "VID", "VID", "VID"
        ]
    );
    let id = msg
        .payloads
        .iter()
        .find_map(|p| match &p.detail {
            PayloadDetail::Id(id) => Some(id),
            _ => None,
        })
        .unwrap();
    assert_eq!(id.type_name(), Some("ID_FQDN"));
    assert_eq!(id.text(), Some("client.lab-a.example"));
    assert_eq!((id.protocol_id, id.port), (Some(0), Some(0)));
    assert_eq!(msg.ke_group(), None, "IKEv1 KE has no group field");
}

#[test]
fn ikev1_no_proposal_chosen() {
    let data = hex(V1_NO_PROPOSAL);
    let msg = parse(&data).unwrap();
    assert_eq!(msg.exchange_name(), Some("INFORMATIONAL"));
    assert_eq!(msg.payload_names(), ["N"]);
    assert_eq!(msg.notify_types(), [14]);
    assert_eq!(msg.notify_names(), ["NO-PROPOSAL-CHOSEN"]);
    assert_eq!(msg.notify_names_normalized(), ["NO_PROPOSAL_CHOSEN"]);
    let n = msg.notifies().next().unwrap();
    assert_eq!(n.doi, Some(1));
    assert_eq!(n.protocol_id, 1);
    assert_eq!(n.spi.len(), 16, "ISAKMP SPI = both cookies");
    assert!(n.is_error());
}

#[test]
fn ikev1_encrypted_message_is_one_opaque_payload() {
    let data = hex(V1_MAIN_MODE_ENCRYPTED);
    let msg = parse(&data).unwrap();
    assert!(msg.header.is_encrypted_v1());
    assert_eq!(msg.payload_names(), ["encrypted"]);
    assert!(msg.anomalies.is_empty());
    let PayloadDetail::Encrypted(e) = &msg.payloads[0].detail else {
        panic!("encrypted")
    };
    assert_eq!(e.first_payload, 5, "ID is the first encrypted payload");
    assert_eq!(e.data.len(), data.len() - HEADER_LEN);
}

#[test]
fn too_short_is_the_only_error() {
    for n in 0..HEADER_LEN {
        assert_eq!(parse(&vec![0u8; n]), Err(IkeError::TooShort { len: n }));
    }
    assert!(
        IkeError::TooShort { len: 3 }
            .to_string()
            .contains("3 bytes")
    );
}

fn codes(msg: &IkeMessage<'_>) -> Vec<&'static str> {
    msg.anomalies.iter().map(|a| a.code()).collect()
}

#[test]
fn every_truncation_yields_anomalies_not_errors() {
    for (name, h) in ALL {
        let data = hex(h);
        for n in HEADER_LEN..data.len() {
            let msg = parse(&data[..n]).unwrap_or_else(|e| panic!("{name} at {n}: {e}"));
            assert!(
                codes(&msg).contains(&"message-truncated"),
                "{name} at {n}: {:?}",
                msg.anomalies
            );
            for a in &msg.anomalies {
                assert!(!a.to_string().is_empty());
            }
        }
    }
}

/// Offsets of every 2-byte length field in the generic payload chain.
fn payload_length_offsets(data: &[u8]) -> Vec<usize> {
    parse(data)
        .unwrap()
        .payloads
        .iter()
        .map(|p| p.offset + 2)
        .collect()
}

#[test]
fn flipped_length_fields_never_panic() {
    for (name, h) in ALL {
        let data = hex(h);
        let mut fields = payload_length_offsets(&data);
        fields.push(24); // header length (4 bytes, the low half is flipped below too)
        fields.push(26);
        for &off in &fields {
            for v in [0u16, 1, 3, 4, 5, 7, 8, 9, 0x7fff, 0xffff] {
                let mut m = data.clone();
                if off + 1 < m.len() {
                    m[off..off + 2].copy_from_slice(&v.to_be_bytes());
                }
                let msg = parse(&m).unwrap_or_else(|e| panic!("{name} off {off} v {v}: {e}"));
                let _ = (msg.payload_names(), msg.notify_names(), msg.fragment());
            }
        }
        // Every byte of the body flipped to 0x00 and 0xff, one at a time.
        for i in HEADER_LEN..data.len() {
            for v in [0x00u8, 0xff] {
                let mut m = data.clone();
                m[i] = v;
                let msg = parse(&m).unwrap();
                let _ = (msg.payload_names(), msg.notify_names(), msg.fragment());
                let _ = format!("{:?}", msg.anomalies);
            }
        }
    }
}

#[test]
fn header_length_anomalies() {
    let mut data = hex(INVALID_KE_RESP);
    data[24..28].copy_from_slice(&20u32.to_be_bytes());
    let msg = parse(&data).unwrap();
    assert_eq!(codes(&msg), ["header-length-too-small"]);
    assert_eq!(
        msg.notify_names(),
        ["INVALID_KE_PAYLOAD"],
        "the bytes present are parsed"
    );

    let mut data = hex(INVALID_KE_RESP);
    data.extend_from_slice(&[0xde, 0xad]);
    let msg = parse(&data).unwrap();
    assert_eq!(codes(&msg), ["trailing-data-after-message"]);
    assert_eq!(msg.invalid_ke_group(), Some(14));
}

#[test]
fn payload_length_anomalies() {
    // INVALID_KE response: one Notify at offset 28, length field at 30.
    let base = hex(INVALID_KE_RESP);
    let mut m = base.clone();
    m[30..32].copy_from_slice(&2u16.to_be_bytes());
    let msg = parse(&m).unwrap();
    assert_eq!(codes(&msg), ["payload-length-too-small"]);
    assert!(msg.payloads.is_empty());

    let mut m = base.clone();
    m[30..32].copy_from_slice(&200u16.to_be_bytes());
    let msg = parse(&m).unwrap();
    assert_eq!(codes(&msg), ["payload-beyond-message"]);
    assert_eq!(msg.payloads.len(), 1);
    assert_eq!(msg.payloads[0].detail, PayloadDetail::Raw);

    // Shorter payload: the rest of the message is trailing.
    let mut m = base.clone();
    m[30..32].copy_from_slice(&8u16.to_be_bytes());
    let msg = parse(&m).unwrap();
    assert_eq!(codes(&msg), ["trailing-bytes-after-payloads"]);
    assert_eq!(msg.invalid_ke_group(), None, "no data left for the group");

    // Body shorter than the Notify fixed part.
    let mut m = base.clone();
    m[30..32].copy_from_slice(&6u16.to_be_bytes());
    let msg = parse(&m).unwrap();
    assert_eq!(
        codes(&msg),
        ["payload-body-too-short", "trailing-bytes-after-payloads"]
    );
    assert_eq!(msg.payloads[0].detail, PayloadDetail::Raw);

    // Next payload points to a payload that is not there.
    let mut m = base.clone();
    m[28] = 41;
    let msg = parse(&m).unwrap();
    assert_eq!(codes(&msg), ["payload-header-truncated"]);
}

#[test]
fn unknown_payload_type_is_skipped_by_length() {
    // IKE_SA_INIT request: make the first payload (SA) an unknown type 99
    // with the critical bit set; the chain continues with KE.
    let mut m = hex(OK_PSK_INIT_REQ);
    m[16] = 99;
    m[29] |= 0x80;
    let msg = parse(&m).unwrap();
    assert_eq!(codes(&msg), ["unknown-payload-type"]);
    assert!(matches!(
        msg.anomalies[0],
        IkeAnomaly::UnknownPayloadType {
            offset: 28,
            payload_type: 99,
            is_critical: true
        }
    ));
    assert_eq!(msg.payload_names()[..3], ["unknown", "KE", "Nonce"]);
    assert_eq!(msg.ke_group(), Some(31));
}

#[test]
fn unknown_major_version_stops_parsing() {
    let mut m = hex(OK_PSK_INIT_REQ);
    m[17] = 0x30;
    let msg = parse(&m).unwrap();
    assert_eq!(codes(&msg), ["unknown-major-version"]);
    assert!(msg.payloads.is_empty());
    assert_eq!(msg.exchange_name(), None);
}

#[test]
fn payload_loop_is_capped() {
    // A v2 message of 300 empty Nonce payloads each pointing to the next.
    let mut m = hex(INVALID_KE_RESP)[..HEADER_LEN].to_vec();
    m[16] = 40;
    for i in 0..300 {
        m.extend_from_slice(&[if i == 299 { 0 } else { 40 }, 0, 0, 4]);
    }
    let len = m.len() as u32;
    m[24..28].copy_from_slice(&len.to_be_bytes());
    let msg = parse(&m).unwrap();
    assert_eq!(msg.payloads.len(), MAX_PAYLOADS);
    assert_eq!(codes(&msg), ["too-many-payloads"]);
}

#[test]
fn hostile_input_is_linear() {
    // 64 KiB of a 4-byte payload repeated, and of random-looking bytes.
    let mut m = hex(V1_NO_PROPOSAL)[..HEADER_LEN].to_vec();
    m[16] = 13;
    while m.len() < 65536 {
        m.extend_from_slice(&[13, 0, 0, 4]);
    }
    let len = m.len() as u32;
    m[24..28].copy_from_slice(&len.to_be_bytes());
    let start = std::time::Instant::now();
    let msg = parse(&m).unwrap();
    assert_eq!(msg.payloads.len(), MAX_PAYLOADS);
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..65536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    for v in [0x10u8, 0x20] {
        let mut n = noise.clone();
        n[17] = v;
        n[19] &= !FLAG_ENCRYPTION_V1;
        let _ = parse(&n).unwrap();
    }
    assert!(start.elapsed().as_secs() < 2);
}

#[test]
fn ikev2_substructure_anomalies() {
    let base = hex(OK_PSK_INIT_REQ);
    // SA payload at 28; proposal header at 32 (length field at 34).
    let mut m = base.clone();
    m[34..36].copy_from_slice(&0xfff0u16.to_be_bytes());
    let msg = parse(&m).unwrap();
    assert_eq!(codes(&msg), ["substructure-malformed"]);
    let PayloadDetail::Sa(sa) = &msg.payloads[0].detail else {
        panic!()
    };
    assert!(sa.proposals.is_empty());
    // Num transforms off by one.
    let mut m = base.clone();
    m[39] = 5;
    let msg = parse(&m).unwrap();
    assert_eq!(codes(&msg), ["count-mismatch"]);
}

#[test]
fn delete_payload_spis() {
    // Hand-built IKEv2 INFORMATIONAL with a Delete for two ESP SPIs
    // (RFC 7296 §3.11), as seen in clear only in unencrypted test traffic.
    let mut m = hex(INVALID_KE_RESP)[..HEADER_LEN].to_vec();
    m[16] = 42;
    m[18] = 37;
    m.extend_from_slice(&[0, 0, 0, 16, 3, 4, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
    let len = m.len() as u32;
    m[24..28].copy_from_slice(&len.to_be_bytes());
    let msg = parse(&m).unwrap();
    assert!(msg.anomalies.is_empty(), "{:?}", msg.anomalies);
    let PayloadDetail::Delete(d) = &msg.payloads[0].detail else {
        panic!()
    };
    assert_eq!(
        d.spi_list().collect::<Vec<_>>(),
        [&[1, 2, 3, 4][..], &[5, 6, 7, 8][..]]
    );
    // Three SPIs declared, two present.
    m[35] = 3;
    let msg = parse(&m).unwrap();
    assert_eq!(codes(&msg), ["count-mismatch"]);
}

#[test]
fn cisco_fragment_payload() {
    // Hand-built IKEv1 message carrying one Cisco fragment (payload 132):
    // fragment id 0x0102, number 2, last.
    let mut m = hex(V1_NO_PROPOSAL)[..HEADER_LEN].to_vec();
    m[16] = 132;
    m.extend_from_slice(&[0, 0, 0, 12, 1, 2, 2, 1, 0xaa, 0xbb, 0xcc, 0xdd]);
    let len = m.len() as u32;
    m[24..28].copy_from_slice(&len.to_be_bytes());
    let msg = parse(&m).unwrap();
    assert!(msg.anomalies.is_empty(), "{:?}", msg.anomalies);
    assert_eq!(msg.payload_names(), ["FRAG"]);
    assert_eq!(msg.fragment(), Some((2, 2)));
    let PayloadDetail::CiscoFragment(f) = &msg.payloads[0].detail else {
        panic!()
    };
    assert_eq!((f.fragment_id, f.is_last, f.data.len()), (0x0102, true, 4));
}

#[test]
fn traffic_selectors() {
    // Hand-built TSi with one IPv4 range 10.0.0.0-10.0.0.255, any port
    // (RFC 7296 §3.13.1).
    let mut m = hex(INVALID_KE_RESP)[..HEADER_LEN].to_vec();
    m[16] = 44;
    m.extend_from_slice(&[0, 0, 0, 24, 1, 0, 0, 0, 7, 0, 0, 16, 0, 0, 0xff, 0xff]);
    m.extend_from_slice(&[10, 0, 0, 0, 10, 0, 0, 255]);
    let len = m.len() as u32;
    m[24..28].copy_from_slice(&len.to_be_bytes());
    let msg = parse(&m).unwrap();
    assert!(msg.anomalies.is_empty(), "{:?}", msg.anomalies);
    let PayloadDetail::Ts(ts) = &msg.payloads[0].detail else {
        panic!()
    };
    let s = &ts.selectors[0];
    assert_eq!(s.type_name(), Some("TS_IPV4_ADDR_RANGE"));
    assert_eq!(
        s.address_range()
            .map(|(a, b)| (a.to_string(), b.to_string())),
        Some(("10.0.0.0".into(), "10.0.0.255".into()))
    );
    assert_eq!((s.start_port, s.end_port), (0, 65535));
}

#[test]
fn anomaly_serializes_with_its_code() {
    let a = IkeAnomaly::UnknownPayloadType {
        offset: 28,
        payload_type: 99,
        is_critical: true,
    };
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains("\"code\":\"unknown-payload-type\""), "{json}");
    assert!(a.to_string().contains("critical"));
}

/// Reads the corpus if it is there, as a cross-check of the embedded bytes.
#[test]
fn corpus_assets_match_embedded_hex() {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/public/ipsec-parser"
    );
    let Ok(req) = std::fs::read(format!("{root}/ike-sa-init-req.bin")) else {
        crate::skip_note(&format!("SKIPPED: corpus not found under {root}"));
        return;
    };
    assert_eq!(req, hex(IPSEC_PARSER_INIT_REQ));
}
