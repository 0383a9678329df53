//! Reading the ledger at a pass's start and writing it at its end, conditionally on the ETag
//! read (`If-Match`, or `If-None-Match: *` when there was none), so two passes at once never
//! silently lose each other's updates: the one that loses the race reads the winner's ledger,
//! applies its own pass to it, and tries once more.

use serde::Serialize;

use super::{LEDGER_VERSION, Ledger};
use crate::store::{ObjectStore, S3Url, StoreError};

/// The ledger as read, with what the conditional write needs.
#[derive(Debug, Clone)]
pub struct ReadLedger {
    pub ledger: Ledger,
    /// The ETag of the object read (also of one that could not be used).
    pub etag: Option<String>,
    /// Why the ledger starts from scratch, when it does (`None`: read as it was, or absent).
    pub rebuilt: Option<String>,
}

/// What the pass did with the ledger, for the heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LedgerFigures {
    /// `updated`, `created`, `rebuilt` (the old one was unreadable or of another version),
    /// `merged` (another pass wrote first; ours was applied on top), `conflict` (still racing:
    /// left to the next pass) or `failed` (the store refused).
    pub status: &'static str,
    pub artifacts: usize,
    pub bytes: usize,
    /// Why it was rebuilt, or why the write failed.
    pub detail: Option<String>,
}

/// Reads the ledger; anything but a readable ledger of this version starts from scratch.
pub async fn read<S: ObjectStore>(store: &S, bucket: &str, key: &str) -> ReadLedger {
    match store.get(bucket, key).await {
        Ok(object) => match serde_json::from_slice::<Ledger>(&object.body) {
            Ok(ledger) if ledger.version == LEDGER_VERSION => ReadLedger {
                ledger,
                etag: object.etag,
                rebuilt: None,
            },
            Ok(ledger) => rebuilt(
                object.etag,
                format!("{} has version {}", S3Url(bucket, key), ledger.version),
            ),
            Err(e) => rebuilt(
                object.etag,
                format!("{} is unreadable: {e}", S3Url(bucket, key)),
            ),
        },
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
    let mut current = read;
    for attempt in 0..2 {
        // Applied in place: on a lost race the winner's ledger is read afresh, so the one read
        // before is never needed again (no copy of a 100,000-entry map).
        let ReadLedger {
            mut ledger,
            etag,
            rebuilt,
        } = current;
        apply(&mut ledger);
        let body = ledger_json(&ledger);
        let artifacts = ledger.artifacts.len();
        drop(ledger);
        // The body moves into the PUT (no copy: 165 MB at a million artifacts).
        let bytes = body.len();
        let figures = |status: &'static str, detail: Option<String>| LedgerFigures {
            status,
            artifacts,
            bytes,
            detail,
        };
        let written = match &etag {
            Some(etag) => {
                store
                    .put_if_match(bucket, key, etag, body, "application/json")
                    .await
            }
            None => {
                store
                    .put_if_absent(bucket, key, body, "application/json")
                    .await
            }
        };
        match written {
            Ok(true) => {
                return match (&rebuilt, attempt, &etag) {
                    (Some(reason), 0, _) => figures("rebuilt", Some(reason.clone())),
                    (_, 0, None) => figures("created", None),
                    (_, 0, Some(_)) => figures("updated", None),
                    _ => figures("merged", None),
                };
            }
            Ok(false) => current = self::read(store, bucket, key).await,
            Err(e) => {
                tracing::error!(message = "the ledger could not be written", error = %e);
                return figures("failed", Some(e.to_string()));
            }
        }
    }
    tracing::warn!(
        message = "another pass kept writing the ledger; this pass's update is left to the next"
    );
    LedgerFigures {
        status: "conflict",
        artifacts: current.ledger.artifacts.len(),
        bytes: 0,
        detail: Some("another pass wrote the ledger twice meanwhile".to_string()),
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
