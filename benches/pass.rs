//! The end-to-end benchmark's helpers, driven by `benches/run.sh` (which documents the method):
//!
//! - `generate N DIR [INTERVAL]`: a registry of N artifacts (`DIR/registry.yaml`), a local
//!   store with its objects (`DIR/store/bench-bucket/…`, LastModified set through the mtime),
//!   the objects' keys (`DIR/objects.txt`) and the exact HEAD requests a pass at the same
//!   moment sends (`DIR/probes.txt`).
//! - `seed ENDPOINT BUCKET DIR`: creates the bucket on moto and uploads the registry (its
//!   artifacts pointed at BUCKET) and the objects.
//! - `serve-s3 PORT BUCKET DIR`: the fast in-memory S3 stand-in (`common/s3_standin.rs`)
//!   serving DIR's local store and registry as BUCKET, until killed.
//! - `baseline ENDPOINT BUCKET PROBES CONCURRENCY RUNS`: the bare loop the pass is compared
//!   with: the same HeadObject requests through `aws-sdk-s3`, same concurrency, one client;
//!   prints the median wall time of RUNS after a warm-up.
//! - `serve-generated PORT BUCKET N`: the stand-in serving a generated registry of N
//!   artifacts and its objects, made up in memory (no files: the million-artifact pass).
//! - `serve-sets PORT BUCKET SETS PARTITIONS`: the stand-in serving a registry of SETS
//!   expected sets of PARTITIONS partitions each, every set under its own prefix, and their
//!   objects, made up in memory (`common/sets.rs`; 1,000 of 5,000 are 5 million objects, no
//!   files): the sets benchmark, `benches/sets.sh` (BENCHMARKS.md, issue 26).
//! - `day-events N PASSES [WINDOW]`: the day benchmark with S3 events on
//!   (`common/day_events.rs`; batching windows of WINDOW seconds, 20 by default):
//!   PASSES passes polling only, then the same day with each landed object's event delivered
//!   to the intake, then again with the passes told of events (`OBJECT_EVENTS=on`); prints
//!   when rows turn fresh and RESOLVED go out after landing, the polls (not yet due and
//!   overdue), the requests and the invocations of each.
//! - `deadline-day N HOURS`: alert latency after the deadline with and without deadline passes
//!   (`common/deadline_day.rs`), HOURS of passes over N artifacts.
//! - `day N PASSES`: the day benchmark (`common/day.rs`): PASSES passes at 15-minute steps
//!   over N generated artifacts, alerts on, against in-process stand-ins, probing everything
//!   every pass and then with the ledger; asserts both send the same alerts at the same passes
//!   and prints the S3 requests of each.
//! - `history N DELAY_MS`: the daily history scan of N generated artifacts once the outcome
//!   log covers its window (`common/day_history.rs`), through the delaying proxy in front of
//!   an in-process stand-in; prints its requests and wall and CPU time by phase. With
//!   `first` after them: the first scan after a deploy (no log) against the scan before the
//!   log, `HISTORY_RUNS` times each, alternately.
//! - `serve-history PORT N`: the stand-in serving what `history N` scans (the generated
//!   registry and the compacted log covering its window, as `BUCKET`), until killed, for the
//!   function's own history run (`run --historical`) timed from outside: `benches/history.sh`.
//! - `proxy LISTEN_PORT UPSTREAM_PORT DELAY_MS`: a loopback TCP proxy that delays every chunk
//!   from client to server by DELAY_MS (so each request arrives DELAY_MS late, pipelined
//!   requests are not serialised). Runs until killed.
//! - `round-trips TRACE DELAY_MS`: a pass's sequential round trips, from the stand-in's trace
//!   (`STANDIN_TRACE`, `common/s3_standin.rs`) of a pass sent through the proxy at DELAY_MS:
//!   the longest chain of requests each arriving at least DELAY_MS / 2 after the one before
//!   it was answered (a request sent only after another's answer arrives a whole DELAY_MS
//!   after it; requests sent together arrive together). Prints the count, then the chain.
//! - `bootstrap BIN RUNS`: starts BIN as the Lambda runtime would (`AWS_LAMBDA_RUNTIME_API`
//!   pointing at a loopback listener) and measures exec to the first Runtime API request;
//!   prints the median in milliseconds.
//!
//! Without arguments (as under `cargo test --benches`) it prints this usage and exits.

mod common;

/// The binary's allocator (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[path = "common/day.rs"]
mod day;
#[path = "common/day_events.rs"]
mod day_events;
#[path = "common/deadline_day.rs"]
mod deadline_day;
#[path = "common/day_history.rs"]
mod day_history;
#[path = "common/s3_standin.rs"]
mod s3_standin;
#[path = "common/sets.rs"]
mod sets;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use common::{BUCKET, generate, memory_store, runtime};
use freshness_monitor::pass::{PassSettings, classify_registry};
use freshness_monitor::registry::parse_registry;
use freshness_monitor::store::memory::MemoryStore;
use freshness_monitor::store::{FetchedObject, ObjectMeta, ObjectStore, StoreError};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USAGE: &str = "usage: pass generate N DIR [INTERVAL_MINUTES] | seed ENDPOINT BUCKET DIR | \
                     serve-generated PORT BUCKET N | day N PASSES | day-events N PASSES [WINDOW] | deadline-day N HOURS | history N DELAY_MS [first] | serve-history PORT N | \
                     serve-sets PORT BUCKET SETS PARTITIONS | \
                     serve-s3 PORT BUCKET DIR | \
                     baseline ENDPOINT BUCKET PROBES CONCURRENCY RUNS | \
                     proxy LISTEN_PORT UPSTREAM_PORT DELAY_MS | round-trips TRACE DELAY_MS | \
                     bootstrap BIN RUNS";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["generate", n, dir] => generate_cmd(n.parse().unwrap(), Path::new(dir), 1440),
        ["generate", n, dir, interval] => generate_cmd(
            n.parse().unwrap(),
            Path::new(dir),
            interval.parse().unwrap(),
        ),
        ["seed", endpoint, bucket, dir] => runtime().block_on(seed(endpoint, bucket, dir)),
        ["serve-s3", port, bucket, dir] => {
            let dir = Path::new(dir);
            let registry = registry_for_bucket(dir, bucket);
            runtime().block_on(s3_standin::serve(
                port.parse().unwrap(),
                bucket,
                &dir.join("store").join(BUCKET),
                vec![(REGISTRY_KEY.to_string(), registry)],
            ))
        }
        ["baseline", endpoint, bucket, probes, concurrency, runs] => runtime().block_on(baseline(
            endpoint,
            bucket,
            probes,
            concurrency.parse().unwrap(),
            runs.parse().unwrap(),
        )),
        ["serve-generated", port, bucket, n] => {
            serve_generated(port.parse().unwrap(), bucket, n.parse().unwrap())
        }
        ["serve-sets", port, bucket, n_sets, partitions] => serve_sets(
            port.parse().unwrap(),
            bucket,
            n_sets.parse().unwrap(),
            partitions.parse().unwrap(),
        ),
        ["history", n, delay_ms] => {
            set_bench_credentials();
            day_history::at_scale(n.parse().unwrap(), delay_ms.parse().unwrap(), false)
        }
        ["serve-history", port, n] => day_history::serve(port.parse().unwrap(), n.parse().unwrap()),
        ["history", n, delay_ms, "first"] => {
            set_bench_credentials();
            day_history::at_scale(n.parse().unwrap(), delay_ms.parse().unwrap(), true)
        }
        ["day", n, passes] => {
            set_bench_credentials();
            day::day(n.parse().unwrap(), passes.parse().unwrap())
        }
        ["day-events", n, passes] => {
            set_bench_credentials();
            let window = day_events::WINDOW_SECONDS;
            day_events::day_events(n.parse().unwrap(), passes.parse().unwrap(), window)
        }
        ["day-events", n, passes, window] => {
            set_bench_credentials();
            let (n, passes) = (n.parse().unwrap(), passes.parse().unwrap());
            day_events::day_events(n, passes, window.parse().unwrap())
        }
        ["deadline-day", n, hours] => {
            set_bench_credentials();
            deadline_day::deadline_day(n.parse().unwrap(), hours.parse().unwrap())
        }
        ["proxy", listen, upstream, delay] => runtime().block_on(proxy(
            listen.parse().unwrap(),
            upstream.parse().unwrap(),
            Duration::from_millis(delay.parse().unwrap()),
        )),
        ["round-trips", trace, delay] => round_trips(Path::new(trace), delay.parse().unwrap()),
        ["bootstrap", bin, runs] => bootstrap(bin, runs.parse().unwrap()),
        _ => eprintln!("{USAGE}"),
    }
}

/// The stand-in serving a registry of `n` generated artifacts (its artifacts in `bucket`)
/// and their objects, made up in memory at the clock's now.
fn serve_generated(port: u16, bucket: &str, n: usize) {
    let (yaml, objects) = generate(n, Utc::now(), 1440);
    let registry = yaml
        .replacen(
            &format!("s3_bucket: {BUCKET}\n"),
            &format!("s3_bucket: {bucket}\n"),
            1,
        )
        .into_bytes();
    let objects = objects
        .into_iter()
        .map(|(key, meta)| (key, meta.last_modified))
        .collect();
    runtime().block_on(s3_standin::serve_objects(
        port,
        bucket,
        objects,
        vec![(REGISTRY_KEY.to_string(), registry)],
    ));
}

/// The stand-in serving `n_sets` generated sets of `partitions` (in `bucket`) and their
/// objects, made up in memory at the clock's now.
fn serve_sets(port: u16, bucket: &str, n_sets: usize, partitions: usize) {
    let (yaml, objects) = sets::generate_sets(n_sets, partitions, bucket, Utc::now());
    runtime().block_on(s3_standin::serve_objects(
        port,
        bucket,
        objects,
        vec![(REGISTRY_KEY.to_string(), yaml.into_bytes())],
    ));
}

fn generate_cmd(n: usize, dir: &Path, interval_minutes: u32) {
    let now = Utc::now();
    let (yaml, objects) = generate(n, now, interval_minutes);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("registry.yaml"), &yaml).unwrap();

    let store_root = dir.join("store").join(BUCKET);
    let mut listing =
        std::io::BufWriter::new(std::fs::File::create(dir.join("objects.txt")).unwrap());
    for (key, meta) in &objects {
        let path = store_root.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let file = std::fs::File::create(&path).unwrap();
        file.set_modified(SystemTime::from(meta.last_modified))
            .unwrap();
        writeln!(listing, "{key}").unwrap();
    }
    listing.flush().unwrap();

    // The HEADs a pass sends at this moment, in the order the pass would start them.
    let registry = parse_registry("registry.yaml", yaml.as_bytes()).unwrap();
    let n_objects = objects.len();
    let store = RecordingStore {
        inner: memory_store(objects),
        heads: Mutex::new(Vec::new()),
    };
    let settings = PassSettings {
        probe_concurrency: 1,
        ..PassSettings::default()
    };
    runtime().block_on(classify_registry(&store, &registry, &settings, now, None));
    let heads = store.heads.into_inner().unwrap();
    std::fs::write(dir.join("probes.txt"), heads.join("\n") + "\n").unwrap();
    println!(
        "generated {n} artifacts in {}: {} objects, {} probes",
        dir.display(),
        n_objects,
        heads.len()
    );
}

/// The generated objects in memory, recording the keys HEADed: the bare-SDK baseline replays
/// exactly the pass's probes. Like the store it wraps, it cannot list.
struct RecordingStore {
    inner: MemoryStore,
    heads: Mutex<Vec<String>>,
}

impl ObjectStore for RecordingStore {
    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.heads.lock().unwrap().push(key.to_string());
        self.inner.head(bucket, key).await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
        self.inner.get(bucket, key).await
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        ct: &str,
    ) -> Result<(), StoreError> {
        self.inner.put(bucket, key, body, ct).await
    }
}

/// The stand-in checks no signature, but the SDK needs credentials and a region to sign with;
/// set before the runtime starts any thread.
fn set_bench_credentials() {
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_REGION", "us-east-1"),
        ("STANDIN_QUIET", "1"),
    ] {
        if std::env::var_os(name).is_none() {
            // SAFETY: the process is still single-threaded here.
            #[allow(unsafe_code)]
            unsafe {
                std::env::set_var(name, value)
            };
        }
    }
}

async fn client(endpoint: &str) -> aws_sdk_s3::Client {
    // SAFETY: set before any thread reads the environment (the config loader reads it next).
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL", endpoint)
    };
    let config =
        freshness_monitor::aws::load_sdk_config(freshness_monitor::aws::CallTimeouts::default())
            .await;
    freshness_monitor::aws::s3_client(&config)
}

fn read_lines(path: &Path) -> Vec<String> {
    std::io::BufReader::new(std::fs::File::open(path).unwrap())
        .lines()
        .map(Result::unwrap)
        .filter(|l| !l.is_empty())
        .collect()
}

const REGISTRY_KEY: &str = "_freshness_monitor/ARTIFACT_REGISTRY.yaml";

/// The generated registry with its artifacts in `bucket` (it names the local store's bucket).
fn registry_for_bucket(dir: &Path, bucket: &str) -> Vec<u8> {
    std::fs::read_to_string(dir.join("registry.yaml"))
        .unwrap()
        .replacen(
            &format!("s3_bucket: {BUCKET}\n"),
            &format!("s3_bucket: {bucket}\n"),
            1,
        )
        .into_bytes()
}

async fn seed(endpoint: &str, bucket: &str, dir: &str) {
    let s3 = client(endpoint).await;
    let dir = PathBuf::from(dir);
    let _ = s3.create_bucket().bucket(bucket).send().await;
    s3.put_object()
        .bucket(bucket)
        .key(REGISTRY_KEY)
        .body(registry_for_bucket(&dir, bucket).into())
        .send()
        .await
        .expect("upload the registry");
    let keys = read_lines(&dir.join("objects.txt"));
    let started = Instant::now();
    let uploads = futures_util::stream::iter(keys.iter())
        .map(|key| {
            let s3 = s3.clone();
            async move {
                s3.put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(Vec::new().into())
                    .send()
                    .await
                    .expect("upload an object");
            }
        })
        .buffer_unordered(32)
        .count()
        .await;
    println!(
        "seeded s3://{bucket}: registry + {uploads} objects in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

async fn baseline(endpoint: &str, bucket: &str, probes: &str, concurrency: usize, runs: usize) {
    let s3 = client(endpoint).await;
    let keys = read_lines(Path::new(probes));
    let once = || async {
        let started = Instant::now();
        futures_util::stream::iter(keys.iter())
            .map(|key| {
                let s3 = &s3;
                async move {
                    // Present or absent, as the pass sees it; anything else is a broken setup.
                    match s3.head_object().bucket(bucket).key(key).send().await {
                        Ok(_) => true,
                        Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => false,
                        Err(e) => panic!("HEAD {key}: {e:?}"),
                    }
                }
            })
            .buffer_unordered(concurrency)
            .count()
            .await;
        started.elapsed()
    };
    once().await;
    let mut times = Vec::new();
    for _ in 0..runs {
        times.push(once().await);
    }
    times.sort();
    println!("{:.4}", times[times.len() / 2].as_secs_f64());
}

async fn proxy(listen: u16, upstream: u16, delay: Duration) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", listen))
        .await
        .unwrap();
    loop {
        let (client, _) = listener.accept().await.unwrap();
        tokio::spawn(async move {
            let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            // Client to server: each chunk leaves `delay` after it arrived, in order.
            let (tx, mut rx) =
                tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = client_read.read(&mut buf).await {
                    if n == 0
                        || tx
                            .send((tokio::time::Instant::now() + delay, buf[..n].to_vec()))
                            .is_err()
                    {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                while let Some((due, chunk)) = rx.recv().await {
                    tokio::time::sleep_until(due).await;
                    if server_write.write_all(&chunk).await.is_err() {
                        break;
                    }
                }
                let _ = server_write.shutdown().await;
            });
            let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        });
    }
}

/// One request of the stand-in's trace: microseconds from arrival to answer, and what it was.
struct Span {
    start: u64,
    end: u64,
    request: String,
}

fn round_trips(trace: &Path, delay_ms: u64) {
    let text = std::fs::read_to_string(trace).unwrap();
    let mut spans: Vec<Span> = (text.lines())
        .filter_map(|line| {
            let mut parts = line.splitn(3, ' ');
            let start = parts.next()?.parse().ok()?;
            let end = parts.next()?.parse().ok()?;
            let request = parts.next()?.to_string();
            Some(Span {
                start,
                end,
                request,
            })
        })
        .collect();
    spans.sort_by_key(|s| s.start);
    let gap = delay_ms * 1000 / 2;
    // depth[i]: the longest chain ending with spans[i]; came_from[i]: the one before it.
    let mut depth = vec![1usize; spans.len()];
    let mut came_from: Vec<Option<usize>> = vec![None; spans.len()];
    for i in 0..spans.len() {
        for j in 0..i {
            if spans[i].start >= spans[j].end + gap && depth[j] + 1 > depth[i] {
                depth[i] = depth[j] + 1;
                came_from[i] = Some(j);
            }
        }
    }
    let Some(mut at) = (0..spans.len()).max_by_key(|&i| depth[i]) else {
        println!("0");
        return;
    };
    let mut chain = vec![at];
    while let Some(before) = came_from[at] {
        chain.push(before);
        at = before;
    }
    chain.reverse();
    println!("{} round trips, {} requests", chain.len(), spans.len());
    let first = spans[0].start;
    for i in chain {
        let s = &spans[i];
        let (from, to) = (s.start - first, s.end - first);
        println!(
            "  +{:.1}..+{:.1} ms {}",
            from as f64 / 1e3,
            to as f64 / 1e3,
            s.request
        );
    }
}

fn bootstrap(bin: &str, runs: usize) {
    use std::io::Read;
    let mut times = Vec::new();
    for _ in 0..runs + 1 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let started = Instant::now();
        let mut child = std::process::Command::new(bin)
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "freshness-monitor")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
            .env("REGISTRY_BUCKET", "bench-bucket")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_SESSION_TOKEN", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the bootstrap");
        let (mut socket, _) = listener.accept().unwrap();
        // The request line is the first thing on the connection.
        let mut first = [0u8; 64];
        let n = socket.read(&mut first).unwrap();
        let elapsed = started.elapsed();
        assert!(
            first[..n].starts_with(b"GET /2018-06-01/runtime/invocation/next"),
            "unexpected first request: {}",
            String::from_utf8_lossy(&first[..n])
        );
        let _ = child.kill();
        let _ = child.wait();
        times.push(elapsed);
    }
    times.remove(0);
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{:.2} (min {:.2}, max {:.2})",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
}
