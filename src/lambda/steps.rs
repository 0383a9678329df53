//! One pass's steps over any object store: read the ledger, the registry and the status
//! page's `history.json` together; judge the registry (skipping what the ledger settled,
//! listing what pays), reading the acknowledgements beside the probes when the ledger says
//! something was alerting; list never-written prefixes (and the acks, when not read yet);
//! deliver the alerts; write the ledger and the outputs together. Every S3 request is counted
//! on the way (docs/outputs.md#requests). A steady pass is four round trips one after another
//! (docs/lambda.md#round-trips), each of many requests in flight. The Lambda's handler and
//! `run` call it with the S3 store; the day benchmark with the stand-in's.

use std::time::{Duration, SystemTime};

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::deadline::OUTPUT_RESERVE;
use super::error::{HandlerError, registry_error_message};
use crate::alert::Alerter;
use crate::alert::policy::{ack, never_written};
use crate::deadline_schedule::{DeadlineSchedule, Kept};
use crate::ledger::{self, Ledger};
use crate::outcome_log::write::LogWrite;
use crate::outcome_log::{self, OutcomeRecord, closed_cycles};
use crate::pass::{self, PageHistoryCache, PassOutcome, PassSettings};
use crate::registry_source::{self, LoadedRegistry, RegistryLoadError, RegistrySource};
use crate::report::AlertFigures;
use crate::report::files::LEDGER;
use crate::settings::Settings;
use crate::store::ObjectStore;
use crate::store::counting::CountingStore;

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
    /// The status page's `history.json` as the container last read it (read again only when
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

/// Runs one pass's steps over `store`, counting every request.
pub async fn run_steps<S: ObjectStore>(store: &S, steps: &PassSteps<'_>) -> PassDone {
    let counting = CountingStore::new(store);
    let store = &counting;
    let settings = steps.settings;
    let ledger_key = format!("{}{}", settings.results_prefix, LEDGER);
    let results_bucket = settings.results_bucket();
    let location = settings.output_location();
    // Round trip 1: the inputs, all independent, together. A dry run neither reads nor
    // writes the ledger and writes no page.
    let (ledger_read, loaded, page_history) = tokio::join!(
        async {
            match steps.dry_run {
                true => None,
                false => Some(ledger::store::read(store, results_bucket, &ledger_key).await),
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
    let ledger = ledger_read
        .as_ref()
        .filter(|_| steps.ledger_spares)
        .map(|read| &read.ledger);
    // The policy (escalation, never-written) reads the ledger even when it spares nothing.
    let remembered = ledger_read.as_ref().map(|read| &read.ledger);
    let schedule = steps.deadline_schedule.filter(|_| !steps.dry_run);
    // Round trip 2 (a second for recovery keys of missing artifacts): the probes, and beside
    // them the acknowledgements when the last pass left something alerting.
    let early_acks = remembered.is_some_and(Ledger::left_something_alerting);
    let ((mut outcome, prefix_checks, closed), early_acks) = tokio::join!(
        judge_registry(
            store,
            settings,
            &steps.pass_settings,
            steps.now,
            loaded,
            (ledger, remembered),
            schedule.is_some(),
        ),
        async {
            match early_acks {
                true => Some(read_acks(store, settings).await),
                false => None,
            }
        },
    );
    let mut kept = None;
    if outcome.registry_error.is_none() {
        // Round trip 3, only when needed: never-written prefixes the ledger does not know yet,
        // the acks when something alerts that the ledger did not foresee, and the deadline
        // schedule when its time moves.
        let (known, to_list) = prefix_checks;
        let alerting = outcome.alerting_rows().next().is_some();
        let (found, acks, schedule_kept) = tokio::join!(
            crate::alert::gather::check_prefixes(store, known, to_list),
            async {
                match (alerting, early_acks) {
                    (true, Some(acks)) => acks,
                    (true, None) => read_acks(store, settings).await,
                    // Acks only change alerting rows: a pass with nothing alerting uses none
                    // (and lists none unless the ledger foresaw alerts).
                    (false, _) => ack::AckRead::default(),
                }
            },
            keep_schedule(schedule, &outcome, remembered, steps.now),
        );
        kept = schedule_kept;
        never_written::mark_rows(&mut outcome.rows, &found.ids, steps.now);
        never_written::mark_appeared(&mut outcome.rows, remembered);
        outcome.prefix_listings = found.listings;
        apply_policy(steps, &mut outcome, remembered, acks);
    }
    outcome.deadline_passes = kept.as_ref().map(|k| k.figures.clone());
    // The outcome log goes out beside the alerts: its records are of cycles closed before
    // this pass's alerts (docs/outputs.md#the-outcome-log), so they wait for nothing.
    let (alerts, log) = tokio::join!(
        deliver_alerts(steps, store, &outcome, ledger),
        write_outcome_log(store, steps, ledger_read.as_ref(), &outcome, closed),
    );
    // The last round trip: the ledger's conditional PUT and the outputs, together. The ledger
    // must follow the alerts' delivery (it records which went out: recorded before a send
    // that then failed, an alert would never be sent again), but nothing has to wait for it:
    // the outputs do not read it, and it is a cache that only spares requests, never the
    // authority on "sent" (the markers are), so a pass cut short between the two writes
    // costs at most some probes next time, as it did with the ledger first. Only the
    // heartbeat reports on it: it says what a first conditional PUT that succeeds reports,
    // and is written again, once more, in the rare pass where that is not what happened
    // (a race lost to another pass, a refused write).
    let prepared = match ledger_read {
        Some(read) if outcome.registry_error.is_none() => {
            let prepared = ledger::store::prepare(read, &|ledger: &mut Ledger| {
                advance_ledger(ledger, (&outcome, &alerts, kept.as_ref(), &log))
            });
            outcome.ledger = Some(prepared.figures_if_written());
            Some(prepared)
        }
        _ => None,
    };
    if steps.dry_run {
        outcome.requests = Some(store.counts());
        return PassDone {
            outcome,
            alerts,
            written: Ok(false),
        };
    }
    let mut prepared = prepared;
    // A pass whose result files are staged in the temp dir (over 1,000 rows) writes its
    // ledger (staged too) first and frees its file, as before: `/tmp` then never holds both
    // (docs/lambda.md#beyond-one-invocation), and one round trip more is noise in such a pass.
    if pass::outputs_staged(outcome.rows.len())
        && let Some(first) = prepared.take()
    {
        let figures = write_ledger(
            store,
            (results_bucket, &ledger_key),
            first,
            (&outcome, &alerts, kept.as_ref(), &log),
        );
        outcome.ledger = Some(figures.await);
    }
    let ledger_puts = u64::from(prepared.is_some());
    let planned = store.counts().plus(pass::only_puts(ledger_puts));
    let history = page_history.expect("read unless a dry run");
    // Adding a write to this round trip is one more future in this `join!`.
    let (ledger_figures, written) = tokio::join!(
        async {
            match prepared {
                Some(prepared) => Some(
                    write_ledger(
                        store,
                        (results_bucket, &ledger_key),
                        prepared,
                        (&outcome, &alerts, kept.as_ref(), &log),
                    )
                    .await,
                ),
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
    let mut written = written;
    let ledger_surprised = ledger_figures.is_some() && ledger_figures != outcome.ledger;
    if ledger_surprised || store.counts() != planned {
        if ledger_figures.is_some() {
            outcome.ledger = ledger_figures;
        }
        let counted = store.counts().plus(pass::only_puts(1));
        let again =
            pass::write_heartbeat(store, &location, &outcome, alerts.clone(), Some(counted));
        written = written.and(again.await);
    }
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
