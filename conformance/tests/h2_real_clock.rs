//! The replay engine on a real clock serves HTTP/2 as it serves TCP: an
//! expected frame is waited for up to the target's tolerance, and one that
//! does not come within it fails the trace with "nothing came", soon.

use std::path::Path;
use std::time::Duration;

use tracewright_conformance::h2::{
    load_h2_corpus, replay_h2, BundledH2, H2App, H2Settings, H2Target, StreamState,
};
use tracewright_conformance::replay::Verdict;
use tracewright_conformance::target::{Clock, TargetError};
use tracewright_conformance::trace::Role;

const TOLERANCE: Duration = Duration::from_millis(30);

/// The bundled connection behind a wire that hands its bytes over only as
/// time passes (`advance`), never at once (`poll`); with `lost`, never.
struct Delayed {
    inner: BundledH2,
    lost: bool,
    /// The time the replay asked the wire to wait, in all: what the test
    /// bounds, rather than the wall clock of a shared machine.
    waited: Duration,
}

impl H2Target for Delayed {
    fn name(&self) -> &str {
        "delayed"
    }
    fn clock(&self) -> Clock {
        Clock::Real {
            tolerance: TOLERANCE,
        }
    }
    fn open(&mut self, role: Role, settings: &H2Settings) -> Result<(), TargetError> {
        self.inner.open(role, settings)
    }
    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        self.inner.app(call)
    }
    fn deliver(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.inner.deliver(bytes)
    }
    fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
        Ok(Vec::new())
    }
    fn advance(&mut self, d: Duration) -> Result<Vec<u8>, TargetError> {
        std::thread::sleep(d);
        self.waited += d;
        let bytes = self.inner.poll()?;
        Ok(if self.lost { Vec::new() } else { bytes })
    }
    fn stream_state(&mut self, stream: u32) -> Result<Option<StreamState>, TargetError> {
        self.inner.stream_state(stream)
    }
    fn close(&mut self) {
        self.inner.close()
    }
}

#[test]
fn h2_frames_are_waited_for_within_the_tolerance() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut corpus = load_h2_corpus(&root.join("traces/h2")).unwrap();
    corpus
        .traces
        .retain(|t| t.id.starts_with("h2-server-open-"));
    assert!(!corpus.traces.is_empty());
    for t in &corpus.traces {
        let mut late = Delayed {
            inner: BundledH2::new(),
            lost: false,
            waited: Duration::ZERO,
        };
        assert_eq!(replay_h2(t, &mut late).verdict, Verdict::Pass, "{}", t.id);

        let mut lost = Delayed {
            inner: BundledH2::new(),
            lost: true,
            waited: Duration::ZERO,
        };
        let verdict = replay_h2(t, &mut lost).verdict;
        // The server's SETTINGS, expected first, never comes.
        match verdict {
            Verdict::Fail {
                step: 0, reason, ..
            } => assert_eq!(reason, "nothing came"),
            v => panic!("{}: {v:?}", t.id),
        }
        // It waited for the tolerance, not for a per-step deadline.
        assert!(lost.waited <= TOLERANCE * 2, "{}: {:?}", t.id, lost.waited);
    }
}
