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
        last_modified: last_modified.map(|t| t.parse::<DateTime<Utc>>().unwrap().into()),
        sla_violated_by_minutes: 0,
        recovery_substituted: false,
        due_at: None,
        alerting: false,
        last_probed_at: None,
        carried: None,
        policy: None,
        awaiting_event: false,
        extras: None,
    }
}

fn at(t: &str) -> DateTime<Utc> {
    t.parse().unwrap()
}

fn lt(t: &str) -> LedgerTime {
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
    assert_eq!(a.first_missing_at, Some(lt("2026-06-01T14:00:00Z")));
    assert_eq!(a.last_alert_at, Some(lt("2026-06-01T15:00:00Z")));
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
        Some(lt("2026-06-02T14:00:00Z"))
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
        Some(lt("2026-06-02T14:30:00Z")),
        "the first confirmation"
    );
    assert_eq!(a.last_modified, Some(lt("2026-06-02T14:20:00Z")));
    assert_eq!(a.last_probe_at, Some(lt("2026-06-02T14:45:00Z")));
    assert_eq!(
        a.last_alert_at,
        Some(lt("2026-06-01T15:00:00Z")),
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

#[test]
fn every_field_reads_and_writes_back_byte_for_byte_in_id_order() {
    let text = r#"{"version":1,"written_at":"2026-06-02T14:45:00Z","artifacts":{"a":{"cycle":"2026-06-02","first_missing_at":"2026-06-02T14:00:00Z","fresh_at":"2026-06-02T14:30:00Z","last_modified":"2026-06-02T14:20:00Z","missed_cycles":3,"last_alert_at":"1970-01-01T00:00:00Z","last_probe_at":"2106-02-07T06:28:14Z","state":"fresh","last_fresh_at":"2026-06-02T14:30:00Z","written":true,"never_written_since":"2026-05-01T00:00:00Z","probe_fingerprint":0,"alert_out":true,"resolved_out":true},"b":{"cycle":"2026-06-02","state":"missing","probe_fingerprint":18446744073709551615},"b0":{"cycle":"2026-W23","state":"probe_failed"}}}"#;
    let ledger: Ledger = serde_json::from_str(text).unwrap();
    assert_eq!(ledger.artifacts["a"].probe_fingerprint(), Some(0));
    assert_eq!(ledger.artifacts["b"].probe_fingerprint(), Some(u64::MAX));
    assert_eq!(ledger.artifacts["b0"].probe_fingerprint(), None);
    assert_eq!(serde_json::to_string(&ledger).unwrap(), text);
}

#[test]
fn entries_of_one_cycle_share_one_label_and_different_labels_stay_apart() {
    let text = r#"{"version":1,"artifacts":{"a":{"cycle":"d1","state":"missing"},"b":{"cycle":"d1","state":"missing"},"c":{"cycle":"d10","state":"missing"},"d":{"cycle":"D1","state":"missing"}}}"#;
    let mut ledger: Ledger = serde_json::from_str(text).unwrap();
    let label = |l: &Ledger, id: &str| l.artifacts[id].cycle.clone();
    assert!(Arc::ptr_eq(&label(&ledger, "a"), &label(&ledger, "b")));
    assert_eq!(&*label(&ledger, "c"), "d10");
    assert_eq!(&*label(&ledger, "d"), "D1");
    // A pass moves a, b and a new e to d2 through rows that each carry their own label.
    let rows = ["a", "e", "b"].map(|id| row(id, "d2", State::Missing, None));
    ledger.advance(&rows, &[], at("2026-06-02T14:00:00Z"), |_| true);
    assert!(Arc::ptr_eq(&label(&ledger, "a"), &label(&ledger, "b")));
    assert!(Arc::ptr_eq(&label(&ledger, "a"), &label(&ledger, "e")));
    assert_eq!(&*label(&ledger, "a"), "d2");
    assert_eq!(
        &*label(&ledger, "c"),
        "d10",
        "entries the pass did not judge keep theirs"
    );
}

#[test]
fn a_file_out_of_id_order_or_with_a_repeated_id_reads_as_a_map_would() {
    let text = r#"{"version":1,"artifacts":{"b":{"cycle":"d1","state":"missing"},"a":{"cycle":"d1","state":"stale"},"b":{"cycle":"d2","state":"fresh"}}}"#;
    let ledger: Ledger = serde_json::from_str(text).unwrap();
    assert_eq!(ledger.artifacts.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(
        &*ledger.artifacts["b"].cycle, "d2",
        "the last one given wins"
    );
    assert_eq!(
        serde_json::to_string(&ledger).unwrap(),
        r#"{"version":1,"artifacts":{"a":{"cycle":"d1","state":"stale"},"b":{"cycle":"d2","state":"fresh"}}}"#
    );
}

#[test]
fn new_artifacts_join_in_id_order_and_a_repeated_row_advances_its_entry_twice() {
    let mut ledger = Ledger::new();
    let first = ["m", "c"].map(|id| row(id, "d1", State::Missing, None));
    ledger.advance(&first, &[], at("2026-06-01T14:00:00Z"), |_| true);
    let second = [
        row("z", "d1", State::Missing, None),
        row("m", "d1", State::Missing, None),
        row("a", "d1", State::Missing, None),
        row("a", "d1", State::Fresh, Some("2026-06-01T14:10:00Z")),
    ];
    ledger.advance(&second, &["a"], at("2026-06-01T14:15:00Z"), |_| true);
    assert_eq!(
        ledger.artifacts.keys().collect::<Vec<_>>(),
        ["a", "c", "m", "z"]
    );
    let a = &ledger.artifacts["a"];
    assert_eq!(a.first_missing_at, Some(lt("2026-06-01T14:15:00Z")));
    assert_eq!(a.fresh_at, Some(lt("2026-06-01T14:15:00Z")));
    assert_eq!(a.state, State::Fresh);
    assert_eq!(a.last_alert_at, Some(lt("2026-06-01T14:15:00Z")));
    assert_eq!(
        ledger.artifacts["m"].first_missing_at,
        Some(lt("2026-06-01T14:00:00Z"))
    );
}

#[test]
fn an_entry_stays_within_64_bytes() {
    // A million entries are held through a pass (BENCHMARKS.md, "Where the bytes go").
    assert!(
        std::mem::size_of::<LedgerEntry>() <= 64,
        "{}",
        std::mem::size_of::<LedgerEntry>()
    );
}

#[test]
fn a_ledger_left_alerting_only_by_missing_stale_or_unprobed_artifacts() {
    let mut ledger = Ledger::new();
    assert!(!ledger.left_something_alerting(), "empty");
    let now = at("2026-06-03T12:00:00Z");
    let fresh = row(
        "a",
        "2026-06-03",
        State::Fresh,
        Some("2026-06-03T10:00:00Z"),
    );
    let grace = row("b", "2026-06-03", State::GracePeriod, None);
    ledger.advance(&[fresh, grace], &[], now, |_| true);
    assert!(!ledger.left_something_alerting(), "fresh and in grace");
    for state in [State::Missing, State::Stale, State::ProbeFailed] {
        let mut ledger = ledger.clone();
        let row = row("c", "2026-06-03", state, None);
        ledger.advance(&[row], &[], now, |_| true);
        assert!(ledger.left_something_alerting(), "{state:?}");
    }
}

#[test]
fn only_an_artifact_left_missing_or_stale_foresees_its_recovery_key() {
    let mut ledger = Ledger::new();
    let now = at("2026-06-03T12:00:00Z");
    let rows = [
        row(
            "fresh",
            "2026-06-03",
            State::Fresh,
            Some("2026-06-03T10:00:00Z"),
        ),
        row("missing", "2026-06-03", State::Missing, None),
        row("stale", "2026-06-03", State::Stale, None),
        row("failed", "2026-06-03", State::ProbeFailed, None),
        row("grace", "2026-06-03", State::GracePeriod, None),
    ];
    ledger.advance(&rows, &[], now, |_| true);
    let foreseen: Vec<&str> = ["fresh", "missing", "stale", "failed", "grace", "unknown"]
        .into_iter()
        .filter(|id| ledger.left_missing_or_stale(id))
        .collect();
    assert_eq!(foreseen, ["missing", "stale"]);
}
/// A pass with object events on leaves a cycle unprobed before its deadline
/// (`ledger/awaiting.rs`): the entry moves to the cycle without a probe or a miss seen, and a
/// cycle that ends so is not counted missed.
#[test]
fn a_row_awaiting_its_event_is_not_a_probe_nor_a_miss() {
    let mut ledger = Ledger::new();
    let known = |_: &str| true;
    let probed = ResultRow {
        last_probed_at: Some(at("2026-06-01T14:00:00Z").into()),
        ..row("a", "d1", State::Missing, None)
    };
    ledger.advance(&[probed], &[], at("2026-06-01T14:00:00Z"), known);
    let awaiting = |cycle| ResultRow {
        awaiting_event: true,
        ..row("a", cycle, State::Missing, None)
    };
    ledger.advance(&[awaiting("d2")], &[], at("2026-06-02T13:15:00Z"), known);
    let a = &ledger.artifacts["a"];
    assert_eq!(&*a.cycle, "d2");
    assert_eq!(a.state, State::Missing);
    assert_eq!(
        a.last_probe_at,
        Some(lt("2026-06-01T14:00:00Z")),
        "d1's probe"
    );
    assert_eq!(a.first_missing_at, None, "not seen missing");
    assert_eq!(a.missed_cycles, 1, "d1 was seen missing");
    // d2 ends without a probe (say the monitor did not run at its deadline): not a miss.
    ledger.advance(&[awaiting("d3")], &[], at("2026-06-03T13:15:00Z"), known);
    assert_eq!(ledger.artifacts["a"].missed_cycles, 0);
}
