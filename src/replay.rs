//! `replay`: one suite against a target from the registry, or every suite
//! one after the other (`replay all`), with the report, JUnit, HTML and JSON
//! written as verdicts arrive. A `uml:` target hands the whole replay to the
//! same binary inside the guest.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use tracewright_conformance::registry::{self, RegistryError, Suite};
use tracewright_conformance::results;

use crate::{html, print, progress, run};

/// Where a replay writes, beyond stdout, and which traces it runs how.
pub struct Outputs {
    pub report: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub shard: Option<results::Shard>,
    pub capture: Option<PathBuf>,
    pub deviations: Option<PathBuf>,
    pub sel: run::Selection,
    /// Part of `replay all`: a suite `--only` matches nothing in is skipped.
    pub in_all: bool,
}

/// `replay all --target SPEC`: the TCP suite, the listener and HTTP/2,
/// one report after the other, one exit code; the files named after each
/// suite.
pub fn all(target: &str, profile: &str, out: &Outputs) -> Result<ExitCode> {
    // Every suite, so a target that serves one protocol (or no
    // target at all, or no such profile) is refused before
    // anything runs.
    for p in [registry::Protocol::Tcp, registry::Protocol::H2] {
        match registry::find(target) {
            Some(e) if !e.serves(p) => bail!(
                "replay all --target {target}: {}; run replay {} --target {target}",
                e.only,
                e.protocols().join(" or ")
            ),
            _ => {
                registry::lookup(target, p).map_err(|e| anyhow!("--target {e}"))?;
            }
        }
    }
    crate::profile(profile)?;
    // One report after the other, one exit code; the files named
    // after each suite.
    let with = |p: &Option<PathBuf>, suite: &str| {
        p.as_ref().map(|p| {
            let stem = p.file_stem().unwrap_or_default().to_string_lossy();
            let ext = p
                .extension()
                .map_or(String::new(), |e| format!(".{}", e.to_string_lossy()));
            p.with_file_name(format!("{stem}-{suite}{ext}"))
        })
    };
    let mut codes = Vec::new();
    for (suite, name) in [
        (Suite::Tcp, "tcp"),
        (Suite::Listener, "tcp-listener"),
        (Suite::H2, "h2"),
    ] {
        // --capture and --deviations are about the TCP suites.
        let tcp = suite != Suite::H2;
        let out = Outputs {
            report: with(&out.report, name),
            junit: with(&out.junit, name),
            html: with(&out.html, name),
            json: with(&out.json, name),
            shard: out.shard,
            capture: out.capture.clone().filter(|_| tcp),
            deviations: out.deviations.clone().filter(|_| tcp),
            sel: out.sel.clone(),
            in_all: true,
        };
        codes.push(one(suite, target, profile, None, &out)?);
        if print::interrupted() {
            break;
        }
    }
    Ok(codes
        .into_iter()
        .find(|c| *c != ExitCode::SUCCESS)
        .unwrap_or(ExitCode::SUCCESS))
}

/// `replay SUITE --target SPEC`: opens the target from the registry,
/// replays the corpus, prints or writes the report. A target that cannot
/// run on this machine prints one line and exits with
/// `registry::EXIT_UNAVAILABLE`.
pub fn one(
    suite: Suite,
    spec: &str,
    profile_arg: &str,
    traces: Option<PathBuf>,
    out: &Outputs,
) -> Result<ExitCode> {
    let entry = registry::lookup(spec, suite.protocol()).map_err(|e| anyhow!("--target {e}"))?;
    let profile = crate::profile(profile_arg)?;
    let traces = traces.unwrap_or_else(|| suite.corpus(&profile));
    let deviations =
        registry::load_deviations(spec, suite, &traces, &profile, out.deviations.as_deref())?;
    let mut target = match entry.open(spec, suite.protocol()) {
        Err(RegistryError::Unavailable(why)) => {
            eprintln!("{why}");
            return Ok(ExitCode::from(registry::EXIT_UNAVAILABLE));
        }
        opened => opened.map_err(|e| anyhow!("--target {e}"))?,
    };
    #[cfg(target_os = "linux")]
    if let registry::Opened::Tcp(registry::TcpRunner::Guest { kernel }) = &target {
        let args = tracewright_conformance::linux::uml::ReplayArgs {
            suite: suite.name(),
            profile: profile_arg,
            traces: &traces,
            report: out.report.as_deref(),
            junit: out.junit.as_deref(),
            capture: out.capture.as_deref(),
            deviations: out.deviations.as_deref(),
            html: out.html.as_deref(),
            json: out.json.as_deref(),
            shard: out.shard.map(|s| s.to_string()),
            only: &out.sel.only,
            fail_fast: out.sel.fail_fast,
            jobs: out.sel.jobs,
        };
        return Ok(ExitCode::from(registry::replay_in_guest(kernel, &args)));
    }
    if let Some(dir) = &out.capture {
        target
            .check_capture()
            .map_err(|e| anyhow!("--capture: {e}"))?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let corpus = registry::load(suite, &traces, &profile)?;
    let mut corpus = match run::only(corpus, &out.sel.only, &traces) {
        Err(e) if out.in_all => {
            println!("replay {}: skipped, {e}", suite.name());
            return Ok(ExitCode::SUCCESS);
        }
        c => c?,
    };
    // The JSON keeps the whole list, for `merge`.
    let streamer = print::streamer(
        suite,
        out.report.clone(),
        out.junit.clone(),
        out.json.clone(),
        out.shard,
        deviations.clone(),
    )?;
    let deviations = match out.shard {
        Some(shard) => results::shard_corpus(&mut corpus, shard, deviations),
        None => deviations,
    };
    let pb = progress::Progress::bar(
        &format!("replay {} against {spec}", suite.name()),
        corpus.len() as u64,
    );
    let start = Instant::now();
    let (mut report, not_run) = results::streaming(streamer.clone(), || {
        run::replay(
            &corpus,
            spec,
            suite,
            &mut target,
            &profile,
            deviations,
            out.capture.as_deref(),
            &out.sel,
            &mut |done, _| pb.set_position(done as u64),
        )
    })?;
    report.suite = suite.name().to_string();
    if let Some(p) = &out.html {
        html::write(&report, &corpus, p)?;
        println!("HTML report written to {}", p.display());
    }
    if not_run > 0 {
        println!("--fail-fast: stopped at the first failure; {not_run} traces not run");
    }
    let elapsed = start.elapsed();
    pb.finish_and_clear();
    if let Some(dir) = &out.capture {
        println!("pcap files written to {}", dir.display());
    }
    let code = print::finish_report(
        &report,
        elapsed,
        out.report.as_deref(),
        out.junit.as_deref(),
    )?;
    print::finish_streamed(&streamer, &report, code)
}
