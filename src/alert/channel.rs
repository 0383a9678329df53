//! Where a digest goes: the channel trait, and the stdout channel `check` prints with.
//!
//! A channel sends one [`Digest`] (cutting it to its own size limit) and says how it went.
//! Channels are independent: the orchestration sends to each and one failing never stops the
//! others. The trait returns boxed futures so a pass can hold a list of different channels.

use std::io::Write;

use futures_util::future::BoxFuture;

use super::digest::Digest;

/// How a send ended badly. The message is for an operator and never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ChannelError {
    pub message: String,
    /// Messages (parts) that did go out before the failure.
    pub delivered_parts: usize,
    /// Retrying cannot help (bot blocked, chat not found, topic missing, no permission).
    pub permanent: bool,
}

impl ChannelError {
    pub fn new(message: impl Into<String>) -> Self {
        ChannelError {
            message: message.into(),
            delivered_parts: 0,
            permanent: false,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        ChannelError {
            permanent: true,
            ..ChannelError::new(message)
        }
    }
}

/// A destination for alert digests.
pub trait AlertChannel: Send + Sync {
    /// `sns`, `telegram`, `stdout`: names the channel in logs and the heartbeat.
    fn name(&self) -> &'static str;

    /// Sends the digest (in as many messages as the channel's limit needs), giving up at
    /// `deadline`. `Ok(n)`: all `n` messages went out.
    fn send<'a>(
        &'a self,
        digest: &'a Digest,
        deadline: Option<tokio::time::Instant>,
    ) -> BoxFuture<'a, Result<usize, ChannelError>>;
}

/// Prints what would be sent (for `check`): the subject, the severity and the body.
pub struct StdoutChannel;

impl StdoutChannel {
    pub fn render(digest: &Digest) -> String {
        format!(
            "--- {} ({}) ---\n{}\n",
            digest.subject, digest.severity, digest.body
        )
    }
}

impl AlertChannel for StdoutChannel {
    fn name(&self) -> &'static str {
        "stdout"
    }

    fn send<'a>(
        &'a self,
        digest: &'a Digest,
        _deadline: Option<tokio::time::Instant>,
    ) -> BoxFuture<'a, Result<usize, ChannelError>> {
        Box::pin(async move {
            let mut out = std::io::stdout().lock();
            out.write_all(StdoutChannel::render(digest).as_bytes())
                .map_err(|e| ChannelError::new(format!("writing to stdout failed: {e}")))?;
            Ok(1)
        })
    }
}

/// A channel the settings name but cannot make work (half its configuration is missing):
/// every send fails with the reason, so the gap is reported on every pass.
pub struct MisconfiguredChannel {
    name: &'static str,
    reason: String,
}

impl MisconfiguredChannel {
    pub fn new(name: &'static str, reason: impl Into<String>) -> Self {
        MisconfiguredChannel {
            name,
            reason: reason.into(),
        }
    }
}

impl AlertChannel for MisconfiguredChannel {
    fn name(&self) -> &'static str {
        self.name
    }

    fn send<'a>(
        &'a self,
        _digest: &'a Digest,
        _deadline: Option<tokio::time::Instant>,
    ) -> BoxFuture<'a, Result<usize, ChannelError>> {
        Box::pin(async move { Err(ChannelError::permanent(self.reason.clone())) })
    }
}
