//! Turns frames into IKE, ESP and ICMP events.
