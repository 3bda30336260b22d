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

use std::collections::VecDeque;
use std::time::Duration;

use super::codec::{decode_frames, Encoder, PREFACE};
use super::target::{H2Settings, H2Target, StreamState};
use crate::h2::{Frame, FrameSpec, FrameType, H2App, H2Step, H2Trace};
use crate::replay::{drive, target_verdict, Dir, Plugin, Run, TraceResult, Verdict};
use crate::target::Clock;
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
}

impl H2<'_> {
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
        Ok(decode_frames(&mut self.buf))
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
        // How a receiver gives window back is its own (RFC 9113 §6.9.1).
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

    fn is_silence(p: &FrameSpec) -> bool {
        p.kind == FrameType::None
    }

    fn is_check(step: &H2Step) -> bool {
        matches!(step, H2Step::State(_))
    }

    /// A server IUT is sent the client preface first (RFC 9113 §3.4); a
    /// client IUT has sent its own, and either has sent its SETTINGS.
    fn start(run: &mut Run<Self>) -> Result<(), Verdict> {
        if run.proto.harness_is_client {
            run.proto
                .target
                .deliver(PREFACE)
                .map_err(|e| target_verdict(0, e))?;
        }
        run.poll(0)
    }

    fn step(run: &mut Run<Self>, i: usize, step: &H2Step) -> Result<(), Verdict> {
        match step {
            H2Step::App(call) => run.act(i, Dir::Note, call.to_string(), |h| {
                h.last = rfc_of_app(call);
                h.target.app(call)
            }),
            H2Step::Send(f) => run.act(i, Dir::ToIut, f.to_string(), |h| {
                h.last = rfc_of_frame(f.kind);
                let bytes = h.enc.encode(f);
                h.target.deliver(&bytes)
            }),
            H2Step::Expect(e) => run.expect(i, &e.any_of),
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

    fn rfc(&self) -> &'static str {
        self.last
    }

    fn close(&mut self) {
        self.target.close();
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
    if let Err(e) = target.open(trace.iut, settings) {
        return TraceResult::without_steps(&trace.id, &trace.covers, target_verdict(0, e));
    }
    let harness_is_client = trace.iut == Role::Server;
    let h2 = H2 {
        target,
        enc: Encoder::new(harness_is_client),
        harness_is_client,
        buf: Vec::new(),
        want_preface: !harness_is_client,
        last: "RFC 9113 §3.4",
    };
    drive(h2, &trace.id, &trace.covers, &trace.steps, None)
}
