//! IKE002 `no-proposal-chosen`: the responder rejected every proposal.

use super::{authenticated, exch, later_success, notify, notify_seen};
use crate::diag::{Draft, Emitter, FixStep, Rule, RuleDoc, Severity};
use crate::session::{Analysis, IkeSa, ProposalSummary};

pub(crate) static RULE: Rule = Rule {
    code: "IKE002",
    name: "no-proposal-chosen",
    severity: Severity::Error,
    summary: "NO_PROPOSAL_CHOSEN: the peers share no cipher suite",
    doc: RuleDoc {
        detects: "A NO_PROPOSAL_CHOSEN notify seen in clear: in an IKE_SA_INIT response (the IKE SA \
                  proposals), or in an IKEv1 Informational (Main/Aggressive Mode proposals, or Quick \
                  Mode ESP proposals / PFS when phase 1 had completed).",
        why_it_fails: "The responder found no proposal it accepts among those offered, so it refuses \
                       the SA.",
        evidence: "The notify and every proposal the initiator offered.",
        likely_causes: "Different encryption, integrity/PRF or DH group settings; a responder that \
                        dropped weak algorithms (3DES, SHA-1, MODP-1024) the client still offers; \
                        PFS on one side only (Quick Mode / CREATE_CHILD_SA).",
        how_to_fix: "Make the proposals overlap: add the responder's algorithms to the initiator \
                     (strongSwan `proposals = aes256-sha256-modp2048`, Windows \
                     `Set-VpnConnectionIPsecConfiguration`), or the other way round.",
    },
    summary_ja: "NO_PROPOSAL_CHOSEN: 共通の暗号スイートがない",
    doc_ja: RuleDoc {
        detects: "平文で見えた NO_PROPOSAL_CHOSEN Notify: IKE_SA_INIT の応答 (IKE SA の提案)、または IKEv1 の Informational (Main/Aggressive Mode の提案、フェーズ 1 完了後なら Quick Mode の ESP の提案や PFS)。",
        why_it_fails: "レスポンダは提示された提案の中に受け入れられるものを見つけられず、SA を拒否しています。",
        evidence: "Notify と、イニシエータが提示したすべての提案。",
        likely_causes: "暗号化・完全性/PRF・DH グループの設定の違い、クライアントがまだ提示している弱いアルゴリズム (3DES、SHA-1、MODP-1024) をレスポンダが削除した、片側だけ PFS を使っている (Quick Mode / CREATE_CHILD_SA)。",
        how_to_fix: "提案に共通のものを作ってください: レスポンダのアルゴリズムをイニシエータに追加する (strongSwan の `proposals = aes256-sha256-modp2048`、Windows の `Set-VpnConnectionIPsecConfiguration`) か、その逆にしてください。",
    },
    check,
};

pub(crate) fn describe(props: &[ProposalSummary]) -> String {
    props
        .iter()
        .map(|p| format!("#{} {}: {}", p.number, p.protocol, p.transforms.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn offered(sa: &IkeSa) -> Vec<ProposalSummary> {
    sa.exchanges
        .iter()
        .flat_map(|e| &e.messages)
        .filter(|m| m.from_initiator && !m.is_response && !m.proposals.is_empty())
        .map(|m| m.proposals.clone())
        .next()
        .unwrap_or_default()
}

/// IKEv1: the proposals of the last Quick Mode request sent before `ts`
/// that carries any (readable in clear or once decrypted), with its frame.
fn offered_in_quick_mode(sa: &IkeSa, ts: i64) -> Option<(Vec<ProposalSummary>, u64)> {
    sa.exchanges_of(exch::V1_QUICK)
        .flat_map(|x| x.requests())
        .filter(|m| m.ts_ns <= ts && !m.proposals.is_empty())
        .max_by_key(|m| m.frame)
        .map(|m| (m.proposals.clone(), m.frame))
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        // IKEv2: in IKE_AUTH or CREATE_CHILD_SA (seen once decrypted) it
        // refuses a CHILD SA, which `child-sa-failed` reports.
        let seen: Vec<_> = notify_seen(sa, notify::NO_PROPOSAL_CHOSEN)
            .into_iter()
            .filter(|m| sa.version == 1 || !super::in_child_exchange(sa, m.frame))
            .collect();
        let Some(n) = seen.first() else { continue };
        // IKEv1: a notify after Main Mode message 6 is about Quick Mode.
        let mm_done_at = sa
            .exchanges
            .iter()
            .find(|x| x.exchange_type == exch::V1_MAIN)
            .and_then(|x| x.messages.iter().filter(|m| !m.retransmission).nth(5))
            .map(|m| m.ts_ns);
        let child = sa.version == 1 && mm_done_at.is_some_and(|t| n.ts_ns > t);
        let exchange = match (sa.version, child) {
            (2, _) => super::exchange_of(sa, n.frame)
                .map(|x| x.name.clone())
                .unwrap_or_else(|| "IKE_SA_INIT".into()),
            (_, true) => "QUICK_MODE".into(),
            _ => sa
                .exchanges
                .iter()
                .find(|x| matches!(x.exchange_type, exch::V1_MAIN | exch::V1_AGGRESSIVE))
                .map(|x| x.name.clone())
                .unwrap_or_else(|| "MAIN_MODE".into()),
        };
        let what = if child {
            "the ESP proposals (or PFS setting) of Quick Mode"
        } else {
            "every IKE proposal"
        };
        let mut frames: Vec<u64> = seen.iter().map(|m| m.frame).collect();
        // Quick Mode's proposals are ESP/AH ones (seen once decrypted), not
        // Main Mode's ISAKMP offer.
        let props = if child {
            let qm = offered_in_quick_mode(sa, n.ts_ns);
            if let Some((_, f)) = qm {
                frames.push(f);
            }
            qm.map(|(p, _)| p).unwrap_or_default()
        } else {
            if let Some(req) = sa
                .exchanges
                .iter()
                .flat_map(|x| &x.messages)
                .find(|m| !m.proposals.is_empty())
            {
                frames.push(req.frame);
            }
            offered(sa)
        };
        // Not fatal when the same negotiation got through after all.
        let recovered = if child {
            sa.exchanges_of(exch::V1_QUICK)
                .any(|q| q.responses().any(|r| r.ts_ns > n.ts_ns))
        } else {
            authenticated(sa)
        };
        let sev = if recovered || later_success(a, sa) {
            Severity::Warning
        } else {
            Severity::Error
        };
        let msg = format!(
            "{} rejected {what} from {} with NO_PROPOSAL_CHOSEN (frame {}){}",
            if n.from_initiator {
                sa.initiator.addr
            } else {
                sa.responder.addr
            },
            if n.from_initiator {
                sa.responder.addr
            } else {
                sa.initiator.addr
            },
            n.frame,
            if props.is_empty() {
                String::new()
            } else {
                format!(". Offered: {}", describe(&props))
            }
        );
        let (by, to) = if n.from_initiator {
            (sa.initiator.addr, sa.responder.addr)
        } else {
            (sa.responder.addr, sa.initiator.addr)
        };
        let ja = format!(
            "{by} が {to} の{} を NO_PROPOSAL_CHOSEN で拒否しました (フレーム {}){}",
            if child {
                "Quick Mode の ESP の提案 (または PFS の設定)"
            } else {
                "すべての IKE の提案"
            },
            n.frame,
            if props.is_empty() {
                String::new()
            } else {
                format!("。提示された提案: {}", describe(&props))
            }
        );
        e.emit(
            Draft::new(sev, msg, frames)
                .ja(ja)
                .sa(sa)
                .exchange(exchange)
                .notify("NO_PROPOSAL_CHOSEN")
                .fix(vec![
                    FixStep {
                        platform: "strongSwan (swanctl.conf)".into(),
                        commands: vec![
                            "connections.<name>.proposals = aes256-sha256-modp2048, aes128-sha256-ecp256   # include one the server accepts".into(),
                            "connections.<name>.children.<child>.esp_proposals = aes256-sha256, aes128gcm16".into(),
                        ],
                    },
                    FixStep {
                        platform: "Windows (PowerShell)".into(),
                        commands: vec!["Set-VpnConnectionIPsecConfiguration -ConnectionName \"<VPN>\" -AuthenticationTransformConstants SHA256128 -CipherTransformConstants AES256 -EncryptionMethod AES256 -IntegrityCheckMethod SHA256 -DHGroup Group14 -PfsGroup None -Force".into()],
                    },
                ]),
        );
    }
}
