//! The alert policy a registry declares (docs/alerts.md#policy): which channel receives which
//! severity (`alert_policy.routes`), when a warning escalates (`alert_policy.
//! escalate_after_cycles`), and the maintenance windows that keep artifacts quiet
//! (`silences:`). Plain typed data: the loader builds it (`load/policy.rs`), the alert
//! planning (`crate::alert::policy`) reads it.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::{ArtifactSpec, Severity};
use crate::cadence::cron::{CronSchedule, DstRule, Zone};

/// The channel names a route may name (the names the alert channels in the shell report).
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
                .previous_fire(
                    Zone {
                        tz: r.timezone,
                        dst: DstRule::default(),
                    },
                    now,
                )
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
    use crate::registry::{Registry, RegistryEntry, parse_registry};

    const FILE: &str = "ARTIFACT_REGISTRY.yaml";

    const HEAD: &str = "\
schema_version: 1
defaults:
  s3_bucket: research-bucket
  severity: warning
  owner_repo: data-platform
  created_at: 2026-01-05
  cadence: weekday_sf
  sla_minutes_after_cron: 60
";

    fn artifacts(ids_and_deps: &[(&str, &str)]) -> String {
        let mut text = String::from("artifacts:\n");
        for (id, deps) in ids_and_deps {
            text.push_str(&format!(
                "  - artifact_id: {id}\n    s3_key_template: \"{id}/{{date}}.json\"\n"
            ));
            if !deps.is_empty() {
                text.push_str(&format!("    depends_on: {deps}\n"));
            }
        }
        text
    }

    fn parse(text: &str) -> Result<Registry, Vec<String>> {
        parse_registry(FILE, text.as_bytes())
            .map_err(|e| e.errors.iter().map(|e| e.to_string()).collect())
    }

    fn errors_of(text: &str) -> Vec<String> {
        match parse(text) {
            Ok(r) => r.artifact_errors().map(|e| e.to_string()).collect(),
            Err(e) => e,
        }
    }

    #[test]
    fn a_full_policy_loads() {
        let text = format!(
            "{HEAD}alert_policy:
  routes:
    telegram: [critical]
    sns: [warning, critical]
  escalate_after_cycles: 3
  remind_every_minutes: 240
silences:
  - artifact_id: \"pit_*\"
    from: 2026-06-01T00:00:00Z
    until: 2026-06-08
    reason: producer migration
  - owner_repo: data-platform
    cron: \"0 22 * * 5\"
    timezone: America/New_York
    duration_minutes: 180
    reason: weekly maintenance
{}",
            artifacts(&[("pit_parity", ""), ("features", "[pit_parity]")])
        );
        let registry = parse(&text).unwrap();
        let policy = &registry.alert_policy;
        assert!(policy.routes_to("sns", Severity::Warning));
        assert!(!policy.routes_to("telegram", Severity::Warning));
        assert_eq!(policy.escalate_after_cycles, Some(3));
        assert_eq!(policy.remind_every, Some(Duration::hours(4)));
        assert_eq!(policy.silences.len(), 2);
        assert_eq!(
            policy.silences[0].until,
            Some("2026-06-08T00:00:00Z".parse().unwrap())
        );
        let r = policy.silences[1].recurring.as_ref().unwrap();
        assert_eq!(r.duration, Duration::minutes(180));
        assert_eq!(r.timezone, chrono_tz::America::New_York);
        let features = registry
            .valid_artifacts()
            .find(|s| s.id.as_str() == "features")
            .unwrap();
        assert_eq!(features.depends_on()[0].as_str(), "pit_parity");
    }

    #[test]
    fn bad_policy_keys_are_located_and_suggest_the_right_one() {
        for (section, expected) in [
            (
                "alert_policy:\n  routes:\n    telegramm: [critical]\n",
                ":11: field alert_policy.routes.telegramm: unknown field; did you mean `telegram`?",
            ),
            (
                "alert_policy:\n  routes:\n    sns: [criticl]\n",
                ":11: field alert_policy.routes.sns: expected `warning` or `critical`, found \"criticl\"; did you mean `critical`?",
            ),
            (
                "alert_policy:\n  escalate_after_cycle: 3\n",
                "field alert_policy.escalate_after_cycle: unknown field; did you mean `escalate_after_cycles`?",
            ),
            (
                "silences:\n  - artifact_id: a\n    from: 2026-06-02\n    until: 2026-06-01\n    reason: r\n",
                ":12: field silences[0].until: 2026-06-01T00:00:00Z is not after `from` (2026-06-02T00:00:00Z): the window would never open",
            ),
            (
                "silences:\n  - artifact_id: a\n    until: 2026-06-01\n",
                "field silences[0].reason: missing",
            ),
            (
                "silences:\n  - reason: r\n    until: 2026-06-01\n",
                "field silences[0]: says what it silences",
            ),
            (
                "silences:\n  - cadence: weekday_ssf\n    until: 2026-06-01\n    reason: r\n",
                "did you mean `weekday_sf`?",
            ),
            (
                "silences:\n  - artifact_id: a\n    reason: r\n",
                "field silences[0].until: missing: a silence ends",
            ),
            (
                "silences:\n  - artifact_id: a\n    cron: \"0 1 * * *\"\n    reason: r\n",
                "field silences[0].duration_minutes: missing",
            ),
            (
                "silences:\n  - artifact_id: a\n    untill: 2026-06-01\n    reason: r\n",
                "did you mean `until`?",
            ),
        ] {
            let text = format!("{HEAD}{section}{}", artifacts(&[("a", "")]));
            let errors = errors_of(&text);
            assert!(
                errors.iter().any(|e| e.contains(expected)),
                "{expected:?} in {errors:#?}"
            );
        }
    }

    /// `n` artifacts `a0 <- a1 <- …`, closed into a ring when `ring`.
    fn chain_of(n: usize, ring: bool) -> String {
        let ids: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
        let deps: Vec<String> = (0..n)
            .map(|i| match (i, ring) {
                (0, false) => String::new(),
                (0, true) => format!("[a{}]", n - 1),
                _ => format!("[a{}]", i - 1),
            })
            .collect();
        let pairs: Vec<(&str, &str)> = ids.iter().zip(&deps).map(|(i, d)| (&**i, &**d)).collect();
        format!("{HEAD}{}", artifacts(&pairs))
    }

    #[test]
    fn a_long_ring_is_one_cycle_told_once_and_shortened() {
        let errors = errors_of(&chain_of(5_000, true));
        assert_eq!(errors.len(), 5_000, "every member is invalid");
        let told: Vec<&String> = errors
            .iter()
            .filter(|e| e.contains("dependency cycle:"))
            .collect();
        assert_eq!(told.len(), 1, "the cycle is told once: {told:#?}");
        assert!(
            told[0].starts_with(
                "ARTIFACT_REGISTRY.yaml:10: artifact a0: field depends_on: dependency cycle: \
                 a0 -> a4999 -> a4998 -> "
            ),
            "{}",
            told[0]
        );
        assert!(
            told[0].ends_with(" -> a4977 -> … (4976 more) -> a0"),
            "{}",
            told[0]
        );
        assert!(
            errors[1].ends_with(
                "artifact a1: field depends_on: on a dependency cycle with `a0` (reported at \
                 artifact a0, line 10; 5000 artifacts in all)"
            ),
            "{}",
            errors[1]
        );
        let longest = errors.iter().map(String::len).max().unwrap_or(0);
        assert!(longest < 400, "every message is short: {longest} bytes");
    }

    #[test]
    fn a_long_chain_is_valid_and_a_ring_inside_a_larger_graph_spares_the_rest() {
        let registry = parse(&chain_of(5_000, false)).expect("a chain is valid");
        assert_eq!(registry.valid_artifacts().count(), 5_000);
        // a0 <- a1 <- a2 <- a0 is a ring; d hangs off it, e is alone.
        let text = format!(
            "{HEAD}{}",
            artifacts(&[
                ("a0", "[a2]"),
                ("a1", "[a0]"),
                ("a2", "[a1]"),
                ("d", "[a1]"),
                ("e", "")
            ])
        );
        let errors = errors_of(&text);
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(
            errors[0].contains("dependency cycle: a0 -> a2 -> a1 -> a0"),
            "{errors:#?}"
        );
        let registry = parse(&text).expect("artifact errors do not fail the registry");
        let valid: Vec<&str> = registry.valid_artifacts().map(|s| s.id.as_str()).collect();
        assert_eq!(valid, ["d", "e"], "d depends on the ring but is not on it");
    }

    #[test]
    fn depends_on_must_name_artifacts_without_cycles_and_only_the_bad_ones_fail() {
        let text = format!(
            "{HEAD}{}",
            artifacts(&[
                ("a", "[b]"),
                ("b", "[c]"),
                ("c", "[a]"),
                ("d", "[pit_paritty]"),
                ("pit_parity", ""),
                ("e", "[e]"),
                ("f", "pit_parity"),
            ])
        );
        let registry = parse(&text).expect("artifact errors do not fail the registry");
        let errors: Vec<String> = registry.artifact_errors().map(|e| e.to_string()).collect();
        for expected in [
            "artifact a: field depends_on: dependency cycle: a -> b -> c -> a",
            "artifact b: field depends_on: on a dependency cycle with `a` (reported at artifact a, line 10; 3 artifacts in all)",
            "artifact c: field depends_on: on a dependency cycle with `a` (reported at artifact a, line 10; 3 artifacts in all)",
            "artifact d: field depends_on: `pit_paritty` is not an artifact of this registry; did you mean `pit_parity`?",
            "artifact e: field depends_on: depends on itself",
        ] {
            assert!(
                errors.iter().any(|e| e.contains(expected)),
                "{expected:?} in {errors:#?}"
            );
        }
        let valid: Vec<&str> = registry.valid_artifacts().map(|s| s.id.as_str()).collect();
        assert_eq!(valid, ["pit_parity", "f"], "one id alone is a list of one");
        assert!(matches!(registry.entries[0], RegistryEntry::Invalid(_)));
    }

    #[test]
    fn validate_rejects_silences_matching_nothing_and_warns_on_expired_ones() {
        let text = format!(
            "{HEAD}silences:
  - artifact_id: \"nothing_*\"
    until: 2026-12-01
    reason: typo
  - artifact_id: \"a\"
    until: 2026-06-01
    reason: old window
{}",
            artifacts(&[("a", "")])
        );
        let registry = parse(&text).unwrap();
        let (errors, warnings) = registry.silence_problems("2026-06-05T00:00:00Z".parse().unwrap());
        let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            [
                "ARTIFACT_REGISTRY.yaml:10: field silences[0]: matches no artifact of this registry \
              (check artifact_id, owner_repo and cadence)"
            ],
            "one space between words"
        );
        let warnings: Vec<String> = warnings.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            warnings,
            ["ARTIFACT_REGISTRY.yaml:13: field silences[1]: expired at \
              2026-06-01T00:00:00Z: remove it (old window)"]
        );
    }

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
