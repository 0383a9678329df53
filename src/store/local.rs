//! A local directory as the object store: `DIR/<bucket>/<key>`, LastModified = file mtime.
//!
//! Lets a new user run a real pass with no AWS account (`check --store DIR`), and lets tests
//! set up every state by writing files and setting their mtimes.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{FetchedObject, ObjectMeta, ObjectStore, StoreError};

#[derive(Debug, Clone)]
pub struct LocalDirStore {
    root: PathBuf,
}

impl LocalDirStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalDirStore { root: root.into() }
    }

    /// The file for a bucket and key. Keys that would climb out of the bucket directory
    /// (`..`, absolute paths) are refused rather than read.
    fn path_of(&self, bucket: &str, key: &str) -> Result<PathBuf, StoreError> {
        let relative = Path::new(bucket).join(key);
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(StoreError::Other(format!(
                "bucket {bucket:?} and key {key:?} do not name a file under the store directory"
            )));
        }
        Ok(self.root.join(relative))
    }

    fn io_error(path: &Path, err: std::io::Error) -> StoreError {
        StoreError::Other(format!("{}: {err}", path.display()))
    }
}

impl ObjectStore for LocalDirStore {
    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        let path = self.path_of(bucket, key)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_file() => {
                let modified = meta.modified().map_err(|e| Self::io_error(&path, e))?;
                Ok(Some(ObjectMeta {
                    last_modified: DateTime::<Utc>::from(modified),
                }))
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if tokio::fs::metadata(self.root.join(bucket)).await.is_err() {
                    return Err(StoreError::NoSuchBucket {
                        bucket: bucket.to_string(),
                    });
                }
                Ok(None)
            }
            Err(e) => Err(Self::io_error(&path, e)),
        }
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
        let path = self.path_of(bucket, key)?;
        match tokio::fs::read(&path).await {
            Ok(body) => Ok(FetchedObject { body, etag: None }),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(StoreError::NotFound {
                bucket: bucket.to_string(),
                key: key.to_string(),
            }),
            Err(e) => Err(Self::io_error(&path, e)),
        }
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        _content_type: &str,
    ) -> Result<(), StoreError> {
        let path = self.path_of(bucket, key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| Self::io_error(parent, e))?;
        }
        tokio::fs::write(&path, body)
            .await
            .map_err(|e| Self::io_error(&path, e))
    }
}
