//! The longer fuzz run: `cargo run --release -p tracewright-conformance
//! --example fuzz -- [--secs N] [--seed S] [--only NAME]`. Prints, per
//! target, executions, executions per second and the allocation peak; a
//! crash is written to `target/fuzz-crashes/NAME-N.bin` and the run exits 1.
//! See `conformance/fuzz/targets.rs` for the targets and properties.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::time::{Duration, Instant};

use targets::{fuzz, hex, targets, CountingAlloc};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let secs: f64 = arg("--secs").map_or(60.0, |s| s.parse().expect("--secs N"));
    let seed: u64 = arg("--seed").map_or(1, |s| s.parse().expect("--seed S"));
    let only = arg("--only");
    let chosen: Vec<_> = targets()
        .into_iter()
        .filter(|t| only.as_deref().is_none_or(|o| o == t.name))
        .collect();
    let each = Duration::from_secs_f64(secs / chosen.len().max(1) as f64);
    let (mut total, mut total_time, mut found) = (0u64, 0.0, 0usize);
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-crashes");
    for t in &chosen {
        let (s, crashes) = fuzz(t, seed, u64::MAX, Some(Instant::now() + each));
        let rate = s.execs as f64 / s.elapsed.as_secs_f64().max(1e-9);
        println!(
            "{:<12} {:>10} execs in {:>6.1} s  {:>9.0} execs/s  peak {:>6} KiB  crashes {}",
            s.target,
            s.execs,
            s.elapsed.as_secs_f64(),
            rate,
            s.peak >> 10,
            crashes.len()
        );
        total += s.execs;
        total_time += s.elapsed.as_secs_f64();
        for (i, c) in crashes.iter().enumerate() {
            found += 1;
            let _ = std::fs::create_dir_all(&out);
            let file = out.join(format!("{}-{i}.bin", c.target));
            let _ = std::fs::write(&file, &c.input);
            println!(
                "  CRASH {}: {} -> {} ({})",
                c.target,
                c.what,
                file.display(),
                hex(&c.input[..c.input.len().min(64)])
            );
        }
    }
    println!(
        "total: {total} execs in {total_time:.1} s ({:.0} execs/s), {found} crashes",
        total as f64 / total_time.max(1e-9)
    );
    if found > 0 {
        std::process::exit(1);
    }
}
