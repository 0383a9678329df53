//! The registry and its compiled matcher, kept by a warm container between event invocations
//! (docs/lambda.md#the-registry-between-events): parsing the registry and compiling the
//! matcher take seconds at a million artifacts, and an event batch comes every few seconds
//! in a burst. Kept under the registry object's ETag: an invocation HEADs the registry and
//! reuses what it kept when the ETag is the same (one HEAD, no parse); otherwise it GETs,
//! parses and compiles, and keeps that under the GET's ETag. A new container makes one GET.
//!
//! Bounded: one registry at a time (the old one is dropped before a changed one is read), and
//! a pass or a history run drops it first ([`RegistryCache::forget`]), so a pass at a million
//! artifacts, which needs nearly all of the 512 MB, never holds it beside its own.

use std::sync::{Arc, Mutex};

use crate::matcher::Matcher;
use crate::registry_source::{self, LoadedRegistry, RegistryLoadError, RegistrySource};
use crate::store::ObjectStore;

/// A registry as read, with its matcher.
pub struct CompiledRegistry {
    pub loaded: LoadedRegistry,
    pub matcher: Matcher,
}

/// What [`RegistryCache::load`] did: `kept` (the ETag unchanged: one HEAD), `read` (a GET,
/// parsed and compiled: a new container, or a changed registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryUse {
    Kept,
    Read,
}

impl RegistryUse {
    pub fn name(self) -> &'static str {
        match self {
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
}

impl RegistryCache {
    /// The registry at `bucket`/`key` and its matcher, kept or read (module docs).
    pub async fn load<S: ObjectStore>(
        &self,
        store: &S,
        bucket: &str,
        key: &str,
    ) -> Result<(Arc<CompiledRegistry>, RegistryUse), RegistryLoadError> {
        if let Some(kept) = self.kept(bucket, key) {
            let unchanged = match store.head_etag(bucket, key).await {
                Ok(Some((_, Some(etag)))) => etag == kept.1,
                _ => false,
            };
            if unchanged {
                return Ok((kept.0, RegistryUse::Kept));
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
            });
        }
        Ok((compiled, RegistryUse::Read))
    }

    /// What is kept for `bucket`/`key`, with its ETag.
    fn kept(&self, bucket: &str, key: &str) -> Option<(Arc<CompiledRegistry>, String)> {
        let kept = self.0.lock().expect("not poisoned");
        (kept.as_ref())
            .filter(|k| k.bucket == bucket && k.key == key)
            .map(|k| (Arc::clone(&k.compiled), k.etag.clone()))
    }

    /// Drops what is kept (a pass or a history run is about to read its own registry).
    pub fn forget(&self) {
        *self.0.lock().expect("not poisoned") = None;
    }
}
