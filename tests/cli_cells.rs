//! `tracewright cells`: the TCP corpus against RFC 9293 §3.10's event
//! table, from the corpus and from a target's results.

mod common;

use common::tracewright;

/// The summary line's three numbers: owed cells, modelled, covered.
fn summary(out: &str) -> (usize, usize, usize) {
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with("cells of the RFC's table: "))
        .unwrap_or_else(|| panic!("no summary in\n{out}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    (n[0], n[1], n[2])
}

#[test]
fn the_committed_corpus_covers_every_cell_its_model_has() {
    let (code, out, err) = tracewright(&["cells"]);
    assert_eq!(code, 0, "{out}{err}");
    let (owed, modelled, covered) = summary(&out);
    // 11 states × (4 calls + 12 kinds of segment + SHUTDOWN READ), the
    // retransmission timer's two cells in the 7 states it runs in, and
    // TIME-WAIT's timer.
    assert_eq!(owed, 202, "{out}");
    assert!(modelled > 100 && modelled <= owed, "{out}");
    assert_eq!(
        covered, modelled,
        "the generator covers every transition: {out}"
    );
    // The TIME-WAIT row has its timer; CLOSED has none (the 2MSL column,
    // whose cells end where its heading does).
    let row = |s: &str| out.lines().find(|l| l.starts_with(s)).unwrap().to_string();
    let end = row("state").find("2MSL").expect("a 2MSL column") + "2MSL".len();
    let cell = |s: &str| row(s).chars().take(end).collect::<String>();
    assert!(cell("TIME-WAIT").trim_end().ends_with(" 1/1"), "{out}");
    let closed = cell("CLOSED");
    assert!(closed.chars().skip(end - 4).all(|c| c == ' '), "{out}");
}

#[test]
fn a_target_is_credited_only_with_its_passing_traces() {
    let dir = std::env::temp_dir().join(format!("tracewright-cells-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("r.json");
    let json_s = json.to_str().unwrap();
    let (code, out, err) = tracewright(&[
        "replay",
        "tcp",
        "--target",
        "bundled",
        "--only",
        "time-wait",
        "--json",
        json_s,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = tracewright(&["cells", json_s]);
    assert_eq!(code, 0, "{out}{err}");
    let before = summary(&out);
    assert!(
        out.contains("tcp against bundled (profile rfc9293)"),
        "{out}"
    );
    assert!(before.2 > 0, "{out}");

    // The same run with every trace that reaches TIME-WAIT's timer failed.
    let text = std::fs::read_to_string(&json).unwrap();
    let mut failed = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let covers_2msl = v["covers"]
                .as_array()
                .is_some_and(|c| c.iter().any(|t| t["event"] == "2msl"));
            if v["type"] == "trace" && covers_2msl {
                v["verdict"] = "fail".into();
                v["label"] = "FAIL".into();
                v["step"] = 0.into();
                v["reason"] = "made to fail by the test".into();
                failed += 1;
            }
            v.to_string()
        })
        .collect();
    assert!(failed > 0, "no trace of the run reaches 2msl");
    std::fs::write(&json, lines.join("\n") + "\n").unwrap();
    let (code, out, err) = tracewright(&["cells", json_s]);
    assert_eq!(code, 0, "{out}{err}");
    let after = summary(&out);
    assert_eq!((after.0, after.1), (before.0, before.1), "{out}");
    assert!(after.2 < before.2, "{before:?} -> {after:?}\n{out}");
    assert!(out.contains("TIME-WAIT × 2MSL"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_path_that_is_neither_is_refused_by_name() {
    let (code, out, err) = tracewright(&["cells", "/nonexistent/corpus"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("/nonexistent/corpus"), "{err}");
    let (code, _, err) = tracewright(&["cells", "traces/h2"]);
    assert_ne!(code, 0);
    assert!(err.contains("TCP"), "{err}");
}
