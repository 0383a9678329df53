//! The artifact registry (`ARTIFACT_REGISTRY.yaml`): what must exist, where, and by when.
//!
//! Loading parses rather than validates: a [`Registry`] holds [`ArtifactSpec`]s whose fields
//! are already typed (an [`ArtifactId`] that cannot be invalid, a parsed key template, a
//! resolved cadence). An artifact whose entry is wrong becomes an [`InvalidArtifact`] that the
//! pass reports as `probe_failed` with the validation message, so one typo never hides the
//! rest; a registry whose shared parts are wrong fails as a whole ([`RegistryError`]).

mod load;
pub mod partitions;
pub mod policy;
#[cfg(test)]
mod producer_tests;
#[cfg(test)]
mod sets_tests;
#[cfg(test)]
pub(crate) mod test_specs;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::cadence::window::ActiveWindow;
use crate::cadence::{Cadence, Cycle, UserCadence};
use crate::calendar::{Calendars, TradingCalendar};
use crate::template::KeyTemplate;

pub use load::{
    CarriedFields, MAX_REGISTRY_BYTES, SpecFields, parse_registry, partitions_from_lines,
};

/// How old the newest object of the template's shape may be. An object written since the
/// current cycle's tick is always fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffCycle {
    /// Written after the previous cycle's tick (`off_cycle: true`).
    SincePreviousTick,
    /// Written within this many minutes before `now` (`off_cycle: {max_age_minutes: N}`).
    MaxAge { minutes: u32 },
}

/// An artifact id: `[A-Za-z0-9_.-]+`. Shared, not copied: the spec, its rows and the ledger
/// hold the same bytes (a million artifacts, issue 17).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArtifactId(Arc<str>);

impl ArtifactId {
    pub fn parse(text: &str) -> Result<ArtifactId, String> {
        if text.is_empty() {
            return Err("artifact_id is empty".to_string());
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            return Err(format!(
                "artifact_id {} contains {bad:?}; only letters, digits, `_`, `.` and `-` are \
                 allowed",
                crate::text::quote_short(text)
            ));
        }
        Ok(ArtifactId(Arc::from(text)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id's bytes, shared rather than copied.
    pub fn shared(&self) -> Arc<str> {
        Arc::clone(&self.0)
    }
}

/// Maps keyed by id are looked up by `&str` (the same bytes, so the same hash).
impl std::borrow::Borrow<str> for ArtifactId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ArtifactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One artifact that must exist, fully typed. A registry holds a million of them for a whole
/// pass (issue 17), so a spec is kept small: the bucket and owner are shared with every spec
/// naming the same one, and the fields most artifacts leave unset live behind one pointer
/// ([`OptionalFields`]) that is not allocated when none is set.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactSpec {
    pub id: ArtifactId,
    /// One allocation per distinct bucket in the registry, shared by its artifacts.
    pub s3_bucket: Arc<str>,
    pub s3_key_template: KeyTemplate,
    pub cadence: Cadence,
    /// One allocation per distinct owner in the registry, shared by its artifacts.
    pub owner_repo: Arc<str>,
    /// The line of the entry in the registry file (at most [`MAX_REGISTRY_BYTES`] long, so
    /// well within `u32`).
    pub line: u32,
    pub sla_minutes_after_cron: u32,
    pub grace_period_cycles: u32,
    pub created_at: NaiveDate,
    pub severity: Severity,
    pub calendar_aware: bool,
    /// `None` when every optional field is unset ([`OptionalFields::boxed`]); read through
    /// the accessors.
    pub optional: Option<Box<OptionalFields>>,
    /// The artifacts this one is made from (`depends_on`), read through
    /// [`ArtifactSpec::depends_on`]: when one of them alerts too, this one's alert is folded
    /// under it in the digest (docs/alerts.md#dependencies). Beside the optional fields, not
    /// among them: a chain of millions links every artifact, and one pointer here costs a
    /// linked artifact 16 bytes where the optional fields' box costs ~190 (issue 27); `None`
    /// when the list is empty.
    #[allow(clippy::box_collection, clippy::redundant_allocation)]
    pub links: Option<Box<Box<[ArtifactId]>>>,
}

/// The fields of an [`ArtifactSpec`] that most artifacts leave unset, boxed together. Those
/// kept as the loader read them are declared in its table ([`SpecFields`], [`CarriedFields`]);
/// the ones here by hand are those the loader reshapes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionalFields {
    pub recovery_key_template: Option<KeyTemplate>,
    /// When a continuous artifact is expected to be written at all; `None`: always.
    pub active_windows: Option<Arc<[ActiveWindow]>>,
    /// Judged by the newest object matching the template for any cycle; `None`: by the
    /// current cycle's key.
    pub off_cycle: Option<OffCycle>,
    /// What the entry carries to its result rows as it is (its `x_` keys, the table's
    /// `@to_the_row` fields), shared with them; `None` when it sets none of them.
    pub carried: Option<Arc<CarriedFields>>,
    /// The fields kept as the loader's table read them (its `@on_the_spec` group), read
    /// through the spec's accessors of their names (`reverify_minutes()`).
    pub spec: SpecFields,
}

impl OptionalFields {
    /// What [`ArtifactSpec::optional`] holds: nothing when every field is unset.
    pub fn boxed(self) -> Option<Box<OptionalFields>> {
        (self != OptionalFields::default()).then(|| Box::new(self))
    }
}

impl ArtifactSpec {
    /// The optional fields, to change (tests build specs this way).
    pub fn optional_mut(&mut self) -> &mut OptionalFields {
        self.optional.get_or_insert_with(Box::default)
    }

    fn optional_fields(&self) -> Option<&OptionalFields> {
        self.optional.as_deref()
    }

    pub fn recovery_key_template(&self) -> Option<&KeyTemplate> {
        self.optional_fields()?.recovery_key_template.as_ref()
    }

    /// See [`ArtifactSpec::links`].
    pub fn depends_on(&self) -> &[ArtifactId] {
        self.links.as_deref().map_or(&[], |l| &l[..])
    }

    /// Sets `depends_on` (see [`ArtifactSpec::links`]).
    pub fn set_depends_on(&mut self, ids: impl Into<Box<[ArtifactId]>>) {
        let ids: Box<[ArtifactId]> = ids.into();
        self.links = (!ids.is_empty()).then(|| Box::new(ids));
    }

    /// See [`OptionalFields::active_windows`].
    pub fn active_windows(&self) -> Option<&Arc<[ActiveWindow]>> {
        self.optional_fields()?.active_windows.as_ref()
    }

    /// See [`OptionalFields::off_cycle`].
    pub fn off_cycle(&self) -> Option<OffCycle> {
        self.optional_fields()?.off_cycle
    }

    /// See [`OptionalFields::carried`].
    pub fn carried(&self) -> Option<&Arc<CarriedFields>> {
        self.optional_fields()?.carried.as_ref()
    }

    /// The entry's own `x_` keys, as a JSON object ([`CarriedFields::extensions`]).
    pub fn extensions(&self) -> Option<&serde_json::Value> {
        self.carried()?.extensions.as_ref()
    }

    /// The entry's line, as messages give lines.
    pub fn line(&self) -> usize {
        self.line as usize
    }
}

impl ArtifactSpec {
    /// The cycle this artifact is judged in at `now` ([`Cadence::artifact_cycle_at`]).
    pub fn cycle_at(&self, now: DateTime<Utc>, calendar: &TradingCalendar) -> Option<Cycle> {
        let windows = self.active_windows().map(|w| &w[..]);
        (self.cadence).artifact_cycle_at(now, calendar, self.off_cycle().is_some(), windows)
    }
}

/// An entry that could not be read, kept so the pass can report it as `probe_failed`.
/// Whatever could be read of it is kept for the report row.
///
/// Held in the entry list itself (not boxed) and its texts shared where they can be: every
/// member of a dependency ring of millions is one (issue 27), so it costs little more than
/// the valid entry it replaces: its id, bucket, owner and key template are the spec's own,
/// and its errors are shared with its report row.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidArtifact {
    /// The entry's `artifact_id` as written, or `artifacts[N]` when it has none.
    pub label: Arc<str>,
    pub line: usize,
    /// Shared with the entry's report row, whose reason they write ([`InvalidArtifact::reason`]).
    /// Read them through [`InvalidArtifact::errors`], which locates them: when
    /// [`InvalidArtifact::errors_located_here`] is set they are a dependency cycle's, one list
    /// shared by all its members, naming no line or artifact of their own.
    pub errors: Arc<[ValidationError]>,
    /// `errors` are shared with other entries and located at this one (its line and label)
    /// as they are handed out: the members of a ring of millions hold one error between them,
    /// not one each (issue 27).
    pub errors_located_here: bool,
    pub owner_repo: Option<Arc<str>>,
    pub severity: Option<Severity>,
    pub cadence: Option<Arc<str>>,
    pub s3_bucket: Option<Arc<str>>,
    pub s3_key_template: Option<Box<str>>,
    /// What the entry carries to its row, as for a valid one: its `x_` keys, and those of
    /// the table's `@to_the_row` fields that were read without an error.
    pub carried: Option<Arc<CarriedFields>>,
}

impl InvalidArtifact {
    /// The entry's errors, each as it is reported: a cycle's shared errors located at this
    /// entry ([`InvalidArtifact::errors_located_here`]), the others as held.
    pub fn errors(&self) -> impl Iterator<Item = ValidationError> + '_ {
        located_errors(&self.errors, self.located_at())
    }

    /// Where errors shared with other entries are located for this one, if they are.
    pub fn located_at(&self) -> Option<(usize, &Arc<str>)> {
        self.errors_located_here.then_some((self.line, &self.label))
    }

    /// All of the entry's errors in one line, for a result row's `reason`.
    pub fn reason(&self) -> String {
        invalid_entry_reason(self.errors())
    }
}

/// `errors` as reported: each given `at`'s line and artifact when errors are shared by
/// several entries and located at each one on the fly, else as held (a clone shares every
/// text).
pub fn located_errors<'a>(
    errors: &'a [ValidationError],
    at: Option<(usize, &'a Arc<str>)>,
) -> impl Iterator<Item = ValidationError> + 'a {
    errors.iter().map(move |error| match at {
        Some((line, artifact)) => ValidationError {
            line,
            artifact: Some(Arc::clone(artifact)),
            ..error.clone()
        },
        None => error.clone(),
    })
}

/// An invalid entry's errors in one line: a result row's `reason`, written when asked (a
/// row keeps the entry's errors, not this text).
pub fn invalid_entry_reason(errors: impl Iterator<Item = ValidationError>) -> String {
    let messages: Vec<String> = errors.map(|e| e.to_string()).collect();
    format!("invalid registry entry: {}", messages.join("; "))
}

#[derive(Debug, Clone, PartialEq)]
pub enum RegistryEntry {
    Valid(ArtifactSpec),
    /// Not boxed: no larger than a valid entry, and a ring's members are all invalid.
    Invalid(InvalidArtifact),
}

impl RegistryEntry {
    pub fn label(&self) -> &str {
        match self {
            RegistryEntry::Valid(spec) => spec.id.as_str(),
            RegistryEntry::Invalid(bad) => &bad.label,
        }
    }
}

/// A producer path exempt from registration (used by `coverage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrandfatheredPath {
    pub path: String,
    pub reason: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Registry {
    /// The file as messages name it (a path or `s3://` URL).
    pub file: String,
    pub entries: Vec<RegistryEntry>,
    /// NYSE with `calendar.extra_closures`: the `weekday_sf`/`eod_sf` gate and the
    /// `{trading_day}` of cadences without a calendar of their own.
    pub calendar: TradingCalendar,
    /// Every calendar a cadence can name: the built-in ones and the `calendars:` section's.
    pub calendars: Calendars,
    pub user_cadences: Vec<Arc<UserCadence>>,
    pub grandfathered_paths: Vec<GrandfatheredPath>,
    /// `alert_policy:` and `silences:` (docs/alerts.md#policy).
    pub alert_policy: policy::AlertPolicy,
    /// What the file allows but is likely a mistake (an extra closure on a weekend or listed
    /// twice): `validate` prints these; a pass ignores them.
    pub warnings: Vec<ValidationError>,
}

/// How far ahead of today a `created_at` may be before `validate` warns: a day absorbs time
/// zones and a registry merged the evening before an artifact's first run.
pub const CREATED_AT_MARGIN_DAYS: u64 = 1;

impl Registry {
    /// Every warning on `today`, in file order: [`Registry::warnings`], and each artifact whose
    /// `created_at` is more than [`CREATED_AT_MARGIN_DAYS`] ahead (it would sit in its grace
    /// period until long after that date). Loading has no clock; the caller brings the date.
    pub fn warnings_on(&self, today: NaiveDate) -> Vec<ValidationError> {
        let mut warnings = self.warnings.clone();
        let margin = today + chrono::Days::new(CREATED_AT_MARGIN_DAYS);
        for spec in self.valid_artifacts().filter(|s| s.created_at > margin) {
            let created = spec.created_at.and_time(chrono::NaiveTime::MIN).and_utc();
            let grace_end = spec
                .cadence
                .cycle_at(created, &self.calendar)
                .and_then(|cycle| {
                    let cycles = i32::try_from(spec.grace_period_cycles).ok()?;
                    created.checked_add_signed(cycle.length.checked_mul(cycles)?)
                })
                .map_or_else(
                    || format!("{} cycles after it", spec.grace_period_cycles),
                    crate::text::rfc3339,
                );
            warnings.push(ValidationError {
                file: self.file.as_str().into(),
                line: spec.line(),
                artifact: Some(spec.id.shared()),
                field: Some(Arc::from("created_at")),
                message: Arc::from(format!(
                    "{} is {} days after today ({today}): the artifact will sit in its grace \
                     period until {grace_end}",
                    spec.created_at,
                    (spec.created_at - today).num_days()
                )),
            });
        }
        warnings.sort_by_key(|w| w.line);
        warnings
    }

    /// `validate`'s checks of `silences:`: a warning for each silence whose `until` has passed
    /// at `now`, an error for each that matches no artifact (a typo that would silence
    /// nothing while the operator believes it does).
    pub fn silence_problems(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> (Vec<ValidationError>, Vec<ValidationError>) {
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        for silence in &self.alert_policy.silences {
            let problem = |message: String| ValidationError {
                file: self.file.as_str().into(),
                line: silence.line,
                artifact: None,
                field: Some(Arc::from(format!("silences[{}]", silence.index))),
                message: message.into(),
            };
            if !self.valid_artifacts().any(|spec| silence.matches(spec)) {
                errors.push(problem(
                    "matches no artifact of this registry (check artifact_id, owner_repo and cadence)"
                        .to_string(),
                ));
            }
            if let Some(until) = silence.until.filter(|_| silence.is_expired(now)) {
                warnings.push(problem(format!(
                    "expired at {}: remove it ({})",
                    crate::text::rfc3339(until),
                    silence.reason
                )));
            }
        }
        (errors, warnings)
    }

    /// Every artifact-level error, in file order, located as reported (by value: the members
    /// of a dependency cycle share one error, located at each as it is handed out).
    pub fn artifact_errors(&self) -> impl Iterator<Item = ValidationError> + '_ {
        self.entries
            .iter()
            .filter_map(|e| match e {
                RegistryEntry::Invalid(bad) => Some(bad.errors()),
                RegistryEntry::Valid(_) => None,
            })
            .flatten()
    }

    pub fn valid_artifacts(&self) -> impl Iterator<Item = &ArtifactSpec> {
        self.entries.iter().filter_map(|e| match e {
            RegistryEntry::Valid(spec) => Some(spec),
            RegistryEntry::Invalid(_) => None,
        })
    }
}

/// One problem in a registry file, located as precisely as the file allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// Shared: every error of one file names the same file.
    pub file: Arc<str>,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    /// Shared with the artifact's id where the loader has one.
    pub artifact: Option<Arc<str>>,
    /// Shared where many errors name the same field (the members of one dependency cycle).
    pub field: Option<Arc<str>>,
    /// Shared where many errors say the same (the members of one dependency cycle).
    pub message: Arc<str>,
}

impl ValidationError {
    /// `file:line: warning: ...`, for a problem that does not stop the registry.
    pub fn as_warning(&self) -> impl fmt::Display + '_ {
        struct Warning<'e>(&'e ValidationError);
        impl fmt::Display for Warning<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let located = self.0.to_string();
                let prefix = self.0.location().len();
                write!(f, "{}warning: {}", &located[..prefix], &located[prefix..])
            }
        }
        Warning(self)
    }

    /// `file:line: ` (or `file: `), as messages start.
    fn location(&self) -> String {
        if self.line > 0 {
            format!("{}:{}: ", self.file, self.line)
        } else {
            format!("{}: ", self.file)
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.location())?;
        if let Some(artifact) = &self.artifact {
            write!(f, "artifact {artifact}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field {field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A registry that cannot be used at all: the pass fails loudly with these errors. Artifact
/// errors found along the way are included, so `validate` lists everything in one run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct RegistryError {
    pub errors: Vec<ValidationError>,
}

/// Reads and parses a registry file from disk.
pub fn load_file(path: &Path) -> Result<Registry, RegistryError> {
    let file = path.display().to_string();
    let whole_file = |message: String| RegistryError {
        errors: vec![ValidationError {
            file: file.as_str().into(),
            line: 0,
            artifact: None,
            field: None,
            message: message.into(),
        }],
    };
    let meta = std::fs::metadata(path).map_err(|e| whole_file(format!("cannot read: {e}")))?;
    if meta.len() > MAX_REGISTRY_BYTES as u64 {
        return Err(whole_file(load::too_large_message(meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| whole_file(format!("cannot read: {e}")))?;
    parse_registry(&file, &bytes)
}
