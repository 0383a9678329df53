//! Producers as they really behave (issue 14): an early weekly run, a feed that sleeps outside
//! market hours, an hourly cron job on the spring-forward day, judged by the real binary over
//! a local store; and the off-cycle listing against moto (S3's ListObjectsV2, a listing past
//! its page cap) and a loopback server that answers LIST with 403.

use std::time::Duration;

use chrono::Utc;
use freshness_monitor::aws::{AwsClients, CallTimeouts};
use freshness_monitor::classify::State;
use freshness_monitor::pass::{ListingLimits, PassSettings, classify_registry};
use freshness_monitor::registry::parse_registry;
use freshness_monitor::store::ObjectStore;
use freshness_monitor::store::s3::S3Store;

use crate::support::aws;
use crate::support::loopback::CannedServer;
use crate::support::moto;
use crate::support::results::assert_row_fields;
use crate::support::scenario::LocalScenario;
use crate::support::stdout;

const BUCKET: &str = "research-bucket";

fn registry(cadences: &str, artifacts: &str) -> String {
    format!(
        "schema_version: 1\n\
         defaults:\n  s3_bucket: {BUCKET}\n  severity: critical\n  owner_repo: producer\n  \
         created_at: 2025-01-01\n\
         cadences:\n{cadences}\n\
         artifacts:\n{artifacts}"
    )
}

const WEEKLY: &str = "  - artifact_id: weekly_signals
    s3_key_template: \"weekly/{date}/signals.csv\"
    cadence: saturday_sf
    sla_minutes_after_cron: 180
    off_cycle: true
  - artifact_id: weekly_strict
    s3_key_template: \"weekly/{date}/signals.csv\"
    cadence: saturday_sf
    sla_minutes_after_cron: 180
";

#[test]
fn the_early_run_weekly_set_reads_fresh() {
    let s = LocalScenario::new(&registry("  {}", WEEKLY), BUCKET);
    // The pipeline ran on Friday: Friday's key exists, Saturday's does not.
    s.put("weekly/2026-11-20/signals.csv", "2026-11-20T10:00:00Z");
    s.put("weekly/2026-11-27/signals.csv", "2026-11-27T10:00:00Z");
    let rows = s.rows("2026-11-28T14:00:00Z");
    let early = &rows["weekly_signals"];
    assert_row_fields(early);
    assert_eq!(early["state"], "fresh", "{early}");
    assert_eq!(early["alerting"], false);
    assert_eq!(early["off_cycle_key"], "weekly/2026-11-27/signals.csv");
    assert_eq!(early["last_modified"], "2026-11-27T10:00:00Z");
    assert_eq!(early["canonical_key"], "weekly/2026-11-28/signals.csv");
    // Without off_cycle the same artifact pages, as it did for the original monitor.
    let strict = &rows["weekly_strict"];
    assert_eq!(strict["state"], "missing");
    assert_eq!(strict["alerting"], true);
    assert_eq!(strict["off_cycle_key"], serde_json::Value::Null);
    // A week on, with no new run, the Friday object is older than the previous tick.
    let later = s.row("2026-12-05T14:00:00Z", "weekly_signals");
    assert_eq!(later["state"], "stale");
    assert_eq!(later["off_cycle_key"], "weekly/2026-11-27/signals.csv");
}

#[test]
fn a_feed_at_three_in_the_morning_new_york_on_a_sunday_expects_nothing() {
    let feed = "  - artifact_id: quotes
    s3_key_template: \"quotes/{cycle_label}.parquet\"
    cadence: continuous
    interval_minutes: 60
    sla_minutes_after_cron: 10
    active_windows:
      - {calendar: nyse, from: \"09:30\", to: \"16:00\", timezone: America/New_York}
";
    let s = LocalScenario::new(&registry("  {}", feed), BUCKET);
    // Sunday 2026-03-08 03:00 EDT, the morning of the spring change.
    let row = s.row("2026-03-08T07:00:00Z", "quotes");
    assert_eq!(row["state"], "fresh");
    assert_eq!(row["alerting"], false);
    assert!(
        row["reason"]
            .as_str()
            .unwrap()
            .contains("Sunday 2026-03-08 03:00 there is not a nyse session: weekend (Sunday)"),
        "{row}"
    );
    // Monday 09:45 EDT (13:45Z), nothing written: the hour's bucket began at 13:00Z, but the
    // window opened at 13:30Z, so the feed is due at 13:40Z, 5 minutes ago.
    let row = s.row("2026-03-09T13:45:00Z", "quotes");
    assert_eq!(row["state"], "missing");
    assert_eq!(row["cycle_tick"], "2026-03-09T13:30:00Z");
    assert_eq!(row["due_at"], "2026-03-09T13:40:00Z");
    assert_eq!(row["sla_violated_by_minutes"], 5);
    // `explain` shows the window decision.
    let out = s.run_with(&["explain", "quotes"], "2026-03-08T07:00:00Z", &[]);
    let text = stdout(&out);
    for needle in [
        "windows       09:30-16:00 America/New_York on nyse sessions",
        "rule 2 active window: outside every window (09:30-16:00 America/New_York on nyse \
         sessions: Sunday 2026-03-08 03:00 there is not a nyse session: weekend (Sunday)): not \
         expected -> fresh, no probe",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn an_hourly_wildcard_job_on_the_spring_forward_day_is_judged_by_the_ticks_it_had() {
    let cadences = "  hourly_cron: {cron: \"30 * * * *\", timezone: America/New_York}
  hourly_eventbridge: {cron: \"30 * * * *\", timezone: America/New_York, dst: eventbridge}
  nightly: {cron: \"30 2 * * *\", timezone: America/New_York}";
    let artifacts =
        "  - {artifact_id: cron_job, s3_key_template: marks.json, cadence: hourly_cron, \
                     sla_minutes_after_cron: 5}
  - {artifact_id: eventbridge_job, s3_key_template: marks.json, cadence: hourly_eventbridge, \
     sla_minutes_after_cron: 5}
  - {artifact_id: nightly_job, s3_key_template: marks.json, cadence: nightly, \
     sla_minutes_after_cron: 5}
";
    let s = LocalScenario::new(&registry(cadences, artifacts), BUCKET);
    // Written at 06:31Z (01:31 EST); judged at 07:10Z, after the clocks jumped to 03:00 EDT.
    s.put("marks.json", "2026-03-08T06:31:00Z");
    let rows = s.rows("2026-03-08T07:10:00Z");
    for id in ["cron_job", "eventbridge_job"] {
        let row = &rows[id];
        assert_eq!(row["state"], "fresh", "{id}: {row}");
        assert_eq!(row["cycle_tick"], "2026-03-08T06:30:00Z", "{id}");
        assert_eq!(row["cycle_label"], "2026-03-08T01:30", "{id}");
    }
    // A fixed-time 02:30 job under Debian cron's rule ran at the gap's end, 07:00Z.
    let nightly = &rows["nightly_job"];
    assert_eq!(nightly["cycle_tick"], "2026-03-08T07:00:00Z");
    assert_eq!(nightly["state"], "stale");
}

// The listing path against moto and a loopback server.

async fn store_at(endpoint: &str) -> S3Store {
    let timeouts = CallTimeouts::from_operation(Duration::from_secs(30));
    let config = aws::loader(endpoint).load().await;
    AwsClients::from_config(config, timeouts).s3_store()
}

fn off_cycle_registry(bucket: &str, rule: &str) -> freshness_monitor::registry::Registry {
    let text = format!(
        "schema_version: 1
artifacts:
  - artifact_id: weekly
    s3_bucket: {bucket}
    s3_key_template: \"weekly/{{date}}/signals.csv\"
    cadence: saturday_sf
    sla_minutes_after_cron: 180
    severity: critical
    owner_repo: producer
    created_at: 2020-01-01
    off_cycle: {rule}
"
    );
    parse_registry("registry.yaml", text.as_bytes()).unwrap()
}

#[tokio::test]
async fn the_off_cycle_listing_on_moto_finds_the_newest_key_of_the_shape() {
    let store = store_at(&moto::shared().endpoint()).await;
    let bucket = moto::unique_bucket("offcycle");
    aws::create_bucket(&aws::s3().await, &bucket).await;
    for key in [
        "weekly/2026-11-20/signals.csv",
        "weekly/2026-11-27/signals.csv",
        "weekly/2026-11-27/signals.csv.tmp",
        "weekly/README.md",
    ] {
        store
            .put(&bucket, key, b"x".to_vec(), "text/csv")
            .await
            .unwrap();
    }
    // moto stamps LastModified with the real clock: judge now, within an hour of the writes.
    let registry = off_cycle_registry(&bucket, "{max_age_minutes: 60}");
    let now = Utc::now() + chrono::Duration::seconds(1);
    let rows = classify_registry(&store, &registry, &PassSettings::default(), now, None).await;
    assert_eq!(rows[0].state, State::Fresh, "{}", rows[0].reason());
    assert_eq!(
        rows[0].off_cycle_key(),
        Some("weekly/2026-11-27/signals.csv"),
        "the greatest of the shape's keys written in the same second"
    );

    // Four keys in pages of one, at most three pages: past the cap, never a guess.
    let capped = PassSettings {
        listing: ListingLimits {
            page_size: 1,
            max_pages: 3,
        },
        ..PassSettings::default()
    };
    let rows = classify_registry(&store, &registry, &capped, now, None).await;
    assert_eq!(rows[0].state, State::ProbeFailed);
    assert!(rows[0].alerting);
    assert_eq!(
        rows[0].reason(),
        format!(
            "LIST s3://{bucket}/weekly/: more than 3 pages of keys under the prefix; off_cycle \
             judges the newest key of the template's shape only from a whole listing (narrow \
             the template's fixed prefix or remove off_cycle)"
        )
    );
    assert_eq!(rows[0].off_cycle_key(), None);
}

const ACCESS_DENIED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>\
    <Message>Access Denied</Message><RequestId>LOOPBACK</RequestId></Error>";

#[tokio::test]
async fn a_403_on_the_off_cycle_listing_is_probe_failed_naming_list_bucket() {
    let server = CannedServer::start(403, "Forbidden", ACCESS_DENIED);
    let store = store_at(&server.endpoint()).await;
    let registry = off_cycle_registry(BUCKET, "true");
    let now = "2026-11-28T14:00:00Z".parse().unwrap();
    let rows = classify_registry(&store, &registry, &PassSettings::default(), now, None).await;
    assert_eq!(rows[0].state, State::ProbeFailed);
    assert_eq!(
        rows[0].reason(),
        "LIST s3://research-bucket/weekly/: access denied (HTTP 403) listing \
         s3://research-bucket/weekly/: the role needs s3:ListBucket on the bucket"
    );
}
