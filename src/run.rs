//! How the CLI runs a corpus beyond the registry's one call: a subset of
//! its traces (`--only`), several targets at once (`--jobs`), and a stop at
//! the first failure (`--fail-fast`). Without them a replay is
//! `registry::replay` as it always was.
//!
//! With `--jobs N` a serial target runs on N threads, each with a target of
//! its own opened from the registry (in-process stacks on a virtual clock
//! give the same verdicts in any order); the kernel runs N namespaces at
//! once. With `--fail-fast` traces run one at a time per thread (the
//! kernel: N at a time), and none starts after a trace fails or errs (a
//! documented deviation is not a failure).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use tracewright_conformance::deviations::Deviations;
use tracewright_conformance::load::Corpus;
use tracewright_conformance::profile::Profile;
use tracewright_conformance::registry::{self, Loaded, Opened, Suite, TcpRunner};
use tracewright_conformance::replay::TraceResult;
use tracewright_conformance::report::Report;
use tracewright_conformance::results;
use tracewright_conformance::trace::Protocol;

/// `--only`, `--jobs`, `--fail-fast`.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Trace-id patterns: a glob (`*`, `?`) matching the whole id, or else a
    /// substring of it; a trace runs if any pattern matches.
    pub only: Vec<String>,
    pub jobs: Option<usize>,
    pub fail_fast: bool,
}

/// `pattern` against a trace id: a glob over the whole id when it has `*`
/// or `?`, a substring otherwise.
pub fn matches(pattern: &str, id: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return id.contains(pattern);
    }
    fn glob(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
            (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
            _ => false,
        }
    }
    glob(pattern.as_bytes(), id.as_bytes())
}

/// The ids of a loaded corpus, in its order.
fn ids(corpus: &Loaded) -> Vec<&str> {
    match corpus {
        Loaded::Tcp(c) => c.traces.iter().map(|t| t.id.as_str()).collect(),
        Loaded::H2(c) => c.traces.iter().map(|t| t.id.as_str()).collect(),
    }
}

/// The traces at `idx`, with the corpus's coverage and none of its load
/// errors (those are the whole run's, added once).
fn subset(corpus: &Loaded, idx: &[usize]) -> Loaded {
    match corpus {
        Loaded::Tcp(c) => Loaded::Tcp(Corpus {
            traces: idx.iter().map(|&i| c.traces[i].clone()).collect(),
            errors: Vec::new(),
            coverage: c.coverage.clone(),
        }),
        Loaded::H2(c) => Loaded::H2(tracewright_conformance::h2::H2Corpus {
            traces: idx.iter().map(|&i| c.traces[i].clone()).collect(),
            errors: Vec::new(),
            coverage: c.coverage.clone(),
        }),
    }
}

/// `--only`: the corpus narrowed to the traces a pattern matches (and the
/// files that did not load whose name does). None matching is an error.
pub fn only(corpus: Loaded, patterns: &[String], dir: &Path) -> Result<Loaded> {
    if patterns.is_empty() {
        return Ok(corpus);
    }
    let keep = |id: &str| patterns.iter().any(|p| matches(p, id));
    let idx: Vec<usize> = ids(&corpus)
        .iter()
        .enumerate()
        .filter(|(_, id)| keep(id))
        .map(|(i, _)| i)
        .collect();
    let mut narrowed = subset(&corpus, &idx);
    let errors = match &corpus {
        Loaded::Tcp(c) => &c.errors,
        Loaded::H2(c) => &c.errors,
    };
    let errors: Vec<_> = errors.iter().filter(|e| keep(&e.id())).cloned().collect();
    if idx.is_empty() && errors.is_empty() {
        bail!(
            "--only {}: no trace of {} matches (a pattern with * or ? is a glob over the whole id, any other a part of it)",
            patterns.join(" --only "),
            dir.display()
        );
    }
    match &mut narrowed {
        Loaded::Tcp(c) => c.errors = errors,
        Loaded::H2(c) => c.errors = errors,
    }
    Ok(narrowed)
}

/// Whether a report has a trace that fails the run.
fn failed(report: &Report) -> bool {
    let c = report.counts();
    c.fail + c.error > 0
}

/// Replays `corpus` as `sel` asks; `spec` and `suite` open more targets
/// for `--jobs`. Returns the report and how many traces were not run
/// (`--fail-fast`).
#[allow(clippy::too_many_arguments)]
pub fn replay(
    corpus: &Loaded,
    spec: &str,
    suite: Suite,
    target: &mut Opened,
    profile: &Profile,
    deviations: Option<Deviations>,
    capture: Option<&Path>,
    sel: &Selection,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Result<(Report, usize)> {
    let serial = !matches!(target, Opened::Tcp(TcpRunner::Corpus { .. }));
    let jobs = sel.jobs.unwrap_or(1).max(1);
    if let (Opened::Tcp(TcpRunner::Corpus { .. }), Some(n)) = (&*target, sel.jobs) {
        #[cfg(target_os = "linux")]
        tracewright_conformance::linux::JOBS.store(n.max(1), Ordering::Relaxed);
        let _ = n;
    }
    if !sel.fail_fast && (!serial || jobs == 1) {
        let report = registry::replay(corpus, target, profile, deviations, capture, on_progress)?;
        return Ok((only_listed_that_ran(report, sel), 0));
    }
    let total = corpus.len();
    // The parts below are replayed with the streaming sink set aside
    // (`results::muted`); their verdicts stream from this thread as one run.
    let (protocol, errors, coverage) = match corpus {
        Loaded::Tcp(c) => (Protocol::Tcp, &c.errors[..], c.coverage.as_ref()),
        Loaded::H2(c) => (Protocol::H2, &c.errors[..], c.coverage.as_ref()),
    };
    results::emit_start(&results::RunStart {
        protocol,
        target: target.name(),
        profile: &profile.name,
        traces: total,
        errors,
        coverage,
    });
    let (results, first, not_run) = if serial {
        serial_jobs(
            corpus,
            spec,
            suite,
            target,
            profile,
            &deviations,
            capture,
            jobs,
            sel.fail_fast,
            on_progress,
        )?
    } else {
        // The kernel: a chunk of namespaces at a time, stopping after a
        // chunk with a failure.
        let chunk = sel.jobs.unwrap_or(tracewright_conformance::linux::WORKERS);
        let mut results = Vec::new();
        let mut first = None;
        let mut done = 0;
        for idx in (0..total).collect::<Vec<_>>().chunks(chunk.max(1)) {
            let part = subset(corpus, idx);
            let began = Instant::now();
            let r = results::muted(|| {
                registry::replay(
                    &part,
                    target,
                    profile,
                    deviations.clone(),
                    capture,
                    &mut |_, _| {},
                )
            })?;
            let took = began.elapsed() / idx.len().max(1) as u32;
            r.results.iter().for_each(|t| results::emit(t, took));
            done += idx.len();
            on_progress(done, total);
            let stop = failed(&r);
            results.extend(r.results.iter().cloned());
            first.get_or_insert(r);
            if stop {
                break;
            }
        }
        (results, first, total - done)
    };
    let errors = match corpus {
        Loaded::Tcp(c) => &c.errors,
        Loaded::H2(c) => &c.errors,
    };
    let mut results = results;
    for e in errors {
        results.push(TraceResult::error(&e.id(), &[], e.to_string()));
    }
    results.sort_by(|a, b| a.id.cmp(&b.id));
    // The parts' reports carry the run's name, profile, coverage and the
    // deviations as the registry applied them (for the running kernel).
    let Some(first) = first else {
        bail!("no trace ran");
    };
    let report = Report { results, ..first };
    Ok((only_listed_that_ran(report, sel), not_run))
}

/// With `--only` or `--fail-fast`, the deviation entries about traces that
/// did not run are not stale: they are left out of this report.
fn only_listed_that_ran(mut report: Report, sel: &Selection) -> Report {
    if sel.only.is_empty() && !sel.fail_fast {
        return report;
    }
    let listed = |entry: &str, id: &str| {
        if entry.contains('*') {
            matches(entry, id)
        } else {
            entry == id
        }
    };
    let ran: Vec<String> = report.results.iter().map(|r| r.id.clone()).collect();
    if let Some(d) = &mut report.deviations {
        d.entries.retain(|e| ran.iter().any(|id| listed(&e.id, id)));
    }
    report
}

type Parts = (Vec<TraceResult>, Option<Report>, usize);

/// A serial target on `jobs` threads, one trace at a time each.
#[allow(clippy::too_many_arguments)]
fn serial_jobs(
    corpus: &Loaded,
    spec: &str,
    suite: Suite,
    target: &mut Opened,
    profile: &Profile,
    deviations: &Option<Deviations>,
    capture: Option<&Path>,
    jobs: usize,
    fail_fast: bool,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Result<Parts> {
    let total = corpus.len();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let first: Mutex<Option<Report>> = Mutex::new(None);
    let broken: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let (tx, rx) = mpsc::channel::<(Vec<TraceResult>, Duration)>();
    // One trace after another on `t`, until the corpus is done or a
    // failure stops the run.
    let work = |t: &mut Opened,
                tx: mpsc::Sender<(Vec<TraceResult>, Duration)>,
                after: &mut dyn FnMut()| loop {
        after();
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total {
            return;
        }
        let part = subset(corpus, &[i]);
        let began = Instant::now();
        let replayed = results::muted(|| {
            registry::replay(
                &part,
                t,
                profile,
                deviations.clone(),
                capture,
                &mut |_, _| {},
            )
        });
        match replayed {
            Ok(r) => {
                if fail_fast && failed(&r) {
                    stop.store(true, Ordering::Relaxed);
                }
                let results = r.results.clone();
                if let Ok(mut f) = first.lock() {
                    f.get_or_insert(r);
                }
                if tx.send((results, began.elapsed())).is_err() {
                    return;
                }
            }
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                if let Ok(mut b) = broken.lock() {
                    b.get_or_insert(e.into());
                }
                return;
            }
        }
    };
    let mut results = Vec::with_capacity(total);
    std::thread::scope(|s| -> Result<()> {
        let entry =
            registry::lookup(spec, suite.protocol()).map_err(|e| anyhow!("--target {e}"))?;
        for _ in 1..jobs.min(total.max(1)) {
            let tx = tx.clone();
            let work = &work;
            let broken = &broken;
            let stop = &stop;
            s.spawn(move || match entry.open(spec, suite.protocol()) {
                Ok(mut t) => {
                    if capture.is_some() {
                        if let Err(e) = t.check_capture() {
                            stop.store(true, Ordering::Relaxed);
                            if let Ok(mut b) = broken.lock() {
                                b.get_or_insert(anyhow!("--capture: {e}"));
                            }
                            return;
                        }
                    }
                    work(&mut t, tx, &mut || {})
                }
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    if let Ok(mut b) = broken.lock() {
                        b.get_or_insert(anyhow!("--jobs: opening another {spec}: {e}"));
                    }
                }
            });
        }
        // This thread replays too, on the target already open (a target
        // need not be Send), and counts progress between its traces.
        let mut drain = |block: bool| {
            let mut take = |(r, took): (Vec<TraceResult>, Duration)| {
                r.iter().for_each(|t| results::emit(t, took));
                results.extend(r);
                on_progress(results.len(), total);
            };
            if block {
                rx.iter().for_each(&mut take);
            } else {
                rx.try_iter().for_each(&mut take);
            }
        };
        work(target, tx, &mut || drain(false));
        drain(true);
        Ok(())
    })?;
    if let Some(e) = broken.into_inner().unwrap_or(None) {
        return Err(e);
    }
    let not_run = total - results.len();
    Ok((results, first.into_inner().unwrap_or(None), not_run))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs_match_the_whole_id_and_words_a_part() {
        assert!(matches(
            "time-wait",
            "tcp-client-time-wait-2msl-silent-to-closed"
        ));
        assert!(!matches("time-wait", "tcp-client-syn-sent-rto"));
        assert!(matches(
            "tcp-client-*-to-closed",
            "tcp-client-time-wait-2msl-silent-to-closed"
        ));
        assert!(!matches("tcp-client-*", "h2-client-x"));
        assert!(!matches("tcp-client", "h2-tcp-clien"));
        assert!(matches("h2-?erver-*", "h2-server-idle"));
        assert!(!matches("*-closed", "tcp-closed-x"));
    }
}
