//! The history scan's probing: every planned past cycle HEADed through the store, with
//! bounded concurrency and a deadline.
//!
//! It probes the way a pass does (one stream of probes, at most `probe_concurrency` in flight,
//! none started after the deadline) but over (artifact, cycle) pairs in registry order, so an
//! invocation that runs out of time has finished the artifacts before the cut and not started
//! most of those after it. An artifact with any cycle left unprobed is reported in
//! `not_scanned` instead of with a partial history. A failed probe (or a bug met while
//! probing) is that cycle's `error_code`, never the scan's failure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant as StdInstant;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};

use super::cell::{self, CellOutcome, ProbeError, Seen};
use super::from_log::{self, Answer};
use super::lookback::Lookback;
use super::plan::{ArtifactPlan, Plan, not_expected, plan};
use super::{ArtifactHistory, History};
use crate::cadence::Cycle;
use crate::classify::ResolvedKeys;
use crate::guard::guarded_async;
use crate::ledger::Ledger;
use crate::outcome_log::LogIndex;
use crate::outcome_log::read::{ReadLog, read_log};
use crate::registry::{ArtifactSpec, Registry};
use crate::settings::{DEFAULT_PROBE_CONCURRENCY, OutputLocation};
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
            log_location: None,
        }
    }
}

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
    let index = log.as_ref().map(|l| &l.index);
    let ledger = log.as_ref().and_then(|l| l.ledger.as_ref());
    let reasons: [AtomicUsize; 4] = Default::default();
    let logged = AtomicUsize::new(0);
    let requests = AtomicUsize::new(0);
    let mut cells: Vec<Vec<Option<CellOutcome>>> =
        plan.artifacts.iter().map(|a| vec![None; a.len]).collect();
    let jobs = plan
        .artifacts
        .iter()
        .enumerate()
        .flat_map(|(a, target)| (0..target.len).map(move |c| (a, c, target)));
    let deadline = settings.probe_deadline;
    let counters = Counters {
        requests: &requests,
        reasons: &reasons,
        logged: &logged,
        now,
    };
    let mut probed = stream::iter(jobs)
        .map(|(a, c, target)| async move {
            let known = Known { log: index, ledger };
            let outcome = cell_outcome(store, target, c, deadline, known, counters).await;
            (a, c, outcome)
        })
        .buffer_unordered(settings.probe_concurrency.max(1));
    let mut was_probed: Vec<Vec<bool>> =
        plan.artifacts.iter().map(|a| vec![false; a.len]).collect();
    while let Some((a, c, (outcome, probed_now))) = probed.next().await {
        cells[a][c] = Some(outcome);
        was_probed[a][c] = probed_now;
    }
    drop(probed);
    let cycles_took = started.elapsed() - read_log_took;
    let mut history = assemble(plan, cells, was_probed, now);
    history.n_head_requests = requests.load(Ordering::Relaxed);
    history.probes_by_reason = reasons.map(|r| r.load(Ordering::Relaxed));
    history.n_cycles_from_log = logged.load(Ordering::Relaxed);
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

/// What the scan knows without a probe: the outcome log, and the ledger's current cycles.
#[derive(Clone, Copy)]
struct Known<'a> {
    log: Option<&'a LogIndex>,
    ledger: Option<&'a Ledger>,
}

/// The scan's request and probe-reason counters, shared by the probes in flight.
#[derive(Clone, Copy)]
struct Counters<'a> {
    requests: &'a AtomicUsize,
    reasons: &'a [AtomicUsize; 4],
    /// Expected cycles the log answered.
    logged: &'a AtomicUsize,
    /// The scan's `now` (when a recorded miss is due for a recheck).
    now: DateTime<Utc>,
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

/// One past cycle: not expected (no probe), answered by the outcome log, or probed and
/// judged.
async fn cell_outcome<S: ObjectStore>(
    store: &S,
    target: &ArtifactPlan<'_>,
    cell: usize,
    deadline: Option<tokio::time::Instant>,
    known: Known<'_>,
    counters: Counters<'_>,
) -> (CellOutcome, bool) {
    let cycle = target.cycle(cell);
    if let Some(why) = not_expected(target.spec, cycle) {
        return (CellOutcome::NotExpected(why), false);
    }
    let keys = ResolvedKeys::resolve(target.spec, cycle);
    let now = counters.now;
    let entry = known
        .ledger
        .and_then(|l| l.artifacts.get(target.spec.id.as_str()));
    if let Some(cell) = from_log::answer_from_ledger(entry, cycle, keys.due_at) {
        counters.logged.fetch_add(1, Ordering::Relaxed);
        return (cell, false);
    }
    match from_log::answer(
        known.log,
        target.spec,
        cycle,
        &keys.canonical_key,
        keys.due_at,
        now,
    ) {
        Answer::Logged(cell) => {
            counters.logged.fetch_add(1, Ordering::Relaxed);
            return (cell, false);
        }
        Answer::Probe(reason) => counters.reasons[reason.index()].fetch_add(1, Ordering::Relaxed),
    };
    let requests = counters.requests;
    let outcome = guarded_async(probe_cycle(
        store,
        target.spec,
        cycle,
        keys,
        deadline,
        requests,
    ))
    .await
    .unwrap_or_else(|message| CellOutcome::Failed(ProbeError::internal(&message)));
    (outcome, true)
}

/// HEADs the cycle's canonical key, its recovery key when the canonical one does not count,
/// and judges what they saw.
async fn probe_cycle<S: ObjectStore>(
    store: &S,
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: ResolvedKeys,
    deadline: Option<tokio::time::Instant>,
    requests: &AtomicUsize,
) -> CellOutcome {
    let head = |key| head_before(store, &spec.s3_bucket, key, deadline, requests);
    let canonical = head(&keys.canonical_key).await;
    let recovery = match &keys.recovery_key {
        Some(key) if cell::needs_recovery(&canonical, cycle.tick) => Some(head(key).await),
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
fn assemble<'r>(
    plan: Plan<'r>,
    cells: Vec<Vec<Option<CellOutcome>>>,
    probed: Vec<Vec<bool>>,
    now: DateTime<Utc>,
) -> History<'r> {
    let mut history = History {
        generated_at: now,
        lookback: plan.lookback,
        skipped_unsupported: plan.skipped_unsupported,
        ..History::default()
    };
    for ((target, cells), probed) in plan.artifacts.into_iter().zip(cells).zip(probed) {
        let cells: Vec<CellOutcome> = cells
            .into_iter()
            .map(|c| {
                c.unwrap_or_else(|| CellOutcome::Failed(ProbeError::of(&StoreError::Deadline)))
            })
            .collect();
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
        });
    }
    history
}
