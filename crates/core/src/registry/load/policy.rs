//! Reading `alert_policy:` (routes, escalation) and `silences:` (docs/alerts.md#policy), and
//! checking `depends_on:` across artifacts once every entry is read.
//!
//! Errors in the two sections make the registry unusable, as in every shared section: a
//! silence that cannot be read might be a maintenance window that would page all night. A bad
//! `depends_on` (an unknown id, a cycle) makes only the artifacts concerned invalid.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::errors::Errors;
use super::sections::Cadences;
use super::values::{Bound, non_empty_string, string_value, whole_number};
use crate::cadence::BUILTIN_CADENCES;
use crate::cadence::cron::CronSchedule;
use crate::registry::policy::{AlertPolicy, ROUTABLE_CHANNELS, Recurrence, Route, Silence};
use crate::registry::{InvalidArtifact, RegistryEntry, Severity, ValidationError};
use crate::text::{did_you_mean, quote_short};
use crate::yaml::Node;

const POLICY_KEYS: &[&str] = &["routes", "escalate_after_cycles", "remind_every_minutes"];
const SILENCE_KEYS: &[&str] = &[
    "artifact_id",
    "owner_repo",
    "cadence",
    "from",
    "until",
    "cron",
    "timezone",
    "duration_minutes",
    "reason",
];

/// `alert_policy:` into `policy` (routes and escalation).
pub(super) fn parse_alert_policy(node: &Node, policy: &mut AlertPolicy, errors: &mut Errors<'_>) {
    if node.is_null() {
        return;
    }
    let Some(entries) = node.as_map() else {
        errors.at(
            node.line,
            None,
            Some("alert_policy"),
            format!(
                "expected a mapping {{routes, escalate_after_cycles, remind_every_minutes}}, \
                 found {}",
                node.describe()
            ),
        );
        return;
    };
    let keys = errors.keys(entries, POLICY_KEYS, None, "alert_policy.");
    if let Some(routes) = keys.get("routes") {
        policy.routes = parse_routes(routes, errors);
    }
    if let Some(n) = keys.get("escalate_after_cycles") {
        let bound = Bound {
            value: 1000,
            why: None,
        };
        policy.escalate_after_cycles =
            errors_value(errors, n, "alert_policy.escalate_after_cycles", |n| {
                whole_number(n, 1, bound)
            });
    }
    if let Some(n) = keys.get("remind_every_minutes") {
        let bound = Bound {
            value: 30 * 24 * 60,
            why: Some("30 days"),
        };
        policy.remind_every = errors_value(errors, n, "alert_policy.remind_every_minutes", |n| {
            whole_number(n, 15, bound)
        })
        .map(|m| chrono::Duration::minutes(i64::from(m)));
    }
}

fn errors_value<T>(
    errors: &mut Errors<'_>,
    node: &Node,
    field: &str,
    read: impl FnOnce(&Node) -> Result<T, String>,
) -> Option<T> {
    match read(node) {
        Ok(v) => Some(v),
        Err(message) => {
            errors.at(node.line, None, Some(field), message);
            None
        }
    }
}

/// `routes: {sns: [warning, critical], telegram: [critical], ...}`.
fn parse_routes(node: &Node, errors: &mut Errors<'_>) -> Vec<Route> {
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            errors.at(
                node.line,
                None,
                Some("alert_policy.routes"),
                format!(
                    "expected a mapping of channel names (sns, telegram) to severity lists, \
                     found {}",
                    node.describe()
                ),
            );
        }
        return Vec::new();
    };
    let keys = errors.keys(entries, ROUTABLE_CHANNELS, None, "alert_policy.routes.");
    let mut routes: Vec<Route> = Vec::new();
    for channel in ROUTABLE_CHANNELS {
        let Some(list) = keys.get(channel) else {
            continue;
        };
        let field = format!("alert_policy.routes.{channel}");
        if let Some(severities) = errors_value(errors, list, &field, severity_list) {
            routes.push(Route {
                channel: channel.to_string(),
                severities,
            });
        }
    }
    routes
}

/// `[warning, critical]`, `[critical]` or `[]` (the channel receives no alert).
fn severity_list(node: &Node) -> Result<Vec<Severity>, String> {
    if node.is_null() {
        return Ok(Vec::new());
    }
    let Some(items) = node.as_seq() else {
        return Err(format!(
            "expected a list of severities such as [critical] (or [] for none), found {}",
            node.describe()
        ));
    };
    let mut severities = Vec::new();
    for item in items {
        let severity = match string_value(item)? {
            "warning" => Severity::Warning,
            "critical" => Severity::Critical,
            other => {
                let hint = did_you_mean(other, &["warning", "critical"])
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(format!(
                    "expected `warning` or `critical`, found {}{hint}",
                    quote_short(other)
                ));
            }
        };
        if !severities.contains(&severity) {
            severities.push(severity);
        }
    }
    Ok(severities)
}

/// `silences:`, a list of windows.
pub(super) fn parse_silences(
    node: &Node,
    cadences: &Cadences,
    errors: &mut Errors<'_>,
) -> Vec<Silence> {
    if node.is_null() {
        return Vec::new();
    }
    let Some(items) = node.as_seq() else {
        errors.at(
            node.line,
            None,
            Some("silences"),
            format!(
                "expected a list of {{artifact_id|owner_repo|cadence, from, until, reason}}, \
                 found {}",
                node.describe()
            ),
        );
        return Vec::new();
    };
    let known_cadences: Vec<&str> = BUILTIN_CADENCES
        .iter()
        .copied()
        .chain(cadences.user.iter().map(|c| c.name.as_str()))
        .collect();
    items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| parse_silence(index, item, &known_cadences, errors))
        .collect()
}

/// One silence, or `None` (reported) when any part of it is wrong.
fn parse_silence(
    index: usize,
    item: &Node,
    known_cadences: &[&str],
    errors: &mut Errors<'_>,
) -> Option<Silence> {
    let field = format!("silences[{index}]");
    let Some(entries) = item.as_map() else {
        errors.at(
            item.line,
            None,
            Some(&field),
            format!("expected a mapping, found {}", item.describe()),
        );
        return None;
    };
    let before = errors.list.len();
    let keys = errors.keys(entries, SILENCE_KEYS, None, &format!("{field}."));
    let text = |key: &str, errors: &mut Errors<'_>| {
        keys.get(key).and_then(|v| {
            errors_value(errors, v, &format!("{field}.{key}"), |v| {
                non_empty_string(v).map(str::to_string)
            })
        })
    };
    let artifact_id = text("artifact_id", errors);
    let owner_repo = text("owner_repo", errors);
    let cadence = text("cadence", errors);
    let reason = text("reason", errors);
    let time = |key: &str, errors: &mut Errors<'_>| {
        keys.get(key)
            .and_then(|v| errors_value(errors, v, &format!("{field}.{key}"), instant))
    };
    let from = time("from", errors);
    let until = time("until", errors);
    let parts = SilenceParts {
        field: &field,
        line: item.line,
        keys: &keys,
    };
    parts.check_cadence(cadence.as_deref(), known_cadences, errors);
    parts.check_required(
        &[&artifact_id, &owner_repo, &cadence],
        reason.is_some(),
        errors,
    );
    parts.check_window(from, until, errors);
    let recurring = parse_recurrence(&keys, &field, item.line, errors);
    if recurring.is_none() && until.is_none() && errors.list.len() == before {
        errors.at(
            item.line,
            None,
            Some(&format!("{field}.until")),
            "missing: a silence ends (`until`) or recurs (`cron` with `duration_minutes`); a \
             permanent one is an artifact to remove from the registry"
                .to_string(),
        );
    }
    (errors.list.len() == before).then(|| Silence {
        index,
        line: item.line,
        artifact_id,
        owner_repo,
        cadence,
        from,
        until,
        recurring: recurring.flatten(),
        reason: reason.unwrap_or_default(),
    })
}

/// Where one silence's fields are, for the checks across them.
struct SilenceParts<'a, 'n> {
    field: &'a str,
    line: usize,
    keys: &'a HashMap<&'n str, &'n Node>,
}

impl SilenceParts<'_, '_> {
    fn line_of(&self, key: &str) -> usize {
        self.keys.get(key).map_or(self.line, |n| n.line)
    }

    /// `cadence` names a built-in or declared cadence.
    fn check_cadence(&self, cadence: Option<&str>, known: &[&str], errors: &mut Errors<'_>) {
        let Some(name) = cadence.filter(|name| !known.contains(name)) else {
            return;
        };
        let hint = did_you_mean(name, known)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        errors.at(
            self.line_of("cadence"),
            None,
            Some(&format!("{}.cadence", self.field)),
            format!(
                "unknown cadence {}; {hint}known cadences: {}",
                quote_short(name),
                known.join(", ")
            ),
        );
    }

    /// At least one criterion, and a reason.
    fn check_required(
        &self,
        criteria: &[&Option<String>],
        has_reason: bool,
        errors: &mut Errors<'_>,
    ) {
        if criteria.iter().all(|c| c.is_none()) {
            errors.at(
                self.line,
                None,
                Some(self.field),
                "says what it silences: set artifact_id (a glob such as \"pit_*\"), owner_repo \
                 or cadence"
                    .to_string(),
            );
        }
        if !has_reason && !self.keys.contains_key("reason") {
            errors.at(
                self.line,
                None,
                Some(&format!("{}.reason", self.field)),
                "missing: say why it is silenced (rows and `explain` show it)".to_string(),
            );
        }
    }

    /// `until` after `from`.
    fn check_window(
        &self,
        from: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        errors: &mut Errors<'_>,
    ) {
        if let (Some(from), Some(until)) = (from, until)
            && until <= from
        {
            errors.at(
                self.line_of("until"),
                None,
                Some(&format!("{}.until", self.field)),
                format!(
                    "{} is not after `from` ({}): the window would never open",
                    crate::text::rfc3339(until),
                    crate::text::rfc3339(from)
                ),
            );
        }
    }
}

/// `cron` + `duration_minutes` (+ `timezone`): `None` when not recurring, `Some(None)` when
/// wrong (reported).
fn parse_recurrence(
    keys: &HashMap<&str, &Node>,
    field: &str,
    line: usize,
    errors: &mut Errors<'_>,
) -> Option<Option<Recurrence>> {
    let cron = keys.get("cron");
    let duration = keys.get("duration_minutes");
    let timezone = keys.get("timezone");
    if cron.is_none() && duration.is_none() && timezone.is_none() {
        return None;
    }
    let schedule = match cron {
        None => {
            errors.at(
                line,
                None,
                Some(&format!("{field}.cron")),
                "missing: `duration_minutes` and `timezone` belong to a recurring window, \
                 which needs a 5-field cron expression such as \"0 22 * * 5\""
                    .to_string(),
            );
            None
        }
        Some(v) => errors_value(errors, v, &format!("{field}.cron"), |v| {
            CronSchedule::parse(string_value(v)?).map_err(|e| {
                format!(
                    "cron expression {}: {}",
                    quote_short(&e.expression),
                    e.message
                )
            })
        }),
    };
    let minutes = match duration {
        None => {
            errors.at(
                line,
                None,
                Some(&format!("{field}.duration_minutes")),
                "missing: how long each recurring window lasts, in minutes".to_string(),
            );
            None
        }
        Some(v) => errors_value(errors, v, &format!("{field}.duration_minutes"), |v| {
            whole_number(
                v,
                1,
                Bound {
                    value: 7 * 24 * 60,
                    why: Some("one week"),
                },
            )
        }),
    };
    let tz = match timezone {
        None => Some(chrono_tz::UTC),
        Some(v) => errors_value(errors, v, &format!("{field}.timezone"), |v| {
            let text = string_value(v)?;
            text.parse::<Tz>().map_err(|_| {
                format!(
                    "unknown time zone {}; use an IANA name such as America/New_York or UTC",
                    quote_short(text)
                )
            })
        }),
    };
    Some(match (schedule, minutes, tz) {
        (Some(schedule), Some(minutes), Some(timezone)) => Some(Recurrence {
            schedule,
            timezone,
            duration: chrono::Duration::minutes(i64::from(minutes)),
        }),
        _ => None,
    })
}

/// An RFC 3339 time (`2026-06-01T22:00:00Z`, any offset) or a date (midnight UTC).
fn instant(node: &Node) -> Result<DateTime<Utc>, String> {
    let text = string_value(node).map_err(|_| {
        format!(
            "expected a time such as 2026-06-01T22:00:00Z, found {}",
            node.describe()
        )
    })?;
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(format!(
        "expected a time such as 2026-06-01T22:00:00Z (or a date, meaning midnight UTC), found \
         {}",
        quote_short(text)
    ))
}

/// Checks every artifact's `depends_on` against the others: each id must name an artifact of
/// the registry (not itself), and no chain may come back to where it started. An artifact
/// with a bad `depends_on` becomes invalid (and reports why); the rest are untouched.
pub(super) fn check_dependencies(file: &str, entries: &mut [RegistryEntry]) {
    let has_dependencies = |e: &RegistryEntry| matches!(e, RegistryEntry::Valid(spec) if !spec.depends_on().is_empty());
    if !entries.iter().any(has_dependencies) {
        // Nothing to check, and no set of every id to build for it.
        return;
    }
    let bad = dependency_problems(entries);
    for (i, messages) in bad {
        let RegistryEntry::Valid(spec) = &entries[i] else {
            continue;
        };
        let errors = messages
            .into_iter()
            .map(|message| ValidationError {
                file: file.to_string(),
                line: spec.line(),
                artifact: Some(spec.id.to_string()),
                field: Some("depends_on".to_string()),
                message,
            })
            .collect();
        entries[i] = RegistryEntry::Invalid(Box::new(InvalidArtifact {
            label: spec.id.to_string(),
            line: spec.line(),
            errors,
            owner_repo: Some(Arc::clone(&spec.owner_repo)),
            severity: Some(spec.severity),
            cadence: Some(spec.cadence.name().to_string()),
            s3_bucket: Some(Arc::clone(&spec.s3_bucket)),
            s3_key_template: Some(spec.s3_key_template.source().to_string()),
            carried: spec.carried().cloned(),
        }));
    }
}

/// What is wrong with each artifact's `depends_on`, by the artifact's index.
fn dependency_problems(entries: &[RegistryEntry]) -> HashMap<usize, Vec<String>> {
    let ids: HashSet<&str> = entries.iter().map(RegistryEntry::label).collect();
    let mut bad: HashMap<usize, Vec<String>> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let RegistryEntry::Valid(spec) = entry else {
            continue;
        };
        for dep in spec.depends_on() {
            if dep == &spec.id {
                bad.entry(i)
                    .or_default()
                    .push("depends on itself".to_string());
            } else if !ids.contains(dep.as_str()) {
                let known: Vec<&str> = ids.iter().copied().collect();
                let hint = did_you_mean(dep.as_str(), &known)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                bad.entry(i)
                    .or_default()
                    .push(format!("`{dep}` is not an artifact of this registry{hint}"));
            }
        }
    }
    for (i, cycle) in dependency_cycles(entries) {
        bad.entry(i)
            .or_default()
            .push(format!("dependency cycle: {}", cycle.join(" -> ")));
    }
    bad
}

/// Each artifact on a `depends_on` cycle, with the cycle as ids (`a -> b -> a`).
fn dependency_cycles(entries: &[RegistryEntry]) -> Vec<(usize, Vec<String>)> {
    let index: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.label(), i))
        .collect();
    let deps = |i: usize| -> Vec<usize> {
        match &entries[i] {
            RegistryEntry::Valid(spec) => (spec.depends_on().iter())
                .filter_map(|d| index.get(d.as_str()).copied())
                .filter(|&d| d != i)
                .collect(),
            RegistryEntry::Invalid(_) => Vec::new(),
        }
    };
    // Iterative depth-first search: 0 unvisited, 1 on the stack, 2 done.
    let mut mark = vec![0u8; entries.len()];
    let mut found: Vec<(usize, Vec<String>)> = Vec::new();
    for start in 0..entries.len() {
        if mark[start] != 0 || deps(start).is_empty() {
            continue;
        }
        let mut stack: Vec<(usize, Vec<usize>)> = vec![(start, deps(start))];
        mark[start] = 1;
        while let Some((node, pending)) = stack.last_mut() {
            let node = *node;
            match pending.pop() {
                Some(next) if mark[next] == 0 => {
                    mark[next] = 1;
                    let next_deps = deps(next);
                    stack.push((next, next_deps));
                }
                Some(next) if mark[next] == 1 => {
                    let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                    let mut ids: Vec<String> = stack[from..]
                        .iter()
                        .map(|(n, _)| entries[*n].label().to_string())
                        .collect();
                    ids.push(entries[next].label().to_string());
                    for (n, _) in &stack[from..] {
                        if !found.iter().any(|(f, _)| f == n) {
                            found.push((*n, ids.clone()));
                        }
                    }
                }
                Some(_) => {}
                None => {
                    mark[node] = 2;
                    stack.pop();
                }
            }
        }
    }
    found
}
