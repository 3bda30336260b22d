//! A server's application, as the harness sees it through the trace's
//! `app` steps (the HTTP/2 plug-in of [`super::net`]).
//!
//! A real server cannot be told "respond now": it answers each request by
//! itself, at a moment of its own. What the suite knows of a server it runs
//! ([`ServerApp`]: when it answers, and how long its answer to `GET /` is)
//! lets the harness map the trace's application calls onto that answer:
//!
//! - the server's frames that carry its answer (HEADERS, CONTINUATION and
//!   DATA on a stream the harness opened) are *held*, not handed to the
//!   replay, until the trace's `app: respond` (the HEADERS) or `app: data`
//!   (that many bytes of DATA, waiting for the rest if the windows hold it
//!   back) asks for them. The answer then appears where the model has the
//!   application act, which the model allows (RFC 9113 §8.1: a response may
//!   come at any point after the request);
//! - an answer that has not ended (its body is longer than any window the
//!   harness opens) leaves the stream in the state the model has it in
//!   (HEADERS and DATA without END_STREAM change no state, §5.1), so it
//!   stays held while the harness goes on, and is legal whenever it was
//!   sent: the model's application may answer at any point. An answer
//!   that *ended* the stream changed its state: once the harness sends
//!   anything on that stream, the held frames are handed over first, and
//!   a trace that did not expect them is inconclusive, never a pass on a
//!   state the server was not in;
//! - DATA beyond a window the harness opened (§6.9.1) is never held: the
//!   trace sees it where it came;
//! - after the harness resets a stream, what the server had sent on it
//!   crossed the reset and is dropped, as the RFC has a receiver ignore it
//!   (§5.1, closed); after the server resets a stream, what it held was
//!   sent while the model allows it, and the RST_STREAM goes through;
//! - a server configured to push ([`Push`]) pushes with its answer to one
//!   path, which the harness asks on the streams the trace pushes on: its
//!   PUSH_PROMISE is held like an answer until the trace's `app: push`, and
//!   the pushed response until `app: respond` / `app: data` on the promised
//!   stream (which the server answers at once: a harness frame on it meets
//!   the promise and the pushed HEADERS first, as they changed its state);
//! - what the answer cannot be made to be (a response without a body, a
//!   body that ends where the trace says, a reset, a GOAWAY, a push where
//!   the server does not push then) is `TargetError::Unsupported`: the
//!   trace is inconclusive with the reason.
//!
//! Determinism: after every delivery the harness waits until each answer
//! due is *settled* (ended, reset, or blocked by a flow-control window the
//! harness has not opened: RFC 9113 §6.9), so what is held does not depend
//! on how fast the server was. The wait is bounded by the target's
//! tolerance; it ends as soon as the frames are in, never on a timer.

use std::collections::{BTreeMap, VecDeque};

use crate::h2::{H2App, PREFACE};

/// What the suite knows of a server's application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerApp {
    /// It answers a request as soon as its header block is in (nginx),
    /// not only once the request ended with END_STREAM (nghttpd).
    pub answers_at_headers: bool,
    /// The length of the body it answers `GET /` with (the harness's
    /// request); longer than any window the harness opens, so the answer
    /// waits on flow control.
    pub body_len: u64,
    /// Its application resets a stream whose request gets a second header
    /// block while it is answered (Apache: RST_STREAM INTERNAL_ERROR, see
    /// apache.yaml). A second block left open (no END_HEADERS) is then
    /// unsupported: the reset races whatever the frames after it make the
    /// server's HTTP/2 layer send (RFC 9113 §6.10's GOAWAY), so neither
    /// reaction could be judged the same way twice.
    pub resets_second_header_block: bool,
    /// How the suite configured it to push (RFC 9113 §8.4), if it did.
    pub push: Option<Push>,
}

/// A server configured to push: on every request for [`Push::path`] its
/// application promises [`Push::promises`] (a PUSH_PROMISE on the
/// request's stream), then answers that promise on the stream it reserved.
///
/// The harness knows the whole trace before it sends a request, so it asks
/// for `path` on the streams where the trace later has the IUT push (and
/// `/` on the others): the PUSH_PROMISE is held, like an answer, until the
/// trace's `app: push` asks for it, and the pushed response until `app:
/// respond` / `app: data` on the promised stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Push {
    /// The request path whose answer comes with a push (`/push`).
    pub path: &'static str,
    /// The path it pushes (`/pushed`).
    pub promises: &'static str,
    /// The pushed body's length; longer than any window the harness
    /// opens, as the answer's.
    pub body_len: u64,
    /// How the server is told to push, with its documentation.
    pub how: &'static str,
}

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
#[cfg(test)]
const PRIORITY: u8 = 0x2;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const CONTINUATION: u8 = 0x9;
const PUSH_PROMISE: u8 = 0x5;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY_FLAG: u8 = 0x20;
/// RFC 9113 §6.9.2.
const DEFAULT_WINDOW: i64 = 65_535;

/// One whole frame, as bytes, with its header read (RFC 9113 §4.1).
struct Raw {
    kind: u8,
    flags: u8,
    stream: u32,
    bytes: Vec<u8>,
}

impl Raw {
    fn len(&self) -> usize {
        self.bytes.len() - 9
    }
}

/// Whole frames off the front of `buf`.
fn frames(buf: &mut Vec<u8>) -> Vec<Raw> {
    let mut out = Vec::new();
    loop {
        if buf.len() < 9 {
            return out;
        }
        let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
        if buf.len() < 9 + len {
            return out;
        }
        let bytes: Vec<u8> = buf.drain(..9 + len).collect();
        out.push(Raw {
            kind: bytes[3],
            flags: bytes[4],
            stream: u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) & 0x7fff_ffff,
            bytes,
        });
    }
}

/// The server's header blocks, decoded in the order the server wrote them
/// and written again without the HPACK dynamic table (RFC 7541 §6.2.2:
/// literal field lines without indexing), so that the replay decodes them
/// in whatever order the harness hands them over.
///
/// Holding answers reorders frames across streams, and HPACK's dynamic
/// table is the connection's (RFC 9113 §4.3): a block the server encoded
/// after another may refer to entries the other added. The fields are
/// the server's, unchanged; a block that does not decode goes through as
/// the server sent it (the replay then reports it), and so does
/// everything after it.
struct Transcoder {
    decoder: loona_hpack::Decoder<'static>,
    /// A block waiting for its CONTINUATIONs: its frames as sent.
    pending: Vec<Raw>,
    /// A block did not decode: nothing is rewritten from then on.
    broken: bool,
}

/// The largest frame the harness takes without saying otherwise (RFC
/// 9113 §4.2).
const MAX_FRAME: usize = 1 << 14;

impl Transcoder {
    fn new() -> Transcoder {
        let mut decoder = loona_hpack::Decoder::new();
        // As the replay's reader: the harness announces the default
        // SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2).
        decoder.set_max_allowed_table_size(4096);
        Transcoder {
            decoder,
            pending: Vec::new(),
            broken: false,
        }
    }

    /// One frame of the server's: what the harness is to see of it (a
    /// whole block as HEADERS or PUSH_PROMISE and as few CONTINUATIONs as
    /// it needs, nothing while a block waits for its end).
    fn frame(&mut self, f: Raw) -> Vec<Raw> {
        if self.broken || !matches!(f.kind, HEADERS | PUSH_PROMISE | CONTINUATION) {
            return vec![f];
        }
        if f.kind == CONTINUATION && self.pending.is_empty() {
            return vec![f];
        }
        let end = f.flags & END_HEADERS != 0;
        self.pending.push(f);
        if !end {
            return Vec::new();
        }
        let frames = std::mem::take(&mut self.pending);
        match self.rewrite(&frames) {
            Some(out) => out,
            None => {
                self.broken = true;
                frames
            }
        }
    }

    fn rewrite(&mut self, frames: &[Raw]) -> Option<Vec<Raw>> {
        let first = &frames[0];
        let payload = &first.bytes[9..];
        let padded = first.flags & PADDED != 0;
        let pad = if padded {
            usize::from(*payload.first()?)
        } else {
            0
        };
        let at = usize::from(padded);
        let prefix_len = match first.kind {
            HEADERS if first.flags & PRIORITY_FLAG != 0 => 5,
            HEADERS => 0,
            _ => 4,
        };
        let end = payload.len().checked_sub(pad)?;
        let prefix = payload.get(at..at + prefix_len)?.to_vec();
        let mut block = payload.get(at + prefix_len..end)?.to_vec();
        for c in &frames[1..] {
            block.extend_from_slice(&c.bytes[9..]);
        }
        let fields = self.decoder.decode(&block).ok()?;
        let mut plain = Vec::new();
        for (name, value) in &fields {
            // Literal without indexing, new name, no Huffman.
            plain.push(0);
            for s in [name, value] {
                loona_hpack::encoder::encode_integer_into(s.len(), 7, 0, &mut plain).ok()?;
                plain.extend_from_slice(s);
            }
        }
        let mut body = prefix;
        body.extend_from_slice(&plain);
        let mut out = Vec::new();
        let mut chunks = body.chunks(MAX_FRAME).peekable();
        let mut kind = first.kind;
        let mut flags = first.flags & !(PADDED | END_HEADERS);
        loop {
            let chunk = chunks.next().unwrap_or(&[]);
            let last = chunks.peek().is_none();
            let fl = if last { flags | END_HEADERS } else { flags };
            let mut bytes = (chunk.len() as u32).to_be_bytes()[1..].to_vec();
            bytes.push(kind);
            bytes.push(fl);
            bytes.extend_from_slice(&first.stream.to_be_bytes());
            bytes.extend_from_slice(chunk);
            out.push(Raw {
                kind,
                flags: fl,
                stream: first.stream,
                bytes,
            });
            if last {
                return Some(out);
            }
            kind = CONTINUATION;
            flags = 0;
        }
    }
}

/// A request the harness made, and the server's answer to it.
#[derive(Default)]
struct Answer {
    /// The harness ended its request (END_STREAM).
    request_ended: bool,
    /// Its header block is complete.
    headers_done: bool,
    /// The harness reset the stream.
    reset_by_harness: bool,
    /// The server ended (END_STREAM) or reset the stream.
    ended: bool,
    /// The server sent its HEADERS.
    headers_seen: bool,
    /// The server's send window on the stream (§6.9).
    window: i64,
    /// Frames of the answer not yet handed over.
    held: VecDeque<Raw>,
    /// `respond` handed the HEADERS over.
    responded: bool,
    /// Body bytes the trace's `data` steps asked for.
    asked: u64,
    /// Of those, bytes the server has not sent yet.
    owed: u64,
    /// Everything goes through from now on.
    open: bool,
    /// The server reset the stream.
    reset_by_server: bool,
    /// The harness asked for the push path on this stream: the server's
    /// PUSH_PROMISEs on it are held in `promises`.
    push_planned: bool,
    /// The server's PUSH_PROMISE frames on this stream (with their
    /// CONTINUATIONs) not yet handed over: `app: push` asks for them.
    promises: VecDeque<Raw>,
    /// A promise the harness holds was handed over.
    promise_shown: bool,
    /// This is a stream the server reserved by a PUSH_PROMISE (RFC 9113
    /// §8.4): its answer is the pushed response, and `Some(stream)` is the
    /// stream the promise came on.
    promised_on: Option<u32>,
    /// The body's length (the answer's or the pushed response's).
    body_len: u64,
}

fn ends_stream(f: &Raw) -> bool {
    matches!(f.kind, DATA | HEADERS) && f.flags & END_STREAM != 0
}

/// The harness's view of one connection to a server whose application it
/// knows.
pub(super) struct Answers {
    app: ServerApp,
    /// The server's bytes not yet cut into frames.
    rx: Vec<u8>,
    /// Its header blocks, made independent of their order.
    hpack: Transcoder,
    /// The harness's bytes not yet cut into frames.
    tx: Vec<u8>,
    /// What the replay gets next.
    pub(super) out: Vec<u8>,
    streams: BTreeMap<u32, Answer>,
    /// SETTINGS_INITIAL_WINDOW_SIZE as the harness announced it.
    initial_window: i64,
    /// The server's connection send window.
    conn_window: i64,
    goaway: bool,
    past_preface: bool,
    /// The streams the harness asks the push path on.
    push_streams: Vec<u32>,
    /// The server's PUSH_PROMISE held on this stream left its header block
    /// open: its CONTINUATIONs are held with it (RFC 9113 §6.10).
    promise_block: Option<u32>,
    /// The server sent a PUSH_PROMISE that was not held (on a stream the
    /// harness did not ask the push path on, or where everything goes
    /// through): the replay has it, and judges it.
    promised_elsewhere: bool,
}

/// Why an answer cannot be made to be what the trace asks.
pub(super) type Why = String;

impl Answers {
    pub(super) fn new(app: ServerApp) -> Answers {
        Answers {
            app,
            rx: Vec::new(),
            hpack: Transcoder::new(),
            tx: Vec::new(),
            out: Vec::new(),
            streams: BTreeMap::new(),
            initial_window: DEFAULT_WINDOW,
            conn_window: DEFAULT_WINDOW,
            goaway: false,
            past_preface: false,
            push_streams: Vec::new(),
            promise_block: None,
            promised_elsewhere: false,
        }
    }

    /// The harness asks the push path on `streams` (where the trace has
    /// the IUT push): the path, or `None` if the server does not push.
    pub(super) fn plan_push(&mut self, streams: &[u32]) -> Option<&'static str> {
        let push = self.app.push?;
        self.push_streams = streams.to_vec();
        Some(push.path)
    }

    /// Whether the server owes an answer it has not settled: it is due,
    /// and neither ended, nor reset, nor blocked by a window.
    pub(super) fn unsettled(&self) -> bool {
        !self.goaway
            && self.streams.values().any(|a| {
                let due = (a.promised_on.is_some()
                    || (a.headers_done && (a.request_ended || self.app.answers_at_headers)))
                    && !a.reset_by_harness;
                let blocked = a.headers_seen && (a.window <= 0 || self.conn_window <= 0);
                due && !a.ended && !blocked
            })
    }

    /// Why the harness's `bytes` cannot go to this server, if they cannot:
    /// a second header block left open on a stream whose request the
    /// server's application resets for it ([`ServerApp::resets_second_header_block`]).
    pub(super) fn refuses(&self, bytes: &[u8], server: &str) -> Option<Why> {
        if !self.app.resets_second_header_block {
            return None;
        }
        let mut rest = bytes.strip_prefix(PREFACE).unwrap_or(bytes).to_vec();
        frames(&mut rest).into_iter().find_map(|f| {
            let second = f.kind == HEADERS
                && f.flags & END_HEADERS == 0
                && self.streams.get(&f.stream).is_some_and(|a| a.headers_done);
            second.then(|| {
                format!(
                    "{server} resets stream {} when its request gets a second header block; with the block left open, that reset races the server's answer to the frames that follow (RFC 9113 §6.10), so the trace cannot be judged the same way twice",
                    f.stream
                )
            })
        })
    }

    /// The harness's bytes, before they go out: what they change of the
    /// windows and the requests, and what they release.
    pub(super) fn from_harness(&mut self, mut bytes: &[u8]) {
        if !self.past_preface {
            // The client preface (RFC 9113 §3.4) is no frame.
            self.past_preface = true;
            bytes = bytes.strip_prefix(PREFACE).unwrap_or(bytes);
        }
        self.tx.extend_from_slice(bytes);
        for f in frames(&mut self.tx) {
            let s = f.stream;
            // A stream the server reserved by a promise the trace has not
            // seen yet, or whose pushed response's HEADERS (which change
            // its state, RFC 9113 §5.1: reserved (local) to half-closed
            // (remote)) are held: what the harness does now meets the
            // server's state, so the trace sees them first.
            if let Some(p) = self.streams.get(&s).and_then(|a| a.promised_on) {
                let promise_held = self.streams.get(&p).is_some_and(|a| !a.promises.is_empty());
                let headers_held = self
                    .streams
                    .get(&s)
                    .is_some_and(|a| a.held.iter().any(|f| f.kind == HEADERS));
                if promise_held {
                    self.release_promise(p);
                }
                if headers_held && f.kind != RST_STREAM {
                    self.release_all(s);
                }
            }
            if f.kind == RST_STREAM {
                // What the server sent before it read the reset crossed
                // it; the harness ignores it (RFC 9113 §5.1, closed).
                if let Some(a) = self.streams.get_mut(&s) {
                    a.held.clear();
                    a.open = true;
                }
            } else if self
                .streams
                .get(&s)
                .is_some_and(|a| a.held.iter().any(ends_stream))
                || (f.kind == WINDOW_UPDATE && s != 0 && self.holds_data(s))
            {
                // An answer that ended changed the stream's state: what
                // the harness does now meets that state, so the trace
                // sees the answer first.
                self.release_all(s);
            }
            // DATA the server sent and the trace has not asked for took
            // window the model still counts as open: where the harness
            // changes a window, the trace must see that DATA (an overflow
            // of 2^31-1, §6.9.1, depends on it).
            let window_change =
                (f.kind == WINDOW_UPDATE && s == 0) || (f.kind == SETTINGS && f.flags & ACK == 0);
            if window_change {
                let with_data: Vec<u32> = self
                    .streams
                    .keys()
                    .copied()
                    .filter(|&k| self.holds_data(k))
                    .collect();
                for k in with_data {
                    self.release_all(k);
                }
            }
            match f.kind {
                SETTINGS if f.flags & ACK == 0 => {
                    for c in f.bytes[9..].chunks_exact(6) {
                        if u16::from_be_bytes([c[0], c[1]]) == 4 {
                            let w = u32::from_be_bytes([c[2], c[3], c[4], c[5]]) as i64;
                            // §6.9.2: the change applies to every stream.
                            for a in self.streams.values_mut() {
                                a.window += w - self.initial_window;
                            }
                            self.initial_window = w;
                        }
                    }
                }
                WINDOW_UPDATE if f.len() == 4 => {
                    let b = &f.bytes[9..13];
                    let inc = (u32::from_be_bytes([b[0], b[1], b[2], b[3]]) & 0x7fff_ffff) as i64;
                    if s == 0 {
                        self.conn_window += inc;
                    } else if let Some(a) = self.streams.get_mut(&s) {
                        a.window += inc;
                    }
                }
                HEADERS if s % 2 == 1 => {
                    let window = self.initial_window;
                    let push_planned = self.push_streams.contains(&s);
                    let body_len = self.app.body_len;
                    let a = self.streams.entry(s).or_insert_with(|| Answer {
                        window,
                        push_planned,
                        body_len,
                        ..Answer::default()
                    });
                    a.request_ended |= f.flags & END_STREAM != 0;
                    a.headers_done = f.flags & END_HEADERS != 0;
                }
                CONTINUATION => {
                    if let Some(a) = self.streams.get_mut(&s) {
                        a.headers_done |= f.flags & END_HEADERS != 0;
                    }
                }
                DATA => {
                    if let Some(a) = self.streams.get_mut(&s) {
                        a.request_ended |= f.flags & END_STREAM != 0;
                    }
                }
                RST_STREAM => {
                    if let Some(a) = self.streams.get_mut(&s) {
                        a.reset_by_harness = true;
                    }
                }
                _ => {}
            }
        }
    }

    /// The server's bytes: its answers held, the rest passed on.
    pub(super) fn from_server(&mut self, bytes: &[u8]) {
        self.rx.extend_from_slice(bytes);
        let raw = frames(&mut self.rx);
        let rewritten: Vec<Raw> = raw.into_iter().flat_map(|f| self.hpack.frame(f)).collect();
        for f in rewritten {
            let s = f.stream;
            match f.kind {
                GOAWAY => self.goaway = true,
                DATA => {
                    let n = f.len() as i64;
                    self.conn_window -= n;
                    if let Some(a) = self.streams.get_mut(&s) {
                        a.window -= n;
                    }
                }
                _ => {}
            }
            if f.kind == PUSH_PROMISE || (f.kind == CONTINUATION && self.promise_block == Some(s)) {
                self.promise(f);
                continue;
            }
            let Some(a) = self.streams.get_mut(&s) else {
                self.out.extend_from_slice(&f.bytes);
                continue;
            };
            a.ended |= ends_stream(&f) || f.kind == RST_STREAM;
            a.headers_seen |= f.kind == HEADERS;
            let overrun = f.kind == DATA && (a.window < 0 || self.conn_window < 0);
            if a.open {
                self.out.extend_from_slice(&f.bytes);
            } else if overrun {
                // DATA beyond a window the harness opened (RFC 9113
                // §6.9.1) is never held: the trace sees it, and fails.
                self.release_all(s);
                self.out.extend_from_slice(&f.bytes);
            } else if matches!(f.kind, HEADERS | CONTINUATION | DATA) {
                a.held.push_back(f);
                self.pay(s);
            } else {
                if f.kind == RST_STREAM {
                    // The answer ends with the stream; what was held of it
                    // was sent before, in a state the model allows it.
                    a.held.clear();
                    a.reset_by_server = true;
                    a.open = true;
                }
                self.out.extend_from_slice(&f.bytes);
            }
        }
    }

    /// A PUSH_PROMISE of the server's (or a CONTINUATION of its block):
    /// the promised stream's answer is due at once (the server answers
    /// its own promise); the promise is held where the harness asked for
    /// the push, and passed on anywhere else (the trace judges it).
    fn promise(&mut self, f: Raw) {
        let s = f.stream;
        if f.kind == PUSH_PROMISE {
            let at = 9 + usize::from(f.flags & PADDED != 0);
            if let Some(b) = f.bytes.get(at..at + 4) {
                let promised = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) & 0x7fff_ffff;
                let window = self.initial_window;
                let body_len = self.app.push.map_or(self.app.body_len, |p| p.body_len);
                self.streams.entry(promised).or_insert_with(|| Answer {
                    window,
                    body_len,
                    promised_on: Some(s),
                    request_ended: true,
                    headers_done: true,
                    ..Answer::default()
                });
            }
        }
        self.promise_block = (f.flags & END_HEADERS == 0).then_some(s);
        match self.streams.get_mut(&s) {
            Some(a) if a.push_planned && !a.open => a.promises.push_back(f),
            _ => {
                self.promised_elsewhere |= f.kind == PUSH_PROMISE;
                self.out.extend_from_slice(&f.bytes)
            }
        }
    }

    /// Hands over the promises held on `stream`.
    fn release_promise(&mut self, stream: u32) {
        if let Some(a) = self.streams.get_mut(&stream) {
            a.promise_shown |= !a.promises.is_empty();
            for f in a.promises.drain(..) {
                self.out.extend_from_slice(&f.bytes);
            }
        }
    }

    fn holds_data(&self, stream: u32) -> bool {
        self.streams
            .get(&stream)
            .is_some_and(|a| a.held.iter().any(|f| f.kind == DATA))
    }

    fn release_all(&mut self, stream: u32) {
        // A promise comes before what it promised, and before the answer
        // it came with (RFC 9113 §8.4).
        if let Some(p) = self.streams.get(&stream).and_then(|a| a.promised_on) {
            self.release_promise(p);
        }
        self.release_promise(stream);
        if let Some(a) = self.streams.get_mut(&stream) {
            a.open = true;
            for f in a.held.drain(..) {
                self.out.extend_from_slice(&f.bytes);
            }
        }
    }

    /// The trace's `app: push` on `stream`: the server's PUSH_PROMISE
    /// held there, or why there is none to hand over.
    fn push(&mut self, stream: u32, server: &str) -> Result<(), Why> {
        let Some(push) = self.app.push else {
            return Err(format!("{server} is not configured to push"));
        };
        let path = push.path;
        let Some(a) = self.streams.get(&stream) else {
            return Err(format!(
                "{server} pushes only with its answer to a request for {path}, and the harness made none on stream {stream}"
            ));
        };
        if !a.promises.is_empty() {
            self.release_promise(stream);
            return Ok(());
        }
        if a.promise_shown || a.open {
            return Err(format!(
                "{server}'s push on stream {stream} was handed over already: it pushes {} once per request for {path}",
                push.promises
            ));
        }
        if a.reset_by_server {
            return Err(format!("{server} reset stream {stream}"));
        }
        if !a.push_planned {
            return Err(format!(
                "{server} pushes only with its answer to a request for {path}; the harness asked another path on stream {stream}"
            ));
        }
        if !a.headers_done {
            return Err(format!(
                "{server} pushes with its answer, once a request's header block is in; stream {stream}'s is not"
            ));
        }
        if !a.request_ended && !self.app.answers_at_headers {
            // RFC 9113 §5.1: the stream is open, the model's application
            // may push (§8.4); this server's application runs only once
            // the request ended.
            return Err(format!(
                "{server} pushes with its answer to a request for {path}, which it makes only once the request ended (END_STREAM): the trace pushes on stream {stream} while the request is open (RFC 9113 §5.1, open), which this server cannot be made to do"
            ));
        }
        if a.reset_by_harness {
            return Err(format!("the harness reset stream {stream}"));
        }
        if self.promised_elsewhere {
            // It pushed, but not where the harness asked: the replay has
            // that PUSH_PROMISE and judges it against the trace.
            return Ok(());
        }
        Err(format!(
            "{server} was asked {path} on stream {stream} ({}) and sent no PUSH_PROMISE for {}: it declined to push (RFC 9113 §8.4 lets a server not push), so the trace's push cannot be mapped",
            push.how, push.promises
        ))
    }

    /// Hands over held DATA up to what the trace asked for, cutting a
    /// frame where the ask ends (how a sender cuts DATA is its own, §4.2).
    fn pay(&mut self, stream: u32) {
        let Some(a) = self.streams.get_mut(&stream) else {
            return;
        };
        while a.owed > 0 {
            let Some(f) = a.held.front_mut() else { return };
            if f.kind != DATA {
                return;
            }
            let n = f.len() as u64;
            if n <= a.owed || f.flags & PADDED != 0 {
                a.owed = a.owed.saturating_sub(n);
                let f = a.held.pop_front().expect("a front");
                self.out.extend_from_slice(&f.bytes);
                continue;
            }
            let k = a.owed as usize;
            let mut first = f.bytes[..9 + k].to_vec();
            first[..3].copy_from_slice(&(k as u32).to_be_bytes()[1..]);
            first[4] &= !END_STREAM;
            self.out.extend_from_slice(&first);
            let mut rest = f.bytes[..9].to_vec();
            rest[..3].copy_from_slice(&((n as usize - k) as u32).to_be_bytes()[1..]);
            rest.extend_from_slice(&f.bytes[9 + k..]);
            f.bytes = rest;
            a.owed = 0;
        }
    }

    /// The trace's application call, mapped onto the server's answer.
    pub(super) fn app(&mut self, call: &H2App, server: &str) -> Result<(), Why> {
        let stream = match *call {
            H2App::Respond { stream, .. } | H2App::Data { stream, .. } => stream,
            H2App::End { .. } => {
                return Err(format!(
                    "{server} ends its answer with its last DATA (a body of {} bytes), never with an empty DATA frame",
                    self.app.body_len
                ))
            }
            H2App::Reset { .. } => {
                return Err(format!(
                    "{server}'s application cannot be made to reset a stream it answers"
                ))
            }
            H2App::Push { stream } => return self.push(stream, server),
            H2App::Goaway => {
                return Err(format!(
                    "{server} cannot be made to send GOAWAY while the connection is in use"
                ))
            }
            H2App::Request { .. } => {
                return Err(format!("{server} is a server: it makes no requests"))
            }
        };
        let when = if self.app.answers_at_headers {
            "once its HEADERS are in"
        } else {
            "once it ended (END_STREAM)"
        };
        let Some(a) = self.streams.get(&stream) else {
            return Err(if stream % 2 == 0 {
                format!(
                    "{server} did not promise stream {stream}: it answers no pushed request there"
                )
            } else {
                format!(
                    "{server} answers only requests, and the harness made none on stream {stream}"
                )
            });
        };
        if let Some(p) = a.promised_on {
            if self
                .streams
                .get(&p)
                .is_some_and(|pa| !pa.promises.is_empty())
            {
                return Err(format!(
                    "{server} promised stream {stream} on stream {p}, and the trace has not seen that promise"
                ));
            }
        }
        let Some(a) = self.streams.get_mut(&stream) else {
            unreachable!("looked up above")
        };
        let body = a.body_len;
        let when = if a.promised_on.is_some() {
            "as soon as it promised it"
        } else {
            when
        };
        if a.reset_by_server {
            return Err(format!("{server} reset stream {stream}"));
        }
        if a.open {
            return Err(format!(
                "{server}'s answer on stream {stream} was handed over already"
            ));
        }
        match *call {
            H2App::Respond { end_stream, .. } => {
                if end_stream {
                    return Err(format!(
                        "{server} answers with a body of {body} bytes: its HEADERS do not end the stream"
                    ));
                }
                if !a.headers_seen {
                    return Err(format!(
                        "{server} answers a request {when}; it did not answer stream {stream}"
                    ));
                }
                while let Some(f) = a.held.pop_front() {
                    let last = f.kind != DATA && f.flags & END_HEADERS != 0;
                    if f.kind == DATA {
                        a.held.push_front(f);
                        break;
                    }
                    self.out.extend_from_slice(&f.bytes);
                    if last {
                        break;
                    }
                }
                a.responded = true;
                Ok(())
            }
            H2App::Data {
                len, end_stream, ..
            } => {
                if !a.responded {
                    return Err(format!(
                        "{server}'s answer on stream {stream} has no HEADERS handed over yet"
                    ));
                }
                let after = a.asked + u64::from(len);
                if after > body || end_stream != (after == body) {
                    return Err(format!(
                        "{server}'s body is {body} bytes: it cannot {} after {after}",
                        if end_stream { "end" } else { "go on" }
                    ));
                }
                a.asked = after;
                a.owed += u64::from(len);
                self.pay(stream);
                Ok(())
            }
            _ => unreachable!("the other calls returned above"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut b = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        b.push(kind);
        b.push(flags);
        b.extend(stream.to_be_bytes());
        b.extend(payload);
        b
    }

    fn app() -> Answers {
        Answers::new(ServerApp {
            answers_at_headers: false,
            body_len: 100,
            resets_second_header_block: false,
            push: None,
        })
    }

    #[test]
    fn an_answer_is_held_until_the_trace_asks_and_data_is_cut_where_it_asks() {
        let mut a = app();
        a.from_harness(&frame(SETTINGS, 0, 0, &[0, 4, 0, 0, 0, 30]));
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 1, b"x"));
        assert!(a.unsettled(), "an answer is due");
        a.from_server(&frame(HEADERS, END_HEADERS, 1, b"h"));
        assert!(a.unsettled(), "its body is not blocked yet");
        a.from_server(&frame(DATA, 0, 1, &[7; 30]));
        assert!(!a.unsettled(), "blocked by the stream window of 30");
        assert!(a.out.is_empty(), "held");
        a.app(
            &H2App::Respond {
                stream: 1,
                end_stream: false,
            },
            "s",
        )
        .unwrap();
        assert_eq!(a.out, frame(HEADERS, END_HEADERS, 1, b"h"));
        a.out.clear();
        a.app(
            &H2App::Data {
                stream: 1,
                end_stream: false,
                len: 20,
            },
            "s",
        )
        .unwrap();
        assert_eq!(a.out, frame(DATA, 0, 1, &[7; 20]));
        a.out.clear();
        // The body's end cannot come where the body does not end.
        assert!(a
            .app(
                &H2App::Data {
                    stream: 1,
                    end_stream: true,
                    len: 20
                },
                "s"
            )
            .is_err());
        assert!(a
            .app(
                &H2App::Respond {
                    stream: 3,
                    end_stream: false
                },
                "s"
            )
            .is_err());
    }

    #[test]
    fn the_harness_touching_a_stream_whose_answer_ended_releases_it_first() {
        let mut a = app();
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 1, b"x"));
        a.from_server(&frame(HEADERS, END_HEADERS, 1, b"h"));
        a.from_server(&frame(SETTINGS, ACK, 0, b""));
        assert_eq!(
            a.out,
            frame(SETTINGS, ACK, 0, b""),
            "connection frames pass"
        );
        a.out.clear();
        // An answer still going changes no state: it stays held.
        a.from_harness(&frame(PRIORITY, 0, 1, &[0, 0, 0, 0, 9]));
        assert!(a.out.is_empty());
        a.from_server(&frame(DATA, END_STREAM, 1, b"d"));
        a.from_harness(&frame(WINDOW_UPDATE, 0, 1, &[0, 0, 0, 1]));
        let mut want = frame(HEADERS, END_HEADERS, 1, b"h");
        want.extend(frame(DATA, END_STREAM, 1, b"d"));
        assert_eq!(a.out, want);
        a.out.clear();
        // From then on, everything on the stream goes through.
        a.from_server(&frame(RST_STREAM, 0, 1, &[0, 0, 0, 5]));
        assert_eq!(a.out, frame(RST_STREAM, 0, 1, &[0, 0, 0, 5]));
    }

    #[test]
    fn a_window_update_meets_the_data_that_took_the_window() {
        let mut a = app();
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 1, b"x"));
        a.from_server(&frame(HEADERS, END_HEADERS, 1, b"h"));
        a.from_harness(&frame(WINDOW_UPDATE, 0, 1, &[0, 0, 0, 1]));
        assert!(a.out.is_empty(), "no DATA held: the window is the model's");
        a.from_server(&frame(DATA, 0, 1, b"d"));
        a.from_harness(&frame(WINDOW_UPDATE, 0, 1, &[0x7f, 0xff, 0xff, 0xff]));
        let mut want = frame(HEADERS, END_HEADERS, 1, b"h");
        want.extend(frame(DATA, 0, 1, b"d"));
        assert_eq!(a.out, want);
    }

    #[test]
    fn data_beyond_the_window_is_never_held() {
        let mut a = app();
        a.from_harness(&frame(SETTINGS, 0, 0, &[0, 4, 0, 0, 0, 1]));
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 1, b"x"));
        a.from_server(&frame(HEADERS, END_HEADERS, 1, b"h"));
        a.from_server(&frame(DATA, 0, 1, b"dd"));
        let mut want = frame(HEADERS, END_HEADERS, 1, b"h");
        want.extend(frame(DATA, 0, 1, b"dd"));
        assert_eq!(a.out, want);
    }

    #[test]
    fn resets_drop_what_crossed_them() {
        let mut a = app();
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 1, b"x"));
        a.from_server(&frame(HEADERS, END_HEADERS, 1, b"h"));
        a.from_harness(&frame(RST_STREAM, 0, 1, &[0, 0, 0, 8]));
        assert!(a.out.is_empty());
        a.from_server(&frame(DATA, 0, 1, b"d"));
        assert_eq!(a.out, frame(DATA, 0, 1, b"d"), "sent after the reset: seen");
        a.out.clear();
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 3, b"x"));
        a.from_server(&frame(HEADERS, END_HEADERS, 3, b"h"));
        a.from_server(&frame(RST_STREAM, 0, 3, &[0, 0, 0, 5]));
        assert_eq!(a.out, frame(RST_STREAM, 0, 3, &[0, 0, 0, 5]));
        assert!(!a.unsettled());
        let e = a
            .app(
                &H2App::Respond {
                    stream: 3,
                    end_stream: false,
                },
                "s",
            )
            .unwrap_err();
        assert!(e.contains("reset"), "{e}");
    }

    #[test]
    fn a_second_open_header_block_is_refused_where_the_server_resets_for_it() {
        let mut a = Answers::new(ServerApp {
            answers_at_headers: true,
            body_len: 100,
            resets_second_header_block: true,
            push: None,
        });
        let open_block = frame(HEADERS, END_STREAM, 1, b"t");
        assert!(a.refuses(&open_block, "s").is_none(), "a first block");
        a.from_harness(&frame(HEADERS, END_HEADERS, 1, b"x"));
        assert!(a.refuses(&open_block, "s").is_some());
        assert!(
            a.refuses(&frame(HEADERS, END_HEADERS | END_STREAM, 1, b"t"), "s")
                .is_none(),
            "a whole second block is judged"
        );
        a.app.resets_second_header_block = false;
        assert!(a.refuses(&open_block, "s").is_none());
    }

    fn pushing() -> Answers {
        let mut a = Answers::new(ServerApp {
            answers_at_headers: false,
            body_len: 100,
            resets_second_header_block: false,
            push: Some(Push {
                path: "/push",
                promises: "/pushed",
                body_len: 50,
                how: "test",
            }),
        });
        assert_eq!(a.plan_push(&[1]), Some("/push"));
        a
    }

    fn promise(on: u32, promised: u32) -> Vec<u8> {
        let mut p = promised.to_be_bytes().to_vec();
        // :method GET, :path /, :scheme http (static table, RFC 7541).
        p.extend([0x82, 0x84, 0x86]);
        frame(PUSH_PROMISE, END_HEADERS, on, &p)
    }

    /// `:status 200` (static index 8), as the transcoder writes it.
    fn status_200() -> Vec<u8> {
        let mut b = vec![0, 7];
        b.extend(b":status");
        b.push(3);
        b.extend(b"200");
        b
    }

    #[test]
    fn a_push_is_held_until_the_trace_pushes_and_its_response_until_it_responds() {
        let mut a = pushing();
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 1, b"x"));
        a.from_server(&promise(1, 2));
        a.from_server(&frame(HEADERS, END_HEADERS, 2, &[0x88]));
        a.from_server(&frame(DATA, 0, 2, &[1; 10]));
        a.from_server(&frame(HEADERS, END_HEADERS, 1, &[0x88]));
        assert!(a.out.is_empty(), "all held");
        assert!(a.unsettled(), "the pushed response is due, and not blocked");
        // The answer first: the promise stays held.
        a.app(
            &H2App::Respond {
                stream: 1,
                end_stream: false,
            },
            "s",
        )
        .unwrap();
        assert_eq!(a.out, frame(HEADERS, END_HEADERS, 1, &status_200()));
        a.out.clear();
        // Not before its promise.
        assert!(a
            .app(
                &H2App::Respond {
                    stream: 2,
                    end_stream: false
                },
                "s"
            )
            .is_err());
        a.app(&H2App::Push { stream: 1 }, "s").unwrap();
        let mut p = 2u32.to_be_bytes().to_vec();
        for (n, v) in [(":method", "GET"), (":path", "/"), (":scheme", "http")] {
            p.extend([0, n.len() as u8]);
            p.extend(n.as_bytes());
            p.push(v.len() as u8);
            p.extend(v.as_bytes());
        }
        assert_eq!(a.out, frame(PUSH_PROMISE, END_HEADERS, 1, &p));
        a.out.clear();
        // Once per request.
        assert!(a.app(&H2App::Push { stream: 1 }, "s").is_err());
        a.app(
            &H2App::Respond {
                stream: 2,
                end_stream: false,
            },
            "s",
        )
        .unwrap();
        assert_eq!(a.out, frame(HEADERS, END_HEADERS, 2, &status_200()));
        a.out.clear();
        a.app(
            &H2App::Data {
                stream: 2,
                end_stream: false,
                len: 4,
            },
            "s",
        )
        .unwrap();
        assert_eq!(a.out, frame(DATA, 0, 2, &[1; 4]));
        // The pushed body is 50 bytes.
        assert!(a
            .app(
                &H2App::Data {
                    stream: 2,
                    end_stream: true,
                    len: 6,
                },
                "s"
            )
            .is_err());
    }

    #[test]
    fn a_harness_frame_on_a_promised_stream_meets_its_promise_first() {
        let mut a = pushing();
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 1, b"x"));
        a.from_server(&promise(1, 2));
        a.from_server(&frame(HEADERS, END_HEADERS, 2, &[0x88]));
        assert!(a.out.is_empty());
        a.from_harness(&frame(PRIORITY, 0, 2, &[0, 0, 0, 0, 9]));
        assert_eq!(a.out[3], PUSH_PROMISE, "the promise first");
        assert!(
            a.out
                .ends_with(&frame(HEADERS, END_HEADERS, 2, &status_200())),
            "then the pushed response's HEADERS, which left reserved (local)"
        );
    }

    #[test]
    fn a_promise_where_the_harness_asked_no_push_goes_through() {
        let mut a = pushing();
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 3, b"x"));
        a.from_server(&promise(3, 2));
        assert_eq!(a.out[3], PUSH_PROMISE);
        assert!(a.app(&H2App::Push { stream: 3 }, "s").is_err());
    }

    #[test]
    fn a_push_on_an_open_request_is_unsupported_where_the_server_waits_for_its_end() {
        let mut a = pushing();
        a.from_harness(&frame(HEADERS, END_HEADERS, 1, b"x"));
        let e = a.app(&H2App::Push { stream: 1 }, "s").unwrap_err();
        assert!(e.contains("only once the request ended"), "{e}");
        a.app.answers_at_headers = true;
        let e = a.app(&H2App::Push { stream: 1 }, "s").unwrap_err();
        assert!(e.contains("declined to push"), "{e}");
    }

    #[test]
    fn header_blocks_decode_in_any_order_once_rewritten() {
        // The server's second block refers to an entry its first added to
        // the dynamic table (RFC 7541 §2.3.2).
        let mut enc = loona_hpack::Encoder::new();
        let first = enc.encode([(&b":status"[..], &b"200"[..]), (b"x-big", b"value")]);
        let second = enc.encode([(&b":status"[..], &b"200"[..]), (b"x-big", b"value")]);
        let mut a = app();
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 1, b"x"));
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 3, b"x"));
        a.from_server(&frame(HEADERS, END_HEADERS, 1, &first));
        a.from_server(&frame(HEADERS, END_HEADERS, 3, &second));
        // Handed over in the other order, each decodes by itself.
        for s in [3, 1] {
            a.app(
                &H2App::Respond {
                    stream: s,
                    end_stream: false,
                },
                "s",
            )
            .unwrap();
            let mut dec = loona_hpack::Decoder::new();
            let fields = dec.decode(&a.out[9..]).unwrap();
            assert_eq!(
                fields,
                vec![
                    (b":status".to_vec(), b"200".to_vec()),
                    (b"x-big".to_vec(), b"value".to_vec())
                ]
            );
            a.out.clear();
        }
    }

    #[test]
    fn a_block_that_does_not_decode_goes_through_as_sent() {
        let mut a = app();
        a.from_harness(&frame(HEADERS, END_HEADERS | END_STREAM, 1, b"x"));
        // An index beyond every table (RFC 7541 §2.3.3).
        let bad = frame(HEADERS, END_HEADERS, 1, &[0xff, 0x80, 0x10]);
        a.from_server(&bad);
        a.app(
            &H2App::Respond {
                stream: 1,
                end_stream: false,
            },
            "s",
        )
        .unwrap();
        assert_eq!(a.out, bad);
    }

    #[test]
    fn an_open_request_is_not_answered_by_a_server_that_waits_for_its_end() {
        let mut a = app();
        a.from_harness(&frame(HEADERS, END_HEADERS, 1, b"x"));
        assert!(!a.unsettled(), "nothing due yet");
        let e = a
            .app(
                &H2App::Respond {
                    stream: 1,
                    end_stream: false,
                },
                "s",
            )
            .unwrap_err();
        assert!(e.contains("once it ended"), "{e}");
    }
}
