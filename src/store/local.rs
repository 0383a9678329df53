//! A local directory as the object store: `DIR/<bucket>/<key>`, LastModified = file mtime.
//!
//! Lets a new user run a real pass with no AWS account (`check --store DIR`), and lets tests
//! set up every state by writing files and setting their mtimes.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{
    FetchedObject, ListPage, ListedObject, ObjectMeta, ObjectStore, StoreError, WriteCondition,
};

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
                    size: Some(meta.len()),
                    etag: None,
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

    /// The ETag a GET would give: the file is read to hash it (a directory bills nothing).
    async fn head_etag(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectMeta, Option<String>)>, StoreError> {
        let Some(meta) = self.head(bucket, key).await? else {
            return Ok(None);
        };
        let path = self.path_of(bucket, key)?;
        match tokio::fs::read(&path).await {
            Ok(body) => Ok(Some((meta, Some(content_etag(&body))))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Self::io_error(&path, e)),
        }
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
        let path = self.path_of(bucket, key)?;
        match tokio::fs::read(&path).await {
            Ok(body) => {
                let etag = Some(content_etag(&body));
                Ok(FetchedObject { body, etag })
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Err(StoreError::NotFound {
                bucket: bucket.to_string(),
                key: key.to_string(),
            }),
            Err(e) => Err(Self::io_error(&path, e)),
        }
    }

    /// Copied file to file; the ETag is hashed from the copy as it is read back.
    async fn get_to_file(
        &self,
        bucket: &str,
        key: &str,
        to: &Path,
    ) -> Result<Option<String>, StoreError> {
        let path = self.path_of(bucket, key)?;
        let mut source = match std::fs::File::open(&path) {
            Ok(source) => source,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(StoreError::NotFound {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                });
            }
            Err(e) => return Err(Self::io_error(&path, e)),
        };
        let copied = std::fs::File::create(to)
            .and_then(|mut file| std::io::copy(&mut source, &mut file))
            .and_then(|_| file_etag(to));
        copied
            .map(Some)
            .map_err(|e| StoreError::LocalFile(format!("could not write {}: {e}", to.display())))
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

    /// Copied file to file (never whole in memory) through a temporary file renamed into
    /// place, so nobody sees a half file.
    async fn put_file(
        &self,
        bucket: &str,
        key: &str,
        from: &Path,
        _content_type: &str,
    ) -> Result<(), StoreError> {
        let path = self.path_of(bucket, key)?;
        let temp = self.write_temp(&path, TempBody::CopyOf(from)).await?;
        rename_into_place(&temp, &path).await.map(drop)
    }

    /// Written to a temporary file first, then hard-linked into place: the link fails when the
    /// key exists, so of two racing writers exactly one wins and nobody sees a half file.
    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        _content_type: &str,
    ) -> Result<bool, StoreError> {
        let path = self.path_of(bucket, key)?;
        let temp = self.write_temp(&path, TempBody::Bytes(body)).await?;
        link_into_place(&temp, &path).await
    }

    /// Compares the content's ETag and then renames a new file into place. Not atomic against
    /// a concurrent writer (a directory has no compare-and-swap); the local store serves
    /// `check` and tests, where that race does not arise.
    async fn put_if_match(
        &self,
        bucket: &str,
        key: &str,
        etag: &str,
        body: Vec<u8>,
        _content_type: &str,
    ) -> Result<bool, StoreError> {
        let path = self.path_of(bucket, key)?;
        if !etag_matches(&path, etag)? {
            return Ok(false);
        }
        let temp = self.write_temp(&path, TempBody::Bytes(body)).await?;
        rename_into_place(&temp, &path).await
    }

    /// As [`LocalDirStore::put_if_absent`] and [`LocalDirStore::put_if_match`], the file copied.
    async fn put_file_if(
        &self,
        bucket: &str,
        key: &str,
        from: &Path,
        condition: WriteCondition<'_>,
        _content_type: &str,
    ) -> Result<bool, StoreError> {
        let path = self.path_of(bucket, key)?;
        if let WriteCondition::Matches(etag) = condition
            && !etag_matches(&path, etag)?
        {
            return Ok(false);
        }
        let temp = self.write_temp(&path, TempBody::CopyOf(from)).await?;
        match condition {
            WriteCondition::Absent => link_into_place(&temp, &path).await,
            WriteCondition::Matches(_) => rename_into_place(&temp, &path).await,
        }
    }

    /// Walks the bucket directory below the prefix's last `/`, so a page costs a walk of that
    /// subtree; the local store serves `check` and tests, not a million keys.
    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation: Option<&str>,
        max_keys: u16,
    ) -> Result<ListPage, StoreError> {
        let bucket_dir = self.path_of(bucket, "")?;
        let walk_from = match prefix.rfind('/') {
            Some(end) => self.path_of(bucket, &prefix[..end])?,
            None => bucket_dir.clone(),
        };
        let mut keys = Vec::new();
        collect_files(&bucket_dir, &walk_from, &mut keys)?;
        keys.retain(|(key, _)| {
            key.starts_with(prefix) && continuation.is_none_or(|after| key.as_str() > after)
        });
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let more = keys.len() > usize::from(max_keys);
        keys.truncate(usize::from(max_keys));
        let continuation = more
            .then(|| keys.last().map(|(key, _)| key.clone()))
            .flatten();
        let objects = keys
            .into_iter()
            .map(|(key, meta)| ListedObject { key, meta })
            .collect();
        Ok(ListPage {
            objects,
            continuation,
        })
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        let path = self.path_of(bucket, key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Self::io_error(&path, e)),
        }
    }
}

/// What a temporary file is written from.
enum TempBody<'a> {
    Bytes(Vec<u8>),
    CopyOf(&'a Path),
}

/// Links `temp` in at `path` unless a file is there (then `Ok(false)`); `temp` goes either way.
async fn link_into_place(temp: &Path, path: &Path) -> Result<bool, StoreError> {
    let linked = tokio::fs::hard_link(temp, path).await;
    let _ = tokio::fs::remove_file(temp).await;
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(LocalDirStore::io_error(path, e)),
    }
}

async fn rename_into_place(temp: &Path, path: &Path) -> Result<bool, StoreError> {
    tokio::fs::rename(temp, path)
        .await
        .map_err(|e| LocalDirStore::io_error(path, e))?;
    Ok(true)
}

/// Whether the file at `path` exists with the ETag `etag`.
fn etag_matches(path: &Path, etag: &str) -> Result<bool, StoreError> {
    match file_etag(path) {
        Ok(current) => Ok(current == etag),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(LocalDirStore::io_error(path, e)),
    }
}

impl LocalDirStore {
    /// A uniquely named file beside `path` holding `body`.
    async fn write_temp(&self, path: &Path, body: TempBody<'_>) -> Result<PathBuf, StoreError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let parent = path.parent().unwrap_or(&self.root);
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| Self::io_error(parent, e))?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("object");
        let temp = parent.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = match body {
            TempBody::Bytes(bytes) => tokio::fs::write(&temp, bytes).await,
            TempBody::CopyOf(from) => tokio::fs::copy(from, &temp).await.map(drop),
        };
        written.map_err(|e| Self::io_error(&temp, e))?;
        Ok(temp)
    }
}

/// Every file under `dir` as (key relative to `bucket_dir`, metadata), skipping the store's own
/// temporary files. A directory that does not exist holds nothing.
fn collect_files(
    bucket_dir: &Path,
    dir: &Path,
    found: &mut Vec<(String, ObjectMeta)>,
) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(LocalDirStore::io_error(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| LocalDirStore::io_error(dir, e))?;
        let path = entry.path();
        let meta = entry
            .metadata()
            .map_err(|e| LocalDirStore::io_error(&path, e))?;
        if meta.is_dir() {
            collect_files(bucket_dir, &path, found)?;
            continue;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            continue;
        }
        let Ok(relative) = path.strip_prefix(bucket_dir) else {
            continue;
        };
        let key = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let modified = meta
            .modified()
            .map_err(|e| LocalDirStore::io_error(&path, e))?;
        found.push((
            key,
            ObjectMeta {
                last_modified: DateTime::<Utc>::from(modified),
                size: Some(meta.len()),
                etag: None,
            },
        ));
    }
    Ok(())
}

/// The local store's ETag: a hash of the content (S3's is the MD5 for simple uploads; any
/// content hash serves for compare-and-swap).
fn content_etag(body: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    etag_text(&Sha1::digest(body))
}

/// [`content_etag`] of the file at `path`, read a block at a time.
fn file_etag(path: &Path) -> std::io::Result<String> {
    use sha1::{Digest, Sha1};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha1::new();
    let mut block = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut block)? {
            0 => return Ok(etag_text(&hasher.finalize())),
            n => hasher.update(&block[..n]),
        }
    }
}

fn etag_text(digest: &[u8]) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_in_and_out_keep_the_etag_and_the_write_conditions() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDirStore::new(dir.path().join("store"));
        let staged = dir.path().join("staged");
        let absent = store.get_to_file("b", "ledger.json", &staged).await;
        assert!(
            matches!(absent, Err(StoreError::NotFound { .. })),
            "{absent:?}"
        );

        std::fs::write(&staged, b"one").unwrap();
        let create = |path| store.put_file_if("b", "ledger.json", path, WriteCondition::Absent, "");
        assert!(create(&staged).await.unwrap(), "created");
        assert!(!create(&staged).await.unwrap(), "already there");

        let copy = dir.path().join("copy");
        let etag = store.get_to_file("b", "ledger.json", &copy).await.unwrap();
        assert_eq!(std::fs::read(&copy).unwrap(), b"one");
        assert_eq!(etag, store.get("b", "ledger.json").await.unwrap().etag);

        std::fs::write(&staged, b"two").unwrap();
        let stale = WriteCondition::Matches("\"not-the-etag\"");
        let refused = store.put_file_if("b", "ledger.json", &staged, stale, "");
        assert!(!refused.await.unwrap());
        let current = WriteCondition::Matches(etag.as_deref().unwrap());
        let replaced = store.put_file_if("b", "ledger.json", &staged, current, "");
        assert!(replaced.await.unwrap());
        assert_eq!(store.get("b", "ledger.json").await.unwrap().body, b"two");
        let gone = WriteCondition::Matches(etag.as_deref().unwrap());
        let missing = store.put_file_if("b", "other.json", &staged, gone, "");
        assert!(!missing.await.unwrap(), "no object to match");

        std::fs::write(&staged, b"three").unwrap();
        store
            .put_file("b", "d/results.json", &staged, "")
            .await
            .unwrap();
        let written = store.get("b", "d/results.json").await.unwrap().body;
        assert_eq!(written, b"three", "copied, its directory made");
        let left: Vec<_> = std::fs::read_dir(dir.path().join("store/b/d"))
            .unwrap()
            .collect();
        assert_eq!(left.len(), 1, "no temporary file left");
    }
}
