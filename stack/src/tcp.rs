// Heads up! Before working on this file you should read, at least,
// RFC 9293 (§3.3 sequence numbers and the state diagram, §3.8 timeouts,
// §3.10 the event processing) and RFC 6298 (the retransmission timer).
//
// One endpoint, one connection, sans-IO: time and segments go in, segments
// and the next deadline come out. Nothing here reads a clock or a socket.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use crate::seq::SeqNumber;

/// Virtual time: milliseconds since an arbitrary epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }
    pub fn millis(self) -> u64 {
        self.0
    }
}

impl std::ops::Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.as_millis() as u64))
    }
}

impl std::ops::Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, other: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(other.0))
    }
}

/// The control bits of RFC 9293 §3.1 that this endpoint uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Flags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

/// A TCP segment, without the IP header or options.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Segment {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: SeqNumber,
    /// Meaningful only with the ACK bit; 0 without it.
    pub ack: SeqNumber,
    pub flags: Flags,
    pub window: u16,
    pub payload: Vec<u8>,
}

impl Segment {
    /// SEG.LEN: octets of data plus one each for SYN and FIN (RFC 9293 §3.4).
    pub fn len(&self) -> usize {
        self.payload.len() + self.flags.syn as usize + self.flags.fin as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The connection states of RFC 9293 §3.3.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        })
    }
}

/// Parameters.
#[derive(Clone, Debug)]
pub struct Config {
    /// The initial retransmission timeout (RFC 6298 §2.1).
    pub initial_rto: Duration,
    /// Retransmissions of a SYN before giving up.
    pub syn_retries: u32,
    /// Retransmissions of a SYN-ACK before giving up.
    pub synack_retries: u32,
    /// Retransmissions of data or FIN before giving up (RFC 9293 §3.8.3, R2).
    pub retries: u32,
    /// Maximum segment lifetime; TIME-WAIT lasts 2·MSL.
    pub msl: Duration,
    /// The receive window advertised (no scaling).
    pub recv_window: u16,
    /// RFC 5961 §3.2: a RST whose sequence number is in the window but not
    /// exactly RCV.NXT gets a challenge ACK instead of resetting.
    pub challenge_ack: bool,
    /// RFC 1337: a RST in TIME-WAIT is ignored.
    pub ignore_rst_in_time_wait: bool,
    /// RFC 9293 §3.10.7.4 MAY-2 (RFC 6191): a SYN in TIME-WAIT whose
    /// sequence number is above RCV.NXT reopens the connection.
    pub time_wait_reopen: bool,
    /// Text on a SYN is queued until ESTABLISHED (RFC 9293 §3.10.7.2,
    /// "should be queued for processing later"); otherwise dropped, for
    /// the peer to send again.
    pub queue_syn_text: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            initial_rto: Duration::from_secs(1),
            syn_retries: 3,
            synack_retries: 3,
            retries: 3,
            msl: Duration::from_secs(60),
            recv_window: 65535,
            challenge_ack: false,
            ignore_rst_in_time_wait: false,
            time_wait_reopen: false,
            queue_syn_text: true,
        }
    }
}

/// The error responses of the user calls, RFC 9293 §3.10.1–§3.10.5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// "error: connection already exists"
    ConnectionExists,
    /// "error: connection does not exist"
    NotConnected,
    /// "error: connection closing"
    ConnectionClosing,
    /// "error: connection reset"
    ConnectionReset,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallError::ConnectionExists => "connection already exists",
            CallError::NotConnected => "connection does not exist",
            CallError::ConnectionClosing => "connection closing",
            CallError::ConnectionReset => "connection reset",
        })
    }
}

impl std::error::Error for CallError {}

/// What happened to the connection, for the application: the signals
/// RFC 9293 §3.10 sends "to the user", out of [`Endpoint::poll_event`].
///
/// A connection the application never saw (a passive OPEN's SYN-RECEIVED
/// that goes back to LISTEN) and the application's own CLOSE or ABORT
/// report nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// The handshake completed: ESTABLISHED.
    Established,
    /// The peer's FIN arrived, after all its data: nothing more will come
    /// ("connection closing", RFC 9293 §3.10.7.4, eighth).
    PeerClosed,
    /// The peer's RST answered our SYN: SYN-SENT, or SYN-RECEIVED after an
    /// active OPEN ("connection refused", RFC 9293 §3.10.7.4, second; in
    /// SYN-SENT §3.10.7.3 words it "connection reset", but what was reset
    /// is an attempt the peer refused). CLOSED.
    Refused,
    /// The peer's RST ended a synchronized connection before both ends
    /// closed ("connection reset", RFC 9293 §3.10.7.4, second). CLOSED.
    Reset,
    /// Retransmissions gave up (RFC 9293 §3.8.3, R2; "connection aborted
    /// due to user timeout", §3.10.8). CLOSED.
    TimedOut,
    /// The connection closed after both ends closed: our FIN acknowledged
    /// in LAST-ACK, TIME-WAIT over, or a RST in CLOSING, LAST-ACK or
    /// TIME-WAIT (RFC 9293 §3.10.7.4). CLOSED.
    Closed,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Event::Established => "connection established",
            Event::PeerClosed => "connection closing",
            Event::Refused => "connection refused",
            Event::Reset => "connection reset",
            Event::TimedOut => "connection aborted due to user timeout",
            Event::Closed => "connection closed",
        })
    }
}

/// A segment sent and not yet acknowledged, kept for retransmission.
#[derive(Clone, Debug)]
struct Sent {
    seq: SeqNumber,
    syn: bool,
    fin: bool,
    data: Vec<u8>,
}

impl Sent {
    fn end(&self) -> SeqNumber {
        self.seq + (self.data.len() + self.syn as usize + self.fin as usize)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timer {
    Idle,
    /// RFC 6298: retransmission of the earliest unacknowledged segment.
    Retransmit {
        at: Instant,
        rto: Duration,
        count: u32,
    },
    /// RFC 9293 §3.6.1: TIME-WAIT's 2·MSL.
    TimeWait {
        at: Instant,
    },
}

/// One TCP endpoint: one connection at a time, sans-IO.
///
/// Inputs are [`handle_segment`](Self::handle_segment) (a segment from the
/// peer), [`handle_timeout`](Self::handle_timeout) (the clock reached the
/// deadline) and the user calls of RFC 9293 §3.10 (`listen`, `connect`,
/// `send`, `close`, `abort`, `recv`). Every input that needs the time takes
/// it as `now`; nothing here reads a clock.
///
/// After each input, poll the outputs in this order:
/// 1. [`poll_transmit`](Self::poll_transmit) until `None`: the segments to
///    send, in order;
/// 2. [`poll_event`](Self::poll_event) until `None`: what the application
///    learns ([`Event`]), in the order it happened;
/// 3. [`poll_timeout`](Self::poll_timeout): when to call `handle_timeout`
///    next (it may have moved, or gone).
///
/// Data received is read with `recv` whenever the application likes.
pub struct Endpoint {
    config: Config,
    state: State,
    local_port: u16,
    remote_port: u16,
    /// The connection came from a passive OPEN (RFC 9293 §3.10.7.4: a RST
    /// in SYN-RECEIVED returns it to LISTEN).
    passive: bool,
    iss: SeqNumber,
    /// The ISN clock's value at time 0 (RFC 6528: ISN = M + F, M a timer).
    isn_base: SeqNumber,
    /// A connection has used sequence numbers: the next one on this
    /// address pair takes a new ISN above them.
    used: bool,
    /// A passive OPEN after an earlier connection: the SYN that arrives
    /// starts a new incarnation.
    new_incarnation: bool,
    snd_una: SeqNumber,
    snd_nxt: SeqNumber,
    snd_wnd: u32,
    irs: SeqNumber,
    rcv_nxt: SeqNumber,
    /// Segments in flight, oldest first.
    unacked: Vec<Sent>,
    /// The application called CLOSE.
    closed_by_app: bool,
    received: Vec<u8>,
    /// Text that came on the peer's SYN, held until the handshake
    /// completes (RFC 9293 §3.10.7.2, §3.10.7.3: "queued for processing
    /// later"). It starts at RCV.NXT.
    syn_text: Vec<u8>,
    outbox: VecDeque<Segment>,
    events: VecDeque<Event>,
    timer: Timer,
}

impl Endpoint {
    /// A CLOSED endpoint whose connection will start at `isn`.
    pub fn new(config: Config, local_port: u16, isn: SeqNumber) -> Self {
        Endpoint {
            config,
            state: State::Closed,
            local_port,
            remote_port: 0,
            passive: false,
            iss: isn,
            isn_base: isn,
            used: false,
            new_incarnation: false,
            snd_una: isn,
            snd_nxt: isn,
            snd_wnd: 0,
            irs: SeqNumber(0),
            rcv_nxt: SeqNumber(0),
            unacked: Vec::new(),
            closed_by_app: false,
            received: Vec::new(),
            syn_text: Vec::new(),
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            timer: Timer::Idle,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Changes a parameter mid-connection, for tests of the switches.
    #[cfg(test)]
    pub(crate) fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// A new incarnation's ISN (RFC 9293 §3.4.1, RFC 6528): the clock M,
    /// ticking every 4 µs from `isn_base` (F, a hash of the connection's
    /// identity, is constant for one address pair), and above every number
    /// the earlier incarnation used (RFC 9293 MAY-2).
    fn choose_iss(&mut self, now: Instant) {
        let clock = self.isn_base + now.millis().wrapping_mul(250) as u32 as usize;
        self.iss = if clock > self.snd_nxt {
            clock
        } else {
            self.snd_nxt + 1usize
        };
    }

    /// Forgets the last connection's variables, for a new incarnation.
    fn reset_connection(&mut self) {
        self.unacked.clear();
        self.timer = Timer::Idle;
        self.closed_by_app = false;
        self.snd_una = self.iss;
        self.snd_nxt = self.iss;
    }

    /// Every state change goes through here.
    fn set_state(&mut self, next: State) {
        if next == State::Closed || next == State::Listen {
            self.unacked.clear();
            self.timer = Timer::Idle;
            self.syn_text.clear();
        }
        self.state = next;
    }

    // --- Output --------------------------------------------------------------

    fn emit(&mut self, seq: SeqNumber, ack: Option<SeqNumber>, flags: Flags, payload: Vec<u8>) {
        self.outbox.push_back(Segment {
            src_port: self.local_port,
            dst_port: self.remote_port,
            seq,
            ack: ack.unwrap_or_default(),
            flags: Flags {
                ack: ack.is_some(),
                ..flags
            },
            window: self.config.recv_window,
            payload,
        });
    }

    /// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    fn send_ack(&mut self) {
        self.emit(
            self.snd_nxt,
            Some(self.rcv_nxt),
            Flags::default(),
            Vec::new(),
        );
    }

    /// A reset answering `seg`, RFC 9293 §3.10.7.1: if the ACK bit is set
    /// <SEQ=SEG.ACK><CTL=RST>, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    fn send_reset_for(&mut self, seg: &Segment) {
        let rst = Flags {
            rst: true,
            ..Flags::default()
        };
        let port = self.remote_port;
        self.remote_port = seg.src_port;
        if seg.flags.ack {
            self.emit(seg.ack, None, rst, Vec::new());
        } else {
            self.emit(SeqNumber(0), Some(seg.seq + seg.len()), rst, Vec::new());
        }
        self.remote_port = port;
    }

    /// Sends a new segment occupying sequence space and keeps it for
    /// retransmission; starts the timer if it is not running (RFC 6298 §5.1).
    fn send_new(&mut self, now: Instant, syn: bool, fin: bool, data: Vec<u8>) {
        let sent = Sent {
            seq: self.snd_nxt,
            syn,
            fin,
            data,
        };
        self.snd_nxt = sent.end();
        self.transmit(&sent);
        self.unacked.push(sent);
        if !matches!(self.timer, Timer::Retransmit { .. }) {
            self.timer = Timer::Retransmit {
                at: now + self.config.initial_rto,
                rto: self.config.initial_rto,
                count: 0,
            };
        }
    }

    fn transmit(&mut self, s: &Sent) {
        let flags = Flags {
            syn: s.syn,
            fin: s.fin,
            psh: !s.data.is_empty(),
            ..Flags::default()
        };
        // Everything but the first SYN carries an ACK (RFC 9293 §3.10.7.3).
        let ack = (self.state != State::SynSent).then_some(self.rcv_nxt);
        self.emit(s.seq, ack, flags, s.data.clone());
    }

    // --- User calls, RFC 9293 §3.10.1–§3.10.5 --------------------------------

    /// OPEN, passive.
    pub fn listen(&mut self) -> Result<(), CallError> {
        match self.state {
            State::Closed => {
                self.passive = true;
                self.new_incarnation = self.used;
                self.set_state(State::Listen);
                Ok(())
            }
            _ => Err(CallError::ConnectionExists),
        }
    }

    /// OPEN, active: <SEQ=ISS><CTL=SYN>, enter SYN-SENT.
    pub fn connect(&mut self, now: Instant, remote_port: u16) -> Result<(), CallError> {
        match self.state {
            State::Closed | State::Listen => {
                self.passive = false;
                self.remote_port = remote_port;
                if self.used {
                    self.choose_iss(now);
                    self.reset_connection();
                }
                self.used = true;
                self.snd_una = self.iss;
                self.snd_nxt = self.iss;
                self.set_state(State::SynSent);
                self.send_new(now, true, false, Vec::new());
                Ok(())
            }
            _ => Err(CallError::ConnectionExists),
        }
    }

    /// SEND: data goes out at once, in segments of at most 536 octets.
    pub fn send(&mut self, now: Instant, data: &[u8]) -> Result<usize, CallError> {
        match self.state {
            State::Established | State::CloseWait => {
                for chunk in data.chunks(536) {
                    self.send_new(now, false, false, chunk.to_vec());
                }
                Ok(data.len())
            }
            State::Closed | State::Listen => Err(CallError::NotConnected),
            // Sending before the handshake would need queueing: not offered.
            State::SynSent | State::SynReceived => Err(CallError::NotConnected),
            _ => Err(CallError::ConnectionClosing),
        }
    }

    /// CLOSE: no more data from us; a FIN follows what was sent.
    pub fn close(&mut self, now: Instant) -> Result<(), CallError> {
        match self.state {
            // LISTEN or SYN-SENT: delete the TCB.
            State::Listen | State::SynSent => {
                self.set_state(State::Closed);
                Ok(())
            }
            // SYN-RECEIVED with nothing to send: FIN, FIN-WAIT-1.
            State::SynReceived | State::Established => {
                self.closed_by_app = true;
                self.set_state(State::FinWait1);
                self.send_new(now, false, true, Vec::new());
                Ok(())
            }
            State::CloseWait => {
                self.closed_by_app = true;
                self.set_state(State::LastAck);
                self.send_new(now, false, true, Vec::new());
                Ok(())
            }
            State::Closed => Err(CallError::NotConnected),
            _ => Err(CallError::ConnectionClosing),
        }
    }

    /// ABORT: in a synchronized state send <SEQ=SND.NXT><CTL=RST>.
    pub fn abort(&mut self, _now: Instant) -> Result<(), CallError> {
        match self.state {
            State::Closed => Err(CallError::NotConnected),
            State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait => {
                let rst = Flags {
                    rst: true,
                    ..Flags::default()
                };
                self.emit(self.snd_nxt, None, rst, Vec::new());
                self.set_state(State::Closed);
                Ok(())
            }
            // LISTEN, SYN-SENT, CLOSING, LAST-ACK, TIME-WAIT: delete the TCB.
            _ => {
                self.set_state(State::Closed);
                Ok(())
            }
        }
    }

    /// CLOSE, half-duplex (RFC 9293 §3.6.1 MAY-1): the application reads
    /// no more. With received data still unread it is lost, which a RST
    /// shows the peer (SHLD-2; RFC 1122 §4.2.2.13): <SEQ=SND.NXT><CTL=RST>,
    /// and the connection is gone. Without, a CLOSE as any other.
    pub fn close_and_stop_reading(&mut self, now: Instant) -> Result<(), CallError> {
        let synchronized = !matches!(
            self.state,
            State::Closed | State::Listen | State::SynSent | State::TimeWait
        );
        if synchronized && !self.received.is_empty() {
            self.received.clear();
            let rst = Flags {
                rst: true,
                ..Flags::default()
            };
            self.emit(self.snd_nxt, None, rst, Vec::new());
            self.set_state(State::Closed);
            return Ok(());
        }
        self.close(now)
    }

    /// The application will read no more (the sockets API's
    /// `shutdown(SHUT_RD)`). RFC 9293 has no such call: nothing is sent,
    /// the state stays, and what arrives later is acknowledged and kept
    /// as before (the RFC leaves it open; SHLD-2 speaks of CLOSE only).
    pub fn shutdown_read(&mut self) -> Result<(), CallError> {
        match self.state {
            State::Closed | State::Listen => Err(CallError::NotConnected),
            _ => Ok(()),
        }
    }

    /// Data delivered to the application and not yet read.
    pub fn recv(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.received)
    }

    /// The next segment to send, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Segment> {
        self.outbox.pop_front()
    }

    /// The next thing the application learns, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When `handle_timeout` is due, if a timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.timer {
            Timer::Idle => None,
            Timer::Retransmit { at, .. } | Timer::TimeWait { at } => Some(at),
        }
    }

    // --- Timeouts, RFC 9293 §3.10.8 ------------------------------------------

    pub fn handle_timeout(&mut self, now: Instant) {
        match self.timer {
            Timer::Retransmit { at, rto, count } if at <= now => {
                let limit = match self.state {
                    State::SynSent => self.config.syn_retries,
                    State::SynReceived if self.unacked.first().is_some_and(|s| s.syn) => {
                        self.config.synack_retries
                    }
                    _ => self.config.retries,
                };
                if count >= limit {
                    // RFC 9293 §3.8.3: past R2 the connection is closed; a
                    // half-open connection of a listener goes back to LISTEN.
                    // Nothing is sent.
                    if self.state == State::SynReceived && self.passive {
                        self.set_state(State::Listen);
                    } else {
                        self.set_state(State::Closed);
                        self.events.push_back(Event::TimedOut);
                    }
                    return;
                }
                // RFC 6298 §5.4–5.6: retransmit the earliest unacknowledged
                // segment, back the timer off, restart it.
                if let Some(first) = self.unacked.first().cloned() {
                    self.transmit(&first);
                }
                let rto = rto * 2;
                self.timer = Timer::Retransmit {
                    at: now + rto,
                    rto,
                    count: count + 1,
                };
            }
            Timer::TimeWait { at } if at <= now => {
                // RFC 9293 §3.10.8: when the time-wait timeout expires,
                // delete the TCB, enter CLOSED.
                self.set_state(State::Closed);
                self.events.push_back(Event::Closed);
            }
            _ => {}
        }
    }

    fn start_time_wait(&mut self, now: Instant) {
        self.set_state(State::TimeWait);
        self.unacked.clear();
        self.timer = Timer::TimeWait {
            at: now + self.config.msl * 2,
        };
    }

    // --- SEGMENT ARRIVES, RFC 9293 §3.10.7 -----------------------------------

    pub fn handle_segment(&mut self, now: Instant, seg: &Segment) {
        if seg.dst_port != self.local_port {
            return;
        }
        if self.state != State::Closed
            && self.state != State::Listen
            && seg.src_port != self.remote_port
        {
            return;
        }
        match self.state {
            State::Closed => {
                // §3.10.7.1: all data discarded; a RST answers anything but a RST.
                if !seg.flags.rst {
                    self.send_reset_for(seg);
                }
            }
            State::Listen => self.listen_arrives(now, seg),
            State::SynSent => self.syn_sent_arrives(now, seg),
            _ => self.synchronized_arrives(now, seg),
        }
    }

    /// §3.10.7.2.
    fn listen_arrives(&mut self, now: Instant, seg: &Segment) {
        if seg.flags.rst {
            // An incoming RST is ignored.
            return;
        }
        if seg.flags.ack {
            // Any acknowledgement is bad: <SEQ=SEG.ACK><CTL=RST>.
            self.send_reset_for(seg);
            return;
        }
        if seg.flags.syn {
            // RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ; <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
            self.remote_port = seg.src_port;
            if self.new_incarnation {
                self.new_incarnation = false;
                self.choose_iss(now);
                self.reset_connection();
            }
            self.used = true;
            self.irs = seg.seq;
            self.rcv_nxt = seg.seq + 1usize;
            self.snd_wnd = seg.window as u32;
            self.snd_una = self.iss;
            self.snd_nxt = self.iss;
            self.set_state(State::SynReceived);
            // "Any other control or text should be queued for processing
            // later": the SYN-ACK acknowledges the SYN alone, and the text
            // reaches the application once the handshake completes.
            if self.config.queue_syn_text {
                self.syn_text = seg.payload.clone();
            }
            self.send_new(now, true, false, Vec::new());
        }
        // Anything else: drop.
    }

    /// §3.10.7.3.
    fn syn_sent_arrives(&mut self, now: Instant, seg: &Segment) {
        let f = seg.flags;
        // First, the ACK bit.
        let mut ack_ok = false;
        if f.ack {
            if seg.ack <= self.iss || seg.ack > self.snd_nxt {
                // <SEQ=SEG.ACK><CTL=RST>, unless the segment is a RST.
                if !f.rst {
                    self.send_reset_for(seg);
                }
                return;
            }
            ack_ok = self.snd_una <= seg.ack && seg.ack <= self.snd_nxt;
        }
        // Second, the RST bit.
        if f.rst {
            if ack_ok {
                // "error: connection reset"; enter CLOSED.
                self.set_state(State::Closed);
                self.events.push_back(Event::Refused);
            }
            return;
        }
        // Fourth, the SYN bit.
        if f.syn {
            self.irs = seg.seq;
            self.rcv_nxt = seg.seq + 1usize;
            self.snd_wnd = seg.window as u32;
            if ack_ok {
                self.snd_una = seg.ack;
                self.acknowledged(now);
            }
            if self.snd_una > self.iss {
                // Our SYN has been ACKed: ESTABLISHED, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>;
                // text on the SYN is processed as in the seventh step.
                self.set_state(State::Established);
                self.events.push_back(Event::Established);
                self.deliver_text(&seg.payload);
                self.send_ack();
            } else {
                // Simultaneous open: SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>;
                // text is queued until ESTABLISHED.
                self.set_state(State::SynReceived);
                self.unacked.clear();
                self.snd_nxt = self.iss;
                self.timer = Timer::Idle;
                if self.config.queue_syn_text {
                    self.syn_text = seg.payload.clone();
                }
                self.send_new(now, true, false, Vec::new());
            }
        }
        // Neither SYN nor RST: drop.
    }

    /// Drops acknowledged segments; restarts or stops the retransmission
    /// timer (RFC 6298 §5.2, §5.3). A new acknowledgement resets the backoff:
    /// the harness and the peer answer at once, so every RTT sample is
    /// below the 1 s floor of RFC 6298 §2.4 and the RTO is the initial one.
    fn acknowledged(&mut self, now: Instant) {
        let una = self.snd_una;
        let before = self.unacked.len();
        self.unacked.retain(|s| s.end() > una);
        if self.unacked.len() == before {
            return;
        }
        self.timer = if self.unacked.is_empty() {
            Timer::Idle
        } else {
            Timer::Retransmit {
                at: now + self.config.initial_rto,
                rto: self.config.initial_rto,
                count: 0,
            }
        };
    }

    fn fin_acked(&self) -> bool {
        self.closed_by_app && self.unacked.is_empty() && self.snd_una == self.snd_nxt
    }

    /// Hands in-order text to the application and advances RCV.NXT.
    fn deliver_text(&mut self, text: &[u8]) {
        self.received.extend_from_slice(text);
        self.rcv_nxt += text.len();
    }

    /// §3.10.7.4: SYN-RECEIVED and the synchronized states.
    fn synchronized_arrives(&mut self, now: Instant, seg: &Segment) {
        let f = seg.flags;
        // RFC 9293 §3.10.7.4 MAY-2, RFC 6191: in TIME-WAIT, a SYN above
        // RCV.NXT (so no old duplicate can pass for the new connection's)
        // reopens the connection, with an ISN above the old numbers.
        // Only a connection from a passive OPEN has a listener behind it to
        // take the new connection; an active opener answers with an ACK.
        if self.state == State::TimeWait
            && self.config.time_wait_reopen
            && self.passive
            && f.syn
            && !f.ack
            && !f.rst
            && seg.seq > self.rcv_nxt
        {
            self.choose_iss(now);
            self.reset_connection();
            // Taken by the listener again: a RST in SYN-RECEIVED returns
            // to LISTEN (RFC 9293 §3.10.7.4).
            self.passive = true;
            self.remote_port = seg.src_port;
            self.irs = seg.seq;
            self.rcv_nxt = seg.seq + 1usize;
            self.snd_wnd = seg.window as u32;
            self.snd_una = self.iss;
            self.snd_nxt = self.iss;
            self.set_state(State::SynReceived);
            self.send_new(now, true, false, Vec::new());
            return;
        }
        let wnd = self.config.recv_window as usize;
        let (rcv_nxt, rcv_end) = (self.rcv_nxt, self.rcv_nxt + wnd);
        // First, check the sequence number (the four cases).
        let seg_len = seg.len();
        let acceptable = match (seg_len, wnd) {
            (0, 0) => seg.seq == self.rcv_nxt,
            (0, _) => seg.seq.in_window(rcv_nxt, rcv_end),
            (_, 0) => false,
            (_, _) => {
                seg.seq.in_window(rcv_nxt, rcv_end)
                    || (seg.seq + (seg_len - 1)).in_window(rcv_nxt, rcv_end)
            }
        };
        if !acceptable {
            // Not acceptable: send an ACK unless the RST bit is set, drop.
            if !f.rst {
                self.send_ack();
            }
            if self.state == State::TimeWait && f.fin {
                // A retransmitted FIN: restart the 2·MSL timeout.
                self.timer = Timer::TimeWait {
                    at: now + self.config.msl * 2,
                };
            }
            return;
        }
        // Second, the RST bit.
        if f.rst {
            if self.state == State::TimeWait && self.config.ignore_rst_in_time_wait {
                // RFC 1337 §3 (TW1): ignore RST segments in TIME-WAIT.
                return;
            }
            if self.config.challenge_ack && seg.seq != self.rcv_nxt {
                // RFC 5961 §3.2: in the window but not exact, a challenge
                // ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
                self.send_ack();
                return;
            }
            let event = match self.state {
                // The application never saw this connection: back to LISTEN.
                State::SynReceived if self.passive => {
                    self.set_state(State::Listen);
                    self.remote_port = 0;
                    return;
                }
                // > If this connection was initiated with an active OPEN
                // > (i.e., came from SYN-SENT state), then the connection was
                // > refused; signal the user "connection refused".
                State::SynReceived => Event::Refused,
                // > Users should also receive an unsolicited general
                // > "connection reset" signal.
                State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
                    Event::Reset
                }
                // CLOSING, LAST-ACK, TIME-WAIT: both ends had closed.
                _ => Event::Closed,
            };
            self.set_state(State::Closed);
            self.events.push_back(event);
            return;
        }
        // Fourth, the SYN bit: in a synchronized state, answer with an ACK and
        // drop (RFC 9293 §3.10.7.4, the challenge ACK of RFC 5961 §4 that
        // RFC 9293 adopted for SYN). In SYN-RECEIVED from a passive OPEN only a SYN in the window counts:
        // the first check trims what lies outside it, SYN included, so a
        // duplicate of a SYN that carried text goes on as the text alone.
        // Elsewhere "irrespective of the sequence number".
        if f.syn {
            if self.state == State::SynReceived && self.passive {
                if seg.seq >= self.rcv_nxt {
                    self.set_state(State::Listen);
                    self.remote_port = 0;
                    return;
                }
            } else {
                self.send_ack();
                return;
            }
        }
        // Fifth, the ACK field.
        if !f.ack {
            return;
        }
        let mut syn_text_acked = false;
        match self.state {
            State::SynReceived => {
                // SND.UNA < SEG.ACK =< SND.NXT
                if seg
                    .ack
                    .in_window(self.snd_una + 1usize, self.snd_nxt + 1usize)
                {
                    self.snd_una = seg.ack;
                    self.snd_wnd = seg.window as u32;
                    self.acknowledged(now);
                    self.set_state(State::Established);
                    self.events.push_back(Event::Established);
                    // The text queued from the SYN is processed now; it
                    // precedes this segment's.
                    let text = std::mem::take(&mut self.syn_text);
                    if !text.is_empty() {
                        self.deliver_text(&text);
                        syn_text_acked = true;
                    }
                } else {
                    // <SEQ=SEG.ACK><CTL=RST>.
                    self.send_reset_for(seg);
                    return;
                }
            }
            State::TimeWait => {}
            _ => {
                if seg.ack > self.snd_nxt {
                    // Acknowledges something not yet sent: ACK, drop.
                    self.send_ack();
                    return;
                }
                if seg.ack > self.snd_una {
                    self.snd_una = seg.ack;
                    self.acknowledged(now);
                }
                self.snd_wnd = seg.window as u32;
            }
        }
        match self.state {
            State::FinWait1 if self.fin_acked() => self.set_state(State::FinWait2),
            State::Closing => {
                if self.fin_acked() {
                    self.start_time_wait(now);
                }
                return;
            }
            State::LastAck => {
                if self.fin_acked() {
                    self.set_state(State::Closed);
                    self.events.push_back(Event::Closed);
                }
                return;
            }
            _ => {}
        }
        // Seventh, the segment text.
        let mut ack_needed = syn_text_acked;
        let mut in_order = true;
        if !seg.payload.is_empty() {
            match self.state {
                State::Established | State::FinWait1 | State::FinWait2 => {
                    if seg.seq == self.rcv_nxt {
                        self.deliver_text(&seg.payload);
                    } else if seg.seq < self.rcv_nxt && seg.seq + seg.payload.len() > self.rcv_nxt {
                        // It straddles RCV.NXT: only the new part is
                        // processed (§3.10.7.4, first check).
                        let skip = (self.rcv_nxt - seg.seq) as usize;
                        self.deliver_text(&seg.payload[skip..]);
                    } else {
                        // In the window but not next: not queued here.
                        in_order = false;
                    }
                    ack_needed = true;
                }
                // After a FIN from the peer: ignore the segment text.
                _ => in_order = false,
            }
        }
        // Eighth, the FIN bit.
        if f.fin {
            let fin_seq = seg.seq + seg.payload.len();
            if in_order && fin_seq == self.rcv_nxt {
                self.rcv_nxt += 1;
                if matches!(
                    self.state,
                    State::SynReceived | State::Established | State::FinWait1 | State::FinWait2
                ) {
                    // The first FIN: > signal the user "connection closing"
                    self.events.push_back(Event::PeerClosed);
                }
                match self.state {
                    State::SynReceived | State::Established => self.set_state(State::CloseWait),
                    State::FinWait1 => {
                        if self.fin_acked() {
                            self.start_time_wait(now);
                        } else {
                            self.set_state(State::Closing);
                        }
                    }
                    State::FinWait2 => self.start_time_wait(now),
                    State::TimeWait => {
                        self.timer = Timer::TimeWait {
                            at: now + self.config.msl * 2,
                        }
                    }
                    // CLOSE-WAIT, CLOSING, LAST-ACK: remain.
                    _ => {}
                }
            }
            ack_needed = true;
        }
        if ack_needed {
            self.send_ack();
        }
    }
}
