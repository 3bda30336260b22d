//! The TCP connection's plug-in: the corpora `traces/tcp*`.
//!
//! Each of the two endpoints in turn plays the IUT; a label is the
//! transition of the endpoint a step concerns, with its role. Projection:
//! the IUT's application calls become `app` steps, segments the network
//! delivers to it `send` steps, what it emits `expect` steps, its timers
//! `wait` steps, its state changes `state` steps, and once the harness has
//! sent it data, what its application received `delivered` steps. The
//! peer's timers, losses and deliveries to the peer leave no step.

use tracewright_vocab::trace::{
    AppCall, Expect, Flags, Protocol, Qualifier, Role, SegmentPattern, SegmentSpec, Step, Trace,
    Transition, Wait, WindowPattern, WndEdge, FORMAT,
};

use super::{cover, Label, Plugin};
use crate::tcp::{Action, EndStep, Probe, Segment, TcpModel, World, CLIENT, RCV_WND};

/// The TCP plug-in: the profile's model and the models that add what only
/// they show.
pub struct Tcp<'a>(pub &'a TcpModel);

impl Plugin for Tcp<'_> {
    type Model = TcpModel;
    type Trace = Trace;
    type Memo = ();
    const COMMAND: &'static str = "tcp";
    const PROTOCOL: Protocol = Protocol::Tcp;

    fn profile(&self) -> String {
        self.0.cfg.profile.clone()
    }

    fn models(&self) -> Vec<TcpModel> {
        // The profile's model, then the same profile with a second
        // incarnation (old duplicates, a new ISN, TIME-WAIT reopen), for
        // what only that shows. A label first met in the first model keeps
        // its trace there. Then with data on the client's SYN, for the
        // listener's side: the sockets API has no plain way to put data on
        // a SYN (only TCP Fast Open's), so the client's labels of that
        // model are left out (see `step`).
        let model = self.0;
        let mut models = vec![model.clone()];
        if !model.cfg.incarnations && !model.cfg.client_syn_data && model.cfg.variant.is_none() {
            // The harness's crafted segments, in the profile's model only.
            models[0].cfg.probes = true;
            models.push(TcpModel::new(model.cfg.clone().with_incarnations()));
            models.push(TcpModel::new(model.cfg.clone().with_syn_data()));
        }
        models
    }

    fn step(&self, m: &TcpModel, w: &World, a: Action, labels: &mut Vec<Label>) -> Option<World> {
        let (next, es) = m.step(w, a)?;
        if let Some(es) = es.filter(|es| !(m.cfg.client_syn_data && es.end == CLIENT)) {
            labels.push(label_of(&es));
        }
        Some(next)
    }

    fn project(&self, m: &TcpModel, init: &World, path: &[Action], label: &Label) -> Trace {
        let end = if label.0 == Role::Client { 0 } else { 1 };
        project(m, init, path, end, label)
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

/// A stable id from what a trace covers.
pub fn trace_id(label: &Label) -> String {
    super::trace_id("tcp", label, |s| {
        s.to_ascii_lowercase()
            .replace(' ', "-")
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
    })
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
        // The IUT's receive window as it advertised it on its SYN or
        // SYN-ACK (RFC 9293 §3.8.6): not for a RST, whose window means
        // nothing.
        win: (!s.flags.rst).then_some(WindowPattern::Wnd),
    }
}

/// What the harness sends for a segment of the model.
fn spec_of(s: &Segment) -> SegmentSpec {
    SegmentSpec {
        flags: Flags {
            psh: s.len > 0,
            ..s.flags
        },
        seq: s.seq.into(),
        ack: s.flags.ack.then_some(s.ack.into()),
        win: None,
        len: s.len.into(),
        peer: 0,
        wnd_edge: None,
    }
}

/// What the harness sends for a probe: at the window's edges, the edge of
/// the window the IUT advertised, wherever it lies (the model's window is
/// its own), with `seq` RCV.NXT for the reader.
fn probe_spec(p: Probe, s: &Segment) -> SegmentSpec {
    let edge = match p {
        Probe::RstLastInWnd | Probe::SynLastInWnd => Some((WndEdge::Last, RCV_WND - 1)),
        Probe::RstPastWnd | Probe::SynPastWnd => Some((WndEdge::Past, RCV_WND)),
        _ => None,
    };
    let mut spec = spec_of(s);
    if let Some((e, offset)) = edge {
        spec.seq = (s.seq - offset).into();
        spec.wnd_edge = Some(e);
    }
    spec
}

/// Projects a path of the model onto endpoint `iut`.
pub fn project(
    model: &TcpModel,
    init: &World,
    path: &[Action],
    iut: usize,
    label: &Label,
) -> Trace {
    let path = &with_restarted_time_wait(model, init, path, iut, label)[..];
    let mut w = init.clone();
    let mut steps = Vec::new();
    let mut covers: Vec<Transition> = Vec::new();
    // Once the harness has sent the IUT data, what its application has
    // received is checked with each state check and whenever it changes.
    let mut saw_payload = false;
    let mut checked_state_last = false;
    // CLOSE with data unread: the application must not have read it, so
    // the trace checks no `delivered` (a target may read to count).
    let unread = path.contains(&Action::AppCloseUnread(iut));
    for &a in path {
        let retries = w.ends[iut].retries;
        let delivered_before = w.ends[iut].delivered;
        let was_late = w.ends[iut].tw_late;
        let probe = match a {
            Action::Probe(e, p) => Some(model.probe_segment(&w, e, p)),
            _ => None,
        };
        let (next, es) = model.step(&w, a).expect("a path of the model");
        w = next;
        if a == Action::TimeWaitTick(iut) {
            steps.push(Step::Wait(Wait::HalfTwoMsl));
            checked_state_last = false;
            continue;
        }
        let Some(es) = es.filter(|es| es.end == iut) else {
            continue;
        };
        let step = match a {
            Action::AppListen(_) => Step::App(AppCall::Listen),
            Action::AppConnect(_)
                if es.event.qualifiers().contains(&Qualifier::ConnectionExists) =>
            {
                Step::Refused(AppCall::Connect)
            }
            Action::AppConnect(_) => Step::App(AppCall::Connect),
            Action::AppCloseUnread(_) => Step::App(AppCall::CloseUnread),
            Action::AppShutdownRead(_) => Step::App(AppCall::ShutdownRead),
            Action::AppSend(_) => Step::App(AppCall::Send(1)),
            Action::AppClose(_) => Step::App(AppCall::Close),
            Action::AppAbort(_) => Step::App(AppCall::Abort),
            Action::NetDeliver(s) => Step::Send(spec_of(&s)),
            Action::Probe(_, p) => Step::Send(probe_spec(p, &probe.expect("computed above"))),
            Action::TimerRto(_) if es.output.is_none() => {
                // A give-up is silent: both sides of its deadline, as for
                // TIME-WAIT (a stack that gives up early fails before it,
                // one that never does after it).
                steps.push(Step::Wait(Wait::BeforeRto(retries.into())));
                steps.push(Step::State(es.before));
                Step::Wait(Wait::AfterRto(retries.into()))
            }
            Action::TimerRto(_) => Step::Wait(Wait::Rto(retries.into())),
            Action::Timer2Msl(_) if was_late => {
                // Half of 2·MSL had passed already (never on a shortest
                // path to an expiry: the tick costs a step).
                Step::Wait(Wait::HalfTwoMsl)
            }
            Action::Timer2Msl(_) => {
                // Both sides of the deadline: TIME-WAIT is still there
                // just before 2·MSL ends (a stack whose TIME-WAIT is too
                // short fails here), and over after it.
                steps.push(Step::Wait(Wait::BeforeTwoMsl));
                steps.push(Step::State(es.before));
                Step::Wait(Wait::AfterTwoMsl)
            }
            Action::NetLose(_) | Action::NetDuplicate(_) | Action::TimeWaitTick(_) => {
                unreachable!("network or the peer only")
            }
        };
        steps.push(step);
        if let Some(out) = es.output {
            let mut any_of = vec![pattern(&out)];
            // A SYN at the window's edge that reopens TIME-WAIT is
            // acknowledged where the IUT's window put it, a number the
            // model's window does not give: its ACK field is left free.
            if matches!(a, Action::Probe(_, p) if p.at_window_edge()) && out.flags.syn {
                any_of[0].ack = None;
            }
            // A retransmission may repacketize (RFC 1122 §4.2.2.15): data
            // retransmitted after the FIN was queued may carry the FIN.
            if matches!(a, Action::TimerRto(_)) && out.len > 0 && w.ends[iut].fin_sent {
                let mut merged = pattern(&out);
                merged.flags.fin = true;
                any_of.push(merged);
            }
            // An implementation that closes full-duplex (RFC 9293 §3.6.1
            // leaves half-duplex close a MAY) sends its FIN instead: a
            // path this trace does not follow.
            if matches!(a, Action::AppCloseUnread(_)) {
                let e = &w.ends[iut];
                any_of.push(SegmentPattern {
                    flags: crate::tcp::flags("FA"),
                    seq: Some(out.seq.into()),
                    ack: Some(e.rcv_nxt.into()),
                    len: 0,
                    new_isn: false,
                    peer: 0,
                    win: Some(WindowPattern::Wnd),
                });
            }
            steps.push(Step::Expect(Expect { any_of }));
        }
        if let Some(then) = es.then {
            steps.push(Step::Expect(Expect {
                any_of: vec![pattern(&then)],
            }));
        }
        checked_state_last = es.after != es.before;
        if checked_state_last {
            steps.push(Step::State(es.after));
        }
        let carried = matches!(a, Action::NetDeliver(s) if s.len > 0);
        saw_payload |= carried;
        let delivered = w.ends[iut].delivered;
        if !unread
            && saw_payload
            && (checked_state_last || carried || delivered != delivered_before)
        {
            steps.push(Step::Delivered(delivered.into()));
        }
        cover(&mut covers, label_of(&es).1);
    }
    // The trace ends by checking the state its last transition left, also
    // when that transition kept the state (an ignored RST, an old segment).
    if !checked_state_last {
        if let Some(Step::Delivered(_)) = steps.last() {
            steps.pop();
        }
        steps.push(Step::State(w.ends[iut].state));
        if saw_payload && !unread {
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

/// The path to a label, and for a segment that arrived late in TIME-WAIT
/// (its FIN restarted 2·MSL), on until TIME-WAIT expires: the trace checks
/// that TIME-WAIT outlasts the original deadline and ends after the
/// restarted one. The harness's side finishes first (the IUT's ACK reaches
/// the peer, the peer's timers run), as the model lets 2·MSL expire only
/// when nothing is in flight and the peer has nothing left to retransmit.
fn with_restarted_time_wait(
    model: &TcpModel,
    init: &World,
    path: &[Action],
    iut: usize,
    label: &Label,
) -> Vec<Action> {
    let mut path = path.to_vec();
    // Only a FIN restarts 2·MSL; other late segments end their trace there.
    let event = &label.1.event;
    let late_fin = event
        .qualifiers()
        .contains(&tracewright_vocab::trace::Qualifier::LateInTimeWait)
        && matches!(event, tracewright_vocab::trace::Event::Recv { what, .. } if what.contains('F'));
    if !late_fin {
        return path;
    }
    let mut w = init.clone();
    for &a in &path {
        w = model.step(&w, a).expect("a path of the model").0;
    }
    let peer = 1 - iut;
    let mut actions = Vec::new();
    // Bounded: each step below delivers a segment to the peer or runs
    // the peer's timer, which ends in a give-up.
    for _ in 0..16 {
        if w.ends[iut].state != crate::tcp::TcpState::TimeWait {
            break;
        }
        actions.clear();
        stateright::Model::actions(model, &w, &mut actions);
        let next = actions
            .iter()
            .copied()
            .find(|&a| a == Action::Timer2Msl(iut))
            .or_else(|| {
                actions.iter().copied().find(|&a| {
                    matches!(a, Action::NetDeliver(s) if s.from as usize == iut)
                        || a == Action::TimerRto(peer)
                        || a == Action::Timer2Msl(peer)
                })
            });
        let Some(a) = next else { break };
        w = model.step(&w, a).expect("an enabled action").0;
        path.push(a);
    }
    path
}

/// The model `generate` explores for a profile: its retry limits, one loss
/// more than the largest of them (so that every give-up is reached) and one
/// duplication.
pub fn generation_model(profile: &tracewright_vocab::profile::Profile) -> Result<TcpModel, String> {
    let cfg = crate::tcp::TcpConfig::from_profile(profile)?;
    let loss = cfg.syn_retries.max(cfg.synack_retries).max(cfg.retries) + 1;
    let mut cfg = cfg.with_budgets(loss, 1);
    cfg.probes = true;
    Ok(TcpModel::new(cfg))
}

/// Explores the profile's model (and the models that add to it) and builds
/// the corpus. `progress` gets the number of states visited so far.
pub fn generate(model: &TcpModel, progress: &mut dyn FnMut(usize)) -> super::Corpus<Trace> {
    super::generate(&Tcp(model), progress)
}
