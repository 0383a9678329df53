//! How an invocation fails: each error the handler returns has an `errorType` (what an
//! operator's alarm or `aws lambda invoke` shows) and a message naming what to fix.

use lambda_runtime::Diagnostic;

use super::event::EventError;
use crate::registry_source::RegistryLoadError;
use crate::settings::{Settings, SettingsError};
use crate::store::{S3Url, StoreError};

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
    /// An invocation of object events could not write the ledger (its events are retried).
    #[error("{0}")]
    Ledger(String),
    /// A bug: the invocation panicked. The heartbeat says so too.
    #[error("internal error (a bug in freshness-monitor; please report it): {0}")]
    Internal(String),
}

impl HandlerError {
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Event(_) => "FreshnessMonitor.InvalidEvent",
            HandlerError::Settings(_) => "FreshnessMonitor.InvalidConfiguration",
            HandlerError::Registry(_) => "FreshnessMonitor.RegistryError",
            HandlerError::Outputs { .. } => "FreshnessMonitor.OutputWriteFailed",
            HandlerError::Alerts(_) => "FreshnessMonitor.AlertDeliveryFailed",
            HandlerError::Ledger(_) => "FreshnessMonitor.LedgerWriteFailed",
            HandlerError::Internal(_) => "FreshnessMonitor.InternalError",
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

/// Why the registry cannot be used, in the operator's terms (which env var to check).
pub fn registry_error_message(settings: &Settings, err: &RegistryLoadError) -> String {
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
