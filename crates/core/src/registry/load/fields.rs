//! The artifact fields, as one table.
//!
//! Each row of `artifact_fields!` names a field, its type, the function that parses it and
//! whether an artifact must have it. From the table come the keys an entry or `defaults:` may
//! set, the typed [`Fields`] of one mapping, the reading of a mapping's fields, the merge with
//! `defaults:` and the list of required fields, so a new field is one row (and, for a new
//! type, one parser) here, plus its place in [`crate::registry::ArtifactSpec`].
//!
//! A field of the `@to_the_row` group is carried to the artifact's result row as it is: the
//! table also makes [`CarriedFields`] (the spec's and its rows' shared, rarely allocated
//! box), its reading from the merged entry and its keys in `check_results.json`, so such a
//! field is its one row here and its use (CONTRIBUTING.md, "Adding an artifact field").

use std::sync::Arc;

use chrono::NaiveDate;

use super::calendars::RegistryCalendars;
use super::errors::{Errors, Located, Problem, is_extension_key};
use super::limits::{MAX_INTERVAL, bucket_name_problem, key_length_problem};
use super::partitions::{partitions, partitions_from};
use super::producers::{active_windows, off_cycle};
use super::refs::Refs;
use super::sections::Cadences;
use super::shared::SharedValues;
use super::values::{Bound, boolean, non_empty_string, parse_date, string_value, whole_number};
use crate::cadence::window::ActiveWindow;
use crate::cadence::{BUILTIN_CADENCES, Cadence};
use crate::registry::OffCycle;
use crate::registry::partitions::{PartitionList, Partitions};
use crate::registry::{ArtifactId, Severity};
use crate::template::KeyTemplate;
use crate::text::{did_you_mean, quote_short};
use crate::yaml::{MapEntry, Node, ScalarKind};

/// Whether an artifact must end up with a value for a field (its own or a default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Required,
    Optional,
}

macro_rules! artifact_fields {
    (
        $(
            $(#[$doc:meta])*
            $name:ident: $ty:ty = $parse:ident, $need:ident;
        )*
        @on_the_spec {
            $(
                $(#[$spec_doc:meta])*
                $spec_name:ident: $spec_ty:ty = $spec_parse:ident;
            )*
        }
        @to_the_row {
            $(
                $(#[$row_doc:meta])*
                $row_name:ident: $row_ty:ty = $row_parse:ident;
            )*
        }
    ) => {
        /// The keys an artifact entry may set: its id (read first, by `artifact.rs`) and
        /// every field.
        pub(super) const ARTIFACT_KEYS: &[&str] = &[
            "artifact_id",
            $(stringify!($name),)*
            $(stringify!($spec_name),)*
            $(stringify!($row_name)),*
        ];

        /// The keys `defaults:` may set: every field but the id.
        pub(super) const DEFAULT_KEYS: &[&str] =
            &[$(stringify!($name),)* $(stringify!($spec_name),)* $(stringify!($row_name)),*];

        /// The fields one mapping set (an artifact entry or `defaults:`) or, after
        /// [`Fields::or`], an artifact's fields merged with the defaults.
        #[derive(Debug, Clone, Default)]
        pub(super) struct Fields {
            $( $(#[$doc])* pub $name: Field<$ty>, )*
            $( $(#[$spec_doc])* pub $spec_name: Field<$spec_ty>, )*
            $( $(#[$row_doc])* pub $row_name: Field<$row_ty>, )*
        }

        /// The optional fields a spec keeps as the table read them (the table's
        /// `@on_the_spec` group, `registry/load/fields.rs`), inside the spec's
        /// [`OptionalFields`](crate::registry::OptionalFields) box (not allocated when none
        /// of its fields is set); read through the spec's accessors of the same names.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct SpecFields {
            $( $(#[$spec_doc])* pub $spec_name: Option<$spec_ty>, )*
        }

        impl crate::registry::ArtifactSpec {
            $(
                $(#[$spec_doc])*
                pub fn $spec_name(&self) -> Option<&$spec_ty> {
                    self.optional.as_deref()?.spec.$spec_name.as_ref()
                }
            )*
        }

        /// What an artifact's entry carries to its result row as it is: its `x_` keys and
        /// the optional fields of the table's `@to_the_row` group (`registry/load/fields.rs`),
        /// written after `off_cycle_key`, in the table's order, each only when set. A spec
        /// and its rows share one, allocated only for an entry that sets one of them
        /// ([`ArtifactSpec::carried`](crate::registry::ArtifactSpec::carried)), so a field
        /// added here costs the specs and rows that leave it unset nothing.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct CarriedFields {
            /// The entry's own `x_` keys, as a JSON object; never validated.
            pub extensions: Option<serde_json::Value>,
            $( $(#[$row_doc])* pub $row_name: Option<$row_ty>, )*
        }

        impl CarriedFields {
            /// How many keys [`CarriedFields::serialize_into`] may write.
            pub const KEYS: usize = ["extensions", $(stringify!($row_name)),*].len();

            /// Nothing set: what an entry without any of them carries (as `None`).
            pub fn is_empty(&self) -> bool {
                self.extensions.is_none() $(&& self.$row_name.is_none())*
            }

            /// Writes the fields that are set into a row's JSON object, in the table's order.
            pub fn serialize_into<S: serde::ser::SerializeStruct>(
                carried: Option<&CarriedFields>,
                row: &mut S,
            ) -> Result<(), S::Error> {
                match carried.and_then(|c| c.extensions.as_ref()) {
                    Some(value) => row.serialize_field("extensions", value)?,
                    None => row.skip_field("extensions")?,
                }
                $(
                    match carried.and_then(|c| c.$row_name.as_ref()) {
                        Some(value) => row.serialize_field(stringify!($row_name), value)?,
                        None => row.skip_field(stringify!($row_name))?,
                    }
                )*
                Ok(())
            }
        }

        impl Fields {
            /// Reads `key`'s value into its field, returning the errors to report.
            fn read(
                &mut self,
                key: &str,
                node: &Node,
                refs: &Refs<'_>,
            ) -> Result<(), Vec<Problem>> {
                match key {
                    $( stringify!($name) => {
                        self.$name.read(node, $parse(node, refs).map_err(|e| e.located(node)))
                    } )*
                    $( stringify!($spec_name) => {
                        self.$spec_name
                            .read(node, $spec_parse(node, refs).map_err(|e| e.located(node)))
                    } )*
                    $( stringify!($row_name) => {
                        self.$row_name
                            .read(node, $row_parse(node, refs).map_err(|e| e.located(node)))
                    } )*
                    _ => unreachable!("unknown keys are filtered by Errors::keys"),
                }
            }

            fn mark_misspelled(&mut self, field: &str, line: usize) {
                match field {
                    $( stringify!($name) => self.$name.mark_misspelled(line), )*
                    $( stringify!($spec_name) => self.$spec_name.mark_misspelled(line), )*
                    $( stringify!($row_name) => self.$row_name.mark_misspelled(line), )*
                    _ => {}
                }
            }

            /// An artifact's own keys win over the defaults, even when their value is wrong:
            /// a bad `cadence:` must not quietly become the default cadence.
            pub(super) fn or(self, defaults: &Fields) -> Fields {
                Fields {
                    $( $name: self.$name.or_inherit(&defaults.$name), )*
                    $( $spec_name: self.$spec_name.or_inherit(&defaults.$spec_name), )*
                    $( $row_name: self.$row_name.or_inherit(&defaults.$row_name), )*
                }
            }

            /// The `@on_the_spec` fields as the entry (or `defaults:`) set them.
            pub(super) fn spec_fields(&self) -> SpecFields {
                SpecFields {
                    $( $spec_name: self.$spec_name.value().cloned(), )*
                }
            }

            /// What the entry carries to its rows (with its `x_` keys), `None` when nothing.
            pub(super) fn carried(
                &self,
                extensions: Option<serde_json::Value>,
            ) -> Option<Arc<CarriedFields>> {
                let carried = CarriedFields {
                    extensions,
                    $( $row_name: self.$row_name.value().cloned(), )*
                };
                (!carried.is_empty()).then(|| Arc::new(carried))
            }

            /// The state of every required field, in the table's order.
            pub(super) fn required(&self) -> Vec<(&'static str, State)> {
                let mut states = Vec::new();
                $(
                    if Need::$need == Need::Required {
                        states.push((stringify!($name), self.$name.state()));
                    }
                )*
                states
            }
        }
    };
}

artifact_fields! {
    s3_bucket: Arc<str> = s3_bucket, Required;
    s3_key_template: KeyTemplate = key_template, Required;
    /// `continuous` is read with interval 0; `artifact.rs` attaches `interval_minutes`.
    cadence: Cadence = cadence, Required;
    sla_minutes_after_cron: u32 = sla_minutes, Required;
    severity: Severity = severity, Required;
    owner_repo: Arc<str> = owner_repo, Required;
    created_at: NaiveDate = created_at, Required;
    /// Two cycles when set nowhere.
    grace_period_cycles: u32 = grace_period_cycles, Optional;
    /// `Some(None)` for an explicit null: no recovery key even when `defaults:` has one.
    recovery_key_template: Option<KeyTemplate> = recovery_key_template, Optional;
    /// True when set nowhere.
    calendar_aware: bool = calendar_aware, Optional;
    /// Only with the `continuous` cadence, where it is required.
    interval_minutes: u32 = interval_minutes, Optional;
    /// Only with the `continuous` cadence; `None` for an explicit null (always active).
    active_windows: Option<Arc<[ActiveWindow]>> = active_windows, Optional;
    /// `None` for `false` or an explicit null.
    off_cycle: Option<OffCycle> = off_cycle, Optional;
    /// Checked against the other artifacts (exist, no cycle) once all are read.
    depends_on: Vec<ArtifactId> = depends_on, Optional;

    // Optional fields a spec keeps as they are read ([`SpecFields`], with an accessor of the
    // field's name): one line here (and, for a new type, one parser below) is the whole of
    // such a field.
    @on_the_spec {
        /// Minutes after its last probe before a settled cycle is probed again
        /// (`reverify_minutes`); `None`: the env's `REVERIFY_MINUTES` applies.
        reverify_minutes: u32 = reverify_minutes;
        /// An object smaller than this many bytes is `suspect` (a 0-byte or truncated file).
        min_size_bytes: u64 = min_size_bytes;
        /// An object smaller than this fraction of the median size of its last cycles
        /// (`classify::content`) is `suspect`.
        size_drop_below: f64 = size_drop_below;
        /// An object whose ETag is the previous cycle's is `suspect`: a copy, not new content.
        require_new_content: bool = require_new_content;
        /// The values of `{partition}`: the artifact is an expected set of keys, one row.
        partitions: Partitions = partitions;
        /// Where a set's values are read from at each pass (`s3://bucket/key`).
        partitions_from: PartitionList = partitions_from;
        /// The fraction of a set's keys that must be written since the tick for it to be
        /// fresh (1 when unset: every key).
        min_complete: f64 = min_complete;
    }

    // Optional fields an artifact carries to its result row as they are ([`CarriedFields`]):
    // one line here (and, for a new type, one parser below) is the whole of such a field.
    @to_the_row {
        /// What to do when it alerts: on its row, and linked from its page entry.
        runbook_url: Box<str> = runbook_url;
    }
}

/// An `http://` or `https://` link (the page links it: no other scheme), without spaces.
fn runbook_url(node: &Node, _: &Refs<'_>) -> Result<Box<str>, String> {
    let url = non_empty_string(node)?;
    let linkable = url.starts_with("https://") || url.starts_with("http://");
    if !linkable || url.len() > 2048 || url.contains(char::is_whitespace) {
        return Err(format!(
            "expected an http:// or https:// link without spaces, at most 2,048 bytes; found {}",
            quote_short(url)
        ));
    }
    Ok(url.into())
}

fn s3_bucket(node: &Node, refs: &Refs<'_>) -> Result<Arc<str>, String> {
    let name = non_empty_string(node)?;
    match bucket_name_problem(name) {
        Some(problem) => Err(problem),
        None => Ok(refs.shared.text(name)),
    }
}

/// A template, and for one without `{cycle_label}` (whose length depends on the cadence,
/// checked with the merged entry) the length of its keys.
fn key_template(node: &Node, refs: &Refs<'_>) -> Result<KeyTemplate, String> {
    let template = (refs.shared)
        .template(string_value(node)?)
        .map_err(|e| e.to_string())?;
    if !template.uses_cycle_label()
        && let Some(problem) = key_length_problem(&template, None)
    {
        return Err(problem);
    }
    Ok(template)
}

fn recovery_key_template(node: &Node, refs: &Refs<'_>) -> Result<Option<KeyTemplate>, String> {
    if node.is_null() {
        return Ok(None);
    }
    key_template(node, refs).map(Some)
}

fn cadence(node: &Node, refs: &Refs<'_>) -> Result<Cadence, String> {
    resolve_cadence(string_value(node)?, refs.cadences)
}

fn sla_minutes(node: &Node, _: &Refs<'_>) -> Result<u32, String> {
    whole_number(node, 0, Bound::TYPE)
}

fn severity(node: &Node, _: &Refs<'_>) -> Result<Severity, String> {
    match string_value(node)? {
        "warning" => Ok(Severity::Warning),
        "critical" => Ok(Severity::Critical),
        other => {
            let hint = did_you_mean(other, &["warning", "critical"])
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            Err(format!(
                "expected `warning` or `critical`, found {}{hint}",
                quote_short(other)
            ))
        }
    }
}

fn owner_repo(node: &Node, refs: &Refs<'_>) -> Result<Arc<str>, String> {
    Ok(refs.shared.text(non_empty_string(node)?))
}

fn created_at(node: &Node, _: &Refs<'_>) -> Result<NaiveDate, String> {
    parse_date(node)
}

fn grace_period_cycles(node: &Node, _: &Refs<'_>) -> Result<u32, String> {
    whole_number(node, 0, Bound::TYPE)
}

fn calendar_aware(node: &Node, _: &Refs<'_>) -> Result<bool, String> {
    boolean(node)
}

fn interval_minutes(node: &Node, _: &Refs<'_>) -> Result<u32, String> {
    whole_number(node, 1, MAX_INTERVAL)
}

/// Minutes after its last probe before a settled artifact is probed again.
fn reverify_minutes(node: &Node, _: &Refs<'_>) -> Result<u32, String> {
    whole_number(node, 1, MAX_INTERVAL)
}

/// At least one byte (`0` would check nothing); sizes past 4 GiB are fine.
fn min_size_bytes(node: &Node, _: &Refs<'_>) -> Result<u64, String> {
    match node.scalar_kind() {
        Some(ScalarKind::Int(n)) if n >= 1 => Ok(n.unsigned_abs()),
        _ => Err(format!(
            "expected a whole number of bytes >= 1, found {}",
            node.describe()
        )),
    }
}

/// A fraction strictly between 0 and 1 (`0.1`: a tenth of the usual size).
fn size_drop_below(node: &Node, _: &Refs<'_>) -> Result<f64, String> {
    let fraction = match node.scalar_kind() {
        Some(ScalarKind::Float) => node.as_scalar().and_then(|t| t.parse::<f64>().ok()),
        _ => None,
    };
    match fraction {
        Some(fraction) if fraction > 0.0 && fraction < 1.0 => Ok(fraction),
        _ => Err(format!(
            "expected a fraction between 0 and 1 such as 0.1 (a tenth of the median size of \
             its last cycles), found {}",
            node.describe()
        )),
    }
}

/// A fraction above 0 and at most 1 (`0.98`: 98% of the set's keys).
fn min_complete(node: &Node, _: &Refs<'_>) -> Result<f64, String> {
    let fraction = match node.scalar_kind() {
        Some(ScalarKind::Float) => node.as_scalar().and_then(|t| t.parse::<f64>().ok()),
        Some(ScalarKind::Int(1)) => Some(1.0),
        _ => None,
    };
    match fraction {
        Some(fraction) if fraction > 0.0 && fraction <= 1.0 => Ok(fraction),
        _ => Err(format!(
            "expected a fraction above 0 and at most 1 such as 0.98 (of the set's keys), found \
             {}",
            node.describe()
        )),
    }
}

fn require_new_content(node: &Node, _: &Refs<'_>) -> Result<bool, String> {
    boolean(node)
}

/// `[id, ...]` (or one id): the artifacts this one is made from.
fn depends_on(node: &Node, _: &Refs<'_>) -> Result<Vec<ArtifactId>, String> {
    if node.is_null() {
        return Ok(Vec::new());
    }
    let items: Vec<&Node> = match node.as_seq() {
        Some(items) => items.iter().collect(),
        None => vec![node],
    };
    let mut ids: Vec<ArtifactId> = Vec::new();
    for item in items {
        let id = ArtifactId::parse(string_value(item).map_err(|_| {
            format!(
                "expected a list of artifact ids such as [pit_parity], found {}",
                item.describe()
            )
        })?)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn resolve_cadence(name: &str, cadences: &Cadences) -> Result<Cadence, String> {
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
    if let Some(cadence) = cadences.user.iter().find(|c| c.name == name) {
        return Ok(Cadence::User(Arc::clone(cadence)));
    }
    if let Some((_, line)) = cadences.broken.iter().find(|(n, _)| n == name) {
        return Err(format!(
            "cadence `{name}` is defined under `cadences:` at line {line} but that definition \
             is invalid (see its error)"
        ));
    }
    let mut known: Vec<&str> = BUILTIN_CADENCES.to_vec();
    known.extend(cadences.user.iter().map(|c| c.name.as_str()));
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

/// One field of one mapping: unset, or set at a line, with its value when that was valid.
#[derive(Debug, Clone)]
pub(super) struct Field<T>(Option<Setting<T>>);

#[derive(Debug, Clone)]
struct Setting<T> {
    line: usize,
    /// `None`: the value was wrong (and reported where it stands), or the key misspelled.
    value: Option<T>,
    /// Taken from `defaults:` by [`Fields::or`].
    inherited: bool,
    /// The text of a value that did not parse, for the report row of an invalid entry.
    rejected_text: Option<String>,
}

/// What became of a field, for the required-field check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Set nowhere: missing.
    Unset,
    /// Set with a value that was wrong, or under a misspelled key: reported where it stands.
    Invalid {
        line: usize,
        inherited: bool,
    },
    Valid,
}

impl<T> Default for Field<T> {
    fn default() -> Self {
        Field(None)
    }
}

impl<T: Clone> Field<T> {
    fn read(&mut self, node: &Node, parsed: Result<T, Vec<Problem>>) -> Result<(), Vec<Problem>> {
        let (value, rejected_text, result) = match parsed {
            Ok(value) => (Some(value), None, Ok(())),
            Err(problems) => (
                None,
                string_value(node).ok().map(str::to_string),
                Err(problems),
            ),
        };
        self.0 = Some(Setting {
            line: node.line,
            value,
            inherited: false,
            rejected_text,
        });
        result
    }

    /// A misspelled key stands for its field: the field is neither missing nor defaulted.
    fn mark_misspelled(&mut self, line: usize) {
        if self.0.is_none() {
            self.0 = Some(Setting {
                line,
                value: None,
                inherited: false,
                rejected_text: None,
            });
        }
    }

    fn or_inherit(self, default: &Field<T>) -> Field<T> {
        match self.0 {
            Some(_) => self,
            None => Field(default.0.as_ref().map(|setting| Setting {
                inherited: true,
                ..setting.clone()
            })),
        }
    }

    /// Keeps the field set but its value invalid, for an error found after reading it.
    pub fn reject(&mut self) {
        if let Some(setting) = &mut self.0 {
            setting.value = None;
        }
    }

    /// Taken from `defaults:`.
    pub fn inherited(&self) -> bool {
        self.0.as_ref().is_some_and(|s| s.inherited)
    }

    pub fn value(&self) -> Option<&T> {
        self.0.as_ref().and_then(|s| s.value.as_ref())
    }

    /// The line where the field was set (for an inherited one, in `defaults:`).
    pub fn line(&self) -> Option<usize> {
        self.0.as_ref().map(|s| s.line)
    }

    /// The text of a value that was set but did not parse.
    pub fn rejected_text(&self) -> Option<&str> {
        self.0.as_ref().and_then(|s| s.rejected_text.as_deref())
    }

    pub fn state(&self) -> State {
        match &self.0 {
            None => State::Unset,
            Some(Setting { value: Some(_), .. }) => State::Valid,
            Some(setting) => State::Invalid {
                line: setting.line,
                inherited: setting.inherited,
            },
        }
    }
}

/// Where one mapping's field errors go and what its fields may refer to.
pub(super) struct FieldContext<'e, 'f> {
    pub errors: &'e mut Errors<'f>,
    pub artifact: Option<&'e str>,
    /// Qualifies field names in messages (`defaults.`).
    pub field_prefix: &'e str,
    pub cadences: &'e Cadences,
    pub calendars: &'e RegistryCalendars,
    pub shared: &'e SharedValues,
}

/// Reads the typed fields of one mapping, reporting each bad one. `known` is
/// [`ARTIFACT_KEYS`] or [`DEFAULT_KEYS`].
pub(super) fn read_fields(
    entries: &[MapEntry],
    cx: &mut FieldContext<'_, '_>,
    known: &[&str],
) -> Fields {
    let keys = cx.errors.keys(entries, known, cx.artifact, cx.field_prefix);
    let mut ordered: Vec<(&str, &Node)> = keys.into_iter().collect();
    ordered.sort_by_key(|(_, node)| node.line);
    let mut fields = Fields::default();
    for (key, node) in ordered {
        if key == "artifact_id" {
            continue;
        }
        let refs = Refs {
            cadences: cx.cadences,
            calendars: cx.calendars,
            shared: cx.shared,
        };
        if let Err(problems) = fields.read(key, node, &refs) {
            for problem in problems {
                let field = format!("{}{key}{}", cx.field_prefix, problem.path);
                cx.errors
                    .at(problem.line, cx.artifact, Some(&field), problem.message);
            }
        }
    }
    for entry in entries {
        if !known.contains(&entry.key.as_str())
            && !is_extension_key(&entry.key)
            && let Some(meant) = did_you_mean(&entry.key, known)
        {
            fields.mark_misspelled(meant, entry.key_line);
        }
    }
    fields
}
