//! The SLA report: per artifact, per owner and overall, over each artifact's history window,
//! how many cycles were expected and how many landed on time, late, not at all, or could not
//! be seen.
//!
//! The hit rate is `on_time / (on_time + late + missing)`: a probe error says nothing about
//! the producer, so it is neither a hit nor a miss. It is counted (`unknown`) and left out of
//! the rate rather than blamed on the producer or hidden as a success; a rate over no known
//! cycle is null.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::ArtifactHistory;
use super::cell::CellOutcome;

/// Cycle counts over a window. `expected = on_time + late + missing + unknown`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlaCounts {
    pub expected: usize,
    pub on_time: usize,
    pub late: usize,
    pub missing: usize,
    pub unknown: usize,
}

impl SlaCounts {
    /// Counts one artifact's cycles.
    pub fn of(artifact: &ArtifactHistory<'_>) -> Self {
        let mut counts = SlaCounts::default();
        for cell in &artifact.cells {
            let slot = match cell {
                CellOutcome::NotExpected(_) => continue,
                CellOutcome::Landed(l) if l.on_time => &mut counts.on_time,
                CellOutcome::Landed(_) => &mut counts.late,
                CellOutcome::Absent { .. } => &mut counts.missing,
                CellOutcome::Failed(_) => &mut counts.unknown,
            };
            *slot += 1;
            counts.expected += 1;
        }
        counts
    }

    pub fn add(&mut self, other: SlaCounts) {
        self.expected += other.expected;
        self.on_time += other.on_time;
        self.late += other.late;
        self.missing += other.missing;
        self.unknown += other.unknown;
    }

    /// `on_time / (on_time + late + missing)`, rounded to 4 decimals; `None` with no known
    /// cycle.
    pub fn hit_rate(&self) -> Option<f64> {
        let known = self.on_time + self.late + self.missing;
        (known > 0).then(|| (self.on_time as f64 / known as f64 * 10_000.0).round() / 10_000.0)
    }
}

impl Serialize for SlaCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(6))?;
        map.serialize_entry("expected", &self.expected)?;
        map.serialize_entry("on_time", &self.on_time)?;
        map.serialize_entry("late", &self.late)?;
        map.serialize_entry("missing", &self.missing)?;
        map.serialize_entry("unknown", &self.unknown)?;
        map.serialize_entry("hit_rate", &self.hit_rate())?;
        map.end()
    }
}

/// One artifact's counts as the report keeps them until written (a million are held): on
/// time, late, missing, unknown, 16 bytes instead of [`SlaCounts`]' 40.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArtifactCounts([u32; 4]);

impl ArtifactCounts {
    fn of(c: SlaCounts) -> Self {
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        ArtifactCounts([n(c.on_time), n(c.late), n(c.missing), n(c.unknown)])
    }

    pub fn counts(self) -> SlaCounts {
        let [on_time, late, missing, unknown] = self.0.map(|x| x as usize);
        SlaCounts {
            expected: on_time + late + missing + unknown,
            on_time,
            late,
            missing,
            unknown,
        }
    }
}

impl Serialize for ArtifactCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.counts().serialize(serializer)
    }
}

/// The roll-up of a scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlaReport<'h> {
    pub overall: SlaCounts,
    /// By `owner_repo`, sorted.
    pub owners: BTreeMap<&'h str, SlaCounts>,
    /// By artifact, in registry order.
    pub artifacts: Vec<(&'h str, ArtifactCounts)>,
}

impl<'h> SlaReport<'h> {
    /// Adds `artifact`'s counts (artifacts are added in registry order).
    pub fn add(&mut self, artifact: &ArtifactHistory<'h>) {
        let counts = SlaCounts::of(artifact);
        self.overall.add(counts);
        self.owners
            .entry(&*artifact.spec.owner_repo)
            .or_default()
            .add(counts);
        (self.artifacts).push((artifact.spec.id.as_str(), ArtifactCounts::of(counts)));
    }
}

/// `{overall, owners: {owner: counts}, artifacts: {id: counts}}`, artifacts in registry order.
impl Serialize for SlaReport<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct InOrder<'a>(&'a [(&'a str, ArtifactCounts)]);
        impl Serialize for InOrder<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_map(self.0.iter().map(|(id, counts)| (id, counts)))
            }
        }
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("overall", &self.overall)?;
        map.serialize_entry("owners", &self.owners)?;
        map.serialize_entry("artifacts", &InOrder(&self.artifacts))?;
        map.end()
    }
}
