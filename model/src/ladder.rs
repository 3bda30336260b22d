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
