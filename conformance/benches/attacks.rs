//! The bundled HTTP/2 connection under each attack of the corpus (RFC 9113
//! §10.5), many rounds, as the `bundled` target drives it (the
//! application polls every event and every byte after each round): the
//! peak of the bytes the process holds above what it held after the
//! preface, measured by a counting allocator. Bounded means flat: the
//! peak after 100 000 rounds is the peak after 10 000. The same connection
//! without its limits (`Limits::unbounded`) shows what the limits bound.
//! An attack the connection ends (a GOAWAY) goes on over a new connection,
//! as an attacker would. Run `cargo bench --bench attacks -p
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

/// A server connection past the preface: the client's magic and an empty
/// SETTINGS in, its SETTINGS and ACK out.
fn connect(limits: Limits) -> Connection {
    let mut c = Connection::with_limits(Role::Server, iut_settings(), limits);
    c.handle_bytes(PREFACE);
    c.handle_bytes(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    drain(&mut c);
    c
}

fn drain(c: &mut Connection) {
    while c.poll_event().is_some() {}
    drop(c.poll_transmit());
}

/// Peak bytes above the baseline over `rounds` rounds of `a`, and the
/// connections it took.
fn measure(a: Attack, rounds: u32, limits: Limits) -> (usize, u32) {
    let mut enc = Encoder::new(true);
    let mut conn = connect(limits);
    let mut connections = 1;
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    // Round numbers restart with each connection (stream identifiers,
    // the HPACK bomb's setup).
    let mut r0 = 0;
    for r in 0..rounds {
        if conn.is_closed() {
            conn = connect(limits);
            connections += 1;
            r0 = r;
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
        Attack::RapidReset,
        Attack::ContinuationFlood,
        Attack::SettingsFlood,
        Attack::PingFlood,
        Attack::HpackBomb,
    ];
    println!("peak bytes the bundled connection makes the process hold, above the baseline");
    println!(
        "{:<20} {:>12} {:>12} {:>7}   {:>12} {:>12} {:>7}",
        "attack", "10k rounds", "100k rounds", "ratio", "unbounded 1k", "10k", "ratio"
    );
    for a in attacks {
        if !filter.is_empty() && !filter.iter().any(|f| a.name().contains(f.as_str())) {
            continue;
        }
        let (small, _) = measure(a, 10_000, Limits::default());
        let (large, conns) = measure(a, 100_000, Limits::default());
        // Without limits, the header-block attacks are measured over fewer
        // rounds: each holds 16 KiB a round (the CONTINUATION flood) or
        // decodes 64 MB a bomb.
        let (u_small, u_large) = match a {
            Attack::HpackBomb => (None, None),
            _ => (
                Some(measure(a, 1_000, Limits::unbounded()).0),
                Some(measure(a, 10_000, Limits::unbounded()).0),
            ),
        };
        let ratio = |x: usize, y: usize| format!("{:.2}", y as f64 / x.max(1) as f64);
        println!(
            "{:<20} {:>12} {:>12} {:>7}   {:>12} {:>12} {:>7}   ({conns} connections for 100k)",
            a.name(),
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
