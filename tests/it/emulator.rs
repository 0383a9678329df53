//! The invocation deadline the runtime announces is trusted only when it could be real. Two
//! Runtime APIs send impossible ones: the loopback one (a past, an hour-ahead and cargo-lambda's
//! constant header) and cargo-lambda's own emulator (`cargo lambda watch --only-lambda-apis`,
//! cargo-lambda 1.9), a real, independent implementation whose constant
//! `Lambda-Runtime-Deadline-Ms: 600000` reads as 1970-01-01T00:10Z. Either way the pass runs
//! on the fallback budget and probes as usual instead of reporting every artifact as
//! `probe_failed` ("deadline").

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::support::aws;
use crate::support::events::rfc3339;
use crate::support::function::Function;
use crate::support::moto;
use crate::support::scenario::Scenario;

const UNTRUSTED: &str = "the runtime's deadline cannot be a real one (already past, or beyond \
                         Lambda's 900 s maximum); running on the 900 s fallback budget";

/// The scenario's states at its `now` (one invalid entry is `probe_failed`, as always).
fn expected_counts() -> Value {
    json!({"fresh": 2, "stale": 1, "missing": 1, "probe_failed": 1, "grace_period": 1, "suspect": 0})
}

#[tokio::test(flavor = "multi_thread")]
async fn deadline_a_past_or_absurd_header_runs_on_the_fallback_budget() {
    let s3 = aws::s3().await;
    let scenario = Scenario::build(&s3, "").await;
    let function = Function::on_moto(&[("REGISTRY_BUCKET", &scenario.bucket)]);
    let event = json!({"dry_run": true, "now": rfc3339(scenario.now)}).to_string();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let headers = [600_000, now_ms - 1_000, now_ms + 3_600_000];
    for header_ms in headers {
        let id = function
            .api
            .invoke_with_deadline_ms(event.clone(), header_ms);
        let response = function.api.wait(&id).response().clone();
        assert_eq!(
            response["counts"],
            expected_counts(),
            "deadline header {header_ms}: {response:#}"
        );
    }
    let warnings = function.await_log_lines(UNTRUSTED, headers.len());
    let named: Vec<Value> = warnings
        .iter()
        .map(|w| w["lambda_runtime_deadline_ms"].clone())
        .collect();
    let sent: Vec<Value> = headers.iter().map(|h| json!(*h as u64)).collect();
    assert_eq!(named, sent, "each warning names the header's value");
}

/// `cargo lambda watch --only-lambda-apis` on a free loopback port, killed on drop.
struct Emulator {
    child: Child,
    port: u16,
}

impl Emulator {
    fn start() -> Emulator {
        let found = Command::new("sh")
            .args(["-c", "command -v cargo-lambda"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "cargo-lambda is not installed (its Runtime API emulator): run scripts/test.sh, \
             which installs it"
        );
        let port = moto::free_port();
        let child = Command::new("cargo-lambda")
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
            ])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cargo lambda watch");
        let emulator = Emulator { child, port };
        let give_up = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < give_up,
                "cargo lambda watch never listened"
            );
            thread::sleep(Duration::from_millis(100));
        }
        emulator
    }

    /// `cargo lambda invoke` with `event`: the function's response, parsed.
    fn invoke(&self, event: &Value) -> Value {
        let out = Command::new("cargo-lambda")
            .args(["lambda", "invoke", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &self.port.to_string()])
            .args([
                "--output-format",
                "json",
                "--data-ascii",
                &event.to_string(),
            ])
            .output()
            .expect("run cargo lambda invoke");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deadline_cargo_lambdas_emulator_is_served_as_a_real_runtime_api() {
    let s3 = aws::s3().await;
    let scenario = Scenario::build(&s3, "").await;
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let mut function = crate::support::command_on_moto(dir.path())
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{}/.rt", emulator.port),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("REGISTRY_BUCKET", &scenario.bucket)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start freshness-monitor against the emulator");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let stdout = function.stdout.take().unwrap();
    let reader = {
        let logs = logs.clone();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                logs.lock().unwrap().push(line);
            }
        })
    };
    let response = emulator.invoke(&json!({"dry_run": true, "now": rfc3339(scenario.now)}));
    let _ = function.kill();
    let _ = function.wait();
    reader.join().unwrap();
    assert_eq!(response["counts"], expected_counts(), "{response:#}");
    let logs = logs.lock().unwrap();
    let warning = logs
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["message"] == UNTRUSTED)
        .unwrap_or_else(|| panic!("no warning about the deadline:\n{}", logs.join("\n")));
    assert_eq!(warning["lambda_runtime_deadline_ms"], 600_000);
}
