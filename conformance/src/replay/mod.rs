//! Replay: one trace through one target, to one verdict, for every
//! protocol.
//!
//! The semantics are those in [`crate::trace`]'s module doc, and they are
//! the same for TCP, the listener and HTTP/2: the engine ([`Run`]) keeps a
//! queue of what the IUT emitted; `expect` takes one unit (a segment, a
//! frame) from it and matches it against the step's `any_of`, the first
//! pattern being the path the trace goes on with; anything left over when
//! the harness acts next (or at the end) is a failure, since the model
//! allows nothing there. On a real clock an expectation waits up to the
//! clock's tolerance, and a check of the IUT's state is asked again until
//! it settles.
//!
//! A protocol plugs in through [`Plugin`]: its unit, its patterns and how
//! they match, how a unit is written in the ladder, and how each of its
//! steps is carried out with the engine's help. TCP and the listener are
//! [`tcp`], HTTP/2 is `crate::h2::replay`.

pub mod tcp;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::target::{Clock, TargetError};
use crate::trace::Transition;

pub use tcp::{pattern_text, replay, Rel};

/// On a real clock, how often the engine looks again for a unit it
/// expects or for a state it checks while the IUT's timers catch up.
const REAL_SLICE: Duration = Duration::from_millis(10);

/// The outcome of one trace (DESIGN.md, Verdicts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The IUT did something the model does not allow.
    Fail {
        step: usize,
        reason: String,
        /// The model's allowed set, as text.
        expected: Vec<String>,
        /// What came instead (`None`: nothing came).
        got: Option<String>,
    },
    /// The IUT took a path the model allows but the trace does not follow,
    /// or the target cannot perform a step.
    Inconclusive {
        step: usize,
        reason: String,
    },
    /// The harness or the target broke, or the trace could not be loaded.
    Error {
        step: Option<usize>,
        reason: String,
    },
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail { .. } => "FAIL",
            Verdict::Inconclusive { .. } => "INCONCLUSIVE",
            Verdict::Error { .. } => "ERROR",
        }
    }
}

/// Which way a ladder line goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Harness → IUT.
    ToIut,
    /// IUT → harness.
    FromIut,
    /// Something at the IUT: an application call, a wait, a state check.
    Note,
}

/// One line of a replay's transcript, for the ladder diagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LadderLine {
    pub step: usize,
    pub dir: Dir,
    pub text: String,
    /// The IUT's state after this line, as the trace (the model) has it.
    pub state: Option<String>,
}

/// Everything the report needs about one trace.
#[derive(Clone, Debug)]
pub struct TraceResult {
    pub id: String,
    pub verdict: Verdict,
    pub covers: Vec<Transition>,
    pub transcript: Vec<LadderLine>,
    /// The RFC section governing the step that diverged.
    pub rfc: Option<&'static str>,
}

impl TraceResult {
    /// A verdict reached before any step ran (the target did not open).
    pub fn without_steps(id: &str, covers: &[Transition], verdict: Verdict) -> TraceResult {
        TraceResult {
            id: id.to_string(),
            verdict,
            covers: covers.to_vec(),
            transcript: Vec::new(),
            rfc: None,
        }
    }

    /// A trace that broke before or outside its steps (it did not load, a
    /// capture could not start, the target panicked).
    pub fn error(id: &str, covers: &[Transition], reason: String) -> TraceResult {
        Self::without_steps(id, covers, Verdict::Error { step: None, reason })
    }
}

/// A target's error as the verdict of step `step`.
pub(crate) fn target_verdict(step: usize, e: TargetError) -> Verdict {
    match e {
        TargetError::Unsupported(why) => Verdict::Inconclusive {
            step,
            reason: format!("the target cannot do this step: {why}"),
        },
        TargetError::Broken(why) => Verdict::Error {
            step: Some(step),
            reason: why,
        },
    }
}

/// What a protocol plugs into the engine: the units the IUT emits, the
/// patterns `expect` holds, and how its steps are carried out. A plug-in
/// owns its target (and whatever it learns on the way, such as the IUT's
/// ISNs) for one trace.
pub trait Plugin: Sized {
    /// What the IUT emits, one at a time: a segment, a frame.
    type Unit;
    /// A pattern an `expect` step allows.
    type Pattern;
    /// A step of the protocol's traces.
    type Step;
    /// The unit's name in verdicts (`segment`, `frame`).
    const UNIT: &'static str;
    /// The reason given for a unit that came when the model allows nothing.
    const UNEXPECTED: &'static str;
    /// What the ladder draws where an expected unit did not come, if
    /// anything.
    const NOTHING: Option<&'static str>;

    fn clock(&self) -> Clock;
    /// Whether what the IUT emitted may stay pending when the harness
    /// acts, to be judged with the next expectation: where the protocol
    /// forbids the harness to prove silence first (an HTTP/2 header block
    /// left open on a real clock), an answer on its way lands before or
    /// after the act as the IUT's speed has it.
    fn defers_pending(&self) -> bool {
        false
    }
    /// What the IUT emitted by now.
    fn poll(&mut self, step: usize) -> Result<Vec<Self::Unit>, Verdict>;
    /// Lets `d` pass; what the IUT emitted meanwhile, with its offset from
    /// the start of the wait.
    fn advance(&mut self, step: usize, d: Duration)
        -> Result<Vec<(Duration, Self::Unit)>, Verdict>;
    /// Puts an emitted unit in the queue `expect` reads.
    fn admit(&mut self, queue: &mut VecDeque<Self::Unit>, unit: Self::Unit) {
        queue.push_back(unit);
    }
    /// The queued unit an expectation of `any_of` takes: the first.
    fn pick(&self, queue: &VecDeque<Self::Unit>, any_of: &[Self::Pattern]) -> Option<usize> {
        let _ = any_of;
        (!queue.is_empty()).then_some(0)
    }
    /// A unit as the ladder writes it.
    fn show(&self, unit: &Self::Unit) -> String;
    /// A pattern as the ladder writes it.
    fn show_pattern(&self, p: &Self::Pattern) -> String;
    fn matches(&self, p: &Self::Pattern, unit: &Self::Unit) -> bool;
    /// Whether the pattern allows silence.
    fn is_silence(p: &Self::Pattern) -> bool {
        let _ = p;
        false
    }
    /// `unit` matched `p`: what the plug-in learns from it.
    fn matched(&mut self, p: &Self::Pattern, unit: &Self::Unit) {
        let _ = (p, unit);
    }
    /// Whether the step only checks the IUT (its state), so that an
    /// expectation followed only by checks ends the trace's path.
    fn is_check(step: &Self::Step) -> bool;
    /// What the harness does before the first step (HTTP/2: the preface).
    fn start(run: &mut Run<Self>) -> Result<(), Verdict> {
        let _ = run;
        Ok(())
    }
    /// Carries out step `i`.
    fn step(run: &mut Run<Self>, i: usize, step: &Self::Step) -> Result<(), Verdict>;
    /// The end of the trace (`step` is one past its last): by default
    /// nothing the IUT emitted may be left, since the model allows nothing
    /// more. A plug-in whose IUT ended the trace's path by itself (an
    /// HTTP/2 IUT that defended against a flood) judges what is left its
    /// own way.
    fn finish(run: &mut Run<Self>, step: usize) -> Result<(), Verdict> {
        run.quiet_for_window(step)
    }
    /// The RFC section governing the last thing the harness did.
    fn rfc(&self) -> &'static str;
    /// Tears the IUT down.
    fn close(&mut self);
    /// How long, before silence is accepted (before the harness acts, and
    /// at the trace's end), the IUT may still legitimately react to what
    /// came last: on a real or jumping clock an answer takes time to come,
    /// and taking only what has already arrived would let a wrong answer
    /// pass for silence. Zero (the default): what has arrived is all.
    fn silence_window(&self) -> Duration {
        Duration::ZERO
    }
    /// `d` passed proving silence.
    fn silence_proven(&mut self, d: Duration) {
        let _ = d;
    }
}

/// One trace's replay in progress: the engine's side, shared by every
/// protocol, around the protocol's plug-in.
pub struct Run<P: Plugin> {
    pub proto: P,
    /// What the IUT emitted and no step took yet.
    pub queue: VecDeque<P::Unit>,
    pub transcript: Vec<LadderLine>,
    /// The model's state drawn beside new ladder lines.
    pub state: Option<String>,
    /// The index of the trace's last step that is not a check: an allowed
    /// alternative there ends the trace as a pass.
    pub last_action: usize,
    /// The IUT took an allowed alternative at the last expectation: the
    /// model's states no longer apply.
    pub diverged: bool,
    /// How late the IUT's timers may fire after the last wait, beyond the
    /// clock's tolerance (until the harness acts again).
    pub slack: Duration,
}

impl<P: Plugin> Run<P> {
    pub fn line(&mut self, step: usize, dir: Dir, text: String) {
        self.transcript.push(LadderLine {
            step,
            dir,
            text,
            state: self.state.clone(),
        });
    }

    pub fn take(&mut self, units: impl IntoIterator<Item = P::Unit>) {
        for u in units {
            self.proto.admit(&mut self.queue, u);
        }
    }

    pub fn poll(&mut self, step: usize) -> Result<(), Verdict> {
        let units = self.proto.poll(step)?;
        self.take(units);
        Ok(())
    }

    /// The clock's tolerance: zero on a virtual clock.
    pub fn tolerance(&self) -> Duration {
        match self.proto.clock() {
            Clock::Virtual => Duration::ZERO,
            Clock::Real { tolerance } => tolerance,
        }
    }

    /// Nothing may be left unconsumed when the harness acts next.
    pub fn quiet(&mut self, step: usize) -> Result<(), Verdict> {
        if let Some(u) = self.queue.pop_front() {
            let got = self.proto.show(&u);
            self.line(step, Dir::FromIut, got.clone());
            return Err(Verdict::Fail {
                step,
                reason: P::UNEXPECTED.into(),
                expected: vec!["nothing".into()],
                got: Some(got),
            });
        }
        Ok(())
    }

    /// Silence proven: for the plug-in's [`Plugin::silence_window`] the
    /// IUT is watched, and the first unit it emits is a failure, as one
    /// already queued is ([`Run::quiet`]).
    pub fn quiet_for_window(&mut self, step: usize) -> Result<(), Verdict> {
        let window = self.proto.silence_window();
        if !window.is_zero() && self.queue.is_empty() {
            let start = Instant::now();
            let deadline = start + window;
            while self.queue.is_empty() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                let units = self.proto.advance(step, left.min(REAL_SLICE))?;
                self.take(units.into_iter().map(|(_, u)| u));
            }
            self.proto.silence_proven(start.elapsed());
        }
        self.quiet(step)
    }

    /// The harness acts (an application call, a unit it sends): nothing
    /// may be pending before; what the IUT emits in answer is queued.
    /// `act` runs after the queue was found empty, so that what it notes
    /// (the RFC section of the act) is only noted if the act happens.
    pub fn act(
        &mut self,
        i: usize,
        dir: Dir,
        text: String,
        act: impl FnOnce(&mut P) -> Result<(), TargetError>,
    ) -> Result<(), Verdict> {
        if !self.proto.defers_pending() {
            self.quiet_for_window(i)?;
        }
        self.slack = Duration::ZERO;
        self.line(i, dir, text);
        act(&mut self.proto).map_err(|e| target_verdict(i, e))?;
        self.poll(i)
    }

    fn pop(&mut self, any_of: &[P::Pattern]) -> Option<P::Unit> {
        let k = self.proto.pick(&self.queue, any_of)?;
        self.queue.remove(k)
    }

    /// Step `i` expects one of `any_of`.
    pub fn expect(&mut self, i: usize, any_of: &[P::Pattern]) -> Result<(), Verdict> {
        let mut next = self.pop(any_of);
        if next.is_none() {
            if let Clock::Real { tolerance } = self.proto.clock() {
                // Up to the tolerance for the unit, in slices, so that the
                // next step starts as soon as it came.
                let deadline = Instant::now() + tolerance + self.slack;
                while next.is_none() {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    let units = self.proto.advance(i, left.min(REAL_SLICE))?;
                    self.take(units.into_iter().map(|(_, u)| u));
                    next = self.pop(any_of);
                }
            }
        }
        let expected: Vec<String> = any_of.iter().map(|p| self.proto.show_pattern(p)).collect();
        let got = next.as_ref().map(|u| self.proto.show(u));
        match (&got, P::NOTHING) {
            (Some(text), _) => self.line(i, Dir::FromIut, text.clone()),
            (None, Some(nothing)) => self.line(i, Dir::FromIut, nothing.into()),
            (None, None) => {}
        }
        let hit = any_of.iter().position(|p| match &next {
            None => P::is_silence(p),
            Some(u) => self.proto.matches(p, u),
        });
        if let (Some(k), Some(u)) = (hit, &next) {
            self.proto.matched(&any_of[k], u);
        }
        match hit {
            Some(0) => Ok(()),
            Some(_) if i == self.last_action => {
                self.diverged = true;
                Ok(())
            }
            Some(_) => Err(Verdict::Inconclusive {
                step: i,
                reason: format!(
                    "the IUT sent {}, which the model allows, but this trace follows {}",
                    got.as_deref().unwrap_or("nothing"),
                    expected[0]
                ),
            }),
            None => Err(Verdict::Fail {
                step: i,
                reason: match next {
                    None => "nothing came".into(),
                    Some(_) => format!("the IUT sent a {} the model does not allow here", P::UNIT),
                },
                expected,
                got,
            }),
        }
    }

    /// What `ask` reads off the IUT (its state, the bytes its application
    /// received). On a real clock a timer the trace has just waited for may
    /// fire up to the tolerance (and the timer slack) late, and a kernel may
    /// still be handing a unit up: until the answer is `want`, it is asked
    /// again for that long; what the IUT emits meanwhile is kept for the
    /// next step.
    pub fn settled<T: PartialEq>(
        &mut self,
        step: usize,
        want: &T,
        ask: impl Fn(&mut P) -> Result<Option<T>, TargetError>,
    ) -> Result<Option<T>, Verdict> {
        let mut actual = ask(&mut self.proto).map_err(|e| target_verdict(step, e))?;
        if let Clock::Real { tolerance } = self.proto.clock() {
            let deadline = Instant::now() + tolerance + self.slack;
            while actual.as_ref().is_some_and(|a| a != want) && Instant::now() < deadline {
                let units = self.proto.advance(step, REAL_SLICE)?;
                self.take(units.into_iter().map(|(_, u)| u));
                actual = ask(&mut self.proto).map_err(|e| target_verdict(step, e))?;
            }
        }
        Ok(actual)
    }
}

/// Replays `steps` through an opened plug-in, to the trace's result; the
/// plug-in's IUT is closed at the end. `state` is the model's state at the
/// start, drawn beside the ladder's lines.
pub fn drive<P: Plugin>(
    proto: P,
    id: &str,
    covers: &[Transition],
    steps: &[P::Step],
    state: Option<String>,
) -> TraceResult {
    let mut run = Run {
        proto,
        queue: VecDeque::new(),
        transcript: Vec::new(),
        state,
        last_action: steps.iter().rposition(|s| !P::is_check(s)).unwrap_or(0),
        diverged: false,
        slack: Duration::ZERO,
    };
    let mut outcome = P::start(&mut run);
    if outcome.is_ok() {
        for (i, step) in steps.iter().enumerate() {
            outcome = P::step(&mut run, i, step);
            if outcome.is_err() {
                break;
            }
        }
    }
    if outcome.is_ok() {
        // On a real clock, what the IUT emits just after the last step is
        // still the IUT's doing: poll for it before the final check.
        if matches!(run.proto.clock(), Clock::Real { .. }) {
            outcome = run.poll(steps.len());
        }
        if outcome.is_ok() {
            outcome = P::finish(&mut run, steps.len());
        }
    }
    let mut result = TraceResult {
        id: id.to_string(),
        verdict: Verdict::Pass,
        covers: covers.to_vec(),
        transcript: Vec::new(),
        rfc: None,
    };
    if let Err(v) = outcome {
        result.rfc = Some(run.proto.rfc());
        result.verdict = v;
    }
    result.transcript = std::mem::take(&mut run.transcript);
    run.proto.close();
    result
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use crate::profile::Profile;
    use crate::target::{Clock, Segment, Target, TargetError, HARNESS_PORT, IUT_PORT};
    use crate::trace::{AppCall, Role, TcpState};

    use super::Verdict;

    const ISN: u32 = 7000;

    /// A client on a real clock that answers any segment in SYN-SENT with
    /// its SYN again, `delay` later (as Linux does after an unacceptable
    /// ACK, 2 jiffies later).
    struct ResendsSyn {
        delay: Duration,
        due: Vec<(Instant, Segment)>,
    }

    fn seg(flags: &str, seq: u32, ack: u32) -> Segment {
        Segment {
            src_port: IUT_PORT,
            dst_port: HARNESS_PORT,
            seq,
            ack,
            flags: flags.parse().unwrap(),
            window: 1000,
            payload: Vec::new(),
        }
    }

    fn syn() -> Segment {
        seg("S", ISN, 0)
    }

    /// The segments of `due` whose time has come, taken out of it.
    fn take_ready(due: &mut Vec<(Instant, Segment)>) -> Vec<Segment> {
        let now = Instant::now();
        let (ready, later) = std::mem::take(due)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        *due = later;
        ready.into_iter().map(|(_, s)| s).collect()
    }

    impl Target for ResendsSyn {
        fn name(&self) -> &str {
            "resends-syn"
        }
        fn clock(&self) -> Clock {
            Clock::Real {
                tolerance: Duration::from_millis(200),
            }
        }
        fn open(&mut self, _: Role, _: &Profile) -> Result<(), TargetError> {
            Ok(())
        }
        fn app(&mut self, _: &AppCall) -> Result<(), TargetError> {
            self.due.push((Instant::now(), syn()));
            Ok(())
        }
        fn deliver(&mut self, _: Segment) -> Result<(), TargetError> {
            self.due.push((Instant::now() + self.delay, syn()));
            Ok(())
        }
        fn advance(&mut self, d: Duration) -> Result<Vec<(Duration, Segment)>, TargetError> {
            let start = Instant::now();
            std::thread::sleep(d);
            Ok(take_ready(&mut self.due)
                .into_iter()
                .map(|s| (start.elapsed(), s))
                .collect())
        }
        fn poll(&mut self) -> Result<Vec<Segment>, TargetError> {
            Ok(take_ready(&mut self.due))
        }
        fn state(&mut self) -> Option<TcpState> {
            None
        }
        fn close(&mut self) {}
    }

    const TRACE: &str = "format: tracewright/1
id: tcp-client-syn-sent-recv-ra-silent-to-syn-sent
protocol: tcp
iut: client
profile: rfc9293
variant: null
description: test
covers: []
steps:
  - app: connect
  - expect: {any_of: [{flags: S, seq: 0}]}
  - send: {flags: RA, seq: 0, ack: 5}
  - state: SYN-SENT
";

    /// The SYN that comes 20 ms after the trace's last act is not silence,
    /// though it has not arrived when the trace's steps are done.
    #[test]
    fn an_answer_on_its_way_at_the_end_is_caught_on_a_real_clock() {
        let trace = crate::load::parse_trace(
            Path::new("tcp-client-syn-sent-recv-ra-silent-to-syn-sent.yaml"),
            TRACE,
        )
        .unwrap();
        let mut target = ResendsSyn {
            delay: Duration::from_millis(20),
            due: Vec::new(),
        };
        let r = super::replay(&trace, &mut target, &Profile::rfc9293());
        match r.verdict {
            Verdict::Fail { got, expected, .. } => {
                assert_eq!(expected, vec!["nothing".to_string()]);
                assert_eq!(got.as_deref(), Some("S seq=0"));
            }
            v => panic!("{v:?}"),
        }
    }

    /// An answer that comes only after the tolerance is no answer to the
    /// act: the trace passes.
    #[test]
    fn silence_is_proven_for_the_tolerance_only() {
        let trace = crate::load::parse_trace(
            Path::new("tcp-client-syn-sent-recv-ra-silent-to-syn-sent.yaml"),
            TRACE,
        )
        .unwrap();
        let mut target = ResendsSyn {
            delay: Duration::from_millis(600),
            due: Vec::new(),
        };
        let r = super::replay(&trace, &mut target, &Profile::rfc9293());
        assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.transcript);
    }

    /// A client on a real clock: its SYN on connect, its FIN on close
    /// (retransmitted one initial RTO later, unless acknowledged), an ACK
    /// for the SYN-ACK in SYN-SENT and a challenge ACK for any SYN-ACK after
    /// it, which it drops without looking at its ACK field.
    struct ChallengesSynAck {
        rcv_nxt: u32,
        established: bool,
        due: Vec<(Instant, Segment)>,
    }

    impl Target for ChallengesSynAck {
        fn name(&self) -> &str {
            "challenges-syn-ack"
        }
        fn clock(&self) -> Clock {
            Clock::Real {
                tolerance: Duration::from_millis(1500),
            }
        }
        fn open(&mut self, _: Role, _: &Profile) -> Result<(), TargetError> {
            Ok(())
        }
        fn app(&mut self, call: &AppCall) -> Result<(), TargetError> {
            let now = Instant::now();
            if *call == AppCall::Connect {
                self.due.push((now, seg("S", ISN, 0)));
            } else {
                let fin = seg("FA", ISN + 1, self.rcv_nxt);
                self.due.push((now, fin.clone()));
                self.due.push((now + Duration::from_millis(1000), fin));
            }
            Ok(())
        }
        fn deliver(&mut self, s: Segment) -> Result<(), TargetError> {
            let now = Instant::now();
            if !self.established {
                self.established = true;
                self.rcv_nxt = s.seq.wrapping_add(1);
                self.due.push((now, seg("A", ISN + 1, self.rcv_nxt)));
            } else {
                // RFC 9293 §3.10.7.4, fourth: a SYN in a synchronized
                // state gets a challenge ACK; the segment is dropped.
                self.due.push((now, seg("A", ISN + 2, self.rcv_nxt)));
            }
            Ok(())
        }
        fn advance(&mut self, d: Duration) -> Result<Vec<(Duration, Segment)>, TargetError> {
            let start = Instant::now();
            std::thread::sleep(d);
            Ok(take_ready(&mut self.due)
                .into_iter()
                .map(|s| (start.elapsed(), s))
                .collect())
        }
        fn poll(&mut self) -> Result<Vec<Segment>, TargetError> {
            Ok(take_ready(&mut self.due))
        }
        fn state(&mut self) -> Option<TcpState> {
            None
        }
        fn close(&mut self) {}
    }

    /// A SYN-ACK that acknowledges the IUT's FIN, in FIN-WAIT-1, stops no
    /// timer: the IUT drops it at the SYN check, and its FIN's
    /// retransmission one initial RTO later is not caught by the proof of
    /// silence at the trace's end, which ends before the RTO (taken for an
    /// acknowledgement, the proof would last the whole tolerance and catch
    /// it).
    #[test]
    fn a_syn_acks_nothing_in_a_synchronized_state() {
        const SYN_ACK_TRACE: &str = "format: tracewright/1
id: tcp-client-fin-wait-1-recv-sa-sends-a-to-fin-wait-1
protocol: tcp
iut: client
profile: rfc9293
variant: null
description: test
covers: []
steps:
  - app: connect
  - expect: {any_of: [{flags: S, seq: 0}]}
  - state: SYN-SENT
  - send: {flags: SA, seq: 0, ack: 1}
  - expect: {any_of: [{flags: A, seq: 1, ack: 1}]}
  - state: ESTABLISHED
  - app: close
  - expect: {any_of: [{flags: FA, seq: 1, ack: 1}]}
  - state: FIN-WAIT-1
  - send: {flags: SA, seq: 1, ack: 2}
  - expect: {any_of: [{flags: A, seq: 2, ack: 1}]}
  - state: FIN-WAIT-1
";
        let trace = crate::load::parse_trace(
            Path::new("tcp-client-fin-wait-1-recv-sa-sends-a-to-fin-wait-1.yaml"),
            SYN_ACK_TRACE,
        )
        .unwrap();
        let mut target = ChallengesSynAck {
            rcv_nxt: 0,
            established: false,
            due: Vec::new(),
        };
        let r = super::replay(&trace, &mut target, &Profile::rfc9293());
        assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.transcript);
    }
}
