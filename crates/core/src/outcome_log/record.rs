//! One line of the outcome log: a closed cycle of one artifact (docs/outputs.md#the-outcome-log).
//!
//! Every field is written on every line (absent values as `null`), in this order, so a reader
//! infers one schema from any line. A new field may be added within a schema version; a field
//! is never renamed or given another meaning without a new `schema_version`.

use serde::{Deserialize, Serialize};

use crate::ledger::LedgerTime;

/// The schema this build writes and reads; a record of a later version is not read.
pub const SCHEMA_VERSION: u32 = 1;

/// One closed cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    pub schema_version: u32,
    pub artifact_id: Box<str>,
    /// The cadence's name (`weekday_sf`, `continuous`, a cron cadence's name).
    pub cadence: Box<str>,
    pub cycle_label: Box<str>,
    pub tick: LedgerTime,
    /// tick + `sla_minutes_after_cron`.
    pub due_at: LedgerTime,
    /// False for a cycle nothing was expected in: a closed market day, a bucket outside the
    /// artifact's active windows, a cycle before its grace period ended.
    pub expected: bool,
    pub outcome: Outcome,
    /// The LastModified a pass saw for this cycle; `null` when none saw it land.
    pub landed_at: Option<LedgerTime>,
    /// `landed_at <= due_at`; `null` when it did not land (as seen).
    pub on_time: Option<bool>,
    /// Whole minutes from `due_at` to `landed_at` (0 when on time); `null` when it did not land.
    pub minutes_late: Option<i64>,
    /// An alert for this cycle went out (sent by a pass or held by a published marker).
    pub alerted: bool,
    pub known_by: KnownBy,
    pub s3_bucket: Box<str>,
    /// The canonical key as the registry rendered it for this cycle when it closed.
    pub s3_key: Box<str>,
    /// When the pass that closed the cycle ran.
    pub recorded_at: LedgerTime,
    /// A set's (`partitions:`) keys in the cycle, as the last pass (or the history's recheck)
    /// that listed it counted; `null` for an artifact that is not a set, or a set no listing
    /// counted in the cycle. Lines written before it read as `null`.
    #[serde(default)]
    pub set_total: Option<u32>,
    /// Of those, the keys written since the cycle's tick: the cycle is complete when it
    /// equals `set_total`, partial below (`set_written / set_total` the fraction).
    #[serde(default)]
    pub set_written: Option<u32>,
}

/// A set's counts in one cycle (`set_total`, `set_written`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetCycle {
    pub total: u32,
    pub written: u32,
}

impl SetCycle {
    /// Every key was written since the tick.
    pub fn complete(self) -> bool {
        self.written >= self.total
    }

    /// `written / total`, rounded to 4 decimals (1 for a set of no keys).
    pub fn fraction(self) -> f64 {
        if self.total == 0 {
            return 1.0;
        }
        (f64::from(self.written) / f64::from(self.total) * 10_000.0).round() / 10_000.0
    }
}

/// What the cycle came to, as the passes saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Landed at or before its due time.
    OnTime,
    /// Landed after its due time.
    Late,
    /// The last pass in the cycle saw it missing or stale.
    Missing,
    /// No pass could tell (its probes failed, or none probed it in the cycle).
    Unknown,
    /// Nothing was expected (`expected: false`).
    NotExpected,
}

/// How the outcome was known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KnownBy {
    /// The passes: a HEAD, or a page of a listing, during the cycle.
    Pass,
    /// A history scan's HEAD after the cycle closed (the history's compacted log only).
    Recheck,
    /// Nothing looked (nothing was expected, or no probe answered).
    None,
}

impl OutcomeRecord {
    /// A set's counts, when the record has them.
    pub fn set_cycle(&self) -> Option<SetCycle> {
        Some(SetCycle {
            total: self.set_total?,
            written: self.set_written?,
        })
    }

    /// The record as one line of the log (compact JSON, no newline).
    pub fn to_line(&self) -> Box<str> {
        serde_json::to_string(self)
            .expect("a record always serializes")
            .into_boxed_str()
    }

    /// Whether the log answers this cycle for the history without a probe: it landed as seen
    /// (on time or late, the LastModified known) or nothing was expected. A cycle recorded
    /// missing or unknown is probed again (a backfill may have filled it since).
    pub fn answers(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::OnTime | Outcome::Late | Outcome::NotExpected
        )
    }
}
