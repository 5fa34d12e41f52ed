//! Verdicts: one per IKE SA attempt and one for the capture, from the
//! findings. The most telling Error finding (by a fixed order of causes)
//! gives the failed exchange and the sentence.

use serde::Serialize;

use super::{Finding, Severity, rules};
use crate::session::Analysis;

/// How it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
    /// The capture cannot tell (no IKE, or no outcome visible).
    Inconclusive,
}

/// A verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub outcome: Outcome,
    /// IKEv2 names as IANA spells them; IKEv1 `MAIN_MODE`, `AGGRESSIVE_MODE`,
    /// `QUICK_MODE`, `INFORMATIONAL`; null when every exchange succeeded.
    pub failed_exchange: Option<String>,
    pub summary: String,
    /// The sentence in Japanese.
    pub summary_ja: String,
    /// Code of the finding the verdict rests on.
    pub cause: Option<&'static str>,
}

/// Causes from the most specific to the most generic.
const PRIORITY: &[&str] = &[
    "authentication-failed",
    "no-proposal-chosen",
    "child-sa-failed",
    "dpd-timeout",
    "rekey-failed",
    "icmp-port-unreachable",
    "icmp-admin-prohibited",
    "map-e-port-restriction",
    "mtu-blackhole",
    "pmtu-blackhole",
    "ip-fragments-lost",
    "natt-port-blocked",
    "udp-port-blocked",
    "invalid-ke-payload",
    "cookie-challenge",
    "nat-without-natt",
    "esp-one-way",
    "mss-too-large",
    "ike-no-response",
];

fn rank(f: &Finding) -> usize {
    PRIORITY
        .iter()
        .position(|n| *n == f.name)
        .unwrap_or(PRIORITY.len())
}

/// The finding a verdict rests on: the most specific Error.
pub fn primary<'f>(findings: impl IntoIterator<Item = &'f Finding>) -> Option<&'f Finding> {
    findings
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .min_by_key(|f| (rank(f), f.frames.first().copied().unwrap_or(u64::MAX)))
}

fn from_findings<'f>(
    findings: impl IntoIterator<Item = &'f Finding> + Clone,
    established: bool,
    success_text: (String, String),
    nothing_text: (String, String),
) -> Verdict {
    if let Some(p) = primary(findings) {
        return Verdict {
            outcome: Outcome::Failure,
            failed_exchange: p.exchange.clone(),
            summary: p.message.clone(),
            summary_ja: p.message_ja.clone(),
            cause: Some(p.code),
        };
    }
    let (outcome, (en, ja)) = if established {
        (Outcome::Success, success_text)
    } else {
        (Outcome::Inconclusive, nothing_text)
    };
    Verdict {
        outcome,
        failed_exchange: None,
        summary: en,
        summary_ja: ja,
        cause: None,
    }
}

/// Per SA attempt, in SA order.
pub fn sa_verdicts(a: &Analysis, findings: &[Finding]) -> Vec<Verdict> {
    a.sas
        .iter()
        .map(|sa| {
            let mine: Vec<&Finding> = findings.iter().filter(|f| f.sa == Some(sa.index)).collect();
            let ok = rules::authenticated(sa);
            from_findings(
                mine.iter().copied(),
                ok,
                (
                    format!(
                        "IKEv{} SA between {} and {} established",
                        sa.version, sa.initiator, sa.responder
                    ),
                    format!(
                        "{} と {} の間の IKEv{} SA が確立しました",
                        sa.initiator, sa.responder, sa.version
                    ),
                ),
                if rules::superseded(a, sa) {
                    (
                        "Superseded by a retry".to_string(),
                        "再試行に置き換えられました".to_string(),
                    )
                } else {
                    (
                        "The capture does not show how this attempt ended".to_string(),
                        "この試行がどう終わったかはキャプチャからは分かりません".to_string(),
                    )
                },
            )
        })
        .collect()
}

/// For the whole capture.
pub fn capture_verdict(a: &Analysis, findings: &[Finding]) -> Verdict {
    if a.sas.is_empty() && primary(findings.iter()).is_none() {
        let no_ike = findings.iter().find(|f| f.name == "capture-no-ike");
        return Verdict {
            outcome: Outcome::Inconclusive,
            failed_exchange: None,
            summary: no_ike
                .map(|f| f.message.clone())
                .unwrap_or_else(|| "The capture holds no IKE".into()),
            summary_ja: no_ike
                .map(|f| f.message_ja.clone())
                .unwrap_or_else(|| "キャプチャに IKE がありません".into()),
            cause: None,
        };
    }
    let established: Vec<_> = a.sas.iter().filter(|s| rules::authenticated(s)).collect();
    let esp = a.esp_flows.iter().map(|f| f.packets).sum::<u64>();
    let success = match established.first() {
        Some(sa) => (
            format!(
                "The VPN came up: IKEv{} between {} and {} authenticated{}",
                sa.version,
                sa.initiator,
                sa.responder,
                if esp > 0 {
                    format!(" and {esp} ESP packets flowed")
                } else {
                    String::new()
                }
            ),
            format!(
                "VPN は確立しました: {} と {} の間で IKEv{} の認証が完了しました{}",
                sa.initiator,
                sa.responder,
                sa.version,
                if esp > 0 {
                    format!("。ESP パケットが {esp} 個流れています")
                } else {
                    String::new()
                }
            ),
        ),
        None => (String::new(), String::new()),
    };
    // A capture cut short says where it stops.
    let undecided = match findings.iter().find(|f| f.name == "capture-cut-short") {
        Some(f) => (
            format!(
                "IKE was seen, but the capture ends before it shows whether the tunnel came up. {}",
                f.message
            ),
            format!(
                "IKE は見えますが、トンネルが確立したかどうかが分かる前にキャプチャが終わっています。{}",
                f.message_ja
            ),
        ),
        None => (
            "IKE was seen, but the capture does not show whether the tunnel came up".into(),
            "IKE は見えますが、トンネルが確立したかどうかはキャプチャからは分かりません".into(),
        ),
    };
    from_findings(findings.iter(), !established.is_empty(), success, undecided)
}
