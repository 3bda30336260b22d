//! Loading and validating traces. A malformed file gets an error naming the
//! file, line, column and field, and never stops the others from loading.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::profile::line_of;
use crate::trace::{Coverage, Protocol, Step, Trace, FORMAT};

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

pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
) -> Result<T, LoadError> {
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
    let text = std::fs::read_to_string(path).map_err(|e| LoadError {
        file: path.to_path_buf(),
        line: None,
        column: None,
        field: String::new(),
        message: e.to_string(),
    })?;
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
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                errors.push(LoadError {
                    file: f.clone(),
                    line: None,
                    column: None,
                    field: String::new(),
                    message: e.to_string(),
                });
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
