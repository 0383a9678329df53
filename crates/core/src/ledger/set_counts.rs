//! What the ledger remembers of each set's (`partitions:`) current cycle: how many keys it
//! has and how many were written since the tick, as the latest pass that listed it counted,
//! and, when that listing found every key written, what settles the cycle.
//!
//! A set's cycle closes in the pass that judges its next cycle, whose row counts the new
//! cycle; the counts of the one that closed are only here. The outcome log records them
//! (`set_total`, `set_written`: docs/outputs.md#the-outcome-log), so the history tells a
//! complete cycle from a partial one without listing it again. A cycle whose listing found
//! every key written is settled like a present artifact: the pass judges it from these counts
//! without listing again ([`SetCount::complete_listing`], `src/pass/settled_set.rs`). Kept apart from
//! [`super::LedgerEntry`] so the artifacts that are not sets pay nothing; in `ledger.json`
//! it is the optional `sets` object, `{id: {cycle, total, written}}`, which an older reader
//! ignores.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classify::{CompleteListing, SetSummary};

/// The sets' counts by artifact id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SetCounts(BTreeMap<Box<str>, SetCount>);

/// One set's counts in one cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetCount {
    /// The cycle the counts are about.
    pub cycle: Box<str>,
    /// The set's keys in that cycle.
    pub total: u32,
    /// Those written since the cycle's tick.
    pub written: u32,
    /// The pages of the listing that found every key written (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// [`crate::classify::set_fingerprint`] of the keys that listing looked for (absent
    /// otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_fingerprint: Option<u64>,
}

impl SetCount {
    /// The listing that found every key written in this cycle, when the latest one did.
    pub fn complete_listing(&self) -> Option<CompleteListing> {
        match (self.pages, self.keys_fingerprint) {
            (Some(pages), Some(fingerprint)) if self.written == self.total => {
                Some(CompleteListing { pages, fingerprint })
            }
            _ => None,
        }
    }
}

impl SetCounts {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `id`'s counts in `cycle`, when the ledger holds that cycle's.
    pub fn get(&self, id: &str, cycle: &str) -> Option<&SetCount> {
        self.0.get(id).filter(|c| &*c.cycle == cycle)
    }

    /// Keeps the sets whose id `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|id, _| keep(id));
    }

    /// Remembers what a listing of `id` in `cycle` counted (the latest count of a cycle wins).
    pub fn observe(&mut self, id: &str, cycle: &str, set: &SetSummary) {
        let count = SetCount {
            cycle: cycle.into(),
            total: set.total,
            written: set.written,
            pages: set.complete_listing.map(|l| l.pages),
            keys_fingerprint: set.complete_listing.map(|l| l.fingerprint),
        };
        self.0.insert(id.into(), count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(total: u32, written: u32) -> SetSummary {
        SetSummary {
            total,
            written,
            missing: total - written,
            stale: 0,
            first_missing: Box::new([]),
            complete_listing: (written == total).then_some(CompleteListing {
                pages: 1,
                fingerprint: 7,
            }),
        }
    }

    #[test]
    fn the_latest_count_of_the_cycle_is_kept_and_read_only_for_that_cycle() {
        let mut sets = SetCounts::default();
        sets.observe("s", "2026-12-01", &summary(5, 2));
        sets.observe("s", "2026-12-01", &summary(5, 4));
        assert_eq!(sets.get("s", "2026-12-01").map(|c| c.written), Some(4));
        assert_eq!(sets.get("s", "2026-12-02"), None);
        assert_eq!(
            sets.get("s", "2026-12-01").unwrap().complete_listing(),
            None
        );
        let text = serde_json::to_string(&sets).unwrap();
        assert_eq!(
            text,
            r#"{"s":{"cycle":"2026-12-01","total":5,"written":4}}"#
        );
        assert_eq!(serde_json::from_str::<SetCounts>(&text).unwrap(), sets);
        sets.retain(|_| false);
        assert!(sets.is_empty());
    }

    #[test]
    fn a_listing_that_found_every_key_written_is_kept_to_settle_the_cycle() {
        let mut sets = SetCounts::default();
        sets.observe("s", "2026-12-01", &summary(5, 5));
        let count = sets.get("s", "2026-12-01").unwrap();
        let listed = CompleteListing {
            pages: 1,
            fingerprint: 7,
        };
        assert_eq!(count.complete_listing(), Some(listed));
        let text = serde_json::to_string(&sets).unwrap();
        assert_eq!(
            text,
            r#"{"s":{"cycle":"2026-12-01","total":5,"written":5,"pages":1,"keys_fingerprint":7}}"#
        );
        assert_eq!(serde_json::from_str::<SetCounts>(&text).unwrap(), sets);
        // A later listing in the cycle that finds a key gone: no longer settled.
        sets.observe("s", "2026-12-01", &summary(5, 4));
        assert_eq!(
            sets.get("s", "2026-12-01").unwrap().complete_listing(),
            None
        );
    }
}
