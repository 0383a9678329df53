//! The monitor's memory across passes: per artifact, the cycle it is in, when it was first
//! seen missing in that cycle, when it was confirmed fresh, how many cycles in a row it
//! missed, the last alert and the last probe.
//!
//! The ledger is a cache of what passes observed, never an authority: the dedup markers stay
//! the authority on "sent once", and a ledger that is missing, unreadable or of an unknown
//! version is rebuilt from scratch without failing the pass. Advancing it is pure
//! ([`Ledger::advance`]); reading and the conditional write live in the shell's `ledger::store`.

pub mod awaiting;
mod content;
pub mod current;
mod set_counts;
mod entries;
mod file;
pub mod overdue;
mod presence;
mod time;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use content::{ContentRecord, ContentRecords};
pub use entries::LedgerEntries;
pub use presence::{Presence, PresenceFigures};
pub use set_counts::{SetCount, SetCounts};
pub use time::LedgerTime;

use crate::classify::State;
use crate::report::ResultRow;

/// The file format's version; another version is rebuilt, not read.
pub const LEDGER_VERSION: u32 = 1;

/// The ledger file: `{version, written_at, artifacts: {id: entry}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub written_at: Option<DateTime<Utc>>,
    /// The time the deadline schedule was last set to, confirmed by EventBridge Scheduler
    /// (docs/lambda.md#deadline-passes): a pass that would set the same time makes no call.
    /// Absent when none is known to be set.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub deadline_schedule_at: Option<DateTime<Utc>>,
    pub artifacts: LedgerEntries,
    /// What the content checks remember, for the artifacts that have one (`content.rs`).
    #[serde(default, skip_serializing_if = "ContentRecords::is_empty")]
    pub content: ContentRecords,
    /// Each set's counts in its current cycle (`set_counts.rs`), for the outcome log.
    #[serde(default, skip_serializing_if = "SetCounts::is_empty")]
    pub sets: SetCounts,
    /// Outcome-log lines of closed cycles no pass could write yet (docs/outputs.md#the-outcome-log):
    /// kept as written, and written by the next pass that can.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unrecorded_outcomes: Vec<Box<str>>,
    /// Per bucket, the creation time of the earliest object whose S3 "Object Created" event
    /// marked an artifact in it (`presence.rs`): from then on that bucket's landings are told
    /// by events, which lets a pass leave a cycle unprobed until its deadline (`awaiting.rs`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub object_events_since: BTreeMap<Box<str>, LedgerTime>,
}

/// What earlier passes learned about one artifact. Absent times are unknown (not yet seen).
/// Held compactly (64 bytes; a million are held through a pass): times as [`LedgerTime`], the
/// cycle label shared by every entry in that cycle, the fingerprint's presence in a flag. Its
/// file form is docs/outputs.md#ledgerjson's (`ledger/file.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    /// The cycle label these facts are about (one allocation per distinct label).
    pub cycle: Arc<str>,
    /// When a pass first saw it missing or stale in this cycle.
    pub first_missing_at: Option<LedgerTime>,
    /// When a pass first confirmed it fresh in this cycle.
    pub fresh_at: Option<LedgerTime>,
    /// The LastModified seen when it was confirmed fresh.
    pub last_modified: Option<LedgerTime>,
    /// Cycles in a row that ended missing or stale, before this one.
    pub missed_cycles: u32,
    /// When an alert for it last went out (any cycle).
    pub last_alert_at: Option<LedgerTime>,
    /// When a pass last probed it (HEAD), any cycle.
    pub last_probe_at: Option<LedgerTime>,
    /// The state the last pass gave it (how the cycle stood when it ended).
    pub state: State,
    /// When a pass last confirmed it fresh, any cycle: an acknowledgement made before it has
    /// ended (docs/alerts.md#acknowledgements).
    pub last_fresh_at: Option<LedgerTime>,
    /// A pass saw an object at its key or under its template's fixed prefix: it is not
    /// "never written" (docs/alerts.md#never-written).
    pub written: bool,
    /// When a listing of its template's fixed prefix found nothing at all (cleared once it
    /// is written); remembered so the prefix is listed once, not every pass.
    pub never_written_since: Option<LedgerTime>,
    /// See [`LedgerEntry::probe_fingerprint`]; meaningful when `fingerprinted`.
    fingerprint: u64,
    fingerprinted: bool,
    /// This cycle's alert is known to be out: sent by a pass, or held by a published marker
    /// (this monitor's or the original's). The pass then needs no claim for it.
    pub alert_out: bool,
    /// This cycle's RESOLVED notice is known to be out.
    pub resolved_out: bool,
}

/// Optional times as the monitor writes them everywhere (RFC 3339 UTC, seconds; `null` when
/// absent); the acknowledgements use it too.
pub(crate) mod opt_time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.collect_str(&crate::text::Rfc3339(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| {
            DateTime::parse_from_rfc3339(&t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

/// The fingerprint of what a probe of `key` in `bucket` looks at: FNV-1a (64 bits) of the
/// bucket, a NUL and the key, stable across builds and platforms.
pub fn probe_fingerprint(bucket: &str, key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bucket.bytes().chain([0]).chain(key.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl Ledger {
    /// An empty ledger of the current version.
    pub fn new() -> Ledger {
        Ledger {
            version: LEDGER_VERSION,
            ..Ledger::default()
        }
    }

    /// The ledger after a pass at `now` that produced `rows` and sent alerts for the artifacts
    /// in `alerted`. Artifacts the pass did not judge (not selected, removed from the
    /// registry) keep their entries only when they are still in the registry's `known` ids.
    pub fn advance(
        &mut self,
        rows: &[ResultRow],
        alerted: &[&str],
        now: DateTime<Utc>,
        known: impl Fn(&str) -> bool,
    ) {
        self.artifacts.retain(&known);
        self.content.retain(&known);
        self.sets.retain(&known);
        let alerted: HashSet<&str> = alerted.iter().copied().collect();
        let pass_at = LedgerTime::saturating_from(now);
        let mut labels = CycleLabels::default();
        // Entries held are advanced in place; new ones are added in one go at the end.
        let mut new: Vec<&ResultRow> = Vec::new();
        for row in rows {
            let Some(cycle) = &row.context.cycle_label else {
                continue; // an invalid entry has no cycle to remember
            };
            let was_alerted = alerted.contains(&*row.artifact_id);
            if let Some(seen) = row.content_seen() {
                self.content.observe(&row.artifact_id, cycle, seen);
            }
            if let Some(set) = row.set_summary() {
                self.sets.observe(&row.artifact_id, cycle, set);
            }
            match self.artifacts.get_mut(&row.artifact_id) {
                Some(entry) => entry.advance(labels.shared(cycle), row, was_alerted, pass_at),
                None => new.push(row),
            }
        }
        let added = new_entries(new, &alerted, pass_at, &mut labels);
        self.artifacts.add_new(added);
        self.version = LEDGER_VERSION;
        self.written_at = Some(now);
    }

    /// Records what the pass's alert delivery learned, after [`Ledger::advance`] of the same
    /// pass: the artifacts whose alert for their current cycle is out (`alert_out`: sent now
    /// or held by a published marker) and whose RESOLVED notice is out (`resolved_out`).
    pub fn note_alerts<'a>(
        &mut self,
        alert_out: impl IntoIterator<Item = &'a str>,
        resolved_out: impl IntoIterator<Item = &'a str>,
    ) {
        for id in alert_out {
            if let Some(entry) = self.artifacts.get_mut(id) {
                entry.alert_out = true;
            }
        }
        for id in resolved_out {
            if let Some(entry) = self.artifacts.get_mut(id) {
                entry.resolved_out = true;
            }
        }
    }

    /// The entry of `id` when it is about `cycle`.
    pub fn in_cycle(&self, id: &str, cycle: &str) -> Option<&LedgerEntry> {
        self.artifacts.get(id).filter(|e| *e.cycle == *cycle)
    }

    /// Whether the last pass left any artifact missing, stale or unprobed: then this pass is
    /// likely to alert again, and the shell reads the acknowledgements beside the probes
    /// instead of after them (one round trip less; a LIST spent for nothing only on the pass
    /// where the last of them turns fresh).
    pub fn left_something_alerting(&self) -> bool {
        (self.artifacts.iter())
            .any(|(_, e)| matches!(e.state, State::Missing | State::Stale | State::ProbeFailed))
    }

    /// Whether the last pass left artifact `id` missing or stale (in whatever cycle): then its
    /// canonical key most likely still is, and rule 4 will HEAD its recovery key, so the
    /// shell sends that HEAD beside the canonical key's probe instead of after it (one round
    /// trip less; a HEAD spent for nothing only on the pass where the canonical key lands).
    pub fn left_missing_or_stale(&self, id: &str) -> bool {
        (self.artifacts.get(id)).is_some_and(|e| matches!(e.state, State::Missing | State::Stale))
    }

    /// Remembers what this pass's listings of template prefixes found (`(id, found
    /// anything)`), for the artifacts the ledger holds.
    pub fn note_listings(&mut self, listings: &[(String, bool)], now: DateTime<Utc>) {
        for (id, found) in listings {
            let Some(entry) = self.artifacts.get_mut(id) else {
                continue;
            };
            if *found {
                entry.written = true;
                entry.never_written_since = None;
            } else if !entry.written {
                entry
                    .never_written_since
                    .get_or_insert(LedgerTime::saturating_from(now));
            }
        }
    }
}

/// The entries of the artifacts a pass judged for the first time (`new`, its rows), in id
/// order; a repeated id's rows advance one entry in turn.
fn new_entries(
    mut new: Vec<&ResultRow>,
    alerted: &HashSet<&str>,
    now: LedgerTime,
    labels: &mut CycleLabels,
) -> Vec<(Box<str>, LedgerEntry)> {
    new.sort_by(|a, b| a.artifact_id.cmp(&b.artifact_id)); // stable: repeats stay in order
    // Sized for every row new (exact when ids are unique): no doubling, no slack kept.
    let mut added = Vec::with_capacity(new.len());
    for repeats in new.chunk_by(|a, b| a.artifact_id == b.artifact_id) {
        let mut entry: Option<LedgerEntry> = None;
        for row in repeats {
            let cycle = labels.shared(row.context.cycle_label.as_ref().expect("rows with a cycle"));
            let was_alerted = alerted.contains(&*row.artifact_id);
            entry
                .get_or_insert_with(|| LedgerEntry::new_cycle(cycle.clone(), row.state))
                .advance(cycle, row, was_alerted, now);
        }
        let id = (*repeats[0].artifact_id).into();
        added.push((id, entry.expect("a group has a row")));
    }
    added
}

/// One shared allocation per distinct cycle label: the first row's label is kept (a clone of
/// its `Arc`, no copy) and handed to every later entry in the same cycle.
#[derive(Default)]
struct CycleLabels(HashSet<Arc<str>>);

impl CycleLabels {
    fn shared(&mut self, label: &Arc<str>) -> Arc<str> {
        if let Some(held) = self.0.get(&**label) {
            return held.clone();
        }
        self.0.insert(label.clone());
        label.clone()
    }
}

impl LedgerEntry {
    /// Advances the entry by one pass's row about `cycle` (a new cycle starts afresh, keeping
    /// what spans cycles).
    fn advance(&mut self, cycle: Arc<str>, row: &ResultRow, alerted: bool, now: LedgerTime) {
        if self.cycle != cycle {
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
                written: self.written,
                never_written_since: self.never_written_since,
                ..LedgerEntry::new_cycle(cycle, row.state)
            };
        }
        self.state = row.state;
        if row.awaiting_event {
            // Not probed, not seen missing: the entry keeps its last probe and waits.
            return;
        }
        match row.last_probed_at() {
            Some(at) => self.last_probe_at = Some(LedgerTime::saturating_from(at)),
            None if was_probed(row) => self.last_probe_at = Some(now),
            None => {}
        }
        self.set_probe_fingerprint(settled_fingerprint(row));
        let last_modified = row.last_modified().map(LedgerTime::saturating_from);
        match row.state {
            State::Missing | State::Stale | State::Suspect => {
                self.first_missing_at.get_or_insert(now);
            }
            State::Fresh if last_modified.is_some() => {
                self.fresh_at.get_or_insert(now);
                self.last_modified = last_modified;
                self.last_fresh_at = Some(now);
            }
            State::Fresh | State::ProbeFailed | State::GracePeriod => {}
        }
        if alerted {
            self.last_alert_at = Some(now);
        }
        if last_modified.is_some() {
            self.written = true;
            self.never_written_since = None;
        }
    }

    /// Nothing known yet about `cycle`.
    pub fn new_cycle(cycle: Arc<str>, state: State) -> LedgerEntry {
        LedgerEntry {
            cycle,
            first_missing_at: None,
            fresh_at: None,
            last_modified: None,
            missed_cycles: 0,
            last_alert_at: None,
            last_probe_at: None,
            state,
            last_fresh_at: None,
            written: false,
            never_written_since: None,
            fingerprint: 0,
            fingerprinted: false,
            alert_out: false,
            resolved_out: false,
        }
    }

    /// What was probed when the canonical key was confirmed fresh in this cycle: a hash of
    /// the bucket and the rendered key ([`probe_fingerprint`]). A registry edit that moves the
    /// key (template, bucket) changes it, so the cycle is no longer settled. `None` when the
    /// cycle is not settled (not fresh, or fresh through the recovery key).
    pub fn probe_fingerprint(&self) -> Option<u64> {
        self.fingerprinted.then_some(self.fingerprint)
    }

    pub fn set_probe_fingerprint(&mut self, fingerprint: Option<u64>) {
        self.fingerprinted = fingerprint.is_some();
        self.fingerprint = fingerprint.unwrap_or(0);
    }

    /// Cycles in a row missed by the end of `cycle`, counting it as missed: what an alert
    /// in `cycle` would say (the escalation rule, docs/alerts.md#escalation).
    pub fn consecutive_misses_through(&self, cycle: &str) -> u32 {
        let before = if *self.cycle == *cycle {
            self.missed_cycles
        } else if self.ended_missed() {
            self.missed_cycles.saturating_add(1)
        } else {
            0
        };
        before.saturating_add(1)
    }

    /// The cycle ended missing or stale (never confirmed fresh, last seen missing or stale by
    /// a probe: a cycle left unprobed while [awaiting its event](awaiting) is not known missed).
    pub fn ended_missed(&self) -> bool {
        self.fresh_at.is_none()
            && self.first_missing_at.is_some()
            && matches!(self.state, State::Missing | State::Stale | State::Suspect)
    }
}

/// The fingerprint of a row whose canonical key a probe (now or earlier in the cycle) found
/// fresh; `None` for any other row.
fn settled_fingerprint(row: &ResultRow) -> Option<u64> {
    match (row.s3_bucket(), &row.canonical_key, row.last_modified) {
        (Some(bucket), Some(key), Some(_))
            if row.state == State::Fresh && !row.recovery_substituted =>
        {
            Some(probe_fingerprint(bucket, key))
        }
        _ => None,
    }
}

/// Whether the row comes from a HEAD (not a grace period or a closed market day, where no
/// probe is made, nor an invalid entry).
fn was_probed(row: &ResultRow) -> bool {
    match row.state {
        State::Missing | State::Stale | State::Suspect => true,
        State::Fresh => row.last_modified.is_some(),
        State::ProbeFailed => row.cycle_label().is_some(),
        State::GracePeriod => false,
    }
}

#[cfg(test)]
mod tests;
