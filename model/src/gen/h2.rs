//! HTTP/2's plug-in: the stream-lifecycle model and the corpus `traces/h2`.
//!
//! For each role the IUT plays (server, then client), two models (see
//! [`generation_models`]):
//! 1. The search runs without the harness's probes and labels every step
//!    of the IUT: (stream state before, event, state after, frames emitted).
//! 2. At every state it meets where the harness could probe, each probe
//!    frame is tried once per distinct IUT endpoint (the reaction depends on
//!    nothing else): an excursion whose label gets the path there plus the
//!    probe. This covers the illegal (state, frame) pairs without exploring
//!    what happens after each of them.
//! 3. Each path is projected onto the IUT: frames the connection delivers to
//!    it become `send` steps, its application calls `app` steps, what it
//!    emits `expect` steps (with every reaction RFC 9113 allows), and stream
//!    state changes `state` steps. Over the models, a label keeps its
//!    shortest trace.

use std::collections::HashSet;

use tracewright_vocab::h2::{
    ErrorName, FrameExpect, FrameSpec, FrameType, H2App, H2Step, H2Trace, StreamCheck,
};
use tracewright_vocab::trace::{Coverage, Event, Protocol, Role, Transition, FORMAT};

use super::tcp::role_of;
use super::{cover, Corpus, Label, Plugin, WriteError, Written};
use crate::h2::{
    Action, Code, End, EndStep, Frame, H2Config, H2Model, Inc, Kind, Shape, World, CLIENT,
    DATA_UNIT, HARNESS_WINDOW, MAX_CONCURRENT, SERVER,
};

/// The generated HTTP/2 corpus.
pub type H2Corpus = Corpus<H2Trace>;

/// The HTTP/2 plug-in: both roles, two models each; with
/// `push_once_ended`, the push variants' model alone: the server IUT's
/// model with a push, whose application pushes only once the request ended
/// ([`H2Config::push_once_request_ended`]).
#[derive(Default)]
pub struct H2 {
    pub push_once_ended: bool,
}

impl Plugin for H2 {
    type Model = H2Model;
    type Trace = H2Trace;
    /// The IUT endpoints already probed.
    type Memo = HashSet<End>;
    const COMMAND: &'static str = "h2";
    const PROTOCOL: Protocol = Protocol::H2;

    fn profile(&self) -> String {
        "rfc9113".into()
    }

    fn models(&self) -> Vec<H2Model> {
        if !self.push_once_ended {
            return generation_models();
        }
        let mut cfg = H2Config::new(SERVER);
        cfg.sequential = true;
        cfg.client_streams = 1;
        cfg.push = true;
        cfg.push_once_request_ended = true;
        vec![H2Model::new(cfg)]
    }

    fn step(&self, m: &H2Model, w: &World, a: Action, labels: &mut Vec<Label>) -> Option<World> {
        let (next, es) = m.step(w, a)?;
        if let Some(es) = es.filter(|es| es.end == m.cfg.iut) {
            labels.push(label_of(&es));
        }
        Some(next)
    }

    /// Probes are excursions, not explored.
    fn follows(&self, a: &Action) -> bool {
        !matches!(a, Action::HarnessProbe { .. })
    }

    fn excursions(
        &self,
        m: &H2Model,
        w: &World,
        probed: &mut HashSet<End>,
        found: &mut dyn FnMut(Vec<Action>, Label),
    ) {
        let iut = m.cfg.iut;
        let harness = 1 - iut;
        // The preface probes, where nothing reached the IUT yet (§3.4).
        if !w.probed && !w.ends[iut].got_settings && probed.insert(w.ends[iut].clone()) {
            for frame in H2Model::preface_probes() {
                let a = Action::HarnessProbe {
                    end: harness,
                    frame,
                };
                let d = Action::NetDeliver { from: harness };
                let Some((after_probe, _)) = m.step(w, a) else {
                    continue;
                };
                if let Some((_, Some(es))) = m.step(&after_probe, d) {
                    found(vec![a, d], label_of(&es));
                }
            }
            return;
        }
        // Probes: once per distinct IUT endpoint where one may be sent.
        let can_probe = w.net[harness].is_empty()
            && !w.probed
            && !w.ends[harness].dead
            && w.ends[harness].got_settings
            && w.ends[iut].got_settings
            && !w.ends[iut].dead;
        if !can_probe || !probed.insert(w.ends[iut].clone()) {
            return;
        }
        for frame in m.probes() {
            let a = Action::HarnessProbe {
                end: harness,
                frame,
            };
            let Some((after_probe, _)) = m.step(w, a) else {
                continue;
            };
            let d = Action::NetDeliver { from: harness };
            if frame.shape == Shape::InsideBlock {
                // The HEADERS that opens the block first: only where the
                // IUT takes it and waits for its CONTINUATION.
                let Some((opened, _)) = m.step(&after_probe, d) else {
                    continue;
                };
                if opened.ends[iut].block.is_none() {
                    continue;
                }
                if let Some((_, Some(es))) = m.step(&opened, d) {
                    found(vec![a, d, d], label_of(&es));
                }
                continue;
            }
            if matches!(frame.shape, Shape::WindowOverflow | Shape::AfterShrink) {
                settings_excursion(m, a, after_probe, frame, found);
                continue;
            }
            if frame.shape == Shape::ShortOfContentLength {
                // The HEADERS that declares the length first: only where
                // the IUT takes it without a word.
                let Some((opened, Some(first))) = m.step(&after_probe, d) else {
                    continue;
                };
                if !first.output.is_empty() || opened.ends[iut].dead {
                    continue;
                }
                if let Some((_, Some(es))) = m.step(&opened, d) {
                    found(vec![a, d, d], label_of(&es));
                }
                continue;
            }
            if let Some((_, Some(es))) = m.step(&after_probe, d) {
                found(vec![a, d], label_of(&es));
            }
        }
    }

    fn project(&self, m: &H2Model, init: &World, path: &[Action], label: &Label) -> H2Trace {
        project(m, init, path, label)
    }

    /// Over the models, a label keeps its shortest trace.
    fn prefer(&self, new: &H2Trace, old: &H2Trace) -> bool {
        new.steps.len() < old.steps.len()
    }
}

/// A SETTINGS probe of several frames, delivered one by one: only where
/// the frames before the last do what the probe is about (a WINDOW_UPDATE
/// taken in silence on a stream the IUT still sends on, lifting its window
/// above the initial size; a SETTINGS of INITIAL_WINDOW_SIZE 0 making the
/// probed stream's window negative while it holds DATA, RFC 9113 §6.9.2).
fn settings_excursion(
    m: &H2Model,
    a: Action,
    mut w: World,
    frame: Frame,
    found: &mut dyn FnMut(Vec<Action>, Label),
) {
    use crate::h2::StreamState;
    let iut = m.cfg.iut;
    let d = Action::NetDeliver { from: 1 - iut };
    let mut path = vec![a];
    let mut last = None;
    let mut first = true;
    while !w.net[1 - iut].is_empty() {
        let Some((next, es)) = m.step(&w, d) else {
            return;
        };
        w = next;
        path.push(d);
        if first {
            first = false;
            let ok = match frame.shape {
                Shape::WindowOverflow => {
                    let s = w.ends[iut].stream(1);
                    es.as_ref().is_some_and(|es| es.output.is_empty())
                        && matches!(s.state, StreamState::Open | StreamState::HalfClosedRemote)
                        && s.win > HARNESS_WINDOW as i8
                }
                _ => {
                    let s = w.ends[iut].stream(frame.stream);
                    s.win < 0 && s.pending > 0
                }
            };
            if !ok {
                return;
            }
        }
        last = es;
    }
    if let Some(es) = last {
        found(path, label_of(&es));
    }
}

fn output_text(es: &EndStep) -> String {
    if es.output.is_empty() {
        "-".to_string()
    } else {
        es.output
            .iter()
            .map(|f| f.label())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub fn label_of(es: &EndStep) -> Label {
    (
        role_of(es.end),
        Transition {
            state: es.before.clone(),
            event: es.event.clone(),
            next: es.after.clone(),
            output: output_text(es),
        },
    )
}

fn error_name(c: Code) -> ErrorName {
    match c {
        Code::NoError => ErrorName::NoError,
        Code::ProtocolError => ErrorName::ProtocolError,
        Code::FlowControlError => ErrorName::FlowControlError,
        Code::StreamClosed => ErrorName::StreamClosed,
        Code::FrameSizeError => ErrorName::FrameSizeError,
        Code::RefusedStream => ErrorName::RefusedStream,
        Code::Cancel => ErrorName::Cancel,
        Code::CompressionError => ErrorName::CompressionError,
    }
}

fn frame_type(k: Kind) -> FrameType {
    match k {
        Kind::Data => FrameType::Data,
        Kind::Headers => FrameType::Headers,
        Kind::Priority => FrameType::Priority,
        Kind::RstStream => FrameType::RstStream,
        Kind::Settings => FrameType::Settings,
        Kind::PushPromise => FrameType::PushPromise,
        Kind::Ping => FrameType::Ping,
        Kind::GoAway => FrameType::Goaway,
        Kind::WindowUpdate => FrameType::WindowUpdate,
        Kind::Continuation => FrameType::Continuation,
        Kind::Unknown => FrameType::Unknown,
    }
}

/// A model frame as the harness sends it.
pub fn send_spec(f: &Frame) -> FrameSpec {
    let mut s = FrameSpec::new(frame_type(f.kind));
    let connection_level = matches!(f.kind, Kind::Settings | Kind::Ping | Kind::GoAway);
    if !connection_level || f.stream != 0 {
        s.stream = Some(f.stream.into());
    }
    s.end_stream = f.end_stream;
    if !f.end_headers {
        s.end_headers = Some(false);
    }
    s.ack = f.ack;
    match f.kind {
        Kind::Data => s.len = Some(f.len.into()),
        Kind::RstStream => s.error = Some(error_name(f.code)),
        Kind::GoAway => {
            s.last_stream = Some(f.last.into());
            s.error = Some(error_name(f.code));
        }
        Kind::PushPromise => s.promised = Some(f.promised.into()),
        Kind::WindowUpdate => {
            s.increment = Some(match f.inc {
                Inc::One => DATA_UNIT,
                Inc::Zero => 0,
                Inc::Max => 0x7fff_ffff,
            })
        }
        Kind::Settings if !f.ack => {
            s.initial_window_size = Some(u32::from(HARNESS_WINDOW) * DATA_UNIT);
            s.max_concurrent_streams = Some(MAX_CONCURRENT as u32);
        }
        _ => {}
    }
    if f.bad_len {
        s.length = Some(match f.kind {
            Kind::Priority => 4,
            Kind::Ping => 7,
            _ => 3,
        });
    }
    match f.shape {
        Shape::Plain => {}
        // The IUT announces no SETTINGS_MAX_FRAME_SIZE: the default, 2^14
        // (RFC 9113 §6.5.2).
        Shape::Oversized => s.len = Some(DEFAULT_MAX_FRAME_SIZE + 1),
        Shape::MaxSize => s.len = Some(DEFAULT_MAX_FRAME_SIZE),
        Shape::Padded => s.pad = Some(PAD),
        Shape::BadPadding => s.bad_pad = true,
        Shape::UnknownFlags => s.flags = Some(UNKNOWN_FLAGS),
        Shape::ReservedBit => s.reserved_bit = true,
        Shape::UnknownCode => {
            s.error = None;
            s.error_code = Some(UNKNOWN_ERROR_CODE);
        }
        Shape::InsideBlock => {}
        Shape::Fields(c) => s.fields = Some(c),
        // One octet of DATA after a declared content-length of 2.
        Shape::ShortOfContentLength => {
            debug_assert!(u32::from(f.len) < tracewright_vocab::h2::CONTENT_LENGTH);
        }
        shape => settings_spec(&mut s, shape),
    }
    s
}

// ------------------------------------------------ SETTINGS and the preface

/// A SETTINGS probe carries the one parameter its shape names (RFC 9113
/// §6.5.2), not the harness's preface values; the preface probes are the
/// harness's own SETTINGS behind a bad magic, or a PING.
fn settings_spec(s: &mut FrameSpec, shape: Shape) {
    let only = |s: &mut FrameSpec| {
        s.initial_window_size = None;
        s.max_concurrent_streams = None;
    };
    match shape {
        Shape::EnablePushTwo => {
            only(s);
            s.enable_push = Some(2);
        }
        Shape::WindowAboveMax => {
            only(s);
            s.initial_window_size = Some(1 << 31);
        }
        Shape::FrameSizeBelowMin => {
            only(s);
            s.max_frame_size = Some(DEFAULT_MAX_FRAME_SIZE - 1);
        }
        Shape::FrameSizeAboveMax => {
            only(s);
            s.max_frame_size = Some(1 << 24);
        }
        Shape::UnknownSetting => {
            only(s);
            s.unknown_setting = Some(UNKNOWN_SETTING);
        }
        Shape::AckWithPayload => s.length = Some(6),
        Shape::WindowShrink => {
            only(s);
            s.initial_window_size = Some(0);
        }
        Shape::WindowGrowMax | Shape::WindowOverflow => {
            only(s);
            s.initial_window_size = Some(0x7fff_ffff);
        }
        Shape::BadMagic => s.magic = Some(BAD_MAGIC.into()),
        _ => {}
    }
}

/// A SETTINGS identifier no specification registers (RFC 9113 §6.5.2).
const UNKNOWN_SETTING: u16 = 0x7a7a;
/// The client preface with `SM` turned into `XX` (RFC 9113 §3.4).
const BAD_MAGIC: &str = "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n";

/// SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 §6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 1 << 14;
/// Octets of padding in a padded probe.
const PAD: u8 = 4;
/// Flag bits no frame type the probes use defines (0x40 and 0x80 are
/// undefined for all of RFC 9113's types).
const UNKNOWN_FLAGS: u8 = 0xc0;
/// An error code RFC 9113 §7 does not define.
const UNKNOWN_ERROR_CODE: u32 = 0xbad;

/// A model frame the IUT emits, as a pattern.
pub fn pattern(f: &Frame) -> FrameSpec {
    let mut s = FrameSpec::new(frame_type(f.kind));
    if !matches!(f.kind, Kind::Settings | Kind::Ping | Kind::GoAway) {
        s.stream = Some(f.stream.into());
    }
    s.end_stream = f.end_stream;
    s.ack = f.ack;
    match f.kind {
        // The IUT's DATA is counted in units; its frames on one stream are
        // read as one run.
        Kind::Data => s.len = Some(u32::from(f.len) * DATA_UNIT),
        Kind::RstStream => s.error = Some(error_name(f.code)),
        Kind::GoAway => {
            s.last_stream = Some(f.last.into());
            s.error = Some(error_name(f.code));
        }
        Kind::PushPromise => s.promised = Some(f.promised.into()),
        _ => {}
    }
    s
}

fn app_step(a: Action) -> Option<H2App> {
    let s = |x: u8| u32::from(x);
    Some(match a {
        Action::AppRequest {
            stream, end_stream, ..
        } => H2App::Request {
            stream: s(stream),
            end_stream,
        },
        Action::AppRespond {
            stream, end_stream, ..
        } => H2App::Respond {
            stream: s(stream),
            end_stream,
        },
        Action::AppData {
            stream, end_stream, ..
        } => H2App::Data {
            stream: s(stream),
            end_stream,
            len: DATA_UNIT,
        },
        Action::AppEnd { stream, .. } => H2App::End { stream: s(stream) },
        Action::AppReset { stream, .. } => H2App::Reset { stream: s(stream) },
        Action::AppPush { stream, .. } => H2App::Push { stream: s(stream) },
        Action::AppGoaway { .. } => H2App::Goaway,
        _ => return None,
    })
}

/// Projects a path onto the IUT.
pub fn project(model: &H2Model, init: &World, path: &[Action], label: &Label) -> H2Trace {
    let iut = model.cfg.iut;
    let mut w = init.clone();
    // The IUT's preface: its SETTINGS, announcing the limit the model
    // assumes (§5.1.2).
    let mut preface = pattern(&w.net[iut][0]);
    preface.max_concurrent_streams = Some(MAX_CONCURRENT as u32);
    let mut steps = vec![H2Step::Expect(FrameExpect {
        any_of: vec![preface],
    })];
    // Whether a server sends its SETTINGS before it reads a bad client
    // preface, or at all, is its own (RFC 9113 §3.4): not expected then.
    if path
        .iter()
        .any(|a| matches!(a, Action::HarnessProbe { frame, .. } if frame.shape == Shape::BadMagic))
    {
        steps.clear();
    }
    let mut covers: Vec<Transition> = Vec::new();
    let mut last_stream = 0u8;
    for &a in path {
        let delivered = match a {
            Action::NetDeliver { from } if from != iut => w.net[from].first().copied(),
            _ => None,
        };
        // A header block open at the IUT: where the stream's state moves
        // (with its HEADERS or once the block is whole) is the
        // implementation's, so a connection error inside the block leaves
        // the state unchecked.
        let block_before = w.ends[iut].block.is_some();
        let (next, es) = model.step(&w, a).expect("a path of the model");
        w = next;
        if let Some(f) = delivered {
            steps.push(H2Step::Send(send_spec(&f)));
        } else if a.end() == iut {
            if let Some(call) = app_step(a) {
                steps.push(H2Step::App(call));
            }
        }
        let Some(es) = es.filter(|es| es.end == iut) else {
            continue;
        };
        let mut outputs = es.output.iter();
        let first = outputs.next();
        if first.is_some() || !es.alternatives.is_empty() {
            let mut any_of = vec![first.map_or(FrameSpec::new(FrameType::None), pattern)];
            for alt in &es.alternatives {
                let p = alt
                    .as_ref()
                    .map_or(FrameSpec::new(FrameType::None), pattern);
                if !any_of.contains(&p) {
                    any_of.push(p);
                }
            }
            if es.may_close {
                any_of.push(FrameSpec::new(FrameType::Closed));
            }
            steps.push(H2Step::Expect(FrameExpect { any_of }));
        }
        for f in outputs {
            steps.push(H2Step::Expect(FrameExpect {
                any_of: vec![pattern(f)],
            }));
        }
        // A header block's stream changes state once the block is whole
        // (END_HEADERS), so no state is checked in between.
        let error_in_block = block_before && w.ends[iut].dead;
        if error_in_block {
            last_stream = 0;
        }
        if es.stream != 0 && w.ends[iut].block.is_none() && !error_in_block {
            last_stream = es.stream;
            if es.before != es.after {
                steps.push(H2Step::State(StreamCheck {
                    stream: es.stream.into(),
                    is: es.after.clone(),
                }));
            }
        }
        cover(&mut covers, label_of(&es).1);
    }
    // End by checking the state the last transition left.
    if last_stream != 0 && !matches!(steps.last(), Some(H2Step::State(_))) {
        steps.push(H2Step::State(StreamCheck {
            stream: last_stream.into(),
            is: w.ends[iut].stream(last_stream).state.to_string(),
        }));
    }
    let (role, t) = label;
    H2Trace {
        format: FORMAT.to_string(),
        id: trace_id(label),
        protocol: Protocol::H2,
        iut: *role,
        profile: model.cfg.profile.clone(),
        variant: None,
        description: format!("{role} {t}, by a shortest path"),
        covers,
        steps,
    }
}

/// A stable id from what a trace covers.
pub fn trace_id(label: &Label) -> String {
    super::trace_id("h2", label, |s| {
        let mut out = String::new();
        for c in s.to_ascii_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        out.trim_end_matches('-').to_string()
    })
}

/// The models `generate h2` explores: the IUT as server, then as client.
///
/// Each role is explored twice, in sequential mode (applications act only
/// when nothing is in flight; crossings are reached by probes): with client
/// streams 1 and 3 and no push (multiplexing, concurrency, implicit close),
/// and with stream 1 and a push (the reserved states). One model with all
/// three streams is ten times larger and covers nothing more.
pub fn generation_models() -> Vec<H2Model> {
    let mut v = Vec::new();
    for iut in [SERVER, CLIENT] {
        for (client_streams, push) in [(2, false), (1, true)] {
            let mut cfg = H2Config::new(iut);
            cfg.sequential = true;
            cfg.client_streams = client_streams;
            cfg.push = push;
            v.push(H2Model::new(cfg));
        }
    }
    v
}

/// The suffix of a push variant's id.
pub const PUSH_VARIANT_SUFFIX: &str = "-pushed-once-the-request-ended";

/// Whether `t`'s IUT pushes on a stream whose request is still open
/// (RFC 9113 §5.1, open).
fn pushes_on_an_open_stream(t: &H2Trace) -> bool {
    t.covers
        .iter()
        .any(|c| c.event == Event::app(tracewright_vocab::trace::Call::Push) && c.state == "open")
}

/// For each trace of `corpus` whose server IUT pushes while the request is
/// open, the same transition reached with the push once the request
/// ended, where the model has such a path: what a server that pushes with
/// its answer, and answers once the request ended, can be made to do
/// (README.md, "Real servers"). Each is a trace of its own (its id the
/// label's with [`PUSH_VARIANT_SUFFIX`]); the coverage table keeps the
/// shortest traces.
fn push_variants(corpus: &H2Corpus, progress: &mut dyn FnMut(usize)) -> Vec<H2Trace> {
    let open: HashSet<&str> = corpus
        .traces
        .iter()
        .filter(|t| pushes_on_an_open_stream(t))
        .map(|t| t.id.as_str())
        .collect();
    let variants = super::generate(
        &H2 {
            push_once_ended: true,
        },
        progress,
    );
    variants
        .traces
        .into_iter()
        .filter(|t| open.contains(t.id.as_str()))
        .filter(|t| t.steps.iter().any(|s| matches!(s, H2Step::App(H2App::Push { .. }))))
        .map(|mut t| {
            t.id.push_str(PUSH_VARIANT_SUFFIX);
            t.description = format!(
                "{}, the push once the request ended (as a server that pushes with its answer to a finished request)",
                t.description
            );
            t
        })
        .collect()
}

/// Explores both roles and builds the corpus. `progress` gets the number
/// of states visited so far.
pub fn generate_h2(progress: &mut dyn FnMut(usize)) -> H2Corpus {
    let mut corpus = super::generate(&H2::default(), progress);
    let states = corpus.states;
    let variants = push_variants(&corpus, &mut |n| progress(states + n));
    corpus.traces.extend(variants);
    // The receiver's flow control and the attacks: families of their own
    // (see [`super::h2_families`]), each trace labelled by what it is for.
    for ((role, transition), trace) in super::h2_families::families() {
        corpus
            .coverage
            .transitions
            .push(tracewright_vocab::trace::CoverageEntry {
                role,
                transition,
                trace: Some(trace.id.clone()),
                uncovered: None,
            });
        corpus.traces.push(trace);
    }
    corpus.traces.sort_by(|a, b| a.id.cmp(&b.id));
    corpus
        .coverage
        .transitions
        .sort_by(|a, b| (a.role, &a.transition).cmp(&(b.role, &b.transition)));
    corpus
}

/// Writes the corpus into `dir` (see [`super::write_corpus`]).
pub fn write_h2_corpus(corpus: &H2Corpus, dir: &std::path::Path) -> Result<Written, WriteError> {
    super::write_corpus(corpus, dir)
}

/// The (stream state, frame type received) pairs the corpus covers, per
/// role, as a table: what `generate h2` prints and the report repeats.
pub fn pair_coverage(c: &Coverage) -> String {
    use std::fmt::Write;
    let kinds = Kind::STREAM_KINDS;
    let mut out = String::new();
    for role in [Role::Server, Role::Client] {
        let mut total = 0;
        let _ = writeln!(
            out,
            "(stream state, frame received) pairs covered, IUT as {role}:"
        );
        let _ = write!(out, "{:>21}", "");
        for k in kinds {
            let _ = write!(out, " {:>13}", k.name());
        }
        let _ = writeln!(out);
        for st in crate::h2::StreamState::ALL {
            let covered: Vec<bool> = kinds
                .iter()
                .map(|k| {
                    c.transitions.iter().any(|t| {
                        t.role == role
                            && t.trace.is_some()
                            && t.transition.state == st.name()
                            && matches!(&t.transition.event,
                                Event::Recv { what, .. } if what.split(' ').next() == Some(k.name()))
                    })
                })
                .collect();
            if !covered.iter().any(|&b| b) {
                continue;
            }
            let _ = write!(out, "{:>21}", st.name());
            for &b in &covered {
                total += usize::from(b);
                let _ = write!(out, " {:>13}", if b { "x" } else { "." });
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "  {total} pairs");
    }
    out
}
