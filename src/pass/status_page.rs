//! Writing `status.html` beside the pass's other outputs (docs/outputs.md#statushtml): read
//! the last history scan's `history.json` from the same prefix when there is one small enough,
//! render the page ([`crate::page`]), PUT it. The page never fails because of the history: a
//! history that cannot be used is said on the page.
//!
//! `history.json` changes about once a day (the daily scan) but is read by every pass, up to
//! 32 MB: a warm container keeps what it read with its ETag ([`PageHistoryCache`]), and a pass
//! HEADs the file and GETs it again only when the ETag changed.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::PassOutcome;
use crate::page::{
    DEFAULT_PASS_INTERVAL, HistoryDigest, PageHistory, PageInput, render_status_page,
};
use crate::report::files::{HISTORY, STATUS_PAGE};
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

/// The history the page draws from: none, a digest, or why it cannot be used. One HEAD; a
/// GET only when `cache` holds nothing read under the ETag the HEAD gave.
async fn read_history<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    cache: &PageHistoryCache,
) -> Arc<PageHistory> {
    let (bucket, key) = (&location.bucket, format!("{}{HISTORY}", location.prefix));
    let unavailable = |why: String| {
        tracing::warn!("status page without history: {why}");
        Arc::new(PageHistory::Unavailable(why))
    };
    let head_etag = match store.head_etag(bucket, &key).await {
        Ok(None) | Err(StoreError::NotFound { .. }) => {
            cache.forget();
            return Arc::new(PageHistory::None);
        }
        Ok(Some((meta, _))) if meta.size.unwrap_or(0) > HISTORY_MAX_BYTES_FOR_PAGE => {
            cache.forget();
            return unavailable(format!(
                "{HISTORY} is {:.1} MB, more than the {} MB a pass reads for this page; \
                 `freshness-monitor history --html FILE` draws the strips locally.",
                meta.size.unwrap_or(0) as f64 / 1e6,
                HISTORY_MAX_BYTES_FOR_PAGE / 1_000_000
            ));
        }
        Ok(Some((_, etag))) => etag,
        Err(e) => return unavailable(format!("{HISTORY} could not be read: {e}")),
    };
    if let Some(kept) = (head_etag.as_deref()).and_then(|etag| cache.get(bucket, &key, etag)) {
        return kept;
    }
    let fetched = match store.get(bucket, &key).await {
        Ok(fetched) => fetched,
        Err(e) => return unavailable(format!("{HISTORY} could not be read: {e}")),
    };
    let history = match HistoryDigest::from_json(&fetched.body) {
        Ok(digest) => Arc::new(PageHistory::Digest(digest)),
        Err(e) => unavailable(format!("{HISTORY} is not readable JSON: {e}")),
    };
    // Kept under the ETag of what was read (the HEAD's when the GET has none): a body that
    // changed between the two is read again next time, never kept under a newer ETag.
    match fetched.etag.or(head_etag) {
        Some(etag) => cache.keep(bucket, &key, etag, Arc::clone(&history)),
        None => cache.forget(),
    }
    history
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
                assert!(
                    why.starts_with("history.json is not readable JSON: "),
                    "{why}"
                )
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
        let generated = |day: &str| Some(format!("2026-11-{day}T04:00:00+00:00"));
        assert_eq!(read().await, ((1, 1), generated("27")), "first read");
        assert_eq!(read().await, ((1, 0), generated("27")), "unchanged: kept");
        std::fs::write(&file, valid("28")).unwrap();
        assert_eq!(
            read().await,
            ((1, 1), generated("28")),
            "rewritten: read again"
        );
        assert_eq!(read().await, ((1, 0), generated("28")));
        std::fs::remove_file(&file).unwrap();
        assert_eq!(read().await, ((1, 0), None), "gone: no history");
        std::fs::write(&file, valid("28")).unwrap();
        assert_eq!(
            read().await,
            ((1, 1), generated("28")),
            "forgotten when it was gone"
        );
    }
}
