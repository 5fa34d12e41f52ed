//! IKE006 `child-sa-failed`: the IKE SA came up but no CHILD SA.

use super::{authenticated, esp_between, exch, is_lone_error, notify, notify_seen};
use crate::diag::{Confidence, Draft, Emitter, FixStep, Rule, RuleDoc, Severity, bytes};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "IKE006",
    name: "child-sa-failed",
    severity: Severity::Error,
    summary: "The IKE SA came up but the CHILD SA (Quick Mode) was refused",
    doc: RuleDoc {
        detects: "TS_UNACCEPTABLE or NO_PROPOSAL_CHOSEN for the CHILD SA in clear; or, while \
                  encrypted, inferred: an IKE_AUTH response big enough for IDr and AUTH but too \
                  small for the SA and traffic selector payloads, followed by a teardown and no \
                  ESP; an IKEv1 Quick Mode message 1 answered by an Informational instead of \
                  Quick Mode message 2.",
        why_it_fails: "Authentication worked, but the peers do not agree on what to tunnel (traffic \
                       selectors) or how (ESP proposals, PFS group), so no ESP SA exists.",
        evidence: "The IKE_AUTH or Quick Mode messages, their sizes and what followed.",
        likely_causes: "Traffic selectors (subnets, protocols, ports) that do not match the peer's \
                        policy (TS_UNACCEPTABLE); ESP proposals with no overlap, or PFS enabled on \
                        one side only (NO_PROPOSAL_CHOSEN); a full address pool \
                        (INTERNAL_ADDRESS_FAILURE).",
        how_to_fix: "Make local_ts/remote_ts (leftsubnet/rightsubnet) mirror each other, and make \
                     esp_proposals overlap, including the PFS group (or none on both sides).",
    },
    summary_ja: "IKE SA は確立したが CHILD SA (Quick Mode) が拒否された",
    doc_ja: RuleDoc {
        detects: "CHILD SA に対する TS_UNACCEPTABLE や NO_PROPOSAL_CHOSEN が平文で見えた場合。暗号化されている場合は推定します: IKE_AUTH の応答が IDr と AUTH は入るが SA と TS ペイロードは入らない大きさで、その後に SA の削除が続き ESP がない。IKEv1 では Quick Mode メッセージ1 に対して Quick Mode メッセージ2 ではなく Informational が返る。",
        why_it_fails: "認証は成功していますが、何をトンネルに通すか (トラフィックセレクタ) や、どう通すか (ESP の提案、PFS のグループ) で合意できず、ESP SA ができません。",
        evidence: "IKE_AUTH または Quick Mode のメッセージ、そのサイズと、その後に続いた通信。",
        likely_causes: "トラフィックセレクタ (サブネット、プロトコル、ポート) が相手のポリシーと一致しない (TS_UNACCEPTABLE)、ESP の提案に共通のものがない、または片側だけ PFS を有効にしている (NO_PROPOSAL_CHOSEN)、アドレスプールの枯渇 (INTERNAL_ADDRESS_FAILURE)。",
        how_to_fix: "local_ts/remote_ts (leftsubnet/rightsubnet) を両側で対称にし、PFS グループを含めて esp_proposals に共通のものを用意してください (PFS は両側で同じグループにするか、両側とも無効に)。",
    },
    check,
};

fn fix() -> Vec<FixStep> {
    vec![
        FixStep {
            platform: "strongSwan (swanctl.conf)".into(),
            commands: vec![
                "connections.<name>.children.<child>.local_ts = <this side's subnet>   # must equal the peer's remote_ts".into(),
                "connections.<name>.children.<child>.remote_ts = <peer's subnet>       # must equal the peer's local_ts".into(),
                "connections.<name>.children.<child>.esp_proposals = aes256-sha256-modp2048   # same PFS group on both sides, or none".into(),
            ],
        },
        FixStep {
            platform: "libreswan (ipsec.conf)".into(),
            commands: vec!["leftsubnet= / rightsubnet= mirrored on both peers; phase2alg= and pfs= equal on both".into()],
        },
    ]
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        for (t, name) in [
            (notify::TS_UNACCEPTABLE, "TS_UNACCEPTABLE"),
            (notify::NO_PROPOSAL_CHOSEN, "NO_PROPOSAL_CHOSEN"),
            (notify::SINGLE_PAIR_REQUIRED, "SINGLE_PAIR_REQUIRED"),
            (notify::INTERNAL_ADDRESS_FAILURE, "INTERNAL_ADDRESS_FAILURE"),
            (notify::FAILED_CP_REQUIRED, "FAILED_CP_REQUIRED"),
        ] {
            let seen = notify_seen(sa, t);
            // NO_PROPOSAL_CHOSEN outside IKE_AUTH / CREATE_CHILD_SA is
            // about the IKE SA (`no-proposal-chosen`).
            let n = seen.iter().find(|m| {
                t == notify::TS_UNACCEPTABLE
                    || sa.version == 2 && super::in_child_exchange(sa, m.frame)
            });
            if let Some(n) = n {
                let (why, why_ja, frames) = match super::child_refusal_detail(sa, n.frame, name) {
                    Some((en, ja, req)) => (en, ja, vec![req, n.frame]),
                    None => (String::new(), String::new(), vec![n.frame]),
                };
                e.emit(
                    Draft::new(
                        Severity::Error,
                        format!(
                            "{} refused the CHILD SA with {name} (frame {}){}{why}",
                            n.src.addr,
                            n.frame,
                            super::decrypted_note(n)
                        ),
                        frames,
                    )
                    .ja(format!(
                        "{} が {name} で CHILD SA を拒否しました (フレーム {}){}{why_ja}",
                        n.src.addr,
                        n.frame,
                        super::decrypted_note_ja(n)
                    ))
                    .sa(sa)
                    .exchange(
                        super::exchange_of(sa, n.frame)
                            .map(|x| x.name.clone())
                            .unwrap_or_else(|| "IKE_AUTH".into()),
                    )
                    .notify(name)
                    .fix(fix()),
                );
            }
        }
        if sa.version == 2 {
            let Some(auth) = super::last_ike_auth(sa) else {
                continue;
            };
            let (Some(req), Some(resp)) = (auth.first_request(), auth.first_response()) else {
                continue;
            };
            if is_lone_error(resp)
                || req.ip_fragments > 1
                || auth.messages.iter().any(|m| m.ike_fragment.is_some())
            {
                continue;
            }
            // A CHILD SA needs an SA payload (~44 bytes with one proposal)
            // and two traffic selector payloads (~24 each), mirrored from the
            // request; a response that much smaller than the request lacks them.
            // Only PSK-sized requests (< 800 bytes): a certificate in the
            // request alone would make any response look short.
            let short = resp.length + 120 < req.length && req.length < 800;
            let no_esp = esp_between(a, sa, resp.ts_ns).is_empty();
            let no_child = sa.exchanges_of(exch::CREATE_CHILD_SA).next().is_none();
            if short && no_esp && no_child {
                let teardown = sa
                    .exchanges_of(exch::INFORMATIONAL)
                    .filter_map(|x| x.first_request())
                    .find(|r| r.ts_ns > resp.ts_ns);
                let mut frames = vec![req.frame, resp.frame];
                frames.extend(teardown.map(|t| t.frame));
                e.emit(
                    Draft::new(
                        Severity::Error,
                        format!(
                            "IKE_AUTH was answered (frame {}) with {} bytes against a {}-byte request: room for the responder's \
                             identity and AUTH but not for the CHILD SA's proposal and traffic selectors; no ESP followed{}. \
                             The CHILD SA was refused: TS_UNACCEPTABLE (traffic selectors) or NO_PROPOSAL_CHOSEN (ESP \
                             proposals / PFS) (inferred from sizes; keys would name the notify)",
                            resp.frame,
                            bytes(u64::from(resp.length)),
                            bytes(u64::from(req.length)),
                            teardown.map(|t| format!(" and {} closed the SA at frame {}", t.src.addr, t.frame)).unwrap_or_default()
                        ),
                        frames,
                    )
                    .ja(format!(
                        "IKE_AUTH には応答がありました (フレーム {}) が、{} バイトの要求に対して応答は {} バイトで、レスポンダの ID と AUTH は入っても CHILD SA の提案とトラフィックセレクタは入りません。その後 ESP はなく{}。CHILD SA が拒否されています: TS_UNACCEPTABLE (トラフィックセレクタ) か NO_PROPOSAL_CHOSEN (ESP の提案 / PFS) です (サイズからの推定。鍵があれば Notify を特定できます)",
                        resp.frame,
                        bytes(u64::from(req.length)),
                        bytes(u64::from(resp.length)),
                        teardown
                            .map(|t| format!("、{} がフレーム {} で SA を閉じています", t.src.addr, t.frame))
                            .unwrap_or_default()
                    ))
                    .sa(sa)
                    .exchange("IKE_AUTH")
                    .confidence(Confidence::Possible)
                    .fix(fix()),
                );
            }
        } else if authenticated(sa) {
            for qm in sa.exchanges_of(exch::V1_QUICK) {
                let Some(q1) = qm.first_request() else {
                    continue;
                };
                if qm.first_response().is_some() {
                    continue;
                }
                let info = sa
                    .exchanges_of(exch::V1_INFORMATIONAL)
                    .flat_map(|x| &x.messages)
                    .find(|m| m.from_initiator != q1.from_initiator && m.ts_ns >= q1.ts_ns);
                let Some(info) = info else { continue };
                // Decrypted and carrying something else (INVALID-ID-INFORMATION,
                // a Delete, a DPD): what it says is known, and it is not a
                // proposal mismatch.
                if info.decrypted && !info.has_notify(notify::NO_PROPOSAL_CHOSEN) {
                    continue;
                }
                // The notify is seen in clear, or inside an Informational
                // decrypted with the user's keys.
                let clear = info.has_notify(notify::NO_PROPOSAL_CHOSEN);
                let (how, how_ja, note, note_ja) = match (info.encrypted, clear) {
                    (false, _) => ("an unencrypted", "平文の", "", ""),
                    (true, true) => (
                        "an encrypted",
                        "暗号化された",
                        " (NO_PROPOSAL_CHOSEN, decrypted with the keys)",
                        " (鍵で復号: NO_PROPOSAL_CHOSEN)",
                    ),
                    (true, false) => (
                        "an encrypted",
                        "暗号化された",
                        " (inferred: the notify is encrypted; keys would name it)",
                        " (推定: Notify は暗号化されています。鍵があれば特定できます)",
                    ),
                };
                e.emit(
                    Draft::new(
                        Severity::Error,
                        format!(
                            "Main Mode completed, but Quick Mode message 1 (frame {}) was answered by {how} Informational from {} \
                             (frame {}) instead of Quick Mode message 2: the ESP proposals or the PFS setting do not match{note}",
                            q1.frame,
                            info.src.addr,
                            info.frame,
                        ),
                        vec![q1.frame, info.frame],
                    )
                    .ja(format!(
                        "Main Mode は完了しましたが、Quick Mode メッセージ1 (フレーム {}) に対して {} から Quick Mode メッセージ2 ではなく{how_ja} Informational が返っています (フレーム {}): ESP の提案か PFS の設定が一致していません{note_ja}",
                        q1.frame,
                        info.src.addr,
                        info.frame,
                    ))
                    .sa(sa)
                    .exchange("QUICK_MODE")
                    .confidence(if clear { Confidence::Certain } else { Confidence::Likely })
                    .fix(fix()),
                );
            }
        }
    }
}
