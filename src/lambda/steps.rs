//! One pass's steps over any object store, in order: read the ledger, judge the registry
//! (skipping what the ledger settled, listing what pays), deliver the alerts, write the
//! ledger, write the outputs, with every S3 request counted on the way
//! (docs/outputs.md#requests). The Lambda's handler and `run` call it with the S3 store; the
//! day benchmark with the stand-in's.

use std::time::{Duration, SystemTime};

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::deadline::OUTPUT_RESERVE;
use super::error::{HandlerError, registry_error_message};
use crate::alert::Alerter;
use crate::alert::policy::{ack, never_written};
use crate::ledger::{self, Ledger};
use crate::outcome_log::write::LogWrite;
use crate::outcome_log::{self, OutcomeRecord, closed_cycles};
use crate::pass::{self, PageHistoryCache, PassOutcome, PassSettings};
use crate::registry_source::{self, RegistrySource};
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
    // Read at the pass's start (a dry run neither reads nor writes it).
    let ledger_read = if steps.dry_run {
        None
    } else {
        Some(ledger::store::read(store, results_bucket, &ledger_key).await)
    };
    let ledger = ledger_read
        .as_ref()
        .filter(|_| steps.ledger_spares)
        .map(|read| &read.ledger);
    // The policy (escalation, never-written) reads the ledger even when it spares nothing.
    let remembered = ledger_read.as_ref().map(|read| &read.ledger);
    let (mut outcome, prefix_checks, closed) = judge_registry(
        store,
        settings,
        &steps.pass_settings,
        steps.now,
        (ledger, remembered),
    )
    .await;
    if outcome.registry_error.is_none() {
        let (known, to_list) = prefix_checks;
        let found = crate::alert::gather::check_prefixes(store, known, to_list).await;
        never_written::mark_rows(&mut outcome.rows, &found.ids, steps.now);
        never_written::mark_appeared(&mut outcome.rows, remembered);
        outcome.prefix_listings = found.listings;
        apply_policy(steps, store, &mut outcome, remembered).await;
    }
    let alerts = deliver_alerts(steps, store, &outcome, ledger).await;
    let log = write_outcome_log(store, steps, ledger_read.as_ref(), &outcome, closed).await;
    if let Some(read) = ledger_read
        && outcome.registry_error.is_none()
    {
        let apply = |ledger: &mut Ledger| {
            advance_ledger(ledger, &outcome, &alerts);
            outcome_log::write::keep_unrecorded(ledger, &log);
        };
        let figures = ledger::store::write(store, results_bucket, &ledger_key, read, apply).await;
        outcome.ledger = Some(figures);
    }
    let written = if steps.dry_run {
        Ok(false)
    } else {
        let location = settings.output_location();
        // The heartbeat counts everything before it, and its own PUT.
        let so_far = || Some(store.counts());
        let page_history = steps.page_history;
        pass::write_outputs(
            store,
            &location,
            &outcome,
            alerts.clone(),
            so_far,
            page_history,
        )
        .await
        .map(|()| true)
        .map_err(|source| HandlerError::Outputs {
            bucket: location.bucket,
            prefix: location.prefix,
            source,
        })
    };
    outcome.requests = Some(store.counts());
    PassDone {
        outcome,
        alerts,
        written,
    }
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
fn advance_ledger(ledger: &mut Ledger, outcome: &PassOutcome, alerts: &AlertFigures) {
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

/// Reads the acknowledgements and applies the registry's alert policy to the rows (an
/// unreadable ack is reported in the heartbeat and ignored). Acks only change alerting rows,
/// so a pass with nothing alerting does not list them (one LIST spared).
async fn apply_policy<S: ObjectStore>(
    steps: &PassSteps<'_>,
    store: &S,
    outcome: &mut PassOutcome,
    ledger: Option<&Ledger>,
) {
    let settings = steps.settings;
    let acks = if outcome.alerting_rows().next().is_some() {
        crate::alert::gather::read_acks(store, settings.results_bucket(), &settings.results_prefix)
            .await
    } else {
        ack::AckRead::default()
    };
    let channels = steps.alerter.map(|a| a.channel_names()).unwrap_or_default();
    outcome.apply_policy(ledger, &acks.acks, &channels);
    outcome.ack_problems = acks.problems;
}

/// The never-written artifacts the ledger already knows, and the prefixes to list.
type PrefixChecks = (HashMap<String, String>, Vec<never_written::PrefixCheck>);

/// Reads the registry named by the env and runs the pass over it (or says why it cannot),
/// with the template prefixes to list for the never-written rule (docs/alerts.md). `ledgers`:
/// the one that spares probes (absent when sparing is off) and the one remembered. With the
/// records of the cycles the pass closed (docs/outputs.md#the-outcome-log).
async fn judge_registry<S: ObjectStore>(
    store: &S,
    settings: &Settings,
    pass_settings: &PassSettings,
    now: DateTime<Utc>,
    (sparing, remembered): (Option<&Ledger>, Option<&Ledger>),
) -> (PassOutcome, PrefixChecks, Vec<OutcomeRecord>) {
    let source = RegistrySource::Store {
        bucket: settings.registry_bucket.clone(),
        key: settings.registry_key.clone(),
    };
    match registry_source::load(store, &source).await {
        Ok(loaded) => {
            let outcome = pass::run_pass(store, &loaded, pass_settings, now, sparing).await;
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
