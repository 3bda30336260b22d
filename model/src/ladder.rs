//! Paths of the TCP model drawn as ladder diagrams: endpoint A on the left,
//! B on the right, one line per event, each endpoint's state beside it.
//!
//! ```text
//!              A                                                B
//!     SYN-SENT | --- S seq=0 ->                                 | CLOSED       A app connect
//!     SYN-SENT |                        --- S seq=0 ----------> | CLOSED       net delivers
//! ```
//! A segment is drawn twice: when it is sent (a short arrow leaving its
//! sender) and when it is delivered (a long arrow reaching its receiver),
//! or lost (`-X`).

use std::fmt::Write;

use crate::tcp::{Action, Segment, TcpModel, World, CLIENT};

const MID: usize = 44;

fn arrow(seg: &Segment, from_left: bool, full: bool, lost: bool) -> String {
    let text = format!(" {seg} ");
    let body = if full { MID - 2 } else { text.len() + 6 };
    let dashes = body.saturating_sub(text.len() + 2);
    let tip = if lost { "-X" } else { "->" };
    let left_tip = if lost { "X-" } else { "<-" };
    let s = if from_left {
        format!("---{text}{}{tip}", "-".repeat(dashes.saturating_sub(1)))
    } else {
        format!(
            "{left_tip}{}{text}---",
            "-".repeat(dashes.saturating_sub(1))
        )
    };
    if from_left {
        format!("{s:<MID$}")
    } else {
        format!("{s:>MID$}")
    }
}

fn line(out: &mut String, w: &World, middle: &str, note: &str) {
    let _ = writeln!(
        out,
        "{:>13} |{:<MID$}| {:<13} {}",
        w.ends[0].state.to_string(),
        middle,
        w.ends[1].state.to_string(),
        note
    );
}

/// Draws a path (as stateright's `Path::into_vec` gives it).
pub fn draw(model: &TcpModel, path: &[(World, Option<Action>)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:>13}  {:<MID$}  B", "A", "");
    if let Some((w, _)) = path.first() {
        line(&mut out, w, "", "");
    }
    for (w, action) in path {
        let Some(a) = *action else { continue };
        let Some((next, es)) = model.step(w, a) else {
            continue;
        };
        match a {
            Action::NetDeliver(s) => line(
                &mut out,
                &next,
                &arrow(&s, s.from as usize == CLIENT, true, false),
                "",
            ),
            Action::NetLose(s) => line(
                &mut out,
                &next,
                &arrow(&s, s.from as usize == CLIENT, true, true),
                "lost",
            ),
            Action::NetDuplicate(s) => line(
                &mut out,
                &next,
                &format!("{:^MID$}", format!("{s} duplicated")),
                "",
            ),
            _ => line(&mut out, &next, "", &a.to_string()),
        }
        if let Some(seg) = es.and_then(|es| es.output) {
            line(
                &mut out,
                &next,
                &arrow(&seg, seg.from as usize == CLIENT, false, false),
                "sent",
            );
        }
    }
    out
}

// ------------------------------------------------------------ trace ladders

/// Which way a rung of a trace's ladder goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// From the harness to the IUT (`send`).
    ToIut,
    /// From the IUT to the harness (`expect`, or what came).
    FromIut,
    /// At the IUT: an application call, time passing, a check.
    Note,
}

/// One line of a trace's ladder: harness on the left, the IUT on the
/// right, the IUT's state beside it when the trace says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rung {
    pub way: Way,
    pub text: String,
    /// The IUT's state after this line, where the trace checks it.
    pub state: Option<String>,
    /// The index of the trace step it draws (a replay's divergence names
    /// its step).
    pub step: usize,
}

impl Rung {
    pub fn new(way: Way, text: impl Into<String>) -> Rung {
        Rung {
            way,
            text: text.into(),
            state: None,
            step: 0,
        }
    }

    /// The rung drawn for trace step `step`.
    pub fn at(mut self, step: usize) -> Rung {
        self.step = step;
        self
    }
}

/// Sets the state of the last rung, or adds a note when it has one.
fn state_after(rungs: &mut Vec<Rung>, state: String, step: usize) {
    match rungs.last_mut() {
        Some(r) if r.state.is_none() => r.state = Some(state),
        _ => rungs.push(Rung {
            way: Way::Note,
            text: String::new(),
            state: Some(state),
            step,
        }),
    }
}

fn segment_text(
    flags: &tracewright_vocab::trace::Flags,
    seq: Option<u32>,
    ack: Option<u32>,
    len: u32,
    peer: u16,
) -> String {
    let mut s = flags.to_string();
    if let Some(seq) = seq {
        s += &format!(" seq={seq}");
    }
    if let Some(ack) = ack {
        s += &format!(" ack={ack}");
    }
    if len > 0 {
        s += &format!(" len={len}");
    }
    if peer != 0 {
        s += &format!(" peer={peer}");
    }
    s
}

/// A TCP trace as its ladder: what the harness sends, what the IUT must
/// send (alternatives joined by `|`), its application calls, waits and
/// checked states, in the trace's order.
pub fn trace_rungs(t: &tracewright_vocab::trace::Trace) -> Vec<Rung> {
    use tracewright_vocab::trace::Step;
    let mut rungs = Vec::new();
    for (i, step) in t.steps.iter().enumerate() {
        let n = rungs.len();
        match step {
            Step::App(call) => rungs.push(Rung::new(Way::Note, format!("app {call}"))),
            Step::Send(s) => rungs.push(Rung::new(
                Way::ToIut,
                segment_text(&s.flags, Some(s.seq), s.ack, s.len, s.peer),
            )),
            Step::Expect(e) => {
                let alts: Vec<String> = e
                    .any_of
                    .iter()
                    .map(|p| {
                        let mut s = segment_text(&p.flags, p.seq, p.ack, p.len, p.peer);
                        if p.new_isn {
                            s += " (new ISN)";
                        }
                        s
                    })
                    .collect();
                rungs.push(Rung::new(Way::FromIut, alts.join(" | ")));
            }
            Step::Wait(w) => rungs.push(Rung::new(Way::Note, format!("wait {w}"))),
            Step::State(s) => state_after(&mut rungs, s.to_string(), i),
            Step::Delivered(d) => rungs.push(Rung::new(Way::Note, format!("delivered {d}"))),
            Step::Refused(call) => rungs.push(Rung::new(Way::Note, format!("app {call}, refused"))),
        }
        rungs[n..].iter_mut().for_each(|r| r.step = i);
    }
    rungs
}

/// An HTTP/2 trace as its ladder; a stream's checked state is written
/// `1: open`.
pub fn h2_trace_rungs(t: &tracewright_vocab::h2::H2Trace) -> Vec<Rung> {
    use tracewright_vocab::h2::H2Step;
    let mut rungs = Vec::new();
    for (i, step) in t.steps.iter().enumerate() {
        let n = rungs.len();
        match step {
            // Its Display says `app …` already.
            H2Step::App(call) => rungs.push(Rung::new(Way::Note, call.to_string())),
            H2Step::Send(f) => rungs.push(Rung::new(Way::ToIut, f.to_string())),
            H2Step::Expect(e) => {
                let alts: Vec<String> = e.any_of.iter().map(|f| f.to_string()).collect();
                rungs.push(Rung::new(Way::FromIut, alts.join(" | ")));
            }
            H2Step::State(c) => state_after(&mut rungs, format!("{}: {}", c.stream, c.is), i),
            H2Step::Flood(fl) => rungs.push(Rung::new(Way::ToIut, fl.to_string())),
        }
        rungs[n..].iter_mut().for_each(|r| r.step = i);
    }
    rungs
}

const RUNG_MID: usize = 44;

/// Rungs as text, the way reports draw them:
///
/// ```text
///     harness                                          IUT (bundled)
///        |--- S seq=0 ------------------------------->|
///        |<-------------------- SA seq=0 ack=1 -------|  SYN-RECEIVED
///        |                                  app close |
/// ```
pub fn draw_rungs(iut: &str, rungs: &[Rung]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<w$}{iut}", "    harness", w = RUNG_MID + 9);
    for r in rungs {
        let middle = match r.way {
            Way::ToIut => format!("{:-<w$}>", format!("--- {} ", r.text), w = RUNG_MID - 1),
            Way::FromIut => format!("<{:->w$}", format!(" {} ---", r.text), w = RUNG_MID - 1),
            Way::Note => format!("{:>w$} ", r.text, w = RUNG_MID - 1),
        };
        let state = r.state.as_deref().unwrap_or("");
        let _ = writeln!(out, "       |{middle}|  {state}");
    }
    // No trailing blanks where a line has no state.
    out.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Rungs as an SVG picture: two lifelines, an arrow per segment or frame,
/// notes and states beside the IUT's line. `marked` rungs (a divergence)
/// are drawn in red. Self-contained: no fonts or scripts from elsewhere.
pub fn svg(title: &str, iut: &str, rungs: &[Rung], marked: &[usize]) -> String {
    const ROW: usize = 26;
    const TOP: usize = 62;
    // Wide enough for the longest label between the lifelines and the
    // longest state beside the IUT's (about 7.3 px a character at 12 px).
    let chars = |f: &dyn Fn(&Rung) -> usize| rungs.iter().map(f).max().unwrap_or(0);
    let label = chars(&|r| r.text.chars().count());
    let state = chars(&|r| r.state.as_deref().map_or(0, |s| s.chars().count()));
    let left = 60usize;
    let right = left + (label * 73 / 10 + 30).max(300);
    let width = (right + 20 + state * 73 / 10).max(right + 60);
    let height = TOP + ROW * rungs.len() + 20;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r##"<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#444"/></marker></defs>"##
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="10" y="18" font-weight="bold">{}</text>"#,
        xml(title)
    );
    for (x, name) in [(left, "harness"), (right, iut)] {
        let _ = writeln!(
            out,
            r##"<text x="{x}" y="44" text-anchor="middle" font-weight="bold">{}</text><line x1="{x}" y1="50" x2="{x}" y2="{}" stroke="#888"/>"##,
            xml(name),
            height - 10
        );
    }
    for (i, r) in rungs.iter().enumerate() {
        let y = TOP + ROW * i + 10;
        let colour = if marked.contains(&i) { "#c00" } else { "#222" };
        match r.way {
            Way::ToIut | Way::FromIut => {
                let (x1, x2) = if r.way == Way::ToIut {
                    (left, right - 2)
                } else {
                    (right, left + 2)
                };
                let _ = writeln!(
                    out,
                    r#"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{}" stroke="{colour}" stroke-width="1.5" marker-end="url(#a)"/><text x="{}" y="{}" text-anchor="middle" fill="{colour}">{}</text>"#,
                    y + 6,
                    (left + right) / 2,
                    y - 3,
                    xml(&r.text)
                );
            }
            Way::Note => {
                let _ = writeln!(
                    out,
                    r#"<text x="{}" y="{}" text-anchor="end" fill="{}" font-style="italic">{}</text>"#,
                    right - 8,
                    y + 4,
                    if marked.contains(&i) { "#c00" } else { "#555" },
                    xml(&r.text)
                );
            }
        }
        if let Some(state) = &r.state {
            let _ = writeln!(
                out,
                r##"<text x="{}" y="{}" fill="#06c">{}</text>"##,
                right + 10,
                y + 4,
                xml(state)
            );
        }
    }
    out += "</svg>\n";
    out
}

#[cfg(test)]
mod trace_tests {
    use super::*;

    fn handshake() -> tracewright_vocab::trace::Trace {
        let text = "format: tracewright/1\nid: t\nprotocol: tcp\niut: server\nprofile: rfc9293\nvariant: null\ndescription: d\ncovers: []\nsteps:\n  - app: listen\n  - send: {flags: S, seq: 0}\n  - expect: {any_of: [{flags: SA, seq: 0, ack: 1}, {flags: R, seq: 0}]}\n  - state: SYN-RECEIVED\n  - wait: rto(1)\n";
        tracewright_vocab::load::parse_trace(std::path::Path::new("t.yaml"), text).unwrap()
    }

    #[test]
    fn a_trace_reads_as_its_ladder() {
        let rungs = trace_rungs(&handshake());
        assert_eq!(
            draw_rungs("IUT", &rungs),
            r"    harness                                          IUT
       |                                 app listen |
       |--- S seq=0 ------------------------------->|
       |<-------------- SA seq=0 ack=1 | R seq=0 ---|  SYN-RECEIVED
       |                                wait rto(1) |
"
        );
    }

    #[test]
    fn the_svg_has_every_rung_and_marks_the_divergence() {
        let rungs = trace_rungs(&handshake());
        let svg = svg("t <&>", "IUT", &rungs, &[2]);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("t &lt;&amp;&gt;"));
        assert!(svg.contains(">SA seq=0 ack=1 | R seq=0</text>"));
        assert_eq!(svg.matches("stroke=\"#c00\"").count(), 1);
        assert_eq!(svg.matches("marker-end").count(), 2);
        assert!(svg.contains(">SYN-RECEIVED</text>"));
        // Nothing fetched: the only URL is the SVG namespace.
        assert_eq!(svg.matches("http").count(), 1);
    }
}
