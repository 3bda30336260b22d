//! The CLI's exit codes and messages, run as a user runs it.

use std::path::Path;

mod common;
use common::tracewright;

/// Removes a test's directory when the test ends, passed or not.
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn replay_of_the_corpus_passes_and_exits_zero() {
    let (code, out, _) = tracewright(&["replay", "tcp", "--target", "bundled"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 fail, 0 inconclusive, 0 error"), "{out}");
}

#[test]
fn replay_exits_non_zero_when_a_trace_fails_and_still_writes_the_report() {
    let dir = std::env::temp_dir().join(format!("tracewright-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("traces/tcp/tcp-client-time-wait-2msl-silent-to-closed.yaml");
    // The model says CLOSED after 2MSL; claim TIME-WAIT instead.
    let text = std::fs::read_to_string(src).unwrap();
    let broken = text.replacen("  - state: CLOSED", "  - state: TIME-WAIT", 1);
    assert_ne!(text, broken);
    std::fs::write(
        dir.join("tcp-client-time-wait-2msl-silent-to-closed.yaml"),
        broken,
    )
    .unwrap();
    // And a file that is not a trace at all.
    std::fs::write(dir.join("junk.yaml"), "steps: [\n").unwrap();
    let report = dir.join("report.txt");
    let (code, out, err) = tracewright(&[
        "replay",
        "tcp",
        "--traces",
        dir.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("1 fail, 0 inconclusive, 1 error"), "{out}");
    assert!(
        text.contains("FAIL tcp-client-time-wait-2msl-silent-to-closed"),
        "{text}"
    );
    assert!(text.contains("ERROR junk"), "{text}");
}

#[test]
fn check_passes_and_a_variant_is_refuted_with_a_ladder() {
    let (code, out, _) = tracewright(&["check", "tcp", "--loss", "1", "--dup", "0"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("VIOLATED"), "{out}");
    let (code, out, _) = tracewright(&[
        "check",
        "tcp",
        "--variant",
        "no-time-wait",
        "--loss",
        "1",
        "--dup",
        "0",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("closing_end_never_reset"), "{out}");
    assert!(
        out.contains("counterexample to closing_end_never_reset"),
        "{out}"
    );
    assert!(out.contains("lost"), "the lost final ACK is drawn: {out}");
}

#[test]
fn bad_flags_and_profiles_get_clear_errors() {
    let (code, _, err) = tracewright(&["check", "tcp", "--variant", "four-way-handshake"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--variant four-way-handshake: unknown"),
        "{err}"
    );
    let (code, _, err) = tracewright(&["replay", "tcp", "--target", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("--target nope: unknown target"), "{err}");
    let (code, _, err) = tracewright(&["check", "tcp", "--profile", "no-such-profile"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--profile no-such-profile: no such profile"),
        "{err}"
    );
}

#[test]
fn replay_h2_and_all_pass_and_exit_zero() {
    let (code, out, err) = tracewright(&["replay", "h2", "--target", "bundled"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("tracewright report: h2 against bundled"),
        "{out}"
    );
    assert!(out.contains("0 fail, 0 inconclusive, 0 error"), "{out}");
    let dir = std::env::temp_dir().join(format!("tracewright-cli-all-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = Cleanup(dir.clone());
    let report = dir.join("report.txt");
    let (code, out, err) = tracewright(&[
        "replay",
        "all",
        "--target",
        "bundled",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let tcp = std::fs::read_to_string(dir.join("report-tcp.txt")).unwrap();
    let h2 = std::fs::read_to_string(dir.join("report-h2.txt")).unwrap();
    assert!(tcp.starts_with("tracewright report: tcp"), "{tcp}");
    assert!(h2.starts_with("tracewright report: h2"), "{h2}");
    let (code, _, err) = tracewright(&["check", "all"]);
    assert_eq!(code, 2);
    assert!(err.contains("`all` is for replay"), "{err}");
    let (code, _, err) = tracewright(&["replay", "h2", "--target", "nonesuch"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--target nonesuch: unknown HTTP/2 target"),
        "{err}"
    );
}

#[test]
fn a_malformed_h2_trace_is_an_error_naming_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("tracewright-cli-h2bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = Cleanup(dir.clone());
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/h2");
    let mut n = 0;
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        n += 1;
    }
    assert!(n > 1);
    let victim = "h2-server-idle-recv-data-sends-goaway-last-0-protocol-error-to-idle.yaml";
    let text = std::fs::read_to_string(dir.join(victim)).unwrap();
    let broken = text.replacen("is: idle", "is: half-open", 1);
    assert_ne!(text, broken, "the victim trace has no `is: idle`");
    std::fs::write(dir.join(victim), &broken).unwrap();
    let report = dir.join("report.txt");
    let (code, out, _) = tracewright(&[
        "replay",
        "h2",
        "--traces",
        dir.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    let text = std::fs::read_to_string(&report).unwrap();
    // file:line: field: message, the line being the broken step's.
    let line = broken
        .lines()
        .position(|l| l.contains("half-open"))
        .unwrap()
        + 1;
    assert!(text.contains(&format!("{victim}:{line}: is: ")), "{text}");
    assert!(text.contains("half-open"), "{text}");
    // The rest of the corpus still ran and passed.
    assert!(text.contains(&format!("pass: {}", n - 2)), "{text}");
}

#[test]
fn replay_h2_against_the_h2_crate_documents_every_failure() {
    let (code, out, err) = tracewright(&["replay", "h2", "--target", "h2crate"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("tracewright report: h2 against h2crate"),
        "{out}"
    );
    assert!(
        out.contains("in conformance/deviations/h2crate.yaml"),
        "{out}"
    );
    assert!(out.contains(" 0 fail, "), "{out}");
    assert!(out.contains(", 0 stale deviation entries"), "{out}");
    // A target of one protocol is refused by `replay all` before anything runs.
    let (code, out, err) = tracewright(&["replay", "all", "--target", "h2crate"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("replay all --target h2crate: the h2 crate has no TCP of its own; run replay h2 --target h2crate"),
        "{err}"
    );
    let (code, _, err) = tracewright(&["replay", "tcp", "--target", "h2crate"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "--target h2crate: the h2 crate has no TCP of its own (TCP targets: bundled, smoltcp, linux, uml:KERNEL, exec:COMMAND)"
        ),
        "{err}"
    );
}
