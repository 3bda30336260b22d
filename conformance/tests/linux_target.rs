//! A few short traces against the running kernel (`--target linux`): a
//! handshake, a RST from a closed port, data both ways. Where this machine
//! cannot make a network namespace, the test says so on stderr and skips.
#![cfg(target_os = "linux")]

use std::path::Path;

use tracewright_conformance::linux::{prepare, LinuxTarget};
use tracewright_conformance::load::load_trace;
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
