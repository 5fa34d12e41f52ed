//! Turns captured frames into the events the rest of ikediag consumes: IKE
//! messages (after IP reassembly), ESP packets, NAT-T keepalives, ICMP
//! errors and echoes, TCP SYN MSS options, and incomplete fragment sets.
//!
//! Contract: [`Decoder::frame`] takes one frame at a time and calls the
//! [`Sink`] for every event it finds; nothing is allocated for frames that
//! carry none of these. Bad packets become [`DecodeAnomaly`] calls on the
//! sink, never errors or panics. Time is the capture's time only, placed
//! on a non-decreasing timeline, and a frame the capture holds twice is
//! reported and dropped before reassembly ([`quality`]).
//!
//! What counts as IKE on the IKE ports: a payload whose IKE header is
//! plausible, whatever the other port; a malformed one only where the port
//! pair leaves no other reading (`is_ike` below, `docs/architecture.md`).

pub mod quality;

use std::net::IpAddr;

use crate::capture::{CaptureError, CaptureReader, Frame};
use crate::defrag::{DefragConfig, Defragmenter, FragKey, Fragment, IncompleteSet, Pushed};
use crate::ike::{self, IkeError, IkeMessage};
use crate::wire::icmp::{self, IcmpMessage, Quoted};
use crate::wire::ip::{self, IpPacket};
use crate::wire::link::{self, LinkError, NetKind};
use crate::wire::tcp;
use crate::wire::udp::{self, IkePortPayload, PortRole};
pub use quality::{DuplicateFrame, TimeStep};

/// How IKE travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// UDP, IKE directly in the datagram (port 500).
    Udp,
    /// UDP behind the non-ESP marker (port 4500, RFC 3948).
    UdpNatt,
    /// TCP encapsulation (RFC 8229).
    Tcp,
}

/// An IP-in-IP tunnel the packet was found in (outermost header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Tunnel {
    /// "ipv4-in-ipv6" (MAP-E / DS-Lite), "ipv6-in-ipv4" (6in4), ...
    pub kind: &'static str,
    pub outer_src: IpAddr,
    pub outer_dst: IpAddr,
}

/// Facts shared by every event: where and when it was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen<'a> {
    /// The frame where the packet became complete (the last fragment for a
    /// reassembled datagram), as Wireshark shows it.
    pub frame: u64,
    /// Every frame the packet came from (one unless IP-fragmented).
    pub frames: &'a [u64],
    /// Time on the capture's timeline made non-decreasing
    /// ([`quality::Timeline`]); equal to `stamp_ns` unless the capture's
    /// time stamps go backwards.
    pub ts_ns: i64,
    /// The frame's own time stamp, as the file has it.
    pub stamp_ns: i64,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP payload length (after reassembly), i.e. the transport header and data.
    pub ip_payload_len: u32,
    /// DF bit of the (first) packet; true for IPv6.
    pub dont_fragment: bool,
    pub tunnel: Option<Tunnel>,
    /// The snaplen cut the packet (or one of its fragments).
    pub truncated: bool,
    /// IPv4 TTL or IPv6 hop limit (of the first fragment).
    pub ttl: u8,
}

/// One IKE message.
#[derive(Debug)]
pub struct IkeDatagram<'a> {
    pub seen: Seen<'a>,
    pub src_port: u16,
    pub dst_port: u16,
    pub transport: Transport,
    /// The bytes from the ISAKMP header on.
    pub raw: &'a [u8],
    pub message: Result<IkeMessage<'a>, IkeError>,
}

/// One ESP packet, plain (protocol 50) or in UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EspPacket<'a> {
    pub seen: Seen<'a>,
    pub spi: u32,
    pub seq: Option<u32>,
    /// UDP ports when ESP-in-UDP.
    pub udp_ports: Option<(u16, u16)>,
    /// The ESP bytes from the SPI on (after the UDP header for ESP-in-UDP),
    /// as captured.
    pub raw: &'a [u8],
}

/// A NAT-T keepalive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive<'a> {
    pub seen: Seen<'a>,
    pub src_port: u16,
    pub dst_port: u16,
}

/// An ICMP or ICMPv6 message of interest (errors and echoes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpEvent<'a> {
    pub seen: Seen<'a>,
    pub v6: bool,
    pub message: IcmpMessage<'a>,
    /// The offending packet, for errors.
    pub quoted: Option<Quoted>,
    /// The IP datagram length of this ICMP packet (for echo sweeps).
    pub datagram_len: u32,
}

/// A TCP segment with SYN set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSyn<'a> {
    pub seen: Seen<'a>,
    pub src_port: u16,
    pub dst_port: u16,
    pub ack: bool,
    pub mss: Option<u16>,
}

/// A TCP segment carrying at least [`LARGE_SEGMENT`] bytes (MTU evidence:
/// full-sized segments that are retransmitted never got through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpData<'a> {
    pub seen: Seen<'a>,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub payload_len: u32,
}

/// Segments at least this large are reported as [`TcpData`].
pub const LARGE_SEGMENT: usize = 1024;

/// A packet ikediag could not decode as far as it wanted (data, not failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum DecodeAnomaly {
    UnsupportedLinkType { linktype: u32 },
    LinkTruncated,
    IpTruncated,
    IpMalformed,
    UdpTruncated,
    TunnelTooDeep,
    FragmentRejected,
    FragmentTruncated,
}

impl DecodeAnomaly {
    /// Stable kebab-case code.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeAnomaly::UnsupportedLinkType { .. } => "unsupported-link-type",
            DecodeAnomaly::LinkTruncated => "link-truncated",
            DecodeAnomaly::IpTruncated => "ip-truncated",
            DecodeAnomaly::IpMalformed => "ip-malformed",
            DecodeAnomaly::UdpTruncated => "udp-truncated",
            DecodeAnomaly::TunnelTooDeep => "tunnel-too-deep",
            DecodeAnomaly::FragmentRejected => "fragment-rejected",
            DecodeAnomaly::FragmentTruncated => "fragment-truncated",
        }
    }
}

/// Receives decoded events. Every method has an empty default.
pub trait Sink {
    fn ike(&mut self, _m: &IkeDatagram<'_>) {}
    fn esp(&mut self, _e: &EspPacket<'_>) {}
    fn keepalive(&mut self, _k: &Keepalive<'_>) {}
    fn icmp(&mut self, _i: &IcmpEvent<'_>) {}
    fn tcp_syn(&mut self, _s: &TcpSyn<'_>) {}
    fn tcp_data(&mut self, _d: &TcpData<'_>) {}
    /// An IP fragment with more to come. Its data is a multiple of 8 bytes,
    /// so its size F says the MTU the sender applied was between F and F + 7.
    fn fragment(&mut self, _frame: u64, _src: IpAddr, _dst: IpAddr, _datagram_len: u32) {}
    /// A fragment set that never completed (expired or at end of capture).
    fn incomplete_fragments(&mut self, _s: &IncompleteSet) {}
    /// An IP fragment the snaplen cut, which is therefore not reassembled.
    fn fragment_cut(&mut self, _frame: u64, _key: &FragKey) {}
    /// A frame that repeats an earlier one: it is not decoded further
    /// unless [`DecodeConfig::keep_duplicates`].
    fn duplicate_frame(&mut self, _d: &DuplicateFrame) {}
    /// A frame stamped earlier than the frame before it.
    fn time_step_back(&mut self, _s: &TimeStep) {}
    /// A read error ended the capture after frame `after_frame` (called
    /// before the reassembler is flushed and [`Sink::end`]).
    fn read_error(&mut self, _after_frame: u64, _e: &CaptureError) {}
    fn anomaly(&mut self, _frame: u64, _a: DecodeAnomaly) {}
    /// The end of the capture was reached (or a read error stopped it).
    fn end(&mut self, _stats: &DecodeStats) {}
}

/// Counters over the whole capture.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DecodeStats {
    pub frames: u64,
    pub bytes: u64,
    /// First and last time of the capture on its non-decreasing timeline
    /// (see [`quality::Timeline`]): `last_ts_ns >= first_ts_ns`.
    pub first_ts_ns: Option<i64>,
    pub last_ts_ns: Option<i64>,
    pub ip_packets: u64,
    pub ip_fragments: u64,
    pub reassembled: u64,
    pub ike_messages: u64,
    pub esp_packets: u64,
    pub ah_packets: u64,
    pub keepalives: u64,
    pub icmp_errors: u64,
    pub truncated_frames: u64,
    pub tunnelled_packets: u64,
    pub anomalies: u64,
    pub incomplete_fragment_sets: u64,
    /// Frames dropped as copies of an earlier frame.
    pub duplicate_frames: u64,
    /// Frames stamped earlier than the frame before them.
    pub time_steps_back: u64,
}

/// Decoder settings, parsed from flags by the CLI.
#[derive(Debug, Clone, Default)]
pub struct DecodeConfig {
    /// Extra UDP/TCP ports treated like 4500 (non-ESP marker framing).
    pub extra_ports: Vec<u16>,
    pub defrag: DefragConfig,
    /// Decode frames that repeat an earlier one like any other frame (they
    /// are still reported with [`Sink::duplicate_frame`]): the `messages`
    /// listing shows every frame, as tshark does. By default they are
    /// dropped before reassembly.
    pub keep_duplicates: bool,
}

/// Streaming decoder state: the reassembler and counters.
pub struct Decoder {
    config: DecodeConfig,
    defrag: Defragmenter,
    stats: DecodeStats,
    next_expire_ns: i64,
    timeline: quality::Timeline,
    duplicates: quality::Duplicates,
}

/// How often (in capture time) expired fragment sets are collected.
const EXPIRE_EVERY_NS: i64 = 1_000_000_000;
/// IP-in-IP nesting followed at most.
const MAX_TUNNEL_DEPTH: u8 = 4;

/// Per-frame context handed down the layers.
#[derive(Clone, Copy)]
struct Ctx<'f> {
    frame: u64,
    ts_ns: i64,
    stamp_ns: i64,
    truncated: bool,
    tunnel: Option<Tunnel>,
    depth: u8,
    frames: &'f [u64],
}

impl Decoder {
    pub fn new(config: DecodeConfig) -> Self {
        let defrag = Defragmenter::new(config.defrag.clone());
        Decoder {
            config,
            defrag,
            stats: DecodeStats::default(),
            next_expire_ns: i64::MIN,
            timeline: quality::Timeline::default(),
            duplicates: quality::Duplicates::default(),
        }
    }

    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Decodes one frame.
    pub fn frame<S: Sink>(&mut self, f: &Frame<'_>, sink: &mut S) {
        let st = &mut self.stats;
        st.frames += 1;
        st.bytes += f.data.len() as u64;
        let (ts_ns, step) = self.timeline.place(f.number, f.ts_ns);
        if let Some(step) = step {
            st.time_steps_back += 1;
            sink.time_step_back(&step);
        }
        self.duplicates.note_stamp(f.ts_ns);
        if st.first_ts_ns.is_none() {
            st.first_ts_ns = Some(ts_ns);
        }
        st.last_ts_ns = Some(ts_ns);
        let truncated = (f.data.len() as u64) < u64::from(f.orig_len);
        if truncated {
            st.truncated_frames += 1;
        }
        if ts_ns >= self.next_expire_ns {
            self.next_expire_ns = ts_ns.saturating_add(EXPIRE_EVERY_NS);
            for set in self.defrag.expire(ts_ns) {
                self.stats.incomplete_fragment_sets += 1;
                sink.incomplete_fragments(&set);
            }
        }
        let net = match link::decode(f.linktype, f.data) {
            Ok(n) => n,
            Err(LinkError::NotIp) => return,
            Err(LinkError::Truncated) => {
                return self.anomaly(sink, f.number, DecodeAnomaly::LinkTruncated);
            }
            Err(LinkError::UnsupportedLinkType(l)) => {
                return self.anomaly(
                    sink,
                    f.number,
                    DecodeAnomaly::UnsupportedLinkType { linktype: l },
                );
            }
        };
        let frames = [f.number];
        let ctx = Ctx {
            frame: f.number,
            ts_ns,
            stamp_ns: f.ts_ns,
            truncated,
            tunnel: None,
            depth: 0,
            frames: &frames,
        };
        self.ip(net.kind, net.data, ctx, sink);
    }

    fn anomaly<S: Sink>(&mut self, sink: &mut S, frame: u64, a: DecodeAnomaly) {
        self.stats.anomalies += 1;
        sink.anomaly(frame, a);
    }

    fn ip<S: Sink>(&mut self, kind: NetKind, data: &[u8], ctx: Ctx<'_>, sink: &mut S) {
        let p = match ip::parse(kind, data) {
            Ok(p) => p,
            Err(ip::IpError::Truncated) => {
                return self.anomaly(sink, ctx.frame, DecodeAnomaly::IpTruncated);
            }
            Err(ip::IpError::Malformed) => {
                return self.anomaly(sink, ctx.frame, DecodeAnomaly::IpMalformed);
            }
        };
        if ctx.depth == 0 && !quality::is_host_control(&p) {
            // From the IP header to its end (no link padding after it).
            let len = usize::try_from(p.datagram_len).unwrap_or(usize::MAX);
            let bytes = data.get(..len).unwrap_or(data);
            let d = self.duplicates.check(
                ctx.frame,
                ctx.ts_ns,
                bytes,
                u64::from(p.datagram_len),
                quality::head_identifies(&p),
            );
            if let Some(d) = d {
                self.stats.duplicate_frames += 1;
                sink.duplicate_frame(&d);
                if !self.config.keep_duplicates {
                    return;
                }
            }
        }
        self.stats.ip_packets += 1;
        // AH seen (a fragmented one keeps it until reassembly: counted
        // on its first fragment, as before).
        if p.has_ah || (p.protocol == 51 && p.fragment.is_some_and(|f| f.offset == 0)) {
            self.stats.ah_packets += 1;
        }
        let ctx = Ctx {
            truncated: ctx.truncated || p.truncated,
            ..ctx
        };
        if let Some(fi) = p.fragment {
            self.stats.ip_fragments += 1;
            if fi.more {
                sink.fragment(ctx.frame, p.src, p.dst, p.datagram_len);
            }
            if p.truncated {
                // Like Wireshark: a fragment whose bytes were not all captured
                // is not reassembled; a first fragment is decoded as far as
                // it goes, later ones are only counted.
                self.anomaly(sink, ctx.frame, DecodeAnomaly::FragmentTruncated);
                sink.fragment_cut(
                    ctx.frame,
                    &FragKey {
                        src: p.src,
                        dst: p.dst,
                        protocol: p.protocol,
                        id: fi.id,
                    },
                );
                if fi.offset == 0 {
                    self.transport(&p, ctx, sink);
                }
                return;
            }
            let frag = Fragment {
                key: FragKey {
                    src: p.src,
                    dst: p.dst,
                    protocol: p.protocol,
                    id: fi.id,
                },
                offset: fi.offset,
                more_fragments: fi.more,
                data: p.payload,
                declared_len: p.payload_declared_len,
                frame: ctx.frame,
                ts_ns: ctx.ts_ns,
            };
            match self.defrag.push(frag) {
                Pushed::Held | Pushed::Duplicate { .. } => {}
                Pushed::Rejected(_) => {
                    self.anomaly(sink, ctx.frame, DecodeAnomaly::FragmentRejected)
                }
                Pushed::Complete(r) => {
                    self.stats.reassembled += 1;
                    let whole = IpPacket {
                        payload: &r.payload,
                        payload_declared_len: r.payload.len() as u32,
                        fragment: None,
                        truncated: r.truncated,
                        ..p
                    };
                    let ctx = Ctx {
                        frames: &r.frames,
                        truncated: ctx.truncated || r.truncated,
                        ..ctx
                    };
                    self.transport(&whole, ctx, sink);
                }
            }
            return;
        }
        self.transport(&p, ctx, sink);
    }

    fn seen<'f>(p: &IpPacket<'_>, ctx: &Ctx<'f>) -> Seen<'f> {
        Seen {
            frame: ctx.frame,
            frames: ctx.frames,
            ts_ns: ctx.ts_ns,
            stamp_ns: ctx.stamp_ns,
            src: p.src,
            dst: p.dst,
            ip_payload_len: p.payload_declared_len,
            dont_fragment: p.dont_fragment,
            tunnel: ctx.tunnel,
            truncated: ctx.truncated,
            ttl: p.ttl,
        }
    }

    /// How a UDP/TCP port pair is treated: the role of its IKE port (4500
    /// or a `--port` first, then 500), that port, and the other one. Whether
    /// the traffic really is IKE is decided by the caller, from the bytes.
    fn role(&self, a: u16, b: u16) -> Option<(PortRole, u16, u16)> {
        let extra = !self.config.extra_ports.is_empty();
        let natt = |p: u16| p == udp::NATT_PORT || (extra && self.config.extra_ports.contains(&p));
        let ike = |p: u16| p == udp::IKE_PORT;
        if natt(a) {
            Some((PortRole::Natt, a, b))
        } else if natt(b) {
            Some((PortRole::Natt, b, a))
        } else if ike(a) {
            Some((PortRole::Ike, a, b))
        } else if ike(b) {
            Some((PortRole::Ike, b, a))
        } else {
            None
        }
    }

    fn transport<S: Sink>(&mut self, p: &IpPacket<'_>, ctx: Ctx<'_>, sink: &mut S) {
        match p.protocol {
            17 => self.udp(p, ctx, sink),
            50 => {
                if let Some(spi) = crate::wire::be32(p.payload, 0) {
                    self.stats.esp_packets += 1;
                    sink.esp(&EspPacket {
                        seen: Self::seen(p, &ctx),
                        spi,
                        seq: crate::wire::be32(p.payload, 4),
                        udp_ports: None,
                        raw: p.payload,
                    });
                }
            }
            1 | 58 => self.icmp(p, ctx, sink),
            6 => self.tcp(p, ctx, sink),
            // AH left in a reassembled datagram (IPv4 fragments, or IPv6 AH
            // after a Fragment header): skip it once.
            51 => {
                if let Some((next, len)) = crate::wire::ip::skip_ah(p.payload)
                    && next != 51
                {
                    let inner = IpPacket {
                        protocol: next,
                        payload: p.payload.get(len..).unwrap_or(&[]),
                        payload_declared_len: p.payload_declared_len.saturating_sub(len as u32),
                        has_ah: true,
                        ..*p
                    };
                    self.transport(&inner, ctx, sink);
                }
            }
            4 | 41 => {
                if ctx.depth >= MAX_TUNNEL_DEPTH {
                    return self.anomaly(sink, ctx.frame, DecodeAnomaly::TunnelTooDeep);
                }
                self.stats.tunnelled_packets += 1;
                let inner = if p.protocol == 4 {
                    NetKind::Ipv4
                } else {
                    NetKind::Ipv6
                };
                let kind = match (p.version, p.protocol) {
                    (6, 4) => "ipv4-in-ipv6",
                    (4, 41) => "ipv6-in-ipv4",
                    (4, 4) => "ipv4-in-ipv4",
                    _ => "ipv6-in-ipv6",
                };
                let tunnel = ctx.tunnel.or(Some(Tunnel {
                    kind,
                    outer_src: p.src,
                    outer_dst: p.dst,
                }));
                let ctx = Ctx {
                    tunnel,
                    depth: ctx.depth + 1,
                    ..ctx
                };
                self.ip(inner, p.payload, ctx, sink);
            }
            _ => {}
        }
    }

    fn udp<S: Sink>(&mut self, p: &IpPacket<'_>, ctx: Ctx<'_>, sink: &mut S) {
        let Some((h, payload)) = udp::parse(p.payload) else {
            return self.anomaly(sink, ctx.frame, DecodeAnomaly::UdpTruncated);
        };
        let Some((role, port, other)) = self.role(h.src_port, h.dst_port) else {
            return;
        };
        let ports_decide = ports_say_ike(port, other);
        let seen = Self::seen(p, &ctx);
        match udp::classify(role, payload) {
            IkePortPayload::Ike { data, natt } => {
                // The UDP length field, not the bytes captured: a message
                // cut by the snaplen is still judged by what was sent.
                let marker = if natt { 4 } else { 0 };
                let declared = h
                    .payload_len()
                    .unwrap_or_else(|| (p.payload_declared_len as usize).saturating_sub(8))
                    .saturating_sub(marker);
                if !is_ike(data, declared, ports_decide) {
                    return;
                }
                self.ike(
                    seen,
                    h.src_port,
                    h.dst_port,
                    if natt {
                        Transport::UdpNatt
                    } else {
                        Transport::Udp
                    },
                    data,
                    sink,
                )
            }
            // Keepalives and ESP have nothing to check: next to another
            // service's well-known port they are that service's traffic.
            _ if !ports_decide => {}
            IkePortPayload::Keepalive => {
                self.stats.keepalives += 1;
                sink.keepalive(&Keepalive {
                    seen,
                    src_port: h.src_port,
                    dst_port: h.dst_port,
                });
            }
            IkePortPayload::Esp { spi, seq } => {
                self.stats.esp_packets += 1;
                sink.esp(&EspPacket {
                    seen,
                    spi,
                    seq,
                    udp_ports: Some((h.src_port, h.dst_port)),
                    raw: payload,
                });
            }
            IkePortPayload::Runt => self.anomaly(sink, ctx.frame, DecodeAnomaly::UdpTruncated),
        }
    }

    fn ike<S: Sink>(
        &mut self,
        seen: Seen<'_>,
        src_port: u16,
        dst_port: u16,
        transport: Transport,
        data: &[u8],
        sink: &mut S,
    ) {
        self.stats.ike_messages += 1;
        sink.ike(&IkeDatagram {
            seen,
            src_port,
            dst_port,
            transport,
            raw: data,
            message: ike::parse(data),
        });
    }

    fn tcp<S: Sink>(&mut self, p: &IpPacket<'_>, ctx: Ctx<'_>, sink: &mut S) {
        let Some(t) = tcp::parse(p.payload) else {
            return;
        };
        let seen = Self::seen(p, &ctx);
        if t.syn {
            sink.tcp_syn(&TcpSyn {
                seen,
                src_port: t.src_port,
                dst_port: t.dst_port,
                ack: t.ack,
                mss: t.mss,
            });
        }
        if t.payload.len() >= LARGE_SEGMENT {
            sink.tcp_data(&TcpData {
                seen,
                src_port: t.src_port,
                dst_port: t.dst_port,
                seq: t.seq,
                payload_len: t.payload.len() as u32,
            });
        }
        // RFC 8229 framing is already a structural check; TCP keeps the
        // port rule alone (streams are not reassembled, so a header cannot
        // be checked against the stream's length prefix anyway).
        if let Some((PortRole::Natt, port, other)) = self.role(t.src_port, t.dst_port)
            && ports_say_ike(port, other)
            && let Some(data) = tcp::ike_in_segment(t.payload)
        {
            self.ike(seen, t.src_port, t.dst_port, Transport::Tcp, data, sink);
        }
    }

    fn icmp<S: Sink>(&mut self, p: &IpPacket<'_>, ctx: Ctx<'_>, sink: &mut S) {
        let v6 = p.protocol == 58;
        let Some(message) = icmp::parse(v6, p.payload) else {
            return;
        };
        let quoted = match message {
            IcmpMessage::Error { quoted, .. } => {
                self.stats.icmp_errors += 1;
                icmp::quoted(quoted)
            }
            IcmpMessage::Echo { .. } => None,
            IcmpMessage::Other { .. } => return,
        };
        sink.icmp(&IcmpEvent {
            seen: Self::seen(p, &ctx),
            v6,
            message,
            quoted,
            datagram_len: p.datagram_len,
        });
    }

    /// End of capture: reports every fragment set still incomplete.
    pub fn finish<S: Sink>(self, sink: &mut S) -> DecodeStats {
        let mut stats = self.stats;
        for set in self.defrag.finish() {
            stats.incomplete_fragment_sets += 1;
            sink.incomplete_fragments(&set);
        }
        sink.end(&stats);
        stats
    }
}

/// Whether the port pair alone says that traffic on an IKE port is IKE:
/// yes unless the other port is another well-known port (1-1023). Those
/// belong to services (DNS 53, NTP 123, ...) that can meet an IKE port, and,
/// behind a masquerading NAT, to IKE itself: Linux maps a source port below
/// 1024 to another one below 1024 when it is taken (500 becomes, say, 419).
/// There only the bytes can tell.
fn ports_say_ike(port: u16, other: u16) -> bool {
    other == port || !(1..1024).contains(&other)
}

/// Whether a UDP payload framed as IKE (after the non-ESP marker on 4500)
/// is taken for an IKE message. `declared` is its length per the UDP
/// header. A plausible IKE header decides, whatever the ports
/// ([`ike::check_header`]); otherwise the ports do (`ports_decide`), so
/// malformed IKE between IKE ports is still listed with its anomalies, as
/// Wireshark lists it, except what no IKE dissector takes (a datagram too
/// short for a header, a header length below 28).
fn is_ike(data: &[u8], declared: usize, ports_decide: bool) -> bool {
    match ike::check_header(data, declared) {
        Ok(_) => true,
        Err(why) => ports_decide && !why.rules_out_ike(),
    }
}

/// Decodes a whole capture into `sink`. A read error stops the reading but
/// not the analysis: everything before it has been decoded and the
/// reassembler is flushed, then the error is returned beside the stats.
pub fn decode_capture<S: Sink>(
    reader: &mut CaptureReader,
    config: DecodeConfig,
    sink: &mut S,
) -> (DecodeStats, Option<CaptureError>) {
    let mut dec = Decoder::new(config);
    let err = loop {
        match reader.next_frame() {
            Ok(Some(f)) => dec.frame(&f, sink),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    if let Some(e) = &err {
        sink.read_error(reader.frames_numbered(), e);
    }
    (dec.finish(sink), err)
}
