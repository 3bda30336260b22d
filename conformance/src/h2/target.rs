//! The one trait every HTTP/2 implementation under test is driven through,
//! shaped as the TCP [`crate::target::Target`] is: a clock with a
//! tolerance, the settings at `open`, capture, and a typed stream state.
//!
//! Bytes cross it, not frames: the harness frames and checks them, so a
//! target is a byte pipe with an application attached. Every argument and
//! answer is plain, serializable data, so that an external process can
//! stand behind the trait as one does for TCP (`crate::exec`), one JSON
//! line a call (the test below pins these shapes):
//!
//! | call                       | request                                                              | answer                                   |
//! |----------------------------|----------------------------------------------------------------------|------------------------------------------|
//! | `open(role, settings)`     | `{"op":"open","role":"server","settings":{"max_concurrent_streams":2,"initial_window_size":null}}` | `{"ok":true}` |
//! | `app(call)`                | `{"op":"app","call":{"respond":{"stream":1,"end_stream":false}}}`, `"goaway"` | `{"ok":true}`                    |
//! | `deliver(bytes)`           | `{"op":"deliver","bytes":HEX}`                                        | `{"ok":true}`                            |
//! | `poll()`, `advance(d)`     | `{"op":"poll"}`, `{"op":"advance","ms":10}`                           | `{"ok":true,"bytes":HEX}`                |
//! | `stream_state(stream)`     | `{"op":"state","stream":1}`                                           | `{"ok":true,"state":"half-closed (remote)"}` or `null` |

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::h2::H2App;
use crate::target::{Clock, TargetError};
use crate::trace::Role;

/// A stream's state (RFC 9113 §5.1), spelled as the RFC and the traces
/// spell it.
///
/// ```text
///                          +--------+
///                  send PP |        | recv PP
///                 ,--------+  idle  +--------.
///                /         |        |         \
///               v          +--------+          v
///        +----------+          |           +----------+
///        |          |          | send H /  |          |
/// ,------+ reserved |          | recv H    | reserved +------.
/// |      | (local)  |          |           | (remote) |      |
/// |      +---+------+          v           +------+---+      |
/// |          |             +--------+             |          |
/// |          |     recv ES |        | send ES     |          |
/// |   send H |     ,-------+  open  +-------.     | recv H   |
/// |          |    /        |        |        \    |          |
/// |          v   v         +---+----+         v   v          |
/// |      +----------+          |           +----------+      |
/// |      |   half-  |          |           |   half-  |      |
/// |      |  closed  |          | send R /  |  closed  |      |
/// |      | (remote) |          | recv R    | (local)  |      |
/// |      +----+-----+          |           +-----+----+      |
/// |           |                |                 |           |
/// |           | send ES /      |       recv ES / |           |
/// |           | send R /       v        send R / |           |
/// |           | recv R     +--------+   recv R   |           |
/// | send R /  `----------->|        |<-----------'  send R / |
/// | recv R                 | closed |               recv R   |
/// `----------------------->|        |<-----------------------'
///                          +--------+
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StreamState {
    #[serde(rename = "idle")]
    Idle,
    #[serde(rename = "reserved (local)")]
    ReservedLocal,
    #[serde(rename = "reserved (remote)")]
    ReservedRemote,
    #[serde(rename = "open")]
    Open,
    #[serde(rename = "half-closed (local)")]
    HalfClosedLocal,
    #[serde(rename = "half-closed (remote)")]
    HalfClosedRemote,
    #[serde(rename = "closed")]
    Closed,
}

impl StreamState {
    /// Every state, in the order of [`crate::h2::STREAM_STATES`].
    pub const ALL: [StreamState; 7] = [
        StreamState::Idle,
        StreamState::ReservedLocal,
        StreamState::ReservedRemote,
        StreamState::Open,
        StreamState::HalfClosedLocal,
        StreamState::HalfClosedRemote,
        StreamState::Closed,
    ];

    /// The RFC's spelling, as traces write it.
    pub fn name(self) -> &'static str {
        match self {
            StreamState::Idle => "idle",
            StreamState::ReservedLocal => "reserved (local)",
            StreamState::ReservedRemote => "reserved (remote)",
            StreamState::Open => "open",
            StreamState::HalfClosedLocal => "half-closed (local)",
            StreamState::HalfClosedRemote => "half-closed (remote)",
            StreamState::Closed => "closed",
        }
    }
}

impl fmt::Display for StreamState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no RFC 9113 §5.1 stream state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 9113 §5.1 stream state")]
pub struct UnknownStreamState(pub String);

impl FromStr for StreamState {
    type Err = UnknownStreamState;
    fn from_str(s: &str) -> Result<StreamState, UnknownStreamState> {
        StreamState::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| UnknownStreamState(s.to_string()))
    }
}

/// What the IUT announces in its SETTINGS (RFC 9113 §6.5.2) when it is
/// opened; `None` leaves the IUT's own default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct H2Settings {
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    pub max_concurrent_streams: Option<u32>,
    /// SETTINGS_INITIAL_WINDOW_SIZE.
    pub initial_window_size: Option<u32>,
    /// SETTINGS_MAX_FRAME_SIZE (absent in the JSON when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frame_size: Option<u32>,
    /// SETTINGS_ENABLE_PUSH, a client's (absent in the JSON when `None`):
    /// `Some(false)` announces 0, after which a PUSH_PROMISE is a
    /// connection error (RFC 9113 §6.5.2, §8.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_push: Option<bool>,
}

impl H2Settings {
    /// What the HTTP/2 model assumes of the IUT, and the corpus expects in
    /// its first SETTINGS: at most 2 concurrent streams.
    pub const MODEL: H2Settings = H2Settings {
        max_concurrent_streams: Some(2),
        initial_window_size: None,
        max_frame_size: None,
        enable_push: None,
    };

    /// These settings, with what `trace` asks the IUT to announce in its
    /// first SETTINGS beyond them (the receive windows a flow-control trace
    /// overruns, RFC 9113 §6.9; a client's ENABLE_PUSH 0, §6.5.2).
    pub fn for_trace(&self, trace: &crate::h2::H2Trace) -> H2Settings {
        let first = trace.steps.iter().find_map(|s| match s {
            crate::h2::H2Step::Expect(e) => e
                .any_of
                .first()
                .filter(|p| p.kind == crate::h2::FrameType::Settings && !p.ack),
            _ => None,
        });
        let mut s = *self;
        if let Some(p) = first {
            s.initial_window_size = p.initial_window_size.or(s.initial_window_size);
            s.max_frame_size = p.max_frame_size.or(s.max_frame_size);
            s.enable_push = p.enable_push.map(|v| v != 0).or(s.enable_push);
        }
        s
    }
}

/// The trait every HTTP/2 implementation under test is driven through.
pub trait H2Target {
    /// A short name for reports (`bundled`).
    fn name(&self) -> &str;
    /// How the target keeps time: in-process on a virtual clock, or real
    /// time with a tolerance within which an answer must come.
    fn clock(&self) -> Clock;
    /// A fresh IUT for one trace, in `role`, announcing `settings`.
    fn open(&mut self, role: Role, settings: &H2Settings) -> Result<(), TargetError>;
    /// An application call on the IUT.
    fn app(&mut self, call: &H2App) -> Result<(), TargetError>;
    /// Bytes from the harness.
    fn deliver(&mut self, bytes: &[u8]) -> Result<(), TargetError>;
    /// Every byte the IUT emitted since the last call, once it has
    /// processed everything delivered.
    fn poll(&mut self) -> Result<Vec<u8>, TargetError>;
    /// Lets `d` pass; every byte the IUT emitted meanwhile. An IUT without
    /// timers of its own on a virtual clock emits nothing by waiting: what
    /// it has is what `poll` gives.
    fn advance(&mut self, d: Duration) -> Result<Vec<u8>, TargetError> {
        let _ = d;
        self.poll()
    }
    /// A stream's RFC 9113 §5.1 state, where the target can tell.
    fn stream_state(&mut self, stream: u32) -> Result<Option<StreamState>, TargetError>;
    /// Tear the IUT down.
    fn close(&mut self);
    /// The IUT closed the connection (EOF or a reset): nothing more will
    /// come, so the replay stops waiting for it.
    fn closed(&self) -> bool {
        false
    }
    /// The IUT is a real server reached over the network: it announces
    /// its own SETTINGS whatever `open` asked (the replay learns them from
    /// its first SETTINGS), and its application answers requests by
    /// itself, when the trace does not say so.
    fn autonomous(&self) -> bool {
        false
    }
    /// Called after `open`: the trace has the IUT push (`app: push`,
    /// RFC 9113 §8.4) on `streams`. Where the IUT's application pushes
    /// with its answer to a request for some path (a server the suite
    /// configured to push), that path, which the harness then requests on
    /// those streams (`/` on the others); `None`: every request is `/`.
    fn push_requests(&mut self, streams: &[u32]) -> Option<String> {
        let _ = streams;
        None
    }
    /// Write what crosses the wire from the next `open()` on to a pcap
    /// file at `path`, until `close()`; `None` stops capturing. A target
    /// that cannot capture says `Unsupported`.
    fn capture(&mut self, path: Option<&Path>) -> Result<(), TargetError> {
        let _ = path;
        Err(TargetError::Unsupported(format!(
            "the {} HTTP/2 target does not capture",
            self.name()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The enum spells and serializes each state as the traces do, so the
    /// corpus is read and written unchanged.
    #[test]
    fn stream_states_are_spelled_as_the_traces_spell_them() {
        let names: Vec<&str> = StreamState::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names, crate::h2::STREAM_STATES);
        for s in StreamState::ALL {
            assert_eq!(s.name().parse::<StreamState>(), Ok(s));
            let yaml = serde_yaml::to_string(&s).unwrap();
            assert_eq!(serde_yaml::from_str::<String>(&yaml).unwrap(), s.name());
            assert_eq!(serde_yaml::from_str::<StreamState>(&yaml).unwrap(), s);
        }
        assert!("half-closed".parse::<StreamState>().is_err());
    }

    /// The data an exec adapter would exchange, as JSON (the table in the
    /// module doc).
    #[test]
    fn the_calls_data_is_json_as_an_adapter_reads_it() {
        fn json<T: Serialize>(v: &T) -> String {
            serde_json::to_string(v).unwrap()
        }
        assert_eq!(
            json(&H2Settings::MODEL),
            r#"{"max_concurrent_streams":2,"initial_window_size":null}"#
        );
        assert_eq!(
            json(&H2App::Respond {
                stream: 1,
                end_stream: false
            }),
            r#"{"respond":{"stream":1,"end_stream":false}}"#
        );
        assert_eq!(json(&H2App::Goaway), r#""goaway""#);
        assert_eq!(
            json(&StreamState::HalfClosedRemote),
            r#""half-closed (remote)""#
        );
        assert_eq!(json(&Role::Server), r#""server""#);
    }
}
