//! After an event invocation recorded a presence, the outputs an operator looks at turn fresh
//! at once instead of at the next pass (docs/lambda.md#outputs-after-an-event): the matched
//! artifacts' rows in `check_results.json` are judged as a pass judges them from the ledger
//! just written (the pure classification; no probe), put in place of theirs, and
//! `status.html` is rendered again from the rows read back.
//!
//! Requests, in two round trips one after another: the GET of `check_results.json` (its
//! length read before its body: one over the cap is not read, so no HEAD first), with the
//! HEAD of `status.html` beside it when this container did not write the page last, and the
//! page's history digest as the container read it less than 5 minutes ago (else its HEAD, and
//! a GET when its ETag changed); then the two PUTs together, each conditional on the ETag it
//! was read with (`If-Match`; a page that did not exist: `If-None-Match: *`). The page's ETag
//! is the one this container's last update wrote while `check_results.json` is still the one
//! it wrote ([`super::outputs_memory`]); after a pass wrote it, the page is HEADed (a third
//! round trip). So 1 GET and 2 PUTs in a warm container between passes, 1 or 2 HEADs more
//! otherwise. A pass that wrote in between wins: the condition fails and the event's update
//! is dropped (`superseded`). A pass that read the ledger before the event's write and writes
//! after this update also wins; the next pass shows the row fresh. Left for the next pass,
//! with the reason counted in the response and the log: no `check_results.json` yet, one over
//! [`RESULTS_MAX_BYTES_FOR_EVENTS`], one this build cannot read (an older shape), an artifact
//! it has no row for.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::outputs_memory::{OutputsMemory, RESULTS_REMEMBERED_MAX_BYTES};
use crate::ledger::Ledger;
use crate::page::PageHistory;
use crate::pass::{self, PageHistoryCache, PassOutcome, PassSettings, outputs_staged, render_page};
use crate::registry::CarriedFields;
use crate::registry_source::LoadedRegistry;
use crate::report::ResultsDoc;
use crate::report::files::{CHECK_RESULTS, HISTORY_DIGEST, STATUS_PAGE};
use crate::settings::{OutputLocation, Settings};
use crate::store::{
    CappedGet, ConditionalPut, FetchedObject, ObjectStore, StoreError, WriteCondition,
};

/// The largest `check_results.json` an event invocation reads to update (~45,000 rows of the
/// benchmark's mix): it holds the file and its rows in memory; above it the rows wait for the
/// next pass, which streams the file.
pub const RESULTS_MAX_BYTES_FOR_EVENTS: u64 = 32_000_000;

/// What an event invocation did to the outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputsUpdate {
    /// `written`, `unchanged` (the rows already said so), or why they were left for the next
    /// pass: `no_results`, `too_big`, `unreadable`, `superseded`, `failed`.
    pub status: &'static str,
    /// Rows that changed (written only when `status` is `written`).
    pub rows_changed: usize,
    /// Matched artifacts `check_results.json` has no row for (added since the last pass).
    pub rows_absent: usize,
    pub detail: Option<String>,
}

impl OutputsUpdate {
    fn left(status: &'static str, detail: impl Into<Option<String>>) -> OutputsUpdate {
        OutputsUpdate {
            status,
            rows_changed: 0,
            rows_absent: 0,
            detail: detail.into(),
        }
    }

    /// As the response and the log line write it.
    pub fn to_json(&self) -> Value {
        json!({
            "status": self.status,
            "rows_changed": self.rows_changed,
            "rows_absent": self.rows_absent,
            "detail": self.detail,
        })
    }
}

/// What the update reads besides the store.
pub struct EventOutputs<'a> {
    pub settings: &'a Settings,
    pub loaded: &'a LoadedRegistry,
    pub page_history: &'a PageHistoryCache,
    /// What this container remembers of the outputs (`super::outputs_memory`).
    pub memory: &'a OutputsMemory,
    pub now: DateTime<Utc>,
}

/// The rows of `artifacts` as a pass judges them from `ledger` (the presences recorded): the
/// pure classification, no request (the ledger settles them).
pub async fn judge_rows<S: ObjectStore>(
    store: &S,
    inputs: &EventOutputs<'_>,
    ledger: &Ledger,
    artifacts: Vec<String>,
) -> PassOutcome {
    let pass_settings = PassSettings {
        only: artifacts,
        ..PassSettings::from_settings(inputs.settings)
    };
    pass::run_pass(
        store,
        inputs.loaded,
        &pass_settings,
        inputs.now,
        Some(ledger),
    )
    .await
}

/// Puts the `judged` rows ([`judge_rows`]) in place of theirs in `check_results.json` and
/// renders the page again (module docs). `from_memory`: the ledger was written over the one
/// this container wrote last (no pass wrote since), so `check_results.json` as this container
/// wrote it last, when it kept it, is updated with no GET ([`super::outputs_memory`]).
pub async fn update_outputs<S: ObjectStore>(
    store: &S,
    inputs: &EventOutputs<'_>,
    judged: PassOutcome,
    from_memory: bool,
) -> OutputsUpdate {
    let location = inputs.settings.output_location();
    let key = |name: &str| format!("{}{name}", location.prefix);
    let (results_key, page_key) = (key(CHECK_RESULTS), key(STATUS_PAGE));
    let bucket = &location.bucket;
    if inputs.memory.too_big(bucket, &results_key, inputs.now) {
        let detail = format!("{results_key} was over the cap less than 5 minutes ago");
        return OutputsUpdate::left("too_big", detail);
    }
    let remembered = (inputs.memory.results(bucket, &results_key)).filter(|_| from_memory);
    if let Some((body, results_etag, page_etag)) = remembered {
        let history = page_history(store, &location, inputs).await;
        let written = Written {
            location: &location,
            results: (&results_key, &results_etag),
            page: (&page_key, Some(&page_etag)),
        };
        return rewrite_and_put(store, inputs, (&body, judged, &history), written).await;
    }
    // The page is HEADed beside the GET only when this container did not write it last; else
    // the GET's ETag says whether the remembered one still holds.
    let asks_page = !inputs.memory.remembers(bucket, &results_key);
    let (results_get, page_head, history) = tokio::join!(
        store.get_at_most(bucket, &results_key, RESULTS_MAX_BYTES_FOR_EVENTS),
        async {
            match asks_page {
                true => Some(page_etag(store, bucket, &page_key).await),
                false => None,
            }
        },
        page_history(store, &location, inputs),
    );
    let (body, results_etag) = match results_get {
        Ok(CappedGet::Fetched(FetchedObject {
            body,
            etag: Some(etag),
        })) => (body, etag),
        Ok(CappedGet::Fetched(_)) => return OutputsUpdate::left("failed", "no ETag".to_string()),
        Ok(CappedGet::TooBig { size }) => {
            inputs
                .memory
                .found_too_big(bucket, &results_key, inputs.now);
            return OutputsUpdate::left("too_big", format!("{results_key} is {size} bytes"));
        }
        Err(StoreError::NotFound { .. }) => return OutputsUpdate::left("no_results", None),
        Err(e) => return OutputsUpdate::left("failed", e.to_string()),
    };
    let page_etag = match page_head {
        Some(asked) => asked,
        None => match inputs.memory.page_etag(bucket, &results_key, &results_etag) {
            Some(etag) => Ok(Some(etag)),
            // A pass wrote `check_results.json` since this container did: ask for the page's.
            None => page_etag(store, bucket, &page_key).await,
        },
    };
    let page_etag = match page_etag {
        Ok(etag) => etag,
        Err(e) => return OutputsUpdate::left("failed", e.to_string()),
    };
    let written = Written {
        location: &location,
        results: (&results_key, &results_etag),
        page: (&page_key, page_etag.as_deref()),
    };
    rewrite_and_put(store, inputs, (&body, judged, &history), written).await
}

/// The rows put in place in `body` and both files written where `written` says.
async fn rewrite_and_put<S: ObjectStore>(
    store: &S,
    inputs: &EventOutputs<'_>,
    (body, judged, history): (&[u8], PassOutcome, &PageHistory),
    written: Written<'_>,
) -> OutputsUpdate {
    let Some((results, page, update)) = rewrite(body, judged, inputs, history) else {
        return OutputsUpdate::left("unreadable", unreadable(body, inputs));
    };
    if update.rows_changed == 0 {
        return OutputsUpdate {
            status: "unchanged",
            ..update
        };
    }
    written
        .put(store, inputs.memory, results, page, update)
        .await
}

/// `status.html`'s ETag (`None`: no page yet), from a HEAD.
async fn page_etag<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
) -> Result<Option<String>, StoreError> {
    match store.head_etag(bucket, key).await {
        Ok(found) => Ok(found.and_then(|(_, etag)| etag)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The history the page draws: as this container read it less than 5 minutes ago, or read
/// (a HEAD, and a GET when its ETag changed: [`pass::read_page_history`]).
async fn page_history<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    inputs: &EventOutputs<'_>,
) -> Arc<PageHistory> {
    let key = format!("{}{HISTORY_DIGEST}", location.prefix);
    if let Some(history) = inputs.memory.history(&location.bucket, &key, inputs.now) {
        return history;
    }
    let history = pass::read_page_history(store, location, inputs.page_history).await;
    (inputs.memory).read_history(&location.bucket, &key, inputs.now, &history);
    history
}

/// The outcome's rows in place of theirs in the file `body`, and the page drawn from them:
/// `None` when the file cannot be read.
fn rewrite(
    body: &[u8],
    mut judged: PassOutcome,
    inputs: &EventOutputs<'_>,
    history: &crate::page::PageHistory,
) -> Option<(Vec<u8>, Vec<u8>, OutputsUpdate)> {
    let mut doc = ResultsDoc::parse(body).ok()?;
    let pretty = !outputs_staged(doc.len());
    let replaced = doc.replace_rows(&judged.rows, pretty);
    let update = OutputsUpdate {
        status: "written",
        rows_changed: replaced.changed,
        rows_absent: replaced.absent,
        detail: None,
    };
    if replaced.changed == 0 {
        return Some((Vec::new(), Vec::new(), update));
    }
    let carried = carried_fields(&inputs.loaded.registry);
    judged.rows = doc.rows(|id| carried.get(id).cloned()).ok()?;
    judged.run_at = doc.run_at;
    judged.alerts_enabled = doc.alerts_enabled;
    judged.unknown_only_ids.clear();
    let page = render_page(&judged, inputs.now, history);
    Some((doc.to_json(pretty), page, update))
}

/// Why `body` could not be read.
fn unreadable(body: &[u8], inputs: &EventOutputs<'_>) -> String {
    let carried = carried_fields(&inputs.loaded.registry);
    match ResultsDoc::parse(body) {
        Err(e) => e,
        Ok(doc) => (doc.rows(|id| carried.get(id).cloned()).err()).unwrap_or_default(),
    }
}

/// What the registry's entries carry to their rows, by artifact id (only those that carry any).
fn carried_fields(registry: &crate::registry::Registry) -> HashMap<&str, Arc<CarriedFields>> {
    (registry.valid_artifacts())
        .filter_map(|spec| Some((spec.id.as_str(), spec.carried()?.clone())))
        .collect()
}

/// Where the two files go, with the ETags their HEADs gave.
struct Written<'a> {
    location: &'a OutputLocation,
    results: (&'a str, &'a str),
    page: (&'a str, Option<&'a str>),
}

impl Written<'_> {
    /// Both PUTs together, each conditional on its own file being as read; the ETags they give
    /// are remembered in `memory` for the next update (none when either failed).
    async fn put<S: ObjectStore>(
        &self,
        store: &S,
        memory: &OutputsMemory,
        results: Vec<u8>,
        page: Vec<u8>,
        update: OutputsUpdate,
    ) -> OutputsUpdate {
        let bucket = &self.location.bucket;
        let (json, html) = ("application/json", pass::PAGE_CONTENT_TYPE);
        let page_condition = match self.page.1 {
            Some(etag) => WriteCondition::Matches(etag),
            None => WriteCondition::Absent,
        };
        let kept = (results.len() <= RESULTS_REMEMBERED_MAX_BYTES).then(|| results.clone());
        let (results, page) = tokio::join!(
            store.put_conditional(
                bucket,
                self.results.0,
                WriteCondition::Matches(self.results.1),
                results,
                json
            ),
            store.put_conditional(bucket, self.page.0, page_condition, page, html),
        );
        let tags = match (&results, &page) {
            (
                Ok(ConditionalPut::Written {
                    etag: Some(results),
                }),
                Ok(ConditionalPut::Written { etag: Some(page) }),
            ) => Some((results.clone(), page.clone())),
            _ => None,
        };
        memory.written((bucket, self.results.0), tags, kept);
        match (results, page) {
            (Ok(ConditionalPut::Written { .. }), Ok(ConditionalPut::Written { .. })) => update,
            (Err(e), _) | (_, Err(e)) => OutputsUpdate {
                status: "failed",
                detail: Some(e.to_string()),
                ..update
            },
            (Ok(results), Ok(_)) => OutputsUpdate {
                status: "superseded",
                detail: Some(format!(
                    "{} changed since it was read: a pass wrote it",
                    match results {
                        ConditionalPut::Written { .. } => STATUS_PAGE,
                        ConditionalPut::Lost => CHECK_RESULTS,
                    }
                )),
                ..update
            },
        }
    }
}
