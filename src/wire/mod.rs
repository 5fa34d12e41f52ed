//! Link, network and transport headers.
