//! Teeth: deliberately broken endpoints, each wrapping the bundled stack,
//! fail exactly the traces that exercise what they break and pass the rest.
//! The predicates are functions of the trace alone, so the test can fail.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use tracewright_conformance::bundled::BundledTarget;
use tracewright_conformance::load::load_corpus;
use tracewright_conformance::profile::Profile;
use tracewright_conformance::replay::{replay, Verdict};
use tracewright_conformance::report::run_corpus;
use tracewright_conformance::target::{Clock, Segment, Target, TargetError};
use tracewright_conformance::trace::{AppCall, Role, Step, TcpState, Trace, Wait, WndEdge};

/// How an endpoint is broken.
#[derive(Clone, Copy, PartialEq)]
enum Breakage {
    /// Goes straight from TIME-WAIT to CLOSED.
    SkipsTimeWait,
    /// Once a FIN has arrived, acknowledges one less: it does not count the FIN.
    AcksWrongNumber,
    /// Never retransmits its FIN.
    NeverRetransmitsFin,
    /// Starts every connection on the address pair at the same ISN, not
    /// from a clock (RFC 9293 §3.4.1).
    ReusesIsn,
    /// Hands the data of a SYN to the application at once, before the
    /// handshake completes (RFC 9293 §3.10.7.2 queues it).
    DeliversSynDataAtOnce,
    /// Acknowledges data but never hands it to the application.
    LosesReceivedData,
    /// Leaves TIME-WAIT after one MSL instead of two.
    ShortTimeWait,
    /// Advertises a zero window on every segment after its SYN or SYN-ACK,
    /// though its application reads everything (RFC 9293 §3.8.6.2.2).
    ClosesWindow,
    /// Leaves TIME-WAIT 2·MSL after it began, whatever arrived since: a
    /// retransmitted FIN does not restart the timer (RFC 9293 §3.10.7.4).
    NeverRestartsTimeWait,
    /// Its acceptability test is one too wide: a RST at RCV.NXT+RCV.WND,
    /// just past the window it advertised, counts as inside (RFC 9293
    /// §3.10.7.4).
    WindowOneTooWide,
    /// Ignores CLOSE before the connection is synchronized (LISTEN,
    /// SYN-SENT, SYN-RECEIVED; RFC 9293 §3.10.4).
    IgnoresEarlyClose,
    /// Takes an OPEN on an address pair its connection still holds
    /// (RFC 9293 §3.10.1 refuses it).
    TakesOpenOnHeldPair,
    /// Closing with data unread, drops the connection without a RST
    /// (RFC 9293 §3.6.1 SHLD-2).
    DropsUnreadSilently,
    /// Answers a SYN+FIN in CLOSED with nothing (RFC 9293 §3.10.7.1 answers
    /// anything but a RST with a RST).
    SilentToSynFinWhenClosed,
}

struct Broken {
    inner: BundledTarget,
    how: Breakage,
    fin_arrived: bool,
    fins_sent: Vec<u32>,
    /// What the inner endpoint sent before it was replaced.
    pending: Vec<Segment>,
    /// The application opened a connection before.
    opened: bool,
    /// Bytes of SYNs handed up at once.
    early: u64,
    /// Virtual time since `open`, when TIME-WAIT began, and the MSL.
    now: Duration,
    time_wait_since: Option<Duration>,
    msl: Duration,
    /// The right edge of the window it last advertised (SEG.ACK+SEG.WND).
    right_edge: Option<u32>,
}

impl Broken {
    fn new(how: Breakage) -> Self {
        Broken {
            inner: BundledTarget::new(),
            how,
            fin_arrived: false,
            fins_sent: Vec::new(),
            pending: Vec::new(),
            opened: false,
            early: 0,
            now: Duration::ZERO,
            time_wait_since: None,
            msl: Duration::ZERO,
            right_edge: None,
        }
    }

    fn after_op(&mut self) {
        if self.inner.state() == Some(TcpState::TimeWait) {
            self.time_wait_since.get_or_insert(self.now);
        } else {
            self.time_wait_since = None;
        }
        if self.how == Breakage::SkipsTimeWait && self.inner.state() == Some(TcpState::TimeWait) {
            // What it sent on the way (the final ACK) still goes out.
            let sent = self.inner.poll().unwrap();
            self.pending.extend(sent);
            self.inner.reset_to_closed();
        }
    }

    fn mangle(&mut self, segs: Vec<Segment>) -> Vec<Segment> {
        let mut out = Vec::new();
        for mut s in segs {
            if s.flags.ack && !s.flags.rst {
                self.right_edge = Some(s.ack.wrapping_add(s.window.into()));
            }
            match self.how {
                Breakage::AcksWrongNumber if self.fin_arrived && s.flags.ack => {
                    s.ack = s.ack.wrapping_sub(1)
                }
                Breakage::ClosesWindow if !s.flags.syn && !s.flags.rst => s.window = 0,
                Breakage::NeverRetransmitsFin if s.flags.fin => {
                    if self.fins_sent.contains(&s.seq) {
                        continue;
                    }
                    self.fins_sent.push(s.seq);
                }
                _ => {}
            }
            out.push(s);
        }
        out
    }
}

impl Target for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    fn clock(&self) -> Clock {
        Clock::Virtual
    }
    fn open(&mut self, role: Role, profile: &Profile) -> Result<(), TargetError> {
        self.fin_arrived = false;
        self.fins_sent.clear();
        self.pending.clear();
        self.opened = false;
        self.early = 0;
        self.now = Duration::ZERO;
        self.time_wait_since = None;
        self.msl = Duration::from_millis(profile.msl_ms);
        self.right_edge = None;
        self.inner.open(role, profile)
    }
    fn try_app(&mut self, call: &AppCall) -> Result<Option<String>, TargetError> {
        if self.how == Breakage::TakesOpenOnHeldPair && self.inner.state() != Some(TcpState::Closed)
        {
            return Ok(None);
        }
        let answer = self.inner.try_app(call)?;
        self.after_op();
        Ok(answer)
    }
    fn app(&mut self, call: &AppCall) -> Result<(), TargetError> {
        let early = matches!(
            self.inner.state(),
            Some(TcpState::Listen | TcpState::SynSent | TcpState::SynReceived)
        );
        if self.how == Breakage::IgnoresEarlyClose && *call == AppCall::Close && early {
            return Ok(());
        }
        if self.how == Breakage::DropsUnreadSilently && *call == AppCall::CloseUnread {
            self.inner.reset_to_closed();
            return Ok(());
        }
        if matches!(call, AppCall::Connect | AppCall::Listen) {
            if self.how == Breakage::ReusesIsn && self.opened {
                // A fresh endpoint, with the ISN the first one had.
                self.inner.reset_to_closed();
            }
            self.opened = true;
        }
        self.inner.app(call)?;
        self.after_op();
        Ok(())
    }
    fn deliver(&mut self, mut seg: Segment) -> Result<(), TargetError> {
        if self.how == Breakage::WindowOneTooWide
            && seg.flags.rst
            && Some(seg.seq) == self.right_edge
        {
            // What it takes for the window's last number.
            seg.seq = seg.seq.wrapping_sub(1);
        }
        if self.how == Breakage::SilentToSynFinWhenClosed
            && seg.flags.syn
            && seg.flags.fin
            && matches!(self.inner.state(), None | Some(TcpState::Closed))
        {
            return Ok(());
        }
        self.fin_arrived |= seg.flags.fin;
        if self.how == Breakage::DeliversSynDataAtOnce
            && seg.flags.syn
            && self.inner.state() == Some(TcpState::Listen)
        {
            self.early += seg.payload.len() as u64;
        }
        self.inner.deliver(seg)?;
        self.after_op();
        Ok(())
    }
    fn advance(&mut self, d: Duration) -> Result<Vec<(Duration, Segment)>, TargetError> {
        let life = match self.how {
            Breakage::ShortTimeWait => Some(self.msl),
            Breakage::NeverRestartsTimeWait => Some(self.msl * 2),
            _ => None,
        };
        if let (Some(life), Some(since)) = (life, self.time_wait_since) {
            let left = (since + life).saturating_sub(self.now);
            if left <= d {
                // One MSL (or 2·MSL from its start) into TIME-WAIT it is over.
                let mut out = self.inner.advance(left)?;
                // Unless its own timer ended TIME-WAIT at that instant (a
                // fresh endpoint would forget the ISNs it used).
                if self.inner.state() == Some(TcpState::TimeWait) {
                    self.inner.reset_to_closed();
                }
                self.time_wait_since = None;
                out.extend(
                    self.inner
                        .advance(d - left)?
                        .into_iter()
                        .map(|(t, s)| (t + left, s)),
                );
                self.now += d;
                return Ok(out);
            }
        }
        self.now += d;
        let out = self.inner.advance(d)?;
        self.after_op();
        Ok(out
            .into_iter()
            .flat_map(|(t, s)| self.mangle(vec![s]).into_iter().map(move |s| (t, s)))
            .collect())
    }
    fn poll(&mut self) -> Result<Vec<Segment>, TargetError> {
        let mut segs = std::mem::take(&mut self.pending);
        segs.extend(self.inner.poll()?);
        Ok(self.mangle(segs))
    }
    fn state(&mut self) -> Option<TcpState> {
        self.inner.state()
    }
    fn delivered(&mut self) -> Result<Option<u64>, TargetError> {
        let inner = self.inner.delivered()?;
        Ok(match self.how {
            // What it handed up early it does not hand up again.
            Breakage::DeliversSynDataAtOnce => inner.map(|n| n.max(self.early)),
            Breakage::LosesReceivedData => inner.map(|_| 0),
            _ => inner,
        })
    }
    fn close(&mut self) {
        self.inner.close()
    }
}

/// The trace checks that the IUT is in TIME-WAIT.
fn exercises_time_wait(t: &Trace) -> bool {
    t.steps
        .iter()
        .any(|s| matches!(s, Step::State(TcpState::TimeWait)))
}

/// The harness sends a FIN and later expects a segment with an ack.
fn exercises_fin_acknowledgement(t: &Trace) -> bool {
    let Some(fin) = t
        .steps
        .iter()
        .position(|s| matches!(s, Step::Send(seg) if seg.flags.fin))
    else {
        return false;
    };
    t.steps[fin..]
        .iter()
        .any(|s| matches!(s, Step::Expect(e) if e.any_of[0].ack.is_some()))
}

/// The trace expects the same FIN twice: a retransmission.
fn exercises_fin_retransmission(t: &Trace) -> bool {
    let fins: Vec<_> = t
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Expect(e) if e.any_of[0].flags.fin => Some(e.any_of[0].seq),
            _ => None,
        })
        .collect();
    fins.iter().enumerate().any(|(i, a)| fins[..i].contains(a))
}

/// The trace expects the SYN of a new incarnation, with a new ISN.
fn exercises_new_isn(t: &Trace) -> bool {
    t.steps.iter().any(|s| match s {
        Step::Expect(e) => e.any_of.iter().any(|p| p.new_isn),
        _ => false,
    })
}

/// The trace sends a SYN carrying data to the IUT in LISTEN and then checks
/// that nothing has been delivered.
fn exercises_syn_data(t: &Trace) -> bool {
    let mut state = None;
    for (i, s) in t.steps.iter().enumerate() {
        match s {
            Step::State(x) => state = Some(*x),
            Step::Send(x) if x.flags.syn && x.len > 0 && state == Some(TcpState::Listen) => {
                return t.steps[i..].contains(&Step::Delivered(0));
            }
            _ => {}
        }
    }
    false
}

/// The trace checks that data reached the application.
fn exercises_delivery(t: &Trace) -> bool {
    t.steps
        .iter()
        .any(|s| matches!(s, Step::Delivered(n) if *n > 0))
}

/// Where the trace checks that the IUT is still in TIME-WAIT just before
/// 2·MSL.
fn time_wait_checked_before_2msl(t: &Trace) -> Vec<usize> {
    (0..t.steps.len().saturating_sub(1))
        .filter(|&i| {
            t.steps[i] == Step::Wait(Wait::BeforeTwoMsl)
                && t.steps[i + 1] == Step::State(TcpState::TimeWait)
        })
        .collect()
}

/// Where half of 2·MSL passes in TIME-WAIT.
fn half_time_wait(t: &Trace) -> Option<usize> {
    t.steps
        .iter()
        .position(|s| *s == Step::Wait(Wait::HalfTwoMsl))
}

/// The trace checks that the IUT is still in TIME-WAIT just before 2·MSL,
/// or, one MSL into TIME-WAIT, expects it to answer or to be there.
fn exercises_time_wait_length(t: &Trace) -> bool {
    !time_wait_checked_before_2msl(t).is_empty()
        || half_time_wait(t).is_some_and(|h| {
            t.steps[h..]
                .iter()
                .any(|s| matches!(s, Step::Expect(_) | Step::State(TcpState::TimeWait)))
        })
}

/// Half of 2·MSL into TIME-WAIT the harness sends a FIN, and TIME-WAIT is
/// checked just before the restarted 2·MSL ends.
fn exercises_time_wait_restart(t: &Trace) -> bool {
    let Some(h) = half_time_wait(t) else {
        return false;
    };
    let Some(fin) = t.steps[h..]
        .iter()
        .position(|s| matches!(s, Step::Send(seg) if seg.flags.fin))
    else {
        return false;
    };
    time_wait_checked_before_2msl(t)
        .iter()
        .any(|&i| i > h + fin)
}

/// The trace expects the IUT's SYN or SYN-ACK and later a segment whose
/// window it checks.
fn exercises_window(t: &Trace) -> bool {
    let expected = |s: &Step, syn: bool| match s {
        Step::Expect(e) => {
            let p = &e.any_of[0];
            p.win.is_some() && !p.flags.rst && p.flags.syn == syn
        }
        _ => false,
    };
    let Some(syn) = t.steps.iter().position(|s| expected(s, true)) else {
        return false;
    };
    t.steps[syn..].iter().any(|s| expected(s, false))
}

/// The harness sends a RST just past the window the IUT advertised.
fn exercises_rst_past_window(t: &Trace) -> bool {
    t.steps.iter().any(
        |s| matches!(s, Step::Send(seg) if seg.flags.rst && seg.wnd_edge == Some(WndEdge::Past)),
    )
}

/// The application closes while the last state checked is LISTEN, SYN-SENT
/// or SYN-RECEIVED.
fn exercises_early_close(t: &Trace) -> bool {
    let mut state = TcpState::Closed;
    t.steps.iter().any(|s| match s {
        Step::State(x) => {
            state = *x;
            false
        }
        Step::App(AppCall::Close) => matches!(
            state,
            TcpState::Listen | TcpState::SynSent | TcpState::SynReceived
        ),
        _ => false,
    })
}

/// The trace expects the IUT to refuse a call.
fn exercises_refused_open(t: &Trace) -> bool {
    t.steps.iter().any(|s| matches!(s, Step::Refused(_)))
}

/// The application closes with data unread.
fn exercises_close_unread(t: &Trace) -> bool {
    t.steps.contains(&Step::App(AppCall::CloseUnread))
}

/// The harness sends a SYN+FIN while the last state checked (or, before
/// any check or call, the start) is CLOSED.
fn exercises_syn_fin_when_closed(t: &Trace) -> bool {
    let mut state = TcpState::Closed;
    t.steps.iter().any(|s| match s {
        Step::State(x) => {
            state = *x;
            false
        }
        Step::Send(seg) => seg.flags.syn && seg.flags.fin && state == TcpState::Closed,
        _ => false,
    })
}

fn check(how: Breakage, exercised: fn(&Trace) -> bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = load_corpus(&root.join("traces/tcp")).unwrap();
    let profile = Profile::load(&root.join("profiles/rfc9293.yaml")).unwrap();
    assert!(corpus.errors.is_empty(), "{:?}", corpus.errors);
    let mut failed = BTreeSet::new();
    let mut should = BTreeSet::new();
    for t in &corpus.traces {
        let r = replay(t, &mut Broken::new(how), &profile);
        match r.verdict {
            Verdict::Pass => {}
            Verdict::Fail { .. } => {
                failed.insert(t.id.clone());
            }
            other => panic!("{}: {other:?}", t.id),
        }
        if exercised(t) {
            should.insert(t.id.clone());
        }
        // The unbroken stack passes every trace.
        assert_eq!(
            replay(t, &mut BundledTarget::new(), &profile).verdict,
            Verdict::Pass
        );
    }
    println!(
        "{} of {} traces fail, exactly those that exercise the breakage",
        failed.len(),
        corpus.traces.len()
    );
    assert!(!should.is_empty(), "no trace exercises it");
    assert_eq!(
        failed, should,
        "failing traces differ from those that exercise the breakage"
    );
}

#[test]
fn an_endpoint_that_reuses_its_isn_fails_the_new_incarnation_traces() {
    check(Breakage::ReusesIsn, exercises_new_isn);
}

#[test]
fn an_endpoint_that_delivers_syn_data_at_once_fails_the_syn_data_traces() {
    check(Breakage::DeliversSynDataAtOnce, exercises_syn_data);
}

#[test]
fn an_endpoint_that_loses_received_data_fails_the_delivery_checks() {
    check(Breakage::LosesReceivedData, exercises_delivery);
}

#[test]
fn an_endpoint_whose_time_wait_lasts_one_msl_fails_the_time_wait_length_checks() {
    check(Breakage::ShortTimeWait, exercises_time_wait_length);
}

#[test]
fn an_endpoint_that_never_restarts_time_wait_fails_the_restart_traces() {
    check(Breakage::NeverRestartsTimeWait, exercises_time_wait_restart);
}

#[test]
fn an_endpoint_that_closes_its_window_fails_the_window_checks() {
    check(Breakage::ClosesWindow, exercises_window);
}

#[test]
fn an_endpoint_whose_window_is_one_too_wide_fails_the_rst_past_the_window_traces() {
    check(Breakage::WindowOneTooWide, exercises_rst_past_window);
}

#[test]
fn an_endpoint_that_ignores_close_before_synchronizing_fails_the_early_close_traces() {
    check(Breakage::IgnoresEarlyClose, exercises_early_close);
}

#[test]
fn an_endpoint_that_takes_an_open_on_a_held_pair_fails_the_refused_open_traces() {
    check(Breakage::TakesOpenOnHeldPair, exercises_refused_open);
}

#[test]
fn an_endpoint_that_drops_unread_data_silently_fails_the_close_unread_traces() {
    check(Breakage::DropsUnreadSilently, exercises_close_unread);
}

#[test]
fn an_endpoint_silent_to_syn_fin_when_closed_fails_the_closed_syn_fin_traces() {
    check(
        Breakage::SilentToSynFinWhenClosed,
        exercises_syn_fin_when_closed,
    );
}

#[test]
fn an_endpoint_that_skips_time_wait_fails_the_time_wait_traces() {
    check(Breakage::SkipsTimeWait, exercises_time_wait);
}

#[test]
fn an_endpoint_that_acknowledges_the_wrong_number_fails_the_fin_traces() {
    check(Breakage::AcksWrongNumber, exercises_fin_acknowledgement);
}

#[test]
fn an_endpoint_that_never_retransmits_its_fin_fails_the_fin_retransmission_traces() {
    check(Breakage::NeverRetransmitsFin, exercises_fin_retransmission);
}

/// What a reviewer sees when a stack breaks: the report of the endpoint that
/// skips TIME-WAIT, with each failing trace's first divergence as a ladder.
#[test]
fn report_of_an_endpoint_that_skips_time_wait() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = load_corpus(&root.join("traces/tcp")).unwrap();
    let profile = Profile::load(&root.join("profiles/rfc9293.yaml")).unwrap();
    let mut target = Broken::new(Breakage::SkipsTimeWait);
    let report = run_corpus(&corpus, &mut target, &profile, &mut |_, _| {});
    insta::with_settings!({snapshot_path => "../../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("tcp-broken-skips-time-wait", report.render());
    });
}
