//! The `bundled` target: tracewright's own TCP endpoint (`stack/`), driven
//! in-process on a virtual clock. A 2·MSL wait costs no wall time, and a
//! retransmission one millisecond early is caught. Listener traces
//! (`iut: listener`) drive the stack's `Listener` instead of one `Endpoint`.

use std::time::Duration;

use tracewright_stack as stack;

use crate::profile::Profile;
use crate::target::{Clock, Segment, Target, TargetError, HARNESS_PORT, IUT_PORT};
use crate::trace::{AppCall, Flags, Role, TcpState};

/// The IUT's ISN: close to 2³², so sequence numbers wrap during a trace
/// and the stack's modular arithmetic is exercised.
pub const BUNDLED_ISN: u32 = 4_294_967_000;

pub struct BundledTarget {
    endpoint: Option<stack::Endpoint>,
    /// The IUT of a listener trace.
    listener: Option<stack::Listener>,
    config: stack::Config,
    now: stack::Instant,
    /// Bytes the application has read on the current connection.
    delivered: u64,
    /// Fault injection for the runner's tests: the RFC name of a state in
    /// which a delivered segment makes this target panic
    /// (`TRACEWRIGHT_BUNDLED_PANIC_IN=TIME-WAIT`), read at `open`.
    panic_in: Option<String>,
}

impl Default for BundledTarget {
    fn default() -> Self {
        Self::new()
    }
}

impl BundledTarget {
    pub fn new() -> Self {
        BundledTarget {
            endpoint: None,
            listener: None,
            config: stack::Config::default(),
            now: stack::Instant::from_millis(0),
            delivered: 0,
            panic_in: None,
        }
    }

    /// Reads what the endpoint delivered into the count.
    fn read(&mut self) {
        if let Some(ep) = self.endpoint.as_mut() {
            self.delivered += ep.recv().len() as u64;
        }
    }

    /// The endpoint under test, for tests that build broken endpoints.
    pub fn endpoint_mut(&mut self) -> Option<&mut stack::Endpoint> {
        self.endpoint.as_mut()
    }

    /// Replaces the endpoint with a fresh CLOSED one (same port and ISN).
    pub fn reset_to_closed(&mut self) {
        self.endpoint = Some(stack::Endpoint::new(
            self.config.clone(),
            IUT_PORT,
            stack::SeqNumber(BUNDLED_ISN),
        ));
    }

    fn ep(&mut self) -> Result<&mut stack::Endpoint, TargetError> {
        self.endpoint
            .as_mut()
            .ok_or_else(|| TargetError::Broken("no endpoint: open() was not called".into()))
    }

    fn drain(&mut self) -> Result<Vec<Segment>, TargetError> {
        let mut out = Vec::new();
        if let Some(l) = self.listener.as_mut() {
            while let Some(s) = l.poll_transmit() {
                out.push(from_stack(&s));
            }
            return Ok(out);
        }
        let ep = self.ep()?;
        while let Some(s) = ep.poll_transmit() {
            out.push(from_stack(&s));
        }
        Ok(out)
    }

    fn next_deadline(&mut self) -> Result<Option<stack::Instant>, TargetError> {
        match self.listener.as_ref() {
            Some(l) => Ok(l.poll_timeout()),
            None => Ok(self.ep()?.poll_timeout()),
        }
    }

    fn fire(&mut self, t: stack::Instant) -> Result<(), TargetError> {
        match self.listener.as_mut() {
            Some(l) => l.handle_timeout(t),
            None => self.ep()?.handle_timeout(t),
        }
        Ok(())
    }

    /// The listener under test, for tests that build broken listeners.
    pub fn listener_mut(&mut self) -> Option<&mut stack::Listener> {
        self.listener.as_mut()
    }
}

fn to_flags(f: stack::Flags) -> Flags {
    Flags {
        syn: f.syn,
        fin: f.fin,
        rst: f.rst,
        psh: f.psh,
        ack: f.ack,
    }
}

fn from_stack(s: &stack::Segment) -> Segment {
    Segment {
        src_port: s.src_port,
        dst_port: s.dst_port,
        seq: s.seq.into(),
        ack: s.ack.into(),
        flags: to_flags(s.flags),
        window: s.window,
        payload: s.payload.clone(),
    }
}

pub fn state_of(s: stack::State) -> TcpState {
    use stack::State as S;
    match s {
        S::Closed => TcpState::Closed,
        S::Listen => TcpState::Listen,
        S::SynSent => TcpState::SynSent,
        S::SynReceived => TcpState::SynReceived,
        S::Established => TcpState::Established,
        S::FinWait1 => TcpState::FinWait1,
        S::FinWait2 => TcpState::FinWait2,
        S::CloseWait => TcpState::CloseWait,
        S::Closing => TcpState::Closing,
        S::LastAck => TcpState::LastAck,
        S::TimeWait => TcpState::TimeWait,
    }
}

/// The stack listener's parameters from a profile.
pub fn listener_config_of(p: &Profile) -> stack::ListenerConfig {
    stack::ListenerConfig {
        tcp: config_of(p),
        syn_backlog: p.syn_backlog as usize,
        accept_backlog: p.accept_backlog as usize,
        syn_cookies: p.syn_cookies,
        ..stack::ListenerConfig::default()
    }
}

/// The stack's parameters from a profile.
pub fn config_of(p: &Profile) -> stack::Config {
    stack::Config {
        initial_rto: Duration::from_millis(p.initial_rto_ms),
        syn_retries: p.syn_retries,
        synack_retries: p.synack_retries,
        retries: p.retries,
        msl: Duration::from_millis(p.msl_ms),
        recv_window: p.recv_window,
        challenge_ack: p.rfc5961,
        ignore_rst_in_time_wait: p.rfc1337,
        time_wait_reopen: p.time_wait_reopen,
        queue_syn_text: p.syn_data == crate::profile::SynData::Queue,
    }
}

impl Target for BundledTarget {
    fn name(&self) -> &str {
        "bundled"
    }

    fn clock(&self) -> Clock {
        Clock::Virtual
    }

    fn open(&mut self, role: Role, profile: &Profile) -> Result<(), TargetError> {
        self.config = config_of(profile);
        self.now = stack::Instant::from_millis(0);
        self.listener = None;
        self.delivered = 0;
        self.panic_in = std::env::var("TRACEWRIGHT_BUNDLED_PANIC_IN").ok();
        if role == Role::Listener {
            self.endpoint = None;
            self.listener = Some(stack::Listener::new(listener_config_of(profile), IUT_PORT));
            return Ok(());
        }
        self.reset_to_closed();
        Ok(())
    }

    fn app(&mut self, call: &AppCall) -> Result<(), TargetError> {
        let now = self.now;
        if let Some(l) = self.listener.as_mut() {
            match call {
                // As for the endpoint, a refused call is the IUT's answer.
                AppCall::Listen => {
                    let _ = l.listen();
                }
                AppCall::Accept => {
                    let _ = l.accept();
                }
                AppCall::Close => {
                    let _ = l.close(now);
                }
                other => {
                    return Err(TargetError::Unsupported(format!(
                        "`{other}` on a listener (its connections are not driven by traces)"
                    )))
                }
            }
            return Ok(());
        }
        if *call == AppCall::Accept {
            return Err(TargetError::Unsupported(
                "accept on a single endpoint (listener traces have iut: listener)".into(),
            ));
        }
        if matches!(call, AppCall::Listen | AppCall::Connect) {
            // A new connection: what the application reads starts afresh.
            self.read();
            self.delivered = 0;
        }
        let ep = self.ep()?;
        // A call the RFC refuses in this state ("connection does not
        // exist", …) is the IUT's answer, not a broken target: the trace
        // then sees what the IUT emits, or that it emits nothing.
        let _ = match call {
            AppCall::Listen => ep.listen(),
            AppCall::Connect => ep.connect(now, HARNESS_PORT),
            AppCall::Send(n) => {
                let data: Vec<u8> = (0..*n).map(|k| b'A' + (k % 26) as u8).collect();
                ep.send(now, &data).map(|_| ())
            }
            AppCall::Close => ep.close(now),
            AppCall::Abort => ep.abort(now),
            AppCall::CloseUnread => ep.close_and_stop_reading(now),
            AppCall::ShutdownRead => ep.shutdown_read(),
            AppCall::Accept => unreachable!("handled above"),
        };
        Ok(())
    }

    fn try_app(&mut self, call: &AppCall) -> Result<Option<String>, TargetError> {
        let now = self.now;
        if self.listener.is_some() || !matches!(call, AppCall::Listen | AppCall::Connect) {
            return self.app(call).map(|()| None);
        }
        // The endpoint answers an OPEN on a pair it holds with an error;
        // what it already received stays counted.
        let ep = self.ep()?;
        let answer = match call {
            AppCall::Listen => ep.listen(),
            _ => ep.connect(now, HARNESS_PORT),
        };
        Ok(answer.err().map(|e| e.to_string()))
    }

    fn deliver(&mut self, seg: Segment) -> Result<(), TargetError> {
        let now = self.now;
        let s = stack::Segment {
            src_port: seg.src_port,
            dst_port: seg.dst_port,
            seq: seg.seq.into(),
            ack: seg.ack.into(),
            flags: stack::Flags {
                syn: seg.flags.syn,
                ack: seg.flags.ack,
                fin: seg.flags.fin,
                rst: seg.flags.rst,
                psh: seg.flags.psh,
            },
            window: seg.window,
            payload: seg.payload,
        };
        if let Some(l) = self.listener.as_mut() {
            l.handle_segment(now, &s);
            return Ok(());
        }
        self.read();
        let ep = self.ep()?;
        let before = ep.state();
        if let Some(name) = &self.panic_in {
            if state_of(before).to_string() == *name {
                panic!("fault injected: a segment in {name} (TRACEWRIGHT_BUNDLED_PANIC_IN)");
            }
        }
        let ep = self.ep()?;
        ep.handle_segment(now, &s);
        if before == stack::State::TimeWait && ep.state() == stack::State::SynReceived {
            // A SYN reopened TIME-WAIT: a new connection.
            self.delivered = 0;
        }
        Ok(())
    }

    fn advance(&mut self, d: Duration) -> Result<Vec<(Duration, Segment)>, TargetError> {
        let start = self.now;
        let end = start + d;
        let mut out = Vec::new();
        // Jump from deadline to deadline; each costs no wall time. A timer
        // that fires without moving on would spin: that is a broken target.
        for _ in 0..100_000 {
            let next = self.next_deadline()?;
            match next {
                Some(t) if t <= end => {
                    let t = t.max(self.now);
                    self.now = t;
                    self.fire(t)?;
                    for s in self.drain()? {
                        out.push((t - start, s));
                    }
                }
                _ => break,
            }
        }
        if self.next_deadline()?.is_some_and(|t| t <= end) {
            return Err(TargetError::Broken(format!(
                "a timer keeps firing at {} ms without moving on",
                self.now.millis()
            )));
        }
        self.now = end;
        Ok(out)
    }

    fn poll(&mut self) -> Result<Vec<Segment>, TargetError> {
        self.drain()
    }

    fn state(&mut self) -> Option<TcpState> {
        if let Some(l) = self.listener.as_ref() {
            return Some(state_of(l.state()));
        }
        self.endpoint.as_ref().map(|e| state_of(e.state()))
    }

    fn delivered(&mut self) -> Result<Option<u64>, TargetError> {
        if self.listener.is_some() {
            return Ok(None);
        }
        self.read();
        Ok(Some(self.delivered))
    }

    fn close(&mut self) {
        self.endpoint = None;
        self.listener = None;
    }
}
