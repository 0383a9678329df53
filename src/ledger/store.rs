//! Reading the ledger at a pass's start and writing it at its end, conditionally on the ETag
//! read (`If-Match`, or `If-None-Match: *` when there was none), so two passes at once never
//! silently lose each other's updates: the one that loses the race reads the winner's ledger,
//! applies its own pass to it, and tries once more. Both directions go through a temporary
//! file ([`crate::store::staged`]): the body (~186 bytes per artifact) is never held whole.

pub use crate::report::LedgerFigures;

use super::{LEDGER_VERSION, Ledger};
use crate::store::staged::{read_json, stage_json};
use crate::store::{ConditionalPut, ObjectStore, S3Url, StoreError, WriteCondition};

/// The ledger as read, with what the conditional write needs.
#[derive(Debug, Clone)]
pub struct ReadLedger {
    pub ledger: Ledger,
    /// The ETag of the object read (also of one that could not be used).
    pub etag: Option<String>,
    /// Why the ledger starts from scratch, when it does (`None`: read as it was, or absent).
    pub rebuilt: Option<String>,
}

/// Reads the ledger; anything but a readable ledger of this version starts from scratch.
/// The body is downloaded into a temporary file and parsed from there (at a million artifacts
/// it is ~186 MB); without a usable temp dir it is read into memory as before.
pub async fn read<S: ObjectStore>(store: &S, bucket: &str, key: &str) -> ReadLedger {
    let fetched = match fetch_staged(store, bucket, key).await {
        Some(fetched) => fetched,
        None => fetch_whole(store, bucket, key).await,
    };
    match fetched {
        Ok((Ok(ledger), etag)) if ledger.version == LEDGER_VERSION => ReadLedger {
            ledger,
            etag,
            rebuilt: None,
        },
        Ok((Ok(ledger), etag)) => rebuilt(
            etag,
            format!("{} has version {}", S3Url(bucket, key), ledger.version),
        ),
        Ok((Err(e), etag)) => rebuilt(etag, format!("{} is unreadable: {e}", S3Url(bucket, key))),
        Err(StoreError::NotFound { .. }) => ReadLedger {
            ledger: Ledger::new(),
            etag: None,
            rebuilt: None,
        },
        Err(e) => rebuilt(
            None,
            format!("{} could not be read: {e}", S3Url(bucket, key)),
        ),
    }
}

/// The ledger as parsed (or why it could not be) and the object's ETag.
type Fetched = Result<(Result<Ledger, serde_json::Error>, Option<String>), StoreError>;

/// The ledger fetched through a temporary file; `None` when the temp dir cannot serve (full,
/// unwritable), and the ledger is to be read into memory instead (as it was before staging).
async fn fetch_staged<S: ObjectStore>(store: &S, bucket: &str, key: &str) -> Option<Fetched> {
    let unstaged = |e: &dyn std::fmt::Display| {
        tracing::warn!(
            "could not stage the ledger in {}: {e}; reading it into memory",
            std::env::temp_dir().display()
        );
    };
    let staged = tempfile::NamedTempFile::new()
        .inspect_err(|e| unstaged(e))
        .ok()?;
    let etag = match store.get_to_file(bucket, key, staged.path()).await {
        Ok(etag) => etag,
        Err(StoreError::LocalFile(e)) => {
            unstaged(&e);
            return None;
        }
        Err(e) => return Some(Err(e)),
    };
    match read_json::<Ledger>(staged.path()) {
        Err(e) if e.is_io() => {
            unstaged(&e);
            None
        }
        parsed => Some(Ok((parsed, etag))),
    }
}

async fn fetch_whole<S: ObjectStore>(store: &S, bucket: &str, key: &str) -> Fetched {
    let object = store.get(bucket, key).await?;
    Ok((serde_json::from_slice(&object.body), object.etag))
}

fn rebuilt(etag: Option<String>, reason: String) -> ReadLedger {
    tracing::warn!(message = "the ledger is rebuilt from scratch", reason = %reason);
    ReadLedger {
        ledger: Ledger::new(),
        etag,
        rebuilt: Some(reason),
    }
}

/// Applies the pass (`apply`) to the ledger read and writes it conditionally; on a lost race,
/// applies it to the winner's ledger and tries once more. Never fails the pass.
pub async fn write<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    read: ReadLedger,
    apply: impl Fn(&mut Ledger),
) -> LedgerFigures {
    let prepared = prepare(read, &apply);
    write_prepared(store, bucket, key, prepared, apply).await
}

/// The pass applied to the ledger read and its body staged, ready for the conditional PUT:
/// the CPU half of [`write()`], so the PUT can go out together with the pass's other writes
/// (`lambda::steps`), knowing beforehand what a first try that succeeds reports.
pub struct PreparedLedger {
    body: LedgerBody,
    artifacts: usize,
    etag: Option<String>,
    rebuilt: Option<String>,
}

/// Applies `apply` to the ledger read and stages its body (the read ledger is dropped).
pub fn prepare(read: ReadLedger, apply: &impl Fn(&mut Ledger)) -> PreparedLedger {
    // Applied in place: on a lost race the winner's ledger is read afresh, so the one read
    // before is never needed again (no copy of a 100,000-entry map).
    let ReadLedger {
        mut ledger,
        etag,
        rebuilt,
    } = read;
    apply(&mut ledger);
    let body = LedgerBody::of(&ledger);
    PreparedLedger {
        body,
        artifacts: ledger.artifacts.len(),
        etag,
        rebuilt,
    }
}

impl PreparedLedger {
    /// What [`write_prepared`] reports when its first conditional PUT succeeds (the usual
    /// case: no other pass wrote since the read, the store took it).
    pub fn figures_if_written(&self) -> LedgerFigures {
        self.figures(0)
    }

    fn figures(&self, attempt: u32) -> LedgerFigures {
        let (status, detail) = match (&self.rebuilt, attempt, &self.etag) {
            (Some(reason), 0, _) => ("rebuilt", Some(reason.clone())),
            (_, 0, None) => ("created", None),
            (_, 0, Some(_)) => ("updated", None),
            _ => ("merged", None),
        };
        LedgerFigures {
            status,
            artifacts: self.artifacts,
            bytes: self.body.len(),
            detail,
        }
    }

    /// The conditional PUT: `Ok(true)` written, `Ok(false)` another pass wrote since the read.
    async fn put<S: ObjectStore>(
        self,
        store: &S,
        bucket: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        let condition = match &self.etag {
            Some(etag) => WriteCondition::Matches(etag),
            None => WriteCondition::Absent,
        };
        self.body.put(store, bucket, key, condition).await
    }
}

/// Writes a [`prepare`]d ledger conditionally; on a lost race, applies the pass (`apply`) to
/// the winner's ledger and tries once more. Never fails the pass.
pub async fn write_prepared<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    prepared: PreparedLedger,
    apply: impl Fn(&mut Ledger),
) -> LedgerFigures {
    let mut prepared = prepared;
    let mut attempt = 0;
    let winner = loop {
        let figures = prepared.figures(attempt);
        match prepared.put(store, bucket, key).await {
            Ok(true) => return figures,
            Ok(false) if attempt == 0 => {
                attempt += 1;
                prepared = prepare(read(store, bucket, key).await, &apply);
            }
            Ok(false) => break read(store, bucket, key).await,
            Err(e) => {
                tracing::error!(message = "the ledger could not be written", error = %e);
                return LedgerFigures {
                    status: "failed",
                    detail: Some(e.to_string()),
                    ..figures
                };
            }
        }
    };
    tracing::warn!(
        message = "another pass kept writing the ledger; this pass's update is left to the next"
    );
    LedgerFigures {
        status: "conflict",
        artifacts: winner.ledger.artifacts.len(),
        bytes: 0,
        detail: Some("another pass wrote the ledger twice meanwhile".to_string()),
    }
}

/// The ledger's JSON, ready to PUT: staged in a temporary file that the store streams from
/// (~186 MB at a million artifacts never sits in memory), or, without a usable temp dir, in a
/// buffer of exactly its size.
enum LedgerBody {
    Staged {
        file: tempfile::NamedTempFile,
        len: usize,
    },
    InMemory(Vec<u8>),
}

impl LedgerBody {
    fn of(ledger: &Ledger) -> LedgerBody {
        let staged = stage_json(ledger).and_then(|file| {
            let len = file.as_file().metadata()?.len();
            Ok((file, len))
        });
        match staged {
            Ok((file, len)) => LedgerBody::Staged {
                file,
                len: usize::try_from(len).unwrap_or(usize::MAX),
            },
            // A full or read-only temp dir costs memory, not the write.
            Err(e) => {
                tracing::warn!(
                    "could not stage the ledger in {}: {e}; writing it from memory",
                    std::env::temp_dir().display()
                );
                LedgerBody::InMemory(ledger_json(ledger))
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            LedgerBody::Staged { len, .. } => *len,
            LedgerBody::InMemory(body) => body.len(),
        }
    }

    /// The conditional PUT; `Ok(false)` when another pass wrote since the read.
    async fn put<S: ObjectStore>(
        self,
        store: &S,
        bucket: &str,
        key: &str,
        condition: WriteCondition<'_>,
    ) -> Result<bool, StoreError> {
        const JSON: &str = "application/json";
        match (self, condition) {
            (LedgerBody::Staged { file, .. }, condition) => {
                store
                    .put_file_if(bucket, key, file.path(), condition, JSON)
                    .await
            }
            // The body moves into the PUT (no copy).
            (LedgerBody::InMemory(body), WriteCondition::Matches(etag)) => {
                store.put_if_match(bucket, key, etag, body, JSON).await
            }
            (LedgerBody::InMemory(body), WriteCondition::Absent) => {
                store.put_if_absent(bucket, key, body, JSON).await
            }
        }
    }
}

/// The most artifacts a ledger may hold for [`write_first_from_memory`] (~10 MB of JSON): a
/// caller keeps it in memory between invocations.
pub const REMEMBERED_MAX_ARTIFACTS: usize = 50_000;

/// What [`write_first_from_memory`] did.
pub enum FirstWrite {
    /// Written: the figures, and the ledger as written with the ETag the store answered (none
    /// when it answered none).
    Written(LedgerFigures, Option<(Ledger, String)>),
    /// Another writer got there first: nothing was written.
    Lost,
    /// The store refused.
    Failed(LedgerFigures),
}

/// The first conditional PUT of [`write()`], from memory, for a ledger of at most
/// [`REMEMBERED_MAX_ARTIFACTS`] (the caller checks): `apply` applied to the ledger `read`, and
/// the result kept with the new ETag, so the caller can make its next write without reading
/// the ledger first (the event invocations: `lambda::ledger_memory`). A lost race is the
/// caller's to handle ([`FirstWrite::Lost`]: read again, or [`write()`] with a fresh read).
pub async fn write_first_from_memory<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    read: ReadLedger,
    apply: impl Fn(&mut Ledger),
) -> FirstWrite {
    let ReadLedger {
        mut ledger,
        etag,
        rebuilt,
    } = read;
    apply(&mut ledger);
    let body = ledger_json(&ledger);
    let figures = PreparedLedger {
        body: LedgerBody::InMemory(Vec::new()),
        artifacts: ledger.artifacts.len(),
        etag: etag.clone(),
        rebuilt,
    }
    .figures(0);
    let figures = LedgerFigures {
        bytes: body.len(),
        ..figures
    };
    let condition = match &etag {
        Some(etag) => WriteCondition::Matches(etag),
        None => WriteCondition::Absent,
    };
    match store
        .put_conditional(bucket, key, condition, body, "application/json")
        .await
    {
        Ok(ConditionalPut::Written { etag }) => {
            FirstWrite::Written(figures, etag.map(|etag| (ledger, etag)))
        }
        Ok(ConditionalPut::Lost) => FirstWrite::Lost,
        Err(e) => {
            tracing::error!(message = "the ledger could not be written", error = %e);
            FirstWrite::Failed(LedgerFigures {
                status: "failed",
                detail: Some(e.to_string()),
                ..figures
            })
        }
    }
}

/// The ledger's JSON in a buffer of exactly its size: measured by a first serialization that
/// only counts bytes, so the body is never grown by doubling (a doubling copies the whole
/// body and can leave up to half of it unused: ~80 MB at a million artifacts).
fn ledger_json(ledger: &Ledger) -> Vec<u8> {
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, ledger).expect("the ledger always serializes");
    let mut body = Vec::with_capacity(counter.0);
    serde_json::to_writer(&mut body, ledger).expect("the ledger always serializes");
    body
}

/// A writer that keeps nothing, only how many bytes went through it.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::store::FetchedObject;
    use crate::store::local::LocalDirStore;

    const KEY: &str = "_freshness_monitor/ledger.json";

    fn one_entry(ledger: &mut Ledger) {
        let entry = serde_json::from_str(r#"{"cycle":"d1","state":"missing"}"#).unwrap();
        ledger.artifacts.insert("a", entry);
    }

    #[tokio::test]
    async fn written_through_a_file_it_reads_back_and_the_etag_guards_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDirStore::new(dir.path());
        let created = write(&store, "b", KEY, read(&store, "b", KEY).await, one_entry).await;
        assert_eq!(created.status, "created");
        let on_disk = std::fs::read(dir.path().join("b").join(KEY)).unwrap();
        assert_eq!(created.bytes, on_disk.len());
        let again = read(&store, "b", KEY).await;
        assert_eq!(serde_json::to_vec(&again.ledger).unwrap(), on_disk);
        assert!(again.etag.is_some());
        let updated = write(&store, "b", KEY, again, |_| {}).await;
        assert_eq!(updated.status, "updated");
    }

    /// The local store, except that its temp files cannot be written.
    struct NoDisk(LocalDirStore);

    impl ObjectStore for NoDisk {
        async fn head(
            &self,
            bucket: &str,
            key: &str,
        ) -> Result<Option<crate::store::ObjectMeta>, StoreError> {
            self.0.head(bucket, key).await
        }

        async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
            self.0.get(bucket, key).await
        }

        async fn get_to_file(
            &self,
            _: &str,
            _: &str,
            path: &Path,
        ) -> Result<Option<String>, StoreError> {
            Err(StoreError::LocalFile(format!(
                "could not write {}: disk full",
                path.display()
            )))
        }

        async fn put(
            &self,
            bucket: &str,
            key: &str,
            body: Vec<u8>,
            t: &str,
        ) -> Result<(), StoreError> {
            self.0.put(bucket, key, body, t).await
        }
    }

    #[tokio::test]
    async fn a_temp_dir_that_cannot_take_the_body_costs_memory_not_the_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let local = LocalDirStore::new(dir.path());
        write(&local, "b", KEY, read(&local, "b", KEY).await, one_entry).await;
        let read = read(&NoDisk(local), "b", KEY).await;
        assert_eq!(read.rebuilt, None);
        assert_eq!(read.ledger.artifacts.keys().collect::<Vec<_>>(), ["a"]);
    }
}
