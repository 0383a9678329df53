//! Writing the history scan's outputs without holding them whole or staging them on disk:
//! `history.json` (~176 bytes a cycle: 366 MB at 100,000 artifacts, ~3.7 GB at a million) and
//! the page's digest (`page::digest_file`) are written a piece at a time into an upload in
//! parts ([`crate::store::parts`]), one part (8 MiB) held at a time.
//!
//! Up to 1,000 artifacts `history.json` is indented and written in one PUT, as the pass's
//! files are (`pass::put_json`); above, it is compact ([`CompactPieces`]), the same bytes as
//! before.

use std::io::{BufWriter, Write};

use super::{CompactPieces, History, HistoryFile};
use crate::page::digest_file::{write_artifact, write_header};
use crate::store::parts::{PartWriter, Written};
use crate::store::{ObjectStore, StoreError};

/// Above this many artifacts `history.json` is compact and written in parts.
pub const PRETTY_MAX_ARTIFACTS: usize = 1_000;

/// Writes `history.json` of `history` at `bucket`/`key`.
pub async fn put_history_json<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    history: &History<'_>,
) -> Result<Written, StoreError> {
    let mut writer = PartWriter::new(store, bucket, key, "application/json");
    if history.artifacts.len() <= PRETTY_MAX_ARTIFACTS {
        let pretty = serde_json::to_vec_pretty(&HistoryFile(history));
        writer
            .buffer()
            .extend(pretty.expect("history.json always serializes"));
        return writer.finish().await;
    }
    let mut pieces = CompactPieces::new(history);
    while pieces.write_next(writer.buffer()) {
        writer.send_full().await?;
    }
    writer.finish().await
}

/// Gzipped bytes are moved to the writer in chunks of this size.
const GZ_CHUNK: usize = 256 * 1024;

/// Writes the page's digest of `history` (gzipped lines) at `bucket`/`key`.
pub async fn put_digest<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    history: &History<'_>,
) -> Result<Written, StoreError> {
    let mut writer = PartWriter::new(store, bucket, key, "application/gzip");
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Buffered: flate2 zeroes its output buffer on every write it is given
    // (BENCHMARKS.md#the-history-from-the-log-at-scale).
    let mut lines = BufWriter::with_capacity(GZ_CHUNK, gz);
    let mut line = Vec::new();
    write_header(&mut line, history);
    for artifact in &history.artifacts {
        write_artifact(&mut line, artifact);
        lines.write_all(&line).map_err(gz_failed)?;
        line.clear();
        let zipped = lines.get_mut().get_mut();
        if zipped.len() >= GZ_CHUNK {
            writer.buffer().append(zipped);
            writer.send_full().await?;
        }
    }
    lines.write_all(&line).map_err(gz_failed)?;
    let rest = (lines.into_inner().map_err(|e| gz_failed(e.into_error())))?
        .finish()
        .map_err(gz_failed)?;
    writer.buffer().extend(rest);
    writer.finish().await
}

fn gz_failed(e: std::io::Error) -> StoreError {
    StoreError::Other(format!("could not gzip the history's digest: {e}"))
}
