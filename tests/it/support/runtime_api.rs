//! A loopback implementation of the Lambda Runtime API, enough to run the real binary as a
//! function: `GET /2018-06-01/runtime/invocation/next` (long-polls until the test queues an
//! event), `POST …/invocation/{id}/response` and `POST …/invocation/{id}/error`.
//!
//! The test queues events with [`RuntimeApi::invoke`] (each with its own deadline, sent as
//! `Lambda-Runtime-Deadline-Ms`) and waits for what the function posted back.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::loopback::{read_request, write_response};

pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:freshness-monitor";

/// What the function posted for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST …/response`: the handler's answer.
    Response(Value),
    /// `POST …/error`: the `Lambda-Runtime-Function-Error-Type` header and the body
    /// (`{errorType, errorMessage}`).
    Error {
        error_type: Option<String>,
        body: Value,
    },
}

impl Outcome {
    pub fn response(&self) -> &Value {
        match self {
            Outcome::Response(value) => value,
            Outcome::Error { body, .. } => {
                panic!("expected a response, the function failed: {body}")
            }
        }
    }

    /// `(errorType, errorMessage)` of a failed invocation.
    pub fn error(&self) -> (String, String) {
        match self {
            Outcome::Error { body, .. } => (
                body["errorType"].as_str().unwrap_or_default().to_string(),
                body["errorMessage"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ),
            Outcome::Response(value) => panic!("expected an error, the function answered: {value}"),
        }
    }
}

struct Pending {
    request_id: String,
    body: Vec<u8>,
    deadline_ms: u128,
}

#[derive(Default)]
struct State {
    queue: Mutex<VecDeque<Pending>>,
    queued: Condvar,
    outcomes: Mutex<HashMap<String, Outcome>>,
    posted: Condvar,
    /// Every request the function made, as "METHOD target", in order.
    log: Mutex<Vec<String>>,
    stop: AtomicBool,
}

pub struct RuntimeApi {
    port: u16,
    state: Arc<State>,
}

impl RuntimeApi {
    pub fn start() -> RuntimeApi {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State::default());
        let serving = state.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if serving.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = serving.clone();
                thread::spawn(move || serve_connection(stream, &state));
            }
        });
        RuntimeApi { port, state }
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` (host:port, no scheme).
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The environment the Lambda service gives a custom runtime.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", "freshness-monitor".to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/freshness-monitor".to_string(),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "loopback".to_string()),
        ]
    }

    /// Queues an event whose deadline is `budget` from now; returns its request id.
    pub fn invoke(&self, body: impl Into<Vec<u8>>, budget: Duration) -> String {
        let deadline_ms = (SystemTime::now() + budget)
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        self.invoke_with_deadline_ms(body, deadline_ms)
    }

    /// Queues an event with exactly this `Lambda-Runtime-Deadline-Ms` header, real or not;
    /// returns its request id.
    pub fn invoke_with_deadline_ms(&self, body: impl Into<Vec<u8>>, deadline_ms: u128) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let request_id = format!(
            "00000000-0000-4000-8000-{:012}",
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        self.state.queue.lock().unwrap().push_back(Pending {
            request_id: request_id.clone(),
            body: body.into(),
            deadline_ms,
        });
        self.state.queued.notify_all();
        request_id
    }

    /// Waits for what the function posted for `request_id`. The cap only keeps a broken run
    /// from hanging the suite; it is not what the test asserts.
    pub fn wait(&self, request_id: &str) -> Outcome {
        let cap = Instant::now() + Duration::from_secs(180);
        let mut outcomes = self.state.outcomes.lock().unwrap();
        loop {
            if let Some(outcome) = outcomes.get(request_id) {
                return outcome.clone();
            }
            let left = cap.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the function posted nothing for {request_id}; it asked: {:?}",
                self.requests()
            );
            outcomes = self.state.posted.wait_timeout(outcomes, left).unwrap().0;
        }
    }

    /// Queues an event with a generous deadline and waits for its outcome.
    pub fn invoke_and_wait(&self, body: impl Into<Vec<u8>>) -> Outcome {
        let id = self.invoke(body, Duration::from_secs(120));
        self.wait(&id)
    }

    /// Every request the function made so far ("GET /2018-06-01/runtime/invocation/next", …).
    pub fn requests(&self) -> Vec<String> {
        self.state.log.lock().unwrap().clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        self.state.queued.notify_all();
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve_connection(stream: TcpStream, state: &State) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader) {
        state
            .log
            .lock()
            .unwrap()
            .push(format!("{} {}", request.method, request.target));
        let path = request.target.as_str();
        let written = if request.method == "GET" && path == "/2018-06-01/runtime/invocation/next" {
            let Some(next) = next_event(state) else {
                return;
            };
            write_response(
                &mut writer,
                200,
                "OK",
                &[
                    ("Content-Type", "application/json".to_string()),
                    ("Lambda-Runtime-Aws-Request-Id", next.request_id.clone()),
                    ("Lambda-Runtime-Deadline-Ms", next.deadline_ms.to_string()),
                    (
                        "Lambda-Runtime-Invoked-Function-Arn",
                        FUNCTION_ARN.to_string(),
                    ),
                    (
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-00000000-000000000000000000000000;Sampled=0".to_string(),
                    ),
                ],
                &next.body,
            )
        } else if let Some((request_id, kind)) = invocation_post(&request.method, path) {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&request.body).into_owned())
            });
            let outcome = match kind {
                "response" => Outcome::Response(body),
                _ => Outcome::Error {
                    error_type: request
                        .header("lambda-runtime-function-error-type")
                        .map(str::to_string),
                    body,
                },
            };
            state.outcomes.lock().unwrap().insert(request_id, outcome);
            state.posted.notify_all();
            write_response(
                &mut writer,
                202,
                "Accepted",
                &[("Content-Type", "application/json".to_string())],
                br#"{"status":"OK"}"#,
            )
        } else {
            write_response(
                &mut writer,
                404,
                "Not Found",
                &[("Content-Type", "application/json".to_string())],
                br#"{"errorMessage":"unknown path","errorType":"InvalidRequest"}"#,
            )
        };
        if written.is_err() {
            return;
        }
    }
}

/// `POST /2018-06-01/runtime/invocation/{id}/response|error` → `(id, "response"|"error")`.
fn invocation_post<'a>(method: &str, path: &'a str) -> Option<(String, &'a str)> {
    if method != "POST" {
        return None;
    }
    let rest = path.strip_prefix("/2018-06-01/runtime/invocation/")?;
    let (id, kind) = rest.split_once('/')?;
    matches!(kind, "response" | "error").then(|| (id.to_string(), kind))
}

/// Blocks until an event is queued (the long poll); `None` when the server stops.
fn next_event(state: &State) -> Option<Pending> {
    let mut queue = state.queue.lock().unwrap();
    loop {
        if state.stop.load(Ordering::SeqCst) {
            return None;
        }
        if let Some(next) = queue.pop_front() {
            return Some(next);
        }
        queue = state
            .queued
            .wait_timeout(queue, Duration::from_millis(500))
            .unwrap()
            .0;
    }
}
