//! `--target h2-client:COMMAND`: a client program as the IUT, the harness
//! as the server on 127.0.0.1. curl (`--http2-prior-knowledge`) replays the
//! h2 corpus's client-role traces; its report, with the deviations of
//! conformance/deviations/curl.yaml applied, is the snapshot
//! reports/h2-curl.snap. Skipped (with a line on stderr) where curl is not
//! installed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tracewright_conformance::h2::client::H2ClientTarget;
use tracewright_conformance::h2::{load_h2_corpus, run_h2_corpus};
use tracewright_conformance::profile::Profile;
use tracewright_conformance::registry::{self, Protocol, Suite};
use tracewright_conformance::replay::Verdict;
use tracewright_conformance::trace::Role;

const CURL: &str = "h2-client:curl --http2-prior-knowledge -s -o /dev/null {url}";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn have(program: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("{program} is not installed: skipped");
    }
    ok
}

#[test]
fn curl_report() {
    if !have("curl") {
        return;
    }
    let profile = Profile::rfc9293();
    let traces = Suite::H2.corpus(&profile);
    let mut target = registry::lookup(CURL, Protocol::H2)
        .unwrap()
        .open(CURL, Protocol::H2)
        .unwrap();
    let deviations = registry::load_deviations(
        CURL,
        Suite::H2,
        &traces,
        &profile,
        Some(Path::new("conformance/deviations/curl.yaml")),
    )
    .unwrap();
    let corpus = registry::load(Suite::H2, &traces, &profile).unwrap();
    let report = registry::replay(
        &corpus,
        &mut target,
        &profile,
        deviations,
        None,
        &mut |_, _| {},
    )
    .unwrap();
    let c = report.counts();
    // Every failure is explained, no entry is stale.
    assert_eq!((c.fail, c.error, c.stale), (0, 0, 0), "{}", report.render());
    insta::with_settings!({snapshot_path => "../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("h2-curl", report.render());
    });
}

#[test]
fn server_role_traces_are_inconclusive_and_start_nothing() {
    let mut corpus = load_h2_corpus(&root().join("traces/h2")).unwrap();
    corpus.traces.retain(|t| t.iut == Role::Server);
    corpus.traces.truncate(3);
    // A command that would leave a mark if it ran.
    let mark = std::env::temp_dir().join(format!("tracewright-h2client-{}", std::process::id()));
    let mut target = H2ClientTarget::new(&format!("touch {}", mark.display()));
    let report = run_h2_corpus(&corpus, &mut target, &mut |_, _| {});
    for r in &report.results {
        assert!(
            matches!(&r.verdict, Verdict::Inconclusive { reason, .. } if reason.contains("needs a server")),
            "{:?}",
            r.verdict
        );
    }
    assert!(!mark.exists(), "no client was started");
}

#[test]
fn a_client_that_hangs_is_killed_at_the_end_of_its_trace() {
    let mut corpus = load_h2_corpus(&root().join("traces/h2")).unwrap();
    corpus.traces.retain(|t| t.iut == Role::Client);
    corpus.traces.truncate(2);
    let dir =
        std::env::temp_dir().join(format!("tracewright-h2client-hang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pids = dir.join("pids");
    // Connects, says nothing, and stays (with a child of its own).
    let command = format!(
        "sleep 1000 < /dev/tcp/127.0.0.1/{{port}} & echo $! >> {}; wait",
        pids.display()
    );
    let mut target =
        H2ClientTarget::with_tolerance(&format!("bash -c '{command}'"), Duration::from_millis(200));
    let start = Instant::now();
    let report = run_h2_corpus(&corpus, &mut target, &mut |_, _| {});
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    for r in &report.results {
        assert!(
            matches!(&r.verdict, Verdict::Fail { reason, .. } if reason == "nothing came"),
            "{:?}",
            r.verdict
        );
    }
    let started: Vec<u32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(started.len(), 2);
    let deadline = Instant::now() + Duration::from_secs(5);
    let gone = |p: u32| {
        std::fs::read_to_string(format!("/proc/{p}/stat")).map_or(true, |s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
    };
    while !started.iter().all(|&p| gone(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(started.iter().all(|&p| gone(p)), "a client still runs");
    std::fs::remove_dir_all(&dir).unwrap();
}
