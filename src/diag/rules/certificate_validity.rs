//! IKE014 `certificate-validity`: a certificate a peer sent was expired or
//! not yet valid at the time it was captured (known once decrypted).

use crate::diag::{Draft, Emitter, FixStep, Rule, RuleDoc, Severity};
use crate::session::Analysis;
use crate::session::reveal::utc;

pub(crate) static RULE: Rule = Rule {
    code: "IKE014",
    name: "certificate-validity",
    severity: Severity::Error,
    summary: "A peer's certificate was expired or not yet valid",
    doc: RuleDoc {
        detects: "A CERT payload (read from a decrypted IKE_AUTH or IKEv1 Main Mode message) whose \
                  notBefore/notAfter dates do not cover the capture time of the frame that carried \
                  it. Intermediate CA certificates sent along are checked too.",
        why_it_fails: "The verifying peer refuses an expired or not-yet-valid certificate \
                       (AUTHENTICATION_FAILED), unless its own clock is just as wrong.",
        evidence: "The frame that carried the certificate, and the AUTHENTICATION_FAILED that \
                   followed, if any.",
        likely_causes: "A certificate not renewed in time; a new certificate used before its start \
                        date; a peer (or the capturing machine) with a wrong clock, often a device \
                        without NTP or a battery-less router after a power cut.",
        how_to_fix: "Renew the certificate, or fix the clock (NTP) of the device whose time is \
                     wrong. The capture's own timestamps are the reference: check that the \
                     capturing machine's clock was right.",
    },
    summary_ja: "ピアの証明書が期限切れ、またはまだ有効期間前",
    doc_ja: RuleDoc {
        detects: "CERT ペイロード (復号した IKE_AUTH または IKEv1 Main Mode のメッセージから読んだもの) の notBefore/notAfter が、そのフレームのキャプチャ時刻を含んでいない場合。一緒に送られた中間 CA 証明書も検査します。",
        why_it_fails: "検証する側は期限切れ・有効期間前の証明書を拒否します (AUTHENTICATION_FAILED)。ただし検証側の時計も同様にずれていれば受け入れられます。",
        evidence: "証明書を運んだフレームと、続いて送られた AUTHENTICATION_FAILED (あれば)。",
        likely_causes: "証明書の更新漏れ、開始日前の新しい証明書の使用、時計のずれたピア (またはキャプチャした端末)。NTP を使っていない機器や、停電後の電池のないルータによく見られます。",
        how_to_fix: "証明書を更新するか、時刻がずれている機器の時計 (NTP) を直してください。基準はキャプチャのタイムスタンプなので、キャプチャした端末の時計が正しかったかも確認してください。",
    },
    check,
};

fn fixes() -> Vec<FixStep> {
    vec![
        FixStep {
            platform: "strongSwan".into(),
            commands: vec![
                "swanctl --list-certs   # shows each certificate's validity and whether it is trusted".into(),
                "timedatectl   # check the clock and that NTP is synchronised".into(),
            ],
        },
        FixStep {
            platform: "OpenSSL".into(),
            commands: vec![
                "openssl x509 -in cert.pem -noout -subject -issuer -dates".into(),
            ],
        },
    ]
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        let Some(peers) = &sa.peers else {
            continue;
        };
        let auth_failed = super::notify_seen(sa, super::notify::AUTHENTICATION_FAILED);
        for (side, side_ja, p) in [
            ("initiator", "イニシエータ", &peers.initiator),
            ("responder", "レスポンダ", &peers.responder),
        ] {
            for c in &p.certificates {
                let Some(problem) = c.validity_problem else {
                    continue;
                };
                let Some(m) = sa.messages().into_iter().find(|m| m.frame == c.frame) else {
                    continue;
                };
                let at = utc(m.ts_ns.div_euclid(1_000_000_000));
                let x = &c.cert;
                let mut frames = vec![c.frame];
                frames.extend(auth_failed.iter().map(|m| m.frame));
                let (sev, tail, tail_ja) = if auth_failed.is_empty() {
                    (
                        Severity::Warning,
                        ", yet no AUTHENTICATION_FAILED followed: the verifying peer's clock (or the capturing machine's) is probably just as wrong".to_string(),
                        "。ただし AUTHENTICATION_FAILED は続いていません: 検証側 (またはキャプチャした端末) の時計も同様にずれている可能性があります".to_string(),
                    )
                } else {
                    (
                        Severity::Error,
                        format!(
                            ", and authentication failed ({})",
                            super::frame_list(
                                &auth_failed.iter().map(|m| m.frame).collect::<Vec<_>>()
                            )
                        ),
                        format!(
                            "。そして認証が失敗しました ({})",
                            super::frame_list_ja(
                                &auth_failed.iter().map(|m| m.frame).collect::<Vec<_>>()
                            )
                        ),
                    )
                };
                let problem_ja = if problem == "expired" {
                    "期限切れ"
                } else {
                    "まだ有効期間前"
                };
                e.emit(
                    Draft::new(
                        sev,
                        format!(
                            "The {side}'s certificate \"{}\" (issuer \"{}\", frame {}) was {problem} when it was sent at {at}: \
                             valid from {} to {}{tail}",
                            x.subject,
                            x.issuer,
                            c.frame,
                            utc(x.not_before),
                            utc(x.not_after)
                        ),
                        frames,
                    )
                    .ja(format!(
                        "{side_ja}の証明書 \"{}\" (発行者 \"{}\"、フレーム {}) は送信時刻 {at} に{problem_ja}でした: 有効期間は {} ～ {}{tail_ja}",
                        x.subject,
                        x.issuer,
                        c.frame,
                        utc(x.not_before),
                        utc(x.not_after)
                    ))
                    .sa(sa)
                    .exchange(
                        super::exchange_of(sa, c.frame)
                            .map(|x| x.name.clone())
                            .unwrap_or_else(|| "IKE_AUTH".into()),
                    )
                    .fix(fixes()),
                );
            }
        }
    }
}
