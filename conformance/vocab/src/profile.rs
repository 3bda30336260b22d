//! Profiles: the parameters that make one model and one corpus fit a given
//! stack (RTO, MSL, retry limits). Each is a YAML file a user can copy and
//! edit; `rfc9293` is built in.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::trace::Wait;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// The initial retransmission timeout (RFC 6298 §2.1).
    pub initial_rto_ms: u64,
    /// The maximum segment lifetime; TIME-WAIT lasts twice this (RFC 9293 §3.4.2).
    pub msl_ms: u64,
    /// Retransmissions of a SYN before giving up (RFC 9293 §3.8.3).
    pub syn_retries: u32,
    /// Retransmissions of a SYN-ACK before giving up.
    pub synack_retries: u32,
    /// Retransmissions of data or a FIN before giving up.
    pub retries: u32,
    /// The window the harness advertises.
    pub recv_window: u16,
    /// RFC 5961 §3: a RST resets only at exactly RCV.NXT; elsewhere in the
    /// window it gets a challenge ACK.
    pub rfc5961: bool,
    /// RFC 1337: a RST in TIME-WAIT is ignored.
    pub rfc1337: bool,
    /// RFC 9293 §3.10.7.4 MAY-2 (RFC 6191): a SYN arriving in TIME-WAIT
    /// with a sequence number above RCV.NXT reopens the connection.
    pub time_wait_reopen: bool,
    /// A listener's half-open (SYN) queue: connections in SYN-RECEIVED it
    /// keeps state for (RFC 4987 §2, §3.1). At least 1.
    pub syn_backlog: u32,
    /// A listener's accept queue: ESTABLISHED connections its application
    /// has not taken yet (the listen() backlog). At least 1.
    pub accept_backlog: u32,
    /// RFC 4987 §3.6: when the half-open queue is full, answer a SYN with a
    /// SYN-ACK whose ISN is a cookie, keeping no state.
    pub syn_cookies: bool,
    /// What a listener does with data carried on a SYN (RFC 9293
    /// §3.10.7.2: "any other control or text should be queued for
    /// processing later"). Either way it is not delivered before the
    /// handshake completes.
    pub syn_data: SynData,
    /// ABORT sends `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>` where RFC 9293
    /// §3.10.5 sends `<SEQ=SND.NXT><CTL=RST>` (Linux, smoltcp). Absent from
    /// a profile file: off.
    #[serde(default)]
    pub abort_rst_ack: bool,
    /// In SYN-SENT, a segment whose ACK is unacceptable (RFC 9293
    /// §3.10.7.3) makes the IUT re-send its SYN at once, once per
    /// connection, counted as a retransmission (Linux:
    /// `tcp_rcv_synsent_state_process()` rearms the timer to
    /// `TCP_TIMEOUT_MIN` while no SYN was retransmitted yet). Absent: off.
    #[serde(default)]
    pub syn_sent_resend_syn: bool,
    /// In a synchronized state, a segment without ACK (and without RST) is
    /// dropped before the sequence-number check, so it gets no ACK even
    /// when unacceptable (smoltcp: `(_, _, None) => "expecting an ACK"` in
    /// `Socket::process()`). RFC 9293 §3.10.7.4 checks the sequence number,
    /// the RST and the SYN bits first. Absent: off.
    #[serde(default)]
    pub ack_required: bool,
    /// Past SYN-RECEIVED, a segment (not a RST) whose ACK is below SND.UNA
    /// is dropped whole and silently before any other check (smoltcp:
    /// "duplicate ACK" in `Socket::process()`); RFC 9293 §3.10.7.4 ignores
    /// only the old ACK field and goes on with the text and the FIN.
    /// Absent: off.
    #[serde(default)]
    pub old_ack_drops_segment: bool,
    /// A FIN without data that arrives past RCV.NXT (a hole before it)
    /// gets no ACK (smoltcp: "ignoring FIN because we don't have full data
    /// yet"); RFC 5681 §4.2 ACKs an out-of-order segment at once. Absent: off.
    #[serde(default)]
    pub fin_past_hole_silent: bool,
}

/// What becomes of the text of a SYN that arrives in LISTEN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SynData {
    /// Kept, and delivered (and acknowledged) once the handshake completes
    /// (RFC 9293 §3.10.7.2).
    Queue,
    /// Dropped: the SYN-ACK acknowledges the SYN alone, the peer sends the
    /// data again.
    Drop,
}

/// A profile file that could not be read, naming file, line and field.
pub type ProfileError = crate::yaml::YamlFileError;

impl Profile {
    /// RFC 9293 with RFC 6298's timer. RFC 9293 §3.8.3 leaves the retry
    /// counts to the implementation; small ones keep the model exhaustive.
    pub fn rfc9293() -> Profile {
        Profile {
            name: "rfc9293".into(),
            description: "RFC 9293 with RFC 6298's retransmission timer".into(),
            initial_rto_ms: 1000,
            msl_ms: 120_000,
            syn_retries: 2,
            synack_retries: 2,
            retries: 2,
            recv_window: 65535,
            rfc5961: false,
            rfc1337: false,
            time_wait_reopen: false,
            syn_backlog: 2,
            accept_backlog: 1,
            syn_cookies: true,
            syn_data: SynData::Queue,
            abort_rst_ack: false,
            syn_sent_resend_syn: false,
            ack_required: false,
            old_ack_drops_segment: false,
            fin_past_hole_silent: false,
        }
    }

    /// Reads a profile file; errors name the file, line and field.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let (file, text) = crate::yaml::read(path)?;
        Self::parse(&file, &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<Profile, ProfileError> {
        let p: Profile = crate::yaml::deserialize(file, text)?;
        let bad = |field: &str, message: &str| ProfileError {
            file: file.to_string(),
            location: line_of(text, field).map(|l| (l, 1)),
            field: format!("{field}: "),
            message: message.to_string(),
        };
        // The name becomes part of a corpus path (`traces/tcp-NAME`).
        let plain = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        if !plain(&p.name) {
            return Err(bad(
                "name",
                &format!(
                    "`{}` is not a plain identifier ([a-z0-9_-]+); it names the corpus folder",
                    p.name
                ),
            ));
        }
        if p.initial_rto_ms == 0 {
            return Err(bad("initial_rto_ms", "must be positive"));
        }
        if p.msl_ms == 0 {
            return Err(bad("msl_ms", "must be positive"));
        }
        if p.syn_backlog == 0 {
            return Err(bad("syn_backlog", "must be at least 1"));
        }
        if p.accept_backlog == 0 {
            return Err(bad("accept_backlog", "must be at least 1"));
        }
        Ok(p)
    }

    /// A symbolic wait in this profile's time.
    pub fn resolve(&self, w: Wait) -> Duration {
        match w {
            Wait::Rto(n) => Duration::from_millis(self.initial_rto_ms << n.min(16)),
            Wait::TwoMsl => Duration::from_millis(2 * self.msl_ms),
            Wait::Ms(n) => Duration::from_millis(n),
            // On a virtual clock, exact: 1 ms before the end, then 1 ms.
            Wait::BeforeTwoMsl => Duration::from_millis((2 * self.msl_ms).saturating_sub(1)),
            Wait::AfterTwoMsl => Duration::from_millis((2 * self.msl_ms).min(1)),
            Wait::BeforeRto(n) => self
                .resolve(Wait::Rto(n))
                .saturating_sub(Duration::from_millis(1)),
            Wait::AfterRto(n) => self.resolve(Wait::Rto(n)).min(Duration::from_millis(1)),
            Wait::HalfTwoMsl => Duration::from_millis(self.msl_ms),
        }
    }
}

/// The 1-based line where `key:` starts, if any.
pub fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim_start().starts_with(&format!("{key}:")))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_file_is_the_built_in_one() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles/rfc9293.yaml");
        assert_eq!(Profile::load(&path).unwrap(), Profile::rfc9293());
    }

    #[test]
    fn the_smoltcp_profile_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles/smoltcp.yaml");
        let p = Profile::load(&path).unwrap();
        assert_eq!(p.name, "smoltcp");
        // CLOSE_DELAY in smoltcp's src/socket/tcp.rs: TIME-WAIT is 10 s.
        assert_eq!(p.resolve(Wait::TwoMsl), Duration::from_secs(10));
        assert_eq!(p.initial_rto_ms, 1000);
        assert!(!p.rfc5961 && !p.rfc1337);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let text = "name: x\ndescription: d\ninitial_rto_ms: soon\n";
        let e = Profile::parse("p.yaml", text).unwrap_err().to_string();
        assert!(e.starts_with("p.yaml:3:"), "{e}");
        assert!(e.contains("initial_rto_ms"), "{e}");
        let text = "name: x\ndescription: d\ninitial_rto_ms: 0\nmsl_ms: 1\nsyn_retries: 1\nsynack_retries: 1\nretries: 1\nrecv_window: 1\nrfc5961: false\nrfc1337: false\ntime_wait_reopen: false\nsyn_backlog: 1\naccept_backlog: 1\nsyn_cookies: true\nsyn_data: queue\n";
        let e = Profile::parse("p.yaml", text).unwrap_err().to_string();
        assert_eq!(e, "p.yaml:3:1: initial_rto_ms: must be positive");
        let text = text
            .replace("initial_rto_ms: 0", "initial_rto_ms: 1")
            .replace("syn_backlog: 1", "syn_backlog: 0");
        let e = Profile::parse("p.yaml", &text).unwrap_err().to_string();
        assert_eq!(e, "p.yaml:12:1: syn_backlog: must be at least 1");
        let e = Profile::parse(
            "p.yaml",
            &text.replace("syn_cookies: true", "syn_cookies: often"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("p.yaml:14:") && e.contains("syn_cookies"),
            "{e}"
        );
        let e = Profile::parse("p.yaml", &text.replace("syn_data: queue", "syn_data: keep"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.yaml:15:") && e.contains("syn_data") && e.contains("queue"),
            "{e}"
        );
        let e = Profile::parse("p.yaml", &text.replace("syn_cookies: true\n", ""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("syn_cookies"), "{e}");
        let e = Profile::parse("p.yaml", "name: x\nrto: 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.yaml:2") && e.contains("rto"), "{e}");
    }

    /// A profile's name becomes part of the corpus path: only a plain
    /// identifier is taken.
    #[test]
    fn a_name_that_is_not_a_plain_identifier_is_refused() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles/rfc9293.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        assert!(Profile::parse("p.yaml", &text).is_ok());
        for name in ["\"/../../x\"", "Linux", "a.b", "\"\""] {
            let e = Profile::parse(
                "p.yaml",
                &text.replace("name: rfc9293", &format!("name: {name}")),
            )
            .unwrap_err()
            .to_string();
            let line = line_of(&text, "name").unwrap();
            assert!(
                e.starts_with(&format!("p.yaml:{line}:1: name: `"))
                    && e.contains("is not a plain identifier"),
                "{name}: {e}"
            );
        }
    }

    #[test]
    fn waits_resolve_with_backoff() {
        let p = Profile::rfc9293();
        assert_eq!(p.resolve(Wait::Rto(0)), Duration::from_secs(1));
        assert_eq!(p.resolve(Wait::Rto(3)), Duration::from_secs(8));
        assert_eq!(p.resolve(Wait::TwoMsl), Duration::from_secs(240));
    }
}
