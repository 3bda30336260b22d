//! Verdicts are streamed: the report, the JUnit file and the JSON results
//! hold every finished trace when the run is interrupted; shards run as
//! separate processes merge into the unsharded report; `replay all` names
//! its files and suites as documented.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::tracewright;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tw-streaming-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The first `n` traces of the rfc9293 corpus, by id.
fn small_corpus(dir: &Path, n: usize) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("traces/tcp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "coverage.yaml")
        .collect();
    files.sort();
    files.truncate(n);
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    files
        .iter()
        .map(|f| {
            std::fs::copy(f, corpus.join(f.file_name().unwrap())).unwrap();
            f.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect()
}

/// An exec adapter that answers every request (its IUT never sends
/// anything, so its traces fail) and hangs at the `hang_at`-th open.
fn hanging_adapter(dir: &Path, hang_at: usize) -> PathBuf {
    let script = dir.join("adapter.sh");
    let count = dir.join("opens");
    std::fs::write(
        &script,
        format!(
            r#"echo $$ > '{count}.pid'
n=$(cat '{count}' 2>/dev/null || echo 0)
while IFS= read -r line; do
  case "$line" in
    *'"op":"open"'*) n=$((n+1)); echo $n > '{count}'
      if [ $n -ge {hang_at} ]; then sleep 600; fi
      echo '{{"ok":true}}';;
    *'"op":"poll"'*) echo '{{"ok":true,"segments":[]}}';;
    *'"op":"advance"'*) echo '{{"ok":true,"emitted":[]}}';;
    *'"op":"state"'*) echo '{{"ok":true,"state":null}}';;
    *'"op":"delivered"'*) echo '{{"ok":true,"delivered":null}}';;
    *) echo '{{"ok":true}}';;
  esac
done
"#,
            count = count.display()
        ),
    )
    .unwrap();
    script
}

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn trace_ids(lines: &[serde_json::Value]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l["type"] == "trace")
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

/// Starts a replay through the hanging adapter and waits until two
/// verdicts are in its JSON results.
fn start_hanging_run(dir: &Path) -> (std::process::Child, Vec<String>) {
    let ids = small_corpus(dir, 5);
    let adapter = hanging_adapter(dir, 3);
    let child = Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .args(["replay", "tcp", "--target"])
        .arg(format!("exec:sh {}", adapter.display()))
        .arg("--traces")
        .arg(dir.join("corpus"))
        .arg("--report")
        .arg(dir.join("r.txt"))
        .arg("--junit")
        .arg(dir.join("r.xml"))
        .arg("--json")
        .arg(dir.join("r.jsonl"))
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while trace_ids(&json_lines(&dir.join("r.jsonl"))).len() < 2 {
        assert!(Instant::now() < deadline, "two verdicts never came");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, ids)
}

fn wait(child: &mut std::process::Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not stop within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &std::process::Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn ctrl_c_stops_the_run_with_every_finished_verdict_written() {
    let dir = scratch("sigint");
    let (mut child, ids) = start_hanging_run(&dir);
    // The third trace hangs in its adapter; the first two are done.
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "-INT");
    // The trace in flight ends at the adapter's deadline (5 s).
    let status = wait(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(130), "{status:?}");

    let json = json_lines(&dir.join("r.jsonl"));
    assert_eq!(json[0]["type"], "run");
    assert_eq!(json[0]["suite"], "tcp");
    let done = trace_ids(&json);
    assert!(done.len() >= 2 && done.len() < 5, "{done:?}");
    assert_eq!(done[..2], ids[..2]);
    let end = json.last().unwrap();
    assert_eq!(end["type"], "end");
    assert_eq!(end["complete"], false);

    let report = std::fs::read_to_string(dir.join("r.txt")).unwrap();
    assert!(
        report.starts_with(&format!(
            "INCOMPLETE: interrupted after {} of 5 traces",
            done.len()
        )),
        "{report}"
    );
    let verdicts = report.split("verdicts:\n").nth(1).unwrap();
    for id in &done {
        assert!(
            verdicts.contains(id.as_str()),
            "{id} missing from\n{verdicts}"
        );
    }
    assert!(!verdicts.contains(ids[4].as_str()));

    let xml = std::fs::read_to_string(dir.join("r.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| n.attribute("name").unwrap().to_string())
        .collect();
    assert_eq!(cases, done);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Killed outright (no chance to finish): the JSON results hold every
/// verdict that came, and the report and JUnit, replaced whole each time,
/// are complete files for the verdicts they hold.
#[test]
fn a_killed_run_leaves_complete_files() {
    let dir = scratch("sigkill");
    let (mut child, ids) = start_hanging_run(&dir);
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "-KILL");
    wait(&mut child, Duration::from_secs(10));
    // The adapter hangs in a process group of its own, which it leads:
    // end it (the harness that would have is gone).
    let pid = std::fs::read_to_string(dir.join("opens.pid")).unwrap();
    let pgid = Command::new("ps")
        .args(["-o", "pgid=", "-p", pid.trim()])
        .output()
        .unwrap();
    let pgid = String::from_utf8_lossy(&pgid.stdout).trim().to_string();
    assert!(
        !pgid.is_empty(),
        "the adapter ({pid}) is gone: who ended it?"
    );
    let ended = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status()
        .unwrap();
    assert!(ended.success());

    let json = json_lines(&dir.join("r.jsonl"));
    assert_eq!(trace_ids(&json), ids[..2]);
    let report = std::fs::read_to_string(dir.join("r.txt")).unwrap();
    assert!(report.starts_with("INCOMPLETE: "), "{report}");
    assert!(report.contains("\nverdicts:\n"), "{report}");
    let xml = std::fs::read_to_string(dir.join("r.xml")).unwrap();
    roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shards_run_apart_merge_into_the_unsharded_report() {
    let dir = scratch("shards");
    let p = |name: &str| dir.join(name).display().to_string();
    let (code, _, err) = tracewright(&[
        "replay",
        "tcp",
        "--report",
        &p("full.txt"),
        "--junit",
        &p("full.xml"),
        "--json",
        &p("full.jsonl"),
    ]);
    assert_eq!(code, 0, "{err}");
    let mut shard_files = Vec::new();
    let mut seen = Vec::new();
    for k in 1..=3 {
        let f = p(&format!("shard{k}.jsonl"));
        let (code, _, err) =
            tracewright(&["replay", "tcp", "--shard", &format!("{k}/3"), "--json", &f]);
        assert_eq!(code, 0, "{err}");
        let lines = json_lines(Path::new(&f));
        assert_eq!(lines[0]["shard"], format!("{k}/3"));
        let ids = trace_ids(&lines);
        assert!(
            ids.len() >= common::tcp_traces() / 3,
            "shard {k}: {} traces",
            ids.len()
        );
        seen.extend(ids);
        shard_files.push(f);
    }
    seen.sort();
    let mut all = trace_ids(&json_lines(&dir.join("full.jsonl")));
    all.sort();
    assert_eq!(seen, all, "the shards are disjoint and cover the corpus");

    let mut args = vec!["merge".to_string()];
    args.extend(shard_files.iter().cloned());
    args.extend([
        "--report".into(),
        p("merged.txt"),
        "--junit".into(),
        p("merged.xml"),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = tracewright(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("merged.txt")).unwrap(),
        std::fs::read_to_string(dir.join("full.txt")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("merged.xml")).unwrap(),
        std::fs::read_to_string(dir.join("full.xml")).unwrap()
    );

    // A shard missing is said, and fails the merge.
    let (code, out, _) = tracewright(&["merge", &shard_files[0], &shard_files[2]]);
    assert_eq!(code, 1);
    assert!(
        out.contains("INCOMPLETE: tcp against bundled (profile rfc9293): shard 2/3 is missing"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn replay_all_names_its_files_and_suites_and_merges_them() {
    let dir = scratch("all");
    let p = |name: &str| dir.join(name).display().to_string();
    let (code, _, err) = tracewright(&[
        "replay",
        "all",
        "--report",
        &p("out.txt"),
        "--junit",
        &p("out.xml"),
        "--json",
        &p("out.jsonl"),
    ]);
    assert_eq!(code, 0, "{err}");
    for suite in ["tcp", "tcp-listener", "h2"] {
        let json = json_lines(&dir.join(format!("out-{suite}.jsonl")));
        assert_eq!(json[0]["suite"], suite);
        let xml = std::fs::read_to_string(dir.join(format!("out-{suite}.xml"))).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(
            doc.root_element().attribute("name"),
            Some(format!("tracewright {suite} bundled").as_str())
        );
        assert!(dir.join(format!("out-{suite}.txt")).is_file());
    }
    let (code, out, err) = tracewright(&[
        "merge",
        &p("out-tcp.jsonl"),
        &p("out-tcp-listener.jsonl"),
        &p("out-h2.jsonl"),
        "--junit",
        &p("merged.xml"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("tracewright merged report: 3 runs"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "tcp-listener against bundled (profile rfc9293): {n} traces: {n} pass",
            n = common::listener_traces()
        )),
        "{out}"
    );
    let xml = std::fs::read_to_string(dir.join("merged.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.root_element()
            .children()
            .filter(|n| n.has_tag_name("testsuite"))
            .count(),
        3
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_shards_are_usage_errors() {
    for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
        let (code, _, err) = tracewright(&["replay", "tcp", "--shard", bad]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("K/N"), "{err}");
    }
}

/// A target with a deviations list: each shard passes on its own (an entry
/// about another shard's trace is not stale here) and the merge is the
/// unsharded report, stale counts and all.
#[test]
fn shards_of_a_target_with_deviations_pass_alone_and_merge() {
    let dir = scratch("shards-dev");
    let p = |name: &str| dir.join(name).display().to_string();
    let base = [
        "replay",
        "tcp",
        "--target",
        "smoltcp",
        "--profile",
        "smoltcp",
    ];
    let full_txt = p("full.txt");
    let mut full = base.to_vec();
    full.extend(["--report", &full_txt]);
    let (code, _, err) = tracewright(&full);
    assert_eq!(code, 0, "{err}");
    let mut files = Vec::new();
    for k in 1..=2 {
        let f = p(&format!("s{k}.jsonl"));
        let shard = format!("{k}/2");
        let mut args = base.to_vec();
        args.extend(["--shard", &shard, "--json", &f]);
        let (code, out, err) = tracewright(&args);
        assert_eq!(code, 0, "shard {k}: {out}{err}");
        files.push(f);
    }
    let (code, out, err) =
        tracewright(&["merge", &files[0], &files[1], "--report", &p("merged.txt")]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("merged.txt")).unwrap(),
        std::fs::read_to_string(dir.join("full.txt")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
