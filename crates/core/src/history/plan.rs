//! Which past cycles of which artifacts the scan probes, decided before any probe (pure).
//!
//! Per artifact: its cadence's walk from the newest cycle past its due time, `lookback` cycles
//! long (shared by every artifact with the same schedule and SLA). Each cycle is expected (to
//! be probed) or not ([`not_expected`]: a closed market day on a calendar-aware cadence, a
//! bucket of a continuous feed in which none of its active windows was open, or a cycle before
//! the artifact's grace period ended; nothing is probed and it is never a gap). A pointer
//! (a template without placeholders) names one key whose LastModified only tells its latest
//! write, so it gets one cycle: the newest expected one. Invalid entries, and artifacts whose
//! cadence yields no cycle, cannot be scanned and are only counted.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::cell::NotExpected;
use super::cycles::{settled_at, walk_back};
use super::lookback::{Lookback, ScheduleKey};
use crate::cadence::Cycle;
use crate::cadence::window::{self, ActiveWindow, WindowCheck};
use crate::classify::grace_ends_at;
use crate::registry::{ArtifactSpec, Registry, RegistryEntry};

/// One artifact's cycles: `cycles[first..first + len]`, newest first.
#[derive(Debug, Clone)]
pub struct ArtifactPlan<'r> {
    pub spec: &'r ArtifactSpec,
    /// The walk, shared by every artifact with the same schedule and SLA.
    pub cycles: Arc<[Cycle]>,
    pub first: usize,
    pub len: usize,
}

impl ArtifactPlan<'_> {
    /// The artifact's `cell`-th cycle, newest first.
    pub fn cycle(&self, cell: usize) -> &Cycle {
        &self.cycles[self.first + cell]
    }
}

/// What the scan will do.
#[derive(Debug, Clone, Default)]
pub struct Plan<'r> {
    /// In registry order.
    pub artifacts: Vec<ArtifactPlan<'r>>,
    /// Selected entries that cannot be scanned (invalid, or a cadence without a cycle).
    pub skipped_unsupported: usize,
    /// The cycles walked per schedule (`history.json`'s `lookback`).
    pub lookback: BTreeMap<String, usize>,
}

/// Plans the scan of the selected entries (all when `only` is empty) at `now`.
pub fn plan<'r>(
    registry: &'r Registry,
    only: &[String],
    lookback: &Lookback,
    now: DateTime<Utc>,
) -> Plan<'r> {
    let mut plan = Plan::default();
    let mut counts: HashMap<ScheduleKey<'r>, usize> = HashMap::new();
    let mut scanned: BTreeMap<ScheduleKey<'r>, usize> = BTreeMap::new();
    let mut walks: HashMap<(ScheduleKey<'r>, u32), Arc<[Cycle]>> = HashMap::new();
    let selected = registry
        .entries
        .iter()
        .filter(|e| only.is_empty() || only.iter().any(|id| id == e.label()));
    for entry in selected {
        let RegistryEntry::Valid(spec) = entry else {
            plan.skipped_unsupported += 1;
            continue;
        };
        let key = ScheduleKey::of(&spec.cadence);
        let n = *counts
            .entry(key)
            .or_insert_with(|| lookback.cycles_for(&spec.cadence, &registry.calendar, now));
        let cycles = walks
            .entry((key, spec.sla_minutes_after_cron))
            .or_insert_with(|| {
                settled_at(now, spec.sla_minutes_after_cron)
                    .map(|start| walk_back(&spec.cadence, &registry.calendar, start, n))
                    .unwrap_or_default()
                    .into()
            })
            .clone();
        if cycles.is_empty() {
            plan.skipped_unsupported += 1;
            continue;
        }
        let cycles = match spec.active_windows() {
            Some(windows) => within_windows(&cycles, windows),
            None => cycles,
        };
        scanned.insert(key, n);
        plan.artifacts.push(plan_artifact(spec, cycles));
    }
    plan.lookback = scanned
        .into_iter()
        .map(|(key, n)| (key.to_string(), n))
        .collect();
    plan
}

/// One artifact's cycles: every cycle of the walk, or the newest expected one for a pointer
/// (the newest of all when none is expected).
fn plan_artifact(spec: &ArtifactSpec, cycles: Arc<[Cycle]>) -> ArtifactPlan<'_> {
    if !spec.s3_key_template.is_pointer() {
        let len = cycles.len();
        return ArtifactPlan {
            spec,
            cycles,
            first: 0,
            len,
        };
    }
    let first = cycles
        .iter()
        .position(|cycle| not_expected(spec, cycle).is_none())
        .unwrap_or(0);
    ArtifactPlan {
        spec,
        cycles,
        first,
        len: 1,
    }
}

/// An artifact's own copy of its cadence's walk, each bucket judged against its active
/// windows: not expected when none was open in it, else judged from the first open instant.
fn within_windows(cycles: &[Cycle], windows: &[ActiveWindow]) -> Arc<[Cycle]> {
    cycles
        .iter()
        .map(|cycle| {
            let end = (cycle.tick)
                .checked_add_signed(cycle.length)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            let (check, tick) = window::check_bucket(windows, cycle.tick, end);
            Cycle {
                tick,
                window: Some(check),
                ..cycle.clone()
            }
        })
        .collect()
}

/// Why `cycle` is not expected of `spec`, if it is not.
pub fn not_expected(spec: &ArtifactSpec, cycle: &Cycle) -> Option<NotExpected> {
    if cycle.tick < grace_ends_at(spec, cycle) {
        Some(NotExpected::BeforeGraceEnd)
    } else if matches!(cycle.window, Some(WindowCheck::Outside(_))) {
        Some(NotExpected::OutsideWindows)
    } else if cycle.closure.is_some() && spec.calendar_aware {
        Some(NotExpected::MarketClosed)
    } else {
        None
    }
}
