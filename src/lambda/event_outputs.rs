//! After an event invocation recorded a presence, the outputs an operator looks at turn fresh
//! at once instead of at the next pass (docs/lambda.md#outputs-after-an-event): the matched
//! artifacts' rows in `check_results.json` are judged as a pass judges them from the ledger
//! just written (the pure classification; no probe), put in place of theirs, and
//! `status.html` is rendered again from the rows read back.
//!
//! Requests, in three round trips one after another: the HEADs of `check_results.json`,
//! `status.html` and the page's history digest together (a GET of the digest only when
//! its ETag changed since this container read it), the GET of `check_results.json`, and the
//! two PUTs together, each conditional on the ETag its HEAD gave (`If-Match`; a page that did
//! not exist: `If-None-Match: *`). So 3 HEADs, 1 GET and 2 PUTs. A pass that wrote in between
//! wins: the condition fails and the event's update is dropped (`superseded`). A pass that read
//! the ledger before the event's write and writes after this update also wins; the next pass
//! shows the row fresh. Left for the next pass, with the reason counted in the response and
//! the log: no `check_results.json` yet, one over [`RESULTS_MAX_BYTES_FOR_EVENTS`], one this
//! build cannot read (an older shape), an artifact it has no row for.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::ledger::Ledger;
use crate::pass::{self, PageHistoryCache, PassOutcome, PassSettings, outputs_staged, render_page};
use crate::registry::CarriedFields;
use crate::registry_source::LoadedRegistry;
use crate::report::ResultsDoc;
use crate::report::files::{CHECK_RESULTS, STATUS_PAGE};
use crate::settings::{OutputLocation, Settings};
use crate::store::{ObjectStore, StoreError};

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
/// renders the page again (module docs).
pub async fn update_outputs<S: ObjectStore>(
    store: &S,
    inputs: &EventOutputs<'_>,
    judged: PassOutcome,
) -> OutputsUpdate {
    let location = inputs.settings.output_location();
    let key = |name: &str| format!("{}{name}", location.prefix);
    let (results_key, page_key) = (key(CHECK_RESULTS), key(STATUS_PAGE));
    let (results_head, page_head, history) = tokio::join!(
        store.head_etag(&location.bucket, &results_key),
        store.head_etag(&location.bucket, &page_key),
        pass::read_page_history(store, &location, inputs.page_history),
    );
    let results_etag = match results_head {
        Ok(Some((meta, Some(etag)))) => match meta.size.unwrap_or(0) {
            size if size > RESULTS_MAX_BYTES_FOR_EVENTS => {
                return OutputsUpdate::left("too_big", format!("{results_key} is {size} bytes"));
            }
            _ => etag,
        },
        Ok(Some((_, None))) => return OutputsUpdate::left("failed", "no ETag".to_string()),
        Ok(None) | Err(StoreError::NotFound { .. }) => {
            return OutputsUpdate::left("no_results", None);
        }
        Err(e) => return OutputsUpdate::left("failed", e.to_string()),
    };
    let page_etag = match page_head {
        Ok(found) => found.and_then(|(_, etag)| etag),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return OutputsUpdate::left("failed", e.to_string()),
    };
    let body = match store.get(&location.bucket, &results_key).await {
        Ok(fetched) if fetched.etag.as_deref().is_none_or(|e| e == results_etag) => fetched.body,
        Ok(_) => return OutputsUpdate::left("superseded", "changed since its HEAD".to_string()),
        Err(StoreError::NotFound { .. }) => return OutputsUpdate::left("no_results", None),
        Err(e) => return OutputsUpdate::left("failed", e.to_string()),
    };
    let written = Written {
        location: &location,
        results: (&results_key, &results_etag),
        page: (&page_key, page_etag.as_deref()),
    };
    let Some((results, page, update)) = rewrite(&body, judged, inputs, &history) else {
        return OutputsUpdate::left("unreadable", unreadable(&body, inputs));
    };
    if update.rows_changed == 0 {
        return OutputsUpdate {
            status: "unchanged",
            ..update
        };
    }
    written.put(store, results, page, update).await
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
    /// Both PUTs together, each conditional on its own file being as read.
    async fn put<S: ObjectStore>(
        &self,
        store: &S,
        results: Vec<u8>,
        page: Vec<u8>,
        update: OutputsUpdate,
    ) -> OutputsUpdate {
        let bucket = &self.location.bucket;
        let json = "application/json";
        let (results, page) = tokio::join!(
            store.put_if_match(bucket, self.results.0, self.results.1, results, json),
            async {
                let html = pass::PAGE_CONTENT_TYPE;
                match self.page.1 {
                    Some(etag) => {
                        store
                            .put_if_match(bucket, self.page.0, etag, page, html)
                            .await
                    }
                    None => store.put_if_absent(bucket, self.page.0, page, html).await,
                }
            },
        );
        match (results, page) {
            (Ok(true), Ok(true)) => update,
            (Err(e), _) | (_, Err(e)) => OutputsUpdate {
                status: "failed",
                detail: Some(e.to_string()),
                ..update
            },
            (Ok(results), Ok(_)) => OutputsUpdate {
                status: "superseded",
                detail: Some(format!(
                    "{} changed since it was read: a pass wrote it",
                    if results { STATUS_PAGE } else { CHECK_RESULTS }
                )),
                ..update
            },
        }
    }
}
