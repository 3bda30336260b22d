use tracewright_conformance::trace::*;
#[test]
fn to_yaml_round_trips() {
    let y = r#"format: tracewright/1
id: x
protocol: tcp
iut: server
profile: rfc9293
variant: null
description: d
covers:
  - {state: TIME-WAIT, event: recv FIN, next: TIME-WAIT, output: A}
steps:
  - app: listen
  - app: {send: 3}
  - send: {flags: S, seq: 0, win: 65535}
  - expect: {any_of: [{flags: SA, seq: 0, ack: 1}]}
  - wait: rto(2)
  - wait: 2msl
  - state: TIME-WAIT
"#;
    let t: Trace = serde_yaml::from_str(y).unwrap();
    let out = t.to_yaml();
    assert!(out.contains("  - send: {flags: S, seq: 0, win: 65535}"));
    println!("{out}");
    let t2: Trace = serde_yaml::from_str(&out).unwrap();
    assert_eq!(t, t2);
}
