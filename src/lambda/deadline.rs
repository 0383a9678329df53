//! The invocation's deadline, and when to stop starting probes so the outputs are written
//! before it.
//!
//! The runtime says the deadline as `Lambda-Runtime-Deadline-Ms`, milliseconds since the
//! epoch. A value that is already past when the invocation starts, or further ahead than any
//! Lambda can run, cannot be a real deadline (cargo-lambda's emulator sends a constant
//! `600000`, which is 1970-01-01T00:10Z): it is treated as absent, and the pass runs on
//! [`UNTRUSTED_DEADLINE_BUDGET`] with a warning that names the header's value.

use std::time::{Duration, Instant, SystemTime};

/// Time kept back from the invocation deadline for writing the three result files after the
/// last probe has had its full timeout.
pub const OUTPUT_RESERVE: Duration = Duration::from_secs(5);

/// The longest a Lambda invocation can run (its maximum timeout).
pub const LAMBDA_MAX_RUN: Duration = Duration::from_secs(900);

/// How long a pass may run when the runtime's deadline cannot be trusted: Lambda's maximum,
/// since no real invocation runs longer.
pub const UNTRUSTED_DEADLINE_BUDGET: Duration = LAMBDA_MAX_RUN;

/// Slack for clocks: a deadline this far past Lambda's maximum is still believed.
const CLOCK_SLACK: Duration = Duration::from_secs(60);

/// The deadline a pass works to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationDeadline {
    /// The runtime's deadline, believable.
    Trusted(SystemTime),
    /// The runtime's header could not be a deadline; the pass runs to `fallback`.
    Untrusted {
        header_ms: u64,
        fallback: SystemTime,
    },
}

impl InvocationDeadline {
    /// Judges the header's `deadline_ms` at `wall_now`.
    pub fn from_header(deadline_ms: u64, wall_now: SystemTime) -> Self {
        let deadline = SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(deadline_ms));
        let latest_believable = wall_now + LAMBDA_MAX_RUN + CLOCK_SLACK;
        match deadline {
            Some(deadline) if deadline > wall_now && deadline <= latest_believable => {
                InvocationDeadline::Trusted(deadline)
            }
            _ => InvocationDeadline::Untrusted {
                header_ms: deadline_ms,
                fallback: wall_now + UNTRUSTED_DEADLINE_BUDGET,
            },
        }
    }

    /// The time the pass must be done by.
    pub fn at(self) -> SystemTime {
        match self {
            InvocationDeadline::Trusted(at) => at,
            InvocationDeadline::Untrusted { fallback, .. } => fallback,
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
            probe_deadline(
                wall + Duration::from_secs(3),
                wall,
                mono,
                Duration::from_secs(10)
            ),
            mono
        );
        assert_eq!(
            probe_deadline(
                wall - Duration::from_secs(3),
                wall,
                mono,
                Duration::from_secs(10)
            ),
            mono,
            "a deadline already past"
        );
    }

    fn ms(t: SystemTime) -> u64 {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    }

    #[test]
    fn a_deadline_within_lambdas_maximum_is_trusted() {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let deadline = wall + Duration::from_secs(300);
        assert_eq!(
            InvocationDeadline::from_header(ms(deadline), wall),
            InvocationDeadline::Trusted(deadline)
        );
    }

    #[test]
    fn a_past_or_absurd_deadline_runs_on_the_fallback_budget() {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let fallback = wall + UNTRUSTED_DEADLINE_BUDGET;
        for header_ms in [
            600_000,                               // cargo-lambda's constant
            ms(wall),                              // already now
            ms(wall + Duration::from_secs(3_600)), // an hour ahead
            u64::MAX,                              // beyond SystemTime
        ] {
            assert_eq!(
                InvocationDeadline::from_header(header_ms, wall),
                InvocationDeadline::Untrusted {
                    header_ms,
                    fallback
                },
                "{header_ms}"
            );
        }
    }
}
