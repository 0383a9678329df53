//! What one artifact's probes are given (its keys, limits, a listing's answer, when its
//! recovery-key HEAD goes out, what the ledger remembers for its content checks) and the one
//! HEAD they all make: shared by the probe job ([`super::probe_job`]), the off-cycle and set
//! probes and `explain`, so it imports none of them.

use chrono::{DateTime, Utc};

use super::ListingLimits;
use crate::cadence::Cycle;
use crate::classify::{ContentMemory, ProbeOutcome, ResolvedKeys, has_content_checks};
use crate::ledger::ContentRecords;
use crate::probe::ListedAnswer;
use crate::registry::ArtifactSpec;
use crate::store::{ObjectStore, StoreError};

/// What one artifact's probes need.
#[derive(Clone, Copy)]
pub(super) struct Probe<'a> {
    pub(super) spec: &'a ArtifactSpec,
    pub(super) cycle: &'a Cycle,
    pub(super) keys: &'a ResolvedKeys,
    pub(super) now: DateTime<Utc>,
    pub(super) deadline: Option<tokio::time::Instant>,
    pub(super) listing: ListingLimits,
    /// What a listing of the probe plan said about the canonical key (no HEAD then).
    pub(super) listed: Option<ListedAnswer>,
    /// When the recovery key's HEAD goes out.
    pub(super) recovery: RecoveryHead<'a>,
    /// What the ledger remembers of the artifact's earlier cycles, for its content checks.
    pub(super) content: ContentMemory<'a>,
}

/// What the content checks of `spec` in `cycle` compare with (nothing without a ledger, or
/// for an artifact without checks: no lookup then).
pub(super) fn content_memory<'a>(
    records: Option<&'a ContentRecords>,
    spec: &ArtifactSpec,
    cycle: &Cycle,
) -> ContentMemory<'a> {
    match records {
        Some(records) if has_content_checks(spec) => records.memory(spec.id.as_str(), &cycle.label),
        _ => ContentMemory::default(),
    }
}

/// When rule 4's recovery-key HEAD goes out (docs/lambda.md#round-trips).
#[derive(Clone, Copy)]
pub(super) enum RecoveryHead<'a> {
    /// After the canonical key's answer, when that answer asks for it.
    After,
    /// Beside the canonical key's HEAD: the ledger foresees it
    /// ([`super::foreseen::ForeseenRecovery`]).
    Beside,
    /// Made already, beside the listing that answers for the canonical key.
    Made(&'a ProbeOutcome),
}

/// One HEAD, unless the deadline has passed.
pub(super) async fn head_before<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    deadline: Option<tokio::time::Instant>,
) -> ProbeOutcome {
    if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
        return Err(StoreError::Deadline);
    }
    store.head(bucket, key).await
}
