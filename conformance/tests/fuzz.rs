//! A bounded fuzz run, part of `cargo test`: every target, a fixed number
//! of inputs from a fixed seed, so CI sees the same inputs every time. The
//! longer run is `cargo run --release -p tracewright-conformance --example
//! fuzz -- --secs 60`. Each crash it ever found is a regression test below.

#[path = "../fuzz/targets.rs"]
mod targets;

use targets::{fuzz, hex, targets, CountingAlloc};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Inputs per target in `cargo test` (a few seconds in all, release).
const EXECS: u64 = 2_000;

/// The allocation counter is the process's: one test at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn every_target_survives_a_bounded_run() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut failed = Vec::new();
    for t in targets() {
        let (stats, crashes) = fuzz(&t, 0x7472_6163_6577_7269, EXECS, None);
        eprintln!(
            "{:<12} {:>7} execs in {:>6.2} s ({:>8.0}/s), peak {} KiB",
            stats.target,
            stats.execs,
            stats.elapsed.as_secs_f64(),
            stats.execs as f64 / stats.elapsed.as_secs_f64().max(1e-9),
            stats.peak >> 10
        );
        assert_eq!(stats.execs, EXECS);
        for c in crashes {
            failed.push(format!(
                "{}: {} (input {})",
                c.target,
                c.what,
                hex(&c.input)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The properties are checked, not assumed: a target that breaks one is
/// reported.
#[test]
fn the_fuzzer_reports_what_breaks_a_property() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    fn panics(data: &[u8]) -> targets::Outcome {
        if data.len() > 3 {
            panic!("boom");
        }
        Ok(())
    }
    fn hogs(data: &[u8]) -> targets::Outcome {
        let v = vec![1u8; (data.len() + 1) * (targets::MEMORY_LIMIT / 4)];
        std::hint::black_box(&v);
        Ok(())
    }
    let seeds = || vec![b"abcdef".to_vec()];
    for (run, what) in [
        (panics as fn(&[u8]) -> targets::Outcome, "panic: boom"),
        (hogs, "allocated"),
    ] {
        let t = targets::Target {
            name: "probe",
            run,
            seeds,
            tokens: &[b"x"],
        };
        let (_, crashes) = fuzz(&t, 1, 20, None);
        assert!(
            !crashes.is_empty() && crashes[0].what.starts_with(what),
            "{what}"
        );
    }
}
