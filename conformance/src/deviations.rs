//! Documented deviations: the traces a target is known to fail, each with
//! the reason, as rustls's BoGo config lists the tests it skips. A listed
//! trace still runs; the report shows its failure as a `DEVIATION` with the
//! reason, a listed trace that passes as a stale entry (never hidden), and
//! an unlisted failure stays a `FAIL`.
//!
//! ```yaml
//! target: smoltcp
//! deviations:
//!   - id: tcp-client-syn-sent-rto-give-up
//!     reason: "smoltcp has no SYN retry limit (src/socket/tcp.rs: ...)"
//!   - id: tcp-server-established-recv-sp-sends-a-to-established
//!     profile: rfc9293
//!     reason: "..."
//! ```
//!
//! `id` is a trace id; a `*` in it matches any run of characters. An entry
//! with a `profile` applies only to that profile's corpus. A list is about
//! one protocol's traces, TCP's unless it says `protocol: h2`; against
//! another protocol's corpus none of its entries matches, so all of them
//! show as stale.
//! An entry with `kernels: ["6.1", "6.12"]` applies only on those kernel
//! versions (the linux and uml targets).
//!
//! A list may also say, under `uncovered:`, why a transition of the model
//! is taken by no trace the target passes (the trace that takes it fails
//! on an earlier deviation, or the target cannot do a step of it):
//!
//! ```yaml
//! uncovered:
//!   - role: server
//!     transition: "SYN-RECEIVED --recv S--> SYN-RECEIVED (sends A)"
//!     profile: linux
//!     reason: "a request sock answers with its SYN-ACK (tcp_check_req())"
//! ```
//!
//! The report lists every transition left uncovered with its reason, and
//! flags one without a reason, and a reason for a transition that a
//! passing trace does take (stale).

use std::path::Path;

use serde::Deserialize;

use crate::profile::line_of;
use crate::trace::Protocol;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// A trace id, or a pattern with `*`.
    pub id: String,
    /// Why the target departs from the model, citing its source or docs.
    pub reason: String,
    /// The profile whose corpus the entry is about (the corpora differ
    /// where the profiles do); none: every corpus the list is used with.
    #[serde(default)]
    pub profile: Option<String>,
    /// The kernel versions the entry is about: `6.1` matches release
    /// 6.1.192 and 6.1.0-rc1, not 6.12; none: every kernel.
    #[serde(default)]
    pub kernels: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    target: String,
    #[serde(default)]
    protocol: Option<Protocol>,
    deviations: Vec<Deviation>,
    #[serde(default)]
    uncovered: Vec<Uncovered>,
}

/// Why no trace the target passes takes a transition of the model.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uncovered {
    /// The IUT's role: `client`, `server`, `listener`.
    pub role: String,
    /// The transition as the report writes it:
    /// `STATE --EVENT--> NEXT (sends X)` or `(silent)`.
    pub transition: String,
    /// Why, citing the target's code path.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernels: Option<Vec<String>>,
}

/// A deviations file, loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deviations {
    /// The file it came from, for the report.
    pub file: String,
    /// The target the file is about.
    pub target: String,
    /// The protocol whose traces the entries name.
    pub protocol: Protocol,
    pub entries: Vec<Deviation>,
    /// Transitions no passing trace takes, each with its reason.
    pub uncovered: Vec<Uncovered>,
}

/// A deviations file that could not be read, naming file, line and field.
pub type DeviationsError = crate::yaml::YamlFileError;

/// Whether `pattern` (with `*` wildcards) matches all of `id`.
fn glob(pattern: &str, id: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == id,
        Some((head, rest)) => {
            let Some(tail) = id.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&k| tail.is_char_boundary(k))
                .any(|k| glob(rest, &tail[k..]))
        }
    }
}

/// The 1-based line of the `n`th (0-based) line holding `id: VALUE`.
fn line_of_id(text: &str, value: &str, n: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.split("id:").skip(1).any(|v| {
                let v = v.split([',', '}', '#']).next().unwrap_or("");
                v.trim().trim_matches(['"', '\'']) == value
            })
        })
        .nth(n)
        .map(|(i, _)| i + 1)
}

impl Deviations {
    pub fn load(path: &Path) -> Result<Deviations, DeviationsError> {
        let (file, text) = crate::yaml::read(path)?;
        Self::parse(&file, &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<Deviations, DeviationsError> {
        let raw: RawFile = crate::yaml::deserialize(file, text)?;
        let bad = |line: Option<usize>, field: String, message: &str| DeviationsError {
            file: file.to_string(),
            location: line.map(|l| (l, 1)),
            field: format!("{field}: "),
            message: message.to_string(),
        };
        if raw.target.trim().is_empty() {
            return Err(bad(line_of(text, "target"), "target".into(), "empty"));
        }
        for (i, d) in raw.deviations.iter().enumerate() {
            let seen_before = raw.deviations[..i].iter().filter(|e| e.id == d.id).count();
            let line = line_of_id(text, &d.id, seen_before);
            if d.id.trim().is_empty() {
                return Err(bad(None, format!("deviations[{i}].id"), "empty"));
            }
            if d.reason.trim().is_empty() {
                return Err(bad(
                    line,
                    format!("deviations[{i}].reason"),
                    "empty: every deviation needs its reason",
                ));
            }
            // One id may carry a reason per profile (the corpora differ
            // where the profiles do); twice for one corpus is an error.
            let overlaps = |e: &Deviation| match (&e.profile, &d.profile) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if raw.deviations[..i]
                .iter()
                .any(|e| e.id == d.id && overlaps(e))
            {
                return Err(bad(
                    line,
                    format!("deviations[{i}].id"),
                    &format!("{} is listed twice for one corpus", d.id),
                ));
            }
        }
        for (i, u) in raw.uncovered.iter().enumerate() {
            if u.reason.trim().is_empty() {
                return Err(bad(
                    None,
                    format!("uncovered[{i}].reason"),
                    "empty: every uncovered transition needs its reason",
                ));
            }
            if raw.uncovered[..i]
                .iter()
                .any(|v| v.role == u.role && v.transition == u.transition && v.profile == u.profile)
            {
                return Err(bad(
                    None,
                    format!("uncovered[{i}].transition"),
                    &format!("{} {} is listed twice", u.role, u.transition),
                ));
            }
        }
        Ok(Deviations {
            file: file.to_string(),
            target: raw.target,
            protocol: raw.protocol.unwrap_or(Protocol::Tcp),
            entries: raw.deviations,
            uncovered: raw.uncovered,
        })
    }

    /// The entries that apply to the corpus of `profile`.
    pub fn for_profile(mut self, profile: &str) -> Deviations {
        self.entries
            .retain(|d| d.profile.as_deref().is_none_or(|p| p == profile));
        self.uncovered
            .retain(|d| d.profile.as_deref().is_none_or(|p| p == profile));
        self
    }

    /// The entries that apply to the kernel whose release (`uname -r`) is
    /// `release`.
    pub fn for_kernel(mut self, release: &str) -> Deviations {
        let on = |kernels: &Option<Vec<String>>| {
            kernels.as_ref().is_none_or(|ks| {
                ks.iter().any(|k| {
                    release
                        .strip_prefix(k.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '-', '+']))
                })
            })
        };
        self.entries.retain(|d| on(&d.kernels));
        self.uncovered.retain(|u| on(&u.kernels));
        self
    }

    /// The reason listed for `role`'s transition `transition` (as the
    /// report writes it), if any.
    pub fn uncovered_reason(&self, role: &str, transition: &str) -> Option<&Uncovered> {
        self.uncovered
            .iter()
            .find(|u| u.role == role && u.transition == transition)
    }

    /// The entry that lists trace `id`, if any (the first that matches).
    pub fn find(&self, id: &str) -> Option<&Deviation> {
        self.entries.iter().find(|d| glob(&d.id, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_ids() {
        assert!(glob("a-b", "a-b"));
        assert!(!glob("a-b", "a-bc"));
        assert!(glob("a-*", "a-bc"));
        assert!(glob("*-c", "a-b-c"));
        assert!(glob("a*c*e", "abcde"));
        assert!(!glob("a*c*e", "abcdf"));
    }

    #[test]
    fn kernels_match_whole_version_components() {
        let text = "target: linux\ndeviations:\n  - {id: a, reason: r, kernels: [\"6.1\"]}\n  - {id: b, reason: r}\n";
        let d = Deviations::parse("d.yaml", text).unwrap();
        let ids = |release: &str| -> Vec<String> {
            d.clone()
                .for_kernel(release)
                .entries
                .into_iter()
                .map(|e| e.id)
                .collect()
        };
        assert_eq!(ids("6.1.192"), ["a", "b"]);
        assert_eq!(ids("6.1.0-rc1"), ["a", "b"]);
        assert_eq!(ids("6.12.117"), ["b"]);
        assert_eq!(ids("6.18.44-fc-v1045"), ["b"]);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let text =
            "target: x\ndeviations:\n  - id: t1\n    reason: ok\n  - id: t2\n    reason: \"\"\n";
        let e = Deviations::parse("d.yaml", text).unwrap_err().to_string();
        assert_eq!(
            e,
            "d.yaml:5:1: deviations[1].reason: empty: every deviation needs its reason"
        );
        let text = "target: x\ndeviations:\n  - id: t1\n    why: ok\n";
        let e = Deviations::parse("d.yaml", text).unwrap_err().to_string();
        assert!(e.starts_with("d.yaml:4:"), "{e}");
        assert!(e.contains("deviations[0]"), "{e}");
        let text = "target: x\ndeviations:\n  - {id: t1, reason: a}\n  - {id: t1, reason: b}\n";
        let e = Deviations::parse("d.yaml", text).unwrap_err().to_string();
        assert_eq!(
            e,
            "d.yaml:4:1: deviations[1].id: t1 is listed twice for one corpus"
        );
    }

    #[test]
    fn a_list_names_its_protocol_tcp_by_default() {
        let tcp = Deviations::parse("d.yaml", "target: x\ndeviations: []\n").unwrap();
        assert_eq!(tcp.protocol, Protocol::Tcp);
        let h2 = Deviations::parse("d.yaml", "target: x\nprotocol: h2\ndeviations: []\n").unwrap();
        assert_eq!(h2.protocol, Protocol::H2);
        let e = Deviations::parse("d.yaml", "target: x\nprotocol: udp\ndeviations: []\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("d.yaml:2:"), "{e}");
        assert!(e.contains("protocol"), "{e}");
    }
}
