//! Random walks through the model, projected onto each endpoint and replayed
//! against the bundled stack: the corpus covers every transition by a
//! shortest path; this checks long, odd paths too. A failing walk is shrunk
//! by quickcheck (fewer and smaller choices), so what it reports is minimal.

use std::sync::atomic::{AtomicUsize, Ordering};

use quickcheck::{Gen, QuickCheck, TestResult};
use stateright::Model;
use tracewright_conformance::profile::{Profile, SynData};
use tracewright_conformance::registry;
use tracewright_conformance::replay::{replay, Verdict};
use tracewright_model::generate::{generation_model, label_of, project};
use tracewright_model::tcp::{Action, TcpConfig, TcpModel};

/// Follows `choices` through the model: each picks one of the enabled
/// actions (modulo their number). Returns the initial state and the path.
fn walk(model: &TcpModel, choices: &[u8]) -> (tracewright_model::tcp::World, Vec<Action>) {
    let inits = model.init_states();
    let init = inits[choices.first().copied().unwrap_or(0) as usize % inits.len()].clone();
    let mut w = init.clone();
    let mut path = Vec::new();
    let mut enabled = Vec::new();
    for &c in choices.iter().skip(1) {
        enabled.clear();
        model.actions(&w, &mut enabled);
        if enabled.is_empty() {
            break;
        }
        let a = enabled[c as usize % enabled.len()];
        w = model.next_state(&w, a).unwrap();
        path.push(a);
    }
    (init, path)
}

static REPLAYED: AtomicUsize = AtomicUsize::new(0);
static STEPS: AtomicUsize = AtomicUsize::new(0);
static LONGEST: AtomicUsize = AtomicUsize::new(0);

fn walk_passes_on_bundled(choices: Vec<u8>) -> TestResult {
    let profile = Profile::rfc9293();
    let model = generation_model(&profile).unwrap();
    walk_passes(&profile, &model, &[0, 1], &choices)
}

/// Walks with data on the client's SYN, projected onto the server, for a
/// listener that queues the data and one that drops it.
fn syn_data_walk_passes_on_bundled(choices: Vec<u8>, drop: bool) -> TestResult {
    let profile = Profile {
        syn_data: if drop { SynData::Drop } else { SynData::Queue },
        ..Profile::rfc9293()
    };
    let cfg = TcpConfig::from_profile(&profile).unwrap().with_syn_data();
    walk_passes(&profile, &TcpModel::new(cfg), &[1], &choices)
}

fn walk_passes(profile: &Profile, model: &TcpModel, ends: &[usize], choices: &[u8]) -> TestResult {
    let (init, path) = walk(model, choices);
    for &iut in ends {
        // The label of the walk's last step on this endpoint names the trace.
        let mut w = init.clone();
        let mut last = None;
        for &a in &path {
            let (next, es) = model.step(&w, a).unwrap();
            if let Some(es) = es.filter(|es| es.end == iut) {
                last = Some(label_of(&es));
            }
            w = next;
        }
        let Some(label) = last else { continue };
        let trace = project(model, &init, &path, iut, &label);
        let mut target = registry::tcp_target("bundled").expect("the bundled target opens");
        let result = replay(&trace, target.as_mut(), profile);
        REPLAYED.fetch_add(1, Ordering::Relaxed);
        STEPS.fetch_add(trace.steps.len(), Ordering::Relaxed);
        LONGEST.fetch_max(trace.steps.len(), Ordering::Relaxed);
        if !matches!(result.verdict, Verdict::Pass) {
            return TestResult::error(format!(
                "walk {:?}\nprojected onto {:?}:\n{}\nverdict: {:?}",
                path.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                label.0,
                trace.to_yaml(),
                result.verdict
            ));
        }
    }
    TestResult::passed()
}

#[test]
fn random_walks_replay_on_the_bundled_stack() {
    QuickCheck::new()
        .rng(Gen::new(200))
        .tests(500)
        .max_tests(2000)
        .quickcheck(walk_passes_on_bundled as fn(Vec<u8>) -> TestResult);
    // The walks went somewhere: many traces, some of them long (the bounds
    // are far below what 500 walks reach: about 980 traces, the longest
    // 24 to 30 steps).
    let n = REPLAYED.load(Ordering::Relaxed);
    let steps = STEPS.load(Ordering::Relaxed);
    let longest = LONGEST.load(Ordering::Relaxed);
    println!("{n} projected traces replayed, {steps} steps, the longest {longest}");
    assert!(n >= 500, "only {n} traces replayed");
    assert!(longest >= 15, "the longest walk has only {longest} steps");
}

#[test]
fn random_walks_with_data_on_the_syn_replay_on_the_bundled_stack() {
    QuickCheck::new()
        .rng(Gen::new(60))
        .tests(300)
        .quickcheck(syn_data_walk_passes_on_bundled as fn(Vec<u8>, bool) -> TestResult);
}
