//! CAP004 `capture-duplicate-frames`: the capture holds packets twice.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, secs};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "CAP004",
    name: "capture-duplicate-frames",
    severity: Severity::Info,
    summary: "The capture holds packets twice (a mirror port, `tcpdump -i any` on a bridge)",
    doc: RuleDoc {
        detects: "Frames that repeat an earlier frame from the IP header on within 1 ms: the same \
                  length, the same first 64 and last 32 bytes, which hold the IP header with its \
                  identification and checksum, the UDP/TCP checksum over the whole payload, the ESP \
                  SPI, sequence number and integrity check value. Link-layer headers are not \
                  compared. ikediag analyses each packet once: the copies are dropped before IP \
                  reassembly, so they count as neither retransmissions, fragments nor ESP packets.",
        why_it_fails: "It does not: the capture, not the network, saw each packet twice. Read \
                       naively (Wireshark's TCP analysis, a count of IKE messages) the copies look \
                       like retransmissions of every packet.",
        evidence: "The copies and the frames they repeat (the first 25 pairs), and the largest time \
                   between a copy and its original. Copies are microseconds apart; a sender repeats \
                   a packet on purpose much later (IKE after 0.5 s or more, TCP after 10 ms or \
                   more) and ESP never repeats one (its sequence number grows).",
        likely_causes: "A switch mirror (SPAN) port copying both the ingress and the egress of a \
                        link the packet crosses twice; `tcpdump -i any` on a host with a bridge, \
                        which sees a packet on the bridge port and on the bridge; two capture \
                        files of the same link merged.",
        how_to_fix: "Nothing to fix in the VPN. For cleaner captures, capture on one interface \
                     (`tcpdump -i eth0`, not `-i any`) or mirror one direction per port; \
                     `editcap -w 0.001 in.pcap out.pcap` removes such copies from a file when their link headers \
                     are the same too (`-I 16` skips the SLL header of a `-i any` capture).",
    },
    summary_ja: "キャプチャに同じパケットが 2 回ずつ入っている (ミラーポート、ブリッジ上での `tcpdump -i any`)",
    doc_ja: RuleDoc {
        detects: "IP ヘッダ以降が以前のフレームと同じで 1 ms 以内にあるフレーム: 長さが同じで、先頭 64 バイトと末尾 32 バイト (識別子とチェックサムを含む IP ヘッダ、ペイロード全体にかかる UDP/TCP チェックサム、ESP の SPI・シーケンス番号・完全性チェック値) が同じもの。リンク層のヘッダは比較しません。ikediag は各パケットを 1 回だけ解析します: コピーは IP 再構成の前に除かれるので、再送にもフラグメントにも ESP パケットにも数えません。",
        why_it_fails: "失敗の原因ではありません。ネットワークではなくキャプチャが各パケットを 2 回見ています。そのまま読むと (Wireshark の TCP 解析、IKE メッセージの数など) コピーがすべてのパケットの再送に見えます。",
        evidence: "コピーとその元のフレーム (最初の 25 組) と、コピーと元のフレームの最大の時間差。コピーは数マイクロ秒しか離れていません。送信側が意図して同じパケットを送り直すのはずっと後 (IKE は 0.5 秒以上、TCP は 10 ms 以上) で、ESP は同じパケットを二度と送りません (シーケンス番号が増えるため)。",
        likely_causes: "パケットが 2 回通過するリンクの入力と出力の両方をコピーするスイッチのミラー (SPAN) ポート、ブリッジのあるホストでの `tcpdump -i any` (ブリッジのポートとブリッジ自体の両方でパケットを見ます)、同じリンクの 2 つのキャプチャファイルの結合。",
        how_to_fix: "VPN 側で直すことはありません。きれいなキャプチャを取るには 1 つのインタフェースでキャプチャする (`-i any` ではなく `tcpdump -i eth0`) か、ポートごとに片方向だけをミラーしてください。リンク層のヘッダも同じなら、ファイルからは `editcap -w 0.001 in.pcap out.pcap` でこのようなコピーを除けます (`-i any` のキャプチャの SLL ヘッダは `-I 16` で比較から外せます)。",
    },
    check,
};

/// Pairs cited as evidence.
const PAIRS_SHOWN: usize = 25;

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let q = &a.quality;
    let Some(first) = q.duplicates.first() else {
        return;
    };
    let n = q.duplicates_total;
    let every = n.saturating_mul(2) == a.stats.frames;
    let share = if every {
        format!(
            "Every packet appears twice: {n} of the {} frames are copies",
            a.stats.frames
        )
    } else {
        format!("{n} of the {} frames are copies", a.stats.frames)
    };
    let share_ja = if every {
        format!(
            "すべてのパケットが 2 回ずつ入っています: {} フレームのうち {n} フレームがコピーです",
            a.stats.frames
        )
    } else {
        format!("{} フレームのうち {n} フレームがコピーです", a.stats.frames)
    };
    let gap = secs(q.duplicate_max_gap_ns);
    let msg = format!(
        "{share} of an earlier frame from the IP header on (frame {} repeats frame {}, {} later; at most {gap} apart): \
         the capture saw each of these packets twice, as a mirror port copying both directions or `tcpdump -i any` \
         on a bridge does. ikediag analysed each packet once: the copies are not retransmissions, fragments or ESP packets",
        first.frame,
        first.original,
        secs(first.gap_ns),
    );
    let ja = format!(
        "{share_ja}。IP ヘッダ以降が以前のフレームと同じです (フレーム {} はフレーム {} と同じで {} 後、最大 {gap} 差)。キャプチャがこれらのパケットを 2 回ずつ見ています (両方向をコピーするミラーポートや、ブリッジ上での `tcpdump -i any` で起こります)。ikediag は各パケットを 1 回だけ解析しました: コピーは再送でもフラグメントでも ESP パケットでもありません",
        first.frame,
        first.original,
        secs(first.gap_ns),
    );
    let frames = q
        .duplicates
        .iter()
        .take(PAIRS_SHOWN)
        .flat_map(|d| [d.original, d.frame])
        .collect();
    e.emit(Draft::new(Severity::Info, msg, frames).ja(ja));
}
