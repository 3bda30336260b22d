//! Real HTTP/2 servers, run by the suite: nghttpd, nginx, h2o and Apache
//! httpd, each serving h2c with prior knowledge (RFC 9113 §3.3) on a
//! loopback port. Debian packages them all; `conformance/servers/install.sh`
//! installs them (CI calls it). None is started by an init system here: the
//! suite writes each server's config into a fresh temporary directory,
//! starts it on an ephemeral port, and stops it when the [`RunningServer`]
//! is dropped.
//!
//! The directory holds everything the server writes (config, document
//! root, error log, pid file, temp paths), so a run touches nothing
//! outside it and leaves nothing behind. The document root's index (what
//! the harness's `GET /` asks for) and `/large` are [`LARGE_LEN`] bytes,
//! larger than any window the harness opens (RFC 9113 §6.9.2: 65,535 by
//! default), so an answer waits on flow control as the model's
//! application data does; `/small` is a short file for a check by hand.
//! Each server is configured to push [`PUSHED_PATH`] with its answer to
//! [`PUSH_PATH`] (both as large), which the harness asks on the streams
//! a trace has the IUT push on (RFC 9113 §8.4; `net/answers.rs`).
//!
//! Each server runs in a process group of its own, so that stopping it
//! takes its workers too (SIGTERM to the group, SIGKILL after a grace
//! period). Being its own group also means a terminal's Ctrl-C does not
//! reach it: [`start`] therefore installs, once per process, a handler
//! for SIGINT, SIGTERM and SIGHUP (signal-hook, on a thread of its own,
//! composing with any other handler) that kills every server still
//! running, removes their directories and then lets the signal take its
//! default course, so the process ends as it would have without us.
//!
//! Their first SETTINGS (RFC 9113 §6.5.2), as read off the Debian 12
//! packages by `tests/h2_servers.rs`, differ from each other and from the
//! model's, so nothing may assume ours: see each row of [`SERVERS`].

use std::fmt;
use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use crate::h2::net::{Push, ServerApp};
use crate::h2::{H2App, H2Settings, H2Target, StreamState};
use crate::target::{Clock, TargetError};
use crate::trace::Role;

/// The small file's body (`/small`).
pub const SMALL_BODY: &[u8] = b"tracewright\n";

/// The path whose answer comes with a push, where the suite configures
/// each server to push ([`Push`]); a body of [`LARGE_LEN`] bytes.
pub const PUSH_PATH: &str = "/push";

/// The path each server pushes with its answer to [`PUSH_PATH`]; a body of
/// [`LARGE_LEN`] bytes.
pub const PUSHED_PATH: &str = "/pushed";

/// The large body's length (`/`, `/index.html` and `/large`): 1 MiB,
/// sixteen times the default initial window of 65,535 (RFC 9113 §6.9.2),
/// so DATA waits on WINDOW_UPDATE.
pub const LARGE_LEN: usize = 1 << 20;

/// How long a server has to accept its first connection.
const START_DEADLINE: Duration = Duration::from_secs(10);

/// How long a server has to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How many ports to try when another process takes ours between our
/// probe and the server's bind.
const PORT_ATTEMPTS: usize = 5;

/// The script that installs every server.
pub const INSTALL_SCRIPT: &str = "conformance/servers/install.sh";

/// The real HTTP/2 servers the suite can run, one row each: adding a
/// server is adding a row (README.md, "Adding a server"). The registry
/// makes a target of each (`--target NAME`), with the row's deviations
/// list.
pub static SERVERS: &[Server] = &[
    Server {
        name: "nghttpd",
        product: "nghttpd",
        title: "nghttpd",
        binary: "nghttpd",
        package: "nghttp2-server",
        deviations: "conformance/deviations/nghttpd.yaml",
        // nghttp2 1.52.
        announces: Announced {
            max_concurrent_streams: Some(100),
            initial_window_size: None,
            max_frame_size: None,
        },
        app: ServerApp {
            // nghttpd answers in on_request_recv, called on END_STREAM
            // (src/HttpServer.cc, hd_on_frame_recv_callback).
            answers_at_headers: false,
            body_len: LARGE_LEN as u64,
            resets_second_header_block: false,
            // nghttpd answers, and pushes, in prepare_response, from
            // on_request_recv on END_STREAM (src/HttpServer.cc;
            // Http2Handler::submit_push_promise before the response).
            push: Some(Push {
                path: PUSH_PATH,
                promises: PUSHED_PATH,
                body_len: LARGE_LEN as u64,
                how: "`--push=/push=/pushed`, nghttpd(1): it pushes once the request for /push ended",
            }),
        },
        config: nghttpd_config,
    },
    Server {
        name: "nginx",
        product: "nginx",
        title: "nginx",
        binary: "nginx",
        package: "nginx-light",
        deviations: "conformance/deviations/nginx.yaml",
        // nginx 1.22.
        announces: Announced {
            max_concurrent_streams: Some(128),
            initial_window_size: Some(65_536),
            max_frame_size: Some(16_777_215),
        },
        app: ServerApp {
            // nginx runs a request's handler once its header block is in
            // (src/http/v2/ngx_http_v2.c, ngx_http_v2_state_header_complete
            // -> ngx_http_v2_run_request); the static handler discards a
            // body it does not need.
            answers_at_headers: true,
            body_len: LARGE_LEN as u64,
            resets_second_header_block: false,
            // ngx_http_v2_push_resources runs in the header filter
            // (src/http/v2/ngx_http_v2_filter_module.c), before the
            // answer's HEADERS, as soon as the handler answers.
            push: Some(Push {
                path: PUSH_PATH,
                promises: PUSHED_PATH,
                body_len: LARGE_LEN as u64,
                how: "`http2_push /pushed;` in `location = /push`, https://nginx.org/en/docs/http/ngx_http_v2_module.html#http2_push (nginx 1.22; removed in 1.25.1)",
            }),
        },
        config: nginx_config,
    },
    Server {
        name: "h2o",
        product: "h2o",
        title: "h2o",
        binary: "h2o",
        package: "h2o",
        deviations: "conformance/deviations/h2o.yaml",
        // h2o 2.2.5.
        announces: Announced {
            max_concurrent_streams: Some(100),
            initial_window_size: Some(16_777_216),
            max_frame_size: None,
        },
        app: ServerApp {
            // h2o 2.2 buffers a request's body before its file handler
            // runs (lib/http2/connection.c, handle_incoming_request /
            // execute_or_enqueue_request).
            answers_at_headers: false,
            body_len: LARGE_LEN as u64,
            resets_second_header_block: false,
            // h2o 2.2 pushes what a `link: <…>; rel=preload` header names
            // where a handler hands one to h2o_push_path_in_link_header
            // (lib/core/request.c): proxy, fastcgi and mruby, not a header
            // added to a static file (`header.add` pushes nothing). An
            // mruby handler returning 399 with the header, then the file
            // handler: lib/handler/mruby.c -> lib/http2/connection.c,
            // push_path.
            push: Some(Push {
                path: PUSH_PATH,
                promises: PUSHED_PATH,
                body_len: LARGE_LEN as u64,
                how: "an mruby handler on path /push returning 399 with `link: </pushed>; rel=preload` (http2-push-preload, https://h2o.examp1e.net/configure/http2_directives.html#http2-push-preload)",
            }),
        },
        config: h2o_config,
    },
    Server {
        name: "apache",
        product: "Apache httpd",
        title: "Apache httpd with mod_http2",
        binary: "apache2",
        package: "apache2",
        deviations: "conformance/deviations/apache.yaml",
        // Apache 2.4 with mod_mpm_event and mod_http2 2.0.
        announces: Announced {
            max_concurrent_streams: Some(100),
            initial_window_size: None,
            max_frame_size: None,
        },
        app: ServerApp {
            // mod_http2 schedules a request for a worker when its headers
            // end (h2_stream.c, h2_stream_end_headers; h2_session.c,
            // on_end_headers), the body streaming in after.
            answers_at_headers: true,
            body_len: LARGE_LEN as u64,
            // h2_stream.c resets it with INTERNAL_ERROR (apache.yaml); on
            // the header-block traces that reset raced nghttp2's GOAWAY.
            resets_second_header_block: true,
            // mod_http2 submits a response's pushes before its HEADERS
            // (h2_session.c, on_stream_output -> h2_stream_submit_pushes).
            push: Some(Push {
                path: PUSH_PATH,
                promises: PUSHED_PATH,
                body_len: LARGE_LEN as u64,
                how: "`H2Push on` and `H2PushResource /pushed` in `<Location /push>`, https://httpd.apache.org/docs/2.4/mod/mod_http2.html#h2pushresource",
            }),
        },
        config: apache_config,
    },
];

/// A real HTTP/2 server the suite can run: a row of [`SERVERS`].
pub type ServerKind = &'static Server;

/// Everything the suite knows of one server.
pub struct Server {
    /// The target's name (`--target NAME`), and the server's in reports
    /// (never its port, which changes every run).
    pub name: &'static str,
    /// What it is, in a sentence (`Apache httpd`).
    pub product: &'static str,
    /// What the target's help calls it (`Apache httpd with mod_http2`).
    pub title: &'static str,
    /// The executable, found in `PATH` or the sbin directories.
    pub binary: &'static str,
    /// The Debian package that has it (`conformance/servers/install.sh`).
    pub package: &'static str,
    /// Its deviations list.
    pub deviations: &'static str,
    /// Its first SETTINGS (RFC 9113 §6.5.2), as read off the Debian 12
    /// package; `tests/h2_servers.rs` checks them.
    pub announces: Announced,
    /// How the trace's application calls map onto what it does with the
    /// harness's requests ([`ServerApp`], `net/answers.rs`). Read off each
    /// server by the replay: an answer that comes at another moment shows
    /// as a verdict that varies between runs.
    pub app: ServerApp,
    /// Writes its config into [`Setup::dir`] and returns the command that
    /// runs it in the foreground on [`Setup::port`].
    pub config: fn(&Setup<'_>) -> io::Result<Command>,
}

/// The SETTINGS a server announces first (`None`: not sent, the RFC 9113
/// §6.5.2 default holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Announced {
    pub max_concurrent_streams: Option<u32>,
    pub initial_window_size: Option<u32>,
    pub max_frame_size: Option<u32>,
}

/// What a server's config writer gets.
pub struct Setup<'a> {
    /// The executable found.
    pub binary: &'a Path,
    /// The server's own fresh directory: config, `www/` (the document
    /// root), logs, pid file.
    pub dir: &'a Path,
    /// The loopback port to listen on (127.0.0.1).
    pub port: u16,
}

impl Server {
    /// The row named `name`.
    pub fn named(name: &str) -> Option<ServerKind> {
        SERVERS.iter().find(|s| s.name == name)
    }

    /// As the registry names it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The executable's path, looked up in `PATH` and then the sbin
    /// directories (Debian puts nghttpd, nginx and apache2 there, which a
    /// user's `PATH` may lack).
    pub fn find(&'static self) -> Result<PathBuf, ServerError> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
            .map(|dir| dir.join(self.binary))
            .find(|p| {
                p.metadata()
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
            .ok_or(ServerError::NotInstalled { kind: self })
    }
}

impl PartialEq for Server {
    fn eq(&self, other: &Server) -> bool {
        self.name == other.name
    }
}

impl Eq for Server {}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "{kind}: `{}` is not installed; install the Debian package {} (apt-get install {}, or run {INSTALL_SCRIPT} as root)",
        kind.binary, kind.package, kind.package
    )]
    NotInstalled { kind: ServerKind },
    #[error("{kind}: {what}: {source}")]
    Io {
        kind: ServerKind,
        what: String,
        source: io::Error,
    },
    #[error("{kind}: exited while starting ({status}); its log:\n{log}")]
    Exited {
        kind: ServerKind,
        status: String,
        log: String,
    },
    #[error("{kind}: accepted no connection on {addr} within {START_DEADLINE:?}; its log:\n{log}")]
    NotListening {
        kind: ServerKind,
        addr: SocketAddr,
        log: String,
    },
}

/// A server the suite started: stopped, with its directory removed, on
/// drop.
pub struct RunningServer {
    pub kind: ServerKind,
    /// Where it serves h2c with prior knowledge.
    pub addr: SocketAddr,
    /// Its config, document root, log and pid file.
    pub dir: PathBuf,
    child: Child,
}

impl RunningServer {
    /// The server's process id (also its process group's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to its error log and to stderr so far.
    pub fn log(&self) -> String {
        read_log(&self.dir)
    }
}

impl fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningServer")
            .field("kind", &self.kind)
            .field("addr", &self.addr)
            .field("dir", &self.dir)
            .field("pid", &self.child.id())
            .finish()
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        stop_group(&mut self.child);
        remove_dir(&self.dir);
    }
}

/// Starts a `kind` server on an ephemeral loopback port and waits until it
/// accepts a connection.
pub fn start(kind: ServerKind) -> Result<RunningServer, ServerError> {
    let binary = kind.find()?;
    install_signal_handler();
    let mut last = None;
    for _ in 0..PORT_ATTEMPTS {
        match start_once(kind, &binary) {
            Ok(s) => return Ok(s),
            // Most likely another process bound the port between our
            // probe and the server: try another one.
            Err(e @ ServerError::Exited { .. }) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.expect("at least one attempt"))
}

fn start_once(kind: ServerKind, binary: &Path) -> Result<RunningServer, ServerError> {
    let io = |what: &str| {
        let what = what.to_string();
        move |source| ServerError::Io { kind, what, source }
    };
    let dir = make_dir(kind).map_err(io("creating its directory"))?;
    // From now on an interrupt removes it too.
    lock_dirs().push(dir.clone());
    let result = (|| {
        write_docroot(&dir.join("www")).map_err(io("writing its document root"))?;
        let port = free_port().map_err(io("picking a loopback port"))?;
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        let setup = Setup {
            binary,
            dir: &dir,
            port,
        };
        let mut cmd = (kind.config)(&setup).map_err(io("writing its config"))?;
        let stderr = fs::File::create(dir.join("stderr")).map_err(io("creating its stderr"))?;
        cmd.stdin(Stdio::null())
            .stdout(stderr.try_clone().map_err(io("creating its stdout"))?)
            .stderr(stderr)
            .current_dir(&dir)
            // A group of its own: the workers are stopped with it.
            .process_group(0);
        let child = cmd
            .spawn()
            .map_err(io(&format!("starting {}", binary.display())))?;
        remember(child.id(), &dir);
        let mut server = RunningServer {
            kind,
            addr,
            dir: dir.clone(),
            child,
        };
        wait_accepting(&mut server)?;
        Ok(server)
    })();
    if result.is_err() {
        // A started server's drop removed it already.
        remove_dir(&dir);
    }
    result
}

fn wait_accepting(server: &mut RunningServer) -> Result<(), ServerError> {
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if exited(server.child.id()) {
            let status = server
                .child
                .try_wait()
                .ok()
                .flatten()
                .map_or_else(|| "exited".to_string(), |s| s.to_string());
            return Err(ServerError::Exited {
                kind: server.kind,
                status,
                log: server.log(),
            });
        }
        if TcpStream::connect_timeout(&server.addr, Duration::from_millis(100)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(ServerError::NotListening {
                kind: server.kind,
                addr: server.addr,
                log: server.log(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A port no one listens on now: the kernel's pick for 127.0.0.1:0,
/// released for the server to bind.
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// A fresh directory under the system's temp dir, readable by the
/// unprivileged users that workers may switch to (Apache's www-data).
fn make_dir(kind: ServerKind) -> io::Result<PathBuf> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "tracewright-{}-{}-{n}",
            kind.name,
            std::process::id()
        ));
        match fs::create_dir(&dir) {
            Ok(()) => {
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

fn write_docroot(www: &Path) -> io::Result<()> {
    fs::create_dir(www)?;
    fs::set_permissions(www, fs::Permissions::from_mode(0o755))?;
    fs::write(www.join("small"), SMALL_BODY)?;
    // Not all one byte, so a body that arrives shifted is visible.
    let large: Vec<u8> = (0..LARGE_LEN).map(|i| b'a' + (i % 26) as u8).collect();
    fs::write(www.join("index.html"), &large)?;
    // PUSH_PATH and PUSHED_PATH.
    fs::write(www.join("push"), &large)?;
    fs::write(www.join("pushed"), &large)?;
    fs::write(www.join("large"), large)?;
    Ok(())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// nghttpd: no config file, flags only; without --daemon it stays in the
/// foreground.
fn nghttpd_config(s: &Setup<'_>) -> io::Result<Command> {
    let mut cmd = Command::new(s.binary);
    cmd.arg("--no-tls")
        .arg("-d")
        .arg(s.dir.join("www"))
        .arg("--address=127.0.0.1")
        .arg(format!("--push={PUSH_PATH}={PUSHED_PATH}"))
        .arg(s.port.to_string());
    Ok(cmd)
}

/// nginx: h2c with prior knowledge on the port.
fn nginx_config(s: &Setup<'_>) -> io::Result<Command> {
    let (d, port, dir) = (s.dir.display(), s.port, s.dir);
    // `listen … http2` is how 1.22 asks for HTTP/2 (without TLS: prior
    // knowledge only); 1.25 deprecated it for `http2 on;`.
    let (listen, http2, push) = if nginx_has_http2_directive(s.binary) {
        // 1.25.1 removed server push: no `http2_push` to configure.
        ("", "    http2 on;\n", String::new())
    } else {
        (
            " http2",
            "",
            format!("        location = {PUSH_PATH} {{ http2_push {PUSHED_PATH}; }}\n"),
        )
    };
    let user = if is_root() { "user root;\n" } else { "" };
    let conf = format!(
        "{user}daemon off;\n\
         master_process on;\n\
         worker_processes 1;\n\
         pid {d}/nginx.pid;\n\
         error_log {d}/error.log info;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
         \x20   access_log off;\n\
         \x20   types {{ text/html html; }}\n\
         \x20   default_type application/octet-stream;\n\
         \x20   client_body_temp_path {d}/body;\n\
         \x20   proxy_temp_path {d}/proxy;\n\
         \x20   server {{\n\
         \x20       listen 127.0.0.1:{port}{listen};\n\
         {http2}\
         \x20       root {d}/www;\n\
         {push}\
         \x20   }}\n\
         }}\n"
    );
    fs::write(dir.join("nginx.conf"), conf)?;
    let mut cmd = Command::new(s.binary);
    // -e: the log nginx opens before it has read the config (Debian's
    // default is stderr, but a build may name /var/log).
    cmd.arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"));
    Ok(cmd)
}

/// h2o: h2c with prior knowledge on any plain listener.
fn h2o_config(s: &Setup<'_>) -> io::Result<Command> {
    let (d, port) = (s.dir.display(), s.port);
    // As root h2o refuses to run unless told which user: root, as it would
    // otherwise drop to `nobody`, who cannot write the pid file here.
    let user = if is_root() { "user: root\n" } else { "" };
    let conf = format!(
        "{user}listen:\n\
         \x20 host: 127.0.0.1\n\
         \x20 port: {port}\n\
         pid-file: {d}/h2o.pid\n\
         error-log: {d}/error.log\n\
         num-threads: 1\n\
         hosts:\n\
         \x20 default:\n\
         \x20   paths:\n\
         \x20     {PUSH_PATH}:\n\
         \x20       mruby.handler: |\n\
         \x20         Proc.new do |env| [399, {{ \"link\" => \"<{PUSHED_PATH}>; rel=preload\" }}, []] end\n\
         \x20       file.file: {d}/www/push\n\
         \x20     /:\n\
         \x20       file.dir: {d}/www\n"
    );
    fs::write(s.dir.join("h2o.conf"), conf)?;
    let mut cmd = Command::new(s.binary);
    cmd.arg("-c").arg(s.dir.join("h2o.conf"));
    Ok(cmd)
}

/// Apache httpd: mod_http2 with `Protocols h2c http/1.1` and `H2Direct on`
/// (prior knowledge), the event MPM, one process.
fn apache_config(s: &Setup<'_>) -> io::Result<Command> {
    let (d, port, dir) = (s.dir.display(), s.port, s.dir);
    let modules = "/usr/lib/apache2/modules";
    let user = if is_root() {
        "User ${APACHE_RUN_USER}\nGroup ${APACHE_RUN_GROUP}\n"
    } else {
        ""
    };
    let conf = format!(
        "ServerRoot {d}\n\
         ServerName localhost\n\
         Listen 127.0.0.1:{port}\n\
         PidFile {d}/apache2.pid\n\
         ErrorLog {d}/error.log\n\
         DefaultRuntimeDir {d}\n\
         Mutex file:{d} default\n\
         {user}\
         LoadModule mpm_event_module {modules}/mod_mpm_event.so\n\
         LoadModule http2_module {modules}/mod_http2.so\n\
         LoadModule mime_module {modules}/mod_mime.so\n\
         LoadModule dir_module {modules}/mod_dir.so\n\
         LoadModule authz_core_module {modules}/mod_authz_core.so\n\
         StartServers 1\n\
         ServerLimit 1\n\
         ThreadsPerChild 16\n\
         MaxRequestWorkers 16\n\
         TypesConfig /etc/mime.types\n\
         Protocols h2c http/1.1\n\
         H2Direct on\n\
         DocumentRoot {d}/www\n\
         DirectoryIndex index.html\n\
         <Directory {d}/www>\n\
         \x20   Require all granted\n\
         </Directory>\n\
         H2Push on\n\
         <Location {PUSH_PATH}>\n\
         \x20   H2PushResource {PUSHED_PATH}\n\
         </Location>\n"
    );
    fs::write(dir.join("apache2.conf"), conf)?;
    let mut cmd = Command::new(s.binary);
    cmd.arg("-f")
        .arg(dir.join("apache2.conf"))
        .arg("-DFOREGROUND");
    // What apache2ctl sets from /etc/apache2/envvars, pointed at our
    // directory.
    cmd.env("APACHE_RUN_USER", "www-data")
        .env("APACHE_RUN_GROUP", "www-data")
        .env("APACHE_PID_FILE", dir.join("apache2.pid"))
        .env("APACHE_RUN_DIR", dir)
        .env("APACHE_LOCK_DIR", dir)
        .env("APACHE_LOG_DIR", dir)
        .env("APACHE_CONFDIR", dir)
        .env("LANG", "C");
    Ok(cmd)
}

/// Whether this nginx takes `http2 on;` (1.25.1 and later).
fn nginx_has_http2_directive(binary: &Path) -> bool {
    let Ok(out) = Command::new(binary).arg("-v").output() else {
        return false;
    };
    // `nginx version: nginx/1.22.1`, on stderr.
    nginx_version_has_http2_directive(&String::from_utf8_lossy(&out.stderr))
}

fn nginx_version_has_http2_directive(text: &str) -> bool {
    let Some(version) = text.split('/').nth(1) else {
        return false;
    };
    let parts: Vec<u32> = version
        .split_whitespace()
        .next()
        .unwrap_or("")
        .split('.')
        .map_while(|p| p.parse().ok())
        .collect();
    parts.as_slice() >= [1, 25, 1].as_slice()
}

fn read_log(dir: &Path) -> String {
    ["error.log", "stderr"]
        .iter()
        .filter_map(|f| fs::read_to_string(dir.join(f)).ok())
        .collect::<Vec<_>>()
        .join("")
}

/// Whether process `pid` (our child) has exited, without reaping it: while
/// it is a zombie its group still exists, so a SIGKILL to the group cannot
/// reach a stranger that took the number.
fn exited(pid: u32) -> bool {
    // SAFETY: a zeroed siginfo_t is valid; waitid writes into it.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        // ECHILD: already reaped.
        r != 0 || info.si_pid() != 0
    }
}

/// SIGTERM to the group, SIGKILL to what is left after [`STOP_GRACE`] (or
/// once the leader is gone: a worker it left behind), then reaps the leader.
fn stop_group(child: &mut Child) {
    let group = child.id() as libc::pid_t;
    // SAFETY: signals to the process group we made at spawn, whose leader
    // we have not reaped yet (so the group id is still ours).
    unsafe { libc::killpg(group, libc::SIGTERM) };
    let deadline = Instant::now() + STOP_GRACE;
    while !exited(child.id()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: as above; the leader is at most a zombie.
    unsafe { libc::killpg(group, libc::SIGKILL) };
    // Before the reap, which frees the group id: the signal handler must
    // not signal it after that.
    forget(child.id());
    let _ = child.wait();
    // A worker the leader left (h2o's) dies of the SIGKILL and is reaped by
    // init, a moment later: wait for that, so that no process of ours
    // outlives the drop. Signal 0 only asks.
    let deadline = Instant::now() + STOP_GRACE;
    // SAFETY: signal 0 sends nothing.
    while unsafe { libc::killpg(group, 0) } == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The servers running now, for the signal handler: (pid, directory).
static RUNNING: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());

fn remember(pid: u32, dir: &Path) {
    lock_running().push((pid, dir.to_path_buf()));
}

fn forget(pid: u32) {
    lock_running().retain(|(p, _)| *p != pid);
}

fn lock_running() -> std::sync::MutexGuard<'static, Vec<(u32, PathBuf)>> {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The servers' directories not removed yet, for the signal handler. Kept
/// apart from [`RUNNING`]: a server's drop forgets its pid before it reaps
/// it, and an interrupt that comes while the drop still stops the server
/// or removes its directory must not leave the directory behind when the
/// process dies.
static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn lock_dirs() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    DIRS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes a server's directory, also while another thread removes it
/// (the drop and the signal handler) or the server's last writes land in
/// it: until it is gone, within [`STOP_GRACE`].
fn remove_dir(dir: &Path) {
    let deadline = Instant::now() + STOP_GRACE;
    while dir.exists() && Instant::now() < deadline {
        if fs::remove_dir_all(dir).is_err() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    lock_dirs().retain(|d| d != dir);
}

/// Kills every server still running (its group) and removes every
/// directory left, without a grace period.
fn stop_all() {
    let running: Vec<_> = lock_running().drain(..).collect();
    for (pid, _) in &running {
        // SAFETY: the group of a server we started and have not reaped
        // (reaping happens after `forget`).
        unsafe { libc::killpg(*pid as libc::pid_t, libc::SIGKILL) };
    }
    // Each leader dead before we go (init reaps them after).
    let deadline = Instant::now() + STOP_GRACE;
    for (pid, _) in &running {
        while !exited(*pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let dirs: Vec<PathBuf> = lock_dirs().clone();
    for dir in &dirs {
        remove_dir(dir);
    }
}

extern "C" fn stop_all_at_exit() {
    stop_all();
}

/// SIGINT, SIGTERM, SIGHUP: stop every server, then die of the signal.
fn install_signal_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            // Without the handler, servers still stop on every normal exit
            // and unwind; an interrupted run may leave one behind.
            return;
        };
        // The CLI also takes SIGINT (to write the report of the traces
        // done) and may exit while the thread below still works: whatever
        // is left then is stopped and removed on the way out.
        // SAFETY: registers a plain function, once.
        unsafe { libc::atexit(stop_all_at_exit) };
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                // Not waiting for a graceful exit: the user wants out now.
                stop_all();
                // The process ends as the signal would have ended it.
                let _ = signal_hook::low_level::emulate_default_handler(sig);
                std::process::exit(128 + sig);
            }
        });
    });
}

/// A server the suite runs, as an HTTP/2 target: the server lives as long
/// as the target (one server for the whole corpus), and every trace is one
/// h2c connection to it, made by the network target it delegates to.
///
/// It delegates every method of [`H2Target`]; one added to the trait must
/// be delegated here too, or the default would answer for the server.
pub struct ServedH2 {
    inner: Box<dyn H2Target>,
    // Dropped after `inner`, which may still hold a connection to it.
    server: RunningServer,
}

impl ServedH2 {
    /// Starts a `kind` server and connects the network target to it.
    pub fn start(kind: ServerKind) -> Result<ServedH2, ServerError> {
        let server = start(kind)?;
        Ok(ServedH2 {
            inner: ServedH2::connect(server.addr, kind),
            server,
        })
    }

    /// The network target for `addr`: HTTP/2 with prior knowledge, the
    /// trace's application calls mapped onto the server's answers, and
    /// named by the server's kind (its port changes every run).
    fn connect(addr: SocketAddr, kind: ServerKind) -> Box<dyn H2Target> {
        match crate::h2::NetH2::cleartext(&addr.to_string()) {
            Ok(t) => Box::new(t.with_app(kind.app).named(kind.name)),
            // A SocketAddr always parses as HOST:PORT.
            Err(e) => panic!("h2c://{addr}: {e}"),
        }
    }

    pub fn server(&self) -> &RunningServer {
        &self.server
    }
}

impl H2Target for ServedH2 {
    /// The server's kind, not its address: the port changes every run and
    /// the reports must not.
    fn name(&self) -> &str {
        self.server.kind.name
    }
    fn clock(&self) -> Clock {
        self.inner.clock()
    }
    fn open(&mut self, role: Role, settings: &H2Settings) -> Result<(), TargetError> {
        self.inner.open(role, settings)
    }
    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        self.inner.app(call)
    }
    fn deliver(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.inner.deliver(bytes)
    }
    fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
        self.inner.poll()
    }
    fn advance(&mut self, d: Duration) -> Result<Vec<u8>, TargetError> {
        self.inner.advance(d)
    }
    fn stream_state(&mut self, stream: u32) -> Result<Option<StreamState>, TargetError> {
        self.inner.stream_state(stream)
    }
    fn close(&mut self) {
        self.inner.close()
    }
    fn capture(&mut self, path: Option<&Path>) -> Result<(), TargetError> {
        self.inner.capture(path)
    }
    fn closed(&self) -> bool {
        self.inner.closed()
    }
    fn autonomous(&self) -> bool {
        self.inner.autonomous()
    }
    fn push_requests(&mut self, streams: &[u32]) -> Option<String> {
        self.inner.push_requests(streams)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_binary_names_its_package_and_the_script() {
        let e = ServerError::NotInstalled {
            kind: Server::named("nghttpd").unwrap(),
        }
        .to_string();
        assert!(e.contains("nghttp2-server"), "{e}");
        assert!(e.contains(INSTALL_SCRIPT), "{e}");
    }

    /// Each server's config pushes PUSHED_PATH with its answer to
    /// PUSH_PATH (RFC 9113 §8.4), as its row's `push` says.
    #[test]
    fn every_config_pushes_the_pushed_path_on_the_push_path() {
        for kind in SERVERS {
            let push = kind.app.push.expect("every server is configured to push");
            assert_eq!((push.path, push.promises), (PUSH_PATH, PUSHED_PATH));
            let dir = make_dir(kind).unwrap();
            let setup = Setup {
                // No such binary: nginx is then taken as 1.22 (`listen …
                // http2`, `http2_push`).
                binary: Path::new("/nonexistent/tracewright-test"),
                dir: &dir,
                port: 9,
            };
            let cmd = (kind.config)(&setup).unwrap();
            let args: Vec<String> = cmd
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let conf: String = fs::read_dir(&dir)
                .unwrap()
                .filter_map(|e| fs::read_to_string(e.unwrap().path()).ok())
                .collect();
            remove_dir(&dir);
            let wanted = match kind.name {
                "nghttpd" => args.contains(&"--push=/push=/pushed".to_string()),
                "nginx" => conf.contains("location = /push { http2_push /pushed; }"),
                "h2o" => {
                    conf.contains("      /push:\n        mruby.handler: |")
                        && conf.contains("\"link\" => \"</pushed>; rel=preload\"")
                }
                "apache" => {
                    conf.contains("H2Push on")
                        && conf
                            .contains("<Location /push>\n    H2PushResource /pushed\n</Location>")
                }
                other => panic!("a server without a push check: {other}"),
            };
            assert!(wanted, "{kind}: {args:?}\n{conf}");
        }
    }

    #[test]
    fn nginx_takes_http2_on_from_1_25_1() {
        assert!(!nginx_version_has_http2_directive(
            "nginx version: nginx/1.22.1\n"
        ));
        assert!(!nginx_version_has_http2_directive(
            "nginx version: nginx/1.25.0\n"
        ));
        assert!(nginx_version_has_http2_directive(
            "nginx version: nginx/1.25.1\n"
        ));
        assert!(nginx_version_has_http2_directive(
            "nginx version: nginx/1.26.3 (Debian)\n"
        ));
        assert!(!nginx_version_has_http2_directive("garbage"));
    }
}
