//! Property tests over the parsers operators feed by hand: whatever the input, no panic, no
//! hang, and every rejection carries a message that locates the problem.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use freshness_monitor::cadence::cron::{CronSchedule, DstRule, Zone};
use freshness_monitor::registry::parse_registry;
use freshness_monitor::template::{KeyTemplate, TemplateValues};

const DEMO: &str = include_str!("../../examples/demo/ARTIFACT_REGISTRY.yaml");

/// Edits that keep most of a real registry and break a little of it.
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    DuplicateLine { line: usize },
    SwapLines { a: usize, b: usize },
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for edit in edits {
        match edit {
            Edit::Delete { at, len } => {
                let at = at % (s.len() + 1);
                let end = (at + len).min(s.len());
                s.drain(at..end);
            }
            Edit::Insert { at, text } => {
                let at = at % (s.len() + 1);
                for (i, c) in text.chars().enumerate() {
                    s.insert(at + i, c);
                }
            }
            Edit::DuplicateLine { line } | Edit::SwapLines { a: line, .. } => {
                let joined: String = s.iter().collect();
                let mut lines: Vec<String> = joined.lines().map(str::to_string).collect();
                if lines.is_empty() {
                    continue;
                }
                let i = line % lines.len();
                if let Edit::SwapLines { b, .. } = edit {
                    let j = b % lines.len();
                    lines.swap(i, j);
                } else {
                    let copy = lines[i].clone();
                    lines.insert(i, copy);
                }
                s = (lines.join("\n") + "\n").chars().collect();
            }
        }
    }
    s.into_iter().collect()
}

fn edit() -> impl Strategy<Value = Edit> {
    let yamlish = prop::sample::select(vec![
        ":", "- ", "{", "}", "[", "]", "&a ", "*a", "<<: ", "\"", "'", "#", "\n", "  ", "\t",
        "{date", "{datee}", "-5", "1e9", "~", "null", "true", "---\n", "%Y", "{{", "}}", "💥",
    ])
    .prop_map(str::to_string);
    prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), yamlish).prop_map(|(at, text)| Edit::Insert { at, text }),
        (any::<usize>(), "\\PC{0,12}").prop_map(|(at, text)| Edit::Insert { at, text }),
        any::<usize>().prop_map(|line| Edit::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines { a, b }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn registry_parser_never_panics_and_every_error_is_located(
        edits in prop::collection::vec(edit(), 1..6)
    ) {
        let text = apply(DEMO, &edits);
        match parse_registry("mutated.yaml", text.as_bytes()) {
            Ok(registry) => {
                for e in registry.artifact_errors() {
                    prop_assert!(!e.message.is_empty());
                    prop_assert!(e.line > 0, "artifact error without a line: {}", e);
                    prop_assert!(e.to_string().starts_with("mutated.yaml:"));
                }
            }
            Err(err) => {
                prop_assert!(!err.errors.is_empty());
                for e in &err.errors {
                    prop_assert!(!e.message.is_empty());
                    prop_assert!(e.to_string().starts_with("mutated.yaml"));
                }
            }
        }
    }

    #[test]
    fn registry_parser_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Err(err) = parse_registry("bytes.yaml", &bytes) {
            prop_assert!(err.errors.iter().all(|e| !e.message.is_empty()));
        }
    }

    #[test]
    fn template_parse_then_render_never_panics(
        source in "[a-z/{}:%_.0-9A-Za-z-]{0,40}",
        days in 0i64..40_000,
    ) {
        match KeyTemplate::parse(&source) {
            Ok(template) => {
                let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + Duration::days(days);
                let render = |date| template.render(&TemplateValues {
                    date,
                    cycle_label: "2026-W22",
                    trading_day: date,
                });
                let key = render(date);
                // A pointer names the same key every cycle.
                if template.is_pointer() {
                    prop_assert_eq!(key, render(date + Duration::days(1)));
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn template_with_any_strftime_format_renders_or_is_refused(format in "%[a-zA-Z%:#.0-9+-]{1,3}") {
        let source = format!("k/{{date:{format}}}");
        if let Ok(template) = KeyTemplate::parse(&source) {
            let values = TemplateValues {
                date: NaiveDate::from_ymd_opt(2031, 12, 31).unwrap(),
                cycle_label: "x",
                trading_day: NaiveDate::from_ymd_opt(2031, 12, 30).unwrap(),
            };
            let _ = template.render(&values);
        }
    }

    #[test]
    fn cron_previous_fire_is_at_or_before_now_and_next_is_after(
        minute in 0u32..60, hour in 0u32..24, dow in 0u32..7,
        offset_minutes in 0i64..(60 * 24 * 400), eventbridge in any::<bool>(),
    ) {
        let expr = format!("{minute} {hour} * * {dow}");
        let cron = CronSchedule::parse(&expr).unwrap();
        let dst = if eventbridge { DstRule::EventBridge } else { DstRule::Cron };
        let zone = Zone { tz: chrono_tz::America::New_York, dst };
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(offset_minutes);
        let prev = cron.previous_fire(zone, now).unwrap();
        let next = cron.next_fire(zone, prev).unwrap();
        prop_assert!(prev <= now);
        prop_assert!(next > now, "{expr} at {now}: prev {prev}, next {next}");
        // EventBridge drops a weekly 02:xx fire on the spring change day: two weeks then.
        let longest = if eventbridge { Duration::days(14) } else { Duration::days(7) };
        prop_assert!(next - prev <= longest + Duration::hours(1));
    }

    #[test]
    fn cron_parser_rejects_garbage_with_a_message(expr in "[0-9*/,a-zA-Z -]{0,30}") {
        if let Err(e) = CronSchedule::parse(&expr) {
            let quoted = format!("{:?}", expr);
            let message = e.to_string();
            prop_assert!(message.contains(&quoted), "{} lacks {}", message, quoted);
        }
    }
}

mod event_parser {
    //! The Lambda event parser (`Invocation::parse`) over arbitrary JSON: no panic, no hang,
    //! and every rejection is one bounded message that says what is accepted.

    use freshness_monitor::lambda::event::{ACCEPTED_EVENTS, Invocation};
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    const KNOWN_KEYS: [&str; 12] = [
        "dry_run",
        "now",
        "only",
        "mode",
        "lookback",
        "source",
        "detail-type",
        "time",
        "dryrun",
        "detail",
        "version",
        "Records",
    ];

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(KNOWN_KEYS.to_vec()).prop_map(str::to_string),
            "\\PC{0,12}",
            // A key far longer than any message may quote.
            "[a-z]{200,400}",
        ]
    }

    /// Text that is, or almost is, an RFC 3339 time (out-of-range fields, odd offsets).
    fn time_like() -> impl Strategy<Value = String> {
        "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|z|[+-][0-9]{2}:[0-9]{2})?"
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("JSON numbers are finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,30}".prop_map(Value::String),
            time_like().prop_map(Value::String),
            prop::sample::select(vec![
                "aws.events",
                "Scheduled Event",
                "true",
                "historical",
                "aws.s3",
                "Object Created"
            ])
            .prop_map(|s| Value::String(s.to_string())),
            "x{500,2000}".prop_map(Value::String),
        ]
    }

    fn json() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(key(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    /// Objects made mostly of the keys the parser knows, with values of any type: close to a
    /// real event, so the parser's deeper branches are reached.
    fn event_like() -> impl Strategy<Value = Value> {
        prop::collection::btree_map(
            prop::sample::select(KNOWN_KEYS.to_vec()).prop_map(str::to_string),
            prop_oneof![leaf(), json()],
            0..6,
        )
        .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>()))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn event_parser_never_panics_and_every_rejection_says_what_is_accepted(
            event in prop_oneof![json(), event_like()]
        ) {
            match Invocation::parse(&event) {
                Ok(Invocation::Scheduled { .. }) => {
                    prop_assert_eq!(&event["source"], "aws.events");
                    prop_assert_eq!(&event["detail-type"], "Scheduled Event");
                }
                Ok(Invocation::DryRun { only, .. }) => {
                    prop_assert_eq!(&event["dry_run"], true);
                    prop_assert!(only.iter().all(|id| !id.trim().is_empty()));
                }
                Ok(Invocation::Historical { only, .. }) => {
                    prop_assert_eq!(&event["mode"], "historical");
                    prop_assert!(only.iter().all(|id| !id.trim().is_empty()));
                }
                Ok(Invocation::Deadline { .. }) => {
                    prop_assert_eq!(&event["mode"], "deadline");
                    let fields = event.as_object().expect("only an object is accepted");
                    prop_assert!(fields.keys().all(|k| k == "mode" || k == "at"), "{}", event);
                }
                Ok(Invocation::ObjectEvents(events)) => {
                    let fields = event.as_object().expect("only an object is accepted");
                    prop_assert!(
                        fields.contains_key("Records") || event["source"] == "aws.s3",
                        "{}", event
                    );
                    // Whatever is inside, it is counted, never an error.
                    prop_assert!(events.records.iter().all(|r| !r.items.is_empty()));
                }
                Ok(Invocation::Manual) => {
                    let fields = event.as_object().expect("only an object is accepted");
                    prop_assert!(fields.keys().all(|k| k == "dry_run"), "{}", event);
                }
                Err(err) => {
                    let message = err.to_string();
                    prop_assert!(message.starts_with("unsupported event: "), "{}", message);
                    prop_assert!(message.ends_with(ACCEPTED_EVENTS), "{}", message);
                    prop_assert!(!err.problem().trim().is_empty());
                    prop_assert!(
                        err.problem().chars().count() <= 600,
                        "a rejection quotes a bounded part of the event: {} characters",
                        err.problem().chars().count()
                    );
                }
            }
        }
    }
}
