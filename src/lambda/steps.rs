//! One pass's steps over any object store: read the ledger, the registry and the status
//! page's history digest together; judge the registry (skipping what the ledger settled,
//! listing what pays), reading the acknowledgements beside the probes when the ledger says
//! something was alerting; list never-written prefixes (and the acks, when not read yet);
//! deliver the alerts; write the ledger and the outputs together. Every S3 request is counted
//! on the way (docs/outputs.md#requests). A steady pass is three round trips one after another
//! (docs/lambda.md#round-trips), each of many requests in flight: the recovery keys the ledger
//! foresees go out with the probes (`pass::classify`). The Lambda's handler and
//! `run` call it with the S3 store; the day benchmark with the stand-in's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::deadline::OUTPUT_RESERVE;
use super::error::{HandlerError, registry_error_message};
use crate::alert::Alerter;
use crate::alert::policy::{ack, never_written};
use crate::boxed::boxed;
use crate::deadline_schedule::{DeadlineSchedule, Kept};
use crate::ledger::{self, Ledger};
use crate::outcome_log::write::LogWrite;
use crate::outcome_log::{self, OutcomeRecord, closed_cycles};
use crate::page::PageHistory;
use crate::pass::{self, PageHistoryCache, PassOutcome, PassSettings};
use crate::registry_source::{self, LoadedRegistry, RegistryLoadError, RegistrySource};
use crate::report::files::LEDGER;
use crate::report::{AlertFigures, RequestCounts};
use crate::settings::{OutputLocation, Settings};
use crate::store::counting::CountingStore;
use crate::store::{ObjectStore, StoreError};

/// What one pass needs besides its store.
pub struct PassSteps<'a> {
    pub settings: &'a Settings,
    pub pass_settings: PassSettings,
    /// The channels and markers (`None`: the settings were invalid; nothing is sent).
    pub alerter: Option<&'a Alerter>,
    pub now: DateTime<Utc>,
    /// Probe and judge only: no ledger, no alerts, no outputs.
    pub dry_run: bool,
    /// The invocation's deadline (`None` from a shell).
    pub deadline: Option<SystemTime>,
    /// The ledger read at the start spares probes (settled artifacts) and marker requests
    /// (alerts already out). Always true in the Lambda and `run`; the day benchmark turns it
    /// off to measure what probing everything every pass costs.
    pub ledger_spares: bool,
    /// The status page's history digest as the container last read it (read again only when
    /// its ETag changed).
    pub page_history: &'a PageHistoryCache,
    /// The deadline schedule to keep after judging (`None`: the pass leaves it alone, as the
    /// day benchmark's passes do); a dry run never touches it.
    pub deadline_schedule: Option<&'a DeadlineSchedule>,
}

/// What a pass did: its outcome (with the ledger's figures and the request counts, the output
/// writes included), its alerts, and whether the outputs were written.
pub struct PassDone {
    pub outcome: PassOutcome,
    pub alerts: AlertFigures,
    pub written: Result<bool, HandlerError>,
}

/// Runs one pass's steps over `store`, counting every request: one function per round trip
/// (docs/lambda.md#round-trips). Each step's future is built on the heap ([`boxed`]), so this
/// one holds none of them and its poll's frame no copy of one (BENCHMARKS.md, "A small
/// pass's memory, fifth round").
pub async fn run_steps<S: ObjectStore>(store: &S, steps: &PassSteps<'_>) -> PassDone {
    let counting = CountingStore::new(store);
    let store = &counting;
    let Inputs {
        ledger_read,
        loaded,
        page_history,
    } = boxed(|| read_inputs(store, steps)).await;
    let sparing = ledger_read
        .as_ref()
        .filter(|_| steps.ledger_spares)
        .map(|read| &read.ledger);
    // The policy (escalation, never-written) reads the ledger even when it spares nothing.
    let remembered = ledger_read.as_ref().map(|read| &read.ledger);
    let schedule = steps.deadline_schedule.filter(|_| !steps.dry_run);
    let probed = boxed(|| {
        probe(
            store,
            steps,
            loaded,
            (sparing, remembered),
            schedule.is_some(),
        )
    })
    .await;
    let Probed {
        mut outcome,
        prefix_checks,
        closed,
        early_acks,
    } = probed;
    let kept = if outcome.registry_error.is_none() {
        let checks = (prefix_checks, early_acks);
        boxed(|| complete_rows(store, steps, &mut outcome, checks, remembered, schedule)).await
    } else {
        None
    };
    outcome.deadline_passes = kept.as_ref().map(|k| k.figures.clone());
    let read = ledger_read.as_ref();
    let (alerts, log) =
        boxed(|| alert_and_log(store, steps, &outcome, (read, sparing), closed)).await;
    let done = Judged {
        outcome,
        alerts,
        kept,
        log,
    };
    boxed(|| write_results(store, steps, ledger_read, page_history, done)).await
}

/// What round trip 1 reads: the ledger, the registry, the status page's history digest
/// (the ledger and the page's history not in a dry run, which neither reads nor writes them).
struct Inputs {
    ledger_read: Option<ledger::store::ReadLedger>,
    loaded: Result<LoadedRegistry, RegistryLoadError>,
    page_history: Option<Arc<PageHistory>>,
}

/// Round trip 1: the inputs, all independent, together.
async fn read_inputs<S: ObjectStore>(store: &S, steps: &PassSteps<'_>) -> Inputs {
    let settings = steps.settings;
    let ledger_key = format!("{}{}", settings.results_prefix, LEDGER);
    let location = settings.output_location();
    let (ledger_read, loaded, page_history) = tokio::join!(
        async {
            match steps.dry_run {
                true => None,
                false => {
                    Some(ledger::store::read(store, settings.results_bucket(), &ledger_key).await)
                }
            }
        },
        load_registry(store, settings),
        async {
            match steps.dry_run {
                true => None,
                false => Some(pass::read_page_history(store, &location, steps.page_history).await),
            }
        },
    );
    Inputs {
        ledger_read,
        loaded,
        page_history,
    }
}

/// What round trip 2 learns: the rows judged, the prefixes the never-written rule may list,
/// the cycles closed, and the acknowledgements when they were read beside the probes.
struct Probed {
    outcome: PassOutcome,
    prefix_checks: PrefixChecks,
    closed: Vec<OutcomeRecord>,
    early_acks: Option<ack::AckRead>,
}

/// Round trip 2: the probes (with them the recovery keys the ledger foresees; one more round
/// trip for those it does not), and beside them the acknowledgements when the last pass left
/// something alerting.
async fn probe<S: ObjectStore>(
    store: &S,
    steps: &PassSteps<'_>,
    loaded: Result<LoadedRegistry, RegistryLoadError>,
    ledgers: (Option<&Ledger>, Option<&Ledger>),
    want_deadline: bool,
) -> Probed {
    let settings = steps.settings;
    let early_acks = ledgers.1.is_some_and(Ledger::left_something_alerting);
    let ((outcome, prefix_checks, closed), early_acks) = tokio::join!(
        judge_registry(
            store,
            settings,
            &steps.pass_settings,
            steps.now,
            loaded,
            ledgers,
            want_deadline,
        ),
        async {
            match early_acks {
                true => Some(read_acks(store, settings).await),
                false => None,
            }
        },
    );
    Probed {
        outcome,
        prefix_checks,
        closed,
        early_acks,
    }
}

/// Round trip 3, only when needed: never-written prefixes the ledger does not know yet, the
/// acks when something alerts that the ledger did not foresee, and the deadline schedule when
/// its time moves. Marks the rows and applies the alert policy; says how the schedule was
/// kept.
async fn complete_rows<S: ObjectStore>(
    store: &S,
    steps: &PassSteps<'_>,
    outcome: &mut PassOutcome,
    (prefix_checks, early_acks): (PrefixChecks, Option<ack::AckRead>),
    remembered: Option<&Ledger>,
    schedule: Option<&DeadlineSchedule>,
) -> Option<Kept> {
    let (known, to_list) = prefix_checks;
    let alerting = outcome.alerting_rows().next().is_some();
    let (found, acks, kept) = tokio::join!(
        crate::alert::gather::check_prefixes(store, known, to_list),
        async {
            match (alerting, early_acks) {
                (true, Some(acks)) => acks,
                (true, None) => read_acks(store, steps.settings).await,
                // Acks only change alerting rows: a pass with nothing alerting uses none
                // (and lists none unless the ledger foresaw alerts).
                (false, _) => ack::AckRead::default(),
            }
        },
        keep_schedule(schedule, outcome, remembered, steps.now),
    );
    never_written::mark_rows(&mut outcome.rows, &found.ids, steps.now);
    never_written::mark_appeared(&mut outcome.rows, remembered);
    outcome.prefix_listings = found.listings;
    apply_policy(steps, outcome, remembered, acks);
    kept
}

/// The alerts' round trips (their claims, sends and marker writes), with the outcome log's
/// PUT beside them: its records are of cycles closed before this pass's alerts
/// (docs/outputs.md#the-outcome-log), so they wait for nothing. `ledgers`: the one read and
/// the one that spares marker requests.
async fn alert_and_log<S: ObjectStore>(
    store: &S,
    steps: &PassSteps<'_>,
    outcome: &PassOutcome,
    (read, sparing): (Option<&ledger::store::ReadLedger>, Option<&Ledger>),
    closed: Vec<OutcomeRecord>,
) -> (AlertFigures, LogWrite) {
    tokio::join!(
        deliver_alerts(steps, store, outcome, sparing),
        write_outcome_log(store, steps, read, outcome, closed),
    )
}

/// What the pass decided and did before its last writes.
struct Judged {
    outcome: PassOutcome,
    alerts: AlertFigures,
    kept: Option<Kept>,
    log: LogWrite,
}

/// The last round trip: the ledger's conditional PUT and the outputs, together (a dry run
/// writes nothing). The ledger must follow the alerts' delivery (it records which went out:
/// recorded before a send that then failed, an alert would never be sent again), but nothing
/// has to wait for it: the outputs do not read it, and it is a cache that only spares
/// requests, never the authority on "sent" (the markers are), so a pass cut short between
/// the two writes costs at most some probes next time, as it did with the ledger first. Only
/// the heartbeat reports on it: it says what a first conditional PUT that succeeds reports,
/// and is written again, once more, in the rare pass where that is not what happened (a
/// race lost to another pass, a refused write).
async fn write_results<S: ObjectStore>(
    store: &CountingStore<'_, S>,
    steps: &PassSteps<'_>,
    ledger_read: Option<ledger::store::ReadLedger>,
    page_history: Option<Arc<PageHistory>>,
    judged: Judged,
) -> PassDone {
    let Judged {
        mut outcome,
        alerts,
        kept,
        log,
    } = judged;
    let mut prepared = prepare_ledger(ledger_read, &mut outcome, (&alerts, kept.as_ref(), &log));
    if steps.dry_run {
        outcome.requests = Some(store.counts());
        return PassDone {
            outcome,
            alerts,
            written: Ok(false),
        };
    }
    let settings = steps.settings;
    let ledger_key = format!("{}{}", settings.results_prefix, LEDGER);
    let place = (settings.results_bucket(), ledger_key.as_str());
    // A pass whose result files are staged in the temp dir (over 1,000 rows) writes its
    // ledger (staged too) first and frees its file, as before: `/tmp` then never holds both
    // (docs/lambda.md#beyond-one-invocation), and one round trip more is noise in such a pass.
    if pass::outputs_staged(outcome.rows.len())
        && let Some(first) = prepared.take()
    {
        let changes = (&outcome, &alerts, kept.as_ref(), &log);
        let figures = write_ledger(store, place, first, changes).await;
        outcome.ledger = Some(figures);
    }
    let location = settings.output_location();
    let history = page_history.expect("read unless a dry run");
    let planned = store
        .counts()
        .plus(pass::only_puts(u64::from(prepared.is_some())));
    let changes = (&outcome, &alerts, kept.as_ref(), &log);
    // Adding a write to this round trip is one more future in this `join!`.
    let (ledger_figures, written) = tokio::join!(
        async {
            match prepared {
                Some(prepared) => Some(write_ledger(store, place, prepared, changes).await),
                None => None,
            }
        },
        pass::write_outputs_together(
            store,
            &location,
            &outcome,
            alerts.clone(),
            Some(planned),
            Some(&history),
        ),
    );
    let planned = planned.plus(pass::only_puts(pass::output_puts(&outcome)));
    let outputs = (&location, &alerts);
    let again = heartbeat_again(store, outputs, &mut outcome, (ledger_figures, planned));
    let written = written.and(again.await);
    outcome.requests = Some(store.counts());
    let written = written
        .map(|()| true)
        .map_err(|source| HandlerError::Outputs {
            bucket: location.bucket.clone(),
            prefix: location.prefix.clone(),
            source,
        });
    PassDone {
        outcome,
        alerts,
        written,
    }
}

/// The ledger the pass will write, its figures (what a first conditional PUT that succeeds
/// reports) in the outcome; `None` without a ledger read (a dry run) or after a registry
/// error.
fn prepare_ledger(
    ledger_read: Option<ledger::store::ReadLedger>,
    outcome: &mut PassOutcome,
    (alerts, kept, log): (&AlertFigures, Option<&Kept>, &LogWrite),
) -> Option<ledger::store::PreparedLedger> {
    let read = ledger_read.filter(|_| outcome.registry_error.is_none())?;
    let prepared = ledger::store::prepare(read, &|ledger: &mut Ledger| {
        advance_ledger(ledger, (outcome, alerts, kept, log))
    });
    outcome.ledger = Some(prepared.figures_if_written());
    Some(prepared)
}

/// Writes the heartbeat again, once, when the ledger's PUT did not go as the heartbeat
/// written beside it said (a race lost, a refused write) or the pass made requests other
/// than `planned`; nothing to write otherwise.
async fn heartbeat_again<S: ObjectStore>(
    store: &CountingStore<'_, S>,
    (location, alerts): (&OutputLocation, &AlertFigures),
    outcome: &mut PassOutcome,
    (ledger_figures, planned): (Option<ledger::store::LedgerFigures>, RequestCounts),
) -> Result<(), StoreError> {
    let ledger_surprised = ledger_figures.is_some() && ledger_figures != outcome.ledger;
    if !ledger_surprised && store.counts() == planned {
        return Ok(());
    }
    if ledger_figures.is_some() {
        outcome.ledger = ledger_figures;
    }
    let counted = store.counts().plus(pass::only_puts(1));
    pass::write_heartbeat(store, location, outcome, alerts.clone(), Some(counted)).await
}

/// The ledger's conditional PUT (`place`: its bucket and key), the pass applied again to the
/// winner's ledger after a lost race.
async fn write_ledger<S: ObjectStore>(
    store: &S,
    (bucket, key): (&str, &str),
    prepared: ledger::store::PreparedLedger,
    changes: LedgerChanges<'_>,
) -> ledger::store::LedgerFigures {
    let apply = |ledger: &mut Ledger| advance_ledger(ledger, changes);
    ledger::store::write_prepared(store, bucket, key, prepared, apply).await
}

/// Points the deadline schedule at the pass after the next deadline (docs/lambda.md#deadline-passes),
/// unless the ledger says it already does; `None` when the pass keeps no schedule (a dry run,
/// the day benchmark) or could not use its registry.
async fn keep_schedule(
    schedule: Option<&DeadlineSchedule>,
    outcome: &PassOutcome,
    ledger: Option<&Ledger>,
    now: DateTime<Utc>,
) -> Option<Kept> {
    let schedule = schedule.filter(|_| outcome.registry_error.is_none())?;
    let last_set = ledger.and_then(|l| l.deadline_schedule_at);
    Some(
        schedule
            .keep(outcome.next_deadline.as_ref(), last_set, now)
            .await,
    )
}

/// Writes the cycles this pass closed, with those the ledger kept unrecorded, to the outcome
/// log (docs/outputs.md#the-outcome-log); nothing without a ledger read (a dry run) or after
/// a registry error.
async fn write_outcome_log<S: ObjectStore>(
    store: &S,
    steps: &PassSteps<'_>,
    ledger_read: Option<&ledger::store::ReadLedger>,
    outcome: &PassOutcome,
    closed: Vec<OutcomeRecord>,
) -> LogWrite {
    let Some(read) = ledger_read.filter(|_| outcome.registry_error.is_none()) else {
        return LogWrite::default();
    };
    let mut lines = read.ledger.unrecorded_outcomes.clone();
    lines.extend(closed.iter().map(OutcomeRecord::to_line));
    let location = steps.settings.output_location();
    outcome_log::write::write_lines(store, &location, lines, steps.now).await
}

/// The pass's rows and sent alerts applied to the ledger; entries of artifacts no longer in
/// the registry are dropped.
fn advance_ledger(ledger: &mut Ledger, changes: LedgerChanges<'_>) {
    let (outcome, alerts, kept, log) = changes;
    outcome_log::write::keep_unrecorded(ledger, log);
    if let Some(kept) = kept {
        ledger.deadline_schedule_at = kept.confirmed_at;
    }
    let alerted: Vec<&str> = alerts
        .alerted_artifacts
        .iter()
        .map(String::as_str)
        .collect();
    // Sorted ids searched by halves: half the bytes of a hash set at a million rows, and no
    // table growing to twice its size at the pass's end (issue 17's 512 MB).
    let mut known: Vec<&str> = outcome.rows.iter().map(|r| &*r.artifact_id).collect();
    known.sort_unstable();
    ledger.advance(&outcome.rows, &alerted, outcome.run_at, |id| {
        known.binary_search(&id).is_ok()
    });
    let out = alerted
        .iter()
        .copied()
        .chain(alerts.held_artifacts.iter().map(String::as_str));
    let resolved = alerts
        .resolved_artifacts
        .iter()
        .chain(&alerts.resolved_held_artifacts)
        .map(String::as_str);
    ledger.note_alerts(out, resolved);
    ledger.note_listings(&outcome.prefix_listings, outcome.run_at);
    let failed = &alerts.resolved_failed_artifacts;
    never_written::keep_unresolved(ledger, &outcome.rows, failed);
}

/// The acknowledgements under the results prefix (an unreadable ack is reported in the
/// heartbeat and ignored).
async fn read_acks<S: ObjectStore>(store: &S, settings: &Settings) -> ack::AckRead {
    crate::alert::gather::read_acks(store, settings.results_bucket(), &settings.results_prefix)
        .await
}

/// Applies the registry's alert policy to the rows with the acks read.
fn apply_policy(
    steps: &PassSteps<'_>,
    outcome: &mut PassOutcome,
    ledger: Option<&Ledger>,
    acks: ack::AckRead,
) {
    let channels = steps.alerter.map(|a| a.channel_names()).unwrap_or_default();
    outcome.apply_policy(ledger, &acks.acks, &channels);
    outcome.ack_problems = acks.problems;
}

/// What a pass changes in the ledger: its rows, the alerts sent, the deadline schedule kept,
/// the outcome log's write (what it could not write stays in the ledger).
type LedgerChanges<'a> = (
    &'a PassOutcome,
    &'a AlertFigures,
    Option<&'a Kept>,
    &'a LogWrite,
);

/// The never-written artifacts the ledger already knows, and the prefixes to list.
type PrefixChecks = (HashMap<String, String>, Vec<never_written::PrefixCheck>);

/// Reads the registry the env names.
async fn load_registry<S: ObjectStore>(
    store: &S,
    settings: &Settings,
) -> Result<LoadedRegistry, RegistryLoadError> {
    let source = RegistrySource::Store {
        bucket: settings.registry_bucket.clone(),
        key: settings.registry_key.clone(),
    };
    registry_source::load(store, &source).await
}

/// Runs the pass over the registry read (or says why it could not be read), with the template
/// prefixes to list for the never-written rule (docs/alerts.md). `ledgers`: the one that
/// spares probes (absent when sparing is off) and the one remembered. With the records of
/// the cycles the pass closed (docs/outputs.md#the-outcome-log).
async fn judge_registry<S: ObjectStore>(
    store: &S,
    settings: &Settings,
    pass_settings: &PassSettings,
    now: DateTime<Utc>,
    loaded: Result<LoadedRegistry, RegistryLoadError>,
    (sparing, remembered): (Option<&Ledger>, Option<&Ledger>),
    want_deadline: bool,
) -> (PassOutcome, PrefixChecks, Vec<OutcomeRecord>) {
    match loaded {
        Ok(loaded) => {
            let mut outcome = pass::run_pass(store, &loaded, pass_settings, now, sparing).await;
            if want_deadline {
                outcome.next_deadline =
                    crate::deadline::next_deadline(&loaded.registry, &outcome.rows, now);
            }
            let checks = never_written::plan_checks(&loaded.registry, &outcome.rows, remembered);
            let closed = remembered
                .map(|before| closed_cycles(before, &outcome.rows, &loaded.registry, now))
                .unwrap_or_default();
            (outcome, checks, closed)
        }
        Err(err) => (
            PassOutcome::registry_failed(
                registry_error_message(settings, &err),
                err.etag(),
                pass_settings.alerts_enabled,
                now,
            ),
            PrefixChecks::default(),
            Vec::new(),
        ),
    }
}

/// Sends the pass's alerts (observe mode only counts them; a dry run never sends), giving up
/// in time for the outputs to be written before the invocation's deadline.
async fn deliver_alerts<S: ObjectStore>(
    steps: &PassSteps<'_>,
    store: &S,
    outcome: &PassOutcome,
    ledger: Option<&Ledger>,
) -> AlertFigures {
    let deadline = steps.deadline;
    match (steps.alerter, steps.dry_run) {
        (Some(alerter), false) => {
            let send_deadline = deadline.map(|d| {
                let remaining = d
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO);
                tokio::time::Instant::now() + remaining.saturating_sub(OUTPUT_RESERVE)
            });
            alerter.deliver(store, outcome, send_deadline, ledger).await
        }
        _ => AlertFigures {
            would_alert: outcome.alerting_rows().count(),
            ..AlertFigures::default()
        },
    }
}
