//! `check tcp-listener`, `generate tcp-listener` and the listener's rows of
//! `check tcp --variants`: the listener model (model/src/listener.rs) under
//! a SYN flood.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use stateright::{Checker, Model};
use tracewright_conformance::profile::Profile;
use tracewright_model::listener::{self, ListenerModel, ListenerVariant};

fn model(p: &Profile, variant: Option<ListenerVariant>) -> Result<ListenerModel> {
    let mut m = tracewright_model::listener_gen::generation_model(p).map_err(anyhow::Error::msg)?;
    m.cfg.variant = variant;
    Ok(m)
}

/// Checks the listener model (or a variant) and draws the shortest
/// counterexample of each violated property as a ladder.
/// `loss` replaces the default loss budget (one client segment).
pub fn check(p: &Profile, variant: Option<ListenerVariant>, loss: Option<u8>) -> Result<ExitCode> {
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
    let checker = super::explore_and_report(&m);
    let discoveries = checker.discoveries();
    let failed = super::property_table(&properties, &discoveries, listener::property_rfc, 40);
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
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The listener's rows of the variants table: the model as the profile has
/// it, then each variant. True when the model holds and every variant is
/// refuted.
pub fn variant_rows(p: &Profile) -> Result<bool> {
    let base = model(p, None)?;
    let (c, t) = super::explore(&base);
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
        let (c, t) = super::explore(&m);
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
pub fn generate(p: &Profile, out: &Path) -> Result<ExitCode> {
    let m = model(p, None)?;
    let corpus = tracewright_model::listener_gen::generate(&m);
    crate::not_another_profiles_corpus(out, &m.cfg.profile)?;
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
    crate::print_coverage_and_written(
        "the listener's",
        corpus.transitions(),
        corpus.covered(),
        corpus.traces.len(),
        out,
        &written,
    );
    Ok(ExitCode::SUCCESS)
}
