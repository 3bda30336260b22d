//! The `uml:KERNEL` target: the `linux` target run inside User-Mode Linux
//! with time travel, so that the kernel under test is a chosen version
//! (6.1, 6.12, or any UML binary) and its timers run in virtual time.
//!
//! A UML kernel built with `CONFIG_UML_TIME_TRAVEL_SUPPORT` and booted with
//! `time-travel=inf-cpu` jumps its clock to the next timer whenever nothing
//! can run, so TIME-WAIT's 60 s and the SYN give-up's 127 s cost no wall
//! time, and computation costs no virtual time. The guest's root file
//! system is the host's (`rootfstype=hostfs rootflags=/`): its init is a
//! script that runs this same binary's `replay tcp --target linux` in the
//! same directory, so the corpus, the profiles, the deviations and the
//! report paths are the host's own. Its stdout, stderr and exit code come
//! back through files in a temporary directory, which also holds UML's own
//! state (`uml_dir`), and which is removed whatever happens.
//!
//! UML runs in a process group of its own: on Ctrl-C (SIGINT), SIGTERM,
//! SIGHUP or the timeout the whole group is killed, so no UML process
//! outlives the run. The kernels come from `conformance/uml/build-kernel.sh`.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use super::EXIT_UNAVAILABLE;

/// The kernel versions `conformance/uml/build-kernel.sh` builds.
pub const KNOWN: [&str; 2] = ["6.1", "6.12"];

/// How long a whole corpus may take in wall time. In virtual time the
/// rfc9293 corpus takes a few seconds and the linux profile's about ten;
/// a guest still running after this is stuck.
pub const TIMEOUT: Duration = Duration::from_secs(600);

/// How many of UML's own last log lines to show when the guest did not run
/// the suite.
const LOG_TAIL: usize = 15;

#[derive(Debug, thiserror::Error)]
pub enum UmlError {
    #[error("uml:{spec}: no kernel at {}; build it with: conformance/uml/build-kernel.sh {spec} (10 to 40 minutes on 2 cores; needs apt-get, bc, flex, bison, libelf-dev)", path.display())]
    KernelMissing { spec: String, path: PathBuf },
    #[error("uml:{}: no UML binary there", path.display())]
    NoBinary { path: PathBuf },
    #[error("uml:{spec}: unknown kernel: give a version the repo builds ({}) or the path of a UML binary", KNOWN.join(", "))]
    UnknownKernel { spec: String },
    #[error("uml:{kernel}: the guest did not run the suite ({why}); UML's last lines:\n{log}")]
    GuestFailed {
        kernel: String,
        why: String,
        log: String,
    },
    #[error("uml:{kernel}: still running after {} s; killed", timeout.as_secs())]
    Timeout { kernel: String, timeout: Duration },
    #[error("uml:{kernel}: interrupted by signal {signal}; killed UML")]
    Interrupted { kernel: String, signal: i32 },
    #[error("uml: {what}: {err}")]
    Io {
        what: String,
        #[source]
        err: std::io::Error,
    },
}

impl UmlError {
    /// The CLI's exit code: [`EXIT_UNAVAILABLE`] when this machine cannot
    /// run the target (no kernel, UML does not boot), 128 + the signal when
    /// interrupted, 2 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            UmlError::KernelMissing { .. }
            | UmlError::NoBinary { .. }
            | UmlError::GuestFailed { .. } => EXIT_UNAVAILABLE,
            UmlError::Interrupted { signal, .. } => (128 + signal).clamp(0, 255) as u8,
            _ => 2,
        }
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> UmlError {
    let what = what.into();
    move |err| UmlError::Io { what, err }
}

/// Where the built kernels live: `$TRACEWRIGHT_CACHE/uml`, by default
/// `$HOME/.cache/tracewright/uml` (as `build-kernel.sh` has it).
pub fn cache_dir() -> PathBuf {
    let base = match std::env::var_os("TRACEWRIGHT_CACHE") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/".into()))
            .join(".cache/tracewright"),
    };
    base.join("uml")
}

/// The UML binary `spec` names: a known version's build in
/// [`cache_dir`], or a path.
pub fn kernel_path(spec: &str) -> Result<PathBuf, UmlError> {
    let runnable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if KNOWN.contains(&spec) {
        let path = cache_dir().join(format!("linux-{spec}")).join("linux");
        if !runnable(&path) {
            return Err(UmlError::KernelMissing {
                spec: spec.into(),
                path,
            });
        }
        return Ok(path);
    }
    let path = PathBuf::from(spec);
    if !(spec.contains('/') || path.is_file()) {
        return Err(UmlError::UnknownKernel { spec: spec.into() });
    }
    if !runnable(&path) {
        return Err(UmlError::NoBinary { path });
    }
    Ok(path)
}

/// What to replay inside the guest: the arguments of `replay` that the
/// linux target takes, as the user gave them (paths relative to the
/// current directory stay so: the guest runs there).
#[derive(Clone, Debug)]
pub struct ReplayArgs<'a> {
    /// `tcp` or `tcp-listener`.
    pub suite: &'a str,
    pub profile: &'a str,
    pub traces: &'a Path,
    pub report: Option<&'a Path>,
    pub junit: Option<&'a Path>,
    pub capture: Option<&'a Path>,
    pub deviations: Option<&'a Path>,
    pub html: Option<&'a Path>,
    pub json: Option<&'a Path>,
    /// `K/N`, as `--shard` takes it.
    pub shard: Option<String>,
    /// `--only` patterns.
    pub only: &'a [String],
    pub fail_fast: bool,
    pub jobs: Option<usize>,
}

impl ReplayArgs<'_> {
    /// The command line of the replay inside the guest, after the binary.
    pub fn argv(&self) -> Vec<OsString> {
        let mut argv: Vec<OsString> = ["replay", self.suite, "--target", "linux", "--profile"]
            .into_iter()
            .map(OsString::from)
            .collect();
        argv.push(self.profile.into());
        argv.push("--traces".into());
        argv.push(self.traces.into());
        for (flag, value) in [
            ("--report", self.report),
            ("--junit", self.junit),
            ("--capture", self.capture),
            ("--deviations", self.deviations),
            ("--html", self.html),
            ("--json", self.json),
        ] {
            if let Some(v) = value {
                argv.push(flag.into());
                argv.push(v.into());
            }
        }
        if let Some(shard) = &self.shard {
            argv.extend(["--shard".into(), shard.into()]);
        }
        for pattern in self.only {
            argv.extend(["--only".into(), pattern.into()]);
        }
        if self.fail_fast {
            argv.push("--fail-fast".into());
        }
        if let Some(jobs) = self.jobs {
            argv.extend(["--jobs".into(), jobs.to_string().into()]);
        }
        argv
    }
}

/// Replays `args` against kernel `spec` with this very binary: boots UML,
/// copies the guest's stdout and stderr to ours, and returns the replay's
/// exit code (0, 1, 2 or 3 as for `--target linux`).
pub fn replay(spec: &str, args: &ReplayArgs) -> Result<u8, UmlError> {
    let kernel = kernel_path(spec)?;
    let exe = std::env::current_exe().map_err(io("finding this binary"))?;
    let cwd = std::env::current_dir().map_err(io("the current directory"))?;
    let out = run_in_guest(spec, &kernel, &exe, &cwd, &args.argv(), TIMEOUT)?;
    std::io::stdout()
        .write_all(&out.stdout)
        .and_then(|()| std::io::stdout().flush())
        .map_err(io("writing stdout"))?;
    std::io::stderr()
        .write_all(&out.stderr)
        .map_err(io("writing stderr"))?;
    Ok(out.code)
}

/// What the guest's command left behind.
#[derive(Debug)]
pub struct GuestOutput {
    pub code: u8,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// A directory that is removed when dropped, however the run ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, UmlError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("tracewright-uml-{}-{nanos:09}", std::process::id()));
        std::fs::create_dir(&path).map_err(io(format!("creating {}", path.display())))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
            .map_err(io(format!("chmod {}", path.display())))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // A UML helper killed a moment ago may still be closing a file in
        // here; try again rather than leave the directory behind.
        for _ in 0..50 {
            if std::fs::remove_dir_all(&self.0).is_ok() || !self.0.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `s` as one word of a POSIX shell, whatever it holds.
fn sh_quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The guest's init: mounts what the linux target needs, runs `argv` in
/// `cwd` with its output and exit code in `dir`, and powers off. `sync`
/// first: hostfs writes through the guest's page cache, and the power-off
/// does not flush it.
fn init_script(dir: &Path, exe: &Path, cwd: &Path, argv: &[OsString]) -> String {
    let q = |p: &Path| sh_quote(p.as_os_str());
    let args: Vec<String> = argv.iter().map(|a| sh_quote(a)).collect();
    format!(
        "#!/bin/sh\n\
         export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
         mount -t proc proc /proc\n\
         mount -t sysfs sysfs /sys\n\
         mount -t devtmpfs devtmpfs /dev\n\
         ip link set lo up\n\
         cd {cwd} && {exe} {args} >{dir}/stdout 2>{dir}/stderr\n\
         echo $? >{dir}/rc.tmp && mv {dir}/rc.tmp {dir}/rc\n\
         sync\n\
         echo o >/proc/sysrq-trigger\n\
         sleep 60\n",
        cwd = q(cwd),
        exe = q(exe),
        args = args.join(" "),
        dir = q(dir),
    )
}

/// The signal that asked us to stop, 0 for none.
static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    STOP.store(sig, Ordering::SeqCst);
}

const STOP_SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Our handlers for [`STOP_SIGNALS`] while it lives, the old ones after.
struct SignalGuard([libc::sigaction; 3]);

impl SignalGuard {
    fn install() -> SignalGuard {
        STOP.store(0, Ordering::SeqCst);
        // SAFETY: zeroed sigaction structs are valid; the handler only
        // stores to an atomic, which is async-signal-safe.
        unsafe {
            let mut old: [libc::sigaction; 3] = std::mem::zeroed();
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut new.sa_mask);
            for (i, &sig) in STOP_SIGNALS.iter().enumerate() {
                libc::sigaction(sig, &new, &mut old[i]);
            }
            SignalGuard(old)
        }
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for (i, &sig) in STOP_SIGNALS.iter().enumerate() {
            // SAFETY: restores what sigaction gave us.
            unsafe { libc::sigaction(sig, &self.0[i], std::ptr::null_mut()) };
        }
    }
}

/// Kills UML's whole process group, reaps its leader, and waits (a
/// little) until the group is gone.
fn kill_group(child: &mut Child) {
    // The group's id is the leader's pid (process_group(0) at spawn).
    let group = child.id() as libc::pid_t;
    // SAFETY: a signal to a process group we made.
    unsafe { libc::killpg(group, libc::SIGKILL) };
    let _ = child.wait();
    // The other members are not our children: until init reaps them,
    // signal 0 still finds them.
    for _ in 0..100 {
        // SAFETY: signal 0 only checks the group exists.
        if unsafe { libc::killpg(group, 0) } != 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The last `n` lines of a file, for an error message.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Boots `kernel` with an init that runs `exe argv` in `cwd`, waits for it
/// at most `timeout`, and returns what the command left. `name` is the
/// kernel as the user named it, for messages.
pub fn run_in_guest(
    name: &str,
    kernel: &Path,
    exe: &Path,
    cwd: &Path,
    argv: &[OsString],
    timeout: Duration,
) -> Result<GuestOutput, UmlError> {
    let dir = TempDir::new()?;
    let init = dir.0.join("init");
    std::fs::write(&init, init_script(&dir.0, exe, cwd, argv))
        .map_err(io(format!("writing {}", init.display())))?;
    std::fs::set_permissions(&init, std::fs::Permissions::from_mode(0o755))
        .map_err(io(format!("chmod {}", init.display())))?;
    let log_path = dir.0.join("uml.log");
    let log =
        std::fs::File::create(&log_path).map_err(io(format!("creating {}", log_path.display())))?;
    let log2 = log.try_clone().map_err(io("uml.log"))?;

    let mut cmd = Command::new(kernel);
    cmd.arg("mem=2G")
        .arg("time-travel=inf-cpu")
        .arg("rootfstype=hostfs")
        .arg("rootflags=/")
        .arg("rw")
        .arg(OsString::from_iter([OsStr::new("init="), init.as_os_str()]))
        // The console is UML's stdout, a log file: the guest's command
        // writes its own output to files, and UML never touches a terminal
        // (it would set it raw and swallow Ctrl-C).
        .arg("con=null")
        .arg("ssl=null")
        .arg("con0=null,fd:1")
        // UML's pid file and mconsole socket go in our directory, not
        // ~/.uml, so a killed UML leaves nothing behind.
        .arg(OsString::from_iter([
            OsStr::new("uml_dir="),
            dir.0.as_os_str(),
        ]))
        .arg("umid=tracewright")
        .env("TMPDIR", &dir.0)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .process_group(0);
    let signals = SignalGuard::install();
    let mut child = cmd
        .spawn()
        .map_err(io(format!("starting {}", kernel.display())))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                kill_group(&mut child);
                return Err(io("waiting for UML")(e));
            }
        }
        let signal = STOP.load(Ordering::SeqCst);
        if signal != 0 {
            kill_group(&mut child);
            return Err(UmlError::Interrupted {
                kernel: name.into(),
                signal,
            });
        }
        if start.elapsed() > timeout {
            kill_group(&mut child);
            return Err(UmlError::Timeout {
                kernel: name.into(),
                timeout,
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // UML's helpers (one host process per guest process) are in its group;
    // after a power-off none should be left, but make sure.
    kill_group(&mut child);
    drop(signals);

    let rc = std::fs::read_to_string(dir.0.join("rc")).ok();
    let Some(code) = rc.as_deref().and_then(|s| s.trim().parse::<u8>().ok()) else {
        return Err(UmlError::GuestFailed {
            kernel: name.into(),
            why: format!("UML exited with {status} and no exit code from the guest"),
            log: tail(&log_path, LOG_TAIL),
        });
    };
    let read = |f: &str| std::fs::read(dir.0.join(f)).unwrap_or_default();
    Ok(GuestOutput {
        code,
        stdout: read("stdout"),
        stderr: read("stderr"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_quotes_and_spaces() {
        assert_eq!(sh_quote(OsStr::new("a b")), "'a b'");
        assert_eq!(sh_quote(OsStr::new("it's")), r"'it'\''s'");
    }

    #[test]
    fn the_guest_gets_the_linux_targets_flags() {
        let args = ReplayArgs {
            suite: "tcp",
            profile: "linux",
            traces: Path::new("traces/tcp-linux"),
            report: Some(Path::new("r.txt")),
            junit: None,
            capture: Some(Path::new("pcaps")),
            deviations: None,
            html: None,
            json: Some(Path::new("r.json")),
            shard: Some("2/4".into()),
            only: &["*time-wait*".to_string()],
            fail_fast: true,
            jobs: Some(2),
        };
        let argv: Vec<String> = args
            .argv()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            argv.join(" "),
            "replay tcp --target linux --profile linux --traces traces/tcp-linux --report r.txt --capture pcaps \
             --json r.json --shard 2/4 --only *time-wait* --fail-fast --jobs 2"
        );
    }

    #[test]
    fn an_unknown_or_missing_kernel_says_what_to_do() {
        let e = kernel_path("5.10").unwrap_err();
        assert!(matches!(e, UmlError::UnknownKernel { .. }), "{e}");
        let e = kernel_path("/nonexistent/linux").unwrap_err();
        assert!(matches!(e, UmlError::NoBinary { .. }), "{e}");
        assert_eq!(e.exit_code(), EXIT_UNAVAILABLE);
        std::env::set_var("TRACEWRIGHT_CACHE", "/nonexistent");
        let e = kernel_path("6.12").unwrap_err();
        std::env::remove_var("TRACEWRIGHT_CACHE");
        assert_eq!(
            e.to_string().split(';').nth(1).unwrap().trim(),
            "build it with: conformance/uml/build-kernel.sh 6.12 (10 to 40 minutes on 2 cores"
        );
    }
}
