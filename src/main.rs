//! `tracewright`: check the models, explore them, generate the corpus,
//! replay it against a target. See README.md.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use stateright::{Checker, Expectation, Model};
use tracewright_conformance::profile::Profile;
use tracewright_model::h2::{H2Config, H2Model};
use tracewright_model::tcp::{property_rfc, TcpConfig, TcpModel, Variant};

mod listener_cli;

#[derive(Parser)]
#[command(
    name = "tracewright",
    version,
    about = "Model-checked conformance suite for TCP and HTTP/2"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
    fn corpus(self) -> PathBuf {
        match self {
            Protocol::Tcp => "traces/tcp".into(),
            Protocol::H2 => "traces/h2".into(),
            Protocol::TcpListener => "traces/tcp-listener".into(),
            Protocol::All => "traces".into(),
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
    /// Replay the corpus against a target and write its report.
    Replay {
        protocol: Protocol,
        /// The implementation under test: `bundled`, `smoltcp` (tcp),
        /// `linux` (the running kernel, in network namespaces of its own;
        /// tcp), `uml:KERNEL` (the linux target inside User-Mode Linux in
        /// virtual time; KERNEL is 6.1, 6.12 or a UML binary's path; tcp),
        /// or `exec:COMMAND` (tcp; an adapter process, see README.md).
        #[arg(long, default_value = "bundled")]
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
        /// Write one pcap per trace (ID.pcap, raw IP) into this directory
        /// (tcp; targets that can capture: smoltcp).
        #[arg(long)]
        capture: Option<PathBuf>,
        /// The target's documented deviations (default for smoltcp:
        /// conformance/deviations/smoltcp.yaml).
        #[arg(long)]
        deviations: Option<PathBuf>,
    },
}

/// Options of `replay tcp` beyond the corpus and the report.
struct ReplayExtras {
    capture: Option<PathBuf>,
    deviations: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Never overwrite the corpus of another profile: `out`'s coverage file,
/// if any, must name `profile`.
pub(crate) fn not_another_profiles_corpus(out: &Path, profile: &str) -> Result<()> {
    let existing = out.join(tracewright_model::generate::COVERAGE_FILE);
    if let Ok(text) = std::fs::read_to_string(&existing) {
        if let Ok(c) = serde_yaml::from_str::<tracewright_conformance::trace::Coverage>(&text) {
            if c.profile != profile {
                bail!(
                    "{} holds the corpus of profile {}, not {profile}: pass --out DIR",
                    out.display(),
                    c.profile,
                );
            }
        }
    }
    Ok(())
}

/// A profile's TCP corpus: `traces/tcp` for rfc9293, `traces/tcp-NAME`
/// for the others (each generated with its profile's parameters).
fn tcp_corpus(profile: &str) -> Result<PathBuf> {
    let name = load_profile(profile)?.name;
    Ok(if name == "rfc9293" {
        Protocol::Tcp.corpus()
    } else {
        PathBuf::from(format!("traces/tcp-{name}"))
    })
}

/// A profile by name (`profiles/NAME.yaml`, or the built-in `rfc9293`) or
/// by path.
fn load_profile(arg: &str) -> Result<Profile> {
    let looks_like_path = arg.contains('/') || arg.ends_with(".yaml") || arg.ends_with(".yml");
    let path = if looks_like_path {
        PathBuf::from(arg)
    } else {
        Path::new("profiles").join(format!("{arg}.yaml"))
    };
    if path.exists() {
        return Ok(Profile::load(&path)?);
    }
    if arg == "rfc9293" {
        return Ok(Profile::rfc9293());
    }
    bail!(
        "--profile {arg}: no such profile ({} does not exist)",
        path.display()
    )
}

fn model_for(args: &ModelArgs, default_loss: impl Fn(&TcpConfig) -> u8) -> Result<TcpModel> {
    let p = load_profile(&args.profile)?;
    let cfg = TcpConfig::from_profile(&p).map_err(anyhow::Error::msg)?;
    if args.incarnations {
        let cfg = cfg.with_incarnations();
        let loss = args.loss.unwrap_or(cfg.loss_budget);
        return Ok(TcpModel::new(cfg.with_budgets(loss, args.dup)));
    }
    if args.syn_data {
        let cfg = cfg.with_syn_data();
        let loss = args.loss.unwrap_or(cfg.loss_budget);
        return Ok(TcpModel::new(cfg.with_budgets(loss, args.dup)));
    }
    let loss = args.loss.unwrap_or_else(|| default_loss(&cfg));
    Ok(TcpModel::new(cfg.with_budgets(loss, args.dup)))
}

fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap());
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// A profile's listener corpus: `traces/tcp-listener` for rfc9293,
/// `traces/tcp-listener-NAME` for the others.
fn listener_corpus(profile: &str) -> Result<PathBuf> {
    let name = load_profile(profile)?.name;
    Ok(if name == "rfc9293" {
        Protocol::TcpListener.corpus()
    } else {
        PathBuf::from(format!("traces/tcp-listener-{name}"))
    })
}

fn run(cli: Cli) -> Result<ExitCode> {
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
        Command::Check {
            protocol: Protocol::H2,
            variant,
            variants,
            growth,
            ..
        } => {
            if variant.is_some() || variants || growth {
                bail!("--variant, --variants and --growth are for tcp; `check h2` checks the HTTP/2 model as it is");
            }
            check_h2()
        }
        Command::Check {
            protocol: Protocol::TcpListener,
            model,
            variant,
            variants,
            growth,
        } => {
            if variants {
                return check_variants(&model);
            }
            if growth {
                bail!("--growth is for tcp");
            }
            let variant = match variant.as_deref() {
                None => None,
                Some(name) => Some(parse_listener_variant(name)?),
            };
            listener_cli::check(&load_profile(&model.profile)?, variant, model.loss)
        }
        Command::Check {
            model,
            variant,
            variants,
            growth,
            ..
        } => {
            if growth {
                return check_growth(&model);
            }
            if variants {
                return check_variants(&model);
            }
            // The listener's variants are checked on the listener model.
            if let Some(v) = variant
                .as_deref()
                .and_then(tracewright_model::listener::ListenerVariant::parse)
            {
                return listener_cli::check(&load_profile(&model.profile)?, Some(v), None);
            }
            let variant = match variant.as_deref() {
                None => None,
                Some(name) => Some(Variant::parse(name).with_context(|| {
                    let names: Vec<_> = Variant::ALL
                        .iter()
                        .map(|v| v.name())
                        .chain(
                            tracewright_model::listener::ListenerVariant::ALL
                                .iter()
                                .map(|v| v.name()),
                        )
                        .collect();
                    format!("--variant {name}: unknown (known: {})", names.join(", "))
                })?),
            };
            check(&model, variant)
        }
        Command::Explore {
            protocol: Protocol::H2,
            port,
            ..
        } => {
            let mut cfg = H2Config::new(tracewright_model::h2::SERVER);
            cfg.probes = false;
            cfg.client_streams = 1;
            println!("serving stateright's Explorer on http://127.0.0.1:{port}/ (Ctrl-C to stop)");
            H2Model::new(cfg).checker().serve(("127.0.0.1", port));
            Ok(ExitCode::SUCCESS)
        }
        Command::Explore {
            protocol: Protocol::TcpListener,
            model,
            port,
        } => {
            let m =
                tracewright_model::listener_gen::generation_model(&load_profile(&model.profile)?)
                    .map_err(anyhow::Error::msg)?;
            println!("serving stateright's Explorer on http://127.0.0.1:{port}/ (Ctrl-C to stop)");
            m.checker().serve(("127.0.0.1", port));
            Ok(ExitCode::SUCCESS)
        }
        Command::Explore { model, port, .. } => {
            let m = model_for(&model, |_| 2)?;
            println!("serving stateright's Explorer on http://127.0.0.1:{port}/ (Ctrl-C to stop)");
            m.checker().serve(("127.0.0.1", port));
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate {
            protocol: Protocol::H2,
            out,
            ..
        } => generate_h2(&out.unwrap_or(Protocol::H2.corpus())),
        Command::Generate {
            protocol: Protocol::TcpListener,
            model,
            out,
        } => {
            let out = match out {
                Some(out) => out,
                None => listener_corpus(&model.profile)?,
            };
            listener_cli::generate(&load_profile(&model.profile)?, &out)
        }
        Command::Generate { model, out, .. } => {
            let out = match out {
                Some(out) => out,
                None => tcp_corpus(&model.profile)?,
            };
            generate(&model, &out)
        }
        Command::Replay {
            protocol,
            target,
            profile,
            traces,
            report,
            junit,
            capture,
            deviations,
        } => {
            let extras = ReplayExtras {
                capture,
                deviations,
            };
            if protocol == Protocol::All {
                if traces.is_some() {
                    bail!("replay all: --traces names one corpus; replay tcp or h2 with it");
                }
                if target == "linux" || target.starts_with("uml:") {
                    bail!("replay all --target {target}: the kernel has no HTTP/2; run replay tcp --target {target}");
                }
                // Both suites; one report after the other, one exit code.
                let with = |p: &Option<PathBuf>, proto: &str| {
                    p.as_ref().map(|p| {
                        let stem = p.file_stem().unwrap_or_default().to_string_lossy();
                        let ext = p
                            .extension()
                            .map_or(String::new(), |e| format!(".{}", e.to_string_lossy()));
                        p.with_file_name(format!("{stem}-{proto}{ext}"))
                    })
                };
                let tcp = replay(
                    &target,
                    &profile,
                    &tcp_corpus(&profile)?,
                    with(&report, "tcp").as_deref(),
                    with(&junit, "tcp").as_deref(),
                    &extras,
                )?;
                let listener = replay(
                    &target,
                    &profile,
                    &listener_corpus(&profile)?,
                    with(&report, "tcp-listener").as_deref(),
                    with(&junit, "tcp-listener").as_deref(),
                    &extras,
                )?;
                let h2 = replay_h2(
                    &target,
                    &Protocol::H2.corpus(),
                    with(&report, "h2").as_deref(),
                    with(&junit, "h2").as_deref(),
                )?;
                return Ok([tcp, listener]
                    .into_iter()
                    .find(|c| *c != ExitCode::SUCCESS)
                    .unwrap_or(h2));
            }
            let traces = match traces {
                Some(t) => t,
                None if protocol == Protocol::Tcp => tcp_corpus(&profile)?,
                None if protocol == Protocol::TcpListener => listener_corpus(&profile)?,
                None => protocol.corpus(),
            };
            if protocol == Protocol::H2 {
                if extras.capture.is_some() || extras.deviations.is_some() {
                    bail!("--capture and --deviations are for replay tcp");
                }
                return replay_h2(&target, &traces, report.as_deref(), junit.as_deref());
            }
            replay(
                &target,
                &profile,
                &traces,
                report.as_deref(),
                junit.as_deref(),
                &extras,
            )
        }
    }
}

/// Runs stateright's BFS checker with a spinner; returns it and the time taken.
fn explore<M>(model: &M) -> (impl Checker<M>, Duration)
where
    M: Model + Clone + Send + Sync + 'static,
    M::State: std::hash::Hash + Send + Sync + std::fmt::Debug + Clone + PartialEq + 'static,
    M::Action: Send + Sync + std::fmt::Debug + Clone + PartialEq,
{
    let pb = spinner("exploring");
    let start = Instant::now();
    let checker = model.clone().checker().spawn_bfs();
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(50));
        pb.set_message(format!(
            "exploring: {} unique states",
            checker.unique_state_count()
        ));
    }
    let checker = checker.join();
    let elapsed = start.elapsed();
    pb.finish_and_clear();
    (checker, elapsed)
}

fn check_growth(args: &ModelArgs) -> Result<ExitCode> {
    let base = model_for(args, |_| 0)?;
    println!(
        "unique states of the tcp model (profile {}) by network budget:\n",
        base.cfg.profile
    );
    println!(
        "{:>12} | {:>10} {:>10} {:>10}",
        "loss \\ dup", "0", "1", "2"
    );
    println!("{}", "-".repeat(47));
    for loss in 0..=2 {
        let mut row = format!("{loss:>12} |");
        for dup in 0..=2 {
            let m = TcpModel::new(base.cfg.clone().with_budgets(loss, dup));
            let (c, _) = explore(&m);
            row += &format!(" {:>10}", c.unique_state_count());
        }
        println!("{row}");
    }
    Ok(ExitCode::SUCCESS)
}

fn check_variants(args: &ModelArgs) -> Result<ExitCode> {
    let base = model_for(args, |_| 2)?;
    let mut ok = true;
    println!(
        "{:<26} {:<32} {:>22} {:>9}",
        "variant", "property it breaks", "counterexample steps", "time"
    );
    // The unmodified model, then with a second incarnation, where the ISN
    // and handshake variants show their flaws: every property must hold.
    for (m, name) in [
        (base.clone(), format!("({})", base.cfg.profile)),
        (
            TcpModel::new(base.cfg.clone().with_incarnations()),
            format!("({}, 2 incarnations)", base.cfg.profile),
        ),
        (
            TcpModel::new(base.cfg.clone().with_syn_data()),
            format!("({}, data on SYN)", base.cfg.profile),
        ),
    ] {
        let (c, t) = explore(&m);
        let fails: Vec<_> = m
            .properties()
            .into_iter()
            .filter(|p| p.expectation.discovery_is_failure() && c.discovery(p.name).is_some())
            .map(|p| p.name)
            .collect();
        ok &= fails.is_empty();
        println!(
            "{:<26} {:<32} {:>22} {:>7.2} s",
            name,
            if fails.is_empty() {
                "none: every property holds".to_string()
            } else {
                fails.join(", ")
            },
            "-",
            t.as_secs_f64()
        );
    }
    for v in Variant::ALL {
        let m = TcpModel::new(base.cfg.clone().for_variant(v));
        let (c, t) = explore(&m);
        let found = c.discovery(v.breaks()).map(|_| {
            let cond = m
                .properties()
                .into_iter()
                .find(|p| p.name == v.breaks())
                .unwrap()
                .condition;
            tracewright_model::generate::shortest_path_to(&m, |w| !cond(&m, w))
                .map_or(0, |p| p.len() - 1)
        });
        ok &= found.is_some();
        println!(
            "{:<26} {:<32} {:>22} {:>7.2} s",
            v.name(),
            v.breaks(),
            found.map_or("NOT REFUTED".to_string(), |n| n.to_string()),
            t.as_secs_f64()
        );
    }
    ok &= listener_cli::variant_rows(&load_profile(&args.profile)?)?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn parse_listener_variant(name: &str) -> Result<tracewright_model::listener::ListenerVariant> {
    use tracewright_model::listener::ListenerVariant;
    ListenerVariant::parse(name).with_context(|| {
        let names: Vec<_> = ListenerVariant::ALL.iter().map(|v| v.name()).collect();
        format!(
            "--variant {name}: unknown listener variant (known: {})",
            names.join(", ")
        )
    })
}

fn check(args: &ModelArgs, variant: Option<Variant>) -> Result<ExitCode> {
    let mut model = model_for(args, |_| 2)?;
    if let Some(v) = variant {
        model.cfg = model.cfg.clone().for_variant(v);
        if v.needs_incarnations() && args.loss.is_some() {
            model.cfg.loss_budget = args.loss.unwrap_or(0);
        }
    }
    let cfg = model.cfg.clone();
    let scenario = if cfg.incarnations {
        ", 2 incarnations"
    } else if cfg.client_syn_data {
        ", data on the client's SYN"
    } else {
        ""
    };
    println!(
        "checking tcp{} (profile {}{scenario}, loss budget {}, duplication budget {}, retries syn {} syn-ack {} data/FIN {})",
        variant.map_or(String::new(), |v| format!(" variant {}", v.name())),
        cfg.profile, cfg.loss_budget, cfg.dup_budget, cfg.syn_retries, cfg.synack_retries, cfg.retries
    );
    let properties = model.properties();
    let checker = explore_and_report(&model);
    let mut failed = false;
    let discoveries = checker.discoveries();
    let width = properties.iter().map(|p| p.name.len()).max().unwrap_or(0);
    failed |= property_table(&properties, &discoveries, property_rfc, width.max(40));
    for p in &properties {
        if let (true, Some(path)) = (
            p.expectation.discovery_is_failure(),
            discoveries.get(p.name),
        ) {
            // Draw the shortest counterexample (stateright's parallel
            // search found one; a deterministic BFS finds the shortest).
            let cond = p.condition;
            let shortest =
                tracewright_model::generate::shortest_path_to(&model, |w| !cond(&model, w))
                    .unwrap_or_else(|| path.clone().into_vec());
            println!(
                "\ncounterexample to {} ({}), {} steps:",
                p.name,
                property_rfc(p.name),
                shortest.len() - 1
            );
            print!("{}", tracewright_model::ladder::draw(&model, &shortest));
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn generate(args: &ModelArgs, out: &Path) -> Result<ExitCode> {
    // By default the budgets of `generation_model`: one loss more than the
    // largest retry limit, so that every give-up is reached.
    let default = tracewright_model::generate::generation_model(&load_profile(&args.profile)?)
        .map_err(anyhow::Error::msg)?;
    let model = model_for(args, |_| default.cfg.loss_budget)?;
    let pb = spinner("exploring");
    let corpus = tracewright_model::generate::generate(&model, &mut |n| {
        pb.set_message(format!("exploring: {n} states"))
    });
    pb.finish_and_clear();
    not_another_profiles_corpus(out, &model.cfg.profile)?;
    let written = tracewright_model::generate::write_corpus(&corpus, out)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "explored {} states (loss budget {}, duplication budget {})",
        corpus.states, model.cfg.loss_budget, model.cfg.dup_budget
    );
    print_coverage_and_written(
        "the IUT's",
        corpus.transitions(),
        corpus.covered(),
        corpus.traces.len(),
        out,
        &written,
    );
    Ok(ExitCode::SUCCESS)
}

/// What `generate` prints last: the coverage of `side`'s transitions and
/// what was written where.
pub(crate) fn print_coverage_and_written(
    side: &str,
    transitions: usize,
    covered: usize,
    traces: usize,
    out: &Path,
    written: &tracewright_model::generate::Written,
) {
    println!(
        "{transitions} transitions of {side} side exist; the corpus covers {covered} ({:.1} %)",
        100.0 * covered as f64 / transitions.max(1) as f64
    );
    println!(
        "wrote {traces} traces to {} ({} changed, {} removed)",
        out.display(),
        written.changed,
        written.removed
    );
}

fn replay(
    target: &str,
    profile: &str,
    traces: &Path,
    report_path: Option<&Path>,
    junit: Option<&Path>,
    extras: &ReplayExtras,
) -> Result<ExitCode> {
    if target == "linux" {
        return replay_linux(profile, traces, report_path, junit, extras);
    }
    if let Some(kernel) = target.strip_prefix("uml:") {
        use tracewright_conformance::linux::uml;
        let (capture, deviations) = (extras.capture.as_deref(), extras.deviations.as_deref());
        let args = uml::ReplayArgs {
            profile,
            traces,
            report: report_path,
            junit,
            capture,
            deviations,
        };
        let code = uml::replay(kernel, &args).unwrap_or_else(|e| {
            eprintln!("{e}");
            e.exit_code()
        });
        return Ok(ExitCode::from(code));
    }
    let profile = load_profile(profile)?;
    let target_name = target;
    let mut target: Box<dyn tracewright_conformance::target::Target> = match target {
        "bundled" => Box::new(tracewright_conformance::bundled::BundledTarget::new()),
        "smoltcp" => Box::new(tracewright_conformance::smoltcp::SmoltcpTarget::new()),
        other if other.starts_with("exec:") => {
            let command = &other["exec:".len()..];
            if command.trim().is_empty() {
                bail!("--target exec:COMMAND: the command is empty");
            }
            Box::new(tracewright_conformance::exec::ExecTarget::new(command))
        }
        other => bail!("--target {other}: unknown target (known: bundled, smoltcp, exec:COMMAND)"),
    };
    let own_corpus = traces == tcp_corpus(&profile.name).unwrap_or_default();
    let deviations = load_deviations(target_name, extras.deviations.as_deref(), own_corpus)?;
    if let Some(dir) = &extras.capture {
        target
            .capture(None)
            .map_err(|e| anyhow::anyhow!("--capture: {e}"))?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let corpus = tracewright_conformance::load::load_corpus(traces)
        .with_context(|| format!("loading {}", traces.display()))?;
    if let Some(t) = corpus.traces.iter().find(|t| t.profile != profile.name) {
        bail!(
            "{}: trace {} was generated for profile {}, not {}: pass --profile {} or generate the corpus for {}",
            traces.display(),
            t.id,
            t.profile,
            profile.name,
            t.profile,
            profile.name
        );
    }
    let pb = ProgressBar::new(corpus.traces.len() as u64);
    pb.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} traces [{elapsed}] {msg}").unwrap(),
    );
    let start = Instant::now();
    let mut report = tracewright_conformance::report::run_corpus_capturing(
        &corpus,
        target.as_mut(),
        &profile,
        extras.capture.as_deref(),
        &mut |done, _total| pb.set_position(done as u64),
    );
    let elapsed = start.elapsed();
    pb.finish_and_clear();
    if let Some(d) = deviations {
        report = report.with_deviations(d.for_profile(&profile.name));
    }
    if let Some(dir) = &extras.capture {
        println!("pcap files written to {}", dir.display());
    }
    finish_report(&report, elapsed, report_path, junit)
}

/// The deviations file: `--deviations FILE`, or the target's own under
/// conformance/deviations/ (smoltcp), or none.
fn load_deviations(
    target: &str,
    explicit: Option<&Path>,
    own_corpus: bool,
) -> Result<Option<tracewright_conformance::deviations::Deviations>> {
    use tracewright_conformance::deviations::Deviations;
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        // The target's own list describes the profile's whole corpus; a
        // corpus of one's own (--traces) takes --deviations or none.
        None if !own_corpus => return Ok(None),
        None if target == "smoltcp" || target == "linux" => {
            PathBuf::from(format!("conformance/deviations/{target}.yaml"))
        }
        None => return Ok(None),
    };
    let d = Deviations::load(&path)?;
    if explicit.is_none() && d.target != target {
        bail!(
            "{}: lists deviations of target {}, not {target}",
            path.display(),
            d.target
        );
    }
    Ok(Some(d))
}

/// `replay tcp --target linux`: the running kernel's TCP, each trace in a
/// network namespace of its own, many at once. Exits with
/// `linux::EXIT_UNAVAILABLE` after one line on stderr when this machine
/// cannot make the namespaces.
fn replay_linux(
    profile: &str,
    traces: &Path,
    report_path: Option<&Path>,
    junit: Option<&Path>,
    extras: &ReplayExtras,
) -> Result<ExitCode> {
    use tracewright_conformance::linux;
    let own_corpus = traces == tcp_corpus(profile).unwrap_or_default();
    let deviations = load_deviations("linux", extras.deviations.as_deref(), own_corpus)?;
    // First, while the process has one thread (a user namespace needs that).
    if let Err(e) = linux::prepare() {
        eprintln!("{e}");
        return Ok(ExitCode::from(linux::EXIT_UNAVAILABLE));
    }
    let profile = load_profile(profile)?;
    let corpus = tracewright_conformance::load::load_corpus(traces)
        .with_context(|| format!("loading {}", traces.display()))?;
    if let Some(t) = corpus.traces.iter().find(|t| t.profile != profile.name) {
        bail!(
            "{}: trace {} was generated for profile {}, not {}",
            traces.display(),
            t.id,
            t.profile,
            profile.name
        );
    }
    let pb = ProgressBar::new(corpus.traces.len() as u64);
    pb.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} traces [{elapsed}] {msg}").unwrap(),
    );
    let start = Instant::now();
    let report = linux::run_linux_corpus(&corpus, &profile, &mut |done, _total| {
        pb.set_position(done as u64)
    });
    let report = match deviations {
        Some(d) => report.with_deviations(
            d.for_profile(&profile.name)
                .for_kernel(&linux::kernel_release()),
        ),
        None => report,
    };
    let elapsed = start.elapsed();
    pb.finish_and_clear();
    finish_report(&report, elapsed, report_path, junit)
}

/// Explores `model` and prints what the search saw.
fn explore_and_report<M>(model: &M) -> impl Checker<M>
where
    M: Model + Clone + Send + Sync + 'static,
    M::State: std::hash::Hash + Send + Sync + std::fmt::Debug + Clone + PartialEq + 'static,
    M::Action: Send + Sync + std::fmt::Debug + Clone + PartialEq,
{
    let (checker, elapsed) = explore(model);
    let unique = checker.unique_state_count();
    println!("states visited:  {}", checker.state_count());
    println!("unique states:   {unique}");
    println!("max depth:       {}", checker.max_depth());
    println!(
        "time:            {:.2} s ({:.0} unique states/s)",
        elapsed.as_secs_f64(),
        unique as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    println!();
    checker
}

/// `check h2`: the HTTP/2 model with each role in turn holding the
/// one-unit stream window and the 3-unit connection window (the other
/// peer's windows never run out), every property.
fn check_h2() -> Result<ExitCode> {
    let mut failed = false;
    // Frames cross both ways. All three streams at once are beyond an
    // exhaustive search; two configurations cover them: streams 1 and 3
    // (multiplexing, concurrency, implicit close), stream 1 and a push.
    let configs = [
        (tracewright_model::h2::SERVER, 2, false),
        (tracewright_model::h2::SERVER, 1, true),
        (tracewright_model::h2::CLIENT, 2, false),
        (tracewright_model::h2::CLIENT, 1, true),
    ];
    for (iut, client_streams, push) in configs {
        let mut cfg = H2Config::new(iut);
        cfg.probes = false;
        cfg.client_streams = client_streams;
        cfg.push = push;
        let model = H2Model::new(cfg);
        println!(
            "checking h2: {}, MAX_CONCURRENT_STREAMS {}, the {}'s send windows {} unit a stream, {} the connection (1 unit = {} bytes)",
            if push {
                "client stream 1 and pushed stream 2"
            } else {
                "client streams 1 and 3"
            },
            tracewright_model::h2::MAX_CONCURRENT,
            tracewright_model::h2::end_name(iut),
            tracewright_model::h2::HARNESS_WINDOW,
            tracewright_model::h2::CONN_WINDOW_UNITS,
            tracewright_model::h2::DATA_UNIT
        );
        let properties = model.properties();
        let checker = explore_and_report(&model);
        let discoveries = checker.discoveries();
        failed |= property_table(
            &properties,
            &discoveries,
            tracewright_model::h2::property_rfc,
            44,
        );
        for p in &properties {
            if let (true, Some(path)) = (
                p.expectation.discovery_is_failure(),
                discoveries.get(p.name),
            ) {
                println!("    counterexample to {}:", p.name);
                for a in path.clone().into_actions() {
                    println!("      {a:?}");
                }
            }
        }
        println!();
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints one line per property: its kind, name, verdict and RFC section.
/// True when one failed (a violation, or a `sometimes` with no example).
fn property_table<M: Model>(
    properties: &[stateright::Property<M>],
    discoveries: &std::collections::HashMap<&'static str, stateright::Path<M::State, M::Action>>,
    rfc: fn(&str) -> &'static str,
    width: usize,
) -> bool
where
    M::State: Clone,
    M::Action: Clone,
{
    let mut failed = false;
    for p in properties {
        let found = discoveries
            .get(p.name)
            .map(|path| path.clone().into_actions().len());
        let (verdict, bad) = match (&p.expectation, found) {
            (Expectation::Sometimes, Some(n)) => (format!("example found ({n} steps)"), false),
            (Expectation::Sometimes, None) => ("NO EXAMPLE: unreachable".to_string(), true),
            (_, None) => ("holds".to_string(), false),
            (_, Some(n)) => (format!("VIOLATED ({n} steps)"), true),
        };
        let kind = match p.expectation {
            Expectation::Always => "always",
            Expectation::Eventually => "eventually",
            Expectation::Sometimes => "sometimes",
        };
        println!(
            "  {kind:<9} {:<width$} {verdict:<28} {}",
            p.name,
            rfc(p.name)
        );
        failed |= bad;
    }
    failed
}

fn generate_h2(out: &Path) -> Result<ExitCode> {
    let pb = spinner("exploring");
    let corpus = tracewright_model::h2gen::generate_h2(&mut |n| {
        pb.set_message(format!("exploring: {n} states"))
    });
    pb.finish_and_clear();
    let written = tracewright_model::h2gen::write_h2_corpus(&corpus, out)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "explored {} states (both roles, two configurations each)",
        corpus.states
    );
    println!(
        "{} transitions of the IUT's side exist; the corpus covers all of them",
        corpus.transitions()
    );
    let pairs = tracewright_model::h2gen::pair_coverage(&corpus.coverage);
    for line in pairs.lines() {
        println!("{line}");
    }
    println!(
        "wrote {} traces to {} ({} changed, {} removed)",
        corpus.traces.len(),
        out.display(),
        written.changed,
        written.removed
    );
    Ok(ExitCode::SUCCESS)
}

fn replay_h2(
    target: &str,
    traces: &Path,
    report_path: Option<&Path>,
    junit: Option<&Path>,
) -> Result<ExitCode> {
    use tracewright_conformance::h2;
    let mut target: Box<dyn h2::H2Target> = match target {
        "bundled" => Box::new(h2::BundledH2::new()),
        other => bail!("--target {other}: unknown HTTP/2 target (known: bundled)"),
    };
    let corpus =
        h2::load_h2_corpus(traces).with_context(|| format!("loading {}", traces.display()))?;
    let pb = ProgressBar::new(corpus.traces.len() as u64);
    pb.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} traces [{elapsed}] {msg}").unwrap(),
    );
    let start = Instant::now();
    let report = h2::run_h2_corpus(&corpus, target.as_mut(), &mut |done, _| {
        pb.set_position(done as u64)
    });
    let elapsed = start.elapsed();
    pb.finish_and_clear();
    finish_report(&report, elapsed, report_path, junit)
}

/// Writes (or prints) a report and its JUnit XML; the exit code says
/// whether anything failed.
fn finish_report(
    report: &tracewright_conformance::report::Report,
    elapsed: Duration,
    report_path: Option<&Path>,
    junit: Option<&Path>,
) -> Result<ExitCode> {
    let text = report.render();
    match report_path {
        Some(p) => {
            std::fs::write(p, &text).with_context(|| format!("writing {}", p.display()))?;
            println!("report written to {}", p.display());
        }
        None => print!("{text}"),
    }
    if let Some(p) = junit {
        std::fs::write(p, report.junit_xml())
            .with_context(|| format!("writing {}", p.display()))?;
    }
    let counts = report.counts();
    let deviations = if report.deviations.is_some() {
        format!(
            ", {} documented deviation, {} stale deviation entries",
            counts.deviation, counts.stale
        )
    } else {
        String::new()
    };
    println!(
        "{} traces in {:.3} s ({:.0} traces/s): {} pass, {} fail, {} inconclusive, {} error{deviations}",
        report.results.len(),
        elapsed.as_secs_f64(),
        report.results.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        counts.pass,
        counts.fail,
        counts.inconclusive,
        counts.error
    );
    // A stale deviation entry fails the run: the list must stay honest.
    Ok(if counts.fail + counts.error + counts.stale > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
