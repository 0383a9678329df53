//! Shared test plumbing: running the built binary in a temp dir; beside it, moto's server and
//! the loopback servers for what moto cannot do.

#![allow(dead_code)]

pub mod loopback;
pub mod moto;
pub mod runtime_api;
pub mod telegram_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test, as cargo built it for this test run.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_freshness-monitor"))
}

/// Where every client of a spawned binary points unless the test points it at its own
/// loopback server: the discard port on loopback, which refuses connections. A test that
/// forgets to set an endpoint fails fast here instead of reaching AWS or Telegram.
pub const UNREACHABLE: &str = "http://127.0.0.1:9";

/// The variables that choose where the binary's clients connect.
pub const ENDPOINT_VARS: [&str; 2] = ["AWS_ENDPOINT_URL", "TELEGRAM_API_BASE"];

/// Runs the binary with `args` in `dir`, with a clean AWS environment that can reach nothing
/// real (no credentials, no region, every endpoint on loopback unless the test sets its own).
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    command_in(dir)
        .args(args)
        .output()
        .expect("run freshness-monitor")
}

pub fn command_in(dir: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir);
    for var in [
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "FRESHNESS_MONITOR_ENABLED",
        "MNEMON_FRESHNESS_MONITOR_ENABLED",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    // Never the developer's own ~/.aws: no profile, no real credentials.
    cmd.env(
        "AWS_CONFIG_FILE",
        "/nonexistent/freshness-monitor-tests/config",
    );
    cmd.env(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/freshness-monitor-tests/credentials",
    );
    for var in ENDPOINT_VARS {
        cmd.env(var, UNREACHABLE);
    }
    cmd
}

/// True when `url` names a loopback host.
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    host == "localhost" || host.starts_with("127.") || rest.starts_with("[::1]")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
