//! The RFC 5961, RFC 1337 and data-on-SYN profile switches change what the model
//! generates, and the bundled stack follows them: with the switch it passes
//! the switched corpus, without it it fails exactly the traces the switch
//! changed.

use std::collections::BTreeMap;

use tracewright_conformance::profile::{Profile, SynData};
use tracewright_conformance::registry;
use tracewright_conformance::replay::{replay, Verdict};
use tracewright_conformance::trace::Trace;
use tracewright_model::generate::{generate, generation_model};

fn corpus(p: &Profile) -> Vec<Trace> {
    let m = generation_model(p).unwrap();
    generate(&m, &mut |_| {}).traces
}

fn texts(traces: &[Trace]) -> BTreeMap<String, String> {
    traces.iter().map(|t| (t.id.clone(), t.to_yaml())).collect()
}

fn check_switch(switched: Profile) {
    let base = Profile::rfc9293();
    let traces = corpus(&switched);
    let (a, b) = (texts(&corpus(&base)), texts(&traces));
    // Traces whose text differs apart from the profile's name.
    let changed: Vec<&String> = b
        .iter()
        .filter(|(id, text)| {
            a.get(*id)
                .map(|t| t.replace("profile: rfc9293", &format!("profile: {}", switched.name)))
                .as_deref()
                != Some(text.as_str())
        })
        .map(|(id, _)| id)
        .collect();
    assert!(!changed.is_empty(), "the switch changes no trace");
    let mut failed_without = 0;
    for t in &traces {
        let with = replay(t, bundled().as_mut(), &switched);
        assert_eq!(with.verdict, Verdict::Pass, "{} with the switch", t.id);
        let without = replay(
            t,
            bundled().as_mut(),
            &Profile {
                rfc5961: false,
                rfc1337: false,
                syn_data: SynData::Queue,
                ..switched.clone()
            },
        );
        if without.verdict != Verdict::Pass {
            failed_without += 1;
            assert!(
                changed.contains(&&t.id),
                "{} fails without the switch but did not change",
                t.id
            );
        }
    }
    println!(
        "{}: {} traces changed, {} of {} fail without the switch",
        switched.name,
        changed.len(),
        failed_without,
        traces.len()
    );
    assert!(
        failed_without > 0,
        "the stack without the switch passes everything"
    );
}

#[test]
fn rfc5961_challenge_ack() {
    check_switch(Profile {
        name: "rfc9293+rfc5961".into(),
        rfc5961: true,
        ..Profile::rfc9293()
    });
}

#[test]
fn rfc1337_ignores_rst_in_time_wait() {
    check_switch(Profile {
        name: "rfc9293+rfc1337".into(),
        rfc1337: true,
        ..Profile::rfc9293()
    });
}

#[test]
fn syn_data_dropped() {
    check_switch(Profile {
        name: "rfc9293+drop".into(),
        syn_data: SynData::Drop,
        ..Profile::rfc9293()
    });
}

fn bundled() -> Box<dyn tracewright_conformance::target::Target> {
    registry::tcp_target("bundled").expect("the bundled target opens")
}
