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

fn load(rel: &str) -> Trace {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    tracewright_conformance::load::load_trace(&path).expect("the committed trace loads")
}

fn profile(name: &str) -> Profile {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("profiles/{name}.yaml"));
    Profile::load(&path).unwrap()
}

/// `abort_rst_ack`: the smoltcp corpus expects the RST+ACK smoltcp sends on
/// abort() and smoltcp passes it; the rfc9293 trace of the same transition
/// (a bare RST) fails on smoltcp, at the abort.
#[test]
fn abort_rst_ack_is_what_smoltcp_sends() {
    let smol = profile("smoltcp");
    assert!(smol.abort_rst_ack && !Profile::rfc9293().abort_rst_ack);
    let switched =
        load("traces/tcp-smoltcp/tcp-server-established-app-abort-sends-ra-to-closed.yaml");
    let plain = load("traces/tcp/tcp-server-established-app-abort-sends-r-to-closed.yaml");
    let mut t = registry::tcp_target("smoltcp").unwrap();
    assert_eq!(replay(&switched, t.as_mut(), &smol).verdict, Verdict::Pass);
    match replay(&plain, t.as_mut(), &Profile::rfc9293()).verdict {
        Verdict::Fail { expected, got, .. } => {
            assert!(expected[0].starts_with("R "), "{expected:?}");
            assert!(got.is_some_and(|g| g.starts_with("RA ")));
        }
        v => panic!("{v:?}"),
    }
}

/// `ack_required`, `old_ack_drops_segment`, `fin_past_hole_silent`: the
/// smoltcp profile's corpus, which has them on, passes on smoltcp but for
/// the give-ups it never takes and the deviations its list explains; with
/// them off in the model, traces of the rfc9293 corpus that reach the same
/// transitions fail on smoltcp.
#[test]
fn smoltcp_switches_change_what_smoltcp_passes() {
    let smol = profile("smoltcp");
    assert!(smol.ack_required && smol.old_ack_drops_segment && smol.fin_past_hole_silent);
    let mut t = registry::tcp_target("smoltcp").unwrap();
    // A SYN in ESTABLISHED: RFC 9293 sends a challenge ACK, smoltcp drops it
    // ("expecting an ACK").
    let plain = load("traces/tcp/tcp-client-established-recv-s-sends-a-to-established.yaml");
    assert_ne!(
        replay(&plain, t.as_mut(), &Profile::rfc9293()).verdict,
        Verdict::Pass
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/tcp-smoltcp");
    let corpus = tracewright_conformance::load::load_corpus(&dir).unwrap();
    let switched = corpus
        .traces
        .iter()
        .find(|t| {
            t.id.starts_with("tcp-client-established-recv-s-") && t.id.ends_with("-to-established")
        })
        .expect("the smoltcp corpus has the transition");
    assert_eq!(
        replay(switched, t.as_mut(), &smol).verdict,
        Verdict::Pass,
        "{}",
        switched.id
    );
}

/// `syn_sent_resend_syn`: after the RST to a bad ACK in SYN-SENT, the linux
/// corpus expects the SYN again at once, as a second segment of the step.
#[test]
fn linux_resends_the_syn_after_the_rst() {
    assert!(profile("linux").syn_sent_resend_syn);
    let t = load("traces/tcp-linux/tcp-client-syn-sent-recv-a-sends-r-to-syn-sent.yaml");
    let expects: Vec<String> = t
        .steps
        .iter()
        .filter_map(|s| match s {
            tracewright_conformance::trace::Step::Expect(e) => Some(e.any_of[0].flags.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        expects[expects.len() - 2..],
        ["R".to_string(), "S".to_string()]
    );
}
