//! What reading one artifact entry needs from the rest of the file: the field defaults, the
//! calendars (`calendar:`'s NYSE extra closures and `calendars:`) and the cadences declared
//! under `cadences:`. Read once, before the first entry (while streaming) or from the whole
//! tree.

use std::collections::HashMap;

use super::calendars::{RegistryCalendars, parse_calendars};
use super::errors::Errors;
use super::fields::{DEFAULT_KEYS, FieldContext, Fields, read_fields};
use super::limits::RECOVERY_IS_CANONICAL;
use super::sections::{Cadences, parse_cadences, parse_calendar};
use super::shared::SharedValues;
use crate::yaml::Node;

/// The top-level sections an artifact entry depends on.
pub(super) const ARTIFACT_CONTEXT_SECTIONS: &[&str] =
    &["defaults", "calendar", "calendars", "cadences"];

#[derive(Debug, Default)]
pub(super) struct ArtifactContext {
    pub defaults: Fields,
    pub calendars: RegistryCalendars,
    pub cadences: Cadences,
    /// The values artifacts repeat (buckets, owners, date formats), one copy each.
    pub shared: SharedValues,
}

impl ArtifactContext {
    pub fn read(sections: &HashMap<&str, &Node>, errors: &mut Errors<'_>) -> ArtifactContext {
        let extra_closures = sections
            .get("calendar")
            .map(|node| parse_calendar(node, errors))
            .unwrap_or_default();
        let calendars = parse_calendars(sections.get("calendars").copied(), extra_closures, errors);
        let cadences = sections
            .get("cadences")
            .map(|node| parse_cadences(node, &calendars, errors))
            .unwrap_or_default();
        let shared = SharedValues::default();
        let mut defaults = match sections.get("defaults") {
            None => Fields::default(),
            Some(node) if node.is_null() => Fields::default(),
            Some(node) => match node.as_map() {
                Some(entries) => {
                    let mut cx = FieldContext {
                        errors,
                        artifact: None,
                        field_prefix: "defaults.",
                        cadences: &cadences,
                        calendars: &calendars,
                        shared: &shared,
                    };
                    read_fields(entries, &mut cx, DEFAULT_KEYS)
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
        check_recovery_key(&mut defaults, errors);
        ArtifactContext {
            defaults,
            calendars,
            cadences,
            shared,
        }
    }
}

/// Both keys under `defaults:` and the same: reported once, here, not for every artifact.
fn check_recovery_key(defaults: &mut Fields, errors: &mut Errors<'_>) {
    if let (Some(canonical), Some(Some(recovery)), Some(line)) = (
        defaults.s3_key_template.value(),
        defaults.recovery_key_template.value(),
        defaults.recovery_key_template.line(),
    ) && canonical.source() == recovery.source()
    {
        errors.at(
            line,
            None,
            Some("defaults.recovery_key_template"),
            RECOVERY_IS_CANONICAL.to_string(),
        );
        defaults.recovery_key_template.reject();
    }
}
