//! NET005 `ip-fragments-lost`: an IP fragment set of an IKE message is
//! incomplete, or a fragmented message is retransmitted and never answered.

use super::{frame_list, frame_list_ja, pending};
use crate::defrag::MissingRange;
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, bytes};
use crate::session::Analysis;
use crate::wire::icmp::ErrorKind;

pub(crate) static RULE: Rule = Rule {
    code: "NET005",
    name: "ip-fragments-lost",
    severity: Severity::Error,
    summary: "IP fragments of IKE messages are lost on the path",
    doc: RuleDoc {
        detects: "An IP fragment set carrying IKE that never completed (which byte ranges are \
                  missing, whether the first fragment arrived), a fragmented IKE message that is \
                  retransmitted without ever being answered, or ICMP 'fragment reassembly time \
                  exceeded' from the receiver quoting IKE.",
        why_it_fails: "A message missing one fragment is lost whole; retransmissions are fragmented \
                       the same way and are lost the same way, so the exchange never completes.",
        evidence: "The fragments that arrived, the missing ranges, the unanswered transmissions, \
                   and ICMP reassembly errors.",
        likely_causes: "Firewalls or NATs that drop non-first fragments (they carry no ports), \
                        mobile and tethering networks, some DSL/PPPoE routers and cloud load \
                        balancers that drop all fragments.",
        how_to_fix: "Enable IKEv2 fragmentation (RFC 7383) on both peers so IKE never relies on IP \
                     fragments; or make the messages smaller (fewer/shorter certificates, no \
                     intermediate CA in the payload); see mtu-blackhole for the numbers.",
    },
    summary_ja: "IKE メッセージの IP フラグメントが経路上で失われている",
    doc_ja: RuleDoc {
        detects: "IKE を運ぶ IP フラグメントのセットが揃わなかった (欠けているバイト範囲、先頭フラグメントが届いたか)、フラグメント化された IKE メッセージが応答のないまま再送されている、または受信側から IKE を引用した ICMP「フラグメント再構成時間超過」が返った。",
        why_it_fails: "フラグメントが 1 つでも欠けるとメッセージ全体が失われます。再送も同じようにフラグメント化されて同じように失われるため、交換が完了しません。",
        evidence: "届いたフラグメント、欠けている範囲、応答のない送信、ICMP の再構成エラー。",
        likely_causes: "2 番目以降のフラグメント (ポート番号を持たない) を破棄するファイアウォールや NAT、モバイル回線やテザリング、一部の DSL/PPPoE ルータやすべてのフラグメントを破棄するクラウドのロードバランサ。",
        how_to_fix: "両ピアで IKEv2 フラグメンテーション (RFC 7383) を有効にし、IKE が IP フラグメントに頼らないようにしてください。あるいはメッセージを小さくしてください (証明書を減らす・短くする、中間 CA をペイロードに含めない)。数値は mtu-blackhole を参照してください。",
    },
    check,
};

fn ranges(missing: &[MissingRange]) -> String {
    let v: Vec<String> = missing
        .iter()
        .map(|r| match r.end {
            Some(end) => format!("bytes {}-{}", r.start, end),
            None => format!("bytes {} to the end", r.start),
        })
        .collect();
    v.join(", ")
}

fn ranges_ja(missing: &[MissingRange]) -> String {
    let v: Vec<String> = missing
        .iter()
        .map(|r| match r.end {
            Some(end) => format!("{}〜{} バイト", r.start, end),
            None => format!("{} バイト目以降", r.start),
        })
        .collect();
    v.join("、")
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    // Incomplete sets, one finding each.
    for f in &a.incomplete_fragments {
        let is_ike = f.ike.is_some()
            || f.sa.is_some()
            || matches!(f.udp_ports, Some((500 | 4500, _)) | Some((_, 500 | 4500)));
        if !is_ike {
            continue;
        }
        let what = match &f.ike {
            Some(i) => format!(
                "an IKE message (exchange {}, message ID {}, {})",
                i.exchange_type,
                i.message_id,
                if i.is_response { "response" } else { "request" }
            ),
            None if f.has_first => "an IKE message".to_string(),
            None => "a datagram between the IKE peers (first fragment missing)".to_string(),
        };
        let mut d = Draft::new(
            Severity::Error,
            format!(
                "IP fragments of {what} from {} to {} never completed: {} held from {}, missing {}{}",
                f.src,
                f.dst,
                bytes(u64::from(f.bytes_held)),
                frame_list(&f.frames),
                ranges(&f.missing),
                if f.has_first {
                    ""
                } else {
                    "; the first fragment never arrived"
                }
            ),
            f.frames.clone(),
        );
        let what_ja = match &f.ike {
            Some(i) => format!(
                "IKE メッセージ (交換 {}、メッセージ ID {}、{})",
                i.exchange_type,
                i.message_id,
                if i.is_response { "応答" } else { "要求" }
            ),
            None if f.has_first => "IKE メッセージ".to_string(),
            None => "IKE ピア間のデータグラム (先頭フラグメントなし)".to_string(),
        };
        d = d.ja(format!(
            "{} から {} への{what_ja}の IP フラグメントが揃いませんでした: {} から {} バイトを受信、欠けているのは {}{}",
            f.src,
            f.dst,
            frame_list_ja(&f.frames),
            bytes(u64::from(f.bytes_held)),
            ranges_ja(&f.missing),
            if f.has_first { "" } else { "。先頭のフラグメントが一度も届いていません" }
        ));
        if let Some(sa) = f.sa.and_then(|s| a.sas.get(s)) {
            d = d.sa(sa).fix(super::fixes::ikev2_fragmentation(
                super::fixes::ike_packet_limit(a, sa).0,
            ));
        }
        e.emit(d);
    }
    // Fragmented requests never answered, with ICMP reassembly errors.
    for sa in &a.sas {
        let reasm: Vec<u64> = super::icmp_for(a, sa)
            .filter(|i| i.kind == ErrorKind::TimeExceeded && i.code == 1)
            .map(|i| i.frame)
            .collect();
        for p in pending(sa) {
            if !p.fragmented() || p.sends.len() < 2 {
                continue;
            }
            let first = p.first();
            let mut msg = format!(
                "The {} ({} bytes, {} IP fragments) was sent {} times and never answered: its fragments do not get through",
                p.what(sa),
                bytes(u64::from(first.length)),
                first.ip_fragments,
                p.sends.len()
            );
            if !reasm.is_empty() {
                msg.push_str(&format!(
                    "; {} answered with ICMP 'fragment reassembly time exceeded' ({}): it received the first fragment but not the rest, so non-first fragments are dropped",
                    first.dst.addr,
                    frame_list(&reasm)
                ));
            }
            let mut ja = format!(
                "{} ({} バイト、{} 個の IP フラグメント) は {} 回送られましたが一度も応答がありません: フラグメントが届いていません",
                p.what_ja(sa),
                bytes(u64::from(first.length)),
                first.ip_fragments,
                p.sends.len()
            );
            if !reasm.is_empty() {
                ja.push_str(&format!(
                    "。{} が ICMP「フラグメント再構成時間超過」を返しています ({}): 先頭のフラグメントは届いたが残りが届いていない、つまり 2 番目以降のフラグメントが破棄されています",
                    first.dst.addr,
                    frame_list_ja(&reasm)
                ));
            }
            let mut frames = p.all_frames.clone();
            frames.extend(&reasm);
            e.emit(
                Draft::new(Severity::Error, msg, frames)
                    .ja(ja)
                    .sa(sa)
                    .exchange(p.exchange.name.clone())
                    .fix(super::fixes::ikev2_fragmentation(
                        super::fixes::ike_packet_limit(a, sa).0,
                    )),
            );
        }
    }
}
