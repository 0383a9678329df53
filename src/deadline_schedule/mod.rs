//! The one EventBridge Scheduler schedule that runs a pass at the next deadline
//! (docs/lambda.md#deadline-passes).
//!
//! Polling every 15 minutes alerts a deadline that falls between two passes up to 15 minutes
//! late. After each pass the Lambda points one one-time schedule, `at(...)` a few seconds after
//! the next moment an artifact would start to alert ([`crate::deadline::next_deadline`]), at
//! itself with `{"mode": "deadline", "at": ...}`. The 15-minute passes stay as the safety net:
//! without the schedule's configuration or permission every pass still runs as before, logs
//! why once, and says so in `heartbeat.json` (`deadline_passes`).
//!
//! One call per pass at most, none when the schedule already points at the time (the ledger
//! keeps the time last confirmed): `UpdateSchedule`, and `CreateSchedule` when it does not
//! exist yet. The schedule is kept after it runs (`ActionAfterCompletion: NONE`): deleting it
//! would race the deadline pass's own update, and a kept schedule is updated in one call.

mod config;
mod scheduler;

use std::sync::OnceLock;

use chrono::{DateTime, Utc};

pub use config::{DEFAULT_GROUP, DEFAULT_MARGIN_SECONDS, ScheduleConfig};
pub use scheduler::{SchedulerClient, UpsertError};

use crate::deadline::{NextDeadline, at_expression, pass_time};
use crate::report::DeadlinePassFigures;
use crate::text::rfc3339;

/// What a container knows about its deadline schedule: the configuration (or why there is
/// none), the Scheduler client, and the function's own ARN (the schedule's target), learnt
/// from the first invocation's context unless `DEADLINE_TARGET_ARN` names it.
pub struct DeadlineSchedule {
    config: Result<ScheduleConfig, String>,
    client: Option<SchedulerClient>,
    target_arn: OnceLock<String>,
}

/// What keeping the schedule did: the heartbeat's figures, and the time to remember in the
/// ledger as set (`None`: none known to be set, so the next pass calls again).
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub figures: DeadlinePassFigures,
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl DeadlineSchedule {
    /// Deadline passes off, for `reason` (a shell's `run`, a test container).
    pub fn off(reason: impl Into<String>) -> DeadlineSchedule {
        DeadlineSchedule {
            config: Err(reason.into()),
            client: None,
            target_arn: OnceLock::new(),
        }
    }

    /// From the env (`DEADLINE_SCHEDULE_*`), with a client built from the container's SDK
    /// config when it is configured.
    pub fn from_env(sdk: &aws_config::SdkConfig) -> DeadlineSchedule {
        let config = ScheduleConfig::from_env(|name| std::env::var(name).ok());
        let client = config.as_ref().ok().map(|_| SchedulerClient::new(sdk));
        let target_arn = OnceLock::new();
        if let Ok(config) = &config
            && let Some(arn) = &config.target_arn
        {
            let _ = target_arn.set(arn.clone());
        }
        if let Err(reason) = &config {
            tracing::info!(message = "deadline passes are off", reason = %reason);
        }
        DeadlineSchedule {
            config,
            client,
            target_arn,
        }
    }

    /// The invoked function's ARN, from the invocation's context (kept from the first).
    pub fn learn_target(&self, invoked_function_arn: &str) {
        if !invoked_function_arn.is_empty() {
            let _ = self.target_arn.set(invoked_function_arn.to_string());
        }
    }

    /// Points the schedule at the pass after `next` (a pass at `clock`), unless the ledger's
    /// `last_set` says it already does. Never fails the pass: a refusal is logged once and
    /// reported.
    pub async fn keep(
        &self,
        next: Option<&NextDeadline>,
        last_set: Option<DateTime<Utc>>,
        clock: DateTime<Utc>,
    ) -> Kept {
        let (config, client) = match (&self.config, &self.client) {
            (Ok(config), Some(client)) => (config, client),
            (Err(reason), _) => return off(None, reason.clone()),
            (Ok(config), None) => {
                return off(Some(config), "no EventBridge Scheduler client".to_string());
            }
        };
        let Some(target) = self.target_arn.get() else {
            return off(
                Some(config),
                "the function's ARN is not known (no invocation context, and \
                 DEADLINE_TARGET_ARN is not set)"
                    .to_string(),
            );
        };
        let mut figures = DeadlinePassFigures {
            enabled: true,
            schedule: Some(config.qualified_name()),
            action: "none",
            ..DeadlinePassFigures::default()
        };
        let Some(next) = next else {
            return Kept {
                figures,
                confirmed_at: last_set,
            };
        };
        let at = pass_time(next, config.margin, clock);
        figures.next_pass_at = Some(rfc3339(at));
        figures.artifact_id = Some(next.artifact_id.clone());
        figures.due_at = Some(rfc3339(next.due_at));
        if last_set == Some(at) {
            figures.action = "unchanged";
            return Kept {
                figures,
                confirmed_at: last_set,
            };
        }
        let wanted = scheduler::Wanted {
            config,
            target_arn: target,
            expression: at_expression(at),
            input: deadline_input(at),
        };
        match client.upsert(&wanted).await {
            Ok(action) => {
                figures.action = action;
                Kept {
                    figures,
                    confirmed_at: Some(at),
                }
            }
            Err(err) => {
                tracing::warn!(
                    message = "could not set the deadline schedule; the 15-minute passes go on",
                    schedule = %config.qualified_name(),
                    error = %err,
                );
                figures.enabled = false;
                figures.action = "failed";
                figures.reason = Some(err.to_string());
                Kept {
                    figures,
                    confirmed_at: None,
                }
            }
        }
    }
}

/// Deadline passes off: nothing set, nothing remembered.
fn off(config: Option<&ScheduleConfig>, reason: String) -> Kept {
    Kept {
        figures: DeadlinePassFigures {
            enabled: false,
            schedule: config.map(ScheduleConfig::qualified_name),
            action: "off",
            reason: Some(reason),
            ..DeadlinePassFigures::default()
        },
        confirmed_at: None,
    }
}

/// The event the schedule sends: a deadline pass judged at the schedule's own time, so a
/// late or retried delivery judges the moment it was meant for.
pub fn deadline_input(at: DateTime<Utc>) -> String {
    serde_json::json!({"mode": "deadline", "at": rfc3339(at)}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(alerts_from: &str) -> NextDeadline {
        let alerts_from: DateTime<Utc> = alerts_from.parse().unwrap();
        NextDeadline {
            alerts_from,
            due_at: alerts_from - chrono::Duration::minutes(1),
            artifact_id: "a07".into(),
        }
    }

    #[tokio::test]
    async fn without_configuration_the_heartbeat_says_why_and_nothing_is_remembered() {
        let schedule = DeadlineSchedule::off("DEADLINE_SCHEDULE_NAME is not set");
        let clock = "2026-06-03T12:00:00Z".parse().unwrap();
        let kept = schedule
            .keep(Some(&next("2026-06-03T12:08:00Z")), Some(clock), clock)
            .await;
        assert_eq!(kept.confirmed_at, None);
        assert!(!kept.figures.enabled);
        assert_eq!(kept.figures.action, "off");
        assert_eq!(
            kept.figures.reason.as_deref(),
            Some("DEADLINE_SCHEDULE_NAME is not set")
        );
    }

    #[test]
    fn the_input_is_a_deadline_event_the_function_accepts() {
        let at = "2026-06-03T12:08:05Z".parse().unwrap();
        let input = deadline_input(at);
        assert_eq!(input, r#"{"at":"2026-06-03T12:08:05Z","mode":"deadline"}"#);
        assert_eq!(
            crate::lambda::event::Invocation::parse_json(&input),
            Ok(crate::lambda::event::Invocation::Deadline { at: Some(at) })
        );
    }
}
