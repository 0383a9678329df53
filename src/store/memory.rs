//! Objects held in memory: the store of the in-process handler tests and of the benchmarks
//! (the core's cost without any I/O).
//!
//! It answers as S3 does where the pass can tell: a bucket exists once it is made (or an
//! object is inserted into it); a HEAD or GET in a bucket that does not exist is
//! [`StoreError::NoSuchBucket`], a LIST there is empty; every write gets a new ETag, and the
//! conditional PUTs compare and write under one lock, so of two racing writers exactly one
//! wins. LastModified is what [`MemoryStore::insert`] was given, or the clock's now for a
//! PUT; an object's size is its body's.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use crate::object::ContentTag;

use super::{
    ConditionalPut, FetchedObject, ListPage, ListedObject, ObjectMeta, ObjectStore, S3Url,
    StoreError, WriteCondition,
};

/// Buckets of objects in memory, keys in order (for LIST).
#[derive(Debug, Default)]
pub struct MemoryStore {
    buckets: RwLock<HashMap<String, BTreeMap<String, Object>>>,
    /// The last ETag given out: each write gets the next.
    versions: AtomicU64,
    /// `false`: LIST fails as on a store that cannot list (a role without `s3:ListBucket`),
    /// so every key is HEADed.
    lists: bool,
}

#[derive(Debug)]
struct Object {
    body: Vec<u8>,
    last_modified: DateTime<Utc>,
    version: u64,
}

impl Object {
    fn meta(&self) -> ObjectMeta {
        ObjectMeta {
            last_modified: self.last_modified,
            size: Some(self.body.len() as u64),
            etag: Some(self.content_tag()),
        }
    }

    /// As S3's ETag of a single-part upload (its bytes' MD5), the same bytes give the same
    /// tag: FNV-1a of the body, so `require_new_content` sees a rewrite of equal bytes.
    fn content_tag(&self) -> ContentTag {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in &self.body {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        ContentTag::from_bits(hash)
    }

    fn etag(&self) -> String {
        format!("\"{:016x}\"", self.version)
    }
}

impl MemoryStore {
    /// An empty store that lists.
    pub fn new() -> Self {
        MemoryStore {
            lists: true,
            ..MemoryStore::default()
        }
    }

    /// A store holding `objects` (empty bodies, LastModified from their meta) in `bucket`.
    pub fn with_objects(
        bucket: &str,
        objects: impl IntoIterator<Item = (String, ObjectMeta)>,
    ) -> Self {
        let store = MemoryStore::new();
        let kept = objects
            .into_iter()
            .map(|(key, meta)| {
                let object = Object {
                    body: Vec::new(),
                    last_modified: meta.last_modified,
                    version: store.next_version(),
                };
                (key, object)
            })
            .collect();
        store.write().insert(bucket.to_string(), kept);
        store
    }

    /// The same store, answering every LIST with an error (every key is HEADed then).
    pub fn without_listing(self) -> Self {
        MemoryStore {
            lists: false,
            ..self
        }
    }

    /// Makes `bucket` (empty) unless it exists.
    pub fn create_bucket(&self, bucket: &str) {
        self.write().entry(bucket.to_string()).or_default();
    }

    /// Puts an object with the LastModified given (its bucket made when missing).
    pub fn insert(
        &self,
        bucket: &str,
        key: &str,
        body: impl Into<Vec<u8>>,
        last_modified: DateTime<Utc>,
    ) {
        let object = Object {
            body: body.into(),
            last_modified,
            version: self.next_version(),
        };
        self.write()
            .entry(bucket.to_string())
            .or_default()
            .insert(key.to_string(), object);
    }

    /// An object's body, when it exists.
    pub fn body(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let buckets = self.read();
        Some(buckets.get(bucket)?.get(key)?.body.clone())
    }

    /// The keys of `bucket`, in order (none when it does not exist).
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let buckets = self.read();
        buckets
            .get(bucket)
            .map(|objects| objects.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn next_version(&self) -> u64 {
        self.versions.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// A panic while the lock was held cannot leave a map half changed (every change is one
    /// insert or remove), so a poisoned lock is used as it is.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, BTreeMap<String, Object>>> {
        self.buckets.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, BTreeMap<String, Object>>> {
        self.buckets.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `body` at `bucket`/`key` when `allowed` says so of what is there now: the check
    /// and the write under one lock.
    fn put_when(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        allowed: impl FnOnce(Option<&Object>) -> bool,
    ) -> Result<bool, StoreError> {
        Ok(self.put_tagged(bucket, key, body, allowed)?.is_some())
    }

    /// Writes `body` when `allowed`, answering the new object's ETag (`None`: not allowed).
    fn put_tagged(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        allowed: impl FnOnce(Option<&Object>) -> bool,
    ) -> Result<Option<String>, StoreError> {
        let version = self.next_version();
        let mut buckets = self.write();
        let objects = buckets
            .get_mut(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?;
        if !allowed(objects.get(key)) {
            return Ok(None);
        }
        let object = Object {
            body,
            last_modified: Utc::now(),
            version,
        };
        let etag = object.etag();
        objects.insert(key.to_string(), object);
        Ok(Some(etag))
    }
}

fn no_such_bucket(bucket: &str) -> StoreError {
    StoreError::NoSuchBucket {
        bucket: bucket.to_string(),
    }
}

impl ObjectStore for MemoryStore {
    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        let buckets = self.read();
        let objects = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        Ok(objects.get(key).map(Object::meta))
    }

    async fn head_etag(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectMeta, Option<String>)>, StoreError> {
        let buckets = self.read();
        let objects = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        Ok(objects.get(key).map(|o| (o.meta(), Some(o.etag()))))
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
        let buckets = self.read();
        let objects = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        match objects.get(key) {
            Some(object) => Ok(FetchedObject {
                body: object.body.clone(),
                etag: Some(object.etag()),
            }),
            None => Err(StoreError::NotFound {
                bucket: bucket.to_string(),
                key: key.to_string(),
            }),
        }
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation: Option<&str>,
        max_keys: u16,
    ) -> Result<ListPage, StoreError> {
        if !self.lists {
            let error = format!("{}: this store cannot list", S3Url(bucket, prefix));
            return Err(StoreError::Other(error));
        }
        let buckets = self.read();
        let Some(objects) = buckets.get(bucket) else {
            return Ok(ListPage::default());
        };
        let after = continuation.unwrap_or(prefix);
        let mut page = ListPage {
            objects: (objects.range::<str, _>((Bound::Included(after), Bound::Unbounded)))
                .filter(|(key, _)| continuation.is_none_or(|c| key.as_str() > c))
                .take_while(|(key, _)| key.starts_with(prefix))
                .take(usize::from(max_keys) + 1)
                .map(|(key, object)| ListedObject {
                    key: key.clone(),
                    meta: object.meta(),
                })
                .collect(),
            continuation: None,
        };
        if page.objects.len() > usize::from(max_keys) {
            page.objects.truncate(usize::from(max_keys));
            page.continuation = page.objects.last().map(|o| o.key.clone());
        }
        Ok(page)
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        _content_type: &str,
    ) -> Result<(), StoreError> {
        self.put_when(bucket, key, body, |_| true).map(drop)
    }

    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        _content_type: &str,
    ) -> Result<bool, StoreError> {
        self.put_when(bucket, key, body, |there| there.is_none())
    }

    async fn put_if_match(
        &self,
        bucket: &str,
        key: &str,
        etag: &str,
        body: Vec<u8>,
        _content_type: &str,
    ) -> Result<bool, StoreError> {
        self.put_when(bucket, key, body, |there| {
            there.is_some_and(|o| o.etag() == etag)
        })
    }

    async fn put_conditional(
        &self,
        bucket: &str,
        key: &str,
        condition: WriteCondition<'_>,
        body: Vec<u8>,
        _content_type: &str,
    ) -> Result<ConditionalPut, StoreError> {
        let written = self.put_tagged(bucket, key, body, |there| match condition {
            WriteCondition::Absent => there.is_none(),
            WriteCondition::Matches(etag) => there.is_some_and(|o| o.etag() == etag),
        })?;
        Ok(match written {
            Some(etag) => ConditionalPut::Written { etag: Some(etag) },
            None => ConditionalPut::Lost,
        })
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        let mut buckets = self.write();
        let objects = buckets
            .get_mut(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?;
        objects.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::WriteCondition;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn reads_writes_and_conditional_writes_answer_as_s3_does() {
        let store = MemoryStore::new();
        let err = store.head("b", "k").await.unwrap_err();
        assert!(matches!(err, StoreError::NoSuchBucket { .. }), "{err}");
        assert!(
            store
                .put("b", "k", b"x".to_vec(), "text/plain")
                .await
                .is_err()
        );
        store.create_bucket("b");
        assert_eq!(store.head("b", "k").await.unwrap(), None);
        let err = store.get("b", "k").await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");

        store.insert("b", "k", "old", t("2026-06-01T00:00:00Z"));
        let meta = store.head("b", "k").await.unwrap().unwrap();
        assert_eq!(meta.last_modified, t("2026-06-01T00:00:00Z"));
        assert_eq!(meta.size, Some(3));
        let read = store.get("b", "k").await.unwrap();
        let etag = read.etag.clone().unwrap();
        let (_, head_etag) = store.head_etag("b", "k").await.unwrap().unwrap();
        assert_eq!(head_etag.as_deref(), Some(etag.as_str()));

        assert!(
            !store
                .put_if_absent("b", "k", b"new".to_vec(), "")
                .await
                .unwrap()
        );
        assert!(
            store
                .put_if_absent("b", "k2", b"one".to_vec(), "")
                .await
                .unwrap()
        );
        assert!(
            !store
                .put_if_match("b", "k", "\"nope\"", b"new".to_vec(), "")
                .await
                .unwrap()
        );
        assert!(
            store
                .put_if_match("b", "k", &etag, b"new".to_vec(), "")
                .await
                .unwrap()
        );
        // The write changed the ETag: the same condition fails a second time.
        assert!(
            !store
                .put_if_match("b", "k", &etag, b"again".to_vec(), "")
                .await
                .unwrap()
        );
        assert_eq!(store.body("b", "k").unwrap(), b"new");
        assert!(
            !store
                .put_if_match("b", "gone", &etag, b"x".to_vec(), "")
                .await
                .unwrap()
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("body");
        std::fs::write(&file, "from a file").unwrap();
        let absent = WriteCondition::Absent;
        assert!(
            !store
                .put_file_if("b", "k", &file, absent, "")
                .await
                .unwrap()
        );
        assert!(
            store
                .put_file_if("b", "k3", &file, absent, "")
                .await
                .unwrap()
        );
        let to = dir.path().join("copy");
        let copied_etag = store.get_to_file("b", "k3", &to).await.unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), b"from a file");
        assert_eq!(copied_etag, store.get("b", "k3").await.unwrap().etag);

        store.delete("b", "k3").await.unwrap();
        store.delete("b", "k3").await.unwrap();
        assert_eq!(store.keys("b"), ["k", "k2"]);
    }

    #[tokio::test]
    async fn lists_pages_in_key_order_under_a_prefix() {
        let at = t("2026-06-01T00:00:00Z");
        let meta = ObjectMeta {
            last_modified: at,
            size: Some(0),
            etag: None,
        };
        let keys = ["a/1", "a/2", "a/3", "ab", "b/1"];
        let store = MemoryStore::with_objects("b", keys.map(|k| (k.to_string(), meta)));
        let page = store.list_page("b", "a/", None, 2).await.unwrap();
        let listed: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(listed, ["a/1", "a/2"]);
        let listed_meta = page.objects[0].meta;
        assert_eq!(
            (listed_meta.last_modified, listed_meta.size),
            (at, meta.size)
        );
        let next = page.continuation.as_deref();
        let page = store.list_page("b", "a/", next, 2).await.unwrap();
        let listed: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(listed, ["a/3"]);
        assert_eq!(page.continuation, None);
        let page = store.list_page("nobucket", "a/", None, 2).await.unwrap();
        assert!(page.objects.is_empty());
        let store = store.without_listing();
        assert!(store.list_page("b", "a/", None, 2).await.is_err());
        let head = store.head("b", "ab").await.unwrap();
        assert_eq!(head.map(|m| m.last_modified), Some(at));
    }
}
