//! The one trait every stack under test is driven through.
//!
//! A target opens a fresh implementation under test (IUT) per trace, applies
//! application calls, takes segments from the harness, lets time pass, and
//! hands back what the IUT emitted. Sequence numbers here are absolute: the
//! replay engine maps the trace's relative numbers.

use std::path::Path;
use std::time::Duration;

use crate::profile::Profile;
use crate::trace::{AppCall, Flags, Role, TcpState, Wait};

/// The harness's port (the IUT's peer).
pub const HARNESS_PORT: u16 = 40000;
/// The IUT's port.
pub const IUT_PORT: u16 = 5000;
/// The harness's ISN: relative sequence number 0 of every `send`.
pub const HARNESS_ISN: u32 = 0x0100_0000;

/// A segment on the wire between harness and IUT, absolute numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: Flags,
    pub window: u16,
    pub payload: Vec<u8>,
}

/// How a target keeps time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// In-process on a virtual clock: waits cost nothing, timing is exact.
    Virtual,
    /// Real time: a deadline holds within `tolerance`.
    Real { tolerance: Duration },
}

/// What went wrong in a target, as a verdict needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The target cannot perform this step (the trace is inconclusive for it),
    /// as a BoGo shim's "unsupported" exit code.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The target broke: setup failed, a process died (an error verdict).
    #[error("target broke: {0}")]
    Broken(String),
}

pub trait Target {
    /// A short name for reports (`bundled`).
    fn name(&self) -> &str;
    fn clock(&self) -> Clock;
    /// How long a symbolic wait lasts on this target: the profile's time,
    /// unless the target fixes a timer regardless of it (Linux's TIME-WAIT).
    fn resolve_wait(&self, w: Wait, profile: &Profile) -> Duration {
        profile.resolve(w)
    }
    /// How late, beyond the clock's tolerance, a timer of the IUT that is
    /// due at the end of a wait of `wait` may fire (a kernel's timer wheel
    /// rounds long timers up). What the trace expects after the wait is
    /// looked for that much longer; nothing may still come early.
    fn timer_slack(&self, wait: Duration) -> Duration {
        let _ = wait;
        Duration::ZERO
    }
    /// A fresh IUT for one trace, in `role`, with the profile's parameters.
    fn open(&mut self, role: Role, profile: &Profile) -> Result<(), TargetError>;
    /// An application call on the IUT.
    fn app(&mut self, call: &AppCall) -> Result<(), TargetError>;
    /// Deliver a segment from the harness.
    fn deliver(&mut self, seg: Segment) -> Result<(), TargetError>;
    /// Let `d` pass; every segment emitted meanwhile, with its offset from
    /// the start of the wait.
    fn advance(&mut self, d: Duration) -> Result<Vec<(Duration, Segment)>, TargetError>;
    /// What the IUT emitted by now.
    fn poll(&mut self) -> Result<Vec<Segment>, TargetError>;
    /// The IUT's RFC state, where the target can tell.
    fn state(&mut self) -> Option<TcpState>;
    /// How many bytes the IUT's application has received on its current
    /// connection (since the last listen or connect, or the SYN that
    /// reopened TIME-WAIT), where the target can tell. A target may read
    /// the data to count it.
    fn delivered(&mut self) -> Result<Option<u64>, TargetError> {
        Ok(None)
    }
    /// Tear the IUT down.
    fn close(&mut self);
    /// Write what crosses the wire from the next `open()` on to a pcap
    /// file at `path` (`LINKTYPE_RAW`, IP packets), until `close()`;
    /// `None` stops capturing. A target that cannot capture says
    /// `Unsupported`.
    fn capture(&mut self, path: Option<&Path>) -> Result<(), TargetError> {
        let _ = path;
        Err(TargetError::Unsupported(format!(
            "the {} target does not capture packets",
            self.name()
        )))
    }
    /// An application call the trace expects the IUT to refuse
    /// (`refused:`, RFC 9293 §3.10.1 "connection already exists"), made
    /// as `app` makes it: `Ok(Some(error))` when the IUT refused it, with
    /// its error as the IUT words it, `Ok(None)` when it took it. A target
    /// that cannot tell says `Unsupported`.
    fn try_app(&mut self, call: &AppCall) -> Result<Option<String>, TargetError> {
        Err(TargetError::Unsupported(format!(
            "the {} target cannot tell whether `{call}` is refused",
            self.name()
        )))
    }
}
