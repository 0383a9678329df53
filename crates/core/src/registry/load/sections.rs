//! The registry's shared sections (`schema_version`, `calendar`, `cadences`,
//! `grandfathered_paths`) and the [`Errors`] collector every part of the loader reports into.
//!
//! An error here makes the whole registry unusable: these sections apply to every artifact.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;

use super::calendars::RegistryCalendars;
use super::values::{parse_date, string_value};
use crate::cadence::cron::{CronSchedule, DstRule};
use crate::cadence::{BUILTIN_CADENCES, Cadence, UserCadence};
use crate::calendar::is_weekend;
use crate::registry::{GrandfatheredPath, RegistryError, ValidationError};
use crate::text::{did_you_mean, quote_short};
use crate::yaml::{MapEntry, Node, ScalarKind};

const CADENCE_KEYS: &[&str] = &["cron", "timezone", "calendar", "dst"];

/// Collects errors (and warnings: what is allowed but likely a mistake) for one file.
pub(super) struct Errors<'a> {
    pub file: &'a str,
    pub list: Vec<ValidationError>,
    pub warnings: Vec<ValidationError>,
}

impl<'a> Errors<'a> {
    pub fn new(file: &'a str) -> Self {
        Errors {
            file,
            list: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn located(
        &self,
        line: usize,
        artifact: Option<&str>,
        field: Option<&str>,
        message: String,
    ) -> ValidationError {
        ValidationError {
            file: self.file.to_string(),
            line,
            artifact: artifact.map(str::to_string),
            field: field.map(str::to_string),
            message,
        }
    }

    pub fn at(
        &mut self,
        line: usize,
        artifact: Option<&str>,
        field: Option<&str>,
        message: String,
    ) {
        let error = self.located(line, artifact, field, message);
        self.list.push(error);
    }

    pub fn warn(&mut self, line: usize, field: &str, message: String) {
        let warning = self.located(line, None, Some(field), message);
        self.warnings.push(warning);
    }

    /// The errors so far, as the error of a registry that cannot be used.
    pub fn into_error(self) -> RegistryError {
        RegistryError { errors: self.list }
    }

    /// Reads `node` with `read`, reporting its message at the node's line as `field`.
    pub fn field_value<T>(
        &mut self,
        node: &Node,
        field: &str,
        read: impl FnOnce(&Node) -> Result<T, String>,
    ) -> Option<T> {
        read(node)
            .map_err(|message| self.at(node.line, None, Some(field), message))
            .ok()
    }

    /// The entries of a mapping by key, reporting unknown keys (with a suggestion) and
    /// duplicates. `prefix` qualifies field names in messages (`cadences.weekly.`).
    pub fn keys<'n>(
        &mut self,
        entries: &'n [MapEntry],
        known: &[&str],
        artifact: Option<&str>,
        prefix: &str,
    ) -> HashMap<&'n str, &'n Node> {
        let mut found: HashMap<&str, &Node> = HashMap::new();
        let mut lines: HashMap<&str, usize> = HashMap::new();
        for entry in entries {
            let field = format!("{prefix}{}", entry.key);
            if is_extension_key(&entry.key) {
                continue;
            }
            if !known.contains(&entry.key.as_str()) {
                let hint = match did_you_mean(&entry.key, known) {
                    Some(s) => format!("; did you mean `{s}`?"),
                    None => format!("; known fields: {}", known.join(", ")),
                };
                self.at(
                    entry.key_line,
                    artifact,
                    Some(&field),
                    format!("unknown field{hint}"),
                );
                continue;
            }
            if let Some(first) = lines.get(entry.key.as_str()) {
                self.at(
                    entry.key_line,
                    artifact,
                    Some(&field),
                    format!("duplicate key (first set at line {first})"),
                );
                continue;
            }
            lines.insert(&entry.key, entry.key_line);
            found.insert(&entry.key, &entry.value);
        }
        found
    }
}

/// An `x_` key: accepted anywhere, never validated (artifacts carry theirs into their row).
pub(super) fn is_extension_key(key: &str) -> bool {
    key.starts_with("x_")
}

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

pub(super) fn unknown_time_zone_message(text: &str) -> String {
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    match did_you_mean(text, &names) {
        Some(name) => format!(
            "unknown time zone {}; did you mean `{name}`?",
            quote_short(text)
        ),
        None => {
            format!(
                "unknown time zone {}; use an IANA name such as America/New_York or UTC",
                quote_short(text)
            )
        }
    }
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
