//! The real HTTP/2 servers the suite runs (`h2::servers`): each one, where
//! installed, starts on a loopback port, answers an HTTP/2 connection with
//! prior knowledge (RFC 9113 §3.3) with its SETTINGS (RFC 9113 §3.4),
//! serves the document root to curl, and is gone, with its workers and
//! its directory, once dropped.
//!
//! A server that is not installed is skipped with the reason printed. In
//! CI (`CI` set) or with `TRACEWRIGHT_REQUIRE_SERVERS=1`, nghttpd and nginx
//! are required: `conformance/servers/install.sh` installs them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use tracewright_conformance::h2::servers::{
    self, Announced, ServedH2, Server, ServerError, ServerKind, LARGE_LEN, SERVERS, SMALL_BODY,
};
use tracewright_conformance::h2::H2Target;
use tracewright_conformance::h2::{decode_frames, Encoder, FrameSpec, FrameType, PREFACE};
use tracewright_conformance::registry::{self, Protocol};

fn required(kind: ServerKind) -> bool {
    let ci = std::env::var_os("CI").is_some()
        || std::env::var("TRACEWRIGHT_REQUIRE_SERVERS").is_ok_and(|v| v == "1");
    ci && ["nghttpd", "nginx"].contains(&kind.name)
}

/// The first frame the server sends after our preface and SETTINGS, raw:
/// its type, flags, stream and payload.
fn first_frame(stream: &mut TcpStream) -> (u8, u8, u32, Vec<u8>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if buf.len() >= 9 {
            let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
            if buf.len() >= 9 + len {
                let stream = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
                // The crate's decoder agrees that it is a SETTINGS frame.
                let mut copy = buf.clone();
                let decoded = decode_frames(&mut copy);
                assert_eq!(decoded.first().map(|f| f.kind), Some(FrameType::Settings));
                return (buf[3], buf[4], stream, buf[9..9 + len].to_vec());
            }
        }
        assert!(Instant::now() < deadline, "no frame within 5 s: {buf:?}");
        let n = stream
            .read(&mut chunk)
            .expect("reading the server's preface");
        assert!(n > 0, "the server closed the connection: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A setting's value in a SETTINGS payload (RFC 9113 §6.5.1; the last wins).
fn setting(payload: &[u8], id: u16) -> Option<u32> {
    payload
        .chunks_exact(6)
        .filter(|c| u16::from_be_bytes([c[0], c[1]]) == id)
        .map(|c| u32::from_be_bytes([c[2], c[3], c[4], c[5]]))
        .next_back()
}

fn curl(url: &str) -> Option<Vec<u8>> {
    let out = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--http2-prior-knowledge",
            "--max-time",
            "10",
        ])
        .arg(url)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

fn process_exists(pid: u32) -> bool {
    // SAFETY: signal 0 only checks existence.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

fn group_exists(pid: u32) -> bool {
    // SAFETY: as above, for the process group the server led.
    unsafe { libc::killpg(pid as libc::pid_t, 0) == 0 }
}

fn check(name: &str) {
    let kind: ServerKind = Server::named(name).unwrap();
    let server = match servers::start(kind) {
        Ok(s) => s,
        Err(e @ ServerError::NotInstalled { .. }) if !required(kind) => {
            eprintln!("{kind} skipped: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let pid = server.pid();
    let dir = server.dir.clone();
    assert!(process_exists(pid));

    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut enc = Encoder::new(true);
    s.write_all(PREFACE).unwrap();
    s.write_all(&enc.encode(&FrameSpec::new(FrameType::Settings)))
        .unwrap();
    let (ty, flags, stream, payload) = first_frame(&mut s);
    // RFC 9113 §3.4: the server's preface is a SETTINGS frame (type 4),
    // not an ACK, on stream 0.
    assert_eq!((ty, flags & 0x1, stream), (4, 0, 0), "{kind}");
    let got = Announced {
        max_concurrent_streams: setting(&payload, 3),
        initial_window_size: setting(&payload, 4),
        max_frame_size: setting(&payload, 5),
    };
    eprintln!("{kind} on {}: first SETTINGS {got:?}", server.addr);
    // As its row in SERVERS documents them.
    assert_eq!(got, kind.announces, "{kind}: update its row's `announces`");
    drop(s);

    // The same by hand, as a user would: curl with prior knowledge.
    let base = format!("http://{}", server.addr);
    match curl(&format!("{base}/")) {
        Some(body) => {
            assert_eq!(
                body.len(),
                LARGE_LEN,
                "{kind} /: the answer the harness's GET / gets"
            );
            assert_eq!(
                curl(&format!("{base}/small")).unwrap(),
                SMALL_BODY,
                "{kind} /small"
            );
            let large = curl(&format!("{base}/large")).unwrap();
            assert_eq!(large.len(), LARGE_LEN, "{kind} /large");
        }
        None => eprintln!("{kind}: curl not found, not checked with curl"),
    }

    drop(server);
    assert!(
        !process_exists(pid),
        "{kind}: pid {pid} still there after drop"
    );
    assert!(
        !group_exists(pid),
        "{kind}: a worker of group {pid} still there after drop"
    );
    assert!(
        !dir.exists(),
        "{kind}: {} still there after drop",
        dir.display()
    );
}

#[test]
fn nghttpd() {
    check("nghttpd");
}

#[test]
fn nginx() {
    check("nginx");
}

#[test]
fn h2o() {
    check("h2o");
}

#[test]
fn apache() {
    check("apache");
}

/// The registry's entry for each installed server starts it for the
/// replay, names the target by the server's kind (not its port), and
/// stops it, directory and all, when the target goes.
#[test]
fn registry_entries_run_their_server_while_the_target_lives() {
    for kind in SERVERS {
        let entry = registry::lookup(kind.name(), Protocol::H2).unwrap();
        assert!(!entry.serves(Protocol::Tcp), "{kind}");
        let opened = match entry.open(kind.name(), Protocol::H2) {
            Ok(t) => t,
            Err(e) if kind.find().is_err() && !required(kind) => {
                eprintln!("{kind} skipped: {e}");
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        assert_eq!(opened.name(), kind.name());
        drop(opened);

        let target = ServedH2::start(kind).unwrap();
        assert_eq!(target.name(), kind.name());
        let (pid, dir) = (target.server().pid(), target.server().dir.clone());
        assert!(TcpStream::connect(target.server().addr).is_ok(), "{kind}");
        drop(target);
        assert!(
            !group_exists(pid),
            "{kind}: group {pid} still there after drop"
        );
        assert!(!dir.exists(), "{kind}");
    }
}

/// Run by [`ctrl_c_stops_the_servers`] in a process of its own: starts a
/// server, says where, and waits to be interrupted.
#[test]
#[ignore = "a helper: ctrl_c_stops_the_servers runs it"]
fn hold_a_server_until_interrupted() {
    let kind: ServerKind = match std::env::var("TRACEWRIGHT_HOLD_SERVER") {
        Ok(name) => Server::named(&name).unwrap(),
        Err(_) => return,
    };
    let server = servers::start(kind).unwrap();
    println!("HOLDING {} {}", server.pid(), server.dir.display());
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_secs(60));
    panic!("not interrupted within 60 s");
}

/// Ctrl-C (SIGINT) on a process that runs a server stops the server, its
/// workers and its directory with it, and the process still dies of the
/// signal. The server runs in a process group of its own, which a
/// terminal's Ctrl-C would not reach: only the handler can stop it.
#[test]
fn ctrl_c_stops_the_servers() {
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    // nginx first: its master has a worker, so the group matters.
    let Some(kind) = ["nginx", "nghttpd", "h2o", "apache"]
        .into_iter()
        .filter_map(Server::named)
        .find(|k| k.find().is_ok())
    else {
        assert!(
            !required(Server::named("nginx").unwrap()),
            "no server installed"
        );
        eprintln!("skipped: no server installed");
        return;
    };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "hold_a_server_until_interrupted",
            "--ignored",
            "--nocapture",
        ])
        .env("TRACEWRIGHT_HOLD_SERVER", kind.name())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines
        .by_ref()
        .map(|l| l.unwrap())
        .find(|l| l.starts_with("HOLDING "))
        .expect("the helper started no server");
    let mut words = line.split(' ').skip(1);
    let pid: u32 = words.next().unwrap().parse().unwrap();
    let dir = std::path::PathBuf::from(words.next().unwrap());
    assert!(group_exists(pid));
    // SAFETY: SIGINT to the helper we spawned.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status}");
    // The killed server is reaped by init: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while group_exists(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !group_exists(pid),
        "{kind}: group {pid} outlived the interrupt"
    );
    assert!(
        !dir.exists(),
        "{kind}: {} outlived the interrupt",
        dir.display()
    );
}
