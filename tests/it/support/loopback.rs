//! Small loopback HTTP/1.1 servers for what moto cannot do: a socket that accepts and never
//! answers, a server that answers every request with one canned error (403 without ListBucket,
//! throttling, 5xx), one that takes an upload slowly, and proxies in front of moto that go silent, or answer an error, for
//! chosen requests only.
//!
//! They speak just enough HTTP/1.1 (Content-Length and chunked request bodies, keep-alive) for
//! the AWS SDK's and the Lambda runtime client's requests. Each listens on a free loopback port
//! and stops accepting when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One HTTP request as read off the wire.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The request line and headers exactly as received (for forwarding).
    pub raw_head: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request; `None` when the peer closed the connection between requests.
pub fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut raw_head = Vec::new();
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    raw_head.extend_from_slice(line.as_bytes());
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        raw_head.extend_from_slice(line.as_bytes());
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
        raw_head,
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).ok()?;
            let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                // The terminating chunk; trailers are not used by our clients.
                break;
            }
            request.body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = request.header("content-length") {
        let mut body = vec![0; length.parse().ok()?];
        reader.read_exact(&mut body).ok()?;
        request.body = body;
    }
    Some(request)
}

/// Writes a complete response with a Content-Length.
pub fn write_response(
    stream: &mut impl Write,
    status: u16,
    reason: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// A listener on a free loopback port whose connections are served by `serve` on their own
/// threads until the listener is dropped.
pub struct Listener {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Listener {
    pub fn start(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> Listener {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let serve = Arc::new(serve);
        let stopping = stop.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let serve = serve.clone();
                thread::spawn(move || serve(stream));
            }
        });
        Listener { addr, stop }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Accepts connections, reads what is sent, and never answers.
pub struct SilentServer {
    listener: Listener,
    pub connections: Arc<AtomicUsize>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let listener = Listener::start(move |mut stream| {
            counted.fetch_add(1, Ordering::SeqCst);
            // Drain until the client gives up; answer nothing.
            let mut sink = [0u8; 4096];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        });
        SilentServer {
            listener,
            connections,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.listener.addr)
    }
}

/// Answers every request with the same status, headers and body; counts requests.
/// A server that takes a PUT's body slowly (`bytes_per_second`) and then answers 200, as a
/// slow link to S3 would: a big upload outlasts a timeout sized for a HEAD.
pub struct SlowUploadServer {
    listener: Listener,
    /// The bodies (bytes) it finished reading and answered.
    pub completed: Arc<Mutex<Vec<usize>>>,
}

impl SlowUploadServer {
    pub fn start(bytes_per_second: usize) -> SlowUploadServer {
        let completed = Arc::new(Mutex::new(Vec::new()));
        let done = completed.clone();
        let listener = Listener::start(move |stream| {
            let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
            let mut writer = stream;
            while let Some(length) = read_slowly(&mut reader, &mut writer, bytes_per_second) {
                let answer = "HTTP/1.1 200 OK\r\nETag: \"slow\"\r\nContent-Length: 0\r\n\r\n";
                if writer.write_all(answer.as_bytes()).is_err() {
                    return;
                }
                done.lock().unwrap().push(length);
            }
        });
        SlowUploadServer {
            listener,
            completed,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.listener.addr)
    }
}

/// Reads one request's head and then its Content-Length body in tenths of a second's worth,
/// a tenth of a second apart; `None` when the client went away.
fn read_slowly(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
    bytes_per_second: usize,
) -> Option<usize> {
    let (mut length, mut line) = (0usize, String::new());
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let header = line.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        if header == "expect: 100-continue" {
            writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
        }
    }
    let mut chunk = vec![0u8; (bytes_per_second / 10).max(1)];
    let mut left = length;
    while left > 0 {
        let take = left.min(chunk.len());
        reader.read_exact(&mut chunk[..take]).ok()?;
        left -= take;
        thread::sleep(Duration::from_millis(100));
    }
    Some(length)
}

pub struct CannedServer {
    listener: Listener,
    pub requests: Arc<AtomicUsize>,
}

impl CannedServer {
    pub fn start(status: u16, reason: &'static str, body: &'static str) -> CannedServer {
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        let listener = Listener::start(move |stream| {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            while let Some(request) = read_request(&mut reader) {
                counted.fetch_add(1, Ordering::SeqCst);
                // A HEAD answer carries no body, as S3's does not.
                let body = if request.method == "HEAD" {
                    &b""[..]
                } else {
                    body.as_bytes()
                };
                let headers = [
                    ("Content-Type", "application/xml".to_string()),
                    ("x-amz-request-id", "LOOPBACK".to_string()),
                ];
                if request.method == "HEAD" {
                    // Content-Length of the would-be body, none sent.
                    let head = format!(
                        "HTTP/1.1 {status} {reason}\r\nx-amz-request-id: LOOPBACK\r\n\
                         Content-Length: 0\r\n\r\n"
                    );
                    if writer.write_all(head.as_bytes()).is_err() {
                        break;
                    }
                } else if write_response(&mut writer, status, reason, &headers, body).is_err() {
                    break;
                }
            }
        });
        CannedServer { listener, requests }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.listener.addr)
    }
}

/// A proxy in front of an HTTP server (moto) that forwards every request except those whose
/// target contains `silent_marker`: those it holds forever without answering. Each forwarded
/// request uses its own upstream connection, and the answer tells the client to close, so no
/// connection is shared between a silent and a forwarded request.
pub struct SelectiveSilentProxy {
    proxy: FaultProxy,
    pub held: Arc<Mutex<Vec<String>>>,
}

impl SelectiveSilentProxy {
    pub fn start(upstream: SocketAddr, silent_marker: &str) -> SelectiveSilentProxy {
        let marker = silent_marker.to_string();
        let proxy = FaultProxy::start(upstream, move |request| {
            if request.target.contains(&marker) {
                Fault::Silent
            } else {
                Fault::Forward
            }
        });
        let held = proxy.faulted.clone();
        SelectiveSilentProxy { proxy, held }
    }

    pub fn endpoint(&self) -> String {
        self.proxy.endpoint()
    }
}

/// What a [`FaultProxy`] does with one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Pass it to the upstream and relay the answer.
    Forward,
    /// Read it and never answer (a stalled server).
    Silent,
    /// Answer with this status, reason phrase, content type and body (a HEAD gets no body).
    Answer {
        status: u16,
        reason: &'static str,
        content_type: &'static str,
        body: String,
    },
}

impl Fault {
    /// An S3-style XML error answer.
    pub fn s3_error(status: u16, reason: &'static str, code: &str, message: &str) -> Fault {
        Fault::Answer {
            status,
            reason,
            content_type: "application/xml",
            body: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>{message}</Message><RequestId>LOOPBACK</RequestId></Error>"
            ),
        }
    }

    /// An error answer of the AWS JSON protocols (SSM, …): `{"__type", "message"}`.
    pub fn json_error(status: u16, reason: &'static str, error_type: &str, message: &str) -> Fault {
        Fault::Answer {
            status,
            reason,
            content_type: "application/x-amz-json-1.1",
            body: serde_json::json!({"__type": error_type, "message": message}).to_string(),
        }
    }
}

/// A proxy in front of an HTTP server (moto) that decides per request, with `rule`, whether to
/// forward it, hold it without answering, or answer it with a canned error. Every connection
/// carries one request (answers say `Connection: close`), so a fault never shares a connection
/// with a forwarded request. `faulted` lists the "METHOD target" of every request not
/// forwarded.
pub struct FaultProxy {
    listener: Listener,
    pub faulted: Arc<Mutex<Vec<String>>>,
}

impl FaultProxy {
    pub fn start(
        upstream: SocketAddr,
        rule: impl Fn(&Request) -> Fault + Send + Sync + 'static,
    ) -> FaultProxy {
        let faulted = Arc::new(Mutex::new(Vec::new()));
        let recording = faulted.clone();
        let listener = Listener::start(move |stream| {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut client = stream;
            let Some(request) = read_request(&mut reader) else {
                return;
            };
            let fault = rule(&request);
            if !matches!(fault, Fault::Forward) {
                recording
                    .lock()
                    .unwrap()
                    .push(format!("{} {}", request.method, request.target));
            }
            match fault {
                Fault::Forward => {
                    let _ = forward(&request, upstream, &mut client);
                }
                Fault::Silent => {
                    let mut sink = [0u8; 4096];
                    while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
                    return;
                }
                Fault::Answer {
                    status,
                    reason,
                    content_type,
                    body,
                } => {
                    let body = if request.method == "HEAD" {
                        String::new()
                    } else {
                        body
                    };
                    let _ = write_response(
                        &mut client,
                        status,
                        reason,
                        &[
                            ("Content-Type", content_type.to_string()),
                            ("x-amz-request-id", "LOOPBACK".to_string()),
                            ("Connection", "close".to_string()),
                        ],
                        body.as_bytes(),
                    );
                }
            }
            let _ = client.shutdown(Shutdown::Both);
        });
        FaultProxy { listener, faulted }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.listener.addr)
    }

    /// The "METHOD target" of every request the rule did not forward, so far.
    pub fn faulted(&self) -> Vec<String> {
        self.faulted.lock().unwrap().clone()
    }
}

pub fn forward(
    request: &Request,
    upstream: SocketAddr,
    client: &mut TcpStream,
) -> std::io::Result<()> {
    let mut server = TcpStream::connect(upstream)?;
    server.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = String::from_utf8_lossy(&request.raw_head).into_owned();
    // One request per upstream connection.
    head = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let head = head.trim_end_matches("\r\n").to_string() + "\r\nConnection: close\r\n\r\n";
    server.write_all(head.as_bytes())?;
    if request.header("transfer-encoding").is_some() {
        // Re-frame a chunked body as one chunk.
        server.write_all(format!("{:x}\r\n", request.body.len()).as_bytes())?;
        server.write_all(&request.body)?;
        server.write_all(b"\r\n0\r\n\r\n")?;
    } else {
        server.write_all(&request.body)?;
    }
    server.flush()?;
    // Upstream closes after its answer (Connection: close); relay everything, then close too.
    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    let answer = rewrite_connection_close(&answer);
    client.write_all(&answer)?;
    client.flush()
}

/// Makes the response head say `Connection: close`, so the client opens a fresh connection
/// for its next request.
fn rewrite_connection_close(answer: &[u8]) -> Vec<u8> {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return answer.to_vec();
    };
    let head = String::from_utf8_lossy(&answer[..end]);
    let mut lines: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(&answer[end..]);
    out
}
