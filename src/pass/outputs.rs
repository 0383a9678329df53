//! Writing a pass's files: `check_results.json`, `cycle_verdict.json`, `status.html` and
//! `heartbeat.json` (docs/outputs.md), big ones staged on disk and streamed to the store.

use super::PassOutcome;
use super::status_page::{PageHistoryCache, put_status_page};
use crate::report::AlertFigures;
use crate::report::files;
pub use crate::settings::OutputLocation;
use crate::store::counting::RequestCounts;
use crate::store::staged::stage_json;
use crate::store::{ObjectStore, StoreError};

/// Writes `check_results.json`, `cycle_verdict.json`, `status.html` (rendered at the clock's
/// now) and, last, `heartbeat.json`. After a registry error or an internal error only the
/// heartbeat is written: the last good results (and page, which then tells its age) stay
/// readable. The heartbeat's `requests` are `requests_so_far` just before it is written, plus
/// its own PUT (docs/outputs.md#requests; `None`: not counted); the page's `history.json` is
/// read only when it changed since `page_history` kept it.
pub async fn write_outputs<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    outcome: &PassOutcome,
    alerts: AlertFigures,
    requests_so_far: impl Fn() -> Option<RequestCounts>,
    page_history: &PageHistoryCache,
) -> Result<(), StoreError> {
    let key = |name: &str| format!("{}{name}", location.prefix);
    let mut first_error = None;
    if outcome.registry_error.is_none() && outcome.internal_error.is_none() {
        let rows = outcome.rows.len();
        for result in [
            put_json(
                store,
                &location.bucket,
                &key(files::CHECK_RESULTS),
                &outcome.check_results(),
                rows,
            )
            .await,
            put_json(
                store,
                &location.bucket,
                &key(files::CYCLE_VERDICT),
                &outcome.cycle_verdicts(),
                rows,
            )
            .await,
            put_status_page(store, location, outcome, chrono::Utc::now(), page_history).await,
        ] {
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
    }
    let mut heartbeat = outcome.heartbeat(alerts);
    if let Some(counts) = requests_so_far() {
        let own_put = RequestCounts {
            put: 1,
            ..RequestCounts::default()
        };
        heartbeat.requests = Some(counts.plus(own_put).into());
    }
    if let Err(e) = store
        .put(
            &location.bucket,
            &key(files::HEARTBEAT),
            to_json(&heartbeat, 0),
            "application/json",
        )
        .await
    {
        first_error.get_or_insert(e);
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Above this many rows the result files are written compact (indentation adds about a third)
/// and staged in a temporary file that the store streams from: at 100,000 rows
/// `check_results.json` is ~70 MB, more than half of the smallest Lambda's memory.
const PRETTY_JSON_MAX_ROWS: usize = 1_000;

/// Writes `value` as JSON at `bucket`/`key`: indented up to 1,000 `rows`, compact and staged
/// in a temporary file above (the history scan's `history.json` uses it too).
pub async fn put_json<S: ObjectStore, T: serde::Serialize + Sync>(
    store: &S,
    bucket: &str,
    key: &str,
    value: &T,
    rows: usize,
) -> Result<(), StoreError> {
    if rows > PRETTY_JSON_MAX_ROWS {
        match stage_json(value) {
            Ok(staged) => {
                return store
                    .put_file(bucket, key, staged.path(), "application/json")
                    .await;
            }
            // A full or read-only temp dir costs memory, not the write.
            Err(e) => tracing::warn!(
                "could not stage {key} in {}: {e}; writing it from memory",
                std::env::temp_dir().display()
            ),
        }
    }
    store
        .put(bucket, key, to_json(value, rows), "application/json")
        .await
}

fn to_json<T: serde::Serialize>(value: &T, rows: usize) -> Vec<u8> {
    if rows > PRETTY_JSON_MAX_ROWS {
        serde_json::to_vec(value)
    } else {
        serde_json::to_vec_pretty(value)
    }
    .expect("report types always serialize")
}
