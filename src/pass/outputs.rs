//! Writing a pass's files: `check_results.json`, `cycle_verdict.json`, `status.html` and
//! `heartbeat.json` (docs/outputs.md), big ones staged on disk and streamed to the store, all
//! at once: one round trip for the lot, not one per file (issue 25; `lambda::steps` sends the
//! ledger's PUT with them).

use futures_util::future::{BoxFuture, join_all};

use super::PassOutcome;
use super::status_page::{PageHistoryCache, put_status_page_with, read_page_history};
use crate::page::PageHistory;
use crate::report::AlertFigures;
use crate::report::files;
pub use crate::settings::OutputLocation;
use crate::store::counting::RequestCounts;
use crate::store::staged::stage_json;
use crate::store::{ObjectStore, StoreError};

/// Writes `check_results.json`, `cycle_verdict.json`, `status.html` (rendered at the clock's
/// now) and `heartbeat.json`. After a registry error or an internal error only the heartbeat
/// is written: the last good results (and page, which then tells its age) stay readable. The
/// heartbeat's `requests` are `requests_so_far` just before the writes, plus the writes
/// (docs/outputs.md#requests; `None`: not counted); the page's `history.json` is read first,
/// only when it changed since `page_history` kept it.
pub async fn write_outputs<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    outcome: &PassOutcome,
    alerts: AlertFigures,
    requests_so_far: impl Fn() -> Option<RequestCounts>,
    page_history: &PageHistoryCache,
) -> Result<(), StoreError> {
    let history = match writes_results(outcome) {
        true => Some(read_page_history(store, location, page_history).await),
        false => None,
    };
    let before = requests_so_far();
    write_outputs_together(store, location, outcome, alerts, before, history.as_deref()).await
}

/// Whether a pass's outcome gets its result files and page (else only its heartbeat).
fn writes_results(outcome: &PassOutcome) -> bool {
    outcome.registry_error.is_none() && outcome.internal_error.is_none()
}

/// How many PUTs [`write_outputs_together`] makes for `outcome`.
pub fn output_puts(outcome: &PassOutcome) -> u64 {
    if writes_results(outcome) { 4 } else { 1 }
}

/// The outputs of [`write_outputs`], every PUT in flight at once, with the page's `history`
/// already read (`None`: only the heartbeat is due, or no page). `requests_before`: the
/// requests the pass made before these writes and beside them (the ledger's PUT); the
/// heartbeat adds these writes, its own PUT included. The first error is returned; the other
/// writes still happen.
pub async fn write_outputs_together<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    outcome: &PassOutcome,
    alerts: AlertFigures,
    requests_before: Option<RequestCounts>,
    history: Option<&PageHistory>,
) -> Result<(), StoreError> {
    let bucket = &location.bucket;
    let key = |name: &str| format!("{}{name}", location.prefix);
    let rows = outcome.rows.len();
    // One line per output: each is a future, and they all go out together below.
    let mut writes: Vec<BoxFuture<'_, Result<(), StoreError>>> = Vec::new();
    if let Some(history) = history.filter(|_| writes_results(outcome)) {
        let (results, verdicts) = (key(files::CHECK_RESULTS), key(files::CYCLE_VERDICT));
        writes.push(Box::pin(async move {
            put_json(store, bucket, &results, &outcome.check_results(), rows).await
        }));
        writes.push(Box::pin(async move {
            put_json(store, bucket, &verdicts, &outcome.cycle_verdicts(), rows).await
        }));
        let now = chrono::Utc::now();
        writes.push(Box::pin(put_status_page_with(
            store, location, outcome, now, history,
        )));
    }
    let puts = writes.len() as u64 + 1;
    writes.push(Box::pin(write_heartbeat(
        store,
        location,
        outcome,
        alerts,
        requests_before.map(|before| before.plus(only_puts(puts))),
    )));
    join_all(writes)
        .await
        .into_iter()
        .find_map(Result::err)
        .map_or(Ok(()), Err)
}

/// `n` PUTs, as counted.
pub fn only_puts(n: u64) -> RequestCounts {
    RequestCounts {
        put: n,
        ..RequestCounts::default()
    }
}

/// Writes `heartbeat.json` alone, saying the pass made `requests` in all (`None`: not
/// counted).
pub async fn write_heartbeat<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    outcome: &PassOutcome,
    alerts: AlertFigures,
    requests: Option<RequestCounts>,
) -> Result<(), StoreError> {
    let mut heartbeat = outcome.heartbeat(alerts);
    if let Some(requests) = requests {
        heartbeat.requests = Some(requests.into());
    }
    let key = format!("{}{}", location.prefix, files::HEARTBEAT);
    let body = to_json(&heartbeat, 0);
    store
        .put(&location.bucket, &key, body, "application/json")
        .await
}

/// Above this many rows the result files are written compact (indentation adds about a third)
/// and staged in a temporary file that the store streams from: at 100,000 rows
/// `check_results.json` is ~70 MB, more than half of the smallest Lambda's memory.
const PRETTY_JSON_MAX_ROWS: usize = 1_000;

/// Whether a pass of `rows` rows stages its result files in the temp dir.
pub fn outputs_staged(rows: usize) -> bool {
    rows > PRETTY_JSON_MAX_ROWS
}

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
