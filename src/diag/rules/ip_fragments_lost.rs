//! NET005 `ip-fragments-lost`: an IP fragment set of an IKE message is
//! incomplete, or a fragmented message is retransmitted and never answered.

use super::{frame_list, frame_list_ja, pending};
use crate::defrag::MissingRange;
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity, bytes, secs};
use crate::session::{Analysis, IncompleteFact, MessageFact};
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
                  exceeded' from the receiver quoting IKE. A loss the peers recovered from (a later copy got through and the SA came up) is a Warning with \
                  its delay and, where the sizes show it, the path MTU behind it; request fragments missing from \
                  the capture while the answer is there are a capture gap (Info), not a loss on the path. Sets \
                  the capture itself cut are left out: still open when the capture ended right after them \
                  (capture-cut-short), or with fragments the snaplen cut (capture-truncated-packets).",
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
        detects: "IKE を運ぶ IP フラグメントのセットが揃わなかった (欠けているバイト範囲、先頭フラグメントが届いたか)、フラグメント化された IKE メッセージが応答のないまま再送されている、または受信側から IKE を引用した ICMP「フラグメント再構成時間超過」が返った。 回復した損失 (後の再送が届き SA が確立した) はその遅れとともに警告として、応答があるのにキャプチャに欠けている要求のフラグメントはキャプチャの取りこぼし (情報) として報告します。キャプチャ自体が切ったセットは除きます: 最後のフラグメントの直後にキャプチャが終わってまだ揃っていなかったもの (capture-cut-short)、スナップ長でフラグメントが切れたもの (capture-truncated-packets)。",
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

/// What became of an incomplete fragment set, judged from what follows it.
enum Fate<'a> {
    /// A later complete message took the same way and the SA came up: the
    /// loss cost a retransmission. The message that got through.
    Recovered(&'a MessageFact),
    /// A request whose answer is in the capture (and no complete copy of
    /// it before that answer): the request arrived, the capture point
    /// missed fragments. The answer.
    MissedByCapture(&'a MessageFact),
    /// Nothing shows it arrived.
    Lost,
}

fn fate<'a>(
    a: &'a Analysis,
    f: &IncompleteFact,
    by_sa: &mut std::collections::HashMap<usize, Vec<&'a MessageFact>>,
) -> Fate<'a> {
    let Some(sa) = f.sa.and_then(|s| a.sas.get(s)) else {
        return Fate::Lost;
    };
    // Each SA's messages in capture order, sorted once for all its sets.
    let msgs: &Vec<&MessageFact> = by_sa.entry(sa.index).or_insert_with(|| sa.messages());
    // The first message the receiver sent back after the set.
    let answer = msgs
        .iter()
        .find(|m| m.src.addr == f.dst && m.dst.addr == f.src && m.ts_ns >= f.first_ts_ns);
    let same_way_before = |t: i64| {
        msgs.iter().any(|m| {
            m.src.addr == f.src
                && m.dst.addr == f.dst
                && !m.is_response
                && m.ts_ns >= f.first_ts_ns
                && m.ts_ns <= t
        })
    };
    if let Some(ans) = answer
        && ans.is_response
        && f.ike.as_ref().is_none_or(|i| !i.is_response)
        && ans.ts_ns - f.last_ts_ns <= 5_000_000_000
        && !same_way_before(ans.ts_ns)
        && super::exchange_of(sa, ans.frame)
            .is_some_and(|x| x.requests().all(|r| r.ts_ns < f.first_ts_ns))
    {
        return Fate::MissedByCapture(ans);
    }
    if super::authenticated(sa)
        && let Some(later) = msgs
            .iter()
            .find(|m| m.src.addr == f.src && m.dst.addr == f.dst && m.ts_ns > f.last_ts_ns)
    {
        return Fate::Recovered(later);
    }
    Fate::Lost
}

/// The size of the IP packet that carried the missing first fragment, when
/// only it is missing: the data before the first offset that arrived plus
/// the IP header (and the IPv6 Fragment header).
fn lost_first_fragment_len(f: &IncompleteFact) -> Option<u32> {
    if f.has_first {
        return None;
    }
    let r = f.missing.first()?;
    let end = r.end?;
    if r.start != 0 {
        return None;
    }
    let hdr = if f.src.is_ipv6() { 48 } else { 20 };
    Some(end + hdr)
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    // Incomplete sets, one finding per lost message (its transmissions
    // grouped), a Warning per recovered loss, an Info per capture gap; not
    // those the capture itself cut (its end, its snaplen: capture-cut-short,
    // capture-truncated-packets).
    let mut lost: Vec<(&IncompleteFact, Vec<&IncompleteFact>)> = Vec::new();
    let mut by_sa = std::collections::HashMap::new();
    for f in &a.incomplete_fragments {
        if !super::is_ike_fragment_set(f) || super::fragments_cut_by_capture(a, f) {
            continue;
        }
        match fate(a, f, &mut by_sa) {
            Fate::Lost => {
                let key = |g: &IncompleteFact| {
                    (
                        g.sa,
                        g.src,
                        g.dst,
                        g.ike
                            .as_ref()
                            .map(|i| (i.exchange_type, i.message_id, i.is_response)),
                    )
                };
                match lost.iter_mut().find(|(head, _)| key(head) == key(f)) {
                    Some((_, rest)) => rest.push(f),
                    None => lost.push((f, Vec::new())),
                }
            }
            Fate::Recovered(later) => recovered(a, e, f, later),
            Fate::MissedByCapture(ans) => missed(a, e, f, ans),
        }
    }
    for (f, rest) in lost {
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
        let times = if rest.is_empty() {
            String::new()
        } else {
            format!(
                "; the same happened to {} more transmission(s) of it (frames {})",
                rest.len(),
                rest.iter()
                    .flat_map(|g| g.frames.iter())
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let times_ja = if rest.is_empty() {
            String::new()
        } else {
            format!("。同じメッセージの他の {} 回の送信も同様です", rest.len())
        };
        let mut frames = f.frames.clone();
        frames.extend(rest.iter().flat_map(|g| g.frames.iter().copied()));
        let mut d = Draft::new(
            Severity::Error,
            format!(
                "IP fragments of {what} from {} to {} never completed: {} held from {}, missing {}{}{times}",
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
            frames,
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
            "{} から {} への{what_ja}の IP フラグメントが揃いませんでした: {} から {} バイトを受信、欠けているのは {}{}{times_ja}",
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
            if let Some(i) = &f.ike
                && let Some(x) = sa
                    .exchanges
                    .iter()
                    .find(|x| x.exchange_type == i.exchange_type && x.message_id == i.message_id)
            {
                d = d.exchange(x.name.clone());
            }
        }
        e.emit(d);
    }
    // Fragmented answers the requester asked for again and again before
    // one got through (seen where the answers are sent).
    for sa in &a.sas {
        for l in super::lost_answers(sa) {
            let (Some(proof), true, Some(resp)) = (l.recovered, l.fragmented(), l.first_response())
            else {
                continue;
            };
            let delay = l.delay_ns(sa).unwrap_or(0);
            let (seen, seen_ja, _) = super::lost_answer_vantage(sa, &l);
            e.emit(
                Draft::new(
                    Severity::Warning,
                    format!(
                        "The {} response ({} bytes, {} IP fragments) was sent {} times and {} asked again {} before one \
                         got through (frame {proof} shows it had it, {} after the first request): fragments of the \
                         earlier copies were lost. {seen}",
                        l.exchange.name,
                        bytes(u64::from(resp.length)),
                        resp.ip_fragments,
                        l.responses.len(),
                        resp.dst.addr,
                        super::super::plural(l.repeats.len(), "time"),
                        secs(delay),
                    ),
                    l.frames(),
                )
                .ja(format!(
                    "{} 応答 ({} バイト、{} 個の IP フラグメント) は {} 回送られ、{} は届くまでに {} 回要求を繰り返しました (フレーム {proof} で受け取ったことが分かります、最初の要求の {} 後): それ以前の応答のフラグメントが失われています。{seen_ja}",
                    l.exchange.name,
                    bytes(u64::from(resp.length)),
                    resp.ip_fragments,
                    l.responses.len(),
                    resp.dst.addr,
                    l.repeats.len(),
                    secs(delay),
                ))
                .sa(sa)
                .fix(super::fixes::ikev2_fragmentation(
                    super::fixes::ike_packet_limit(a, sa).0,
                )),
            );
        }
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

/// A loss the peers got over: a later message took the same way and the
/// SA came up. Warning: it cost a retransmission and time.
fn recovered(a: &Analysis, e: &mut Emitter<'_>, f: &IncompleteFact, later: &MessageFact) {
    let delay = later.ts_ns - f.first_ts_ns;
    // Why: the lost first fragment was larger than anything that crossed.
    let largest_later = a
        .fragment_sizes
        .iter()
        .filter(|(src, _, frame)| {
            *src == f.src && *frame >= later.frames.first().copied().unwrap_or(0)
        })
        .map(|(_, size, _)| *size)
        .max();
    let (why, why_ja) = match (lost_first_fragment_len(f), largest_later) {
        (Some(lost), Some(ok)) if lost > ok => (
            format!(
                "; the lost first fragment was a {}-byte packet and the copy that got through was sent in fragments of \
                 at most {} bytes: {} learned a smaller path MTU on the way to {} (an ICMP \"too big\" it received) and \
                 re-fragmented, so the path MTU on this return path is below {}",
                bytes(u64::from(lost)),
                bytes(u64::from(ok)),
                f.src,
                f.dst,
                bytes(u64::from(lost))
            ),
            format!(
                "。失われた先頭フラグメントは {} バイトのパケットで、届いた再送は {} バイト以下のフラグメントで送られています: {} が {} への経路の小さい MTU を (受け取った ICMP「too big」で) 知り、分割し直したので、この戻りの経路の MTU は {} バイト未満です",
                bytes(u64::from(lost)),
                bytes(u64::from(ok)),
                f.src,
                f.dst,
                bytes(u64::from(lost))
            ),
        ),
        _ => (
            "; a fragment dropped once (a path MTU the sender had not learned yet, or a transient loss)".to_string(),
            "。フラグメントが一度破棄されています (送信側がまだ知らなかった経路 MTU、または一時的な損失)".to_string(),
        ),
    };
    let mut frames = f.frames.clone();
    frames.extend(later.frames.iter().copied());
    let mut d = Draft::new(
        Severity::Warning,
        format!(
            "IP fragments of a message from {} to {} were lost (held {} from {}, missing {}), and a later copy got through \
             at frame {}, {} later: the loss was recovered and cost a retransmission{why}",
            f.src,
            f.dst,
            bytes(u64::from(f.bytes_held)),
            frame_list(&f.frames),
            ranges(&f.missing),
            later.frame,
            secs(delay),
        ),
        frames,
    )
    .ja(format!(
        "{} から {} へのメッセージの IP フラグメントが失われましたが ({} に {} バイト、欠けているのは {})、フレーム {} で {} 後に再送が届きました: 損失は回復し、再送 1 回分の遅れで済んでいます{why_ja}",
        f.src,
        f.dst,
        frame_list_ja(&f.frames),
        bytes(u64::from(f.bytes_held)),
        ranges_ja(&f.missing),
        later.frame,
        secs(delay),
    ))
    .confidence(Confidence::Certain);
    if let Some(sa) = f.sa.and_then(|s| a.sas.get(s)) {
        d = d.sa(sa).fix(super::fixes::ikev2_fragmentation(
            super::fixes::ike_packet_limit(a, sa).0,
        ));
    }
    e.emit(d);
}

/// A request's fragments missing from the capture although its answer is
/// there: the capture point missed them (Info, not a loss on the path).
fn missed(a: &Analysis, e: &mut Emitter<'_>, f: &IncompleteFact, ans: &MessageFact) {
    let mut frames = f.frames.clone();
    frames.push(ans.frame);
    let mut d = Draft::new(
        Severity::Info,
        format!(
            "IP fragments of a request from {} to {} are missing from the capture ({} held from {}, missing {}), yet {} \
             answered it at frame {}{}: the request arrived whole, so the capture point missed the fragments (a busy \
             capture, a mirror port, a filter); this is not a loss on the path",
            f.src,
            f.dst,
            bytes(u64::from(f.bytes_held)),
            frame_list(&f.frames),
            ranges(&f.missing),
            f.dst,
            ans.frame,
            super::decrypted_note(ans),
        ),
        frames,
    )
    .ja(format!(
        "{} から {} への要求の IP フラグメントがキャプチャに欠けていますが ({} に {} バイト、欠けているのは {})、{} はフレーム {} で応答しています{}: 要求は完全に届いており、キャプチャ地点がフラグメントを取りこぼしたものです (経路上の損失ではありません)",
        f.src,
        f.dst,
        frame_list_ja(&f.frames),
        bytes(u64::from(f.bytes_held)),
        ranges_ja(&f.missing),
        f.dst,
        ans.frame,
        super::decrypted_note_ja(ans),
    ))
    .confidence(if ans.decrypted { Confidence::Certain } else { Confidence::Likely });
    if let Some(sa) = f.sa.and_then(|s| a.sas.get(s)) {
        d = d.sa(sa);
    }
    e.emit(d);
}
