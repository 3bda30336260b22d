//! The bundled HTTP/2 target captures what crosses the wire, one pcap per
//! trace through the shared corpus runner, as TCP targets do.

use std::path::Path;

use tracewright_conformance::corpus::{run, H2Run};
use tracewright_conformance::h2::{load_h2_corpus, BundledH2, H2Settings, PREFACE};
use tracewright_conformance::trace::Protocol;
use tracewright_conformance::wire::decode_ipv4;

/// The packets of a `LINKTYPE_RAW` pcap file.
fn packets(file: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&file[..4], &0xa1b2_c3d4u32.to_le_bytes(), "pcap magic");
    assert_eq!(&file[20..24], &101u32.to_le_bytes(), "LINKTYPE_RAW");
    let mut at = 24;
    let mut out = Vec::new();
    while at < file.len() {
        let len = u32::from_le_bytes(file[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(file[at + 16..at + 16 + len].to_vec());
        at += 16 + len;
    }
    out
}

#[test]
fn h2_bundled_captures_each_trace() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut corpus = load_h2_corpus(&root.join("traces/h2")).unwrap();
    corpus
        .traces
        .retain(|t| t.id.starts_with("h2-server-idle-recv-headers"));
    assert!(!corpus.traces.is_empty());
    let dir = std::env::temp_dir().join(format!("tracewright-h2-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut target = BundledH2::new();
    let report = run(
        Protocol::H2,
        "rfc9113",
        (&corpus).into(),
        &mut H2Run {
            target: &mut target,
            settings: H2Settings::MODEL,
        },
        Some(&dir),
        &mut |_, _| {},
    );
    assert_eq!(
        report.counts().pass,
        corpus.traces.len(),
        "{}",
        report.render()
    );
    for t in &corpus.traces {
        let file = std::fs::read(dir.join(format!("{}.pcap", t.id))).unwrap();
        let segments: Vec<_> = packets(&file)
            .iter()
            .map(|p| decode_ipv4(p).unwrap().segment)
            .collect();
        // The harness (a client to this server IUT) opens with the preface,
        // and the IUT answers with its SETTINGS, on the other port.
        assert!(segments[0].payload.starts_with(PREFACE), "{}", t.id);
        let answer = segments
            .iter()
            .find(|s| s.src_port != segments[0].src_port)
            .expect("the IUT's bytes");
        assert_eq!(answer.payload[3], 0x4, "{}: a SETTINGS frame", t.id);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
