//! The reports of the real HTTP/2 servers the suite runs (`replay h2
//! --target nghttpd|nginx|h2o|apache`), as insta snapshots in reports/,
//! with each server's documented deviations applied as the CLI applies
//! them: the target, the corpus and the list all come from the registry.
//! The reports name the server, not its port, and carry no timings.
//!
//! A server that is not installed is skipped with the reason printed,
//! except in CI (`CI=true`), where nghttpd and nginx are required
//! (`conformance/servers/install.sh` installs them all).

use tracewright_conformance::h2::servers::{Server, ServerKind};
use tracewright_conformance::profile::Profile;
use tracewright_conformance::registry::{self, Protocol, Suite};

fn required(kind: ServerKind) -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        && ["nghttpd", "nginx"].contains(&kind.name)
}

fn report(name: &str) {
    let kind: ServerKind = Server::named(name).unwrap();
    if let Err(e) = kind.find() {
        assert!(!required(kind), "{kind} is required in CI: {e}");
        eprintln!("{kind} skipped: {e}");
        return;
    }
    let profile = Profile::rfc9293();
    let traces = Suite::H2.corpus(&profile);
    let mut target = registry::lookup(name, Protocol::H2)
        .unwrap()
        .open(name, Protocol::H2)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let deviations = registry::load_deviations(name, Suite::H2, &traces, &profile, None)
        .unwrap()
        .expect("each server has its own deviations list");
    let corpus = registry::load(Suite::H2, &traces, &profile).unwrap();
    let report = registry::replay(
        &corpus,
        &mut target,
        &profile,
        Some(deviations),
        None,
        &mut |_, _| {},
    )
    .unwrap();
    let c = report.counts();
    // Every failure is documented, no entry is stale; what a server cannot
    // be made to do stays inconclusive, never a pass.
    assert_eq!((c.fail, c.error, c.stale), (0, 0, 0), "{}", report.render());
    assert!(c.pass > 0 && c.inconclusive > 0, "{}", report.render());
    let text = without_inconclusive_ladders(&report.render());
    assert!(!text.contains("127.0.0.1"), "a port in the report");
    insta::with_settings!({snapshot_path => "../reports", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(format!("h2-{name}"), text);
    });
}

#[test]
fn nghttpd_report() {
    report("nghttpd");
}

#[test]
fn nginx_report() {
    report("nginx");
}

#[test]
fn h2o_report() {
    report("h2o");
}

// On the header-block traces (RFC 9113 §6.10) mod_http2's reset of a
// stream that gets a second header block (RST_STREAM INTERNAL_ERROR,
// apache.yaml) raced nghttp2's GOAWAY for the frame inside the block; such a
// trace is now unsupported against Apache (net/answers.rs,
// ServerApp::resets_second_header_block), so its verdicts are the same on
// every run. What a server sends after its defence against a flood is
// shown, not judged (h2/replay.rs, after_defence), so the flood traces'
// verdicts do not depend on its timing either.
#[test]
fn apache_report() {
    report("apache");
}

/// The report without the ladders of its inconclusive traces: where a
/// server's application answers a request by itself, the step at which its
/// answer breaks into the trace depends on its speed, so those ladders
/// differ between runs while every verdict stays the same. The verdict
/// list keeps each inconclusive trace, and its reason stays.
fn without_inconclusive_ladders(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let starts_block = line
            .split_once(' ')
            .is_some_and(|(w, _)| !w.is_empty() && w.chars().all(|c| c.is_ascii_uppercase()));
        if starts_block {
            skipping = line.starts_with("INCONCLUSIVE ");
            if skipping {
                out.push_str(line);
                out.push('\n');
                continue;
            }
        }
        if skipping && !line.is_empty() && !line.starts_with(' ') {
            skipping = false;
        }
        if skipping {
            // The reason (the first indented line after `covers:`) stays.
            let t = line.trim_start();
            if line.starts_with("  ") && !line.starts_with("    ") && !t.starts_with("covers:") {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}
