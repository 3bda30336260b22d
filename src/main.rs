//! `tracewright`: check the models, explore them, generate the corpus,
//! replay it against a target. See README.md.
//!
//! This file parses the arguments and prints. The targets, the corpus of a
//! profile, the profiles and the deviations policy are the conformance
//! crate's (`tracewright_conformance::registry`); the model configurations
//! are the model crate's (`tracewright_model::configs`); what the commands
//! print is in `print.rs`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use stateright::Model;
use tracewright_conformance::profile::Profile;
use tracewright_conformance::registry::{self, ProfileLookupError, RegistryError, Suite};
use tracewright_conformance::results;
use tracewright_model::configs::TcpOptions;
use tracewright_model::tcp::{TcpConfig, TcpModel};

mod colour;
mod html;
mod print;
mod progress;
mod run;
mod show;

#[derive(Parser)]
#[command(
    name = "tracewright",
    version,
    about = "Model-checked conformance suite for TCP and HTTP/2"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print every PASS line of a report on the terminal, not only the
    /// traces that did not pass (a report file always has them all).
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Protocol {
    /// TCP (RFC 9293).
    Tcp,
    /// HTTP/2 (RFC 9113).
    H2,
    /// A TCP listener under a SYN flood: half-open and accept queues, SYN
    /// cookies (RFC 4987).
    #[value(name = "tcp-listener")]
    TcpListener,
    /// Both, one after the other (replay only): the main job.
    All,
}

impl Protocol {
    fn suite(self) -> Suite {
        match self {
            Protocol::Tcp | Protocol::All => Suite::Tcp,
            Protocol::H2 => Suite::H2,
            Protocol::TcpListener => Suite::Listener,
        }
    }
}

#[derive(clap::Args, Clone)]
struct ModelArgs {
    /// Profile: a name under profiles/ or a path to a YAML file.
    #[arg(long, default_value = "rfc9293")]
    profile: String,
    /// Segments the network may lose (default: 2 for check, retries+1 for generate).
    #[arg(long)]
    loss: Option<u8>,
    /// Segments the network may duplicate.
    #[arg(long, default_value_t = 1)]
    dup: u8,
    /// A second incarnation on the same address pair: old duplicates, ISNs,
    /// TIME-WAIT reopen (no loss unless --loss, one duplicate, no
    /// simultaneous open).
    #[arg(long)]
    incarnations: bool,
    /// The client's first SYN carries its data (as a TCP Fast Open SYN
    /// does): what the listener does with it, per the profile's `syn_data`
    /// (one loss unless --loss, no simultaneous open).
    #[arg(long, conflicts_with = "incarnations")]
    syn_data: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Explore the model exhaustively and check its properties.
    Check {
        protocol: Protocol,
        #[command(flatten)]
        model: ModelArgs,
        /// Check the model with one mechanism removed (no-time-wait,
        /// short-time-wait, three-way-close, two-way-handshake, fixed-isn):
        /// the checker must refute it.
        #[arg(long, conflicts_with = "variants")]
        variant: Option<String>,
        /// Check every variant and print a table.
        #[arg(long)]
        variants: bool,
        /// Print how the state space grows with the loss and duplication budgets (0..2).
        #[arg(long)]
        growth: bool,
    },
    /// Serve stateright's Explorer on 127.0.0.1 to browse the state space.
    Explore {
        protocol: Protocol,
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
    /// Generate the trace corpus from the model.
    Generate {
        protocol: Protocol,
        #[command(flatten)]
        model: ModelArgs,
        /// Where to write the traces (default traces/tcp or traces/h2).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Draw one trace's ladder diagram (harness left, IUT right), in the
    /// terminal and, with --svg, as an SVG picture.
    Show {
        /// A trace id (looked up in the corpora under traces/) or a trace
        /// file's path.
        trace: String,
        /// Also write the ladder as SVG to this file.
        #[arg(long, value_name = "PATH")]
        svg: Option<PathBuf>,
    },
    /// Replay the corpus against a target and write its report.
    Replay {
        protocol: Protocol,
        /// The implementation under test: `bundled`, `smoltcp` (tcp),
        /// `linux` (the running kernel, in network namespaces of its own;
        /// tcp), `exec:COMMAND` (tcp; an adapter process, see README.md),
        /// `h2crate` (h2; the h2 crate in-process), or an HTTP/2 server by
        /// address: `h2c://HOST:PORT` (prior knowledge), `h2://HOST:PORT` (TLS).
        #[arg(long, default_value = "bundled", long_help = registry::help())]
        target: String,
        #[arg(long, default_value = "rfc9293")]
        profile: String,
        /// The corpus to replay (default traces/tcp or traces/h2).
        #[arg(long)]
        traces: Option<PathBuf>,
        /// Write the report here (default: print it).
        #[arg(long)]
        report: Option<PathBuf>,
        /// Also write JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Also write the report as one self-contained HTML file here: the
        /// summary, the state × event matrix, each trace's ladder as SVG.
        #[arg(long, value_name = "PATH")]
        html: Option<PathBuf>,
        /// Also write the results here as JSON Lines, a line per trace as
        /// its verdict arrives (README.md, "JSON results and shards").
        #[arg(long)]
        json: Option<PathBuf>,
        /// Replay one shard of the corpus, K of N (`2/4`): its ids sorted,
        /// every N-th from the K-th. `merge` puts the shards together.
        #[arg(long)]
        shard: Option<results::Shard>,
        /// Write one pcap per trace (ID.pcap, raw IP) into this directory,
        /// for every target (HTTP/2 as its connection's TCP stream).
        #[arg(long)]
        capture: Option<PathBuf>,
        /// The target's documented deviations (default: its own list under
        /// conformance/deviations/, for smoltcp, linux and h2crate).
        #[arg(long)]
        deviations: Option<PathBuf>,
        /// `h2://HOST:PORT`: take any certificate (a test server's own).
        #[arg(long)]
        insecure: bool,
        /// Replay only the traces whose id matches PATTERN: a glob (`*`,
        /// `?`) over the whole id, or else a part of it. Repeat it for
        /// more than one.
        #[arg(long, value_name = "PATTERN")]
        only: Vec<String>,
        /// Stop at the first trace that fails or errs (a documented
        /// deviation does not stop it); the report has the traces that ran.
        #[arg(long)]
        fail_fast: bool,
        /// Traces at once: threads each with a target of its own for the
        /// in-process and adapter targets (default 1), namespaces for
        /// linux (default 48).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// How long an exec: or h2exec: adapter may take to answer
        /// (`500ms`, `5s`, `1m`; default 5s).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        adapter_timeout: Option<std::time::Duration>,
    },
    /// Merge the JSON results of `replay --json` (shards, kernels, servers,
    /// profiles) into one report; exits 1 if a trace failed or a shard is
    /// missing or incomplete.
    Merge {
        /// JSON results files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write the report here (default: print it).
        #[arg(long)]
        report: Option<PathBuf>,
        /// Also write JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
}

/// Where a replay writes, beyond stdout, and which traces it runs how.
struct Outputs {
    report: Option<PathBuf>,
    junit: Option<PathBuf>,
    html: Option<PathBuf>,
    json: Option<PathBuf>,
    shard: Option<results::Shard>,
    capture: Option<PathBuf>,
    deviations: Option<PathBuf>,
    sel: run::Selection,
    /// Part of `replay all`: a suite `--only` matches nothing in is skipped.
    in_all: bool,
}

/// `--adapter-timeout`: `250ms`, `5s`, `1.5s`, `1m`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (n, unit) = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((s, ""), |i| s.split_at(i));
    let n: f64 = n
        .parse()
        .map_err(|_| format!("`{s}`: a number and a unit (500ms, 5s, 1m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("`{s}`: the unit is ms, s or m (500ms, 5s, 1m)")),
    };
    if !(secs > 0.0 && secs < 86_400.0) {
        return Err(format!("`{s}`: between 1ms and a day"));
    }
    Ok(std::time::Duration::from_secs_f64(secs).max(std::time::Duration::from_millis(1)))
}

fn main() -> ExitCode {
    print::quiet_on_closed_stdout();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A profile by name or path (`tracewright_conformance::registry::load_profile`).
fn profile(arg: &str) -> Result<Profile> {
    registry::load_profile(arg).map_err(|e| match e {
        ProfileLookupError::NotFound { .. } => anyhow!("--profile {e}"),
        other => other.into(),
    })
}

impl ModelArgs {
    fn options(&self) -> TcpOptions {
        TcpOptions {
            loss: self.loss,
            dup: self.dup,
            incarnations: self.incarnations,
            syn_data: self.syn_data,
        }
    }
}

fn model_for(args: &ModelArgs, default_loss: impl Fn(&TcpConfig) -> u8) -> Result<TcpModel> {
    tracewright_model::configs::tcp_model(&profile(&args.profile)?, &args.options(), default_loss)
        .map_err(anyhow::Error::msg)
}

fn run(cli: Cli) -> Result<ExitCode> {
    print::VERBOSE.store(cli.verbose, std::sync::atomic::Ordering::Relaxed);
    if let Ok(mut running) = print::RUNNING.lock() {
        *running = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
    }
    if let Command::Check {
        protocol: Protocol::All,
        ..
    }
    | Command::Explore {
        protocol: Protocol::All,
        ..
    }
    | Command::Generate {
        protocol: Protocol::All,
        ..
    } = cli.command
    {
        bail!("`all` is for replay; check, explore and generate take tcp, tcp-listener or h2");
    }
    match cli.command {
        Command::Show { trace, svg } => show::show(&trace, svg.as_deref()),
        Command::Check {
            protocol,
            model,
            variant,
            variants,
            growth,
        } => match protocol {
            Protocol::H2 => {
                if variant.is_some() || variants || growth {
                    bail!("--variant, --variants and --growth are for tcp; `check h2` checks the HTTP/2 model as it is");
                }
                print::check_h2()
            }
            Protocol::TcpListener => {
                print::check_tcp_listener(&model, variant.as_deref(), variants, growth)
            }
            _ => print::check_tcp(&model, variant.as_deref(), variants, growth),
        },
        Command::Explore {
            protocol,
            model,
            port,
        } => {
            let at = ("127.0.0.1", port);
            // stateright's server panics on a port in use: say so first.
            std::net::TcpListener::bind(at).with_context(|| {
                format!("explore: cannot listen on 127.0.0.1:{port}; pass --port N")
            })?;
            let serving = || {
                println!(
                    "serving stateright's Explorer on http://127.0.0.1:{port}/ (Ctrl-C to stop)"
                )
            };
            match protocol {
                Protocol::H2 => {
                    serving();
                    tracewright_model::configs::h2_explore().checker().serve(at);
                }
                Protocol::TcpListener => {
                    let p = profile(&model.profile)?;
                    let m = tracewright_model::listener_gen::generation_model(&p)
                        .map_err(anyhow::Error::msg)?;
                    serving();
                    m.checker().serve(at);
                }
                _ => {
                    let m = model_for(&model, |_| 2)?;
                    serving();
                    m.checker().serve(at);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate {
            protocol,
            model,
            out,
        } => {
            let suite = protocol.suite();
            let out = match out {
                Some(out) => out,
                None if suite == Suite::H2 => suite.corpus(&Profile::rfc9293()),
                None => {
                    let p = profile(&model.profile)?;
                    print::not_posing_as_built_in(&model.profile, &p)?;
                    suite.corpus(&p)
                }
            };
            match suite {
                Suite::H2 => print::generate_h2(&out),
                Suite::Listener => print::generate_listener(&profile(&model.profile)?, &out),
                Suite::Tcp => print::generate(&model, &out),
            }
        }
        Command::Replay {
            protocol,
            target,
            profile,
            traces,
            report,
            junit,
            html,
            json,
            shard,
            capture,
            deviations,
            insecure,
            only,
            fail_fast,
            jobs,
            adapter_timeout,
        } => {
            registry::INSECURE_TLS.store(insecure, std::sync::atomic::Ordering::Relaxed);
            if let Some(t) = adapter_timeout {
                registry::ADAPTER_TIMEOUT_MS
                    .store(t.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
            }
            let out = Outputs {
                report,
                junit,
                html,
                json,
                shard,
                capture,
                deviations,
                sel: run::Selection {
                    only,
                    jobs: jobs.map(usize::from),
                    fail_fast,
                },
                in_all: false,
            };
            if protocol != Protocol::All {
                return replay(protocol.suite(), &target, &profile, traces, &out);
            }
            if traces.is_some() {
                bail!("replay all: --traces names one corpus; replay tcp or h2 with it");
            }
            // Every suite, so a target that serves one protocol (or no
            // target at all, or no such profile) is refused before
            // anything runs.
            for p in [registry::Protocol::Tcp, registry::Protocol::H2] {
                match registry::find(&target) {
                    Some(e) if !e.serves(p) => bail!(
                        "replay all --target {target}: {}; run replay {} --target {target}",
                        e.only,
                        e.protocols().join(" or ")
                    ),
                    _ => {
                        registry::lookup(&target, p).map_err(|e| anyhow!("--target {e}"))?;
                    }
                }
            }
            self::profile(&profile)?;
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
                codes.push(replay(suite, &target, &profile, None, &out)?);
                if print::interrupted() {
                    break;
                }
            }
            Ok(codes
                .into_iter()
                .find(|c| *c != ExitCode::SUCCESS)
                .unwrap_or(ExitCode::SUCCESS))
        }
        Command::Merge {
            files,
            report,
            junit,
        } => print::merge(&files, report.as_deref(), junit.as_deref()),
    }
}

/// `replay SUITE --target SPEC`: opens the target from the registry,
/// replays the corpus, prints or writes the report. A target that cannot
/// run on this machine prints one line and exits with
/// `registry::EXIT_UNAVAILABLE`.
fn replay(
    suite: Suite,
    spec: &str,
    profile_arg: &str,
    traces: Option<PathBuf>,
    out: &Outputs,
) -> Result<ExitCode> {
    let entry = registry::lookup(spec, suite.protocol()).map_err(|e| anyhow!("--target {e}"))?;
    let profile = profile(profile_arg)?;
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
        if !out.sel.only.is_empty() || out.sel.fail_fast || out.sel.jobs.is_some() {
            bail!("--only, --fail-fast and --jobs are not passed into a uml: guest (yet); run the whole corpus");
        }
        if out.html.is_some() || out.json.is_some() || out.shard.is_some() {
            bail!("--html, --json and --shard are not passed into a uml: guest (yet); use --report and --junit");
        }
        let args = tracewright_conformance::linux::uml::ReplayArgs {
            suite: suite.name(),
            profile: profile_arg,
            traces: &traces,
            report: out.report.as_deref(),
            junit: out.junit.as_deref(),
            capture: out.capture.as_deref(),
            deviations: out.deviations.as_deref(),
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
