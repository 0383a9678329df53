//! Artifact specs built field by field for the judging tests (`classify::set`,
//! `classify::content`), so each table test states only what it is about: its key template
//! and the optional fields it sets, not the dozen fields every spec needs.

use chrono::NaiveDate;

use super::{ArtifactId, ArtifactSpec, OptionalFields, Severity, SpecFields};
use crate::cadence::Cadence;
use crate::template::KeyTemplate;

/// `prices` in `bkt` on `weekday_sf` (tick 13:00 UTC), due 180 minutes after its tick, with
/// `template` as its key template and the optional fields `fields` sets.
pub(crate) fn weekday_sf(template: &str, fields: impl FnOnce(&mut SpecFields)) -> ArtifactSpec {
    let mut spec = SpecFields::default();
    fields(&mut spec);
    ArtifactSpec {
        id: ArtifactId::parse("prices").unwrap(),
        line: 1,
        s3_bucket: "bkt".into(),
        s3_key_template: KeyTemplate::parse(template).unwrap(),
        cadence: Cadence::WeekdaySf,
        sla_minutes_after_cron: 180,
        severity: Severity::Critical,
        owner_repo: "owner".into(),
        created_at: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        grace_period_cycles: 2,
        calendar_aware: true,
        // As the loader keeps them: no box when `fields` sets nothing.
        optional: OptionalFields {
            spec,
            ..OptionalFields::default()
        }
        .boxed(),
        links: None,
    }
}
