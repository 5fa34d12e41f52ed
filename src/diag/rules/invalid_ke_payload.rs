//! IKE003 `invalid-ke-payload`: the responder rejected the offered DH group.

use super::notify;
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "IKE003",
    name: "invalid-ke-payload",
    severity: Severity::Info,
    summary: "INVALID_KE_PAYLOAD: the responder wants another DH group",
    doc: RuleDoc {
        detects: "An IKE_SA_INIT (or CREATE_CHILD_SA) response with INVALID_KE_PAYLOAD, which names \
                  the group the responder wants (RFC 7296 section 1.2), and whether the retry with \
                  that group succeeded.",
        why_it_fails: "It costs one round trip when the retry works; when the initiator does not \
                       support the requested group, or keeps offering the same one, it loops and \
                       fails.",
        evidence: "The rejected request (its KE group), the response (the wanted group) and the retry.",
        likely_causes: "The initiator's first proposal's group differs from the responder's preferred one.",
        how_to_fix: "Put the responder's group first in the initiator's proposals (e.g. strongSwan \
                     `proposals = aes256-sha256-ecp256`) to save the round trip; if it loops, add \
                     that group to the initiator.",
    },
    summary_ja: "INVALID_KE_PAYLOAD: レスポンダが別の DH グループを要求した",
    doc_ja: RuleDoc {
        detects: "INVALID_KE_PAYLOAD を含む IKE_SA_INIT (または CREATE_CHILD_SA) の応答。レスポンダが希望するグループが示されます (RFC 7296 1.2 節)。そのグループでの再試行が成功したかどうかも見ます。",
        why_it_fails: "再試行が成功すれば往復が 1 回増えるだけです。要求されたグループにイニシエータが対応していない場合や、同じグループを出し続ける場合はループして失敗します。",
        evidence: "拒否された要求 (その KE グループ)、応答 (希望されたグループ)、再試行。",
        likely_causes: "イニシエータの最初の提案のグループがレスポンダの優先するグループと異なる。",
        how_to_fix: "往復を減らすにはイニシエータの提案の先頭にレスポンダのグループを置いてください (例: strongSwan の `proposals = aes256-sha256-ecp256`)。ループする場合はそのグループをイニシエータに追加してください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        for m in sa.exchanges.iter().flat_map(|x| &x.messages) {
            if !m.has_notify(notify::INVALID_KE_PAYLOAD) {
                continue;
            }
            let req = super::exchange_of(sa, m.frame).and_then(|x| x.first_request());
            let offered = req.and_then(|r| r.ke_group);
            let wanted = m.invalid_ke_group;
            let chain = super::retries(a, sa);
            let retry = chain.first().copied();
            let retry_ok = chain.iter().any(|r| super::init_accepted(r));
            // The last retry is still waiting for its answer when the capture ends.
            let retry_cut = chain.last().and_then(|r| {
                super::pending(r)
                    .into_iter()
                    .find(|p| p.exchange.exchange_type == super::exch::IKE_SA_INIT)
                    .filter(|p| p.cut_by_capture_end(a))
                    .map(|p| p.first().frame)
            });
            let g = |x: Option<u16>| {
                x.map(|g| format!("group {g}"))
                    .unwrap_or_else(|| "?".into())
            };
            let mut frames = vec![m.frame];
            frames.extend(req.map(|r| r.frame));
            let (sev, tail) = if retry_ok {
                // The retry's opening request (a file whose pieces are out of
                // order may hold its later exchanges first).
                let r = retry
                    .map(|r| {
                        r.exchange(super::exch::IKE_SA_INIT)
                            .and_then(|x| x.first_request())
                            .map_or_else(|| r.first_frame(), |m| m.frame)
                    })
                    .unwrap_or(0);
                frames.push(r);
                (
                    Severity::Info,
                    format!("; the retry with {} at frame {r} was accepted", g(wanted)),
                )
            } else if let Some(r) = retry_cut {
                frames.push(r);
                (
                    Severity::Warning,
                    format!("; the capture ends before the answer to the retry at frame {r}"),
                )
            } else if retry.is_some() {
                (
                    Severity::Error,
                    "; the retry was rejected too: the initiator cannot agree on a group"
                        .to_string(),
                )
            } else if req.is_none() {
                (
                    Severity::Warning,
                    "; the capture does not hold the initiator's side, so a retry cannot be seen"
                        .to_string(),
                )
            } else if a.stats.last_ts_ns.unwrap_or(0) - m.ts_ns < 2_000_000_000 {
                (
                    Severity::Warning,
                    "; the capture ends before a retry could be seen".to_string(),
                )
            } else {
                (
                    Severity::Error,
                    "; the initiator never retried with that group".to_string(),
                )
            };
            let gj = |x: Option<u16>| {
                x.map(|g| format!("グループ {g}"))
                    .unwrap_or_else(|| "?".into())
            };
            let tail_ja = if retry_ok {
                format!(
                    "。{} での再試行 (フレーム {}) は受け入れられました",
                    gj(wanted),
                    frames.last().copied().unwrap_or(0)
                )
            } else if let Some(r) = retry_cut {
                format!("。フレーム {r} の再試行への応答が見える前にキャプチャが終わっています")
            } else if retry.is_some() {
                "。再試行も拒否されました: イニシエータはグループで合意できません".to_string()
            } else if req.is_none() {
                "。キャプチャにイニシエータ側がないため、再試行は確認できません".to_string()
            } else if sev == Severity::Warning {
                "。再試行が見える前にキャプチャが終わっています".to_string()
            } else {
                "。イニシエータはそのグループで再試行していません".to_string()
            };
            let ja = format!(
                "{} は {} の KE ペイロード ({}) を拒否し、INVALID_KE_PAYLOAD で {} を要求しました (フレーム {}){tail_ja}",
                m.src.addr,
                m.dst.addr,
                gj(offered),
                gj(wanted),
                m.frame
            );
            e.emit(
                Draft::new(
                    sev,
                    format!(
                        "{} rejected the KE payload of {} ({}) and asked for {} with INVALID_KE_PAYLOAD (frame {}){tail}",
                        m.src.addr,
                        m.dst.addr,
                        g(offered),
                        g(wanted),
                        m.frame
                    ),
                    frames,
                )
                .ja(ja)
                .sa(sa)
                .notify("INVALID_KE_PAYLOAD")
                .exchange("IKE_SA_INIT")
                .fix(vec![crate::diag::FixStep {
                    platform: "strongSwan (swanctl.conf)".into(),
                    commands: vec![format!(
                        "connections.<name>.proposals = aes256-sha256-{}   # the group the responder asked for first",
                        wanted.map(group_keyword).unwrap_or("modp2048")
                    )],
                }]),
            );
        }
    }
}

/// strongSwan's keyword for a DH group (RFC 7296 / IANA numbers).
fn group_keyword(g: u16) -> &'static str {
    match g {
        2 => "modp1024",
        5 => "modp1536",
        14 => "modp2048",
        15 => "modp3072",
        16 => "modp4096",
        18 => "modp8192",
        19 => "ecp256",
        20 => "ecp384",
        21 => "ecp521",
        31 => "curve25519",
        32 => "curve448",
        _ => "modp2048",
    }
}
