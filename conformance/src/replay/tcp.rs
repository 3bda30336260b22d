//! TCP (and the listener) plugged into the replay engine: segments with
//! sequence numbers relative to each side's ISN, as traces write them.
//!
//! The IUT's ISN is learnt from its first SYN. With several harness peers
//! (listener traces), it is learnt per peer, and an `expect` takes the
//! earliest queued segment addressed to a peer its patterns name.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::Duration;

use super::{drive, target_verdict, Dir, Plugin, Run, TraceResult, Verdict};
use crate::profile::Profile;
use crate::target::{Clock, Segment, Target, HARNESS_ISN, HARNESS_PORT, IUT_PORT};
use crate::trace::{AppCall, SegmentPattern, Step, TcpState, Trace, Wait, WindowPattern, WndEdge};

/// Until the IUT's ISN is learnt from its first SYN, its sequence space is
/// taken to start here, so a RST answering our ACK (whose seq is our ack)
/// maps back to the relative number we sent.
const PROVISIONAL_IUT_ISN: u32 = 0x8000_0000;

/// How much sooner than the earliest retransmission a proof of silence
/// ends: a segment is seen a little after it was sent.
const RTO_MARGIN: Duration = Duration::from_millis(100);

/// A segment written with relative numbers, as traces write them.
pub struct Rel<'a> {
    seg: &'a Segment,
    iut_isn: u32,
    /// The window is shown: it is what went wrong (a shrunk window).
    show_window: bool,
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
        if self.show_window {
            write!(f, " win={}", s.window)?;
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
    match p.win {
        Some(WindowPattern::Wnd) => s += " win=wnd",
        Some(WindowPattern::Exact(n)) => s += &format!(" win={n}"),
        None => {}
    }
    s
}

/// The right edge of the receive window a segment of the IUT advertises,
/// relative to the harness's ISN: SEG.ACK + SEG.WND, or for a SYN without
/// ACK 1 + SEG.WND (the harness's SYN is at 0).
fn right_edge(s: &Segment) -> u32 {
    let ack = if s.flags.ack {
        s.ack.wrapping_sub(HARNESS_ISN)
    } else {
        1
    };
    ack.wrapping_add(u32::from(s.window))
}

/// The TCP side of one replay: the target, and the IUT's sequence spaces
/// as learnt so far.
struct Tcp<'a> {
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
    /// The right edge of the IUT's receive window towards each port, as
    /// far as it advertised it (see [`right_edge`]): learnt from its SYN or
    /// SYN-ACK, moved right by each segment matched since.
    edges: BTreeMap<u16, u32>,
    /// The model's state, for the RFC citation.
    state: Option<TcpState>,
    /// The kind of the last harness-side step, for the RFC citation.
    last_cause: Cause,
    /// Transcript lines from here on belong to the transition the next
    /// `state` step completes: they get its state.
    since_state: usize,
    /// The last wait ended just before one of the IUT's timers is due
    /// (`before(...)`): silence can be proven no longer than what has
    /// arrived, or the timer would fire inside the proof.
    timer_due: bool,
    /// When the first segment the IUT must retransmit if unanswered (a
    /// SYN, a FIN, data) came since the last wait: its retransmission
    /// timer fires no sooner than one initial RTO after it. Per harness
    /// port: a listener's peers each have their own timer, and an ACK
    /// from one stops none of the others'.
    first_unanswered: BTreeMap<u16, std::time::Instant>,
    /// The time spent proving silence since `first_unanswered`.
    silence_spent: Duration,
    /// The harness's next act is an application call or an answer that
    /// acknowledges all the IUT sent: no proof of silence before it.
    app_next: bool,
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
    /// CLOSE with data unread, or reading shut down (RFC 9293 §3.6.1).
    StopReading,
}

impl Tcp<'_> {
    /// Whether a segment of the IUT advertises a right window edge left of
    /// one it advertised before on this connection (RFC 9293 §3.8.6.2.2).
    fn shrinks(&self, s: &Segment) -> bool {
        !s.flags.syn
            && self
                .edges
                .get(&s.dst_port)
                .is_some_and(|&e| (right_edge(s).wrapping_sub(e) as i32) < 0)
    }

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
}

impl Plugin for Tcp<'_> {
    type Unit = Segment;
    type Pattern = SegmentPattern;
    type Step = Step;
    const UNIT: &'static str = "segment";
    const UNEXPECTED: &'static str = "unexpected segment: the model allows nothing here";
    const NOTHING: Option<&'static str> = Some("(nothing)");

    fn clock(&self) -> Clock {
        self.target.clock()
    }

    fn poll(&mut self, step: usize) -> Result<Vec<Segment>, Verdict> {
        self.target.poll().map_err(|e| target_verdict(step, e))
    }

    fn advance(&mut self, step: usize, d: Duration) -> Result<Vec<(Duration, Segment)>, Verdict> {
        self.target.advance(d).map_err(|e| target_verdict(step, e))
    }

    fn admit(&mut self, queue: &mut VecDeque<Segment>, s: Segment) {
        if s.flags.syn && s.src_port == IUT_PORT {
            let v = self.isns.entry(s.dst_port).or_default();
            if v.is_empty() {
                v.push((0, s.seq));
            }
        }
        queue.push_back(s);
    }

    /// The earliest emitted segment addressed to a peer one of the
    /// patterns names (segments to other peers keep their place).
    fn pick(&self, queue: &VecDeque<Segment>, any_of: &[SegmentPattern]) -> Option<usize> {
        queue.iter().position(|s| {
            any_of
                .iter()
                .any(|p| s.dst_port == HARNESS_PORT.wrapping_add(p.peer))
        })
    }

    fn show(&self, seg: &Segment) -> String {
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
            show_window: seg.src_port == IUT_PORT && !seg.flags.rst && self.shrinks(seg),
        }
        .to_string()
    }

    fn show_pattern(&self, p: &SegmentPattern) -> String {
        pattern_text(p)
    }

    fn matches(&self, p: &SegmentPattern, seg: &Segment) -> bool {
        // A SYN of the new incarnation after the first (its SYN-ACK in a
        // simultaneous open, a retransmission) repeats the ISN learnt from
        // the first: its number is checked as any other.
        let isn_known = p.seq.is_some_and(|s| {
            self.isns
                .get(&seg.dst_port)
                .is_some_and(|v| v.len() > 1 && v.last().is_some_and(|&(t, _)| t == s))
        });
        let seq_ok = if p.new_isn && !isn_known {
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
        let win_ok = match p.win {
            None => true,
            Some(WindowPattern::Exact(n)) => seg.window == n,
            Some(WindowPattern::Wnd) if seg.flags.syn => seg.window > 0,
            Some(WindowPattern::Wnd) => !self.shrinks(seg),
        };
        p.flags.matches(seg.flags)
            && win_ok
            && seq_ok
            && seg.dst_port == HARNESS_PORT.wrapping_add(p.peer)
            && p.ack.is_none_or(|a| seg.ack.wrapping_sub(HARNESS_ISN) == a)
            && seg.payload.len() as u32 == p.len
    }

    fn matched(&mut self, p: &SegmentPattern, seg: &Segment) {
        if !seg.flags.rst {
            // A SYN starts the connection's window afresh; later segments
            // may only move its right edge on.
            let edge = right_edge(seg);
            let known = self.edges.entry(seg.dst_port).or_insert(edge);
            if seg.flags.syn || (edge.wrapping_sub(*known) as i32) > 0 {
                *known = edge;
            }
        }
        if p.new_isn {
            let v = self.isns.entry(seg.dst_port).or_default();
            let learnt = (p.seq.unwrap_or(0), seg.seq);
            if v.len() < 2 || v.last() != Some(&learnt) {
                v.push(learnt);
            }
        }
        self.note_seq(seg);
        if seg.flags.syn || seg.flags.fin || !seg.payload.is_empty() {
            self.first_unanswered
                .entry(seg.dst_port)
                .or_insert_with(std::time::Instant::now);
        }
    }

    fn is_check(step: &Step) -> bool {
        matches!(step, Step::State(_) | Step::Delivered(_))
    }

    fn step(run: &mut Run<Self>, i: usize, step: &Step) -> Result<(), Verdict> {
        match step {
            Step::App(call) => {
                // Before an application call, what has arrived is all: a
                // late answer stays queued for the next check, and the
                // time a proof took would delay the call (Linux budgets its
                // data give-up in time from the connection's start).
                run.proto.app_next = true;
                run.act(i, Dir::Note, format!("app {call}"), |t| {
                    t.app_next = false;
                    t.last_cause = Cause::App(match call {
                        AppCall::Listen | AppCall::Connect | AppCall::Accept => AppKind::Open,
                        AppCall::Send(_) => AppKind::Send,
                        AppCall::Close => AppKind::Close,
                        AppCall::Abort => AppKind::Abort,
                        AppCall::ShutdownRead | AppCall::CloseUnread => AppKind::StopReading,
                    });
                    t.target.app(call)
                })
            }
            Step::Refused(call) => {
                let mut answer = None;
                let text = format!("app {call} (the IUT must refuse it)");
                run.proto.app_next = true;
                run.act(i, Dir::Note, text, |t| {
                    t.app_next = false;
                    t.last_cause = Cause::App(AppKind::Open);
                    answer = Some(t.target.try_app(call)?);
                    Ok(())
                })?;
                match answer.flatten() {
                    Some(error) => {
                        run.line(i, Dir::Note, format!("refused: {error}"));
                        Ok(())
                    }
                    None => Err(Verdict::Fail {
                        step: i,
                        reason: format!(
                            "the IUT accepted `{call}` on an address pair a connection still holds (RFC 9293 §3.10.1: \"connection already exists\")"
                        ),
                        expected: vec![format!("{call} refused")],
                        got: Some(format!("{call} accepted")),
                    }),
                }
            }
            Step::Send(spec) => {
                let t = &run.proto;
                let port = HARNESS_PORT.wrapping_add(spec.peer);
                // At the window's edge: the largest right edge the IUT
                // advertised, or one below it.
                let rel = match spec.wnd_edge {
                    None => spec.seq,
                    Some(edge) => {
                        let Some(&right) = t.edges.get(&port) else {
                            return Err(Verdict::Error {
                                step: Some(i),
                                reason: "wnd_edge: the IUT has advertised no window yet".into(),
                            });
                        };
                        right.wrapping_sub(u32::from(edge == WndEdge::Last))
                    }
                };
                let seg = Segment {
                    src_port: port,
                    dst_port: IUT_PORT,
                    seq: HARNESS_ISN.wrapping_add(rel),
                    ack: spec.ack.map_or(0, |a| t.iut_abs(port, a)),
                    flags: spec.flags,
                    window: spec.win.unwrap_or(t.profile.recv_window),
                    payload: (0..spec.len).map(|k| b'a' + (k % 26) as u8).collect(),
                };
                let text = t.show(&seg);
                // An ACK of all the IUT sent stops its retransmission timer.
                // A SYN's ACK only in SYN-SENT: elsewhere the SYN is looked
                // at before the ACK field and the segment dropped (RFC 9293
                // §3.10.7.4, fourth before fifth), so the IUT's FIN or data
                // stays unacknowledged and its timer runs on.
                let acks_all = seg.flags.ack
                    && !seg.flags.rst
                    && (t.state == Some(TcpState::SynSent)) == seg.flags.syn
                    && t.isns
                        .get(&port)
                        .and_then(|v| v.first())
                        .is_some_and(|&(_, first)| {
                            seg.ack
                                == first
                                    .wrapping_add(t.iut_seq_max.get(&port).copied().unwrap_or(0))
                        });
                // An answer to what the IUT sent goes at once: held back to
                // prove silence, it would lengthen the IUT's RTT sample
                // and so its RTO (RFC 6298 §2). A late unit stays queued
                // for the next check.
                run.proto.app_next = acks_all;
                run.act(i, Dir::ToIut, text, |t| {
                    t.last_cause = Cause::Segment;
                    t.app_next = false;
                    if acks_all {
                        t.first_unanswered.remove(&port);
                        if t.first_unanswered.is_empty() {
                            t.silence_spent = Duration::ZERO;
                        }
                    }
                    t.target.deliver(seg)
                })
            }
            Step::Expect(e) => run.expect(i, &e.any_of),
            Step::Wait(w) => {
                run.quiet(i)?;
                run.proto.last_cause = match w {
                    Wait::TwoMsl | Wait::BeforeTwoMsl | Wait::AfterTwoMsl | Wait::HalfTwoMsl => {
                        Cause::TwoMsl
                    }
                    _ => Cause::Rto,
                };
                run.proto.timer_due = matches!(w, Wait::BeforeTwoMsl | Wait::BeforeRto(_));
                run.proto.first_unanswered.clear();
                let d = run.proto.target.resolve_wait(*w, run.proto.profile);
                run.line(i, Dir::Note, format!("wait {w} ({} ms)", d.as_millis()));
                // The model's timeline has the harness act in no time: a
                // retransmission timeout runs from the segment that armed
                // it, so the time spent proving silence since is part of
                // the wait already.
                let spent = match *w {
                    Wait::Rto(_) | Wait::BeforeRto(_) => {
                        std::mem::take(&mut run.proto.silence_spent).min(d)
                    }
                    _ => Duration::ZERO,
                };
                run.proto.silence_spent = Duration::ZERO;
                let emitted = run.proto.advance(i, d - spent)?;
                // The rest of a timeout after its `before`: the timer was
                // armed a whole timeout ago, and may be that late.
                let armed = match *w {
                    Wait::AfterRto(n) => run
                        .proto
                        .target
                        .resolve_wait(Wait::Rto(n), run.proto.profile),
                    _ => d,
                };
                run.slack = run.proto.target.timer_slack(armed);
                let tolerance = run.tolerance();
                for (at, seg) in emitted {
                    let at = at + spent;
                    if at + tolerance < d {
                        let got = run.proto.show(&seg);
                        run.line(i, Dir::FromIut, got.clone());
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
                    run.take([seg]);
                }
                Ok(())
            }
            Step::State(_) | Step::Delivered(_) if run.diverged => Ok(()),
            Step::State(s) => {
                run.proto.state = Some(*s);
                run.state = Some(s.to_string());
                let since = run.proto.since_state;
                for l in &mut run.transcript[since..] {
                    l.state = Some(s.to_string());
                }
                run.proto.since_state = run.transcript.len();
                match run.settled(i, s, |t| Ok(t.target.state()))? {
                    Some(actual) if actual != *s => {
                        run.line(i, Dir::Note, format!("the IUT reports {actual}"));
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
            Step::Delivered(n) => match run.settled(i, &u64::from(*n), |t| t.target.delivered())? {
                Some(actual) if actual != u64::from(*n) => {
                    run.line(
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

    fn rfc(&self) -> &'static str {
        match self.last_cause {
            Cause::Start => "RFC 9293 §3.10",
            Cause::App(AppKind::Open) => "RFC 9293 §3.10.1",
            Cause::App(AppKind::Send) => "RFC 9293 §3.10.2",
            Cause::App(AppKind::Close) => "RFC 9293 §3.10.4",
            Cause::App(AppKind::Abort) => "RFC 9293 §3.10.5",
            Cause::App(AppKind::StopReading) => "RFC 9293 §3.6.1, RFC 1122 §4.2.2.13",
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

    fn close(&mut self) {
        self.target.close();
    }

    /// On a real or jumping clock, the clock's tolerance: an answer to what
    /// the harness did last, or a timer rearmed to fire at once (Linux's
    /// SYN after an unacceptable ACK in SYN-SENT, 2 jiffies), lands within
    /// it. None of the model's timers is due that soon after an act (the
    /// RTO is at least 1 s), except right after a `before(...)` wait,
    /// where the proof is what has arrived.
    fn silence_window(&self) -> Duration {
        match self.target.clock() {
            Clock::Real { tolerance } if !self.timer_due && !self.app_next => {
                // Up to just before the retransmission timer can fire.
                let rto = Duration::from_millis(self.profile.initial_rto_ms);
                let first = self.first_unanswered.values().min().copied();
                let before_rto = first.map_or(tolerance, |t| {
                    (t + rto)
                        .saturating_duration_since(std::time::Instant::now())
                        .saturating_sub(RTO_MARGIN)
                });
                tolerance.min(before_rto)
            }
            _ => Duration::ZERO,
        }
    }

    fn silence_proven(&mut self, d: Duration) {
        if !self.first_unanswered.is_empty() {
            self.silence_spent += d;
        }
    }
}

/// The profile a listener trace's IUT is configured with: the corpus's,
/// with SYN cookies off for a trace of the listener without them (variant
/// `no-syn-cookies`, see `tracewright_model::gen::listener`).
fn listener_profile<'p>(trace: &Trace, profile: &'p Profile) -> std::borrow::Cow<'p, Profile> {
    if trace.iut == crate::trace::Role::Listener
        && trace.variant.as_deref() == Some("no-syn-cookies")
    {
        let mut p = profile.clone();
        p.syn_cookies = false;
        return std::borrow::Cow::Owned(p);
    }
    std::borrow::Cow::Borrowed(profile)
}

/// Replays one trace against a target.
pub fn replay(trace: &Trace, target: &mut dyn Target, profile: &Profile) -> TraceResult {
    let profile = &*listener_profile(trace, profile);
    if let Err(e) = target.open(trace.iut, profile) {
        return TraceResult::without_steps(&trace.id, &trace.covers, target_verdict(0, e));
    }
    let tcp = Tcp {
        target,
        profile,
        isns: BTreeMap::new(),
        iut_seq_max: BTreeMap::new(),
        edges: BTreeMap::new(),
        state: Some(TcpState::Closed),
        last_cause: Cause::Start,
        since_state: 0,
        timer_due: false,
        first_unanswered: BTreeMap::new(),
        silence_spent: Duration::ZERO,
        app_next: false,
    };
    let start = tcp.state.map(|s| s.to_string());
    drive(tcp, &trace.id, &trace.covers, &trace.steps, start)
}
