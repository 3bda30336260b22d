// Heads up! Before working on this file you should read, at least,
// RFC 9293 §3.10.7.2 (a segment arriving in LISTEN), §3.8.3 (giving up on a
// SYN-ACK), RFC 4987 (SYN flooding: §2 the attack, §3.1 the backlog, §3.6 SYN
// cookies) and RFC 6528 (choosing ISNs).
//
// A listening endpoint with two queues, sans-IO like `Endpoint`:
//
// - the half-open (SYN) queue: connections in SYN-RECEIVED, at most
//   `syn_backlog`. Each is an `Endpoint` of its own (RFC 9293 §3.10.7.2
//   "a new connection … is started"), so it retransmits its SYN-ACK with
//   exponential backoff (RFC 6298 §5.5) and, past `synack_retries`, gives up
//   and goes back to LISTEN (RFC 9293 §3.8.3), which here drops the entry.
// - the accept queue: ESTABLISHED connections the application has not
//   taken yet, at most `accept_backlog`.
//
// When the half-open queue is full, a SYN is dropped, or, with SYN cookies
// on, answered with a SYN-ACK whose ISN encodes the connection (RFC 4987
// §3.6) and no state is kept; the ACK that returns the cookie (SEG.ACK - 1)
// rebuilds the connection. When the accept queue is full, a SYN is dropped
// and so is the ACK that would complete a half-open connection: the entry
// stays and retransmits its SYN-ACK (RFC 9293 says nothing; this is what
// Linux does with tcp_abort_on_overflow = 0, and it lets the peer's next ACK
// succeed once the application accepts).
//
// A queued connection its peer resets (RFC 9293 §3.10.7.4: CLOSED, the TCB
// deleted) leaves the accept queue at once: the application never sees it
// and its slot is free for the next SYN. Closing the listener (RFC 9293
// §3.10.4) aborts every connection the application has not accepted
// (§3.10.5: <SEQ=SND.NXT><CTL=RST> to each queued one; a half-open one is
// dropped silently, as a given-up one is) and leaves accepted ones alone.

use std::collections::VecDeque;

use crate::seq::SeqNumber;
use crate::tcp::{CallError, Config, Endpoint, Event, Flags, Instant, Segment, State};

/// Parameters of a listener.
#[derive(Clone, Debug)]
pub struct ListenerConfig {
    /// Each connection's parameters (RTO, `synack_retries`, …).
    pub tcp: Config,
    /// Connections in SYN-RECEIVED kept at once (RFC 4987 §3.1).
    pub syn_backlog: usize,
    /// ESTABLISHED connections waiting for `accept()`.
    pub accept_backlog: usize,
    /// RFC 4987 §3.6: answer a SYN with a cookie when the half-open queue
    /// is full.
    pub syn_cookies: bool,
    /// The secret of the ISN function (RFC 6528 §3) and of the cookies.
    pub secret: u64,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            tcp: Config::default(),
            syn_backlog: 2,
            accept_backlog: 1,
            syn_cookies: true,
            secret: 0x7472_6163_6577_7269,
        }
    }
}

/// RFC 4987 §3.6: the cookie's time counter advances every 64 seconds; a
/// cookie is valid for the current and the previous counter.
const COOKIE_PERIOD_MS: u64 = 64_000;

/// A keyed mix of 64-bit words (SplitMix64 rounds). RFC 6528 §3 asks for a
/// cryptographic hash so that ISNs cannot be guessed off-path; what the
/// conformance suite checks does not depend on that, so a mix will do.
fn keyed_hash(secret: u64, words: &[u64]) -> u64 {
    let mut h = secret;
    for w in words {
        h ^= *w;
        h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h = z ^ (z >> 31);
    }
    h
}

/// What happened to one of the listener's connections: the
/// [`Event`] of its endpoint, with the peer's port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenerEvent {
    pub remote_port: u16,
    pub event: Event,
}

/// One connection the listener holds, by the peer's port.
struct Conn {
    remote_port: u16,
    ep: Endpoint,
}

/// A listening endpoint with a half-open queue and an accept queue,
/// sans-IO like [`Endpoint`].
///
/// Inputs are [`handle_segment`](Self::handle_segment),
/// [`handle_timeout`](Self::handle_timeout) and the user calls `listen` and
/// `accept`. After each input, poll the outputs in this order:
/// 1. [`poll_transmit`](Self::poll_transmit) until `None`: the segments of
///    every connection, in the order they were sent;
/// 2. [`poll_event`](Self::poll_event) until `None`: what happened to the
///    connections ([`ListenerEvent`]), in order; a connection reports
///    `Established` when it joins the accept queue;
/// 3. [`poll_timeout`](Self::poll_timeout): the earliest deadline of any
///    connection.
///
/// A half-open connection that is dropped (reset back to LISTEN, or its
/// SYN-ACK given up on) reports nothing: the application never saw it.
pub struct Listener {
    config: ListenerConfig,
    local_port: u16,
    state: State,
    /// SYN-RECEIVED connections, oldest first.
    half_open: Vec<Conn>,
    /// ESTABLISHED connections not yet accepted, oldest first.
    accept_queue: VecDeque<Conn>,
    /// Connections the application accepted.
    accepted: Vec<Conn>,
    outbox: VecDeque<Segment>,
    events: VecDeque<ListenerEvent>,
}

impl Listener {
    /// A CLOSED listener on `local_port`.
    pub fn new(config: ListenerConfig, local_port: u16) -> Self {
        Listener {
            config,
            local_port,
            state: State::Closed,
            half_open: Vec::new(),
            accept_queue: VecDeque::new(),
            accepted: Vec::new(),
            outbox: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// LISTEN or CLOSED: the listening socket's own state.
    pub fn state(&self) -> State {
        self.state
    }

    pub fn half_open_len(&self) -> usize {
        self.half_open.len()
    }

    pub fn accept_queue_len(&self) -> usize {
        self.accept_queue.len()
    }

    /// The state of the connection with the peer on `remote_port`, if the
    /// listener holds one.
    pub fn connection_state(&self, remote_port: u16) -> Option<State> {
        self.conns()
            .find(|c| c.remote_port == remote_port)
            .map(|c| c.ep.state())
    }

    fn conns(&self) -> impl Iterator<Item = &Conn> {
        self.half_open
            .iter()
            .chain(self.accept_queue.iter())
            .chain(self.accepted.iter())
    }

    /// OPEN, passive (RFC 9293 §3.10.1).
    pub fn listen(&mut self) -> Result<(), CallError> {
        match self.state {
            State::Closed => {
                self.state = State::Listen;
                Ok(())
            }
            _ => Err(CallError::ConnectionExists),
        }
    }

    /// Takes the oldest ESTABLISHED connection off the accept queue; its
    /// peer's port, or `None` when the queue is empty.
    pub fn accept(&mut self) -> Option<u16> {
        let c = self.accept_queue.pop_front()?;
        let port = c.remote_port;
        self.accepted.push(c);
        Some(port)
    }

    /// CLOSE of the listening socket (RFC 9293 §3.10.4, LISTEN: delete the
    /// TCB). What waits in the accept queue is aborted (RFC 9293 §3.10.5),
    /// half-open connections are dropped; accepted ones stay.
    pub fn close(&mut self, now: Instant) -> Result<(), CallError> {
        if self.state != State::Listen {
            return Err(CallError::NotConnected);
        }
        self.state = State::Closed;
        self.half_open.clear();
        let (outbox, events) = (&mut self.outbox, &mut self.events);
        for mut c in std::mem::take(&mut self.accept_queue) {
            // A connection already CLOSED has nothing to abort.
            let _ = c.ep.abort(now);
            Self::drain(outbox, events, c.remote_port, &mut c.ep);
        }
        Ok(())
    }

    /// The next segment to send, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Segment> {
        self.outbox.pop_front()
    }

    /// The next thing that happened to a connection, oldest first.
    pub fn poll_event(&mut self) -> Option<ListenerEvent> {
        self.events.pop_front()
    }

    /// The earliest deadline of any connection.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conns().filter_map(|c| c.ep.poll_timeout()).min()
    }

    /// Moves a connection's segments and events to the listener's queues.
    fn drain(
        outbox: &mut VecDeque<Segment>,
        events: &mut VecDeque<ListenerEvent>,
        remote_port: u16,
        ep: &mut Endpoint,
    ) {
        while let Some(s) = ep.poll_transmit() {
            outbox.push_back(s);
        }
        while let Some(event) = ep.poll_event() {
            events.push_back(ListenerEvent { remote_port, event });
        }
    }

    /// Fires every connection's due timer. A half-open connection that gave
    /// up (RFC 9293 §3.8.3: back to LISTEN) leaves the queue.
    pub fn handle_timeout(&mut self, now: Instant) {
        let (outbox, events) = (&mut self.outbox, &mut self.events);
        for c in self
            .half_open
            .iter_mut()
            .chain(self.accept_queue.iter_mut())
            .chain(self.accepted.iter_mut())
        {
            if c.ep.poll_timeout().is_some_and(|t| t <= now) {
                c.ep.handle_timeout(now);
                Self::drain(outbox, events, c.remote_port, &mut c.ep);
            }
        }
        self.half_open
            .retain(|c| c.ep.state() == State::SynReceived);
    }

    /// The ISN of a connection the listener keeps state for, RFC 6528 §3:
    /// ISN = M + F(localport, remoteport, secret), M a 4 µs clock.
    fn isn(&self, now: Instant, remote_port: u16) -> SeqNumber {
        let m = now.millis().wrapping_mul(250) as u32;
        let f = keyed_hash(
            self.config.secret,
            &[self.local_port as u64, remote_port as u64],
        ) as u32;
        SeqNumber(f) + m as usize
    }

    /// RFC 4987 §3.6: the top 5 bits are the time counter t mod 32, the
    /// next 3 the MSS index (always 0: no options here), the low 24 bits a
    /// keyed hash of the ports, the peer's ISN and t.
    fn cookie(&self, t: u64, remote_port: u16, peer_isn: SeqNumber) -> SeqNumber {
        let h = keyed_hash(
            self.config.secret ^ 0x0c00_c1e5,
            &[
                self.local_port as u64,
                remote_port as u64,
                peer_isn.0 as u64,
                t,
            ],
        ) as u32;
        SeqNumber((((t % 32) as u32) << 27) | (h & 0x00ff_ffff))
    }

    /// Whether `seg` (an ACK, no SYN) returns a cookie of ours issued in
    /// the current or the previous period.
    fn cookie_valid(&self, now: Instant, seg: &Segment) -> bool {
        let c = seg.ack - 1usize;
        let peer_isn = seg.seq - 1usize;
        let t_now = now.millis() / COOKIE_PERIOD_MS;
        (t_now.saturating_sub(1)..=t_now).any(|t| self.cookie(t, seg.src_port, peer_isn) == c)
    }

    fn send_reset_for(&mut self, seg: &Segment) {
        // RFC 9293 §3.10.7.2: an ACK in LISTEN gets <SEQ=SEG.ACK><CTL=RST>.
        self.outbox.push_back(Segment {
            src_port: self.local_port,
            dst_port: seg.src_port,
            seq: seg.ack,
            ack: SeqNumber(0),
            flags: Flags {
                rst: true,
                ..Flags::default()
            },
            window: self.config.tcp.recv_window,
            payload: Vec::new(),
        });
    }

    /// A fresh endpoint that takes `syn` in LISTEN: SYN-RECEIVED, its
    /// SYN-ACK in its outbox.
    fn start(&self, now: Instant, isn: SeqNumber, syn: &Segment) -> Endpoint {
        let mut ep = Endpoint::new(self.config.tcp.clone(), self.local_port, isn);
        ep.listen().expect("a new endpoint is CLOSED");
        ep.handle_segment(now, syn);
        ep
    }

    // --- SEGMENT ARRIVES ------------------------------------------------------

    pub fn handle_segment(&mut self, now: Instant, seg: &Segment) {
        if seg.dst_port != self.local_port || self.state != State::Listen {
            // A closed listener: every connection is gone; the RFC 9293
            // §3.10.7.1 reset is the single endpoint's business.
            return;
        }
        let port = seg.src_port;
        // A connection already accepted or queued takes its segments.
        let (outbox, events) = (&mut self.outbox, &mut self.events);
        if let Some(c) = self
            .accept_queue
            .iter_mut()
            .chain(self.accepted.iter_mut())
            .find(|c| c.remote_port == port)
        {
            c.ep.handle_segment(now, seg);
            Self::drain(outbox, events, port, &mut c.ep);
            // Reset while queued (RFC 9293 §3.10.7.4): the TCB is deleted,
            // the slot frees.
            self.accept_queue
                .retain(|c| c.remote_port != port || c.ep.state() != State::Closed);
            return;
        }
        let accept_full = self.accept_queue.len() >= self.config.accept_backlog;
        if let Some(i) = self.half_open.iter().position(|c| c.remote_port == port) {
            let f = seg.flags;
            if f.ack && !f.syn && !f.rst && accept_full {
                // The handshake would complete into a full accept queue:
                // ignore the ACK; the SYN-ACK will be retransmitted.
                return;
            }
            let c = &mut self.half_open[i];
            c.ep.handle_segment(now, seg);
            Self::drain(outbox, events, port, &mut c.ep);
            match c.ep.state() {
                State::SynReceived => {}
                State::Established | State::CloseWait => {
                    let c = self.half_open.remove(i);
                    self.accept_queue.push_back(c);
                }
                // Reset back to LISTEN (or closed): the entry goes.
                _ => {
                    self.half_open.remove(i);
                }
            }
            return;
        }
        // RFC 9293 §3.10.7.2, in LISTEN.
        let f = seg.flags;
        if f.rst {
            // An incoming RST is ignored.
            return;
        }
        if f.ack {
            if f.syn || !self.config.syn_cookies || !self.cookie_valid(now, seg) {
                // Any acknowledgement is bad: <SEQ=SEG.ACK><CTL=RST>.
                self.send_reset_for(seg);
                return;
            }
            // RFC 4987 §3.6: the ACK returns our cookie; rebuild the
            // connection (the peer's SYN was SEG.SEQ - 1) and complete it.
            if accept_full {
                return;
            }
            let syn = Segment {
                seq: seg.seq - 1usize,
                ack: SeqNumber(0),
                flags: Flags {
                    syn: true,
                    ..Flags::default()
                },
                payload: Vec::new(),
                ..seg.clone()
            };
            let mut ep = self.start(now, seg.ack - 1usize, &syn);
            while ep.poll_transmit().is_some() {} // its SYN-ACK went out before
            ep.handle_segment(now, seg);
            Self::drain(&mut self.outbox, &mut self.events, port, &mut ep);
            self.accept_queue.push_back(Conn {
                remote_port: port,
                ep,
            });
            return;
        }
        if !f.syn {
            // Neither RST, ACK nor SYN: drop.
            return;
        }
        if accept_full {
            // No room for the connection once established: drop the SYN.
            return;
        }
        if self.half_open.len() >= self.config.syn_backlog {
            if self.config.syn_cookies {
                // <SEQ=cookie><ACK=SEG.SEQ+1><CTL=SYN,ACK>, no state kept.
                let t = now.millis() / COOKIE_PERIOD_MS;
                let isn = self.cookie(t, port, seg.seq);
                let mut ep = self.start(now, isn, seg);
                if let Some(sa) = ep.poll_transmit() {
                    self.outbox.push_back(sa);
                }
            }
            // Without cookies the SYN is dropped (RFC 4987 §2).
            return;
        }
        let mut ep = self.start(now, self.isn(now, port), seg);
        Self::drain(&mut self.outbox, &mut self.events, port, &mut ep);
        self.half_open.push(Conn {
            remote_port: port,
            ep,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: u16 = 80;

    fn seg(
        from: u16,
        flags: &str,
        seq: impl Into<SeqNumber>,
        ack: impl Into<SeqNumber>,
    ) -> Segment {
        Segment {
            src_port: from,
            dst_port: LOCAL,
            seq: seq.into(),
            ack: ack.into(),
            flags: Flags {
                syn: flags.contains('S'),
                ack: flags.contains('A'),
                fin: flags.contains('F'),
                rst: flags.contains('R'),
                psh: false,
            },
            window: 65535,
            payload: Vec::new(),
        }
    }

    fn out(l: &mut Listener) -> Vec<Segment> {
        std::iter::from_fn(|| l.poll_transmit()).collect()
    }

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    /// A listener in LISTEN.
    fn listener(cookies: bool) -> Listener {
        let mut l = Listener::new(
            ListenerConfig {
                syn_cookies: cookies,
                ..ListenerConfig::default()
            },
            LOCAL,
        );
        l.listen().unwrap();
        l
    }

    /// A listener whose half-open queue two spoofed SYNs filled.
    fn flooded(cookies: bool) -> Listener {
        let mut l = listener(cookies);
        l.handle_segment(at(0), &seg(1001, "S", 100, 0));
        l.handle_segment(at(0), &seg(1002, "S", 200, 0));
        assert_eq!(out(&mut l).len(), 2);
        assert_eq!(l.half_open_len(), 2);
        l
    }

    // Tests for the half-open queue.

    #[test]
    fn test_listen_syn_starts_a_half_open_connection_with_its_own_isn() {
        let mut l = listener(true);
        l.handle_segment(at(0), &seg(1001, "S", 100, 0));
        l.handle_segment(at(0), &seg(1002, "S", 200, 0));
        let o = out(&mut l);
        assert_eq!(o.len(), 2);
        assert!(o.iter().all(|s| s.flags.syn && s.flags.ack));
        assert_eq!((o[0].dst_port, o[0].ack), (1001, SeqNumber(101)));
        assert_ne!(o[0].seq, o[1].seq, "one ISN per connection");
        assert_eq!(l.connection_state(1001), Some(State::SynReceived));
    }

    #[test]
    fn test_listen_synack_retransmits_with_backoff_then_gives_up() {
        let mut l = flooded(true);
        let retries = Config::default().synack_retries as u64;
        let mut t = 0;
        for n in 0..retries {
            t += 1000 << n;
            assert_eq!(l.poll_timeout(), Some(at(t)));
            l.handle_timeout(at(t));
            assert_eq!(out(&mut l).len(), 2, "retransmission {n}");
        }
        t += 1000 << retries;
        assert_eq!(l.poll_timeout(), Some(at(t)));
        l.handle_timeout(at(t));
        assert!(out(&mut l).is_empty());
        assert_eq!(l.half_open_len(), 0, "dropped past the retry limit");
        assert_eq!(l.poll_timeout(), None);
    }

    #[test]
    fn test_listen_full_queue_drops_a_syn_without_cookies() {
        let mut l = flooded(false);
        l.handle_segment(at(10), &seg(40000, "S", 7, 0));
        assert!(out(&mut l).is_empty());
        assert_eq!(l.half_open_len(), 2);
    }

    // Tests for SYN cookies.

    #[test]
    fn test_listen_full_queue_answers_with_a_cookie_and_keeps_no_state() {
        let mut l = flooded(true);
        l.handle_segment(at(10), &seg(40000, "S", 7, 0));
        let o = out(&mut l);
        assert_eq!(o.len(), 1);
        assert!(o[0].flags.syn && o[0].flags.ack && o[0].ack == SeqNumber(8));
        assert_eq!(l.half_open_len(), 2);
        assert_eq!(l.connection_state(40000), None);
        // The cookie's ACK rebuilds the connection into the accept queue.
        let cookie = o[0].seq;
        l.handle_segment(at(20), &seg(40000, "A", 8, cookie + 1usize));
        assert!(out(&mut l).is_empty());
        assert_eq!(l.connection_state(40000), Some(State::Established));
        assert_eq!(l.accept(), Some(40000));
        assert_eq!(l.accept(), None);
    }

    #[test]
    fn test_listen_forged_cookie_gets_a_reset() {
        let mut l = flooded(true);
        l.handle_segment(at(10), &seg(40000, "A", 8, 12345));
        let o = out(&mut l);
        assert_eq!(o.len(), 1);
        assert!(o[0].flags.rst && o[0].seq == SeqNumber(12345));
        assert_eq!(l.accept_queue_len(), 0);
    }

    #[test]
    fn test_listen_cookie_expires_after_two_periods() {
        let mut l = flooded(true);
        l.handle_segment(at(10), &seg(40000, "S", 7, 0));
        let cookie = out(&mut l)[0].seq;
        let late = 10 + 2 * COOKIE_PERIOD_MS;
        l.handle_segment(at(late), &seg(40000, "A", 8, cookie + 1usize));
        assert!(out(&mut l)[0].flags.rst);
    }

    // Tests for the accept queue.

    #[test]
    fn test_listen_full_accept_queue_drops_syn_and_final_ack() {
        let mut l = listener(true);
        l.handle_segment(at(0), &seg(40000, "S", 7, 0));
        let sa = out(&mut l)[0].seq;
        l.handle_segment(at(1), &seg(40000, "A", 8, sa + 1usize));
        assert_eq!(l.accept_queue_len(), 1);
        // Full: a SYN is dropped, cookies or not.
        l.handle_segment(at(2), &seg(40001, "S", 9, 0));
        assert!(out(&mut l).is_empty());
        assert_eq!(l.half_open_len(), 0);
        // Room again after accept().
        assert_eq!(l.accept(), Some(40000));
        l.handle_segment(at(3), &seg(40001, "S", 9, 0));
        assert_eq!(out(&mut l).len(), 1);
    }

    #[test]
    fn test_syn_received_ack_into_full_accept_queue_is_ignored_then_retried() {
        let mut l = listener(true);
        l.handle_segment(at(0), &seg(40000, "S", 7, 0));
        l.handle_segment(at(0), &seg(40001, "S", 9, 0));
        let o = out(&mut l);
        let (sa0, sa1) = (o[0].seq, o[1].seq);
        l.handle_segment(at(1), &seg(40000, "A", 8, sa0 + 1usize));
        l.handle_segment(at(1), &seg(40001, "A", 10, sa1 + 1usize));
        assert_eq!(l.accept_queue_len(), 1);
        assert_eq!(l.connection_state(40001), Some(State::SynReceived));
        // Its SYN-ACK comes again; once accepted, the next ACK completes it.
        l.handle_timeout(at(1000));
        assert_eq!(out(&mut l).len(), 1);
        l.accept();
        l.handle_segment(at(1001), &seg(40001, "A", 10, sa1 + 1usize));
        assert_eq!(l.connection_state(40001), Some(State::Established));
    }

    // Tests for the events.

    fn events(l: &mut Listener) -> Vec<(u16, Event)> {
        std::iter::from_fn(|| l.poll_event())
            .map(|e| (e.remote_port, e.event))
            .collect()
    }

    #[test]
    fn test_listen_events_of_a_connection_by_its_port() {
        let mut l = listener(true);
        l.handle_segment(at(0), &seg(40000, "S", 7, 0));
        let sa = out(&mut l)[0].seq;
        assert_eq!(events(&mut l), [], "a half-open connection reports nothing");
        l.handle_segment(at(1), &seg(40000, "A", 8, sa + 1usize));
        assert_eq!(events(&mut l), [(40000, Event::Established)]);
        assert_eq!(l.accept(), Some(40000));
        l.handle_segment(at(2), &seg(40000, "R", 8, 0));
        assert_eq!(events(&mut l), [(40000, Event::Reset)]);
        assert_eq!(l.connection_state(40000), Some(State::Closed));
    }

    #[test]
    fn test_listen_cookie_connection_reports_established() {
        let mut l = flooded(true);
        l.handle_segment(at(10), &seg(40000, "S", 7, 0));
        let cookie = out(&mut l)[0].seq;
        l.handle_segment(at(20), &seg(40000, "A", 8, cookie + 1usize));
        assert_eq!(events(&mut l), [(40000, Event::Established)]);
    }

    #[test]
    fn test_listen_half_open_reset_or_given_up_reports_nothing() {
        let mut l = flooded(true);
        l.handle_segment(at(1), &seg(1001, "R", 101, 0));
        assert_eq!(l.half_open_len(), 1);
        for n in 0..=Config::default().synack_retries {
            l.handle_timeout(at(1000 << (n + 1)));
        }
        assert_eq!(l.half_open_len(), 0);
        assert_eq!(events(&mut l), []);
    }
}
