//! tracewright's conformance side: the trace format (`trace`, `load`), the
//! profiles, the `Target` trait and its adapters, replay and verdicts, and
//! reports.
pub mod bundled;
pub mod deviations;
pub mod exec;
pub mod h2;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod load;
pub mod profile;
pub mod replay;
pub mod report;
pub mod smoltcp;
pub mod target;
pub mod trace;
pub mod wire;
pub mod yaml;
