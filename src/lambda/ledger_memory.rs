//! The ledger as this container's last event invocation wrote it, with the ETag its PUT
//! answered (docs/lambda.md#outputs-after-an-event): the next event invocation applies its
//! presences to it and writes it `If-Match` that ETag, with no GET. The condition is the
//! guard a GET's ETag gives: the PUT succeeds only over the very ledger this container wrote,
//! so when a pass (or another container) wrote since, it is lost and the invocation starts
//! over as it would without this memory (GET, apply, PUT): one PUT wasted, never an update
//! lost. An invocation that may owe a RESOLVED does not start from it (`intake.rs`), so a
//! notice is decided on the ledger as read.
//!
//! Bounded: one ledger of at most [`REMEMBERED_MAX_ARTIFACTS`] entries (~10 MB), taken out
//! by the invocation that uses it (kept again only when its write succeeds), and dropped when
//! a pass or a history run starts.

use std::sync::Mutex;

use crate::ledger::Ledger;
pub use crate::ledger::store::REMEMBERED_MAX_ARTIFACTS;
use crate::ledger::store::ReadLedger;

/// The container's memory of the ledger (module docs).
#[derive(Debug, Default)]
pub struct LedgerMemory(Mutex<Option<Remembered>>);

#[derive(Debug)]
struct Remembered {
    bucket: String,
    key: String,
    ledger: Ledger,
    etag: String,
}

impl LedgerMemory {
    /// The ledger this container last wrote at `bucket`/`key`, as a read would give it: taken
    /// out (the caller keeps it again after a write that succeeds).
    pub fn take(&self, bucket: &str, key: &str) -> Option<ReadLedger> {
        let mut remembered = self.0.lock().expect("not poisoned");
        match remembered.take() {
            Some(r) if r.bucket == bucket && r.key == key => Some(ReadLedger {
                ledger: r.ledger,
                etag: Some(r.etag),
                rebuilt: None,
            }),
            _ => None,
        }
    }

    /// The ledger as written at `bucket`/`key`, with its ETag (`None`: nothing to keep).
    pub fn keep(&self, bucket: &str, key: &str, written: Option<(Ledger, String)>) {
        let kept = written
            .filter(|(ledger, _)| ledger.artifacts.len() <= REMEMBERED_MAX_ARTIFACTS)
            .map(|(ledger, etag)| Remembered {
                bucket: bucket.to_string(),
                key: key.to_string(),
                ledger,
                etag,
            });
        *self.0.lock().expect("not poisoned") = kept;
    }

    /// Drops what is kept (a pass or a history run starts: it writes the ledger itself).
    pub fn forget(&self) {
        *self.0.lock().expect("not poisoned") = None;
    }
}
