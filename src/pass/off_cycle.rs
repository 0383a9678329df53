//! Probing an `off_cycle` artifact: one listing of its template's fixed prefix (paged up to
//! the pass's cap) instead of a HEAD of the cycle's key, the recovery key's HEAD when rule 4
//! asks, then [`judge_off_cycle`].

use super::probe_input::{Probe, head_before};
use crate::classify::{
    Classification, DecisionLog, ListingOutcome, OffCycle, OffCycleProbe, ProbeOutcome,
    fresh_since, judge_off_cycle, needs_off_cycle_recovery,
};
use crate::store::listing::list_prefix;
use crate::store::{ObjectStore, StoreError};

pub(super) async fn list_and_judge<S: ObjectStore, L: DecisionLog + Default>(
    store: &S,
    probe: Probe<'_>,
    rule: OffCycle,
) -> (Classification, L) {
    let Probe {
        spec, cycle, keys, ..
    } = probe;
    let prefix = spec.s3_key_template.fixed_prefix();
    let listing: ListingOutcome = if probe
        .deadline
        .is_some_and(|d| tokio::time::Instant::now() >= d)
    {
        Err(StoreError::Deadline)
    } else {
        let limits = probe.listing;
        list_prefix(
            store,
            &spec.s3_bucket,
            &prefix,
            limits.page_size,
            limits.max_pages,
        )
        .await
    };
    let shape = spec.s3_key_template.shape();
    let since = fresh_since(rule, cycle, cycle.previous_tick, probe.now);
    let recovery: Option<ProbeOutcome> = match &keys.recovery_key {
        Some(key) if needs_off_cycle_recovery(keys, &listing, &shape, since) => {
            Some(head_before(store, &spec.s3_bucket, key, probe.deadline).await)
        }
        _ => None,
    };
    let mut log = L::default();
    let seen = OffCycleProbe {
        listing: &listing,
        shape: &shape,
        fresh_since: since,
    };
    let verdict = judge_off_cycle(
        spec,
        cycle,
        keys,
        probe.now,
        seen,
        recovery.as_ref(),
        &mut log,
    );
    (verdict, log)
}
