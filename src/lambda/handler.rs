//! One invocation: event in, pass, outputs written, response out.
//!
//! [`serve`] builds what a container keeps between invocations (settings, the AWS clients, the
//! S3 store) once, then lends it to every invocation through `service_fn`. Failures are
//! [`HandlerError`]s whose `errorType` tells an operator at a glance whether the event, the
//! configuration, the registry or the result bucket is at fault.

use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

use super::event::{EventError, Invocation};
use super::settings::{DEFAULT_PROBE_TIMEOUT, Settings, SettingsError};
use crate::aws::{AwsClients, CallTimeouts};
use crate::store::StoreError;
use crate::store::s3::S3Store;

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
            region = clients.config.region().map(|r| r.as_ref()).unwrap_or("unset"),
        );
        if let Err(err) = &settings {
            tracing::error!(message = "invalid configuration", error = %err);
        }
        Container {
            settings,
            clients,
            store,
        }
    }
}

/// Why an invocation failed. Each maps to an `errorType` in the runtime's error report.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("{0}")]
    Event(#[from] EventError),
    #[error("invalid configuration: {0}")]
    Settings(SettingsError),
    #[error("registry s3://{bucket}/{key} could not be used: {reason}")]
    Registry {
        bucket: String,
        key: String,
        reason: String,
    },
    #[error("writing the results to s3://{bucket}/{prefix} failed: {source}")]
    Outputs {
        bucket: String,
        prefix: String,
        source: StoreError,
    },
}

impl HandlerError {
    fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Event(_) => "FreshnessMonitor.InvalidEvent",
            HandlerError::Settings(_) => "FreshnessMonitor.InvalidConfiguration",
            HandlerError::Registry { .. } => "FreshnessMonitor.RegistryError",
            HandlerError::Outputs { .. } => "FreshnessMonitor.OutputWriteFailed",
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
    super::init_json_logging();
    let container = Container::from_env().await;
    let container = &container;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(container, event).await
    }))
    .await
}

/// One invocation.
pub async fn handle(container: &Container, event: LambdaEvent<Value>) -> Result<Value, HandlerError> {
    let (payload, context) = event.into_parts();
    let result = invoke(container, &payload, context.deadline()).await;
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

async fn invoke(
    container: &Container,
    payload: &Value,
    deadline: SystemTime,
) -> Result<Value, HandlerError> {
    let settings = container
        .settings
        .as_ref()
        .map_err(|e| HandlerError::Settings(e.clone()))?;
    let invocation = Invocation::parse(payload)?;
    let _now = invocation.now(Utc::now());
    let _probe_deadline = probe_deadline(
        deadline,
        SystemTime::now(),
        Instant::now(),
        settings.probe_timeout,
    );
    Err(HandlerError::Registry {
        bucket: settings.registry_bucket.clone(),
        key: settings.registry_key.clone(),
        reason: "the pass is not wired yet".to_string(),
    })
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
            probe_deadline(wall + Duration::from_secs(3), wall, mono, Duration::from_secs(10)),
            mono
        );
        assert_eq!(
            probe_deadline(wall - Duration::from_secs(3), wall, mono, Duration::from_secs(10)),
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
