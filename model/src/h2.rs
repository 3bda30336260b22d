//! A model of HTTP/2's stream lifecycle (RFC 9113 §5.1): two endpoints, a
//! client and a server, multiplexing several streams over one ordered,
//! reliable connection.
//!
//! The connection is a pair of FIFO queues of frames, one per direction (TCP
//! below gives order and reliability; nothing is lost or reordered). Each
//! endpoint keeps, per stream, the §5.1 state (idle, reserved (local),
//! reserved (remote), open, half-closed (local), half-closed (remote),
//! closed), why a closed stream closed (both END_STREAMs, a RST_STREAM sent
//! or received, or implicitly, §5.1.1), its send window and the data its
//! application queued behind flow control.
//!
//! The streams are the client's 1, 3 and 5 and the server's pushed 2.
//! Each endpoint advertises SETTINGS_MAX_CONCURRENT_STREAMS 2 (so the third
//! client stream meets REFUSED_STREAM when two are open, §5.1.2) and the
//! harness's side advertises a stream window of one unit of DATA (below):
//! one unit exhausts a stream's window until a WINDOW_UPDATE (§6.9), which is
//! what lets a blocked stream sit beside one that flows.
//!
//! DATA is counted in *units* (a trace writes one unit as
//! [`DATA_UNIT`] = 21 845 bytes): the harness's stream window is one unit,
//! and the connection-level window, which SETTINGS cannot change and which
//! starts at 65 535 bytes (§6.9.2), is [`CONN_WINDOW_UNITS`] = 3 units. The
//! IUT sends at most two units on each of two streams, so it can exhaust the
//! connection window, and a WINDOW_UPDATE on stream 0 releases it (§6.9).
//! The harness's own DATA is one byte a frame, far below any window.
//!
//! One endpoint is the implementation under test (IUT) and follows the RFC;
//! the other plays the harness. The harness follows the RFC too, but once per
//! run it may send a *probe*: any frame type on any stream, whatever its state
//! (DATA on an idle stream, HEADERS on a closed one, CONTINUATION out of
//! nowhere, a zero WINDOW_UPDATE …). The IUT's reaction is what RFC 9113
//! requires: accept, ignore, a stream error (RST_STREAM, §5.4.2) or a
//! connection error (GOAWAY, §5.4.1) with the RFC's code. Where the RFC
//! allows more than one reaction, [`Reaction`]s are listed in order: the
//! model takes the first, traces expect any of them.
//!
//! Abstractions: an application acts only after its endpoint has read the
//! peer's SETTINGS (the preface is done); a probe is sent only when nothing
//! is in flight towards the IUT, and after it nothing else happens but its
//! delivery, so a probe's reaction is the end of a run.

use std::fmt;

use stateright::{Model, Property};
use tracewright_vocab::trace::{Call, Event, Qualifier};

/// Index of the client endpoint.
pub const CLIENT: usize = 0;
/// Index of the server endpoint.
pub const SERVER: usize = 1;

/// The streams of the model, by index: the client's 1, 3, 5 and the pushed 2.
pub const STREAM_IDS: [u8; 4] = [1, 3, 5, 2];
/// SETTINGS_MAX_CONCURRENT_STREAMS both endpoints advertise.
pub const MAX_CONCURRENT: usize = 2;
/// SETTINGS_INITIAL_WINDOW_SIZE the harness advertises (units of
/// [`DATA_UNIT`] bytes).
pub const HARNESS_WINDOW: u8 = 1;
/// A send window that never runs out here (the RFC's default, 65 535).
pub const BIG_WINDOW: u8 = u8::MAX;
/// A stream's send window that never runs out (stream windows are signed:
/// a SETTINGS_INITIAL_WINDOW_SIZE change may make one negative, §6.9.2).
pub const BIG_STREAM_WINDOW: i8 = i8::MAX;
/// The stream on which the header-block probes open a block.
pub const BLOCK_STREAM: u8 = 1;
/// One unit of the IUT's DATA, in bytes: a third of the connection window.
pub const DATA_UNIT: u32 = 21_845;
/// The connection-level send window, in units: 65 535 bytes (§6.9.2).
pub const CONN_WINDOW_UNITS: u8 = 3;

/// RFC 9113 §5.1 stream states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamState {
    Idle,
    ReservedLocal,
    ReservedRemote,
    Open,
    HalfClosedLocal,
    HalfClosedRemote,
    Closed,
}

impl StreamState {
    pub const ALL: [StreamState; 7] = [
        StreamState::Idle,
        StreamState::ReservedLocal,
        StreamState::ReservedRemote,
        StreamState::Open,
        StreamState::HalfClosedLocal,
        StreamState::HalfClosedRemote,
        StreamState::Closed,
    ];

    /// The RFC's spelling.
    pub fn name(self) -> &'static str {
        match self {
            StreamState::Idle => "idle",
            StreamState::ReservedLocal => "reserved (local)",
            StreamState::ReservedRemote => "reserved (remote)",
            StreamState::Open => "open",
            StreamState::HalfClosedLocal => "half-closed (local)",
            StreamState::HalfClosedRemote => "half-closed (remote)",
            StreamState::Closed => "closed",
        }
    }

    /// The same stream seen from the other endpoint.
    pub fn mirror(self) -> StreamState {
        match self {
            StreamState::ReservedLocal => StreamState::ReservedRemote,
            StreamState::ReservedRemote => StreamState::ReservedLocal,
            StreamState::HalfClosedLocal => StreamState::HalfClosedRemote,
            StreamState::HalfClosedRemote => StreamState::HalfClosedLocal,
            s => s,
        }
    }

    /// Counts towards SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2).
    pub fn active(self) -> bool {
        matches!(
            self,
            StreamState::Open | StreamState::HalfClosedLocal | StreamState::HalfClosedRemote
        )
    }
}

impl fmt::Display for StreamState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a stream is closed; what a late frame on it means depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Why {
    /// Not closed.
    No,
    /// END_STREAM both ways.
    Ended,
    /// This endpoint sent RST_STREAM.
    ResetSent,
    /// The peer sent RST_STREAM.
    ResetRecv,
    /// Never opened: a higher stream of the same initiator was (§5.1.1).
    Implicit,
}

/// RFC 9113 §7 error codes the model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    NoError,
    ProtocolError,
    FlowControlError,
    StreamClosed,
    FrameSizeError,
    RefusedStream,
    Cancel,
    /// The HPACK context could not be kept (RFC 9113 §4.3, §7).
    CompressionError,
}

impl Code {
    pub const ALL: [Code; 8] = [
        Code::NoError,
        Code::ProtocolError,
        Code::FlowControlError,
        Code::StreamClosed,
        Code::FrameSizeError,
        Code::RefusedStream,
        Code::Cancel,
        Code::CompressionError,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Code::NoError => "NO_ERROR",
            Code::ProtocolError => "PROTOCOL_ERROR",
            Code::FlowControlError => "FLOW_CONTROL_ERROR",
            Code::StreamClosed => "STREAM_CLOSED",
            Code::FrameSizeError => "FRAME_SIZE_ERROR",
            Code::RefusedStream => "REFUSED_STREAM",
            Code::Cancel => "CANCEL",
            Code::CompressionError => "COMPRESSION_ERROR",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Frame types (RFC 9113 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Data,
    Headers,
    Priority,
    RstStream,
    Settings,
    PushPromise,
    Ping,
    GoAway,
    WindowUpdate,
    Continuation,
    /// A frame type no specification defines (§4.1, §5.5).
    Unknown,
}

impl Kind {
    /// The frame types that name a stream: the columns of the coverage matrix.
    pub const STREAM_KINDS: [Kind; 7] = [
        Kind::Data,
        Kind::Headers,
        Kind::Priority,
        Kind::RstStream,
        Kind::PushPromise,
        Kind::WindowUpdate,
        Kind::Continuation,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Kind::Data => "DATA",
            Kind::Headers => "HEADERS",
            Kind::Priority => "PRIORITY",
            Kind::RstStream => "RST_STREAM",
            Kind::Settings => "SETTINGS",
            Kind::PushPromise => "PUSH_PROMISE",
            Kind::Ping => "PING",
            Kind::GoAway => "GOAWAY",
            Kind::WindowUpdate => "WINDOW_UPDATE",
            Kind::Continuation => "CONTINUATION",
            Kind::Unknown => "UNKNOWN",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A WINDOW_UPDATE's increment, abstracted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Inc {
    /// One unit (the window an endpoint gives back).
    One,
    /// Zero: a PROTOCOL_ERROR (§6.9).
    Zero,
    /// 2^31−1: overflows any window that is not empty (§6.9.1).
    Max,
}

/// How a probe departs from the plain frame of its kind (RFC 9113 §4, §6):
/// abstract classes, which the generator turns into bytes. The IUT's own
/// frames and the harness's ordinary ones are always [`Shape::Plain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    Plain,
    /// One octet larger than the receiver's SETTINGS_MAX_FRAME_SIZE (§4.2).
    Oversized,
    /// Exactly SETTINGS_MAX_FRAME_SIZE: the largest frame it must take (§4.2).
    MaxSize,
    /// PADDED, with padding that fits (§6.1, §6.2).
    Padded,
    /// PADDED, with a pad length at or above the payload's length
    /// (§6.1, §6.2): a connection error PROTOCOL_ERROR.
    BadPadding,
    /// Flags the type does not define (§4.1): ignored.
    UnknownFlags,
    /// The reserved bit of the stream identifier set (§4.1): ignored.
    ReservedBit,
    /// RST_STREAM or GOAWAY with an error code §7 does not define: it
    /// "MUST NOT trigger any special behavior" (§7).
    UnknownCode,
    /// Sent right after a HEADERS (END_STREAM, without END_HEADERS) on
    /// stream 1 opened a header block: anything but a CONTINUATION on that
    /// stream is a connection error PROTOCOL_ERROR (§4.3, §6.10).
    InsideBlock,
    // SETTINGS (RFC 9113 §6.5): shapes of a SETTINGS frame the harness
    // sends mid-connection, each carrying the one parameter it names.
    /// SETTINGS_ENABLE_PUSH 2 (§6.5.2): PROTOCOL_ERROR.
    EnablePushTwo,
    /// SETTINGS_INITIAL_WINDOW_SIZE 2^31 (§6.5.2): FLOW_CONTROL_ERROR.
    WindowAboveMax,
    /// SETTINGS_MAX_FRAME_SIZE 2^14−1 (§6.5.2): PROTOCOL_ERROR.
    FrameSizeBelowMin,
    /// SETTINGS_MAX_FRAME_SIZE 2^24 (§6.5.2): PROTOCOL_ERROR.
    FrameSizeAboveMax,
    /// A parameter no specification defines (§6.5.2): ignored, and the
    /// frame ACKed (§6.5.3).
    UnknownSetting,
    /// A SETTINGS ACK with a 6-octet payload (§6.5): FRAME_SIZE_ERROR.
    AckWithPayload,
    /// SETTINGS_INITIAL_WINDOW_SIZE 0: every stream's send window drops by
    /// one unit and may go negative (§6.9.2).
    WindowShrink,
    /// SETTINGS_INITIAL_WINDOW_SIZE 2^31−1: every stream's send window
    /// grows by 2^31−1 less one unit (§6.9.2), releasing held DATA.
    WindowGrowMax,
    /// SETTINGS_INITIAL_WINDOW_SIZE 2^31−1 right after a WINDOW_UPDATE of
    /// one unit put stream 1's window above its initial size: the change
    /// overflows it, a connection error FLOW_CONTROL_ERROR (§6.9.2).
    WindowOverflow,
    /// A WINDOW_UPDATE of one unit on a stream whose window a SETTINGS of
    /// INITIAL_WINDOW_SIZE 0 just made negative: the probe is that
    /// SETTINGS and two of these; DATA waits until the window is positive
    /// (§6.9.2).
    AfterShrink,
    // The connection preface (RFC 9113 §3.4).
    /// The client preface with a wrong magic (on the harness's first
    /// SETTINGS, to a server IUT): PROTOCOL_ERROR, or the connection
    /// closed.
    BadMagic,
    /// A frame other than SETTINGS as the harness's first (§3.4):
    /// PROTOCOL_ERROR, or the connection closed.
    BeforeSettings,
    /// HEADERS whose field block is of this class (RFC 9113 §8, RFC 7541):
    /// the header semantics and HPACK probes.
    Fields(FieldClass),
    /// DATA with END_STREAM, one octet short of the `content-length` the
    /// stream's HEADERS ([`FieldClass::ContentLength`]) declared, sent right
    /// after them: a malformed message (§8.1.1).
    ShortOfContentLength,
}

impl Shape {
    /// How an event name spells it (empty for a plain frame).
    pub fn suffix(self) -> &'static str {
        match self {
            Shape::Plain => "",
            Shape::Oversized => " above SETTINGS_MAX_FRAME_SIZE",
            Shape::MaxSize => " of SETTINGS_MAX_FRAME_SIZE",
            Shape::Padded => " padded",
            Shape::BadPadding => " with padding too long",
            Shape::UnknownFlags => " with unknown flags",
            Shape::ReservedBit => " with the reserved bit",
            Shape::UnknownCode => " with an unknown error code",
            Shape::InsideBlock => " inside a header block",
            Shape::EnablePushTwo => " with ENABLE_PUSH 2",
            Shape::WindowAboveMax => " with INITIAL_WINDOW_SIZE 2^31",
            Shape::FrameSizeBelowMin => " with MAX_FRAME_SIZE 2^14-1",
            Shape::FrameSizeAboveMax => " with MAX_FRAME_SIZE 2^24",
            Shape::UnknownSetting => " with an unknown parameter",
            Shape::AckWithPayload => " with a payload",
            Shape::WindowShrink => " with INITIAL_WINDOW_SIZE 0",
            Shape::WindowGrowMax => " with INITIAL_WINDOW_SIZE 2^31-1",
            Shape::WindowOverflow => " with INITIAL_WINDOW_SIZE 2^31-1 overflowing a window",
            Shape::AfterShrink => " on a window INITIAL_WINDOW_SIZE 0 made negative",
            Shape::BadMagic => " after a bad preface magic",
            Shape::BeforeSettings => " before the preface SETTINGS",
            Shape::Fields(c) => c.suffix(),
            Shape::ShortOfContentLength => " short of its content-length",
        }
    }
}

// ------------------------------------------------------------ header semantics

/// What a header block says (RFC 9113 §8, RFC 7541 HPACK), abstracted into
/// classes: the model never holds field names or bytes, the harness encodes
/// each class with an HPACK encoder. The classes are the trace format's
/// ([`FieldClass`], each naming its rule, [`FieldClass::rfc`]); what the
/// model makes of them is [`FieldRules`]: where a class breaks its rule,
/// the receiver's reaction is [`FieldRules::fault`].
pub use tracewright_vocab::h2::FieldClass;

/// What a receiver must do with a field block of a class (RFC 9113 §4.3,
/// §8.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Nothing: the block is valid.
    None,
    /// "A decoding error in a field block MUST be treated as a connection
    /// error (Section 5.4.1) of type COMPRESSION_ERROR." (§4.3)
    Compression,
    /// "Malformed requests or responses that are detected MUST be treated
    /// as a stream error (Section 5.4.2) of type PROTOCOL_ERROR." (§8.1.1)
    Malformed,
}

/// Which header block of a message a class is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The request's (the harness plays the client).
    Request,
    /// The response's (the harness plays the server).
    Response,
    /// A request's or a response's, whichever the harness sends.
    Message,
    /// A trailer section (§8.1).
    Trailers,
}

/// Every class, in the order the model probes them.
pub const FIELD_CLASSES: [FieldClass; 27] = [
    FieldClass::TableSizeUpdate,
    FieldClass::TableSizeAboveLimit,
    FieldClass::BadIndex,
    FieldClass::BadHuffman,
    FieldClass::NoMethod,
    FieldClass::NoScheme,
    FieldClass::NoPath,
    FieldClass::StatusInRequest,
    FieldClass::TeNotTrailers,
    FieldClass::TeTrailers,
    FieldClass::NoStatus,
    FieldClass::MethodInResponse,
    FieldClass::DuplicatePseudo,
    FieldClass::UnknownPseudo,
    FieldClass::PseudoAfterRegular,
    FieldClass::UppercaseName,
    FieldClass::ColonInName,
    FieldClass::CrInValue,
    FieldClass::LfInValue,
    FieldClass::NulInValue,
    FieldClass::Connection,
    FieldClass::KeepAlive,
    FieldClass::ProxyConnection,
    FieldClass::TransferEncoding,
    FieldClass::Upgrade,
    FieldClass::ContentLength,
    FieldClass::PseudoInTrailers,
];

/// The model's reading of a header block's class: what a receiver must do
/// with it, which block of a message it is, and how an event names it. The
/// rule each class exercises is the trace format's [`FieldClass::rfc`].
pub trait FieldRules {
    fn fault(self) -> Fault;
    fn part(self) -> Part;
    fn suffix(self) -> &'static str;
}

impl FieldRules for FieldClass {
    fn fault(self) -> Fault {
        use FieldClass::*;
        match self {
            TableSizeUpdate | TeTrailers | ContentLength => Fault::None,
            TableSizeAboveLimit | BadIndex | BadHuffman => Fault::Compression,
            _ => Fault::Malformed,
        }
    }

    fn part(self) -> Part {
        use FieldClass::*;
        match self {
            NoMethod | NoScheme | NoPath | StatusInRequest | TeNotTrailers | TeTrailers => {
                Part::Request
            }
            NoStatus | MethodInResponse => Part::Response,
            PseudoInTrailers => Part::Trailers,
            _ => Part::Message,
        }
    }

    /// How an event name spells it.
    fn suffix(self) -> &'static str {
        use FieldClass::*;
        match self {
            TableSizeUpdate => " with table size updates",
            TableSizeAboveLimit => " with a table size update above the limit",
            BadIndex => " with an index beyond the tables",
            BadHuffman => " with a bad Huffman padding",
            NoMethod => " without :method",
            NoScheme => " without :scheme",
            NoPath => " without :path",
            StatusInRequest => " with :status in a request",
            TeNotTrailers => " with te other than trailers",
            TeTrailers => " with te trailers",
            NoStatus => " without :status",
            MethodInResponse => " with :method in a response",
            DuplicatePseudo => " with a pseudo-header twice",
            UnknownPseudo => " with an unknown pseudo-header",
            PseudoAfterRegular => " with a pseudo-header after a regular field",
            UppercaseName => " with an uppercase field name",
            ColonInName => " with a colon in a field name",
            CrInValue => " with CR in a field value",
            LfInValue => " with LF in a field value",
            NulInValue => " with NUL in a field value",
            Connection => " with connection",
            KeepAlive => " with keep-alive",
            ProxyConnection => " with proxy-connection",
            TransferEncoding => " with transfer-encoding",
            Upgrade => " with upgrade",
            ContentLength => " with content-length",
            PseudoInTrailers => " with a pseudo-header in trailers",
        }
    }
}

/// One frame. Fields a frame type does not use keep their defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame {
    pub kind: Kind,
    /// Stream identifier; 0 for the connection.
    pub stream: u8,
    pub end_stream: bool,
    /// HEADERS / PUSH_PROMISE / CONTINUATION: END_HEADERS.
    pub end_headers: bool,
    /// SETTINGS / PING: ACK.
    pub ack: bool,
    /// DATA: payload, in units (the IUT's) or bytes (the harness's).
    pub len: u8,
    /// RST_STREAM / GOAWAY.
    pub code: Code,
    /// PUSH_PROMISE: the promised stream.
    pub promised: u8,
    /// GOAWAY: the last stream identifier.
    pub last: u8,
    pub inc: Inc,
    /// A payload of the wrong length for the type (FRAME_SIZE_ERROR, §4.2).
    pub bad_len: bool,
    /// How a probe departs from the plain frame (the frame rules of §4, §6).
    pub shape: Shape,
}

impl Frame {
    pub const fn new(kind: Kind, stream: u8) -> Frame {
        Frame {
            kind,
            stream,
            end_stream: false,
            end_headers: true,
            ack: false,
            len: 0,
            code: Code::NoError,
            promised: 0,
            last: 0,
            inc: Inc::One,
            bad_len: false,
            shape: Shape::Plain,
        }
    }
    pub fn data(stream: u8, len: u8, end_stream: bool) -> Frame {
        Frame {
            len,
            end_stream,
            ..Frame::new(Kind::Data, stream)
        }
    }
    pub fn headers(stream: u8, end_stream: bool) -> Frame {
        Frame {
            end_stream,
            ..Frame::new(Kind::Headers, stream)
        }
    }
    pub fn rst(stream: u8, code: Code) -> Frame {
        Frame {
            code,
            ..Frame::new(Kind::RstStream, stream)
        }
    }
    pub fn goaway(last: u8, code: Code) -> Frame {
        Frame {
            last,
            code,
            ..Frame::new(Kind::GoAway, 0)
        }
    }

    /// A short label: `HEADERS[1,ES]`, `RST_STREAM[3,REFUSED_STREAM]`.
    pub fn label(&self) -> String {
        let mut parts = vec![];
        if self.kind != Kind::Settings && self.kind != Kind::Ping && self.kind != Kind::GoAway {
            parts.push(self.stream.to_string());
        }
        match self.kind {
            Kind::Data if self.len > 0 => parts.push(format!("units={}", self.len)),
            Kind::RstStream => parts.push(self.code.to_string()),
            Kind::GoAway => {
                parts.push(format!("last={}", self.last));
                parts.push(self.code.to_string());
            }
            Kind::PushPromise => parts.push(format!("promised={}", self.promised)),
            Kind::WindowUpdate => parts.push(
                match self.inc {
                    Inc::One => "+1",
                    Inc::Zero => "+0",
                    Inc::Max => "+2^31-1",
                }
                .into(),
            ),
            _ => {}
        }
        if self.end_stream {
            parts.push("ES".into());
        }
        if !self.end_headers {
            parts.push("no END_HEADERS".into());
        }
        if self.ack {
            parts.push("ACK".into());
        }
        if self.bad_len {
            parts.push("bad length".into());
        }
        if self.shape != Shape::Plain {
            parts.push(self.shape.suffix().trim().into());
        }
        if parts.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}[{}]", self.kind, parts.join(","))
        }
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// One stream as one endpoint sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stream {
    pub state: StreamState,
    pub why: Why,
    /// Send window, units (BIG_STREAM_WINDOW: never runs out; negative
    /// after a SETTINGS_INITIAL_WINDOW_SIZE decrease, §6.9.2).
    pub win: i8,
    /// Units the application queued that flow control holds back.
    pub pending: u8,
    /// END_STREAM goes out with the last pending byte.
    pub pending_es: bool,
    /// Units of DATA the application handed over on this stream.
    pub sent: u8,
    /// This endpoint sent its HEADERS (request, response or pushed response).
    pub headers_sent: bool,
    /// This endpoint received the peer's HEADERS on it.
    pub headers_recv: bool,
}

/// One endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct End {
    /// The peer's SETTINGS arrived: the preface is done (§3.4).
    pub got_settings: bool,
    pub streams: [Stream; 4],
    /// The connection-level send window, units (§6.9; BIG_WINDOW: never
    /// runs out).
    pub conn_win: u8,
    /// Highest stream identifier the peer opened or this endpoint promised
    /// to it (§5.1.1); 0 for none.
    pub highest_peer: u8,
    /// Highest stream identifier this endpoint opened or promised.
    pub highest_own: u8,
    /// Highest peer-initiated stream this endpoint processed: the
    /// last-stream-id of its GOAWAY (§6.8). Refused and ignored streams do
    /// not count.
    pub processed: u8,
    pub goaway_sent: Option<u8>,
    pub goaway_recv: Option<u8>,
    /// A connection error was sent or received: nothing more is processed.
    pub dead: bool,
    /// A header block is open on this stream (HEADERS without END_HEADERS
    /// arrived; only CONTINUATION on it may follow, §6.10).
    pub block: Option<u8>,
}

impl End {
    pub fn stream(&self, id: u8) -> &Stream {
        &self.streams[index_of(id)]
    }
    fn stream_mut(&mut self, id: u8) -> &mut Stream {
        &mut self.streams[index_of(id)]
    }
    fn active_initiated_by(&self, client: bool) -> usize {
        STREAM_IDS
            .iter()
            .zip(&self.streams)
            .filter(|(id, s)| (*id % 2 == 1) == client && s.state.active())
            .count()
    }
}

/// The index of a stream identifier in [`STREAM_IDS`].
pub fn index_of(id: u8) -> usize {
    // A match, not a search of STREAM_IDS: it is on every step's path.
    let k = match id {
        1 => 0,
        3 => 1,
        5 => 2,
        2 => 3,
        _ => panic!("stream {id} is not in the model"),
    };
    debug_assert_eq!(STREAM_IDS[k], id);
    k
}

/// The whole system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct World {
    pub ends: [End; 2],
    /// `net[e]`: frames from endpoint `e` to the other, oldest first.
    pub net: [Frames; 2],
    /// The harness sent its probe.
    pub probed: bool,
    /// Properties violated on the way here (bits of [`Violation`]).
    pub violations: u8,
}

// ------------------------------------------------------- frames in flight

/// How many frames one direction of the connection holds at most: every
/// configuration and probe here keeps at most 4 in flight (the tests pass
/// with 4); 6 leaves room for longer probe leads. A state carries both
/// directions inline, so each slot costs the checker memory per queued
/// state.
pub const NET_CAP: usize = 6;

/// Frames in flight one way, oldest first, held inline: a [`World`] is
/// plain data, so the checker copies a state without allocating. Reads
/// as a slice; equality, order and hashing are the slice's (as a `Vec`'s
/// were), so the slots past its length never matter.
#[derive(Clone, Copy)]
pub struct Frames {
    len: u8,
    buf: [Frame; NET_CAP],
}

impl Frames {
    const FILLER: Frame = Frame::new(Kind::Data, 0);

    pub const fn new() -> Frames {
        Frames {
            len: 0,
            buf: [Frames::FILLER; NET_CAP],
        }
    }

    pub fn push(&mut self, f: Frame) {
        let n = self.len as usize;
        assert!(
            n < NET_CAP,
            "more than {NET_CAP} frames in flight one way: raise NET_CAP"
        );
        self.buf[n] = f;
        self.len += 1;
    }

    pub fn insert(&mut self, i: usize, f: Frame) {
        let n = self.len as usize;
        assert!(i <= n, "insert at {i} beyond {n} frames");
        self.push(f);
        self.buf[i..=n].rotate_right(1);
    }

    /// Takes the oldest frame off.
    pub fn pop_front(&mut self) -> Option<Frame> {
        let f = *self.first()?;
        let n = self.len as usize;
        self.buf.copy_within(1..n, 0);
        self.len -= 1;
        Some(f)
    }
}

impl Default for Frames {
    fn default() -> Frames {
        Frames::new()
    }
}

impl std::ops::Deref for Frames {
    type Target = [Frame];
    fn deref(&self) -> &[Frame] {
        &self.buf[..self.len as usize]
    }
}

impl std::ops::DerefMut for Frames {
    fn deref_mut(&mut self) -> &mut [Frame] {
        &mut self.buf[..self.len as usize]
    }
}

impl Extend<Frame> for Frames {
    fn extend<I: IntoIterator<Item = Frame>>(&mut self, it: I) {
        for f in it {
            self.push(f);
        }
    }
}

impl FromIterator<Frame> for Frames {
    fn from_iter<I: IntoIterator<Item = Frame>>(it: I) -> Frames {
        let mut v = Frames::new();
        v.extend(it);
        v
    }
}

impl From<Vec<Frame>> for Frames {
    fn from(v: Vec<Frame>) -> Frames {
        v.into_iter().collect()
    }
}

impl PartialEq for Frames {
    fn eq(&self, other: &Frames) -> bool {
        **self == **other
    }
}

impl Eq for Frames {}

impl std::hash::Hash for Frames {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl PartialOrd for Frames {
    fn partial_cmp(&self, other: &Frames) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Frames {
    fn cmp(&self, other: &Frames) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl fmt::Debug for Frames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// Where `actions()` lists: keeps what `may` admits, in order.
struct Gate<'a, F: Fn(&Action) -> bool> {
    may: F,
    out: &'a mut Vec<Action>,
}

impl<F: Fn(&Action) -> bool> Gate<'_, F> {
    // Inlined, the test folds into the loop that lists the actions.
    #[inline(always)]
    fn push(&mut self, a: Action) {
        if (self.may)(&a) {
            self.out.push(a);
        }
    }
}

/// Things that, once done, are wrong for good; recorded in `World::violations`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Violation {
    /// A stream was opened with an identifier not above every earlier one.
    IdDidNotGrow = 1,
    /// A stream above a GOAWAY's last-stream-id was processed.
    ProcessedAfterGoaway = 2,
}

/// What an endpoint does with a frame it receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reaction {
    /// Process it (the legal transition).
    Accept,
    /// Discard it without a word.
    Ignore,
    /// Discard it; the stream it would open (or promise) is closed
    /// unprocessed: it arrived above the last-stream-id of our GOAWAY (§6.8).
    IgnoreNewStream(u8),
    /// RST_STREAM on the frame's stream (§5.4.2).
    StreamError(Code),
    /// RST_STREAM on another stream (a refused promise).
    StreamErrorOn(u8, Code),
    /// GOAWAY, then nothing more (§5.4.1).
    ConnError(Code),
}

impl Reaction {
    /// The frame this reaction emits, from an endpoint whose highest peer
    /// stream is `last`.
    pub fn frame(self, stream: u8, last: u8) -> Option<Frame> {
        match self {
            Reaction::Accept | Reaction::Ignore | Reaction::IgnoreNewStream(_) => None,
            Reaction::StreamError(c) => Some(Frame::rst(stream, c)),
            Reaction::StreamErrorOn(s, c) => Some(Frame::rst(s, c)),
            Reaction::ConnError(c) => Some(Frame::goaway(last, c)),
        }
    }
}

/// The model's actions, named subject + verb.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The client's application opens stream `s` with a request.
    AppRequest {
        end: usize,
        stream: u8,
        end_stream: bool,
        split: bool,
    },
    /// The server's application answers stream `s` (or sends the pushed
    /// response on a reserved stream).
    AppRespond {
        end: usize,
        stream: u8,
        end_stream: bool,
    },
    /// One byte of DATA (queued if the window is empty).
    AppData {
        end: usize,
        stream: u8,
        end_stream: bool,
    },
    /// An empty DATA with END_STREAM.
    AppEnd { end: usize, stream: u8 },
    /// RST_STREAM(CANCEL).
    AppReset { end: usize, stream: u8 },
    /// PUSH_PROMISE of stream 2 on `stream`.
    AppPush { end: usize, stream: u8 },
    /// A graceful GOAWAY(NO_ERROR).
    AppGoaway { end: usize },
    /// The harness gives one unit of window back on `stream` (0: the
    /// connection).
    HarnessWindowUpdate { end: usize, stream: u8 },
    /// The harness sends a frame whatever the state.
    HarnessProbe { end: usize, frame: Frame },
    /// The connection delivers the oldest frame from `from`.
    NetDeliver { from: usize },
}

impl Action {
    pub fn end(&self) -> usize {
        match *self {
            Action::AppRequest { end, .. }
            | Action::AppRespond { end, .. }
            | Action::AppData { end, .. }
            | Action::AppEnd { end, .. }
            | Action::AppReset { end, .. }
            | Action::AppPush { end, .. }
            | Action::AppGoaway { end }
            | Action::HarnessWindowUpdate { end, .. }
            | Action::HarnessProbe { end, .. } => end,
            Action::NetDeliver { from } => 1 - from,
        }
    }
}

/// What one step did at one endpoint: the event, the stream it concerned
/// (0 for the connection), that stream's state before and after, and the
/// frames the endpoint emitted. `alternatives` are the other reactions the
/// RFC allows to a received frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndStep {
    pub end: usize,
    pub event: Event,
    pub kind: Option<Kind>,
    pub stream: u8,
    pub before: String,
    pub after: String,
    pub output: Vec<Frame>,
    /// The other reactions the RFC allows: a frame, or `None` for silence.
    pub alternatives: Vec<Option<Frame>>,
    /// The RFC also lets the endpoint close the connection without a
    /// GOAWAY (an invalid preface, §3.4).
    pub may_close: bool,
}

/// A model variant: one mechanism removed. (None yet for HTTP/2; the
/// broken endpoints in the tests play that role for the traces.)
#[derive(Clone, Debug)]
pub struct H2Config {
    /// The role the IUT plays; the other endpoint is the harness and may probe.
    pub iut: usize,
    /// The harness may send a probe.
    pub probes: bool,
    /// Bytes of DATA per stream the IUT's application may send (the
    /// harness's: one).
    pub iut_data: u8,
    /// The applications may send GOAWAY.
    pub goaway: bool,
    /// The server's application may push.
    pub push: bool,
    /// The applications act only when nothing is in flight, so frames never
    /// cross: what generation walks (crossings are reached by probes).
    pub sequential: bool,
    /// How many client streams requests may open (1: stream 1; 2: 1 and 3).
    pub client_streams: u8,
    pub profile: String,
    /// A client IUT's SETTINGS_ENABLE_PUSH (RFC 9113 §6.5.2): `false`
    /// announces 0, and a PUSH_PROMISE is then a connection error
    /// ([`H2Model::push_disabled_reactions`]).
    pub iut_enable_push: bool,
    /// The server's application pushes only on a stream whose request
    /// ended (half-closed (remote)): a server that pushes with its answer
    /// and answers once the request ended (nghttpd, h2o) does. Generation
    /// only ([`crate::gen::h2`], the push variants); RFC 9113 §8.4 allows
    /// a push on an open stream too.
    pub push_once_request_ended: bool,
}

impl H2Config {
    pub fn new(iut: usize) -> Self {
        H2Config {
            iut,
            probes: true,
            iut_data: 2,
            goaway: true,
            push: true,
            sequential: false,
            client_streams: 2,
            profile: "rfc9113".into(),
            iut_enable_push: true,
            push_once_request_ended: false,
        }
    }
}

#[derive(Clone)]
pub struct H2Model {
    pub cfg: H2Config,
}

const fn stream0() -> Stream {
    Stream {
        state: StreamState::Idle,
        why: Why::No,
        win: BIG_STREAM_WINDOW,
        pending: 0,
        pending_es: false,
        sent: 0,
        headers_sent: false,
        headers_recv: false,
    }
}

fn settings() -> Frame {
    Frame::new(Kind::Settings, 0)
}

pub fn end_name(e: usize) -> &'static str {
    if e == CLIENT {
        "client"
    } else {
        "server"
    }
}

impl H2Model {
    pub fn new(cfg: H2Config) -> Self {
        H2Model { cfg }
    }

    fn harness(&self) -> usize {
        1 - self.cfg.iut
    }

    /// The send window an endpoint starts each stream with: the peer's
    /// SETTINGS_INITIAL_WINDOW_SIZE.
    fn initial_window(&self, e: usize) -> i8 {
        if e == self.cfg.iut {
            HARNESS_WINDOW as i8
        } else {
            BIG_STREAM_WINDOW
        }
    }

    fn data_budget(&self, e: usize) -> u8 {
        if e == self.cfg.iut {
            self.cfg.iut_data
        } else {
            1
        }
    }

    /// The streams `e` can initiate: the client's odd ones, the server's 2.
    fn own(e: usize, id: u8) -> bool {
        (id % 2 == 1) == (e == CLIENT)
    }

    /// What receiving `f` does at `r` (endpoint index `re`), per RFC 9113,
    /// most preferred first. Only for frames on a stream (not 0).
    pub fn reactions(&self, r: &End, re: usize, f: &Frame) -> Vec<Reaction> {
        use Reaction::*;
        use StreamState::*;
        let s = *r.stream(f.stream);
        // §5.4.1: "an endpoint MAY choose to treat a stream error as a
        // connection error": every stream error also allows GOAWAY.
        let stream_err = |c: Code| vec![StreamError(c), ConnError(c)];
        let closed_late = |alts: Vec<Reaction>| -> Vec<Reaction> {
            match s.why {
                // > The endpoint MUST ignore frames that it receives on
                // > closed streams after it has sent a RST_STREAM frame.
                Why::ResetSent => vec![Ignore],
                _ => alts,
            }
        };
        match f.kind {
            Kind::Priority => {
                // §6.3: a PRIORITY frame with a length other than 5 octets
                // MUST be treated as a stream error of type FRAME_SIZE_ERROR.
                if f.bad_len {
                    stream_err(Code::FrameSizeError)
                } else {
                    // §5.1: PRIORITY may be received in any state.
                    vec![Accept]
                }
            }
            Kind::RstStream => {
                if f.bad_len {
                    return vec![ConnError(Code::FrameSizeError)];
                }
                match s.state {
                    // > RST_STREAM frames MUST NOT be sent for a stream in
                    // > the "idle" state. … MUST treat this as a connection
                    // > error of type PROTOCOL_ERROR.
                    Idle => vec![ConnError(Code::ProtocolError)],
                    Closed => match s.why {
                        // No RST_STREAM answers a RST_STREAM (§5.4.2).
                        Why::ResetRecv => vec![Ignore, ConnError(Code::StreamClosed)],
                        Why::Implicit => vec![
                            Ignore,
                            ConnError(Code::ProtocolError),
                            ConnError(Code::StreamClosed),
                        ],
                        // > Endpoints MUST ignore WINDOW_UPDATE or RST_STREAM
                        // > frames received in this state [after END_STREAM].
                        _ => vec![Ignore],
                    },
                    _ => vec![Accept],
                }
            }
            Kind::WindowUpdate => {
                if f.bad_len {
                    return vec![ConnError(Code::FrameSizeError)];
                }
                match s.state {
                    Idle | ReservedRemote => vec![ConnError(Code::ProtocolError)],
                    Closed => match s.why {
                        Why::ResetRecv => stream_err(Code::StreamClosed),
                        Why::Implicit => vec![
                            Ignore,
                            ConnError(Code::ProtocolError),
                            ConnError(Code::StreamClosed),
                        ],
                        _ => vec![Ignore],
                    },
                    _ => match f.inc {
                        // §6.9: an increment of 0 is a stream error PROTOCOL_ERROR.
                        Inc::Zero => stream_err(Code::ProtocolError),
                        // §6.9.1: a window above 2^31−1 is a stream error
                        // FLOW_CONTROL_ERROR.
                        Inc::Max if s.win > 0 => stream_err(Code::FlowControlError),
                        _ => vec![Accept],
                    },
                }
            }
            Kind::Data => match s.state {
                Idle | ReservedLocal | ReservedRemote => vec![ConnError(Code::ProtocolError)],
                Open | HalfClosedLocal => vec![Accept],
                // §5.1 half-closed (remote): "any frames other than
                // WINDOW_UPDATE, PRIORITY, or RST_STREAM … MUST respond with
                // a stream error of type STREAM_CLOSED".
                HalfClosedRemote => stream_err(Code::StreamClosed),
                Closed => closed_late(match s.why {
                    Why::ResetRecv => stream_err(Code::StreamClosed),
                    // §5.1 (connection error after END_STREAM) and §6.1
                    // (stream error STREAM_CLOSED) both apply.
                    Why::Ended => vec![
                        ConnError(Code::StreamClosed),
                        StreamError(Code::StreamClosed),
                    ],
                    _ => vec![
                        ConnError(Code::ProtocolError),
                        StreamError(Code::StreamClosed),
                        ConnError(Code::StreamClosed),
                    ],
                }),
            },
            Kind::Headers => match s.state {
                Idle => {
                    // §5.1.1: the server opens no stream with HEADERS, the
                    // client only odd ones; §8.4: a pushed stream opens with
                    // PUSH_PROMISE, never with HEADERS.
                    if Self::own(re, f.stream) || re == CLIENT {
                        return vec![ConnError(Code::ProtocolError)];
                    }
                    if r.goaway_sent.is_some_and(|last| f.stream > last) {
                        // §6.8: streams above last-stream-id are ignored.
                        return vec![IgnoreNewStream(f.stream)];
                    }
                    // §5.1.2: beyond our advertised limit: PROTOCOL_ERROR or
                    // REFUSED_STREAM.
                    if r.active_initiated_by(true) >= MAX_CONCURRENT {
                        return vec![
                            StreamError(Code::RefusedStream),
                            StreamError(Code::ProtocolError),
                            ConnError(Code::RefusedStream),
                            ConnError(Code::ProtocolError),
                        ];
                    }
                    vec![Accept]
                }
                ReservedRemote => vec![Accept],
                ReservedLocal => vec![ConnError(Code::ProtocolError)],
                // A HEADERS after the first is a trailer and must end the
                // stream (§8.1); else the message is malformed (§8.1.1).
                Open | HalfClosedLocal => {
                    if s.headers_recv && !f.end_stream {
                        stream_err(Code::ProtocolError)
                    } else {
                        vec![Accept]
                    }
                }
                HalfClosedRemote => stream_err(Code::StreamClosed),
                Closed => closed_late(match s.why {
                    Why::ResetRecv => stream_err(Code::StreamClosed),
                    Why::Ended => vec![
                        ConnError(Code::StreamClosed),
                        StreamError(Code::StreamClosed),
                    ],
                    // §5.1.1: "An endpoint that receives an unexpected stream
                    // identifier MUST respond with a connection error of type
                    // PROTOCOL_ERROR."
                    _ => vec![
                        ConnError(Code::ProtocolError),
                        ConnError(Code::StreamClosed),
                    ],
                }),
            },
            Kind::PushPromise => {
                // §8.4: "A client cannot push … a server … MUST treat the
                // receipt of a PUSH_PROMISE frame as a connection error of
                // type PROTOCOL_ERROR".
                if re == SERVER {
                    return vec![ConnError(Code::ProtocolError)];
                }
                if re == self.cfg.iut && !self.cfg.iut_enable_push {
                    return Self::push_disabled_reactions();
                }
                let promised_ok = f.promised.is_multiple_of(2)
                    && r.stream(f.promised).state == Idle
                    && f.promised > r.highest_peer;
                match s.state {
                    Open | HalfClosedLocal | Closed
                        if promised_ok && r.goaway_sent.is_some_and(|l| f.promised > l) =>
                    {
                        // Ignored as a new stream above our GOAWAY (§6.8), or
                        // taken and refused at once.
                        vec![
                            IgnoreNewStream(f.promised),
                            StreamErrorOn(f.promised, Code::Cancel),
                            StreamErrorOn(f.promised, Code::RefusedStream),
                        ]
                    }
                    // §6.6: only on a stream open or half-closed (local)
                    // from the receiver's side.
                    Open | HalfClosedLocal if promised_ok => vec![Accept],
                    // > an endpoint that has sent RST_STREAM on the
                    // > associated stream MUST handle PUSH_PROMISE frames that
                    // > might have been created before the RST_STREAM frame is
                    // > received and processed.
                    // Handled: the promise is taken and refused at once.
                    Closed if s.why == Why::ResetSent && promised_ok => vec![
                        StreamErrorOn(f.promised, Code::Cancel),
                        StreamErrorOn(f.promised, Code::RefusedStream),
                    ],
                    // §6.6 (connection error PROTOCOL_ERROR) and, after the
                    // peer's RST_STREAM or END_STREAM, §5.1 (STREAM_CLOSED)
                    // both apply.
                    Closed if s.why == Why::ResetRecv => vec![
                        ConnError(Code::ProtocolError),
                        StreamError(Code::StreamClosed),
                        ConnError(Code::StreamClosed),
                    ],
                    HalfClosedRemote | Closed if s.why != Why::Implicit => vec![
                        ConnError(Code::ProtocolError),
                        StreamError(Code::StreamClosed),
                        ConnError(Code::StreamClosed),
                    ],
                    _ => vec![ConnError(Code::ProtocolError)],
                }
            }
            // §6.10: a CONTINUATION not preceded by a HEADERS, PUSH_PROMISE
            // or CONTINUATION without END_HEADERS is a connection error.
            Kind::Continuation => {
                if r.block == Some(f.stream) {
                    vec![Accept]
                } else {
                    vec![ConnError(Code::ProtocolError)]
                }
            }
            Kind::Settings | Kind::Ping | Kind::GoAway => vec![ConnError(Code::ProtocolError)],
            // §5.5: ignored, whatever the stream's state.
            Kind::Unknown => vec![Ignore],
        }
    }

    /// Takes one step; `None` when the action is not enabled.
    pub fn step(&self, w: &World, action: Action) -> Option<(World, Option<EndStep>)> {
        self.transition(w, action, true)
    }

    /// [`Self::step`]; without `record` no [`EndStep`] is built (the
    /// checker wants the next state only, not its labels).
    fn transition(
        &self,
        w: &World,
        action: Action,
        record: bool,
    ) -> Option<(World, Option<EndStep>)> {
        let e = action.end();
        let iut = self.cfg.iut;
        match action {
            Action::NetDeliver { from } => {
                let mut w = *w;
                let f = w.net[from].pop_front()?;
                let es = self.receive(&mut w, e, f, record);
                Some((w, es))
            }
            Action::HarnessProbe { end, frame } if Self::is_preface_probe(&frame) => {
                // Instead of the harness's preface, before anything else
                // reached the IUT (§3.4); a bad magic only from a client.
                if end == iut
                    || w.probed
                    || w.ends[iut].got_settings
                    || w.net[end][..] != [settings()]
                    || (frame.shape == Shape::BadMagic && iut != SERVER)
                {
                    return None;
                }
                let mut w = *w;
                w.probed = true;
                if frame.shape == Shape::BadMagic {
                    w.net[end][0] = frame;
                } else {
                    w.net[end].insert(0, frame);
                }
                Some((w, None))
            }
            Action::HarnessProbe { end, frame } => {
                if end == iut || w.probed || !w.net[end].is_empty() || w.ends[end].dead {
                    return None;
                }
                if !self.fields_probe_fits(&w, &frame) {
                    return None;
                }
                let mut w = *w;
                w.probed = true;
                if frame.shape == Shape::ShortOfContentLength {
                    w.net[end].push(Frame {
                        shape: Shape::Fields(FieldClass::ContentLength),
                        ..Frame::headers(frame.stream, false)
                    });
                }
                if frame.shape == Shape::InsideBlock {
                    w.net[end].push(Frame {
                        end_headers: false,
                        ..Frame::headers(BLOCK_STREAM, true)
                    });
                }
                w.net[end].extend(Self::settings_probe_lead(&frame));
                w.net[end].push(frame);
                Some((w, None))
            }
            Action::HarnessWindowUpdate { end, stream: 0 } => {
                // The connection window, given back when the peer spent it.
                if end == iut
                    || w.ends[end].dead
                    || w.probed
                    || w.ends[1 - end].conn_win != 0
                    || w.net[end]
                        .iter()
                        .any(|f| f.kind == Kind::WindowUpdate && f.stream == 0)
                {
                    return None;
                }
                let mut w = *w;
                w.net[end].push(Frame::new(Kind::WindowUpdate, 0));
                Some((w, None))
            }
            Action::HarnessWindowUpdate { end, stream } => {
                let peer = &w.ends[1 - end];
                let ps = peer.stream(stream);
                let me = w.ends[end].stream(stream);
                // Give back only what the peer used, on a stream that can
                // still carry its data.
                if end == iut
                    || w.ends[end].dead
                    || w.probed
                    || !matches!(me.state, StreamState::Open | StreamState::HalfClosedLocal)
                    || ps.win != 0
                    || w.net[end]
                        .iter()
                        .any(|f| f.kind == Kind::WindowUpdate && f.stream == stream)
                {
                    return None;
                }
                let mut w = *w;
                w.net[end].push(Frame::new(Kind::WindowUpdate, stream));
                Some((w, None))
            }
            _ => {
                // An application acts only when its endpoint's earlier frames
                // have arrived (frames still cross: the peer may be sending).
                if w.probed || w.ends[e].dead || !w.ends[e].got_settings || !w.net[e].is_empty() {
                    return None;
                }
                // The harness acts only when nothing is in flight: frames
                // still cross (the IUT may act while the harness's frames
                // travel), but one way only, which keeps the state space
                // to what generation can walk.
                if (e != iut || self.cfg.sequential) && !Self::quiet(&w) {
                    return None;
                }
                let mut w = *w;
                let es = self.app(&mut w, e, action, record)?;
                Some((w, es.filter(|_| e == iut)))
            }
        }
    }

    /// Marks lower idle streams of the same initiator closed (§5.1.1).
    fn open_implicitly(end: &mut End, id: u8) {
        for (k, &other) in STREAM_IDS.iter().enumerate() {
            if other < id && other % 2 == id % 2 && end.streams[k].state == StreamState::Idle {
                end.streams[k].state = StreamState::Closed;
                end.streams[k].why = Why::Implicit;
            }
        }
    }

    /// An application call of endpoint `e`.
    /// `None` when the call is not enabled; `Some(None)` when it is and
    /// nothing is to be recorded.
    fn app(
        &self,
        w: &mut World,
        e: usize,
        action: Action,
        record: bool,
    ) -> Option<Option<EndStep>> {
        use StreamState::*;
        let initial_win = self.initial_window(e);
        let budget = self.data_budget(e);
        let end = &mut w.ends[e];
        let mut out = Frames::new();
        let (event, stream, before) = match action {
            Action::AppRequest {
                stream,
                end_stream,
                split,
                ..
            } => {
                let s = *end.stream(stream);
                if e != CLIENT
                    || !Self::own(e, stream)
                    || s.state != Idle
                    || end.goaway_recv.is_some()
                    || end.goaway_sent.is_some()
                    || end.active_initiated_by(true) >= MAX_CONCURRENT
                    || (split && e == self.cfg.iut)
                    // Stream 5 is opened only by a probe: the third stream,
                    // refused while 1 and 3 are open.
                    || stream == 5
                    || (stream == 3 && self.cfg.client_streams < 2)
                    // An application cannot pick the identifier: the IUT's
                    // stack takes the next one.
                    || (e == self.cfg.iut
                        && STREAM_IDS
                            .iter()
                            .any(|&o| o < stream && o % 2 == 1 && end.stream(o).state == Idle))
                {
                    return None;
                }
                if stream <= end.highest_own {
                    w.violations |= Violation::IdDidNotGrow as u8;
                }
                let end = &mut w.ends[e];
                end.highest_own = stream;
                Self::open_implicitly(end, stream);
                let st = end.stream_mut(stream);
                st.state = if end_stream { HalfClosedLocal } else { Open };
                st.win = initial_win;
                st.headers_sent = true;
                if split {
                    out.push(Frame {
                        end_headers: false,
                        ..Frame::headers(stream, end_stream)
                    });
                    out.push(Frame::new(Kind::Continuation, stream));
                } else {
                    out.push(Frame::headers(stream, end_stream));
                }
                (app_event(Call::Request, end_stream), stream, s.state)
            }
            Action::AppRespond {
                stream, end_stream, ..
            } => {
                let s = *end.stream(stream);
                let ok = e == SERVER
                    && !s.headers_sent
                    && match s.state {
                        Open | HalfClosedRemote => s.headers_recv,
                        ReservedLocal => true,
                        _ => false,
                    };
                if !ok {
                    return None;
                }
                let st = end.stream_mut(stream);
                st.headers_sent = true;
                st.state = match (s.state, end_stream) {
                    (ReservedLocal, false) => HalfClosedRemote,
                    (ReservedLocal, true) => Closed,
                    (Open, true) => HalfClosedLocal,
                    (HalfClosedRemote, true) => Closed,
                    (st, _) => st,
                };
                if st.state == Closed {
                    st.why = Why::Ended;
                }
                if s.state == ReservedLocal {
                    st.win = initial_win;
                }
                out.push(Frame::headers(stream, end_stream));
                (app_event(Call::Respond, end_stream), stream, s.state)
            }
            Action::AppData { stream, .. } | Action::AppEnd { stream, .. } => {
                let (len, end_stream) = match action {
                    Action::AppData { end_stream, .. } => (1, end_stream),
                    _ => (0, true),
                };
                let s = *end.stream(stream);
                if !matches!(s.state, Open | HalfClosedRemote)
                    || !s.headers_sent
                    || s.pending_es
                    || s.sent + len > budget
                    || (e == SERVER && !s.headers_recv && stream % 2 == 1)
                {
                    return None;
                }
                let st = end.stream_mut(stream);
                st.sent += len;
                st.pending += len;
                st.pending_es = end_stream;
                Self::flush(end, stream, &mut out);
                let ev = match len {
                    0 => Event::app(Call::EndStream),
                    _ => app_event(Call::Data, end_stream),
                };
                (ev, stream, s.state)
            }
            Action::AppReset { stream, .. } => {
                let s = *end.stream(stream);
                if !matches!(
                    s.state,
                    Open | HalfClosedLocal | HalfClosedRemote | ReservedLocal
                ) {
                    return None;
                }
                let st = end.stream_mut(stream);
                st.state = Closed;
                st.why = Why::ResetSent;
                st.pending = 0;
                st.pending_es = false;
                out.push(Frame::rst(stream, Code::Cancel));
                (Event::app(Call::Reset), stream, s.state)
            }
            Action::AppPush { stream, .. } => {
                let s = *end.stream(stream);
                let p = *end.stream(2);
                if e != SERVER
                    || !self.cfg.push
                    || !matches!(s.state, Open | HalfClosedRemote)
                    || (self.cfg.push_once_request_ended && s.state != HalfClosedRemote)
                    || !s.headers_recv
                    || p.state != Idle
                    || end.goaway_recv.is_some()
                    || end.active_initiated_by(false) >= MAX_CONCURRENT
                {
                    return None;
                }
                end.highest_own = 2;
                end.stream_mut(2).state = ReservedLocal;
                out.push(Frame {
                    promised: 2,
                    ..Frame::new(Kind::PushPromise, stream)
                });
                (Event::app(Call::Push), stream, s.state)
            }
            Action::AppGoaway { .. } => {
                if end.goaway_sent.is_some() || !self.cfg.goaway {
                    return None;
                }
                end.goaway_sent = Some(end.processed);
                out.push(Frame::goaway(end.processed, Code::NoError));
                (Event::app(Call::Goaway), 0, Idle)
            }
            _ => unreachable!("not an application call"),
        };
        w.net[e].extend(out.iter().copied());
        if !record {
            return Some(None);
        }
        let after = if stream == 0 {
            "connection".to_string()
        } else {
            w.ends[e].stream(stream).state.to_string()
        };
        let before = if stream == 0 {
            "connection".to_string()
        } else {
            before.to_string()
        };
        Some(Some(EndStep {
            end: e,
            event,
            kind: None,
            stream,
            before,
            after,
            output: out.to_vec(),
            alternatives: vec![],
            may_close: false,
        }))
    }

    /// Sends what both windows allow of the stream's queued data, as one
    /// DATA frame (a target's frames on one stream are read as one run).
    fn flush(end: &mut End, stream: u8, out: &mut Frames) {
        let conn = &mut end.conn_win;
        let st = &mut end.streams[index_of(stream)];
        // A negative window sends nothing (§6.9.2).
        let win = if st.win == BIG_STREAM_WINDOW {
            u8::MAX
        } else {
            st.win.max(0) as u8
        };
        let n = st.pending.min(win).min(*conn);
        if n > 0 {
            st.pending -= n;
            if st.win != BIG_STREAM_WINDOW {
                st.win -= n as i8;
            }
            if *conn != BIG_WINDOW {
                *conn -= n;
            }
            let es = st.pending == 0 && st.pending_es;
            out.push(Frame::data(stream, n, es));
            if es {
                Self::send_end_stream(st);
            }
        }
        if st.pending == 0
            && st.pending_es
            && !out.iter().any(|f| f.stream == stream && f.end_stream)
        {
            out.push(Frame::data(stream, 0, true));
            Self::send_end_stream(st);
        }
    }

    fn send_end_stream(st: &mut Stream) {
        use StreamState::*;
        st.pending_es = false;
        st.state = match st.state {
            Open => HalfClosedLocal,
            HalfClosedRemote => {
                st.why = Why::Ended;
                Closed
            }
            s => s,
        };
    }

    fn recv_end_stream(st: &mut Stream) {
        use StreamState::*;
        st.state = match st.state {
            Open => HalfClosedRemote,
            HalfClosedLocal => {
                st.why = Why::Ended;
                Closed
            }
            s => s,
        };
    }

    /// What receiving `f` does at `r`, judged as the plain frame of its
    /// kind, most preferred first.
    fn plain_reactions(&self, end: &End, r: usize, f: &Frame) -> Vec<Reaction> {
        let stream = if matches!(f.kind, Kind::Settings | Kind::Ping | Kind::GoAway) {
            0
        } else {
            f.stream
        };
        if stream == 0 && f.kind != Kind::WindowUpdate {
            vec![match f.kind {
                Kind::Settings | Kind::Ping | Kind::GoAway if f.stream == 0 => {
                    // §6.5: a SETTINGS length not a multiple of 6; §6.7: a
                    // PING length other than 8: FRAME_SIZE_ERROR.
                    if f.bad_len && matches!(f.kind, Kind::Ping | Kind::Settings) {
                        Reaction::ConnError(Code::FrameSizeError)
                    } else {
                        Reaction::Accept
                    }
                }
                // §6.1–§6.4, §6.10: DATA, HEADERS, PRIORITY, RST_STREAM,
                // CONTINUATION on stream 0; §6.5, §6.7, §6.8: SETTINGS,
                // PING, GOAWAY on a stream: PROTOCOL_ERROR.
                _ => Reaction::ConnError(Code::ProtocolError),
            }]
        } else if f.stream == 0 {
            // WINDOW_UPDATE for the connection (§6.9).
            vec![match (f.bad_len, f.inc) {
                (true, _) => Reaction::ConnError(Code::FrameSizeError),
                (_, Inc::Zero) => Reaction::ConnError(Code::ProtocolError),
                // §6.9.1: a window above 2^31−1 is a connection error
                // FLOW_CONTROL_ERROR; an empty window takes 2^31−1 exactly.
                (_, Inc::Max) if end.conn_win > 0 => Reaction::ConnError(Code::FlowControlError),
                _ => Reaction::Accept,
            }]
        } else {
            self.reactions(end, r, f)
        }
    }

    /// The reactions to a probe of shape `f.shape`, from those to the plain
    /// frame. A malformed frame is judged by its frame rule first (§4.2,
    /// §6.1); an implementation that judges the stream's state first may
    /// answer as for the plain frame, unless that answer is to process it.
    fn shaped(f: &Frame, plain: Vec<Reaction>) -> Vec<Reaction> {
        use Reaction::*;
        let mut v = match f.shape {
            // > An endpoint MUST send an error code of FRAME_SIZE_ERROR if a
            // > frame exceeds the size defined in SETTINGS_MAX_FRAME_SIZE ...
            // > A frame size error in a frame that could alter the state of
            // > the entire connection MUST be treated as a connection error
            // > (§4.2): frames carrying a field block, SETTINGS, stream 0.
            Shape::Oversized => {
                let whole_connection = f.stream == 0
                    || matches!(
                        f.kind,
                        Kind::Headers | Kind::PushPromise | Kind::Continuation | Kind::Settings
                    );
                if whole_connection {
                    vec![ConnError(Code::FrameSizeError)]
                } else {
                    vec![
                        StreamError(Code::FrameSizeError),
                        ConnError(Code::FrameSizeError),
                    ]
                }
            }
            // > If the length of the padding is the length of the frame
            // > payload or greater, the recipient MUST treat this as a
            // > connection error (Section 5.4.1) of type PROTOCOL_ERROR.
            // > (§6.1, §6.2)
            Shape::BadPadding => vec![ConnError(Code::ProtocolError)],
            Shape::Fields(c) => match c.fault() {
                Fault::None => return plain,
                Fault::Compression => vec![ConnError(Code::CompressionError)],
                // §5.4.1: any stream error may be a connection error.
                Fault::Malformed => vec![
                    StreamError(Code::ProtocolError),
                    ConnError(Code::ProtocolError),
                ],
            },
            // > A request or response is also malformed if the value of a
            // > content-length header field does not equal the sum of the
            // > DATA frame payload lengths that form the content (§8.1.1)
            Shape::ShortOfContentLength => vec![
                StreamError(Code::ProtocolError),
                ConnError(Code::ProtocolError),
            ],
            // Valid padding, the largest frame, unknown flags, the reserved
            // bit and unknown error codes change nothing (§4.1, §4.2, §6.1,
            // §7).
            _ => return plain,
        };
        for p in plain {
            if p != Accept && !v.contains(&p) {
                v.push(p);
            }
        }
        v
    }

    /// Endpoint `r` receives `f`.
    fn receive(&self, w: &mut World, r: usize, f: Frame, record: bool) -> Option<EndStep> {
        use StreamState::*;
        let initial_win = self.initial_window(r);
        let end = &mut w.ends[r];
        if end.dead {
            // The connection is closed: what arrives is never read.
            return None;
        }
        let mut out = Frames::new();
        let stream = if matches!(f.kind, Kind::Settings | Kind::Ping | Kind::GoAway) {
            0
        } else {
            f.stream
        };
        let before = if stream == 0 {
            "connection"
        } else {
            end.stream(stream).state.name()
        };
        let last = end.processed;
        // > Clients and servers MUST treat an invalid connection preface as
        // > a connection error (Section 5.4.1) of type PROTOCOL_ERROR. A
        // > GOAWAY frame (Section 6.8) MAY be omitted in this case, since an
        // > invalid preface indicates that the peer is not using HTTP/2.
        // > (§3.4)
        let may_close =
            f.shape == Shape::BadMagic || (!end.got_settings && f.kind != Kind::Settings);
        let rs: Vec<Reaction> = if may_close {
            // §3.4: the magic, then SETTINGS as the preface's first frame.
            vec![Reaction::ConnError(Code::ProtocolError)]
        } else if end
            .block
            .is_some_and(|b| f.kind != Kind::Continuation || f.stream != b)
        {
            // §6.10: a header block is contiguous; "any other type of frame
            // or a frame on a different stream" in between is a connection
            // error of type PROTOCOL_ERROR (frames of unknown types too).
            vec![Reaction::ConnError(Code::ProtocolError)]
        } else if f.kind == Kind::Unknown {
            // §4.1, §5.5: "Implementations MUST ignore and discard frames of
            // unknown types."
            vec![Reaction::Ignore]
        } else if let Some(rs) = Self::settings_rule(end, &f) {
            rs
        } else {
            Self::shaped(&f, self.plain_reactions(end, r, &f))
        };
        let reaction = rs[0];
        let alternatives = rs[1..].to_vec();
        let mut alternatives: Vec<Option<Frame>> = alternatives
            .iter()
            .map(|a| a.frame(f.stream, last))
            .collect();
        // A connection error inside a header block that opens a peer's
        // stream: whether that stream was processed yet (§6.8) is the
        // implementation's view, so its GOAWAY may leave it out.
        if let (Reaction::ConnError(c), Some(b)) = (reaction, end.block) {
            if !Self::own(r, b) && b == last {
                let before = STREAM_IDS
                    .iter()
                    .zip(&end.streams)
                    .filter(|(&id, s)| {
                        id < b
                            && !Self::own(r, id)
                            && s.state != StreamState::Idle
                            && s.why != Why::Implicit
                    })
                    .map(|(&id, _)| id)
                    .max()
                    .unwrap_or(0);
                alternatives.push(Some(Frame::goaway(before, c)));
            }
        }
        // An HPACK error in the block that opens a peer's stream: the
        // stream's identifier is used (§5.1.1), and whether the GOAWAY
        // counts it as one the sender "might have taken some action on"
        // (§6.8) is the implementation's view.
        if let (Reaction::ConnError(c), Shape::Fields(class)) = (reaction, f.shape) {
            if class.fault() == Fault::Compression
                && end.stream(f.stream).state == Idle
                && !Self::own(r, f.stream)
            {
                alternatives.push(Some(Frame::goaway(f.stream, c)));
            }
        }
        // A malformed request answered with a connection error (§5.4.1):
        // the request was read, so its stream may count as processed
        // (§6.8) as for an HPACK error.
        if let Shape::Fields(class) = f.shape {
            if class.fault() == Fault::Malformed
                && end.stream(f.stream).state == Idle
                && !Self::own(r, f.stream)
            {
                alternatives.push(Some(Frame::goaway(f.stream, Code::ProtocolError)));
            }
        }
        let end = &mut w.ends[r];
        match reaction {
            Reaction::Ignore => {}
            Reaction::IgnoreNewStream(id) => {
                end.highest_peer = end.highest_peer.max(id);
                Self::open_implicitly(end, id);
                let st = end.stream_mut(id);
                st.state = Closed;
                st.why = Why::ResetSent;
            }
            Reaction::ConnError(_) => {
                out.extend(reaction.frame(f.stream, last));
                end.dead = true;
                end.block = None;
            }
            Reaction::StreamError(_) => {
                out.extend(reaction.frame(f.stream, last));
                let st = end.stream_mut(f.stream);
                if st.state == Idle {
                    // A refused stream still counts as opened (§5.1.1).
                    end.highest_peer = end.highest_peer.max(f.stream);
                    Self::open_implicitly(end, f.stream);
                }
                let st = end.stream_mut(f.stream);
                st.state = Closed;
                st.why = Why::ResetSent;
                st.pending = 0;
                st.pending_es = false;
            }
            Reaction::StreamErrorOn(p, _) => {
                out.extend(reaction.frame(f.stream, last));
                end.highest_peer = end.highest_peer.max(p);
                let st = end.stream_mut(p);
                st.state = Closed;
                st.why = Why::ResetSent;
            }
            Reaction::Accept => match f.kind {
                Kind::Settings => {
                    if !f.ack {
                        end.got_settings = true;
                        out.push(Frame {
                            ack: true,
                            ..settings()
                        });
                        Self::apply_initial_window(end, f.shape, &mut out);
                    }
                }
                Kind::Ping => {
                    if !f.ack {
                        out.push(Frame {
                            ack: true,
                            ..Frame::new(Kind::Ping, 0)
                        });
                    }
                }
                Kind::GoAway => {
                    end.goaway_recv = Some(f.last);
                    // §6.8: streams this endpoint opened above last-stream-id
                    // were not processed; they close (and may be retried).
                    for (k, &id) in STREAM_IDS.iter().enumerate() {
                        if Self::own(r, id) && id > f.last && end.streams[k].state != Idle {
                            end.streams[k].state = Closed;
                            end.streams[k].why = Why::ResetRecv;
                            end.streams[k].pending = 0;
                            end.streams[k].pending_es = false;
                        }
                    }
                }
                Kind::WindowUpdate if f.stream == 0 => {
                    if f.inc == Inc::Max {
                        end.conn_win = BIG_WINDOW;
                    } else if end.conn_win != BIG_WINDOW {
                        end.conn_win += 1;
                    }
                    for id in STREAM_IDS {
                        Self::flush(end, id, &mut out);
                    }
                }
                Kind::WindowUpdate => {
                    let st = end.stream_mut(f.stream);
                    if f.inc == Inc::Max {
                        st.win = BIG_STREAM_WINDOW;
                    } else if st.win != BIG_STREAM_WINDOW {
                        st.win += 1;
                    }
                    Self::flush(end, f.stream, &mut out);
                }
                Kind::Priority | Kind::Unknown => {}
                Kind::RstStream => {
                    let st = end.stream_mut(f.stream);
                    st.state = Closed;
                    st.why = Why::ResetRecv;
                    st.pending = 0;
                    st.pending_es = false;
                }
                Kind::Data => {
                    let st = end.stream_mut(f.stream);
                    if f.end_stream {
                        Self::recv_end_stream(st);
                    }
                }
                Kind::Headers => {
                    let st = *end.stream(f.stream);
                    if st.state == Idle {
                        if end.goaway_sent.is_some_and(|l| f.stream > l) {
                            w.violations |= Violation::ProcessedAfterGoaway as u8;
                        }
                        let end = &mut w.ends[r];
                        end.highest_peer = f.stream;
                        end.processed = f.stream;
                        Self::open_implicitly(end, f.stream);
                        let st = end.stream_mut(f.stream);
                        st.state = Open;
                        st.win = initial_win;
                    } else if st.state == ReservedRemote {
                        end.stream_mut(f.stream).state = HalfClosedLocal;
                    }
                    let end = &mut w.ends[r];
                    let st = end.stream_mut(f.stream);
                    st.headers_recv = true;
                    if f.end_stream {
                        Self::recv_end_stream(st);
                    }
                    if !f.end_headers {
                        end.block = Some(f.stream);
                    }
                }
                Kind::Continuation => {
                    end.block = None;
                }
                Kind::PushPromise => {
                    end.highest_peer = f.promised;
                    end.processed = f.promised;
                    let p = end.stream_mut(f.promised);
                    p.state = ReservedRemote;
                }
            },
        }
        w.net[r].extend(out.iter().copied());
        if !record {
            return None;
        }
        let end = &w.ends[r];
        let after = if stream == 0 {
            "connection".to_string()
        } else {
            end.stream(stream).state.to_string()
        };
        Some(EndStep {
            end: r,
            event: Event::recv(event_name(&f)),
            kind: Some(f.kind),
            stream,
            before: before.to_string(),
            after,
            output: out.to_vec(),
            alternatives,
            may_close,
        })
    }

    /// True when no frame is in flight.
    pub fn quiet(w: &World) -> bool {
        w.net[0].is_empty() && w.net[1].is_empty()
    }

    /// False for the actions [`Self::step`] surely does not enable in
    /// `w`: most of the actions the model has are not enabled in a given
    /// state, and the checker would try each. Only guards of `step`
    /// itself, cheap ones, decide here (`tests/h2_actions.rs` checks that
    /// no enabled action is left out).
    fn may_enable<'a>(&'a self, w: &'a World) -> impl Fn(&Action) -> bool + 'a {
        use StreamState::*;
        let iut = self.cfg.iut;
        // The guards every application call passes first (see `step`).
        let calls = [CLIENT, SERVER].map(|e| {
            !w.probed
                && !w.ends[e].dead
                && w.ends[e].got_settings
                && w.net[e].is_empty()
                && ((e == iut && !self.cfg.sequential) || Self::quiet(w))
        });
        move |a: &Action| match *a {
            Action::NetDeliver { from } => !w.net[from].is_empty(),
            Action::AppRequest {
                end, stream, split, ..
            } => {
                calls[end]
                    && end == CLIENT
                    && !(split && end == iut)
                    && w.ends[end].stream(stream).state == Idle
            }
            Action::AppRespond { end, stream, .. } => {
                calls[end] && end == SERVER && !w.ends[end].stream(stream).headers_sent
            }
            Action::AppData { end, stream, .. } | Action::AppEnd { end, stream } => {
                let s = w.ends[end].stream(stream);
                calls[end]
                    && s.headers_sent
                    && !s.pending_es
                    && matches!(s.state, Open | HalfClosedRemote)
            }
            Action::AppReset { end, stream } => {
                calls[end]
                    && matches!(
                        w.ends[end].stream(stream).state,
                        Open | HalfClosedLocal | HalfClosedRemote | ReservedLocal
                    )
            }
            Action::AppPush { end, .. } => {
                calls[end] && end == SERVER && self.cfg.push && w.ends[end].stream(2).state == Idle
            }
            Action::AppGoaway { end } => {
                calls[end] && self.cfg.goaway && w.ends[end].goaway_sent.is_none()
            }
            Action::HarnessWindowUpdate { end, .. } => end != iut && !w.probed && !w.ends[end].dead,
            _ => true,
        }
    }

    /// The probes the harness may send: every stream-level frame type on
    /// every stream, plus the malformed frames RFC 9113 names an error for.
    pub fn probes(&self) -> Vec<Frame> {
        let mut v = Vec::new();
        for &id in &STREAM_IDS {
            v.push(Frame::data(id, 1, false));
            v.push(Frame::headers(id, false));
            v.push(Frame::headers(id, true));
            v.push(Frame::new(Kind::Priority, id));
            v.push(Frame::rst(id, Code::Cancel));
            v.push(Frame::new(Kind::WindowUpdate, id));
            v.push(Frame::new(Kind::Continuation, id));
            // From a server harness a push; from a client one, illegal.
            v.push(Frame {
                promised: 2,
                ..Frame::new(Kind::PushPromise, id)
            });
        }
        // Malformed frames, on stream 1.
        {
            let id = 1u8;
            v.push(Frame {
                inc: Inc::Zero,
                ..Frame::new(Kind::WindowUpdate, id)
            });
            v.push(Frame {
                inc: Inc::Max,
                ..Frame::new(Kind::WindowUpdate, id)
            });
            v.push(Frame {
                bad_len: true,
                ..Frame::new(Kind::Priority, id)
            });
            v.push(Frame {
                bad_len: true,
                ..Frame::rst(id, Code::Cancel)
            });
        }
        // Connection-level.
        v.push(Frame::data(0, 1, false));
        v.push(Frame::headers(0, false));
        v.push(Frame::new(Kind::Ping, 0));
        v.push(Frame {
            bad_len: true,
            ..Frame::new(Kind::Ping, 0)
        });
        v.push(Frame {
            inc: Inc::Zero,
            ..Frame::new(Kind::WindowUpdate, 0)
        });
        v.push(Frame {
            inc: Inc::Max,
            ..Frame::new(Kind::WindowUpdate, 0)
        });
        v.push(Frame::new(Kind::Settings, 1));
        v.extend(Self::frame_rule_probes());
        v.extend(Self::header_block_probes());
        v.extend(Self::settings_probes());
        v.extend(Self::header_semantics_probes());
        v
    }

    /// Header blocks (RFC 9113 §4.3, §6.10): frames of every kind that may
    /// not come between a HEADERS without END_HEADERS on stream 1 and its
    /// CONTINUATION (a CONTINUATION on another stream among them).
    pub fn header_block_probes() -> Vec<Frame> {
        let inside = |f: Frame| Frame {
            shape: Shape::InsideBlock,
            ..f
        };
        vec![
            inside(Frame::data(BLOCK_STREAM, 1, false)),
            inside(Frame::new(Kind::Priority, BLOCK_STREAM)),
            inside(Frame::rst(BLOCK_STREAM, Code::Cancel)),
            inside(Frame::new(Kind::WindowUpdate, 0)),
            inside(Frame::new(Kind::Ping, 0)),
            inside(Frame::new(Kind::Settings, 0)),
            inside(Frame::headers(3, true)),
            inside(Frame::new(Kind::Continuation, 3)),
            inside(Frame::new(Kind::Unknown, BLOCK_STREAM)),
        ]
    }

    /// Header semantics (RFC 9113 §8) and HPACK (RFC 7541): a HEADERS on
    /// stream 1 whose field block is of each class (where its part of a
    /// message fits the harness's role), and DATA short of a declared
    /// content-length. Where each may go is [`Self::fields_probe_fits`].
    pub fn header_semantics_probes() -> Vec<Frame> {
        let mut v: Vec<Frame> = FIELD_CLASSES
            .iter()
            .filter(|c| **c != FieldClass::ContentLength)
            .map(|&c| Frame {
                shape: Shape::Fields(c),
                ..Frame::headers(1, true)
            })
            .collect();
        v.push(Frame {
            shape: Shape::ShortOfContentLength,
            ..Frame::data(1, 1, true)
        });
        v
    }

    /// A header-semantics probe goes where its block is the one the IUT
    /// waits for on stream 1: a request's on an idle stream (a server
    /// IUT), a response's on a stream whose request the IUT sent (a client
    /// IUT), trailers after either; never after a GOAWAY (a new stream
    /// above it is ignored, §6.8). Other probes always fit.
    fn fields_probe_fits(&self, w: &World, f: &Frame) -> bool {
        let part = match f.shape {
            Shape::Fields(c) => c.part(),
            Shape::ShortOfContentLength => Part::Message,
            _ => return true,
        };
        let iut = &w.ends[self.cfg.iut];
        if iut.goaway_sent.is_some() || iut.goaway_recv.is_some() {
            return false;
        }
        let s = iut.stream(f.stream);
        let message_start = if self.cfg.iut == SERVER {
            s.state == StreamState::Idle
        } else {
            matches!(s.state, StreamState::Open | StreamState::HalfClosedLocal) && !s.headers_recv
        };
        match part {
            Part::Request => self.cfg.iut == SERVER && message_start,
            Part::Response => self.cfg.iut == CLIENT && message_start,
            Part::Message => message_start,
            Part::Trailers => {
                matches!(s.state, StreamState::Open | StreamState::HalfClosedLocal)
                    && s.headers_recv
            }
        }
    }

    /// The frame rules of RFC 9113 §4 and §6, on stream 1 (whose states
    /// reach idle, open, both half-closed and every way of closing) and on
    /// the connection: sizes, padding, unknown types, flags and codes, the
    /// reserved bit, wrong lengths, and frames on the wrong kind of stream.
    pub fn frame_rule_probes() -> Vec<Frame> {
        let shaped = |f: Frame, shape: Shape| Frame { shape, ..f };
        let bad_len = |f: Frame| Frame { bad_len: true, ..f };
        vec![
            shaped(Frame::data(1, 1, false), Shape::Oversized),
            shaped(Frame::data(1, 1, false), Shape::MaxSize),
            shaped(Frame::data(1, 1, false), Shape::Padded),
            shaped(Frame::data(1, 1, false), Shape::BadPadding),
            shaped(Frame::headers(1, true), Shape::Padded),
            shaped(Frame::headers(1, true), Shape::BadPadding),
            shaped(Frame::data(1, 1, false), Shape::UnknownFlags),
            shaped(Frame::data(1, 1, false), Shape::ReservedBit),
            shaped(Frame::rst(1, Code::Cancel), Shape::UnknownCode),
            Frame::new(Kind::Unknown, 1),
            Frame::new(Kind::Unknown, 0),
            shaped(Frame::new(Kind::Ping, 0), Shape::UnknownFlags),
            // §6.7: "An endpoint MUST NOT respond to PING frames containing
            // this flag."
            Frame {
                ack: true,
                ..Frame::new(Kind::Ping, 0)
            },
            shaped(Frame::goaway(0, Code::NoError), Shape::UnknownCode),
            bad_len(Frame::new(Kind::WindowUpdate, 1)),
            bad_len(Frame::new(Kind::WindowUpdate, 0)),
            bad_len(Frame::new(Kind::Settings, 0)),
            Frame::new(Kind::Ping, 1),
            Frame {
                stream: 1,
                ..Frame::goaway(0, Code::NoError)
            },
            Frame::new(Kind::Priority, 0),
            Frame::rst(0, Code::Cancel),
        ]
    }
}

// ------------------------------------------------ SETTINGS and the preface

impl H2Model {
    /// SETTINGS (RFC 9113 §6.5, §6.9.2): each parameter's bounds, an
    /// unknown parameter, an ACK with a payload (a length not a multiple of
    /// 6 is a frame rule, [`Self::frame_rule_probes`]), and
    /// SETTINGS_INITIAL_WINDOW_SIZE changed mid-connection: down to 0
    /// (windows go negative; then two WINDOW_UPDATEs, DATA waiting for the
    /// second), up to 2^31−1, and up to 2^31−1 over a window above its
    /// initial size.
    pub fn settings_probes() -> Vec<Frame> {
        let shaped = |shape: Shape| Frame {
            shape,
            ..settings()
        };
        let mut v: Vec<Frame> = [
            Shape::EnablePushTwo,
            Shape::WindowAboveMax,
            Shape::FrameSizeBelowMin,
            Shape::FrameSizeAboveMax,
            Shape::UnknownSetting,
            Shape::WindowShrink,
            Shape::WindowGrowMax,
            Shape::WindowOverflow,
        ]
        .into_iter()
        .map(shaped)
        .collect();
        v.push(Frame {
            ack: true,
            ..shaped(Shape::AckWithPayload)
        });
        for id in [1, 3, 2] {
            v.push(Frame {
                shape: Shape::AfterShrink,
                ..Frame::new(Kind::WindowUpdate, id)
            });
        }
        v
    }

    /// The connection preface (RFC 9113 §3.4): a bad magic from a client,
    /// and a PING where the first SETTINGS belongs. Sent instead of the
    /// harness's preface, so never among [`Self::probes`].
    pub fn preface_probes() -> Vec<Frame> {
        vec![
            Frame {
                shape: Shape::BadMagic,
                ..settings()
            },
            Frame {
                shape: Shape::BeforeSettings,
                ..Frame::new(Kind::Ping, 0)
            },
        ]
    }

    pub fn is_preface_probe(f: &Frame) -> bool {
        matches!(f.shape, Shape::BadMagic | Shape::BeforeSettings)
    }

    /// The frames a SETTINGS probe sends before its last: the WINDOW_UPDATE
    /// that lifts stream 1's window above its initial size, or the
    /// SETTINGS of INITIAL_WINDOW_SIZE 0 and the first WINDOW_UPDATE.
    fn settings_probe_lead(f: &Frame) -> Vec<Frame> {
        match f.shape {
            Shape::WindowOverflow => vec![Frame::new(Kind::WindowUpdate, 1)],
            Shape::AfterShrink => vec![
                Frame {
                    shape: Shape::WindowShrink,
                    ..settings()
                },
                *f,
            ],
            _ => vec![],
        }
    }

    /// What a SETTINGS frame's parameters require of its receiver, where
    /// they decide (§6.5, §6.5.2, §6.9.2); `None` for a plain SETTINGS.
    fn settings_rule(end: &End, f: &Frame) -> Option<Vec<Reaction>> {
        use Reaction::ConnError;
        if f.kind != Kind::Settings || f.stream != 0 || f.bad_len {
            return None;
        }
        Some(match f.shape {
            // > Any value other than 0 or 1 MUST be treated as a connection
            // > error (Section 5.4.1) of type PROTOCOL_ERROR. (ENABLE_PUSH)
            // > Values outside this range MUST be treated as a connection
            // > error (Section 5.4.1) of type PROTOCOL_ERROR.
            // > (MAX_FRAME_SIZE, 2^14 to 2^24−1)
            Shape::EnablePushTwo | Shape::FrameSizeBelowMin | Shape::FrameSizeAboveMax => {
                vec![ConnError(Code::ProtocolError)]
            }
            // > Values above the maximum flow-control window size of 2^31-1
            // > MUST be treated as a connection error (Section 5.4.1) of type
            // > FLOW_CONTROL_ERROR.
            Shape::WindowAboveMax => vec![ConnError(Code::FlowControlError)],
            // > Receipt of a SETTINGS frame with the ACK flag set and a length
            // > field value other than 0 MUST be treated as a connection
            // > error (Section 5.4.1) of type FRAME_SIZE_ERROR. (§6.5)
            Shape::AckWithPayload => vec![ConnError(Code::FrameSizeError)],
            // > An endpoint MUST treat a change to
            // > SETTINGS_INITIAL_WINDOW_SIZE that causes any flow-control
            // > window to exceed the maximum size as a connection error
            // > (Section 5.4.1) of type FLOW_CONTROL_ERROR. (§6.9.2)
            // Growing to 2^31−1 overflows exactly the windows above their
            // initial size of one unit.
            Shape::WindowGrowMax | Shape::WindowOverflow
                if end.streams.iter().any(|s| {
                    !matches!(s.state, StreamState::Idle | StreamState::Closed)
                        && s.win != BIG_STREAM_WINDOW
                        && s.win > HARNESS_WINDOW as i8
                }) =>
            {
                vec![ConnError(Code::FlowControlError)]
            }
            _ => return None,
        })
    }

    /// A SETTINGS_INITIAL_WINDOW_SIZE the endpoint accepted changes every
    /// stream window it keeps by the difference (§6.9.2): one unit down for
    /// 0 (a window may go negative, and holds its DATA until it is
    /// positive again), to "never runs out" for 2^31−1, which releases
    /// the DATA the stream windows held.
    fn apply_initial_window(end: &mut End, shape: Shape, out: &mut Frames) {
        let kept = |s: &Stream| {
            !matches!(s.state, StreamState::Idle | StreamState::Closed)
                && s.win != BIG_STREAM_WINDOW
        };
        match shape {
            Shape::WindowShrink => {
                for s in end.streams.iter_mut().filter(|s| kept(s)) {
                    s.win -= 1;
                }
            }
            Shape::WindowGrowMax | Shape::WindowOverflow => {
                for s in end.streams.iter_mut().filter(|s| kept(s)) {
                    s.win = BIG_STREAM_WINDOW;
                }
                for id in STREAM_IDS {
                    Self::flush(end, id, out);
                }
            }
            _ => {}
        }
    }
}

/// An application call's event: `app data (END_STREAM)` when the frame it
/// sends ends the stream.
fn app_event(call: Call, end_stream: bool) -> Event {
    let event = Event::app(call);
    if end_stream {
        event.with(Qualifier::EndStream)
    } else {
        event
    }
}

/// How a received frame is named in a transition: its type and the flags
/// that matter.
pub fn event_name(f: &Frame) -> String {
    let mut s = f.kind.to_string();
    if f.end_stream {
        s.push_str(" END_STREAM");
    }
    if !f.end_headers {
        s.push_str(" without END_HEADERS");
    }
    if f.ack {
        s.push_str(" ACK");
    }
    if f.kind == Kind::WindowUpdate {
        match f.inc {
            Inc::Zero => s.push_str(" +0"),
            Inc::Max => s.push_str(" +2^31-1"),
            Inc::One => {}
        }
    }
    if f.bad_len {
        s.push_str(" bad length");
    }
    s.push_str(f.shape.suffix());
    if f.stream == 0
        && !matches!(
            f.kind,
            Kind::Settings | Kind::Ping | Kind::GoAway | Kind::WindowUpdate | Kind::Unknown
        )
    {
        s.push_str(" on stream 0");
    }
    if f.stream != 0 && matches!(f.kind, Kind::Settings | Kind::Ping | Kind::GoAway) {
        s.push_str(" on a stream");
    }
    s
}

impl Model for H2Model {
    type State = World;
    type Action = Action;

    fn init_states(&self) -> Vec<World> {
        let end = End {
            got_settings: false,
            streams: [stream0(); 4],
            conn_win: BIG_WINDOW,
            highest_peer: 0,
            highest_own: 0,
            processed: 0,
            goaway_sent: None,
            goaway_recv: None,
            dead: false,
            block: None,
        };
        let mut ends = [end, end];
        // The harness gives the IUT the default connection window; the
        // IUT's window never runs out for the harness's one-byte frames.
        ends[self.cfg.iut].conn_win = CONN_WINDOW_UNITS;
        vec![World {
            ends,
            // The client's preface ends in its SETTINGS; the server's preface
            // is its SETTINGS (§3.4).
            net: [
                [settings()].into_iter().collect(),
                [settings()].into_iter().collect(),
            ],
            probed: false,
            violations: 0,
        }]
    }

    fn actions(&self, w: &World, actions: &mut Vec<Action>) {
        // Listed only if step may enable it: see `may_enable`.
        let actions = &mut Gate {
            may: self.may_enable(w),
            out: actions,
        };
        for from in [CLIENT, SERVER] {
            if !w.net[from].is_empty() {
                actions.push(Action::NetDeliver { from });
            }
        }
        if w.probed {
            return;
        }
        for end in [CLIENT, SERVER] {
            if w.ends[end].dead || !w.ends[end].got_settings {
                continue;
            }
            for &stream in &STREAM_IDS {
                for end_stream in [false, true] {
                    for split in [false, true] {
                        actions.push(Action::AppRequest {
                            end,
                            stream,
                            end_stream,
                            split,
                        });
                    }
                    actions.push(Action::AppRespond {
                        end,
                        stream,
                        end_stream,
                    });
                    actions.push(Action::AppData {
                        end,
                        stream,
                        end_stream,
                    });
                }
                actions.push(Action::AppEnd { end, stream });
                actions.push(Action::AppReset { end, stream });
                actions.push(Action::AppPush { end, stream });
                actions.push(Action::HarnessWindowUpdate { end, stream });
            }
            actions.push(Action::HarnessWindowUpdate { end, stream: 0 });
            actions.push(Action::AppGoaway { end });
        }
        if self.cfg.probes {
            let h = self.harness();
            if !w.ends[h].dead && w.ends[h].got_settings && w.ends[self.cfg.iut].got_settings {
                for frame in self.probes() {
                    actions.push(Action::HarnessProbe { end: h, frame });
                }
            }
        }
    }

    fn next_state(&self, w: &World, action: Action) -> Option<World> {
        self.transition(w, action, false).map(|(w, _)| w)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut v = vec![
            Property::always("concurrency_limit_never_exceeded", |_, w: &World| {
                w.ends.iter().all(|e| {
                    e.active_initiated_by(true) <= MAX_CONCURRENT
                        && e.active_initiated_by(false) <= MAX_CONCURRENT
                })
            }),
            Property::always("stream_ids_only_grow", |_, w: &World| {
                w.violations & Violation::IdDidNotGrow as u8 == 0
            }),
            Property::always("ends_agree_when_nothing_is_in_flight", |_, w: &World| {
                !H2Model::quiet(w)
                    || w.probed
                    || w.ends.iter().any(|e| e.dead)
                    || w.ends[0]
                        .streams
                        .iter()
                        .zip(&w.ends[1].streams)
                        .all(|(a, b)| a.state == b.state.mirror())
            }),
            Property::always("blocked_stream_never_blocks_another", |_, w: &World| {
                // Data waits only for its own stream's window or the
                // connection's, never for another stream.
                w.ends.iter().all(|e| {
                    e.conn_win == 0 || e.streams.iter().all(|s| s.pending == 0 || s.win == 0)
                })
            }),
            Property::always("no_stream_above_goaway_processed", |_, w: &World| {
                w.violations & Violation::ProcessedAfterGoaway as u8 == 0
            }),
            Property::eventually(
                "every_request_ends_in_a_response_or_a_reset",
                |_, w: &World| {
                    let c = &w.ends[CLIENT];
                    w.probed
                        || c.dead
                        || w.ends[SERVER].dead
                        || STREAM_IDS.iter().zip(&c.streams).all(|(&id, s)| {
                            id % 2 == 0
                                || s.state == StreamState::Idle
                                || s.headers_recv
                                || matches!(s.why, Why::ResetSent | Why::ResetRecv | Why::Implicit)
                        })
                },
            ),
        ];
        // What each configuration can reach.
        if self.cfg.client_streams >= 2 {
            v.push(Property::sometimes(
                "two_streams_open_at_once",
                |_, w: &World| w.ends[SERVER].active_initiated_by(true) == 2,
            ));
        }
        if self.cfg.push {
            v.push(Property::sometimes("push_completes", |_, w: &World| {
                w.ends[CLIENT].stream(2).headers_recv
            }));
        }
        // A stream blocked beside one that flows needs two streams the
        // small-window side sends on: the client's 1 and 3, or a server's
        // response and its push.
        if self.cfg.client_streams >= 2 || (self.cfg.push && self.cfg.iut == SERVER) {
            v.push(Property::sometimes(
                "one_stream_blocked_while_another_flows",
                |_, w: &World| {
                    w.ends.iter().any(|e| {
                        let blocked = e.streams.iter().filter(|s| s.pending > 0).count();
                        let flowing = e
                            .streams
                            .iter()
                            .filter(|s| s.pending == 0 && s.sent > 0 && s.state.active())
                            .count();
                        blocked > 0 && flowing > 0
                    })
                },
            ));
            // The IUT spends the whole connection window (§6.9.1).
            v.push(Property::sometimes(
                "connection_window_blocks_the_sender",
                |m: &H2Model, w: &World| {
                    let e = &w.ends[m.cfg.iut];
                    e.conn_win == 0 && e.streams.iter().any(|s| s.pending > 0 && s.win > 0)
                },
            ));
        }
        v
    }
}

/// The RFC section behind each property.
pub fn property_rfc(name: &str) -> &'static str {
    match name {
        "concurrency_limit_never_exceeded" => "RFC 9113 §5.1.2",
        "stream_ids_only_grow" => "RFC 9113 §5.1.1",
        "ends_agree_when_nothing_is_in_flight" => "RFC 9113 §5.1",
        "blocked_stream_never_blocks_another" => "RFC 9113 §5.2",
        "connection_window_blocks_the_sender" => "RFC 9113 §6.9.1",
        "no_stream_above_goaway_processed" => "RFC 9113 §6.8",
        "every_request_ends_in_a_response_or_a_reset" => "RFC 9113 §8.1",
        _ => "RFC 9113",
    }
}

// ---------------------------------------------------------------------------
// Flow control as a receiver (RFC 9113 §6.9) and attacks at bounded cost
// (§10.5). The stream-lifecycle search above keeps the harness's DATA far
// below the IUT's windows; these rules are what `gen::h2_families` builds
// its traces from: the IUT's windows overrun, its WINDOW_UPDATEs owed, and
// floods whose defence the RFC leaves open.

pub use tracewright_vocab::h2::{Attack, Window};
use tracewright_vocab::h2::{ErrorName, FrameSpec, FrameType};

/// The harness's DATA frames in the traces that spend the IUT's receive
/// windows: the largest frame every receiver takes (SETTINGS_MAX_FRAME_SIZE's
/// initial value, §6.5.2), so that the windows (65 535 octets by default,
/// §6.9.2) run out in a few frames.
pub const FULL_FRAME: u32 = 1 << 14;

/// SETTINGS_INITIAL_WINDOW_SIZE the IUT is asked to announce where a trace
/// overruns its stream window: below [`FULL_FRAME`], so that one DATA frame
/// can overrun it. A receiver that gives window back as it reads can be
/// overrun by no run of frames, only by one frame: the harness cannot tell
/// which WINDOW_UPDATEs came between its frames.
pub const SMALL_STREAM_WINDOW: u32 = 8_192;

/// SETTINGS_INITIAL_WINDOW_SIZE and SETTINGS_MAX_FRAME_SIZE the IUT is asked
/// to announce where a trace overruns its connection window (65 535 octets,
/// which SETTINGS cannot change, §6.9.2): one frame, larger than the
/// connection window and within the stream window, overruns only the
/// connection's.
pub const LARGE_STREAM_WINDOW: u32 = 1 << 17;

impl H2Model {
    /// What the IUT does with DATA one octet beyond its receive `window`,
    /// most preferred first (RFC 9113 §6.9.1: the sender MUST NOT exceed
    /// either window; §6.9: errors on the connection window are connection
    /// errors; §5.4.1: any stream error MAY be a connection error).
    pub fn overrun_reactions(window: Window) -> Vec<Reaction> {
        match window {
            Window::Stream => vec![
                Reaction::StreamError(Code::FlowControlError),
                Reaction::ConnError(Code::FlowControlError),
            ],
            Window::Connection => vec![Reaction::ConnError(Code::FlowControlError)],
        }
    }
}

/// How many rounds each attack's trace sends: enough that a sane server
/// has defended itself or still answers, few enough that a trace replays
/// in well under a second in process. All in one place.
pub fn attack_rounds(a: Attack) -> u32 {
    match a {
        // Ten times the largest SETTINGS_MAX_CONCURRENT_STREAMS the real
        // servers announce (100–128): a server that counts reset streams
        // as open has hit its limit, one that starts work for each request
        // has started a thousand.
        Attack::RapidReset => 1_000,
        // 32 MiB of one header block (2 048 frames of 2^14): twice the
        // largest limit on field sections we know (the h2 crate's default
        // SETTINGS_MAX_HEADER_LIST_SIZE, 16 MiB); servers take 8–64 KiB.
        Attack::ContinuationFlood => 2_048,
        // Ten thousand frames each asking for an acknowledgement, where a
        // connection needs a handful.
        Attack::SettingsFlood | Attack::PingFlood => 10_000,
        // The setup request and one bomb of about 64 MB decoded: one, so
        // that no bomb goes beyond the model's limit of 2 concurrent
        // streams, where a refused stream would stop the flood whether or
        // not the IUT bounds what it decodes.
        Attack::HpackBomb => 2,
    }
}

/// What the IUT may send in answer to each round of `a`, besides stopping
/// the flood, as patterns; `true` when every round must get exactly one.
pub fn attack_answers(a: Attack) -> (Vec<FrameSpec>, bool) {
    let ack = |t: FrameType| FrameSpec {
        ack: true,
        ..FrameSpec::new(t)
    };
    match a {
        // §6.5.3: "the recipient MUST immediately emit a SETTINGS frame
        // with the ACK flag set"; §6.7: "Receivers of a PING frame that
        // does not include an ACK flag MUST send a PING frame with the ACK
        // flag set in response".
        Attack::SettingsFlood => (vec![ack(FrameType::Settings)], true),
        Attack::PingFlood => (vec![ack(FrameType::Ping)], true),
        // A server may refuse any request before processing it (§8.7), and
        // its application may answer one before the reset arrives.
        Attack::RapidReset => (
            vec![
                FrameSpec {
                    error: Some(ErrorName::RefusedStream),
                    ..FrameSpec::new(FrameType::RstStream)
                },
                FrameSpec::new(FrameType::Headers),
                FrameSpec::new(FrameType::Data),
            ],
            false,
        ),
        // The bomb's setup is a plain request on stream 1, which a server
        // may answer.
        Attack::HpackBomb => (
            vec![
                FrameSpec {
                    stream: Some(1),
                    ..FrameSpec::new(FrameType::Headers)
                },
                FrameSpec {
                    stream: Some(1),
                    ..FrameSpec::new(FrameType::Data)
                },
            ],
            false,
        ),
        Attack::ContinuationFlood => (vec![], false),
    }
}

/// The defences RFC 9113 §10.5 leaves open against `a`, as patterns
/// (closing the connection is always one): a GOAWAY, with
/// ENHANCE_YOUR_CALM or any code ("An endpoint MAY treat activity that is
/// suspicious as a connection error ... of type ENHANCE_YOUR_CALM",
/// §10.5), and against a field section larger than the IUT will take, a
/// stream error on its stream (§10.5.1: "A server that receives a larger
/// field block than it is willing to handle can send an HTTP 431 ...
/// status code"; the block "MUST be processed to ensure a consistent
/// connection state, unless the connection is closed"). `true` when the
/// IUT must defend itself: taking every round is unbounded acceptance.
pub fn attack_stops(a: Attack) -> (Vec<FrameSpec>, bool) {
    let goaway = FrameSpec::new(FrameType::Goaway);
    match a {
        Attack::RapidReset | Attack::SettingsFlood | Attack::PingFlood => (vec![goaway], false),
        Attack::ContinuationFlood => (vec![goaway, FrameSpec::new(FrameType::RstStream)], true),
        Attack::HpackBomb => (vec![goaway, FrameSpec::new(FrameType::RstStream)], true),
    }
}

/// The RFC sections behind each attack's trace.
pub fn attack_rfc(a: Attack) -> &'static str {
    match a {
        Attack::RapidReset => "RFC 9113 §10.5, §5.1.2 (CVE-2023-44487)",
        Attack::ContinuationFlood => "RFC 9113 §10.5, §10.5.1, §6.10",
        Attack::SettingsFlood => "RFC 9113 §10.5, §6.5.3",
        Attack::PingFlood => "RFC 9113 §10.5, §6.7",
        Attack::HpackBomb => "RFC 9113 §10.5.1, RFC 7541 §7.3",
    }
}

// ---------------------------------------------------------------------------
// Both sides' settings varied (RFC 9113 §6.5.2): the IUT's own
// SETTINGS_ENABLE_PUSH 0, and the harness's SETTINGS_MAX_CONCURRENT_STREAMS
// below the model's. `gen::h2_families` builds a trace from each rule.

/// SETTINGS_MAX_CONCURRENT_STREAMS the harness announces to a client IUT
/// held back by it: one stream, so that the application's second request
/// meets the limit while the first is open.
pub const HARNESS_MAX_CONCURRENT: u32 = 1;

impl H2Model {
    /// What a client IUT that announced SETTINGS_ENABLE_PUSH 0 does with a
    /// PUSH_PROMISE, on any stream: "A client cannot push. Thus, servers
    /// MUST treat the receipt of a PUSH_PROMISE frame as a connection error
    /// ... of type PROTOCOL_ERROR." (§8.4), and §6.5.2 "An endpoint MUST
    /// NOT send a PUSH_PROMISE frame if it receives this parameter set to a
    /// value of 0"; §6.6: "A receiver MUST treat the receipt of a
    /// PUSH_PROMISE frame as a connection error ... of type PROTOCOL_ERROR
    /// if it has previously advertised SETTINGS_ENABLE_PUSH as 0".
    pub fn push_disabled_reactions() -> Vec<Reaction> {
        vec![Reaction::ConnError(Code::ProtocolError)]
    }

    /// What a client IUT sends when its application asks for a stream
    /// while `open` of its streams are active and the peer allows `limit`
    /// (RFC 9113 §5.1.2: "An endpoint that wishes to open a stream MUST NOT
    /// exceed the limit set by its peer"): the request's HEADERS within the
    /// limit; beyond it nothing, the request held or refused locally. Once
    /// a stream closes, a held request may go, or stay refused: either
    /// answer, most preferred first (`None` for silence).
    pub fn request_within_limit(open: u32, limit: u32, stream: u8) -> Vec<Option<Frame>> {
        if open < limit {
            vec![Some(Frame::headers(stream, true))]
        } else {
            vec![None]
        }
    }

    /// After a stream closed under the limit: a held request goes, or a
    /// refused one stays unsent.
    pub fn held_request_released(stream: u8) -> Vec<Option<Frame>> {
        vec![Some(Frame::headers(stream, true)), None]
    }
}

// ---------------------------------------------------------------------------
// Attacks on a client IUT (RFC 9113 §10.5): the harness, as server, floods
// the responses of streams the IUT opened.

/// The streams a client IUT's application opens (each with a request that
/// ends it) before the harness floods their responses: the CONTINUATION
/// flood's block on 1, the HPACK bomb's setup and bomb on 1 and 3 (within
/// the model's limit of 2 concurrent streams). Empty where the attack does
/// not go to a client: rapid reset floods requests.
pub fn client_attack_streams(a: Attack) -> Vec<u8> {
    match a {
        Attack::ContinuationFlood => vec![1],
        Attack::HpackBomb => vec![1, 3],
        Attack::SettingsFlood | Attack::PingFlood => vec![],
        Attack::RapidReset => vec![],
    }
}

/// Whether `a` goes to a client IUT: everything but rapid reset, whose
/// rounds are requests (CVE-2023-44487).
pub fn attacks_client(a: Attack) -> bool {
    a != Attack::RapidReset
}

/// What a client IUT may send in answer to each round of `a`, as
/// [`attack_answers`] for a server: to the SETTINGS and PING floods their
/// ACKs; to a response's header block nothing (a client answers no
/// response; its WINDOW_UPDATEs are never constrained).
pub fn client_attack_answers(a: Attack) -> (Vec<FrameSpec>, bool) {
    match a {
        Attack::ContinuationFlood | Attack::HpackBomb => (vec![], false),
        _ => attack_answers(a),
    }
}
