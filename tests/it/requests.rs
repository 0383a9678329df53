//! What a pass asks of S3, counted by the pass itself (the heartbeat's `requests`, the pass
//! log line): the ledger settles fresh artifacts (no probe until the next tick) and answers
//! for alerts already out (no marker request), so a steady pass with alerts on costs what an
//! observe pass costs. The built binary as a Lambda, S3 and the channels on moto.
//!
//! The artifacts use `saturday_sf` (tick Saturday 09:00 UTC, SLA 180 min, due 12:00).

use serde_json::{Value, json};

use crate::support::aws::put;
use crate::support::results::{REGISTRY_KEY, check_results};
use crate::support::world::{Monitor, World, registry};

/// The heartbeat's `requests` without the derived figures.
fn requests(heartbeat: &Value) -> Value {
    let r = &heartbeat["requests"];
    assert_eq!(
        r["projected_per_day"],
        r["total"].as_u64().unwrap() * 96,
        "{heartbeat:#}"
    );
    json!({"head": r["head"], "list": r["list"], "get": r["get"], "put": r["put"],
           "delete": r["delete"]})
}

fn counts(head: u64, list: u64, get: u64, put: u64) -> Value {
    json!({"head": head, "list": list, "get": get, "put": put, "delete": 0})
}

fn row<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["artifact_id"] == id)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_a_steady_pass_with_alerts_costs_what_an_observe_pass_costs() {
    let world = World::new(4).await;
    // artifact_04 is there for cycle 2026-W23 (tick 2026-06-06T09:00Z); the rest never come.
    let s3 = &world.aws.s3;
    put(s3, &world.bucket, "data/2026-06-06/artifact_04.json", "{}").await;
    let monitor = Monitor::start(&world.env());

    // Every pass's outputs: 4 PUTs (check_results, cycle_verdict, status.html, heartbeat) and
    // the status page's HEAD of the history digest (absent here). First pass: 4 probe HEADs; GETs:
    // registry, ledger (absent), artifact_04's marker (the ledger does not know it yet: a
    // RESOLVED candidate asked of its marker); PUTs: 3 claims, 3 publishes, the ledger.
    // LISTs (the alert policy's): the acknowledgements (listed while anything alerts), and
    // the missing artifacts' template prefix `data/`, once, for the never-written rule.
    let first = monitor.pass("2026-06-06T12:30:00Z");
    assert_eq!(first.response()["alerted"], 3, "{:#}", first.response());
    assert_eq!(requests(&world.heartbeat().await), counts(5, 2, 3, 11));

    // Steady: artifact_04 is settled (not probed), the 3 alerts are out (no claim): 3 probe
    // HEADs, registry + ledger GETs, the ledger PUT, the outputs, and the acks' LIST (the
    // ledger now knows the prefix was written: no never-written listing).
    let steady = monitor.pass("2026-06-06T12:45:00Z");
    assert_eq!(steady.response()["alerted"], 0);
    assert_eq!(steady.response()["deduplicated"], 3);
    let steady_requests = requests(&world.heartbeat().await);
    assert_eq!(steady_requests, counts(4, 1, 2, 5));
    let results = check_results(s3, &world.bucket).await.unwrap();
    let settled = row(&results, "artifact_04");
    assert_eq!(settled["state"], "fresh");
    assert_eq!(
        settled["last_probed_at"], "2026-06-06T12:30:00Z",
        "{settled:#}"
    );
    assert_eq!(
        row(&results, "artifact_01")["last_probed_at"],
        "2026-06-06T12:45:00Z"
    );

    // An observe pass over the same world makes exactly the same requests.
    let observer = Monitor::start(&world.env_with("FRESHNESS_MONITOR_ENABLED", None));
    let observed = observer.pass("2026-06-06T13:00:00Z");
    assert_eq!(observed.response()["alerts_enabled"], false);
    assert_eq!(requests(&world.heartbeat().await), steady_requests);

    // artifact_02 lands: one RESOLVED notice, costing its claim and publish (no marker GET).
    put(s3, &world.bucket, "data/2026-06-06/artifact_02.json", "{}").await;
    let resolved = monitor.pass("2026-06-06T13:15:00Z");
    assert_eq!(
        resolved.response()["resolved"],
        1,
        "{:#}",
        resolved.response()
    );
    assert_eq!(requests(&world.heartbeat().await), counts(4, 1, 2, 7));
    let again = monitor.pass("2026-06-06T13:30:00Z");
    assert_eq!(again.response()["resolved"], 0);
    assert_eq!(requests(&world.heartbeat().await), counts(3, 1, 2, 5));

    // The pass log line says the same, after the writes.
    let lines = monitor.await_log_lines("pass complete", 4);
    let last = lines.last().unwrap();
    assert_eq!(
        (
            last["requests_head"].as_u64(),
            last["requests_get"].as_u64()
        ),
        (Some(3), Some(2)),
        "{last:#}"
    );
    assert_eq!(last["requests_put"], 5);
    assert_eq!(last["requests_total"], 11);
    assert_eq!(last["requests_projected_per_day"], 11 * 96);
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_a_registry_edit_unsettles_an_artifact_and_its_moved_key_reads_missing() {
    let world = World::new(2).await;
    let s3 = &world.aws.s3;
    put(s3, &world.bucket, "data/2026-06-06/artifact_01.json", "{}").await;
    put(s3, &world.bucket, "data/2026-06-06/artifact_02.json", "{}").await;
    let monitor = Monitor::start(&world.env_with("FRESHNESS_MONITOR_ENABLED", None));
    monitor.pass("2026-06-06T12:30:00Z");
    // One HEAD a pass is the status page's (the history digest); the rest are probes.
    assert_eq!(requests(&world.heartbeat().await)["head"], 3);
    monitor.pass("2026-06-06T12:45:00Z");
    assert_eq!(
        requests(&world.heartbeat().await)["head"],
        1,
        "both settled"
    );

    // The registry moves artifact_02's key: it is probed again, and found missing.
    let ids = ["artifact_01".to_string(), "artifact_02".to_string()];
    let edited = registry(&world.bucket, &ids).replacen(
        "data/{date}/artifact_02.json",
        "moved/{date}/artifact_02.json",
        1,
    );
    assert!(edited.contains("moved/"));
    put(s3, &world.bucket, REGISTRY_KEY, &edited).await;
    monitor.pass("2026-06-06T13:00:00Z");
    assert_eq!(requests(&world.heartbeat().await)["head"], 2);
    let results = check_results(s3, &world.bucket).await.unwrap();
    assert_eq!(row(&results, "artifact_02")["state"], "missing");
    assert_eq!(row(&results, "artifact_01")["state"], "fresh");

    // The next cycle probes everything again.
    monitor.pass("2026-06-13T12:30:00Z");
    assert_eq!(requests(&world.heartbeat().await)["head"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_an_artifacts_own_reverify_minutes_probes_it_again_and_finds_it_gone() {
    let world = World::new(2).await;
    let s3 = &world.aws.s3;
    put(s3, &world.bucket, "data/2026-06-06/artifact_01.json", "{}").await;
    put(s3, &world.bucket, "data/2026-06-06/artifact_02.json", "{}").await;
    // artifact_01's producer deletes and rewrites: it is re-verified every 30 min; the env
    // sets no default, so artifact_02 waits for its next tick.
    let ids = ["artifact_01".to_string(), "artifact_02".to_string()];
    let text = registry(&world.bucket, &ids).replacen(
        "data/{date}/artifact_01.json\"\n",
        "data/{date}/artifact_01.json\"\n    reverify_minutes: 30\n",
        1,
    );
    assert!(text.contains("reverify_minutes"));
    put(s3, &world.bucket, REGISTRY_KEY, &text).await;
    let monitor = Monitor::start(&observe_env(&world));
    // One HEAD a pass is the status page's (the history digest); the rest are probes.
    for (at, heads) in [
        ("2026-06-06T12:30:00Z", 3),
        ("2026-06-06T12:45:00Z", 1),
        ("2026-06-06T13:00:00Z", 2),
        ("2026-06-06T13:15:00Z", 1),
    ] {
        monitor.pass(at);
        assert_eq!(requests(&world.heartbeat().await)["head"], heads, "at {at}");
    }
    let results = check_results(s3, &world.bucket).await.unwrap();
    assert_eq!(
        row(&results, "artifact_01")["last_probed_at"],
        "2026-06-06T13:00:00Z"
    );
    assert_eq!(
        row(&results, "artifact_02")["last_probed_at"],
        "2026-06-06T12:30:00Z"
    );

    // The producer deletes its object: the next re-verify finds it missing at once.
    crate::support::aws::delete(s3, &world.bucket, "data/2026-06-06/artifact_01.json").await;
    monitor.pass("2026-06-06T13:30:00Z");
    let results = check_results(s3, &world.bucket).await.unwrap();
    assert_eq!(row(&results, "artifact_01")["state"], "missing");
    assert_eq!(row(&results, "artifact_02")["state"], "fresh");
}

/// A world of `n` missing-by-default artifacts in one directory, watched in observe mode.
async fn listing_world(n: usize, present: impl Iterator<Item = usize>) -> World {
    let world = World::new(n).await;
    for i in present {
        let key = format!("data/2026-06-06/artifact_{i:02}.json");
        put(&world.aws.s3, &world.bucket, &key, "{}").await;
    }
    world
}

fn observe_env(world: &World) -> Vec<(&'static str, String)> {
    world.env_with("FRESHNESS_MONITOR_ENABLED", None)
}

fn states(results: &Value, n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| {
            row(results, &format!("artifact_{i:02}"))["state"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_keys_sharing_a_prefix_are_listed_instead_of_headed() {
    // 30 keys under data/2026-06-06/artifact_: one LIST page answers for all of them. Two
    // more LISTs are the alert policy's: the acks (10 would alert) and `data/` for the
    // never-written rule.
    let world = listing_world(30, 1..=20).await;
    let monitor = Monitor::start(&observe_env(&world));
    monitor.pass("2026-06-06T12:30:00Z");
    let heartbeat = world.heartbeat().await;
    assert_eq!(
        requests(&heartbeat),
        json!({"head": 1, "list": 3, "get": 2, "put": 5, "delete": 0})
    );
    assert_eq!(
        heartbeat["listing"],
        json!({"listings": 1, "pages": 1, "answered": 30, "fell_back": 0, "error": null})
    );
    let results = check_results(&world.aws.s3, &world.bucket).await.unwrap();
    let states = states(&results, 30);
    assert!(states[..20].iter().all(|s| s == "fresh"), "{states:?}");
    assert!(states[20..].iter().all(|s| s == "missing"), "{states:?}");
    assert!(
        row(&results, "artifact_25")["reason"]
            .as_str()
            .unwrap()
            .ends_with(
                "artifact_25.json not found; 30 min past its SLA (due 2026-06-06T12:00:00Z)"
            ),
        "a listed absence reads as a HEAD's: {:#}",
        row(&results, "artifact_25")
    );
}

/// A ListObjectsV2 page holding `ids`, truncated (with a continuation token).
fn truncated_page(bucket: &str, ids: impl Iterator<Item = usize>) -> String {
    let contents: String = ids
        .map(|i| {
            format!(
                "<Contents><Key>data/2026-06-06/artifact_{i:02}.json</Key>\
                 <LastModified>2026-06-06T10:00:00.000Z</LastModified><ETag>\"x\"</ETag>\
                 <Size>2</Size><StorageClass>STANDARD</StorageClass></Contents>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult><Name>{bucket}</Name>\
         <Prefix>data/2026-06-06/artifact_</Prefix><KeyCount>10</KeyCount><MaxKeys>1000</MaxKeys>\
         <IsTruncated>true</IsTruncated><NextContinuationToken>page2</NextContinuationToken>\
         {contents}</ListBucketResult>"
    )
}

fn moto_addr() -> std::net::SocketAddr {
    format!("127.0.0.1:{}", crate::support::moto::shared().port)
        .parse()
        .unwrap()
}

fn is_list(request: &crate::support::loopback::Request) -> bool {
    request.method == "GET" && request.target.contains("list-type=2")
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_a_listing_that_fails_mid_pagination_leaves_the_rest_to_heads() {
    use crate::support::function::Function;
    use crate::support::loopback::{Fault, FaultProxy};
    // 26 keys afford 2 pages. Page 1 (canned, truncated) holds artifacts 01-10; page 2 fails
    // with a 500: the 16 keys past page 1 are HEADed (on moto, where 11-18 exist).
    let world = listing_world(26, 11..=18).await;
    let page = truncated_page(&world.bucket, 1..=10);
    let proxy = FaultProxy::start(moto_addr(), move |request| {
        if is_list(request) && request.target.contains("continuation-token") {
            Fault::s3_error(
                500,
                "Internal Server Error",
                "InternalError",
                "page 2 failed",
            )
        } else if is_list(request) {
            Fault::Answer {
                status: 200,
                reason: "OK",
                content_type: "application/xml",
                body: page.clone(),
            }
        } else {
            Fault::Forward
        }
    });
    let env = observe_env(&world);
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let function = Function::start(&proxy.endpoint(), &env);
    function.pass("2026-06-06T12:30:00Z");
    let heartbeat = world.heartbeat().await;
    assert_eq!(requests(&heartbeat)["head"], 16 + 1, "{heartbeat:#}");
    // The plan's 2, the acks' 1, and the never-written listing of `data/` (which the proxy
    // answers the same way: its page, then the 500).
    assert_eq!(requests(&heartbeat)["list"], 2 + 1 + 2);
    let listing = &heartbeat["listing"];
    assert_eq!(
        (
            &listing["pages"],
            &listing["answered"],
            &listing["fell_back"]
        ),
        (&json!(1), &json!(10), &json!(16)),
        "{listing:#}"
    );
    assert!(
        listing["error"].as_str().unwrap().contains("HTTP 500"),
        "{listing:#}"
    );
    let results = check_results(&world.aws.s3, &world.bucket).await.unwrap();
    let states = states(&results, 26);
    assert!(states[..18].iter().all(|s| s == "fresh"), "{states:?}");
    assert!(states[18..].iter().all(|s| s == "missing"), "{states:?}");
    assert_eq!(
        row(&results, "artifact_03")["last_modified"],
        "2026-06-06T10:00:00Z",
        "answered by the listing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_a_403_on_list_names_list_bucket_and_heads_answer_instead() {
    use crate::support::function::Function;
    use crate::support::loopback::{Fault, FaultProxy};
    let world = listing_world(26, 1..=13).await;
    let proxy = FaultProxy::start(moto_addr(), |request| {
        if is_list(request) {
            Fault::s3_error(403, "Forbidden", "AccessDenied", "Access Denied")
        } else {
            Fault::Forward
        }
    });
    let env = observe_env(&world);
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let function = Function::start(&proxy.endpoint(), &env);
    function.pass("2026-06-06T12:30:00Z");
    let heartbeat = world.heartbeat().await;
    assert_eq!(
        requests(&heartbeat)["head"],
        26 + 1,
        "26 probes, the page's"
    );
    // The plan's, the acks' and the never-written rule's, each refused.
    assert_eq!(requests(&heartbeat)["list"], 3);
    let error = heartbeat["listing"]["error"].as_str().unwrap();
    assert!(error.contains("needs s3:ListBucket"), "{error}");
    let results = check_results(&world.aws.s3, &world.bucket).await.unwrap();
    let states = states(&results, 26);
    assert!(states[..13].iter().all(|s| s == "fresh"), "{states:?}");
    assert!(states[13..].iter().all(|s| s == "missing"), "{states:?}");
    let lines = function.await_log_lines("a listing failed; its keys are HEADed instead", 1);
    assert_eq!(lines.len(), 1, "{}", function.all_logs());
}

/// The page's digest as the daily scan writes it (`history_digest.ndjson.gz`), generated at
/// `generated_at`.
fn history_digest(generated_at: &str) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let header = json!({"history_digest": 1, "generated_at": generated_at, "n_artifacts": 1,
                        "strip_cells": 12});
    let line = json!({"id": "artifact_01", "sla": [1, 1, 0, 0, 0], "strip": [["2026-W22", "o"]]});
    writeln!(gz, "{header}\n{line}").unwrap();
    gz.finish().unwrap()
}

async fn put_digest(s3: &aws_sdk_s3::Client, bucket: &str, generated_at: &str) {
    (s3.put_object().bucket(bucket))
        .key("_freshness_monitor/history_digest.ndjson.gz")
        .body(history_digest(generated_at).into())
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_a_warm_container_gets_the_history_digest_only_when_its_etag_changed() {
    use crate::support::aws::get_bytes;
    use crate::support::function::Function;
    use crate::support::loopback::{Fault, FaultProxy};
    use std::sync::{Arc, Mutex};
    let world = World::new(2).await;
    let s3 = &world.aws.s3;
    put_digest(s3, &world.bucket, "2026-06-05T04:00:00Z").await;
    // Every request reaches moto; those for the digest are noted on the way.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&seen);
    let proxy = FaultProxy::start(moto_addr(), move |request| {
        if request.target.contains("history_digest.ndjson.gz") {
            noted.lock().unwrap().push(request.method.clone());
        }
        Fault::Forward
    });
    let env = observe_env(&world);
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let function = Function::start(&proxy.endpoint(), &env);
    let history_requests = || std::mem::take(&mut *seen.lock().unwrap());
    let page = async || {
        let bytes = get_bytes(s3, &world.bucket, "_freshness_monitor/status.html").await;
        String::from_utf8(bytes.expect("status.html written")).unwrap()
    };
    let drawn_from = |generated_at: &str| {
        format!("History and SLA hit rates from the scan of <time datetime=\"{generated_at}\"")
    };

    // First invocation: HEAD and GET. GETs: registry, ledger (absent), the digest.
    function.pass("2026-06-06T12:30:00Z");
    assert_eq!(history_requests(), ["HEAD", "GET"]);
    assert_eq!(requests(&world.heartbeat().await)["get"], 3);
    assert!(page().await.contains(&drawn_from("2026-06-05T04:00:00Z")));

    // Second invocation in the same container, the digest unchanged: HEAD only, and the
    // page still draws the kept history.
    function.pass("2026-06-06T12:45:00Z");
    assert_eq!(history_requests(), ["HEAD"]);
    let heartbeat = world.heartbeat().await;
    assert_eq!(requests(&heartbeat)["get"], 2, "{heartbeat:#}");
    assert_eq!(
        requests(&heartbeat)["head"],
        3,
        "2 probes (both missing), the page's"
    );
    let kept = page().await;
    assert!(kept.contains(&drawn_from("2026-06-05T04:00:00Z")), "{kept}");
    assert!(kept.contains("<ol class=\"strip\""));

    // The daily scan rewrites it (a new ETag): the next invocation GETs it again.
    put_digest(s3, &world.bucket, "2026-06-06T04:00:00Z").await;
    function.pass("2026-06-06T13:00:00Z");
    assert_eq!(history_requests(), ["HEAD", "GET"]);
    assert_eq!(requests(&world.heartbeat().await)["get"], 3);
    assert!(page().await.contains(&drawn_from("2026-06-06T04:00:00Z")));
    function.pass("2026-06-06T13:15:00Z");
    assert_eq!(history_requests(), ["HEAD"]);
}
