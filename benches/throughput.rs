//! Throughput of the main loops, as criterion measures them: `check tcp`
//! and `check h2` in unique states per second, `replay tcp --target bundled`,
//! `replay tcp --target smoltcp`, `replay h2 --target bundled` and
//! `replay h2 --target h2crate` in traces per second, every target opened
//! through the registry (criterion's
//! `thrpt` line), and `replay h2` against the real servers the suite runs
//! (`replay_h2_nghttpd`, `_nginx`, `_h2o`, `_apache`: one server started
//! for all iterations, one connection per trace; a server that is not
//! installed is skipped with a line saying so). Run `cargo bench`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stateright::{Checker, Model};
use tracewright_conformance::{load::load_corpus, profile::Profile, registry};
use tracewright_model::tcp::{TcpConfig, TcpModel};

fn check_tcp(c: &mut Criterion) {
    // The budgets `tracewright check tcp` uses by default.
    let model = TcpModel::new(TcpConfig::new("rfc9293", 2, 2, 2).with_budgets(2, 1));
    let unique = model
        .clone()
        .checker()
        .spawn_bfs()
        .join()
        .unique_state_count();
    let mut g = c.benchmark_group("check_tcp");
    g.sample_size(10);
    g.throughput(Throughput::Elements(unique as u64));
    g.bench_function("bfs_unique_states", |b| {
        b.iter(|| {
            model
                .clone()
                .checker()
                .spawn_bfs()
                .join()
                .unique_state_count()
        })
    });
    g.finish();
}

fn replay_tcp_bundled(c: &mut Criterion) {
    let root = env!("CARGO_MANIFEST_DIR");
    let corpus = load_corpus(format!("{root}/traces/tcp").as_ref()).expect("the corpus loads");
    let profile = Profile::load(format!("{root}/profiles/rfc9293.yaml").as_ref()).unwrap();
    let mut g = c.benchmark_group("replay_tcp_bundled");
    g.throughput(Throughput::Elements(corpus.traces.len() as u64));
    g.bench_function("corpus", |b| {
        b.iter(|| {
            let mut target = registry::tcp_target("bundled").unwrap();
            tracewright_conformance::report::run_corpus(
                &corpus,
                target.as_mut(),
                &profile,
                &mut |_, _| {},
            )
        })
    });
    g.finish();
}

fn replay_tcp_smoltcp(c: &mut Criterion) {
    let root = env!("CARGO_MANIFEST_DIR");
    let corpus = load_corpus(format!("{root}/traces/tcp").as_ref()).expect("the corpus loads");
    let profile = Profile::load(format!("{root}/profiles/rfc9293.yaml").as_ref()).unwrap();
    let mut g = c.benchmark_group("replay_tcp_smoltcp");
    g.throughput(Throughput::Elements(corpus.traces.len() as u64));
    g.bench_function("corpus", |b| {
        b.iter(|| {
            let mut target = registry::tcp_target("smoltcp").unwrap();
            tracewright_conformance::report::run_corpus(
                &corpus,
                target.as_mut(),
                &profile,
                &mut |_, _| {},
            )
        })
    });
    g.finish();
}

fn check_h2(c: &mut Criterion) {
    use tracewright_model::h2::{H2Config, H2Model, SERVER};
    // One of the models `tracewright check h2` explores: the IUT as server,
    // stream 1 and a push, frames crossing both ways.
    let model = || {
        let mut cfg = H2Config::new(SERVER);
        cfg.probes = false;
        cfg.client_streams = 1;
        H2Model::new(cfg)
    };
    let unique = model().checker().spawn_bfs().join().unique_state_count();
    let mut g = c.benchmark_group("check_h2");
    g.sample_size(10);
    g.throughput(Throughput::Elements(unique as u64));
    g.bench_function("bfs_unique_states", |b| {
        b.iter(|| model().checker().spawn_bfs().join().unique_state_count())
    });
    g.finish();
}

fn replay_h2(c: &mut Criterion, target: &str) {
    use tracewright_conformance::h2::{load_h2_corpus, run_h2_corpus};
    let root = env!("CARGO_MANIFEST_DIR");
    let corpus = load_h2_corpus(format!("{root}/traces/h2").as_ref()).expect("the corpus loads");
    let mut g = c.benchmark_group(format!("replay_h2_{target}"));
    g.throughput(Throughput::Elements(corpus.traces.len() as u64));
    g.bench_function("corpus", |b| {
        b.iter(|| {
            run_h2_corpus(
                &corpus,
                registry::h2(target).unwrap().as_mut(),
                &mut |_, _| {},
            )
        })
    });
    g.finish();
}

fn replay_h2_bundled(c: &mut Criterion) {
    replay_h2(c, "bundled")
}

fn replay_h2_h2crate(c: &mut Criterion) {
    replay_h2(c, "h2crate")
}

/// A real server on a loopback port, started once through the registry:
/// the corpus over real sockets, PING-proved silence and all.
fn replay_h2_server(c: &mut Criterion, name: &str) {
    use tracewright_conformance::h2::{load_h2_corpus, run_h2_corpus};
    let mut target = match registry::h2(name) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("replay_h2_{name} skipped: {e}");
            return;
        }
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let corpus = load_h2_corpus(format!("{root}/traces/h2").as_ref()).expect("the corpus loads");
    let mut g = c.benchmark_group(format!("replay_h2_{name}"));
    g.sample_size(10);
    g.throughput(Throughput::Elements(corpus.traces.len() as u64));
    g.bench_function("corpus", |b| {
        b.iter(|| run_h2_corpus(&corpus, target.as_mut(), &mut |_, _| {}))
    });
    g.finish();
}

fn replay_h2_servers(c: &mut Criterion) {
    for name in ["nghttpd", "nginx", "h2o", "apache"] {
        replay_h2_server(c, name);
    }
}

criterion_group!(
    benches,
    check_tcp,
    replay_tcp_bundled,
    replay_tcp_smoltcp,
    check_h2,
    replay_h2_bundled,
    replay_h2_h2crate,
    replay_h2_servers
);
criterion_main!(benches);
