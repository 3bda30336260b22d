//! The connection: preface, settings, the frame dispatch, header blocks and
//! HPACK, flow control, GOAWAY (RFC 9113 §3.4, §5, §6).

use std::collections::{BTreeMap, VecDeque};

use loona_hpack::{Decoder, Encoder};

use super::fields;
use super::frame::{self, Frame, Head, MAX_STREAM_ID, MAX_WINDOW};
use super::stream::{Cause, Next, RecvFrame, SendFrame, State, Stream};
use super::{CallError, Error, ErrorCode, Event, Role, Settings, StreamId, StreamState};

/// The client connection preface (RFC 9113 §3.4).
pub(crate) const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The HPACK dynamic table size our encoder uses at most (the RFC 9113
/// default, whatever larger size the peer allows).
const ENCODER_TABLE_SIZE: u32 = 4096;

/// Where the connection is in the preface exchange (RFC 9113 §3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Preface {
    /// Server: waiting for the 24 octets of the client preface.
    ClientMagic,
    /// Waiting for the peer's first frame, which must be SETTINGS.
    FirstSettings,
    Done,
}

/// How much a peer may make this connection hold (RFC 9113 §10.5: "An
/// endpoint that doesn't monitor this behavior exposes itself to a risk of
/// denial-of-service attack"). A peer that goes over a limit meets a
/// connection error ENHANCE_YOUR_CALM, or is forgotten where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Octets of one header block (HEADERS or PUSH_PROMISE and its
    /// CONTINUATIONs) held until END_HEADERS: the CONTINUATION flood.
    pub header_block: usize,
    /// The decoded size of one field section, counted as
    /// SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113 §6.5.2: name,
    /// value and 32 octets a field): the HPACK bomb, a small block of
    /// references to a large table entry (§10.5.1, RFC 7541 §7.3).
    pub header_list: usize,
    /// Closed streams remembered, so that a late frame on one is judged
    /// by how it closed (§5.1); older ones are forgotten and judged as
    /// closed implicitly: "An endpoint MAY choose to limit the period over
    /// which it ignores frames and treat frames that arrive after this
    /// time as being in error." (§5.1). Rapid reset opens and closes
    /// streams without end.
    pub closed_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_block: 64 << 10,
            header_list: 64 << 10,
            closed_streams: 256,
        }
    }
}

impl Limits {
    /// No limit: what the connection would hold left to itself (for
    /// measuring, and for endpoints broken on purpose).
    pub fn unbounded() -> Self {
        Limits {
            header_block: usize::MAX,
            header_list: usize::MAX,
            closed_streams: usize::MAX,
        }
    }
}

/// What a header block in progress belongs to (RFC 9113 §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockKind {
    Headers { end_stream: bool },
    PushPromise { promised: StreamId },
}

/// A header block waiting for its CONTINUATION frames (RFC 9113 §6.10).
#[derive(Debug)]
struct HeaderBlock {
    stream: StreamId,
    kind: BlockKind,
    buf: Vec<u8>,
}

/// One endpoint of an HTTP/2 connection (see the module docs), sans-IO.
///
/// Inputs are [`handle_bytes`](Self::handle_bytes) (bytes from the peer,
/// split anywhere), [`handle_eof`](Self::handle_eof) (the peer closed its
/// side) and the application's calls (`send_request`, `send_headers`,
/// `send_data`, `reset`, `push_promise`, `ping`, `goaway`,
/// `update_settings`). After each input, poll the outputs in this order:
/// 1. [`poll_transmit`](Self::poll_transmit): every byte queued for the
///    peer, whole frames, or `None`;
/// 2. [`poll_event`](Self::poll_event) until `None`: what the application
///    learns ([`Event`]), in the order it happened.
///
/// There is no `handle_timeout` or `poll_timeout`: the connection keeps no
/// timer. The one timeout of RFC 9113, waiting for a SETTINGS ACK, is a
/// MAY (§6.5.3: "it MAY issue a connection error ... of type
/// SETTINGS_TIMEOUT"), left to the application.
pub struct Connection {
    role: Role,
    /// Our settings the peer acknowledged: the ones in force (§6.5.3).
    local: Settings,
    /// Our settings sent and not yet acknowledged, oldest first.
    local_pending: VecDeque<Settings>,
    /// The peer's settings, applied on receipt.
    peer: Settings,
    preface: Preface,
    recv_buf: Vec<u8>,
    out: Vec<u8>,
    events: VecDeque<Event>,
    /// Every stream that left idle. Closed ones are kept, so that frames on
    /// them are judged by how they closed (§5.1).
    streams: BTreeMap<StreamId, Stream>,
    /// The identifier of the next stream we open or promise (§5.1.1).
    next_local_id: StreamId,
    /// The highest identifier the peer opened or promised (§5.1.1).
    last_peer_id: StreamId,
    /// The highest peer identifier we processed: the Last-Stream-ID of our
    /// GOAWAY (§6.8).
    last_processed: StreamId,
    /// The connection flow-control windows (§6.9).
    send_window: i64,
    recv_window: i64,
    block: Option<HeaderBlock>,
    /// The Last-Stream-ID of the GOAWAY we sent, and of the one we received.
    goaway_sent: Option<StreamId>,
    goaway_recv: Option<StreamId>,
    closed: bool,
    encoder: Encoder<'static>,
    decoder: Decoder<'static>,
    /// HPACK dynamic table size updates owed to the peer's decoder: the
    /// smallest size since the last header block, and the final one
    /// (RFC 7541 §4.2).
    table_size_update: Option<(u32, u32)>,
    encoder_table_size: u32,
    limits: Limits,
    /// Streams in the order they closed, for [`Limits::closed_streams`].
    closed_order: VecDeque<StreamId>,
}

impl Connection {
    /// Client: queues the preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" then its
    /// SETTINGS. Server: queues its SETTINGS (the server preface) and expects
    /// the client preface first.
    pub fn new(role: Role, local: Settings) -> Self {
        Self::with_limits(role, local, Limits::default())
    }

    /// As [`Connection::new`], holding at most what `limits` allow.
    pub fn with_limits(role: Role, local: Settings, limits: Limits) -> Self {
        let mut decoder = Decoder::new();
        decoder.set_max_allowed_table_size(Settings::default().header_table_size as usize);
        let mut conn = Connection {
            role,
            local: Settings::default(),
            local_pending: VecDeque::new(),
            peer: Settings::default(),
            preface: match role {
                Role::Client => Preface::FirstSettings,
                Role::Server => Preface::ClientMagic,
            },
            recv_buf: Vec::new(),
            out: Vec::new(),
            events: VecDeque::new(),
            streams: BTreeMap::new(),
            next_local_id: match role {
                Role::Client => 1,
                Role::Server => 2,
            },
            last_peer_id: 0,
            last_processed: 0,
            send_window: 65_535,
            recv_window: 65_535,
            block: None,
            goaway_sent: None,
            goaway_recv: None,
            closed: false,
            encoder: Encoder::new(),
            decoder,
            table_size_update: None,
            encoder_table_size: ENCODER_TABLE_SIZE,
            limits,
            closed_order: VecDeque::new(),
        };
        if role == Role::Client {
            // > the client connection preface starts with a sequence of 24
            // > octets ... followed by a SETTINGS frame (§3.4)
            conn.out.extend_from_slice(PREFACE);
        }
        // > The server connection preface consists of a potentially empty
        // > SETTINGS frame (Section 6.5) that MUST be the first frame the
        // > server sends in the HTTP/2 connection. (§3.4)
        conn.update_settings(local);
        conn
    }

    /// Bytes from the peer, any split (partial frames are buffered).
    /// Processes every complete frame; errors become RST_STREAM (stream
    /// errors) or GOAWAY (connection errors, after which nothing more is
    /// processed) queued for output.
    pub fn handle_bytes(&mut self, bytes: &[u8]) {
        if self.closed {
            return;
        }
        self.recv_buf.extend_from_slice(bytes);
        if self.preface == Preface::ClientMagic {
            let n = self.recv_buf.len().min(PREFACE.len());
            // > Clients and servers MUST treat an invalid connection preface
            // > as a connection error (Section 5.4.1) of type PROTOCOL_ERROR.
            if self.recv_buf[..n] != PREFACE[..n] {
                self.connection_error(ErrorCode::PROTOCOL_ERROR, "invalid connection preface");
                return;
            }
            if n < PREFACE.len() {
                return;
            }
            self.recv_buf.drain(..n);
            self.preface = Preface::FirstSettings;
        }
        let buf = std::mem::take(&mut self.recv_buf);
        let mut pos = 0;
        while !self.closed && buf.len() - pos >= frame::HEADER_LEN {
            let head = Head::parse(&buf[pos..pos + frame::HEADER_LEN]);
            // > An endpoint MUST send an error code of FRAME_SIZE_ERROR if a
            // > frame exceeds the size defined in SETTINGS_MAX_FRAME_SIZE
            // > (§4.2)
            // Always a connection error: simpler than telling which frames
            // could alter the connection state.
            if head.length > self.local.max_frame_size {
                self.connection_error(
                    ErrorCode::FRAME_SIZE_ERROR,
                    "frame larger than SETTINGS_MAX_FRAME_SIZE",
                );
                break;
            }
            let end = pos + frame::HEADER_LEN + head.length as usize;
            if buf.len() < end {
                break;
            }
            let payload = &buf[pos + frame::HEADER_LEN..end];
            pos = end;
            match self.recv_frame(&head, payload) {
                Ok(()) => {}
                Err(Error::Reset(stream, code)) => self.reset_stream(stream, code),
                Err(Error::GoAway(code, reason)) => self.connection_error(code, &reason),
            }
        }
        if !self.closed {
            self.recv_buf = buf[pos..].to_vec();
        }
        self.flush();
    }

    /// Peer closed its side (EOF).
    pub fn handle_eof(&mut self) {
        self.closed = true;
        self.recv_buf.clear();
        self.block = None;
    }

    /// Everything queued to send since the last call (whole frames), or
    /// `None` when nothing is.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.out.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.out))
        }
    }

    /// The next thing the application learns, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Client: open the next client stream (1, 3, 5, … strictly increasing)
    /// with a request header block.
    pub fn send_request(
        &mut self,
        fields: &[(&[u8], &[u8])],
        end_stream: bool,
    ) -> Result<StreamId, CallError> {
        if self.role != Role::Client {
            return Err(CallError::WrongRole(self.role));
        }
        let id = self.new_local_stream()?;
        self.transition_call(id, SendFrame::Headers { eos: end_stream })?;
        if let Some(s) = self.streams.get_mut(&id) {
            s.sent_head = fields.contains(&(b":method", b"HEAD"));
        }
        self.send_header_block(id, None, fields, end_stream);
        Ok(id)
    }

    /// Response headers or trailers on an existing stream (server), or
    /// trailers (client); also a server's HEADERS on a reserved (local)
    /// stream.
    pub fn send_headers(
        &mut self,
        stream: StreamId,
        fields: &[(&[u8], &[u8])],
        end_stream: bool,
    ) -> Result<(), CallError> {
        self.check_open()?;
        let state = self.state_of(stream);
        if state == State::Idle {
            return Err(CallError::InvalidState {
                stream,
                state: StreamState::Idle,
            });
        }
        if state == State::ReservedLocal {
            // The reserved stream becomes half-closed (remote): it counts
            // toward the peer's limit from now on (§5.1.2).
            self.check_peer_limit()?;
        }
        let pending = self
            .streams
            .get(&stream)
            .is_some_and(|s| !s.send_buf.is_empty());
        if pending && !end_stream {
            return Err(CallError::DataPending(stream));
        }
        self.transition_call(stream, SendFrame::Headers { eos: end_stream })?;
        if pending {
            // Trailers wait behind the data (§8.1: they end the message).
            let owned = fields
                .iter()
                .map(|(n, v)| (n.to_vec(), v.to_vec()))
                .collect();
            self.streams.get_mut(&stream).unwrap().trailers = Some(owned);
        } else {
            self.send_header_block(stream, None, fields, end_stream);
        }
        Ok(())
    }

    /// Queue data; it is sent in DATA frames as the stream and connection
    /// send windows and the peer's SETTINGS_MAX_FRAME_SIZE allow, the rest
    /// waits for WINDOW_UPDATE. `end_stream` goes on the last DATA frame (a
    /// zero-length DATA with END_STREAM if `data` is empty). A stream
    /// blocked by flow control never blocks data of other streams.
    pub fn send_data(
        &mut self,
        stream: StreamId,
        data: &[u8],
        end_stream: bool,
    ) -> Result<(), CallError> {
        self.check_open()?;
        // > open: … either endpoint can send a frame with the END_STREAM
        // > flag set, which causes the stream to transition into one of the
        // > "half-closed" states (§5.1)
        // The state follows the frame on the wire: END_STREAM queued behind
        // flow control changes nothing until its DATA frame goes out.
        let state = self.state_of(stream);
        let queued_eos = self.streams.get(&stream).is_some_and(|s| s.send_eos);
        if queued_eos || state.send(SendFrame::Data { eos: end_stream }).is_none() {
            return Err(CallError::InvalidState {
                stream,
                state: state.public(),
            });
        }
        self.transition_call(stream, SendFrame::Data { eos: false })?;
        let s = self
            .streams
            .get_mut(&stream)
            .expect("a stream that left idle");
        s.send_buf.extend(data);
        s.send_eos |= end_stream;
        self.flush();
        Ok(())
    }

    /// Reset a stream: RST_STREAM with `code`, the stream is closed and
    /// whatever waited to be sent on it is dropped.
    pub fn reset(&mut self, stream: StreamId, code: ErrorCode) -> Result<(), CallError> {
        self.check_open()?;
        self.transition_call(stream, SendFrame::Rst)?;
        self.emit_rst(stream, code);
        Ok(())
    }

    /// Server: PUSH_PROMISE on an open/half-closed (remote) client stream;
    /// the promised even stream (2, 4, …) becomes reserved (local).
    pub fn push_promise(
        &mut self,
        associated: StreamId,
        fields: &[(&[u8], &[u8])],
    ) -> Result<StreamId, CallError> {
        if self.role != Role::Server {
            return Err(CallError::WrongRole(self.role));
        }
        self.check_open()?;
        // > PUSH_PROMISE frames MUST only be sent on a peer-initiated stream
        // > that is in either the "open" or "half-closed (remote)" state.
        // > (§6.6)
        if self.is_local_id(associated) {
            return Err(CallError::NotPeerStream(associated));
        }
        let state = self.state_of(associated);
        if state.send(SendFrame::PushPromise).is_none() {
            return Err(CallError::InvalidState {
                stream: associated,
                state: state.public(),
            });
        }
        // > An endpoint MUST NOT send a PUSH_PROMISE frame if it receives a
        // > SETTINGS_ENABLE_PUSH setting set to 0 (§6.5.2, §8.4)
        if !self.peer.enable_push {
            return Err(CallError::PushDisabled);
        }
        let promised = self.new_local_stream()?;
        self.transition_call(promised, SendFrame::Promised)?;
        self.send_header_block(associated, Some(promised), fields, false);
        Ok(promised)
    }

    /// Send a PING (RFC 9113 §6.7); the peer's ACK becomes
    /// [`Event::PingAck`].
    pub fn ping(&mut self, opaque: [u8; 8]) {
        if !self.closed {
            self.emit(Frame::Ping { ack: false, opaque });
        }
    }

    /// GOAWAY with the last peer-initiated stream id processed; after a
    /// graceful one (NO_ERROR) new peer streams above it are ignored
    /// (RFC 9113 §6.8). Any other code closes the connection, as a
    /// connection error would.
    pub fn goaway(&mut self, code: ErrorCode) {
        if self.closed {
            return;
        }
        // > Endpoints MUST NOT increase the value they send in the last
        // > stream identifier, since the peers might already have retried
        // > unprocessed requests on another connection. (§6.8)
        let last = self
            .last_processed
            .min(self.goaway_sent.unwrap_or(MAX_STREAM_ID));
        self.goaway_sent = Some(last);
        self.emit(Frame::GoAway {
            last_stream: last,
            code,
            debug: Vec::new(),
        });
        if code != ErrorCode::NO_ERROR {
            self.closed = true;
        }
    }

    /// Send a SETTINGS frame with these local settings (applied once
    /// ACKed, §6.5.3). Only the values that differ from the previous ones
    /// are sent.
    pub fn update_settings(&mut self, local: Settings) {
        if self.closed {
            return;
        }
        let prev = self.local_pending.back().unwrap_or(&self.local).clone();
        let mut params = Vec::new();
        if local.header_table_size != prev.header_table_size {
            params.push((frame::SETTINGS_HEADER_TABLE_SIZE, local.header_table_size));
        }
        // > A server MUST NOT explicitly set this value to 1. (§6.5.2)
        // A server leaves ENABLE_PUSH out: it has no meaning for a client.
        if local.enable_push != prev.enable_push && self.role == Role::Client {
            params.push((frame::SETTINGS_ENABLE_PUSH, local.enable_push as u32));
        }
        if local.max_concurrent_streams != prev.max_concurrent_streams {
            let value = local.max_concurrent_streams.unwrap_or(u32::MAX);
            params.push((frame::SETTINGS_MAX_CONCURRENT_STREAMS, value));
        }
        if local.initial_window_size != prev.initial_window_size {
            params.push((
                frame::SETTINGS_INITIAL_WINDOW_SIZE,
                local.initial_window_size,
            ));
        }
        if local.max_frame_size != prev.max_frame_size {
            params.push((frame::SETTINGS_MAX_FRAME_SIZE, local.max_frame_size));
        }
        if local.max_header_list_size != prev.max_header_list_size {
            let value = local.max_header_list_size.unwrap_or(u32::MAX);
            params.push((frame::SETTINGS_MAX_HEADER_LIST_SIZE, value));
        }
        self.local_pending.push_back(local);
        self.emit(Frame::Settings { ack: false, params });
    }

    /// Idle for never-seen ids above the highest, closed for lower ids
    /// closed implicitly (RFC 9113 §5.1.1).
    pub fn stream_state(&self, stream: StreamId) -> StreamState {
        self.state_of(stream).public()
    }

    /// A GOAWAY for a connection error was sent or received, or EOF.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    pub fn peer_settings(&self) -> &Settings {
        &self.peer
    }

    /// The streams this connection keeps a record of (those not idle, less
    /// the closed ones it forgot, [`Limits::closed_streams`]).
    pub fn remembered_streams(&self) -> usize {
        self.streams.len()
    }
}

// Stream bookkeeping.
impl Connection {
    /// Streams whose identifiers have our parity: odd for a client, even
    /// for a server (§5.1.1).
    fn is_local_id(&self, id: StreamId) -> bool {
        (id % 2 == 1) == (self.role == Role::Client)
    }

    fn state_of(&self, id: StreamId) -> State {
        if let Some(s) = self.streams.get(&id) {
            return s.state;
        }
        let highest = if self.is_local_id(id) {
            self.next_local_id.saturating_sub(2)
        } else {
            self.last_peer_id
        };
        // > The first use of a new stream identifier implicitly closes all
        // > streams in the "idle" state that might have been initiated by
        // > that peer with a lower-valued stream identifier. (§5.1.1)
        if id > highest || id == 0 {
            State::Idle
        } else {
            State::Closed(Cause::Implicit)
        }
    }

    /// The one place a stream changes state.
    fn set_state(&mut self, id: StreamId, state: State) {
        let (send, recv) = (
            self.peer.initial_window_size,
            self.local.initial_window_size,
        );
        let s = self
            .streams
            .entry(id)
            .or_insert_with(|| Stream::new(send, recv));
        if s.state != state {
            if matches!(
                state,
                State::Closed(Cause::LocalReset | Cause::RemoteReset | Cause::Refused)
            ) {
                s.clear_pending();
            }
            s.state = state;
            if let State::Closed(_) = state {
                self.closed_order.push_back(id);
                self.forget_old_streams();
            }
        }
    }

    /// Forgets the streams that closed longest ago beyond
    /// [`Limits::closed_streams`] (see there): a forgotten stream is
    /// closed implicitly, for `state_of`. One with data still to send is
    /// kept (a closed stream of ours may still drain it).
    fn forget_old_streams(&mut self) {
        while self.closed_order.len() > self.limits.closed_streams {
            let Some(old) = self.closed_order.pop_front() else {
                break;
            };
            if self
                .streams
                .get(&old)
                .is_some_and(|s| matches!(s.state, State::Closed(_)) && !s.has_pending())
            {
                self.streams.remove(&old);
            }
        }
    }

    /// Applies a call of the application to the state machine.
    fn transition_call(&mut self, id: StreamId, frame: SendFrame) -> Result<(), CallError> {
        let state = self.state_of(id);
        match state.send(frame) {
            Some(next) => {
                self.set_state(id, next);
                Ok(())
            }
            None => Err(CallError::InvalidState {
                stream: id,
                state: state.public(),
            }),
        }
    }

    /// Applies a received frame to the state machine: `Ok(true)` if the
    /// frame is to be processed, `Ok(false)` if ignored.
    fn transition_recv(&mut self, id: StreamId, frame: RecvFrame) -> Result<bool, Error> {
        match self.state_of(id).recv(frame) {
            Next::To(next) => {
                self.set_state(id, next);
                Ok(true)
            }
            Next::Ignore => Ok(false),
            Next::Stream(code) => Err(Error::Reset(id, code)),
            Next::Conn(code, reason) => Err(Error::conn(code, reason)),
        }
    }

    /// Open or half-closed streams initiated by us (`local`) or the peer.
    fn active(&self, local: bool) -> u32 {
        self.streams
            .iter()
            .filter(|(id, s)| s.state.is_active() && self.is_local_id(**id) == local)
            .count() as u32
    }

    fn check_open(&self) -> Result<(), CallError> {
        if self.closed {
            Err(CallError::ConnectionClosed)
        } else {
            Ok(())
        }
    }

    /// > An endpoint that wishes to open a stream MUST NOT exceed the limit
    /// > set by its peer. (§5.1.2)
    fn check_peer_limit(&self) -> Result<(), CallError> {
        match self.peer.max_concurrent_streams {
            Some(limit) if self.active(true) >= limit => Err(CallError::ConcurrencyLimit(limit)),
            _ => Ok(()),
        }
    }

    /// The identifier for a new stream of ours, after the checks that
    /// apply to every new stream.
    fn new_local_stream(&mut self) -> Result<StreamId, CallError> {
        self.check_open()?;
        // > Receivers of a GOAWAY frame MUST NOT open additional streams on
        // > the connection (§6.8)
        // We also open none after sending GOAWAY.
        if self.goaway_recv.is_some() || self.goaway_sent.is_some() {
            return Err(CallError::GoingAway);
        }
        self.check_peer_limit()?;
        let id = self.next_local_id;
        if id > MAX_STREAM_ID {
            return Err(CallError::StreamIdsExhausted);
        }
        self.set_state(id, State::Idle);
        self.next_local_id += 2;
        Ok(id)
    }

    /// Our SETTINGS_MAX_CONCURRENT_STREAMS: the latest we sent, enforced
    /// without waiting for the ACK (see the module docs).
    fn local_limit(&self) -> Option<u32> {
        self.local_pending
            .back()
            .unwrap_or(&self.local)
            .max_concurrent_streams
    }
}

// Output.
impl Connection {
    fn emit(&mut self, frame: Frame) {
        frame.encode(&mut self.out);
    }

    fn emit_rst(&mut self, id: StreamId, code: ErrorCode) {
        self.emit(Frame::RstStream { stream: id, code });
    }

    /// A stream error we detected (§5.4.2): RST_STREAM, and the stream is
    /// closed.
    fn reset_stream(&mut self, id: StreamId, code: ErrorCode) {
        self.set_state(id, State::Closed(Cause::LocalReset));
        self.emit_rst(id, code);
    }

    /// A connection error (§5.4.1).
    ///
    /// > An endpoint that encounters a connection error SHOULD first send a
    /// > GOAWAY frame (Section 6.8) with the stream identifier of the last
    /// > stream that it successfully received from its peer.
    fn connection_error(&mut self, code: ErrorCode, reason: &str) {
        if self.closed {
            return;
        }
        let last = self
            .last_processed
            .min(self.goaway_sent.unwrap_or(MAX_STREAM_ID));
        self.emit(Frame::GoAway {
            last_stream: last,
            code,
            debug: reason.as_bytes().to_vec(),
        });
        self.events.push_back(Event::ConnectionError {
            code,
            reason: reason.to_string(),
        });
        self.closed = true;
        self.recv_buf.clear();
        self.block = None;
    }

    /// Encodes a header block and sends it as HEADERS (or PUSH_PROMISE)
    /// and CONTINUATION frames no larger than the peer's
    /// SETTINGS_MAX_FRAME_SIZE (§4.3, §6.10).
    fn send_header_block(
        &mut self,
        stream: StreamId,
        promised: Option<StreamId>,
        fields: &[(&[u8], &[u8])],
        end_stream: bool,
    ) {
        let mut block = Vec::new();
        // A size update may not end a block (RFC 7541 §4.2), so an empty
        // block leaves it for the next one.
        if !fields.is_empty() {
            if let Some((smallest, last)) = self.table_size_update.take() {
                let sizes = if smallest < last {
                    vec![smallest, last]
                } else {
                    vec![last]
                };
                for size in sizes {
                    // > A dynamic table size update starts with the '001'
                    // > 3-bit pattern (RFC 7541 §6.3)
                    loona_hpack::encoder::encode_integer_into(size as usize, 5, 0x20, &mut block)
                        .expect("writing to a Vec");
                }
                self.encoder.set_max_table_size(last as usize);
                self.encoder_table_size = last;
            }
        }
        block.extend(self.encoder.encode(fields.iter().copied()));
        let max = self.peer.max_frame_size as usize;
        let first_len = block
            .len()
            .min(if promised.is_some() { max - 4 } else { max });
        let rest = block.split_off(first_len);
        let end_headers = rest.is_empty();
        self.emit(match promised {
            None => Frame::Headers {
                stream,
                end_stream,
                end_headers,
                priority: None,
                block,
                pad: None,
            },
            Some(promised) => Frame::PushPromise {
                stream,
                promised,
                end_headers,
                block,
                pad: None,
            },
        });
        let chunks: Vec<&[u8]> = rest.chunks(max).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            self.emit(Frame::Continuation {
                stream,
                end_headers: i + 1 == chunks.len(),
                block: chunk.to_vec(),
            });
        }
    }

    /// Sends what waits on every stream, as far as the windows allow, in
    /// stream order. A stream without credit is skipped, never waited on.
    /// A DATA frame with END_STREAM went out: the stream half-closes.
    fn sent_end_stream(&mut self, id: StreamId) {
        if let Some(next) = self.state_of(id).send(SendFrame::Data { eos: true }) {
            self.set_state(id, next);
        }
    }

    fn flush(&mut self) {
        if self.closed {
            return;
        }
        let ids: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, s)| s.has_pending())
            .map(|(id, _)| *id)
            .collect();
        let max = self.peer.max_frame_size as usize;
        for id in ids {
            loop {
                let conn_window = self.send_window;
                let s = self.streams.get_mut(&id).unwrap();
                if !s.send_buf.is_empty() {
                    let window = s.send_window.min(conn_window);
                    if window <= 0 {
                        break;
                    }
                    let n = (window as usize).min(max).min(s.send_buf.len());
                    let data: Vec<u8> = s.send_buf.drain(..n).collect();
                    let end_stream = s.send_buf.is_empty() && s.send_eos;
                    if end_stream {
                        s.send_eos = false;
                    }
                    s.send_window -= n as i64;
                    self.send_window -= n as i64;
                    self.emit(Frame::Data {
                        stream: id,
                        end_stream,
                        data,
                        pad: None,
                    });
                    if end_stream {
                        self.sent_end_stream(id);
                    }
                } else if s.send_eos {
                    // END_STREAM alone: an empty DATA frame needs no credit.
                    s.send_eos = false;
                    self.emit(Frame::Data {
                        stream: id,
                        end_stream: true,
                        data: Vec::new(),
                        pad: None,
                    });
                    self.sent_end_stream(id);
                } else if let Some(trailers) = s.trailers.take() {
                    let fields: Vec<(&[u8], &[u8])> = trailers
                        .iter()
                        .map(|(n, v)| (n.as_slice(), v.as_slice()))
                        .collect();
                    self.send_header_block(id, None, &fields, true);
                } else {
                    break;
                }
            }
        }
    }
}

// Input.
impl Connection {
    fn recv_frame(&mut self, head: &Head, payload: &[u8]) -> Result<(), Error> {
        if self.preface == Preface::FirstSettings {
            // > The server connection preface consists of a potentially empty
            // > SETTINGS frame (Section 6.5) that MUST be the first frame the
            // > server sends ... [the client preface is] followed by a SETTINGS
            // > frame (§3.4)
            if head.kind != frame::SETTINGS || head.flags & frame::ACK != 0 {
                return Err(Error::conn(
                    ErrorCode::PROTOCOL_ERROR,
                    "the first frame is not SETTINGS",
                ));
            }
            self.preface = Preface::Done;
        }
        if let Some(block) = &self.block {
            // > A receiver MUST treat the receipt of any other type of frame or
            // > a frame on a different stream as a connection error (Section
            // > 5.4.1) of type PROTOCOL_ERROR. (§6.10)
            if head.kind != frame::CONTINUATION || head.stream != block.stream {
                return Err(Error::conn(
                    ErrorCode::PROTOCOL_ERROR,
                    "frame inside a header block",
                ));
            }
        }
        match Frame::decode(head, payload)? {
            Frame::Data {
                stream,
                end_stream,
                data,
                ..
            } => self.recv_data(stream, head.length, data, end_stream),
            Frame::Headers {
                stream,
                end_stream,
                end_headers,
                block,
                ..
            } => self.start_block(
                stream,
                BlockKind::Headers { end_stream },
                block,
                end_headers,
            ),
            Frame::Priority { stream, .. } => {
                self.transition_recv(stream, RecvFrame::Priority)?;
                Ok(())
            }
            Frame::RstStream { stream, code } => self.recv_rst(stream, code),
            Frame::Settings { ack, params } => self.recv_settings(ack, params),
            Frame::PushPromise {
                stream,
                promised,
                end_headers,
                block,
                ..
            } => {
                // > A client cannot push. Thus, servers MUST treat the receipt
                // > of a PUSH_PROMISE frame as a connection error (Section
                // > 5.4.1) of type PROTOCOL_ERROR. (§8.4)
                if self.role == Role::Server {
                    return Err(Error::conn(
                        ErrorCode::PROTOCOL_ERROR,
                        "PUSH_PROMISE sent by a client",
                    ));
                }
                // > A receiver MUST treat the receipt of a PUSH_PROMISE frame
                // > as a connection error ... of type PROTOCOL_ERROR if it has
                // > previously advertised SETTINGS_ENABLE_PUSH as 0 (§6.6)
                // "Advertised" is read as acknowledged: before the ACK the
                // server may not have seen it.
                if !self.local.enable_push {
                    return Err(Error::conn(
                        ErrorCode::PROTOCOL_ERROR,
                        "PUSH_PROMISE with push disabled",
                    ));
                }
                self.start_block(
                    stream,
                    BlockKind::PushPromise { promised },
                    block,
                    end_headers,
                )
            }
            Frame::Ping { ack, opaque } => {
                if ack {
                    self.events.push_back(Event::PingAck { opaque });
                } else {
                    // > Receivers of a PING frame that does not include an ACK
                    // > flag MUST send a PING frame with the ACK flag set in
                    // > response, with an identical frame payload. (§6.7)
                    self.emit(Frame::Ping { ack: true, opaque });
                }
                Ok(())
            }
            Frame::GoAway {
                last_stream, code, ..
            } => {
                self.recv_goaway(last_stream, code);
                Ok(())
            }
            Frame::WindowUpdate { stream, increment } => self.recv_window_update(stream, increment),
            Frame::Continuation {
                stream,
                end_headers,
                block,
            } => {
                // > A CONTINUATION frame MUST be preceded by a HEADERS,
                // > PUSH_PROMISE or CONTINUATION frame without the END_HEADERS
                // > flag set. A recipient that observes violation of this rule
                // > MUST respond with a connection error (Section 5.4.1) of type
                // > PROTOCOL_ERROR. (§6.10)
                let Some(mut hb) = self.block.take() else {
                    return Err(Error::conn(
                        ErrorCode::PROTOCOL_ERROR,
                        "CONTINUATION without a header block",
                    ));
                };
                debug_assert_eq!(hb.stream, stream);
                // > A receiver ... that does not process CONTINUATION
                // > frames ... exposes itself (§10.5): a block that never
                // > ends is held only up to the limit.
                if hb.buf.len() + block.len() > self.limits.header_block {
                    return Err(Error::conn(
                        ErrorCode::ENHANCE_YOUR_CALM,
                        "header block larger than this connection holds",
                    ));
                }
                hb.buf.extend_from_slice(&block);
                if end_headers {
                    self.end_block(hb)
                } else {
                    self.block = Some(hb);
                    Ok(())
                }
            }
            // > Implementations MUST ignore unknown or unsupported values in
            // > all extensible protocol elements. (§5.5)
            Frame::Unknown { .. } => Ok(()),
        }
    }

    fn start_block(
        &mut self,
        stream: StreamId,
        kind: BlockKind,
        buf: Vec<u8>,
        end_headers: bool,
    ) -> Result<(), Error> {
        let hb = HeaderBlock { stream, kind, buf };
        if end_headers {
            self.end_block(hb)
        } else {
            self.block = Some(hb);
            Ok(())
        }
    }

    /// A whole header block: decode it (always, to keep the HPACK context
    /// in step, even when the stream is then refused or ignored), then act
    /// on it.
    fn end_block(&mut self, hb: HeaderBlock) -> Result<(), Error> {
        // > A decoding error in a field block MUST be treated as a connection
        // > error (Section 5.4.1) of type COMPRESSION_ERROR. (§4.3)
        // The whole block is decoded, whatever its size, to keep the HPACK
        // context in step; past the limit on the field section, fields are
        // counted, not kept.
        let limit = self.limits.header_list;
        let mut size = 0usize;
        let mut fields = Vec::new();
        self.decoder
            .decode_with_cb(&hb.buf, |name, value| {
                // RFC 9113 §6.5.2: "the uncompressed size of field lines,
                // including the length of the name and value in octets
                // plus an overhead of 32 octets for each field line".
                size = size.saturating_add(name.len() + value.len() + 32);
                if size <= limit {
                    fields.push((name.into_owned(), value.into_owned()));
                }
            })
            .map_err(|e| Error::conn(ErrorCode::COMPRESSION_ERROR, format!("HPACK: {e}")))?;
        // > A server that receives a larger field block than it is willing
        // > to handle can send an HTTP 431 ... (§10.5.1). This connection
        // > has no HTTP layer to answer 431 with; a field section this
        // > large is taken for an attack (§10.5: ENHANCE_YOUR_CALM).
        if size > limit {
            return Err(Error::conn(
                ErrorCode::ENHANCE_YOUR_CALM,
                "field section larger than this connection takes",
            ));
        }
        match hb.kind {
            BlockKind::Headers { end_stream } => self.recv_headers(hb.stream, fields, end_stream),
            BlockKind::PushPromise { promised } => {
                self.recv_push_promise(hb.stream, promised, fields)
            }
        }
    }

    fn recv_headers(
        &mut self,
        id: StreamId,
        fields: Vec<(Vec<u8>, Vec<u8>)>,
        end_stream: bool,
    ) -> Result<(), Error> {
        let state = self.state_of(id);
        // What the block is, judged before the state moves: after a final
        // header block, only trailers may come (§8.1).
        let block = if self.streams.get(&id).is_some_and(|s| s.recv_final_headers) {
            fields::Block::Trailers
        } else if self.role == Role::Server {
            fields::Block::Request
        } else {
            fields::Block::Response
        };
        match state {
            State::Idle => {
                // > Streams initiated by a client MUST use odd-numbered stream
                // > identifiers; those initiated by the server MUST use
                // > even-numbered stream identifiers. (§5.1.1)
                // Servers open streams only with PUSH_PROMISE, so a HEADERS on
                // an idle stream is only valid for a server, on an odd one.
                if self.role == Role::Client || self.is_local_id(id) {
                    return Err(Error::conn(
                        ErrorCode::PROTOCOL_ERROR,
                        "HEADERS opening a stream with an unexpected identifier",
                    ));
                }
                // The identifier is used now, whatever becomes of the stream.
                self.set_state(id, State::Idle);
                self.last_peer_id = id;
                // > the sender will ignore frames sent on streams initiated by
                // > the receiver if the stream has an identifier higher than
                // > the included last stream identifier. (§6.8)
                if self.goaway_sent.is_some_and(|last| id > last) {
                    self.set_state(id, State::Closed(Cause::Discarded));
                    return Ok(());
                }
                // > An endpoint that receives a HEADERS frame that causes its
                // > advertised concurrent stream limit to be exceeded MUST treat
                // > this as a stream error (Section 5.4.2) of type
                // > PROTOCOL_ERROR or REFUSED_STREAM. (§5.1.2)
                // REFUSED_STREAM: it tells the client the request is safe to
                // retry (§8.7).
                if self
                    .local_limit()
                    .is_some_and(|limit| self.active(false) >= limit)
                {
                    return Err(Error::Reset(id, ErrorCode::REFUSED_STREAM));
                }
                self.transition_recv(id, RecvFrame::Headers { eos: end_stream })?;
                self.last_processed = id;
            }
            State::ReservedRemote => {
                // The pushed stream becomes half-closed (local) and counts
                // toward our limit (§5.1.2).
                if self
                    .local_limit()
                    .is_some_and(|limit| self.active(false) >= limit)
                {
                    return Err(Error::Reset(id, ErrorCode::REFUSED_STREAM));
                }
                self.transition_recv(id, RecvFrame::Headers { eos: end_stream })?;
            }
            State::Open | State::HalfClosedLocal => {
                // > An endpoint that receives a HEADERS frame without the
                // > END_STREAM flag set after receiving the HEADERS frame that
                // > opens a request or after receiving a final (non-
                // > informational) status code MUST treat the corresponding
                // > request or response as malformed (Section 8.1.1). (§8.1)
                // > Malformed requests or responses that are detected MUST be
                // > treated as a stream error (Section 5.4.2) of type
                // > PROTOCOL_ERROR. (§8.1.1)
                let final_seen = self.streams[&id].recv_final_headers;
                if final_seen && !end_stream {
                    return Err(Error::Reset(id, ErrorCode::PROTOCOL_ERROR));
                }
                self.transition_recv(id, RecvFrame::Headers { eos: end_stream })?;
            }
            _ => {
                if !self.transition_recv(id, RecvFrame::Headers { eos: end_stream })? {
                    return Ok(());
                }
            }
        }
        self.check_message(id, block, &fields, end_stream)?;
        // A 1xx response may be followed by more response headers (§8.1).
        let informational = fields
            .iter()
            .any(|(n, v)| n == b":status" && v.first() == Some(&b'1'));
        if let Some(s) = self.streams.get_mut(&id) {
            s.recv_final_headers |= !informational;
        }
        self.events.push_back(Event::Headers {
            stream: id,
            fields,
            end_stream,
        });
        Ok(())
    }

    /// A received header block's HTTP semantics (RFC 9113 §8.1–§8.3), once
    /// the stream's state took the frame: a malformed message is a stream
    /// error PROTOCOL_ERROR (§8.1.1). Also keeps the stream's declared
    /// content-length and checks it when the message ends here.
    fn check_message(
        &mut self,
        id: StreamId,
        block: fields::Block,
        fields: &[(Vec<u8>, Vec<u8>)],
        end_stream: bool,
    ) -> Result<(), Error> {
        let malformed = || Error::Reset(id, ErrorCode::PROTOCOL_ERROR);
        fields::check(block, fields).map_err(|_| malformed())?;
        let declared = fields::content_length(fields).map_err(|_| malformed())?;
        let Some(s) = self.streams.get_mut(&id) else {
            return Ok(());
        };
        if block != fields::Block::Trailers {
            // > A response that is defined to never have content, as
            // > described in [HTTP], can have a non-zero content-length field,
            // > even though no content is included in DATA frames. (§8.1.1):
            // > responses to HEAD, 1xx, 204 and 304.
            let status = fields
                .iter()
                .find(|(n, _)| n == b":status")
                .map(|(_, v)| v.as_slice());
            let no_content = s.sent_head
                || status.is_some_and(|v| v.first() == Some(&b'1') || v == b"204" || v == b"304");
            s.recv_content_length = if no_content { None } else { declared };
        }
        if end_stream {
            Self::check_content_length(s, true).map_err(|_| malformed())?;
        }
        Ok(())
    }

    /// > A request or response is also malformed if the value of a
    /// > content-length header field does not equal the sum of the DATA
    /// > frame payload lengths that form the content (§8.1.1): too much as
    /// > soon as it comes, too little when the message ends.
    fn check_content_length(s: &Stream, ended: bool) -> Result<(), ()> {
        match s.recv_content_length {
            Some(n) if s.recv_content > n || (ended && s.recv_content != n) => Err(()),
            _ => Ok(()),
        }
    }

    fn recv_push_promise(
        &mut self,
        associated: StreamId,
        promised: StreamId,
        fields: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<(), Error> {
        // > The promised stream identifier MUST be a valid choice for the
        // > next stream sent by the sender (see "new stream identifier" in
        // > Section 5.1.1). (§6.6)
        if self.is_local_id(promised) || promised == 0 {
            return Err(Error::conn(
                ErrorCode::PROTOCOL_ERROR,
                "promised stream identifier of the wrong parity",
            ));
        }
        // > PUSH_PROMISE frames MUST only be sent on a peer-initiated stream
        // > (§6.6); the client initiated it, so it has our parity.
        if !self.is_local_id(associated) {
            return Err(Error::conn(
                ErrorCode::PROTOCOL_ERROR,
                "PUSH_PROMISE on a stream the client did not open",
            ));
        }
        let accepted = self.transition_recv(associated, RecvFrame::PushPromise)?;
        self.transition_recv(promised, RecvFrame::Promised)?;
        self.last_peer_id = promised;
        if !accepted || self.goaway_sent.is_some_and(|last| promised > last) {
            // > a RST_STREAM is needed to close an unwanted promised stream.
            // > (§5.1)
            self.reset_stream(promised, ErrorCode::CANCEL);
            return Ok(());
        }
        // > The server MUST include a method in the :method pseudo-header
        // > field that is safe and cacheable. (§8.4): a promised request is
        // > a request, held to §8.3.1; a malformed one is reset (§8.1.1).
        if fields::check(fields::Block::Request, &fields).is_err() {
            self.reset_stream(promised, ErrorCode::PROTOCOL_ERROR);
            return Ok(());
        }
        self.last_processed = promised;
        self.events.push_back(Event::PushPromise {
            stream: associated,
            promised,
            fields,
        });
        Ok(())
    }

    fn recv_data(
        &mut self,
        id: StreamId,
        flow_len: u32,
        data: Vec<u8>,
        end_stream: bool,
    ) -> Result<(), Error> {
        // > The entire DATA frame payload is included in flow control,
        // > including the Pad Length and Padding fields if present. (§6.1)
        let len = flow_len as i64;
        // > A receiver MAY respond with a stream error ... or connection
        // > error ... of type FLOW_CONTROL_ERROR if it is unable to accept a
        // > frame. (§6.9): for the connection window, a connection error.
        if len > self.recv_window {
            return Err(Error::conn(
                ErrorCode::FLOW_CONTROL_ERROR,
                "DATA exceeds the connection window",
            ));
        }
        self.recv_window -= len;
        let result = self.recv_data_on_stream(id, len, data, end_stream);
        // > A receiver that receives a flow-controlled frame MUST always
        // > account for its contribution to the connection flow-control
        // > window, unless the receiver treats this as a connection error
        // > (§6.9): the credit goes back whatever happened to the stream.
        if len > 0 && !matches!(result, Err(Error::GoAway(..))) {
            self.recv_window += len;
            self.emit(Frame::WindowUpdate {
                stream: 0,
                increment: len as u32,
            });
        }
        result
    }

    fn recv_data_on_stream(
        &mut self,
        id: StreamId,
        len: i64,
        data: Vec<u8>,
        end_stream: bool,
    ) -> Result<(), Error> {
        if !self.transition_recv(id, RecvFrame::Data { eos: end_stream })? {
            return Ok(());
        }
        let s = self
            .streams
            .get_mut(&id)
            .expect("a stream that accepted DATA");
        if len > s.recv_window {
            return Err(Error::Reset(id, ErrorCode::FLOW_CONTROL_ERROR));
        }
        s.recv_window -= len;
        s.recv_content += data.len() as u64;
        if Self::check_content_length(s, end_stream).is_err() {
            return Err(Error::Reset(id, ErrorCode::PROTOCOL_ERROR));
        }
        let more = s.state.recv_open();
        if more && len > 0 {
            s.recv_window += len;
            self.emit(Frame::WindowUpdate {
                stream: id,
                increment: len as u32,
            });
        }
        self.events.push_back(Event::Data {
            stream: id,
            data,
            end_stream,
        });
        Ok(())
    }

    fn recv_rst(&mut self, id: StreamId, code: ErrorCode) -> Result<(), Error> {
        let before = self.state_of(id);
        if !self.transition_recv(id, RecvFrame::Rst)? {
            return Ok(());
        }
        // A RST_STREAM on a stream closed by END_STREAM only stops what we
        // still had to send.
        self.streams.get_mut(&id).unwrap().clear_pending();
        if before != State::Closed(Cause::EndStream) {
            self.events.push_back(Event::Reset { stream: id, code });
        }
        Ok(())
    }

    fn recv_window_update(&mut self, id: StreamId, increment: u32) -> Result<(), Error> {
        let inc = increment as i64;
        if id == 0 {
            // > A receiver MUST treat the receipt of a WINDOW_UPDATE frame with
            // > a flow-control window increment of 0 as a stream error
            // > (Section 5.4.2) of type PROTOCOL_ERROR; errors on the
            // > connection flow-control window MUST be treated as a
            // > connection error (Section 5.4.1). (§6.9)
            if inc == 0 {
                return Err(Error::conn(
                    ErrorCode::PROTOCOL_ERROR,
                    "WINDOW_UPDATE with increment 0",
                ));
            }
            // > If a sender receives a WINDOW_UPDATE that causes a flow-control
            // > window to exceed this maximum, it MUST terminate either the
            // > stream or the connection, as appropriate. (§6.9.1)
            if self.send_window + inc > MAX_WINDOW {
                return Err(Error::conn(
                    ErrorCode::FLOW_CONTROL_ERROR,
                    "connection window above 2^31-1",
                ));
            }
            self.send_window += inc;
            return Ok(());
        }
        if !self.transition_recv(id, RecvFrame::WindowUpdate)? {
            return Ok(());
        }
        let s = self.streams.get_mut(&id).unwrap();
        if let State::Closed(_) = s.state {
            // Late credit for a closed stream still feeds data that waits.
            if inc > 0 && s.send_window + inc <= MAX_WINDOW {
                s.send_window += inc;
            }
            return Ok(());
        }
        if inc == 0 {
            return Err(Error::Reset(id, ErrorCode::PROTOCOL_ERROR));
        }
        if s.send_window + inc > MAX_WINDOW {
            return Err(Error::Reset(id, ErrorCode::FLOW_CONTROL_ERROR));
        }
        s.send_window += inc;
        Ok(())
    }

    fn recv_settings(&mut self, ack: bool, params: Vec<(u16, u32)>) -> Result<(), Error> {
        if ack {
            // Our oldest unacknowledged SETTINGS is now in force (§6.5.3). An
            // ACK for nothing is ignored.
            if let Some(local) = self.local_pending.pop_front() {
                let delta =
                    local.initial_window_size as i64 - self.local.initial_window_size as i64;
                for s in self.streams.values_mut() {
                    s.recv_window += delta;
                }
                self.decoder
                    .set_max_allowed_table_size(local.header_table_size as usize);
                self.local = local;
            }
            return Ok(());
        }
        // > The values in the SETTINGS frame MUST be processed in the order
        // > they appear, with no other frame processing between values.
        for (id, value) in params {
            match id {
                frame::SETTINGS_HEADER_TABLE_SIZE => {
                    self.peer.header_table_size = value;
                    let size = value.min(ENCODER_TABLE_SIZE);
                    let pending = self.table_size_update.map(|(s, _)| s);
                    if size != self.encoder_table_size || pending.is_some() {
                        let smallest = pending.unwrap_or(self.encoder_table_size).min(size);
                        self.table_size_update = Some((smallest, size));
                    }
                }
                frame::SETTINGS_ENABLE_PUSH => {
                    // > Any value other than 0 or 1 MUST be treated as a
                    // > connection error (Section 5.4.1) of type
                    // > PROTOCOL_ERROR. ... A client MUST treat receipt of a
                    // > SETTINGS frame with SETTINGS_ENABLE_PUSH set to 1 as a
                    // > connection error (Section 5.4.1) of type PROTOCOL_ERROR.
                    if value > 1 || (self.role == Role::Client && value != 0) {
                        return Err(Error::conn(
                            ErrorCode::PROTOCOL_ERROR,
                            "invalid SETTINGS_ENABLE_PUSH",
                        ));
                    }
                    self.peer.enable_push = value == 1;
                }
                frame::SETTINGS_MAX_CONCURRENT_STREAMS => {
                    self.peer.max_concurrent_streams = Some(value);
                }
                frame::SETTINGS_INITIAL_WINDOW_SIZE => {
                    // > Values above the maximum flow-control window size of
                    // > 2^31-1 MUST be treated as a connection error (Section
                    // > 5.4.1) of type FLOW_CONTROL_ERROR.
                    if value as i64 > MAX_WINDOW {
                        return Err(Error::conn(
                            ErrorCode::FLOW_CONTROL_ERROR,
                            "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
                        ));
                    }
                    // > When the value of SETTINGS_INITIAL_WINDOW_SIZE changes,
                    // > a receiver MUST adjust the size of all stream
                    // > flow-control windows that it maintains by the
                    // > difference between the new value and the old value.
                    // > ... A change ... can cause the available space in a
                    // > flow-control window to become negative. (§6.9.2)
                    let delta = value as i64 - self.peer.initial_window_size as i64;
                    self.peer.initial_window_size = value;
                    for s in self.streams.values_mut() {
                        s.send_window += delta;
                        // > An endpoint MUST treat a change to
                        // > SETTINGS_INITIAL_WINDOW_SIZE that causes any
                        // > flow-control window to exceed the maximum size as a
                        // > connection error (Section 5.4.1) of type
                        // > FLOW_CONTROL_ERROR.
                        if s.send_window > MAX_WINDOW && !matches!(s.state, State::Closed(_)) {
                            return Err(Error::conn(
                                ErrorCode::FLOW_CONTROL_ERROR,
                                "stream window above 2^31-1",
                            ));
                        }
                    }
                }
                frame::SETTINGS_MAX_FRAME_SIZE => {
                    // > Values outside this range MUST be treated as a
                    // > connection error (Section 5.4.1) of type
                    // > PROTOCOL_ERROR.
                    if !(16_384..=16_777_215).contains(&value) {
                        return Err(Error::conn(
                            ErrorCode::PROTOCOL_ERROR,
                            "SETTINGS_MAX_FRAME_SIZE out of range",
                        ));
                    }
                    self.peer.max_frame_size = value;
                }
                frame::SETTINGS_MAX_HEADER_LIST_SIZE => {
                    self.peer.max_header_list_size = Some(value);
                }
                // > An endpoint that receives a SETTINGS frame with any unknown
                // > or unsupported identifier MUST ignore that setting.
                _ => {}
            }
        }
        // > Once all values have been processed, the recipient MUST
        // > immediately emit a SETTINGS frame with the ACK flag set. (§6.5.3)
        self.emit(Frame::Settings {
            ack: true,
            params: Vec::new(),
        });
        self.events.push_back(Event::SettingsChanged);
        Ok(())
    }

    fn recv_goaway(&mut self, last_stream: StreamId, code: ErrorCode) {
        self.goaway_recv = Some(self.goaway_recv.map_or(last_stream, |l| l.min(last_stream)));
        // > Activity on streams numbered lower than or equal to the last stream
        // > identifier might still complete successfully. The sender of the
        // > GOAWAY frame might gracefully shut down a connection by sending a
        // > GOAWAY frame, maintaining the connection in an "open" state until
        // > all in-progress streams complete. ... The receiver of the GOAWAY
        // > frame can treat streams with identifiers higher than the last
        // > stream identifier as never having been processed. (§6.8)
        let refused: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(id, s)| {
                **id > last_stream
                    && self.is_local_id(**id)
                    && !matches!(s.state, State::Idle | State::Closed(_))
            })
            .map(|(id, _)| *id)
            .collect();
        for id in refused {
            self.set_state(id, State::Closed(Cause::Refused));
        }
        self.events.push_back(Event::GoAway { last_stream, code });
        // A GOAWAY for an error ends the connection: the peer closes it.
        if code != ErrorCode::NO_ERROR {
            self.closed = true;
        }
    }
}
