//! Never written (docs/alerts.md#never-written): a missing artifact whose key has never
//! existed in any cycle is most likely a wrong template or a producer that never ran, not a
//! late one. One listing of the template's fixed prefix tells (once: the answer is remembered
//! in the ledger); such a row gets its own message and alerts at most once a day.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream;

use crate::classify::State;
use crate::ledger::Ledger;
use crate::registry::Registry;
use crate::report::ResultRow;
use crate::store::ObjectStore;
use crate::store::listing::list_prefix;

/// A prefix to list: an artifact missing now that the ledger does not know to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixCheck {
    pub artifact_id: String,
    pub bucket: String,
    pub prefix: String,
}

/// What the pass learned: the artifacts that are never written, and the listings made (for
/// the ledger: `(id, found anything)`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NeverWritten {
    /// Id → the prefix listed (`s3://bucket/prefix`).
    pub ids: HashMap<String, String>,
    pub listings: Vec<(String, bool)>,
}

/// Splits the missing rows the ledger knows nothing written about: those it already
/// remembers as never written (no listing needed) and those whose prefix must be listed.
/// Without a ledger nothing is judged (a first pass knows no history).
pub fn plan_checks(
    registry: &Registry,
    rows: &[ResultRow],
    ledger: Option<&Ledger>,
) -> (HashMap<String, String>, Vec<PrefixCheck>) {
    let (mut known, mut to_list) = (HashMap::new(), Vec::new());
    let Some(ledger) = ledger else {
        return (known, to_list);
    };
    let missing: HashSet<&str> = rows
        .iter()
        .filter(|r| r.state == State::Missing)
        .map(|r| r.artifact_id.as_str())
        .collect();
    if missing.is_empty() {
        return (known, to_list);
    }
    for spec in registry.valid_artifacts() {
        if !missing.contains(spec.id.as_str()) {
            continue;
        }
        match ledger.artifacts.get(spec.id.as_str()) {
            Some(entry) if entry.written => {}
            Some(entry) if entry.never_written_since.is_some() => {
                let prefix = spec.s3_key_template.fixed_prefix();
                let location = format!("s3://{}/{prefix}", spec.s3_bucket);
                known.insert(spec.id.to_string(), location);
            }
            _ => to_list.push(PrefixCheck {
                artifact_id: spec.id.to_string(),
                bucket: spec.s3_bucket.clone(),
                prefix: spec.s3_key_template.fixed_prefix().to_string(),
            }),
        }
    }
    (known, to_list)
}

/// Lists each prefix (one page of one key: anything there at all?). A listing that fails
/// (no `s3:ListBucket`, a throttle) judges nothing: the artifact stays plain missing.
pub async fn check_prefixes<S: ObjectStore>(
    store: &S,
    known: HashMap<String, String>,
    checks: Vec<PrefixCheck>,
) -> NeverWritten {
    let results: Vec<(String, String, Option<bool>)> = stream::iter(checks)
        .map(|c| async move {
            let location = format!("s3://{}/{}", c.bucket, c.prefix);
            match list_prefix(store, &c.bucket, &c.prefix, 1, 1).await {
                Ok(listing) => (c.artifact_id, location, Some(!listing.objects.is_empty())),
                Err(e) => {
                    tracing::warn!(
                        message = "could not list a template's prefix; never-written not judged",
                        artifact_id = %c.artifact_id,
                        bucket = %c.bucket,
                        prefix = %c.prefix,
                        error = %e,
                    );
                    (c.artifact_id, location, None)
                }
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut found = NeverWritten {
        ids: known,
        listings: Vec::new(),
    };
    for (id, location, result) in results {
        if let Some(any) = result {
            if !any {
                found.ids.insert(id.clone(), location);
            }
            found.listings.push((id, any));
        }
    }
    found
}

/// How a never-written row's reason starts (what the digest and `policy` key on).
pub const NEVER_WRITTEN: &str = "never written";

/// Whether a row was marked never written by [`mark_rows`].
pub fn is_never_written(row: &ResultRow) -> bool {
    row.state == State::Missing && row.reason.starts_with(NEVER_WRITTEN)
}

/// The dedup key of a never-written alert: one a day.
pub fn never_written_dedup_key(id: &str, now: DateTime<Utc>) -> String {
    format!("freshness_{id}_never_written_{}", now.format("%Y-%m-%d"))
}

/// Gives the never-written rows their own message and daily dedup key.
pub fn mark_rows(
    rows: &mut [ResultRow],
    never_written: &HashMap<String, String>,
    now: DateTime<Utc>,
) {
    if never_written.is_empty() {
        return;
    }
    for row in rows.iter_mut() {
        if row.state != State::Missing {
            continue;
        }
        let Some(prefix) = never_written.get(&row.artifact_id) else {
            continue;
        };
        row.reason = format!(
            "{NEVER_WRITTEN}: nothing has ever existed under {prefix} in any cycle; check the \
             template or the producer ({})",
            row.reason
        );
        row.dedup_key = Some(never_written_dedup_key(&row.artifact_id, now));
    }
}
