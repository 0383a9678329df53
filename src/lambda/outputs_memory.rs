//! What a warm container remembers of the outputs between event invocations, so an update
//! after an event (`super::event_outputs`) asks S3 only what may have changed
//! (docs/lambda.md#outputs-after-an-event):
//!
//! - the ETags its own last update gave `check_results.json` and `status.html`: while the GET
//!   of `check_results.json` answers the ETag this container wrote (no pass wrote since), the
//!   page's PUT is made `If-Match` the page's remembered ETag with no HEAD. The condition is
//!   the same guard a HEAD's ETag gives: the PUT succeeds only over the very page this
//!   container wrote, so a pass that wrote the page since still wins;
//! - after an invocation whose ledger write went out `If-Match` the ledger this container
//!   wrote last (`super::ledger_memory`: no pass wrote the ledger since), the bytes of
//!   `check_results.json` it wrote last too (when at most [`RESULTS_REMEMBERED_MAX_BYTES`]):
//!   the rows are put in place in them and written `If-Match` their ETag with no GET; a pass
//!   that wrote the file since makes that PUT fail (`superseded`), as with a GET's ETag;
//! - the page's history (`history_digest.ndjson.gz`, written once a day by the history scan),
//!   HEADed at most once per [`HISTORY_RECHECK_AFTER`]: a new digest reaches the pages events
//!   draw at most 5 minutes late (the pass's page draws it at once).
//!
//! - a `check_results.json` found over the cap (`too_big`: at a million artifacts), for 5
//!   minutes: the updates in that time make no request for the outputs at all (they would
//!   find it too big again; the rows wait for the pass, as they do anyway).
//!
//! Bounded: two ETags and one shared reference to the history the pass's cache also holds.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use crate::page::PageHistory;

/// The largest `check_results.json` whose bytes are kept between event invocations.
pub const RESULTS_REMEMBERED_MAX_BYTES: usize = 8_000_000;

/// How long the page's history is drawn as read without asking whether its digest changed.
pub const HISTORY_RECHECK_AFTER: Duration = Duration::minutes(5);

/// The container's memory of the outputs (module docs).
#[derive(Debug, Default)]
pub struct OutputsMemory(Mutex<Remembered>);

#[derive(Debug, Default)]
struct Remembered {
    written: Option<WrittenTags>,
    history: Option<ReadHistory>,
    /// The `check_results.json` (bucket, key) found too big, and when.
    too_big: Option<(String, String, DateTime<Utc>)>,
}

/// The ETags this container's last update gave the two files at `bucket`/`results_key`.
#[derive(Debug)]
struct WrittenTags {
    bucket: String,
    results_key: String,
    results: String,
    page: String,
    /// The bytes written under `results` (`None`: over the cap).
    results_body: Option<Arc<Vec<u8>>>,
}

#[derive(Debug)]
struct ReadHistory {
    bucket: String,
    key: String,
    read_at: DateTime<Utc>,
    history: Arc<PageHistory>,
}

impl OutputsMemory {
    /// The page's ETag this container wrote with `check_results.json` at `results_etag`, when
    /// `check_results.json` is still that one.
    pub fn page_etag(&self, bucket: &str, results_key: &str, results_etag: &str) -> Option<String> {
        let remembered = self.0.lock().expect("not poisoned");
        (remembered.written.as_ref())
            .filter(|w| w.bucket == bucket && w.results_key == results_key)
            .filter(|w| w.results == results_etag)
            .map(|w| w.page.clone())
    }

    /// Whether this container remembers writing the files at `bucket`/`results_key`.
    pub fn remembers(&self, bucket: &str, results_key: &str) -> bool {
        let remembered = self.0.lock().expect("not poisoned");
        (remembered.written.as_ref())
            .is_some_and(|w| w.bucket == bucket && w.results_key == results_key)
    }

    /// This container's update wrote the two files with these ETags (`None`: a write's ETag
    /// is unknown, so nothing is remembered), `check_results.json`'s bytes being `body`
    /// (`None`: over the cap, not kept).
    pub fn written(
        &self,
        (bucket, results_key): (&str, &str),
        etags: Option<(String, String)>,
        body: Option<Vec<u8>>,
    ) {
        let body = body
            .filter(|body| body.len() <= RESULTS_REMEMBERED_MAX_BYTES)
            .map(Arc::new);
        self.0.lock().expect("not poisoned").written = etags.map(|(results, page)| WrittenTags {
            bucket: bucket.to_string(),
            results_key: results_key.to_string(),
            results,
            page,
            results_body: body,
        });
    }

    /// Forgets the bytes of `check_results.json` (its ETags stay: a GET checks them): an
    /// invocation read the ledger, so a pass may have written since those bytes, and only an
    /// update written after this read may be trusted again.
    pub fn forget_results_body(&self) {
        if let Some(written) = self.0.lock().expect("not poisoned").written.as_mut() {
            written.results_body = None;
        }
    }

    /// `check_results.json` as this container last wrote it at `bucket`/`results_key`: its
    /// bytes, its ETag and the page's ETag written with it.
    pub fn results(
        &self,
        bucket: &str,
        results_key: &str,
    ) -> Option<(Arc<Vec<u8>>, String, String)> {
        let remembered = self.0.lock().expect("not poisoned");
        let written = (remembered.written.as_ref())
            .filter(|w| w.bucket == bucket && w.results_key == results_key)?;
        let body = written.results_body.as_ref()?;
        Some((
            Arc::clone(body),
            written.results.clone(),
            written.page.clone(),
        ))
    }

    /// Whether `check_results.json` at `bucket`/`key` was found too big less than
    /// [`HISTORY_RECHECK_AFTER`] before `now`.
    pub fn too_big(&self, bucket: &str, key: &str, now: DateTime<Utc>) -> bool {
        let remembered = self.0.lock().expect("not poisoned");
        (remembered.too_big.as_ref()).is_some_and(|(b, k, at)| {
            b == bucket && k == key && now >= *at && now - *at < HISTORY_RECHECK_AFTER
        })
    }

    /// `check_results.json` at `bucket`/`key` was found too big at `now`.
    pub fn found_too_big(&self, bucket: &str, key: &str, now: DateTime<Utc>) {
        self.0.lock().expect("not poisoned").too_big =
            Some((bucket.to_string(), key.to_string(), now));
    }

    /// The history read from `bucket`/`key` less than [`HISTORY_RECHECK_AFTER`] before `now`.
    pub fn history(&self, bucket: &str, key: &str, now: DateTime<Utc>) -> Option<Arc<PageHistory>> {
        let remembered = self.0.lock().expect("not poisoned");
        (remembered.history.as_ref())
            .filter(|h| h.bucket == bucket && h.key == key)
            .filter(|h| now >= h.read_at && now - h.read_at < HISTORY_RECHECK_AFTER)
            .map(|h| Arc::clone(&h.history))
    }

    /// The history as read from `bucket`/`key` at `now`.
    pub fn read_history(
        &self,
        bucket: &str,
        key: &str,
        now: DateTime<Utc>,
        history: &Arc<PageHistory>,
    ) {
        self.0.lock().expect("not poisoned").history = Some(ReadHistory {
            bucket: bucket.to_string(),
            key: key.to_string(),
            read_at: now,
            history: Arc::clone(history),
        });
    }
}
