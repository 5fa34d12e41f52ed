//! IKE004 `cookie-challenge`: the responder demanded a COOKIE.

use super::notify;
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "IKE004",
    name: "cookie-challenge",
    severity: Severity::Info,
    summary: "The responder answered with a COOKIE challenge (anti-DoS)",
    doc: RuleDoc {
        detects: "An IKE_SA_INIT response carrying only a COOKIE notify (RFC 7296 section 2.6), and \
                  whether the initiator retried with the cookie.",
        why_it_fails: "It does not when the initiator retries; an initiator that never echoes the \
                       cookie cannot connect while the responder is under (real or perceived) load.",
        evidence: "The COOKIE response and the retry that echoes the cookie.",
        likely_causes: "The responder has many half-open SAs (a DoS, or many clients at once), or its \
                        cookie threshold is low (strongSwan charon.cookie_threshold).",
        how_to_fix: "Nothing if the retry succeeds; otherwise update the initiator (cookies are \
                     mandatory in IKEv2) or raise the responder's threshold.",
    },
    summary_ja: "レスポンダが COOKIE を要求した (DoS 対策)",
    doc_ja: RuleDoc {
        detects: "COOKIE Notify だけを含む IKE_SA_INIT 応答 (RFC 7296 2.6 節) と、イニシエータがその Cookie を付けて再送したかどうか。",
        why_it_fails: "イニシエータが再送すれば問題ありません。Cookie を返さないイニシエータは、レスポンダが (実際に、または見かけ上) 高負荷の間は接続できません。",
        evidence: "COOKIE を含む応答と、Cookie を付けた再送。",
        likely_causes: "レスポンダの半開き SA が多い (DoS、または多数のクライアントの同時接続)、またはレスポンダの Cookie のしきい値が低い (strongSwan の charon.cookie_threshold)。",
        how_to_fix: "再送が成功していれば対処は不要です。そうでなければイニシエータを更新するか (IKEv2 では Cookie への対応は必須)、レスポンダのしきい値を上げてください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        for m in sa.exchanges.iter().flat_map(|x| &x.messages) {
            if !(m.is_response && m.has_notify(notify::COOKIE)) {
                continue;
            }
            let retry = a.sas.iter().find(|s| s.retry_of == Some(sa.index));
            let (sev, tail, mut frames) = match retry {
                Some(r) => (
                    Severity::Info,
                    format!(
                        "; the initiator retried with the cookie at frame {}",
                        r.first_frame()
                    ),
                    vec![m.frame, r.first_frame()],
                ),
                None if a.stats.last_ts_ns.unwrap_or(0) - m.ts_ns < 2_000_000_000 => (
                    Severity::Warning,
                    "; the capture ends before a retry could be seen".to_string(),
                    vec![m.frame],
                ),
                None => (
                    Severity::Error,
                    "; the initiator never retried with the cookie".to_string(),
                    vec![m.frame],
                ),
            };
            if let Some(req) = sa
                .exchange(super::exch::IKE_SA_INIT)
                .and_then(|x| x.first_request())
            {
                frames.push(req.frame);
            }
            let tail_ja = match retry {
                Some(r) => format!(
                    "。イニシエータはフレーム {} で Cookie を付けて再送しました",
                    r.first_frame()
                ),
                None if sev == Severity::Warning => {
                    "。再送が見える前にキャプチャが終わっています".to_string()
                }
                None => "。イニシエータは Cookie を付けて再送しませんでした".to_string(),
            };
            let ja = format!(
                "{} が COOKIE を要求しました (フレーム {}){tail_ja}",
                m.src.addr, m.frame
            );
            e.emit(
                Draft::new(
                    sev,
                    format!("{} demanded a COOKIE (frame {}){tail}", m.src.addr, m.frame),
                    frames,
                )
                .ja(ja)
                .sa(sa)
                .notify("COOKIE")
                .exchange("IKE_SA_INIT"),
            );
        }
    }
}
