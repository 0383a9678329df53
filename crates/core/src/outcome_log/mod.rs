//! The outcome log: one record per closed cycle of each artifact, as the passes saw it.
//!
//! The ledger remembers only each artifact's current cycle, so what a pass learned about a
//! cycle is forgotten when the next one starts; the history would then have to HEAD every past
//! cycle again to know whether it landed and when. Instead, a pass that moves an artifact to a
//! new cycle records the cycle it leaves ([`closing`]): when it was due, whether it landed and
//! when (the LastModified a pass saw), on time or how late, whether it alerted. The shell
//! writes the records as NDJSON, gzipped, under the results prefix (`outcomes/date=…/`), and
//! the history reads them back ([`reading`]) to probe only what they cannot answer.
//! docs/outputs.md#the-outcome-log is the contract: the field names are stable.

pub mod closing;
pub mod packed;
pub mod reading;
pub mod record;

pub use closing::closed_cycles;
pub use reading::{LogIndex, LogRead, ObjectReader, Recorded, read_object};
pub use record::{KnownBy, Outcome, OutcomeRecord, SCHEMA_VERSION, SetCycle};

use chrono::{DateTime, Utc};

/// Where the log lives under the results prefix.
pub const LOG_DIR: &str = "outcomes/";

/// The key of the object a pass at `pass_at` writes, under `prefix` (the results prefix):
/// `outcomes/date=YYYY-MM-DD/YYYYMMDDTHHMMSS.mmmZ-<hash>.ndjson.gz`, the hash being the
/// body's ([`body_hash`]), so two passes in the same millisecond never overwrite each other.
pub fn object_key(prefix: &str, pass_at: DateTime<Utc>, hash: u32) -> String {
    format!(
        "{prefix}{LOG_DIR}{}{}-{hash:08x}.ndjson.gz",
        date_dir(pass_at.date_naive()),
        pass_at.format("%Y%m%dT%H%M%S%.3fZ")
    )
}

/// `date=YYYY-MM-DD/`: a day's partition (Hive style, as Athena and DuckDB read it).
pub fn date_dir(date: chrono::NaiveDate) -> String {
    format!("date={}/", date.format("%Y-%m-%d"))
}

/// The date of the partition a log key is in, if it is a log key.
pub fn partition_date(key: &str) -> Option<chrono::NaiveDate> {
    let at = key.find("date=")? + "date=".len();
    key.get(at..at + 10)?.parse().ok()
}

/// FNV-1a (32 bits) of the lines: the object name's suffix.
pub fn body_hash(lines: &[Box<str>]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in lines.iter().flat_map(|l| l.bytes().chain([b'\n'])) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

#[cfg(test)]
mod tests;
