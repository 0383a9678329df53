use serde_json::json;

use super::*;

/// EventBridge's Object Created event as AWS documents it (docs.aws.amazon.com, "EventBridge
/// event message structure").
fn eventbridge(key: &str) -> Value {
    json!({
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "111122223333",
        "time": "2026-06-01T06:30:00Z",
        "region": "ca-central-1",
        "resources": ["arn:aws:s3:::bkt"],
        "detail": {
            "version": "0",
            "bucket": {"name": "bkt"},
            "object": {
                "key": key,
                "size": 5,
                "etag": "b1946ac92492d2347c6235b4d2611184",
                "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
                "sequencer": "617f08299329d189"
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "1.2.3.4",
            "reason": "PutObject"
        }
    })
}

/// S3's own notification record (docs.aws.amazon.com, "Event message structure").
fn s3_record(event_name: &str, key: &str) -> Value {
    json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-west-2",
        "eventTime": "2026-06-01T06:30:00.123Z",
        "eventName": event_name,
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": "bkt", "arn": "arn:aws:s3:::bkt"},
            "object": {"key": key, "size": 1024, "eTag": "d41d8cd9", "sequencer": "0055AED6DCD90281E5"}
        }
    })
}

fn sqs(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            json!({
                "messageId": format!("m{i}"),
                "receiptHandle": "AQEB",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

fn parsed(event: &Value) -> ObjectEvents {
    parse(event.as_object().unwrap()).unwrap()
}

fn only_item(events: &ObjectEvents) -> &Result<CreatedObject, Ignored> {
    assert_eq!(events.records.len(), 1);
    assert_eq!(events.records[0].items.len(), 1);
    &events.records[0].items[0]
}

#[test]
fn an_eventbridge_event_names_its_object() {
    let events = parsed(&eventbridge("signals/2026-06-01/a.csv"));
    assert_eq!(events.source, EventSource::EventBridge);
    let object = only_item(&events).as_ref().unwrap();
    assert_eq!(object.bucket, "bkt");
    assert_eq!(object.keys, ["signals/2026-06-01/a.csv"]);
    assert_eq!(
        object.time,
        "2026-06-01T06:30:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(object.size, Some(5));
    assert_eq!(
        object.etag.as_deref(),
        Some("b1946ac92492d2347c6235b4d2611184")
    );
    assert_eq!(object.sequencer.as_deref(), Some("617f08299329d189"));
}

#[test]
fn an_eventbridge_key_that_may_be_encoded_is_tried_decoded_too() {
    let events = parsed(&eventbridge("a+dir/x%3Ay.csv"));
    let object = only_item(&events).as_ref().unwrap();
    assert_eq!(object.keys, ["a+dir/x%3Ay.csv", "a dir/x:y.csv"]);
    let events = parsed(&eventbridge("a/100%.csv"));
    assert_eq!(only_item(&events).as_ref().unwrap().keys, ["a/100%.csv"]);
}

#[test]
fn sqs_batches_keep_their_message_ids() {
    let good = eventbridge("k1").to_string();
    let mut deleted = eventbridge("k2");
    deleted["detail-type"] = json!("Object Deleted");
    let events = parsed(&sqs(&[good, deleted.to_string(), "not json".into()]));
    assert_eq!(events.source, EventSource::Sqs);
    let ids: Vec<_> = events
        .records
        .iter()
        .map(|r| r.message_id.as_deref())
        .collect();
    assert_eq!(ids, [Some("m0"), Some("m1"), Some("m2")]);
    assert!(events.records[0].items[0].is_ok());
    assert_eq!(events.records[1].items, [Err(Ignored::NotObjectCreated)]);
    assert_eq!(events.records[2].items, [Err(Ignored::Unreadable)]);
}

#[test]
fn s3_notifications_decode_their_keys() {
    let direct = json!({"Records": [
        s3_record("ObjectCreated:Put", "a+dir/red+flower%2B1.jpg"),
        s3_record("ObjectRemoved:Delete", "gone"),
        s3_record("ObjectCreated:Put", "bad%zz"),
    ]});
    let events = parsed(&direct);
    assert_eq!(events.source, EventSource::S3);
    let object = events.records[0].items[0].as_ref().unwrap();
    assert_eq!(object.keys, ["a dir/red flower+1.jpg"]);
    assert_eq!(object.size, Some(1024));
    assert_eq!(events.records[1].items, [Err(Ignored::NotObjectCreated)]);
    assert_eq!(events.records[2].items, [Err(Ignored::BadKey)]);
    // The same notification sent to a queue, and S3's test event.
    let body = json!({"Records": [s3_record("ObjectCreated:Copy", "k")]}).to_string();
    let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}).to_string();
    let events = parsed(&sqs(&[body, test_event]));
    assert_eq!(events.records[0].items[0].as_ref().unwrap().keys, ["k"]);
    assert_eq!(events.records[1].items, [Err(Ignored::NotObjectCreated)]);
}

#[test]
fn bad_input_is_ignored_with_its_reason() {
    let long = eventbridge(&"k".repeat(10 * 1024));
    let mut no_time = eventbridge("k");
    no_time["time"] = json!("yesterday");
    let mut no_bucket = eventbridge("k");
    no_bucket["detail"]["bucket"] = json!(7);
    let mut no_detail = eventbridge("k");
    no_detail.as_object_mut().unwrap().remove("detail");
    for (event, reason) in [
        (long, Ignored::BadKey),
        (eventbridge(""), Ignored::BadKey),
        (no_time, Ignored::BadTime),
        (no_bucket, Ignored::Unreadable),
        (no_detail, Ignored::Unreadable),
    ] {
        assert_eq!(only_item(&parsed(&event)), &Err(reason), "{event:.80}");
    }
    // Year 9999 reads; the intake ignores it as a future time.
    let mut far = eventbridge("k");
    far["time"] = json!("9999-12-31T23:59:59Z");
    assert!(only_item(&parsed(&far)).is_ok());
    let events = parsed(&json!({"Records": [{"eventSource": "aws:kinesis"}, 7]}));
    assert!(
        events
            .records
            .iter()
            .all(|r| r.items == [Err(Ignored::Unreadable)])
    );
    assert!(parse(json!({"Records": {}}).as_object().unwrap()).is_err());
}

#[test]
fn url_decoding_refuses_what_is_not_encoding() {
    assert_eq!(url_decoded("a+b%20c%2Fd").as_deref(), Some("a b c/d"));
    assert_eq!(url_decoded("%e2%82%ac").as_deref(), Some("€"));
    assert_eq!(url_decoded("%"), None);
    assert_eq!(url_decoded("%+1"), None);
    assert_eq!(url_decoded("%ff"), None, "not UTF-8");
}
