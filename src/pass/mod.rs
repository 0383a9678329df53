//! One monitoring pass: registry in, one classified row per artifact out.
//!
//! The Lambda handler, `check` and `run` are thin shells over [`run_pass`], so what `check`
//! prints is what the Lambda would do. The pass never fails as a whole because of one
//! artifact: an invalid entry or a probe error becomes that artifact's `probe_failed` row. Only
//! a registry that cannot be read or parsed fails the pass, and even then the outcome says so
//! (`registry_error`) for the heartbeat.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant as StdInstant;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream;

use crate::alert::policy::PassPolicy;
use crate::cadence::{Cadence, Cycle};
use crate::classify::{NoLog, ResolvedKeys, decide_without_probe};
use crate::guard::{guarded, guarded_async};
use crate::ledger::{ContentRecords, Ledger};
pub use crate::outcome::PassOutcome;
use crate::probe::ListingFigures;
use crate::registry::{ArtifactSpec, Registry, RegistryEntry};
use crate::registry_source::LoadedRegistry;
use crate::report::ResultRow;
use crate::settings::{DEFAULT_LIST_MAX_PAGES, DEFAULT_PROBE_CONCURRENCY, Settings};
use crate::store::ObjectStore;

mod explain;
mod foreseen;
mod off_cycle;
mod not_due;
mod outputs;
mod overdue;
mod probe_input;
mod probe_job;
mod rows;
mod set;
pub mod settled;
mod settled_set;
mod status_page;

pub use explain::{Explanation, explain_entry};
use foreseen::{ForeseenRecovery, list_canonical_keys};
pub use outputs::{
    OutputLocation, only_puts, output_puts, outputs_staged, put_json, write_heartbeat,
    write_outputs, write_outputs_together,
};
use probe_input::{Probe, content_memory};
use probe_job::{Answers, ProbeJob, probe_and_judge};
use rows::{RowStringPool, internal_error_row, invalid_row, no_cycle_row, row, unprobed_row};
use settled::SettledRule;
pub use status_page::{
    DIGEST_MAX_BYTES_FOR_PAGE, PAGE_CONTENT_TYPE, PageHistoryCache, put_status_page,
    read_page_history, render_page,
};

/// How one pass runs.
#[derive(Debug, Clone)]
pub struct PassSettings {
    pub alerts_enabled: bool,
    /// At most this many probes in flight.
    pub probe_concurrency: usize,
    /// No probe starts at or after this instant; what is left is `probe_failed` ("deadline").
    pub probe_deadline: Option<tokio::time::Instant>,
    /// Only these artifact ids (all when empty).
    pub only: Vec<String>,
    /// Probe an artifact the ledger settled again once this long has passed since its last
    /// probe (`REVERIFY_MINUTES`); `None`: not before its next tick.
    pub reverify_after: Option<chrono::Duration>,
    /// List no prefix for more than this many pages when probing keys that share it
    /// (`PROBE_LIST_MAX_PAGES`; 0: HEAD only).
    pub list_max_pages: u32,
    /// How far an `off_cycle` artifact's listing may page.
    pub listing: ListingLimits,
    /// A deadline pass: artifacts not yet due that an earlier pass of this cycle left missing
    /// or stale keep that verdict without a probe (`pass/not_due.rs`).
    pub probe_only_due: bool,
    /// Object events on (`OBJECT_EVENTS`): every pass keeps those verdicts the same way, and
    /// leaves a cycle no probe saw waiting for its event until its alerting moment, since an
    /// event tells a landing before the deadline (`pass/not_due.rs`).
    pub object_events: bool,
}

/// The page size and page cap of an `off_cycle` artifact's listing: a prefix with more keys
/// than `page_size × max_pages` is `probe_failed`, never judged from part of its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListingLimits {
    pub page_size: u16,
    pub max_pages: u32,
}

impl Default for ListingLimits {
    /// 10 pages of S3's 1,000 keys: 10,000 keys, the cost of 125 HEADs at most.
    fn default() -> Self {
        ListingLimits {
            page_size: crate::store::listing::MAX_KEYS_PER_PAGE,
            max_pages: 10,
        }
    }
}

impl PassSettings {
    /// How the Lambda's pass (and `run`'s) runs, as the env contract says: the observe flag,
    /// the probe concurrency, the re-verify interval and the listing cap. An invocation adds
    /// its `only` and its probe deadline.
    pub fn from_settings(settings: &Settings) -> PassSettings {
        PassSettings {
            alerts_enabled: settings.alerts_enabled,
            probe_concurrency: settings.probe_concurrency,
            reverify_after: reverify_after(settings.reverify_minutes),
            list_max_pages: settings.list_max_pages,
            object_events: settings.object_events,
            ..PassSettings::default()
        }
    }

    /// How the CLI's passes run (`check`, `explain`, `history --html`; no registry bucket
    /// needed): the observe flag as the process env says, over the `only` ids (all when
    /// empty), re-verifying after `reverify_minutes` (what `explain` says applies), the rest
    /// at the defaults.
    pub fn for_cli(only: Vec<String>, reverify_minutes: Option<u32>) -> PassSettings {
        PassSettings {
            alerts_enabled: crate::settings::alerts_enabled_from_env(),
            only,
            reverify_after: reverify_after(reverify_minutes),
            ..PassSettings::default()
        }
    }
}

/// `REVERIFY_MINUTES` as the interval a settled artifact is probed again after.
fn reverify_after(minutes: Option<u32>) -> Option<chrono::Duration> {
    minutes.map(|m| chrono::Duration::minutes(i64::from(m)))
}

impl Default for PassSettings {
    fn default() -> Self {
        PassSettings {
            alerts_enabled: false,
            probe_concurrency: DEFAULT_PROBE_CONCURRENCY,
            probe_deadline: None,
            only: Vec::new(),
            reverify_after: None,
            list_max_pages: DEFAULT_LIST_MAX_PAGES,
            listing: ListingLimits::default(),
            probe_only_due: false,
            object_events: false,
        }
    }
}

/// Runs one pass at `now` over a parsed registry, probing every artifact that needs a probe:
/// with a `ledger`, the artifacts whose cycle it already settled are judged without one
/// ([`settled`]).
pub async fn run_pass<S: ObjectStore>(
    store: &S,
    loaded: &LoadedRegistry,
    settings: &PassSettings,
    now: DateTime<Utc>,
    ledger: Option<&Ledger>,
) -> PassOutcome {
    let content = ledger.map(|ledger| &ledger.content);
    run_pass_remembering(store, loaded, settings, now, ledger, content).await
}

/// [`run_pass`] with the content checks' memory given apart from the ledger that settles
/// cycles: `check --results` judges with what the Lambda's ledger remembers of earlier
/// cycles' objects, yet probes every artifact as a check does.
pub async fn run_pass_remembering<S: ObjectStore>(
    store: &S,
    loaded: &LoadedRegistry,
    settings: &PassSettings,
    now: DateTime<Utc>,
    ledger: Option<&Ledger>,
    content: Option<&ContentRecords>,
) -> PassOutcome {
    let started = StdInstant::now();
    let registry = &loaded.registry;
    let mut outcome = PassOutcome::empty(settings.alerts_enabled, now, loaded.etag.clone());
    outcome.registry_name = loaded.name.clone();
    outcome.unknown_only_ids = if settings.only.is_empty() {
        Vec::new()
    } else {
        let labels: HashSet<&str> = registry.entries.iter().map(|e| e.label()).collect();
        (settings.only.iter())
            .filter(|id| !labels.contains(id.as_str()))
            .cloned()
            .collect()
    };
    outcome.cadence_zones = registry
        .user_cadences
        .iter()
        .map(|c| (c.name.clone(), c.timezone))
        .collect();
    (outcome.rows, outcome.listing) =
        classify(store, registry, settings, now, (ledger, content)).await;
    outcome.alert_policy = Arc::new(PassPolicy::of(registry));
    outcome.duration = started.elapsed();
    outcome
}

/// Classifies every (selected) entry of a parsed registry, probing concurrently; with a
/// `ledger`, the artifacts it settled are judged without a probe.
pub async fn classify_registry<S: ObjectStore>(
    store: &S,
    registry: &Registry,
    settings: &PassSettings,
    now: DateTime<Utc>,
    ledger: Option<&Ledger>,
) -> Vec<ResultRow> {
    let content = ledger.map(|ledger| &ledger.content);
    classify(store, registry, settings, now, (ledger, content))
        .await
        .0
}

/// The rows, and what the listings did (`None`: nothing was listed).
async fn classify<S: ObjectStore>(
    store: &S,
    registry: &Registry,
    settings: &PassSettings,
    now: DateTime<Utc>,
    (ledger, content): (Option<&Ledger>, Option<&ContentRecords>),
) -> (Vec<ResultRow>, Option<ListingFigures>) {
    let settled = ledger.map(|ledger| SettledRule {
        ledger,
        reverify_after: settings.reverify_after,
    });
    // Walked twice rather than collected: a million references are 8 MB.
    let only: HashSet<&str> = settings.only.iter().map(String::as_str).collect();
    let selected =
        || (registry.entries.iter()).filter(|e| only.is_empty() || only.contains(e.label()));
    let cycles = resolve_cycles(selected(), registry, now);
    let mut shared = RowStringPool::default();
    let mut rows: Vec<Option<ResultRow>> = vec![None; selected().count()];
    // Only the indices wait for a probe: the keys and shared strings of each probe are made
    // as the probe starts, so at most `concurrency` of them exist at once.
    let mut to_probe: Vec<(usize, &ArtifactSpec, &Cycle)> = Vec::new();
    for (index, entry) in selected().enumerate() {
        let only_due = not_due::SkipNotDue::of(settings.probe_only_due, settings.object_events);
        match judge_without_probe(
            entry,
            &cycles,
            now,
            (settled.as_ref(), only_due, settings.object_events),
            &mut shared,
        ) {
            Unprobed::Row(finished) => rows[index] = Some(finished),
            Unprobed::NeedsProbe(spec, cycle) => to_probe.push((index, spec, cycle)),
        }
    }
    let (deadline, off_cycle_listing) = (settings.probe_deadline, settings.listing);
    let (listed, listing, mut made) = list_canonical_keys(store, &to_probe, settings, ledger).await;
    let mut listed = listed.into_iter();
    let mut probed = stream::iter(to_probe.into_iter().enumerate())
        .map(|(position, (index, spec, cycle))| {
            let job = guarded(|| ProbeJob::new(spec, cycle, &mut shared));
            let answers = Answers {
                listed: listed.next().flatten(),
                recovery: ForeseenRecovery::of(ledger, spec, made.remove(&position)),
            };
            async move {
                let finished = match job {
                    Ok(job) => {
                        let limits = (deadline, off_cycle_listing);
                        guarded_async(job.run(store, now, limits, answers, content))
                            .await
                            .unwrap_or_else(|message| internal_error_row(spec, &message, now))
                    }
                    Err(message) => internal_error_row(spec, &message, now),
                };
                (index, finished)
            }
        })
        .buffer_unordered(settings.probe_concurrency.max(1));
    while let Some((index, finished)) = probed.next().await {
        rows[index] = Some(finished);
    }
    let rows = rows
        .into_iter()
        .map(|r| r.expect("every selected entry gets a row"))
        .collect();
    (rows, listing)
}

fn template_values(cycle: &Cycle) -> crate::template::TemplateValues<'_> {
    crate::template::TemplateValues {
        date: cycle.date,
        cycle_label: &cycle.label,
        trading_day: cycle.trading_day,
    }
}

/// Each cadence's cycle at `now`, resolved once per pass (cycles depend on the cadence, and
/// on the active windows and off-cycle rule of the artifacts that have them). `Err` holds the
/// message of a panic while resolving it.
type CycleTable<'a> = HashMap<CycleKey<'a>, Result<Option<Cycle>, String>>;

fn resolve_cycles<'a>(
    selected: impl Iterator<Item = &'a RegistryEntry>,
    registry: &Registry,
    now: DateTime<Utc>,
) -> CycleTable<'a> {
    let mut cycles = CycleTable::new();
    for entry in selected {
        if let RegistryEntry::Valid(spec) = entry {
            cycles
                .entry(CycleKey::of(spec))
                .or_insert_with(|| guarded(|| spec.cycle_at(now, &registry.calendar)));
        }
    }
    cycles
}

/// An entry judged without S3, or one that waits for its probe. Short-lived (one per entry,
/// consumed at once), so the size of a row in one variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
enum Unprobed<'a> {
    Row(ResultRow),
    NeedsProbe(&'a ArtifactSpec, &'a Cycle),
}

/// Rules 1 and 2, and the rows that need no probe (invalid entries, cadences without a cycle,
/// entries whose judging panicked).
fn judge_without_probe<'a>(
    entry: &'a RegistryEntry,
    cycles: &'a CycleTable<'a>,
    now: DateTime<Utc>,
    (settled, only_due, object_events): (Option<&SettledRule<'_>>, not_due::SkipNotDue, bool),
    shared: &mut RowStringPool<'a>,
) -> Unprobed<'a> {
    let spec = match entry {
        RegistryEntry::Invalid(bad) => return Unprobed::Row(invalid_row(bad, now, shared)),
        RegistryEntry::Valid(spec) => spec,
    };
    let cycle = match &cycles[&CycleKey::of(spec)] {
        Ok(Some(cycle)) => cycle,
        Ok(None) => return Unprobed::Row(no_cycle_row(spec, now, shared)),
        Err(message) => return Unprobed::Row(internal_error_row(spec, message, now)),
    };
    let decided = guarded(|| {
        decide_without_probe(spec, cycle, now, &mut NoLog)
            .map(|verdict| unprobed_row(spec, cycle, verdict, shared))
    });
    match decided {
        Ok(Some(finished)) => Unprobed::Row(finished),
        Ok(None) => match settled.and_then(|rule| settled_row(rule, spec, cycle, now, shared)) {
            Some(Ok(finished)) => Unprobed::Row(finished),
            Some(Err(message)) => Unprobed::Row(internal_error_row(spec, &message, now)),
            None => match settled.and_then(|rule| {
                let skip = (only_due, object_events);
                unprobed_verdict(rule.ledger, spec, cycle, now, (skip, &mut *shared))
            }) {
                Some(finished) => Unprobed::Row(finished),
                None => Unprobed::NeedsProbe(spec, cycle),
            },
        },
        Err(message) => Unprobed::Row(internal_error_row(spec, &message, now)),
    }
}

/// The row of an artifact whose probe this pass spares: the ledger saw it missing or stale in
/// this cycle and it is not yet due (`not_due.rs`) or, with object events on, already alerting
/// (`overdue.rs`); or, with object events on, no pass probed its cycle yet and its event will
/// tell its landing before it is due (`not_due.rs`). `None` when it needs its probe.
fn unprobed_verdict<'a>(
    ledger: &Ledger,
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    now: DateTime<Utc>,
    ((only_due, object_events), shared): ((not_due::SkipNotDue, bool), &mut RowStringPool<'a>),
) -> Option<ResultRow> {
    let skip = (only_due, &mut *shared);
    if let Ok(Some(finished)) = guarded(|| not_due::not_yet_due_row(ledger, spec, cycle, now, skip))
    {
        return Some(finished);
    }
    if !object_events {
        return None;
    }
    if let Ok(Some(finished)) =
        guarded(|| not_due::awaiting_event_row(ledger, spec, cycle, now, &mut *shared))
    {
        return Some(finished);
    }
    guarded(|| overdue::overdue_row(ledger, spec, cycle, now, shared))
        .ok()
        .flatten()
}

/// The row of an artifact whose cycle the ledger settled, or `None` when it needs a probe.
/// The keys are rendered only for entries the ledger left fresh in this very cycle.
fn settled_row<'a>(
    rule: &SettledRule<'_>,
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    now: DateTime<Utc>,
    shared: &mut RowStringPool<'a>,
) -> Option<Result<ResultRow, String>> {
    // An off-cycle artifact is judged from a listing of its prefix every pass.
    if spec.off_cycle().is_some() {
        return None;
    }
    if spec.is_set() {
        return settled_set::settled_set_row(rule, spec, cycle, now, shared);
    }
    let entry = rule.ledger.in_cycle(spec.id.as_str(), &cycle.label)?;
    entry.probe_fingerprint()?;
    let judged = guarded(|| {
        let keys = ResolvedKeys::resolve(spec, cycle);
        let settled = rule.verdict(spec, cycle, &keys, now)?;
        let context = shared.context(spec, cycle);
        let mut finished = row(spec, keys, context, settled.verdict);
        finished.set_last_probed_at(Some(settled.last_probed_at));
        Some(finished)
    });
    judged.transpose()
}

/// Artifacts whose cadences share a schedule share a cycle, unless their active windows or
/// off-cycle rule make it their own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CycleKey<'a> {
    cadence: CadenceKey<'a>,
    /// The address of the artifact's windows (windows from `defaults:` are one list), or 0.
    windows: usize,
    off_cycle: bool,
}

impl<'a> CycleKey<'a> {
    fn of(spec: &'a ArtifactSpec) -> CycleKey<'a> {
        CycleKey {
            cadence: CadenceKey::of(&spec.cadence),
            windows: (spec.active_windows()).map_or(0, |w| w.as_ptr() as usize),
            off_cycle: spec.off_cycle().is_some(),
        }
    }
}

/// Cadences that share a schedule share a cycle.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CadenceKey<'a> {
    Builtin(&'static str),
    Continuous(u32),
    User(&'a str),
}

impl<'a> CadenceKey<'a> {
    fn of(cadence: &'a Cadence) -> CadenceKey<'a> {
        match cadence {
            Cadence::SaturdaySf => CadenceKey::Builtin("saturday_sf"),
            Cadence::WeekdaySf => CadenceKey::Builtin("weekday_sf"),
            Cadence::EodSf => CadenceKey::Builtin("eod_sf"),
            Cadence::Continuous { interval_minutes } => CadenceKey::Continuous(*interval_minutes),
            Cadence::User(user) => CadenceKey::User(&user.name),
        }
    }
}

#[cfg(test)]
mod foreseen_tests;
#[cfg(test)]
mod tests;
