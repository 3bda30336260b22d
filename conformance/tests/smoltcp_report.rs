//! smoltcp's report, as an insta snapshot in reports/ (review a change
//! with `cargo insta review`), and how documented deviations show in a
//! report.

use std::path::{Path, PathBuf};

use tracewright_conformance::bundled::BundledTarget;
use tracewright_conformance::deviations::Deviations;
use tracewright_conformance::load::load_corpus;
use tracewright_conformance::profile::Profile;
use tracewright_conformance::report::run_corpus;
use tracewright_conformance::smoltcp::SmoltcpTarget;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn deviations_file() -> PathBuf {
    root().join("conformance/deviations/smoltcp.yaml")
}

/// The traces smoltcp cannot run: its TCP socket has no call to shut
/// down reading, so `app: shutdown_read` is unsupported (inconclusive).
/// Every other trace must pass or fail as a documented deviation.
fn unsupported_shutdown_read(report: &tracewright_conformance::report::Report) -> usize {
    report
        .results
        .iter()
        .filter(|r| {
            matches!(&r.verdict, tracewright_conformance::replay::Verdict::Inconclusive { reason, .. }
                if reason.contains("shut down reading"))
                && r.id.contains("-app-shutdown-read-")
        })
        .count()
}

/// smoltcp against its own profile's corpus (`traces/tcp-smoltcp`), the
/// report in reports/; and against the rfc9293 corpus, where the same
/// deviations explain every non-pass.
#[test]
fn tcp_smoltcp_report() {
    let rfc = load_corpus(&root().join("traces/tcp")).unwrap();
    let report = run_corpus(
        &rfc,
        &mut SmoltcpTarget::new(),
        &Profile::rfc9293(),
        &mut |_, _| {},
    )
    .with_deviations(
        Deviations::load(&deviations_file())
            .unwrap()
            .for_profile("rfc9293"),
    );
    let c = report.counts();
    assert_eq!(
        (c.fail, c.error, c.inconclusive, c.stale),
        (0, 0, unsupported_shutdown_read(&report), 0),
        "{}",
        report.render()
    );
    let corpus = load_corpus(&root().join("traces/tcp-smoltcp")).unwrap();
    assert!(corpus.traces.iter().all(|t| t.profile == "smoltcp"));
    let profile = Profile::load(&root().join("profiles/smoltcp.yaml")).unwrap();
    let deviations = Deviations::load(&deviations_file())
        .unwrap()
        .for_profile("smoltcp");
    let report = run_corpus(&corpus, &mut SmoltcpTarget::new(), &profile, &mut |_, _| {})
        .with_deviations(Deviations {
            // The path as a user passes it, not this machine's.
            file: "conformance/deviations/smoltcp.yaml".into(),
            ..deviations
        });
    let c = report.counts();
    assert_eq!(c.stale, 0, "stale deviation entries:\n{}", report.render());
    assert_eq!(
        c.error + c.inconclusive,
        unsupported_shutdown_read(&report),
        "{}",
        report.render()
    );
    insta::with_settings!({snapshot_path => "../../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("tcp-smoltcp", report.render());
    });
}

#[test]
fn smoltcp_replay_is_deterministic() {
    let corpus = load_corpus(&root().join("traces/tcp")).unwrap();
    let profile = Profile::rfc9293();
    let a = run_corpus(&corpus, &mut SmoltcpTarget::new(), &profile, &mut |_, _| {});
    let b = run_corpus(&corpus, &mut SmoltcpTarget::new(), &profile, &mut |_, _| {});
    assert_eq!(a.render(), b.render());
}

/// smoltcp's report with a deviations file that lists a trace it fails,
/// one it passes and an id that does not exist; beside them an unlisted
/// failure.
#[test]
fn deviations_show_in_the_report() {
    let corpus = load_corpus(&root().join("traces/tcp")).unwrap();
    let profile = Profile::rfc9293();
    let listed_fail = "tcp-client-syn-sent-rto-silent-to-closed";
    let unlisted_fail = "tcp-client-close-wait-app-abort-sends-r-to-closed";
    let listed_pass = "tcp-client-established-recv-a-silent-to-established";
    let text = format!(
        "target: smoltcp\ndeviations:\n  - id: {listed_fail}\n    reason: no SYN retry limit\n  - id: {listed_pass}\n    reason: once failed\n  - id: tcp-no-such-trace\n    reason: gone\n"
    );
    let d = Deviations::parse("test.yaml", &text).unwrap();
    let report =
        run_corpus(&corpus, &mut SmoltcpTarget::new(), &profile, &mut |_, _| {}).with_deviations(d);
    let text = report.render();
    let verdict = |id: &str| {
        text.lines()
            .rev()
            .find(|l| l.split_whitespace().last() == Some(id))
            .unwrap_or_else(|| panic!("{id} not in the verdicts"))
            .trim()
            .to_string()
    };
    assert!(verdict(listed_fail).starts_with("DEVIATION"), "{text}");
    assert!(
        text.contains(&format!("DEVIATION {listed_fail}\n")),
        "{text}"
    );
    assert!(
        text.contains("  documented deviation: no SYN retry limit\n"),
        "{text}"
    );
    assert!(verdict(unlisted_fail).starts_with("FAIL"), "{text}");
    assert!(verdict(listed_pass).starts_with("PASS (STALE)"), "{text}");
    assert!(
        text.contains(&format!("STALE DEVIATION {listed_pass}\n")),
        "{text}"
    );
    assert!(
        text.contains("  STALE tcp-no-such-trace: no trace has this id"),
        "{text}"
    );
    let c = report.counts();
    assert_eq!(c.deviation, 1);
    assert_eq!(c.stale, 2);
    assert!(c.fail > 0);
    let xml = report.junit_xml();
    assert!(
        xml.contains("documented deviation: no SYN retry limit"),
        "{xml}"
    );
    assert!(xml.contains("stale deviation entry"), "{xml}");

    // Without deviations the report is as it always was.
    let plain = run_corpus(&corpus, &mut BundledTarget::new(), &profile, &mut |_, _| {});
    assert!(!plain.render().contains("deviation"));
}

#[test]
fn a_malformed_deviations_file_names_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("tracewright-dev-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.yaml");
    std::fs::write(
        &path,
        "target: smoltcp\ndeviations:\n  - id: a\n    reason: fine\n  - id: b\n    reson: typo\n",
    )
    .unwrap();
    let e = Deviations::load(&path).unwrap_err().to_string();
    let file = path.display().to_string();
    assert!(e.starts_with(&format!("{file}:6:")), "{e}");
    assert!(e.contains("deviations[1]"), "{e}");
    assert!(e.contains("reson"), "{e}");
    std::fs::write(
        &path,
        "target: smoltcp\ndeviations:\n  - id: a\n    reason: \"  \"\n",
    )
    .unwrap();
    let e = Deviations::load(&path).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("{file}:3:1: deviations[0].reason: empty: every deviation needs its reason")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_smoltcp_deviations_file_loads_and_names_smoltcp() {
    let d = Deviations::load(&deviations_file()).unwrap();
    assert_eq!(d.target, "smoltcp");
    assert!(d.entries.iter().all(|e| e.reason.len() > 40));
}

#[test]
fn capture_writes_one_pcap_per_trace() {
    use tracewright_conformance::report::run_corpus_capturing;
    let mut corpus = load_corpus(&root().join("traces/tcp")).unwrap();
    corpus.traces.truncate(3);
    let dir = std::env::temp_dir().join(format!("tracewright-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = run_corpus_capturing(
        &corpus,
        &mut SmoltcpTarget::new(),
        &Profile::rfc9293(),
        Some(&dir),
        &mut |_, _| {},
    );
    for t in &corpus.traces {
        let bytes = std::fs::read(dir.join(format!("{}.pcap", t.id))).unwrap();
        // pcap magic, then LINKTYPE_RAW (101) at offset 20, then packets.
        assert_eq!(&bytes[..4], &0xa1b2c3d4u32.to_le_bytes());
        assert_eq!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()), 101);
        assert!(bytes.len() > 24 + 16 + 40, "{}: no packets", t.id);
    }
    assert_eq!(report.results.len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}
