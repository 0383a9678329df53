//! Writing the history's compacted log (`outcome_log::compacted` has its format) after a
//! scan: every expected cycle of the window packed, a line per artifact (`history::to_log`),
//! gzipped into a temporary file and streamed to the store.

use std::io::{BufWriter, Write};

use chrono::{DateTime, Utc};

use super::History;
use super::to_log::packed_artifacts;
use crate::outcome_log::compacted::{COMPACTED, Header};
use crate::outcome_log::packed::PACKED_FORMAT;
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
        history_outcomes: PACKED_FORMAT,
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

/// What the encoder is handed at once.
const GZ_INPUT_BUFFER: usize = 256 * 1024;

/// The gzipped body in a temporary file.
fn stage(
    header: &Header,
    history: &History<'_>,
    log: &ReadLog,
    now: DateTime<Utc>,
) -> std::io::Result<tempfile::NamedTempFile> {
    let file = tempfile::NamedTempFile::new()?;
    let out = BufWriter::new(file.as_file().try_clone()?);
    // Fast: at 100,000 artifacts the scan writes ~4 million cycles, and the first scan after
    // a deploy must not be slower than a scan without the log.
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
    // Buffered in front of the encoder too: flate2 zeroes its 32 KiB output buffer on every
    // write it is given, and the serializer writes each number and comma on its own (this
    // was most of the scan's CPU: BENCHMARKS.md#the-history-from-the-log-at-scale).
    let mut lines = BufWriter::with_capacity(GZ_INPUT_BUFFER, gz);
    serde_json::to_writer(&mut lines, header)?;
    lines.write_all(b"\n")?;
    for artifact in packed_artifacts(history, Some(&log.index), now) {
        serde_json::to_writer(&mut lines, &artifact)?;
        lines.write_all(b"\n")?;
    }
    lines.into_inner()?.finish()?.flush()?;
    Ok(file)
}
