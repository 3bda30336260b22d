//! Teeth for the HTTP/2 suite: deliberately broken endpoints, each wrapping
//! the bundled one, fail exactly the traces that exercise what they break
//! and pass the rest. The predicates are functions of the trace alone (its
//! `covers` and its steps), never of the replay, so the test can fail.

use std::collections::BTreeSet;
use std::path::Path;

use tracewright_conformance::deviations::Deviations;
use tracewright_conformance::h2::{
    load_h2_corpus, replay_h2, settings_of, Attack, BundledH2, FieldClass, FrameType, H2App,
    H2Corpus, H2Settings, H2Step, H2Target, H2Trace, StreamState, PREFACE,
};
use tracewright_conformance::replay::Verdict;
use tracewright_conformance::target::{Clock, TargetError};
use tracewright_conformance::trace::{Protocol, Role};
use tracewright_stack::h2 as stack;

/// How an endpoint is broken (the issue: "one that accepts DATA on a closed
/// stream, one that accepts a lower stream identifier, one that ignores
/// SETTINGS_MAX_CONCURRENT_STREAMS").
#[derive(Clone, Copy, Debug, PartialEq)]
enum Breakage {
    /// DATA on a stream that is closed when it arrives is swallowed: the
    /// IUT stays silent where RFC 9113 §5.1 demands STREAM_CLOSED.
    AcceptsDataOnClosedStream,
    /// A HEADERS opening a new peer stream whose identifier is lower than
    /// one the peer already opened is swallowed: the IUT takes it without
    /// the connection error PROTOCOL_ERROR of RFC 9113 §5.1.1.
    AcceptsLowerStreamId,
    /// The IUT advertises and enforces no SETTINGS_MAX_CONCURRENT_STREAMS
    /// (RFC 9113 §5.1.2), where the model assumes 2.
    IgnoresMaxConcurrentStreams,
    /// The IUT counts a connection-level send window 65 535 bytes larger
    /// than the peer gave (RFC 9113 §6.9.1): it sends when the window is
    /// spent and takes 2^31−1 as an overflow when it is empty.
    IgnoresConnectionWindow,
    /// Frame rules (RFC 9113 §4.2): the IUT announces the default
    /// SETTINGS_MAX_FRAME_SIZE (2^14) but takes frames of up to 2^24−1
    /// octets, where a larger frame is a FRAME_SIZE_ERROR.
    AcceptsOversizedFrames,
    /// Header blocks (RFC 9113 §6.10): while the peer's header block waits
    /// for its CONTINUATION, any other frame is dropped without a word,
    /// where it is a connection error PROTOCOL_ERROR.
    AcceptsFramesInsideHeaderBlock,
    /// SETTINGS (RFC 9113 §6.5.2): parameters out of their bounds
    /// (ENABLE_PUSH above 1, INITIAL_WINDOW_SIZE above 2^31−1,
    /// MAX_FRAME_SIZE outside 2^14..2^24−1) are dropped without a word and
    /// the frame ACKed, where each is a connection error.
    IgnoresSettingsBounds,
    /// The connection preface (RFC 9113 §3.4): a wrong client magic is
    /// read as the right one, and a first frame other than SETTINGS is
    /// taken as if an empty SETTINGS came before it, where both are a
    /// connection error PROTOCOL_ERROR.
    IgnoresPreface,
    /// Flow control as a receiver (RFC 9113 §6.9.1): the IUT gives stream
    /// windows back as it reads, but never the connection's: its
    /// WINDOW_UPDATEs on stream 0 are never sent.
    NeverUpdatesConnectionWindow,
    /// Flow control as a receiver (RFC 9113 §6.9.1): the IUT credits its
    /// windows for each half of a DATA frame as it reads it, so that a
    /// frame beyond a window never meets FLOW_CONTROL_ERROR.
    AcceptsDataBeyondWindow,
    /// Attacks (RFC 9113 §10.5.1): the IUT holds a header block and decodes
    /// a field section of any size (the CONTINUATION flood, the HPACK
    /// bomb).
    UnboundedHeaderBlocks,
    /// Attacks (RFC 9113 §10.5, §6.5.3, §6.7): after 100 PINGs or SETTINGS
    /// on a connection the IUT drops further ones without a word, where it
    /// must acknowledge them or call ENHANCE_YOUR_CALM.
    DropsFloodedPingsAndSettings,
    /// Attacks (RFC 9113 §10.5, CVE-2023-44487): after 100 reset requests
    /// the IUT stops reading: it no longer answers anything.
    StallsUnderRapidReset,
    /// Header semantics (RFC 9113 §8): every header block is decoded and
    /// made well-formed before the IUT sees it (missing pseudo-headers
    /// filled in, bad ones and bad fields dropped, content-length
    /// forgotten), where a malformed message is a stream error
    /// PROTOCOL_ERROR (§8.1.1).
    AcceptsMalformedMessages,
    /// HPACK (RFC 7541; RFC 9113 §4.3): a header block that does not decode
    /// is dropped without a word, where it is a connection error
    /// COMPRESSION_ERROR.
    IgnoresHpackErrors,
    /// SETTINGS (RFC 9113 §6.5.2, §6.6): a client asked to announce
    /// SETTINGS_ENABLE_PUSH 0 announces it but takes the PUSH_PROMISE that
    /// follows, where it is a connection error PROTOCOL_ERROR.
    AcceptsPushWhenDisabled,
}

const HEADER_LEN: usize = 9;
const DATA: u8 = 0;
const HEADERS: u8 = 1;
const SETTINGS: u8 = 4;
const WINDOW_UPDATE: u8 = 8;
const ACK: u8 = 0x1;
const PUSH_PROMISE: u8 = 5;
const CONTINUATION: u8 = 9;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const RST_STREAM: u8 = 3;
const PING: u8 = 6;

struct Broken {
    inner: BundledH2,
    how: Breakage,
    /// The IUT is a server: the peer opens odd streams, with HEADERS.
    server: bool,
    /// Octets of the client preface still to pass through.
    preface_left: usize,
    /// A partial frame from the harness.
    buf: Vec<u8>,
    /// Streams the peer opened (HEADERS) or reserved (PUSH_PROMISE).
    peer_opened: BTreeSet<u32>,
    /// A swallowed HEADERS without END_HEADERS: its CONTINUATIONs go too.
    swallowing_block: bool,
    /// Frames the wrapper swallowed, for the record.
    swallowed: usize,
    /// What the IUT sent at open, with the limit it does not enforce
    /// written into its SETTINGS: it announces and ignores.
    announced: Vec<u8>,
    /// The extra connection window was slipped in.
    widened: bool,
    /// The stream of the peer's header block still waiting for its
    /// CONTINUATION.
    open_block: Option<u32>,
    /// The peer's first frame went by.
    first_frame_seen: bool,
    /// The stream window the IUT was opened with.
    stream_window: u32,
    /// The largest frame the IUT takes.
    max_frame: u32,
    /// PINGs and SETTINGS (not ACKs), and RST_STREAMs, received so far.
    pings_and_settings: usize,
    resets: usize,
    /// Octets of the client preface still ahead in the IUT's output.
    out_preface_left: usize,
    /// A partial frame of the IUT's.
    out_buf: Vec<u8>,
    /// The header blocks, decoded and written again (the header-semantics
    /// breakages).
    blocks: Reencoder,
}

/// Decodes the peer's header blocks with an HPACK decoder of its own and
/// writes them again for the IUT as literals without indexing (RFC 7541
/// §6.2.2), so the IUT's dynamic table stays empty and in step whatever
/// the wrapper changes.
struct Reencoder {
    decoder: loona_hpack::Decoder<'static>,
    /// A block waiting for its CONTINUATION: its stream and fragments.
    pending: Option<(u32, Vec<u8>)>,
    /// Streams on which the peer's first header block came (what follows
    /// are trailers, RFC 9113 §8.1).
    started: BTreeSet<u32>,
}

impl Reencoder {
    fn new() -> Self {
        let mut decoder = loona_hpack::Decoder::new();
        decoder.set_max_allowed_table_size(4096);
        Reencoder {
            decoder,
            pending: None,
            started: BTreeSet::new(),
        }
    }
}

type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// Literals without indexing, new name (RFC 7541 §6.2.2).
fn literals(fields: &Fields) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in fields {
        out.push(0);
        for s in [n, v] {
            loona_hpack::encoder::encode_integer_into(s.len(), 7, 0, &mut out).unwrap();
            out.extend(s);
        }
    }
    out
}

/// A well-formed message out of any (RFC 9113 §8.1–§8.3): the pseudo-headers
/// its kind needs, once and first; regular fields only if lowercase, without
/// `:`, CR, LF or NUL, not connection-specific, not content-length.
fn well_formed(fields: Fields, request: bool, trailers: bool) -> Fields {
    let get = |name: &[u8], default: &[u8]| -> (Vec<u8>, Vec<u8>) {
        let v = fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or(default.to_vec(), |(_, v)| v.clone());
        (name.to_vec(), v)
    };
    let mut out: Fields = if trailers {
        Vec::new()
    } else if request {
        vec![
            get(b":method", b"GET"),
            get(b":scheme", b"http"),
            get(b":path", b"/"),
            get(b":authority", b"tracewright.test"),
        ]
    } else {
        vec![get(b":status", b"200")]
    };
    const DROPPED: [&[u8]; 7] = [
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
        b"te",
        b"content-length",
    ];
    out.extend(fields.iter().cloned().filter(|(n, v)| {
        n.first() != Some(&b':')
            && !n.iter().any(|c| c.is_ascii_uppercase() || *c == b':')
            && !v.iter().any(|c| matches!(c, 0 | b'\r' | b'\n'))
            && !DROPPED.contains(&n.as_slice())
    }));
    out
}

fn frame_bytes(ty: u8, flags: u8, id: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.push(ty);
    f.push(flags);
    f.extend(id.to_be_bytes());
    f.extend(payload);
    f
}

impl Broken {
    fn new(how: Breakage) -> Self {
        Broken {
            inner: BundledH2::new(),
            how,
            server: false,
            preface_left: 0,
            buf: Vec::new(),
            peer_opened: BTreeSet::new(),
            swallowing_block: false,
            swallowed: 0,
            announced: Vec::new(),
            widened: false,
            open_block: None,
            first_frame_seen: false,
            stream_window: 65_535,
            max_frame: 1 << 14,
            pings_and_settings: 0,
            resets: 0,
            out_preface_left: 0,
            out_buf: Vec::new(),
            blocks: Reencoder::new(),
        }
    }

    /// A whole header block on `id` decoded and written again: `None` where
    /// it does not decode (HPACK, RFC 7541).
    fn rewrite_block(&mut self, id: u32, block: &[u8], promise: bool) -> Option<Vec<u8>> {
        let fields = self.blocks.decoder.decode(block).ok()?;
        let trailers = !promise && !self.blocks.started.insert(id);
        let fields = if self.how == Breakage::AcceptsMalformedMessages {
            well_formed(fields, self.server || promise, trailers)
        } else {
            fields
        };
        Some(literals(&fields))
    }

    /// The frame as the IUT gets it, for the breakages that rewrite header
    /// blocks: `Ok(None)` to deliver it as it is, `Ok(Some(bytes))` to
    /// deliver these instead (nothing: swallowed).
    fn rewrite(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        if !matches!(
            self.how,
            Breakage::AcceptsMalformedMessages | Breakage::IgnoresHpackErrors
        ) {
            return None;
        }
        let (ty, flags) = (frame[3], frame[4]);
        let id = u32::from_be_bytes([frame[5], frame[6], frame[7], frame[8]]) & 0x7fff_ffff;
        let payload = &frame[HEADER_LEN..];
        let broken = |b: &mut Self| {
            // Not decodable: one endpoint passes it on, the other drops it.
            if b.how == Breakage::IgnoresHpackErrors {
                b.swallowed += 1;
                Some(Vec::new())
            } else {
                None
            }
        };
        // A frame inside an open block ends it for the IUT (a connection
        // error, RFC 9113 §6.10); its fragment still feeds the decoder, as
        // the peer's encoder counted on.
        if self
            .blocks
            .pending
            .as_ref()
            .is_some_and(|(p, _)| ty != CONTINUATION || *p != id)
        {
            if let Some((_, buf)) = self.blocks.pending.take() {
                let _ = self.blocks.decoder.decode(&buf);
            }
        }
        match ty {
            HEADERS => {
                // Pad Length and the priority fields first, padding last
                // (RFC 9113 §6.2); bad padding is the IUT's to judge.
                let pad = if flags & PADDED != 0 {
                    usize::from(*payload.first()?)
                } else {
                    0
                };
                let start =
                    usize::from(flags & PADDED != 0) + if flags & 0x20 != 0 { 5 } else { 0 };
                let fragment = payload.get(start..payload.len().checked_sub(pad)?)?;
                let keep = flags & !(PADDED | 0x20);
                if flags & END_HEADERS == 0 {
                    self.blocks.pending = Some((id, fragment.to_vec()));
                    return Some(frame_bytes(HEADERS, keep, id, &[]));
                }
                match self.rewrite_block(id, fragment, false) {
                    Some(block) => Some(frame_bytes(HEADERS, keep, id, &block)),
                    None => broken(self),
                }
            }
            CONTINUATION => {
                let (stream, mut buf) = self.blocks.pending.take()?;
                if stream != id {
                    self.blocks.pending = Some((stream, buf));
                    return None;
                }
                buf.extend(payload);
                if flags & END_HEADERS == 0 {
                    self.blocks.pending = Some((stream, buf));
                    return Some(frame_bytes(CONTINUATION, flags, id, &[]));
                }
                match self.rewrite_block(id, &buf, false) {
                    Some(block) => Some(frame_bytes(CONTINUATION, flags, id, &block)),
                    None => broken(self),
                }
            }
            PUSH_PROMISE if flags & (END_HEADERS | PADDED) == END_HEADERS => {
                let promised = payload.get(..4)?.to_vec();
                match self.rewrite_block(id, &payload[4..], true) {
                    Some(block) => {
                        let mut p = promised;
                        p.extend(block);
                        Some(frame_bytes(PUSH_PROMISE, flags, id, &p))
                    }
                    None => broken(self),
                }
            }
            _ => None,
        }
    }

    /// Stream identifiers the peer initiates: odd to a server, even to a
    /// client (RFC 9113 §5.1.1).
    fn is_peer_id(&self, id: u32) -> bool {
        id != 0 && (id % 2 == 1) == self.server
    }

    /// Should this one frame (header and payload) be kept from the IUT?
    fn swallow(&mut self, frame: &[u8]) -> bool {
        let ty = frame[3];
        let flags = frame[4];
        let id = u32::from_be_bytes([frame[5], frame[6], frame[7], frame[8]]) & 0x7fff_ffff;
        let payload = &frame[HEADER_LEN..];
        match self.how {
            // Plain DATA only: a frame that breaks a frame rule as well
            // (padding, size, flags, the reserved bit) is judged by that
            // rule, which this endpoint keeps.
            Breakage::AcceptsDataOnClosedStream => {
                ty == DATA
                    && flags & !0x1 == 0
                    && frame[5] & 0x80 == 0
                    && payload.len() <= 1 << 14
                    && id != 0
                    && self.inner.stream_state(id) == Ok(Some(StreamState::Closed))
            }
            Breakage::AcceptsLowerStreamId => {
                if ty == CONTINUATION && self.swallowing_block {
                    self.swallowing_block = flags & END_HEADERS == 0;
                    return true;
                }
                if ty == PUSH_PROMISE {
                    let at = usize::from(flags & PADDED != 0);
                    if let Some(w) = payload.get(at..at + 4) {
                        let promised = u32::from_be_bytes([w[0], w[1], w[2], w[3]]) & 0x7fff_ffff;
                        self.peer_opened.insert(promised);
                    }
                    return false;
                }
                if ty != HEADERS || !self.is_peer_id(id) {
                    return false;
                }
                let highest = self.peer_opened.last().copied().unwrap_or(0);
                if id < highest && !self.peer_opened.contains(&id) {
                    self.swallowing_block = flags & END_HEADERS == 0;
                    return true;
                }
                self.peer_opened.insert(id);
                false
            }
            Breakage::AcceptsFramesInsideHeaderBlock => {
                if let Some(b) = self.open_block {
                    if ty != CONTINUATION || id != b {
                        return true;
                    }
                }
                if matches!(ty, HEADERS | PUSH_PROMISE | CONTINUATION) {
                    self.open_block = (flags & END_HEADERS == 0).then_some(id);
                }
                false
            }
            Breakage::DropsFloodedPingsAndSettings => {
                if matches!(ty, PING | SETTINGS) && flags & ACK == 0 {
                    self.pings_and_settings += 1;
                    return self.pings_and_settings > 100;
                }
                false
            }
            Breakage::StallsUnderRapidReset => {
                if self.resets >= 100 {
                    return true;
                }
                self.resets += usize::from(ty == RST_STREAM);
                false
            }
            Breakage::IgnoresMaxConcurrentStreams
            | Breakage::IgnoresConnectionWindow
            | Breakage::AcceptsOversizedFrames
            | Breakage::IgnoresSettingsBounds
            | Breakage::IgnoresPreface
            | Breakage::NeverUpdatesConnectionWindow
            | Breakage::AcceptsDataBeyondWindow
            | Breakage::UnboundedHeaderBlocks
            | Breakage::AcceptsMalformedMessages
            | Breakage::IgnoresHpackErrors
            | Breakage::AcceptsPushWhenDisabled => false,
        }
    }

    /// The IUT's own frames, less what the breakage keeps from the peer.
    fn filter_output(&mut self, bytes: Vec<u8>) -> Vec<u8> {
        if self.how != Breakage::NeverUpdatesConnectionWindow {
            return bytes;
        }
        let mut out = Vec::new();
        let mut bytes = &bytes[..];
        if self.out_preface_left > 0 {
            let n = self.out_preface_left.min(bytes.len());
            out.extend_from_slice(&bytes[..n]);
            self.out_preface_left -= n;
            bytes = &bytes[n..];
        }
        self.out_buf.extend_from_slice(bytes);
        while self.out_buf.len() >= HEADER_LEN {
            let len =
                u32::from_be_bytes([0, self.out_buf[0], self.out_buf[1], self.out_buf[2]]) as usize;
            if self.out_buf.len() < HEADER_LEN + len {
                break;
            }
            let frame: Vec<u8> = self.out_buf.drain(..HEADER_LEN + len).collect();
            let on_connection = frame[5..9] == [0, 0, 0, 0];
            if frame[3] == WINDOW_UPDATE && on_connection {
                continue;
            }
            out.extend(frame);
        }
        out
    }

    /// A DATA frame beyond the windows of a receiver that gives all window
    /// back as it reads (the bundled one), cut in two for a breakage that
    /// credits each half as it reads it.
    fn halves(&self, frame: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        let len = frame.len() - HEADER_LEN;
        let window = self.stream_window.min(65_535) as usize;
        if self.how != Breakage::AcceptsDataBeyondWindow
            || frame[3] != DATA
            || frame[4] & PADDED != 0
            || len <= window
            || len > self.max_frame as usize
        {
            return None;
        }
        let half = len / 2;
        let piece = |from: usize, to: usize, flags: u8| {
            let mut f = vec![0u8; HEADER_LEN];
            f[..3].copy_from_slice(&((to - from) as u32).to_be_bytes()[1..]);
            f[3] = DATA;
            f[4] = flags;
            f[5..9].copy_from_slice(&frame[5..9]);
            f.extend_from_slice(&frame[HEADER_LEN + from..HEADER_LEN + to]);
            f
        };
        Some((piece(0, half, 0), piece(half, len, frame[4])))
    }
}

impl H2Target for Broken {
    fn name(&self) -> &str {
        "broken"
    }

    fn clock(&self) -> Clock {
        self.inner.clock()
    }

    fn open(&mut self, role: Role, settings: &H2Settings) -> Result<(), TargetError> {
        self.server = role == Role::Server;
        self.preface_left = if self.server { PREFACE.len() } else { 0 };
        self.buf.clear();
        self.peer_opened.clear();
        self.swallowing_block = false;
        self.swallowed = 0;
        self.announced.clear();
        self.widened = false;
        self.open_block = None;
        self.first_frame_seen = false;
        self.stream_window = settings.initial_window_size.unwrap_or(65_535);
        self.max_frame = settings.max_frame_size.unwrap_or(1 << 14);
        self.pings_and_settings = 0;
        self.resets = 0;
        self.out_preface_left = if self.server { 0 } else { PREFACE.len() };
        self.out_buf.clear();
        self.blocks = Reencoder::new();
        self.inner.open(role, settings)?;
        if self.how == Breakage::UnboundedHeaderBlocks {
            let r = match role {
                Role::Client => stack::Role::Client,
                _ => stack::Role::Server,
            };
            let conn = self
                .inner
                .connection_mut()
                .ok_or_else(|| TargetError::Broken("not open".into()))?;
            *conn = stack::Connection::with_limits(
                r,
                settings_of(settings),
                stack::Limits::unbounded(),
            );
            return Ok(());
        }
        // The bundled connection, opened with other settings than it
        // announces: the wrapper rewrites its first SETTINGS.
        let (enforced, announce): (H2Settings, Option<(u16, u32)>) = match self.how {
            // No limit of its own, and everything else as usual. It still
            // announces SETTINGS_MAX_CONCURRENT_STREAMS 2 (what the traces
            // expect of every IUT); it just does not enforce it.
            Breakage::IgnoresMaxConcurrentStreams => (
                H2Settings {
                    max_concurrent_streams: None,
                    ..*settings
                },
                Some((3, 2)),
            ),
            Breakage::AcceptsOversizedFrames => (*settings, None),
            // Push left enabled, and ENABLE_PUSH 0 announced.
            Breakage::AcceptsPushWhenDisabled if settings.enable_push == Some(false) => (
                H2Settings {
                    enable_push: None,
                    ..*settings
                },
                Some((2, 0)),
            ),
            _ => return Ok(()),
        };
        let r = match role {
            Role::Client => stack::Role::Client,
            Role::Server => stack::Role::Server,
            Role::Listener => unreachable!("open() refuses a listener"),
        };
        let mut stack_settings = settings_of(&enforced);
        // A trace that asks for a SETTINGS_MAX_FRAME_SIZE of its own gets
        // it, announced and kept.
        let asked_frame_size = settings.max_frame_size.is_some();
        if self.how == Breakage::AcceptsOversizedFrames && !asked_frame_size {
            stack_settings.max_frame_size = (1 << 24) - 1;
        }
        let conn = self
            .inner
            .connection_mut()
            .ok_or_else(|| TargetError::Broken("not open".into()))?;
        *conn = stack::Connection::new(r, stack_settings);
        let mut out = conn.poll_transmit().unwrap_or_default();
        let at = if role == Role::Client {
            PREFACE.len()
        } else {
            0
        };
        let len = u32::from_be_bytes([0, out[at], out[at + 1], out[at + 2]]) as usize;
        assert_eq!(out[at + 3], 0x4, "the preface's SETTINGS");
        let start = at + HEADER_LEN;
        // Its parameters as announced: without SETTINGS_MAX_FRAME_SIZE (it
        // claims the default), plus what it claims and does not do.
        let mut params: Vec<u8> = out[start..start + len]
            .chunks(6)
            .filter(|c| asked_frame_size || u16::from_be_bytes([c[0], c[1]]) != 5)
            .flatten()
            .copied()
            .collect();
        if let Some((id, value)) = announce {
            params.extend(id.to_be_bytes());
            params.extend(value.to_be_bytes());
        }
        let new_len = params.len();
        out.splice(start..start + len, params);
        out[at..at + 3].copy_from_slice(&(new_len as u32).to_be_bytes()[1..]);
        self.announced = out;
        Ok(())
    }

    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        self.inner.app(call)
    }

    /// Frame by frame, so that each frame is judged against the state at
    /// its own arrival.
    fn deliver(&mut self, mut bytes: &[u8]) -> Result<(), TargetError> {
        if self.preface_left > 0 {
            let n = self.preface_left.min(bytes.len());
            if self.how == Breakage::IgnoresPreface {
                // Whatever the magic says, the right one goes in.
                let at = PREFACE.len() - self.preface_left;
                self.inner.deliver(&PREFACE[at..at + n])?;
            } else {
                self.inner.deliver(&bytes[..n])?;
            }
            self.preface_left -= n;
            bytes = &bytes[n..];
        }
        self.buf.extend_from_slice(bytes);
        while self.buf.len() >= HEADER_LEN {
            let len = u32::from_be_bytes([0, self.buf[0], self.buf[1], self.buf[2]]) as usize;
            if self.buf.len() < HEADER_LEN + len {
                break;
            }
            let mut frame: Vec<u8> = self.buf.drain(..HEADER_LEN + len).collect();
            let first = !self.first_frame_seen;
            self.first_frame_seen = true;
            if self.how == Breakage::IgnoresPreface
                && first
                && (frame[3] != SETTINGS || frame[4] & ACK != 0)
            {
                self.inner.deliver(&[0, 0, 0, SETTINGS, 0, 0, 0, 0, 0])?;
            }
            if self.how == Breakage::IgnoresSettingsBounds && frame[3] == SETTINGS {
                frame = within_bounds(&frame);
            }
            // A client that ignores the peer's limit on concurrent streams
            // never reads it (RFC 9113 §5.1.2).
            if self.how == Breakage::IgnoresMaxConcurrentStreams
                && !self.server
                && frame[3] == SETTINGS
                && frame[4] & ACK == 0
            {
                frame = without_parameter(&frame, 3);
            }
            if let Some(rewritten) = self.rewrite(&frame) {
                if !rewritten.is_empty() {
                    self.inner.deliver(&rewritten)?;
                }
            } else if self.swallow(&frame) {
                self.swallowed += 1;
            } else if let Some((a, b)) = self.halves(&frame) {
                // Each half read and credited before the next.
                self.inner.deliver(&a)?;
                self.inner.poll().map(|out| self.announced.extend(out))?;
                self.inner.deliver(&b)?;
            } else {
                self.inner.deliver(&frame)?;
            }
            // After the peer's SETTINGS, a WINDOW_UPDATE on stream 0 that
            // the peer never sent: the IUT's connection window is off by
            // 65 535 bytes.
            if self.how == Breakage::IgnoresConnectionWindow
                && !self.widened
                && frame[3] == SETTINGS
                && frame[4] & ACK == 0
            {
                self.widened = true;
                let mut wu = vec![0, 0, 4, WINDOW_UPDATE, 0, 0, 0, 0, 0];
                wu.extend(65_535u32.to_be_bytes());
                self.inner.deliver(&wu)?;
            }
        }
        Ok(())
    }

    fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
        let mut out = std::mem::take(&mut self.announced);
        out.extend(self.inner.poll()?);
        Ok(self.filter_output(out))
    }

    fn stream_state(&mut self, stream: u32) -> Result<Option<StreamState>, TargetError> {
        self.inner.stream_state(stream)
    }

    fn close(&mut self) {
        self.inner.close()
    }
}

/// A SETTINGS frame without parameter `id`.
fn without_parameter(frame: &[u8], id: u16) -> Vec<u8> {
    let params: Vec<u8> = frame[HEADER_LEN..]
        .chunks(6)
        .filter(|c| c.len() < 6 || u16::from_be_bytes([c[0], c[1]]) != id)
        .flatten()
        .copied()
        .collect();
    let mut out = frame[..HEADER_LEN].to_vec();
    out[..3].copy_from_slice(&(params.len() as u32).to_be_bytes()[1..]);
    out.extend(params);
    out
}

/// A SETTINGS frame without the parameters outside their bounds (RFC
/// 9113 §6.5.2).
fn within_bounds(frame: &[u8]) -> Vec<u8> {
    let params: Vec<u8> = frame[HEADER_LEN..]
        .chunks(6)
        .filter(|c| {
            if c.len() < 6 {
                return true;
            }
            let value = u32::from_be_bytes([c[2], c[3], c[4], c[5]]);
            match u16::from_be_bytes([c[0], c[1]]) {
                2 => value <= 1,
                4 => value <= 0x7fff_ffff,
                5 => (1 << 14..1 << 24).contains(&value),
                _ => true,
            }
        })
        .flatten()
        .copied()
        .collect();
    let mut out = frame[..HEADER_LEN].to_vec();
    out[..3].copy_from_slice(&(params.len() as u32).to_be_bytes()[1..]);
    out.extend(params);
    out
}

// ------------------------------------------------------------ predicates

/// The trace sends a SETTINGS parameter outside its bounds (RFC 9113
/// §6.5.2).
fn exercises_settings_bounds(t: &H2Trace) -> bool {
    t.steps.iter().any(|s| match s {
        H2Step::Send(f) if f.kind == FrameType::Settings => {
            f.enable_push.is_some_and(|v| v > 1)
                || f.initial_window_size.is_some_and(|v| v > 0x7fff_ffff)
                || f.max_frame_size
                    .is_some_and(|v| !(1 << 14..1 << 24).contains(&v))
        }
        _ => false,
    })
}

/// The trace opens with a wrong client magic, or its first frame is not
/// SETTINGS (RFC 9113 §3.4).
fn exercises_preface(t: &H2Trace) -> bool {
    t.steps
        .iter()
        .find_map(|s| match s {
            H2Step::Send(f) => Some(f.magic.is_some() || f.kind != FrameType::Settings || f.ack),
            _ => None,
        })
        .unwrap_or(false)
}

/// The trace covers DATA arriving on a closed stream, with a reaction the
/// model demands (STREAM_CLOSED or PROTOCOL_ERROR), not silence.
fn exercises_data_on_closed_stream(t: &H2Trace) -> bool {
    t.covers.iter().any(|c| {
        let event = c.event.to_string();
        c.state == "closed"
            && matches!(
                event.as_str(),
                "recv DATA" | "recv DATA END_STREAM" | "recv DATA of SETTINGS_MAX_FRAME_SIZE"
            )
            && c.output != "-"
    })
}

/// The trace sends a HEADERS that would open a new stream of the peer's
/// below one the peer already opened (or, to a client, reserved with
/// PUSH_PROMISE): RFC 9113 §5.1.1's "lower stream identifier".
fn exercises_lower_stream_id(t: &H2Trace) -> bool {
    let server = t.iut == Role::Server;
    let peer_id = |id: u32| id != 0 && (id % 2 == 1) == server;
    let mut opened = BTreeSet::new();
    for s in &t.steps {
        let H2Step::Send(f) = s else { continue };
        match f.kind {
            FrameType::PushPromise => {
                opened.extend(f.promised);
            }
            FrameType::Headers => {
                let id = f.stream.unwrap_or(0);
                if !peer_id(id) {
                    continue;
                }
                if opened.last().is_some_and(|&h| id < h) && !opened.contains(&id) {
                    return true;
                }
                opened.insert(id);
            }
            _ => {}
        }
    }
    false
}

/// The trace reaches a point where the IUT's connection window is spent
/// while a stream has data queued and stream window to send it, or sends a
/// WINDOW_UPDATE of 2^31−1 on stream 0 when that window is empty (RFC 9113
/// §6.9.1). Worked out from the trace's own steps: the windows the harness
/// gives, the data the application hands over and the DATA expected.
fn exercises_connection_window(t: &H2Trace) -> bool {
    use std::collections::BTreeMap;
    let mut initial: i64 = 65_535;
    let mut conn: i64 = 65_535;
    let mut stream_win: BTreeMap<u32, i64> = BTreeMap::new();
    let mut pending: BTreeMap<u32, i64> = BTreeMap::new();
    for s in &t.steps {
        match s {
            H2Step::Send(f) if f.kind == FrameType::Settings => {
                if let Some(w) = f.initial_window_size {
                    initial = w.into();
                }
            }
            H2Step::Send(f) if f.kind == FrameType::WindowUpdate => {
                let inc = i64::from(f.increment.unwrap_or(0));
                match f.stream.unwrap_or(0) {
                    0 => {
                        if conn == 0 && inc == 0x7fff_ffff {
                            return true;
                        }
                        conn += inc;
                    }
                    id => *stream_win.entry(id).or_insert(initial) += inc,
                }
            }
            H2Step::App(H2App::Data { stream, len, .. }) => {
                *pending.entry(*stream).or_default() += i64::from(*len);
            }
            H2Step::Expect(e) => {
                if let Some(p) = e.any_of.first().filter(|p| p.kind == FrameType::Data) {
                    let id = p.stream.unwrap_or(0);
                    let len = i64::from(p.len.unwrap_or(0));
                    conn -= len;
                    *stream_win.entry(id).or_insert(initial) -= len;
                    *pending.entry(id).or_default() -= len;
                }
            }
            _ => {}
        }
        if conn == 0
            && pending
                .iter()
                .any(|(id, &p)| p > 0 && stream_win.get(id).copied().unwrap_or(initial) > 0)
        {
            return true;
        }
    }
    false
}

/// The trace sends a frame above the default SETTINGS_MAX_FRAME_SIZE
/// where the RFC leaves no answer but FRAME_SIZE_ERROR (RFC 9113 §4.2):
/// where the plain frame would meet an error too (a closed stream), that
/// error is allowed as well, and a connection that takes the size meets it.
fn exercises_oversized_frames(t: &H2Trace) -> bool {
    t.steps.windows(2).any(|w| match w {
        [H2Step::Send(f), H2Step::Expect(e)] => {
            f.len.is_some_and(|l| l > 1 << 14)
                && e.any_of.iter().all(|p| {
                    p.error == Some(tracewright_conformance::h2::ErrorName::FrameSizeError)
                })
        }
        _ => false,
    })
}

/// The trace sends, right after a HEADERS without END_HEADERS, a frame
/// other than a CONTINUATION on that stream (RFC 9113 §6.10).
fn exercises_frames_inside_a_header_block(t: &H2Trace) -> bool {
    t.steps.windows(2).any(|w| match w {
        [H2Step::Send(h), H2Step::Send(f)] => {
            h.kind == FrameType::Headers
                && h.end_headers == Some(false)
                && (f.kind != FrameType::Continuation || f.stream != h.stream)
        }
        _ => false,
    })
}

/// The harness sends more DATA than the connection window starts with
/// (65 535 octets, RFC 9113 §6.9.2), each within its window: the IUT must
/// have given the connection's window back.
fn exercises_connection_window_given_back(t: &H2Trace) -> bool {
    let sent: u64 = t
        .steps
        .iter()
        .filter_map(|s| match s {
            H2Step::Send(f) if f.kind == FrameType::Data && f.beyond.is_none() => {
                Some(u64::from(f.len.unwrap_or(0)))
            }
            _ => None,
        })
        .sum();
    sent > 65_535
}

/// The harness sends a DATA frame beyond one of the IUT's windows.
fn exercises_data_beyond_window(t: &H2Trace) -> bool {
    t.steps
        .iter()
        .any(|s| matches!(s, H2Step::Send(f) if f.beyond.is_some()))
}

fn floods(t: &H2Trace, attacks: &[Attack]) -> bool {
    t.steps
        .iter()
        .any(|s| matches!(s, H2Step::Flood(fl) if attacks.contains(&fl.attack)))
}

fn exercises_header_block_attacks(t: &H2Trace) -> bool {
    floods(t, &[Attack::ContinuationFlood, Attack::HpackBomb])
}

fn exercises_ping_and_settings_floods(t: &H2Trace) -> bool {
    floods(t, &[Attack::PingFlood, Attack::SettingsFlood])
}

fn exercises_rapid_reset(t: &H2Trace) -> bool {
    floods(t, &[Attack::RapidReset])
}

/// The trace covers a stream refused for going over the IUT's limit, or
/// has a client IUT's application ask for a stream where nothing may go
/// out: the harness's limit is reached (RFC 9113 §5.1.2).
fn exercises_max_concurrent_streams(t: &H2Trace) -> bool {
    let held = t.steps.windows(2).any(|w| match w {
        [H2Step::App(H2App::Request { .. }), H2Step::Expect(e)] => {
            e.any_of.iter().all(|p| p.kind == FrameType::None)
        }
        _ => false,
    });
    held || t.covers.iter().any(|c| c.output.contains("REFUSED_STREAM"))
}

/// A client IUT is asked to announce SETTINGS_ENABLE_PUSH 0 and is sent a
/// PUSH_PROMISE (RFC 9113 §6.6).
fn exercises_push_when_disabled(t: &H2Trace) -> bool {
    let disabled = t.steps.iter().any(|s| match s {
        H2Step::Expect(e) => e
            .any_of
            .iter()
            .any(|p| p.kind == FrameType::Settings && p.enable_push == Some(0)),
        _ => false,
    });
    disabled
        && t.steps
            .iter()
            .any(|s| matches!(s, H2Step::Send(f) if f.kind == FrameType::PushPromise))
}

/// The trace sends a header block that does not decode (RFC 7541; RFC 9113
/// §4.3).
fn exercises_hpack_errors(t: &H2Trace) -> bool {
    t.steps.iter().any(|s| {
        matches!(s, H2Step::Send(f) if matches!(
            f.fields,
            Some(FieldClass::TableSizeAboveLimit | FieldClass::BadIndex | FieldClass::BadHuffman)
        ))
    })
}

/// The trace sends a malformed request, response or trailers (RFC 9113
/// §8.1.1): a field block of a class that breaks a rule of §8, or DATA
/// that disagrees with the content-length its HEADERS declared.
fn exercises_malformed_messages(t: &H2Trace) -> bool {
    t.steps.iter().any(|s| {
        let H2Step::Send(f) = s else { return false };
        match f.fields {
            None
            | Some(
                FieldClass::TableSizeUpdate
                | FieldClass::TeTrailers
                | FieldClass::TableSizeAboveLimit
                | FieldClass::BadIndex
                | FieldClass::BadHuffman,
            ) => false,
            // The DATA after it is one octet short.
            Some(FieldClass::ContentLength) => true,
            Some(_) => true,
        }
    })
}

// ------------------------------------------------------------ the check

fn corpus() -> H2Corpus {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = load_h2_corpus(&root.join("traces/h2")).unwrap();
    assert!(corpus.errors.is_empty(), "{:?}", corpus.errors);
    assert!(!corpus.traces.is_empty(), "an empty HTTP/2 corpus");
    corpus
}

fn ids(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

fn check(how: Breakage, exercised: fn(&H2Trace) -> bool) {
    let corpus = corpus();
    let mut failed = BTreeSet::new();
    let mut other = BTreeSet::new();
    let mut should = BTreeSet::new();
    let mut swallowed = BTreeSet::new();
    // The header-semantics wrapper holds a header block until its
    // END_HEADERS to re-encode it, so a CONTINUATION flood never reaches
    // the bundled connection's limit through it: those breakages leave the
    // attack traces to the others.
    let rewrites_blocks = matches!(
        how,
        Breakage::AcceptsMalformedMessages | Breakage::IgnoresHpackErrors
    );
    let floods = |t: &H2Trace| t.steps.iter().any(|s| matches!(s, H2Step::Flood(_)));
    for t in corpus
        .traces
        .iter()
        .filter(|t| !(rewrites_blocks && floods(t)))
    {
        let mut target = Broken::new(how);
        let verdict = replay_h2(t, &mut target).verdict;
        if target.swallowed > 0 {
            swallowed.insert(t.id.clone());
        }
        match verdict {
            Verdict::Pass => {}
            Verdict::Fail {
                step, reason, got, ..
            } => {
                eprintln!(
                    "  {how:?} fails {} at step {step}: {reason} (got {got:?})",
                    t.id
                );
                failed.insert(t.id.clone());
            }
            v => {
                other.insert(format!("{}: {v:?}", t.id));
            }
        }
        if exercised(t) {
            should.insert(t.id.clone());
        }
    }
    eprintln!(
        "{how:?}: {} of {} traces fail; {} exercise the breakage; frames swallowed in {}",
        failed.len(),
        corpus.traces.len(),
        should.len(),
        swallowed.len()
    );
    assert!(!should.is_empty(), "{how:?}: no trace exercises it");
    assert!(!failed.is_empty(), "{how:?}: no trace fails");
    assert!(
        other.is_empty(),
        "{how:?}: traces neither pass nor fail: {}",
        ids(&other)
    );
    // The wrappers that swallow frames did so wherever a trace fails.
    if matches!(
        how,
        Breakage::AcceptsDataOnClosedStream
            | Breakage::AcceptsLowerStreamId
            | Breakage::AcceptsFramesInsideHeaderBlock
            | Breakage::IgnoresHpackErrors
    ) {
        let unswallowed: BTreeSet<_> = failed.difference(&swallowed).cloned().collect();
        assert!(
            unswallowed.is_empty(),
            "{how:?}: traces that fail though the wrapper swallowed nothing: {}",
            ids(&unswallowed)
        );
    }
    let passed_but_exercised: BTreeSet<_> = should.difference(&failed).cloned().collect();
    let failed_but_not_exercised: BTreeSet<_> = failed.difference(&should).cloned().collect();
    assert!(
        passed_but_exercised.is_empty(),
        "{how:?}: traces that exercise the breakage and still pass: {}",
        ids(&passed_but_exercised)
    );
    assert!(
        failed_but_not_exercised.is_empty(),
        "{how:?}: traces that fail but do not exercise the breakage: {}",
        ids(&failed_but_not_exercised)
    );
}

#[test]
fn h2_bundled_passes_everything() {
    let corpus = corpus();
    let bad: BTreeSet<String> = corpus
        .traces
        .iter()
        .filter_map(|t| match replay_h2(t, &mut BundledH2::new()).verdict {
            Verdict::Pass => None,
            v => Some(format!("{}: {v:?}", t.id)),
        })
        .collect();
    eprintln!(
        "bundled: {} of {} traces pass",
        corpus.traces.len() - bad.len(),
        corpus.traces.len()
    );
    assert!(
        bad.is_empty(),
        "the bundled stack does not pass: {}",
        ids(&bad)
    );
}

#[test]
fn h2_an_endpoint_that_accepts_data_on_a_closed_stream_fails_those_traces() {
    check(
        Breakage::AcceptsDataOnClosedStream,
        exercises_data_on_closed_stream,
    );
}

#[test]
fn h2_an_endpoint_that_accepts_a_lower_stream_id_fails_those_traces() {
    check(Breakage::AcceptsLowerStreamId, exercises_lower_stream_id);
}

#[test]
fn h2_an_endpoint_that_ignores_max_concurrent_streams_fails_those_traces() {
    check(
        Breakage::IgnoresMaxConcurrentStreams,
        exercises_max_concurrent_streams,
    );
}

#[test]
fn h2_an_endpoint_that_ignores_the_connection_window_fails_those_traces() {
    check(
        Breakage::IgnoresConnectionWindow,
        exercises_connection_window,
    );
}

#[test]
fn h2_an_endpoint_that_accepts_oversized_frames_fails_those_traces() {
    check(Breakage::AcceptsOversizedFrames, exercises_oversized_frames);
}

#[test]
fn h2_an_endpoint_that_accepts_frames_inside_a_header_block_fails_those_traces() {
    check(
        Breakage::AcceptsFramesInsideHeaderBlock,
        exercises_frames_inside_a_header_block,
    );
}

#[test]
fn h2_an_endpoint_that_ignores_settings_bounds_fails_those_traces() {
    check(Breakage::IgnoresSettingsBounds, exercises_settings_bounds);
}

#[test]
fn h2_an_endpoint_that_ignores_the_preface_fails_those_traces() {
    check(Breakage::IgnoresPreface, exercises_preface);
}

#[test]
fn h2_an_endpoint_that_never_updates_the_connection_window_fails_those_traces() {
    check(
        Breakage::NeverUpdatesConnectionWindow,
        exercises_connection_window_given_back,
    );
}

#[test]
fn h2_an_endpoint_that_accepts_data_beyond_its_window_fails_those_traces() {
    check(
        Breakage::AcceptsDataBeyondWindow,
        exercises_data_beyond_window,
    );
}

#[test]
fn h2_an_endpoint_without_header_block_limits_fails_those_traces() {
    check(
        Breakage::UnboundedHeaderBlocks,
        exercises_header_block_attacks,
    );
}

#[test]
fn h2_an_endpoint_that_drops_flooded_pings_and_settings_fails_those_traces() {
    check(
        Breakage::DropsFloodedPingsAndSettings,
        exercises_ping_and_settings_floods,
    );
}

#[test]
fn h2_an_endpoint_that_stalls_under_rapid_reset_fails_those_traces() {
    check(Breakage::StallsUnderRapidReset, exercises_rapid_reset);
}

#[test]
fn h2_an_endpoint_that_accepts_malformed_messages_fails_those_traces() {
    check(
        Breakage::AcceptsMalformedMessages,
        exercises_malformed_messages,
    );
}

#[test]
fn h2_an_endpoint_that_ignores_hpack_errors_fails_those_traces() {
    check(Breakage::IgnoresHpackErrors, exercises_hpack_errors);
}

#[test]
fn h2_an_endpoint_that_accepts_a_push_it_disabled_fails_those_traces() {
    check(
        Breakage::AcceptsPushWhenDisabled,
        exercises_push_when_disabled,
    );
}

/// The report a broken endpoint gets, with each failure drawn as a ladder
/// of frames, kept as a snapshot in reports/.
#[test]
fn h2_broken_report_draws_the_divergence() {
    let corpus = corpus();
    let mut target = Broken::new(Breakage::AcceptsDataOnClosedStream);
    let report = tracewright_conformance::h2::run_h2_corpus(&corpus, &mut target, &mut |_, _| {});
    let text = report.render();
    assert!(text.contains("FAIL h2-server-closed-recv-data"), "{text}");
    insta::with_settings!({snapshot_path => "../../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("h2-broken-accepts-data-on-closed-stream", text);
    });
}

/// HTTP/2 has documented deviations as TCP has: the broken connection's
/// failures, listed in a list about HTTP/2 traces, show as DEVIATION with
/// their reason; a listed trace that passes is STALE (which fails a run);
/// and a list about TCP traces names none of these, so all its entries are
/// stale and the failures stay failures.
#[test]
fn h2_deviations_document_a_broken_connection() {
    let corpus = corpus();
    let failing: BTreeSet<&str> = corpus
        .traces
        .iter()
        .filter(|t| exercises_data_on_closed_stream(t))
        .map(|t| t.id.as_str())
        .collect();
    let listed_pass = "h2-client-connection-recv-ping-sends-ping-ack-to-connection";
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/h2-broken-deviations.yaml");
    let d = Deviations::load(&path).unwrap();
    assert_eq!((d.protocol, d.target.as_str()), (Protocol::H2, "broken"));
    let run = |d: Deviations| {
        let mut target = Broken::new(Breakage::AcceptsDataOnClosedStream);
        tracewright_conformance::h2::run_h2_corpus(&corpus, &mut target, &mut |_, _| {})
            .with_deviations(d)
    };

    let report = run(d.clone());
    let text = report.render();
    let c = report.counts();
    assert_eq!(
        (c.fail, c.deviation, c.stale, c.error + c.inconclusive),
        (0, failing.len(), 1, 0),
        "{text}"
    );
    for id in &failing {
        assert!(
            text.contains(&format!("\nDEVIATION {id}\n")),
            "{id}: {text}"
        );
    }
    assert!(
        text.contains("  documented deviation: DATA on a closed stream is swallowed"),
        "{text}"
    );
    assert!(
        text.contains(&format!("STALE DEVIATION {listed_pass}\n")),
        "{text}"
    );
    assert!(report.junit_xml().contains("stale deviation entry"));

    let tcp = Deviations {
        protocol: Protocol::Tcp,
        ..d
    };
    let entries = tcp.entries.len();
    let report = run(tcp);
    let text = report.render();
    let c = report.counts();
    assert_eq!(
        (c.fail, c.deviation, c.stale),
        (failing.len(), 0, entries),
        "{text}"
    );
    assert!(
        text.contains("  STALE h2-client-closed-recv-data-sends-*: the list is about tcp traces, the corpus is h2"),
        "{text}"
    );
}
