use stateright::{Checker, Model};
use tracewright_model::tcp::*;
#[test]
fn scratch() {
    let l: u8 = std::env::var("L").unwrap().parse().unwrap();
    let d: u8 = std::env::var("D").unwrap().parse().unwrap();
    let m = TcpModel::new(TcpConfig::new("rfc9293", 2, 2, 2).with_budgets(l, d));
    let t = std::time::Instant::now();
    let c = m.clone().checker().target_state_count(3_000_000).spawn_bfs().join();
    println!("loss {l} dup {d}: states {} unique {} depth {} in {:?}", c.state_count(), c.unique_state_count(), c.max_depth(), t.elapsed());
    for (name, p) in c.discoveries() {
        println!("  discovery {name}: {}", p.clone().into_actions().len());
        if std::env::var("SHOW").is_ok() && !name.contains("simul") && !name.contains("both_est") && !name.contains("half") && !name.contains("time_wait") {
            println!("{}", tracewright_model::ladder::draw(&m, &p.into_vec()));
        }
    }
    if std::env::var("GEN").is_ok() {
    let g = tracewright_model::generate::generate(&m, &mut |_| {});
    println!("  generate: {} states, {} transitions, {} traces", g.states, g.transitions(), g.traces.len());
    }
}
