//! The bundled TCP endpoint of tracewright: sans-IO, written from RFC 9293
//! and RFC 6298, depending on nothing of tracewright's (a conformance check
//! of the model against itself would prove nothing).
//!
//! Inputs are `handle_segment(now, …)`, `handle_timeout(now)` and the user
//! calls of RFC 9293 §3.10; outputs are `poll_transmit()` and
//! `poll_timeout()`.
mod tcp;
#[cfg(test)]
mod tests;

pub use std::time::Duration;
pub use tcp::{CallError, Config, Endpoint, Flags, Instant, Segment, State};
