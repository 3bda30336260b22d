//! The listener corpus (traces/tcp-listener) is what the listener model
//! generates now, and the CLI checks the listener and refutes its variant.

mod common;
use std::path::Path;

use tracewright_conformance::profile::Profile;
use tracewright_model::generate::COVERAGE_FILE;
use tracewright_model::listener_gen::{coverage_text, generate, generation_model};

/// The listener corpus of `profile` in `dir` is what the model generates.
fn corpus_matches_the_model(profile: &str, dir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let profile = Profile::load(&root.join(format!("profiles/{profile}.yaml"))).unwrap();
    let corpus = generate(&generation_model(&profile).unwrap());
    let dir = root.join(dir);
    let mut stale = Vec::new();
    for t in &corpus.traces {
        assert_eq!(t.profile, profile.name, "{} names its profile", t.id);
        let file = dir.join(format!("{}.yaml", t.id));
        if std::fs::read_to_string(&file).ok().as_deref() != Some(t.to_yaml().as_str()) {
            stale.push(file.display().to_string());
        }
    }
    if std::fs::read_to_string(dir.join(COVERAGE_FILE)).ok()
        != Some(coverage_text(&corpus.coverage))
    {
        stale.push(COVERAGE_FILE.to_string());
    }
    let committed = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count();
    assert_eq!(
        committed,
        corpus.traces.len() + 1,
        "stale files in {}",
        dir.display()
    );
    assert!(
        stale.is_empty(),
        "the listener corpus is out of date; run `cargo run --release -- generate tcp-listener --profile {}` and review the diff:\n{}",
        profile.name,
        stale.join("\n")
    );
    assert_eq!(corpus.covered(), corpus.transitions());
}

#[test]
fn committed_listener_corpora_match_the_model() {
    corpus_matches_the_model("rfc9293", "traces/tcp-listener");
    corpus_matches_the_model("bundled", "traces/tcp-listener-bundled");
    corpus_matches_the_model("linux", "traces/tcp-listener-linux");
}

/// The CLI's exit code and stdout.
fn tracewright(args: &[&str]) -> (i32, String) {
    let (code, out, _) = common::tracewright(args);
    (code, out)
}

#[test]
fn check_listener_holds_and_no_syn_cookies_is_refuted_with_a_ladder() {
    let (code, out) = tracewright(&["check", "tcp-listener"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("VIOLATED"), "{out}");
    let (code, out) = tracewright(&["check", "tcp", "--variant", "no-syn-cookies"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("counterexample to legitimate_client_can_connect (RFC 4987 §3.6), 7 steps"),
        "{out}"
    );
    assert!(out.contains("sends S (spoofed)"), "{out}");
    assert!(out.contains("(half-open queue full): dropped"), "{out}");
}

#[test]
fn replay_tcp_listener_passes() {
    let (code, out) = tracewright(&["replay", "tcp-listener"]);
    assert_eq!(code, 0, "{out}");
    let n = common::listener_traces();
    assert!(out.contains(&format!("{n} pass, 0 fail")), "{out}");
}
