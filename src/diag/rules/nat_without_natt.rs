//! NAT002 `nat-without-natt`: NAT detected but ESP is sent unencapsulated,
//! or a peer does not support NAT traversal.

use crate::diag::{Draft, Emitter, FixStep, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "NAT002",
    name: "nat-without-natt",
    severity: Severity::Error,
    summary: "NAT in the path but ESP is not UDP-encapsulated",
    doc: RuleDoc {
        detects: "NAT detected between the peers while ESP (IP protocol 50) flows unencapsulated \
                  between them, or an IKEv1 peer behind NAT that announces no NAT traversal \
                  (no RFC 3947 / draft NAT-T vendor ID).",
        why_it_fails: "Most NATs cannot translate ESP (it has no ports); the packets are dropped or \
                       only one client behind the NAT works.",
        evidence: "The NAT detection frames and the plain ESP packets.",
        likely_causes: "NAT traversal disabled on a peer; an old IKEv1 implementation; a NAT with an \
                        'IPsec passthrough' helper that breaks NAT-T.",
        how_to_fix: "Enable NAT traversal on both peers (strongSwan and libreswan do it by default; \
                     Windows behind NAT needs AssumeUDPEncapsulationContextOnSendRule = 2) and turn \
                     off 'IPsec passthrough' on the NAT router.",
    },
    summary_ja: "経路に NAT があるのに ESP が UDP カプセル化されていない",
    doc_ja: RuleDoc {
        detects: "ピア間で NAT が検出されているのに ESP (IP プロトコル 50) がカプセル化されずに流れている、または NAT の背後にある IKEv1 のピアが NAT トラバーサル (RFC 3947 / ドラフトの NAT-T ベンダ ID) を示していない。",
        why_it_fails: "多くの NAT は ESP を変換できない (ポートがない) ため、パケットが破棄されるか、NAT の背後で 1 台のクライアントしか動きません。",
        evidence: "NAT 検出のフレームと、カプセル化されていない ESP パケット。",
        likely_causes: "片方のピアで NAT トラバーサルが無効、古い IKEv1 実装、NAT-T を壊す「IPsec パススルー」機能を持つ NAT。",
        how_to_fix: "両ピアで NAT トラバーサルを有効にし (strongSwan と libreswan は既定で有効、NAT の背後の Windows は AssumeUDPEncapsulationContextOnSendRule = 2 が必要)、NAT ルータの「IPsec パススルー」を無効にしてください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        if !(sa.nat.initiator_behind_nat || sa.nat.responder_behind_nat) {
            continue;
        }
        let plain: Vec<_> = super::esp_between(a, sa, sa.first_ts_ns)
            .into_iter()
            .filter(|f| f.udp_ports.is_none())
            .collect();
        if plain.is_empty() {
            continue;
        }
        let mut frames = sa.nat.frames.clone();
        frames.extend(plain.iter().map(|f| f.first_frame));
        e.emit(
            Draft::new(
                Severity::Error,
                format!(
                    "NAT was detected between {} and {}, yet ESP flows as plain IP protocol 50 ({} packets, SPI 0x{:08x} first): \
                     NATs cannot translate it; it must be UDP-encapsulated on port 4500",
                    sa.initiator.addr,
                    sa.responder.addr,
                    plain.iter().map(|f| f.packets).sum::<u64>(),
                    plain[0].spi
                ),
                frames,
            )
            .ja(format!(
                "{} と {} の間で NAT が検出されているのに、ESP がカプセル化されない IP プロトコル 50 のまま流れています (パケット {} 個、最初の SPI 0x{:08x}): NAT は ESP を変換できないため、UDP 4500 でカプセル化する必要があります",
                sa.initiator.addr,
                sa.responder.addr,
                plain.iter().map(|f| f.packets).sum::<u64>(),
                plain[0].spi
            ))
            .sa(sa)
            .fix(vec![FixStep {
                platform: "Windows client behind NAT".into(),
                commands: vec![r"reg add HKLM\SYSTEM\CurrentControlSet\Services\PolicyAgent /v AssumeUDPEncapsulationContextOnSendRule /t REG_DWORD /d 2 /f".into()],
            }]),
        );
    }
}
