//! A loopback stand-in for the Telegram Bot API: records every `sendMessage` and answers as
//! scripted (ok, 429 with `retry_after`, 403 "bot was blocked", 500, ok only after a delay), so the channel's
//! behaviour is tested over real HTTP without reaching Telegram.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use serde_json::{Value, json};

use super::loopback::{read_request, write_response};

/// How the server answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Ok,
    /// 429 with `parameters.retry_after` seconds.
    RetryAfter(u64),
    /// 403 "Forbidden: bot was blocked by the user".
    Blocked,
    /// 500.
    ServerError,
    /// Ok, after this many seconds: the message is posted, the answer late.
    Slow(u64),
}

/// One request as received, with the answer it got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub body: Value,
    pub reply: Reply,
    pub at: Instant,
}

impl Received {
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    default: Option<Reply>,
    received: Vec<Received>,
}

pub struct TelegramServer {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl TelegramServer {
    pub fn start() -> TelegramServer {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (serving, stopping) = (state.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = serving.clone();
                thread::spawn(move || serve(stream, state));
            }
        });
        TelegramServer { port, state, stop }
    }

    /// `TELEGRAM_API_BASE` for the function.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The next requests get these answers, in order; then the default.
    pub fn script(&self, replies: &[Reply]) {
        self.state
            .lock()
            .unwrap()
            .script
            .extend(replies.iter().copied());
    }

    /// What every request gets once the script is used up (initially `Ok`).
    pub fn set_default(&self, reply: Reply) {
        self.state.lock().unwrap().default = Some(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// The messages Telegram accepted.
    pub fn delivered(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.reply == Reply::Ok)
            .collect()
    }

    /// Forgets what was received so far.
    pub fn clear(&self) {
        self.state.lock().unwrap().received.clear();
    }
}

impl Drop for TelegramServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader) {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let reply = {
            let mut s = state.lock().unwrap();
            let reply = s
                .script
                .pop_front()
                .unwrap_or(s.default.unwrap_or(Reply::Ok));
            s.received.push(Received {
                path: request.target.clone(),
                body: body.clone(),
                reply,
                at: Instant::now(),
            });
            reply
        };
        if let Reply::Slow(seconds) = reply {
            thread::sleep(std::time::Duration::from_secs(seconds));
        }
        let (status, reason, answer) = match reply {
            Reply::Ok | Reply::Slow(_) => (
                200,
                "OK",
                json!({"ok": true, "result": {"message_id": 1, "chat": {"id": body["chat_id"]},
                       "text": body["text"]}}),
            ),
            Reply::RetryAfter(seconds) => (
                429,
                "Too Many Requests",
                json!({"ok": false, "error_code": 429,
                       "description": format!("Too Many Requests: retry after {seconds}"),
                       "parameters": {"retry_after": seconds}}),
            ),
            Reply::Blocked => (
                403,
                "Forbidden",
                json!({"ok": false, "error_code": 403,
                       "description": "Forbidden: bot was blocked by the user"}),
            ),
            Reply::ServerError => (
                500,
                "Internal Server Error",
                json!({"ok": false, "error_code": 500, "description": "Internal Server Error"}),
            ),
        };
        let headers = [("Content-Type", "application/json".to_string())];
        if write_response(
            &mut writer,
            status,
            reason,
            &headers,
            answer.to_string().as_bytes(),
        )
        .is_err()
        {
            return;
        }
    }
}
