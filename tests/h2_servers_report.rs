//! The reports of the real HTTP/2 servers the suite runs (`replay h2
//! --target nghttpd|nginx|h2o|apache`), as insta snapshots in reports/,
//! with each server's documented deviations applied as the CLI applies
//! them: the target, the corpus and the list all come from the registry.
//! The reports name the server, not its port, and carry no timings.
//!
//! A server that is not installed is skipped with the reason printed,
//! except in CI (`CI=true`), where nghttpd and nginx are required
//! (`conformance/servers/install.sh` installs them all).

use tracewright_conformance::h2::servers::ServerKind;
use tracewright_conformance::profile::Profile;
use tracewright_conformance::registry::{self, Protocol, Suite};

fn required(kind: ServerKind) -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        && matches!(kind, ServerKind::Nghttpd | ServerKind::Nginx)
}

fn report(kind: ServerKind) {
    if let Err(e) = kind.find() {
        assert!(!required(kind), "{kind} is required in CI: {e}");
        eprintln!("{kind} skipped: {e}");
        return;
    }
    let name = kind.name();
    let profile = Profile::rfc9293();
    let traces = Suite::H2.corpus(&profile);
    let mut target = registry::lookup(name, Protocol::H2)
        .unwrap()
        .open(name, Protocol::H2)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let deviations = registry::load_deviations(name, Suite::H2, &traces, &profile, None)
        .unwrap()
        .expect("each server has its own deviations list");
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
    // Every failure is documented, no entry is stale; what a server cannot
    // be made to do stays inconclusive, never a pass.
    assert_eq!((c.fail, c.error, c.stale), (0, 0, 0), "{}", report.render());
    assert!(c.pass > 0 && c.inconclusive > 0, "{}", report.render());
    let text = report.render();
    assert!(!text.contains("127.0.0.1"), "a port in the report");
    insta::with_settings!({snapshot_path => "../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(format!("h2-{name}"), text);
    });
}

#[test]
fn nghttpd_report() {
    report(ServerKind::Nghttpd);
}

#[test]
fn nginx_report() {
    report(ServerKind::Nginx);
}

#[test]
fn h2o_report() {
    report(ServerKind::H2o);
}

#[test]
fn apache_report() {
    report(ServerKind::Apache);
}
