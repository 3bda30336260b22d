//! `--target h2exec:COMMAND`: the whole HTTP/2 corpus through the example
//! adapter (`examples/h2_exec_adapter.rs`, the bundled HTTP/2 connection
//! behind JSON lines) passes as the bundled target does, and its report is
//! the snapshot reports/h2-h2exec-example.snap; an adapter that hangs,
//! exits, answers garbage or writes an endless line costs its trace (an
//! error verdict with the reason), is killed with what it started, and the
//! run still writes its report.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tracewright_conformance::h2::exec::H2ExecTarget;
use tracewright_conformance::h2::{load_h2_corpus, run_h2_corpus, H2Corpus};
use tracewright_conformance::profile::Profile;
use tracewright_conformance::registry::{self, Protocol, Suite};
use tracewright_conformance::replay::Verdict;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The example adapter's binary: `cargo test` builds examples beside the
/// test binaries (target/PROFILE/examples/); build it if it is not there.
fn adapter() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples/h2_exec_adapter");
    if !path.exists() {
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--example", "h2_exec_adapter"])
            .current_dir(root());
        if release {
            cmd.arg("--release");
        }
        assert!(cmd.status().unwrap().success());
    }
    path
}

fn corpus() -> H2Corpus {
    load_h2_corpus(&root().join("traces/h2")).unwrap()
}

#[test]
fn the_corpus_passes_through_the_example_adapter() {
    let profile = Profile::rfc9293();
    let traces = Suite::H2.corpus(&profile);
    let command = adapter().display().to_string();
    let spec = format!("h2exec:{command}");
    let mut target = registry::lookup(&spec, Protocol::H2)
        .unwrap()
        .open(&spec, Protocol::H2)
        .unwrap();
    let corpus = registry::load(Suite::H2, &traces, &profile).unwrap();
    let report =
        registry::replay(&corpus, &mut target, &profile, None, None, &mut |_, _| {}).unwrap();
    let c = report.counts();
    assert_eq!(c.pass, corpus.len(), "not all pass:\n{}", report.render());
    assert_eq!(c.fail + c.error + c.inconclusive, 0);
    // The adapter's path is this checkout's; the snapshot names it as the
    // README does.
    let text = report
        .render()
        .replace(&command, "target/release/examples/h2_exec_adapter");
    insta::with_settings!({snapshot_path => "../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("h2-h2exec-example", text);
    });
}

/// Whether process `pid` is gone (or a zombie nobody waits for yet).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_hung_adapter_is_killed_with_what_it_started_within_the_timeout() {
    let mut corpus = corpus();
    corpus.traces.truncate(3);
    let dir = std::env::temp_dir().join(format!("tracewright-h2exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pids = dir.join("pids");
    // A shell that never answers, with a child of its own.
    let command = format!("sleep 1000 & echo $! >> {}; wait", pids.display());
    let timeout = Duration::from_millis(300);
    let mut target = H2ExecTarget::with_limits(&command, timeout, 1 << 20);
    let start = Instant::now();
    let report = run_h2_corpus(&corpus, &mut target, &mut |_, _| {});
    let elapsed = start.elapsed();
    assert!(
        elapsed < 3 * (timeout + Duration::from_secs(1)),
        "took {elapsed:?}"
    );
    for r in &report.results {
        match &r.verdict {
            Verdict::Error { reason, .. } => {
                assert!(reason.contains("did not answer"), "{reason}")
            }
            other => panic!("{}: {other:?}", r.id),
        }
    }
    assert!(report.render().contains("error: 3"), "{}", report.render());
    let started: Vec<u32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(started.len(), 3, "one adapter a trace");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !started.iter().all(|&p| gone(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for p in started {
        assert!(gone(p), "the adapter's child {p} still runs");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_adapter_that_answers_garbage_breaks_its_trace_only() {
    let mut corpus = corpus();
    corpus.traces.truncate(2);
    let mut target = H2ExecTarget::with_limits(
        "while read line; do echo not-json; done",
        Duration::from_secs(2),
        1 << 20,
    );
    let report = run_h2_corpus(&corpus, &mut target, &mut |_, _| {});
    assert_eq!(report.results.len(), 2);
    for r in &report.results {
        assert!(
            matches!(&r.verdict, Verdict::Error { reason, .. } if reason.contains("\"not-json\", not a response")),
            "{:?}",
            r.verdict
        );
    }
}

#[test]
fn an_endless_line_is_cut_at_the_bound() {
    let mut corpus = corpus();
    corpus.traces.truncate(1);
    // `yes` writes one line after another; without newlines it is one line.
    let mut target =
        H2ExecTarget::with_limits("yes | tr -d '\\n'", Duration::from_secs(20), 1 << 20);
    let report = run_h2_corpus(&corpus, &mut target, &mut |_, _| {});
    assert!(
        matches!(&report.results[0].verdict, Verdict::Error { reason, .. } if reason.contains("a line longer than 1048576 bytes")),
        "{:?}",
        report.results[0].verdict
    );
}

#[test]
fn unsupported_answers_make_traces_inconclusive() {
    let mut corpus = corpus();
    corpus.traces.truncate(2);
    let mut target = H2ExecTarget::new(
        r#"while read line; do echo '{"ok":false,"error":{"kind":"unsupported","message":"not here"}}'; done"#,
    );
    let report = run_h2_corpus(&corpus, &mut target, &mut |_, _| {});
    for r in &report.results {
        assert!(
            matches!(&r.verdict, Verdict::Inconclusive { reason, .. } if reason.contains("not here")),
            "{:?}",
            r.verdict
        );
    }
}

#[test]
fn a_broken_adapter_still_gets_its_report_written() {
    let dir = std::env::temp_dir().join(format!("tracewright-h2exec-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .args(["replay", "h2", "--target", "h2exec:echo oops >&2; exit 3"])
        .arg("--report")
        .arg(&report)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = std::fs::read_to_string(&report).unwrap();
    let n = corpus().traces.len();
    assert!(text.contains(&format!("error: {n}")), "{text}");
    assert!(
        text.contains("oops"),
        "the adapter's stderr is shown:\n{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn h2exec_serves_http2_only_and_needs_a_command() {
    let e = registry::lookup("h2exec:x", Protocol::Tcp).err().unwrap();
    assert!(
        e.to_string()
            .starts_with("h2exec:x: the h2exec adapter protocol carries HTTP/2 connections only"),
        "{e}"
    );
    let e = registry::h2("h2exec: ").err().unwrap().to_string();
    assert_eq!(e, "h2exec:COMMAND: the command is empty");
}
