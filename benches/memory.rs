//! Where a big pass's bytes go (issue 17's 512 MB at a million artifacts), counted rather
//! than sampled: a global allocator that counts the bytes alive and their peak runs the
//! Lambda's own steps (`lambda::steps::run_steps`: ledger, registry, probes, ledger, outputs)
//! over N generated artifacts twice, a first pass (no ledger) and a steady one (the ledger
//! the first wrote), in observe mode as `benches/million.sh` does.
//!
//! The store keeps the generated objects in the in-memory store (counted once, before the
//! passes, and subtracted) and every written object in a local store in a temporary directory,
//! so what the table shows is the monitor's own heap. Each row is a stretch of the pass between two kinds of request
//! (the ledger's GET, the registry's GET, the probes, the ledger's PUT, the outputs' PUTs):
//! the peak bytes alive in it and what was alive when it ended, per artifact too.
//!
//!   cargo bench --profile dev --bench memory -- 200000 [2026-11-27T20:00:00Z]
//!
//! Allocation sizes do not depend on the optimisation level, so the dev profile measures the
//! same bytes as release, without release's long build. Heap bytes are not RSS: the
//! allocator's own overhead and fragmentation come on top (BENCHMARKS.md compares them).
//! Without an argument (as under `cargo test --benches`, whose `--…` flags it ignores) it prints
//! this usage and exits.

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use common::{BUCKET, generate, runtime};
use freshness_monitor::lambda::steps::{PassSteps, run_steps};
use freshness_monitor::pass::PassSettings;
use freshness_monitor::settings::{DEFAULT_REGISTRY_KEY, Settings};
use freshness_monitor::store::local::LocalDirStore;
use freshness_monitor::store::memory::MemoryStore;
use freshness_monitor::store::{
    FetchedObject, ListPage, ObjectMeta, ObjectStore, StoreError, WriteCondition,
};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{CountingAllocator, alive, take_peak};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Where the monitor's own files live (the default results and registry prefix).
const MONITOR_PREFIX: &str = "_freshness_monitor/";

const USAGE: &str = "usage: memory N [NOW]  (N generated artifacts, a first and a steady pass \
                     at NOW, RFC 3339, default the clock: which cycles have ticked decides \
                     what is probed)";

fn main() {
    // `cargo bench` passes `--bench`, `cargo test --all-targets -- --test-threads=N` (CI) its
    // own flags: neither is N.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.as_slice() {
        [n] => measure(n.parse().expect("N is a number"), Utc::now()),
        [n, now] => measure(
            n.parse().expect("N is a number"),
            now.parse().expect("NOW is an RFC 3339 time"),
        ),
        _ => eprintln!("{USAGE}"),
    }
}

fn measure(n: usize, now: DateTime<Utc>) {
    let (yaml, objects) = generate(n, now, 1440);
    let store = StretchStore::new(objects, yaml.into_bytes());
    let settings = Settings::from_lookup(|name| match name {
        "REGISTRY_BUCKET" => Some(BUCKET.to_string()),
        _ => None,
    })
    .expect("settings");
    let rt = runtime();
    // One warm container for both passes.
    let page_history = freshness_monitor::pass::PageHistoryCache::default();
    for pass in ["first", "steady"] {
        store.begin();
        let steps = PassSteps {
            settings: &settings,
            pass_settings: PassSettings::from_settings(&settings),
            alerter: None,
            now,
            dry_run: false,
            deadline: None,
            ledger_spares: true,
            page_history: &page_history,
            deadline_schedule: None,
        };
        let done = rt.block_on(run_steps(&store, &steps));
        let requests = done.outcome.requests.expect("counted");
        done.written.expect("outputs written");
        drop(done.outcome);
        store.end();
        println!(
            "{pass} pass, {n} artifacts: {} requests",
            requests.head + requests.list + requests.get + requests.put
        );
        store.print_stretches(n);
    }
}

/// The generated objects in memory, written ones (and the registry) on disk, and the stretches
/// of a pass.
struct StretchStore {
    objects: MemoryStore,
    written: LocalDirStore,
    _dir: tempfile::TempDir,
    /// Bytes alive once the store was built: the baseline subtracted from every figure.
    baseline: AtomicUsize,
    stretches: Mutex<Stretches>,
}

#[derive(Default)]
struct Stretches {
    /// The request kind the current stretch ends at, and what ended before it.
    current: Option<String>,
    done: Vec<(String, usize, usize)>,
}

impl StretchStore {
    fn new(objects: std::collections::HashMap<String, ObjectMeta>, registry: Vec<u8>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(BUCKET).join(DEFAULT_REGISTRY_KEY);
        std::fs::create_dir_all(path.parent().unwrap()).expect("registry's directory");
        std::fs::write(path, registry).expect("registry written");
        StretchStore {
            objects: MemoryStore::with_objects(BUCKET, objects),
            written: LocalDirStore::new(dir.path()),
            _dir: dir,
            baseline: AtomicUsize::new(0),
            stretches: Mutex::default(),
        }
    }

    fn begin(&self) {
        self.baseline.store(alive(), Ordering::Relaxed);
        take_peak();
        *self.stretches.lock().unwrap() = Stretches::default();
    }

    /// Closes the stretch before a request of `kind` when the kind changed.
    fn request(&self, kind: String) {
        let mut stretches = self.stretches.lock().unwrap();
        if stretches.current.as_deref() == Some(kind.as_str()) {
            return;
        }
        let before = stretches.current.replace(kind.clone());
        let label = match before {
            None => format!("until {kind}"),
            Some(before) => format!("{before} until {kind}"),
        };
        stretches.done.push((label, take_peak(), alive()));
    }

    fn end(&self) {
        let mut stretches = self.stretches.lock().unwrap();
        let label = format!(
            "{} until the end",
            stretches.current.take().unwrap_or_default()
        );
        stretches.done.push((label, take_peak(), alive()));
    }

    fn print_stretches(&self, n: usize) {
        let baseline = self.baseline.load(Ordering::Relaxed);
        let above = |bytes: usize| bytes.saturating_sub(baseline);
        let mut overall = 0;
        println!("| stretch | peak | B/artifact | alive at its end | B/artifact |");
        println!("| --- | ---: | ---: | ---: | ---: |");
        for (label, peak, end) in &self.stretches.lock().unwrap().done {
            overall = overall.max(above(*peak));
            println!(
                "| {label} | {:.1} MB | {} | {:.1} MB | {} |",
                above(*peak) as f64 / 1e6,
                above(*peak) / n,
                above(*end) as f64 / 1e6,
                above(*end) / n
            );
        }
        println!(
            "peak heap above the store: {:.1} MB, {} B/artifact\n",
            overall as f64 / 1e6,
            overall / n
        );
    }

    /// The probes are one kind; the monitor's own files are named.
    fn kind(request: &str, key: &str) -> String {
        if key.starts_with(MONITOR_PREFIX) {
            format!("{request} {}", Self::named(key))
        } else {
            "the probes".to_string()
        }
    }

    fn named(key: &str) -> String {
        Path::new(key)
            .file_name()
            .map_or(key.to_string(), |name| name.to_string_lossy().into_owned())
    }
}

/// Reads of the generated objects go to memory, everything else to the directory.
impl ObjectStore for StretchStore {
    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.request(Self::kind("HEAD", key));
        match self.objects.head(bucket, key).await? {
            Some(meta) => Ok(Some(meta)),
            None => self.written.head(bucket, key).await,
        }
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
        self.request(format!("GET {}", Self::named(key)));
        self.written.get(bucket, key).await
    }

    async fn get_to_file(
        &self,
        bucket: &str,
        key: &str,
        to: &Path,
    ) -> Result<Option<String>, StoreError> {
        self.request(format!("GET {}", Self::named(key)));
        self.written.get_to_file(bucket, key, to).await
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation: Option<&str>,
        max_keys: u16,
    ) -> Result<ListPage, StoreError> {
        self.request(Self::kind("LIST", prefix));
        (self.objects)
            .list_page(bucket, prefix, continuation, max_keys)
            .await
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        ct: &str,
    ) -> Result<(), StoreError> {
        self.request(format!("PUT {}", Self::named(key)));
        self.written.put(bucket, key, body, ct).await
    }

    async fn put_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        ct: &str,
    ) -> Result<(), StoreError> {
        self.request(format!("PUT {}", Self::named(key)));
        self.written.put_file(bucket, key, path, ct).await
    }

    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        self.request(format!("PUT {}", Self::named(key)));
        self.written
            .put_if_absent(bucket, key, body, content_type)
            .await
    }

    async fn put_if_match(
        &self,
        bucket: &str,
        key: &str,
        etag: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        self.request(format!("PUT {}", Self::named(key)));
        (self.written)
            .put_if_match(bucket, key, etag, body, content_type)
            .await
    }

    async fn put_file_if(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        condition: WriteCondition<'_>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        self.request(format!("PUT {}", Self::named(key)));
        (self.written)
            .put_file_if(bucket, key, path, condition, content_type)
            .await
    }
}
