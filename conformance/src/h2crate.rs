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
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};

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
    conn: Option<Duplex>,
}

/// The in-process connection and the harness's end of its duplex.
struct Duplex {
    wire: DuplexStream,
    conn: Conn<DuplexStream>,
    /// What the IUT wrote that the harness has not polled yet.
    out: Vec<u8>,
}

/// h2's connection over `T` and what its application holds of it: the
/// same over the in-memory duplex and over a socket ([`net`]).
struct Conn<T> {
    side: Side<T>,
    streams: BTreeMap<u32, Handles>,
    /// h2 ended the connection (after a GOAWAY, or the peer's EOF).
    closed: bool,
}

enum Side<T> {
    /// A server waiting for the client preface.
    Handshaking(server::Handshake<T, Bytes>),
    Server(server::Connection<T, Bytes>),
    Client {
        send: client::SendRequest<Bytes>,
        conn: client::Connection<T, Bytes>,
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

    fn parts(&mut self) -> Result<(&tokio::runtime::Runtime, &mut Duplex), TargetError> {
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

impl<T: AsyncRead + AsyncWrite + Unpin> Conn<T> {
    fn new(side: Side<T>) -> Self {
        Conn {
            side,
            streams: BTreeMap::new(),
            closed: false,
        }
    }

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

/// h2's endpoint in `role` over `io`, announcing `settings`; a client has
/// written its preface when this returns.
fn side<T>(
    rt: &tokio::runtime::Runtime,
    role: Role,
    settings: &H2Settings,
    io: T,
) -> Result<Side<T>, TargetError>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    Ok(match role {
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
            Side::Handshaking(b.handshake(io))
        }
        Role::Client => {
            let mut b = client::Builder::new();
            if let Some(n) = settings.max_concurrent_streams {
                b.max_concurrent_streams(n);
            }
            if let Some(p) = settings.enable_push {
                b.enable_push(p);
            }
            if let Some(w) = settings.initial_window_size {
                b.initial_window_size(w);
            }
            if let Some(m) = settings.max_frame_size {
                b.max_frame_size(m);
            }
            let (send, conn) = rt
                .block_on(b.handshake::<_, Bytes>(io))
                .map_err(|e| TargetError::Broken(format!("h2 client handshake: {e}")))?;
            Side::Client { send, conn }
        }
        Role::Listener => return Err(unsupported("has no listener role")),
    })
}

impl Duplex {
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
            let progress = self.conn.drive(cx) | self.conn.consume(cx) | self.read_wire(cx);
            idle = if progress { 0 } else { idle + 1 };
            if idle == 2 {
                return Ok(());
            }
        }
        Err(TargetError::Broken(format!(
            "the h2 connection did not settle in {MAX_ROUNDS} rounds"
        )))
    }
}

impl H2Target for H2Crate {
    fn name(&self) -> &str {
        "h2crate"
    }

    /// h2 ended the connection and the harness has read all it wrote (a
    /// wrong client magic ends it without a GOAWAY, RFC 9113 §3.4).
    fn closed(&self) -> bool {
        self.conn
            .as_ref()
            .is_some_and(|d| d.conn.closed && d.out.is_empty())
    }

    /// In-process: time passes only when the harness says so (h2 keeps no
    /// timer a trace waits for).
    fn clock(&self) -> Clock {
        Clock::Virtual
    }

    fn open(&mut self, role: Role, settings: &H2Settings) -> Result<(), TargetError> {
        let (wire, iut) = tokio::io::duplex(PIPE);
        let side = side(&self.rt, role, settings, iut)?;
        self.conn = Some(Duplex {
            wire,
            conn: Conn::new(side),
            out: Vec::new(),
        });
        Ok(())
    }

    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        let (rt, conn) = self.parts()?;
        rt.block_on(poll_fn(|cx| Poll::Ready(conn.conn.app(call, cx))))
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

// ------------------------------------------------------ over a real socket

/// The h2 crate behind a real loopback socket, its application still ours
/// (`h2crate-server` through [`crate::h2::NetH2`], `h2crate-client` through
/// [`crate::h2::client::H2ClientTarget`]): the same connection and the same
/// mapping of the trace's application calls as in-process, but the bytes
/// cross the kernel's TCP and h2 runs on a thread of its own, on real time.
/// What the harness does over a real socket (its PING proving silence, its
/// tolerance, one connection per trace) is then tested against an IUT
/// whose in-process verdicts are known.
///
/// Per trace, a current-thread tokio runtime on a thread of its own polls
/// the connection; the harness's application calls take the same lock and
/// wake it. When h2 ends the connection, the thread drops it, so the socket
/// closes and the harness reads the end instead of waiting for it.
pub struct H2CrateIut {
    /// The server's listener (`h2crate-server`); a client has none.
    listener: Option<std::net::TcpListener>,
    running: Option<Running>,
}

/// One trace's connection, polled by its thread; the condition variable
/// tells of each poll that ends.
struct Running {
    shared: Arc<(Mutex<Shared>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    /// None once h2 ended the connection or the trace ended.
    conn: Option<Conn<tokio::net::TcpStream>>,
    stop: bool,
    /// The polling thread's, to wake it after an application call.
    waker: Option<Waker>,
    /// Polls of the connection so far.
    polls: u64,
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

impl H2CrateIut {
    /// A server listening on an ephemeral loopback port, and that port.
    pub fn server() -> std::io::Result<(H2CrateIut, SocketAddr)> {
        let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        Ok((
            H2CrateIut {
                listener: Some(listener),
                running: None,
            },
            addr,
        ))
    }

    /// A client, connecting to the harness per trace.
    pub fn client() -> H2CrateIut {
        H2CrateIut {
            listener: None,
            running: None,
        }
    }

    /// The server's end of the connection the harness just made.
    fn accept(&self) -> Result<std::net::TcpStream, TargetError> {
        let listener = self
            .listener
            .as_ref()
            .ok_or_else(|| unsupported("client takes no connection"))?;
        let deadline = std::time::Instant::now() + crate::h2::net::TOLERANCE;
        loop {
            match listener.accept() {
                Ok((sock, _)) => return Ok(sock),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(TargetError::Broken(format!("accepting: {e}"))),
            }
            if std::time::Instant::now() >= deadline {
                return Err(TargetError::Broken(
                    "the harness's connection did not arrive".into(),
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

impl crate::h2::net::InProcessIut for H2CrateIut {
    fn open(
        &mut self,
        role: Role,
        settings: &H2Settings,
        harness: Option<SocketAddr>,
    ) -> Result<(), TargetError> {
        self.close();
        let broken = |what: &str, e: std::io::Error| TargetError::Broken(format!("{what}: {e}"));
        let sock = match (role, harness) {
            (Role::Server, _) => self.accept()?,
            (Role::Client, Some(addr)) => {
                std::net::TcpStream::connect(addr).map_err(|e| broken("connecting", e))?
            }
            (Role::Client, None) => return Err(unsupported("client needs the harness's address")),
            (Role::Listener, _) => return Err(unsupported("has no listener role")),
        };
        sock.set_nodelay(true)
            .map_err(|e| broken("TCP_NODELAY", e))?;
        sock.set_nonblocking(true)
            .map_err(|e| broken("a nonblocking socket", e))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| broken("a tokio runtime", e))?;
        let io = {
            let _in = rt.enter();
            tokio::net::TcpStream::from_std(sock)
                .map_err(|e| broken("registering the socket", e))?
        };
        let side = side(&rt, role, settings, io)?;
        let shared = Arc::new((
            Mutex::new(Shared {
                conn: Some(Conn::new(side)),
                stop: false,
                waker: None,
                polls: 0,
            }),
            Condvar::new(),
        ));
        let polled = shared.clone();
        let thread = std::thread::Builder::new()
            .name("h2crate".into())
            .spawn(move || {
                let (shared, polled) = (&polled.0, &polled.1);
                rt.block_on(poll_fn(|cx| {
                    let mut s = lock(shared);
                    if s.stop {
                        return Poll::Ready(());
                    }
                    s.waker = Some(cx.waker().clone());
                    let Some(c) = s.conn.as_mut() else {
                        return Poll::Ready(());
                    };
                    while c.drive(cx) | c.consume(cx) {}
                    let closed = c.closed;
                    s.polls += 1;
                    polled.notify_all();
                    if closed {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                }));
                // Inside the runtime its socket is registered with: the
                // socket closes, and the harness reads the end.
                let _in = rt.enter();
                let conn = lock(shared).conn.take();
                drop(conn);
                lock(shared).polls += 1;
                polled.notify_all();
            })
            .map_err(|e| broken("a thread", e))?;
        self.running = Some(Running {
            shared,
            thread: Some(thread),
        });
        Ok(())
    }

    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        let running = self
            .running
            .as_ref()
            .ok_or_else(|| TargetError::Broken("not open".into()))?;
        let (shared, polled) = (&running.shared.0, &running.shared.1);
        let mut s = lock(shared);
        let waker = s.waker.clone().unwrap_or_else(|| Waker::noop().clone());
        let conn = s
            .conn
            .as_mut()
            .ok_or_else(|| unsupported("ended the connection"))?;
        let result = conn.app(call, &mut Context::from_waker(&waker));
        // What the call queued goes out in the connection's next poll:
        // wait for it, so that all of it is on the wire before the
        // harness's PING (h2 writes a PING's ACK ahead of queued DATA, so
        // the PING alone would cut a DATA run where the IUT's speed has it).
        let before = s.polls;
        waker.wake();
        let deadline = std::time::Instant::now() + crate::h2::net::TOLERANCE;
        while s.polls == before && s.conn.is_some() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            s = polled
                .wait_timeout(s, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        result
    }

    fn close(&mut self) {
        if let Some(mut r) = self.running.take() {
            let waker = {
                let mut s = lock(&r.shared.0);
                s.stop = true;
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
            if let Some(t) = r.thread.take() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for H2CrateIut {
    fn drop(&mut self) {
        crate::h2::net::InProcessIut::close(self);
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
