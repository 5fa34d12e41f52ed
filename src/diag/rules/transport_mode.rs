//! IKE015 `transport-mode`: a CHILD SA negotiated in transport mode, and
//! L2TP/IPsec when its selectors name UDP 1701 (known once decrypted).

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "IKE015",
    name: "transport-mode",
    severity: Severity::Info,
    summary: "CHILD SA in transport mode (L2TP/IPsec when it carries UDP 1701)",
    doc: RuleDoc {
        detects: "A CHILD SA whose accepted proposal says transport mode (IKEv1 Encapsulation Mode \
                  Transport or UDP-Encapsulated-Transport; IKEv2 USE_TRANSPORT_MODE in both \
                  directions), read from the decrypted Quick Mode / IKE_AUTH / CREATE_CHILD_SA. \
                  When its traffic selectors name UDP port 1701 it is L2TP/IPsec, the built-in \
                  VPN of Windows, macOS, iOS and Android.",
        why_it_fails: "Nothing fails by itself; it tells which kind of VPN this is. L2TP/IPsec \
                       behind NAT needs NAT-T with UDP-encapsulated transport mode (Windows: \
                       AssumeUDPEncapsulationContextOnSendRule), and its PPP link adds its own \
                       overhead to the MTU.",
        evidence: "The CHILD SA's request and response.",
        likely_causes: "An L2TP/IPsec client, or a host-to-host IPsec policy.",
        how_to_fix: "Nothing to fix. For L2TP/IPsec problems after this point look at L2TP \
                     (UDP 1701 inside ESP) and PPP authentication, which IKE does not see.",
    },
    summary_ja: "トランスポートモードの CHILD SA (UDP 1701 を運ぶなら L2TP/IPsec)",
    doc_ja: RuleDoc {
        detects: "受け入れられたプロポーザルがトランスポートモードの CHILD SA (IKEv1 の Encapsulation Mode が Transport / UDP-Encapsulated-Transport、IKEv2 は双方の USE_TRANSPORT_MODE)。復号した Quick Mode / IKE_AUTH / CREATE_CHILD_SA から読みます。トラフィックセレクタが UDP 1701 を指すなら L2TP/IPsec (Windows・macOS・iOS・Android 標準の VPN) です。",
        why_it_fails: "それ自体は失敗ではなく、VPN の種類を示します。NAT 越しの L2TP/IPsec には UDP カプセル化トランスポートモードの NAT-T が必要で (Windows では AssumeUDPEncapsulationContextOnSendRule)、内側の PPP リンクは MTU に独自のオーバーヘッドを加えます。",
        evidence: "CHILD SA の要求と応答。",
        likely_causes: "L2TP/IPsec クライアント、またはホスト間の IPsec ポリシー。",
        how_to_fix: "対処は不要です。この後の L2TP/IPsec の問題は、IKE からは見えない L2TP (ESP 内の UDP 1701) と PPP 認証を確認してください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        for c in &sa.child_sas {
            let Some(resp) = c.response_frame else {
                continue;
            };
            let v1_transport = c
                .chosen
                .as_deref()
                .is_some_and(|p| p.contains("Encapsulation Mode=") && p.contains("Transport"));
            let v2_transport = sa.version == 2
                && super::exchange_of(sa, resp).is_some_and(|x| {
                    x.first_request()
                        .is_some_and(|m| m.notify.iter().any(|n| n == "USE_TRANSPORT_MODE"))
                        && x.first_response()
                            .is_some_and(|m| m.notify.iter().any(|n| n == "USE_TRANSPORT_MODE"))
                });
            if !(v1_transport || v2_transport) || c.error.is_some() {
                continue;
            }
            let udp_encap = c
                .chosen
                .as_deref()
                .is_some_and(|p| p.contains("UDP-Encapsulated"));
            let l2tp = c
                .ts_i_proposed
                .iter()
                .chain(&c.ts_r_proposed)
                .any(|t| t.ends_with("udp/1701"));
            let mode = if udp_encap {
                "UDP-encapsulated transport mode (NAT-T)"
            } else {
                "transport mode"
            };
            let mode_ja = if udp_encap {
                "UDP カプセル化トランスポートモード (NAT-T)"
            } else {
                "トランスポートモード"
            };
            let (what, what_ja) = if l2tp {
                (
                    format!(
                        ": L2TP/IPsec, its selectors {} and {} name L2TP's UDP port 1701",
                        c.ts_i_proposed.join(", "),
                        c.ts_r_proposed.join(", ")
                    ),
                    format!(
                        ": L2TP/IPsec です (セレクタ {} と {} が L2TP の UDP 1701 を指しています)",
                        c.ts_i_proposed.join(", "),
                        c.ts_r_proposed.join(", ")
                    ),
                )
            } else {
                (String::new(), String::new())
            };
            e.emit(
                Draft::new(
                    Severity::Info,
                    format!(
                        "The CHILD SA of {} (frames {} and {resp}) uses {mode}{what}",
                        c.exchange, c.request_frame
                    ),
                    vec![c.request_frame, resp],
                )
                .ja(format!(
                    "{} (フレーム {} と {resp}) の CHILD SA は{mode_ja}を使っています{what_ja}",
                    c.exchange, c.request_frame
                ))
                .sa(sa),
            );
        }
    }
}
