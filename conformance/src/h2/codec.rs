//! The harness's HTTP/2 frame codec. It is ours, not the stack's: the
//! harness must write what no conforming stack writes (frames of the wrong
//! length, DATA on stream 0, CONTINUATION out of nowhere). Header blocks go
//! through `loona-hpack` both ways, with its dynamic table: the harness
//! writes each field-block class a trace names ([`FieldClass`], RFC 9113
//! §8, RFC 7541), and [`BlockReader`] decodes and checks the IUT's blocks.

use tracewright_vocab::h2::{
    Attack, ErrorName, FieldClass, Frame, FrameSpec, FrameType, CONTENT_LENGTH, UNKNOWN_TYPE_CODE,
};

/// A frame's length field is 24 bits (RFC 9113 §4.1).
pub const MAX_WIRE_LENGTH: u64 = 1 << 24;

/// A payload that does not fit a frame's 24-bit length field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a frame payload of {0} bytes does not fit the 24-bit length field (RFC 9113 §4.1): the limit is 16777215")]
pub struct FrameTooLong(pub u64);

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The value of setting `id` in a SETTINGS payload (the last one wins,
/// RFC 9113 §6.5.1).
fn setting(kind: FrameType, payload: &[u8], id: u16) -> Option<u32> {
    if kind != FrameType::Settings {
        return None;
    }
    payload
        .chunks_exact(6)
        .filter(|c| u16::from_be_bytes([c[0], c[1]]) == id)
        .map(|c| u32::from_be_bytes([c[2], c[3], c[4], c[5]]))
        .next_back()
}

/// Splits bytes from the IUT into frames; `buf` keeps a partial frame.
/// Unknown frame types are skipped (RFC 9113 §4.1).
pub fn decode_frames(buf: &mut Vec<u8>) -> Vec<Frame> {
    decode_frames_with(buf, |_, _, _, _| {})
}

/// [`decode_frames`], and each whole frame's type, flags, stream and
/// payload to `raw` as it is split off (the header blocks' fragments).
pub fn decode_frames_with(
    buf: &mut Vec<u8>,
    mut raw: impl FnMut(u8, u8, u32, &[u8]),
) -> Vec<Frame> {
    let mut out = Vec::new();
    loop {
        if buf.len() < 9 {
            break;
        }
        let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
        if buf.len() < 9 + len {
            break;
        }
        let ty = buf[3];
        let flags = buf[4];
        let stream = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
        let p: Vec<u8> = buf[9..9 + len].to_vec();
        buf.drain(..9 + len);
        raw(ty, flags, stream, &p);
        let Some(kind) = FrameType::from_code(ty) else {
            continue;
        };
        let word = |at: usize| -> u32 {
            p.get(at..at + 4)
                .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let padded = flags & 0x8 != 0 && matches!(kind, FrameType::Data);
        let data_len = if padded {
            (len as u32).saturating_sub(1 + u32::from(p.first().copied().unwrap_or(0)))
        } else {
            len as u32
        };
        out.push(Frame {
            kind,
            stream,
            end_stream: flags & 0x1 != 0 && matches!(kind, FrameType::Data | FrameType::Headers),
            ack: flags & 0x1 != 0 && matches!(kind, FrameType::Settings | FrameType::Ping),
            len: if kind == FrameType::Data {
                data_len
            } else {
                len as u32
            },
            error: match kind {
                FrameType::RstStream => ErrorName::from_code(word(0)),
                FrameType::Goaway => ErrorName::from_code(word(4)),
                _ => None,
            },
            promised: if kind == FrameType::PushPromise {
                word(0) & 0x7fff_ffff
            } else {
                0
            },
            last_stream: if kind == FrameType::Goaway {
                word(0) & 0x7fff_ffff
            } else {
                0
            },
            increment: if kind == FrameType::WindowUpdate {
                word(0) & 0x7fff_ffff
            } else {
                0
            },
            max_concurrent_streams: setting(kind, &p, 3),
            initial_window_size: setting(kind, &p, 4),
            max_frame_size: setting(kind, &p, 5),
            enable_push: setting(kind, &p, 2),
            header_table_size: setting(kind, &p, 1),
        });
    }
    out
}

/// The harness's encoder: frames as the trace writes them, legal or not.
pub struct Encoder {
    hpack: loona_hpack::Encoder<'static>,
    /// The harness plays a client (it sends requests).
    client: bool,
    /// Streams on which the harness sent a header block already.
    headers_sent: Vec<u32>,
    /// The IUT's SETTINGS_HEADER_TABLE_SIZE: the largest dynamic table its
    /// decoder takes (RFC 9113 §6.5.2; RFC 7541 §4.2).
    peer_table_size: u32,
    /// The request path on a stream, where it is not `/` (a server's
    /// push path, RFC 9113 §8.4).
    paths: Vec<(u32, String)>,
}

/// SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 §6.5.2).
pub const DEFAULT_HEADER_TABLE_SIZE: u32 = 4096;

/// A field line, owned.
type Field = (Vec<u8>, Vec<u8>);

fn field(name: &str, value: &str) -> Field {
    (name.as_bytes().to_vec(), value.as_bytes().to_vec())
}

/// The harness's plain request for `path` (RFC 9113 §8.3.1).
fn request(path: &str) -> Vec<Field> {
    vec![
        field(":method", "GET"),
        field(":scheme", "http"),
        field(":path", path),
        field(":authority", "tracewright.test"),
    ]
}

/// The harness's plain response (RFC 9113 §8.3.2).
fn response() -> Vec<Field> {
    vec![field(":status", "200")]
}

/// The field lines of a block of class `c` (RFC 9113 §8.1–§8.3), from the
/// plain request or response `base`. The HPACK classes keep `base` here;
/// their faults are octets [`hpack_fault`] adds.
fn fields_of(c: FieldClass, mut base: Vec<Field>, request: bool) -> Vec<Field> {
    use FieldClass as C;
    let drop = |v: &mut Vec<Field>, name: &str| v.retain(|(n, _)| n != name.as_bytes());
    // Pseudo-headers come first (§8.3): extra ones go after the last.
    let pseudo_end = |v: &Vec<Field>| {
        v.iter()
            .take_while(|(n, _)| n.first() == Some(&b':'))
            .count()
    };
    match c {
        C::TableSizeUpdate | C::TableSizeAboveLimit | C::BadIndex | C::BadHuffman => {}
        C::NoMethod => drop(&mut base, ":method"),
        C::NoScheme => drop(&mut base, ":scheme"),
        C::NoPath => drop(&mut base, ":path"),
        C::StatusInRequest | C::MethodInResponse | C::UnknownPseudo | C::DuplicatePseudo => {
            let extra = match c {
                C::StatusInRequest => field(":status", "200"),
                C::MethodInResponse => field(":method", "GET"),
                C::UnknownPseudo => field(":tracewright", "1"),
                _ if request => field(":path", "/"),
                _ => field(":status", "200"),
            };
            let at = pseudo_end(&base);
            base.insert(at, extra);
        }
        C::TeNotTrailers => base.push(field("te", "gzip")),
        C::TeTrailers => base.push(field("te", "trailers")),
        C::NoStatus => {
            drop(&mut base, ":status");
            base.push(field("content-type", "text/plain"));
        }
        C::PseudoAfterRegular => {
            let at = pseudo_end(&base).saturating_sub(1);
            base.insert(at, field("x-tracewright", "1"));
        }
        C::UppercaseName => base.push(field("X-Tracewright", "1")),
        C::ColonInName => base.push(field("x:tracewright", "1")),
        C::CrInValue => base.push(field("x-tracewright", "a\rb")),
        C::LfInValue => base.push(field("x-tracewright", "a\nb")),
        C::NulInValue => base.push(field("x-tracewright", "a\0b")),
        C::Connection => base.push(field("connection", "keep-alive")),
        C::KeepAlive => base.push(field("keep-alive", "timeout=5")),
        C::ProxyConnection => base.push(field("proxy-connection", "keep-alive")),
        C::TransferEncoding => base.push(field("transfer-encoding", "chunked")),
        C::Upgrade => base.push(field("upgrade", "websocket")),
        C::ContentLength => {
            if request {
                // A request with content is a POST.
                base[0] = field(":method", "POST");
            }
            base.push(field("content-length", &CONTENT_LENGTH.to_string()));
        }
        C::PseudoInTrailers => {
            base = vec![field(":path", "/"), field("x-tracewright", "trailer")];
        }
    }
    base
}

/// An HPACK integer with an `n`-bit prefix under `mask` (RFC 7541 §5.1).
fn hpack_integer(value: usize, n: u8, mask: u8, out: &mut Vec<u8>) {
    loona_hpack::encoder::encode_integer_into(value, n, mask, out).expect("writing to a Vec");
}

/// The octets that break an HPACK class's block, after its fields.
fn hpack_fault(c: FieldClass, out: &mut Vec<u8>) {
    match c {
        FieldClass::BadIndex => {
            // An indexed field line (RFC 7541 §6.1) far beyond the 61
            // static entries and any dynamic table of 4096 octets (at most
            // 128 entries of 32 octets, §4.1).
            hpack_integer(BAD_INDEX, 7, 0x80, out);
        }
        FieldClass::BadHuffman => {
            // A literal without indexing, new name (§6.2.2): the name is one
            // octet of Huffman code (H set) 0xff, eight bits that end no
            // symbol: padding longer than 7 bits (§5.2).
            out.extend([0x00, 0x81, 0xff, 0x01, b'x']);
        }
        _ => {}
    }
}

/// An index no HPACK table of the default size reaches (RFC 7541 §2.3.3).
pub const BAD_INDEX: usize = 1000;

impl Encoder {
    pub fn new(harness_is_client: bool) -> Self {
        Encoder {
            hpack: loona_hpack::Encoder::new(),
            client: harness_is_client,
            headers_sent: Vec::new(),
            peer_table_size: DEFAULT_HEADER_TABLE_SIZE,
            paths: Vec::new(),
        }
    }

    /// The harness's request on `stream` asks for `path`, not `/`.
    pub fn set_path(&mut self, stream: u32, path: &str) {
        self.paths.retain(|(s, _)| *s != stream);
        self.paths.push((stream, path.to_string()));
    }

    fn path(&self, stream: u32) -> String {
        self.paths
            .iter()
            .find(|(s, _)| *s == stream)
            .map_or_else(|| "/".to_string(), |(_, p)| p.clone())
    }

    /// The IUT announced SETTINGS_HEADER_TABLE_SIZE `n` (RFC 9113 §6.5.2).
    pub fn set_peer_table_size(&mut self, n: u32) {
        self.peer_table_size = n;
    }

    fn block(&mut self, stream: u32, promise: bool, class: Option<FieldClass>) -> Vec<u8> {
        let trailers = !promise && self.headers_sent.contains(&stream);
        let request_base = promise || self.client;
        if !promise {
            self.headers_sent.push(stream);
        }
        let base = if promise {
            request("/")
        } else if self.client && !trailers {
            request(&self.path(stream))
        } else if trailers {
            vec![field("x-tracewright", "trailer")]
        } else {
            response()
        };
        let Some(c) = class else {
            return self.encode_fields(&base);
        };
        let fields = fields_of(c, base, request_base);
        let mut out = Vec::new();
        match c {
            FieldClass::TableSizeUpdate => {
                // RFC 7541 §4.2: updates at the start of a block; the
                // harness's own table follows them, so both stay in step.
                let limit = self.peer_table_size.min(DEFAULT_HEADER_TABLE_SIZE) as usize;
                hpack_integer(0, 5, 0x20, &mut out);
                hpack_integer(limit, 5, 0x20, &mut out);
                self.hpack.set_max_table_size(0);
                self.hpack.set_max_table_size(limit);
            }
            FieldClass::TableSizeAboveLimit => {
                hpack_integer(self.peer_table_size as usize + 1, 5, 0x20, &mut out);
            }
            _ => {}
        }
        out.extend(self.encode_fields(&fields));
        hpack_fault(c, &mut out);
        out
    }

    fn encode_fields(&mut self, fields: &[Field]) -> Vec<u8> {
        self.hpack
            .encode(fields.iter().map(|(n, v)| (n.as_slice(), v.as_slice())))
    }

    /// The bytes of one frame. A payload of 2^24 bytes or more does not
    /// fit the frame header's length field (RFC 9113 §4.1) and is encoded
    /// as nothing; the loader refuses such traces, and [`Self::try_encode`]
    /// says so.
    pub fn encode(&mut self, f: &FrameSpec) -> Vec<u8> {
        self.try_encode(f).unwrap_or_default()
    }

    /// The bytes of one frame, or why they cannot be written.
    pub fn try_encode(&mut self, f: &FrameSpec) -> Result<Vec<u8>, FrameTooLong> {
        // Checked before anything is allocated or the HPACK state moves.
        let asked = f.length.or(if f.kind == FrameType::Data {
            f.len
        } else {
            None
        });
        if let Some(n) = asked {
            if u64::from(n) >= MAX_WIRE_LENGTH {
                return Err(FrameTooLong(n.into()));
            }
        }
        let stream = f.stream.unwrap_or(0);
        let (ty, mut flags, payload): (u8, u8, Vec<u8>) = match f.kind {
            FrameType::Data => (0, 0, vec![b'x'; f.len.unwrap_or(0) as usize]),
            FrameType::Headers => {
                let eh = if f.end_headers == Some(false) { 0 } else { 0x4 };
                (1, eh, self.block(stream, false, f.fields))
            }
            FrameType::Priority => (2, 0, vec![0, 0, 0, 0, 15]),
            FrameType::RstStream => (
                3,
                0,
                f.error_code
                    .unwrap_or_else(|| f.error.unwrap_or(ErrorName::Cancel).code())
                    .to_be_bytes()
                    .to_vec(),
            ),
            FrameType::Settings => {
                let mut p = Vec::new();
                if let Some(m) = f.max_concurrent_streams {
                    p.extend(3u16.to_be_bytes());
                    p.extend(m.to_be_bytes());
                }
                if let Some(w) = f.initial_window_size {
                    p.extend(4u16.to_be_bytes());
                    p.extend(w.to_be_bytes());
                }
                // RFC 9113 §6.5.2: values in or out of their bounds, and an
                // identifier no specification defines.
                for (id, value) in [
                    (2u16, f.enable_push),
                    (5, f.max_frame_size),
                    (f.unknown_setting.unwrap_or(0), f.unknown_setting.map(|_| 1)),
                ] {
                    if let Some(v) = value {
                        p.extend(id.to_be_bytes());
                        p.extend(v.to_be_bytes());
                    }
                }
                (4, 0, p)
            }
            FrameType::PushPromise => {
                let mut p = f.promised.unwrap_or(0).to_be_bytes().to_vec();
                p.extend(self.block(stream, true, None));
                (5, 0x4, p)
            }
            FrameType::Ping => (6, 0, b"tracewri".to_vec()),
            FrameType::Goaway => {
                let mut p = f.last_stream.unwrap_or(0).to_be_bytes().to_vec();
                p.extend(
                    f.error_code
                        .unwrap_or_else(|| f.error.unwrap_or(ErrorName::NoError).code())
                        .to_be_bytes(),
                );
                (7, 0, p)
            }
            FrameType::WindowUpdate => (8, 0, f.increment.unwrap_or(1).to_be_bytes().to_vec()),
            FrameType::Continuation => (9, 0x4, Vec::new()),
            FrameType::Unknown => (UNKNOWN_TYPE_CODE, 0, b"tracewri".to_vec()),
            FrameType::None | FrameType::Closed => return Ok(Vec::new()),
        };
        // RFC 9113 §6.1, §6.2: a Pad Length octet first, padding last.
        let payload = if matches!(f.kind, FrameType::Data | FrameType::Headers)
            && (f.pad.is_some() || f.bad_pad)
        {
            flags |= 0x8;
            let mut p = Vec::with_capacity(payload.len() + 256);
            if f.bad_pad {
                // As long as the whole payload, Pad Length octet included.
                p.push(u8::try_from(payload.len() + 1).unwrap_or(u8::MAX));
                p.extend(payload);
            } else {
                let n = f.pad.unwrap_or(0);
                p.push(n);
                p.extend(payload);
                p.extend(std::iter::repeat_n(0, n.into()));
            }
            p
        } else {
            payload
        };
        flags |= f.flags.unwrap_or(0);
        if f.end_stream && matches!(f.kind, FrameType::Data | FrameType::Headers) {
            flags |= 0x1;
        }
        if f.ack && matches!(f.kind, FrameType::Settings | FrameType::Ping) {
            flags |= 0x1;
        }
        let mut payload = payload;
        if f.ack && f.kind == FrameType::Settings {
            payload.clear();
        }
        if let Some(l) = f.length {
            payload.resize(l as usize, 0);
        }
        if payload.len() as u64 >= MAX_WIRE_LENGTH {
            return Err(FrameTooLong(payload.len() as u64));
        }
        let mut out = Vec::with_capacity(9 + payload.len());
        out.extend(&(payload.len() as u32).to_be_bytes()[1..]);
        out.push(ty);
        out.push(flags);
        // RFC 9113 §4.1: the reserved bit is ignored on receipt.
        let r = if f.reserved_bit { 0x8000_0000 } else { 0 };
        out.extend((stream | r).to_be_bytes());
        out.extend(payload);
        Ok(out)
    }
}

// ------------------------------------------------------------ attacks

/// One field line of a CONTINUATION flood, 1 024 octets (RFC 7541 §6.2.2,
/// a literal without indexing with a new name): `x-flood` and 1 012 octets
/// of value, so that 16 of them fill a frame of 2^14 exactly and the block
/// stays valid HPACK however far the flood goes.
fn flood_field() -> Vec<u8> {
    let mut f = vec![0x00, 7];
    f.extend_from_slice(b"x-flood");
    // 1 012 as an HPACK integer with a 7-bit prefix (RFC 7541 §5.1).
    f.extend_from_slice(&[0x7f, 0xf5, 0x06]);
    f.extend(std::iter::repeat_n(b'a', 1_012));
    debug_assert_eq!(f.len(), 1_024);
    f
}

/// The request's pseudo-header fields, written without touching the
/// dynamic table (RFC 7541 Appendix A indices): GET, http, `/`, and the
/// authority as a literal without indexing.
fn bare_request() -> Vec<u8> {
    let mut b = vec![0x82, 0x86, 0x84, 0x01, 16];
    b.extend_from_slice(b"tracewright.test");
    b
}

/// `:status: 200`, indexed from the static table (RFC 7541 Appendix A,
/// index 8).
fn bare_response() -> Vec<u8> {
    vec![0x88]
}

/// References to the newest dynamic table entry (index 62, RFC 7541
/// §2.3.3) in one HPACK bomb.
pub const BOMB_REFERENCES: usize = 16_000;

/// The value of the HPACK bomb's table entry: with its name and the 32
/// octets of overhead, 4 038 octets, which a 4 096-octet table holds
/// (RFC 7541 §4.1).
const BOMB_VALUE: usize = 4_000;

fn frame_bytes(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend(&(payload.len() as u32).to_be_bytes()[1..]);
    out.push(ty);
    out.push(flags);
    out.extend(stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

impl Encoder {
    /// The head of the messages a flood sends, as the harness's role has
    /// it: a request to a server IUT, a response (on a stream the client
    /// IUT opened) to a client IUT. Neither touches an HPACK table.
    fn bare_head(&self) -> Vec<u8> {
        if self.client {
            bare_request()
        } else {
            bare_response()
        }
    }

    /// The bytes of round `r` of attack `a` (see [`Attack`]).
    pub fn flood_round(&mut self, a: Attack, r: u32) -> Vec<u8> {
        const END_STREAM: u8 = 0x1;
        const END_HEADERS: u8 = 0x4;
        match a {
            // The request's block touches no HPACK table, so that every
            // round's is the same and the harness keeps nothing per round.
            Attack::RapidReset => {
                let stream = 2 * r + 1;
                let mut out = frame_bytes(1, END_STREAM | END_HEADERS, stream, &bare_request());
                out.extend(frame_bytes(
                    3,
                    0,
                    stream,
                    &ErrorName::Cancel.code().to_be_bytes(),
                ));
                out
            }
            Attack::ContinuationFlood if r == 0 => frame_bytes(1, END_STREAM, 1, &self.bare_head()),
            Attack::ContinuationFlood => {
                let field = flood_field();
                let payload: Vec<u8> = (0..16).flat_map(|_| field.iter().copied()).collect();
                frame_bytes(9, 0, 1, &payload)
            }
            Attack::SettingsFlood => frame_bytes(4, 0, 0, &[]),
            Attack::PingFlood => self.encode(&FrameSpec::new(FrameType::Ping)),
            Attack::HpackBomb => {
                let mut block = self.bare_head();
                if r == 0 {
                    // A literal with incremental indexing, new name
                    // (RFC 7541 §6.2.1): `x-bomb`, 4 000 octets.
                    block.extend_from_slice(&[0x40, 6]);
                    block.extend_from_slice(b"x-bomb");
                    // 4 000 as an HPACK integer with a 7-bit prefix.
                    block.extend_from_slice(&[0x7f, 0xa1, 0x1e]);
                    block.extend(std::iter::repeat_n(b'b', BOMB_VALUE));
                } else {
                    block.extend(std::iter::repeat_n(0x80 | 62, BOMB_REFERENCES));
                }
                // To a client, the bomb's response leaves its stream open:
                // a client may discard a response it cannot process
                // (RFC 9113 §10.5.1), and with the stream still open that
                // shows, as a RST_STREAM, where after END_STREAM it would
                // be silence.
                let flags = if self.client || r == 0 {
                    END_STREAM | END_HEADERS
                } else {
                    END_HEADERS
                };
                frame_bytes(1, flags, 2 * r + 1, &block)
            }
        }
    }
}

// ---------------------------------------------------------------- the IUT's header blocks

/// The IUT's header blocks, put together from HEADERS, PUSH_PROMISE and
/// CONTINUATION fragments, decoded with an HPACK decoder of the harness's
/// (RFC 7541, its dynamic table kept in step) and checked for HTTP
/// semantics (RFC 9113 §8.1–§8.3). The first fault found is kept for the
/// replay to report.
pub struct BlockReader {
    decoder: loona_hpack::Decoder<'static>,
    /// The IUT is a server: its first block on a stream is a response.
    iut_is_server: bool,
    /// A block waiting for CONTINUATION: its stream, whether it is a
    /// promised request, and its fragments.
    pending: Option<(u32, bool, Vec<u8>)>,
    /// Streams whose final (non-1xx) message head came: what follows is
    /// trailers (§8.1).
    started: std::collections::BTreeSet<u32>,
    /// The first fault, as a sentence.
    pub fault: Option<String>,
}

impl BlockReader {
    pub fn new(iut_is_server: bool) -> Self {
        let mut decoder = loona_hpack::Decoder::new();
        // The harness announces no SETTINGS_HEADER_TABLE_SIZE: the default
        // (RFC 9113 §6.5.2), which bounds the IUT's table size updates.
        decoder.set_max_allowed_table_size(DEFAULT_HEADER_TABLE_SIZE as usize);
        BlockReader {
            decoder,
            iut_is_server,
            pending: None,
            started: std::collections::BTreeSet::new(),
            fault: None,
        }
    }

    /// One whole frame of the IUT's.
    pub fn frame(&mut self, ty: u8, flags: u8, stream: u32, payload: &[u8]) {
        const END_HEADERS: u8 = 0x4;
        let padded = flags & 0x8 != 0;
        let pad = if padded {
            usize::from(payload.first().copied().unwrap_or(0))
        } else {
            0
        };
        let body = |skip: usize| -> &[u8] {
            let end = payload.len().saturating_sub(pad);
            payload.get(skip.min(end)..end).unwrap_or(&[])
        };
        let (promise, fragment) = match ty {
            1 => {
                let skip = usize::from(padded) + if flags & 0x20 != 0 { 5 } else { 0 };
                (false, body(skip))
            }
            5 => (true, body(usize::from(padded) + 4)),
            9 => {
                let Some((s, promise, mut buf)) = self.pending.take() else {
                    return;
                };
                buf.extend_from_slice(payload);
                if flags & END_HEADERS == 0 {
                    self.pending = Some((s, promise, buf));
                } else {
                    self.block(s, promise, &buf);
                }
                return;
            }
            _ => return,
        };
        if flags & END_HEADERS == 0 {
            self.pending = Some((stream, promise, fragment.to_vec()));
        } else {
            self.block(stream, promise, fragment);
        }
    }

    fn block(&mut self, stream: u32, promise: bool, bytes: &[u8]) {
        let fields = match self.decoder.decode(bytes) {
            Ok(f) => f,
            Err(e) => {
                self.fail(format!(
                    "its header block on stream {stream} does not decode (RFC 7541): {e}"
                ));
                return;
            }
        };
        let trailers = !promise && self.started.contains(&stream);
        let request = promise || !self.iut_is_server;
        let kind = if trailers {
            "trailers"
        } else if request {
            "request"
        } else {
            "response"
        };
        if let Err(why) = check_message(&fields, request, trailers) {
            let shown: Vec<String> = fields
                .iter()
                .map(|(n, v)| {
                    format!(
                        "{}: {}",
                        String::from_utf8_lossy(n),
                        String::from_utf8_lossy(v).escape_debug()
                    )
                })
                .collect();
            self.fail(format!(
                "its {kind} on stream {stream} is malformed: {why} [{}]",
                shown.join(", ")
            ));
            return;
        }
        let informational = fields
            .iter()
            .any(|(n, v)| n == b":status" && v.first() == Some(&b'1'));
        if !promise && !informational {
            self.started.insert(stream);
        }
    }

    fn fail(&mut self, why: String) {
        if self.fault.is_none() {
            self.fault = Some(why);
        }
    }
}

#[cfg(test)]
mod flood_tests {
    use super::*;

    /// The HPACK a flood writes by hand decodes as it says: the bomb's
    /// entry enters the table and each reference brings it back, and the
    /// CONTINUATION flood's field lines are whole fields.
    #[test]
    fn flood_blocks_are_valid_hpack() {
        let mut enc = Encoder::new(true);
        let mut dec = loona_hpack::Decoder::new();
        let setup = enc.flood_round(Attack::HpackBomb, 0);
        let fields = dec.decode(&setup[9..]).unwrap();
        assert_eq!(fields.len(), 5);
        assert_eq!(fields[4].0, b"x-bomb");
        assert_eq!(fields[4].1.len(), BOMB_VALUE);
        let bomb = enc.flood_round(Attack::HpackBomb, 1);
        assert!(bomb.len() - 9 <= 1 << 14);
        let mut n = 0usize;
        dec.decode_with_cb(&bomb[9..], |name, _| {
            n += usize::from(&name[..] == b"x-bomb")
        })
        .unwrap();
        assert_eq!(n, BOMB_REFERENCES);
        let c = enc.flood_round(Attack::ContinuationFlood, 1);
        assert_eq!(c.len() - 9, 1 << 14);
        let fields = dec.decode(&c[9..]).unwrap();
        assert_eq!(fields.len(), 16);
        assert_eq!(fields[0].1.len(), 1_012);
    }

    /// To a client IUT the floods' heads are responses, on the streams it
    /// opened: the bomb's setup and bomb on 1 and 3, the CONTINUATION
    /// flood's HEADERS on 1.
    #[test]
    fn floods_to_a_client_carry_responses() {
        let mut enc = Encoder::new(false);
        let mut dec = loona_hpack::Decoder::new();
        let setup = enc.flood_round(Attack::HpackBomb, 0);
        assert_eq!(setup[5..9], 1u32.to_be_bytes());
        let fields = dec.decode(&setup[9..]).unwrap();
        assert_eq!(fields[0], (b":status".to_vec(), b"200".to_vec()));
        assert_eq!(fields[1].0, b"x-bomb");
        let bomb = enc.flood_round(Attack::HpackBomb, 1);
        assert_eq!(bomb[5..9], 3u32.to_be_bytes());
        assert_eq!(bomb[4], 0x4, "END_HEADERS, the stream left open");
        let head = enc.flood_round(Attack::ContinuationFlood, 0);
        assert_eq!(
            (head[3], head[4] & 0x4),
            (1, 0),
            "HEADERS without END_HEADERS"
        );
        assert_eq!(dec.decode(&head[9..]).unwrap().len(), 1);
    }
}

/// What the IUT's own message must be (RFC 9113 §8.2, §8.3): `Err` names
/// the rule it breaks.
fn check_message(fields: &[Field], request: bool, trailers: bool) -> Result<(), String> {
    let mut regular = false;
    let mut pseudo: Vec<&[u8]> = Vec::new();
    for (n, v) in fields {
        let name = String::from_utf8_lossy(n);
        let bare = n.strip_prefix(b":").unwrap_or(n);
        if bare.is_empty()
            || bare
                .iter()
                .any(|&c| c <= 0x20 || c >= 0x7f || c.is_ascii_uppercase() || c == b':')
        {
            return Err(format!(
                "field name `{}` (RFC 9113 §8.2.1)",
                name.escape_debug()
            ));
        }
        if v.iter().any(|&c| matches!(c, 0 | b'\r' | b'\n')) {
            return Err(format!(
                "CR, LF or NUL in the value of `{name}` (RFC 9113 §8.2.1)"
            ));
        }
        let connection_specific = [
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "upgrade",
        ];
        if connection_specific.contains(&name.as_ref())
            || (name == "te" && (!request || trailers || v.as_slice() != b"trailers"))
        {
            return Err(format!(
                "connection-specific field `{name}` (RFC 9113 §8.2.2)"
            ));
        }
        if n.first() != Some(&b':') {
            regular = true;
            continue;
        }
        if trailers {
            return Err(format!(
                "pseudo-header `{name}` in trailers (RFC 9113 §8.1)"
            ));
        }
        if regular {
            return Err(format!(
                "pseudo-header `{name}` after a regular field (RFC 9113 §8.3)"
            ));
        }
        if pseudo.contains(&n.as_slice()) {
            return Err(format!("pseudo-header `{name}` twice (RFC 9113 §8.3)"));
        }
        let allowed: &[&str] = if request {
            &[":method", ":scheme", ":path", ":authority"]
        } else {
            &[":status"]
        };
        if !allowed.contains(&name.as_ref()) {
            return Err(format!(
                "pseudo-header `{name}` not defined for it (RFC 9113 §8.3)"
            ));
        }
        pseudo.push(n);
    }
    if trailers {
        return Ok(());
    }
    let has = |p: &str| pseudo.iter().any(|n| *n == p.as_bytes());
    let connect = fields
        .iter()
        .any(|(n, v)| n == b":method" && v.as_slice() == b"CONNECT");
    if request && !has(":method") {
        return Err("no :method (RFC 9113 §8.3.1)".into());
    }
    if request && !connect && !(has(":scheme") && has(":path")) {
        return Err("no :scheme or no :path (RFC 9113 §8.3.1)".into());
    }
    if !request && !has(":status") {
        return Err("no :status (RFC 9113 §8.3.2)".into());
    }
    Ok(())
}

#[cfg(test)]
mod block_reader_tests {
    use super::*;

    fn headers(stream: u32, fields: &[(&str, &str)], enc: &mut loona_hpack::Encoder) -> Vec<u8> {
        let block = enc.encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())));
        let mut f = (block.len() as u32).to_be_bytes()[1..].to_vec();
        f.extend([1, 0x4 | 0x1]);
        f.extend(stream.to_be_bytes());
        f.extend(block);
        f
    }

    fn read(iut_is_server: bool, blocks: &[(u32, &[(&str, &str)])]) -> Option<String> {
        let mut enc = loona_hpack::Encoder::new();
        let mut buf = Vec::new();
        for (s, f) in blocks {
            buf.extend(headers(*s, f, &mut enc));
        }
        let mut r = BlockReader::new(iut_is_server);
        let frames = decode_frames_with(&mut buf, |t, fl, s, p| r.frame(t, fl, s, p));
        assert_eq!(frames.len(), blocks.len());
        r.fault
    }

    #[test]
    fn well_formed_messages_pass_with_the_dynamic_table() {
        let ok: &[(&str, &str)] = &[(":status", "200"), ("server", "x")];
        // The second response reuses the first's dynamic table entries.
        assert_eq!(read(true, &[(1, ok), (3, ok), (1, &[("x-t", "1")])]), None);
        let get: &[(&str, &str)] = &[(":method", "GET"), (":scheme", "http"), (":path", "/")];
        assert_eq!(read(false, &[(1, get)]), None);
    }

    #[test]
    fn malformed_messages_are_reported() {
        let cases: [(bool, &[(&str, &str)]); 6] = [
            (true, &[("server", "x")]),
            (true, &[(":status", "200"), (":path", "/")]),
            (true, &[("server", "x"), (":status", "200")]),
            (true, &[(":status", "200"), ("Server", "x")]),
            (true, &[(":status", "200"), ("connection", "close")]),
            (false, &[(":method", "GET"), (":path", "/")]),
        ];
        for (server, f) in cases {
            assert!(read(server, &[(1, f)]).is_some(), "{f:?}");
        }
        // Trailers with a pseudo-header.
        let ok: &[(&str, &str)] = &[(":status", "200")];
        assert!(read(true, &[(1, ok), (1, &[(":status", "200")])]).is_some());
    }
}
