//! The recovery-key HEADs a pass foresees: when the ledger says the last pass left an
//! artifact with a recovery key missing or stale, rule 4 will most likely ask for that key's
//! HEAD, so it goes out beside the canonical key's probe (or beside the listing that answers
//! for it) instead of a round trip after (docs/lambda.md#round-trips). Its answer is used only
//! where rule 4 asks, so the rows are those of a pass that sends it after; the price is one
//! HEAD spent for nothing on the pass where the canonical key has landed.

use std::collections::HashMap;

use futures_util::StreamExt;
use futures_util::stream;

use super::probe_input::{RecoveryHead, head_before};
use super::{PassSettings, template_values};
use crate::cadence::Cycle;
use crate::classify::{ProbeOutcome, ResolvedKeys};
use crate::guard::guarded;
use crate::ledger::Ledger;
use crate::probe::{self, ListedAnswer, ListingFigures, ProbeKeys};
use crate::registry::ArtifactSpec;
use crate::store::ObjectStore;

/// The recovery-key HEADs made beside the listings, by position in `to_probe`.
pub(super) type MadeRecoveries = HashMap<usize, ProbeOutcome>;

/// The listings' answers for the canonical keys of `to_probe` (in its order), when enough of
/// them share a prefix for a listing to pay ([`crate::probe`]); beside the listings, the
/// recovery-key HEADs the `ledger` foresees for the artifacts they answer for
/// ([`ForeseenRecovery`]).
pub(super) async fn list_canonical_keys<S: ObjectStore>(
    store: &S,
    to_probe: &[(usize, &ArtifactSpec, &Cycle)],
    settings: &PassSettings,
    ledger: Option<&Ledger>,
) -> (
    Vec<Option<ListedAnswer>>,
    Option<ListingFigures>,
    MadeRecoveries,
) {
    if settings.list_max_pages == 0 || to_probe.len() < probe::plan::MIN_KEYS_PER_LISTING {
        return (Vec::new(), None, MadeRecoveries::new());
    }
    // About the rendered keys' size, so the buffer rarely grows (and never doubles at the end).
    let bytes = (to_probe.iter())
        .map(|(_, spec, _)| spec.s3_key_template.source().len() + 4)
        .sum();
    let mut keys = ProbeKeys::with_capacity(to_probe.len(), bytes);
    for (_, spec, cycle) in to_probe {
        // An off-cycle artifact, or a set, lists its own prefix (off_cycle.rs, set.rs).
        if spec.off_cycle().is_some() || spec.is_set() {
            keys.push_none();
            continue;
        }
        keys.push(&spec.s3_bucket, |text| {
            guarded(|| spec.s3_key_template.render(&template_values(cycle)))
                .map(|key| text.push_str(&key))
                .is_ok()
        });
    }
    let beside = |listings: &[probe::PlannedListing]| {
        let foreseen: Vec<(usize, String)> = (listings.iter())
            .flat_map(|listing| listing.members.iter().copied())
            .filter(|&position| ForeseenRecovery::foreseen(ledger, to_probe[position].1))
            .filter_map(|position| {
                let (_, spec, cycle) = to_probe[position];
                let keys = guarded(|| ResolvedKeys::resolve(spec, cycle)).ok()?;
                Some((position, keys.recovery_key?))
            })
            .collect();
        head_recoveries(store, to_probe, foreseen, settings)
    };
    let (deadline, max_pages) = (settings.probe_deadline, settings.list_max_pages);
    probe::list_what_pays_beside(store, &keys, max_pages, deadline, beside).await
}

/// HEADs the recovery keys `foreseen` (position in `to_probe`, key), as many at once as the
/// pass probes.
async fn head_recoveries<S: ObjectStore>(
    store: &S,
    to_probe: &[(usize, &ArtifactSpec, &Cycle)],
    foreseen: Vec<(usize, String)>,
    settings: &PassSettings,
) -> MadeRecoveries {
    let deadline = settings.probe_deadline;
    stream::iter(foreseen)
        .map(|(position, key)| async move {
            let bucket = &to_probe[position].1.s3_bucket;
            (position, head_before(store, bucket, &key, deadline).await)
        })
        .buffer_unordered(settings.probe_concurrency.max(1))
        .collect()
        .await
}

/// Whether an artifact's recovery-key HEAD is foreseen: it has a recovery key and the ledger
/// says the last pass left it missing or stale ([`Ledger::left_missing_or_stale`]), so its
/// canonical key most likely still is and rule 4 will ask for that HEAD. Then it goes out
/// beside the canonical key's probe, not after it: one round trip less, and one HEAD spent for
/// nothing on the pass where the canonical key has landed (or its HEAD failed).
pub(super) enum ForeseenRecovery {
    No,
    Yes,
    /// HEADed already, beside the listings.
    Made(ProbeOutcome),
}

impl ForeseenRecovery {
    /// What is foreseen of `spec`'s recovery key, `made` when its HEAD went out beside the
    /// listings.
    pub(super) fn of(
        ledger: Option<&Ledger>,
        spec: &ArtifactSpec,
        made: Option<ProbeOutcome>,
    ) -> Self {
        match made {
            Some(made) => ForeseenRecovery::Made(made),
            None if Self::foreseen(ledger, spec) => ForeseenRecovery::Yes,
            None => ForeseenRecovery::No,
        }
    }

    pub(super) fn foreseen(ledger: Option<&Ledger>, spec: &ArtifactSpec) -> bool {
        spec.recovery_key_template().is_some()
            && ledger.is_some_and(|l| l.left_missing_or_stale(spec.id.as_str()))
    }

    pub(super) fn as_head(&self) -> RecoveryHead<'_> {
        match self {
            ForeseenRecovery::No => RecoveryHead::After,
            ForeseenRecovery::Yes => RecoveryHead::Beside,
            ForeseenRecovery::Made(made) => RecoveryHead::Made(made),
        }
    }
}
