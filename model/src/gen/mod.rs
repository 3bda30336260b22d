//! Trace generation, once for every protocol: from a model's state graph to
//! a `tracewright/1` corpus.
//!
//! 1. Explore the model breadth-first with a single-threaded search of our
//!    own ([`bfs`]; stateright's checkers are parallel and promise no order,
//!    and the corpus must be byte-identical run after run).
//! 2. Label every step with what the implementation under test (IUT) did:
//!    its role and the abstract transition (state before, typed event,
//!    state after, output). Those labels are the coverage universe. The
//!    first time the search meets a label, the path to it is a shortest one.
//! 3. Project each such path onto the IUT: its application calls, what the
//!    harness sends it, what it must emit, its timers and its states become
//!    the trace's steps. What the peer and the network do out of the IUT's
//!    sight leaves no step: the harness plays it.
//! 4. A trace whose steps are a prefix of another's adds nothing: its labels
//!    go to the longer trace, which reaches them along the same path.
//! 5. Write the traces and `coverage.yaml` ([`corpus`]).
//!
//! A protocol plugs in with a [`Plugin`]: its models, how a step is
//! labelled, and how a path is projected onto the IUT. The plug-ins are
//! [`tcp`] (one connection, `traces/tcp*`), [`listener`] (a listener under
//! a SYN flood, `traces/tcp-listener*`) and [`h2`] (HTTP/2 streams,
//! `traces/h2`).

pub mod corpus;
pub mod h2;
pub mod h2_families;
pub mod listener;
pub mod tcp;

use std::collections::{hash_map, BTreeMap, HashMap, HashSet};
use std::hash::Hash;

use stateright::Model;
use tracewright_vocab::h2::{H2Step, H2Trace};
use tracewright_vocab::trace::{
    Coverage, CoverageEntry, Protocol, Role, Step, Trace, Transition, FORMAT,
};

pub use corpus::{
    coverage_text, coverage_yaml, not_another_profiles_corpus, write_corpus, write_files,
    WriteError, Written, COVERAGE_FILE,
};

/// An abstract transition of one side, with the role the IUT plays there:
/// the unit coverage is counted in.
pub type Label = (Role, Transition);

/// The state graph a breadth-first search built: every state reached, in
/// BFS order, with the edge it was first reached by.
pub struct Graph<S, A> {
    pub states: Vec<S>,
    parent: Vec<Option<(u32, A)>>,
}

impl<S, A: Copy> Graph<S, A> {
    /// The shortest path to state `i`: its initial state and the actions.
    pub fn path_to(&self, i: u32) -> (&S, Vec<A>) {
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

/// What [`bfs`] shows its visitor: a state before its edges, then each of
/// its edges with what the step did.
pub enum Visit<'a, S, A, D> {
    State(u32, &'a S),
    Edge(u32, A, &'a D),
}

/// A single-threaded, deterministic BFS of `model`, following the actions
/// for which `follow` holds. `step` takes one action and reports what it
/// did (`None`: not enabled); `visit` sees every state and edge. The search
/// stops at the first state for which `stop` holds and returns its index.
/// `progress` gets the number of states met so far, every few thousand.
pub fn bfs<M: Model, D>(
    model: &M,
    follow: impl Fn(&M::Action) -> bool,
    step: impl Fn(&M::State, M::Action) -> Option<(M::State, D)>,
    mut visit: impl FnMut(Visit<M::State, M::Action, D>),
    stop: impl Fn(&M::State) -> bool,
    progress: &mut dyn FnMut(usize),
) -> (Graph<M::State, M::Action>, Option<u32>)
where
    M::State: Clone + Eq + Hash,
    M::Action: Copy,
{
    let states = model.init_states();
    let mut g = Graph {
        parent: vec![None; states.len()],
        states,
    };
    let mut index: HashMap<M::State, u32> =
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
        visit(Visit::State(i as u32, &w));
        actions.clear();
        model.actions(&w, &mut actions);
        for &a in actions.iter().filter(|a| follow(a)) {
            let Some((next, done)) = step(&w, a) else {
                continue;
            };
            visit(Visit::Edge(i as u32, a, &done));
            if let hash_map::Entry::Vacant(v) = index.entry(next) {
                g.states.push(v.key().clone());
                v.insert(g.states.len() as u32 - 1);
                g.parent.push(Some((i as u32, a)));
            }
        }
        i += 1;
    }
    progress(g.states.len());
    (g, None)
}

/// The shortest path from an initial state to a state where `bad` holds,
/// each state with the action taken from it (`None` at the end), by the
/// deterministic BFS (stateright's parallel one finds a counterexample, not
/// always the shortest; a reader wants the shortest).
pub fn shortest_path_to<M: Model>(
    model: &M,
    bad: impl Fn(&M::State) -> bool,
) -> Option<Vec<(M::State, Option<M::Action>)>>
where
    M::State: Clone + Eq + Hash,
    M::Action: Copy,
{
    let next = |w: &M::State, a| model.next_state(w, a).map(|n| (n, ()));
    let (graph, found) = bfs(model, |_| true, next, |_| {}, bad, &mut |_| {});
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

/// A projected trace, TCP or HTTP/2: what prefix dropping and the corpus
/// writer need of it.
pub trait Projected {
    type Step: PartialEq;
    fn iut(&self) -> Role;
    fn id(&self) -> &str;
    fn steps(&self) -> &[Self::Step];
    /// The trace file's text.
    fn to_yaml(&self) -> String;
}

macro_rules! projected {
    ($trace:ty, $step:ty) => {
        impl Projected for $trace {
            type Step = $step;
            fn iut(&self) -> Role {
                self.iut
            }
            fn id(&self) -> &str {
                &self.id
            }
            fn steps(&self) -> &[$step] {
                &self.steps
            }
            fn to_yaml(&self) -> String {
                <$trace>::to_yaml(self)
            }
        }
    };
}

projected!(Trace, Step);
projected!(H2Trace, H2Step);

/// A protocol's part in generation: its models, how a step is labelled and
/// how a path is projected onto the IUT. The rest is [`generate`].
pub trait Plugin {
    type Model: Model;
    type Trace: Projected;
    /// What the search keeps per model for [`Plugin::excursions`].
    type Memo: Default;
    /// The generator's command (`tracewright generate COMMAND`), named in
    /// the coverage record.
    const COMMAND: &'static str;
    const PROTOCOL: Protocol;

    /// The profile the corpus is generated for.
    fn profile(&self) -> String;

    /// The models explored, in order.
    fn models(&self) -> Vec<Self::Model>;

    /// Takes one action and adds the labels of what the IUT's side did to
    /// `labels`; `None` when the action is not enabled.
    fn step(
        &self,
        model: &Self::Model,
        state: &<Self::Model as Model>::State,
        action: <Self::Model as Model>::Action,
        labels: &mut Vec<Label>,
    ) -> Option<<Self::Model as Model>::State>;

    /// Whether the search follows `action` (the others are reached only by
    /// [`Plugin::excursions`]).
    fn follows(&self, _action: &<Self::Model as Model>::Action) -> bool {
        true
    }

    /// Labelled detours from `state` the search does not follow: each is
    /// the actions taken from `state` and the label its last step earns.
    fn excursions(
        &self,
        _model: &Self::Model,
        _state: &<Self::Model as Model>::State,
        _memo: &mut Self::Memo,
        _found: &mut dyn FnMut(Vec<<Self::Model as Model>::Action>, Label),
    ) {
    }

    /// Projects the path from `init` onto the IUT; `label` names the trace.
    fn project(
        &self,
        model: &Self::Model,
        init: &<Self::Model as Model>::State,
        path: &[<Self::Model as Model>::Action],
        label: &Label,
    ) -> Self::Trace;

    /// Whether a label's trace `new`, from a later model, replaces the one
    /// an earlier model gave it. By default the first model keeps it.
    fn prefer(&self, _new: &Self::Trace, _old: &Self::Trace) -> bool {
        false
    }
}

/// A generated corpus.
pub struct Corpus<T> {
    pub traces: Vec<T>,
    pub coverage: Coverage,
    /// States the searches visited.
    pub states: usize,
    /// The generator's command, for the coverage record's header.
    pub command: &'static str,
}

impl<T> Corpus<T> {
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

/// Explores the plug-in's models and builds the corpus: one trace per
/// label, along the shortest path to it, prefixes dropped. `progress` gets
/// the number of states visited so far.
pub fn generate<P: Plugin>(p: &P, progress: &mut dyn FnMut(usize)) -> Corpus<P::Trace>
where
    <P::Model as Model>::State: Clone + Eq + Hash,
    <P::Model as Model>::Action: Copy,
{
    // Each label's trace, in the order labels were first met.
    let mut best: HashMap<Label, usize> = HashMap::new();
    let mut candidates: Vec<(Label, P::Trace)> = Vec::new();
    let mut states = 0;
    for m in p.models() {
        let mut first = Firsts::default();
        let mut memo = P::Memo::default();
        let step = |w: &_, a| {
            let mut labels = Vec::new();
            p.step(&m, w, a, &mut labels).map(|next| (next, labels))
        };
        let (graph, _) = bfs(
            &m,
            |a| p.follows(a),
            step,
            |v| match v {
                Visit::State(i, w) => p.excursions(&m, w, &mut memo, &mut |path, label| {
                    first.met(i, &label, || path)
                }),
                Visit::Edge(i, a, labels) => {
                    for label in labels {
                        first.met(i, label, || vec![a]);
                    }
                }
            },
            |_| false,
            &mut |n| progress(states + n),
        );
        states += graph.states.len();
        progress(states);
        for (label, (at, suffix)) in first.order.into_iter().zip(first.paths) {
            let (init, mut path) = graph.path_to(at);
            path.extend(suffix);
            let trace = p.project(&m, init, &path, &label);
            match best.get(&label) {
                None => {
                    best.insert(label.clone(), candidates.len());
                    candidates.push((label, trace));
                }
                Some(&k) if p.prefer(&trace, &candidates[k].1) => candidates[k].1 = trace,
                Some(_) => {}
            }
        }
    }
    let (traces, transitions) = drop_prefixes(candidates);
    Corpus {
        traces,
        coverage: Coverage {
            format: FORMAT.to_string(),
            protocol: P::PROTOCOL,
            profile: p.profile(),
            transitions,
        },
        states,
        command: P::COMMAND,
    }
}

/// The labels one search met, each the first time (so by a shortest
/// path): the state it leaves and the actions taken from there.
struct Firsts<A> {
    seen: HashSet<Label>,
    order: Vec<Label>,
    paths: Vec<(u32, Vec<A>)>,
}

impl<A> Default for Firsts<A> {
    fn default() -> Self {
        Firsts {
            seen: HashSet::new(),
            order: Vec::new(),
            paths: Vec::new(),
        }
    }
}

impl<A> Firsts<A> {
    fn met(&mut self, at: u32, label: &Label, suffix: impl FnOnce() -> Vec<A>) {
        if !self.seen.contains(label) {
            self.seen.insert(label.clone());
            self.order.push(label.clone());
            self.paths.push((at, suffix()));
        }
    }
}

/// Drops the traces whose steps are a prefix of another's (same role): a
/// longer trace reaches their labels along the same path, so the labels go
/// to it. Returns the traces kept, by id, and the coverage record.
pub fn drop_prefixes<T: Projected>(
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

/// Adds the transition of `label` to a trace's `covers`, once.
pub(crate) fn cover(covers: &mut Vec<Transition>, t: Transition) {
    if !covers.contains(&t) {
        covers.push(t);
    }
}

/// A stable id from what a trace covers: `PREFIX-ROLE-STATE-EVENT-OUTPUT-to-NEXT`,
/// each part made a slug by `slug`.
pub(crate) fn trace_id(prefix: &str, label: &Label, slug: impl Fn(&str) -> String) -> String {
    let (role, t) = label;
    let output = if t.output == "-" {
        "silent".to_string()
    } else {
        format!("sends-{}", slug(&t.output))
    };
    format!(
        "{prefix}-{role}-{}-{}-{}-to-{}",
        slug(&t.state),
        slug(&t.event.to_string()),
        output,
        slug(&t.next)
    )
}
