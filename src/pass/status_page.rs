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
pub const HISTORY_MAX_BYTES_FOR_PAGE: u64 = 32_000_000;

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
                "{HISTORY_FILE} is {:.1} MB, more than the {} MB a pass reads for this page; \
                 `freshness-monitor history --html FILE` draws the strips locally.",
                meta.size.unwrap_or(0) as f64 / 1e6,
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
            read_history(&store, &location()).await,
            PageHistory::None
        ));
        let (_dir, store) = store_with(Some("{not json"));
        match read_history(&store, &location()).await {
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
        match read_history(&store, &location()).await {
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
        match read_history(&store, &location()).await {
            PageHistory::Unavailable(why) => assert!(
                why.starts_with("history.json is 32.0 MB, more than the 32 MB a pass reads"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }
}
