//! An HTTP/2 exec adapter: the bundled HTTP/2 connection
//! (`tracewright-stack`) behind the JSON-lines protocol of
//! `--target h2exec:COMMAND` (README.md, "Testing your own HTTP/2
//! implementation: the h2exec adapter").
//!
//!     cargo build --release --example h2_exec_adapter
//!     tracewright replay h2 --target h2exec:target/release/examples/h2_exec_adapter
//!
//! It stands for a foreign implementation: it shares no code with the
//! harness and defines its own message types. Copy it as the skeleton of an
//! adapter for yours: read a request per line on stdin, answer one line on
//! stdout.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use tracewright_stack::h2::{CallError, Connection, ErrorCode, Role, Settings, StreamState};

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Request {
    Open {
        role: String,
        settings: Announce,
    },
    App {
        call: Call,
    },
    Deliver {
        bytes: String,
    },
    Poll,
    Advance {
        #[allow(dead_code)]
        ms: u64,
    },
    State {
        stream: u32,
    },
    Close,
}

/// What the connection is to announce in its SETTINGS (`null`: its default).
#[derive(Deserialize)]
struct Announce {
    max_concurrent_streams: Option<u32>,
    initial_window_size: Option<u32>,
    #[serde(default)]
    max_frame_size: Option<u32>,
    /// A client's SETTINGS_ENABLE_PUSH (absent: its default, 1).
    #[serde(default)]
    enable_push: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Call {
    Request {
        stream: u32,
        end_stream: bool,
    },
    Respond {
        stream: u32,
        end_stream: bool,
    },
    Data {
        stream: u32,
        end_stream: bool,
        len: u32,
    },
    End {
        stream: u32,
    },
    Reset {
        stream: u32,
    },
    Push {
        stream: u32,
    },
    Goaway,
}

#[derive(Serialize, Default)]
struct Response {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<String>,
    /// `Some(None)` writes `"state":null`: this adapter can always tell,
    /// but an adapter that cannot answers so.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<Option<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorBody>,
}

#[derive(Serialize)]
struct ErrorBody {
    kind: &'static str,
    message: String,
}

fn ok() -> Response {
    Response {
        ok: true,
        ..Response::default()
    }
}

fn fail(kind: &'static str, message: String) -> Response {
    Response {
        ok: false,
        error: Some(ErrorBody { kind, message }),
        ..Response::default()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn state_name(s: StreamState) -> &'static str {
    match s {
        StreamState::Idle => "idle",
        StreamState::ReservedLocal => "reserved (local)",
        StreamState::ReservedRemote => "reserved (remote)",
        StreamState::Open => "open",
        StreamState::HalfClosedLocal => "half-closed (local)",
        StreamState::HalfClosedRemote => "half-closed (remote)",
        StreamState::Closed => "closed",
    }
}

const REQUEST: &[(&[u8], &[u8])] = &[
    (b":method", b"GET"),
    (b":scheme", b"http"),
    (b":path", b"/"),
    (b":authority", b"tracewright.test"),
];

/// Requests beyond the peer's SETTINGS_MAX_CONCURRENT_STREAMS: held, never
/// sent, until a stream closes (RFC 9113 §5.1.2), as a client library's
/// request queue holds them.
#[derive(Default)]
struct Held(Vec<(u32, bool)>);

impl Held {
    /// Sends what the peer's limit now allows, oldest first.
    fn release(&mut self, c: &mut Connection) {
        while let Some(&(_, end_stream)) = self.0.first() {
            match c.send_request(REQUEST, end_stream) {
                Err(CallError::ConcurrencyLimit(_)) => break,
                Ok(_) => {
                    self.0.remove(0);
                }
                Err(_) => self.0.clear(),
            }
        }
    }
}

fn app(c: &mut Connection, held: &mut Held, call: Call) -> Response {
    if let Call::Request { stream, end_stream } = call {
        if !held.0.is_empty() {
            held.0.push((stream, end_stream));
            return ok();
        }
        return match c.send_request(REQUEST, end_stream) {
            Err(CallError::ConcurrencyLimit(_)) => {
                held.0.push((stream, end_stream));
                ok()
            }
            Ok(id) if id == stream => ok(),
            Ok(id) => fail(
                "unsupported",
                format!("opened stream {id}, the trace needs {stream}"),
            ),
            Err(e) => fail("unsupported", format!("the call was refused: {e}")),
        };
    }
    let r = app_call(c, call);
    held.release(c);
    r
}

fn app_call(c: &mut Connection, call: Call) -> Response {
    // A call the connection refuses in its state is one it cannot make
    // there: unsupported, so the trace is inconclusive.
    let refused = |e: CallError| fail("unsupported", format!("the call was refused: {e}"));
    let r = match call {
        Call::Request { .. } => unreachable!("app() takes requests"),
        Call::Respond { stream, end_stream } => {
            c.send_headers(stream, &[(b":status", b"200")], end_stream)
        }
        Call::Data {
            stream,
            end_stream,
            len,
        } => c.send_data(stream, &vec![b'x'; len as usize], end_stream),
        Call::End { stream } => c.send_data(stream, b"", true),
        Call::Reset { stream } => c.reset(stream, ErrorCode::CANCEL),
        Call::Push { stream } => c.push_promise(stream, REQUEST).map(|_| ()),
        Call::Goaway => {
            c.goaway(ErrorCode::NO_ERROR);
            Ok(())
        }
    };
    match r {
        Ok(()) => ok(),
        Err(e) => refused(e),
    }
}

fn handle(conn: &mut Option<Connection>, held: &mut Held, req: Request) -> Response {
    if let Request::Open { role, settings } = &req {
        let role = match role.as_str() {
            "client" => Role::Client,
            "server" => Role::Server,
            other => return fail("unsupported", format!("no HTTP/2 role {other:?}")),
        };
        let default = Settings::default();
        let local = Settings {
            max_concurrent_streams: settings.max_concurrent_streams,
            initial_window_size: settings
                .initial_window_size
                .unwrap_or(default.initial_window_size),
            max_frame_size: settings.max_frame_size.unwrap_or(default.max_frame_size),
            enable_push: settings.enable_push.unwrap_or(default.enable_push),
            ..default
        };
        *conn = Some(Connection::new(role, local));
        held.0.clear();
        return ok();
    }
    if let Request::Close = req {
        *conn = None;
        return ok();
    }
    let Some(c) = conn.as_mut() else {
        return fail("broken", "no connection is open".into());
    };
    match req {
        Request::Open { .. } | Request::Close => unreachable!("handled above"),
        Request::App { call } => app(c, held, call),
        Request::Deliver { bytes } => match unhex(&bytes) {
            Some(b) => {
                c.handle_bytes(&b);
                held.release(c);
                ok()
            }
            None => fail("broken", "deliver: bytes are not hex".into()),
        },
        // The connection has no timers: waiting changes nothing, and what
        // it has to send is what a poll gives.
        Request::Poll | Request::Advance { .. } => {
            while c.poll_event().is_some() {}
            Response {
                bytes: Some(hex(&c.poll_transmit().unwrap_or_default())),
                ..ok()
            }
        }
        Request::State { stream } => Response {
            state: Some(Some(state_name(c.stream_state(stream)))),
            ..ok()
        },
    }
}

fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let mut conn: Option<Connection> = None;
    let mut held = Held::default();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let resp = match serde_json::from_str::<Request>(&line) {
            Ok(req) => handle(&mut conn, &mut held, req),
            // A request this adapter does not know: it cannot do it.
            Err(e) => fail("unsupported", format!("cannot read {line:?}: {e}")),
        };
        let text = serde_json::to_string(&resp).expect("responses serialize");
        if writeln!(out, "{text}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
}
