//! The trace format `tracewright/1`: the one contract between the model (which
//! writes traces) and the replay engine (which reads them).
//!
//! A trace is a path of the model projected onto one endpoint, the
//! implementation under test (IUT). The harness plays the other endpoint and
//! the network. Sequence numbers are relative: a `send` step's `seq` counts
//! from the harness's ISN and its `ack` from the IUT's ISN; an `expect`
//! pattern's `seq` counts from the IUT's ISN and its `ack` from the harness's.
//! The replay engine learns the IUT's ISN from the first SYN it emits.
//!
//! Several harness peers. A listener trace (`iut: listener`) has more than
//! one peer: a `send` and an expect pattern may name one with `peer: N`, the
//! harness port `HARNESS_PORT + N` (absent: `peer: 0`, the usual peer, so a
//! trace with one peer never writes it). Each peer's numbers are relative to
//! that peer's ISNs: the harness uses one ISN for all its peers, the IUT's ISN
//! is learnt per peer from the first SYN the IUT sends to that peer (a
//! listener picks one per connection, RFC 9293 §3.4.1). An `expect` consumes
//! the earliest segment the IUT emitted to a peer its patterns name:
//! segments to different peers may come in any order (a listener that
//! retransmits two SYN-ACKs at the same instant may send either first).
//!
//! ```yaml
//! iut: listener
//! steps:
//!   - app: listen
//!   - send: {flags: S, seq: 0, peer: 1}
//!   - expect: {any_of: [{flags: SA, seq: 0, ack: 1, peer: 1}]}
//!   - app: accept
//! ```
//!
//! ```yaml
//! format: tracewright/1
//! id: tcp-server-time-wait-recv-fin
//! protocol: tcp
//! iut: server
//! profile: rfc9293
//! variant: null
//! description: ...
//! covers:
//!   - {state: TIME-WAIT, event: recv FIN, next: TIME-WAIT, output: A}
//! steps:
//!   - app: listen
//!   - send: {flags: S, seq: 0, win: 65535}
//!   - expect: {any_of: [{flags: SA, seq: 0, ack: 1}]}
//!   - wait: rto(0)
//!   - state: TIME-WAIT
//! ```
//!
//! Semantics a target's replay relies on:
//! - `expect` consumes the next segment the IUT emitted and checks it against
//!   the patterns of `any_of`. The first pattern is the one the trace goes on
//!   with; a segment matching only another pattern is a path the model allows
//!   but this trace does not follow (inconclusive). Fields a pattern leaves
//!   out are unconstrained, except `len`, which defaults to 0. The PSH flag is
//!   never constrained.
//! - Any segment the IUT emits that no `expect` consumes before the next
//!   `send`, `app` or `wait` step, or before the end, is a failure: the model
//!   allows nothing there.
//! - `wait: D` lets D of time pass; a segment the IUT emits before D has fully
//!   passed is early (a failure); one emitted at D is for the next `expect`.
//! - `state: S` checks the IUT's RFC state where the target can tell.
//! - Sequence numbers are relative to each side's first ISN. A pattern with
//!   `new_isn: true` is the SYN of a new incarnation of the connection on
//!   the same address pair: its sequence number must lie above every number
//!   the IUT used before (RFC 9293 §3.4.1; MAY-2 for a TIME-WAIT reopened),
//!   and from the pattern's `seq` up, IUT numbers count from it. Lower
//!   numbers (an old duplicate's ACK) still count from the earlier ISN.
//! - `win: wnd` in a pattern checks the window the segment advertises: the
//!   harness learns the IUT's receive window from its SYN or SYN-ACK (which
//!   must offer more than zero), and the right edge SEG.ACK + SEG.WND of
//!   every later segment must not lie left of what the IUT advertised
//!   before (RFC 9293 §3.8.6.2.2, SHLD-14). `win: N` asks for exactly N.
//!   Without `win` the window is not checked (RSTs, older traces).
//! - `wnd_edge: last` or `wnd_edge: past` in a `send` puts its sequence
//!   number at the last number inside the receive window the IUT advertised
//!   (RCV.NXT+RCV.WND-1) or just past it (RCV.NXT+RCV.WND), wherever the
//!   IUT's window lies: the harness takes the largest right edge SEG.ACK +
//!   SEG.WND the IUT advertised. `seq` then says RCV.NXT, for the reader.
//! - `refused: CALL` makes an application call the IUT must refuse: an
//!   OPEN (`connect`) on an address pair a connection still holds gets
//!   "error: connection already exists" (RFC 9293 §3.10.1), in TIME-WAIT
//!   until 2·MSL has passed. A call accepted is a failure; a target that
//!   cannot tell makes the trace inconclusive.
//! - `app: close_unread` is CLOSE with received data unread by an
//!   application that reads no more (half-duplex close, RFC 9293 §3.6.1
//!   MAY-1, SHLD-2); `app: shutdown_read` stops the application reading
//!   (the sockets API's `shutdown(SHUT_RD)`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The format tag every trace carries.
pub const FORMAT: &str = "tracewright/1";

/// One trace file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trace {
    /// Always [`FORMAT`].
    pub format: String,
    /// Stable id, derived from what the trace covers; also the file stem.
    pub id: String,
    pub protocol: Protocol,
    /// The role of the implementation under test.
    pub iut: Role,
    /// The profile whose parameters the trace was generated with.
    pub profile: String,
    /// The model variant (`null` for the unmodified model).
    pub variant: Option<String>,
    /// One line for a person: what the trace exercises.
    pub description: String,
    /// Abstract transitions of the IUT's side that this trace covers.
    pub covers: Vec<Transition>,
    #[serde(with = "serde_yaml::with::singleton_map_recursive")]
    pub steps: Vec<Step>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    H2,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::H2 => "h2",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Client,
    Server,
    /// A listening endpoint with its half-open (SYN) and accept queues,
    /// facing several harness peers (`traces/tcp-listener`).
    Listener,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Client => "client",
            Role::Server => "server",
            Role::Listener => "listener",
        })
    }
}

/// An abstract transition of the IUT's side of the model: coverage is
/// counted in these. `output` is the kind of segment emitted (`SA`, `A`,
/// `FA`, `R`, `PA`, …) or `-` for none.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub state: String,
    pub event: Event,
    pub next: String,
    pub output: String,
}

/// What a transition of the IUT's side reacts to, TCP or HTTP/2. A trace
/// writes it as text (`app close`, `recv FA (old incarnation)`,
/// `recv HEADERS END_STREAM`, `rto (retries exhausted)`), exactly as
/// [`fmt::Display`] spells it; [`FromStr`] reads that text back.
///
/// Events are ordered by their text, so a coverage record lists its
/// transitions in the same order whatever the type's layout.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A call of the IUT's application: `app <call>[ (<qualifier>)]`.
    App {
        call: Call,
        qualifier: Option<Qualifier>,
    },
    /// Something the IUT received: `recv <what>[ (<qualifier>)]…`. `what`
    /// is a segment's flags (`FA`, `SP`) or an HTTP/2 frame's type with the
    /// flags and faults that set it apart (`HEADERS END_STREAM`,
    /// `WINDOW_UPDATE +0`, `DATA on stream 0`); it holds no parentheses.
    Recv {
        what: String,
        qualifiers: Vec<Qualifier>,
    },
    /// A timer of the IUT expired: `rto`, `2msl`.
    Timer {
        timer: Timer,
        qualifier: Option<Qualifier>,
    },
}

/// The application calls an event names (`app listen`, `app end stream`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    Listen,
    Connect,
    Send,
    Close,
    Abort,
    Accept,
    /// HTTP/2: a client opens a stream with a request's headers.
    Request,
    /// HTTP/2: a server answers with a response's headers.
    Respond,
    Data,
    /// HTTP/2: an empty DATA frame that ends the stream.
    EndStream,
    Reset,
    Push,
    Goaway,
    /// TCP: the application will read no more (the sockets API's
    /// `shutdown(SHUT_RD)`; RFC 9293 has no such call).
    ShutdownRead,
}

impl Call {
    const ALL: [Call; 14] = [
        Call::Listen,
        Call::Connect,
        Call::Send,
        Call::Close,
        Call::Abort,
        Call::Accept,
        Call::Request,
        Call::Respond,
        Call::Data,
        Call::EndStream,
        Call::Reset,
        Call::Push,
        Call::Goaway,
        Call::ShutdownRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Call::Listen => "listen",
            Call::Connect => "connect",
            Call::Send => "send",
            Call::Close => "close",
            Call::Abort => "abort",
            Call::Accept => "accept",
            Call::Request => "request",
            Call::Respond => "respond",
            Call::Data => "data",
            Call::EndStream => "end stream",
            Call::Reset => "reset",
            Call::Push => "push",
            Call::Goaway => "goaway",
            Call::ShutdownRead => "shutdown read",
        }
    }
}

/// The timers an event names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// The retransmission timer (RFC 6298 §5.4).
    Rto,
    /// The TIME-WAIT timer (RFC 9293 §3.6.1).
    TwoMsl,
}

impl Timer {
    pub fn name(self) -> &'static str {
        match self {
            Timer::Rto => "rto",
            Timer::TwoMsl => "2msl",
        }
    }
}

/// The circumstance that makes an event a transition of its own, written
/// in parentheses after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Qualifier {
    /// The segment belongs to an incarnation its sender has left behind.
    OldIncarnation,
    /// The data of the peer's SYN has not reached the application yet.
    DataOnSynPending,
    /// A listener's half-open (SYN) queue is full.
    HalfOpenQueueFull,
    /// A listener's accept queue is full.
    AcceptQueueFull,
    /// The ACK completes a connection from a SYN cookie.
    Cookie,
    /// The ACK carries a valid SYN cookie, but the accept queue is full.
    CookieAcceptQueueFull,
    /// The timer gives up: the retransmissions are exhausted.
    RetriesExhausted,
    /// HTTP/2: the frame the call sends ends the stream.
    EndStream,
    /// TCP: the segment arrives in TIME-WAIT after half of 2·MSL has
    /// passed there, so a FIN it carries restarts the timer well past the
    /// original deadline (RFC 9293 §3.10.7.4).
    LateInTimeWait,
    /// TCP: a segment the harness crafts (no peer's state machine sends
    /// it) with its sequence number exactly RCV.NXT.
    AtRcvNxt,
    /// TCP: the same at RCV.NXT+1, inside the window but not next.
    PastRcvNxt,
    /// TCP: its ACK field acknowledges something not yet sent
    /// (SEG.ACK > SND.NXT, RFC 9293 §3.10.7.3, §3.10.7.4 fifth).
    AckAboveSndNxt,
    /// TCP: a crafted segment at the last sequence number inside the
    /// receive window the IUT advertised, RCV.NXT+RCV.WND-1 (RFC 9293
    /// §3.10.7.4: acceptable).
    LastInWindow,
    /// TCP: a crafted segment just past the receive window,
    /// RCV.NXT+RCV.WND (RFC 9293 §3.10.7.4: not acceptable).
    PastWindow,
    /// TCP: an OPEN on an address pair a connection still holds (RFC 9293
    /// §3.10.1: "error: connection already exists").
    ConnectionExists,
    /// TCP: an OPEN on the address pair whose TIME-WAIT refused the last
    /// one, now that 2·MSL has passed (RFC 9293 §3.6.1).
    AfterTimeWait,
    /// TCP: a CLOSE while data the IUT received is still unread (RFC 9293
    /// §3.6.1 MAY-1, SHLD-2; RFC 1122 §4.2.2.13).
    DataUnread,
    /// A listener's SYN that takes the accept-queue slot a connection held
    /// until a RST reset it and accept() took it (RFC 9293 §3.10.7.4: the
    /// reset connection is gone; when its slot frees the RFC leaves open).
    AfterQueuedReset,
}

impl Qualifier {
    const ALL: [Qualifier; 18] = [
        Qualifier::OldIncarnation,
        Qualifier::DataOnSynPending,
        Qualifier::HalfOpenQueueFull,
        Qualifier::AcceptQueueFull,
        Qualifier::Cookie,
        Qualifier::CookieAcceptQueueFull,
        Qualifier::RetriesExhausted,
        Qualifier::EndStream,
        Qualifier::LateInTimeWait,
        Qualifier::AtRcvNxt,
        Qualifier::PastRcvNxt,
        Qualifier::AckAboveSndNxt,
        Qualifier::LastInWindow,
        Qualifier::PastWindow,
        Qualifier::ConnectionExists,
        Qualifier::AfterTimeWait,
        Qualifier::DataUnread,
        Qualifier::AfterQueuedReset,
    ];

    pub fn text(self) -> &'static str {
        match self {
            Qualifier::OldIncarnation => "old incarnation",
            Qualifier::DataOnSynPending => "data on SYN pending",
            Qualifier::HalfOpenQueueFull => "half-open queue full",
            Qualifier::AcceptQueueFull => "accept queue full",
            Qualifier::Cookie => "cookie",
            Qualifier::CookieAcceptQueueFull => "cookie, accept queue full",
            Qualifier::RetriesExhausted => "retries exhausted",
            Qualifier::EndStream => "END_STREAM",
            Qualifier::LateInTimeWait => "late in TIME-WAIT",
            Qualifier::AtRcvNxt => "at RCV.NXT",
            Qualifier::PastRcvNxt => "at RCV.NXT+1",
            Qualifier::AckAboveSndNxt => "ack above SND.NXT",
            Qualifier::LastInWindow => "at RCV.NXT+RCV.WND-1",
            Qualifier::PastWindow => "at RCV.NXT+RCV.WND",
            Qualifier::ConnectionExists => "connection exists",
            Qualifier::AfterTimeWait => "after TIME-WAIT",
            Qualifier::DataUnread => "data unread",
            Qualifier::AfterQueuedReset => "after a queued reset",
        }
    }

    /// The listener could not take the segment or keep the connection:
    /// it was dropped.
    pub fn drops(self) -> bool {
        matches!(
            self,
            Qualifier::HalfOpenQueueFull
                | Qualifier::AcceptQueueFull
                | Qualifier::CookieAcceptQueueFull
                | Qualifier::RetriesExhausted
        )
    }
}

impl Event {
    pub fn app(call: Call) -> Event {
        Event::App {
            call,
            qualifier: None,
        }
    }

    pub fn recv(what: impl Into<String>) -> Event {
        Event::Recv {
            what: what.into(),
            qualifiers: Vec::new(),
        }
    }

    pub fn timer(timer: Timer) -> Event {
        Event::Timer {
            timer,
            qualifier: None,
        }
    }

    /// The event with `q` added.
    pub fn with(mut self, q: Qualifier) -> Event {
        match &mut self {
            Event::App { qualifier, .. } | Event::Timer { qualifier, .. } => *qualifier = Some(q),
            Event::Recv { qualifiers, .. } => qualifiers.push(q),
        }
        self
    }

    /// Its qualifiers, in the order they are written.
    pub fn qualifiers(&self) -> &[Qualifier] {
        match self {
            Event::App { qualifier, .. } | Event::Timer { qualifier, .. } => qualifier.as_slice(),
            Event::Recv { qualifiers, .. } => qualifiers,
        }
    }

    /// The column of the report's state-machine matrix: the call
    /// (`end` for `end stream`), the segment's flags or the frame's type
    /// (its qualifiers and details counted with it, so the matrix stays one
    /// screen wide), or the whole timer event.
    pub fn column(&self) -> String {
        let first_word = |s: &str| s.split(' ').next().unwrap_or("").to_string();
        match self {
            Event::App { call, .. } => first_word(call.name()),
            Event::Recv { what, .. } => first_word(what),
            Event::Timer { .. } => self.to_string(),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::App { call, .. } => write!(f, "app {}", call.name())?,
            Event::Recv { what, .. } => write!(f, "recv {what}")?,
            Event::Timer { timer, .. } => f.write_str(timer.name())?,
        }
        for q in self.qualifiers() {
            write!(f, " ({})", q.text())?;
        }
        Ok(())
    }
}

impl FromStr for Event {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        // Qualifiers are read off the end: `recv A (old incarnation)`.
        let mut rest = s;
        let mut qualifiers = Vec::new();
        while let Some(inner) = rest.strip_suffix(')') {
            let Some((head, text)) = inner.rsplit_once(" (") else {
                break;
            };
            let q = Qualifier::ALL
                .into_iter()
                .find(|q| q.text() == text)
                .ok_or_else(|| format!("event `{s}`: unknown qualifier `({text})`"))?;
            qualifiers.insert(0, q);
            rest = head;
        }
        let single = |qualifiers: Vec<Qualifier>| match qualifiers[..] {
            [] => Ok(None),
            [q] => Ok(Some(q)),
            _ => Err(format!(
                "event `{s}`: only a received segment or frame takes more than one qualifier"
            )),
        };
        if let Some(call) = rest.strip_prefix("app ") {
            let call = Call::ALL
                .into_iter()
                .find(|c| c.name() == call)
                .ok_or_else(|| format!("event `{s}`: unknown application call `{call}`"))?;
            return Ok(Event::App {
                call,
                qualifier: single(qualifiers)?,
            });
        }
        if let Some(what) = rest.strip_prefix("recv ") {
            if what.is_empty() || what.contains(['(', ')']) {
                return Err(format!("event `{s}`: `recv` names what was received"));
            }
            return Ok(Event::Recv {
                what: what.to_string(),
                qualifiers,
            });
        }
        let timer = [Timer::Rto, Timer::TwoMsl]
            .into_iter()
            .find(|t| t.name() == rest)
            .ok_or_else(|| {
                format!("unknown event `{s}` (expected `app CALL`, `recv WHAT`, `rto` or `2msl`)")
            })?;
        Ok(Event::Timer {
            timer,
            qualifier: single(qualifiers)?,
        })
    }
}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Event {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} --{}--> {}", self.state, self.event, self.next)?;
        if self.output == "-" {
            f.write_str(" (silent)")
        } else {
            write!(f, " (sends {})", self.output)
        }
    }
}

/// One step of a trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// A call the IUT's application makes.
    App(AppCall),
    /// A segment from the harness to the IUT.
    Send(SegmentSpec),
    /// What the IUT must emit next.
    Expect(Expect),
    /// Time passes.
    Wait(Wait),
    /// The RFC state the IUT must be in now.
    State(TcpState),
    /// How many bytes the IUT's application has received on this
    /// connection by now (checked where the target can tell): data is
    /// delivered in order, once, and not before the handshake completes
    /// (RFC 9293 §3.10.7.2, §3.10.7.4 seventh).
    Delivered(u32),
    /// A call the IUT's application makes, which the IUT must refuse
    /// (`refused: connect`): an OPEN on an address pair a connection still
    /// holds gets "error: connection already exists" (RFC 9293 §3.10.1),
    /// in TIME-WAIT until 2·MSL has passed (§3.6.1). Nothing is sent and
    /// the state stays; a target that cannot tell a refusal from an
    /// accepted call says so (inconclusive).
    Refused(AppCall),
}

/// A call on the IUT's application interface (RFC 9293 §3.10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppCall {
    /// Passive OPEN.
    Listen,
    /// Active OPEN towards the harness.
    Connect,
    /// SEND of this many bytes.
    Send(u32),
    /// CLOSE: no more data from the IUT (a FIN follows queued data).
    Close,
    /// ABORT.
    Abort,
    /// A listener's application takes the oldest connection off the accept
    /// queue (the socket API's accept(); RFC 9293 §3.10.1 leaves the queue
    /// to the implementation).
    Accept,
    /// The application will read no more (the sockets API's
    /// `shutdown(SHUT_RD)`). RFC 9293 has no such call: nothing is sent and
    /// the state stays; what becomes of data arriving later it leaves open.
    #[serde(rename = "shutdown_read")]
    ShutdownRead,
    /// CLOSE in the half-duplex manner (RFC 9293 §3.6.1 MAY-1): the
    /// application reads no more, and what it received and did not read
    /// is lost, so the IUT sends a RST (SHLD-2; RFC 1122 §4.2.2.13). The
    /// sockets API's `close()` while data waits unread. The target must
    /// not have read the data (a trace with it checks no `delivered`).
    #[serde(rename = "close_unread")]
    CloseUnread,
}

impl fmt::Display for AppCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppCall::Listen => f.write_str("listen"),
            AppCall::Connect => f.write_str("connect"),
            AppCall::Send(n) => write!(f, "send({n})"),
            AppCall::Close => f.write_str("close"),
            AppCall::Abort => f.write_str("abort"),
            AppCall::Accept => f.write_str("accept"),
            AppCall::ShutdownRead => f.write_str("shutdown_read"),
            AppCall::CloseUnread => f.write_str("close_unread"),
        }
    }
}

/// A segment the harness sends. `seq` is relative to the harness's ISN;
/// `ack` (present exactly when the A flag is) relative to the IUT's ISN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawSegmentSpec")]
pub struct SegmentSpec {
    pub flags: Flags,
    pub seq: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<u32>,
    /// Advertised window; the harness's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub win: Option<u16>,
    /// Payload length in bytes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub len: u32,
    /// The harness peer that sends it: port `HARNESS_PORT + peer`.
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub peer: u16,
    /// The segment sits at an edge of the receive window the IUT
    /// advertised, wherever that lies: `seq` is then RCV.NXT, for the
    /// reader, and the harness sends at the edge (see [`WndEdge`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wnd_edge: Option<WndEdge>,
}

/// Where a `send` with `wnd_edge` puts its sequence number: the harness
/// takes the right edge of the window the IUT advertised (SEG.ACK +
/// SEG.WND of its segments so far, the largest) and sends at the last
/// number inside it (`last`, RCV.NXT+RCV.WND-1) or at the first past it
/// (`past`, RCV.NXT+RCV.WND). RFC 9293 §3.10.7.4's acceptability test
/// and RFC 5961 §3, §4 differ exactly there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WndEdge {
    Last,
    Past,
}

impl fmt::Display for WndEdge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WndEdge::Last => "last",
            WndEdge::Past => "past",
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegmentSpec {
    flags: Flags,
    seq: u32,
    #[serde(default)]
    ack: Option<u32>,
    #[serde(default)]
    win: Option<u16>,
    #[serde(default)]
    len: u32,
    #[serde(default)]
    peer: u16,
    #[serde(default)]
    wnd_edge: Option<WndEdge>,
}

impl TryFrom<RawSegmentSpec> for SegmentSpec {
    type Error = String;
    fn try_from(raw: RawSegmentSpec) -> Result<Self, String> {
        match (raw.flags.ack, raw.ack) {
            (true, None) => return Err("ack: missing, but the A flag is set".into()),
            (false, Some(_)) => return Err("ack: present, but the A flag is not set".into()),
            _ => {}
        }
        Ok(SegmentSpec {
            flags: raw.flags,
            seq: raw.seq,
            ack: raw.ack,
            win: raw.win,
            len: raw.len,
            peer: raw.peer,
            wnd_edge: raw.wnd_edge,
        })
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_u16(n: &u16) -> bool {
    *n == 0
}

/// What the IUT must emit next: one segment matching one of the patterns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawExpect")]
pub struct Expect {
    pub any_of: Vec<SegmentPattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    any_of: Vec<SegmentPattern>,
}

impl TryFrom<RawExpect> for Expect {
    type Error = String;
    fn try_from(raw: RawExpect) -> Result<Self, String> {
        if raw.any_of.is_empty() {
            return Err("any_of: empty; an expectation needs at least one pattern".into());
        }
        Ok(Expect { any_of: raw.any_of })
    }
}

/// A pattern over one emitted segment. `seq` relative to the IUT's ISN,
/// `ack` relative to the harness's ISN; absent fields are unconstrained,
/// except `len` (default 0). PSH is ignored when matching.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentPattern {
    pub flags: Flags,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<u32>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub len: u32,
    /// A SYN of a new incarnation of the connection: its sequence number is
    /// the IUT's new ISN, which must lie above every sequence number the
    /// IUT used before (RFC 9293 §3.4.1, and MAY-2 for a TIME-WAIT
    /// reopened). `seq` then names it: IUT numbers from `seq` up are
    /// relative to it, lower ones to the earlier ISN.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub new_isn: bool,
    /// The harness peer it is sent to: port `HARNESS_PORT + peer`.
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub peer: u16,
    /// The window the segment advertises (RFC 9293 §3.8.6); absent, it is
    /// not checked (traces written before it existed, and RSTs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub win: Option<WindowPattern>,
}

/// What an expected segment's window field must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WindowPattern {
    /// `win: wnd`: the IUT's receive window as it advertised it. The harness
    /// learns it from the IUT's SYN or SYN-ACK (the right edge SEG.ACK +
    /// SEG.WND; on a SYN, 1 + SEG.WND above the harness's ISN); every later
    /// segment's right edge must not lie left of it, as a receiver
    /// "SHOULD NOT shrink the window" (RFC 9293 §3.8.6.2.2, SHLD-14): a
    /// window closed while the application keeps up is a fault. A SYN or
    /// SYN-ACK with `wnd` must advertise a window above zero.
    Wnd,
    /// `win: N`: exactly N.
    Exact(u16),
}

impl fmt::Display for WindowPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WindowPattern::Wnd => f.write_str("wnd"),
            WindowPattern::Exact(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for WindowPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            WindowPattern::Wnd => s.serialize_str("wnd"),
            WindowPattern::Exact(n) => s.serialize_u16(*n),
        }
    }
}

impl<'de> Deserialize<'de> for WindowPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u16),
            S(String),
        }
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom("a window is `wnd` or a number from 0 to 65535")
        })? {
            Raw::N(n) => Ok(WindowPattern::Exact(n)),
            Raw::S(s) if s == "wnd" => Ok(WindowPattern::Wnd),
            Raw::S(s) => Err(serde::de::Error::custom(format!(
                "`{s}` is not a window (expected `wnd` or a number from 0 to 65535)"
            ))),
        }
    }
}

/// TCP control flags, written as letters in the order `S F R P A`
/// (`SA`, `FA`, `RA`, `PA`, `A`, `R`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Flags {
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
    pub ack: bool,
}

impl Flags {
    /// Equal apart from PSH, which no trace constrains.
    pub fn matches(self, other: Flags) -> bool {
        Flags { psh: false, ..self }
            == Flags {
                psh: false,
                ..other
            }
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut any = false;
        for (on, letter) in [
            (self.syn, 'S'),
            (self.fin, 'F'),
            (self.rst, 'R'),
            (self.psh, 'P'),
            (self.ack, 'A'),
        ] {
            if on {
                write!(f, "{letter}")?;
                any = true;
            }
        }
        if !any {
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl FromStr for Flags {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut flags = Flags::default();
        if s == "." {
            return Ok(flags);
        }
        if s.is_empty() {
            return Err("empty flags (write `.` for none)".into());
        }
        for c in s.chars() {
            let slot = match c {
                'S' => &mut flags.syn,
                'F' => &mut flags.fin,
                'R' => &mut flags.rst,
                'P' => &mut flags.psh,
                'A' => &mut flags.ack,
                other => {
                    return Err(format!(
                        "unknown flag `{other}` in `{s}` (flags are letters of S F R P A)"
                    ))
                }
            };
            if *slot {
                return Err(format!("flag `{c}` repeated in `{s}`"));
            }
            *slot = true;
        }
        Ok(flags)
    }
}

impl Serialize for Flags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Flags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A symbolic duration, resolved by the target's profile, so one corpus
/// serves every stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Wait {
    /// `rto(n)`: the retransmission timeout after n backoffs,
    /// initial RTO × 2ⁿ (RFC 6298 §5.5).
    Rto(u32),
    /// `2msl`: the TIME-WAIT period (RFC 9293 §3.6.1).
    TwoMsl,
    /// `ms(n)`: a fixed time.
    Ms(u64),
    /// `before(2msl)`: until just before 2·MSL ends: 1 ms earlier on a
    /// virtual clock, the clock's tolerance earlier on a real one. A silent
    /// timer is checked from both sides: the state it ends must still be
    /// there now, and gone after `after(2msl)`.
    BeforeTwoMsl,
    /// `after(2msl)`: what `before(2msl)` left of 2·MSL, to its end.
    AfterTwoMsl,
    /// `before(rto(n))`: until just before the retransmission timeout
    /// after n backoffs ends, as `before(2msl)`: a give-up is silent, so
    /// the state it ends is checked just before the deadline too.
    BeforeRto(u32),
    /// `after(rto(n))`: what `before(rto(n))` left of it, to its end.
    AfterRto(u32),
    /// `half(2msl)`: half of the TIME-WAIT period passes, so that a FIN
    /// retransmitted now arrives well after TIME-WAIT began and must restart
    /// its 2·MSL (RFC 9293 §3.10.7.4, the eighth check in TIME-WAIT).
    HalfTwoMsl,
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wait::Rto(n) => write!(f, "rto({n})"),
            Wait::TwoMsl => f.write_str("2msl"),
            Wait::Ms(n) => write!(f, "ms({n})"),
            Wait::BeforeTwoMsl => f.write_str("before(2msl)"),
            Wait::AfterTwoMsl => f.write_str("after(2msl)"),
            Wait::BeforeRto(n) => write!(f, "before(rto({n}))"),
            Wait::AfterRto(n) => write!(f, "after(rto({n}))"),
            Wait::HalfTwoMsl => f.write_str("half(2msl)"),
        }
    }
}

impl FromStr for Wait {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a wait (expected `rto(N)`, `2msl` or `ms(N)`)");
        match s {
            "2msl" => return Ok(Wait::TwoMsl),
            "before(2msl)" => return Ok(Wait::BeforeTwoMsl),
            "after(2msl)" => return Ok(Wait::AfterTwoMsl),
            "half(2msl)" => return Ok(Wait::HalfTwoMsl),
            _ => {}
        }
        // `before(rto(N))`, `after(rto(N))`: the two sides of a give-up.
        for (side, make) in [
            ("before(", Wait::BeforeRto as fn(u32) -> Wait),
            ("after(", Wait::AfterRto),
        ] {
            if let Some(inner) = s.strip_prefix(side).and_then(|r| r.strip_suffix(')')) {
                return match inner.parse::<Wait>()? {
                    Wait::Rto(n) => Ok(make(n)),
                    _ => Err(bad()),
                };
            }
        }
        let (name, rest) = s.split_once('(').ok_or_else(bad)?;
        let arg = rest.strip_suffix(')').ok_or_else(bad)?;
        match name {
            "rto" => {
                let n: u32 = arg.parse().map_err(|_| bad())?;
                if n > 16 {
                    return Err(format!("`{s}`: at most 16 backoffs"));
                }
                Ok(Wait::Rto(n))
            }
            "ms" => Ok(Wait::Ms(arg.parse().map_err(|_| bad())?)),
            _ => Err(bad()),
        }
    }
}

impl Serialize for Wait {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Wait {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The eleven states of RFC 9293 §3.3.2, spelled as the RFC spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TcpState {
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

impl TcpState {
    pub const ALL: [TcpState; 11] = [
        TcpState::Closed,
        TcpState::Listen,
        TcpState::SynSent,
        TcpState::SynReceived,
        TcpState::Established,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::CloseWait,
        TcpState::Closing,
        TcpState::LastAck,
        TcpState::TimeWait,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TcpState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        TcpState::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = TcpState::ALL.iter().map(|s| s.name()).collect();
                format!("unknown state `{s}` (expected one of {})", names.join(", "))
            })
    }
}

impl Serialize for TcpState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TcpState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The corpus-wide coverage record `generate` writes beside the traces
/// (`coverage.yaml`): every abstract transition of the IUT's side the
/// model can take, and which trace covers it or why none does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    pub format: String,
    pub protocol: Protocol,
    pub profile: String,
    pub transitions: Vec<CoverageEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageEntry {
    pub role: Role,
    #[serde(flatten)]
    pub transition: Transition,
    /// The id of the trace that covers it (the shortest one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// Why no trace covers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncovered: Option<String>,
}

impl Trace {
    /// The trace as YAML, exactly as `generate` writes it: one step or
    /// transition a line, in flow style, so that a diff of the corpus reads
    /// like the wire. (serde_yaml writes only block style, which spreads a
    /// segment over four lines; the test `to_yaml_round_trips` keeps this
    /// writer and the parser in agreement.)
    pub fn to_yaml(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "format: {}", self.format);
        let _ = writeln!(out, "id: {}", self.id);
        let _ = writeln!(out, "protocol: {}", self.protocol);
        let _ = writeln!(out, "iut: {}", self.iut);
        let _ = writeln!(out, "profile: {}", self.profile);
        match &self.variant {
            Some(v) => writeln!(out, "variant: {v}"),
            None => writeln!(out, "variant: null"),
        }
        .ok();
        let _ = writeln!(out, "description: {}", yaml_scalar(&self.description));
        let _ = writeln!(out, "covers:");
        for t in &self.covers {
            let _ = writeln!(
                out,
                "  - {{state: {}, event: {}, next: {}, output: {}}}",
                t.state,
                yaml_scalar(&t.event.to_string()),
                t.next,
                yaml_scalar(&t.output)
            );
        }
        let _ = writeln!(out, "steps:");
        for step in &self.steps {
            let _ = writeln!(out, "  - {}", step_flow(step));
        }
        out
    }
}

/// A plain scalar when YAML reads it back as the same string, else quoted.
pub(crate) fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " -_().+^".contains(c))
        && !s.starts_with(['-', ' '])
        && !s.ends_with(' ')
        && serde_yaml::from_str::<String>(s).ok().as_deref() == Some(s);
    if plain {
        s.to_string()
    } else {
        format!("{s:?}")
    }
}

fn segment_flow(flags: Flags, fields: &[(&str, Option<u64>)]) -> String {
    let mut parts = vec![format!("flags: {flags}")];
    for (name, value) in fields {
        if let Some(v) = value {
            parts.push(format!("{name}: {v}"));
        }
    }
    format!("{{{}}}", parts.join(", "))
}

fn step_flow(step: &Step) -> String {
    match step {
        Step::App(AppCall::Send(n)) => format!("app: {{send: {n}}}"),
        Step::App(call) => format!("app: {call}"),
        Step::Send(s) => {
            let mut flow = segment_flow(
                s.flags,
                &[
                    ("seq", Some(s.seq.into())),
                    ("ack", s.ack.map(Into::into)),
                    ("win", s.win.map(Into::into)),
                    ("len", (s.len != 0).then_some(s.len.into())),
                    ("peer", (s.peer != 0).then_some(s.peer.into())),
                ],
            );
            if let Some(e) = s.wnd_edge {
                flow.insert_str(flow.len() - 1, &format!(", wnd_edge: {e}"));
            }
            format!("send: {flow}")
        }
        Step::Expect(e) => {
            let pats: Vec<String> = e
                .any_of
                .iter()
                .map(|p| {
                    let mut s = segment_flow(
                        p.flags,
                        &[
                            ("seq", p.seq.map(Into::into)),
                            ("ack", p.ack.map(Into::into)),
                            ("len", (p.len != 0).then_some(p.len.into())),
                            ("peer", (p.peer != 0).then_some(p.peer.into())),
                        ],
                    );
                    if p.new_isn {
                        s.insert_str(s.len() - 1, ", new_isn: true");
                    }
                    if let Some(w) = p.win {
                        s.insert_str(s.len() - 1, &format!(", win: {w}"));
                    }
                    s
                })
                .collect();
            format!("expect: {{any_of: [{}]}}", pats.join(", "))
        }
        Step::Wait(w) => format!("wait: {w}"),
        Step::State(s) => format!("state: {s}"),
        Step::Delivered(n) => format!("delivered: {n}"),
        Step::Refused(call) => format!("refused: {call}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event the committed corpora name reads as a typed value and
    /// prints back as the same text.
    #[test]
    fn events_read_and_print_back() {
        for text in [
            "app listen",
            "app end stream",
            "app data (END_STREAM)",
            "recv FA (old incarnation)",
            "recv SP (data on SYN pending)",
            "recv A (old incarnation) (data on SYN pending)",
            "recv A (cookie, accept queue full)",
            "recv S (half-open queue full)",
            "recv HEADERS END_STREAM without END_HEADERS",
            "recv WINDOW_UPDATE +2^31-1",
            "recv FIN",
            "rto",
            "rto (retries exhausted)",
            "2msl",
        ] {
            let event: Event = text.parse().unwrap();
            assert_eq!(event.to_string(), text);
        }
        assert_eq!(
            "recv FA (old incarnation)".parse::<Event>(),
            Ok(Event::recv("FA").with(Qualifier::OldIncarnation))
        );
        assert_eq!(
            "app end stream".parse::<Event>(),
            Ok(Event::app(Call::EndStream))
        );
    }

    /// Both sides of a give-up and half of TIME-WAIT read and print back;
    /// a `before` of anything but a timeout is refused.
    #[test]
    fn timer_bounds_read_and_print_back() {
        for text in [
            "before(rto(2))",
            "after(rto(0))",
            "half(2msl)",
            "before(2msl)",
        ] {
            assert_eq!(text.parse::<Wait>().unwrap().to_string(), text);
        }
        assert_eq!("before(rto(3))".parse::<Wait>(), Ok(Wait::BeforeRto(3)));
        assert!("before(ms(3))".parse::<Wait>().is_err());
        assert!("after(rto(x))".parse::<Wait>().is_err());
        assert!("before(rto(17))".parse::<Wait>().is_err());
    }

    #[test]
    fn malformed_events_are_refused() {
        for (text, why) in [
            ("app dance", "unknown application call `dance`"),
            ("recv A (sideways)", "unknown qualifier `(sideways)`"),
            ("recv ", "`recv` names what was received"),
            ("rto (cookie) (cookie)", "more than one qualifier"),
            ("tick", "unknown event `tick`"),
        ] {
            let err = text.parse::<Event>().unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    /// The matrix column: the call, the segment's flags or the frame's
    /// type; a timer event whole.
    #[test]
    fn columns() {
        for (text, column) in [
            ("app listen", "listen"),
            ("app end stream", "end"),
            ("app data (END_STREAM)", "data"),
            ("recv FA (old incarnation)", "FA"),
            ("recv HEADERS END_STREAM", "HEADERS"),
            ("rto", "rto"),
            ("rto (retries exhausted)", "rto (retries exhausted)"),
        ] {
            assert_eq!(text.parse::<Event>().unwrap().column(), column, "{text}");
        }
    }

    /// Events order by their text, as the coverage record lists them.
    #[test]
    fn events_order_by_text() {
        let mut events: Vec<Event> = ["rto", "recv SA", "app close", "recv A (cookie)", "2msl"]
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        events.sort();
        let texts: Vec<String> = events.iter().map(|e| e.to_string()).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
    }
}
