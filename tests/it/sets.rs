//! Expected sets end to end (docs/classification.md#sets): the built binary as a Lambda on
//! moto, one `saturday_sf` artifact of 1,200 partitions under one prefix (tick Saturday
//! 09:00 UTC, due 12:00). It is one row naming its missing partitions, costs its listing's
//! pages (not a HEAD per partition), and turns fresh when the set completes.

use futures_util::StreamExt;
use futures_util::stream;

use crate::support::aws::put;
use crate::support::results::{REGISTRY_KEY, check_results, row};
use crate::support::world::{Monitor, World};

fn set_registry(bucket: &str) -> String {
    format!(
        "schema_version: 1\nartifacts:\n  - artifact_id: shards\n    s3_bucket: {bucket}\n    \
         s3_key_template: \"data/{{date}}/shard-{{partition}}.json\"\n    partitions: {{from: \
         1, to: 1200, width: 4}}\n    cadence: saturday_sf\n    sla_minutes_after_cron: 180\n    \
         severity: critical\n    owner_repo: pipelines\n    created_at: 2025-01-01\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn sets_one_row_names_the_missing_partitions_for_its_listing_pages() {
    let world = World::with_ids(&[]).await;
    let (s3, bucket) = (&world.aws.s3, &world.bucket);
    put(s3, bucket, REGISTRY_KEY, &set_registry(bucket)).await;
    let missing = [7, 300, 301, 999, 1200];
    let written = (1..=1200).filter(|n| !missing.contains(n));
    stream::iter(written)
        .for_each_concurrent(16, |n| async move {
            put(
                s3,
                bucket,
                &format!("data/2026-06-06/shard-{n:04}.json"),
                "{}",
            )
            .await;
        })
        .await;
    let monitor = Monitor::start(&world.env_with("FRESHNESS_MONITOR_ENABLED", None));
    let pass = monitor.pass("2026-06-06T12:30:00Z");
    let results = check_results(s3, bucket).await.unwrap();
    assert_eq!(results["results"].as_array().unwrap().len(), 1, "one row");
    let shards = row(&results, "shards");
    assert_eq!(shards["state"], "missing", "{shards:#}");
    assert_eq!(shards["alerting"], true);
    assert_eq!(
        shards["canonical_key"],
        "data/2026-06-06/shard-{partition}.json"
    );
    let reason = shards["reason"].as_str().unwrap();
    let said = format!(
        "set s3://{bucket}/data/2026-06-06/shard-: 1195 of 1200 keys written since the tick (2 \
         pages); 5 missing: 0007, 0300, 0301, 0999, 1200; 30 min past its SLA"
    );
    assert!(reason.starts_with(&said), "{reason}");
    assert_eq!(
        shards["set"],
        serde_json::json!({"total": 1200, "written": 1195, "missing": 5, "stale": 0,
                           "first_missing": ["0007", "0300", "0301", "0999", "1200"]})
    );
    assert_eq!(pass.response()["would_alert"], 1);
    // The set's two LIST pages of 1,000 keys, and the alert policy's two (the
    // acknowledgements, listed while anything alerts; the never-written check of `data/` on
    // a first pass); the only HEAD is the status page's (the history digest).
    let requests = &world.heartbeat().await["requests"];
    assert_eq!(requests["head"], 1, "{requests:#}");
    assert_eq!(requests["list"], 4, "{requests:#}");

    for n in missing {
        put(
            s3,
            bucket,
            &format!("data/2026-06-06/shard-{n:04}.json"),
            "{}",
        )
        .await;
    }
    monitor.pass("2026-06-06T12:45:00Z");
    // Nothing alerts now: the set's two pages, and the acknowledgements' LIST the ledger
    // foresaw (the last pass left the set alerting: docs/lambda.md#round-trips).
    let requests = &world.heartbeat().await["requests"];
    assert_eq!(
        (&requests["list"], &requests["head"]),
        (&3.into(), &1.into())
    );
    let results = check_results(s3, bucket).await.unwrap();
    let shards = row(&results, "shards");
    assert_eq!(shards["state"], "fresh", "{shards:#}");
    assert!(
        (shards["reason"].as_str().unwrap())
            .ends_with("1200 of 1200 keys written since the tick (2 pages)"),
        "{shards:#}"
    );

    // Complete in this cycle: the ledger settles it, and the next pass lists nothing (the one
    // HEAD is the status page's), its row as the listing left it.
    monitor.pass("2026-06-06T13:00:00Z");
    let requests = &world.heartbeat().await["requests"];
    assert_eq!(
        (&requests["list"], &requests["head"]),
        (&0.into(), &1.into()),
        "{requests:#}"
    );
    let results = check_results(s3, bucket).await.unwrap();
    let settled = row(&results, "shards");
    assert_eq!(settled["reason"], shards["reason"]);
    assert_eq!(settled["set"], shards["set"]);
    assert_eq!(settled["last_probed_at"], "2026-06-06T12:45:00Z");
}

/// A set whose values are an S3 object (one a line), and one whose list object is missing.
fn listed_registry(bucket: &str) -> String {
    let artifact = |id: &str, list: &str| {
        format!(
            "  - artifact_id: {id}\n    s3_bucket: {bucket}\n    s3_key_template: \
             \"prices/{{date}}/{{partition}}.parquet\"\n    partitions_from: s3://{bucket}/{list}\n    \
             cadence: saturday_sf\n    sla_minutes_after_cron: 180\n    severity: critical\n    \
             owner_repo: pipelines\n    created_at: 2025-01-01\n"
        )
    };
    format!(
        "schema_version: 1\nartifacts:\n{}{}",
        artifact("prices", "lists/tickers.txt"),
        artifact("ghost", "lists/missing.txt")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn sets_a_list_object_is_read_again_only_when_its_etag_changes() {
    let world = World::with_ids(&[]).await;
    let (s3, bucket) = (&world.aws.s3, &world.bucket);
    put(s3, bucket, REGISTRY_KEY, &listed_registry(bucket)).await;
    put(s3, bucket, "lists/tickers.txt", "AAPL\nMSFT\nNVDA\n").await;
    for ticker in ["AAPL", "MSFT"] {
        put(
            s3,
            bucket,
            &format!("prices/2026-06-06/{ticker}.parquet"),
            "x",
        )
        .await;
    }
    let monitor = Monitor::start(&world.env_with("FRESHNESS_MONITOR_ENABLED", None));
    monitor.pass("2026-06-06T12:30:00Z");
    let results = check_results(s3, bucket).await.unwrap();
    let prices = row(&results, "prices");
    assert_eq!(prices["state"], "missing", "{prices:#}");
    assert_eq!(prices["set"]["first_missing"], serde_json::json!(["NVDA"]));
    let ghost = row(&results, "ghost");
    assert_eq!(ghost["state"], "probe_failed", "{ghost:#}");
    assert_eq!(
        ghost["reason"],
        format!("partitions_from s3://{bucket}/lists/missing.txt: not found")
    );
    let first = world.heartbeat().await["requests"].clone();

    // The list unchanged: its HEAD, no GET. Then edited: read again, NVDA no longer expected.
    monitor.pass("2026-06-06T12:45:00Z");
    let second = world.heartbeat().await["requests"].clone();
    assert_eq!(
        first["get"].as_u64().unwrap() - second["get"].as_u64().unwrap(),
        1,
        "{first:#} {second:#}"
    );
    put(s3, bucket, "lists/tickers.txt", "AAPL\nMSFT\n").await;
    monitor.pass("2026-06-06T13:00:00Z");
    let results = check_results(s3, bucket).await.unwrap();
    assert_eq!(row(&results, "prices")["state"], "fresh", "{results:#}");
}
