//! Where each artifact of a history plan is, by id, and which of its cycles are planned: what
//! reading the outcome log in step with the scan needs to route a line it reads (the artifact
//! judged now, one further on, one already judged, or none planned) and to keep, of the
//! passes' records, only those of planned cycles.
//!
//! The plan is in registry order and borrows its ids from the registry, so the table holds
//! only a 64-bit hash of each id and its position (16 bytes an artifact, ~16 MB at a million);
//! a hash that matches is confirmed against the plan's id.

use super::plan::{ArtifactPlan, Plan};
use crate::ledger::LedgerTime;

/// The plan's artifacts' positions by the hash of their id.
#[derive(Debug, Clone, Default)]
pub struct PlanPositions {
    by_hash: Vec<(u64, u32)>,
}

impl PlanPositions {
    /// The positions of `plan`'s artifacts.
    pub fn of(plan: &Plan<'_>) -> PlanPositions {
        let mut by_hash: Vec<(u64, u32)> = (plan.artifacts.iter().enumerate())
            .map(|(i, a)| {
                (
                    id_hash(a.spec.id.as_str()),
                    u32::try_from(i).unwrap_or(u32::MAX),
                )
            })
            .collect();
        by_hash.sort_unstable();
        PlanPositions { by_hash }
    }

    /// The position in `plan` of the artifact `id`, when it is planned.
    pub fn position(&self, plan: &Plan<'_>, id: &str) -> Option<usize> {
        let hash = id_hash(id);
        let from = self.by_hash.partition_point(|(h, _)| *h < hash);
        self.by_hash[from..]
            .iter()
            .take_while(|(h, _)| *h == hash)
            .map(|(_, i)| *i as usize)
            .find(|i| {
                plan.artifacts
                    .get(*i)
                    .is_some_and(|a| a.spec.id.as_str() == id)
            })
    }

    /// Whether `id`'s cycle that ticked at `tick` is one `plan` walks: the only records the
    /// scan looks up.
    pub fn planned(&self, plan: &Plan<'_>, id: &str, tick: LedgerTime) -> bool {
        self.position(plan, id)
            .is_some_and(|i| walks(&plan.artifacts[i], tick))
    }
}

/// Whether `tick` is one of `artifact`'s planned cycles (newest first, so ticks descend).
fn walks(artifact: &ArtifactPlan<'_>, tick: LedgerTime) -> bool {
    let cycles = &artifact.cycles[artifact.first..artifact.first + artifact.len];
    (cycles.binary_search_by(|c| Some(tick).cmp(&LedgerTime::from_utc(c.tick)))).is_ok()
}

/// FNV-1a (64 bits) of an id.
fn id_hash(id: &str) -> u64 {
    crate::ledger::probe_fingerprint("", id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::lookback::Lookback;
    use crate::history::plan::plan;
    use crate::registry::parse_registry;

    #[test]
    fn every_planned_artifact_is_found_at_its_place_and_its_cycles_only() {
        let mut text = "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  severity: critical\n  \
                        created_at: 2020-01-01\n  sla_minutes_after_cron: 60\n  owner_repo: o\n\
                        artifacts:\n"
            .to_string();
        for i in 0..300 {
            text.push_str(&format!(
                "  - artifact_id: a{i}\n    s3_key_template: a/{i}/{{date}}.json\n    \
                 cadence: weekday_sf\n"
            ));
        }
        let registry = parse_registry("r.yaml", text.as_bytes()).unwrap();
        let now = "2026-12-04T12:00:00Z".parse().unwrap();
        let plan = plan(&registry, &[], &Lookback::default(), now);
        let positions = PlanPositions::of(&plan);
        for (i, a) in plan.artifacts.iter().enumerate() {
            assert_eq!(positions.position(&plan, a.spec.id.as_str()), Some(i));
        }
        assert_eq!(positions.position(&plan, "a300"), None);
        let a7 = &plan.artifacts[7];
        for cycle in a7.cycles.iter() {
            let tick = LedgerTime::from_utc(cycle.tick).unwrap();
            assert!(positions.planned(&plan, "a7", tick), "{}", cycle.tick);
            assert!(!positions.planned(&plan, "a300", tick));
        }
        let between = LedgerTime::from_utc(a7.cycles[0].tick + chrono::Duration::hours(1));
        assert!(!positions.planned(&plan, "a7", between.unwrap()));
    }
}
