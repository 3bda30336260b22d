//! HTTP/2 traces in `tracewright/1`: the steps, frames and application
//! calls a trace names, the YAML writer and the loader. The codec, the
//! targets and replay live in `tracewright_conformance::h2`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::trace::{yaml_scalar, Protocol, Role, Transition};
/// An HTTP/2 trace file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct H2Trace {
    pub format: String,
    pub id: String,
    pub protocol: Protocol,
    pub iut: Role,
    pub profile: String,
    pub variant: Option<String>,
    pub description: String,
    pub covers: Vec<Transition>,
    #[serde(with = "serde_yaml::with::singleton_map_recursive")]
    pub steps: Vec<H2Step>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum H2Step {
    /// A call the IUT's application makes.
    App(H2App),
    /// A frame from the harness.
    Send(FrameSpec),
    /// What the IUT must emit next.
    Expect(FrameExpect),
    /// A stream's RFC 9113 §5.1 state at the IUT.
    State(StreamCheck),
    /// An attack: the harness repeats one round of frames many times
    /// (RFC 9113 §10.5).
    Flood(Flood),
}

/// Application calls on the IUT.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum H2App {
    /// A client opens its next stream with a GET.
    Request { stream: u32, end_stream: bool },
    /// A server answers (or sends the pushed response) with `:status 200`.
    Respond { stream: u32, end_stream: bool },
    /// `len` bytes of data.
    Data {
        stream: u32,
        end_stream: bool,
        len: u32,
    },
    /// END_STREAM on an empty DATA frame.
    End { stream: u32 },
    /// RST_STREAM(CANCEL).
    Reset { stream: u32 },
    /// A server promises a push on `stream`.
    Push { stream: u32 },
    /// GOAWAY(NO_ERROR).
    Goaway,
}

impl fmt::Display for H2App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let es = |b: bool| if b { " END_STREAM" } else { "" };
        match self {
            H2App::Request { stream, end_stream } => {
                write!(f, "app request on {stream}{}", es(*end_stream))
            }
            H2App::Respond { stream, end_stream } => {
                write!(f, "app respond on {stream}{}", es(*end_stream))
            }
            H2App::Data {
                stream,
                end_stream,
                len,
            } => write!(f, "app data ({len} bytes) on {stream}{}", es(*end_stream)),
            H2App::End { stream } => write!(f, "app end stream {stream}"),
            H2App::Reset { stream } => write!(f, "app reset {stream}"),
            H2App::Push { stream } => write!(f, "app push on {stream}"),
            H2App::Goaway => f.write_str("app goaway"),
        }
    }
}

/// Frame types, with `NONE` for "nothing" in an expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FrameType {
    Data,
    Headers,
    Priority,
    RstStream,
    Settings,
    PushPromise,
    Ping,
    Goaway,
    WindowUpdate,
    Continuation,
    /// A frame type no specification defines (RFC 9113 §4.1, §5.5: the
    /// receiver ignores it): sent with type code [`UNKNOWN_TYPE_CODE`].
    Unknown,
    /// Silence (patterns only).
    None,
    /// The IUT closed the connection with nothing more said (patterns
    /// only): where RFC 9113 lets it leave out the GOAWAY (§3.4).
    Closed,
}

/// The type code the harness writes for [`FrameType::Unknown`]: none of
/// RFC 9113 §6, nor any registered extension's.
pub const UNKNOWN_TYPE_CODE: u8 = 0xfa;

impl FrameType {
    pub fn code(self) -> Option<u8> {
        Some(match self {
            FrameType::Data => 0,
            FrameType::Headers => 1,
            FrameType::Priority => 2,
            FrameType::RstStream => 3,
            FrameType::Settings => 4,
            FrameType::PushPromise => 5,
            FrameType::Ping => 6,
            FrameType::Goaway => 7,
            FrameType::WindowUpdate => 8,
            FrameType::Continuation => 9,
            FrameType::Unknown => UNKNOWN_TYPE_CODE,
            FrameType::None | FrameType::Closed => return None,
        })
    }
    pub fn from_code(c: u8) -> Option<FrameType> {
        [
            FrameType::Data,
            FrameType::Headers,
            FrameType::Priority,
            FrameType::RstStream,
            FrameType::Settings,
            FrameType::PushPromise,
            FrameType::Ping,
            FrameType::Goaway,
            FrameType::WindowUpdate,
            FrameType::Continuation,
        ]
        .get(c as usize)
        .copied()
    }
    pub fn name(self) -> &'static str {
        match self {
            FrameType::Data => "DATA",
            FrameType::Headers => "HEADERS",
            FrameType::Priority => "PRIORITY",
            FrameType::RstStream => "RST_STREAM",
            FrameType::Settings => "SETTINGS",
            FrameType::PushPromise => "PUSH_PROMISE",
            FrameType::Ping => "PING",
            FrameType::Goaway => "GOAWAY",
            FrameType::WindowUpdate => "WINDOW_UPDATE",
            FrameType::Continuation => "CONTINUATION",
            FrameType::Unknown => "UNKNOWN",
            FrameType::None => "NONE",
            FrameType::Closed => "CLOSED",
        }
    }
}

impl fmt::Display for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// RFC 9113 §7 error codes, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorName {
    NoError,
    ProtocolError,
    InternalError,
    FlowControlError,
    SettingsTimeout,
    StreamClosed,
    FrameSizeError,
    RefusedStream,
    Cancel,
    CompressionError,
    ConnectError,
    EnhanceYourCalm,
    InadequateSecurity,
    #[serde(rename = "HTTP_1_1_REQUIRED")]
    Http11Required,
}

const ERRORS: [ErrorName; 14] = [
    ErrorName::NoError,
    ErrorName::ProtocolError,
    ErrorName::InternalError,
    ErrorName::FlowControlError,
    ErrorName::SettingsTimeout,
    ErrorName::StreamClosed,
    ErrorName::FrameSizeError,
    ErrorName::RefusedStream,
    ErrorName::Cancel,
    ErrorName::CompressionError,
    ErrorName::ConnectError,
    ErrorName::EnhanceYourCalm,
    ErrorName::InadequateSecurity,
    ErrorName::Http11Required,
];

impl ErrorName {
    pub fn code(self) -> u32 {
        ERRORS.iter().position(|&e| e == self).unwrap_or(0) as u32
    }
    pub fn from_code(c: u32) -> Option<ErrorName> {
        ERRORS.get(c as usize).copied()
    }
    pub fn name(self) -> &'static str {
        match self {
            ErrorName::NoError => "NO_ERROR",
            ErrorName::ProtocolError => "PROTOCOL_ERROR",
            ErrorName::InternalError => "INTERNAL_ERROR",
            ErrorName::FlowControlError => "FLOW_CONTROL_ERROR",
            ErrorName::SettingsTimeout => "SETTINGS_TIMEOUT",
            ErrorName::StreamClosed => "STREAM_CLOSED",
            ErrorName::FrameSizeError => "FRAME_SIZE_ERROR",
            ErrorName::RefusedStream => "REFUSED_STREAM",
            ErrorName::Cancel => "CANCEL",
            ErrorName::CompressionError => "COMPRESSION_ERROR",
            ErrorName::ConnectError => "CONNECT_ERROR",
            ErrorName::EnhanceYourCalm => "ENHANCE_YOUR_CALM",
            ErrorName::InadequateSecurity => "INADEQUATE_SECURITY",
            ErrorName::Http11Required => "HTTP_1_1_REQUIRED",
        }
    }
}

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A frame the harness sends, or a pattern over one the IUT emits. Fields a
/// type does not use stay absent; in a pattern, absent means unconstrained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameSpec {
    #[serde(rename = "type")]
    pub kind: FrameType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<u32>,
    /// DATA / HEADERS: END_STREAM (always constrained for them).
    #[serde(default, skip_serializing_if = "is_false")]
    pub end_stream: bool,
    /// HEADERS: false sends it without END_HEADERS (a CONTINUATION follows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_headers: Option<bool>,
    /// SETTINGS / PING: ACK (always constrained for them).
    #[serde(default, skip_serializing_if = "is_false")]
    pub ack: bool,
    /// DATA: payload bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<u32>,
    /// RST_STREAM / GOAWAY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorName>,
    /// PUSH_PROMISE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised: Option<u32>,
    /// GOAWAY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_stream: Option<u32>,
    /// WINDOW_UPDATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub increment: Option<u32>,
    /// SETTINGS_INITIAL_WINDOW_SIZE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_window_size: Option<u32>,
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_streams: Option<u32>,
    /// Send: a payload of this many bytes instead of the type's own (a
    /// malformed frame).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    /// Send, DATA / HEADERS: the PADDED flag, a Pad Length of this many
    /// octets and as many zero octets of padding (RFC 9113 §6.1, §6.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad: Option<u8>,
    /// Send, DATA / HEADERS: the PADDED flag with a Pad Length equal to the
    /// whole payload's length and no padding octets: padding as long as the
    /// payload, a connection error PROTOCOL_ERROR (RFC 9113 §6.1, §6.2).
    #[serde(default, skip_serializing_if = "is_false")]
    pub bad_pad: bool,
    /// Send: flag bits the type does not define, set besides its own
    /// (RFC 9113 §4.1: the receiver ignores them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u8>,
    /// Send: the reserved bit of the stream identifier set (RFC 9113 §4.1:
    /// the receiver ignores it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub reserved_bit: bool,
    /// Send, RST_STREAM / GOAWAY: this error code, one §7 need not name
    /// (RFC 9113 §7: unknown codes trigger no special behavior); it
    /// overrides `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    // SETTINGS parameters and the preface (RFC 9113 §3.4, §6.5.2).
    /// Send, SETTINGS: SETTINGS_ENABLE_PUSH with this value (RFC 9113
    /// §6.5.2: 0 or 1). In a pattern for the IUT's SETTINGS: the value it
    /// must announce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_push: Option<u32>,
    /// SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2: 2^14 to 2^24−1). Send,
    /// SETTINGS: the harness announces this value. In the IUT's first
    /// SETTINGS, with `initial_window_size`: what a target that can be told
    /// is opened announcing; the replay reckons with the value the IUT
    /// announces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frame_size: Option<u32>,
    /// Send, SETTINGS: a parameter with this identifier, one no
    /// specification defines, and the value 1 (RFC 9113 §6.5.2: ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_setting: Option<u16>,
    /// Send, SETTINGS, the first frame of a trace whose IUT is a server:
    /// the client preface is these octets instead of
    /// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magic: Option<String>,
    /// Send, DATA: a payload one octet larger than what the harness's send
    /// window allows there (RFC 9113 §6.9.1), as the harness knows it when
    /// it sends: the IUT's SETTINGS_INITIAL_WINDOW_SIZE, its WINDOW_UPDATEs
    /// and the DATA sent so far. It overrides `len`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beyond: Option<Window>,
    /// Send, HEADERS: the class of its field block (RFC 9113 §8, RFC 7541),
    /// which the harness encodes; absent, a valid request, response or
    /// trailers as the stream calls for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldClass>,
}

/// A flow-control window (RFC 9113 §6.9.1): a stream's or the connection's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    Stream,
    Connection,
}

/// An attack at bounded cost (RFC 9113 §10.5): what one round of a
/// [`Flood`] sends. The harness writes the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attack {
    /// Round r: a request (HEADERS with END_STREAM) on stream 2r+1, then
    /// RST_STREAM(CANCEL) on it (CVE-2023-44487).
    RapidReset,
    /// Round 0: a HEADERS without END_HEADERS on stream 1 (a request to a
    /// server IUT, a response to a client IUT, which opened the stream);
    /// every later round: a CONTINUATION of 2^14 octets of field lines,
    /// never with END_HEADERS (§6.10; CVE-2024-27316 and its kin).
    ContinuationFlood,
    /// Every round: a SETTINGS frame that changes nothing, which the IUT
    /// must acknowledge (§6.5.3).
    SettingsFlood,
    /// Every round: a PING, which the IUT must acknowledge (§6.7).
    PingFlood,
    /// Round 0: a request on stream 1 whose field block enters a field of
    /// about 4 000 octets into the IUT's HPACK dynamic table; round r: a
    /// request on stream 2r+1 whose block is one-octet references to that
    /// entry, 16 000 of them (RFC 7541 §2.3.2; RFC 9113 §10.5.1). To a
    /// client IUT, responses on the streams it opened, 1 and 3, the bomb's
    /// without END_STREAM (a client may discard a response it cannot
    /// process, §10.5.1: on an open stream, with RST_STREAM).
    HpackBomb,
}

impl Attack {
    pub fn name(self) -> &'static str {
        match self {
            Attack::RapidReset => "rapid reset",
            Attack::ContinuationFlood => "CONTINUATION flood",
            Attack::SettingsFlood => "SETTINGS flood",
            Attack::PingFlood => "PING flood",
            Attack::HpackBomb => "HPACK bomb",
        }
    }

    /// Whether the flood leaves a header block open: no PING may follow
    /// (§6.10).
    pub fn leaves_block_open(self) -> bool {
        self == Attack::ContinuationFlood
    }
}

impl fmt::Display for Attack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `flood: {attack: ping_flood, rounds: 10000, answers: [...], stops: [...]}`:
/// the harness sends `rounds` rounds of `attack`. RFC 9113 §10.5 leaves the
/// IUT's defence open, so the step allows each legal one:
/// - a frame of `stops` (a GOAWAY, a RST_STREAM …) or closing the
///   connection ends the flood, and the trace, as a pass;
/// - a frame of `answers` answers a round (with `every_round`, exactly one
///   per round: an acknowledgement the RFC requires);
/// - anything else is a failure.
///
/// Where nothing stopped it, the IUT must still be responsive: it answers
/// the harness's PING after the last round. With `must_stop`, the rounds
/// are far beyond what any sane limit takes, and taking them all without
/// a reaction is unbounded acceptance: a failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flood {
    pub attack: Attack,
    pub rounds: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<FrameSpec>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub every_round: bool,
    pub stops: Vec<FrameSpec>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub must_stop: bool,
}

impl fmt::Display for Flood {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} x{}", self.attack, self.rounds)
    }
}

/// The most rounds a flood may ask for: the loader refuses more.
pub const MAX_FLOOD_ROUNDS: u32 = 1_000_000;

impl FrameSpec {
    pub fn new(kind: FrameType) -> Self {
        FrameSpec {
            kind,
            stream: None,
            end_stream: false,
            end_headers: None,
            ack: false,
            len: None,
            error: None,
            promised: None,
            last_stream: None,
            increment: None,
            initial_window_size: None,
            max_concurrent_streams: None,
            length: None,
            pad: None,
            bad_pad: false,
            flags: None,
            reserved_bit: false,
            error_code: None,
            enable_push: None,
            max_frame_size: None,
            unknown_setting: None,
            magic: None,
            beyond: None,
            fields: None,
        }
    }

    /// Does the emitted frame `f` match this pattern?
    pub fn matches(&self, f: &Frame) -> bool {
        self.kind == f.kind
            && self.stream.is_none_or(|s| s == f.stream)
            && (!matches!(self.kind, FrameType::Data | FrameType::Headers)
                || self.end_stream == f.end_stream)
            && (!matches!(self.kind, FrameType::Settings | FrameType::Ping) || self.ack == f.ack)
            && self.len.is_none_or(|l| l == f.len)
            && self.error.is_none_or(|e| Some(e) == f.error)
            && self.promised.is_none_or(|p| p == f.promised)
            && self.last_stream.is_none_or(|l| l == f.last_stream)
            && (self.max_concurrent_streams.is_none()
                || self.max_concurrent_streams == f.max_concurrent_streams)
            && (self.enable_push.is_none() || self.enable_push == f.enable_push)
    }
}

impl fmt::Display for FrameSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        let mut parts: Vec<String> = Vec::new();
        if let Some(s) = self.stream {
            parts.push(s.to_string());
        }
        if let Some(l) = self.len {
            parts.push(format!("len={l}"));
        }
        if let Some(e) = self.error {
            parts.push(e.to_string());
        }
        if let Some(p) = self.promised {
            parts.push(format!("promised={p}"));
        }
        if let Some(l) = self.last_stream {
            parts.push(format!("last={l}"));
        }
        if let Some(i) = self.increment {
            parts.push(format!("+{i}"));
        }
        if let Some(w) = self.initial_window_size {
            parts.push(format!("INITIAL_WINDOW_SIZE={w}"));
        }
        if let Some(m) = self.max_concurrent_streams {
            parts.push(format!("MAX_CONCURRENT_STREAMS={m}"));
        }
        if self.end_stream {
            parts.push("ES".into());
        }
        if self.end_headers == Some(false) {
            parts.push("no END_HEADERS".into());
        }
        if self.ack {
            parts.push("ACK".into());
        }
        if let Some(l) = self.length {
            parts.push(format!("length={l}"));
        }
        if let Some(p) = self.pad {
            parts.push(format!("pad={p}"));
        }
        if self.bad_pad {
            parts.push("pad too long".into());
        }
        if let Some(x) = self.flags {
            parts.push(format!("flags={x:#04x}"));
        }
        if self.reserved_bit {
            parts.push("R".into());
        }
        if let Some(c) = self.error_code {
            parts.push(format!("code={c:#x}"));
        }
        if let Some(v) = self.enable_push {
            parts.push(format!("ENABLE_PUSH={v}"));
        }
        if let Some(v) = self.max_frame_size {
            parts.push(format!("MAX_FRAME_SIZE={v}"));
        }
        if let Some(id) = self.unknown_setting {
            parts.push(format!("{id:#06x}=1"));
        }
        if let Some(m) = &self.magic {
            parts.push(format!("magic={m:?}"));
        }
        if let Some(w) = self.beyond {
            parts.push(format!(
                "beyond the {} window",
                match w {
                    Window::Stream => "stream",
                    Window::Connection => "connection",
                }
            ));
        }
        if let Some(c) = self.fields {
            parts.push(format!("fields={}", c.name()));
        }
        if !parts.is_empty() {
            write!(f, "[{}]", parts.join(","))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- field blocks

/// The class of a header block the harness sends (RFC 9113 §8, RFC 7541):
/// what the harness's HPACK encoder writes for it. A trace names the class,
/// the codec makes the bytes. Classes that break a rule make a receiver
/// reset the stream with PROTOCOL_ERROR (§8.1.1) or, for HPACK, end the
/// connection with COMPRESSION_ERROR (§4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldClass {
    /// Dynamic table size updates to 0 and back to 4096 first (RFC 7541
    /// §4.2, §6.3): valid.
    TableSizeUpdate,
    /// A dynamic table size update one above the receiver's
    /// SETTINGS_HEADER_TABLE_SIZE (RFC 7541 §4.2).
    TableSizeAboveLimit,
    /// An index beyond the static and dynamic tables (RFC 7541 §2.3.3).
    BadIndex,
    /// A Huffman string whose padding is longer than 7 bits (RFC 7541 §5.2).
    BadHuffman,
    /// A request without `:method` (RFC 9113 §8.3.1).
    NoMethod,
    /// A request without `:scheme` (§8.3.1).
    NoScheme,
    /// A request without `:path` (§8.3.1).
    NoPath,
    /// A request with `:status` (§8.3).
    StatusInRequest,
    /// A request with `te: gzip` (§8.2.2).
    TeNotTrailers,
    /// A request with `te: trailers` (§8.2.2): valid.
    TeTrailers,
    /// A response without `:status` (§8.3.2).
    NoStatus,
    /// A response with `:method` (§8.3).
    MethodInResponse,
    /// `:path` (request) or `:status` (response) twice (§8.3).
    DuplicatePseudo,
    /// `:tracewright` (§8.3).
    UnknownPseudo,
    /// A regular field before the last pseudo-header (§8.3).
    PseudoAfterRegular,
    /// `X-Tracewright` (§8.2.1).
    UppercaseName,
    /// `x:tracewright` (§8.2.1).
    ColonInName,
    /// A field value with CR (§8.2.1).
    CrInValue,
    /// A field value with LF (§8.2.1).
    LfInValue,
    /// A field value with NUL (§8.2.1).
    NulInValue,
    /// `connection: keep-alive` (§8.2.2).
    Connection,
    /// `keep-alive: timeout=5` (§8.2.2).
    KeepAlive,
    /// `proxy-connection: keep-alive` (§8.2.2).
    ProxyConnection,
    /// `transfer-encoding: chunked` (§8.2.2).
    TransferEncoding,
    /// `upgrade: websocket` (§8.2.2).
    Upgrade,
    /// `content-length: 2` ([`CONTENT_LENGTH`]; §8.1.1): valid by itself.
    ContentLength,
    /// Trailers with `:path` (§8.1).
    PseudoInTrailers,
}

/// The `content-length` [`FieldClass::ContentLength`] declares.
pub const CONTENT_LENGTH: u32 = 2;

impl FieldClass {
    /// The rule the class exercises.
    pub fn rfc(self) -> &'static str {
        use FieldClass as C;
        match self {
            C::TableSizeUpdate | C::TableSizeAboveLimit => "RFC 9113 §4.3; RFC 7541 §4.2, §6.3",
            C::BadIndex => "RFC 9113 §4.3; RFC 7541 §2.3.3",
            C::BadHuffman => "RFC 9113 §4.3; RFC 7541 §5.2",
            C::NoMethod | C::NoScheme | C::NoPath => "RFC 9113 §8.1.1, §8.3.1",
            C::NoStatus => "RFC 9113 §8.1.1, §8.3.2",
            C::StatusInRequest
            | C::MethodInResponse
            | C::DuplicatePseudo
            | C::UnknownPseudo
            | C::PseudoAfterRegular => "RFC 9113 §8.1.1, §8.3",
            C::UppercaseName | C::ColonInName | C::CrInValue | C::LfInValue | C::NulInValue => {
                "RFC 9113 §8.1.1, §8.2.1"
            }
            C::TeNotTrailers
            | C::TeTrailers
            | C::Connection
            | C::KeepAlive
            | C::ProxyConnection
            | C::TransferEncoding
            | C::Upgrade => "RFC 9113 §8.1.1, §8.2.2",
            C::ContentLength => "RFC 9113 §8.1.1",
            C::PseudoInTrailers => "RFC 9113 §8.1, §8.1.1",
        }
    }

    /// As traces spell it.
    pub fn name(self) -> String {
        serde_yaml::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameExpect {
    pub any_of: Vec<FrameSpec>,
}

/// `state: {stream: 1, is: half-closed (remote)}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamCheck {
    pub stream: u32,
    pub is: String,
}

/// The RFC 9113 §5.1 states, as traces spell them.
pub const STREAM_STATES: [&str; 7] = [
    "idle",
    "reserved (local)",
    "reserved (remote)",
    "open",
    "half-closed (local)",
    "half-closed (remote)",
    "closed",
];

// ---------------------------------------------------------------- YAML

impl H2Trace {
    /// The trace as YAML, one step a line in flow style (as `Trace::to_yaml`).
    pub fn to_yaml(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "format: {}", self.format);
        let _ = writeln!(out, "id: {}", self.id);
        let _ = writeln!(out, "protocol: {}", self.protocol);
        let _ = writeln!(out, "iut: {}", self.iut);
        let _ = writeln!(out, "profile: {}", self.profile);
        let _ = writeln!(
            out,
            "variant: {}",
            self.variant.as_deref().unwrap_or("null")
        );
        let _ = writeln!(out, "description: {}", yaml_scalar(&self.description));
        let _ = writeln!(out, "covers:");
        for t in &self.covers {
            let _ = writeln!(
                out,
                "  - {{state: {}, event: {}, next: {}, output: {}}}",
                yaml_scalar(&t.state),
                yaml_scalar(&t.event.to_string()),
                yaml_scalar(&t.next),
                yaml_scalar(&t.output)
            );
        }
        let _ = writeln!(out, "steps:");
        for s in &self.steps {
            let line = match s {
                H2Step::App(H2App::Goaway) => "app: goaway".to_string(),
                H2Step::App(a) => format!("app: {}", flow(&serde_yaml::to_value(a).unwrap())),
                H2Step::Send(f) => format!("send: {}", flow(&serde_yaml::to_value(f).unwrap())),
                H2Step::Expect(e) => format!(
                    "expect: {{any_of: [{}]}}",
                    e.any_of
                        .iter()
                        .map(|f| flow(&serde_yaml::to_value(f).unwrap()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                H2Step::State(c) => {
                    format!(
                        "state: {{stream: {}, is: {}}}",
                        c.stream,
                        yaml_scalar(&c.is)
                    )
                }
                H2Step::Flood(fl) => format!("flood: {}", flow(&serde_yaml::to_value(fl).unwrap())),
            };
            let _ = writeln!(out, "  - {line}");
        }
        out
    }
}

/// A serde_yaml value in flow style (serde_yaml writes only block style).
fn flow(v: &serde_yaml::Value) -> String {
    use serde_yaml::Value;
    match v {
        Value::Mapping(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", flow(k), flow(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Tagged(t) => format!(
            "{{{}: {}}}",
            t.tag.to_string().trim_start_matches('!'),
            flow(&t.value)
        ),
        Value::String(s) => yaml_scalar(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => "null".into(),
        Value::Sequence(s) => format!("[{}]", s.iter().map(flow).collect::<Vec<_>>().join(", ")),
    }
}

// ---------------------------------------------------------------- loading

/// Loads and validates one HTTP/2 trace.
pub fn parse_h2_trace(
    path: &std::path::Path,
    text: &str,
) -> Result<H2Trace, crate::load::LoadError> {
    let trace: H2Trace = crate::load::parse(path, text)?;
    let bad = |field: &str, message: String| crate::load::LoadError {
        file: path.to_path_buf(),
        line: crate::profile::line_of(text, field),
        column: None,
        field: field.to_string(),
        message,
    };
    crate::load::check_header(
        path,
        text,
        (&trace.format, &trace.id, trace.protocol),
        Protocol::H2,
    )?;
    // The line of step i: the (i+1)-th item under `steps:`.
    let step_line = |i: usize| -> Option<usize> {
        let start = text.lines().position(|l| l.starts_with("steps:"))?;
        text.lines()
            .enumerate()
            .skip(start + 1)
            .filter(|(_, l)| l.starts_with("  - "))
            .nth(i)
            .map(|(n, _)| n + 1)
    };
    let bad = |i: usize, field: &str, message: String| crate::load::LoadError {
        line: step_line(i),
        ..bad(field, message)
    };
    crate::load::steps_limit(path, text, trace.steps.len())?;
    // Every size the harness allocates, and HTTP/2's 24-bit length field
    // (RFC 9113 §4.1), within the limit.
    for (i, s) in trace.steps.iter().enumerate() {
        let sizes = match s {
            H2Step::Send(f) => [("send.len", f.len), ("send.length", f.length)],
            H2Step::App(H2App::Data { len, .. }) => [("app.data.len", Some(*len)), ("", None)],
            _ => continue,
        };
        for (field, n) in sizes {
            if let Some(n) = n {
                crate::load::size_limit(path, text, i, &format!("steps[{i}].{field}"), n.into())?;
            }
        }
    }
    for (i, s) in trace.steps.iter().enumerate() {
        match s {
            H2Step::Expect(e) if e.any_of.is_empty() => {
                return Err(bad(
                    i,
                    "any_of",
                    format!("steps[{i}]: empty; an expectation needs a pattern"),
                ))
            }
            H2Step::State(c) if !STREAM_STATES.contains(&c.is.as_str()) => {
                return Err(bad(
                    i,
                    "is",
                    format!(
                        "steps[{i}]: `{}` is not an RFC 9113 §5.1 state ({})",
                        c.is,
                        STREAM_STATES.join(", ")
                    ),
                ))
            }
            H2Step::Send(f) if f.fields.is_some() && f.kind != FrameType::Headers => {
                return Err(bad(
                    i,
                    "fields",
                    format!(
                        "steps[{i}]: a field block class goes on a HEADERS frame, not on {}",
                        f.kind
                    ),
                ))
            }
            H2Step::Expect(e) if e.any_of.iter().any(|p| p.fields.is_some()) => {
                return Err(bad(
                    i,
                    "fields",
                    format!("steps[{i}]: a field block class is sent, never expected"),
                ))
            }
            H2Step::Send(f) if matches!(f.kind, FrameType::None | FrameType::Closed) => {
                return Err(bad(
                    i,
                    "type",
                    format!("steps[{i}]: {} can only be expected, not sent", f.kind),
                ))
            }
            H2Step::Flood(fl) if fl.rounds == 0 || fl.rounds > MAX_FLOOD_ROUNDS => {
                return Err(bad(
                    i,
                    "rounds",
                    format!(
                        "steps[{i}]: {} rounds; a flood has 1 to {MAX_FLOOD_ROUNDS}",
                        fl.rounds
                    ),
                ))
            }
            _ => {}
        }
    }
    check_preface(&trace, &bad)?;
    Ok(trace)
}

/// A `magic` (the client preface replaced, RFC 9113 §3.4) is the harness's
/// opening as a client: on the first `send` of a server-IUT trace, a
/// SETTINGS, 1 to [`MAX_MAGIC`] printable ASCII octets.
fn check_preface(
    trace: &H2Trace,
    bad: &dyn Fn(usize, &str, String) -> crate::load::LoadError,
) -> Result<(), crate::load::LoadError> {
    let first_send = trace
        .steps
        .iter()
        .position(|s| matches!(s, H2Step::Send(_)));
    for (i, s) in trace.steps.iter().enumerate() {
        let H2Step::Send(f) = s else { continue };
        let Some(m) = &f.magic else { continue };
        let why = if trace.iut != Role::Server {
            Some("only a client sends the connection preface: the IUT must be a server".into())
        } else if Some(i) != first_send {
            Some("the preface goes on the trace's first send".into())
        } else if f.kind != FrameType::Settings {
            Some(format!(
                "the preface is followed by SETTINGS (RFC 9113 §3.4), not {}",
                f.kind
            ))
        } else if m.is_empty() || m.len() > MAX_MAGIC {
            Some(format!("{} octets; 1 to {MAX_MAGIC} are allowed", m.len()))
        } else if !m
            .bytes()
            .all(|b| b.is_ascii_graphic() || b" \r\n".contains(&b))
        {
            Some("only printable ASCII, spaces, CR and LF are allowed".into())
        } else {
            None
        };
        if let Some(why) = why {
            return Err(bad(i, "magic", format!("steps[{i}]: {why}")));
        }
    }
    Ok(())
}

/// The longest `magic` a trace may send (the real one is 24 octets).
pub const MAX_MAGIC: usize = 64;

#[cfg(test)]
mod preface_tests {
    use super::*;

    fn trace(iut: &str, steps: &str) -> String {
        format!(
            "format: tracewright/1\nid: t\nprotocol: h2\niut: {iut}\nprofile: rfc9113\nvariant: null\ndescription: d\ncovers: []\nsteps:\n{steps}"
        )
    }

    #[test]
    fn a_magic_loads_on_the_first_send_of_a_server_trace() {
        let text = trace(
            "server",
            "  - expect: {any_of: [{type: SETTINGS}]}\n  - send: {type: SETTINGS, magic: \"PRI * HTTP/2.0\\r\\n\\r\\nXX\\r\\n\\r\\n\"}\n  - expect: {any_of: [{type: GOAWAY}, {type: CLOSED}]}\n",
        );
        let t = parse_h2_trace(std::path::Path::new("t.yaml"), &text).unwrap();
        let H2Step::Send(f) = &t.steps[1] else {
            panic!()
        };
        assert_eq!(f.magic.as_deref(), Some("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"));
        // Written back as it was read.
        assert_eq!(
            parse_h2_trace(std::path::Path::new("t.yaml"), &t.to_yaml()).unwrap(),
            t
        );
    }

    #[test]
    fn a_misplaced_magic_is_a_load_error_with_its_line_and_field() {
        let cases = [
            (
                "client",
                "  - send: {type: SETTINGS, magic: PRI}\n",
                "the IUT must be a server",
            ),
            (
                "server",
                "  - send: {type: SETTINGS}\n  - send: {type: SETTINGS, magic: PRI}\n",
                "first send",
            ),
            ("server", "  - send: {type: PING, magic: PRI}\n", "not PING"),
            (
                "server",
                "  - send: {type: SETTINGS, magic: \"\"}\n",
                "0 octets",
            ),
            (
                "server",
                "  - send: {type: SETTINGS, magic: \"\\0\"}\n",
                "printable ASCII",
            ),
        ];
        for (iut, steps, says) in cases {
            let text = trace(iut, steps);
            let e = parse_h2_trace(std::path::Path::new("t.yaml"), &text).unwrap_err();
            let shown = e.to_string();
            assert_eq!(e.field, "magic", "{shown}");
            // The line of the step that carries it: the last one.
            assert_eq!(e.line, Some(text.lines().count()), "{shown}");
            assert!(shown.contains(says), "{steps}: {shown}");
            assert!(shown.contains("t.yaml"), "{shown}");
        }
    }

    #[test]
    fn closed_can_only_be_expected() {
        let text = trace("server", "  - send: {type: CLOSED}\n");
        let e = parse_h2_trace(std::path::Path::new("t.yaml"), &text).unwrap_err();
        assert!(e.to_string().contains("CLOSED can only be expected"), "{e}");
    }
}

/// An HTTP/2 corpus, loaded.
#[derive(Debug, Default)]
pub struct H2Corpus {
    pub traces: Vec<H2Trace>,
    pub errors: Vec<crate::load::LoadError>,
    pub coverage: Option<crate::trace::Coverage>,
}

/// Loads every trace in `dir`; a bad file is recorded, the rest load.
pub fn load_h2_corpus(dir: &std::path::Path) -> std::io::Result<H2Corpus> {
    let (mut traces, errors, coverage) = crate::load::load_dir(dir, parse_h2_trace)?;
    traces.sort_by(|a: &H2Trace, b: &H2Trace| a.id.cmp(&b.id));
    Ok(H2Corpus {
        traces,
        errors,
        coverage,
    })
}

/// A frame the IUT emitted, as the harness decoded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub kind: FrameType,
    pub stream: u32,
    pub end_stream: bool,
    pub ack: bool,
    pub len: u32,
    pub error: Option<ErrorName>,
    pub promised: u32,
    pub last_stream: u32,
    pub increment: u32,
    /// SETTINGS: SETTINGS_MAX_CONCURRENT_STREAMS, when present.
    pub max_concurrent_streams: Option<u32>,
    /// SETTINGS: SETTINGS_INITIAL_WINDOW_SIZE, when present.
    pub initial_window_size: Option<u32>,
    /// SETTINGS: SETTINGS_MAX_FRAME_SIZE, when present.
    pub max_frame_size: Option<u32>,
    /// SETTINGS: SETTINGS_ENABLE_PUSH, when present.
    pub enable_push: Option<u32>,
    /// SETTINGS: SETTINGS_HEADER_TABLE_SIZE, when present.
    pub header_table_size: Option<u32>,
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut spec = FrameSpec::new(self.kind);
        match self.kind {
            FrameType::Settings | FrameType::Ping => {}
            FrameType::Goaway => spec.last_stream = Some(self.last_stream),
            _ => spec.stream = Some(self.stream),
        }
        spec.end_stream = self.end_stream;
        spec.ack = self.ack;
        spec.error = self.error;
        if self.kind == FrameType::Data {
            spec.len = Some(self.len);
        }
        if self.kind == FrameType::PushPromise {
            spec.promised = Some(self.promised);
        }
        if self.kind == FrameType::WindowUpdate {
            spec.increment = Some(self.increment);
        }
        spec.max_concurrent_streams = self.max_concurrent_streams;
        spec.initial_window_size = self.initial_window_size;
        spec.enable_push = self.enable_push;
        spec.fmt(f)
    }
}

#[cfg(test)]
mod field_class_tests {
    use super::*;

    const HEAD: &str = "format: tracewright/1\nid: h2-x\nprotocol: h2\niut: server\nprofile: rfc9113\nvariant: null\ndescription: x\ncovers: []\nsteps:\n";

    fn load(steps: &str) -> Result<H2Trace, crate::load::LoadError> {
        parse_h2_trace(std::path::Path::new("h2-x.yaml"), &format!("{HEAD}{steps}"))
    }

    #[test]
    fn a_field_class_loads_by_its_name() {
        let t = load("  - send: {type: HEADERS, stream: 1, end_stream: true, fields: no-path}\n")
            .unwrap();
        let H2Step::Send(f) = &t.steps[0] else {
            panic!("a send step")
        };
        assert_eq!(f.fields, Some(FieldClass::NoPath));
        assert_eq!(FieldClass::NoPath.name(), "no-path");
        assert_eq!(f.to_string(), "HEADERS[1,ES,fields=no-path]");
    }

    #[test]
    fn an_unknown_class_names_file_line_and_field() {
        let e = load("  - send: {type: SETTINGS}\n  - send: {type: HEADERS, stream: 1, fields: no-such-class}\n")
            .unwrap_err();
        assert_eq!(e.line, Some(11), "{e}");
        assert!(e.field.ends_with("fields"), "{e}");
        assert!(e.to_string().contains("h2-x.yaml"), "{e}");
    }

    #[test]
    fn a_class_off_a_headers_frame_is_refused_at_its_line() {
        let e = load("  - send: {type: DATA, stream: 1, len: 1, fields: no-path}\n").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(10), "fields"), "{e}");
        let e = load("  - expect: {any_of: [{type: HEADERS, fields: no-path}]}\n").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(10), "fields"), "{e}");
    }
}
