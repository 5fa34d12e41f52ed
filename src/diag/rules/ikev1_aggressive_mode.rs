//! IKE012 `ikev1-aggressive-mode`: IKEv1 Aggressive Mode in use.

use super::exch;
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "IKE012",
    name: "ikev1-aggressive-mode",
    severity: Severity::Warning,
    summary: "IKEv1 Aggressive Mode: identities in clear, PSK hash open to offline cracking",
    doc: RuleDoc {
        detects: "An IKEv1 Aggressive Mode exchange.",
        why_it_fails: "It may work, but with a pre-shared key the responder's hash can be cracked \
                       offline (ike-scan / psk-crack), and identities travel in clear; many \
                       responders refuse Aggressive Mode with PSK (strongSwan \
                       charon.i_dont_care_about_security_and_use_aggressive_mode_psk).",
        evidence: "The Aggressive Mode messages between the two peers.",
        likely_causes: "Legacy remote-access clients and routers configured for Aggressive Mode.",
        how_to_fix: "Move to IKEv2, or at least Main Mode with certificates.",
    },
    summary_ja: "IKEv1 Aggressive Mode: ID が平文、PSK のハッシュがオフライン解析される",
    doc_ja: RuleDoc {
        detects: "IKEv1 の Aggressive Mode の交換。",
        why_it_fails: "動作はしても、事前共有鍵を使う場合はレスポンダのハッシュがオフラインで解析でき (ike-scan / psk-crack)、ID も平文で送られます。PSK での Aggressive Mode を拒否するレスポンダも多いです (strongSwan の charon.i_dont_care_about_security_and_use_aggressive_mode_psk)。",
        evidence: "両ピア間の Aggressive Mode のメッセージ。",
        likely_causes: "Aggressive Mode に設定された古いリモートアクセスクライアントやルータ。",
        how_to_fix: "IKEv2 に移行するか、少なくとも証明書を使う Main Mode にしてください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        if let Some(am) = sa.exchange(exch::V1_AGGRESSIVE) {
            e.emit(
                Draft::new(
                    Severity::Warning,
                    format!("{} and {} use IKEv1 Aggressive Mode: identities are sent in clear and a pre-shared key's hash can be cracked offline", sa.initiator.addr, sa.responder.addr),
                    am.messages.iter().map(|m| m.frame).collect(),
                )
                .ja(format!(
                    "{} と {} は IKEv1 Aggressive Mode を使っています: ID が平文で送られ、事前共有鍵のハッシュがオフラインで解析され得ます",
                    sa.initiator.addr, sa.responder.addr
                ))
                .sa(sa),
            );
        }
    }
}
