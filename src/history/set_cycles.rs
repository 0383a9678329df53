//! Probing a set's (`partitions:`) past cycle: one listing of its keys' common prefix, as a
//! pass lists it (`pass::set`), judged by the core's `history::set_cell` into landed or a gap
//! with the set's counts. A failed or capped listing is that cycle's error, never a verdict
//! from part of the keys.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::cell::{CellOutcome, ProbeError};
use super::set_cell::judge_set_cycle;
use crate::cadence::Cycle;
use crate::classify::{ResolvedKeys, set_keys};
use crate::outcome_log::SetCycle;
use crate::registry::ArtifactSpec;
use crate::store::listing::{MAX_KEYS_PER_PAGE, list_prefix};
use crate::store::{ObjectStore, StoreError};

/// Lists `spec`'s set in `cycle` (no listing at or after `deadline`), counting its LIST
/// requests in `pages`, and judges it.
pub async fn probe_set_cycle<S: ObjectStore>(
    store: &S,
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: &ResolvedKeys,
    max_pages: u32,
    deadline: Option<tokio::time::Instant>,
    pages: &AtomicUsize,
) -> (CellOutcome, Option<SetCycle>) {
    let Some(set) = set_keys(spec, cycle) else {
        let message = "a set whose values are read from S3 has no keys here";
        return (CellOutcome::Failed(ProbeError::internal(message)), None);
    };
    if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
        return (
            CellOutcome::Failed(ProbeError::of(&StoreError::Deadline)),
            None,
        );
    }
    // The pages the set's own keys fill, and the cap's slack for what else is there.
    let needed = set.keys.len().div_ceil(usize::from(MAX_KEYS_PER_PAGE)) as u32;
    let cap = needed.saturating_add(max_pages);
    let listing = list_prefix(store, &spec.s3_bucket, &set.prefix, MAX_KEYS_PER_PAGE, cap).await;
    let listing = match listing {
        Ok(listing) => listing,
        Err(e) => return (CellOutcome::Failed(ProbeError::of(&e)), None),
    };
    pages.fetch_add(listing.pages as usize, Ordering::Relaxed);
    if !listing.complete {
        let message = format!(
            "LIST s3://{}/{}: more than {} pages of keys; a set is never judged from part of \
             its keys",
            spec.s3_bucket, set.prefix, listing.pages
        );
        let error = ProbeError {
            code: "Error".into(),
            message: message.into(),
        };
        return (CellOutcome::Failed(error), None);
    }
    let (cell, counts) = judge_set_cycle(spec, &set, &listing.objects, cycle.tick, keys.due_at);
    (cell, Some(counts))
}
