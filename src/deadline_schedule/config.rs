//! The deadline schedule's env contract (docs/lambda.md#environment): which schedule, the role
//! Scheduler assumes to invoke the function, and the margin after a deadline. Unset name: off.
//! A value the schedule cannot work with: off, with a reason naming the variable (the
//! 15-minute passes never depend on it).

use chrono::Duration;

/// Scheduler's own default group.
pub const DEFAULT_GROUP: &str = "default";

/// Seconds after the moment an artifact starts to alert that its deadline pass runs: enough
/// for Scheduler to fire on time, small against the 60 s target.
pub const DEFAULT_MARGIN_SECONDS: i64 = 5;

/// The most a margin may be: a deadline pass five minutes late is no longer one.
const MAX_MARGIN_SECONDS: i64 = 300;

/// Where the one schedule lives and how it invokes the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleConfig {
    /// `DEADLINE_SCHEDULE_NAME`.
    pub name: String,
    /// `DEADLINE_SCHEDULE_GROUP` (default `default`).
    pub group: String,
    /// `DEADLINE_SCHEDULE_ROLE_ARN`: the role Scheduler assumes to invoke the function.
    pub role_arn: String,
    /// `DEADLINE_MARGIN_SECONDS` (default 5, 0 to 300).
    pub margin: Duration,
    /// `DEADLINE_TARGET_ARN`: the function to invoke, when not the invoked one.
    pub target_arn: Option<String>,
}

impl ScheduleConfig {
    /// Reads the contract through `var` (empty values count as unset); `Err`: why deadline
    /// passes are off.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<ScheduleConfig, String> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let name = get("DEADLINE_SCHEDULE_NAME").ok_or_else(|| {
            "DEADLINE_SCHEDULE_NAME is not set (deploy.sh --deadline-schedule sets it up)"
                .to_string()
        })?;
        check_name("DEADLINE_SCHEDULE_NAME", &name)?;
        let group = get("DEADLINE_SCHEDULE_GROUP").unwrap_or_else(|| DEFAULT_GROUP.to_string());
        check_name("DEADLINE_SCHEDULE_GROUP", &group)?;
        let role_arn = get("DEADLINE_SCHEDULE_ROLE_ARN").ok_or_else(|| {
            "DEADLINE_SCHEDULE_ROLE_ARN is not set: Scheduler needs a role to invoke the function"
                .to_string()
        })?;
        check_arn("DEADLINE_SCHEDULE_ROLE_ARN", &role_arn)?;
        let margin = match get("DEADLINE_MARGIN_SECONDS") {
            None => DEFAULT_MARGIN_SECONDS,
            Some(text) => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|s| (0..=MAX_MARGIN_SECONDS).contains(s))
                .ok_or_else(|| {
                    format!(
                        "DEADLINE_MARGIN_SECONDS must be a whole number of seconds from 0 to \
                         {MAX_MARGIN_SECONDS}, got {text:?}"
                    )
                })?,
        };
        let target_arn = get("DEADLINE_TARGET_ARN");
        if let Some(arn) = &target_arn {
            check_arn("DEADLINE_TARGET_ARN", arn)?;
        }
        Ok(ScheduleConfig {
            name,
            group,
            role_arn,
            margin: Duration::seconds(margin),
            target_arn,
        })
    }

    /// `group/name`, as messages and the heartbeat name it.
    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.group, self.name)
    }
}

/// Scheduler's names: 1 to 64 of `0-9 a-z A-Z - _ .`.
fn check_name(var: &str, value: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{var} must be 1 to 64 letters, digits, '-', '_' or '.', got {}",
            crate::text::quote_within(value, 80)
        ))
    }
}

fn check_arn(var: &str, value: &str) -> Result<(), String> {
    if value.starts_with("arn:") && value.len() <= 1600 {
        Ok(())
    } else {
        Err(format!(
            "{var} must be an ARN (arn:...), got {}",
            crate::text::quote_within(value, 80)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<ScheduleConfig, String> {
        ScheduleConfig::from_env(|name| {
            (vars.iter())
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/freshness-monitor-scheduler";

    #[test]
    fn a_name_and_a_role_turn_deadline_passes_on_with_defaults() {
        let config = read(&[
            ("DEADLINE_SCHEDULE_NAME", "freshness-monitor-deadline"),
            ("DEADLINE_SCHEDULE_ROLE_ARN", ROLE),
        ])
        .unwrap();
        assert_eq!(
            config.qualified_name(),
            "default/freshness-monitor-deadline"
        );
        assert_eq!(config.margin, Duration::seconds(5));
        assert_eq!(config.target_arn, None);
    }

    #[test]
    fn every_reason_for_off_names_its_variable() {
        let name = ("DEADLINE_SCHEDULE_NAME", "d");
        let role = ("DEADLINE_SCHEDULE_ROLE_ARN", ROLE);
        for (vars, reason) in [
            (
                vec![("DEADLINE_SCHEDULE_NAME", " ")],
                "DEADLINE_SCHEDULE_NAME is not set (deploy.sh --deadline-schedule sets it up)",
            ),
            (
                vec![name],
                "DEADLINE_SCHEDULE_ROLE_ARN is not set: Scheduler needs a role to invoke the \
                 function",
            ),
            (
                vec![("DEADLINE_SCHEDULE_NAME", "a b"), role],
                "DEADLINE_SCHEDULE_NAME must be 1 to 64 letters, digits, '-', '_' or '.', got \
                 \"a b\"",
            ),
            (
                vec![name, ("DEADLINE_SCHEDULE_ROLE_ARN", "my-role")],
                "DEADLINE_SCHEDULE_ROLE_ARN must be an ARN (arn:...), got \"my-role\"",
            ),
            (
                vec![name, role, ("DEADLINE_MARGIN_SECONDS", "301")],
                "DEADLINE_MARGIN_SECONDS must be a whole number of seconds from 0 to 300, got \
                 \"301\"",
            ),
        ] {
            assert_eq!(read(&vars), Err(reason.to_string()), "{vars:?}");
        }
    }
}
