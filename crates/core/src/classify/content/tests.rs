//! The content checks as one table: what the HEAD answered (size, ETag, written since the
//! tick or not), what the ledger remembered, the checks set, and the verdict a user sees.

use super::*;
use crate::cadence::Cadence;
use crate::calendar::TradingCalendar;
use crate::classify::{NoLog, Probes, judge};
use crate::object::StoreError;
use crate::registry::test_specs::weekday_sf;

/// A `weekday_sf` artifact (tick 13:00 UTC), due 180 minutes after its tick.
fn spec(checks: impl FnOnce(&mut crate::registry::SpecFields)) -> ArtifactSpec {
    weekday_sf("p/{date}.parquet", checks)
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn head(written: &str, size: Option<u64>, etag: Option<&str>) -> ProbeOutcome {
    Ok(Some(ObjectMeta {
        last_modified: at(written),
        size,
        etag: etag.map(ContentTag::of_etag),
    }))
}

/// Judges as the pass does: rule 3 (`judge`), then the content checks; returns the verdict
/// and the trail's content lines.
fn judged(
    spec: &ArtifactSpec,
    now: &str,
    canonical: &ProbeOutcome,
    memory: ContentMemory<'_>,
) -> (Classification, Vec<String>) {
    let now = at(now);
    let cycle = (spec.cadence)
        .cycle_at(now, &TradingCalendar::nyse([]))
        .unwrap();
    let keys = ResolvedKeys::resolve(spec, &cycle);
    let probes = Probes {
        canonical,
        recovery: None,
    };
    let verdict = judge(spec, &cycle, &keys, now, probes, &mut NoLog);
    let mut trail: Vec<Decision> = Vec::new();
    let verdict = judge_content(
        spec,
        &cycle,
        &keys,
        now,
        verdict,
        (canonical, memory),
        &mut trail,
    );
    let content = trail
        .iter()
        .filter(|d| matches!(d, Decision::Content(_)))
        .map(|d| d.to_string())
        .collect();
    (verdict, content)
}

// The cycle of Friday 2026-06-05: tick 13:00 UTC, due 16:00 UTC.
const WRITTEN: &str = "2026-06-05T13:30:00Z";
const WITHIN_SLA: &str = "2026-06-05T14:00:00Z";
const PAST_SLA: &str = "2026-06-05T16:30:00Z";

struct Case {
    name: &'static str,
    spec: ArtifactSpec,
    now: &'static str,
    canonical: ProbeOutcome,
    previous: Option<(&'static str, &'static str)>,
    sizes: &'static [u64],
    state: State,
    alerting: bool,
    reason_contains: &'static str,
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let min = |n| spec(move |s| s.min_size_bytes = Some(n));
    let drop = |f| spec(move |s| s.size_drop_below = Some(f));
    let new = || spec(|s| s.require_new_content = Some(true));
    let case = |name, spec, now, canonical, previous, sizes, state, alerting, reason_contains| Case {
        name, spec, now, canonical, previous, sizes, state, alerting, reason_contains,
    };
    vec![
        case("no check set: fresh whatever the size", spec(|_| {}), PAST_SLA,
             head(WRITTEN, Some(0), Some("e1")), None, &[], State::Fresh, false, "present"),
        case("0 bytes under min_size_bytes, past the SLA", min(1000), PAST_SLA,
             head(WRITTEN, Some(0), None), None, &[], State::Suspect, true,
             "s3://bkt/p/2026-06-05.parquet is 0 bytes, under its min_size_bytes 1,000 (last modified 2026-06-05T13:30:00Z, after the tick); 30 min past its SLA"),
        case("under min_size_bytes within the SLA: suspect, no alert yet", min(1000), WITHIN_SLA,
             head(WRITTEN, Some(999), None), None, &[], State::Suspect, false, "within its SLA"),
        case("exactly min_size_bytes is fresh", min(1000), PAST_SLA,
             head(WRITTEN, Some(1000), None), None, &[], State::Fresh, false, "present"),
        case("no size in the answer: min_size_bytes not judged", min(1000), PAST_SLA,
             head(WRITTEN, None, None), None, &[], State::Fresh, false, "present"),
        case("a truncated file under 10% of the median", drop(0.1), PAST_SLA,
             head(WRITTEN, Some(4_000), None), None, &[48_000, 50_000, 47_000], State::Suspect, true,
             "is 4,000 bytes, under 10% of the median 48,000 bytes of its last 3 cycles (48,000, 50,000, 47,000)"),
        case("a smaller file above the fraction is fresh", drop(0.1), PAST_SLA,
             head(WRITTEN, Some(5_000), None), None, &[48_000, 50_000, 47_000], State::Fresh, false, "present"),
        case("no earlier size remembered: size_drop_below not judged", drop(0.1), PAST_SLA,
             head(WRITTEN, Some(1), None), None, &[], State::Fresh, false, "present"),
        case("the previous cycle's ETag again", new(), PAST_SLA,
             head(WRITTEN, Some(10), Some("\"e1\"")), Some(("2026-06-04", "e1")), &[], State::Suspect, true,
             "has the same content as cycle 2026-06-04 (same ETag): rewritten, not new"),
        case("a new ETag is fresh", new(), PAST_SLA,
             head(WRITTEN, Some(10), Some("e2")), Some(("2026-06-04", "e1")), &[], State::Fresh, false, "present"),
        case("no ETag in the answer: require_new_content not judged", new(), PAST_SLA,
             head(WRITTEN, Some(10), None), Some(("2026-06-04", "e1")), &[], State::Fresh, false, "present"),
        case("no earlier ETag remembered: not judged", new(), PAST_SLA,
             head(WRITTEN, Some(10), Some("e1")), None, &[], State::Fresh, false, "present"),
        case("written before the tick: stale, the content not looked at", min(1000), PAST_SLA,
             head("2026-06-04T13:30:00Z", Some(0), None), None, &[], State::Stale, true, "before the cycle tick"),
        case("not found: missing, as without checks", min(1000), PAST_SLA,
             Ok(None), None, &[], State::Missing, true, "not found"),
        case("a failed probe stays probe_failed", min(1000), PAST_SLA,
             Err(StoreError::Server { status: 500 }), None, &[], State::ProbeFailed, true, "HTTP 500"),
    ]
}

#[test]
fn content_checks_turn_a_fresh_object_that_is_not_new_data_into_suspect() {
    for case in cases() {
        let previous = case
            .previous
            .map(|(cycle, etag)| (cycle, ContentTag::of_etag(etag)));
        let memory = ContentMemory {
            previous,
            sizes: RecentSizes::from_newest_first(case.sizes),
        };
        let (verdict, _) = judged(&case.spec, case.now, &case.canonical, memory);
        assert_eq!(
            verdict.state, case.state,
            "{}: {}",
            case.name, verdict.reason
        );
        assert_eq!(verdict.is_alerting(), case.alerting, "{}", case.name);
        assert!(
            verdict.reason.contains(case.reason_contains),
            "{}: {}",
            case.name,
            verdict.reason
        );
    }
}

#[test]
fn the_trail_names_every_check_and_the_sizes_that_decided() {
    let both = spec(|s| {
        s.min_size_bytes = Some(100);
        s.size_drop_below = Some(0.5);
    });
    let memory = ContentMemory {
        previous: None,
        sizes: RecentSizes::from_newest_first(&[1_000, 3_000]),
    };
    let (verdict, trail) = judged(&both, PAST_SLA, &head(WRITTEN, Some(900), None), memory);
    assert_eq!(verdict.state, State::Suspect);
    assert_eq!(
        trail,
        [
            "3 content: min_size_bytes: 900 bytes, at least 100",
            "3 content: s3://bkt/p/2026-06-05.parquet is 900 bytes, under 50% of the median \
             2,000 bytes of its last 2 cycles (1,000, 3,000) -> suspect",
        ]
    );
}

#[test]
fn the_seen_content_is_kept_only_for_an_artifact_with_checks_and_an_object_since_the_tick() {
    let now = at(PAST_SLA);
    let cycle = (Cadence::WeekdaySf)
        .cycle_at(now, &TradingCalendar::nyse([]))
        .unwrap();
    let written = head(WRITTEN, Some(7), Some("e"));
    let seen = content_seen(&spec(|s| s.min_size_bytes = Some(1)), &cycle, &written);
    assert_eq!(
        seen,
        Some(ContentSeen {
            size: Some(7),
            etag: Some(ContentTag::of_etag("e"))
        })
    );
    assert_eq!(content_seen(&spec(|_| {}), &cycle, &written), None);
    let old = head("2026-06-04T13:30:00Z", Some(7), None);
    assert_eq!(
        content_seen(&spec(|s| s.min_size_bytes = Some(1)), &cycle, &old),
        None
    );
}

#[test]
fn the_median_of_an_even_count_is_the_mean_of_the_middle_two_without_overflow() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[5]), Some(5));
    assert_eq!(median(&[9, 1, 5]), Some(5));
    assert_eq!(median(&[1, 4]), Some(2));
    assert_eq!(median(&[3, 5]), Some(4));
    assert_eq!(median(&[u64::MAX, u64::MAX]), Some(u64::MAX));
}

#[test]
fn an_etag_is_the_same_tag_quoted_or_not() {
    assert_eq!(ContentTag::of_etag("\"abc\""), ContentTag::of_etag("abc"));
    assert_ne!(ContentTag::of_etag("abc"), ContentTag::of_etag("abd"));
    assert_eq!(size_of::<Option<ContentTag>>(), 8);
}

#[test]
fn recent_sizes_keep_the_newest_five() {
    let mut recent = RecentSizes::default();
    for size in 1..=7 {
        recent = recent.pushed(size);
    }
    assert_eq!(recent.as_slice(), [7, 6, 5, 4, 3]);
}
