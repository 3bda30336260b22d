//! `--target exec:COMMAND`: the whole TCP corpus through the example
//! adapter (`examples/exec_adapter.rs`, the bundled stack behind JSON
//! lines) passes as the bundled target does; an adapter that hangs or
//! exits costs bounded time and error verdicts, and the report is still
//! written.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tracewright_conformance::exec::ExecTarget;
use tracewright_conformance::load::{load_corpus, parse_trace};
use tracewright_conformance::profile::Profile;
use tracewright_conformance::registry;
use tracewright_conformance::replay::{replay, Verdict};
use tracewright_conformance::report::run_corpus;
use tracewright_conformance::target::{Target, TargetError};
use tracewright_conformance::trace::Role;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The example adapter's binary: `cargo test` builds examples beside the
/// test binaries (target/PROFILE/examples/); build it if it is not there.
fn adapter() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples/exec_adapter");
    if !path.exists() {
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--example", "exec_adapter"])
            .current_dir(root());
        if release {
            cmd.arg("--release");
        }
        assert!(cmd.status().unwrap().success());
    }
    path
}

#[test]
fn the_corpus_passes_through_the_example_adapter() {
    let corpus = load_corpus(&root().join("traces/tcp")).unwrap();
    let profile = Profile::rfc9293();
    let command = adapter().display().to_string();
    let mut target = registry::tcp_target(&format!("exec:{command}")).unwrap();
    let report = run_corpus(&corpus, target.as_mut(), &profile, &mut |_, _| {});
    let c = report.counts();
    assert_eq!(
        c.pass,
        corpus.traces.len(),
        "not all pass:\n{}",
        report.render()
    );
    assert_eq!(c.fail + c.error + c.inconclusive, 0);
}

#[test]
fn a_hung_adapter_costs_bounded_time_and_error_verdicts() {
    let mut corpus = load_corpus(&root().join("traces/tcp")).unwrap();
    corpus.traces.truncate(4);
    let timeout = Duration::from_millis(300);
    let mut target = ExecTarget::with_timeout("sleep 1000", timeout);
    let start = Instant::now();
    let report = run_corpus(&corpus, &mut target, &Profile::rfc9293(), &mut |_, _| {});
    let elapsed = start.elapsed();
    assert!(
        elapsed < 4 * (timeout + Duration::from_secs(1)),
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
    assert!(report.render().contains("error: 4"));
}

#[test]
fn an_adapter_that_exits_gives_error_verdicts_and_a_report() {
    let dir = std::env::temp_dir().join(format!("tracewright-exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.txt");
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .args(["replay", "tcp", "--target", "exec:echo oops >&2; exit 3"])
        .arg("--report")
        .arg(&report)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = std::fs::read_to_string(&report).unwrap();
    let traces = std::fs::read_dir(root().join("traces/tcp"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.ends_with(".yaml") && name != "coverage.yaml"
        })
        .count();
    assert!(
        text.contains(&format!(
            "pass: 0   fail: 0   inconclusive: 0   error: {traces}"
        )),
        "{text}"
    );
    assert!(
        text.contains("oops"),
        "the adapter's stderr is shown:\n{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_adapter_that_writes_garbage_breaks_its_trace_only() {
    let mut corpus = load_corpus(&root().join("traces/tcp")).unwrap();
    corpus.traces.truncate(2);
    let mut target = ExecTarget::with_timeout(
        "while read line; do echo not-json; done",
        Duration::from_secs(2),
    );
    let report = run_corpus(&corpus, &mut target, &Profile::rfc9293(), &mut |_, _| {});
    for r in &report.results {
        assert!(
            matches!(&r.verdict, Verdict::Error { reason, .. } if reason.contains("not a response")),
            "{:?}",
            r.verdict
        );
    }
}

/// The hand-written trace of `conformance/tests/fixtures/delivered.yaml`,
/// with the counts the application must have received after the harness's
/// first and second byte (a wrong count at step 9 or 12 fails).
fn delivered_trace(first: u32, second: u32) -> tracewright_conformance::trace::Trace {
    let text = include_str!("../conformance/tests/fixtures/delivered.yaml")
        .replace("FIRST", &first.to_string())
        .replace("SECOND", &second.to_string());
    parse_trace(Path::new("tcp-server-established-delivered.yaml"), &text).unwrap()
}

#[test]
fn the_example_adapter_counts_delivered_bytes() {
    let command = adapter().display().to_string();
    let mut target = registry::tcp_target(&format!("exec:{command}")).unwrap();
    let target = target.as_mut();
    let profile = Profile::rfc9293();
    let r = replay(&delivered_trace(1, 2), target, &profile);
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.transcript);
    let r = replay(&delivered_trace(1, 3), target, &profile);
    assert!(
        matches!(&r.verdict, Verdict::Fail { step: 12, got: Some(g), .. } if g == "delivered 2"),
        "a wrong count must fail: {:?}",
        r.verdict
    );
}

/// An adapter written before `delivered` (it answers `unsupported`, as the
/// example does for a request it cannot read) or one that answers `null`
/// cannot tell; one that hangs on it is broken within the timeout.
#[test]
fn adapters_that_cannot_count_say_none_and_a_hung_one_is_bounded() {
    let profile = Profile::rfc9293();
    let older = r#"while read line; do case "$line" in *'"op":"delivered"'*) echo '{"ok":false,"error":{"kind":"unsupported","message":"unknown op"}}';; *) echo '{"ok":true}';; esac; done"#;
    let null = r#"while read line; do case "$line" in *'"op":"delivered"'*) echo '{"ok":true,"delivered":null}';; *) echo '{"ok":true}';; esac; done"#;
    for command in [older, null] {
        let mut target = ExecTarget::with_timeout(command, Duration::from_secs(2));
        target.open(Role::Server, &profile).unwrap();
        assert_eq!(target.delivered(), Ok(None), "{command}");
    }
    let hung = r#"while read line; do case "$line" in *'"op":"delivered"'*) exec sleep 1000;; *) echo '{"ok":true}';; esac; done"#;
    let timeout = Duration::from_millis(300);
    let mut target = ExecTarget::with_timeout(hung, timeout);
    target.open(Role::Server, &profile).unwrap();
    let start = Instant::now();
    let e = target.delivered().unwrap_err();
    assert!(start.elapsed() < timeout + Duration::from_secs(1));
    assert!(
        matches!(&e, TargetError::Broken(m) if m.contains("did not answer")),
        "{e:?}"
    );
}
