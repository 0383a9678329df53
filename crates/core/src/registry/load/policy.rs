//! Reading `alert_policy:` (routes, escalation) and `silences:` (docs/alerts.md#policy), and
//! checking `depends_on:` across artifacts once every entry is read.
//!
//! Errors in the two sections make the registry unusable, as in every shared section: a
//! silence that cannot be read might be a maintenance window that would page all night. A bad
//! `depends_on` (an unknown id, a cycle) makes only the artifacts concerned invalid.

use std::collections::HashMap;
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

/// How many unknown `depends_on` ids get a did-you-mean: each hint compares the id with every
/// artifact's, so a registry full of unknown ids must not cost ids × artifacts comparisons.
const HINTED_UNKNOWN_IDS: usize = 20;

/// Past this many members a cycle's text shows its first [`CYCLE_SHOWN`] and a count.
const CYCLE_LISTED_IN_FULL: usize = 30;
const CYCLE_SHOWN: usize = 24;

/// What is wrong with each artifact's `depends_on`, by the artifact's index. Linear in the
/// artifacts and their dependencies: a cycle is found once (as a strongly connected
/// component) and its text, bounded in length, is told once.
fn dependency_problems(entries: &[RegistryEntry]) -> HashMap<usize, Vec<String>> {
    let index: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.label(), i))
        .collect();
    let mut bad = reference_problems(entries, &index);
    cycle_problems(entries, &index, &mut bad);
    bad
}

/// Ids that name the artifact itself or no artifact of the registry.
fn reference_problems(
    entries: &[RegistryEntry],
    index: &HashMap<&str, usize>,
) -> HashMap<usize, Vec<String>> {
    let mut bad: HashMap<usize, Vec<String>> = HashMap::new();
    let mut known: Option<Vec<&str>> = None;
    let mut hinted = 0;
    for (i, entry) in entries.iter().enumerate() {
        let RegistryEntry::Valid(spec) = entry else {
            continue;
        };
        for dep in spec.depends_on() {
            let message = if dep == &spec.id {
                "depends on itself".to_string()
            } else if !index.contains_key(dep.as_str()) {
                let hint = (hinted < HINTED_UNKNOWN_IDS)
                    .then(|| {
                        hinted += 1;
                        let known = known
                            .get_or_insert_with(|| entries.iter().map(|e| e.label()).collect());
                        did_you_mean(dep.as_str(), known)
                    })
                    .flatten()
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                format!("`{dep}` is not an artifact of this registry{hint}")
            } else {
                continue;
            };
            bad.entry(i).or_default().push(message);
        }
    }
    bad
}

/// Every cycle, told once at its first artifact (in file order); the other artifacts on it
/// point there.
fn cycle_problems(
    entries: &[RegistryEntry],
    index: &HashMap<&str, usize>,
    bad: &mut HashMap<usize, Vec<String>>,
) {
    let graph = DependencyGraph::of(entries, index);
    for members in graph.cycle_groups() {
        let first = members[0];
        let cycle = graph.cycle_through(first, &members);
        let ids: Vec<&str> = cycle.iter().map(|&n| entries[n].label()).collect();
        bad.entry(first)
            .or_default()
            .push(format!("dependency cycle: {}", cycle_text(&ids)));
        let first_id = entries[first].label();
        let line = match &entries[first] {
            RegistryEntry::Valid(spec) => spec.line(),
            RegistryEntry::Invalid(bad) => bad.line,
        };
        for &member in &members[1..] {
            bad.entry(member).or_default().push(format!(
                "on a dependency cycle with `{first_id}` (reported at artifact {first_id}, line \
                 {line}; {} artifacts in all)",
                members.len()
            ));
        }
    }
}

/// `a -> b -> c -> a`, the middle left out past [`CYCLE_LISTED_IN_FULL`] members:
/// `a -> b -> … (N more) -> a`. `ids` ends with its first id again.
fn cycle_text(ids: &[&str]) -> String {
    let members = ids.len().saturating_sub(1);
    if members <= CYCLE_LISTED_IN_FULL {
        return ids.join(" -> ");
    }
    let shown = ids[..CYCLE_SHOWN].join(" -> ");
    let last = ids[ids.len() - 1];
    format!("{shown} -> … ({} more) -> {last}", members - CYCLE_SHOWN)
}

const UNSEEN: usize = usize::MAX;

/// Tarjan's bookkeeping: each node's visit order and lowest reachable order, and the stack of
/// nodes whose component is not closed yet.
struct Tarjan {
    order: Vec<usize>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
}

impl Tarjan {
    fn new(n: usize) -> Tarjan {
        Tarjan {
            order: vec![UNSEEN; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            next: 0,
        }
    }

    fn visit(&mut self, v: usize, calls: &mut Vec<(usize, usize)>) {
        (self.order[v], self.low[v], self.on_stack[v]) = (self.next, self.next, true);
        self.next += 1;
        self.stack.push(v);
        calls.push((v, 0));
    }

    /// When `v`, done, roots a component: its members in file order, off the stack.
    fn component_of(&mut self, v: usize) -> Option<Vec<usize>> {
        if self.low[v] != self.order[v] {
            return None;
        }
        let at = self.stack.iter().rposition(|&m| m == v).unwrap_or(0);
        let mut members: Vec<usize> = self.stack.drain(at..).collect();
        members.iter().for_each(|&m| self.on_stack[m] = false);
        members.sort_unstable();
        Some(members)
    }
}

/// The valid artifacts' dependencies on the registry's other entries, by index, in
/// compressed rows (one vector of targets for the whole registry).
struct DependencyGraph {
    /// Node `n`'s dependencies are `targets[starts[n]..starts[n + 1]]`.
    starts: Vec<usize>,
    targets: Vec<usize>,
}

impl DependencyGraph {
    fn of(entries: &[RegistryEntry], index: &HashMap<&str, usize>) -> DependencyGraph {
        let mut starts = Vec::with_capacity(entries.len() + 1);
        let mut targets = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            starts.push(targets.len());
            if let RegistryEntry::Valid(spec) = entry {
                let deps = spec.depends_on().iter();
                targets.extend(
                    deps.filter_map(|d| index.get(d.as_str()).copied())
                        .filter(|&d| d != i),
                );
            }
        }
        starts.push(targets.len());
        DependencyGraph { starts, targets }
    }

    fn deps(&self, node: usize) -> &[usize] {
        &self.targets[self.starts[node]..self.starts[node + 1]]
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// The strongly connected components of more than one member (every artifact on a
    /// cycle), each in file order: Tarjan's algorithm, iterative so that a chain of a
    /// million artifacts needs no deep stack.
    fn cycle_groups(&self) -> Vec<Vec<usize>> {
        let mut walk = Tarjan::new(self.len());
        let mut groups = Vec::new();
        for root in 0..self.len() {
            if walk.order[root] != UNSEEN || self.deps(root).is_empty() {
                continue;
            }
            let mut calls: Vec<(usize, usize)> = Vec::new();
            walk.visit(root, &mut calls);
            while let Some(&mut (v, ref mut edge)) = calls.last_mut() {
                if let Some(&w) = self.deps(v).get(*edge) {
                    *edge += 1;
                    if walk.order[w] == UNSEEN {
                        walk.visit(w, &mut calls);
                    } else if walk.on_stack[w] {
                        walk.low[v] = walk.low[v].min(walk.order[w]);
                    }
                    continue;
                }
                calls.pop();
                if let Some(&(parent, _)) = calls.last() {
                    walk.low[parent] = walk.low[parent].min(walk.low[v]);
                }
                if let Some(members) = walk.component_of(v).filter(|m| m.len() > 1) {
                    groups.push(members);
                }
            }
        }
        groups
    }

    /// A shortest cycle from `start` back to itself inside `members` (a strongly connected
    /// component, sorted), as nodes ending with `start` again: breadth-first, linear in the
    /// component's edges.
    fn cycle_through(&self, start: usize, members: &[usize]) -> Vec<usize> {
        let inside = |n: usize| members.binary_search(&n).is_ok();
        let mut parent: HashMap<usize, usize> = HashMap::from([(start, start)]);
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            for &dep in self.deps(node) {
                if dep == start {
                    let mut path = vec![start, node];
                    let mut at = node;
                    while at != start {
                        at = parent[&at];
                        path.push(at);
                    }
                    path.reverse();
                    return path;
                }
                if inside(dep) && !parent.contains_key(&dep) {
                    parent.insert(dep, node);
                    queue.push_back(dep);
                }
            }
        }
        // Unreachable for a strongly connected component; the members in file order say
        // enough.
        members.iter().copied().chain([start]).collect()
    }
}
