//! The CLI ends cleanly where it used to panic.

use std::process::{Command, Stdio};

#[test]
fn printing_into_a_closed_pipe_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .args(["check", "tcp"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -0`: the reader leaves before anything is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(141), "{:?} {err}", out.status);
}

#[test]
fn explore_on_a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .args(["explore", "h2", "--port", &port])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        !err.contains("panicked") && err.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{err}"
    );
}

/// A target that panics in one trace costs that trace an error verdict:
/// the run goes on, the report is written, and the exit code says a trace
/// erred.
#[test]
fn a_panicking_target_costs_one_trace_and_the_report_is_written() {
    let dir = std::env::temp_dir().join(format!("tracewright-panic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .args(["replay", "tcp", "--target", "bundled", "--report"])
        .arg(&report)
        .env("TRACEWRIGHT_BUNDLED_PANIC_IN", "TIME-WAIT")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let text = std::fs::read_to_string(&report).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    // Every trace that hands the IUT a segment in TIME-WAIT errs, with the
    // panic's message; every other trace still runs and passes.
    let errs: Vec<&str> = text.lines().filter(|l| l.starts_with("  ERROR")).collect();
    let passes = text.lines().filter(|l| l.starts_with("  PASS")).count();
    assert!(!errs.is_empty(), "{text}");
    assert!(
        errs.iter()
            .any(|l| l.contains("tcp-server-time-wait-recv-fa-sends-a-to-time-wait")),
        "{text}"
    );
    assert!(
        text.contains("the bundled target panicked: fault injected: a segment in TIME-WAIT"),
        "{text}"
    );
    let total: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("traces: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(passes + errs.len(), total, "{text}");
    assert!(passes > errs.len(), "{text}");
}
