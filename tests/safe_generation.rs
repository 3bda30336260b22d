//! `generate` never overwrites a built-in profile's committed corpus from a
//! file that is not that profile.

mod common;
use common::tracewright;

#[test]
fn a_copied_profile_keeping_a_built_in_name_is_refused() {
    let dir = std::env::temp_dir().join(format!("tracewright-safe-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("profiles/rfc9293.yaml")).unwrap();
    let copy = dir.join("mine.yaml");
    std::fs::write(&copy, text.replace("msl_ms: 120000", "msl_ms: 1000")).unwrap();
    assert_ne!(std::fs::read_to_string(&copy).unwrap(), text);
    let before = std::fs::read_to_string(root.join("traces/tcp/coverage.yaml")).unwrap();
    let (code, out, err) = tracewright(&["generate", "tcp", "--profile", copy.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("`name: rfc9293` is a built-in profile") && err.contains("--out"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("traces/tcp/coverage.yaml")).unwrap(),
        before
    );
    let out_dir = dir.join("out");
    let (code, _, err) = tracewright(&[
        "generate",
        "tcp-listener",
        "--profile",
        copy.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(
        code, 0,
        "with --out the copy writes where it is told: {err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
