//! The events a test sends the function, and the time helpers they need.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::moto;

/// A time as an event carries it: RFC 3339 text. A test writes either the text itself (any
/// offset, or text that is not a time at all) or a `DateTime<Utc>`.
pub trait EventTime {
    fn event_time(&self) -> String;
}

impl EventTime for &str {
    fn event_time(&self) -> String {
        self.to_string()
    }
}

impl EventTime for String {
    fn event_time(&self) -> String {
        self.clone()
    }
}

impl EventTime for DateTime<Utc> {
    fn event_time(&self) -> String {
        rfc3339(*self)
    }
}

/// The EventBridge scheduled event the 15-minute rule sends, firing at `time`.
pub fn scheduled_event(time: impl EventTime) -> Value {
    json!({
        "version": "0",
        "id": "89a1c2f0-3b5e-4f47-9c1e-0c4f4d0f6a1b",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": moto::ACCOUNT_ID,
        "time": time.event_time(),
        "region": moto::REGION,
        "resources": [format!(
            "arn:aws:events:{}:{}:rule/freshness-monitor-every-15m",
            moto::REGION,
            moto::ACCOUNT_ID
        )],
        "detail": {}
    })
}

/// `t` as the monitor writes times: RFC 3339, whole seconds, `Z`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The instant `secs` seconds after the Unix epoch.
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}
