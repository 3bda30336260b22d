//! `--target linux` at the CLI: what it refuses, and how it says it cannot
//! run. (The traces themselves run in `conformance/tests/linux_target.rs`.)

mod common;
use common::tracewright;

#[test]
fn replay_all_against_the_kernel_is_refused_for_http2() {
    let (code, _, err) = tracewright(&["replay", "all", "--target", "linux"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the kernel has no HTTP/2"), "{err}");
}

#[test]
fn replay_tcp_against_the_kernel_runs_or_says_in_one_line_why_not() {
    // One short trace: a SYN to a closed port.
    let dir = std::env::temp_dir().join(format!("tracewright-cli-linux-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let name = "tcp-server-closed-recv-s-sends-ra-to-closed.yaml";
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("traces/tcp")
            .join(name),
        dir.join(name),
    )
    .unwrap();
    let (code, out, err) = tracewright(&[
        "replay",
        "tcp",
        "--target",
        "linux",
        "--traces",
        dir.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    match code {
        0 => assert!(out.contains("1 pass"), "{out}"),
        3 => {
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.starts_with("linux target: cannot create"), "{err}");
            eprintln!("skipped: {err}");
        }
        _ => panic!("exit {code}\n{out}\n{err}"),
    }
}

/// The listener corpus checks the listener: LISTEN while connections wait
/// in its queues, none accepted until the trace's application accepts, the
/// profile's accept queue and SYN cookies. 7 s of real time.
#[test]
fn the_listener_corpus_passes_on_the_kernel_or_says_why_not() {
    let (code, out, err) = tracewright(&["replay", "tcp-listener", "--target", "linux"]);
    match code {
        0 => {
            let traces =
                std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/traces/tcp-listener"))
                    .unwrap()
                    .filter(|e| {
                        e.as_ref().is_ok_and(|e| {
                            e.file_name().to_string_lossy().starts_with("tcp-listener-")
                        })
                    })
                    .count();
            // Every trace passes but those conformance/deviations/
            // linux-listener.yaml documents.
            let documented = out
                .split(", ")
                .find_map(|p| p.strip_suffix(" documented deviation"))
                .and_then(|n| n.parse::<usize>().ok())
                .expect("the deviation count");
            assert!(
                out.contains(&format!("{traces} traces in"))
                    && out.contains(&format!(": {} pass,", traces - documented))
                    && out.contains(" 0 fail,"),
                "{out}"
            );
        }
        3 => eprintln!("skipped: {err}"),
        _ => panic!("exit {code}\n{out}\n{err}"),
    }
}
