//! The `exec:COMMAND` target: a stack in any language, behind an adapter
//! process that speaks JSON lines on its stdin and stdout. README.md
//! ("Testing your own stack: the exec adapter") documents the protocol;
//! `examples/exec_adapter.rs` is one, around the bundled stack.
//!
//! One request per line, one response line each:
//!
//! | request                                              | response                                  |
//! |------------------------------------------------------|-------------------------------------------|
//! | `{"op":"open","role":"server","profile":{…}}`        | `{"ok":true}` (a fresh IUT, clock at 0)   |
//! | `{"op":"app","call":"listen"}`, `{"send":10}`        | `{"ok":true}`                             |
//! | `{"op":"try","call":"connect"}`                      | `{"ok":true,"refused":"connection already exists"}`, or `{"ok":true}` when taken |
//! | `{"op":"deliver","segment":SEG}`                     | `{"ok":true}`                             |
//! | `{"op":"poll"}`                                      | `{"ok":true,"segments":[SEG…]}`           |
//! | `{"op":"advance","ms":1000}`                         | `{"ok":true,"emitted":[{"at_ms":0,"segment":SEG}…]}` |
//! | `{"op":"state"}`                                     | `{"ok":true,"state":"LISTEN"}` or `null`  |
//! | `{"op":"delivered"}`                                 | `{"ok":true,"delivered":3}` or `null`     |
//! | `{"op":"close"}`                                     | `{"ok":true}`                             |
//!
//! `SEG` is `{"src_port","dst_port","seq","ack","flags":"SA","window","payload":HEX}`,
//! numbers absolute. A failure is `{"ok":false,"error":{"kind":"unsupported"|"broken","message":…}}`.
//! `delivered` counts the bytes the IUT's application received on its
//! current connection; an adapter that cannot tell answers `null`, and one
//! older than the op (it answers `unsupported`) is taken to say the same.
//!
//! Every read has a deadline: an adapter that does not answer in time, or
//! exits, or writes something that is not a response, breaks its trace (an
//! error verdict); it is killed, and the next `open` starts it again.

use std::io::{Read, Write};
use std::process::Child;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::process::{kill_group, spawn_group, StderrTail};
use crate::profile::Profile;
use crate::target::{Clock, Segment, Target, TargetError};
use crate::trace::{AppCall, Flags, Role, TcpState};

/// How long the adapter may take to answer one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest line read from an adapter (README "Limits"): a longer one
/// breaks the adapter, so an endless line cannot take the memory.
pub const MAX_LINE: usize = 1 << 20;
/// Lines an adapter may write ahead of the harness's requests before its
/// stdout stops being read: one that writes without reading is held back
/// by its own pipe, not by our memory.
const LINES_AHEAD: usize = 4;
/// The most of an adapter's reply quoted in an error.
const QUOTE: usize = 200;

/// `text` cut to [`QUOTE`] characters, for an error message.
fn quote(text: &str) -> String {
    let mut q: String = text.chars().take(QUOTE).collect();
    if q.len() < text.len() {
        q.push('…');
    }
    format!("{q:?}")
}

/// A segment as the protocol writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSegment {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// `S`, `SA`, `FA`, `R`, `PA`, … (`.` for none).
    pub flags: String,
    pub window: u16,
    /// The payload in lowercase hex.
    #[serde(default)]
    pub payload: String,
}

impl From<&Segment> for JsonSegment {
    fn from(s: &Segment) -> Self {
        JsonSegment {
            src_port: s.src_port,
            dst_port: s.dst_port,
            seq: s.seq,
            ack: s.ack,
            flags: s.flags.to_string(),
            window: s.window,
            payload: s.payload.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

impl TryFrom<JsonSegment> for Segment {
    type Error = String;
    fn try_from(j: JsonSegment) -> Result<Segment, String> {
        let flags: Flags = j
            .flags
            .parse()
            .map_err(|e| format!("flags {:?}: {e}", j.flags))?;
        let hex = j.payload.as_bytes();
        if !hex.len().is_multiple_of(2) {
            return Err("payload: odd number of hex digits".into());
        }
        let payload = hex
            .chunks(2)
            .map(|p| {
                std::str::from_utf8(p)
                    .ok()
                    .and_then(|p| u8::from_str_radix(p, 16).ok())
                    .ok_or_else(|| format!("payload: not hex: {:?}", j.payload))
            })
            .collect::<Result<Vec<u8>, String>>()?;
        Ok(Segment {
            src_port: j.src_port,
            dst_port: j.dst_port,
            seq: j.seq,
            ack: j.ack,
            flags,
            window: j.window,
            payload,
        })
    }
}

/// A request to the adapter.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Request {
    Open { role: Role, profile: Profile },
    App { call: AppCall },
    Try { call: AppCall },
    Deliver { segment: JsonSegment },
    Poll,
    Advance { ms: u64 },
    State,
    Delivered,
    Close,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Emitted {
    pub at_ms: u64,
    pub segment: JsonSegment,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    Unsupported,
    Broken,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub kind: ErrorKind,
    pub message: String,
}

/// The adapter's answer to one request.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<JsonSegment>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emitted: Option<Vec<Emitted>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<u64>,
    /// `try`: the error the IUT refused the call with (absent: taken).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

struct Adapter {
    child: Child,
    /// Requests go to a writer thread, so that an adapter that does not
    /// read cannot block the harness: its answer times out instead.
    requests: SyncSender<String>,
    lines: Receiver<std::io::Result<String>>,
    stderr: StderrTail,
}

impl Adapter {
    /// Kills the adapter's whole process group (`sh -c` and what it
    /// started) and reaps the adapter, so nothing is left running.
    fn kill(mut self) {
        kill_group(&mut self.child);
    }
}

/// Reads `\n`-terminated lines from `from` into `tx`, none longer than
/// [`MAX_LINE`]; a longer one is an error and ends the reading.
fn read_lines(mut from: impl Read, tx: SyncSender<std::io::Result<String>>) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        while let Some(at) = pending.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = pending.drain(..=at).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8(line).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, "a line that is not UTF-8")
            });
            let end = line.is_err();
            if tx.send(line).is_err() || end {
                return;
            }
        }
        if pending.len() > MAX_LINE {
            let _ = tx.send(Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line longer than the limit of {MAX_LINE} bytes"),
            )));
            return;
        }
        match from.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

/// A target behind an adapter process.
pub struct ExecTarget {
    command: String,
    timeout: Duration,
    adapter: Option<Adapter>,
    name: String,
    /// A reply that broke the adapter where the target interface has no
    /// error to return (`state`): every call fails with it until the next
    /// `open`, so the trace ends in an error verdict, not a pass.
    fault: Option<String>,
}

impl ExecTarget {
    /// The target `exec:COMMAND`; COMMAND runs under `sh -c`.
    pub fn new(command: &str) -> Self {
        Self::with_timeout(command, DEFAULT_TIMEOUT)
    }

    pub fn with_timeout(command: &str, timeout: Duration) -> Self {
        ExecTarget {
            command: command.to_string(),
            timeout,
            adapter: None,
            name: format!("exec:{command}"),
            fault: None,
        }
    }

    fn spawn(&self) -> Result<Adapter, TargetError> {
        // A group of its own, so a timeout kills what the adapter started too.
        let (mut child, stderr) = spawn_group(&self.command, true)
            .map_err(|e| TargetError::Broken(format!("cannot start {:?}: {e}", self.command)))?;
        let mut stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::sync_channel(LINES_AHEAD);
        // Reads and writes run on threads of their own, so that a call
        // can time out; they end when the adapter's pipes close.
        std::thread::spawn(move || read_lines(stdout, tx));
        let (requests, to_write) = mpsc::sync_channel::<String>(1);
        std::thread::spawn(move || {
            for line in to_write {
                if writeln!(stdin, "{line}")
                    .and_then(|_| stdin.flush())
                    .is_err()
                {
                    break;
                }
            }
        });
        Ok(Adapter {
            child,
            requests,
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
        if let Some(fault) = &self.fault {
            return Err(TargetError::Broken(fault.clone()));
        }
        let line = serde_json::to_string(req).expect("requests serialize");
        let timeout = self.timeout;
        let Some(a) = self.adapter.as_mut() else {
            return Err(TargetError::Broken("the adapter is not running".into()));
        };
        // The writer holds at most one line: a full slot is an adapter
        // that stopped reading its stdin, and a line it never reads is
        // an answer that times out below.
        if a.requests.try_send(line.clone()).is_err() {
            return Err(self.broken(format!("the adapter does not read its stdin: {line}")));
        }
        let answer = match a.lines.recv_timeout(timeout) {
            Ok(Ok(l)) => l,
            Ok(Err(e)) => return Err(self.broken(format!("reading from the adapter: {e}"))),
            Err(RecvTimeoutError::Timeout) => {
                return Err(self.broken(format!(
                    "the adapter did not answer {line} within {} ms",
                    timeout.as_millis()
                )))
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(self.broken(format!(
                    "the adapter closed its stdout before answering {line}"
                )))
            }
        };
        let resp: Response = match serde_json::from_str(&answer) {
            Ok(r) => r,
            Err(e) => {
                return Err(self.broken(format!(
                    "the adapter answered {line} with {}, not a response: {e}",
                    quote(&answer)
                )))
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
                None => TargetError::Broken(format!("the adapter refused {line}")),
            });
        }
        Ok(resp)
    }

    fn segments(&mut self, list: Vec<JsonSegment>) -> Result<Vec<Segment>, TargetError> {
        list.into_iter()
            .map(Segment::try_from)
            .collect::<Result<_, _>>()
            .map_err(|e| self.broken(format!("the adapter sent a bad segment: {e}")))
    }
}

impl Target for ExecTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn clock(&self) -> Clock {
        // The adapter keeps the IUT's time and the harness says how much
        // passes: a virtual clock, as far as the replay can tell.
        Clock::Virtual
    }

    fn open(&mut self, role: Role, profile: &Profile) -> Result<(), TargetError> {
        self.fault = None;
        if self.adapter.is_none() {
            self.adapter = Some(self.spawn()?);
        }
        self.call(&Request::Open {
            role,
            profile: profile.clone(),
        })
        .map(|_| ())
    }

    fn app(&mut self, call: &AppCall) -> Result<(), TargetError> {
        self.call(&Request::App { call: call.clone() }).map(|_| ())
    }

    /// An adapter older than `try` answers `unsupported`: inconclusive.
    fn try_app(&mut self, call: &AppCall) -> Result<Option<String>, TargetError> {
        self.call(&Request::Try { call: call.clone() })
            .map(|r| r.refused)
    }

    fn deliver(&mut self, seg: Segment) -> Result<(), TargetError> {
        self.call(&Request::Deliver {
            segment: JsonSegment::from(&seg),
        })
        .map(|_| ())
    }

    fn advance(&mut self, d: Duration) -> Result<Vec<(Duration, Segment)>, TargetError> {
        let ms = d.as_millis() as u64;
        let resp = self.call(&Request::Advance { ms })?;
        let emitted = resp.emitted.unwrap_or_default();
        // A segment emitted after the wait ended did not happen in it: the
        // replay would take it as on time.
        if let Some(e) = emitted.iter().find(|e| e.at_ms > ms) {
            return Err(self.broken(format!(
                "the adapter answered {{\"op\":\"advance\",\"ms\":{ms}}} with a segment at_ms {}, outside the wait of {ms} ms",
                e.at_ms
            )));
        }
        let mut out = Vec::with_capacity(emitted.len());
        for e in emitted {
            let seg = self.segments(vec![e.segment])?.remove(0);
            out.push((Duration::from_millis(e.at_ms), seg));
        }
        Ok(out)
    }

    fn poll(&mut self) -> Result<Vec<Segment>, TargetError> {
        let resp = self.call(&Request::Poll)?;
        self.segments(resp.segments.unwrap_or_default())
    }

    fn state(&mut self) -> Option<TcpState> {
        // A target that cannot tell (or broke) reports nothing; the next
        // step sees a broken adapter. A name that is no RFC 9293 state is
        // a broken adapter too, never "cannot tell".
        let name = self.call(&Request::State).ok()?.state?;
        match name.parse() {
            Ok(s) => Some(s),
            Err(_) => {
                let why = format!(
                    "the adapter answered {{\"op\":\"state\"}} with state {}, not an RFC 9293 state",
                    quote(&name)
                );
                if let TargetError::Broken(m) = self.broken(why) {
                    self.fault = Some(m);
                }
                None
            }
        }
    }

    fn delivered(&mut self) -> Result<Option<u64>, TargetError> {
        // `null` (or no field) is an adapter that cannot tell; so is one
        // that does not know the op (`unsupported`, as for any request it
        // cannot read). A hung or dead adapter is broken, as for any op.
        match self.call(&Request::Delivered) {
            Ok(r) => Ok(r.delivered),
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

impl Drop for ExecTarget {
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
        let r = Request::App {
            call: AppCall::Send(3),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"op":"app","call":{"send":3}}"#
        );
        assert_eq!(
            serde_json::to_string(&Request::Advance { ms: 1000 }).unwrap(),
            r#"{"op":"advance","ms":1000}"#
        );
        assert_eq!(
            serde_json::to_string(&Request::Delivered).unwrap(),
            r#"{"op":"delivered"}"#
        );
    }

    #[test]
    fn delivered_answers_read_a_count_or_nothing() {
        let r: Response = serde_json::from_str(r#"{"ok":true,"delivered":3}"#).unwrap();
        assert_eq!(r.delivered, Some(3));
        let r: Response = serde_json::from_str(r#"{"ok":true,"delivered":null}"#).unwrap();
        assert_eq!(r.delivered, None);
        let r: Response = serde_json::from_str(r#"{"ok":true}"#).unwrap();
        assert_eq!(r.delivered, None);
    }

    #[test]
    fn segments_survive_the_round_trip() {
        let seg = Segment {
            src_port: 1,
            dst_port: 2,
            seq: 3,
            ack: 4,
            flags: "FA".parse().unwrap(),
            window: 5,
            payload: vec![0, 0xab],
        };
        let j = JsonSegment::from(&seg);
        assert_eq!(j.payload, "00ab");
        assert_eq!(Segment::try_from(j).unwrap(), seg);
    }
}
