//! IKE005 `authentication-failed`: AUTHENTICATION_FAILED in clear, or
//! inferred from the shape of an encrypted IKE_AUTH.

use super::{esp_between, exch, is_lone_error, later_success, notify, notify_seen};
use crate::diag::{Confidence, Draft, Emitter, FixStep, Rule, RuleDoc, Severity, bytes};
use crate::session::{Analysis, IkeSa};

pub(crate) static RULE: Rule = Rule {
    code: "IKE005",
    name: "authentication-failed",
    severity: Severity::Error,
    summary: "Authentication failed (pre-shared key, certificate or EAP)",
    doc: RuleDoc {
        detects: "AUTHENTICATION_FAILED seen in clear (IKEv1, or an unencrypted IKEv2 notify); or, \
                  while encrypted, inferred: an IKE_AUTH response too small to carry anything but \
                  one notify (no IDr, AUTH, SA or TS); an initiator that tears the SA down within \
                  milliseconds of a certificate-bearing IKE_AUTH response; an IKEv1 Main Mode \
                  message 5 answered by Informationals instead of message 6. Inferred findings say \
                  so and how sure they are; keys (see `--keys`) make them certain.",
        why_it_fails: "One peer could not verify the other's AUTH payload, so no IKE SA is \
                       established.",
        evidence: "The IKE_AUTH (or Main/Aggressive Mode) messages, their sizes and what followed.",
        likely_causes: "Different pre-shared keys; an identity (IDi/IDr) the peer does not expect; a \
                        certificate from a CA the peer does not trust, expired, or without the \
                        server's name in subjectAltName; wrong EAP credentials.",
        how_to_fix: "Compare the PSK and the identities on both sides (strongSwan `swanctl \
                     --list-conns`, the peer's log says which check failed); for certificates, \
                     install the CA on the verifying side and check names and dates.",
    },
    summary_ja: "認証失敗 (事前共有鍵・証明書・EAP)",
    doc_ja: RuleDoc {
        detects: "AUTHENTICATION_FAILED が平文で見えた場合 (IKEv1、または暗号化されていない IKEv2 の Notify)。暗号化されている場合は推定します: IKE_AUTH の応答が Notify 1 個分しか入らない小ささ (IDr・AUTH・SA・TS を含まない)、証明書付きの IKE_AUTH 応答の直後 (数ミリ秒以内) にイニシエータが SA を閉じる、IKEv1 の Main Mode メッセージ5 に対してメッセージ6 ではなく Informational が返る。推定による検出はその旨と確度を示し、鍵 (`--keys`) があれば確定します。",
        why_it_fails: "一方のピアが相手の AUTH ペイロードを検証できないため、IKE SA が確立しません。",
        evidence: "IKE_AUTH (または Main Mode / Aggressive Mode) のメッセージ、そのサイズと、その後に続いた通信。",
        likely_causes: "事前共有鍵の不一致、相手が想定していない ID (IDi/IDr)、相手が信頼していない CA の証明書・期限切れの証明書・subjectAltName にサーバ名がない証明書、EAP の認証情報の誤り。",
        how_to_fix: "両側で PSK と ID を比較してください (strongSwan なら `swanctl --list-conns`、どの検査で失敗したかは相手側のログに出ます)。証明書の場合は検証する側に CA を入れ、名前と有効期限を確認してください。",
    },
    check,
};

fn fixes() -> Vec<FixStep> {
    vec![
        FixStep {
            platform: "strongSwan".into(),
            commands: vec![
                "swanctl --list-conns   # compare local/remote auth, id and the secrets on both peers".into(),
                "journalctl -u strongswan | grep -iE 'auth|constraint|trust'   # the responder says which check failed".into(),
            ],
        },
        FixStep {
            platform: "Windows client".into(),
            commands: vec![
                "Get-VpnConnection -Name \"<VPN>\" | fl AuthenticationMethod, ServerAddress".into(),
                "certlm.msc: the server's root CA must be in Trusted Root Certification Authorities, and the server name in its SAN".into(),
            ],
        },
    ]
}

/// What the keys show about the credentials `rejecter_is_initiator`'s side
/// refused: the other side's identity, method and certificate, and the
/// likely exact cause. English and Japanese clauses (starting with ". ")
/// and the frames that carried them; `None` when nothing was decrypted.
fn rejected_credentials(
    sa: &IkeSa,
    rejecter_is_initiator: bool,
) -> Option<(String, String, Vec<u64>)> {
    use crate::session::reveal::utc;
    let peers = sa.peers.as_ref()?;
    let (rejecter, other, other_name, other_name_ja, rejecter_name, rejecter_name_ja) =
        if rejecter_is_initiator {
            (
                &peers.initiator,
                &peers.responder,
                "responder",
                "レスポンダ",
                "initiator",
                "イニシエータ",
            )
        } else {
            (
                &peers.responder,
                &peers.initiator,
                "initiator",
                "イニシエータ",
                "responder",
                "レスポンダ",
            )
        };
    let own_role = if rejecter_is_initiator { "IDr" } else { "IDi" };
    let id = other
        .identities
        .iter()
        .find(|i| i.role == own_role || i.role == "ID")
        .map(|i| format!("{} {}", i.kind, i.value));
    let methods = other.auth_methods.join(", ");
    if id.is_none() && methods.is_empty() && other.certificates.is_empty() {
        return None;
    }
    let mut en = format!(". The {rejecter_name} rejected the {other_name}'s credentials");
    let mut ja = format!("。{rejecter_name_ja}が{other_name_ja}の認証情報を拒否しました");
    if let Some(id) = &id {
        en.push_str(&format!(": identity {id}"));
        ja.push_str(&format!(": ID {id}"));
    }
    if !methods.is_empty() {
        en.push_str(&format!(", authenticated with {methods}"));
        ja.push_str(&format!("、認証方式 {methods}"));
    }
    // The identity the initiator asked for (its IDr) against the one the
    // responder used.
    if rejecter_is_initiator
        && let Some(wanted) = rejecter.identities.iter().find(|i| i.role == "IDr")
        && let Some(got) = other.identities.iter().find(|i| i.role == "IDr")
        && wanted.value != got.value
    {
        en.push_str(&format!(
            "; the initiator asked for IDr {} but the responder used {}",
            wanted.value, got.value
        ));
        ja.push_str(&format!(
            "。イニシエータは IDr {} を要求しましたが、レスポンダは {} を使いました",
            wanted.value, got.value
        ));
    }
    let mut frames = other.frames.clone();
    let end_entity = other
        .certificates
        .iter()
        .find(|c| c.cert.parse_error.is_none() && !c.cert.is_ca);
    if let Some(c) = end_entity {
        let x = &c.cert;
        en.push_str(&format!(
            ", certificate \"{}\" issued by \"{}\" (valid {} to {}, frame {})",
            x.subject,
            x.issuer,
            utc(x.not_before),
            utc(x.not_after),
            c.frame
        ));
        ja.push_str(&format!(
            "、証明書 \"{}\" (発行者 \"{}\"、有効期間 {} ～ {}、フレーム {})",
            x.subject,
            x.issuer,
            utc(x.not_before),
            utc(x.not_after),
            c.frame
        ));
        frames.push(c.frame);
        match c.validity_problem {
            Some(p) => {
                en.push_str(&format!(
                    ". That certificate was {p} when it was sent: renew it (or fix the clock of the {rejecter_name})"
                ));
                ja.push_str(&format!(
                    "。この証明書は送信時点で{}でした: 更新するか、{rejecter_name_ja}の時刻を確認してください",
                    if p == "expired" { "期限切れ" } else { "まだ有効期間前" }
                ));
            }
            None => {
                let asked = if rejecter.cert_requests.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (its CERTREQ named {} CA key(s))",
                        rejecter.cert_requests.len()
                    )
                };
                en.push_str(&format!(
                    ". The {rejecter_name} does not trust that certificate: most likely it has no trusted CA for the issuer \
                     \"{}\"{asked}, or the certificate's names do not match the identity it expects",
                    x.issuer
                ));
                ja.push_str(&format!(
                    "。{rejecter_name_ja}はこの証明書を信頼していません: 発行者 \"{}\" の CA を信頼していないか、証明書の名前が期待する ID と一致しない可能性が高いです",
                    x.issuer
                ));
            }
        }
    } else if sa.messages().iter().any(|m| m.has_payload("EAP")) {
        // With EAP the final AUTH is a "shared key" MAC over the EAP key:
        // not a pre-shared key.
        en.push_str(&format!(
            ". EAP was used: the {other_name}'s EAP credentials (user name / password or EAP certificate) \
             were refused, or the AUTH derived from the EAP session did not verify"
        ));
        ja.push_str(&format!(
            "。EAP が使われています: {other_name_ja}の EAP 認証情報 (ユーザ名/パスワードまたは EAP 証明書) が拒否されたか、EAP セッションから導出した AUTH を検証できませんでした"
        ));
    } else if sa.version == 2 && other.auth_methods.iter().any(|m| m.contains("Shared Key")) {
        let who = id.unwrap_or_else(|| "its identity".into());
        en.push_str(&format!(
            ". With a pre-shared key this means the two keys differ, or the {rejecter_name} has no key (or another one) \
             for {who}"
        ));
        ja.push_str(&format!(
            "。事前共有鍵の場合、両側の鍵が異なるか、{rejecter_name_ja}に {who} 用の鍵がない (または別の鍵がある) ことを意味します"
        ));
    }
    frames.sort_unstable();
    frames.dedup();
    Some((en, ja, frames))
}

fn phase1_name(sa: &IkeSa) -> String {
    if sa.version == 2 {
        return "IKE_AUTH".into();
    }
    sa.exchanges
        .iter()
        .find(|x| matches!(x.exchange_type, exch::V1_MAIN | exch::V1_AGGRESSIVE))
        .map(|x| x.name.clone())
        .unwrap_or_else(|| "MAIN_MODE".into())
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        let sev = if later_success(a, sa) {
            Severity::Warning
        } else {
            Severity::Error
        };
        // 1. In clear.
        let clear = notify_seen(sa, notify::AUTHENTICATION_FAILED);
        if let Some(n) = clear.first() {
            let (why, why_ja, mut frames) =
                rejected_credentials(sa, n.from_initiator).unwrap_or_default();
            frames.extend(clear.iter().map(|m| m.frame));
            frames.sort_unstable();
            frames.dedup();
            e.emit(
                Draft::new(
                    sev,
                    format!(
                        "{} reported AUTHENTICATION_FAILED to {} (frame {}): it could not verify the peer's authentication \
                         (pre-shared key, certificate or identity){}{why}",
                        n.src.addr, n.dst.addr, n.frame, super::decrypted_note(n)
                    ),
                    frames,
                )
                .sa(sa)
                .exchange(phase1_name(sa))
                .notify("AUTHENTICATION_FAILED")
                .ja(format!(
                    "{} が {} に AUTHENTICATION_FAILED を通知しました (フレーム {}): 相手の認証 (事前共有鍵、証明書、ID) を検証できませんでした{}{why_ja}",
                    n.src.addr, n.dst.addr, n.frame, super::decrypted_note_ja(n)
                ))
                .fix(fixes()),
            );
            continue;
        }
        if sa.version == 2 {
            let Some(auth) = super::last_ike_auth(sa) else {
                continue;
            };
            let Some(resp) = auth.first_response() else {
                continue;
            };
            let Some(req) = auth.first_request() else {
                continue;
            };
            // Decrypted: what it says is known (step 1 found any
            // AUTHENTICATION_FAILED), so nothing is inferred.
            if resp.decrypted {
                continue;
            }
            // 2. A response that can only hold one notify.
            if is_lone_error(resp) {
                e.emit(
                    Draft::new(
                        sev,
                        format!(
                            "The IKE_AUTH response from {} (frame {}) is only {} bytes: too small to carry IDr, AUTH and the \
                             CHILD SA, just one encrypted error notify, which at this point is AUTHENTICATION_FAILED in practice \
                             (inferred from the size; keys would make it certain)",
                            resp.src.addr,
                            resp.frame,
                            bytes(u64::from(resp.length))
                        ),
                        vec![req.frame, resp.frame],
                    )
                    .sa(sa)
                    .exchange("IKE_AUTH")
                    .confidence(Confidence::Likely)
                    .ja(format!(
                        "{} からの IKE_AUTH 応答 (フレーム {}) はわずか {} バイトで、IDr・AUTH・CHILD SA は入らず、暗号化されたエラー Notify 1 個分しかありません。この段階では実際上 AUTHENTICATION_FAILED です (サイズからの推定。鍵があれば確定できます)",
                        resp.src.addr,
                        resp.frame,
                        bytes(u64::from(resp.length))
                    ))
                    .fix(fixes()),
                );
                continue;
            }
            // 3. The initiator tears down right after the responder
            // authenticated itself (not across a step back in the capture's
            // time stamps, where "right after" is unknown).
            let (last_resp, last_resp_frame) = auth
                .responses()
                .map(|m| (m.ts_ns, m.frame))
                .max()
                .unwrap_or((resp.ts_ns, resp.frame));
            let teardown = sa.exchanges_of(exch::INFORMATIONAL).find_map(|x| {
                x.first_request().filter(|r| {
                    r.from_initiator
                        && r.ts_ns >= last_resp
                        && r.ts_ns - last_resp < 50_000_000
                        && !super::time_unknown_between(a, last_resp_frame, r.frame)
                })
            });
            let resp_size: u32 = auth
                .responses()
                .filter(|m| !m.retransmission)
                .map(|m| m.length)
                .sum();
            if let Some(t) = teardown
                && esp_between(a, sa, resp.ts_ns).is_empty()
                && (resp_size >= 1000 || auth.responses().any(|m| m.ike_fragment.is_some()))
            {
                e.emit(
                    Draft::new(
                        sev,
                        format!(
                            "{} answered IKE_AUTH with its certificate ({} bytes), and {} closed the SA {} later (frame {}) \
                             without sending any ESP: the initiator rejected the responder's authentication, most often a \
                             certificate it does not trust (inferred from timing and sizes; keys would make it certain)",
                            resp.src.addr,
                            bytes(u64::from(resp_size)),
                            t.src.addr,
                            crate::diag::secs(t.ts_ns - last_resp),
                            t.frame
                        ),
                        vec![req.frame, resp.frame, t.frame],
                    )
                    .sa(sa)
                    .exchange("IKE_AUTH")
                    .confidence(Confidence::Possible)
                    .ja(format!(
                        "{} は証明書付きで IKE_AUTH に応答しました ({} バイト) が、{} はその {} 後 (フレーム {}) に ESP を一切送らずに SA を閉じました: イニシエータがレスポンダの認証を拒否しており、多くの場合は信頼していない証明書が原因です (タイミングとサイズからの推定。鍵があれば確定できます)",
                        resp.src.addr,
                        bytes(u64::from(resp_size)),
                        t.src.addr,
                        crate::diag::secs(t.ts_ns - last_resp),
                        t.frame
                    ))
                    .fix(fixes()),
                );
            }
        } else {
            // 4. IKEv1 Main Mode 5 answered by Informationals instead of message 6.
            let Some(mm) = sa.exchange(exch::V1_MAIN) else {
                continue;
            };
            let distinct: Vec<_> = mm.messages.iter().filter(|m| !m.retransmission).collect();
            if distinct.len() != 5 {
                continue;
            }
            let mm5 = distinct[4];
            let infos: Vec<_> = sa
                .exchanges_of(exch::V1_INFORMATIONAL)
                .flat_map(|x| &x.messages)
                .filter(|m| !m.from_initiator && m.ts_ns >= mm5.ts_ns)
                .collect();
            if infos.is_empty() {
                continue;
            }
            let mut frames: Vec<u64> = mm
                .messages
                .iter()
                .filter(|m| m.digest == mm5.digest)
                .map(|m| m.frame)
                .collect();
            frames.extend(infos.iter().map(|m| m.frame));
            // Decrypted with the responder's key: the notify says why
            // (strongSwan PAYLOAD-MALFORMED, others INVALID-HASH-INFORMATION
            // or AUTHENTICATION-FAILED: it could not read or verify MM5).
            let told = infos
                .iter()
                .filter(|m| m.decrypted)
                .find_map(|m| m.notify_types.first().zip(m.notify.first()));
            let proof = told.filter(|(t, _)| {
                matches!(
                    **t,
                    notify::PAYLOAD_MALFORMED
                        | notify::INVALID_HASH_INFORMATION
                        | notify::AUTHENTICATION_FAILED
                )
            });
            let (how, how_ja, confidence) = match proof {
                Some((_, name)) => (
                    format!(" carrying {name} (decrypted with the given keys)"),
                    format!(" ({name}、指定された鍵で復号)"),
                    Confidence::Certain,
                ),
                None => (String::new(), String::new(), Confidence::Likely),
            };
            let mut d = Draft::new(
                sev,
                format!(
                    "Main Mode message 5 (the encrypted identity and hash, frame {}) was answered {} time(s) by an encrypted \
                     Informational from {}{how} instead of message 6: the responder could not decrypt or verify it, which in \
                     practice means the pre-shared keys differ{}",
                    mm5.frame,
                    infos.len(),
                    sa.responder.addr,
                    if proof.is_some() { "" } else { " (inferred; keys would make it certain)" }
                ),
                frames,
            )
            .sa(sa)
            .exchange("MAIN_MODE")
            .confidence(confidence)
            .ja(format!(
                "Main Mode メッセージ5 (暗号化された ID とハッシュ、フレーム {}) に対して、{} からメッセージ6 ではなく暗号化された Informational{how_ja} が {} 回返っています: レスポンダが復号・検証できておらず、実際上は事前共有鍵の不一致です{}",
                mm5.frame,
                sa.responder.addr,
                infos.len(),
                if proof.is_some() { "" } else { " (推定。鍵があれば確定できます)" }
            ))
            .fix(fixes());
            if let Some((_, name)) = proof {
                d = d.notify(name);
            }
            e.emit(d);
        }
    }
}
