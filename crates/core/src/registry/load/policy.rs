//! Reading `alert_policy:` (routes, escalation) and `silences:` (docs/alerts.md#policy).
//! (`depends_on:` is checked across artifacts in `dependencies.rs`.)
//!
//! Errors in the two sections make the registry unusable, as in every shared section: a
//! silence that cannot be read might be a maintenance window that would page all night.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::errors::Errors;
use super::sections::Cadences;
use super::values::{Bound, non_empty_string, string_value, whole_number};
use crate::cadence::BUILTIN_CADENCES;
use crate::cadence::cron::CronSchedule;
use crate::registry::Severity;
use crate::registry::policy::{AlertPolicy, ROUTABLE_CHANNELS, Recurrence, Route, Silence};
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
