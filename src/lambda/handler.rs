//! One invocation: event in, pass, outputs written, response out.
//!
//! [`serve`] builds what a container keeps between invocations (settings, the AWS clients, the
//! S3 store) once, then lends it to every invocation through `service_fn`. Failures are
//! [`HandlerError`]s whose `errorType` tells an operator at a glance whether the event, the
//! configuration, the registry or the result bucket is at fault.

use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

use super::event::{EventError, Invocation};
use crate::alert::channel::MisconfiguredChannel;
use crate::alert::sns::SnsChannel;
use crate::alert::telegram::{CredentialSource, TelegramChannel};
use crate::alert::{AlertChannel, Alerter};
use crate::aws::{AwsClients, CallTimeouts};
use crate::pass::{self, OutputLocation, PassOutcome, PassSettings};
use crate::registry_source::{self, RegistryLoadError, RegistrySource};
use crate::report::AlertFigures;
use crate::settings::{DEFAULT_PROBE_TIMEOUT, Settings, SettingsError};
use crate::store::s3::S3Store;
use crate::store::{S3Url, StoreError};

/// Time kept back from the invocation deadline for writing the three result files after the
/// last probe has had its full timeout.
pub const OUTPUT_RESERVE: Duration = Duration::from_secs(5);

/// What a warm container keeps between invocations.
pub struct Container {
    /// A bad env is reported by every invocation rather than crashing the container, so
    /// `aws lambda invoke` shows the message.
    pub settings: Result<Settings, SettingsError>,
    pub clients: AwsClients,
    pub store: S3Store,
    /// The alert channels (built once: Telegram's SSM values are read once per container)
    /// and the dedup location; `None` when the settings are invalid.
    pub alerter: Option<Alerter>,
}

impl Container {
    pub async fn from_env() -> Container {
        let settings = Settings::from_env();
        let probe_timeout = settings
            .as_ref()
            .map_or(DEFAULT_PROBE_TIMEOUT, |s| s.probe_timeout);
        let clients = AwsClients::from_env(CallTimeouts::from_operation(probe_timeout)).await;
        let store = clients.s3_store();
        tracing::info!(
            message = "container ready: AWS clients built",
            endpoint = clients.config.endpoint_url().unwrap_or("default"),
            region = clients
                .config
                .region()
                .map(|r| r.as_ref())
                .unwrap_or("unset"),
        );
        if let Err(err) = &settings {
            tracing::error!(message = "invalid configuration", error = %err);
        }
        let alerter = settings.as_ref().ok().map(|s| alerter(s, &clients));
        Container {
            settings,
            clients,
            store,
            alerter,
        }
    }
}

/// The channels the settings configure. Each is optional; a half-configured Telegram (one of
/// its two parameters) becomes a channel that fails every send with the reason, so the gap
/// shows in the heartbeat and the logs instead of silently sending nowhere.
pub fn alerter(settings: &Settings, clients: &AwsClients) -> Alerter {
    let mut channels: Vec<Box<dyn AlertChannel>> = Vec::new();
    if let Some(arn) = &settings.sns_topic_arn {
        channels.push(Box::new(SnsChannel::new(clients.sns.clone(), arn)));
    }
    match (
        &settings.telegram_bot_token_param,
        &settings.telegram_chat_id_param,
    ) {
        (Some(token_param), Some(chat_id_param)) => {
            channels.push(Box::new(TelegramChannel::new(
                CredentialSource::Ssm {
                    client: clients.ssm.clone(),
                    token_param: token_param.clone(),
                    chat_id_param: chat_id_param.clone(),
                },
                settings.telegram_api_base.as_deref(),
            )));
        }
        (None, None) => {}
        (token, _) => {
            let missing = if token.is_some() {
                "TELEGRAM_CHAT_ID_PARAM"
            } else {
                "TELEGRAM_BOT_TOKEN_PARAM"
            };
            let message = format!(
                "Telegram is half configured: {missing} is not set, so nothing is sent there"
            );
            tracing::error!(message = "invalid configuration", error = %message);
            channels.push(Box::new(MisconfiguredChannel::new("telegram", message)));
        }
    }
    Alerter::new(
        channels,
        settings.dedup_bucket(),
        settings.dedup_prefix.clone(),
    )
}

/// Why an invocation failed. Each maps to an `errorType` in the runtime's error report.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("{0}")]
    Event(#[from] EventError),
    #[error("invalid configuration: {0}")]
    Settings(SettingsError),
    #[error("{0}")]
    Registry(String),
    #[error("writing the results to s3://{bucket}/{prefix} failed: {source}")]
    Outputs {
        bucket: String,
        prefix: String,
        source: StoreError,
    },
    #[error("{0}")]
    Alerts(String),
}

impl HandlerError {
    fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Event(_) => "FreshnessMonitor.InvalidEvent",
            HandlerError::Settings(_) => "FreshnessMonitor.InvalidConfiguration",
            HandlerError::Registry(_) => "FreshnessMonitor.RegistryError",
            HandlerError::Outputs { .. } => "FreshnessMonitor.OutputWriteFailed",
            HandlerError::Alerts(_) => "FreshnessMonitor.AlertDeliveryFailed",
        }
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(err: HandlerError) -> Diagnostic {
        Diagnostic {
            error_type: err.error_type().to_string(),
            error_message: err.to_string(),
        }
    }
}

/// The moment the pass stops starting probes: late enough to use the invocation, early
/// enough that the last probe's full timeout and the output writes fit before the deadline.
/// Already past when the invocation is too short for even one probe.
pub fn probe_deadline(
    invocation_deadline: SystemTime,
    wall_now: SystemTime,
    monotonic_now: Instant,
    probe_timeout: Duration,
) -> Instant {
    let remaining = invocation_deadline
        .duration_since(wall_now)
        .unwrap_or(Duration::ZERO);
    let budget = remaining.saturating_sub(probe_timeout + OUTPUT_RESERVE);
    monotonic_now + budget
}

/// Serves invocations until the runtime stops; the clients are built once, here.
pub async fn serve() -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init_json_logging();
    let container = Container::from_env().await;
    let container = &container;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(container, event).await
    }))
    .await
}

/// One invocation from the runtime.
pub async fn handle(
    container: &Container,
    event: LambdaEvent<Value>,
) -> Result<Value, HandlerError> {
    let (payload, context) = event.into_parts();
    let result = match Invocation::parse(&payload) {
        Ok(invocation) => {
            run_invocation(
                container,
                &invocation,
                Some(context.deadline()),
                &context.request_id,
            )
            .await
        }
        Err(err) => Err(HandlerError::Event(err)),
    };
    if let Err(err) = &result {
        tracing::error!(
            message = "invocation failed",
            request_id = %context.request_id,
            error_type = err.error_type(),
            error = %err,
        );
    }
    result
}

/// One pass as an invocation asked for it: read the registry, probe, write the outputs
/// (unless a dry run), answer with the response of docs/lambda.md#response. `deadline` is the invocation's (`None`
/// from a shell, as `run` does). Also what the CLI's `run` calls.
pub async fn run_invocation(
    container: &Container,
    invocation: &Invocation,
    deadline: Option<SystemTime>,
    request_id: &str,
) -> Result<Value, HandlerError> {
    let settings = container
        .settings
        .as_ref()
        .map_err(|e| HandlerError::Settings(e.clone()))?;
    let store = &container.store;
    let now = invocation.now(Utc::now());
    let dry_run = invocation.is_dry_run();
    let pass_settings = PassSettings {
        // A dry run reports the flag as configured (what a real pass would do); it never
        // alerts because it never reaches the alert step below.
        alerts_enabled: settings.alerts_enabled,
        probe_concurrency: settings.probe_concurrency,
        probe_deadline: deadline.map(|d| {
            tokio::time::Instant::from_std(probe_deadline(
                d,
                SystemTime::now(),
                Instant::now(),
                settings.probe_timeout,
            ))
        }),
        only: invocation.only().to_vec(),
    };

    let source = RegistrySource::Store {
        bucket: settings.registry_bucket.clone(),
        key: settings.registry_key.clone(),
    };
    let outcome = match registry_source::load(store, &source).await {
        Ok(loaded) => pass::run_pass(store, &loaded, &pass_settings, now).await,
        Err(err) => PassOutcome::registry_failed(
            registry_error_message(settings, &err),
            err.etag(),
            &pass_settings,
            now,
        ),
    };

    // Alerts (observe mode only counts them; a dry run never sends). Sends give up in time
    // for the outputs to be written before the invocation's deadline.
    let alerts = match (&container.alerter, dry_run) {
        (Some(alerter), false) => {
            let send_deadline = deadline.map(|d| {
                let remaining = d
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO);
                tokio::time::Instant::now() + remaining.saturating_sub(OUTPUT_RESERVE)
            });
            alerter.deliver(store, &outcome, send_deadline).await
        }
        _ => AlertFigures {
            would_alert: outcome.alerting_rows().count(),
            ..AlertFigures::default()
        },
    };

    let written = if dry_run {
        Ok(false)
    } else {
        let location = OutputLocation {
            bucket: settings.results_bucket().to_string(),
            prefix: settings.results_prefix.clone(),
        };
        pass::write_outputs(store, &location, &outcome, alerts.clone())
            .await
            .map(|()| true)
            .map_err(|source| HandlerError::Outputs {
                bucket: location.bucket,
                prefix: location.prefix,
                source,
            })
    };

    let counts = outcome.counts();
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
        alerting = alerts.would_alert,
        alerts_sent = alerts.sent,
        alerts_deduplicated = alerts.deduplicated,
        alerts_failed = alerts.failed,
        alerts_resolved = alerts.resolved,
        dedup_error = alerts.dedup_error.as_deref(),
        duration_seconds = outcome.duration.as_secs_f64(),
        outputs_written = matches!(written, Ok(true)),
        registry_error = outcome.registry_error.as_deref(),
        write_error = written.as_ref().err().map(|e| e.to_string()),
    );

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

/// `freshness-monitor run`: the Lambda's pass from a shell, same env, with side effects, at
/// the clock's now and with no invocation deadline.
pub async fn run_from_env() -> Result<Value, HandlerError> {
    let container = Container::from_env().await;
    run_invocation(&container, &Invocation::Manual, None, "cli-run").await
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
        if alerts.failed == 1 { "" } else { "s" },
        if reasons.is_empty() {
            "no alert channel is configured: set SNS_TOPIC_ARN and/or \
             TELEGRAM_BOT_TOKEN_PARAM and TELEGRAM_CHAT_ID_PARAM"
                .to_string()
        } else {
            reasons.join("; ")
        }
    )
}

/// Why the registry cannot be used, in the operator's terms (which env var to check).
fn registry_error_message(settings: &Settings, err: &RegistryLoadError) -> String {
    let url = S3Url(&settings.registry_bucket, &settings.registry_key);
    let RegistryLoadError::Unreadable { source: err, .. } = err else {
        return err.to_string();
    };
    match err {
        StoreError::NotFound { .. } => {
            format!("registry {url} not found: upload it there or set REGISTRY_KEY")
        }
        StoreError::NoSuchBucket { bucket } => format!(
            "registry {url} cannot be read: bucket {bucket} does not exist (check \
             REGISTRY_BUCKET)"
        ),
        other => format!("registry {url} cannot be read: {other}"),
    }
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
        "per_spec_exceptions": counts.probe_failed,
        "duration_seconds": (outcome.duration.as_secs_f64() * 1000.0).round() / 1000.0,
        "cycle_verdicts": outcome.cycle_verdicts().verdicts,
    });
    if dry_run {
        body["dry_run"] = json!(true);
        body["results"] = json!(outcome.rows);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_stop_in_time_for_the_last_probe_and_the_writes() {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mono = Instant::now();
        let deadline = wall + Duration::from_secs(60);
        assert_eq!(
            probe_deadline(deadline, wall, mono, Duration::from_secs(10)),
            mono + Duration::from_secs(45)
        );
    }

    #[test]
    fn a_near_deadline_starts_no_probe() {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mono = Instant::now();
        assert_eq!(
            probe_deadline(
                wall + Duration::from_secs(3),
                wall,
                mono,
                Duration::from_secs(10)
            ),
            mono
        );
        assert_eq!(
            probe_deadline(
                wall - Duration::from_secs(3),
                wall,
                mono,
                Duration::from_secs(10)
            ),
            mono,
            "a deadline already past"
        );
    }

    #[test]
    fn errors_carry_a_type_an_operator_can_filter_on() {
        let err = HandlerError::Event(Invocation::parse(&serde_json::json!([])).unwrap_err());
        let diagnostic = Diagnostic::from(err);
        assert_eq!(diagnostic.error_type, "FreshnessMonitor.InvalidEvent");
        assert!(diagnostic.error_message.starts_with("unsupported event: "));
    }
}
