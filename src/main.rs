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

use anyhow::{anyhow, bail, Result};
use clap::{Parser, Subcommand, ValueEnum};
use tracewright_conformance::profile::Profile;
use tracewright_conformance::registry::{self, ProfileLookupError, Suite};
use tracewright_conformance::results;
use tracewright_model::configs::TcpOptions;
use tracewright_model::tcp::{TcpConfig, TcpModel};

mod cells;
mod colour;
mod html;
mod print;
mod progress;
mod replay;
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
    /// Print the TCP corpus against RFC 9293 §3.10's event table: each
    /// (state, event) cell, how many of the model's transitions in it are
    /// covered; from corpus folders (their coverage.yaml) or from `replay
    /// --json` results (what a target's passing traces cover).
    Cells {
        /// Corpus folders or results files (default traces/tcp and
        /// traces/tcp-listener).
        paths: Vec<PathBuf>,
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
        Command::Cells { paths } => cells::cells(&paths),
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
        } => print::serve_explorer(protocol, &model, port),
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
            let out = replay::Outputs {
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
            if protocol == Protocol::All {
                if traces.is_some() {
                    bail!("replay all: --traces names one corpus; replay tcp or h2 with it");
                }
                return replay::all(&target, &profile, &out);
            }
            replay::one(protocol.suite(), &target, &profile, traces, &out)
        }
        Command::Merge {
            files,
            report,
            junit,
        } => print::merge(&files, report.as_deref(), junit.as_deref()),
    }
}
