//! The stream state machine of RFC 9113 §5.1: one `match (state, frame)`
//! for frames received ([`State::recv`]: accepted, ignored, or a stream or
//! connection error) and one for frames the application sends
//! ([`State::send`]: allowed or refused), with the RFC's text for every
//! state, and the per-stream data
//! (flow-control windows, data waiting for credit).
//!
//! The machine only knows states. What needs the connection (stream
//! identifier rules, concurrency, flow control, header-block contents) is
//! checked in `conn` before or after the transition.

use std::collections::VecDeque;

use super::{ErrorCode, StreamState};

/// Why a stream is closed. RFC 9113 §5.1 treats frames on a closed stream
/// differently depending on how it got there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// END_STREAM went both ways.
    EndStream,
    /// We sent RST_STREAM (the application, or a stream error we detected).
    LocalReset,
    /// The peer sent RST_STREAM.
    RemoteReset,
    /// The peer's GOAWAY named a lower last stream: it did not process this
    /// stream of ours (RFC 9113 §6.8).
    Refused,
    /// The peer opened it after our GOAWAY; we ignore it (RFC 9113 §6.8).
    Discarded,
    /// Never used: a higher identifier was opened first (RFC 9113 §5.1.1).
    Implicit,
}

/// The state of a stream, with the cause of closure inside `Closed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Idle,
    ReservedLocal,
    ReservedRemote,
    Open,
    HalfClosedLocal,
    HalfClosedRemote,
    Closed(Cause),
}

impl State {
    pub(crate) fn public(self) -> StreamState {
        match self {
            State::Idle => StreamState::Idle,
            State::ReservedLocal => StreamState::ReservedLocal,
            State::ReservedRemote => StreamState::ReservedRemote,
            State::Open => StreamState::Open,
            State::HalfClosedLocal => StreamState::HalfClosedLocal,
            State::HalfClosedRemote => StreamState::HalfClosedRemote,
            State::Closed(_) => StreamState::Closed,
        }
    }

    /// Open or half-closed: counts toward SETTINGS_MAX_CONCURRENT_STREAMS.
    ///
    /// > Streams that are in the "open" state or in either of the
    /// > "half-closed" states count toward the maximum number of streams
    /// > that an endpoint is permitted to open. (RFC 9113 §5.1.2)
    pub(crate) fn is_active(self) -> bool {
        matches!(
            self,
            State::Open | State::HalfClosedLocal | State::HalfClosedRemote
        )
    }

    /// The peer may still send DATA on the stream.
    pub(crate) fn recv_open(self) -> bool {
        matches!(self, State::Open | State::HalfClosedLocal)
    }
}

/// A frame received on a stream. `eos` is the END_STREAM flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecvFrame {
    Headers {
        eos: bool,
    },
    Data {
        eos: bool,
    },
    Priority,
    Rst,
    WindowUpdate,
    /// A PUSH_PROMISE received on this (associated) stream.
    PushPromise,
    /// This stream was promised by the peer's PUSH_PROMISE.
    Promised,
}

/// A frame the application sends on a stream. `eos` is the END_STREAM
/// flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SendFrame {
    Headers {
        eos: bool,
    },
    Data {
        eos: bool,
    },
    Rst,
    /// A PUSH_PROMISE sent on this (associated) stream.
    PushPromise,
    /// This stream was promised by our PUSH_PROMISE.
    Promised,
}

/// The outcome of a frame received: the peer may send anything, so each
/// frame is accepted, ignored, or one of the errors of RFC 9113 §5.4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Accepted; the stream is now in this state (maybe the same).
    To(State),
    /// Ignored: a frame on a stream we reset or discarded (RFC 9113 §5.1).
    Ignore,
    /// A stream error (RFC 9113 §5.4.2).
    Stream(ErrorCode),
    /// A connection error (RFC 9113 §5.4.1).
    Conn(ErrorCode, &'static str),
}

fn eos_to(eos: bool, then: State, stay: State) -> State {
    if eos {
        then
    } else {
        stay
    }
}

impl State {
    /// The transition of RFC 9113 §5.1 for a frame we send: the next
    /// state, or `None` when this state does not allow sending it (the
    /// application's call is refused; nothing is sent).
    pub(crate) fn send(self, frame: SendFrame) -> Option<State> {
        use SendFrame::*;
        use State::*;
        let closed = Closed(Cause::EndStream);
        Some(match (self, frame) {
            // > idle: ... Sending a HEADERS frame as a client ... causes the
            // > stream to become "open".
            (Idle, Headers { eos }) => eos_to(eos, HalfClosedLocal, Open),
            // > Sending a PUSH_PROMISE frame on another stream reserves the
            // > idle stream that is identified for later use.
            (Idle, Promised) => ReservedLocal,
            // > reserved (local): ... The endpoint can send a HEADERS frame.
            // > This causes the stream to open in a "half-closed (remote)"
            // > state.
            (ReservedLocal, Headers { eos }) => eos_to(eos, closed, HalfClosedRemote),
            // > Either endpoint can send a RST_STREAM frame to cause the
            // > stream to become "closed".
            (ReservedLocal | ReservedRemote, Rst) => Closed(Cause::LocalReset),
            // > open: ... either endpoint can send a frame with an END_STREAM
            // > flag set, which causes the stream to transition into one of
            // > the "half-closed" states.
            (Open, Headers { eos } | Data { eos }) => eos_to(eos, HalfClosedLocal, Open),
            (Open, PushPromise) => Open,
            // > half-closed (remote): ... An endpoint can send a frame of any
            // > type in this state. ... A stream can transition from this
            // > state to "closed" by sending a frame with the END_STREAM flag
            // > set
            (HalfClosedRemote, Headers { eos } | Data { eos }) => {
                eos_to(eos, closed, HalfClosedRemote)
            }
            (HalfClosedRemote, PushPromise) => HalfClosedRemote,
            // > or when either peer sends a RST_STREAM frame.
            (Open | HalfClosedLocal | HalfClosedRemote, Rst) => Closed(Cause::LocalReset),
            // Everything else is a call the state does not allow: nothing
            // after our END_STREAM (half-closed (local), closed), nothing
            // but RST_STREAM on a reserved stream, no PUSH_PROMISE on a
            // stream not open, and an identifier is promised only once.
            _ => return None,
        })
    }

    /// The transition of RFC 9113 §5.1 for a frame received.
    pub(crate) fn recv(self, frame: RecvFrame) -> Next {
        use RecvFrame::*;
        use State::*;
        let closed = Closed(Cause::EndStream);
        let to_eos = |eos, then, stay| Next::To(eos_to(eos, then, stay));
        match (self, frame) {
            // > idle: ... receiving a HEADERS frame as a server, causes the
            // > stream to become "open".
            (Idle, Headers { eos }) => to_eos(eos, HalfClosedRemote, Open),
            (Idle, Promised) => Next::To(ReservedRemote),
            // PRIORITY does not change the state of a stream (§6.3).
            (Idle, Priority) => Next::To(Idle),
            // > Receiving any frame other than HEADERS or PRIORITY on a stream
            // > in this state MUST be treated as a connection error (Section
            // > 5.4.1) of type PROTOCOL_ERROR.
            (Idle, Data { .. } | Rst | WindowUpdate | PushPromise) => {
                Next::Conn(ErrorCode::PROTOCOL_ERROR, "frame on an idle stream")
            }

            (ReservedLocal, Rst) => Next::To(Closed(Cause::RemoteReset)),
            // > An endpoint MAY receive a PRIORITY or WINDOW_UPDATE frame in
            // > this state.
            (ReservedLocal, Priority | WindowUpdate) => Next::To(ReservedLocal),
            // > Receiving any type of frame other than RST_STREAM, PRIORITY, or
            // > WINDOW_UPDATE on a stream in this state MUST be treated as a
            // > connection error (Section 5.4.1) of type PROTOCOL_ERROR.
            (ReservedLocal, Headers { .. } | Data { .. } | PushPromise) => Next::Conn(
                ErrorCode::PROTOCOL_ERROR,
                "frame on a reserved (local) stream",
            ),

            // > reserved (remote): ... Receiving a HEADERS frame causes the
            // > stream to transition to "half-closed (local)".
            (ReservedRemote, Headers { eos }) => to_eos(eos, closed, HalfClosedLocal),
            (ReservedRemote, Rst) => Next::To(Closed(Cause::RemoteReset)),
            (ReservedRemote, Priority) => Next::To(ReservedRemote),
            // > Receiving any type of frame other than HEADERS, RST_STREAM, or
            // > PRIORITY on a stream in this state MUST be treated as a
            // > connection error (Section 5.4.1) of type PROTOCOL_ERROR.
            (ReservedRemote, Data { .. } | WindowUpdate | PushPromise) => Next::Conn(
                ErrorCode::PROTOCOL_ERROR,
                "frame on a reserved (remote) stream",
            ),

            // > open: ... frames of any type can be sent by a peer ... either
            // > endpoint can send a frame with an END_STREAM flag set, which
            // > causes the stream to transition into one of the "half-closed"
            // > states.
            (Open, Headers { eos } | Data { eos }) => to_eos(eos, HalfClosedRemote, Open),
            (Open, Priority | WindowUpdate | PushPromise) => Next::To(Open),
            (Open, Rst) => Next::To(Closed(Cause::RemoteReset)),

            // > half-closed (local): ... An endpoint can receive any type of
            // > frame in this state. ... the stream transitions from this state
            // > to "closed" when a frame is received with the END_STREAM flag
            // > set or when either peer sends a RST_STREAM frame.
            (HalfClosedLocal, Headers { eos } | Data { eos }) => {
                to_eos(eos, closed, HalfClosedLocal)
            }
            (HalfClosedLocal, Priority | WindowUpdate | PushPromise) => Next::To(HalfClosedLocal),
            (HalfClosedLocal, Rst) => Next::To(Closed(Cause::RemoteReset)),

            // > half-closed (remote): ... A stream can transition from this
            // > state to "closed" ... when either peer sends a RST_STREAM
            // > frame.
            (HalfClosedRemote, Priority | WindowUpdate) => Next::To(HalfClosedRemote),
            (HalfClosedRemote, Rst) => Next::To(Closed(Cause::RemoteReset)),
            // > If the stream identifier field specifies a stream that is not
            // > currently in either the "open" or "half-closed (remote)" state,
            // > the recipient MUST respond with a connection error (Section
            // > 5.4.1) of type PROTOCOL_ERROR. (§6.6; from the receiving
            // > client's side these are "open" or "half-closed (local)")
            // §6.6 is the more specific rule for PUSH_PROMISE, so it wins over
            // the STREAM_CLOSED below.
            (HalfClosedRemote, PushPromise) => Next::Conn(
                ErrorCode::PROTOCOL_ERROR,
                "PUSH_PROMISE on a half-closed (remote) stream",
            ),
            // > If an endpoint receives additional frames, other than
            // > WINDOW_UPDATE, PRIORITY, or RST_STREAM, for a stream that is in
            // > this state, it MUST respond with a stream error (Section 5.4.2)
            // > of type STREAM_CLOSED.
            (HalfClosedRemote, Headers { .. } | Data { .. }) => {
                Next::Stream(ErrorCode::STREAM_CLOSED)
            }

            // > closed: ... An endpoint MUST NOT send frames other than
            // > PRIORITY on a closed stream.
            (Closed(cause), Priority) => Next::To(Closed(cause)),
            // > An endpoint MUST ignore frames that it receives on closed
            // > streams after it has sent a RST_STREAM frame.
            // Kept simple: every frame, for as long as the connection lives.
            // Streams the peer's GOAWAY refused or that we discarded after
            // our GOAWAY are treated the same way.
            (
                Closed(Cause::LocalReset | Cause::Refused | Cause::Discarded),
                Headers { .. } | Data { .. } | Rst | WindowUpdate,
            ) => Next::Ignore,
            // > PUSH_PROMISE causes a stream to become "reserved" even if the
            // > associated stream has been reset. Therefore, a RST_STREAM is
            // > needed to close an unwanted promised stream.
            // `conn` reserves the promised stream and cancels it.
            (Closed(Cause::LocalReset | Cause::Refused | Cause::Discarded), PushPromise) => {
                Next::Ignore
            }
            // > To avoid looping, an endpoint MUST NOT send a RST_STREAM in
            // > response to a RST_STREAM frame. (§5.4.2)
            (Closed(Cause::RemoteReset), Rst) => Next::Ignore,
            // > An endpoint that receives any frame other than PRIORITY after
            // > receiving a RST_STREAM MUST treat that as a stream error
            // > (Section 5.4.2) of type STREAM_CLOSED.
            (
                Closed(Cause::RemoteReset),
                Headers { .. } | Data { .. } | WindowUpdate | PushPromise,
            ) => Next::Stream(ErrorCode::STREAM_CLOSED),
            // > WINDOW_UPDATE or RST_STREAM frames can be received in this state
            // > for a short period after a DATA or HEADERS frame containing an
            // > END_STREAM flag is sent.
            (Closed(Cause::EndStream), WindowUpdate | Rst) => Next::To(closed),
            // > an endpoint that receives any frames after receiving a frame
            // > with the END_STREAM flag set MUST treat that as a connection
            // > error (Section 5.4.1) of type STREAM_CLOSED, unless the frame
            // > is permitted as described below.
            // PUSH_PROMISE on it is a PROTOCOL_ERROR by §6.6, as above.
            (Closed(Cause::EndStream), PushPromise) => {
                Next::Conn(ErrorCode::PROTOCOL_ERROR, "PUSH_PROMISE on a closed stream")
            }
            (Closed(Cause::EndStream), Headers { .. } | Data { .. }) => Next::Conn(
                ErrorCode::STREAM_CLOSED,
                "frame after END_STREAM on a closed stream",
            ),
            // A stream closed implicitly (§5.1.1) was never opened by the peer,
            // so no frame of it can be in flight: any frame is an unexpected
            // stream identifier.
            // > An endpoint that receives an unexpected stream identifier MUST
            // > respond with a connection error (Section 5.4.1) of type
            // > PROTOCOL_ERROR.
            (
                Closed(Cause::Implicit),
                Headers { .. } | Data { .. } | Rst | WindowUpdate | PushPromise,
            ) => Next::Conn(
                ErrorCode::PROTOCOL_ERROR,
                "frame on a stream that was never opened",
            ),

            // A promised stream identifier must be new (§6.6), whatever the
            // state it is in.
            (
                ReservedLocal | ReservedRemote | Open | HalfClosedLocal | HalfClosedRemote
                | Closed(_),
                Promised,
            ) => Next::Conn(
                ErrorCode::PROTOCOL_ERROR,
                "PUSH_PROMISE for a stream that is not idle",
            ),
        }
    }
}

/// One stream: its state, its flow-control windows (RFC 9113 §6.9), and
/// what waits to be sent.
#[derive(Debug)]
pub(crate) struct Stream {
    pub state: State,
    /// What the peer lets us send; may go negative after a smaller
    /// SETTINGS_INITIAL_WINDOW_SIZE (§6.9.2).
    pub send_window: i64,
    /// What we let the peer send.
    pub recv_window: i64,
    /// Data waiting for flow-control credit.
    pub send_buf: VecDeque<u8>,
    /// END_STREAM goes on the DATA frame that empties `send_buf`.
    pub send_eos: bool,
    /// Trailers queued behind `send_buf`, sent with END_STREAM.
    pub trailers: Option<Vec<(Vec<u8>, Vec<u8>)>>,
    /// A final (non-1xx) header block was received: the next one must be
    /// trailers (RFC 9113 §8.1).
    pub recv_final_headers: bool,
    /// The `content-length` of the message the peer sends, if it declared
    /// one (RFC 9113 §8.1.1).
    pub recv_content_length: Option<u64>,
    /// Octets of DATA payload received on the stream.
    pub recv_content: u64,
    /// Our request was a HEAD: its response has no content (§8.1.1).
    pub sent_head: bool,
}

impl Stream {
    pub(crate) fn new(send_window: u32, recv_window: u32) -> Stream {
        Stream {
            state: State::Idle,
            send_window: send_window as i64,
            recv_window: recv_window as i64,
            send_buf: VecDeque::new(),
            send_eos: false,
            trailers: None,
            recv_final_headers: false,
            recv_content_length: None,
            recv_content: 0,
            sent_head: false,
        }
    }

    /// Something waits to be sent.
    pub(crate) fn has_pending(&self) -> bool {
        !self.send_buf.is_empty() || self.send_eos || self.trailers.is_some()
    }

    /// Drops whatever waits to be sent (the stream was reset).
    pub(crate) fn clear_pending(&mut self) {
        self.send_buf.clear();
        self.send_eos = false;
        self.trailers = None;
    }
}
