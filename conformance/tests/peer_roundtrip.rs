//! Listener traces: `iut: listener`, `app: accept` and `peer: N` on `send`
//! steps and expect patterns read back as written; an absent peer is 0 and
//! is not written.
use tracewright_conformance::trace::*;

#[test]
fn peers_round_trip() {
    let y = r#"format: tracewright/1
id: x
protocol: tcp
iut: listener
profile: rfc9293
variant: null
description: d
covers:
  - {state: LISTEN, event: recv S (half-open queue full), next: LISTEN, output: SA}
steps:
  - app: listen
  - send: {flags: S, seq: 0, peer: 2}
  - expect: {any_of: [{flags: SA, seq: 0, ack: 1, peer: 2}]}
  - send: {flags: S, seq: 0}
  - expect: {any_of: [{flags: SA, seq: 0, ack: 1}]}
  - send: {flags: A, seq: 1, ack: 1, peer: 0}
  - app: accept
  - state: LISTEN
"#;
    let t: Trace = serde_yaml::from_str(y).unwrap();
    assert_eq!(t.iut, Role::Listener);
    let Step::Send(s) = &t.steps[1] else { panic!() };
    assert_eq!(s.peer, 2);
    let Step::Expect(e) = &t.steps[4] else {
        panic!()
    };
    assert_eq!(e.any_of[0].peer, 0);
    assert_eq!(t.steps[6], Step::App(AppCall::Accept));
    let out = t.to_yaml();
    assert!(
        out.contains("  - send: {flags: S, seq: 0, peer: 2}\n"),
        "{out}"
    );
    assert!(
        out.contains("{flags: SA, seq: 0, ack: 1, peer: 2}"),
        "{out}"
    );
    assert!(
        out.contains("  - send: {flags: A, seq: 1, ack: 1}\n"),
        "peer 0 is not written: {out}"
    );
    assert!(out.contains("  - app: accept\n"), "{out}");
    assert_eq!(serde_yaml::from_str::<Trace>(&out).unwrap(), t);
}

#[test]
fn a_bad_peer_names_its_field() {
    let y = "format: tracewright/1\nid: x\nprotocol: tcp\niut: listener\nprofile: rfc9293\nvariant: null\ndescription: d\ncovers: []\nsteps:\n  - send: {flags: S, seq: 0, peer: many}\n";
    let e = tracewright_conformance::load::parse_trace(std::path::Path::new("x.yaml"), y)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("x.yaml:10:"), "{e}");
    assert!(e.contains("peer"), "{e}");
}
