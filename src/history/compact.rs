//! Writing the history's compacted log (`outcome_log::compacted` has its format) after a
//! scan: every expected cycle of the window as a record (`history::to_log`), gzipped into a
//! temporary file and streamed to the store.

use std::io::{BufWriter, Write};

use chrono::{DateTime, Utc};

use super::History;
use super::to_log::records;
use crate::outcome_log::compacted::{COMPACTED, Header};
use crate::outcome_log::read::ReadLog;
use crate::settings::OutputLocation;
use crate::store::{ObjectStore, S3Url, StoreError};

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
