//! The invocation event, parsed into what the pass should do (docs/lambda.md#events).
//!
//! Five events exist: EventBridge's scheduled event (the every-15-minutes rule; its `time` is
//! the pass's `now`, so a retried delivery judges the same moment), `{}` from a hand-run
//! `aws lambda invoke` (now = the clock), `{"dry_run": true}` (no writes, no alerts, the
//! results in the response), which alone may carry `now` and `only`, and `{"mode":
//! "historical"}` (the daily history scan, writing `history.json`), which may carry `lookback`
//! and `only`, `{"mode": "deadline", "at": ...}`, which the deadline schedule sends
//! (docs/lambda.md#deadline-passes): a normal pass judged at `at`, and S3's "Object Created"
//! events (EventBridge's, SQS batches of them, S3's own notification:
//! [`super::object_event`]), which mark artifacts present. Anything else is refused with a message that says what was wrong and what is
//! accepted: a typo such as `dryrun` must never run a real pass with side effects.

use super::object_event::{self, ObjectEvents};
use crate::history::Lookback;
use crate::history::lookback::{LookbackOutOfRange, checked_count};
use crate::text::did_you_mean;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// The EventBridge schedule: a normal pass judged at the event's `time`.
    Scheduled { time: DateTime<Utc> },
    /// `{}`: a normal pass judged at the clock's now.
    Manual,
    /// `{"dry_run": true}`: a pass with no side effects, optionally at a chosen `now` and over
    /// some artifacts only.
    DryRun {
        now: Option<DateTime<Utc>>,
        only: Vec<String>,
    },
    /// `{"mode": "historical"}`: the history scan at the clock's now, writing `history.json`,
    /// optionally with per-cadence lookbacks and over some artifacts only.
    Historical {
        lookback: Lookback,
        only: Vec<String>,
    },
    /// `{"mode": "deadline", "at": "<RFC 3339>"}`: the deadline schedule's pass, judged at
    /// `at` (the schedule's own time, so a late delivery judges the moment it was set for),
    /// else at the clock's now. Otherwise a normal pass.
    Deadline { at: Option<DateTime<Utc>> },
    /// S3 "Object Created" events: the objects they name mark their artifacts present, at
    /// the clock's now (docs/lambda.md#object-created-events).
    ObjectEvents(ObjectEvents),
}

/// The event's JSON text (as the runtime hands it over, unparsed) as a value. What serde_json
/// cannot hold (a number beyond f64, a lone UTF-16 surrogate) is an [`EventError`] naming the
/// field, like every other wrong event.
pub fn event_value(json: &str) -> Result<Value, EventError> {
    let reader = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(reader).map_err(|err| {
        let path = err.path().to_string();
        let place = if path == "." {
            "the event".to_string()
        } else {
            format!("the event's field {}", quoted(&path))
        };
        EventError::new(format!("{place} cannot be read: {}", err.inner()))
    })
}

impl Invocation {
    /// Parses an event's JSON text: [`event_value`], then [`Invocation::parse`].
    pub fn parse_json(json: &str) -> Result<Invocation, EventError> {
        Invocation::parse(&event_value(json)?)
    }

    /// Parses an event as the runtime delivered it.
    pub fn parse(event: &Value) -> Result<Invocation, EventError> {
        let Value::Object(fields) = event else {
            return Err(EventError::new(format!(
                "the event is {}, not a JSON object",
                describe(event)
            )));
        };
        if object_event::is_object_event(fields) {
            return object_event::parse(fields)
                .map(Invocation::ObjectEvents)
                .map_err(EventError::new);
        }
        if fields.contains_key("source") || fields.contains_key("detail-type") {
            return parse_eventbridge(fields);
        }
        parse_manual(fields)
    }

    /// The `now` the pass judges: the event's when it names one, else the clock's.
    pub fn now(&self, clock: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Invocation::Scheduled { time } => *time,
            Invocation::Deadline { at: Some(at) } => *at,
            Invocation::DryRun { now: Some(now), .. } => *now,
            Invocation::Manual
            | Invocation::DryRun { now: None, .. }
            | Invocation::Deadline { at: None }
            | Invocation::Historical { .. }
            | Invocation::ObjectEvents(_) => clock,
        }
    }

    pub fn is_dry_run(&self) -> bool {
        matches!(self, Invocation::DryRun { .. })
    }

    /// The artifact ids a dry run or a history scan is limited to; empty means all.
    pub fn only(&self) -> &[String] {
        match self {
            Invocation::DryRun { only, .. } | Invocation::Historical { only, .. } => only,
            _ => &[],
        }
    }
}

/// The accepted events, appended to every rejection.
pub const ACCEPTED_EVENTS: &str = "accepted events: an EventBridge scheduled event (its \"time\" \
     is the pass's now), {} (a pass at the current time), {\"dry_run\": true} (no writes, no \
     alerts, results in the response), which alone may add \"now\": \"<RFC 3339 time>\" and \
     \"only\": [\"<artifact_id>\", ...], or {\"mode\": \"historical\"} (the history scan, \
     writing history.json), which may add \"lookback\": {\"<cadence>\": <cycles, 1 to 1000>} and \
     \"only\", or {\"mode\": \"deadline\", \"at\": \"<RFC 3339 time>\"} (the deadline schedule's \
     pass, judged at \"at\"), or S3 \"Object Created\" events (EventBridge's, batched by SQS, \
     or S3's own {\"Records\": [...]})";

/// An event the function does not accept. The message names the problem, then what is
/// accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported event: {problem}; {ACCEPTED_EVENTS}")]
pub struct EventError {
    problem: String,
}

impl EventError {
    fn new(problem: String) -> Self {
        EventError { problem }
    }

    /// A dry run's `only` named ids the registry does not have.
    pub fn unknown_only_ids(ids: &[String]) -> Self {
        const LISTED: usize = 20;
        let mut listed: Vec<String> = ids.iter().take(LISTED).map(|id| bounded(id)).collect();
        if ids.len() > LISTED {
            listed.push(format!("and {} more", ids.len() - LISTED));
        }
        EventError::new(format!(
            "\"only\" names artifact ids the registry does not have: {}",
            listed.join(", ")
        ))
    }

    /// A history scan's `lookback` named cadences the registry does not have.
    pub fn unknown_lookback_cadences(names: &[String], known: &[&str]) -> Self {
        let named: Vec<String> = names
            .iter()
            .map(|name| {
                let hint = did_you_mean(name, known)
                    .map(|k| format!(" (did you mean \"{k}\"?)"))
                    .unwrap_or_default();
                format!("{}{hint}", quoted(name))
            })
            .collect();
        EventError::new(format!(
            "\"lookback\" names cadences the registry does not have: {}; known cadences: {}",
            named.join(", "),
            known.join(", ")
        ))
    }

    /// What was wrong, without the list of accepted events.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

fn parse_eventbridge(fields: &Map<String, Value>) -> Result<Invocation, EventError> {
    let source = fields.get("source").and_then(Value::as_str);
    let detail_type = fields.get("detail-type").and_then(Value::as_str);
    if source != Some("aws.events") || detail_type != Some("Scheduled Event") {
        return Err(EventError::new(format!(
            "an EventBridge event with source {} and detail-type {} is not a scheduled event \
             (source \"aws.events\", detail-type \"Scheduled Event\")",
            fields
                .get("source")
                .map_or("(none)".into(), |v| bounded(&v.to_string())),
            fields
                .get("detail-type")
                .map_or("(none)".into(), |v| bounded(&v.to_string())),
        )));
    }
    let time = match fields.get("time") {
        None => {
            return Err(EventError::new(
                "the scheduled event has no \"time\"".to_string(),
            ));
        }
        Some(Value::String(text)) => parse_time(text).ok_or_else(|| {
            EventError::new(format!(
                "the scheduled event's \"time\" {} is not an RFC 3339 time",
                quoted(text)
            ))
        })?,
        Some(other) => {
            return Err(EventError::new(format!(
                "the scheduled event's \"time\" is {}, not an RFC 3339 string",
                describe(other)
            )));
        }
    };
    Ok(Invocation::Scheduled { time })
}

const MANUAL_FIELDS: [&str; 6] = ["dry_run", "now", "only", "mode", "lookback", "at"];

fn parse_manual(fields: &Map<String, Value>) -> Result<Invocation, EventError> {
    if let Some(unknown) = fields.keys().find(|k| !MANUAL_FIELDS.contains(&k.as_str())) {
        let hint = did_you_mean(unknown, &MANUAL_FIELDS)
            .map(|known| format!(" (did you mean \"{known}\"?)"))
            .unwrap_or_default();
        return Err(EventError::new(format!(
            "unknown field {}{hint}",
            quoted(unknown)
        )));
    }
    if fields.get("mode").and_then(Value::as_str) == Some("deadline") {
        return parse_deadline(fields);
    }
    if fields.contains_key("mode") {
        return parse_historical(fields);
    }
    if fields.contains_key("at") {
        return Err(EventError::new(
            "\"at\" is accepted only together with \"mode\": \"deadline\"".to_string(),
        ));
    }
    if fields.contains_key("lookback") {
        return Err(EventError::new(
            "\"lookback\" is accepted only together with \"mode\": \"historical\"".to_string(),
        ));
    }
    let dry_run = match fields.get("dry_run") {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(other) => {
            return Err(EventError::new(format!(
                "\"dry_run\" must be true or false (a JSON boolean), got {}",
                describe(other)
            )));
        }
    };
    if !dry_run {
        if let Some(field) = ["now", "only"]
            .into_iter()
            .find(|f| fields.contains_key(*f))
        {
            return Err(EventError::new(format!(
                "\"{field}\" is accepted only together with \"dry_run\": true (a pass with \
                 side effects always judges the current time over every artifact){}",
                if field == "only" {
                    " or with \"mode\": \"historical\""
                } else {
                    ""
                }
            )));
        }
        return Ok(Invocation::Manual);
    }
    let now = match fields.get("now") {
        None => None,
        Some(Value::String(text)) => Some(parse_time(text).ok_or_else(|| {
            EventError::new(format!(
                "\"now\" {} is not an RFC 3339 time such as \"2026-05-30T12:00:00Z\"",
                quoted(text)
            ))
        })?),
        Some(other) => {
            return Err(EventError::new(format!(
                "\"now\" must be an RFC 3339 time string, got {}",
                describe(other)
            )));
        }
    };
    let only = parse_only(fields.get("only"))?;
    Ok(Invocation::DryRun { now, only })
}

/// `{"mode": "historical", "lookback": {...}, "only": [...]}`.
fn parse_historical(fields: &Map<String, Value>) -> Result<Invocation, EventError> {
    match fields.get("mode") {
        Some(Value::String(mode)) if mode == "historical" => {}
        Some(Value::String(mode)) => {
            return Err(EventError::new(format!(
                "\"mode\" {} is not a mode; the modes are \"historical\" (the history scan) \
                 and \"deadline\" (the deadline schedule's pass)",
                quoted(mode)
            )));
        }
        other => {
            return Err(EventError::new(format!(
                "\"mode\" must be the string \"historical\" or \"deadline\", got {}",
                other.map_or_else(|| "nothing".to_string(), describe)
            )));
        }
    }
    if let Some(field) = ["dry_run", "now"]
        .into_iter()
        .find(|f| fields.contains_key(*f))
    {
        return Err(EventError::new(format!(
            "\"{field}\" is not accepted with \"mode\": \"historical\" (the scan judges the \
             current time and writes history.json; `freshness-monitor history` scans without \
             side effects)"
        )));
    }
    Ok(Invocation::Historical {
        lookback: parse_lookback(fields.get("lookback"))?,
        only: parse_only(fields.get("only"))?,
    })
}

/// `{"mode": "deadline", "at": "<RFC 3339>"}`: only `at` (optional) goes with it.
fn parse_deadline(fields: &Map<String, Value>) -> Result<Invocation, EventError> {
    if let Some(field) = fields
        .keys()
        .find(|k| !["mode", "at"].contains(&k.as_str()))
    {
        return Err(EventError::new(format!(
            "{} is not accepted with \"mode\": \"deadline\" (a deadline pass is a normal pass \
             judged at \"at\")",
            quoted(field)
        )));
    }
    let at = match fields.get("at") {
        None => None,
        Some(Value::String(text)) => Some(parse_time(text).ok_or_else(|| {
            EventError::new(format!(
                "the deadline pass's \"at\" {} is not an RFC 3339 time",
                quoted(text)
            ))
        })?),
        Some(other) => {
            return Err(EventError::new(format!(
                "the deadline pass's \"at\" must be an RFC 3339 time string, got {}",
                describe(other)
            )));
        }
    };
    Ok(Invocation::Deadline { at })
}

/// `"lookback": {"<cadence>": <whole number of cycles, 1 to 1000>, ...}`. Whether each name is
/// a cadence of the registry is checked once the registry is read.
fn parse_lookback(value: Option<&Value>) -> Result<Lookback, EventError> {
    let mut lookback = Lookback::default();
    let entries = match value {
        None => return Ok(lookback),
        Some(Value::Object(entries)) => entries,
        Some(other) => {
            return Err(EventError::new(format!(
                "\"lookback\" must be an object of cadence names to numbers of cycles, such as \
                 {{\"weekday_sf\": 60}}, got {}",
                describe(other)
            )));
        }
    };
    for (name, count) in entries {
        let checked = match count.as_u64() {
            Some(n) => checked_count(n),
            None => Err(LookbackOutOfRange {
                got: describe(count),
            }),
        };
        let cycles =
            checked.map_err(|e| EventError::new(format!("\"lookback\".{} {e}", quoted(name))))?;
        lookback.set(name.clone(), cycles);
    }
    Ok(lookback)
}

/// `"only": ["<artifact_id>", ...]`, non-empty; absent means every artifact.
fn parse_only(value: Option<&Value>) -> Result<Vec<String>, EventError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(EventError::new(
                    "\"only\" is empty: list at least one artifact_id, or leave it out to check \
                     every artifact"
                        .to_string(),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(id) if !id.trim().is_empty() => Ok(id.clone()),
                    other => Err(EventError::new(format!(
                        "\"only\"[{i}] must be an artifact_id string, got {}",
                        describe(other)
                    ))),
                })
                .collect()
        }
        Some(other) => Err(EventError::new(format!(
            "\"only\" must be a list of artifact_id strings, got {}",
            describe(other)
        ))),
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The longest piece of the event a message quotes: an event can be megabytes, and its
/// rejection must stay one readable line.
const QUOTED_MAX_CHARS: usize = 80;

/// `text` as a quoted string, cut after [`QUOTED_MAX_CHARS`] with its full length told.
fn quoted(text: &str) -> String {
    crate::text::quote_within(text, QUOTED_MAX_CHARS)
}

/// Already-rendered text (a JSON value, an id), cut like [`quoted`].
fn bounded(text: &str) -> String {
    crate::text::within(text, QUOTED_MAX_CHARS)
}

/// A JSON value, described for a message (short values quoted whole).
fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".to_string(),
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let text = value.to_string();
    if text.len() <= 60 {
        format!("{kind} {text}")
    } else {
        kind.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn json_serde_cannot_hold_is_an_event_error_naming_the_field() {
        for (json, expected) in [
            (
                r#"{"dry_run": true, "now": 1e400}"#,
                "unsupported event: the event's field \"now\" cannot be read: number out of \
                 range at line 1 column 30; accepted events:",
            ),
            (
                r#"{"dry_run": true, "only": ["a", "\ud800"]}"#,
                "unsupported event: the event's field \"only[1]\" cannot be read: ",
            ),
            (
                r#"{"mode": "historical", "lookback": {"weekday_sf": -1e999}}"#,
                "unsupported event: the event's field \"lookback.weekday_sf\" cannot be read: \
                 number out of range",
            ),
            (
                r#"[1e400]"#,
                "unsupported event: the event's field \"[0]\" cannot be read: number out of range",
            ),
            (
                r#""\udc00""#,
                "unsupported event: the event cannot be read: lone leading surrogate",
            ),
        ] {
            let message = Invocation::parse_json(json).expect_err(json).to_string();
            assert!(message.starts_with(expected), "{json}: {message}");
        }
        assert_eq!(Invocation::parse_json("{}"), Ok(Invocation::Manual));
    }

    fn rejection(event: Value) -> String {
        let err = Invocation::parse(&event).expect_err("should be rejected");
        let message = err.to_string();
        assert!(
            message.ends_with(ACCEPTED_EVENTS),
            "every rejection lists what is accepted: {message}"
        );
        err.problem().to_string()
    }

    fn scheduled(time: Value) -> Value {
        json!({
            "version": "0",
            "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": time,
            "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/freshness-monitor-every-15m"],
            "detail": {}
        })
    }

    #[test]
    fn a_scheduled_event_judges_its_own_time() {
        let inv = Invocation::parse(&scheduled(json!("2026-05-30T12:15:00Z"))).unwrap();
        assert_eq!(
            inv,
            Invocation::Scheduled {
                time: at("2026-05-30T12:15:00Z")
            }
        );
        assert_eq!(
            inv.now(at("2030-01-01T00:00:00Z")),
            at("2026-05-30T12:15:00Z")
        );
        assert!(!inv.is_dry_run());
    }

    #[test]
    fn an_empty_object_is_a_pass_now() {
        let inv = Invocation::parse(&json!({})).unwrap();
        assert_eq!(inv, Invocation::Manual);
        assert_eq!(
            inv.now(at("2026-05-30T12:00:00Z")),
            at("2026-05-30T12:00:00Z")
        );
        assert_eq!(
            Invocation::parse(&json!({"dry_run": false})).unwrap(),
            Invocation::Manual
        );
    }

    #[test]
    fn dry_run_takes_now_and_only() {
        assert_eq!(
            Invocation::parse(&json!({"dry_run": true})).unwrap(),
            Invocation::DryRun {
                now: None,
                only: vec![]
            }
        );
        let inv = Invocation::parse(&json!({
            "dry_run": true, "now": "2026-05-30T14:00:00+02:00", "only": ["pit_parity", "a.b"]
        }))
        .unwrap();
        assert_eq!(
            inv,
            Invocation::DryRun {
                now: Some(at("2026-05-30T12:00:00Z")),
                only: vec!["pit_parity".into(), "a.b".into()]
            }
        );
        assert_eq!(inv.only(), ["pit_parity", "a.b"]);
        assert!(inv.is_dry_run());
    }

    #[test]
    fn non_objects_are_rejected() {
        assert_eq!(
            rejection(json!(null)),
            "the event is null, not a JSON object"
        );
        assert_eq!(
            rejection(json!("run")),
            "the event is a string \"run\", not a JSON object"
        );
        assert_eq!(
            rejection(json!([1])),
            "the event is an array [1], not a JSON object"
        );
    }

    #[test]
    fn unknown_fields_are_rejected_with_a_hint() {
        assert_eq!(
            rejection(json!({"dryrun": true})),
            "unknown field \"dryrun\" (did you mean \"dry_run\"?)"
        );
        assert_eq!(
            rejection(json!({"Records": {}})),
            "\"Records\" must be an array of SQS or S3 notification records"
        );
    }

    #[test]
    fn now_and_only_need_dry_run() {
        let expected = "\"now\" is accepted only together with \"dry_run\": true (a pass with \
                        side effects always judges the current time over every artifact)";
        assert_eq!(rejection(json!({"now": "2026-05-30T12:00:00Z"})), expected);
        assert_eq!(
            rejection(json!({"dry_run": false, "now": "2026-05-30T12:00:00Z"})),
            expected
        );
        assert_eq!(
            rejection(json!({"only": ["x"]})),
            "\"only\" is accepted only together with \"dry_run\": true (a pass with side \
             effects always judges the current time over every artifact) or with \"mode\": \
             \"historical\""
        );
    }

    #[test]
    fn wrong_types_are_named() {
        assert_eq!(
            rejection(json!({"dry_run": "true"})),
            "\"dry_run\" must be true or false (a JSON boolean), got a string \"true\""
        );
        assert_eq!(
            rejection(json!({"dry_run": true, "now": "yesterday"})),
            "\"now\" \"yesterday\" is not an RFC 3339 time such as \"2026-05-30T12:00:00Z\""
        );
        assert_eq!(
            rejection(json!({"dry_run": true, "now": 1748606400})),
            "\"now\" must be an RFC 3339 time string, got a number 1748606400"
        );
        assert_eq!(
            rejection(json!({"dry_run": true, "only": "pit_parity"})),
            "\"only\" must be a list of artifact_id strings, got a string \"pit_parity\""
        );
        assert_eq!(
            rejection(json!({"dry_run": true, "only": []})),
            "\"only\" is empty: list at least one artifact_id, or leave it out to check every \
             artifact"
        );
        assert_eq!(
            rejection(json!({"dry_run": true, "only": ["a", 7]})),
            "\"only\"[1] must be an artifact_id string, got a number 7"
        );
    }

    #[test]
    fn huge_values_are_quoted_in_part_with_their_length() {
        let long = "x".repeat(100_000);
        assert_eq!(
            rejection(json!({ long.clone(): true })),
            format!("unknown field \"{}\"… (100000 characters)", "x".repeat(80))
        );
        assert_eq!(
            rejection(json!({"dry_run": true, "now": long.clone()})),
            format!(
                "\"now\" \"{}\"… (100000 characters) is not an RFC 3339 time such as \
                 \"2026-05-30T12:00:00Z\"",
                "x".repeat(80)
            )
        );
        let ids: Vec<String> = (0..25).map(|i| format!("id{i}")).collect();
        let problem = EventError::unknown_only_ids(&ids).problem().to_string();
        assert!(problem.ends_with("id18, id19, and 5 more"), "{problem}");
    }

    #[test]
    fn mode_historical_takes_lookback_and_only() {
        let inv = Invocation::parse(&json!({"mode": "historical"})).unwrap();
        assert_eq!(
            inv,
            Invocation::Historical {
                lookback: Lookback::default(),
                only: vec![]
            }
        );
        assert_eq!(
            inv.now(at("2026-11-28T04:00:00Z")),
            at("2026-11-28T04:00:00Z"),
            "the clock's now"
        );
        assert!(!inv.is_dry_run());
        let inv = Invocation::parse(&json!({
            "mode": "historical", "lookback": {"weekday_sf": 60, "ny_open": 1000}, "only": ["a"]
        }))
        .unwrap();
        let mut lookback = Lookback::default();
        lookback.set("weekday_sf".into(), 60);
        lookback.set("ny_open".into(), 1000);
        assert_eq!(
            inv,
            Invocation::Historical {
                lookback,
                only: vec!["a".into()]
            }
        );
        assert_eq!(inv.only(), ["a"]);
    }

    #[test]
    fn bad_history_events_name_the_field() {
        let range = "must be a whole number of cycles from 1 to 1000";
        for (event, problem) in [
            (
                json!({"mode": "historical", "lookback": {"weekday_sf": 1.5}}),
                format!("\"lookback\".\"weekday_sf\" {range}, got a number 1.5"),
            ),
            (
                json!({"mode": "historical", "lookback": {"weekday_sf": 1001}}),
                format!("\"lookback\".\"weekday_sf\" {range}, got 1001"),
            ),
            (
                json!({"mode": "historical", "lookback": {"eod_sf": 0}}),
                format!("\"lookback\".\"eod_sf\" {range}, got 0"),
            ),
            (
                json!({"mode": "historical", "lookback": {"eod_sf": -3}}),
                format!("\"lookback\".\"eod_sf\" {range}, got a number -3"),
            ),
            (
                json!({"mode": "historical", "lookback": {"eod_sf": "30"}}),
                format!("\"lookback\".\"eod_sf\" {range}, got a string \"30\""),
            ),
            (
                json!({"mode": "historical", "lookback": [30]}),
                "\"lookback\" must be an object of cadence names to numbers of cycles, such as \
                 {\"weekday_sf\": 60}, got an array [30]"
                    .to_string(),
            ),
            (
                json!({"mode": "backfill"}),
                "\"mode\" \"backfill\" is not a mode; the modes are \"historical\" (the \
                 history scan) and \"deadline\" (the deadline schedule's pass)"
                    .to_string(),
            ),
            (
                json!({"mode": true}),
                "\"mode\" must be the string \"historical\" or \"deadline\", got a boolean true"
                    .to_string(),
            ),
            (
                json!({"mode": "historical", "dry_run": true}),
                "\"dry_run\" is not accepted with \"mode\": \"historical\" (the scan judges the \
                 current time and writes history.json; `freshness-monitor history` scans without \
                 side effects)"
                    .to_string(),
            ),
            (
                json!({"lookback": {"weekday_sf": 3}}),
                "\"lookback\" is accepted only together with \"mode\": \"historical\"".to_string(),
            ),
            (
                json!({"mode": "historical", "only": []}),
                "\"only\" is empty: list at least one artifact_id, or leave it out to check every \
                 artifact"
                    .to_string(),
            ),
            (
                json!({"mode": "historical", "lookbak": {}}),
                "unknown field \"lookbak\" (did you mean \"lookback\"?)".to_string(),
            ),
        ] {
            assert_eq!(rejection(event.clone()), problem, "{event}");
        }
        let problem = EventError::unknown_lookback_cadences(
            &["weekdy_sf".to_string()],
            &["saturday_sf", "weekday_sf"],
        );
        assert_eq!(
            problem.problem(),
            "\"lookback\" names cadences the registry does not have: \"weekdy_sf\" (did you \
             mean \"weekday_sf\"?); known cadences: saturday_sf, weekday_sf"
        );
    }

    #[test]
    fn a_deadline_pass_judges_its_at_and_takes_nothing_else() {
        let inv =
            Invocation::parse(&json!({"mode": "deadline", "at": "2026-06-03T12:08:05Z"})).unwrap();
        assert_eq!(
            inv,
            Invocation::Deadline {
                at: Some(at("2026-06-03T12:08:05Z"))
            }
        );
        assert_eq!(
            inv.now(at("2026-06-03T12:08:06Z")),
            at("2026-06-03T12:08:05Z")
        );
        assert!(!inv.is_dry_run());
        assert!(inv.only().is_empty());
        let bare = Invocation::parse(&json!({"mode": "deadline"})).unwrap();
        assert_eq!(
            bare.now(at("2026-06-03T12:09:00Z")),
            at("2026-06-03T12:09:00Z")
        );
        for (event, problem) in [
            (
                json!({"mode": "deadline", "at": "noon"}),
                "the deadline pass's \"at\" \"noon\" is not an RFC 3339 time",
            ),
            (
                json!({"mode": "deadline", "at": 5}),
                "the deadline pass's \"at\" must be an RFC 3339 time string, got a number 5",
            ),
            (
                json!({"mode": "deadline", "dry_run": true}),
                "\"dry_run\" is not accepted with \"mode\": \"deadline\" (a deadline pass is a \
                 normal pass judged at \"at\")",
            ),
            (
                json!({"at": "2026-06-03T12:08:05Z"}),
                "\"at\" is accepted only together with \"mode\": \"deadline\"",
            ),
        ] {
            assert_eq!(rejection(event.clone()), problem, "{event}");
        }
    }

    #[test]
    fn other_eventbridge_events_are_rejected() {
        let mut event = scheduled(json!("2026-05-30T12:15:00Z"));
        event["source"] = json!("aws.ec2");
        event["detail-type"] = json!("EC2 Instance State-change Notification");
        assert_eq!(
            rejection(event),
            "an EventBridge event with source \"aws.ec2\" and detail-type \"EC2 Instance \
             State-change Notification\" is not a scheduled event (source \"aws.events\", \
             detail-type \"Scheduled Event\")"
        );
    }

    #[test]
    fn a_scheduled_event_needs_a_valid_time() {
        let mut event = scheduled(json!("soon"));
        assert_eq!(
            rejection(event.clone()),
            "the scheduled event's \"time\" \"soon\" is not an RFC 3339 time"
        );
        event["time"] = json!(12);
        assert_eq!(
            rejection(event.clone()),
            "the scheduled event's \"time\" is a number 12, not an RFC 3339 string"
        );
        event.as_object_mut().unwrap().remove("time");
        assert_eq!(rejection(event), "the scheduled event has no \"time\"");
    }
}
