//! `--html PATH`: a report as one self-contained HTML file (no script, no
//! font, no image fetched: styles inline, ladders as inline SVG). The
//! summary; the state × event matrix as a coloured grid whose cells link
//! to the traces; then each trace, with its ladder drawn from the trace
//! file, and, for a trace that did not pass, the ladder the target drew
//! beside it (what was expected and what came, the divergence in red).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::{Context, Result};
use tracewright_conformance::registry::Loaded;
use tracewright_conformance::replay::{Dir, TraceResult, Verdict};
use tracewright_conformance::report::{Report, MATRIX_COLUMNS};
use tracewright_model::ladder::{self, Rung, Way};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 8px} h2{font-size:16px;margin:28px 0 8px}
.counts span{display:inline-block;padding:3px 10px;margin:0 6px 6px 0;border-radius:4px;color:#fff;font-weight:bold}
.pass{background:#2e7d32}.fail{background:#c62828}.deviation{background:#00838f}.inconclusive{background:#ef8f00}.error{background:#6a1b9a}.stale{background:#ad1457}
table.m{border-collapse:collapse;font:12px monospace}
table.m th{padding:3px 5px;background:#eee;border:1px solid #ccc;white-space:nowrap}
table.m td{width:46px;height:22px;text-align:center;border:1px solid #ccc}
table.m td a{display:block;color:#fff;text-decoration:none;font-weight:bold}
td.all{background:#2e7d32}td.some{background:#ef8f00}td.none{background:#c62828}td.empty{background:#f3f3f3;color:#bbb}
section{background:#fff;border:1px solid #ddd;border-radius:6px;margin:10px 0;padding:8px 12px}
section h3{font:bold 13px monospace;margin:0 0 4px}
.label{padding:1px 6px;border-radius:3px;color:#fff;margin-right:8px}
.why{color:#444;margin:4px 0} .covers{color:#666;font:12px monospace}
.pair{display:flex;gap:12px;overflow-x:auto;align-items:flex-start}
.pair figure{margin:0} figcaption{font-weight:bold;margin:4px 0}
details summary{cursor:pointer;font:12px monospace;color:#2e7d32}
";

/// The CSS class of a verdict label.
fn class(label: &str) -> &'static str {
    match label {
        "PASS" => "pass",
        "DEVIATION" => "deviation",
        "INCONCLUSIVE" => "inconclusive",
        "ERROR" => "error",
        "PASS (STALE)" => "stale",
        _ => "fail",
    }
}

/// The trace's own ladder, by id.
fn expected(corpus: &Loaded) -> BTreeMap<&str, Vec<Rung>> {
    match corpus {
        Loaded::Tcp(c) => c
            .traces
            .iter()
            .map(|t| (t.id.as_str(), ladder::trace_rungs(t)))
            .collect(),
        Loaded::H2(c) => c
            .traces
            .iter()
            .map(|t| (t.id.as_str(), ladder::h2_trace_rungs(t)))
            .collect(),
    }
}

/// What the target did, as the replay's transcript drew it.
fn observed(r: &TraceResult) -> Vec<Rung> {
    let mut rungs: Vec<Rung> = r
        .transcript
        .iter()
        .map(|l| {
            let way = match l.dir {
                Dir::ToIut => Way::ToIut,
                Dir::FromIut => Way::FromIut,
                Dir::Note => Way::Note,
            };
            let mut rung = Rung::new(way, l.text.clone()).at(l.step);
            rung.state = l.state.clone();
            rung
        })
        .collect();
    if let Verdict::Fail {
        step, got: None, ..
    } = &r.verdict
    {
        rungs.push(Rung::new(Way::Note, "nothing came").at(*step));
    }
    rungs
}

/// The step a verdict names, if any.
fn step_of(v: &Verdict) -> Option<usize> {
    match v {
        Verdict::Fail { step, .. } | Verdict::Inconclusive { step, .. } => Some(*step),
        Verdict::Error { step, .. } => *step,
        Verdict::Pass => None,
    }
}

fn matrix(out: &mut String, report: &Report) {
    let Some(cov) = &report.coverage else {
        out.push_str("<p>coverage: unknown (no coverage.yaml beside the traces)</p>");
        return;
    };
    let verdicts: BTreeMap<&str, &TraceResult> =
        report.results.iter().map(|r| (r.id.as_str(), r)).collect();
    // (state, column) -> the traces covering its transitions.
    let mut cells: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    let mut columns: Vec<String> = Vec::new();
    for t in &cov.transitions {
        let k = t.transition.event.column();
        if !columns.contains(&k) {
            columns.push(k.clone());
        }
        let cell = cells.entry((t.transition.state.clone(), k)).or_default();
        if let Some(id) = &t.trace {
            cell.push(id.as_str());
        }
    }
    columns.sort_by_key(|c| {
        MATRIX_COLUMNS
            .iter()
            .position(|o| o == c)
            .unwrap_or(MATRIX_COLUMNS.len())
    });
    let rows: Vec<String> = if report.protocol == "h2" {
        let mut r: Vec<String> = tracewright_conformance::h2::STREAM_STATES
            .iter()
            .map(|s| s.to_string())
            .collect();
        r.push("connection".into());
        r
    } else {
        tracewright_conformance::trace::TcpState::ALL
            .iter()
            .map(|s| s.name().to_string())
            .collect()
    };
    let _ = write!(
        out,
        "<h2>Transitions by state and event</h2><p>passed/covered; a cell links to a trace that did not pass, or else to one that did.</p><table class=\"m\"><tr><th></th>"
    );
    for c in &columns {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    out.push_str("</tr>");
    for state in rows {
        let _ = write!(out, "<tr><th>{}</th>", esc(&state));
        for c in &columns {
            let ids = cells.get(&(state.clone(), c.clone()));
            match ids.filter(|ids| !ids.is_empty()) {
                None => out.push_str("<td class=\"empty\">·</td>"),
                Some(ids) => {
                    let passed: Vec<&&str> = ids
                        .iter()
                        .filter(|id| {
                            verdicts
                                .get(**id)
                                .is_some_and(|r| r.verdict == Verdict::Pass)
                        })
                        .collect();
                    let kind = match passed.len() {
                        n if n == ids.len() => "all",
                        0 => "none",
                        _ => "some",
                    };
                    let target = ids
                        .iter()
                        .find(|id| !passed.contains(id))
                        .unwrap_or(&ids[0]);
                    let _ = write!(
                        out,
                        "<td class=\"{kind}\" title=\"{}\"><a href=\"#{}\">{}/{}</a></td>",
                        esc(&ids.join("\n")),
                        esc(target),
                        passed.len(),
                        ids.len()
                    );
                }
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

/// The report as one HTML page.
pub fn render(report: &Report, corpus: &Loaded) -> String {
    let c = report.counts();
    let title = format!(
        "tracewright report: {} against {} (profile {})",
        report.protocol, report.target, report.profile
    );
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1>",
        esc(&title),
        esc(&title)
    );
    out.push_str("<p class=\"counts\">");
    let _ = write!(
        out,
        "<span class=\"pass\">{} traces</span>",
        report.results.len()
    );
    for (n, what, class) in [
        (c.pass, "pass", "pass"),
        (c.fail, "fail", "fail"),
        (c.deviation, "documented deviation", "deviation"),
        (c.inconclusive, "inconclusive", "inconclusive"),
        (c.error, "error", "error"),
        (c.stale, "stale deviation entries", "stale"),
    ] {
        if n > 0 || what == "pass" || what == "fail" {
            let _ = write!(out, "<span class=\"{class}\">{n} {what}</span>");
        }
    }
    out.push_str("</p>");
    if let Some(d) = &report.deviations {
        let _ = write!(
            out,
            "<p>deviations: {} entries in {}</p>",
            d.entries.len(),
            esc(&d.file)
        );
    }
    matrix(&mut out, report);
    let expected = expected(corpus);
    let iut = format!("IUT ({})", report.target);
    out.push_str("<h2>Traces</h2>");
    // The traces that did not pass first, then the others folded.
    let (passes, others): (Vec<&TraceResult>, Vec<&TraceResult>) = report
        .results
        .iter()
        .partition(|r| report.label(r) == "PASS");
    for r in others.iter().chain(passes.iter()) {
        let label = report.label(r);
        let _ = write!(
            out,
            "<section id=\"{}\"><h3><span class=\"label {}\">{}</span>{}</h3>",
            esc(&r.id),
            class(label),
            esc(label),
            esc(&r.id)
        );
        for t in &r.covers {
            let _ = write!(
                out,
                "<div class=\"covers\">covers: {}</div>",
                esc(&t.to_string())
            );
        }
        if let Some(d) = report.deviation(&r.id) {
            let _ = write!(
                out,
                "<p class=\"why\">documented deviation: {}</p>",
                esc(&d.reason)
            );
        }
        match &r.verdict {
            Verdict::Fail { reason, .. }
            | Verdict::Inconclusive { reason, .. }
            | Verdict::Error { reason, .. } => {
                let _ = write!(out, "<p class=\"why\">{}</p>", esc(reason));
            }
            Verdict::Pass => {}
        }
        if let Some(rfc) = r.rfc {
            let _ = write!(out, "<p class=\"why\">{}</p>", esc(rfc));
        }
        let mine = expected.get(r.id.as_str());
        if r.verdict == Verdict::Pass {
            if let Some(rungs) = mine {
                let _ = write!(
                    out,
                    "<details><summary>ladder</summary>{}</details>",
                    ladder::svg(&r.id, &iut, rungs, &[])
                );
            }
        } else {
            let at = step_of(&r.verdict);
            out.push_str("<div class=\"pair\">");
            if let Some(rungs) = mine {
                let marked: Vec<usize> = (0..rungs.len())
                    .filter(|&i| Some(rungs[i].step) == at)
                    .collect();
                let _ = write!(
                    out,
                    "<figure><figcaption>expected (the trace)</figcaption>{}</figure>",
                    ladder::svg(&r.id, &iut, rungs, &marked)
                );
            }
            let seen = observed(r);
            if !seen.is_empty() {
                let last = seen.len() - 1;
                let marked: Vec<usize> = match &r.verdict {
                    Verdict::Fail { .. } => vec![last],
                    _ => (0..seen.len())
                        .filter(|&i| Some(seen[i].step) == at)
                        .collect(),
                };
                let _ = write!(
                    out,
                    "<figure><figcaption>observed ({})</figcaption>{}</figure>",
                    esc(&report.target),
                    ladder::svg(&r.id, &iut, &seen, &marked)
                );
            }
            out.push_str("</div>");
        }
        out.push_str("</section>");
    }
    out.push_str("</body></html>\n");
    out
}

pub fn write(report: &Report, corpus: &Loaded, path: &Path) -> Result<()> {
    std::fs::write(path, render(report, corpus))
        .with_context(|| format!("writing {}", path.display()))
}
