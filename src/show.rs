//! `tracewright show TRACE`: one trace's ladder diagram, in the terminal
//! and as SVG (`tracewright_model::ladder` draws both).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use tracewright_model::ladder::{self, Rung};

/// The largest trace file read (as the corpus loader's limit).
const MAX_FILE: u64 = 4 << 20;

/// A trace, loaded: its header and its ladder.
pub struct Shown {
    pub title: String,
    pub iut: String,
    pub rungs: Vec<Rung>,
}

/// The trace `arg` names: a file's path, or an id looked up in every
/// corpus under `traces/` (the shortest folder name first: a profile's
/// own corpus is `traces/tcp-NAME`, the rfc9293 one `traces/tcp`).
pub fn find(arg: &str) -> Result<PathBuf> {
    let p = Path::new(arg);
    if p.is_file() {
        return Ok(p.to_path_buf());
    }
    let root = tracewright_conformance::registry::locate(Path::new("traces"));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .with_context(|| format!("reading {}", root.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|d| d.is_dir())
        .collect();
    dirs.sort_by_key(|d| (d.as_os_str().len(), d.clone()));
    let id = arg.strip_suffix(".yaml").unwrap_or(arg);
    match dirs
        .iter()
        .map(|d| d.join(format!("{id}.yaml")))
        .find(|f| f.is_file())
    {
        Some(f) => Ok(f),
        None => bail!(
            "show {arg}: no such trace file, and no trace with that id in {}/*/",
            root.display()
        ),
    }
}

/// Loads a trace file of either protocol.
pub fn load(path: &Path) -> Result<Shown> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if !meta.is_file() || meta.len() > MAX_FILE {
        bail!(
            "{}: not a regular file of at most {MAX_FILE} bytes",
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let h2 = text.lines().any(|l| l.trim_end() == "protocol: h2");
    let (head, iut, rungs) = if h2 {
        let t = tracewright_conformance::h2::parse_h2_trace(path, &text)?;
        let head = format!(
            "{} (h2, the IUT is the {}, profile {})",
            t.id, t.iut, t.profile
        );
        (head, t.iut.to_string(), ladder::h2_trace_rungs(&t))
    } else {
        let t = tracewright_conformance::load::parse_trace(path, &text)?;
        let head = format!(
            "{} (tcp, the IUT is the {}, profile {})",
            t.id, t.iut, t.profile
        );
        (head, t.iut.to_string(), ladder::trace_rungs(&t))
    };
    Ok(Shown {
        title: head,
        iut: format!("IUT ({iut})"),
        rungs,
    })
}

pub fn show(arg: &str, svg: Option<&Path>) -> Result<ExitCode> {
    let path = find(arg)?;
    let s = load(&path)?;
    println!("{}", s.title);
    println!("{}", path.display());
    println!();
    print!("{}", ladder::draw_rungs(&s.iut, &s.rungs));
    if let Some(out) = svg {
        std::fs::write(out, ladder::svg(&s.title, &s.iut, &s.rungs, &[]))
            .with_context(|| format!("writing {}", out.display()))?;
        println!("\nSVG written to {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}
