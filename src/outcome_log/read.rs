//! Reading the outcome log back for the history: one listing of `outcomes/` (pages of 1,000
//! keys), then one GET of each object in the partitions the history's window covers, each
//! decompressed and checked (`outcome_log::reading`). An object that cannot be fetched or
//! decompressed is named in the warnings; its cycles are then probed like any the log lacks.

use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{StreamExt, stream};

use super::{LOG_DIR, LogIndex, partition_date, read_object};
use crate::store::{ObjectStore, S3Url};

/// The log as read for one history run.
#[derive(Debug, Default)]
pub struct ReadLog {
    pub index: LogIndex,
    /// One line per object (or listing) that could not be used fully.
    pub warnings: Vec<String>,
    /// Objects read.
    pub objects: usize,
    /// Requests made (LIST pages and GETs).
    pub requests: usize,
}

/// Reads the log's objects in partitions from `since` on, at most `concurrency` GETs at once.
pub async fn read_log<S: ObjectStore>(
    store: &S,
    bucket: &str,
    prefix: &str,
    since: NaiveDate,
    concurrency: usize,
    now: DateTime<Utc>,
) -> ReadLog {
    let mut log = ReadLog::default();
    let dir = format!("{prefix}{LOG_DIR}");
    let keys = match list_keys(store, bucket, &dir, &mut log.requests).await {
        Ok(keys) => keys,
        Err(e) => {
            log.warnings.push(format!(
                "{}: the outcome log could not be listed ({e}); every cycle probed instead",
                S3Url(bucket, &dir)
            ));
            return log;
        }
    };
    let wanted: Vec<String> = keys
        .into_iter()
        .filter(|k| k.ends_with(".ndjson.gz"))
        .filter(|k| partition_date(k).is_some_and(|d| d >= since))
        .collect();
    log.requests += wanted.len();
    let mut fetched = stream::iter(wanted)
        .map(|key| async move {
            let got = store.get(bucket, &key).await;
            (key, got)
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((key, got)) = fetched.next().await {
        let name = S3Url(bucket, &key).to_string();
        let body = match got {
            Ok(object) => object.body,
            Err(e) => {
                log.warnings.push(format!(
                    "{name}: could not be read ({e}); its cycles probed instead"
                ));
                continue;
            }
        };
        log.objects += 1;
        let (text, gunzip_error) = gunzip(&body);
        let read = read_object(&name, &text, now);
        if let Some(e) = gunzip_error {
            log.warnings.push(format!(
                "{name}: not a whole gzip stream ({e}); {} record(s) read before it ended, the \
                 rest of its cycles probed instead",
                read.records.len()
            ));
        }
        log.warnings.extend(read.warnings);
        log.index.add(read.records);
    }
    log
}

/// Every key under `dir`.
async fn list_keys<S: ObjectStore>(
    store: &S,
    bucket: &str,
    dir: &str,
    requests: &mut usize,
) -> Result<Vec<String>, crate::store::StoreError> {
    let mut keys = Vec::new();
    let mut continuation: Option<String> = None;
    loop {
        *requests += 1;
        let page = store
            .list_page(bucket, dir, continuation.as_deref(), 1000)
            .await?;
        keys.extend(page.objects.into_iter().map(|o| o.key));
        match page.continuation {
            Some(next) => continuation = Some(next),
            None => return Ok(keys),
        }
    }
}

/// The text of a gzip body, as far as it decompresses (a truncated object keeps its whole
/// lines; a cut line is then unreadable), with the error that stopped it.
fn gunzip(body: &[u8]) -> (String, Option<String>) {
    let mut decoder = flate2::read::GzDecoder::new(body);
    let mut bytes = Vec::new();
    let error = decoder.read_to_end(&mut bytes).err().map(|e| e.to_string());
    (String::from_utf8_lossy(&bytes).into_owned(), error)
}
