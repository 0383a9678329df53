//! The S3 object store with the real `aws-sdk-s3` client: against moto for what S3 does, and
//! against misbehaving loopback sockets for what moto cannot do (403 without ListBucket,
//! throttling, 5xx, a socket that never answers, a refused connection).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use chrono::Utc;
use freshness_monitor::aws::{AwsClients, CallTimeouts};
use freshness_monitor::store::s3::S3Store;
use freshness_monitor::store::{ObjectStore, StoreError};

use crate::support::aws;
use crate::support::loopback::{CannedServer, SilentServer, SlowUploadServer};
use crate::support::moto;

/// A store on the shared clients' code path (path-style, our timeouts), pointed at
/// `endpoint`, with short retry backoff so retried failures stay quick.
async fn store_at(endpoint: &str, operation_timeout: Duration) -> S3Store {
    let timeouts = CallTimeouts::from_operation(operation_timeout);
    let config = aws::loader(endpoint)
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(10)))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(timeouts.operation)
                .operation_attempt_timeout(timeouts.attempt)
                .connect_timeout(timeouts.connect)
                .build(),
        )
        .load()
        .await;
    AwsClients::from_config(config, timeouts).s3_store()
}

async fn moto_store() -> S3Store {
    store_at(&moto::shared().endpoint(), Duration::from_secs(30)).await
}

async fn create_bucket(store: &S3Store, bucket: &str) {
    store
        .client()
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("create bucket in moto");
}

#[tokio::test]
async fn s3_put_head_get_round_trip_on_moto() {
    let store = moto_store().await;
    let bucket = moto::unique_bucket("s3store");
    create_bucket(&store, &bucket).await;

    let before = Utc::now() - chrono::Duration::seconds(2);
    store
        .put(
            &bucket,
            "signals/2026-05-29/signal.json",
            b"{\"ok\":true}".to_vec(),
            "application/json",
        )
        .await
        .unwrap();
    let after = Utc::now() + chrono::Duration::seconds(2);

    let meta = store
        .head(&bucket, "signals/2026-05-29/signal.json")
        .await
        .unwrap()
        .expect("the object just written is present");
    assert!(
        meta.last_modified >= before && meta.last_modified <= after,
        "LastModified {} is the time of the write",
        meta.last_modified
    );

    let fetched = store
        .get(&bucket, "signals/2026-05-29/signal.json")
        .await
        .unwrap();
    assert_eq!(fetched.body, b"{\"ok\":true}");
    assert!(fetched.etag.is_some_and(|e| !e.is_empty()));

    let content_type = store
        .client()
        .head_object()
        .bucket(&bucket)
        .key("signals/2026-05-29/signal.json")
        .send()
        .await
        .unwrap()
        .content_type()
        .map(str::to_string);
    assert_eq!(content_type.as_deref(), Some("application/json"));
}

#[tokio::test]
async fn s3_absent_keys_and_buckets_on_moto() {
    let store = moto_store().await;
    let bucket = moto::unique_bucket("s3store");
    create_bucket(&store, &bucket).await;
    let nowhere = moto::unique_bucket("s3store-never-created");

    assert_eq!(store.head(&bucket, "no/such/key.json").await, Ok(None));
    // HEAD has no body: a missing bucket is a bare 404, the artifact is simply absent.
    assert_eq!(store.head(&nowhere, "key.json").await, Ok(None));

    assert_eq!(
        store.get(&bucket, "registry.yaml").await,
        Err(StoreError::NotFound {
            bucket: bucket.clone(),
            key: "registry.yaml".into()
        })
    );
    let missing_bucket = store.get(&nowhere, "registry.yaml").await.unwrap_err();
    assert_eq!(
        missing_bucket,
        StoreError::NoSuchBucket {
            bucket: nowhere.clone()
        }
    );
    assert_eq!(
        missing_bucket.to_string(),
        format!("bucket {nowhere} does not exist")
    );
    assert!(matches!(
        store
            .put(&nowhere, "out.json", b"{}".to_vec(), "application/json")
            .await,
        Err(StoreError::NoSuchBucket { .. })
    ));
}

const ACCESS_DENIED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>\
    <Message>Access Denied</Message><RequestId>LOOPBACK</RequestId></Error>";
const SLOW_DOWN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>\
    <Message>Please reduce your request rate.</Message><RequestId>LOOPBACK</RequestId></Error>";
const INTERNAL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>\
    <Message>We encountered an internal error. Please try again.</Message></Error>";

#[tokio::test]
async fn s3_403_is_access_denied_with_the_list_bucket_hint() {
    let server = CannedServer::start(403, "Forbidden", ACCESS_DENIED);
    let store = store_at(&server.endpoint(), Duration::from_secs(30)).await;

    let head = store
        .head("research-bucket", "backtest/pit_parity.json")
        .await;
    let expected = StoreError::AccessDenied {
        bucket: "research-bucket".into(),
        key: "backtest/pit_parity.json".into(),
    };
    assert_eq!(head, Err(expected.clone()));
    let message = expected.to_string();
    assert!(message.contains("s3:ListBucket"), "{message}");
    assert!(
        message.contains("s3://research-bucket/backtest/pit_parity.json"),
        "{message}"
    );

    assert!(matches!(
        store.get("research-bucket", "registry.yaml").await,
        Err(StoreError::AccessDenied { .. })
    ));
    // A write's 403 names the missing write permission instead.
    let put = store
        .put(
            "research-bucket",
            "out.json",
            b"{}".to_vec(),
            "application/json",
        )
        .await
        .unwrap_err();
    assert_eq!(
        put.to_string(),
        "access denied (HTTP 403) writing s3://research-bucket/out.json: the role needs \
         s3:PutObject there"
    );
}

#[tokio::test]
async fn s3_throttling_is_reported_after_the_sdk_retries() {
    let server = CannedServer::start(503, "Slow Down", SLOW_DOWN);
    let store = store_at(&server.endpoint(), Duration::from_secs(30)).await;

    let err = store
        .get("research-bucket", "registry.yaml")
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::Throttled { status: 503 });
    assert_eq!(err.to_string(), "throttled by S3 (HTTP 503) after retries");
    assert!(
        server.requests.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the SDK retried before giving up"
    );

    // HEAD answers carry no error code: the status alone says throttled.
    assert_eq!(
        store.head("research-bucket", "k").await,
        Err(StoreError::Throttled { status: 503 })
    );
}

#[tokio::test]
async fn s3_server_errors_are_reported_after_the_sdk_retries() {
    let server = CannedServer::start(500, "Internal Server Error", INTERNAL);
    let store = store_at(&server.endpoint(), Duration::from_secs(30)).await;

    let err = store.head("research-bucket", "k").await.unwrap_err();
    assert_eq!(err, StoreError::Server { status: 500 });
    assert_eq!(err.to_string(), "S3 server error (HTTP 500) after retries");
    assert!(server.requests.load(std::sync::atomic::Ordering::SeqCst) >= 2);
}

#[tokio::test]
async fn s3_a_silent_socket_ends_as_a_timeout() {
    let silent = SilentServer::start();
    let store = store_at(&silent.endpoint(), Duration::from_secs(2)).await;

    let err = store.head("research-bucket", "k").await.unwrap_err();
    assert_eq!(err, StoreError::Timeout { seconds: 2.0 });
    assert_eq!(
        err.to_string(),
        "timed out after 2.0s waiting for the store"
    );
    assert!(silent.connections.load(std::sync::atomic::Ordering::SeqCst) >= 1);

    assert!(matches!(
        store.get("research-bucket", "registry.yaml").await,
        Err(StoreError::Timeout { .. })
    ));
}

#[tokio::test]
async fn s3_a_refused_connection_names_the_cause() {
    // A loopback port that nobody listens on.
    let endpoint = moto::refused_endpoint();
    let store = store_at(&endpoint, Duration::from_secs(10)).await;

    let err = store.head("research-bucket", "k").await.unwrap_err();
    let StoreError::Connection(message) = &err else {
        panic!("expected a connection error, got {err:?}");
    };
    assert!(
        message.to_ascii_lowercase().contains("refused"),
        "the cause is named: {message}"
    );
    assert!(
        err.to_string()
            .starts_with("could not connect to the store: ")
    );
}

/// One row as a pass would report it, for ledger tests.
fn ledger_row(id: &str, cycle: &str) -> freshness_monitor::report::ResultRow {
    use freshness_monitor::classify::State;
    freshness_monitor::report::ResultRow {
        artifact_id: id.to_string().into(),
        context: std::sync::Arc::new(freshness_monitor::report::RowContext {
            owner_repo: None,
            cadence: None,
            cycle_label: Some(cycle.into()),
            cycle_tick: None,
            s3_bucket: None,
        }),
        severity: None,
        canonical_key: None,
        state: State::Missing,
        reason: String::new().into(),
        last_modified: None,
        sla_violated_by_minutes: 0,
        recovery_substituted: false,
        due_at: None,
        alerting: true,
        last_probed_at: None,
        carried: None,
        policy: None,
        awaiting_event: false,
        extras: None,
    }
}

#[tokio::test]
async fn s3_two_passes_racing_on_the_ledger_keep_both_updates() {
    use freshness_monitor::ledger::store::{read, write};
    let store = moto_store().await;
    let bucket = moto::unique_bucket("ledger");
    create_bucket(&store, &bucket).await;
    let key = "_freshness_monitor/ledger.json";
    let now = Utc::now();
    // Both passes read before either writes: neither sees a ledger.
    let read_a = read(&store, &bucket, key).await;
    let read_b = read(&store, &bucket, key).await;
    let a_rows = [ledger_row("a", "d1")];
    let b_rows = [ledger_row("b", "d1")];
    let written_a = write(&store, &bucket, key, read_a, |l| {
        l.advance(&a_rows, &["a"], now, |_| true)
    })
    .await;
    assert_eq!(written_a.status, "created");
    // B's conditional create fails; it applies its pass to A's ledger instead.
    let written_b = write(&store, &bucket, key, read_b, |l| {
        l.advance(&b_rows, &[], now, |_| true)
    })
    .await;
    assert_eq!(written_b.status, "merged", "{written_b:?}");
    let after = read(&store, &bucket, key).await;
    assert!(after.rebuilt.is_none());
    let ids: Vec<&str> = {
        let mut ids: Vec<&str> = after.ledger.artifacts.keys().collect();
        ids.sort();
        ids
    };
    assert_eq!(ids, ["a", "b"], "neither pass lost the other's update");
    assert!(after.ledger.artifacts["a"].last_alert_at.is_some());

    // A pass whose read is stale (another pass wrote since, with other content and so
    // another ETag) loses its conditional write and merges too.
    let stale_read = read(&store, &bucket, key).await;
    let mut newer = after.ledger.clone();
    newer.advance(&[ledger_row("x", "d1")], &[], now, |_| true);
    store
        .put(
            &bucket,
            key,
            serde_json::to_vec(&newer).unwrap(),
            "application/json",
        )
        .await
        .unwrap();
    let c_rows = [ledger_row("c", "d1")];
    let written_c = write(&store, &bucket, key, stale_read, |l| {
        l.advance(&c_rows, &[], now, |_| true)
    })
    .await;
    assert_eq!(written_c.status, "merged");
    assert_eq!(read(&store, &bucket, key).await.ledger.artifacts.len(), 4);
}

#[tokio::test]
async fn s3_a_corrupt_or_foreign_ledger_is_rebuilt_and_never_fails_the_pass() {
    use freshness_monitor::ledger::store::{read, write};
    let store = moto_store().await;
    let bucket = moto::unique_bucket("ledger-bad");
    create_bucket(&store, &bucket).await;
    let key = "p/ledger.json";
    let rows = [ledger_row("a", "d1")];
    for (body, why) in [
        (&b"{not json"[..], "is unreadable"),
        (
            &br#"{"version": 99, "artifacts": {}}"#[..],
            "has version 99",
        ),
    ] {
        store
            .put(&bucket, key, body.to_vec(), "application/json")
            .await
            .unwrap();
        let found = read(&store, &bucket, key).await;
        let reason = found.rebuilt.clone().expect("rebuilt");
        assert!(reason.contains(why), "{reason}");
        assert!(found.ledger.artifacts.is_empty());
        let written = write(&store, &bucket, key, found, |l| {
            l.advance(&rows, &[], Utc::now(), |_| true)
        })
        .await;
        assert_eq!(written.status, "rebuilt");
        assert!(written.detail.unwrap().contains(why));
        let again = read(&store, &bucket, key).await;
        assert!(again.rebuilt.is_none());
        assert_eq!(again.ledger.artifacts.len(), 1);
    }
}

#[tokio::test]
async fn s3_lists_a_prefix_page_by_page_on_moto() {
    use freshness_monitor::store::listing::list_prefix;
    let store = moto_store().await;
    let bucket = moto::unique_bucket("s3list");
    create_bucket(&store, &bucket).await;
    for day in [
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "2026-11-26",
        "2026-11-27",
    ] {
        let key = format!("prices/{day}/close.csv");
        store
            .put(&bucket, &key, b"x".to_vec(), "text/csv")
            .await
            .unwrap();
    }
    store
        .put(&bucket, "other/close.csv", b"x".to_vec(), "text/csv")
        .await
        .unwrap();

    let whole = list_prefix(&store, &bucket, "prices/", 2, 10)
        .await
        .unwrap();
    let keys: Vec<_> = whole.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert_eq!(keys[0], "prices/2026-11-23/close.csv");
    assert_eq!(whole.pages, 3, "five keys in pages of two");
    assert!(whole.complete);
    assert!(whole.objects.iter().all(|o| o.meta.size == Some(1)));

    let capped = list_prefix(&store, &bucket, "prices/", 2, 2).await.unwrap();
    assert!(!capped.complete, "a listing stopped by its cap says so");
    assert_eq!(capped.objects.len(), 4);

    let none = list_prefix(&store, &moto::unique_bucket("nolist"), "x/", 1000, 1)
        .await
        .unwrap();
    assert!(
        none.complete && none.objects.is_empty(),
        "a missing bucket lists as empty"
    );
}

#[tokio::test]
async fn s3_403_on_list_names_list_bucket() {
    let server = CannedServer::start(403, "Forbidden", ACCESS_DENIED);
    let store = store_at(&server.endpoint(), Duration::from_secs(30)).await;
    let error = store
        .list_page("research-bucket", "prices/", None, 1000)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        StoreError::ListDenied {
            bucket: "research-bucket".into(),
            prefix: "prices/".into(),
        }
    );
    assert!(error.to_string().contains("needs s3:ListBucket"), "{error}");
}

#[tokio::test]
async fn s3_a_big_upload_gets_time_for_its_size_not_a_heads() {
    // 6 MB at 3 MB/s: two seconds to send, against attempts of 0.5 s (a 1.5 s timeout).
    let slow = SlowUploadServer::start(3_000_000);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), vec![b'x'; 6_000_000]).unwrap();
    let sized_for_heads = store_at(&slow.endpoint(), Duration::from_millis(1500)).await;

    // Given time at 10 MB/s (the default floor): 0.6 s more per attempt is not enough.
    let err = (sized_for_heads.clone())
        .put_file("bkt", "big.json", file.path(), "application/json")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Timeout { seconds } if seconds > 1.5),
        "the message names the time the upload was given: {err}"
    );
    // Given time at 1 MB/s: six seconds more per attempt, and it lands.
    let patient = sized_for_heads.with_upload_floor(1_000_000);
    patient
        .put_file("bkt", "big.json", file.path(), "application/json")
        .await
        .expect("the upload is given time for its size");
    assert!(
        slow.completed
            .lock()
            .unwrap()
            .iter()
            .any(|&n| n >= 6_000_000),
        "{:?}",
        slow.completed.lock().unwrap()
    );
}

#[tokio::test]
async fn s3_an_object_written_in_parts_reads_back_whole_and_a_failed_one_leaves_nothing() {
    use freshness_monitor::store::parts::{PART_BYTES, PartWriter, Written};
    let store = moto_store().await;
    let bucket = moto::unique_bucket("s3parts");
    create_bucket(&store, &bucket).await;
    // Two and a half parts, written a line at a time as the history's files are.
    let line: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let lines = PART_BYTES * 5 / 2 / line.len();
    let mut writer = PartWriter::new(&store, &bucket, "big.json", "application/json");
    for _ in 0..lines {
        writer.buffer().extend_from_slice(&line);
        writer.send_full().await.unwrap();
    }
    let written = writer.finish().await.unwrap();
    let size = (lines * line.len()) as u64;
    assert_eq!(
        written,
        Written {
            bytes: size,
            parts: 3
        }
    );
    let body = store.get(&bucket, "big.json").await.unwrap().body;
    assert_eq!(body.len() as u64, size);
    assert!(body.chunks(line.len()).all(|chunk| chunk == &line[..]));
    let head = store
        .client()
        .head_object()
        .bucket(&bucket)
        .key("big.json")
        .send()
        .await;
    assert_eq!(head.unwrap().content_type(), Some("application/json"));

    // A bucket that does not exist: the upload fails and nothing is left behind.
    let mut writer = PartWriter::new(&store, "no-such-bucket-parts", "big.json", "text/plain");
    writer
        .buffer()
        .extend(std::iter::repeat_n(b'x', PART_BYTES));
    assert!(writer.send_full().await.is_err());
}

#[tokio::test]
async fn s3_an_object_whose_first_part_is_sent_last_reads_back_in_part_order() {
    use freshness_monitor::store::parts::{PART_BYTES, PartWriter};
    let store = moto_store().await;
    let bucket = moto::unique_bucket("s3held");
    create_bucket(&store, &bucket).await;
    // Three and a half parts after a head known only at the end, as history.json is written.
    let line: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let lines = PART_BYTES * 7 / 2 / line.len();
    let mut writer =
        PartWriter::new(&store, &bucket, "held.json", "application/json").holding_first_part();
    for _ in 0..lines {
        writer.buffer().extend_from_slice(&line);
        writer.send_full().await.unwrap();
    }
    let written = writer.finish_with(b"HEAD".to_vec()).await.unwrap();
    assert_eq!(written.parts, 4);
    let body = store.get(&bucket, "held.json").await.unwrap().body;
    assert_eq!(body.len(), 4 + lines * line.len());
    assert_eq!(&body[..4], b"HEAD", "part 1, sent last, comes first");
    assert!(body[4..].chunks(line.len()).all(|chunk| chunk == &line[..]));
}
