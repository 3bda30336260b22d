//! The listener's plug-in: the corpora `traces/tcp-listener*`.
//!
//! The labels are the transitions of the connection with the peer a step
//! concerns (LISTEN when the listener holds none); the role is `listener`.
//! Projection: listen() and accept() become `app` steps, segments delivered
//! to the IUT `send` steps with the peer's `peer: N`, what the IUT emits
//! `expect` steps (also the SYN-ACKs to flooders, which the harness receives
//! in their place), the half-open connections' timers one `wait: rto(n)`.
//! What the peers do out of the IUT's sight (a client receiving a SYN-ACK,
//! a loss) leaves no step. The listening socket stays in LISTEN: the trace
//! checks it after listen() and at the end (CLOSED once the application
//! closed it).
//!
//! A profile with SYN cookies on is explored twice: as it is, and with the
//! listener configured without cookies (variant `no-syn-cookies`), so that
//! the corpus also holds what a flood does to such a listener (RFC 4987
//! §2: the SYN after the flood is dropped). Those traces say `variant:
//! no-syn-cookies`, and the replay configures the listener so (Linux:
//! `net.ipv4.tcp_syncookies = 0`).

use tracewright_vocab::trace::{
    AppCall, Coverage, Expect, Protocol, Role, SegmentPattern, SegmentSpec, Step, TcpState, Trace,
    Transition, Wait, FORMAT,
};

use super::{cover, Corpus, Label, Plugin, WriteError, Written};
use crate::listener::{
    LAction, LSeg, LStep, LWorld, ListenerConfig, ListenerModel, ListenerVariant,
};

/// The listener plug-in: one model.
pub struct Listener<'a>(pub &'a ListenerModel);

impl Plugin for Listener<'_> {
    type Model = ListenerModel;
    type Trace = Trace;
    type Memo = ();
    const COMMAND: &'static str = "tcp-listener";
    const PROTOCOL: Protocol = Protocol::Tcp;

    fn profile(&self) -> String {
        self.0.cfg.profile.clone()
    }

    fn models(&self) -> Vec<ListenerModel> {
        let mut models = vec![self.0.clone()];
        if self.0.cfg.cookies() {
            let mut off = self.0.clone();
            off.cfg.variant = Some(ListenerVariant::NoSynCookies);
            models.push(off);
        }
        models
    }

    fn step(
        &self,
        m: &ListenerModel,
        w: &LWorld,
        a: LAction,
        labels: &mut Vec<Label>,
    ) -> Option<LWorld> {
        let (next, done) = m.step(w, a)?;
        labels.extend(done.iter().map(label_of));
        Some(next)
    }

    fn project(&self, m: &ListenerModel, init: &LWorld, path: &[LAction], label: &Label) -> Trace {
        project(m, init, path, label)
    }
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
pub fn generation_model(p: &tracewright_vocab::profile::Profile) -> Result<ListenerModel, String> {
    Ok(ListenerModel::new(ListenerConfig::from_profile(p)?))
}

/// Explores the listener model and builds its corpus.
pub fn generate(m: &ListenerModel) -> Corpus<Trace> {
    super::generate(&Listener(m), &mut |_| {})
}

fn pattern(s: &LSeg) -> SegmentPattern {
    SegmentPattern {
        flags: s.flags,
        seq: Some(s.seq.into()),
        ack: s.flags.ack.then_some(s.ack.into()),
        len: 0,
        peer: s.peer.into(),
        new_isn: false,
        win: None,
    }
}

/// The RST of an abort with the ACK bit set as well, acknowledging
/// RCV.NXT: what BSD and Linux send; the peer judges a RST in a
/// synchronized state by its sequence number alone (RFC 9293 §3.10.7.4).
fn with_ack(rst: &LSeg) -> SegmentPattern {
    let mut p = pattern(rst);
    p.flags.ack = true;
    p.ack = Some(1);
    p
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
            LAction::AppClose => steps.push(Step::App(AppCall::Close)),
            LAction::NetDeliver(s) if s.to_iut => steps.push(Step::Send(SegmentSpec {
                flags: s.flags,
                seq: s.seq.into(),
                ack: s.flags.ack.then_some(s.ack.into()),
                win: None,
                len: 0,
                peer: s.peer.into(),
                wnd_edge: None,
            })),
            LAction::TimerSynAck => steps.push(Step::Wait(Wait::Rto(phase.into()))),
            // Out of the IUT's sight: the harness plays it.
            LAction::NetDeliver(_)
            | LAction::NetLose(_)
            | LAction::PeerSendsSyn(_)
            | LAction::PeerForgesAck(_)
            | LAction::PeerSendsRst(_) => {}
        }
        for st in &done {
            if let Some(o) = st.output {
                let mut any_of = vec![pattern(&o)];
                if a == LAction::AppClose {
                    any_of.push(with_ack(&o));
                }
                steps.push(Step::Expect(Expect { any_of }));
            }
            cover(&mut covers, label_of(st).1);
        }
    }
    if !matches!(steps.last(), Some(Step::State(_))) {
        steps.push(Step::State(if w.closed {
            TcpState::Closed
        } else {
            TcpState::Listen
        }));
    }
    let (role, t) = label;
    Trace {
        format: FORMAT.to_string(),
        id: super::tcp::trace_id(label),
        protocol: Protocol::Tcp,
        iut: *role,
        profile: m.cfg.profile.clone(),
        variant: m.cfg.variant.map(|v| v.name().to_string()),
        description: format!(
            "listener {t}, by a shortest path ({} clients, {} spoofed flooders){}",
            m.cfg.clients(),
            m.cfg.syn_backlog,
            if m.cfg.variant == Some(ListenerVariant::NoSynCookies) {
                ", the listener without SYN cookies"
            } else {
                ""
            }
        ),
        covers,
        steps,
    }
}

/// The coverage record as `generate tcp-listener` writes it.
pub fn coverage_text(c: &Coverage) -> String {
    super::coverage_text(c, <Listener as Plugin>::COMMAND)
}

/// Writes the corpus into `dir` (see [`super::write_corpus`]).
pub fn write_corpus(corpus: &Corpus<Trace>, dir: &std::path::Path) -> Result<Written, WriteError> {
    super::write_corpus(corpus, dir)
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
        let text = |c: &Corpus<Trace>| c.traces.iter().map(|t| t.to_yaml()).collect::<String>();
        assert_eq!(text(&a), text(&b));
        assert_eq!(a.covered(), a.transitions());
        // The cells of the accept queue and of the listener without cookies.
        let labels: Vec<String> = a
            .coverage
            .transitions
            .iter()
            .map(|e| {
                let t = &e.transition;
                format!("{} --{}--> {} {}", t.state, t.event, t.next, t.output)
            })
            .collect();
        for want in [
            "ESTABLISHED --recv R--> CLOSED -",
            "CLOSED --app accept--> CLOSED -",
            "LISTEN --recv S (after a queued reset)--> SYN-RECEIVED SA",
            "ESTABLISHED --app close--> CLOSED R",
            "LISTEN --recv S (half-open queue full)--> LISTEN -",
        ] {
            assert!(labels.iter().any(|l| l == want), "{want}: {labels:?}");
        }
        let off: Vec<&Trace> = a.traces.iter().filter(|t| t.variant.is_some()).collect();
        assert!(!off.is_empty());
        assert!(off
            .iter()
            .all(|t| t.variant.as_deref() == Some("no-syn-cookies")));
        assert!(coverage_text(&a.coverage).contains("`tracewright generate tcp-listener`"));
    }
}
