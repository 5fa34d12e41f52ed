//! Session tracking: what happened in the capture, as facts, with no
//! judgement.
//!
//! Contract: [`SessionBuilder`] is a [`Sink`] that turns decode events into
//! an [`Analysis`]: IKE SAs (keyed by SPIs) with their exchanges, requests
//! matched to responses (RFC 7296 section 2.2: SPIs, message ID and
//! direction; IKEv1 by cookies and message ID), retransmissions, round-trip
//! times, retries linked to the attempt they retry, the move from UDP 500 to
//! 4500, NAT detection computed from the addresses seen, ESP flows, ICMP
//! errors tied to the flow they quote, and incomplete IP fragment sets tied
//! to the IKE message they carried. `diag` judges these facts.

pub mod esp_inner;
pub mod nat;
pub mod quality;
pub mod reveal;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use serde::Serialize;

use crate::decode::{
    DecodeAnomaly, DecodeStats, EspPacket, IcmpEvent, IkeDatagram, Keepalive, Sink, TcpSyn,
    Transport, Tunnel,
};
use crate::defrag::{IncompleteReason, IncompleteSet, MissingRange};
use crate::ike::{self, IkeMessage, PayloadDetail};
use crate::wire::icmp::{ErrorKind, IcmpMessage, Quoted};

/// An address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// A proposal offered or chosen, summarised with transform names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposalSummary {
    pub number: u8,
    /// "IKE", "ESP", "AH", ...
    pub protocol: String,
    /// Transform names, e.g. "ENCR_AES_CBC-256", "PRF_HMAC_SHA2_256",
    /// "AUTH_HMAC_SHA2_256_128", "DH 14 (MODP_2048)"; IKEv1 attributes
    /// joined per transform ("AES-CBC-256 SHA2-256 PSK group 14").
    pub transforms: Vec<String>,
    /// Diffie-Hellman groups named in the proposal (numbers).
    pub dh_groups: Vec<u16>,
    /// Encryption algorithm numbers (IKEv2 transform IDs / IKEv1 values).
    pub encryption: Vec<u16>,
    /// Integrity / hash algorithm numbers.
    pub integrity: Vec<u16>,
}

/// One IKE message, as a fact.
#[derive(Debug, Clone, Serialize)]
pub struct MessageFact {
    pub frame: u64,
    pub frames: Vec<u64>,
    pub ts_ns: i64,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub transport: Transport,
    /// Sent by the IKE SA's original initiator.
    pub from_initiator: bool,
    /// A response (IKEv2 R flag; IKEv1: sent by the side that did not
    /// start the exchange).
    pub is_response: bool,
    /// Length from the IKE header.
    pub length: u32,
    /// UDP/TCP payload plus transport header, i.e. the IP payload length.
    pub ip_payload_len: u32,
    pub ip_fragments: usize,
    pub dont_fragment: bool,
    pub truncated: bool,
    pub ttl: u8,
    pub payloads: Vec<&'static str>,
    pub notify_types: Vec<u16>,
    pub notify: Vec<String>,
    pub ike_fragment: Option<(u16, u16)>,
    /// The body is encrypted (IKEv2 SK/SKF, IKEv1 E flag).
    pub encrypted: bool,
    /// The encrypted body was decrypted with the user's keys (IKEv2: its
    /// integrity check passed; IKEv1: the plaintext is a clean payload
    /// chain): `payloads`, `notify_types` and `notify` then include the
    /// inner payloads (after `SK`, or after `encrypted` for IKEv1).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub decrypted: bool,
    /// Same bytes (or the same RFC 7383 fragment) as an earlier message of
    /// the exchange from the same side.
    pub retransmission: bool,
    pub ke_group: Option<u16>,
    pub invalid_ke_group: Option<u16>,
    pub proposals: Vec<ProposalSummary>,
    /// Identities, authentication, certificates, traffic selectors and
    /// configuration the message carries (mostly once decrypted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Box<reveal::MessageDetails>>,
    pub tunnel: Option<Tunnel>,
    #[serde(skip)]
    pub digest: u64,
}

impl MessageFact {
    pub fn has_payload(&self, name: &str) -> bool {
        self.payloads.contains(&name)
    }
    pub fn has_notify(&self, t: u16) -> bool {
        self.notify_types.contains(&t)
    }
}

/// One exchange: a request and its response (IKEv2), or the messages that
/// share an IKEv1 message ID.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub exchange_type: u8,
    pub name: String,
    pub message_id: u32,
    /// The request was sent by the IKE SA's original initiator.
    pub requester_is_initiator: bool,
    /// Every message, in capture order.
    pub messages: Vec<MessageFact>,
    /// An unanswered request whose answer the requester evidently got: the
    /// frame of its later message that carries what only the response
    /// could give it (the responder's SPI after IKE_SA_INIT, or the next
    /// message ID with a window of one, RFC 7296 section 2.3). The answer
    /// is missing from the capture, not from the path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implied_answer: Option<u64>,
    /// The first message that proves the requester got a response: its
    /// next request (a higher message ID; after IKE_SA_INIT any other
    /// exchange), or, after IKE_AUTH / CREATE_CHILD_SA, ESP it sent to the
    /// responder that started after the response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_received: Option<u64>,
}

impl Exchange {
    /// Requests (including retransmissions), in order.
    pub fn requests(&self) -> impl Iterator<Item = &MessageFact> {
        self.messages.iter().filter(|m| !m.is_response)
    }
    /// Responses (including retransmissions), in order.
    pub fn responses(&self) -> impl Iterator<Item = &MessageFact> {
        self.messages.iter().filter(|m| m.is_response)
    }
    pub fn first_request(&self) -> Option<&MessageFact> {
        self.requests().next()
    }
    pub fn first_response(&self) -> Option<&MessageFact> {
        self.responses().next()
    }
    pub fn is_answered(&self) -> bool {
        self.first_response().is_some()
    }
    /// The first response whose fact holds the decrypted inner payloads:
    /// a decrypted SK message, or for an RFC 7383 fragmented response the
    /// fragment that completed it (the others only say `SKF`).
    pub fn decrypted_response(&self) -> Option<&MessageFact> {
        self.responses()
            .find(|m| m.decrypted && (m.ike_fragment.is_none() || m.payloads.len() > 1))
    }
    /// Request transmissions after the first one (for RFC 7383 fragments,
    /// repeated fragment 1 counts as one retransmission of the message).
    pub fn retransmissions(&self) -> usize {
        self.requests()
            .filter(|m| m.retransmission && m.ike_fragment.is_none_or(|(n, _)| n == 1))
            .count()
    }
    /// Times of every request transmission (first fragment only).
    pub fn request_times(&self) -> Vec<i64> {
        self.requests()
            .filter(|m| m.ike_fragment.is_none_or(|(n, _)| n == 1))
            .map(|m| m.ts_ns)
            .collect()
    }
    /// Request transmissions (first RFC 7383 fragments only) after the
    /// first response was in the capture: the requester had not got (or
    /// not accepted) an answer yet.
    pub fn requests_after_answer(&self) -> impl Iterator<Item = &MessageFact> {
        let answered_at = self.first_response().map_or(i64::MAX, |r| r.ts_ns);
        self.requests()
            .filter(move |m| m.ts_ns > answered_at && m.ike_fragment.is_none_or(|(n, _)| n == 1))
    }
    /// Round-trip time: first response minus the last request sent before it.
    pub fn rtt_ns(&self) -> Option<i64> {
        let resp = self.first_response()?;
        let req = self.requests().filter(|m| m.ts_ns <= resp.ts_ns).last()?;
        Some(resp.ts_ns - req.ts_ns)
    }
    /// All frames of the requests.
    pub fn request_frames(&self) -> Vec<u64> {
        self.requests().map(|m| m.frame).collect()
    }
    /// Largest request, in bytes of IP payload.
    pub fn max_request_len(&self) -> u32 {
        self.requests().map(|m| m.ip_payload_len).max().unwrap_or(0)
    }
    /// The exchange is an IKEv2 liveness check (empty INFORMATIONAL) or an
    /// IKEv1 R-U-THERE.
    pub fn is_dpd(&self, version: u8) -> bool {
        match (version, self.first_request()) {
            (2, Some(r)) => self.exchange_type == 37 && r.length <= 96 && r.payloads == ["SK"],
            (1, Some(r)) => r.has_notify(36136),
            _ => false,
        }
    }
}

/// What NAT detection says (RFC 7296 section 2.23, RFC 3947 section 3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NatFacts {
    /// NAT-D payloads were exchanged in both directions.
    pub exchanged: bool,
    /// A NAT changes the initiator's address or port.
    pub initiator_behind_nat: bool,
    /// A NAT changes the responder's address or port.
    pub responder_behind_nat: bool,
    /// The initiator's source hash matches no address it could have, while
    /// the responder saw the initiator's real address: NAT detection faked
    /// to force UDP encapsulation (strongSwan `encap = yes`).
    pub faked_by_initiator: bool,
    /// Frames of the NAT-D payloads compared.
    pub frames: Vec<u64>,
    /// The search for the address behind an initiator source hash that
    /// matched nothing, when one ran (see `nat::conclude`).
    pub initiator_source_search: Option<nat::SourceSearch>,
}

/// Where the capture was taken relative to the IKE peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaptureSide {
    /// On the initiator: its packets leave with an initial TTL, the
    /// responder's arrive with a smaller one.
    Initiator,
    /// On the responder.
    Responder,
    /// Between them: both sides' packets have been routed.
    InBetween,
    /// Not enough to tell (one direction only, same link, odd TTLs).
    Unknown,
}

/// Initial TTL / hop limit values of common stacks.
pub fn is_initial_ttl(t: u8) -> bool {
    matches!(t, 32 | 64 | 128 | 255)
}

fn capture_side(sa: &IkeSa) -> CaptureSide {
    let msgs = sa.messages();
    let ttl_of = |from_i: bool| {
        msgs.iter()
            .filter(|m| m.from_initiator == from_i && m.tunnel.is_none())
            .map(|m| is_initial_ttl(m.ttl))
            .next()
    };
    match (ttl_of(true), ttl_of(false)) {
        (Some(true), Some(false)) => CaptureSide::Initiator,
        (Some(false), Some(true)) => CaptureSide::Responder,
        (Some(false), Some(false)) => CaptureSide::InBetween,
        (Some(true), None) => CaptureSide::Initiator,
        (None, Some(true)) => CaptureSide::Responder,
        _ => CaptureSide::Unknown,
    }
}

/// One IKE SA attempt.
#[derive(Debug, Clone, Serialize)]
pub struct IkeSa {
    pub index: usize,
    pub version: u8,
    #[serde(serialize_with = "ser_hex8")]
    pub ispi: [u8; 8],
    #[serde(serialize_with = "ser_hex8")]
    pub rspi: [u8; 8],
    pub initiator: Endpoint,
    pub responder: Endpoint,
    pub exchanges: Vec<Exchange>,
    pub first_ts_ns: i64,
    pub last_ts_ns: i64,
    /// First frame where the SA's IKE traffic used UDP 4500 after UDP 500.
    pub natt_switch_frame: Option<u64>,
    /// The attempt this one retries (COOKIE, INVALID_KE_PAYLOAD, or a new
    /// IKE_SA_INIT after a failure).
    pub retry_of: Option<usize>,
    pub nat: NatFacts,
    /// The raw NAT-D comparisons behind `nat`.
    pub nat_checks: nat::NatChecks,
    /// Where the capture was taken, as far as TTLs tell.
    pub capture_side: CaptureSide,
    /// The initiator's and responder's vendor IDs, as names.
    pub vendor_ids: Vec<String>,
    /// What the SA's messages say about each side ([`reveal::peers`]),
    /// derived once when the capture ends.
    #[serde(skip)]
    pub peers: Option<reveal::Peers>,
    /// Its readable CHILD SA negotiations ([`reveal::children`]), derived
    /// once when the capture ends.
    #[serde(skip)]
    pub child_sas: Vec<reveal::ChildNegotiation>,
}

fn ser_hex8<S: serde::Serializer>(v: &[u8; 8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex(v))
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// How long after an IKEv1 request an error Informational from the peer
/// still counts as its answer (peers give up retransmitting within ~30 s).
const V1_REFUSAL_WINDOW_NS: i64 = 30_000_000_000;

impl IkeSa {
    /// IKEv1 refuses a request with an Informational of its own rather
    /// than the exchange's next message: the Informational from the other
    /// side carrying an error notify (type 1-8191, in clear or decrypted),
    /// sent within 30 s of `req` and before the requester sent anything
    /// new.
    pub fn v1_refusal(&self, req: &MessageFact) -> Option<&MessageFact> {
        let all = || self.exchanges.iter().flat_map(|x| &x.messages);
        self.exchanges
            .iter()
            .filter(|x| x.exchange_type == 5)
            .flat_map(|x| &x.messages)
            .find(|m| {
                m.frame > req.frame
                    && m.from_initiator != req.from_initiator
                    && m.notify_types.iter().any(|t| (1..8192).contains(t))
                    && m.ts_ns - req.ts_ns <= V1_REFUSAL_WINDOW_NS
                    && !all().any(|o| {
                        o.from_initiator == req.from_initiator
                            && !o.retransmission
                            && o.frame > req.frame
                            && o.frame < m.frame
                            && o.digest != req.digest
                    })
            })
    }

    /// Every message of the SA in capture order.
    pub fn messages(&self) -> Vec<&MessageFact> {
        let mut v: Vec<&MessageFact> = self.exchanges.iter().flat_map(|e| &e.messages).collect();
        v.sort_by_key(|m| m.frame);
        v
    }
    pub fn exchange(&self, exchange_type: u8) -> Option<&Exchange> {
        self.exchanges
            .iter()
            .find(|e| e.exchange_type == exchange_type)
    }
    pub fn exchanges_of(&self, exchange_type: u8) -> impl Iterator<Item = &Exchange> {
        self.exchanges
            .iter()
            .filter(move |e| e.exchange_type == exchange_type)
    }
    /// The addresses of both peers (unordered key).
    pub fn peers(&self) -> (IpAddr, IpAddr) {
        (self.initiator.addr, self.responder.addr)
    }
    pub fn first_frame(&self) -> u64 {
        self.messages().first().map(|m| m.frame).unwrap_or(0)
    }
}

/// ESP packets with one SPI in one direction.
#[derive(Debug, Clone, Serialize)]
pub struct EspFlow {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub spi: u32,
    pub udp_ports: Option<(u16, u16)>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_ts_ns: i64,
    pub last_ts_ns: i64,
    pub packets: u64,
    pub bytes: u64,
    pub max_ip_payload_len: u32,
    /// What the packets hold, when the user's ESP keys cover this flow
    /// (see [`esp_inner`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner: Option<esp_inner::EspInnerFacts>,
}

/// An ICMP or ICMPv6 error, with what it quotes.
#[derive(Debug, Clone, Serialize)]
pub struct IcmpFact {
    pub frame: u64,
    pub ts_ns: i64,
    /// Who sent the error (the router or host).
    pub src: IpAddr,
    pub dst: IpAddr,
    pub v6: bool,
    pub kind: ErrorKind,
    pub icmp_type: u8,
    pub code: u8,
    pub mtu: Option<u32>,
    pub quoted_src: Option<IpAddr>,
    pub quoted_dst: Option<IpAddr>,
    pub quoted_protocol: Option<u8>,
    pub quoted_src_port: Option<u16>,
    pub quoted_dst_port: Option<u16>,
    pub quoted_len: Option<u32>,
    pub quoted_esp_spi: Option<u32>,
    pub quoted_ike_ispi: Option<String>,
    /// The IKE SA the error refers to.
    pub sa: Option<usize>,
}

/// An ICMP echo request or reply (for path MTU sweeps).
#[derive(Debug, Clone, Serialize)]
pub struct EchoFact {
    pub frame: u64,
    pub ts_ns: i64,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub request: bool,
    pub id: u16,
    pub seq: u16,
    pub datagram_len: u32,
    pub dont_fragment: bool,
}

/// A TCP SYN with its MSS option.
#[derive(Debug, Clone, Serialize)]
pub struct SynFact {
    pub frame: u64,
    pub ts_ns: i64,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub ack: bool,
    pub mss: Option<u16>,
    pub tunnel: Option<Tunnel>,
}

/// A large TCP segment sent more than once (the same sequence number):
/// it did not get through.
#[derive(Debug, Clone, Serialize)]
pub struct TcpRetransmission {
    pub src: Endpoint,
    pub dst: Endpoint,
    pub seq: u32,
    pub payload_len: u32,
    /// IP packet size (header included).
    pub packet_len: u32,
    pub dont_fragment: bool,
    pub frames: Vec<u64>,
}

/// An IP fragment set that never completed, and the IKE message it carried
/// when its first fragment says so.
#[derive(Debug, Clone, Serialize)]
pub struct IncompleteFact {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    pub id: u32,
    pub frames: Vec<u64>,
    pub bytes_held: u32,
    pub total_len: Option<u32>,
    pub missing: Vec<MissingRange>,
    pub has_first: bool,
    pub has_last: bool,
    pub udp_ports: Option<(u16, u16)>,
    pub first_ts_ns: i64,
    pub last_ts_ns: i64,
    /// From the first fragment: IKE initiator SPI, exchange type, message
    /// ID and response flag.
    pub ike: Option<IncompleteIke>,
    /// The IKE SA it belongs to (by SPI, else by the peer addresses).
    pub sa: Option<usize>,
    /// Why it was given up: `EndOfCapture` when it was still open when the
    /// capture ended.
    pub reason: IncompleteReason,
    /// Fragments of the set that the snaplen cut (seen, not reassembled).
    pub snaplen_frames: Vec<u64>,
}

/// The IKE header found in a first fragment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncompleteIke {
    pub ispi: String,
    pub exchange_type: u8,
    pub message_id: u32,
    pub is_response: bool,
    pub length: u32,
}

/// Everything the capture says, facts only.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Analysis {
    pub stats: DecodeStats,
    /// The read error that stopped the capture early, if any.
    pub read_error: Option<String>,
    pub sas: Vec<IkeSa>,
    pub esp_flows: Vec<EspFlow>,
    pub icmp_errors: Vec<IcmpFact>,
    pub echoes: Vec<EchoFact>,
    pub syns: Vec<SynFact>,
    /// Per sender, the largest IP fragment it sent that had more to come,
    /// with the frame: (source, size, frame). A non-last fragment of F
    /// bytes says the MTU the sender applied was between F and F + 7 (its
    /// data is a multiple of 8 bytes).
    pub fragment_sizes: Vec<(IpAddr, u32, u64)>,
    /// Large TCP segments sent two or more times.
    pub tcp_retransmissions: Vec<TcpRetransmission>,
    pub incomplete_fragments: Vec<IncompleteFact>,
    pub keepalive_frames: Vec<u64>,
    /// Distinct tunnels IKE/ESP/ICMP were found in.
    pub tunnels: Vec<Tunnel>,
    /// Decode anomalies by code: count and first frame.
    pub decode_anomalies: BTreeMap<String, (u64, u64)>,
    /// Frames whose IKE message had parse anomalies.
    pub ike_anomaly_frames: Vec<u64>,
    /// Frames cut by the snaplen that carried IKE.
    pub truncated_ike_frames: Vec<u64>,
    /// What the user's keys did, when keys were given.
    pub decryption: Option<DecryptionFacts>,
    /// Duplicate frames, time going backwards, snaplen-cut fragments and a
    /// file cut short.
    pub quality: quality::CaptureQuality,
}

/// Decryption with the user's keys (`--keys`, or key tables beside the
/// capture): which messages were decrypted and which could not be.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DecryptionFacts {
    /// The key files used.
    pub key_files: Vec<KeyFileUse>,
    /// Lines or files of them that could not be used.
    pub key_errors: Vec<String>,
    /// Messages decrypted: IKEv2 with their integrity check passing (each
    /// RFC 7383 fragment counts as one), IKEv1 with a clean inner payload
    /// chain (IKEv1 has no integrity check).
    pub decrypted: u64,
    /// Of `decrypted`, the IKEv1 messages.
    pub decrypted_ikev1: u64,
    /// Fragmented messages (RFC 7383) reassembled from their decrypted
    /// fragments; their inner payloads are on the fragment that completed
    /// them.
    pub reassembled: u64,
    /// Encrypted IKEv2 / IKEv1 messages of SAs the keys do not cover.
    pub no_keys: u64,
    /// Messages that had keys but could not be decrypted: (frame, why),
    /// the first [`MAX_DECRYPT_FAILURES`].
    pub failures: Vec<(u64, String)>,
    pub failures_total: u64,
    /// ESP packets decrypted with the ESP keys (ICV verified, or a
    /// plausible trailer for an SA without integrity check).
    pub esp_decrypted: u64,
    /// ESP packets of a keyed SA that could not be decrypted.
    pub esp_failed: u64,
    /// ESP packets of SAs the ESP keys do not cover (counted only when
    /// some ESP keys were given).
    pub esp_no_keys: u64,
    /// ESP packets of keyed SAs not tried: the per-capture budget
    /// ([`esp_inner::MAX_DECRYPT_BYTES`]) was spent.
    pub esp_skipped: u64,
    /// The first failure of each ESP SA: (frame, "ESP SA 0x… (src -> dst): why").
    pub esp_failures: Vec<(u64, String)>,
    /// ESP SAs of the keys that matched no ESP packet, with the ESP flows
    /// that had no key (first 5).
    pub esp_unused_keys: Vec<String>,
}

/// One key file that was used for a capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyFileUse {
    /// As given by the user, or the path found beside the capture.
    pub path: String,
    /// Found beside the capture rather than named with `--keys`.
    pub found_beside_capture: bool,
    /// Entries (SAs or keys) loaded from it.
    pub entries: usize,
}

/// Decryption failures kept per capture.
pub const MAX_DECRYPT_FAILURES: usize = 50;

/// Caps on what is kept per capture, so memory stays flat on huge files.
const MAX_ECHOES: usize = 20_000;
const MAX_SYNS: usize = 20_000;
const MAX_ICMP: usize = 20_000;
const MAX_KEEPALIVE_FRAMES: usize = 1_000;
const MAX_INCOMPLETE: usize = 20_000;

/// Builds an [`Analysis`] from decode events.
#[derive(Default)]
pub struct SessionBuilder {
    a: Analysis,
    /// (version, initiator SPI) -> SA index (the latest attempt).
    by_spi: HashMap<(u8, [u8; 8]), usize>,
    /// (initiator address, responder address) -> SA indexes in order, so
    /// finding the attempt a new IKE_SA_INIT retries does not scan every SA.
    by_peers: HashMap<(IpAddr, IpAddr), Vec<usize>>,
    /// SAs some later attempt retries.
    retried: std::collections::HashSet<usize>,
    /// Per initiator address, the latest SA whose responder redirected it
    /// (RFC 5685 REDIRECT in IKE_SA_INIT or IKE_AUTH), and when.
    redirected: HashMap<IpAddr, (usize, i64)>,
    esp: HashMap<(IpAddr, IpAddr, u32), usize>,
    /// The user's keys, when given.
    #[cfg(feature = "decrypt")]
    keys: Option<std::sync::Arc<crate::decrypt::KeyStore>>,
    /// Decrypted RFC 7383 fragments waiting for the rest of their message.
    #[cfg(feature = "decrypt")]
    skf: crate::decrypt::Reassembler,
    /// ESP decryption, when the keys hold ESP SAs.
    #[cfg(feature = "decrypt")]
    esp_decrypt: Option<esp_inner::EspDecryptor>,
    /// IKEv1 IV chains (RFC 2409 Appendix B), fed every IKEv1 message.
    #[cfg(feature = "decrypt")]
    ikev1: crate::decrypt::Ikev1Decryptor,
    /// Recent large TCP segments per flow (a small ring each).
    flows: HashMap<(Endpoint, Endpoint), RecentSegments, FastHash>,
    /// Large segments seen again, by (src, dst, seq).
    retx: HashMap<(Endpoint, Endpoint, u32), TcpRetransmission>,
}

/// A small multiplicative hasher (the FxHash scheme) for the per-packet
/// TCP segment map: SipHash's DoS resistance is not needed for counting
/// within one capture, and this map is on the hot path of big captures.
#[derive(Default, Clone, Copy)]
struct FastHash;

#[derive(Default)]
struct FastHasher(u64);

impl std::hash::BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
}

/// The last large segments of one TCP flow: a retransmission repeats one
/// of them (go-back-N after a timeout re-sends the oldest unacknowledged).
#[derive(Default)]
struct RecentSegments {
    seqs: [u32; RECENT],
    frames: [u64; RECENT],
    len: usize,
    next: usize,
}

/// Large segments remembered per flow.
const RECENT: usize = 16;
/// Flows tracked at most, and retransmitted segments kept at most, so
/// memory stays flat on big captures.
const MAX_FLOWS: usize = 20_000;
const MAX_RETX: usize = 20_000;

impl RecentSegments {
    fn find(&self, seq: u32) -> Option<u64> {
        (0..self.len)
            .find(|&i| self.seqs[i] == seq)
            .map(|i| self.frames[i])
    }
    fn push(&mut self, seq: u32, frame: u64) {
        self.seqs[self.next] = seq;
        self.frames[self.next] = frame;
        self.next = (self.next + 1) % RECENT;
        self.len = (self.len + 1).min(RECENT);
    }
}

fn digest(data: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    h.finish()
}

fn proposals(m: &IkeMessage<'_>) -> Vec<ProposalSummary> {
    let mut out = Vec::new();
    for p in &m.payloads {
        match &p.detail {
            PayloadDetail::Sa(sa) => {
                for prop in &sa.proposals {
                    let mut s = ProposalSummary {
                        number: prop.proposal_number,
                        protocol: prop.protocol_name().unwrap_or("?").to_string(),
                        transforms: Vec::new(),
                        dh_groups: Vec::new(),
                        encryption: Vec::new(),
                        integrity: Vec::new(),
                    };
                    for t in &prop.transforms {
                        let name = t
                            .name()
                            .map(str::to_string)
                            .unwrap_or_else(|| format!("{}:{}", t.transform_type, t.transform_id));
                        s.transforms.push(match t.key_length {
                            Some(k) => format!("{name}-{k}"),
                            None => name,
                        });
                        match t.transform_type {
                            1 => s.encryption.push(t.transform_id),
                            3 => s.integrity.push(t.transform_id),
                            4 => s.dh_groups.push(t.transform_id),
                            _ => {}
                        }
                    }
                    out.push(s);
                }
            }
            PayloadDetail::V1Sa(sa) => {
                for prop in &sa.proposals {
                    let mut s = ProposalSummary {
                        number: prop.proposal_number,
                        protocol: match prop.protocol_id {
                            1 => "ISAKMP",
                            2 => "AH",
                            3 => "ESP",
                            4 => "IPCOMP",
                            _ => "?",
                        }
                        .to_string(),
                        transforms: Vec::new(),
                        dh_groups: Vec::new(),
                        encryption: Vec::new(),
                        integrity: Vec::new(),
                    };
                    for t in &prop.transforms {
                        let mut parts = Vec::new();
                        if let Some(n) = t.name(prop.protocol_id) {
                            parts.push(n.to_string());
                        }
                        for a in &t.attributes {
                            let an = a.name(prop.protocol_id).unwrap_or("attr");
                            let v = a
                                .value_name(prop.protocol_id)
                                .map(str::to_string)
                                .or_else(|| a.value.as_u64().map(|v| v.to_string()))
                                .unwrap_or_default();
                            parts.push(format!("{an}={v}"));
                        }
                        s.transforms.push(parts.join(" "));
                        let isakmp = prop.protocol_id == 1;
                        // RFC 2409 appendix A: 1 encryption, 2 hash, 4 group
                        // (ISAKMP); RFC 2407 4.5: 4 group, 5 auth (IPsec).
                        let (group_attr, integ_attr) = if isakmp { (4, 2) } else { (3, 5) };
                        if let Some(g) = t.attribute_value(group_attr) {
                            s.dh_groups.push(g as u16);
                        }
                        if let Some(h) = t.attribute_value(integ_attr) {
                            s.integrity.push(h as u16);
                        }
                        if isakmp {
                            if let Some(e) = t.attribute_value(1) {
                                s.encryption.push(e as u16);
                            }
                        } else {
                            s.encryption.push(u16::from(t.transform_id));
                        }
                    }
                    out.push(s);
                }
            }
            _ => {}
        }
    }
    out
}

impl SessionBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decrypts encrypted IKEv2 messages (integrity checked first) and
    /// IKEv1 messages (RFC 2409 IV chaining over the messages in capture
    /// order) with these keys; what they reveal joins the messages' facts.
    #[cfg(feature = "decrypt")]
    pub fn with_keys(
        mut self,
        keys: std::sync::Arc<crate::decrypt::KeyStore>,
        key_files: Vec<KeyFileUse>,
    ) -> Self {
        self.a.decryption = Some(DecryptionFacts {
            key_files,
            key_errors: keys.errors().iter().map(|e| e.to_string()).collect(),
            ..DecryptionFacts::default()
        });
        self.esp_decrypt = esp_inner::EspDecryptor::new(&keys);
        self.keys = Some(keys);
        self
    }

    fn new_sa(
        &mut self,
        version: u8,
        ispi: [u8; 8],
        initiator: Endpoint,
        responder: Endpoint,
        ts: i64,
    ) -> usize {
        let index = self.a.sas.len();
        self.a.sas.push(IkeSa {
            index,
            version,
            ispi,
            rspi: [0; 8],
            initiator,
            responder,
            exchanges: Vec::new(),
            first_ts_ns: ts,
            last_ts_ns: ts,
            natt_switch_frame: None,
            retry_of: None,
            nat: NatFacts::default(),
            nat_checks: nat::NatChecks::default(),
            capture_side: CaptureSide::Unknown,
            vendor_ids: Vec::new(),
            peers: None,
            child_sas: Vec::new(),
        });
        self.by_spi.insert((version, ispi), index);
        self.by_peers
            .entry((initiator.addr, responder.addr))
            .or_default()
            .push(index);
        index
    }

    /// Links `idx` to the attempt it retries.
    fn link_retry(&mut self, idx: usize, previous: usize) {
        if previous == idx {
            return;
        }
        if let Some(sa) = self.a.sas.get_mut(idx) {
            sa.retry_of = Some(previous);
            self.retried.insert(previous);
        }
    }

    /// The latest attempt between the same addresses, started at most 60 s
    /// ago, that a new IKE_SA_INIT with a fresh SPI retries: its first
    /// exchange was refused (an error notify or COOKIE) or never answered,
    /// or its IKE_AUTH was answered by a lone error. Not one already retried.
    fn failed_attempt(&self, i: Endpoint, r: Endpoint, ts: i64, not: usize) -> Option<usize> {
        let idx = *self
            .by_peers
            .get(&(i.addr, r.addr))?
            .iter()
            .rev()
            .find(|&&x| x != not)?;
        let sa = self.a.sas.get(idx)?;
        // Within 60 s, and not before it (a capture whose clock jumps back
        // must not make an attempt retry a later one).
        if !(0..=60_000_000_000).contains(&(ts - sa.first_ts_ns)) {
            return None;
        }
        if self.retried.contains(&sa.index) {
            return None;
        }
        let init = sa
            .exchanges
            .iter()
            .rev()
            .find(|e| matches!(e.exchange_type, 2 | 4 | 34))?;
        let refused = match init.first_response() {
            None => true,
            Some(resp) => resp.notify_types.iter().any(|&t| t < 16384 || t == 16390),
        };
        let auth_refused = sa
            .exchanges
            .iter()
            .filter(|e| e.exchange_type == 35)
            .filter_map(|e| e.first_response())
            .any(|m| m.encrypted && m.length <= 96);
        (refused || auth_refused).then_some(sa.index)
    }

    /// The attempt that redirected this initiator (RFC 5685) within the
    /// last 60 s, not already followed: a new IKE_SA_INIT to the gateway it
    /// was sent to retries it.
    fn redirect_of(&self, i: Endpoint, ts: i64) -> Option<usize> {
        let &(idx, at) = self.redirected.get(&i.addr)?;
        ((0..=60_000_000_000).contains(&(ts - at)) && !self.retried.contains(&idx)).then_some(idx)
    }

    fn on_ike(&mut self, d: &IkeDatagram<'_>) {
        let Ok(m) = &d.message else { return };
        let h = &m.header;
        let version = m.version();
        if version != 1 && version != 2 {
            return;
        }
        let seen = &d.seen;
        self.note_tunnel(seen.tunnel);
        let src = Endpoint {
            addr: seen.src,
            port: d.src_port,
        };
        let dst = Endpoint {
            addr: seen.dst,
            port: d.dst_port,
        };
        if seen.truncated {
            self.a.truncated_ike_frames.push(seen.frame);
        }
        if !m.anomalies.is_empty() {
            self.a.ike_anomaly_frames.push(seen.frame);
        }
        let dig = digest(d.raw);
        let key = (version, h.ispi);
        // Find or start the SA attempt.
        let sa_idx = match self.by_spi.get(&key) {
            Some(&i) => i,
            None => {
                // IKEv2 says who sent it; for IKEv1 the first sender seen
                // is taken as the initiator (right whenever the capture
                // holds the first message, whose responder cookie is zero).
                let src_is_initiator = version == 1 || h.is_initiator();
                let (i, r) = if src_is_initiator {
                    (src, dst)
                } else {
                    (dst, src)
                };
                let opening = h.rspi == [0; 8] && !h.is_response() && src_is_initiator;
                let previous = if opening {
                    self.failed_attempt(i, r, seen.ts_ns, usize::MAX)
                        .or_else(|| self.redirect_of(i, seen.ts_ns))
                } else {
                    None
                };
                let idx = self.new_sa(version, h.ispi, i, r, seen.ts_ns);
                if let Some(p) = previous {
                    self.link_retry(idx, p);
                }
                idx
            }
        };
        // The opening request of an SA first seen mid-way (a file whose
        // pieces are out of order, or a capture that began after it):
        // it may still retry a failed attempt under another SPI.
        if h.rspi == [0; 8]
            && !h.is_response()
            && h.message_id == 0
            && (version == 1 || h.is_initiator())
            && self.a.sas[sa_idx].retry_of.is_none()
            && !self.a.sas[sa_idx]
                .exchanges
                .iter()
                .any(|e| matches!(e.exchange_type, 2 | 4 | 34))
        {
            let (i, r) = (src, dst);
            if let Some(p) = self.failed_attempt(i, r, seen.ts_ns, sa_idx) {
                self.link_retry(sa_idx, p);
            }
        }
        let sa = &self.a.sas[sa_idx];
        let from_initiator = if version == 2 {
            h.is_initiator()
        } else if sa.initiator.addr != sa.responder.addr {
            src.addr == sa.initiator.addr
        } else {
            src.port == sa.initiator.port || (src.port == 4500 && dst.port != sa.initiator.port)
        };
        // IKEv2: which side started the exchange; IKEv1: found below.
        let v2_requester_is_initiator = if h.is_response() {
            !h.is_initiator()
        } else {
            h.is_initiator()
        };
        // A new IKE_SA_INIT request (different bytes) after a response to
        // an earlier one starts a new attempt: COOKIE / INVALID_KE_PAYLOAD
        // retries keep the SPI (RFC 7296 sections 2.6, 1.3).
        let mut sa_idx = sa_idx;
        if version == 2 && h.exchange_type == 34 && !h.is_response() && h.message_id == 0 {
            let restart = self.a.sas[sa_idx].exchanges.iter().any(|e| {
                e.exchange_type == 34 && e.is_answered() && !e.requests().any(|r| r.digest == dig)
            });
            if restart {
                let old = sa_idx;
                sa_idx = self.new_sa(version, h.ispi, src, dst, seen.ts_ns);
                self.link_retry(sa_idx, old);
            }
        }
        let sa = &mut self.a.sas[sa_idx];
        sa.last_ts_ns = sa.last_ts_ns.max(seen.ts_ns);
        if sa.rspi == [0; 8] && h.rspi != [0; 8] {
            sa.rspi = h.rspi;
        }
        if sa.natt_switch_frame.is_none()
            && d.transport == Transport::UdpNatt
            && sa
                .exchanges
                .iter()
                .flat_map(|e| &e.messages)
                .any(|m| m.transport == Transport::Udp)
        {
            sa.natt_switch_frame = Some(seen.frame);
        }
        for v in m.vendor_ids() {
            let name = v.name.map(str::to_string).unwrap_or_else(|| hex(v.data));
            if !sa.vendor_ids.contains(&name) {
                sa.vendor_ids.push(name);
            }
        }
        // Find the exchange.
        let ex_idx = if version == 2 {
            sa.exchanges.iter().position(|e| {
                e.message_id == h.message_id
                    && e.requester_is_initiator == v2_requester_is_initiator
                    && e.exchange_type == h.exchange_type
            })
        } else {
            sa.exchanges
                .iter()
                .position(|e| e.message_id == h.message_id && e.exchange_type == h.exchange_type)
        };
        let ex_idx = match ex_idx {
            Some(i) => i,
            None => {
                sa.exchanges.push(Exchange {
                    exchange_type: h.exchange_type,
                    name: m
                        .exchange_name()
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("exchange {}", h.exchange_type)),
                    message_id: h.message_id,
                    requester_is_initiator: if version == 2 {
                        v2_requester_is_initiator
                    } else {
                        from_initiator
                    },
                    messages: Vec::new(),
                    implied_answer: None,
                    answer_received: None,
                });
                sa.exchanges.len() - 1
            }
        };
        let ex = &sa.exchanges[ex_idx];
        let is_response = if version == 2 {
            h.is_response()
        } else {
            from_initiator != ex.requester_is_initiator
        };
        let fragment = m.fragment();
        let retransmission = ex.messages.iter().any(|o| {
            o.from_initiator == from_initiator
                && o.is_response == is_response
                && (o.digest == dig || (fragment.is_some() && o.ike_fragment == fragment))
        });
        let encrypted = h.is_encrypted_v1() || m.has_encrypted_payload();
        #[cfg_attr(not(feature = "decrypt"), allow(unused_mut))]
        let mut fact = MessageFact {
            frame: seen.frame,
            frames: seen.frames.to_vec(),
            ts_ns: seen.ts_ns,
            src,
            dst,
            transport: d.transport,
            from_initiator,
            is_response,
            length: h.length,
            ip_payload_len: seen.ip_payload_len,
            ip_fragments: if seen.frames.len() > 1 {
                seen.frames.len()
            } else {
                0
            },
            dont_fragment: seen.dont_fragment,
            truncated: seen.truncated,
            ttl: seen.ttl,
            payloads: m.payload_names(),
            notify_types: m.notify_types(),
            notify: m
                .notify_names()
                .into_iter()
                .map(|c| c.into_owned())
                .collect(),
            ike_fragment: fragment,
            encrypted,
            decrypted: false,
            retransmission,
            ke_group: m.ke_group(),
            invalid_ke_group: m.invalid_ke_group(),
            proposals: proposals(m),
            details: reveal::details(m).map(Box::new),
            tunnel: seen.tunnel,
            digest: dig,
        };
        #[cfg(feature = "decrypt")]
        let mut decrypted = None;
        #[cfg(feature = "decrypt")]
        if let (Some(keys), Some(facts)) = (self.keys.as_deref(), self.a.decryption.as_mut()) {
            if version == 2 && encrypted {
                decrypt_fact(&mut fact, d.raw, m, keys, facts, &mut self.skf);
            } else if version == 1
                && let Some(r) = self.ikev1.feed_parsed(d.raw, m, keys)
            {
                decrypted = decrypt_v1_fact(&mut fact, r, facts);
            }
        }
        if fact.is_response && !fact.from_initiator && fact.has_notify(16407) {
            let initiator = self.a.sas[sa_idx].initiator.addr;
            self.redirected.insert(initiator, (sa_idx, fact.ts_ns));
        }
        let sa = &mut self.a.sas[sa_idx];
        nat::observe(sa, &fact, m);
        // NAT-D payloads can be encrypted too (IKEv1 Aggressive Mode 3).
        #[cfg(feature = "decrypt")]
        if let Some(dec) = &decrypted {
            nat::observe(sa, &fact, &dec.inner());
        }
        sa.exchanges[ex_idx].messages.push(fact);
    }

    fn on_esp(&mut self, e: &EspPacket<'_>) {
        self.note_tunnel(e.seen.tunnel);
        let key = (e.seen.src, e.seen.dst, e.spi);
        let n = self.a.esp_flows.len();
        let i = *self.esp.entry(key).or_insert(n);
        if i == n {
            self.a.esp_flows.push(EspFlow {
                src: e.seen.src,
                dst: e.seen.dst,
                spi: e.spi,
                udp_ports: e.udp_ports,
                first_frame: e.seen.frame,
                last_frame: e.seen.frame,
                first_ts_ns: e.seen.ts_ns,
                last_ts_ns: e.seen.ts_ns,
                packets: 0,
                bytes: 0,
                max_ip_payload_len: 0,
                inner: None,
            });
        }
        let f = &mut self.a.esp_flows[i];
        f.last_frame = e.seen.frame;
        f.last_ts_ns = e.seen.ts_ns;
        f.packets += 1;
        f.bytes += u64::from(e.seen.ip_payload_len);
        f.max_ip_payload_len = f.max_ip_payload_len.max(e.seen.ip_payload_len);
        #[cfg(feature = "decrypt")]
        if let (Some(d), Some(facts)) = (self.esp_decrypt.as_mut(), self.a.decryption.as_mut()) {
            d.observe(e, i, &mut self.a.esp_flows[i], facts);
        }
    }

    fn on_icmp(&mut self, i: &IcmpEvent<'_>) {
        match i.message {
            IcmpMessage::Error {
                kind,
                icmp_type,
                code,
                mtu,
                ..
            } => {
                if self.a.icmp_errors.len() >= MAX_ICMP {
                    return;
                }
                let q: Option<&Quoted> = i.quoted.as_ref();
                self.a.icmp_errors.push(IcmpFact {
                    frame: i.seen.frame,
                    ts_ns: i.seen.ts_ns,
                    src: i.seen.src,
                    dst: i.seen.dst,
                    v6: i.v6,
                    kind,
                    icmp_type,
                    code,
                    mtu,
                    quoted_src: q.map(|q| q.src),
                    quoted_dst: q.map(|q| q.dst),
                    quoted_protocol: q.map(|q| q.protocol),
                    quoted_src_port: q.and_then(|q| q.src_port),
                    quoted_dst_port: q.and_then(|q| q.dst_port),
                    quoted_len: q.map(|q| q.datagram_len),
                    quoted_esp_spi: q.and_then(|q| q.esp_spi),
                    quoted_ike_ispi: q.and_then(|q| q.ike_ispi).map(|s| hex(&s)),
                    sa: None,
                });
            }
            IcmpMessage::Echo { request, id, seq } => {
                if self.a.echoes.len() >= MAX_ECHOES {
                    return;
                }
                self.a.echoes.push(EchoFact {
                    frame: i.seen.frame,
                    ts_ns: i.seen.ts_ns,
                    src: i.seen.src,
                    dst: i.seen.dst,
                    request,
                    id,
                    seq,
                    datagram_len: i.datagram_len,
                    dont_fragment: i.seen.dont_fragment,
                });
            }
            IcmpMessage::Other { .. } => {}
        }
    }

    fn on_incomplete(&mut self, s: &IncompleteSet) {
        if self.a.incomplete_fragments.len() >= MAX_INCOMPLETE {
            return;
        }
        let ike = if s.key.protocol == 17 {
            s.first_udp_ports.and_then(|(sp, dp)| {
                let body = s.first_bytes.get(8..)?;
                let udp_len = s
                    .first_bytes
                    .get(4..6)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))?;
                let natt = sp == 4500 || dp == 4500;
                let declared = udp_len.saturating_sub(if natt { 12 } else { 8 });
                let body = if natt {
                    body.strip_prefix(&[0, 0, 0, 0][..])?
                } else if sp == 500 || dp == 500 {
                    body
                } else {
                    return None;
                };
                // A plausible IKE header (`ike::check_header`), so a DNS
                // or NTP fragment set on these ports is not taken for IKE.
                let h = ike::check_header(body, declared).ok()?;
                Some(IncompleteIke {
                    ispi: hex(&h.ispi),
                    exchange_type: h.exchange_type,
                    message_id: h.message_id,
                    is_response: if h.major_version == 2 {
                        h.is_response()
                    } else {
                        false
                    },
                    length: h.length,
                })
            })
        } else {
            None
        };
        self.a.incomplete_fragments.push(IncompleteFact {
            src: s.key.src,
            dst: s.key.dst,
            protocol: s.key.protocol,
            id: s.key.id,
            frames: s.frames.clone(),
            bytes_held: s.bytes_held,
            total_len: s.total_len,
            missing: s.missing.clone(),
            has_first: s.has_first,
            has_last: s.has_last,
            udp_ports: s.first_udp_ports,
            first_ts_ns: s.first_ts_ns,
            last_ts_ns: s.last_ts_ns,
            ike,
            sa: None,
            reason: s.reason,
            snaplen_frames: self.a.quality.cut_frames(&s.key),
        });
    }

    /// Ties ICMP errors and incomplete fragment sets to their IKE SA.
    fn attach(&mut self) {
        let sas = &self.a.sas;
        let find_by_peers = |a: IpAddr, b: IpAddr| {
            sas.iter()
                .rev()
                .find(|s| {
                    (s.initiator.addr == a && s.responder.addr == b)
                        || (s.initiator.addr == b && s.responder.addr == a)
                })
                .map(|s| s.index)
        };
        for icmp in &mut self.a.icmp_errors {
            let (Some(qs), Some(qd)) = (icmp.quoted_src, icmp.quoted_dst) else {
                continue;
            };
            let by_spi = icmp.quoted_ike_ispi.as_ref().and_then(|spi| {
                sas.iter()
                    .rev()
                    .find(|s| hex(&s.ispi) == *spi && s.ts_range_contains(icmp.ts_ns))
                    .or_else(|| sas.iter().rev().find(|s| hex(&s.ispi) == *spi))
                    .map(|s| s.index)
            });
            icmp.sa = by_spi.or_else(|| find_by_peers(qs, qd));
        }
        for f in &mut self.a.incomplete_fragments {
            let by_spi = f.ike.as_ref().and_then(|ike| {
                sas.iter()
                    .rev()
                    .find(|s| hex(&s.ispi) == ike.ispi)
                    .map(|s| s.index)
            });
            f.sa = by_spi.or_else(|| find_by_peers(f.src, f.dst));
        }
    }

    /// Finishes the analysis.
    pub fn finish(mut self, stats: DecodeStats, read_error: Option<String>) -> Analysis {
        self.attach();
        #[cfg(feature = "decrypt")]
        if let (Some(d), Some(facts)) = (self.esp_decrypt.as_ref(), self.a.decryption.as_mut()) {
            d.finish(&self.a.esp_flows, facts);
        }
        let mut retx: Vec<TcpRetransmission> = self.retx.drain().map(|(_, v)| v).collect();
        retx.sort_by_key(|r| r.frames.first().copied());
        self.a.tcp_retransmissions = retx;
        let mut nat_search = nat::Searcher::default();
        let esp = esp_starts(&self.a.esp_flows);
        for sa in &mut self.a.sas {
            derive_sa_facts(sa, &esp);
            nat::conclude(sa, &mut nat_search);
            sa.peers = reveal::peers(sa);
            sa.child_sas = reveal::children(sa);
        }
        self.a.stats = stats;
        self.a.read_error = read_error;
        self.a
    }
}

/// The facts of an SA that need all of its messages (and the ESP flows):
/// the capture side, implied answers and answer receipts. Run once when
/// the capture ends (and by the rule tests on hand-built SAs).
pub(crate) fn derive_sa_facts(sa: &mut IkeSa, esp: &EspStarts) {
    sa.capture_side = capture_side(sa);
    implied_answers(sa);
    answer_receipts(sa, esp);
}

/// When and where each ESP flow started, by (source, destination): built
/// once per capture so each exchange looks up its own peer pair.
pub(crate) type EspStarts = HashMap<(IpAddr, IpAddr), Vec<(i64, u64)>>;

/// The [`EspStarts`] of these flows.
pub(crate) fn esp_starts(flows: &[EspFlow]) -> EspStarts {
    let mut m: EspStarts = HashMap::new();
    for f in flows {
        m.entry((f.src, f.dst))
            .or_default()
            .push((f.first_ts_ns, f.first_frame));
    }
    m
}

/// IKEv2: marks unanswered requests whose answer a later message of the
/// requester proves it received (see [`Exchange::implied_answer`]).
fn implied_answers(sa: &mut IkeSa) {
    if sa.version != 2 {
        return;
    }
    // SET_WINDOW_SIZE (16385) lets a requester have several requests out.
    let windowed = sa
        .exchanges
        .iter()
        .flat_map(|e| &e.messages)
        .any(|m| m.has_notify(16385));
    let mut marks = Vec::new();
    for (k, e) in sa.exchanges.iter().enumerate() {
        if e.is_answered() {
            continue;
        }
        let Some(first) = e.first_request() else {
            continue;
        };
        let proof = if windowed && e.exchange_type != 34 {
            None
        } else {
            next_request_after(sa, e, first.frame)
        };
        if let Some(f) = proof {
            marks.push((k, f));
        }
    }
    for (k, f) in marks {
        if let Some(e) = sa.exchanges.get_mut(k) {
            e.implied_answer = Some(f);
        }
    }
}

/// The first request the requester of `e` sent after `frame` that it
/// could only send once it had `e`'s answer: after IKE_SA_INIT, any other
/// exchange (it carries the responder's SPI); otherwise its next message
/// ID (with a window of one, RFC 7296 section 2.3).
fn next_request_after(sa: &IkeSa, e: &Exchange, frame: u64) -> Option<u64> {
    let side = e.requester_is_initiator;
    sa.exchanges
        .iter()
        .filter(|x| {
            if e.exchange_type == 34 {
                x.exchange_type != 34
            } else {
                x.requester_is_initiator == side && x.message_id > e.message_id
            }
        })
        .flat_map(|x| x.requests())
        .filter(|m| m.from_initiator == side && m.frame > frame)
        .map(|m| m.frame)
        .min()
}

/// IKEv2: for each answered exchange, the message proving the requester
/// got an answer ([`Exchange::answer_received`]).
fn answer_receipts(sa: &mut IkeSa, esp: &EspStarts) {
    if sa.version != 2 {
        return;
    }
    let (ia, ra) = (sa.initiator.addr, sa.responder.addr);
    let mut marks = Vec::new();
    for (k, e) in sa.exchanges.iter().enumerate() {
        let Some(resp) = e.first_response() else {
            continue;
        };
        let side = e.requester_is_initiator;
        let next_request = next_request_after(sa, e, resp.frame);
        let (from, to) = if side { (ia, ra) } else { (ra, ia) };
        let esp_proof = if matches!(e.exchange_type, 35 | 36) {
            esp.get(&(from, to))
                .into_iter()
                .flatten()
                .filter(|(ts, _)| *ts > resp.ts_ns)
                .map(|(_, frame)| *frame)
                .min()
        } else {
            None
        };
        let proof = match (next_request, esp_proof) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        marks.push((k, proof));
    }
    for (k, proof) in marks {
        if let Some(e) = sa.exchanges.get_mut(k) {
            e.answer_received = proof;
        }
    }
}

impl IkeSa {
    fn ts_range_contains(&self, ts: i64) -> bool {
        ts >= self.first_ts_ns && ts <= self.last_ts_ns.saturating_add(120_000_000_000)
    }
}

impl Sink for SessionBuilder {
    fn ike(&mut self, m: &IkeDatagram<'_>) {
        self.on_ike(m);
    }
    fn esp(&mut self, e: &EspPacket<'_>) {
        self.on_esp(e);
    }
    fn keepalive(&mut self, k: &Keepalive<'_>) {
        if self.a.keepalive_frames.len() < MAX_KEEPALIVE_FRAMES {
            self.a.keepalive_frames.push(k.seen.frame);
        }
        self.note_tunnel(k.seen.tunnel);
    }
    fn icmp(&mut self, i: &IcmpEvent<'_>) {
        self.note_tunnel(i.seen.tunnel);
        self.on_icmp(i);
    }
    fn tcp_syn(&mut self, s: &TcpSyn<'_>) {
        if s.mss.is_some() && self.a.syns.len() < MAX_SYNS {
            self.a.syns.push(SynFact {
                frame: s.seen.frame,
                ts_ns: s.seen.ts_ns,
                src: Endpoint {
                    addr: s.seen.src,
                    port: s.src_port,
                },
                dst: Endpoint {
                    addr: s.seen.dst,
                    port: s.dst_port,
                },
                ack: s.ack,
                mss: s.mss,
                tunnel: s.seen.tunnel,
            });
        }
    }
    fn incomplete_fragments(&mut self, s: &IncompleteSet) {
        self.on_incomplete(s);
    }
    fn fragment(&mut self, frame: u64, src: IpAddr, _dst: IpAddr, datagram_len: u32) {
        let sizes = &mut self.a.fragment_sizes;
        if let Some(e) = sizes.iter_mut().find(|(s, _, _)| *s == src) {
            if datagram_len > e.1 {
                *e = (src, datagram_len, frame);
            }
        } else if sizes.len() < 1024 {
            sizes.push((src, datagram_len, frame));
        }
    }
    fn tcp_data(&mut self, d: &crate::decode::TcpData<'_>) {
        let src = Endpoint {
            addr: d.seen.src,
            port: d.src_port,
        };
        let dst = Endpoint {
            addr: d.seen.dst,
            port: d.dst_port,
        };
        let full = self.flows.len() >= MAX_FLOWS;
        let flow = match self.flows.get_mut(&(src, dst)) {
            Some(f) => f,
            None if full => return,
            None => self.flows.entry((src, dst)).or_default(),
        };
        match flow.find(d.seq) {
            Some(first_frame) => {
                let hdr = if d.seen.src.is_ipv6() { 40 } else { 20 };
                let key = (src, dst, d.seq);
                if self.retx.len() >= MAX_RETX && !self.retx.contains_key(&key) {
                    return;
                }
                let e = self.retx.entry(key).or_insert_with(|| TcpRetransmission {
                    src,
                    dst,
                    seq: d.seq,
                    payload_len: d.payload_len,
                    packet_len: d.seen.ip_payload_len + hdr,
                    dont_fragment: d.seen.dont_fragment,
                    frames: vec![first_frame],
                });
                if e.frames.len() < 64 {
                    e.frames.push(d.seen.frame);
                }
            }
            None => flow.push(d.seq, d.seen.frame),
        }
    }
    fn fragment_cut(&mut self, frame: u64, key: &crate::defrag::FragKey) {
        self.a.quality.on_fragment_cut(frame, key);
    }
    fn duplicate_frame(&mut self, d: &crate::decode::DuplicateFrame) {
        self.a.quality.on_duplicate(d);
    }
    fn time_step_back(&mut self, s: &crate::decode::TimeStep) {
        self.a.quality.on_time_step(s);
    }
    fn read_error(&mut self, after_frame: u64, e: &crate::capture::CaptureError) {
        self.a.quality.on_read_error(after_frame, e);
    }
    fn anomaly(&mut self, frame: u64, a: DecodeAnomaly) {
        let e = self
            .a
            .decode_anomalies
            .entry(a.code().to_string())
            .or_insert((0, frame));
        e.0 += 1;
    }
}

impl SessionBuilder {
    fn note_tunnel(&mut self, t: Option<Tunnel>) {
        if let Some(t) = t
            && !self.a.tunnels.contains(&t)
            && self.a.tunnels.len() < 64
        {
            self.a.tunnels.push(t);
        }
    }
}

/// Adds what the decrypted SK payload of `raw` says to `fact`. An SKF
/// fragment is marked decrypted and kept in `skf`; the fragment that
/// completes its message gets the whole message's inner payloads, notifies
/// and proposals (as tshark shows them on the last fragment).
#[cfg(feature = "decrypt")]
fn decrypt_fact(
    fact: &mut MessageFact,
    raw: &[u8],
    parsed: &crate::ike::IkeMessage<'_>,
    keys: &crate::decrypt::KeyStore,
    facts: &mut DecryptionFacts,
    skf: &mut crate::decrypt::Reassembler,
) {
    use crate::decrypt::{DecryptError, Reassembly};
    match crate::decrypt::decrypt_parsed(raw, parsed, keys) {
        Ok(dec) => {
            fact.decrypted = true;
            facts.decrypted += 1;
            if !dec.is_fragment() {
                add_inner(fact, &dec);
            } else if let Reassembly::Complete(whole) = skf.push(dec) {
                facts.reassembled += 1;
                add_inner(fact, &whole);
            }
        }
        Err(DecryptError::NoKeys { .. }) => facts.no_keys += 1,
        Err(DecryptError::NoEncryptedPayload) => {}
        Err(e) => add_failure(fact, e.to_string(), facts),
    }
}

/// Adds what an IKEv1 message decrypted to (RFC 2409 Appendix B IVs, kept
/// by the builder's [`crate::decrypt::Ikev1Decryptor`]) to `fact`; returns
/// the decryption.
#[cfg(feature = "decrypt")]
fn decrypt_v1_fact(
    fact: &mut MessageFact,
    result: Result<crate::decrypt::Decrypted, crate::decrypt::Ikev1DecryptError>,
    facts: &mut DecryptionFacts,
) -> Option<crate::decrypt::Decrypted> {
    use crate::decrypt::Ikev1DecryptError;
    match result {
        Ok(dec) => {
            add_decrypted(fact, &dec, facts);
            facts.decrypted_ikev1 += 1;
            return Some(dec);
        }
        Err(Ikev1DecryptError::NoKey { .. }) => facts.no_keys += 1,
        Err(e) => add_failure(fact, e.to_string(), facts),
    }
    None
}

#[cfg(feature = "decrypt")]
fn add_decrypted(
    fact: &mut MessageFact,
    dec: &crate::decrypt::Decrypted,
    facts: &mut DecryptionFacts,
) {
    fact.decrypted = true;
    add_inner(fact, dec);
    facts.decrypted += 1;
}

#[cfg(feature = "decrypt")]
fn add_failure(fact: &MessageFact, why: String, facts: &mut DecryptionFacts) {
    facts.failures_total += 1;
    if facts.failures.len() < MAX_DECRYPT_FAILURES {
        facts.failures.push((fact.frame, why));
    }
}

/// The inner payloads, notifies and proposals of a decrypted message.
#[cfg(feature = "decrypt")]
fn add_inner(fact: &mut MessageFact, dec: &crate::decrypt::Decrypted) {
    let inner = dec.inner();
    fact.payloads.extend(inner.payload_names());
    fact.notify_types.extend(inner.notify_types());
    fact.notify
        .extend(inner.notify_names().into_iter().map(|c| c.into_owned()));
    if fact.proposals.is_empty() {
        fact.proposals = proposals(&inner);
    }
    if let Some(d) = reveal::details(&inner) {
        fact.details = Some(Box::new(d));
    }
}

/// Reads and analyses a whole capture (facts only).
pub fn analyze_reader(
    reader: &mut crate::capture::CaptureReader,
    config: crate::decode::DecodeConfig,
) -> Analysis {
    analyze_with(reader, config, SessionBuilder::new())
}

/// The user's keys for a run: the `--keys` files, read once, and whether
/// to add the key tables found beside each capture (see
/// [`crate::keyfiles`]). Without the `decrypt` feature there are no keys.
#[derive(Debug, Clone, Default)]
pub struct KeySource {
    #[cfg(feature = "decrypt")]
    named: crate::keyfiles::Named,
    beside_capture: bool,
}

impl KeySource {
    pub fn new(named: &[std::path::PathBuf], beside_capture: bool) -> Self {
        #[cfg(not(feature = "decrypt"))]
        let _ = named;
        KeySource {
            #[cfg(feature = "decrypt")]
            named: crate::keyfiles::load_named(named),
            beside_capture,
        }
    }

    /// A session builder for `capture` with its keys (none beside
    /// standard input, `-`).
    pub fn builder_for(&self, capture: &std::path::Path) -> SessionBuilder {
        #[cfg(feature = "decrypt")]
        {
            let keys = if self.beside_capture && capture != std::path::Path::new("-") {
                crate::keyfiles::for_capture(&self.named, capture)
            } else {
                self.named.clone()
            };
            if let Some((store, used)) = keys {
                return SessionBuilder::new().with_keys(store, used);
            }
        }
        #[cfg(not(feature = "decrypt"))]
        let _ = (capture, self.beside_capture);
        SessionBuilder::new()
    }
}

/// [`analyze_reader`] with a prepared builder (e.g. [`SessionBuilder::with_keys`]).
pub fn analyze_with(
    reader: &mut crate::capture::CaptureReader,
    config: crate::decode::DecodeConfig,
    mut b: SessionBuilder,
) -> Analysis {
    let (stats, err) = crate::decode::decode_capture(reader, config, &mut b);
    b.finish(stats, err.map(|e| e.to_string()))
}
