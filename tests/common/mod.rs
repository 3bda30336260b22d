//! What the CLI tests share: running the binary as a user does.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::process::Command;

/// Runs `tracewright ARGS` in the repository; its exit code, stdout, stderr.
pub fn tracewright(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// How many traces the committed HTTP/2 corpus holds (its `h2-*` files;
/// `coverage.yaml` beside them is not a trace).
pub fn h2_traces() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/traces/h2"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("h2-")
        })
        .count()
}

/// How many traces the rfc9293 TCP corpus holds (read, never pinned).
#[allow(dead_code)]
pub fn tcp_traces() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/traces/tcp"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("tcp-") && name.ends_with(".yaml")
        })
        .count()
}

/// How many traces the rfc9293 listener corpus holds (read, never pinned).
#[allow(dead_code)]
pub fn listener_traces() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/traces/tcp-listener"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("tcp-listener-") && name.ends_with(".yaml")
        })
        .count()
}
