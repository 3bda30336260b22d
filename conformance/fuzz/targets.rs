//! Fuzz targets and a coverage-free fuzzer for stable Rust (no nightly, no
//! libFuzzer here): the trace, profile and deviation loaders, the
//! harness's HTTP/2 frame codec and HPACK decoding, and the bundled TCP and
//! HTTP/2 stacks fed arbitrary segments and bytes.
//!
//! Properties, for every input: no panic; an allocation peak under
//! [`MEMORY_LIMIT`] (measured by [`CountingAlloc`], which the binary
//! installs as its global allocator); and the loaders' errors name the file
//! and say something. Inputs grow from seeds (the committed corpus, the
//! profiles, frames the codec writes) by byte-level mutations with a fixed
//! seed, so a run is reproducible.
//!
//! Included by `tests/fuzz.rs` (a bounded run in `cargo test`) and
//! `examples/fuzz.rs` (`cargo run --release -p tracewright-conformance
//! --example fuzz -- --secs 60`).

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tracewright_conformance::deviations::Deviations;
use tracewright_conformance::h2::codec::{decode_frames, Encoder, PREFACE};
use tracewright_conformance::h2::{parse_h2_trace, FrameSpec, FrameType};
use tracewright_conformance::load::parse_trace;
use tracewright_conformance::profile::Profile;
use tracewright_stack as stack;

/// The largest allocation peak one input may cause.
pub const MEMORY_LIMIT: usize = 64 << 20;

/// A global allocator that counts live bytes and their peak.
pub struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// Bytes allocated above `base` at the peak since the last reset.
fn peak_above(base: usize) -> usize {
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

fn reset_peak() -> usize {
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    live
}

// ---------------------------------------------------------------- targets

/// What one input did wrong.
pub type Outcome = Result<(), String>;

pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]) -> Outcome,
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Tokens worth inserting (YAML syntax, large numbers, frame headers).
    pub tokens: &'static [&'static [u8]],
}

const YAML_TOKENS: &[&[u8]] = &[
    b"\n",
    b"  ",
    b"- ",
    b": ",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b"\"",
    b"'",
    b"&a ",
    b"*a",
    b"!!binary ",
    b"~",
    b"4294967295",
    b"18446744073709551616",
    b"-1",
    b"1e999",
    b"0x10",
    b".nan",
    b"<<: *a",
    b"? ",
    b"|\n",
    b">\n",
    b"#",
    b"\t",
    b"\xff",
    b"len: ",
    b"length: ",
    b"send: ",
    b"steps: ",
    b"any_of: ",
    b"wait: ",
    b"rto(4294967295)",
    b"ms(18446744073709551615)",
    b"2msl",
    b"peer: ",
];

const WIRE_TOKENS: &[&[u8]] = &[
    b"\x00\x00\x00",
    b"\xff\xff\xff",
    b"\x00\x00\x08\x06\x00\x00\x00\x00\x00",
    b"\x7f\xff\xff\xff",
    b"\x80\x00\x00\x00",
    b"\x00\x00\x00\x04\x01\x00\x00\x00\x00",
    b"\x3f\xe1\x1f",
    b"\xff\xff\xff\xff\x0f",
    b"\x40\x01a\x01b",
    b"\x20",
];

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// A loader's error must name the file and say why.
fn clear_error(e: &dyn std::fmt::Display) -> Outcome {
    let msg = e.to_string();
    if !msg.contains("fuzz.yaml") || msg.len() < "fuzz.yaml: x".len() {
        return Err(format!("unclear error: {msg:?}"));
    }
    Ok(())
}

fn tcp_trace(data: &[u8]) -> Outcome {
    match parse_trace(Path::new("fuzz.yaml"), &text(data)) {
        Ok(_) => Ok(()),
        Err(e) => clear_error(&e),
    }
}

fn h2_trace(data: &[u8]) -> Outcome {
    match parse_h2_trace(Path::new("fuzz.yaml"), &text(data)) {
        Ok(_) => Ok(()),
        Err(e) => clear_error(&e),
    }
}

fn profile(data: &[u8]) -> Outcome {
    match Profile::parse("fuzz.yaml", &text(data)) {
        Ok(_) => Ok(()),
        Err(e) => clear_error(&e),
    }
}

fn deviations(data: &[u8]) -> Outcome {
    match Deviations::parse("fuzz.yaml", &text(data)) {
        Ok(_) => Ok(()),
        Err(e) => clear_error(&e),
    }
}

/// The codec's frames, fed whole and fed in pieces, must agree: a frame
/// split across reads is the same frame.
fn frames(data: &[u8]) -> Outcome {
    let mut whole = data.to_vec();
    let at_once = decode_frames(&mut whole);
    let cut = data.first().map_or(1, |b| usize::from(*b) % 13 + 1);
    let mut buf = Vec::new();
    let mut pieces = Vec::new();
    for chunk in data.chunks(cut) {
        buf.extend_from_slice(chunk);
        pieces.extend(decode_frames(&mut buf));
    }
    if at_once != pieces || whole != buf {
        return Err(format!(
            "fed in pieces of {cut}: {} frames and {} bytes left, at once {} and {}",
            pieces.len(),
            buf.len(),
            at_once.len(),
            whole.len()
        ));
    }
    Ok(())
}

fn hpack(data: &[u8]) -> Outcome {
    let mut d = loona_hpack::Decoder::new();
    d.set_max_allowed_table_size(4096);
    let _ = d.decode(data);
    Ok(())
}

/// An HTTP/2 connection of either role fed the bytes after a preface (a
/// server) or as a server's first bytes (a client), in pieces, with what
/// it sends drained.
fn h2_stack(data: &[u8]) -> Outcome {
    use stack::h2::{Connection, Role, Settings};
    let (role, rest) = match data.split_first() {
        Some((b, rest)) if b & 1 == 1 => (Role::Client, rest),
        Some((_, rest)) => (Role::Server, rest),
        None => (Role::Server, data),
    };
    let mut c = Connection::new(role, Settings::default());
    if role == Role::Server {
        c.handle_bytes(PREFACE);
    }
    let mut sent = 0usize;
    for chunk in rest.chunks(97) {
        c.handle_bytes(chunk);
        while let Some(b) = c.poll_transmit() {
            sent += b.len();
        }
        while c.poll_event().is_some() {}
    }
    c.handle_eof();
    while c.poll_transmit().is_some() {}
    // A connection answers what it reads; it does not amplify without bound.
    if sent > 64 * (data.len() + 1024) {
        return Err(format!("{sent} bytes sent for {} read", data.len()));
    }
    Ok(())
}

/// A TCP endpoint (or listener) driven by the bytes: each 12-byte record is
/// a segment (flags, seq, ack, window, payload length) or, with the top
/// bit of its first byte, an application call or a timeout.
fn tcp_stack(data: &[u8]) -> Outcome {
    use stack::{Config, Endpoint, Flags, Instant, Listener, ListenerConfig, Segment, SeqNumber};
    let listener = data.first().is_some_and(|b| b & 0x80 != 0);
    let mut ep = Endpoint::new(Config::default(), 5000, SeqNumber(1000));
    let mut ls = Listener::new(ListenerConfig::default(), 5000);
    let mut now = 0u64;
    let active = data.first().is_some_and(|b| b & 1 == 1);
    if listener {
        let _ = ls.listen();
    } else if active {
        let _ = ep.connect(Instant::from_millis(0), 40000);
    } else {
        let _ = ep.listen();
    }
    let mut emitted = 0usize;
    for r in data.chunks(12).skip(1) {
        let b = |i: usize| r.get(i).copied().unwrap_or(0);
        let u32_at = |i: usize| u32::from_be_bytes([b(i), b(i + 1), b(i + 2), b(i + 3)]);
        now += u64::from(b(11)) * 50;
        let at = Instant::from_millis(now);
        if b(0) & 0x80 != 0 {
            match b(0) & 0x7 {
                0 => {
                    let _ = ep.send(at, &vec![0u8; usize::from(b(1))]);
                }
                1 => {
                    let _ = ep.close(at);
                }
                2 => {
                    let _ = ep.abort(at);
                }
                3 => {
                    let _ = ep.recv();
                    let _ = ls.accept();
                }
                _ => {
                    now += u64::from(u32_at(1) % 600_000);
                    ep.handle_timeout(Instant::from_millis(now));
                    ls.handle_timeout(Instant::from_millis(now));
                }
            }
        } else {
            let f = b(0);
            let seg = Segment {
                src_port: if b(10) & 0x40 != 0 {
                    40000 + u16::from(b(10) & 3)
                } else {
                    40000
                },
                dst_port: 5000,
                seq: SeqNumber(u32_at(1)),
                ack: SeqNumber(u32_at(5)),
                flags: Flags {
                    syn: f & 1 != 0,
                    ack: f & 2 != 0,
                    fin: f & 4 != 0,
                    rst: f & 8 != 0,
                    psh: f & 16 != 0,
                },
                window: u16::from(b(9)) << 8 | u16::from(b(10)),
                payload: vec![b'x'; usize::from(b(10) & 0x3f)],
            };
            ep.handle_segment(at, &seg);
            ls.handle_segment(at, &seg);
        }
        while ep.poll_transmit().is_some() {
            emitted += 1;
        }
        while ep.poll_event().is_some() {}
        while ls.poll_transmit().is_some() {
            emitted += 1;
        }
        while ls.poll_event().is_some() {}
        if let Some(t) = ep.poll_timeout() {
            if t.millis() < now && emitted > 0 {
                // A deadline in the past is due now; nothing to check.
            }
        }
    }
    if emitted > 16 * (data.len() / 12 + 4) {
        return Err(format!("{emitted} segments for {} inputs", data.len() / 12));
    }
    Ok(())
}

// ---------------------------------------------------------------- seeds

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &str, take: usize) -> Vec<Vec<u8>> {
    let mut paths: Vec<_> = std::fs::read_dir(repo().join(dir))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    // Spread over the corpus rather than its first few names.
    let step = (paths.len() / take.max(1)).max(1);
    paths
        .iter()
        .step_by(step)
        .take(take)
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

fn tcp_seeds() -> Vec<Vec<u8>> {
    let mut s = files("traces/tcp", 12);
    s.extend(files("traces/tcp-listener", 3));
    s
}

fn h2_seeds() -> Vec<Vec<u8>> {
    files("traces/h2", 12)
}

fn profile_seeds() -> Vec<Vec<u8>> {
    files("profiles", 8)
}

fn deviation_seeds() -> Vec<Vec<u8>> {
    files("conformance/deviations", 8)
}

/// Frames the harness writes, one of each kind, and a few in a row.
fn frame_seeds() -> Vec<Vec<u8>> {
    let kinds = [
        FrameType::Data,
        FrameType::Headers,
        FrameType::Priority,
        FrameType::RstStream,
        FrameType::Settings,
        FrameType::PushPromise,
        FrameType::Ping,
        FrameType::Goaway,
        FrameType::WindowUpdate,
        FrameType::Continuation,
    ];
    let mut out = Vec::new();
    let mut all = Vec::new();
    for (i, k) in kinds.into_iter().enumerate() {
        let mut enc = Encoder::new(i % 2 == 0);
        let mut f = FrameSpec::new(k);
        f.stream = Some(if k == FrameType::Settings || k == FrameType::Ping {
            0
        } else {
            1
        });
        if k == FrameType::Data {
            f.len = Some(5);
        }
        let bytes = enc.try_encode(&f).unwrap_or_default();
        all.extend_from_slice(&bytes);
        out.push(bytes);
    }
    out.push(all);
    out
}

fn hpack_seeds() -> Vec<Vec<u8>> {
    let mut e = loona_hpack::Encoder::new();
    vec![
        e.encode([
            (&b":method"[..], &b"GET"[..]),
            (b":path", b"/"),
            (b"x-a", b"b"),
        ]),
        e.encode([(&b":status"[..], &b"200"[..]), (b"x-a", b"b")]),
        vec![0x3f, 0xe1, 0x1f, 0x82],
    ]
}

fn h2_stack_seeds() -> Vec<Vec<u8>> {
    frame_seeds()
        .into_iter()
        .map(|f| {
            let mut v = vec![0u8];
            v.extend_from_slice(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00");
            v.extend(f);
            v
        })
        .collect()
}

fn tcp_stack_seeds() -> Vec<Vec<u8>> {
    // A passive open: SYN, then the ACK of the SYN-ACK, data, FIN.
    let rec = |flags: u8, seq: u32, ack: u32| {
        let mut r = vec![flags];
        r.extend(seq.to_be_bytes());
        r.extend(ack.to_be_bytes());
        r.extend([0xff, 0x04, 1]);
        r
    };
    let mut passive = vec![0u8; 12];
    passive.extend(rec(1, 100, 0));
    passive.extend(rec(2, 101, 1001));
    passive.extend(rec(6, 105, 1001));
    let mut active = vec![1u8; 12];
    active.extend(rec(3, 500, 1001));
    active.extend([0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    active.extend([0x84, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    let mut listener = vec![0x80u8; 12];
    listener.extend(rec(1, 100, 0));
    listener.extend(rec(1 | 0x00, 7, 0));
    vec![passive, active, listener]
}

pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "tcp-trace",
            run: tcp_trace,
            seeds: tcp_seeds,
            tokens: YAML_TOKENS,
        },
        Target {
            name: "h2-trace",
            run: h2_trace,
            seeds: h2_seeds,
            tokens: YAML_TOKENS,
        },
        Target {
            name: "profile",
            run: profile,
            seeds: profile_seeds,
            tokens: YAML_TOKENS,
        },
        Target {
            name: "deviations",
            run: deviations,
            seeds: deviation_seeds,
            tokens: YAML_TOKENS,
        },
        Target {
            name: "h2-frames",
            run: frames,
            seeds: frame_seeds,
            tokens: WIRE_TOKENS,
        },
        Target {
            name: "hpack",
            run: hpack,
            seeds: hpack_seeds,
            tokens: WIRE_TOKENS,
        },
        Target {
            name: "h2-stack",
            run: h2_stack,
            seeds: h2_stack_seeds,
            tokens: WIRE_TOKENS,
        },
        Target {
            name: "tcp-stack",
            run: tcp_stack,
            seeds: tcp_stack_seeds,
            tokens: WIRE_TOKENS,
        },
    ]
}

// ---------------------------------------------------------------- the fuzzer

/// xorshift64*: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The largest input the mutator makes.
const MAX_INPUT: usize = 64 << 10;

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, seeds: &[Vec<u8>], tokens: &[&[u8]]) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.next() as u8;
            }
            2 if len > 0 => {
                let at = rng.below(len);
                let n = rng.below((len - at).min(64)) + 1;
                input.drain(at..at + n);
            }
            3 => {
                let t = tokens[rng.below(tokens.len())];
                let at = rng.below(len + 1);
                input.splice(at..at, t.iter().copied());
            }
            4 if len > 0 => {
                // Repeat a piece: deep nesting, long lists.
                let at = rng.below(len);
                let n = rng.below((len - at).min(32)) + 1;
                let piece: Vec<u8> = input[at..at + n].to_vec();
                for _ in 0..=rng.below(16) {
                    input.splice(at..at, piece.iter().copied());
                }
            }
            5 if !seeds.is_empty() => {
                // Splice with another seed.
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let at = rng.below(len + 1);
                    input.truncate(at);
                    input.extend_from_slice(&other[from..]);
                }
            }
            6 if len > 0 => {
                // A number where a number was: digits replaced by a large one.
                let at = rng.below(len);
                if let Some(d) = input[at..].iter().position(u8::is_ascii_digit) {
                    let at = at + d;
                    let end = input[at..]
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .map_or(input.len(), |e| at + e);
                    let big = [
                        &b"4294967295"[..],
                        b"16777216",
                        b"1048577",
                        b"0",
                        b"65536",
                        b"99999999999999999999",
                    ];
                    input.splice(at..end, big[rng.below(big.len())].iter().copied());
                }
            }
            _ => {
                let at = rng.below(len + 1);
                let n = rng.below(16) + 1;
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                input.splice(at..at, bytes);
            }
        }
        input.truncate(MAX_INPUT);
    }
}

/// One finding: the input and what went wrong.
pub struct Crash {
    pub target: &'static str,
    pub input: Vec<u8>,
    pub what: String,
}

pub struct Stats {
    pub target: &'static str,
    pub execs: u64,
    pub elapsed: Duration,
    pub peak: usize,
}

/// Runs `target` for `execs` inputs or until `until`, whichever first;
/// the first few crashes are kept.
pub fn fuzz(target: &Target, seed: u64, execs: u64, until: Option<Instant>) -> (Stats, Vec<Crash>) {
    let mut rng = Rng::new(seed ^ target.name.len() as u64 * 0x9e37_79b9);
    let mut seeds = (target.seeds)();
    if seeds.is_empty() {
        seeds.push(Vec::new());
    }
    let mut crashes = Vec::new();
    let started = Instant::now();
    let mut n = 0u64;
    let mut worst = 0usize;
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    while n < execs && until.is_none_or(|u| Instant::now() < u) {
        let mut input = if n < seeds.len() as u64 {
            seeds[n as usize].clone()
        } else {
            let mut i = seeds[rng.below(seeds.len())].clone();
            mutate(&mut rng, &mut i, &seeds, target.tokens);
            i
        };
        input.truncate(MAX_INPUT);
        let base = reset_peak();
        let outcome = std::panic::catch_unwind(|| (target.run)(&input));
        let peak = peak_above(base);
        worst = worst.max(peak);
        let what = match outcome {
            Err(p) => Some(format!(
                "panic: {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
            Ok(Err(e)) => Some(e),
            Ok(Ok(())) if peak > MEMORY_LIMIT => Some(format!(
                "allocated {peak} bytes at the peak (limit {MEMORY_LIMIT})"
            )),
            Ok(Ok(())) => None,
        };
        if let Some(what) = what {
            if crashes.len() < 5 {
                crashes.push(Crash {
                    target: target.name,
                    input: input.clone(),
                    what,
                });
            }
        } else if n % 16 == 0 && seeds.len() < 256 && !input.is_empty() {
            // No coverage to guide it: keep a sample of what parsed or
            // ran, so mutations compound.
            seeds.push(input);
        }
        n += 1;
    }
    std::panic::set_hook(hook);
    (
        Stats {
            target: target.name,
            execs: n,
            elapsed: started.elapsed(),
            peak: worst,
        },
        crashes,
    )
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
