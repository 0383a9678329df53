//! A set judged from its listing, as a table: which keys the listing holds (since the tick,
//! before it, not at all), `min_complete`, and the verdict and reason a user sees.

use super::*;
use crate::calendar::TradingCalendar;
use crate::classify::NoLog;
use crate::object::{ListedObject, PrefixListing, StoreError};
use crate::registry::partitions::Partitions;
use crate::registry::test_specs::weekday_sf;

/// A `weekday_sf` set (tick 13:00 UTC, due 16:00) of the tickers given.
fn spec(tickers: &[&str], min_complete: Option<f64>) -> ArtifactSpec {
    let values = tickers.iter().map(|t| Box::from(*t)).collect();
    weekday_sf("p/{date}/{partition}.parquet", |fields| {
        fields.partitions = Some(Partitions::new(values));
        fields.min_complete = min_complete;
    })
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn listed(objects: &[(&str, &str)]) -> ListingOutcome {
    Ok(PrefixListing {
        objects: (objects.iter())
            .map(|(key, written)| ListedObject {
                key: key.to_string(),
                meta: ObjectMeta {
                    last_modified: at(written),
                    size: Some(1),
                    etag: None,
                },
            })
            .collect(),
        pages: 1,
        complete: true,
    })
}

fn judged(spec: &ArtifactSpec, now: &str, listing: &ListingOutcome) -> Classification {
    let now = at(now);
    let cycle = (spec.cadence)
        .cycle_at(now, &TradingCalendar::nyse([]))
        .unwrap();
    let keys = ResolvedKeys::resolve(spec, &cycle);
    let set = set_keys(spec, &cycle).unwrap();
    judge_set(spec, &cycle, &keys, now, (&set, listing), &mut NoLog)
}

const NEW: &str = "2026-06-05T13:30:00Z";
const OLD: &str = "2026-06-04T13:30:00Z";
const PAST_SLA: &str = "2026-06-05T16:30:00Z";

#[test]
#[rustfmt::skip]
fn a_set_is_one_verdict_naming_its_missing_and_stale_keys() {
    let abc = ["A", "B", "C"];
    let all_new = [
        ("p/2026-06-05/A.parquet", NEW),
        ("p/2026-06-05/B.parquet", NEW),
        ("p/2026-06-05/C.parquet", NEW),
    ];
    let one_old = [
        ("p/2026-06-05/A.parquet", NEW),
        ("p/2026-06-05/B.parquet", OLD),
        ("p/2026-06-05/C.parquet", NEW),
    ];
    let cases: [(&str, ArtifactSpec, ListingOutcome, State, bool, &str); 6] = [
        ("complete", spec(&abc, None), listed(&all_new), State::Fresh, false,
         "set s3://bkt/p/2026-06-05/: 3 of 3 keys written since the tick (1 page)"),
        ("two missing", spec(&abc, None), listed(&all_new[..1]), State::Missing, true,
         "set s3://bkt/p/2026-06-05/: 1 of 3 keys written since the tick (1 page); 2 missing: \
          B, C; 30 min past its SLA (due 2026-06-05T16:00:00Z)"),
        ("all there, one old", spec(&abc, None), listed(&one_old), State::Stale, true,
         "2 of 3 keys written since the tick (1 page); 1 stale: B; 30 min past"),
        ("min_complete met", spec(&abc, Some(0.6)), listed(&all_new[..2]), State::Fresh, false,
         "2 of 3 keys written since the tick (1 page); 1 missing: C; at least 60% is enough"),
        ("min_complete not met", spec(&abc, Some(0.9)), listed(&all_new[..2]), State::Missing,
         true, "1 missing: C"),
        ("a failed listing", spec(&abc, None), Err(StoreError::Server { status: 500 }),
         State::ProbeFailed, true, "LIST s3://bkt/p/2026-06-05/: S3 server error (HTTP 500)"),
    ];
    for (name, spec, listing, state, alerting, said) in cases {
        let verdict = judged(&spec, PAST_SLA, &listing);
        let counted = verdict.set.as_ref().map(|s| (s.written, s.missing, s.stale));
        let expected = match name {
            "complete" => Some((3, 0, 0)),
            "two missing" => Some((1, 2, 0)),
            "all there, one old" => Some((2, 0, 1)),
            "a failed listing" => None,
            _ => Some((2, 1, 0)),
        };
        assert_eq!(counted, expected, "{name}");
        assert_eq!(verdict.state, state, "{name}: {}", verdict.reason);
        assert_eq!(verdict.is_alerting(), alerting, "{name}");
        assert!(verdict.reason.contains(said), "{name}: {}", verdict.reason);
    }
}

#[test]
fn the_reason_names_ten_missing_keys_and_counts_the_rest() {
    let tickers: Vec<String> = (1..=25).map(|n| format!("T{n:02}")).collect();
    let refs: Vec<&str> = tickers.iter().map(String::as_str).collect();
    let verdict = judged(&spec(&refs, None), PAST_SLA, &listed(&[]));
    assert!(
        verdict.reason.contains(
            "0 of 25 keys written since the tick (1 page); 25 missing: T01, T02, T03, T04, \
             T05, T06, T07, T08, T09, T10 and 15 more;"
        ),
        "{}",
        verdict.reason
    );
}

#[test]
fn a_capped_listing_is_never_judged_from_part_of_the_keys() {
    let capped = Ok(PrefixListing {
        objects: Vec::new(),
        pages: 10,
        complete: false,
    });
    let verdict = judged(&spec(&["A"], None), PAST_SLA, &capped);
    assert_eq!(verdict.state, State::ProbeFailed);
    assert!(
        verdict.reason.contains("more than 10 pages"),
        "{}",
        verdict.reason
    );
}

#[test]
fn the_prefix_is_what_every_key_shares() {
    let keys = ["p/2026-06-05/AAPL.parquet", "p/2026-06-05/AMZN.parquet"];
    assert_eq!(common_prefix(keys.into_iter()), "p/2026-06-05/A");
    assert_eq!(common_prefix(["x/é1", "x/é2"].into_iter()), "x/é");
    assert_eq!(common_prefix(["x/éa", "x/èb"].into_iter()), "x/");
}

#[test]
fn a_settled_set_gets_the_verdict_its_complete_listing_gave_while_its_keys_are_the_same() {
    let abc = spec(&["A", "B", "C"], None);
    let all_new = [
        ("p/2026-06-05/A.parquet", NEW),
        ("p/2026-06-05/B.parquet", NEW),
        ("p/2026-06-05/C.parquet", NEW),
    ];
    let listing_said = judged(&abc, PAST_SLA, &listed(&all_new));
    let kept = (listing_said.set.as_ref())
        .and_then(|s| s.complete_listing)
        .expect("a complete listing is kept");
    assert_eq!(kept.pages, 1);
    let cycle = (abc.cadence)
        .cycle_at(at(PAST_SLA), &TradingCalendar::nyse([]))
        .unwrap();
    let set = set_keys(&abc, &cycle).unwrap();
    let settled = judge_settled_set(&abc, &cycle, &set, kept, at(NEW)).unwrap();
    assert_eq!(settled, listing_said);

    // Another value, or another bucket: other keys, listed again.
    let abd = spec(&["A", "B", "D"], None);
    let other = set_keys(&abd, &cycle).unwrap();
    assert_eq!(judge_settled_set(&abd, &cycle, &other, kept, at(NEW)), None);
    let moved = ArtifactSpec {
        s3_bucket: "elsewhere".into(),
        ..abc.clone()
    };
    assert_eq!(judge_settled_set(&moved, &cycle, &set, kept, at(NEW)), None);
    // A newest LastModified before the tick is no proof of this cycle.
    assert_eq!(judge_settled_set(&abc, &cycle, &set, kept, at(OLD)), None);

    // A listing with a key missing, or old, keeps nothing to settle with.
    let (partial, old) = (
        &all_new[..2],
        [all_new[0], all_new[1], ("p/2026-06-05/C.parquet", OLD)],
    );
    for objects in [partial, &old[..]] {
        let verdict = judged(&abc, PAST_SLA, &listed(objects));
        assert_eq!(verdict.set.unwrap().complete_listing, None);
    }
}
