//! The TCP model: pinned state counts, its properties, and named discoveries.

use stateright::{Checker, Model};
use tracewright_model::tcp::{Action, TcpConfig, TcpModel, TcpState, World, CLIENT, SERVER};

/// The rfc9293 profile's retry counts (profiles/rfc9293.yaml).
fn model(loss: u8, dup: u8) -> TcpModel {
    TcpModel::new(TcpConfig::new("rfc9293", 2, 2, 2).with_budgets(loss, dup))
}

#[test]
fn default_budgets_state_count_is_pinned_and_every_property_holds() {
    // The budgets `tracewright check tcp` uses by default.
    let checker = model(2, 1).checker().spawn_bfs().join();
    checker.assert_properties();
    assert_eq!(checker.unique_state_count(), 490_633);
}

#[test]
fn reliable_network_state_count_is_pinned() {
    let checker = model(0, 0).checker().spawn_bfs().join();
    for p in model(0, 0).properties() {
        if p.expectation == stateright::Expectation::Always {
            checker.assert_no_discovery(p.name);
        }
    }
    // Without loss nothing is retransmitted, so TIME-WAIT never re-ACKs.
    assert!(checker
        .discovery("time_wait_reacks_a_retransmitted_fin")
        .is_none());
    assert_eq!(checker.unique_state_count(), 6_990);
}

#[test]
fn generation_budgets_hold_every_property() {
    // `generate` explores with one loss more than the largest retry limit,
    // so that every give-up is reached.
    let checker = model(3, 1).checker().spawn_bfs().join();
    checker.assert_properties();
    assert_eq!(checker.unique_state_count(), 942_659);
}

fn run(m: &TcpModel, w: &World, actions: &[Action]) -> World {
    let mut w = w.clone();
    for &a in actions {
        let mut enabled = Vec::new();
        m.actions(&w, &mut enabled);
        assert!(enabled.contains(&a), "{a} is not enabled in {w:?}");
        w = m.next_state(&w, a).unwrap();
    }
    w
}

fn only_segment(w: &World) -> tracewright_model::tcp::Segment {
    assert_eq!(w.net.len(), 1, "one segment in flight: {:?}", w.net);
    w.net[0]
}

#[test]
fn three_way_handshake_then_four_way_close() {
    let m = model(0, 0);
    let w0 = m.init_states().remove(0);
    let w = run(
        &m,
        &w0,
        &[Action::AppListen(SERVER), Action::AppConnect(CLIENT)],
    );
    let syn = only_segment(&w);
    let w = run(&m, &w, &[Action::NetDeliver(syn)]);
    assert_eq!(w.ends[SERVER].state, TcpState::SynReceived);
    let synack = only_segment(&w);
    assert_eq!(synack.to_string(), "SA seq=0 ack=1");
    let w = run(&m, &w, &[Action::NetDeliver(synack)]);
    let ack = only_segment(&w);
    let w = run(&m, &w, &[Action::NetDeliver(ack)]);
    assert!(w.ends.iter().all(|e| e.state == TcpState::Established));
    // Active close by the client, passive by the server.
    let w = run(&m, &w, &[Action::AppClose(CLIENT)]);
    let fin = only_segment(&w);
    assert_eq!(fin.to_string(), "FA seq=1 ack=1");
    let w = run(&m, &w, &[Action::NetDeliver(fin)]);
    assert_eq!(w.ends[SERVER].state, TcpState::CloseWait);
    let w = run(&m, &w, &[Action::NetDeliver(only_segment(&w))]);
    assert_eq!(w.ends[CLIENT].state, TcpState::FinWait2);
    let w = run(&m, &w, &[Action::AppClose(SERVER)]);
    let w = run(&m, &w, &[Action::NetDeliver(only_segment(&w))]);
    assert_eq!(w.ends[CLIENT].state, TcpState::TimeWait);
    let w = run(&m, &w, &[Action::NetDeliver(only_segment(&w))]);
    assert_eq!(w.ends[SERVER].state, TcpState::Closed);
    // TIME-WAIT lasts until nothing is left in flight, then 2MSL expires.
    let w = run(&m, &w, &[Action::Timer2Msl(CLIENT)]);
    assert!(w.ends.iter().all(|e| e.state == TcpState::Closed));
    assert!(m.is_terminal(&w));
}

#[test]
fn time_wait_acknowledges_a_retransmitted_fin() {
    let m = model(1, 0);
    let checker = m.clone().checker().spawn_bfs().join();
    let path = checker.assert_any_discovery("time_wait_reacks_a_retransmitted_fin");
    // The final ACK must have been lost for the peer to send its FIN again.
    let actions = path.into_actions();
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::NetLose(s) if s.flags.ack && !s.flags.fin && !s.flags.syn)));
    assert!(actions.iter().any(|a| matches!(a, Action::TimerRto(_))));
}

#[test]
fn simultaneous_open_and_close_and_half_close_are_reachable() {
    let checker = model(0, 0).checker().spawn_bfs().join();
    for name in [
        "simultaneous_open",
        "simultaneous_close",
        "half_close_delivers_data",
        "both_established",
    ] {
        checker.assert_any_discovery(name);
    }
}

#[test]
fn retry_limit_gives_up_without_sending() {
    // Three SYNs lost: the client gives up after its second retransmission.
    let m = model(3, 0);
    let w0 = m.init_states().remove(0);
    let mut w = run(
        &m,
        &w0,
        &[Action::AppListen(SERVER), Action::AppConnect(CLIENT)],
    );
    for retry in 0..3 {
        let syn = only_segment(&w);
        w = run(&m, &w, &[Action::NetLose(syn)]);
        if retry < 2 {
            w = run(&m, &w, &[Action::TimerRto(CLIENT)]);
        }
    }
    assert_eq!(w.ends[CLIENT].retries, 2);
    let w = run(&m, &w, &[Action::TimerRto(CLIENT)]);
    assert_eq!(w.ends[CLIENT].state, TcpState::Closed);
    assert!(w.net.is_empty(), "giving up sends nothing");
}

/// Each variant, with one mechanism removed, is refuted: the checker finds
/// a counterexample to the property the mechanism protects.
#[test]
fn variants_are_refuted() {
    use tracewright_model::tcp::Variant;
    for v in Variant::ALL {
        let cfg = TcpConfig::new("rfc9293", 2, 2, 2)
            .with_budgets(2, 1)
            .for_variant(v);
        let checker = TcpModel::new(cfg).checker().spawn_bfs().join();
        let path = checker.discovery(v.breaks());
        assert!(path.is_some(), "{} is not refuted", v.name());
        println!(
            "{}: {} broken in {} steps",
            v.name(),
            v.breaks(),
            path.unwrap().into_actions().len()
        );
    }
}

/// With a second incarnation on the same address pair (old duplicates in
/// flight, a new ISN), the unmodified model still satisfies every property
/// and reaches an established second connection; its size is pinned.
#[test]
fn two_incarnations_hold_every_property() {
    let m = TcpModel::new(TcpConfig::new("rfc9293", 2, 2, 2).with_incarnations());
    let checker = m.checker().spawn_bfs().join();
    checker.assert_properties();
    assert_eq!(checker.unique_state_count(), 137_318);
    let mut reopen = TcpConfig::new("rfc9293", 2, 2, 2).with_incarnations();
    reopen.time_wait_reopen = true;
    let checker = TcpModel::new(reopen).checker().spawn_bfs().join();
    checker.assert_properties();
    assert!(checker
        .discovery("time_wait_reopened_by_a_new_syn")
        .is_some());
}

/// Why three packets to open: with a two-way handshake, an old duplicate
/// SYN (the network's copy of the first connection's) reaches the listener
/// of the second and opens a connection nobody asked for (RFC 9293 §3.5,
/// figure 8).
#[test]
fn two_way_handshake_opens_a_connection_from_an_old_duplicate_syn() {
    use tracewright_model::generate::shortest_path_to;
    use tracewright_model::tcp::Variant;
    let m = TcpModel::new(TcpConfig::new("rfc9293", 2, 2, 2).for_variant(Variant::TwoWayHandshake));
    let path = shortest_path_to(&m, |w| w.ends.iter().any(|e| e.history.established_unasked))
        .expect("refuted");
    // The SYN was duplicated, and it is the duplicate that opened the
    // listener's second incarnation while the client's first was over.
    let last = &path.last().unwrap().0;
    let b = &last.ends[SERVER];
    assert!(b.history.established_unasked && b.incarnation == 1 && b.peer_inc == 0);
    assert!(path.iter().any(|(_, a)| matches!(
        a,
        Some(Action::NetDuplicate(s)) if s.flags.syn && !s.flags.ack
    )));
}

/// Why ISNs come from a clock: when every incarnation starts at ISN 0, a
/// segment of the first connection still in flight is taken for the second
/// one's (RFC 9293 §3.4.1).
#[test]
fn fixed_isn_takes_an_old_segment_for_new() {
    use tracewright_model::generate::shortest_path_to;
    use tracewright_model::tcp::Variant;
    let m = TcpModel::new(TcpConfig::new("rfc9293", 2, 2, 2).for_variant(Variant::FixedIsn));
    let path = shortest_path_to(&m, |w| w.ends.iter().any(|e| e.history.took_old_duplicate))
        .expect("refuted");
    let last = &path.last().unwrap().0;
    assert!(last.ends.iter().any(|e| e.incarnation == 1 && e.iss == 0));
    // With the ISN clock, the same search finds nothing.
    let clock = TcpModel::new(TcpConfig::new("rfc9293", 2, 2, 2).with_incarnations());
    assert!(shortest_path_to(&clock, |w| w
        .ends
        .iter()
        .any(|e| e.history.took_old_duplicate))
    .is_none());
}

/// Each profile is its own model (its retry counts, RFC 5961, RFC 1337):
/// every property holds in each, at `check tcp`'s default budgets, and its
/// size is pinned, so a change that grows one profile's state space shows.
#[test]
fn every_profile_satisfies_every_property_and_keeps_its_size() {
    use tracewright_vocab::profile::Profile;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles");
    let pinned = [
        ("rfc9293", 490_633),
        ("bundled", 490_885),
        ("linux", 667_465),
        ("smoltcp", 636_580),
    ];
    let mut got = Vec::new();
    for (name, _) in pinned {
        let p = Profile::load(&dir.join(format!("{name}.yaml"))).unwrap();
        let m = TcpModel::new(TcpConfig::from_profile(&p).unwrap().with_budgets(2, 1));
        let checker = m.checker().spawn_bfs().join();
        checker.assert_properties();
        got.push((name, checker.unique_state_count()));
    }
    assert_eq!(got, pinned);
}

/// Data on the client's SYN (RFC 9293 §3.10.7.2): whether the listener
/// queues it or drops it, the application gets nothing before the
/// handshake completes, and gets the data once after it; sizes pinned.
#[test]
fn data_on_a_syn_is_delivered_only_after_the_handshake() {
    for (queue, states) in [(true, 28_938), (false, 61_654)] {
        let mut cfg = TcpConfig::new("rfc9293", 2, 2, 2).with_syn_data();
        cfg.queue_syn_data = queue;
        let checker = TcpModel::new(cfg).checker().spawn_bfs().join();
        checker.assert_properties();
        assert!(checker
            .discovery("data_on_syn_delivered_after_the_handshake")
            .is_some());
        assert_eq!(checker.unique_state_count(), states, "queue: {queue}");
    }
}
