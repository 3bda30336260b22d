//! The `h2` crate (hyperium/h2 0.4, the HTTP/2 of hyper) as an HTTP/2
//! target, in-process: `--target h2crate`.
//!
//! Its server or client runs over an in-memory duplex
//! (`tokio::io::duplex`); the harness holds the other end. Nothing runs on
//! its own: after every delivery and application call the target polls the
//! connection on a current-thread runtime, round after round, until it
//! neither emits bytes nor surfaces a stream for two rounds. h2 reads no
//! clock of tokio's, so a trace costs no wall time.
//!
//! The application calls of a trace map onto h2's API: `respond` is
//! `SendResponse::send_response`, `data` and `end` are
//! `SendStream::send_data` (h2 buffers what the window does not allow yet),
//! `reset` is `send_reset(CANCEL)`, `push` is `SendResponse::push_request`,
//! `goaway` is the server's `Connection::graceful_shutdown`, `request` is
//! the client's `SendRequest::send_request`. What h2 cannot do (a client
//! GOAWAY, a call on a stream h2 has not handed to the application) is
//! `TargetError::Unsupported`: the trace is inconclusive, never a pass.
//! h2 does not tell a stream's RFC 9113 §5.1 state, so `state` steps are
//! not checked; the frames are.
//!
//! Every handle h2 gives the application is kept until the trace ends:
//! dropping the last one makes h2 reset a stream that is not closed
//! (`maybe_cancel` in h2's src/proto/streams/streams.rs), which no trace asks for.

use std::collections::BTreeMap;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use h2::{client, server, Reason, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

use crate::h2::{H2App, H2Settings, H2Target, StreamState};
use crate::target::{Clock, TargetError};
use crate::trace::Role;

/// Bytes the duplex holds each way before a writer waits.
const PIPE: usize = 1 << 20;
/// Rounds of polling after which a connection that still makes progress
/// is taken to loop.
const MAX_ROUNDS: usize = 10_000;

pub struct H2Crate {
    rt: tokio::runtime::Runtime,
    conn: Option<Conn>,
}

struct Conn {
    /// The harness's end of the duplex.
    wire: DuplexStream,
    side: Side,
    streams: BTreeMap<u32, Handles>,
    /// h2 ended the connection (after a GOAWAY, or the peer's EOF).
    closed: bool,
    /// What the IUT wrote that the harness has not polled yet.
    out: Vec<u8>,
}

enum Side {
    /// A server waiting for the client preface.
    Handshaking(server::Handshake<DuplexStream, Bytes>),
    Server(server::Connection<DuplexStream, Bytes>),
    Client {
        send: client::SendRequest<Bytes>,
        conn: client::Connection<DuplexStream, Bytes>,
    },
}

/// What the application holds of one stream.
#[derive(Default)]
struct Handles {
    respond: Option<server::SendResponse<Bytes>>,
    pushed: Option<server::SendPushedResponse<Bytes>>,
    body: Option<RecvStream>,
    response: Option<client::ResponseFuture>,
    send: Option<SendStream<Bytes>>,
}

impl Default for H2Crate {
    fn default() -> Self {
        H2Crate::new()
    }
}

impl H2Crate {
    pub fn new() -> Self {
        H2Crate {
            rt: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a current-thread runtime without drivers"),
            conn: None,
        }
    }

    fn parts(&mut self) -> Result<(&tokio::runtime::Runtime, &mut Conn), TargetError> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| TargetError::Broken("not open".into()))?;
        Ok((&self.rt, conn))
    }
}

fn unsupported(what: impl std::fmt::Display) -> TargetError {
    TargetError::Unsupported(format!("the h2 crate {what}"))
}

fn request() -> http::Request<()> {
    http::Request::builder()
        .method("GET")
        .uri("http://tracewright.test/")
        .body(())
        .expect("a valid request")
}

fn response() -> http::Response<()> {
    http::Response::builder()
        .status(200)
        .body(())
        .expect("a valid response")
}

impl Conn {
    /// Polls the connection once; true when it surfaced a stream or ended.
    fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        if self.closed {
            return false;
        }
        match &mut self.side {
            Side::Handshaking(h) => match Pin::new(h).poll(cx) {
                Poll::Ready(Ok(c)) => {
                    self.side = Side::Server(c);
                    true
                }
                Poll::Ready(Err(_)) => {
                    self.closed = true;
                    true
                }
                Poll::Pending => false,
            },
            Side::Server(c) => {
                let mut progress = false;
                loop {
                    match c.poll_accept(cx) {
                        Poll::Ready(Some(Ok((req, respond)))) => {
                            let id = respond.stream_id().as_u32();
                            let h = self.streams.entry(id).or_default();
                            h.body = Some(req.into_body());
                            h.respond = Some(respond);
                            progress = true;
                        }
                        Poll::Ready(Some(Err(_)) | None) => {
                            self.closed = true;
                            return true;
                        }
                        Poll::Pending => return progress,
                    }
                }
            }
            Side::Client { conn, .. } => match Pin::new(conn).poll(cx) {
                Poll::Ready(_) => {
                    self.closed = true;
                    true
                }
                Poll::Pending => false,
            },
        }
    }

    /// The application reads what came on every stream, as the bundled
    /// target's does, and gives the flow-control window back (h2 sends a
    /// WINDOW_UPDATE only for capacity the application releases, RFC 9113
    /// §6.9.1); a client takes each response as it comes. Bodies are kept
    /// once read to their end: dropping the last handle of a stream that
    /// is not closed makes h2 reset it. True when something was read.
    fn consume(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        for h in self.streams.values_mut() {
            if let Some(r) = h.response.as_mut() {
                match Pin::new(r).poll(cx) {
                    Poll::Ready(Ok(resp)) => {
                        h.response = None;
                        h.body = Some(resp.into_body());
                        progress = true;
                    }
                    Poll::Ready(Err(_)) => h.response = None,
                    Poll::Pending => {}
                }
            }
            let Some(body) = h.body.as_mut() else {
                continue;
            };
            while let Poll::Ready(Some(Ok(data))) = body.poll_data(cx) {
                let _ = body.flow_control().release_capacity(data.len());
                progress = true;
            }
        }
        progress
    }

    /// Takes what the IUT wrote; true when there was something.
    fn read_wire(&mut self, cx: &mut Context<'_>) -> bool {
        let mut buf = vec![0u8; 16 * 1024];
        let mut got = false;
        loop {
            let mut rb = ReadBuf::new(&mut buf);
            match Pin::new(&mut self.wire).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) if !rb.filled().is_empty() => {
                    self.out.extend_from_slice(rb.filled());
                    got = true;
                }
                // EOF, an error or nothing yet.
                _ => return got,
            }
        }
    }

    /// Polls the connection and reads the wire until two rounds change
    /// nothing: everything delivered is processed, everything due is out.
    fn settle(&mut self, cx: &mut Context<'_>) -> Result<(), TargetError> {
        let mut idle = 0;
        for _ in 0..MAX_ROUNDS {
            let progress = self.drive(cx) | self.consume(cx) | self.read_wire(cx);
            idle = if progress { 0 } else { idle + 1 };
            if idle == 2 {
                return Ok(());
            }
        }
        Err(TargetError::Broken(format!(
            "the h2 connection did not settle in {MAX_ROUNDS} rounds"
        )))
    }

    fn handles(&mut self, stream: u32) -> Result<&mut Handles, TargetError> {
        self.streams
            .get_mut(&stream)
            .ok_or_else(|| unsupported(format!("has not given stream {stream} to the application")))
    }

    fn app(&mut self, call: &H2App, cx: &mut Context<'_>) -> Result<(), TargetError> {
        let refused = |e: h2::Error| unsupported(format!("refused the call: {e}"));
        match *call {
            H2App::Request { stream, end_stream } => {
                let Side::Client { send, .. } = &mut self.side else {
                    return Err(unsupported("server sends no requests"));
                };
                match send.poll_ready(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => return Err(refused(e)),
                    Poll::Pending => {
                        return Err(unsupported(
                            "client may open no stream now (SendRequest::poll_ready)",
                        ))
                    }
                }
                let (response, body) = send.send_request(request(), end_stream).map_err(refused)?;
                let id = response.stream_id().as_u32();
                if id != stream {
                    return Err(unsupported(format!(
                        "opened stream {id}, the trace needs {stream}"
                    )));
                }
                let h = self.streams.entry(id).or_default();
                h.response = Some(response);
                h.send = Some(body);
            }
            H2App::Respond { stream, end_stream } => {
                let h = self.handles(stream)?;
                let send = match (&mut h.respond, &mut h.pushed) {
                    (Some(r), _) => r.send_response(response(), end_stream),
                    (None, Some(p)) => p.send_response(response(), end_stream),
                    (None, None) => {
                        return Err(unsupported(format!(
                            "has no response to send on stream {stream}"
                        )))
                    }
                };
                h.send = Some(send.map_err(refused)?);
            }
            H2App::Data {
                stream,
                end_stream,
                len,
            } => {
                let data = Bytes::from(vec![b'x'; len as usize]);
                self.sender(stream)?
                    .send_data(data, end_stream)
                    .map_err(refused)?;
            }
            H2App::End { stream } => {
                self.sender(stream)?
                    .send_data(Bytes::new(), true)
                    .map_err(refused)?;
            }
            H2App::Reset { stream } => {
                let h = self.handles(stream)?;
                match (&mut h.send, &mut h.respond, &mut h.pushed) {
                    (Some(s), _, _) => s.send_reset(Reason::CANCEL),
                    (None, Some(r), _) => r.send_reset(Reason::CANCEL),
                    (None, None, Some(p)) => p.send_reset(Reason::CANCEL),
                    _ => {
                        return Err(unsupported(format!(
                            "gives the application no way to reset stream {stream}"
                        )))
                    }
                }
            }
            H2App::Push { stream } => {
                let h = self.handles(stream)?;
                let respond = h.respond.as_mut().ok_or_else(|| {
                    unsupported(format!("pushes only on a request's stream, not {stream}"))
                })?;
                let pushed = respond.push_request(request()).map_err(refused)?;
                let id = pushed.stream_id().as_u32();
                self.streams.entry(id).or_default().pushed = Some(pushed);
            }
            H2App::Goaway => match &mut self.side {
                Side::Server(c) => c.graceful_shutdown(),
                Side::Handshaking(_) => {
                    return Err(unsupported("sends GOAWAY only after the handshake"))
                }
                Side::Client { .. } => {
                    return Err(unsupported("client has no call to send GOAWAY"))
                }
            },
        }
        Ok(())
    }

    fn sender(&mut self, stream: u32) -> Result<&mut SendStream<Bytes>, TargetError> {
        self.handles(stream)?.send.as_mut().ok_or_else(|| {
            unsupported(format!(
                "sends data only after the headers, on stream {stream}"
            ))
        })
    }
}

impl H2Target for H2Crate {
    fn name(&self) -> &str {
        "h2crate"
    }

    /// In-process: time passes only when the harness says so (h2 keeps no
    /// timer a trace waits for).
    fn clock(&self) -> Clock {
        Clock::Virtual
    }

    fn open(&mut self, role: Role, settings: &H2Settings) -> Result<(), TargetError> {
        let (wire, iut) = tokio::io::duplex(PIPE);
        let side = match role {
            Role::Server => {
                let mut b = server::Builder::new();
                if let Some(n) = settings.max_concurrent_streams {
                    b.max_concurrent_streams(n);
                }
                if let Some(w) = settings.initial_window_size {
                    b.initial_window_size(w);
                }
                if let Some(m) = settings.max_frame_size {
                    b.max_frame_size(m);
                }
                Side::Handshaking(b.handshake(iut))
            }
            Role::Client => {
                let mut b = client::Builder::new();
                if let Some(n) = settings.max_concurrent_streams {
                    b.max_concurrent_streams(n);
                }
                if let Some(w) = settings.initial_window_size {
                    b.initial_window_size(w);
                }
                if let Some(m) = settings.max_frame_size {
                    b.max_frame_size(m);
                }
                let (send, conn) = self
                    .rt
                    .block_on(b.handshake::<_, Bytes>(iut))
                    .map_err(|e| TargetError::Broken(format!("h2 client handshake: {e}")))?;
                Side::Client { send, conn }
            }
            Role::Listener => return Err(unsupported("has no listener role")),
        };
        self.conn = Some(Conn {
            wire,
            side,
            streams: BTreeMap::new(),
            closed: false,
            out: Vec::new(),
        });
        Ok(())
    }

    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        let (rt, conn) = self.parts()?;
        rt.block_on(poll_fn(|cx| Poll::Ready(conn.app(call, cx))))
    }

    fn deliver(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        let (rt, conn) = self.parts()?;
        rt.block_on(poll_fn(|cx| {
            let mut rest = bytes;
            while !rest.is_empty() {
                match Pin::new(&mut conn.wire).poll_write(cx, rest) {
                    Poll::Ready(Ok(n)) => rest = &rest[n..],
                    // The IUT's end is gone: a closed connection reads nothing.
                    Poll::Ready(Err(_)) => break,
                    // The pipe is full: let the IUT read, keep what it wrote.
                    Poll::Pending => {
                        if conn.settle(cx).is_err() {
                            break;
                        }
                    }
                }
            }
            Poll::Ready(Ok(()))
        }))
    }

    fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
        let (rt, conn) = self.parts()?;
        rt.block_on(poll_fn(|cx| Poll::Ready(conn.settle(cx))))?;
        Ok(std::mem::take(&mut conn.out))
    }

    /// h2 keeps its streams' states to itself.
    fn stream_state(&mut self, _stream: u32) -> Result<Option<StreamState>, TargetError> {
        Ok(None)
    }

    fn close(&mut self) {
        self.conn = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h2::{decode_frames, FrameType, PREFACE};

    fn frames(t: &mut H2Crate) -> Vec<crate::h2::Frame> {
        let mut buf = t.poll().unwrap();
        decode_frames(&mut buf)
    }

    #[test]
    fn the_server_announces_two_streams_and_answers_a_request() {
        let mut t = H2Crate::new();
        t.open(Role::Server, &H2Settings::MODEL).unwrap();
        t.deliver(PREFACE).unwrap();
        // An empty SETTINGS, then HEADERS on stream 1 with END_STREAM.
        t.deliver(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).unwrap();
        let first = frames(&mut t);
        assert_eq!(first[0].kind, FrameType::Settings);
        assert_eq!(first[0].max_concurrent_streams, Some(2));
        assert!(first.iter().any(|f| f.kind == FrameType::Settings && f.ack));
        let mut enc = crate::h2::Encoder::new(true);
        let headers = crate::h2::FrameSpec {
            stream: Some(1),
            end_stream: true,
            ..crate::h2::FrameSpec::new(FrameType::Headers)
        };
        t.deliver(&enc.encode(&headers)).unwrap();
        assert!(frames(&mut t).iter().all(|f| f.kind != FrameType::Goaway));
        t.app(&H2App::Respond {
            stream: 1,
            end_stream: true,
        })
        .unwrap();
        let out = frames(&mut t);
        assert!(
            out.iter()
                .any(|f| f.kind == FrameType::Headers && f.stream == 1 && f.end_stream),
            "{out:?}"
        );
    }

    #[test]
    fn what_h2_cannot_do_is_unsupported() {
        let mut t = H2Crate::new();
        t.open(Role::Client, &H2Settings::MODEL).unwrap();
        assert!(matches!(
            t.app(&H2App::Goaway),
            Err(TargetError::Unsupported(_))
        ));
        assert!(matches!(
            t.app(&H2App::Respond {
                stream: 1,
                end_stream: false
            }),
            Err(TargetError::Unsupported(_))
        ));
        assert!(matches!(
            t.open(Role::Listener, &H2Settings::MODEL),
            Err(TargetError::Unsupported(_))
        ));
    }
}
