//! The bootstrap as Lambda gets it. `scripts/lambda_zip.sh`, deploy.sh's package step
//! (docs/deploy.md): the zip holds the binary as `bootstrap`, executable, byte for byte; the
//! same binary always gives the same zip (deploy.sh compares CodeSha256 to leave unchanged code
//! alone); advzip, when installed, makes it smaller, and without advzip the script still makes
//! the `zip -9` one. The deploy tests zip the debug binary with `FRESHNESS_MONITOR_ZIP=fast`
//! (advzip takes minutes for it), so the default path is tested here, on a slice of the binary
//! small enough to recompress in seconds. And the libraries the binary loads: not libm, whose
//! one function the binary defines itself (src/main.rs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support;

fn lambda_zip_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lambda_zip.sh")
}

/// `command -v TOOL` through sh: the absolute path, or a loud failure naming the package.
fn tool_path(tool: &str, package: &str) -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{tool} is not installed (Debian {package}): run scripts/test.sh, which installs it"
    );
    PathBuf::from(support::stdout(&out).trim())
}

/// The first 256 KiB of the built binary: real machine code, compressible as the bootstrap is.
fn sample_binary(dir: &Path) -> PathBuf {
    let bytes = std::fs::read(support::bin()).expect("read the built binary");
    let path = dir.join("sample-binary");
    std::fs::write(&path, &bytes[..256 * 1024]).unwrap();
    path
}

fn zip_with(binary: &Path, zip: &Path, env: &[(&str, &str)], path: Option<&str>) -> Vec<u8> {
    let mut cmd = Command::new(lambda_zip_sh());
    cmd.arg(binary).arg(zip).envs(env.iter().copied());
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    let out = cmd.output().expect("run scripts/lambda_zip.sh");
    assert_ok(&out, "scripts/lambda_zip.sh");
    std::fs::read(zip).expect("the zip")
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        support::stdout(out),
        support::stderr(out)
    );
}

/// What Lambda reads of the zip: the one entry's listing (name, mode, date) and its bytes.
fn assert_holds_the_bootstrap(zip: &Path, binary: &Path) {
    let out = Command::new(tool_path("zipinfo", "unzip"))
        .arg(zip)
        .output()
        .unwrap();
    assert_ok(&out, "zipinfo");
    let listing = support::stdout(&out);
    let entries: Vec<&str> = listing
        .lines()
        .filter(|line| line.ends_with(" bootstrap"))
        .collect();
    assert_eq!(entries.len(), 1, "one entry, bootstrap:\n{listing}");
    assert!(
        entries[0].starts_with("-rwxr-xr-x") && entries[0].contains("80-Jan-01 00:00"),
        "bootstrap executable, 1980-01-01 00:00:\n{listing}"
    );
    assert!(listing.contains("number of entries: 1"), "{listing}");
    let out = Command::new(tool_path("unzip", "unzip"))
        .arg("-p")
        .arg(zip)
        .arg("bootstrap")
        .output()
        .unwrap();
    assert_ok(&out, "unzip -p");
    assert!(
        out.stdout == std::fs::read(binary).unwrap(),
        "bootstrap is not the binary"
    );
}

/// A PATH of links to the tools the script needs, advzip left out: a machine without
/// advancecomp.
fn path_without_advzip(dir: &Path) -> String {
    let bin = dir.join("path-without-advzip");
    std::fs::create_dir(&bin).unwrap();
    for tool in [
        "bash", "cp", "chmod", "touch", "rm", "mktemp", "realpath", "zip",
    ] {
        std::os::unix::fs::symlink(tool_path(tool, "coreutils, bash or zip"), bin.join(tool))
            .unwrap();
    }
    bin.to_string_lossy().into_owned()
}

#[test]
fn lambda_zip_recompressed_by_advzip_is_smaller_stable_and_holds_the_binary_as_bootstrap() {
    tool_path("advzip", "advancecomp");
    let dir = tempfile::tempdir().unwrap();
    let binary = sample_binary(dir.path());
    let small = dir.path().join("small.zip");
    let first = zip_with(&binary, &small, &[], None);
    assert_holds_the_bootstrap(&small, &binary);
    let again = zip_with(&binary, &small, &[], None);
    assert!(first == again, "the same binary gave two different zips");

    let plain = dir.path().join("plain.zip");
    let without = zip_with(&binary, &plain, &[], Some(&path_without_advzip(dir.path())));
    assert_holds_the_bootstrap(&plain, &binary);
    assert!(
        first.len() < without.len(),
        "advzip's zip {} bytes, zip -9's {} bytes",
        first.len(),
        without.len()
    );

    let fast = dir.path().join("fast.zip");
    zip_with(&binary, &fast, &[("FRESHNESS_MONITOR_ZIP", "fast")], None);
    assert_holds_the_bootstrap(&fast, &binary);
}

#[test]
fn lambda_zip_refuses_an_unknown_mode_and_a_missing_binary() {
    let dir = tempfile::tempdir().unwrap();
    let binary = sample_binary(dir.path());
    let zip = dir.path().join("f.zip");
    let out = Command::new(lambda_zip_sh())
        .arg(&binary)
        .arg(&zip)
        .env("FRESHNESS_MONITOR_ZIP", "tiny")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        support::stderr(&out).contains("FRESHNESS_MONITOR_ZIP must be small or fast, got 'tiny'"),
        "{}",
        support::stderr(&out)
    );
    let out = Command::new(lambda_zip_sh())
        .arg(dir.path().join("nothing-here"))
        .arg(&zip)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(support::stderr(&out).contains("no binary at"));
    assert!(!zip.exists(), "a zip was made without a binary");
}

#[test]
fn lambda_zip_sh_is_shellcheck_clean() {
    let out = Command::new(tool_path("shellcheck", "shellcheck"))
        .arg(lambda_zip_sh())
        .output()
        .unwrap();
    assert_ok(&out, "shellcheck scripts/lambda_zip.sh");
}

/// Every library the loader maps costs a small invocation its pages (BENCHMARKS.md, "A small
/// pass's memory, fourth round"): libm was loaded for `pow` alone, which src/main.rs now
/// defines. A new use of another libm function brings it back; this says so.
#[test]
fn the_binary_does_not_load_libm() {
    let out = Command::new(tool_path("readelf", "binutils"))
        .arg("-d")
        .arg(support::bin())
        .output()
        .unwrap();
    assert_ok(&out, "readelf -d");
    let dynamic = support::stdout(&out);
    let needed: Vec<&str> = dynamic.lines().filter(|l| l.contains("(NEEDED)")).collect();
    assert!(
        needed.iter().any(|l| l.contains("libc.so")),
        "readelf lists no libc: {dynamic}"
    );
    assert!(
        !needed.iter().any(|l| l.contains("libm.so")),
        "the binary loads libm again (for a function besides pow?):\n{}",
        needed.join("\n")
    );
}
