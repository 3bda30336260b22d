//! Verdicts as they arrive: the report, the JUnit file and the JSON results
//! of a run are complete for every finished trace at any moment, so Ctrl-C,
//! a killed run or a CI timeout loses nothing already done; and the JSON
//! results of shards, kernels, servers and profiles merge into one report.
//!
//! A run streams into a [`Sink`] installed around it with [`streaming`]: the
//! corpus runners ([`crate::corpus::run`], [`crate::corpus::run_parallel`],
//! also when a target runs its corpus its own way, as the kernel's does)
//! hand each verdict to the sink of the thread that called them, and stop
//! taking traces when it says so. [`Streamer`] is the sink the CLI uses.
//!
//! The JSON results are JSON Lines (one object a line, `type` says which):
//! a `run` line (suite, protocol, target, profile, shard, corpus size,
//! coverage, deviations), one `trace` line per finished trace in the order
//! they finish, and an `end` line when the run ends (`complete: false` after
//! an interruption). Each `trace` line carries what the text report needs,
//! so [`merge`] rebuilds the report of the whole corpus from its shards.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::deviations::{Deviation, Deviations};
use crate::load::LoadError;
use crate::replay::{Dir, LadderLine, TraceResult, Verdict};
use crate::report::Report;
use crate::trace::{Coverage, Protocol, Transition};

// ---------------------------------------------------------------- the sink

/// What a run is, told to its sink before the first verdict.
pub struct RunStart<'a> {
    pub protocol: Protocol,
    pub target: &'a str,
    pub profile: &'a str,
    /// Traces that will be replayed (the files that did not load aside).
    pub traces: usize,
    /// Files that did not load: error verdicts, finished from the start.
    pub errors: &'a [LoadError],
    pub coverage: Option<&'a Coverage>,
}

/// Where a run's verdicts go as they arrive.
pub trait Sink {
    fn start(&mut self, run: &RunStart<'_>);
    /// One finished trace and how long it took.
    fn verdict(&mut self, result: &TraceResult, took: Duration);
    /// The run should take no more traces (the user pressed Ctrl-C).
    fn stopping(&self) -> bool {
        false
    }
}

/// A sink shared between the caller and the runner it is installed for.
pub type SharedSink = Rc<RefCell<dyn Sink>>;

thread_local! {
    static SINK: RefCell<Option<SharedSink>> = const { RefCell::new(None) };
}

/// Runs `f` with `sink` receiving the verdicts of every corpus run made on
/// this thread. Ambient rather than a parameter so that every runner
/// streams, including a target that runs its corpus its own way behind the
/// registry, without each signature in between carrying it.
pub fn streaming<R>(sink: SharedSink, f: impl FnOnce() -> R) -> R {
    let previous = SINK.with(|s| s.borrow_mut().replace(sink));
    let _restore = Reinstall(previous);
    f()
}

/// Runs `f` with this thread's sink set aside: for a caller that replays
/// a corpus in parts and streams the parts' verdicts itself, as one run.
pub fn muted<R>(f: impl FnOnce() -> R) -> R {
    let previous = SINK.with(|s| s.borrow_mut().take());
    let _restore = Reinstall(previous);
    f()
}

/// Puts the sink that was there back, also when `f` unwinds.
struct Reinstall(Option<SharedSink>);

impl Drop for Reinstall {
    fn drop(&mut self) {
        SINK.with(|s| *s.borrow_mut() = self.0.take());
    }
}

fn with_sink(f: impl FnOnce(&mut dyn Sink)) {
    if let Some(sink) = SINK.with(|s| s.borrow().clone()) {
        f(&mut *sink.borrow_mut());
    }
}

/// Tells this thread's sink, if any, what the run is.
pub fn emit_start(run: &RunStart<'_>) {
    with_sink(|s| s.start(run));
}

/// Hands one finished trace to this thread's sink, if any.
pub fn emit(result: &TraceResult, took: Duration) {
    with_sink(|s| s.verdict(result, took));
}

pub(crate) fn stopping() -> bool {
    SINK.with(|s| s.borrow().as_ref().is_some_and(|s| s.borrow().stopping()))
}

/// A flag raised by the first SIGINT or SIGTERM; a second one ends the
/// process at once, as the signal's default would (the files are complete
/// for every finished trace either way).
/// Installed once per process; later calls return the same flag.
pub fn stop_on_signals() -> Arc<AtomicBool> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    static STOP: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    STOP.get_or_init(|| {
        let stop = Arc::new(AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM] {
            // The conditional default first: it sees the flag before this
            // signal raises it, so only a second signal kills.
            let _ = signal_hook::flag::register_conditional_default(sig, stop.clone());
            let _ = signal_hook::flag::register(sig, stop.clone());
        }
        stop
    })
    .clone()
}

// ---------------------------------------------------------------- JSON

/// One line of the JSON results.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Line {
    Run(RunLine),
    Trace(Box<TraceLine>),
    End(EndLine),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunLine {
    /// As `replay` takes it: `tcp`, `tcp-listener`, `h2`.
    pub suite: String,
    pub protocol: Protocol,
    pub target: String,
    pub profile: String,
    /// `K/N`, when the run is one shard of its corpus.
    pub shard: Option<String>,
    /// Traces in this run, files that did not load included.
    pub traces: usize,
    pub coverage: Option<Coverage>,
    pub deviations: Option<JsonDeviations>,
}

/// A deviations list as the JSON carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonDeviations {
    pub file: String,
    pub target: String,
    pub protocol: Protocol,
    pub entries: Vec<JsonDeviation>,
    /// Transitions no passing trace takes, with their reasons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncovered: Vec<crate::deviations::Uncovered>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonDeviation {
    pub id: String,
    pub reason: String,
    pub profile: Option<String>,
    pub kernels: Option<Vec<String>>,
}

impl From<&Deviations> for JsonDeviations {
    fn from(d: &Deviations) -> Self {
        JsonDeviations {
            file: d.file.clone(),
            target: d.target.clone(),
            protocol: d.protocol,
            entries: d
                .entries
                .iter()
                .map(|e| JsonDeviation {
                    id: e.id.clone(),
                    reason: e.reason.clone(),
                    profile: e.profile.clone(),
                    kernels: e.kernels.clone(),
                })
                .collect(),
            uncovered: d.uncovered.clone(),
        }
    }
}

impl From<JsonDeviations> for Deviations {
    fn from(d: JsonDeviations) -> Self {
        Deviations {
            file: d.file,
            target: d.target,
            protocol: d.protocol,
            entries: d
                .entries
                .into_iter()
                .map(|e| Deviation {
                    id: e.id,
                    reason: e.reason,
                    profile: e.profile,
                    kernels: e.kernels,
                })
                .collect(),
            uncovered: d.uncovered,
        }
    }
}

/// One finished trace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TraceLine {
    pub id: String,
    /// `pass`, `fail`, `inconclusive` or `error`.
    pub verdict: String,
    /// As the text report labels it: the verdict, or `DEVIATION` for a
    /// listed failure, `PASS (STALE)` for a listed trace that passes.
    pub label: String,
    pub reason: Option<String>,
    pub duration_ms: f64,
    /// The transitions of the IUT's side the trace covers.
    pub covers: Vec<Transition>,
    /// The step that diverged (from 0).
    pub step: Option<usize>,
    /// For a fail: what the model allows, and what came (null: nothing).
    pub expected: Vec<String>,
    pub got: Option<String>,
    pub rfc: Option<String>,
    /// The ladder: `[step, "to_iut"|"from_iut"|"note", text, state]`.
    pub transcript: Vec<(usize, String, String, Option<String>)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndLine {
    /// Every trace of the run has its verdict.
    pub complete: bool,
    pub pass: usize,
    pub fail: usize,
    pub deviation: usize,
    pub inconclusive: usize,
    pub error: usize,
    pub stale: usize,
}

fn dir_name(d: Dir) -> &'static str {
    match d {
        Dir::ToIut => "to_iut",
        Dir::FromIut => "from_iut",
        Dir::Note => "note",
    }
}

impl TraceLine {
    pub fn new(r: &TraceResult, label: &str, took: Duration) -> TraceLine {
        let (verdict, step, reason, expected, got) = match &r.verdict {
            Verdict::Pass => ("pass", None, None, Vec::new(), None),
            Verdict::Fail {
                step,
                reason,
                expected,
                got,
            } => (
                "fail",
                Some(*step),
                Some(reason),
                expected.clone(),
                got.clone(),
            ),
            Verdict::Inconclusive { step, reason } => {
                ("inconclusive", Some(*step), Some(reason), Vec::new(), None)
            }
            Verdict::Error { step, reason } => ("error", *step, Some(reason), Vec::new(), None),
        };
        TraceLine {
            id: r.id.clone(),
            verdict: verdict.into(),
            label: label.into(),
            reason: reason.cloned(),
            duration_ms: took.as_secs_f64() * 1e3,
            covers: r.covers.clone(),
            step,
            expected,
            got,
            rfc: r.rfc.map(str::to_string),
            transcript: r
                .transcript
                .iter()
                .map(|l| {
                    (
                        l.step,
                        dir_name(l.dir).into(),
                        l.text.clone(),
                        l.state.clone(),
                    )
                })
                .collect(),
        }
    }

    /// The verdict back, as the report renders it.
    pub fn result(&self) -> Result<TraceResult, String> {
        let reason = || self.reason.clone().unwrap_or_default();
        let step = || self.step.ok_or_else(|| format!("{}: no step", self.id));
        let verdict = match self.verdict.as_str() {
            "pass" => Verdict::Pass,
            "fail" => Verdict::Fail {
                step: step()?,
                reason: reason(),
                expected: self.expected.clone(),
                got: self.got.clone(),
            },
            "inconclusive" => Verdict::Inconclusive {
                step: step()?,
                reason: reason(),
            },
            "error" => Verdict::Error {
                step: self.step,
                reason: reason(),
            },
            other => return Err(format!("{}: unknown verdict `{other}`", self.id)),
        };
        let mut transcript = Vec::with_capacity(self.transcript.len());
        for (step, dir, text, state) in &self.transcript {
            let dir = match dir.as_str() {
                "to_iut" => Dir::ToIut,
                "from_iut" => Dir::FromIut,
                "note" => Dir::Note,
                other => return Err(format!("{}: unknown ladder direction `{other}`", self.id)),
            };
            transcript.push(LadderLine {
                step: *step,
                dir,
                text: text.clone(),
                state: state.clone(),
            });
        }
        Ok(TraceResult {
            id: self.id.clone(),
            verdict,
            covers: self.covers.clone(),
            transcript,
            // The report quotes a handful of RFC sections, one string per
            // merged trace at most: leaking keeps `TraceResult` as it is.
            rfc: self.rfc.clone().map(|s| &*Box::leak(s.into_boxed_str())),
        })
    }
}

// ---------------------------------------------------------------- the streamer

/// Where a run writes, and what it writes them for.
#[derive(Clone, Debug, Default)]
pub struct Files {
    pub report: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
}

/// The CLI's sink: after every verdict a line is appended to the JSON
/// results and flushed, and the text report and the JUnit file are
/// rewritten (to a temporary file renamed over the old one, so a reader
/// never sees half a file). Rewriting a whole report takes milliseconds, a
/// trace of an in-process target microseconds: the files are rewritten
/// after a verdict unless the last rewrite was less than [`REWRITE_SHARE`]
/// of the time since, so writing costs at most about a tenth of the run;
/// a target slower than that (a real network, a process, a kernel) gets
/// every verdict written as it comes. [`Streamer::finish`], run at the end
/// and after Ctrl-C, writes them all.
pub struct Streamer {
    files: Files,
    suite: String,
    shard: Option<String>,
    deviations: Option<Deviations>,
    stop: Option<Arc<AtomicBool>>,
    json: Option<File>,
    /// The run so far; its results sorted by id, as a report keeps them.
    report: Option<Report>,
    expected: usize,
    /// When the files were last rewritten and how long it took; whether
    /// verdicts came since.
    last_rewrite: Option<(Instant, Duration)>,
    /// The first error writing a file: the run goes on, the CLI says so.
    pub failed: Option<String>,
}

impl Streamer {
    /// Opens (truncates) the JSON file now, so a path that cannot be
    /// written is refused before anything runs.
    pub fn new(
        files: Files,
        suite: &str,
        shard: Option<String>,
        deviations: Option<Deviations>,
        stop: Option<Arc<AtomicBool>>,
    ) -> std::io::Result<Streamer> {
        let json = match &files.json {
            Some(p) => Some(File::create(p)?),
            None => None,
        };
        Ok(Streamer {
            files,
            suite: suite.into(),
            shard,
            deviations,
            stop,
            json,
            report: None,
            expected: 0,
            last_rewrite: None,
            failed: None,
        })
    }

    /// Whether the user asked the run to stop.
    pub fn interrupted(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
    }

    fn note_error(&mut self, what: &Path, e: std::io::Error) {
        if self.failed.is_none() {
            self.failed = Some(format!("writing {}: {e}", what.display()));
        }
    }

    fn json_line(&mut self, line: &Line) {
        let Some(f) = &mut self.json else { return };
        let mut text = serde_json::to_string(line).expect("a JSON line serializes");
        text.push('\n');
        if let Err(e) = f.write_all(text.as_bytes()).and_then(|()| f.flush()) {
            let p = self.files.json.clone().unwrap_or_default();
            self.note_error(&p, e);
        }
    }

    /// The report and JUnit of `report` written, with `banner` above the
    /// text when the run is not (yet) complete.
    fn rewrite(&mut self, report: &Report, banner: Option<&str>) {
        let began = Instant::now();
        self.rewrite_now(report, banner);
        self.last_rewrite = Some((began, began.elapsed()));
    }

    /// Whether a rewrite now keeps writing within its share of the time.
    fn due(&self) -> bool {
        self.last_rewrite.is_none_or(|(at, took)| {
            at.elapsed().as_secs_f64() * REWRITE_SHARE >= took.as_secs_f64()
        })
    }

    fn rewrite_now(&mut self, report: &Report, banner: Option<&str>) {
        if let Some(p) = self.files.report.clone() {
            let mut text = String::new();
            if let Some(b) = banner {
                text.push_str(b);
                text.push_str("\n\n");
            }
            text.push_str(&report.render());
            if let Err(e) = write_atomically(&p, text.as_bytes()) {
                self.note_error(&p, e);
            }
        }
        if let Some(p) = self.files.junit.clone() {
            if let Err(e) = write_atomically(&p, report.junit_xml().as_bytes()) {
                self.note_error(&p, e);
            }
        }
    }

    fn progress_banner(&self, done: usize) -> String {
        format!(
            "INCOMPLETE: {done} of {} traces done (the run is in progress, or ended before the rest)",
            self.expected
        )
    }

    /// The run ended: `report` (the runner's, deviations applied) is
    /// written as it is, or, if the run was interrupted, with a banner
    /// saying how far it got. The JSON gets its `end` line.
    pub fn finish(&mut self, report: &Report) {
        let done = report.results.len();
        // A signal after the last verdict interrupts nothing.
        let complete = done >= self.expected;
        let banner = (!complete).then(|| {
            format!(
                "INCOMPLETE: interrupted after {done} of {} traces; the verdicts below are those of the finished traces",
                self.expected
            )
        });
        self.rewrite(report, banner.as_deref());
        let c = report.counts();
        self.json_line(&Line::End(EndLine {
            complete,
            pass: c.pass,
            fail: c.fail,
            deviation: c.deviation,
            inconclusive: c.inconclusive,
            error: c.error,
            stale: c.stale,
        }));
    }

    /// Verdicts received so far.
    pub fn done(&self) -> usize {
        self.report.as_ref().map_or(0, |r| r.results.len())
    }

    /// Traces expected in the run (after sharding).
    pub fn expected(&self) -> usize {
        self.expected
    }
}

impl Sink for Streamer {
    fn start(&mut self, run: &RunStart<'_>) {
        let deviations = self.deviations.clone().map(|d| {
            let d = d.for_profile(run.profile);
            // As the registry applies the kernel's list.
            #[cfg(target_os = "linux")]
            let d = if run.target == "linux" {
                d.for_kernel(&crate::linux::kernel_release())
            } else {
                d
            };
            d
        });
        let mut report = Report::assemble(
            &run.protocol.to_string(),
            run.target,
            run.profile,
            Vec::new(),
            run.errors,
            run.coverage.cloned(),
        );
        report.suite = self.suite.clone();
        report.deviations = deviations;
        self.expected = run.traces + run.errors.len();
        self.json_line(&Line::Run(RunLine {
            suite: self.suite.clone(),
            protocol: run.protocol,
            target: run.target.into(),
            profile: run.profile.into(),
            shard: self.shard.clone(),
            traces: self.expected,
            coverage: run.coverage.cloned(),
            deviations: report.deviations.as_ref().map(JsonDeviations::from),
        }));
        let errors: Vec<String> = report
            .results
            .iter()
            .map(|r| {
                let line = TraceLine::new(r, report.label(r), Duration::ZERO);
                serde_json::to_string(&Line::Trace(Box::new(line))).expect("serializes")
            })
            .collect();
        if let Some(f) = &mut self.json {
            for e in errors {
                let _ = writeln!(f, "{e}");
            }
            let _ = f.flush();
        }
        let banner = self.progress_banner(report.results.len());
        self.rewrite(&report, Some(&banner));
        self.report = Some(report);
    }

    fn verdict(&mut self, result: &TraceResult, took: Duration) {
        let Some(mut report) = self.report.take() else {
            return;
        };
        let at = report.results.partition_point(|r| r.id < result.id);
        report.results.insert(at, result.clone());
        let line = TraceLine::new(result, report.label(result), took);
        self.json_line(&Line::Trace(Box::new(line)));
        if self.due() {
            let banner = self.progress_banner(report.results.len());
            self.rewrite(&report, Some(&banner));
        }
        self.report = Some(report);
    }

    fn stopping(&self) -> bool {
        self.interrupted()
    }
}

/// The largest share of a run's time spent rewriting its report and JUnit.
pub const REWRITE_SHARE: f64 = 0.1;

/// Writes `bytes` to a temporary file beside `path` and renames it over
/// `path`: a reader (or a killed run) sees the old file or the new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tracewright-tmp"));
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    drop(f);
    std::fs::rename(&tmp, path)
}

// ---------------------------------------------------------------- shards

/// `K/N`: the K-th of N shards (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub k: usize,
    pub n: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("--shard {0}: expected K/N with 1 <= K <= N (as 2/4)")]
pub struct ShardError(String);

impl std::str::FromStr for Shard {
    type Err = ShardError;
    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let err = || ShardError(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(err)?;
        let (k, n): (usize, usize) = (
            k.trim().parse().map_err(|_| err())?,
            n.trim().parse().map_err(|_| err())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(err());
        }
        Ok(Shard { k, n })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl Shard {
    /// The ids of this shard: all ids sorted, and every N-th from the K-th.
    /// It depends on the ids only, so every machine cuts a corpus alike,
    /// and the shards of one corpus are disjoint and cover it.
    pub fn select<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> std::collections::BTreeSet<String> {
        let mut all: Vec<&str> = ids.into_iter().collect();
        all.sort_unstable();
        all.dedup();
        all.into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.n == self.k - 1)
            .map(|(_, id)| id.to_string())
            .collect()
    }
}

// ---------------------------------------------------------------- merge

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("reading {}: {source}", file.display())]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: not a line of tracewright's JSON results: {why}", file.display())]
    Line {
        file: PathBuf,
        line: usize,
        why: String,
    },
    #[error("{}:{line}: a trace line before any run line", file.display())]
    Orphan { file: PathBuf, line: usize },
    #[error("trace {id} appears twice in the results of {run}")]
    Duplicate { id: String, run: String },
}

/// One run's results, merged: the report, and what is missing from it.
pub struct Merged {
    pub report: Report,
    /// Why the merged report is not the whole corpus (a shard missing, a
    /// run interrupted); empty when it is.
    pub gaps: Vec<String>,
}

#[derive(Default)]
struct Group {
    first: Option<RunLine>,
    results: BTreeMap<String, TraceResult>,
    /// (shard, complete) of each run line seen.
    shards: Vec<(Option<String>, bool)>,
}

/// Reads JSON results and merges the runs of one suite, target and profile
/// (the shards of a corpus, or runs split by hand) into one report each, in
/// the order the files name them first.
pub fn merge(files: &[PathBuf]) -> Result<Vec<Merged>, MergeError> {
    let mut order: Vec<(String, String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String, String), Group> = BTreeMap::new();
    for file in files {
        let read_err = |source| MergeError::Read {
            file: file.clone(),
            source,
        };
        let f = File::open(file).map_err(read_err)?;
        let mut current: Option<(String, String, String)> = None;
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.map_err(read_err)?;
            if line.trim().is_empty() {
                continue;
            }
            let parsed: Line = serde_json::from_str(&line).map_err(|e| MergeError::Line {
                file: file.clone(),
                line: i + 1,
                why: e.to_string(),
            })?;
            match parsed {
                Line::Run(run) => {
                    let key = (run.suite.clone(), run.target.clone(), run.profile.clone());
                    if !groups.contains_key(&key) {
                        order.push(key.clone());
                    }
                    let g = groups.entry(key.clone()).or_default();
                    g.shards.push((run.shard.clone(), false));
                    g.first.get_or_insert(run);
                    current = Some(key);
                }
                Line::Trace(t) => {
                    let key = current.clone().ok_or_else(|| MergeError::Orphan {
                        file: file.clone(),
                        line: i + 1,
                    })?;
                    let r = t.result().map_err(|why| MergeError::Line {
                        file: file.clone(),
                        line: i + 1,
                        why,
                    })?;
                    let g = groups.get_mut(&key).expect("a run line made the group");
                    if g.results.insert(r.id.clone(), r).is_some() {
                        return Err(MergeError::Duplicate {
                            id: t.id.clone(),
                            run: format!("{} against {} (profile {})", key.0, key.1, key.2),
                        });
                    }
                }
                Line::End(end) => {
                    if let Some(g) = current.as_ref().and_then(|k| groups.get_mut(k)) {
                        if let Some(last) = g.shards.last_mut() {
                            last.1 = end.complete;
                        }
                    }
                }
            }
        }
    }
    let mut merged = Vec::new();
    for key in order {
        let g = groups.remove(&key).expect("each key has its group");
        let run = g.first.expect("a group starts with its run line");
        let mut gaps = Vec::new();
        for (shard, complete) in &g.shards {
            if !complete {
                gaps.push(match shard {
                    Some(s) => format!("shard {s} did not complete"),
                    None => "a run did not complete".to_string(),
                });
            }
        }
        let shards: Vec<Shard> = g
            .shards
            .iter()
            .filter_map(|(s, _)| s.as_deref()?.parse().ok())
            .collect();
        if let Some(n) = shards.first().map(|s| s.n) {
            for k in 1..=n {
                if !shards.iter().any(|s| s.k == k && s.n == n) {
                    gaps.push(format!("shard {k}/{n} is missing"));
                }
            }
            if shards.iter().any(|s| s.n != n) {
                gaps.push("shards of different counts (K/N with different N)".into());
            }
        }
        let mut report = Report::assemble(
            &run.protocol.to_string(),
            &run.target,
            &run.profile,
            g.results.into_values().collect(),
            &[],
            run.coverage,
        );
        report.suite = run.suite;
        report.deviations = run.deviations.map(Deviations::from);
        merged.push(Merged { report, gaps });
    }
    Ok(merged)
}

/// Keeps the traces (and the files that did not load) of one shard, and
/// returns the deviations list for the shard's own report: without the
/// entries about traces of other shards only, which would otherwise count
/// as stale here (the JSON keeps the whole list, for [`merge`]).
pub fn shard_corpus(
    corpus: &mut crate::registry::Loaded,
    shard: Shard,
    deviations: Option<Deviations>,
) -> Option<Deviations> {
    use crate::registry::Loaded;
    fn cut<T>(
        traces: &mut Vec<T>,
        errors: &mut Vec<LoadError>,
        id: impl Fn(&T) -> &str,
        shard: Shard,
    ) -> (Vec<String>, Vec<String>) {
        let mut all: Vec<String> = traces.iter().map(|t| id(t).to_string()).collect();
        all.extend(errors.iter().map(LoadError::id));
        let keep = shard.select(all.iter().map(String::as_str));
        traces.retain(|t| keep.contains(id(t)));
        errors.retain(|e| keep.contains(&e.id()));
        all.retain(|i| !keep.contains(i));
        (keep.into_iter().collect(), all)
    }
    let (kept, others) = match corpus {
        Loaded::Tcp(c) => cut(&mut c.traces, &mut c.errors, |t| t.id.as_str(), shard),
        Loaded::H2(c) => cut(&mut c.traces, &mut c.errors, |t| t.id.as_str(), shard),
    };
    deviations.map(|mut d| {
        let entries = std::mem::take(&mut d.entries);
        for e in entries {
            let one = Deviations {
                entries: vec![e.clone()],
                ..d.clone()
            };
            let here = kept.iter().any(|i| one.find(i).is_some());
            let elsewhere = others.iter().any(|i| one.find(i).is_some());
            if here || !elsewhere {
                d.entries.push(e);
            }
        }
        d
    })
}

/// The text of merged runs: one run's report as `replay` writes it; for
/// several, a table of their counts, then each report.
pub fn merged_text(runs: &[Merged]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for m in runs {
        for g in &m.gaps {
            let _ = writeln!(
                out,
                "INCOMPLETE: {} against {} (profile {}): {g}",
                m.report.suite, m.report.target, m.report.profile
            );
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    if let [one] = runs {
        out.push_str(&one.report.render());
        return out;
    }
    let _ = writeln!(out, "tracewright merged report: {} runs", runs.len());
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<14} {:<24} {:<10} {:>6} {:>6} {:>6} {:>9} {:>12} {:>6} {:>6}",
        "suite",
        "target",
        "profile",
        "traces",
        "pass",
        "fail",
        "deviation",
        "inconclusive",
        "error",
        "stale"
    );
    for m in runs {
        let r = &m.report;
        let c = r.counts();
        let _ = writeln!(
            out,
            "{:<14} {:<24} {:<10} {:>6} {:>6} {:>6} {:>9} {:>12} {:>6} {:>6}",
            r.suite,
            crate::report::clean(&r.target),
            r.profile,
            r.results.len(),
            c.pass,
            c.fail,
            c.deviation,
            c.inconclusive,
            c.error,
            c.stale
        );
    }
    for m in runs {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", "=".repeat(78));
        out.push_str(&m.report.render());
    }
    out
}

/// The JUnit of merged runs: one `testsuite` per run, in `testsuites`
/// when there are several.
pub fn merged_junit(runs: &[Merged]) -> String {
    if let [one] = runs {
        return one.report.junit_xml();
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for m in runs {
        let xml = m.report.junit_xml();
        let body = xml.split_once('\n').map_or(xml.as_str(), |(_, b)| b);
        out.push_str(body);
    }
    out.push_str("</testsuites>\n");
    out
}
