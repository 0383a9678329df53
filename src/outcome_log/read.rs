//! Reading the outcome log back for the history: the history's compacted log first (one GET,
//! [`super::compacted`], staged on disk and left open to be read in step with the scan,
//! [`super::in_step`]), then one listing of `outcomes/` (pages of 1,000 keys) and one GET of
//! each passes' object written since the compacted log was (in the partitions the window
//! covers), each staged on disk, decompressed and checked a line at a time
//! (`outcome_log::reading`) in key order; of those, only the records of cycles the scan walks
//! are kept (`wanted`), sorted by place in the plan into runs in the temp dir
//! ([`super::by_place`]) that the scan merges as it walks. An object that cannot be fetched or
//! decompressed is named in the warnings; its cycles are then probed like any the log lacks.

use std::io::{BufRead, BufReader, Read};

use chrono::{DateTime, NaiveDate, Utc};
use flate2::read::GzDecoder;
use futures_util::{StreamExt, stream};

use super::by_place::{ByPlace, Spilling};
use super::compacted::{self, COMPACTED};
use super::in_step::InStep;
use super::packed::PACKED_FORMAT;
use super::{LOG_DIR, LogIndex, ObjectReader, OutcomeRecord, Recorded, partition_date};
use crate::ledger::current::CurrentCycles;
use crate::ledger::for_history::read_current;
use crate::report::files::LEDGER;
use crate::store::{ObjectStore, S3Url, StoreError};

/// The log as read for one history run.
#[derive(Debug, Default)]
pub struct ReadLog {
    /// A compacted log of the first format, read whole.
    pub index: LogIndex,
    /// The passes' records since the compacted log, sorted by place in the plan.
    pub passes: Option<ByPlace>,
    /// The compacted log's packed lines, to be read in step with the scan (its warnings come
    /// when it is finished, before [`ReadLog::warnings`]).
    pub compacted: Option<InStep>,
    /// One line per object (or listing) that could not be used fully.
    pub warnings: Vec<String>,
    /// Objects read (the compacted log included).
    pub objects: usize,
    /// Requests made (GETs and LIST pages).
    pub requests: usize,
    /// The last passes' object (by key) whose records are in `index`.
    pub through: Option<String>,
    /// What the last pass left in the ledger of the planned artifacts' current cycles: what
    /// the passes saw of cycles not closed yet.
    pub ledger: Option<CurrentCycles>,
}

impl ReadLog {
    /// Moves `id`'s records (at `at` in the plan; `position` gives a planned artifact's place)
    /// into `into`: the compacted log's line, read in step, then the passes' records since,
    /// as the whole index added them.
    pub fn take_artifact(
        &mut self,
        id: &str,
        at: usize,
        position: impl Fn(&str) -> Option<usize>,
        into: &mut LogIndex,
    ) {
        if let Some(compacted) = self.compacted.as_mut() {
            compacted.take(id, at, position, into);
        }
        self.index.move_artifact(id, into);
        if let Some(passes) = self.passes.as_mut() {
            passes.take(id, at, into);
        }
    }

    /// Reads the rest of the compacted log when `read_rest` (`InStep::finish`), its warnings
    /// put first.
    pub fn finish_compacted(&mut self, position: impl Fn(&str) -> Option<usize>, read_rest: bool) {
        if let Some(compacted) = self.compacted.take() {
            let mut warnings = compacted.finish(position, read_rest);
            warnings.append(&mut self.warnings);
            self.warnings = warnings;
        }
    }
}

/// Which records are kept: `(artifact id, tick)` of a cycle the scan walks.
pub type Wanted<'w> = &'w (dyn Fn(&str, crate::ledger::LedgerTime) -> bool + Sync);

/// What the scan reads of the log: the records it `wanted`s, and the ledger's current cycles
/// of its `planned` artifacts (`place` gives one's place by id); the passes' records sorted in
/// runs of `run_records` (0: into one index, as before the runs: the tests' reference).
pub struct Reading<'w, F> {
    pub wanted: Wanted<'w>,
    pub planned: usize,
    pub place: F,
    pub run_records: usize,
}

/// Reads the log: the compacted log, then the passes' objects after it in partitions from
/// `since` on, at most `concurrency` GETs at once, keeping their records that are wanted.
pub async fn read_log<S: ObjectStore, F: Fn(&str) -> Option<usize>>(
    store: &S,
    (bucket, prefix): (&str, &str),
    since: NaiveDate,
    concurrency: usize,
    now: DateTime<Utc>,
    reading: Reading<'_, F>,
) -> ReadLog {
    let mut log = ReadLog::default();
    let wanted = reading.wanted;
    read_compacted(store, bucket, prefix, now, &mut log, wanted).await;
    log.requests += 1;
    let ledger_key = format!("{prefix}{LEDGER}");
    let (planned, place) = (reading.planned, &reading.place);
    log.ledger = read_current(store, bucket, &ledger_key, planned, place).await;
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
    let objects: Vec<String> = keys
        .into_iter()
        .filter(|k| k.ends_with(".ndjson.gz"))
        .filter(|k| after.as_ref().is_none_or(|after| k > after))
        .filter(|k| partition_date(k).is_some_and(|d| d >= since))
        .collect();
    if let Some(last) = objects.iter().max() {
        log.through = Some(last.clone());
    }
    log.requests += objects.len();
    read_objects(store, bucket, objects, concurrency, now, &reading, &mut log).await;
    log
}

/// The passes' `objects` (keys, in key order) staged and read one at a time, their wanted
/// records sorted into runs (or, at `run_records` 0, into the index).
async fn read_objects<S: ObjectStore, F: Fn(&str) -> Option<usize>>(
    store: &S,
    bucket: &str,
    objects: Vec<String>,
    concurrency: usize,
    now: DateTime<Utc>,
    reading: &Reading<'_, F>,
    log: &mut ReadLog,
) {
    let (wanted, place) = (reading.wanted, &reading.place);
    let mut spilling =
        (reading.run_records > 0).then(|| Spilling::with_run_records(reading.run_records));
    let mut index = std::mem::take(&mut log.index);
    let mut fetched = stream::iter(objects)
        .map(|key| async move {
            let got = stage(store, bucket, &key).await;
            (key, got)
        })
        .buffered(concurrency.clamp(1, STAGED_AT_ONCE));
    while let Some((key, got)) = fetched.next().await {
        let name = S3Url(bucket, &key).to_string();
        match got {
            Ok(staged) => {
                log.objects += 1;
                let lines = BufReader::with_capacity(READ_BUFFER, GzDecoder::new(staged.body));
                let sink = |record: OutcomeRecord| match spilling.as_mut() {
                    Some(spilling) => spill(record, spilling, place, wanted),
                    None => keep(record, &mut index, wanted),
                };
                log.warnings.extend(read_lines(&name, lines, now, sink));
            }
            Err(e) => log.warnings.push(format!(
                "{name}: could not be read ({e}); its cycles probed instead"
            )),
        }
    }
    log.index = index;
    log.passes = spilling.map(Spilling::finish);
}

/// How many passes' objects are staged in the temp dir at once (read one at a time, in key
/// order, while the next ones download).
const STAGED_AT_ONCE: usize = 8;

/// An object's body, downloaded to a temporary file (kept until dropped) or, when the temp
/// dir cannot serve, held in memory.
struct Staged {
    body: Box<dyn Read + Send>,
    file: Option<tempfile::NamedTempFile>,
}

/// GETs `key` into a [`Staged`] body.
async fn stage<S: ObjectStore>(store: &S, bucket: &str, key: &str) -> Result<Staged, StoreError> {
    let Ok(file) = tempfile::NamedTempFile::new() else {
        let object = store.get(bucket, key).await?;
        let body = Box::new(std::io::Cursor::new(object.body));
        return Ok(Staged { body, file: None });
    };
    store.get_to_file(bucket, key, file.path()).await?;
    let opened = std::fs::File::open(file.path()).map_err(|e| StoreError::Other(e.to_string()))?;
    Ok(Staged {
        body: Box::new(opened),
        file: Some(file),
    })
}

/// A passes' record into the runs when it is wanted, by its artifact's place in the plan.
fn spill(
    record: OutcomeRecord,
    spilling: &mut Spilling,
    place: &impl Fn(&str) -> Option<usize>,
    wanted: Wanted<'_>,
) {
    if !wanted(&record.artifact_id, record.tick) {
        return;
    }
    if let Some(at) = place(&record.artifact_id) {
        spilling.push(at, &Recorded::of(&record), record.set_cycle());
    }
}

/// The compacted log's header and where it stops, its lines left to be read in step with the
/// scan; absent, it is the first scan with a log. Downloaded to a temporary file and read from
/// there a line at a time (at a million artifacts it is ~1 GB gzipped); read into memory when
/// the temp dir cannot serve. One of the first format is read whole into the index.
async fn read_compacted<S: ObjectStore>(
    store: &S,
    bucket: &str,
    prefix: &str,
    now: DateTime<Utc>,
    log: &mut ReadLog,
    wanted: Wanted<'_>,
) {
    let key = format!("{prefix}{COMPACTED}");
    let name = S3Url(bucket, &key).to_string();
    log.requests += 1;
    let (body, staged) = match stage(store, bucket, &key).await {
        Ok(staged) => (staged.body, staged.file),
        Err(StoreError::NotFound { .. }) => return,
        Err(e) => {
            log.warnings.push(format!(
                "{name}: could not be read ({e}); the passes' objects of the window read instead"
            ));
            return;
        }
    };
    let mut lines = BufReader::with_capacity(READ_BUFFER, GzDecoder::new(body));
    let mut first = String::new();
    let header = lines
        .read_line(&mut first)
        .ok()
        .and_then(|_| compacted::parse_header(first.trim_end()));
    let Some(header) = header else {
        log.warnings.push(format!(
            "{name}: unreadable; the passes' objects of the window read instead"
        ));
        return;
    };
    log.through = header.through;
    match header.history_outcomes {
        PACKED_FORMAT => {
            log.objects += 1;
            log.compacted = Some(InStep::new(name, Box::new(lines), staged, now));
        }
        _ => {
            log.objects += 1;
            let mut index = std::mem::take(&mut log.index);
            let keep = |record: OutcomeRecord| keep(record, &mut index, wanted);
            log.warnings.extend(read_lines(&name, lines, now, keep));
            log.index = index;
        }
    }
}

/// What is decompressed at once.
const READ_BUFFER: usize = 64 * 1024;

/// An object's lines, one at a time, each usable record to `sink`; returns the object's
/// warnings. A stream that breaks off (truncated, not gzip, not text) keeps the records before
/// the break and says so.
fn read_lines(
    name: &str,
    mut lines: impl BufRead,
    now: DateTime<Utc>,
    mut sink: impl FnMut(OutcomeRecord),
) -> Vec<String> {
    let mut object = ObjectReader::new(name, now);
    let mut line = String::new();
    let mut read = 0usize;
    let broken = loop {
        line.clear();
        match lines.read_line(&mut line) {
            Ok(0) => break None,
            Ok(_) => {
                if let Some(record) = object.line(line.trim_end_matches('\n')) {
                    read += 1;
                    sink(record);
                }
            }
            Err(e) => break Some(e),
        }
    };
    let mut warnings = Vec::new();
    if let Some(e) = broken {
        warnings.push(format!(
            "{name}: not a whole gzip stream of text ({e}); {read} record(s) read before it \
             ended, the rest of its cycles probed instead"
        ));
    }
    warnings.extend(object.warnings());
    warnings
}

/// `record` into `index` when it is wanted (a compacted log of the first format; the
/// passes' records when not sorted in runs).
fn keep(record: OutcomeRecord, index: &mut LogIndex, wanted: Wanted<'_>) {
    if wanted(&record.artifact_id, record.tick) {
        index.add_one(record);
    }
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
