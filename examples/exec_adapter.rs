//! An exec adapter: the bundled TCP stack (`tracewright-stack`) behind the
//! JSON-lines protocol of `--target exec:COMMAND` (README.md, "Testing your
//! own stack: the exec adapter").
//!
//!     cargo build --release --example exec_adapter
//!     tracewright replay tcp --target exec:target/release/examples/exec_adapter
//!
//! It stands for a foreign stack: it shares no code with the harness and
//! defines its own message types. Copy it as the skeleton of an adapter for
//! yours: read a request per line on stdin, answer one line on stdout.

use std::io::{BufRead, Write};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracewright_stack::{Config, Endpoint, Flags, Instant, Segment, State};

/// The IUT's port and ISN (the harness learns the ISN from the first SYN).
const LOCAL_PORT: u16 = 5000;
const REMOTE_PORT: u16 = 40000;
const ISN: u32 = 4_294_967_000;

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Request {
    Open {
        #[allow(dead_code)]
        role: String,
        profile: Profile,
    },
    App {
        call: Call,
    },
    /// A call the harness expects the IUT to refuse (`refused:` in a
    /// trace): the answer says whether it did.
    Try {
        call: Call,
    },
    Deliver {
        segment: Seg,
    },
    Poll,
    Advance {
        ms: u64,
    },
    State,
    Delivered,
    Close,
}

/// The profile fields this stack uses (others are ignored).
#[derive(Deserialize)]
struct Profile {
    initial_rto_ms: u64,
    msl_ms: u64,
    syn_retries: u32,
    synack_retries: u32,
    retries: u32,
    recv_window: u16,
    rfc5961: bool,
    rfc1337: bool,
    #[serde(default)]
    time_wait_reopen: bool,
    /// `queue` or `drop`: what becomes of data on a SYN.
    #[serde(default)]
    syn_data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Call {
    Listen,
    Connect,
    Send(u32),
    Close,
    Abort,
    #[serde(rename = "close_unread")]
    CloseUnread,
    #[serde(rename = "shutdown_read")]
    ShutdownRead,
}

#[derive(Serialize, Deserialize)]
struct Seg {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: String,
    window: u16,
    #[serde(default)]
    payload: String,
}

#[derive(Serialize)]
struct Emitted {
    at_ms: u64,
    segment: Seg,
}

#[derive(Serialize)]
struct ErrorBody {
    kind: &'static str,
    message: String,
}

#[derive(Serialize, Default)]
struct Response {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    segments: Option<Vec<Seg>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    emitted: Option<Vec<Emitted>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivered: Option<u64>,
    /// `try`: the error the stack refused the call with.
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorBody>,
}

fn ok() -> Response {
    Response {
        ok: true,
        ..Response::default()
    }
}

fn broken(message: String) -> Response {
    Response {
        ok: false,
        error: Some(ErrorBody {
            kind: "broken",
            message,
        }),
        ..Response::default()
    }
}

fn to_json(s: &Segment) -> Seg {
    let f = s.flags;
    let mut flags: String = [
        (f.syn, 'S'),
        (f.fin, 'F'),
        (f.rst, 'R'),
        (f.psh, 'P'),
        (f.ack, 'A'),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, c)| *c)
    .collect();
    if flags.is_empty() {
        flags.push('.');
    }
    Seg {
        src_port: s.src_port,
        dst_port: s.dst_port,
        seq: s.seq.into(),
        ack: s.ack.into(),
        flags,
        window: s.window,
        payload: s.payload.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn from_json(j: &Seg) -> Result<Segment, String> {
    let mut flags = Flags::default();
    for c in j.flags.chars() {
        match c {
            'S' => flags.syn = true,
            'F' => flags.fin = true,
            'R' => flags.rst = true,
            'P' => flags.psh = true,
            'A' => flags.ack = true,
            '.' => {}
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    let payload = (0..j.payload.len() / 2)
        .map(|i| u8::from_str_radix(&j.payload[2 * i..2 * i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|e| format!("payload: {e}"))?;
    Ok(Segment {
        src_port: j.src_port,
        dst_port: j.dst_port,
        seq: j.seq.into(),
        ack: j.ack.into(),
        flags,
        window: j.window,
        payload,
    })
}

/// One IUT and its virtual clock.
struct Adapter {
    endpoint: Option<Endpoint>,
    now: Instant,
    /// Bytes the application has read on the current connection.
    delivered: u64,
}

impl Adapter {
    /// Reads what the endpoint delivered into the count, as an application
    /// that reads promptly would.
    fn read(&mut self) {
        if let Some(ep) = self.endpoint.as_mut() {
            self.delivered += ep.recv().len() as u64;
        }
    }

    fn drain(&mut self) -> Vec<Seg> {
        let mut out = Vec::new();
        if let Some(ep) = self.endpoint.as_mut() {
            while let Some(s) = ep.poll_transmit() {
                out.push(to_json(&s));
            }
        }
        out
    }

    fn handle(&mut self, req: Request) -> Response {
        if !matches!(req, Request::Open { .. }) && self.endpoint.is_none() {
            return broken("no endpoint: open first".into());
        }
        let now = self.now;
        match req {
            Request::Open { profile: p, .. } => {
                let config = Config {
                    initial_rto: Duration::from_millis(p.initial_rto_ms),
                    syn_retries: p.syn_retries,
                    synack_retries: p.synack_retries,
                    retries: p.retries,
                    msl: Duration::from_millis(p.msl_ms),
                    recv_window: p.recv_window,
                    challenge_ack: p.rfc5961,
                    ignore_rst_in_time_wait: p.rfc1337,
                    time_wait_reopen: p.time_wait_reopen,
                    queue_syn_text: p.syn_data.as_deref() != Some("drop"),
                };
                self.now = Instant::from_millis(0);
                self.endpoint = Some(Endpoint::new(config, LOCAL_PORT, ISN.into()));
                self.delivered = 0;
                ok()
            }
            Request::App { call } => {
                if matches!(call, Call::Listen | Call::Connect) {
                    // A new connection: what the application reads starts
                    // afresh.
                    self.read();
                    self.delivered = 0;
                }
                let ep = self.endpoint.as_mut().expect("checked above");
                // A call the stack refuses in this state is its answer,
                // not an adapter error.
                let _ = match call {
                    Call::Listen => ep.listen(),
                    Call::Connect => ep.connect(now, REMOTE_PORT),
                    Call::Send(n) => {
                        let data: Vec<u8> = (0..n).map(|k| b'A' + (k % 26) as u8).collect();
                        ep.send(now, &data).map(|_| ())
                    }
                    Call::Close => ep.close(now),
                    Call::Abort => ep.abort(now),
                    Call::CloseUnread => ep.close_and_stop_reading(now),
                    Call::ShutdownRead => ep.shutdown_read(),
                };
                ok()
            }
            Request::Try { call } => {
                let ep = self.endpoint.as_mut().expect("checked above");
                let answer = match call {
                    Call::Listen => ep.listen(),
                    Call::Connect => ep.connect(now, REMOTE_PORT),
                    _ => return self.handle(Request::App { call }),
                };
                Response {
                    refused: answer.err().map(|e| e.to_string()),
                    ..ok()
                }
            }
            Request::Deliver { segment } => match from_json(&segment) {
                Ok(s) => {
                    self.read();
                    let ep = self.endpoint.as_mut().expect("checked above");
                    let before = ep.state();
                    ep.handle_segment(now, &s);
                    if before == State::TimeWait && ep.state() == State::SynReceived {
                        // A SYN reopened TIME-WAIT: a new connection.
                        self.delivered = 0;
                    }
                    ok()
                }
                Err(e) => broken(e),
            },
            Request::Poll => Response {
                segments: Some(self.drain()),
                ..ok()
            },
            Request::Advance { ms } => {
                let start = self.now;
                let end = start + Duration::from_millis(ms);
                let mut emitted = Vec::new();
                loop {
                    let ep = self.endpoint.as_mut().expect("checked above");
                    match ep.poll_timeout() {
                        Some(t) if t <= end => {
                            let t = t.max(self.now);
                            self.now = t;
                            ep.handle_timeout(t);
                            for segment in self.drain() {
                                emitted.push(Emitted {
                                    at_ms: (t - start).as_millis() as u64,
                                    segment,
                                });
                            }
                        }
                        _ => break,
                    }
                    if emitted.len() > 100_000 {
                        return broken("a timer keeps firing".into());
                    }
                }
                self.now = end;
                Response {
                    emitted: Some(emitted),
                    ..ok()
                }
            }
            Request::State => Response {
                state: self.endpoint.as_ref().map(|e| e.state().to_string()),
                ..ok()
            },
            Request::Delivered => {
                self.read();
                Response {
                    delivered: Some(self.delivered),
                    ..ok()
                }
            }
            Request::Close => {
                self.endpoint = None;
                ok()
            }
        }
    }
}

fn main() {
    let mut adapter = Adapter {
        endpoint: None,
        now: Instant::from_millis(0),
        delivered: 0,
    };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let resp = match serde_json::from_str::<Request>(&line) {
            Ok(req) => adapter.handle(req),
            Err(e) => Response {
                ok: false,
                error: Some(ErrorBody {
                    kind: "unsupported",
                    message: format!("cannot read {line:?}: {e}"),
                }),
                ..Response::default()
            },
        };
        let text = serde_json::to_string(&resp).expect("responses serialize");
        if writeln!(stdout, "{text}")
            .and_then(|_| stdout.flush())
            .is_err()
        {
            break;
        }
    }
}
