//! The bundled target's report, as an insta snapshot in reports/.
//! Review a change with `cargo insta review`.

use std::path::Path;

use tracewright_conformance::bundled::BundledTarget;
use tracewright_conformance::load::load_corpus;
use tracewright_conformance::profile::Profile;
use tracewright_conformance::report::run_corpus;

#[test]
fn tcp_bundled_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = load_corpus(&root.join("traces/tcp")).unwrap();
    let profile = Profile::load(&root.join("profiles/rfc9293.yaml")).unwrap();
    let report = run_corpus(&corpus, &mut BundledTarget::new(), &profile, &mut |_, _| {});
    insta::with_settings!({snapshot_path => "../../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("tcp-bundled", report.render());
    });
}

/// The bundled stack, configured from each profile, passes that profile's
/// corpus (its retry counts, RFC 5961 challenge ACKs, its timers).
#[test]
fn tcp_bundled_passes_every_profile_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (name, dir) in [
        ("bundled", "traces/tcp-bundled"),
        ("linux", "traces/tcp-linux"),
    ] {
        let corpus = load_corpus(&root.join(dir)).unwrap();
        assert!(corpus.errors.is_empty(), "{:?}", corpus.errors);
        let profile = Profile::load(&root.join(format!("profiles/{name}.yaml"))).unwrap();
        assert!(corpus.traces.iter().all(|t| t.profile == name));
        let report = run_corpus(&corpus, &mut BundledTarget::new(), &profile, &mut |_, _| {});
        // The bundled stack has no switch for Linux's RST+ACK on abort and
        // on close with data unread, or its SYN re-sent after a bad ACK in
        // SYN-SENT (abort_rst_ack, syn_sent_resend_syn): only the traces
        // through those may fail.
        let switched = |id: &str| {
            corpus.traces.iter().find(|t| t.id == id).is_some_and(|t| {
                t.covers.iter().any(|c| {
                    c.event.to_string() == "app abort"
                        || c.event.to_string() == "app close (data unread)"
                        || (c.state == "SYN-SENT" && c.event.to_string().starts_with("recv"))
                })
            })
        };
        let bad: Vec<&str> = report
            .results
            .iter()
            .filter(|r| r.verdict != tracewright_conformance::replay::Verdict::Pass)
            .map(|r| r.id.as_str())
            .filter(|id| !(name == "linux" && switched(id)))
            .collect();
        assert!(bad.is_empty(), "{name}: {bad:?}\n{}", report.render());
    }
}

#[test]
fn h2_bundled_report() {
    use tracewright_conformance::h2::{load_h2_corpus, run_h2_corpus, BundledH2};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = load_h2_corpus(&root.join("traces/h2")).unwrap();
    assert!(corpus.errors.is_empty(), "{:?}", corpus.errors);
    let report = run_h2_corpus(&corpus, &mut BundledH2::new(), &mut |_, _| {});
    insta::with_settings!({snapshot_path => "../../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("h2-bundled", report.render());
    });
}
