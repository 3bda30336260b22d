//! Unique states per second of the `check h2` configurations, with 1 thread
//! and with every core, in one run (a ratio, not a timing test):
//! `cargo run --release -p tracewright-model --example h2_states [CONFIG] [THREADS]`.
use stateright::{Checker, Model};
use tracewright_model::configs::h2_checks;

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let only = std::env::args()
        .nth(1)
        .and_then(|a| a.parse::<usize>().ok());
    let threads: Vec<usize> = match std::env::args().nth(2).and_then(|a| a.parse().ok()) {
        Some(t) => vec![t],
        None => vec![1, cores],
    };
    for (i, c) in h2_checks().into_iter().enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        for &t in &threads {
            let start = std::time::Instant::now();
            let checker = c.model.clone().checker().threads(t).spawn_bfs().join();
            let secs = start.elapsed().as_secs_f64();
            let unique = checker.unique_state_count();
            println!(
                "config {i} ({}), {t} thread(s): {unique} unique states in {secs:.2} s, {:.0}/s",
                c.streams,
                unique as f64 / secs
            );
        }
    }
}
