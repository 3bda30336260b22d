//! Throughput of the main loops, as criterion measures them: `check tcp`
//! and `check h2` in unique states per second, `replay tcp --target bundled`,
//! `replay tcp --target smoltcp` and `replay h2 --target bundled` in traces
//! per second (criterion's
//! `thrpt` line). Run `cargo bench`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stateright::{Checker, Model};
use tracewright_conformance::{bundled::BundledTarget, load::load_corpus, profile::Profile};
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
            let mut target = BundledTarget::new();
            tracewright_conformance::report::run_corpus(
                &corpus,
                &mut target,
                &profile,
                &mut |_, _| {},
            )
        })
    });
    g.finish();
}

fn replay_tcp_smoltcp(c: &mut Criterion) {
    use tracewright_conformance::smoltcp::SmoltcpTarget;
    let root = env!("CARGO_MANIFEST_DIR");
    let corpus = load_corpus(format!("{root}/traces/tcp").as_ref()).expect("the corpus loads");
    let profile = Profile::load(format!("{root}/profiles/rfc9293.yaml").as_ref()).unwrap();
    let mut g = c.benchmark_group("replay_tcp_smoltcp");
    g.throughput(Throughput::Elements(corpus.traces.len() as u64));
    g.bench_function("corpus", |b| {
        b.iter(|| {
            let mut target = SmoltcpTarget::new();
            tracewright_conformance::report::run_corpus(
                &corpus,
                &mut target,
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

fn replay_h2_bundled(c: &mut Criterion) {
    use tracewright_conformance::h2::{load_h2_corpus, run_h2_corpus, BundledH2};
    let root = env!("CARGO_MANIFEST_DIR");
    let corpus = load_h2_corpus(format!("{root}/traces/h2").as_ref()).expect("the corpus loads");
    let mut g = c.benchmark_group("replay_h2_bundled");
    g.throughput(Throughput::Elements(corpus.traces.len() as u64));
    g.bench_function("corpus", |b| {
        b.iter(|| run_h2_corpus(&corpus, &mut BundledH2::new(), &mut |_, _| {}))
    });
    g.finish();
}

criterion_group!(
    benches,
    check_tcp,
    replay_tcp_bundled,
    replay_tcp_smoltcp,
    check_h2,
    replay_h2_bundled
);
criterion_main!(benches);
