//! The bundled TCP endpoint and HTTP/2 connection of tracewright: sans-IO,
//! written from RFC 9293 and RFC 6298 (TCP) and RFC 9113 (HTTP/2, in
//! [`h2`]), depending on nothing of tracewright's (a conformance check of
//! the model against itself would prove nothing).
//!
//! Every machine here has one shape, after quinn-proto's: inputs are
//! `handle_*` (`handle_segment(now, …)`, `handle_timeout(now)`, or
//! `handle_bytes` for HTTP/2) and the application's calls; outputs are
//! `poll_*` (`poll_transmit()`, `poll_event()`, `poll_timeout()`), polled
//! after each input in the order each type documents. TCP: one [`Endpoint`]
//! (RFC 9293 §3.10), or a [`Listener`] holding many connections behind one
//! port: a half-open queue, an accept queue and SYN cookies (RFC 4987).
//! Sequence numbers are [`SeqNumber`]s, compared modulo 2³² (RFC 9293 §3.4).
pub mod h2;
mod listener;
mod seq;
mod tcp;
#[cfg(test)]
mod tests;

pub use listener::{Listener, ListenerConfig, ListenerEvent};
pub use seq::SeqNumber;
pub use std::time::Duration;
pub use tcp::{CallError, Config, Endpoint, Event, Flags, Instant, Segment, State};
