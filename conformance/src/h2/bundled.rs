//! The `bundled` HTTP/2 target: the connection of `tracewright-stack`,
//! in-process on a virtual clock (it has no timers: nothing it does
//! depends on time passing).

use std::path::{Path, PathBuf};

use tracewright_stack::h2 as stack;

use super::target::{H2Settings, H2Target, StreamState};
use crate::h2::H2App;
use crate::pcap::StreamCapture;
use crate::target::{Clock, TargetError};
use crate::trace::Role;

/// The bundled HTTP/2 connection of `tracewright-stack`, in-process.
#[derive(Default)]
pub struct BundledH2 {
    conn: Option<stack::Connection>,
    /// Where the next `open` starts a capture.
    capture_to: Option<PathBuf>,
    capture: Option<StreamCapture>,
    /// Requests the application asked for beyond the peer's
    /// SETTINGS_MAX_CONCURRENT_STREAMS: held here, never sent, until a
    /// stream closes (RFC 9113 §5.1.2), as a client library's request
    /// queue holds them.
    waiting: Vec<(u32, bool)>,
}

impl BundledH2 {
    pub fn new() -> Self {
        BundledH2::default()
    }

    pub fn connection_mut(&mut self) -> Option<&mut stack::Connection> {
        self.conn.as_mut()
    }

    fn conn(&mut self) -> Result<&mut stack::Connection, TargetError> {
        self.conn
            .as_mut()
            .ok_or_else(|| TargetError::Broken("not open".into()))
    }

    fn record(&mut self, from_harness: bool, bytes: &[u8]) -> Result<(), TargetError> {
        match &mut self.capture {
            Some(c) if !bytes.is_empty() => c
                .bytes(from_harness, bytes)
                .map_err(|e| TargetError::Broken(format!("writing the capture: {e}"))),
            _ => Ok(()),
        }
    }
}

/// The stack's settings for what the IUT is to announce.
pub fn settings_of(s: &H2Settings) -> stack::Settings {
    let default = stack::Settings::default();
    stack::Settings {
        max_concurrent_streams: s.max_concurrent_streams,
        initial_window_size: s.initial_window_size.unwrap_or(default.initial_window_size),
        max_frame_size: s.max_frame_size.unwrap_or(default.max_frame_size),
        enable_push: s.enable_push.unwrap_or(default.enable_push),
        ..default
    }
}

/// The settings every HTTP/2 IUT is opened with (what the model assumes),
/// as the stack takes them.
pub fn iut_settings() -> stack::Settings {
    settings_of(&H2Settings::MODEL)
}

/// The request every application call sends.
const REQUEST: &[(&[u8], &[u8])] = &[
    (b":method", b"GET"),
    (b":scheme", b"http"),
    (b":path", b"/"),
    (b":authority", b"tracewright.test"),
];

/// The stream the stack opened must be the one the trace names.
fn opened(id: u32, stream: u32) -> Result<(), TargetError> {
    if id == stream {
        Ok(())
    } else {
        Err(TargetError::Unsupported(format!(
            "the stack opened stream {id}, the trace needs {stream}"
        )))
    }
}

impl BundledH2 {
    /// Sends the held requests the peer's limit now allows, oldest first.
    fn release_waiting(&mut self) -> Result<(), TargetError> {
        let Some(c) = self.conn.as_mut() else {
            return Ok(());
        };
        while let Some(&(stream, end_stream)) = self.waiting.first() {
            match c.send_request(REQUEST, end_stream) {
                Err(stack::CallError::ConcurrencyLimit(_)) => break,
                Ok(id) => {
                    self.waiting.remove(0);
                    opened(id, stream)?;
                }
                // The connection is going away or closed: the held
                // requests are never sent.
                Err(_) => {
                    self.waiting.clear();
                    break;
                }
            }
        }
        Ok(())
    }
}

fn state_of(s: stack::StreamState) -> StreamState {
    match s {
        stack::StreamState::Idle => StreamState::Idle,
        stack::StreamState::ReservedLocal => StreamState::ReservedLocal,
        stack::StreamState::ReservedRemote => StreamState::ReservedRemote,
        stack::StreamState::Open => StreamState::Open,
        stack::StreamState::HalfClosedLocal => StreamState::HalfClosedLocal,
        stack::StreamState::HalfClosedRemote => StreamState::HalfClosedRemote,
        stack::StreamState::Closed => StreamState::Closed,
    }
}

impl H2Target for BundledH2 {
    fn name(&self) -> &str {
        "bundled"
    }

    fn clock(&self) -> Clock {
        Clock::Virtual
    }

    fn open(&mut self, role: Role, settings: &H2Settings) -> Result<(), TargetError> {
        let r = match role {
            Role::Client => stack::Role::Client,
            Role::Server => stack::Role::Server,
            Role::Listener => {
                return Err(TargetError::Unsupported(
                    "an HTTP/2 connection has no listener role".into(),
                ))
            }
        };
        self.capture =
            match &self.capture_to {
                Some(path) => Some(StreamCapture::create(path).map_err(|e| {
                    TargetError::Broken(format!("creating {}: {e}", path.display()))
                })?),
                None => None,
            };
        self.conn = Some(stack::Connection::new(r, settings_of(settings)));
        self.waiting.clear();
        Ok(())
    }

    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        use stack::ErrorCode;
        let refused = |e: stack::CallError| {
            TargetError::Unsupported(format!("the application call was refused: {e}"))
        };
        if let H2App::Request { stream, end_stream } = *call {
            // Behind a held request, or beyond the peer's limit: held.
            if !self.waiting.is_empty() {
                self.waiting.push((stream, end_stream));
                return Ok(());
            }
            return match self.conn()?.send_request(REQUEST, end_stream) {
                Err(stack::CallError::ConcurrencyLimit(_)) => {
                    self.waiting.push((stream, end_stream));
                    Ok(())
                }
                r => opened(r.map_err(refused)?, stream),
            };
        }
        let c = self.conn()?;
        let request = REQUEST;
        match *call {
            H2App::Request { .. } => unreachable!("taken above"),
            H2App::Respond { stream, end_stream } => c
                .send_headers(stream, &[(b":status", b"200")], end_stream)
                .map_err(refused)?,
            H2App::Data {
                stream,
                end_stream,
                len,
            } => c
                .send_data(stream, &vec![b'x'; len as usize], end_stream)
                .map_err(refused)?,
            H2App::End { stream } => c.send_data(stream, b"", true).map_err(refused)?,
            H2App::Reset { stream } => c.reset(stream, ErrorCode::CANCEL).map_err(refused)?,
            H2App::Push { stream } => {
                c.push_promise(stream, request).map_err(refused)?;
            }
            H2App::Goaway => c.goaway(ErrorCode::NO_ERROR),
        }
        // A reset or an ended stream may free a place for a held request.
        self.release_waiting()
    }

    fn deliver(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.conn()?.handle_bytes(bytes);
        self.record(true, bytes)?;
        self.release_waiting()
    }

    fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
        let c = self.conn()?;
        while c.poll_event().is_some() {}
        let out = c.poll_transmit().unwrap_or_default();
        self.record(false, &out)?;
        Ok(out)
    }

    fn stream_state(&mut self, stream: u32) -> Result<Option<StreamState>, TargetError> {
        Ok(self.conn.as_ref().map(|c| state_of(c.stream_state(stream))))
    }

    fn close(&mut self) {
        self.conn = None;
        self.capture = None;
        self.waiting.clear();
    }

    /// The connection's bytes both ways, as the data segments of one TCP
    /// connection (`LINKTYPE_RAW`; Wireshark: Decode As… HTTP2).
    fn capture(&mut self, path: Option<&Path>) -> Result<(), TargetError> {
        self.capture_to = path.map(Path::to_path_buf);
        Ok(())
    }
}
