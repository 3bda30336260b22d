//! Reports: one per target. A summary (counts by verdict, coverage), then
//! each trace that did not pass with its first divergence drawn as a ladder
//! (harness left, IUT right, one line a segment, the IUT's state beside it).
//! Deterministic text, so that it can be an insta snapshot; also JUnit XML.

use std::fmt::Write;

use crate::deviations::{Deviation, Deviations};
use crate::replay::{Dir, LadderLine, TraceResult, Verdict};
use crate::trace::{Coverage, Event};

/// Running a corpus is [`crate::corpus`]'s; here under the old paths.
pub use crate::corpus::{run_corpus, run_corpus_capturing};

/// The lines of context drawn before a divergence.
const CONTEXT: usize = 8;
const MID: usize = 40;

#[derive(Debug)]
pub struct Report {
    pub protocol: String,
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

fn arrow(dir: Dir, text: &str) -> String {
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
    let state = l.state.clone().unwrap_or_default();
    match l.dir {
        Dir::Note => {
            let _ = writeln!(out, "       |{:<MID$}|  {state:<13} {}", "", l.text);
        }
        _ => {
            let _ = writeln!(out, "       |{}|  {state}", arrow(l.dir, &l.text));
        }
    }
}

fn note(out: &mut String, text: &str) {
    let _ = writeln!(out, "       |{:<MID$}|  {text}", "");
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
        c
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let c = self.counts();
        let _ = writeln!(
            out,
            "tracewright report: {} against {} (profile {})",
            self.protocol, self.target, self.profile
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
                    d.file,
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
                    let _ = writeln!(out, "  STALE {}: {why}", e.id);
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
                        t.transition,
                        t.uncovered.as_deref().unwrap_or("no reason recorded")
                    );
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
                    let _ = writeln!(out, "STALE DEVIATION {}", r.id);
                    let _ = writeln!(
                        out,
                        "  the trace passes, but {} lists it ({}): {}",
                        file.file, d.id, d.reason
                    );
                }
                continue;
            }
            let _ = writeln!(out);
            let _ = writeln!(out, "{} {}", self.label(r), r.id);
            for t in &r.covers {
                let _ = writeln!(out, "  covers: {t}");
            }
            if let (Verdict::Fail { .. }, Some(d)) = (&r.verdict, deviation) {
                let _ = writeln!(out, "  documented deviation: {}", d.reason);
            }
            match &r.verdict {
                Verdict::Error { step: None, reason } => {
                    let _ = writeln!(out, "  {reason}");
                    continue;
                }
                Verdict::Error { reason, .. } | Verdict::Inconclusive { reason, .. } => {
                    let _ = writeln!(out, "  {reason}");
                }
                Verdict::Fail { reason, .. } => {
                    let _ = writeln!(out, "  {reason}");
                }
                Verdict::Pass => {}
            }
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{:<w$}IUT ({})",
                "    harness",
                self.target,
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
            let _ = writeln!(out, "  {:<13} {}", self.label(r), r.id);
        }
        out
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
        let order = [
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
        columns.sort_by_key(|c| order.iter().position(|o| o == c).unwrap_or(order.len()));
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
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let c = self.counts();
        let mut out = String::new();
        let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let _ = writeln!(
            out,
            r#"<testsuite name="tracewright {} {}" tests="{}" failures="{}" errors="{}" skipped="{}">"#,
            self.protocol,
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
                self.protocol,
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
