//! Colour on terminals: verdict labels, the summary's counts, the
//! property table's results. Only what the CLI prints to stdout is
//! painted; report files, JUnit and HTML are written as they are.
//!
//! On when stdout is a terminal, or when `CLICOLOR_FORCE` is set to
//! something other than `0` (a CI log that shows colour); off whenever
//! `NO_COLOR` is set and not empty (<https://no-color.org>), which wins.

use std::io::IsTerminal;
use std::sync::OnceLock;

fn set(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| !v.is_empty() && v != "0")
}

pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        !no_color && (std::io::stdout().is_terminal() || set("CLICOLOR_FORCE"))
    })
}

#[derive(Clone, Copy)]
pub enum Hue {
    Good,
    Bad,
    Warn,
    Note,
}

impl Hue {
    fn code(self) -> &'static str {
        match self {
            Hue::Good => "32",
            Hue::Bad => "1;31",
            Hue::Warn => "33",
            Hue::Note => "36",
        }
    }
}

/// `text` in `hue`, or as it is when colour is off.
pub fn paint(text: &str, hue: Hue) -> String {
    if enabled() {
        format!("\x1b[{}m{text}\x1b[0m", hue.code())
    } else {
        text.to_string()
    }
}

/// The hue of a report's verdict label.
fn label_hue(label: &str) -> Hue {
    match label {
        "PASS" => Hue::Good,
        "DEVIATION" => Hue::Note,
        "INCONCLUSIVE" => Hue::Warn,
        _ => Hue::Bad,
    }
}

/// Longest first, so that `PASS (STALE)` is not read as `PASS`.
const LABELS: [&str; 7] = [
    "STALE DEVIATION",
    "PASS (STALE)",
    "INCONCLUSIVE",
    "DEVIATION",
    "ERROR",
    "STALE",
    "FAIL",
];

/// A report's text with its verdict labels painted: the heading of each
/// trace that did not pass (`FAIL id`) and the lines of the verdict list
/// (`  PASS          id`).
pub fn report(text: &str) -> String {
    if !enabled() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 1024);
    for line in text.split_inclusive('\n') {
        let indent = if line.starts_with("  ") { 2 } else { 0 };
        let rest = &line[indent..];
        let label = LABELS
            .iter()
            .chain(["PASS"].iter())
            .find(|l| rest.starts_with(**l) && rest[l.len()..].starts_with(' '));
        match label {
            Some(l) => {
                out += &line[..indent];
                out += &paint(l, label_hue(l));
                out += &rest[l.len()..];
            }
            None => out += line,
        }
    }
    out
}

/// A count in a summary: red when it is a failure and not zero.
pub fn count(n: usize, what: &str, bad: bool) -> String {
    let text = format!("{n} {what}");
    match (n, bad) {
        (0, _) => text,
        (_, true) => paint(&text, Hue::Bad),
        (_, false) if what == "pass" => paint(&text, Hue::Good),
        _ => paint(&text, Hue::Warn),
    }
}
