//! The `h2-client:COMMAND` target: an HTTP/2 client program as the IUT.
//! The harness listens on 127.0.0.1 (an ephemeral port) and plays the
//! server; per trace the client is started with the address substituted
//! into COMMAND (`{url}` is `http://127.0.0.1:PORT/`, `{addr}` is
//! `127.0.0.1:PORT`, `{port}` the port), as in
//!
//! ```text
//! tracewright replay h2 --target 'h2-client:curl --http2-prior-knowledge -s -o /dev/null {url}'
//! ```
//!
//! and killed and reaped when the trace ends. The client speaks HTTP/2 with
//! prior knowledge (RFC 9113 §3.3): its bytes start with the preface.
//!
//! A client program is not told what to do: it makes its request when it
//! starts, and whatever else it does is its own decision. So
//! - only client-role traces apply (a server-role trace is unsupported);
//! - `app: request` on stream 1 is the program's own first request. Its
//!   frames on stream 1 are held back until the trace reaches that step,
//!   then handed to the replay; a trace whose request leaves the stream
//!   open while the program's ends it (a GET: END_STREAM on HEADERS), or
//!   the other way round, is unsupported at that step;
//! - the program opened stream 1 before the trace's request, so a trace in
//!   which the harness sends a frame on a stream before that request
//!   tests a stream the program does not have idle: unsupported;
//! - every other application call (data, end, reset, push, goaway, a
//!   second request) is unsupported: nothing can make the program do it
//!   when the trace says.
//!
//! - a client that announces SETTINGS_ENABLE_PUSH 0 in its first SETTINGS
//!   (curl does) takes a PUSH_PROMISE as a connection error (RFC 9113
//!   §6.5.2, §8.4): a trace that sends one is unsupported there, since it
//!   tests a client that accepts pushes.
//!
//! The h2 crate as a client (`h2crate-client`) goes through the same
//! listener and socket, but its application is ours
//! ([`super::net::InProcessIut`]): it announces the trace's settings and
//! makes each request, and every other call, when the trace says.
//!
//! Unsupported makes the trace inconclusive with the reason, never a pass.
//! The program runs on real time: what it emits is awaited within the
//! clock's tolerance, and the program's stream states cannot be read.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

use super::codec::PREFACE;
use super::net::InProcessIut;
use super::target::{H2Settings, H2Target, StreamState};
use crate::h2::H2App;
use crate::process::{kill_group, spawn_group, StderrTail};
use crate::target::{Clock, TargetError};
use crate::trace::Role;

/// How long an answer of the client may take.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(1);
/// How long the client may take to start and connect.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2's frame header (RFC 9113 §4.1).
const FRAME_HEADER: usize = 9;
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const PUSH_PROMISE: u8 = 0x5;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
/// SETTINGS_ENABLE_PUSH's identifier (RFC 9113 §6.5.2).
const ENABLE_PUSH: u16 = 0x2;

/// One frame's header, read off the wire (RFC 9113 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head {
    len: usize,
    kind: u8,
    flags: u8,
    stream: u32,
}

fn head(b: &[u8]) -> Option<Head> {
    if b.len() < FRAME_HEADER {
        return None;
    }
    Some(Head {
        len: (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize,
        kind: b[3],
        flags: b[4],
        stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
    })
}

/// The value of SETTINGS_ENABLE_PUSH in a SETTINGS payload, if it is
/// there (the last one counts, RFC 9113 §6.5.3).
fn enable_push(payload: &[u8]) -> Option<u32> {
    payload
        .chunks_exact(6)
        .filter(|c| u16::from_be_bytes([c[0], c[1]]) == ENABLE_PUSH)
        .map(|c| u32::from_be_bytes([c[2], c[3], c[4], c[5]]))
        .last()
}

/// The frames' headers in `bytes` (whole frames, as the harness writes them).
fn heads(mut bytes: &[u8]) -> Vec<Head> {
    let mut out = Vec::new();
    while let Some(h) = head(bytes) {
        out.push(h);
        bytes = &bytes[(FRAME_HEADER + h.len).min(bytes.len())..];
    }
    out
}

/// The client under test.
enum Client {
    /// A program, started per trace (`h2-client:COMMAND`).
    Program(String),
    /// An IUT in this process whose application takes the trace's calls
    /// (`h2crate-client`): it makes its requests when the trace says, so
    /// nothing of it is held back.
    InProcess(Box<dyn InProcessIut>),
}

/// The running client and what it sent so far.
struct Session {
    /// The program's process; none for an in-process client.
    child: Option<Child>,
    sock: TcpStream,
    /// Read from the client, not yet cut into frames.
    raw: Vec<u8>,
    /// Whether the preface went on to `out` (or the bytes were no preface:
    /// the replay reports that).
    past_preface: bool,
    /// The client's frames on stream 1, before the trace's request.
    held: Vec<u8>,
    /// The headers of the held frames.
    held_heads: Vec<Head>,
    /// What the replay takes next.
    out: Vec<u8>,
    /// The trace made its request: stream 1's frames go through.
    requested: bool,
    eof: bool,
    /// The client's first SETTINGS came.
    settings_seen: bool,
    /// It announced SETTINGS_ENABLE_PUSH 0 there.
    push_disabled: bool,
    /// The trace asked for ENABLE_PUSH 0: its PUSH_PROMISE tests that.
    push_disabled_asked: bool,
}

impl Session {
    /// `requested`: the client's frames on stream 1 go through from the
    /// start (an in-process client requests when the trace says).
    fn new(child: Option<Child>, sock: TcpStream, requested: bool) -> Session {
        Session {
            child,
            sock,
            raw: Vec::new(),
            past_preface: false,
            held: Vec::new(),
            held_heads: Vec::new(),
            out: Vec::new(),
            requested,
            eof: false,
            settings_seen: false,
            push_disabled: false,
            push_disabled_asked: false,
        }
    }

    /// Reads what the client sent, waiting up to `wait` for something
    /// when nothing is there yet.
    fn read(&mut self, wait: Duration) -> Result<(), TargetError> {
        let mut buf = [0u8; 64 * 1024];
        let mut first = true;
        while !self.eof {
            let timeout = if first { wait } else { Duration::ZERO };
            first = false;
            if timeout.is_zero() {
                self.sock.set_nonblocking(true)
            } else {
                self.sock
                    .set_nonblocking(false)
                    .and_then(|_| self.sock.set_read_timeout(Some(timeout)))
            }
            .map_err(|e| TargetError::Broken(format!("the client's socket: {e}")))?;
            match self.sock.read(&mut buf) {
                Ok(0) => self.eof = true,
                Ok(n) => self.raw.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // A client that resets the connection has closed it.
                Err(_) => self.eof = true,
            }
        }
        self.cut();
        Ok(())
    }

    /// Moves whole frames from `raw` on, holding stream 1's until the
    /// request.
    fn cut(&mut self) {
        if !self.past_preface {
            if self.raw.len() < PREFACE.len() && PREFACE.starts_with(&self.raw) {
                return;
            }
            // What is no preface goes to the replay as it is: it fails there.
            let n = PREFACE.len().min(self.raw.len());
            self.out.extend(self.raw.drain(..n));
            self.past_preface = true;
        }
        while let Some(h) = head(&self.raw) {
            if self.raw.len() < FRAME_HEADER + h.len {
                break;
            }
            let frame: Vec<u8> = self.raw.drain(..FRAME_HEADER + h.len).collect();
            if h.kind == SETTINGS && h.flags & ACK == 0 && !self.settings_seen {
                self.settings_seen = true;
                self.push_disabled = enable_push(&frame[FRAME_HEADER..]) == Some(0);
            }
            if !self.requested && h.stream == 1 {
                self.held.extend(frame);
                self.held_heads.push(h);
            } else {
                self.out.extend(frame);
            }
        }
    }

    fn kill(mut self) {
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
        if let Some(child) = &mut self.child {
            kill_group(child);
        }
    }
}

/// An HTTP/2 client program as the IUT.
pub struct H2ClientTarget {
    client: Client,
    tolerance: Duration,
    session: Option<Session>,
    name: String,
}

impl H2ClientTarget {
    /// The target `h2-client:COMMAND`; COMMAND runs under `sh -c`.
    pub fn new(command: &str) -> Self {
        Self::with_tolerance(command, DEFAULT_TOLERANCE)
    }

    pub fn with_tolerance(command: &str, tolerance: Duration) -> Self {
        H2ClientTarget {
            client: Client::Program(command.to_string()),
            tolerance,
            session: None,
            name: format!("h2-client:{command}"),
        }
    }

    /// A client in this process, named `name` in reports: per trace it is
    /// opened with the harness's address and the trace's settings, and
    /// takes the trace's application calls.
    pub fn in_process(name: &str, iut: Box<dyn InProcessIut>) -> Self {
        H2ClientTarget {
            client: Client::InProcess(iut),
            tolerance: DEFAULT_TOLERANCE,
            session: None,
            name: name.to_string(),
        }
    }

    /// The client's process id while a trace runs.
    pub fn pid(&self) -> Option<u32> {
        self.session
            .as_ref()
            .and_then(|s| s.child.as_ref())
            .map(Child::id)
    }

    fn session(&mut self) -> Result<&mut Session, TargetError> {
        self.session
            .as_mut()
            .ok_or_else(|| TargetError::Broken("no client is running".into()))
    }

    /// Starts the client against a fresh listener and takes its connection.
    fn start(&mut self, settings: &H2Settings) -> Result<Session, TargetError> {
        let broken = |what: &str, e: std::io::Error| TargetError::Broken(format!("{what}: {e}"));
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| broken("listening on 127.0.0.1", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| broken("the listener's address", e))?;
        let command = match &mut self.client {
            Client::Program(command) => command,
            Client::InProcess(iut) => {
                // Its connect is done when open returns: the connection
                // waits in the listener's backlog.
                iut.open(Role::Client, settings, Some(addr))?;
                let (sock, _) = listener
                    .accept()
                    .map_err(|e| broken("accepting the client", e))?;
                let _ = sock.set_nodelay(true);
                return Ok(Session::new(None, sock, true));
            }
        };
        let command = command
            .replace("{url}", &format!("http://{addr}/"))
            .replace("{addr}", &addr.to_string())
            .replace("{port}", &addr.port().to_string());
        // A group of its own, so that what `sh -c` started dies with it.
        let (mut child, stderr) = spawn_group(&command, false)
            .map_err(|e| broken(&format!("cannot start {command:?}"), e))?;
        let fail = |mut child: Child, why: String, stderr: &StderrTail| {
            kill_group(&mut child);
            TargetError::Broken(match stderr.last_line() {
                Some(l) => format!("{why}; its stderr: {l}"),
                None => why,
            })
        };
        if let Err(e) = listener.set_nonblocking(true) {
            return Err(fail(child, format!("the listener: {e}"), &stderr));
        }
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let sock = loop {
            match listener.accept() {
                Ok((sock, _)) => break sock,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(fail(child, format!("accepting the client: {e}"), &stderr)),
            }
            if let Ok(Some(status)) = child.try_wait() {
                let why = format!("the client exited ({status}) before connecting to {addr}");
                return Err(fail(child, why, &stderr));
            }
            if Instant::now() >= deadline {
                let why = format!(
                    "the client did not connect to {addr} within {} s",
                    CONNECT_TIMEOUT.as_secs()
                );
                return Err(fail(child, why, &stderr));
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let _ = sock.set_nodelay(true);
        Ok(Session::new(Some(child), sock, false))
    }

    /// The program's first request, as the trace's `app: request` on
    /// stream 1: its HEADERS, awaited within the tolerance, then its held
    /// frames go on.
    fn request(&mut self, end_stream: bool) -> Result<(), TargetError> {
        let tolerance = self.tolerance;
        let s = self.session()?;
        let deadline = Instant::now() + tolerance;
        loop {
            if let Some(h) = s.held_heads.iter().find(|h| h.kind == HEADERS) {
                let ends = h.flags & END_STREAM != 0;
                if ends != end_stream {
                    return Err(TargetError::Unsupported(format!(
                        "the client's own request on stream 1 {} its stream with its HEADERS; the trace needs it {}",
                        if ends { "ends" } else { "does not end" },
                        if end_stream { "ended" } else { "open" }
                    )));
                }
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || s.eof {
                return Err(TargetError::Unsupported(
                    "the client made no request on stream 1 when the trace makes one".into(),
                ));
            }
            s.read(left)?;
        }
        s.requested = true;
        let held = std::mem::take(&mut s.held);
        s.held_heads.clear();
        // Stream 1's frames come before whatever the client sent after
        // them (the harness's frames since are connection-level only).
        let rest = std::mem::take(&mut s.out);
        s.out = held;
        s.out.extend(rest);
        Ok(())
    }

    fn take(&mut self, wait: Duration) -> Result<Vec<u8>, TargetError> {
        let s = self.session()?;
        s.read(wait)?;
        Ok(std::mem::take(&mut s.out))
    }
}

impl H2Target for H2ClientTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn clock(&self) -> Clock {
        Clock::Real {
            tolerance: self.tolerance,
        }
    }

    /// A program's SETTINGS are its own: `settings` go to an in-process
    /// client only, and the trace's expectations judge what it announces.
    fn open(&mut self, role: Role, settings: &H2Settings) -> Result<(), TargetError> {
        if role != Role::Client {
            return Err(TargetError::Unsupported(format!(
                "the IUT is a client program; a {role} trace needs a server"
            )));
        }
        self.close();
        let mut session = self.start(settings)?;
        session.push_disabled_asked = settings.enable_push == Some(false);
        self.session = Some(session);
        Ok(())
    }

    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        if let Client::InProcess(iut) = &mut self.client {
            return iut.app(call);
        }
        match *call {
            H2App::Request {
                stream: 1,
                end_stream,
            } => {
                if self.session()?.requested {
                    return Err(TargetError::Unsupported(
                        "the client program makes one request on stream 1".into(),
                    ));
                }
                self.request(end_stream)
            }
            ref other => Err(TargetError::Unsupported(format!(
                "a client program cannot be told to do `{other}` when the trace says"
            ))),
        }
    }

    fn deliver(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        let s = self.session()?;
        // A parameter learnt from the client's SETTINGS, as the replay
        // learns MAX_CONCURRENT_STREAMS: a client that disabled push takes
        // a PUSH_PROMISE as a connection error (RFC 9113 §6.5.2, §8.4),
        // which is no test of the stream states the trace is about.
        // (A trace that asked for ENABLE_PUSH 0 is about that error.)
        if s.push_disabled
            && !s.push_disabled_asked
            && heads(bytes).iter().any(|h| h.kind == PUSH_PROMISE)
        {
            return Err(TargetError::Unsupported(
                "the client announced SETTINGS_ENABLE_PUSH 0: a PUSH_PROMISE is a connection error to it (RFC 9113 §6.5.2, §8.4); the trace needs a client that accepts pushes".into(),
            ));
        }
        if !s.requested {
            if let Some(h) = heads(bytes).into_iter().find(|h| h.stream != 0) {
                return Err(TargetError::Unsupported(format!(
                    "the client opened stream 1 when it started; the trace sends a frame on stream {} before its request",
                    h.stream
                )));
            }
        }
        // A client that closed the connection reads nothing more; the
        // next expectation sees that.
        if s.sock.set_nonblocking(false).is_ok() {
            let _ = s.sock.write_all(bytes);
        }
        Ok(())
    }

    fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
        self.take(Duration::ZERO)
    }

    fn advance(&mut self, d: Duration) -> Result<Vec<u8>, TargetError> {
        self.take(d)
    }

    fn stream_state(&mut self, _stream: u32) -> Result<Option<StreamState>, TargetError> {
        Ok(None)
    }

    /// A client program announces its own SETTINGS (curl: 100 concurrent
    /// streams, and no option to change it): the replay takes its
    /// MAX_CONCURRENT_STREAMS as the value of the trace's parameter, and
    /// gives up (inconclusive) only a trace that depends on the model's 2.
    fn autonomous(&self) -> bool {
        matches!(self.client, Client::Program(_))
    }

    /// The program closed the connection (it exits once its request is
    /// answered): nothing more will come, so no PING is waited for.
    fn closed(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.eof && s.raw.is_empty() && s.out.is_empty())
    }

    fn close(&mut self) {
        if let Some(s) = self.session.take() {
            s.kill();
        }
        if let Client::InProcess(iut) = &mut self.client {
            iut.close();
        }
    }
}

impl Drop for H2ClientTarget {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_heads_read_as_rfc_9113_section_4_1_lays_them_out() {
        // HEADERS, END_STREAM|END_HEADERS, stream 1, 3 bytes; then PING on 0.
        let mut b = vec![0, 0, 3, 1, 5, 0, 0, 0, 1, 0xa, 0xb, 0xc];
        b.extend([0, 0, 8, 6, 0, 0x80, 0, 0, 0]);
        b.extend([0u8; 8]);
        let h = heads(&b);
        assert_eq!(h.len(), 2);
        assert_eq!(
            h[0],
            Head {
                len: 3,
                kind: HEADERS,
                flags: 5,
                stream: 1
            }
        );
        // The reserved bit is not part of the stream id.
        assert_eq!((h[1].kind, h[1].stream), (6, 0));
    }

    #[test]
    fn enable_push_is_read_off_a_settings_payload() {
        // MAX_CONCURRENT_STREAMS 100, ENABLE_PUSH 0.
        let p = [0, 3, 0, 0, 0, 100, 0, 2, 0, 0, 0, 0];
        assert_eq!(enable_push(&p), Some(0));
        assert_eq!(enable_push(&p[..6]), None);
        assert_eq!(enable_push(&[0, 2, 0, 0, 0, 1]), Some(1));
    }

    #[test]
    fn server_role_traces_are_unsupported() {
        let mut t = H2ClientTarget::new("true");
        let e = t.open(Role::Server, &H2Settings::MODEL).unwrap_err();
        assert!(matches!(e, TargetError::Unsupported(_)), "{e}");
        assert!(t.pid().is_none(), "nothing was started");
    }

    #[test]
    fn a_client_that_never_connects_breaks_its_trace_with_its_stderr() {
        let mut t = H2ClientTarget::new("echo 'no such host' >&2; exit 7");
        let e = t.open(Role::Client, &H2Settings::MODEL).unwrap_err();
        let TargetError::Broken(why) = e else {
            panic!("{e}")
        };
        assert!(why.contains("exited"), "{why}");
        assert!(why.contains("no such host"), "{why}");
    }
}
