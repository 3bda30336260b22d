//! Progress for people and for logs. On a terminal (stderr) a bar or a
//! spinner; anywhere else (a CI log, a pipe) a plain line every few
//! seconds, so that a long `check h2` or a kernel replay is never silent
//! for minutes. The interval is 5 s; `TRACEWRIGHT_PROGRESS_SECS` sets
//! another (0: a line per update, which the tests use).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

const EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    how: How,
}

enum How {
    Terminal(ProgressBar),
    Plain(Mutex<Plain>),
}

struct Plain {
    /// What is running (`replay tcp against bundled`).
    label: String,
    every: Duration,
    start: Instant,
    last: Instant,
    total: Option<u64>,
    pos: u64,
    msg: String,
}

impl Plain {
    fn line(&self) -> String {
        let mut s = format!("{}:", self.label);
        if let Some(total) = self.total {
            s += &format!(" {}/{total} traces", self.pos);
        }
        if !self.msg.is_empty() {
            s += &format!(" {}", self.msg);
        }
        s + &format!(" [{:.1} s]", self.start.elapsed().as_secs_f64())
    }

    /// A line if the interval has passed since the last one.
    fn tick(&mut self) {
        if self.last.elapsed() >= self.every {
            self.last = Instant::now();
            eprintln!("{}", self.line());
        }
    }
}

fn interval() -> Duration {
    std::env::var("TRACEWRIGHT_PROGRESS_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(EVERY, Duration::from_secs_f64)
}

impl Progress {
    fn new(label: &str, total: Option<u64>, bar: impl FnOnce() -> ProgressBar) -> Progress {
        let how = if std::io::stderr().is_terminal() {
            How::Terminal(bar())
        } else {
            let now = Instant::now();
            How::Plain(Mutex::new(Plain {
                label: label.to_string(),
                every: interval(),
                start: now,
                last: now,
                total,
                pos: 0,
                msg: String::new(),
            }))
        };
        Progress { how }
    }

    /// A count of traces out of `total`.
    pub fn bar(label: &str, total: u64) -> Progress {
        Progress::new(label, Some(total), || {
            let pb = ProgressBar::new(total);
            pb.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} traces [{elapsed}] {msg}")
                    .unwrap(),
            );
            pb
        })
    }

    /// Work of unknown length (a search): a message that changes.
    pub fn spinner(label: &str, msg: &str) -> Progress {
        let p = Progress::new(label, None, || {
            let pb = ProgressBar::new_spinner();
            pb.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap());
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        });
        p.set_message(msg.to_string());
        p
    }

    pub fn set_message(&self, msg: String) {
        match &self.how {
            How::Terminal(pb) => pb.set_message(msg),
            How::Plain(p) => {
                let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
                p.msg = msg;
                p.tick();
            }
        }
    }

    pub fn set_position(&self, pos: u64) {
        match &self.how {
            How::Terminal(pb) => pb.set_position(pos),
            How::Plain(p) => {
                let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
                p.pos = pos;
                p.tick();
            }
        }
    }

    pub fn finish_and_clear(&self) {
        if let How::Terminal(pb) = &self.how {
            pb.finish_and_clear();
        }
    }
}
