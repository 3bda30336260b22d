//! HTTP/2 plugged into the replay engine ([`crate::replay`]): the units are
//! the frames the harness decodes from the IUT's bytes, the patterns are
//! [`FrameSpec`]s, and `{type: NONE}` matches silence.
//!
//! WINDOW_UPDATE frames the IUT sends are never constrained: how a receiver
//! gives window back is its own choice (RFC 9113 §6.9.1), so they are
//! dropped. How a sender cuts its data into frames is its own choice too (up
//! to SETTINGS_MAX_FRAME_SIZE, §4.2): consecutive DATA frames of the IUT on
//! one stream are read as one run, matched as one frame whose `len` is the
//! sum and which carries END_STREAM if the run's last frame does.
//!
//! On a real clock, silence is proved, not waited for: where a trace
//! allows nothing (`{type: NONE}`) and at its end, the harness sends a PING
//! of its own and reads up to its ACK. A receiver processes frames in the
//! order they come and MUST answer a PING (RFC 9113 §6.7), so what the IUT
//! emitted before the ACK is all it had to say about what came before. The
//! ACK is the harness's and is never matched against the trace; the clock's
//! tolerance only bounds an IUT that does not answer.
//!
//! A server reached over the network ([`H2Target::autonomous`]) announces
//! its own SETTINGS and answers requests by itself. The replay takes its
//! first SETTINGS as the value of the trace's parameters where the trace
//! does not depend on them (the trace's `max_concurrent_streams: 2` stands
//! for "what the IUT announces"), and gives the trace up as inconclusive,
//! with the reason, where it does (a trace that opens a stream beyond the
//! model's limit of 2 tests that limit). A response the server's
//! application sends by itself on a stream the harness opened is allowed by
//! the model, but is no step of the trace: inconclusive, never a fail.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use super::codec::{decode_frames_with, BlockReader, Encoder, PREFACE};
use super::target::{H2Settings, H2Target, StreamState};
use crate::h2::{FieldClass, Flood, Frame, FrameSpec, FrameType, H2App, H2Step, H2Trace, Window};
use crate::replay::{drive, target_verdict, Dir, Plugin, Run, TraceResult, Verdict};
use crate::target::{Clock, TargetError};
use crate::trace::Role;

/// The HTTP/2 side of one replay: the target, the harness's encoder, and
/// the IUT's bytes not yet framed.
struct H2<'a> {
    target: &'a mut dyn H2Target,
    enc: Encoder,
    harness_is_client: bool,
    buf: Vec<u8>,
    /// The IUT is a client whose preface has not been seen yet.
    want_preface: bool,
    /// The RFC section of the last thing the harness did.
    last: &'static str,
    /// Everything the IUT had to say about what the harness sent is in
    /// (a PING's ACK came, or the connection closed): no frame is waited
    /// for until the harness acts again.
    proven: bool,
    /// The payload of the harness's own PING in flight, and whether its
    /// ACK came.
    ping: Option<[u8; 8]>,
    acked: bool,
    pings: u16,
    /// The harness sent its SETTINGS (a PING before them would break the
    /// preface, RFC 9113 §3.4).
    settings_sent: bool,
    /// The harness left a header block open: any frame but CONTINUATION
    /// now is a connection error (RFC 9113 §6.10), so no PING.
    header_block_open: bool,
    /// The IUT sent a GOAWAY.
    goaway_seen: bool,
    /// What the trace needs of the IUT's SETTINGS_MAX_CONCURRENT_STREAMS.
    needs: Option<Needs>,
    /// Streams the harness opened and nobody reset: where a server's own
    /// answer is one the model allows.
    answerable: BTreeSet<u32>,
    /// The trace's number of steps.
    steps: usize,
    /// The SETTINGS_MAX_FRAME_SIZE the IUT announced in its first SETTINGS
    /// (RFC 9113 §6.5.2; absent: the default, 2^14).
    iut_max_frame_size: Option<u32>,
    /// The IUT's first SETTINGS came.
    iut_settings_seen: bool,
    /// The trace writes the client preface itself (a `magic` on its first
    /// send, RFC 9113 §3.4).
    own_preface: bool,
    /// The harness's send windows towards the IUT (RFC 9113 §6.9.1).
    credit: Credit,
    /// The IUT's header blocks, decoded and checked.
    blocks: BlockReader,
    /// The IUT defended itself against a flood (RFC 9113 §10.5): the
    /// connection is over for judging ([`after_defence`]).
    over: bool,
    /// What the IUT said of its own streams, in the order it said it, for
    /// the frames judged once the connection is over: the last-stream-id
    /// of its latest GOAWAY (§6.8) and the streams it reset (§5.1).
    iut_goaway_last: Option<u32>,
    iut_reset: BTreeSet<u32>,
}

/// The harness's send windows, as a sender keeps them (RFC 9113 §6.9.1):
/// what the IUT allows (its SETTINGS_INITIAL_WINDOW_SIZE, §6.9.2), plus
/// its WINDOW_UPDATEs, minus the DATA sent. The harness follows flow
/// control as any sender must: a DATA it has no window for would stall,
/// and a trace that sends it shows the IUT did not give window back.
#[derive(Debug)]
struct Credit {
    /// The IUT's SETTINGS_INITIAL_WINDOW_SIZE (65 535 until it says).
    initial: i64,
    connection: i64,
    /// Per stream: WINDOW_UPDATEs minus DATA sent.
    streams: BTreeMap<u32, i64>,
}

/// The windows' initial size (RFC 9113 §6.9.2).
const DEFAULT_WINDOW: i64 = 65_535;

impl Credit {
    fn new() -> Self {
        Credit {
            initial: DEFAULT_WINDOW,
            connection: DEFAULT_WINDOW,
            streams: BTreeMap::new(),
        }
    }

    fn stream(&self, id: u32) -> i64 {
        self.initial + self.streams.get(&id).copied().unwrap_or(0)
    }

    fn spend(&mut self, id: u32, n: i64) {
        self.connection -= n;
        *self.streams.entry(id).or_default() -= n;
    }

    /// A frame of the IUT's: its WINDOW_UPDATEs and SETTINGS move the
    /// windows.
    fn learn(&mut self, f: &Frame) {
        match f.kind {
            FrameType::WindowUpdate if f.stream == 0 => self.connection += i64::from(f.increment),
            FrameType::WindowUpdate => {
                *self.streams.entry(f.stream).or_default() += i64::from(f.increment)
            }
            FrameType::Settings if !f.ack => {
                if let Some(w) = f.initial_window_size {
                    self.initial = w.into();
                }
            }
            _ => {}
        }
    }
}

/// SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 §6.5.2): the traces
/// assume an IUT that announces no other.
const DEFAULT_MAX_FRAME_SIZE: u32 = 1 << 14;

/// On a real clock, how long each read for the PING's ACK may block.
const SLICE: Duration = Duration::from_millis(10);

/// What a trace needs of the limit on concurrent streams that the IUT
/// announces (RFC 9113 §5.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    /// The trace opens a stream beyond the model's limit: the IUT must
    /// announce exactly that limit.
    Exactly(u32),
    /// The trace keeps up to this many streams open at once.
    AtLeast(u32),
}

/// What `steps` (of a server IUT) need of the IUT's limit on concurrent
/// streams, from the limit the trace expects the IUT to announce. Streams
/// count while open or half-closed (RFC 9113 §5.1.2); the path followed is
/// each expectation's first pattern.
fn concurrency_needs(steps: &[H2Step], iut: Role) -> Option<Needs> {
    if iut != Role::Server {
        return None;
    }
    let limit = steps.iter().find_map(|s| match s {
        H2Step::Expect(e) => e
            .any_of
            .first()
            .filter(|p| p.kind == FrameType::Settings && !p.ack)
            .and_then(|p| p.max_concurrent_streams),
        _ => None,
    })?;
    // A stream the harness opened: whether the harness, the IUT ended it.
    let mut active: BTreeMap<u32, (bool, bool)> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut peak = 0u32;
    for step in steps {
        let (stream, harness_end, iut_end, gone) = match step {
            H2Step::Send(f) => {
                let s = f.stream.unwrap_or(0);
                match f.kind {
                    FrameType::Headers if s % 2 == 1 && seen.insert(s) => {
                        if active.len() as u32 >= limit {
                            return Some(Needs::Exactly(limit));
                        }
                        active.insert(s, (false, false));
                        peak = peak.max(active.len() as u32);
                        (s, f.end_stream, false, false)
                    }
                    FrameType::Headers | FrameType::Data => (s, f.end_stream, false, false),
                    FrameType::RstStream => (s, false, false, true),
                    FrameType::Goaway => break,
                    _ => continue,
                }
            }
            H2Step::App(call) => match *call {
                H2App::Respond { stream, end_stream }
                | H2App::Data {
                    stream, end_stream, ..
                } => (stream, false, end_stream, false),
                H2App::End { stream } => (stream, false, true, false),
                H2App::Reset { stream } => (stream, false, false, true),
                _ => continue,
            },
            H2Step::Expect(e) => match e.any_of.first() {
                Some(p) if p.kind == FrameType::Goaway => break,
                Some(p) if p.kind == FrameType::RstStream => {
                    (p.stream.unwrap_or(0), false, false, true)
                }
                Some(p) if matches!(p.kind, FrameType::Data | FrameType::Headers) => {
                    (p.stream.unwrap_or(0), false, p.end_stream, false)
                }
                _ => continue,
            },
            H2Step::State(_) | H2Step::Flood(_) => continue,
        };
        if let Some(ends) = active.get_mut(&stream) {
            ends.0 |= harness_end;
            ends.1 |= iut_end;
            if gone || (ends.0 && ends.1) {
                active.remove(&stream);
            }
        }
    }
    Some(Needs::AtLeast(peak))
}

/// The harness's PING frame with `payload`.
fn ping_frame(payload: &[u8; 8]) -> Vec<u8> {
    let mut f = vec![0, 0, 8, 6, 0, 0, 0, 0, 0];
    f.extend_from_slice(payload);
    f
}

/// Takes the ACK of the harness's PING `payload` out of `buf` (complete
/// frames only); whether it was there.
fn take_ping_ack(buf: &mut Vec<u8>, payload: &[u8; 8]) -> bool {
    let mut at = 0;
    while buf.len() >= at + 9 {
        let len = u32::from_be_bytes([0, buf[at], buf[at + 1], buf[at + 2]]) as usize;
        if buf.len() < at + 9 + len {
            break;
        }
        let (ty, flags) = (buf[at + 3], buf[at + 4]);
        if ty == 6 && flags & 0x1 != 0 && len == 8 && buf[at + 9..at + 17] == payload[..] {
            buf.drain(at..at + 17);
            return true;
        }
        at += 9 + len;
    }
    false
}

impl H2<'_> {
    /// What the harness learns from a frame of the IUT's, in one place:
    /// its SETTINGS (the first one's MAX_FRAME_SIZE, RFC 9113 §6.5.2; its
    /// HPACK table size, RFC 7541 §4.2) and what moves the harness's send
    /// windows (§6.9). Whether the trace is to see the frame: not a
    /// server's first SETTINGS before a client preface the trace writes
    /// itself, which it may or may not have sent before a bad one (§3.4).
    fn learn_settings(&mut self, f: &Frame) -> bool {
        if f.kind == FrameType::Settings && !f.ack && !self.iut_settings_seen {
            self.iut_settings_seen = true;
            self.iut_max_frame_size = f.max_frame_size;
            if self.own_preface {
                return false;
            }
        }
        // The IUT's decoder takes a dynamic table this large.
        if let Some(n) = f
            .header_table_size
            .filter(|_| f.kind == FrameType::Settings)
        {
            self.enc.set_peer_table_size(n);
        }
        self.credit.learn(f);
        true
    }

    /// Frames out of the IUT's bytes, after its preface if it is a client.
    fn frames(&mut self, step: usize, bytes: Vec<u8>) -> Result<Vec<Frame>, Verdict> {
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
            return Ok(Vec::new());
        }
        if let Some(p) = self.ping.filter(|_| !self.acked) {
            self.acked = take_ping_ack(&mut self.buf, &p);
        }
        let blocks = &mut self.blocks;
        let frames = decode_frames_with(&mut self.buf, |ty, flags, stream, p| {
            blocks.frame(ty, flags, stream, p)
        });
        // The IUT's own header blocks must decode and be well-formed
        // (RFC 7541; RFC 9113 §8.1–§8.3).
        if let Some(why) = self.blocks.fault.take() {
            return Err(Verdict::Fail {
                step,
                reason: format!("the IUT sent a header block the harness refuses: {why}"),
                expected: vec!["a header block that decodes into a well-formed message".into()],
                got: Some(why),
            });
        }
        Ok(frames)
    }
}

impl Plugin for H2<'_> {
    type Unit = Frame;
    type Pattern = FrameSpec;
    type Step = H2Step;
    const UNIT: &'static str = "frame";
    const UNEXPECTED: &'static str = "the IUT sent a frame the model does not allow here";
    const NOTHING: Option<&'static str> = None;

    fn clock(&self) -> Clock {
        if self.proven {
            // What the IUT emitted is known in full: nothing to wait for.
            return Clock::Virtual;
        }
        self.target.clock()
    }

    fn poll(&mut self, step: usize) -> Result<Vec<Frame>, Verdict> {
        let bytes = self.target.poll().map_err(|e| target_verdict(step, e))?;
        self.frames(step, bytes)
    }

    /// Frames carry no time of their own here: each is stamped with the end
    /// of the wait (no HTTP/2 step checks when within it a frame came).
    fn advance(&mut self, step: usize, d: Duration) -> Result<Vec<(Duration, Frame)>, Verdict> {
        let bytes = self
            .target
            .advance(d)
            .map_err(|e| target_verdict(step, e))?;
        Ok(self
            .frames(step, bytes)?
            .into_iter()
            .map(|f| (d, f))
            .collect())
    }

    fn admit(&mut self, queue: &mut VecDeque<Frame>, f: Frame) {
        self.goaway_seen |= f.kind == FrameType::Goaway;
        if !self.learn_settings(&f) {
            return;
        }
        // How a receiver gives window back is its own (RFC 9113 §6.9.1):
        // no WINDOW_UPDATE is matched; the harness's windows take them in,
        // and a DATA it has no window for shows one missing.
        if f.kind == FrameType::WindowUpdate {
            return;
        }
        // How a sender cuts DATA into frames is its own (§4.2): a run on
        // one stream is one frame here.
        if let Some(run) = queue.back_mut().filter(|b| {
            f.kind == FrameType::Data
                && b.kind == FrameType::Data
                && b.stream == f.stream
                && !b.end_stream
        }) {
            run.len += f.len;
            run.end_stream = f.end_stream;
            return;
        }
        queue.push_back(f);
    }

    fn show(&self, f: &Frame) -> String {
        f.to_string()
    }

    fn show_pattern(&self, p: &FrameSpec) -> String {
        p.to_string()
    }

    fn matches(&self, p: &FrameSpec, f: &Frame) -> bool {
        p.matches(f)
    }

    fn matched(&mut self, _p: &FrameSpec, f: &Frame) {
        if f.kind == FrameType::RstStream {
            self.answerable.remove(&f.stream);
        }
        // The server's application answers a stream it promised (RFC 9113
        // §8.4) when it will, as it answers a request.
        if f.kind == FrameType::PushPromise && self.answerable.contains(&f.stream) {
            self.answerable.insert(f.promised);
        }
        self.note_own(f);
    }

    fn defers_pending(&self) -> bool {
        // No PING may go inside the block (RFC 9113 §6.10), so what the
        // IUT said to the block's first frame cannot be proved in first.
        self.header_block_open && matches!(self.target.clock(), Clock::Real { .. })
    }

    fn is_silence(p: &FrameSpec) -> bool {
        p.kind == FrameType::None
    }

    fn is_check(step: &H2Step) -> bool {
        matches!(step, H2Step::State(_))
    }

    /// A server IUT is sent the client preface first (RFC 9113 §3.4); a
    /// client IUT has sent its own, and either has sent its SETTINGS.
    fn start(run: &mut Run<Self>) -> Result<(), Verdict> {
        if run.proto.harness_is_client && !run.proto.own_preface {
            run.proto
                .target
                .deliver(PREFACE)
                .map_err(|e| target_verdict(0, e))?;
        }
        run.poll(0)
    }

    fn step(run: &mut Run<Self>, i: usize, step: &H2Step) -> Result<(), Verdict> {
        if run.proto.over {
            // The trace's path ended with the IUT's defence.
            return after_defence(run, i);
        }
        if !matches!(step, H2Step::Expect(_)) {
            // On a real clock, what the IUT says to the last frame must be
            // in before the harness acts again, or it lands before or after
            // the next frame as the IUT's speed has it (RFC 9113 §6.7).
            if matches!(step, H2Step::Send(_) | H2Step::App(_))
                && !run.proto.proven
                && run.queue.is_empty()
            {
                sync(run, i)?;
            }
            own_answer(run, i, None)?;
        }
        do_step(run, i, step)?;
        if i + 1 == run.proto.steps && !run.proto.proven {
            // The end of the trace: nothing more may come.
            sync(run, i)?;
            own_answer(run, i, None)?;
        }
        Ok(())
    }

    fn finish(run: &mut Run<Self>, step: usize) -> Result<(), Verdict> {
        if run.proto.over {
            return after_defence(run, step);
        }
        run.quiet(step)
    }

    fn rfc(&self) -> &'static str {
        self.last
    }

    fn close(&mut self) {
        self.target.close();
    }
}

/// On a real clock, the harness's PING and its ACK: everything the IUT
/// emits in answer to what it was sent is queued after. Not where a PING
/// would itself be an error (before the harness's SETTINGS, inside a
/// header block), nor once the IUT closed the connection.
fn sync(run: &mut Run<H2<'_>>, step: usize) -> Result<(), Verdict> {
    let h = &mut run.proto;
    if !matches!(h.target.clock(), Clock::Real { .. }) || !h.settings_sent || h.header_block_open {
        return Ok(());
    }
    // Two round trips: an implementation may write a stream's RST_STREAM
    // in the same turn as, and behind, the ACK of a PING it read after the
    // offending frame (the h2 crate does); the second ACK comes after that
    // turn.
    for _ in 0..2 {
        if run.proto.target.closed() || !ping_round(run, step)? {
            break;
        }
    }
    let h = &mut run.proto;
    h.ping = None;
    if h.acked || h.target.closed() {
        h.proven = true;
        return Ok(());
    }
    if h.goaway_seen {
        // After its GOAWAY an IUT may stop reading (RFC 9113 §6.8).
        return Ok(());
    }
    let tolerance = run.tolerance();
    Err(Verdict::Fail {
        step,
        reason: format!(
            "the IUT did not acknowledge the harness's PING within {tolerance:?} (RFC 9113 §6.7: it MUST)"
        ),
        expected: vec!["PING[ACK]".into()],
        got: None,
    })
}

/// One PING of the harness's and its ACK; whether the ACK came.
fn ping_round(run: &mut Run<H2<'_>>, step: usize) -> Result<bool, Verdict> {
    let h = &mut run.proto;
    h.pings = h.pings.wrapping_add(1);
    // Never the trace's own PING payload (`tracewri`).
    let mut payload = *b"tw-sync\0";
    payload[6..].copy_from_slice(&h.pings.to_be_bytes());
    h.ping = Some(payload);
    h.acked = false;
    h.target
        .deliver(&ping_frame(&payload))
        .map_err(|e| target_verdict(step, e))?;
    let deadline = Instant::now() + run.tolerance() + run.slack;
    loop {
        run.poll(step)?;
        if run.proto.acked || run.proto.target.closed() {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let units = run.proto.advance(step, left.min(SLICE))?;
        run.take(units.into_iter().map(|(_, u)| u));
    }
    Ok(run.proto.acked)
}

/// A server that answers requests by itself may have answered a stream
/// the harness opened: the model allows its application to, but the
/// trace does not follow it (unless `any_of` expects that very frame).
fn own_answer(
    run: &mut Run<H2<'_>>,
    i: usize,
    any_of: Option<&[FrameSpec]>,
) -> Result<(), Verdict> {
    if !run.proto.target.autonomous() {
        return Ok(());
    }
    let Some(f) = run.queue.front() else {
        return Ok(());
    };
    // A push is the application's too (RFC 9113 §8.4: on a stream the
    // harness opened, the server may promise while it answers), if what
    // it promises is a stream id a server may open (§5.1.1: even, above
    // every one it promised before).
    let legal_push = f.kind == FrameType::PushPromise
        && f.promised % 2 == 0
        && f.promised != 0
        && run
            .proto
            .answerable
            .iter()
            .all(|&s| s % 2 == 1 || s < f.promised);
    let answer = (matches!(f.kind, FrameType::Headers | FrameType::Data) || legal_push)
        && run.proto.answerable.contains(&f.stream);
    if !answer || any_of.is_some_and(|a| a.iter().any(|p| p.matches(f))) {
        return Ok(());
    }
    let text = f.to_string();
    let stream = f.stream;
    run.line(i, Dir::FromIut, text.clone());
    Err(Verdict::Inconclusive {
        step: i,
        reason: format!(
            "the server's application answered stream {stream} by itself ({text}): the model allows it, this trace does not follow it"
        ),
    })
}

/// Where the trace's SETTINGS expectation names the limit on concurrent
/// streams and the IUT announces its own: the expectation with the IUT's
/// value, or inconclusive where the trace depends on the model's.
fn with_learned_settings(
    run: &mut Run<H2<'_>>,
    i: usize,
    any_of: &[FrameSpec],
) -> Result<Option<Vec<FrameSpec>>, Verdict> {
    let Some(k) = any_of.iter().position(|p| {
        p.kind == FrameType::Settings && !p.ack && p.max_concurrent_streams.is_some()
    }) else {
        return Ok(None);
    };
    if !run.proto.target.autonomous() {
        return Ok(None);
    }
    wait_for_frame(run, i)?;
    let Some(f) = run
        .queue
        .front()
        .filter(|f| f.kind == FrameType::Settings && !f.ack)
    else {
        return Ok(None);
    };
    let announced = f.max_concurrent_streams;
    let wanted = any_of[k].max_concurrent_streams;
    if announced == wanted {
        return Ok(None);
    }
    let says = announced.map_or("no MAX_CONCURRENT_STREAMS (no limit)".to_string(), |m| {
        format!("MAX_CONCURRENT_STREAMS {m}")
    });
    match run.proto.needs {
        Some(Needs::Exactly(m)) => Err(Verdict::Inconclusive {
            step: i,
            reason: format!(
                "the IUT announces {says}; the trace needs {m} (it opens a stream beyond that limit)"
            ),
        }),
        Some(Needs::AtLeast(p)) if announced.is_some_and(|a| a < p) => Err(Verdict::Inconclusive {
            step: i,
            reason: format!("the IUT announces {says}; the trace keeps {p} streams open at once"),
        }),
        _ => {
            let mut v = any_of.to_vec();
            v[k].max_concurrent_streams = announced;
            Ok(Some(v))
        }
    }
}

/// On a real clock, up to the tolerance for the IUT's next frame, unless
/// one is queued or the connection closed; nothing to wait for on a
/// virtual clock (the IUT has said everything it will).
fn wait_for_frame(run: &mut Run<H2<'_>>, i: usize) -> Result<(), Verdict> {
    if !matches!(run.proto.target.clock(), Clock::Real { .. }) {
        return Ok(());
    }
    let deadline = Instant::now() + run.tolerance();
    while run.queue.is_empty() && !run.proto.target.closed() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let units = run.proto.advance(i, left.min(SLICE))?;
        run.take(units.into_iter().map(|(_, u)| u));
    }
    Ok(())
}

/// Carries out step `i`.
fn do_step(run: &mut Run<H2<'_>>, i: usize, step: &H2Step) -> Result<(), Verdict> {
    match step {
        H2Step::App(call) => {
            run.proto.proven = false;
            run.act(i, Dir::Note, call.to_string(), |h| {
                h.last = rfc_of_app(call);
                h.target.app(call)
            })
        }
        H2Step::Send(f) => {
            // A frame above the default SETTINGS_MAX_FRAME_SIZE tests that
            // limit (RFC 9113 §4.2); an IUT that announced a larger one may
            // take it.
            let size = f.len.unwrap_or(0).max(f.length.unwrap_or(0));
            if let Some(m) = run
                .proto
                .iut_max_frame_size
                .filter(|&m| size > DEFAULT_MAX_FRAME_SIZE && m >= size)
            {
                return Err(Verdict::Inconclusive {
                    step: i,
                    reason: format!(
                        "the IUT announces SETTINGS_MAX_FRAME_SIZE {m}; the trace sends {size} octets to exceed the default of {DEFAULT_MAX_FRAME_SIZE}"
                    ),
                });
            }
            let f = &match window_for(run, i, f)? {
                Some(sized) => sized,
                None => f.clone(),
            };
            run.proto.proven = false;
            run.act(i, Dir::ToIut, f.to_string(), |h| {
                h.last = match f.fields {
                    Some(c) => c.rfc(),
                    None => rfc_of_frame(f.kind),
                };
                match f.kind {
                    // After a bad preface the connection is no HTTP/2
                    // one: no PING follows it (RFC 9113 §3.4).
                    FrameType::Settings if !f.ack => h.settings_sent = f.magic.is_none(),
                    // A malformed request must be reset, never answered
                    // (RFC 9113 §8.1.1).
                    FrameType::Headers if h.harness_is_client && !malformed(f.fields) => {
                        h.answerable.insert(f.stream.unwrap_or(0));
                    }
                    FrameType::RstStream => {
                        h.answerable.remove(&f.stream.unwrap_or(0));
                    }
                    _ => {}
                }
                // The codec ends every block but a HEADERS told not to.
                h.header_block_open = match f.kind {
                    FrameType::Headers => f.end_headers == Some(false),
                    FrameType::Continuation | FrameType::PushPromise => false,
                    _ => h.header_block_open,
                };
                // A length the 24-bit field cannot carry is the harness's
                // error, never a truncated frame (RFC 9113 §4.1).
                let mut bytes = h
                    .enc
                    .try_encode(f)
                    .map_err(|e| crate::target::TargetError::Broken(e.to_string()))?;
                // The whole payload of a DATA frame, padding included, is
                // flow-controlled (RFC 9113 §6.1).
                if f.kind == FrameType::Data && bytes.len() > 9 {
                    h.credit
                        .spend(f.stream.unwrap_or(0), (bytes.len() - 9) as i64);
                }
                // The trace's own client preface, then the frame (§3.4).
                if let Some(m) = &f.magic {
                    bytes.splice(0..0, m.bytes());
                }
                h.target.deliver(&bytes)
            })
        }
        H2Step::Flood(fl) => flood(run, i, fl),
        H2Step::Expect(e) => {
            let learned = with_learned_settings(run, i, &e.any_of)?;
            let any_of = learned.as_deref().unwrap_or(&e.any_of);
            // Whether silence is allowed or a frame is due, the PING
            // tells when the IUT has had its say: an expected frame
            // that is not in by then is not coming.
            // Inside a header block the harness left open, no PING may go
            // (RFC 9113 §6.10), so silence cannot be proved on a real
            // clock: an answer already on its way lands before or after
            // the block's next frame as the IUT's speed has it. What came
            // is judged with the next expectation, after that frame.
            if run.proto.defers_pending() && any_of.iter().any(|p| p.kind == FrameType::None) {
                run.line(
                    i,
                    Dir::Note,
                    "silence is not provable inside an open header block: judged with the next expectation".into(),
                );
                return Ok(());
            }
            if run.queue.is_empty() && !run.proto.proven {
                sync(run, i)?;
            }
            own_answer(run, i, Some(any_of))?;
            if any_of.iter().any(|p| p.kind == FrameType::Closed) {
                return expect_or_closed(run, i, any_of);
            }
            run.expect(i, any_of)
        }
        H2Step::State(_) if run.diverged => Ok(()),
        H2Step::State(c) => {
            if let Some(l) = run.transcript.last_mut() {
                l.state = Some(format!("{}: {}", c.stream, c.is));
            }
            // The loader admits only §5.1's names.
            let want: StreamState = c.is.parse().map_err(|e| Verdict::Error {
                step: Some(i),
                reason: format!("{e}"),
            })?;
            match run.settled(i, &want, |h| h.target.stream_state(c.stream))? {
                Some(actual) if actual != want => {
                    run.line(
                        i,
                        Dir::Note,
                        format!("the IUT reports stream {} {actual}", c.stream),
                    );
                    Err(Verdict::Fail {
                        step: i,
                        reason: format!(
                            "stream {} is {actual} at the IUT, {want} in the model",
                            c.stream
                        ),
                        expected: vec![want.to_string()],
                        got: Some(actual.to_string()),
                    })
                }
                _ => Ok(()),
            }
        }
    }
}

/// An expectation that allows the IUT to close the connection (`CLOSED`,
/// RFC 9113 §3.4): on a real clock, what comes first within the tolerance,
/// a frame or the end of the connection; a connection that closed with
/// nothing more said matches `CLOSED`, anything else is judged by the
/// other patterns.
fn expect_or_closed(run: &mut Run<H2<'_>>, i: usize, any_of: &[FrameSpec]) -> Result<(), Verdict> {
    wait_for_frame(run, i)?;
    let k = any_of.iter().position(|p| p.kind == FrameType::Closed);
    match k {
        Some(k) if run.queue.is_empty() && run.proto.target.closed() => {
            run.line(i, Dir::FromIut, "the connection closed".into());
            if k == 0 || i == run.last_action {
                run.diverged |= k != 0;
                return Ok(());
            }
            Err(Verdict::Inconclusive {
                step: i,
                reason: format!(
                    "the IUT closed the connection, which the model allows, but this trace follows {}",
                    any_of[0]
                ),
            })
        }
        _ => {
            let frames: Vec<FrameSpec> = any_of
                .iter()
                .filter(|p| p.kind != FrameType::Closed)
                .cloned()
                .collect();
            run.expect(i, &frames)
        }
    }
}

/// A field block class that breaks a rule of RFC 9113 §8 or RFC 7541:
/// the IUT may not answer the request it carries.
fn malformed(c: Option<FieldClass>) -> bool {
    !matches!(
        c,
        None | Some(
            FieldClass::TableSizeUpdate | FieldClass::TeTrailers | FieldClass::ContentLength
        )
    )
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
        FrameType::Unknown => "RFC 9113 §4.1, §5.5",
        FrameType::None => "RFC 9113",
        FrameType::Closed => "RFC 9113 §3.4",
    }
}

/// Replays one HTTP/2 trace, the IUT announcing what the model assumes
/// ([`H2Settings::MODEL`]).
pub fn replay_h2(trace: &H2Trace, target: &mut dyn H2Target) -> TraceResult {
    replay_h2_with(trace, target, &H2Settings::MODEL)
}

/// Replays one HTTP/2 trace, the IUT opened with `settings`.
pub fn replay_h2_with(
    trace: &H2Trace,
    target: &mut dyn H2Target,
    settings: &H2Settings,
) -> TraceResult {
    let settings = &settings.for_trace(trace);
    if let Err(e) = target.open(trace.iut, settings) {
        return TraceResult::without_steps(&trace.id, &trace.covers, target_verdict(0, e));
    }
    let harness_is_client = trace.iut == Role::Server;
    let mut enc = Encoder::new(harness_is_client);
    // Looking ahead: where the trace has a server IUT push on a stream, a
    // server that pushes with its answer to some path is asked that path
    // there (RFC 9113 §8.4).
    let push_streams: Vec<u32> = trace
        .steps
        .iter()
        .filter_map(|s| match s {
            H2Step::App(H2App::Push { stream }) => Some(*stream),
            _ => None,
        })
        .collect();
    if harness_is_client && !push_streams.is_empty() {
        if let Some(path) = target.push_requests(&push_streams) {
            for &s in &push_streams {
                enc.set_path(s, &path);
            }
        }
    }
    let h2 = H2 {
        target,
        enc,
        harness_is_client,
        buf: Vec::new(),
        want_preface: !harness_is_client,
        last: "RFC 9113 §3.4",
        proven: false,
        ping: None,
        acked: false,
        pings: 0,
        settings_sent: false,
        header_block_open: false,
        goaway_seen: false,
        needs: concurrency_needs(&trace.steps, trace.iut),
        answerable: BTreeSet::new(),
        steps: trace.steps.len(),
        iut_max_frame_size: None,
        iut_settings_seen: false,
        own_preface: trace
            .steps
            .iter()
            .find_map(|s| match s {
                H2Step::Send(f) => Some(f.magic.is_some()),
                _ => None,
            })
            .unwrap_or(false),
        credit: Credit::new(),
        blocks: BlockReader::new(harness_is_client),
        over: false,
        iut_goaway_last: None,
        iut_reset: BTreeSet::new(),
    };
    drive(h2, &trace.id, &trace.covers, &trace.steps, None)
}

// ------------------------------------------------ flow control and floods

/// A DATA the harness sends, held to its send windows (RFC 9113 §6.9.1):
/// `Some` with the length worked out for a frame `beyond` a window; an
/// error where the IUT gave no window back for a plain one, or where the
/// IUT's windows cannot be overrun by one frame.
fn window_for(
    run: &mut Run<H2<'_>>,
    i: usize,
    f: &FrameSpec,
) -> Result<Option<FrameSpec>, Verdict> {
    if f.kind != FrameType::Data {
        return Ok(None);
    }
    let id = f.stream.unwrap_or(0);
    let c = &run.proto.credit;
    let (stream, conn) = (c.stream(id), c.connection);
    let Some(w) = f.beyond else {
        let pad = f.pad.map_or(0, |p| 1 + i64::from(p)) + i64::from(f.bad_pad);
        let need = i64::from(f.len.unwrap_or(0)) + pad;
        if need == 0 || id == 0 || need <= stream.min(conn) {
            return Ok(None);
        }
        let (which, left) = if stream < conn {
            (format!("stream {id}'s"), stream)
        } else {
            ("the connection's".to_string(), conn)
        };
        let announced = run.proto.credit.initial;
        return Err(Verdict::Fail {
            step: i,
            reason: format!(
                "the IUT gave no window back: {which} window has {left} octets left for the harness's {need} (RFC 9113 §6.9.1: the receiver sends WINDOW_UPDATE as it consumes data; the IUT announced SETTINGS_INITIAL_WINDOW_SIZE {announced})"
            ),
            expected: vec![format!("WINDOW_UPDATE[{}]", if stream < conn { id } else { 0 })],
            got: None,
        });
    };
    let (len, other, other_name) = match w {
        Window::Stream => (stream + 1, conn, "connection"),
        Window::Connection => (conn + 1, stream, "stream"),
    };
    let max = i64::from(
        run.proto
            .iut_max_frame_size
            .unwrap_or(DEFAULT_MAX_FRAME_SIZE),
    );
    if len > max {
        return Err(Verdict::Inconclusive {
            step: i,
            reason: format!(
                "the IUT's window has {} octets and it takes frames of {max}: one frame cannot overrun it, and across frames its own WINDOW_UPDATEs may come between",
                len - 1
            ),
        });
    }
    if len > other {
        return Err(Verdict::Inconclusive {
            step: i,
            reason: format!(
                "a frame of {len} octets would overrun the {other_name} window ({other}) too"
            ),
        });
    }
    Ok(Some(FrameSpec {
        len: Some(len.max(1) as u32),
        beyond: None,
        ..f.clone()
    }))
}

fn rfc_of_flood(fl: &Flood) -> &'static str {
    use crate::h2::Attack;
    match fl.attack {
        Attack::RapidReset => "RFC 9113 §10.5, §5.1.2",
        Attack::ContinuationFlood => "RFC 9113 §10.5, §10.5.1, §6.10",
        Attack::SettingsFlood => "RFC 9113 §10.5, §6.5.3",
        Attack::PingFlood => "RFC 9113 §10.5, §6.7",
        Attack::HpackBomb => "RFC 9113 §10.5.1",
    }
}

/// Judges what the IUT sent during a flood, after `sent` rounds: a frame
/// of `stops` ends it (returned), `answers` answer rounds, anything else
/// fails.
fn judge_flood(
    run: &mut Run<H2<'_>>,
    i: usize,
    fl: &Flood,
    answered: &mut u64,
    sent: u64,
) -> Result<Option<String>, Verdict> {
    while let Some(f) = run.queue.pop_front() {
        run.proto.note_own(&f);
        let text = f.to_string();
        if fl.stops.iter().any(|p| p.matches(&f)) {
            run.line(i, Dir::FromIut, text.clone());
            return Ok(Some(text));
        }
        if fl.answers.iter().any(|p| p.matches(&f)) {
            *answered += 1;
            if fl.every_round && *answered > sent {
                run.line(i, Dir::FromIut, text.clone());
                return Err(Verdict::Fail {
                    step: i,
                    reason: format!("{answered} answers to {sent} rounds of the {}", fl.attack),
                    expected: fl.answers.iter().map(|p| p.to_string()).collect(),
                    got: Some(text),
                });
            }
            continue;
        }
        run.line(i, Dir::FromIut, text.clone());
        // An answer to a request of the flood: whether it took the request
        // or refused it (431, RFC 9113 §10.5.1) is in a header block the
        // harness does not decode (a server's own answer; or a stack's own
        // 431, which the h2 crate sends).
        if f.kind == FrameType::Headers && (fl.must_stop || run.proto.target.autonomous()) {
            return Err(Verdict::Inconclusive {
                step: i,
                reason: format!(
                    "the server answered stream {} during the {} ({text}): whether it refused the request (431) is not told without decoding its header block",
                    f.stream, fl.attack
                ),
            });
        }
        let mut expected: Vec<String> = fl.stops.iter().map(|p| p.to_string()).collect();
        expected.extend(fl.answers.iter().map(|p| p.to_string()));
        return Err(Verdict::Fail {
            step: i,
            reason: format!(
                "the IUT sent a frame no defence against the {} allows",
                fl.attack
            ),
            expected,
            got: Some(text),
        });
    }
    Ok(None)
}

/// A flood step (see [`Flood`]): the rounds, each judged as it is
/// answered; then, where nothing stopped it, the IUT must answer a PING
/// (and, with `must_stop`, must have stopped it).
fn flood(run: &mut Run<H2<'_>>, i: usize, fl: &Flood) -> Result<(), Verdict> {
    run.quiet(i)?;
    run.proto.proven = false;
    run.proto.last = rfc_of_flood(fl);
    run.line(i, Dir::ToIut, fl.to_string());
    let mut answered = 0u64;
    let mut stop = None;
    let mut sent = 0u64;
    for r in 0..fl.rounds {
        if run.proto.target.closed() {
            stop = Some("the IUT closed the connection".to_string());
            break;
        }
        let bytes = run.proto.enc.flood_round(fl.attack, r);
        let delivered = run.proto.target.deliver(&bytes);
        sent += 1;
        run.poll(i)?;
        if let Some(s) = judge_flood(run, i, fl, &mut answered, sent)? {
            stop = Some(s);
            break;
        }
        match delivered {
            Ok(()) => {}
            Err(e @ TargetError::Unsupported(_)) => return Err(target_verdict(i, e)),
            Err(e) if run.proto.target.closed() => {
                stop = Some(format!("the IUT closed the connection ({e})"));
                break;
            }
            Err(e) => {
                return Err(Verdict::Fail {
                    step: i,
                    reason: format!(
                        "the IUT stopped reading during the {} after {sent} rounds: {e}",
                        fl.attack
                    ),
                    expected: vec!["GOAWAY, a closed connection, or reading on".into()],
                    got: None,
                })
            }
        }
    }
    if stop.is_none() {
        stop = after_flood(run, i, fl, &mut answered, sent)?;
    }
    run.proto.proven = true;
    if let Some(how) = stop {
        // The IUT defended itself: the connection is over, and so is the
        // trace's path.
        run.line(
            i,
            Dir::Note,
            format!(
                "the IUT stopped the {} after {sent} rounds: {how}; the connection is over for judging",
                fl.attack
            ),
        );
        run.diverged = true;
        run.proto.over = true;
        return after_defence(run, i);
    }
    if fl.must_stop {
        return Err(Verdict::Fail {
            step: i,
            reason: format!(
                "the IUT took all {sent} rounds of the {} without a reaction: unbounded acceptance",
                fl.attack
            ),
            expected: fl.stops.iter().map(|p| p.to_string()).collect(),
            got: None,
        });
    }
    if fl.every_round && answered != sent {
        return Err(Verdict::Fail {
            step: i,
            reason: format!(
                "the IUT answered {answered} of {sent} rounds of the {}, and did not stop it",
                fl.attack
            ),
            expected: fl.answers.iter().map(|p| p.to_string()).collect(),
            got: None,
        });
    }
    Ok(())
}

/// After the last round: what the IUT still says, and whether it still
/// answers a PING (not inside a header block the flood left open, RFC
/// 9113 §6.10: there it has the clock's tolerance to react). `Some` where
/// it stopped the flood.
fn after_flood(
    run: &mut Run<H2<'_>>,
    i: usize,
    fl: &Flood,
    answered: &mut u64,
    sent: u64,
) -> Result<Option<String>, Verdict> {
    if fl.attack.leaves_block_open() {
        let deadline = Instant::now() + run.tolerance();
        loop {
            run.poll(i)?;
            if let Some(s) = judge_flood(run, i, fl, answered, sent)? {
                return Ok(Some(s));
            }
            if run.proto.target.closed() {
                return Ok(Some("the IUT closed the connection".into()));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let units = run.proto.advance(i, left.min(SLICE))?;
            run.take(units.into_iter().map(|(_, u)| u));
        }
    }
    // Two round trips on a real clock, as `sync`; one in process.
    let rounds = if matches!(run.proto.clock(), Clock::Real { .. }) {
        2
    } else {
        1
    };
    let mut acked = false;
    for _ in 0..rounds {
        if run.proto.target.closed() {
            break;
        }
        acked = ping_round(run, i)?;
        if let Some(s) = judge_flood(run, i, fl, answered, sent)? {
            return Ok(Some(s));
        }
        if !acked {
            break;
        }
    }
    run.proto.ping = None;
    if run.proto.target.closed() {
        return Ok(Some("the IUT closed the connection".into()));
    }
    if !acked {
        return Err(Verdict::Fail {
            step: i,
            reason: format!(
                "after {sent} rounds of the {} the IUT neither stopped it nor answers a PING (RFC 9113 §6.7)",
                fl.attack
            ),
            expected: vec!["PING[ACK]".into(), "GOAWAY".into()],
            got: None,
        });
    }
    Ok(None)
}

// ------------------------------------------------ after the IUT's defence

impl H2<'_> {
    /// A frame of the IUT's, in the order it sent them: what it says of
    /// its own streams.
    fn note_own(&mut self, f: &Frame) {
        match f.kind {
            FrameType::Goaway => {
                let last = self
                    .iut_goaway_last
                    .map_or(f.last_stream, |l| l.min(f.last_stream));
                self.iut_goaway_last = Some(last);
            }
            FrameType::RstStream => {
                self.iut_reset.insert(f.stream);
            }
            _ => {}
        }
    }

    /// Whether the harness opened `stream` (RFC 9113 §5.1.1: a client's
    /// are odd, a server's even).
    fn harness_opened(&self, stream: u32) -> bool {
        stream != 0 && (stream % 2 == 1) == self.harness_is_client
    }

    /// What makes `f` a violation by itself, whatever the trace: a rule
    /// broken against what the IUT itself said before it.
    fn own_violation(&self, f: &Frame) -> Option<(String, &'static str, String)> {
        let carries = matches!(
            f.kind,
            FrameType::Headers | FrameType::Data | FrameType::PushPromise
        );
        match self.iut_goaway_last {
            Some(l) if f.kind == FrameType::Goaway && f.last_stream > l => {
                return Some((
                    format!(
                        "the IUT raised the last-stream-id of its GOAWAY from {l} to {} (RFC 9113 §6.8: endpoints MUST NOT increase it, the peer may have retried those requests elsewhere)",
                        f.last_stream
                    ),
                    "RFC 9113 §6.8",
                    format!("GOAWAY[last<={l}]"),
                ))
            }
            Some(l) if carries && self.harness_opened(f.stream) && f.stream > l => {
                return Some((
                    format!(
                        "the IUT acted on stream {} after its GOAWAY named {l} the last stream it might act on (RFC 9113 §6.8)",
                        f.stream
                    ),
                    "RFC 9113 §6.8",
                    format!("nothing on streams above {l}"),
                ))
            }
            _ => {}
        }
        if carries && self.iut_reset.contains(&f.stream) {
            return Some((
                format!(
                    "the IUT sent {f} on stream {}, which it had reset itself (RFC 9113 §5.1: an endpoint MUST NOT send frames other than PRIORITY on a closed stream)",
                    f.stream
                ),
                "RFC 9113 §5.1, §5.4.2",
                "nothing".into(),
            ));
        }
        None
    }
}

/// Once the IUT defended itself against a flood (RFC 9113 §10.5: a GOAWAY,
/// a RST_STREAM, ENHANCE_YOUR_CALM, closing), the connection is over for
/// judging: the trace has nothing more to say about it, and whether the
/// IUT still sends something (a GOAWAY after its RST_STREAM, the answer to
/// a request it took before its GOAWAY) and when depends on its timing.
/// Such frames are shown in the ladder, not judged, except where one
/// breaks a rule by itself against what the IUT said before
/// ([`H2::own_violation`]): an answer above the last-stream-id of its own
/// GOAWAY, a higher last-stream-id, a frame on a stream it reset.
fn after_defence(run: &mut Run<H2<'_>>, i: usize) -> Result<(), Verdict> {
    while let Some(f) = run.queue.pop_front() {
        run.line(i, Dir::FromIut, f.to_string());
        if let Some((reason, rfc, expected)) = run.proto.own_violation(&f) {
            run.proto.last = rfc;
            return Err(Verdict::Fail {
                step: i,
                reason,
                expected: vec![expected],
                got: Some(f.to_string()),
            });
        }
        run.proto.note_own(&f);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers the harness's `n`-th delivery with the given
    /// frames, on a virtual clock.
    struct Scripted {
        script: Vec<(usize, Vec<u8>)>,
        delivered: usize,
        out: Vec<u8>,
    }

    fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut b = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        b.extend([ty, flags]);
        b.extend(stream.to_be_bytes());
        b.extend(payload);
        b
    }

    fn goaway(last: u32) -> Vec<u8> {
        let mut p = last.to_be_bytes().to_vec();
        p.extend(0u32.to_be_bytes());
        frame(7, 0, 0, &p)
    }

    impl H2Target for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }
        fn clock(&self) -> Clock {
            Clock::Virtual
        }
        fn open(&mut self, _: Role, _: &H2Settings) -> Result<(), TargetError> {
            Ok(())
        }
        fn app(&mut self, _: &H2App) -> Result<(), TargetError> {
            Ok(())
        }
        fn deliver(&mut self, _: &[u8]) -> Result<(), TargetError> {
            self.delivered += 1;
            for (n, bytes) in &self.script {
                if *n == self.delivered {
                    self.out.extend(bytes);
                }
            }
            Ok(())
        }
        fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
            Ok(std::mem::take(&mut self.out))
        }
        fn stream_state(&mut self, _: u32) -> Result<Option<StreamState>, TargetError> {
            Ok(None)
        }
        fn close(&mut self) {}
    }

    /// A rapid reset of 10 rounds (HEADERS and RST_STREAM on streams 1,
    /// 3, ...) that the server stops after its third delivery (the preface
    /// is the first), then says `after`.
    fn rapid_reset(after: Vec<u8>) -> Verdict {
        let trace: H2Trace = serde_yaml::from_str(
            "format: tracewright/1\n\
             id: t\n\
             protocol: h2\n\
             iut: server\n\
             profile: rfc9113\n\
             variant: null\n\
             description: d\n\
             covers: []\n\
             steps:\n\
             \x20 - flood: {attack: rapid_reset, rounds: 10, answers: [{type: RST_STREAM, error: REFUSED_STREAM}, {type: HEADERS}, {type: DATA}], stops: [{type: GOAWAY}]}\n",
        )
        .unwrap();
        let mut stop = goaway(3);
        stop.extend(after);
        let mut t = Scripted {
            script: vec![(3, stop)],
            delivered: 0,
            out: Vec::new(),
        };
        replay_h2(&trace, &mut t).verdict
    }

    #[test]
    fn after_a_defence_later_frames_are_shown_not_judged() {
        // The answer to a request taken before the GOAWAY, and a second
        // GOAWAY: legal whenever they come.
        let mut after = frame(1, 0x4, 3, &[0x88]);
        after.extend(goaway(3));
        assert_eq!(rapid_reset(after), Verdict::Pass);
    }

    #[test]
    fn after_a_defence_a_frame_that_breaks_a_rule_by_itself_still_fails() {
        // An answer on a stream above the GOAWAY's last-stream-id (§6.8).
        let v = rapid_reset(frame(1, 0x4, 5, &[0x88]));
        assert!(
            matches!(&v, Verdict::Fail { reason, .. } if reason.contains("stream 5")),
            "{v:?}"
        );
        // A last-stream-id raised (§6.8).
        let v = rapid_reset(goaway(5));
        assert!(
            matches!(&v, Verdict::Fail { reason, .. } if reason.contains("raised")),
            "{v:?}"
        );
        // A frame on a stream the IUT reset itself (§5.1).
        let mut after = frame(3, 0, 1, &7u32.to_be_bytes());
        after.extend(frame(0, 0, 1, b"x"));
        let v = rapid_reset(after);
        assert!(
            matches!(&v, Verdict::Fail { reason, .. } if reason.contains("reset itself")),
            "{v:?}"
        );
    }
}
