//! The ledger's rules, pass by pass, with a fixed clock.

use std::sync::Arc;

use super::*;
use crate::registry::Severity;

fn row(id: &str, cycle: &str, state: State, last_modified: Option<&str>) -> ResultRow {
    ResultRow {
        artifact_id: id.to_string().into(),
        context: std::sync::Arc::new(crate::report::RowContext {
            owner_repo: None,
            cadence: Some(Arc::from("weekday_sf")),
            cycle_label: Some(Arc::from(cycle)),
            cycle_tick: None,
            s3_bucket: None,
        }),
        severity: Some(Severity::Critical),
        canonical_key: None,
        state,
        reason: String::new().into(),
        last_modified: last_modified.map(|t| t.parse().unwrap()),
        sla_violated_by_minutes: 0,
        recovery_substituted: false,
        due_at: None,
        alerting: false,
        last_probed_at: None,
        extensions: None,
        policy: None,
        extras: None,
    }
}

fn at(t: &str) -> DateTime<Utc> {
    t.parse().unwrap()
}

#[test]
fn a_cycle_is_remembered_pass_by_pass_and_misses_are_counted_across_cycles() {
    let mut ledger = Ledger::new();
    let known = |_: &str| true;
    // Day 1: missing at 14:00, alerted at 15:00, never fresh.
    ledger.advance(
        &[row("a", "d1", State::Missing, None)],
        &[],
        at("2026-06-01T14:00:00Z"),
        known,
    );
    ledger.advance(
        &[row("a", "d1", State::Missing, None)],
        &["a"],
        at("2026-06-01T15:00:00Z"),
        known,
    );
    let a = &ledger.artifacts["a"];
    assert_eq!(a.first_missing_at, Some(at("2026-06-01T14:00:00Z")));
    assert_eq!(a.last_alert_at, Some(at("2026-06-01T15:00:00Z")));
    assert_eq!(a.missed_cycles, 0);
    // Day 2: the missed day counts; fresh later in the day is remembered with its LastModified.
    ledger.advance(
        &[row("a", "d2", State::Missing, None)],
        &[],
        at("2026-06-02T14:00:00Z"),
        known,
    );
    assert_eq!(ledger.artifacts["a"].missed_cycles, 1);
    assert_eq!(
        ledger.artifacts["a"].first_missing_at,
        Some(at("2026-06-02T14:00:00Z"))
    );
    let landed = Some("2026-06-02T14:20:00Z");
    ledger.advance(
        &[row("a", "d2", State::Fresh, landed)],
        &[],
        at("2026-06-02T14:30:00Z"),
        known,
    );
    ledger.advance(
        &[row("a", "d2", State::Fresh, landed)],
        &[],
        at("2026-06-02T14:45:00Z"),
        known,
    );
    let a = &ledger.artifacts["a"];
    assert_eq!(
        a.fresh_at,
        Some(at("2026-06-02T14:30:00Z")),
        "the first confirmation"
    );
    assert_eq!(a.last_modified, Some(at("2026-06-02T14:20:00Z")));
    assert_eq!(a.last_probe_at, Some(at("2026-06-02T14:45:00Z")));
    assert_eq!(
        a.last_alert_at,
        Some(at("2026-06-01T15:00:00Z")),
        "kept across cycles"
    );
    // Day 3: a fresh day resets the count.
    ledger.advance(
        &[row("a", "d3", State::Missing, None)],
        &[],
        at("2026-06-03T14:00:00Z"),
        known,
    );
    assert_eq!(ledger.artifacts["a"].missed_cycles, 0);
}

#[test]
fn closed_days_and_grace_are_not_probes_and_removed_artifacts_are_forgotten() {
    let mut ledger = Ledger::new();
    ledger.advance(
        &[
            row("closed", "d1", State::Fresh, None),
            row("new", "d1", State::GracePeriod, None),
            row("gone", "d1", State::Missing, None),
        ],
        &[],
        at("2026-07-03T14:00:00Z"),
        |_| true,
    );
    assert_eq!(ledger.artifacts["closed"].last_probe_at, None);
    assert_eq!(
        ledger.artifacts["closed"].fresh_at, None,
        "nothing was seen"
    );
    assert_eq!(ledger.artifacts["new"].last_probe_at, None);
    ledger.advance(&[], &[], at("2026-07-03T14:15:00Z"), |id| id != "gone");
    assert!(!ledger.artifacts.contains_key("gone"));
    assert!(ledger.artifacts.contains_key("closed"));
}

#[test]
fn the_file_is_compact_and_reads_back() {
    let mut ledger = Ledger::new();
    ledger.advance(
        &[row("a", "d1", State::Missing, None)],
        &["a"],
        at("2026-06-01T14:00:00Z"),
        |_| true,
    );
    let text = serde_json::to_string(&ledger).unwrap();
    assert_eq!(
        text,
        r#"{"version":1,"written_at":"2026-06-01T14:00:00Z","artifacts":{"a":{"cycle":"d1","first_missing_at":"2026-06-01T14:00:00Z","last_alert_at":"2026-06-01T14:00:00Z","last_probe_at":"2026-06-01T14:00:00Z","state":"missing"}}}"#
    );
    let back: Ledger = serde_json::from_str(&text).unwrap();
    assert_eq!(back, ledger);
}
