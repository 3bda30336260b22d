//! HTTP/2 on the conformance side, one module per stage: the harness's
//! frame codec ([`codec`]), the [`H2Target`] trait ([`target`]), the
//! bundled target ([`bundled`]), servers over a real socket ([`net`]) and HTTP/2's plug-in of the replay engine
//! ([`replay`]). The trace format (steps, frames, the loader) is
//! `tracewright_vocab::h2`, re-exported here; running a corpus is
//! [`crate::corpus`]'s, as for TCP.
//!
//! ```yaml
//! steps:
//!   - expect: {any_of: [{type: SETTINGS, max_concurrent_streams: 2}]}  # the IUT's preface
//!   - send: {type: SETTINGS, initial_window_size: 21845, max_concurrent_streams: 2}
//!   - expect: {any_of: [{type: SETTINGS, ack: true}]}
//!   - send: {type: HEADERS, stream: 1, end_stream: true}
//!   - app: {respond: {stream: 1, end_stream: false}}
//!   - expect: {any_of: [{type: HEADERS, stream: 1}]}
//!   - app: {data: {stream: 1, end_stream: false, len: 21845}}
//!   - expect: {any_of: [{type: DATA, stream: 1, len: 21845}]}
//!   - send: {type: DATA, stream: 1, len: 1}
//!   - expect: {any_of: [{type: RST_STREAM, stream: 1, error: STREAM_CLOSED}, {type: GOAWAY, error: STREAM_CLOSED}]}
//!   - state: {stream: 1, is: closed}
//! ```
//!
//! Semantics, as for TCP (the replay engine is the same): `expect` takes
//! the next frame the IUT emitted and matches it against `any_of`; the
//! first pattern is the path the trace goes on with, another one is a path
//! the RFC allows that the trace does not follow (inconclusive, unless the
//! trace ends there). The pattern `{type: NONE}` matches silence: nothing
//! emitted. A frame nobody expects before the next `send` or `app`, or at
//! the end, fails the trace. What HTTP/2 adds (WINDOW_UPDATE dropped, DATA
//! runs joined) is in [`replay`].

pub mod bundled;
pub mod client;
pub mod codec;
pub mod exec;
pub mod net;
pub mod replay;
pub mod servers;
pub mod target;

pub use tracewright_vocab::h2::*;

pub use bundled::{iut_settings, settings_of, BundledH2};
pub use codec::{decode_frames, Encoder, PREFACE};
pub use net::NetH2;
pub use replay::{replay_h2, replay_h2_with};
pub use target::{H2Settings, H2Target, StreamState, UnknownStreamState};

/// Running an HTTP/2 corpus is the shared runner's; here under its old path.
pub use crate::corpus::run_h2_corpus;
