//! The HTTP/2 model: its properties hold, its state counts are pinned (a
//! silent change to the model shows up here), and the checker finds what it
//! should when a mechanism is taken out.

use stateright::{Checker, Model};
use tracewright_model::h2::{
    Action, Code, Frame, H2Config, H2Model, Kind, Reaction, StreamState, World, CLIENT, SERVER,
};

fn sequential(iut: usize, client_streams: u8, push: bool) -> H2Model {
    let mut cfg = H2Config::new(iut);
    cfg.probes = false;
    cfg.sequential = true;
    cfg.client_streams = client_streams;
    cfg.push = push;
    H2Model::new(cfg)
}

/// What `check h2` explores: frames cross both ways (each application acts
/// whenever it likes), the IUT (server) holds the one-unit stream window
/// and the three-unit connection window. Client
/// streams 1 and 3 without push, then stream 1 with a push; all three
/// streams at once are beyond an exhaustive search here.
#[test]
fn the_checked_models_satisfy_every_property() {
    for (client_streams, push, states) in [(2, false, 3_224_645), (1, true, 709_375)] {
        let mut cfg = H2Config::new(SERVER);
        cfg.probes = false;
        cfg.client_streams = client_streams;
        cfg.push = push;
        let c = H2Model::new(cfg).checker().spawn_bfs().join();
        c.assert_properties();
        assert_eq!(c.unique_state_count(), states);
    }
}

#[test]
fn generation_models_satisfy_every_property_and_keep_their_size() {
    // (iut, client streams, push) → unique states.
    let pinned = [
        (SERVER, 2, false, 698_450),
        (SERVER, 1, true, 175_548),
        (CLIENT, 2, false, 1_118_240),
        (CLIENT, 1, true, 30_168),
    ];
    let mut got = Vec::new();
    for (iut, cs, push, _) in pinned {
        let c = sequential(iut, cs, push).checker().spawn_bfs().join();
        for p in sequential(iut, cs, push).properties() {
            if p.expectation.discovery_is_failure() {
                assert!(c.discovery(p.name).is_none(), "{} violated", p.name);
            }
        }
        got.push((iut, cs, push, c.unique_state_count()));
    }
    assert_eq!(got, pinned);
}

#[test]
fn multiplexing_is_reached() {
    let c = sequential(SERVER, 2, false).checker().spawn_bfs().join();
    assert!(c.discovery("two_streams_open_at_once").is_some());
    assert!(c
        .discovery("one_stream_blocked_while_another_flows")
        .is_some());
    let p = sequential(SERVER, 1, true).checker().spawn_bfs().join();
    assert!(p.discovery("push_completes").is_some());
    // The IUT spends the connection window on two streams, a response and
    // its push, and one waits for WINDOW_UPDATE on stream 0.
    for c in [&c, &p] {
        let path = c
            .discovery("connection_window_blocks_the_sender")
            .expect("the connection window is spent");
        let w = path.last_state();
        assert_eq!(w.ends[SERVER].conn_win, 0);
    }
}

fn delivered_to(m: &H2Model, w: &World, to: usize, f: Frame) -> (World, Vec<Frame>) {
    let mut w = w.clone();
    w.net[1 - to] = vec![f].into();
    let (next, es) = m.step(&w, Action::NetDeliver { from: 1 - to }).unwrap();
    (next, es.map(|e| e.output).unwrap_or_default())
}

/// The model's reactions are what RFC 9113 says, checked on a few pairs
/// directly (the corpus checks all of them against the bundled stack).
#[test]
fn reactions_follow_rfc_9113() {
    let m = H2Model::new(H2Config::new(SERVER));
    let init = m.init_states().remove(0);
    // Preface done on both sides.
    let mut w = init.clone();
    for from in [CLIENT, SERVER, CLIENT, SERVER] {
        w = m.step(&w, Action::NetDeliver { from }).unwrap().0;
    }
    // §5.1 idle: DATA is a connection error PROTOCOL_ERROR.
    let (_, out) = delivered_to(&m, &w, SERVER, Frame::data(1, 1, false));
    assert_eq!(out, vec![Frame::goaway(0, Code::ProtocolError)]);
    // §5.1 idle: HEADERS opens the stream, silently.
    let (open, out) = delivered_to(&m, &w, SERVER, Frame::headers(1, true));
    assert!(out.is_empty());
    assert_eq!(
        open.ends[SERVER].stream(1).state,
        StreamState::HalfClosedRemote
    );
    // §5.1 half-closed (remote): DATA is a stream error STREAM_CLOSED, or a
    // connection error (§5.4.1).
    let rs = m.reactions(&open.ends[SERVER], SERVER, &Frame::data(1, 1, false));
    assert_eq!(
        rs,
        vec![
            Reaction::StreamError(Code::StreamClosed),
            Reaction::ConnError(Code::StreamClosed)
        ]
    );
    // §6.10: CONTINUATION out of nowhere is a connection error.
    let rs = m.reactions(
        &open.ends[SERVER],
        SERVER,
        &Frame::new(Kind::Continuation, 1),
    );
    assert_eq!(rs, vec![Reaction::ConnError(Code::ProtocolError)]);
    // §8.4: a server never accepts PUSH_PROMISE.
    let rs = m.reactions(
        &open.ends[SERVER],
        SERVER,
        &Frame::new(Kind::PushPromise, 1),
    );
    assert_eq!(rs, vec![Reaction::ConnError(Code::ProtocolError)]);
}

/// Both sides' settings varied (RFC 9113 §6.5.2): a client IUT that
/// announced ENABLE_PUSH 0 takes a PUSH_PROMISE as a connection error
/// PROTOCOL_ERROR where one that did not accepts it (§6.6, §8.4); and a
/// request beyond the peer's MAX_CONCURRENT_STREAMS sends nothing (§5.1.2).
#[test]
fn a_client_that_disabled_push_refuses_it_and_one_held_back_sends_nothing() {
    let with_push = |enable: bool| {
        let mut cfg = H2Config::new(CLIENT);
        cfg.iut_enable_push = enable;
        H2Model::new(cfg)
    };
    let promise = Frame {
        promised: 2,
        ..Frame::new(Kind::PushPromise, 1)
    };
    for (enable, want) in [
        (true, vec![Reaction::Accept]),
        (false, vec![Reaction::ConnError(Code::ProtocolError)]),
    ] {
        let m = with_push(enable);
        let mut w = m.init_states().remove(0);
        for from in [CLIENT, SERVER, CLIENT, SERVER] {
            w = m.step(&w, Action::NetDeliver { from }).unwrap().0;
        }
        let request = Action::AppRequest {
            end: CLIENT,
            stream: 1,
            end_stream: false,
            split: false,
        };
        w = m.step(&w, request).unwrap().0;
        assert_eq!(w.ends[CLIENT].stream(1).state, StreamState::Open);
        assert_eq!(m.reactions(&w.ends[CLIENT], CLIENT, &promise), want);
    }
    assert_eq!(
        H2Model::request_within_limit(0, 1, 1),
        vec![Some(Frame::headers(1, true))]
    );
    assert_eq!(H2Model::request_within_limit(1, 1, 3), vec![None]);
    assert_eq!(
        H2Model::held_request_released(3),
        vec![Some(Frame::headers(3, true)), None]
    );
}
