//! Presence learned from S3 "Object Created" events, applied to the ledger: the event's
//! object is recorded exactly as a probe that found it fresh would have left the entry, so the
//! next pass trusts it as it trusts a settled probe (`pass::settled` in the shell) and makes
//! no request for it until its next tick (or its re-verify interval).
//!
//! Applying the same presences again changes nothing (duplicates, redelivery), and their
//! order does not matter (the latest LastModified of the cycle is kept): idempotent and
//! commutative, so it can be applied again to the winner's ledger after a lost conditional
//! write.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Ledger, LedgerEntry, LedgerTime, probe_fingerprint};
use crate::classify::State;

/// One artifact seen present in one cycle through an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub artifact_id: Arc<str>,
    /// The cycle label the key belongs to (the artifact's current cycle).
    pub cycle: Arc<str>,
    /// The bucket and canonical key the event named: the fingerprint a pass compares.
    pub bucket: Arc<str>,
    pub key: Box<str>,
    /// When S3 says the object was created (the event's time): its LastModified.
    pub last_modified: DateTime<Utc>,
}

/// What applying presences did to the ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PresenceFigures {
    /// Entries that changed (new, or newly fresh, or a later LastModified).
    pub marked: usize,
    /// Presences the ledger already held: nothing to write for them.
    pub already_known: usize,
}

impl Ledger {
    /// Records each presence as a fresh confirmation of its cycle through the canonical key,
    /// at its LastModified (an entry about an older cycle starts the new one, as a pass's
    /// would). Entries of artifacts not in the ledger yet are added in one sort.
    pub fn apply_presences(&mut self, presences: &[Presence]) -> PresenceFigures {
        let mut figures = PresenceFigures::default();
        let mut new: Vec<(Box<str>, LedgerEntry)> = Vec::new();
        let mut new_ids: HashSet<&str> = HashSet::new();
        for presence in presences {
            let entry = match self.artifacts.get_mut(&presence.artifact_id) {
                Some(entry) => entry,
                None if new_ids.contains(&*presence.artifact_id) => {
                    let at = new.iter().position(|(id, _)| **id == *presence.artifact_id);
                    &mut new[at.expect("an id added is in `new`")].1
                }
                None => {
                    new_ids.insert(&presence.artifact_id);
                    let entry = LedgerEntry::new_cycle(presence.cycle.clone(), State::Missing);
                    new.push(((*presence.artifact_id).into(), entry));
                    &mut new.last_mut().expect("just pushed").1
                }
            };
            if entry.record_presence(presence) {
                figures.marked += 1;
            } else {
                figures.already_known += 1;
            }
        }
        for presence in presences {
            self.note_object_event(&presence.bucket, presence.last_modified);
        }
        new.sort_by(|a, b| a.0.cmp(&b.0));
        self.artifacts.add_new(new);
        figures
    }
}

impl Ledger {
    /// Remembers that an event told of an object created in `bucket` at `created`: the
    /// earliest such time is when that bucket's events are known to flow
    /// ([`Ledger::object_events_since`]).
    fn note_object_event(&mut self, bucket: &str, created: DateTime<Utc>) {
        let created = LedgerTime::saturating_from(created);
        match self.object_events_since.get_mut(bucket) {
            Some(since) => *since = (*since).min(created),
            None => {
                self.object_events_since.insert(bucket.into(), created);
            }
        }
    }
}

impl LedgerEntry {
    /// The entry as a probe finding `presence`'s object fresh leaves it; `false` when it held
    /// that already.
    fn record_presence(&mut self, presence: &Presence) -> bool {
        let before = self.clone();
        if *self.cycle != *presence.cycle {
            let missed_cycles = if self.ended_missed() {
                self.missed_cycles.saturating_add(1)
            } else {
                0
            };
            *self = LedgerEntry {
                missed_cycles,
                last_alert_at: self.last_alert_at,
                last_probe_at: self.last_probe_at,
                last_fresh_at: self.last_fresh_at,
                ..LedgerEntry::new_cycle(presence.cycle.clone(), State::Fresh)
            };
        }
        let seen = LedgerTime::saturating_from(presence.last_modified);
        let latest = |held: Option<LedgerTime>| Some(held.map_or(seen, |h| h.max(seen)));
        let same_key = probe_fingerprint(&presence.bucket, &presence.key);
        if self.state != State::Fresh || self.probe_fingerprint() != Some(same_key) {
            // A fresh verdict from another key (a recovery substitute, a moved template) is
            // replaced by this one's.
            self.last_modified = None;
        }
        self.state = State::Fresh;
        self.last_modified = latest(self.last_modified);
        self.fresh_at = Some(self.fresh_at.map_or(seen, |h| h.min(seen)));
        self.last_fresh_at = latest(self.last_fresh_at);
        self.last_probe_at = latest(self.last_probe_at);
        self.set_probe_fingerprint(Some(same_key));
        // `written` and `never_written_since` are left to the next pass: an artifact alerted
        // as never written is resolved by it, with that alert's own notice.
        *self != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(id: &str, cycle: &str, at: &str) -> Presence {
        Presence {
            artifact_id: id.into(),
            cycle: cycle.into(),
            bucket: "bkt".into(),
            key: format!("{id}/{cycle}.csv").into(),
            last_modified: at.parse().unwrap(),
        }
    }

    fn t(text: &str) -> LedgerTime {
        LedgerTime::saturating_from(text.parse().unwrap())
    }

    #[test]
    fn a_presence_leaves_the_entry_a_fresh_probe_of_the_canonical_key_leaves() {
        let mut ledger = Ledger::new();
        let figures = ledger.apply_presences(&[presence("b", "d1", "2026-06-01T06:30:00Z")]);
        assert_eq!(
            figures,
            PresenceFigures {
                marked: 1,
                already_known: 0
            }
        );
        let entry = &ledger.artifacts["b"];
        assert_eq!(entry.state, State::Fresh);
        assert_eq!(&*entry.cycle, "d1");
        assert_eq!(entry.last_modified, Some(t("2026-06-01T06:30:00Z")));
        assert_eq!(entry.last_probe_at, Some(t("2026-06-01T06:30:00Z")));
        assert_eq!(
            entry.probe_fingerprint(),
            Some(probe_fingerprint("bkt", "b/d1.csv"))
        );
    }

    #[test]
    fn duplicates_and_any_order_give_the_same_ledger() {
        let early = presence("a", "d1", "2026-06-01T06:30:00Z");
        let late = presence("a", "d1", "2026-06-01T06:45:00Z");
        let mut one = Ledger::new();
        one.apply_presences(&[early.clone(), late.clone()]);
        let mut other = Ledger::new();
        other.apply_presences(std::slice::from_ref(&late));
        let out_of_order = other.apply_presences(std::slice::from_ref(&early));
        assert_eq!(
            out_of_order.marked, 1,
            "an earlier event moves fresh_at back"
        );
        let again = other.apply_presences(&[early.clone(), late.clone()]);
        assert_eq!(
            again,
            PresenceFigures {
                marked: 0,
                already_known: 2
            }
        );
        assert_eq!(one.artifacts, other.artifacts);
        assert_eq!(
            one.artifacts["a"].last_modified,
            Some(t("2026-06-01T06:45:00Z"))
        );
        assert_eq!(one.artifacts["a"].fresh_at, Some(t("2026-06-01T06:30:00Z")));
    }

    #[test]
    fn a_new_cycle_starts_afresh_and_keeps_what_spans_cycles() {
        let mut ledger = Ledger::new();
        let mut entry = LedgerEntry::new_cycle("d1".into(), State::Missing);
        entry.first_missing_at = Some(t("2026-06-01T07:00:00Z"));
        entry.missed_cycles = 2;
        entry.alert_out = true;
        entry.last_alert_at = Some(t("2026-06-01T08:00:00Z"));
        ledger.artifacts.insert("a", entry);
        ledger.apply_presences(&[presence("a", "d2", "2026-06-02T06:30:00Z")]);
        let entry = &ledger.artifacts["a"];
        assert_eq!((&*entry.cycle, entry.missed_cycles), ("d2", 3));
        assert!(!entry.alert_out, "the alert was the old cycle's");
        assert_eq!(entry.last_alert_at, Some(t("2026-06-01T08:00:00Z")));
    }

    #[test]
    fn an_alerted_entry_of_the_same_cycle_keeps_its_alert_out() {
        let mut ledger = Ledger::new();
        let mut entry = LedgerEntry::new_cycle("d1".into(), State::Missing);
        entry.alert_out = true;
        ledger.artifacts.insert("a", entry);
        ledger.apply_presences(&[presence("a", "d1", "2026-06-01T09:00:00Z")]);
        let entry = &ledger.artifacts["a"];
        assert!(entry.alert_out && !entry.resolved_out);
        assert_eq!(entry.state, State::Fresh);
    }
}
