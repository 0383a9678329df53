//! One monitored world for the alert tests: a bucket with a registry of artifacts that are
//! missing in every cycle, an SNS topic read back through an SQS queue subscribed to it,
//! Telegram credentials in SSM and a loopback Telegram server, each named after the world's own
//! bucket so worlds never meet. [`Monitor`] is the binary serving that world's invocations.
//!
//! The artifacts use `saturday_sf` (tick Saturday 09:00 UTC, SLA 180 min, due 12:00), so a
//! pass's time, taken from the scheduled event, picks the cycle. An object under `data/`
//! stands for the producers' earlier cycles.

#![allow(dead_code)]

use serde_json::Value;

use super::aws::{Clients, get_json, put};
use super::function::Function;
use super::moto;
use super::results::{self, DEDUP_PREFIX, REGISTRY_KEY};
use super::telegram_server::TelegramServer;

/// An object an earlier cycle left under the artifacts' template prefix `data/`.
pub const EARLIER_OBJECT: &str = "data/written-in-an-earlier-cycle.json";

pub const TOKEN: &str = "123456789:AAF-test-SECRET-token_value";
pub const CHAT_ID: &str = "-1001234567890";

/// The binary serving invocations (one container) with alerting configured by the test's
/// env, logging at debug so that a leaked token would be seen. A pass is [`Function::pass`].
pub struct Monitor(Function);

impl Monitor {
    pub fn start(env: &[(&str, String)]) -> Monitor {
        let env: Vec<(&str, &str)> = std::iter::once(("RUST_LOG", "debug"))
            .chain(env.iter().map(|(name, value)| (*name, value.as_str())))
            .collect();
        Monitor(Function::on_moto(&env))
    }
}

impl std::ops::Deref for Monitor {
    type Target = Function;

    fn deref(&self) -> &Function {
        &self.0
    }
}

impl std::ops::DerefMut for Monitor {
    fn deref_mut(&mut self) -> &mut Function {
        &mut self.0
    }
}

/// One monitored world: a bucket with a registry of `n` artifacts that are missing in every
/// cycle, an SNS topic read back through a queue, Telegram credentials in SSM and a loopback
/// Telegram server.
pub struct World {
    pub aws: Clients,
    pub bucket: String,
    pub topic_arn: String,
    pub queue_url: String,
    pub token_param: String,
    pub chat_param: String,
    pub telegram: TelegramServer,
}

pub fn registry(bucket: &str, ids: &[String]) -> String {
    let mut text = format!(
        "schema_version: 1\ndefaults:\n  s3_bucket: {bucket}\n  severity: critical\n  \
         grace_period_cycles: 0\nartifacts:\n"
    );
    for id in ids {
        text.push_str(&format!(
            "  - artifact_id: {id}\n    s3_key_template: \"data/{{date}}/{id}.json\"\n    \
             cadence: saturday_sf\n    sla_minutes_after_cron: 180\n    owner_repo: pipelines\n    \
             created_at: 2025-01-01\n"
        ));
    }
    text
}

impl World {
    pub async fn new(n_artifacts: usize) -> World {
        let ids: Vec<String> = (1..=n_artifacts)
            .map(|i| format!("artifact_{i:02}"))
            .collect();
        World::with_ids(&ids).await
    }

    pub async fn with_ids(ids: &[String]) -> World {
        let aws = Clients::new().await;
        let bucket = moto::unique_bucket("alerts");
        aws.s3.create_bucket().bucket(&bucket).send().await.unwrap();
        put(&aws.s3, &bucket, REGISTRY_KEY, &registry(&bucket, ids)).await;
        // The producers wrote under `data/` before: a missing artifact is missing, not "never
        // written" (docs/alerts.md#never-written), as in any monitored bucket.
        put(&aws.s3, &bucket, EARLIER_OBJECT, "{}").await;

        let topic_arn = aws
            .sns
            .create_topic()
            .name(&bucket)
            .send()
            .await
            .unwrap()
            .topic_arn()
            .unwrap()
            .to_string();
        let queue_url = aws
            .sqs
            .create_queue()
            .queue_name(&bucket)
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_string();
        let queue_arn = format!("arn:aws:sqs:{}:{}:{bucket}", moto::REGION, moto::ACCOUNT_ID);
        aws.sns
            .subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .unwrap();

        let token_param = format!("/{bucket}/telegram/token");
        let chat_param = format!("/{bucket}/telegram/chat");
        for (name, value) in [(&token_param, TOKEN), (&chat_param, CHAT_ID)] {
            aws.ssm
                .put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .send()
                .await
                .unwrap();
        }
        World {
            aws,
            bucket,
            topic_arn,
            queue_url,
            token_param,
            chat_param,
            telegram: TelegramServer::start(),
        }
    }

    /// The function's env: both channels, alerts enabled.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("REGISTRY_BUCKET", self.bucket.clone()),
            ("FRESHNESS_MONITOR_ENABLED", "true".to_string()),
            ("SNS_TOPIC_ARN", self.topic_arn.clone()),
            ("TELEGRAM_BOT_TOKEN_PARAM", self.token_param.clone()),
            ("TELEGRAM_CHAT_ID_PARAM", self.chat_param.clone()),
            ("TELEGRAM_API_BASE", self.telegram.base()),
        ]
    }

    pub fn env_with(&self, name: &'static str, value: Option<&str>) -> Vec<(&'static str, String)> {
        let mut env: Vec<(&'static str, String)> =
            self.env().into_iter().filter(|(n, _)| *n != name).collect();
        if let Some(value) = value {
            env.push((name, value.to_string()));
        }
        env
    }

    /// The SNS notifications that reached the queue since the last call (envelopes).
    pub async fn sns_messages(&self) -> Vec<Value> {
        let mut messages = Vec::new();
        loop {
            let out = self
                .aws
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let batch = out.messages();
            if batch.is_empty() {
                return messages;
            }
            for m in batch {
                messages.push(serde_json::from_str(m.body().unwrap()).unwrap());
                self.aws
                    .sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// The dedup markers in the bucket, by key.
    pub async fn markers(&self) -> Vec<(String, Value)> {
        let listed = self
            .aws
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(DEDUP_PREFIX)
            .send()
            .await
            .unwrap();
        let mut markers = Vec::new();
        for object in listed.contents() {
            let key = object.key().unwrap().to_string();
            let value = get_json(&self.aws.s3, &self.bucket, &key).await.unwrap();
            markers.push((key, value));
        }
        markers
    }

    pub async fn heartbeat(&self) -> Value {
        results::heartbeat(&self.aws.s3, &self.bucket)
            .await
            .expect("heartbeat written")
    }
}

/// `{prefix}{first 16 hex of sha1(key)}.json`, computed independently of the crate.
pub fn marker_key(dedup_key: &str) -> String {
    use sha1::{Digest, Sha1};
    let hex: String = Sha1::digest(dedup_key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{DEDUP_PREFIX}{}.json", &hex[..16])
}

pub fn ids_in(text: &str, n: usize) -> usize {
    (1..=n)
        .filter(|i| text.contains(&format!("artifact_{i:02} missing")))
        .count()
}

/// The error the heartbeat reports for alert channel `channel` (`sns` or `telegram`).
pub fn channel_error(heartbeat: &Value, channel: &str) -> String {
    heartbeat["alerts"]["channels"]
        .as_array()
        .unwrap_or_else(|| panic!("no channel reports: {heartbeat:#}"))
        .iter()
        .find(|c| c["channel"] == channel)
        .and_then(|c| c["error"].as_str())
        .unwrap_or_else(|| panic!("no {channel} error: {heartbeat:#}"))
        .to_string()
}
