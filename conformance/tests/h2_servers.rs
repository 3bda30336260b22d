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

use tracewright_conformance::h2::servers::{self, ServerError, ServerKind, LARGE_LEN, SMALL_BODY};
use tracewright_conformance::h2::{decode_frames, Encoder, FrameSpec, FrameType, PREFACE};

/// The first SETTINGS each server sends, as documented on [`ServerKind`]:
/// MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE (`None`:
/// not sent, the RFC 9113 §6.5.2 default holds).
fn documented_settings(kind: ServerKind) -> (Option<u32>, Option<u32>, Option<u32>) {
    match kind {
        ServerKind::Nghttpd => (Some(100), None, None),
        ServerKind::Nginx => (Some(128), Some(65_536), Some(16_777_215)),
        ServerKind::H2o => (Some(100), Some(16_777_216), None),
        ServerKind::Apache => (Some(100), None, None),
    }
}

fn required(kind: ServerKind) -> bool {
    let ci = std::env::var_os("CI").is_some()
        || std::env::var("TRACEWRIGHT_REQUIRE_SERVERS").is_ok_and(|v| v == "1");
    ci && matches!(kind, ServerKind::Nghttpd | ServerKind::Nginx)
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
        let n = stream.read(&mut chunk).expect("reading the server's preface");
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
        .args(["--silent", "--show-error", "--fail", "--http2-prior-knowledge", "--max-time", "10"])
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

fn check(kind: ServerKind) {
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
    let got = (setting(&payload, 3), setting(&payload, 4), setting(&payload, 5));
    eprintln!(
        "{kind} on {}: first SETTINGS MAX_CONCURRENT_STREAMS {:?}, INITIAL_WINDOW_SIZE {:?}, MAX_FRAME_SIZE {:?}",
        server.addr, got.0, got.1, got.2
    );
    assert_eq!(got, documented_settings(kind), "{kind}: update the doc on ServerKind::{kind:?}");
    drop(s);

    // The same by hand, as a user would: curl with prior knowledge.
    let base = format!("http://{}", server.addr);
    match curl(&format!("{base}/")) {
        Some(body) => {
            assert_eq!(body, SMALL_BODY, "{kind} /");
            let large = curl(&format!("{base}/large")).unwrap();
            assert_eq!(large.len(), LARGE_LEN, "{kind} /large");
        }
        None => eprintln!("{kind}: curl not found, not checked with curl"),
    }

    drop(server);
    assert!(!process_exists(pid), "{kind}: pid {pid} still there after drop");
    assert!(!group_exists(pid), "{kind}: a worker of group {pid} still there after drop");
    assert!(!dir.exists(), "{kind}: {} still there after drop", dir.display());
}

#[test]
fn nghttpd() {
    check(ServerKind::Nghttpd);
}

#[test]
fn nginx() {
    check(ServerKind::Nginx);
}

#[test]
fn h2o() {
    check(ServerKind::H2o);
}

#[test]
fn apache() {
    check(ServerKind::Apache);
}
