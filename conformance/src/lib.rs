//! tracewright's conformance side: the trace format, replay, targets, verdicts, reports.
pub mod trace;
pub mod profile;
