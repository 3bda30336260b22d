//! Trace generation for the listener model: the corpus `traces/tcp-listener`.
//!
//! The same recipe as [`crate::generate`] for the single connection: a
//! deterministic breadth-first search of the model; every abstract
//! transition of the IUT's side (connection state before, event, state after,
//! output) first met by a shortest path; that path projected onto the IUT;
//! traces that are a prefix of another dropped. The labels are the
//! transitions of the connection with the peer concerned (LISTEN when the
//! listener holds none); the role is `listener`.
//!
//! Projection: listen() and accept() become `app` steps, segments delivered
//! to the IUT `send` steps with the peer's `peer: N`, what the IUT emits
//! `expect` steps (also the SYN-ACKs to flooders, which the harness receives
//! in their place), the half-open connections' timers one `wait: rto(n)`.
//! What the peers do out of the IUT's sight (a client receiving a SYN-ACK,
//! a loss) leaves no step. The listening socket stays in LISTEN: the trace
//! checks it after listen() and at the end.

use std::collections::{BTreeMap, HashMap};

use stateright::Model;
use tracewright_vocab::trace::{
    AppCall, Coverage, Expect, Protocol, Role, SegmentPattern, SegmentSpec, Step, TcpState, Trace,
    Transition, Wait, FORMAT,
};

use crate::generate::{drop_prefixes, trace_id, Corpus, Label};
use crate::listener::{LAction, LSeg, LStep, LWorld, ListenerConfig, ListenerModel};

/// The state graph of a BFS: each state with the edge that first reached it.
pub struct Graph {
    pub states: Vec<LWorld>,
    parent: Vec<Option<(u32, LAction)>>,
}

impl Graph {
    pub fn path_to(&self, i: u32) -> (&LWorld, Vec<LAction>) {
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

/// A single-threaded, deterministic BFS; `on_edge` sees every step with
/// what the IUT did; stops at the first state where `stop` holds.
pub fn bfs(
    m: &ListenerModel,
    mut on_edge: impl FnMut(u32, LAction, &[LStep]),
    stop: impl Fn(&LWorld) -> bool,
) -> (Graph, Option<u32>) {
    let states = m.init_states();
    let mut g = Graph {
        parent: vec![None; states.len()],
        states,
    };
    let mut index: HashMap<LWorld, u32> =
        (0..).zip(&g.states).map(|(i, w)| (w.clone(), i)).collect();
    let mut actions = Vec::new();
    let mut i = 0;
    while i < g.states.len() {
        if stop(&g.states[i]) {
            return (g, Some(i as u32));
        }
        let w = g.states[i].clone();
        actions.clear();
        m.actions(&w, &mut actions);
        for &a in &actions {
            let Some((next, steps)) = m.step(&w, a) else {
                continue;
            };
            on_edge(i as u32, a, &steps);
            if !index.contains_key(&next) {
                index.insert(next.clone(), g.states.len() as u32);
                g.states.push(next);
                g.parent.push(Some((i as u32, a)));
            }
        }
        i += 1;
    }
    (g, None)
}

pub fn label_of(st: &LStep) -> Label {
    (
        Role::Listener,
        Transition {
            state: st.before.to_string(),
            event: st.event.clone(),
            next: st.after.to_string(),
            output: st.output.map_or("-".to_string(), |s| s.flags.to_string()),
        },
    )
}

/// The model `generate tcp-listener` explores for a profile.
pub fn generation_model(
    p: &tracewright_vocab::profile::Profile,
) -> Result<ListenerModel, String> {
    Ok(ListenerModel::new(ListenerConfig::from_profile(p)?))
}

/// Explores the listener model and builds its corpus.
pub fn generate(m: &ListenerModel) -> Corpus {
    let mut first: BTreeMap<Label, (u32, LAction)> = BTreeMap::new();
    let mut order: Vec<Label> = Vec::new();
    let (graph, _) = bfs(
        m,
        |i, a, steps| {
            for st in steps {
                let label = label_of(st);
                if !first.contains_key(&label) {
                    first.insert(label.clone(), (i, a));
                    order.push(label);
                }
            }
        },
        |_| false,
    );
    let candidates: Vec<(Label, Trace)> = order
        .iter()
        .map(|label| {
            let (at, a) = first[label];
            let (init, mut path) = graph.path_to(at);
            path.push(a);
            (label.clone(), project(m, init, &path, label))
        })
        .collect();
    let (traces, transitions) = drop_prefixes(candidates);
    Corpus {
        traces,
        coverage: Coverage {
            format: FORMAT.to_string(),
            protocol: Protocol::Tcp,
            profile: m.cfg.profile.clone(),
            transitions,
        },
        states: graph.states.len(),
    }
}

fn pattern(s: &LSeg) -> SegmentPattern {
    SegmentPattern {
        flags: s.flags,
        seq: Some(s.seq.into()),
        ack: s.flags.ack.then_some(s.ack.into()),
        len: 0,
        peer: s.peer.into(),
        new_isn: false,
    }
}

/// Projects a path of the listener model onto the IUT.
pub fn project(m: &ListenerModel, init: &LWorld, path: &[LAction], label: &Label) -> Trace {
    let mut w = init.clone();
    let mut steps = Vec::new();
    let mut covers: Vec<Transition> = Vec::new();
    for &a in path {
        let phase = w.phase;
        let (next, done) = m.step(&w, a).expect("a path of the model");
        w = next;
        match a {
            LAction::AppListen => {
                steps.push(Step::App(AppCall::Listen));
                steps.push(Step::State(TcpState::Listen));
            }
            LAction::AppAccept => steps.push(Step::App(AppCall::Accept)),
            LAction::NetDeliver(s) if s.to_iut => steps.push(Step::Send(SegmentSpec {
                flags: s.flags,
                seq: s.seq.into(),
                ack: s.flags.ack.then_some(s.ack.into()),
                win: None,
                len: 0,
                peer: s.peer.into(),
            })),
            LAction::TimerSynAck => steps.push(Step::Wait(Wait::Rto(phase.into()))),
            // Out of the IUT's sight: the harness plays it.
            LAction::NetDeliver(_)
            | LAction::NetLose(_)
            | LAction::PeerSendsSyn(_)
            | LAction::PeerForgesAck(_) => {}
        }
        for st in &done {
            if let Some(o) = st.output {
                steps.push(Step::Expect(Expect {
                    any_of: vec![pattern(&o)],
                }));
            }
            let t = label_of(st).1;
            if !covers.contains(&t) {
                covers.push(t);
            }
        }
    }
    if !matches!(steps.last(), Some(Step::State(_))) {
        steps.push(Step::State(TcpState::Listen));
    }
    let (role, t) = label;
    Trace {
        format: FORMAT.to_string(),
        id: trace_id(label),
        protocol: Protocol::Tcp,
        iut: *role,
        profile: m.cfg.profile.clone(),
        variant: None,
        description: format!(
            "listener {t}, by a shortest path ({} clients, {} spoofed flooders)",
            m.cfg.clients(),
            m.cfg.syn_backlog
        ),
        covers,
        steps,
    }
}

/// The coverage record as `generate tcp-listener` writes it.
pub fn coverage_text(c: &Coverage) -> String {
    crate::generate::coverage_yaml(c).replacen(
        "`tracewright generate tcp`",
        "`tracewright generate tcp-listener`",
        1,
    )
}

/// Writes the corpus into `dir` (as [`crate::generate::write_corpus`]).
pub fn write_corpus(
    corpus: &Corpus,
    dir: &std::path::Path,
) -> std::io::Result<crate::generate::Written> {
    let mut want: BTreeMap<String, String> = corpus
        .traces
        .iter()
        .map(|t| (format!("{}.yaml", t.id), t.to_yaml()))
        .collect();
    want.insert(
        crate::generate::COVERAGE_FILE.to_string(),
        coverage_text(&corpus.coverage),
    );
    crate::generate::write_files(dir, &want)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracewright_vocab::profile::Profile;

    #[test]
    fn generation_covers_every_transition_and_is_deterministic() {
        let m = generation_model(&Profile::rfc9293()).unwrap();
        let a = generate(&m);
        let b = generate(&m);
        let text = |c: &Corpus| c.traces.iter().map(|t| t.to_yaml()).collect::<String>();
        assert_eq!(text(&a), text(&b));
        assert_eq!(a.covered(), a.transitions());
        assert_eq!((a.traces.len(), a.transitions()), (11, 12));
    }
}
