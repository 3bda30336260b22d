//! `--target uml:KERNEL` at the CLI: the linux target inside User-Mode
//! Linux. Where no kernel is built (conformance/uml/build-kernel.sh) the
//! run must say so in one line and exit 3; where one is, a short corpus
//! runs in it and leaves nothing behind.

mod common;
use common::tracewright;

#[test]
fn replay_all_against_uml_is_refused_for_http2() {
    let (code, _, err) = tracewright(&["replay", "all", "--target", "uml:6.1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the kernel has no HTTP/2"), "{err}");
}

#[test]
fn an_unknown_kernel_is_a_usage_error() {
    let (code, _, err) = tracewright(&["replay", "tcp", "--target", "uml:5.4"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("uml:5.4: unknown kernel"), "{err}");
}

/// The tests that boot a guest take turns: each checks that its run left
/// no temporary directory behind, which another guest's would confuse.
static ONE_GUEST: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The temporary directories of UML runs that are still there.
fn leftovers() -> Vec<String> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("tracewright-uml-"))
        .collect()
}

#[test]
fn replay_tcp_in_uml_runs_or_says_how_to_build_the_kernel() {
    let _turn = ONE_GUEST.lock().unwrap_or_else(|e| e.into_inner());
    // A SYN to a closed port, and TIME-WAIT's whole 60 s (67.5 s with the
    // tolerance), in a corpus of their own.
    let dir = std::env::temp_dir().join(format!("tracewright-cli-uml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "tcp-server-closed-recv-s-sends-ra-to-closed.yaml",
        "tcp-client-time-wait-2msl-silent-to-closed.yaml",
    ] {
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("traces/tcp")
                .join(name),
            dir.join(name),
        )
        .unwrap();
    }
    let report = dir.join("report.txt");
    let before = leftovers();
    let start = std::time::Instant::now();
    let (code, out, err) = tracewright(&[
        "replay",
        "tcp",
        "--target",
        "uml:6.1",
        "--traces",
        dir.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let wall = start.elapsed();
    let written = std::fs::read_to_string(&report).unwrap_or_default();
    std::fs::remove_dir_all(&dir).unwrap();
    match code {
        0 => {
            assert!(
                written.contains("traces: 2   pass: 2"),
                "{written}\n{out}\n{err}"
            );
            // Virtual time: the kernel's TIME-WAIT costs no wall time.
            assert!(wall.as_secs() < 30, "took {wall:?}");
            let after: Vec<_> = leftovers()
                .into_iter()
                .filter(|d| !before.contains(d))
                .collect();
            assert!(after.is_empty(), "left behind: {after:?}");
        }
        3 => {
            assert!(
                err.contains("build-kernel.sh 6.1") || err.contains("the guest did not run"),
                "{err}"
            );
            eprintln!("skipped: {}", err.lines().next().unwrap_or(""));
        }
        _ => panic!("exit {code}\n{out}\n{err}"),
    }
}

#[test]
fn the_guest_takes_only_jobs_html_json_and_shard() {
    let _turn = ONE_GUEST.lock().unwrap_or_else(|e| e.into_inner());
    let dir =
        std::env::temp_dir().join(format!("tracewright-cli-uml-flags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json, html) = (dir.join("r.json"), dir.join("r.html"));
    let (code, out, err) = tracewright(&[
        "replay",
        "tcp",
        "--target",
        "uml:6.1",
        "--only",
        "tcp-server-closed-recv-*",
        "--jobs",
        "2",
        "--shard",
        "1/2",
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let lines = std::fs::read_to_string(&json).unwrap_or_default();
    let page = std::fs::read_to_string(&html).unwrap_or_default();
    std::fs::remove_dir_all(&dir).unwrap();
    if code == 3 {
        eprintln!("skipped: {}", err.lines().next().unwrap_or(""));
        return;
    }
    assert!(code == 0 || code == 1, "exit {code}\n{out}\n{err}");
    // The CLOSED traces the glob picks, every other one of them: each
    // verdict a JSON line, every id in the HTML.
    let ids: Vec<&str> = lines
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"trace\""))
        .filter_map(|l| l.split("\"id\":\"").nth(1))
        .filter_map(|s| s.split('"').next())
        .collect();
    assert!(!ids.is_empty(), "{lines}\n{out}\n{err}");
    for id in &ids {
        assert!(
            id.starts_with("tcp-server-closed-recv-"),
            "{id} is not --only's"
        );
        assert!(page.contains(id), "{id} is not in the HTML report");
    }
    let all = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/traces/tcp"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("tcp-server-closed-recv-")
        })
        .count();
    assert_eq!(ids.len(), all.div_ceil(2), "shard 1/2 of {all}: {ids:?}");
}
