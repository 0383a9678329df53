//! Reading the log back: one object's lines checked ([`read_object`]), and every record
//! gathered by artifact and cycle ([`LogIndex`]) for the history.
//!
//! A bad object never fails a reader: a line that is not a record of this schema is skipped
//! and the object named in a warning (its cycles are then simply not in the log, and the
//! history probes them); a record of a later schema version is skipped with a warning (a
//! newer monitor wrote it); a record of a cycle that has not ticked yet at the reader's `now`
//! (a pass with a clock ahead) is skipped with a warning; the same cycle recorded twice (two
//! passes closing it at once, a retried write) collapses into one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::record::{Outcome, OutcomeRecord, SCHEMA_VERSION};
use crate::ledger::{LedgerTime, probe_fingerprint};

/// What one object held: its usable records and what was wrong with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRead {
    pub records: Vec<OutcomeRecord>,
    /// One line per problem, naming the object (`name`).
    pub warnings: Vec<String>,
}

/// At most this many lines of one object are quoted in warnings; the rest are counted.
const QUOTED_LINES: usize = 3;

/// Reads the log object `name` (already decompressed: `text`) at `now`.
pub fn read_object(name: &str, text: &str, now: DateTime<Utc>) -> LogRead {
    let mut reader = ObjectReader::new(name, now);
    let records = text.lines().filter_map(|line| reader.line(line)).collect();
    LogRead {
        records,
        warnings: reader.warnings(),
    }
}

/// One object's lines read one at a time (a big object is never held whole), its problems
/// gathered for [`ObjectReader::warnings`].
pub struct ObjectReader<'a> {
    name: &'a str,
    now: LedgerTime,
    lines: usize,
    bad: Vec<String>,
    bad_count: usize,
    future_versions: Vec<u32>,
    future_cycles: usize,
}

impl<'a> ObjectReader<'a> {
    pub fn new(name: &'a str, now: DateTime<Utc>) -> Self {
        ObjectReader {
            name,
            now: LedgerTime::saturating_from(now),
            lines: 0,
            bad: Vec::new(),
            bad_count: 0,
            future_versions: Vec::new(),
            future_cycles: 0,
        }
    }

    /// The next line's record, when it is a usable one.
    pub fn line(&mut self, line: &str) -> Option<OutcomeRecord> {
        self.lines += 1;
        if line.trim().is_empty() {
            return None;
        }
        match parse_line(line) {
            Line::Record(record) if record.tick > self.now => self.future_cycles += 1,
            Line::Record(record) => return Some(record),
            Line::FutureVersion(v) => {
                if !self.future_versions.contains(&v) {
                    self.future_versions.push(v);
                }
            }
            Line::Unreadable(why) => {
                self.bad_count += 1;
                if self.bad.len() < QUOTED_LINES {
                    self.bad.push(format!("line {}: {why}", self.lines));
                }
            }
        }
        None
    }

    /// One line per kind of problem met, naming the object.
    pub fn warnings(self) -> Vec<String> {
        let name = self.name;
        let mut warnings = Vec::new();
        if self.bad_count > 0 {
            let more = self.bad_count - self.bad.len();
            let more = if more > 0 {
                format!("; {more} more")
            } else {
                String::new()
            };
            warnings.push(format!(
                "{name}: {} unreadable line(s), their cycles probed instead ({}{more})",
                self.bad_count,
                self.bad.join("; ")
            ));
        }
        if !self.future_versions.is_empty() {
            let versions: Vec<String> = self.future_versions.iter().map(u32::to_string).collect();
            warnings.push(format!(
                "{name}: records of schema version {} (this monitor reads version \
                 {SCHEMA_VERSION}) skipped, their cycles probed instead",
                versions.join(", ")
            ));
        }
        if self.future_cycles > 0 {
            warnings.push(format!(
                "{name}: {} record(s) of cycles that had not ticked yet at {} ignored (the \
                 writing pass's clock was ahead)",
                self.future_cycles, self.now
            ));
        }
        warnings
    }
}

enum Line {
    Record(OutcomeRecord),
    FutureVersion(u32),
    Unreadable(String),
}

#[derive(Deserialize)]
struct VersionOnly {
    schema_version: u32,
}

fn parse_line(line: &str) -> Line {
    match serde_json::from_str::<OutcomeRecord>(line) {
        Ok(record) if record.schema_version == SCHEMA_VERSION => Line::Record(record),
        Ok(record) if record.schema_version > SCHEMA_VERSION => {
            Line::FutureVersion(record.schema_version)
        }
        Ok(record) => Line::Unreadable(format!("schema_version {}", record.schema_version)),
        Err(e) => match serde_json::from_str::<VersionOnly>(line) {
            Ok(v) if v.schema_version > SCHEMA_VERSION => Line::FutureVersion(v.schema_version),
            _ => Line::Unreadable(e.to_string()),
        },
    }
}

/// What the history needs of one recorded cycle (32 bytes; millions are held).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub tick: LedgerTime,
    pub landed_at: Option<LedgerTime>,
    /// When it was last looked at (the record's `recorded_at`).
    pub checked_at: LedgerTime,
    pub outcome: Outcome,
    pub alerted: bool,
    pub known_by: super::KnownBy,
    /// [`probe_fingerprint`] of the bucket and key the record names.
    pub key_fingerprint: u64,
}

impl Recorded {
    /// What the history keeps of `record`.
    pub fn of(record: &OutcomeRecord) -> Recorded {
        Recorded {
            tick: record.tick,
            landed_at: record.landed_at,
            checked_at: record.recorded_at,
            outcome: record.outcome,
            alerted: record.alerted,
            known_by: record.known_by,
            key_fingerprint: probe_fingerprint(&record.s3_bucket, &record.s3_key),
        }
    }
}

/// Every record read, by artifact id, each cycle (tick) once.
#[derive(Debug, Clone, Default)]
pub struct LogIndex {
    by_artifact: HashMap<Box<str>, Vec<Recorded>>,
    /// The sets' counts of the cycles held, apart: few artifacts are sets, and the millions
    /// of [`Recorded`] stay 32 bytes.
    set_cycles: HashMap<Box<str>, Vec<(LedgerTime, super::SetCycle)>>,
    /// Records that repeated a cycle already held (collapsed).
    pub duplicates: usize,
    pub records: usize,
}

impl LogIndex {
    /// Adds the records of one object.
    pub fn add(&mut self, records: Vec<OutcomeRecord>) {
        for record in records {
            self.add_one(record);
        }
    }

    /// Adds one record.
    pub fn add_one(&mut self, record: OutcomeRecord) {
        let set = record.set_cycle();
        let recorded = Recorded::of(&record);
        if self.add_recorded(&record.artifact_id, recorded)
            && let Some(set) = set
        {
            self.add_set_cycle(&record.artifact_id, recorded.tick, set);
        }
    }

    /// Adds what the history keeps of one record of `id` (the compacted log's packed form);
    /// `true` when it is the one now held for its cycle (a duplicate that lost is not).
    pub fn add_recorded(&mut self, id: &str, recorded: Recorded) -> bool {
        let cycles = match self.by_artifact.get_mut(id) {
            Some(cycles) => cycles,
            None => self.by_artifact.entry(id.into()).or_default(),
        };
        match cycles.iter_mut().find(|held| held.tick == recorded.tick) {
            Some(held) => {
                self.duplicates += 1;
                let won = better(&recorded, held);
                if won {
                    *held = recorded;
                }
                won
            }
            None => {
                self.records += 1;
                cycles.push(recorded);
                true
            }
        }
    }

    /// Adds a set's counts for its cycle at `tick` (the latest added wins).
    pub fn add_set_cycle(&mut self, id: &str, tick: LedgerTime, set: super::SetCycle) {
        let cycles = self.set_cycles.entry(id.into()).or_default();
        cycles.retain(|(held, _)| *held != tick);
        cycles.push((tick, set));
    }

    /// The set's counts recorded for `id`'s cycle that ticked at `tick`, if any.
    pub fn set_cycle(&self, id: &str, tick: DateTime<Utc>) -> Option<super::SetCycle> {
        let tick = LedgerTime::from_utc(tick)?;
        let cycles = self.set_cycles.get(id)?;
        cycles
            .iter()
            .find(|(held, _)| *held == tick)
            .map(|(_, set)| *set)
    }

    /// The record of `id`'s cycle that ticked at `tick`.
    pub fn get(&self, id: &str, tick: DateTime<Utc>) -> Option<&Recorded> {
        let tick = LedgerTime::from_utc(tick)?;
        self.by_artifact.get(id)?.iter().find(|r| r.tick == tick)
    }

    pub fn is_empty(&self) -> bool {
        self.by_artifact.is_empty()
    }

    /// Moves `id`'s records (and a set's counts) out of this index into `into`, as if they
    /// were added there now, after what it holds: a record that loses to one `into` holds of
    /// its cycle is dropped with its set's counts, as [`LogIndex::add_one`] does. Returns how
    /// many records left this index (0: none held).
    pub fn move_artifact(&mut self, id: &str, into: &mut LogIndex) -> usize {
        let Some(records) = self.by_artifact.remove(id) else {
            return 0;
        };
        let sets = self.set_cycles.remove(id).unwrap_or_default();
        for recorded in &records {
            let won = into.add_recorded(id, *recorded);
            let set = sets.iter().find(|(tick, _)| *tick == recorded.tick);
            if let (true, Some((tick, set))) = (won, set) {
                into.add_set_cycle(id, *tick, *set);
            }
        }
        records.len()
    }
}

/// Of two records of one cycle, the one that answers it (landed, or nothing expected) wins,
/// the earlier landing when both landed, else the later look (a recheck after the pass's).
fn better(candidate: &Recorded, held: &Recorded) -> bool {
    let answers = |r: &Recorded| r.landed_at.is_some() || r.outcome == Outcome::NotExpected;
    match (answers(candidate), answers(held)) {
        (true, false) => true,
        (true, true) => candidate.landed_at < held.landed_at,
        (false, false) => candidate.checked_at > held.checked_at,
        (false, true) => false,
    }
}
