//! The history's probes planned together, with the pass's listing planner (`probe::plan`).
//!
//! The cycles a scan must probe cluster by directory: one day's misses of every artifact
//! written under that date, an hourly feed's newest cycle under its hour, all rechecked on
//! the same day because they were due at the same time. One ListObjectsV2 page answers a
//! directory's keys where it costs less than their HEADs (the pass's rule: 13 keys or more,
//! at most `n / 12.5` pages); the keys no listing answered (too few in their directory, a
//! capped, denied or failed listing) are HEADed one by one as before (`scan::probe_cycle`).

use super::cell::Seen;
use crate::classify::ResolvedKeys;
use crate::probe::{self, ListedAnswer, ProbeKeys};
use crate::registry::ArtifactSpec;

/// What the listings answered, per probe: the canonical key at position `2 * i`, the recovery
/// key at `2 * i + 1`.
#[derive(Debug, Default)]
pub struct Listed {
    answers: Vec<Option<ListedAnswer>>,
    /// LIST requests made.
    pub pages: u64,
}

impl Listed {
    /// The `probe`-th probe's canonical key, as a listing saw it (`None`: to be HEADed).
    pub fn canonical(&self, probe: usize) -> Option<Seen> {
        self.seen(2 * probe)
    }

    /// The `probe`-th probe's recovery key, as a listing saw it (`None`: to be HEADed).
    pub fn recovery(&self, probe: usize) -> Option<Seen> {
        self.seen(2 * probe + 1)
    }

    fn seen(&self, position: usize) -> Option<Seen> {
        self.answers.get(position).copied().flatten().map(Ok)
    }
}

/// Lists what pays among the keys of `probes` (each probed cycle's artifact and keys), at
/// most `max_pages` pages a listing (0: none), none started at or after `deadline`.
pub async fn list_probes<'a, S: crate::store::ObjectStore>(
    store: &S,
    probes: impl ExactSizeIterator<Item = (&'a ArtifactSpec, &'a ResolvedKeys)>,
    max_pages: u32,
    deadline: Option<tokio::time::Instant>,
) -> Listed {
    if max_pages == 0 || probes.len() < probe::plan::MIN_KEYS_PER_LISTING {
        return Listed::default();
    }
    let mut keys = ProbeKeys::with_capacity(2 * probes.len(), 0);
    for (spec, resolved) in probes {
        // A set lists its own prefix (`set_cycles`).
        if spec.is_set() {
            keys.push_none();
            keys.push_none();
            continue;
        }
        keys.push(&spec.s3_bucket, |text| {
            text.push_str(&resolved.canonical_key);
            true
        });
        match &resolved.recovery_key {
            Some(recovery) => keys.push(&spec.s3_bucket, |text| {
                text.push_str(recovery);
                true
            }),
            None => keys.push_none(),
        }
    }
    let (answers, figures) = probe::list_what_pays(store, &keys, max_pages, deadline).await;
    Listed {
        answers,
        pages: figures.map_or(0, |f| f.pages),
    }
}
