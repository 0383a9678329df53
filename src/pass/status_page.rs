//! Writing `status.html` beside the pass's other outputs (docs/outputs.md#statushtml): read
//! the last history scan's digest (`history_digest.ndjson.gz`, written beside `history.json`)
//! from the same prefix when it is small enough, render the page ([`crate::page`]), PUT it. The page never fails because of the history: a history that
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
use crate::report::files::{HISTORY_DIGEST, STATUS_PAGE};
use crate::settings::OutputLocation;
use crate::store::{ObjectStore, StoreError};

/// What a warm container keeps of the history's digest between passes: the page's history as
/// last read, under the object's ETag. Empty in a new container (and for `run` and tests that
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
/// the history digest has not changed since it was read.
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

/// The history the page draws from: none, the scan's digest (`history_digest.ndjson.gz`), or
/// why it cannot be used. One HEAD; a GET only when `cache` holds nothing read under the ETag
/// the HEAD gave.
///
/// `history.json` itself is not read: looking for it when there is no digest would cost every
/// pass of a deployment without a history scan (and every `run`) a HEAD and a round trip, for
/// the one day after an upgrade until the next scan writes the digest.
async fn read_history<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    cache: &PageHistoryCache,
) -> Arc<PageHistory> {
    let (bucket, key) = (
        &location.bucket,
        format!("{}{HISTORY_DIGEST}", location.prefix),
    );
    let unavailable = |why: String| {
        tracing::warn!("status page without history: {why}");
        Arc::new(PageHistory::Unavailable(why))
    };
    let head_etag = match store.head_etag(bucket, &key).await {
        Ok(None) | Err(StoreError::NotFound { .. }) => {
            cache.forget();
            return Arc::new(PageHistory::None);
        }
        Ok(Some((meta, _))) if meta.size.unwrap_or(0) > DIGEST_MAX_BYTES_FOR_PAGE => {
            cache.forget();
            return unavailable(format!(
                "{HISTORY_DIGEST} is {:.1} MB, more than the {} MB a pass reads for this page; \
                 `freshness-monitor history --html FILE` draws the strips locally.",
                meta.size.unwrap_or(0) as f64 / 1e6,
                DIGEST_MAX_BYTES_FOR_PAGE / 1_000_000
            ));
        }
        Ok(Some((_, etag))) => etag,
        Err(e) => return unavailable(format!("{HISTORY_DIGEST} could not be read: {e}")),
    };
    if let Some(kept) = (head_etag.as_deref()).and_then(|etag| cache.get(bucket, &key, etag)) {
        return kept;
    }
    let fetched = match store.get(bucket, &key).await {
        Ok(fetched) => fetched,
        Err(e) => return unavailable(format!("{HISTORY_DIGEST} could not be read: {e}")),
    };
    let history = match digest_of_gz(&fetched.body) {
        Ok(digest) => Arc::new(PageHistory::Digest(digest)),
        Err(e) => unavailable(format!("{HISTORY_DIGEST} is not readable: {e}")),
    };
    // Kept under the ETag of what was read (the HEAD's when the GET has none): a body that
    // changed between the two is read again next time, never kept under a newer ETag.
    match fetched.etag.or(head_etag) {
        Some(etag) => cache.keep(bucket, &key, etag, Arc::clone(&history)),
        None => cache.forget(),
    }
    history
}

/// The largest digest a pass reads for its page, gzipped: ~110,000 artifacts of the
/// benchmark's mix (~18 bytes each gzipped, ~270 unzipped), whose parsed strips a warm
/// container keeps (~0.8 KB an artifact, estimated from the types: not measured). Above it the
/// page shows no strips and says why (`history --html` draws them).
pub const DIGEST_MAX_BYTES_FOR_PAGE: u64 = 2_000_000;

/// The digest's gzipped lines.
fn digest_of_gz(bytes: &[u8]) -> Result<HistoryDigest, String> {
    let lines = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(bytes));
    read_digest(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::counting::CountingStore;
    use crate::store::local::LocalDirStore;

    fn location() -> OutputLocation {
        OutputLocation {
            bucket: "results".to_string(),
            prefix: "p/".to_string(),
        }
    }

    const DIGEST: &str = "results/p/history_digest.ndjson.gz";

    /// A local store with the digest holding `body` (none when `None`).
    fn store_with(body: Option<&[u8]>) -> (tempfile::TempDir, LocalDirStore) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("results/p")).unwrap();
        if let Some(body) = body {
            std::fs::write(dir.path().join(DIGEST), body).unwrap();
        }
        let store = LocalDirStore::new(dir.path());
        (dir, store)
    }

    /// A digest of one artifact `d` with one on-time cycle, from a scan on 2026-11-`day`.
    fn digest_gz(day: &str) -> Vec<u8> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let header = format!(
            r#"{{"history_digest":1,"generated_at":"2026-11-{day}T04:00:00Z","n_artifacts":1,"strip_cells":12}}"#
        );
        writeln!(gz, "{header}").unwrap();
        writeln!(
            gz,
            r#"{{"id":"d","sla":[1,1,0,0,0],"strip":[["2026-11-26","o"]]}}"#
        )
        .unwrap();
        gz.finish().unwrap()
    }

    #[tokio::test]
    async fn the_page_says_whether_the_digest_is_absent_unreadable_or_drawn() {
        let (_dir, store) = store_with(None);
        assert!(matches!(
            *read_history(&store, &location(), &PageHistoryCache::default()).await,
            PageHistory::None
        ));
        let (_dir, store) = store_with(Some(b"not gzip"));
        match &*read_history(&store, &location(), &PageHistoryCache::default()).await {
            PageHistory::Unavailable(why) => assert!(
                why.starts_with("history_digest.ndjson.gz is not readable: "),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
        let (_dir, store) = store_with(Some(&digest_gz("27")));
        match &*read_history(&store, &location(), &PageHistoryCache::default()).await {
            PageHistory::Digest(digest) => assert_eq!(digest.artifacts["d"].sla.on_time, 1),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn history_json_alone_is_not_read_for_the_page() {
        let (dir, local) = store_with(None);
        let valid = r#"{"generated_at": "2026-11-27T04:00:00Z", "artifacts": {"a": {"history":
            [{"cycle_label": "2026-11-26", "expected": true, "present": true, "on_time": true,
              "minutes_late": 0}]}}}"#;
        std::fs::write(dir.path().join("results/p/history.json"), valid).unwrap();
        let store = CountingStore::new(&local);
        let history = read_history(&store, &location(), &PageHistoryCache::default()).await;
        assert!(matches!(*history, PageHistory::None));
        let counts = store.counts();
        assert_eq!((counts.head, counts.get), (1, 0), "the digest's HEAD only");
    }

    #[tokio::test]
    async fn a_digest_over_the_cap_is_not_read_and_the_page_says_why() {
        let (dir, store) = store_with(Some(b""));
        let file = std::fs::File::options()
            .write(true)
            .open(dir.path().join(DIGEST))
            .unwrap();
        file.set_len(DIGEST_MAX_BYTES_FOR_PAGE + 1).unwrap();
        match &*read_history(&store, &location(), &PageHistoryCache::default()).await {
            PageHistory::Unavailable(why) => assert!(
                why.starts_with(
                    "history_digest.ndjson.gz is 2.0 MB, more than the 2 MB a pass reads"
                ),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_kept_history_is_not_read_again_until_its_etag_changes() {
        let (dir, local) = store_with(Some(&digest_gz("27")));
        let file = dir.path().join(DIGEST);
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
        std::fs::write(&file, digest_gz("28")).unwrap();
        assert_eq!(
            read().await,
            ((1, 1), generated("28")),
            "rewritten: read again"
        );
        assert_eq!(read().await, ((1, 0), generated("28")));
        std::fs::remove_file(&file).unwrap();
        assert_eq!(read().await, ((1, 0), None), "gone: no history");
        std::fs::write(&file, digest_gz("28")).unwrap();
        assert_eq!(
            read().await,
            ((1, 1), generated("28")),
            "forgotten when it was gone"
        );
    }
}
