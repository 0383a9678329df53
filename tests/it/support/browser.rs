//! Headless Chromium (Debian's `chromium`, which scripts/test.sh installs): screenshots of a
//! page at a window size, and its DOM after its scripts ran. A missing browser fails the test
//! loudly; each call gets its own profile directory, so tests can run in parallel.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The browser's command name.
pub const CHROMIUM: &str = "chromium";

/// How long one browser run may take before the test gives up on it (a guard, not a timing).
const RUN_LIMIT: Duration = Duration::from_secs(120);

fn run(args: &[String]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {CHROMIUM} ({e}): install Debian's chromium (scripts/test.sh does)")
        });
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > RUN_LIMIT {
            child.kill().ok();
            panic!("{CHROMIUM} {args:?} did not finish in {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{CHROMIUM} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn url(page: &Path) -> String {
    format!("file://{}", page.canonicalize().unwrap().display())
}

/// Writes a PNG of `page` in a `width`×`height` window to `png`; returns the PNG's size in
/// pixels as the file's header says.
pub fn screenshot(page: &Path, png: &Path, width: u32, height: u32) -> (u32, u32) {
    run(&[
        format!("--screenshot={}", png.display()),
        format!("--window-size={width},{height}"),
        url(page),
    ]);
    let bytes = std::fs::read(png).expect("the screenshot was written");
    assert_eq!(&bytes[1..4], b"PNG", "{} is a PNG", png.display());
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// The DOM of `page` after its scripts ran, serialised.
pub fn dump_dom(page: &Path) -> String {
    let out = run(&["--dump-dom".to_string(), url(page)]);
    String::from_utf8(out.stdout).expect("the DOM is UTF-8")
}
