//! The `h2exec:COMMAND` target: an HTTP/2 implementation in any language,
//! behind an adapter process that speaks JSON lines on its stdin and
//! stdout, as `exec:COMMAND` does for TCP (`crate::exec`). README.md
//! ("Testing your own HTTP/2 implementation: the h2exec adapter") documents
//! the protocol; `examples/h2_exec_adapter.rs` is one, around the bundled
//! HTTP/2 connection.
//!
//! It is a target of its own rather than `exec:` serving both protocols:
//! an adapter speaks one protocol, and the name says which one a command
//! is meant to speak before the first line is written.
//!
//! One request per line, one response line each (the shapes of
//! [`H2Settings`], [`H2App`] and [`StreamState`] are pinned in
//! `crate::h2::target`'s tests):
//!
//! | request                                                     | response                                  |
//! |-------------------------------------------------------------|-------------------------------------------|
//! | `{"op":"open","role":"server","settings":{"max_concurrent_streams":2,"initial_window_size":null}}` | `{"ok":true}` (a fresh connection) |
//! | `{"op":"app","call":{"respond":{"stream":1,"end_stream":false}}}`, `"goaway"` | `{"ok":true}`                      |
//! | `{"op":"deliver","bytes":HEX}`                              | `{"ok":true}`                             |
//! | `{"op":"poll"}`                                             | `{"ok":true,"bytes":HEX}`                 |
//! | `{"op":"advance","ms":10}`                                  | `{"ok":true,"bytes":HEX}`                 |
//! | `{"op":"state","stream":1}`                                 | `{"ok":true,"state":"half-closed (remote)"}` or `null` |
//! | `{"op":"close"}`                                            | `{"ok":true}`                             |
//!
//! `HEX` is the connection's bytes in hex (either case on the way in,
//! lowercase on the way out). A failure is
//! `{"ok":false,"error":{"kind":"unsupported"|"broken","message":…}}`: an
//! unsupported step makes its trace inconclusive, with the message as the
//! reason; for `state`, unsupported means the adapter cannot tell (as
//! `null` does).
//!
//! Every read has a deadline and every line a bound: an adapter that does
//! not answer in time, exits, answers something that is no response, or
//! writes a line longer than [`MAX_LINE`] breaks its trace (an error
//! verdict, the reason naming what it did); it is killed and reaped, and
//! the next `open` starts it again.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::target::{H2Settings, H2Target, StreamState};
use crate::exec::{ErrorBody, ErrorKind};
use crate::h2::H2App;
use crate::process::{kill_group, spawn_group, StderrTail};
use crate::target::{Clock, TargetError};
use crate::trace::Role;

/// How long the adapter may take to answer one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest response line read (16 MiB of hex: 8 MiB of connection
/// bytes, far beyond any trace's); a longer one breaks the adapter rather
/// than the harness's memory.
pub const MAX_LINE: usize = 16 << 20;

/// A request to the adapter.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Request {
    Open { role: Role, settings: H2Settings },
    App { call: H2App },
    Deliver { bytes: String },
    Poll,
    Advance { ms: u64 },
    State { stream: u32 },
    Close,
}

/// The adapter's answer to one request.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
    /// A §5.1 state's name, or `null` for "cannot tell".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// Bytes as the protocol writes them.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes out of the protocol's hex.
pub fn from_hex(hex: &str) -> Result<Vec<u8>, String> {
    let h = hex.as_bytes();
    if !h.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", h.len()));
    }
    h.chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("not hex: {:?}", String::from_utf8_lossy(p)))
        })
        .collect()
}

/// `s`, cut to about `max` bytes for a message.
fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// What the reader thread hands over: a line, or why there is none.
enum Line {
    Text(String),
    TooLong,
    Failed(std::io::Error),
}

/// Splits `r` into lines on a thread of its own (so that a read can time
/// out), none longer than `max`: a longer one ends the reading.
fn read_lines(mut r: impl Read + Send + 'static, max: usize) -> Receiver<Line> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.send(Line::Failed(e));
                    return;
                }
            };
            let mut chunk = &buf[..n];
            while let Some(nl) = chunk.iter().position(|&b| b == b'\n') {
                line.extend_from_slice(&chunk[..nl]);
                chunk = &chunk[nl + 1..];
                if line.len() > max {
                    let _ = tx.send(Line::TooLong);
                    return;
                }
                let text = String::from_utf8_lossy(&line).into_owned();
                line.clear();
                if tx.send(Line::Text(text)).is_err() {
                    return;
                }
            }
            line.extend_from_slice(chunk);
            if line.len() > max {
                let _ = tx.send(Line::TooLong);
                return;
            }
        }
    });
    rx
}

struct Adapter {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Line>,
    stderr: StderrTail,
}

impl Adapter {
    /// Kills the process and reaps it: no adapter outlives its target.
    fn kill(mut self) {
        kill_group(&mut self.child);
    }
}

/// An HTTP/2 target behind an adapter process.
pub struct H2ExecTarget {
    command: String,
    timeout: Duration,
    max_line: usize,
    adapter: Option<Adapter>,
    name: String,
}

impl H2ExecTarget {
    /// The target `h2exec:COMMAND`; COMMAND runs under `sh -c`.
    pub fn new(command: &str) -> Self {
        Self::with_limits(command, DEFAULT_TIMEOUT, MAX_LINE)
    }

    /// With a deadline per answer and a bound on a line other than the
    /// defaults.
    pub fn with_limits(command: &str, timeout: Duration, max_line: usize) -> Self {
        H2ExecTarget {
            command: command.to_string(),
            timeout,
            max_line,
            adapter: None,
            name: format!("h2exec:{command}"),
        }
    }

    /// The adapter's process id while it runs (tests check that it is
    /// reaped).
    pub fn pid(&self) -> Option<u32> {
        self.adapter.as_ref().map(|a| a.child.id())
    }

    fn spawn(&self) -> Result<Adapter, TargetError> {
        // A group of its own, so that what `sh -c` started dies with it.
        let (mut child, stderr) = spawn_group(&self.command, true)
            .map_err(|e| TargetError::Broken(format!("cannot start {:?}: {e}", self.command)))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let lines = read_lines(stdout, self.max_line);
        Ok(Adapter {
            child,
            stdin,
            lines,
            stderr,
        })
    }

    /// Kills the adapter and says why, with the tail of its stderr.
    fn broken(&mut self, why: String) -> TargetError {
        let mut message = why;
        if let Some(mut a) = self.adapter.take() {
            // Give an adapter that is exiting a moment to say why.
            std::thread::sleep(Duration::from_millis(20));
            if let Ok(Some(status)) = a.child.try_wait() {
                message += &format!(" (the adapter exited: {status})");
            }
            kill_group(&mut a.child);
            if let Some(last) = a.stderr.last_line() {
                message += &format!("; its stderr: {last}");
            }
        }
        TargetError::Broken(message)
    }

    fn call(&mut self, req: &Request) -> Result<Response, TargetError> {
        let line = serde_json::to_string(req).expect("requests serialize");
        // The request as error messages quote it: a delivery's bytes can be long.
        let shown = clip(&line, 120);
        let timeout = self.timeout;
        let Some(a) = self.adapter.as_mut() else {
            return Err(TargetError::Broken("the adapter is not running".into()));
        };
        if let Err(e) = writeln!(a.stdin, "{line}").and_then(|_| a.stdin.flush()) {
            return Err(self.broken(format!("writing to the adapter: {e}")));
        }
        let answer = match a.lines.recv_timeout(timeout) {
            Ok(Line::Text(l)) => l,
            Ok(Line::TooLong) => {
                return Err(self.broken(format!(
                    "the adapter answered {shown} with a line longer than {} bytes",
                    self.max_line
                )))
            }
            Ok(Line::Failed(e)) => {
                return Err(self.broken(format!("reading from the adapter: {e}")))
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(self.broken(format!(
                    "the adapter did not answer {shown} within {} ms",
                    timeout.as_millis()
                )))
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(self.broken(format!(
                    "the adapter closed its stdout before answering {shown}"
                )))
            }
        };
        let resp: Response = match serde_json::from_str(&answer) {
            Ok(r) => r,
            Err(e) => {
                let quoted = clip(&answer, 120);
                return Err(self.broken(format!(
                    "the adapter answered {shown} with {quoted:?}, not a response: {e}"
                )));
            }
        };
        if !resp.ok {
            return Err(match resp.error {
                Some(ErrorBody {
                    kind: ErrorKind::Unsupported,
                    message,
                }) => TargetError::Unsupported(message),
                Some(ErrorBody {
                    kind: ErrorKind::Broken,
                    message,
                }) => TargetError::Broken(message),
                None => TargetError::Broken(format!("the adapter refused {shown}")),
            });
        }
        Ok(resp)
    }

    fn bytes_of(&mut self, resp: Response) -> Result<Vec<u8>, TargetError> {
        from_hex(resp.bytes.as_deref().unwrap_or(""))
            .map_err(|e| self.broken(format!("the adapter sent bad bytes: {e}")))
    }
}

impl H2Target for H2ExecTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn clock(&self) -> Clock {
        // The adapter answers `poll` once its IUT has processed what it
        // was given, and the harness says how much time passes: a virtual
        // clock, as far as the replay can tell.
        Clock::Virtual
    }

    fn open(&mut self, role: Role, settings: &H2Settings) -> Result<(), TargetError> {
        if role == Role::Listener {
            return Err(TargetError::Unsupported(
                "an HTTP/2 connection has no listener role".into(),
            ));
        }
        if self.adapter.is_none() {
            self.adapter = Some(self.spawn()?);
        }
        self.call(&Request::Open {
            role,
            settings: *settings,
        })
        .map(|_| ())
    }

    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        self.call(&Request::App { call: call.clone() }).map(|_| ())
    }

    fn deliver(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.call(&Request::Deliver {
            bytes: to_hex(bytes),
        })
        .map(|_| ())
    }

    fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
        let resp = self.call(&Request::Poll)?;
        self.bytes_of(resp)
    }

    fn advance(&mut self, d: Duration) -> Result<Vec<u8>, TargetError> {
        let resp = self.call(&Request::Advance {
            ms: d.as_millis() as u64,
        })?;
        self.bytes_of(resp)
    }

    fn stream_state(&mut self, stream: u32) -> Result<Option<StreamState>, TargetError> {
        match self.call(&Request::State { stream }) {
            Ok(r) => match r.state {
                None => Ok(None),
                Some(s) => s.parse().map(Some).map_err(|e| {
                    self.broken(format!(
                        "the adapter answered a state of stream {stream}: {e}"
                    ))
                }),
            },
            // An adapter that cannot tell, as `null` says.
            Err(TargetError::Unsupported(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn close(&mut self) {
        if self.adapter.is_some() {
            let _ = self.call(&Request::Close);
        }
    }
}

impl Drop for H2ExecTarget {
    fn drop(&mut self) {
        if let Some(a) = self.adapter.take() {
            a.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_json_line_each() {
        let j = |r: &Request| serde_json::to_string(r).unwrap();
        assert_eq!(
            j(&Request::Open {
                role: Role::Client,
                settings: H2Settings::MODEL
            }),
            r#"{"op":"open","role":"client","settings":{"max_concurrent_streams":2,"initial_window_size":null}}"#
        );
        assert_eq!(
            j(&Request::App {
                call: H2App::Goaway
            }),
            r#"{"op":"app","call":"goaway"}"#
        );
        assert_eq!(
            j(&Request::Deliver {
                bytes: to_hex(&[0, 0xab])
            }),
            r#"{"op":"deliver","bytes":"00ab"}"#
        );
        assert_eq!(
            j(&Request::State { stream: 3 }),
            r#"{"op":"state","stream":3}"#
        );
        assert_eq!(j(&Request::Poll), r#"{"op":"poll"}"#);
    }

    #[test]
    fn hex_reads_both_cases_and_refuses_the_rest() {
        assert_eq!(from_hex("00aBff").unwrap(), vec![0, 0xab, 0xff]);
        assert!(from_hex("abc").is_err());
        assert!(from_hex("zz").is_err());
        assert_eq!(from_hex("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn a_line_beyond_the_bound_ends_the_reading() {
        let input = format!("short\n{}\nnever\n", "x".repeat(100));
        let rx = read_lines(std::io::Cursor::new(input.into_bytes()), 50);
        assert!(matches!(rx.recv().unwrap(), Line::Text(t) if t == "short"));
        assert!(matches!(rx.recv().unwrap(), Line::TooLong));
        assert!(rx.recv().is_err(), "nothing is read after the long line");
    }

    #[test]
    fn a_line_without_an_end_is_cut_at_the_bound() {
        // An endless line, as `yes | tr -d '\n'` would write.
        let endless = std::io::repeat(b'x');
        let rx = read_lines(endless, 1 << 20);
        assert!(matches!(
            rx.recv_timeout(Duration::from_secs(10)).unwrap(),
            Line::TooLong
        ));
    }
}
