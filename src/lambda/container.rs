//! What a warm container keeps between invocations: the settings, the object store and the
//! alert channels, built once (by [`Container::from_env`] in the Lambda: the AWS clients, the
//! S3 store and the SSM values) and lent to every invocation, the status page's
//! history digest as last read (read again only when its ETag changed), and, for event
//! invocations, the registry and its matcher under the registry's ETag
//! ([`super::registry_cache`]).
//!
//! The container is generic over its store, as the runtime's examples keep their clients: the
//! handler borrows whatever store it was built with, so its tests run it in-process against
//! [`crate::store::memory::MemoryStore`] (`Container::new`).

use super::ledger_memory::LedgerMemory;
use super::outputs_memory::OutputsMemory;
use super::registry_cache::RegistryCache;
use crate::alert::channel::MisconfiguredChannel;
use crate::alert::sns::SnsChannel;
use crate::alert::telegram::{CredentialSource, TelegramChannel};
use crate::alert::{AlertChannel, Alerter};
use crate::aws::{AwsClients, CallTimeouts};
use crate::deadline_schedule::DeadlineSchedule;
use crate::pass::PageHistoryCache;
use crate::settings::{DEFAULT_PROBE_TIMEOUT, Settings, SettingsError};
use crate::store::ObjectStore;
use crate::store::s3::S3Store;

/// What a warm container keeps between invocations.
pub struct Container<S> {
    /// A bad env is reported by every invocation rather than crashing the container, so
    /// `aws lambda invoke` shows the message.
    pub settings: Result<Settings, SettingsError>,
    /// Where the registry is read, artifacts probed and the outputs written (S3 in the
    /// Lambda; its client holds the container's SDK config).
    pub store: S,
    /// The alert channels (built once: Telegram's SSM values are read once per container)
    /// and the dedup location; `None` when the settings are invalid.
    pub alerter: Option<Alerter>,
    /// Print the pass's metrics as CloudWatch EMF lines on stdout (the Lambda; not `run`,
    /// whose stdout is its answer).
    pub emit_metrics: bool,
    /// The status page's history as the last pass read it, under its ETag: the next pass
    /// HEADs the history digest and GETs it only when that changed (docs/outputs.md#requests).
    pub page_history: PageHistoryCache,
    /// The one schedule that runs a pass at the next deadline (docs/lambda.md#deadline-passes),
    /// or why there is none.
    pub deadline_schedule: DeadlineSchedule,
    /// The registry and its compiled matcher as the last event invocation read them, under
    /// the registry's ETag (dropped when a pass or a history run starts).
    pub registry: RegistryCache,
    /// What event invocations remember of the outputs they wrote, and the page's history
    /// (`super::outputs_memory`).
    pub event_outputs: OutputsMemory,
    /// The ledger as the last event invocation wrote it (`super::ledger_memory`).
    pub event_ledger: LedgerMemory,
}

impl<S: ObjectStore> Container<S> {
    /// A container over `store` with `settings` and the channels of `alerter` (none when the
    /// settings are invalid), printing no metrics.
    pub fn new(
        settings: Result<Settings, SettingsError>,
        store: S,
        alerter: Option<Alerter>,
    ) -> Self {
        Container {
            settings,
            store,
            alerter,
            emit_metrics: false,
            page_history: PageHistoryCache::default(),
            registry: RegistryCache::default(),
            event_outputs: OutputsMemory::default(),
            event_ledger: LedgerMemory::default(),
            deadline_schedule: DeadlineSchedule::off(
                "DEADLINE_SCHEDULE_NAME is not set (deploy.sh --deadline-schedule sets it up)",
            ),
        }
    }
}

impl<S> Container<S> {
    /// Drops what event invocations kept of the registry and the ledger: a pass or a history
    /// run reads its own (and writes the ledger), so the two never take memory at once.
    pub fn forget_event_memory(&self) {
        self.registry.forget();
        self.event_ledger.forget();
    }
}

impl Container<S3Store> {
    /// The Lambda's container: the settings from the env, the AWS clients built once (the S3
    /// store; SNS, and SSM for Telegram's values, when those channels are configured),
    /// metrics printed.
    pub async fn from_env() -> Container<S3Store> {
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
            emit_metrics: true,
            deadline_schedule: DeadlineSchedule::from_env(&clients.config),
            ..Container::new(settings, store, alerter)
        }
    }
}

/// The channels the settings configure. Each is optional; a half-configured Telegram (one of
/// its two parameters) becomes a channel that fails every send with the reason, so the gap
/// shows in the heartbeat and the logs instead of silently sending nowhere.
pub fn alerter(settings: &Settings, clients: &AwsClients) -> Alerter {
    let mut channels: Vec<Box<dyn AlertChannel>> = Vec::new();
    if let Some(arn) = &settings.sns_topic_arn {
        channels.push(Box::new(SnsChannel::new(clients.sns(), arn)));
    }
    match (
        &settings.telegram_bot_token_param,
        &settings.telegram_chat_id_param,
    ) {
        (Some(token_param), Some(chat_id_param)) => {
            channels.push(Box::new(
                TelegramChannel::new(
                    CredentialSource::Ssm {
                        client: clients.ssm(),
                        token_param: token_param.clone(),
                        chat_id_param: chat_id_param.clone(),
                    },
                    settings.telegram_api_base.as_deref(),
                )
                .with_timeout(clients.timeouts.operation),
            ));
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
