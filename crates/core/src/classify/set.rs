//! An expected set (`partitions:`, docs/classification.md#sets): one artifact whose keys are
//! its template rendered for each value, judged from ONE listing of the keys' common prefix
//! (a set of 5,000 under one prefix costs its 5 pages, not 5,000 HEADs) into one verdict:
//! fresh when enough of its keys were written since the tick (`min_complete`, else all),
//! else missing (or stale when every key is there but some are old), the reason counting
//! present, missing and stale keys and naming the first missing ones.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{
    Classification, Decision, DecisionLog, ListingOutcome, ResolvedKeys, State, minutes_past,
    push_sla,
};
use crate::cadence::Cycle;
use crate::object::{ObjectMeta, S3Url};
use crate::registry::ArtifactSpec;
use crate::registry::partitions::Partitions;
use crate::template::TemplateValues;

/// How many missing (and stale) values a reason names before counting the rest.
pub const NAMED_IN_REASON: usize = 10;

/// A set's keys in one cycle, and the prefix one listing of which finds them all.
#[derive(Debug, Clone, PartialEq)]
pub struct SetKeys {
    /// The longest prefix every key shares.
    pub prefix: String,
    /// `(value, key)` in the registry's order.
    pub keys: Vec<(Box<str>, String)>,
}

/// The keys of `spec`'s set in `cycle`; `None` for an artifact without `partitions:` (a
/// `partitions_from:` set's values are read by the pass: [`set_keys_of`]).
pub fn set_keys(spec: &ArtifactSpec, cycle: &Cycle) -> Option<SetKeys> {
    Some(set_keys_of(spec, cycle, spec.partitions()?))
}

/// The keys of `spec`'s set of `partitions` in `cycle`.
pub fn set_keys_of(spec: &ArtifactSpec, cycle: &Cycle, partitions: &Partitions) -> SetKeys {
    let values = TemplateValues {
        date: cycle.date,
        cycle_label: &cycle.label,
        trading_day: cycle.trading_day,
    };
    let keys: Vec<(Box<str>, String)> = (partitions.values().iter())
        .map(|value| {
            let key = spec.s3_key_template.render_partition(&values, value);
            (value.clone(), key)
        })
        .collect();
    let prefix = common_prefix(keys.iter().map(|(_, key)| key.as_str()));
    SetKeys { prefix, keys }
}

/// The longest prefix of every key (cut back to a character boundary).
fn common_prefix<'k>(mut keys: impl Iterator<Item = &'k str>) -> String {
    let Some(first) = keys.next() else {
        return String::new();
    };
    let mut len = first.len();
    for key in keys {
        len = first
            .bytes()
            .zip(key.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    while !first.is_char_boundary(len) {
        len -= 1;
    }
    first[..len].to_string()
}

/// A set's counts on its row (`check_results.json`'s `set`): its keys written since the
/// tick, missing and stale, and the first [`NAMED_IN_REASON`] missing values.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetSummary {
    pub total: u32,
    pub written: u32,
    pub missing: u32,
    pub stale: u32,
    /// The first missing values, in the registry's order.
    pub first_missing: Box<[Box<str>]>,
    /// When the listing found every key written since the tick: what the ledger keeps to
    /// settle the cycle (not written to `check_results.json`).
    #[serde(skip)]
    pub complete_listing: Option<CompleteListing>,
}

/// A listing that found every key of a set written since the tick: its pages (the reason
/// says them) and the [`set_fingerprint`] of the keys it looked for. The ledger keeps it, and
/// the set's later passes in the cycle are judged from it without a listing
/// ([`judge_settled_set`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompleteListing {
    pub pages: u32,
    pub fingerprint: u64,
}

/// What a listing of a set looks at: FNV-1a (64 bits) of the bucket and every key, each
/// followed by a NUL, stable across builds and platforms. A registry edit that changes any
/// key (template, bucket, a value added, removed or changed) no longer matches it.
pub fn set_fingerprint(bucket: &str, set: &SetKeys) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let keys = (set.keys.iter()).flat_map(|(_, key)| key.bytes().chain([0]));
    for byte in bucket.bytes().chain([0]).chain(keys) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// What the listing said of each of the set's keys.
#[derive(Debug, Default)]
struct Tally<'s> {
    fresh: usize,
    stale: Vec<&'s str>,
    missing: Vec<&'s str>,
    newest: Option<DateTime<Utc>>,
}

/// The set's verdict from the listing of its prefix (rule 3 for a set; rule 5's SLA when it
/// is not complete). A failed or capped listing is `probe_failed`: never a verdict from part
/// of the keys.
pub fn judge_set(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: &ResolvedKeys,
    now: DateTime<Utc>,
    (set, listing): (&SetKeys, &ListingOutcome),
    log: &mut impl DecisionLog,
) -> Classification {
    let url = S3Url(&spec.s3_bucket, &set.prefix);
    let listing = match listing {
        Err(e) => {
            log.record(|| Decision::Set(format!("LIST {url}: failed: {e} -> probe_failed")));
            return Classification::probe_failed(format!("LIST {url}: {e}"));
        }
        Ok(listing) if !listing.complete => {
            let said = format!(
                "LIST {url}: more than {} pages of keys; a set is never judged from part of \
                 its keys",
                listing.pages
            );
            log.record(|| Decision::Set(format!("{said} -> probe_failed")));
            return Classification::probe_failed(said);
        }
        Ok(listing) => listing,
    };
    let found: HashMap<&str, &ObjectMeta> = (listing.objects.iter())
        .map(|o| (o.key.as_str(), &o.meta))
        .collect();
    let tally = tally(set, &found, cycle.tick);
    let total = set.keys.len();
    let needed = spec.min_complete().copied().unwrap_or(1.0);
    let complete = tally.fresh as f64 >= needed * total as f64;
    let mut what = summary(&url, &tally, total, listing.pages);
    log.record(|| Decision::Set(what.clone()));
    let all_written = (tally.fresh == total).then(|| CompleteListing {
        pages: listing.pages,
        fingerprint: set_fingerprint(&spec.s3_bucket, set),
    });
    let counts = Some(Box::new(set_summary(&tally, total, all_written)));
    if complete {
        if tally.fresh < total {
            let _ = write!(
                what,
                "; at least {}% is enough (min_complete)",
                needed * 100.0
            );
        }
        return Classification {
            last_modified: tally.newest,
            set: counts,
            ..Classification::without_probe(State::Fresh, what)
        };
    }
    let state = if tally.missing.is_empty() {
        State::Stale
    } else {
        State::Missing
    };
    let sla_violated_by_minutes = minutes_past(now, keys.due_at);
    log.record(|| Decision::Sla {
        due_at: keys.due_at,
        minutes_past: sla_violated_by_minutes,
    });
    push_sla(&mut what, sla_violated_by_minutes, keys.due_at);
    Classification {
        state,
        reason: what,
        last_modified: tally.newest,
        sla_violated_by_minutes,
        set: counts,
        ..Classification::without_probe(state, String::new())
    }
}

/// The verdict a listing would give, in a cycle where an earlier listing (`listed`) found
/// every key of the set written since the tick, the newest at `newest`: `fresh`, with the
/// reason and counts that listing gave. `None` when the keys are no longer the ones listed (a
/// registry edit) or `newest` is before the tick: then the set is listed again.
pub fn judge_settled_set(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    set: &SetKeys,
    listed: CompleteListing,
    newest: DateTime<Utc>,
) -> Option<Classification> {
    if newest < cycle.tick || listed.fingerprint != set_fingerprint(&spec.s3_bucket, set) {
        return None;
    }
    let total = set.keys.len();
    let tally = Tally {
        fresh: total,
        newest: Some(newest),
        ..Tally::default()
    };
    let what = summary(
        &S3Url(&spec.s3_bucket, &set.prefix),
        &tally,
        total,
        listed.pages,
    );
    Some(Classification {
        last_modified: Some(newest),
        set: Some(Box::new(set_summary(&tally, total, Some(listed)))),
        ..Classification::without_probe(State::Fresh, what)
    })
}

fn set_summary(
    tally: &Tally<'_>,
    total: usize,
    complete_listing: Option<CompleteListing>,
) -> SetSummary {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    SetSummary {
        total: count(total),
        written: count(tally.fresh),
        missing: count(tally.missing.len()),
        stale: count(tally.stale.len()),
        first_missing: (tally.missing.iter())
            .take(NAMED_IN_REASON)
            .map(|v| Box::from(*v))
            .collect(),
        complete_listing,
    }
}

fn tally<'s>(
    set: &'s SetKeys,
    found: &HashMap<&str, &ObjectMeta>,
    tick: DateTime<Utc>,
) -> Tally<'s> {
    let mut tally = Tally::default();
    for (value, key) in &set.keys {
        match found.get(key.as_str()) {
            None => tally.missing.push(value),
            Some(meta) if meta.last_modified >= tick => {
                tally.fresh += 1;
                tally.newest = tally.newest.max(Some(meta.last_modified));
            }
            Some(_) => tally.stale.push(value),
        }
    }
    tally
}

/// `set s3://b/p/2026-06-05/: 497 of 500 keys written since the tick (1 page); 3 missing:
/// AAPL, MSFT, TSLA; 0 stale`.
fn summary(url: &S3Url<'_>, tally: &Tally<'_>, total: usize, pages: u32) -> String {
    let mut text = format!(
        "set {url}: {} of {total} keys written since the tick ({pages} page{})",
        tally.fresh,
        crate::text::plural(pages as usize)
    );
    for (what, values) in [("missing", &tally.missing), ("stale", &tally.stale)] {
        if !values.is_empty() {
            let _ = write!(text, "; {} {what}: {}", values.len(), named(values));
        }
    }
    text
}

/// `a, b, c` or the first [`NAMED_IN_REASON`] and `and N more`.
fn named(values: &[&str]) -> String {
    let shown = values.len().min(NAMED_IN_REASON);
    let mut text = values[..shown].join(", ");
    if values.len() > shown {
        let _ = write!(text, " and {} more", values.len() - shown);
    }
    text
}

#[cfg(test)]
mod tests;
