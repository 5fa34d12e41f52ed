//! CAP003 `capture-truncated-packets`: the snaplen cut IKE messages or IP
//! fragments of them.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, plural};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "CAP003",
    name: "capture-truncated-packets",
    severity: Severity::Warning,
    summary: "The capture's snaplen cut IKE messages",
    doc: RuleDoc {
        detects: "IKE frames whose captured length is shorter than their length on the wire, and IP \
                  fragment sets between the IKE peers left incomplete because the snaplen cut some of \
                  their fragments (a cut fragment is not reassembled, as in Wireshark); those sets are \
                  not reported as fragments lost on the path.",
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
        detects: "キャプチャされた長さが実際の長さより短い IKE のフレームと、スナップ長でフラグメントの一部が切れたために揃わなかった IKE ピア間の IP フラグメントのセット (切れたフラグメントは Wireshark と同様に再構成しません)。これらのセットは経路上で失われたフラグメントとしては報告しません。",
        why_it_fails: "判断できる範囲が限られます。切れた先のペイロード (Notify、証明書) や RFC 7383 のフラグメントは見えず、途中で切れた IP フラグメントは再構成できません。",
        evidence: "キャプチャされた長さが実際のパケット長より短いフレーム。",
        likely_causes: "小さいスナップ長でのキャプチャ (`tcpdump -s 128`、ルータのパケットキャプチャ機能の既定のスライスサイズなど)。",
        how_to_fix: "パケット全体をキャプチャしてください: `tcpdump -s 0` (現在の tcpdump の既定値)、またはルータのキャプチャのスライスサイズを大きくしてください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let frames = &a.truncated_ike_frames;
    // Fragment sets of IKE left incomplete because the snaplen cut some of
    // their fragments (not reassembled, as in Wireshark).
    let sets: Vec<_> = a
        .incomplete_fragments
        .iter()
        .filter(|f| !f.snaplen_frames.is_empty() && super::is_ike_fragment_set(f))
        .collect();
    let mut cut: Vec<u64> = sets
        .iter()
        .flat_map(|f| f.snaplen_frames.iter().copied())
        .collect();
    cut.sort_unstable();
    cut.dedup();
    let (mut msg, mut ja) = match frames.first() {
        Some(first) => (
            format!(
                "{} carrying IKE were cut by the capture's snaplen (first: frame {first}); what lies beyond the cut is not analysed",
                plural(frames.len(), "frame"),
            ),
            format!(
                "IKE を運ぶ {} 個のフレームがキャプチャのスナップ長で切れています (最初はフレーム {first})。切れた先は解析されていません",
                frames.len(),
            ),
        ),
        None => (String::new(), String::new()),
    };
    if let Some(first) = cut.first() {
        let sep = if msg.is_empty() { "" } else { "; " };
        msg.push_str(&format!(
            "{sep}{} between the IKE peers could not be reassembled because the snaplen cut {} of {} (first: frame {first}): \
             they are incomplete in the capture, not lost on the path",
            plural(sets.len(), "IP fragment set"),
            plural(cut.len(), "fragment"),
            if sets.len() == 1 { "it" } else { "them" },
        ));
        if !ja.is_empty() {
            ja.push('。');
        }
        ja.push_str(&format!(
            "IKE ピア間の IP フラグメントのセット {} 個は、スナップ長でフラグメント {} 個が切れたため再構成できませんでした (最初はフレーム {first}): キャプチャ上で欠けているだけで、経路上で失われたのではありません",
            sets.len(),
            cut.len(),
        ));
        if let Some(c) = msg.get(..1) {
            let upper = c.to_uppercase();
            msg.replace_range(..1, &upper);
        }
    }
    if msg.is_empty() {
        return;
    }
    let shown = frames.iter().chain(&cut).copied().take(50).collect();
    e.emit(Draft::new(Severity::Warning, msg, shown).ja(ja));
}
