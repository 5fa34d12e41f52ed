//! IPv4 and IPv6 fragment reassembly (RFC 791, RFC 8200 section 4.5).
