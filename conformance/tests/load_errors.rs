//! A malformed trace gets an error naming file, line and field, never a
//! panic, and does not stop the rest of the corpus from loading.

use std::path::Path;

use tracewright_conformance::load::{load_corpus, parse_trace};

const GOOD: &str = "format: tracewright/1
id: t
protocol: tcp
iut: server
profile: rfc9293
variant: null
description: d
covers: []
steps:
  - app: listen
  - send: {flags: S, seq: 0}
  - expect: {any_of: [{flags: SA, seq: 0, ack: 1}]}
";

fn err(text: &str) -> String {
    parse_trace(Path::new("traces/tcp/t.yaml"), text)
        .unwrap_err()
        .to_string()
}

#[test]
fn the_good_trace_loads() {
    parse_trace(Path::new("traces/tcp/t.yaml"), GOOD).unwrap();
}

#[test]
fn a_bad_flag_names_line_and_field() {
    let e = err(&GOOD.replace("flags: S,", "flags: SX,"));
    assert!(e.starts_with("traces/tcp/t.yaml:11:"), "{e}");
    assert!(e.contains("steps[1].send.flags"), "{e}");
    assert!(e.contains("unknown flag `X`"), "{e}");
}

#[test]
fn an_unknown_key_is_refused() {
    let e = err(&GOOD.replace("{flags: S, seq: 0}", "{flags: S, seq: 0, sack: 1}"));
    assert!(e.starts_with("traces/tcp/t.yaml:11:"), "{e}");
    assert!(e.contains("steps[1].send"), "{e}");
    assert!(e.contains("sack"), "{e}");
}

#[test]
fn an_ack_flag_without_an_ack_number_is_refused() {
    let e = err(&GOOD.replace("{flags: S, seq: 0}", "{flags: SA, seq: 0}"));
    assert!(e.starts_with("traces/tcp/t.yaml:11:"), "{e}");
    assert!(e.contains("ack: missing"), "{e}");
}

#[test]
fn a_bad_wait_names_the_step() {
    let e = err(&format!("{GOOD}  - wait: soon\n"));
    assert!(e.starts_with("traces/tcp/t.yaml:13:"), "{e}");
    assert!(e.contains("steps[3].wait"), "{e}");
    assert!(e.contains("`soon` is not a wait"), "{e}");
}

#[test]
fn a_bad_state_names_the_step() {
    let e = err(&format!("{GOOD}  - state: HALF-OPEN\n"));
    assert!(e.contains(":13:") && e.contains("steps[3].state"), "{e}");
}

#[test]
fn the_format_tag_and_id_are_checked() {
    let e = err(&GOOD.replace("tracewright/1", "tracewright/9"));
    assert_eq!(
        e,
        "traces/tcp/t.yaml:1: format: `tracewright/9`: this harness reads `tracewright/1`"
    );
    let e = err(&GOOD.replace("id: t", "id: other"));
    assert_eq!(
        e,
        "traces/tcp/t.yaml:2: id: `other` differs from the file name `t`"
    );
}

#[test]
fn not_yaml_at_all() {
    let e = err("steps: [\n");
    assert!(e.starts_with("traces/tcp/t.yaml:"), "{e}");
}

#[test]
fn a_broken_file_does_not_stop_the_corpus() {
    let dir = std::env::temp_dir().join(format!("tracewright-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("t.yaml"), GOOD).unwrap();
    std::fs::write(
        dir.join("u.yaml"),
        GOOD.replace("id: t", "id: u")
            .replace("flags: S,", "flags: Q,"),
    )
    .unwrap();
    let corpus = load_corpus(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(corpus.traces.len(), 1);
    assert_eq!(corpus.errors.len(), 1);
    assert_eq!(corpus.errors[0].id(), "u");
}
