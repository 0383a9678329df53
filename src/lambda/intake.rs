//! An invocation of S3 "Object Created" events: the objects they name mark their artifacts
//! present in the ledger, and an artifact that was alerted gets its RESOLVED at once
//! (docs/lambda.md#object-created-events).
//!
//! Steps: read the registry (one GET; in a warm container that kept it, no request within 5
//! minutes of its last check, else one HEAD: [`super::registry_cache`]; a registry that
//! cannot be read fails the invocation, so the queue keeps the batch for the next try and its
//! dead-letter queue catches what keeps failing), match each object back to its artifacts and cycle ([`crate::matcher`]), and, only
//! when something matched the current cycle: read the ledger, record the presences
//! ([`crate::ledger::Presence`]), run the pass's alert delivery over the rows of the matched
//! artifacts that were alerted (judged from the ledger, as a settled probe is: no HEAD) so
//! the RESOLVED claim and markers are the pass's own, and write the ledger once,
//! conditionally (a lost race re-applies the presences to the winner's ledger: they are
//! idempotent). One GET and one conditional PUT of the ledger per invocation however many
//! events it carries; a key that matches nothing costs nothing beyond the registry's GET.
//! When a presence was new and the ledger written, the matched rows of `check_results.json`
//! and the status page turn fresh at once ([`super::event_outputs`]).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::container::Container;
use super::deadline::OUTPUT_RESERVE;
use super::error::{HandlerError, registry_error_message};
use super::event_outputs::{EventOutputs, OutputsUpdate, judge_rows, update_outputs};
use super::ledger_memory::{LedgerMemory, REMEMBERED_MAX_ARTIFACTS};
use super::object_event::{CreatedObject, EventSource, FUTURE_TOLERANCE, Ignored, ObjectEvents};
use crate::ledger::store::FirstWrite;
use crate::ledger::{self, Ledger, Presence, PresenceFigures};
use crate::matcher::{CycleOfKey, KeyKind, Matcher};
use crate::pass::{self, PassSettings};
use crate::registry::Registry;
use crate::registry_source::LoadedRegistry;
use crate::report::AlertFigures;
use crate::report::files::LEDGER;
use crate::settings::Settings;
use crate::store::ObjectStore;
use crate::store::counting::CountingStore;

/// What the events' objects came to.
#[derive(Debug, Default)]
pub struct Sorted {
    /// Objects named (an SQS record can name several, through S3's own notification).
    pub objects: usize,
    /// Artifacts seen present in their current cycle, with the index of their record.
    pub presences: Vec<(usize, Presence)>,
    /// Why the rest changed nothing, counted per object and artifact.
    pub ignored: BTreeMap<Ignored, usize>,
}

/// Matches every object of `events` against the registry at `now`.
pub fn sort_objects(
    events: &ObjectEvents,
    registry: &Registry,
    matcher: &Matcher,
    now: DateTime<Utc>,
) -> Sorted {
    let mut sorted = Sorted::default();
    for (index, record) in events.records.iter().enumerate() {
        for item in &record.items {
            sorted.objects += 1;
            let outcomes = match item {
                Ok(object) => match_object(object, registry, matcher, now),
                Err(reason) => vec![Err(*reason)],
            };
            for outcome in outcomes {
                match outcome {
                    Ok(presence) => sorted.presences.push((index, presence)),
                    Err(reason) => *sorted.ignored.entry(reason).or_default() += 1,
                }
            }
        }
    }
    sorted
}

/// The presences one object gives, or why it gives none.
fn match_object(
    object: &CreatedObject,
    registry: &Registry,
    matcher: &Matcher,
    now: DateTime<Utc>,
) -> Vec<Result<Presence, Ignored>> {
    if object.time > now + FUTURE_TOLERANCE {
        return vec![Err(Ignored::FutureTime)];
    }
    if !matcher.knows_bucket(&object.bucket) {
        return vec![Err(Ignored::OtherBucket)];
    }
    let mut outcomes = Vec::new();
    for key in &object.keys {
        for found in matcher.match_key(registry, &object.bucket, key, now) {
            outcomes.push(match (found.kind, found.cycle) {
                (KeyKind::Recovery, _) => Err(Ignored::RecoveryKey),
                (KeyKind::Canonical, CycleOfKey::Previous(_)) => Err(Ignored::PastCycle),
                (KeyKind::Canonical, CycleOfKey::Other) => Err(Ignored::NotCurrentCycle),
                (KeyKind::Canonical, CycleOfKey::Current(cycle)) if object.time < cycle.tick => {
                    Err(Ignored::BeforeTick)
                }
                (KeyKind::Canonical, CycleOfKey::Current(cycle)) => Ok(Presence {
                    artifact_id: found.spec.id.shared(),
                    cycle: cycle.label.into(),
                    bucket: found.spec.s3_bucket.clone(),
                    key: key.as_str().into(),
                    last_modified: object.time,
                }),
            });
        }
    }
    if outcomes.is_empty() {
        outcomes.push(Err(Ignored::NoArtifact));
    }
    outcomes
}

/// Runs an invocation of object events (module docs) at `now` (the clock's, in the Lambda)
/// and answers with its response.
pub async fn run_object_events<S: ObjectStore>(
    container: &Container<S>,
    events: &ObjectEvents,
    deadline: Option<SystemTime>,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<Value, HandlerError> {
    let started = std::time::Instant::now();
    let settings = container
        .settings
        .as_ref()
        .map_err(|e| HandlerError::Settings(e.clone()))?;
    let store = &CountingStore::new(&container.store);
    let (compiled, registry_use) = (container.registry)
        .load(
            store,
            (&settings.registry_bucket, &settings.registry_key),
            now,
        )
        .await
        .map_err(|e| HandlerError::Registry(registry_error_message(settings, &e)))?;
    let (loaded, matcher) = (&compiled.loaded, &compiled.matcher);
    let sorted = sort_objects(events, &loaded.registry, matcher, now);
    let applied = if sorted.presences.is_empty() {
        Applied::default()
    } else {
        let inputs = Inputs {
            container,
            settings,
            loaded,
            now,
            deadline,
        };
        apply(store, &inputs, &sorted).await
    };
    let retry = records_to_retry(&sorted, &applied);
    let mut response = response(
        events,
        &sorted,
        &applied,
        &retry,
        settings,
        store.counts(),
        started,
    );
    response["registry"] = json!(registry_use.name());
    tracing::info!(
        message = "object events",
        request_id,
        objects = sorted.objects,
        marked = applied.figures.marked,
        already_known = applied.figures.already_known,
        ignored = %response["ignored"],
        resolved = applied.alerts.resolved,
        registry = registry_use.name(),
        ledger = applied.ledger,
        outputs = applied.outputs.as_ref().map(|o| o.status),
        records_to_retry = retry.len(),
        requests_total = store.counts().total(),
    );
    match (events.source, retry.is_empty()) {
        (EventSource::Sqs, _) | (_, true) => Ok(response),
        (_, false) => Err(failure(&applied)),
    }
}

/// What a batch's presences came to.
#[derive(Debug, Default)]
struct Applied {
    figures: PresenceFigures,
    alerts: AlertFigures,
    /// The ledger write's status (`None`: nothing to write).
    ledger: Option<&'static str>,
    ledger_detail: Option<String>,
    /// What became of `check_results.json` and the page (`None`: nothing was marked).
    outputs: Option<OutputsUpdate>,
}

impl Applied {
    fn ledger_lost(&self) -> bool {
        matches!(self.ledger, Some("failed" | "conflict"))
    }
}

/// What [`apply`] reads besides the store.
struct Inputs<'a, S> {
    container: &'a Container<S>,
    settings: &'a Settings,
    loaded: &'a LoadedRegistry,
    now: DateTime<Utc>,
    deadline: Option<SystemTime>,
}

/// Reads the ledger, records the presences, sends the RESOLVED notices they bring, writes the
/// ledger: from the ledger this container last wrote when it may ([`apply_remembered`]),
/// else as read.
async fn apply<S: ObjectStore>(
    store: &CountingStore<'_, S>,
    inputs: &Inputs<'_, S>,
    sorted: &Sorted,
) -> Applied {
    let settings = inputs.settings;
    let presences: Vec<Presence> = sorted.presences.iter().map(|(_, p)| p.clone()).collect();
    let key = format!("{}{}", settings.results_prefix, LEDGER);
    let bucket = settings.results_bucket();
    let memory = &inputs.container.event_ledger;
    if let Some(remembered) = memory.take(bucket, &key, inputs.now)
        && let Some(applied) =
            apply_remembered(store, inputs, &presences, (bucket, &key), remembered).await
    {
        return applied;
    }
    // The ledger is read: what this container wrote of the outputs is trusted again only once
    // an update after this read writes them (a pass may have written them since).
    inputs.container.event_outputs.forget_results_body();
    let mut read = ledger::store::read(store, bucket, &key).await;
    let figures = read.ledger.apply_presences(&presences);
    let alerts = resolve(store, inputs, &read.ledger, &presences).await;
    let mut applied = Applied {
        figures,
        alerts,
        ..Applied::default()
    };
    let resolved: Vec<&str> = (applied.alerts.resolved_artifacts.iter())
        .chain(&applied.alerts.resolved_held_artifacts)
        .map(String::as_str)
        .collect();
    if figures.marked == 0 && resolved.is_empty() {
        applied.ledger = Some("unchanged");
        return applied;
    }
    let outputs = event_outputs(inputs);
    // Judged before the ledger (the only copy) goes to its write; no request.
    let judged = match figures.marked {
        0 => None,
        _ => Some(judge_rows(store, &outputs, &read.ledger, artifact_ids(&presences)).await),
    };
    let update = |ledger: &mut Ledger| {
        ledger.apply_presences(&presences);
        ledger.note_alerts([], resolved.iter().copied());
    };
    let written = write_ledger(store, (bucket, &key), read, update, memory).await;
    applied.ledger = Some(written.status);
    applied.ledger_detail = written.detail;
    if let Some(judged) = judged.filter(|_| !applied.ledger_lost()) {
        applied.outputs = Some(update_outputs(store, &outputs, judged, false).await);
    }
    applied
}

/// What the outputs' update reads besides the store.
fn event_outputs<'a, S>(inputs: &Inputs<'a, S>) -> EventOutputs<'a> {
    EventOutputs {
        settings: inputs.settings,
        loaded: inputs.loaded,
        page_history: &inputs.container.page_history,
        memory: &inputs.container.event_outputs,
        now: inputs.now,
    }
}

/// The presences applied to the ledger this container last wrote (`remembered`), written
/// `If-Match` its ETag with no GET (`super::ledger_memory`), and the outputs updated from what
/// this container last wrote of them too. `None` when that cannot be done and the ledger
/// must be read: a matched artifact's alert is out (a RESOLVED is decided on the ledger as
/// read), or the PUT was lost (another writer wrote since).
async fn apply_remembered<S: ObjectStore>(
    store: &CountingStore<'_, S>,
    inputs: &Inputs<'_, S>,
    presences: &[Presence],
    (bucket, key): (&str, &str),
    mut remembered: ledger::store::ReadLedger,
) -> Option<Applied> {
    let alerted = |p: &Presence| {
        (remembered.ledger.in_cycle(&p.artifact_id, &p.cycle)).is_some_and(|e| e.alert_out)
    };
    if presences.iter().any(alerted) {
        return None;
    }
    let figures = remembered.ledger.apply_presences(presences);
    let mut applied = Applied {
        figures,
        ..Applied::default()
    };
    if figures.marked == 0 {
        let etag = remembered
            .etag
            .take()
            .expect("a remembered ledger has its ETag");
        (inputs.container.event_ledger).keep(bucket, key, Some((remembered.ledger, etag)));
        applied.ledger = Some("unchanged");
        return Some(applied);
    }
    let outputs = event_outputs(inputs);
    let ids = artifact_ids(presences);
    let judged = judge_rows(store, &outputs, &remembered.ledger, ids).await;
    let update = |ledger: &mut Ledger| {
        ledger.apply_presences(presences);
    };
    match ledger::store::write_first_from_memory(store, bucket, key, remembered, update).await {
        FirstWrite::Written(written, kept) => {
            (inputs.container.event_ledger).keep(bucket, key, kept);
            applied.ledger = Some(written.status);
            applied.outputs = Some(update_outputs(store, &outputs, judged, true).await);
            Some(applied)
        }
        FirstWrite::Lost => {
            (inputs.container.event_ledger).lost(inputs.now);
            None
        }
        FirstWrite::Failed(written) => {
            applied.ledger = Some(written.status);
            applied.ledger_detail = written.detail;
            Some(applied)
        }
    }
}

/// Writes the ledger `read` with `update` applied, conditionally: a small one from memory, kept
/// in `memory` with the ETag its PUT answered for the next invocation; a lost race (or a
/// ledger too big to keep) through [`ledger::store::write`] (read again, applied again).
async fn write_ledger<S: ObjectStore>(
    store: &CountingStore<'_, S>,
    (bucket, key): (&str, &str),
    read: ledger::store::ReadLedger,
    update: impl Fn(&mut Ledger),
    memory: &LedgerMemory,
) -> crate::report::LedgerFigures {
    if read.ledger.artifacts.len() > REMEMBERED_MAX_ARTIFACTS {
        return ledger::store::write(store, bucket, key, read, update).await;
    }
    match ledger::store::write_first_from_memory(store, bucket, key, read, &update).await {
        FirstWrite::Written(written, kept) => {
            memory.keep(bucket, key, kept);
            written
        }
        FirstWrite::Failed(written) => written,
        FirstWrite::Lost => {
            let again = ledger::store::read(store, bucket, key).await;
            let mut written = ledger::store::write(store, bucket, key, again, update).await;
            if matches!(written.status, "updated" | "created") {
                written.status = "merged";
            }
            written
        }
    }
}

/// The artifacts of `presences`, each once.
fn artifact_ids(presences: &[Presence]) -> Vec<String> {
    let mut ids: Vec<String> = presences
        .iter()
        .map(|p| p.artifact_id.to_string())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The pass's alert delivery over the matched artifacts whose alert of this cycle is out and
/// not yet resolved (none: no request at all). Their rows are judged from the ledger just
/// marked, so no probe is made for them.
async fn resolve<S: ObjectStore>(
    store: &CountingStore<'_, S>,
    inputs: &Inputs<'_, S>,
    marked: &Ledger,
    presences: &[Presence],
) -> AlertFigures {
    let mut only: Vec<String> = presences
        .iter()
        .filter(|p| {
            marked
                .in_cycle(&p.artifact_id, &p.cycle)
                .is_some_and(|e| e.alert_out && !e.resolved_out && !alerted_never_written(e))
        })
        .map(|p| p.artifact_id.to_string())
        .collect();
    only.sort_unstable();
    only.dedup();
    let Some(alerter) = inputs
        .container
        .alerter
        .as_ref()
        .filter(|_| !only.is_empty())
    else {
        return AlertFigures::default();
    };
    let pass_settings = PassSettings {
        only,
        ..PassSettings::from_settings(inputs.settings)
    };
    let outcome = pass::run_pass(
        store,
        inputs.loaded,
        &pass_settings,
        inputs.now,
        Some(marked),
    )
    .await;
    let send_deadline = inputs.deadline.map(|d| {
        let remaining = d
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        tokio::time::Instant::now() + remaining.saturating_sub(OUTPUT_RESERVE)
    });
    alerter
        .deliver(store, &outcome, send_deadline, Some(marked))
        .await
}

/// Alerted as never written: the next pass sends that alert's own RESOLVED notice
/// (docs/alerts.md#never-written), from the ledger's memory the event leaves as it is.
fn alerted_never_written(entry: &crate::ledger::LedgerEntry) -> bool {
    !entry.written && entry.never_written_since.is_some()
}

/// The records a retry can help: all those with presences when the ledger was not written,
/// and those of artifacts whose RESOLVED reached no channel (its claim was released).
fn records_to_retry(sorted: &Sorted, applied: &Applied) -> Vec<usize> {
    let failed = &applied.alerts.resolved_failed_artifacts;
    let mut records: Vec<usize> = (sorted.presences.iter())
        .filter(|(_, p)| applied.ledger_lost() || failed.iter().any(|id| **id == *p.artifact_id))
        .map(|(index, _)| *index)
        .collect();
    records.sort_unstable();
    records.dedup();
    records
}

/// The invocation's error outside SQS (EventBridge and S3 retry a failed asynchronous
/// invocation).
fn failure(applied: &Applied) -> HandlerError {
    if applied.ledger_lost() {
        return HandlerError::Ledger(format!(
            "the ledger could not be written ({}): the presences are kept for the retry",
            applied.ledger_detail.as_deref().unwrap_or("no detail")
        ));
    }
    HandlerError::Alerts(format!(
        "{} RESOLVED notice{} reached no channel; the claims were released, so the retry sends",
        applied.alerts.resolved_failed_artifacts.len(),
        crate::text::plural(applied.alerts.resolved_failed_artifacts.len())
    ))
}

/// The response (docs/lambda.md#object-created-events). an SQS batch's has
/// `batchItemFailures`, naming the messages a retry can help.
fn response(
    events: &ObjectEvents,
    sorted: &Sorted,
    applied: &Applied,
    retry: &[usize],
    settings: &Settings,
    requests: crate::report::RequestCounts,
    started: std::time::Instant,
) -> Value {
    let ignored: serde_json::Map<String, Value> = (sorted.ignored.iter())
        .map(|(reason, count)| (reason.name().to_string(), json!(count)))
        .collect();
    let mut body = json!({
        "objects": sorted.objects,
        "marked": applied.figures.marked,
        "already_known": applied.figures.already_known,
        "ignored": ignored,
        "alerts_enabled": settings.alerts_enabled,
        "resolved": applied.alerts.resolved,
        "ledger": applied.ledger,
        "outputs": applied.outputs.as_ref().map(OutputsUpdate::to_json),
        "requests": requests,
        "duration_seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    });
    if events.source == EventSource::Sqs {
        let failures: Vec<Value> = (retry.iter())
            .filter_map(|i| events.records[*i].message_id.as_deref())
            .map(|id| json!({ "itemIdentifier": id }))
            .collect();
        body["batchItemFailures"] = json!(failures);
    }
    body
}

#[cfg(test)]
mod tests;
