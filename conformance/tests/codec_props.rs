//! Properties of the harness's HTTP/2 frame codec, by quickcheck: bytes
//! from the IUT decode to the same frames however the reads cut them, any
//! bytes decode without a panic, and a frame the encoder writes decodes to
//! its own type, stream and length.

use quickcheck::{quickcheck, TestResult};
use tracewright_conformance::h2::codec::MAX_WIRE_LENGTH;
use tracewright_conformance::h2::{decode_frames, Encoder, FrameSpec, FrameType};

/// Frames, as bytes with plausible headers: a length that fits the rest
/// more often than random bytes would.
fn wire(frames: &[(u8, u8, u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (ty, flags, stream, payload) in frames {
        let len = payload.len() as u32;
        out.extend(&len.to_be_bytes()[1..]);
        out.extend([ty % 11, *flags, 0, 0, 0, stream % 8]);
        out.extend(payload);
    }
    out
}

quickcheck! {
    fn cuts_do_not_change_the_frames(frames: Vec<(u8, u8, u8, Vec<u8>)>, cuts: Vec<u8>) -> bool {
        let bytes = wire(&frames);
        let mut whole = bytes.clone();
        let at_once = decode_frames(&mut whole);
        let mut buf = Vec::new();
        let mut pieces = Vec::new();
        let mut rest = &bytes[..];
        let mut cuts = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (usize::from(*cuts.next().unwrap_or(&7)) % 17 + 1).min(rest.len());
            buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            pieces.extend(decode_frames(&mut buf));
        }
        at_once == pieces && whole.is_empty() && buf.is_empty()
    }

    fn any_bytes_decode_without_panic(bytes: Vec<u8>) -> bool {
        let mut b = bytes.clone();
        let frames = decode_frames(&mut b);
        // What is left is a partial frame: shorter than its header says.
        let partial = b.len() < 9
            || b.len() < 9 + (u32::from_be_bytes([0, b[0], b[1], b[2]]) as usize);
        frames.len() <= bytes.len() / 9 && partial
    }

    fn what_the_encoder_writes_decodes_to_itself(kind: u8, stream: u8, len: u16) -> TestResult {
        let kinds = [
            FrameType::Data, FrameType::Headers, FrameType::Priority, FrameType::RstStream,
            FrameType::PushPromise, FrameType::WindowUpdate, FrameType::Continuation,
        ];
        let kind = kinds[usize::from(kind) % kinds.len()];
        let mut f = FrameSpec::new(kind);
        f.stream = Some(u32::from(stream) * 2 + 1);
        if kind == FrameType::Data {
            f.len = Some(u32::from(len));
        }
        let bytes = Encoder::new(true).try_encode(&f).unwrap();
        let mut b = bytes.clone();
        let frames = decode_frames(&mut b);
        if frames.len() != 1 || !b.is_empty() {
            return TestResult::failed();
        }
        let g = &frames[0];
        let payload = bytes.len() as u32 - 9;
        TestResult::from_bool(
            g.kind == kind
                && g.stream == u32::from(stream) * 2 + 1
                && (kind != FrameType::Data || g.len == u32::from(len))
                && (kind == FrameType::Data || g.len == payload)
                && u64::from(payload) < MAX_WIRE_LENGTH,
        )
    }
}
