//! An exec adapter cannot break the run or fake a pass: unknown states and
//! times outside the wait break it, an endless line is cut, a timed-out
//! adapter is killed with its process group and reaped.

use std::time::Duration;

use tracewright_conformance::exec::ExecTarget;
use tracewright_conformance::profile::Profile;
use tracewright_conformance::target::{Target, TargetError};
use tracewright_conformance::trace::Role;

/// An adapter in sh: answers `ok` to everything, and `reply` to `op`.
fn adapter(op: &str, reply: &str) -> ExecTarget {
    let script = format!(
        r#"while read -r l; do case "$l" in *'"op":"{op}"'*) printf '%s\n' '{reply}';; *) echo '{{"ok":true}}';; esac; done"#
    );
    ExecTarget::with_timeout(&script, Duration::from_secs(5))
}

#[test]
fn an_unknown_state_breaks_the_adapter_rather_than_passing() {
    let mut t = adapter("state", r#"{"ok":true,"state":"ESTABLISHED-ISH"}"#);
    t.open(Role::Server, &Profile::rfc9293()).unwrap();
    assert_eq!(t.state(), None);
    // The next call, which ends the trace, reports it.
    match t.poll() {
        Err(TargetError::Broken(m)) => assert!(
            m.contains("\"ESTABLISHED-ISH\", not an RFC 9293 state"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_segment_after_the_wait_breaks_the_adapter() {
    let seg = r#"{"src_port":1,"dst_port":2,"seq":0,"ack":0,"flags":"A","window":1}"#;
    let mut t = adapter(
        "advance",
        &format!(r#"{{"ok":true,"emitted":[{{"at_ms":5000,"segment":{seg}}}]}}"#),
    );
    t.open(Role::Server, &Profile::rfc9293()).unwrap();
    match t.advance(Duration::from_millis(1000)) {
        Err(TargetError::Broken(m)) => {
            assert!(m.contains("at_ms 5000, outside the wait of 1000 ms"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_endless_line_is_cut_at_the_limit() {
    // `yes` writes one endless line of `y`s with no newline... so tr them.
    let mut t = ExecTarget::with_timeout("read -r l; yes | tr -d '\\n'", Duration::from_secs(20));
    let e = t.open(Role::Server, &Profile::rfc9293()).unwrap_err();
    match e {
        TargetError::Broken(m) => {
            assert!(m.contains("longer than the limit of 1048576 bytes"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_timed_out_adapter_and_its_children_are_killed_and_reaped() {
    let pidfile = std::env::temp_dir().join(format!("tracewright-exec-pid-{}", std::process::id()));
    let _ = std::fs::remove_file(&pidfile);
    // The adapter starts a child that would outlive it, then hangs.
    let cmd = format!(
        "sleep 300 & echo $! > {}; read -r l; sleep 300",
        pidfile.display()
    );
    let mut t = ExecTarget::with_timeout(&cmd, Duration::from_millis(300));
    assert!(matches!(
        t.open(Role::Server, &Profile::rfc9293()),
        Err(TargetError::Broken(_))
    ));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // Gone, or a zombie already dead (what reaps an orphan is PID 1's job);
    // never still running.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|r| r.split_whitespace().next());
    assert!(
        matches!(state, None | Some("Z") | Some("X")),
        "the adapter's child {pid} is still running: {stat}"
    );
    drop(t);
    let _ = std::fs::remove_file(&pidfile);
}
