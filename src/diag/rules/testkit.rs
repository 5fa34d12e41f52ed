//! Hand-built session facts for the rules' unit tests: IKE SAs seen from a
//! chosen vantage point (initiator, responder, in between), messages added
//! one by one, and the rules run over them. No capture and no `../shared`.

use std::net::IpAddr;

use crate::decode::Transport;
use crate::diag::{Finding, RuleSelection, run_rules};
use crate::session::{
    Analysis, CaptureSide, Endpoint, Exchange, IkeSa, MessageFact, NatFacts, derive_sa_facts,
    esp_starts,
};

/// Where the capture was taken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Side {
    Initiator,
    Responder,
    Middle,
}

/// Which way a message goes within its exchange.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Dir {
    Request,
    Response,
}

pub(crate) const INITIATOR: &str = "192.0.2.10";
pub(crate) const RESPONDER: &str = "203.0.113.20";

fn ep(a: &str, port: u16) -> Endpoint {
    Endpoint {
        addr: a.parse::<IpAddr>().expect("test address"),
        port,
    }
}

/// The side is remembered in the TTLs the messages get: 64 where they
/// leave the capture host, 60 where they arrived over four hops.
pub(crate) fn sa_v2(side: Side) -> IkeSa {
    IkeSa {
        index: 0,
        version: 2,
        ispi: [1, 2, 3, 4, 5, 6, 7, 8],
        rspi: [8, 7, 6, 5, 4, 3, 2, 1],
        initiator: ep(INITIATOR, 500),
        responder: ep(RESPONDER, 500),
        exchanges: Vec::new(),
        first_ts_ns: 0,
        last_ts_ns: 0,
        natt_switch_frame: None,
        retry_of: None,
        nat: NatFacts::default(),
        nat_checks: Default::default(),
        capture_side: match side {
            Side::Initiator => CaptureSide::Initiator,
            Side::Responder => CaptureSide::Responder,
            Side::Middle => CaptureSide::InBetween,
        },
        vendor_ids: Vec::new(),
        peers: None,
        child_sas: Vec::new(),
    }
}

fn ttl(sa: &IkeSa, from_initiator: bool) -> u8 {
    let local = match sa.capture_side {
        CaptureSide::Initiator => from_initiator,
        CaptureSide::Responder => !from_initiator,
        _ => false,
    };
    if local { 64 } else { 60 }
}

/// Adds a message of an exchange the initiator started, `len` bytes,
/// unfragmented. Repeats (same exchange, message ID and direction) are
/// retransmissions.
pub(crate) fn push(
    sa: &mut IkeSa,
    exchange_type: u8,
    message_id: u32,
    dir: Dir,
    frame: u64,
    t_secs: f64,
    len: u32,
) {
    push_full(
        sa,
        exchange_type,
        message_id,
        true,
        dir,
        &[frame],
        t_secs,
        len,
    );
}

/// As [`push`], with who started the exchange and the frames of every IP
/// fragment (more than one frame: an IP-fragmented message).
#[allow(clippy::too_many_arguments)]
pub(crate) fn push_full(
    sa: &mut IkeSa,
    exchange_type: u8,
    message_id: u32,
    requester_is_initiator: bool,
    dir: Dir,
    frames: &[u64],
    t_secs: f64,
    len: u32,
) {
    let from_initiator = requester_is_initiator == (dir == Dir::Request);
    let (src, dst) = if from_initiator {
        (sa.initiator, sa.responder)
    } else {
        (sa.responder, sa.initiator)
    };
    let ts_ns = (t_secs * 1e9) as i64;
    let digest = u64::from(exchange_type) << 40
        | u64::from(message_id) << 8
        | u64::from(dir == Dir::Response) << 1
        | u64::from(requester_is_initiator);
    let name = crate::ike::v2_exchange_name(exchange_type)
        .unwrap_or("exchange")
        .to_string();
    let idx = match sa.exchanges.iter().position(|e| {
        e.exchange_type == exchange_type
            && e.message_id == message_id
            && e.requester_is_initiator == requester_is_initiator
    }) {
        Some(i) => i,
        None => {
            sa.exchanges.push(Exchange {
                exchange_type,
                name,
                message_id,
                requester_is_initiator,
                messages: Vec::new(),
                implied_answer: None,
                answer_received: None,
            });
            sa.exchanges.len() - 1
        }
    };
    let t = ttl(sa, from_initiator);
    let ex = &mut sa.exchanges[idx];
    let retransmission = ex.messages.iter().any(|m| m.digest == digest);
    let frame = *frames.last().expect("a frame");
    ex.messages.push(MessageFact {
        frame,
        frames: frames.to_vec(),
        ts_ns,
        src,
        dst,
        transport: Transport::Udp,
        from_initiator,
        is_response: dir == Dir::Response,
        length: len,
        ip_payload_len: len + 8,
        ip_fragments: if frames.len() > 1 { frames.len() } else { 0 },
        dont_fragment: false,
        truncated: false,
        ttl: t,
        payloads: if exchange_type == 34 {
            vec!["SA", "KE", "Nonce"]
        } else {
            vec!["SK"]
        },
        notify_types: Vec::new(),
        notify: Vec::new(),
        ike_fragment: None,
        encrypted: exchange_type != 34,
        decrypted: false,
        retransmission,
        ke_group: None,
        invalid_ke_group: None,
        proposals: Vec::new(),
        details: None,
        tunnel: None,
        digest,
    });
    sa.first_ts_ns = sa.first_ts_ns.min(ts_ns);
    sa.last_ts_ns = sa.last_ts_ns.max(ts_ns);
}

/// The analysis of these SAs, with their derived facts, as if the capture
/// ended 30 s after the last message.
pub(crate) fn analysis(mut sas: Vec<IkeSa>) -> Analysis {
    let mut a = Analysis::default();
    let mut last = 0;
    let mut frames = 0;
    for (i, sa) in sas.iter_mut().enumerate() {
        sa.index = i;
        let side = sa.capture_side;
        derive_sa_facts(sa, &esp_starts(&a.esp_flows));
        // Keep the side the test chose when TTLs cannot tell.
        if sa.capture_side == CaptureSide::Unknown {
            sa.capture_side = side;
        }
        last = last.max(sa.last_ts_ns);
        frames = frames.max(sa.messages().last().map_or(0, |m| m.frame));
    }
    a.sas = sas;
    a.stats.frames = frames;
    a.stats.first_ts_ns = Some(0);
    a.stats.last_ts_ns = Some(last + 30_000_000_000);
    a
}

/// The findings of one rule (by name).
pub(crate) fn run(rule: &str, a: &Analysis) -> Vec<Finding> {
    run_rules(
        a,
        &RuleSelection {
            select: vec![rule.to_string()],
            ignore: Vec::new(),
        },
    )
}

/// The findings of every rule.
pub(crate) fn run_all(a: &Analysis) -> Vec<Finding> {
    run_rules(a, &RuleSelection::default())
}
