//! The registry's shared sections (`schema_version`, `calendar`, `cadences`,
//! `grandfathered_paths`).
//!
//! An error here makes the whole registry unusable: these sections apply to every artifact.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;

use super::calendars::RegistryCalendars;
use super::errors::{Errors, is_extension_key};
use super::values::{parse_date, string_value, unknown_time_zone_message};
use crate::cadence::cron::{CronSchedule, DstRule};
use crate::cadence::{BUILTIN_CADENCES, Cadence, UserCadence};
use crate::calendar::is_weekend;
use crate::registry::GrandfatheredPath;
use crate::text::{did_you_mean, quote_short};
use crate::yaml::{MapEntry, Node, ScalarKind};

const CADENCE_KEYS: &[&str] = &["cron", "timezone", "calendar", "dst"];

/// The known names that a mapping's unknown keys look like misspellings of. A field whose
/// name was misspelled is reported once, with its did-you-mean, and not again as missing.
pub(super) fn near_misses<'k>(entries: &[MapEntry], known: &[&'k str]) -> Vec<&'k str> {
    entries
        .iter()
        .filter(|e| !known.contains(&e.key.as_str()) && !is_extension_key(&e.key))
        .filter_map(|e| did_you_mean(&e.key, known))
        .collect()
}

pub(super) fn check_schema_version(sections: &HashMap<&str, &Node>, errors: &mut Errors<'_>) {
    if let Some(v) = sections.get("schema_version") {
        match v.scalar_kind() {
            Some(ScalarKind::Int(1)) => {}
            _ => errors.at(
                v.line,
                None,
                Some("schema_version"),
                format!("expected 1, found {}", v.describe()),
            ),
        }
    }
}

/// `calendar.extra_closures`: the unscheduled market closures the registry adds.
pub(super) fn parse_calendar(node: &Node, errors: &mut Errors<'_>) -> Vec<NaiveDate> {
    let Some(entries) = node.as_map() else {
        errors.at(
            node.line,
            None,
            Some("calendar"),
            format!(
                "expected a mapping (extra_closures: [...]), found {}",
                node.describe()
            ),
        );
        return Vec::new();
    };
    let keys = errors.keys(entries, &["extra_closures"], None, "calendar.");
    let Some(list) = keys.get("extra_closures") else {
        return Vec::new();
    };
    if list.is_null() {
        return Vec::new();
    }
    let Some(items) = list.as_seq() else {
        errors.at(
            list.line,
            None,
            Some("calendar.extra_closures"),
            format!("expected a list of dates, found {}", list.describe()),
        );
        return Vec::new();
    };
    let mut dates = Vec::new();
    let mut first: HashMap<NaiveDate, (usize, usize)> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("calendar.extra_closures[{i}]");
        let Some(date) = errors.field_value(item, &field, parse_date) else {
            continue;
        };
        // Harmless but likely a typo for another date: warned, not refused.
        if is_weekend(date) {
            let day = date.format("%A");
            let message = format!("{date} is a {day}; the market is closed on weekends anyway");
            errors.warn(item.line, &field, message);
        }
        match first.get(&date) {
            Some((index, line)) => {
                let message = format!(
                    "{date} is listed twice (first as extra_closures[{index}], line {line})"
                );
                errors.warn(item.line, &field, message);
            }
            None => {
                first.insert(date, (i, item.line));
                dates.push(date);
            }
        }
    }
    dates
}

/// A cadence declared under `cadences:` whose definition is wrong: artifacts naming it are
/// told so, rather than that the name is unknown.
pub(super) type BrokenCadence = (String, usize);

/// The `cadences:` section: the user cadences that parsed, and the names (with lines) of
/// those that did not.
#[derive(Debug, Default)]
pub(super) struct Cadences {
    pub user: Vec<Arc<UserCadence>>,
    pub broken: Vec<BrokenCadence>,
    /// Each user cadence's [`Cadence::longest_cycle`], computed when first needed.
    longest_cycles: Vec<OnceLock<Duration>>,
}

impl Cadences {
    /// [`Cadence::longest_cycle`], computed once per user cadence.
    pub fn longest_cycle(&self, cadence: &Cadence) -> Duration {
        if let Cadence::User(user) = cadence
            && let Some(i) = self.user.iter().position(|u| Arc::ptr_eq(u, user))
        {
            return *self.longest_cycles[i].get_or_init(|| cadence.longest_cycle());
        }
        cadence.longest_cycle()
    }
}

pub(super) fn parse_cadences(
    node: &Node,
    calendars: &RegistryCalendars,
    errors: &mut Errors<'_>,
) -> Cadences {
    let mut cadences = Cadences::default();
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            errors.at(
                node.line,
                None,
                Some("cadences"),
                format!(
                    "expected a mapping of cadence names, found {}",
                    node.describe()
                ),
            );
        }
        return cadences;
    };
    let mut first_line_of: HashMap<&str, usize> = HashMap::new();
    for entry in entries.iter().filter(|e| !is_extension_key(&e.key)) {
        let name = entry.key.as_str();
        let field = format!("cadences.{name}");
        if BUILTIN_CADENCES.contains(&name) {
            errors.at(
                entry.key_line,
                None,
                Some(&field),
                format!("`{name}` is a built-in cadence; choose another name"),
            );
            continue;
        }
        if let Some(first) = first_line_of.get(name) {
            errors.at(
                entry.key_line,
                None,
                Some(&field),
                format!("duplicate cadence name (first defined at line {first})"),
            );
            continue;
        }
        first_line_of.insert(name, entry.key_line);
        match parse_cadence(entry, &field, calendars, errors) {
            Some(cadence) => {
                cadences.user.push(Arc::new(cadence));
                cadences.longest_cycles.push(OnceLock::new());
            }
            None => cadences.broken.push((name.to_string(), entry.key_line)),
        }
    }
    cadences
}

/// One `name: {cron, timezone, calendar, dst}` entry, or `None` when any part of it is wrong.
fn parse_cadence(
    entry: &MapEntry,
    field: &str,
    calendars: &RegistryCalendars,
    errors: &mut Errors<'_>,
) -> Option<UserCadence> {
    let Some(body) = entry.value.as_map() else {
        errors.at(
            entry.value.line,
            None,
            Some(field),
            format!(
                "expected a mapping {{cron, timezone, calendar, dst}}, found {}",
                entry.value.describe()
            ),
        );
        return None;
    };
    let before = errors.list.len();
    let keys = errors.keys(body, CADENCE_KEYS, None, &format!("{field}."));
    let schedule = match keys.get("cron") {
        None => {
            errors.at(
                entry.key_line,
                None,
                Some(&format!("{field}.cron")),
                "missing: a 5-field cron expression such as \"0 14 1 * *\"".to_string(),
            );
            None
        }
        Some(v) => errors.field_value(v, &format!("{field}.cron"), |v| {
            CronSchedule::parse(string_value(v)?).map_err(|e| {
                format!(
                    "cron expression {}: {}",
                    quote_short(&e.expression),
                    e.message
                )
            })
        }),
    };
    let timezone = match keys.get("timezone") {
        None => Some(chrono_tz::UTC),
        Some(v) => errors.field_value(v, &format!("{field}.timezone"), |v| {
            let text = string_value(v)?;
            text.parse::<Tz>()
                .map_err(|_| unknown_time_zone_message(text))
        }),
    };
    let calendar = match keys.get("calendar") {
        None => None,
        Some(v) if v.is_null() => None,
        Some(v) => errors.field_value(v, &format!("{field}.calendar"), |v| {
            calendars.resolve(string_value(v)?)
        }),
    };
    let dst = match keys.get("dst") {
        None => Some(DstRule::default()),
        Some(v) => errors.field_value(v, &format!("{field}.dst"), dst_rule),
    };
    match (schedule, timezone, dst) {
        (Some(schedule), Some(timezone), Some(dst)) if errors.list.len() == before => {
            Some(UserCadence {
                name: entry.key.clone(),
                schedule,
                timezone,
                calendar,
                dst,
            })
        }
        _ => None,
    }
}

/// A cadence's `dst:`: whose rule the producer's scheduler follows on DST changes.
fn dst_rule(node: &Node) -> Result<DstRule, String> {
    let text = string_value(node)?;
    DstRule::parse(text).ok_or_else(|| {
        let hint = did_you_mean(text, &DstRule::NAMES)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        format!(
            "unknown DST rule {}; {hint}`cron` (Debian cron's, the default) or `eventbridge` \
             (EventBridge Scheduler's)",
            quote_short(text)
        )
    })
}

pub(super) fn parse_grandfathered(node: &Node, errors: &mut Errors<'_>) -> Vec<GrandfatheredPath> {
    if node.is_null() {
        return Vec::new();
    }
    let Some(items) = node.as_seq() else {
        errors.at(
            node.line,
            None,
            Some("grandfathered_paths"),
            format!(
                "expected a list of {{path, reason}}, found {}",
                node.describe()
            ),
        );
        return Vec::new();
    };
    let mut paths = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("grandfathered_paths[{i}]");
        let Some(entries) = item.as_map() else {
            errors.at(
                item.line,
                None,
                Some(&field),
                format!(
                    "expected a mapping {{path, reason}}, found {}",
                    item.describe()
                ),
            );
            continue;
        };
        let keys = errors.keys(entries, &["path", "reason"], None, &format!("{field}."));
        let mut get = |key: &str| match keys.get(key) {
            None => {
                errors.at(
                    item.line,
                    None,
                    Some(&format!("{field}.{key}")),
                    "missing".to_string(),
                );
                None
            }
            Some(v) => errors.field_value(v, &format!("{field}.{key}"), |v| {
                string_value(v).map(str::to_string)
            }),
        };
        if let (Some(path), Some(reason)) = (get("path"), get("reason")) {
            paths.push(GrandfatheredPath {
                path,
                reason,
                line: item.line,
            });
        }
    }
    paths
}
