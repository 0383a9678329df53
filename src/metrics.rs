//! Cycle and pass metrics as CloudWatch Embedded Metric Format (EMF): JSON log lines that
//! CloudWatch Logs turns into metrics, so an alarm can bind to "the weekly cycle is complete"
//! without a `PutMetricData` call, an IAM action or another SDK crate.
//!
//! Pure: [`emf_lines`] builds the lines from a pass's outcome; the Lambda shell prints them to
//! stdout, one object per line (docs/lambda.md#metrics).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::report::PolicyAction;
use crate::report::RequestCounts;
use crate::report::{AlertFigures, CycleVerdictKind, CycleVerdicts, ResultRow, StateCounts};

pub use crate::settings::DEFAULT_METRICS_NAMESPACE as DEFAULT_NAMESPACE;

/// The per-cadence metric an alarm binds to: 1 when the cadence's current cycle is
/// complete, 0 otherwise.
pub const CYCLE_COMPLETE_METRIC: &str = "ArtifactFreshnessCycleComplete";

/// What the pass's own line reports besides the cycle verdicts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassFigures {
    pub counts: StateCounts,
    pub alerts_sent: usize,
    pub policy: PolicyCounts,
    /// The S3 requests the pass made (`None`: not counted, no metric).
    pub requests: Option<RequestCounts>,
    pub duration_seconds: f64,
}

/// What the alert policy did with the alerting rows (docs/alerts.md#policy).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyCounts {
    /// Held back by a silence.
    pub silenced: usize,
    /// Routed to no configured channel.
    pub not_routed: usize,
    /// Acknowledged (still sent once; no escalation, no reminders).
    pub acknowledged: usize,
    /// Sent at a raised severity after missed cycles.
    pub escalated: usize,
}

impl PolicyCounts {
    pub fn of(rows: &[ResultRow]) -> PolicyCounts {
        let mut counts = PolicyCounts::default();
        for policy in rows.iter().filter_map(|r| r.policy.as_deref()) {
            match policy.action {
                PolicyAction::Silenced => counts.silenced += 1,
                PolicyAction::NotRouted => counts.not_routed += 1,
                PolicyAction::Send => {}
            }
            counts.acknowledged += usize::from(policy.acknowledged.is_some());
            counts.escalated += usize::from(policy.escalated);
        }
        counts
    }
}

impl PassFigures {
    pub fn of(
        rows: &[ResultRow],
        alerts: &AlertFigures,
        requests: Option<RequestCounts>,
        duration_seconds: f64,
    ) -> PassFigures {
        PassFigures {
            counts: StateCounts::of(rows),
            alerts_sent: alerts.sent,
            policy: PolicyCounts::of(rows),
            requests,
            duration_seconds,
        }
    }
}

/// One EMF line per cadence (dimension `Cadence`, the metric [`CYCLE_COMPLETE_METRIC`]),
/// then one line for the pass (counts per state, alerts sent and held back, S3 requests,
/// duration), all stamped `now`.
pub fn emf_lines(
    namespace: &str,
    now: DateTime<Utc>,
    verdicts: &CycleVerdicts,
    pass: &PassFigures,
) -> Vec<String> {
    let timestamp = now.timestamp_millis();
    let mut lines: Vec<String> = verdicts
        .states_by_cadence()
        .into_iter()
        .map(|(cadence, state)| {
            let complete = u8::from(state == CycleVerdictKind::Complete);
            let directive = directive(
                namespace,
                &[&["Cadence"]],
                &[(CYCLE_COMPLETE_METRIC, "None")],
            );
            json!({
                "_aws": {"Timestamp": timestamp, "CloudWatchMetrics": [directive]},
                "Cadence": cadence,
                CYCLE_COMPLETE_METRIC: complete,
            })
            .to_string()
        })
        .collect();
    lines.push(pass_line(namespace, timestamp, pass));
    lines
}

fn pass_line(namespace: &str, timestamp: i64, pass: &PassFigures) -> String {
    let (counts, policy) = (&pass.counts, &pass.policy);
    let mut pass_metrics = vec![
        ("ArtifactsFresh", "Count", counts.fresh as f64),
        ("ArtifactsStale", "Count", counts.stale as f64),
        ("ArtifactsMissing", "Count", counts.missing as f64),
        ("ArtifactsProbeFailed", "Count", counts.probe_failed as f64),
        ("ArtifactsGracePeriod", "Count", counts.grace_period as f64),
        ("ArtifactsSuspect", "Count", counts.suspect as f64),
        ("AlertsSent", "Count", pass.alerts_sent as f64),
        ("AlertsSilenced", "Count", policy.silenced as f64),
        ("AlertsNotRouted", "Count", policy.not_routed as f64),
        ("AlertsAcknowledged", "Count", policy.acknowledged as f64),
        ("AlertsEscalated", "Count", policy.escalated as f64),
        ("PassDurationSeconds", "Seconds", pass.duration_seconds),
    ];
    if let Some(requests) = pass.requests {
        pass_metrics.push(("S3Requests", "Count", requests.total() as f64));
    }
    let names: Vec<(&str, &str)> = pass_metrics.iter().map(|(n, u, _)| (*n, *u)).collect();
    let mut pass = json!({
        "_aws": {"Timestamp": timestamp, "CloudWatchMetrics": [directive(namespace, &[&[]], &names)]},
    });
    for (name, _, value) in pass_metrics {
        pass[name] = json!(value);
    }
    pass.to_string()
}

fn directive(namespace: &str, dimensions: &[&[&str]], metrics: &[(&str, &str)]) -> Value {
    json!({
        "Namespace": namespace,
        "Dimensions": dimensions,
        "Metrics": metrics
            .iter()
            .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CycleVerdict;

    fn verdict(cadence: &str, state: CycleVerdictKind) -> CycleVerdict {
        CycleVerdict {
            cadence: cadence.to_string(),
            cycle_label: "l".to_string(),
            state,
            complete: state == CycleVerdictKind::Complete,
            n_required: 1,
            n_satisfied: 0,
            missing: Vec::new(),
            stale: Vec::new(),
            probe_failed: Vec::new(),
            grace_period: Vec::new(),
            suspect: Vec::new(),
            reason: String::new(),
        }
    }

    #[test]
    fn one_line_per_cadence_and_one_for_the_pass_parse_back_as_emf() {
        let now: DateTime<Utc> = "2026-06-07T12:00:00Z".parse().unwrap();
        let verdicts = CycleVerdicts {
            run_at: now,
            verdicts: vec![
                verdict("saturday_sf", CycleVerdictKind::Incomplete),
                verdict("weekday_sf", CycleVerdictKind::Complete),
            ],
        };
        let counts = StateCounts {
            fresh: 3,
            missing: 1,
            ..StateCounts::default()
        };
        let pass = PassFigures {
            counts,
            alerts_sent: 2,
            policy: PolicyCounts {
                silenced: 4,
                ..PolicyCounts::default()
            },
            requests: Some(RequestCounts {
                head: 10,
                list: 2,
                put: 5,
                ..RequestCounts::default()
            }),
            duration_seconds: 1.5,
        };
        let lines = emf_lines("Ns", now, &verdicts, &pass);
        let parsed: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(parsed.len(), 3);
        for line in &parsed {
            assert_eq!(line["_aws"]["Timestamp"], 1_780_833_600_000_i64);
            assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Ns");
            // Every metric a directive names is a number at the top level.
            for metric in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
            {
                let name = metric["Name"].as_str().unwrap();
                assert!(line[name].is_number(), "{name} in {line}");
            }
        }
        assert_eq!(parsed[0]["Cadence"], "saturday_sf");
        assert_eq!(parsed[0][CYCLE_COMPLETE_METRIC], 0);
        assert_eq!(
            parsed[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Cadence"]])
        );
        assert_eq!(parsed[1]["Cadence"], "weekday_sf");
        assert_eq!(parsed[1][CYCLE_COMPLETE_METRIC], 1);
        assert_eq!(parsed[2]["ArtifactsFresh"], 3.0);
        assert_eq!(parsed[2]["ArtifactsMissing"], 1.0);
        assert_eq!(parsed[2]["AlertsSent"], 2.0);
        assert_eq!(parsed[2]["AlertsSilenced"], 4.0);
        assert_eq!(parsed[2]["AlertsEscalated"], 0.0);
        assert_eq!(parsed[2]["S3Requests"], 17.0);
        assert_eq!(parsed[2]["PassDurationSeconds"], 1.5);
    }
}
