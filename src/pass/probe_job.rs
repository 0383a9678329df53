//! One artifact's probes and verdict (rules 3 to 5): its canonical key answered by a listing
//! or HEADed, its recovery key HEADed when rule 4 asks (or beside the canonical key's probe
//! when the ledger foresees it, [`super::foreseen`]), and the judgement. The pass runs one
//! [`ProbeJob`] per artifact it probes; `explain` shares [`probe_and_judge`]. What a probe is
//! given, and its one HEAD, are [`super::probe_input`]'s.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::foreseen::ForeseenRecovery;
use super::probe_input::{Probe, RecoveryHead, content_memory, head_before};
use super::rows::{RowStringPool, row};
use super::{ListingLimits, off_cycle, set};
use crate::cadence::Cycle;
use crate::classify::{
    Classification, DecisionLog, NoLog, ProbeOutcome, Probes, ResolvedKeys, judge, judge_content,
    needs_recovery_probe, set_keys, set_keys_of,
};
use crate::ledger::ContentRecords;
use crate::probe::ListedAnswer;
use crate::registry::ArtifactSpec;
use crate::report::ResultRow;
use crate::store::{ObjectStore, partition_list};

/// One artifact waiting for its probes, with what its row needs.
pub(super) struct ProbeJob<'a> {
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    keys: ResolvedKeys,
    context: Arc<crate::report::RowContext>,
}

impl<'a> ProbeJob<'a> {
    pub(super) fn new(
        spec: &'a ArtifactSpec,
        cycle: &'a Cycle,
        shared: &mut RowStringPool<'a>,
    ) -> Self {
        ProbeJob {
            spec,
            cycle,
            keys: ResolvedKeys::resolve(spec, cycle),
            context: shared.context(spec, cycle),
        }
    }

    /// Probes (the canonical key's HEAD is spared when a listing answered for it) and judges.
    pub(super) async fn run<S: ObjectStore>(
        self,
        store: &S,
        now: DateTime<Utc>,
        (deadline, listing): (Option<tokio::time::Instant>, ListingLimits),
        Answers { listed, recovery }: Answers,
        content: Option<&ContentRecords>,
    ) -> ResultRow {
        let probe = Probe {
            spec: self.spec,
            cycle: self.cycle,
            keys: &self.keys,
            now,
            deadline,
            listing,
            listed,
            recovery: recovery.as_head(),
            content: content_memory(content, self.spec, self.cycle),
        };
        let (verdict, NoLog) = probe_and_judge(store, probe).await;
        let mut finished = row(self.spec, self.keys, self.context, verdict);
        finished.set_last_probed_at(Some(now));
        finished
    }
}

/// Rules 3 to 5: HEAD the canonical key (or, off-cycle, list the template's prefix), the
/// recovery key when rule 4 asks, and judge. The log gets each decision (the pass passes
/// [`NoLog`]; `explain` a list).
pub(super) async fn probe_and_judge<S: ObjectStore, L: DecisionLog + Default>(
    store: &S,
    probe: Probe<'_>,
) -> (Classification, L) {
    let Probe {
        spec, cycle, keys, ..
    } = probe;
    if let Some(rule) = spec.off_cycle() {
        return off_cycle::list_and_judge(store, probe, rule).await;
    }
    if let Some(keys) = set_keys(spec, cycle) {
        return set::list_and_judge(store, probe, keys).await;
    }
    if let Some(list) = spec.partitions_from() {
        return match partition_list::read(store, list).await {
            Ok(values) => {
                let keys = set_keys_of(spec, cycle, &values);
                set::list_and_judge(store, probe, keys).await
            }
            Err(reason) => (Classification::probe_failed(reason), L::default()),
        };
    }
    let (canonical, made) = probe_canonical(store, probe).await;
    // A recovery HEAD made beside the canonical key's answer is used only where rule 4 asks,
    // so the verdict is the one a HEAD made after it would give.
    let recovery: Option<ProbeOutcome> = match &keys.recovery_key {
        Some(key) if needs_recovery_probe(keys, cycle, &canonical) => match made {
            Some(made) => Some(made),
            None => Some(head_before(store, &spec.s3_bucket, key, probe.deadline).await),
        },
        _ => None,
    };
    let probes = Probes {
        canonical: &canonical,
        recovery: recovery.as_ref(),
    };
    let mut log = L::default();
    let verdict = judge(spec, cycle, keys, probe.now, probes, &mut log);
    let verdict = judge_content(
        spec,
        cycle,
        keys,
        probe.now,
        verdict,
        (&canonical, probe.content),
        &mut log,
    );
    (verdict, log)
}

/// Rule 3's answer (a listing's, or the canonical key's HEAD), and the recovery key's HEAD
/// when it went out before that answer was known ([`RecoveryHead`]).
async fn probe_canonical<S: ObjectStore>(
    store: &S,
    probe: Probe<'_>,
) -> (ProbeOutcome, Option<ProbeOutcome>) {
    let head = |key| head_before(store, &probe.spec.s3_bucket, key, probe.deadline);
    let canonical = async {
        match probe.listed {
            Some(answer) => Ok(answer),
            None => head(&probe.keys.canonical_key).await,
        }
    };
    match (probe.recovery, probe.keys.recovery_key.as_deref()) {
        (RecoveryHead::Made(made), _) => (canonical.await, Some(made.clone())),
        (RecoveryHead::Beside, Some(key)) if probe.listed.is_none() => {
            let (canonical, recovery) = tokio::join!(canonical, head(key));
            (canonical, Some(recovery))
        }
        _ => (canonical.await, None),
    }
}

/// What a probe job is given besides its keys: the listing's answer for its canonical key, and
/// what is foreseen of its recovery key.
pub(super) struct Answers {
    pub(super) listed: Option<ListedAnswer>,
    pub(super) recovery: ForeseenRecovery,
}
