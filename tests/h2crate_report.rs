//! The h2 crate's reports (`replay h2 --target h2crate`, in-process, and
//! `h2crate-server` / `h2crate-client`, over a loopback socket on real
//! time), as insta snapshots in reports/, with the documented deviations
//! applied as the CLI applies them: the target, the corpus and the list all
//! come from the registry. Review a change with `cargo insta review`.

use std::path::Path;

use tracewright_conformance::profile::Profile;
use tracewright_conformance::registry::{self, Protocol, Suite};
use tracewright_conformance::replay::Verdict;
use tracewright_conformance::report::Report;
use tracewright_conformance::trace::Role;

/// `target`'s report on the h2 corpus, with its own deviations list.
fn report_of(target: &str) -> Report {
    let profile = Profile::rfc9293();
    let traces = Suite::H2.corpus(&profile);
    let entry = registry::lookup(target, Protocol::H2).unwrap();
    let mut opened = entry.open(target, Protocol::H2).unwrap();
    let deviations = registry::load_deviations(target, Suite::H2, &traces, &profile, None)
        .unwrap()
        .expect("the h2 crate has its own deviations list");
    let corpus = registry::load(Suite::H2, &traces, &profile).unwrap();
    registry::replay(
        &corpus,
        &mut opened,
        &profile,
        Some(deviations),
        None,
        &mut |_, _| {},
    )
    .unwrap()
}

fn kind(v: &Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail { .. } => "fail",
        Verdict::Inconclusive { .. } => "inconclusive",
        Verdict::Error { .. } => "error",
    }
}

/// Over a socket, on real time, the h2 crate gets the verdicts it gets
/// in-process on every trace of its role, and the other role's traces are
/// inconclusive: what differs is the transport and the clock, so a verdict
/// that differed would be the harness's (its PING, its tolerance), not h2's.
fn over_a_socket(target: &str, role: Role) {
    let inproc = report_of("h2crate");
    let net = report_of(target);
    let c = net.counts();
    assert_eq!((c.fail, c.error, c.stale), (0, 0, 0), "{}", net.render());
    let corpus = tracewright_conformance::h2::load_h2_corpus(Path::new("traces/h2")).unwrap();
    let mut same = 0;
    for ((t, a), b) in corpus.traces.iter().zip(&inproc.results).zip(&net.results) {
        assert_eq!((&t.id, &t.id), (&a.id, &b.id));
        if t.iut == role {
            assert_eq!(kind(&a.verdict), kind(&b.verdict), "{}", t.id);
            same += 1;
        } else {
            assert!(
                matches!(b.verdict, Verdict::Inconclusive { .. }),
                "{}: {:?}",
                t.id,
                b.verdict
            );
        }
    }
    assert!(same > 0);
    insta::with_settings!({snapshot_path => "../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(format!("h2-{target}"), net.render());
    });
}

#[test]
fn h2crate_server_over_a_socket_report() {
    over_a_socket("h2crate-server", Role::Server);
}

#[test]
fn h2crate_client_over_a_socket_report() {
    over_a_socket("h2crate-client", Role::Client);
}

#[test]
fn h2crate_report() {
    // The paths as a user passes them: cargo runs this from the package root.
    let profile = Profile::rfc9293();
    let traces = Suite::H2.corpus(&profile);
    assert_eq!(traces, Path::new("traces/h2"));
    let entry = registry::lookup("h2crate", Protocol::H2).unwrap();
    let mut target = entry.open("h2crate", Protocol::H2).unwrap();
    let deviations = registry::load_deviations("h2crate", Suite::H2, &traces, &profile, None)
        .unwrap()
        .expect("h2crate has its own deviations list");
    let corpus = registry::load(Suite::H2, &traces, &profile).unwrap();
    let report = registry::replay(
        &corpus,
        &mut target,
        &profile,
        Some(deviations),
        None,
        &mut |_, _| {},
    )
    .unwrap();
    let c = report.counts();
    // Every failure is documented, no entry is stale; what h2 cannot do
    // stays inconclusive, never a pass.
    assert_eq!((c.fail, c.error, c.stale), (0, 0, 0), "{}", report.render());
    assert!(c.pass > 0 && c.deviation > 0 && c.inconclusive > 0);
    insta::with_settings!({snapshot_path => "../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("h2-h2crate", report.render());
    });
}

#[test]
fn h2crate_serves_http2_only() {
    let e = registry::lookup("h2crate", Protocol::Tcp).err().unwrap();
    assert!(
        e.to_string()
            .starts_with("h2crate: the h2 crate has no TCP of its own (TCP targets: bundled,"),
        "{e}"
    );
    assert_eq!(
        registry::find("h2crate").unwrap().only,
        "the h2 crate has no TCP of its own"
    );
}
