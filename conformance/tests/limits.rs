//! Every input is bounded: sizes in traces, file size and kind, YAML
//! nesting. Each refused input names the file, line, field and limit.

use std::path::{Path, PathBuf};

use tracewright_conformance::h2::{Encoder, FrameSpec, FrameType};
use tracewright_conformance::load::{load_corpus, load_trace, MAX_FILE_BYTES};
use tracewright_conformance::profile::Profile;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A test's own directory, removed when the test ends, passed or not.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("tracewright-limits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Scratch(d)
}

const TCP: &str = "tcp-client-time-wait-2msl-silent-to-closed";

/// A corpus trace with `from` replaced by `to`, loaded from `dir`.
fn tcp_with(dir: &Path, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(root().join(format!("traces/tcp/{TCP}.yaml"))).unwrap();
    let changed = text.replacen(from, to, 1);
    assert_ne!(changed, text, "{from}");
    let f = dir.join(format!("{TCP}.yaml"));
    std::fs::write(&f, changed).unwrap();
    load_trace(&f).unwrap_err().to_string()
}

#[test]
fn sizes_in_a_trace_are_bounded() {
    let d = scratch("sizes");
    let e = tcp_with(
        &d,
        "  - app: connect\n",
        "  - app: connect\n  - app: {send: 4294967295}\n",
    );
    assert!(
        e.contains(&format!("{TCP}.yaml:"))
            && e.contains(": steps[1].app.send: 4294967295 bytes exceeds the limit of 1048576"),
        "{e}"
    );
    let e = tcp_with(
        &d,
        "  - app: connect\n",
        "  - app: connect\n  - send: {flags: A, seq: 0, ack: 1, len: 4294967295}\n",
    );
    assert!(
        e.contains("steps[1].send.len: 4294967295 bytes exceeds the limit of 1048576"),
        "{e}"
    );
    // The line is the step's.
    let line: usize = e.split(':').nth(1).unwrap().parse().unwrap();
    assert!(std::fs::read_to_string(d.join(format!("{TCP}.yaml")))
        .unwrap()
        .lines()
        .nth(line - 1)
        .unwrap()
        .contains("len: 4294967295"));
}

#[test]
fn an_h2_length_is_bounded_at_load_and_on_the_wire() {
    let d = scratch("h2");
    let name =
        "h2-server-open-recv-rst-stream-bad-length-sends-goaway-last-1-frame-size-error-to-open";
    let text = std::fs::read_to_string(root().join(format!("traces/h2/{name}.yaml"))).unwrap();
    std::fs::write(
        d.join(format!("{name}.yaml")),
        text.replace("length: 3", "length: 4294967295"),
    )
    .unwrap();
    let c = tracewright_conformance::h2::load_h2_corpus(&d).unwrap();
    assert!(c.traces.is_empty());
    let e = c.errors[0].to_string();
    assert!(
        e.contains(".send.length: 4294967295 bytes exceeds the limit of 1048576"),
        "{e}"
    );
    // The encoder refuses what the 24-bit length field cannot say, rather
    // than write its low 24 bits.
    let mut f = FrameSpec::new(FrameType::RstStream);
    f.stream = Some(1);
    f.length = Some(1 << 24);
    let mut enc = Encoder::new(true);
    assert!(enc.try_encode(&f).is_err());
    assert!(enc.encode(&f).is_empty());
    f.length = Some((1 << 24) - 1);
    let bytes = enc.try_encode(&f).unwrap();
    assert_eq!(&bytes[..3], &[0xff, 0xff, 0xff]);
}

#[test]
fn a_large_file_is_refused_without_reading_it() {
    let d = scratch("large");
    let f = d.join("big.yaml");
    let file = std::fs::File::create(&f).unwrap();
    file.set_len(MAX_FILE_BYTES + 1).unwrap();
    let c = load_corpus(&d).unwrap();
    let e = c.errors[0].to_string();
    assert!(
        e.contains("big.yaml: ") && e.contains("exceeds the limit of 4194304 bytes per file"),
        "{e}"
    );
}

#[test]
fn a_fifo_or_a_device_behind_a_yaml_name_is_refused_without_reading_it() {
    let d = scratch("special");
    let fifo = d.join("fifo.yaml");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(ok.success());
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.yaml")).unwrap();
    // Would hang on the FIFO, or read /dev/zero forever, without the check.
    let (tx, rx) = std::sync::mpsc::channel();
    let dir = d.to_path_buf();
    std::thread::spawn(move || tx.send(load_corpus(&dir).unwrap()).unwrap());
    let c = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("load_corpus returns");
    assert_eq!(c.errors.len(), 2);
    for e in &c.errors {
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
    let e = Profile::load(&d.join("zero.yaml")).unwrap_err().to_string();
    assert!(e.contains("zero.yaml: not a regular file"), "{e}");
}

#[test]
fn deeply_nested_yaml_is_refused_before_parsing() {
    let d = scratch("deep");
    let deep = format!("format: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let f = d.join(format!("{TCP}.yaml"));
    std::fs::write(&f, &deep).unwrap();
    let t = std::time::Instant::now();
    let e = load_trace(&f).unwrap_err().to_string();
    assert!(
        e.contains(":1: brackets nested over the limit of 64"),
        "{e}"
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
    let e = Profile::parse("p.yaml", &deep).unwrap_err().to_string();
    assert!(
        e.starts_with("p.yaml:1:1: brackets nested over the limit of 64"),
        "{e}"
    );
    let indented: String = (0..300)
        .map(|i| format!("{}a{i}:\n", " ".repeat(i)))
        .collect();
    let e = Profile::parse("p.yaml", &indented).unwrap_err().to_string();
    assert!(e.contains("columns deep, over the limit of 256"), "{e}");
    // Brackets inside quotes are text.
    assert!(
        tracewright_conformance::load::too_deep(&format!("a: \"{}\"\n", "[".repeat(100))).is_none()
    );
}

#[test]
fn a_trace_id_that_could_forge_a_report_line_is_refused() {
    let d = scratch("id");
    let text = std::fs::read_to_string(root().join(format!("traces/tcp/{TCP}.yaml"))).unwrap();
    // A file name with a newline, and the id to match it.
    let id = "x\nPASS  forged";
    let f = d.join(format!("{id}.yaml"));
    std::fs::write(
        &f,
        text.replace(&format!("id: {TCP}"), "id: \"x\\nPASS  forged\""),
    )
    .unwrap();
    let e = load_trace(&f).unwrap_err().to_string();
    assert!(
        e.contains(": id: \"x\\nPASS  forged\" is not a plain identifier ([a-z0-9_-]+)"),
        "{e}"
    );
}

/// A trace built in memory (past the loader's limits) that asks the harness
/// for a frame longer than 2^24 - 1 bytes gets an error verdict naming the
/// limit: the replay writes through `try_encode`, so nothing truncated
/// reaches the IUT as if it were the frame under test.
#[test]
fn the_h2_replay_refuses_a_frame_the_length_field_cannot_carry() {
    use tracewright_conformance::h2::{load_h2_corpus, replay_h2, BundledH2, H2Step};
    use tracewright_conformance::replay::Verdict;
    let d = scratch("h2-wire");
    let name =
        "h2-server-open-recv-rst-stream-bad-length-sends-goaway-last-1-frame-size-error-to-open";
    std::fs::copy(
        root().join(format!("traces/h2/{name}.yaml")),
        d.join(format!("{name}.yaml")),
    )
    .unwrap();
    let mut trace = load_h2_corpus(&d).unwrap().traces.remove(0);
    let step = trace
        .steps
        .iter_mut()
        .position(|s| matches!(s, H2Step::Send(f) if f.length == Some(3)))
        .unwrap();
    let H2Step::Send(f) = &mut trace.steps[step] else {
        unreachable!()
    };
    f.length = Some(1 << 24);
    let r = replay_h2(&trace, &mut BundledH2::new());
    match r.verdict {
        Verdict::Error {
            step: Some(s),
            reason,
        } => {
            assert_eq!(s, step);
            assert!(reason.contains("24-bit length field"), "{reason}");
        }
        v => panic!("expected an error at step {step}, got {v:?}"),
    }
}
