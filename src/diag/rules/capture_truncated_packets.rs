//! CAP003 `capture-truncated-packets`: the snaplen cut IKE messages.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, plural};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "CAP003",
    name: "capture-truncated-packets",
    severity: Severity::Warning,
    summary: "The capture's snaplen cut IKE messages",
    doc: RuleDoc {
        detects: "IKE frames whose captured length is shorter than their length on the wire.",
        why_it_fails: "It limits what can be said: payloads (notifies, certificates) and RFC 7383 \
                       fragments beyond the cut are not visible, and IP fragments cut short cannot \
                       be reassembled.",
        evidence: "The frames whose captured length is shorter than their length on the wire.",
        likely_causes: "A capture taken with a small snaplen (`tcpdump -s 128`, a router's packet \
                        capture with a default slice size).",
        how_to_fix: "Capture whole packets: `tcpdump -s 0` (the default in current tcpdump), or raise \
                     the router's capture slice size.",
    },
    summary_ja: "キャプチャのスナップ長で IKE メッセージが切れている",
    doc_ja: RuleDoc {
        detects: "キャプチャされた長さが実際の長さより短い IKE のフレーム。",
        why_it_fails: "判断できる範囲が限られます。切れた先のペイロード (Notify、証明書) や RFC 7383 のフラグメントは見えず、途中で切れた IP フラグメントは再構成できません。",
        evidence: "キャプチャされた長さが実際のパケット長より短いフレーム。",
        likely_causes: "小さいスナップ長でのキャプチャ (`tcpdump -s 128`、ルータのパケットキャプチャ機能の既定のスライスサイズなど)。",
        how_to_fix: "パケット全体をキャプチャしてください: `tcpdump -s 0` (現在の tcpdump の既定値)、またはルータのキャプチャのスライスサイズを大きくしてください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let frames = &a.truncated_ike_frames;
    if frames.is_empty() {
        return;
    }
    let ja = format!(
        "IKE を運ぶ {} 個のフレームがキャプチャのスナップ長で切れています (最初はフレーム {})。切れた先は解析されていません",
        frames.len(),
        frames[0]
    );
    e.emit(Draft::new(
        Severity::Warning,
        format!(
            "{} carrying IKE were cut by the capture's snaplen (first: frame {}); what lies beyond the cut is not analysed",
            plural(frames.len(), "frame"),
            frames[0]
        ),
        frames.iter().copied().take(50).collect(),
    )
    .ja(ja));
}
