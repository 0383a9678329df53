//! One monitoring pass: registry in, one classified row per artifact out.
//!
//! The Lambda handler, `check` and `run` are thin shells over [`run_pass`], so what `check`
//! prints is what the Lambda would do. The pass never fails as a whole because of one
//! artifact: an invalid entry or a probe error becomes that artifact's `probe_failed` row. Only
//! a registry that cannot be read or parsed fails the pass, and even then the outcome says so
//! (`registry_error`) for the heartbeat.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant as StdInstant;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream;

use crate::cadence::{Cadence, Cycle};
use crate::classify::{
    self, Classification, ProbeOutcome, ResolvedKeys, decide_without_probe, judge,
    needs_recovery_probe,
};
use crate::registry::{ArtifactSpec, InvalidArtifact, Registry, RegistryEntry};
use crate::registry_source::LoadedRegistry;
use crate::report::{AlertFigures, CheckResults, CycleVerdicts, Heartbeat, ResultRow, StateCounts};
use crate::store::{ObjectStore, StoreError};

/// Default bound on concurrent probes (`PROBE_CONCURRENCY`). A pass against S3 is bound by
/// latency over concurrency: at ~20 ms per HEAD in region, 64 in flight probe 100,000
/// artifacts in ~32 s (32 would need ~63 s), at ~3,200 HEADs per second, well under S3's
/// 5,500 per second per prefix; adaptive retry slows the pass if S3 says `SlowDown` anyway.
/// It was 32 until issue 8 (BENCHMARKS.md); docs/lambda.md#environment.
pub const DEFAULT_PROBE_CONCURRENCY: usize = 64;

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
}

impl Default for PassSettings {
    fn default() -> Self {
        PassSettings {
            alerts_enabled: false,
            probe_concurrency: DEFAULT_PROBE_CONCURRENCY,
            probe_deadline: None,
            only: Vec::new(),
        }
    }
}

/// Everything a pass found.
#[derive(Debug, Clone)]
pub struct PassOutcome {
    pub run_at: DateTime<Utc>,
    pub alerts_enabled: bool,
    pub rows: Vec<ResultRow>,
    /// Why the registry could not be used; `rows` is then empty.
    pub registry_error: Option<String>,
    pub registry_etag: Option<String>,
    /// `only` ids that name no artifact.
    pub unknown_only_ids: Vec<String>,
    pub duration: std::time::Duration,
}

impl PassOutcome {
    fn empty(settings: &PassSettings, now: DateTime<Utc>, etag: Option<String>) -> Self {
        PassOutcome {
            run_at: now,
            alerts_enabled: settings.alerts_enabled,
            rows: Vec::new(),
            registry_error: None,
            registry_etag: etag,
            unknown_only_ids: Vec::new(),
            duration: std::time::Duration::ZERO,
        }
    }

    /// A pass that could not use its registry: no rows, the reason in `registry_error` (the
    /// heartbeat carries it and the registry-error alert quotes it).
    pub fn registry_failed(
        reason: String,
        etag: Option<String>,
        settings: &PassSettings,
        now: DateTime<Utc>,
    ) -> Self {
        PassOutcome {
            registry_error: Some(reason),
            ..PassOutcome::empty(settings, now, etag)
        }
    }

    pub fn counts(&self) -> StateCounts {
        StateCounts::of(&self.rows)
    }

    pub fn alerting_rows(&self) -> impl Iterator<Item = &ResultRow> {
        self.rows.iter().filter(|r| r.alerting)
    }

    pub fn check_results(&self) -> CheckResults<'_> {
        CheckResults {
            run_at: self.run_at,
            alerts_enabled: self.alerts_enabled,
            n_entries: self.rows.len(),
            results: &self.rows,
        }
    }

    pub fn heartbeat(&self, alerts: AlertFigures) -> Heartbeat {
        Heartbeat {
            last_run: self.run_at,
            alerts_enabled: self.alerts_enabled,
            duration_seconds: (self.duration.as_secs_f64() * 1000.0).round() / 1000.0,
            n_entries_checked: self.rows.len(),
            counts: self.counts(),
            version: env!("CARGO_PKG_VERSION"),
            registry_etag: self.registry_etag.clone(),
            alerts,
            registry_error: self.registry_error.clone(),
        }
    }

    pub fn cycle_verdicts(&self) -> CycleVerdicts {
        CycleVerdicts::of(self.run_at, &self.rows)
    }
}

/// Observe mode is the default: alerts go out only when the flag is `true` (any case,
/// surrounding whitespace ignored). `1`, `yes` and `on` do not enable: a flag that pages
/// people must be said plainly.
pub fn alerts_flag(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Runs one pass at `now` over a parsed registry.
pub async fn run_pass<S: ObjectStore>(
    store: &S,
    loaded: &LoadedRegistry,
    settings: &PassSettings,
    now: DateTime<Utc>,
) -> PassOutcome {
    let started = StdInstant::now();
    let registry = &loaded.registry;
    let mut outcome = PassOutcome::empty(settings, now, loaded.etag.clone());
    outcome.unknown_only_ids = settings
        .only
        .iter()
        .filter(|id| !registry.entries.iter().any(|e| e.label() == id.as_str()))
        .cloned()
        .collect();
    outcome.rows = classify_registry(store, registry, settings, now).await;
    outcome.duration = started.elapsed();
    outcome
}

/// Classifies every (selected) entry of a parsed registry, probing concurrently.
pub async fn classify_registry<S: ObjectStore>(
    store: &S,
    registry: &Registry,
    settings: &PassSettings,
    now: DateTime<Utc>,
) -> Vec<ResultRow> {
    let selected: Vec<&RegistryEntry> = registry
        .entries
        .iter()
        .filter(|e| settings.only.is_empty() || settings.only.iter().any(|id| id == e.label()))
        .collect();

    // Cycles depend on the cadence only: resolve each once per pass.
    let mut cycles: HashMap<CadenceKey<'_>, Option<Cycle>> = HashMap::new();
    for entry in &selected {
        if let RegistryEntry::Valid(spec) = entry {
            cycles
                .entry(CadenceKey::of(&spec.cadence))
                .or_insert_with(|| spec.cadence.cycle_at(now, &registry.calendar));
        }
    }

    let mut shared = RowStringPool::default();
    let mut rows: Vec<Option<ResultRow>> = vec![None; selected.len()];
    // Only the indices wait for a probe: the keys and shared strings of each probe are made
    // as the probe starts, so at most `concurrency` of them exist at once.
    let mut to_probe: Vec<usize> = Vec::new();
    for (index, entry) in selected.iter().enumerate() {
        match entry {
            RegistryEntry::Invalid(bad) => rows[index] = Some(invalid_row(bad, now, &mut shared)),
            RegistryEntry::Valid(spec) => {
                let Some(cycle) = cycles[&CadenceKey::of(&spec.cadence)].as_ref() else {
                    rows[index] = Some(no_cycle_row(spec, now, &mut shared));
                    continue;
                };
                match decide_without_probe(spec, cycle, now) {
                    Some(verdict) => {
                        let keys = ResolvedKeys::resolve(spec, cycle);
                        let strings = RowStrings::of(spec, cycle, &mut shared);
                        rows[index] = Some(row(spec, cycle, keys, strings, verdict));
                    }
                    None => to_probe.push(index),
                }
            }
        }
    }

    let concurrency = settings.probe_concurrency.max(1);
    let deadline = settings.probe_deadline;
    let cycles = &cycles;
    let mut probed = stream::iter(to_probe)
        .map(|index| {
            let RegistryEntry::Valid(spec) = selected[index] else {
                unreachable!("only valid entries wait for a probe")
            };
            let cycle = cycles[&CadenceKey::of(&spec.cadence)]
                .as_ref()
                .expect("only entries with a cycle wait for a probe");
            let job = ProbeJob {
                index,
                spec,
                cycle,
                keys: ResolvedKeys::resolve(spec, cycle),
                strings: RowStrings::of(spec, cycle, &mut shared),
            };
            async move {
                let verdict = probe_and_judge(store, &job, now, deadline).await;
                (
                    job.index,
                    row(job.spec, job.cycle, job.keys, job.strings, verdict),
                )
            }
        })
        .buffer_unordered(concurrency);
    while let Some((index, finished)) = probed.next().await {
        rows[index] = Some(finished);
    }
    rows.into_iter()
        .map(|r| r.expect("every selected entry gets a row"))
        .collect()
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

/// One shared copy of each string the rows repeat.
#[derive(Default)]
struct SharedStrings<'a> {
    by_text: HashMap<&'a str, Arc<str>>,
    /// The last string asked for: neighbouring entries mostly share owner and bucket, and a
    /// comparison is cheaper than hashing.
    last: Option<Arc<str>>,
}

impl<'a> SharedStrings<'a> {
    fn get(&mut self, text: &'a str) -> Arc<str> {
        if let Some(last) = self.last.as_ref().filter(|last| ***last == *text) {
            return last.clone();
        }
        let shared = self
            .by_text
            .entry(text)
            .or_insert_with(|| Arc::from(text))
            .clone();
        self.last = Some(shared.clone());
        shared
    }
}

/// One pool per row field, so each pool's last-string check mostly hits.
#[derive(Default)]
struct RowStringPool<'a> {
    owners: SharedStrings<'a>,
    cadences: SharedStrings<'a>,
    labels: SharedStrings<'a>,
    buckets: SharedStrings<'a>,
}

/// The shared strings of one artifact's row.
struct RowStrings {
    owner_repo: Arc<str>,
    cadence: Arc<str>,
    cycle_label: Arc<str>,
    s3_bucket: Arc<str>,
}

impl RowStrings {
    fn of<'a>(spec: &'a ArtifactSpec, cycle: &'a Cycle, pool: &mut RowStringPool<'a>) -> Self {
        RowStrings {
            owner_repo: pool.owners.get(&spec.owner_repo),
            cadence: pool.cadences.get(spec.cadence.name()),
            cycle_label: pool.labels.get(&cycle.label),
            s3_bucket: pool.buckets.get(&spec.s3_bucket),
        }
    }
}

struct ProbeJob<'a> {
    index: usize,
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    keys: ResolvedKeys,
    strings: RowStrings,
}

async fn probe_and_judge<S: ObjectStore>(
    store: &S,
    job: &ProbeJob<'_>,
    now: DateTime<Utc>,
    deadline: Option<tokio::time::Instant>,
) -> Classification {
    let head = |key| head_before(store, &job.spec.s3_bucket, key, deadline);
    let canonical: ProbeOutcome = head(&job.keys.canonical_key).await;
    let recovery: Option<ProbeOutcome> = match &job.keys.recovery_key {
        Some(key) if needs_recovery_probe(&job.keys, job.cycle, &canonical) => {
            Some(head(key).await)
        }
        _ => None,
    };
    judge(
        job.spec,
        job.cycle,
        &job.keys,
        now,
        &canonical,
        recovery.as_ref(),
    )
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

fn dedup_key(id: &str, cycle_label: &str) -> String {
    let mut key = String::with_capacity("freshness_".len() + id.len() + 1 + cycle_label.len());
    key.push_str("freshness_");
    key.push_str(id);
    key.push('_');
    key.push_str(cycle_label);
    key
}

/// A broken entry has no cycle of its own: it alerts once per UTC day until it is fixed.
fn broken_entry_dedup_key(label: &str, now: DateTime<Utc>) -> String {
    format!("freshness_{label}_invalid_{}", now.format("%Y-%m-%d"))
}

fn row(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: ResolvedKeys,
    strings: RowStrings,
    verdict: Classification,
) -> ResultRow {
    ResultRow {
        artifact_id: spec.id.to_string(),
        owner_repo: Some(strings.owner_repo),
        severity: Some(spec.severity),
        cadence: Some(strings.cadence),
        canonical_key: Some(keys.canonical_key),
        alerting: verdict.is_alerting(),
        state: verdict.state,
        reason: verdict.reason,
        last_modified: verdict.last_modified,
        sla_violated_by_minutes: verdict.sla_violated_by_minutes,
        recovery_substituted: verdict.recovery_substituted,
        cycle_label: Some(strings.cycle_label),
        cycle_tick: Some(cycle.tick),
        due_at: Some(keys.due_at),
        dedup_key: Some(dedup_key(spec.id.as_str(), &cycle.label)),
        s3_bucket: Some(strings.s3_bucket),
    }
}

fn invalid_row<'a>(
    bad: &'a InvalidArtifact,
    now: DateTime<Utc>,
    shared: &mut RowStringPool<'a>,
) -> ResultRow {
    ResultRow {
        artifact_id: bad.label.clone(),
        owner_repo: bad.owner_repo.as_deref().map(|s| shared.owners.get(s)),
        severity: bad.severity,
        cadence: bad.cadence.as_deref().map(|s| shared.cadences.get(s)),
        canonical_key: bad.s3_key_template.clone(),
        state: classify::State::ProbeFailed,
        reason: bad.reason(),
        last_modified: None,
        sla_violated_by_minutes: 0,
        recovery_substituted: false,
        cycle_label: None,
        cycle_tick: None,
        due_at: None,
        dedup_key: Some(broken_entry_dedup_key(&bad.label, now)),
        alerting: true,
        s3_bucket: bad.s3_bucket.as_deref().map(|s| shared.buckets.get(s)),
    }
}

fn no_cycle_row<'a>(
    spec: &'a ArtifactSpec,
    now: DateTime<Utc>,
    shared: &mut RowStringPool<'a>,
) -> ResultRow {
    let reason = format!(
        "cadence {} has no fire time in the last 30 years; check its cron expression",
        spec.cadence.name()
    );
    ResultRow {
        artifact_id: spec.id.to_string(),
        owner_repo: Some(shared.owners.get(&spec.owner_repo)),
        severity: Some(spec.severity),
        cadence: Some(shared.cadences.get(spec.cadence.name())),
        canonical_key: Some(spec.s3_key_template.source().to_string()),
        state: classify::State::ProbeFailed,
        reason,
        last_modified: None,
        sla_violated_by_minutes: 0,
        recovery_substituted: false,
        cycle_label: None,
        cycle_tick: None,
        due_at: None,
        dedup_key: Some(broken_entry_dedup_key(spec.id.as_str(), now)),
        alerting: true,
        s3_bucket: Some(shared.buckets.get(&spec.s3_bucket)),
    }
}

/// Where a pass writes its three files.
#[derive(Debug, Clone)]
pub struct OutputLocation {
    pub bucket: String,
    /// Ends with `/` (or is empty).
    pub prefix: String,
}

/// Writes `check_results.json`, `cycle_verdict.json` and, last, `heartbeat.json`. After a
/// registry error only the heartbeat is written: the last good results stay readable.
pub async fn write_outputs<S: ObjectStore>(
    store: &S,
    location: &OutputLocation,
    outcome: &PassOutcome,
    alerts: AlertFigures,
) -> Result<(), StoreError> {
    let key = |name: &str| format!("{}{name}", location.prefix);
    let mut first_error = None;
    if outcome.registry_error.is_none() {
        let rows = outcome.rows.len();
        for result in [
            put_json(
                store,
                &location.bucket,
                &key("check_results.json"),
                &outcome.check_results(),
                rows,
            )
            .await,
            put_json(
                store,
                &location.bucket,
                &key("cycle_verdict.json"),
                &outcome.cycle_verdicts(),
                rows,
            )
            .await,
        ] {
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Err(e) = store
        .put(
            &location.bucket,
            &key("heartbeat.json"),
            to_json(&outcome.heartbeat(alerts), 0),
            "application/json",
        )
        .await
    {
        first_error.get_or_insert(e);
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Above this many rows the result files are written compact (indentation adds about a third)
/// and staged in a temporary file that the store streams from: at 100,000 rows
/// `check_results.json` is ~70 MB, more than half of the smallest Lambda's memory.
const PRETTY_JSON_MAX_ROWS: usize = 1_000;

async fn put_json<S: ObjectStore, T: serde::Serialize + Sync>(
    store: &S,
    bucket: &str,
    key: &str,
    value: &T,
    rows: usize,
) -> Result<(), StoreError> {
    if rows > PRETTY_JSON_MAX_ROWS {
        match stage_json(value) {
            Ok(staged) => {
                return store
                    .put_file(bucket, key, staged.path(), "application/json")
                    .await;
            }
            // A full or read-only temp dir costs memory, not the write.
            Err(e) => tracing::warn!(
                "could not stage {key} in {}: {e}; writing it from memory",
                std::env::temp_dir().display()
            ),
        }
    }
    store
        .put(bucket, key, to_json(value, rows), "application/json")
        .await
}

/// Serializes `value` compactly into a new file in the temp dir (`/tmp` on Lambda), removed
/// when the returned handle drops. Blocking writes into the page cache: ~50 ms at 70 MB, once
/// per pass, so not worth a blocking-pool hop.
fn stage_json<T: serde::Serialize>(value: &T) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let mut staged = tempfile::NamedTempFile::new()?;
    let mut writer = std::io::BufWriter::with_capacity(256 * 1024, staged.as_file_mut());
    serde_json::to_writer(&mut writer, value)?;
    writer.flush()?;
    drop(writer);
    Ok(staged)
}

fn to_json<T: serde::Serialize>(value: &T, rows: usize) -> Vec<u8> {
    if rows > PRETTY_JSON_MAX_ROWS {
        serde_json::to_vec(value)
    } else {
        serde_json::to_vec_pretty(value)
    }
    .expect("report types always serialize")
}
