//! CAP005 `capture-time-backwards`: frames are stamped earlier than the
//! frames before them.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity, plural, secs};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "CAP005",
    name: "capture-time-backwards",
    severity: Severity::Warning,
    summary: "The capture's time stamps go backwards",
    doc: RuleDoc {
        detects: "Frames stamped earlier than the frame before them in the file. ikediag keeps the \
                  file's order and puts such a frame at the time of the frame before it; the frames \
                  after it keep their spacing until their stamps catch up. So a block of frames \
                  stamped 40 minutes too early keeps its own timing, the capture's duration is \
                  never negative, and retransmissions, IKE SAs and fragment timeouts are judged on \
                  that timeline.",
        why_it_fails: "It does not; it limits what the times say: the time across each step back \
                       is unknown (taken as zero), so durations and intervals that span one are \
                       too short. Steps below 1 ms only reorder packets that were captured at \
                       nearly the same time (several capture queues); they are corrected the same \
                       way but not reported.",
        evidence: "The frames that step back by 1 ms or more: the largest step and the frame \
                   before it first.",
        likely_causes: "The capturing host's clock was stepped (NTP or a manual change) during the \
                        capture; captures of several interfaces or hosts merged without sorting \
                        (`mergecap -a`); a NIC or capture card that stamps on several queues.",
        how_to_fix: "Nothing to fix in the VPN. Keep the capturing host's clock slewing rather than \
                     stepping (chrony `makestep` only at boot), merge captures with `mergecap` \
                     (which sorts by time), or sort a file with `reordercap in.pcap out.pcap`.",
    },
    summary_ja: "キャプチャのタイムスタンプが過去に戻っている",
    doc_ja: RuleDoc {
        detects: "ファイル上で直前のフレームより前の時刻が付いたフレーム。ikediag はファイルの順序を保ち、そのようなフレームを直前のフレームの時刻に置きます。その後のフレームはタイムスタンプが追いつくまで間隔を保ちます。そのため 40 分早い時刻が付いたフレームの塊も内部のタイミングを保ち、キャプチャの長さが負になることはなく、再送、IKE SA、フラグメントのタイムアウトはこの時間軸で判断されます。",
        why_it_fails: "失敗の原因ではありませんが、時刻から言えることが限られます。戻った箇所をまたぐ時間は分からない (0 とみなす) ため、それをまたぐ長さや間隔は短く出ます。1 ms 未満の戻りは、ほぼ同時にキャプチャされたパケットの順序が入れ替わっているだけなので (複数のキャプチャキュー)、同じように補正しますが報告はしません。",
        evidence: "1 ms 以上時刻が戻ったフレーム。最大の戻りとその直前のフレームを最初に示します。",
        likely_causes: "キャプチャ中にホストの時計が飛んだ (NTP や手動での変更)、複数のインタフェースやホストのキャプチャを並べ替えずに結合した (`mergecap -a`)、複数のキューでタイムスタンプを付ける NIC やキャプチャカード。",
        how_to_fix: "VPN 側で直すことはありません。キャプチャするホストの時計は飛ばさずに徐々に合わせる (chrony の `makestep` は起動時のみ)、キャプチャの結合は時刻順に並べる `mergecap` で行う、ファイルは `reordercap in.pcap out.pcap` で並べ替えてください。",
    },
    check,
};

/// Steps cited as evidence.
const STEPS_SHOWN: usize = 25;

/// Steps below this only reorder packets captured at nearly the same time
/// (several capture queues): harmless, and not reported.
const REPORTED_STEP_NS: i64 = super::TIME_STEP_NS;

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let q = &a.quality;
    let Some(max) = q.time_step_max.filter(|m| m.back_ns >= REPORTED_STEP_NS) else {
        return;
    };
    let big: Vec<_> = q
        .time_steps
        .iter()
        .filter(|s| s.back_ns >= REPORTED_STEP_NS)
        .collect();
    let n = big.len();
    let small = q.time_steps_total.saturating_sub(n as u64);
    let msg = format!(
        "Time goes backwards in the capture: {} {} stamped 1 ms or more earlier than the frame before {}; the largest \
         step: frame {} is stamped {} before frame {} (a clock step, or captures merged out of order). ikediag kept the \
         file's order and took each such frame at the time of the frame before it, so times and intervals across \
         the steps are unknown{}",
        plural(n, "frame"),
        if n == 1 { "is" } else { "are" },
        if n == 1 { "it" } else { "them" },
        max.frame,
        secs(max.back_ns),
        max.previous_frame,
        if small > 0 {
            format!(" ({} more step back by less than 1 ms)", small)
        } else {
            String::new()
        }
    );
    let ja = format!(
        "キャプチャの時刻が過去に戻っています: {n} 個のフレームに直前のフレームより 1 ms 以上前の時刻が付いています。最大の戻りはフレーム {} で、フレーム {} より {} 前の時刻です (時計が飛んだか、キャプチャが時刻順でなく結合されています)。ikediag はファイルの順序を保ち、そのようなフレームを直前のフレームの時刻として扱ったため、戻った箇所をまたぐ時間や間隔は分かりません{}",
        max.frame,
        max.previous_frame,
        secs(max.back_ns),
        if small > 0 {
            format!(" (ほかに 1 ms 未満の戻りが {small} 個あります)")
        } else {
            String::new()
        }
    );
    let mut frames = vec![max.previous_frame, max.frame];
    frames.extend(big.iter().take(STEPS_SHOWN).map(|s| s.frame));
    e.emit(Draft::new(Severity::Warning, msg, frames).ja(ja));
}
