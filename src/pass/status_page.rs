//! Writing `status.html` beside the pass's other outputs (docs/outputs.md#statushtml): read
//! the last history scan's `history.json` from the same prefix when there is one small enough,
//! render the page ([`crate::page`]), PUT it. The page never fails because of the history: a
//! history that cannot be used is said on the page.

use chrono::{DateTime, Utc};

use super::PassOutcome;
use super::outputs::OutputLocation;
use crate::history::HISTORY_FILE;
use crate::page::{
    DEFAULT_PASS_INTERVAL, HistoryDigest, PageHistory, PageInput, STATUS_PAGE_FILE,
    render_status_page,
};
use crate::store::{ObjectStore, StoreError};

/// The largest `history.json` a pass reads for its page: ~8,000 artifacts of the benchmark's
/// mix (~3.7 kB each compact). Reading and parsing it costs the pass ~0.1 s and its size in
/// memory; above it the page shows no strips and says why (`history --html` draws them).
pub const HISTORY_MAX_BYTES_FOR_PAGE: u64 = 32 * 1024 * 1024;

/// Renders and writes `status.html` at `now`.
pub async fn put_status_page<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    outcome: &PassOutcome,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let history = read_history(store, location).await;
    let page = render_status_page(&PageInput {
        outcome,
        history: &history,
        now,
        pass_interval: DEFAULT_PASS_INTERVAL,
    });
    let key = format!("{}{STATUS_PAGE_FILE}", location.prefix);
    store
        .put(
            &location.bucket,
            &key,
            page.into_bytes(),
            "text/html; charset=utf-8",
        )
        .await
}

/// The history the page draws from: none, a digest, or why it cannot be used.
async fn read_history<S: ObjectStore>(store: &S, location: &OutputLocation) -> PageHistory {
    let key = format!("{}{HISTORY_FILE}", location.prefix);
    let unavailable = |why: String| {
        tracing::warn!("status page without history: {why}");
        PageHistory::Unavailable(why)
    };
    match store.head(&location.bucket, &key).await {
        Ok(None) | Err(StoreError::NotFound { .. }) => return PageHistory::None,
        Ok(Some(meta)) if meta.size.unwrap_or(0) > HISTORY_MAX_BYTES_FOR_PAGE => {
            return unavailable(format!(
                "{HISTORY_FILE} is {} MB, more than the {} MB a pass reads for this page; \
                 `freshness-monitor history --html FILE` draws the strips locally.",
                meta.size.unwrap_or(0) / 1_000_000,
                HISTORY_MAX_BYTES_FOR_PAGE / 1_000_000
            ));
        }
        Ok(Some(_)) => {}
        Err(e) => return unavailable(format!("{HISTORY_FILE} could not be read: {e}")),
    }
    match store.get(&location.bucket, &key).await {
        Ok(fetched) => match HistoryDigest::from_json(&fetched.body) {
            Ok(digest) => PageHistory::Digest(digest),
            Err(e) => unavailable(format!("{HISTORY_FILE} is not readable JSON: {e}")),
        },
        Err(e) => unavailable(format!("{HISTORY_FILE} could not be read: {e}")),
    }
}
