//! `delivered: N` steps: the in-process targets count the bytes the
//! harness sent in ESTABLISHED, and a wrong count fails the trace.

use std::path::Path;

use tracewright_conformance::bundled::BundledTarget;
use tracewright_conformance::load::parse_trace;
use tracewright_conformance::profile::Profile;
use tracewright_conformance::replay::{replay, Verdict};
use tracewright_conformance::smoltcp::SmoltcpTarget;
use tracewright_conformance::target::Target;

/// The hand-written trace of `conformance/tests/fixtures/delivered.yaml`,
/// with the counts the application must have received after the harness's
/// first and second byte (a wrong count at step 9 or 12 fails).
fn trace(first: u32, second: u32) -> tracewright_conformance::trace::Trace {
    let text = include_str!("fixtures/delivered.yaml")
        .replace("FIRST", &first.to_string())
        .replace("SECOND", &second.to_string());
    parse_trace(Path::new("tcp-server-established-delivered.yaml"), &text).unwrap()
}

fn check(target: &mut dyn Target) {
    let profile = Profile::rfc9293();
    let r = replay(&trace(1, 2), target, &profile);
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.transcript);
    let r = replay(&trace(1, 3), target, &profile);
    match &r.verdict {
        Verdict::Fail { step, got, .. } => {
            assert_eq!(*step, 12, "{:?}", r.verdict);
            assert_eq!(got.as_deref(), Some("delivered 2"));
        }
        other => panic!("a wrong count must fail: {other:?}"),
    }
    let r = replay(&trace(2, 2), target, &profile);
    assert!(
        matches!(r.verdict, Verdict::Fail { step: 9, .. }),
        "{:?}",
        r.verdict
    );
}

#[test]
fn bundled_counts_delivered_bytes() {
    check(&mut BundledTarget::new());
}

#[test]
fn smoltcp_counts_delivered_bytes() {
    check(&mut SmoltcpTarget::new());
}
