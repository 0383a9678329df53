//! The history scan's probing: every planned past cycle that the outcome log cannot answer
//! is probed through the store, with bounded concurrency and a deadline.
//!
//! The scan goes a batch of artifacts at a time, in registry order ([`scan_writing`]): which
//! cycles are probed is decided first (`decide.rs`); each batch's keys are then listed where a page pays (`listed`, the pass's
//! planner) and the rest HEADed. It probes the way a pass does (one stream of probes, at most `probe_concurrency`
//! in flight, none started after the deadline) but over (artifact, cycle) pairs in registry order, so an
//! invocation that runs out of time has finished the artifacts before the cut and not started
//! most of those after it. An artifact with any cycle left unprobed is reported in
//! `not_scanned` instead of with a partial history. A failed probe (or a bug met while
//! probing) is that cycle's `error_code`, never the scan's failure. Each batch's judged
//! artifacts are then written (the compacted log, `compact`; `history.json` and the digest,
//! `files`) and dropped before the next batch is decided.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant as StdInstant;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};

use super::cell::{self, CellOutcome, ProbeError, Seen};
use super::compact::CompactedWriter;
use super::decide::{Cells, Decided, Judged, Known};
use super::files::HistoryFiles;
use super::listed;
use super::lookback::Lookback;
use super::plan::{ArtifactPlan, Plan, plan};
use super::positions::PlanPositions;
use super::set_cycles;
use super::{ArtifactHistory, History};
use crate::cadence::Cycle;
use crate::classify::ResolvedKeys;
use crate::guard::guarded_async;
use crate::outcome_log::LogIndex;
use crate::outcome_log::by_place::RUN_RECORDS;
use crate::outcome_log::in_step::READ_AHEAD_RECORDS;
use crate::outcome_log::read::{ReadLog, Reading, read_log};
use crate::registry::{ArtifactSpec, Registry};
use crate::settings::{DEFAULT_LIST_MAX_PAGES, DEFAULT_PROBE_CONCURRENCY, OutputLocation};
use crate::store::{ObjectStore, StoreError};

/// How one scan runs.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// At most this many probes in flight.
    pub probe_concurrency: usize,
    /// No probe starts at or after this instant; artifacts left unprobed are `not_scanned`.
    pub probe_deadline: Option<tokio::time::Instant>,
    /// Only these artifact ids (all when empty).
    pub only: Vec<String>,
    /// Per-cadence overrides of the default lookback.
    pub lookback: Lookback,
    /// The most pages one listing of the probed cycles' keys may read
    /// (`PROBE_LIST_MAX_PAGES`); 0: HEADs only.
    pub list_max_pages: u32,
    /// Where the outcome log is read from (the results bucket and prefix); `None`: every
    /// expected cycle is probed.
    pub log_location: Option<OutputLocation>,
    /// A batch of artifacts ends once it has this many cycles to probe, or
    /// [`PLANNED_PER_PROBE`] times as many planned cycles (at least one artifact): what the
    /// scan holds at once ([`PLANNED_AT_ONCE`]).
    pub batch_cycles: usize,
    /// The most records of the compacted log read ahead of the artifact the scan is at
    /// ([`READ_AHEAD_RECORDS`]; `outcome_log::in_step`).
    pub log_read_ahead: usize,
    /// The passes' records since the compacted log are sorted by place in runs of this many
    /// in the temp dir ([`RUN_RECORDS`]; `outcome_log::by_place`); 0: held in one index (the
    /// tests' reference for the runs).
    pub log_run_records: usize,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            probe_concurrency: DEFAULT_PROBE_CONCURRENCY,
            probe_deadline: None,
            only: Vec::new(),
            lookback: Lookback::default(),
            list_max_pages: DEFAULT_LIST_MAX_PAGES,
            log_location: None,
            batch_cycles: PLANNED_AT_ONCE,
            log_read_ahead: READ_AHEAD_RECORDS,
            log_run_records: RUN_RECORDS,
        }
    }
}

/// How many cycles to probe are planned (their keys rendered and held) at once, at least: a
/// first scan after a deploy probes every expected cycle, millions at a large registry. A
/// batch also ends at [`PLANNED_PER_PROBE`] times as many planned cycles (~88 bytes each
/// while the batch is judged, and ~32 more for the outcome log's records of them read in
/// step): ~12,500 artifacts of ~40 cycles, ~60 MB. Smaller batches would hold less, but the
/// probes' listings are planned per batch and a date directory's keys spread over more
/// batches are listed once per batch: with batches of 100,000 planned cycles the
/// 100,000-artifact benchmark made 2,579 LIST requests instead of 125, with 1,000,000 317
/// (BENCHMARKS.md#the-history-judged-and-written-per-batch-issue-24-item-4).
pub const PLANNED_AT_ONCE: usize = 100_000;

/// A batch ends at this many times [`ScanSettings::batch_cycles`] planned cycles: 500,000 by
/// default, which at a million artifacts leaves the 512 MB function room beside the registry
/// (~191 MB), the plan and the per-artifact SLA counts
/// (BENCHMARKS.md#the-million-in-step-issue-24-item-4).
pub const PLANNED_PER_PROBE: usize = 5;

/// Scans the history of every selected artifact of `registry` at `now`, keeping every judged
/// artifact in the result (the CLI's `history`; a small scan).
pub async fn scan_history<'r, S: ObjectStore>(
    store: &S,
    registry: &'r Registry,
    settings: &ScanSettings,
    now: DateTime<Utc>,
) -> History<'r> {
    scan_writing(store, registry, settings, now, None).await
}

/// Scans as [`scan_history`] does, a batch of artifacts at a time (registry order): each
/// batch's cycles decided, probed and judged, then its artifacts written to the compacted
/// log and to `files` (kept in the result when `None`) and dropped, so the scan holds one
/// batch's cycles, not every cycle. No batch starts after the probe deadline: the artifacts
/// left are `not_scanned`. `files` is finished by the caller, with the result's totals.
pub async fn scan_writing<'s, 'r, S: ObjectStore>(
    store: &'s S,
    registry: &'r Registry,
    settings: &ScanSettings,
    now: DateTime<Utc>,
    mut files: Option<&mut HistoryFiles<'s, 'r, S>>,
) -> History<'r> {
    let started = StdInstant::now();
    let plan = plan(registry, &settings.only, &settings.lookback, now);
    let positions = PlanPositions::of(&plan);
    let mut log = match &settings.log_location {
        Some(at) => Some(read_log_for(store, at, (&plan, &positions), settings, now).await),
        None => None,
    };
    let mut read_log_took = started.elapsed();
    let ledger = log.as_mut().and_then(|l| l.ledger.take());
    let mut compacted = match (&settings.log_location, &log) {
        (Some(at), Some(log)) => {
            Some(CompactedWriter::start(store, at, log.through.clone(), now).await)
        }
        _ => None,
    };
    let mut history = History {
        generated_at: now,
        lookback: plan.lookback.clone(),
        skipped_unsupported: plan.skipped_unsupported,
        ..History::default()
    };
    // One SLA count an artifact (32 bytes: ~32 MB at a million), reserved whole rather than
    // doubled as it grows (the last doubling held 1.5 times the table at once).
    (history.totals.sla.artifacts).reserve_exact(plan.artifacts.len());
    let mut decided = Decided::default();
    let mut batch_log = LogIndex::default();
    let requests = Requests::default();
    let batch_cycles = settings.batch_cycles.max(1);
    let mut lo = 0;
    for (a, target) in plan.artifacts.iter().enumerate() {
        if decided.cells.is_empty() && past(settings.probe_deadline) {
            history
                .not_scanned
                .extend(plan.artifacts[a..].iter().map(|t| t.spec.id.to_string()));
            break;
        }
        if let Some(log) = log.as_mut() {
            let reading = StdInstant::now();
            let id = target.spec.id.as_str();
            log.take_artifact(id, a, |id| positions.position(&plan, id), &mut batch_log);
            read_log_took += reading.elapsed();
        }
        let known = Known {
            log: log.as_ref().map(|_| &batch_log),
            ledger: ledger.as_ref(),
        };
        decided.decide_artifact((a, target), known, now);
        let planned = PLANNED_PER_PROBE * batch_cycles;
        let full = decided.probes.len() >= batch_cycles || decided.n_cells >= planned;
        if !full && a + 1 < plan.artifacts.len() {
            continue;
        }
        let batch = &plan.artifacts[lo..=a];
        let probes = std::mem::take(&mut decided.probes);
        probe_chunk(
            store,
            batch,
            &probes,
            settings,
            &requests,
            &mut decided.cells,
        )
        .await;
        let cells = std::mem::take(&mut decided.cells);
        decided.n_cells = 0;
        lo = a + 1;
        let writing = Outputs {
            compacted: compacted.as_mut(),
            files: files.as_deref_mut(),
            log: log.as_ref().map(|_| &batch_log),
        };
        judge_batch(batch, cells, &mut history, writing).await;
        batch_log = LogIndex::default();
    }
    history.n_head_requests = requests.heads.load(Ordering::Relaxed);
    history.n_list_requests = requests.lists.load(Ordering::Relaxed);
    history.probes_by_reason = decided.reasons;
    history.n_cycles_from_log = decided.logged;
    if let Some(log) = log.as_mut() {
        let reading = StdInstant::now();
        let whole = history.not_scanned.is_empty();
        log.finish_compacted(|id| positions.position(&plan, id), whole);
        read_log_took += reading.elapsed();
    }
    let writing = history.phases.write_log + history.phases.write_files;
    history.phases.cycles = (started.elapsed() - read_log_took).saturating_sub(writing);
    if let (Some(log), Some(compacted)) = (log, compacted) {
        let writing = StdInstant::now();
        let written = compacted.finish().await;
        history.phases.write_log += writing.elapsed();
        history.n_log_requests = log.requests + 1;
        history.n_log_objects = log.objects;
        history.warnings = log.warnings;
        if let Err(e) = &written {
            history.warnings.push(format!(
                "{e}: the history's compacted log was not written; the next scan reads the \
                 passes' objects of its window instead"
            ));
        }
        history.compacted = Some(written);
    }
    history.phases.read_log = read_log_took;
    history.duration = started.elapsed();
    history
}

/// Whether `deadline` has passed.
fn past(deadline: Option<tokio::time::Instant>) -> bool {
    deadline.is_some_and(|d| tokio::time::Instant::now() >= d)
}

/// Where a batch's judged artifacts go.
struct Outputs<'w, 's, 'r, S> {
    compacted: Option<&'w mut CompactedWriter<'s, S>>,
    files: Option<&'w mut HistoryFiles<'s, 'r, S>>,
    log: Option<&'w LogIndex>,
}

/// The batch's artifacts whose every cycle was judged, counted and written (or kept); the
/// rest `not_scanned`.
async fn judge_batch<'r, S: ObjectStore>(
    batch: &[ArtifactPlan<'r>],
    cells: Cells,
    history: &mut History<'r>,
    mut to: Outputs<'_, '_, 'r, S>,
) {
    for (target, judged) in batch.iter().zip(cells) {
        let Some(artifact) = judged_artifact(target, judged) else {
            history.not_scanned.push(target.spec.id.to_string());
            continue;
        };
        if let Some(compacted) = to.compacted.as_deref_mut() {
            let writing = StdInstant::now();
            compacted.add(&artifact, to.log).await;
            history.phases.write_log += writing.elapsed();
        }
        match to.files.as_deref_mut() {
            Some(files) => {
                let writing = StdInstant::now();
                history.totals.count(&artifact);
                files.add(artifact).await;
                history.phases.write_files += writing.elapsed();
            }
            None => history.push(artifact),
        }
    }
}

/// The requests the probes sent.
#[derive(Default)]
struct Requests {
    heads: AtomicUsize,
    lists: AtomicUsize,
}

/// Probes `chunk`'s cycles: its keys' listings where they pay, then HEADs for the rest (a
/// set lists its own prefix).
async fn probe_chunk<S: ObjectStore>(
    store: &S,
    batch: &[ArtifactPlan<'_>],
    chunk: &[(usize, usize)],
    settings: &ScanSettings,
    requests: &Requests,
    cells: &mut Cells,
) {
    let deadline = settings.probe_deadline;
    let keys: Vec<ResolvedKeys> = (chunk.iter())
        .map(|&(a, c)| ResolvedKeys::resolve(batch[a].spec, batch[a].cycle(c)))
        .collect();
    let specs = chunk.iter().map(|&(a, _)| batch[a].spec);
    let listed =
        listed::list_probes(store, specs.zip(&keys), settings.list_max_pages, deadline).await;
    requests
        .lists
        .fetch_add(listed.pages as usize, Ordering::Relaxed);
    let listed = &listed;
    let specs = chunk.iter().map(|&(a, _)| (a, batch[a].spec));
    let lists = &set_cycles::read_lists(store, specs, &requests.heads).await;
    let max_pages = settings.list_max_pages;
    let mut probed = stream::iter(chunk.iter().zip(keys).enumerate())
        .map(|(i, (&(a, c), keys))| async move {
            let (spec, cycle) = (batch[a].spec, batch[a].cycle(c));
            let probe = async {
                if spec.is_set() {
                    let values = lists.get(&a);
                    let pages = &requests.lists;
                    set_cycles::probe_set_cycle(
                        store,
                        (spec, cycle),
                        &keys,
                        values,
                        max_pages,
                        deadline,
                        pages,
                    )
                    .await
                } else {
                    let seen = (listed.canonical(i), listed.recovery(i));
                    let heads = &requests.heads;
                    let cell = probe_cycle(store, spec, cycle, keys, seen, deadline, heads).await;
                    (cell, None)
                }
            };
            let (cell, set) = guarded_async(probe).await.unwrap_or_else(|message| {
                (CellOutcome::Failed(ProbeError::internal(&message)), None)
            });
            (
                a,
                c,
                Judged {
                    cell,
                    probed: true,
                    set,
                },
            )
        })
        .buffer_unordered(settings.probe_concurrency.max(1));
    while let Some((a, c, judged)) = probed.next().await {
        cells[a][c] = Some(judged);
    }
}

/// Reads the outcome log's partitions from the day of the plan's oldest cycle on, keeping of
/// the passes' records those of planned cycles.
async fn read_log_for<S: ObjectStore>(
    store: &S,
    at: &OutputLocation,
    (plan, positions): (&Plan<'_>, &PlanPositions),
    settings: &ScanSettings,
    now: DateTime<Utc>,
) -> ReadLog {
    let oldest = plan
        .artifacts
        .iter()
        .filter_map(|a| a.cycles[a.first..a.first + a.len].last())
        .map(|c| c.tick)
        .min()
        .unwrap_or(now);
    let since = oldest.date_naive();
    let concurrency = settings.probe_concurrency;
    let reading = Reading {
        wanted: &|id: &str, tick| positions.planned(plan, id, tick),
        planned: plan.artifacts.len(),
        place: |id: &str| positions.position(plan, id),
        run_records: settings.log_run_records,
    };
    let location = (at.bucket.as_str(), at.prefix.as_str());
    let mut log = read_log(store, location, since, concurrency, now, reading).await;
    log.compacted = (log.compacted).map(|c| c.with_read_ahead(settings.log_read_ahead));
    log
}

/// The cycle's canonical key as a listing saw it or HEADed, its recovery key (listed or
/// HEADed) when the canonical one does not count, and judges what they saw.
async fn probe_cycle<S: ObjectStore>(
    store: &S,
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: ResolvedKeys,
    listed: (Option<Seen>, Option<Seen>),
    deadline: Option<tokio::time::Instant>,
    requests: &AtomicUsize,
) -> CellOutcome {
    let head = |key| head_before(store, &spec.s3_bucket, key, deadline, requests);
    let canonical = match listed.0 {
        Some(seen) => seen,
        None => head(&keys.canonical_key).await,
    };
    let recovery = match (&keys.recovery_key, listed.1) {
        (Some(_), Some(seen)) if cell::needs_recovery(&canonical, cycle.tick) => Some(seen),
        (Some(key), None) if cell::needs_recovery(&canonical, cycle.tick) => Some(head(key).await),
        _ => None,
    };
    cell::judge(canonical, recovery, cycle.tick, keys.due_at)
}

/// One HEAD, unless the deadline has passed; counted when sent.
async fn head_before<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    deadline: Option<tokio::time::Instant>,
    requests: &AtomicUsize,
) -> Seen {
    if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
        return Err(StoreError::Deadline);
    }
    requests.fetch_add(1, Ordering::Relaxed);
    store.head(bucket, key).await
}

/// The artifact's history, when every cycle of it was judged (`None`: some were left
/// unprobed at the deadline).
fn judged_artifact<'r>(
    target: &ArtifactPlan<'r>,
    judged: Vec<Option<Judged>>,
) -> Option<ArtifactHistory<'r>> {
    let is_set = target.spec.is_set();
    let mut cells = Vec::with_capacity(judged.len());
    let mut probed = Vec::with_capacity(judged.len());
    let mut set_cycles = Vec::new();
    for j in judged {
        let j = j.unwrap_or_else(|| Judged {
            cell: CellOutcome::Failed(ProbeError::of(&StoreError::Deadline)),
            probed: false,
            set: None,
        });
        cells.push(j.cell);
        probed.push(j.probed);
        if is_set {
            set_cycles.push(j.set);
        }
    }
    let unprobed = cells
        .iter()
        .any(|c| matches!(c, CellOutcome::Failed(e) if e.is_deadline()));
    if unprobed {
        return None;
    }
    Some(ArtifactHistory {
        spec: target.spec,
        cycles: target.cycles.clone(),
        first: target.first,
        cells,
        probed,
        set_cycles,
    })
}
