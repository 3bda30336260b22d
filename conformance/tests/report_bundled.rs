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
