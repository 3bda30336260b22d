//! Trace generation: from the model's state graph to the `tracewright/1`
//! corpus.
//!
//! 1. Explore the model breadth-first with a single-threaded search of our
//!    own (stateright's checkers are parallel and do not promise an order;
//!    the corpus must be byte-identical run after run).
//! 2. Label every step with what the implementation under test (IUT) did,
//!    for each of the two endpoints in turn playing the IUT: (role, state
//!    before, event, state after, output). Those labels are the coverage
//!    universe. The first time BFS meets a label, the path to it is a
//!    shortest one.
//! 3. Project each such path onto the IUT: its application calls become
//!    `app` steps, segments the network delivers to it `send` steps, what it
//!    emits `expect` steps, its timers `wait` steps, its state changes `state`
//!    steps. Everything the peer and the network do out of the IUT's sight
//!    (the peer's timers, losses, deliveries to the peer) leaves no step:
//!    the harness plays them.
//! 4. A trace whose steps are a prefix of another's adds nothing: its labels
//!    go to the longer trace, which reaches them along the same shortest path.

use std::collections::{BTreeMap, HashMap};

use stateright::Model;
use tracewright_vocab::trace::{
    AppCall, Coverage, CoverageEntry, Expect, Protocol, Role, SegmentPattern, SegmentSpec, Step,
    Trace, Transition, Wait, FORMAT,
};

use crate::tcp::{Action, EndStep, Segment, TcpModel, World, CLIENT};

/// An abstract transition of one endpoint's side, with the role it plays.
pub type Label = (Role, Transition);

/// The result of [`generate`].
pub struct Corpus {
    pub traces: Vec<Trace>,
    pub coverage: Coverage,
    /// States the search visited.
    pub states: usize,
}

impl Corpus {
    pub fn transitions(&self) -> usize {
        self.coverage.transitions.len()
    }
    pub fn covered(&self) -> usize {
        self.coverage
            .transitions
            .iter()
            .filter(|t| t.trace.is_some())
            .count()
    }
}

pub fn role_of(end: usize) -> Role {
    if end == CLIENT {
        Role::Client
    } else {
        Role::Server
    }
}

pub fn label_of(es: &EndStep) -> Label {
    (
        role_of(es.end),
        Transition {
            state: es.before.to_string(),
            event: es.event.clone(),
            next: es.after.to_string(),
            output: es.output.map_or("-".to_string(), |s| s.kind()),
        },
    )
}

/// Explores the model and builds the corpus. `progress` is called with the
/// number of states visited so far, every few thousand states.
/// The state graph a breadth-first search built: every state reached, in
/// BFS order, with the edge it was first reached by.
pub struct Graph {
    pub states: Vec<World>,
    parent: Vec<Option<(u32, Action)>>,
}

impl Graph {
    /// The shortest path to state `i`: its initial state and the actions.
    pub fn path_to(&self, i: u32) -> (&World, Vec<Action>) {
        let mut path = Vec::new();
        let mut cur = i;
        while let Some((p, a)) = self.parent[cur as usize] {
            path.push(a);
            cur = p;
        }
        path.reverse();
        (&self.states[cur as usize], path)
    }
}

/// A single-threaded, deterministic BFS of the model (stateright's checkers
/// are parallel and promise no order; the corpus and the counterexamples
/// must be the same run after run). `on_edge` sees every step taken, with
/// what the endpoint it concerns did; the search stops at the first state
/// for which `stop` holds, and returns its index.
pub fn bfs(
    model: &TcpModel,
    mut on_edge: impl FnMut(u32, Action, Option<&EndStep>),
    stop: impl Fn(&World) -> bool,
    progress: &mut dyn FnMut(usize),
) -> (Graph, Option<u32>) {
    let states: Vec<World> = model.init_states();
    let mut g = Graph {
        parent: vec![None; states.len()],
        states,
    };
    let mut index: HashMap<World, u32> =
        (0..).zip(&g.states).map(|(i, w)| (w.clone(), i)).collect();
    let mut actions = Vec::new();
    let mut i = 0;
    while i < g.states.len() {
        if i % 4096 == 0 {
            progress(g.states.len());
        }
        if stop(&g.states[i]) {
            return (g, Some(i as u32));
        }
        let w = g.states[i].clone();
        actions.clear();
        model.actions(&w, &mut actions);
        for &a in &actions {
            let Some((next, es)) = model.step(&w, a) else {
                continue;
            };
            on_edge(i as u32, a, es.as_ref());
            if !index.contains_key(&next) {
                index.insert(next.clone(), g.states.len() as u32);
                g.states.push(next);
                g.parent.push(Some((i as u32, a)));
            }
        }
        i += 1;
    }
    progress(g.states.len());
    (g, None)
}

/// Explores the model and builds the corpus. `progress` is called with the
/// number of states visited so far, every few thousand states.
pub fn generate(model: &TcpModel, progress: &mut dyn FnMut(usize)) -> Corpus {
    // The profile's model, then the same profile with a second incarnation
    // (old duplicates, a new ISN, TIME-WAIT reopen), for what only that
    // shows. A label first met in the first model keeps its trace there.
    // Then with data on the client's SYN, for the listener's side: the
    // sockets API has no plain way to put data on a SYN (only TCP Fast
    // Open's), so the client's labels of that model are left out.
    let mut models = vec![model.clone()];
    if !model.cfg.incarnations && !model.cfg.client_syn_data && model.cfg.variant.is_none() {
        models.push(TcpModel::new(model.cfg.clone().with_incarnations()));
        models.push(TcpModel::new(model.cfg.clone().with_syn_data()));
    }
    let mut seen: BTreeMap<Label, ()> = BTreeMap::new();
    let mut candidates: Vec<(Label, Trace)> = Vec::new();
    let mut states = 0;
    for m in &models {
        // Each label, first met (so by a shortest path): the state it
        // leaves and the action taken.
        let mut first: BTreeMap<Label, (u32, Action)> = BTreeMap::new();
        let mut order: Vec<Label> = Vec::new();
        let (graph, _) = bfs(
            m,
            |i, a, es| {
                if let Some(es) = es.filter(|es| !(m.cfg.client_syn_data && es.end == CLIENT)) {
                    let label = label_of(es);
                    if !seen.contains_key(&label) && !first.contains_key(&label) {
                        first.insert(label.clone(), (i, a));
                        order.push(label);
                    }
                }
            },
            |_| false,
            &mut |n| progress(states + n),
        );
        states += graph.states.len();
        // One trace per label, along the shortest path to it.
        for label in order {
            let (at, a) = first[&label];
            let (init, mut path) = graph.path_to(at);
            path.push(a);
            let end = if label.0 == Role::Client { 0 } else { 1 };
            let trace = project(m, init, &path, end, &label);
            seen.insert(label.clone(), ());
            candidates.push((label, trace));
        }
    }
    let (kept, transitions) = drop_prefixes(candidates);
    Corpus {
        traces: kept,
        coverage: Coverage {
            format: FORMAT.to_string(),
            protocol: Protocol::Tcp,
            profile: model.cfg.profile.clone(),
            transitions,
        },
        states,
    }
}

/// What prefix elimination needs of a trace, TCP or HTTP/2.
pub(crate) trait Projected {
    type Step: PartialEq;
    fn iut(&self) -> Role;
    fn id(&self) -> &str;
    fn steps(&self) -> &[Self::Step];
}

impl Projected for Trace {
    type Step = Step;
    fn iut(&self) -> Role {
        self.iut
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn steps(&self) -> &[Step] {
        &self.steps
    }
}

/// Drops the traces whose steps are a prefix of another's (same role): a
/// longer trace reaches their labels along the same path, so the labels go
/// to it. Returns the traces kept, by id, and the coverage record.
pub(crate) fn drop_prefixes<T: Projected>(
    mut candidates: Vec<(Label, T)>,
) -> (Vec<T>, Vec<CoverageEntry>) {
    candidates.sort_by(|a, b| {
        b.1.steps()
            .len()
            .cmp(&a.1.steps().len())
            .then_with(|| a.1.id().cmp(b.1.id()))
    });
    let mut kept: Vec<T> = Vec::new();
    let mut owner: BTreeMap<Label, String> = BTreeMap::new();
    for (label, trace) in candidates {
        let n = trace.steps().len();
        let host = kept.iter().find(|k| {
            k.iut() == trace.iut() && k.steps().len() >= n && k.steps()[..n] == trace.steps()[..]
        });
        match host {
            Some(k) => {
                owner.insert(label, k.id().to_string());
            }
            None => {
                owner.insert(label, trace.id().to_string());
                kept.push(trace);
            }
        }
    }
    kept.sort_by(|a, b| a.id().cmp(b.id()));
    let transitions = owner
        .into_iter()
        .map(|((role, transition), id)| CoverageEntry {
            role,
            transition,
            trace: Some(id),
            uncovered: None,
        })
        .collect();
    (kept, transitions)
}

/// A stable id from what a trace covers.
pub fn trace_id(label: &Label) -> String {
    let (role, t) = label;
    let slug = |s: &str| {
        s.to_ascii_lowercase()
            .replace(' ', "-")
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
    };
    let output = if t.output == "-" {
        "silent".to_string()
    } else {
        format!("sends-{}", slug(&t.output))
    };
    format!(
        "tcp-{role}-{}-{}-{}-to-{}",
        slug(&t.state),
        slug(&t.event),
        output,
        slug(&t.next)
    )
}

fn pattern(s: &Segment) -> SegmentPattern {
    SegmentPattern {
        flags: s.flags,
        // A RST answering a segment without ACK has SEQ=0 in absolute
        // terms (RFC 9293 §3.10.7.1), which no relative number expresses.
        seq: (!(s.flags.rst && s.flags.ack)).then_some(s.seq.into()),
        ack: s.flags.ack.then_some(s.ack.into()),
        len: s.len.into(),
        // The SYN of the IUT's second incarnation carries a new ISN.
        new_isn: s.flags.syn && s.inc > 0,
        peer: 0,
    }
}

/// Projects a path of the model onto endpoint `iut`.
pub fn project(
    model: &TcpModel,
    init: &World,
    path: &[Action],
    iut: usize,
    label: &Label,
) -> Trace {
    let mut w = init.clone();
    let mut steps = Vec::new();
    let mut covers: Vec<Transition> = Vec::new();
    // Once the harness has sent the IUT data, what its application has
    // received is checked with each state check and whenever it changes.
    let mut saw_payload = false;
    let mut checked_state_last = false;
    for &a in path {
        let retries = w.ends[iut].retries;
        let delivered_before = w.ends[iut].delivered;
        let (next, es) = model.step(&w, a).expect("a path of the model");
        w = next;
        let Some(es) = es.filter(|es| es.end == iut) else {
            continue;
        };
        let step = match a {
            Action::AppListen(_) => Step::App(AppCall::Listen),
            Action::AppConnect(_) => Step::App(AppCall::Connect),
            Action::AppSend(_) => Step::App(AppCall::Send(1)),
            Action::AppClose(_) => Step::App(AppCall::Close),
            Action::AppAbort(_) => Step::App(AppCall::Abort),
            Action::NetDeliver(s) => Step::Send(SegmentSpec {
                flags: tracewright_vocab::trace::Flags {
                    psh: s.len > 0,
                    ..s.flags
                },
                seq: s.seq.into(),
                ack: s.flags.ack.then_some(s.ack.into()),
                win: None,
                len: s.len.into(),
                peer: 0,
            }),
            Action::TimerRto(_) => Step::Wait(Wait::Rto(retries.into())),
            Action::Timer2Msl(_) => Step::Wait(Wait::TwoMsl),
            Action::NetLose(_) | Action::NetDuplicate(_) => unreachable!("network only"),
        };
        steps.push(step);
        if let Some(out) = es.output {
            let mut any_of = vec![pattern(&out)];
            // A retransmission may repacketize (RFC 1122 §4.2.2.15): data
            // retransmitted after the FIN was queued may carry the FIN.
            if matches!(a, Action::TimerRto(_)) && out.len > 0 && w.ends[iut].fin_sent {
                let mut merged = pattern(&out);
                merged.flags.fin = true;
                any_of.push(merged);
            }
            steps.push(Step::Expect(Expect { any_of }));
        }
        checked_state_last = es.after != es.before;
        if checked_state_last {
            steps.push(Step::State(es.after));
        }
        let carried = matches!(a, Action::NetDeliver(s) if s.len > 0);
        saw_payload |= carried;
        let delivered = w.ends[iut].delivered;
        if saw_payload && (checked_state_last || carried || delivered != delivered_before) {
            steps.push(Step::Delivered(delivered.into()));
        }
        let t = label_of(&es).1;
        if !covers.contains(&t) {
            covers.push(t);
        }
    }
    // The trace ends by checking the state its last transition left, also
    // when that transition kept the state (an ignored RST, an old segment).
    if !checked_state_last {
        if let Some(Step::Delivered(_)) = steps.last() {
            steps.pop();
        }
        steps.push(Step::State(w.ends[iut].state));
        if saw_payload {
            steps.push(Step::Delivered(w.ends[iut].delivered.into()));
        }
    }
    let (role, t) = label;
    Trace {
        format: FORMAT.to_string(),
        id: trace_id(label),
        protocol: Protocol::Tcp,
        iut: *role,
        profile: model.cfg.profile.clone(),
        variant: None,
        description: format!("{role} {t}, by a shortest path"),
        covers,
        steps,
    }
}

/// What [`write_corpus`] changed on disk.
pub struct Written {
    pub changed: usize,
    pub removed: usize,
}

pub use tracewright_vocab::load::COVERAGE_FILE;

/// The coverage record as YAML: one transition a line.
pub fn coverage_yaml(c: &Coverage) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Every abstract transition of the IUT's side the model can take, and the"
    );
    let _ = writeln!(
        out,
        "# trace that covers it. Generated by `tracewright generate {}`; do not edit.",
        c.protocol
    );
    let _ = writeln!(out, "format: {}", c.format);
    let _ = writeln!(out, "protocol: {}", c.protocol);
    let _ = writeln!(out, "profile: {}", c.profile);
    let _ = writeln!(out, "transitions:");
    for t in &c.transitions {
        let q = |s: &str| format!("{s:?}");
        let _ = write!(
            out,
            "  - {{role: {}, state: {}, event: {}, next: {}, output: {}",
            t.role,
            t.transition.state,
            q(&t.transition.event),
            t.transition.next,
            q(&t.transition.output)
        );
        if let Some(id) = &t.trace {
            let _ = write!(out, ", trace: {id}");
        }
        if let Some(why) = &t.uncovered {
            let _ = write!(out, ", uncovered: {}", q(why));
        }
        let _ = writeln!(out, "}}");
    }
    out
}

/// Writes the corpus into `dir`: one `<id>.yaml` per trace and
/// `coverage.yaml`; files of traces that no longer exist are removed.
/// Unchanged files are not rewritten.
pub fn write_corpus(corpus: &Corpus, dir: &std::path::Path) -> std::io::Result<Written> {
    let mut want: BTreeMap<String, String> = corpus
        .traces
        .iter()
        .map(|t| (format!("{}.yaml", t.id), t.to_yaml()))
        .collect();
    want.insert(COVERAGE_FILE.to_string(), coverage_yaml(&corpus.coverage));
    write_files(dir, &want)
}

/// Makes `dir` hold exactly the `*.yaml` files of `want` (name → text),
/// rewriting only those that changed.
pub fn write_files(
    dir: &std::path::Path,
    want: &BTreeMap<String, String>,
) -> std::io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") && !want.contains_key(&name) {
            std::fs::remove_file(dir.join(&name))?;
            removed += 1;
        }
    }
    let mut changed = 0;
    for (name, text) in want {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text)?;
            changed += 1;
        }
    }
    Ok(Written { changed, removed })
}

/// The model `generate` explores for a profile: its retry limits, one loss
/// more than the largest of them (so that every give-up is reached) and one
/// duplication.
pub fn generation_model(
    profile: &tracewright_vocab::profile::Profile,
) -> Result<TcpModel, String> {
    let cfg = crate::tcp::TcpConfig::from_profile(profile)?;
    let loss = cfg.syn_retries.max(cfg.synack_retries).max(cfg.retries) + 1;
    Ok(TcpModel::new(cfg.with_budgets(loss, 1)))
}

/// The shortest path from an initial state to a state where `bad` holds,
/// by a deterministic single-threaded BFS (stateright's parallel BFS finds a
/// counterexample, not always the shortest; a reader wants the shortest).
pub fn shortest_path_to(
    model: &TcpModel,
    bad: impl Fn(&World) -> bool,
) -> Option<Vec<(World, Option<Action>)>> {
    let (graph, found) = bfs(model, |_, _, _| {}, bad, &mut |_| {});
    let (init, actions) = graph.path_to(found?);
    let mut w = init.clone();
    let mut path = Vec::new();
    for a in actions {
        let next = model.next_state(&w, a).expect("a path of the model");
        path.push((std::mem::replace(&mut w, next), Some(a)));
    }
    path.push((w, None));
    Some(path)
}
