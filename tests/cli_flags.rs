//! `--only`, `--fail-fast`, `--jobs`, `--adapter-timeout`, and a target
//! refused before any suite runs.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::tracewright;

/// A copy of `traces/tcp` outside the repository: a corpus of one's own,
/// so no target's deviations list is loaded for it.
fn own_corpus(name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/tcp");
    let dir = std::env::temp_dir().join(format!("tw-flags-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    dir
}

fn verdicts(out: &str) -> Vec<&str> {
    let at = out.find("\nverdicts:\n").expect("a verdict list");
    out[at..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with("  "))
        .collect()
}

#[test]
fn only_takes_a_part_of_an_id_or_a_glob() {
    let (code, out, err) = tracewright(&["replay", "tcp", "--only", "time-wait", "-v"]);
    assert_eq!(code, 0, "{out}{err}");
    let listed = verdicts(&out);
    assert!(
        listed.len() > 5 && listed.len() < common::tcp_traces(),
        "{out}"
    );
    assert!(listed.iter().all(|l| l.contains("time-wait")), "{out}");
    let (code, out, _) = tracewright(&[
        "replay",
        "tcp",
        "--only",
        "tcp-client-*-to-closed",
        "--only",
        "tcp-server-listen-*",
        "-v",
    ]);
    assert_eq!(code, 0);
    let listed = verdicts(&out);
    assert!(!listed.is_empty());
    for l in listed {
        let id = l.split_whitespace().last().unwrap();
        assert!(
            (id.starts_with("tcp-client-") && id.ends_with("-to-closed"))
                || id.starts_with("tcp-server-listen-"),
            "{id}"
        );
    }
    let (code, _, err) = tracewright(&["replay", "tcp", "--only", "no-such-trace"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--only no-such-trace: no trace of traces/tcp matches"),
        "{err}"
    );
}

#[test]
fn only_leaves_the_deviations_of_other_traces_out_not_stale() {
    let (code, out, _) = tracewright(&[
        "replay",
        "tcp",
        "--target",
        "smoltcp",
        "--profile",
        "smoltcp",
        "--only",
        "syn-sent",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(" 0 stale deviation entries"), "{out}");
    assert!(out.contains("documented deviation"), "{out}");
}

#[test]
fn fail_fast_stops_at_the_first_failure() {
    let dir = own_corpus("ff");
    let traces = dir.to_str().unwrap();
    // smoltcp fails 75 of these traces (its deviations are not loaded for
    // a corpus of one's own).
    let (code, all, _) = tracewright(&["replay", "tcp", "--target", "smoltcp", "--traces", traces]);
    assert_eq!(code, 1);
    assert!(
        all.contains(&format!("{} traces in", common::tcp_traces())),
        "{all}"
    );
    for jobs in ["1", "2"] {
        let (code, out, _) = tracewright(&[
            "replay",
            "tcp",
            "--target",
            "smoltcp",
            "--traces",
            traces,
            "--fail-fast",
            "--jobs",
            jobs,
        ]);
        assert_eq!(code, 1, "{out}");
        let ran: usize = out
            .lines()
            .find_map(|l| l.split(" traces in ").next()?.parse().ok())
            .expect("a summary line");
        assert!(ran < common::tcp_traces(), "--jobs {jobs}: {ran} ran");
        // At most one failure per thread: none starts after the first.
        let fails = out.lines().filter(|l| l.starts_with("FAIL ")).count();
        assert!(
            (1..=jobs.parse().unwrap()).contains(&fails),
            "--jobs {jobs}: {fails} failed\n{out}"
        );
        assert!(
            out.contains(&format!(
                "--fail-fast: stopped at the first failure; {} traces not run",
                common::tcp_traces() - ran
            )),
            "{out}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn jobs_gives_the_same_report() {
    for suite in ["tcp", "h2"] {
        let dir = std::env::temp_dir().join(format!("tw-jobs-{suite}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let one = dir.join("one.txt");
        let four = dir.join("four.txt");
        let (code, out, err) = tracewright(&[
            "replay",
            suite,
            "--target",
            "bundled",
            "--report",
            one.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{out}{err}");
        let (code, out, err) = tracewright(&[
            "replay",
            suite,
            "--target",
            "bundled",
            "--jobs",
            "4",
            "--report",
            four.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(
            std::fs::read_to_string(&one).unwrap(),
            std::fs::read_to_string(&four).unwrap()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
    // A deviation-listed smoltcp run too, with its failures.
    let run = |jobs: &str| {
        tracewright(&[
            "replay",
            "tcp",
            "--target",
            "smoltcp",
            "--profile",
            "smoltcp",
            "--jobs",
            jobs,
            "-v",
        ])
    };
    let (a, b) = (run("1"), run("3"));
    assert_eq!(a.0, 0);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains(" traces in "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&a.1), strip(&b.1));
}

#[test]
fn adapter_timeout_bounds_a_silent_adapter() {
    let start = Instant::now();
    let (code, out, _) = tracewright(&[
        "replay",
        "tcp",
        "--target",
        "exec:sleep 100",
        "--only",
        "tcp-client-syn-sent-rto-silent-to-closed",
        "--adapter-timeout",
        "300ms",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("within 300 ms"), "{out}");
    assert!(start.elapsed().as_secs_f64() < 4.0, "the default is 5 s");
    let (code, _, err) = tracewright(&["replay", "tcp", "--adapter-timeout", "5x"]);
    assert_eq!(code, 2);
    assert!(err.contains("the unit is ms, s or m"), "{err}");
    let (code, _, err) = tracewright(&["replay", "tcp", "--jobs", "0"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn replay_all_refuses_a_target_before_any_suite_runs() {
    for (target, why) in [
        (
            "smoltcp",
            "smoltcp has no HTTP/2; run replay tcp --target smoltcp",
        ),
        ("nonesuch", "--target nonesuch: unknown target"),
    ] {
        let start = Instant::now();
        let (code, out, err) = tracewright(&["replay", "all", "--target", target]);
        assert_eq!(code, 2, "{out}{err}");
        assert!(out.is_empty(), "nothing ran: {out}");
        assert!(err.contains(why), "{err}");
        assert!(start.elapsed().as_secs_f64() < 2.0);
    }
    let (code, out, err) = tracewright(&["replay", "all", "--profile", "nope"]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("--profile nope: no such profile"), "{err}");
    // --only in `replay all`: the suites it matches nothing in are skipped.
    let (code, out, err) = tracewright(&["replay", "all", "--only", "h2-server-idle"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("replay tcp: skipped, --only h2-server-idle: no trace of traces/tcp matches"),
        "{out}"
    );
    assert!(
        out.contains("tracewright report: h2 against bundled"),
        "{out}"
    );
}
