//! The registry and its compiled matcher, kept by a warm container between event invocations
//! (docs/lambda.md#the-registry-between-events): parsing the registry and compiling the
//! matcher take seconds at a million artifacts, and an event batch comes every few seconds
//! in a burst. Kept under the registry object's ETag: an invocation HEADs the registry and
//! reuses what it kept when the ETag is the same (one HEAD, no parse); otherwise it GETs,
//! parses and compiles, and keeps that under the GET's ETag. A new container makes one GET.
//!
//! The HEAD itself is made at most once per [`RECHECK_AFTER`] (5 minutes) per container: an
//! invocation within that time of the last read or HEAD uses what is kept with no request at
//! all (`trusted`). So an edit of the registry reaches event invocations at most 5 minutes
//! late (passes, which read it every time, see it at once), and in that time an event is
//! matched as the old registry says: an object of an artifact just added is ignored
//! (`no_artifact`) and its passes probe it, as after a lost event; one of an artifact just
//! removed may mark a ledger entry no pass reads; one at a key just moved marks the old key's
//! fingerprint, which no pass trusts for the new key (it probes it). A pass also drops what is
//! kept, so the first event invocation after any pass reads the registry again.
//!
//! Bounded: one registry at a time (the old one is dropped before a changed one is read), and
//! a pass or a history run drops it first ([`RegistryCache::forget`]), so a pass at a million
//! artifacts, which needs nearly all of the 512 MB, never holds it beside its own.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use crate::matcher::Matcher;
use crate::registry_source::{self, LoadedRegistry, RegistryLoadError, RegistrySource};
use crate::store::ObjectStore;

/// A registry as read, with its matcher.
pub struct CompiledRegistry {
    pub loaded: LoadedRegistry,
    pub matcher: Matcher,
}

/// How long a kept registry is used without asking whether it changed (module docs).
pub const RECHECK_AFTER: Duration = Duration::minutes(5);

/// What [`RegistryCache::load`] did: `trusted` (read or HEADed less than [`RECHECK_AFTER`]
/// ago: no request), `kept` (the ETag unchanged: one HEAD), `read` (a GET, parsed and
/// compiled: a new container, or a changed registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryUse {
    Trusted,
    Kept,
    Read,
}

impl RegistryUse {
    pub fn name(self) -> &'static str {
        match self {
            RegistryUse::Trusted => "trusted",
            RegistryUse::Kept => "kept",
            RegistryUse::Read => "read",
        }
    }
}

#[derive(Default)]
pub struct RegistryCache(Mutex<Option<Kept>>);

struct Kept {
    bucket: String,
    key: String,
    etag: String,
    compiled: Arc<CompiledRegistry>,
    /// When the ETag was last known to be the registry's (the GET, or a HEAD since).
    checked_at: DateTime<Utc>,
}

impl RegistryCache {
    /// The registry at `bucket`/`key` and its matcher at `now`, kept or read (module docs).
    pub async fn load<S: ObjectStore>(
        &self,
        store: &S,
        (bucket, key): (&str, &str),
        now: DateTime<Utc>,
    ) -> Result<(Arc<CompiledRegistry>, RegistryUse), RegistryLoadError> {
        if let Some((compiled, etag, checked_at)) = self.kept(bucket, key) {
            let since = now - checked_at;
            if since >= Duration::zero() && since < RECHECK_AFTER {
                return Ok((compiled, RegistryUse::Trusted));
            }
            let unchanged = match store.head_etag(bucket, key).await {
                Ok(Some((_, Some(head)))) => head == etag,
                _ => false,
            };
            if unchanged {
                self.checked(now);
                return Ok((compiled, RegistryUse::Kept));
            }
        }
        self.forget();
        let source = RegistrySource::Store {
            bucket: bucket.to_string(),
            key: key.to_string(),
        };
        let loaded = registry_source::load(store, &source).await?;
        let matcher = Matcher::new(&loaded.registry);
        let etag = loaded.etag.clone();
        let compiled = Arc::new(CompiledRegistry { loaded, matcher });
        if let Some(etag) = etag {
            *self.0.lock().expect("not poisoned") = Some(Kept {
                bucket: bucket.to_string(),
                key: key.to_string(),
                etag,
                compiled: Arc::clone(&compiled),
                checked_at: now,
            });
        }
        Ok((compiled, RegistryUse::Read))
    }

    /// What is kept for `bucket`/`key`, with its ETag and when that was last confirmed.
    fn kept(
        &self,
        bucket: &str,
        key: &str,
    ) -> Option<(Arc<CompiledRegistry>, String, DateTime<Utc>)> {
        let kept = self.0.lock().expect("not poisoned");
        (kept.as_ref())
            .filter(|k| k.bucket == bucket && k.key == key)
            .map(|k| (Arc::clone(&k.compiled), k.etag.clone(), k.checked_at))
    }

    /// A HEAD at `now` confirmed the kept ETag.
    fn checked(&self, now: DateTime<Utc>) {
        if let Some(kept) = self.0.lock().expect("not poisoned").as_mut() {
            kept.checked_at = now;
        }
    }

    /// Drops what is kept (a pass or a history run is about to read its own registry).
    pub fn forget(&self) {
        *self.0.lock().expect("not poisoned") = None;
    }
}
