//! What the history scan reads of `ledger.json`: each planned artifact's current cycle (its
//! label, when it landed, the state the last pass gave it) and the sets' counts, read straight
//! from the file into a table by the artifact's place in the scan's plan.
//!
//! The ledger holds ~190 bytes an artifact as a pass reads it (every field, the ids); the scan
//! answers from it only the cycles no pass has closed yet (`history::from_log`), so it keeps
//! 32 bytes a planned artifact (~32 MB at a million) and no id: entries of artifacts not
//! planned, and every other field and section of the file, are skipped as they are read.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::file::intern_label;
use super::{LEDGER_VERSION, LedgerEntry, LedgerTime, SetCounts};
use crate::classify::State;

/// What the passes saw of an artifact's current cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentCycle {
    /// The cycle label these facts are about (one allocation per distinct label).
    pub cycle: Arc<str>,
    /// When a pass first confirmed it fresh in this cycle.
    pub fresh_at: Option<LedgerTime>,
    /// The LastModified seen when it was confirmed fresh.
    pub last_modified: Option<LedgerTime>,
    /// The state the last pass gave it.
    pub state: State,
}

impl CurrentCycle {
    /// What the scan reads of a pass's entry.
    pub fn of(entry: &LedgerEntry) -> CurrentCycle {
        CurrentCycle {
            cycle: entry.cycle.clone(),
            fresh_at: entry.fresh_at,
            last_modified: entry.last_modified,
            state: entry.state,
        }
    }
}

/// The ledger as the history scan keeps it: the current cycles by place in the plan, and the
/// sets' counts by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CurrentCycles {
    pub version: u32,
    by_place: Vec<Option<CurrentCycle>>,
    pub sets: SetCounts,
}

impl CurrentCycles {
    /// The current cycle of the planned artifact at `place`, when the ledger has one.
    pub fn at(&self, place: usize) -> Option<&CurrentCycle> {
        self.by_place.get(place)?.as_ref()
    }

    /// Whether it is a ledger of the version this build reads.
    pub fn is_current_version(&self) -> bool {
        self.version == LEDGER_VERSION
    }
}

/// Reads a ledger file into [`CurrentCycles`] for a plan of `planned` artifacts, `place`
/// giving a planned artifact's place by id: `CurrentCyclesSeed { planned, place }
/// .deserialize(&mut deserializer)`.
pub struct CurrentCyclesSeed<F> {
    pub planned: usize,
    pub place: F,
}

impl<'de, F: Fn(&str) -> Option<usize>> DeserializeSeed<'de> for CurrentCyclesSeed<F> {
    type Value = CurrentCycles;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<CurrentCycles, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: Fn(&str) -> Option<usize>> Visitor<'de> for CurrentCyclesSeed<F> {
    type Value = CurrentCycles;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ledger")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CurrentCycles, A::Error> {
        let mut read = CurrentCycles {
            by_place: vec![None; self.planned],
            ..CurrentCycles::default()
        };
        let mut version = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "version" => version = Some(map.next_value::<u32>()?),
                "artifacts" => map.next_value_seed(Entries {
                    place: &self.place,
                    into: &mut read.by_place,
                })?,
                "sets" => read.sets = map.next_value()?,
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        read.version = version.ok_or_else(|| serde::de::Error::missing_field("version"))?;
        Ok(read)
    }
}

/// The `artifacts` map, each planned artifact's entry kept at its place.
struct Entries<'a, F> {
    place: &'a F,
    into: &'a mut Vec<Option<CurrentCycle>>,
}

/// The fields of an entry the scan reads (the others are skipped).
#[derive(Deserialize)]
struct EntryJson {
    cycle: String,
    #[serde(default)]
    fresh_at: Option<LedgerTime>,
    #[serde(default)]
    last_modified: Option<LedgerTime>,
    state: State,
}

impl<'de, F: Fn(&str) -> Option<usize>> DeserializeSeed<'de> for Entries<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: Fn(&str) -> Option<usize>> Visitor<'de> for Entries<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of artifact ids to ledger entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut labels: HashSet<Arc<str>> = HashSet::new();
        while let Some(id) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let Some(place) = (self.place)(&id) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let json: EntryJson = map.next_value()?;
            let cycle = intern_label(&mut labels, &json.cycle);
            if let Some(slot) = self.into.get_mut(place) {
                *slot = Some(CurrentCycle {
                    cycle,
                    fresh_at: json.fresh_at,
                    last_modified: json.last_modified,
                    state: json.state,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Ledger;

    #[test]
    fn a_ledger_reads_back_as_its_planned_artifacts_current_cycles_and_its_sets() {
        let mut ledger = Ledger::new();
        let t = |s: &str| s.parse::<LedgerTime>().unwrap();
        for (id, state) in [
            ("a", State::Fresh),
            ("b", State::Missing),
            ("gone", State::Stale),
        ] {
            let mut entry = LedgerEntry::new_cycle(Arc::from("2026-12-01"), state);
            if state == State::Fresh {
                entry.fresh_at = Some(t("2026-12-01T14:00:00Z"));
                entry.last_modified = Some(t("2026-12-01T13:40:00Z"));
            }
            entry.missed_cycles = 3;
            ledger.artifacts.insert(id, entry);
        }
        let text = serde_json::to_string(&ledger).unwrap();
        let plan = ["b", "new", "a"];
        let seed = CurrentCyclesSeed {
            planned: plan.len(),
            place: |id: &str| plan.iter().position(|p| *p == id),
        };
        let read = seed
            .deserialize(&mut serde_json::Deserializer::from_str(&text))
            .unwrap();
        assert!(read.is_current_version());
        let whole: Ledger = serde_json::from_str(&text).unwrap();
        for (place, id) in plan.iter().enumerate() {
            let expected = whole.artifacts.get(id).map(CurrentCycle::of);
            assert_eq!(read.at(place), expected.as_ref(), "{id}");
        }
        assert!(read.at(0).is_some() && read.at(2).is_some() && read.at(1).is_none());
        assert_eq!(read.sets, whole.sets);
    }
}
