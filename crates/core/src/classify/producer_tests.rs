//! Rules 2 and 3 for producers as they really behave: an active window gates a continuous
//! feed, and an `off_cycle` artifact is judged by the newest key of its template's shape.
//! In-process, with a fixed clock and the listing given by each test.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::cadence::window::{ActiveWindow, DayCalendar};
use crate::cadence::{Cadence, Cycle};
use crate::calendar::TradingCalendar;
use crate::object::ListedObject;
use crate::object::PrefixListing;
use crate::registry::{ArtifactId, Severity};
use crate::template::KeyTemplate;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn spec(cadence: Cadence, template: &str) -> ArtifactSpec {
    ArtifactSpec {
        id: ArtifactId::parse("a").unwrap(),
        line: 1,
        s3_bucket: "research-bucket".into(),
        s3_key_template: KeyTemplate::parse(template).unwrap(),
        cadence,
        sla_minutes_after_cron: 180,
        severity: Severity::Critical,
        owner_repo: "owner".into(),
        created_at: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        grace_period_cycles: 2,
        calendar_aware: true,
        optional: None,
        links: None,
    }
}

fn market_hours_feed() -> ArtifactSpec {
    let window = ActiveWindow {
        calendar: DayCalendar::Sessions(Arc::new(TradingCalendar::nyse([]))),
        from: 9 * 60 + 30,
        to: 16 * 60,
        timezone: chrono_tz::America::New_York,
        line: 9,
    };
    let mut feed = ArtifactSpec {
        sla_minutes_after_cron: 10,
        ..spec(
            Cadence::Continuous {
                interval_minutes: 60,
            },
            "quotes/{cycle_label}.parquet",
        )
    };
    feed.optional_mut().active_windows = Some(Arc::from(vec![window]));
    feed
}

fn cycle_of(spec: &ArtifactSpec, now: &str) -> Cycle {
    spec.cycle_at(at(now), &TradingCalendar::nyse([]))
        .expect("a cycle")
}

#[test]
fn a_feed_at_three_in_the_morning_new_york_on_a_sunday_expects_nothing() {
    let feed = market_hours_feed();
    // Sunday 2026-03-08 03:00 EDT is 07:00Z.
    let now = "2026-03-08T07:00:00Z";
    let cycle = cycle_of(&feed, now);
    let mut trail = Vec::new();
    let verdict = decide_without_probe(&feed, &cycle, at(now), &mut trail).expect("no probe");
    assert_eq!(verdict.state, State::Fresh);
    assert!(!verdict.is_alerting());
    assert_eq!(
        verdict.reason,
        "outside its active windows (09:30-16:00 America/New_York on nyse sessions: Sunday \
         2026-03-08 03:00 there is not a nyse session: weekend (Sunday)); nothing is expected now"
    );
    // `explain` shows the window decision.
    let shown: Vec<String> = trail.iter().map(|d| d.to_string()).collect();
    assert!(
        shown.iter().any(|line| line.starts_with(
            "2 active window: outside every window (09:30-16:00 America/New_York on nyse \
             sessions: Sunday 2026-03-08 03:00 there"
        ) && line.ends_with("not expected -> fresh, no probe")),
        "{shown:#?}"
    );
}

#[test]
fn the_first_interval_after_the_window_opens_gets_its_full_sla() {
    let feed = market_hours_feed();
    // Monday 2026-06-01: 09:30 EDT is 13:30Z, inside the 13:00Z bucket. Due 13:40Z, not
    // 13:10Z; at 13:45Z with nothing written it is 5 minutes past.
    let cycle = cycle_of(&feed, "2026-06-01T13:45:00Z");
    assert_eq!(cycle.tick, at("2026-06-01T13:30:00Z"));
    let keys = ResolvedKeys::resolve(&feed, &cycle);
    assert_eq!(keys.due_at, at("2026-06-01T13:40:00Z"));
    let now = at("2026-06-01T13:45:00Z");
    let mut trail = Vec::new();
    assert!(decide_without_probe(&feed, &cycle, now, &mut trail).is_none());
    assert!(
        trail.iter().any(|d| d.to_string()
            == "2 active window: inside 09:30-16:00 America/New_York on nyse sessions (opened \
                2026-06-01T13:30:00Z); the bucket began 2026-06-01T13:00:00Z, before the \
                opening: judged from the opening"),
        "{trail:#?}"
    );
    let probes = Probes {
        canonical: &Ok(None),
        recovery: None,
    };
    let verdict = judge(&feed, &cycle, &keys, now, probes, &mut NoLog);
    assert_eq!(
        (verdict.state, verdict.sla_violated_by_minutes),
        (State::Missing, 5)
    );
    // Written at 13:35Z, after the opening: fresh.
    let written = Ok(Some(ObjectMeta {
        last_modified: at("2026-06-01T13:35:00Z"),
        size: None,
        etag: None,
    }));
    let probes = Probes {
        canonical: &written,
        recovery: None,
    };
    assert_eq!(
        judge(&feed, &cycle, &keys, now, probes, &mut NoLog).state,
        State::Fresh
    );
}

// Off-cycle tolerance.

fn object(key: &str, last_modified: &str) -> ListedObject {
    ListedObject {
        key: key.to_string(),
        meta: ObjectMeta {
            last_modified: at(last_modified),
            size: Some(1),
            etag: None,
        },
    }
}

fn listing(objects: Vec<ListedObject>) -> ListingOutcome {
    Ok(PrefixListing {
        objects,
        pages: 1,
        complete: true,
    })
}

fn weekly(rule: OffCycle) -> ArtifactSpec {
    let mut weekly = spec(Cadence::SaturdaySf, "weekly/{date}/signals.csv");
    weekly.optional_mut().off_cycle = Some(rule);
    weekly
}

/// Judges an off-cycle artifact at `now` as the pass does, from the listing given.
fn judge_listed(
    spec: &ArtifactSpec,
    now: &str,
    listed: &ListingOutcome,
    recovery: Option<&ProbeOutcome>,
) -> (Classification, Vec<Decision>) {
    let cycle = cycle_of(spec, now);
    let keys = ResolvedKeys::resolve(spec, &cycle);
    let rule = spec.off_cycle().expect("off_cycle");
    let since = fresh_since(rule, &cycle, cycle.previous_tick, at(now));
    let shape = spec.s3_key_template.shape();
    assert_eq!(
        needs_off_cycle_recovery(&keys, listed, &shape, since),
        recovery.is_some(),
        "recovery probe"
    );
    let mut trail = Vec::new();
    let probe = OffCycleProbe {
        listing: listed,
        shape: &shape,
        fresh_since: since,
    };
    let verdict = judge_off_cycle(spec, &cycle, &keys, at(now), probe, recovery, &mut trail);
    (verdict, trail)
}

/// Saturday 2026-11-28, past the 12:00Z due time of the 09:00Z tick.
const SATURDAY_AFTERNOON: &str = "2026-11-28T14:00:00Z";

#[test]
fn a_weekly_pipeline_that_ran_a_day_early_reads_fresh() {
    let spec = weekly(OffCycle::SincePreviousTick);
    // Friday's key exists, Saturday's does not; a temporary file is not of the shape.
    let listed = listing(vec![
        object("weekly/2026-11-21/signals.csv", "2026-11-21T10:00:00Z"),
        object("weekly/2026-11-27/signals.csv", "2026-11-27T10:00:00Z"),
        object("weekly/2026-11-28/signals.csv.tmp", "2026-11-28T13:00:00Z"),
    ]);
    let (verdict, trail) = judge_listed(&spec, SATURDAY_AFTERNOON, &listed, None);
    assert_eq!(verdict.state, State::Fresh, "{}", verdict.reason);
    assert!(!verdict.is_alerting());
    assert_eq!(
        verdict.off_cycle_key.as_deref(),
        Some("weekly/2026-11-27/signals.csv")
    );
    assert_eq!(verdict.last_modified, Some(at("2026-11-27T10:00:00Z")));
    assert_eq!(
        verdict.reason,
        "off-cycle: newest key of the template's shape \
         s3://research-bucket/weekly/2026-11-27/signals.csv, last modified 2026-11-27T10:00:00Z \
         (fresh since 2026-11-21T09:00:00Z; cycle tick 2026-11-28T09:00:00Z)"
    );
    assert_eq!(
        trail[0].to_string(),
        "3 LIST s3://research-bucket/weekly/: 1 page; newest key of the template's shape \
         weekly/2026-11-27/signals.csv, last modified 2026-11-27T10:00:00Z (fresh since \
         2026-11-21T09:00:00Z) -> fresh"
    );
    // Without off_cycle the same bucket pages: Saturday's key is not there.
    let plain = spec_without_off_cycle(&spec);
    let cycle = cycle_of(&plain, SATURDAY_AFTERNOON);
    let keys = ResolvedKeys::resolve(&plain, &cycle);
    assert_eq!(keys.canonical_key, "weekly/2026-11-28/signals.csv");
}

fn spec_without_off_cycle(spec: &ArtifactSpec) -> ArtifactSpec {
    let mut without = spec.clone();
    without.optional_mut().off_cycle = None;
    without
}

#[test]
fn an_object_older_than_the_previous_tick_is_stale_and_named() {
    let spec = weekly(OffCycle::SincePreviousTick);
    let listed = listing(vec![object(
        "weekly/2026-11-14/signals.csv",
        "2026-11-14T10:00:00Z",
    )]);
    let (verdict, _) = judge_listed(&spec, SATURDAY_AFTERNOON, &listed, None);
    assert_eq!(
        (verdict.state, verdict.sla_violated_by_minutes),
        (State::Stale, 120)
    );
    assert!(verdict.is_alerting());
    assert_eq!(
        verdict.off_cycle_key.as_deref(),
        Some("weekly/2026-11-14/signals.csv")
    );
    assert!(
        verdict
            .reason
            .ends_with("before 2026-11-21T09:00:00Z (cycle tick 2026-11-28T09:00:00Z); 120 min past its SLA (due 2026-11-28T12:00:00Z)"),
        "{}",
        verdict.reason
    );
}

#[test]
fn nothing_of_the_shape_is_missing() {
    let spec = weekly(OffCycle::SincePreviousTick);
    let listed = listing(vec![object("weekly/README.md", "2026-11-28T10:00:00Z")]);
    let (verdict, _) = judge_listed(&spec, SATURDAY_AFTERNOON, &listed, None);
    assert_eq!(verdict.state, State::Missing);
    assert_eq!(verdict.off_cycle_key, None);
    assert!(
        verdict.reason.starts_with(
            "off-cycle: no key of the template's shape under s3://research-bucket/weekly/ (1 \
             listed); 120 min past its SLA"
        ),
        "{}",
        verdict.reason
    );
}

#[test]
fn an_explicit_maximum_age_counts_back_from_now() {
    let spec = weekly(OffCycle::MaxAge { minutes: 60 * 30 });
    // Friday 10:00Z is 28 hours before Saturday 14:00Z: within 30 hours.
    let friday = listing(vec![object(
        "weekly/2026-11-27/signals.csv",
        "2026-11-27T10:00:00Z",
    )]);
    let (verdict, _) = judge_listed(&spec, SATURDAY_AFTERNOON, &friday, None);
    assert_eq!(verdict.state, State::Fresh);
    // On Monday it is 72 hours old: stale.
    let (verdict, _) = judge_listed(&spec, "2026-11-30T10:00:00Z", &friday, None);
    assert_eq!(verdict.state, State::Stale);
    // Anything written since the current tick is fresh, whatever its age.
    let (verdict, _) = judge_listed(
        &spec,
        "2026-12-04T10:00:00Z",
        &listing(vec![object(
            "weekly/2026-11-28/signals.csv",
            "2026-11-28T10:00:00Z",
        )]),
        None,
    );
    assert_eq!(verdict.state, State::Fresh);
}

#[test]
fn a_listing_past_its_page_cap_is_probe_failed_never_a_guess() {
    let spec = weekly(OffCycle::SincePreviousTick);
    let truncated = Ok(PrefixListing {
        objects: vec![object(
            "weekly/2026-11-27/signals.csv",
            "2026-11-27T10:00:00Z",
        )],
        pages: 10,
        complete: false,
    });
    let (verdict, trail) = judge_listed(&spec, SATURDAY_AFTERNOON, &truncated, None);
    assert_eq!(verdict.state, State::ProbeFailed);
    assert!(verdict.is_alerting());
    assert_eq!(
        verdict.reason,
        "LIST s3://research-bucket/weekly/: more than 10 pages of keys under the prefix; \
         off_cycle judges the newest key of the template's shape only from a whole listing \
         (narrow the template's fixed prefix or remove off_cycle)"
    );
    assert_eq!(
        trail[0].to_string(),
        "3 LIST s3://research-bucket/weekly/: more than 10 pages of keys -> probe_failed"
    );
}

#[test]
fn a_403_on_the_listing_explains_list_bucket() {
    let spec = weekly(OffCycle::SincePreviousTick);
    let denied = Err(StoreError::ListDenied {
        bucket: "research-bucket".into(),
        prefix: "weekly/".into(),
    });
    let (verdict, _) = judge_listed(&spec, SATURDAY_AFTERNOON, &denied, None);
    assert_eq!(verdict.state, State::ProbeFailed);
    assert!(
        verdict
            .reason
            .starts_with("LIST s3://research-bucket/weekly/: access denied (HTTP 403)")
            && verdict
                .reason
                .ends_with("the role needs s3:ListBucket on the bucket"),
        "{}",
        verdict.reason
    );
}

#[test]
fn recovery_keys_work_as_today() {
    let mut spec = weekly(OffCycle::SincePreviousTick);
    spec.optional_mut().recovery_key_template =
        Some(KeyTemplate::parse("rerun/{date}/signals.csv").unwrap());
    let nothing = listing(Vec::new());
    let recovered = Ok(Some(ObjectMeta {
        last_modified: at("2026-11-28T11:00:00Z"),
        size: None,
        etag: None,
    }));
    let (verdict, _) = judge_listed(&spec, SATURDAY_AFTERNOON, &nothing, Some(&recovered));
    assert_eq!(verdict.state, State::Fresh);
    assert!(verdict.recovery_substituted);
    assert!(
        verdict
            .reason
            .ends_with("recovery s3://research-bucket/rerun/2026-11-28/signals.csv present, last modified 2026-11-28T11:00:00Z"),
        "{}",
        verdict.reason
    );
    // A fresh listing needs no recovery probe; a failed one never falls through to it.
    let fresh = listing(vec![object(
        "weekly/2026-11-27/signals.csv",
        "2026-11-27T10:00:00Z",
    )]);
    assert_eq!(
        judge_listed(&spec, SATURDAY_AFTERNOON, &fresh, None)
            .0
            .state,
        State::Fresh
    );
    let failed = Err(StoreError::Server { status: 503 });
    assert_eq!(
        judge_listed(&spec, SATURDAY_AFTERNOON, &failed, None)
            .0
            .state,
        State::ProbeFailed
    );
}
