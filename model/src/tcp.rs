//! A model of the TCP connection lifecycle: two endpoints and the network
//! between them, after RFC 9293.
//!
//! Required reading: RFC 9293 §3.3.2 (the state diagram), §3.5 (opening),
//! §3.6 (closing), §3.10.7 (SEGMENT ARRIVES), §3.8.3 (retransmission
//! limits) and RFC 6298 §5 (the retransmission timer).
//!
//! ## What is kept, what is abstracted
//!
//! Endpoint A ([`CLIENT`]) opens actively; endpoint B ([`SERVER`]) listens, or
//! opens actively too (simultaneous open). Each endpoint has one of the 11
//! states, its send and receive sequence variables, a retransmission count,
//! and what its application has done so far.
//!
//! - Sequence numbers count from each side's first ISN (0): a segment's
//!   `seq` is in its sender's space, its `ack` in its receiver's. With
//!   `incarnations` on, a closed connection may be opened once more on the
//!   same address pair; the new incarnation's ISN comes from a clock that
//!   has moved past every number the old one used (RFC 9293 §3.4.1), so
//!   its numbers lie above the old ones. Each segment carries, as a ghost
//!   the wire does not, the incarnation that sent it: an old duplicate is a
//!   segment of incarnation 1 arriving in incarnation 2.
//! - Payload is a length: each application may SEND one 1-byte segment, in
//!   ESTABLISHED or CLOSE-WAIT (the latter is half-close: data flowing toward
//!   the side that already sent its FIN).
//! - The receive window is large (64): in the model only old duplicates fall
//!   outside it, and they do (RFC 9293 §3.10.7.4).
//! - The network is a multiset of segments in flight: any can be delivered
//!   next (reordering). It may lose a segment or duplicate one, each within a
//!   budget (parameters).
//! - Time is abstract. A retransmission timeout fires only when nothing is in
//!   flight (the RTO is longer than a round trip, RFC 6298 §2); TIME-WAIT
//!   expires only when nothing is in flight and the peer has nothing left to
//!   retransmit (2·MSL outlasts every segment and the peer's retransmissions,
//!   RFC 9293 §3.4.2, §3.6.1). Retransmission counts against a per-segment
//!   limit (RFC 9293 §3.8.3); the backoff itself is in the traces' waits
//!   (`rto(n)`, RFC 6298 §5.5).
//!
//! The properties are named after the rule they check; [`property_rfc`]
//! gives the RFC section of each.

use std::fmt;

use stateright::{Model, Property};
use tracewright_vocab::trace::{Call, Event, Qualifier, Timer};
pub use tracewright_vocab::trace::{Flags, TcpState};

/// The endpoint that opens actively.
pub const CLIENT: usize = 0;
/// The endpoint that listens (or opens actively too: simultaneous open).
pub const SERVER: usize = 1;

/// The receive window, in sequence units. Large against everything the
/// model sends, so only old duplicates fall outside it.
pub const RCV_WND: u8 = 64;

/// How far the ISN clock moves past an incarnation's last sequence number
/// before the next one starts (RFC 9293 §3.4.1: a 4 µs clock; any step
/// above zero keeps the new numbers above the old).
pub const ISN_STEP: u8 = 4;

/// Parameters of one exploration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TcpConfig {
    /// The profile the parameters come from.
    pub profile: String,
    /// Retransmissions of a SYN before SYN-SENT gives up.
    pub syn_retries: u8,
    /// Retransmissions of a SYN-ACK before SYN-RECEIVED gives up.
    pub synack_retries: u8,
    /// Retransmissions of data or a FIN before the connection gives up.
    pub retries: u8,
    /// Segments the network may lose.
    pub loss_budget: u8,
    /// Segments the network may duplicate.
    pub dup_budget: u8,
    /// Whether each application may send one data segment.
    pub data: bool,
    /// Whether the applications may ABORT.
    pub abort: bool,
    /// Whether the server may open actively too (simultaneous open).
    pub simultaneous_open: bool,
    /// The model with one mechanism removed, or `None` for RFC 9293.
    pub variant: Option<Variant>,
    /// RFC 5961 §3: a RST resets only at exactly RCV.NXT; elsewhere in the
    /// window it gets a challenge ACK.
    pub rfc5961: bool,
    /// RFC 1337: a RST in TIME-WAIT is ignored (TIME-WAIT assassination).
    pub rfc1337: bool,
    /// A closed connection may be opened a second time on the same
    /// address pair (a second incarnation), while segments of the first
    /// may still be in flight.
    pub incarnations: bool,
    /// RFC 9293 §3.10.7.4 MAY-2 (RFC 6191): a SYN arriving in TIME-WAIT
    /// whose sequence number is above RCV.NXT reopens the connection.
    pub time_wait_reopen: bool,
    /// The client's first SYN carries its one data byte, as a TCP Fast
    /// Open client's does (RFC 7413 §3); its retransmissions do not.
    pub client_syn_data: bool,
    /// Data on a SYN arriving in LISTEN is queued and processed once the
    /// connection is ESTABLISHED (RFC 9293 §3.10.7.2); otherwise dropped.
    pub queue_syn_data: bool,
    /// The harness may once send a segment no peer's state machine sends
    /// ([`Probe`]); the run ends there. For generation only: the
    /// properties do not hold for a run a forged segment disturbed.
    pub probes: bool,
    /// ABORT, and CLOSE with data unread, send RST with ACK
    /// (`<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>`), where RFC 9293 §3.10.5
    /// and §3.6.1 send a bare RST (Linux, smoltcp).
    pub abort_rst_ack: bool,
    /// In SYN-SENT an unacceptable ACK makes the endpoint re-send its SYN
    /// at once, if it has not retransmitted it yet (Linux).
    pub syn_sent_resend_syn: bool,
    /// In a synchronized state a segment without ACK or RST is dropped
    /// before any other check (smoltcp).
    pub ack_required: bool,
    /// Past SYN-RECEIVED, a segment (not a RST) whose ACK is below SND.UNA
    /// is dropped whole, silently, before any other check (smoltcp).
    pub old_ack_drops_segment: bool,
    /// A FIN that arrives past RCV.NXT (a hole before it), without data,
    /// gets no ACK (smoltcp).
    pub fin_past_hole_silent: bool,
}

/// The model with one mechanism removed: each answers a question every TCP
/// course asks, and the checker must refute it with a counterexample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// TIME-WAIT is skipped: the active closer goes straight to CLOSED.
    NoTimeWait,
    /// TIME-WAIT ends early: it may expire while segments are in flight
    /// and while the peer may still retransmit its FIN.
    ShortTimeWait,
    /// FIN always merged with the peer's FIN: an endpoint answers a FIN in
    /// ESTABLISHED with FIN+ACK at once, so there is no half-close.
    ThreeWayClose,
    /// A SYN opens the connection at once: LISTEN goes straight to
    /// ESTABLISHED, without waiting for the ACK of its SYN-ACK.
    TwoWayHandshake,
    /// Every incarnation starts at the same ISN (0), not from a clock.
    FixedIsn,
}

impl Variant {
    pub const ALL: [Variant; 5] = [
        Variant::NoTimeWait,
        Variant::ShortTimeWait,
        Variant::ThreeWayClose,
        Variant::TwoWayHandshake,
        Variant::FixedIsn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::NoTimeWait => "no-time-wait",
            Variant::ShortTimeWait => "short-time-wait",
            Variant::ThreeWayClose => "three-way-close",
            Variant::TwoWayHandshake => "two-way-handshake",
            Variant::FixedIsn => "fixed-isn",
        }
    }

    /// The property the variant is expected to break.
    pub fn breaks(self) -> &'static str {
        match self {
            Variant::NoTimeWait | Variant::ShortTimeWait => "closing_end_never_reset",
            Variant::ThreeWayClose => "sent_data_is_delivered",
            Variant::TwoWayHandshake => "no_connection_nobody_asked_for",
            Variant::FixedIsn => "no_old_duplicate_accepted",
        }
    }

    /// Whether the variant's flaw needs a second incarnation to show.
    pub fn needs_incarnations(self) -> bool {
        matches!(self, Variant::TwoWayHandshake | Variant::FixedIsn)
    }

    pub fn parse(s: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == s)
    }
}

impl TcpConfig {
    /// The defaults `check tcp` and the tests use: the profile's retry
    /// counts, a loss and a duplication.
    pub fn new(profile: &str, syn_retries: u8, synack_retries: u8, retries: u8) -> Self {
        TcpConfig {
            profile: profile.to_string(),
            syn_retries,
            synack_retries,
            retries,
            loss_budget: 1,
            dup_budget: 1,
            data: true,
            abort: true,
            simultaneous_open: true,
            variant: None,
            rfc5961: false,
            rfc1337: false,
            incarnations: false,
            time_wait_reopen: false,
            client_syn_data: false,
            queue_syn_data: true,
            probes: false,
            abort_rst_ack: false,
            syn_sent_resend_syn: false,
            ack_required: false,
            old_ack_drops_segment: false,
            fin_past_hole_silent: false,
        }
    }

    /// The profile's retry limits with the default budgets. The model
    /// explores exhaustively, so it takes limits of at most 8.
    pub fn from_profile(p: &tracewright_vocab::profile::Profile) -> Result<Self, String> {
        let narrow = |field: &str, v: u32| {
            u8::try_from(v).ok().filter(|v| *v <= 8).ok_or_else(|| {
                format!(
                    "profile {}: {field} = {v}: the model explores at most 8 retries",
                    p.name
                )
            })
        };
        let mut cfg = TcpConfig::new(
            &p.name,
            narrow("syn_retries", p.syn_retries)?,
            narrow("synack_retries", p.synack_retries)?,
            narrow("retries", p.retries)?,
        );
        cfg.rfc5961 = p.rfc5961;
        cfg.rfc1337 = p.rfc1337;
        cfg.time_wait_reopen = p.time_wait_reopen;
        cfg.queue_syn_data = p.syn_data == tracewright_vocab::profile::SynData::Queue;
        cfg.abort_rst_ack = p.abort_rst_ack;
        cfg.syn_sent_resend_syn = p.syn_sent_resend_syn;
        cfg.ack_required = p.ack_required;
        cfg.old_ack_drops_segment = p.old_ack_drops_segment;
        cfg.fin_past_hole_silent = p.fin_past_hole_silent;
        Ok(cfg)
    }

    /// The configuration for incarnations: a second connection on the same
    /// address pair, old duplicates and ISNs. One duplicate, no loss, no
    /// simultaneous open keep it exhaustive.
    pub fn with_incarnations(mut self) -> Self {
        self.incarnations = true;
        self.probes = false;
        self.loss_budget = 0;
        self.dup_budget = 1;
        self.simultaneous_open = false;
        self
    }

    /// The configuration for data on a SYN: the client's first SYN
    /// carries its data byte. One loss and one duplicate, no simultaneous
    /// open keep it small.
    pub fn with_syn_data(mut self) -> Self {
        self.client_syn_data = true;
        self.probes = false;
        self.loss_budget = 1;
        self.dup_budget = 1;
        self.simultaneous_open = false;
        self
    }

    /// The model with variant `v`, in the configuration that shows its
    /// flaw (a second incarnation where the flaw needs one).
    pub fn for_variant(self, v: Variant) -> Self {
        let mut cfg = if v.needs_incarnations() {
            self.with_incarnations()
        } else {
            self
        };
        cfg.variant = Some(v);
        cfg
    }

    pub fn with_budgets(mut self, loss: u8, dup: u8) -> Self {
        self.loss_budget = loss;
        self.dup_budget = dup;
        self
    }
}

/// A segment in flight. `seq` is in the sender's space, `ack` in the
/// receiver's (0 when the A flag is off); `len` is the payload length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Segment {
    pub from: u8,
    pub flags: Flags,
    pub seq: u8,
    pub ack: u8,
    pub len: u8,
    /// Ghost: the incarnation of the sender that sent it (0 or 1).
    pub inc: u8,
}

impl Segment {
    /// SEG.LEN: payload plus one for SYN and one for FIN (RFC 9293 §3.4).
    pub fn seg_len(&self) -> u8 {
        self.len + self.flags.syn as u8 + self.flags.fin as u8
    }

    /// The flags as written in traces, with P on segments carrying data.
    pub fn kind(&self) -> String {
        Flags {
            psh: self.len > 0,
            ..self.flags
        }
        .to_string()
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} seq={}", self.kind(), self.seq)?;
        if self.flags.ack {
            write!(f, " ack={}", self.ack)?;
        }
        if self.len > 0 {
            write!(f, " len={}", self.len)?;
        }
        if self.inc > 0 {
            write!(f, " (incarnation 2)")?;
        }
        Ok(())
    }
}

pub(crate) const fn flags(s: &str) -> Flags {
    let b = s.as_bytes();
    let mut f = Flags {
        syn: false,
        fin: false,
        rst: false,
        psh: false,
        ack: false,
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'S' => f.syn = true,
            b'F' => f.fin = true,
            b'R' => f.rst = true,
            b'P' => f.psh = true,
            b'A' => f.ack = true,
            _ => panic!("bad flag"),
        }
        i += 1;
    }
    f
}

/// One endpoint: its connection in the current incarnation (the RFC 9293
/// §3.3.1 variables that matter, what its application did) and, kept
/// once, its [`History`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct End {
    pub state: TcpState,
    /// The connection came from a passive OPEN (RST in SYN-RECEIVED goes
    /// back to LISTEN, RFC 9293 §3.10.7.4).
    pub passive: bool,
    pub snd_una: u8,
    pub snd_nxt: u8,
    pub rcv_nxt: u8,
    /// The application's one data byte was sent (it occupies seq 1).
    pub data_sent: bool,
    /// A FIN was sent; it occupies seq 1 + data_sent.
    pub fin_sent: bool,
    /// Retransmissions of the earliest unacknowledged segment so far.
    pub retries: u8,
    /// The application called OPEN (listen or connect).
    pub opened: bool,
    /// The application called CLOSE.
    pub app_closed: bool,
    /// Bytes delivered to the application.
    pub delivered: u8,
    /// The ISN of this incarnation (ISS, RFC 9293 §3.4.1).
    pub iss: u8,
    /// 0 for the first incarnation, 1 for the second.
    pub incarnation: u8,
    /// Ghost: the incarnation of the peer whose SYN this one accepted.
    pub peer_inc: u8,
    /// Data that came on the peer's SYN (RFC 9293 §3.10.7.2).
    pub syn_data: SynData,
    pub history: History,
    /// In TIME-WAIT, half of 2·MSL has passed since it began (or since a
    /// FIN restarted it): one abstract tick, so that a FIN retransmitted
    /// now must restart the timer well after the original deadline.
    pub tw_late: bool,
    /// Its application's OPEN on the address pair was refused in
    /// TIME-WAIT (RFC 9293 §3.10.1); once 2·MSL has passed it opens again.
    pub open_refused: bool,
}

/// Data on the peer's SYN, while the connection lasts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SynData {
    /// The SYN's text, queued for processing once ESTABLISHED.
    pub queued: bool,
    /// The application has not got it yet (queued, or dropped and awaiting
    /// the peer's retransmission).
    pub pending: bool,
}

/// What happened to an endpoint, over all its incarnations: a half-open
/// connection's return to LISTEN and a new incarnation keep it. The
/// properties read it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct History {
    /// It was ESTABLISHED at some point.
    pub was_established: bool,
    /// It gave up after its retry limit.
    pub gave_up: bool,
    /// The application called ABORT.
    pub aborted: bool,
    /// A RST reset it while it was closing (CLOSING, LAST-ACK).
    pub reset_while_closing: bool,
    /// In TIME-WAIT it acknowledged a retransmitted FIN.
    pub reacked_in_time_wait: bool,
    /// A segment arrived before the application opened it.
    pub refused: bool,
    /// Data came on the peer's SYN.
    pub got_syn_data: bool,
    /// Incarnations: it took data or a FIN of an earlier incarnation as the
    /// current one's.
    pub took_old_duplicate: bool,
    /// Ghost of the `two-way-handshake` variant: it reached ESTABLISHED with
    /// a peer that never asked for this connection.
    pub established_unasked: bool,
    /// Variant `three-way-close`: the application sent data that was never
    /// transmitted (the connection was already closing without it knowing).
    pub dropped_data: bool,
}

impl End {
    fn new() -> Self {
        End {
            state: TcpState::Closed,
            passive: false,
            snd_una: 0,
            snd_nxt: 0,
            rcv_nxt: 0,
            data_sent: false,
            fin_sent: false,
            retries: 0,
            opened: false,
            app_closed: false,
            delivered: 0,
            iss: 0,
            incarnation: 0,
            peer_inc: 0,
            syn_data: SynData::default(),
            history: History::default(),
            tw_late: false,
            open_refused: false,
        }
    }

    fn fin_seq(&self) -> u8 {
        self.iss + 1 + self.data_sent as u8
    }

    /// A second incarnation: the connection's variables start afresh (the
    /// ISN from the clock, above every number the first one used), the
    /// history stays.
    fn reincarnate(&mut self, fixed_isn: bool) {
        let iss = if fixed_isn {
            0
        } else {
            self.snd_nxt + ISN_STEP
        };
        *self = End {
            iss,
            incarnation: self.incarnation + 1,
            history: self.history,
            ..End::new()
        };
    }

    /// Whether the FIN this endpoint sent has been acknowledged.
    fn fin_acked(&self) -> bool {
        self.fin_sent && self.snd_una > self.fin_seq()
    }

    /// Something it sent still awaits acknowledgement, so its
    /// retransmission timer runs (RFC 6298 §5.1).
    pub fn awaiting_ack(&self) -> bool {
        use TcpState::*;
        !matches!(self.state, Closed | Listen | TimeWait | FinWait2) && self.snd_una < self.snd_nxt
    }
}

/// A violation the model recorded against itself (history, for the
/// `always` properties).
pub mod violation {
    /// An endpoint accepted a segment outside its receive window.
    pub const ACCEPT_OUTSIDE_WINDOW: u8 = 1;
    /// An endpoint sent a segment its state does not allow.
    pub const FORBIDDEN_SEGMENT: u8 = 2;
    /// An endpoint took a segment of an earlier incarnation as data of
    /// the current one.
    pub const OLD_DUPLICATE_ACCEPTED: u8 = 4;
    /// An endpoint reached ESTABLISHED with a peer that did not ask for
    /// the connection (an old duplicate SYN).
    pub const NOBODY_ASKED: u8 = 8;
}

/// Both endpoints and the network.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct World {
    pub ends: [End; 2],
    /// Segments in flight, sorted (a multiset).
    pub net: Vec<Segment>,
    pub lost: u8,
    pub duplicated: u8,
    /// Bits of [`violation`].
    pub violations: u8,
    /// The scenario in which the server never opens: the client's SYN is
    /// refused (RFC 9293 §3.10.7.1).
    pub server_absent: bool,
    /// The harness sent a probe: the run ends with the answer.
    pub probed: bool,
}

/// What can happen next. Named subject + verb, as stateright's examples do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// The application on endpoint `.0` makes a call (RFC 9293 §3.10).
    AppListen(usize),
    AppConnect(usize),
    AppSend(usize),
    AppClose(usize),
    AppAbort(usize),
    /// The network delivers a segment to the endpoint it is addressed to.
    NetDeliver(Segment),
    /// The network loses a segment.
    NetLose(Segment),
    /// The network duplicates a segment.
    NetDuplicate(Segment),
    /// Endpoint `.0`'s retransmission timer expires (RFC 6298 §5.4).
    TimerRto(usize),
    /// Endpoint `.0`'s TIME-WAIT timer (2·MSL) expires (RFC 9293 §3.6.1).
    Timer2Msl(usize),
    /// Half of 2·MSL passes in endpoint `.0`'s TIME-WAIT while its peer
    /// still has a FIN to retransmit: the FIN then arrives late.
    TimeWaitTick(usize),
    /// The harness sends endpoint `.0` a crafted segment (`probes`).
    Probe(usize, Probe),
    /// The application on endpoint `.0` closes while data it received is
    /// unread, reading no more (half-duplex close, RFC 9293 §3.6.1).
    AppCloseUnread(usize),
    /// The application on endpoint `.0` shuts down reading (the sockets
    /// API's `shutdown(SHUT_RD)`).
    AppShutdownRead(usize),
}

/// A segment no peer's state machine sends, for the cells of RFC 9293
/// §3.10.7's event table the two endpoints never reach: illegal flag
/// combinations, a SYN where the peer has long synchronized, numbers at
/// the window's edge, an ACK of something never sent, a SYN-ACK or RST+ACK
/// out of nowhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Probe {
    /// SYN at RCV.NXT in a synchronized state.
    SynAtNxt,
    /// SYN at RCV.NXT+1.
    SynPastNxt,
    /// RST at RCV.NXT+1: in the window, not exact (RFC 5961 §3.2).
    RstPastNxt,
    /// ACK at RCV.NXT acknowledging SND.NXT+1.
    AckAbove,
    /// SYN+FIN at RCV.NXT.
    SynFin,
    /// No flag at all, at RCV.NXT.
    NoFlags,
    /// FIN without ACK at RCV.NXT.
    FinNoAck,
    /// RST carrying a data byte at RCV.NXT (RFC 1122 §4.2.2.12).
    RstData,
    /// SYN+ACK in LISTEN or TIME-WAIT.
    SynAck,
    /// RST+ACK in LISTEN or TIME-WAIT.
    RstAck,
    /// RST at the last number inside the receive window,
    /// RCV.NXT+RCV.WND-1: acceptable, not exact (RFC 5961 §3.2).
    RstLastInWnd,
    /// RST just past the receive window, RCV.NXT+RCV.WND: not acceptable,
    /// dropped without an answer (RFC 9293 §3.10.7.4, first).
    RstPastWnd,
    /// SYN at RCV.NXT+RCV.WND-1 (RFC 5961 §4.2: a challenge ACK wherever
    /// it lies).
    SynLastInWnd,
    /// SYN at RCV.NXT+RCV.WND: not acceptable, an ACK (RFC 9293
    /// §3.10.7.4, first).
    SynPastWnd,
}

impl Probe {
    pub const ALL: [Probe; 14] = [
        Probe::SynAtNxt,
        Probe::SynPastNxt,
        Probe::RstPastNxt,
        Probe::AckAbove,
        Probe::SynFin,
        Probe::NoFlags,
        Probe::FinNoAck,
        Probe::RstData,
        Probe::SynAck,
        Probe::RstAck,
        Probe::RstLastInWnd,
        Probe::RstPastWnd,
        Probe::SynLastInWnd,
        Probe::SynPastWnd,
    ];

    /// Whether it lies at an edge of the receive window.
    pub fn at_window_edge(self) -> bool {
        matches!(
            self,
            Probe::RstLastInWnd | Probe::RstPastWnd | Probe::SynLastInWnd | Probe::SynPastWnd
        )
    }

    /// Whether the harness sends it to an endpoint in `state`.
    fn applies(self, state: TcpState) -> bool {
        use TcpState::*;
        let synchronized = !matches!(state, Closed | Listen | SynSent);
        match self {
            // RFC 9293 §3.10.7.1 (CLOSED: anything but a RST gets a RST),
            // §3.10.7.2 (LISTEN: an ACK gets a RST), §3.10.7.3 (SYN-SENT:
            // an unacceptable ACK gets a RST): in every state.
            Probe::AckAbove => true,
            // The illegal or unusual flag combinations, also where the
            // peer is not synchronized: §3.10.7.1 (CLOSED: a RST, unless
            // it is one), §3.10.7.2 (LISTEN: a RST ignored, a SYN
            // handled, anything else dropped), §3.10.7.3 (SYN-SENT: the
            // ACK, then the RST, then the SYN, else dropped).
            Probe::SynFin | Probe::NoFlags | Probe::FinNoAck | Probe::RstData => true,
            // §3.10.7.4: a SYN+ACK in a synchronized state gets a
            // challenge ACK (fourth, RFC 5961 §4.2); where no peer's
            // retransmitted SYN-ACK arrives on its own, the harness sends
            // one (LISTEN: an ACK gets a RST, §3.10.7.2).
            Probe::SynAck => matches!(state, Listen | CloseWait | Closing | LastAck | TimeWait),
            // §3.10.7.4, second: a RST+ACK in the window resets (LISTEN:
            // ignored, §3.10.7.2).
            Probe::RstAck => matches!(state, Listen | FinWait2 | Closing | TimeWait),
            _ => synchronized,
        }
    }

    fn qualifier(self) -> Option<Qualifier> {
        match self {
            Probe::SynAtNxt => Some(Qualifier::AtRcvNxt),
            Probe::SynPastNxt | Probe::RstPastNxt => Some(Qualifier::PastRcvNxt),
            Probe::AckAbove => Some(Qualifier::AckAboveSndNxt),
            Probe::RstLastInWnd | Probe::SynLastInWnd => Some(Qualifier::LastInWindow),
            Probe::RstPastWnd | Probe::SynPastWnd => Some(Qualifier::PastWindow),
            _ => None,
        }
    }

    /// The segment, in the numbers of `e`, the endpoint it is sent to.
    pub fn segment(self, e: &End, from: u8, inc: u8) -> Segment {
        debug_assert!(e.rcv_nxt < u8::MAX - RCV_WND, "the window's edge fits");
        let (flags_text, seq, ack, len) = match self {
            Probe::SynAtNxt => ("S", e.rcv_nxt, 0, 0),
            Probe::SynPastNxt => ("S", e.rcv_nxt + 1, 0, 0),
            Probe::RstPastNxt => ("R", e.rcv_nxt + 1, 0, 0),
            Probe::AckAbove => ("A", e.rcv_nxt, e.snd_nxt + 1, 0),
            Probe::SynFin => ("SF", e.rcv_nxt, 0, 0),
            Probe::NoFlags => ("", e.rcv_nxt, 0, 0),
            Probe::FinNoAck => ("F", e.rcv_nxt, 0, 0),
            Probe::RstData => ("R", e.rcv_nxt, 0, 1),
            Probe::SynAck => ("SA", e.rcv_nxt, e.snd_nxt, 0),
            Probe::RstAck => ("RA", e.rcv_nxt, e.snd_nxt, 0),
            Probe::RstLastInWnd => ("R", e.rcv_nxt + RCV_WND - 1, 0, 0),
            Probe::RstPastWnd => ("R", e.rcv_nxt + RCV_WND, 0, 0),
            Probe::SynLastInWnd => ("S", e.rcv_nxt + RCV_WND - 1, 0, 0),
            Probe::SynPastWnd => ("S", e.rcv_nxt + RCV_WND, 0, 0),
        };
        Segment {
            from,
            flags: flags(flags_text),
            seq,
            ack,
            len,
            inc,
        }
    }
}

pub fn end_name(i: usize) -> &'static str {
    if i == CLIENT {
        "A"
    } else {
        "B"
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Action::AppListen(e) => write!(f, "{} app listen", end_name(e)),
            Action::AppConnect(e) => write!(f, "{} app connect", end_name(e)),
            Action::AppSend(e) => write!(f, "{} app send(1)", end_name(e)),
            Action::AppClose(e) => write!(f, "{} app close", end_name(e)),
            Action::AppAbort(e) => write!(f, "{} app abort", end_name(e)),
            Action::NetDeliver(s) => {
                write!(f, "net delivers {} to {}", s, end_name(1 - s.from as usize))
            }
            Action::NetLose(s) => write!(f, "net loses {} from {}", s, end_name(s.from as usize)),
            Action::NetDuplicate(s) => {
                write!(f, "net duplicates {} from {}", s, end_name(s.from as usize))
            }
            Action::TimerRto(e) => write!(f, "{} rto expires", end_name(e)),
            Action::Timer2Msl(e) => write!(f, "{} 2msl expires", end_name(e)),
            Action::TimeWaitTick(e) => {
                write!(f, "{} half of 2msl passes in TIME-WAIT", end_name(e))
            }
            Action::Probe(e, p) => write!(f, "harness sends {} a {p:?} probe", end_name(e)),
            Action::AppCloseUnread(e) => write!(f, "{} app close, data unread", end_name(e)),
            Action::AppShutdownRead(e) => write!(f, "{} app shutdown read", end_name(e)),
        }
    }
}

/// The model: a configuration.
#[derive(Clone, Debug)]
pub struct TcpModel {
    pub cfg: TcpConfig,
}

/// What one endpoint did in one step: the abstract transition coverage
/// counts (RFC state before, event, state after, output).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndStep {
    pub end: usize,
    pub before: TcpState,
    pub event: Event,
    pub after: TcpState,
    pub output: Option<Segment>,
    /// A second segment the same step sends after `output` (a profile
    /// switch's: Linux's SYN re-sent after the RST to a bad ACK in SYN-SENT).
    pub then: Option<Segment>,
}

impl TcpModel {
    pub fn new(cfg: TcpConfig) -> Self {
        TcpModel { cfg }
    }

    /// The segment a probe sends to endpoint `e` in world `w`.
    pub fn probe_segment(&self, w: &World, e: usize, p: Probe) -> Segment {
        let peer = 1 - e;
        p.segment(&w.ends[e], peer as u8, w.ends[peer].incarnation)
    }

    /// Variant `three-way-close`: the application still believes it is in
    /// CLOSE-WAIT (its FIN left with the ACK of the peer's); what it sends
    /// is lost, its CLOSE is a no-op.
    fn believes_close_wait(&self, e: &End) -> bool {
        self.cfg.variant == Some(Variant::ThreeWayClose)
            && e.state == TcpState::LastAck
            && !e.app_closed
    }

    fn limit(&self, e: &End) -> u8 {
        match e.state {
            TcpState::SynSent => self.cfg.syn_retries,
            TcpState::SynReceived if e.snd_una == e.iss => self.cfg.synack_retries,
            _ => self.cfg.retries,
        }
    }

    /// Takes one action; also returns what the endpoint it concerns did
    /// (`None` for actions of the network alone). `None` overall when the
    /// action is not enabled.
    pub fn step(&self, w: &World, action: Action) -> Option<(World, Option<EndStep>)> {
        let mut w = w.clone();
        let (end, event) = match action {
            Action::AppListen(e) => (e, Event::app(Call::Listen)),
            Action::AppConnect(e) => (e, connect_event(&w.ends[e])),
            Action::AppSend(e) => (e, Event::app(Call::Send)),
            Action::AppClose(e) => (e, Event::app(Call::Close)),
            Action::AppAbort(e) => (e, Event::app(Call::Abort)),
            Action::AppCloseUnread(e) => (e, Event::app(Call::Close).with(Qualifier::DataUnread)),
            Action::AppShutdownRead(e) => (e, Event::app(Call::ShutdownRead)),
            Action::NetDeliver(s) => {
                let rcv = 1 - s.from as usize;
                let mut event = Event::recv(s.kind());
                // A segment of an incarnation its sender has left behind
                // is an old duplicate: a transition of its own.
                if s.inc < w.ends[s.from as usize].incarnation {
                    event = event.with(Qualifier::OldIncarnation);
                }
                // Until the data of the peer's SYN reaches the application,
                // what arrives in SYN-RECEIVED, and data arriving after it,
                // are transitions of their own.
                let r = &w.ends[rcv];
                if r.syn_data.pending && (r.state == TcpState::SynReceived || s.len > 0) {
                    event = event.with(Qualifier::DataOnSynPending);
                }
                if r.tw_late {
                    event = event.with(Qualifier::LateInTimeWait);
                }
                (rcv, event)
            }
            Action::TimerRto(e) => (e, Event::timer(Timer::Rto)),
            Action::Timer2Msl(e) => (e, Event::timer(Timer::TwoMsl)),
            Action::Probe(e, p) => {
                let s = self.probe_segment(&w, e, p);
                let mut event = Event::recv(s.kind());
                if let Some(q) = p.qualifier() {
                    event = event.with(q);
                }
                (e, event)
            }
            Action::NetLose(s) => {
                let i = w.net.binary_search(&s).ok()?;
                w.net.remove(i);
                w.lost += 1;
                return Some((w, None));
            }
            Action::NetDuplicate(s) => {
                let i = w.net.binary_search(&s).ok()?;
                w.net.insert(i, s);
                w.duplicated += 1;
                return Some((w, None));
            }
            Action::TimeWaitTick(e) => {
                // Time passes; no transition of its own (the segment that
                // arrives late is one).
                w.ends[e].tw_late = true;
                return Some((w, None));
            }
        };
        let before = w.ends[end].state;
        let mut out = Out::default();
        let variant = self.cfg.variant;
        let believes_close_wait = self.believes_close_wait(&w.ends[end]);
        let ends_run = self.edge_call_ends_run(&w, action);
        let refused =
            matches!(action, Action::AppConnect(e) if w.ends[e].state != TcpState::Closed);
        if let Action::AppListen(e) | Action::AppConnect(e) = action {
            if w.ends[e].opened && !refused {
                // A second incarnation on the same address pair.
                w.ends[e].reincarnate(variant == Some(Variant::FixedIsn));
            }
        }
        match action {
            Action::AppListen(e) => app_listen(&mut w.ends[e]),
            // RFC 9293 §3.10.1 OPEN, in any state but CLOSED: "error:
            // connection already exists"; nothing changes. In TIME-WAIT
            // the application tries again once 2·MSL has passed.
            Action::AppConnect(e) if refused => {
                w.ends[e].open_refused = w.ends[e].state == TcpState::TimeWait;
            }
            Action::AppCloseUnread(e) => app_close_unread(&self.cfg, &mut w.ends[e], &mut out),
            Action::AppShutdownRead(_) => {}
            Action::AppConnect(e) => {
                let with_data =
                    self.cfg.client_syn_data && e == CLIENT && w.ends[e].incarnation == 0;
                app_connect(&mut w.ends[e], with_data, &mut out)
            }
            Action::AppSend(e) if believes_close_wait => w.ends[e].history.dropped_data = true,
            Action::AppClose(e) if believes_close_wait => w.ends[e].app_closed = true,
            Action::AppSend(e) => app_send(&mut w.ends[e], &mut out),
            Action::AppClose(e) => app_close(&mut w.ends[e], &mut out),
            Action::AppAbort(e) => app_abort(&self.cfg, &mut w.ends[e], &mut out),
            Action::NetDeliver(s) => {
                let i = w.net.binary_search(&s).ok()?;
                w.net.remove(i);
                let (rcv, snd) = split(&mut w.ends, end);
                let ok = segment_arrives(&self.cfg, rcv, snd, &s, &mut out);
                // A FIN in TIME-WAIT restarts the 2·MSL timeout (RFC 9293
                // §3.10.7.4, eighth): the time that passed counts no more.
                if before == TcpState::TimeWait && s.flags.fin {
                    rcv.tw_late = false;
                }
                if !ok {
                    w.violations |= violation::ACCEPT_OUTSIDE_WINDOW;
                }
                // The ghost check behind `no_connection_nobody_asked_for`:
                // whoever reaches ESTABLISHED got there with a peer that is
                // opening or open, in the incarnation whose SYN it took.
                let (e, peer) = (&w.ends[end], &w.ends[1 - end]);
                if before != TcpState::Established
                    && e.state == TcpState::Established
                    && (peer.incarnation != e.peer_inc
                        || matches!(
                            peer.state,
                            TcpState::Closed | TcpState::Listen | TcpState::TimeWait
                        ))
                {
                    w.ends[end].history.established_unasked = true;
                }
            }
            Action::TimerRto(e) => {
                let limit = self.limit(&w.ends[e]);
                rto_expires(&mut w.ends[e], limit, &mut out)
            }
            Action::Timer2Msl(e) => w.ends[e].set_state(TcpState::Closed),
            Action::Probe(e, p) => {
                let s = self.probe_segment(&w, e, p);
                w.probed = true;
                let (rcv, snd) = split(&mut w.ends, e);
                if !segment_arrives(&self.cfg, rcv, snd, &s, &mut out) {
                    w.violations |= violation::ACCEPT_OUTSIDE_WINDOW;
                }
            }
            Action::NetLose(_) | Action::NetDuplicate(_) | Action::TimeWaitTick(_) => {
                unreachable!()
            }
        }
        match variant {
            Some(Variant::NoTimeWait) if w.ends[end].state == TcpState::TimeWait => {
                w.ends[end].set_state(TcpState::Closed)
            }
            Some(Variant::ThreeWayClose)
                if w.ends[end].state == TcpState::CloseWait && before != TcpState::CloseWait =>
            {
                // The FIN's ACK goes out as FIN+ACK: straight to LAST-ACK.
                let e = &mut w.ends[end];
                if let Some(o) = out.0.as_mut() {
                    o.0.fin = true;
                }
                e.fin_sent = true;
                e.snd_nxt += 1;
                e.set_state(TcpState::LastAck);
            }
            _ => {}
        }
        if ends_run {
            w.probed = true;
        }
        let after = w.ends[end].state;
        let inc = w.ends[end].incarnation;
        let to_segment = |(flags, seq, ack, len): (Flags, u8, u8, u8)| Segment {
            from: end as u8,
            flags,
            seq,
            ack,
            len,
            inc,
        };
        let output = out.0.map(to_segment);
        let then = out.1.map(to_segment);
        for seg in output.into_iter().chain(then) {
            if before == TcpState::TimeWait && seg.flags == flags("A") {
                w.ends[end].history.reacked_in_time_wait = true;
            }
            if !segment_allowed(before, after, &w.ends[end], &seg) {
                w.violations |= violation::FORBIDDEN_SEGMENT;
            }
            let i = w.net.binary_search(&seg).unwrap_or_else(|i| i);
            w.net.insert(i, seg);
        }
        Some((
            w,
            Some(EndStep {
                end,
                before,
                event,
                after,
                output,
                then,
            }),
        ))
    }

    /// Whether the action is enabled (its guard), apart from what `step`
    /// itself rejects.
    fn enabled_actions(&self, w: &World, actions: &mut Vec<Action>) {
        use TcpState::*;
        if w.probed {
            // The trace ends with the probe's answer.
            return;
        }
        let someone_aborted = w.ends.iter().any(|e| e.history.aborted);
        for e in [CLIENT, SERVER] {
            let end = &w.ends[e];
            // An application acts only when its endpoint's last segment has
            // left the network: this cuts interleavings that differ only in
            // when a call was made, and keeps simultaneous open and close.
            if w.net.iter().any(|s| s.from as usize == e) {
                continue;
            }
            if !end.opened {
                // The server opens first, unless it is absent (a refused
                // connection); then the client connects.
                if e == SERVER && !w.server_absent {
                    actions.push(Action::AppListen(e));
                    if self.cfg.simultaneous_open {
                        actions.push(Action::AppConnect(e));
                    }
                }
                if e == CLIENT && (w.server_absent || w.ends[SERVER].opened) {
                    actions.push(Action::AppConnect(e));
                }
            }
            // A second incarnation: the closed end opens again, the client
            // actively, the server passively.
            if self.cfg.incarnations
                && end.opened
                && end.incarnation == 0
                && end.state == Closed
                && (e == CLIENT || !w.server_absent)
            {
                actions.push(if e == CLIENT {
                    Action::AppConnect(e)
                } else {
                    Action::AppListen(e)
                });
                // Where a listener reopens TIME-WAIT, its counterpart: the
                // server connects to the client's port, whose TIME-WAIT has
                // no listener behind it and answers the SYN with an ACK.
                // Only once the network is empty: an old duplicate SYN
                // meeting this active open would make a simultaneous open
                // with a connection nobody asked for (the property is the
                // listener's, RFC 9293 §3.5 figure 8).
                if e == SERVER && self.cfg.time_wait_reopen && w.net.is_empty() {
                    actions.push(Action::AppConnect(e));
                }
            }
            if end.opened && !end.history.aborted {
                let open_for_data =
                    matches!(end.state, Established | CloseWait) || self.believes_close_wait(end);
                if self.cfg.data && !end.data_sent && !end.history.dropped_data && open_for_data {
                    actions.push(Action::AppSend(e));
                }
                if !end.app_closed && open_for_data {
                    actions.push(Action::AppClose(e));
                }
                // ABORT where it sends a RST (RFC 9293 §3.10.5), so that a
                // RST reaches the peer in every state it can be in.
                if self.cfg.abort
                    && !someone_aborted
                    && matches!(
                        end.state,
                        SynReceived | Established | FinWait1 | FinWait2 | CloseWait
                    )
                {
                    actions.push(Action::AppAbort(e));
                }
            }
            if w.net.is_empty() {
                if end.awaiting_ack() {
                    actions.push(Action::TimerRto(e));
                }
                if end.state == TimeWait
                    && !w.ends[1 - e].awaiting_ack()
                    && self.cfg.variant != Some(Variant::ShortTimeWait)
                {
                    actions.push(Action::Timer2Msl(e));
                }
            }
            // Half of 2·MSL passes in TIME-WAIT while the peer still has
            // its FIN to retransmit: the retransmission then comes late.
            if end.state == TimeWait
                && !end.tw_late
                && w.net.is_empty()
                && w.ends[1 - e].awaiting_ack()
            {
                actions.push(Action::TimeWaitTick(e));
            }
            if end.state == TimeWait && self.cfg.variant == Some(Variant::ShortTimeWait) {
                // 2·MSL shorter than a segment's life and the peer's retries.
                actions.push(Action::Timer2Msl(e));
            }
        }
        if self.cfg.probes && w.net.is_empty() {
            for e in [CLIENT, SERVER] {
                let end = &w.ends[e];
                // A CLOSED endpoint whose application never opened it
                // answers too (RFC 9293 §3.10.7.1: "all data in the
                // incoming segment is discarded", a RST for anything but a
                // RST).
                if end.opened || end.state == Closed {
                    for p in Probe::ALL {
                        if p.applies(end.state) {
                            actions.push(Action::Probe(e, p));
                        }
                    }
                }
            }
        }
        if self.cfg.probes {
            self.edge_calls(w, actions);
        }
        let mut prev = None;
        for &s in &w.net {
            if prev == Some(s) {
                continue;
            }
            prev = Some(s);
            actions.push(Action::NetDeliver(s));
            if w.lost < self.cfg.loss_budget {
                actions.push(Action::NetLose(s));
            }
            if w.duplicated < self.cfg.dup_budget {
                actions.push(Action::NetDuplicate(s));
            }
        }
    }
}

// --- Application calls at the edges of the interface (generation only) -----
//
// The cells of RFC 9293 §3.10's event table that the two applications never
// reach on their own: CLOSE before the connection is synchronized (§3.10.4),
// ABORT where it sends nothing (§3.10.5), an OPEN on an address pair a
// connection holds (§3.10.1), CLOSE with received data unread (§3.6.1
// SHLD-2), and shutting down reading. Like the probes, each ends the run
// with its answer, but for the OPEN refused in TIME-WAIT, which goes on
// until 2·MSL has passed and the application opens again.

impl TcpModel {
    fn edge_calls(&self, w: &World, actions: &mut Vec<Action>) {
        use TcpState::*;
        let someone_aborted = w.ends.iter().any(|e| e.history.aborted);
        for e in [CLIENT, SERVER] {
            let end = &w.ends[e];
            if !end.opened || end.history.aborted || w.net.iter().any(|s| s.from as usize == e) {
                continue;
            }
            if !end.app_closed && matches!(end.state, Listen | SynSent | SynReceived) {
                actions.push(Action::AppClose(e));
            }
            if self.cfg.abort
                && !someone_aborted
                && matches!(end.state, Listen | SynSent | Closing | LastAck | TimeWait)
            {
                actions.push(Action::AppAbort(e));
            }
            // The active opener opens the same address pair again. In
            // TIME-WAIT only once nothing is left to arrive, so that 2·MSL
            // can pass next.
            let time_wait_quiet = w.net.is_empty() && !w.ends[1 - e].awaiting_ack();
            if e == CLIENT
                && !end.open_refused
                && end.state != Closed
                && (end.state != TimeWait || time_wait_quiet)
            {
                actions.push(Action::AppConnect(e));
            }
            if e == CLIENT && end.open_refused && end.state == Closed {
                actions.push(Action::AppConnect(e));
            }
            if !end.app_closed && matches!(end.state, Established | CloseWait) {
                if end.delivered > 0 {
                    actions.push(Action::AppCloseUnread(e));
                }
                actions.push(Action::AppShutdownRead(e));
            }
            // Shutting down reading in the other synchronized states: in
            // SYN-RECEIVED before the application closed, in the closing
            // states after its CLOSE (a half-close, RFC 9293 §3.6: it may
            // still receive). Nothing is sent and the state stays.
            if matches!(
                end.state,
                SynReceived | FinWait1 | FinWait2 | Closing | LastAck | TimeWait
            ) {
                actions.push(Action::AppShutdownRead(e));
            }
        }
    }

    /// Whether `action` is one of the edge calls whose answer ends the run.
    fn edge_call_ends_run(&self, w: &World, action: Action) -> bool {
        use TcpState::*;
        if !self.cfg.probes {
            return false;
        }
        match action {
            Action::AppClose(e) => matches!(w.ends[e].state, Listen | SynSent | SynReceived),
            Action::AppAbort(e) => {
                matches!(
                    w.ends[e].state,
                    Listen | SynSent | Closing | LastAck | TimeWait
                )
            }
            Action::AppConnect(e) => {
                let end = &w.ends[e];
                (end.state != Closed && end.state != TimeWait)
                    || (end.state == Closed && end.open_refused)
            }
            Action::AppCloseUnread(_) | Action::AppShutdownRead(_) => true,
            _ => false,
        }
    }
}

/// The event of an OPEN: refused while a connection holds the address
/// pair (RFC 9293 §3.10.1), or the OPEN after TIME-WAIT refused one.
fn connect_event(e: &End) -> Event {
    let ev = Event::app(Call::Connect);
    if e.state != TcpState::Closed {
        ev.with(Qualifier::ConnectionExists)
    } else if e.open_refused {
        ev.with(Qualifier::AfterTimeWait)
    } else {
        ev
    }
}

/// RFC 9293 §3.6.1: an implementation that closes half-duplex (MAY-1),
/// asked to CLOSE while received data is pending, sends a RST to show that
/// data was lost (SHLD-2; RFC 1122 §4.2.2.13): <SEQ=SND.NXT><CTL=RST>.
fn app_close_unread(cfg: &TcpConfig, e: &mut End, out: &mut Out) {
    e.app_closed = true;
    e.history.aborted = true;
    if cfg.abort_rst_ack {
        out.send(flags("RA"), e.snd_nxt, e.rcv_nxt, 0);
    } else {
        out.send(flags("R"), e.snd_nxt, 0, 0);
    }
    e.set_state(TcpState::Closed);
}

fn split(ends: &mut [End; 2], rcv: usize) -> (&mut End, &End) {
    let (a, b) = ends.split_at_mut(1);
    if rcv == 0 {
        (&mut a[0], &b[0])
    } else {
        (&mut b[0], &a[0])
    }
}

/// At most one segment per step: (flags, seq, ack, len).
#[derive(Default)]
struct Out(Option<(Flags, u8, u8, u8)>, Option<(Flags, u8, u8, u8)>);

impl Out {
    fn send(&mut self, f: Flags, seq: u8, ack: u8, len: u8) {
        debug_assert!(self.0.is_none(), "one segment per step");
        self.0 = Some((f, seq, if f.ack { ack } else { 0 }, len));
    }
    /// A segment sent after the step's first (or as its first if it has
    /// none): Linux's SYN re-sent just after the RST to a bad ACK.
    fn send_after(&mut self, f: Flags, seq: u8, ack: u8, len: u8) {
        let s = Some((f, seq, if f.ack { ack } else { 0 }, len));
        if self.0.is_none() {
            self.0 = s;
        } else {
            debug_assert!(self.1.is_none(), "two segments per step at most");
            self.1 = s;
        }
    }
    /// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    fn ack(&mut self, e: &End) {
        self.send(flags("A"), e.snd_nxt, e.rcv_nxt, 0);
    }
}

impl End {
    /// Every state change goes through here.
    fn set_state(&mut self, s: TcpState) {
        if s == TcpState::Established {
            self.history.was_established = true;
        }
        if s == TcpState::Listen {
            // Back to LISTEN (RST or give-up in SYN-RECEIVED): the half-open
            // connection is forgotten, the listener stays; history stays too.
            *self = End {
                state: TcpState::Listen,
                opened: true,
                passive: true,
                iss: self.iss,
                incarnation: self.incarnation,
                history: self.history,
                ..End::new()
            };
            return;
        }
        if s == TcpState::Closed {
            // The connection is gone, and with it the SYN's text.
            self.syn_data = SynData::default();
        }
        if s != TcpState::TimeWait {
            self.tw_late = false;
        }
        self.state = s;
    }
}

// --- Application calls, RFC 9293 §3.10.1–§3.10.5 ---------------------------

fn app_listen(e: &mut End) {
    // §3.10.1 OPEN (passive): CLOSED -> LISTEN.
    e.opened = true;
    e.passive = true;
    e.set_state(TcpState::Listen);
}

fn app_connect(e: &mut End, with_data: bool, out: &mut Out) {
    // §3.10.1 OPEN (active): send <SEQ=ISS><CTL=SYN>, enter SYN-SENT. With
    // data, the SYN carries the data byte (RFC 7413 §3), at ISS+1.
    e.opened = true;
    e.snd_una = e.iss;
    e.data_sent = with_data;
    e.snd_nxt = e.iss + 1 + with_data as u8;
    out.send(flags("S"), e.iss, 0, with_data as u8);
    e.set_state(TcpState::SynSent);
}

fn app_send(e: &mut End, out: &mut Out) {
    // §3.10.2 SEND in ESTABLISHED or CLOSE-WAIT: segmentize and send.
    e.data_sent = true;
    out.send(flags("PA"), e.snd_nxt, e.rcv_nxt, 1);
    e.snd_nxt += 1;
}

fn app_close(e: &mut End, out: &mut Out) {
    // §3.10.4 CLOSE: ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK, with a FIN.
    // In SYN-RECEIVED, nothing sent yet: the FIN at once, FIN-WAIT-1. In
    // LISTEN and SYN-SENT the TCB is deleted: CLOSED, nothing sent.
    e.app_closed = true;
    if matches!(e.state, TcpState::Listen | TcpState::SynSent) {
        e.set_state(TcpState::Closed);
        return;
    }
    e.fin_sent = true;
    out.send(flags("FA"), e.snd_nxt, e.rcv_nxt, 0);
    e.snd_nxt += 1;
    let next = if e.state == TcpState::CloseWait {
        TcpState::LastAck
    } else {
        TcpState::FinWait1
    };
    e.set_state(next);
}

fn app_abort(cfg: &TcpConfig, e: &mut End, out: &mut Out) {
    // §3.10.5 ABORT in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 or
    // CLOSE-WAIT: send <SEQ=SND.NXT><CTL=RST>; in CLOSING, LAST-ACK and
    // TIME-WAIT no RST is sent.
    e.history.aborted = true;
    if matches!(
        e.state,
        TcpState::SynReceived
            | TcpState::Established
            | TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::CloseWait
    ) {
        if cfg.abort_rst_ack {
            out.send(flags("RA"), e.snd_nxt, e.rcv_nxt, 0);
        } else {
            out.send(flags("R"), e.snd_nxt, 0, 0);
        }
    }
    e.set_state(TcpState::Closed);
}

// --- Timers ------------------------------------------------------------------

fn rto_expires(e: &mut End, limit: u8, out: &mut Out) {
    if e.retries >= limit {
        // RFC 9293 §3.8.3: past R2, close the connection; a half-open
        // connection from a passive OPEN returns to LISTEN. Nothing is sent.
        let next = if e.state == TcpState::SynReceived && e.passive {
            TcpState::Listen
        } else {
            TcpState::Closed
        };
        e.set_state(next);
        e.history.gave_up = true;
        return;
    }
    // RFC 6298 §5.4: retransmit the earliest segment not yet acknowledged.
    e.retries += 1;
    let iss = e.iss;
    match e.state {
        TcpState::SynSent => out.send(flags("S"), iss, 0, 0),
        TcpState::SynReceived if e.snd_una == iss => out.send(flags("SA"), iss, e.rcv_nxt, 0),
        _ if e.snd_una == iss + 1 && e.data_sent => out.send(flags("PA"), iss + 1, e.rcv_nxt, 1),
        _ => out.send(flags("FA"), e.fin_seq(), e.rcv_nxt, 0),
    }
}

// --- SEGMENT ARRIVES, RFC 9293 §3.10.7 ---------------------------------------

/// Processes `s` at `e` (whose peer is `peer`). Returns false when it
/// accepted something outside its receive window or something the peer
/// never sent (checked apart from the acceptance logic itself).
fn segment_arrives(cfg: &TcpConfig, e: &mut End, peer: &End, s: &Segment, out: &mut Out) -> bool {
    use TcpState::*;
    let f = s.flags;
    match e.state {
        Closed => {
            e.history.refused |= !e.opened;
            // §3.10.7.1: a non-RST segment gets a RST.
            if !f.rst {
                if f.ack {
                    out.send(flags("R"), s.ack, 0, 0);
                } else {
                    out.send(flags("RA"), 0, s.seq + s.seg_len(), 0);
                }
            }
            true
        }
        Listen => {
            // §3.10.7.2: RST ignored; an ACK gets <SEQ=SEG.ACK><CTL=RST>;
            // a SYN starts a connection; anything else (a FIN alone, no
            // flags) is dropped ("fourth, other text or control").
            if f.rst {
            } else if f.ack {
                out.send(flags("R"), s.ack, 0, 0);
            } else if f.syn {
                e.rcv_nxt = s.seq + 1;
                e.peer_inc = s.inc;
                // "Any other control or text should be queued for
                // processing later": the SYN-ACK acknowledges the SYN alone.
                // A FIN on the SYN (SYN+FIN, which only the harness sends)
                // is such a control; the run ends with the SYN-ACK, so the
                // model does not carry it further.
                if s.len > 0 {
                    e.history.got_syn_data = true;
                    e.syn_data.pending = true;
                    e.syn_data.queued = cfg.queue_syn_data;
                }
                e.snd_una = e.iss;
                e.snd_nxt = e.iss + 1;
                out.send(flags("SA"), e.iss, e.rcv_nxt, 0);
                if cfg.variant == Some(Variant::TwoWayHandshake) {
                    // The SYN alone opens the connection.
                    e.set_state(Established);
                } else {
                    e.set_state(SynReceived);
                }
            }
            true
        }
        SynSent => {
            // §3.10.7.3: the ACK is acceptable if SND.UNA < SEG.ACK =< SND.NXT
            // (with data on the SYN, the peer may acknowledge the SYN alone).
            let ack_ok = f.ack && e.snd_una < s.ack && s.ack <= e.snd_nxt;
            if f.ack && !ack_ok {
                // An ACK of something never sent: <SEQ=SEG.ACK><CTL=RST>.
                if !f.rst {
                    out.send(flags("R"), s.ack, 0, 0);
                }
                // Linux: "Previous FIN/ACK or RST/ACK might be ignored":
                // the SYN goes out again at once, a retransmission the RTO
                // backs off from.
                if cfg.syn_sent_resend_syn && e.retries == 0 {
                    e.retries += 1;
                    out.send_after(flags("S"), e.iss, 0, 0);
                }
                return true;
            }
            if f.rst {
                if ack_ok {
                    e.set_state(Closed);
                }
                return true;
            }
            if f.syn {
                e.rcv_nxt = s.seq + 1;
                e.peer_inc = s.inc;
                if ack_ok {
                    // Our SYN is acknowledged: ESTABLISHED, ACK the peer's SYN.
                    e.snd_una = s.ack;
                    e.retries = 0;
                    e.set_state(Established);
                    out.ack(e);
                } else {
                    // Simultaneous open: SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
                    // "If there are other controls or text in the segment,
                    // queue them for processing after the ESTABLISHED state
                    // has been reached": a FIN on the SYN (the harness's
                    // SYN+FIN) is acknowledged no sooner; the run ends here.
                    e.retries = 0;
                    e.set_state(SynReceived);
                    out.send(flags("SA"), e.iss, e.rcv_nxt, 0);
                }
            }
            // Fifth: neither SYN nor RST (a FIN alone, no flags): drop.
            true
        }
        _ => synchronized_arrives(cfg, e, peer, s, out),
    }
}

/// §3.10.7.4 acceptability: the four cases of the table.
fn acceptable(e: &End, s: &Segment) -> bool {
    let in_wnd = |x: u8| e.rcv_nxt <= x && x < e.rcv_nxt + RCV_WND;
    if s.seg_len() == 0 {
        in_wnd(s.seq)
    } else {
        in_wnd(s.seq) || in_wnd(s.seq + s.seg_len() - 1)
    }
}

fn synchronized_arrives(
    cfg: &TcpConfig,
    e: &mut End,
    peer: &End,
    s: &Segment,
    out: &mut Out,
) -> bool {
    use TcpState::*;
    let f = s.flags;
    if cfg.ack_required && !f.ack && !f.rst {
        // smoltcp: "expecting an ACK", before the sequence number is looked at.
        return true;
    }
    if cfg.old_ack_drops_segment && f.ack && !f.rst && e.state != SynReceived && s.ack < e.snd_una {
        // smoltcp: "duplicate ACK", the whole segment dropped.
        return true;
    }
    // RFC 9293 §3.10.7.4 MAY-2, RFC 6191: in TIME-WAIT, a SYN whose
    // sequence number is above RCV.NXT (so no old duplicate can be taken
    // for the new connection's) reopens it, with an ISN above every number
    // the old incarnation used. Only a connection from a passive OPEN has a
    // listener behind it to take the new connection, as a server
    // application keeps its listening socket (Linux: `TCP_TW_SYN` in
    // `tcp_v4_rcv` looks up a listener, and without one answers with the
    // TIME-WAIT ACK); an active opener's TIME-WAIT answers with an ACK.
    if cfg.time_wait_reopen
        && e.passive
        && e.state == TimeWait
        && f.syn
        && !f.ack
        && !f.rst
        && s.seq > e.rcv_nxt
    {
        e.reincarnate(cfg.variant == Some(Variant::FixedIsn));
        e.opened = true;
        // The new connection came through the listener: a RST in its
        // SYN-RECEIVED returns to LISTEN.
        e.passive = true;
        e.rcv_nxt = s.seq + 1;
        e.peer_inc = s.inc;
        e.snd_una = e.iss;
        e.snd_nxt = e.iss + 1;
        out.send(flags("SA"), e.iss, e.rcv_nxt, 0);
        e.set_state(SynReceived);
        return true;
    }
    // First, check the sequence number.
    if !acceptable(e, s) {
        // An unacceptable segment gets an ACK, unless it is a RST.
        if !f.rst {
            out.ack(e);
        }
        return true;
    }
    // Second, the RST bit: in the window, it resets; with RFC 5961 only at
    // exactly RCV.NXT, elsewhere in the window it gets a challenge ACK
    // (RFC 5961 §3.2). With RFC 1337, TIME-WAIT ignores it.
    if f.rst {
        if cfg.rfc1337 && e.state == TimeWait {
            return true;
        }
        if cfg.rfc5961 && s.seq != e.rcv_nxt {
            out.ack(e);
            return true;
        }
        e.history.reset_while_closing |= matches!(e.state, Closing | LastAck);
        if e.state == SynReceived && e.passive {
            e.set_state(Listen);
        } else {
            e.set_state(Closed);
        }
        return true;
    }
    // Fourth, the SYN bit. In SYN-RECEIVED from a passive OPEN the
    // connection returns to LISTEN, if the SYN lies in the window: the first
    // check trims off what lies outside it, SYN included, so a duplicate of
    // a SYN that carried data goes on as that data alone. In the other
    // states a SYN gets a challenge ACK "irrespective of the sequence
    // number" (RFC 5961 §4.2, adopted by RFC 9293).
    if f.syn {
        if e.state == SynReceived && e.passive {
            if s.seq >= e.rcv_nxt {
                e.set_state(Listen);
                return true;
            }
        } else {
            out.ack(e);
            return true;
        }
    }
    // Fifth, the ACK field.
    if !f.ack {
        return true;
    }
    let mut must_ack = false;
    let mut ok = true;
    match e.state {
        SynReceived => {
            if e.snd_una < s.ack && s.ack <= e.snd_nxt {
                e.snd_una = s.ack;
                e.retries = 0;
                e.set_state(Established);
                // The text queued from the SYN is processed now, ahead of
                // this segment's (RFC 9293 §3.10.7.2, seventh step).
                if std::mem::take(&mut e.syn_data.queued) {
                    ok &= accepted_inside_window(e, peer, e.rcv_nxt, 1);
                    e.rcv_nxt += 1;
                    e.delivered += 1;
                    e.syn_data.pending = false;
                    must_ack = true;
                }
            } else {
                out.send(flags("R"), s.ack, 0, 0);
                return true;
            }
        }
        TimeWait => {}
        _ => {
            if s.ack > e.snd_nxt {
                // Acknowledges something not yet sent: ACK and drop.
                out.ack(e);
                return true;
            }
            if s.ack > e.snd_una {
                e.snd_una = s.ack;
                e.retries = 0;
            }
            match e.state {
                FinWait1 if e.fin_acked() => e.set_state(FinWait2),
                Closing if e.fin_acked() => e.set_state(TimeWait),
                LastAck if e.fin_acked() => {
                    e.set_state(Closed);
                    return true;
                }
                _ => {}
            }
        }
    }
    // Seventh, the segment text: in order only (an in-window segment past
    // RCV.NXT is not queued, it gets an ACK).
    let mut next = s.seq;
    if s.len > 0 {
        match e.state {
            Established | FinWait1 | FinWait2 => {
                if s.seq == e.rcv_nxt {
                    ok &= accepted_inside_window(e, peer, s.seq, s.len);
                    e.history.took_old_duplicate |= s.inc != e.peer_inc;
                    e.rcv_nxt += s.len;
                    e.delivered += s.len;
                    e.syn_data.pending = false;
                    next = e.rcv_nxt;
                } else {
                    next = u8::MAX;
                }
                must_ack = true;
            }
            // After the peer's FIN: ignore the segment text.
            _ => next = u8::MAX,
        }
    }
    // Eighth, the FIN bit.
    if f.fin {
        if next == e.rcv_nxt && s.seq + s.len == e.rcv_nxt {
            ok &= accepted_inside_window(e, peer, e.rcv_nxt, 1);
            e.history.took_old_duplicate |= s.inc != e.peer_inc;
            e.rcv_nxt += 1;
            match e.state {
                SynReceived | Established => e.set_state(CloseWait),
                FinWait1 => e.set_state(if e.fin_acked() { TimeWait } else { Closing }),
                FinWait2 => e.set_state(TimeWait),
                // CLOSE-WAIT, CLOSING, LAST-ACK: remain. TIME-WAIT: ACK it
                // and restart the 2 MSL timeout.
                _ => {}
            }
            must_ack = true;
        } else {
            // A FIN not taken: ACKed (RFC 5681 §4.2), unless it carries no
            // data and the stack ignores it (smoltcp: "ignoring FIN because
            // we don't have full data yet").
            must_ack |= !(cfg.fin_past_hole_silent && s.len == 0);
        }
    }
    if must_ack {
        out.ack(e);
    }
    ok
}

/// The independent check behind `no_segment_accepted_outside_window`:
/// the bytes [seq, seq+len) must start at RCV.NXT, lie inside the receive
/// window and have been sent by the peer.
fn accepted_inside_window(e: &End, peer: &End, seq: u8, len: u8) -> bool {
    seq == e.rcv_nxt && seq + len <= e.rcv_nxt + RCV_WND && seq + len <= peer.snd_nxt
}

/// The check behind `no_forbidden_segment`: which segments a state may
/// send, read off the RFC 9293 §3.3.2 diagram and §3.10, apart from the
/// code that sends them.
fn segment_allowed(before: TcpState, after: TcpState, e: &End, s: &Segment) -> bool {
    use TcpState::*;
    let f = s.flags;
    if f.rst {
        // A RST can answer anything, or abort a connection.
        return !f.syn && !f.fin && s.len == 0;
    }
    if f.syn {
        // SYN only opening: from CLOSED (connect), LISTEN, SYN-SENT,
        // SYN-RECEIVED, or TIME-WAIT reopened by a new SYN (MAY-2).
        // It carries data only as a client's first SYN with data.
        return (matches!(before, Closed | Listen | SynSent | SynReceived)
            || (before == TimeWait && after == SynReceived))
            && matches!(after, SynSent | SynReceived)
            && (s.len == 0 || (before == Closed && e.data_sent))
            && !f.fin;
    }
    if matches!(before, Closed | Listen) {
        return false;
    }
    if !f.ack {
        return false;
    }
    if s.len > 0 && !(e.data_sent && e.history.was_established) {
        return false;
    }
    // A FIN only when the application closed.
    !f.fin || e.app_closed
}

// --- The model ----------------------------------------------------------------

impl Model for TcpModel {
    type State = World;
    type Action = Action;

    fn init_states(&self) -> Vec<World> {
        [false, true]
            .into_iter()
            .map(|server_absent| World {
                ends: [End::new(), End::new()],
                net: Vec::new(),
                lost: 0,
                duplicated: 0,
                violations: 0,
                server_absent,
                probed: false,
            })
            .collect()
    }

    fn actions(&self, w: &World, actions: &mut Vec<Action>) {
        self.enabled_actions(w, actions)
    }

    fn next_state(&self, w: &World, action: Action) -> Option<World> {
        self.step(w, action).map(|(w, _)| w)
    }

    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut v = vec![
            Property::always(
                "handshake_completes_on_a_fair_channel",
                |m: &TcpModel, w: &World| {
                    // RFC 9293 §3.5: with nothing lost and nobody giving up
                    // early, both ends reach ESTABLISHED.
                    !m.is_terminal(w)
                        || w.lost > 0
                        || w.ends
                            .iter()
                            .any(|e| e.history.aborted || e.history.refused)
                        || w.ends.iter().all(|e| e.history.was_established)
                },
            ),
            Property::always(
                "no_segment_accepted_outside_window",
                |_: &TcpModel, w: &World| w.violations & violation::ACCEPT_OUTSIDE_WINDOW == 0,
            ),
            Property::always("clean_close_reaches_closed", |m: &TcpModel, w: &World| {
                // RFC 9293 §3.6: when both applications CLOSE and nothing
                // aborts or gives up, both ends reach CLOSED.
                let clean = w
                    .ends
                    .iter()
                    .all(|e| e.app_closed && !e.history.aborted && !e.history.gave_up);
                !clean || !m.is_terminal(w) || w.ends.iter().all(|e| e.state == TcpState::Closed)
            }),
            Property::always("closing_end_never_reset", |_: &TcpModel, w: &World| {
                // RFC 9293 §3.6: an end that closed (CLOSING, LAST-ACK) is
                // not met with a RST unless somebody aborted or gave up.
                w.ends
                    .iter()
                    .any(|e| e.history.aborted || e.history.gave_up)
                    || w.ends.iter().all(|e| !e.history.reset_while_closing)
            }),
            Property::always("sent_data_is_delivered", |m: &TcpModel, w: &World| {
                // RFC 9293 §3.6 (half-close): when nothing aborts or gives
                // up, every byte an application sent reaches the peer's
                // application, also bytes sent after the peer's FIN.
                !m.is_terminal(w)
                    || w.ends.iter().any(|e| e.history.aborted || e.history.gave_up)
                    || (0..2).all(|i| {
                        let (e, peer) = (&w.ends[i], &w.ends[1 - i]);
                        !peer.history.dropped_data && e.delivered == peer.data_sent as u8
                    })
                    // Refused: the SYN's data went nowhere (RFC 9293 §3.10.7.1).
                    || w.ends.iter().any(|e| e.history.refused)
            }),
            Property::always(
                "no_data_delivered_before_the_handshake",
                |_: &TcpModel, w: &World| {
                    // RFC 9293 §3.10.7.2: the text of a SYN is queued (or
                    // dropped), never handed up before ESTABLISHED.
                    w.ends
                        .iter()
                        .all(|e| e.delivered == 0 || e.history.was_established)
                },
            ),
            Property::always("no_forbidden_segment", |_: &TcpModel, w: &World| {
                w.violations & violation::FORBIDDEN_SEGMENT == 0
            }),
            Property::always("no_old_duplicate_accepted", |_: &TcpModel, w: &World| {
                // RFC 9293 §3.4.1, §3.4.2: no data or FIN of an earlier
                // incarnation is taken for the current one's.
                w.ends.iter().all(|e| !e.history.took_old_duplicate)
            }),
            Property::always(
                "no_connection_nobody_asked_for",
                |_: &TcpModel, w: &World| {
                    // RFC 9293 §3.5 (figure 8): an old duplicate SYN does
                    // not open a connection.
                    w.ends.iter().all(|e| !e.history.established_unasked)
                },
            ),
            Property::sometimes("both_established", |_: &TcpModel, w: &World| {
                w.ends.iter().all(|e| e.state == TcpState::Established)
            }),
            Property::sometimes("simultaneous_close", |_: &TcpModel, w: &World| {
                w.ends.iter().all(|e| e.state == TcpState::Closing)
            }),
            Property::sometimes("half_close_delivers_data", |_: &TcpModel, w: &World| {
                // Data from the CLOSE-WAIT side reaches the side whose FIN it
                // already acknowledged.
                w.ends.iter().any(|e| {
                    matches!(e.state, TcpState::FinWait2 | TcpState::TimeWait) && e.delivered > 0
                }) && w.ends.iter().any(|e| e.state == TcpState::LastAck)
            }),
            Property::sometimes(
                "time_wait_reacks_a_retransmitted_fin",
                |_: &TcpModel, w: &World| w.ends.iter().any(|e| e.history.reacked_in_time_wait),
            ),
        ];
        if self.cfg.simultaneous_open {
            v.push(Property::sometimes(
                "simultaneous_open",
                |_: &TcpModel, w: &World| w.ends.iter().all(|e| e.state == TcpState::SynReceived),
            ));
        }
        if self.cfg.incarnations {
            v.push(Property::sometimes(
                "second_incarnation_established",
                |_: &TcpModel, w: &World| {
                    w.ends
                        .iter()
                        .all(|e| e.incarnation == 1 && e.state == TcpState::Established)
                },
            ));
        }
        if self.cfg.client_syn_data {
            v.push(Property::sometimes(
                "data_on_syn_delivered_after_the_handshake",
                |_: &TcpModel, w: &World| {
                    w.ends.iter().any(|e| {
                        e.history.got_syn_data && e.delivered > 0 && e.history.was_established
                    })
                },
            ));
        }
        if self.cfg.incarnations && self.cfg.time_wait_reopen {
            v.push(Property::sometimes(
                "time_wait_reopened_by_a_new_syn",
                |_: &TcpModel, w: &World| {
                    w.ends[SERVER].incarnation == 1
                        && w.ends[SERVER].state == TcpState::SynReceived
                        && !w.ends[SERVER].passive
                },
            ));
        }
        v
    }
}

impl TcpModel {
    /// No action is enabled: the run is over.
    pub fn is_terminal(&self, w: &World) -> bool {
        let mut v = Vec::new();
        self.enabled_actions(w, &mut v);
        v.is_empty()
    }
}

/// The RFC section each property checks.
pub fn property_rfc(name: &str) -> &'static str {
    match name {
        "handshake_completes_on_a_fair_channel" => "RFC 9293 §3.5",
        "no_segment_accepted_outside_window" => "RFC 9293 §3.10.7.4",
        "clean_close_reaches_closed" => "RFC 9293 §3.6",
        "closing_end_never_reset" => "RFC 9293 §3.6",
        "no_forbidden_segment" => "RFC 9293 §3.3.2",
        "sent_data_is_delivered" => "RFC 9293 §3.6",
        "both_established" => "RFC 9293 §3.5",
        "simultaneous_open" => "RFC 9293 §3.5, figure 7",
        "simultaneous_close" => "RFC 9293 §3.6, figure 13",
        "half_close_delivers_data" => "RFC 9293 §3.6 (half-close)",
        "time_wait_reacks_a_retransmitted_fin" => "RFC 9293 §3.10.7.4 (TIME-WAIT)",
        "no_old_duplicate_accepted" => "RFC 9293 §3.4.1, §3.4.2",
        "no_connection_nobody_asked_for" => "RFC 9293 §3.5, figure 8",
        "second_incarnation_established" => "RFC 9293 §3.4.1",
        "time_wait_reopened_by_a_new_syn" => "RFC 9293 §3.10.7.4 MAY-2, RFC 6191",
        "no_data_delivered_before_the_handshake" => "RFC 9293 §3.10.7.2",
        "data_on_syn_delivered_after_the_handshake" => "RFC 9293 §3.10.7.2, RFC 7413 §3",
        _ => "",
    }
}
