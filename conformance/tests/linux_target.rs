//! A few short traces against the running kernel (`--target linux`): a
//! handshake, a RST from a closed port, data both ways. Where this machine
//! cannot make a network namespace, the test says so on stderr and skips.
#![cfg(target_os = "linux")]

use std::path::Path;

use tracewright_conformance::linux::{prepare, LinuxTarget};
use tracewright_conformance::load::{load_trace, parse_trace};
use tracewright_conformance::profile::Profile;
use tracewright_conformance::replay::{replay, Verdict};

#[test]
fn short_traces_pass_against_the_kernel() {
    if let Err(e) = prepare() {
        eprintln!("skipped: {e}");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/tcp");
    let ids = [
        // Passive open, then data from the harness acknowledged.
        "tcp-server-established-recv-pa-sends-a-to-established",
        // Active open, then data from the IUT.
        "tcp-client-established-app-send-sends-pa-to-established",
        // A SYN to a closed port is answered with a RST.
        "tcp-server-closed-recv-s-sends-ra-to-closed",
    ];
    // The namespace is the thread's: one thread for the three traces.
    let results = std::thread::spawn(move || {
        let mut target = LinuxTarget::new();
        ids.map(|id| {
            let trace = load_trace(&dir.join(format!("{id}.yaml"))).unwrap();
            replay(&trace, &mut target, &Profile::rfc9293())
        })
    })
    .join()
    .unwrap();
    for r in results {
        assert_eq!(r.verdict, Verdict::Pass, "{}: {:?}", r.id, r.transcript);
    }
}

/// The hand-written trace of `conformance/tests/fixtures/delivered.yaml`,
/// with the counts the application must have received after the harness's
/// first and second byte (a wrong count at step 9 or 12 fails).
fn delivered_trace(first: u32, second: u32) -> tracewright_conformance::trace::Trace {
    let text = include_str!("fixtures/delivered.yaml")
        .replace("FIRST", &first.to_string())
        .replace("SECOND", &second.to_string());
    parse_trace(Path::new("tcp-server-established-delivered.yaml"), &text).unwrap()
}

/// The kernel's application counts the harness's data (the passive
/// connection accepted lazily, 0 before), and a wrong count fails.
#[test]
fn delivered_counts_what_the_kernel_received() {
    if let Err(e) = prepare() {
        eprintln!("skipped: {e}");
        return;
    }
    let results = std::thread::spawn(|| {
        let mut target = LinuxTarget::new();
        [(1, 2), (1, 3), (2, 2)]
            .map(|(a, b)| replay(&delivered_trace(a, b), &mut target, &Profile::rfc9293()))
    })
    .join()
    .unwrap();
    let [pass, wrong_second, wrong_first] = results;
    assert_eq!(pass.verdict, Verdict::Pass, "{:?}", pass.transcript);
    assert!(
        matches!(&wrong_second.verdict, Verdict::Fail { step: 12, got: Some(g), .. } if g == "delivered 2"),
        "{:?}",
        wrong_second.verdict
    );
    assert!(
        matches!(&wrong_first.verdict, Verdict::Fail { step: 9, got: Some(g), .. } if g == "delivered 1"),
        "{:?}",
        wrong_first.verdict
    );
}
