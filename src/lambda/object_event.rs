//! S3 "Object Created" events as the function receives them, read into the objects they name
//! (docs/lambda.md#object-created-events).
//!
//! Three shapes carry them: EventBridge's event (`source` `aws.s3`, `detail-type` `Object
//! Created`), the same events batched by an SQS event source (`Records[]` with `eventSource`
//! `aws:sqs`, each `body` one event's JSON), and S3's own notification (`Records[].s3`, sent to
//! the function directly or through SQS). Nothing in one record can fail the batch: a record
//! that is not what the documentation shows, names no object or is not a creation is kept as
//! an [`Ignored`] reason, counted in the response and the log line. Keys in S3's own
//! notification are URL-encoded (`+` for a space); EventBridge's are matched as written and,
//! when they may be encoded (`%` or `+`), decoded as well.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The longest key S3 accepts, in bytes; an event naming a longer one is ignored.
pub const MAX_KEY_BYTES: usize = crate::template::MAX_S3_KEY_BYTES;

/// Where the events came from: what the response must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// One EventBridge event, invoked directly (asynchronously) by a rule.
    EventBridge,
    /// An SQS batch: the response names the records to retry (`batchItemFailures`).
    Sqs,
    /// S3's own notification, invoked directly.
    S3,
}

/// The objects of one invocation's event, by record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvents {
    pub source: EventSource,
    pub records: Vec<EventRecord>,
}

/// One record: an SQS message (with its id, for `batchItemFailures`) or one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// The SQS `messageId`; `None` outside SQS.
    pub message_id: Option<String>,
    /// The objects it names, or why each part of it is ignored.
    pub items: Vec<Result<CreatedObject, Ignored>>,
}

/// One object S3 says was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedObject {
    pub bucket: String,
    /// The key as the event wrote it (decoded in S3's own notification), then its decoded
    /// form when it differs and the event may have encoded it.
    pub keys: Vec<String>,
    /// When S3 says the object was created: its LastModified, for the ledger.
    pub time: DateTime<Utc>,
    pub size: Option<u64>,
    pub etag: Option<String>,
    /// S3's order of the events of one key (the ledger keeps the latest time anyway).
    pub sequencer: Option<String>,
}

/// Why a record, or an object of it, changes nothing. The names are the response's and the
/// log line's keys (docs/lambda.md#object-created-events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ignored {
    /// Not the documented JSON shape (a field missing or of another type, a body not JSON).
    Unreadable,
    /// Another event (Object Deleted, a Scheduled Event inside SQS, `s3:TestEvent`).
    NotObjectCreated,
    /// A key longer than S3 allows, or one whose URL-encoding cannot be decoded.
    BadKey,
    /// A time that is not RFC 3339.
    BadTime,
    /// A time more than [`FUTURE_TOLERANCE`] ahead of the clock (year 9999).
    FutureTime,
    /// A bucket no artifact of the registry lives in.
    OtherBucket,
    /// A key no artifact's template renders (or an artifact the registry no longer has).
    NoArtifact,
    /// The key of the cycle before the artifact's current one: late, the next pass judges.
    PastCycle,
    /// The key has the template's fixed ends but belongs to no cycle near now.
    NotCurrentCycle,
    /// Created before the current cycle's tick (a pointer rewritten last cycle).
    BeforeTick,
    /// The recovery key: a pass decides whether it substitutes (the canonical key is probed).
    RecoveryKey,
}

/// How far ahead of the function's clock an event's time may be (clock skew).
pub const FUTURE_TOLERANCE: chrono::Duration = chrono::Duration::minutes(5);

impl Ignored {
    pub fn name(self) -> &'static str {
        match self {
            Ignored::Unreadable => "unreadable",
            Ignored::NotObjectCreated => "not_object_created",
            Ignored::BadKey => "bad_key",
            Ignored::BadTime => "bad_time",
            Ignored::FutureTime => "future_time",
            Ignored::OtherBucket => "other_bucket",
            Ignored::NoArtifact => "no_artifact",
            Ignored::PastCycle => "past_cycle",
            Ignored::NotCurrentCycle => "not_current_cycle",
            Ignored::BeforeTick => "before_tick",
            Ignored::RecoveryKey => "recovery_key",
        }
    }
}

/// Whether the event is one of the shapes this module reads (`Records`, or an EventBridge
/// event from `aws.s3`): the event parser hands those here.
pub fn is_object_event(fields: &Map<String, Value>) -> bool {
    fields.contains_key("Records") || fields.get("source").and_then(Value::as_str) == Some("aws.s3")
}

/// Reads the event; `Err` only when its top level is not one of the shapes (`Records` not an
/// array), which no retry can fix and no queue sends.
pub fn parse(fields: &Map<String, Value>) -> Result<ObjectEvents, String> {
    let Some(records) = fields.get("Records") else {
        return Ok(ObjectEvents {
            source: EventSource::EventBridge,
            records: vec![EventRecord {
                message_id: None,
                items: vec![eventbridge_object(fields)],
            }],
        });
    };
    let Value::Array(records) = records else {
        return Err("\"Records\" must be an array of SQS or S3 notification records".to_string());
    };
    let from_sqs = records
        .iter()
        .any(|r| r.get("eventSource").and_then(Value::as_str) == Some("aws:sqs"));
    Ok(ObjectEvents {
        source: if from_sqs {
            EventSource::Sqs
        } else {
            EventSource::S3
        },
        records: records.iter().map(record).collect(),
    })
}

/// One element of `Records`: an SQS message or an S3 notification record.
fn record(value: &Value) -> EventRecord {
    let source = value.get("eventSource").and_then(Value::as_str);
    match source {
        Some("aws:sqs") => EventRecord {
            message_id: value
                .get("messageId")
                .and_then(Value::as_str)
                .map(str::to_string),
            items: sqs_body(value.get("body")),
        },
        Some("aws:s3") => EventRecord {
            message_id: None,
            items: vec![s3_record(value)],
        },
        _ => EventRecord {
            message_id: None,
            items: vec![Err(Ignored::Unreadable)],
        },
    }
}

/// An SQS message's body: an EventBridge event, or S3's own notification sent to the queue.
fn sqs_body(body: Option<&Value>) -> Vec<Result<CreatedObject, Ignored>> {
    let Some(Value::String(text)) = body else {
        return vec![Err(Ignored::Unreadable)];
    };
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) else {
        return vec![Err(Ignored::Unreadable)];
    };
    if fields.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return vec![Err(Ignored::NotObjectCreated)];
    }
    match fields.get("Records") {
        Some(Value::Array(records)) if !records.is_empty() => records
            .iter()
            .map(|r| match r.get("eventSource").and_then(Value::as_str) {
                Some("aws:s3") => s3_record(r),
                _ => Err(Ignored::Unreadable),
            })
            .collect(),
        Some(_) => vec![Err(Ignored::Unreadable)],
        None if fields.contains_key("source") => vec![eventbridge_object(&fields)],
        None => vec![Err(Ignored::Unreadable)],
    }
}

/// EventBridge's `Object Created`: `detail.bucket.name`, `detail.object.{key, size, etag,
/// sequencer}`, `time`.
fn eventbridge_object(fields: &Map<String, Value>) -> Result<CreatedObject, Ignored> {
    if text(fields.get("source")) != Some("aws.s3") {
        return Err(Ignored::NotObjectCreated);
    }
    if text(fields.get("detail-type")) != Some("Object Created") {
        return Err(Ignored::NotObjectCreated);
    }
    let detail = fields.get("detail").ok_or(Ignored::Unreadable)?;
    let object = detail.get("object").ok_or(Ignored::Unreadable)?;
    let bucket = text(detail.pointer("/bucket/name")).ok_or(Ignored::Unreadable)?;
    let key = text(object.get("key")).ok_or(Ignored::Unreadable)?;
    let time = text(fields.get("time")).ok_or(Ignored::Unreadable)?;
    let mut keys = vec![checked_key(key)?];
    if key.contains(['%', '+'])
        && let Some(decoded) = url_decoded(key).filter(|d| d != key && d.len() <= MAX_KEY_BYTES)
    {
        keys.push(decoded);
    }
    Ok(CreatedObject {
        bucket: bucket.to_string(),
        keys,
        time: parse_time(time)?,
        size: object.get("size").and_then(Value::as_u64),
        // AWS writes `etag`; moto's server writes `eTag`.
        etag: text(object.get("etag").or_else(|| object.get("eTag"))).map(str::to_string),
        sequencer: text(object.get("sequencer")).map(str::to_string),
    })
}

/// S3's own notification record: `eventName` `ObjectCreated:*`, `s3.bucket.name`,
/// `s3.object.{key (URL-encoded), size, eTag, sequencer}`, `eventTime`.
fn s3_record(value: &Value) -> Result<CreatedObject, Ignored> {
    let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str);
    let name = text("/eventName").ok_or(Ignored::Unreadable)?;
    if !name.starts_with("ObjectCreated:") {
        return Err(Ignored::NotObjectCreated);
    }
    let bucket = text("/s3/bucket/name").ok_or(Ignored::Unreadable)?;
    let encoded = text("/s3/object/key").ok_or(Ignored::Unreadable)?;
    if encoded.len() > 3 * MAX_KEY_BYTES {
        return Err(Ignored::BadKey);
    }
    let key = url_decoded(encoded).ok_or(Ignored::BadKey)?;
    let time = text("/eventTime").ok_or(Ignored::Unreadable)?;
    Ok(CreatedObject {
        bucket: bucket.to_string(),
        keys: vec![checked_key(&key)?],
        time: parse_time(time)?,
        size: value.pointer("/s3/object/size").and_then(Value::as_u64),
        etag: text("/s3/object/eTag").map(str::to_string),
        sequencer: text("/s3/object/sequencer").map(str::to_string),
    })
}

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str)
}

fn checked_key(key: &str) -> Result<String, Ignored> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(Ignored::BadKey);
    }
    Ok(key.to_string())
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, Ignored> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Ignored::BadTime)
}

/// `application/x-www-form-urlencoded` decoding, as S3 encodes keys in its notifications:
/// `+` is a space, `%XX` a byte; `None` when a `%` is not followed by two hex digits or the
/// bytes are not UTF-8.
pub fn url_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests;
