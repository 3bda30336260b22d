//! The committed corpus is exactly what the model generates now: a change to
//! the model that changes a trace must come with the regenerated traces.

use std::path::Path;

use tracewright_conformance::profile::Profile;
use tracewright_model::generate::{coverage_yaml, generate, generation_model, COVERAGE_FILE};

/// The corpus of `profile` in `dir` is what the model generates for it.
fn corpus_matches_the_model(profile: &str, dir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let profile = Profile::load(&root.join(format!("profiles/{profile}.yaml"))).unwrap();
    let model = generation_model(&profile).unwrap();
    let corpus = generate(&model, &mut |_| {});
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
        != Some(coverage_yaml(&corpus.coverage))
    {
        stale.push(COVERAGE_FILE.to_string());
    }
    let committed = yaml_files(&dir);
    assert_eq!(
        committed,
        corpus.traces.len() + 1,
        "{} holds files the model no longer generates",
        dir.display()
    );
    assert!(
        stale.is_empty(),
        "the corpus is out of date; run `cargo run --release -- generate tcp --profile {}` and review the diff:\n{}",
        profile.name,
        stale.join("\n")
    );
}

#[test]
fn committed_corpus_matches_the_model() {
    corpus_matches_the_model("rfc9293", "traces/tcp");
}

/// Profiles whose behaviour differs (retry counts, RFC 5961) have corpora
/// of their own.
#[test]
fn committed_profile_corpora_match_the_model() {
    corpus_matches_the_model("bundled", "traces/tcp-bundled");
    corpus_matches_the_model("linux", "traces/tcp-linux");
    corpus_matches_the_model("smoltcp", "traces/tcp-smoltcp");
}

#[test]
fn generation_is_deterministic() {
    let profile = Profile::rfc9293();
    let model = generation_model(&profile).unwrap();
    let a = generate(&model, &mut |_| {});
    let b = generate(&model, &mut |_| {});
    let text = |c: &tracewright_model::generate::Corpus| {
        c.traces.iter().map(|t| t.to_yaml()).collect::<String>() + &coverage_yaml(&c.coverage)
    };
    assert_eq!(text(&a), text(&b));
    // Every transition the model can take on the IUT's side is covered.
    assert_eq!(a.covered(), a.transitions());
}

#[test]
fn committed_h2_corpus_matches_the_model() {
    use tracewright_model::h2gen::generate_h2;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = generate_h2(&mut |_| {});
    let dir = root.join("traces/h2");
    let mut stale = Vec::new();
    for t in &corpus.traces {
        let file = dir.join(format!("{}.yaml", t.id));
        if std::fs::read_to_string(&file).ok().as_deref() != Some(t.to_yaml().as_str()) {
            stale.push(file.display().to_string());
        }
    }
    if std::fs::read_to_string(dir.join(COVERAGE_FILE)).ok()
        != Some(coverage_yaml(&corpus.coverage))
    {
        stale.push(COVERAGE_FILE.to_string());
    }
    let committed = yaml_files(&dir);
    assert_eq!(
        committed,
        corpus.traces.len() + 1,
        "traces/h2 holds files the model no longer generates"
    );
    assert!(
        stale.is_empty(),
        "the h2 corpus is out of date; run `cargo run --release -- generate h2` and review the diff:\n{}",
        stale.join("\n")
    );
    // Every (stream state, frame type) pair the IUT can be in is covered,
    // in both roles: 6 reachable states × 7 stream-level frame types each.
    let pairs = tracewright_model::h2gen::pair_coverage(&corpus.coverage);
    assert_eq!(pairs.matches("  42 pairs").count(), 2, "{pairs}");
}

/// The `*.yaml` files in a corpus directory.
fn yaml_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count()
}
