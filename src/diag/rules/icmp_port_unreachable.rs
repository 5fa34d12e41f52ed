//! NET002 `icmp-port-unreachable`: the peer host answered IKE with ICMP
//! port unreachable: no IKE daemon is listening.

use super::{frame_list, frame_list_ja};
use crate::diag::{Draft, Emitter, Rule, RuleDoc, Severity};
use crate::session::Analysis;
use crate::wire::icmp::ErrorKind;

pub(crate) static RULE: Rule = Rule {
    code: "NET002",
    name: "icmp-port-unreachable",
    severity: Severity::Error,
    summary: "ICMP port unreachable for IKE: no IKE daemon listens on the peer",
    doc: RuleDoc {
        detects: "An ICMP or ICMPv6 port unreachable error quoting a UDP 500 or 4500 packet.",
        why_it_fails: "The host exists and is reachable, but nothing listens on the IKE port, so every \
                       IKE message is refused.",
        evidence: "The ICMP errors, who sent them, and the IKE packets they quote.",
        likely_causes: "The IKE daemon (strongSwan charon, libreswan pluto, the Windows IKEEXT service) \
                        is stopped or crashed, or listens on other addresses; the peer rebooted and \
                        its daemon is not up yet; a port forward points at the wrong host.",
        how_to_fix: "Start the IKE daemon on the peer and check that it listens on UDP 500 and 4500 \
                     (`ss -lunp | grep -E ':(500|4500)'`); check port forwards to it.",
    },
    summary_ja: "IKE に ICMP port unreachable: 相手で IKE デーモンが待ち受けていない",
    doc_ja: RuleDoc {
        detects: "UDP 500 または 4500 のパケットを引用した ICMP / ICMPv6 の port unreachable。",
        why_it_fails: "ホストは存在し到達もできますが、IKE のポートで何も待ち受けていないため、すべての IKE メッセージが拒否されます。",
        evidence: "ICMP エラー、その送信元、引用されている IKE パケット。",
        likely_causes: "IKE デーモン (strongSwan の charon、libreswan の pluto、Windows の IKEEXT サービス) が停止・異常終了している、別のアドレスで待ち受けている、相手が再起動してデーモンがまだ起動していない、ポートフォワードの転送先が誤っている。",
        how_to_fix: "相手で IKE デーモンを起動し、UDP 500 と 4500 で待ち受けているか確認してください (`ss -lunp | grep -E ':(500|4500)'`)。ポートフォワードの設定も確認してください。",
    },
    check,
};

fn check(a: &Analysis, e: &mut Emitter<'_>) {
    let mut by_sender: std::collections::BTreeMap<(String, Option<usize>), Vec<u64>> =
        Default::default();
    for i in &a.icmp_errors {
        let ike_port = matches!(i.quoted_dst_port, Some(500 | 4500))
            || matches!(i.quoted_src_port, Some(500 | 4500));
        if i.kind == ErrorKind::PortUnreachable && i.quoted_protocol == Some(17) && ike_port {
            by_sender
                .entry((
                    format!("{} (UDP {})", i.src, i.quoted_dst_port.unwrap_or(0)),
                    i.sa,
                ))
                .or_default()
                .push(i.frame);
        }
    }
    for ((who, sa), frames) in by_sender {
        // The initiator refusing late messages after it gave up is a
        // consequence of the failure, not its cause.
        let s = sa.and_then(|s| a.sas.get(s));
        let from_initiator = s.is_some_and(|s| who.starts_with(&format!("{} ", s.initiator.addr)));
        if from_initiator {
            let mut d = Draft::new(
                Severity::Info,
                format!(
                    "{who} answered late IKE messages with ICMP port unreachable ({}): the initiator had already given up",
                    frame_list(&frames)
                ),
                frames.clone(),
            );
            if let Some(s) = s {
                d = d.sa(s);
            }
            d = d.ja(format!(
                "{who} は遅れて届いた IKE メッセージに ICMP port unreachable を返しました ({}): イニシエータはすでに諦めています",
                frame_list_ja(&frames)
            ));
            e.emit(d);
            continue;
        }
        let mut related = frames.clone();
        if let Some(s) = sa.and_then(|s| a.sas.get(s)) {
            related.extend(
                super::pending(s)
                    .iter()
                    .flat_map(|p| p.all_frames.iter().copied()),
            );
        }
        let exchange = sa
            .and_then(|s| a.sas.get(s))
            .and_then(|s| super::pending(s).first().map(|p| p.exchange.name.clone()));
        let mut d = Draft::new(
            Severity::Error,
            format!(
                "{who} answered IKE with ICMP port unreachable ({}): no IKE daemon is listening there",
                frame_list(&frames)
            ),
            related,
        );
        if let Some(s) = sa.and_then(|s| a.sas.get(s)) {
            d = d.sa(s);
        }
        if let Some(x) = exchange {
            d = d.exchange(x);
        }
        d = d.ja(format!(
            "{who} が IKE に ICMP port unreachable を返しました ({}): そこでは IKE デーモンが待ち受けていません",
            frame_list_ja(&frames)
        ));
        e.emit(d.fix(super::fixes::start_daemon()));
    }
}
