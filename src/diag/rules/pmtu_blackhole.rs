//! NET007 `pmtu-blackhole`: packets with DF set, larger than the path MTU,
//! vanish and no ICMP fragmentation-needed / packet-too-big comes back.

use super::{fixes, largest_unfragmented, pending};
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity, bytes};
use crate::session::Analysis;
use crate::wire::icmp::ErrorKind;

pub(crate) static RULE: Rule = Rule {
    code: "NET007",
    name: "pmtu-blackhole",
    severity: Severity::Error,
    summary: "Large packets with DF set vanish and no ICMP 'fragmentation needed' comes back",
    doc: RuleDoc {
        detects: "A request sent unfragmented with DF set (IPv6 never fragments in routers), larger \
                  than the smaller packets that did get answered, retransmitted and never \
                  answered, with no ICMP fragmentation-needed or packet-too-big in the capture.",
        why_it_fails: "A link on the path has a smaller MTU; the router there drops the packet and \
                       should send ICMP 'fragmentation needed' (RFC 1191) or 'packet too big' \
                       (RFC 8201), but that ICMP is filtered, so the sender never learns to send \
                       smaller packets.",
        evidence: "The lost large packets, the largest packet that crossed, and the absence of ICMP.",
        likely_causes: "A tunnel, PPPoE or MAP-E link on the path; a firewall that drops all ICMP.",
        how_to_fix: "Let ICMP type 3 code 4 (and ICMPv6 type 2) through; lower the MTU on the sender; \
                     for IKE enable IKEv2 fragmentation with a fragment size below the path MTU.",
    },
    summary_ja: "DF 付きの大きなパケットが消え、ICMP fragmentation needed が返らない",
    doc_ja: RuleDoc {
        detects: "DF 付きでフラグメント化されずに送られた要求 (IPv6 はルータでフラグメント化されない) で、応答のあった小さなパケットより大きく、再送されても応答がなく、キャプチャに ICMP fragmentation needed / packet too big がない場合。",
        why_it_fails: "経路上のリンクの MTU が小さく、そこでルータがパケットを破棄して ICMP fragmentation needed (RFC 1191) や packet too big (RFC 8201) を送るはずが、その ICMP が遮断されているため、送信側は小さいパケットを送るべきことを知ることができません。",
        evidence: "失われた大きなパケット、通過した最大のパケット、ICMP がないこと。",
        likely_causes: "経路上のトンネル・PPPoE・MAP-E のリンク、すべての ICMP を破棄するファイアウォール。",
        how_to_fix: "ICMP タイプ 3 コード 4 (と ICMPv6 タイプ 2) を通してください。送信側の MTU を下げ、IKE では経路 MTU 未満のフラグメントサイズで IKEv2 フラグメンテーションを有効にしてください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        let frag_needed = super::icmp_for(a, sa).any(|i| i.kind == ErrorKind::FragmentationNeeded);
        if frag_needed {
            continue;
        }
        for p in pending(sa) {
            let first = p.first();
            if p.fragmented() || !first.dont_fragment || p.sends.len() < 2 {
                continue;
            }
            let hdr = if first.src.addr.is_ipv6() { 40 } else { 20 };
            let lost = p.max_len() + hdr;
            let Some((crossed, crossed_frame)) =
                largest_unfragmented(a, first.src.addr, first.dst.addr).filter(|(c, _)| *c < lost)
            else {
                continue;
            };
            // Only packets that are large by any standard: small losses are port or daemon problems.
            if lost < 1280 {
                continue;
            }
            let natt = first.transport != crate::decode::Transport::Udp;
            let msg = format!(
                "The {} is a {}-byte IP packet with DF set; it was sent {} times and never answered, and no ICMP \
                 'fragmentation needed' came back, while a {}-byte packet to the same peer got through (frame {}): \
                 the path MTU is between {} and {} bytes and the ICMP that should say so is filtered. Send IKE packets \
                 of at most {crossed} bytes (IKEv2 fragmentation), let ICMP through, and keep tunnel packets under the path MTU",
                p.what(sa),
                bytes(u64::from(lost)),
                p.sends.len(),
                bytes(u64::from(crossed)),
                crossed_frame,
                crossed,
                lost - 1
            );
            let mut fix = fixes::ikev2_fragmentation(crossed);
            if let Some(l) = fixes::limits(crossed, natt, first.src.addr.is_ipv6()) {
                fix.extend(fixes::mtu_mss(&l));
            }
            let mut frames = p.all_frames.clone();
            frames.push(crossed_frame);
            e.emit(
                Draft::new(Severity::Error, msg, frames)
                    .ja(format!(
                        "{} は DF 付きの {} バイトの IP パケットで、{} 回送られても応答がなく、ICMP fragmentation needed も返っていません。一方、同じ相手への {} バイトのパケットは通っています (フレーム {}): 経路 MTU は {}〜{} バイトで、それを知らせるはずの ICMP が遮断されています。IKE パケットを {crossed} バイト以下にし (IKEv2 フラグメンテーション)、ICMP を通し、トンネルのパケットを経路 MTU 未満に保ってください",
                        p.what_ja(sa),
                        bytes(u64::from(lost)),
                        p.sends.len(),
                        bytes(u64::from(crossed)),
                        crossed_frame,
                        crossed,
                        lost - 1
                    ))
                    .sa(sa)
                    .exchange(p.exchange.name.clone())
                    .confidence(Confidence::Likely)
                    .fix(fix),
            );
        }
    }
}
