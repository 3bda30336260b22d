//! What the commands print: the checker's results as a property table,
//! counterexamples as ladders, the variants table, the corpus written and
//! its coverage, a replay's report and its summary line. The models and their configurations are
//! the model crate's (`tracewright_model::configs`).

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use stateright::{Checker, Expectation, Model};
use tracewright_conformance::profile::Profile;

use tracewright_model::listener::{self, ListenerModel, ListenerVariant};
use tracewright_model::tcp::{property_rfc, TcpModel, Variant};

use crate::colour::{self, Hue};
use crate::progress::Progress;
use crate::{model_for, profile, ModelArgs};

/// Never overwrite the corpus of another profile (the writer checks it
/// again; checked first so that the error reads without the writer's
/// context).
fn not_another_profiles_corpus(out: &Path, profile: &str) -> Result<()> {
    Ok(tracewright_model::gen::not_another_profiles_corpus(
        out, profile,
    )?)
}

/// `-v`: print every PASS line of a report, not only the others.
pub static VERBOSE: AtomicBool = AtomicBool::new(false);

/// What a plain progress line names: the command being run.
pub static RUNNING: Mutex<String> = Mutex::new(String::new());

fn spinner(msg: &str) -> Progress {
    let label = RUNNING.lock().map(|s| s.clone()).unwrap_or_default();
    Progress::spinner(&label, msg)
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
    // Every core: stateright's BFS shares its queue and visited set
    // between threads.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let checker = model.clone().checker().threads(threads).spawn_bfs();
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
        // Padded before it is painted: escape codes have no width.
        let verdict = colour::paint(
            &format!("{verdict:<28}"),
            if bad { Hue::Bad } else { Hue::Good },
        );
        let kind = match p.expectation {
            Expectation::Always => "always",
            Expectation::Eventually => "eventually",
            Expectation::Sometimes => "sometimes",
        };
        println!("  {kind:<9} {:<width$} {verdict} {}", p.name, rfc(p.name));
        failed |= bad;
    }
    failed
}

/// `check h2`: every configuration of `tracewright_model::configs::h2_checks`,
/// every property.
pub fn check_h2() -> Result<ExitCode> {
    use tracewright_model::h2;
    let mut failed = false;
    for c in tracewright_model::configs::h2_checks() {
        let iut = c.model.cfg.iut;
        println!(
            "checking h2: {}, MAX_CONCURRENT_STREAMS {}, the {}'s send windows {} unit a stream, {} the connection (1 unit = {} bytes)",
            c.streams,
            h2::MAX_CONCURRENT,
            h2::end_name(iut),
            h2::HARNESS_WINDOW,
            h2::CONN_WINDOW_UNITS,
            h2::DATA_UNIT
        );
        let properties = c.model.properties();
        let checker = explore_and_report(&c.model);
        let discoveries = checker.discoveries();
        failed |= property_table(&properties, &discoveries, h2::property_rfc, 44);
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
    Ok(exit(!failed))
}

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `check tcp`: the model, a variant of it, every variant, or the growth
/// table. The listener's variants are checked on the listener model.
pub fn check_tcp(
    model: &ModelArgs,
    variant: Option<&str>,
    variants: bool,
    growth: bool,
) -> Result<ExitCode> {
    if growth {
        return check_growth(model);
    }
    if variants {
        return check_variants(model);
    }
    if let Some(v) = variant.and_then(ListenerVariant::parse) {
        return check_listener(&profile(&model.profile)?, Some(v), None);
    }
    let variant = match variant {
        None => None,
        Some(name) => Some(Variant::parse(name).with_context(|| {
            let names: Vec<_> = Variant::ALL
                .iter()
                .map(|v| v.name())
                .chain(ListenerVariant::ALL.iter().map(|v| v.name()))
                .collect();
            format!("--variant {name}: unknown (known: {})", names.join(", "))
        })?),
    };
    check(model, variant)
}

/// `check tcp-listener`.
pub fn check_tcp_listener(
    model: &ModelArgs,
    variant: Option<&str>,
    variants: bool,
    growth: bool,
) -> Result<ExitCode> {
    if variants {
        return check_variants(model);
    }
    if growth {
        bail!("--growth is for tcp");
    }
    let variant = match variant {
        None => None,
        Some(name) => Some(parse_listener_variant(name)?),
    };
    check_listener(&profile(&model.profile)?, variant, model.loss)
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
    ok &= variant_rows(&profile(&args.profile)?)?;
    Ok(exit(ok))
}

fn parse_listener_variant(name: &str) -> Result<ListenerVariant> {
    use ListenerVariant;
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
    Ok(exit(!failed))
}

pub fn generate(args: &ModelArgs, out: &Path) -> Result<ExitCode> {
    // By default the budgets of `generation_model`: one loss more than the
    // largest retry limit, so that every give-up is reached.
    let default = tracewright_model::generate::generation_model(&profile(&args.profile)?)
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
fn print_coverage_and_written(
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

pub fn generate_h2(out: &Path) -> Result<ExitCode> {
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

// ---------------------------------------------------------------- the listener

fn model(p: &Profile, variant: Option<ListenerVariant>) -> Result<ListenerModel> {
    let mut m = tracewright_model::listener_gen::generation_model(p).map_err(anyhow::Error::msg)?;
    m.cfg.variant = variant;
    Ok(m)
}

/// Checks the listener model (or a variant) and draws the shortest
/// counterexample of each violated property as a ladder.
/// `loss` replaces the default loss budget (one client segment).
fn check_listener(
    p: &Profile,
    variant: Option<ListenerVariant>,
    loss: Option<u8>,
) -> Result<ExitCode> {
    let mut m = model(p, variant)?;
    if let Some(loss) = loss {
        m.cfg.loss_budget = loss;
    }
    let cfg = &m.cfg;
    println!(
        "checking the tcp listener{} (profile {}, half-open queue {}, accept queue {}, SYN cookies {}, SYN-ACK retries {}, loss budget {}; {} clients, {} spoofed flooders)",
        variant.map_or(String::new(), |v| format!(" variant {}", v.name())),
        cfg.profile,
        cfg.syn_backlog,
        cfg.accept_backlog,
        match (cfg.syn_cookies, cfg.cookies()) {
            (_, true) => "on",
            (true, false) => "off (the profile's are on)",
            (false, _) => "off",
        },
        cfg.synack_retries,
        cfg.loss_budget,
        cfg.clients(),
        cfg.syn_backlog
    );
    let properties = m.properties();
    let checker = explore_and_report(&m);
    let discoveries = checker.discoveries();
    let failed = property_table(&properties, &discoveries, listener::property_rfc, 40);
    for prop in &properties {
        if prop.expectation.discovery_is_failure() && discoveries.contains_key(prop.name) {
            let cond = prop.condition;
            let Some(path) = listener::shortest_path_to(&m, |w| !cond(&m, w)) else {
                continue;
            };
            println!(
                "\ncounterexample to {} ({}), {} steps:",
                prop.name,
                listener::property_rfc(prop.name),
                path.len() - 1
            );
            print!("{}", listener::draw(&m, &path));
        }
    }
    Ok(exit(!failed))
}

/// The listener's rows of the variants table: the model as the profile has
/// it, then each variant. True when the model holds and every variant is
/// refuted.
fn variant_rows(p: &Profile) -> Result<bool> {
    let base = model(p, None)?;
    let (c, t) = explore(&base);
    let fails: Vec<_> = base
        .properties()
        .into_iter()
        .filter(|q| q.expectation.discovery_is_failure() && c.discovery(q.name).is_some())
        .map(|q| q.name)
        .collect();
    let mut ok = fails.is_empty();
    println!(
        "{:<26} {:<32} {:>22} {:>7.2} s",
        format!(
            "({} listener)",
            if p.name == "rfc9293" { "the" } else { &p.name }
        ),
        if fails.is_empty() {
            "none: every property holds".to_string()
        } else {
            fails.join(", ")
        },
        "-",
        t.as_secs_f64()
    );
    for v in ListenerVariant::ALL {
        let m = model(p, Some(v))?;
        let (c, t) = explore(&m);
        let found = c.discovery(v.breaks()).map(|_| {
            let cond = m
                .properties()
                .into_iter()
                .find(|q| q.name == v.breaks())
                .expect("the property a variant breaks exists")
                .condition;
            listener::shortest_path_to(&m, |w| !cond(&m, w)).map_or(0, |p| p.len() - 1)
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
    Ok(ok)
}

/// `generate tcp-listener`.
pub fn generate_listener(p: &Profile, out: &Path) -> Result<ExitCode> {
    let m = model(p, None)?;
    let corpus = tracewright_model::listener_gen::generate(&m);
    not_another_profiles_corpus(out, &m.cfg.profile)?;
    let written = tracewright_model::listener_gen::write_corpus(&corpus, out)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "explored {} states of the listener model (half-open queue {}, accept queue {}, SYN cookies {}, loss budget {})",
        corpus.states,
        m.cfg.syn_backlog,
        m.cfg.accept_backlog,
        if m.cfg.syn_cookies { "on" } else { "off" },
        m.cfg.loss_budget
    );
    print_coverage_and_written(
        "the listener's",
        corpus.transitions(),
        corpus.covered(),
        corpus.traces.len(),
        out,
        &written,
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes (or prints) a report and its JUnit XML; the exit code says
/// whether anything failed.
pub fn finish_report(
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
        None if VERBOSE.load(Ordering::Relaxed) => print!("{}", colour::report(&text)),
        None => print!("{}", colour::report(&without_passes(&text))),
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
        "{} traces in {:.3} s ({:.0} traces/s): {}, {}, {}, {}{deviations}",
        report.results.len(),
        elapsed.as_secs_f64(),
        report.results.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        colour::count(counts.pass, "pass", false),
        colour::count(counts.fail, "fail", true),
        colour::count(counts.inconclusive, "inconclusive", false),
        colour::count(counts.error, "error", true),
    );
    // A stale deviation entry fails the run: the list must stay honest.
    Ok(if counts.fail + counts.error + counts.stale > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A report as the terminal shows it without `-v`: the verdict list
/// names the traces that did not pass, and counts the others (the report
/// file keeps every line).
fn without_passes(text: &str) -> String {
    let Some(at) = text.rfind("\nverdicts:\n") else {
        return text.to_string();
    };
    let (head, list) = text.split_at(at + "\nverdicts:\n".len());
    let mut out = head.to_string();
    let mut hidden = 0;
    for line in list.lines() {
        // `PASS (STALE)` fails the run: it stays.
        if line.starts_with("  PASS ") && !line.starts_with("  PASS (") {
            hidden += 1;
        } else {
            out += line;
            out.push('\n');
        }
    }
    if hidden > 0 {
        out += &format!("  ({hidden} passing traces not listed; -v lists them)\n");
    }
    out
}

/// Printing to a closed stdout ends quietly.
pub(crate) fn quiet_on_closed_stdout() {
    // Rust ignores SIGPIPE (and must: a write to an exec adapter that
    // exited is an error verdict, not the end of the run), so printing to a
    // closed stdout (`check tcp | head -1`) panics in println!. End quietly
    // instead, with the status a shell gives a command whose reader left
    // (128 + SIGPIPE).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
}

/// A profile file named like a built-in profile (`name: rfc9293` in a
/// copy) would regenerate that profile's committed corpus with other
/// parameters: only the built-in file itself may, or any file with `--out`.
pub(crate) fn not_posing_as_built_in(arg: &str, p: &Profile) -> Result<()> {
    let built_in = tracewright_conformance::registry::locate(
        &Path::new("profiles").join(format!("{}.yaml", p.name)),
    );
    let is_built_in_name = p.name == "rfc9293" || built_in.is_file();
    if !is_built_in_name {
        return Ok(());
    }
    // As `registry::load_profile` resolves the argument.
    let given = if arg.contains('/') || arg.ends_with(".yaml") || arg.ends_with(".yml") {
        std::path::PathBuf::from(arg)
    } else {
        tracewright_conformance::registry::locate(
            &Path::new("profiles").join(format!("{arg}.yaml")),
        )
    };
    let same_file = match (given.canonicalize(), built_in.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        // rfc9293 is built into the binary when profiles/ is absent.
        _ => !given.exists() && arg == "rfc9293",
    };
    let same_profile = match tracewright_conformance::registry::load_profile(&p.name) {
        Ok(b) => b == *p,
        Err(_) => false,
    };
    if same_file || same_profile {
        return Ok(());
    }
    bail!(
        "{}: `name: {}` is a built-in profile but this file is not {}: generating would overwrite its corpus; rename the profile or pass --out DIR",
        given.display(),
        p.name,
        built_in.display()
    )
}

/// The sink a replay streams its verdicts into (`results::Streamer`):
/// the report, JUnit and JSON files complete for every finished trace, and
/// the first Ctrl-C or SIGTERM stopping the run after the traces in flight.
pub(crate) fn streamer(
    suite: tracewright_conformance::registry::Suite,
    report: Option<std::path::PathBuf>,
    junit: Option<std::path::PathBuf>,
    json: Option<std::path::PathBuf>,
    shard: Option<tracewright_conformance::results::Shard>,
    deviations: Option<tracewright_conformance::deviations::Deviations>,
) -> Result<std::rc::Rc<std::cell::RefCell<tracewright_conformance::results::Streamer>>> {
    use tracewright_conformance::results::{stop_on_signals, Files, Streamer};
    let files = Files {
        report,
        junit,
        json,
    };
    let json_path = files.json.clone();
    let s = Streamer::new(
        files,
        suite.name(),
        shard.map(|s| s.to_string()),
        deviations,
        Some(stop_on_signals()),
    )
    .with_context(|| format!("--json {}", json_path.unwrap_or_default().display()))?;
    Ok(std::rc::Rc::new(std::cell::RefCell::new(s)))
}

/// Whether Ctrl-C or SIGTERM asked the run to stop.
pub(crate) fn interrupted() -> bool {
    tracewright_conformance::results::stop_on_signals().load(std::sync::atomic::Ordering::SeqCst)
}

/// After `finish_report`: the JSON's last line, the files marked
/// incomplete if the run was interrupted (exit 130, as a shell reports
/// SIGINT), and a failed write said.
pub(crate) fn finish_streamed(
    streamer: &std::cell::RefCell<tracewright_conformance::results::Streamer>,
    report: &tracewright_conformance::report::Report,
    code: ExitCode,
) -> Result<ExitCode> {
    let mut s = streamer.borrow_mut();
    s.finish(report);
    if let Some(e) = s.failed.take() {
        bail!("{e}");
    }
    if s.interrupted() && report.results.len() < s.expected() {
        eprintln!(
            "interrupted: {} of {} traces done; the report, JUnit and JSON files hold their verdicts",
            report.results.len(),
            s.expected()
        );
        return Ok(ExitCode::from(130));
    }
    Ok(code)
}

/// `merge FILES...`: one report from the JSON results of several runs.
pub fn merge(
    files: &[std::path::PathBuf],
    report: Option<&Path>,
    junit: Option<&Path>,
) -> Result<ExitCode> {
    use tracewright_conformance::results;
    let merged = results::merge(files)?;
    if merged.is_empty() {
        bail!("merge: no results in {} files", files.len());
    }
    let text = results::merged_text(&merged);
    match report {
        Some(p) => {
            results::write_atomically(p, text.as_bytes())
                .with_context(|| format!("writing {}", p.display()))?;
            println!("report written to {}", p.display());
        }
        None => print!("{text}"),
    }
    if let Some(p) = junit {
        results::write_atomically(p, results::merged_junit(&merged).as_bytes())
            .with_context(|| format!("writing {}", p.display()))?;
    }
    let mut ok = true;
    for m in &merged {
        let r = &m.report;
        let c = r.counts();
        println!(
            "{} against {} (profile {}): {} traces: {} pass, {} fail, {} deviation, {} inconclusive, {} error, {} stale{}",
            r.suite,
            tracewright_conformance::report::clean(&r.target),
            r.profile,
            r.results.len(),
            c.pass,
            c.fail,
            c.deviation,
            c.inconclusive,
            c.error,
            c.stale,
            if m.gaps.is_empty() {
                String::new()
            } else {
                format!("; INCOMPLETE: {}", m.gaps.join("; "))
            }
        );
        ok &= c.fail + c.error + c.stale == 0 && m.gaps.is_empty();
    }
    Ok(exit(ok))
}

/// `explore`: stateright's Explorer on a loopback port, for the TCP model
/// of a profile, the listener or HTTP/2.
pub fn serve_explorer(protocol: crate::Protocol, model: &ModelArgs, port: u16) -> Result<ExitCode> {
    let at = ("127.0.0.1", port);
    // stateright's server panics on a port in use: say so first.
    std::net::TcpListener::bind(at)
        .with_context(|| format!("explore: cannot listen on 127.0.0.1:{port}; pass --port N"))?;
    let serving =
        || println!("serving stateright's Explorer on http://127.0.0.1:{port}/ (Ctrl-C to stop)");
    match protocol {
        crate::Protocol::H2 => {
            serving();
            tracewright_model::configs::h2_explore().checker().serve(at);
        }
        crate::Protocol::TcpListener => {
            let p = profile(&model.profile)?;
            let m = tracewright_model::listener_gen::generation_model(&p)
                .map_err(anyhow::Error::msg)?;
            serving();
            m.checker().serve(at);
        }
        _ => {
            let m = model_for(model, |_| 2)?;
            serving();
            m.checker().serve(at);
        }
    }
    Ok(ExitCode::SUCCESS)
}
