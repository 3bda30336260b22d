//! A model of one listening endpoint under a SYN flood: its half-open (SYN)
//! queue, its accept queue, SYN-ACK retransmission, and SYN cookies.
//!
//! Required reading: RFC 9293 §3.10.7.2 (a segment arriving in LISTEN),
//! §3.8.3 (giving up on a SYN-ACK), RFC 6298 §5.5 (backoff), and RFC 4987
//! (SYN flooding): §2 the attack, §3.1 the backlog, §3.6 SYN cookies.
//!
//! ## What is modelled
//!
//! One implementation under test (IUT) listens. The harness plays several
//! peers, each a source port (trace `peer: N`):
//! - `accept_backlog + 1` *clients* (peers `0..`), legitimate: each sends a
//!   SYN, answers every SYN-ACK with an ACK, and may send its SYN once more
//!   when the first got no answer (it was lost or dropped). One more client
//!   than the accept queue holds, so that the accept queue can fill;
//! - `syn_backlog` *flooders*, spoofed: each sends one SYN and never
//!   answers; the SYN-ACKs the IUT sends them go nowhere (RFC 4987 §2).
//!   Exactly as many as the half-open queue holds, so the flood fills it.
//!   A flooder may instead send one ACK that guesses a cookie (it cannot
//!   know one): the IUT must answer it as any ACK in LISTEN, with a RST
//!   (RFC 9293 §3.10.7.2), and not create a connection.
//!
//! The IUT keeps, for each peer, no connection, a half-open one
//! (SYN-RECEIVED, in the half-open queue), a queued one (ESTABLISHED, in the
//! accept queue) or an accepted one. A SYN starts a half-open connection and
//! is answered with a SYN-ACK, unless:
//! - the accept queue is full: the SYN is dropped (there would be no room
//!   for the connection; Linux does the same);
//! - the half-open queue is full: with SYN cookies (RFC 4987 §3.6) the SYN
//!   is answered with a SYN-ACK whose ISN is a cookie and no state is kept;
//!   the ACK returning the cookie creates the connection. Without cookies
//!   the SYN is dropped: a flood locks legitimate clients out.
//!
//! An ACK completing a half-open connection into a full accept queue is
//! ignored; the SYN-ACK is retransmitted later. A half-open connection
//! retransmits its SYN-ACK with backoff up to `synack_retries` times, then
//! is dropped (RFC 9293 §3.8.3: back to LISTEN). The application's accept()
//! takes the oldest queued connection. What an accepted connection does
//! next is the single-connection model's business ([`crate::tcp`]).
//!
//! Two things may happen to a queued connection before accept():
//! - its client resets it (RFC 9293 §3.10.7.4, ESTABLISHED: a RST at
//!   RCV.NXT closes the connection and deletes the TCB). The RFC has no
//!   accept queue, so it leaves open when the reset connection's slot
//!   frees: at once (the bundled stack), or when accept() takes the dead
//!   connection and reports the reset (Linux: `tcp_reset` closes the child
//!   in place, accept() returns it, its first read fails with ECONNRESET).
//!   The model keeps it queued, CLOSED, until accept() takes it, and does
//!   not explore a SYN or an ACK that meets a queue full only because of
//!   it. The SYN that takes its slot after accept() is the check;
//! - the application closes the listener. RFC 9293 §3.10.4 deletes a
//!   LISTEN TCB; connections the application never accepted are its own,
//!   so each is aborted (RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST>; BSD and
//!   Linux, `inet_csk_listen_stop`, do the same and set ACK on the RST,
//!   which the peer judges by its sequence number alone, §3.10.7.4, so the
//!   trace takes either). The listener closes only when no connection is
//!   half-open (what becomes of those the RFC does not say: Linux drops
//!   them silently, `reqsk_timer_handler`).
//!
//! ## Abstractions
//!
//! - Numbers are relative to each connection's ISNs: a SYN is seq 0, a
//!   SYN-ACK seq 0 ack 1, the ACK seq 1 ack 1. A cookie is an ISN like any
//!   other; whether an ACK returns a valid cookie is a bit the segment
//!   carries (its acknowledgement number, abstracted).
//! - Time: the half-open connections' timers run in lockstep. A new
//!   half-open connection may join others only at the instant they were
//!   created (before any timer fired); later SYNs meet a full queue or an
//!   empty one. So one `TimerSynAck` step fires every half-open
//!   connection's timer at once, and its trace step is one `wait: rto(n)`
//!   that holds for all of them. A timer fires only when nothing is in
//!   flight (the RTO outlasts a round trip, RFC 6298 §2).
//! - The network may lose a client's segment (a budget); it does not
//!   duplicate or reorder beyond the multiset of segments in flight.
//!
//! The properties are named after the rule they check; [`property_rfc`]
//! gives the RFC section of each.

use std::fmt;

use stateright::{Model, Property};
use tracewright_vocab::trace::{Call, Event, Flags, Qualifier, TcpState, Timer};

use crate::tcp::flags;

/// Parameters of one exploration, from a profile.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListenerConfig {
    pub profile: String,
    /// Half-open connections kept at once (RFC 4987 §3.1).
    pub syn_backlog: u8,
    /// ESTABLISHED connections waiting for accept().
    pub accept_backlog: u8,
    /// RFC 4987 §3.6.
    pub syn_cookies: bool,
    /// SYN-ACK retransmissions before a half-open connection is dropped.
    pub synack_retries: u8,
    /// Client segments the network may lose.
    pub loss_budget: u8,
    pub variant: Option<ListenerVariant>,
}

/// The listener model with one mechanism removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListenerVariant {
    /// SYN cookies off whatever the profile says: a full half-open queue
    /// drops every SYN.
    NoSynCookies,
}

impl ListenerVariant {
    pub const ALL: [ListenerVariant; 1] = [ListenerVariant::NoSynCookies];

    pub fn name(self) -> &'static str {
        match self {
            ListenerVariant::NoSynCookies => "no-syn-cookies",
        }
    }

    /// The property the variant is expected to break.
    pub fn breaks(self) -> &'static str {
        match self {
            ListenerVariant::NoSynCookies => "legitimate_client_can_connect",
        }
    }

    pub fn parse(s: &str) -> Option<ListenerVariant> {
        ListenerVariant::ALL.into_iter().find(|v| v.name() == s)
    }
}

impl ListenerConfig {
    /// The profile's queues, cookies and SYN-ACK retries, one loss. The
    /// model explores exhaustively: queues of at most 2, at most 8 retries.
    pub fn from_profile(p: &tracewright_vocab::profile::Profile) -> Result<Self, String> {
        let narrow = |field: &str, v: u32, max: u8| {
            u8::try_from(v).ok().filter(|v| *v <= max).ok_or_else(|| {
                format!(
                    "profile {}: {field} = {v}: the listener model explores at most {max}",
                    p.name
                )
            })
        };
        Ok(ListenerConfig {
            profile: p.name.clone(),
            syn_backlog: narrow("syn_backlog", p.syn_backlog, 2)?,
            accept_backlog: narrow("accept_backlog", p.accept_backlog, 2)?,
            syn_cookies: p.syn_cookies,
            synack_retries: narrow("synack_retries", p.synack_retries, 8)?,
            loss_budget: 1,
            variant: None,
        })
    }

    /// Cookies as the IUT uses them: the profile's, unless the variant
    /// removes them.
    pub fn cookies(&self) -> bool {
        self.syn_cookies && self.variant != Some(ListenerVariant::NoSynCookies)
    }

    pub fn clients(&self) -> u8 {
        self.accept_backlog + 1
    }

    pub fn peers(&self) -> u8 {
        self.clients() + self.syn_backlog
    }
}

/// What the IUT holds for one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Conn {
    None,
    /// SYN-RECEIVED, in the half-open queue.
    HalfOpen,
    /// ESTABLISHED, in the accept queue.
    Queued,
    /// ESTABLISHED, taken by accept().
    Accepted,
    /// Reset by its client while in the accept queue: CLOSED, and still
    /// queued until accept() takes it (see the module doc).
    Reset,
}

impl Conn {
    /// The RFC state of the peer's connection at the IUT (LISTEN: none).
    pub fn state(self) -> TcpState {
        match self {
            Conn::None => TcpState::Listen,
            Conn::HalfOpen => TcpState::SynReceived,
            Conn::Queued | Conn::Accepted => TcpState::Established,
            Conn::Reset => TcpState::Closed,
        }
    }
}

/// What a harness peer has done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    Idle,
    /// A client that sent its SYN `syns` times.
    SynSent {
        syns: u8,
    },
    /// A client that got a SYN-ACK (a cookie or not) and acknowledged it.
    Established {
        cookie: bool,
    },
    /// A flooder that sent its SYN.
    Flooded,
    /// A client that reset its queued connection; it does nothing more.
    Reset,
}

/// A segment in flight between a peer and the IUT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LSeg {
    pub peer: u8,
    pub to_iut: bool,
    pub flags: Flags,
    pub seq: u8,
    pub ack: u8,
    /// A SYN-ACK carrying a cookie, or the ACK returning one.
    pub cookie: bool,
}

impl fmt::Display for LSeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} seq={}", self.flags, self.seq)?;
        if self.flags.ack {
            write!(f, " ack={}", self.ack)?;
        }
        if self.cookie {
            f.write_str(" (cookie)")?;
        }
        Ok(())
    }
}

/// The IUT, the peers and the network.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LWorld {
    /// The application called listen().
    pub listening: bool,
    /// Per peer.
    pub conns: Vec<Conn>,
    pub peers: Vec<Peer>,
    /// Queued connections, oldest first.
    pub accept_queue: Vec<u8>,
    /// SYN-ACK retransmissions the half-open connections made so far (they
    /// run in lockstep).
    pub phase: u8,
    /// No timer fired since the half-open connections were created.
    pub fresh: bool,
    /// Segments in flight, sorted.
    pub net: Vec<LSeg>,
    pub lost: u8,
    /// History: a client's SYN was dropped because the half-open queue was full.
    pub locked_out: bool,
    /// History: a client connected through a cookie.
    pub cookie_connected: bool,
    /// History: a half-open connection was dropped past the retry limit.
    pub expired: bool,
    /// History: a SYN was dropped because the accept queue was full.
    pub accept_overflow: bool,
    /// The application closed the listener: nothing happens any more.
    pub closed: bool,
    /// accept() took a reset connection off a full accept queue; the next
    /// SYN that gets its slot says so.
    pub reset_freed: bool,
    /// History: a SYN took the slot of a reset connection.
    pub reset_slot_reused: bool,
}

impl LWorld {
    pub fn half_open(&self) -> usize {
        self.conns.iter().filter(|c| **c == Conn::HalfOpen).count()
    }

    /// Queued connections not reset.
    pub fn live_queued(&self) -> usize {
        self.accept_queue
            .iter()
            .filter(|p| self.conns[**p as usize] == Conn::Queued)
            .count()
    }
}

/// What can happen next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LAction {
    /// The IUT's application calls listen() / accept().
    AppListen,
    AppAccept,
    /// Peer `.0` sends a SYN (a client connecting or trying again, a
    /// flooder flooding).
    PeerSendsSyn(u8),
    /// Flooder `.0` sends an ACK with a guessed (wrong) cookie.
    PeerForgesAck(u8),
    NetDeliver(LSeg),
    NetLose(LSeg),
    /// The half-open connections' SYN-ACK timers expire.
    TimerSynAck,
    /// Client `.0` resets its connection waiting in the accept queue.
    PeerSendsRst(u8),
    /// The application closes the listener while connections wait in its
    /// accept queue.
    AppClose,
}

/// One thing the IUT did for one peer: the coverage label's parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LStep {
    /// `None` for the listener itself (listen()).
    pub peer: Option<u8>,
    pub before: TcpState,
    pub event: Event,
    pub after: TcpState,
    pub output: Option<LSeg>,
}

#[derive(Clone, Debug)]
pub struct ListenerModel {
    pub cfg: ListenerConfig,
}

pub fn is_client(cfg: &ListenerConfig, p: u8) -> bool {
    p < cfg.clients()
}

/// `C0`, `C1` for clients, `F2`, `F3` for flooders: the letter says which,
/// the number is the trace's `peer`.
pub fn peer_name(cfg: &ListenerConfig, p: u8) -> String {
    format!("{}{p}", if is_client(cfg, p) { 'C' } else { 'F' })
}

impl fmt::Display for LAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LAction::AppListen => f.write_str("app listen"),
            LAction::AppAccept => f.write_str("app accept"),
            LAction::PeerSendsSyn(p) => write!(f, "peer {p} sends S"),
            LAction::PeerForgesAck(p) => write!(f, "peer {p} sends A (forged cookie)"),
            LAction::NetDeliver(s) => write!(f, "net delivers {s}"),
            LAction::NetLose(s) => write!(f, "net loses {s}"),
            LAction::TimerSynAck => f.write_str("syn-ack timers expire"),
            LAction::PeerSendsRst(p) => write!(f, "peer {p} sends R"),
            LAction::AppClose => f.write_str("app close"),
        }
    }
}

fn seg(peer: u8, to_iut: bool, f: &str, seq: u8, ack: u8, cookie: bool) -> LSeg {
    LSeg {
        peer,
        to_iut,
        flags: flags_of(f),
        seq,
        ack,
        cookie,
    }
}

fn flags_of(f: &str) -> Flags {
    match f {
        "S" => flags("S"),
        "SA" => flags("SA"),
        "A" => flags("A"),
        "R" => flags("R"),
        _ => unreachable!("{f}"),
    }
}

fn push(net: &mut Vec<LSeg>, s: LSeg) {
    let i = net.binary_search(&s).unwrap_or_else(|i| i);
    net.insert(i, s);
}

impl ListenerModel {
    pub fn new(cfg: ListenerConfig) -> Self {
        ListenerModel { cfg }
    }

    /// Whether anything to or from peer `p` is in flight.
    fn in_flight(w: &LWorld, p: u8) -> bool {
        w.net.iter().any(|s| s.peer == p)
    }

    /// The IUT sends `s`: to a client it travels, to a flooder it is gone.
    fn emit(&self, w: &mut LWorld, s: LSeg) {
        if is_client(&self.cfg, s.peer) {
            push(&mut w.net, s);
        }
    }

    pub fn enabled(&self, w: &LWorld, out: &mut Vec<LAction>) {
        if w.closed {
            return;
        }
        if !w.listening {
            out.push(LAction::AppListen);
            return;
        }
        if !w.accept_queue.is_empty() {
            out.push(LAction::AppAccept);
        }
        if w.half_open() == 0 && w.live_queued() > 0 {
            out.push(LAction::AppClose);
        }
        for p in 0..self.cfg.clients() {
            if w.conns[p as usize] == Conn::Queued
                && matches!(w.peers[p as usize], Peer::Established { .. })
                && !Self::in_flight(w, p)
            {
                out.push(LAction::PeerSendsRst(p));
            }
        }
        // Flooders first: the shortest counterexample shows a flood.
        for p in (0..self.cfg.peers()).rev() {
            let may = match w.peers[p as usize] {
                Peer::Idle => true,
                // Once more, when the first SYN got nowhere.
                Peer::SynSent { syns } => {
                    syns < 2 && w.conns[p as usize] == Conn::None && !Self::in_flight(w, p)
                }
                _ => false,
            };
            if may {
                out.push(LAction::PeerSendsSyn(p));
                if !is_client(&self.cfg, p) {
                    out.push(LAction::PeerForgesAck(p));
                }
            }
        }
        for s in &w.net {
            out.push(LAction::NetDeliver(*s));
            if w.lost < self.cfg.loss_budget && is_client(&self.cfg, s.peer) && !s.flags.rst {
                out.push(LAction::NetLose(*s));
            }
        }
        if w.net.is_empty() && w.half_open() > 0 {
            out.push(LAction::TimerSynAck);
        }
        out.dedup();
    }

    /// Takes one action; also returns what the IUT did, per peer. `None`
    /// when the action is not enabled.
    pub fn step(&self, w: &LWorld, a: LAction) -> Option<(LWorld, Vec<LStep>)> {
        let mut w = w.clone();
        let mut steps = Vec::new();
        match a {
            LAction::AppListen => {
                if w.listening {
                    return None;
                }
                w.listening = true;
                steps.push(LStep {
                    peer: None,
                    before: TcpState::Closed,
                    event: Event::app(Call::Listen),
                    after: TcpState::Listen,
                    output: None,
                });
            }
            LAction::AppAccept => {
                if w.accept_queue.is_empty() {
                    return None;
                }
                let full = w.accept_queue.len() >= self.cfg.accept_backlog as usize;
                let p = w.accept_queue.remove(0);
                let before = w.conns[p as usize];
                if before == Conn::Reset {
                    // The application learns of the reset (or finds the
                    // queue without it); either way the slot is free now.
                    w.conns[p as usize] = Conn::None;
                    w.reset_freed |= full;
                } else {
                    w.conns[p as usize] = Conn::Accepted;
                }
                steps.push(LStep {
                    peer: Some(p),
                    before: before.state(),
                    event: Event::app(Call::Accept),
                    after: before.state(),
                    output: None,
                });
            }
            LAction::AppClose => {
                if !w.listening || w.half_open() > 0 || w.live_queued() == 0 {
                    return None;
                }
                w.closed = true;
                steps.push(LStep {
                    peer: None,
                    before: TcpState::Listen,
                    event: Event::app(Call::Close),
                    after: TcpState::Closed,
                    output: None,
                });
                for p in std::mem::take(&mut w.accept_queue) {
                    let before = w.conns[p as usize];
                    w.conns[p as usize] = Conn::None;
                    if before != Conn::Queued {
                        // Reset already: nothing left to abort.
                        continue;
                    }
                    // RFC 9293 §3.10.5, ABORT in ESTABLISHED.
                    let r = seg(p, false, "R", 1, 0, false);
                    self.emit(&mut w, r);
                    steps.push(LStep {
                        peer: Some(p),
                        before: TcpState::Established,
                        event: Event::app(Call::Close),
                        after: TcpState::Closed,
                        output: Some(r),
                    });
                }
            }
            LAction::PeerSendsRst(p) => {
                if !is_client(&self.cfg, p)
                    || w.conns[p as usize] != Conn::Queued
                    || Self::in_flight(&w, p)
                {
                    return None;
                }
                w.peers[p as usize] = Peer::Reset;
                // At RCV.NXT: the IUT's receive sequence after the SYN.
                push(&mut w.net, seg(p, true, "R", 1, 0, false));
            }
            LAction::PeerSendsSyn(p) => {
                let client = is_client(&self.cfg, p);
                w.peers[p as usize] = match w.peers[p as usize] {
                    Peer::Idle if client => Peer::SynSent { syns: 1 },
                    Peer::Idle => Peer::Flooded,
                    Peer::SynSent { syns } => Peer::SynSent { syns: syns + 1 },
                    _ => return None,
                };
                push(&mut w.net, seg(p, true, "S", 0, 0, false));
            }
            LAction::PeerForgesAck(p) => {
                if is_client(&self.cfg, p) || w.peers[p as usize] != Peer::Idle {
                    return None;
                }
                w.peers[p as usize] = Peer::Flooded;
                push(&mut w.net, seg(p, true, "A", 1, 1, false));
            }
            LAction::NetLose(s) => {
                let i = w.net.binary_search(&s).ok()?;
                w.net.remove(i);
                w.lost += 1;
            }
            LAction::NetDeliver(s) => {
                let i = w.net.binary_search(&s).ok()?;
                w.net.remove(i);
                if s.to_iut {
                    steps.push(self.iut_receives(&mut w, s)?);
                } else {
                    // A client answers every SYN-ACK with an ACK.
                    let p = s.peer as usize;
                    let cookie = match w.peers[p] {
                        Peer::SynSent { .. } => s.cookie,
                        Peer::Established { cookie } => cookie,
                        _ => return None,
                    };
                    w.peers[p] = Peer::Established { cookie };
                    push(&mut w.net, seg(s.peer, true, "A", 1, 1, cookie));
                }
            }
            LAction::TimerSynAck => {
                if !w.net.is_empty() || w.half_open() == 0 {
                    return None;
                }
                let give_up = w.phase >= self.cfg.synack_retries;
                for p in 0..self.cfg.peers() {
                    if w.conns[p as usize] != Conn::HalfOpen {
                        continue;
                    }
                    if give_up {
                        // RFC 9293 §3.8.3: past the limit, the half-open
                        // connection is dropped; nothing is sent.
                        w.conns[p as usize] = Conn::None;
                        w.expired = true;
                        steps.push(LStep {
                            peer: Some(p),
                            before: TcpState::SynReceived,
                            event: Event::timer(Timer::Rto).with(Qualifier::RetriesExhausted),
                            after: TcpState::Listen,
                            output: None,
                        });
                    } else {
                        // RFC 6298 §5.4: retransmit the SYN-ACK.
                        let sa = seg(p, false, "SA", 0, 1, false);
                        self.emit(&mut w, sa);
                        steps.push(LStep {
                            peer: Some(p),
                            before: TcpState::SynReceived,
                            event: Event::timer(Timer::Rto),
                            after: TcpState::SynReceived,
                            output: Some(sa),
                        });
                    }
                }
                w.phase += 1;
                w.fresh = false;
            }
        }
        Some((w, steps))
    }

    /// SEGMENT ARRIVES at the listener (RFC 9293 §3.10.7.2 and the queues).
    fn iut_receives(&self, w: &mut LWorld, s: LSeg) -> Option<LStep> {
        let p = s.peer;
        let before = w.conns[p as usize];
        let accept_full = w.accept_queue.len() >= self.cfg.accept_backlog as usize;
        // Full only because of a reset connection: when its slot frees is
        // left open (module doc), so what comes now is not explored.
        let undecided = accept_full && w.live_queued() < self.cfg.accept_backlog as usize;
        let half_open = w.half_open();
        let mut output = None;
        let event: Event;
        if s.flags.rst {
            if before != Conn::Queued {
                return None;
            }
            // RFC 9293 §3.10.7.4, ESTABLISHED: a RST at RCV.NXT; CLOSED.
            w.conns[p as usize] = Conn::Reset;
            return Some(LStep {
                peer: Some(p),
                before: before.state(),
                event: Event::recv("R"),
                after: TcpState::Closed,
                output: None,
            });
        }
        if undecided
            && (s.flags.syn || before == Conn::HalfOpen || (self.cfg.cookies() && s.cookie))
        {
            return None;
        }
        if s.flags.syn {
            if before != Conn::None {
                // Peers never send a SYN to a connection the IUT holds.
                return None;
            }
            if accept_full {
                event = Event::recv("S").with(Qualifier::AcceptQueueFull);
                w.accept_overflow = true;
            } else if half_open >= self.cfg.syn_backlog as usize {
                event = Event::recv("S").with(Qualifier::HalfOpenQueueFull);
                if self.cfg.cookies() {
                    // RFC 4987 §3.6: a SYN-ACK whose ISN is a cookie; no state.
                    output = Some(seg(p, false, "SA", 0, 1, true));
                } else if is_client(&self.cfg, p) {
                    w.locked_out = true;
                }
            } else {
                // The lockstep of the timers: join only fresh ones.
                if half_open > 0 && !(w.phase == 0 && w.fresh) {
                    return None;
                }
                if half_open == 0 {
                    w.phase = 0;
                    w.fresh = true;
                }
                event = if std::mem::take(&mut w.reset_freed) {
                    w.reset_slot_reused = true;
                    Event::recv("S").with(Qualifier::AfterQueuedReset)
                } else {
                    Event::recv("S")
                };
                w.conns[p as usize] = Conn::HalfOpen;
                output = Some(seg(p, false, "SA", 0, 1, false));
            }
        } else {
            // A client's ACK or a forged one (no RST is ever sent by the peers).
            match before {
                Conn::HalfOpen if accept_full => {
                    // Ignored: the SYN-ACK will come again.
                    event = Event::recv("A").with(Qualifier::AcceptQueueFull);
                }
                Conn::HalfOpen => {
                    event = Event::recv("A");
                    w.conns[p as usize] = Conn::Queued;
                    w.accept_queue.push(p);
                }
                Conn::None if self.cfg.cookies() && s.cookie => {
                    if accept_full {
                        event = Event::recv("A").with(Qualifier::CookieAcceptQueueFull);
                    } else {
                        // RFC 4987 §3.6: the cookie rebuilds the connection.
                        event = Event::recv("A").with(Qualifier::Cookie);
                        w.conns[p as usize] = Conn::Queued;
                        w.accept_queue.push(p);
                        w.cookie_connected = true;
                    }
                }
                Conn::None => {
                    // RFC 9293 §3.10.7.2: an ACK in LISTEN gets <SEQ=SEG.ACK><CTL=RST>.
                    event = Event::recv("A");
                    output = Some(seg(p, false, "R", s.ack, 0, false));
                }
                Conn::Queued | Conn::Accepted => {
                    // A duplicate ACK of an ESTABLISHED connection.
                    event = Event::recv("A");
                }
                // Its client sends nothing after its RST.
                Conn::Reset => return None,
            }
        }
        if let Some(o) = output {
            self.emit(w, o);
        }
        Some(LStep {
            peer: Some(p),
            before: before.state(),
            event,
            after: w.conns[p as usize].state(),
            output,
        })
    }

    pub fn is_terminal(&self, w: &LWorld) -> bool {
        let mut v = Vec::new();
        self.enabled(w, &mut v);
        v.is_empty()
    }
}

impl Model for ListenerModel {
    type State = LWorld;
    type Action = LAction;

    fn init_states(&self) -> Vec<LWorld> {
        let n = self.cfg.peers() as usize;
        vec![LWorld {
            listening: false,
            conns: vec![Conn::None; n],
            peers: vec![Peer::Idle; n],
            accept_queue: Vec::new(),
            phase: 0,
            fresh: false,
            net: Vec::new(),
            lost: 0,
            locked_out: false,
            cookie_connected: false,
            expired: false,
            accept_overflow: false,
            closed: false,
            reset_freed: false,
            reset_slot_reused: false,
        }]
    }

    fn actions(&self, w: &LWorld, actions: &mut Vec<LAction>) {
        self.enabled(w, actions)
    }

    fn next_state(&self, w: &LWorld, a: LAction) -> Option<LWorld> {
        self.step(w, a).map(|(w, _)| w)
    }

    fn format_action(&self, a: &LAction) -> String {
        a.to_string()
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always(
                "legitimate_client_can_connect",
                |_: &ListenerModel, w: &LWorld| {
                    // RFC 4987 §3.6: a full half-open queue does not turn a
                    // legitimate client's SYN away.
                    !w.locked_out
                },
            ),
            Property::always(
                "half_open_queue_bounded",
                |m: &ListenerModel, w: &LWorld| w.half_open() <= m.cfg.syn_backlog as usize,
            ),
            Property::always("accept_queue_bounded", |m: &ListenerModel, w: &LWorld| {
                w.accept_queue.len() <= m.cfg.accept_backlog as usize
            }),
            Property::always(
                "flood_leaves_no_state_behind",
                |m: &ListenerModel, w: &LWorld| {
                    // RFC 9293 §3.8.3: when every timer has run, no half-open
                    // connection of a flooder remains.
                    !m.is_terminal(w) || w.half_open() == 0
                },
            ),
            Property::sometimes(
                "flood_fills_the_half_open_queue",
                |m: &ListenerModel, w: &LWorld| {
                    (m.cfg.clients()..m.cfg.peers()).all(|p| w.conns[p as usize] == Conn::HalfOpen)
                },
            ),
            Property::sometimes(
                "client_connects_through_a_cookie",
                |_: &ListenerModel, w: &LWorld| w.cookie_connected,
            ),
            Property::sometimes("half_open_connection_expires", |_, w: &LWorld| w.expired),
            Property::sometimes(
                "full_accept_queue_drops_a_syn",
                |_: &ListenerModel, w: &LWorld| w.accept_overflow,
            ),
            Property::always(
                "closed_listener_keeps_no_queued_connection",
                |_: &ListenerModel, w: &LWorld| {
                    // RFC 9293 §3.10.4, §3.10.5: closing the listener
                    // aborts what waits for accept().
                    !w.closed || w.accept_queue.is_empty()
                },
            ),
            Property::sometimes(
                "reset_connection_frees_its_slot",
                |_: &ListenerModel, w: &LWorld| w.reset_slot_reused,
            ),
            Property::sometimes(
                "listener_closes_with_queued_connections",
                |_: &ListenerModel, w: &LWorld| w.closed,
            ),
        ]
    }
}

/// The RFC section each property checks.
pub fn property_rfc(name: &str) -> &'static str {
    match name {
        "legitimate_client_can_connect" => "RFC 4987 §3.6",
        "half_open_queue_bounded" => "RFC 4987 §3.1",
        "accept_queue_bounded" => "RFC 9293 §3.10.1",
        "flood_leaves_no_state_behind" => "RFC 9293 §3.8.3",
        "flood_fills_the_half_open_queue" => "RFC 4987 §2",
        "client_connects_through_a_cookie" => "RFC 4987 §3.6",
        "half_open_connection_expires" => "RFC 9293 §3.8.3",
        "full_accept_queue_drops_a_syn" => "RFC 9293 §3.10.1",
        "closed_listener_keeps_no_queued_connection" => "RFC 9293 §3.10.5",
        "reset_connection_frees_its_slot" => "RFC 9293 §3.10.7.4",
        "listener_closes_with_queued_connections" => "RFC 9293 §3.10.4",
        _ => "",
    }
}

// --- Ladder ---------------------------------------------------------------------

const MID: usize = 40;

/// What the IUT holds, for the right-hand column.
fn iut_summary(m: &ListenerModel, w: &LWorld) -> String {
    if !w.listening {
        return "CLOSED".into();
    }
    let names = |c: Conn| -> Vec<String> {
        (0..m.cfg.peers())
            .filter(|p| w.conns[*p as usize] == c)
            .map(|p| peer_name(&m.cfg, p))
            .collect()
    };
    let queued: Vec<String> = w
        .accept_queue
        .iter()
        .map(|p| peer_name(&m.cfg, *p))
        .collect();
    format!(
        "LISTEN half-open [{}] accept [{}]",
        names(Conn::HalfOpen).join(" "),
        queued.join(" ")
    )
}

/// Draws a path of the listener model: the peers on the left (one line a
/// segment, the peer named at its start), the IUT on the right with its
/// queues.
pub fn draw(m: &ListenerModel, path: &[(LWorld, Option<LAction>)]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let line = |out: &mut String, peer: &str, mid: &str, w: &LWorld, note: &str| {
        let _ = writeln!(out, "{peer:>4} |{mid:<MID$}| {}  {note}", iut_summary(m, w));
    };
    let _ = writeln!(out, "{:>4}  {:<MID$}  IUT (listener)", "peer", "");
    if let Some((w, _)) = path.first() {
        line(&mut out, "", "", w, "");
    }
    for (w, a) in path {
        let Some(a) = *a else { continue };
        let Some((next, steps)) = m.step(w, a) else {
            continue;
        };
        let arrow = |s: &LSeg, lost: bool| {
            let text = format!(" {s} ");
            if s.to_iut {
                let tip = if lost { "-X" } else { "->" };
                format!(
                    "---{text}{}{tip}",
                    "-".repeat(MID.saturating_sub(text.len() + 5))
                )
            } else {
                let tip = if lost { "X-" } else { "<-" };
                format!(
                    "{tip}{}{text}---",
                    "-".repeat(MID.saturating_sub(text.len() + 5))
                )
            }
        };
        match a {
            LAction::NetDeliver(s) => line(
                &mut out,
                &peer_name(&m.cfg, s.peer),
                &arrow(&s, false),
                &next,
                "",
            ),
            LAction::NetLose(s) => line(
                &mut out,
                &peer_name(&m.cfg, s.peer),
                &arrow(&s, true),
                &next,
                "lost",
            ),
            LAction::PeerForgesAck(p) => line(
                &mut out,
                &peer_name(&m.cfg, p),
                "",
                &next,
                "sends A (forged cookie)",
            ),
            LAction::PeerSendsSyn(p) => {
                let note = if is_client(&m.cfg, p) {
                    "sends S"
                } else {
                    "sends S (spoofed)"
                };
                line(&mut out, &peer_name(&m.cfg, p), "", &next, note)
            }
            _ => line(&mut out, "", "", &next, &a.to_string()),
        }
        for st in &steps {
            let note = match (st.output, st.peer) {
                (None, Some(p)) if st.event.qualifiers().iter().any(|q| q.drops()) => {
                    format!("{} {}: dropped", peer_name(&m.cfg, p), st.event)
                }
                _ => String::new(),
            };
            if let Some(o) = st.output {
                let to = if is_client(&m.cfg, o.peer) {
                    "sent"
                } else {
                    "sent (to a spoofed address)"
                };
                line(
                    &mut out,
                    &peer_name(&m.cfg, o.peer),
                    &format!("{:>MID$}", format!("<- {o} ---")),
                    &next,
                    to,
                );
            } else if !note.is_empty() {
                line(&mut out, "", "", &next, &note);
            }
        }
    }
    out
}

/// The shortest path to a state where `bad` holds (see
/// [`crate::gen::shortest_path_to`]).
pub fn shortest_path_to(
    m: &ListenerModel,
    bad: impl Fn(&LWorld) -> bool,
) -> Option<Vec<(LWorld, Option<LAction>)>> {
    crate::gen::shortest_path_to(m, bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::Checker;
    use tracewright_vocab::profile::Profile;

    fn model(variant: Option<ListenerVariant>) -> ListenerModel {
        let mut cfg = ListenerConfig::from_profile(&Profile::rfc9293()).unwrap();
        cfg.variant = variant;
        ListenerModel::new(cfg)
    }

    #[test]
    fn every_property_holds_with_cookies_and_the_state_count_is_pinned() {
        let m = model(None);
        let c = m.clone().checker().spawn_bfs().join();
        c.assert_properties();
        assert_eq!(c.unique_state_count(), 54_996);
    }

    #[test]
    fn a_reset_connection_frees_its_slot_once_accept_takes_it() {
        let m = model(None);
        let path = shortest_path_to(&m, |w| w.reset_slot_reused).expect("reachable");
        let actions: Vec<LAction> = path.iter().filter_map(|(_, a)| *a).collect();
        let rst = actions
            .iter()
            .position(|a| matches!(a, LAction::PeerSendsRst(_)))
            .expect("a RST");
        let accept = actions
            .iter()
            .rposition(|a| *a == LAction::AppAccept)
            .expect("an accept");
        assert!(rst < accept, "{actions:?}");
        // No SYN is taken between the RST and accept() while the queue is
        // full only because of the reset connection.
        let (w, _) = &path[path.len() - 1];
        assert!(w.reset_slot_reused && !w.reset_freed);
    }

    #[test]
    fn closing_the_listener_resets_every_queued_connection_and_nothing_else() {
        let m = model(None);
        let path = shortest_path_to(&m, |w| w.closed).expect("reachable");
        let (before, _) = &path[path.len() - 2];
        let (after, steps) = m.step(before, LAction::AppClose).expect("enabled");
        assert!(after.accept_queue.is_empty() && after.closed);
        let rsts: Vec<u8> = steps
            .iter()
            .filter_map(|s| s.output.filter(|o| o.flags.rst).map(|o| o.peer))
            .collect();
        let mut queued = before.accept_queue.clone();
        queued.retain(|p| before.conns[*p as usize] == Conn::Queued);
        assert_eq!(rsts, queued);
        assert!(m.is_terminal(&after));
        // Not while a connection is half-open.
        let mut half = before.clone();
        half.conns[m.cfg.clients() as usize] = Conn::HalfOpen;
        assert!(m.step(&half, LAction::AppClose).is_none());
    }

    #[test]
    fn without_cookies_every_other_property_holds() {
        let m = model(Some(ListenerVariant::NoSynCookies));
        let c = m.clone().checker().spawn_bfs().join();
        assert!(c.discovery("legitimate_client_can_connect").is_some());
        for p in [
            "half_open_queue_bounded",
            "accept_queue_bounded",
            "flood_leaves_no_state_behind",
            "closed_listener_keeps_no_queued_connection",
        ] {
            assert!(c.discovery(p).is_none(), "{p}");
        }
    }

    #[test]
    fn without_cookies_a_flood_locks_a_client_out() {
        let m = model(Some(ListenerVariant::NoSynCookies));
        let path = shortest_path_to(&m, |w| w.locked_out).expect("refuted");
        let text = draw(&m, &path);
        println!("{text}");
        assert_eq!(path.len() - 1, 7);
        assert!(text.contains("half-open queue full"), "{text}");
    }
}
