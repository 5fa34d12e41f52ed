//! NAT001 `nat-detected`: NAT between the peers, which side, and whether
//! NAT traversal is in use.

use crate::decode::Transport;
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "NAT001",
    name: "nat-detected",
    severity: Severity::Info,
    summary: "A NAT sits between the peers",
    doc: RuleDoc {
        detects: "NAT detection payloads (RFC 7296 section 2.23 NAT_DETECTION_*_IP, RFC 3947 NAT-D) \
                  whose hashes, recomputed from the addresses and ports in the capture, do not match: \
                  the address of the initiator, the responder or both is rewritten on the way. Seen \
                  where the initiator's packets were routed before the capture (at the responder, in between), an \
                  initiator source hash that matches nothing could also \
                  be made up (see `nat-detection-faked`); there the initiator's own address is searched \
                  for among the private and shared ranges, and the NAT is reported only when it is \
                  found, with the address it maps.",
        why_it_fails: "It does not by itself: with NAT traversal, IKE moves to UDP 4500 and ESP is \
                       carried in UDP. It explains why UDP 4500 must be open.",
        evidence: "The NAT-D payloads and which comparison failed; seen from the responder's side, \
                   the initiator's private address and port its hash was computed over.",
        likely_causes: "A home router, a mobile carrier or a CGNAT in front of one peer; a cloud VM \
                        with a 1:1 NAT public address.",
        how_to_fix: "Nothing to fix; make sure UDP 4500 is open and NAT keepalives are on.",
    },
    summary_ja: "ピア間に NAT がある",
    doc_ja: RuleDoc {
        detects: "NAT 検出ペイロード (RFC 7296 2.23 節の NAT_DETECTION_*_IP、RFC 3947 の NAT-D) のハッシュを、キャプチャ上のアドレスとポートから計算し直すと一致しない: イニシエータ、レスポンダ、またはその両方のアドレスが途中で書き換えられている。イニシエータのパケットがキャプチャ地点までにルーティングされている場合 (レスポンダ側、途中) は、どれにも一致しないイニシエータの送信元ハッシュは偽装の可能性もあるため (`nat-detection-faked` を参照)、プライベートおよび共有アドレス範囲からイニシエータ自身のアドレスを探索し、見つかった場合にだけ、変換されたアドレスとともに NAT を報告する。",
        why_it_fails: "それ自体は問題ではありません。NAT トラバーサルにより IKE は UDP 4500 に移り、ESP は UDP でカプセル化されます。UDP 4500 を開けておく必要がある理由になります。",
        evidence: "NAT-D ペイロードと、どの比較が一致しなかったか。レスポンダ側から見た場合は、ハッシュの計算に使われたイニシエータのプライベートアドレスとポート。",
        likely_causes: "一方のピアの前にあるホームルータ、モバイルキャリア、CGNAT、1 対 1 NAT のパブリックアドレスを持つクラウドの VM。",
        how_to_fix: "対処は不要です。UDP 4500 が開いていて、NAT キープアライブが有効であることを確認してください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        let n = &sa.nat;
        if !(n.initiator_behind_nat || n.responder_behind_nat) {
            continue;
        }
        // The initiator's own address, when its source hash gave it away.
        let recovered = n
            .initiator_source_search
            .as_ref()
            .filter(|_| n.initiator_behind_nat)
            .and_then(|s| Some((s.found?, s)));
        let (ini, ini_ja) = match recovered {
            Some((own, s)) => (
                format!("behind a NAT that maps {own} to {}", s.seen),
                format!("{own} を {} に変換する NAT の背後", s.seen),
            ),
            None => (
                format!("({}) is behind NAT", sa.initiator.addr),
                format!("({}) が NAT の背後", sa.initiator.addr),
            ),
        };
        let side = match (n.initiator_behind_nat, n.responder_behind_nat, recovered) {
            (true, true, Some(_)) => format!(
                "both the initiator ({ini}) and the responder ({}) are behind NAT",
                sa.responder.addr
            ),
            (true, true, None) => format!(
                "both the initiator ({}) and the responder ({}) are behind NAT",
                sa.initiator.addr, sa.responder.addr
            ),
            (true, false, Some(_)) => format!("the initiator is {ini}"),
            (true, false, None) => format!("the initiator {ini}"),
            _ => format!("the responder ({}) is behind NAT", sa.responder.addr),
        };
        let natt = sa
            .messages()
            .iter()
            .any(|m| m.transport == Transport::UdpNatt)
            || a.esp_flows.iter().any(|f| f.udp_ports.is_some());
        let side_ja = match (n.initiator_behind_nat, n.responder_behind_nat, recovered) {
            (true, true, Some(_)) => format!(
                "イニシエータ ({ini_ja}) とレスポンダ ({}) の両方が NAT の背後にあります",
                sa.responder.addr
            ),
            (true, true, None) => format!(
                "イニシエータ ({}) とレスポンダ ({}) の両方が NAT の背後にあります",
                sa.initiator.addr, sa.responder.addr
            ),
            (true, false, Some(_)) => format!("イニシエータは {ini_ja}にあります"),
            (true, false, None) => format!("イニシエータ {ini_ja}にあります"),
            _ => format!("レスポンダ ({}) が NAT の背後にあります", sa.responder.addr),
        };
        let (how, how_ja) = match recovered {
            Some((own, s)) => {
                let payload = if sa.version == 1 {
                    "NAT-D payload"
                } else {
                    "NAT_DETECTION_SOURCE_IP"
                };
                let payload_ja = if sa.version == 1 {
                    "NAT-D ペイロード"
                } else {
                    "NAT_DETECTION_SOURCE_IP"
                };
                (
                    format!(
                        "NAT detection says {side}: the initiator's {payload} (frame {}) is the {} hash of {own}, \
                         found by searching the private address ranges",
                        s.frame, s.hash
                    ),
                    format!(
                        "NAT 検出によると、{side_ja}: イニシエータの {payload_ja} (フレーム {}) は {own} の {} ハッシュで、\
                         プライベートアドレス範囲の探索で見つかりました",
                        s.frame, s.hash
                    ),
                )
            }
            None => (
                format!("NAT detection (recomputed from the addresses in the capture) says {side}"),
                format!("NAT 検出 (キャプチャ上のアドレスから再計算) によると、{side_ja}"),
            ),
        };
        // Only the recovered address depends on where the capture sits.
        let (reading, reading_ja) = if recovered.is_some() {
            (
                "the initiator's packets reach this point routed, after the NAT; its hash names the address it \
                 had before it",
                "イニシエータのパケットはルーティングされて NAT の後でこの地点に届いています。ハッシュは NAT の前のアドレスを示しています",
            )
        } else {
            ("", "")
        };
        let ja = format!(
            "{how_ja}。{}",
            if natt {
                "NAT トラバーサルを使用中です (IKE と ESP は UDP 4500)"
            } else {
                "NAT トラバーサル (UDP 4500) の使用はまだ見えていません"
            }
        );
        e.emit(
            Draft::new(
                Severity::Info,
                format!(
                    "{how}; {}",
                    if natt {
                        "NAT traversal is in use (IKE and ESP on UDP 4500)"
                    } else {
                        "NAT traversal (UDP 4500) is not seen in use yet"
                    }
                ),
                n.frames.clone(),
            )
            .ja(ja)
            .sa(sa)
            .seen_from(reading, reading_ja),
        );
    }
}
