//! The bundled TCP endpoint and HTTP/2 connection of tracewright: sans-IO,
//! written from RFC 9293 and RFC 6298 (TCP) and RFC 9113 (HTTP/2, in
//! [`h2`]), depending on nothing of tracewright's (a conformance check of
//! the model against itself would prove nothing).
//!
//! TCP inputs are `handle_segment(now, …)`, `handle_timeout(now)` and the user
//! calls of RFC 9293 §3.10; outputs are `poll_transmit()` and
//! `poll_timeout()`. A [`Listener`] holds many connections behind one port:
//! a half-open queue, an accept queue and SYN cookies (RFC 4987).
pub mod h2;
mod listener;
mod tcp;
#[cfg(test)]
mod tests;

pub use listener::{Listener, ListenerConfig};
pub use std::time::Duration;
pub use tcp::{CallError, Config, Endpoint, Flags, Instant, Segment, State};
