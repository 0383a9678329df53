//! Counting the requests a pass makes, by S3 request class.
//!
//! At scale the monitor's bill is S3 requests, not compute: HEAD and GET are priced per 1,000
//! at one rate, LIST and PUT (and a conditional PUT) at 12.5 times it, DELETE is free. The
//! pass wraps its store in a [`CountingStore`] so the heartbeat and the pass log can say what
//! every part of the pass (probes, dedup markers, the ledger, the outputs) asked of S3, and
//! what that comes to per day.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::report::{PASSES_PER_DAY, RequestCounts, RequestFigures};

use super::{
    CappedGet, ConditionalPut, FetchedObject, ListPage, ObjectMeta, ObjectStore, StoreError,
    WriteCondition,
};

/// A store that counts what passes through it to the store it wraps.
pub struct CountingStore<'a, S> {
    inner: &'a S,
    head: AtomicU64,
    list: AtomicU64,
    get: AtomicU64,
    put: AtomicU64,
    delete: AtomicU64,
}

impl<'a, S> CountingStore<'a, S> {
    pub fn new(inner: &'a S) -> Self {
        CountingStore {
            inner,
            head: AtomicU64::new(0),
            list: AtomicU64::new(0),
            get: AtomicU64::new(0),
            put: AtomicU64::new(0),
            delete: AtomicU64::new(0),
        }
    }

    /// What was asked so far.
    pub fn counts(&self) -> RequestCounts {
        RequestCounts {
            head: self.head.load(Ordering::Relaxed),
            list: self.list.load(Ordering::Relaxed),
            get: self.get.load(Ordering::Relaxed),
            put: self.put.load(Ordering::Relaxed),
            delete: self.delete.load(Ordering::Relaxed),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl<S: ObjectStore> ObjectStore for CountingStore<'_, S> {
    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        bump(&self.head);
        self.inner.head(bucket, key).await
    }

    async fn head_etag(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectMeta, Option<String>)>, StoreError> {
        bump(&self.head);
        self.inner.head_etag(bucket, key).await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
        bump(&self.get);
        self.inner.get(bucket, key).await
    }

    async fn get_at_most(
        &self,
        bucket: &str,
        key: &str,
        max_bytes: u64,
    ) -> Result<CappedGet, StoreError> {
        bump(&self.get);
        self.inner.get_at_most(bucket, key, max_bytes).await
    }

    async fn get_to_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
    ) -> Result<Option<String>, StoreError> {
        bump(&self.get);
        self.inner.get_to_file(bucket, key, path).await
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation: Option<&str>,
        max_keys: u16,
    ) -> Result<ListPage, StoreError> {
        bump(&self.list);
        self.inner
            .list_page(bucket, prefix, continuation, max_keys)
            .await
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError> {
        bump(&self.put);
        self.inner.put(bucket, key, body, content_type).await
    }

    async fn put_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        content_type: &str,
    ) -> Result<(), StoreError> {
        bump(&self.put);
        self.inner.put_file(bucket, key, path, content_type).await
    }

    /// Counted as PUTs, as S3 prices them: the start, each part and the completion.
    async fn start_upload(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
    ) -> Result<Option<String>, StoreError> {
        let started = self.inner.start_upload(bucket, key, content_type).await;
        if matches!(started, Ok(Some(_)) | Err(_)) {
            bump(&self.put);
        }
        started
    }

    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: i32,
        body: Vec<u8>,
    ) -> Result<String, StoreError> {
        bump(&self.put);
        (self.inner)
            .upload_part(bucket, key, upload_id, part_number, body)
            .await
    }

    async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        etags: Vec<String>,
        bytes: u64,
    ) -> Result<(), StoreError> {
        bump(&self.put);
        (self.inner)
            .complete_upload(bucket, key, upload_id, etags, bytes)
            .await
    }

    async fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StoreError> {
        bump(&self.delete);
        self.inner.abort_upload(bucket, key, upload_id).await
    }

    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        bump(&self.put);
        self.inner
            .put_if_absent(bucket, key, body, content_type)
            .await
    }

    async fn put_if_match(
        &self,
        bucket: &str,
        key: &str,
        etag: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        bump(&self.put);
        self.inner
            .put_if_match(bucket, key, etag, body, content_type)
            .await
    }

    async fn put_conditional(
        &self,
        bucket: &str,
        key: &str,
        condition: WriteCondition<'_>,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<ConditionalPut, StoreError> {
        bump(&self.put);
        self.inner
            .put_conditional(bucket, key, condition, body, content_type)
            .await
    }

    async fn put_file_if(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        condition: WriteCondition<'_>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        bump(&self.put);
        self.inner
            .put_file_if(bucket, key, path, condition, content_type)
            .await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        bump(&self.delete);
        self.inner.delete(bucket, key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::local::LocalDirStore;

    #[tokio::test]
    async fn every_request_is_counted_by_class_even_when_it_fails() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        let local = LocalDirStore::new(dir.path());
        let store = CountingStore::new(&local);
        store
            .put("b", "k", b"x".to_vec(), "text/plain")
            .await
            .unwrap();
        assert!(store.head("b", "k").await.unwrap().is_some());
        assert!(store.head("b", "absent").await.unwrap().is_none());
        assert!(store.get("b", "absent").await.is_err());
        store.list_page("b", "", None, 1000).await.unwrap();
        let staged = dir.path().join("staged");
        store.get_to_file("b", "k", &staged).await.unwrap();
        let absent = crate::store::WriteCondition::Absent;
        let created = store.put_file_if("b", "k2", &staged, absent, "text/plain");
        assert!(created.await.unwrap());
        store.delete("b", "k").await.unwrap();
        let counts = store.counts();
        assert_eq!(
            counts,
            RequestCounts {
                head: 2,
                list: 1,
                get: 2,
                put: 2,
                delete: 1
            }
        );
        assert_eq!(counts.total(), 8);
        assert_eq!(RequestFigures::from(counts).projected_per_day, 768);
    }
}
