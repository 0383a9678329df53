//! `history.json` and the page's digest written while the scan judges, a batch of artifacts at
//! a time, so no artifact's cycles are kept once written: the scan's memory is one batch's,
//! not every cycle's (~5.5 GB at a million artifacts when it held them all).
//!
//! Both files open with what is known only at the end (`history.json`'s head: the totals,
//! `not_scanned`, the warnings; the digest's header line: `n_artifacts`). Their uploads hold
//! their first part back and send it last, behind the head, as part 1 (`store::parts`): the
//! bytes of `history.json` are those of [`super::write::put_history_json`] of the whole scan;
//! the digest's head is a gzip member of its own, its lines unzipped the same. A scan of at
//! most [`PRETTY_MAX_ARTIFACTS`] keeps its artifacts and writes both at the end, as before
//! (`history.json` indented, in one PUT).

use super::write::{PRETTY_MAX_ARTIFACTS, put_digest, put_history_json};
use super::{ArtifactHistory, CompactTail, History, write_compact_artifact, write_compact_head};
use crate::page::digest_file::{write_artifact, write_header};
use crate::store::parts::{GzPartWriter, PartWriter};
use crate::store::{ObjectStore, StoreError};

/// The two files being written.
pub struct HistoryFiles<'s, 'r, S> {
    store: &'s S,
    bucket: String,
    keys: (String, String),
    json: PartWriter<'s, S>,
    digest: GzPartWriter<'s, S>,
    /// The artifacts kept while there are at most [`PRETTY_MAX_ARTIFACTS`].
    first: Vec<ArtifactHistory<'r>>,
    /// The artifacts are written as they come (past [`PRETTY_MAX_ARTIFACTS`]).
    streaming: bool,
    written: usize,
    line: Vec<u8>,
    /// The first failure: nothing more is written, and [`HistoryFiles::finish`] returns it.
    failed: Option<StoreError>,
}

impl<'s, 'r, S: ObjectStore> HistoryFiles<'s, 'r, S> {
    /// Files at `bucket`/`json_key` (`history.json`) and `bucket`/`digest_key`.
    pub fn new(store: &'s S, bucket: &str, json_key: &str, digest_key: &str) -> Self {
        let level = flate2::Compression::default();
        HistoryFiles {
            store,
            bucket: bucket.to_string(),
            keys: (json_key.to_string(), digest_key.to_string()),
            json: PartWriter::new(store, bucket, json_key, "application/json").holding_first_part(),
            digest: GzPartWriter::new(store, bucket, digest_key, level).holding_first_part(),
            first: Vec::new(),
            streaming: false,
            written: 0,
            line: Vec::new(),
            failed: None,
        }
    }

    /// Parts of `bytes` for `history.json` (tests; S3 refuses parts under 5 MiB).
    pub fn with_part_bytes(mut self, bytes: usize) -> Self {
        self.json = self.json.with_part_bytes(bytes);
        self
    }

    /// Takes the next judged artifact (in registry order).
    pub async fn add(&mut self, artifact: ArtifactHistory<'r>) {
        if self.streaming {
            return self.write(&artifact).await;
        }
        self.first.push(artifact);
        if self.first.len() > PRETTY_MAX_ARTIFACTS {
            self.streaming = true;
            for artifact in std::mem::take(&mut self.first) {
                self.write(&artifact).await;
            }
        }
    }

    /// Appends `artifact` to both files, sending the parts that fill.
    async fn write(&mut self, artifact: &ArtifactHistory<'_>) {
        if self.failed.is_some() {
            return;
        }
        write_compact_artifact(self.json.buffer(), self.written, artifact);
        self.written += 1;
        self.line.clear();
        write_artifact(&mut self.line, artifact);
        let sent = match self.json.send_full().await {
            Ok(()) => self.digest.write(&self.line).await,
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            self.failed = Some(e);
        }
    }

    /// Makes both files: the head and header of `history` (the scan's totals) before what was
    /// written, the SLA report after it. A scan of few artifacts gets them back in
    /// `history.artifacts` and both files whole.
    pub async fn finish(self, history: &mut History<'r>) -> Result<(), StoreError> {
        let (json_key, digest_key) = &self.keys;
        if !self.streaming {
            history.artifacts = self.first;
            put_history_json(self.store, &self.bucket, json_key, history).await?;
            put_digest(self.store, &self.bucket, digest_key, history).await?;
            return Ok(());
        }
        if let Some(e) = self.failed {
            self.json.abandon().await;
            self.digest.abandon().await;
            return Err(e);
        }
        let mut json = self.json;
        let mut tail = CompactTail::new(history.sla());
        while tail.write_next(json.buffer()) {
            if let Err(e) = json.send_full().await {
                self.digest.abandon().await;
                return Err(e);
            }
        }
        let mut head = Vec::new();
        write_compact_head(&mut head, history);
        if let Err(e) = json.finish_with(head).await {
            self.digest.abandon().await;
            return Err(e);
        }
        let mut header = Vec::new();
        write_header(&mut header, history);
        self.digest.finish_with_head(&header).await.map(drop)
    }
}
