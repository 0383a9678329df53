//! The EventBridge Scheduler calls: `UpdateSchedule`, and `CreateSchedule` when the schedule
//! does not exist yet. Everything the schedule holds is set on every call, so an update also
//! repairs a schedule an operator changed by hand.

use aws_sdk_scheduler::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, ScheduleState,
    Target,
};

use super::config::ScheduleConfig;

/// How long Scheduler keeps retrying a deadline pass it could not deliver: a pass later than
/// this is no longer at the deadline (the next 15-minute pass covers it).
const MAX_EVENT_AGE_SECONDS: i32 = 300;

/// Retries of an undelivered deadline pass within [`MAX_EVENT_AGE_SECONDS`].
const MAX_RETRY_ATTEMPTS: i32 = 2;

/// What the schedule should be.
pub struct Wanted<'a> {
    pub config: &'a ScheduleConfig,
    pub target_arn: &'a str,
    /// `at(yyyy-mm-ddThh:mm:ss)`, UTC.
    pub expression: String,
    pub input: String,
}

/// Why the schedule could not be set: the call and Scheduler's answer (an `AccessDenied`
/// names the permission the function lacks).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UpsertError(String);

/// The Scheduler client, built once per container from its SDK config.
#[derive(Debug, Clone)]
pub struct SchedulerClient(aws_sdk_scheduler::Client);

impl SchedulerClient {
    pub fn new(sdk: &aws_config::SdkConfig) -> SchedulerClient {
        SchedulerClient(aws_sdk_scheduler::Client::new(sdk))
    }

    /// Sets the schedule: `updated`, or `created` when it did not exist.
    pub async fn upsert(&self, wanted: &Wanted<'_>) -> Result<&'static str, UpsertError> {
        let config = wanted.config;
        let (window, target) = parts(wanted)?;
        let updated = self
            .0
            .update_schedule()
            .name(&config.name)
            .group_name(&config.group)
            .schedule_expression(&wanted.expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window.clone())
            .target(target.clone())
            .action_after_completion(ActionAfterCompletion::None)
            .state(ScheduleState::Enabled)
            .description(DESCRIPTION)
            .send()
            .await;
        match updated {
            Ok(_) => return Ok("updated"),
            Err(SdkError::ServiceError(ctx)) if ctx.err().is_resource_not_found_exception() => {}
            Err(err) => return Err(failed("UpdateSchedule", config, &err)),
        }
        self.0
            .create_schedule()
            .name(&config.name)
            .group_name(&config.group)
            .schedule_expression(&wanted.expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .target(target)
            .action_after_completion(ActionAfterCompletion::None)
            .state(ScheduleState::Enabled)
            .description(DESCRIPTION)
            .send()
            .await
            .map(|_| "created")
            .map_err(|err| failed("CreateSchedule", config, &err))
    }
}

const DESCRIPTION: &str = "freshness-monitor: a pass at the next deadline (set by every pass)";

fn parts(wanted: &Wanted<'_>) -> Result<(FlexibleTimeWindow, Target), UpsertError> {
    let window = FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|e| UpsertError(format!("the schedule's time window: {e}")))?;
    let retry = RetryPolicy::builder()
        .maximum_event_age_in_seconds(MAX_EVENT_AGE_SECONDS)
        .maximum_retry_attempts(MAX_RETRY_ATTEMPTS)
        .build();
    let target = Target::builder()
        .arn(wanted.target_arn)
        .role_arn(&wanted.config.role_arn)
        .input(&wanted.input)
        .retry_policy(retry)
        .build()
        .map_err(|e| UpsertError(format!("the schedule's target: {e}")))?;
    Ok((window, target))
}

fn failed<E, R>(call: &str, config: &ScheduleConfig, err: &SdkError<E, R>) -> UpsertError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = match err {
        SdkError::ServiceError(ctx) => ctx.err().code().map(str::to_string),
        _ => None,
    };
    let hint = match code.as_deref() {
        Some("AccessDeniedException") => format!(
            " (the function's role needs scheduler:{call} on this schedule and iam:PassRole \
             on {})",
            config.role_arn
        ),
        Some("ThrottlingException") => " (throttled; the next pass tries again)".to_string(),
        _ => String::new(),
    };
    UpsertError(format!(
        "{call} {} failed: {}{hint}",
        config.qualified_name(),
        DisplayErrorContext(err)
    ))
}
