//! The ledger as this container's last event invocation wrote it, with the ETag its PUT
//! answered (docs/lambda.md#outputs-after-an-event): the next event invocation applies its
//! presences to it and writes it `If-Match` that ETag, with no GET. The condition is the
//! guard a GET's ETag gives: the PUT succeeds only over the very ledger this container wrote,
//! so when a pass (or another container) wrote since, it is lost and the invocation starts
//! over as it would without this memory (GET, apply, PUT): one PUT wasted, never an update
//! lost. An invocation that may owe a RESOLVED does not start from it (`intake.rs`), so a
//! notice is decided on the ledger as read.
//!
//! After a PUT from memory is lost, the container reads the ledger for [`AFTER_A_LOSS`] (15
//! minutes) before it starts from memory again: two containers taking turns with the batches
//! (the queue's two concurrent invocations) would otherwise each lose their PUT every batch,
//! and a lost PUT costs what 12.5 GETs cost. So at most one PUT is lost per container per 15
//! minutes.
//!
//! Bounded: one ledger of at most [`REMEMBERED_MAX_ARTIFACTS`] entries (~10 MB), taken out
//! by the invocation that uses it (kept again only when its write succeeds), and dropped when
//! a pass or a history run starts.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::ledger::Ledger;
pub use crate::ledger::store::REMEMBERED_MAX_ARTIFACTS;
use crate::ledger::store::ReadLedger;

/// How long a container reads the ledger after a PUT from memory was lost.
pub const AFTER_A_LOSS: Duration = Duration::minutes(15);

/// The container's memory of the ledger (module docs).
#[derive(Debug, Default)]
pub struct LedgerMemory(Mutex<Option<Remembered>>, Mutex<Option<DateTime<Utc>>>);

#[derive(Debug)]
struct Remembered {
    bucket: String,
    key: String,
    ledger: Ledger,
    etag: String,
}

impl LedgerMemory {
    /// The ledger this container last wrote at `bucket`/`key`, as a read would give it: taken
    /// out (the caller keeps it again after a write that succeeds). None within
    /// [`AFTER_A_LOSS`] of a lost PUT from memory ([`LedgerMemory::lost`]).
    pub fn take(&self, bucket: &str, key: &str, now: DateTime<Utc>) -> Option<ReadLedger> {
        let lost_at = *self.1.lock().expect("not poisoned");
        if lost_at.is_some_and(|at| now >= at && now - at < AFTER_A_LOSS) {
            return None;
        }
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

    /// A PUT from memory was lost at `now`: another writer wrote since.
    pub fn lost(&self, now: DateTime<Utc>) {
        *self.1.lock().expect("not poisoned") = Some(now);
    }

    /// Drops what is kept (a pass or a history run starts: it writes the ledger itself).
    pub fn forget(&self) {
        *self.0.lock().expect("not poisoned") = None;
    }
}
