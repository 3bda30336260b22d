//! Running a corpus, for every protocol: each trace through one target
//! (with a capture per trace if asked), a panic in the target costing that
//! trace only, and the verdicts assembled into one [`Report`] together with
//! the files that did not load.
//!
//! A protocol plugs in through [`CorpusTarget`], which pairs its target with
//! its replay; [`run`] is the serial runner, [`run_parallel`] the one for
//! targets on a real clock that run many traces at once (the kernel's,
//! `crate::linux`). Both hand each verdict, as it arrives, to the sink
//! installed around them ([`results::streaming`]), and stop taking traces
//! when it says so.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::h2::{replay_h2_with, H2Corpus, H2Settings, H2Target, H2Trace};
use crate::load::{Corpus, LoadError};
use crate::profile::Profile;
use crate::replay::{replay, TraceResult};
use crate::report::Report;
use crate::results;
use crate::target::{Target, TargetError};
use crate::trace::{Coverage, Protocol, Trace, Transition};

/// What the runner needs of a trace of any protocol.
pub trait Traced {
    fn id(&self) -> &str;
    fn covers(&self) -> &[Transition];
}

impl Traced for Trace {
    fn id(&self) -> &str {
        &self.id
    }
    fn covers(&self) -> &[Transition] {
        &self.covers
    }
}

impl Traced for H2Trace {
    fn id(&self) -> &str {
        &self.id
    }
    fn covers(&self) -> &[Transition] {
        &self.covers
    }
}

/// A loaded corpus of any protocol, as the runner reads it.
pub struct Loaded<'a, T> {
    pub traces: &'a [T],
    /// Files that did not load: each becomes an error verdict.
    pub errors: &'a [LoadError],
    pub coverage: Option<&'a Coverage>,
}

impl<'a> From<&'a Corpus> for Loaded<'a, Trace> {
    fn from(c: &'a Corpus) -> Self {
        Loaded {
            traces: &c.traces,
            errors: &c.errors,
            coverage: c.coverage.as_ref(),
        }
    }
}

impl<'a> From<&'a H2Corpus> for Loaded<'a, H2Trace> {
    fn from(c: &'a H2Corpus) -> Self {
        Loaded {
            traces: &c.traces,
            errors: &c.errors,
            coverage: c.coverage.as_ref(),
        }
    }
}

/// A target of some protocol with what its replay needs.
pub trait CorpusTarget<T> {
    /// The target's name in the report.
    fn name(&self) -> String;
    /// As the protocol's target trait's `capture`.
    fn capture(&mut self, path: Option<&Path>) -> Result<(), TargetError>;
    /// One trace, replayed.
    fn replay(&mut self, trace: &T) -> TraceResult;
}

/// A TCP target with the profile its traces resolve against.
pub struct TcpRun<'a> {
    pub target: &'a mut dyn Target,
    pub profile: &'a Profile,
}

impl CorpusTarget<Trace> for TcpRun<'_> {
    fn name(&self) -> String {
        self.target.name().to_string()
    }
    fn capture(&mut self, path: Option<&Path>) -> Result<(), TargetError> {
        self.target.capture(path)
    }
    fn replay(&mut self, trace: &Trace) -> TraceResult {
        replay(trace, self.target, self.profile)
    }
}

/// An HTTP/2 target with the settings its IUT is opened with.
pub struct H2Run<'a> {
    pub target: &'a mut dyn H2Target,
    pub settings: H2Settings,
}

impl CorpusTarget<H2Trace> for H2Run<'_> {
    fn name(&self) -> String {
        self.target.name().to_string()
    }
    fn capture(&mut self, path: Option<&Path>) -> Result<(), TargetError> {
        self.target.capture(path)
    }
    fn replay(&mut self, trace: &H2Trace) -> TraceResult {
        replay_h2_with(trace, self.target, &self.settings)
    }
}

/// `replay`'s result, or an error verdict for the trace if the target
/// panicked: a panic inside a target costs one trace, never the run or its
/// report.
pub fn guarded<T: Traced>(
    trace: &T,
    target: &str,
    replay: impl FnOnce() -> TraceResult,
) -> TraceResult {
    catch_unwind(AssertUnwindSafe(replay)).unwrap_or_else(|payload| {
        // The panic's own words, so the report says where it broke.
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        let why = match message {
            Some(m) => format!("the {target} target panicked: {m}"),
            None => format!("the {target} target panicked"),
        };
        TraceResult::error(trace.id(), trace.covers(), why)
    })
}

/// Replays every trace of a corpus in order; with `capture`, one pcap per
/// trace in that directory (`ID.pcap`), through the target's `capture`.
pub fn run<T: Traced>(
    protocol: Protocol,
    profile: &str,
    corpus: Loaded<'_, T>,
    target: &mut dyn CorpusTarget<T>,
    capture: Option<&Path>,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Report {
    let name = target.name();
    let total = corpus.traces.len();
    let mut results = Vec::with_capacity(total + corpus.errors.len());
    start_streaming(protocol, &name, profile, &corpus);
    for (i, trace) in corpus.traces.iter().enumerate() {
        if results::stopping() {
            break;
        }
        let began = Instant::now();
        let captured = match capture {
            Some(dir) => target.capture(Some(&dir.join(format!("{}.pcap", trace.id())))),
            None => Ok(()),
        };
        results.push(match captured {
            Ok(()) => guarded(trace, &name, || target.replay(trace)),
            Err(TargetError::Unsupported(w) | TargetError::Broken(w)) => {
                TraceResult::error(trace.id(), trace.covers(), format!("capture: {w}"))
            }
        });
        results::emit(results.last().expect("just pushed"), began.elapsed());
        on_progress(i + 1, total);
    }
    if capture.is_some() {
        let _ = target.capture(None);
    }
    Report::assemble(
        &protocol.to_string(),
        &name,
        profile,
        results,
        corpus.errors,
        corpus.coverage.cloned(),
    )
}

/// Tells the sink of this thread, if any, what the run is
/// ([`results::streaming`]).
fn start_streaming<T>(protocol: Protocol, target: &str, profile: &str, corpus: &Loaded<'_, T>) {
    results::emit_start(&results::RunStart {
        protocol,
        target,
        profile,
        traces: corpus.traces.len(),
        errors: corpus.errors,
        coverage: corpus.coverage,
    });
}

/// A worker's replay of one trace after another, with a target of its own.
pub type Worker<'a, T> = Box<dyn FnMut(&T) -> TraceResult + 'a>;

/// Replays every trace of a corpus on `workers` threads at once, each with
/// a target of its own that `worker` makes on that thread (so a target may
/// be bound to its thread, as a network namespace is); traces start in
/// `order` (indices into the corpus), and progress is reported as they
/// finish.
#[allow(clippy::too_many_arguments)]
pub fn run_parallel<'a, T: Traced + Sync>(
    protocol: Protocol,
    target: &str,
    profile: &str,
    corpus: Loaded<'_, T>,
    workers: usize,
    order: &[usize],
    worker: &(dyn Fn() -> Worker<'a, T> + Sync),
    on_progress: &mut dyn FnMut(usize, usize),
) -> Report {
    let total = corpus.traces.len();
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(TraceResult, Duration)>();
    let mut results = Vec::with_capacity(total + corpus.errors.len());
    start_streaming(protocol, target, profile, &corpus);
    std::thread::scope(|s| {
        for _ in 0..workers.min(total) {
            let (tx, next, traces) = (tx.clone(), &next, corpus.traces);
            s.spawn(move || {
                let mut replay = worker();
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let trace = &traces[i];
                    let began = Instant::now();
                    let r = guarded(trace, target, || replay(trace));
                    if tx.send((r, began.elapsed())).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (r, took) in rx {
            results::emit(&r, took);
            results.push(r);
            on_progress(results.len(), total);
            if results::stopping() {
                // Workers finish the traces they hold and take no more.
                next.store(order.len(), Ordering::SeqCst);
            }
        }
    });
    Report::assemble(
        &protocol.to_string(),
        target,
        profile,
        results,
        corpus.errors,
        corpus.coverage.cloned(),
    )
}

/// Replays every trace of a TCP corpus; files that did not load become
/// error verdicts, so nothing is lost from the report.
pub fn run_corpus(
    corpus: &Corpus,
    target: &mut dyn Target,
    profile: &Profile,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Report {
    run_corpus_capturing(corpus, target, profile, None, on_progress)
}

/// As [`run_corpus`], and with `capture`, one pcap per trace in that
/// directory (`ID.pcap`), through [`Target::capture`].
pub fn run_corpus_capturing(
    corpus: &Corpus,
    target: &mut dyn Target,
    profile: &Profile,
    capture: Option<&Path>,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Report {
    run(
        Protocol::Tcp,
        &profile.name,
        corpus.into(),
        &mut TcpRun { target, profile },
        capture,
        on_progress,
    )
}

/// Replays an HTTP/2 corpus, the IUT announcing what the model assumes;
/// files that did not load become error verdicts. The profile is the one
/// the corpus was generated for.
pub fn run_h2_corpus(
    corpus: &H2Corpus,
    target: &mut dyn H2Target,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Report {
    let profile = corpus
        .coverage
        .as_ref()
        .map_or("rfc9113".to_string(), |c| c.profile.clone());
    run(
        Protocol::H2,
        &profile,
        corpus.into(),
        &mut H2Run {
            target,
            settings: H2Settings::MODEL,
        },
        None,
        on_progress,
    )
}
