//! Reassembly of IKEv2 messages sent as RFC 7383 fragments (SKF payloads).
//!
//! Contract: each fragment is verified and decrypted on its own first
//! ([`super::decrypt`] returns a [`Decrypted`] with `fragment` set: RFC 7383
//! §2.5 gives every fragment its own IV and ICV, and for an AEAD the AAD
//! covers that fragment's IKE header and SKF header). [`Reassembler::push`]
//! keeps the plaintext pieces per message, keyed by (SPIi, SPIr, message
//! ID, Initiator flag, Response flag), and when pieces 1..=Total Fragments
//! are all there joins them in order into one [`Decrypted`] whose inner
//! chain starts at fragment 1's Next Payload (RFC 7383 §2.6.2). Only
//! verified plaintext ever enters, so a forged fragment cannot poison a
//! message.
//!
//! RFC 7383 §2.6.2 rules applied: a fragment number already held is a
//! retransmission and is ignored; a fragment whose Total Fragments is
//! greater than the one held discards the pieces held and starts over (the
//! sender re-fragmented smaller, e.g. after PMTU discovery); a smaller one
//! is discarded. State is bounded: at most [`MAX_SETS`] messages in
//! progress and [`MAX_HELD_BYTES`] of plaintext held; the oldest message in
//! progress is evicted first. No panic on any input.

use std::collections::BTreeMap;

use super::ikev2::Decrypted;
use crate::ike::IkeHeader;

/// Messages being reassembled at once, at most.
pub const MAX_SETS: usize = 64;
/// Plaintext bytes held over all messages being reassembled, at most.
pub const MAX_HELD_BYTES: usize = 4 << 20;

/// What [`Reassembler::push`] did with a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reassembly {
    /// Kept; `have` of the `total` fragments are now held.
    Pending {
        /// Distinct fragments held.
        have: u16,
        /// Total Fragments.
        total: u16,
    },
    /// This fragment number is already held (a retransmission): ignored.
    Duplicate,
    /// Its Total Fragments is smaller than the one of the fragments held:
    /// discarded (RFC 7383 §2.6.2).
    Stale {
        /// Total Fragments of this fragment.
        total: u16,
        /// Total Fragments of the fragments held.
        held_total: u16,
    },
    /// Not kept: the fragment, or the message it belongs to, is bigger
    /// than [`MAX_HELD_BYTES`] (the message is given up), or it was not a
    /// fragment.
    Refused(&'static str),
    /// The last missing fragment: the whole message, `fragment` = None.
    Complete(Decrypted),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    spi_i: [u8; 8],
    spi_r: [u8; 8],
    message_id: u32,
    initiator: bool,
    response: bool,
}

impl Key {
    fn of(h: &IkeHeader) -> Key {
        Key {
            spi_i: h.ispi,
            spi_r: h.rspi,
            message_id: h.message_id,
            initiator: h.is_initiator(),
            response: h.is_response(),
        }
    }
}

#[derive(Debug)]
struct Pending {
    key: Key,
    total: u16,
    /// Next Payload of fragment 1, once it arrived.
    first_payload: u8,
    pieces: BTreeMap<u16, Vec<u8>>,
    bytes: usize,
}

/// Fragments of the messages in progress. See the module doc.
#[derive(Debug, Default)]
pub struct Reassembler {
    /// Oldest first.
    sets: Vec<Pending>,
    held: usize,
    evicted: u64,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Messages in progress (some fragments held).
    pub fn pending(&self) -> usize {
        self.sets.len()
    }

    /// Plaintext bytes held.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Messages in progress dropped to stay under [`MAX_SETS`] /
    /// [`MAX_HELD_BYTES`].
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Adds one verified, decrypted fragment. See [`Reassembly`].
    pub fn push(&mut self, fragment: Decrypted) -> Reassembly {
        let Some((number, total)) = fragment.fragment else {
            return Reassembly::Refused("not an SKF fragment");
        };
        if number == 0 || number > total {
            return Reassembly::Refused("fragment number outside 1..=total");
        }
        let size = fragment.plaintext.len();
        if size > MAX_HELD_BYTES {
            return Reassembly::Refused("fragment larger than the reassembly cap");
        }
        let key = Key::of(&fragment.header);
        let idx = match self.sets.iter().position(|s| s.key == key) {
            Some(i) if total < self.sets[i].total => {
                return Reassembly::Stale {
                    total,
                    held_total: self.sets[i].total,
                };
            }
            Some(i) if total > self.sets[i].total => {
                // Re-fragmented: start over with this fragment.
                let old = self.sets.remove(i);
                self.held -= old.bytes;
                None
            }
            other => other,
        };
        let idx = match idx {
            Some(i) => i,
            None => {
                self.sets.push(Pending {
                    key,
                    total,
                    first_payload: 0,
                    pieces: BTreeMap::new(),
                    bytes: 0,
                });
                self.sets.len() - 1
            }
        };
        if self.sets[idx].pieces.contains_key(&number) {
            return Reassembly::Duplicate;
        }
        // Make room, oldest first, never evicting the set being filled.
        let mut idx = idx;
        while (self.held + size > MAX_HELD_BYTES || self.sets.len() > MAX_SETS)
            && self.sets.len() > 1
        {
            let victim = if idx == 0 { 1 } else { 0 };
            let old = self.sets.remove(victim);
            self.held -= old.bytes;
            self.evicted += 1;
            if victim < idx {
                idx -= 1;
            }
        }
        if self.held + size > MAX_HELD_BYTES {
            // This message alone outgrew the cap: give it up.
            let old = self.sets.remove(idx);
            self.held -= old.bytes;
            self.evicted += 1;
            return Reassembly::Refused("message larger than the reassembly cap");
        }
        let set = &mut self.sets[idx];
        if number == 1 {
            set.first_payload = fragment.first_payload;
        }
        set.pieces.insert(number, fragment.plaintext);
        set.bytes += size;
        self.held += size;
        let have = u16::try_from(set.pieces.len()).unwrap_or(u16::MAX);
        if have < set.total {
            return Reassembly::Pending { have, total };
        }
        let set = self.sets.remove(idx);
        self.held -= set.bytes;
        let mut plaintext = Vec::with_capacity(set.bytes);
        for piece in set.pieces.into_values() {
            plaintext.extend_from_slice(&piece);
        }
        Reassembly::Complete(Decrypted {
            header: fragment.header,
            first_payload: set.first_payload,
            plaintext,
            fragment: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(message_id: u32, flags: u8) -> IkeHeader {
        let mut b = [0u8; 28];
        b[..8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        b[8..16].copy_from_slice(&[9; 8]);
        b[16] = 53;
        b[17] = 0x20;
        b[18] = 35;
        b[19] = flags;
        b[20..24].copy_from_slice(&message_id.to_be_bytes());
        b[24..28].copy_from_slice(&28u32.to_be_bytes());
        IkeHeader::parse(&b).unwrap()
    }

    fn frag(mid: u32, flags: u8, n: u16, total: u16, data: &[u8]) -> Decrypted {
        Decrypted {
            header: header(mid, flags),
            first_payload: if n == 1 { 35 } else { 0 },
            plaintext: data.to_vec(),
            fragment: Some((n, total)),
        }
    }

    #[test]
    fn out_of_order_with_duplicates() {
        let mut r = Reassembler::new();
        assert_eq!(
            r.push(frag(1, 0x08, 3, 3, b"cc")),
            Reassembly::Pending { have: 1, total: 3 }
        );
        assert_eq!(r.push(frag(1, 0x08, 3, 3, b"zz")), Reassembly::Duplicate);
        assert_eq!(
            r.push(frag(1, 0x08, 1, 3, b"aa")),
            Reassembly::Pending { have: 2, total: 3 }
        );
        assert_eq!(r.held_bytes(), 4);
        let Reassembly::Complete(d) = r.push(frag(1, 0x08, 2, 3, b"bb")) else {
            panic!("not complete")
        };
        assert_eq!(d.plaintext, b"aabbcc");
        assert_eq!(d.first_payload, 35);
        assert_eq!(d.fragment, None);
        assert_eq!((r.pending(), r.held_bytes()), (0, 0));
    }

    #[test]
    fn directions_and_message_ids_are_kept_apart() {
        let mut r = Reassembler::new();
        // Request from the initiator, response from the responder, a
        // request from the responder with the same message ID.
        assert!(matches!(
            r.push(frag(1, 0x08, 1, 2, b"i")),
            Reassembly::Pending { .. }
        ));
        assert!(matches!(
            r.push(frag(1, 0x20, 1, 2, b"r")),
            Reassembly::Pending { .. }
        ));
        assert!(matches!(
            r.push(frag(1, 0x00, 1, 2, b"q")),
            Reassembly::Pending { .. }
        ));
        assert!(matches!(
            r.push(frag(2, 0x08, 2, 2, b"x")),
            Reassembly::Pending { .. }
        ));
        let Reassembly::Complete(d) = r.push(frag(1, 0x20, 2, 2, b"R")) else {
            panic!()
        };
        assert_eq!(d.plaintext, b"rR");
        assert_eq!(r.pending(), 3);
    }

    #[test]
    fn total_fragments_change() {
        let mut r = Reassembler::new();
        r.push(frag(1, 0x08, 1, 2, b"a"));
        // Greater: start over with this fragment.
        assert_eq!(
            r.push(frag(1, 0x08, 2, 3, b"B")),
            Reassembly::Pending { have: 1, total: 3 }
        );
        // Smaller: discarded.
        assert_eq!(
            r.push(frag(1, 0x08, 2, 2, b"b")),
            Reassembly::Stale {
                total: 2,
                held_total: 3
            }
        );
        r.push(frag(1, 0x08, 1, 3, b"A"));
        let Reassembly::Complete(d) = r.push(frag(1, 0x08, 3, 3, b"C")) else {
            panic!()
        };
        assert_eq!(d.plaintext, b"ABC");
    }

    #[test]
    fn one_of_one_and_refusals() {
        let mut r = Reassembler::new();
        let Reassembly::Complete(d) = r.push(frag(7, 0x08, 1, 1, b"x")) else {
            panic!()
        };
        assert_eq!(d.plaintext, b"x");
        assert!(matches!(
            r.push(frag(7, 0x08, 0, 1, b"x")),
            Reassembly::Refused(_)
        ));
        assert!(matches!(
            r.push(frag(7, 0x08, 3, 2, b"x")),
            Reassembly::Refused(_)
        ));
        let mut whole = frag(7, 0x08, 1, 1, b"x");
        whole.fragment = None;
        assert!(matches!(r.push(whole), Reassembly::Refused(_)));
    }

    #[test]
    fn state_is_bounded() {
        let mut r = Reassembler::new();
        for mid in 0..(MAX_SETS as u32 * 3) {
            r.push(frag(mid, 0x08, 1, 2, &[0; 100]));
            assert!(r.pending() <= MAX_SETS);
        }
        assert_eq!(r.evicted(), MAX_SETS as u64 * 2);
        // Big pieces: the byte cap holds, the newest message survives.
        let big = vec![0u8; MAX_HELD_BYTES / 3];
        for mid in 1000..1010 {
            assert!(matches!(
                r.push(frag(mid, 0x08, 1, 2, &big)),
                Reassembly::Pending { .. }
            ));
            assert!(r.held_bytes() <= MAX_HELD_BYTES);
        }
        assert!(matches!(
            r.push(frag(1009, 0x08, 2, 2, b"end")),
            Reassembly::Complete(_)
        ));
        let huge = vec![0u8; MAX_HELD_BYTES + 1];
        assert!(matches!(
            r.push(frag(5000, 0x08, 1, 2, &huge)),
            Reassembly::Refused(_)
        ));
    }
}
