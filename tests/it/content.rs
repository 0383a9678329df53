//! Content-true freshness end to end (docs/classification.md#content-checks): the built
//! binary as a Lambda on moto, two `saturday_sf` cycles (2026-W23, 2026-W24; tick Saturday
//! 09:00 UTC, due 12:00). In the second cycle each object is written after the tick, so its
//! time says fresh, but one is a same-ETag rewrite of the first cycle's object, one a
//! truncated file and one 0 bytes: each is `suspect` and alerts, with the reason naming the
//! cycle or the sizes; moto's ETags and sizes are what decide.

use serde_json::Value;

use crate::support::aws::put;
use crate::support::results::{REGISTRY_KEY, check_results, cycle_verdict, row};
use crate::support::world::{Monitor, World, registry};

/// The world's registry with one content check per artifact.
fn registry_with_checks(bucket: &str) -> String {
    let ids = ["copied", "truncated", "empty", "plain"].map(String::from);
    let mut text = registry(bucket, &ids);
    for (id, check) in [
        ("copied", "require_new_content: true"),
        ("truncated", "size_drop_below: 0.1"),
        ("empty", "min_size_bytes: 100"),
    ] {
        let template = format!("\"data/{{date}}/{id}.json\"\n");
        text = text.replacen(&template, &format!("{template}    {check}\n"), 1);
    }
    assert_eq!(text.matches(": 0.1\n").count(), 1, "{text}");
    text
}

fn state(results: &Value, id: &str) -> String {
    row(results, id)["state"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn content_a_copy_a_truncated_file_and_an_empty_one_are_suspect_and_alert() {
    let ids = ["copied", "truncated", "empty", "plain"].map(String::from);
    let world = World::with_ids(&ids).await;
    let (s3, bucket) = (&world.aws.s3, &world.bucket);
    put(s3, bucket, REGISTRY_KEY, &registry_with_checks(bucket)).await;
    let report = "x".repeat(5_000);
    for id in &ids {
        put(s3, bucket, &format!("data/2026-06-06/{id}.json"), &report).await;
    }
    let monitor = Monitor::start(&world.env_with("FRESHNESS_MONITOR_ENABLED", None));
    monitor.pass("2026-06-06T12:30:00Z");
    let first = check_results(s3, bucket).await.unwrap();
    for id in &ids {
        assert_eq!(state(&first, id), "fresh", "{first:#}");
    }

    // The next cycle: the same bytes again, a tenth of a percent of them, nothing, and (for
    // the artifact without checks) nothing as well.
    put(s3, bucket, "data/2026-06-13/copied.json", &report).await;
    put(s3, bucket, "data/2026-06-13/truncated.json", &report[..5]).await;
    put(s3, bucket, "data/2026-06-13/empty.json", "").await;
    put(s3, bucket, "data/2026-06-13/plain.json", "").await;
    let pass = monitor.pass("2026-06-13T12:30:00Z");
    let results = check_results(s3, bucket).await.unwrap();
    assert_eq!(
        state(&results, "plain"),
        "fresh",
        "no check: its time decides"
    );
    let reasons = [
        (
            "copied",
            "s3://BUCKET/data/2026-06-13/copied.json has the same content as cycle 2026-W23 \
             (same ETag): rewritten, not new",
        ),
        (
            "truncated",
            "s3://BUCKET/data/2026-06-13/truncated.json is 5 bytes, under 10% of the median \
             5,000 bytes of its last 1 cycle (5,000)",
        ),
        (
            "empty",
            "s3://BUCKET/data/2026-06-13/empty.json is 0 bytes, under its min_size_bytes 100",
        ),
    ];
    for (id, said) in reasons {
        let row = row(&results, id);
        assert_eq!(row["state"], "suspect", "{row:#}");
        assert_eq!(row["alerting"], true, "{row:#}");
        assert_eq!(row["sla_violated_by_minutes"], 30, "{row:#}");
        let reason = row["reason"].as_str().unwrap();
        assert!(
            reason.starts_with(&said.replace("BUCKET", bucket)),
            "{id}: {reason}"
        );
        assert!(reason.ends_with("; 30 min past its SLA (due 2026-06-13T12:00:00Z)"));
    }
    assert_eq!(
        pass.response()["counts"]["suspect"],
        3,
        "{:#}",
        pass.response()
    );
    assert_eq!(pass.response()["would_alert"], 3);
    let verdicts = cycle_verdict(s3, bucket).await.unwrap();
    let w24 = &verdicts["verdicts"][0];
    assert_eq!(w24["state"], "incomplete", "{verdicts:#}");
    assert_eq!(
        w24["suspect"],
        serde_json::json!(["copied", "truncated", "empty"])
    );

    // New content lands within the cycle: fresh again (a suspect row is probed every pass).
    put(s3, bucket, "data/2026-06-13/copied.json", "new figures").await;
    monitor.pass("2026-06-13T12:45:00Z");
    let results = check_results(s3, bucket).await.unwrap();
    assert_eq!(state(&results, "copied"), "fresh", "{results:#}");
    assert_eq!(state(&results, "truncated"), "suspect");
}
