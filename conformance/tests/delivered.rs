//! `delivered: N` steps: the in-process targets count the bytes the
//! harness sent in ESTABLISHED, and a wrong count fails the trace.

use std::path::Path;

use tracewright_conformance::bundled::BundledTarget;
use tracewright_conformance::load::parse_trace;
use tracewright_conformance::profile::Profile;
use tracewright_conformance::replay::{replay, Verdict};
use tracewright_conformance::smoltcp::SmoltcpTarget;
use tracewright_conformance::target::Target;

/// A passive open, then two 1-byte segments from the harness, each
/// acknowledged; the application has received `first` bytes after the
/// first and `second` after the second.
fn trace(first: u32, second: u32) -> tracewright_conformance::trace::Trace {
    let text = format!(
        "format: tracewright/1
id: tcp-server-established-delivered
protocol: tcp
iut: server
profile: rfc9293
description: data from the harness reaches the application
covers: []
steps:
  - app: listen
  - delivered: 0
  - send: {{flags: S, seq: 0}}
  - expect: {{any_of: [{{flags: SA, seq: 0, ack: 1}}]}}
  - delivered: 0
  - send: {{flags: A, seq: 1, ack: 1}}
  - state: ESTABLISHED
  - send: {{flags: PA, seq: 1, ack: 1, len: 1}}
  - expect: {{any_of: [{{flags: A, seq: 1, ack: 2}}]}}
  - delivered: {first}
  - send: {{flags: PA, seq: 2, ack: 1, len: 1}}
  - expect: {{any_of: [{{flags: A, seq: 1, ack: 3}}]}}
  - state: ESTABLISHED
  - delivered: {second}
"
    );
    parse_trace(Path::new("tcp-server-established-delivered.yaml"), &text).unwrap()
}

fn check(target: &mut dyn Target) {
    let profile = Profile::rfc9293();
    let r = replay(&trace(1, 2), target, &profile);
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.transcript);
    let r = replay(&trace(1, 3), target, &profile);
    match &r.verdict {
        Verdict::Fail { step, got, .. } => {
            assert_eq!(*step, 13, "{:?}", r.verdict);
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
