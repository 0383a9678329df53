//! The alert policy a registry declares (docs/alerts.md#policy): which channel receives which
//! severity (`alert_policy.routes`), when a warning escalates (`alert_policy.
//! escalate_after_cycles`), and the maintenance windows that keep artifacts quiet
//! (`silences:`). Plain typed data: the loader builds it (`load/policy.rs`), the alert
//! planning (`crate::alert::policy`) reads it.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::{ArtifactSpec, Severity};
use crate::cadence::cron::CronSchedule;

/// The channel names a route may name (what [`crate::alert::AlertChannel::name`] returns).
pub const ROUTABLE_CHANNELS: &[&str] = &["sns", "telegram"];

/// `alert_policy:` and `silences:`; the default is today's behaviour (every channel gets every
/// severity, no escalation, no silences).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertPolicy {
    pub routes: Vec<Route>,
    /// A warning artifact that has missed this many cycles in a row (this one included)
    /// alerts as critical.
    pub escalate_after_cycles: Option<u32>,
    /// An artifact still alerting this long after its alert went out is reminded about, again
    /// at this interval (off when `None`: one alert per cycle).
    pub remind_every: Option<Duration>,
    pub silences: Vec<Silence>,
}

/// `alert_policy.routes.CHANNEL: [severities]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub channel: String,
    pub severities: Vec<Severity>,
}

impl AlertPolicy {
    /// Whether `channel` receives alerts of `severity`: a channel that no route names receives
    /// every severity (today's behaviour).
    pub fn routes_to(&self, channel: &str, severity: Severity) -> bool {
        match self.routes.iter().find(|r| r.channel == channel) {
            Some(route) => route.severities.contains(&severity),
            None => true,
        }
    }

    /// The route naming `channel`, if any.
    pub fn route_of(&self, channel: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.channel == channel)
    }
}

/// One `silences:` entry: which artifacts, when, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    /// Its place in the list (`silences[N]` in messages).
    pub index: usize,
    pub line: usize,
    /// A glob over artifact ids (`*` any run of characters, `?` one).
    pub artifact_id: Option<String>,
    pub owner_repo: Option<String>,
    pub cadence: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub recurring: Option<Recurrence>,
    pub reason: String,
}

/// A window that opens at every fire time of a cron schedule and lasts `duration`.
#[derive(Debug, Clone, PartialEq)]
pub struct Recurrence {
    pub schedule: CronSchedule,
    pub timezone: Tz,
    pub duration: Duration,
}

impl Silence {
    /// `silences[N] (line L)`, as rows and messages name it.
    pub fn name(&self) -> String {
        format!("silences[{}] (line {})", self.index, self.line)
    }

    /// Whether the silence names this artifact (every criterion given must hold).
    pub fn matches(&self, spec: &ArtifactSpec) -> bool {
        self.matches_parts(spec.id.as_str(), &spec.owner_repo, spec.cadence.name())
    }

    /// [`Silence::matches`] on a row's id, owner and cadence.
    pub fn matches_parts(&self, id: &str, owner_repo: &str, cadence: &str) -> bool {
        self.artifact_id
            .as_deref()
            .is_none_or(|g| glob_matches(g, id))
            && self.owner_repo.as_deref().is_none_or(|o| o == owner_repo)
            && self.cadence.as_deref().is_none_or(|c| c == cadence)
    }

    /// Whether the window is open at `now`: within `from`..`until` (each optional), and, when
    /// recurring, within `duration` after the schedule's latest fire time.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        if self.from.is_some_and(|from| now < from) || self.until.is_some_and(|u| now >= u) {
            return false;
        }
        match &self.recurring {
            None => true,
            Some(r) => r
                .schedule
                .previous_fire(r.timezone, now)
                .is_some_and(|fire| now < fire + r.duration),
        }
    }

    /// Whether the silence can never be active again after `now` (its `until` has passed).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.until.is_some_and(|u| u <= now)
    }
}

/// `*` matches any run of characters (also none), `?` exactly one; everything else itself.
pub fn glob_matches(glob: &str, text: &str) -> bool {
    let (g, t): (Vec<char>, Vec<char>) = (glob.chars().collect(), text.chars().collect());
    // Classic greedy matching with one backtrack point for the last `*`.
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == t[ti]) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ti));
            gi += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shell_patterns() {
        for (glob, text, expected) in [
            ("pit_*", "pit_parity", true),
            ("pit_*", "pit_", true),
            ("pit_*", "xpit_parity", false),
            ("*_daily", "prices_daily", true),
            ("*", "", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
        ] {
            assert_eq!(glob_matches(glob, text), expected, "{glob} vs {text}");
        }
    }
}
