//! The AWS clients, built once per container from one shared `SdkConfig`.
//!
//! Building the config resolves the region, credentials chain, endpoint and timeouts; doing it
//! per invocation would cost a warm Lambda time and connections for nothing. Every client (S3
//! for probes and outputs; SNS and SSM for alerts, built only when a channel needs them) is
//! derived from the same config, so an `AWS_ENDPOINT_URL` pointing at moto moves them all at
//! once. When an endpoint is set, S3 uses path-style addressing (`http://host/bucket/key`): a
//! local endpoint has no DNS for `bucket.host`.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// How long one S3 (or SNS, SSM) operation may take, retries included, before it is given up
/// as a timeout. A probe against a socket that accepts and never answers ends here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallTimeouts {
    /// The whole operation, every retry included.
    pub operation: Duration,
    /// One attempt; a silent attempt is retried until `operation` runs out.
    pub attempt: Duration,
    /// Establishing a TCP (and TLS) connection.
    pub connect: Duration,
}

impl CallTimeouts {
    /// Timeouts derived from the one figure an operator sets (`PROBE_TIMEOUT_SECONDS`): an
    /// attempt gets a third of it so a stalled connection is retried on a fresh one.
    pub fn from_operation(operation: Duration) -> Self {
        let attempt = (operation / 3)
            .max(Duration::from_millis(500))
            .min(operation);
        let connect = attempt.min(Duration::from_secs(3));
        CallTimeouts {
            operation,
            attempt,
            connect,
        }
    }

    /// The timeouts for a send that is not idempotent (an SNS Publish): one attempt may take
    /// the whole operation. An attempt cut short after the message left is retried, and SNS
    /// then delivers the page twice: a slow answer must be waited for, not re-sent.
    pub fn for_non_idempotent_send(self) -> Self {
        CallTimeouts {
            attempt: self.operation,
            ..self
        }
    }

    pub(crate) fn to_timeout_config(self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .operation_timeout(self.operation)
            .operation_attempt_timeout(self.attempt)
            .connect_timeout(self.connect)
            .build()
    }
}

impl Default for CallTimeouts {
    fn default() -> Self {
        CallTimeouts::from_operation(Duration::from_secs(10))
    }
}

/// Loads the shared config from the environment (region, credentials, `AWS_ENDPOINT_URL`),
/// with our timeouts and the SDK's adaptive retries: standard retries (3 attempts, jittered
/// backoff) plus a client-side rate limiter that engages once S3 answers `SlowDown` (503) and
/// throttles every probe of the pass, not only the one that was refused. A large registry's
/// burst of HEADs against one prefix then slows down instead of burning its retries and
/// ending as a wall of `probe_failed` rows. The HTTPS client is [`crate::tls`]'s (rustls with
/// `ring`): the SDK crates are built without a default one.
pub async fn load_sdk_config(timeouts: CallTimeouts) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(crate::tls::sdk_http_client())
        .timeout_config(timeouts.to_timeout_config())
        .retry_config(RetryConfig::adaptive())
        .load()
        .await
}

/// An S3 client from the shared config; path-style when an endpoint override is set
/// (`AWS_ENDPOINT_URL`, or the S3-only `AWS_ENDPOINT_URL_S3`).
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let endpoint_override = config.endpoint_url().is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(endpoint_override)
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

/// An SNS client whose one attempt may take the whole `PROBE_TIMEOUT_SECONDS`
/// ([`CallTimeouts::for_non_idempotent_send`]): a publish retried after a timed-out attempt
/// would page twice.
pub fn sns_client(config: &SdkConfig, timeouts: CallTimeouts) -> aws_sdk_sns::Client {
    let sns_config = aws_sdk_sns::config::Builder::from(config)
        .timeout_config(timeouts.for_non_idempotent_send().to_timeout_config())
        .build();
    aws_sdk_sns::Client::from_conf(sns_config)
}

/// The shared config and the S3 client every pass uses; the SNS and SSM clients are built
/// from the config by the channels that need them ([`AwsClients::sns`], [`AwsClients::ssm`]),
/// so a container without those channels never runs (nor maps) their code. Cloning is cheap
/// (the clients are reference-counted handles).
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub config: SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub timeouts: CallTimeouts,
}

impl AwsClients {
    /// Builds the config and clients once; call this at container start, not per pass.
    pub async fn from_env(timeouts: CallTimeouts) -> Self {
        let config = load_sdk_config(timeouts).await;
        AwsClients::from_config(config, timeouts)
    }

    pub fn from_config(config: SdkConfig, timeouts: CallTimeouts) -> Self {
        AwsClients {
            s3: s3_client(&config),
            config,
            timeouts,
        }
    }

    /// An SNS client from the shared config, for the SNS channel (built once per container),
    /// with [`sns_client`]'s timeouts.
    pub fn sns(&self) -> aws_sdk_sns::Client {
        sns_client(&self.config, self.timeouts)
    }

    /// An SSM client from the shared config, for Telegram's parameters (built once per
    /// container).
    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.config)
    }

    /// The clients for a CLI command (`check --registry s3://…`): the same env contract as
    /// the Lambda, with `PROBE_TIMEOUT_SECONDS` honoured when it is valid.
    pub async fn for_cli() -> Self {
        let operation = crate::settings::Settings::probe_timeout_from_env()
            .unwrap_or(crate::settings::DEFAULT_PROBE_TIMEOUT);
        AwsClients::from_env(CallTimeouts::from_operation(operation)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_is_a_third_of_the_operation_and_connect_is_capped() {
        let t = CallTimeouts::from_operation(Duration::from_secs(30));
        assert_eq!(t.attempt, Duration::from_secs(10));
        assert_eq!(t.connect, Duration::from_secs(3));
    }

    #[tokio::test]
    async fn retries_are_adaptive_so_slow_down_throttles_the_whole_pass() {
        let config = load_sdk_config(CallTimeouts::default()).await;
        let retry = config.retry_config().expect("a retry config");
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Adaptive);
        assert_eq!(retry.max_attempts(), 3);
    }

    #[tokio::test]
    async fn a_publish_attempt_may_take_the_whole_operation_so_a_slow_answer_is_not_sent_twice() {
        let timeouts = CallTimeouts::from_operation(Duration::from_secs(2));
        let config = load_sdk_config(timeouts).await;
        let sns = sns_client(&config, timeouts);
        let sns_timeouts = sns.config().timeout_config().expect("a timeout config");
        assert_eq!(
            sns_timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            sns_timeouts.operation_timeout(),
            Some(Duration::from_secs(2))
        );
        let s3_timeouts = s3_client(&config).config().timeout_config().cloned();
        let s3_attempt = s3_timeouts.and_then(|t| t.operation_attempt_timeout());
        assert_eq!(s3_attempt, Some(Duration::from_secs(2) / 3));
    }

    #[test]
    fn short_operations_keep_a_usable_attempt() {
        let t = CallTimeouts::from_operation(Duration::from_millis(600));
        assert_eq!(t.attempt, Duration::from_millis(500));
        let t = CallTimeouts::from_operation(Duration::from_millis(300));
        assert_eq!(t.attempt, Duration::from_millis(300));
        assert_eq!(t.connect, Duration::from_millis(300));
    }
}
