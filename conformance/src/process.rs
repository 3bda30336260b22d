//! The child processes behind the adapter targets (`exec:`, `h2exec:`,
//! `h2-client:`): started in a process group of their own, killed as a
//! group, and heard through the tail of their stderr.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The tail of a child's stderr kept for error messages.
const STDERR_TAIL: usize = 2048;
/// How long a killed child's stderr may take to reach its reader.
const DRAIN: Duration = Duration::from_millis(500);

/// Starts `sh -c command` in a process group of its own, so that what it
/// forks dies with it; stdin and stdout piped or not as asked, stderr
/// always read into a [`StderrTail`].
pub(crate) fn spawn_group(
    command: &str,
    piped_stdio: bool,
) -> std::io::Result<(Child, StderrTail)> {
    let stdio = || {
        if piped_stdio {
            Stdio::piped()
        } else {
            Stdio::null()
        }
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(stdio())
        .stdout(stdio())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let tail = StderrTail::new(child.stderr.take().expect("piped"));
    Ok((child, tail))
}

/// Kills `child`'s process group (it was made with `process_group(0)`:
/// what `sh -c` forked is in it too), then reaps the child.
pub(crate) fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        if child.try_wait().ok().flatten().is_none() {
            // SAFETY: kill(2) with a negative pid signals the group whose
            // id is our own child's pid; it touches no memory.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The last [`STDERR_TAIL`] bytes a child wrote to stderr, read on a
/// thread of its own.
pub(crate) struct StderrTail {
    bytes: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl StderrTail {
    fn new(mut stderr: ChildStderr) -> Self {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&bytes);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut t = keep.lock().unwrap_or_else(|p| p.into_inner());
                t.extend_from_slice(&buf[..n]);
                let excess = t.len().saturating_sub(STDERR_TAIL);
                t.drain(..excess);
            }
        });
        StderrTail { bytes, reader }
    }

    /// The last non-blank line, once the pipe has closed (the child is
    /// gone) or a bounded moment has passed: a child that exits just
    /// before its last words reach the reader is still heard.
    pub(crate) fn last_line(&self) -> Option<String> {
        let until = Instant::now() + DRAIN;
        while !self.reader.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(2));
        }
        let tail = self.bytes.lock().map(|t| t.clone()).unwrap_or_default();
        let tail = String::from_utf8_lossy(&tail);
        let last = tail.lines().rev().find(|l| !l.trim().is_empty());
        last.map(|l| l.trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_words_of_a_child_that_exits_at_once_are_heard() {
        for _ in 0..20 {
            let (mut child, tail) =
                spawn_group("echo first >&2; echo 'last words' >&2; exit 3", false).unwrap();
            let _ = child.wait();
            kill_group(&mut child);
            assert_eq!(tail.last_line().as_deref(), Some("last words"));
        }
    }

    #[test]
    fn killing_the_group_takes_what_the_shell_forked() {
        let (mut child, tail) = spawn_group("sleep 30 & sleep 30; echo never >&2", false).unwrap();
        kill_group(&mut child);
        // The pipe closes only when both sleeps are gone.
        assert_eq!(tail.last_line(), None);
        assert!(
            tail.reader.is_finished(),
            "a forked sleep still holds stderr"
        );
    }
}
