//! One past cycle of one artifact: what its probes saw, judged as a pure function.
//!
//! The rules mirror classification (docs/classification.md) with the history's own reading of
//! errors, as the original's `history.json` had it: a 404 **and a 403** are "not present" (S3
//! answers 403 for a missing key to a role without `s3:ListBucket`); any other error keeps its
//! code and is neither present nor a gap. An object counts for a cycle when its LastModified is
//! at or after the cycle's tick (an older one was written for an earlier cycle); the recovery
//! key is asked when the canonical one is absent or older, never after a failed probe.

use chrono::{DateTime, Utc};

use crate::classify::minutes_past;
use crate::object::{ObjectMeta, StoreError};

/// What the scan found for one past cycle.
#[derive(Debug, Clone, PartialEq)]
pub enum CellOutcome {
    /// Not expected, so not probed and never a gap.
    NotExpected(NotExpected),
    /// An object for this cycle was found.
    Landed(Landed),
    /// Nothing for this cycle: not found, or only an object older than its tick (`seen`).
    Absent { seen: Option<ObjectMeta> },
    /// The probe failed; the cycle's outcome is unknown.
    Failed(ProbeError),
}

/// Why a cycle was not expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotExpected {
    /// A closed market day on a calendar-aware cadence (the cycle's `closure` says which).
    MarketClosed,
    /// The cycle ticked before the artifact's grace period ended (it did not exist yet).
    BeforeGraceEnd,
    /// A continuous feed's bucket in which none of its active windows was open.
    OutsideWindows,
}

/// An object that counted for its cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Landed {
    pub meta: ObjectMeta,
    /// Its LastModified was at or before the cycle's due time (tick + SLA).
    pub on_time: bool,
    /// Whole minutes after the due time it landed; 0 when on time.
    pub minutes_late: i64,
    /// The recovery key's object, the canonical one being absent or older.
    pub recovery_substituted: bool,
}

/// A probe that could not tell: a short stable code and the operator's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeError {
    /// The HTTP status for S3 answers (`"500"`, `"503"`), else `Timeout`, `ConnectionError`,
    /// `Deadline`, `InternalError` or `Error`.
    pub code: Box<str>,
    pub message: Box<str>,
}

impl ProbeError {
    pub fn of(error: &StoreError) -> Self {
        let code = match error {
            StoreError::Throttled { status } | StoreError::Server { status } => status.to_string(),
            StoreError::Timeout { .. } => "Timeout".to_string(),
            StoreError::Connection(_) => "ConnectionError".to_string(),
            StoreError::Deadline => DEADLINE_CODE.to_string(),
            _ => "Error".to_string(),
        };
        ProbeError {
            code: code.into(),
            message: error.to_string().into(),
        }
    }

    /// A bug met while probing one cycle (a panic): that cycle's error, not the scan's.
    pub fn internal(message: &str) -> Self {
        ProbeError {
            code: "InternalError".into(),
            message: format!(
                "internal error (a bug in freshness-monitor; please report it): {message}"
            )
            .into(),
        }
    }

    /// Not probed because the invocation's deadline was near.
    pub fn is_deadline(&self) -> bool {
        &*self.code == DEADLINE_CODE
    }
}

const DEADLINE_CODE: &str = "Deadline";

/// A HEAD's answer as the history reads it: 404, 403 and a missing bucket are "not there".
pub type Seen = Result<Option<ObjectMeta>, StoreError>;

fn normalized(seen: Seen) -> Seen {
    match seen {
        Err(
            StoreError::NotFound { .. }
            | StoreError::AccessDenied { .. }
            | StoreError::NoSuchBucket { .. },
        ) => Ok(None),
        other => other,
    }
}

/// Whether the recovery key is asked: the canonical one is not there or older than the tick.
pub fn needs_recovery(canonical: &Seen, tick: DateTime<Utc>) -> bool {
    match canonical {
        Ok(None) => true,
        Ok(Some(meta)) => meta.last_modified < tick,
        Err(e) => matches!(
            e,
            StoreError::NotFound { .. }
                | StoreError::AccessDenied { .. }
                | StoreError::NoSuchBucket { .. }
        ),
    }
}

/// Judges one past cycle from its probes (`recovery` when [`needs_recovery`] asked for it).
pub fn judge(
    canonical: Seen,
    recovery: Option<Seen>,
    tick: DateTime<Utc>,
    due: DateTime<Utc>,
) -> CellOutcome {
    let landed = |meta: ObjectMeta, recovery_substituted| {
        CellOutcome::Landed(Landed {
            meta,
            on_time: meta.last_modified <= due,
            minutes_late: minutes_past(meta.last_modified, due),
            recovery_substituted,
        })
    };
    let canonical = match normalized(canonical) {
        Err(e) => return CellOutcome::Failed(ProbeError::of(&e)),
        Ok(Some(meta)) if meta.last_modified >= tick => return landed(meta, false),
        Ok(seen) => seen,
    };
    match recovery.map(normalized) {
        Some(Err(e)) => CellOutcome::Failed(ProbeError::of(&e)),
        Some(Ok(Some(meta))) if meta.last_modified >= tick => landed(meta, true),
        _ => CellOutcome::Absent { seen: canonical },
    }
}
