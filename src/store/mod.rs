//! Where artifacts live: the object-store trait the pass probes through, and its errors.
//!
//! The core never talks to S3 directly. A probe is a HEAD that answers "present, with this
//! LastModified", "absent" or "could not tell, because …"; the last one must carry a reason an
//! operator can act on, since it becomes a `probe_failed` row and a critical alert.
//! Implementations: [`local::LocalDirStore`] (a directory, for `check --store` and tests),
//! [`memory::MemoryStore`] (objects in memory, for the in-process handler tests and the
//! benchmarks) and the S3 store. Listings (ListObjectsV2, one page at a time) answer for many keys under one
//! prefix; [`listing::list_prefix`] pages through one with a cap. [`counting::CountingStore`]
//! counts what a pass asks of a store, by S3 request class.

pub mod partition_list;
pub mod counting;
pub mod listing;
pub mod local;
pub mod memory;
pub mod parts;
pub mod s3;
pub mod staged;

use std::future::Future;
use std::path::Path;

pub use crate::object::{
    FetchedObject, ListPage, ListedObject, ObjectMeta, PrefixListing, S3Url, StoreError,
    WriteCondition,
};

/// What [`ObjectStore::get_at_most`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CappedGet {
    /// The whole object: its size was within the cap.
    Fetched(FetchedObject),
    /// Its size (the response's length, read before the body), over the cap: the body was not
    /// read.
    TooBig { size: u64 },
}

/// What [`ObjectStore::put_conditional`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionalPut {
    /// Written; the new object's ETag when the store answered one.
    Written { etag: Option<String> },
    /// The condition failed: another writer got there first (or the object is gone).
    Lost,
}

/// A place objects are read from and written to, addressed by bucket and key.
pub trait ObjectStore: Send + Sync {
    /// HEAD: `Ok(None)` when the key does not exist.
    fn head(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<ObjectMeta>, StoreError>> + Send;

    /// HEAD with the object's ETag, for a reader that keeps what it read while the ETag stays
    /// the same (the status page's `history.json`, docs/outputs.md#requests). One HEAD, like
    /// [`ObjectStore::head`]. A store without ETags keeps this default, whose `None` ETag
    /// makes the reader read again.
    fn head_etag(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<(ObjectMeta, Option<String>)>, StoreError>> + Send {
        async move { Ok(self.head(bucket, key).await?.map(|meta| (meta, None))) }
    }

    /// GET the whole object.
    fn get(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<FetchedObject, StoreError>> + Send;

    /// GET the object when it is at most `max_bytes` long: one GET whose response's length is
    /// read before its body, so a reader with a cap needs no HEAD first (the event outputs'
    /// `check_results.json`). This default reads the body whole through [`ObjectStore::get`]
    /// and measures it.
    fn get_at_most(
        &self,
        bucket: &str,
        key: &str,
        max_bytes: u64,
    ) -> impl Future<Output = Result<CappedGet, StoreError>> + Send {
        async move {
            let object = self.get(bucket, key).await?;
            Ok(match object.body.len() as u64 {
                size if size > max_bytes => CappedGet::TooBig { size },
                _ => CappedGet::Fetched(object),
            })
        }
    }

    /// GET the whole object into the file at `path` (replacing what it held), returning the
    /// object's ETag: a body too big to hold (the ledger at a million artifacts) goes to disk
    /// as it arrives. A failure of the file itself is [`StoreError::LocalFile`]. This default
    /// reads it whole through [`ObjectStore::get`].
    fn get_to_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        async move {
            let object = self.get(bucket, key).await?;
            tokio::fs::write(path, &object.body).await.map_err(|e| {
                StoreError::Other(format!("could not write {}: {e}", path.display()))
            })?;
            Ok(object.etag)
        }
    }

    /// LIST one page (S3's ListObjectsV2) of at most `max_keys` keys under `prefix`, in key
    /// order, resuming after `continuation` (the previous page's). A bucket that does not exist
    /// lists as empty, as its keys HEAD as absent. A store that cannot list keeps this default.
    fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        _continuation: Option<&str>,
        _max_keys: u16,
    ) -> impl Future<Output = Result<ListPage, StoreError>> + Send {
        let error = StoreError::Other(format!("{}: this store cannot list", S3Url(bucket, prefix)));
        async move { Err(error) }
    }

    /// PUT the whole object, replacing any.
    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// PUT the file at `path` as the whole object. The S3 store streams it from disk, so a
    /// large body (`check_results.json` of a big registry) never sits in memory whole; this
    /// default reads the file and calls [`ObjectStore::put`].
    fn put_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        content_type: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            let body = tokio::fs::read(path).await.map_err(|e| {
                StoreError::Other(format!("could not read {}: {e}", path.display()))
            })?;
            self.put(bucket, key, body, content_type).await
        }
    }

    /// PUT only when no object exists at the key (S3's `If-None-Match: *`): `Ok(true)` when
    /// this call created it, `Ok(false)` when one was already there. The alert dedup claim:
    /// of two passes racing for one key, exactly one gets `true`. A store that cannot write
    /// conditionally keeps this default, and its alerts go out without dedup (never dropped).
    fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        _body: Vec<u8>,
        _content_type: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let error = no_conditional_writes(bucket, key);
        async move { Err(error) }
    }

    /// PUT only when the object still has the ETag `etag` (S3's `If-Match`): `Ok(false)` when
    /// it changed or vanished since it was read. Taking over an abandoned dedup claim.
    fn put_if_match(
        &self,
        bucket: &str,
        key: &str,
        _etag: &str,
        _body: Vec<u8>,
        _content_type: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let error = no_conditional_writes(bucket, key);
        async move { Err(error) }
    }

    /// PUT the file at `path` as the whole object under `condition`, as
    /// [`ObjectStore::put_if_absent`] and [`ObjectStore::put_if_match`] do with a body in
    /// memory (`Ok(false)`: the condition failed). The S3 store streams it from disk; this
    /// default reads the file and calls one of those two.
    fn put_file_if(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        condition: WriteCondition<'_>,
        content_type: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move {
            let body = tokio::fs::read(path).await.map_err(|e| {
                StoreError::Other(format!("could not read {}: {e}", path.display()))
            })?;
            match condition {
                WriteCondition::Absent => self.put_if_absent(bucket, key, body, content_type).await,
                WriteCondition::Matches(etag) => {
                    self.put_if_match(bucket, key, etag, body, content_type)
                        .await
                }
            }
        }
    }

    /// PUT `body` under `condition`, as [`ObjectStore::put_if_absent`] and
    /// [`ObjectStore::put_if_match`] do, answering the new object's ETag when the store gives
    /// one: a writer that remembers it can make its next conditional write without a HEAD
    /// (the event outputs' `status.html`). This default gives no ETag.
    fn put_conditional(
        &self,
        bucket: &str,
        key: &str,
        condition: WriteCondition<'_>,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<ConditionalPut, StoreError>> + Send {
        async move {
            let written = match condition {
                WriteCondition::Absent => self.put_if_absent(bucket, key, body, content_type).await,
                WriteCondition::Matches(etag) => {
                    self.put_if_match(bucket, key, etag, body, content_type)
                        .await
                }
            }?;
            Ok(match written {
                true => ConditionalPut::Written { etag: None },
                false => ConditionalPut::Lost,
            })
        }
    }

    /// Starts an upload in parts of the object at `key` (S3's CreateMultipartUpload) and
    /// returns its id, or `Ok(None)` from a store that cannot upload in parts: the writer
    /// then keeps the body and PUTs it whole ([`parts::PartWriter`]). Nothing is visible at
    /// `key` until [`ObjectStore::complete_upload`].
    fn start_upload(
        &self,
        _bucket: &str,
        _key: &str,
        _content_type: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        async { Ok(None) }
    }

    /// Sends part `part_number` (1, 2, … in order; every part but the last at least 5 MiB)
    /// of the upload `upload_id` and returns its ETag (S3's UploadPart).
    fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        _upload_id: &str,
        _part_number: i32,
        _body: Vec<u8>,
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        let error = no_parts(bucket, key);
        async move { Err(error) }
    }

    /// Makes the object of the upload's parts, whose ETags `etags` are in part order (S3's
    /// CompleteMultipartUpload), replacing any object at `key`. `bytes` is the object's size:
    /// S3 may take a while to assemble a big one, and the call is given time for it.
    fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        _upload_id: &str,
        _etags: Vec<String>,
        _bytes: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let error = no_parts(bucket, key);
        async move { Err(error) }
    }

    /// Drops an upload that will not be completed, and the parts it holds (S3's
    /// AbortMultipartUpload).
    fn abort_upload(
        &self,
        _bucket: &str,
        _key: &str,
        _upload_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }

    /// DELETE; deleting a key that does not exist is not an error.
    fn delete(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let error = StoreError::Other(format!("{}: this store cannot delete", S3Url(bucket, key)));
        async move { Err(error) }
    }
}

fn no_parts(bucket: &str, key: &str) -> StoreError {
    StoreError::Other(format!(
        "{}: this store cannot upload in parts",
        S3Url(bucket, key)
    ))
}

fn no_conditional_writes(bucket: &str, key: &str) -> StoreError {
    StoreError::Other(format!(
        "{}: this store cannot write conditionally, so alerts cannot be deduplicated",
        S3Url(bucket, key)
    ))
}
