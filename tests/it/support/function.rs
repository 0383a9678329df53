//! The built binary run as a Lambda function: started with `AWS_LAMBDA_RUNTIME_API` pointing
//! at a loopback [`RuntimeApi`], its AWS clients at an endpoint the test chooses (moto, or a
//! proxy in front of it), its log lines collected.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::events::{EventTime, scheduled_event};
use super::runtime_api::{Outcome, RuntimeApi};

/// The binary serving invocations, with its log lines collected.
pub struct Function {
    pub child: Child,
    pub api: RuntimeApi,
    pub logs: Arc<Mutex<Vec<String>>>,
    pub _dir: tempfile::TempDir,
}

impl Function {
    /// Starts the binary as the Lambda service would, talking to `endpoint` for AWS.
    pub fn start(endpoint: &str, env: &[(&str, &str)]) -> Function {
        let api = RuntimeApi::start();
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = super::command_on_moto(dir.path());
        cmd.env("AWS_ENDPOINT_URL", endpoint);
        for (name, value) in api.env() {
            cmd.env(name, value);
        }
        for name in [
            "REGISTRY_BUCKET",
            "REGISTRY_KEY",
            "RESULTS_BUCKET",
            "RESULTS_PREFIX",
            "DEDUP_BUCKET",
            "DEDUP_PREFIX",
            "SNS_TOPIC_ARN",
            "TELEGRAM_BOT_TOKEN_PARAM",
            "TELEGRAM_CHAT_ID_PARAM",
            "PROBE_CONCURRENCY",
            "PROBE_TIMEOUT_SECONDS",
            "RUST_LOG",
        ] {
            cmd.env_remove(name);
        }
        for (name, value) in env {
            cmd.env(name, value);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start freshness-monitor as a Lambda");
        let logs = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let logs = logs.clone();
            thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    logs.lock().unwrap().push(line);
                }
            });
        }
        Function {
            child,
            api,
            logs,
            _dir: dir,
        }
    }

    /// [`Function::start`] on the shared moto server.
    pub fn on_moto(env: &[(&str, &str)]) -> Function {
        Function::start(&super::moto::shared().endpoint(), env)
    }

    pub fn invoke(&self, event: &Value) -> Outcome {
        self.api.invoke_and_wait(event.to_string())
    }

    /// A pass as the schedule starts it: the scheduled event firing at `time`.
    pub fn pass(&self, time: impl EventTime) -> Outcome {
        self.invoke(&scheduled_event(time))
    }

    /// The JSON log lines whose `message` is `message`.
    pub fn log_lines(&self, message: &str) -> Vec<Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["message"] == message)
            .collect()
    }

    /// [`Function::log_lines`] once at least `n` such lines have arrived (or after 10 s). The
    /// function writes a pass's lines before it answers, but they reach the test through a
    /// reader thread a moment later: a test waits for the last line it relies on (a pass ends
    /// with `pass complete`, a failed invocation with `invocation failed`) before it reads the
    /// logs, and everything written before that line is there too.
    pub fn await_log_lines(&self, message: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let lines = self.log_lines(message);
            if lines.len() >= n || Instant::now() >= deadline {
                return lines;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The pass's own CloudWatch EMF line (the one without a `Cadence`) of the pass at
    /// `now_ms`, once it has arrived (it follows the pass's `pass complete` line), or after
    /// 10 s.
    pub fn await_emf_pass_line(&self, now_ms: i64) -> Option<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = (self.logs.lock().unwrap().iter())
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| v["_aws"]["Timestamp"] == now_ms && v.get("Cadence").is_none());
            if found.is_some() || Instant::now() >= deadline {
                return found;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn all_logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        // Only this test's own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
