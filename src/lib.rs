//! ikediag: tells a network engineer why an IPsec VPN does not connect, from
//! a packet capture.
//!
//! Data flows one way (see `../shared/STYLE.md`):
//!
//! ```text
//! capture -> wire / defrag (link, IP, reassembly) -> decode (IKE/ESP/ICMP events)
//!         -> session -> diag -> report -> cli
//! ```
//!
//! The modules re-exported here are the public API used by the binary, the
//! fuzz targets and the benchmarks; everything else is crate-private.
#![forbid(unsafe_code)]

pub mod capture;
pub mod decode;
#[cfg(feature = "decrypt")]
pub mod decrypt;
pub mod defrag;
pub mod diag;
pub mod ike;
#[cfg(feature = "decrypt")]
pub mod keyfiles;
pub mod messages;
pub mod mtu;
pub mod report;
pub mod scan;
pub mod session;
pub mod wire;

/// Says that a test was skipped, on stderr directly: the harness captures
/// `eprintln!` of passing tests, and a skip must be seen.
#[cfg(test)]
pub(crate) fn skip_note(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
}
