//! moto's server (a real HTTP implementation of the AWS APIs) on a free loopback port.
//!
//! Each [`Moto`] is its own `moto_server` process; [`shared`] is one per test binary for tests
//! that only need their own buckets. A test that must own whole listings (every role, every
//! function, every bucket) takes an [`Account`] of its own on a shared server instead of a
//! server of its own. The server is started through a small shell guard that
//! kills it when the test process goes away (its stdin closes), so no server outlives a run,
//! even one that panicked or was killed. A missing `moto_server` fails the test loudly:
//! `scripts/test.sh` installs it.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT_ID: &str = "123456789012";

pub struct Moto {
    pub port: u16,
    guard: Child,
}

impl Moto {
    pub fn start() -> Moto {
        assert!(
            Command::new("sh")
                .args(["-c", "command -v moto_server"])
                .stdout(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false),
            "moto_server is not installed: run scripts/test.sh (it installs moto[server] from PyPI)"
        );
        let port = free_port();
        let script = format!(
            "moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; \
             trap 'kill $pid 2>/dev/null' EXIT; read -r _; kill $pid 2>/dev/null; wait $pid"
        );
        let guard = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto { port, guard };
        moto.wait_ready();
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "moto_server did not listen on port {} within 60s",
            self.port
        );
    }

    /// Environment for a child process (the binary, the AWS CLI) that must talk to this
    /// server and nothing else.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_DEFAULT_REGION", REGION.to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
    }
}

impl Moto {
    /// Switches this server's Lambda to moto's Docker-free backend, which "runs" a function
    /// by answering with the next canned response (see [`Moto::queue_lambda_response`]).
    /// Call it before any function is created: functions live in one backend or the other.
    pub fn lambda_without_docker(&self) {
        self.post(
            "/moto-api/config",
            &[("Content-Type", "application/json")],
            r#"{"lambda": {"use_docker": false}}"#,
        );
    }

    /// What the next invocation of any function in `account_id` answers (Docker-free
    /// backend only).
    pub fn queue_lambda_response(&self, account_id: &str, body: &str) {
        let request = serde_json::json!({
            "results": [body],
            "account_id": account_id,
            "region": REGION,
        });
        self.post(
            "/moto-api/static/lambda-simple/response",
            &[("Content-Type", "application/json")],
            &request.to_string(),
        );
    }

    /// A new account on this server, with credentials that act in it: moto switches accounts
    /// by STS AssumeRole on a role ARN in the other account (the role need not exist), and
    /// everything made with the credentials it hands out lives in that account.
    pub fn new_account(&self) -> Account {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = format!(
            "{:012}",
            200_000_000_000 + NEXT.fetch_add(1, Ordering::Relaxed)
        );
        assert_ne!(id, ACCOUNT_ID);
        let body = format!(
            "Action=AssumeRole&Version=2011-06-15&RoleSessionName=freshness-monitor-tests\
             &DurationSeconds=43200&RoleArn=arn%3Aaws%3Aiam%3A%3A{id}%3Arole%2Ftests"
        );
        // Unsigned but for the credential scope, which is how moto tells the service.
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/sts/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        let answer = self.post(
            "/",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &authorization),
            ],
            &body,
        );
        let field = |name: &str| {
            let open = format!("<{name}>");
            let start = answer
                .find(&open)
                .unwrap_or_else(|| panic!("no {name} in moto's AssumeRole answer: {answer}"))
                + open.len();
            let end = start + answer[start..].find('<').expect("closing tag");
            answer[start..end].to_string()
        };
        Account {
            access_key_id: field("AccessKeyId"),
            secret_access_key: field("SecretAccessKey"),
            session_token: field("SessionToken"),
            id,
        }
    }

    /// [`Moto::env`] with `account`'s credentials: a child process that acts in that account.
    pub fn env_in(&self, account: &Account) -> Vec<(&'static str, String)> {
        let mut env = self.env();
        for (name, value) in [
            ("AWS_ACCESS_KEY_ID", &account.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &account.secret_access_key),
            ("AWS_SESSION_TOKEN", &account.session_token),
        ] {
            env.retain(|(n, _)| *n != name);
            env.push((name, value.clone()));
        }
        env
    }

    /// A POST to moto; its answer (status line, headers and body). Panics unless it is 2xx.
    fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> String {
        use std::io::{Read, Write};
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        let mut request = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n", self.port);
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
        stream.write_all(request.as_bytes()).expect("send to moto");
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .expect("read moto's answer");
        let status = answer.split_whitespace().nth(1).unwrap_or("");
        assert!(status.starts_with('2'), "moto {path} answered: {answer}");
        answer
    }
}

/// An account of its own on a moto server (see [`Moto::new_account`]).
pub struct Account {
    pub id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing stdin makes the guard kill the server.
        drop(self.guard.stdin.take());
        let _ = self.guard.wait();
    }
}

/// One server for the whole test binary; tests isolate themselves by bucket name.
pub fn shared() -> &'static Moto {
    static SHARED: OnceLock<Moto> = OnceLock::new();
    SHARED.get_or_init(Moto::start)
}

pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free loopback port")
}

/// An endpoint that refuses connections and stays refusing: the discard port on loopback.
/// A "free" ephemeral port would not do: another test's server may take it in the meantime.
pub fn refused_endpoint() -> String {
    crate::support::UNREACHABLE.to_string()
}

/// A bucket name no other test uses.
pub fn unique_bucket(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
