//! `--html PATH`: one self-contained file, checked as text and then in a
//! real headless browser (Debian's chromium), which takes a screenshot.
//! Without chromium the browser half is skipped with a reason, except in
//! CI (`CI=true`), where .ci/run installs it and its absence fails.

mod common;

use std::path::Path;
use std::process::Command;

use common::tracewright;

fn temp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tw-html-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every `href="#X"` in `part` names an `id="X"` of the page.
fn links_resolve(html: &str, part: &str) -> usize {
    let mut n = 0;
    for part in part.split("href=\"#").skip(1) {
        let id = &part[..part.find('"').unwrap()];
        assert!(html.contains(&format!("id=\"{id}\"")), "#{id} goes nowhere");
        n += 1;
    }
    n
}

/// Nothing is fetched: no script, stylesheet, image or font from
/// anywhere; the only URL is the SVG namespace.
fn self_contained(html: &str) {
    for bad in [
        "<script", "<link", "<img", "<iframe", "src=", "@import", "url(http",
    ] {
        assert!(!html.contains(bad), "found {bad}");
    }
    let urls = html.matches("http").count();
    assert_eq!(urls, html.matches("http://www.w3.org/2000/svg").count());
}

#[test]
fn html_report_is_one_self_contained_file() {
    let dir = temp("text");
    let file = dir.join("smoltcp.html");
    let (code, out, err) = tracewright(&[
        "replay",
        "tcp",
        "--target",
        "smoltcp",
        "--html",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("HTML report written to {}", file.display())),
        "{out}"
    );
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    self_contained(&html);
    assert!(html.contains("<h1>tracewright report: tcp against smoltcp (profile rfc9293)</h1>"));
    // The pass count the CLI printed ("… s (… traces/s): N pass, …").
    let summary = out
        .lines()
        .find(|l| l.contains(" traces in "))
        .expect("a summary line");
    let pass = summary
        .split(" pass, ")
        .next()
        .and_then(|h| h.rsplit(' ').next())
        .expect("a summary line");
    assert!(
        html.contains(&format!("<span class=\"pass\">{pass} pass</span>")),
        "counts: {pass}"
    );
    let deviations = summary
        .split(" documented deviation")
        .next()
        .and_then(|h| h.rsplit(' ').next())
        .expect("a summary line");
    assert!(
        html.contains(&format!(
            "<span class=\"deviation\">{deviations} documented deviation</span>"
        )),
        "deviations: {deviations}"
    );
    // The matrix: a row per RFC 9293 state, its cells linked to traces.
    let table = &html[html.find("<table class=\"m\">").unwrap()..html.find("</table>").unwrap()];
    // The header row, then a row per state.
    assert_eq!(table.matches("<tr><th>").count(), 1 + 11, "{table}");
    let linked = links_resolve(&html, table);
    assert!(linked > 80, "{linked} cells linked");
    assert!(
        table.contains("<td class=\"none\""),
        "some cell has no pass"
    );
    assert!(table.contains("<td class=\"all\""));
    // Every trace has its section, each with a ladder: two (expected and
    // observed) for a deviation, one for a pass.
    assert_eq!(html.matches("<section id=").count(), common::tcp_traces());
    let section = |id: &str| {
        let at = html.find(&format!("<section id=\"{id}\"")).unwrap();
        &html[at..at + html[at..].find("</section>").unwrap()]
    };
    let dev = section("tcp-client-close-wait-app-abort-sends-r-to-closed");
    assert!(dev.contains(">DEVIATION</span>"), "{dev}");
    assert_eq!(dev.matches("<svg ").count(), 2, "{dev}");
    assert!(dev.contains("expected (the trace)") && dev.contains("observed (smoltcp)"));
    // The divergence in red on both sides: what the trace wanted, what came.
    assert!(dev.contains("fill=\"#c00\">R seq=1</text>"), "{dev}");
    assert!(dev.contains("fill=\"#c00\">RA seq=1 ack=2</text>"), "{dev}");
    let pass = section("tcp-client-closed-recv-s-sends-ra-to-closed");
    assert!(pass.contains(">PASS</span>"), "{pass}");
    assert_eq!(pass.matches("<svg ").count(), 1, "{pass}");
    links_resolve(&html, &html);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Debian's chromium, if installed.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn headless(browser: &str, profile: &Path, extra: &[&str], page: &Path) -> std::process::Output {
    Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap()
}

#[test]
fn html_report_renders_in_a_headless_browser() {
    let Some(browser) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but no chromium: .ci/run installs it (apt-get install chromium)");
        }
        eprintln!("skipped: no chromium here (apt-get install -y chromium)");
        return;
    };
    let dir = temp("browser");
    let page = dir.join("h2.html");
    let (code, out, err) = tracewright(&[
        "replay",
        "h2",
        "--target",
        "h2crate",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    // The DOM the browser built: the page parsed whole, every section and
    // ladder there.
    let dom = headless(browser, &dir.join("profile"), &["--dump-dom"], &page);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(
        dom.matches("<section id=").count(),
        common::h2_traces(),
        "{}",
        &dom[..dom.len().min(2000)]
    );
    assert!(dom.contains("</svg>") && dom.trim_end().ends_with("</html>"));
    // A screenshot of the given size, with something drawn.
    let shot = dir.join("shot.png");
    let o = headless(
        browser,
        &dir.join("profile"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1000",
        ],
        &page,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{e}: {o:?}"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!(&png[12..16], b"IHDR");
    assert_eq!((be(16), be(20)), (1280, 1000));
    // A blank page compresses to a few kB; the grid and the ladders do not.
    assert!(png.len() > 50_000, "{} bytes", png.len());
    std::fs::remove_dir_all(dir).unwrap();
}
