//! The HTML report renders in a real browser (Debian's headless Chromium) and shows the
//! expected numbers.

mod report_support;

use blindmatch::audit;
use blindmatch::report::{html, Disclosure, Filter};
use std::path::Path;
use std::process::Command;

fn chromium(profile: &Path, args: &[&str]) -> std::process::Output {
    Command::new("/usr/bin/chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run /usr/bin/chromium")
}

#[test]
#[ignore = "needs Debian's chromium: .ci/run installs it and runs ignored tests"]
fn the_report_renders_in_headless_chromium_with_the_expected_numbers() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = report_support::build(dir.path());
    let verified = audit::verify(&log, &[report_support::key().verifying_key()]).expect("verify");
    let mut d = Disclosure::build("audit.jsonl", &verified, &Filter::All);
    d.attach_outputs(10, None);
    let page = dir.path().join("report.html");
    std::fs::write(&page, html::render(&d)).expect("write");
    let url = format!("file://{}", page.display());

    let profile = tempfile::tempdir().expect("profile");
    let out = chromium(profile.path(), &["--dump-dom", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    // The DOM as the browser built it: the numbers are there, the chart is an SVG element.
    assert!(dom.contains("id=\"total-sessions\">3<"), "{dom}");
    assert!(dom.contains("id=\"completed-sessions\">2<"));
    assert!(dom.contains("id=\"total-matches\">10<"));
    assert!(dom.contains("id=\"refusals\">1<"));
    assert!(dom.contains("Log verification: OK: 8 entries"));
    assert!(dom.contains("<svg"));
    assert_eq!(dom.matches("<rect ").count(), 3);

    let shot = dir.path().join("report.png");
    let out = chromium(
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1100,1600",
            &url,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "a blank page compresses to almost nothing"
    );
    if let Ok(keep) = std::env::var("BLINDMATCH_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("copy screenshot");
    }
}
