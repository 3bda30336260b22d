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
    // 11 states × (5 calls + 12 kinds of segment), the retransmission
    // timer's two cells in the 7 states it runs in, and TIME-WAIT's timer.
    assert_eq!(owed, 202, "{out}");
    assert!(modelled > 100 && modelled <= owed, "{out}");
    assert_eq!(
        covered, modelled,
        "the generator covers every transition: {out}"
    );
    // The TIME-WAIT row has its timer; CLOSED has none.
    let row = |s: &str| out.lines().find(|l| l.starts_with(s)).unwrap().to_string();
    let header = row("state");
    let end = header.find("2MSL").unwrap() + "2MSL".len();
    // By characters: `·` is two bytes.
    let cell = |s: &str| {
        let r: Vec<char> = row(s).chars().collect();
        r.get(end - 4..end.min(r.len()))
            .unwrap_or(&[])
            .iter()
            .collect::<String>()
            .trim()
            .to_string()
    };
    assert_eq!(cell("TIME-WAIT"), "1/1", "{out}");
    assert_eq!(cell("CLOSED"), "", "{out}");
}
