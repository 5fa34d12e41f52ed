//! NAT003 `nat-detection-faked`: the initiator fakes NAT detection to force
//! UDP encapsulation; certain when seen from its side, and one of two
//! readings (a NAT whose inside address the search did not find) where its
//! packets were routed before the capture (at the responder, in between).

use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity, bytes};
use crate::session::nat::{SearchStop, SourceSearch};
use crate::session::{Analysis, IkeSa};

pub(crate) static RULE: Rule = Rule {
    code: "NAT003",
    name: "nat-detection-faked",
    severity: Severity::Info,
    summary: "The initiator fakes NAT detection to force UDP encapsulation",
    doc: RuleDoc {
        detects: "The initiator's NAT_DETECTION_SOURCE_IP matches none of its addresses while the \
                  responder saw the initiator's real address and port: there is no NAT, but the \
                  initiator pretends there is (strongSwan `encap = yes`, libreswan \
                  `encapsulation=yes`). Seen from the initiator's side (its packets unrouted) this is certain. \
                  Where the initiator's packets were routed before the capture (at the responder, in \
                  between), a NAT would look the same, so ikediag searches \
                  the private and shared ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, \
                  100.64.0.0/10, ports 500, 4500 and the one seen, most likely first, within a fixed budget) for the \
                  address the hash was computed over; when nothing matches, it reports both readings: \
                  likely when every candidate was tried, possible when the search stopped at its budget.",
        why_it_fails: "It does not: it forces ESP into UDP 4500, usually on purpose to cross \
                       firewalls that block ESP.",
        evidence: "The IKE_SA_INIT NAT detection payloads and the addresses seen; from the responder's \
                   side, how many candidates the search tried.",
        likely_causes: "A configuration that forces UDP encapsulation; clients built on strongSwan's \
                        userspace IPsec (its Android app) always do it. From the responder's side \
                        only: a client behind a NAT whose own address or port lies outside the ranges \
                        searched.",
        how_to_fix: "Nothing to fix. If ESP (protocol 50) is allowed end to end, encapsulation can be \
                     turned off to save 8 bytes per packet. To tell the two readings apart, look at the \
                     client's configuration or log (strongSwan logs \"faking NAT situation to enforce UDP \
                     encapsulation\"), or capture at the client.",
    },
    summary_ja: "イニシエータが UDP カプセル化を強制するため NAT 検出を偽装している",
    doc_ja: RuleDoc {
        detects: "イニシエータの NAT_DETECTION_SOURCE_IP が自分のどのアドレスとも一致しないのに、レスポンダはイニシエータの実際のアドレスとポートを見ている: NAT はないが、イニシエータが NAT があるように装っている (strongSwan の `encap = yes`、libreswan の `encapsulation=yes`)。イニシエータ側 (パケットがルーティングされていない) から見た場合は確実です。イニシエータのパケットがキャプチャ地点までにルーティングされている場合 (レスポンダ側、途中) は NAT があっても同じに見えるため、ikediag はプライベートおよび共有アドレス範囲 (10.0.0.0/8、172.16.0.0/12、192.168.0.0/16、100.64.0.0/10、ポート 500、4500 と観測されたポート、可能性の高い順、決まった予算内) からハッシュの計算に使われたアドレスを探索し、何も一致しなければ 2 通りの解釈を示します: すべての候補を試した場合は likely、予算で探索を打ち切った場合は possible。",
        why_it_fails: "問題ではありません。ESP を UDP 4500 に入れるための設定で、ESP を遮断するファイアウォールを越えるために意図的に使われることが多いです。",
        evidence: "IKE_SA_INIT の NAT 検出ペイロードと、観測されたアドレス。レスポンダ側からは、探索で試した候補の数。",
        likely_causes: "UDP カプセル化を強制する設定。strongSwan のユーザ空間 IPsec を使うクライアント (Android アプリ) は常にこれを行います。レスポンダ側から見た場合のみ: 自分のアドレスかポートが探索範囲の外にある、NAT の背後のクライアント。",
        how_to_fix: "対処は不要です。ESP (IP プロトコル 50) がエンドツーエンドで通るなら、カプセル化を無効にしてパケットあたり 8 バイト節約できます。2 つの解釈を見分けるには、クライアントの設定かログ (strongSwan は「faking NAT situation to enforce UDP encapsulation」と記録します) を確認するか、クライアント側でキャプチャしてください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        if sa.nat.faked_by_initiator {
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
                .sa(sa)
                .seen_from(
                    "the initiator's packets reach this point unrouted, so the address in the capture is its own",
                    "イニシエータのパケットはルーティングされずにこの地点に届いているので、キャプチャ上のアドレスはイニシエータ自身のものです",
                ),
            );
        } else if let Some(s) = &sa.nat.initiator_source_search
            && s.found.is_none()
        {
            undecided(sa, s, e);
        }
    }
}

/// Seen where the initiator's packets were routed (at the responder, in
/// between) with no address found behind the hash: both readings.
fn undecided(sa: &IkeSa, s: &SourceSearch, e: &mut Emitter<'_>) {
    let payload = if sa.version == 1 {
        "NAT-D payload"
    } else {
        "NAT_DETECTION_SOURCE_IP"
    };
    let ports: Vec<String> = s.ports.iter().map(u16::to_string).collect();
    let ports = match ports.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => ports.join(""),
    };
    let ports_ja = s
        .ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join("、");
    let ranges = "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 and 100.64.0.0/10";
    let ranges_ja = "10.0.0.0/8、172.16.0.0/12、192.168.0.0/16、100.64.0.0/10";
    let (m, n) = (bytes(s.candidates), bytes(s.searched));
    let outside = (
        "outside those ranges and ports".to_string(),
        "それらの範囲とポートの外".to_string(),
    );
    let unsearched = (
        "among the candidates not searched, or outside those ranges and ports".to_string(),
        "探索しなかった候補の中、またはそれらの範囲とポートの外".to_string(),
    );
    // "…matches neither its address in the capture nor {nor}", and where
    // its own address could still be if it is behind a NAT.
    let (nor, nor_ja, (lies, lies_ja)) = match s.stopped {
        None => (
            format!("any of the {m} candidates searched ({ranges}, ports {ports})"),
            format!("探索した {m} 個の候補 ({ranges_ja}、ポート {ports_ja}) のどれ"),
            outside,
        ),
        Some(SearchStop::Budget) => (
            format!(
                "any of the first {n} of {m} candidates searched, most likely first ({ranges}, ports {ports}; \
                 the search stops there, at its budget per IKE SA)"
            ),
            format!(
                "可能性の高い順に探索した {m} 個中最初の {n} 個の候補 ({ranges_ja}、ポート {ports_ja}。探索は IKE SA あたりの予算でそこまでです) のどれ"
            ),
            unsearched,
        ),
        Some(SearchStop::CaptureBudget) if s.searched > 0 => (
            format!(
                "any of the first {n} of {m} candidates searched, most likely first ({ranges}, ports {ports}; \
                 earlier IKE SAs used most of the capture's search budget)"
            ),
            format!(
                "可能性の高い順に探索した {m} 個中最初の {n} 個の候補 ({ranges_ja}、ポート {ports_ja}。キャプチャの探索予算の大半は先の IKE SA が使いました) のどれ"
            ),
            unsearched,
        ),
        Some(SearchStop::CaptureBudget) => (
            "any address tried (its own address was not searched for: earlier IKE SAs used up the capture's \
             search budget)"
                .to_string(),
            "試したどのアドレス (自分のアドレスは探索していません。キャプチャの探索予算は先の IKE SA が使い切りました)"
                .to_string(),
            unsearched,
        ),
        Some(SearchStop::Ipv6) => (
            "any address tried (its own address cannot be searched for: it is IPv6)".to_string(),
            "試したどのアドレス (IPv6 なので自分のアドレスは探索できません)".to_string(),
            ("beyond what could be searched".to_string(), "探索できない範囲".to_string()),
        ),
        Some(SearchStop::UnsupportedHash) => (
            format!(
                "any address tried (its own address cannot be searched for: ikediag does not recompute {})",
                s.hash
            ),
            format!(
                "試したどのアドレス (ikediag は {} を再計算しないため自分のアドレスは探索できません)",
                s.hash
            ),
            ("beyond what could be searched".to_string(), "探索できない範囲".to_string()),
        ),
    };
    let confidence = if s.is_exhausted() {
        Confidence::Likely
    } else {
        Confidence::Possible
    };
    e.emit(
        Draft::new(
            Severity::Info,
            format!(
                "{} sent a {payload} (frame {}) that matches neither its address in the capture ({}) nor {nor}. \
                 Two readings: it fakes NAT detection to force UDP encapsulation (strongSwan encap=yes, strongSwan's \
                 Android app), or it is behind a NAT and its own address lies {lies}. The client's configuration or log (strongSwan logs \"faking NAT situation \
                 to enforce UDP encapsulation\"), or a capture at the client, decides it",
                s.seen.addr, s.frame, s.seen
            ),
            sa.nat.frames.clone(),
        )
        .ja(format!(
            "{} が送った {} (フレーム {}) は、キャプチャ上のアドレス ({}) にも、{nor_ja}にも一致しません。2 通りの解釈があります: UDP カプセル化を強制するために NAT 検出を偽装している (strongSwan の encap=yes、strongSwan の Android アプリ)、または NAT の背後にあり、自分のアドレスが{lies_ja}にある。クライアントの設定かログ (strongSwan は「faking NAT situation to enforce UDP encapsulation」と記録します)、またはクライアント側でのキャプチャで判別できます",
            s.seen.addr,
            if sa.version == 1 { "NAT-D ペイロード" } else { "NAT_DETECTION_SOURCE_IP" },
            s.frame,
            s.seen
        ))
        .confidence(confidence)
        .sa(sa)
        .seen_from(
            "the initiator's packets reach this point routed, so a NAT may lie on the way, and a made-up hash \
             looks the same as one over an inside address the search did not try",
            "イニシエータのパケットはルーティングされてこの地点に届いているので途中に NAT がある可能性があり、偽装されたハッシュと、探索で試さなかった内側アドレスのハッシュは同じに見えます",
        ),
    );
}
