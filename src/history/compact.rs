//! Writing the history's compacted log (`outcome_log::compacted` has its format) after a
//! scan: every expected cycle of the window packed, a line per artifact (`history::to_log`),
//! gzipped and uploaded in parts as it is written (`store::parts`).

use chrono::{DateTime, Utc};

use super::History;
use super::to_log::packed_artifacts;
use crate::outcome_log::compacted::{COMPACTED, Header};
use crate::outcome_log::packed::PACKED_FORMAT;
use crate::outcome_log::read::ReadLog;
use crate::settings::OutputLocation;
use crate::store::parts::GzPartWriter;
use crate::store::{ObjectStore, S3Url, StoreError};

/// Writes what `history` knew, with the records `log` held, at `at`: gzipped as it is
/// serialized and uploaded in parts (~25 bytes a cycle: ~1 GB at a million artifacts, so
/// neither held nor staged on disk whole).
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
    let written = write_lines(store, at, &key, &header, history, log, now).await;
    written.map_err(|e| {
        let e = format!("{}: {e}", S3Url(&at.bucket, &key));
        tracing::warn!(message = "the history's compacted log could not be written", error = %e);
        e
    })
}

/// The header, then a packed line per artifact.
async fn write_lines<S: ObjectStore>(
    store: &S,
    at: &OutputLocation,
    key: &str,
    header: &Header,
    history: &History<'_>,
    log: &ReadLog,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    // Fast: at 100,000 artifacts the scan writes ~4 million cycles, and the first scan after
    // a deploy must not be slower than a scan without the log.
    let mut out = GzPartWriter::new(store, &at.bucket, key, flate2::Compression::fast());
    let mut line = serde_json::to_vec(header).map_err(json_failed)?;
    line.push(b'\n');
    out.write(&line).await?;
    for artifact in packed_artifacts(history, Some(&log.index), now) {
        line.clear();
        serde_json::to_writer(&mut line, &artifact).map_err(json_failed)?;
        line.push(b'\n');
        out.write(&line).await?;
    }
    out.finish().await.map(drop)
}

fn json_failed(e: serde_json::Error) -> StoreError {
    StoreError::Other(format!("could not serialize the compacted log: {e}"))
}
