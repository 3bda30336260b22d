//! tracewright's conformance side: the `Target` trait and its adapters,
//! replay and verdicts, and reports. The trace format and the profiles are
//! the vocabulary crate's (`tracewright_vocab`), re-exported here under
//! their old paths.
pub mod bundled;
pub mod deviations;
pub mod exec;
pub mod h2;
pub mod h2crate;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod registry;
pub mod replay;
pub mod report;
pub mod smoltcp;
pub mod target;
pub mod wire;

pub use tracewright_vocab::{load, profile, trace, yaml};
