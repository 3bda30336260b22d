//! Two families of HTTP/2 traces the stream-lifecycle search does not
//! walk, generated from the rules at the end of [`crate::h2`]:
//!
//! - **Flow control as a receiver** (RFC 9113 §6.9). The harness spends
//!   the IUT's receive windows with full frames: on one stream (both the
//!   stream's and the connection's window must come back) and on two
//!   streams (only the connection's must). Every DATA the harness sends
//!   needs window, so a receiver that does not give it back as it reads
//!   stalls the harness, which the replay reports where it happens: the
//!   WINDOW_UPDATE may come at any point up to the frame that needs it.
//!   And one DATA frame one octet beyond the IUT's stream window, or beyond
//!   its connection window ([`H2Model::overrun_reactions`]).
//! - **Attacks at bounded cost** (§10.5): one trace per attack and role
//!   where it applies, a [`Flood`] step of [`attack_rounds`] rounds that
//!   allows each defence the RFC leaves open ([`attack_stops`]) and the
//!   answers the RFC requires ([`attack_answers`]).
//!
//! Each trace starts with the preface every generated trace has, and is
//! labelled by the one transition it exists for.

use tracewright_vocab::h2::{
    FrameExpect, FrameSpec, FrameType, H2App, H2Step, H2Trace, StreamCheck,
};
use tracewright_vocab::trace::{Call, Event, Protocol, Qualifier, Role, Transition, FORMAT};

use super::h2::{pattern, send_spec, trace_id};
use super::Label;
use crate::h2::{
    attack_answers, attack_rounds, attack_stops, attacks_client, client_attack_answers,
    client_attack_streams, Attack, Frame, H2Model, Kind, Window, FULL_FRAME,
    HARNESS_MAX_CONCURRENT, LARGE_STREAM_WINDOW, MAX_CONCURRENT, SMALL_STREAM_WINDOW,
};

/// Every trace of both families, with its label.
pub fn families() -> Vec<(Label, H2Trace)> {
    let mut v = Vec::new();
    for role in [Role::Server, Role::Client] {
        v.extend(window_given_back(role, false));
        v.extend(window_given_back(role, true));
        v.extend(overrun(role, Window::Stream));
        v.extend(overrun(role, Window::Connection));
        for a in [
            Attack::RapidReset,
            Attack::ContinuationFlood,
            Attack::SettingsFlood,
            Attack::PingFlood,
            Attack::HpackBomb,
        ] {
            v.extend(attack(role, a));
        }
    }
    v.extend(settings_families());
    v
}

/// The preface: the IUT's SETTINGS (announcing what `iut_settings` adds to
/// the model's limit on concurrent streams), the harness's, and both ACKs.
fn preface(iut_settings: impl FnOnce(&mut FrameSpec)) -> Vec<H2Step> {
    preface_with(iut_settings, |_| {})
}

/// The preface, with what `harness_settings` changes of the harness's
/// SETTINGS.
fn preface_with(
    iut_settings: impl FnOnce(&mut FrameSpec),
    harness_settings: impl FnOnce(&mut FrameSpec),
) -> Vec<H2Step> {
    let mut theirs = FrameSpec::new(FrameType::Settings);
    theirs.max_concurrent_streams = Some(MAX_CONCURRENT as u32);
    iut_settings(&mut theirs);
    let mut ours = send_spec(&Frame::new(Kind::Settings, 0));
    harness_settings(&mut ours);
    let ack = FrameSpec {
        ack: true,
        ..FrameSpec::new(FrameType::Settings)
    };
    vec![
        H2Step::Expect(FrameExpect {
            any_of: vec![theirs],
        }),
        H2Step::Send(ours),
        H2Step::Expect(FrameExpect {
            any_of: vec![ack.clone()],
        }),
        H2Step::Send(ack),
    ]
}

/// Stream `id` opened with a request: by the harness (a server IUT) or by
/// the IUT's application, answered by the harness (a client IUT). The
/// stream is open at the IUT after.
fn open_stream(role: Role, id: u32) -> Vec<H2Step> {
    let headers = FrameSpec {
        stream: Some(id),
        ..FrameSpec::new(FrameType::Headers)
    };
    match role {
        Role::Client => vec![
            H2Step::App(H2App::Request {
                stream: id,
                end_stream: false,
            }),
            H2Step::Expect(FrameExpect {
                any_of: vec![headers.clone()],
            }),
            H2Step::Send(headers),
        ],
        _ => vec![H2Step::Send(headers)],
    }
}

fn data(stream: u32, len: u32) -> H2Step {
    H2Step::Send(FrameSpec {
        stream: Some(stream),
        len: Some(len),
        ..FrameSpec::new(FrameType::Data)
    })
}

fn state(stream: u32, is: &str) -> H2Step {
    H2Step::State(StreamCheck {
        stream,
        is: is.into(),
    })
}

fn trace(role: Role, t: Transition, steps: Vec<H2Step>, why: &str) -> (Label, H2Trace) {
    let label = (role, t);
    let (role, t) = &label;
    let trace = H2Trace {
        format: FORMAT.to_string(),
        id: trace_id(&label),
        protocol: Protocol::H2,
        iut: *role,
        profile: "rfc9113".into(),
        variant: None,
        description: format!("{role} {t}: {why}"),
        covers: vec![t.clone()],
        steps,
    };
    (label, trace)
}

/// The octets the IUT's receive windows start with (RFC 9113 §6.9.2: the
/// connection's is 65 535 whatever SETTINGS say; a stream's is
/// SETTINGS_INITIAL_WINDOW_SIZE, 65 535 when the IUT announces none).
const DEFAULT_WINDOW: u32 = 65_535;

/// The harness sends full DATA frames until it has sent more than the
/// IUT's windows started with: on stream 1 alone (`two_streams` false:
/// both windows must come back), or alternately on streams 1 and 3 (only
/// the connection's must: neither stream spends its own).
fn window_given_back(role: Role, two_streams: bool) -> Vec<(Label, H2Trace)> {
    let mut steps = preface(|_| {});
    let streams: &[u32] = if two_streams { &[1, 3] } else { &[1] };
    for &s in streams {
        steps.extend(open_stream(role, s));
    }
    // One frame more than the connection window holds.
    let frames = DEFAULT_WINDOW / FULL_FRAME + 2;
    for k in 0..frames {
        steps.push(data(streams[k as usize % streams.len()], FULL_FRAME));
    }
    for &s in streams {
        steps.push(state(s, "open"));
    }
    let (event, output) = if two_streams {
        (
            "DATA on two streams beyond the connection window's start",
            "WINDOW_UPDATE[0]",
        )
    } else {
        (
            "DATA beyond the stream and connection windows' start",
            "WINDOW_UPDATE[0] WINDOW_UPDATE[1]",
        )
    };
    let t = Transition {
        state: "open".into(),
        event: Event::recv(event),
        next: "open".into(),
        output: output.into(),
    };
    vec![trace(
        role,
        t,
        steps,
        "the receiver gives window back as it reads (RFC 9113 §6.9.1), before the harness's sends stall",
    )]
}

/// One DATA frame one octet beyond the IUT's stream window (which it is
/// asked to announce below a frame's size), or beyond its connection
/// window (the stream window and the largest frame asked above it).
fn overrun(role: Role, window: Window) -> Vec<(Label, H2Trace)> {
    let mut steps = preface(|s| match window {
        Window::Stream => s.initial_window_size = Some(SMALL_STREAM_WINDOW),
        Window::Connection => {
            s.initial_window_size = Some(LARGE_STREAM_WINDOW);
            s.max_frame_size = Some(LARGE_STREAM_WINDOW);
        }
    });
    steps.extend(open_stream(role, 1));
    steps.push(state(1, "open"));
    steps.push(H2Step::Send(FrameSpec {
        stream: Some(1),
        beyond: Some(window),
        ..FrameSpec::new(FrameType::Data)
    }));
    // The GOAWAY names the last stream the IUT processed: the harness's
    // stream 1 at a server, none at a client.
    let last = if role == Role::Server { 1 } else { 0 };
    let mut any_of = Vec::new();
    for r in H2Model::overrun_reactions(window) {
        if let Some(f) = r.frame(1, last) {
            any_of.push(pattern(&f));
        }
    }
    let first = any_of[0].clone();
    steps.push(H2Step::Expect(FrameExpect { any_of }));
    let stream_error = first.kind == FrameType::RstStream;
    if stream_error {
        steps.push(state(1, "closed"));
    }
    let name = match window {
        Window::Stream => "stream",
        Window::Connection => "connection",
    };
    let t = Transition {
        state: "open".into(),
        event: Event::recv(format!("DATA beyond the {name} window")),
        next: if stream_error { "closed" } else { "open" }.into(),
        output: H2Model::overrun_reactions(window)[0]
            .frame(1, last)
            .map_or("-".into(), |f| f.label()),
    };
    vec![trace(
        role,
        t,
        steps,
        "a sender MUST NOT exceed the receiver's window (RFC 9113 §6.9.1)",
    )]
}

/// The attack's trace for `role`, where it applies: rapid reset, a flood
/// of requests, to a server only; the CONTINUATION flood and the HPACK
/// bomb to a client as responses on streams its application opened
/// ([`client_attack_streams`]).
fn attack(role: Role, a: Attack) -> Vec<(Label, H2Trace)> {
    if role == Role::Client && !attacks_client(a) {
        return vec![];
    }
    let mut steps = preface(|_| {});
    let (answers, every_round) = if role == Role::Client {
        // The streams whose responses the harness floods, each request
        // ending its stream.
        for id in client_attack_streams(a) {
            steps.push(H2Step::App(H2App::Request {
                stream: id.into(),
                end_stream: true,
            }));
            steps.push(expect_of(&[Some(Frame::headers(id, true))]));
        }
        client_attack_answers(a)
    } else {
        attack_answers(a)
    };
    let (stops, must_stop) = attack_stops(a);
    let rounds = attack_rounds(a);
    let output = if must_stop {
        stops[0].to_string()
    } else if every_round {
        format!("{} x{rounds}", answers[0])
    } else {
        "-".into()
    };
    steps.push(H2Step::Flood(tracewright_vocab::h2::Flood {
        attack: a,
        rounds,
        answers,
        every_round,
        stops,
        must_stop,
    }));
    let t = Transition {
        state: "connection".into(),
        event: Event::recv(a.name()),
        next: "connection".into(),
        output,
    };
    let why = if must_stop {
        "the IUT must defend itself (RFC 9113 §10.5): taking it all is unbounded acceptance"
    } else {
        "the IUT defends itself (RFC 9113 §10.5) or still answers a PING after it"
    };
    vec![trace(role, t, steps, why)]
}

// ---------------------------------------------------------------------------
// Both sides' settings varied (RFC 9113 §6.5.2), from the rules at the end
// of [`crate::h2`]: a client IUT that announced ENABLE_PUSH 0 is sent a
// PUSH_PROMISE, and a client IUT held back by the harness's
// MAX_CONCURRENT_STREAMS is asked for a stream beyond it.

fn settings_families() -> Vec<(Label, H2Trace)> {
    let mut v = push_when_disabled();
    v.extend(request_beyond_peer_limit());
    v
}

fn expect_of(alts: &[Option<Frame>]) -> H2Step {
    H2Step::Expect(FrameExpect {
        any_of: alts
            .iter()
            .map(|f| match f {
                Some(f) => pattern(f),
                None => FrameSpec::new(FrameType::None),
            })
            .collect(),
    })
}

/// A client IUT announces SETTINGS_ENABLE_PUSH 0 and opens stream 1; the
/// harness answers and then promises stream 2 on it anyway
/// ([`H2Model::push_disabled_reactions`]).
fn push_when_disabled() -> Vec<(Label, H2Trace)> {
    let mut steps = preface(|s| s.enable_push = Some(0));
    steps.extend(open_stream(Role::Client, 1));
    steps.push(state(1, "open"));
    steps.push(H2Step::Send(send_spec(&Frame {
        promised: 2,
        ..Frame::new(Kind::PushPromise, 1)
    })));
    // The client processed none of the server's streams: last-stream-id 0.
    let reactions = H2Model::push_disabled_reactions();
    let alts: Vec<Option<Frame>> = reactions.iter().map(|r| r.frame(1, 0)).collect();
    steps.push(expect_of(&alts));
    let t = Transition {
        state: "open".into(),
        event: Event::recv("PUSH_PROMISE after ENABLE_PUSH 0"),
        next: "open".into(),
        output: alts[0].map_or("-".into(), |f| f.label()),
    };
    vec![trace(
        Role::Client,
        t,
        steps,
        "a client that announced SETTINGS_ENABLE_PUSH 0 treats a PUSH_PROMISE as a connection error PROTOCOL_ERROR (RFC 9113 §6.5.2, §6.6, §8.4)",
    )]
}

/// The harness, as server, allows [`HARNESS_MAX_CONCURRENT`] stream; the
/// client IUT's application asks for stream 1, then for stream 3 while 1
/// is open: nothing may go ([`H2Model::request_within_limit`]). When the
/// harness's response ends stream 1, the held request may go
/// ([`H2Model::held_request_released`]).
fn request_beyond_peer_limit() -> Vec<(Label, H2Trace)> {
    let limit = HARNESS_MAX_CONCURRENT;
    let mut steps = preface_with(|_| {}, |s| s.max_concurrent_streams = Some(limit));
    steps.push(H2Step::App(H2App::Request {
        stream: 1,
        end_stream: true,
    }));
    steps.push(expect_of(&H2Model::request_within_limit(0, limit, 1)));
    steps.push(state(1, "half-closed (local)"));
    steps.push(H2Step::App(H2App::Request {
        stream: 3,
        end_stream: true,
    }));
    let beyond = H2Model::request_within_limit(limit, limit, 3);
    steps.push(expect_of(&beyond));
    steps.push(H2Step::Send(send_spec(&Frame::headers(1, true))));
    steps.push(state(1, "closed"));
    steps.push(expect_of(&H2Model::held_request_released(3)));
    let t = Transition {
        state: "idle".into(),
        // Stream 3 stays idle: the request waits at the IUT.
        event: Event::App {
            call: Call::Request,
            qualifier: Some(Qualifier::EndStream),
        },
        next: "idle".into(),
        output: "-".into(),
    };
    vec![trace(
        Role::Client,
        t,
        steps,
        "an endpoint MUST NOT exceed the limit set by its peer (RFC 9113 §5.1.2): the request beyond it is held or refused locally, never sent",
    )]
}
