//! Writing a pass's outcome records: the lines the ledger kept unrecorded and the cycles this
//! pass closed, in one gzipped NDJSON object, only when there is any.
//!
//! A pass that cannot write them loses nothing: the lines go back into the ledger
//! ([`keep_unrecorded`]) and the next pass writes them with its own.

use std::collections::HashSet;
use std::io::Write;

use chrono::{DateTime, Utc};

use super::{body_hash, object_key};
use crate::ledger::Ledger;
use crate::settings::OutputLocation;
use crate::store::{ObjectStore, S3Url, StoreError};

/// What became of one pass's lines.
#[derive(Debug, Clone, Default)]
pub struct LogWrite {
    /// The lines: the ledger's unrecorded ones first, then this pass's.
    pub lines: Vec<Box<str>>,
    /// Where they were written (`None`: nothing to write, or the write failed).
    pub key: Option<String>,
    /// Why the write failed.
    pub error: Option<String>,
}

impl LogWrite {
    pub fn written(&self) -> bool {
        self.key.is_some()
    }
}

/// Writes `lines` (none: no request) to the log at `pass_at`.
pub async fn write_lines<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    lines: Vec<Box<str>>,
    pass_at: DateTime<Utc>,
) -> LogWrite {
    if lines.is_empty() {
        return LogWrite::default();
    }
    let key = object_key(&location.prefix, pass_at, body_hash(&lines));
    let result = match gzip(&lines) {
        Ok(body) => {
            store
                .put(&location.bucket, &key, body, "application/gzip")
                .await
        }
        Err(e) => Err(StoreError::Other(format!(
            "could not gzip the records: {e}"
        ))),
    };
    match result {
        Ok(()) => LogWrite {
            lines,
            key: Some(key),
            error: None,
        },
        Err(e) => {
            let error = format!("{}: {e}", S3Url(&location.bucket, &key));
            tracing::warn!(
                message = "the outcome log could not be written; the ledger keeps its records",
                error = %error,
                records = lines.len(),
            );
            LogWrite {
                lines,
                key: None,
                error: Some(error),
            }
        }
    }
}

/// One line each, each ending with a newline, gzipped.
pub fn gzip(lines: &[Box<str>]) -> std::io::Result<Vec<u8>> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Buffered: flate2 zeroes its output buffer (32 KiB) on every write it is given.
    let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, encoder);
    for line in lines {
        buffered.write_all(line.as_bytes())?;
        buffered.write_all(b"\n")?;
    }
    buffered.into_inner()?.finish()
}

/// The ledger's unrecorded lines after the write: those written leave it, those that could
/// not be written stay (once each). Applied to the ledger the pass writes (which may be
/// another pass's, on a lost race).
pub fn keep_unrecorded(ledger: &mut Ledger, write: &LogWrite) {
    if write.lines.is_empty() {
        return;
    }
    let ours: HashSet<&str> = write.lines.iter().map(|l| &**l).collect();
    if write.written() {
        ledger.unrecorded_outcomes.retain(|l| !ours.contains(&**l));
        return;
    }
    let held: HashSet<Box<str>> = ledger.unrecorded_outcomes.iter().cloned().collect();
    let missing = write.lines.iter().filter(|l| !held.contains(*l)).cloned();
    let missing: Vec<Box<str>> = missing.collect();
    ledger.unrecorded_outcomes.extend(missing);
}
