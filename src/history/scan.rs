//! The history scan's probing: every planned past cycle that the outcome log cannot answer
//! is probed through the store, with bounded concurrency and a deadline.
//!
//! Which cycles are probed is decided first (`decide.rs`), in batches of artifacts in
//! registry order; each batch's keys are then listed where a page pays (`listed`, the pass's
//! planner) and the rest HEADed. It probes the way a pass does (one stream of probes, at most `probe_concurrency`
//! in flight, none started after the deadline) but over (artifact, cycle) pairs in registry order, so an
//! invocation that runs out of time has finished the artifacts before the cut and not started
//! most of those after it. An artifact with any cycle left unprobed is reported in
//! `not_scanned` instead of with a partial history. A failed probe (or a bug met while
//! probing) is that cycle's `error_code`, never the scan's failure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant as StdInstant;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};

use super::cell::{self, CellOutcome, ProbeError, Seen};
use super::decide::{Cells, Decided, Judged, Known};
use super::listed;
use super::lookback::Lookback;
use super::plan::{Plan, plan};
use super::set_cycles;
use super::{ArtifactHistory, History};
use crate::cadence::Cycle;
use crate::classify::ResolvedKeys;
use crate::guard::guarded_async;
use crate::outcome_log::read::{ReadLog, read_log};
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
        }
    }
}

/// How many probed cycles are planned (their keys rendered and held) at once, at least: a
/// first scan after a deploy probes every expected cycle, millions at a large registry.
const PLANNED_AT_ONCE: usize = 100_000;

/// Scans the history of every selected artifact of `registry` at `now`.
pub async fn scan_history<'r, S: ObjectStore>(
    store: &S,
    registry: &'r Registry,
    settings: &ScanSettings,
    now: DateTime<Utc>,
) -> History<'r> {
    let started = StdInstant::now();
    let plan = plan(registry, &settings.only, &settings.lookback, now);
    let log = match &settings.log_location {
        Some(at) => Some(read_log_for(store, at, &plan, settings, now).await),
        None => None,
    };
    let read_log_took = started.elapsed();
    let known = Known {
        log: log.as_ref().map(|l| &l.index),
        ledger: log.as_ref().and_then(|l| l.ledger.as_ref()),
    };
    let mut decided = Decided::new(&plan);
    let requests = Requests::default();
    // Decided artifact by artifact in registry order, probed a batch at a time: the cycles
    // to probe are held for one batch, not for the whole scan.
    for (a, target) in plan.artifacts.iter().enumerate() {
        decided.decide_artifact(a, target, known, now);
        if decided.probes.len() >= PLANNED_AT_ONCE || a + 1 == plan.artifacts.len() {
            let batch = std::mem::take(&mut decided.probes);
            probe_chunk(
                store,
                &plan,
                &batch,
                settings,
                &requests,
                &mut decided.cells,
            )
            .await;
        }
    }
    let cycles_took = started.elapsed() - read_log_took;
    let mut history = assemble(plan, decided.cells, now);
    history.n_head_requests = requests.heads.load(Ordering::Relaxed);
    history.n_list_requests = requests.lists.load(Ordering::Relaxed);
    history.probes_by_reason = decided.reasons;
    history.n_cycles_from_log = decided.logged;
    if let (Some(log), Some(at)) = (log, &settings.log_location) {
        let writing = StdInstant::now();
        let written = super::compact::write(store, at, &history, &log, now).await;
        history.phases.write_log = writing.elapsed();
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
    history.phases.cycles = cycles_took;
    history.duration = started.elapsed();
    history
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
    plan: &Plan<'_>,
    chunk: &[(usize, usize)],
    settings: &ScanSettings,
    requests: &Requests,
    cells: &mut Cells,
) {
    let deadline = settings.probe_deadline;
    let keys: Vec<ResolvedKeys> = (chunk.iter())
        .map(|&(a, c)| ResolvedKeys::resolve(plan.artifacts[a].spec, plan.artifacts[a].cycle(c)))
        .collect();
    let specs = chunk.iter().map(|&(a, _)| plan.artifacts[a].spec);
    let listed =
        listed::list_probes(store, specs.zip(&keys), settings.list_max_pages, deadline).await;
    requests
        .lists
        .fetch_add(listed.pages as usize, Ordering::Relaxed);
    let listed = &listed;
    let specs = chunk.iter().map(|&(a, _)| (a, plan.artifacts[a].spec));
    let lists = &set_cycles::read_lists(store, specs, &requests.heads).await;
    let max_pages = settings.list_max_pages;
    let mut probed = stream::iter(chunk.iter().zip(keys).enumerate())
        .map(|(i, (&(a, c), keys))| async move {
            let (spec, cycle) = (plan.artifacts[a].spec, plan.artifacts[a].cycle(c));
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

/// Reads the outcome log's partitions from the day of the plan's oldest cycle on.
async fn read_log_for<S: ObjectStore>(
    store: &S,
    at: &OutputLocation,
    plan: &Plan<'_>,
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
    read_log(store, &at.bucket, &at.prefix, since, concurrency, now).await
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

/// The scan's result: artifacts whose every cycle was judged, the rest `not_scanned`.
fn assemble<'r>(plan: Plan<'r>, cells: Cells, now: DateTime<Utc>) -> History<'r> {
    let mut history = History {
        generated_at: now,
        lookback: plan.lookback,
        skipped_unsupported: plan.skipped_unsupported,
        ..History::default()
    };
    for (target, judged) in plan.artifacts.into_iter().zip(cells) {
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
            history.not_scanned.push(target.spec.id.to_string());
            continue;
        }
        history.artifacts.push(ArtifactHistory {
            spec: target.spec,
            cycles: target.cycles,
            first: target.first,
            cells,
            probed,
            set_cycles,
        });
    }
    history
}
