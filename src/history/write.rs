//! Writing the history scan's outputs without holding them whole or staging them on disk:
//! `history.json` (~176 bytes a cycle: 366 MB at 100,000 artifacts, ~3.7 GB at a million) and
//! the page's digest (`page::digest_file`) are written a piece at a time into an upload in
//! parts ([`crate::store::parts`]), one part (8 MiB) held at a time.
//!
//! Up to 1,000 artifacts `history.json` is indented and written in one PUT, as the pass's
//! files are (`pass::put_json`); above, it is compact ([`CompactPieces`]), the same bytes as
//! before.

use super::{CompactPieces, History, HistoryFile};
use crate::page::digest_file::{write_artifact, write_header};
use crate::store::parts::{GzPartWriter, PartWriter, Written};
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

/// Writes the page's digest of `history` (gzipped lines) at `bucket`/`key`.
pub async fn put_digest<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    history: &History<'_>,
) -> Result<Written, StoreError> {
    let mut writer = GzPartWriter::new(store, bucket, key, flate2::Compression::default());
    let mut line = Vec::new();
    write_header(&mut line, history);
    writer.write(&line).await?;
    for artifact in &history.artifacts {
        line.clear();
        write_artifact(&mut line, artifact);
        writer.write(&line).await?;
    }
    writer.finish().await
}
