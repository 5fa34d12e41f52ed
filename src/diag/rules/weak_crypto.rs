//! IKE010 `weak-crypto`: DES/3DES, MD5/SHA-1, or weak DH groups offered or chosen.

use crate::diag::{Draft, Emitter, FixStep, Rule, RuleDoc, Severity};
use crate::session::{Analysis, ProposalSummary};

pub(crate) static RULE: Rule = Rule {
    code: "IKE010",
    name: "weak-crypto",
    severity: Severity::Warning,
    summary: "Weak algorithms offered or chosen (DES/3DES, MD5/SHA-1, DH groups 1, 2, 5, 22-24)",
    doc: RuleDoc {
        detects: "Proposals in clear (IKE_SA_INIT, IKEv1 Main/Aggressive Mode) that offer or choose \
                  DES or 3DES, MD5 or SHA-1 integrity/PRF, or Diffie-Hellman groups 1, 2, 5 or \
                  22-24 (RFC 8247 and RFC 8221 say MUST NOT or SHOULD NOT).",
        why_it_fails: "It works today, but current peers (strongSwan 6, recent Windows and \
                       firewalls) drop these algorithms, and then the tunnel fails with \
                       NO_PROPOSAL_CHOSEN after an upgrade.",
        evidence: "The proposals and the weak transforms in them.",
        likely_causes: "Old defaults (Windows built-in client: 3DES/SHA-1/MODP-1024), legacy devices.",
        how_to_fix: "Offer AES-GCM or AES-CBC with SHA-256 and DH group 14, 19 or 31 on both sides.",
    },
    summary_ja: "弱いアルゴリズムが提示または選択されている (DES/3DES、MD5/SHA-1、DH グループ 1・2・5・22〜24)",
    doc_ja: RuleDoc {
        detects: "平文で見える提案 (IKE_SA_INIT、IKEv1 の Main/Aggressive Mode) で、DES や 3DES、MD5 や SHA-1 の完全性/PRF、DH グループ 1・2・5・22〜24 (RFC 8247 と RFC 8221 で MUST NOT / SHOULD NOT) が提示または選択されているもの。",
        why_it_fails: "今は動いても、最近の実装 (strongSwan 6、最近の Windows やファイアウォール) はこれらを削除しており、更新後に NO_PROPOSAL_CHOSEN で失敗するようになります。",
        evidence: "提案と、その中の弱い変換。",
        likely_causes: "古い既定値 (Windows 標準クライアント: 3DES/SHA-1/MODP-1024)、レガシー機器。",
        how_to_fix: "両側で AES-GCM、または SHA-256 付きの AES-CBC と DH グループ 14・19・31 を提示してください。",
    },
    check,
};

fn weak(p: &ProposalSummary, v1: bool) -> Vec<String> {
    let mut w = Vec::new();
    for &e in &p.encryption {
        // IKEv2 ENCR 1 DES_IV64, 2 DES, 3 3DES; IKEv1 ISAKMP 1 DES, 5 3DES
        // (RFC 2409 appendix A); IKEv1 ESP transform IDs 2 DES, 3 3DES.
        let name = match (v1, p.protocol == "ISAKMP", e) {
            (false, _, 1 | 2) | (true, true, 1) | (true, false, 2) => Some("DES"),
            (false, _, 3) | (true, true, 5) | (true, false, 3) => Some("3DES"),
            _ => None,
        };
        if let Some(n) = name {
            w.push(format!("encryption {n}"));
        }
    }
    for &i in &p.integrity {
        let bad = if v1 {
            matches!(i, 1 | 2)
        } else {
            matches!(i, 1 | 2)
        };
        if bad {
            w.push(format!(
                "integrity {}",
                if i == 1 { "MD5" } else { "SHA-1" }
            ));
        }
    }
    for &g in &p.dh_groups {
        if matches!(g, 1 | 2 | 5 | 22..=24) {
            w.push(format!("DH group {g}"));
        }
    }
    w.sort();
    w.dedup();
    w
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        for m in sa.exchanges.iter().flat_map(|x| &x.messages) {
            if m.proposals.is_empty() || m.retransmission {
                continue;
            }
            let mut found = Vec::new();
            for p in &m.proposals {
                for w in weak(p, sa.version == 1) {
                    if !found.contains(&w) {
                        found.push(w);
                    }
                }
            }
            if found.is_empty() {
                continue;
            }
            let verb = if m.is_response { "chose" } else { "offered" };
            e.emit(
                Draft::new(
                    Severity::Warning,
                    format!("{} {verb} weak algorithms in frame {}: {}", m.src.addr, m.frame, found.join(", ")),
                    vec![m.frame],
                )
                .ja(format!(
                    "{} がフレーム {} で弱いアルゴリズムを{}: {}",
                    m.src.addr,
                    m.frame,
                    if m.is_response { "選択しました" } else { "提示しました" },
                    found.join(", ")
                ))
                .sa(sa)
                .fix(vec![FixStep {
                    platform: "strongSwan (swanctl.conf)".into(),
                    commands: vec!["connections.<name>.proposals = aes256gcm16-prfsha256-ecp256, aes256-sha256-modp2048".into()],
                }]),
            );
        }
    }
}
