//! `tracewright cells`: the TCP corpus against the event table of
//! RFC 9293 §3.10, as a (state, event) grid.
//!
//! §3.10 describes TCP as what each state does with each event: the user
//! calls (§3.10.1–§3.10.5), a segment arriving (§3.10.7, told apart here by
//! its control bits, as the section's checks are) and the timeouts
//! (§3.10.8). A cell is one (state, event) pair of that table; the model has
//! one or more transitions in it (their outputs and next states differ by
//! what came before), and the corpus covers a cell when a trace covers one
//! of them. Read from `coverage.yaml` (what the model has and the corpus
//! covers) or from `replay --json` results (what a target's *passing*
//! traces cover: a trace that fails or deviates covers nothing, not even
//! the transitions before the step it stopped at).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use tracewright_conformance::load::{load_corpus, COVERAGE_FILE};
use tracewright_conformance::replay::Verdict;
use tracewright_conformance::results;
use tracewright_conformance::trace::{Call, Coverage, Event, Qualifier, Timer, Transition};

/// The states of RFC 9293 §3.3.2, in the order of its diagram.
const STATES: [&str; 11] = [
    "CLOSED",
    "LISTEN",
    "SYN-SENT",
    "SYN-RECEIVED",
    "ESTABLISHED",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "CLOSE-WAIT",
    "CLOSING",
    "LAST-ACK",
    "TIME-WAIT",
];

/// The event columns of §3.10 this grid counts, in its order: the user
/// calls, the arriving segments by control bits (§3.10.7's checks: RST,
/// SYN, ACK, text, FIN, and the combinations no peer sends), the timeouts.
const COLUMNS: [(&str, &str); 20] = [
    ("OPEN", "§3.10.1 OPEN call (connect, listen)"),
    ("SEND", "§3.10.2 SEND call"),
    ("CLOSE", "§3.10.4 CLOSE call"),
    ("ABORT", "§3.10.5 ABORT call"),
    ("S", "§3.10.7 SYN"),
    ("SA", "§3.10.7 SYN+ACK"),
    ("SF", "§3.10.7 SYN+FIN (no peer sends it)"),
    ("A", "§3.10.7 ACK, nothing else"),
    ("A>", "§3.10.7.4 ACK above SND.NXT"),
    ("PA", "§3.10.7 text"),
    ("F", "§3.10.7 FIN without ACK"),
    ("FA", "§3.10.7 FIN"),
    ("R", "§3.10.7 RST"),
    ("RA", "§3.10.7 RST+ACK"),
    ("RP", "§3.10.7 RST carrying data"),
    (".", "§3.10.7 no control bits"),
    (
        "ACCEPT",
        "a listener's accept (the sockets API; §3.10.1 leaves it open)",
    ),
    ("RTO", "§3.10.8 retransmission timeout"),
    (
        "GIVE-UP",
        "§3.10.8 user timeout: the retransmissions exhausted",
    ),
    ("2MSL", "§3.10.8 time-wait timeout"),
];

/// Whether the RFC's table has the cell at all. Every call and every
/// segment can meet every state (the RFC says what each does, if only
/// "error: connection does not exist"); a timer only runs where it can be
/// set: the retransmission timer where something can be unacknowledged,
/// the time-wait timer in TIME-WAIT.
fn in_rfc_table(state: &str, column: &str) -> bool {
    match column {
        "RTO" | "GIVE-UP" => !matches!(state, "CLOSED" | "LISTEN" | "FIN-WAIT-2" | "TIME-WAIT"),
        "2MSL" => state == "TIME-WAIT",
        // Not an event of §3.10: counted when a corpus has it, never owed.
        "ACCEPT" => false,
        _ => true,
    }
}

/// The column of a transition's event: its call, its segment's control
/// bits, its timer (a retransmission timeout that closes the connection is
/// the give-up, whether or not its label says so). An event this grid does
/// not know gets a column of its own, named by its text, so that nothing a
/// corpus covers is left out.
fn column(t: &Transition) -> String {
    match &t.event {
        Event::App { call, .. } => match call {
            Call::Listen | Call::Connect => "OPEN".into(),
            Call::Send => "SEND".into(),
            Call::Close => "CLOSE".into(),
            Call::Abort => "ABORT".into(),
            Call::Accept => "ACCEPT".into(),
            other => other.name().to_uppercase(),
        },
        Event::Timer { timer, qualifier } => match (timer, qualifier) {
            (Timer::Rto, Some(Qualifier::RetriesExhausted)) => "GIVE-UP".into(),
            (Timer::Rto, _) if t.next == "CLOSED" => "GIVE-UP".into(),
            (Timer::Rto, _) => "RTO".into(),
            (Timer::TwoMsl, _) => "2MSL".into(),
        },
        Event::Recv { what, qualifiers } => {
            let has = |c| what.contains(c);
            let above = qualifiers.contains(&Qualifier::AckAboveSndNxt);
            let col = if has('R') {
                if has('P') || has('F') || has('S') {
                    "RP"
                } else if has('A') {
                    "RA"
                } else {
                    "R"
                }
            } else if has('S') {
                if has('F') {
                    "SF"
                } else if has('A') {
                    "SA"
                } else {
                    "S"
                }
            } else if has('F') {
                if has('A') {
                    "FA"
                } else {
                    "F"
                }
            } else if has('P') {
                "PA"
            } else if has('A') {
                if above {
                    "A>"
                } else {
                    "A"
                }
            } else if what == "." {
                "."
            } else {
                return format!("recv {what}");
            };
            col.into()
        }
    }
}

/// One source of the grid: the transitions the model has, and those covered.
struct Source {
    title: String,
    model: Vec<Transition>,
    covered: Vec<Transition>,
    /// What "covered" means for this source.
    by: &'static str,
}

fn from_corpus(dir: &Path) -> Result<Source> {
    let corpus = load_corpus(dir).with_context(|| format!("reading {}", dir.display()))?;
    let Some(cov) = corpus.coverage else {
        bail!(
            "{}: no {COVERAGE_FILE} (run `tracewright generate` for this corpus)",
            dir.display()
        );
    };
    check_tcp(&cov, &dir.display().to_string())?;
    let model = cov
        .transitions
        .iter()
        .map(|e| e.transition.clone())
        .collect();
    let covered = cov
        .transitions
        .iter()
        .filter(|e| e.trace.is_some())
        .map(|e| e.transition.clone())
        .collect();
    Ok(Source {
        title: format!("{} (profile {})", dir.display(), cov.profile),
        model,
        covered,
        by: "a trace of the corpus",
    })
}

fn from_results(file: &Path) -> Result<Vec<Source>> {
    let merged = results::merge(&[file.to_path_buf()])
        .with_context(|| format!("reading {}", file.display()))?;
    let mut out = Vec::new();
    for m in merged {
        let r = &m.report;
        let Some(cov) = &r.coverage else {
            bail!(
                "{}: the run of {} against {} has no coverage record (its corpus had no {COVERAGE_FILE})",
                file.display(),
                r.suite,
                r.target
            );
        };
        check_tcp(cov, &file.display().to_string())?;
        let covered = r
            .results
            .iter()
            .filter(|t| matches!(t.verdict, Verdict::Pass))
            .flat_map(|t| t.covers.iter().cloned())
            .collect();
        out.push(Source {
            title: format!(
                "{} against {} (profile {})",
                r.suite,
                tracewright_conformance::report::clean(&r.target),
                r.profile
            ),
            model: cov
                .transitions
                .iter()
                .map(|e| e.transition.clone())
                .collect(),
            covered,
            by: "a passing trace",
        });
    }
    Ok(out)
}

fn check_tcp(cov: &Coverage, what: &str) -> Result<()> {
    if cov.protocol.to_string() != "tcp" {
        bail!(
            "{what}: protocol {}: the RFC 9293 event table is TCP's (HTTP/2's (state, frame) coverage is in the report)",
            cov.protocol
        );
    }
    Ok(())
}

/// (state, column) -> number of distinct transitions.
type Grid = BTreeMap<(String, String), BTreeSet<Transition>>;

fn grid(ts: &[Transition]) -> Grid {
    let mut g = Grid::new();
    for t in ts {
        g.entry((t.state.clone(), column(t)))
            .or_default()
            .insert(t.clone());
    }
    g
}

/// The grid as text: a cell shows how many of the model's transitions in it
/// are covered, of how many (`2/3`); `·` a cell of the RFC's table the model
/// has no transition in; blank, a cell outside the table.
/// `lists`: also name the cells not covered and those not modelled.
pub fn render(
    title: &str,
    model: &[Transition],
    covered: &[Transition],
    by: &str,
    lists: bool,
) -> String {
    let (m, c) = (grid(model), grid(covered));
    let mut cols: Vec<String> = COLUMNS.iter().map(|(c, _)| c.to_string()).collect();
    for (_, col) in m.keys() {
        if !cols.contains(col) {
            cols.push(col.clone());
        }
    }
    let mut states: Vec<String> = STATES.iter().map(|s| s.to_string()).collect();
    for (s, _) in m.keys() {
        if !states.contains(s) {
            states.push(s.clone());
        }
    }
    // Columns no state of this corpus has and the RFC does not owe (ACCEPT
    // outside the listener corpus) are left out.
    cols.retain(|col| {
        m.keys().any(|(_, c)| c == col) || states.iter().any(|s| in_rfc_table(s, col))
    });
    let width = |col: &str| col.len().max(5);
    let mut out = String::new();
    let _ = writeln!(out, "{title}: the event table of RFC 9293 §3.10");
    let _ = write!(out, "{:<13}", "state");
    for col in &cols {
        let _ = write!(out, " {:>w$}", col, w = width(col));
    }
    out.push('\n');
    let (mut owed, mut owed_modelled, mut owed_covered) = (0, 0, 0);
    let (mut cells_modelled, mut cells_covered) = (0, 0);
    let mut not_modelled = Vec::new();
    let mut not_covered = Vec::new();
    for s in &states {
        let _ = write!(out, "{s:<13}");
        for col in &cols {
            let key = (s.clone(), col.clone());
            let owed_here = in_rfc_table(s, col);
            let has = m.get(&key).map_or(0, |t| t.len());
            // Only the model's own transitions count as covered.
            let got = match (m.get(&key), c.get(&key)) {
                (Some(mt), Some(ct)) => ct.intersection(mt).count(),
                _ => 0,
            };
            owed += owed_here as usize;
            let cell = if has > 0 {
                cells_modelled += 1;
                cells_covered += (got > 0) as usize;
                if owed_here {
                    owed_modelled += 1;
                    owed_covered += (got > 0) as usize;
                }
                if got == 0 {
                    not_covered.push(format!("{s} × {col}"));
                }
                format!("{got}/{has}")
            } else if owed_here {
                not_modelled.push(format!("{s} × {col}"));
                "·".into()
            } else {
                String::new()
            };
            let _ = write!(out, " {:>w$}", cell, w = width(col));
        }
        out.push('\n');
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "cells of the RFC's table: {owed}; the model has transitions in {owed_modelled}; {by} covers {owed_covered} ({:.0} % of the table)",
        pct(owed_covered, owed)
    );
    let _ = writeln!(
        out,
        "all cells with transitions (ACCEPT and other events outside §3.10 included): {cells_covered} of {cells_modelled} covered"
    );
    if lists && !not_covered.is_empty() {
        let _ = writeln!(
            out,
            "modelled, not covered by {by} ({}): {}",
            not_covered.len(),
            not_covered.join(", ")
        );
    }
    if lists && !not_modelled.is_empty() {
        let _ = writeln!(
            out,
            "in the RFC's table, not in the model ({}): {}",
            not_modelled.len(),
            not_modelled.join(", ")
        );
    }
    out
}

/// The column legend, printed once.
fn legend() -> String {
    let mut out = String::from("columns:\n");
    for (c, what) in COLUMNS {
        let _ = writeln!(out, "  {c:<8} {what}");
    }
    out.push_str(
        "a cell: covered/modelled transitions; · in the RFC's table, not in the model; blank: not in the table\n",
    );
    out
}

/// `tracewright cells [PATH...]`: each PATH a corpus folder (with its
/// `coverage.yaml`) or a `replay --json` results file; by default the
/// rfc9293 connection and listener corpora.
pub fn cells(paths: &[PathBuf]) -> Result<ExitCode> {
    let locate = |p: &str| tracewright_conformance::registry::locate(Path::new(p));
    let default = paths.is_empty();
    let paths: Vec<PathBuf> = if default {
        vec![locate("traces/tcp"), locate("traces/tcp-listener")]
    } else {
        paths.to_vec()
    };
    let mut sources = Vec::new();
    for p in &paths {
        if p.is_dir() {
            sources.push(from_corpus(p)?);
        } else if p.is_file() {
            sources.extend(from_results(p)?);
        } else {
            bail!(
                "{}: neither a corpus folder nor a results file (`replay --json`)",
                p.display()
            );
        }
    }
    let mut out = String::new();
    // The default pair is one table (the listener corpus alone fills a few
    // cells of LISTEN and SYN-RECEIVED); paths given are one table each,
    // then together. The lists of missing cells go with the last table.
    if !default {
        for s in &sources {
            out.push_str(&render(
                &s.title,
                &s.model,
                &s.covered,
                s.by,
                sources.len() == 1,
            ));
            out.push('\n');
        }
    }
    if default || sources.len() > 1 {
        let model: Vec<Transition> = sources.iter().flat_map(|s| s.model.clone()).collect();
        let covered: Vec<Transition> = sources.iter().flat_map(|s| s.covered.clone()).collect();
        let title: Vec<&str> = sources.iter().map(|s| s.title.as_str()).collect();
        let title = if default {
            title.join(" + ")
        } else {
            "all of the above together".into()
        };
        out.push_str(&render(&title, &model, &covered, sources[0].by, true));
        out.push('\n');
    }
    out.push_str(&legend());
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(state: &str, event: &str) -> Transition {
        Transition {
            state: state.into(),
            event: event.parse().unwrap(),
            next: "CLOSED".into(),
            output: "-".into(),
        }
    }

    #[test]
    fn events_fall_in_the_rfc_columns() {
        let col = |e: &str| column(&t("ESTABLISHED", e));
        assert_eq!(col("recv SA"), "SA");
        assert_eq!(col("recv SP"), "S");
        assert_eq!(col("recv S (at RCV.NXT+1)"), "S");
        assert_eq!(col("recv SF"), "SF");
        assert_eq!(col("recv RP"), "RP");
        assert_eq!(col("recv RA"), "RA");
        assert_eq!(col("recv FA (late in TIME-WAIT)"), "FA");
        assert_eq!(col("recv F"), "F");
        assert_eq!(col("recv PA"), "PA");
        assert_eq!(col("recv A (ack above SND.NXT)"), "A>");
        assert_eq!(col("recv A (cookie)"), "A");
        assert_eq!(col("recv ."), ".");
        assert_eq!(col("app connect"), "OPEN");
        assert_eq!(col("app listen"), "OPEN");
        assert_eq!(col("rto (retries exhausted)"), "GIVE-UP");
        assert_eq!(col("2msl"), "2MSL");
        // t() gives next CLOSED: a timeout that closes is the give-up.
        assert_eq!(col("rto"), "GIVE-UP");
        let mut rto = t("ESTABLISHED", "rto");
        rto.next = "ESTABLISHED".into();
        assert_eq!(column(&rto), "RTO");
    }

    #[test]
    fn a_cell_counts_covered_of_modelled_and_the_table_owes_the_rest() {
        let model = [
            t("CLOSED", "recv A"),
            t("ESTABLISHED", "recv R"),
            t("ESTABLISHED", "recv R (at RCV.NXT+1)"),
        ];
        let covered = [t("ESTABLISHED", "recv R")];
        let out = render("x", &model, &covered, "a trace", true);
        let row = |s: &str| out.lines().find(|l| l.starts_with(s)).unwrap().to_string();
        // ESTABLISHED × R: two transitions, one covered.
        assert!(row("ESTABLISHED").contains(" 1/2"), "{out}");
        assert!(row("CLOSED").contains(" 0/1"), "{out}");
        // 11 states × 16 calls and segments, + 7 × 2 retransmission cells, + 1.
        assert!(
            out.contains(
                "cells of the RFC's table: 191; the model has transitions in 2; a trace covers 1"
            ),
            "{out}"
        );
        assert!(
            out.contains("modelled, not covered by a trace (1): CLOSED × A"),
            "{out}"
        );
        // A timer cell that cannot exist is blank, not owed.
        assert!(!out.contains("CLOSED × RTO"), "{out}");
        assert!(out.contains("TIME-WAIT × 2MSL"), "{out}");
    }

    #[test]
    fn a_covered_transition_the_model_lacks_does_not_count() {
        let out = render(
            "x",
            &[t("LISTEN", "recv S")],
            &[t("LISTEN", "recv SA")],
            "a trace",
            true,
        );
        assert!(out.contains("a trace covers 0"), "{out}");
    }
}
