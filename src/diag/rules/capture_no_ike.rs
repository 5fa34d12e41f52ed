//! CAP001 `capture-no-ike`: the capture holds no IKE at all.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;

pub(crate) static RULE: Rule = Rule {
    code: "CAP001",
    name: "capture-no-ike",
    severity: Severity::Warning,
    summary: "No IKE in the capture: wrong interface, filter or time?",
    doc: RuleDoc {
        detects: "A capture with no IKE message on UDP 500, UDP 4500 or RFC 8229 TCP.",
        why_it_fails: "Nothing can be said about the VPN: the connection attempt is not in the capture.",
        evidence: "What the capture does hold (frames, ESP, ICMP).",
        likely_causes: "The capture was taken on the wrong interface (inside the tunnel, on a LAN \
                        port), with a capture filter that excluded UDP 500/4500, or at a time when \
                        no connection was attempted; IKE runs on a non-standard port.",
        how_to_fix: "Capture on the interface that faces the VPN server while connecting, e.g. \
                     `tcpdump -i <wan> -s 0 -w vpn.pcap 'udp port 500 or udp port 4500 or esp or icmp or icmp6'`; \
                     if IKE uses other ports, pass them with --port.",
    },
    summary_ja: "キャプチャに IKE がない: インタフェース・フィルタ・時刻の誤り?",
    doc_ja: RuleDoc {
        detects: "UDP 500・UDP 4500・RFC 8229 の TCP のいずれにも IKE メッセージがないキャプチャ。",
        why_it_fails: "VPN について何も判断できません。接続の試行がキャプチャに入っていません。",
        evidence: "キャプチャに実際に含まれているもの (フレーム数、ESP、ICMP)。",
        likely_causes: "誤ったインタフェース (トンネル内側、LAN 側ポート) でキャプチャした、UDP 500/4500 を除外するキャプチャフィルタを使った、接続を試していない時間帯にキャプチャした、IKE が標準外のポートを使っている。",
        how_to_fix: "接続しながら VPN サーバ側を向いたインタフェースでキャプチャしてください。例: `tcpdump -i <wan> -s 0 -w vpn.pcap 'udp port 500 or udp port 4500 or esp or icmp or icmp6'`。IKE が別のポートを使う場合は --port で指定してください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    if !a.sas.is_empty() || a.stats.ike_messages > 0 {
        return;
    }
    let ja = format!(
        "キャプチャには {} フレームありますが IKE メッセージ (UDP 500/4500) はありません: ESP パケット {} 個、ICMP エラー {} 個、ICMP エコー {} 個。VPN サーバ側を向いたインタフェースで、接続中にキャプチャしましたか?",
        a.stats.frames,
        a.stats.esp_packets,
        a.icmp_errors.len(),
        a.echoes.len()
    );
    e.emit(Draft::new(
        Severity::Warning,
        format!(
            "The capture holds {} frames but no IKE message (UDP 500/4500): {} ESP packets, {} ICMP errors, {} ICMP echoes. \
             Was it taken on the interface that faces the VPN server, while connecting?",
            a.stats.frames,
            a.stats.esp_packets,
            a.icmp_errors.len(),
            a.echoes.len()
        ),
        Vec::new(),
    )
    .ja(ja));
}
