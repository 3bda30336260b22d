//! The `h2c://` target against real servers over real loopback sockets:
//! the h2 crate served by tokio in this process (always), and nghttpd when
//! Debian's nghttp2-server is installed (skipped with a reason otherwise).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tracewright_conformance::corpus::{run, H2Run};
use tracewright_conformance::h2::{load_h2_corpus, H2Corpus, H2Settings, NetH2, PREFACE};
use tracewright_conformance::replay::Verdict;
use tracewright_conformance::report::Report;
use tracewright_conformance::trace::{Protocol, Role};

fn corpus() -> H2Corpus {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    load_h2_corpus(&root.join("traces/h2")).unwrap()
}

fn replay(corpus: &H2Corpus, addr: &str, capture: Option<&Path>) -> (Report, Duration) {
    let mut target = NetH2::cleartext(addr).unwrap();
    let start = Instant::now();
    let report = run(
        Protocol::H2,
        "rfc9113",
        corpus.into(),
        &mut H2Run {
            target: &mut target,
            settings: H2Settings::MODEL,
        },
        capture,
        &mut |_, _| {},
    );
    (report, start.elapsed())
}

/// What must hold against any real server: no error, no client trace
/// passes, the concurrency trace is given up with its reason, and no trace
/// waits for a timeout (the whole corpus in well under the tolerance per
/// trace).
fn check(corpus: &H2Corpus, report: &Report, took: Duration, server: &str) {
    let c = report.counts();
    println!(
        "{server}: {} traces in {took:?}: {} pass, {} fail, {} inconclusive, {} error",
        corpus.traces.len(),
        c.pass,
        c.fail,
        c.inconclusive,
        c.error
    );
    assert_eq!(c.error, 0, "{}", report.render());
    // A server that answers every request at once (the h2 crate below
    // does) makes each trace that opens a stream inconclusive: its answer
    // is in before the harness acts again (a PING proves it), whatever its
    // speed. The connection-level traces still pass.
    assert!(c.pass > 10, "{}", report.render());
    for (t, r) in corpus.traces.iter().zip(&report.results) {
        assert_eq!(t.id, r.id);
        if t.iut == Role::Client {
            assert!(
                matches!(r.verdict, Verdict::Inconclusive { .. }),
                "{}",
                t.id
            );
        }
        if t.id == "h2-server-idle-recv-headers-sends-rst-stream-5-refused-stream-to-closed" {
            match &r.verdict {
                Verdict::Inconclusive { reason, .. } => {
                    assert!(reason.contains("the trace needs 2"), "{reason}")
                }
                v => panic!("{server}: {v:?}"),
            }
        }
    }
    assert!(
        took < Duration::from_secs(20),
        "{server}: {took:?}: a trace waited for a timeout"
    );
}

/// The h2 crate as a server on a loopback port: each request answered
/// with a short body and END_STREAM.
fn h2_crate_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(serve(sock));
            }
        });
    });
    format!("//{addr}")
}

async fn serve(sock: tokio::net::TcpStream) {
    let Ok(mut conn) = h2::server::handshake(sock).await else {
        return;
    };
    while let Some(Ok((_req, mut respond))) = conn.accept().await {
        let response = http::Response::builder().status(200).body(()).unwrap();
        if let Ok(mut body) = respond.send_response(response, false) {
            let _ = body.send_data(bytes::Bytes::from_static(b"hello\n"), true);
        }
    }
}

#[test]
fn h2_net_against_the_h2_crate_over_loopback() {
    let addr = h2_crate_server();
    let corpus = corpus();
    let (report, took) = replay(&corpus, &addr, None);
    check(&corpus, &report, took, "h2 crate");
}

/// nghttpd on an ephemeral loopback port, killed when dropped.
struct Nghttpd(Child);

impl Drop for Nghttpd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn h2_net_against_nghttpd() {
    if Command::new("nghttpd").arg("--version").output().is_err() {
        println!("skipped: nghttpd is not installed (apt-get install nghttp2-server)");
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let www = std::env::temp_dir().join(format!("tracewright-nghttpd-{}", std::process::id()));
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "hello\n").unwrap();
    let _server = Nghttpd(
        Command::new("nghttpd")
            .args(["--no-tls", "-a", "127.0.0.1", "-d"])
            .arg(&www)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nghttpd did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    let corpus = corpus();
    let addr = format!("//127.0.0.1:{port}");
    let (report, took) = replay(&corpus, &addr, None);
    check(&corpus, &report, took, "nghttpd");

    // Each connection as a pcap: the harness's preface, then the server's
    // SETTINGS on the other port.
    let dir = www.join("pcap");
    std::fs::create_dir_all(&dir).unwrap();
    let mut one = corpus;
    one.traces
        .retain(|t| t.id == "h2-server-connection-recv-ping-sends-ping-ack-to-connection");
    let (report, _) = replay(&one, &addr, Some(&dir));
    assert_eq!(report.counts().pass, 1, "{}", report.render());
    let file = std::fs::read(dir.join(format!("{}.pcap", one.traces[0].id))).unwrap();
    assert_eq!(&file[20..24], &101u32.to_le_bytes(), "LINKTYPE_RAW");
    // The first packet's TCP payload (20 bytes of IPv4, 20 of TCP).
    let len = u32::from_le_bytes(file[32..36].try_into().unwrap()) as usize;
    let packet = &file[40..40 + len];
    assert!(packet[40..].starts_with(PREFACE));
    std::fs::remove_dir_all(&www).unwrap();
}

/// `h2://` against nghttpd serving TLS with a self-signed certificate made
/// for the test (openssl): with `--insecure` (NetH2::tls(.., true)) the
/// harness speaks HTTP/2 over TLS with ALPN h2 and the PING trace passes;
/// without it the unknown certificate breaks the trace (an error verdict,
/// never a pass). Skipped where nghttpd or openssl is missing.
#[test]
fn h2_tls_against_nghttpd_with_a_test_certificate() {
    let have = |p: &str| Command::new(p).arg("--version").output().is_ok();
    if !have("nghttpd") || !have("openssl") {
        println!("skipped: nghttpd or openssl is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("tracewright-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(dir.join("index.html"), "hello\n").unwrap();
    let _server = Nghttpd(
        Command::new("nghttpd")
            .args(["-a", "127.0.0.1", "-d"])
            .arg(&dir)
            .arg(port.to_string())
            .arg(&key)
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nghttpd did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut one = corpus();
    one.traces
        .retain(|t| t.id == "h2-server-connection-recv-ping-sends-ping-ack-to-connection");
    assert_eq!(one.traces.len(), 1);
    let run_with = |insecure: bool| {
        let mut target = NetH2::tls(&format!("//127.0.0.1:{port}"), insecure).unwrap();
        run(
            Protocol::H2,
            "rfc9113",
            (&one).into(),
            &mut H2Run {
                target: &mut target,
                settings: H2Settings::MODEL,
            },
            None,
            &mut |_, _| {},
        )
    };
    let report = run_with(true);
    assert_eq!(report.counts().pass, 1, "{}", report.render());
    let report = run_with(false);
    match &report.results[0].verdict {
        Verdict::Error { reason, .. } => assert!(reason.contains("TLS"), "{reason}"),
        v => panic!("an unknown certificate must break the trace: {v:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
