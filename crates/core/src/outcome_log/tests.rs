//! The outcome log's rules: which cycles a pass closes and what their records say, and how a
//! reader treats bad objects.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::*;
use crate::classify::State;
use crate::ledger::{Ledger, LedgerTime};
use crate::registry::{Registry, RegistryEntry, Severity, parse_registry};
use crate::report::{ResultRow, RowContext};

fn at(t: &str) -> DateTime<Utc> {
    t.parse().unwrap()
}

fn registry() -> Registry {
    let text = "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  severity: critical\n  \
                created_at: 2020-01-01\n  grace_period_cycles: 0\n  sla_minutes_after_cron: 60\n\
                artifacts:\n  - artifact_id: a\n    s3_key_template: a/{date}.json\n    \
                cadence: weekday_sf\n    owner_repo: o\n";
    parse_registry("r.yaml", text.as_bytes()).unwrap()
}

/// The row a pass at `now` makes of artifact `a`, in the cycle at `now`.
fn row(registry: &Registry, now: &str, state: State, last_modified: Option<&str>) -> ResultRow {
    let RegistryEntry::Valid(spec) = &registry.entries[0] else {
        panic!("a valid entry")
    };
    let cycle = spec.cadence.cycle_at(at(now), &registry.calendar).unwrap();
    ResultRow {
        artifact_id: "a".into(),
        context: Arc::new(RowContext {
            owner_repo: None,
            cadence: Some(Arc::from("weekday_sf")),
            cycle_label: Some(Arc::from(cycle.label.as_str())),
            cycle_tick: Some(cycle.tick),
            s3_bucket: Some(Arc::from("bkt")),
        }),
        severity: Some(Severity::Critical),
        canonical_key: None,
        state,
        reason: String::new().into(),
        last_modified: last_modified.map(|t| at(t).into()),
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

/// Passes over Tuesday 2026-12-01 (the cycle ticks at 13:00 UTC, due 14:00), given as
/// `(now, state, LastModified, alerted)`; then the closing pass on Wednesday at 13:30.
fn close_tuesday(passes: &[(&str, State, Option<&str>, bool)]) -> Vec<OutcomeRecord> {
    let registry = registry();
    let mut ledger = Ledger::new();
    for (now, state, modified, alerted) in passes {
        let alerted: &[&str] = if *alerted { &["a"] } else { &[] };
        let rows = [row(&registry, now, *state, *modified)];
        ledger.advance(&rows, alerted, at(now), |_| true);
    }
    let wednesday = "2026-12-02T13:30:00Z";
    let rows = [row(&registry, wednesday, State::Missing, None)];
    closed_cycles(&ledger, &rows, &registry, at(wednesday))
}

#[test]
fn a_cycle_seen_landing_on_time_is_recorded_with_its_landing_and_due_time() {
    let records = close_tuesday(&[
        ("2026-12-01T13:15:00Z", State::Missing, None, false),
        (
            "2026-12-01T13:45:00Z",
            State::Fresh,
            Some("2026-12-01T13:40:07Z"),
            false,
        ),
    ]);
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(&*r.cycle_label, "2026-12-01");
    assert_eq!(r.tick.to_string(), "2026-12-01T13:00:00Z");
    assert_eq!(r.due_at.to_string(), "2026-12-01T14:00:00Z");
    assert_eq!(r.outcome, Outcome::OnTime);
    assert_eq!(r.landed_at.unwrap().to_string(), "2026-12-01T13:40:07Z");
    assert_eq!((r.on_time, r.minutes_late), (Some(true), Some(0)));
    assert_eq!(
        (r.expected, r.alerted, r.known_by),
        (true, false, KnownBy::Pass)
    );
    assert_eq!(&*r.s3_key, "a/2026-12-01.json");
    assert_eq!(r.recorded_at.to_string(), "2026-12-02T13:30:00Z");
    let line = r.to_line();
    assert!(
        line.starts_with(r#"{"schema_version":1,"artifact_id":"a","cadence":"weekday_sf","#),
        "{line}"
    );
    assert_eq!(serde_json::from_str::<OutcomeRecord>(&line).unwrap(), *r);
}

#[test]
fn a_late_landing_counts_its_minutes_from_the_last_modified_and_keeps_the_alert() {
    let records = close_tuesday(&[
        ("2026-12-01T14:15:00Z", State::Missing, None, true),
        (
            "2026-12-01T16:00:00Z",
            State::Fresh,
            Some("2026-12-01T15:31:59Z"),
            false,
        ),
    ]);
    let r = &records[0];
    assert_eq!(r.outcome, Outcome::Late);
    assert_eq!((r.on_time, r.minutes_late), (Some(false), Some(91)));
    assert!(r.alerted);
    assert!(r.answers());
}

#[test]
fn a_cycle_that_ended_missing_or_unknown_is_recorded_without_a_landing() {
    let missing = close_tuesday(&[("2026-12-01T15:00:00Z", State::Missing, None, true)]);
    assert_eq!(missing[0].outcome, Outcome::Missing);
    assert_eq!((missing[0].landed_at, missing[0].on_time), (None, None));
    assert!(!missing[0].answers(), "a missing cycle is probed again");
    let failed = close_tuesday(&[("2026-12-01T15:00:00Z", State::ProbeFailed, None, false)]);
    assert_eq!(failed[0].outcome, Outcome::Unknown);
    assert_eq!(failed[0].known_by, KnownBy::None);
}

/// A cycle that passes left unprobed while awaiting its object's event (object events on,
/// `ledger/awaiting.rs`) and that no probe saw before it closed: not known missing.
#[test]
fn a_cycle_left_awaiting_its_event_is_recorded_unknown_not_missing() {
    let registry = registry();
    let mut ledger = Ledger::new();
    let awaiting = ResultRow {
        awaiting_event: true,
        ..row(&registry, "2026-12-01T13:15:00Z", State::Missing, None)
    };
    ledger.advance(&[awaiting], &[], at("2026-12-01T13:15:00Z"), |_| true);
    let wednesday = "2026-12-02T13:30:00Z";
    let rows = [row(&registry, wednesday, State::Missing, None)];
    let records = closed_cycles(&ledger, &rows, &registry, at(wednesday));
    assert_eq!(records[0].outcome, Outcome::Unknown, "{records:?}");
    assert_eq!(records[0].known_by, KnownBy::None);
}

#[test]
fn a_pass_in_the_same_cycle_closes_nothing_and_a_first_pass_neither() {
    let registry = registry();
    let mut ledger = Ledger::new();
    let first = [row(&registry, "2026-12-01T15:00:00Z", State::Missing, None)];
    assert!(closed_cycles(&ledger, &first, &registry, at("2026-12-01T15:00:00Z")).is_empty());
    ledger.advance(&first, &[], at("2026-12-01T15:00:00Z"), |_| true);
    let again = [row(&registry, "2026-12-01T15:15:00Z", State::Missing, None)];
    assert!(closed_cycles(&ledger, &again, &registry, at("2026-12-01T15:15:00Z")).is_empty());
}

#[test]
fn a_monitor_down_for_days_still_finds_the_cycle_it_last_saw() {
    let registry = registry();
    let mut ledger = Ledger::new();
    let tuesday = [row(&registry, "2026-12-01T15:00:00Z", State::Missing, None)];
    ledger.advance(&tuesday, &[], at("2026-12-01T15:00:00Z"), |_| true);
    let monday = "2026-12-07T15:00:00Z";
    let rows = [row(&registry, monday, State::Missing, None)];
    let records = closed_cycles(&ledger, &rows, &registry, at(monday));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].tick.to_string(), "2026-12-01T13:00:00Z");
}

fn line(id: &str, tick: &str, outcome: &str, landed: Option<&str>) -> String {
    let landed = landed.map_or("null".to_string(), |t| format!("\"{t}\""));
    format!(
        r#"{{"schema_version":1,"artifact_id":"{id}","cadence":"weekday_sf","cycle_label":"x","tick":"{tick}","due_at":"{tick}","expected":true,"outcome":"{outcome}","landed_at":{landed},"on_time":null,"minutes_late":null,"alerted":false,"known_by":"pass","s3_bucket":"b","s3_key":"k","recorded_at":"{tick}"}}"#
    )
}

#[test]
fn bad_objects_are_read_as_far_as_they_can_be_and_say_what_was_skipped() {
    let now = at("2026-12-04T12:00:00Z");
    let good = line(
        "a",
        "2026-12-01T13:00:00Z",
        "on_time",
        Some("2026-12-01T13:10:00Z"),
    );
    // (what the object holds, records kept, what a warning says)
    let cases: [(String, usize, Option<&str>); 6] = [
        (format!("{good}\n"), 1, None),
        (
            format!("{good}\n{}", &good[..40]),
            1,
            Some("1 unreadable line(s)"),
        ),
        ("\u{1f}\u{8b}garbage".to_string(), 0, Some("line 1:")),
        (
            good.replace(r#""schema_version":1"#, r#""schema_version":2"#),
            0,
            Some("records of schema version 2"),
        ),
        (
            r#"{"schema_version":3,"something":"else"}"#.to_string(),
            0,
            Some("schema version 3"),
        ),
        (
            line("a", "2026-12-05T13:00:00Z", "missing", None),
            0,
            Some("1 record(s) of cycles that had not ticked yet"),
        ),
    ];
    for (text, kept, warning) in cases {
        let read = read_object("s3://r/outcomes/date=2026-12-01/x.ndjson.gz", &text, now);
        assert_eq!(read.records.len(), kept, "{text}");
        match warning {
            None => assert!(read.warnings.is_empty(), "{:?}", read.warnings),
            Some(w) => {
                assert_eq!(read.warnings.len(), 1, "{:?}", read.warnings);
                assert!(read.warnings[0].contains(w), "{:?}", read.warnings);
                assert!(
                    read.warnings[0].starts_with("s3://r/outcomes/"),
                    "names the object"
                );
            }
        }
    }
}

#[test]
fn a_cycle_recorded_twice_collapses_and_a_landing_wins_over_a_miss() {
    let now = at("2026-12-04T12:00:00Z");
    let tick = "2026-12-01T13:00:00Z";
    let missed = line("a", tick, "missing", None);
    let landed = line("a", tick, "late", Some("2026-12-01T16:00:00Z"));
    let mut index = LogIndex::default();
    index.add(read_object("one", &format!("{missed}\n{missed}"), now).records);
    index.add(read_object("two", &landed, now).records);
    index.add(read_object("three", &line("b", tick, "missing", None), now).records);
    assert_eq!((index.records, index.duplicates), (2, 2));
    let a = index.get("a", at(tick)).unwrap();
    assert_eq!(a.outcome, Outcome::Late);
    assert_eq!(
        a.landed_at,
        Some(LedgerTime::from_utc(at("2026-12-01T16:00:00Z")).unwrap())
    );
    assert!(index.get("a", at("2026-11-30T13:00:00Z")).is_none());
}

#[test]
fn object_keys_are_partitioned_by_the_pass_s_day_and_never_collide() {
    let key = object_key("_fm/", at("2026-12-04T12:00:01.250Z"), 0xabc);
    assert_eq!(
        key,
        "_fm/outcomes/date=2026-12-04/20261204T120001.250Z-00000abc.ndjson.gz"
    );
    assert_eq!(partition_date(&key), Some("2026-12-04".parse().unwrap()));
    let one: Vec<Box<str>> = vec!["a".into()];
    let two: Vec<Box<str>> = vec!["b".into()];
    assert_ne!(body_hash(&one), body_hash(&two));
}

#[test]
fn a_sets_cycle_is_recorded_with_the_counts_its_last_listing_saw() {
    let text = "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  severity: critical\n  \
                created_at: 2020-01-01\n  grace_period_cycles: 0\n  sla_minutes_after_cron: 60\n\
                artifacts:\n  - artifact_id: a\n    s3_key_template: a/{date}/{partition}.json\n    \
                partitions: [v, w, x, y, z]\n    cadence: weekday_sf\n    owner_repo: o\n";
    let set = parse_registry("r.yaml", text.as_bytes()).unwrap();
    let not_a_set = registry();
    let counts = |total: u32, written: u32| crate::classify::SetSummary {
        total,
        written,
        missing: total - written,
        stale: 0,
        first_missing: Box::new([]),
        complete_listing: None,
    };
    /// One pass of Tuesday: now, state, the set's counts (total, written) when it listed it.
    type SetPass<'a> = (&'a str, State, Option<(u32, u32)>);
    /// The registry, the passes of Tuesday, and the counts the closing record carries.
    type Case<'a> = (&'a Registry, Vec<SetPass<'a>>, Option<(u32, u32)>);
    let cases: Vec<Case<'_>> = vec![
        (
            &set,
            vec![
                ("2026-12-01T13:15:00Z", State::Missing, Some((5, 2))),
                ("2026-12-01T15:00:00Z", State::Missing, Some((5, 4))),
                // A pass that did not list it (a failed listing, a deadline pass) keeps them.
                ("2026-12-01T16:00:00Z", State::Missing, None),
            ],
            Some((5, 4)),
        ),
        (
            &set,
            vec![("2026-12-01T15:00:00Z", State::Missing, None)],
            None,
        ),
        // Counts left from when it was a set are not those of an artifact that is not one.
        (
            &not_a_set,
            vec![("2026-12-01T15:00:00Z", State::Missing, Some((5, 4)))],
            None,
        ),
    ];
    for (registry, passes, expected) in cases {
        let mut ledger = Ledger::new();
        for (now, state, set) in &passes {
            let mut row = row(registry, now, *state, None);
            row.set_set_summary(set.map(|(t, w)| Box::new(counts(t, w))));
            ledger.advance(&[row], &[], at(now), |_| true);
        }
        let wednesday = "2026-12-02T13:30:00Z";
        let mut next = row(registry, wednesday, State::Missing, None);
        next.set_set_summary(Some(Box::new(counts(5, 0))));
        let records = closed_cycles(&ledger, &[next], registry, at(wednesday));
        let r = &records[0];
        assert_eq!(r.set_total.zip(r.set_written), expected, "{passes:?}");
        assert_eq!(r.set_cycle().map(|s| s.complete()), expected.map(|_| false));
        let line = r.to_line();
        assert!(
            line.ends_with(match expected {
                Some(_) => r#","set_total":5,"set_written":4}"#,
                None => r#","set_total":null,"set_written":null}"#,
            }),
            "{line}"
        );
    }
}
