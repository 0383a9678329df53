//! The SNS channel: one Publish per digest (more only past SNS's 256 KiB), with an ASCII
//! subject of at most 100 characters and the severity as a message attribute, so
//! subscriptions can filter on it.

use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::MessageAttributeValue;
use futures_util::future::BoxFuture;

use super::channel::{AlertChannel, ChannelError};
use super::digest::{Digest, SNS_MAX_BYTES, sns_subject, split_message};

pub struct SnsChannel {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsChannel {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        SnsChannel {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    async fn publish(
        &self,
        subject: &str,
        message: &str,
        severity: &str,
    ) -> Result<(), ChannelError> {
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(severity)
            .build()
            .map_err(|e| ChannelError::new(format!("SNS message attribute: {e}")))?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(message)
            .message_attributes("severity", attribute)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| {
                let permanent = matches!(
                    &err,
                    SdkError::ServiceError(ctx) if matches!(
                        ctx.err().code(),
                        Some("NotFound" | "AuthorizationError" | "InvalidParameter"
                            | "KMSDisabled" | "KMSNotFound" | "EndpointDisabled")
                    )
                );
                let message = format!(
                    "SNS publish to {} failed: {}",
                    self.topic_arn,
                    DisplayErrorContext(&err)
                );
                ChannelError {
                    message,
                    delivered_parts: 0,
                    permanent,
                }
            })
    }
}

impl AlertChannel for SnsChannel {
    fn name(&self) -> &'static str {
        "sns"
    }

    fn send<'a>(
        &'a self,
        digest: &'a Digest,
        deadline: Option<tokio::time::Instant>,
    ) -> BoxFuture<'a, Result<usize, ChannelError>> {
        Box::pin(async move {
            let parts = split_message(&digest.body, SNS_MAX_BYTES, str::len);
            let n = parts.len();
            for (i, part) in parts.iter().enumerate() {
                let subject = if n == 1 {
                    digest.subject.clone()
                } else {
                    let suffix = format!(" ({}/{n})", i + 1);
                    let base = sns_subject(&digest.subject);
                    let room = 100 - suffix.len();
                    let base: String = base.chars().take(room).collect();
                    format!("{base}{suffix}")
                };
                let publish = self.publish(&subject, part, digest.severity.as_str());
                let result = match deadline {
                    Some(d) => match tokio::time::timeout_at(d, publish).await {
                        Ok(r) => r,
                        Err(_) => Err(ChannelError::new(
                            "SNS publish did not finish before the pass's deadline",
                        )),
                    },
                    None => publish.await,
                };
                if let Err(mut e) = result {
                    e.delivered_parts = i;
                    return Err(e);
                }
            }
            Ok(n)
        })
    }
}
