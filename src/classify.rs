//! Classification of one artifact at one `now` (docs/classification.md), as pure functions.
//!
//! The pass asks [`decide_without_probe`] first (grace period, market closure: no S3 call),
//! then probes the canonical key, asks [`needs_recovery_probe`], and hands what it saw to
//! [`judge`]. Keeping the decisions here, apart from the probing, is what lets every rule be
//! pinned by a unit test with a fixed clock.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Serialize;

use crate::cadence::Cycle;
use crate::registry::ArtifactSpec;
use crate::store::{ObjectMeta, S3Url, StoreError};
use crate::text::{Rfc3339, human_duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Fresh,
    Stale,
    Missing,
    ProbeFailed,
    GracePeriod,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Fresh,
        State::Stale,
        State::Missing,
        State::ProbeFailed,
        State::GracePeriod,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Fresh => "fresh",
            State::Stale => "stale",
            State::Missing => "missing",
            State::ProbeFailed => "probe_failed",
            State::GracePeriod => "grace_period",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict on one artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub state: State,
    pub reason: String,
    pub last_modified: Option<DateTime<Utc>>,
    pub sla_violated_by_minutes: i64,
    pub recovery_substituted: bool,
}

impl Classification {
    /// Missing or stale past the SLA, or unable to see at all.
    pub fn is_alerting(&self) -> bool {
        match self.state {
            State::Missing | State::Stale => self.sla_violated_by_minutes > 0,
            State::ProbeFailed => true,
            State::Fresh | State::GracePeriod => false,
        }
    }

    pub fn probe_failed(reason: String) -> Classification {
        Classification {
            state: State::ProbeFailed,
            reason,
            last_modified: None,
            sla_violated_by_minutes: 0,
            recovery_substituted: false,
        }
    }
}

/// What the pass saw for one key.
pub type ProbeOutcome = Result<Option<ObjectMeta>, StoreError>;

/// An artifact's keys and due time in one cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedKeys {
    pub canonical_key: String,
    pub recovery_key: Option<String>,
    pub due_at: DateTime<Utc>,
}

impl ResolvedKeys {
    pub fn resolve(spec: &ArtifactSpec, cycle: &Cycle) -> ResolvedKeys {
        let values = crate::template::TemplateValues {
            date: cycle.date,
            cycle_label: &cycle.label,
            trading_day: cycle.trading_day,
        };
        ResolvedKeys {
            canonical_key: spec.s3_key_template.render(&values),
            recovery_key: spec
                .recovery_key_template
                .as_ref()
                .map(|t| t.render(&values)),
            due_at: cycle.tick + Duration::minutes(i64::from(spec.sla_minutes_after_cron)),
        }
    }
}

/// When the grace period of a new artifact ends: `created_at` 00:00 UTC plus
/// `grace_period_cycles` cycles.
pub fn grace_ends_at(spec: &ArtifactSpec, cycle: &Cycle) -> DateTime<Utc> {
    let created = spec.created_at.and_time(NaiveTime::MIN).and_utc();
    created + cycle.length * i32::try_from(spec.grace_period_cycles).unwrap_or(i32::MAX)
}

/// Rules 1 and 2 of docs/classification.md: a verdict that needs no probe, if there is one.
pub fn decide_without_probe(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    now: DateTime<Utc>,
) -> Option<Classification> {
    let grace_end = grace_ends_at(spec, cycle);
    if now < grace_end {
        return Some(Classification {
            state: State::GracePeriod,
            reason: format!(
                "new artifact: in its grace period until {} (created {}, {} cycle{} of {})",
                Rfc3339(grace_end),
                spec.created_at,
                spec.grace_period_cycles,
                if spec.grace_period_cycles == 1 {
                    ""
                } else {
                    "s"
                },
                human_duration(cycle.length)
            ),
            last_modified: None,
            sla_violated_by_minutes: 0,
            recovery_substituted: false,
        });
    }
    if spec.calendar_aware
        && let Some(closure) = &cycle.closure
    {
        return Some(Classification {
            state: State::Fresh,
            reason: format!("{closure}; nothing is expected this cycle"),
            last_modified: None,
            sla_violated_by_minutes: 0,
            recovery_substituted: false,
        });
    }
    None
}

/// Step 4's condition: the canonical key is missing or stale and a recovery key exists.
pub fn needs_recovery_probe(keys: &ResolvedKeys, cycle: &Cycle, canonical: &ProbeOutcome) -> bool {
    keys.recovery_key.is_some()
        && match canonical {
            Ok(None) => true,
            Ok(Some(meta)) => meta.last_modified < cycle.tick,
            Err(_) => false,
        }
}

/// Rules 3 to 5 of docs/classification.md from what the probes saw.
pub fn judge(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: &ResolvedKeys,
    now: DateTime<Utc>,
    canonical: &ProbeOutcome,
    recovery: Option<&ProbeOutcome>,
) -> Classification {
    let canonical_url = S3Url(&spec.s3_bucket, &keys.canonical_key);
    let present_since_tick = |meta: &ObjectMeta| meta.last_modified >= cycle.tick;
    let (state, last_modified, what) = match canonical {
        Err(e) => return Classification::probe_failed(format!("HEAD {canonical_url}: {e}")),
        Ok(Some(meta)) if present_since_tick(meta) => {
            return Classification {
                state: State::Fresh,
                reason: format!(
                    "present, last modified {} (cycle tick {})",
                    Rfc3339(meta.last_modified),
                    Rfc3339(cycle.tick)
                ),
                last_modified: Some(meta.last_modified),
                sla_violated_by_minutes: 0,
                recovery_substituted: false,
            };
        }
        Ok(Some(meta)) => (
            State::Stale,
            Some(meta.last_modified),
            format!(
                "{canonical_url} last modified {}, before the cycle tick {}",
                Rfc3339(meta.last_modified),
                Rfc3339(cycle.tick)
            ),
        ),
        Ok(None) => (State::Missing, None, format!("{canonical_url} not found")),
    };

    let mut what = what;
    if let (Some(recovery_key), Some(recovery)) = (&keys.recovery_key, recovery) {
        let recovery_url = S3Url(&spec.s3_bucket, recovery_key);
        match recovery {
            Ok(Some(meta)) if present_since_tick(meta) => {
                return Classification {
                    state: State::Fresh,
                    reason: format!(
                        "{what}; recovery {recovery_url} present, last modified {}",
                        Rfc3339(meta.last_modified)
                    ),
                    last_modified: Some(meta.last_modified),
                    sla_violated_by_minutes: 0,
                    recovery_substituted: true,
                };
            }
            Ok(Some(meta)) => {
                let _ = write!(
                    what,
                    "; recovery {recovery_url} is stale too (last modified {})",
                    Rfc3339(meta.last_modified)
                );
            }
            Ok(None) => {
                let _ = write!(what, "; recovery {recovery_url} not found either");
            }
            Err(e) => {
                return Classification::probe_failed(format!(
                    "{what}; HEAD {recovery_url} (recovery): {e}"
                ));
            }
        }
    }

    let sla_violated_by_minutes = minutes_past(now, keys.due_at);
    let mut reason = what;
    let due = Rfc3339(keys.due_at);
    // Writing into a String cannot fail.
    let _ = if sla_violated_by_minutes > 0 {
        write!(
            reason,
            "; {sla_violated_by_minutes} min past its SLA (due {due})"
        )
    } else {
        write!(reason, "; within its SLA (due {due})")
    };
    Classification {
        state,
        reason,
        last_modified,
        sla_violated_by_minutes,
        recovery_substituted: false,
    }
}

/// `max(0, floor((now - due) / 60s))`.
pub fn minutes_past(now: DateTime<Utc>, due: DateTime<Utc>) -> i64 {
    (now - due).num_seconds().div_euclid(60).max(0)
}
