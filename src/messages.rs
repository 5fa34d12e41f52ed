//! The `messages` listing: one record per IKE message (after IP
//! reassembly), as a table or as JSON lines.
//!
//! Contract: [`MessageRecord`] is the serialization type of `ikediag
//! messages --format json` (one object per line); its field names are a
//! public interface and change only with a note in `docs/`.

use std::io::{self, Write};

use serde::Serialize;

use crate::decode::{DecodeAnomaly, IkeDatagram, Sink, Transport, Tunnel};
use crate::ike;

/// An RFC 7383 fragment position (or IKEv1 Cisco fragment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FragmentPos {
    pub number: u16,
    pub total: u16,
}

/// One IKE message as listed by `ikediag messages`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRecord {
    /// Frame where the message became complete (Wireshark's frame).
    pub frame: u64,
    /// Every frame it came from.
    pub frames: Vec<u64>,
    /// Capture time, seconds since the Unix epoch.
    pub time: f64,
    pub src: String,
    pub dst: String,
    pub sport: u16,
    pub dport: u16,
    pub transport: Transport,
    /// IKE major version (null when the header could not be read).
    pub version: Option<u8>,
    pub exchange_type: Option<u8>,
    pub exchange: Option<String>,
    /// IKEv2 Initiator flag; null for IKEv1.
    pub initiator: Option<bool>,
    /// IKEv2 Response flag; null for IKEv1.
    pub response: Option<bool>,
    pub message_id: Option<u32>,
    pub ispi: Option<String>,
    pub rspi: Option<String>,
    pub payloads: Vec<&'static str>,
    pub notify_types: Vec<u16>,
    pub notify: Vec<String>,
    /// Length from the IKE header.
    pub length: Option<u32>,
    /// Bytes of the message as captured.
    pub captured_length: usize,
    /// Number of IP fragments it was reassembled from (0: not fragmented).
    pub ip_fragments: usize,
    pub ike_fragment: Option<FragmentPos>,
    /// IKEv1 encryption flag (the body is opaque).
    pub encrypted: bool,
    pub anomalies: Vec<String>,
    pub truncated: bool,
    pub tunnel: Option<Tunnel>,
    /// What the keys revealed (`messages --decrypt`): absent without keys
    /// or for a message that is not encrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decrypted: Option<InnerView>,
    /// Why an encrypted message with keys could not be decrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decrypt_error: Option<String>,
}

/// The inside of a decrypted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InnerView {
    /// Inner payloads in order (empty for an RFC 7383 fragment that did
    /// not complete its message: the completing fragment carries them).
    pub payloads: Vec<&'static str>,
    /// Notifies found inside.
    pub notify: Vec<String>,
    /// Identities, authentication, certificates, traffic selectors and
    /// configuration (as in `analyze`'s `peers` and `child_sas`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<crate::session::reveal::MessageDetails>,
}

/// Adds to each record what the analysis (run with keys) decrypted for the
/// message of the same frame, and the decryption failures.
pub fn attach_decryption(records: &mut [MessageRecord], a: &crate::session::Analysis) {
    let mut facts: std::collections::HashMap<u64, &crate::session::MessageFact> =
        std::collections::HashMap::new();
    for sa in &a.sas {
        for x in &sa.exchanges {
            for m in &x.messages {
                facts.insert(m.frame, m);
            }
        }
    }
    let failures: std::collections::HashMap<u64, &String> = a
        .decryption
        .iter()
        .flat_map(|d| d.failures.iter().map(|(f, why)| (*f, why)))
        .collect();
    for r in records {
        if let Some(m) = facts.get(&r.frame)
            && m.decrypted
        {
            let start = m
                .payloads
                .iter()
                .position(|p| matches!(*p, "SK" | "SKF" | "encrypted"))
                .map_or(m.payloads.len(), |i| i + 1);
            let mut clear = r.notify.clone();
            let notify = m
                .notify
                .iter()
                .filter(|n| match clear.iter().position(|c| c == *n) {
                    Some(i) => {
                        clear.remove(i);
                        false
                    }
                    None => true,
                })
                .cloned()
                .collect();
            r.decrypted = Some(InnerView {
                payloads: m.payloads.get(start..).unwrap_or_default().to_vec(),
                notify,
                details: m.details.as_deref().cloned(),
            });
        }
        if let Some(why) = failures.get(&r.frame) {
            r.decrypt_error = Some((*why).clone());
        }
    }
}

impl MessageRecord {
    pub fn from_datagram(d: &IkeDatagram<'_>) -> Self {
        let seen = &d.seen;
        let mut r = MessageRecord {
            frame: seen.frame,
            frames: seen.frames.to_vec(),
            time: seen.stamp_ns as f64 / 1e9,
            src: seen.src.to_string(),
            dst: seen.dst.to_string(),
            sport: d.src_port,
            dport: d.dst_port,
            transport: d.transport,
            version: None,
            exchange_type: None,
            exchange: None,
            initiator: None,
            response: None,
            message_id: None,
            ispi: None,
            rspi: None,
            payloads: Vec::new(),
            notify_types: Vec::new(),
            notify: Vec::new(),
            length: None,
            captured_length: d.raw.len(),
            ip_fragments: if seen.frames.len() > 1 {
                seen.frames.len()
            } else {
                0
            },
            ike_fragment: None,
            encrypted: false,
            anomalies: Vec::new(),
            truncated: seen.truncated,
            tunnel: seen.tunnel,
            decrypted: None,
            decrypt_error: None,
        };
        match &d.message {
            Ok(m) => {
                let h = &m.header;
                let v = m.version();
                r.version = Some(v);
                r.exchange_type = Some(h.exchange_type);
                r.exchange = m.exchange_name().map(str::to_string);
                if v == 2 {
                    r.initiator = Some(h.is_initiator());
                    r.response = Some(h.is_response());
                } else {
                    r.encrypted = h.is_encrypted_v1();
                }
                r.message_id = Some(h.message_id);
                r.ispi = Some(crate::session::hex(&h.ispi));
                r.rspi = Some(crate::session::hex(&h.rspi));
                r.payloads = m.payload_names();
                r.notify_types = m.notify_types();
                r.notify = m
                    .notify_names()
                    .into_iter()
                    .map(|c| c.into_owned())
                    .collect();
                r.length = Some(h.length);
                r.ike_fragment = m
                    .fragment()
                    .map(|(number, total)| FragmentPos { number, total });
                r.anomalies = m.anomalies.iter().map(|a| a.code().to_string()).collect();
            }
            Err(ike::IkeError::TooShort { .. }) => {
                r.anomalies.push("message-too-short".to_string())
            }
        }
        r
    }
}

/// Collects the records of one capture, plus decode anomalies.
#[derive(Debug, Default)]
pub struct MessageCollector {
    pub records: Vec<MessageRecord>,
    pub anomalies: Vec<(u64, DecodeAnomaly)>,
}

impl Sink for MessageCollector {
    fn ike(&mut self, m: &IkeDatagram<'_>) {
        self.records.push(MessageRecord::from_datagram(m));
    }
    fn anomaly(&mut self, frame: u64, a: DecodeAnomaly) {
        // Keep a bounded sample: a hostile capture can hold millions.
        if self.anomalies.len() < 1000 {
            self.anomalies.push((frame, a));
        }
    }
}

/// Writes records as JSON lines.
pub fn write_json_lines<W: Write>(out: &mut W, records: &[MessageRecord]) -> io::Result<()> {
    for r in records {
        serde_json::to_writer(&mut *out, r)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Renders records as a table.
pub fn render_table(records: &[MessageRecord], first_ts: Option<f64>) -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
    t.set_header([
        "frame", "time", "src", "dst", "exchange", "dir", "msg id", "SPIi", "SPIr", "len",
        "payloads", "notify",
    ]);
    let t0 = first_ts
        .or_else(|| records.first().map(|r| r.time))
        .unwrap_or(0.0);
    for r in records {
        let frame = if r.frames.len() > 1 {
            format!("{} ({} frags)", r.frame, r.frames.len())
        } else {
            r.frame.to_string()
        };
        let dir = match (r.version, r.initiator, r.response) {
            (Some(2), Some(i), Some(resp)) => format!(
                "{} {}",
                if resp { "resp" } else { "req" },
                if i { "(I)" } else { "(R)" }
            ),
            (Some(1), ..) if r.encrypted => "enc".to_string(),
            _ => String::new(),
        };
        let exchange = match (&r.exchange, r.exchange_type) {
            (Some(n), _) => n.clone(),
            (None, Some(t)) => format!("type {t}"),
            (None, None) => "?".into(),
        };
        let exchange = match &r.ike_fragment {
            Some(f) => format!("{exchange} [{}/{}]", f.number, f.total),
            None => exchange,
        };
        t.add_row([
            frame,
            format!("{:.6}", r.time - t0),
            format!("{}:{}", r.src, r.sport),
            format!("{}:{}", r.dst, r.dport),
            exchange,
            dir,
            r.message_id.map(|m| m.to_string()).unwrap_or_default(),
            r.ispi.clone().unwrap_or_default(),
            r.rspi.clone().unwrap_or_default(),
            r.length.map(|l| l.to_string()).unwrap_or_default(),
            match &r.decrypted {
                Some(d) => format!("{} {{{}}}", r.payloads.join(","), d.payloads.join(",")),
                None if r.decrypt_error.is_some() => {
                    format!("{} (not decrypted)", r.payloads.join(","))
                }
                None => r.payloads.join(","),
            },
            match &r.decrypted {
                Some(d) if !d.notify.is_empty() => {
                    let mut n = r.notify.clone();
                    n.extend(d.notify.iter().map(|x| format!("{{{x}}}")));
                    n.join(",")
                }
                _ => r.notify.join(","),
            },
        ]);
    }
    t.to_string()
}
