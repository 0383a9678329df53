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
use crate::classify::{
    Classification, ContentMemory, DecisionLog, NoLog, ProbeOutcome, Probes, ResolvedKeys,
    decide_without_probe, has_content_checks, judge, judge_content, needs_recovery_probe, set_keys,
    set_keys_of,
};
use crate::guard::{guarded, guarded_async};
use crate::ledger::{ContentRecords, Ledger};
pub use crate::outcome::PassOutcome;
use crate::probe::{self, ListedAnswer, ListingFigures, ProbeKeys};
use crate::registry::{ArtifactSpec, Registry, RegistryEntry};
use crate::registry_source::LoadedRegistry;
use crate::report::ResultRow;
use crate::settings::{DEFAULT_LIST_MAX_PAGES, DEFAULT_PROBE_CONCURRENCY, Settings};
use crate::store::partition_list;
use crate::store::{ObjectStore, StoreError};

mod explain;
mod off_cycle;
mod not_due;
mod outputs;
mod overdue;
mod rows;
mod set;
pub mod settled;
mod settled_set;
mod status_page;

pub use explain::{Explanation, explain_entry};
pub use outputs::{
    OutputLocation, only_puts, output_puts, outputs_staged, put_json, write_heartbeat,
    write_outputs, write_outputs_together,
};
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

/// The recovery-key HEADs made beside the listings, by position in `to_probe`.
type MadeRecoveries = HashMap<usize, ProbeOutcome>;

/// The listings' answers for the canonical keys of `to_probe` (in its order), when enough of
/// them share a prefix for a listing to pay ([`crate::probe`]); beside the listings, the
/// recovery-key HEADs the `ledger` foresees for the artifacts they answer for
/// ([`ForeseenRecovery`]).
async fn list_canonical_keys<S: ObjectStore>(
    store: &S,
    to_probe: &[(usize, &ArtifactSpec, &Cycle)],
    settings: &PassSettings,
    ledger: Option<&Ledger>,
) -> (
    Vec<Option<ListedAnswer>>,
    Option<ListingFigures>,
    MadeRecoveries,
) {
    if settings.list_max_pages == 0 || to_probe.len() < probe::plan::MIN_KEYS_PER_LISTING {
        return (Vec::new(), None, MadeRecoveries::new());
    }
    // About the rendered keys' size, so the buffer rarely grows (and never doubles at the end).
    let bytes = (to_probe.iter())
        .map(|(_, spec, _)| spec.s3_key_template.source().len() + 4)
        .sum();
    let mut keys = ProbeKeys::with_capacity(to_probe.len(), bytes);
    for (_, spec, cycle) in to_probe {
        // An off-cycle artifact, or a set, lists its own prefix (off_cycle.rs, set.rs).
        if spec.off_cycle().is_some() || spec.is_set() {
            keys.push_none();
            continue;
        }
        keys.push(&spec.s3_bucket, |text| {
            guarded(|| spec.s3_key_template.render(&template_values(cycle)))
                .map(|key| text.push_str(&key))
                .is_ok()
        });
    }
    let beside = |listings: &[probe::PlannedListing]| {
        let foreseen: Vec<(usize, String)> = (listings.iter())
            .flat_map(|listing| listing.members.iter().copied())
            .filter(|&position| ForeseenRecovery::foreseen(ledger, to_probe[position].1))
            .filter_map(|position| {
                let (_, spec, cycle) = to_probe[position];
                let keys = guarded(|| ResolvedKeys::resolve(spec, cycle)).ok()?;
                Some((position, keys.recovery_key?))
            })
            .collect();
        head_recoveries(store, to_probe, foreseen, settings)
    };
    let (deadline, max_pages) = (settings.probe_deadline, settings.list_max_pages);
    probe::list_what_pays_beside(store, &keys, max_pages, deadline, beside).await
}

/// HEADs the recovery keys `foreseen` (position in `to_probe`, key), as many at once as the
/// pass probes.
async fn head_recoveries<S: ObjectStore>(
    store: &S,
    to_probe: &[(usize, &ArtifactSpec, &Cycle)],
    foreseen: Vec<(usize, String)>,
    settings: &PassSettings,
) -> MadeRecoveries {
    let deadline = settings.probe_deadline;
    stream::iter(foreseen)
        .map(|(position, key)| async move {
            let bucket = &to_probe[position].1.s3_bucket;
            (position, head_before(store, bucket, &key, deadline).await)
        })
        .buffer_unordered(settings.probe_concurrency.max(1))
        .collect()
        .await
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

/// One artifact waiting for its probes, with what its row needs.
struct ProbeJob<'a> {
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    keys: ResolvedKeys,
    context: Arc<crate::report::RowContext>,
}

impl<'a> ProbeJob<'a> {
    fn new(spec: &'a ArtifactSpec, cycle: &'a Cycle, shared: &mut RowStringPool<'a>) -> Self {
        ProbeJob {
            spec,
            cycle,
            keys: ResolvedKeys::resolve(spec, cycle),
            context: shared.context(spec, cycle),
        }
    }

    /// Probes (the canonical key's HEAD is spared when a listing answered for it) and judges.
    async fn run<S: ObjectStore>(
        self,
        store: &S,
        now: DateTime<Utc>,
        (deadline, listing): (Option<tokio::time::Instant>, ListingLimits),
        Answers { listed, recovery }: Answers,
        content: Option<&ContentRecords>,
    ) -> ResultRow {
        let probe = Probe {
            spec: self.spec,
            cycle: self.cycle,
            keys: &self.keys,
            now,
            deadline,
            listing,
            listed,
            recovery: recovery.as_head(),
            content: content_memory(content, self.spec, self.cycle),
        };
        let (verdict, NoLog) = probe_and_judge(store, probe).await;
        let mut finished = row(self.spec, self.keys, self.context, verdict);
        finished.set_last_probed_at(Some(now));
        finished
    }
}

/// What one artifact's probes need.
#[derive(Clone, Copy)]
struct Probe<'a> {
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    keys: &'a ResolvedKeys,
    now: DateTime<Utc>,
    deadline: Option<tokio::time::Instant>,
    listing: ListingLimits,
    /// What a listing of the probe plan said about the canonical key (no HEAD then).
    listed: Option<ListedAnswer>,
    /// When the recovery key's HEAD goes out.
    recovery: RecoveryHead<'a>,
    /// What the ledger remembers of the artifact's earlier cycles, for its content checks.
    content: ContentMemory<'a>,
}

/// What the content checks of `spec` in `cycle` compare with (nothing without a ledger, or
/// for an artifact without checks: no lookup then).
fn content_memory<'a>(
    records: Option<&'a ContentRecords>,
    spec: &ArtifactSpec,
    cycle: &Cycle,
) -> ContentMemory<'a> {
    match records {
        Some(records) if has_content_checks(spec) => records.memory(spec.id.as_str(), &cycle.label),
        _ => ContentMemory::default(),
    }
}

/// Rules 3 to 5: HEAD the canonical key (or, off-cycle, list the template's prefix), the
/// recovery key when rule 4 asks, and judge. The log gets each decision (the pass passes
/// [`NoLog`]; `explain` a list).
async fn probe_and_judge<S: ObjectStore, L: DecisionLog + Default>(
    store: &S,
    probe: Probe<'_>,
) -> (Classification, L) {
    let Probe {
        spec, cycle, keys, ..
    } = probe;
    if let Some(rule) = spec.off_cycle() {
        return off_cycle::list_and_judge(store, probe, rule).await;
    }
    if let Some(keys) = set_keys(spec, cycle) {
        return set::list_and_judge(store, probe, keys).await;
    }
    if let Some(list) = spec.partitions_from() {
        return match partition_list::read(store, list).await {
            Ok(values) => {
                let keys = set_keys_of(spec, cycle, &values);
                set::list_and_judge(store, probe, keys).await
            }
            Err(reason) => (Classification::probe_failed(reason), L::default()),
        };
    }
    let (canonical, made) = probe_canonical(store, probe).await;
    // A recovery HEAD made beside the canonical key's answer is used only where rule 4 asks,
    // so the verdict is the one a HEAD made after it would give.
    let recovery: Option<ProbeOutcome> = match &keys.recovery_key {
        Some(key) if needs_recovery_probe(keys, cycle, &canonical) => match made {
            Some(made) => Some(made),
            None => Some(head_before(store, &spec.s3_bucket, key, probe.deadline).await),
        },
        _ => None,
    };
    let probes = Probes {
        canonical: &canonical,
        recovery: recovery.as_ref(),
    };
    let mut log = L::default();
    let verdict = judge(spec, cycle, keys, probe.now, probes, &mut log);
    let verdict = judge_content(
        spec,
        cycle,
        keys,
        probe.now,
        verdict,
        (&canonical, probe.content),
        &mut log,
    );
    (verdict, log)
}

/// Rule 3's answer (a listing's, or the canonical key's HEAD), and the recovery key's HEAD
/// when it went out before that answer was known ([`RecoveryHead`]).
async fn probe_canonical<S: ObjectStore>(
    store: &S,
    probe: Probe<'_>,
) -> (ProbeOutcome, Option<ProbeOutcome>) {
    let head = |key| head_before(store, &probe.spec.s3_bucket, key, probe.deadline);
    let canonical = async {
        match probe.listed {
            Some(answer) => Ok(answer),
            None => head(&probe.keys.canonical_key).await,
        }
    };
    match (probe.recovery, probe.keys.recovery_key.as_deref()) {
        (RecoveryHead::Made(made), _) => (canonical.await, Some(made.clone())),
        (RecoveryHead::Beside, Some(key)) if probe.listed.is_none() => {
            let (canonical, recovery) = tokio::join!(canonical, head(key));
            (canonical, Some(recovery))
        }
        _ => (canonical.await, None),
    }
}

/// When rule 4's recovery-key HEAD goes out (docs/lambda.md#round-trips).
#[derive(Clone, Copy)]
enum RecoveryHead<'a> {
    /// After the canonical key's answer, when that answer asks for it.
    After,
    /// Beside the canonical key's HEAD: the ledger foresees it ([`ForeseenRecovery`]).
    Beside,
    /// Made already, beside the listing that answers for the canonical key.
    Made(&'a ProbeOutcome),
}

/// What a probe job is given besides its keys: the listing's answer for its canonical key, and
/// what is foreseen of its recovery key.
struct Answers {
    listed: Option<ListedAnswer>,
    recovery: ForeseenRecovery,
}

/// Whether an artifact's recovery-key HEAD is foreseen: it has a recovery key and the ledger
/// says the last pass left it missing or stale ([`Ledger::left_missing_or_stale`]), so its
/// canonical key most likely still is and rule 4 will ask for that HEAD. Then it goes out
/// beside the canonical key's probe, not after it: one round trip less, and one HEAD spent for
/// nothing on the pass where the canonical key has landed (or its HEAD failed).
enum ForeseenRecovery {
    No,
    Yes,
    /// HEADed already, beside the listings.
    Made(ProbeOutcome),
}

impl ForeseenRecovery {
    /// What is foreseen of `spec`'s recovery key, `made` when its HEAD went out beside the
    /// listings.
    fn of(ledger: Option<&Ledger>, spec: &ArtifactSpec, made: Option<ProbeOutcome>) -> Self {
        match made {
            Some(made) => ForeseenRecovery::Made(made),
            None if Self::foreseen(ledger, spec) => ForeseenRecovery::Yes,
            None => ForeseenRecovery::No,
        }
    }

    fn foreseen(ledger: Option<&Ledger>, spec: &ArtifactSpec) -> bool {
        spec.recovery_key_template().is_some()
            && ledger.is_some_and(|l| l.left_missing_or_stale(spec.id.as_str()))
    }

    fn as_head(&self) -> RecoveryHead<'_> {
        match self {
            ForeseenRecovery::No => RecoveryHead::After,
            ForeseenRecovery::Yes => RecoveryHead::Beside,
            ForeseenRecovery::Made(made) => RecoveryHead::Made(made),
        }
    }
}

/// One HEAD, unless the deadline has passed.
async fn head_before<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    deadline: Option<tokio::time::Instant>,
) -> ProbeOutcome {
    if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
        return Err(StoreError::Deadline);
    }
    store.head(bucket, key).await
}

#[cfg(test)]
mod foreseen_tests;
#[cfg(test)]
mod tests;
