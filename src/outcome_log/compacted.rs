//! The history's compacted log, `history_outcomes.ndjson.gz` under the results prefix: what
//! the last history scan knew of every expected cycle of its window (records in the outcome
//! log's schema, after one header line), and which of the passes' log objects it had read.
//!
//! The next scan reads it (one GET), then only the passes' objects written since (keys sort
//! by the writing pass's time), instead of every object of a 12-week window (~8,000 at 96
//! passes a day). It is written after each scan (one PUT, staged on disk and streamed: ~40
//! bytes a cycle gzipped). An unreadable one is named in the warnings and the passes' objects
//! of the window are read instead; it is not part of the log's contract (docs/outputs.md).

use std::io::{BufWriter, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::read::ReadLog;
use crate::history::History;
use crate::history::to_log::records;
use crate::settings::OutputLocation;
use crate::store::{ObjectStore, S3Url, StoreError};

/// Its name under the results prefix.
pub const COMPACTED: &str = "history_outcomes.ndjson.gz";

/// The first line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    /// The format's version (1).
    pub history_outcomes: u32,
    /// The last of the passes' log objects (by key) whose records it holds.
    pub through: Option<String>,
    pub written_at: String,
}

/// The header, when `line` is one this build reads.
pub fn parse_header(line: &str) -> Option<Header> {
    let header: Header = serde_json::from_str(line).ok()?;
    (header.history_outcomes == 1).then_some(header)
}

/// Writes what `history` knew, with the records `log` held, at `at`.
pub async fn write<S: ObjectStore>(
    store: &S,
    at: &OutputLocation,
    history: &History<'_>,
    log: &ReadLog,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let key = format!("{}{COMPACTED}", at.prefix);
    let header = Header {
        history_outcomes: 1,
        through: log.through.clone(),
        written_at: crate::text::rfc3339(now),
    };
    let staged = stage(&header, history, log, now).map_err(|e| e.to_string());
    let result = match staged {
        Ok(file) => (store
            .put_file(&at.bucket, &key, file.path(), "application/gzip")
            .await)
            .map_err(|e: StoreError| e.to_string()),
        Err(e) => Err(e),
    };
    result.map_err(|e| {
        let e = format!("{}: {e}", S3Url(&at.bucket, &key));
        tracing::warn!(message = "the history's compacted log could not be written", error = %e);
        e
    })
}

/// The gzipped body in a temporary file.
fn stage(
    header: &Header,
    history: &History<'_>,
    log: &ReadLog,
    now: DateTime<Utc>,
) -> std::io::Result<tempfile::NamedTempFile> {
    let file = tempfile::NamedTempFile::new()?;
    let out = BufWriter::new(file.as_file().try_clone()?);
    // Fast: at 100,000 artifacts the scan writes ~2 million lines, and the first scan after a
    // deploy must not be slower than a scan without the log.
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
    serde_json::to_writer(&mut gz, header)?;
    gz.write_all(b"\n")?;
    for record in records(history, Some(&log.index), now) {
        serde_json::to_writer(&mut gz, &record)?;
        gz.write_all(b"\n")?;
    }
    gz.finish()?.flush()?;
    Ok(file)
}
