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
            FrameType::None => return None,
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
    /// Send, HEADERS: the class of its field block (RFC 9113 §8, RFC 7541),
    /// which the harness encodes; absent, a valid request, response or
    /// trailers as the stream calls for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldClass>,
}

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
            H2Step::Send(f) if f.kind == FrameType::None => {
                return Err(bad(
                    i,
                    "type",
                    format!("steps[{i}]: NONE can only be expected, not sent"),
                ))
            }
            _ => {}
        }
    }
    Ok(trace)
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
