//! Off-cycle tolerance (rule 3 for an artifact with `off_cycle:`): instead of the one key of
//! the current cycle, the newest object whose key has the template's shape, for any cycle.
//!
//! A producer that ran a day early wrote Friday's key, not Saturday's; judged by the key of
//! the cycle, the whole weekly set pages. Judged by the newest key of the template's shape,
//! it is fresh when that object was written after the previous cycle's tick (or within an
//! explicit maximum age).

use chrono::{DateTime, Duration, Utc};

use super::{
    Classification, Decision, DecisionLog, ProbeOutcome, ResolvedKeys, State, judge_after_probe,
};
use crate::cadence::Cycle;
use crate::object::PrefixListing;
use crate::object::{ListedObject, S3Url, StoreError};
use crate::registry::ArtifactSpec;
use crate::template::KeyShape;
use crate::text::Rfc3339;

pub use crate::registry::OffCycle;

/// What one listing of the template's fixed prefix answered.
pub type ListingOutcome = Result<PrefixListing, StoreError>;

/// The newest object of the template's shape in a listing (the greatest key among equals).
pub fn newest_of_shape<'l>(
    listing: &'l PrefixListing,
    shape: &KeyShape,
) -> Option<&'l ListedObject> {
    listing
        .objects
        .iter()
        .filter(|object| shape.matches(&object.key))
        .max_by(|a, b| (a.meta.last_modified, &a.key).cmp(&(b.meta.last_modified, &b.key)))
}

/// The earliest LastModified that is fresh: the current tick, or earlier by the rule.
pub fn fresh_since(
    rule: OffCycle,
    cycle: &Cycle,
    previous_tick: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let earlier = match rule {
        OffCycle::SincePreviousTick => previous_tick.unwrap_or(cycle.tick),
        OffCycle::MaxAge { minutes } => now - Duration::minutes(i64::from(minutes)),
    };
    earlier.min(cycle.tick)
}

/// What the off-cycle rule saw, for the trail.
#[derive(Debug, Clone, PartialEq)]
pub enum Listed {
    /// The listing failed: no verdict but `probe_failed`.
    Failed(String),
    /// The page cap stopped the listing before its end.
    Truncated { pages: u32 },
    /// No key of the template's shape under the prefix.
    NoneOfShape { pages: u32, listed: usize },
    /// The newest key of the shape, judged against `fresh_since`.
    Newest {
        pages: u32,
        key: String,
        last_modified: DateTime<Utc>,
        fresh_since: DateTime<Utc>,
    },
}

/// What the off-cycle rule judges an artifact by: the listing, the template's shape and the
/// earliest LastModified that is fresh ([`fresh_since`]).
#[derive(Debug, Clone, Copy)]
pub struct OffCycleProbe<'a> {
    pub listing: &'a ListingOutcome,
    pub shape: &'a KeyShape,
    pub fresh_since: DateTime<Utc>,
}

/// Rule 3 for an artifact with `off_cycle:`: judged by the newest object of its template's
/// shape under the template's fixed prefix; then rules 4 and 5 as usual.
pub fn judge_off_cycle(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: &ResolvedKeys,
    now: DateTime<Utc>,
    probe: OffCycleProbe<'_>,
    recovery: Option<&ProbeOutcome>,
    log: &mut impl DecisionLog,
) -> Classification {
    let listing = match whole_listing(spec, probe.listing, log) {
        Ok(listing) => listing,
        Err(failed) => return failed,
    };
    let newest = newest_of_shape(listing, probe.shape);
    let since = probe.fresh_since;
    log.record(|| Decision::OffCycle {
        prefix: S3Url(&spec.s3_bucket, &spec.s3_key_template.fixed_prefix()).to_string(),
        listed: match newest {
            None => Listed::NoneOfShape {
                pages: listing.pages,
                listed: listing.objects.len(),
            },
            Some(object) => Listed::Newest {
                pages: listing.pages,
                key: object.key.clone(),
                last_modified: object.meta.last_modified,
                fresh_since: since,
            },
        },
    });
    let not_fresh = match newest {
        Some(object) if object.meta.last_modified >= since => {
            return fresh(spec, cycle, object, since);
        }
        Some(object) => (
            State::Stale,
            Some(object.meta.last_modified),
            format!(
                "off-cycle: newest key of the template's shape s3://{}/{} last modified {}, \
                 before {} (cycle tick {})",
                spec.s3_bucket,
                object.key,
                Rfc3339(object.meta.last_modified),
                Rfc3339(since),
                Rfc3339(cycle.tick)
            ),
        ),
        None => (
            State::Missing,
            None,
            format!(
                "off-cycle: no key of the template's shape under {} ({} listed)",
                S3Url(&spec.s3_bucket, &spec.s3_key_template.fixed_prefix()),
                listing.objects.len()
            ),
        ),
    };
    let mut verdict = judge_after_probe(spec, cycle, keys, now, not_fresh, recovery, log);
    if !verdict.recovery_substituted && verdict.state != State::ProbeFailed {
        verdict.off_cycle_key = newest.map(|object| object.key.clone());
    }
    verdict
}

/// The listing when it answered in full; otherwise the `probe_failed` verdict it makes.
fn whole_listing<'l>(
    spec: &ArtifactSpec,
    listing: &'l ListingOutcome,
    log: &mut impl DecisionLog,
) -> Result<&'l PrefixListing, Classification> {
    let prefix = spec.s3_key_template.fixed_prefix();
    let url = S3Url(&spec.s3_bucket, &prefix);
    match listing {
        Err(e) => {
            log.record(|| Decision::OffCycle {
                prefix: url.to_string(),
                listed: Listed::Failed(e.to_string()),
            });
            Err(Classification::probe_failed(format!("LIST {url}: {e}")))
        }
        Ok(listing) if !listing.complete => {
            log.record(|| Decision::OffCycle {
                prefix: url.to_string(),
                listed: Listed::Truncated {
                    pages: listing.pages,
                },
            });
            Err(Classification::probe_failed(format!(
                "LIST {url}: more than {} pages of keys under the prefix; off_cycle judges the \
                 newest key of the template's shape only from a whole listing (narrow the \
                 template's fixed prefix or remove off_cycle)",
                listing.pages
            )))
        }
        Ok(listing) => Ok(listing),
    }
}

/// The verdict of a newest object written since `since`.
fn fresh(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    object: &ListedObject,
    since: DateTime<Utc>,
) -> Classification {
    Classification {
        last_modified: Some(object.meta.last_modified),
        off_cycle_key: Some(object.key.clone()),
        ..Classification::without_probe(
            State::Fresh,
            format!(
                "off-cycle: newest key of the template's shape s3://{}/{}, last modified {} \
                 (fresh since {}; cycle tick {})",
                spec.s3_bucket,
                object.key,
                Rfc3339(object.meta.last_modified),
                Rfc3339(since),
                Rfc3339(cycle.tick)
            ),
        )
    }
}

/// Rule 4's condition for an off-cycle artifact: the listing settled nothing fresh and a
/// recovery key exists.
pub fn needs_off_cycle_recovery(
    keys: &ResolvedKeys,
    listing: &ListingOutcome,
    shape: &KeyShape,
    since: DateTime<Utc>,
) -> bool {
    keys.recovery_key.is_some()
        && match listing {
            Ok(listing) if listing.complete => {
                newest_of_shape(listing, shape).is_none_or(|o| o.meta.last_modified < since)
            }
            _ => false,
        }
}
