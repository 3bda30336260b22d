//! The frame codec of RFC 9113 §4 and §6: a 9-octet header, then a payload
//! whose layout depends on the type.
//!
//! Decoding checks what a frame can be judged on by itself: its size, the
//! stream it may be on, its padding. What depends on the connection (stream
//! states, flow control, header blocks in progress) is `conn`'s business.

use super::{Error, ErrorCode, StreamId};

/// The length of the frame header (RFC 9113 §4.1).
pub(crate) const HEADER_LEN: usize = 9;

// Frame types (RFC 9113 §6).
pub(crate) const DATA: u8 = 0x0;
pub(crate) const HEADERS: u8 = 0x1;
pub(crate) const PRIORITY: u8 = 0x2;
pub(crate) const RST_STREAM: u8 = 0x3;
pub(crate) const SETTINGS: u8 = 0x4;
pub(crate) const PUSH_PROMISE: u8 = 0x5;
pub(crate) const PING: u8 = 0x6;
pub(crate) const GOAWAY: u8 = 0x7;
pub(crate) const WINDOW_UPDATE: u8 = 0x8;
pub(crate) const CONTINUATION: u8 = 0x9;

// Flags (RFC 9113 §6).
pub(crate) const END_STREAM: u8 = 0x1;
pub(crate) const ACK: u8 = 0x1;
pub(crate) const END_HEADERS: u8 = 0x4;
pub(crate) const PADDED: u8 = 0x8;
pub(crate) const PRIORITY_FLAG: u8 = 0x20;

// Setting identifiers (RFC 9113 §6.5.2).
pub(crate) const SETTINGS_HEADER_TABLE_SIZE: u16 = 0x1;
pub(crate) const SETTINGS_ENABLE_PUSH: u16 = 0x2;
pub(crate) const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
pub(crate) const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;
pub(crate) const SETTINGS_MAX_FRAME_SIZE: u16 = 0x5;
pub(crate) const SETTINGS_MAX_HEADER_LIST_SIZE: u16 = 0x6;

/// The largest flow-control window, 2³¹−1 (RFC 9113 §6.9.1).
pub(crate) const MAX_WINDOW: i64 = (1 << 31) - 1;
/// The largest stream identifier.
pub(crate) const MAX_STREAM_ID: StreamId = (1 << 31) - 1;

/// The frame header of RFC 9113 §4.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Head {
    pub length: u32,
    pub kind: u8,
    pub flags: u8,
    pub stream: StreamId,
}

impl Head {
    pub(crate) fn parse(b: &[u8]) -> Head {
        Head {
            length: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: b[3],
            flags: b[4],
            // > Reserved: ... MUST be ignored when receiving.
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & MAX_STREAM_ID,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.length.to_be_bytes()[1..]);
        out.push(self.kind);
        out.push(self.flags);
        out.extend_from_slice(&(self.stream & MAX_STREAM_ID).to_be_bytes());
    }
}

/// The priority fields of HEADERS and PRIORITY (RFC 9113 §5.3.2, §6.3):
/// parsed so the frames are well-formed, otherwise ignored (§5.3.2 deprecates
/// the RFC 7540 scheme).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Priority {
    pub exclusive: bool,
    pub dependency: StreamId,
    pub weight: u8,
}

impl Priority {
    fn parse(b: &[u8]) -> Priority {
        let word = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        Priority {
            exclusive: word & 0x8000_0000 != 0,
            dependency: word & MAX_STREAM_ID,
            weight: b[4],
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let word = self.dependency | if self.exclusive { 0x8000_0000 } else { 0 };
        out.extend_from_slice(&word.to_be_bytes());
        out.push(self.weight);
    }
}

/// A frame. `pad` is the Pad Length of a PADDED frame (its padding octets
/// are zero, RFC 9113 §6.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    Data {
        stream: StreamId,
        end_stream: bool,
        data: Vec<u8>,
        pad: Option<u8>,
    },
    Headers {
        stream: StreamId,
        end_stream: bool,
        end_headers: bool,
        priority: Option<Priority>,
        block: Vec<u8>,
        pad: Option<u8>,
    },
    Priority {
        stream: StreamId,
        priority: Priority,
    },
    RstStream {
        stream: StreamId,
        code: ErrorCode,
    },
    Settings {
        ack: bool,
        params: Vec<(u16, u32)>,
    },
    PushPromise {
        stream: StreamId,
        promised: StreamId,
        end_headers: bool,
        block: Vec<u8>,
        pad: Option<u8>,
    },
    Ping {
        ack: bool,
        opaque: [u8; 8],
    },
    GoAway {
        last_stream: StreamId,
        code: ErrorCode,
        debug: Vec<u8>,
    },
    WindowUpdate {
        stream: StreamId,
        increment: u32,
    },
    Continuation {
        stream: StreamId,
        end_headers: bool,
        block: Vec<u8>,
    },
    /// A type this endpoint does not know (RFC 9113 §5.5).
    Unknown {
        kind: u8,
        flags: u8,
        stream: StreamId,
        payload: Vec<u8>,
    },
}

fn conn_error(code: ErrorCode, reason: &str) -> Error {
    Error::conn(code, reason)
}

/// Strips the padding of a PADDED frame (RFC 9113 §6.1): returns the pad
/// length and the payload between the Pad Length field and the padding.
/// `fixed` is the size of the fields that follow Pad Length.
fn unpad(flags: u8, payload: &[u8], fixed: usize) -> Result<(Option<u8>, &[u8]), Error> {
    if flags & PADDED == 0 {
        if payload.len() < fixed {
            return Err(conn_error(ErrorCode::FRAME_SIZE_ERROR, "frame too short"));
        }
        return Ok((None, payload));
    }
    if payload.len() < 1 + fixed {
        return Err(conn_error(ErrorCode::FRAME_SIZE_ERROR, "frame too short"));
    }
    let pad = payload[0];
    // > If the length of the padding is the length of the frame payload or
    // > greater, the recipient MUST treat this as a connection error
    // > (Section 5.4.1) of type PROTOCOL_ERROR.
    // Padding octets are not checked for zero (a receiver "is not obligated").
    if pad as usize > payload.len() - 1 - fixed {
        return Err(conn_error(
            ErrorCode::PROTOCOL_ERROR,
            "padding longer than the payload",
        ));
    }
    Ok((Some(pad), &payload[1..payload.len() - pad as usize]))
}

impl Frame {
    /// Decodes one frame whose header is `head` and payload `payload`
    /// (exactly `head.length` octets).
    pub(crate) fn decode(head: &Head, payload: &[u8]) -> Result<Frame, Error> {
        let stream = head.stream;
        let flags = head.flags;
        // > DATA/HEADERS/PRIORITY/RST_STREAM/PUSH_PROMISE/CONTINUATION frames
        // > MUST be associated with a stream. If a ... frame is received whose
        // > Stream Identifier field is 0x00, the recipient MUST respond with a
        // > connection error (Section 5.4.1) of type PROTOCOL_ERROR.
        let on_stream = matches!(
            head.kind,
            DATA | HEADERS | PRIORITY | RST_STREAM | PUSH_PROMISE | CONTINUATION
        );
        if on_stream && stream == 0 {
            return Err(conn_error(
                ErrorCode::PROTOCOL_ERROR,
                "stream frame on stream 0",
            ));
        }
        // > SETTINGS/PING/GOAWAY ... If the Stream Identifier field specifies
        // > anything other than 0x00, the endpoint MUST respond with a
        // > connection error (Section 5.4.1) of type PROTOCOL_ERROR.
        if matches!(head.kind, SETTINGS | PING | GOAWAY) && stream != 0 {
            return Err(conn_error(
                ErrorCode::PROTOCOL_ERROR,
                "connection frame on a stream",
            ));
        }
        Ok(match head.kind {
            DATA => {
                let (pad, data) = unpad(flags, payload, 0)?;
                Frame::Data {
                    stream,
                    end_stream: flags & END_STREAM != 0,
                    data: data.to_vec(),
                    pad,
                }
            }
            HEADERS => {
                let fixed = if flags & PRIORITY_FLAG != 0 { 5 } else { 0 };
                let (pad, rest) = unpad(flags, payload, fixed)?;
                let priority = (fixed == 5).then(|| Priority::parse(rest));
                Frame::Headers {
                    stream,
                    end_stream: flags & END_STREAM != 0,
                    end_headers: flags & END_HEADERS != 0,
                    priority,
                    block: rest[fixed..].to_vec(),
                    pad,
                }
            }
            PRIORITY => {
                // > A PRIORITY frame with a length other than 5 octets MUST be
                // > treated as a stream error (Section 5.4.2) of type
                // > FRAME_SIZE_ERROR.
                if payload.len() != 5 {
                    return Err(Error::Reset(stream, ErrorCode::FRAME_SIZE_ERROR));
                }
                Frame::Priority {
                    stream,
                    priority: Priority::parse(payload),
                }
            }
            RST_STREAM => {
                // > A RST_STREAM frame with a length other than 4 octets MUST be
                // > treated as a connection error (Section 5.4.1) of type
                // > FRAME_SIZE_ERROR.
                if payload.len() != 4 {
                    return Err(conn_error(
                        ErrorCode::FRAME_SIZE_ERROR,
                        "RST_STREAM length is not 4",
                    ));
                }
                Frame::RstStream {
                    stream,
                    code: ErrorCode(u32::from_be_bytes(payload.try_into().unwrap())),
                }
            }
            SETTINGS => {
                let ack = flags & ACK != 0;
                // > Receipt of a SETTINGS frame with the ACK flag set and a
                // > length field value other than 0 MUST be treated as a
                // > connection error (Section 5.4.1) of type FRAME_SIZE_ERROR.
                if ack && !payload.is_empty() {
                    return Err(conn_error(
                        ErrorCode::FRAME_SIZE_ERROR,
                        "SETTINGS ACK with a payload",
                    ));
                }
                // > A SETTINGS frame with a length other than a multiple of 6
                // > octets MUST be treated as a connection error (Section
                // > 5.4.1) of type FRAME_SIZE_ERROR.
                if !payload.len().is_multiple_of(6) {
                    return Err(conn_error(
                        ErrorCode::FRAME_SIZE_ERROR,
                        "SETTINGS length is not a multiple of 6",
                    ));
                }
                let params = payload
                    .chunks(6)
                    .map(|c| {
                        (
                            u16::from_be_bytes([c[0], c[1]]),
                            u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                        )
                    })
                    .collect();
                Frame::Settings { ack, params }
            }
            PUSH_PROMISE => {
                let (pad, rest) = unpad(flags, payload, 4)?;
                Frame::PushPromise {
                    stream,
                    promised: u32::from_be_bytes(rest[..4].try_into().unwrap()) & MAX_STREAM_ID,
                    end_headers: flags & END_HEADERS != 0,
                    block: rest[4..].to_vec(),
                    pad,
                }
            }
            PING => {
                // > Receipt of a PING frame with a length field value other
                // > than 8 MUST be treated as a connection error (Section
                // > 5.4.1) of type FRAME_SIZE_ERROR.
                if payload.len() != 8 {
                    return Err(conn_error(
                        ErrorCode::FRAME_SIZE_ERROR,
                        "PING length is not 8",
                    ));
                }
                Frame::Ping {
                    ack: flags & ACK != 0,
                    opaque: payload.try_into().unwrap(),
                }
            }
            GOAWAY => {
                if payload.len() < 8 {
                    return Err(conn_error(
                        ErrorCode::FRAME_SIZE_ERROR,
                        "GOAWAY shorter than 8",
                    ));
                }
                Frame::GoAway {
                    last_stream: u32::from_be_bytes(payload[..4].try_into().unwrap())
                        & MAX_STREAM_ID,
                    code: ErrorCode(u32::from_be_bytes(payload[4..8].try_into().unwrap())),
                    debug: payload[8..].to_vec(),
                }
            }
            WINDOW_UPDATE => {
                // > A WINDOW_UPDATE frame with a length other than 4 octets
                // > MUST be treated as a connection error (Section 5.4.1) of
                // > type FRAME_SIZE_ERROR.
                if payload.len() != 4 {
                    return Err(conn_error(
                        ErrorCode::FRAME_SIZE_ERROR,
                        "WINDOW_UPDATE length is not 4",
                    ));
                }
                Frame::WindowUpdate {
                    stream,
                    increment: u32::from_be_bytes(payload.try_into().unwrap()) & MAX_STREAM_ID,
                }
            }
            CONTINUATION => Frame::Continuation {
                stream,
                end_headers: flags & END_HEADERS != 0,
                block: payload.to_vec(),
            },
            kind => Frame::Unknown {
                kind,
                flags,
                stream,
                payload: payload.to_vec(),
            },
        })
    }

    /// Appends the frame, header and payload, to `out`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut payload = Vec::new();
        let mut flags = 0;
        let (kind, stream) = match self {
            Frame::Data {
                stream,
                end_stream,
                data,
                pad,
            } => {
                flags |= flag(*end_stream, END_STREAM);
                padded(&mut payload, &mut flags, *pad, |p| {
                    p.extend_from_slice(data)
                });
                (DATA, *stream)
            }
            Frame::Headers {
                stream,
                end_stream,
                end_headers,
                priority,
                block,
                pad,
            } => {
                flags |= flag(*end_stream, END_STREAM) | flag(*end_headers, END_HEADERS);
                flags |= flag(priority.is_some(), PRIORITY_FLAG);
                padded(&mut payload, &mut flags, *pad, |p| {
                    if let Some(priority) = priority {
                        priority.encode(p);
                    }
                    p.extend_from_slice(block);
                });
                (HEADERS, *stream)
            }
            Frame::Priority { stream, priority } => {
                priority.encode(&mut payload);
                (PRIORITY, *stream)
            }
            Frame::RstStream { stream, code } => {
                payload.extend_from_slice(&code.0.to_be_bytes());
                (RST_STREAM, *stream)
            }
            Frame::Settings { ack, params } => {
                flags |= flag(*ack, ACK);
                for (id, value) in params {
                    payload.extend_from_slice(&id.to_be_bytes());
                    payload.extend_from_slice(&value.to_be_bytes());
                }
                (SETTINGS, 0)
            }
            Frame::PushPromise {
                stream,
                promised,
                end_headers,
                block,
                pad,
            } => {
                flags |= flag(*end_headers, END_HEADERS);
                padded(&mut payload, &mut flags, *pad, |p| {
                    p.extend_from_slice(&promised.to_be_bytes());
                    p.extend_from_slice(block);
                });
                (PUSH_PROMISE, *stream)
            }
            Frame::Ping { ack, opaque } => {
                flags |= flag(*ack, ACK);
                payload.extend_from_slice(opaque);
                (PING, 0)
            }
            Frame::GoAway {
                last_stream,
                code,
                debug,
            } => {
                payload.extend_from_slice(&last_stream.to_be_bytes());
                payload.extend_from_slice(&code.0.to_be_bytes());
                payload.extend_from_slice(debug);
                (GOAWAY, 0)
            }
            Frame::WindowUpdate { stream, increment } => {
                payload.extend_from_slice(&increment.to_be_bytes());
                (WINDOW_UPDATE, *stream)
            }
            Frame::Continuation {
                stream,
                end_headers,
                block,
            } => {
                flags |= flag(*end_headers, END_HEADERS);
                payload.extend_from_slice(block);
                (CONTINUATION, *stream)
            }
            Frame::Unknown {
                kind,
                flags: f,
                stream,
                payload: p,
            } => {
                flags = *f;
                payload.extend_from_slice(p);
                (*kind, *stream)
            }
        };
        Head {
            length: payload.len() as u32,
            kind,
            flags,
            stream,
        }
        .encode(out);
        out.extend_from_slice(&payload);
    }
}

fn flag(on: bool, bit: u8) -> u8 {
    if on {
        bit
    } else {
        0
    }
}

fn padded(payload: &mut Vec<u8>, flags: &mut u8, pad: Option<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    if let Some(pad) = pad {
        *flags |= PADDED;
        payload.push(pad);
        body(payload);
        payload.extend(std::iter::repeat_n(0, pad as usize));
    } else {
        body(payload);
    }
}
