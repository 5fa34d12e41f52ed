//! The HTML report in a real browser: for every lab capture the page is
//! opened in headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs); it must render with no console error, be self-contained (no
//! external asset), and its ladder diagrams must hold one arrow per event
//! of the report. Locally, without Chromium, the test says it was skipped;
//! in CI (`CI=true`) a missing Chromium is a failure.

mod common;

use std::process::Command;

fn chromium() -> Option<String> {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(c.to_string());
        }
    }
    None
}

#[test]
fn html_reports_render_in_chromium() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must have chromium (see .ci/run)"
        );
        common::skip_note("SKIPPED: chromium not installed; HTML browser test not run");
        return;
    };
    let dir = std::env::temp_dir().join(format!("ikediag-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut paths: Vec<_> = std::fs::read_dir(corpus.join("lab"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    paths.sort();
    let mut problems = Vec::new();
    for path in &paths {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let r = common::report(path);
        let html = ikediag::report::html::render(&r);
        // Self-contained: the only URL is the SVG namespace.
        let external =
            html.matches("http").count() - html.matches("http://www.w3.org/2000/svg").count();
        if external > 0 || html.contains("<script") || html.contains("<link") {
            problems.push(format!("{name}: not self-contained"));
        }
        let file = dir.join(format!("{name}.html"));
        std::fs::write(&file, &html).unwrap();
        let out = Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg("--dump-dom")
            .arg(&file)
            .output()
            .expect("run chromium");
        let dom = String::from_utf8_lossy(&out.stdout);
        let log = String::from_utf8_lossy(&out.stderr);
        if log
            .lines()
            .any(|l| l.contains(":CONSOLE(") || l.contains("Uncaught"))
        {
            problems.push(format!("{name}: console errors:\n{log}"));
        }
        if !dom.contains("Verdict:") {
            problems.push(format!("{name}: the page did not render"));
        }
        let arrows = dom.matches("class=\"msg ").count();
        let events: usize = r.sas.iter().map(|s| s.ladder.len()).sum();
        if arrows != events {
            problems.push(format!(
                "{name}: {arrows} arrows in the DOM, {events} ladder events"
            ));
        }
        let svgs = dom.matches("<svg class=\"ladder\"").count();
        if svgs != r.sas.len() {
            problems.push(format!("{name}: {svgs} ladders for {} SAs", r.sas.len()));
        }
        let unanswered = dom.matches("unanswered\" data-frame").count();
        let want = r
            .sas
            .iter()
            .flat_map(|s| &s.ladder)
            .filter(|e| e.unanswered)
            .count();
        if unanswered != want {
            problems.push(format!(
                "{name}: {unanswered} unanswered arrows drawn, {want} expected"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
