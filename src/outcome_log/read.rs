//! Reading the outcome log back for the history: the history's compacted log first (one GET,
//! [`super::compacted`]), then one listing of `outcomes/` (pages of 1,000 keys) and one GET of
//! each passes' object written since the compacted log was (in the partitions the window
//! covers), each decompressed and checked (`outcome_log::reading`). An object that cannot be
//! fetched or decompressed is named in the warnings; its cycles are then probed like any the
//! log lacks.

use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{StreamExt, stream};

use super::compacted::{self, COMPACTED};
use super::{LOG_DIR, LogIndex, partition_date, read_object};
use crate::store::{ObjectStore, S3Url, StoreError};

/// The log as read for one history run.
#[derive(Debug, Default)]
pub struct ReadLog {
    pub index: LogIndex,
    /// One line per object (or listing) that could not be used fully.
    pub warnings: Vec<String>,
    /// Objects read (the compacted log included).
    pub objects: usize,
    /// Requests made (GETs and LIST pages).
    pub requests: usize,
    /// The last passes' object (by key) whose records are in `index`.
    pub through: Option<String>,
}

/// Reads the log: the compacted log, then the passes' objects after it in partitions from
/// `since` on, at most `concurrency` GETs at once.
pub async fn read_log<S: ObjectStore>(
    store: &S,
    bucket: &str,
    prefix: &str,
    since: NaiveDate,
    concurrency: usize,
    now: DateTime<Utc>,
) -> ReadLog {
    let mut log = ReadLog::default();
    read_compacted(store, bucket, prefix, now, &mut log).await;
    let dir = format!("{prefix}{LOG_DIR}");
    let keys = match list_keys(store, bucket, &dir, &mut log.requests).await {
        Ok(keys) => keys,
        Err(e) => {
            log.warnings.push(format!(
                "{}: the outcome log could not be listed ({e}); its cycles probed instead",
                S3Url(bucket, &dir)
            ));
            return log;
        }
    };
    let after = log.through.clone();
    let wanted: Vec<String> = keys
        .into_iter()
        .filter(|k| k.ends_with(".ndjson.gz"))
        .filter(|k| after.as_ref().is_none_or(|after| k > after))
        .filter(|k| partition_date(k).is_some_and(|d| d >= since))
        .collect();
    if let Some(last) = wanted.iter().max() {
        log.through = Some(last.clone());
    }
    log.requests += wanted.len();
    let mut fetched = stream::iter(wanted)
        .map(|key| async move {
            let got = store.get(bucket, &key).await;
            (key, got)
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((key, got)) = fetched.next().await {
        let name = S3Url(bucket, &key).to_string();
        match got {
            Ok(object) => read_body(&name, &object.body, now, &mut log),
            Err(e) => log.warnings.push(format!(
                "{name}: could not be read ({e}); its cycles probed instead"
            )),
        }
    }
    log
}

/// The compacted log's records and where it stops; absent, it is the first scan with a log.
async fn read_compacted<S: ObjectStore>(
    store: &S,
    bucket: &str,
    prefix: &str,
    now: DateTime<Utc>,
    log: &mut ReadLog,
) {
    let key = format!("{prefix}{COMPACTED}");
    let name = S3Url(bucket, &key).to_string();
    log.requests += 1;
    let body = match store.get(bucket, &key).await {
        Ok(object) => object.body,
        Err(StoreError::NotFound { .. }) => return,
        Err(e) => {
            log.warnings.push(format!(
                "{name}: could not be read ({e}); the passes' objects of the window read instead"
            ));
            return;
        }
    };
    let (text, gunzip_error) = gunzip(&body);
    let Some((header, records)) = compacted::split(&text).filter(|_| gunzip_error.is_none()) else {
        log.warnings.push(format!(
            "{name}: unreadable; the passes' objects of the window read instead"
        ));
        return;
    };
    log.objects += 1;
    log.through = header.through;
    let read = read_object(&name, records, now);
    log.warnings.extend(read.warnings);
    log.index.add(read.records);
}

/// One passes' object's records into the index.
fn read_body(name: &str, body: &[u8], now: DateTime<Utc>, log: &mut ReadLog) {
    log.objects += 1;
    let (text, gunzip_error) = gunzip(body);
    let read = read_object(name, &text, now);
    if let Some(e) = gunzip_error {
        log.warnings.push(format!(
            "{name}: not a whole gzip stream ({e}); {} record(s) read before it ended, the rest \
             of its cycles probed instead",
            read.records.len()
        ));
    }
    log.warnings.extend(read.warnings);
    log.index.add(read.records);
}

/// Every key under `dir`.
async fn list_keys<S: ObjectStore>(
    store: &S,
    bucket: &str,
    dir: &str,
    requests: &mut usize,
) -> Result<Vec<String>, StoreError> {
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
