//! CAP006 `capture-cut-short`: the file ends in the middle of something (a
//! damaged or cut-off record, or an IP datagram whose other fragments
//! would have followed), so what is missing at its end is not evidence.

use super::{ends_with_capture, is_ike_fragment_set};
use crate::diag::{Confidence, Draft, Emitter, Rule, RuleDoc, Severity, bytes, secs};
use crate::session::quality::FileEndKind;
use crate::session::{Analysis, IncompleteFact};

pub(crate) static RULE: Rule = Rule {
    code: "CAP006",
    name: "capture-cut-short",
    severity: Severity::Warning,
    summary: "The capture file ends in the middle of a packet or an exchange",
    doc: RuleDoc {
        detects: "A file that cannot be read to its end (it stops inside a packet record, or is \
                  damaged), and IP fragment sets of IKE still incomplete when the capture ended, less \
                  than 100 ms after their last fragment (the other fragments of a datagram follow within \
                  microseconds, a few milliseconds on a slow link, so the capture stopped first).",
        why_it_fails: "It does not; it limits what can be said. What the file does not hold after its \
                       end (the rest of a datagram, an answer, a retransmission) is not evidence of a \
                       loss on the path, so such datagrams and requests are not diagnosed as lost; \
                       when nothing else decides the outcome, the verdict is inconclusive.",
        evidence: "The last frame read and the byte offset where reading stopped; the fragments of \
                   each datagram the end cut, with the bytes still missing.",
        likely_causes: "A file copied while tcpdump was still writing it (the last record is only \
                        partly flushed), a capture stopped with a size or packet limit (`-c`, `-C`), \
                        an interrupted download or transfer, a disk that filled up.",
        how_to_fix: "Stop the capture cleanly (Ctrl-C, or wait for `-c`) before copying the file, and \
                     keep it running until the exchange completes or fails: IKE gives up after \
                     about 30 s to a few minutes of retransmissions.",
    },
    summary_ja: "キャプチャファイルがパケットや交換の途中で終わっている",
    doc_ja: RuleDoc {
        detects: "最後まで読めないファイル (パケットのレコードの途中で終わっている、または壊れている) と、最後のフラグメントから 100 ms 以内にキャプチャが終わりまだ揃っていなかった IKE の IP フラグメントのセット (データグラムの他のフラグメントは数マイクロ秒、遅い回線でも数ミリ秒以内に続くので、先にキャプチャが止まったことになります)。",
        why_it_fails: "失敗の原因ではありませんが、判断できる範囲が限られます。ファイルの終わりより後にあるはずのもの (データグラムの残り、応答、再送) がないことは経路上での損失の証拠にならないので、そのようなデータグラムや要求は失われたとは診断しません。他に結果を決めるものがなければ、判定は「判断不能」になります。",
        evidence: "最後に読めたフレームと読み取りが止まったバイトオフセット、終わりで切れた各データグラムのフラグメントとまだ欠けているバイト数。",
        likely_causes: "tcpdump が書き込み中のファイルをコピーした (最後のレコードが一部しか書き出されていない)、サイズやパケット数の上限 (`-c`、`-C`) でキャプチャが止まった、ダウンロードや転送の中断、ディスクの容量不足。",
        how_to_fix: "ファイルをコピーする前にキャプチャをきちんと止め (Ctrl-C、または `-c` の終了を待つ)、交換が完了するか失敗するまで続けてください: IKE は 30 秒から数分の再送の後に諦めます。",
    },
    check,
};

/// "the first IP fragment of the IKE_AUTH request (message ID 1)".
fn what(a: &Analysis, f: &IncompleteFact) -> (String, String) {
    let piece = if f.frames.len() == 1 {
        if f.has_first {
            "the first IP fragment"
        } else {
            "one IP fragment"
        }
        .to_string()
    } else {
        format!("{} IP fragments", f.frames.len())
    };
    let piece_ja = if f.frames.len() == 1 {
        if f.has_first {
            "最初の IP フラグメント"
        } else {
            "IP フラグメント 1 個"
        }
        .to_string()
    } else {
        format!("IP フラグメント {} 個", f.frames.len())
    };
    let Some(ike) = &f.ike else {
        return (
            format!("{piece} of a datagram from {} to {}", f.src, f.dst),
            format!("{} から {} へのデータグラムの{piece_ja}", f.src, f.dst),
        );
    };
    let version = f.sa.and_then(|i| a.sas.get(i)).map(|s| s.version);
    let name = match version {
        Some(1) => crate::ike::v1_exchange_name(ike.exchange_type),
        _ => crate::ike::v2_exchange_name(ike.exchange_type),
    }
    .map(str::to_string)
    .unwrap_or_else(|| format!("exchange {}", ike.exchange_type));
    let (kind, kind_ja) = if ike.is_response {
        ("response", "応答")
    } else {
        ("request", "要求")
    };
    (
        format!(
            "{piece} of the {name} {kind} from {} to {} (message ID {}, {} bytes)",
            f.src,
            f.dst,
            ike.message_id,
            bytes(u64::from(ike.length))
        ),
        format!(
            "{} から {} への {name} {kind_ja} (メッセージ ID {}、{} バイト) の{piece_ja}",
            f.src,
            f.dst,
            ike.message_id,
            bytes(u64::from(ike.length))
        ),
    )
}

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let end = a.stats.last_ts_ns.unwrap_or(0);
    let mut en: Vec<String> = Vec::new();
    let mut ja: Vec<String> = Vec::new();
    let mut frames: Vec<u64> = Vec::new();
    let mut confidence = Confidence::Likely;
    if let Some(fe) = &a.quality.file_end {
        confidence = Confidence::Certain;
        let last = fe.after_frame;
        let (how, how_ja) = match fe.kind {
            FileEndKind::Truncated => (
                format!(
                    "The capture file ends in the middle of a record after frame {last} (byte offset {}): it was cut short, \
                     so nothing after frame {last} can be analysed",
                    fe.offset
                ),
                format!(
                    "キャプチャファイルはフレーム {last} の後のレコードの途中で終わっています (バイトオフセット {}): ファイルが途中で切れているため、フレーム {last} より後は解析できません",
                    fe.offset
                ),
            ),
            FileEndKind::Corrupt => (
                format!(
                    "The capture file is damaged at byte offset {} after frame {last}, so nothing after frame {last} can be analysed",
                    fe.offset
                ),
                format!(
                    "キャプチャファイルはフレーム {last} の後のバイトオフセット {} で壊れているため、フレーム {last} より後は解析できません",
                    fe.offset
                ),
            ),
            FileEndKind::Io => (
                format!(
                    "The capture file could not be read past byte offset {} (after frame {last}), so nothing after frame {last} \
                     can be analysed",
                    fe.offset
                ),
                format!(
                    "キャプチャファイルはバイトオフセット {} (フレーム {last} の後) から先を読めなかったため、フレーム {last} より後は解析できません",
                    fe.offset
                ),
            ),
        };
        en.push(how);
        ja.push(how_ja);
        if last > 0 {
            frames.push(last);
        }
    }
    for f in a
        .incomplete_fragments
        .iter()
        .filter(|f| is_ike_fragment_set(f) && ends_with_capture(a, f))
    {
        let (w, w_ja) = what(a, f);
        let after = f.frames.last().copied().unwrap_or(0);
        let missing = f.total_len.map(|t| t.saturating_sub(f.bytes_held));
        let (missing, missing_ja) = match missing {
            Some(m) => (
                format!(" ({} bytes missing)", bytes(u64::from(m))),
                format!(" ({} バイト)", bytes(u64::from(m))),
            ),
            None => (String::new(), String::new()),
        };
        en.push(format!(
            "the capture ends {} after frame {after}, {w}, before the rest of that datagram{missing}: \
             its other fragments would have been captured within milliseconds, so the capture stopped before them \
             and their absence says nothing about the path",
            secs(end.saturating_sub(f.last_ts_ns)),
        ));
        ja.push(format!(
            "キャプチャはフレーム {after} ({w_ja}) の {} 後に、そのデータグラムの残り{missing_ja}より前に終わっています: 残りのフラグメントは数ミリ秒以内にキャプチャされるはずなので、その前にキャプチャが止まっています。それがないことは経路については何も示しません",
            secs(end.saturating_sub(f.last_ts_ns)),
        ));
        frames.extend(&f.frames);
    }
    let Some(first) = en.first_mut() else {
        return;
    };
    if let Some(c) = first.get(..1) {
        let upper = c.to_uppercase();
        first.replace_range(..1, &upper);
    }
    e.emit(
        Draft::new(Severity::Warning, en.join("; "), frames)
            .ja(ja.join("。"))
            .confidence(confidence),
    );
}
