//! Reports: one per target. A summary (counts by verdict, coverage), then
//! each trace that did not pass with its first divergence drawn as a ladder
//! (harness left, IUT right, one line a segment, the IUT's state beside it).
//! Deterministic text, so that it can be an insta snapshot; also JUnit XML.

use std::borrow::Cow;
use std::fmt::Write;

use crate::deviations::{Deviation, Deviations, Uncovered};
use crate::replay::{Dir, LadderLine, TraceResult, Verdict};
use crate::trace::{Coverage, CoverageEntry, Event};

/// Running a corpus is [`crate::corpus`]'s; here under the old paths.
pub use crate::corpus::{run_corpus, run_corpus_capturing};

/// The lines of context drawn before a divergence.
const CONTEXT: usize = 8;
const MID: usize = 40;

/// The order of the state × event matrix's columns: app calls, then what
/// arrives (TCP segments, HTTP/2 frames), then timers; a column not listed
/// goes last. The text and HTML reports both draw it so.
pub const MATRIX_COLUMNS: [&str; 31] = [
    "listen",
    "connect",
    "send",
    "close",
    "abort",
    "S",
    "SA",
    "A",
    "PA",
    "FA",
    "R",
    "RA",
    "rto",
    "2msl",
    "request",
    "respond",
    "data",
    "end",
    "reset",
    "push",
    "goaway",
    "DATA",
    "HEADERS",
    "PRIORITY",
    "RST_STREAM",
    "PUSH_PROMISE",
    "WINDOW_UPDATE",
    "CONTINUATION",
    "SETTINGS",
    "PING",
    "GOAWAY",
];

#[derive(Debug)]
pub struct Report {
    pub protocol: String,
    /// As `replay` names it (`tcp`, `tcp-listener`, `h2`): the JUnit
    /// suite's name; the protocol unless the caller says.
    pub suite: String,
    pub target: String,
    pub profile: String,
    /// One per trace and per file that did not load, sorted by id.
    pub results: Vec<TraceResult>,
    pub coverage: Option<Coverage>,
    /// The target's documented deviations, if a file was given.
    pub deviations: Option<Deviations>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub inconclusive: usize,
    pub error: usize,
    /// Failures listed as documented deviations (not counted in `fail`).
    pub deviation: usize,
    /// Deviation entries naming a trace that passes, or no trace at all.
    pub stale: usize,
}

impl Report {
    /// A report from the verdicts of the traces that loaded and the files
    /// that did not (each an error verdict, so nothing is lost), by id.
    pub fn assemble(
        protocol: &str,
        target: &str,
        profile: &str,
        mut results: Vec<TraceResult>,
        errors: &[crate::load::LoadError],
        coverage: Option<Coverage>,
    ) -> Report {
        for e in errors {
            results.push(TraceResult::error(&e.id(), &[], e.to_string()));
        }
        results.sort_by(|a, b| a.id.cmp(&b.id));
        Report {
            protocol: protocol.into(),
            suite: protocol.into(),
            target: target.into(),
            profile: profile.into(),
            results,
            coverage,
            deviations: None,
        }
    }

    /// The report with a target's documented deviations applied: the
    /// entries for this report's profile (see [`Deviations::for_profile`]).
    pub fn with_deviations(mut self, deviations: Deviations) -> Report {
        self.deviations = Some(deviations.for_profile(&self.profile));
        self
    }

    /// The deviations list, if it is about this report's protocol.
    fn applicable_deviations(&self) -> Option<&Deviations> {
        self.deviations
            .as_ref()
            .filter(|d| d.protocol.to_string() == self.protocol)
    }

    /// The deviation entry that lists this trace, if any.
    pub fn deviation(&self, id: &str) -> Option<&Deviation> {
        self.applicable_deviations().and_then(|d| d.find(id))
    }

    /// A trace's label in the report: its verdict's, or `DEVIATION` for a
    /// listed failure, or `STALE` for a listed trace that passes.
    pub fn label(&self, r: &TraceResult) -> &'static str {
        match (&r.verdict, self.deviation(&r.id)) {
            (Verdict::Fail { .. }, Some(_)) => "DEVIATION",
            (Verdict::Pass, Some(_)) => "PASS (STALE)",
            (v, _) => v.label(),
        }
    }

    /// Deviation entries that match no trace of the report.
    pub fn unmatched_deviations(&self) -> Vec<&Deviation> {
        let Some(d) = &self.deviations else {
            return Vec::new();
        };
        d.entries
            .iter()
            .filter(|e| {
                !self
                    .results
                    .iter()
                    .any(|r| self.deviation(&r.id).is_some_and(|f| f == *e))
            })
            .collect()
    }
}

/// Coverage by the traces a target passed, against the reasons its
/// deviation list gives for what they leave out.
impl Report {
    /// The transitions of the corpus's coverage (those a trace covers)
    /// that some trace this target passed takes, as (role, transition).
    fn taken_by_passing(&self) -> std::collections::BTreeSet<(String, String)> {
        // A TCP trace id names its IUT's role second: `tcp-client-…`.
        let role_of = |id: &str| id.split('-').nth(1).unwrap_or("").to_string();
        self.results
            .iter()
            .filter(|r| r.verdict == Verdict::Pass)
            .flat_map(|r| {
                let role = role_of(&r.id);
                r.covers.iter().map(move |t| (role.clone(), t.to_string()))
            })
            .collect()
    }

    /// Covered transitions no passing trace takes, each with the listed
    /// reason (if any); and the listed reasons that are stale: their
    /// transition is taken by a passing trace, or is not in the corpus.
    /// Empty without a deviation list for this report's protocol.
    pub fn uncovered(&self) -> (Vec<(&CoverageEntry, Option<&Uncovered>)>, Vec<&Uncovered>) {
        let (Some(cov), Some(d)) = (&self.coverage, self.applicable_deviations()) else {
            return (Vec::new(), Vec::new());
        };
        // TCP traces name their role; HTTP/2 reports keep their form.
        if self.protocol != "tcp" {
            return (Vec::new(), Vec::new());
        }
        let taken = self.taken_by_passing();
        let mut left = Vec::new();
        for t in cov.transitions.iter().filter(|t| t.trace.is_some()) {
            let key = (t.role.to_string(), t.transition.to_string());
            if !taken.contains(&key) {
                left.push((t, d.uncovered_reason(&key.0, &key.1)));
            }
        }
        let stale = d
            .uncovered
            .iter()
            .filter(|u| {
                !left.iter().any(|(t, _)| {
                    t.role.to_string() == u.role && t.transition.to_string() == u.transition
                })
            })
            .collect();
        (left, stale)
    }
}

/// `s` on one line: control characters (a newline, an escape sequence) as
/// Rust writes them in a string literal (`\n`, `\u{1b}`), so that text from
/// a file name, a trace, a deviation list or an adapter cannot start a line
/// of its own (a forged `PASS` line) or drive a terminal.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn arrow(dir: Dir, text: &str) -> String {
    let text = clean(text);
    match dir {
        Dir::ToIut => {
            let body = format!("--- {text} ");
            format!("{body:-<w$}> ", w = MID - 2)
        }
        Dir::FromIut => {
            let body = format!(" {text} ---");
            format!(" <{body:->w$}", w = MID - 2)
        }
        Dir::Note => format!("{:>w$} ", text, w = MID),
    }
}

fn ladder_line(out: &mut String, l: &LadderLine) {
    let state = clean(l.state.as_deref().unwrap_or_default()).into_owned();
    match l.dir {
        Dir::Note => {
            let _ = writeln!(out, "       |{:<MID$}|  {state:<13} {}", "", clean(&l.text));
        }
        _ => {
            let _ = writeln!(out, "       |{}|  {state}", arrow(l.dir, &l.text));
        }
    }
}

fn note(out: &mut String, text: &str) {
    let _ = writeln!(out, "       |{:<MID$}|  {}", "", clean(text));
}

impl Report {
    /// The ids of the traces this target passed.
    fn passed_ids(&self) -> std::collections::BTreeSet<&str> {
        self.results
            .iter()
            .filter(|r| r.verdict == Verdict::Pass)
            .map(|r| r.id.as_str())
            .collect()
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.results {
            let listed = self.deviation(&r.id).is_some();
            match r.verdict {
                Verdict::Pass => {
                    c.pass += 1;
                    c.stale += listed as usize;
                }
                Verdict::Fail { .. } if listed => c.deviation += 1,
                Verdict::Fail { .. } => c.fail += 1,
                Verdict::Inconclusive { .. } => c.inconclusive += 1,
                Verdict::Error { .. } => c.error += 1,
            }
        }
        c.stale += self.unmatched_deviations().len();
        c.stale += self.uncovered().1.len();
        c
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let c = self.counts();
        let _ = writeln!(
            out,
            "tracewright report: {} against {} (profile {})",
            clean(&self.protocol),
            clean(&self.target),
            clean(&self.profile)
        );
        let _ = writeln!(out);
        match &self.deviations {
            None => {
                let _ = writeln!(
                    out,
                    "traces: {}   pass: {}   fail: {}   inconclusive: {}   error: {}",
                    self.results.len(),
                    c.pass,
                    c.fail,
                    c.inconclusive,
                    c.error
                );
            }
            Some(d) => {
                let _ = writeln!(
                    out,
                    "traces: {}   pass: {}   fail: {}   deviation: {}   inconclusive: {}   error: {}",
                    self.results.len(),
                    c.pass,
                    c.fail,
                    c.deviation,
                    c.inconclusive,
                    c.error
                );
                let _ = writeln!(
                    out,
                    "deviations: {} entries in {}; {} stale (listed, but the trace passes or does not exist)",
                    d.entries.len(),
                    clean(&d.file),
                    c.stale
                );
                let why = if self.applicable_deviations().is_some() {
                    "no trace has this id".to_string()
                } else {
                    format!(
                        "the list is about {} traces, the corpus is {}",
                        d.protocol, self.protocol
                    )
                };
                for e in self.unmatched_deviations() {
                    let _ = writeln!(out, "  STALE {}: {why}", clean(&e.id));
                }
            }
        }
        match &self.coverage {
            None => {
                let _ = writeln!(
                    out,
                    "coverage: unknown (no coverage.yaml beside the traces)"
                );
            }
            Some(cov) => {
                let total = cov.transitions.len();
                let covered: Vec<_> = cov
                    .transitions
                    .iter()
                    .filter(|t| t.trace.is_some())
                    .collect();
                let passed = self.passed_ids();
                let verified = covered
                    .iter()
                    .filter(|t| passed.contains(t.trace.as_deref().unwrap_or("")))
                    .count();
                let _ = writeln!(
                    out,
                    "coverage: the corpus covers {} of {} transitions of the IUT's side of the model; {} by traces this target passed",
                    covered.len(),
                    total,
                    verified
                );
                for t in cov.transitions.iter().filter(|t| t.trace.is_none()) {
                    let _ = writeln!(
                        out,
                        "  not covered: {} {}: {}",
                        t.role,
                        clean(&t.transition.to_string()),
                        clean(t.uncovered.as_deref().unwrap_or("no reason recorded"))
                    );
                }
                if let Some(d) = self
                    .applicable_deviations()
                    .filter(|_| self.protocol == "tcp")
                {
                    self.render_uncovered(&mut out, covered.len(), d);
                }
            }
        }
        if let Some(cov) = &self.coverage {
            self.render_matrix(&mut out, cov);
        }
        for r in &self.results {
            let deviation = self.deviation(&r.id);
            if r.verdict == Verdict::Pass {
                if let (Some(d), Some(file)) = (deviation, &self.deviations) {
                    let _ = writeln!(out);
                    let _ = writeln!(out, "STALE DEVIATION {}", clean(&r.id));
                    let _ = writeln!(
                        out,
                        "  the trace passes, but {} lists it ({}): {}",
                        clean(&file.file),
                        clean(&d.id),
                        clean(&d.reason)
                    );
                }
                continue;
            }
            let _ = writeln!(out);
            let _ = writeln!(out, "{} {}", self.label(r), clean(&r.id));
            for t in &r.covers {
                let _ = writeln!(out, "  covers: {}", clean(&t.to_string()));
            }
            if let (Verdict::Fail { .. }, Some(d)) = (&r.verdict, deviation) {
                let _ = writeln!(out, "  documented deviation: {}", clean(&d.reason));
            }
            match &r.verdict {
                Verdict::Error { step: None, reason } => {
                    let _ = writeln!(out, "  {}", clean(reason));
                    continue;
                }
                Verdict::Error { reason, .. } | Verdict::Inconclusive { reason, .. } => {
                    let _ = writeln!(out, "  {}", clean(reason));
                }
                Verdict::Fail { reason, .. } => {
                    let _ = writeln!(out, "  {}", clean(reason));
                }
                Verdict::Pass => {}
            }
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{:<w$}IUT ({})",
                "    harness",
                clean(&self.target),
                w = MID + 11
            );
            let n = r.transcript.len();
            let from = n.saturating_sub(CONTEXT + 1);
            if from > 0 {
                note(&mut out, &format!("... {from} earlier lines"));
            }
            for l in &r.transcript[from..] {
                ladder_line(&mut out, l);
            }
            if let Verdict::Fail { expected, got, .. } = &r.verdict {
                note(&mut out, &format!("expected: {}", expected.join(" | ")));
                note(
                    &mut out,
                    &format!(
                        "got: {:<24} {}",
                        got.as_deref().unwrap_or("nothing came"),
                        self.label(r)
                    ),
                );
            } else {
                note(&mut out, r.verdict.label());
            }
            if let Some(rfc) = r.rfc {
                note(&mut out, rfc);
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "verdicts:");
        for r in &self.results {
            let _ = writeln!(out, "  {:<13} {}", self.label(r), clean(&r.id));
        }
        out
    }

    /// With a deviation list: how many transitions a trace this target
    /// passed takes (any of them, not only the one the coverage names),
    /// and, where the list gives reasons for this corpus, each transition
    /// left out with its reason; one without a reason, and a reason for a
    /// transition that is taken after all, are flagged.
    fn render_uncovered(&self, out: &mut String, covered: usize, d: &Deviations) {
        let (left, stale) = self.uncovered();
        let explained = left.iter().filter(|(_, u)| u.is_some()).count();
        let _ = writeln!(
            out,
            "coverage by passing traces: {} of {} transitions are taken by a trace this target passed; {} are not ({} with a reason in {}, {} without)",
            covered - left.len(),
            covered,
            left.len(),
            explained,
            clean(&d.file),
            left.len() - explained
        );
        if d.uncovered.is_empty() {
            return;
        }
        for (t, u) in &left {
            match u {
                Some(u) => {
                    let _ = writeln!(
                        out,
                        "  uncovered: {} {}: {}",
                        t.role,
                        clean(&t.transition.to_string()),
                        clean(&u.reason)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "  UNEXPLAINED uncovered: {} {}: no passing trace takes it (the corpus's is {}) and no reason is listed",
                        t.role,
                        clean(&t.transition.to_string()),
                        clean(t.trace.as_deref().unwrap_or(""))
                    );
                }
            }
        }
        for u in stale {
            let _ = writeln!(
                out,
                "  STALE uncovered: {} {}: a trace this target passed takes it, or the corpus has no such transition",
                clean(&u.role),
                clean(&u.transition)
            );
        }
    }

    /// The state machine as a matrix: for each RFC state (rows) and kind of
    /// event (columns), the transitions of the IUT's side the corpus covers
    /// and how many of them this target passed (`passed/covered`).
    fn render_matrix(&self, out: &mut String, cov: &Coverage) {
        use std::collections::BTreeMap;
        // The column: a TCP segment's flags or an HTTP/2 frame's type.
        let kind = |event: &Event| event.column();
        let passed = self.passed_ids();
        let mut columns: Vec<String> = Vec::new();
        let mut cells: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
        for t in &cov.transitions {
            let k = kind(&t.transition.event);
            if !columns.contains(&k) {
                columns.push(k.clone());
            }
            let cell = cells.entry((t.transition.state.clone(), k)).or_default();
            if let Some(id) = &t.trace {
                cell.1 += 1;
                cell.0 += passed.contains(id.as_str()) as usize;
            }
        }
        columns.sort_by_key(|c| {
            MATRIX_COLUMNS
                .iter()
                .position(|o| o == c)
                .unwrap_or(MATRIX_COLUMNS.len())
        });
        let _ = writeln!(out);
        let _ =
            writeln!(
            out,
            "transitions by state and event (passed/covered; app calls, {} received, timers{}):",
            if self.protocol == "h2" { "frames" } else { "segments" },
            if self.protocol == "tcp" {
                "; a segment's column counts its old-incarnation and data-on-SYN cases"
            } else {
                ""
            }
        );
        let rows: Vec<&str> = if self.protocol == "h2" {
            let mut r = tracewright_vocab::h2::STREAM_STATES.to_vec();
            r.push("connection");
            r
        } else {
            crate::trace::TcpState::ALL
                .iter()
                .map(|s| s.name())
                .collect()
        };
        let width = rows.iter().map(|r| r.len() + 1).max().unwrap_or(0).max(14);
        let _ = write!(out, "{:>width$}", "");
        for c in &columns {
            let w = c.len().max(7);
            let _ = write!(out, " {c:>w$}");
        }
        let _ = writeln!(out);
        for state in rows {
            let _ = write!(out, "{state:>width$}");
            for c in &columns {
                let w = c.len().max(7);
                match cells.get(&(state.to_string(), c.clone())) {
                    Some((p, n)) => {
                        let _ = write!(out, " {:>w$}", format!("{p}/{n}"));
                    }
                    None => {
                        let _ = write!(out, " {:>w$}", ".");
                    }
                }
            }
            let _ = writeln!(out);
        }
    }

    /// The report as JUnit XML, one test case per trace.
    pub fn junit_xml(&self) -> String {
        let esc = xml_escape;
        let c = self.counts();
        let mut out = String::new();
        let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let _ = writeln!(
            out,
            r#"<testsuite name="tracewright {} {}" tests="{}" failures="{}" errors="{}" skipped="{}">"#,
            esc(&self.suite),
            esc(&self.target),
            self.results.len(),
            c.fail + c.stale,
            c.error,
            c.inconclusive + c.deviation
        );
        for r in &self.results {
            let _ = write!(
                out,
                r#"  <testcase classname="{}" name="{}""#,
                esc(&self.suite),
                esc(&r.id)
            );
            match (&r.verdict, self.deviation(&r.id)) {
                (Verdict::Pass, Some(d)) => {
                    let _ = writeln!(
                        out,
                        ">\n    <failure message=\"stale deviation entry: the trace passes\">{}</failure>\n  </testcase>",
                        esc(&d.reason)
                    );
                }
                (Verdict::Fail { reason, .. }, Some(d)) => {
                    let _ = writeln!(
                        out,
                        ">\n    <skipped message=\"documented deviation: {}\">{}</skipped>\n  </testcase>",
                        esc(&d.reason),
                        esc(reason)
                    );
                }
                (Verdict::Pass, None) => {
                    let _ = writeln!(out, "/>");
                }
                (
                    Verdict::Fail {
                        reason,
                        expected,
                        got,
                        ..
                    },
                    None,
                ) => {
                    let _ = writeln!(
                        out,
                        ">\n    <failure message=\"{}\">expected {}; got {}</failure>\n  </testcase>",
                        esc(reason),
                        esc(&expected.join(" | ")),
                        esc(got.as_deref().unwrap_or("nothing"))
                    );
                }
                (Verdict::Inconclusive { reason, .. }, _) => {
                    let _ = writeln!(
                        out,
                        ">\n    <skipped message=\"{}\"/>\n  </testcase>",
                        esc(reason)
                    );
                }
                (Verdict::Error { reason, .. }, _) => {
                    let _ = writeln!(
                        out,
                        ">\n    <error message=\"{}\"/>\n  </testcase>",
                        esc(reason)
                    );
                }
            }
        }
        let _ = writeln!(out, "</testsuite>");
        out
    }
}

/// Text as XML 1.0 character data or a double-quoted attribute value. XML
/// 1.0 cannot carry most control characters even as references, so they
/// are written as [`clean`] writes them; tab, newline and carriage return
/// become references, which attribute normalisation would otherwise turn
/// into spaces.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            // Not XML 1.0 characters (§2.2), as references or otherwise.
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.extend(c.escape_debug())
            }
            c => out.push(c),
        }
    }
    out
}
