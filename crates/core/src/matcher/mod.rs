//! From an object S3 says was created (bucket + key) back to the registry's artifacts and the
//! cycle the key belongs to: what an "Object Created" event is about.
//!
//! A pass goes from an artifact to its key (render the template for the cycle); an event goes
//! the other way. The [`Matcher`] is compiled once per registry: per bucket, every template
//! (canonical and recovery) is indexed by its longer fixed end, its literal prefix or its
//! literal suffix ([`KeyTemplate::fixed_prefix`](crate::template::KeyTemplate::fixed_prefix), [`KeyTemplate::fixed_suffix`](crate::template::KeyTemplate::fixed_suffix); a pointer's
//! whole key is both). A key is looked up by each distinct indexed length of its bucket (a
//! handful of hash lookups of short strings), the few candidates are filtered by both fixed
//! ends, and only then is each candidate's cycle at `now` computed and its key rendered exactly
//! as a pass renders it ([`ResolvedKeys::resolve`]): a match is never a guess from the key's
//! shape. A key that matches nothing costs the lookups only; a million artifacts cost one
//! index entry each (BENCHMARKS.md has the µs per event).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::cadence::Cycle;
use crate::classify::{ResolvedKeys, has_content_checks};
use crate::registry::{ArtifactSpec, Registry, RegistryEntry};

/// Which of an artifact's templates rendered the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// `s3_key_template`.
    Canonical,
    /// `recovery_key_template`.
    Recovery,
}

/// The cycle a matched key belongs to, judged at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CycleOfKey {
    /// The artifact's cycle at `now` renders this key (a pointer's key is always current).
    Current(Cycle),
    /// The cycle before it does: a late event, or an object written for a cycle already over.
    Previous(String),
    /// Neither does: the key has the template's fixed ends but is another cycle's (older,
    /// ahead of time) or no cycle's at all.
    Other,
}

/// One artifact a key belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMatch<'r> {
    pub spec: &'r ArtifactSpec,
    pub kind: KeyKind,
    pub cycle: CycleOfKey,
}

/// A template's place in the index: the entry's index in `registry.entries` and which key.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    entry: u32,
    kind: KeyKind,
}

/// One bucket's templates, by fixed prefix and by fixed suffix.
#[derive(Debug, Default)]
struct BucketIndex {
    by_prefix: HashMap<Box<str>, Vec<Candidate>>,
    by_suffix: HashMap<Box<str>, Vec<Candidate>>,
    /// The distinct lengths of the keys of `by_prefix` and `by_suffix`, ascending.
    prefix_lengths: Vec<usize>,
    suffix_lengths: Vec<usize>,
}

/// Whether an S3 "Object Created" event can tell that `spec` landed in a cycle: what
/// [`Matcher::new`] indexes. Not an `off_cycle` artifact (the newest object of any cycle, which
/// a pass lists), a set (one member completes nothing; its listing does) nor an artifact with
/// content checks (its verdict needs the size and ETag a probe compares with the ledger).
pub fn events_tell_landing(spec: &ArtifactSpec) -> bool {
    spec.off_cycle().is_none() && !spec.is_set() && !has_content_checks(spec)
}

/// The registry's templates compiled for matching keys back to artifacts (module docs).
#[derive(Debug, Default)]
pub struct Matcher {
    buckets: HashMap<Arc<str>, BucketIndex>,
    templates: usize,
}

impl Matcher {
    /// Compiles the valid artifacts of `registry` (invalid entries have no key to match).
    /// Artifacts judged `off_cycle` are left out: their freshness is the newest object of any
    /// cycle, which a pass lists; an event cannot settle it. So are sets (`partitions:`: one
    /// member's object does not complete the set, its listing does) and artifacts with
    /// content checks (their verdict needs the size and ETag the pass's probe compares with
    /// the ledger's memory: an event marking them fresh would skip that judgement).
    pub fn new(registry: &Registry) -> Matcher {
        let mut matcher = Matcher::default();
        for (index, entry) in registry.entries.iter().enumerate() {
            let RegistryEntry::Valid(spec) = entry else {
                continue;
            };
            if !events_tell_landing(spec) {
                continue;
            }
            let entry = u32::try_from(index).expect("a registry holds fewer than 2^32 entries");
            let bucket = matcher.buckets.entry(spec.s3_bucket.clone()).or_default();
            bucket.add(
                &spec.s3_key_template,
                Candidate {
                    entry,
                    kind: KeyKind::Canonical,
                },
            );
            matcher.templates += 1;
            if let Some(recovery) = spec.recovery_key_template() {
                bucket.add(
                    recovery,
                    Candidate {
                        entry,
                        kind: KeyKind::Recovery,
                    },
                );
                matcher.templates += 1;
            }
        }
        for bucket in matcher.buckets.values_mut() {
            bucket.finish();
        }
        matcher
    }

    /// Whether any artifact of the registry lives in `bucket`.
    pub fn knows_bucket(&self, bucket: &str) -> bool {
        self.buckets.contains_key(bucket)
    }

    /// How many templates are indexed.
    pub fn templates(&self) -> usize {
        self.templates
    }

    /// Every artifact of `registry` (the one compiled) whose template renders `key` for its
    /// current or previous cycle at `now`; when none does, those whose templates have the
    /// key's fixed ends ([`CycleOfKey::Other`]). Empty when nothing matches.
    pub fn match_key<'r>(
        &self,
        registry: &'r Registry,
        bucket: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> Vec<KeyMatch<'r>> {
        let Some(index) = self.buckets.get(bucket) else {
            return Vec::new();
        };
        let mut matches: Vec<KeyMatch<'r>> = Vec::new();
        for candidate in index.candidates(key) {
            let Some(RegistryEntry::Valid(spec)) = registry.entries.get(candidate.entry as usize)
            else {
                continue;
            };
            let template = match candidate.kind {
                KeyKind::Canonical => &spec.s3_key_template,
                KeyKind::Recovery => match spec.recovery_key_template() {
                    Some(t) => t,
                    None => continue,
                },
            };
            let has_ends = if template.is_pointer() {
                *template.fixed_prefix() == *key
            } else {
                has_fixed_ends(&template.fixed_prefix(), &template.fixed_suffix(), key)
            };
            if !has_ends {
                continue;
            }
            let cycle = cycle_of_key(registry, spec, candidate.kind, key, now);
            matches.push(KeyMatch {
                spec,
                kind: candidate.kind,
                cycle,
            });
        }
        // A template that merely has the key's fixed ends (the canonical one of a recovery
        // key under the same directory) says nothing once another template renders the key.
        if matches.iter().any(|m| m.cycle != CycleOfKey::Other) {
            matches.retain(|m| m.cycle != CycleOfKey::Other);
        }
        matches
    }
}

impl BucketIndex {
    /// Indexes `template` by its longer fixed end (the prefix on a tie).
    fn add(&mut self, template: &crate::template::KeyTemplate, candidate: Candidate) {
        let prefix = template.fixed_prefix();
        let suffix = template.fixed_suffix();
        if suffix.len() > prefix.len() {
            self.by_suffix
                .entry(suffix.into_boxed_str())
                .or_default()
                .push(candidate);
        } else {
            self.by_prefix
                .entry(prefix.into_owned().into_boxed_str())
                .or_default()
                .push(candidate);
        }
    }

    fn finish(&mut self) {
        let lengths = |map: &HashMap<Box<str>, Vec<Candidate>>| {
            let mut lengths: Vec<usize> = map.keys().map(|k| k.len()).collect();
            lengths.sort_unstable();
            lengths.dedup();
            lengths
        };
        self.prefix_lengths = lengths(&self.by_prefix);
        self.suffix_lengths = lengths(&self.by_suffix);
        for list in self
            .by_prefix
            .values_mut()
            .chain(self.by_suffix.values_mut())
        {
            list.shrink_to_fit();
        }
    }

    /// The templates one of whose indexed ends `key` has.
    fn candidates<'i>(&'i self, key: &'i str) -> impl Iterator<Item = Candidate> + 'i {
        let prefixes = (self.prefix_lengths.iter())
            .take_while(move |&&len| len <= key.len())
            .filter_map(move |&len| key.get(..len))
            .filter_map(|prefix| self.by_prefix.get(prefix));
        let suffixes = (self.suffix_lengths.iter())
            .take_while(move |&&len| len <= key.len())
            .filter_map(move |&len| key.get(key.len() - len..))
            .filter_map(|suffix| self.by_suffix.get(suffix));
        prefixes.chain(suffixes).flatten().copied()
    }
}

/// `key` starts with `prefix` and ends with `suffix`, the two not overlapping (a template with
/// a placeholder renders something between them).
fn has_fixed_ends(prefix: &str, suffix: &str, key: &str) -> bool {
    key.len() >= prefix.len() + suffix.len() && key.starts_with(prefix) && key.ends_with(suffix)
}

/// The cycle of `spec` whose `kind` key is `key`: the one at `now`, else the one before.
fn cycle_of_key(
    registry: &Registry,
    spec: &ArtifactSpec,
    kind: KeyKind,
    key: &str,
    now: DateTime<Utc>,
) -> CycleOfKey {
    let renders = |cycle: &Cycle| {
        let keys = ResolvedKeys::resolve(spec, cycle);
        match kind {
            KeyKind::Canonical => keys.canonical_key == key,
            KeyKind::Recovery => keys.recovery_key.as_deref() == Some(key),
        }
    };
    let Some(current) = spec.cycle_at(now, &registry.calendar) else {
        return CycleOfKey::Other;
    };
    if renders(&current) {
        return CycleOfKey::Current(current);
    }
    let previous = (current.tick.checked_sub_signed(Duration::seconds(1)))
        .and_then(|before| spec.cycle_at(before, &registry.calendar));
    match previous {
        Some(previous) if renders(&previous) => CycleOfKey::Previous(previous.label),
        _ => CycleOfKey::Other,
    }
}

#[cfg(test)]
mod tests;
