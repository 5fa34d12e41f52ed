//! Reports: the serialization types of `analyze --format json` (schema in
//! `docs/json-schema.md`) and the renderers built on them.
//!
//! Contract: [`Report`] is built once from the facts and the findings; the
//! text renderer reads only the report, so every format says the same thing.
//! Nothing here reads the wall clock: times are the capture's.

pub mod html;
pub mod markdown;
pub mod redact;
pub mod text;

use serde::Serialize;

use crate::diag::verdict::{self, Verdict};
use crate::diag::{Finding, RuleSelection};
use crate::session::{Analysis, CaptureSide, IkeSa, NatFacts, hex};

/// The language of a rendered report (`--lang`); JSON carries both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    /// The English or the Japanese text.
    pub fn pick<'a>(self, en: &'a str, ja: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Ja => ja,
        }
    }

    /// Japanese when the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`) says so.
    pub fn from_locale(
        lc_all: Option<&str>,
        lc_messages: Option<&str>,
        lang: Option<&str>,
    ) -> Lang {
        let first = [lc_all, lc_messages, lang]
            .into_iter()
            .flatten()
            .find(|v| !v.is_empty());
        match first {
            Some(v) if v.starts_with("ja") => Lang::Ja,
            _ => Lang::En,
        }
    }
}

/// The version of the JSON report; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report of one capture.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub file: String,
    pub capture: CaptureInfo,
    pub verdict: Verdict,
    pub sas: Vec<SaReport>,
    pub findings: Vec<Finding>,
    /// Path MTU evidence (`value` exact or null, `lower`/`upper` bounds,
    /// `frames`, `evidence` in words), or null when the capture has none.
    pub path_mtu: Option<crate::diag::pmtu::PathMtu>,
    /// What the user's keys decrypted (null when no keys were given or
    /// found beside the capture).
    pub decryption: Option<crate::session::DecryptionFacts>,
    pub stats: ReportStats,
}

/// What the capture is.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureInfo {
    pub frames: u64,
    pub bytes: u64,
    /// First and last frame time, seconds since the Unix epoch, on the
    /// capture's timeline made non-decreasing (a frame stamped earlier than
    /// the one before it is taken at that frame's time; `capture-time-backwards`
    /// reports it), so `duration_s` is never negative.
    pub first_time: Option<f64>,
    pub last_time: Option<f64>,
    pub duration_s: f64,
    /// The error that stopped reading early (the report covers what came before).
    pub read_error: Option<String>,
    /// IP-in-IP tunnels seen (MAP-E / DS-Lite, 6in4).
    pub tunnels: Vec<crate::decode::Tunnel>,
}

/// Counters.
#[derive(Debug, Clone, Serialize)]
pub struct ReportStats {
    pub ike_messages: u64,
    pub ike_sas: usize,
    /// Requests never answered, retransmissions counted once.
    pub unanswered_requests: usize,
    pub retransmissions: usize,
    pub incomplete_fragment_sets: u64,
    pub esp_packets: u64,
    pub icmp_errors: u64,
    pub truncated_frames: u64,
    pub decode_anomalies: u64,
}

/// One IKE SA attempt.
#[derive(Debug, Clone, Serialize)]
pub struct SaReport {
    pub index: usize,
    pub version: u8,
    pub ispi: String,
    pub rspi: String,
    pub initiator: String,
    pub responder: String,
    pub capture_side: CaptureSide,
    pub outcome: verdict::Outcome,
    pub failed_exchange: Option<String>,
    pub summary: String,
    pub summary_ja: String,
    pub retry_of: Option<usize>,
    pub natt_switch_frame: Option<u64>,
    pub nat: NatFacts,
    pub vendor_ids: Vec<String>,
    /// Identities, authentication methods, certificates, certificate
    /// requests and configuration each side sent (known once decrypted;
    /// null when nothing was readable).
    pub peers: Option<crate::session::reveal::Peers>,
    /// CHILD SA negotiations whose request could be read: proposals and
    /// traffic selectors, proposed against chosen.
    pub child_sas: Vec<crate::session::reveal::ChildNegotiation>,
    pub exchanges: Vec<ExchangeReport>,
    /// The SA's timeline for ladder diagrams: every IKE message, plus ESP,
    /// ICMP errors and lost IP fragments between the peers.
    pub ladder: Vec<LadderEvent>,
}

/// One arrow of a ladder diagram.
#[derive(Debug, Clone, Serialize)]
pub struct LadderEvent {
    pub frame: u64,
    /// Seconds since the first frame of the capture.
    pub time: f64,
    /// `initiator`, `responder` or `path` (a router between them).
    pub from: &'static str,
    pub to: &'static str,
    /// `request`, `response`, `retransmission`, `esp`, `icmp` or `lost`.
    pub kind: &'static str,
    pub label: String,
    /// A request that was never answered.
    pub unanswered: bool,
}

/// Ladder events kept per SA at most.
const MAX_LADDER: usize = 200;

fn ladder(a: &Analysis, sa: &IkeSa, t0: i64) -> Vec<LadderEvent> {
    let secs = |ts: i64| ((ts - t0) as f64 / 1e3).round() / 1e6;
    let side = |from_i: bool| if from_i { "initiator" } else { "responder" };
    let pending = crate::diag::rules::pending(sa);
    let mut v = Vec::new();
    for e in &sa.exchanges {
        let unanswered = pending.iter().any(|p| std::ptr::eq(p.exchange, e));
        for m in &e.messages {
            let mut label = format!(
                "{} {} #{} {} B",
                e.name,
                if m.is_response { "resp" } else { "req" },
                e.message_id,
                m.length
            );
            if let Some((n, t)) = m.ike_fragment {
                label.push_str(&format!(" SKF {n}/{t}"));
            }
            if m.ip_fragments > 1 {
                label.push_str(&format!(", {} IP frags", m.ip_fragments));
            }
            let errors: Vec<&String> = m
                .notify
                .iter()
                .zip(&m.notify_types)
                .filter(|(_, t)| **t < 16384 || **t == 16390)
                .map(|(n, _)| n)
                .collect();
            if !errors.is_empty() {
                label.push_str(&format!(
                    " [{}]",
                    errors
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            v.push(LadderEvent {
                frame: m.frame,
                time: secs(m.ts_ns),
                from: side(m.from_initiator),
                to: side(!m.from_initiator),
                kind: if m.retransmission {
                    "retransmission"
                } else if m.is_response {
                    "response"
                } else {
                    "request"
                },
                label,
                unanswered: unanswered && !m.is_response,
            });
        }
    }
    let (i, r) = sa.peers();
    for f in a
        .esp_flows
        .iter()
        .filter(|f| (f.src == i && f.dst == r) || (f.src == r && f.dst == i))
    {
        let from_i = f.src == i;
        v.push(LadderEvent {
            frame: f.first_frame,
            time: secs(f.first_ts_ns),
            from: side(from_i),
            to: side(!from_i),
            kind: "esp",
            label: format!(
                "ESP SPI 0x{:08x}: {} packets to frame {}",
                f.spi, f.packets, f.last_frame
            ),
            unanswered: false,
        });
    }
    for c in a.icmp_errors.iter().filter(|c| c.sa == Some(sa.index)) {
        let from = if c.src == r {
            "responder"
        } else if c.src == i {
            "initiator"
        } else {
            "path"
        };
        let to = if c.dst == i { "initiator" } else { "responder" };
        v.push(LadderEvent {
            frame: c.frame,
            time: secs(c.ts_ns),
            from,
            to,
            kind: "icmp",
            label: format!(
                "ICMP {} from {}{}",
                wire_name(c.kind),
                c.src,
                c.mtu.map(|m| format!(", MTU {m}")).unwrap_or_default()
            ),
            unanswered: false,
        });
    }
    for f in a
        .incomplete_fragments
        .iter()
        .filter(|f| f.sa == Some(sa.index))
    {
        let from_i = f.src == i;
        v.push(LadderEvent {
            frame: f.frames.first().copied().unwrap_or(0),
            time: secs(f.first_ts_ns),
            from: side(from_i),
            to: side(!from_i),
            kind: "lost",
            label: format!(
                "IP fragments lost: {} of {} bytes arrived",
                f.bytes_held,
                f.total_len
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "?".into())
            ),
            unanswered: true,
        });
    }
    v.sort_by_key(|e| e.frame);
    v.truncate(MAX_LADDER);
    v
}

/// One exchange of an SA.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeReport {
    pub exchange: String,
    pub exchange_type: u8,
    pub message_id: u32,
    /// "initiator" or "responder": who sent the request.
    pub requester: &'static str,
    pub request_frames: Vec<u64>,
    pub response_frames: Vec<u64>,
    pub answered: bool,
    /// A message that expects an answer never got one (IKEv1
    /// Informationals expect none).
    pub unanswered: bool,
    pub retransmissions: usize,
    /// Seconds from the first transmission to each retransmission (the backoff).
    pub retransmission_times: Vec<f64>,
    pub rtt_ms: Option<f64>,
    /// Largest request, bytes of IKE message.
    pub request_length: u32,
    pub response_length: Option<u32>,
    pub request_ip_fragments: usize,
    pub notify: Vec<String>,
}

fn sa_report(a: &Analysis, sa: &IkeSa, v: &Verdict) -> SaReport {
    let pending = crate::diag::rules::pending(sa);
    let exchanges = sa
        .exchanges
        .iter()
        .map(|e| {
            let times = e.request_times();
            let t0 = times.first().copied().unwrap_or(0);
            ExchangeReport {
                exchange: e.name.clone(),
                exchange_type: e.exchange_type,
                message_id: e.message_id,
                requester: if e.requester_is_initiator {
                    "initiator"
                } else {
                    "responder"
                },
                request_frames: e.request_frames(),
                response_frames: e.responses().map(|m| m.frame).collect(),
                answered: e.is_answered(),
                unanswered: pending.iter().any(|p| std::ptr::eq(p.exchange, e)),
                retransmissions: e.retransmissions(),
                retransmission_times: times
                    .iter()
                    .skip(1)
                    .map(|t| ((t - t0) as f64 / 1e6).round() / 1e3)
                    .collect(),
                rtt_ms: e.rtt_ns().map(|ns| (ns as f64 / 1e3).round() / 1e3),
                request_length: e.requests().map(|m| m.length).max().unwrap_or(0),
                response_length: e.responses().map(|m| m.length).max(),
                request_ip_fragments: e.requests().map(|m| m.ip_fragments).max().unwrap_or(0),
                notify: {
                    let mut n: Vec<String> = Vec::new();
                    for x in e.messages.iter().flat_map(|m| &m.notify) {
                        if !n.contains(x) {
                            n.push(x.clone());
                        }
                    }
                    n
                },
            }
        })
        .collect();
    SaReport {
        index: sa.index,
        version: sa.version,
        ispi: hex(&sa.ispi),
        rspi: hex(&sa.rspi),
        initiator: sa.initiator.to_string(),
        responder: sa.responder.to_string(),
        capture_side: sa.capture_side,
        outcome: v.outcome,
        failed_exchange: v.failed_exchange.clone(),
        summary: v.summary.clone(),
        summary_ja: v.summary_ja.clone(),
        retry_of: sa.retry_of,
        natt_switch_frame: sa.natt_switch_frame,
        nat: sa.nat.clone(),
        vendor_ids: sa.vendor_ids.clone(),
        peers: sa.peers.clone(),
        child_sas: sa.child_sas.clone(),
        exchanges,
        ladder: ladder(a, sa, a.stats.first_ts_ns.unwrap_or(sa.first_ts_ns)),
    }
}

/// A fix step's platform as the report shows it in its language.
pub fn platform_label(p: &str, ja: bool) -> String {
    if ja { platform_ja(p) } else { p.to_string() }
}

/// Japanese names for the fix platforms (product names stay as they are).
fn platform_ja(p: &str) -> String {
    let table = [
        (
            "On the VPN server, while the client connects",
            "VPN サーバ上で、クライアントの接続中に",
        ),
        (
            "Windows client (elevated prompt)",
            "Windows クライアント (管理者権限のプロンプト)",
        ),
        (
            "Windows client behind NAT",
            "NAT の背後の Windows クライアント",
        ),
        ("Windows client", "Windows クライアント"),
        ("Windows RRAS / client", "Windows RRAS / クライアント"),
        ("Windows (RRAS VPN server)", "Windows (RRAS VPN サーバ)"),
        (
            "Linux (nftables), both directions",
            "Linux (nftables)、双方向",
        ),
        (
            "Linux (iptables), both directions",
            "Linux (iptables)、双方向",
        ),
        (
            "Linux firewall in front of the VPN server (nftables)",
            "VPN サーバの前段の Linux ファイアウォール (nftables)",
        ),
        (
            "Linux firewall (iptables)",
            "Linux ファイアウォール (iptables)",
        ),
        (
            "Linux firewall (remote peer)",
            "Linux ファイアウォール (相手側ピア)",
        ),
        (
            "Cloud security group / ACL",
            "クラウドのセキュリティグループ / ACL",
        ),
        (
            "Firewalls / NAT on the path",
            "経路上のファイアウォール / NAT",
        ),
        (
            "Firewalls on the path (nftables)",
            "経路上のファイアウォール (nftables)",
        ),
        (
            "Any firewall on the path",
            "経路上のすべてのファイアウォール",
        ),
        ("strongSwan (remote peer)", "strongSwan (相手側ピア)"),
        (
            "strongSwan (route-based, XFRM interface or VTI)",
            "strongSwan (ルートベース、XFRM インタフェースまたは VTI)",
        ),
        (
            "Yamaha RTX (tunnel configuration)",
            "Yamaha RTX (トンネルの設定)",
        ),
        (
            "Cisco IOS (tunnel interface)",
            "Cisco IOS (トンネルインタフェース)",
        ),
        ("Any", "共通"),
    ];
    table
        .iter()
        .find(|(en, _)| *en == p)
        .map(|(_, ja)| (*ja).to_string())
        .unwrap_or_else(|| p.to_string())
}

/// The name an enum has in the JSON report (its serde name), for the
/// human formats.
pub fn wire_name<T: Serialize>(x: T) -> String {
    serde_json::to_value(x)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// One line on the keys used, for the human reports: which files (found
/// beside the capture or named), how many messages they decrypted and how
/// many failed. None without keys.
pub fn keys_line(r: &Report, ja: bool) -> Option<String> {
    let d = r.decryption.as_ref()?;
    let files: Vec<String> = d
        .key_files
        .iter()
        .map(|k| {
            let name = std::path::Path::new(&k.path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| k.path.clone());
            match (k.found_beside_capture, ja) {
                (true, false) => format!("{name} (found beside the capture)"),
                (true, true) => format!("{name} (キャプチャと同じ場所で検出)"),
                _ => name,
            }
        })
        .collect();
    let v1 = d.decrypted_ikev1;
    let v2 = d.decrypted.saturating_sub(v1);
    let mut line = if ja {
        format!("鍵: {}", files.join(", "))
    } else {
        format!("Keys: {}", files.join(", "))
    };
    if v2 > 0 || v1 == 0 {
        if ja {
            line.push_str(&format!(
                "。IKEv2 メッセージ {v2} 個を復号 (完全性検証済み)"
            ));
        } else {
            line.push_str(&format!(
                "; {v2} IKEv2 message(s) decrypted, integrity verified"
            ));
        }
    }
    if v1 > 0 {
        // IKEv1 has no integrity check over the ciphertext (docs/decryption.md).
        if ja {
            line.push_str(&format!(
                "。IKEv1 メッセージ {v1} 個を復号 (IKEv1 には完全性検証がなく、ペイロードが正しく解析できることで確認)"
            ));
        } else {
            line.push_str(&format!(
                "; {v1} IKEv1 message(s) decrypted (IKEv1 has no integrity check: accepted as their payloads parse)"
            ));
        }
    }
    if d.failures_total > 0 {
        let first = d
            .failures
            .first()
            .map(|(f, why)| format!("frame {f}: {why}"))
            .unwrap_or_default();
        if ja {
            line.push_str(&format!(
                "。復号できなかったもの {} 個 ({first})",
                d.failures_total
            ));
        } else {
            line.push_str(&format!(
                "; {} could not be decrypted ({first})",
                d.failures_total
            ));
        }
    }
    if d.no_keys > 0 {
        if ja {
            line.push_str(&format!("。鍵のない SA のメッセージ {} 個", d.no_keys));
        } else {
            line.push_str(&format!("; {} message(s) of SAs without keys", d.no_keys));
        }
    }
    if !d.key_errors.is_empty() {
        if ja {
            line.push_str(&format!(
                "。使えない鍵の行 {} 個 ({})",
                d.key_errors.len(),
                d.key_errors[0]
            ));
        } else {
            line.push_str(&format!(
                "; {} key line(s) unusable ({})",
                d.key_errors.len(),
                d.key_errors[0]
            ));
        }
    }
    Some(line)
}

/// Analyses an opened capture with its keys and judges it: what `analyze`
/// and `scan` do for each file (the report names it by `path`).
pub fn of_capture(
    path: &std::path::Path,
    reader: &mut crate::capture::CaptureReader,
    config: crate::decode::DecodeConfig,
    keys: &crate::session::KeySource,
    sel: &RuleSelection,
) -> Report {
    let a = crate::session::analyze_with(reader, config, keys.builder_for(path));
    build(&path.display().to_string(), &a, sel)
}

/// Judges the facts and builds the report.
pub fn build(file: &str, a: &Analysis, sel: &RuleSelection) -> Report {
    let findings = crate::diag::run_rules(a, sel);
    let v = verdict::capture_verdict(a, &findings);
    let sav = verdict::sa_verdicts(a, &findings);
    let sas: Vec<SaReport> = a
        .sas
        .iter()
        .zip(&sav)
        .map(|(sa, v)| sa_report(a, sa, v))
        .collect();
    let unanswered = a
        .sas
        .iter()
        .map(|s| crate::diag::rules::pending(s).len())
        .sum();
    let retransmissions = a
        .sas
        .iter()
        .flat_map(|s| &s.exchanges)
        .map(|e| e.retransmissions())
        .sum();
    let st = &a.stats;
    Report {
        schema_version: SCHEMA_VERSION,
        file: file.to_string(),
        capture: CaptureInfo {
            frames: st.frames,
            bytes: st.bytes,
            first_time: st.first_ts_ns.map(|t| t as f64 / 1e9),
            last_time: st.last_ts_ns.map(|t| t as f64 / 1e9),
            duration_s: match (st.first_ts_ns, st.last_ts_ns) {
                // The decoder's timeline never goes backwards; never
                // print a negative span even if it did.
                (Some(a), Some(b)) => (b.saturating_sub(a).max(0) as f64 / 1e6).round() / 1e3,
                _ => 0.0,
            },
            read_error: a.read_error.clone(),
            tunnels: a.tunnels.clone(),
        },
        verdict: v,
        sas,
        findings,
        path_mtu: crate::diag::pmtu::path_mtu(a),
        decryption: a.decryption.clone(),
        stats: ReportStats {
            ike_messages: st.ike_messages,
            ike_sas: a.sas.len(),
            unanswered_requests: unanswered,
            retransmissions,
            incomplete_fragment_sets: st.incomplete_fragment_sets,
            esp_packets: st.esp_packets,
            icmp_errors: st.icmp_errors,
            truncated_frames: st.truncated_frames,
            decode_anomalies: st.anomalies,
        },
    }
}

/// One entry of a "How to fix" section: a rule's fix, or a pointer to an
/// identical fix shown above it.
pub struct FixGroup<'a> {
    pub code: &'static str,
    pub name: &'static str,
    /// The code of the finding above with the very same fix.
    pub same_as: Option<&'static str>,
    pub steps: &'a [crate::diag::FixStep],
}

/// The fixes of a report, one group per rule, most severe first.
pub fn fix_groups(r: &Report) -> Vec<FixGroup<'_>> {
    let mut out: Vec<FixGroup<'_>> = Vec::new();
    for f in r.findings.iter().filter(|f| !f.fix.is_empty()) {
        if out.iter().any(|g| g.code == f.code) {
            continue;
        }
        let same_as = out
            .iter()
            .find(|g| g.same_as.is_none() && g.steps == f.fix.as_slice())
            .map(|g| g.code);
        out.push(FixGroup {
            code: f.code,
            name: f.name,
            same_as,
            steps: &f.fix,
        });
    }
    out
}

impl Report {
    /// True when a finding explains a failure (exit status 1).
    pub fn has_error(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == crate::diag::Severity::Error)
    }
}

/// One row of a side-by-side table (peers, CHILD SA negotiations): a label,
/// the left and right cells, and whether the two sides disagree there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideRow {
    pub label: String,
    pub left: String,
    pub right: String,
    pub mismatch: bool,
}

fn row(label: &str, left: String, right: String, mismatch: bool) -> SideRow {
    SideRow {
        label: label.to_string(),
        left,
        right,
        mismatch,
    }
}

fn lines_or_dash(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join("\n")
    }
}

/// A certificate as a few lines: subject, issuer, validity (with the
/// problem at capture time), names and key.
pub fn certificate_text(c: &crate::session::reveal::SeenCertificate, ja: bool) -> String {
    use crate::session::reveal::utc;
    let x = &c.cert;
    if let Some(e) = &x.parse_error {
        return format!("{} (frame {}): {e}", x.encoding, c.frame);
    }
    let mut s = format!(
        "{}{}\n  {} {}\n  {} {} .. {}",
        x.subject,
        if x.is_ca { " (CA)" } else { "" },
        if ja { "発行者:" } else { "issuer:" },
        x.issuer,
        if ja { "有効期間:" } else { "valid:" },
        utc(x.not_before),
        utc(x.not_after)
    );
    if let Some(p) = c.validity_problem {
        let p = match (ja, p) {
            (true, "expired") => "期限切れ",
            (true, _) => "まだ有効でない",
            (false, p) => p,
        };
        s.push_str(&format!(" [{}]", p.to_uppercase()));
    }
    if !x.subject_alt_names.is_empty() {
        s.push_str(&format!("\n  SAN: {}", x.subject_alt_names.join(", ")));
    }
    s.push_str(&format!(
        "\n  {} {}, {} {}",
        if ja { "鍵:" } else { "key:" },
        x.key,
        if ja { "フレーム" } else { "frame" },
        c.frame
    ));
    s
}

/// The peers of an SA side by side: initiator left, responder right.
pub fn peer_rows(p: &crate::session::reveal::Peers, ja: bool) -> Vec<SideRow> {
    let l = |en: &'static str, j: &'static str| if ja { j } else { en };
    let ids = |s: &crate::session::reveal::PeerSide| -> Vec<String> {
        s.identities
            .iter()
            .map(|i| format!("{} {} {}", i.role, i.kind, i.value))
            .collect()
    };
    let certs = |s: &crate::session::reveal::PeerSide| -> Vec<String> {
        s.certificates
            .iter()
            .map(|c| certificate_text(c, ja))
            .collect()
    };
    let (i, r) = (&p.initiator, &p.responder);
    let mut rows = vec![row(
        l("identity", "ID"),
        lines_or_dash(&ids(i)),
        lines_or_dash(&ids(r)),
        false,
    )];
    if !i.auth_methods.is_empty() || !r.auth_methods.is_empty() {
        rows.push(row(
            l("authentication", "認証方式"),
            lines_or_dash(&i.auth_methods),
            lines_or_dash(&r.auth_methods),
            false,
        ));
    }
    if !i.certificates.is_empty() || !r.certificates.is_empty() {
        let bad = |s: &crate::session::reveal::PeerSide| {
            s.certificates.iter().any(|c| c.validity_problem.is_some())
        };
        rows.push(row(
            l("certificates", "証明書"),
            lines_or_dash(&certs(i)),
            lines_or_dash(&certs(r)),
            bad(i) || bad(r),
        ));
    }
    if !i.cert_requests.is_empty() || !r.cert_requests.is_empty() {
        let n = |s: &crate::session::reveal::PeerSide| {
            if s.cert_requests.is_empty() {
                "-".to_string()
            } else if ja {
                format!(
                    "CA {} 個: {}",
                    s.cert_requests.len(),
                    s.cert_requests.join(", ")
                )
            } else {
                format!(
                    "{} CA(s): {}",
                    s.cert_requests.len(),
                    s.cert_requests.join(", ")
                )
            }
        };
        rows.push(row(
            l("certificate requests", "証明書要求"),
            n(i),
            n(r),
            false,
        ));
    }
    if !i.config.is_empty() || !r.config.is_empty() {
        rows.push(row(
            l("configuration", "構成属性"),
            lines_or_dash(&i.config),
            lines_or_dash(&r.config),
            false,
        ));
    }
    rows
}

/// A CHILD SA negotiation side by side: proposed (left) against chosen
/// (right), the rows where they disagree marked.
pub fn child_rows(c: &crate::session::reveal::ChildNegotiation, ja: bool) -> Vec<SideRow> {
    let l = |en: &'static str, j: &'static str| if ja { j } else { en };
    let refused = || match &c.error {
        Some(e) => format!("{} ({e})", l("refused", "拒否")),
        None if c.response_frame.is_none() => l("no answer", "応答なし").to_string(),
        None => "-".to_string(),
    };
    let chosen = match &c.chosen {
        Some(p) => p.clone(),
        None => refused(),
    };
    let ts_chosen = |v: &[String]| {
        if v.is_empty() {
            refused()
        } else {
            v.join("\n")
        }
    };
    let mut rows = vec![row(
        l("proposals", "プロポーザル"),
        lines_or_dash(&c.proposed),
        chosen,
        c.proposal_mismatch,
    )];
    for (label, proposed, chosen) in [
        (
            l("TSi (initiator side)", "TSi (イニシエータ側)"),
            &c.ts_i_proposed,
            &c.ts_i_chosen,
        ),
        (
            l("TSr (responder side)", "TSr (レスポンダ側)"),
            &c.ts_r_proposed,
            &c.ts_r_chosen,
        ),
    ] {
        if proposed.is_empty() && chosen.is_empty() {
            continue;
        }
        let differs = !chosen.is_empty() && chosen != proposed;
        rows.push(row(
            label,
            lines_or_dash(proposed),
            ts_chosen(chosen),
            c.ts_mismatch || differs,
        ));
    }
    if let Some(e) = &c.error
        && !c.proposal_mismatch
        && !c.ts_mismatch
    {
        rows.push(row(l("error", "エラー"), String::new(), e.clone(), true));
    }
    rows
}
