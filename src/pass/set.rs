//! Probing an expected set (`partitions:`): one listing of the prefix its keys share, capped
//! at the pages the set needs, then the core's [`judge_set`]. A set of 5,000 keys under one
//! prefix costs 5 LIST requests, not 5,000 HEADs (docs/classification.md#sets).

use super::Probe;
use crate::classify::{Classification, DecisionLog, ListingOutcome, SetKeys, judge_set};
use crate::store::listing::list_prefix;
use crate::store::{ObjectStore, StoreError};

/// Lists the set's prefix and judges it.
pub(super) async fn list_and_judge<S: ObjectStore, L: DecisionLog + Default>(
    store: &S,
    probe: Probe<'_>,
    set: SetKeys,
) -> (Classification, L) {
    let Probe {
        spec, cycle, keys, ..
    } = probe;
    let listing: ListingOutcome = if probe
        .deadline
        .is_some_and(|d| tokio::time::Instant::now() >= d)
    {
        Err(StoreError::Deadline)
    } else {
        let limits = probe.listing;
        let page_size = limits.page_size.max(1);
        // The pages the set's own keys fill, and the cap's slack for what else is there.
        let needed = set.keys.len().div_ceil(usize::from(page_size)) as u32;
        let max_pages = limits
            .max_pages
            .max(needed.saturating_add(limits.max_pages));
        list_prefix(store, &spec.s3_bucket, &set.prefix, page_size, max_pages).await
    };
    let mut log = L::default();
    let verdict = judge_set(spec, cycle, keys, probe.now, (&set, &listing), &mut log);
    (verdict, log)
}
