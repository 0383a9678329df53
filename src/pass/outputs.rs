//! Writing a pass's files: `check_results.json`, `cycle_verdict.json`, `status.html` and
//! `heartbeat.json` (docs/outputs.md), big ones staged on disk and streamed to the store, all
//! at once: one round trip for the lot, not one per file (issue 25; `lambda::steps` sends the
//! ledger's PUT with them).

use futures_util::future::join_all;

use super::PassOutcome;
use super::status_page::{PAGE_CONTENT_TYPE, PageHistoryCache, read_page_history, render_page};
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
/// (docs/outputs.md#requests; `None`: not counted); the page's history digest is read first,
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
    // Every body is made first (serialized, staged, rendered), so the PUTs then leave
    // together instead of each waiting for the CPU work of the ones before it.
    let mut bodies: Vec<(String, Body, &'static str)> = Vec::new();
    if let Some(history) = history.filter(|_| writes_results(outcome)) {
        let json = "application/json";
        let results = json_body(&outcome.check_results(), rows);
        bodies.push((key(files::CHECK_RESULTS), results, json));
        let verdicts = json_body(&outcome.cycle_verdicts(), rows);
        bodies.push((key(files::CYCLE_VERDICT), verdicts, json));
        let page = render_page(outcome, chrono::Utc::now(), history);
        bodies.push((
            key(files::STATUS_PAGE),
            Body::Bytes(page),
            PAGE_CONTENT_TYPE,
        ));
    }
    let puts = bodies.len() as u64 + 1;
    let requests = requests_before.map(|before| before.plus(only_puts(puts)));
    let heartbeat = heartbeat_body(outcome, alerts, requests);
    bodies.push((key(files::HEARTBEAT), heartbeat, "application/json"));
    // One line per output above; they all go out together here.
    let writes = (bodies.into_iter()).map(|(key, body, content_type)| async move {
        body.put(store, bucket, &key, content_type).await
    });
    join_all(writes)
        .await
        .into_iter()
        .find_map(Result::err)
        .map_or(Ok(()), Err)
}

/// An output's body, made before any PUT leaves.
enum Body {
    Bytes(Vec<u8>),
    /// Staged in a temporary file the store streams from (removed when dropped).
    Staged(tempfile::NamedTempFile),
}

impl Body {
    async fn put<S: ObjectStore>(
        self,
        store: &S,
        bucket: &str,
        key: &str,
        content_type: &str,
    ) -> Result<(), StoreError> {
        match self {
            Body::Bytes(bytes) => store.put(bucket, key, bytes, content_type).await,
            Body::Staged(file) => store.put_file(bucket, key, file.path(), content_type).await,
        }
    }
}

/// `value` as [`put_json`] writes it: indented up to 1,000 `rows`, compact and staged above.
fn json_body<T: serde::Serialize>(value: &T, rows: usize) -> Body {
    if outputs_staged(rows) {
        match stage_json(value) {
            Ok(staged) => return Body::Staged(staged),
            // A full or read-only temp dir costs memory, not the write.
            Err(e) => tracing::warn!(
                "could not stage a result file in {}: {e}; writing it from memory",
                std::env::temp_dir().display()
            ),
        }
    }
    Body::Bytes(to_json(value, rows))
}

/// The heartbeat's JSON, saying the pass made `requests` in all (`None`: as the outcome says).
fn heartbeat_body(
    outcome: &PassOutcome,
    alerts: AlertFigures,
    requests: Option<RequestCounts>,
) -> Body {
    let mut heartbeat = outcome.heartbeat(alerts);
    if let Some(requests) = requests {
        heartbeat.requests = Some(requests.into());
    }
    Body::Bytes(to_json(&heartbeat, 0))
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
    let key = format!("{}{}", location.prefix, files::HEARTBEAT);
    let body = heartbeat_body(outcome, alerts, requests);
    body.put(store, &location.bucket, &key, "application/json")
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
/// in a temporary file above.
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
