//! Writing the history's compacted log (`outcome_log::compacted` has its format) during a
//! scan: every expected cycle of the window packed, a line per artifact (`history::to_log`),
//! written as each batch of artifacts is judged, gzipped and uploaded in parts
//! (`store::parts`): ~25 bytes a cycle, ~1 GB at a million artifacts, so neither held nor
//! staged on disk whole.

use chrono::{DateTime, Utc};

use super::ArtifactHistory;
use super::to_log::packed_artifact;
use crate::outcome_log::LogIndex;
use crate::outcome_log::compacted::{COMPACTED, Header};
use crate::outcome_log::packed::PACKED_FORMAT;
use crate::settings::OutputLocation;
use crate::store::parts::GzPartWriter;
use crate::store::{ObjectStore, S3Url, StoreError};

/// The compacted log being written: the header first, then each judged artifact's line.
pub struct CompactedWriter<'s, S> {
    out: GzPartWriter<'s, S>,
    url: String,
    now: DateTime<Utc>,
    line: Vec<u8>,
    /// The first failure: nothing more is written, and [`CompactedWriter::finish`] says why.
    failed: Option<StoreError>,
}

impl<'s, S: ObjectStore> CompactedWriter<'s, S> {
    /// Starts the log at `at`, read through `through` (the newest partition the scan read).
    pub async fn start(
        store: &'s S,
        at: &OutputLocation,
        through: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        let key = format!("{}{COMPACTED}", at.prefix);
        // Fast: at 100,000 artifacts the scan writes ~4 million cycles, and the first scan
        // after a deploy must not be slower than a scan without the log.
        let out = GzPartWriter::new(store, &at.bucket, &key, flate2::Compression::fast());
        let mut writer = CompactedWriter {
            out,
            url: S3Url(&at.bucket, &key).to_string(),
            now,
            line: Vec::new(),
            failed: None,
        };
        let header = Header {
            history_outcomes: PACKED_FORMAT,
            through,
            written_at: crate::text::rfc3339(now),
        };
        writer.write_line(&header).await;
        writer
    }

    /// Appends `artifact`'s line (its cycles, with the records `log` held of them).
    pub async fn add(&mut self, artifact: &ArtifactHistory<'_>, log: Option<&LogIndex>) {
        let packed = packed_artifact(artifact, log, self.now);
        self.write_line(&packed).await;
    }

    async fn write_line<T: serde::Serialize>(&mut self, value: &T) {
        if self.failed.is_some() {
            return;
        }
        self.line.clear();
        if let Err(e) = serde_json::to_writer(&mut self.line, value) {
            let e = StoreError::Other(format!("could not serialize the compacted log: {e}"));
            self.failed = Some(e);
            return;
        }
        self.line.push(b'\n');
        if let Err(e) = self.out.write(&self.line).await {
            self.failed = Some(e);
        }
    }

    /// Makes the object, or says why it was not written.
    pub async fn finish(self) -> Result<(), String> {
        let written = match self.failed {
            Some(e) => {
                self.out.abandon().await;
                Err(e)
            }
            None => self.out.finish().await.map(drop),
        };
        written.map_err(|e| {
            let e = format!("{}: {e}", self.url);
            tracing::warn!(message = "the history's compacted log could not be written", error = %e);
            e
        })
    }
}
