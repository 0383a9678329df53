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
use crate::cadence::window::WindowCheck;
use crate::object::{ObjectMeta, S3Url, StoreError};
use crate::registry::ArtifactSpec;
use crate::text::{Rfc3339, human_duration};

mod content;
mod off_cycle;
mod set;
mod trail;

pub use content::{
    ContentMemory, ContentSeen, RecentSizes, SIZE_CYCLES, content_seen, has_content_checks,
    judge_content,
};
pub use off_cycle::{
    Listed, ListingOutcome, OffCycle, OffCycleProbe, fresh_since, judge_off_cycle,
    needs_off_cycle_recovery, newest_of_shape,
};
pub use set::{
    CompleteListing, NAMED_IN_REASON, SetKeys, SetSummary, judge_set, judge_settled_set,
    set_fingerprint, set_keys, set_keys_of,
};
pub use trail::{CalendarGate, Decision, DecisionLog, KeyRole, NoLog, Seen};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Fresh,
    Stale,
    Missing,
    ProbeFailed,
    GracePeriod,
    /// Written since the tick, but its content fails a content check (`min_size_bytes`,
    /// `size_drop_below`, `require_new_content`): alerts as stale does.
    Suspect,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Fresh,
        State::Stale,
        State::Missing,
        State::ProbeFailed,
        State::GracePeriod,
        State::Suspect,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Fresh => "fresh",
            State::Stale => "stale",
            State::Missing => "missing",
            State::ProbeFailed => "probe_failed",
            State::GracePeriod => "grace_period",
            State::Suspect => "suspect",
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
    /// For an artifact with `off_cycle:`, the key of the newest object of its template's
    /// shape, the one it was judged by.
    pub off_cycle_key: Option<String>,
    /// For an artifact with content checks, what the canonical probe saw of an object
    /// written since the tick ([`judge_content`] sets it), for the ledger to remember.
    pub content_seen: Option<ContentSeen>,
    /// For a set (`partitions:`), its counts and first missing values.
    pub set: Option<Box<SetSummary>>,
}

impl Classification {
    /// Missing, stale or suspect past the SLA, or unable to see at all.
    pub fn is_alerting(&self) -> bool {
        match self.state {
            State::Missing | State::Stale | State::Suspect => self.sla_violated_by_minutes > 0,
            State::ProbeFailed => true,
            State::Fresh | State::GracePeriod => false,
        }
    }

    /// A verdict with nothing seen in S3 (grace period, closure), or the base of one.
    fn without_probe(state: State, reason: String) -> Classification {
        Classification {
            state,
            reason,
            last_modified: None,
            sla_violated_by_minutes: 0,
            recovery_substituted: false,
            off_cycle_key: None,
            content_seen: None,
            set: None,
        }
    }

    pub fn probe_failed(reason: String) -> Classification {
        Classification::without_probe(State::ProbeFailed, reason)
    }
}

/// What the pass saw for one key.
pub type ProbeOutcome = Result<Option<ObjectMeta>, StoreError>;

/// What the probes of one artifact saw: the canonical key, and the recovery key when rule 4
/// asked for it.
#[derive(Debug, Clone, Copy)]
pub struct Probes<'a> {
    pub canonical: &'a ProbeOutcome,
    pub recovery: Option<&'a ProbeOutcome>,
}

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
            recovery_key: (spec.recovery_key_template()).map(|t| t.render(&values)),
            // The end of time rather than a panic for an SLA past year 9999.
            due_at: cycle
                .tick
                .checked_add_signed(Duration::minutes(i64::from(spec.sla_minutes_after_cron)))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }
}

/// When the grace period of a new artifact ends: `created_at` 00:00 UTC plus
/// `grace_period_cycles` cycles; the end of time when that is past what chrono can hold (no
/// grace period validation lets through gets there, but the pass must not panic if one did).
pub fn grace_ends_at(spec: &ArtifactSpec, cycle: &Cycle) -> DateTime<Utc> {
    let created = spec.created_at.and_time(NaiveTime::MIN).and_utc();
    cycle
        .length
        .num_milliseconds()
        .checked_mul(i64::from(spec.grace_period_cycles))
        .and_then(Duration::try_milliseconds)
        .and_then(|grace| created.checked_add_signed(grace))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Rules 1 and 2 of docs/classification.md: a verdict that needs no probe, if there is one.
pub fn decide_without_probe(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    now: DateTime<Utc>,
    log: &mut impl DecisionLog,
) -> Option<Classification> {
    let grace_end = grace_ends_at(spec, cycle);
    let in_grace = now < grace_end;
    log.record(|| Decision::Grace {
        created_at: spec.created_at,
        cycles: spec.grace_period_cycles,
        cycle_length: cycle.length,
        ends_at: grace_end,
        in_grace,
    });
    if in_grace {
        return Some(Classification::without_probe(
            State::GracePeriod,
            format!(
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
        ));
    }
    if let Some(check) = &cycle.window {
        log.record(|| Decision::Window(check.clone()));
        if let WindowCheck::Outside(why) = check {
            return Some(Classification::without_probe(
                State::Fresh,
                format!("outside its active windows ({why}); nothing is expected now"),
            ));
        }
    }
    match (&cycle.closure, spec.calendar_aware) {
        (Some(closure), true) => {
            log.record(|| Decision::Calendar(CalendarGate::Closed(closure.clone())));
            Some(Classification::without_probe(
                State::Fresh,
                format!("{closure}; nothing is expected this cycle"),
            ))
        }
        (Some(closure), false) => {
            log.record(|| {
                Decision::Calendar(CalendarGate::ClosedButNotCalendarAware(closure.clone()))
            });
            None
        }
        (None, _) => {
            log.record(|| {
                Decision::Calendar(match spec.cadence.gate_calendar_name() {
                    Some(name) => CalendarGate::Open(name.to_string()),
                    None => CalendarGate::NotGated,
                })
            });
            None
        }
    }
}

/// Rule 4's condition: the canonical key is missing or stale and a recovery key exists.
pub fn needs_recovery_probe(keys: &ResolvedKeys, cycle: &Cycle, canonical: &ProbeOutcome) -> bool {
    keys.recovery_key.is_some()
        && match canonical {
            Ok(None) => true,
            Ok(Some(meta)) => meta.last_modified < cycle.tick,
            Err(_) => false,
        }
}

/// What a HEAD saw, for the trail.
fn seen(outcome: &ProbeOutcome, tick: DateTime<Utc>) -> Seen {
    match outcome {
        Ok(None) => Seen::NotFound,
        Ok(Some(meta)) if meta.last_modified >= tick => Seen::SinceTick {
            last_modified: meta.last_modified,
        },
        Ok(Some(meta)) => Seen::BeforeTick {
            last_modified: meta.last_modified,
            tick,
        },
        Err(e) => Seen::Failed(e.to_string()),
    }
}

/// Rules 3 to 5 of docs/classification.md from what the probes saw.
pub fn judge(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: &ResolvedKeys,
    now: DateTime<Utc>,
    probes: Probes<'_>,
    log: &mut impl DecisionLog,
) -> Classification {
    let canonical_url = S3Url(&spec.s3_bucket, &keys.canonical_key);
    log.record(|| Decision::Probe {
        key: KeyRole::Canonical,
        url: canonical_url.to_string(),
        seen: seen(probes.canonical, cycle.tick),
    });
    let (state, last_modified, what) = match probes.canonical {
        Err(e) => {
            if keys.recovery_key.is_some() {
                log.record(|| {
                    Decision::RecoverySkipped("a failed probe never falls through to recovery")
                });
            }
            return Classification::probe_failed(format!("HEAD {canonical_url}: {e}"));
        }
        Ok(Some(meta)) if meta.last_modified >= cycle.tick => {
            return Classification {
                last_modified: Some(meta.last_modified),
                ..Classification::without_probe(
                    State::Fresh,
                    present_reason(meta.last_modified, cycle.tick),
                )
            };
        }
        Ok(Some(meta)) => (
            State::Stale,
            Some(meta.last_modified),
            stale_what(&canonical_url, meta.last_modified, cycle.tick),
        ),
        Ok(None) => (State::Missing, None, not_found_what(&canonical_url)),
    };
    judge_after_probe(
        spec,
        cycle,
        keys,
        now,
        (state, last_modified, what),
        probes.recovery,
        log,
    )
}

/// The reason of an artifact whose canonical key was written since the tick. This and the
/// reasons of [`not_found_what`] and [`stale_what`] with [`push_sla`] are the ones a row
/// writes from its own fields instead of holding them ([`crate::report::Reason::Derived`]).
pub fn present_reason(last_modified: DateTime<Utc>, tick: DateTime<Utc>) -> String {
    format!(
        "present, last modified {} (cycle tick {})",
        Rfc3339(last_modified),
        Rfc3339(tick)
    )
}

/// What rule 3 says of a canonical key that is not there.
pub fn not_found_what(url: &S3Url<'_>) -> String {
    format!("{url} not found")
}

/// What rule 3 says of a canonical key written before the tick.
pub fn stale_what(url: &S3Url<'_>, last_modified: DateTime<Utc>, tick: DateTime<Utc>) -> String {
    format!(
        "{url} last modified {}, before the cycle tick {}",
        Rfc3339(last_modified),
        Rfc3339(tick)
    )
}

/// Rule 5's part of a missing or stale artifact's reason: how far past its SLA it is.
pub fn push_sla(reason: &mut String, minutes_past: i64, due_at: DateTime<Utc>) {
    let due = Rfc3339(due_at);
    // Writing into a String cannot fail.
    let _ = if minutes_past > 0 {
        write!(reason, "; {minutes_past} min past its SLA (due {due})")
    } else {
        write!(reason, "; within its SLA (due {due})")
    };
}

/// What rule 3 found when it did not settle the verdict: missing or stale, the
/// LastModified seen, and the reason so far.
pub type NotFresh = (State, Option<DateTime<Utc>>, String);

/// Rules 4 and 5 after rule 3 found the artifact missing or stale.
pub fn judge_after_probe(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: &ResolvedKeys,
    now: DateTime<Utc>,
    (state, last_modified, what): NotFresh,
    recovery: Option<&ProbeOutcome>,
    log: &mut impl DecisionLog,
) -> Classification {
    let what = match recovery_verdict(spec, cycle, keys, recovery, what, log) {
        Ok(recovered) => return recovered,
        Err(what) => what,
    };
    let sla_violated_by_minutes = minutes_past(now, keys.due_at);
    log.record(|| Decision::Sla {
        due_at: keys.due_at,
        minutes_past: sla_violated_by_minutes,
    });
    let mut reason = what;
    push_sla(&mut reason, sla_violated_by_minutes, keys.due_at);
    Classification {
        state,
        reason,
        last_modified,
        sla_violated_by_minutes,
        recovery_substituted: false,
        off_cycle_key: None,
        content_seen: None,
        set: None,
    }
}

/// Rule 4: the verdict when the recovery key saves the cycle (or its probe failed), else the
/// reason so far with what the recovery probe saw appended.
fn recovery_verdict(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: &ResolvedKeys,
    recovery: Option<&ProbeOutcome>,
    mut what: String,
    log: &mut impl DecisionLog,
) -> Result<Classification, String> {
    let (Some(recovery_key), Some(recovery)) = (&keys.recovery_key, recovery) else {
        log.record(|| {
            Decision::RecoverySkipped(if keys.recovery_key.is_none() {
                "no recovery_key_template"
            } else {
                "the canonical probe settled it"
            })
        });
        return Err(what);
    };
    let recovery_url = S3Url(&spec.s3_bucket, recovery_key);
    log.record(|| Decision::Probe {
        key: KeyRole::Recovery,
        url: recovery_url.to_string(),
        seen: seen(recovery, cycle.tick),
    });
    match recovery {
        Ok(Some(meta)) if meta.last_modified >= cycle.tick => Ok(Classification {
            last_modified: Some(meta.last_modified),
            recovery_substituted: true,
            ..Classification::without_probe(
                State::Fresh,
                format!(
                    "{what}; recovery {recovery_url} present, last modified {}",
                    Rfc3339(meta.last_modified)
                ),
            )
        }),
        Ok(Some(meta)) => {
            let _ = write!(
                what,
                "; recovery {recovery_url} is stale too (last modified {})",
                Rfc3339(meta.last_modified)
            );
            Err(what)
        }
        Ok(None) => {
            let _ = write!(what, "; recovery {recovery_url} not found either");
            Err(what)
        }
        Err(e) => Ok(Classification::probe_failed(format!(
            "{what}; HEAD {recovery_url} (recovery): {e}"
        ))),
    }
}

/// `max(0, floor((now - due) / 60s))`.
pub fn minutes_past(now: DateTime<Utc>, due: DateTime<Utc>) -> i64 {
    (now - due).num_seconds().div_euclid(60).max(0)
}

#[cfg(test)]
mod producer_tests;
#[cfg(test)]
mod tests;
