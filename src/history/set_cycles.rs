//! Probing a set's (`partitions:`) past cycle: one listing of its keys' common prefix, as a
//! pass lists it (`pass::set`), judged by the core's `history::set_cell` into landed or a gap
//! with the set's counts. A failed or capped listing is that cycle's error, never a verdict
//! from part of the keys.
//!
//! A `partitions_from:` set's values are read from its list object as a pass reads them
//! (`store::partition_list`: a HEAD, and a GET when it changed), once per batch of probed
//! cycles: the list has no history, so a past cycle is listed against today's values. An
//! unreadable list is the error of each of that set's probed cycles, with its reason.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::cell::{CellOutcome, ProbeError};
use super::set_cell::judge_set_cycle;
use crate::cadence::Cycle;
use crate::classify::{ResolvedKeys, set_keys, set_keys_of};
use crate::outcome_log::SetCycle;
use crate::registry::ArtifactSpec;
use crate::registry::partitions::Partitions;
use crate::store::counting::CountingStore;
use crate::store::listing::{MAX_KEYS_PER_PAGE, list_prefix};
use crate::store::partition_list;
use crate::store::{ObjectStore, StoreError};

/// A `partitions_from:` set's values, or why its list could not be read.
pub type ListValues = Result<Partitions, String>;

/// The values of each `partitions_from:` set among `specs` (by the index given with it), its
/// list read once (a HEAD, and a GET when it changed), the HEADs counted in `heads`.
pub async fn read_lists<'s, S: ObjectStore>(
    store: &S,
    specs: impl Iterator<Item = (usize, &'s ArtifactSpec)>,
    heads: &AtomicUsize,
) -> HashMap<usize, ListValues> {
    let mut values = HashMap::new();
    for (index, spec) in specs {
        let Some(list) = spec.partitions_from() else {
            continue;
        };
        if values.contains_key(&index) {
            continue;
        }
        let counting = CountingStore::new(store);
        values.insert(index, partition_list::read(&counting, list).await);
        heads.fetch_add(counting.counts().head as usize, Ordering::Relaxed);
    }
    values
}

/// Lists `spec`'s set in `cycle` (no listing at or after `deadline`), counting its LIST
/// requests in `pages`, and judges it. `listed_values`: a `partitions_from:` set's values.
pub async fn probe_set_cycle<S: ObjectStore>(
    store: &S,
    (spec, cycle): (&ArtifactSpec, &Cycle),
    keys: &ResolvedKeys,
    listed_values: Option<&ListValues>,
    max_pages: u32,
    deadline: Option<tokio::time::Instant>,
    pages: &AtomicUsize,
) -> (CellOutcome, Option<SetCycle>) {
    let set = match (set_keys(spec, cycle), listed_values) {
        (Some(set), _) => set,
        (None, Some(Ok(values))) => set_keys_of(spec, cycle, values),
        (None, Some(Err(reason))) => {
            let error = ProbeError {
                code: "Error".into(),
                message: reason.as_str().into(),
            };
            return (CellOutcome::Failed(error), None);
        }
        (None, None) => {
            let message = "a partitions_from set's values were not read";
            return (CellOutcome::Failed(ProbeError::internal(message)), None);
        }
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
