//! Which past cycles the outcome log answers, and which the history still probes, and why.
//!
//! A cycle the passes saw land (on time or late, its LastModified known) is answered by its
//! record: no probe. Everything else is probed, each for a reason `history.json` counts
//! (`probes_by_reason`): the log has no record of it (before the log began, while the
//! monitor was down, in an object that could not be read), it was recorded missing (a
//! backfill may have filled it since) or unknown, or the key its record names is not the key
//! the registry renders for it now (the template or bucket changed since).

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
/// `canonical_key`.
pub fn answer(
    log: Option<&LogIndex>,
    spec: &ArtifactSpec,
    cycle: &Cycle,
    canonical_key: &str,
    due: DateTime<Utc>,
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
        (Outcome::Missing, _) => Answer::Probe(ProbeReason::RecordedMissing),
        _ => Answer::Probe(ProbeReason::RecordedUnknown),
    }
}
