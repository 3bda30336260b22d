//! Replay: one trace through one target, to one verdict.
//!
//! The semantics are those in [`crate::trace`]'s module doc. The engine keeps
//! a queue of what the IUT emitted; `expect` consumes from it, and anything
//! left over when the harness acts next (or at the end) is a failure: the
//! model allows nothing there.
//!
//! With several harness peers (listener traces), the IUT's ISN is learnt
//! per peer, and an `expect` takes the earliest queued segment addressed to
//! a peer its patterns name.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::Duration;

use crate::profile::Profile;
use crate::target::{Clock, Segment, Target, TargetError, HARNESS_ISN, HARNESS_PORT, IUT_PORT};
use crate::trace::{AppCall, SegmentPattern, Step, TcpState, Trace, Transition, Wait};

/// Until the IUT's ISN is learnt from its first SYN, its sequence space is
/// taken to start here, so a RST answering our ACK (whose seq is our ack)
/// maps back to the relative number we sent.
const PROVISIONAL_IUT_ISN: u32 = 0x8000_0000;

/// On a real clock, how often the engine looks again for a segment it
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

/// A segment written with relative numbers, as traces write them.
pub struct Rel<'a> {
    seg: &'a Segment,
    iut_isn: u32,
}

impl fmt::Display for Rel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seg;
        let harness = s.src_port != IUT_PORT;
        let (seq, ack) = if harness {
            (
                s.seq.wrapping_sub(HARNESS_ISN),
                s.ack.wrapping_sub(self.iut_isn),
            )
        } else {
            (
                s.seq.wrapping_sub(self.iut_isn),
                s.ack.wrapping_sub(HARNESS_ISN),
            )
        };
        write!(f, "{} seq={}", s.flags, seq as i32)?;
        if s.flags.ack {
            write!(f, " ack={}", ack as i32)?;
        }
        if !s.payload.is_empty() {
            write!(f, " len={}", s.payload.len())?;
        }
        // Only traces with several peers name them.
        let port = if harness { s.src_port } else { s.dst_port };
        if port != HARNESS_PORT {
            write!(f, " peer={}", port.wrapping_sub(HARNESS_PORT))?;
        }
        Ok(())
    }
}

/// A pattern written as a segment is.
pub fn pattern_text(p: &SegmentPattern) -> String {
    let mut s = p.flags.to_string();
    if let Some(seq) = p.seq {
        s += &format!(" seq={seq}");
    }
    if let Some(ack) = p.ack {
        s += &format!(" ack={ack}");
    }
    if p.len > 0 {
        s += &format!(" len={}", p.len);
    }
    if p.new_isn {
        s += " (a new ISN above the old numbers)";
    }
    if p.peer != 0 {
        s += &format!(" peer={}", p.peer);
    }
    s
}

struct Run<'a> {
    target: &'a mut dyn Target,
    profile: &'a Profile,
    /// The IUT's ISNs towards each harness port, one per incarnation:
    /// (the trace's number for it, the real one). Learnt from the first SYN
    /// it sends there (a listener picks one per connection), and from each
    /// SYN a trace marks `new_isn`.
    isns: BTreeMap<u16, Vec<(u32, u32)>>,
    /// The highest sequence number the IUT has used towards each port,
    /// relative to its first ISN there (a new ISN must lie above it).
    iut_seq_max: BTreeMap<u16, u32>,
    queue: VecDeque<Segment>,
    transcript: Vec<LadderLine>,
    state: Option<TcpState>,
    /// The kind of the last harness-side step, for the RFC citation.
    last_cause: Cause,
    /// Transcript lines from here on belong to the transition the next
    /// `state` step completes: they get its state.
    since_state: usize,
    /// The index of the trace's last step that is not a `state` check: an
    /// allowed alternative there ends the trace as a pass.
    last_action: usize,
    /// The IUT took an allowed alternative at the last expectation: the
    /// model's states no longer apply.
    diverged: bool,
    /// How late the IUT's timers may fire after the last wait, beyond the
    /// clock's tolerance (until the next app call or segment).
    slack: Duration,
}

#[derive(Clone, Copy)]
enum Cause {
    Start,
    App(AppKind),
    Segment,
    Rto,
    TwoMsl,
}

#[derive(Clone, Copy)]
enum AppKind {
    Open,
    Send,
    Close,
    Abort,
}

impl Run<'_> {
    /// The IUT's current ISN towards harness port `port`.
    fn base(&self, port: u16) -> u32 {
        self.isns
            .get(&port)
            .and_then(|v| v.last())
            .map_or(PROVISIONAL_IUT_ISN, |&(_, real)| real)
    }

    /// A trace's number in the IUT's sequence space towards `port`, made
    /// absolute: numbers from an incarnation's trace ISN up belong to it.
    fn iut_abs(&self, port: u16, rel: u32) -> u32 {
        let found = self
            .isns
            .get(&port)
            .and_then(|v| v.iter().rev().find(|&&(t, _)| t <= rel));
        match found {
            Some(&(t, real)) => real.wrapping_add(rel - t),
            None => self.base(port).wrapping_add(rel),
        }
    }

    fn rel(&self, seg: &Segment) -> String {
        let port = if seg.src_port == IUT_PORT {
            seg.dst_port
        } else {
            seg.src_port
        };
        // Written as the trace writes it: relative to the first ISN, the
        // current incarnation's numbers from its own trace ISN up.
        let (t, real) = self
            .isns
            .get(&port)
            .and_then(|v| v.last().copied())
            .unwrap_or((0, self.base(port)));
        Rel {
            seg,
            iut_isn: real.wrapping_sub(t),
        }
        .to_string()
    }

    fn take(&mut self, segs: Vec<Segment>) {
        for s in segs {
            if s.flags.syn && s.src_port == IUT_PORT {
                let v = self.isns.entry(s.dst_port).or_default();
                if v.is_empty() {
                    v.push((0, s.seq));
                }
            }
            self.queue.push_back(s);
        }
    }

    /// The earliest emitted segment addressed to a peer one of `e`'s
    /// patterns names (segments to other peers keep their place).
    fn pop_for(&mut self, e: &crate::trace::Expect) -> Option<Segment> {
        let i = self.queue.iter().position(|s| {
            e.any_of
                .iter()
                .any(|p| s.dst_port == HARNESS_PORT.wrapping_add(p.peer))
        })?;
        self.queue.remove(i)
    }

    fn line(&mut self, step: usize, dir: Dir, text: String) {
        self.transcript.push(LadderLine {
            step,
            dir,
            text,
            state: self.state.map(|s| s.to_string()),
        });
    }

    fn poll(&mut self, step: usize) -> Result<(), Verdict> {
        let segs = self.target.poll().map_err(|e| target_verdict(step, e))?;
        self.take(segs);
        Ok(())
    }

    /// Nothing may be left unconsumed when the harness acts next.
    fn quiet(&mut self, step: usize) -> Result<(), Verdict> {
        if let Some(seg) = self.queue.pop_front() {
            let got = self.rel(&seg);
            self.line(step, Dir::FromIut, got.clone());
            return Err(Verdict::Fail {
                step,
                reason: "unexpected segment: the model allows nothing here".into(),
                expected: vec!["nothing".into()],
                got: Some(got),
            });
        }
        Ok(())
    }

    fn step(&mut self, i: usize, step: &Step) -> Result<(), Verdict> {
        match step {
            Step::App(call) => {
                self.quiet(i)?;
                self.slack = Duration::ZERO;
                self.last_cause = Cause::App(match call {
                    AppCall::Listen | AppCall::Connect => AppKind::Open,
                    AppCall::Send(_) => AppKind::Send,
                    AppCall::Close => AppKind::Close,
                    AppCall::Abort => AppKind::Abort,
                    AppCall::Accept => AppKind::Open,
                });
                self.line(i, Dir::Note, format!("app {call}"));
                self.target.app(call).map_err(|e| target_verdict(i, e))?;
                self.poll(i)
            }
            Step::Send(spec) => {
                self.quiet(i)?;
                self.slack = Duration::ZERO;
                self.last_cause = Cause::Segment;
                let port = HARNESS_PORT.wrapping_add(spec.peer);
                let seg = Segment {
                    src_port: port,
                    dst_port: IUT_PORT,
                    seq: HARNESS_ISN.wrapping_add(spec.seq),
                    ack: spec.ack.map_or(0, |a| self.iut_abs(port, a)),
                    flags: spec.flags,
                    window: spec.win.unwrap_or(self.profile.recv_window),
                    payload: (0..spec.len).map(|k| b'a' + (k % 26) as u8).collect(),
                };
                let text = self.rel(&seg);
                self.line(i, Dir::ToIut, text);
                self.target.deliver(seg).map_err(|e| target_verdict(i, e))?;
                self.poll(i)
            }
            Step::Expect(e) => {
                let mut next = self.pop_for(e);
                if next.is_none() {
                    if let Clock::Real { tolerance } = self.target.clock() {
                        // Up to the tolerance for the segment, in slices, so
                        // that the next step starts as soon as it came.
                        let deadline = std::time::Instant::now() + tolerance + self.slack;
                        while next.is_none() {
                            let left =
                                deadline.saturating_duration_since(std::time::Instant::now());
                            if left.is_zero() {
                                break;
                            }
                            let segs = self
                                .target
                                .advance(left.min(REAL_SLICE))
                                .map_err(|e| target_verdict(i, e))?;
                            self.take(segs.into_iter().map(|(_, s)| s).collect());
                            next = self.pop_for(e);
                        }
                    }
                }
                let expected: Vec<String> = e.any_of.iter().map(pattern_text).collect();
                let Some(seg) = next else {
                    self.line(i, Dir::FromIut, "(nothing)".into());
                    return Err(Verdict::Fail {
                        step: i,
                        reason: "nothing came".into(),
                        expected,
                        got: None,
                    });
                };
                let got = self.rel(&seg);
                self.line(i, Dir::FromIut, got.clone());
                let matched = e.any_of.iter().position(|p| self.matches(p, &seg));
                if let Some(k) = matched {
                    let p = &e.any_of[k];
                    if p.new_isn {
                        self.isns
                            .entry(seg.dst_port)
                            .or_default()
                            .push((p.seq.unwrap_or(0), seg.seq));
                    }
                    self.note_seq(&seg);
                }
                match matched {
                    Some(0) => Ok(()),
                    Some(_) if i == self.last_action => {
                        self.diverged = true;
                        Ok(())
                    }
                    Some(_) => Err(Verdict::Inconclusive {
                        step: i,
                        reason: format!(
                            "the IUT sent {got}, which the model allows, but this trace follows {}",
                            expected[0]
                        ),
                    }),
                    None => Err(Verdict::Fail {
                        step: i,
                        reason: "the IUT sent a segment the model does not allow here".into(),
                        expected,
                        got: Some(got),
                    }),
                }
            }
            Step::Wait(w) => {
                self.quiet(i)?;
                self.last_cause = match w {
                    Wait::TwoMsl => Cause::TwoMsl,
                    _ => Cause::Rto,
                };
                let d = self.target.resolve_wait(*w, self.profile);
                self.line(i, Dir::Note, format!("wait {w} ({} ms)", d.as_millis()));
                let emitted = self.target.advance(d).map_err(|e| target_verdict(i, e))?;
                self.slack = self.target.timer_slack(d);
                let tolerance = match self.target.clock() {
                    Clock::Virtual => Duration::ZERO,
                    Clock::Real { tolerance } => tolerance,
                };
                for (at, seg) in emitted {
                    if at + tolerance < d {
                        let got = self.rel(&seg);
                        self.line(i, Dir::FromIut, got.clone());
                        return Err(Verdict::Fail {
                            step: i,
                            reason: format!(
                                "early: emitted {} ms into a wait of {w} = {} ms",
                                at.as_millis(),
                                d.as_millis()
                            ),
                            expected: vec![format!("nothing before {} ms", d.as_millis())],
                            got: Some(got),
                        });
                    }
                    self.take(vec![seg]);
                }
                Ok(())
            }
            Step::State(_) if self.diverged => Ok(()),
            Step::State(s) => {
                self.state = Some(*s);
                for l in &mut self.transcript[self.since_state..] {
                    l.state = Some(s.to_string());
                }
                self.since_state = self.transcript.len();
                match self.settled(i, *s, |t| Ok(t.state()))? {
                    Some(actual) if actual != *s => {
                        self.line(i, Dir::Note, format!("the IUT reports {actual}"));
                        Err(Verdict::Fail {
                            step: i,
                            reason: format!("the IUT is in {actual}, the model in {s}"),
                            expected: vec![s.to_string()],
                            got: Some(actual.to_string()),
                        })
                    }
                    _ => Ok(()),
                }
            }
            Step::Delivered(_) if self.diverged => Ok(()),
            Step::Delivered(n) => match self.settled(i, u64::from(*n), |t| t.delivered())? {
                Some(actual) if actual != u64::from(*n) => {
                    self.line(
                        i,
                        Dir::Note,
                        format!("the application received {actual} bytes"),
                    );
                    Err(Verdict::Fail {
                        step: i,
                        reason: format!(
                            "the application received {actual} bytes, the model delivered {n}"
                        ),
                        expected: vec![format!("delivered {n}")],
                        got: Some(format!("delivered {actual}")),
                    })
                }
                _ => Ok(()),
            },
        }
    }

    /// What `ask` reads off the IUT (its state, the bytes its application
    /// received). On a real clock a timer the trace has just waited for may
    /// fire up to the tolerance (and the timer slack) late, and a kernel may
    /// still be handing a segment up: until the answer is `want`, it is
    /// asked again for that long; what the IUT emits meanwhile is kept for
    /// the next step.
    fn settled<T: PartialEq>(
        &mut self,
        step: usize,
        want: T,
        ask: fn(&mut dyn Target) -> Result<Option<T>, TargetError>,
    ) -> Result<Option<T>, Verdict> {
        let mut actual = ask(self.target).map_err(|e| target_verdict(step, e))?;
        if let Clock::Real { tolerance } = self.target.clock() {
            let deadline = std::time::Instant::now() + tolerance + self.slack;
            while actual.as_ref().is_some_and(|a| *a != want)
                && std::time::Instant::now() < deadline
            {
                let segs = self
                    .target
                    .advance(REAL_SLICE)
                    .map_err(|e| target_verdict(step, e))?;
                self.take(segs.into_iter().map(|(_, s)| s).collect());
                actual = ask(self.target).map_err(|e| target_verdict(step, e))?;
            }
        }
        Ok(actual)
    }

    fn matches(&self, p: &SegmentPattern, seg: &Segment) -> bool {
        let seq_ok = if p.new_isn {
            // A new incarnation's ISN: above every number the IUT used
            // (within half the sequence space, RFC 9293 §3.4).
            let port = seg.dst_port;
            let first = self
                .isns
                .get(&port)
                .and_then(|v| v.first())
                .map_or(seg.seq, |&(_, real)| real);
            let rel = seg.seq.wrapping_sub(first) as i32;
            rel > self.iut_seq_max.get(&port).copied().unwrap_or(0) as i32
        } else {
            p.seq
                .is_none_or(|s| seg.seq == self.iut_abs(seg.dst_port, s))
        };
        p.flags.matches(seg.flags)
            && seq_ok
            && seg.dst_port == HARNESS_PORT.wrapping_add(p.peer)
            && p.ack.is_none_or(|a| seg.ack.wrapping_sub(HARNESS_ISN) == a)
            && seg.payload.len() as u32 == p.len
    }

    /// Keeps the highest sequence number the IUT has used (relative to its
    /// first ISN), which a new ISN must exceed.
    fn note_seq(&mut self, s: &Segment) {
        let port = s.dst_port;
        let Some(&(_, first)) = self.isns.get(&port).and_then(|v| v.first()) else {
            return;
        };
        let len = s.payload.len() as u32 + s.flags.syn as u32 + s.flags.fin as u32;
        let top = s.seq.wrapping_add(len).wrapping_sub(first);
        let max = self.iut_seq_max.entry(port).or_insert(0);
        if (top as i32) > (*max as i32) {
            *max = top;
        }
    }

    fn rfc(&self) -> &'static str {
        match self.last_cause {
            Cause::Start => "RFC 9293 §3.10",
            Cause::App(AppKind::Open) => "RFC 9293 §3.10.1",
            Cause::App(AppKind::Send) => "RFC 9293 §3.10.2",
            Cause::App(AppKind::Close) => "RFC 9293 §3.10.4",
            Cause::App(AppKind::Abort) => "RFC 9293 §3.10.5",
            Cause::Rto => "RFC 9293 §3.8.1, RFC 6298 §5",
            Cause::TwoMsl => "RFC 9293 §3.6.1",
            Cause::Segment => match self.state {
                Some(TcpState::Closed) | None => "RFC 9293 §3.10.7.1",
                Some(TcpState::Listen) => "RFC 9293 §3.10.7.2",
                Some(TcpState::SynSent) => "RFC 9293 §3.10.7.3",
                Some(_) => "RFC 9293 §3.10.7.4",
            },
        }
    }
}

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

/// Replays one trace against a target.
pub fn replay(trace: &Trace, target: &mut dyn Target, profile: &Profile) -> TraceResult {
    let mut result = TraceResult {
        id: trace.id.clone(),
        verdict: Verdict::Pass,
        covers: trace.covers.clone(),
        transcript: Vec::new(),
        rfc: None,
    };
    if let Err(e) = target.open(trace.iut, profile) {
        result.verdict = target_verdict(0, e);
        return result;
    }
    let mut run = Run {
        target,
        profile,
        isns: BTreeMap::new(),
        iut_seq_max: BTreeMap::new(),
        queue: VecDeque::new(),
        transcript: Vec::new(),
        state: Some(TcpState::Closed),
        last_cause: Cause::Start,
        since_state: 0,
        last_action: trace
            .steps
            .iter()
            .rposition(|s| !matches!(s, Step::State(_) | Step::Delivered(_)))
            .unwrap_or(0),
        diverged: false,
        slack: Duration::ZERO,
    };
    let mut outcome = Ok(());
    for (i, step) in trace.steps.iter().enumerate() {
        outcome = run.step(i, step);
        if outcome.is_err() {
            break;
        }
    }
    if outcome.is_ok() {
        // On a real clock, what the IUT emits just after the last step is
        // still the IUT's doing: poll for it before the final check.
        if matches!(run.target.clock(), Clock::Real { .. }) {
            outcome = run.poll(trace.steps.len());
        }
        if outcome.is_ok() {
            outcome = run.quiet(trace.steps.len());
        }
    }
    if let Err(v) = outcome {
        result.rfc = Some(run.rfc());
        result.verdict = v;
    }
    result.transcript = std::mem::take(&mut run.transcript);
    run.target.close();
    result
}
