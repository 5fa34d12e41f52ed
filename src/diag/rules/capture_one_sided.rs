//! CAP002 `capture-one-sided`: only one direction of IKE was captured.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "CAP002",
    name: "capture-one-sided",
    severity: Severity::Info,
    summary: "Only one direction of IKE is in the capture",
    doc: RuleDoc {
        detects: "A capture in which every IKE message comes from the same side and nothing at all \
                  (IKE, ESP or ICMP) comes from the other.",
        why_it_fails: "It limits what can be said: either nothing came back (a real failure, see the \
                       other findings), or the capture point misses the return path.",
        evidence: "The IKE messages, all from one side.",
        likely_causes: "Nothing came back; asymmetric routing; a capture filter on one direction \
                        (`src host ...`); port mirroring of one direction only.",
        how_to_fix: "If the other findings do not explain the silence, capture on both peers at once \
                     to tell a lost request from a lost answer.",
    },
    summary_ja: "キャプチャに片方向の IKE しかない",
    doc_ja: RuleDoc {
        detects: "すべての IKE メッセージが同じ側から送られており、反対側からは IKE・ESP・ICMP のいずれも一切来ていないキャプチャ。",
        why_it_fails: "判断できる範囲が限られます。本当に何も返ってこなかった (実際の障害。他の検出結果を参照) か、キャプチャ地点が戻りの経路を見ていないかのどちらかです。",
        evidence: "すべて片側から送られた IKE メッセージ。",
        likely_causes: "応答が本当にない、非対称ルーティング、片方向だけのキャプチャフィルタ (`src host ...`)、片方向だけのポートミラーリング。",
        how_to_fix: "他の検出結果で沈黙の理由が説明できない場合は、両方のピアで同時にキャプチャし、要求が失われたのか応答が失われたのかを切り分けてください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    if a.sas.is_empty() {
        return;
    }
    let msgs: Vec<_> = a.sas.iter().flat_map(|s| s.messages()).collect();
    let Some(first) = msgs.first() else { return };
    let one = first.src.addr;
    if msgs.iter().any(|m| m.src.addr != one) {
        return;
    }
    let from_other =
        a.esp_flows.iter().any(|f| f.dst == one) || a.icmp_errors.iter().any(|i| i.dst == one);
    if from_other {
        return;
    }
    let ja = format!(
        "キャプチャ内の {} 個の IKE メッセージはすべて {one} から送られたもので、{} からは何も返ってきていません",
        msgs.len(),
        first.dst.addr
    );
    e.emit(Draft::new(
        Severity::Info,
        format!(
            "All {} IKE messages in the capture come from {one}; nothing at all came back from {}",
            msgs.len(),
            first.dst.addr
        ),
        msgs.iter().map(|m| m.frame).take(20).collect(),
    )
    .ja(ja));
}
