//! `tracewright show TRACE`: a trace's ladder in the terminal and as SVG.

mod common;

use common::tracewright;

#[test]
fn show_draws_a_tcp_trace_by_id() {
    let id = "tcp-server-time-wait-recv-fa-sends-a-to-time-wait";
    let (code, out, err) = tracewright(&["show", id]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "{id} (tcp, the IUT is the server, profile rfc9293)\ntraces/tcp/{id}.yaml\n"
        )),
        "{out}"
    );
    // Every step of the file is a line, in order, the states beside them.
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("       |")).collect();
    assert_eq!(lines.len(), 11, "{out}");
    assert!(lines[0].ends_with("app listen |  LISTEN"), "{}", lines[0]);
    assert!(
        lines[1].starts_with("       |--- S seq=0 ---"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("<") && lines[2].contains(" SA seq=0 ack=1 ---|  SYN-RECEIVED"),
        "{}",
        lines[2]
    );
    assert!(
        lines[10].ends_with("A seq=2 ack=2 ---|  TIME-WAIT"),
        "{}",
        lines[10]
    );
}

#[test]
fn show_draws_an_h2_trace_by_path_and_writes_svg() {
    let dir = std::env::temp_dir().join(format!("tw-show-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("ladder.svg");
    let file = "traces/h2/h2-client-closed-recv-data-silent-to-closed.yaml";
    let (code, out, err) = tracewright(&["show", file, "--svg", svg.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("       |                           app request on 1 |"),
        "{out}"
    );
    assert!(out.contains("--- DATA[1,len=1] ---"), "{out}");
    assert!(out.contains("|  1: closed"), "{out}");
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(">DATA[1,len=1]</text>"), "{svg}");
    assert!(svg.contains(">RST_STREAM[1,CANCEL]</text>"), "{svg}");
    // One arrow per frame the trace sends or expects.
    let arrows = out.lines().filter(|l| l.contains("---")).count();
    assert_eq!(svg.matches("marker-end").count(), arrows, "{svg}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn show_names_what_it_cannot_find() {
    let (code, _, err) = tracewright(&["show", "no-such-trace"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "show no-such-trace: no such trace file, and no trace with that id in traces/*/"
        ),
        "{err}"
    );
}
