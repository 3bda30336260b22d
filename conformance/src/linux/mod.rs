//! The `linux` target: the running kernel's TCP, reached through a TUN
//! device inside a network namespace the suite makes for each trace.
//!
//! One worker thread replays one trace at a time. For each trace it moves
//! itself into a fresh network namespace (`unshare(CLONE_NEWNET)` affects
//! only the calling thread), sets the namespace's TCP sysctls from the
//! profile, makes a TUN device with the IUT's address (RFC 5737), and makes
//! the application's socket calls from that same thread, so that they land
//! in the namespace. The harness reads and writes raw IPv4 packets on the
//! TUN fd ([`crate::wire`]). No namespace is named, so none outlives the
//! process, whatever ends it.
//!
//! The clock is real: a `wait` really waits, and the kernel's timers are
//! checked within [`TOLERANCE`]. Where Linux departs from the profile on
//! purpose, the target says so rather than bending the trace:
//! TIME-WAIT lasts `TCP_TIMEWAIT_LEN` (60 s), not 2·MSL
//! ([`LinuxTarget::resolve_wait`]); the initial RTO of a SYN is fixed at
//! 1 s (`TCP_TIMEOUT_INIT`), so a profile with another one is unsupported.

mod netns;
mod proc_tcp;
pub mod uml;

use std::cmp::Reverse;
use std::marker::PhantomData;
use std::net::SocketAddrV4;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::corpus::run_parallel;
use crate::load::Corpus;
use crate::profile::Profile;
use crate::replay::replay;
use crate::report::Report;
use crate::target::{Clock, Segment, Target, TargetError, HARNESS_PORT, IUT_PORT};
use crate::trace::{AppCall, Protocol, Role, Step, TcpState, Trace, Wait};
use crate::wire::{decode_ipv4, encode_ipv4, HARNESS_ADDR, IUT_ADDR};

pub use netns::SetupError;

/// How far a kernel timer may be from the trace's time and still count.
/// Scheduling takes well under the first 250 ms; the other 250 ms are the
/// timer wheel's rounding: a kernel timer of 2–16 s fires up to 64 jiffies
/// late (256 ms at HZ=250), never early.
pub const TOLERANCE: Duration = Duration::from_millis(500);

/// Linux's TIME-WAIT: `TCP_TIMEWAIT_LEN` (include/net/tcp.h), whatever the MSL.
pub const TIME_WAIT_LEN: Duration = Duration::from_secs(60);

/// Linux's initial RTO of a SYN or SYN-ACK: `TCP_TIMEOUT_INIT`.
const TIMEOUT_INIT_MS: u64 = 1000;

/// After the harness or the application acts, the kernel has answered by
/// the time the call returns (a packet written to a TUN device is processed
/// in the writer's own syscall); this much silence more confirms it.
const GRACE: Duration = Duration::from_millis(10);

/// The size of the connection hash table of the namespaces we make.
const CHILD_EHASH: &str = "128";

/// How many traces run at once: enough that the corpus takes about as long
/// as its longest trace (the TIME-WAIT ones), few enough to be kind to a
/// small machine. The longest traces start first.
pub const WORKERS: usize = 48;

/// `--jobs`: how many traces run at once instead of [`WORKERS`] (0: that).
pub static JOBS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The exit code of the CLI when the machine cannot make a namespace:
/// "unsupported here", distinct from a failed run (1) and a usage error (2).
pub const EXIT_UNAVAILABLE: u8 = 3;

/// Why the kernel target cannot run on this machine, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("linux target: cannot create a network namespace with a TUN device: {0}")]
pub struct Unavailable(pub String);

pub struct LinuxTarget {
    tun: Option<OwnedFd>,
    listener: Option<OwnedFd>,
    conn: Option<OwnedFd>,
    /// The application has had a connection since its last `listen` or
    /// `connect`: once that connection is gone, the IUT is CLOSED, though
    /// its listener stays open (see `try_accept`).
    had_conn: bool,
    role: Role,
    /// What the listener corpus's application accepted.
    accepted: Vec<OwnedFd>,
    /// `listen()`'s backlog: the profile's accept queue in the listener
    /// corpus (see `open`).
    backlog: i32,
    /// Bytes the application has read on the current connection.
    delivered: u64,
    /// Whether the thread is in a namespace this target made (see `setup`).
    in_own_netns: bool,
    /// The namespace belongs to the thread that made it: a target must stay
    /// on its thread (not `Send`).
    _thread_bound: PhantomData<*const ()>,
    /// `--capture`: every packet written to and read from the TUN device,
    /// stamped from `open`.
    capture_to: Option<std::path::PathBuf>,
    pcap: Option<(crate::pcap::PcapFile, Instant)>,
}

impl Default for LinuxTarget {
    fn default() -> Self {
        Self::new()
    }
}

impl LinuxTarget {
    /// A target for the calling thread; each `open` makes a new namespace.
    pub fn new() -> Self {
        LinuxTarget {
            tun: None,
            listener: None,
            conn: None,
            had_conn: false,
            role: Role::Server,
            backlog: 8,
            accepted: Vec::new(),
            delivered: 0,
            in_own_netns: false,
            _thread_bound: PhantomData,
            capture_to: None,
            pcap: None,
        }
    }

    /// A packet that crossed the TUN device, into the capture if any. A
    /// capture that cannot be written stops; the trace goes on.
    fn captured(&mut self, packet: &[u8]) {
        if let Some((file, opened)) = &mut self.pcap {
            if file.packet(opened.elapsed(), packet).is_err() {
                self.pcap = None;
            }
        }
    }

    fn tun(&self) -> Result<&OwnedFd, TargetError> {
        self.tun
            .as_ref()
            .ok_or_else(|| TargetError::Broken("no namespace: open() was not called".into()))
    }

    /// The namespace for one trace: sysctls, TUN device, addresses, route.
    fn setup(&mut self, profile: &Profile, retries2: u32) -> Result<(), SetupError> {
        // One namespace is made at a time: making one costs the kernel some
        // CPU and locks, and many at once would slow the harness of the
        // traces already running, whose answers would then come late enough
        // to inflate the kernel's RTT samples (and so its RTO).
        static SETUP: Mutex<()> = Mutex::new(());
        let _one_at_a_time = SETUP.lock().unwrap_or_else(|e| e.into_inner());
        // A namespace made from the host's shares the host's established-
        // connection hash table (262144 buckets here), and reading
        // /proc/net/tcp walks all of it: 9 ms a read instead of 0.3 ms, which
        // the harness's answers would add to the kernel's RTT samples. A
        // namespace made from one of ours gets a table of its own
        // (tcp_child_ehash_entries); the first one of a thread is only the
        // parent of the next.
        if !self.in_own_netns {
            netns::enter_new_netns()?;
            netns::sysctl("net/ipv4/tcp_child_ehash_entries", CHILD_EHASH, true)?;
            self.in_own_netns = true;
        }
        netns::enter_new_netns()?;
        let rto_min_us = (profile.initial_rto_ms * 1000).to_string();
        let settings: [(&str, String, bool); 20] = [
            ("net/ipv4/tcp_child_ehash_entries", CHILD_EHASH.into(), true),
            // The profile's retry limits: counted for SYN and SYN-ACK …
            (
                "net/ipv4/tcp_syn_retries",
                profile.syn_retries.to_string(),
                false,
            ),
            (
                "net/ipv4/tcp_synack_retries",
                profile.synack_retries.to_string(),
                false,
            ),
            // … and as a time budget for data and FIN (see `retries2_for`).
            ("net/ipv4/tcp_retries2", retries2.to_string(), false),
            // SYNs back off exponentially from the first retry (RFC 6298 §5.5),
            // not after 4 linear ones (Linux ≥ 6.5's default).
            ("net/ipv4/tcp_syn_linear_timeouts", "0".into(), true),
            ("net/ipv4/tcp_rto_min_us", rto_min_us, true),
            // SYN cookies when the half-open queue is full (RFC 4987 §3.6),
            // as the profile says; a kernel built without CONFIG_SYN_COOKIES
            // (UML's defconfig) has neither the sysctl nor the cookies.
            (
                "net/ipv4/tcp_syncookies",
                u8::from(profile.syn_cookies).to_string(),
                true,
            ),
            // RFC 1337 as the profile says.
            (
                "net/ipv4/tcp_rfc1337",
                u8::from(profile.rfc1337).to_string(),
                false,
            ),
            // What the traces do not model and would change the segments:
            // no options the harness would have to answer, no tail-loss probe
            // or RACK timer before the RTO, no pacing (reno, not bbr), no
            // rate limit on ACKs to out-of-window segments, no autocorking.
            ("net/ipv4/tcp_timestamps", "0".into(), false),
            ("net/ipv4/tcp_sack", "0".into(), false),
            ("net/ipv4/tcp_window_scaling", "0".into(), false),
            ("net/ipv4/tcp_ecn", "0".into(), false),
            ("net/ipv4/tcp_early_retrans", "0".into(), false),
            ("net/ipv4/tcp_recovery", "0".into(), true),
            ("net/ipv4/tcp_congestion_control", "reno".into(), false),
            ("net/ipv4/tcp_invalid_ratelimit", "0".into(), false),
            ("net/ipv4/tcp_autocorking", "0".into(), false),
            // A retransmission resends what the segment carried: Linux
            // would otherwise merge queued data and FIN into one (FPA).
            ("net/ipv4/tcp_retrans_collapse", "0".into(), false),
            ("net/ipv4/tcp_no_metrics_save", "1".into(), false),
            // No IPv6 router solicitations or MLD reports on the TUN device.
            ("net/ipv6/conf/default/disable_ipv6", "1".into(), true),
        ];
        for (path, value, optional) in &settings {
            netns::sysctl(path, value, *optional)?;
        }
        netns::configure_if(c"lo", None)?;
        let tun = netns::open_tun()?;
        let index = netns::configure_if(netns::TUN_NAME, Some((IUT_ADDR, 24)))?;
        netns::add_host_route(HARNESS_ADDR, index, profile.initial_rto_ms as u32)?;
        self.tun = Some(tun);
        Ok(())
    }

    /// The kernel's packets waiting on the TUN device, stamped `since`.
    fn read_packets(
        &mut self,
        since: Instant,
        out: &mut Vec<(Duration, Segment)>,
    ) -> Result<(), TargetError> {
        let fd = self.tun()?.as_raw_fd();
        let mut buf = [0u8; 65536];
        loop {
            // SAFETY: buf is valid for buf.len() bytes.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                return match e.kind() {
                    std::io::ErrorKind::WouldBlock => Ok(()),
                    std::io::ErrorKind::Interrupted => continue,
                    _ => Err(TargetError::Broken(format!("reading the TUN device: {e}"))),
                };
            }
            self.captured(&buf[..n as usize]);
            // Anything but TCP over IPv4 is not the IUT talking to us.
            if let Ok(d) = decode_ipv4(&buf[..n as usize]) {
                out.push((since.elapsed(), d.segment));
            }
        }
    }

    /// Waits until the TUN device is readable or `until`; true if readable.
    fn wait_readable(&self, until: Instant) -> Result<bool, TargetError> {
        let fd = self.tun()?.as_raw_fd();
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            let ts = libc::timespec {
                tv_sec: left.as_secs() as libc::time_t,
                tv_nsec: left.subsec_nanos() as libc::c_long,
            };
            // SAFETY: one valid pollfd, a valid timespec, no signal mask.
            let rc = unsafe { libc::ppoll(&mut p, 1, &ts, std::ptr::null()) };
            if rc < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(TargetError::Broken(format!(
                    "waiting on the TUN device: {e}"
                )));
            }
            return Ok(rc > 0);
        }
    }

    /// A listener's connection, once the handshake completed, is accepted:
    /// the application's calls go to it from then on. The listener stays
    /// open, as a server application keeps its listening socket: Linux
    /// reopens a TIME-WAIT connection by a new SYN only through a listener
    /// (`TCP_TW_SYN` in `tcp_v4_rcv`), which the profile's
    /// `time_wait_reopen` describes. A connection accepted while an older
    /// one is held is the older one's next incarnation (a reopened
    /// TIME-WAIT): the application's calls and its count move to it.
    fn try_accept(&mut self) {
        // The listener corpus keeps its connections in the accept queue
        // until its application calls accept(), which this target does not
        // offer yet: nothing is accepted behind its back.
        if self.role == Role::Listener {
            return;
        }
        let Some(l) = &self.listener else { return };
        // SAFETY: accept4 with null address pointers; on success we own the fd.
        let fd = unsafe {
            libc::accept4(
                l.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        if fd >= 0 {
            if self.conn.is_some() {
                self.delivered = 0;
            }
            // SAFETY: fd is fresh and ours.
            self.conn = Some(unsafe { OwnedFd::from_raw_fd(fd) });
            self.had_conn = true;
        }
    }

    /// The IUT's state: its connection's, and CLOSED once the connection
    /// the application had is gone, though the listener is still open
    /// (RFC 9293's TCB of that connection is deleted; a server's listening
    /// socket is not the connection). In the listener corpus, the
    /// listener's own.
    fn iut_state(&self) -> Option<TcpState> {
        if self.role == Role::Listener {
            return proc_tcp::read_listener();
        }
        match proc_tcp::read() {
            Some(TcpState::Listen) if self.had_conn => Some(TcpState::Closed),
            s => s,
        }
    }

    /// Reads what the connection's socket holds into the count. Only a
    /// `delivered` step (and an abort, which would discard it) reads: a
    /// trace without one sees the kernel as before. A 1-byte read frees
    /// too little buffer for Linux to send a window update
    /// (`tcp_cleanup_rbuf` waits for the window to double).
    fn read(&mut self) {
        let Some(c) = &self.conn else { return };
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: buf is valid for buf.len() bytes.
            let n = unsafe {
                libc::recv(
                    c.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 {
                self.delivered += n as u64;
                continue;
            }
            // 0: the peer's FIN, all read. An error: nothing to read now
            // (EAGAIN), not connected yet, or reset (what came before the
            // RST was read first).
            if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
    }

    /// The socket the application's calls go to.
    fn socket_of_app(&mut self) -> Option<OwnedFd> {
        self.conn.take().or_else(|| self.listener.take())
    }
}

fn setsockopt_int(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> std::io::Result<()> {
    // SAFETY: an int option, passed by pointer with its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(a.ip().octets()),
        },
        sin_zero: [0; 8],
    }
}

/// connect() from `s` to the harness's address; its return value (the
/// error, if any, in errno).
fn connect_to_harness(s: &OwnedFd) -> libc::c_int {
    let a = sockaddr(SocketAddrV4::new(HARNESS_ADDR, HARNESS_PORT));
    // SAFETY: a valid sockaddr_in and its size, on our own socket.
    unsafe {
        libc::connect(
            s.as_raw_fd(),
            (&a as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    }
}

/// A nonblocking TCP socket of the namespace bound to the IUT's address and
/// port, with Nagle off (the traces send each call's bytes at once). `None`
/// when the bind is refused (the port is taken: the IUT's answer).
fn iut_socket() -> Result<Option<OwnedFd>, TargetError> {
    let s = netns::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0)
        .map_err(|e| TargetError::Broken(format!("socket(): {e}")))?;
    setsockopt_int(&s, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)
        .map_err(|e| TargetError::Broken(format!("TCP_NODELAY: {e}")))?;
    // A second incarnation binds the port again while the first may sit in
    // TIME-WAIT (whether the kernel then lets it connect is its answer).
    setsockopt_int(&s, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)
        .map_err(|e| TargetError::Broken(format!("SO_REUSEADDR: {e}")))?;
    let a = sockaddr(SocketAddrV4::new(IUT_ADDR, IUT_PORT));
    // SAFETY: a valid sockaddr_in and its size.
    let rc = unsafe {
        libc::bind(
            s.as_raw_fd(),
            (&a as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    Ok((rc == 0).then_some(s))
}

/// `tcp_retries2` for the profile's `retries`. Linux does not count data
/// retransmissions; at each retransmission timer after the first it gives
/// up once the time since the first retransmission reaches what `retries2`
/// retransmissions would take from a 200 ms RTO (`TCP_RTO_MIN`, in
/// `retransmits_timed_out()`): (2^(retries2+1) − 1) · 200 ms. With the
/// profile's RTO the k-th retransmission leaves at RTO · (2^k − 1), so the
/// budget must lie between the time of the last allowed retransmission and
/// the timer after it (both counted from the first); we take the one
/// nearest the middle.
pub fn retries2_for(p: &Profile) -> Result<u32, String> {
    if p.retries == 0 {
        // `retransmits_timed_out()` is false before the first retransmission.
        return Err("Linux retransmits data or a FIN at least once before giving up".into());
    }
    let at = |k: u32| p.initial_rto_ms * ((1u64 << k) - 1);
    let last = at(p.retries) - at(1);
    let give_up = at(p.retries + 1) - at(1);
    let budget = |b: u32| ((2u64 << b) - 1) * 200;
    // Clear of either end by an eighth of the interval: more than an RTT
    // sample adds to the RTO and than the timer wheel's rounding.
    let margin = (give_up - last) / 8;
    let middle = (last + give_up) / 2;
    (0..=9)
        .filter(|&b| budget(b) >= last + margin && budget(b) + margin <= give_up)
        .min_by_key(|&b| budget(b).abs_diff(middle))
        .ok_or_else(|| {
            format!(
                "no tcp_retries2 gives up after exactly {} retransmissions with a {} ms RTO",
                p.retries, p.initial_rto_ms
            )
        })
}

impl Target for LinuxTarget {
    fn name(&self) -> &str {
        "linux"
    }

    fn clock(&self) -> Clock {
        Clock::Real {
            tolerance: TOLERANCE,
        }
    }

    /// TIME-WAIT lasts `TCP_TIMEWAIT_LEN`, not the profile's 2·MSL, plus
    /// the timer wheel's rounding of a 60 s timer (up to 1/8 late, never
    /// early), so that the wait ends after the kernel's timer has fired.
    fn resolve_wait(&self, w: Wait, profile: &Profile) -> Duration {
        match w {
            Wait::TwoMsl => TIME_WAIT_LEN + TIME_WAIT_LEN / 8,
            // Kernel timers are never early: TIME-WAIT is still there the
            // clock's tolerance before TCP_TIMEWAIT_LEN, and gone once the
            // rest of the rounded wait has passed.
            Wait::BeforeTwoMsl => TIME_WAIT_LEN - TOLERANCE,
            Wait::AfterTwoMsl => TIME_WAIT_LEN / 8 + TOLERANCE,
            // The half that passes before a FIN restarts TIME-WAIT.
            Wait::HalfTwoMsl => TIME_WAIT_LEN / 2,
            // A give-up's deadline from both sides, as TIME-WAIT's: the
            // state check after it waits the timer wheel's slack too
            // (`timer_slack` of the whole timeout).
            Wait::BeforeRto(n) => profile.resolve(Wait::Rto(n)).saturating_sub(TOLERANCE),
            Wait::AfterRto(_) => TOLERANCE,
            _ => profile.resolve(w),
        }
    }

    /// The timer wheel (kernel/time/timer.c) files a timer in the level
    /// whose granularity suits its timeout and rounds its expiry up to that
    /// granularity: 8^n jiffies at level n, which holds timeouts from
    /// 63·8^(n-1) jiffies, so at most 8/63 of the timeout late. A SYN-ACK
    /// retransmission due after 32 s may come 2 s late at HZ=250.
    fn timer_slack(&self, wait: Duration) -> Duration {
        wait * 8 / 63
    }

    fn open(&mut self, role: Role, profile: &Profile) -> Result<(), TargetError> {
        self.close();
        self.role = role;
        self.delivered = 0;
        // Linux queues one connection more than listen() asks for:
        // sk_acceptq_is_full() (include/net/sock.h) tests
        // `sk_ack_backlog > sk_max_ack_backlog`. The listener corpus's
        // queue is the profile's, so ask for one fewer.
        self.backlog = match role {
            Role::Listener => {
                i32::try_from(profile.accept_backlog).map_or(i32::MAX, |b| (b - 1).max(0))
            }
            _ => 8,
        };
        if profile.initial_rto_ms != TIMEOUT_INIT_MS {
            return Err(TargetError::Unsupported(format!(
                "Linux's initial RTO of a SYN is fixed at {TIMEOUT_INIT_MS} ms (TCP_TIMEOUT_INIT); profile {} has {} ms",
                profile.name, profile.initial_rto_ms
            )));
        }
        let retries2 = retries2_for(profile).map_err(TargetError::Unsupported)?;
        if let Some(path) = &self.capture_to {
            let file = crate::pcap::PcapFile::create(path)
                .map_err(|e| TargetError::Broken(format!("creating {}: {e}", path.display())))?;
            self.pcap = Some((file, Instant::now()));
        }
        self.setup(profile, retries2)
            .map_err(|e| TargetError::Broken(format!("setting up the namespace: {e}")))
    }

    fn app(&mut self, call: &AppCall) -> Result<(), TargetError> {
        if matches!(
            call,
            AppCall::Send(_)
                | AppCall::Close
                | AppCall::Abort
                | AppCall::CloseUnread
                | AppCall::ShutdownRead
        ) && self.conn.is_none()
            && self.listener.is_some()
            && proc_tcp::read() == Some(TcpState::SynReceived)
        {
            // Closing the listener would drop the half-open connection
            // silently: that is not the IUT answering this call.
            return Err(TargetError::Unsupported(format!(
                "{call} on a passive connection in SYN-RECEIVED: the sockets API has no handle on it before accept(), which waits for the handshake's ACK"
            )));
        }
        if *call == AppCall::ShutdownRead && proc_tcp::read() == Some(TcpState::TimeWait) {
            // The application's socket is CLOSED once its connection is in
            // a timewait sock: shutdown() fails with ENOTCONN there.
            return Err(TargetError::Unsupported(
                "shutdown read in TIME-WAIT: the sockets API has no handle on Linux's timewait sock"
                    .into(),
            ));
        }
        if *call == AppCall::Abort && proc_tcp::read() == Some(TcpState::TimeWait) {
            // TIME-WAIT lives in a timewait sock the sockets API has no
            // handle on: the application's socket is already CLOSED, and
            // closing it (SO_LINGER 0 or not) leaves TIME-WAIT as it is.
            return Err(TargetError::Unsupported(
                "abort in TIME-WAIT: the sockets API has no handle on Linux's timewait sock".into(),
            ));
        }
        if matches!(call, AppCall::Listen | AppCall::Connect)
            && (self.conn.is_some() || self.listener.is_some())
            && matches!(self.iut_state(), None | Some(TcpState::Closed))
        {
            // The last connection is over: the application opens a new one
            // (a second incarnation), on a new socket for `connect`; a
            // server's listener, still open, takes the next one.
            self.conn = None;
            self.had_conn = false;
            if *call == AppCall::Connect {
                self.listener = None;
            }
        }
        if matches!(call, AppCall::Listen | AppCall::Connect) {
            // A new connection: what the application reads starts afresh
            // (also when the kernel refuses the call, as for the bundled
            // target).
            self.delivered = 0;
        }
        // A call the kernel refuses (EISCONN, ENOTCONN, EADDRINUSE, …) is
        // the IUT's answer, not a broken target: the trace then sees what
        // the IUT emits, or that it emits nothing.
        match call {
            AppCall::Accept => {
                let Some(l) = &self.listener else {
                    return Err(TargetError::Broken("accept() before listen()".into()));
                };
                // SAFETY: accept4 with null address pointers; on success we
                // own the fd. An empty queue (EAGAIN) is the IUT's answer.
                let fd = unsafe {
                    libc::accept4(
                        l.as_raw_fd(),
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                        libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                    )
                };
                if fd >= 0 {
                    // SAFETY: fd is fresh and ours. Held open, as an
                    // application holds what it accepted, until `close`.
                    self.accepted.push(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
            AppCall::Listen => {
                if self.listener.is_some() && self.conn.is_none() {
                    // Listening already (the socket stayed open): nothing to do.
                } else if self.conn.is_none() && self.listener.is_none() {
                    if let Some(s) = iut_socket()? {
                        // SAFETY: plain syscall on our socket.
                        if unsafe { libc::listen(s.as_raw_fd(), self.backlog) } == 0 {
                            self.listener = Some(s);
                        }
                    }
                }
            }
            AppCall::Connect => {
                if self.conn.is_none() {
                    if let Some(s) = iut_socket()? {
                        // Nonblocking: EINPROGRESS once the SYN is out.
                        connect_to_harness(&s);
                        self.conn = Some(s);
                        self.had_conn = true;
                    }
                }
            }
            AppCall::Send(n) => {
                if let Some(c) = &self.conn {
                    let data: Vec<u8> = (0..*n).map(|k| b'A' + (k % 26) as u8).collect();
                    // SAFETY: data is valid for its length.
                    unsafe {
                        libc::send(
                            c.as_raw_fd(),
                            data.as_ptr().cast(),
                            data.len(),
                            libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
                        )
                    };
                }
            }
            AppCall::Close => {
                // CLOSE is "no more data from me" (RFC 9293 §3.10.4): a
                // half-close, the application may still receive, so
                // shutdown(SHUT_WR), not close() — close() would also
                // shut reading, and Linux resets a connection whose reader
                // is gone when data arrives. Before a connection exists
                // (LISTEN, SYN-SENT) CLOSE deletes the TCB: close().
                let synchronized = !matches!(
                    proc_tcp::read(),
                    Some(TcpState::SynSent | TcpState::Listen | TcpState::Closed)
                );
                match &self.conn {
                    Some(c) if synchronized => {
                        // SAFETY: plain syscall on our socket.
                        unsafe { libc::shutdown(c.as_raw_fd(), libc::SHUT_WR) };
                    }
                    _ => drop(self.socket_of_app()),
                }
            }
            AppCall::Abort => {
                // ABORT (RFC 9293 §3.10.5): SO_LINGER with a zero timeout
                // makes close() send a RST and drop the connection. What
                // the application had received is counted first.
                self.read();
                if let Some(s) = self.socket_of_app() {
                    let l = libc::linger {
                        l_onoff: 1,
                        l_linger: 0,
                    };
                    // SAFETY: a struct linger by pointer with its size.
                    unsafe {
                        libc::setsockopt(
                            s.as_raw_fd(),
                            libc::SOL_SOCKET,
                            libc::SO_LINGER,
                            (&l as *const libc::linger).cast(),
                            std::mem::size_of::<libc::linger>() as libc::socklen_t,
                        )
                    };
                    drop(s);
                }
            }
            AppCall::CloseUnread => {
                // close() while what came is unread: the half-duplex CLOSE
                // of RFC 9293 §3.6.1 (the application can read no more).
                // Nothing is read first.
                drop(self.socket_of_app());
            }
            AppCall::ShutdownRead => {
                if let Some(c) = &self.conn {
                    // SAFETY: plain syscall on our socket.
                    unsafe { libc::shutdown(c.as_raw_fd(), libc::SHUT_RD) };
                }
            }
        }
        Ok(())
    }

    /// An OPEN on the pair the connection holds, on a socket of its own
    /// bound to the IUT's port (`SO_REUSEADDR`, as a second incarnation's):
    /// the kernel refuses it at `bind()` (`EADDRINUSE`) or at `connect()`
    /// (`EADDRNOTAVAIL` from `__inet_check_established` while a socket,
    /// TIME-WAIT included, holds the four-tuple; `EADDRINUSE`, `EISCONN`).
    /// The connection's own socket is left as it is.
    fn try_app(&mut self, call: &AppCall) -> Result<Option<String>, TargetError> {
        if !matches!(call, AppCall::Connect | AppCall::Listen) {
            return self.app(call).map(|()| None);
        }
        self.tun()?;
        let Some(s) = iut_socket()? else {
            return Ok(Some("bind(): EADDRINUSE".into()));
        };
        let rc = if *call == AppCall::Connect {
            connect_to_harness(&s)
        } else {
            // SAFETY: plain syscall on our socket.
            unsafe { libc::listen(s.as_raw_fd(), self.backlog) }
        };
        let err = std::io::Error::last_os_error();
        if rc == 0 || err.raw_os_error() == Some(libc::EINPROGRESS) {
            // Taken: the new socket is dropped (the trace fails here).
            return Ok(None);
        }
        match err.raw_os_error() {
            Some(libc::EADDRNOTAVAIL | libc::EADDRINUSE | libc::EISCONN | libc::EALREADY) => {
                Ok(Some(format!("{call}(): {err}")))
            }
            _ => Err(TargetError::Broken(format!("{call}(): {err}"))),
        }
    }

    fn deliver(&mut self, seg: Segment) -> Result<(), TargetError> {
        let packet = encode_ipv4(&seg, HARNESS_ADDR, IUT_ADDR, None);
        self.captured(&packet);
        let fd = self.tun()?.as_raw_fd();
        // SAFETY: packet is valid for its length.
        let n = unsafe { libc::write(fd, packet.as_ptr().cast(), packet.len()) };
        if n != packet.len() as isize {
            return Err(TargetError::Broken(format!(
                "writing to the TUN device: {}",
                std::io::Error::last_os_error()
            )));
        }
        self.try_accept();
        Ok(())
    }

    fn advance(&mut self, d: Duration) -> Result<Vec<(Duration, Segment)>, TargetError> {
        let start = Instant::now();
        let end = start + d;
        let mut out = Vec::new();
        loop {
            self.read_packets(start, &mut out)?;
            if Instant::now() >= end {
                return Ok(out);
            }
            self.wait_readable(end)?;
        }
    }

    fn poll(&mut self) -> Result<Vec<Segment>, TargetError> {
        let start = Instant::now();
        let mut out = Vec::new();
        // Until GRACE passes with nothing more from the kernel.
        loop {
            self.read_packets(start, &mut out)?;
            if !self.wait_readable(Instant::now() + GRACE)? {
                break;
            }
        }
        self.try_accept();
        Ok(out.into_iter().map(|(_, s)| s).collect())
    }

    fn state(&mut self) -> Option<TcpState> {
        self.iut_state()
    }

    /// What the application can read, read. A passive connection not yet
    /// accepted is accepted if the handshake is done, as after every
    /// `deliver` and `poll`; one in SYN-RECEIVED holds nothing readable: 0.
    /// `open`, `listen`, `connect` and a connection accepted after a SYN
    /// reopened TIME-WAIT start the count afresh.
    fn delivered(&mut self) -> Result<Option<u64>, TargetError> {
        if self.role == Role::Listener {
            return Ok(None);
        }
        self.tun()?;
        self.try_accept();
        self.read();
        Ok(Some(self.delivered))
    }

    fn close(&mut self) {
        self.conn = None;
        self.had_conn = false;
        self.accepted.clear();
        self.listener = None;
        self.tun = None;
        self.pcap = None;
    }

    fn capture(&mut self, path: Option<&std::path::Path>) -> Result<(), TargetError> {
        self.capture_to = path.map(std::path::Path::to_path_buf);
        Ok(())
    }
}

/// How long a trace takes on this target, roughly: its waits.
fn estimate(trace: &Trace, target: &LinuxTarget, profile: &Profile) -> Duration {
    trace
        .steps
        .iter()
        .map(|s| match s {
            Step::Wait(w) => target.resolve_wait(*w, profile),
            _ => GRACE,
        })
        .sum()
}

/// Checks, before any worker starts, that this process can make a network
/// namespace with a TUN device. Without the privilege, it moves the process
/// into a user namespace of its own where it has it; that needs a process
/// with one thread, so call this first, from `main`'s thread.
pub fn prepare() -> Result<(), Unavailable> {
    let first = match probe() {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    if !first.is_permission() {
        return Err(Unavailable(first.to_string()));
    }
    let hint = "needs CAP_SYS_ADMIN and CAP_NET_ADMIN (root), or unprivileged user namespaces and a /dev/net/tun the user may open";
    match enter_user_namespace() {
        Ok(()) => probe().map_err(|e| {
            Unavailable(format!(
                "{first}; in a user namespace of its own: {e} ({hint})"
            ))
        }),
        Err(e) => Err(Unavailable(format!(
            "{first}; no user namespace either: {e} ({hint})"
        ))),
    }
}

/// Makes a namespace and a TUN device on a thread of its own, then lets
/// both go.
fn probe() -> Result<(), SetupError> {
    std::thread::spawn(|| {
        netns::enter_new_netns()?;
        netns::sysctl("net/ipv4/tcp_syn_retries", "2", false)?;
        netns::open_tun().map(drop)
    })
    .join()
    .unwrap_or_else(|_| {
        Err(SetupError {
            what: "the probe thread".into(),
            err: std::io::Error::other("panicked"),
        })
    })
}

/// Moves the whole process into a new user namespace, as root of it mapped
/// to the caller's uid and gid.
fn enter_user_namespace() -> Result<(), SetupError> {
    // SAFETY: getters without arguments.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    // unshare(CLONE_NEWUSER) refuses a process with other threads (EINVAL);
    // the probe thread may take a moment to be gone after it was joined.
    let mut tries = 0;
    loop {
        // SAFETY: flags only.
        if unsafe { libc::unshare(libc::CLONE_NEWUSER) } == 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        tries += 1;
        if err.raw_os_error() != Some(libc::EINVAL) || tries == 50 {
            let what = if err.raw_os_error() == Some(libc::EINVAL) {
                "unshare(CLONE_NEWUSER) (the process has other threads)"
            } else {
                "unshare(CLONE_NEWUSER)"
            };
            return Err(SetupError {
                what: what.into(),
                err,
            });
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let write = |file: &str, text: String| {
        std::fs::write(file, &text).map_err(|err| SetupError {
            what: format!("writing {text:?} to {file}"),
            err,
        })
    };
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("0 {uid} 1"))?;
    write("/proc/self/gid_map", format!("0 {gid} 1"))
}

/// The running kernel's release (`uname -r`), for the deviations that name
/// the kernels they apply to.
pub fn kernel_release() -> String {
    // SAFETY: uname fills the struct it is given.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    // SAFETY: uname NUL-terminates release.
    unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// Replays a corpus against the kernel, [`WORKERS`] traces at a time, each
/// in a namespace of its own on a thread of its own; progress is reported
/// as traces finish. Call [`prepare`] first.
pub fn run_linux_corpus(
    corpus: &Corpus,
    profile: &Profile,
    capture: Option<&std::path::Path>,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Report {
    let mut order: Vec<usize> = (0..corpus.traces.len()).collect();
    let probe = LinuxTarget::new();
    order.sort_by_key(|&i| Reverse(estimate(&corpus.traces[i], &probe, profile)));
    run_parallel(
        Protocol::Tcp,
        "linux",
        &profile.name,
        corpus.into(),
        match JOBS.load(std::sync::atomic::Ordering::Relaxed) {
            0 => WORKERS,
            n => n,
        },
        &order,
        &|| {
            let mut target = LinuxTarget::new();
            Box::new(move |trace: &Trace| {
                let to = capture.map(|dir| dir.join(format!("{}.pcap", trace.id)));
                let _ = target.capture(to.as_deref());
                replay(trace, &mut target, profile)
            })
        },
        on_progress,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries2_gives_up_after_the_profiles_retransmissions() {
        let p = Profile::rfc9293();
        // 1 s RTO: retransmissions at 1 s and 3 s, giving up at 7 s, that
        // is 2 s and 6 s after the first; Linux's budget for 3 is
        // 15 · 200 ms = 3 s.
        assert_eq!(retries2_for(&p), Ok(3));
        let one = Profile {
            retries: 1,
            ..Profile::rfc9293()
        };
        // At 1 s, giving up at 3 s, 2 s after it: 3 · 200 ms or 7 · 200 ms.
        assert_eq!(retries2_for(&one), Ok(1));
        // Linux retransmits once before it looks at the budget.
        let never = Profile {
            retries: 0,
            ..Profile::rfc9293()
        };
        assert!(retries2_for(&never).is_err());
    }

    #[test]
    fn twice_msl_is_linuxs_time_wait_and_the_rest_is_the_profiles() {
        let t = LinuxTarget::new();
        let p = Profile::rfc9293();
        assert_eq!(
            t.resolve_wait(Wait::TwoMsl, &p),
            Duration::from_millis(67_500)
        );
        assert_eq!(t.resolve_wait(Wait::Rto(2), &p), Duration::from_secs(4));
    }

    /// Sysctls written from a namespaced thread are that namespace's: the
    /// host's stay as they were.
    #[test]
    fn sysctls_are_per_namespace() {
        if let Err(e) = prepare() {
            eprintln!("skipped: {e}");
            return;
        }
        let key = "net/ipv4/tcp_syn_retries";
        let host = netns::read_sysctl(key).unwrap();
        let other = if host == "3" { "4" } else { "3" };
        let inside = std::thread::spawn(move || {
            netns::enter_new_netns().unwrap();
            netns::sysctl(key, other, false).unwrap();
            (other, netns::read_sysctl(key).unwrap())
        })
        .join()
        .unwrap();
        assert_eq!(inside.0, inside.1);
        assert_eq!(netns::read_sysctl(key).unwrap(), host);
    }
}
