//! Every rule of docs/classification.md as a row of one table, judged in-process the way the
//! pass judges (rules 1–2 without S3, then the probes rule 4 asks for, then rules 3–5), with
//! a fixed clock and probe outcomes given by the row.

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::cadence::Cadence;
use crate::calendar::TradingCalendar;
use crate::registry::{ArtifactId, Severity};
use crate::template::KeyTemplate;
use Cadence::SaturdaySf;

/// An artifact spec with every field at a plain default, changed one field at a time.
struct SpecBuilder(ArtifactSpec);

impl SpecBuilder {
    fn new(cadence: Cadence) -> Self {
        SpecBuilder(ArtifactSpec {
            id: ArtifactId::parse("p").unwrap(),
            line: 1,
            s3_bucket: "research-bucket".into(),
            s3_key_template: KeyTemplate::parse("b/{date}.json").unwrap(),
            cadence,
            sla_minutes_after_cron: 180,
            severity: Severity::Critical,
            owner_repo: "owner".into(),
            created_at: date("2026-01-01"),
            grace_period_cycles: 2,
            calendar_aware: true,
            optional: None,
            links: None,
        })
    }

    fn created(mut self, day: &str) -> Self {
        self.0.created_at = date(day);
        self
    }

    fn sla(mut self, minutes: u32) -> Self {
        self.0.sla_minutes_after_cron = minutes;
        self
    }

    fn recovery(mut self, template: &str) -> Self {
        self.0.optional_mut().recovery_key_template = Some(KeyTemplate::parse(template).unwrap());
        self
    }

    fn not_calendar_aware(mut self) -> Self {
        self.0.calendar_aware = false;
        self
    }
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn present(last_modified: &str) -> ProbeOutcome {
    Ok(Some(ObjectMeta {
        last_modified: at(last_modified),
        size: None,
        etag: None,
    }))
}

const ABSENT: ProbeOutcome = Ok(None);

fn failed() -> ProbeOutcome {
    Err(StoreError::Server { status: 503 })
}

/// One rule, one expectation.
struct Case {
    name: &'static str,
    spec: SpecBuilder,
    now: &'static str,
    /// What a HEAD of the canonical key sees; `None`: the rule must not probe at all.
    canonical: Option<ProbeOutcome>,
    /// What a HEAD of the recovery key sees; `None`: the rule must not probe it.
    recovery: Option<ProbeOutcome>,
    state: State,
    sla_violated_by_minutes: i64,
    alerting: bool,
    recovery_substituted: bool,
    reason_contains: &'static str,
}

/// Judges a case as the pass does; panics when a probe is made that the case says must not be.
fn judge_case(case: &Case) -> Classification {
    let spec = &case.spec.0;
    let now = at(case.now);
    let calendar = TradingCalendar::nyse([]);
    let cycle = spec.cadence.cycle_at(now, &calendar).expect("a cycle");
    if let Some(verdict) = decide_without_probe(spec, &cycle, now, &mut NoLog) {
        assert!(case.canonical.is_none(), "{}: expected a probe", case.name);
        return verdict;
    }
    let keys = ResolvedKeys::resolve(spec, &cycle);
    let canonical = case
        .canonical
        .as_ref()
        .unwrap_or_else(|| panic!("{}: probed without the case saying so", case.name));
    let recovery = needs_recovery_probe(&keys, &cycle, canonical).then(|| {
        case.recovery
            .as_ref()
            .unwrap_or_else(|| panic!("{}: probed the recovery key unexpectedly", case.name))
    });
    assert_eq!(
        recovery.is_some(),
        case.recovery.is_some(),
        "{}: recovery probe",
        case.name
    );
    let probes = Probes {
        canonical,
        recovery,
    };
    judge(spec, &cycle, &keys, now, probes, &mut NoLog)
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Cadence::WeekdaySf;
    let case = |name, spec, now, canonical, recovery, state, minutes, alerting, substituted, reason| Case {
        name, spec, now, canonical, recovery, state, sla_violated_by_minutes: minutes, alerting,
        recovery_substituted: substituted, reason_contains: reason,
    };
    vec![
        // Rule 1: grace period, counted in cycles from created_at 00:00 UTC; no probe.
        case("1 in grace", SpecBuilder::new(SaturdaySf).created("2026-06-01"), "2026-06-07T12:00:00Z",
             None, None, State::GracePeriod, 0, false, false, "in its grace period until 2026-06-15T00:00:00Z"),
        case("1 grace ends exactly", SpecBuilder::new(SaturdaySf).created("2026-06-01"), "2026-06-15T00:00:00Z",
             Some(ABSENT), None, State::Missing, 2160, true, false, "not found"),
        // Rule 2: a closure on a gated cadence is fresh without a probe, unless not calendar-aware.
        case("2 closure", SpecBuilder::new(WeekdaySf), "2026-07-03T15:00:00Z",
             None, None, State::Fresh, 0, false, false, "Independence Day (observed); nothing is expected"),
        case("2 closure, not calendar-aware", SpecBuilder::new(WeekdaySf).not_calendar_aware(), "2026-07-03T17:00:00Z",
             Some(ABSENT), None, State::Missing, 60, true, false, "60 min past its SLA"),
        case("2 open day", SpecBuilder::new(WeekdaySf), "2026-07-02T17:00:00Z",
             Some(ABSENT), None, State::Missing, 60, true, false, "not found"),
        // Rule 3: present since the tick is fresh (the tick itself counts); before it, stale.
        case("3 fresh", SpecBuilder::new(SaturdaySf), "2026-06-07T12:00:00Z",
             Some(present("2026-06-06T10:00:00Z")), None, State::Fresh, 0, false, false, "present, last modified 2026-06-06T10:00:00Z"),
        case("3 modified at the tick", SpecBuilder::new(SaturdaySf), "2026-06-07T12:00:00Z",
             Some(present("2026-06-06T09:00:00Z")), None, State::Fresh, 0, false, false, "cycle tick 2026-06-06T09:00:00Z"),
        case("3 stale within SLA", SpecBuilder::new(SaturdaySf), "2026-06-06T11:00:00Z",
             Some(present("2026-06-05T10:00:00Z")), None, State::Stale, 0, false, false, "within its SLA"),
        case("3 probe failed", SpecBuilder::new(SaturdaySf), "2026-06-06T11:00:00Z",
             Some(failed()), None, State::ProbeFailed, 0, true, false, "HTTP 503"),
        // Rule 4: the recovery key saves a missing or stale canonical; a failed probe never
        // falls through to recovery; a failed recovery probe is probe_failed.
        case("4 recovery saves missing", SpecBuilder::new(SaturdaySf).recovery("r/{date}.json"), "2026-06-07T12:00:00Z",
             Some(ABSENT), Some(present("2026-06-06T11:00:00Z")), State::Fresh, 0, false, true, "recovery s3://research-bucket/r/2026-06-06.json present"),
        case("4 recovery saves stale", SpecBuilder::new(SaturdaySf).recovery("r/{date}.json"), "2026-06-07T12:00:00Z",
             Some(present("2026-05-30T10:00:00Z")), Some(present("2026-06-06T11:00:00Z")), State::Fresh, 0, false, true, "recovery"),
        case("4 recovery stale too", SpecBuilder::new(SaturdaySf).recovery("r/{date}.json"), "2026-06-07T12:00:00Z",
             Some(ABSENT), Some(present("2026-05-30T10:00:00Z")), State::Missing, 1440, true, false, "is stale too"),
        case("4 recovery missing too", SpecBuilder::new(SaturdaySf).recovery("r/{date}.json"), "2026-06-07T12:00:00Z",
             Some(ABSENT), Some(ABSENT), State::Missing, 1440, true, false, "not found either"),
        case("4 no fall-through after a failure", SpecBuilder::new(SaturdaySf).recovery("r/{date}.json"), "2026-06-07T12:00:00Z",
             Some(failed()), None, State::ProbeFailed, 0, true, false, "HTTP 503"),
        case("4 recovery probe failed", SpecBuilder::new(SaturdaySf).recovery("r/{date}.json"), "2026-06-07T12:00:00Z",
             Some(ABSENT), Some(failed()), State::ProbeFailed, 0, true, false, "(recovery)"),
        case("4 fresh canonical needs no recovery", SpecBuilder::new(SaturdaySf).recovery("r/{date}.json"), "2026-06-07T12:00:00Z",
             Some(present("2026-06-06T10:00:00Z")), None, State::Fresh, 0, false, false, "present"),
        // Rule 5: whole minutes past tick + SLA, floored; alerting from the first whole minute.
        case("5 59 s past", SpecBuilder::new(SaturdaySf), "2026-06-06T12:00:59Z",
             Some(ABSENT), None, State::Missing, 0, false, false, "within its SLA"),
        case("5 60 s past", SpecBuilder::new(SaturdaySf), "2026-06-06T12:01:00Z",
             Some(ABSENT), None, State::Missing, 1, true, false, "1 min past its SLA (due 2026-06-06T12:00:00Z)"),
        case("5 SLA 0", SpecBuilder::new(SaturdaySf).sla(0), "2026-06-06T09:30:00Z",
             Some(ABSENT), None, State::Missing, 30, true, false, "30 min past"),
        case("5 stale past SLA", SpecBuilder::new(SaturdaySf), "2026-06-07T12:00:00Z",
             Some(present("2026-05-30T10:00:00Z")), None, State::Stale, 1440, true, false, "before the cycle tick 2026-06-06T09:00:00Z"),
    ]
}

#[test]
fn every_rule_of_the_classification_table() {
    for case in cases() {
        let verdict = judge_case(&case);
        let name = case.name;
        assert_eq!(verdict.state, case.state, "{name}: {}", verdict.reason);
        assert_eq!(
            verdict.sla_violated_by_minutes, case.sla_violated_by_minutes,
            "{name}"
        );
        assert_eq!(verdict.is_alerting(), case.alerting, "{name}");
        assert_eq!(
            verdict.recovery_substituted, case.recovery_substituted,
            "{name}"
        );
        assert!(
            verdict.reason.contains(case.reason_contains),
            "{name}: {:?} not in {:?}",
            case.reason_contains,
            verdict.reason
        );
    }
}

#[test]
fn the_trail_names_each_rule_in_order() {
    let spec = SpecBuilder::new(SaturdaySf).recovery("r/{date}.json").0;
    let now = at("2026-06-07T12:00:00Z");
    let cycle = spec
        .cadence
        .cycle_at(now, &TradingCalendar::nyse([]))
        .unwrap();
    let keys = ResolvedKeys::resolve(&spec, &cycle);
    let mut trail = Vec::new();
    assert!(decide_without_probe(&spec, &cycle, now, &mut trail).is_none());
    let probes = Probes {
        canonical: &ABSENT,
        recovery: Some(&ABSENT),
    };
    judge(&spec, &cycle, &keys, now, probes, &mut trail);
    let lines: Vec<String> = trail.iter().map(|d| d.to_string()).collect();
    let rules: Vec<&str> = lines.iter().map(|l| &l[..1]).collect();
    assert_eq!(rules, ["1", "2", "3", "4", "5"], "{lines:#?}");
    assert!(lines[3].contains("HEAD recovery s3://research-bucket/r/2026-06-06.json: not found"));
    assert!(
        lines[4].ends_with("1440 min past -> alerts"),
        "{}",
        lines[4]
    );
}

#[test]
fn a_grace_period_past_the_end_of_time_saturates() {
    let mut spec = SpecBuilder::new(Cadence::SaturdaySf).0;
    spec.grace_period_cycles = 99_999_999;
    let now = at("2026-06-07T12:00:00Z");
    let cycle = spec
        .cadence
        .cycle_at(now, &TradingCalendar::nyse([]))
        .unwrap();
    assert_eq!(grace_ends_at(&spec, &cycle), DateTime::<Utc>::MAX_UTC);
    let verdict = decide_without_probe(&spec, &cycle, now, &mut NoLog).unwrap();
    assert_eq!(verdict.state, State::GracePeriod);
}

#[test]
fn a_grace_period_beyond_i32_cycles_is_counted_exactly() {
    let mut spec = SpecBuilder::new(Cadence::Continuous {
        interval_minutes: 1,
    })
    .0;
    spec.grace_period_cycles = 3_000_000_000;
    let now = at("2026-06-07T12:00:00Z");
    let cycle = spec
        .cadence
        .cycle_at(now, &TradingCalendar::nyse([]))
        .unwrap();
    let expected = at("2026-01-01T00:00:00Z") + chrono::Duration::minutes(3_000_000_000);
    assert_eq!(grace_ends_at(&spec, &cycle), expected);
}
