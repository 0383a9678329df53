//! The runs merged by place answer each artifact as one index of every record did.

use super::*;
use crate::ledger::LedgerTime;
use crate::outcome_log::{KnownBy, Outcome};

/// 2026-12-01T10:00:00Z in Unix seconds.
const TICK: u32 = 1_796_119_200;

fn time(seconds: u32) -> LedgerTime {
    LedgerTime::saturating_from(chrono::DateTime::from_timestamp(i64::from(seconds), 0).unwrap())
}

/// A deterministic mix of records: 12 artifacts, 5 cycles each, every cycle recorded 0–3
/// times (missing, landed at one of two times, nothing expected), some with a set's counts,
/// in an order that is neither by artifact nor by cycle.
fn records() -> Vec<(usize, Recorded, Option<SetCycle>)> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut out = Vec::new();
    for _ in 0..400 {
        let artifact = next(12) as usize;
        let tick = TICK - 86_400 * next(5) as u32;
        let (outcome, landed) = match next(4) {
            0 => (Outcome::Missing, None),
            1 => (Outcome::OnTime, Some(tick + 60 * next(2) as u32)),
            2 => (Outcome::Late, Some(tick + 7_200)),
            _ => (Outcome::NotExpected, None),
        };
        let recorded = Recorded {
            tick: time(tick),
            landed_at: landed.map(time),
            checked_at: time(tick + 3_600 * (1 + next(3) as u32)),
            outcome,
            alerted: next(2) == 0,
            known_by: KnownBy::Pass,
            key_fingerprint: next(3),
        };
        let set = artifact.is_multiple_of(3).then(|| SetCycle {
            total: 10,
            written: next(11) as u32,
        });
        out.push((artifact, recorded, set));
    }
    out
}

fn id(artifact: usize) -> String {
    format!("a{artifact}")
}

/// Every cycle `index` holds of `id` (of the ticks [`records`] uses), with its set's counts.
fn held(index: &LogIndex, id: &str) -> Vec<(Recorded, Option<SetCycle>)> {
    (0..5)
        .map(|d| time(TICK - 86_400 * d).to_utc())
        .filter_map(|tick| Some((*index.get(id, tick)?, index.set_cycle(id, tick))))
        .collect()
}

/// What one index of every record (added in order) moves into a scan's index that already
/// holds `before` (the compacted log's line), per artifact in `plan` order.
fn whole(plan: &[usize], before: &LogIndex) -> Vec<Vec<(Recorded, Option<SetCycle>)>> {
    let mut index = LogIndex::default();
    for (artifact, recorded, set) in records() {
        if index.add_recorded(&id(artifact), recorded)
            && let Some(set) = set
        {
            index.add_set_cycle(&id(artifact), recorded.tick, set);
        }
    }
    (plan.iter())
        .map(|a| {
            let mut into = before.clone();
            index.move_artifact(&id(*a), &mut into);
            held(&into, &id(*a))
        })
        .collect()
}

/// The same through runs of `run_records`.
fn merged(
    plan: &[usize],
    before: &LogIndex,
    run_records: usize,
) -> Vec<Vec<(Recorded, Option<SetCycle>)>> {
    let place = |a: usize| plan.iter().position(|p| *p == a);
    let mut spilling = Spilling::with_run_records(run_records);
    for (artifact, recorded, set) in records() {
        if let Some(at) = place(artifact) {
            spilling.push(at, &recorded, set);
        }
    }
    let mut by_place = spilling.finish();
    (plan.iter().enumerate())
        .map(|(at, a)| {
            let mut into = before.clone();
            by_place.take(&id(*a), at, &mut into);
            held(&into, &id(*a))
        })
        .collect()
}

/// A compacted log's lines for a few artifacts: one cycle each, missing.
fn compacted_lines() -> LogIndex {
    let mut before = LogIndex::default();
    for a in [0, 4, 7] {
        let recorded = Recorded {
            tick: time(TICK),
            landed_at: None,
            checked_at: time(TICK + 7_200),
            outcome: Outcome::Missing,
            alerted: true,
            known_by: KnownBy::Recheck,
            key_fingerprint: 1,
        };
        before.add_recorded(&id(a), recorded);
    }
    before
}

#[test]
fn runs_of_any_size_answer_each_artifact_as_one_index_did() {
    // The plan in another order than the artifacts' numbers, two of them not planned.
    let plan = [5, 0, 11, 3, 8, 1, 9, 4, 7, 2];
    let before = compacted_lines();
    let expected = whole(&plan, &before);
    assert!(
        expected.iter().all(|cycles| !cycles.is_empty()),
        "every planned artifact has records"
    );
    let landed = expected
        .iter()
        .flatten()
        .filter(|(r, _)| r.landed_at.is_some());
    assert!(landed.count() > 10, "landings won over misses");
    for run_records in [1, 2, 7, 64, RUN_RECORDS] {
        assert_eq!(
            merged(&plan, &before, run_records),
            expected,
            "runs of {run_records}"
        );
    }
}

#[test]
fn records_of_artifacts_not_asked_for_are_passed_over() {
    let plan: Vec<usize> = (0..12).collect();
    let mut spilling = Spilling::with_run_records(5);
    for (artifact, recorded, set) in records() {
        spilling.push(artifact, &recorded, set);
    }
    assert_eq!(spilling.records, 400);
    let mut by_place = spilling.finish();
    // The scan stopped asking after a3 (its deadline), then a scan of a9 alone.
    let mut into = LogIndex::default();
    for at in 0..4 {
        by_place.take(&id(at), at, &mut into);
    }
    let mut a9 = LogIndex::default();
    by_place.take(&id(9), 9, &mut a9);
    let expected = whole(&plan, &LogIndex::default());
    assert_eq!(held(&a9, "a9"), expected[9]);
    assert!(held(&a9, "a5").is_empty(), "a5's records were passed over");
}

#[test]
fn a_record_survives_its_run_in_the_temp_dir() {
    let held = Held {
        place: 123_456,
        cycle: PackedCycle(TICK, TICK + 60, TICK + 3_600, 0b1_1010, u64::MAX - 3),
        set: Some(SetCycle {
            total: 7,
            written: 5,
        }),
    };
    let mut bytes = Vec::new();
    held.encode(&mut bytes).unwrap();
    held.encode(&mut bytes).unwrap();
    let without_set = Held { set: None, ..held };
    without_set.encode(&mut bytes).unwrap();
    assert_eq!(bytes.len(), 3 * ENCODED);
    let back: Vec<Held> = (bytes.chunks_exact(ENCODED))
        .map(|c| Held::decode(c.try_into().unwrap()))
        .collect();
    assert_eq!(back, [held, held, without_set]);
}
