//! NAT003 `nat-detection-faked`: a peer fakes NAT detection to force UDP
//! encapsulation.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "NAT003",
    name: "nat-detection-faked",
    severity: Severity::Info,
    summary: "The initiator fakes NAT detection to force UDP encapsulation",
    doc: RuleDoc {
        detects: "The initiator's NAT_DETECTION_SOURCE_IP matches none of its addresses while the \
                  responder saw the initiator's real address and port: there is no NAT, but the \
                  initiator pretends there is (strongSwan `encap = yes`, libreswan \
                  `encapsulation=yes`).",
        why_it_fails: "It does not: it forces ESP into UDP 4500, usually on purpose to cross \
                       firewalls that block ESP.",
        evidence: "The IKE_SA_INIT NAT detection payloads and the addresses seen.",
        likely_causes: "A configuration that forces UDP encapsulation.",
        how_to_fix: "Nothing to fix. If ESP (protocol 50) is allowed end to end, encapsulation can be \
                     turned off to save 8 bytes per packet.",
    },
    summary_ja: "イニシエータが UDP カプセル化を強制するため NAT 検出を偽装している",
    doc_ja: RuleDoc {
        detects: "イニシエータの NAT_DETECTION_SOURCE_IP が自分のどのアドレスとも一致しないのに、レスポンダはイニシエータの実際のアドレスとポートを見ている: NAT はないが、イニシエータが NAT があるように装っている (strongSwan の `encap = yes`、libreswan の `encapsulation=yes`)。",
        why_it_fails: "問題ではありません。ESP を UDP 4500 に入れるための設定で、ESP を遮断するファイアウォールを越えるために意図的に使われることが多いです。",
        evidence: "IKE_SA_INIT の NAT 検出ペイロードと、観測されたアドレス。",
        likely_causes: "UDP カプセル化を強制する設定。",
        how_to_fix: "対処は不要です。ESP (IP プロトコル 50) がエンドツーエンドで通るなら、カプセル化を無効にしてパケットあたり 8 バイト節約できます。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in a.sas.iter().filter(|s| s.nat.faked_by_initiator) {
        e.emit(
            Draft::new(
                Severity::Info,
                format!(
                    "{} sent a NAT_DETECTION_SOURCE_IP that matches none of its addresses, while the responder saw its real \
                     address: it fakes NAT detection to force UDP encapsulation (strongSwan encap=yes)",
                    sa.initiator.addr
                ),
                sa.nat.frames.clone(),
            )
            .ja(format!(
                "{} が自分のどのアドレスとも一致しない NAT_DETECTION_SOURCE_IP を送り、一方レスポンダはその実際のアドレスを見ています: UDP カプセル化を強制するために NAT 検出を偽装しています (strongSwan の encap=yes)",
                sa.initiator.addr
            ))
            .sa(sa),
        );
    }
}
