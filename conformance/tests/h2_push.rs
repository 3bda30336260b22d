//! Push against a server the suite configured to push (RFC 9113 §8.4),
//! through the `h2c://` target with a known application
//! ([`ServerApp::push`]): a fake server on a loopback socket that pushes
//! with its answer to `/push`, as nghttpd, nginx, h2o and Apache are
//! configured to (`conformance/src/h2/servers.rs`). The push trace passes
//! only where the server's PUSH_PROMISE satisfies it: a promise on another
//! stream, or of an odd (client) stream id, fails it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tracewright_conformance::h2::net::{Push, ServerApp};
use tracewright_conformance::h2::{load_h2_corpus, replay_h2, H2Trace, NetH2, PREFACE};
use tracewright_conformance::replay::Verdict;

/// The corpus's push on a half-closed (remote) stream: the request ends,
/// then the server promises stream 2 on stream 1 (step [`PROMISE_STEP`]).
const PUSH_TRACE: &str =
    "h2-server-half-closed-remote-app-push-sends-push-promise-1-promised-2-to-half-closed-remote";

/// The push trace's step that expects PUSH_PROMISE[1,promised=2].
const PROMISE_STEP: usize = 7;

const BODY: &[u8] = b"tracewright\n";

fn trace(id: &str) -> H2Trace {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    load_h2_corpus(&root.join("traces/h2"))
        .unwrap()
        .traces
        .into_iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("{id} is in traces/h2"))
}

fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    b.extend([ty, flags]);
    b.extend(stream.to_be_bytes());
    b.extend(payload);
    b
}

/// What the fake server does with a request for `/push`: the stream it
/// sends its PUSH_PROMISE on, and the stream id it promises.
#[derive(Clone, Copy)]
struct Promise {
    on: u32,
    promised: u32,
}

/// One connection of a fake HTTP/2 server: SETTINGS and PING answered;
/// a request answered once it ended, with `BODY`; a request for `/push`
/// answered after a PUSH_PROMISE as `promise` says and the pushed
/// response. Sends the paths it was asked on `paths`.
fn fake_server(promise: Promise) -> (SocketAddr, mpsc::Receiver<(u32, String)>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = serve(&mut sock, promise, &tx);
    });
    (addr, rx, handle)
}

fn serve(
    sock: &mut TcpStream,
    promise: Promise,
    paths: &mpsc::Sender<(u32, String)>,
) -> std::io::Result<()> {
    let mut preface = [0u8; 24];
    sock.read_exact(&mut preface)?;
    assert_eq!(&preface[..], PREFACE);
    // Its SETTINGS first (RFC 9113 §3.4), announcing nothing.
    sock.write_all(&frame(4, 0, 0, &[]))?;
    let mut decoder = loona_hpack::Decoder::new();
    let mut encoder = loona_hpack::Encoder::new();
    let mut block = |fields: &[(&[u8], &[u8])]| encoder.encode(fields.iter().copied());
    loop {
        let mut head = [0u8; 9];
        sock.read_exact(&mut head)?;
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let (ty, flags) = (head[3], head[4]);
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let mut payload = vec![0u8; len];
        sock.read_exact(&mut payload)?;
        let mut out = Vec::new();
        match ty {
            // SETTINGS: the ACK.
            4 if flags & 1 == 0 => out.extend(frame(4, 1, 0, &[])),
            // PING: its ACK.
            6 if flags & 1 == 0 => out.extend(frame(6, 1, 0, &payload)),
            // A request in one HEADERS frame.
            1 => {
                let fields = decoder.decode(&payload).unwrap();
                let path = fields
                    .iter()
                    .find(|(n, _)| n == b":path")
                    .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default();
                let _ = paths.send((stream, path.clone()));
                if flags & 1 == 0 {
                    // Answered once it ended, as nghttpd and h2o.
                    continue;
                }
                if path == "/push" {
                    let mut p = promise.promised.to_be_bytes().to_vec();
                    p.extend(block(&[
                        (b":method", b"GET"),
                        (b":scheme", b"http"),
                        (b":path", b"/pushed"),
                        (b":authority", b"tracewright.test"),
                    ]));
                    out.extend(frame(5, 0x4, promise.on, &p));
                    out.extend(frame(
                        1,
                        0x4,
                        promise.promised,
                        &block(&[(b":status", b"200")]),
                    ));
                    out.extend(frame(0, 0x1, promise.promised, BODY));
                }
                out.extend(frame(1, 0x4, stream, &block(&[(b":status", b"200")])));
                out.extend(frame(0, 0x1, stream, BODY));
            }
            _ => {}
        }
        sock.write_all(&out)?;
    }
}

fn app() -> ServerApp {
    ServerApp {
        answers_at_headers: false,
        body_len: BODY.len() as u64,
        resets_second_header_block: false,
        push: Some(Push {
            path: "/push",
            promises: "/pushed",
            body_len: BODY.len() as u64,
            how: "the fake server pushes /pushed with its answer to /push",
        }),
    }
}

/// The push trace against a fake server that promises as `promise` says;
/// the verdict, and the paths the harness asked.
fn push_trace_against(promise: Promise) -> (Verdict, Vec<(u32, String)>) {
    let (addr, paths, server) = fake_server(promise);
    let mut target = NetH2::cleartext(&addr.to_string())
        .unwrap()
        .with_app(app())
        .named("fake");
    let result = replay_h2(&trace(PUSH_TRACE), &mut target);
    drop(target);
    server.join().unwrap();
    (result.verdict, paths.try_iter().collect())
}

#[test]
fn the_push_trace_passes_where_the_server_promises_stream_2_on_stream_1() {
    let (verdict, paths) = push_trace_against(Promise { on: 1, promised: 2 });
    assert_eq!(verdict, Verdict::Pass);
    // The harness looked ahead: the trace pushes on stream 1.
    assert_eq!(paths, vec![(1, "/push".to_string())]);
}

#[test]
fn a_promise_on_another_stream_fails_the_push_trace() {
    // Stream 3 is idle: RFC 9113 §6.6 allows PUSH_PROMISE only on a
    // stream the client opened that is open or half-closed (remote).
    // It comes with the answer to the request, before the trace's push:
    // judged when the harness acts next.
    let (verdict, _) = push_trace_against(Promise { on: 3, promised: 2 });
    match &verdict {
        Verdict::Fail { got: Some(got), .. } => {
            assert!(got.starts_with("PUSH_PROMISE[3,"), "{verdict:?}")
        }
        _ => panic!("a PUSH_PROMISE on stream 3: {verdict:?}"),
    }
}

#[test]
fn a_promise_of_a_client_stream_id_fails_the_push_trace() {
    // A promised stream id must be a server's, even (RFC 9113 §5.1.1).
    let (verdict, _) = push_trace_against(Promise { on: 1, promised: 3 });
    assert!(
        matches!(
            verdict,
            Verdict::Fail {
                step: PROMISE_STEP,
                ..
            }
        ),
        "PUSH_PROMISE[1,promised=3]: {verdict:?}"
    );
}

#[test]
fn a_push_on_an_open_request_is_unsupported_where_the_server_answers_once_it_ended() {
    // The model pushes while stream 1 is open; the fake server (as nghttpd
    // and h2o) answers, and pushes, only once the request ended.
    let id = "h2-server-open-app-push-sends-push-promise-1-promised-2-to-open";
    let (addr, paths, server) = fake_server(Promise { on: 1, promised: 2 });
    let mut target = NetH2::cleartext(&addr.to_string())
        .unwrap()
        .with_app(app())
        .named("fake");
    let result = replay_h2(&trace(id), &mut target);
    drop(target);
    server.join().unwrap();
    match result.verdict {
        Verdict::Inconclusive { reason, .. } => {
            assert!(reason.contains("only once the request ended"), "{reason}")
        }
        v => panic!("{v:?}"),
    }
    assert_eq!(
        paths.try_iter().collect::<Vec<_>>(),
        vec![(1, "/push".to_string())]
    );
}

#[test]
fn a_server_that_declines_to_push_leaves_the_trace_inconclusive() {
    // Configured to push, asked /push, it answered without a promise
    // (RFC 9113 §8.4: a server need not push): never a pass.
    let (addr, _paths, server) = fake_server(Promise { on: 1, promised: 2 });
    let mut app = app();
    app.push = Some(Push {
        path: "/elsewhere",
        ..app.push.unwrap()
    });
    let mut target = NetH2::cleartext(&addr.to_string())
        .unwrap()
        .with_app(app)
        .named("fake");
    let result = replay_h2(&trace(PUSH_TRACE), &mut target);
    drop(target);
    server.join().unwrap();
    match result.verdict {
        Verdict::Inconclusive { reason, .. } => {
            assert!(reason.contains("declined to push"), "{reason}")
        }
        v => panic!("{v:?}"),
    }
}

/// The push variants of the corpus (`model/src/gen/h2.rs`,
/// `push_variants`): each pushes only once the request ended, on the
/// transition of a trace of the search that pushes while the request is
/// open, so that a server that pushes only with its answer to a finished
/// request (nghttpd, h2o) can be judged on it.
#[test]
fn each_push_variant_pushes_once_the_request_ended_where_its_original_pushed_on_an_open_stream() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = load_h2_corpus(&root.join("traces/h2")).unwrap();
    let pushes_in = |t: &H2Trace| -> Vec<String> {
        t.covers
            .iter()
            .filter(|c| c.event.to_string() == "app push")
            .map(|c| c.state.clone())
            .collect()
    };
    let suffix = "-pushed-once-the-request-ended";
    let variants: Vec<&H2Trace> = corpus
        .traces
        .iter()
        .filter(|t| t.id.ends_with(suffix))
        .collect();
    assert_eq!(variants.len(), 31);
    for v in variants {
        assert_eq!(
            pushes_in(v),
            vec!["half-closed (remote)".to_string()],
            "{}",
            v.id
        );
        let original = corpus
            .traces
            .iter()
            .find(|t| t.id == v.id[..v.id.len() - suffix.len()])
            .unwrap_or_else(|| panic!("{}: no original", v.id));
        assert_eq!(
            pushes_in(original),
            vec!["open".to_string()],
            "{}",
            original.id
        );
        assert_eq!(
            v.covers.last(),
            original.covers.last(),
            "{}: the same transition",
            v.id
        );
    }
}
