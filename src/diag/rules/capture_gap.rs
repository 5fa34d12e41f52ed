//! CAP010 `capture-gap`: an IKE answer that the requester evidently got is
//! missing from the capture.

use super::frame_list;
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "CAP010",
    name: "capture-gap",
    severity: Severity::Info,
    summary: "An IKE answer the requester got is missing from the capture",
    doc: RuleDoc {
        detects: "An IKEv2 request with no response in the capture, while a later message of the \
                  same requester carries what only the response could have given it: after \
                  IKE_SA_INIT, the responder's SPI in the next exchange; otherwise the next message \
                  ID (RFC 7296 section 2.3: with a window of one, a request waits for the answer \
                  to the previous one; not inferred when SET_WINDOW_SIZE was negotiated).",
        why_it_fails: "It does not: the answer reached the requester. The capture point missed it \
                       (a capture started or stopped mid-way, a filter, a mirror port dropping \
                       packets, asymmetric routing), so the exchange is not judged as unanswered.",
        evidence: "The unanswered request and the later message that proves its answer arrived.",
        likely_causes: "A capture filter or a second path for the return direction; a busy capture \
                        host dropping packets; files merged or cut.",
        how_to_fix: "Nothing on the VPN. For a complete picture capture on the peer itself, with no \
                     filter narrower than the IKE ports, and check the capture's drop counters.",
    },
    summary_ja: "要求側が受け取った IKE の応答がキャプチャにない",
    doc_ja: RuleDoc {
        detects: "応答がキャプチャにない IKEv2 の要求で、同じ要求側の後のメッセージが、応答からしか得られない情報を含んでいるもの: IKE_SA_INIT の後なら次の交換のレスポンダ SPI、それ以外なら次のメッセージ ID (RFC 7296 2.3 節: ウィンドウが 1 なら前の要求の応答を待ってから次を送る。SET_WINDOW_SIZE がネゴシエートされていれば推論しません)。",
        why_it_fails: "失敗ではありません。応答は要求側に届いており、キャプチャ地点がそれを取りこぼしています (途中から始まった・途中で止まったキャプチャ、フィルタ、パケットを落とすミラーポート、非対称ルーティング)。そのため、この交換は応答なしとは判定しません。",
        evidence: "応答のない要求と、その応答が届いたことを示す後のメッセージ。",
        likely_causes: "戻り方向を外すキャプチャフィルタや別経路、パケットを落とす負荷の高いキャプチャホスト、結合や切断されたファイル。",
        how_to_fix: "VPN 側の対処は不要です。全体を見るには、IKE のポートより狭いフィルタを使わずにピア自身でキャプチャし、キャプチャのドロップ数を確認してください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        for x in &sa.exchanges {
            let (Some(proof), Some(req)) = (x.implied_answer, x.first_request()) else {
                continue;
            };
            let frames: Vec<u64> = x
                .requests()
                .map(|m| m.frame)
                .chain(std::iter::once(proof))
                .collect();
            let reqs: Vec<u64> = x.requests().map(|m| m.frame).collect();
            let (why, why_ja) = if x.exchange_type == super::exch::IKE_SA_INIT {
                (
                    "carries the responder's SPI, which only the IKE_SA_INIT response could have given it",
                    "IKE_SA_INIT の応答からしか得られないレスポンダの SPI を含んでいます",
                )
            } else {
                (
                    "is its next request (a higher message ID), which it sends only after the answer",
                    "応答を受け取ってから送る次の要求 (より大きいメッセージ ID) です",
                )
            };
            e.emit(
                Draft::new(
                    Severity::Info,
                    format!(
                        "The {} request from {} ({}) has no response in the capture, yet {} got one: its message at frame {proof} \
                         {why}. The capture point missed the answer; this is not a loss on the path",
                        x.name,
                        req.src,
                        frame_list(&reqs),
                        req.src.addr,
                    ),
                    frames,
                )
                .ja(format!(
                    "{} からの {} 要求 ({}) の応答はキャプチャにありませんが、{} は応答を受け取っています: フレーム {proof} のメッセージは{why_ja}。キャプチャ地点が応答を取りこぼしたもので、経路上の損失ではありません",
                    req.src,
                    x.name,
                    super::frame_list_ja(&reqs),
                    req.src.addr,
                ))
                .sa(sa)
                .confidence(Confidence::Certain),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::rules::testkit::*;

    #[test]
    fn implied_init_answer_is_a_gap_not_a_loss() {
        // IKE_SA_INIT with no response, then IKE_AUTH carrying the SPI.
        let mut sa = sa_v2(Side::Initiator);
        push(&mut sa, 34, 0, Dir::Request, 1, 0.0, 500);
        push(&mut sa, 35, 1, Dir::Request, 2, 0.5, 300);
        let a = analysis(vec![sa]);
        let f = run("capture-gap", &a);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].frames, vec![1, 2]);
        assert!(
            run("ike-no-response", &a)
                .iter()
                .all(|f| f.exchange.as_deref() != Some("IKE_SA_INIT"))
        );
    }

    #[test]
    fn unanswered_without_later_proof_is_no_gap() {
        let mut sa = sa_v2(Side::Initiator);
        push(&mut sa, 34, 0, Dir::Request, 1, 0.0, 500);
        push(&mut sa, 34, 0, Dir::Request, 2, 0.5, 500);
        let a = analysis(vec![sa]);
        assert!(run("capture-gap", &a).is_empty());
        assert_eq!(run("ike-no-response", &a).len(), 1);
    }
}
