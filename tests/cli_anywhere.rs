//! The CLI from any folder, and as `cargo install --path .` leaves it (the
//! binary alone, away from the checkout): corpora, profiles and deviation
//! lists are found without the current folder; `--traces` and `--profile`
//! take paths, relative to where the user is.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tw-anywhere-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_in(bin: &Path, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_remove("TRACEWRIGHT_HOME")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The commands a new user types, each from `dir`.
fn the_readme_commands_work(bin: &Path, dir: &Path) {
    let (code, out, err) = run_in(bin, dir, &["replay", "tcp"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("{} pass, 0 fail", common::tcp_traces())),
        "{out}"
    );
    let (code, out, err) = run_in(bin, dir, &["replay", "h2"]);
    assert_eq!(code, 0, "{out}{err}");
    let h2 = common::h2_traces();
    assert!(out.contains(&format!("{h2} pass, 0 fail")), "{out}");
    // A profile by name, its corpus and the target's own deviations list.
    let (code, out, err) = run_in(
        bin,
        dir,
        &[
            "replay",
            "tcp",
            "--target",
            "smoltcp",
            "--profile",
            "smoltcp",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    // Run from elsewhere, the list is still found: its entries apply.
    assert!(
        out.contains(" 0 fail,")
            && !out.contains(" 0 documented deviation")
            && out.contains(", 0 stale"),
        "{out}"
    );
    assert!(out.contains("conformance/deviations/smoltcp.yaml"), "{out}");
    let (code, out, err) = run_in(bin, dir, &["check", "tcp-listener", "--profile", "linux"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("profile linux"), "{out}");
    // Nothing was written where the user stands.
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
}

#[test]
fn from_another_folder() {
    let dir = temp("cwd");
    the_readme_commands_work(Path::new(env!("CARGO_BIN_EXE_tracewright")), &dir);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn installed_alone_away_from_the_checkout() {
    // As `cargo install --path .` leaves it: the binary in a bin/ folder
    // of its own.
    let home = temp("installed");
    let bin = home.join("bin/tracewright");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_tracewright"), &bin).unwrap();
    let dir = temp("installed-cwd");
    the_readme_commands_work(&bin, &dir);
    std::fs::remove_dir_all(home).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn traces_and_profile_take_paths_relative_to_the_user() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp("paths");
    // A corpus and a profile of one's own, by relative path.
    std::fs::create_dir_all(dir.join("mine/corpus")).unwrap();
    for id in [
        "tcp-client-syn-sent-rto-silent-to-closed",
        "tcp-server-listen-recv-a-sends-r-to-listen",
    ] {
        let f = format!("{id}.yaml");
        std::fs::copy(
            repo.join("traces/tcp").join(&f),
            dir.join("mine/corpus").join(&f),
        )
        .unwrap();
    }
    std::fs::copy(repo.join("profiles/rfc9293.yaml"), dir.join("mine/p.yaml")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_tracewright"));
    let (code, out, err) = run_in(
        bin,
        &dir,
        &[
            "replay",
            "tcp",
            "--traces",
            "mine/corpus",
            "--profile",
            "mine/p.yaml",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 traces in"), "{out}");
    // An absolute path too.
    let abs = repo.join("traces/tcp-listener");
    let (code, out, err) = run_in(
        bin,
        &dir,
        &["replay", "tcp-listener", "--traces", abs.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}{err}");
    let n = common::listener_traces();
    assert!(out.contains(&format!("{n} traces in")), "{out}");
    // A path that exists nowhere is named as the user wrote it.
    let (code, _, err) = run_in(bin, &dir, &["replay", "tcp", "--traces", "nowhere/x"]);
    assert_eq!(code, 2);
    assert!(err.contains("loading nowhere/x"), "{err}");
    let (code, _, err) = run_in(bin, &dir, &["replay", "tcp", "--profile", "nowhere.yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("nowhere.yaml"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
