//! Writing `status.html` beside the pass's other outputs (docs/outputs.md#statushtml): read
//! the last history scan's digest (`history_digest.ndjson.gz`, or `history.json` when a scan
//! from before digests left none) from the same prefix when it is small enough, render the
//! page ([`crate::page`]), PUT it. The page never fails because of the history: a history that
//! cannot be used is said on the page.
//!
//! The digest changes about once a day (the daily scan) but is read by every pass: a warm
//! container keeps what it read with its ETag ([`PageHistoryCache`]), and a pass HEADs the
//! file and GETs it again only when the ETag changed.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::PassOutcome;
use crate::page::digest_file::read_digest;
use crate::page::{
    DEFAULT_PASS_INTERVAL, HistoryDigest, PageHistory, PageInput, render_status_page,
};
use crate::report::files::{HISTORY, HISTORY_DIGEST, STATUS_PAGE};
use crate::settings::OutputLocation;
use crate::store::{ObjectStore, StoreError};

/// The largest `history.json` a pass reads for its page: ~8,000 artifacts of the benchmark's
/// mix (~3.7 kB each compact). Reading and parsing it costs the pass ~0.1 s and its size in
/// memory; above it the page shows no strips and says why (`history --html` draws them).
pub const HISTORY_MAX_BYTES_FOR_PAGE: u64 = 32_000_000;

/// What a warm container keeps of `history.json` between passes: the page's history as last
/// read, under the object's ETag. Empty in a new container (and for `run` and tests that
/// make one per pass); forgotten when the file is gone or over the cap.
#[derive(Debug, Default)]
pub struct PageHistoryCache(Mutex<Option<CachedHistory>>);

#[derive(Debug)]
struct CachedHistory {
    bucket: String,
    key: String,
    etag: String,
    history: Arc<PageHistory>,
}

impl PageHistoryCache {
    /// The history read from `bucket`/`key` when it had `etag`.
    fn get(&self, bucket: &str, key: &str, etag: &str) -> Option<Arc<PageHistory>> {
        let cached = self.0.lock().expect("not poisoned");
        cached
            .as_ref()
            .filter(|c| c.bucket == bucket && c.key == key && c.etag == etag)
            .map(|c| Arc::clone(&c.history))
    }

    fn keep(&self, bucket: &str, key: &str, etag: String, history: Arc<PageHistory>) {
        *self.0.lock().expect("not poisoned") = Some(CachedHistory {
            bucket: bucket.to_string(),
            key: key.to_string(),
            etag,
            history,
        });
    }

    fn forget(&self) {
        *self.0.lock().expect("not poisoned") = None;
    }
}

/// Renders and writes `status.html` at `now`, with the history `cache` keeps when
/// `history.json` has not changed since it was read.
pub async fn put_status_page<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    outcome: &PassOutcome,
    now: DateTime<Utc>,
    cache: &PageHistoryCache,
) -> Result<(), StoreError> {
    let history = read_history(store, location, cache).await;
    put_status_page_with(store, location, outcome, now, &history).await
}

/// The history the page will draw, read before the page is written: a pass reads it with its
/// other inputs (`lambda::steps`), so the page's PUT goes out with the other outputs.
pub async fn read_page_history<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    cache: &PageHistoryCache,
) -> Arc<PageHistory> {
    read_history(store, location, cache).await
}

/// Renders and writes `status.html` at `now` with a `history` already read.
pub async fn put_status_page_with<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    outcome: &PassOutcome,
    now: DateTime<Utc>,
    history: &PageHistory,
) -> Result<(), StoreError> {
    let page = render_page(outcome, now, history);
    let key = format!("{}{STATUS_PAGE}", location.prefix);
    store
        .put(&location.bucket, &key, page, PAGE_CONTENT_TYPE)
        .await
}

/// `status.html`'s content type.
pub const PAGE_CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// The page's bytes at `now` with a `history` already read.
pub fn render_page(outcome: &PassOutcome, now: DateTime<Utc>, history: &PageHistory) -> Vec<u8> {
    render_status_page(&PageInput {
        outcome,
        history,
        now,
        pass_interval: DEFAULT_PASS_INTERVAL,
    })
    .into_bytes()
}

/// The history the page draws from: none, a digest, or why it cannot be used. The scan's
/// digest (`history_digest.ndjson.gz`), or `history.json` when there is no digest (a scan
/// written before digests existed). One HEAD of each file looked for; a GET only when
/// `cache` holds nothing read under the ETag the HEAD gave.
async fn read_history<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    cache: &PageHistoryCache,
) -> Arc<PageHistory> {
    let digest = PageSource {
        key: format!("{}{HISTORY_DIGEST}", location.prefix),
        name: HISTORY_DIGEST,
        max_bytes: DIGEST_MAX_BYTES_FOR_PAGE,
        parse: digest_of_gz,
    };
    if let Some(history) = read_kept(store, &location.bucket, &digest, cache).await {
        return history;
    }
    let file = PageSource {
        key: format!("{}{HISTORY}", location.prefix),
        name: HISTORY,
        max_bytes: HISTORY_MAX_BYTES_FOR_PAGE,
        parse: |bytes| HistoryDigest::from_json(bytes).map_err(|e| e.to_string()),
    };
    match read_kept(store, &location.bucket, &file, cache).await {
        Some(history) => history,
        None => {
            cache.forget();
            Arc::new(PageHistory::None)
        }
    }
}

/// The largest digest a pass reads for its page (gzipped).
pub const DIGEST_MAX_BYTES_FOR_PAGE: u64 = 16_000_000;

/// A file the page's history can be read from.
struct PageSource {
    key: String,
    name: &'static str,
    max_bytes: u64,
    parse: fn(&[u8]) -> Result<HistoryDigest, String>,
}

/// The digest's gzipped lines.
fn digest_of_gz(bytes: &[u8]) -> Result<HistoryDigest, String> {
    let lines = std::io::BufReader::new(flate2::read::GzDecoder::new(bytes));
    read_digest(lines)
}

/// The page's history from `source`, kept or read; `None` when the file does not exist.
async fn read_kept<S: ObjectStore>(
    store: &S,
    bucket: &str,
    source: &PageSource,
    cache: &PageHistoryCache,
) -> Option<Arc<PageHistory>> {
    let (key, name) = (&source.key, source.name);
    let unavailable = |why: String| {
        tracing::warn!("status page without history: {why}");
        Some(Arc::new(PageHistory::Unavailable(why)))
    };
    let head_etag = match store.head_etag(bucket, key).await {
        Ok(None) | Err(StoreError::NotFound { .. }) => return None,
        Ok(Some((meta, _))) if meta.size.unwrap_or(0) > source.max_bytes => {
            cache.forget();
            return unavailable(format!(
                "{name} is {:.1} MB, more than the {} MB a pass reads for this page; \
                 `freshness-monitor history --html FILE` draws the strips locally.",
                meta.size.unwrap_or(0) as f64 / 1e6,
                source.max_bytes / 1_000_000
            ));
        }
        Ok(Some((_, etag))) => etag,
        Err(e) => return unavailable(format!("{name} could not be read: {e}")),
    };
    if let Some(kept) = (head_etag.as_deref()).and_then(|etag| cache.get(bucket, key, etag)) {
        return Some(kept);
    }
    let fetched = match store.get(bucket, key).await {
        Ok(fetched) => fetched,
        Err(e) => return unavailable(format!("{name} could not be read: {e}")),
    };
    let history = match (source.parse)(&fetched.body) {
        Ok(digest) => Arc::new(PageHistory::Digest(digest)),
        Err(e) => unavailable(format!("{name} is not readable: {e}"))?,
    };
    // Kept under the ETag of what was read (the HEAD's when the GET has none): a body that
    // changed between the two is read again next time, never kept under a newer ETag.
    match fetched.etag.or(head_etag) {
        Some(etag) => cache.keep(bucket, key, etag, Arc::clone(&history)),
        None => cache.forget(),
    }
    Some(history)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::local::LocalDirStore;

    fn location() -> OutputLocation {
        OutputLocation {
            bucket: "results".to_string(),
            prefix: "p/".to_string(),
        }
    }

    /// A local store with `history.json` holding `body` (none when `None`).
    fn store_with(body: Option<&str>) -> (tempfile::TempDir, LocalDirStore) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("results/p")).unwrap();
        if let Some(body) = body {
            std::fs::write(dir.path().join("results/p/history.json"), body).unwrap();
        }
        let store = LocalDirStore::new(dir.path());
        (dir, store)
    }

    #[tokio::test]
    async fn the_page_says_whether_history_json_is_absent_unreadable_or_drawn() {
        let (_dir, store) = store_with(None);
        assert!(matches!(
            *read_history(&store, &location(), &PageHistoryCache::default()).await,
            PageHistory::None
        ));
        let (_dir, store) = store_with(Some("{not json"));
        match &*read_history(&store, &location(), &PageHistoryCache::default()).await {
            PageHistory::Unavailable(why) => {
                assert!(why.starts_with("history.json is not readable: "), "{why}")
            }
            other => panic!("{other:?}"),
        }
        let valid = r#"{"generated_at": "2026-11-27T04:00:00Z", "artifacts": {"a": {"history":
            [{"cycle_label": "2026-11-26", "expected": true, "present": true, "on_time": true,
              "minutes_late": 0}]}}}"#;
        let (_dir, store) = store_with(Some(valid));
        match &*read_history(&store, &location(), &PageHistoryCache::default()).await {
            PageHistory::Digest(digest) => assert_eq!(digest.artifacts["a"].sla.on_time, 1),
            other => panic!("{other:?}"),
        }
    }

    /// `history_digest.ndjson.gz` of one artifact `d` with one on-time cycle.
    fn digest_gz() -> Vec<u8> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(
            br#"{"history_digest":1,"generated_at":"2026-11-28T04:00:00Z","n_artifacts":1,"strip_cells":12}
{"id":"d","sla":[1,1,0,0,0],"strip":[["2026-11-27","o"]]}
"#,
        )
        .unwrap();
        gz.finish().unwrap()
    }

    #[tokio::test]
    async fn the_page_reads_the_digest_and_history_json_only_when_there_is_no_digest() {
        use crate::store::counting::CountingStore;
        let valid = r#"{"generated_at": "2026-11-27T04:00:00Z", "artifacts": {"a": {"history":
            [{"cycle_label": "2026-11-26", "expected": true, "present": true, "on_time": true,
              "minutes_late": 0}]}}}"#;
        let (dir, local) = store_with(Some(valid));
        let read = || async {
            let store = CountingStore::new(&local);
            let history = read_history(&store, &location(), &PageHistoryCache::default()).await;
            let counts = store.counts();
            let ids: Vec<String> = (history.digest().unwrap().artifacts.keys().cloned()).collect();
            ((counts.head, counts.get), ids)
        };
        assert_eq!(
            read().await,
            ((2, 1), vec!["a".to_string()]),
            "no digest: history.json"
        );
        let digest = dir.path().join("results/p/history_digest.ndjson.gz");
        std::fs::write(&digest, digest_gz()).unwrap();
        assert_eq!(
            read().await,
            ((1, 1), vec!["d".to_string()]),
            "the digest, and only it"
        );
        std::fs::write(&digest, b"not gzip").unwrap();
        let history = read_history(&local, &location(), &PageHistoryCache::default()).await;
        match &*history {
            PageHistory::Unavailable(why) => assert!(
                why.starts_with("history_digest.ndjson.gz is not readable: "),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_history_json_over_the_cap_is_not_read_and_the_page_says_why() {
        let (dir, store) = store_with(Some("{}"));
        let file = std::fs::File::options()
            .write(true)
            .open(dir.path().join("results/p/history.json"))
            .unwrap();
        file.set_len(HISTORY_MAX_BYTES_FOR_PAGE + 1).unwrap();
        match &*read_history(&store, &location(), &PageHistoryCache::default()).await {
            PageHistory::Unavailable(why) => assert!(
                why.starts_with("history.json is 32.0 MB, more than the 32 MB a pass reads"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_kept_history_is_not_read_again_until_its_etag_changes() {
        use crate::store::counting::CountingStore;
        let valid = |day: &str| {
            format!(
                r#"{{"generated_at": "2026-11-{day}T04:00:00Z", "artifacts": {{"a": {{"history":
                [{{"cycle_label": "2026-11-26", "expected": true, "present": true,
                  "on_time": true, "minutes_late": 0}}]}}}}}}"#
            )
        };
        let (dir, local) = store_with(Some(&valid("27")));
        let file = dir.path().join("results/p/history.json");
        let cache = PageHistoryCache::default();
        let read = || async {
            let store = CountingStore::new(&local);
            let history = read_history(&store, &location(), &cache).await;
            let counts = store.counts();
            let generated = history.digest().map(|d| d.generated_at.to_rfc3339());
            ((counts.head, counts.get), generated)
        };
        // Each read HEADs the digest (absent here) and then history.json.
        let generated = |day: &str| Some(format!("2026-11-{day}T04:00:00+00:00"));
        assert_eq!(read().await, ((2, 1), generated("27")), "first read");
        assert_eq!(read().await, ((2, 0), generated("27")), "unchanged: kept");
        std::fs::write(&file, valid("28")).unwrap();
        assert_eq!(
            read().await,
            ((2, 1), generated("28")),
            "rewritten: read again"
        );
        assert_eq!(read().await, ((2, 0), generated("28")));
        std::fs::remove_file(&file).unwrap();
        assert_eq!(read().await, ((2, 0), None), "gone: no history");
        std::fs::write(&file, valid("28")).unwrap();
        assert_eq!(
            read().await,
            ((2, 1), generated("28")),
            "forgotten when it was gone"
        );
    }
}
