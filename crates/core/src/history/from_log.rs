//! Which past cycles the outcome log answers, and which the history still probes, and why.
//!
//! A cycle the passes (or an earlier scan) saw land (on time or late, its LastModified known)
//! is answered by its record: no probe. A cycle recorded missing is looked at again only when
//! its recheck is due ([`recheck_due`]); until then the record answers it (a gap). Everything
//! else is probed, each for a reason `history.json` counts (`probes_by_reason`): the log has
//! no record of it (before the log began, while the monitor was down, in an object that could
//! not be read), it was recorded missing and its recheck is due (a backfill may have filled
//! it since) or unknown, or the key its record names is not the key the registry renders for
//! it now (the template or bucket changed since).

use chrono::{DateTime, Utc};

use super::cell::{CellOutcome, Landed};
use crate::cadence::Cycle;
use crate::classify::minutes_past;
use crate::ledger::probe_fingerprint;
use crate::object::ObjectMeta;
use crate::outcome_log::{LogIndex, Outcome};
use crate::registry::ArtifactSpec;

/// Why a past cycle is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProbeReason {
    /// No record of it in the log.
    NotInLog,
    /// Recorded missing: a backfill may have filled it since.
    RecordedMissing,
    /// Recorded unknown (the passes' probes failed), or not expected when it is now.
    RecordedUnknown,
    /// Its record names another bucket or key than the registry renders now.
    TemplateChanged,
}

impl ProbeReason {
    pub const ALL: [ProbeReason; 4] = [
        ProbeReason::NotInLog,
        ProbeReason::RecordedMissing,
        ProbeReason::RecordedUnknown,
        ProbeReason::TemplateChanged,
    ];

    /// Its key in `history.json`'s `probes_by_reason`.
    pub fn name(self) -> &'static str {
        match self {
            ProbeReason::NotInLog => "not_in_log",
            ProbeReason::RecordedMissing => "recorded_missing",
            ProbeReason::RecordedUnknown => "recorded_unknown",
            ProbeReason::TemplateChanged => "template_changed",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the history does with one expected past cycle.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The log answers it.
    Logged(CellOutcome),
    /// It is probed.
    Probe(ProbeReason),
}

/// The answer for `spec`'s expected `cycle`, due at `due`, whose canonical key is
/// `canonical_key`, at `now`.
pub fn answer(
    log: Option<&LogIndex>,
    spec: &ArtifactSpec,
    cycle: &Cycle,
    canonical_key: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Answer {
    let Some(record) = log.and_then(|log| log.get(spec.id.as_str(), cycle.tick)) else {
        return Answer::Probe(ProbeReason::NotInLog);
    };
    if record.key_fingerprint != probe_fingerprint(&spec.s3_bucket, canonical_key) {
        return Answer::Probe(ProbeReason::TemplateChanged);
    }
    match (record.outcome, record.landed_at) {
        (Outcome::OnTime | Outcome::Late, Some(landed)) => {
            let landed = landed.to_utc();
            Answer::Logged(CellOutcome::Landed(Landed {
                meta: ObjectMeta {
                    last_modified: landed,
                    size: None,
                },
                on_time: landed <= due,
                minutes_late: minutes_past(landed, due),
                recovery_substituted: false,
            }))
        }
        (Outcome::Missing, _) if recheck_due(record.checked_at.to_utc(), due, now) => {
            Answer::Probe(ProbeReason::RecordedMissing)
        }
        (Outcome::Missing, _) => Answer::Logged(CellOutcome::Absent { seen: None }),
        _ => Answer::Probe(ProbeReason::RecordedUnknown),
    }
}

/// A cycle recorded missing is looked at again once as much time has passed since its last
/// look as had passed from its due time to that look (at least a day): at ages of about 1,
/// 2, 4, 8… days, so a backfill is noticed within its cycle's age again, and a cycle that
/// stays missing costs a few HEADs over the lookback, not one a day.
pub fn recheck_due(checked_at: DateTime<Utc>, due: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let waited = (checked_at - due).max(chrono::Duration::days(1));
    now - checked_at >= waited
}
