//! Content-true freshness (docs/classification.md#content-checks): an object written since
//! the tick is fresh by its time, but a 0-byte or truncated file, or a copy of the previous
//! cycle's object, is not new data. The content checks an artifact opts into
//! (`min_size_bytes`, `size_drop_below`, `require_new_content`) turn such a fresh verdict
//! into `suspect`, which alerts as stale does.
//!
//! Pure: the pass hands over what the canonical HEAD (or listing) answered and what the
//! ledger remembers of earlier cycles ([`ContentMemory`]). A size or ETag the store did not
//! answer, or no earlier cycle remembered, leaves a check unjudged: never a verdict invented.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{
    Classification, Decision, DecisionLog, ProbeOutcome, ResolvedKeys, State, minutes_past,
    push_sla,
};
use crate::cadence::Cycle;
use crate::object::{ContentTag, ObjectMeta, S3Url};
use crate::registry::ArtifactSpec;
use crate::text::Rfc3339;

/// How many earlier cycles' sizes `size_drop_below` takes the median of.
pub const SIZE_CYCLES: usize = 5;

/// What a probe saw of the content of an object written since the tick, carried on its row
/// to the ledger (only for an artifact with a content check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentSeen {
    pub size: Option<u64>,
    pub etag: Option<ContentTag>,
}

/// What the ledger remembers of an artifact's earlier cycles, as the checks read it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ContentMemory<'a> {
    /// The last earlier cycle whose object's ETag was seen, and its tag.
    pub previous: Option<(&'a str, ContentTag)>,
    /// The sizes of the last earlier cycles' objects.
    pub sizes: RecentSizes,
}

/// The sizes of up to [`SIZE_CYCLES`] earlier cycles' objects, newest first, held inline
/// (48 bytes, no allocation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecentSizes {
    sizes: [u64; SIZE_CYCLES],
    len: u8,
}

impl RecentSizes {
    /// The first [`SIZE_CYCLES`] of `sizes` (newest first).
    pub fn from_newest_first(sizes: &[u64]) -> RecentSizes {
        let mut recent = RecentSizes::default();
        for size in sizes.iter().take(SIZE_CYCLES) {
            recent.sizes[usize::from(recent.len)] = *size;
            recent.len += 1;
        }
        recent
    }

    /// With `newest` in front, the oldest dropped past [`SIZE_CYCLES`].
    pub fn pushed(self, newest: u64) -> RecentSizes {
        let mut sizes = vec![newest];
        sizes.extend_from_slice(self.as_slice());
        RecentSizes::from_newest_first(&sizes)
    }

    /// Newest first.
    pub fn as_slice(&self) -> &[u64] {
        &self.sizes[..usize::from(self.len)]
    }
}

/// Whether the artifact opts into any content check.
pub fn has_content_checks(spec: &ArtifactSpec) -> bool {
    spec.min_size_bytes().is_some()
        || spec.size_drop_below().is_some()
        || spec.require_new_content() == Some(&true)
}

/// What the canonical probe saw of an object written since the tick, for an artifact with
/// content checks; `None` otherwise (nothing for the ledger to remember).
pub fn content_seen(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    canonical: &ProbeOutcome,
) -> Option<ContentSeen> {
    match canonical {
        Ok(Some(meta)) if meta.last_modified >= cycle.tick && has_content_checks(spec) => {
            Some(ContentSeen {
                size: meta.size,
                etag: meta.etag,
            })
        }
        _ => None,
    }
}

/// The content checks on a verdict [`super::judge`] gave: a fresh verdict from the canonical
/// key (not the recovery key, not an off-cycle listing) whose object fails one becomes
/// `suspect`, with the SLA as a stale one has; any other verdict is returned as it is.
/// `canonical` is what the canonical probe answered, `memory` the earlier cycles'.
pub fn judge_content(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: &ResolvedKeys,
    now: DateTime<Utc>,
    mut verdict: Classification,
    (canonical, memory): (&ProbeOutcome, ContentMemory<'_>),
    log: &mut impl DecisionLog,
) -> Classification {
    verdict.content_seen = content_seen(spec, cycle, canonical);
    let judged_by_canonical = verdict.state == State::Fresh
        && !verdict.recovery_substituted
        && verdict.off_cycle_key.is_none();
    let meta = match canonical {
        Ok(Some(meta)) if judged_by_canonical && meta.last_modified >= cycle.tick => meta,
        _ => return verdict,
    };
    if !has_content_checks(spec) {
        return verdict;
    }
    let url = S3Url(&spec.s3_bucket, &keys.canonical_key);
    let Some(what) = content_problem(spec, meta, memory, &url, log) else {
        return verdict;
    };
    let sla_violated_by_minutes = minutes_past(now, keys.due_at);
    log.record(|| Decision::Sla {
        due_at: keys.due_at,
        minutes_past: sla_violated_by_minutes,
    });
    let mut reason = what;
    let _ = write!(
        reason,
        " (last modified {}, after the tick)",
        Rfc3339(meta.last_modified)
    );
    push_sla(&mut reason, sla_violated_by_minutes, keys.due_at);
    Classification {
        state: State::Suspect,
        reason,
        sla_violated_by_minutes,
        ..verdict
    }
}

/// The first check the object fails, as the reason's first part; each check judged (or not,
/// and why) goes to the log.
fn content_problem(
    spec: &ArtifactSpec,
    meta: &ObjectMeta,
    memory: ContentMemory<'_>,
    url: &S3Url<'_>,
    log: &mut impl DecisionLog,
) -> Option<String> {
    let checks = [
        spec.min_size_bytes()
            .map(|min| min_size(*min, meta.size, url)),
        spec.size_drop_below()
            .map(|fraction| size_drop(*fraction, meta.size, memory.sizes.as_slice(), url)),
        (spec.require_new_content() == Some(&true))
            .then(|| new_content(meta.etag, memory.previous, url)),
    ];
    let mut problem = None;
    for check in checks.into_iter().flatten() {
        log.record(|| Decision::Content(check.said.clone()));
        if problem.is_none() {
            problem = check.problem;
        }
    }
    problem
}

/// One content check: what the trail says, and the reason's text when the object fails it.
struct Check {
    said: String,
    problem: Option<String>,
}

impl Check {
    fn passed(said: String) -> Check {
        Check {
            said,
            problem: None,
        }
    }

    fn failed(problem: String) -> Check {
        Check {
            said: format!("{problem} -> suspect"),
            problem: Some(problem),
        }
    }
}

fn min_size(min: u64, size: Option<u64>, url: &S3Url<'_>) -> Check {
    match size {
        None => Check::passed("min_size_bytes: the store gave no size, not judged".into()),
        Some(size) if size < min => Check::failed(format!(
            "{url} is {} bytes, under its min_size_bytes {}",
            thousands(size),
            thousands(min)
        )),
        Some(size) => Check::passed(format!(
            "min_size_bytes: {} bytes, at least {}",
            thousands(size),
            thousands(min)
        )),
    }
}

fn size_drop(fraction: f64, size: Option<u64>, earlier: &[u64], url: &S3Url<'_>) -> Check {
    let Some(size) = size else {
        return Check::passed("size_drop_below: the store gave no size, not judged".into());
    };
    let Some(median) = median(earlier) else {
        return Check::passed(format!(
            "size_drop_below: {} bytes; no earlier cycle's size remembered, not judged",
            thousands(size)
        ));
    };
    let sizes = earlier
        .iter()
        .map(|s| thousands(*s))
        .collect::<Vec<_>>()
        .join(", ");
    let percent = fraction * 100.0;
    let cycles = format!(
        "the median {} bytes of its last {} cycle{} ({sizes})",
        thousands(median),
        earlier.len(),
        crate::text::plural(earlier.len())
    );
    // `as f64` is exact below 2^53 bytes (8 PiB) and close enough past it.
    if (size as f64) < fraction * median as f64 {
        Check::failed(format!(
            "{url} is {} bytes, under {percent}% of {cycles}",
            thousands(size)
        ))
    } else {
        Check::passed(format!(
            "size_drop_below: {} bytes, at least {percent}% of {cycles}",
            thousands(size)
        ))
    }
}

fn new_content(
    etag: Option<ContentTag>,
    previous: Option<(&str, ContentTag)>,
    url: &S3Url<'_>,
) -> Check {
    match (etag, previous) {
        (None, _) => {
            Check::passed("require_new_content: the store gave no ETag, not judged".into())
        }
        (Some(_), None) => Check::passed(
            "require_new_content: no earlier cycle's ETag remembered, not judged".into(),
        ),
        (Some(now), Some((cycle, before))) if now == before => Check::failed(format!(
            "{url} has the same content as cycle {cycle} (same ETag): rewritten, not new"
        )),
        (Some(_), Some((cycle, _))) => Check::passed(format!(
            "require_new_content: the ETag differs from cycle {cycle}'s"
        )),
    }
}

/// The median of `sizes` (the mean of the middle two for an even count); `None` when empty.
pub fn median(sizes: &[u64]) -> Option<u64> {
    let mut sorted = sizes.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some(
            sorted[n / 2 - 1] / 2
                + sorted[n / 2] / 2
                + (sorted[n / 2 - 1] % 2 + sorted[n / 2] % 2) / 2,
        ),
    }
}

/// `48000` as `48,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
