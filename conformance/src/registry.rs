//! The targets, by name, and the policies around a replay: which corpus a
//! profile has, where a profile is found, which deviations list applies,
//! and one driver from corpus and target to a report. The CLI, the tests
//! and the benches all open targets here.
//!
//! Adding a target is one module (an implementation of [`Target`] or
//! [`H2Target`]) and one entry in [`ENTRIES`]: its name, its help, the
//! protocols it serves, how to open it, its own deviations list and whether
//! it captures. A real HTTP/2 server the suite runs is a row of
//! [`servers::SERVERS`] instead, which makes its entry.
//!
//! A name is `NAME` or `NAME:ARGUMENT` (`exec:COMMAND`); the part before the
//! first `:` picks the entry, so a URL scheme can pick one too.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::LazyLock;

use crate::deviations::Deviations;
use crate::h2::servers::{self, ServedH2, ServerKind};
use crate::h2::{H2Corpus, H2Target};
use crate::load::Corpus;
use crate::profile::Profile;
use crate::report::Report;
use crate::target::{Target, TargetError};

/// What a target speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// TCP (RFC 9293): the connection and the listener corpora.
    Tcp,
    /// HTTP/2 (RFC 9113).
    H2,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::H2 => "h2",
        }
    }
}

/// A kind of corpus: what `replay` takes as its first argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// One connection (`traces/tcp*`).
    Tcp,
    /// A listener under a SYN flood (`traces/tcp-listener*`).
    Listener,
    /// HTTP/2 streams on one connection (`traces/h2`).
    H2,
}

impl Suite {
    /// As `replay` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Tcp => "tcp",
            Suite::Listener => "tcp-listener",
            Suite::H2 => "h2",
        }
    }

    pub fn protocol(self) -> Protocol {
        match self {
            Suite::Tcp | Suite::Listener => Protocol::Tcp,
            Suite::H2 => Protocol::H2,
        }
    }

    /// The corpus generated for `profile`: see [`tcp_corpus`],
    /// [`listener_corpus`]; HTTP/2 has one corpus.
    pub fn corpus(self, profile: &Profile) -> PathBuf {
        match self {
            Suite::Tcp => tcp_corpus(profile),
            Suite::Listener => listener_corpus(profile),
            Suite::H2 => PathBuf::from("traces/h2"),
        }
    }
}

/// A profile's TCP corpus: `traces/tcp` for rfc9293, `traces/tcp-NAME` for
/// the others (each generated with its profile's parameters).
pub fn tcp_corpus(profile: &Profile) -> PathBuf {
    corpus_of("traces/tcp", profile)
}

/// A profile's listener corpus: `traces/tcp-listener` for rfc9293,
/// `traces/tcp-listener-NAME` for the others.
pub fn listener_corpus(profile: &Profile) -> PathBuf {
    corpus_of("traces/tcp-listener", profile)
}

fn corpus_of(base: &str, profile: &Profile) -> PathBuf {
    if profile.name == "rfc9293" {
        PathBuf::from(base)
    } else {
        PathBuf::from(format!("{base}-{}", profile.name))
    }
}

/// A runner of whole corpora: corpus, profile, the folder of one pcap per
/// trace (`--capture`), progress (done, total).
pub type RunCorpus = fn(&Corpus, &Profile, Option<&Path>, &mut dyn FnMut(usize, usize)) -> Report;

/// A TCP target, opened: the replay runs its traces one after another, or
/// the target runs the whole corpus its own way.
pub enum TcpRunner {
    Serial(Box<dyn Target>),
    /// The kernel: each trace in a network namespace of its own, many at
    /// once, on threads the runner makes.
    Corpus {
        name: &'static str,
        run: RunCorpus,
    },
    /// The linux target inside a User-Mode Linux guest in virtual time:
    /// this very binary replays the corpus in the guest and writes the
    /// report ([`replay_in_guest`]); `kernel` is `6.1`, `6.12` or a path.
    Guest {
        kernel: String,
    },
}

/// A target, opened for one protocol.
pub enum Opened {
    Tcp(TcpRunner),
    H2(Box<dyn H2Target>),
}

impl Opened {
    pub fn name(&self) -> &str {
        match self {
            Opened::Tcp(TcpRunner::Serial(t)) => t.name(),
            Opened::Tcp(TcpRunner::Corpus { name, .. }) => name,
            Opened::Tcp(TcpRunner::Guest { .. }) => "uml",
            Opened::H2(t) => t.name(),
        }
    }

    /// Whether `--capture` can work: the target says so itself; a corpus
    /// runner (the kernel's) captures each trace on its own device; a uml:
    /// guest passes `--capture` to the linux target inside.
    pub fn check_capture(&mut self) -> Result<(), TargetError> {
        match self {
            Opened::Tcp(TcpRunner::Serial(t)) => t.capture(None),
            Opened::H2(t) => t.capture(None),
            Opened::Tcp(TcpRunner::Corpus { .. } | TcpRunner::Guest { .. }) => Ok(()),
        }
    }
}

type OpenTcp = fn(&str) -> Result<TcpRunner, RegistryError>;
type OpenH2 = fn(&str) -> Result<Box<dyn H2Target>, RegistryError>;

/// One target the suite knows.
#[derive(Clone, Copy)]
pub struct Entry {
    /// `NAME`, or `NAME:ARGUMENT` when it takes an argument.
    pub name: &'static str,
    pub help: &'static str,
    /// Why it serves only the protocols it serves, for a user who asked
    /// for another.
    pub only: &'static str,
    /// Its own deviations list per corpus kind (the profile's corpus of
    /// that kind), loaded unless `--deviations` names another.
    pub deviations: &'static [(Suite, &'static str)],
    /// Whether it can write a pcap per trace (`--capture`).
    pub captures: bool,
    tcp: Option<OpenTcp>,
    h2: Option<OpenH2>,
    /// A real server the suite runs: opened for HTTP/2 by starting it.
    server: Option<ServerKind>,
}

impl Entry {
    /// A real server's entry, from its row. Its texts are made once per
    /// process, for as long as it runs (the entries are `'static`).
    fn server(s: ServerKind) -> Entry {
        let text = |t: String| -> &'static str { Box::leak(t.into_boxed_str()) };
        Entry {
            name: s.name,
            help: text(format!(
                "{} (Debian {}), started by the suite on a loopback port, over h2c",
                s.title, s.package
            )),
            only: text(format!(
                "{} is an HTTP/2 server (the kernel's TCP is linux)",
                s.product
            )),
            deviations: Box::leak(Box::new([(Suite::H2, s.deviations)])),
            captures: true,
            tcp: None,
            h2: None,
            server: Some(s),
        }
    }

    fn key(&self) -> &'static str {
        self.name.split(':').next().unwrap_or(self.name)
    }

    fn takes_argument(&self) -> bool {
        self.name.contains(':')
    }

    pub fn serves(&self, p: Protocol) -> bool {
        match p {
            Protocol::Tcp => self.tcp.is_some(),
            Protocol::H2 => self.h2.is_some() || self.server.is_some(),
        }
    }

    /// The protocols it serves, as `replay` names them.
    pub fn protocols(&self) -> Vec<&'static str> {
        [Protocol::Tcp, Protocol::H2]
            .into_iter()
            .filter(|&p| self.serves(p))
            .map(Protocol::name)
            .collect()
    }

    /// Opens the target named `spec` (this entry's) for `protocol`. The
    /// linux entry also readies the process for its namespaces here, so
    /// open it while the process has one thread.
    pub fn open(&self, spec: &str, protocol: Protocol) -> Result<Opened, RegistryError> {
        let arg = spec.split_once(':').map_or("", |(_, a)| a);
        match (protocol, self.tcp, self.h2) {
            (Protocol::Tcp, Some(open), _) => open(arg).map(Opened::Tcp),
            (Protocol::H2, _, Some(open)) => open(arg).map(Opened::H2),
            (Protocol::H2, _, None) if self.server.is_some() => {
                open_server(self.server.expect("checked")).map(Opened::H2)
            }
            _ => Err(RegistryError::WrongProtocol {
                target: spec.to_string(),
                only: self.only,
                protocol,
                known: known(protocol),
            }),
        }
    }
}

/// Every target, in the order help lists them: the real servers
/// ([`servers::SERVERS`], a row each) come after the network targets.
pub static ENTRIES: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    let at = OWN_ENTRIES
        .iter()
        .position(|e| e.name == SERVERS_AFTER)
        .map_or(OWN_ENTRIES.len(), |k| k + 1);
    let (before, after) = OWN_ENTRIES.split_at(at);
    before
        .iter()
        .copied()
        .chain(servers::SERVERS.iter().map(Entry::server))
        .chain(after.iter().copied())
        .collect()
});

/// The entry help lists the real servers after.
const SERVERS_AFTER: &str = "h2://HOST:PORT";

/// Every target but the real servers.
static OWN_ENTRIES: &[Entry] = &[
    Entry {
        name: "bundled",
        help: "the bundled TCP endpoint and HTTP/2 connection (tracewright-stack), in-process, on a virtual clock",
        only: "",
        deviations: &[],
        // TCP through the harness (what it delivers and what comes back);
        // HTTP/2 as its connection's byte stream.
        captures: true,
        tcp: Some(|_| {
            Ok(TcpRunner::Serial(Box::new(crate::pcap::CapturedTcp::new(
                Box::new(crate::bundled::BundledTarget::new()),
            ))))
        }),
        h2: Some(|_| Ok(Box::new(crate::h2::BundledH2::new()))),
        server: None,
    },
    Entry {
        name: "smoltcp",
        help: "smoltcp 0.14 in-process, through a phy::Device of ours, on a virtual clock",
        only: "smoltcp has no HTTP/2",
        deviations: &[(Suite::Tcp, "conformance/deviations/smoltcp.yaml")],
        captures: true,
        tcp: Some(|_| {
            Ok(TcpRunner::Serial(Box::new(
                crate::smoltcp::SmoltcpTarget::new(),
            )))
        }),
        h2: None,
        server: None,
    },
    Entry {
        name: "linux",
        help: "the running kernel's TCP, each trace in a network namespace of its own",
        only: "the kernel has no HTTP/2",
        deviations: &[
            (Suite::Tcp, "conformance/deviations/linux.yaml"),
            (Suite::Listener, "conformance/deviations/linux-listener.yaml"),
        ],
        // What crosses each trace's TUN device.
        captures: true,
        tcp: Some(open_linux),
        h2: None,
        server: None,
    },
    Entry {
        name: "uml:KERNEL",
        help: "the linux target inside User-Mode Linux in virtual time; KERNEL is 6.1, 6.12 (built by conformance/uml/build-kernel.sh) or a UML binary's path",
        only: "the kernel has no HTTP/2",
        // The guest's linux target loads conformance/deviations/linux.yaml,
        // with the entries for the guest's kernel.
        deviations: &[],
        // The guest's linux target captures on its TUN devices.
        captures: true,
        tcp: Some(|kernel| {
            if kernel.trim().is_empty() {
                return Err(RegistryError::Argument {
                    target: "uml:KERNEL",
                    why: "the kernel is empty (uml:6.1, uml:6.12 or uml:PATH)",
                });
            }
            Ok(TcpRunner::Guest {
                kernel: kernel.to_string(),
            })
        }),
        h2: None,
        server: None,
    },
    Entry {
        name: "exec:COMMAND",
        help: "any TCP stack behind an adapter process (see README.md)",
        only: "the exec adapter protocol carries TCP segments only",
        deviations: &[],
        // Through the harness: the segments it exchanges with the adapter.
        captures: true,
        tcp: Some(|command| {
            if command.trim().is_empty() {
                return Err(RegistryError::Argument {
                    target: "exec:COMMAND",
                    why: "the command is empty",
                });
            }
            Ok(TcpRunner::Serial(Box::new(crate::pcap::CapturedTcp::new(
                Box::new(crate::exec::ExecTarget::with_timeout(
                    command,
                    adapter_timeout(crate::exec::DEFAULT_TIMEOUT),
                )),
            ))))
        }),
        h2: None,
        server: None,
    },
    Entry {
        name: "h2crate",
        help: "the h2 crate (hyperium, 0.4) in-process, over an in-memory duplex",
        only: "the h2 crate has no TCP of its own",
        deviations: &[(Suite::H2, "conformance/deviations/h2crate.yaml")],
        // Its connection's byte stream, through the harness.
        captures: true,
        tcp: None,
        h2: Some(|_| {
            Ok(Box::new(crate::pcap::CapturedH2::new(Box::new(
                crate::h2crate::H2Crate::new(),
            ))))
        }),
        server: None,
    },
    Entry {
        name: "h2crate-server",
        help: "the h2 crate as a server on a loopback port, over h2c; its application does what the trace says, as for h2crate, but over the kernel's TCP on real time",
        only: "the h2 crate has no TCP of its own",
        deviations: &[(Suite::H2, "conformance/deviations/h2crate.yaml")],
        // Through the network target: the HTTP/2 bytes of each connection.
        captures: true,
        tcp: None,
        h2: Some(|_| {
            let (iut, addr) = crate::h2crate::H2CrateIut::server()
                .map_err(|e| RegistryError::Unavailable(format!("h2crate-server: {e}")))?;
            let net = crate::h2::NetH2::cleartext(&addr.to_string())
                .map_err(|e| RegistryError::Address(e.to_string()))?;
            Ok(Box::new(
                net.with_iut(Box::new(iut)).named("h2crate-server"),
            ))
        }),
        server: None,
    },
    Entry {
        name: "h2crate-client",
        help: "the h2 crate as a client, connecting per trace to the harness as server on 127.0.0.1 (as h2-client:COMMAND does); its application does what the trace says",
        only: "the h2 crate has no TCP of its own",
        deviations: &[(Suite::H2, "conformance/deviations/h2crate.yaml")],
        captures: true,
        tcp: None,
        h2: Some(|_| {
            Ok(Box::new(crate::pcap::CapturedH2::new(Box::new(
                crate::h2::client::H2ClientTarget::in_process(
                    "h2crate-client",
                    Box::new(crate::h2crate::H2CrateIut::client()),
                ),
            ))))
        }),
        server: None,
    },
    Entry {
        name: "h2c://HOST:PORT",
        help: "an HTTP/2 server over cleartext TCP with prior knowledge (RFC 9113 §3.3), one connection per trace; the harness plays the client",
        only: "a server is reached by HTTP/2 over it",
        deviations: &[],
        captures: true,
        tcp: None,
        h2: Some(|hostport| {
            crate::h2::NetH2::cleartext(hostport)
                .map(|t| Box::new(t) as Box<dyn H2Target>)
                .map_err(|e| RegistryError::Address(e.to_string()))
        }),
        server: None,
    },
    Entry {
        name: "h2://HOST:PORT",
        help: "an HTTP/2 server over TLS with ALPN h2 (rustls; --insecure takes a test certificate), one connection per trace",
        only: "a server is reached by HTTP/2 over it",
        deviations: &[],
        captures: true,
        tcp: None,
        h2: Some(|hostport| {
            crate::h2::NetH2::tls(hostport, INSECURE_TLS.load(Ordering::Relaxed))
                .map(|t| Box::new(t) as Box<dyn H2Target>)
                .map_err(|e| RegistryError::Address(e.to_string()))
        }),
        server: None,
    },
    Entry {
        name: "h2exec:COMMAND",
        help: "any HTTP/2 implementation behind an adapter process (see README.md)",
        only: "the h2exec adapter protocol carries HTTP/2 connections only (exec:COMMAND is TCP's)",
        deviations: &[],
        captures: true,
        tcp: None,
        h2: Some(|command| {
            if command.trim().is_empty() {
                return Err(RegistryError::Argument {
                    target: "h2exec:COMMAND",
                    why: "the command is empty",
                });
            }
            Ok(Box::new(crate::pcap::CapturedH2::new(Box::new(
                crate::h2::exec::H2ExecTarget::with_limits(
                    command,
                    adapter_timeout(crate::h2::exec::DEFAULT_TIMEOUT),
                    crate::h2::exec::MAX_LINE,
                ),
            ))))
        }),
        server: None,
    },
    Entry {
        name: "h2-client:COMMAND",
        help: "an HTTP/2 client program, started per trace against the harness as server on 127.0.0.1 ({url}, {addr}, {port} in COMMAND; see README.md)",
        only: "an HTTP/2 client program has no TCP target",
        deviations: &[],
        captures: true,
        tcp: None,
        h2: Some(|command| {
            if command.trim().is_empty() {
                return Err(RegistryError::Argument {
                    target: "h2-client:COMMAND",
                    why: "the command is empty",
                });
            }
            Ok(Box::new(crate::pcap::CapturedH2::new(Box::new(
                crate::h2::client::H2ClientTarget::new(command),
            ))))
        }),
        server: None,
    },
];

/// `--insecure`: the `h2://` target takes any certificate (a test
/// server's). Set before the target is opened.
pub static INSECURE_TLS: AtomicBool = AtomicBool::new(false);

/// `--adapter-timeout`: how long the exec and h2exec targets wait for an
/// adapter's answer, in milliseconds (0: their default, 5 s). Set before
/// the target is opened.
pub static ADAPTER_TIMEOUT_MS: AtomicU64 = AtomicU64::new(0);

fn adapter_timeout(default: std::time::Duration) -> std::time::Duration {
    match ADAPTER_TIMEOUT_MS.load(Ordering::Relaxed) {
        0 => default,
        ms => std::time::Duration::from_millis(ms),
    }
}

/// A real server (`h2::servers`), started for the whole corpus: one
/// server per replay, one connection per trace. It stops when the target
/// is dropped, or on Ctrl-C. Not installed, or not starting, it cannot run
/// on this machine (exit [`EXIT_UNAVAILABLE`], the reason on stderr).
fn open_server(kind: ServerKind) -> Result<Box<dyn H2Target>, RegistryError> {
    ServedH2::start(kind)
        .map(|t| Box::new(t) as Box<dyn H2Target>)
        .map_err(|e| RegistryError::Unavailable(e.to_string()))
}

#[cfg(target_os = "linux")]
fn open_linux(_: &str) -> Result<TcpRunner, RegistryError> {
    // A user namespace needs a process with one thread: first.
    crate::linux::prepare().map_err(|e| RegistryError::Unavailable(e.to_string()))?;
    Ok(TcpRunner::Corpus {
        name: "linux",
        run: crate::linux::run_linux_corpus,
    })
}

#[cfg(not(target_os = "linux"))]
fn open_linux(_: &str) -> Result<TcpRunner, RegistryError> {
    Err(RegistryError::Unavailable(
        "linux target: runs only on Linux".into(),
    ))
}

/// The exit code of a run whose target cannot run on this machine (one
/// line on stderr says why), distinct from 1 (a trace failed) and 2 (usage).
pub const EXIT_UNAVAILABLE: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{target}: unknown {} (known: {})", if *protocol == Protocol::H2 { "HTTP/2 target" } else { "target" }, known.join(", "))]
    Unknown {
        target: String,
        protocol: Protocol,
        known: Vec<&'static str>,
    },
    #[error("{target}: {only} ({} targets: {})", if *protocol == Protocol::H2 { "HTTP/2" } else { "TCP" }, known.join(", "))]
    WrongProtocol {
        target: String,
        only: &'static str,
        protocol: Protocol,
        known: Vec<&'static str>,
    },
    #[error("{target}: {why}")]
    Argument {
        target: &'static str,
        why: &'static str,
    },
    /// A network target's address that does not resolve or parse.
    #[error("{0}")]
    Address(String),
    /// The target cannot run on this machine (exit [`EXIT_UNAVAILABLE`]).
    #[error("{0}")]
    Unavailable(String),
}

/// The entry `spec` names, if it serves `protocol`. An unknown name, or
/// one of another protocol, is an error listing the targets of `protocol`.
pub fn lookup(spec: &str, protocol: Protocol) -> Result<&'static Entry, RegistryError> {
    match find(spec) {
        Some(e) if e.serves(protocol) => Ok(e),
        // Known, but for the other protocol: say why, and what it serves.
        Some(e) => Err(RegistryError::WrongProtocol {
            target: spec.to_string(),
            only: e.only,
            protocol,
            known: known(protocol),
        }),
        None => Err(RegistryError::Unknown {
            target: spec.to_string(),
            protocol,
            known: known(protocol),
        }),
    }
}

/// The names of the targets that serve `protocol`, in help's order.
fn known(protocol: Protocol) -> Vec<&'static str> {
    ENTRIES
        .iter()
        .filter(|e| e.serves(protocol))
        .map(|e| e.name)
        .collect()
}

/// The entry `spec` names, whatever it serves: `NAME` exactly, or
/// `NAME:ARGUMENT` for an entry that takes an argument.
pub fn find(spec: &str) -> Option<&'static Entry> {
    let key = spec.split(':').next().unwrap_or(spec);
    ENTRIES
        .iter()
        .find(|e| e.key() == key && (e.takes_argument() || e.name == spec))
}

/// Opens TCP target `spec` (`bundled`, `smoltcp`, `exec:COMMAND`, ...).
pub fn tcp(spec: &str) -> Result<TcpRunner, RegistryError> {
    match lookup(spec, Protocol::Tcp)?.open(spec, Protocol::Tcp)? {
        Opened::Tcp(t) => Ok(t),
        Opened::H2(_) => unreachable!("a TCP entry opens a TCP target"),
    }
}

/// Opens TCP target `spec` as one [`Target`] (not the linux corpus runner).
pub fn tcp_target(spec: &str) -> Result<Box<dyn Target>, RegistryError> {
    match tcp(spec)? {
        TcpRunner::Serial(t) => Ok(t),
        TcpRunner::Corpus { .. } => Err(RegistryError::Argument {
            target: "linux",
            why: "runs whole corpora only (registry::replay)",
        }),
        TcpRunner::Guest { .. } => Err(RegistryError::Argument {
            target: "uml:KERNEL",
            why: "runs whole corpora only, in its guest (registry::replay_in_guest)",
        }),
    }
}

/// Opens HTTP/2 target `spec` (`bundled`, `h2crate`).
pub fn h2(spec: &str) -> Result<Box<dyn H2Target>, RegistryError> {
    match lookup(spec, Protocol::H2)?.open(spec, Protocol::H2)? {
        Opened::H2(t) => Ok(t),
        Opened::Tcp(_) => unreachable!("an HTTP/2 entry opens an HTTP/2 target"),
    }
}

/// The help of `--target`: one line per target.
pub fn help() -> String {
    ENTRIES
        .iter()
        .map(|e| format!("`{}` ({}): {}", e.name, e.protocols().join(", "), e.help))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------- paths

/// Where the suite's own files are found when the current folder does not
/// hold them: `TRACEWRIGHT_HOME`, then the folders above the binary (a
/// build's `target/release/` lies in the checkout), then the checkout the
/// binary was built from (`cargo install --path .` copies only the
/// binary). They are read from disk rather than embedded, so `generate`
/// followed by `replay` replays the corpus just written, with no rebuild.
pub fn roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(home) = std::env::var_os("TRACEWRIGHT_HOME") {
        roots.push(PathBuf::from(home));
    }
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).take(4).map(Path::to_path_buf));
    }
    if let Some(checkout) = Path::new(env!("CARGO_MANIFEST_DIR")).parent() {
        roots.push(checkout.to_path_buf());
    }
    roots
}

/// `rel` (`traces/tcp`, `profiles/linux.yaml`) as the current folder has
/// it, or else in the first of [`roots`] that has it; as given when none
/// does (the error then names it as the user wrote it). Absolute paths
/// and paths that exist are returned as they are.
pub fn locate(rel: &Path) -> PathBuf {
    if rel.is_absolute() || rel.exists() {
        return rel.to_path_buf();
    }
    roots()
        .into_iter()
        .map(|r| r.join(rel))
        .find(|p| is_suite_file(p))
        .unwrap_or_else(|| rel.to_path_buf())
}

/// A path under a root that holds the suite (its `profiles/` beside its
/// `traces/`), so that a stray `traces/` above the binary is not taken.
fn is_suite_file(p: &Path) -> bool {
    p.exists()
        && p.ancestors()
            .any(|a| a.join("profiles").is_dir() && a.join("traces").is_dir())
}

// ---------------------------------------------------------------- profiles

#[derive(Debug, thiserror::Error)]
pub enum ProfileLookupError {
    #[error("{arg}: no such profile ({} does not exist)", path.display())]
    NotFound { arg: String, path: PathBuf },
    #[error(transparent)]
    Load(#[from] crate::profile::ProfileError),
}

/// A profile by name (`profiles/NAME.yaml`, or the built-in `rfc9293`) or
/// by path.
pub fn load_profile(arg: &str) -> Result<Profile, ProfileLookupError> {
    let looks_like_path = arg.contains('/') || arg.ends_with(".yaml") || arg.ends_with(".yml");
    let path = if looks_like_path {
        PathBuf::from(arg)
    } else {
        locate(&Path::new("profiles").join(format!("{arg}.yaml")))
    };
    if path.exists() {
        return Ok(Profile::load(&path)?);
    }
    if arg == "rfc9293" {
        return Ok(Profile::rfc9293());
    }
    Err(ProfileLookupError::NotFound {
        arg: arg.to_string(),
        path,
    })
}

// ---------------------------------------------------------------- replay

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("loading {}", dir.display())]
    Load {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: trace {id} was generated for profile {trace}, not {profile}: pass --profile {trace} or generate the corpus for {profile}", dir.display())]
    ProfileMismatch {
        dir: PathBuf,
        id: String,
        trace: String,
        profile: String,
    },
    #[error(transparent)]
    Deviations(#[from] crate::deviations::DeviationsError),
    #[error("{file}: lists deviations of target {listed}, not {target}")]
    DeviationsOfAnother {
        file: String,
        listed: String,
        target: String,
    },
    #[error("a User-Mode Linux guest replays its corpus itself (registry::replay_in_guest)")]
    InGuest,
    #[error("a {target} target cannot replay a {corpus} corpus")]
    WrongCorpus {
        target: &'static str,
        corpus: &'static str,
    },
}

/// A corpus of either protocol, loaded.
pub enum Loaded {
    Tcp(Corpus),
    H2(H2Corpus),
}

impl Loaded {
    /// How many traces loaded.
    pub fn len(&self) -> usize {
        match self {
            Loaded::Tcp(c) => c.traces.len(),
            Loaded::H2(c) => c.traces.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Loads the corpus of `suite` in `dir`; a TCP corpus must be `profile`'s
/// (its timers and retry counts are in the traces).
pub fn load(suite: Suite, dir: &Path, profile: &Profile) -> Result<Loaded, ReplayError> {
    let dir = &locate(dir);
    let load_err = |source| ReplayError::Load {
        dir: dir.to_path_buf(),
        source,
    };
    if suite == Suite::H2 {
        return crate::h2::load_h2_corpus(dir)
            .map(Loaded::H2)
            .map_err(load_err);
    }
    let corpus = crate::load::load_corpus(dir).map_err(load_err)?;
    if let Some(t) = corpus.traces.iter().find(|t| t.profile != profile.name) {
        return Err(ReplayError::ProfileMismatch {
            dir: dir.to_path_buf(),
            id: t.id.clone(),
            trace: t.profile.clone(),
            profile: profile.name.clone(),
        });
    }
    Ok(Loaded::Tcp(corpus))
}

/// The deviations list of a replay: `explicit` (`--deviations FILE`), or
/// the target's own for `suite` when `traces` is the profile's corpus of
/// that kind (the list describes that corpus; a corpus of one's own takes
/// `--deviations` or none), or none.
pub fn load_deviations(
    target: &str,
    suite: Suite,
    traces: &Path,
    profile: &Profile,
    explicit: Option<&Path>,
) -> Result<Option<Deviations>, ReplayError> {
    let own = find(target).and_then(|e| e.deviations.iter().find(|(s, _)| *s == suite));
    let path = match (explicit, own) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some((_, file))) if traces == suite.corpus(profile) => locate(Path::new(file)),
        (None, _) => return Ok(None),
    };
    let d = Deviations::load(&path)?;
    // One list may serve one implementation on several transports: the
    // h2 crate in-process (`h2crate`) and over a socket (`h2crate-server`).
    let of_target = d.target == target
        || target
            .strip_prefix(d.target.as_str())
            .is_some_and(|rest| rest.starts_with('-'));
    if explicit.is_none() && !of_target {
        return Err(ReplayError::DeviationsOfAnother {
            file: path.display().to_string(),
            listed: d.target,
            target: target.to_string(),
        });
    }
    Ok(Some(d))
}

/// `replay tcp|tcp-listener --target uml:KERNEL`: boots the guest, which
/// replays with `--target linux` and writes the report and JUnit itself;
/// the replay's exit code (as for `linux`, 3 when this machine cannot).
#[cfg(target_os = "linux")]
pub fn replay_in_guest(kernel: &str, args: &crate::linux::uml::ReplayArgs) -> u8 {
    crate::linux::uml::replay(kernel, args).unwrap_or_else(|e| {
        eprintln!("{e}");
        e.exit_code()
    })
}

/// Replays `corpus` against `target`: one report, with `deviations`
/// applied (the entries for the corpus's profile) and, with `capture`, one
/// pcap per trace in that directory (check [`Opened::check_capture`] first).
pub fn replay(
    corpus: &Loaded,
    target: &mut Opened,
    profile: &Profile,
    deviations: Option<Deviations>,
    capture: Option<&Path>,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, ReplayError> {
    let report = match (corpus, target) {
        (Loaded::Tcp(c), Opened::Tcp(TcpRunner::Serial(t))) => {
            crate::report::run_corpus_capturing(c, t.as_mut(), profile, capture, on_progress)
        }
        (Loaded::Tcp(c), Opened::Tcp(TcpRunner::Corpus { run, .. })) => {
            let report = run(c, profile, capture, on_progress);
            // A list read off several kernels names the ones an entry is
            // about: those of the running kernel apply.
            #[cfg(target_os = "linux")]
            let deviations = deviations.map(|d| d.for_kernel(&crate::linux::kernel_release()));
            return Ok(match deviations {
                Some(d) => {
                    let d = d.for_profile(&report.profile);
                    report.with_deviations(d)
                }
                None => report,
            });
        }
        (_, Opened::Tcp(TcpRunner::Guest { .. })) => return Err(ReplayError::InGuest),
        (Loaded::H2(c), Opened::H2(t)) => {
            let profile = c
                .coverage
                .as_ref()
                .map_or("rfc9113".to_string(), |c| c.profile.clone());
            crate::corpus::run(
                crate::trace::Protocol::H2,
                &profile,
                c.into(),
                &mut crate::corpus::H2Run {
                    target: t.as_mut(),
                    settings: crate::h2::H2Settings::MODEL,
                },
                capture,
                on_progress,
            )
        }
        (Loaded::Tcp(_), Opened::H2(_)) => {
            return Err(ReplayError::WrongCorpus {
                target: "HTTP/2",
                corpus: "TCP",
            })
        }
        (Loaded::H2(_), Opened::Tcp(_)) => {
            return Err(ReplayError::WrongCorpus {
                target: "TCP",
                corpus: "HTTP/2",
            })
        }
    };
    Ok(match deviations {
        Some(d) => {
            let for_corpus = d.for_profile(&report.profile);
            report.with_deviations(for_corpus)
        }
        None => report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_list_the_targets_of_the_protocol() {
        let e = lookup("nope", Protocol::Tcp).err().unwrap().to_string();
        assert_eq!(
            e,
            "nope: unknown target (known: bundled, smoltcp, linux, uml:KERNEL, exec:COMMAND)"
        );
        let e = lookup("smoltcp", Protocol::H2).err().unwrap().to_string();
        assert_eq!(
            e,
            "smoltcp: smoltcp has no HTTP/2 (HTTP/2 targets: bundled, h2crate, h2crate-server, h2crate-client, h2c://HOST:PORT, h2://HOST:PORT, nghttpd, nginx, h2o, apache, h2exec:COMMAND, h2-client:COMMAND)"
        );
        // A name that takes no argument is not matched with one.
        assert!(lookup("bundled:x", Protocol::Tcp).is_err());
        assert_eq!(
            lookup("exec:./a b", Protocol::Tcp).unwrap().name,
            "exec:COMMAND"
        );
    }

    /// A URL's scheme picks the network entries; the rest is the address.
    #[test]
    fn urls_pick_the_network_targets() {
        assert_eq!(
            lookup("h2c://127.0.0.1:8080", Protocol::H2).unwrap().name,
            "h2c://HOST:PORT"
        );
        assert_eq!(
            lookup("h2://127.0.0.1:8443", Protocol::H2).unwrap().name,
            "h2://HOST:PORT"
        );
        assert!(lookup("h2c://127.0.0.1:8080", Protocol::Tcp).is_err());
        assert_eq!(
            h2("h2c://127.0.0.1:8080").unwrap().name(),
            "h2c://127.0.0.1:8080"
        );
        let e = h2("h2c://127.0.0.1").err().unwrap().to_string();
        assert_eq!(e, "`127.0.0.1` is not HOST:PORT");
    }

    #[test]
    fn exec_needs_a_command() {
        let e = tcp("exec:  ").err().unwrap().to_string();
        assert_eq!(e, "exec:COMMAND: the command is empty");
    }

    #[test]
    fn corpora_follow_the_profile_name() {
        let mut p = Profile::rfc9293();
        assert_eq!(Suite::Tcp.corpus(&p), Path::new("traces/tcp"));
        assert_eq!(Suite::Listener.corpus(&p), Path::new("traces/tcp-listener"));
        p.name = "linux".into();
        assert_eq!(Suite::Tcp.corpus(&p), Path::new("traces/tcp-linux"));
        assert_eq!(
            Suite::Listener.corpus(&p),
            Path::new("traces/tcp-listener-linux")
        );
        assert_eq!(Suite::H2.corpus(&p), Path::new("traces/h2"));
    }

    #[test]
    fn own_deviations_only_for_the_profiles_corpus_of_their_kind() {
        let p = Profile::rfc9293();
        let none = |suite, dir: &str| {
            load_deviations("smoltcp", suite, Path::new(dir), &p, None)
                .unwrap()
                .is_none()
        };
        // The listener corpus and a corpus of one's own take none by default.
        assert!(none(Suite::Listener, "traces/tcp-listener"));
        assert!(none(Suite::Tcp, "/tmp/elsewhere"));
        assert!(none(Suite::H2, "traces/h2"));
    }

    #[test]
    fn capture_is_the_targets_to_refuse() {
        // Every target captures now: the ones without a wire of their own
        // through the harness (pcap::CapturedTcp, pcap::CapturedH2).
        assert!(ENTRIES.iter().all(|e| e.captures));
        // Each real server is a target, from its row.
        for s in servers::SERVERS {
            let e = find(s.name).unwrap();
            assert_eq!(e.server, Some(s));
            assert_eq!(e.deviations, [(Suite::H2, s.deviations)]);
        }
        let mut linux_like = Opened::Tcp(TcpRunner::Corpus {
            name: "linux",
            run: |_, _, _, _| unreachable!(),
        });
        assert!(linux_like.check_capture().is_ok());
        // Not the ones that start a server or enter a namespace on open.
        for e in ENTRIES
            .iter()
            .filter(|e| e.name != "linux" && e.server.is_none())
        {
            let p = if e.serves(Protocol::Tcp) {
                Protocol::Tcp
            } else {
                Protocol::H2
            };
            let spec = e
                .name
                .replace("HOST:PORT", "127.0.0.1:9")
                .replace("COMMAND", "true")
                .replace("KERNEL", "6.1");
            let mut t = e.open(&spec, p).unwrap();
            assert!(t.check_capture().is_ok(), "{}", e.name);
        }
    }
}
