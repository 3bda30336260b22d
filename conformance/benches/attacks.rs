//! The bundled HTTP/2 connection under each attack of the corpus (RFC 9113
//! §10.5), many rounds, as the `bundled` target drives it (the
//! application polls every event and every byte after each round): the
//! peak of the bytes the process holds above what it held after the
//! preface, measured by a counting allocator. Bounded means flat: the
//! peak after 100 000 rounds is the peak after 10 000. The same connection
//! without its limits (`Limits::unbounded`) shows what the limits bound.
//! An attack the connection ends (a GOAWAY) goes on over a new connection,
//! as an attacker would. The CONTINUATION flood and the HPACK bomb go to a
//! client connection as well, as responses on the streams it opened (the
//! `(client)` rows). Run `cargo bench --bench attacks -p
//! tracewright-conformance`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use tracewright_conformance::h2::{iut_settings, Attack, Encoder, PREFACE};
use tracewright_stack::h2::{Connection, Limits, Role};

/// The system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A connection past the preface: a server takes the client's magic and
/// an empty SETTINGS, a client the empty SETTINGS; its own SETTINGS and ACK
/// out.
fn connect(role: Role, limits: Limits) -> Connection {
    let mut c = Connection::with_limits(role, iut_settings(), limits);
    if role == Role::Server {
        c.handle_bytes(PREFACE);
    }
    c.handle_bytes(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    drain(&mut c);
    c
}

const REQUEST: &[(&[u8], &[u8])] = &[
    (b":method", b"GET"),
    (b":scheme", b"http"),
    (b":path", b"/"),
    (b":authority", b"tracewright.test"),
];

/// Whether round `r` (counted on its connection) of `a`, to a client,
/// answers a stream the client must open first: the CONTINUATION flood's
/// HEADERS (round 0), each HPACK bomb round (stream 2r+1).
fn opens_stream(a: Attack, r: u32) -> bool {
    match a {
        Attack::ContinuationFlood => r == 0,
        Attack::HpackBomb => true,
        _ => false,
    }
}

fn drain(c: &mut Connection) {
    while c.poll_event().is_some() {}
    drop(c.poll_transmit());
}

/// Peak bytes above the baseline over `rounds` rounds of `a` to a
/// connection in `role`, and the connections it took.
fn measure(role: Role, a: Attack, rounds: u32, limits: Limits) -> (usize, u32) {
    let mut enc = Encoder::new(role == Role::Server);
    let mut conn = connect(role, limits);
    let mut connections = 1;
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    // Round numbers restart with each connection (stream identifiers,
    // the HPACK bomb's setup).
    let mut r0 = 0;
    for r in 0..rounds {
        if conn.is_closed() {
            conn = connect(role, limits);
            connections += 1;
            r0 = r;
        }
        if role == Role::Client && opens_stream(a, r - r0) {
            conn.send_request(REQUEST, true)
                .expect("the client opens the stream the flood answers");
            drain(&mut conn);
        }
        let bytes = enc.flood_round(a, r - r0);
        conn.handle_bytes(&bytes);
        drop(bytes);
        drain(&mut conn);
    }
    drop(conn);
    (
        PEAK.load(Ordering::Relaxed).saturating_sub(base),
        connections,
    )
}

fn kib(n: usize) -> String {
    format!("{:.1} KiB", n as f64 / 1024.0)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter names attacks to run.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let attacks = [
        (Role::Server, Attack::RapidReset),
        (Role::Server, Attack::ContinuationFlood),
        (Role::Server, Attack::SettingsFlood),
        (Role::Server, Attack::PingFlood),
        (Role::Server, Attack::HpackBomb),
        (Role::Client, Attack::ContinuationFlood),
        (Role::Client, Attack::HpackBomb),
    ];
    println!("peak bytes the bundled connection makes the process hold, above the baseline");
    println!(
        "{:<29} {:>12} {:>12} {:>7}   {:>12} {:>12} {:>7}",
        "attack", "10k rounds", "100k rounds", "ratio", "unbounded 1k", "10k", "ratio"
    );
    for (role, a) in attacks {
        let name = match role {
            Role::Client => format!("{} (client)", a.name()),
            Role::Server => a.name().to_string(),
        };
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let (small, _) = measure(role, a, 10_000, Limits::default());
        let (large, conns) = measure(role, a, 100_000, Limits::default());
        // Without limits, the header-block attacks are measured over fewer
        // rounds: each holds 16 KiB a round (the CONTINUATION flood) or
        // decodes 64 MB a bomb.
        let (u_small, u_large) = match a {
            Attack::HpackBomb => (None, None),
            _ => (
                Some(measure(role, a, 1_000, Limits::unbounded()).0),
                Some(measure(role, a, 10_000, Limits::unbounded()).0),
            ),
        };
        let ratio = |x: usize, y: usize| format!("{:.2}", y as f64 / x.max(1) as f64);
        println!(
            "{:<29} {:>12} {:>12} {:>7}   {:>12} {:>12} {:>7}   ({conns} connections for 100k)",
            name,
            kib(small),
            kib(large),
            ratio(small, large),
            u_small.map_or("-".into(), kib),
            u_large.map_or("-".into(), kib),
            match (u_small, u_large) {
                (Some(x), Some(y)) => ratio(x, y),
                _ => "-".into(),
            },
        );
    }
}
