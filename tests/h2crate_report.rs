//! The h2 crate's report (`replay h2 --target h2crate`), as an insta
//! snapshot in reports/, with its documented deviations applied as the CLI
//! applies them: the target, the corpus and the list all come from the
//! registry. Review a change with `cargo insta review`.

use std::path::Path;

use tracewright_conformance::profile::Profile;
use tracewright_conformance::registry::{self, Protocol, Suite};

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
