//! Reading a registry file into a [`Registry`], finding every error in one run.
//!
//! Errors in the shared sections (`schema_version`, `defaults`, `calendar`, `cadences`,
//! `grandfathered_paths`, the shape of `artifacts`) make the registry unusable; errors inside
//! one artifact entry make only that artifact invalid. Every message names the file, the line,
//! the artifact and the field.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::{
    ArtifactId, ArtifactSpec, GrandfatheredPath, InvalidArtifact, Registry, RegistryEntry,
    RegistryError, Severity, ValidationError,
};
use crate::cadence::cron::CronSchedule;
use crate::cadence::{BUILTIN_CADENCES, Cadence, UserCadence};
use crate::calendar::TradingCalendar;
use crate::template::KeyTemplate;
use crate::text::{did_you_mean, quote_short, shorten};
use crate::yaml::{self, MapEntry, Node, ScalarKind};

/// Registries larger than this are refused before parsing: 100,000 artifacts fit in about
/// 25 MB, and a file far beyond that is a mistake, not a registry.
pub const MAX_REGISTRY_BYTES: usize = 32 * 1024 * 1024;

const TOP_LEVEL_KEYS: &[&str] = &[
    "schema_version",
    "defaults",
    "calendar",
    "cadences",
    "grandfathered_paths",
    "artifacts",
];

const ARTIFACT_FIELDS: &[&str] = &[
    "artifact_id",
    "s3_bucket",
    "s3_key_template",
    "cadence",
    "sla_minutes_after_cron",
    "severity",
    "owner_repo",
    "created_at",
    "grace_period_cycles",
    "recovery_key_template",
    "calendar_aware",
    "interval_minutes",
];

const CADENCE_KEYS: &[&str] = &["cron", "timezone", "calendar"];

pub(super) fn too_large_message(bytes: u64) -> String {
    format!(
        "registry is {:.1} MB; the limit is {} MiB (is this the right file?)",
        bytes as f64 / 1_000_000.0,
        MAX_REGISTRY_BYTES / (1024 * 1024)
    )
}

/// Parses a registry from its bytes. `file` names it in messages (a path or `s3://` URL).
pub fn parse_registry(file: &str, bytes: &[u8]) -> Result<Registry, RegistryError> {
    let mut errors = Errors {
        file,
        list: Vec::new(),
    };
    let whole = |message: String| RegistryError {
        errors: vec![ValidationError {
            file: file.to_string(),
            line: 0,
            artifact: None,
            field: None,
            message,
        }],
    };
    if bytes.len() > MAX_REGISTRY_BYTES {
        return Err(whole(too_large_message(bytes.len() as u64)));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        RegistryError {
            errors: vec![ValidationError {
                file: file.to_string(),
                line,
                artifact: None,
                field: None,
                message: "not UTF-8 text".to_string(),
            }],
        }
    })?;
    let mut streamed = StreamedArtifacts::new(file);
    let mut parsed = yaml::parse_document_with(text, &mut |top, item| {
        streamed.take(top, item);
        None
    });
    if let Ok(Some(root)) = &parsed
        && !streamed.is_consistent_with(root)
    {
        // A section the artifacts depend on came after `artifacts:` (or `artifacts:` came
        // twice): read the whole tree first, as a small registry always could be.
        streamed = StreamedArtifacts::new(file);
        parsed = yaml::parse_document(text);
    }
    let root = match parsed {
        Ok(Some(root)) => root,
        Ok(None) => {
            return Err(whole(
                "registry is empty; expected a mapping with `artifacts:`".to_string(),
            ));
        }
        Err(e) => {
            errors.at(e.line, None, None, e.message);
            return Err(RegistryError {
                errors: errors.list,
            });
        }
    };
    let Some(top) = root.as_map() else {
        errors.at(
            root.line,
            None,
            None,
            format!(
                "expected a mapping with `artifacts:` at the top, found {}",
                root.describe()
            ),
        );
        return Err(RegistryError {
            errors: errors.list,
        });
    };

    let sections = errors.keys(top, TOP_LEVEL_KEYS, None, "");
    let misspelled_sections = near_misses(top, TOP_LEVEL_KEYS);
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

    let calendar = sections
        .get("calendar")
        .map(|node| parse_calendar(node, &mut errors))
        .unwrap_or_default();
    let grandfathered_paths = sections
        .get("grandfathered_paths")
        .map(|node| parse_grandfathered(node, &mut errors))
        .unwrap_or_default();
    let ArtifactContext {
        defaults,
        user_cadences,
        broken_cadences,
    } = match streamed.context.take() {
        Some((context, section_errors)) => {
            errors.list.extend(section_errors);
            context
        }
        None => ArtifactContext::read(&sections, &mut errors),
    };
    let mut entries = Vec::new();
    match sections.get("artifacts") {
        // A misspelled `artifacts:` key was reported with its did-you-mean already.
        None if misspelled_sections.contains(&"artifacts") => {}
        None => errors.at(
            root.line,
            None,
            Some("artifacts"),
            "missing: the registry must list its artifacts under `artifacts:`".to_string(),
        ),
        Some(node) if node.is_null() => {}
        Some(node) => match node.as_seq() {
            Some(items) => {
                // Items streamed while parsing are read already; any others follow them.
                entries = std::mem::take(&mut streamed.entries);
                let mut first_line_of = std::mem::take(&mut streamed.first_line_of);
                for item in items {
                    let entry = read_artifact(
                        item,
                        entries.len(),
                        &defaults,
                        &user_cadences,
                        &broken_cadences,
                        &mut first_line_of,
                        file,
                    );
                    entries.push(entry);
                }
            }
            None => errors.at(
                node.line,
                None,
                Some("artifacts"),
                format!("expected a list of artifacts, found {}", node.describe()),
            ),
        },
    }

    // The list grew by doubling while streaming; a pass keeps it for its whole length.
    entries.shrink_to_fit();
    let registry = Registry {
        entries,
        calendar: TradingCalendar::nyse(calendar),
        user_cadences,
        grandfathered_paths,
    };
    if !errors.list.is_empty() {
        let mut all = errors.list;
        all.extend(registry.artifact_errors().cloned());
        all.sort_by_key(|e| e.line);
        return Err(RegistryError { errors: all });
    }
    Ok(registry)
}

/// What reading an artifact entry needs from the rest of the file.
struct ArtifactContext {
    defaults: Fields,
    user_cadences: Vec<Arc<UserCadence>>,
    broken_cadences: Vec<BrokenCadence>,
}

/// The top-level sections an artifact entry depends on.
const ARTIFACT_CONTEXT_SECTIONS: &[&str] = &["defaults", "cadences"];

impl ArtifactContext {
    fn read(sections: &HashMap<&str, &Node>, errors: &mut Errors<'_>) -> ArtifactContext {
        let (user_cadences, broken_cadences) = sections
            .get("cadences")
            .map(|node| parse_cadences(node, errors))
            .unwrap_or_default();
        let defaults = match sections.get("defaults") {
            None => Fields::default(),
            Some(node) if node.is_null() => Fields::default(),
            Some(node) => match node.as_map() {
                Some(entries) => {
                    let mut context = FieldContext {
                        errors,
                        artifact: None,
                        field_prefix: "defaults.",
                        user_cadences: &user_cadences,
                        broken_cadences: &broken_cadences,
                    };
                    read_fields(entries, &mut context, true)
                }
                None => {
                    errors.at(
                        node.line,
                        None,
                        Some("defaults"),
                        format!(
                            "expected a mapping of field defaults, found {}",
                            node.describe()
                        ),
                    );
                    Fields::default()
                }
            },
        };
        ArtifactContext {
            defaults,
            user_cadences,
            broken_cadences,
        }
    }
}

/// Artifact entries read one at a time while the YAML is parsed
/// ([`yaml::parse_document_with`]), so a big registry's tree never exists whole: at 100,000
/// artifacts the tree alone was ~70 MB. The sections they depend on are read from the
/// top-level entries that came before `artifacts:` (where every registry puts them); when the
/// finished tree shows otherwise, the caller reads the file again the plain way.
struct StreamedArtifacts<'f> {
    file: &'f str,
    /// The context and the errors found reading it, once the first item arrived.
    context: Option<(ArtifactContext, Vec<ValidationError>)>,
    /// The lines of the context sections' keys the context was read from.
    context_lines: Vec<usize>,
    entries: Vec<RegistryEntry>,
    first_line_of: HashMap<String, usize>,
}

impl<'f> StreamedArtifacts<'f> {
    fn new(file: &'f str) -> Self {
        StreamedArtifacts {
            file,
            context: None,
            context_lines: Vec::new(),
            entries: Vec::new(),
            first_line_of: HashMap::new(),
        }
    }

    fn take(&mut self, top: &[MapEntry], item: Node) {
        let file = self.file;
        if self.context.is_none() {
            self.context_lines = context_lines(top);
        }
        let (context, _) = self.context.get_or_insert_with(|| {
            let mut sections: HashMap<&str, &Node> = HashMap::new();
            for entry in top {
                if ARTIFACT_CONTEXT_SECTIONS.contains(&entry.key.as_str()) {
                    sections.entry(&entry.key).or_insert(&entry.value);
                }
            }
            let mut errors = Errors {
                file,
                list: Vec::new(),
            };
            let context = ArtifactContext::read(&sections, &mut errors);
            (context, errors.list)
        });
        let entry = read_artifact(
            &item,
            self.entries.len(),
            &context.defaults,
            &context.user_cadences,
            &context.broken_cadences,
            &mut self.first_line_of,
            file,
        );
        self.entries.push(entry);
    }

    /// Whether the streamed entries are what reading the finished tree gives: one
    /// `artifacts:` list, and no context section after it.
    fn is_consistent_with(&self, root: &Node) -> bool {
        if self.context.is_none() {
            return true;
        }
        let Some(top) = root.as_map() else {
            return false;
        };
        top.iter().filter(|e| e.key == "artifacts").count() == 1
            && context_lines(top) == self.context_lines
    }
}

fn context_lines(top: &[MapEntry]) -> Vec<usize> {
    top.iter()
        .filter(|e| ARTIFACT_CONTEXT_SECTIONS.contains(&e.key.as_str()))
        .map(|e| e.key_line)
        .collect()
}

/// Collects errors for one file.
struct Errors<'a> {
    file: &'a str,
    list: Vec<ValidationError>,
}

impl Errors<'_> {
    fn at(&mut self, line: usize, artifact: Option<&str>, field: Option<&str>, message: String) {
        self.list.push(ValidationError {
            file: self.file.to_string(),
            line,
            artifact: artifact.map(str::to_string),
            field: field.map(str::to_string),
            message,
        });
    }

    /// The entries of a mapping by key, reporting unknown keys (with a suggestion) and
    /// duplicates. `prefix` qualifies field names in messages (`cadences.weekly.`).
    fn keys<'n>(
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

fn parse_calendar(node: &Node, errors: &mut Errors<'_>) -> Vec<NaiveDate> {
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
    for (i, item) in items.iter().enumerate() {
        match parse_date(item) {
            Ok(date) => dates.push(date),
            Err(message) => errors.at(
                item.line,
                None,
                Some(&format!("calendar.extra_closures[{i}]")),
                message,
            ),
        }
    }
    dates
}

/// A cadence declared under `cadences:` whose definition is wrong: artifacts naming it are
/// told so, rather than that the name is unknown.
type BrokenCadence = (String, usize);

/// The user cadences that parsed, and the names (with lines) of those that did not.
fn parse_cadences(
    node: &Node,
    errors: &mut Errors<'_>,
) -> (Vec<Arc<UserCadence>>, Vec<BrokenCadence>) {
    let mut broken: Vec<BrokenCadence> = Vec::new();
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
        return (Vec::new(), broken);
    };
    let mut cadences: Vec<Arc<UserCadence>> = Vec::new();
    let mut first_line_of: HashMap<&str, usize> = HashMap::new();
    for entry in entries {
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
        let Some(body) = entry.value.as_map() else {
            errors.at(
                entry.value.line,
                None,
                Some(&field),
                format!(
                    "expected a mapping {{cron, timezone, calendar}}, found {}",
                    entry.value.describe()
                ),
            );
            broken.push((name.to_string(), entry.key_line));
            continue;
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
            Some(v) => match string_value(v) {
                Ok(text) => match CronSchedule::parse(text) {
                    Ok(schedule) => Some(schedule),
                    Err(e) => {
                        errors.at(
                            v.line,
                            None,
                            Some(&format!("{field}.cron")),
                            format!(
                                "cron expression {}: {}",
                                quote_short(&e.expression),
                                e.message
                            ),
                        );
                        None
                    }
                },
                Err(message) => {
                    errors.at(v.line, None, Some(&format!("{field}.cron")), message);
                    None
                }
            },
        };
        let timezone = match keys.get("timezone") {
            None => Some(chrono_tz::UTC),
            Some(v) => match string_value(v) {
                Ok(text) => match text.parse::<Tz>() {
                    Ok(tz) => Some(tz),
                    Err(_) => {
                        errors.at(
                            v.line,
                            None,
                            Some(&format!("{field}.timezone")),
                            unknown_time_zone_message(text),
                        );
                        None
                    }
                },
                Err(message) => {
                    errors.at(v.line, None, Some(&format!("{field}.timezone")), message);
                    None
                }
            },
        };
        let nyse_calendar = match keys.get("calendar") {
            None => false,
            Some(v) if v.is_null() => false,
            Some(v) => match string_value(v) {
                Ok("nyse") => true,
                Ok(other) => {
                    errors.at(
                        v.line,
                        None,
                        Some(&format!("{field}.calendar")),
                        format!(
                            "unknown calendar {}; the only calendar is `nyse`",
                            quote_short(other)
                        ),
                    );
                    false
                }
                Err(message) => {
                    errors.at(v.line, None, Some(&format!("{field}.calendar")), message);
                    false
                }
            },
        };
        if let (Some(schedule), Some(timezone), true) =
            (schedule, timezone, errors.list.len() == before)
        {
            cadences.push(Arc::new(UserCadence {
                name: name.to_string(),
                schedule,
                timezone,
                nyse_calendar,
            }));
        } else {
            broken.push((name.to_string(), entry.key_line));
        }
    }
    (cadences, broken)
}

fn unknown_time_zone_message(text: &str) -> String {
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

/// The known names that a mapping's unknown keys look like misspellings of. A field whose
/// name was misspelled is reported once, with its did-you-mean, and not again as missing.
fn near_misses<'k>(entries: &[MapEntry], known: &[&'k str]) -> Vec<&'k str> {
    entries
        .iter()
        .filter(|e| !known.contains(&e.key.as_str()))
        .filter_map(|e| did_you_mean(&e.key, known))
        .collect()
}

fn parse_grandfathered(node: &Node, errors: &mut Errors<'_>) -> Vec<GrandfatheredPath> {
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
            Some(v) => match string_value(v) {
                Ok(text) => Some(text.to_string()),
                Err(message) => {
                    errors.at(v.line, None, Some(&format!("{field}.{key}")), message);
                    None
                }
            },
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

/// Field values read from one mapping (an artifact or `defaults`), before merging.
#[derive(Debug, Clone, Default)]
struct Fields {
    s3_bucket: Option<String>,
    s3_key_template: Option<KeyTemplate>,
    cadence: Option<Cadence>,
    cadence_name: Option<String>,
    sla_minutes_after_cron: Option<u32>,
    severity: Option<Severity>,
    owner_repo: Option<String>,
    created_at: Option<NaiveDate>,
    grace_period_cycles: Option<u32>,
    /// `Some(None)`: explicitly null.
    recovery_key_template: Option<Option<KeyTemplate>>,
    calendar_aware: Option<bool>,
    interval_minutes: Option<(u32, usize)>,
    /// Raw texts kept for the report row of an invalid entry.
    raw_key_template: Option<String>,
    /// Every field the mapping set (with its line), parsed or not, and every field an
    /// unknown key looks like a misspelling of: such a field was reported where it stands
    /// and must not be reported again as missing, nor silently taken from the defaults.
    present: Vec<(String, usize)>,
}

impl Fields {
    /// Where the mapping set `field` (or a near-miss of it), if it did.
    fn line_of(&self, field: &str) -> Option<usize> {
        self.present
            .iter()
            .find(|(name, _)| name == field)
            .map(|&(_, line)| line)
    }

    /// An artifact's own keys win over the defaults, even when their value is wrong: a bad
    /// `cadence:` must not quietly become the default cadence.
    fn or(self, defaults: &Fields) -> Fields {
        let d = defaults.clone();
        let own = |field: &str| self.line_of(field).is_some();
        fn pick<T>(own_set: bool, own: Option<T>, default: Option<T>) -> Option<T> {
            if own_set { own } else { default }
        }
        Fields {
            s3_bucket: pick(own("s3_bucket"), self.s3_bucket.clone(), d.s3_bucket),
            s3_key_template: pick(
                own("s3_key_template"),
                self.s3_key_template.clone(),
                d.s3_key_template,
            ),
            cadence: pick(own("cadence"), self.cadence.clone(), d.cadence),
            cadence_name: pick(own("cadence"), self.cadence_name.clone(), d.cadence_name),
            sla_minutes_after_cron: pick(
                own("sla_minutes_after_cron"),
                self.sla_minutes_after_cron,
                d.sla_minutes_after_cron,
            ),
            severity: pick(own("severity"), self.severity, d.severity),
            owner_repo: pick(own("owner_repo"), self.owner_repo.clone(), d.owner_repo),
            created_at: pick(own("created_at"), self.created_at, d.created_at),
            grace_period_cycles: pick(
                own("grace_period_cycles"),
                self.grace_period_cycles,
                d.grace_period_cycles,
            ),
            recovery_key_template: pick(
                own("recovery_key_template"),
                self.recovery_key_template.clone(),
                d.recovery_key_template,
            ),
            calendar_aware: pick(own("calendar_aware"), self.calendar_aware, d.calendar_aware),
            interval_minutes: pick(
                own("interval_minutes"),
                self.interval_minutes,
                d.interval_minutes,
            ),
            raw_key_template: pick(
                own("s3_key_template"),
                self.raw_key_template.clone(),
                d.raw_key_template,
            ),
            present: self.present.clone(),
        }
    }
}

struct FieldContext<'e, 'f> {
    errors: &'e mut Errors<'f>,
    artifact: Option<&'e str>,
    field_prefix: &'e str,
    user_cadences: &'e [Arc<UserCadence>],
    broken_cadences: &'e [BrokenCadence],
}

impl FieldContext<'_, '_> {
    fn error(&mut self, line: usize, field: &str, message: String) {
        let field = format!("{}{field}", self.field_prefix);
        self.errors.at(line, self.artifact, Some(&field), message);
    }
}

/// Reads the typed fields of one mapping, reporting each bad one.
fn read_fields(entries: &[MapEntry], cx: &mut FieldContext<'_, '_>, is_defaults: bool) -> Fields {
    let known: Vec<&str> = ARTIFACT_FIELDS
        .iter()
        .copied()
        .filter(|f| !(is_defaults && *f == "artifact_id"))
        .collect();
    let keys = cx
        .errors
        .keys(entries, &known, cx.artifact, cx.field_prefix);
    let mut fields = Fields::default();
    for entry in entries {
        if !known.contains(&entry.key.as_str())
            && let Some(meant) = did_you_mean(&entry.key, &known)
        {
            fields.present.push((meant.to_string(), entry.key_line));
        }
    }
    let mut ordered: Vec<(&str, &Node)> = keys.into_iter().collect();
    ordered.sort_by_key(|(_, node)| node.line);
    for (key, node) in ordered {
        fields.present.push((key.to_string(), node.line));
        let result: Result<(), String> = (|| {
            match key {
                "artifact_id" => {}
                "s3_bucket" => fields.s3_bucket = Some(non_empty_string(node)?.to_string()),
                "owner_repo" => fields.owner_repo = Some(non_empty_string(node)?.to_string()),
                "s3_key_template" => {
                    let text = string_value(node)?;
                    fields.raw_key_template = Some(text.to_string());
                    fields.s3_key_template =
                        Some(KeyTemplate::parse(text).map_err(|e| e.to_string())?);
                }
                "recovery_key_template" => {
                    fields.recovery_key_template = if node.is_null() {
                        Some(None)
                    } else {
                        let text = string_value(node)?;
                        Some(Some(KeyTemplate::parse(text).map_err(|e| e.to_string())?))
                    }
                }
                "cadence" => {
                    let name = string_value(node)?;
                    fields.cadence_name = Some(name.to_string());
                    fields.cadence =
                        Some(resolve_cadence(name, cx.user_cadences, cx.broken_cadences)?);
                }
                "sla_minutes_after_cron" => {
                    fields.sla_minutes_after_cron = Some(whole_number(node, 0)?)
                }
                "grace_period_cycles" => fields.grace_period_cycles = Some(whole_number(node, 0)?),
                "interval_minutes" => {
                    fields.interval_minutes = Some((whole_number(node, 1)?, node.line))
                }
                "severity" => {
                    fields.severity = Some(match string_value(node)? {
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
                    })
                }
                "created_at" => fields.created_at = Some(parse_date(node)?),
                "calendar_aware" => fields.calendar_aware = Some(boolean(node)?),
                _ => unreachable!("unknown keys are filtered by Errors::keys"),
            }
            Ok(())
        })();
        if let Err(message) = result {
            cx.error(node.line, key, message);
        }
    }
    fields
}

fn read_artifact(
    item: &Node,
    index: usize,
    defaults: &Fields,
    user_cadences: &[Arc<UserCadence>],
    broken_cadences: &[BrokenCadence],
    first_line_of: &mut HashMap<String, usize>,
    file: &str,
) -> RegistryEntry {
    let position_label = format!("artifacts[{index}]");
    let mut errors = Errors {
        file,
        list: Vec::new(),
    };
    let Some(entries) = item.as_map() else {
        errors.at(
            item.line,
            Some(&position_label),
            None,
            format!(
                "expected a mapping of artifact fields, found {}",
                item.describe()
            ),
        );
        return RegistryEntry::Invalid(InvalidArtifact {
            label: position_label,
            line: item.line,
            errors: errors.list,
            owner_repo: None,
            severity: None,
            cadence: None,
            s3_bucket: None,
            s3_key_template: None,
        });
    };

    // The id first: every other message names the artifact by it.
    let id_node = entries.iter().find(|e| e.key == "artifact_id");
    let mut id: Option<ArtifactId> = None;
    let label = match id_node {
        // A misspelled `artifact_id` key is reported by `read_fields` with its did-you-mean.
        None if near_misses(entries, ARTIFACT_FIELDS).contains(&"artifact_id") => {
            position_label.clone()
        }
        None => {
            errors.at(
                item.line,
                Some(&position_label),
                Some("artifact_id"),
                "missing".to_string(),
            );
            position_label.clone()
        }
        Some(entry) => match entry.value.as_scalar() {
            Some(text)
                if matches!(
                    entry.value.scalar_kind(),
                    Some(ScalarKind::Str | ScalarKind::Int(_))
                ) =>
            {
                match ArtifactId::parse(text) {
                    Ok(parsed) => {
                        if let Some(first) = first_line_of.get(parsed.as_str()) {
                            errors.at(
                                entry.value.line,
                                Some(text),
                                Some("artifact_id"),
                                format!("duplicate artifact_id (first defined at line {first})"),
                            );
                        } else {
                            first_line_of.insert(parsed.as_str().to_string(), entry.value.line);
                            id = Some(parsed);
                        }
                        text.to_string()
                    }
                    Err(message) => {
                        // Not an id at all: named by its start, not by a pasted megabyte.
                        let shown = shorten(text);
                        errors.at(entry.value.line, Some(&shown), Some("artifact_id"), message);
                        shown
                    }
                }
            }
            _ => {
                errors.at(
                    entry.value.line,
                    Some(&position_label),
                    Some("artifact_id"),
                    format!("expected text, found {}", entry.value.describe()),
                );
                position_label.clone()
            }
        },
    };

    let own = {
        let mut cx = FieldContext {
            errors: &mut errors,
            artifact: Some(&label),
            field_prefix: "",
            user_cadences,
            broken_cadences,
        };
        read_fields(entries, &mut cx, false)
    };
    let f = own.or(defaults);

    // A field the artifact set wrongly was already reported where it stands; one whose only
    // value is a bad default is reported here (the pass needs a reason for this artifact),
    // pointing at the default; only a field set nowhere is missing.
    let unset = |errors: &mut Errors<'_>, field: &str, missing: &str| {
        if f.line_of(field).is_some() {
            return;
        }
        let message = match defaults.line_of(field) {
            Some(line) => format!(
                "its default (defaults.{field}, line {line}) is invalid; fix the default or set \
                 the field on the artifact"
            ),
            None => missing.to_string(),
        };
        errors.at(item.line, Some(&label), Some(field), message);
    };
    for (field, parsed) in [
        ("s3_bucket", f.s3_bucket.is_some()),
        ("s3_key_template", f.s3_key_template.is_some()),
        ("cadence", f.cadence.is_some()),
        ("sla_minutes_after_cron", f.sla_minutes_after_cron.is_some()),
        ("severity", f.severity.is_some()),
        ("owner_repo", f.owner_repo.is_some()),
        ("created_at", f.created_at.is_some()),
    ] {
        if !parsed {
            unset(
                &mut errors,
                field,
                "missing (set it on the artifact or under `defaults:`)",
            );
        }
    }

    // `interval_minutes` goes with `continuous` and nothing else.
    let cadence = match (f.cadence.clone(), f.interval_minutes) {
        (Some(Cadence::Continuous { .. }), Some((interval, _))) => Some(Cadence::Continuous {
            interval_minutes: interval,
        }),
        (Some(Cadence::Continuous { .. }), None) => {
            unset(
                &mut errors,
                "interval_minutes",
                "missing: the `continuous` cadence needs interval_minutes > 0",
            );
            None
        }
        (Some(other), Some((_, line))) => {
            errors.at(
                line,
                Some(&label),
                Some("interval_minutes"),
                format!(
                    "only the `continuous` cadence takes interval_minutes; cadence `{}` has its \
                     own schedule",
                    other.name()
                ),
            );
            None
        }
        (cadence, None) => cadence,
        (None, Some(_)) => None,
    };

    if errors.list.is_empty()
        && let (
            Some(id),
            Some(s3_bucket),
            Some(s3_key_template),
            Some(cadence),
            Some(sla),
            Some(severity),
            Some(owner_repo),
            Some(created_at),
        ) = (
            id,
            f.s3_bucket.clone(),
            f.s3_key_template.clone(),
            cadence,
            f.sla_minutes_after_cron,
            f.severity,
            f.owner_repo.clone(),
            f.created_at,
        )
    {
        return RegistryEntry::Valid(ArtifactSpec {
            id,
            line: item.line,
            s3_bucket,
            s3_key_template,
            cadence,
            sla_minutes_after_cron: sla,
            severity,
            owner_repo,
            created_at,
            grace_period_cycles: f.grace_period_cycles.unwrap_or(2),
            recovery_key_template: f.recovery_key_template.clone().flatten(),
            calendar_aware: f.calendar_aware.unwrap_or(true),
        });
    }
    if errors.list.is_empty() {
        // Defensive: a required value was lost to an error in `defaults`, which the
        // registry-level errors already report.
        errors.at(
            item.line,
            Some(&label),
            None,
            "incomplete because of an error under `defaults:`".to_string(),
        );
    }
    // Reported in file order, whichever check found them.
    errors.list.sort_by_key(|e| e.line);
    RegistryEntry::Invalid(InvalidArtifact {
        label,
        line: item.line,
        errors: errors.list,
        owner_repo: f.owner_repo,
        severity: f.severity,
        cadence: f.cadence_name,
        s3_bucket: f.s3_bucket,
        s3_key_template: f.raw_key_template,
    })
}

fn resolve_cadence(
    name: &str,
    user: &[Arc<UserCadence>],
    broken: &[BrokenCadence],
) -> Result<Cadence, String> {
    match name {
        "saturday_sf" => return Ok(Cadence::SaturdaySf),
        "weekday_sf" => return Ok(Cadence::WeekdaySf),
        "eod_sf" => return Ok(Cadence::EodSf),
        // The interval is attached once the whole entry is read.
        "continuous" => {
            return Ok(Cadence::Continuous {
                interval_minutes: 0,
            });
        }
        _ => {}
    }
    if let Some(cadence) = user.iter().find(|c| c.name == name) {
        return Ok(Cadence::User(Arc::clone(cadence)));
    }
    if let Some((_, line)) = broken.iter().find(|(n, _)| n == name) {
        return Err(format!(
            "cadence `{name}` is defined under `cadences:` at line {line} but that definition \
             is invalid (see its error)"
        ));
    }
    let mut known: Vec<&str> = BUILTIN_CADENCES.to_vec();
    known.extend(user.iter().map(|c| c.name.as_str()));
    let hint = match did_you_mean(name, &known) {
        Some(s) => format!("did you mean `{s}`? "),
        None => String::new(),
    };
    Err(format!(
        "unknown cadence {}; {hint}known cadences: {}",
        quote_short(name),
        known.join(", ")
    ))
}

fn string_value(node: &Node) -> Result<&str, String> {
    match (node.scalar_kind(), node.as_scalar()) {
        (Some(ScalarKind::Str), Some(text)) => Ok(text),
        _ => Err(format!("expected text, found {}", node.describe())),
    }
}

fn non_empty_string(node: &Node) -> Result<&str, String> {
    let text = string_value(node)?;
    if text.trim().is_empty() {
        return Err("must not be empty".to_string());
    }
    Ok(text)
}

fn whole_number(node: &Node, min: i64) -> Result<u32, String> {
    match node.scalar_kind() {
        Some(ScalarKind::Int(n)) if n < min => Err(format!("must be >= {min}, found {n}")),
        Some(ScalarKind::Int(n)) => {
            u32::try_from(n).map_err(|_| format!("{n} is too large (at most {})", u32::MAX))
        }
        _ => Err(format!(
            "expected a whole number >= {min}, found {}",
            node.describe()
        )),
    }
}

/// `true`/`false`, and the YAML 1.1 words PyYAML also reads as booleans (`yes`, `no`, `on`,
/// `off`), so registries written for the original Python monitor load unchanged.
fn boolean(node: &Node) -> Result<bool, String> {
    match (node.scalar_kind(), node.as_scalar()) {
        (Some(ScalarKind::Bool(b)), _) => Ok(b),
        (Some(ScalarKind::Str), Some(text)) if is_plain(node) => match text {
            "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Ok(true),
            "no" | "No" | "NO" | "off" | "Off" | "OFF" => Ok(false),
            _ => Err(format!("expected true or false, found {}", node.describe())),
        },
        _ => Err(format!("expected true or false, found {}", node.describe())),
    }
}

fn is_plain(node: &Node) -> bool {
    matches!(node.value, yaml::Value::Scalar { plain: true, .. })
}

fn parse_date(node: &Node) -> Result<NaiveDate, String> {
    let text = match (node.scalar_kind(), node.as_scalar()) {
        (Some(ScalarKind::Str), Some(text)) => text,
        _ => {
            return Err(format!(
                "expected a date YYYY-MM-DD, found {}",
                node.describe()
            ));
        }
    };
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("expected a date YYYY-MM-DD, found {}", quote_short(text)))
}
