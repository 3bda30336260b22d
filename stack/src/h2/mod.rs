//! The bundled HTTP/2 connection: sans-IO, written from RFC 9113, with
//! header compression (RFC 7541) from the `loona-hpack` crate.
//!
//! Heads up! Before working on this module you should read, at least,
//! RFC 9113 §3.4 (the connection preface), §4 (frames), §5.1 (the stream
//! states and their diagram), §5.4 (error handling), §6 (the frame types)
//! and §6.9 (flow control).
//!
//! A [`Connection`] is one endpoint of one HTTP/2 connection. It does no I/O
//! and keeps no clock: bytes from the peer go in through
//! [`Connection::handle_bytes`] (split anywhere; partial frames are
//! buffered) and [`Connection::handle_eof`]; what the application asks for
//! goes in through `send_request`, `send_headers`, `send_data`, `reset`,
//! `push_promise`, `ping`, `goaway` and `update_settings`. Bytes for the peer
//! come out of [`Connection::poll_transmit`], and what the application learns
//! comes out of [`Connection::poll_event`], in the order it happened. Nothing in here
//! panics on what a peer sends: a peer's violation becomes a stream error
//! (a RST_STREAM queued for output, RFC 9113 §5.4.2) or a connection error
//! (a GOAWAY queued for output, an [`Event::ConnectionError`], and no more
//! input processed, §5.4.1).
//!
//! The frame codec lives in `frame`, the §5.1 stream state machine (one
//! `match (state, frame)` for frames received, one for frames sent: the
//! two are different types, so a call can never meet a peer's error) in
//! `stream`, and the connection that ties them to
//! flow control, settings and HPACK in `conn`.
//!
//! Receive-side flow control is automatic: for every DATA frame it accepts,
//! the connection queues a WINDOW_UPDATE for the whole flow-controlled length
//! (payload and padding, RFC 9113 §6.9.1) right after processing it, on the
//! connection and on the stream, so the peer's windows never shrink for
//! good. The stream-level update is left out when the stream no longer
//! receives data after that frame (it is half-closed (remote) or closed, or
//! it was reset), where only the connection-level update is sent: the
//! connection window is shared and must be given back whatever happened to
//! the stream (§6.9: every flow-controlled frame counts against it).
//!
//! Settings we send are in force once the peer acknowledges them (§6.5.3),
//! with one exception: our SETTINGS_MAX_CONCURRENT_STREAMS is enforced as soon
//! as it is sent, since refusing a stream with REFUSED_STREAM is always safe
//! for the peer to retry (§8.7).
//!
//! Where the RFC leaves a choice, this connection takes the following one
//! (each is also noted where it is made):
//! - a peer stream beyond our SETTINGS_MAX_CONCURRENT_STREAMS is refused
//!   with the stream error REFUSED_STREAM, not PROTOCOL_ERROR (§5.1.2);
//! - a frame larger than our SETTINGS_MAX_FRAME_SIZE is always a connection
//!   error FRAME_SIZE_ERROR (§4.2);
//! - after we reset a stream, every later frame on it is ignored for the
//!   life of the connection (§5.1), DATA still counting for the connection
//!   window; the same for streams the peer opened above our GOAWAY's last
//!   stream (§6.8);
//! - any frame but PRIORITY on a stream closed implicitly by a higher
//!   identifier (§5.1.1) is a connection error PROTOCOL_ERROR;
//! - PUSH_PROMISE on a stream not open or half-closed (local) is a
//!   connection error PROTOCOL_ERROR (§6.6 wins over the STREAM_CLOSED of
//!   §5.1); a PUSH_PROMISE on a stream we reset reserves the promised stream
//!   and cancels it with RST_STREAM(CANCEL);
//! - a second HEADERS without END_STREAM after a final (non-1xx) header
//!   block is a stream error PROTOCOL_ERROR (§8.1);
//! - every header block received is checked for HTTP semantics (`fields`:
//!   pseudo-headers §8.3, field names and values §8.2.1, connection-specific
//!   fields and TE §8.2.2, pseudo-headers in trailers §8.1) and the DATA
//!   of a stream against its content-length (§8.1.1): a malformed message
//!   is a stream error PROTOCOL_ERROR, a malformed promised request resets
//!   the promised stream; SETTINGS_MAX_HEADER_LIST_SIZE is not announced
//!   (it is advisory, §6.5.2);
//! - what a peer can make the connection hold is bounded ([`Limits`],
//!   §10.5): a header block in assembly and a decoded field section (64
//!   KiB each; beyond, a connection error ENHANCE_YOUR_CALM: the CONTINUATION
//!   flood and the HPACK bomb), and the closed streams remembered (256;
//!   older ones are judged as closed implicitly: rapid reset). PINGs and
//!   SETTINGS are acknowledged one for one, each as it is read, so what
//!   they cost is what the application leaves unpolled;
//! - padding octets are not checked for zero (§6.1);
//! - a graceful GOAWAY of ours stops our own new streams too; a GOAWAY with
//!   an error code, sent or received, closes the connection;
//! - the HPACK encoder uses at most a 4096-octet dynamic table, smaller if
//!   the peer's SETTINGS_HEADER_TABLE_SIZE is, signalled by a dynamic table
//!   size update at the start of the next header block (RFC 7541 §4.2).

mod conn;
mod fields;
mod frame;
mod stream;
#[cfg(test)]
mod tests;

use std::fmt;

pub use conn::{Connection, Limits};

/// A stream identifier (RFC 9113 §5.1.1): 31 bits, odd for streams a client
/// opens, even for streams a server pushes, 0 for the connection itself.
pub type StreamId = u32;

/// Which end of the connection this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

/// The parameters of RFC 9113 §6.5.2, with its defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// SETTINGS_HEADER_TABLE_SIZE (0x01): the largest HPACK dynamic table
    /// the sender's decoder accepts. Default 4096.
    pub header_table_size: u32,
    /// SETTINGS_ENABLE_PUSH (0x02): whether server push is allowed. Default
    /// true; a server never sends 1.
    pub enable_push: bool,
    /// SETTINGS_MAX_CONCURRENT_STREAMS (0x03): `None` is unlimited, the
    /// default.
    pub max_concurrent_streams: Option<u32>,
    /// SETTINGS_INITIAL_WINDOW_SIZE (0x04): the initial stream window.
    /// Default 65535.
    pub initial_window_size: u32,
    /// SETTINGS_MAX_FRAME_SIZE (0x05): the largest frame payload the sender
    /// accepts. Default 16384.
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE (0x06): advisory. `None` is unlimited,
    /// the default.
    pub max_header_list_size: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            header_table_size: 4096,
            enable_push: true,
            max_concurrent_streams: None,
            initial_window_size: 65_535,
            max_frame_size: 16_384,
            max_header_list_size: None,
        }
    }
}

/// The stream states of RFC 9113 §5.1.
///
/// ```text
///                              +--------+
///                      send PP |        | recv PP
///                     ,--------+  idle  +--------.
///                    /         |        |         \
///                   v          +--------+          v
///            +----------+          |           +----------+
///            |          |          | send H /  |          |
///     ,------+ reserved |          | recv H    | reserved +------.
///     |      | (local)  |          |           | (remote) |      |
///     |      +---+------+          v           +------+---+      |
///     |          |             +--------+             |          |
///     |          |     recv ES |        | send ES     |          |
///     |   send H |     ,-------+  open  +-------.     | recv H   |
///     |          |    /        |        |        \    |          |
///     |          v   v         +---+----+         v   v          |
///     |      +----------+          |           +----------+      |
///     |      |   half-  |          |           |   half-  |      |
///     |      |  closed  |          | send R /  |  closed  |      |
///     |      | (remote) |          | recv R    | (local)  |      |
///     |      +----+-----+          |           +-----+----+      |
///     |           |                |                 |           |
///     |           | send ES /      |       recv ES / |           |
///     |           | send R /       v        send R / |           |
///     |           | recv R     +--------+   recv R   |           |
///     | send R /  `----------->|        |<-----------'  send R / |
///     | recv R                 | closed |               recv R   |
///     `----------------------->|        |<-----------------------'
///                              +--------+
/// ```
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

impl fmt::Display for StreamState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StreamState::Idle => "idle",
            StreamState::ReservedLocal => "reserved (local)",
            StreamState::ReservedRemote => "reserved (remote)",
            StreamState::Open => "open",
            StreamState::HalfClosedLocal => "half-closed (local)",
            StreamState::HalfClosedRemote => "half-closed (remote)",
            StreamState::Closed => "closed",
        })
    }
}

/// An error code of RFC 9113 §7, carried by RST_STREAM and GOAWAY.
/// Unknown codes are kept as they are (§7: they MUST NOT trigger any
/// special behavior).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    /// The condition is not a result of an error, e.g. a graceful GOAWAY.
    pub const NO_ERROR: ErrorCode = ErrorCode(0x0);
    /// An unspecific protocol error.
    pub const PROTOCOL_ERROR: ErrorCode = ErrorCode(0x1);
    /// An unexpected internal error.
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(0x2);
    /// The peer violated the flow-control protocol.
    pub const FLOW_CONTROL_ERROR: ErrorCode = ErrorCode(0x3);
    /// A SETTINGS frame was not acknowledged in time.
    pub const SETTINGS_TIMEOUT: ErrorCode = ErrorCode(0x4);
    /// A frame arrived after a stream was half-closed.
    pub const STREAM_CLOSED: ErrorCode = ErrorCode(0x5);
    /// A frame had an invalid size.
    pub const FRAME_SIZE_ERROR: ErrorCode = ErrorCode(0x6);
    /// The stream was refused before any application processing.
    pub const REFUSED_STREAM: ErrorCode = ErrorCode(0x7);
    /// The stream is no longer needed.
    pub const CANCEL: ErrorCode = ErrorCode(0x8);
    /// The HPACK context could not be maintained.
    pub const COMPRESSION_ERROR: ErrorCode = ErrorCode(0x9);
    /// The connection of a CONNECT request was reset or closed.
    pub const CONNECT_ERROR: ErrorCode = ErrorCode(0xa);
    /// The peer is generating excessive load.
    pub const ENHANCE_YOUR_CALM: ErrorCode = ErrorCode(0xb);
    /// The transport does not meet minimum security requirements.
    pub const INADEQUATE_SECURITY: ErrorCode = ErrorCode(0xc);
    /// HTTP/1.1 must be used instead.
    pub const HTTP_1_1_REQUIRED: ErrorCode = ErrorCode(0xd);

    /// The RFC name, if the code is one of RFC 9113 §7.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            ErrorCode::NO_ERROR => "NO_ERROR",
            ErrorCode::PROTOCOL_ERROR => "PROTOCOL_ERROR",
            ErrorCode::INTERNAL_ERROR => "INTERNAL_ERROR",
            ErrorCode::FLOW_CONTROL_ERROR => "FLOW_CONTROL_ERROR",
            ErrorCode::SETTINGS_TIMEOUT => "SETTINGS_TIMEOUT",
            ErrorCode::STREAM_CLOSED => "STREAM_CLOSED",
            ErrorCode::FRAME_SIZE_ERROR => "FRAME_SIZE_ERROR",
            ErrorCode::REFUSED_STREAM => "REFUSED_STREAM",
            ErrorCode::CANCEL => "CANCEL",
            ErrorCode::COMPRESSION_ERROR => "COMPRESSION_ERROR",
            ErrorCode::CONNECT_ERROR => "CONNECT_ERROR",
            ErrorCode::ENHANCE_YOUR_CALM => "ENHANCE_YOUR_CALM",
            ErrorCode::INADEQUATE_SECURITY => "INADEQUATE_SECURITY",
            ErrorCode::HTTP_1_1_REQUIRED => "HTTP_1_1_REQUIRED",
            _ => return None,
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{:#x}", self.0),
        }
    }
}

/// What the application learns, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A request, response or trailers, once the whole header block
    /// (HEADERS and its CONTINUATION frames) has arrived and been decoded.
    Headers {
        stream: StreamId,
        fields: Vec<(Vec<u8>, Vec<u8>)>,
        end_stream: bool,
    },
    /// The data of one DATA frame, without padding.
    Data {
        stream: StreamId,
        data: Vec<u8>,
        end_stream: bool,
    },
    /// The peer's RST_STREAM.
    Reset { stream: StreamId, code: ErrorCode },
    /// The peer's PUSH_PROMISE on `stream`: `promised` is now reserved
    /// (remote).
    PushPromise {
        stream: StreamId,
        promised: StreamId,
        fields: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// The peer's GOAWAY.
    GoAway {
        last_stream: StreamId,
        code: ErrorCode,
    },
    /// The peer's SETTINGS were applied (and acknowledged).
    SettingsChanged,
    /// The peer acknowledged one of our PINGs.
    PingAck { opaque: [u8; 8] },
    /// We detected a connection error and sent GOAWAY; the connection is
    /// dead.
    ConnectionError { code: ErrorCode, reason: String },
}

/// Why a call of the application was refused. Nothing was sent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    /// The call is for the other role (e.g. a server's `send_request`).
    #[error("not allowed for a {0:?}")]
    WrongRole(Role),
    /// The stream is in a state that does not allow this (RFC 9113 §5.1).
    #[error("stream {stream} is {state}")]
    InvalidState {
        stream: StreamId,
        state: StreamState,
    },
    /// The stream was not opened by the peer (a PUSH_PROMISE must be on a
    /// client stream, RFC 9113 §6.6).
    #[error("stream {0} was not opened by the peer")]
    NotPeerStream(StreamId),
    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS would be exceeded
    /// (RFC 9113 §5.1.2).
    #[error("the peer allows at most {0} concurrent streams")]
    ConcurrencyLimit(u32),
    /// The peer set SETTINGS_ENABLE_PUSH to 0 (RFC 9113 §6.5.2).
    #[error("the peer disabled server push")]
    PushDisabled,
    /// A GOAWAY was sent or received: no new streams (RFC 9113 §6.8).
    #[error("the connection is going away")]
    GoingAway,
    /// All stream identifiers of this end are used up (RFC 9113 §5.1.1).
    #[error("stream identifiers exhausted")]
    StreamIdsExhausted,
    /// Headers without END_STREAM cannot follow data still waiting for
    /// flow-control credit.
    #[error("stream {0} has data waiting for flow-control credit")]
    DataPending(StreamId),
    /// The connection is closed (connection error, error GOAWAY or EOF).
    #[error("the connection is closed")]
    ConnectionClosed,
}

/// A peer's violation, as found while processing one frame (RFC 9113 §5.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// A stream error: RST_STREAM with this code, the stream is closed.
    Reset(StreamId, ErrorCode),
    /// A connection error: GOAWAY with this code, the connection is dead.
    GoAway(ErrorCode, String),
}

impl Error {
    pub(crate) fn conn(code: ErrorCode, reason: impl Into<String>) -> Error {
        Error::GoAway(code, reason.into())
    }
}
