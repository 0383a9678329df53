//! One item of `artifacts:` into a [`RegistryEntry`]: its id first (every other message names
//! the artifact by it), then its fields merged with the defaults, then the checks that need
//! the merged entry (required fields, `interval_minutes` with `continuous`, and the limits of
//! `limits.rs` that depend on more than one field).
//!
//! An entry with any error becomes [`RegistryEntry::Invalid`], keeping what could be read of
//! it for its report row; it never makes the registry unusable.

use std::sync::Arc;

use super::context::ArtifactContext;
use super::errors::Errors;
use super::extensions::extensions;
use super::fields::{ARTIFACT_KEYS, FieldContext, Fields, State, read_fields};
use super::limits::{RECOVERY_IS_CANONICAL, grace_problem, key_length_problem};
use super::sections::{Cadences, near_misses};
use super::seen_ids::SeenIds;
use crate::cadence::Cadence;
use crate::registry::{ArtifactId, ArtifactSpec, InvalidArtifact, OptionalFields, RegistryEntry};
use crate::text::shorten;
use crate::yaml::{MapEntry, Node, ScalarKind};

/// The entries read so far and their ids, which a new entry's id must not repeat.
pub(super) struct ReadSoFar<'r> {
    pub entries: &'r [RegistryEntry],
    pub ids: &'r mut SeenIds,
}

impl ReadSoFar<'_> {
    /// `id`, sharing the bytes of the artifact read so far that it names (a `depends_on` link
    /// to an earlier artifact, every link of a chain of millions, holds no copy of its own:
    /// issue 27); as read when it names none yet.
    fn shared_id(&self, id: &ArtifactId) -> ArtifactId {
        // The entry being read is among the ids already (a link to itself) but not the entries.
        match (self.ids.first_entry(id.as_str(), self.entries)).and_then(|i| self.entries.get(i)) {
            Some(RegistryEntry::Valid(spec)) => spec.id.clone(),
            _ => id.clone(),
        }
    }
}

/// Reads the entry that comes after `before.entries`.
pub(super) fn read_artifact(
    item: &Node,
    mut before: ReadSoFar<'_>,
    context: &ArtifactContext,
    file: &str,
) -> RegistryEntry {
    let index = before.entries.len();
    let position_label = format!("artifacts[{index}]");
    let mut errors = Errors::new(file);
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
            label: position_label.into(),
            line: item.line,
            errors: errors.list.into(),
            errors_located_here: false,
            owner_repo: None,
            severity: None,
            cadence: None,
            s3_bucket: None,
            s3_key_template: None,
            carried: None,
        });
    };
    let (label, id) = read_id(item, entries, position_label, &mut before, &mut errors);
    let own = read_fields(
        entries,
        &mut FieldContext {
            errors: &mut errors,
            artifact: Some(&label),
            field_prefix: "",
            cadences: &context.cadences,
            calendars: &context.calendars,
            shared: &context.shared,
        },
        ARTIFACT_KEYS,
    );
    let fields = own.or(&context.defaults);
    let mut entry = Entry {
        item,
        label,
        fields,
        errors,
        extensions: extensions(entries),
    };
    entry.report_required();
    let cadence = entry.cadence_with_interval();
    if let Some(cadence) = &cadence {
        entry.check_active_windows(cadence);
        entry.check_key_lengths(cadence);
        entry.check_partitions();
        entry.check_grace_period(cadence, &context.cadences);
    }
    entry.check_recovery_key();
    if entry.errors.list.is_empty() {
        return entry.build(id, cadence, &before);
    }
    entry.into_invalid()
}

/// The entry's label for messages (its id as written, or `artifacts[N]`) and its id when
/// valid and not a duplicate.
fn read_id(
    item: &Node,
    entries: &[MapEntry],
    position_label: String,
    before: &mut ReadSoFar<'_>,
    errors: &mut Errors<'_>,
) -> (String, Option<ArtifactId>) {
    let Some(entry) = entries.iter().find(|e| e.key == "artifact_id") else {
        // A misspelled `artifact_id` key is reported by `read_fields` with its did-you-mean.
        if !near_misses(entries, ARTIFACT_KEYS).contains(&"artifact_id") {
            errors.at(
                item.line,
                Some(&position_label),
                Some("artifact_id"),
                "missing".to_string(),
            );
        }
        return (position_label, None);
    };
    let value = &entry.value;
    let text = match value.as_scalar() {
        Some(text)
            if matches!(
                value.scalar_kind(),
                Some(ScalarKind::Str | ScalarKind::Int(_))
            ) =>
        {
            text
        }
        _ => {
            errors.at(
                value.line,
                Some(&position_label),
                Some("artifact_id"),
                format!("expected text, found {}", value.describe()),
            );
            return (position_label, None);
        }
    };
    match ArtifactId::parse(text) {
        Ok(parsed) => {
            if let Some(first) = before.ids.first_line(text, before.entries) {
                errors.at(
                    value.line,
                    Some(text),
                    Some("artifact_id"),
                    format!("duplicate artifact_id (first defined at line {first})"),
                );
                return (text.to_string(), None);
            }
            let index = before.entries.len();
            (before.ids).insert(text, index, value.line, before.entries);
            (text.to_string(), Some(parsed))
        }
        Err(message) => {
            // Not an id at all: named by its start, not by a pasted megabyte.
            let shown = shorten(text);
            errors.at(value.line, Some(&shown), Some("artifact_id"), message);
            (shown, None)
        }
    }
}

/// An entry being checked once its fields are merged with the defaults.
struct Entry<'n, 'f> {
    item: &'n Node,
    label: String,
    fields: Fields,
    errors: Errors<'f>,
    /// The entry's own `x_` keys.
    extensions: Option<serde_json::Value>,
}

impl Entry<'_, '_> {
    /// Reports a field this entry has no value for. One the artifact set wrongly was already
    /// reported where it stands; one whose only value is a bad default is reported here (the
    /// pass needs a reason for this artifact), pointing at the default; only a field set
    /// nowhere is missing.
    fn report_unset(&mut self, field: &str, state: State, missing: &str) {
        let message = match state {
            State::Valid
            | State::Invalid {
                inherited: false, ..
            } => return,
            State::Invalid {
                line,
                inherited: true,
            } => format!(
                "its default (defaults.{field}, line {line}) is invalid; fix the default or set \
                 the field on the artifact"
            ),
            State::Unset => missing.to_string(),
        };
        self.errors
            .at(self.item.line, Some(&self.label), Some(field), message);
    }

    fn report_required(&mut self) {
        for (field, state) in self.fields.required() {
            self.report_unset(
                field,
                state,
                "missing (set it on the artifact or under `defaults:`)",
            );
        }
    }

    /// The cadence, with `interval_minutes` attached: it goes with `continuous` and nothing
    /// else.
    fn cadence_with_interval(&mut self) -> Option<Cadence> {
        let cadence = self.fields.cadence.value().cloned();
        let interval = self.fields.interval_minutes.value().copied();
        match (cadence, interval, self.fields.interval_minutes.line()) {
            (Some(Cadence::Continuous { .. }), Some(interval), _) => Some(Cadence::Continuous {
                interval_minutes: interval,
            }),
            (Some(Cadence::Continuous { .. }), None, _) => {
                let state = self.fields.interval_minutes.state();
                self.report_unset(
                    "interval_minutes",
                    state,
                    "missing: the `continuous` cadence needs interval_minutes > 0",
                );
                None
            }
            (Some(other), Some(_), Some(line)) => {
                self.errors.at(
                    line,
                    Some(&self.label),
                    Some("interval_minutes"),
                    format!(
                        "only the `continuous` cadence takes interval_minutes; cadence `{}` has \
                         its own schedule",
                        other.name()
                    ),
                );
                None
            }
            (cadence, _, _) => cadence,
        }
    }

    /// Active windows go with `continuous`. Windows from `defaults:` apply to the continuous
    /// artifacts only; an artifact's own on another cadence is an error.
    fn check_active_windows(&mut self, cadence: &Cadence) {
        let windows = &self.fields.active_windows;
        if matches!(cadence, Cadence::Continuous { .. }) || windows.inherited() {
            return;
        }
        if let (Some(Some(_)), Some(line)) = (windows.value(), windows.line()) {
            self.errors.at(
                line,
                Some(&self.label),
                Some("active_windows"),
                format!(
                    "only the `continuous` cadence takes active_windows; cadence `{}` has its \
                     own schedule (use a cron cadence with `calendar: nyse` for trading days)",
                    cadence.name()
                ),
            );
        }
    }

    /// Keys with `{cycle_label}`, at its longest for the entry's cadence (the others were
    /// checked as they were read).
    fn check_key_lengths(&mut self, cadence: &Cadence) {
        let f = &self.fields;
        let templates = [
            (
                "s3_key_template",
                f.s3_key_template.value(),
                f.s3_key_template.line(),
            ),
            (
                "recovery_key_template",
                f.recovery_key_template.value().and_then(Option::as_ref),
                f.recovery_key_template.line(),
            ),
        ];
        let mut problems = Vec::new();
        for (field, template, line) in templates {
            if let (Some(template), Some(line)) = (template, line)
                && template.uses_cycle_label()
                && let Some(problem) = key_length_problem(template, Some(cadence))
            {
                problems.push((line, field, problem));
            }
        }
        for (line, field, problem) in problems {
            self.errors
                .at(line, Some(&self.label), Some(field), problem);
        }
    }

    /// `partitions:` and `{partition}` go together: a set's key template names its value,
    /// and nothing else does (docs/registry.md#partitions).
    fn check_partitions(&mut self) {
        let f = &self.fields;
        let set = f.partitions.value().is_some() || f.partitions_from.value().is_some();
        let uses = |t: Option<&crate::template::KeyTemplate>| t.is_some_and(|t| t.uses_partition());
        let mut problems: Vec<(Option<usize>, &str, String)> = Vec::new();
        let bad_set = matches!(f.partitions.state(), State::Invalid { .. })
            || matches!(f.partitions_from.state(), State::Invalid { .. });
        if f.partitions.value().is_some() && f.partitions_from.value().is_some() {
            problems.push((
                f.partitions_from.line(),
                "partitions_from",
                "a set's values are either listed (partitions:) or read (partitions_from:), \
                 not both"
                    .to_string(),
            ));
        }
        let template_read = f.s3_key_template.value().is_some();
        if template_read && set != uses(f.s3_key_template.value()) && !bad_set {
            problems.push((
                f.partitions.line().or(f.s3_key_template.line()),
                if set { "s3_key_template" } else { "partitions" },
                if set {
                    "a set's key template must use {partition} (each value's key)".to_string()
                } else {
                    "{partition} in the key template needs `partitions:` (its values)".to_string()
                },
            ));
        }
        if uses(f.recovery_key_template.value().and_then(Option::as_ref)) {
            problems.push((
                f.recovery_key_template.line(),
                "recovery_key_template",
                "a set has no recovery key: {partition} is for s3_key_template only".to_string(),
            ));
        }
        if set && f.off_cycle.value().copied().flatten().is_some() {
            problems.push((
                f.off_cycle.line(),
                "off_cycle",
                "a set (partitions:) is judged in its cycle; it cannot be off_cycle".to_string(),
            ));
        }
        if !set && f.min_complete.value().is_some() && !f.min_complete.inherited() {
            problems.push((
                f.min_complete.line(),
                "min_complete",
                "only a set (partitions:) takes min_complete".to_string(),
            ));
        }
        for (line, field, problem) in problems {
            let line = line.unwrap_or(self.item.line);
            self.errors
                .at(line, Some(&self.label), Some(field), problem);
        }
    }

    /// The grace period ends by the year 9999, wherever its parts were set.
    fn check_grace_period(&mut self, cadence: &Cadence, cadences: &Cadences) {
        let f = &self.fields;
        let Some(&created_at) = f.created_at.value() else {
            return;
        };
        let grace = f.grace_period_cycles.value().copied().unwrap_or(2);
        let Some(problem) = grace_problem(grace, created_at, cadence, || {
            cadences.longest_cycle(cadence)
        }) else {
            return;
        };
        let (line, from) = match f.grace_period_cycles.line() {
            Some(line) if f.grace_period_cycles.inherited() => {
                (line, " (from defaults.grace_period_cycles)")
            }
            Some(line) => (line, ""),
            None => (
                f.created_at.line().unwrap_or(self.item.line),
                " (the default)",
            ),
        };
        let message = format!("{grace}{from} {problem}");
        self.errors.at(
            line,
            Some(&self.label),
            Some("grace_period_cycles"),
            message,
        );
    }

    /// The recovery key is another key than the canonical one. Both from `defaults:` was
    /// reported there.
    fn check_recovery_key(&mut self) {
        let f = &self.fields;
        let (Some(canonical), Some(Some(recovery)), Some(line)) = (
            f.s3_key_template.value(),
            f.recovery_key_template.value(),
            f.recovery_key_template.line(),
        ) else {
            return;
        };
        if canonical.source() != recovery.source()
            || (f.s3_key_template.inherited() && f.recovery_key_template.inherited())
        {
            return;
        }
        let message = if f.recovery_key_template.inherited() {
            format!("{RECOVERY_IS_CANONICAL} (defaults.recovery_key_template)")
        } else {
            RECOVERY_IS_CANONICAL.to_string()
        };
        self.errors.at(
            line,
            Some(&self.label),
            Some("recovery_key_template"),
            message,
        );
    }

    /// The spec of an entry without errors.
    fn build(
        mut self,
        id: Option<ArtifactId>,
        cadence: Option<Cadence>,
        before: &ReadSoFar<'_>,
    ) -> RegistryEntry {
        let f = &self.fields;
        if let (Some(id), Some(cadence)) = (id, cadence)
            && let (Some(s3_bucket), Some(s3_key_template), Some(sla), Some(severity)) = (
                f.s3_bucket.value(),
                f.s3_key_template.value(),
                f.sla_minutes_after_cron.value(),
                f.severity.value(),
            )
            && let (Some(owner_repo), Some(created_at)) =
                (f.owner_repo.value(), f.created_at.value())
        {
            let depends_on: Box<[ArtifactId]> = (f.depends_on.value().into_iter())
                .flat_map(|ids| ids.iter().map(|id| before.shared_id(id)))
                .collect();
            return RegistryEntry::Valid(ArtifactSpec {
                id,
                links: (!depends_on.is_empty()).then(|| Box::new(depends_on)),
                line: line_number(self.item.line),
                s3_bucket: Arc::clone(s3_bucket),
                s3_key_template: s3_key_template.clone(),
                sla_minutes_after_cron: *sla,
                severity: *severity,
                owner_repo: Arc::clone(owner_repo),
                created_at: *created_at,
                grace_period_cycles: f.grace_period_cycles.value().copied().unwrap_or(2),
                calendar_aware: f.calendar_aware.value().copied().unwrap_or(true),
                optional: OptionalFields {
                    recovery_key_template: f.recovery_key_template.value().cloned().flatten(),
                    active_windows: match cadence {
                        Cadence::Continuous { .. } => f.active_windows.value().cloned().flatten(),
                        _ => None,
                    },
                    off_cycle: f.off_cycle.value().copied().flatten(),
                    carried: f.carried(self.extensions.clone()),
                    spec: f.spec_fields(),
                }
                .boxed(),
                cadence,
            });
        }
        // Defensive: a required value was lost to an error in `defaults`, which the
        // registry-level errors already report.
        self.errors.at(
            self.item.line,
            Some(&self.label),
            None,
            "incomplete because of an error under `defaults:`".to_string(),
        );
        self.into_invalid()
    }

    fn into_invalid(mut self) -> RegistryEntry {
        // Reported in file order, whichever check found them.
        self.errors.list.sort_by_key(|e| e.line);
        let f = self.fields;
        RegistryEntry::Invalid(InvalidArtifact {
            label: self.label.into(),
            line: self.item.line,
            errors: self.errors.list.into(),
            errors_located_here: false,
            owner_repo: f.owner_repo.value().cloned(),
            severity: f.severity.value().copied(),
            cadence: (f.cadence.value().map(|c| c.name()))
                .or(f.cadence.rejected_text())
                .map(Arc::from),
            // A bucket name S3 would refuse still says where the artifact was meant to be.
            s3_bucket: (f.s3_bucket.value().cloned()).or_else(|| {
                (f.s3_bucket.rejected_text())
                    .filter(|t| !t.trim().is_empty())
                    .map(Arc::from)
            }),
            s3_key_template: (f.s3_key_template.value().map(|t| t.source()))
                .or(f.s3_key_template.rejected_text())
                .map(Box::from),
            carried: f.carried(self.extensions),
        })
    }
}

/// A line as an [`ArtifactSpec`] keeps it: a registry is at most
/// [`crate::registry::MAX_REGISTRY_BYTES`] long, far fewer lines than `u32` counts.
fn line_number(line: usize) -> u32 {
    u32::try_from(line).expect("a registry within the size limit has fewer than 2^32 lines")
}
