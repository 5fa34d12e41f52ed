//! Name tables for IKE numbers: exchange types, payload short names, notify
//! message types, transforms, attributes, identification and certificate
//! types.
//!
//! Contract: pure lookups, total functions (`Option` for an unassigned
//! number), no allocation. Every name is written out here from the IANA
//! registries "Internet Key Exchange Version 2 (IKEv2) Parameters" (RFC 7296
//! §3.3.2, §3.5, §3.6, §3.8, §3.10.1, §3.13.1 and later RFCs) and "Internet
//! Security Association and Key Management Protocol (ISAKMP) Identifiers" /
//! "IPsec registry" (RFC 2407 §4.4-4.6, RFC 2408 §3.14.1, RFC 2409 App. A,
//! RFC 3947, RFC 3706). Where `tshark` 4.0 prints a different spelling for a
//! common value (IKEv1 notify types with hyphens, exchange type names), the
//! choice is documented in `docs/ike-parser.md`.

/// IKEv2 exchange types (RFC 7296 §3.1, IANA "IKEv2 Exchange Types").
pub fn v2_exchange_name(exchange_type: u8) -> Option<&'static str> {
    Some(match exchange_type {
        34 => "IKE_SA_INIT",
        35 => "IKE_AUTH",
        36 => "CREATE_CHILD_SA",
        37 => "INFORMATIONAL",
        38 => "IKE_SESSION_RESUME",
        39 => "GSA_AUTH",
        40 => "GSA_REGISTRATION",
        41 => "GSA_REKEY",
        43 => "IKE_INTERMEDIATE",
        44 => "IKE_FOLLOWUP_KE",
        _ => return None,
    })
}

/// IKEv1 / ISAKMP exchange types (RFC 2408 §3.1, RFC 2409 §5, IANA "Exchange
/// Type"). Names are the RFC names in upper snake case; `tshark` prints them
/// as "Identity Protection (Main Mode)", "Aggressive", "Quick Mode", ...
pub fn v1_exchange_name(exchange_type: u8) -> Option<&'static str> {
    Some(match exchange_type {
        1 => "BASE",
        2 => "MAIN_MODE",
        3 => "AUTHENTICATION_ONLY",
        4 => "AGGRESSIVE_MODE",
        5 => "INFORMATIONAL",
        6 => "TRANSACTION",
        32 => "QUICK_MODE",
        33 => "NEW_GROUP_MODE",
        _ => return None,
    })
}

/// Short name of an IKEv2 payload type (RFC 7296 §3.2, RFC 7383 §2.5, RFC
/// 6467, RFC 9838), as `tshark`'s lab summaries print them. `None` for an
/// unassigned number.
pub fn v2_payload_short_name(payload_type: u8) -> Option<&'static str> {
    Some(match payload_type {
        33 => "SA",
        34 => "KE",
        35 => "IDi",
        36 => "IDr",
        37 => "CERT",
        38 => "CERTREQ",
        39 => "AUTH",
        40 => "Nonce",
        41 => "N",
        42 => "D",
        43 => "V",
        44 => "TSi",
        45 => "TSr",
        46 => "SK",
        47 => "CP",
        48 => "EAP",
        49 => "GSPM",
        50 => "IDg",
        51 => "GSA",
        52 => "KD",
        53 => "SKF",
        _ => return None,
    })
}

/// Short name of an IKEv1 payload type (RFC 2408 §3.1, RFC 3947 §3-4, the
/// NAT-T drafts' private numbers 130/131, Cisco's fragmentation payload 132).
pub fn v1_payload_short_name(payload_type: u8) -> Option<&'static str> {
    Some(match payload_type {
        1 => "SA",
        2 => "P",
        3 => "T",
        4 => "KE",
        5 => "ID",
        6 => "CERT",
        7 => "CR",
        8 => "HASH",
        9 => "SIG",
        10 => "NONCE",
        11 => "N",
        12 => "D",
        13 => "VID",
        14 => "ATTR",
        15 => "SAK",
        16 => "SAT",
        17 => "KD",
        18 => "SEQ",
        19 => "POP",
        20 => "NAT-D",
        21 => "NAT-OA",
        22 => "GAP",
        130 => "NAT-D",
        131 => "NAT-OA",
        132 => "FRAG",
        _ => return None,
    })
}

/// IKEv2 Notify message types (RFC 7296 §3.10.1, IANA "IKEv2 Notify Message
/// Error Types" and "Status Types"). Spelling as IANA; identical to
/// `tshark` 4.0 for every value `tshark` knows except 46, which `tshark` 4.0
/// mislabels CHILD_SA_NOT_FOUND, and 16429, which IANA renamed.
pub fn v2_notify_name(notify_type: u16) -> Option<&'static str> {
    Some(match notify_type {
        1 => "UNSUPPORTED_CRITICAL_PAYLOAD",
        4 => "INVALID_IKE_SPI",
        5 => "INVALID_MAJOR_VERSION",
        7 => "INVALID_SYNTAX",
        9 => "INVALID_MESSAGE_ID",
        11 => "INVALID_SPI",
        14 => "NO_PROPOSAL_CHOSEN",
        17 => "INVALID_KE_PAYLOAD",
        24 => "AUTHENTICATION_FAILED",
        34 => "SINGLE_PAIR_REQUIRED",
        35 => "NO_ADDITIONAL_SAS",
        36 => "INTERNAL_ADDRESS_FAILURE",
        37 => "FAILED_CP_REQUIRED",
        38 => "TS_UNACCEPTABLE",
        39 => "INVALID_SELECTORS",
        40 => "UNACCEPTABLE_ADDRESSES",
        41 => "UNEXPECTED_NAT_DETECTED",
        42 => "USE_ASSIGNED_HoA",
        43 => "TEMPORARY_FAILURE",
        44 => "CHILD_SA_NOT_FOUND",
        45 => "INVALID_GROUP_ID",
        46 => "AUTHORIZATION_FAILED",
        47 => "STATE_NOT_FOUND",
        48 => "TS_MAX_QUEUE",
        49 => "REGISTRATION_FAILED",
        16384 => "INITIAL_CONTACT",
        16385 => "SET_WINDOW_SIZE",
        16386 => "ADDITIONAL_TS_POSSIBLE",
        16387 => "IPCOMP_SUPPORTED",
        16388 => "NAT_DETECTION_SOURCE_IP",
        16389 => "NAT_DETECTION_DESTINATION_IP",
        16390 => "COOKIE",
        16391 => "USE_TRANSPORT_MODE",
        16392 => "HTTP_CERT_LOOKUP_SUPPORTED",
        16393 => "REKEY_SA",
        16394 => "ESP_TFC_PADDING_NOT_SUPPORTED",
        16395 => "NON_FIRST_FRAGMENTS_ALSO",
        16396 => "MOBIKE_SUPPORTED",
        16397 => "ADDITIONAL_IP4_ADDRESS",
        16398 => "ADDITIONAL_IP6_ADDRESS",
        16399 => "NO_ADDITIONAL_ADDRESSES",
        16400 => "UPDATE_SA_ADDRESSES",
        16401 => "COOKIE2",
        16402 => "NO_NATS_ALLOWED",
        16403 => "AUTH_LIFETIME",
        16404 => "MULTIPLE_AUTH_SUPPORTED",
        16405 => "ANOTHER_AUTH_FOLLOWS",
        16406 => "REDIRECT_SUPPORTED",
        16407 => "REDIRECT",
        16408 => "REDIRECTED_FROM",
        16409 => "TICKET_LT_OPAQUE",
        16410 => "TICKET_REQUEST",
        16411 => "TICKET_ACK",
        16412 => "TICKET_NACK",
        16413 => "TICKET_OPAQUE",
        16414 => "LINK_ID",
        16415 => "USE_WESP_MODE",
        16416 => "ROHC_SUPPORTED",
        16417 => "EAP_ONLY_AUTHENTICATION",
        16418 => "CHILDLESS_IKEV2_SUPPORTED",
        16419 => "QUICK_CRASH_DETECTION",
        16420 => "IKEV2_MESSAGE_ID_SYNC_SUPPORTED",
        16421 => "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED",
        16422 => "IKEV2_MESSAGE_ID_SYNC",
        16423 => "IPSEC_REPLAY_COUNTER_SYNC",
        16424 => "SECURE_PASSWORD_METHODS",
        16425 => "PSK_PERSIST",
        16426 => "PSK_CONFIRM",
        16427 => "ERX_SUPPORTED",
        16428 => "IFOM_CAPABILITY",
        // IANA renamed SENDER_REQUEST_ID (tshark 4.0's spelling) to GROUP_SENDER.
        16429 => "GROUP_SENDER",
        16430 => "IKEV2_FRAGMENTATION_SUPPORTED",
        16431 => "SIGNATURE_HASH_ALGORITHMS",
        16432 => "CLONE_IKE_SA_SUPPORTED",
        16433 => "CLONE_IKE_SA",
        16434 => "PUZZLE",
        16435 => "USE_PPK",
        16436 => "PPK_IDENTITY",
        16437 => "NO_PPK_AUTH",
        16438 => "INTERMEDIATE_EXCHANGE_SUPPORTED",
        16439 => "IP4_ALLOWED",
        16440 => "IP6_ALLOWED",
        16441 => "ADDITIONAL_KEY_EXCHANGE",
        16442 => "USE_AGGFRAG",
        16443 => "SUPPORTED_AUTH_METHODS",
        16444 => "SA_RESOURCE_INFO",
        16445 => "USE_PPK_INT",
        16446 => "PPK_IDENTITY_KEY",
        16447 => "IKE_SA_INIT_FULL_TRANSCRIPT_AUTH",
        _ => return None,
    })
}

/// IKEv1 Notify message types (RFC 2408 §3.14.1, RFC 2407 §4.6.3, RFC 3706
/// §5, Cisco Unity private values), spelled as RFC 2408 and `tshark` print
/// them (with hyphens). [`normalize_notify_name`] turns them into the
/// underscore spelling used for IKEv2.
pub fn v1_notify_name(notify_type: u16) -> Option<&'static str> {
    Some(match notify_type {
        1 => "INVALID-PAYLOAD-TYPE",
        2 => "DOI-NOT-SUPPORTED",
        3 => "SITUATION-NOT-SUPPORTED",
        4 => "INVALID-COOKIE",
        5 => "INVALID-MAJOR-VERSION",
        6 => "INVALID-MINOR-VERSION",
        7 => "INVALID-EXCHANGE-TYPE",
        8 => "INVALID-FLAGS",
        9 => "INVALID-MESSAGE-ID",
        10 => "INVALID-PROTOCOL-ID",
        11 => "INVALID-SPI",
        12 => "INVALID-TRANSFORM-ID",
        13 => "ATTRIBUTES-NOT-SUPPORTED",
        14 => "NO-PROPOSAL-CHOSEN",
        15 => "BAD-PROPOSAL-SYNTAX",
        16 => "PAYLOAD-MALFORMED",
        17 => "INVALID-KEY-INFORMATION",
        18 => "INVALID-ID-INFORMATION",
        19 => "INVALID-CERT-ENCODING",
        20 => "INVALID-CERTIFICATE",
        21 => "CERT-TYPE-UNSUPPORTED",
        22 => "INVALID-CERT-AUTHORITY",
        23 => "INVALID-HASH-INFORMATION",
        24 => "AUTHENTICATION-FAILED",
        25 => "INVALID-SIGNATURE",
        26 => "ADDRESS-NOTIFICATION",
        27 => "NOTIFY-SA-LIFETIME",
        28 => "CERTIFICATE-UNAVAILABLE",
        29 => "UNSUPPORTED-EXCHANGE-TYPE",
        30 => "UNEQUAL-PAYLOAD-LENGTHS",
        16384 => "CONNECTED",
        24576 => "RESPONDER-LIFETIME",
        24577 => "REPLAY-STATUS",
        24578 => "INITIAL-CONTACT",
        36136 => "R-U-THERE",
        36137 => "R-U-THERE-ACK",
        40501 => "UNITY-LOAD-BALANCE",
        40502 => "UNITY-UNKNOWN",
        40503 => "UNITY-GROUP-HASH",
        _ => return None,
    })
}

/// Rewrites an IKEv1 hyphenated notify name into the IKEv2-style spelling
/// (`NO-PROPOSAL-CHOSEN` -> `NO_PROPOSAL_CHOSEN`), which is how the lab
/// summaries (`*.tshark.tsv`, column `notifies`) list both versions.
pub fn normalize_notify_name(name: &str) -> String {
    name.replace('-', "_")
}

/// IKEv2 Security Protocol Identifiers (RFC 7296 §3.3.1, IANA).
pub fn v2_protocol_name(protocol_id: u8) -> Option<&'static str> {
    Some(match protocol_id {
        1 => "IKE",
        2 => "AH",
        3 => "ESP",
        4 => "FC_ESP_HEADER",
        5 => "FC_CT_AUTHENTICATION",
        6 => "GIKE_UPDATE",
        _ => return None,
    })
}

/// IKEv1 / IPsec DOI protocol identifiers (RFC 2407 §4.4.1).
pub fn v1_protocol_name(protocol_id: u8) -> Option<&'static str> {
    Some(match protocol_id {
        1 => "PROTO_ISAKMP",
        2 => "PROTO_IPSEC_AH",
        3 => "PROTO_IPSEC_ESP",
        4 => "PROTO_IPCOMP",
        5 => "PROTO_GIGABEAM_RADIO",
        _ => return None,
    })
}

/// Domain of Interpretation (RFC 2408 §3.4, IANA).
pub fn v1_doi_name(doi: u32) -> Option<&'static str> {
    Some(match doi {
        0 => "ISAKMP",
        1 => "IPSEC",
        2 => "GDOI",
        _ => return None,
    })
}

/// IKEv2 transform types (RFC 7296 §3.3.2; types 6-12 RFC 9370). Type 4 is
/// "Diffie-Hellman Group (D-H)" in RFC 7296 and "Key Exchange Method (KE)"
/// since RFC 9370; we keep the short `DH`.
pub fn v2_transform_type_name(transform_type: u8) -> Option<&'static str> {
    Some(match transform_type {
        1 => "ENCR",
        2 => "PRF",
        3 => "INTEG",
        4 => "DH",
        5 => "ESN",
        6 => "ADDKE1",
        7 => "ADDKE2",
        8 => "ADDKE3",
        9 => "ADDKE4",
        10 => "ADDKE5",
        11 => "ADDKE6",
        12 => "ADDKE7",
        _ => return None,
    })
}

/// Name of an IKEv2 transform ID given its transform type (RFC 7296 §3.3.2
/// and the IANA transform ID registries).
pub fn v2_transform_name(transform_type: u8, transform_id: u16) -> Option<&'static str> {
    match transform_type {
        1 => v2_encr_name(transform_id),
        2 => v2_prf_name(transform_id),
        3 => v2_integ_name(transform_id),
        4 | 6..=12 => dh_group_name(transform_id),
        5 => match transform_id {
            0 => Some("NO_ESN"),
            1 => Some("ESN"),
            _ => None,
        },
        _ => None,
    }
}

/// IKEv2 encryption algorithms (IANA "Transform Type 1").
pub fn v2_encr_name(id: u16) -> Option<&'static str> {
    Some(match id {
        1 => "ENCR_DES_IV64",
        2 => "ENCR_DES",
        3 => "ENCR_3DES",
        4 => "ENCR_RC5",
        5 => "ENCR_IDEA",
        6 => "ENCR_CAST",
        7 => "ENCR_BLOWFISH",
        8 => "ENCR_3IDEA",
        9 => "ENCR_DES_IV32",
        11 => "ENCR_NULL",
        12 => "ENCR_AES_CBC",
        13 => "ENCR_AES_CTR",
        14 => "ENCR_AES_CCM_8",
        15 => "ENCR_AES_CCM_12",
        16 => "ENCR_AES_CCM_16",
        18 => "ENCR_AES_GCM_8",
        19 => "ENCR_AES_GCM_12",
        20 => "ENCR_AES_GCM_16",
        21 => "ENCR_NULL_AUTH_AES_GMAC",
        23 => "ENCR_CAMELLIA_CBC",
        24 => "ENCR_CAMELLIA_CTR",
        25 => "ENCR_CAMELLIA_CCM_8",
        26 => "ENCR_CAMELLIA_CCM_12",
        27 => "ENCR_CAMELLIA_CCM_16",
        28 => "ENCR_CHACHA20_POLY1305",
        29 => "ENCR_AES_CCM_8_IIV",
        30 => "ENCR_AES_GCM_16_IIV",
        31 => "ENCR_CHACHA20_POLY1305_IIV",
        32 => "ENCR_KUZNYECHIK_MGM_KTREE",
        33 => "ENCR_MAGMA_MGM_KTREE",
        34 => "ENCR_KUZNYECHIK_MGM_MAC_KTREE",
        35 => "ENCR_MAGMA_MGM_MAC_KTREE",
        _ => return None,
    })
}

/// IKEv2 pseudorandom functions (IANA "Transform Type 2").
pub fn v2_prf_name(id: u16) -> Option<&'static str> {
    Some(match id {
        1 => "PRF_HMAC_MD5",
        2 => "PRF_HMAC_SHA1",
        3 => "PRF_HMAC_TIGER",
        4 => "PRF_AES128_XCBC",
        5 => "PRF_HMAC_SHA2_256",
        6 => "PRF_HMAC_SHA2_384",
        7 => "PRF_HMAC_SHA2_512",
        8 => "PRF_AES128_CMAC",
        9 => "PRF_HMAC_STREEBOG_512",
        _ => return None,
    })
}

/// IKEv2 integrity algorithms (IANA "Transform Type 3").
pub fn v2_integ_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0 => "NONE",
        1 => "AUTH_HMAC_MD5_96",
        2 => "AUTH_HMAC_SHA1_96",
        3 => "AUTH_DES_MAC",
        4 => "AUTH_KPDK_MD5",
        5 => "AUTH_AES_XCBC_96",
        6 => "AUTH_HMAC_MD5_128",
        7 => "AUTH_HMAC_SHA1_160",
        8 => "AUTH_AES_CMAC_96",
        9 => "AUTH_AES_128_GMAC",
        10 => "AUTH_AES_192_GMAC",
        11 => "AUTH_AES_256_GMAC",
        12 => "AUTH_HMAC_SHA2_256_128",
        13 => "AUTH_HMAC_SHA2_384_192",
        14 => "AUTH_HMAC_SHA2_512_256",
        _ => return None,
    })
}

/// Diffie-Hellman / key exchange groups: IKEv2 "Transform Type 4" and the
/// IKEv1 "Group Description" attribute share one number space (groups 3 and
/// 4 are IKEv1 only). 35-37 are the ML-KEM methods.
pub fn dh_group_name(group: u16) -> Option<&'static str> {
    Some(match group {
        0 => "NONE",
        1 => "768-bit MODP Group",
        2 => "1024-bit MODP Group",
        3 => "EC2N group on GP[2^155]",
        4 => "EC2N group on GP[2^185]",
        5 => "1536-bit MODP Group",
        14 => "2048-bit MODP Group",
        15 => "3072-bit MODP Group",
        16 => "4096-bit MODP Group",
        17 => "6144-bit MODP Group",
        18 => "8192-bit MODP Group",
        19 => "256-bit random ECP group",
        20 => "384-bit random ECP group",
        21 => "521-bit random ECP group",
        22 => "1024-bit MODP Group with 160-bit Prime Order Subgroup",
        23 => "2048-bit MODP Group with 224-bit Prime Order Subgroup",
        24 => "2048-bit MODP Group with 256-bit Prime Order Subgroup",
        25 => "192-bit Random ECP Group",
        26 => "224-bit Random ECP Group",
        27 => "brainpoolP224r1",
        28 => "brainpoolP256r1",
        29 => "brainpoolP384r1",
        30 => "brainpoolP512r1",
        31 => "Curve25519",
        32 => "Curve448",
        33 => "GOST3410_2012_256",
        34 => "GOST3410_2012_512",
        35 => "ML-KEM-512",
        36 => "ML-KEM-768",
        37 => "ML-KEM-1024",
        _ => return None,
    })
}

/// IKEv2 identification types (RFC 7296 §3.5, IANA).
pub fn v2_id_type_name(id_type: u8) -> Option<&'static str> {
    Some(match id_type {
        1 => "ID_IPV4_ADDR",
        2 => "ID_FQDN",
        3 => "ID_RFC822_ADDR",
        5 => "ID_IPV6_ADDR",
        9 => "ID_DER_ASN1_DN",
        10 => "ID_DER_ASN1_GN",
        11 => "ID_KEY_ID",
        12 => "ID_FC_NAME",
        13 => "ID_NULL",
        _ => return None,
    })
}

/// IKEv1 identification types (RFC 2407 §4.6.2.1).
pub fn v1_id_type_name(id_type: u8) -> Option<&'static str> {
    Some(match id_type {
        1 => "ID_IPV4_ADDR",
        2 => "ID_FQDN",
        3 => "ID_USER_FQDN",
        4 => "ID_IPV4_ADDR_SUBNET",
        5 => "ID_IPV6_ADDR",
        6 => "ID_IPV6_ADDR_SUBNET",
        7 => "ID_IPV4_ADDR_RANGE",
        8 => "ID_IPV6_ADDR_RANGE",
        9 => "ID_DER_ASN1_DN",
        10 => "ID_DER_ASN1_GN",
        11 => "ID_KEY_ID",
        12 => "ID_LIST",
        _ => return None,
    })
}

/// Certificate encodings (RFC 7296 §3.6; RFC 2408 §3.9 for 1-10).
pub fn cert_encoding_name(encoding: u8) -> Option<&'static str> {
    Some(match encoding {
        1 => "PKCS #7 wrapped X.509 certificate",
        2 => "PGP Certificate",
        3 => "DNS Signed Key",
        4 => "X.509 Certificate - Signature",
        5 => "X.509 Certificate - Key Exchange",
        6 => "Kerberos Token",
        7 => "Certificate Revocation List (CRL)",
        8 => "Authority Revocation List (ARL)",
        9 => "SPKI Certificate",
        10 => "X.509 Certificate - Attribute",
        11 => "Raw RSA Key",
        12 => "Hash and URL of X.509 certificate",
        13 => "Hash and URL of X.509 bundle",
        14 => "OCSP Content",
        15 => "Raw Public Key",
        _ => return None,
    })
}

/// IKEv2 authentication methods (RFC 7296 §3.8, RFC 7427, RFC 7619, IANA).
pub fn v2_auth_method_name(method: u8) -> Option<&'static str> {
    Some(match method {
        1 => "RSA Digital Signature",
        2 => "Shared Key Message Integrity Code",
        3 => "DSS Digital Signature",
        9 => "ECDSA with SHA-256 on the P-256 curve",
        10 => "ECDSA with SHA-384 on the P-384 curve",
        11 => "ECDSA with SHA-512 on the P-521 curve",
        12 => "Generic Secure Password Authentication Method",
        13 => "NULL Authentication",
        14 => "Digital Signature",
        _ => return None,
    })
}

/// IKEv2 traffic selector types (RFC 7296 §3.13.1, RFC 9478).
pub fn ts_type_name(ts_type: u8) -> Option<&'static str> {
    Some(match ts_type {
        7 => "TS_IPV4_ADDR_RANGE",
        8 => "TS_IPV6_ADDR_RANGE",
        9 => "TS_FC_ADDR_RANGE",
        10 => "TS_SECLABEL",
        _ => return None,
    })
}

/// IKEv1 transform IDs, which depend on the proposal's protocol (RFC 2407
/// §4.4.2-4.4.5, IANA "IPSEC ... Transform Identifiers").
pub fn v1_transform_name(protocol_id: u8, transform_id: u8) -> Option<&'static str> {
    Some(match (protocol_id, transform_id) {
        (1, 1) => "KEY_IKE",
        (2, 2) => "AH_MD5",
        (2, 3) => "AH_SHA",
        (2, 4) => "AH_DES",
        (2, 5) => "AH_SHA2-256",
        (2, 6) => "AH_SHA2-384",
        (2, 7) => "AH_SHA2-512",
        (2, 8) => "AH_RIPEMD",
        (2, 9) => "AH_AES-XCBC-MAC",
        (2, 10) => "AH_RSA",
        (2, 11) => "AH_AES-128-GMAC",
        (2, 12) => "AH_AES-192-GMAC",
        (2, 13) => "AH_AES-256-GMAC",
        (3, 1) => "ESP_DES_IV64",
        (3, 2) => "ESP_DES",
        (3, 3) => "ESP_3DES",
        (3, 4) => "ESP_RC5",
        (3, 5) => "ESP_IDEA",
        (3, 6) => "ESP_CAST",
        (3, 7) => "ESP_BLOWFISH",
        (3, 8) => "ESP_3IDEA",
        (3, 9) => "ESP_DES_IV32",
        (3, 10) => "ESP_RC4",
        (3, 11) => "ESP_NULL",
        (3, 12) => "ESP_AES-CBC",
        (3, 13) => "ESP_AES-CTR",
        (3, 14) => "ESP_AES-CCM_8",
        (3, 15) => "ESP_AES-CCM_12",
        (3, 16) => "ESP_AES-CCM_16",
        (3, 18) => "ESP_AES-GCM_8",
        (3, 19) => "ESP_AES-GCM_12",
        (3, 20) => "ESP_AES-GCM_16",
        (3, 21) => "ESP_SEED_CBC",
        (3, 22) => "ESP_CAMELLIA",
        (3, 23) => "ESP_NULL_AUTH_AES-GMAC",
        (4, 1) => "IPCOMP_OUI",
        (4, 2) => "IPCOMP_DEFLATE",
        (4, 3) => "IPCOMP_LZS",
        (4, 4) => "IPCOMP_LZJH",
        _ => return None,
    })
}

/// IKEv1 data attribute classes. For an ISAKMP proposal (protocol 1) these
/// are the IKE attributes of RFC 2409 App. A; for AH/ESP/IPCOMP proposals
/// the IPsec DOI SA attributes of RFC 2407 §4.5.
pub fn v1_attribute_name(protocol_id: u8, attribute_type: u16) -> Option<&'static str> {
    if protocol_id == 1 {
        Some(match attribute_type {
            1 => "Encryption Algorithm",
            2 => "Hash Algorithm",
            3 => "Authentication Method",
            4 => "Group Description",
            5 => "Group Type",
            6 => "Group Prime/Irreducible Polynomial",
            7 => "Group Generator One",
            8 => "Group Generator Two",
            9 => "Group Curve A",
            10 => "Group Curve B",
            11 => "Life Type",
            12 => "Life Duration",
            13 => "PRF",
            14 => "Key Length",
            15 => "Field Size",
            16 => "Group Order",
            _ => return None,
        })
    } else {
        Some(match attribute_type {
            1 => "SA Life Type",
            2 => "SA Life Duration",
            3 => "Group Description",
            4 => "Encapsulation Mode",
            5 => "Authentication Algorithm",
            6 => "Key Length",
            7 => "Key Rounds",
            8 => "Compress Dictionary Size",
            9 => "Compress Private Algorithm",
            10 => "ECN Tunnel",
            11 => "Extended (64-bit) Sequence Number",
            12 => "Authentication Key Length",
            13 => "Signature Encoding Algorithm",
            14 => "Address Preservation",
            15 => "SA Direction",
            _ => return None,
        })
    }
}

/// Name of an IKEv1 data attribute's value where the attribute is an
/// enumeration (RFC 2409 App. A, RFC 2407 §4.5, RFC 3947 §5 and the NAT-T
/// drafts' private encapsulation modes 61443/61444).
pub fn v1_attribute_value_name(
    protocol_id: u8,
    attribute_type: u16,
    value: u64,
) -> Option<&'static str> {
    let v = u16::try_from(value).ok()?;
    if protocol_id == 1 {
        match attribute_type {
            1 => v1_ike_encryption_name(v),
            2 => v1_ike_hash_name(v),
            3 => v1_ike_auth_method_name(v),
            4 => dh_group_name(v),
            5 => match v {
                1 => Some("MODP"),
                2 => Some("ECP"),
                3 => Some("EC2N"),
                _ => None,
            },
            11 => life_type_name(v),
            _ => None,
        }
    } else {
        match attribute_type {
            1 => life_type_name(v),
            3 => dh_group_name(v),
            4 => encapsulation_mode_name(v),
            5 => v1_ipsec_auth_algorithm_name(v),
            _ => None,
        }
    }
}

fn life_type_name(v: u16) -> Option<&'static str> {
    match v {
        1 => Some("seconds"),
        2 => Some("kilobytes"),
        _ => None,
    }
}

/// IKE encryption algorithm attribute values (RFC 2409 App. A, IANA).
pub fn v1_ike_encryption_name(v: u16) -> Option<&'static str> {
    Some(match v {
        1 => "DES-CBC",
        2 => "IDEA-CBC",
        3 => "Blowfish-CBC",
        4 => "RC5-R16-B64-CBC",
        5 => "3DES-CBC",
        6 => "CAST-CBC",
        7 => "AES-CBC",
        8 => "CAMELLIA-CBC",
        _ => return None,
    })
}

/// IKE hash algorithm attribute values (RFC 2409 App. A, RFC 4868).
pub fn v1_ike_hash_name(v: u16) -> Option<&'static str> {
    Some(match v {
        1 => "MD5",
        2 => "SHA",
        3 => "Tiger",
        4 => "SHA2-256",
        5 => "SHA2-384",
        6 => "SHA2-512",
        _ => return None,
    })
}

/// IKE authentication method attribute values (RFC 2409 App. A, RFC 4754,
/// and the XAUTH / hybrid private values of draft-ietf-ipsec-isakmp-xauth).
pub fn v1_ike_auth_method_name(v: u16) -> Option<&'static str> {
    Some(match v {
        1 => "pre-shared key",
        2 => "DSS signatures",
        3 => "RSA signatures",
        4 => "Encryption with RSA",
        5 => "Revised encryption with RSA",
        9 => "ECDSA with SHA-256 on the P-256 curve",
        10 => "ECDSA with SHA-384 on the P-384 curve",
        11 => "ECDSA with SHA-512 on the P-521 curve",
        64221 => "HybridInitRSA",
        64222 => "HybridRespRSA",
        64223 => "HybridInitDSS",
        64224 => "HybridRespDSS",
        65001 => "XAUTHInitPreShared",
        65002 => "XAUTHRespPreShared",
        65003 => "XAUTHInitDSS",
        65004 => "XAUTHRespDSS",
        65005 => "XAUTHInitRSA",
        65006 => "XAUTHRespRSA",
        65007 => "XAUTHInitRSAEncryption",
        65008 => "XAUTHRespRSAEncryption",
        65009 => "XAUTHInitRSARevisedEncryption",
        65010 => "XAUTHRespRSARevisedEncryption",
        _ => return None,
    })
}

/// IPsec DOI encapsulation modes (RFC 2407 §4.5, RFC 3947 §5; 61443/61444
/// from draft-ietf-ipsec-nat-t-ike-00..02, still sent by older peers).
pub fn encapsulation_mode_name(v: u16) -> Option<&'static str> {
    Some(match v {
        1 => "Tunnel",
        2 => "Transport",
        3 => "UDP-Encapsulated-Tunnel",
        4 => "UDP-Encapsulated-Transport",
        61443 => "UDP-Encapsulated-Tunnel (draft)",
        61444 => "UDP-Encapsulated-Transport (draft)",
        _ => return None,
    })
}

/// IPsec DOI authentication algorithm attribute values (RFC 2407 §4.5).
pub fn v1_ipsec_auth_algorithm_name(v: u16) -> Option<&'static str> {
    Some(match v {
        1 => "HMAC-MD5",
        2 => "HMAC-SHA",
        3 => "DES-MAC",
        4 => "KPDK",
        5 => "HMAC-SHA2-256",
        6 => "HMAC-SHA2-384",
        7 => "HMAC-SHA2-512",
        8 => "HMAC-RIPEMD",
        9 => "AES-XCBC-MAC",
        10 => "SIG-RSA",
        11 => "AES-128-GMAC",
        12 => "AES-192-GMAC",
        13 => "AES-256-GMAC",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_names_match_tshark_spelling() {
        assert_eq!(v2_notify_name(16388), Some("NAT_DETECTION_SOURCE_IP"));
        assert_eq!(v2_notify_name(16430), Some("IKEV2_FRAGMENTATION_SUPPORTED"));
        assert_eq!(v2_notify_name(17), Some("INVALID_KE_PAYLOAD"));
        assert_eq!(v2_notify_name(2), None);
        assert_eq!(v1_notify_name(14), Some("NO-PROPOSAL-CHOSEN"));
        assert_eq!(v1_notify_name(36136), Some("R-U-THERE"));
        assert_eq!(
            normalize_notify_name("NO-PROPOSAL-CHOSEN"),
            "NO_PROPOSAL_CHOSEN"
        );
    }

    #[test]
    fn exchange_and_payload_names() {
        assert_eq!(v2_exchange_name(43), Some("IKE_INTERMEDIATE"));
        assert_eq!(v1_exchange_name(32), Some("QUICK_MODE"));
        assert_eq!(v2_payload_short_name(53), Some("SKF"));
        assert_eq!(v1_payload_short_name(130), Some("NAT-D"));
        assert_eq!(v2_payload_short_name(1), None);
    }

    #[test]
    fn transform_names() {
        assert_eq!(v2_transform_name(1, 20), Some("ENCR_AES_GCM_16"));
        assert_eq!(v2_transform_name(4, 31), Some("Curve25519"));
        assert_eq!(
            v1_attribute_value_name(3, 4, 61443),
            Some("UDP-Encapsulated-Tunnel (draft)")
        );
        assert_eq!(v1_attribute_value_name(1, 3, 1), Some("pre-shared key"));
        assert_eq!(v1_attribute_value_name(1, 3, 1 << 40), None);
    }
}
