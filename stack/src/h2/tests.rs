//! Unit tests of the HTTP/2 connection, one section per RFC 9113 §5.1
//! stream state, named `test_<state>_<event>`, plus the preface and
//! settings, stream identifiers, concurrency, flow control, GOAWAY and
//! CONTINUATION. A scripted peer writes frames with the builders below, so
//! tests read like the wire; [`Pair`] drives a client and a server against
//! each other.

use super::frame::{self, Frame, Head, Priority};
use super::*;

// ---------------------------------------------------------------------------
// Frame builders: what a scripted peer writes.

/// A frame on the wire, built by a scripted peer.
#[derive(Clone, Debug)]
struct F {
    kind: u8,
    flags: u8,
    stream: StreamId,
    payload: Vec<u8>,
}

impl F {
    /// Sets END_STREAM.
    fn eos(mut self) -> F {
        self.flags |= frame::END_STREAM;
        self
    }
    /// Clears END_HEADERS: CONTINUATION frames follow.
    fn more(mut self) -> F {
        self.flags &= !frame::END_HEADERS;
        self
    }
    /// Sets ACK.
    fn ack(mut self) -> F {
        self.flags |= frame::ACK;
        self
    }
    /// Pads the frame with `pad` octets (PADDED).
    fn padded(mut self, pad: u8) -> F {
        self.flags |= frame::PADDED;
        self.payload.insert(0, pad);
        self.payload.extend(std::iter::repeat_n(0, pad as usize));
        self
    }
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.payload.len() as u32).to_be_bytes()[1..]);
        out.push(self.kind);
        out.push(self.flags);
        out.extend_from_slice(&self.stream.to_be_bytes());
        out.extend_from_slice(&self.payload);
        out
    }
}

fn raw(kind: u8, flags: u8, stream: StreamId, payload: &[u8]) -> F {
    F {
        kind,
        flags,
        stream,
        payload: payload.to_vec(),
    }
}

/// HPACK without state: every field a literal without indexing, new name
/// (RFC 7541 §6.2.2), no Huffman.
fn hpack(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.push(0x00);
        for s in [name, value] {
            loona_hpack::encoder::encode_integer_into(s.len(), 7, 0, &mut out).unwrap();
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

fn headers(stream: StreamId, fields: &[(&str, &str)]) -> F {
    raw(frame::HEADERS, frame::END_HEADERS, stream, &hpack(fields))
}
fn continuation(stream: StreamId, fields: &[(&str, &str)]) -> F {
    raw(
        frame::CONTINUATION,
        frame::END_HEADERS,
        stream,
        &hpack(fields),
    )
}
fn data(stream: StreamId, bytes: &[u8]) -> F {
    raw(frame::DATA, 0, stream, bytes)
}
fn priority(stream: StreamId) -> F {
    raw(frame::PRIORITY, 0, stream, &[0, 0, 0, 0, 16])
}
fn rst(stream: StreamId, code: ErrorCode) -> F {
    raw(frame::RST_STREAM, 0, stream, &code.0.to_be_bytes())
}
fn settings(params: &[(u16, u32)]) -> F {
    let mut p = Vec::new();
    for (id, v) in params {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    raw(frame::SETTINGS, 0, 0, &p)
}
fn settings_ack() -> F {
    settings(&[]).ack()
}
fn push_promise(stream: StreamId, promised: StreamId, fields: &[(&str, &str)]) -> F {
    let mut p = promised.to_be_bytes().to_vec();
    p.extend(hpack(fields));
    raw(frame::PUSH_PROMISE, frame::END_HEADERS, stream, &p)
}
fn ping(opaque: [u8; 8]) -> F {
    raw(frame::PING, 0, 0, &opaque)
}
fn goaway(last: StreamId, code: ErrorCode) -> F {
    let mut p = last.to_be_bytes().to_vec();
    p.extend_from_slice(&code.0.to_be_bytes());
    raw(frame::GOAWAY, 0, 0, &p)
}
fn window_update(stream: StreamId, increment: u32) -> F {
    raw(frame::WINDOW_UPDATE, 0, stream, &increment.to_be_bytes())
}

const GET: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/"),
    (":authority", "example.com"),
];
const OK: &[(&str, &str)] = &[(":status", "200")];
const REQ: &[(&[u8], &[u8])] = &[
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":path", b"/"),
    (b":authority", b"example.com"),
];
const RESP: &[(&[u8], &[u8])] = &[(b":status", b"200")];

fn owned(fields: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    fields
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

// ---------------------------------------------------------------------------
// Reading what a connection sent and told.

/// Feeds frames to a connection.
fn recv(conn: &mut Connection, frames: &[F]) {
    for f in frames {
        conn.handle_bytes(&f.bytes());
    }
}

fn decode_all(mut bytes: &[u8]) -> Vec<Frame> {
    if bytes.starts_with(conn::PREFACE) {
        bytes = &bytes[conn::PREFACE.len()..];
    }
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let head = Head::parse(bytes);
        let end = frame::HEADER_LEN + head.length as usize;
        out.push(Frame::decode(&head, &bytes[frame::HEADER_LEN..end]).expect("a valid frame"));
        bytes = &bytes[end..];
    }
    out
}

/// One frame as a line of the wire.
fn wire(f: &Frame) -> String {
    let eos = |on: bool| if on { ", END_STREAM" } else { "" };
    let eoh = |on: bool| if on { ", END_HEADERS" } else { "" };
    match f {
        Frame::Data {
            stream,
            end_stream,
            data,
            ..
        } => format!("DATA({stream}, {}{})", data.len(), eos(*end_stream)),
        Frame::Headers {
            stream,
            end_stream,
            end_headers,
            ..
        } => format!("HEADERS({stream}{}{})", eos(*end_stream), eoh(*end_headers)),
        Frame::Priority { stream, .. } => format!("PRIORITY({stream})"),
        Frame::RstStream { stream, code } => format!("RST_STREAM({stream}, {code})"),
        Frame::Settings { ack: true, .. } => "SETTINGS(ACK)".into(),
        Frame::Settings { params, .. } => {
            let p: Vec<String> = params.iter().map(|(i, v)| format!("{i}={v}")).collect();
            format!("SETTINGS({})", p.join(", "))
        }
        Frame::PushPromise {
            stream,
            promised,
            end_headers,
            ..
        } => format!("PUSH_PROMISE({stream}, {promised}{})", eoh(*end_headers)),
        Frame::Ping { ack, .. } => if *ack { "PING(ACK)" } else { "PING" }.into(),
        Frame::GoAway {
            last_stream, code, ..
        } => format!("GOAWAY({last_stream}, {code})"),
        Frame::WindowUpdate { stream, increment } => {
            format!("WINDOW_UPDATE({stream}, {increment})")
        }
        Frame::Continuation {
            stream,
            end_headers,
            ..
        } => format!("CONTINUATION({stream}{})", eoh(*end_headers)),
        Frame::Unknown { kind, .. } => format!("UNKNOWN({kind})"),
    }
}

/// What the connection sent since the last look, one line per frame.
fn sent(conn: &mut Connection) -> Vec<String> {
    decode_all(&conn.poll_transmit().unwrap_or_default())
        .iter()
        .map(wire)
        .collect()
}

/// What the connection told since the last look.
fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// Asserts a connection error: GOAWAY with `code` sent, the event, closed.
#[track_caller]
fn assert_conn_error(conn: &mut Connection, last: StreamId, code: ErrorCode) {
    let out = sent(conn);
    assert_eq!(
        out.last(),
        Some(&format!("GOAWAY({last}, {code})")),
        "{out:?}"
    );
    assert!(matches!(
        events(conn).last(),
        Some(Event::ConnectionError { code: c, .. }) if *c == code
    ));
    assert!(conn.is_closed());
}

// ---------------------------------------------------------------------------
// Builders, one per state.

fn server_with(local: Settings) -> Connection {
    let mut srv = Connection::new(Role::Server, local);
    srv.handle_bytes(conn::PREFACE);
    recv(&mut srv, &[settings(&[]), settings_ack()]);
    sent(&mut srv);
    events(&mut srv);
    srv
}

fn server() -> Connection {
    server_with(Settings::default())
}

fn client_with(local: Settings, peer: &[(u16, u32)]) -> Connection {
    let mut cli = Connection::new(Role::Client, local);
    recv(&mut cli, &[settings(peer), settings_ack()]);
    sent(&mut cli);
    events(&mut cli);
    cli
}

fn client() -> Connection {
    client_with(Settings::default(), &[])
}

/// A server with stream `id` open (a request without END_STREAM).
fn server_open(id: StreamId) -> Connection {
    let mut srv = server();
    recv(&mut srv, &[headers(id, GET)]);
    events(&mut srv);
    srv
}

/// A server with stream 1 half-closed (remote): the request is complete.
fn server_half_closed_remote() -> Connection {
    let mut srv = server();
    recv(&mut srv, &[headers(1, GET).eos()]);
    events(&mut srv);
    srv
}

/// A server with stream 1 half-closed (local): response sent, request not
/// complete.
fn server_half_closed_local() -> Connection {
    let mut srv = server_open(1);
    srv.send_headers(1, RESP, true).unwrap();
    sent(&mut srv);
    srv
}

/// A server with stream 1 closed by END_STREAM both ways.
fn server_closed() -> Connection {
    let mut srv = server_half_closed_remote();
    srv.send_headers(1, RESP, true).unwrap();
    sent(&mut srv);
    srv
}

/// A server that promised stream 2 on stream 1: 2 is reserved (local).
fn server_reserved_local() -> Connection {
    let mut srv = server_half_closed_remote();
    assert_eq!(srv.push_promise(1, REQ), Ok(2));
    sent(&mut srv);
    srv
}

/// A client whose request on 1 is complete and that received a promise of
/// stream 2: 2 is reserved (remote).
fn client_reserved_remote() -> Connection {
    let mut cli = client();
    assert_eq!(cli.send_request(REQ, true), Ok(1));
    recv(&mut cli, &[push_promise(1, 2, GET)]);
    sent(&mut cli);
    events(&mut cli);
    cli
}

/// A client and a server driven against each other, like quinn's Pair.
struct Pair {
    client: Connection,
    server: Connection,
}

impl Pair {
    fn new(client: Settings, server: Settings) -> Pair {
        let mut pair = Pair {
            client: Connection::new(Role::Client, client),
            server: Connection::new(Role::Server, server),
        };
        pair.drive();
        events(&mut pair.client);
        events(&mut pair.server);
        pair
    }

    /// Exchanges bytes until neither side has anything to send.
    fn drive(&mut self) {
        loop {
            let c = self.client.poll_transmit().unwrap_or_default();
            let s = self.server.poll_transmit().unwrap_or_default();
            if c.is_empty() && s.is_empty() {
                break;
            }
            self.server.handle_bytes(&c);
            self.client.handle_bytes(&s);
        }
    }
}

// ---------------------------------------------------------------------------
// Tests for the frame codec.

#[test]
fn test_codec_round_trip() {
    let prio = Priority {
        exclusive: true,
        dependency: 3,
        weight: 200,
    };
    let frames = vec![
        Frame::Data {
            stream: 1,
            end_stream: true,
            data: b"hello".to_vec(),
            pad: Some(3),
        },
        Frame::Headers {
            stream: 3,
            end_stream: false,
            end_headers: true,
            priority: Some(prio),
            block: vec![0x82, 0x84],
            pad: Some(2),
        },
        Frame::Priority {
            stream: 5,
            priority: prio,
        },
        Frame::RstStream {
            stream: 7,
            code: ErrorCode::CANCEL,
        },
        Frame::Settings {
            ack: false,
            params: vec![(1, 0), (4, 1 << 20), (0x99, 7)],
        },
        Frame::Settings {
            ack: true,
            params: vec![],
        },
        Frame::PushPromise {
            stream: 1,
            promised: 2,
            end_headers: false,
            block: vec![1, 2, 3],
            pad: None,
        },
        Frame::Ping {
            ack: true,
            opaque: *b"12345678",
        },
        Frame::GoAway {
            last_stream: 9,
            code: ErrorCode(0xdead),
            debug: b"bye".to_vec(),
        },
        Frame::WindowUpdate {
            stream: 0,
            increment: (1 << 31) - 1,
        },
        Frame::Continuation {
            stream: 3,
            end_headers: true,
            block: vec![0x86],
        },
        Frame::Unknown {
            kind: 0xfa,
            flags: 0xff,
            stream: 11,
            payload: vec![9; 4],
        },
    ];
    let mut bytes = Vec::new();
    for f in &frames {
        f.encode(&mut bytes);
    }
    assert_eq!(decode_all(&bytes), frames);
}

#[test]
fn test_codec_display_names() {
    assert_eq!(
        StreamState::HalfClosedRemote.to_string(),
        "half-closed (remote)"
    );
    assert_eq!(StreamState::ReservedLocal.to_string(), "reserved (local)");
    assert_eq!(
        ErrorCode::HTTP_1_1_REQUIRED.to_string(),
        "HTTP_1_1_REQUIRED"
    );
    assert_eq!(ErrorCode(0x1f).to_string(), "0x1f");
}

// ---------------------------------------------------------------------------
// Tests for the preface and SETTINGS.

#[test]
fn test_preface_pair_handshake() {
    let mut pair = Pair::new(
        Settings {
            enable_push: false,
            ..Settings::default()
        },
        Settings {
            max_concurrent_streams: Some(100),
            ..Settings::default()
        },
    );
    assert_eq!(
        pair.client.peer_settings().max_concurrent_streams,
        Some(100)
    );
    assert!(!pair.server.peer_settings().enable_push);
    assert!(!pair.client.is_closed() && !pair.server.is_closed());
    // Both SETTINGS were acknowledged: each side has the other's in force.
    assert_eq!(pair.client.poll_transmit(), None);
    assert_eq!(pair.server.poll_transmit(), None);
}

#[test]
fn test_preface_client_sends_magic_then_settings() {
    let mut cli = Connection::new(Role::Client, Settings::default());
    let out = cli.poll_transmit().unwrap_or_default();
    assert!(out.starts_with(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    assert_eq!(
        decode_all(&out).iter().map(wire).collect::<Vec<_>>(),
        ["SETTINGS()"]
    );
}

#[test]
fn test_preface_invalid_magic() {
    let mut srv = Connection::new(Role::Server, Settings::default());
    sent(&mut srv);
    srv.handle_bytes(b"GET / HTTP/1.1\r\n");
    assert_conn_error(&mut srv, 0, ErrorCode::PROTOCOL_ERROR);
    // Nothing more is processed.
    srv.handle_bytes(conn::PREFACE);
    assert!(sent(&mut srv).is_empty());
}

#[test]
fn test_preface_split_anywhere() {
    let mut srv = Connection::new(Role::Server, Settings::default());
    sent(&mut srv);
    let mut bytes = conn::PREFACE.to_vec();
    bytes.extend(settings(&[(frame::SETTINGS_MAX_FRAME_SIZE, 20_000)]).bytes());
    bytes.extend(ping(*b"pingpong").bytes());
    for b in bytes {
        srv.handle_bytes(&[b]);
    }
    assert_eq!(sent(&mut srv), ["SETTINGS(ACK)", "PING(ACK)"]);
    assert_eq!(events(&mut srv), [Event::SettingsChanged]);
    assert_eq!(srv.peer_settings().max_frame_size, 20_000);
}

#[test]
fn test_preface_first_frame_not_settings() {
    let mut srv = Connection::new(Role::Server, Settings::default());
    sent(&mut srv);
    srv.handle_bytes(conn::PREFACE);
    recv(&mut srv, &[ping([0; 8])]);
    assert_conn_error(&mut srv, 0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_settings_frame_errors() {
    let cases: Vec<(F, ErrorCode)> = vec![
        (
            raw(frame::SETTINGS, frame::ACK, 0, &[0; 6]),
            ErrorCode::FRAME_SIZE_ERROR,
        ),
        (
            raw(frame::SETTINGS, 0, 0, &[0; 5]),
            ErrorCode::FRAME_SIZE_ERROR,
        ),
        (raw(frame::SETTINGS, 0, 1, &[]), ErrorCode::PROTOCOL_ERROR),
        (
            settings(&[(frame::SETTINGS_ENABLE_PUSH, 2)]),
            ErrorCode::PROTOCOL_ERROR,
        ),
        (
            settings(&[(frame::SETTINGS_INITIAL_WINDOW_SIZE, 1 << 31)]),
            ErrorCode::FLOW_CONTROL_ERROR,
        ),
        (
            settings(&[(frame::SETTINGS_MAX_FRAME_SIZE, 16_383)]),
            ErrorCode::PROTOCOL_ERROR,
        ),
        (
            settings(&[(frame::SETTINGS_MAX_FRAME_SIZE, 1 << 24)]),
            ErrorCode::PROTOCOL_ERROR,
        ),
    ];
    for (f, code) in cases {
        let mut srv = server();
        recv(&mut srv, std::slice::from_ref(&f));
        assert_conn_error(&mut srv, 0, code);
    }
}

#[test]
fn test_settings_server_enable_push_1_is_error_for_client() {
    let mut cli = client();
    recv(&mut cli, &[settings(&[(frame::SETTINGS_ENABLE_PUSH, 1)])]);
    assert_conn_error(&mut cli, 0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_settings_unknown_identifier_ignored_and_acked() {
    let mut srv = server();
    recv(
        &mut srv,
        &[settings(&[
            (0xff, 1),
            (frame::SETTINGS_MAX_CONCURRENT_STREAMS, 7),
        ])],
    );
    assert_eq!(sent(&mut srv), ["SETTINGS(ACK)"]);
    assert_eq!(events(&mut srv), [Event::SettingsChanged]);
    assert_eq!(srv.peer_settings().max_concurrent_streams, Some(7));
}

#[test]
fn test_settings_update_sends_only_changes() {
    let mut srv = server();
    srv.update_settings(Settings {
        initial_window_size: 100,
        ..Settings::default()
    });
    assert_eq!(sent(&mut srv), ["SETTINGS(4=100)"]);
}

#[test]
fn test_frame_larger_than_max_frame_size() {
    let mut srv = server_open(1);
    recv(&mut srv, &[data(1, &[0; 16_385])]);
    assert_conn_error(&mut srv, 1, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn test_frame_unknown_type_ignored() {
    let mut srv = server_open(1);
    recv(
        &mut srv,
        &[raw(0xfa, 0xff, 1, b"extension"), ping(*b"stillok!")],
    );
    assert_eq!(sent(&mut srv), ["PING(ACK)"]);
}

#[test]
fn test_frame_sizes_and_stream_zero() {
    let cases: Vec<(F, ErrorCode)> = vec![
        (data(0, b"x"), ErrorCode::PROTOCOL_ERROR),
        (headers(0, GET), ErrorCode::PROTOCOL_ERROR),
        (rst(0, ErrorCode::CANCEL), ErrorCode::PROTOCOL_ERROR),
        (raw(frame::PING, 0, 1, &[0; 8]), ErrorCode::PROTOCOL_ERROR),
        (raw(frame::GOAWAY, 0, 1, &[0; 8]), ErrorCode::PROTOCOL_ERROR),
        (
            raw(frame::RST_STREAM, 0, 1, &[0; 3]),
            ErrorCode::FRAME_SIZE_ERROR,
        ),
        (raw(frame::PING, 0, 0, &[0; 7]), ErrorCode::FRAME_SIZE_ERROR),
        (
            raw(frame::WINDOW_UPDATE, 0, 1, &[0; 5]),
            ErrorCode::FRAME_SIZE_ERROR,
        ),
        (
            data(1, b"").padded(0).padded_len_over(),
            ErrorCode::PROTOCOL_ERROR,
        ),
    ];
    for (f, code) in cases {
        let mut srv = server_open(1);
        recv(&mut srv, std::slice::from_ref(&f));
        assert_conn_error(&mut srv, 1, code);
    }
    // > A PRIORITY frame with a length other than 5 octets MUST be treated
    // > as a stream error (Section 5.4.2) of type FRAME_SIZE_ERROR.
    let mut srv = server_open(1);
    recv(&mut srv, &[raw(frame::PRIORITY, 0, 1, &[0; 4])]);
    assert_eq!(sent(&mut srv), ["RST_STREAM(1, FRAME_SIZE_ERROR)"]);
    assert!(!srv.is_closed());
}

impl F {
    /// Makes the Pad Length one more than the payload allows.
    fn padded_len_over(mut self) -> F {
        self.payload[0] = self.payload.len() as u8;
        self
    }
}

#[test]
fn test_ping_answered_and_acked() {
    let mut srv = server();
    recv(&mut srv, &[ping(*b"abcdefgh")]);
    let out = decode_all(&srv.poll_transmit().unwrap_or_default());
    assert_eq!(
        out,
        [Frame::Ping {
            ack: true,
            opaque: *b"abcdefgh"
        }]
    );
    srv.ping(*b"12345678");
    assert_eq!(sent(&mut srv), ["PING"]);
    recv(&mut srv, &[ping(*b"12345678").ack()]);
    assert_eq!(
        events(&mut srv),
        [Event::PingAck {
            opaque: *b"12345678"
        }]
    );
}

// ---------------------------------------------------------------------------
// Tests for the idle state.

#[test]
fn test_idle_recv_headers() {
    let mut srv = server();
    recv(&mut srv, &[headers(1, GET)]);
    assert_eq!(srv.stream_state(1), StreamState::Open);
    assert_eq!(
        events(&mut srv),
        [Event::Headers {
            stream: 1,
            fields: owned(GET),
            end_stream: false
        }]
    );
    assert!(sent(&mut srv).is_empty());
}

#[test]
fn test_idle_recv_headers_end_stream() {
    let mut srv = server();
    recv(&mut srv, &[headers(1, GET).eos()]);
    assert_eq!(srv.stream_state(1), StreamState::HalfClosedRemote);
}

#[test]
fn test_idle_recv_data() {
    let mut srv = server();
    recv(&mut srv, &[data(1, b"x")]);
    assert_conn_error(&mut srv, 0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_idle_recv_rst_stream() {
    let mut srv = server();
    recv(&mut srv, &[rst(1, ErrorCode::CANCEL)]);
    assert_conn_error(&mut srv, 0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_idle_recv_window_update() {
    let mut srv = server();
    recv(&mut srv, &[window_update(1, 10)]);
    assert_conn_error(&mut srv, 0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_idle_recv_priority() {
    let mut srv = server();
    recv(&mut srv, &[priority(3)]);
    assert_eq!(srv.stream_state(3), StreamState::Idle);
    assert!(sent(&mut srv).is_empty());
    // PRIORITY does not use the identifier: 1 may still be opened.
    recv(&mut srv, &[headers(1, GET)]);
    assert_eq!(srv.stream_state(1), StreamState::Open);
}

// ---------------------------------------------------------------------------
// Tests for stream identifiers (RFC 9113 §5.1.1).

#[test]
fn test_stream_id_even_from_client() {
    let mut srv = server();
    recv(&mut srv, &[headers(2, GET)]);
    assert_conn_error(&mut srv, 0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_stream_id_lower_than_highest() {
    let mut srv = server();
    recv(&mut srv, &[headers(5, GET)]);
    // Opening 5 closed 1 and 3 implicitly.
    assert_eq!(srv.stream_state(3), StreamState::Closed);
    assert_eq!(srv.stream_state(7), StreamState::Idle);
    recv(&mut srv, &[headers(3, GET)]);
    assert_conn_error(&mut srv, 5, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_stream_id_client_headers_from_server() {
    let mut cli = client();
    recv(&mut cli, &[headers(2, OK)]);
    assert_conn_error(&mut cli, 0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_stream_id_requests_increase() {
    let mut cli = client();
    assert_eq!(cli.send_request(REQ, true), Ok(1));
    assert_eq!(cli.send_request(REQ, true), Ok(3));
    assert_eq!(cli.send_request(REQ, false), Ok(5));
    assert_eq!(cli.stream_state(5), StreamState::Open);
    assert_eq!(cli.stream_state(7), StreamState::Idle);
    let mut srv = server();
    assert_eq!(
        srv.send_request(REQ, true),
        Err(CallError::WrongRole(Role::Server))
    );
}

// ---------------------------------------------------------------------------
// Tests for the concurrency limits (RFC 9113 §5.1.2).

#[test]
fn test_concurrency_peer_exceeds_our_limit() {
    let mut srv = server_with(Settings {
        max_concurrent_streams: Some(1),
        ..Settings::default()
    });
    recv(&mut srv, &[headers(1, GET), headers(3, GET)]);
    assert_eq!(sent(&mut srv), ["RST_STREAM(3, REFUSED_STREAM)"]);
    assert_eq!(srv.stream_state(3), StreamState::Closed);
    assert_eq!(events(&mut srv).len(), 1);
    // Once 1 is done, a new stream fits again.
    srv.reset(1, ErrorCode::CANCEL).unwrap();
    recv(&mut srv, &[headers(5, GET)]);
    assert_eq!(srv.stream_state(5), StreamState::Open);
}

#[test]
fn test_concurrency_we_respect_peer_limit() {
    let mut cli = client_with(
        Settings::default(),
        &[(frame::SETTINGS_MAX_CONCURRENT_STREAMS, 1)],
    );
    assert_eq!(cli.send_request(REQ, false), Ok(1));
    assert_eq!(
        cli.send_request(REQ, false),
        Err(CallError::ConcurrencyLimit(1))
    );
    recv(&mut cli, &[headers(1, OK).eos()]);
    cli.send_data(1, b"", true).unwrap();
    assert_eq!(cli.stream_state(1), StreamState::Closed);
    assert_eq!(cli.send_request(REQ, false), Ok(3));
}

// ---------------------------------------------------------------------------
// Tests for the reserved (local) state.

#[test]
fn test_reserved_local_send_headers() {
    let mut srv = server_reserved_local();
    assert_eq!(srv.stream_state(2), StreamState::ReservedLocal);
    srv.send_headers(2, RESP, false).unwrap();
    assert_eq!(srv.stream_state(2), StreamState::HalfClosedRemote);
    srv.send_data(2, b"pushed", true).unwrap();
    assert_eq!(
        sent(&mut srv),
        ["HEADERS(2, END_HEADERS)", "DATA(2, 6, END_STREAM)"]
    );
    assert_eq!(srv.stream_state(2), StreamState::Closed);
}

#[test]
fn test_reserved_local_recv_data() {
    let mut srv = server_reserved_local();
    recv(&mut srv, &[data(2, b"x")]);
    assert_conn_error(&mut srv, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_reserved_local_recv_rst_stream() {
    let mut srv = server_reserved_local();
    recv(&mut srv, &[rst(2, ErrorCode::CANCEL)]);
    assert_eq!(srv.stream_state(2), StreamState::Closed);
    assert_eq!(
        events(&mut srv),
        [Event::Reset {
            stream: 2,
            code: ErrorCode::CANCEL
        }]
    );
    assert_eq!(
        srv.send_headers(2, RESP, true),
        Err(CallError::InvalidState {
            stream: 2,
            state: StreamState::Closed
        })
    );
}

#[test]
fn test_reserved_local_recv_window_update() {
    let mut srv = server_reserved_local();
    recv(&mut srv, &[window_update(2, 100), priority(2)]);
    assert!(sent(&mut srv).is_empty());
    assert_eq!(srv.stream_state(2), StreamState::ReservedLocal);
}

#[test]
fn test_reserved_local_push_disabled_by_peer() {
    let mut pair = Pair::new(
        Settings {
            enable_push: false,
            ..Settings::default()
        },
        Settings::default(),
    );
    pair.client.send_request(REQ, true).unwrap();
    pair.drive();
    assert_eq!(
        pair.server.push_promise(1, REQ),
        Err(CallError::PushDisabled)
    );
}

// ---------------------------------------------------------------------------
// Tests for the reserved (remote) state.

#[test]
fn test_reserved_remote_recv_push_promise() {
    let mut cli = client();
    cli.send_request(REQ, true).unwrap();
    recv(&mut cli, &[push_promise(1, 2, GET)]);
    assert_eq!(cli.stream_state(2), StreamState::ReservedRemote);
    assert_eq!(
        events(&mut cli),
        [Event::PushPromise {
            stream: 1,
            promised: 2,
            fields: owned(GET)
        }]
    );
}

#[test]
fn test_reserved_remote_recv_headers() {
    let mut cli = client_reserved_remote();
    recv(&mut cli, &[headers(2, OK)]);
    assert_eq!(cli.stream_state(2), StreamState::HalfClosedLocal);
    recv(&mut cli, &[data(2, b"body").eos()]);
    assert_eq!(cli.stream_state(2), StreamState::Closed);
    assert_eq!(sent(&mut cli), ["WINDOW_UPDATE(0, 4)"]);
}

#[test]
fn test_reserved_remote_recv_data() {
    let mut cli = client_reserved_remote();
    recv(&mut cli, &[data(2, b"x")]);
    assert_conn_error(&mut cli, 2, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_reserved_remote_recv_window_update() {
    let mut cli = client_reserved_remote();
    recv(&mut cli, &[window_update(2, 1)]);
    assert_conn_error(&mut cli, 2, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_reserved_remote_reset_by_us() {
    let mut cli = client_reserved_remote();
    cli.reset(2, ErrorCode::CANCEL).unwrap();
    assert_eq!(sent(&mut cli), ["RST_STREAM(2, CANCEL)"]);
    // Frames the server sent before seeing it are ignored.
    recv(&mut cli, &[headers(2, OK), data(2, b"late")]);
    assert_eq!(sent(&mut cli), ["WINDOW_UPDATE(0, 4)"]);
    assert!(events(&mut cli).is_empty());
}

#[test]
fn test_push_promise_errors() {
    // Received by a server.
    let mut srv = server_open(1);
    recv(&mut srv, &[push_promise(1, 2, GET)]);
    assert_conn_error(&mut srv, 1, ErrorCode::PROTOCOL_ERROR);
    // Received by a client that disabled push (acknowledged).
    let mut cli = client_with(
        Settings {
            enable_push: false,
            ..Settings::default()
        },
        &[],
    );
    cli.send_request(REQ, true).unwrap();
    recv(&mut cli, &[push_promise(1, 2, GET)]);
    assert_conn_error(&mut cli, 0, ErrorCode::PROTOCOL_ERROR);
    // An odd promised identifier.
    let mut cli = client();
    cli.send_request(REQ, true).unwrap();
    recv(&mut cli, &[push_promise(1, 3, GET)]);
    assert_conn_error(&mut cli, 0, ErrorCode::PROTOCOL_ERROR);
    // A promised identifier that is not new.
    let mut cli = client_reserved_remote();
    recv(&mut cli, &[push_promise(1, 2, GET)]);
    assert_conn_error(&mut cli, 2, ErrorCode::PROTOCOL_ERROR);
    // On a stream the client has not opened.
    let mut cli = client();
    recv(&mut cli, &[push_promise(1, 2, GET)]);
    assert_conn_error(&mut cli, 0, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------------------
// Tests for the open state.

#[test]
fn test_open_recv_data() {
    let mut srv = server_open(1);
    recv(&mut srv, &[data(1, b"hello")]);
    assert_eq!(
        sent(&mut srv),
        ["WINDOW_UPDATE(1, 5)", "WINDOW_UPDATE(0, 5)"]
    );
    assert_eq!(
        events(&mut srv),
        [Event::Data {
            stream: 1,
            data: b"hello".to_vec(),
            end_stream: false
        }]
    );
    assert_eq!(srv.stream_state(1), StreamState::Open);
}

#[test]
fn test_open_recv_data_end_stream() {
    let mut srv = server_open(1);
    recv(&mut srv, &[data(1, b"hello").eos()]);
    // The stream takes no more data: only the connection gets its credit.
    assert_eq!(sent(&mut srv), ["WINDOW_UPDATE(0, 5)"]);
    assert_eq!(srv.stream_state(1), StreamState::HalfClosedRemote);
}

#[test]
fn test_open_recv_padded_data() {
    let mut srv = server_open(1);
    recv(&mut srv, &[data(1, b"abc").padded(6)]);
    // 3 data + 1 Pad Length + 6 padding are flow-controlled (§6.1).
    assert_eq!(
        sent(&mut srv),
        ["WINDOW_UPDATE(1, 10)", "WINDOW_UPDATE(0, 10)"]
    );
    assert_eq!(
        events(&mut srv),
        [Event::Data {
            stream: 1,
            data: b"abc".to_vec(),
            end_stream: false
        }]
    );
}

#[test]
fn test_open_recv_trailers() {
    let mut srv = server_open(1);
    recv(&mut srv, &[headers(1, &[("trailer", "x")]).eos()]);
    assert_eq!(srv.stream_state(1), StreamState::HalfClosedRemote);
    assert!(matches!(
        &events(&mut srv)[..],
        [Event::Headers {
            end_stream: true,
            ..
        }]
    ));
}

#[test]
fn test_open_recv_second_headers_without_end_stream() {
    let mut srv = server_open(1);
    recv(&mut srv, &[headers(1, &[("trailer", "x")])]);
    assert_eq!(sent(&mut srv), ["RST_STREAM(1, PROTOCOL_ERROR)"]);
    assert_eq!(srv.stream_state(1), StreamState::Closed);
    assert!(!srv.is_closed());
}

#[test]
fn test_open_recv_informational_then_final() {
    let mut cli = client();
    cli.send_request(REQ, true).unwrap();
    recv(
        &mut cli,
        &[
            headers(1, &[(":status", "103")]),
            headers(1, OK),
            data(1, b"").eos(),
        ],
    );
    assert_eq!(cli.stream_state(1), StreamState::Closed);
    assert_eq!(
        sent(&mut cli),
        vec![String::from("HEADERS(1, END_STREAM, END_HEADERS)")]
    );
    assert_eq!(events(&mut cli).len(), 3);
}

#[test]
fn test_open_recv_rst_stream() {
    let mut srv = server_open(1);
    srv.send_headers(1, RESP, false).unwrap();
    recv(&mut srv, &[rst(1, ErrorCode::CANCEL)]);
    assert_eq!(srv.stream_state(1), StreamState::Closed);
    assert_eq!(
        events(&mut srv),
        [Event::Reset {
            stream: 1,
            code: ErrorCode::CANCEL
        }]
    );
    assert!(srv.send_data(1, b"x", true).is_err());
}

#[test]
fn test_open_send_reset() {
    let mut srv = server_open(1);
    srv.reset(1, ErrorCode::INTERNAL_ERROR).unwrap();
    assert_eq!(sent(&mut srv), ["RST_STREAM(1, INTERNAL_ERROR)"]);
    assert_eq!(srv.stream_state(1), StreamState::Closed);
    assert_eq!(
        srv.reset(1, ErrorCode::CANCEL),
        Err(CallError::InvalidState {
            stream: 1,
            state: StreamState::Closed
        })
    );
}

// ---------------------------------------------------------------------------
// Tests for the half-closed (local) state.

#[test]
fn test_half_closed_local_recv_data_end_stream() {
    let mut srv = server_half_closed_local();
    assert_eq!(srv.stream_state(1), StreamState::HalfClosedLocal);
    recv(&mut srv, &[data(1, b"rest").eos()]);
    assert_eq!(srv.stream_state(1), StreamState::Closed);
    assert_eq!(sent(&mut srv), ["WINDOW_UPDATE(0, 4)"]);
}

#[test]
fn test_half_closed_local_send_data() {
    let mut srv = server_half_closed_local();
    assert_eq!(
        srv.send_data(1, b"x", false),
        Err(CallError::InvalidState {
            stream: 1,
            state: StreamState::HalfClosedLocal
        })
    );
}

#[test]
fn test_half_closed_local_recv_window_update_and_priority() {
    let mut srv = server_half_closed_local();
    recv(&mut srv, &[window_update(1, 5), priority(1)]);
    assert!(sent(&mut srv).is_empty());
    assert_eq!(srv.stream_state(1), StreamState::HalfClosedLocal);
}

// ---------------------------------------------------------------------------
// Tests for the half-closed (remote) state.

#[test]
fn test_half_closed_remote_recv_data() {
    let mut srv = server_half_closed_remote();
    recv(&mut srv, &[data(1, b"late")]);
    assert_eq!(
        sent(&mut srv),
        ["WINDOW_UPDATE(0, 4)", "RST_STREAM(1, STREAM_CLOSED)"]
    );
    assert_eq!(srv.stream_state(1), StreamState::Closed);
    assert!(!srv.is_closed());
}

#[test]
fn test_half_closed_remote_recv_headers() {
    let mut srv = server_half_closed_remote();
    recv(&mut srv, &[headers(1, &[("x", "y")]).eos()]);
    assert_eq!(sent(&mut srv), ["RST_STREAM(1, STREAM_CLOSED)"]);
    assert_eq!(srv.stream_state(1), StreamState::Closed);
}

#[test]
fn test_half_closed_remote_recv_window_update() {
    let mut srv = server_half_closed_remote();
    recv(&mut srv, &[window_update(1, 1), priority(1)]);
    assert!(sent(&mut srv).is_empty());
    assert_eq!(srv.stream_state(1), StreamState::HalfClosedRemote);
}

#[test]
fn test_half_closed_remote_send_response() {
    let mut srv = server_half_closed_remote();
    srv.send_headers(1, RESP, false).unwrap();
    srv.send_data(1, b"body", true).unwrap();
    assert_eq!(
        sent(&mut srv),
        ["HEADERS(1, END_HEADERS)", "DATA(1, 4, END_STREAM)"]
    );
    assert_eq!(srv.stream_state(1), StreamState::Closed);
}

// ---------------------------------------------------------------------------
// Tests for the closed state.

#[test]
fn test_closed_recv_data_after_end_stream() {
    let mut srv = server_closed();
    recv(&mut srv, &[data(1, b"x")]);
    assert_conn_error(&mut srv, 1, ErrorCode::STREAM_CLOSED);
}

#[test]
fn test_closed_recv_window_update_and_rst_after_end_stream() {
    let mut srv = server_closed();
    recv(
        &mut srv,
        &[
            window_update(1, 10),
            rst(1, ErrorCode::NO_ERROR),
            priority(1),
        ],
    );
    assert!(sent(&mut srv).is_empty());
    assert!(events(&mut srv).is_empty());
    assert!(!srv.is_closed());
}

#[test]
fn test_closed_recv_frames_after_our_reset() {
    let mut srv = server_open(1);
    srv.reset(1, ErrorCode::CANCEL).unwrap();
    sent(&mut srv);
    recv(
        &mut srv,
        &[
            data(1, b"in flight"),
            headers(1, &[("t", "x")]).eos(),
            window_update(1, 1),
            rst(1, ErrorCode::CANCEL),
        ],
    );
    // Ignored, but DATA still counts for the connection window (§6.9).
    assert_eq!(sent(&mut srv), ["WINDOW_UPDATE(0, 9)"]);
    assert!(events(&mut srv).is_empty());
}

#[test]
fn test_closed_recv_data_after_peer_reset() {
    let mut srv = server_open(1);
    recv(&mut srv, &[rst(1, ErrorCode::CANCEL), data(1, b"x")]);
    assert_eq!(
        sent(&mut srv),
        ["WINDOW_UPDATE(0, 1)", "RST_STREAM(1, STREAM_CLOSED)"]
    );
    assert!(!srv.is_closed());
}

#[test]
fn test_closed_recv_headers_on_implicitly_closed() {
    let mut srv = server();
    recv(&mut srv, &[headers(3, GET), data(1, b"x")]);
    assert_conn_error(&mut srv, 3, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------------------
// Tests for flow control (RFC 9113 §6.9).

#[test]
fn test_flow_blocked_stream_does_not_block_another() {
    let mut cli = client_with(
        Settings::default(),
        &[(frame::SETTINGS_INITIAL_WINDOW_SIZE, 10)],
    );
    let a = cli.send_request(REQ, false).unwrap();
    let b = cli.send_request(REQ, false).unwrap();
    sent(&mut cli);
    cli.send_data(a, &[1; 25], true).unwrap();
    cli.send_data(b, &[2; 5], true).unwrap();
    assert_eq!(sent(&mut cli), ["DATA(1, 10)", "DATA(3, 5, END_STREAM)"]);
    // WINDOW_UPDATE releases what waits.
    recv(&mut cli, &[window_update(1, 10)]);
    assert_eq!(sent(&mut cli), ["DATA(1, 10)"]);
    recv(&mut cli, &[window_update(1, 100)]);
    assert_eq!(sent(&mut cli), ["DATA(1, 5, END_STREAM)"]);
}

#[test]
fn test_flow_connection_window_blocks_all() {
    let mut cli = client_with(
        Settings::default(),
        &[(frame::SETTINGS_INITIAL_WINDOW_SIZE, 100_000)],
    );
    let a = cli.send_request(REQ, false).unwrap();
    let b = cli.send_request(REQ, false).unwrap();
    sent(&mut cli);
    cli.send_data(a, &[0; 65_535], false).unwrap();
    cli.send_data(b, b"tail", true).unwrap();
    let out = sent(&mut cli);
    assert_eq!(out.len(), 4, "{out:?}");
    assert_eq!(out[3], "DATA(1, 16383)");
    recv(&mut cli, &[window_update(0, 4)]);
    assert_eq!(sent(&mut cli), ["DATA(3, 4, END_STREAM)"]);
}

#[test]
fn test_flow_initial_window_size_change() {
    let mut cli = client_with(
        Settings::default(),
        &[(frame::SETTINGS_INITIAL_WINDOW_SIZE, 10)],
    );
    let a = cli.send_request(REQ, false).unwrap();
    sent(&mut cli);
    cli.send_data(a, &[0; 30], false).unwrap();
    assert_eq!(sent(&mut cli), ["DATA(1, 10)"]);
    // 10 → 5: the window goes to −5 (§6.9.2).
    recv(
        &mut cli,
        &[settings(&[(frame::SETTINGS_INITIAL_WINDOW_SIZE, 5)])],
    );
    assert_eq!(sent(&mut cli), ["SETTINGS(ACK)"]);
    recv(&mut cli, &[window_update(1, 5)]);
    assert!(sent(&mut cli).is_empty());
    recv(&mut cli, &[window_update(1, 3)]);
    assert_eq!(sent(&mut cli), ["DATA(1, 3)"]);
    // 5 → 20 adds 15 to the open stream.
    recv(
        &mut cli,
        &[settings(&[(frame::SETTINGS_INITIAL_WINDOW_SIZE, 20)])],
    );
    assert_eq!(sent(&mut cli), ["SETTINGS(ACK)", "DATA(1, 15)"]);
}

#[test]
fn test_flow_data_split_by_max_frame_size() {
    let mut srv = server_half_closed_remote();
    srv.send_headers(1, RESP, false).unwrap();
    srv.send_data(1, &[7; 20_000], true).unwrap();
    assert_eq!(
        sent(&mut srv),
        [
            "HEADERS(1, END_HEADERS)",
            "DATA(1, 16384)",
            "DATA(1, 3616, END_STREAM)"
        ]
    );
}

#[test]
fn test_flow_recv_stream_window_exceeded() {
    let mut srv = server_with(Settings {
        initial_window_size: 10,
        ..Settings::default()
    });
    recv(&mut srv, &[headers(1, GET), data(1, &[0; 11])]);
    assert_eq!(
        sent(&mut srv),
        ["WINDOW_UPDATE(0, 11)", "RST_STREAM(1, FLOW_CONTROL_ERROR)"]
    );
    assert!(!srv.is_closed());
}

#[test]
fn test_flow_recv_connection_window_exceeded() {
    let mut srv = server_with(Settings {
        max_frame_size: 100_000,
        initial_window_size: 100_000,
        ..Settings::default()
    });
    recv(&mut srv, &[headers(1, GET), data(1, &[0; 65_536])]);
    assert_conn_error(&mut srv, 1, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn test_flow_window_update_errors() {
    let mut srv = server_open(1);
    recv(&mut srv, &[window_update(1, 0)]);
    assert_eq!(sent(&mut srv), ["RST_STREAM(1, PROTOCOL_ERROR)"]);
    let mut srv = server_open(1);
    recv(&mut srv, &[window_update(1, (1 << 31) - 1)]);
    assert_eq!(sent(&mut srv), ["RST_STREAM(1, FLOW_CONTROL_ERROR)"]);
    let mut srv = server_open(1);
    recv(&mut srv, &[window_update(0, 0)]);
    assert_conn_error(&mut srv, 1, ErrorCode::PROTOCOL_ERROR);
    let mut srv = server_open(1);
    recv(&mut srv, &[window_update(0, (1 << 31) - 1)]);
    assert_conn_error(&mut srv, 1, ErrorCode::FLOW_CONTROL_ERROR);
}

// ---------------------------------------------------------------------------
// Tests for GOAWAY (RFC 9113 §6.8).

#[test]
fn test_goaway_recv_refuses_higher_streams() {
    let mut cli = client();
    cli.send_request(REQ, false).unwrap();
    cli.send_request(REQ, false).unwrap();
    recv(&mut cli, &[goaway(1, ErrorCode::NO_ERROR)]);
    assert_eq!(
        events(&mut cli),
        [Event::GoAway {
            last_stream: 1,
            code: ErrorCode::NO_ERROR
        }]
    );
    assert_eq!(cli.stream_state(1), StreamState::Open);
    assert_eq!(cli.stream_state(3), StreamState::Closed);
    assert_eq!(cli.send_request(REQ, true), Err(CallError::GoingAway));
    assert!(!cli.is_closed());
    // Stream 1 still completes.
    recv(&mut cli, &[headers(1, OK).eos()]);
    assert_eq!(cli.stream_state(1), StreamState::HalfClosedRemote);
}

#[test]
fn test_goaway_recv_error_closes() {
    let mut cli = client();
    recv(&mut cli, &[goaway(0, ErrorCode::ENHANCE_YOUR_CALM)]);
    assert!(cli.is_closed());
    assert_eq!(
        cli.send_request(REQ, true),
        Err(CallError::ConnectionClosed)
    );
}

#[test]
fn test_goaway_sent_ignores_new_streams() {
    let mut srv = server_open(1);
    srv.goaway(ErrorCode::NO_ERROR);
    assert_eq!(sent(&mut srv), ["GOAWAY(1, NO_ERROR)"]);
    recv(&mut srv, &[headers(3, GET), data(3, b"x")]);
    assert_eq!(sent(&mut srv), ["WINDOW_UPDATE(0, 1)"]);
    assert!(events(&mut srv).is_empty());
    // Stream 1 goes on.
    srv.send_headers(1, RESP, true).unwrap();
    assert_eq!(sent(&mut srv), ["HEADERS(1, END_STREAM, END_HEADERS)"]);
    // A second GOAWAY does not raise the last stream.
    srv.goaway(ErrorCode::NO_ERROR);
    assert_eq!(sent(&mut srv), ["GOAWAY(1, NO_ERROR)"]);
}

#[test]
fn test_goaway_after_connection_error_nothing_processed() {
    let mut srv = server_open(1);
    recv(&mut srv, &[data(0, b"x")]);
    assert_conn_error(&mut srv, 1, ErrorCode::PROTOCOL_ERROR);
    recv(&mut srv, &[ping([1; 8]), headers(3, GET)]);
    assert!(sent(&mut srv).is_empty());
    assert!(events(&mut srv).is_empty());
    assert_eq!(
        srv.send_headers(1, RESP, true),
        Err(CallError::ConnectionClosed)
    );
}

#[test]
fn test_goaway_eof_closes() {
    let mut srv = server_open(1);
    srv.handle_eof();
    assert!(srv.is_closed());
    assert_eq!(
        srv.send_data(1, b"x", true),
        Err(CallError::ConnectionClosed)
    );
}

// ---------------------------------------------------------------------------
// Tests for header blocks and CONTINUATION (RFC 9113 §6.2, §6.10).

#[test]
fn test_continuation_assembles_block() {
    let mut srv = server();
    recv(
        &mut srv,
        &[
            headers(1, &GET[..2]).more().eos(),
            continuation(1, &GET[2..3]).more(),
            continuation(1, &GET[3..]),
        ],
    );
    assert_eq!(
        events(&mut srv),
        [Event::Headers {
            stream: 1,
            fields: owned(GET),
            end_stream: true
        }]
    );
    assert_eq!(srv.stream_state(1), StreamState::HalfClosedRemote);
}

#[test]
fn test_continuation_interrupted_by_other_frame() {
    let mut srv = server();
    recv(&mut srv, &[headers(1, GET).more(), ping([0; 8])]);
    assert_conn_error(&mut srv, 0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_continuation_on_other_stream() {
    let mut srv = server();
    recv(&mut srv, &[headers(1, GET).more(), continuation(3, &[])]);
    assert_conn_error(&mut srv, 0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_continuation_without_header_block() {
    let mut srv = server_open(1);
    recv(&mut srv, &[continuation(1, &[("a", "b")])]);
    assert_conn_error(&mut srv, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn test_continuation_hpack_error() {
    let mut srv = server();
    // Indexed field 70: beyond the static table, and the dynamic one is empty.
    recv(
        &mut srv,
        &[raw(frame::HEADERS, frame::END_HEADERS, 1, &[0xc6])],
    );
    assert_conn_error(&mut srv, 0, ErrorCode::COMPRESSION_ERROR);
}

#[test]
fn test_continuation_sent_for_large_block() {
    let mut pair = Pair::new(Settings::default(), Settings::default());
    let big = vec![b'v'; 40_000];
    let fields: Vec<(&[u8], &[u8])> = vec![
        (b":method", b"GET"),
        (b":scheme", b"http"),
        (b":path", b"/"),
        (b"x-big", &big),
    ];
    assert_eq!(pair.client.send_request(&fields, true), Ok(1));
    let out = decode_all(&pair.client.poll_transmit().unwrap_or_default());
    assert_eq!(
        out.iter().map(wire).collect::<Vec<_>>(),
        [
            "HEADERS(1, END_STREAM)",
            "CONTINUATION(1)",
            "CONTINUATION(1, END_HEADERS)"
        ]
    );
    let mut bytes = Vec::new();
    for f in &out {
        f.encode(&mut bytes);
    }
    pair.server.handle_bytes(&bytes);
    match &events(&mut pair.server)[..] {
        [Event::Headers { fields, .. }] => assert_eq!(fields[3].1, big),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Tests of whole exchanges between a client and a server.

#[test]
fn test_pair_request_response_with_trailers() {
    let mut pair = Pair::new(Settings::default(), Settings::default());
    let id = pair.client.send_request(REQ, false).unwrap();
    pair.client.send_data(id, b"request body", false).unwrap();
    pair.client
        .send_headers(id, &[(b"x-trailer", b"1")], true)
        .unwrap();
    pair.drive();
    let ev = events(&mut pair.server);
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert!(matches!(
        &ev[2],
        Event::Headers {
            end_stream: true,
            ..
        }
    ));
    assert_eq!(pair.server.stream_state(id), StreamState::HalfClosedRemote);
    pair.server.send_headers(id, RESP, false).unwrap();
    pair.server.send_data(id, b"response", true).unwrap();
    pair.drive();
    let ev = events(&mut pair.client);
    assert_eq!(
        ev,
        [
            Event::Headers {
                stream: 1,
                fields: owned(OK),
                end_stream: false
            },
            Event::Data {
                stream: 1,
                data: b"response".to_vec(),
                end_stream: true
            }
        ]
    );
    assert_eq!(pair.client.stream_state(id), StreamState::Closed);
    assert_eq!(pair.server.stream_state(id), StreamState::Closed);
}

#[test]
fn test_pair_trailers_wait_behind_blocked_data() {
    let mut pair = Pair::new(
        Settings::default(),
        Settings {
            initial_window_size: 4,
            ..Settings::default()
        },
    );
    let id = pair.client.send_request(REQ, false).unwrap();
    pair.client.send_data(id, b"12345678", false).unwrap();
    pair.client
        .send_headers(id, &[(b"x-t", b"1")], true)
        .unwrap();
    assert_eq!(
        pair.client.send_data(id, b"more", false).map_err(|_| ()),
        Err(())
    );
    pair.drive();
    let ev = events(&mut pair.server);
    let data: Vec<u8> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Data { data, .. } => Some(data.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(data, b"12345678");
    assert!(matches!(
        ev.last(),
        Some(Event::Headers {
            end_stream: true,
            ..
        })
    ));
}

#[test]
fn test_pair_server_push() {
    let mut pair = Pair::new(Settings::default(), Settings::default());
    let id = pair.client.send_request(REQ, true).unwrap();
    pair.drive();
    events(&mut pair.server);
    let promised = pair.server.push_promise(id, REQ).unwrap();
    assert_eq!(promised, 2);
    pair.server.send_headers(id, RESP, true).unwrap();
    pair.server.send_headers(promised, RESP, false).unwrap();
    pair.server.send_data(promised, b"pushed", true).unwrap();
    pair.drive();
    let ev = events(&mut pair.client);
    assert!(
        matches!(
            ev[0],
            Event::PushPromise {
                stream: 1,
                promised: 2,
                ..
            }
        ),
        "{ev:?}"
    );
    assert_eq!(ev.len(), 4);
    assert_eq!(pair.client.stream_state(2), StreamState::Closed);
    assert_eq!(pair.server.stream_state(2), StreamState::Closed);
}

#[test]
fn test_pair_header_table_size_zero() {
    // The server's decoder allows no dynamic table: the client's encoder
    // must say so before its first block (RFC 7541 §4.2).
    let mut pair = Pair::new(
        Settings::default(),
        Settings {
            header_table_size: 0,
            ..Settings::default()
        },
    );
    for _ in 0..3 {
        pair.client.send_request(REQ, true).unwrap();
    }
    pair.drive();
    assert_eq!(events(&mut pair.server).len(), 3);
    assert!(!pair.server.is_closed());
}

#[test]
fn test_closed_recv_push_promise_after_our_reset() {
    let mut cli = client();
    cli.send_request(REQ, true).unwrap();
    cli.reset(1, ErrorCode::CANCEL).unwrap();
    sent(&mut cli);
    // > PUSH_PROMISE causes a stream to become "reserved" even if the
    // > associated stream has been reset. (§5.1)
    recv(&mut cli, &[push_promise(1, 2, GET)]);
    assert_eq!(sent(&mut cli), ["RST_STREAM(2, CANCEL)"]);
    assert_eq!(cli.stream_state(2), StreamState::Closed);
    assert!(events(&mut cli).is_empty());
    assert!(!cli.is_closed());
}

// ---------------------------------------------------------------------------
// Tests for what a peer can make the connection hold (RFC 9113 §10.5).

/// A header block that never ends is held up to `Limits::header_block`,
/// then meets ENHANCE_YOUR_CALM (the CONTINUATION flood).
#[test]
fn test_limits_continuation_flood_meets_enhance_your_calm() {
    let mut srv = server();
    let block = hpack(&[("x-flood", &"a".repeat(1000))]);
    recv(&mut srv, &[raw(frame::HEADERS, 0, 1, &block)]);
    let rounds = Limits::default().header_block / block.len() + 1;
    for _ in 0..rounds {
        recv(&mut srv, &[raw(frame::CONTINUATION, 0, 1, &block)]);
    }
    assert_conn_error(&mut srv, 0, ErrorCode::ENHANCE_YOUR_CALM);
}

/// A small block of references to one large table entry decodes beyond
/// `Limits::header_list`: ENHANCE_YOUR_CALM, and nothing of it is kept
/// beyond the limit (the HPACK bomb).
#[test]
fn test_limits_hpack_bomb_meets_enhance_your_calm() {
    let mut srv = server();
    // A literal with incremental indexing, new name (RFC 7541 §6.2.1).
    // Pseudo-header fields first (RFC 9113 §8.3).
    let mut setup = hpack(&[(":method", "GET"), (":scheme", "http"), (":path", "/")]);
    setup.push(0x40);
    for s in ["x-bomb", &"b".repeat(4000)] {
        loona_hpack::encoder::encode_integer_into(s.len(), 7, 0, &mut setup).unwrap();
        setup.extend_from_slice(s.as_bytes());
    }
    recv(
        &mut srv,
        &[raw(
            frame::HEADERS,
            frame::END_HEADERS | frame::END_STREAM,
            1,
            &setup,
        )],
    );
    assert!(sent(&mut srv).is_empty());
    let mut bomb = hpack(&[(":method", "GET"), (":scheme", "http"), (":path", "/")]);
    bomb.extend(std::iter::repeat_n(0x80 | 62, 1000));
    recv(
        &mut srv,
        &[raw(
            frame::HEADERS,
            frame::END_HEADERS | frame::END_STREAM,
            3,
            &bomb,
        )],
    );
    assert_conn_error(&mut srv, 1, ErrorCode::ENHANCE_YOUR_CALM);
}

/// Rapid reset: streams opened and reset without end leave at most
/// `Limits::closed_streams` behind; a forgotten one is closed (implicitly).
#[test]
fn test_limits_rapid_reset_forgets_old_streams() {
    let mut srv = server();
    let req = [(":method", "GET"), (":scheme", "http"), (":path", "/")];
    for k in 0..1000u32 {
        let id = 2 * k + 1;
        recv(&mut srv, &[headers(id, &req), rst(id, ErrorCode::CANCEL)]);
        events(&mut srv);
    }
    assert!(sent(&mut srv).is_empty());
    assert!(srv.remembered_streams() <= Limits::default().closed_streams);
    assert_eq!(srv.stream_state(1), StreamState::Closed);
    assert_eq!(srv.stream_state(1999), StreamState::Closed);
}

// Tests of header semantics (RFC 9113 §8) and HPACK errors (RFC 7541).

/// GET with `extra` after its pseudo-headers, less the fields named in `drop`.
fn get_with(
    drop: &[&str],
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<(&str, &str)> = GET
        .iter()
        .copied()
        .filter(|(n, _)| !drop.contains(n))
        .collect();
    v.extend(extra);
    v
}

#[test]
fn test_idle_recv_malformed_request_is_a_stream_error() {
    let cases: Vec<Vec<(&str, &str)>> = vec![
        get_with(&[":method"], &[]),
        get_with(&[":scheme"], &[]),
        get_with(&[":path"], &[]),
        get_with(&[], &[(":path", "/")]),
        get_with(&[], &[(":status", "200")]),
        get_with(&[], &[(":tracewright", "1")]),
        get_with(&[], &[("X-Upper", "1")]),
        get_with(&[], &[("x:colon", "1")]),
        get_with(&[], &[("x", "a\rb")]),
        get_with(&[], &[("x", "a\nb")]),
        get_with(&[], &[("x", "a\0b")]),
        get_with(&[], &[("connection", "keep-alive")]),
        get_with(&[], &[("keep-alive", "timeout=5")]),
        get_with(&[], &[("proxy-connection", "keep-alive")]),
        get_with(&[], &[("transfer-encoding", "chunked")]),
        get_with(&[], &[("upgrade", "websocket")]),
        get_with(&[], &[("te", "gzip")]),
        vec![
            (":method", "GET"),
            ("x", "1"),
            (":scheme", "http"),
            (":path", "/"),
        ],
    ];
    for fields in cases {
        let mut srv = server();
        recv(&mut srv, &[headers(1, &fields).eos()]);
        assert_eq!(
            sent(&mut srv),
            ["RST_STREAM(1, PROTOCOL_ERROR)"],
            "{fields:?}"
        );
        assert!(events(&mut srv).is_empty(), "{fields:?}");
        assert_eq!(srv.stream_state(1), StreamState::Closed);
        assert!(!srv.is_closed());
    }
}

#[test]
fn test_idle_recv_request_with_te_trailers_is_taken() {
    let mut srv = server();
    recv(
        &mut srv,
        &[headers(1, &get_with(&[], &[("te", "trailers")])).eos()],
    );
    assert!(sent(&mut srv).is_empty());
    assert_eq!(srv.stream_state(1), StreamState::HalfClosedRemote);
}

#[test]
fn test_open_recv_trailers_with_a_pseudo_header_is_a_stream_error() {
    let mut srv = server_open(1);
    recv(&mut srv, &[headers(1, &[(":path", "/")]).eos()]);
    assert_eq!(sent(&mut srv), ["RST_STREAM(1, PROTOCOL_ERROR)"]);
}

#[test]
fn test_open_recv_data_against_content_length() {
    let post = get_with(&[], &[("content-length", "2")]);
    // Short of it when the message ends.
    let mut srv = server();
    recv(&mut srv, &[headers(1, &post), data(1, b"x").eos()]);
    let out = sent(&mut srv);
    assert_eq!(
        out.last().map(String::as_str),
        Some("RST_STREAM(1, PROTOCOL_ERROR)"),
        "{out:?}"
    );
    // Beyond it as soon as it comes.
    let mut srv = server();
    recv(&mut srv, &[headers(1, &post), data(1, b"xyz")]);
    let out = sent(&mut srv);
    assert_eq!(
        out.last().map(String::as_str),
        Some("RST_STREAM(1, PROTOCOL_ERROR)"),
        "{out:?}"
    );
    // Exactly it.
    let mut srv = server();
    recv(&mut srv, &[headers(1, &post), data(1, b"xy").eos()]);
    assert!(!sent(&mut srv).iter().any(|l| l.starts_with("RST_STREAM")));
    assert_eq!(srv.stream_state(1), StreamState::HalfClosedRemote);
}

#[test]
fn test_half_closed_local_recv_malformed_response_is_a_stream_error() {
    for fields in [
        vec![("content-type", "text/plain")],
        vec![(":status", "200"), (":method", "GET")],
        vec![(":status", "200"), (":status", "200")],
        vec![(":status", "200"), ("Upper", "1")],
        vec![(":status", "200"), ("transfer-encoding", "chunked")],
    ] {
        let mut cli = client();
        assert_eq!(cli.send_request(REQ, true), Ok(1));
        sent(&mut cli);
        recv(&mut cli, &[headers(1, &fields).eos()]);
        assert_eq!(
            sent(&mut cli),
            ["RST_STREAM(1, PROTOCOL_ERROR)"],
            "{fields:?}"
        );
        assert_eq!(cli.stream_state(1), StreamState::Closed);
    }
}

#[test]
fn test_half_closed_local_recv_content_length_of_a_head_response_is_taken() {
    let mut cli = client();
    let head: &[(&[u8], &[u8])] = &[
        (b":method", b"HEAD"),
        (b":scheme", b"https"),
        (b":path", b"/"),
    ];
    assert_eq!(cli.send_request(head, true), Ok(1));
    sent(&mut cli);
    recv(
        &mut cli,
        &[headers(1, &[(":status", "200"), ("content-length", "9")]).eos()],
    );
    assert!(sent(&mut cli).is_empty());
    assert_eq!(cli.stream_state(1), StreamState::Closed);
}

#[test]
fn test_idle_recv_hpack_errors_are_compression_errors() {
    let mut bad_huffman = hpack(GET);
    // A literal whose name is Huffman-coded 0xff: padding of 8 bits (RFC 7541 §5.2).
    bad_huffman.extend([0x00, 0x81, 0xff, 0x01, b'x']);
    let mut above_limit = Vec::new();
    // A table size update to 4097, above SETTINGS_HEADER_TABLE_SIZE 4096 (RFC 7541 §4.2).
    loona_hpack::encoder::encode_integer_into(4097, 5, 0x20, &mut above_limit).unwrap();
    above_limit.extend(hpack(GET));
    for block in [bad_huffman, above_limit] {
        let mut srv = server();
        recv(
            &mut srv,
            &[raw(frame::HEADERS, frame::END_HEADERS, 1, &block).eos()],
        );
        assert_conn_error(&mut srv, 0, ErrorCode::COMPRESSION_ERROR);
    }
}

#[test]
fn test_client_recv_push_promise_of_a_malformed_request_resets_the_promised_stream() {
    let mut cli = client();
    assert_eq!(cli.send_request(REQ, true), Ok(1));
    sent(&mut cli);
    recv(&mut cli, &[push_promise(1, 2, &get_with(&[":path"], &[]))]);
    assert_eq!(sent(&mut cli), ["RST_STREAM(2, PROTOCOL_ERROR)"]);
}
