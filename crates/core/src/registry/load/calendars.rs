//! The `calendars:` section: business calendars a registry defines beside the built-in ones
//! (weekend days, holiday rules, one-off closures, early closes), and `calendar:`'s NYSE
//! `extra_closures`, together the [`Calendars`] a cadence names its calendar from.
//!
//! A wrong calendar makes the registry unusable, like a wrong cadence: every message names the
//! line and the field (`calendars.NAME.holidays[2].month`).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Weekday};
use chrono_tz::Tz;

use super::errors::{Errors, is_extension_key};
use super::values::{parse_date, string_value, unknown_time_zone_message};
use crate::calendar::rules::{CloseTime, DayRule, Observance, RuleDate, WeekdaySet};
use crate::calendar::{BUILTIN_CALENDARS, CalendarRules, Calendars, TradingCalendar};
use crate::text::{did_you_mean, quote_short};
use crate::yaml::{MapEntry, Node, ScalarKind};

const CALENDAR_KEYS: &[&str] = &[
    "timezone",
    "close",
    "weekend",
    "holidays",
    "closures",
    "early_closes",
];

const RULE_KEYS: &[&str] = &[
    "name",
    "month",
    "day",
    "weekday",
    "nth",
    "easter",
    "dates",
    "offset_days",
    "only_on",
    "observance",
    "from",
    "until",
    "close",
];

const WEEKDAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The years a registry calendar must have a business day in: those a monitor judges, and
/// any its explicit dates name.
const CHECKED_YEARS: std::ops::RangeInclusive<i32> = 1970..=2100;

/// Every calendar a cadence can name, and the registry calendars whose definition is wrong
/// (with their lines), so a cadence naming one is told so rather than that it is unknown.
#[derive(Debug, Default)]
pub(super) struct RegistryCalendars {
    pub calendars: Calendars,
    pub broken: Vec<(String, usize)>,
}

impl RegistryCalendars {
    /// The calendar a cadence's `calendar:` names, or the message for its field.
    pub fn resolve(&self, name: &str) -> Result<std::sync::Arc<TradingCalendar>, String> {
        if let Some(calendar) = self.calendars.get(name) {
            return Ok(calendar.clone());
        }
        if let Some((_, line)) = self.broken.iter().find(|(n, _)| n == name) {
            return Err(format!(
                "calendar `{name}` is defined under `calendars:` at line {line} but that \
                 definition is invalid (see its error)"
            ));
        }
        let known = self.calendars.names();
        let hint = did_you_mean(name, &known)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        Err(format!(
            "unknown calendar {}; {hint}known calendars: {}",
            quote_short(name),
            known.join(", ")
        ))
    }
}

/// Reads `calendars:`, adding its calendars to the built-in ones (NYSE with
/// `nyse_extra_closures`).
pub(super) fn parse_calendars(
    node: Option<&Node>,
    nyse_extra_closures: Vec<NaiveDate>,
    errors: &mut Errors<'_>,
) -> RegistryCalendars {
    let mut out = RegistryCalendars {
        calendars: Calendars::builtin(nyse_extra_closures),
        broken: Vec::new(),
    };
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return out;
    };
    let Some(entries) = node.as_map() else {
        errors.at(
            node.line,
            None,
            Some("calendars"),
            format!(
                "expected a mapping of calendar names, found {}",
                node.describe()
            ),
        );
        return out;
    };
    let mut first_line_of: HashMap<&str, usize> = HashMap::new();
    for entry in entries.iter().filter(|e| !is_extension_key(&e.key)) {
        let name = entry.key.as_str();
        let field = format!("calendars.{name}");
        if BUILTIN_CALENDARS.contains(&name) {
            let message = format!("`{name}` is a built-in calendar; choose another name");
            errors.at(entry.key_line, None, Some(&field), message);
            continue;
        }
        if let Some(first) = first_line_of.insert(name, entry.key_line) {
            let message = format!("duplicate calendar name (first defined at line {first})");
            errors.at(entry.key_line, None, Some(&field), message);
            continue;
        }
        let before = errors.list.len();
        match parse_calendar_body(entry, &field, errors) {
            Some(calendar) if errors.list.len() == before => out.calendars.add(calendar),
            _ => out.broken.push((name.to_string(), entry.key_line)),
        }
    }
    out
}

/// One `name: {timezone, close, weekend, holidays, closures, early_closes}` entry.
fn parse_calendar_body(
    entry: &MapEntry,
    field: &str,
    errors: &mut Errors<'_>,
) -> Option<TradingCalendar> {
    let Some(body) = entry.value.as_map() else {
        errors.at(
            entry.value.line,
            None,
            Some(field),
            format!(
                "expected a mapping {{timezone, close, weekend, holidays, closures, \
                 early_closes}}, found {}",
                entry.value.describe()
            ),
        );
        return None;
    };
    let keys = errors.keys(body, CALENDAR_KEYS, None, &format!("{field}."));
    let sub = |key: &str| format!("{field}.{key}");
    let timezone = match keys.get("timezone") {
        None => Some(chrono_tz::UTC),
        Some(v) => errors.field_value(v, &sub("timezone"), |v| {
            let text = string_value(v)?;
            text.parse::<Tz>()
                .map_err(|_| unknown_time_zone_message(text))
        }),
    };
    let close = match keys.get("close") {
        None => Some(CloseTime::END_OF_DAY),
        Some(v) => errors.field_value(v, &sub("close"), close_time),
    };
    let weekend = match keys.get("weekend") {
        None => Some(WeekdaySet::SAT_SUN),
        Some(v) => errors.field_value(v, &sub("weekend"), |v| {
            let days = weekday_list(v)?;
            if days.is_all() {
                return Err(
                    "a weekend of every day leaves no business day; list the days the \
                     business is closed every week"
                        .to_string(),
                );
            }
            Ok(days)
        }),
    };
    // An early close is checked against the regular close (when that one could be read).
    let mut rules = |key: &str, early: Option<Option<CloseTime>>| {
        keys.get(key)
            .map(|v| rule_list(v, &sub(key), early, errors))
            .unwrap_or_default()
    };
    let holidays = rules("holidays", None);
    let early_closes = rules("early_closes", Some(close));
    let closures = keys
        .get("closures")
        .map(|v| closure_list(v, &sub("closures"), errors))
        .unwrap_or_default();
    let rules = CalendarRules {
        name: entry.key.clone(),
        timezone: timezone?,
        close: close?,
        weekend: weekend?,
        holidays,
        closures,
        early_closes,
    };
    let calendar = TradingCalendar::new(rules, []);
    if let Some(year) = year_without_business_day(&calendar) {
        errors.at(
            entry.key_line,
            None,
            Some(field),
            format!("has no business day in {year}: every day of it is a weekend or a closure"),
        );
        return None;
    }
    Some(calendar)
}

/// A year the calendar has no business day in, among [`CHECKED_YEARS`] and the years its
/// explicit dates name.
fn year_without_business_day(calendar: &TradingCalendar) -> Option<i32> {
    let rules = calendar.rules();
    let mut years: Vec<i32> = CHECKED_YEARS.collect();
    for rule in rules.holidays.iter().chain(&rules.closures) {
        if let RuleDate::Dates(dates) = &rule.date {
            years.extend(dates.iter().map(|d| d.year()));
        }
    }
    years.sort_unstable();
    years.dedup();
    years.into_iter().find(|&year| {
        let first = NaiveDate::from_ymd_opt(year, 1, 1);
        !first
            .into_iter()
            .flat_map(|d| d.iter_days())
            .take_while(|d| d.year() == year)
            .any(|d| calendar.is_trading_day(d))
    })
}

fn close_time(node: &Node) -> Result<CloseTime, String> {
    let text = string_value(node)?;
    CloseTime::parse(text).ok_or_else(|| {
        format!(
            "expected a time of day \"HH:MM\" (00:00 to 24:00), found {}",
            quote_short(text)
        )
    })
}

fn weekday(node: &Node) -> Result<Weekday, String> {
    let text = string_value(node)?;
    let lower = text.to_ascii_lowercase();
    match WEEKDAY_NAMES.iter().position(|n| *n == lower) {
        Some(i) => Ok(Weekday::try_from(i as u8).expect("0 to 6")),
        None => {
            let hint = did_you_mean(&lower, &WEEKDAY_NAMES)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            Err(format!(
                "unknown weekday {}; {hint}expected one of {}",
                quote_short(text),
                WEEKDAY_NAMES.join(", ")
            ))
        }
    }
}

fn weekday_list(node: &Node) -> Result<WeekdaySet, String> {
    if node.is_null() {
        return Ok(WeekdaySet::EMPTY);
    }
    let items = node
        .as_seq()
        .ok_or_else(|| format!("expected a list of weekdays, found {}", node.describe()))?;
    let days = items.iter().map(weekday).collect::<Result<Vec<_>, _>>()?;
    Ok(WeekdaySet::of(&days))
}

/// A signed whole number from `-max` to `max`; `what` names it in messages.
fn signed(node: &Node, max: i64, what: &str) -> Result<i64, String> {
    match node.scalar_kind() {
        Some(ScalarKind::Int(n)) if n.abs() <= max => Ok(n),
        Some(ScalarKind::Int(n)) => Err(format!(
            "{what} {n} is beyond a year (at most {max} days either way)"
        )),
        _ => Err(format!(
            "expected a whole number of days, found {}",
            node.describe()
        )),
    }
}

/// A whole number from `min` to `max`; `what` names the range in messages.
fn bounded(node: &Node, min: i64, max: i64, what: &str) -> Result<i64, String> {
    match node.scalar_kind() {
        Some(ScalarKind::Int(n)) if (min..=max).contains(&n) => Ok(n),
        Some(ScalarKind::Int(n)) => Err(format!("{n} is not {what} ({min} to {max})")),
        _ => Err(format!(
            "expected {what} ({min} to {max}), found {}",
            node.describe()
        )),
    }
}

fn closure_list(node: &Node, field: &str, errors: &mut Errors<'_>) -> Vec<DayRule> {
    if node.is_null() {
        return Vec::new();
    }
    let Some(items) = node.as_seq() else {
        errors.at(
            node.line,
            None,
            Some(field),
            format!("expected a list of dates, found {}", node.describe()),
        );
        return Vec::new();
    };
    let dates: Vec<NaiveDate> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| errors.field_value(item, &format!("{field}[{i}]"), parse_date))
        .collect();
    vec![DayRule::new(
        &format!("closure listed in {field}"),
        RuleDate::Dates(dates),
    )]
}

/// The rules of `holidays:` (`early` is `None`) or `early_closes:` (`early` is the calendar's
/// regular close, `None` inside when it could not be read).
fn rule_list(
    node: &Node,
    field: &str,
    early: Option<Option<CloseTime>>,
    errors: &mut Errors<'_>,
) -> Vec<DayRule> {
    if node.is_null() {
        return Vec::new();
    }
    let Some(items) = node.as_seq() else {
        errors.at(
            node.line,
            None,
            Some(field),
            format!("expected a list of rules, found {}", node.describe()),
        );
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| RuleReader::read(item, &format!("{field}[{i}]"), early, errors))
        .collect()
}

/// Reads one rule mapping, reporting each wrong field.
struct RuleReader<'n, 'e, 'f> {
    item: &'n Node,
    field: &'n str,
    keys: HashMap<&'n str, &'n Node>,
    errors: &'e mut Errors<'f>,
    ok: bool,
    /// For an early close, the calendar's regular close it must come before.
    regular_close: Option<CloseTime>,
}

impl<'n, 'e, 'f> RuleReader<'n, 'e, 'f> {
    fn read(
        item: &'n Node,
        field: &'n str,
        early: Option<Option<CloseTime>>,
        errors: &'e mut Errors<'f>,
    ) -> Option<DayRule> {
        let Some(entries) = item.as_map() else {
            errors.at(
                item.line,
                None,
                Some(field),
                format!(
                    "expected a mapping {{name, ...}}, found {}",
                    item.describe()
                ),
            );
            return None;
        };
        let before = errors.list.len();
        let keys = errors.keys(entries, RULE_KEYS, None, &format!("{field}."));
        let mut reader = RuleReader {
            item,
            field,
            keys,
            errors,
            ok: true,
            regular_close: early.flatten(),
        };
        let rule = reader.rule(early.is_some());
        (reader.ok && reader.errors.list.len() == before)
            .then_some(rule)
            .flatten()
    }

    fn get<T>(&mut self, key: &str, read: impl FnOnce(&Node) -> Result<T, String>) -> Option<T> {
        let node = *self.keys.get(key)?;
        let value = self
            .errors
            .field_value(node, &format!("{}.{key}", self.field), read);
        self.ok &= value.is_some();
        value
    }

    fn fail(&mut self, line: usize, key: Option<&str>, message: String) {
        let field = match key {
            Some(key) => format!("{}.{key}", self.field),
            None => self.field.to_string(),
        };
        self.errors.at(line, None, Some(&field), message);
        self.ok = false;
    }

    fn line_of(&self, key: &str) -> usize {
        self.keys.get(key).map_or(self.item.line, |n| n.line)
    }

    fn rule(&mut self, early: bool) -> Option<DayRule> {
        let name = self.get("name", |v| string_value(v).map(str::to_string));
        if !self.keys.contains_key("name") {
            self.fail(
                self.item.line,
                Some("name"),
                "missing: every rule has a name".to_string(),
            );
        }
        let date = self.rule_date()?;
        let mut rule = DayRule::new(&name?, date);
        self.shape(&mut rule)?;
        self.close(&mut rule, early)?;
        Some(rule)
    }

    /// Which kind of rule: exactly one of `dates`, `easter`, `month` with `day`, `month`
    /// with `weekday` (and `nth`).
    fn rule_date(&mut self) -> Option<RuleDate> {
        let kinds: Vec<&str> = ["dates", "easter", "day", "weekday"]
            .into_iter()
            .filter(|k| self.keys.contains_key(k))
            .collect();
        if kinds.len() != 1 {
            let message = if kinds.is_empty() {
                "missing: a rule needs `month` and `day`, `month`, `weekday` and `nth`, \
                 `easter` (days from Easter Sunday), or `dates`"
                    .to_string()
            } else {
                format!("set one of {}, not several", kinds.join(", "))
            };
            self.fail(self.item.line, None, message);
            return None;
        }
        let month = self.get("month", |v| bounded(v, 1, 12, "a month").map(|m| m as u32));
        let needs_month = matches!(kinds[0], "day" | "weekday");
        if needs_month != self.keys.contains_key("month") {
            let message = if needs_month {
                "missing: the month of the rule's day (1 to 12)"
            } else {
                "only rules with `day` or `weekday` take a month"
            };
            let line = self.line_of("month");
            self.fail(line, Some("month"), message.to_string());
        }
        match kinds[0] {
            "dates" => self
                .get("dates", |v| {
                    let items = v.as_seq().ok_or_else(|| {
                        format!("expected a list of dates, found {}", v.describe())
                    })?;
                    items.iter().map(parse_date).collect::<Result<Vec<_>, _>>()
                })
                .map(RuleDate::Dates),
            "easter" => self
                .get("easter", |v| signed(v, 365, "Easter offset"))
                .map(|offset| RuleDate::Easter {
                    offset: offset as i32,
                }),
            "day" => {
                let month = month?;
                self.get("day", |v| {
                    let day = bounded(v, 1, 31, "a day of the month")? as u32;
                    // 2000 is a leap year: 29 February is a day (of leap years).
                    NaiveDate::from_ymd_opt(2000, month, day)
                        .map(|_| RuleDate::Fixed { month, day })
                        .ok_or_else(|| format!("month {month} has no day {day}"))
                })
            }
            _ => self.nth_weekday(month?),
        }
    }

    fn nth_weekday(&mut self, month: u32) -> Option<RuleDate> {
        let weekday = self.get("weekday", weekday);
        if !self.keys.contains_key("nth") {
            self.fail(
                self.item.line,
                Some("nth"),
                "missing: which of the month's weekdays (1 to 5, or `last`)".to_string(),
            );
            return None;
        }
        let nth = self.get("nth", |v| match v.as_scalar() {
            Some("last") => Ok(None),
            _ => bounded(v, 1, 5, "a weekday's place in a month, or `last`").map(|n| Some(n as u8)),
        })?;
        Some(RuleDate::NthWeekday {
            month,
            weekday: weekday?,
            nth,
        })
    }

    /// Offset, weekday filter, observance and years.
    fn shape(&mut self, rule: &mut DayRule) -> Option<()> {
        let is_dates = matches!(rule.date, RuleDate::Dates(_));
        let is_easter = matches!(rule.date, RuleDate::Easter { .. });
        if (is_dates || is_easter) && self.keys.contains_key("offset_days") {
            let line = self.line_of("offset_days");
            let message = "`offset_days` applies only to rules by `day` or `weekday` \
                           (`easter` is itself an offset)";
            self.fail(line, Some("offset_days"), message.to_string());
        }
        for key in ["from", "until", "only_on"] {
            if is_dates && self.keys.contains_key(key) {
                let line = self.line_of(key);
                let message = format!("`{key}` does not apply to explicit `dates`");
                self.fail(line, Some(key), message);
            }
        }
        if let Some(days) = self.get("offset_days", |v| signed(v, 365, "offset_days")) {
            rule.offset_days = days as i32;
        }
        rule.only_on = self.get("only_on", weekday_list);
        if let Some(observance) = self.get("observance", observance) {
            rule.observance = observance;
        }
        rule.first_year = self.get("from", |v| bounded(v, 1, 9999, "a year").map(|y| y as i32));
        rule.last_year = self.get("until", |v| bounded(v, 1, 9999, "a year").map(|y| y as i32));
        if let (Some(first), Some(last)) = (rule.first_year, rule.last_year)
            && last < first
        {
            let line = self.line_of("until");
            self.fail(
                line,
                Some("until"),
                format!("{last} is before `from` ({first})"),
            );
        }
        self.ok.then_some(())
    }

    fn close(&mut self, rule: &mut DayRule, early: bool) -> Option<()> {
        match (early, self.keys.contains_key("close")) {
            (true, true) => {
                let close = self.get("close", close_time)?;
                if let Some(regular) = self.regular_close.filter(|regular| close >= *regular) {
                    let line = self.line_of("close");
                    let message = format!(
                        "an early close at {close} is not before the calendar's close \
                         ({regular}): an early close ends the session earlier than usual"
                    );
                    self.fail(line, Some("close"), message);
                }
                rule.close = Some(close);
            }
            (true, false) => self.fail(
                self.item.line,
                Some("close"),
                "missing: when the session closes that day (\"HH:MM\")".to_string(),
            ),
            (false, true) => {
                let line = self.line_of("close");
                self.fail(
                    line,
                    Some("close"),
                    "a holiday has no close; list early closes under `early_closes:`".to_string(),
                );
            }
            (false, false) => {}
        }
        self.ok.then_some(())
    }
}

fn observance(node: &Node) -> Result<Observance, String> {
    let text = string_value(node)?;
    Observance::parse(text).ok_or_else(|| {
        let hint = did_you_mean(text, &Observance::NAMES)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        format!(
            "unknown observance {}; {hint}expected one of {}",
            quote_short(text),
            Observance::NAMES.join(", ")
        )
    })
}
