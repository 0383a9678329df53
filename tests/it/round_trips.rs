//! How many round trips one after another a pass makes (issue 25 item 5): latency multiplies
//! them, so a small invocation's wall time is mostly this count times the latency to S3. The
//! built binary as a Lambda, its AWS requests through a proxy in front of moto that records
//! each request's start and end ([`crate::support::trace`]); the count is the longest chain
//! of requests each sent after the one before it was answered.
//!
//! A steady pass is three: the inputs (ledger, registry, the history digest) together, the
//! probes (beside them the acknowledgements, when the last pass left something alerting, and
//! the recovery keys of what the last pass left missing), the ledger and the outputs together.
//! A pass that sends alerts adds its claims and its sends (docs/lambda.md#round-trips).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

use crate::support::aws::put;
use crate::support::function::Function;
use crate::support::moto;
use crate::support::results::REGISTRY_KEY;
use crate::support::trace::{Span, TraceProxy, critical_path, describe};
use crate::support::world::{World, registry};

/// Long enough that requests the binary sends together overlap for sure.
const DELAY: Duration = Duration::from_millis(60);

/// The round trips of the pass at `time` and the trace for a failing assertion.
fn pass_round_trips(function: &Function, proxy: &TraceProxy, time: &str) -> (usize, String) {
    let (_answered, trips, why) = traced_pass(function, proxy, time);
    (trips, why)
}

/// The pass at `time`: its response, its round trips and the trace.
fn traced_pass(function: &Function, proxy: &TraceProxy, time: &str) -> (Value, usize, String) {
    let (response, spans) = pass_requests(function, proxy, time);
    let path = critical_path(&spans);
    (response, path.len(), explain(&path, &spans))
}

/// The pass at `time`: its response and every request it made.
fn pass_requests(function: &Function, proxy: &TraceProxy, time: &str) -> (Value, Vec<Span>) {
    proxy.take();
    let outcome = function.pass(time);
    let response = outcome.response().clone();
    (response, proxy.take())
}

/// The critical path and every request, for a failing assertion.
fn explain(path: &[Span], spans: &[Span]) -> String {
    format!(
        "critical path:\n{}\n\nall requests:\n{}",
        describe(path),
        describe(spans)
    )
}

/// How many of `spans` are HEADs of a key containing `key`.
fn heads_of(spans: &[Span], key: &str) -> usize {
    (spans.iter())
        .filter(|s| s.request.starts_with("HEAD ") && s.request.contains(key))
        .count()
}

/// A world of six artifacts: two present, four missing, one of those with a recovery key
/// (a second HEAD after its canonical key's).
async fn world() -> World {
    let world = World::new(6).await;
    let ids: Vec<String> = (1..=6).map(|i| format!("artifact_{i:02}")).collect();
    let text = registry(&world.bucket, &ids).replacen(
        "data/{date}/artifact_03.json\"\n",
        "data/{date}/artifact_03.json\"\n    recovery_key_template: \"late/{date}/artifact_03.json\"\n",
        1,
    );
    assert!(text.contains("recovery_key_template"));
    put(&world.aws.s3, &world.bucket, REGISTRY_KEY, &text).await;
    for i in [1, 2] {
        let key = format!("data/2026-06-06/artifact_{i:02}.json");
        put(&world.aws.s3, &world.bucket, &key, "{}").await;
    }
    world
}

fn traced(world: &World, env: &[(&'static str, String)]) -> (TraceProxy, Function) {
    let upstream = SocketAddr::from(([127, 0, 0, 1], moto::shared().port));
    let proxy = TraceProxy::start(upstream, DELAY);
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let function = Function::start(&proxy.endpoint(), &env);
    let _ = world;
    (proxy, function)
}

#[tokio::test(flavor = "multi_thread")]
async fn round_trips_a_steady_observe_pass_makes_three_its_recovery_head_beside_the_probes() {
    let world = world().await;
    let (proxy, function) = traced(&world, &world.env_with("FRESHNESS_MONITOR_ENABLED", None));
    // The first pass has no ledger: it lists the missing artifacts' template prefix
    // (never-written) and the acks after the probes, as it cannot foresee what alerts, and
    // HEADs the recovery key after its canonical key's answer.
    let (first, why) = pass_round_trips(&function, &proxy, "2026-06-06T12:30:00Z");
    assert_eq!(first, 5, "{why}");
    for at in ["2026-06-06T12:45:00Z", "2026-06-06T13:00:00Z"] {
        let (_, spans) = pass_requests(&function, &proxy, at);
        let path = critical_path(&spans);
        let why = explain(&path, &spans);
        // The ledger says artifact_03 was left missing: its recovery key goes out beside its
        // canonical key's HEAD, once, as it did after it.
        assert_eq!(path.len(), 3, "{} round trips at {at}:\n{why}", path.len());
        assert_eq!(heads_of(&spans, "late/"), 1, "{why}");
        assert_eq!(heads_of(&spans, "artifact_03.json"), 2, "{why}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn round_trips_a_steady_pass_with_alerts_out_makes_three() {
    let world = world().await;
    let (proxy, function) = traced(&world, &world.env());
    // The first pass sends its alerts (bounded by the test below).
    pass_round_trips(&function, &proxy, "2026-06-06T12:30:00Z");
    let (steady, why) = pass_round_trips(&function, &proxy, "2026-06-06T12:45:00Z");
    assert_eq!(steady, 3, "{why}");
}

/// Sixteen artifacts, fourteen missing under one directory: a steady pass answers their
/// canonical keys with one listing, and the recovery key the ledger foresees goes out beside
/// that listing, not after it.
#[tokio::test(flavor = "multi_thread")]
async fn round_trips_a_recovery_head_goes_out_beside_the_listing_that_answers_its_canonical_key() {
    let world = World::new(16).await;
    let ids: Vec<String> = (1..=16).map(|i| format!("artifact_{i:02}")).collect();
    let text = registry(&world.bucket, &ids).replacen(
        "data/{date}/artifact_03.json\"\n",
        "data/{date}/artifact_03.json\"\n    recovery_key_template: \"late/{date}/artifact_03.json\"\n",
        1,
    );
    put(&world.aws.s3, &world.bucket, REGISTRY_KEY, &text).await;
    for i in [1, 2] {
        let key = format!("data/2026-06-06/artifact_{i:02}.json");
        put(&world.aws.s3, &world.bucket, &key, "{}").await;
    }
    let env = world.env_with("FRESHNESS_MONITOR_ENABLED", None);
    let (proxy, function) = traced(&world, &env);
    pass_round_trips(&function, &proxy, "2026-06-06T12:30:00Z");
    let (_, spans) = pass_requests(&function, &proxy, "2026-06-06T12:45:00Z");
    let path = critical_path(&spans);
    let why = explain(&path, &spans);
    assert!(
        spans.iter().any(|s| s.request.contains("prefix=data")),
        "the canonical keys are listed:\n{why}"
    );
    assert_eq!(heads_of(&spans, "data/"), 0, "{why}");
    assert_eq!(heads_of(&spans, "late/"), 1, "{why}");
    assert_eq!(path.len(), 3, "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn round_trips_a_pass_that_sends_four_alerts_adds_three_whatever_their_number() {
    let world = world().await;
    let (proxy, function) = traced(&world, &world.env());
    // The first pass: the inputs, the probes, the recovery key, the never-written prefix and
    // the acks; then the four alerts' claims (beside them the RESOLVED candidates' marker
    // reads), their one digest per channel (SNS's publish beside Telegram's two SSM
    // parameters, read together), their four markers recorded together; the writes. Each
    // alert's marker write one after another (and the parameters read one after the other)
    // made it 13.
    let (response, first, why) = traced_pass(&function, &proxy, "2026-06-06T12:30:00Z");
    assert_eq!(response["alerted"], 4, "{response:#}");
    assert_eq!(first, 8, "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn round_trips_a_pass_with_everything_fresh_reads_no_acks_and_makes_two_once_settled() {
    let world = World::new(3).await;
    for i in 1..=3 {
        let key = format!("data/2026-06-06/artifact_{i:02}.json");
        put(&world.aws.s3, &world.bucket, &key, "{}").await;
    }
    let (proxy, function) = traced(&world, &world.env());
    // Inputs, probes, the RESOLVED candidates' marker GETs (the ledger does not know them
    // yet), writes; then the ledger settles them all: inputs, writes.
    let (first, why) = pass_round_trips(&function, &proxy, "2026-06-06T12:30:00Z");
    assert_eq!(first, 4, "{why}");
    let (steady, why) = pass_round_trips(&function, &proxy, "2026-06-06T12:45:00Z");
    assert_eq!(steady, 2, "{why}");
    assert!(!why.contains("list-type"), "no listing:\n{why}");
}
