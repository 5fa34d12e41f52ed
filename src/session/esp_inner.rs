//! What the inside of ESP packets says, when the user's `esp_sa` keys
//! (or tcpdump `-E` secrets) cover an ESP flow: facts only.
//!
//! Contract: `EspDecryptor::observe` is called for each ESP packet of a
//! flow; it finds the flow's SA once, decrypts the packet with
//! [`crate::decrypt::decrypt_esp`] (ICV checked first where the SA has an
//! integrity algorithm) and records, on the flow's [`EspInnerFacts`], the
//! packets decrypted / failed, the inner IP protocol counts, the largest
//! inner packet and the TCP SYNs inside with their MSS option (so a rule
//! can compare the MSS with the path MTU). Work is bounded: at most
//! [`MAX_DECRYPT_BYTES`] of ESP are decrypted per capture and at most
//! [`MAX_SYNS_PER_FLOW`] SYNs kept per flow; packets past the budget are
//! counted as skipped. Without ESP keys nothing here runs.

use std::collections::BTreeMap;

use serde::Serialize;

use super::SynFact;
#[cfg(feature = "decrypt")]
use {
    super::{DecryptionFacts, Endpoint, EspFlow},
    crate::decode::EspPacket,
    crate::decrypt::{EspKey, KeyStore, decrypt_esp},
    crate::wire::{ip, link::NetKind, tcp},
    std::net::IpAddr,
    std::sync::Arc,
};

/// ESP bytes decrypted per capture, at most (the rest are counted as
/// skipped).
pub const MAX_DECRYPT_BYTES: u64 = 256 << 20;
/// Inner TCP SYNs kept per flow.
pub const MAX_SYNS_PER_FLOW: usize = 64;
/// ESP failure lines kept per capture (one per SA).
#[cfg(feature = "decrypt")]
const MAX_ESP_FAILURES: usize = 50;

/// What decrypting one ESP flow showed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EspInnerFacts {
    /// Packets decrypted: ICV verified, or (SA without integrity check) a
    /// plausible trailer.
    pub decrypted: u64,
    /// Of those, with the ICV verified.
    pub verified: u64,
    /// Packets that could not be decrypted.
    pub failed: u64,
    /// Packets not tried: the per-capture budget was spent.
    pub skipped: u64,
    /// The first failure: (frame, why).
    pub first_failure: Option<(u64, String)>,
    /// Inner protocol -> packets: the inner IP header's protocol in tunnel
    /// mode (Next Header 4 or 41), else the Next Header itself (transport
    /// mode); 59 for dummy packets.
    pub inner_protocols: BTreeMap<u8, u64>,
    /// Largest inner packet (tunnel mode: the inner IP datagram; transport
    /// mode: the transport header and data), bytes.
    pub max_inner_len: u32,
    /// Inner TCP SYN and SYN-ACK segments with their MSS option (the first
    /// [`MAX_SYNS_PER_FLOW`]); `frame` is the ESP packet's.
    pub syns: Vec<SynFact>,
}

/// Per-capture ESP decryption state.
#[cfg(feature = "decrypt")]
pub(crate) struct EspDecryptor {
    keys: Arc<KeyStore>,
    /// Per flow index: the SA found for it (None: none), once looked up.
    sa: Vec<Option<Option<usize>>>,
    /// SAs whose failure was already listed.
    reported: Vec<bool>,
    /// SAs that matched at least one flow.
    used: Vec<bool>,
    bytes: u64,
}

#[cfg(feature = "decrypt")]
impl EspDecryptor {
    /// `None` when the keys hold no ESP SA: nothing to do per packet.
    pub(crate) fn new(keys: &Arc<KeyStore>) -> Option<Self> {
        (!keys.esp_keys().is_empty()).then(|| EspDecryptor {
            keys: Arc::clone(keys),
            sa: Vec::new(),
            reported: vec![false; keys.esp_keys().len()],
            used: vec![false; keys.esp_keys().len()],
            bytes: 0,
        })
    }

    /// One ESP packet of flow `flow` (index into `Analysis::esp_flows`).
    pub(crate) fn observe(
        &mut self,
        e: &EspPacket<'_>,
        flow_index: usize,
        flow: &mut EspFlow,
        facts: &mut DecryptionFacts,
    ) {
        if self.sa.len() <= flow_index {
            self.sa.resize(flow_index + 1, None);
        }
        let found = *self.sa[flow_index].get_or_insert_with(|| {
            self.keys
                .esp_keys()
                .iter()
                .position(|k| k.matches(e.spi, e.seen.src, e.seen.dst))
        });
        let Some(ki) = found else {
            facts.esp_no_keys += 1;
            return;
        };
        if let Some(u) = self.used.get_mut(ki) {
            *u = true;
        }
        let Some(key) = self.keys.esp_keys().get(ki) else {
            return;
        };
        let inner = flow.inner.get_or_insert_with(EspInnerFacts::default);
        let len = e.raw.len() as u64;
        if self.bytes.saturating_add(len) > MAX_DECRYPT_BYTES {
            inner.skipped += 1;
            facts.esp_skipped += 1;
            return;
        }
        self.bytes += len;
        let result = if e.seen.truncated {
            Err("packet cut by the snap length".to_string())
        } else {
            decrypt_esp(e.raw, key).map_err(|x| x.to_string())
        };
        match result {
            Ok(d) => {
                inner.decrypted += 1;
                facts.esp_decrypted += 1;
                if d.verified {
                    inner.verified += 1;
                }
                record_inner(inner, d.next_header, &d.payload, e);
            }
            Err(why) => {
                inner.failed += 1;
                facts.esp_failed += 1;
                if inner.first_failure.is_none() {
                    inner.first_failure = Some((e.seen.frame, why.clone()));
                }
                if let Some(r) = self.reported.get_mut(ki)
                    && !*r
                    && facts.esp_failures.len() < MAX_ESP_FAILURES
                {
                    *r = true;
                    facts
                        .esp_failures
                        .push((e.seen.frame, describe(key, e.seen.src, e.seen.dst, &why)));
                }
            }
        }
    }
}

#[cfg(feature = "decrypt")]
impl EspDecryptor {
    /// At the end of the capture: the ESP SAs of the keys that matched no
    /// packet, each with the flows that had no key (a key for another SPI
    /// or other addresses is the usual mistake).
    pub(crate) fn finish(&self, flows: &[EspFlow], facts: &mut DecryptionFacts) {
        let unkeyed: Vec<String> = flows
            .iter()
            .filter(|f| f.inner.is_none())
            .take(5)
            .map(|f| format!("0x{:08x} {} -> {}", f.spi, f.src, f.dst))
            .collect();
        for (k, used) in self.keys.esp_keys().iter().zip(&self.used) {
            if *used || facts.esp_unused_keys.len() >= MAX_ESP_FAILURES {
                continue;
            }
            let any = |a: Option<IpAddr>| a.map_or_else(|| "*".to_string(), |a| a.to_string());
            let mut line = format!(
                "ESP SA 0x{:08x} ({} -> {}): no ESP packet in the capture has this SPI and these addresses",
                k.spi,
                any(k.src),
                any(k.dst)
            );
            if !unkeyed.is_empty() {
                line.push_str(&format!("; ESP without keys: {}", unkeyed.join(", ")));
            }
            facts.esp_unused_keys.push(line);
        }
    }
}

/// "SA 0x12345678 (192.0.2.1 -> 192.0.2.2): why".
#[cfg(feature = "decrypt")]
fn describe(key: &EspKey, src: IpAddr, dst: IpAddr, why: &str) -> String {
    format!("ESP SA 0x{:08x} ({src} -> {dst}): {why}", key.spi)
}

/// Counts the inner protocol and keeps the SYNs.
#[cfg(feature = "decrypt")]
fn record_inner(f: &mut EspInnerFacts, next_header: u8, payload: &[u8], e: &EspPacket<'_>) {
    let (protocol, transport, addrs) = match next_header {
        4 | 41 => match ip::parse(NetKind::Ipv4, payload) {
            Ok(p) => (p.protocol, p.payload, Some((p.src, p.dst))),
            Err(_) => (next_header, &[][..], None),
        },
        other => (other, payload, Some((e.seen.src, e.seen.dst))),
    };
    *f.inner_protocols.entry(protocol).or_default() += 1;
    f.max_inner_len = f
        .max_inner_len
        .max(u32::try_from(payload.len()).unwrap_or(u32::MAX));
    if protocol != 6 || f.syns.len() >= MAX_SYNS_PER_FLOW {
        return;
    }
    let (Some((src, dst)), Some(seg)) = (addrs, tcp::parse(transport)) else {
        return;
    };
    if seg.syn {
        f.syns.push(SynFact {
            frame: e.seen.frame,
            ts_ns: e.seen.ts_ns,
            src: Endpoint {
                addr: src,
                port: seg.src_port,
            },
            dst: Endpoint {
                addr: dst,
                port: seg.dst_port,
            },
            ack: seg.ack,
            mss: seg.mss,
            tunnel: None,
        });
    }
}
