//! What a field's value may refer to while an artifact is read: the registry's cadences and
//! calendars, and the values entries share.

use super::calendars::RegistryCalendars;
use super::sections::Cadences;
use super::shared::SharedValues;

/// What a field's value may refer to (the registry's cadences and calendars) and the values
/// it may share.
pub(super) struct Refs<'a> {
    pub cadences: &'a Cadences,
    pub calendars: &'a RegistryCalendars,
    pub shared: &'a SharedValues,
}
