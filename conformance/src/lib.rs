//! tracewright's conformance side, one module per stage: the targets
//! (`target` and its adapters, `h2::target`), replay and verdicts (one
//! engine in `replay`, each protocol a plug-in of it), running a corpus
//! (`corpus`), documented deviations, and reports. The trace format and
//! the profiles are the vocabulary crate's (`tracewright_vocab`),
//! re-exported here under their old paths.
pub mod bundled;
pub mod corpus;
pub mod deviations;
pub mod exec;
pub mod h2;
pub mod h2crate;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod pcap;
pub(crate) mod process;
pub mod registry;
pub mod replay;
pub mod report;
pub mod results;
pub mod smoltcp;
pub mod target;
pub mod wire;

pub use tracewright_vocab::{load, profile, trace, yaml};
