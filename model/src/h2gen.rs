//! HTTP/2 trace generation: from the stream-lifecycle model to the
//! `traces/h2/` corpus, as `generate` does for TCP.
//!
//! For each role the IUT plays (server, then client):
//! 1. A deterministic breadth-first search of the model without probes
//!    labels every step of the IUT: (stream state before, event, state after,
//!    frames emitted). The first path to a label is a shortest one.
//! 2. At every state the search meets where the harness could probe, each
//!    probe frame is tried once per distinct IUT endpoint (the reaction
//!    depends on nothing else): a new label gets the path there plus the
//!    probe. This is what covers the illegal (state, frame) pairs without
//!    exploring what happens after each of them.
//! 3. Each path is projected onto the IUT: frames the connection delivers to
//!    it become `send` steps, its application calls `app` steps, what it
//!    emits `expect` steps (with every reaction RFC 9113 allows), and stream
//!    state changes `state` steps. Traces that are a prefix of another are
//!    dropped; their labels go to the longer trace.

use std::collections::{BTreeMap, HashMap, HashSet};

use stateright::Model;
use tracewright_vocab::h2::{
    ErrorName, FrameExpect, FrameSpec, FrameType, H2App, H2Step, H2Trace, StreamCheck,
};
use tracewright_vocab::trace::{Coverage, Protocol, Role, Transition, FORMAT};

use crate::generate::{drop_prefixes, write_files, Projected, Written, COVERAGE_FILE};
use crate::h2::{
    Action, Code, End, EndStep, Frame, H2Config, H2Model, Inc, Kind, World, CLIENT, DATA_UNIT,
    HARNESS_WINDOW, MAX_CONCURRENT, SERVER,
};

pub type Label = (Role, Transition);

/// The generated HTTP/2 corpus.
pub struct H2Corpus {
    pub traces: Vec<H2Trace>,
    pub coverage: Coverage,
    /// States the searches visited (both roles).
    pub states: usize,
}

impl H2Corpus {
    pub fn transitions(&self) -> usize {
        self.coverage.transitions.len()
    }
}

fn role_of(end: usize) -> Role {
    if end == CLIENT {
        Role::Client
    } else {
        Role::Server
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
    s
}

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
    let mut covers: Vec<Transition> = Vec::new();
    let mut last_stream = 0u8;
    for &a in path {
        let delivered = match a {
            Action::NetDeliver { from } if from != iut => w.net[from].first().copied(),
            _ => None,
        };
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
            steps.push(H2Step::Expect(FrameExpect { any_of }));
        }
        for f in outputs {
            steps.push(H2Step::Expect(FrameExpect {
                any_of: vec![pattern(f)],
            }));
        }
        // A header block's stream changes state once the block is whole
        // (END_HEADERS), so no state is checked in between.
        if es.stream != 0 && w.ends[iut].block.is_none() {
            last_stream = es.stream;
            if es.before != es.after {
                steps.push(H2Step::State(StreamCheck {
                    stream: es.stream.into(),
                    is: es.after.clone(),
                }));
            }
        }
        let t = label_of(&es).1;
        if !covers.contains(&t) {
            covers.push(t);
        }
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
    let (role, t) = label;
    let slug = |s: &str| {
        let mut out = String::new();
        for c in s.to_ascii_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        out.trim_end_matches('-').to_string()
    };
    let output = if t.output == "-" {
        "silent".to_string()
    } else {
        format!("sends-{}", slug(&t.output))
    };
    format!(
        "h2-{role}-{}-{}-{}-to-{}",
        slug(&t.state),
        slug(&t.event),
        output,
        slug(&t.next)
    )
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

/// Explores both roles and builds the corpus. `progress` gets the number
/// of states visited so far.
pub fn generate_h2(progress: &mut dyn FnMut(usize)) -> H2Corpus {
    // The shortest trace per label over all the models explored.
    let mut best: BTreeMap<Label, H2Trace> = BTreeMap::new();
    let mut total_states = 0;
    for model in generation_models() {
        let iut = model.cfg.iut;
        let harness = 1 - iut;
        let probes = model.probes();
        // BFS over the model without probe actions.
        let init = model.init_states();
        let mut states: Vec<World> = init.clone();
        let mut parent: Vec<Option<(u32, Action)>> = vec![None; states.len()];
        let mut index: HashMap<World, u32> =
            (0..).zip(&states).map(|(i, w)| (w.clone(), i)).collect();
        let mut first: BTreeMap<Label, (u32, Action)> = BTreeMap::new();
        let mut order: Vec<Label> = Vec::new();
        let mut probed_ends: HashSet<End> = HashSet::new();
        let mut actions = Vec::new();
        let mut i = 0;
        while i < states.len() {
            if i % 8192 == 0 {
                progress(total_states + states.len());
            }
            let w = states[i].clone();
            actions.clear();
            model.actions(&w, &mut actions);
            // Probes: once per distinct IUT endpoint where one may be sent.
            let can_probe = w.net[harness].is_empty()
                && !w.probed
                && !w.ends[harness].dead
                && w.ends[harness].got_settings
                && w.ends[iut].got_settings
                && !w.ends[iut].dead;
            if can_probe && probed_ends.insert(w.ends[iut].clone()) {
                for &frame in &probes {
                    let a = Action::HarnessProbe {
                        end: harness,
                        frame,
                    };
                    let Some((after_probe, _)) = model.step(&w, a) else {
                        continue;
                    };
                    let d = Action::NetDeliver { from: harness };
                    if let Some((_, Some(es))) = model.step(&after_probe, d) {
                        let label = label_of(&es);
                        if !first.contains_key(&label) {
                            // Remember the probe; the delivery follows it.
                            first.insert(label.clone(), (i as u32, a));
                            order.push(label);
                        }
                    }
                }
            }
            for &a in actions
                .iter()
                .filter(|a| !matches!(a, Action::HarnessProbe { .. }))
            {
                let Some((next, es)) = model.step(&w, a) else {
                    continue;
                };
                if let Some(es) = es.filter(|es| es.end == iut) {
                    let label = label_of(&es);
                    if !first.contains_key(&label) {
                        first.insert(label.clone(), (i as u32, a));
                        order.push(label);
                    }
                }
                if !index.contains_key(&next) {
                    index.insert(next.clone(), states.len() as u32);
                    states.push(next);
                    parent.push(Some((i as u32, a)));
                }
            }
            i += 1;
        }
        total_states += states.len();
        progress(total_states);
        for label in &order {
            let (at, a) = first[label];
            let mut path = Vec::new();
            let mut cur = at;
            while let Some((p, pa)) = parent[cur as usize] {
                path.push(pa);
                cur = p;
            }
            path.reverse();
            path.push(a);
            if let Action::HarnessProbe { end, .. } = a {
                path.push(Action::NetDeliver { from: end });
            }
            let trace = project(&model, &states[cur as usize], &path, label);
            let shorter = best
                .get(label)
                .is_none_or(|b| trace.steps.len() < b.steps.len());
            if shorter {
                best.insert(label.clone(), trace);
            }
        }
    }
    let candidates: Vec<(Label, H2Trace)> = best.into_iter().collect();

    let (kept, transitions) = drop_prefixes(candidates);
    H2Corpus {
        traces: kept,
        coverage: Coverage {
            format: FORMAT.to_string(),
            protocol: Protocol::H2,
            profile: "rfc9113".into(),
            transitions,
        },
        states: total_states,
    }
}

impl Projected for H2Trace {
    type Step = H2Step;
    fn iut(&self) -> Role {
        self.iut
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn steps(&self) -> &[H2Step] {
        &self.steps
    }
}

/// Writes the corpus into `dir`.
pub fn write_h2_corpus(corpus: &H2Corpus, dir: &std::path::Path) -> std::io::Result<Written> {
    let mut want: BTreeMap<String, String> = corpus
        .traces
        .iter()
        .map(|t| (format!("{}.yaml", t.id), t.to_yaml()))
        .collect();
    want.insert(
        COVERAGE_FILE.to_string(),
        crate::generate::coverage_yaml(&corpus.coverage),
    );
    write_files(dir, &want)
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
                            && t.transition.event.split(' ').nth(1) == Some(k.name())
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
