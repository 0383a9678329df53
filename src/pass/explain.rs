//! One artifact judged the way the pass judges it, with the classifier's decision trail kept:
//! what `explain` prints.

use chrono::{DateTime, Utc};

use super::probe_input::RecoveryHead;
use super::{
    PassSettings, Probe, RowStringPool, content_memory, no_cycle_row, probe_and_judge, row,
};
use crate::cadence::Cycle;
use crate::classify::{Decision, ResolvedKeys, decide_without_probe};
use crate::ledger::ContentRecords;
use crate::registry::{Registry, RegistryEntry};
use crate::report::ResultRow;
use crate::store::ObjectStore;

/// What `explain` shows for one entry.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The row the pass would write.
    pub row: ResultRow,
    /// The cycle at `now` (`None` for an invalid entry or a cadence that never fires).
    pub cycle: Option<Cycle>,
    pub keys: Option<ResolvedKeys>,
    /// Each rule the classifier applied, in order.
    pub decisions: Vec<Decision>,
}

/// Judges `entry` at `now` as the pass would (same rules, same probes), keeping the trail.
pub async fn explain_entry<S: ObjectStore>(
    store: &S,
    registry: &Registry,
    entry: &RegistryEntry,
    settings: &PassSettings,
    now: DateTime<Utc>,
    content: Option<&ContentRecords>,
) -> Explanation {
    let mut shared = RowStringPool::default();
    let spec = match entry {
        RegistryEntry::Invalid(bad) => {
            return Explanation {
                row: super::invalid_row(bad, now, &mut shared),
                cycle: None,
                keys: None,
                decisions: Vec::new(),
            };
        }
        RegistryEntry::Valid(spec) => spec,
    };
    let Some(cycle) = spec.cycle_at(now, &registry.calendar) else {
        return Explanation {
            row: no_cycle_row(spec, now, &mut shared),
            cycle: None,
            keys: None,
            decisions: Vec::new(),
        };
    };
    let keys = ResolvedKeys::resolve(spec, &cycle);
    let mut decisions = Vec::new();
    let verdict = match decide_without_probe(spec, &cycle, now, &mut decisions) {
        Some(verdict) => verdict,
        None => {
            let probe = Probe {
                spec,
                cycle: &cycle,
                keys: &keys,
                now,
                deadline: settings.probe_deadline,
                listing: settings.listing,
                listed: None,
                recovery: RecoveryHead::After,
                content: content_memory(content, spec, &cycle),
            };
            let (verdict, probe_decisions) =
                probe_and_judge::<S, Vec<Decision>>(store, probe).await;
            decisions.extend(probe_decisions);
            verdict
        }
    };
    let context = shared.context(spec, &cycle);
    Explanation {
        row: row(spec, keys.clone(), context, verdict),
        cycle: Some(cycle),
        keys: Some(keys),
        decisions,
    }
}
