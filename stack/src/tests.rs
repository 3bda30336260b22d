//! Unit tests of the endpoint, one section per RFC 9293 state, named
//! `test_<state>_<event>`, with a builder per state.

use super::*;

const LOCAL: u16 = 80;
const REMOTE: u16 = 4000;
/// Our ISN: close to 2³², so numbers wrap within every test.
const ISS: SeqNumber = SeqNumber(u32::MAX - 1);
/// The peer's ISN.
const IRS: SeqNumber = SeqNumber(1000);

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// The defaults: initial RTO 1 s, 3 retries of each kind, MSL 60 s.
fn config() -> Config {
    Config::default()
}

/// A segment from the peer: `flags` as letters, seq/ack relative to the
/// peer's and our ISN.
fn seg(flags: &str, seq: u32, ack: Option<u32>, data: &[u8]) -> Segment {
    Segment {
        src_port: REMOTE,
        dst_port: LOCAL,
        seq: IRS + seq as usize,
        ack: ack.map_or(SeqNumber(0), |a| ISS + a as usize),
        flags: Flags {
            syn: flags.contains('S'),
            ack: ack.is_some(),
            fin: flags.contains('F'),
            rst: flags.contains('R'),
            psh: !data.is_empty(),
        },
        window: 65535,
        payload: data.to_vec(),
    }
}

/// What we sent, relative: (flags, seq, ack, len).
fn sent(ep: &mut Endpoint) -> Vec<(String, u32, Option<u32>, usize)> {
    let mut out = Vec::new();
    while let Some(s) = ep.poll_transmit() {
        let mut f = String::new();
        for (on, c) in [
            (s.flags.syn, 'S'),
            (s.flags.fin, 'F'),
            (s.flags.rst, 'R'),
            (s.flags.ack, 'A'),
        ] {
            if on {
                f.push(c);
            }
        }
        out.push((
            f,
            (s.seq - ISS) as u32,
            s.flags.ack.then(|| (s.ack - IRS) as u32),
            s.payload.len(),
        ));
    }
    out
}

#[track_caller]
fn expect(ep: &mut Endpoint, want: &[(&str, u32, Option<u32>, usize)]) {
    let got = sent(ep);
    let want: Vec<_> = want
        .iter()
        .map(|(f, s, a, l)| (f.to_string(), *s, *a, *l))
        .collect();
    assert_eq!(got, want);
}

#[track_caller]
fn recv(ep: &mut Endpoint, now: u64, s: Segment) {
    ep.handle_segment(t(now), &s);
}

// --- Builders, one per state -------------------------------------------------

fn endpoint_listen() -> Endpoint {
    let mut ep = Endpoint::new(config(), LOCAL, ISS);
    ep.listen().unwrap();
    ep
}

fn endpoint_syn_received() -> Endpoint {
    let mut ep = endpoint_listen();
    recv(&mut ep, 0, seg("S", 0, None, b""));
    expect(&mut ep, &[("SA", 0, Some(1), 0)]);
    ep
}

fn endpoint_syn_sent() -> Endpoint {
    let mut ep = Endpoint::new(config(), LOCAL, ISS);
    ep.connect(t(0), REMOTE).unwrap();
    expect(&mut ep, &[("S", 0, None, 0)]);
    ep
}

fn endpoint_established() -> Endpoint {
    let mut ep = endpoint_syn_received();
    recv(&mut ep, 0, seg("A", 1, Some(1), b""));
    assert_eq!(ep.state(), State::Established);
    ep
}

fn endpoint_fin_wait_1() -> Endpoint {
    let mut ep = endpoint_established();
    ep.close(t(0)).unwrap();
    expect(&mut ep, &[("FA", 1, Some(1), 0)]);
    ep
}

fn endpoint_fin_wait_2() -> Endpoint {
    let mut ep = endpoint_fin_wait_1();
    recv(&mut ep, 0, seg("A", 1, Some(2), b""));
    assert_eq!(ep.state(), State::FinWait2);
    ep
}

fn endpoint_close_wait() -> Endpoint {
    let mut ep = endpoint_established();
    recv(&mut ep, 0, seg("FA", 1, Some(1), b""));
    expect(&mut ep, &[("A", 1, Some(2), 0)]);
    assert_eq!(ep.state(), State::CloseWait);
    ep
}

fn endpoint_last_ack() -> Endpoint {
    let mut ep = endpoint_close_wait();
    ep.close(t(0)).unwrap();
    expect(&mut ep, &[("FA", 1, Some(2), 0)]);
    ep
}

fn endpoint_closing() -> Endpoint {
    let mut ep = endpoint_fin_wait_1();
    recv(&mut ep, 0, seg("FA", 1, Some(1), b""));
    expect(&mut ep, &[("A", 2, Some(2), 0)]);
    assert_eq!(ep.state(), State::Closing);
    ep
}

fn endpoint_time_wait() -> Endpoint {
    let mut ep = endpoint_fin_wait_2();
    recv(&mut ep, 0, seg("FA", 1, Some(2), b""));
    expect(&mut ep, &[("A", 2, Some(2), 0)]);
    assert_eq!(ep.state(), State::TimeWait);
    ep
}

// --- Tests for the CLOSED state ---------------------------------------------

#[test]
fn test_closed_recv_ack_answers_rst_at_seg_ack() {
    let mut ep = Endpoint::new(config(), LOCAL, ISS);
    recv(&mut ep, 0, seg("A", 1, Some(7), b""));
    expect(&mut ep, &[("R", 7, None, 0)]);
}

#[test]
fn test_closed_recv_syn_answers_rst_ack() {
    let mut ep = Endpoint::new(config(), LOCAL, ISS);
    recv(&mut ep, 0, seg("S", 0, None, b""));
    let out = ep.poll_transmit().unwrap();
    assert!(out.flags.rst && out.flags.ack);
    assert_eq!((out.seq, out.ack), (SeqNumber(0), IRS + 1usize));
}

#[test]
fn test_closed_recv_rst_is_silent() {
    let mut ep = Endpoint::new(config(), LOCAL, ISS);
    recv(&mut ep, 0, seg("R", 0, None, b""));
    expect(&mut ep, &[]);
}

#[test]
fn test_closed_calls_refused() {
    let mut ep = Endpoint::new(config(), LOCAL, ISS);
    assert_eq!(ep.send(t(0), b"x"), Err(CallError::NotConnected));
    assert_eq!(ep.close(t(0)), Err(CallError::NotConnected));
}

// --- Tests for the LISTEN state ---------------------------------------------

#[test]
fn test_listen_recv_syn_sends_syn_ack() {
    let ep = endpoint_syn_received();
    assert_eq!(ep.state(), State::SynReceived);
}

#[test]
fn test_listen_recv_ack_answers_rst() {
    let mut ep = endpoint_listen();
    recv(&mut ep, 0, seg("A", 0, Some(5), b""));
    expect(&mut ep, &[("R", 5, None, 0)]);
    assert_eq!(ep.state(), State::Listen);
}

#[test]
fn test_listen_recv_rst_ignored() {
    let mut ep = endpoint_listen();
    recv(&mut ep, 0, seg("R", 0, None, b""));
    expect(&mut ep, &[]);
    assert_eq!(ep.state(), State::Listen);
}

#[test]
fn test_listen_recv_syn_with_text_queues_it_until_established() {
    // RFC 9293 §3.10.7.2: the SYN-ACK acknowledges the SYN alone; the text
    // is queued, and delivered and acknowledged once ESTABLISHED.
    let mut ep = endpoint_listen();
    recv(&mut ep, 0, seg("S", 0, None, b"hi"));
    expect(&mut ep, &[("SA", 0, Some(1), 0)]);
    assert_eq!(ep.state(), State::SynReceived);
    assert!(ep.recv().is_empty());
    recv(&mut ep, 0, seg("A", 3, Some(1), b""));
    expect(&mut ep, &[("A", 1, Some(3), 0)]);
    assert_eq!(ep.state(), State::Established);
    assert_eq!(ep.recv(), b"hi");
    // The peer's copy of the text, sent again with more, adds only the more.
    recv(&mut ep, 0, seg("A", 1, Some(1), b"hi!"));
    expect(&mut ep, &[("A", 1, Some(4), 0)]);
    assert_eq!(ep.recv(), b"!");
}

#[test]
fn test_syn_received_recv_duplicate_syn_with_text_is_trimmed_and_dropped() {
    // RFC 9293 §3.10.7.4: the first check trims the SYN (below RCV.NXT); what
    // is left has no ACK bit and is dropped.
    let mut ep = endpoint_listen();
    recv(&mut ep, 0, seg("S", 0, None, b"x"));
    expect(&mut ep, &[("SA", 0, Some(1), 0)]);
    recv(&mut ep, 0, seg("S", 0, None, b"x"));
    expect(&mut ep, &[]);
    assert_eq!(ep.state(), State::SynReceived);
    recv(&mut ep, 0, seg("A", 2, Some(1), b""));
    expect(&mut ep, &[("A", 1, Some(2), 0)]);
    assert_eq!(ep.recv(), b"x");
}

#[test]
fn test_syn_received_recv_in_window_syn_returns_to_listen() {
    // RFC 9293 §3.10.7.4, fourth: a SYN in the window, in SYN-RECEIVED from
    // a passive OPEN, returns the connection to LISTEN.
    let mut ep = endpoint_syn_received();
    recv(&mut ep, 0, seg("S", 5, None, b""));
    expect(&mut ep, &[]);
    assert_eq!(ep.state(), State::Listen);
}

// --- Tests for the SYN-SENT state -------------------------------------------

#[test]
fn test_syn_sent_recv_syn_ack_establishes() {
    let mut ep = endpoint_syn_sent();
    recv(&mut ep, 0, seg("SA", 0, Some(1), b""));
    expect(&mut ep, &[("A", 1, Some(1), 0)]);
    assert_eq!(ep.state(), State::Established);
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn test_syn_sent_recv_syn_is_simultaneous_open() {
    let mut ep = endpoint_syn_sent();
    recv(&mut ep, 0, seg("S", 0, None, b""));
    expect(&mut ep, &[("SA", 0, Some(1), 0)]);
    assert_eq!(ep.state(), State::SynReceived);
    recv(&mut ep, 0, seg("SA", 0, Some(1), b""));
    // The peer's SYN-ACK: its SYN is old now, it gets an ACK; its ACK establishes.
    recv(&mut ep, 0, seg("A", 1, Some(1), b""));
    assert_eq!(ep.state(), State::Established);
}

#[test]
fn test_syn_sent_recv_bad_ack_answers_rst() {
    let mut ep = endpoint_syn_sent();
    recv(&mut ep, 0, seg("A", 0, Some(9), b""));
    expect(&mut ep, &[("R", 9, None, 0)]);
    assert_eq!(ep.state(), State::SynSent);
}

#[test]
fn test_syn_sent_recv_rst_ack_is_refused() {
    let mut ep = endpoint_syn_sent();
    recv(&mut ep, 0, seg("RA", 0, Some(1), b""));
    assert_eq!(ep.state(), State::Closed);
    expect(&mut ep, &[]);
}

#[test]
fn test_syn_sent_rto_backs_off_then_gives_up() {
    let mut ep = endpoint_syn_sent();
    for (at, next) in [(1000, 3000), (3000, 7000), (7000, 15000)] {
        assert_eq!(ep.poll_timeout(), Some(t(at)));
        ep.handle_timeout(t(at - 1));
        expect(&mut ep, &[]);
        ep.handle_timeout(t(at));
        expect(&mut ep, &[("S", 0, None, 0)]);
        assert_eq!(ep.poll_timeout(), Some(t(next)));
    }
    ep.handle_timeout(t(15000));
    expect(&mut ep, &[]);
    assert_eq!(ep.state(), State::Closed);
}

// --- Tests for the SYN-RECEIVED state ---------------------------------------

#[test]
fn test_syn_received_recv_ack_establishes() {
    let ep = endpoint_established();
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn test_syn_received_recv_rst_returns_to_listen() {
    let mut ep = endpoint_syn_received();
    recv(&mut ep, 0, seg("R", 1, None, b""));
    assert_eq!(ep.state(), State::Listen);
}

#[test]
fn test_syn_received_recv_duplicate_syn_gets_ack() {
    let mut ep = endpoint_syn_received();
    recv(&mut ep, 0, seg("S", 0, None, b""));
    expect(&mut ep, &[("A", 1, Some(1), 0)]);
    assert_eq!(ep.state(), State::SynReceived);
}

#[test]
fn test_syn_received_recv_bad_ack_answers_rst() {
    let mut ep = endpoint_syn_received();
    recv(&mut ep, 0, seg("A", 1, Some(5), b""));
    expect(&mut ep, &[("R", 5, None, 0)]);
}

#[test]
fn test_syn_received_rto_gives_up_to_listen() {
    let mut ep = endpoint_syn_received();
    for at in [1000, 3000, 7000] {
        ep.handle_timeout(t(at));
        expect(&mut ep, &[("SA", 0, Some(1), 0)]);
    }
    ep.handle_timeout(t(15000));
    expect(&mut ep, &[]);
    assert_eq!(ep.state(), State::Listen);
}

// --- Tests for the ESTABLISHED state ----------------------------------------

#[test]
fn test_established_recv_data_acks_and_delivers() {
    let mut ep = endpoint_established();
    recv(&mut ep, 0, seg("A", 1, Some(1), b"hi"));
    expect(&mut ep, &[("A", 1, Some(3), 0)]);
    assert_eq!(ep.recv(), b"hi");
}

#[test]
fn test_established_recv_out_of_order_data_acks_rcv_nxt() {
    let mut ep = endpoint_established();
    recv(&mut ep, 0, seg("A", 5, Some(1), b"x"));
    expect(&mut ep, &[("A", 1, Some(1), 0)]);
    assert!(ep.recv().is_empty());
}

#[test]
fn test_established_recv_old_segment_acked() {
    let mut ep = endpoint_established();
    recv(&mut ep, 0, seg("S", 0, None, b""));
    expect(&mut ep, &[("A", 1, Some(1), 0)]);
    assert_eq!(ep.state(), State::Established);
}

#[test]
fn test_established_recv_rst_in_window_resets() {
    let mut ep = endpoint_established();
    recv(&mut ep, 0, seg("R", 1, None, b""));
    assert_eq!(ep.state(), State::Closed);
}

#[test]
fn test_established_recv_rst_out_of_window_ignored() {
    let mut ep = endpoint_established();
    recv(&mut ep, 0, seg("R", 0, None, b""));
    assert_eq!(ep.state(), State::Established);
    expect(&mut ep, &[]);
}

#[test]
fn test_established_recv_ack_of_unsent_data_acked() {
    let mut ep = endpoint_established();
    recv(&mut ep, 0, seg("A", 1, Some(9), b""));
    expect(&mut ep, &[("A", 1, Some(1), 0)]);
}

#[test]
fn test_established_send_retransmits_earliest_segment() {
    let mut ep = endpoint_established();
    ep.send(t(0), b"a").unwrap();
    ep.send(t(0), b"b").unwrap();
    expect(&mut ep, &[("A", 1, Some(1), 1), ("A", 2, Some(1), 1)]);
    ep.handle_timeout(t(1000));
    expect(&mut ep, &[("A", 1, Some(1), 1)]);
    // The first is acknowledged: the timer restarts for the second.
    recv(&mut ep, 1500, seg("A", 1, Some(2), b""));
    assert_eq!(ep.poll_timeout(), Some(t(2500)));
}

#[test]
fn test_established_abort_sends_rst() {
    let mut ep = endpoint_established();
    ep.abort(t(0)).unwrap();
    expect(&mut ep, &[("R", 1, None, 0)]);
    assert_eq!(ep.state(), State::Closed);
}

// --- Tests for the FIN-WAIT-1 state -----------------------------------------

#[test]
fn test_fin_wait_1_recv_ack_of_fin() {
    assert_eq!(endpoint_fin_wait_2().state(), State::FinWait2);
}

#[test]
fn test_fin_wait_1_recv_fin_is_simultaneous_close() {
    assert_eq!(endpoint_closing().state(), State::Closing);
}

#[test]
fn test_fin_wait_1_recv_fin_ack_goes_to_time_wait() {
    let mut ep = endpoint_fin_wait_1();
    recv(&mut ep, 0, seg("FA", 1, Some(2), b""));
    expect(&mut ep, &[("A", 2, Some(2), 0)]);
    assert_eq!(ep.state(), State::TimeWait);
}

#[test]
fn test_fin_wait_1_recv_data_still_delivered() {
    let mut ep = endpoint_fin_wait_1();
    recv(&mut ep, 0, seg("A", 1, Some(1), b"z"));
    expect(&mut ep, &[("A", 2, Some(2), 0)]);
    assert_eq!(ep.recv(), b"z");
}

#[test]
fn test_fin_wait_1_rto_retransmits_fin_then_gives_up() {
    let mut ep = endpoint_fin_wait_1();
    for at in [1000, 3000, 7000] {
        ep.handle_timeout(t(at));
        expect(&mut ep, &[("FA", 1, Some(1), 0)]);
    }
    ep.handle_timeout(t(15000));
    expect(&mut ep, &[]);
    assert_eq!(ep.state(), State::Closed);
}

// --- Tests for the FIN-WAIT-2 state -----------------------------------------

#[test]
fn test_fin_wait_2_recv_data_half_close() {
    let mut ep = endpoint_fin_wait_2();
    recv(&mut ep, 0, seg("A", 1, Some(2), b"late"));
    expect(&mut ep, &[("A", 2, Some(5), 0)]);
    assert_eq!(ep.recv(), b"late");
}

#[test]
fn test_fin_wait_2_recv_fin_goes_to_time_wait() {
    assert_eq!(endpoint_time_wait().state(), State::TimeWait);
}

// --- Tests for the CLOSE-WAIT state -----------------------------------------

#[test]
fn test_close_wait_send_data_half_close() {
    let mut ep = endpoint_close_wait();
    ep.send(t(0), b"more").unwrap();
    expect(&mut ep, &[("A", 1, Some(2), 4)]);
}

#[test]
fn test_close_wait_recv_retransmitted_fin_acked() {
    let mut ep = endpoint_close_wait();
    recv(&mut ep, 0, seg("FA", 1, Some(1), b""));
    expect(&mut ep, &[("A", 1, Some(2), 0)]);
    assert_eq!(ep.state(), State::CloseWait);
}

// --- Tests for the CLOSING state --------------------------------------------

#[test]
fn test_closing_recv_ack_of_fin_goes_to_time_wait() {
    let mut ep = endpoint_closing();
    recv(&mut ep, 0, seg("A", 2, Some(2), b""));
    assert_eq!(ep.state(), State::TimeWait);
}

#[test]
fn test_closing_recv_rst_closes() {
    let mut ep = endpoint_closing();
    recv(&mut ep, 0, seg("R", 2, None, b""));
    assert_eq!(ep.state(), State::Closed);
}

// --- Tests for the LAST-ACK state -------------------------------------------

#[test]
fn test_last_ack_recv_ack_of_fin_closes() {
    let mut ep = endpoint_last_ack();
    recv(&mut ep, 0, seg("A", 2, Some(2), b""));
    assert_eq!(ep.state(), State::Closed);
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn test_last_ack_rto_retransmits_fin() {
    let mut ep = endpoint_last_ack();
    ep.handle_timeout(t(1000));
    expect(&mut ep, &[("FA", 1, Some(2), 0)]);
    assert_eq!(ep.poll_timeout(), Some(t(3000)));
}

// --- Tests for the TIME-WAIT state ------------------------------------------

#[test]
fn test_time_wait_expires_after_2msl() {
    let mut ep = endpoint_time_wait();
    assert_eq!(ep.poll_timeout(), Some(t(120_000)));
    ep.handle_timeout(t(119_999));
    assert_eq!(ep.state(), State::TimeWait);
    ep.handle_timeout(t(120_000));
    assert_eq!(ep.state(), State::Closed);
}

#[test]
fn test_time_wait_recv_fin_reacks_and_restarts_2msl() {
    let mut ep = endpoint_time_wait();
    recv(&mut ep, 5000, seg("FA", 1, Some(2), b""));
    expect(&mut ep, &[("A", 2, Some(2), 0)]);
    assert_eq!(ep.poll_timeout(), Some(t(125_000)));
}

#[test]
fn test_time_wait_recv_rst_closes() {
    let mut ep = endpoint_time_wait();
    recv(&mut ep, 0, seg("R", 2, None, b""));
    assert_eq!(ep.state(), State::Closed);
}

#[test]
fn test_sequence_numbers_wrap() {
    // ISS is 2³²−2: the SYN is at 2³²−2, data at 2³²−1 and 0.
    let mut ep = endpoint_established();
    ep.send(t(0), b"ab").unwrap();
    let s = ep.poll_transmit().unwrap();
    assert_eq!(s.seq, SeqNumber(u32::MAX));
    recv(&mut ep, 0, seg("A", 1, Some(3), b""));
    assert_eq!(
        ep.poll_timeout(),
        None,
        "the wrapped ACK acknowledges everything"
    );
}

// --- RFC 5961 and RFC 1337 switches -------------------------------------------

#[test]
fn test_established_recv_rst_not_exact_gets_challenge_ack_with_rfc5961() {
    let mut ep = Endpoint::new(
        Config {
            challenge_ack: true,
            ..config()
        },
        LOCAL,
        ISS,
    );
    ep.listen().unwrap();
    recv(&mut ep, 0, seg("S", 0, None, b""));
    recv(&mut ep, 0, seg("A", 1, Some(1), b""));
    sent(&mut ep);
    recv(&mut ep, 0, seg("R", 5, None, b""));
    expect(&mut ep, &[("A", 1, Some(1), 0)]);
    assert_eq!(ep.state(), State::Established);
    recv(&mut ep, 0, seg("R", 1, None, b""));
    assert_eq!(ep.state(), State::Closed, "exactly RCV.NXT resets");
}

#[test]
fn test_time_wait_recv_rst_ignored_with_rfc1337() {
    let mut ep = endpoint_time_wait();
    ep.config_mut().ignore_rst_in_time_wait = true;
    recv(&mut ep, 0, seg("R", 2, None, b""));
    assert_eq!(ep.state(), State::TimeWait);
    expect(&mut ep, &[]);
}

// --- Events --------------------------------------------------------------------

fn events(ep: &mut Endpoint) -> Vec<Event> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

#[test]
fn test_events_passive_open_reports_established_once() {
    let mut ep = endpoint_syn_received();
    assert_eq!(events(&mut ep), [], "SYN-RECEIVED is not a connection yet");
    recv(&mut ep, 0, seg("A", 1, Some(1), b""));
    assert_eq!(events(&mut ep), [Event::Established]);
    recv(&mut ep, 0, seg("A", 1, Some(1), b"hi"));
    assert_eq!(events(&mut ep), []);
}

#[test]
fn test_events_active_open_reports_established() {
    let mut ep = endpoint_syn_sent();
    recv(&mut ep, 0, seg("SA", 0, Some(1), b""));
    assert_eq!(ep.state(), State::Established);
    assert_eq!(events(&mut ep), [Event::Established]);
}

#[test]
fn test_events_rst_answering_our_syn_is_refused() {
    let mut ep = endpoint_syn_sent();
    recv(&mut ep, 0, seg("RA", 0, Some(1), b""));
    assert_eq!(events(&mut ep), [Event::Refused]);
}

#[test]
fn test_events_rst_in_simultaneous_open_is_refused() {
    let mut ep = endpoint_syn_sent();
    recv(&mut ep, 0, seg("S", 0, None, b""));
    assert_eq!(ep.state(), State::SynReceived);
    recv(&mut ep, 0, seg("R", 1, None, b""));
    assert_eq!(ep.state(), State::Closed);
    assert_eq!(events(&mut ep), [Event::Refused]);
}

#[test]
fn test_events_rst_in_passive_syn_received_reports_nothing() {
    let mut ep = endpoint_syn_received();
    recv(&mut ep, 0, seg("R", 1, None, b""));
    assert_eq!(ep.state(), State::Listen);
    assert_eq!(events(&mut ep), []);
}

#[test]
fn test_events_rst_in_synchronized_states_is_reset() {
    for (name, mut ep) in [
        ("ESTABLISHED", endpoint_established()),
        ("FIN-WAIT-1", endpoint_fin_wait_1()),
        ("FIN-WAIT-2", endpoint_fin_wait_2()),
        ("CLOSE-WAIT", endpoint_close_wait()),
    ] {
        events(&mut ep);
        let rcv_nxt = if name == "CLOSE-WAIT" { 2 } else { 1 };
        recv(&mut ep, 0, seg("R", rcv_nxt, None, b""));
        assert_eq!(ep.state(), State::Closed, "{name}");
        assert_eq!(events(&mut ep), [Event::Reset], "{name}");
    }
}

#[test]
fn test_events_rst_after_both_ends_closed_is_closed() {
    for (name, mut ep) in [
        ("CLOSING", endpoint_closing()),
        ("LAST-ACK", endpoint_last_ack()),
        ("TIME-WAIT", endpoint_time_wait()),
    ] {
        events(&mut ep);
        recv(&mut ep, 0, seg("R", 2, None, b""));
        assert_eq!(ep.state(), State::Closed, "{name}");
        assert_eq!(events(&mut ep), [Event::Closed], "{name}");
    }
}

#[test]
fn test_events_rst_out_of_window_reports_nothing() {
    let mut ep = endpoint_established();
    events(&mut ep);
    recv(&mut ep, 0, seg("R", 100_000, None, b""));
    assert_eq!(ep.state(), State::Established);
    assert_eq!(events(&mut ep), []);
}

#[test]
fn test_events_peer_fin_reports_peer_closed_once() {
    let mut ep = endpoint_established();
    events(&mut ep);
    recv(&mut ep, 0, seg("FA", 1, Some(1), b""));
    assert_eq!(events(&mut ep), [Event::PeerClosed]);
    // A retransmission of the FIN is old news.
    recv(&mut ep, 0, seg("FA", 1, Some(1), b""));
    assert_eq!(events(&mut ep), []);
}

#[test]
fn test_events_close_handshake_reports_closed() {
    let mut ep = endpoint_last_ack();
    events(&mut ep);
    recv(&mut ep, 0, seg("A", 2, Some(2), b""));
    assert_eq!(events(&mut ep), [Event::Closed]);
    let mut ep = endpoint_time_wait();
    assert_eq!(events(&mut ep), [Event::Established, Event::PeerClosed]);
    ep.handle_timeout(t(120_000));
    assert_eq!(events(&mut ep), [Event::Closed]);
}

#[test]
fn test_events_retransmissions_given_up_is_timed_out() {
    let mut ep = endpoint_syn_sent();
    for at in [1000, 3000, 7000] {
        ep.handle_timeout(t(at));
        assert_eq!(events(&mut ep), []);
    }
    ep.handle_timeout(t(15000));
    assert_eq!(ep.state(), State::Closed);
    assert_eq!(events(&mut ep), [Event::TimedOut]);

    let mut ep = endpoint_syn_received();
    for at in [1000, 3000, 7000, 15000] {
        ep.handle_timeout(t(at));
    }
    assert_eq!(ep.state(), State::Listen);
    assert_eq!(events(&mut ep), [], "a passive OPEN's half-open connection");
}

#[test]
fn test_events_own_close_and_abort_report_nothing() {
    let mut ep = endpoint_established();
    events(&mut ep);
    ep.abort(t(0)).unwrap();
    assert_eq!(ep.state(), State::Closed);
    assert_eq!(events(&mut ep), []);
    let mut ep = endpoint_syn_sent();
    ep.close(t(0)).unwrap();
    assert_eq!(events(&mut ep), []);
}

// --- TIME-WAIT reopened by a new SYN (RFC 9293 §3.10.7.4 MAY-2) ---------------

#[test]
fn test_time_wait_recv_new_syn_reopens_a_passive_connection() {
    let mut ep = endpoint_time_wait();
    ep.config_mut().time_wait_reopen = true;
    recv(&mut ep, 1000, seg("S", 10, None, b""));
    assert_eq!(ep.state(), State::SynReceived);
    let s = ep.poll_transmit().unwrap();
    assert!(s.flags.syn && s.flags.ack && s.ack == IRS + 11usize);
    // The new connection is the listener's: a RST returns it to LISTEN.
    recv(&mut ep, 1000, seg("R", 11, None, b""));
    assert_eq!(ep.state(), State::Listen);
}

#[test]
fn test_time_wait_recv_new_syn_acked_by_an_active_opener() {
    // An active opener has no listener behind it to take a new
    // connection: the SYN gets the TIME-WAIT ACK.
    let mut ep = endpoint_syn_sent();
    recv(&mut ep, 0, seg("SA", 0, Some(1), b""));
    expect(&mut ep, &[("A", 1, Some(1), 0)]);
    ep.close(t(0)).unwrap();
    expect(&mut ep, &[("FA", 1, Some(1), 0)]);
    recv(&mut ep, 0, seg("FA", 1, Some(2), b""));
    expect(&mut ep, &[("A", 2, Some(2), 0)]);
    assert_eq!(ep.state(), State::TimeWait);
    ep.config_mut().time_wait_reopen = true;
    recv(&mut ep, 1000, seg("S", 10, None, b""));
    expect(&mut ep, &[("A", 2, Some(2), 0)]);
    assert_eq!(ep.state(), State::TimeWait);
}

// --- The connection-model cells at the interface's edges -------------------

#[test]
fn test_established_recv_rst_at_window_edges() {
    // RFC 9293 §3.10.7.4: the last number in the window is acceptable (a
    // RST there resets), the first past it is not (dropped, no answer).
    let wnd = config().recv_window as u32;
    let mut ep = endpoint_established();
    recv(&mut ep, 0, seg("R", 1 + wnd, None, b""));
    expect(&mut ep, &[]);
    assert_eq!(ep.state(), State::Established);
    recv(&mut ep, 0, seg("R", wnd, None, b""));
    expect(&mut ep, &[]);
    assert_eq!(ep.state(), State::Closed);
}

#[test]
fn test_established_recv_syn_past_window_is_acked() {
    let wnd = config().recv_window as u32;
    let mut ep = endpoint_established();
    recv(&mut ep, 0, seg("S", 1 + wnd, None, b""));
    expect(&mut ep, &[("A", 1, Some(1), 0)]);
    assert_eq!(ep.state(), State::Established);
}

#[test]
fn test_established_close_and_stop_reading_with_unread_data_sends_rst() {
    // RFC 9293 §3.6.1 SHLD-2: the data the application will never read
    // is lost, and a RST says so.
    let mut ep = endpoint_established();
    recv(&mut ep, 0, seg("A", 1, Some(1), b"x"));
    expect(&mut ep, &[("A", 1, Some(2), 0)]);
    ep.close_and_stop_reading(t(0)).unwrap();
    expect(&mut ep, &[("R", 1, None, 0)]);
    assert_eq!(ep.state(), State::Closed);
}

#[test]
fn test_established_close_and_stop_reading_all_read_sends_fin() {
    let mut ep = endpoint_established();
    recv(&mut ep, 0, seg("A", 1, Some(1), b"x"));
    expect(&mut ep, &[("A", 1, Some(2), 0)]);
    assert_eq!(ep.recv(), b"x");
    ep.close_and_stop_reading(t(0)).unwrap();
    expect(&mut ep, &[("FA", 1, Some(2), 0)]);
    assert_eq!(ep.state(), State::FinWait1);
}

#[test]
fn test_established_shutdown_read_sends_nothing() {
    let mut ep = endpoint_established();
    ep.shutdown_read().unwrap();
    expect(&mut ep, &[]);
    assert_eq!(ep.state(), State::Established);
    assert_eq!(
        endpoint_listen().shutdown_read(),
        Err(CallError::NotConnected)
    );
}

#[test]
fn test_time_wait_connect_refused_until_2msl() {
    // RFC 9293 §3.10.1: the pair is held until TIME-WAIT ends.
    let mut ep = endpoint_time_wait();
    assert_eq!(
        ep.connect(t(1000), REMOTE),
        Err(CallError::ConnectionExists)
    );
    expect(&mut ep, &[]);
    assert_eq!(ep.state(), State::TimeWait);
    let end = ep.poll_timeout().expect("2·MSL runs");
    ep.handle_timeout(end);
    assert_eq!(ep.state(), State::Closed);
    ep.connect(end, REMOTE).unwrap();
    assert_eq!(ep.state(), State::SynSent);
}
