//! Teeth for the listener corpus: the bundled listener passes it, and
//! deliberately broken listeners fail exactly the traces that exercise
//! what they break. The predicates read the trace alone.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use tracewright_conformance::bundled::BundledTarget;
use tracewright_conformance::load::load_corpus;
use tracewright_conformance::profile::Profile;
use tracewright_conformance::replay::{replay, Verdict};
use tracewright_conformance::report::run_corpus;
use tracewright_conformance::target::{Clock, Segment, Target, TargetError};
use tracewright_conformance::trace::{AppCall, Role, Step, TcpState, Trace};
use tracewright_stack as stack;

#[derive(Clone, Copy, PartialEq)]
enum Breakage {
    /// Drops a SYN when the half-open queue is full, although the profile
    /// turns SYN cookies on.
    NoSynCookies,
    /// Retransmits a SYN-ACK once more than the profile's `synack_retries`
    /// before dropping the half-open connection.
    OneSynAckRetryTooMany,
    /// Never retransmits a SYN-ACK.
    NeverRetransmitsSynAck,
    /// Drops an ACK that returns no cookie of its own silently instead of
    /// answering it with a RST (RFC 9293 §3.10.7.2).
    SwallowsBadAck,
    /// A connection reset while it waited in the accept queue keeps its
    /// slot for good, also after accept() took it: a SYN that meets the
    /// queue full counting it is dropped.
    LeaksResetSlot,
    /// Closing the listener drops its queued connections silently instead
    /// of resetting them (RFC 9293 §3.10.5).
    ClosesQueueSilently,
    /// Answers with SYN cookies though the listener is configured without
    /// them.
    CookiesAlways,
}

struct Broken {
    inner: BundledTarget,
    how: Breakage,
    /// (peer port, seq) of the SYN-ACKs sent so far.
    synacks: Vec<(u16, u32)>,
    /// The application closed the listener.
    closed: bool,
    /// Connections reset in the accept queue (their slots, leaked).
    leaked: usize,
    accept_backlog: usize,
}

impl Broken {
    fn new(how: Breakage) -> Self {
        Broken {
            inner: BundledTarget::new(),
            how,
            synacks: Vec::new(),
            closed: false,
            leaked: 0,
            accept_backlog: 0,
        }
    }

    fn keep(&mut self, s: &Segment) -> bool {
        if self.how == Breakage::SwallowsBadAck && s.flags.rst && !self.closed {
            return false;
        }
        if self.how == Breakage::ClosesQueueSilently && s.flags.rst && self.closed {
            return false;
        }
        if self.how != Breakage::NeverRetransmitsSynAck || !(s.flags.syn && s.flags.ack) {
            return true;
        }
        let key = (s.dst_port, s.seq);
        if self.synacks.contains(&key) {
            return false;
        }
        self.synacks.push(key);
        true
    }
}

impl Target for Broken {
    fn name(&self) -> &str {
        "broken-listener"
    }
    fn clock(&self) -> Clock {
        Clock::Virtual
    }
    fn open(&mut self, role: Role, profile: &Profile) -> Result<(), TargetError> {
        self.synacks.clear();
        self.closed = false;
        self.leaked = 0;
        self.accept_backlog = profile.accept_backlog as usize;
        let mut p = profile.clone();
        match self.how {
            Breakage::NoSynCookies => p.syn_cookies = false,
            Breakage::OneSynAckRetryTooMany => p.synack_retries += 1,
            Breakage::CookiesAlways => p.syn_cookies = true,
            Breakage::NeverRetransmitsSynAck
            | Breakage::SwallowsBadAck
            | Breakage::LeaksResetSlot
            | Breakage::ClosesQueueSilently => {}
        }
        self.inner.open(role, &p)
    }
    fn app(&mut self, call: &AppCall) -> Result<(), TargetError> {
        if *call == AppCall::Close {
            self.closed = true;
        }
        self.inner.app(call)
    }
    fn deliver(&mut self, seg: Segment) -> Result<(), TargetError> {
        if self.how == Breakage::LeaksResetSlot {
            let l = self.inner.listener_mut().expect("a listener trace");
            let port = seg.src_port;
            let queued = l.connection_state(port) == Some(stack::State::Established);
            if seg.flags.rst && queued {
                self.leaked += 1;
            }
            let new = l.connection_state(port).is_none();
            if seg.flags.syn && new && l.accept_queue_len() + self.leaked >= self.accept_backlog {
                return Ok(());
            }
        }
        self.inner.deliver(seg)
    }
    fn advance(&mut self, d: Duration) -> Result<Vec<(Duration, Segment)>, TargetError> {
        let out = self.inner.advance(d)?;
        Ok(out.into_iter().filter(|(_, s)| self.keep(s)).collect())
    }
    fn poll(&mut self) -> Result<Vec<Segment>, TargetError> {
        let out = self.inner.poll()?;
        Ok(out.into_iter().filter(|s| self.keep(s)).collect())
    }
    fn state(&mut self) -> Option<TcpState> {
        self.inner.state()
    }
    fn close(&mut self) {
        self.inner.close()
    }
}

fn corpus() -> (Vec<Trace>, Profile) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = load_corpus(&root.join("traces/tcp-listener")).unwrap();
    assert!(corpus.errors.is_empty(), "{:?}", corpus.errors);
    let profile = Profile::load(&root.join("profiles/rfc9293.yaml")).unwrap();
    (corpus.traces, profile)
}

/// The trace covers a transition with this event and output.
fn covers(t: &Trace, event: &str, output: &str) -> bool {
    t.covers
        .iter()
        .any(|c| c.event.to_string() == event && c.output == output)
}

/// A SYN-ACK to the same peer is expected twice: a retransmission.
fn expects_a_synack_twice(t: &Trace) -> bool {
    let peers: Vec<u16> = t
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Expect(e) if e.any_of[0].flags.syn && e.any_of[0].flags.ack => {
                Some(e.any_of[0].peer)
            }
            _ => None,
        })
        .collect();
    peers
        .iter()
        .enumerate()
        .any(|(i, p)| peers[..i].contains(p))
}

fn check(how: Breakage, exercised: fn(&Trace) -> bool) {
    let (traces, profile) = corpus();
    let (mut failed, mut should) = (BTreeSet::new(), BTreeSet::new());
    for t in &traces {
        match replay(t, &mut Broken::new(how), &profile).verdict {
            Verdict::Pass => {}
            Verdict::Fail { .. } => {
                failed.insert(t.id.clone());
            }
            other => panic!("{}: {other:?}", t.id),
        }
        if exercised(t) {
            should.insert(t.id.clone());
        }
    }
    println!(
        "{} of {} listener traces fail, exactly those that exercise the breakage",
        failed.len(),
        traces.len()
    );
    assert!(!should.is_empty(), "no trace exercises it");
    assert_eq!(failed, should);
}

/// The bundled listener, configured from each profile, passes that
/// profile's listener corpus.
#[test]
fn the_bundled_listener_passes_every_listener_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (name, dir) in [
        ("rfc9293", "traces/tcp-listener"),
        ("bundled", "traces/tcp-listener-bundled"),
        ("linux", "traces/tcp-listener-linux"),
    ] {
        let corpus = load_corpus(&root.join(dir)).unwrap();
        assert!(corpus.errors.is_empty(), "{:?}", corpus.errors);
        let profile = Profile::load(&root.join(format!("profiles/{name}.yaml"))).unwrap();
        for t in &corpus.traces {
            assert_eq!(t.iut, Role::Listener);
            assert_eq!(t.profile, name);
            let r = replay(t, &mut BundledTarget::new(), &profile);
            assert_eq!(r.verdict, Verdict::Pass, "{name}: {}", t.id);
        }
    }
}

#[test]
fn a_listener_without_syn_cookies_fails_the_cookie_traces() {
    check(Breakage::NoSynCookies, |t| {
        covers(t, "recv S (half-open queue full)", "SA")
    });
}

#[test]
fn a_listener_with_one_synack_retry_too_many_fails_the_give_up_traces() {
    check(Breakage::OneSynAckRetryTooMany, |t| {
        covers(t, "rto (retries exhausted)", "-")
    });
}

#[test]
fn a_listener_that_never_retransmits_its_synack_fails_the_retransmission_traces() {
    check(Breakage::NeverRetransmitsSynAck, expects_a_synack_twice);
}

#[test]
fn a_listener_that_swallows_a_forged_cookie_fails_the_reset_traces() {
    check(Breakage::SwallowsBadAck, |t| covers(t, "recv A", "R"));
}

#[test]
fn a_listener_that_leaks_a_reset_connections_slot_fails_the_slot_trace() {
    check(Breakage::LeaksResetSlot, |t| {
        covers(t, "recv S (after a queued reset)", "SA")
    });
}

#[test]
fn a_listener_that_closes_without_resetting_its_queue_fails_the_close_traces() {
    check(Breakage::ClosesQueueSilently, |t| {
        t.steps.contains(&Step::App(AppCall::Close))
    });
}

#[test]
fn a_listener_with_cookies_it_should_not_have_fails_the_no_cookie_traces() {
    check(Breakage::CookiesAlways, |t| {
        t.variant.as_deref() == Some("no-syn-cookies")
    });
}

/// The bundled target's listener report, as an insta snapshot in reports/.
#[test]
fn tcp_listener_bundled_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = load_corpus(&root.join("traces/tcp-listener")).unwrap();
    let (_, profile) = self::corpus();
    let report = run_corpus(&corpus, &mut BundledTarget::new(), &profile, &mut |_, _| {});
    insta::with_settings!({snapshot_path => "../../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("tcp-listener-bundled", report.render());
    });
}

/// What a reviewer sees when a listener has no SYN cookies.
#[test]
fn report_of_a_listener_without_syn_cookies() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = load_corpus(&root.join("traces/tcp-listener")).unwrap();
    let (_, profile) = self::corpus();
    let mut target = Broken::new(Breakage::NoSynCookies);
    let report = run_corpus(&corpus, &mut target, &profile, &mut |_, _| {});
    insta::with_settings!({snapshot_path => "../../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("tcp-listener-broken-no-syn-cookies", report.render());
    });
}
