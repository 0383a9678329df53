//! The artifact fields that describe how a producer really behaves: `active_windows` (when a
//! continuous feed is written at all) and `off_cycle` (judged by the newest key of the
//! template's shape). Each problem is located at its own line and sub-field
//! (`active_windows[1].timezone`), so a list of windows reports every mistake in one run.

use std::collections::HashMap;
use std::sync::Arc;

use super::errors::Problem;
use super::refs::Refs;
use super::values::unknown_time_zone_message;
use super::values::{Bound, boolean, string_value, whole_number};
use crate::cadence::window::{ActiveWindow, DayCalendar, EVERY_DAY};
use crate::registry::OffCycle;
use crate::text::{did_you_mean, quote_short};
use crate::yaml::{MapEntry, Node};

const WINDOW_KEYS: &[&str] = &["calendar", "from", "to", "timezone"];
const OFF_CYCLE_KEYS: &[&str] = &["max_age_minutes"];

/// `active_windows:`: a list of `{calendar, from, to, timezone}`; null means always active.
pub(super) fn active_windows(
    node: &Node,
    refs: &Refs<'_>,
) -> Result<Option<Arc<[ActiveWindow]>>, Vec<Problem>> {
    if node.is_null() {
        return Ok(None);
    }
    let at = |line: usize, path: String, message: String| Problem {
        line,
        path,
        message,
    };
    let Some(items) = node.as_seq() else {
        let message = format!(
            "expected a list of windows {{calendar, from, to, timezone}}, found {}",
            node.describe()
        );
        return Err(vec![at(node.line, String::new(), message)]);
    };
    if items.is_empty() {
        let message = "an empty list expects nothing ever; remove the field (or write null) to \
                       expect the artifact at all times"
            .to_string();
        return Err(vec![at(node.line, String::new(), message)]);
    }
    let mut problems = Vec::new();
    let mut windows: Vec<ActiveWindow> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(window) = read_window(item, &format!("[{i}]"), refs, &mut problems) {
            if let Some((j, other)) = windows
                .iter()
                .enumerate()
                .find(|(_, w)| w.overlaps(&window))
            {
                let message = format!(
                    "{window} overlaps active_windows[{j}] (line {}), {other}; merge them into \
                     one window",
                    other.line
                );
                problems.push(at(item.line, format!("[{i}]"), message));
            }
            windows.push(window);
        }
    }
    if problems.is_empty() {
        Ok(Some(windows.into()))
    } else {
        Err(problems)
    }
}

/// One window, or `None` with its problems reported.
fn read_window(
    item: &Node,
    path: &str,
    refs: &Refs<'_>,
    problems: &mut Vec<Problem>,
) -> Option<ActiveWindow> {
    let Some(entries) = item.as_map() else {
        problems.push(Problem {
            line: item.line,
            path: path.to_string(),
            message: format!(
                "expected a mapping {{calendar, from, to, timezone}}, found {}",
                item.describe()
            ),
        });
        return None;
    };
    let before = problems.len();
    let keys = known_keys(entries, WINDOW_KEYS, path, problems);
    let mut fields = SubFields {
        keys,
        line: item.line,
        path,
        problems,
    };
    const TIME: &str = "missing: a local time HH:MM";
    let from = fields.read("from", None, TIME, |n| time_of_day(n, false));
    let to = fields.read("to", None, TIME, |n| time_of_day(n, true));
    let calendar = fields.read("calendar", Some(DayCalendar::EveryDay), "", |node| {
        window_calendar(node, refs)
    });
    let timezone = fields.read("timezone", Some(chrono_tz::UTC), "", |node| {
        let text = string_value(node)?;
        text.parse().map_err(|_| unknown_time_zone_message(text))
    });
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        let line = fields.keys.get("to").map_or(item.line, |n| n.line);
        let message = format!(
            "{} is not after from {}; a window across midnight is two windows (from {} to \
             24:00, and from 00:00 to {})",
            hh_mm(to),
            hh_mm(from),
            hh_mm(from),
            hh_mm(to)
        );
        fields.push(line, "to", message);
    }
    match (calendar, from, to, timezone) {
        (Some(calendar), Some(from), Some(to), Some(timezone)) if problems.len() == before => {
            Some(ActiveWindow {
                calendar,
                from,
                to,
                timezone,
                line: item.line,
            })
        }
        _ => None,
    }
}

/// The keys of one mapping inside a field (a window), read one by one, each problem located
/// at its own line and sub-field.
struct SubFields<'n, 'p> {
    keys: HashMap<&'n str, &'n Node>,
    /// The mapping's line, where a missing key is reported.
    line: usize,
    path: &'p str,
    problems: &'p mut Vec<Problem>,
}

impl SubFields<'_, '_> {
    fn push(&mut self, line: usize, key: &str, message: String) {
        self.problems.push(Problem {
            line,
            path: format!("{}.{key}", self.path),
            message,
        });
    }

    /// `key`'s value read by `parse`; `default` when the key is not set (`None`: required,
    /// reported with `missing`).
    fn read<T>(
        &mut self,
        key: &str,
        default: Option<T>,
        missing: &str,
        parse: impl FnOnce(&Node) -> Result<T, String>,
    ) -> Option<T> {
        let Some(&node) = self.keys.get(key) else {
            if default.is_none() {
                self.push(self.line, key, missing.to_string());
            }
            return default;
        };
        parse(node)
            .map_err(|message| self.push(node.line, key, message))
            .ok()
    }
}

/// The entries of a window's mapping by key, reporting unknown and repeated keys.
fn known_keys<'n>(
    entries: &'n [MapEntry],
    known: &[&str],
    path: &str,
    problems: &mut Vec<Problem>,
) -> HashMap<&'n str, &'n Node> {
    let mut found: HashMap<&str, &Node> = HashMap::new();
    for entry in entries {
        let key = entry.key.as_str();
        let message = if !known.contains(&key) {
            match did_you_mean(key, known) {
                Some(meant) => format!("unknown field; did you mean `{meant}`?"),
                None => format!("unknown field; known fields: {}", known.join(", ")),
            }
        } else if found.contains_key(key) {
            "duplicate key".to_string()
        } else {
            found.insert(key, &entry.value);
            continue;
        };
        problems.push(Problem {
            line: entry.key_line,
            path: format!("{path}.{key}"),
            message,
        });
    }
    found
}

/// A window's calendar: `every_day`, or any calendar a cadence can name (`nyse`, `lse`,
/// `xetr`, the registry's `calendars:`), through the registry's one lookup of calendar names.
fn window_calendar(node: &Node, refs: &Refs<'_>) -> Result<DayCalendar, String> {
    match string_value(node)? {
        EVERY_DAY => Ok(DayCalendar::EveryDay),
        name => refs
            .calendars
            .resolve(name)
            .map(DayCalendar::Sessions)
            .map_err(|message| format!("{message}, or `{EVERY_DAY}`")),
    }
}

/// `HH:MM` as minutes after midnight; `24:00` only as an end. YAML 1.1 reads a plain `09:30`
/// as a base-60 number, so the text is taken as written, whatever YAML made of it.
fn time_of_day(node: &Node, end: bool) -> Result<u32, String> {
    let bad = || {
        format!(
            "expected a local time HH:MM{}, found {}",
            if end { " (or 24:00)" } else { "" },
            node.describe()
        )
    };
    let text = node.as_scalar().ok_or_else(bad)?;
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || m.len() != 2 || !digits(m) {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    match (h, m) {
        (24, 0) if end => Ok(24 * 60),
        (0..=23, 0..=59) => Ok(h * 60 + m),
        _ => Err(format!("{} is not a time of day", quote_short(text))),
    }
}

fn hh_mm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `off_cycle:`: `true` (fresh when written after the previous cycle's tick), `false` or null
/// (off), or `{max_age_minutes: N}`.
pub(super) fn off_cycle(node: &Node, _: &Refs<'_>) -> Result<Option<OffCycle>, Vec<Problem>> {
    if node.is_null() {
        return Ok(None);
    }
    let at = |line: usize, path: &str, message: String| {
        vec![Problem {
            line,
            path: path.to_string(),
            message,
        }]
    };
    let Some(entries) = node.as_map() else {
        return match boolean(node) {
            Ok(true) => Ok(Some(OffCycle::SincePreviousTick)),
            Ok(false) => Ok(None),
            Err(_) => Err(at(
                node.line,
                "",
                format!(
                    "expected true, false or {{max_age_minutes: N}}, found {}",
                    node.describe()
                ),
            )),
        };
    };
    let mut problems = Vec::new();
    let keys = known_keys(entries, OFF_CYCLE_KEYS, "", &mut problems);
    let Some(max_age) = keys.get("max_age_minutes") else {
        if problems.is_empty() {
            problems = at(
                node.line,
                ".max_age_minutes",
                "missing (or write `off_cycle: true` to accept anything written since the \
                 previous cycle's tick)"
                    .to_string(),
            );
        }
        return Err(problems);
    };
    match whole_number(max_age, 1, Bound::TYPE) {
        Ok(minutes) if problems.is_empty() => Ok(Some(OffCycle::MaxAge { minutes })),
        Ok(_) => Err(problems),
        Err(message) => {
            problems.extend(at(max_age.line, ".max_age_minutes", message));
            Err(problems)
        }
    }
}
