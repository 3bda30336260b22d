//! Text from files, traces and adapters cannot forge a line of the report
//! (a `PASS` line for a trace that failed) nor break the JUnit XML or the
//! JSON results.

use std::time::Duration;

use tracewright_conformance::deviations::Deviations;
use tracewright_conformance::load::load_corpus;
use tracewright_conformance::replay::{Dir, LadderLine, TraceResult, Verdict};
use tracewright_conformance::report::Report;
use tracewright_conformance::results::{Line, TraceLine};

const FORGED: &str = "  PASS          tcp-forged";

fn hostile() -> String {
    format!("evil\n{FORGED}\n\u{1b}[2J\u{1}<&\"'>")
}

fn forged_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.trim_start().starts_with("PASS") && l.contains("tcp-forged"))
        .collect()
}

fn failing(id: &str, text: &str) -> TraceResult {
    TraceResult {
        id: id.to_string(),
        verdict: Verdict::Fail {
            step: 1,
            reason: text.to_string(),
            expected: vec![text.to_string()],
            got: Some(text.to_string()),
        },
        covers: Vec::new(),
        transcript: vec![LadderLine {
            step: 1,
            dir: Dir::FromIut,
            text: text.to_string(),
            state: Some(text.to_string()),
        }],
        rfc: None,
    }
}

fn report(results: Vec<TraceResult>) -> Report {
    Report::assemble("tcp", &hostile(), "rfc9293", results, &[], None)
}

#[test]
fn an_id_with_a_newline_cannot_forge_a_pass_line() {
    let r = report(vec![failing(&hostile(), &hostile())]);
    let text = r.render();
    assert_eq!(forged_lines(&text), Vec::<&str>::new(), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "an escape sequence reached the report"
    );
    assert!(text.contains("evil\\n  PASS"), "{text}");
    // Only the one FAIL in the verdict list.
    let verdicts = text.split("verdicts:\n").nth(1).unwrap();
    assert_eq!(verdicts.lines().count(), 1, "{verdicts}");
}

#[test]
fn a_deviation_list_cannot_forge_lines_either() {
    let d = Deviations::parse(
        "dev.yaml",
        "target: x\ndeviations:\n  - id: \"nope\\n  PASS          tcp-forged\"\n    reason: \"r\\n  PASS          tcp-forged\"\n  - id: \"tcp-a\"\n    reason: \"because\\n  PASS          tcp-forged\"\n",
    )
    .unwrap();
    let r = Report::assemble(
        "tcp",
        "x",
        "rfc9293",
        vec![
            failing("tcp-a", "no"),
            TraceResult {
                verdict: Verdict::Pass,
                ..failing("tcp-b", "")
            },
        ],
        &[],
        None,
    )
    .with_deviations(d);
    let text = r.render();
    assert_eq!(forged_lines(&text), Vec::<&str>::new(), "{text}");
}

/// A file that does not load is an error verdict named after the file: a
/// newline in the file's name must not start a line of the report.
#[cfg(unix)]
#[test]
fn a_load_error_named_with_a_newline_cannot_forge_a_pass_line() {
    let dir = std::env::temp_dir().join(format!("tw-escaping-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("x\n{FORGED}.yaml")), "format: [\n").unwrap();
    let corpus = load_corpus(&dir).unwrap();
    assert_eq!(corpus.errors.len(), 1);
    let r = Report::assemble(
        "tcp",
        "bundled",
        "rfc9293",
        Vec::new(),
        &corpus.errors,
        None,
    );
    let text = r.render();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(forged_lines(&text), Vec::<&str>::new(), "{text}");
    assert!(text.contains("ERROR"), "{text}");
}

#[test]
fn junit_is_well_formed_xml_whatever_the_text() {
    let r = report(vec![
        failing(&hostile(), &hostile()),
        TraceResult::error("e\u{0}\u{7}", &[], hostile()),
        TraceResult {
            verdict: Verdict::Inconclusive {
                step: 0,
                reason: hostile(),
            },
            ..failing("i\u{fffe}", "")
        },
    ]);
    let xml = r.junit_xml();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 3);
    // The newline survives as a newline in the attribute (a reference, not
    // normalised away), the control characters as escapes.
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(failure
        .attribute("message")
        .unwrap()
        .contains("evil\n  PASS"));
    assert!(failure.attribute("message").unwrap().contains("\\u{1b}"));
}

#[test]
fn json_lines_stay_one_line_and_round_trip() {
    let r = failing(&hostile(), &hostile());
    let line = Line::Trace(Box::new(TraceLine::new(
        &r,
        "FAIL",
        Duration::from_millis(3),
    )));
    let text = serde_json::to_string(&line).unwrap();
    assert!(!text.contains('\n'));
    let Line::Trace(back) = serde_json::from_str::<Line>(&text).unwrap() else {
        panic!("not a trace line");
    };
    let back = back.result().unwrap();
    assert_eq!(back.id, r.id);
    assert_eq!(back.verdict, r.verdict);
    assert_eq!(back.transcript[0].text, hostile());
}
