//! Shared test plumbing: running the built binary in a temp dir.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test, as cargo built it for this test run.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_freshness-monitor"))
}

/// Runs the binary with `args` in `dir`, with a clean AWS environment that can reach nothing
/// real (no credentials, no region, no endpoint unless the test adds them).
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
    cmd
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
