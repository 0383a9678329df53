//! One invocation: event in, pass, outputs written, response out.
//!
//! [`serve`] builds what a container keeps between invocations (settings, the AWS clients, the
//! S3 store) once, then lends it to every invocation through `service_fn`. Failures are
//! [`HandlerError`]s whose `errorType` tells an operator at a glance whether the event, the
//! configuration, the registry or the result bucket is at fault.

use std::time::{Instant, SystemTime};

use chrono::{DateTime, Utc};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::container::Container;
use super::deadline::{InvocationDeadline, probe_deadline};
use super::error::HandlerError;
use super::event::{EventError, Invocation};
use super::historical::run_historical;
use super::intake::run_object_events;
use super::steps::{PassDone, PassSteps, run_steps};
use crate::alert::policy::PolicyAction;
use crate::boxed::boxed;
use crate::pass::{self, PassOutcome, PassSettings};
use crate::report::AlertFigures;
use crate::settings::Settings;
use crate::store::ObjectStore;

/// Serves invocations until the runtime stops; the clients are built once, here.
///
/// The futures of the container's setup and of each invocation are built on the heap
/// ([`boxed`]), here and in [`run_invocation`]: each is tens of KiB, and unboxed they were
/// moved through the runtime's frames and held inside one another, on the main thread's
/// stack (BENCHMARKS.md, "A small pass's memory, fifth round").
pub async fn serve() -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init_json_logging();
    let container = boxed(Container::from_env).await;
    let container = &container;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        boxed(|| handle(container, event))
    }))
    .await
}

/// One invocation from the runtime. The payload comes unparsed, so that every event that
/// cannot be read is `FreshnessMonitor.InvalidEvent` ([`Invocation::parse_json`]).
pub async fn handle<S: ObjectStore>(
    container: &Container<S>,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<Value, HandlerError> {
    let (payload, context) = event.into_parts();
    let request_id = context.request_id.as_str();
    container
        .deadline_schedule
        .learn_target(&context.invoked_function_arn);
    let result = match Invocation::parse_json(payload.get()) {
        Ok(invocation) => {
            let deadline = trusted_deadline(context.deadline, request_id);
            run_guarded(container, &invocation, Some(deadline), request_id).await
        }
        Err(err) => Err(HandlerError::Event(err)),
    };
    if let Err(err) = &result {
        tracing::error!(
            message = "invocation failed",
            request_id,
            error_type = err.error_type(),
            error = %err,
        );
    }
    result
}

/// [`run_invocation`], with a panic anywhere in it turned into
/// `FreshnessMonitor.InternalError` (never a Rust type name) after a heartbeat that says so.
async fn run_guarded<S: ObjectStore>(
    container: &Container<S>,
    invocation: &Invocation,
    deadline: Option<SystemTime>,
    request_id: &str,
) -> Result<Value, HandlerError> {
    let now = invocation.now(Utc::now());
    let work = boxed(|| run_invocation(container, invocation, deadline, request_id));
    match crate::guard::guarded_async(work).await {
        Ok(result) => result,
        Err(message) => {
            write_internal_error_heartbeat(container, &message, now).await;
            Err(HandlerError::Internal(message))
        }
    }
}

/// The runtime's deadline, or Lambda's maximum from now when the header cannot be a
/// deadline (logged, naming the value).
fn trusted_deadline(header_ms: u64, request_id: &str) -> SystemTime {
    let deadline = InvocationDeadline::from_header(header_ms, SystemTime::now());
    if let InvocationDeadline::Untrusted { header_ms, .. } = deadline {
        tracing::warn!(
            message = "the runtime's deadline cannot be a real one (already past, or beyond \
                       Lambda's 900 s maximum); running on the 900 s fallback budget",
            request_id,
            lambda_runtime_deadline_ms = header_ms,
        );
    }
    deadline.at()
}

/// After a panic: the heartbeat still says the pass ran and failed, so the monitor is never
/// silent. Best effort: a heartbeat that cannot be written is logged.
async fn write_internal_error_heartbeat<S: ObjectStore>(
    container: &Container<S>,
    message: &str,
    now: DateTime<Utc>,
) {
    let Ok(settings) = &container.settings else {
        return;
    };
    let outcome = PassOutcome::internal_error(message.to_string(), settings.alerts_enabled, now);
    let location = settings.output_location();
    if let Err(err) = pass::write_outputs(
        &container.store,
        &location,
        &outcome,
        AlertFigures::default(),
        || None,
        &container.page_history,
    )
    .await
    {
        tracing::error!(message = "could not write the heartbeat after a panic", error = %err);
    }
}

/// One pass as an invocation asked for it: read the registry, probe, write the outputs
/// (unless a dry run), answer with the response of docs/lambda.md#response. `deadline` is the invocation's (`None`
/// from a shell, as `run` does). Also what the CLI's `run` calls.
pub async fn run_invocation<S: ObjectStore>(
    container: &Container<S>,
    invocation: &Invocation,
    deadline: Option<SystemTime>,
    request_id: &str,
) -> Result<Value, HandlerError> {
    if let Invocation::ObjectEvents(events) = invocation {
        let now = invocation.now(Utc::now());
        return boxed(|| run_object_events(container, events, deadline, request_id, now)).await;
    }
    // A pass or a history run reads its own registry: what event invocations kept is dropped
    // first, so the two never take memory at once.
    container.forget_event_memory();
    if let Invocation::Historical { lookback, only } = invocation {
        return boxed(|| run_historical(container, lookback, only, deadline, request_id)).await;
    }
    let settings = container
        .settings
        .as_ref()
        .map_err(|e| HandlerError::Settings(e.clone()))?;
    let steps = PassSteps {
        settings,
        pass_settings: pass_settings(settings, invocation, deadline),
        alerter: container.alerter.as_ref(),
        now: invocation.now(Utc::now()),
        dry_run: invocation.is_dry_run(),
        deadline,
        ledger_spares: true,
        page_history: &container.page_history,
        deadline_schedule: Some(&container.deadline_schedule),
    };
    let dry_run = steps.dry_run;
    let PassDone {
        outcome,
        alerts,
        written,
    } = boxed(|| run_steps(&container.store, &steps)).await;
    log_summary(request_id, dry_run, &outcome, &alerts, &written);
    if container.emit_metrics && !dry_run {
        print_metrics(settings, &outcome, &alerts);
    }
    if let Some(reason) = &outcome.registry_error {
        return Err(HandlerError::Registry(reason.clone()));
    }
    written?;
    if alerts.failed > 0 {
        return Err(HandlerError::Alerts(undelivered_message(&alerts)));
    }
    if !outcome.unknown_only_ids.is_empty() {
        return Err(HandlerError::Event(EventError::unknown_only_ids(
            &outcome.unknown_only_ids,
        )));
    }
    Ok(response(&outcome, &alerts, dry_run))
}

/// How this invocation's pass runs: the env's concurrency and observe flag, the event's
/// `only`, and probes that stop in time for the outputs.
fn pass_settings(
    settings: &Settings,
    invocation: &Invocation,
    deadline: Option<SystemTime>,
) -> PassSettings {
    // A dry run reports the observe flag as configured (what a real pass would do); it never
    // alerts because it never reaches the alert step.
    PassSettings {
        probe_deadline: deadline.map(|d| {
            tokio::time::Instant::from_std(probe_deadline(
                d,
                SystemTime::now(),
                Instant::now(),
                settings.probe_timeout,
            ))
        }),
        only: invocation.only().to_vec(),
        probe_only_due: matches!(invocation, Invocation::Deadline { .. }),
        ..PassSettings::from_settings(settings)
    }
}

/// The pass's CloudWatch EMF lines on stdout, where the Lambda's log lines go
/// (docs/lambda.md#metrics).
fn print_metrics(settings: &Settings, outcome: &PassOutcome, alerts: &AlertFigures) {
    use std::io::Write as _;
    let pass = crate::metrics::PassFigures::of(
        &outcome.rows,
        alerts,
        outcome.requests,
        outcome.duration.as_secs_f64(),
    );
    let lines = crate::metrics::emf_lines(
        &settings.metrics_namespace,
        outcome.run_at,
        &outcome.cycle_verdicts(),
        &pass,
    );
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        // A log line that cannot be written has nowhere else to go.
        let _ = writeln!(stdout, "{line}");
    }
}

/// The one JSON line a pass logs (docs/lambda.md#logs).
fn log_summary(
    request_id: &str,
    dry_run: bool,
    outcome: &PassOutcome,
    alerts: &AlertFigures,
    written: &Result<bool, HandlerError>,
) {
    let counts = outcome.counts();
    let requests = outcome.requests.unwrap_or_default();
    tracing::info!(
        message = "pass complete",
        request_id,
        run_at = %crate::text::rfc3339(outcome.run_at),
        dry_run,
        alerts_enabled = outcome.alerts_enabled,
        n_entries_checked = outcome.rows.len(),
        fresh = counts.fresh,
        stale = counts.stale,
        missing = counts.missing,
        probe_failed = counts.probe_failed,
        grace_period = counts.grace_period,
        suspect = counts.suspect,
        alerting = alerts.would_alert,
        alerts_sent = alerts.sent,
        alerts_deduplicated = alerts.deduplicated,
        alerts_failed = alerts.failed,
        alerts_resolved = alerts.resolved,
        alerts_reminded = alerts.reminded,
        // What the alert policy held back (docs/alerts.md#alert-policy).
        silenced = outcome.policy_count(PolicyAction::Silenced),
        not_routed = outcome.policy_count(PolicyAction::NotRouted),
        acks_ignored = outcome.ack_problems.len(),
        dedup_error = alerts.dedup_error.as_deref(),
        duration_seconds = outcome.duration.as_secs_f64(),
        outputs_written = matches!(written, Ok(true)),
        registry_error = outcome.registry_error.as_deref(),
        write_error = written.as_ref().err().map(|e| e.to_string()),
        // The ledger's GET and conditional PUT (2 of each after a lost race): what happened.
        ledger = outcome.ledger.as_ref().map(|l| l.status),
        ledger_bytes = outcome.ledger.as_ref().map(|l| l.bytes),
        // Every S3 request of the pass, by class, and the projection at 96 passes a day.
        requests_head = requests.head,
        requests_list = requests.list,
        requests_get = requests.get,
        requests_put = requests.put,
        requests_delete = requests.delete,
        requests_total = requests.total(),
        requests_projected_per_day = requests.per_day(),
        // The deadline schedule (docs/lambda.md#deadline-passes): what the pass did, the
        // next deadline pass, or why deadline passes are off.
        deadline_passes = outcome.deadline_passes.as_ref().map(|d| d.action),
        deadline_next_pass_at = outcome
            .deadline_passes
            .as_ref()
            .and_then(|d| d.next_pass_at.as_deref()),
        deadline_reason = outcome
            .deadline_passes
            .as_ref()
            .and_then(|d| d.reason.as_deref()),
    );
}

/// `freshness-monitor run`: the Lambda's pass from a shell, same env, with side effects, at
/// the clock's now and with no invocation deadline.
pub async fn run_from_env() -> Result<Value, HandlerError> {
    run_invocation_from_env(&Invocation::Manual).await
}

/// `freshness-monitor run` with an invocation (`run --historical`: the history scan), from a
/// shell with no invocation deadline. It prints no EMF metrics: its stdout is its answer.
pub async fn run_invocation_from_env(invocation: &Invocation) -> Result<Value, HandlerError> {
    let container = Container {
        emit_metrics: false,
        ..boxed(Container::from_env).await
    };
    boxed(|| run_guarded(&container, invocation, None, "cli-run")).await
}

/// Alerts that reached no channel fail the invocation (so the Lambda's Errors metric and its
/// alarm move): the message says how many and why each channel failed.
fn undelivered_message(alerts: &AlertFigures) -> String {
    let reasons: Vec<String> = alerts
        .channels
        .iter()
        .filter_map(|c| c.error.as_ref().map(|e| format!("{}: {e}", c.channel)))
        .collect();
    format!(
        "{} alert{} reached no channel ({}); their dedup claims were released, so the next \
         pass retries",
        alerts.failed,
        crate::text::plural(alerts.failed),
        if reasons.is_empty() {
            "no alert channel is configured: set SNS_TOPIC_ARN and/or \
             TELEGRAM_BOT_TOKEN_PARAM and TELEGRAM_CHAT_ID_PARAM"
                .to_string()
        } else {
            reasons.join("; ")
        }
    )
}

/// The response (docs/lambda.md#response): `{n_entries_checked, counts, alerts_enabled, alerted, deduplicated,
/// resolved, per_spec_exceptions, duration_seconds, cycle_verdicts}`, plus `results` on a dry
/// run. `per_spec_exceptions` counts the artifacts that could not be judged (probe_failed),
/// as the original monitor's did; `would_alert` counts what alerts (or would, in observe
/// mode).
pub fn response(outcome: &PassOutcome, alerts: &AlertFigures, dry_run: bool) -> Value {
    let counts = outcome.counts();
    let mut body = json!({
        "n_entries_checked": outcome.rows.len(),
        "counts": counts,
        "alerts_enabled": outcome.alerts_enabled,
        "alerted": alerts.sent,
        "would_alert": alerts.would_alert,
        "deduplicated": alerts.deduplicated,
        "resolved": alerts.resolved,
        "reminded": alerts.reminded,
        "per_spec_exceptions": counts.probe_failed,
        "duration_seconds": (outcome.duration.as_secs_f64() * 1000.0).round() / 1000.0,
        "cycle_verdicts": outcome.cycle_verdicts().states_by_cadence(),
    });
    if dry_run {
        body["dry_run"] = json!(true);
        body["results"] = json!(outcome.rows);
    }
    body
}

#[cfg(test)]
mod tests {
    use lambda_runtime::Diagnostic;

    use super::*;
    use crate::settings::OutputLocation;

    #[tokio::test]
    async fn a_panic_is_an_internal_error_never_a_rust_type_name() {
        let panicking = async {
            let rows: Vec<u32> = Vec::new();
            rows[3]
        };
        let message = crate::guard::guarded_async(panicking).await.unwrap_err();
        assert!(message.contains("index out of bounds"), "{message}");
        let diagnostic = Diagnostic::from(HandlerError::Internal(message));
        assert_eq!(diagnostic.error_type, "FreshnessMonitor.InternalError");
        assert!(
            diagnostic
                .error_message
                .starts_with("internal error (a bug in freshness-monitor; please report it): ")
        );
    }

    #[tokio::test]
    async fn after_a_panic_only_the_heartbeat_is_written_and_it_says_why() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("results")).unwrap();
        let store = crate::store::local::LocalDirStore::new(dir.path());
        let now = "2026-06-07T12:00:00Z".parse().unwrap();
        let outcome = PassOutcome::internal_error("boom".to_string(), false, now);
        let location = OutputLocation {
            bucket: "results".to_string(),
            prefix: "p/".to_string(),
        };
        let page_history = pass::PageHistoryCache::default();
        let alerts = AlertFigures::default();
        pass::write_outputs(&store, &location, &outcome, alerts, || None, &page_history)
            .await
            .unwrap();
        let heartbeat: Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("results/p/heartbeat.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(heartbeat["internal_error"], "boom");
        assert_eq!(heartbeat["last_run"], "2026-06-07T12:00:00Z");
        assert!(!dir.path().join("results/p/check_results.json").exists());
    }

    #[test]
    fn errors_carry_a_type_an_operator_can_filter_on() {
        let err = HandlerError::Event(Invocation::parse(&serde_json::json!([])).unwrap_err());
        let diagnostic = Diagnostic::from(err);
        assert_eq!(diagnostic.error_type, "FreshnessMonitor.InvalidEvent");
        assert!(diagnostic.error_message.starts_with("unsupported event: "));
    }
}
