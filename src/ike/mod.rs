//! IKEv1 (RFC 2408/2409) and IKEv2 (RFC 7296) message parsers.
