//! HTTP/2 on the conformance side: the harness's frame codec, the
//! [`H2Target`] trait with the bundled target, and replay. The trace
//! format (steps, frames, the loader) is `tracewright_vocab::h2`,
//! re-exported here.
//!
//! ```yaml
//! steps:
//!   - expect: {any_of: [{type: SETTINGS, max_concurrent_streams: 2}]}  # the IUT's preface
//!   - send: {type: SETTINGS, initial_window_size: 21845, max_concurrent_streams: 2}
//!   - expect: {any_of: [{type: SETTINGS, ack: true}]}
//!   - send: {type: HEADERS, stream: 1, end_stream: true}
//!   - app: {respond: {stream: 1, end_stream: false}}
//!   - expect: {any_of: [{type: HEADERS, stream: 1}]}
//!   - app: {data: {stream: 1, end_stream: false, len: 21845}}
//!   - expect: {any_of: [{type: DATA, stream: 1, len: 21845}]}
//!   - send: {type: DATA, stream: 1, len: 1}
//!   - expect: {any_of: [{type: RST_STREAM, stream: 1, error: STREAM_CLOSED}, {type: GOAWAY, error: STREAM_CLOSED}]}
//!   - state: {stream: 1, is: closed}
//! ```
//!
//! Semantics, as for TCP: `expect` takes the next frame the IUT emitted and
//! matches it against `any_of`; the first pattern is the path the trace goes
//! on with, another one is a path the RFC allows that the trace does not
//! follow (inconclusive, unless the trace ends there). The pattern
//! `{type: NONE}` matches silence: nothing emitted. A frame nobody expects
//! before the next `send` or `app`, or at the end, fails the trace.
//! WINDOW_UPDATE frames the IUT sends are never constrained: how a receiver
//! gives window back is its own choice (RFC 9113 §6.9.1), so the replay drops
//! them. How a sender cuts its data into frames is its own choice too (up to
//! SETTINGS_MAX_FRAME_SIZE, §4.2): consecutive DATA frames of the IUT on one
//! stream are read as one run, matched as one frame whose `len` is the sum
//! and which carries END_STREAM if the run's last frame does.
//!
//! The harness writes frames with a codec of its own, not the stack's: it
//! must write what no conforming stack writes (frames of the wrong length,
//! DATA on stream 0, CONTINUATION out of nowhere). Header blocks go through
//! `loona-hpack`; the IUT's header blocks are not decoded, only framed.

use std::collections::VecDeque;

pub use tracewright_vocab::h2::*;

use crate::replay::{target_verdict, Dir, LadderLine, TraceResult, Verdict};
use crate::target::TargetError;
use crate::trace::Role;

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// ---------------------------------------------------------------- codec


/// The value of setting `id` in a SETTINGS payload (the last one wins,
/// RFC 9113 §6.5.1).
fn setting(kind: FrameType, payload: &[u8], id: u16) -> Option<u32> {
    if kind != FrameType::Settings {
        return None;
    }
    payload
        .chunks_exact(6)
        .filter(|c| u16::from_be_bytes([c[0], c[1]]) == id)
        .map(|c| u32::from_be_bytes([c[2], c[3], c[4], c[5]]))
        .next_back()
}

/// Splits bytes from the IUT into frames; `buf` keeps a partial frame.
/// Unknown frame types are skipped (RFC 9113 §4.1).
pub fn decode_frames(buf: &mut Vec<u8>) -> Vec<Frame> {
    let mut out = Vec::new();
    loop {
        if buf.len() < 9 {
            break;
        }
        let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
        if buf.len() < 9 + len {
            break;
        }
        let ty = buf[3];
        let flags = buf[4];
        let stream = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
        let p: Vec<u8> = buf[9..9 + len].to_vec();
        buf.drain(..9 + len);
        let Some(kind) = FrameType::from_code(ty) else {
            continue;
        };
        let word = |at: usize| -> u32 {
            p.get(at..at + 4)
                .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let padded = flags & 0x8 != 0 && matches!(kind, FrameType::Data);
        let data_len = if padded {
            (len as u32).saturating_sub(1 + u32::from(p.first().copied().unwrap_or(0)))
        } else {
            len as u32
        };
        out.push(Frame {
            kind,
            stream,
            end_stream: flags & 0x1 != 0 && matches!(kind, FrameType::Data | FrameType::Headers),
            ack: flags & 0x1 != 0 && matches!(kind, FrameType::Settings | FrameType::Ping),
            len: if kind == FrameType::Data {
                data_len
            } else {
                len as u32
            },
            error: match kind {
                FrameType::RstStream => ErrorName::from_code(word(0)),
                FrameType::Goaway => ErrorName::from_code(word(4)),
                _ => None,
            },
            promised: if kind == FrameType::PushPromise {
                word(0) & 0x7fff_ffff
            } else {
                0
            },
            last_stream: if kind == FrameType::Goaway {
                word(0) & 0x7fff_ffff
            } else {
                0
            },
            increment: if kind == FrameType::WindowUpdate {
                word(0) & 0x7fff_ffff
            } else {
                0
            },
            max_concurrent_streams: setting(kind, &p, 3),
            initial_window_size: setting(kind, &p, 4),
        });
    }
    out
}

/// The harness's encoder: frames as the trace writes them, legal or not.
pub struct Encoder {
    hpack: loona_hpack::Encoder<'static>,
    /// The harness plays a client (it sends requests).
    client: bool,
    /// Streams on which the harness sent a header block already.
    headers_sent: Vec<u32>,
}

impl Encoder {
    pub fn new(harness_is_client: bool) -> Self {
        Encoder {
            hpack: loona_hpack::Encoder::new(),
            client: harness_is_client,
            headers_sent: Vec::new(),
        }
    }

    fn block(&mut self, stream: u32, promise: bool) -> Vec<u8> {
        let request: &[(&[u8], &[u8])] = &[
            (b":method", b"GET"),
            (b":scheme", b"http"),
            (b":path", b"/"),
            (b":authority", b"tracewright.test"),
        ];
        let response: &[(&[u8], &[u8])] = &[(b":status", b"200")];
        let trailers: &[(&[u8], &[u8])] = &[(b"x-tracewright", b"trailer")];
        let fields = if promise {
            request
        } else if self.headers_sent.contains(&stream) {
            trailers
        } else if self.client {
            request
        } else {
            response
        };
        if !promise {
            self.headers_sent.push(stream);
        }
        self.hpack.encode(fields.iter().copied())
    }

    /// The bytes of one frame.
    pub fn encode(&mut self, f: &FrameSpec) -> Vec<u8> {
        let stream = f.stream.unwrap_or(0);
        let (ty, mut flags, payload): (u8, u8, Vec<u8>) = match f.kind {
            FrameType::Data => (0, 0, vec![b'x'; f.len.unwrap_or(0) as usize]),
            FrameType::Headers => {
                let eh = if f.end_headers == Some(false) { 0 } else { 0x4 };
                (1, eh, self.block(stream, false))
            }
            FrameType::Priority => (2, 0, vec![0, 0, 0, 0, 15]),
            FrameType::RstStream => (
                3,
                0,
                f.error
                    .unwrap_or(ErrorName::Cancel)
                    .code()
                    .to_be_bytes()
                    .to_vec(),
            ),
            FrameType::Settings => {
                let mut p = Vec::new();
                if let Some(m) = f.max_concurrent_streams {
                    p.extend(3u16.to_be_bytes());
                    p.extend(m.to_be_bytes());
                }
                if let Some(w) = f.initial_window_size {
                    p.extend(4u16.to_be_bytes());
                    p.extend(w.to_be_bytes());
                }
                (4, 0, p)
            }
            FrameType::PushPromise => {
                let mut p = f.promised.unwrap_or(0).to_be_bytes().to_vec();
                p.extend(self.block(stream, true));
                (5, 0x4, p)
            }
            FrameType::Ping => (6, 0, b"tracewri".to_vec()),
            FrameType::Goaway => {
                let mut p = f.last_stream.unwrap_or(0).to_be_bytes().to_vec();
                p.extend(f.error.unwrap_or(ErrorName::NoError).code().to_be_bytes());
                (7, 0, p)
            }
            FrameType::WindowUpdate => (8, 0, f.increment.unwrap_or(1).to_be_bytes().to_vec()),
            FrameType::Continuation => (9, 0x4, Vec::new()),
            FrameType::None => return Vec::new(),
        };
        if f.end_stream && matches!(f.kind, FrameType::Data | FrameType::Headers) {
            flags |= 0x1;
        }
        if f.ack && matches!(f.kind, FrameType::Settings | FrameType::Ping) {
            flags |= 0x1;
        }
        let mut payload = payload;
        if f.ack && f.kind == FrameType::Settings {
            payload.clear();
        }
        if let Some(l) = f.length {
            payload.resize(l as usize, 0);
        }
        let mut out = Vec::with_capacity(9 + payload.len());
        out.extend(&(payload.len() as u32).to_be_bytes()[1..]);
        out.push(ty);
        out.push(flags);
        out.extend(stream.to_be_bytes());
        out.extend(payload);
        out
    }
}

// ---------------------------------------------------------------- targets

/// The trait every HTTP/2 implementation under test is driven through.
/// Bytes in, bytes out: the harness frames and checks them.
pub trait H2Target {
    fn name(&self) -> &str;
    /// A fresh IUT for one trace, in `role`, advertising
    /// SETTINGS_MAX_CONCURRENT_STREAMS 2 (what the model assumes).
    fn open(&mut self, role: Role) -> Result<(), TargetError>;
    fn app(&mut self, call: &H2App) -> Result<(), TargetError>;
    /// Bytes from the harness.
    fn deliver(&mut self, bytes: &[u8]) -> Result<(), TargetError>;
    /// Every byte the IUT emitted since the last call, once it has
    /// processed everything delivered.
    fn poll(&mut self) -> Result<Vec<u8>, TargetError>;
    /// A stream's RFC 9113 §5.1 state, where the target can tell.
    fn stream_state(&mut self, stream: u32) -> Option<String>;
    fn close(&mut self);
}

/// The bundled HTTP/2 connection of `tracewright-stack`, in-process.
#[derive(Default)]
pub struct BundledH2 {
    conn: Option<tracewright_stack::h2::Connection>,
}

impl BundledH2 {
    pub fn new() -> Self {
        BundledH2::default()
    }
    pub fn connection_mut(&mut self) -> Option<&mut tracewright_stack::h2::Connection> {
        self.conn.as_mut()
    }
}

/// The settings every HTTP/2 IUT is opened with (what the model assumes).
pub fn iut_settings() -> tracewright_stack::h2::Settings {
    tracewright_stack::h2::Settings {
        max_concurrent_streams: Some(2),
        ..Default::default()
    }
}

impl H2Target for BundledH2 {
    fn name(&self) -> &str {
        "bundled"
    }

    fn open(&mut self, role: Role) -> Result<(), TargetError> {
        use tracewright_stack::h2;
        let r = match role {
            Role::Client => h2::Role::Client,
            Role::Server => h2::Role::Server,
            Role::Listener => {
                return Err(TargetError::Unsupported(
                    "an HTTP/2 connection has no listener role".into(),
                ))
            }
        };
        self.conn = Some(h2::Connection::new(r, iut_settings()));
        Ok(())
    }

    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        use tracewright_stack::h2::ErrorCode;
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| TargetError::Broken("not open".into()))?;
        let request: &[(&[u8], &[u8])] = &[
            (b":method", b"GET"),
            (b":scheme", b"http"),
            (b":path", b"/"),
            (b":authority", b"tracewright.test"),
        ];
        let refused = |e: tracewright_stack::h2::CallError| {
            TargetError::Unsupported(format!("the application call was refused: {e}"))
        };
        match *call {
            H2App::Request { stream, end_stream } => {
                let id = c.send_request(request, end_stream).map_err(refused)?;
                if id != stream {
                    return Err(TargetError::Unsupported(format!(
                        "the stack opened stream {id}, the trace needs {stream}"
                    )));
                }
            }
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
        Ok(())
    }

    fn deliver(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| TargetError::Broken("not open".into()))?;
        c.handle_bytes(bytes);
        Ok(())
    }

    fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| TargetError::Broken("not open".into()))?;
        while c.poll_event().is_some() {}
        Ok(c.poll_transmit().unwrap_or_default())
    }

    fn stream_state(&mut self, stream: u32) -> Option<String> {
        self.conn
            .as_ref()
            .map(|c| c.stream_state(stream).to_string())
    }

    fn close(&mut self) {
        self.conn = None;
    }
}

// ---------------------------------------------------------------- replay

struct Run<'a> {
    target: &'a mut dyn H2Target,
    enc: Encoder,
    buf: Vec<u8>,
    queue: VecDeque<Frame>,
    transcript: Vec<LadderLine>,
    /// The IUT is a client whose preface has not been seen yet.
    want_preface: bool,
    last: &'static str,
    /// The IUT took an allowed alternative at the last expectation: the
    /// model's states no longer apply.
    diverged: bool,
}

impl Run<'_> {
    fn line(&mut self, step: usize, dir: Dir, text: String) {
        self.transcript.push(LadderLine {
            step,
            dir,
            text,
            state: None,
        });
    }

    fn poll(&mut self, step: usize) -> Result<(), Verdict> {
        let bytes = self.target.poll().map_err(|e| target_verdict(step, e))?;
        self.buf.extend(bytes);
        if self.want_preface && self.buf.len() >= PREFACE.len() {
            if &self.buf[..PREFACE.len()] != PREFACE {
                return Err(Verdict::Fail {
                    step,
                    reason: "the IUT (a client) did not begin with the connection preface".into(),
                    expected: vec!["PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n".into()],
                    got: Some(String::from_utf8_lossy(&self.buf[..PREFACE.len()]).into_owned()),
                });
            }
            self.buf.drain(..PREFACE.len());
            self.want_preface = false;
        }
        if self.want_preface {
            return Ok(());
        }
        for f in decode_frames(&mut self.buf) {
            // How a receiver gives window back is its own (RFC 9113 §6.9.1).
            if f.kind == FrameType::WindowUpdate {
                continue;
            }
            // How a sender cuts DATA into frames is its own (§4.2): a run
            // on one stream is one frame here.
            if let Some(run) = self.queue.back_mut().filter(|b| {
                f.kind == FrameType::Data
                    && b.kind == FrameType::Data
                    && b.stream == f.stream
                    && !b.end_stream
            }) {
                run.len += f.len;
                run.end_stream = f.end_stream;
                continue;
            }
            self.queue.push_back(f);
        }
        Ok(())
    }

    /// Nothing may be pending before the harness acts or the trace ends.
    fn quiet(&mut self, step: usize) -> Result<(), Verdict> {
        self.poll(step)?;
        if let Some(f) = self.queue.pop_front() {
            let got = f.to_string();
            self.line(step, Dir::FromIut, got.clone());
            return Err(Verdict::Fail {
                step,
                reason: "the IUT sent a frame the model does not allow here".into(),
                expected: vec!["nothing".into()],
                got: Some(got),
            });
        }
        Ok(())
    }

    fn step(&mut self, i: usize, step: &H2Step, last_step: bool) -> Result<(), Verdict> {
        match step {
            H2Step::App(call) => {
                self.quiet(i)?;
                self.last = rfc_of_app(call);
                self.line(i, Dir::Note, call.to_string());
                self.target.app(call).map_err(|e| target_verdict(i, e))
            }
            H2Step::Send(f) => {
                self.quiet(i)?;
                self.last = rfc_of_frame(f.kind);
                self.line(i, Dir::ToIut, f.to_string());
                let bytes = self.enc.encode(f);
                self.target
                    .deliver(&bytes)
                    .map_err(|e| target_verdict(i, e))
            }
            H2Step::Expect(e) => {
                self.poll(i)?;
                let expected: Vec<String> = e.any_of.iter().map(|p| p.to_string()).collect();
                let got = self.queue.pop_front();
                let hit = e.any_of.iter().position(|p| match &got {
                    None => p.kind == FrameType::None,
                    Some(f) => p.matches(f),
                });
                let got_text = got.as_ref().map(|f| f.to_string());
                if let Some(t) = &got_text {
                    self.line(i, Dir::FromIut, t.clone());
                }
                match hit {
                    Some(0) => Ok(()),
                    Some(_) if last_step => {
                        self.diverged = true;
                        Ok(())
                    }
                    Some(k) => Err(Verdict::Inconclusive {
                        step: i,
                        reason: format!(
                            "the IUT took another path the RFC allows ({}); the trace follows {}",
                            e.any_of[k], e.any_of[0]
                        ),
                    }),
                    None => Err(Verdict::Fail {
                        step: i,
                        reason: match got {
                            None => "nothing came".into(),
                            Some(_) => "the IUT sent a frame the model does not allow here".into(),
                        },
                        expected,
                        got: got_text,
                    }),
                }
            }
            H2Step::State(_) if self.diverged => Ok(()),
            H2Step::State(c) => {
                if let Some(l) = self.transcript.last_mut() {
                    l.state = Some(format!("{}: {}", c.stream, c.is));
                }
                match self.target.stream_state(c.stream) {
                    Some(actual) if actual != c.is => {
                        self.line(
                            i,
                            Dir::Note,
                            format!("the IUT reports stream {} {actual}", c.stream),
                        );
                        Err(Verdict::Fail {
                            step: i,
                            reason: format!(
                                "stream {} is {actual} at the IUT, {} in the model",
                                c.stream, c.is
                            ),
                            expected: vec![c.is.clone()],
                            got: Some(actual),
                        })
                    }
                    _ => Ok(()),
                }
            }
        }
    }
}

fn rfc_of_app(call: &H2App) -> &'static str {
    match call {
        H2App::Request { .. } | H2App::Respond { .. } => "RFC 9113 §8.1",
        H2App::Data { .. } | H2App::End { .. } => "RFC 9113 §6.1, §6.9",
        H2App::Reset { .. } => "RFC 9113 §6.4",
        H2App::Push { .. } => "RFC 9113 §8.4",
        H2App::Goaway => "RFC 9113 §6.8",
    }
}

fn rfc_of_frame(k: FrameType) -> &'static str {
    match k {
        FrameType::Data => "RFC 9113 §5.1, §6.1",
        FrameType::Headers => "RFC 9113 §5.1, §6.2",
        FrameType::Priority => "RFC 9113 §6.3",
        FrameType::RstStream => "RFC 9113 §5.1, §6.4",
        FrameType::Settings => "RFC 9113 §6.5",
        FrameType::PushPromise => "RFC 9113 §6.6, §8.4",
        FrameType::Ping => "RFC 9113 §6.7",
        FrameType::Goaway => "RFC 9113 §6.8",
        FrameType::WindowUpdate => "RFC 9113 §6.9",
        FrameType::Continuation => "RFC 9113 §6.10",
        FrameType::None => "RFC 9113",
    }
}

/// Replays one HTTP/2 trace.
pub fn replay_h2(trace: &H2Trace, target: &mut dyn H2Target) -> TraceResult {
    let mut result = TraceResult {
        id: trace.id.clone(),
        verdict: Verdict::Pass,
        covers: trace.covers.clone(),
        transcript: Vec::new(),
        rfc: None,
    };
    if let Err(e) = target.open(trace.iut) {
        result.verdict = target_verdict(0, e);
        return result;
    }
    let harness_is_client = trace.iut == Role::Server;
    let mut run = Run {
        target,
        enc: Encoder::new(harness_is_client),
        buf: Vec::new(),
        queue: VecDeque::new(),
        transcript: Vec::new(),
        want_preface: !harness_is_client,
        last: "RFC 9113 §3.4",
        diverged: false,
    };
    let mut outcome = Ok(());
    if harness_is_client {
        outcome = run
            .target
            .deliver(PREFACE)
            .map_err(|e| target_verdict(0, e));
    }
    let n = trace.steps.len();
    if outcome.is_ok() {
        for (i, step) in trace.steps.iter().enumerate() {
            // The last expectation may end on any allowed reaction.
            let last = trace.steps[i + 1..]
                .iter()
                .all(|s| matches!(s, H2Step::State(_)));
            outcome = run.step(i, step, last);
            if outcome.is_err() {
                break;
            }
        }
    }
    if outcome.is_ok() {
        outcome = run.quiet(n);
    }
    if let Err(v) = outcome {
        result.rfc = Some(run.last);
        result.verdict = v;
    }
    result.transcript = std::mem::take(&mut run.transcript);
    run.target.close();
    result
}

/// Replays an HTTP/2 corpus; files that did not load become error verdicts.
pub fn run_h2_corpus(
    corpus: &H2Corpus,
    target: &mut dyn H2Target,
    on_progress: &mut dyn FnMut(usize, usize),
) -> crate::report::Report {
    let total = corpus.traces.len();
    let mut results = Vec::with_capacity(total + corpus.errors.len());
    for (i, trace) in corpus.traces.iter().enumerate() {
        results.push(replay_h2(trace, target));
        on_progress(i + 1, total);
    }
    let profile = corpus
        .coverage
        .as_ref()
        .map_or("rfc9113".to_string(), |c| c.profile.clone());
    crate::report::Report::assemble(
        "h2",
        target.name(),
        &profile,
        results,
        &corpus.errors,
        corpus.coverage.clone(),
    )
}
