use tracewright_conformance::h2::{replay_h2, BundledH2};
use tracewright_model::h2gen::{generate_h2, write_h2_corpus};

#[test]
fn gen() {
    let t = std::time::Instant::now();
    let mut last = 0;
    let c = generate_h2(&mut |n| if n > last + 200_000 { last = n; eprintln!("{n} {:?}", t.elapsed()) });
    eprintln!("{} states, {} traces, {} transitions in {:?}", c.states, c.traces.len(), c.transitions(), t.elapsed());
    write_h2_corpus(&c, std::path::Path::new("/tmp/h2traces")).unwrap();
    let mut target = BundledH2::new();
    let mut counts = std::collections::BTreeMap::new();
    for tr in &c.traces {
        let r = replay_h2(tr, &mut target);
        *counts.entry(r.verdict.label()).or_insert(0) += 1;
        if r.verdict.label() != "PASS" {
            eprintln!("{} {:?}", r.id, r.verdict);
        }
    }
    eprintln!("{counts:?}");
}
