//! What the CLI shows people and logs: progress lines when stderr is not a
//! terminal, colour only where asked for and never under NO_COLOR, a short
//! report for an all-green run and every PASS line with `-v`.

mod common;

use std::process::Command;

/// `tracewright ARGS` in the repository with `env` set; exit code, stdout,
/// stderr. stdout and stderr are pipes here, never terminals.
fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tracewright"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for v in ["NO_COLOR", "CLICOLOR_FORCE", "TRACEWRIGHT_PROGRESS_SECS"] {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn pass_lines(out: &str) -> usize {
    out.lines()
        .filter(|l| l.starts_with("  PASS ") && l.contains("tcp-"))
        .count()
}

#[test]
fn an_all_green_run_is_short_and_verbose_lists_every_pass() {
    let (code, out, err) = run(&["replay", "tcp", "--target", "bundled"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(pass_lines(&out), 0, "{out}");
    let n = common::tcp_traces();
    assert!(
        out.contains(&format!("  ({n} passing traces not listed; -v lists them)")),
        "{out}"
    );
    assert!(out.contains(&format!("{n} pass, 0 fail")), "{out}");
    assert!(out.lines().count() < 40, "not short: {out}");

    let (code, out, _) = run(&["replay", "tcp", "--target", "bundled", "-v"], &[]);
    assert_eq!(code, 0);
    assert_eq!(pass_lines(&out), common::tcp_traces(), "{out}");
    assert!(!out.contains("not listed"), "{out}");
}

#[test]
fn a_report_file_keeps_every_line_without_verbose() {
    let dir = std::env::temp_dir().join(format!("tw-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("r.txt");
    let (code, out, _) = run(
        &["replay", "tcp-listener", "--report", file.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  PASS ")).count(),
        common::listener_traces(),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn non_passes_stay_listed_without_verbose() {
    // smoltcp's documented deviations on its own corpus.
    let (code, out, _) = run(
        &[
            "replay",
            "tcp",
            "--target",
            "smoltcp",
            "--profile",
            "smoltcp",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    let listed = out
        .lines()
        .filter(|l| l.starts_with("  DEVIATION ") && l.contains("tcp-"))
        .count();
    // The counts come from the run's own summary line, not pinned.
    let count = |what: &str| -> usize {
        let line = out.lines().find(|l| l.contains(" traces in ")).unwrap();
        let at = line.find(what).unwrap();
        line[..at]
            .trim_end()
            .rsplit([' ', ',', ':'])
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(listed, count(" documented deviation"), "{out}");
    assert!(
        out.contains(&format!("({} passing traces not listed", count(" pass,"))),
        "{out}"
    );
}

#[test]
fn colour_only_where_asked_and_never_under_no_color() {
    let args = [
        "replay",
        "tcp",
        "--target",
        "smoltcp",
        "--profile",
        "smoltcp",
    ];
    let (_, plain, _) = run(&args, &[]);
    assert!(!plain.contains('\x1b'), "a pipe gets no colour: {plain}");
    let (_, forced, _) = run(&args, &[("CLICOLOR_FORCE", "1")]);
    assert!(
        forced.contains("\x1b[36mDEVIATION\x1b[0m tcp-"),
        "deviations painted: {forced}"
    );
    assert!(forced.contains(" pass\x1b[0m"), "{forced}");
    let (_, no, _) = run(&args, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!no.contains('\x1b'), "NO_COLOR wins: {no}");
    // Without the escapes the text is the same (but for the time taken).
    let untimed = |s: &str| {
        s.lines()
            .filter(|l| !l.contains(" traces in "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(untimed(&no), untimed(&plain));
}

/// On a terminal, whatever the environment says about forcing, colour is
/// on unless NO_COLOR; `script` gives the binary a pseudo-terminal.
#[test]
fn a_terminal_gets_colour_and_a_bar_unless_no_color() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` (util-linux) for a pseudo-terminal");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_tracewright");
    let tty = |env: &str| {
        let out = Command::new("script")
            .args([
                "-qec",
                &format!("env -u CLICOLOR_FORCE {env} {bin} check tcp-listener"),
                "/dev/null",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = tty("");
    assert!(coloured.contains("\x1b[32mholds"), "{coloured}");
    let plain = tty("NO_COLOR=1");
    assert!(!plain.contains("\x1b[32m"), "{plain}");
    assert!(plain.contains("holds"), "{plain}");
}

#[test]
fn progress_is_plain_lines_in_a_log() {
    let env = [("TRACEWRIGHT_PROGRESS_SECS", "0")];
    let (code, out, err) = run(&["replay", "h2", "--target", "bundled"], &env);
    assert_eq!(code, 0, "{out}{err}");
    let total = common::h2_traces();
    assert!(
        err.contains(&format!("replay h2 against bundled: 1/{total} traces")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "replay h2 against bundled: {total}/{total} traces"
        )),
        "{err}"
    );
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
    // Without the override, a short run prints no progress at all (a line
    // every 5 s).
    let (_, _, err) = run(&["replay", "h2", "--target", "bundled"], &[]);
    assert!(!err.contains("traces"), "{err}");
    // The checker's search, as lines.
    let (code, out, err) = run(&["check", "tcp"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("check tcp: exploring: ") && l.contains("unique states")),
        "{err}"
    );
}
