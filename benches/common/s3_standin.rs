//! A fast in-memory S3 stand-in for the latency benchmark: HeadObject, GetObject, PutObject
//! (with `If-None-Match: *` and `If-Match`, as the dedup claims and the ledger use them),
//! DeleteObject and ListObjectsV2 on path-style URLs, over HTTP/1.1 keep-alive, nothing else.
//! A PUT carrying `x-amz-meta-last-modified` (RFC 3339) gets that LastModified instead of the
//! clock's: the day benchmark lands producers' objects at simulated times that way.
//!
//! Why it exists: moto answers ~200 requests per second on this machine, so behind the 20 ms
//! latency proxy a pass measures moto, not the pass. In-region S3 serves thousands of HEADs
//! per second per prefix; what bounds a pass there is latency over concurrency. This server
//! answers in microseconds, so with the proxy in front of it the figure is the pass's own
//! behaviour under latency. Objects come from a generated local store (their LastModified is
//! the file's mtime), so the states match `check --store` exactly. Requests are not signed
//! checked: the SDK signs them as usual, the stand-in does not verify.
//!
//! With `STANDIN_TRACE=FILE` in its environment it appends one line per request to FILE:
//! `START_US END_US METHOD TARGET`, microseconds since it started, from the request line's
//! arrival to the answer written; `pass round-trips FILE DELAY_MS` reads the pass's
//! sequential round trips from it (BENCHMARKS.md, "Round trips").

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use chrono::{DateTime, Utc};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

struct StoredObject {
    last_modified: SystemTime,
    body: Vec<u8>,
    /// Changes on every write (the ETag is its hex).
    version: u64,
}

/// In key order (`bucket/key`), so a listing is a range.
type Objects = Arc<Mutex<BTreeMap<String, StoredObject>>>;

/// What a request carries besides its method and key.
#[derive(Default)]
struct RequestParts {
    query: String,
    if_none_match: Option<String>,
    if_match: Option<String>,
    meta_last_modified: Option<String>,
}

/// Serves `bucket` with every file under `root` (its path relative to `root` is the key) plus
/// `extra` objects, on `127.0.0.1:port`, until the process is killed.
pub async fn serve(port: u16, bucket: &str, root: &Path, extra: Vec<(String, Vec<u8>)>) {
    let mut objects = BTreeMap::new();
    load_tree(root, root, bucket, &mut objects);
    for (key, body) in extra {
        objects.insert(
            format!("{bucket}/{key}"),
            StoredObject {
                last_modified: SystemTime::now(),
                body,
                version: 1,
            },
        );
    }
    eprintln!("s3 stand-in: {} objects in {bucket}", objects.len());
    accept_forever(port, Arc::new(Mutex::new(objects))).await
}

/// Serves `bucket` with `objects` (key, LastModified) made up in memory (empty bodies) plus
/// `extra`: the million-artifact benchmark's store, with no million files on disk.
pub async fn serve_objects(
    port: u16,
    bucket: &str,
    objects: Vec<(String, DateTime<Utc>)>,
    extra: Vec<(String, Vec<u8>)>,
) {
    let mut stored: BTreeMap<String, StoredObject> = objects
        .into_iter()
        .map(|(key, last_modified)| {
            let object = StoredObject {
                last_modified: last_modified.into(),
                body: Vec::new(),
                version: 1,
            };
            (format!("{bucket}/{key}"), object)
        })
        .collect();
    for (key, body) in extra {
        let object = StoredObject {
            last_modified: SystemTime::now(),
            body,
            version: 1,
        };
        stored.insert(format!("{bucket}/{key}"), object);
    }
    eprintln!("s3 stand-in: {} objects in {bucket}", stored.len());
    accept_forever(port, Arc::new(Mutex::new(stored))).await
}

/// Serves `objects` on the loopback `port`, one task per connection, until killed.
async fn accept_forever(port: u16, objects: Objects) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    trace_sink(); // The trace's times count from here.
    loop {
        let (socket, _) = listener.accept().await.unwrap();
        let objects = objects.clone();
        tokio::spawn(async move {
            let _ = socket.set_nodelay(true);
            let _ = serve_connection(socket, objects).await;
        });
    }
}

fn load_tree(root: &Path, dir: &Path, bucket: &str, objects: &mut BTreeMap<String, StoredObject>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            load_tree(root, &path, bucket, objects);
        } else {
            let key = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            objects.insert(
                format!("{bucket}/{key}"),
                StoredObject {
                    last_modified: meta.modified().unwrap(),
                    body: std::fs::read(&path).unwrap(),
                    version: 1,
                },
            );
        }
    }
}

async fn serve_connection(socket: TcpStream, objects: Objects) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let arrived = Instant::now();
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut content_length = 0usize;
        let mut chunked = false;
        let mut aws_chunked = false;
        let mut expect_continue = false;
        let mut parts = RequestParts::default();
        loop {
            line.clear();
            if read.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => content_length = value.parse().unwrap_or(0),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                // A streamed body (`ByteStream::from_path`) with its checksum in a trailer.
                "content-encoding" => aws_chunked = value.contains("aws-chunked"),
                "expect" => expect_continue = value.eq_ignore_ascii_case("100-continue"),
                "if-none-match" => parts.if_none_match = Some(value.to_string()),
                "if-match" => parts.if_match = Some(value.to_string()),
                "x-amz-meta-last-modified" => parts.meta_last_modified = Some(value.to_string()),
                _ => {}
            }
        }
        if expect_continue {
            write.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        let mut body = if chunked {
            read_chunked(&mut read).await?
        } else {
            let mut body = vec![0u8; content_length];
            read.read_exact(&mut body).await?;
            body
        };
        if aws_chunked {
            body = read_chunked(&mut &body[..]).await?;
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let key = percent_decode(path.trim_start_matches('/'));
        parts.query = query.to_string();
        let response = respond(&method, &key, body, &parts, &objects);
        write.write_all(&response).await?;
        trace(arrived, &method, &target);
    }
}

/// The trace file named by `STANDIN_TRACE`, and the instant its times count from.
fn trace_sink() -> &'static Option<(Mutex<std::fs::File>, Instant)> {
    static SINK: OnceLock<Option<(Mutex<std::fs::File>, Instant)>> = OnceLock::new();
    SINK.get_or_init(|| {
        let path = std::env::var_os("STANDIN_TRACE")?;
        let file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(path);
        Some((
            Mutex::new(file.expect("open STANDIN_TRACE")),
            Instant::now(),
        ))
    })
}

/// Appends one request's span to the trace file, when there is one.
fn trace(arrived: Instant, method: &str, target: &str) {
    if let Some((file, epoch)) = trace_sink() {
        let us = |t: Instant| t.saturating_duration_since(*epoch).as_micros();
        let line = format!("{} {} {method} {target}\n", us(arrived), us(Instant::now()));
        let _ = file.lock().unwrap().write_all(line.as_bytes());
    }
}

async fn read_chunked<R: tokio::io::AsyncBufRead + Unpin>(
    read: &mut R,
) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        read.read_line(&mut line).await?;
        let size =
            usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if size == 0 {
            // Trailers, then the blank line.
            loop {
                line.clear();
                if read.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        read.read_exact(&mut body[start..]).await?;
        line.clear();
        read.read_line(&mut line).await?;
    }
}

fn respond(
    method: &str,
    key: &str,
    body: Vec<u8>,
    parts: &RequestParts,
    objects: &Objects,
) -> Vec<u8> {
    let mut objects = objects.lock().unwrap();
    if let Some(response) = multipart(method, key, &body, parts, &mut objects) {
        return response;
    }
    match method {
        "GET" if parts.query.contains("list-type=2") => {
            list_objects(key.trim_end_matches('/'), &parts.query, &objects)
        }
        "HEAD" | "GET" => match objects.get(key) {
            Some(object) => {
                let modified: DateTime<Utc> = object.last_modified.into();
                let mut response = format!(
                    "HTTP/1.1 200 OK\r\nLast-Modified: {}\r\nETag: \"{:x}\"\r\n\
                     Content-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
                    modified.format("%a, %d %b %Y %H:%M:%S GMT"),
                    object.version,
                    object.body.len()
                )
                .into_bytes();
                if method == "GET" {
                    response.extend_from_slice(&object.body);
                }
                response
            }
            None => {
                let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
                           <Message>The specified key does not exist.</Message></Error>";
                let mut response = format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n",
                    xml.len()
                )
                .into_bytes();
                if method == "GET" {
                    response.extend_from_slice(xml.as_bytes());
                }
                response
            }
        },
        "PUT" => {
            let existing = objects.get(key).map(|o| o.version);
            let precondition_failed = match (&parts.if_none_match, &parts.if_match) {
                (Some(_), _) => existing.is_some(),
                (None, Some(etag)) => {
                    existing.is_none_or(|v| etag.trim_matches('"') != format!("{v:x}"))
                }
                (None, None) => false,
            };
            if precondition_failed {
                let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\
                           <Code>PreconditionFailed</Code><Message>At least one of the \
                           pre-conditions you specified did not hold</Message></Error>";
                return format!(
                    "HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/xml\r\n\
                     Content-Length: {}\r\n\r\n{xml}",
                    xml.len()
                )
                .into_bytes();
            }
            // The benchmark reads the size of what a pass or a history scan wrote from here.
            if std::env::var_os("STANDIN_QUIET").is_none() {
                eprintln!("PUT {key} {}", body.len());
            }
            let last_modified = parts
                .meta_last_modified
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map_or_else(SystemTime::now, |t| t.with_timezone(&Utc).into());
            let version = existing.unwrap_or(0) + 1;
            objects.insert(
                key.to_string(),
                StoredObject {
                    last_modified,
                    body,
                    version,
                },
            );
            format!("HTTP/1.1 200 OK\r\nETag: \"{version:x}\"\r\nContent-Length: 0\r\n\r\n")
                .into_bytes()
        }
        "DELETE" => {
            objects.remove(key);
            b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()
        }
        _ => b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n".to_vec(),
    }
}

/// Uploads in parts not completed yet, by upload id: the parts by number (S3 orders an
/// object's parts by number, not by when they were sent: `history.json`'s part 1 comes last).
static UPLOADS: Mutex<BTreeMap<String, BTreeMap<i32, Part>>> = Mutex::new(BTreeMap::new());

/// A part's bytes, or only their count for an object the stand-in does not keep.
enum Part {
    Kept(Vec<u8>),
    Counted(usize),
}

/// The objects whose uploads are counted and their bodies dropped: `history.json` (~8 GB at a
/// million artifacts) and the compacted log the scan writes back (~1 GB); the previous object
/// at the key stays. Everything else (the page's digest) is kept and can be read back.
fn discarded(key: &str) -> bool {
    key.ends_with("history.json") || key.ends_with("history_outcomes.ndjson.gz")
}

/// CreateMultipartUpload (`POST ?uploads`), UploadPart (`PUT ?partNumber=N&uploadId=ID`),
/// CompleteMultipartUpload (`POST ?uploadId=ID`: the parts, by number, become the object) and
/// AbortMultipartUpload (`DELETE ?uploadId=ID`); `None` for any other request.
fn multipart(
    method: &str,
    key: &str,
    body: &[u8],
    parts: &RequestParts,
    objects: &mut BTreeMap<String, StoredObject>,
) -> Option<Vec<u8>> {
    let query = &parts.query;
    let upload_id = (query.split('&'))
        .find_map(|p| p.strip_prefix("uploadId="))
        .map(str::to_string);
    let part_number: i32 = (query.split('&'))
        .find_map(|p| p.strip_prefix("partNumber="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut uploads = UPLOADS.lock().unwrap();
    let xml = |body: String| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let (bucket, object) = key.split_once('/').unwrap_or((key, ""));
    match (method, upload_id) {
        ("POST", None) if query.split('&').any(|p| p == "uploads" || p == "uploads=") => {
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
            let id = format!(
                "u{}",
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            );
            uploads.insert(id.clone(), BTreeMap::new());
            Some(xml(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult>\
                 <Bucket>{bucket}</Bucket><Key>{}</Key><UploadId>{id}</UploadId>\
                 </InitiateMultipartUploadResult>",
                xml_escape(object)
            )))
        }
        ("PUT", Some(id)) => {
            let held = uploads.get_mut(&id)?;
            let part = match discarded(key) {
                true => Part::Counted(body.len()),
                false => Part::Kept(body.to_vec()),
            };
            held.insert(part_number, part);
            let n = part_number;
            Some(
                format!("HTTP/1.1 200 OK\r\nETag: \"p{n}\"\r\nContent-Length: 0\r\n\r\n")
                    .into_bytes(),
            )
        }
        // A retried completion (the first answer lost or late) finds the object made.
        ("POST", Some(id)) if !uploads.contains_key(&id) && objects.contains_key(key) => {
            Some(xml(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult>\
                 <Bucket>{bucket}</Bucket><Key>{}</Key></CompleteMultipartUploadResult>",
                xml_escape(object)
            )))
        }
        ("POST", Some(id)) => {
            let held = uploads.remove(&id)?;
            let n_parts = held.len();
            let (mut body, mut counted) = (Vec::new(), 0);
            for part in held.into_values() {
                match part {
                    Part::Kept(bytes) => body.extend(bytes),
                    Part::Counted(n) => counted += n,
                }
            }
            if std::env::var_os("STANDIN_QUIET").is_none() {
                let (bytes, dropped) = match discarded(key) {
                    true => (counted, ", body dropped"),
                    false => (body.len(), ""),
                };
                eprintln!("PUT {key} {bytes} ({n_parts} parts{dropped})");
            }
            if discarded(key) {
                return Some(xml(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult>\
                     <Bucket>{bucket}</Bucket><Key>{}</Key><ETag>\"dropped\"</ETag>\
                     </CompleteMultipartUploadResult>",
                    xml_escape(object)
                )));
            }
            let version = objects.get(key).map_or(0, |o| o.version) + 1;
            let stored = StoredObject {
                last_modified: SystemTime::now(),
                body,
                version,
            };
            objects.insert(key.to_string(), stored);
            Some(xml(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult>\
                 <Bucket>{bucket}</Bucket><Key>{}</Key><ETag>\"{version:x}\"</ETag>\
                 </CompleteMultipartUploadResult>",
                xml_escape(object)
            )))
        }
        ("DELETE", Some(id)) => {
            uploads.remove(&id);
            Some(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec())
        }
        _ => None,
    }
}

/// ListObjectsV2 of `bucket` (the path) with the query's `prefix`, `max-keys` and
/// `continuation-token` (the last key of the previous page).
fn list_objects(bucket: &str, query: &str, objects: &BTreeMap<String, StoredObject>) -> Vec<u8> {
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| percent_decode(&v.replace('+', " ")))
    };
    let prefix = param("prefix").unwrap_or_default();
    let max_keys: usize = param("max-keys")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let full_prefix = format!("{bucket}/{prefix}");
    let start = match param("continuation-token") {
        Some(after) => std::ops::Bound::Excluded(format!("{bucket}/{after}")),
        None => std::ops::Bound::Included(full_prefix.clone()),
    };
    let mut listed = objects
        .range((start, std::ops::Bound::Unbounded))
        .take_while(|(k, _)| k.starts_with(&full_prefix));
    let mut contents = String::new();
    let mut count = 0;
    let mut last = None;
    for (key, object) in listed.by_ref().take(max_keys) {
        let key = &key[bucket.len() + 1..];
        let modified: DateTime<Utc> = object.last_modified.into();
        contents.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>\"{:x}\"</ETag>\
             <Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            xml_escape(key),
            modified.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            object.version,
            object.body.len()
        ));
        count += 1;
        last = Some(key.to_string());
    }
    let truncated = listed.next().is_some();
    let next = match (truncated, last) {
        (true, Some(last)) => format!(
            "<NextContinuationToken>{}</NextContinuationToken>",
            xml_escape(&last)
        ),
        _ => String::new(),
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult><Name>{bucket}</Name>\
         <Prefix>{}</Prefix><KeyCount>{count}</KeyCount><MaxKeys>{max_keys}</MaxKeys>\
         <IsTruncated>{truncated}</IsTruncated>{next}{contents}</ListBucketResult>",
        xml_escape(&prefix)
    );
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n",
        xml.len()
    )
    .into_bytes();
    response.extend_from_slice(xml.as_bytes());
    response
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
