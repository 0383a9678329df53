//! Shared test plumbing, in one place: every test module imports its helpers from here and
//! never from another test module.
//!
//! This file runs the built binary in a temp dir with an environment that can reach nothing
//! real. Beside it:
//! - [`moto`]: moto's server (the AWS APIs) on a free loopback port, one per test binary;
//! - [`aws`]: the tests' own SDK clients on moto and small S3 helpers;
//! - [`docs`]: the markdown pages' examples, the matcher of shown output, re-blessing;
//! - [`botocore`]: the AWS CLI's calls in one long-lived process, for the deploy tests' reads;
//! - [`results`]: the keys the monitor reads and writes, the fields of a result row;
//! - [`events`]: the scheduled event and time helpers;
//! - [`scenario`]: registries with every state, in a moto bucket or in a local store;
//! - [`function`]: the binary run as a Lambda function against a [`runtime_api`];
//! - [`trace`]: a proxy in front of moto that records when each request went out and came
//!   back, and the longest chain of requests one after another (a pass's round trips);
//! - [`world`]: a monitored world with both alert channels, and the [`world::Monitor`];
//! - [`loopback`], [`runtime_api`], [`telegram_server`]: loopback servers for what moto
//!   cannot do, the Lambda Runtime API and the Telegram Bot API;
//! - [`tls_relay`]: a TLS front with a self-signed certificate for any of those servers.

#![allow(dead_code)]

pub mod aws;
pub mod botocore;
pub mod browser;
pub mod docs;
pub mod events;
pub mod function;
pub mod loopback;
pub mod moto;
pub mod results;
pub mod runtime_api;
pub mod scenario;
pub mod telegram_server;
pub mod tls_relay;
pub mod trace;
pub mod world;

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

/// [`command_in`] with moto's credentials, region and endpoint: the binary as a shell user
/// runs it against the shared moto server.
pub fn command_on_moto(dir: &Path) -> Command {
    let mut cmd = command_in(dir);
    cmd.envs(moto::shared().env());
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
