//! Loading and validating traces. A malformed file gets an error naming the
//! file, line, column and field, and never stops the others from loading.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::profile::line_of;
use crate::trace::{AppCall, Coverage, Protocol, Step, Trace, FORMAT};

/// A trace (or coverage) file that could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The field path (`steps[3].send.flags`), empty when the file as a
    /// whole is wrong.
    pub field: String,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl LoadError {
    /// The file's stem, which is the trace's id when it loads.
    pub fn id(&self) -> String {
        self.file
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
    }
}

// ---------------------------------------------------------------- limits

/// The largest trace, profile or deviation file read (README "Limits").
pub const MAX_FILE_BYTES: u64 = 4 << 20;
/// The deepest YAML nesting read: brackets of flow collections, and
/// columns of block indentation (with `- ` prefixes). serde_yaml's time
/// grows with the square of the depth.
pub const MAX_FLOW_DEPTH: usize = 64;
pub const MAX_INDENT: usize = 256;
/// The most bytes one `len:`, `app: {send: N}`, `delivered:`, or HTTP/2
/// `len:`/`length:` may name: every size the harness allocates.
pub const MAX_PAYLOAD: u64 = 1 << 20;
/// The most steps in one trace.
pub const MAX_STEPS: usize = 10_000;

/// Why a file was not read: it is not a regular file, or it is too large.
/// `Ok` is its text.
pub fn read_bounded(path: &Path) -> Result<String, String> {
    use std::io::Read;
    // Follows symlinks: a link to /dev/zero or a FIFO is what it points to.
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file: only regular files are read".into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{} bytes exceeds the limit of {MAX_FILE_BYTES} bytes per file",
            meta.len()
        ));
    }
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    // The file may have been swapped or grown since: read at most one byte
    // over the limit, from what was opened.
    if !f.metadata().map_err(|e| e.to_string())?.is_file() {
        return Err("not a regular file: only regular files are read".into());
    }
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "more than the limit of {MAX_FILE_BYTES} bytes per file"
        ));
    }
    String::from_utf8(bytes).map_err(|_| "stream did not contain valid UTF-8".into())
}

/// The first line (1-based) nested deeper than the limits, and why.
pub fn too_deep(text: &str) -> Option<(usize, String)> {
    let mut flow = 0usize;
    for (n, line) in text.lines().enumerate() {
        let mut indent = 0;
        let mut rest = line;
        loop {
            let t = rest.trim_start_matches(' ');
            indent += rest.len() - t.len();
            match t.strip_prefix("- ").or_else(|| t.strip_prefix("? ")) {
                Some(r) => {
                    indent += 2;
                    rest = r;
                }
                None => break,
            }
        }
        if indent > MAX_INDENT {
            return Some((
                n + 1,
                format!("nested {indent} columns deep, over the limit of {MAX_INDENT}"),
            ));
        }
        let (mut single, mut double, mut escaped) = (false, false, false);
        for c in line.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' if double => escaped = true,
                '"' if !single => double = !double,
                '\'' if !double => single = !single,
                '#' if !single && !double => break,
                '[' | '{' if !single && !double => {
                    flow += 1;
                    if flow > MAX_FLOW_DEPTH {
                        return Some((
                            n + 1,
                            format!("brackets nested over the limit of {MAX_FLOW_DEPTH}"),
                        ));
                    }
                }
                ']' | '}' if !single && !double => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

fn whole_file(file: &Path, line: Option<usize>, message: String) -> LoadError {
    LoadError {
        file: file.to_path_buf(),
        line,
        column: None,
        field: String::new(),
        message,
    }
}

/// The line of step `i`: the (i+1)-th item under `steps:`.
pub(crate) fn step_line(text: &str, i: usize) -> Option<usize> {
    let start = text.lines().position(|l| l.starts_with("steps:"))?;
    text.lines()
        .enumerate()
        .skip(start + 1)
        .filter(|(_, l)| l.starts_with("  - ") || l.starts_with("- "))
        .nth(i)
        .map(|(n, _)| n + 1)
}

/// A size a trace names, checked against [`MAX_PAYLOAD`]; `field` is its
/// path (`steps[3].send.len`).
pub(crate) fn size_limit(
    file: &Path,
    text: &str,
    step: usize,
    field: &str,
    n: u64,
) -> Result<(), LoadError> {
    if n <= MAX_PAYLOAD {
        return Ok(());
    }
    Err(LoadError {
        file: file.to_path_buf(),
        line: step_line(text, step),
        column: None,
        field: field.to_string(),
        message: format!("{n} bytes exceeds the limit of {MAX_PAYLOAD}"),
    })
}

/// The number of steps, checked against [`MAX_STEPS`].
pub(crate) fn steps_limit(file: &Path, text: &str, n: usize) -> Result<(), LoadError> {
    if n <= MAX_STEPS {
        return Ok(());
    }
    Err(LoadError {
        file: file.to_path_buf(),
        line: line_of(text, "steps"),
        column: None,
        field: "steps".into(),
        message: format!("{n} steps exceeds the limit of {MAX_STEPS}"),
    })
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
) -> Result<T, LoadError> {
    if let Some((line, why)) = too_deep(text) {
        return Err(whole_file(file, Some(line), why));
    }
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let loc = inner.location();
        // serde_yaml prefixes its own path ("steps[3].send: ..."); keep the message only.
        let mut message = inner.to_string();
        if let Some(rest) = message.strip_prefix(&format!("{field}: ")) {
            message = rest.to_string();
        }
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        LoadError {
            file: file.to_path_buf(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            field: if field == "." { String::new() } else { field },
            message,
        }
    })
}

/// Loads and validates one trace file.
pub fn load_trace(path: &Path) -> Result<Trace, LoadError> {
    let text = read_bounded(path).map_err(|m| whole_file(path, None, m))?;
    parse_trace(path, &text)
}

/// Parses and validates a trace's text; `path` names it in errors.
pub fn parse_trace(path: &Path, text: &str) -> Result<Trace, LoadError> {
    let trace: Trace = parse(path, text)?;
    let bad = |field: &str, message: String| LoadError {
        file: path.to_path_buf(),
        line: line_of(text, field),
        column: None,
        field: field.to_string(),
        message,
    };
    check_header(
        path,
        text,
        (&trace.format, &trace.id, trace.protocol),
        Protocol::Tcp,
    )?;
    if trace.steps.is_empty() {
        return Err(bad("steps", "no steps".into()));
    }
    steps_limit(path, text, trace.steps.len())?;
    for (i, s) in trace.steps.iter().enumerate() {
        match s {
            Step::Send(seg) => size_limit(
                path,
                text,
                i,
                &format!("steps[{i}].send.len"),
                seg.len.into(),
            )?,
            Step::App(AppCall::Send(n)) => {
                size_limit(path, text, i, &format!("steps[{i}].app.send"), (*n).into())?
            }
            Step::Delivered(n) => {
                size_limit(path, text, i, &format!("steps[{i}].delivered"), (*n).into())?
            }
            Step::Refused(call) => refusable(path, text, i, call)?,
            Step::Expect(e) => {
                for (k, p) in e.any_of.iter().enumerate() {
                    size_limit(
                        path,
                        text,
                        i,
                        &format!("steps[{i}].expect.any_of[{k}].len"),
                        p.len.into(),
                    )?
                }
            }
            _ => {}
        }
    }
    if !trace
        .steps
        .iter()
        .any(|s| matches!(s, Step::Expect(_) | Step::State(_) | Step::Delivered(_)))
    {
        return Err(bad(
            "steps",
            "nothing is checked: a trace needs an `expect` or a `state` step".into(),
        ));
    }
    Ok(trace)
}

/// `refused:` names a call the IUT can refuse for holding the address
/// pair: an OPEN (RFC 9293 §3.10.1, "connection already exists").
fn refusable(path: &Path, text: &str, i: usize, call: &AppCall) -> Result<(), LoadError> {
    if matches!(call, AppCall::Connect | AppCall::Listen) {
        return Ok(());
    }
    Err(LoadError {
        file: path.to_path_buf(),
        line: step_line(text, i),
        column: None,
        field: format!("steps[{i}].refused"),
        message: format!(
            "`{call}` is not refused for a connection already existing: only an OPEN (`connect`, `listen`) is (RFC 9293 §3.10.1)"
        ),
    })
}

/// The checks every trace's header gets: the format tag, the id matching
/// the file name, the protocol the corpus holds. `header` is (format, id,
/// protocol) as the trace has them.
pub(crate) fn check_header(
    path: &Path,
    text: &str,
    header: (&str, &str, Protocol),
    want: Protocol,
) -> Result<(), LoadError> {
    let (format, id, protocol) = header;
    let bad = |field: &str, message: String| LoadError {
        file: path.to_path_buf(),
        line: line_of(text, field),
        column: None,
        field: field.to_string(),
        message,
    };
    if format != FORMAT {
        return Err(bad(
            "format",
            format!("`{format}`: this harness reads `{FORMAT}`"),
        ));
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    if stem.as_deref() != Some(id) {
        return Err(bad(
            "id",
            format!(
                "`{id}` differs from the file name `{}`",
                stem.unwrap_or_default()
            ),
        ));
    }
    // The id is printed in reports, one verdict a line: a newline or a
    // control character in it could forge another verdict's line.
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    if !plain(id) {
        return Err(bad(
            "id",
            format!("{id:?} is not a plain identifier ([a-z0-9_-]+)"),
        ));
    }
    if protocol != want {
        return Err(bad(
            "protocol",
            format!("`{protocol}`: a {want} corpus holds {want} traces"),
        ));
    }
    Ok(())
}

/// A directory of traces, loaded.
#[derive(Debug, Default)]
pub struct Corpus {
    /// Sorted by id.
    pub traces: Vec<Trace>,
    /// Files that did not load; each becomes an error verdict.
    pub errors: Vec<LoadError>,
    /// `coverage.yaml`, when present.
    pub coverage: Option<Coverage>,
}

/// The coverage record `generate` writes beside the traces.
pub const COVERAGE_FILE: &str = "coverage.yaml";

/// Loads every `*.yaml` trace in `dir`. Only a missing or unreadable
/// directory is an error; a bad file is recorded and the rest load.
pub fn load_corpus(dir: &Path) -> std::io::Result<Corpus> {
    let (mut traces, errors, coverage) = load_dir(dir, parse_trace)?;
    traces.sort_by(|a: &Trace, b: &Trace| a.id.cmp(&b.id));
    Ok(Corpus {
        traces,
        errors,
        coverage,
    })
}

/// The files of a corpus directory, in name order: each trace through
/// `parse_one`, `coverage.yaml` as the coverage record. Bad files become
/// errors; only an unreadable directory stops it.
pub(crate) fn load_dir<T>(
    dir: &Path,
    parse_one: impl Fn(&Path, &str) -> Result<T, LoadError>,
) -> std::io::Result<(Vec<T>, Vec<LoadError>, Option<Coverage>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let (mut traces, mut errors, mut coverage) = (Vec::new(), Vec::new(), None);
    for f in files {
        let text = match read_bounded(&f) {
            Ok(t) => t,
            Err(m) => {
                errors.push(whole_file(&f, None, m));
                continue;
            }
        };
        if f.file_name().is_some_and(|n| n == COVERAGE_FILE) {
            match parse::<Coverage>(&f, &text) {
                Ok(c) => coverage = Some(c),
                Err(e) => errors.push(e),
            }
            continue;
        }
        match parse_one(&f, &text) {
            Ok(t) => traces.push(t),
            Err(e) => errors.push(e),
        }
    }
    Ok((traces, errors, coverage))
}

#[cfg(test)]
mod refused_tests {
    use super::*;

    fn trace_text(step: &str) -> String {
        format!(
            "format: tracewright/1\nid: tcp-x\nprotocol: tcp\niut: client\nprofile: rfc9293\nvariant: null\ndescription: x\ncovers: []\nsteps:\n  - app: connect\n  - {step}\n  - state: SYN-SENT\n"
        )
    }

    #[test]
    fn refused_takes_an_open_and_names_file_line_and_field_otherwise() {
        let path = Path::new("tcp-x.yaml");
        let t = parse_trace(path, &trace_text("refused: connect")).unwrap();
        assert_eq!(t.steps[1], Step::Refused(AppCall::Connect));
        let e = parse_trace(path, &trace_text("refused: close")).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.line, e.file.as_path()),
            ("steps[1].refused", Some(11), path)
        );
        assert!(e.message.contains("RFC 9293 §3.10.1"), "{}", e.message);
    }

    #[test]
    fn wnd_edge_is_last_or_past() {
        let path = Path::new("tcp-x.yaml");
        let t = parse_trace(
            path,
            &trace_text("send: {flags: R, seq: 1, wnd_edge: past}"),
        )
        .unwrap();
        assert!(
            matches!(&t.steps[1], Step::Send(s) if s.wnd_edge == Some(crate::trace::WndEdge::Past))
        );
        assert!(parse_trace(
            path,
            &trace_text("send: {flags: R, seq: 1, wnd_edge: middle}")
        )
        .is_err());
    }
}
