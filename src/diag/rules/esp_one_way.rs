//! ESP001 `esp-one-way`: after the SA was established, ESP flows in one
//! direction only.

use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::{Analysis, CaptureSide};

pub(crate) static RULE: Rule = Rule {
    code: "ESP001",
    name: "esp-one-way",
    severity: Severity::Error,
    summary: "The tunnel is up but ESP flows in one direction only",
    doc: RuleDoc {
        detects: "An IKE SA that completed authentication, followed by ESP packets from one peer to \
                  the other and none coming back.",
        why_it_fails: "Traffic enters the tunnel but no reply comes out: pings time out, TCP never \
                       connects, although IKE says the tunnel is up.",
        evidence: "The ESP flow (SPI, packet count, first and last frame) and the missing reverse flow.",
        likely_causes: "ESP or UDP 4500 blocked in one direction; the remote side has no route back \
                        into the tunnel or its traffic selectors do not cover the reply; a firewall \
                        on the remote LAN drops the traffic; asymmetric routing outside the tunnel.",
        how_to_fix: "On the remote peer: check `ip xfrm state` / `swanctl --list-sas` counters (are \
                     packets decrypted?), the route back to the sender's subnet, and the firewall on \
                     its LAN; allow ESP / UDP 4500 in both directions.",
    },
    summary_ja: "トンネルは確立したが ESP が片方向にしか流れていない",
    doc_ja: RuleDoc {
        detects: "認証まで完了した IKE SA の後、一方のピアから他方へ ESP パケットが流れ、逆方向からは一つも戻ってこない。",
        why_it_fails: "トンネルに入ったトラフィックに応答が返らず、IKE 上はトンネルが確立していても ping はタイムアウトし、TCP も接続できません。",
        evidence: "ESP のフロー (SPI、パケット数、最初と最後のフレーム) と、存在しない逆方向のフロー。",
        likely_causes: "片方向の ESP または UDP 4500 が遮断されている、相手側に送信元サブネットへの戻りの経路がない、またはトラフィックセレクタが戻りの通信を含まない、相手側 LAN のファイアウォールがトラフィックを破棄している、トンネル外の非対称ルーティング。",
        how_to_fix: "相手側で `ip xfrm state` や `swanctl --list-sas` のカウンタ (復号されているか)、送信元サブネットへの戻りの経路、LAN 側のファイアウォールを確認し、ESP / UDP 4500 を双方向で許可してください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    for sa in &a.sas {
        if !super::authenticated(sa) {
            continue;
        }
        let flows = super::esp_between(a, sa, sa.first_ts_ns);
        let from_i: u64 = flows
            .iter()
            .filter(|f| f.src == sa.initiator.addr)
            .map(|f| f.packets)
            .sum();
        let from_r: u64 = flows
            .iter()
            .filter(|f| f.src == sa.responder.addr)
            .map(|f| f.packets)
            .sum();
        let (sender, receiver, n) = match (from_i, from_r) {
            (n, 0) if n >= 3 => (sa.initiator.addr, sa.responder.addr, n),
            (0, n) if n >= 3 => (sa.responder.addr, sa.initiator.addr, n),
            _ => continue,
        };
        let f = flows.iter().find(|f| f.src == sender).copied();
        let Some(f) = f else { continue };
        let mut msg = format!(
            "The tunnel came up, and {n} ESP packets went from {sender} to {receiver} (SPI 0x{:08x}, frames {} to {}), but not one came back",
            f.spi, f.first_frame, f.last_frame
        );
        let sender_is_initiator = sender == sa.initiator.addr;
        let at_sender = matches!(
            (sa.capture_side, sender_is_initiator),
            (CaptureSide::Initiator, true) | (CaptureSide::Responder, false)
        );
        let at_receiver = matches!(
            (sa.capture_side, sender_is_initiator),
            (CaptureSide::Initiator, false) | (CaptureSide::Responder, true)
        );
        let (reading, reading_ja) = if at_sender {
            (
                "seen at the sender: the packets are lost on the way there, or the far side does not answer through \
                 the tunnel (no route back into it, a firewall, the SA not installed), or its answers are lost on the way back",
                "送信側で取られたキャプチャです: パケットが往路で失われているか、相手側がトンネル経由で応答していない (トンネルへの戻りの経路がない、ファイアウォール、SA が組み込まれていない) か、応答が復路で失われています",
            )
        } else if at_receiver {
            (
                "seen at the receiver: the packets arrive and nothing is sent back through the tunnel; this side does \
                 not answer (no route back into the tunnel, a firewall on the decrypted traffic, or the inner traffic needs no answer)",
                "受信側で取られたキャプチャです: パケットは届いているのにトンネル経由で何も返していません。こちら側が応答していません (トンネルへの戻りの経路がない、復号後の通信へのファイアウォール、または応答の不要な通信)",
            )
        } else {
            (
                "seen between the peers: nothing comes back past this point; the far side does not answer or its \
                 answers take another path",
                "ピアの間で取られたキャプチャです: この地点を通って何も返ってきません。相手側が応答していないか、応答が別の経路を通っています",
            )
        };
        msg.push_str(&format!(": {reading}"));
        let mut ja = format!(
            "トンネルは確立し、{sender} から {receiver} へ ESP パケットが {n} 個送られました (SPI 0x{:08x}、フレーム {}〜{}) が、一つも返ってきていません",
            f.spi, f.first_frame, f.last_frame
        );
        ja.push_str(&format!(": {reading_ja}"));
        e.emit(
            Draft::new(Severity::Error, msg, vec![f.first_frame, f.last_frame])
                .ja(ja)
                .sa(sa)
                .seen_from(reading, reading_ja)
                .fix(super::fixes::esp_return()),
        );
    }
}
