//! Where a big pass's bytes go (issue 17's 512 MB at a million artifacts), counted rather
//! than sampled: a global allocator that counts the bytes alive and their peak runs the
//! Lambda's own steps (`lambda::steps::run_steps`: ledger, registry, probes, ledger, outputs)
//! over N generated artifacts twice, a first pass (no ledger) and a steady one (the ledger
//! the first wrote), in observe mode as `benches/million.sh` does.
//!
//! The store keeps the generated objects in memory (counted once, before the passes, and
//! subtracted) and every written object in a temporary directory, so what the table shows is
//! the monitor's own heap. Each row is a stretch of the pass between two kinds of request
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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use common::{BUCKET, generate, runtime};
use freshness_monitor::lambda::steps::{PassSteps, run_steps};
use freshness_monitor::pass::PassSettings;
use freshness_monitor::settings::{DEFAULT_REGISTRY_KEY, Settings};
use freshness_monitor::store::{
    FetchedObject, ListPage, ListedObject, ObjectMeta, ObjectStore, StoreError, WriteCondition,
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

/// The generated objects in memory, written ones on disk, and the stretches of a pass.
struct StretchStore {
    objects: BTreeMap<String, ObjectMeta>,
    written: tempfile::TempDir,
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
        let written = tempfile::tempdir().expect("temp dir");
        let path = written.path().join(DEFAULT_REGISTRY_KEY.replace('/', "%"));
        std::fs::write(path, registry).expect("registry written");
        StretchStore {
            objects: objects.into_iter().collect(),
            written,
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

    fn path(&self, key: &str) -> PathBuf {
        self.written.path().join(key.replace('/', "%"))
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

impl ObjectStore for StretchStore {
    async fn head(&self, _bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.request(Self::kind("HEAD", key));
        if let Some(meta) = self.objects.get(key) {
            return Ok(Some(*meta));
        }
        Ok(std::fs::metadata(self.path(key)).ok().map(|m| ObjectMeta {
            last_modified: DateTime::<Utc>::from(m.modified().expect("mtime")),
            size: Some(m.len()),
        }))
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
        self.request(format!("GET {}", Self::named(key)));
        match std::fs::read(self.path(key)) {
            Ok(body) => Ok(FetchedObject {
                body,
                etag: Some(format!("\"{}\"", Self::named(key))),
            }),
            Err(_) => Err(StoreError::NotFound {
                bucket: bucket.into(),
                key: key.into(),
            }),
        }
    }

    async fn get_to_file(
        &self,
        bucket: &str,
        key: &str,
        to: &Path,
    ) -> Result<Option<String>, StoreError> {
        self.request(format!("GET {}", Self::named(key)));
        match std::fs::copy(self.path(key), to) {
            Ok(_) => Ok(Some(format!("\"{}\"", Self::named(key)))),
            Err(_) => Err(StoreError::NotFound {
                bucket: bucket.into(),
                key: key.into(),
            }),
        }
    }

    async fn list_page(
        &self,
        _bucket: &str,
        prefix: &str,
        continuation: Option<&str>,
        max_keys: u16,
    ) -> Result<ListPage, StoreError> {
        self.request(Self::kind("LIST", prefix));
        let after = continuation.unwrap_or(prefix);
        let objects: Vec<ListedObject> = (self.objects.range(after.to_string()..))
            .filter(|(key, _)| continuation.is_none_or(|c| key.as_str() > c))
            .take_while(|(key, _)| key.starts_with(prefix))
            .take(usize::from(max_keys) + 1)
            .map(|(key, meta)| ListedObject {
                key: key.clone(),
                meta: *meta,
            })
            .collect();
        let mut page = ListPage {
            objects,
            continuation: None,
        };
        if page.objects.len() > usize::from(max_keys) {
            page.objects.truncate(usize::from(max_keys));
            page.continuation = page.objects.last().map(|o| o.key.clone());
        }
        Ok(page)
    }

    async fn put(&self, _: &str, key: &str, body: Vec<u8>, _: &str) -> Result<(), StoreError> {
        self.request(format!("PUT {}", Self::named(key)));
        std::fs::write(self.path(key), body).map_err(|e| StoreError::Other(e.to_string()))
    }

    async fn put_file(&self, _: &str, key: &str, path: &Path, _: &str) -> Result<(), StoreError> {
        self.request(format!("PUT {}", Self::named(key)));
        std::fs::copy(path, self.path(key))
            .map(drop)
            .map_err(|e| StoreError::Other(e.to_string()))
    }

    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        if self.path(key).exists() {
            return Ok(false);
        }
        self.put(bucket, key, body, content_type)
            .await
            .map(|()| true)
    }

    async fn put_if_match(
        &self,
        bucket: &str,
        key: &str,
        _etag: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        self.put(bucket, key, body, content_type)
            .await
            .map(|()| true)
    }

    async fn put_file_if(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        condition: WriteCondition<'_>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        if condition == WriteCondition::Absent && self.path(key).exists() {
            return Ok(false);
        }
        self.put_file(bucket, key, path, content_type)
            .await
            .map(|()| true)
    }
}
