//! The policy's rules as tables: rows, the registry's policy, a ledger, acks and `now` in,
//! each row's decision out.

use std::sync::Arc;

use chrono::TimeZone;

use super::*;
use crate::alert::digest::{alert_digest, new_alerts};
use crate::cadence::cron::CronSchedule;
use crate::ledger::LedgerEntry;
use crate::registry::ArtifactId;
use crate::registry::policy::{Recurrence, Route, Silence};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 6, 14, 0, 0).unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn row(id: &str, severity: Severity, owner: &str) -> ResultRow {
    ResultRow {
        artifact_id: id.to_string().into(),
        context: std::sync::Arc::new(crate::report::RowContext {
            owner_repo: Some(Arc::from(owner)),
            cadence: Some(Arc::from("saturday_sf")),
            cycle_label: Some(Arc::from("2026-W23")),
            cycle_tick: None,
            s3_bucket: Some(Arc::from("bucket")),
        }),
        severity: Some(severity),
        canonical_key: Some(format!("data/{id}.json").into()),
        state: State::Missing,
        reason: "no object at the key".into(),
        last_modified: None,
        sla_violated_by_minutes: 120,
        recovery_substituted: false,
        due_at: None,
        alerting: true,
        last_probed_at: None,
        policy: None,
        awaiting_event: false,
        carried: None,
        extras: None,
    }
}

fn silence(glob: &str, from: Option<&str>, until: Option<&str>) -> Silence {
    Silence {
        index: 0,
        line: 7,
        artifact_id: Some(glob.to_string()),
        owner_repo: None,
        cadence: None,
        from: from.map(at),
        until: until.map(at),
        recurring: None,
        reason: "producer migration".into(),
    }
}

fn ack(id: &str, at_: &str, until: Option<&str>) -> Ack {
    Ack {
        artifact_id: id.into(),
        by: "alice".into(),
        note: Some("rerunning".into()),
        at: at(at_),
        until: until.map(at),
        until_resolved: until.is_none(),
    }
}

fn ledger_entry(cycle: &str, missed_before: u32, state: State) -> LedgerEntry {
    let mut entry: LedgerEntry = serde_json::from_value(serde_json::json!({
        "cycle": cycle, "state": state, "missed_cycles": missed_before
    }))
    .unwrap();
    entry.first_missing_at = Some("2026-05-30T12:30:00Z".parse().unwrap());
    entry
}

struct Case {
    policy: PassPolicy,
    ledger: Option<Ledger>,
    acks: Vec<Ack>,
    channels: Vec<&'static str>,
}

impl Case {
    fn new() -> Case {
        Case {
            policy: PassPolicy::default(),
            ledger: None,
            acks: Vec::new(),
            channels: vec!["sns", "telegram"],
        }
    }

    fn decide(&self, rows: &mut [ResultRow]) {
        let inputs = PolicyInputs {
            policy: &self.policy,
            ledger: self.ledger.as_ref(),
            acks: &self.acks,
            channels: &self.channels,
            alerts_enabled: true,
        };
        decide(rows, &inputs, now());
    }
}

fn id(text: &str) -> ArtifactId {
    ArtifactId::parse(text).unwrap()
}

fn ids(texts: &[&str]) -> Box<[ArtifactId]> {
    texts.iter().map(|t| id(t)).collect()
}

/// The graph of `links` (an artifact and its upstreams).
fn graph(links: Vec<(ArtifactId, Box<[ArtifactId]>)>) -> DependsOn {
    DependsOn::from_links(links.iter().map(|(id, ups)| (id, &ups[..])))
}

fn policy_of(row: &ResultRow) -> &RowPolicy {
    row.policy.as_deref().expect("an alerting row has a policy")
}

#[test]
fn without_a_policy_every_alert_goes_everywhere_at_its_own_severity() {
    let mut rows = vec![
        row("a", Severity::Warning, "o"),
        row("b", Severity::Critical, "o"),
    ];
    rows.push(ResultRow {
        alerting: false,
        state: State::Fresh,
        ..row("c", Severity::Critical, "o")
    });
    Case::new().decide(&mut rows);
    for r in &rows[..2] {
        let p = policy_of(r);
        assert_eq!(p.action, PolicyAction::Send);
        assert_eq!(p.channels, ["sns", "telegram"]);
        assert_eq!(p.missed_cycles, 1);
        assert!(!p.escalated && !p.observe);
    }
    assert_eq!(policy_of(&rows[0]).effective_severity, Severity::Warning);
    assert!(
        rows[2].policy.is_none(),
        "only alerting rows carry a policy"
    );
}

#[test]
fn routes_pick_channels_by_severity_and_warning_can_go_nowhere() {
    let mut case = Case::new();
    case.policy.policy.routes = vec![
        Route {
            channel: "telegram".into(),
            severities: vec![Severity::Critical],
        },
        Route {
            channel: "sns".into(),
            severities: vec![Severity::Critical],
        },
    ];
    let mut rows = vec![
        row("warn", Severity::Warning, "o"),
        row("crit", Severity::Critical, "o"),
    ];
    case.decide(&mut rows);
    let warn = policy_of(&rows[0]);
    assert_eq!(warn.action, PolicyAction::NotRouted);
    assert!(warn.channels.is_empty());
    assert!(
        warn.rule.starts_with("routed to no channel"),
        "{}",
        warn.rule
    );
    assert_eq!(policy_of(&rows[1]).channels, ["sns", "telegram"]);
    let ids: Vec<String> = new_alerts(&rows, now())
        .into_iter()
        .map(|a| a.artifact_id.to_string())
        .collect();
    assert_eq!(ids, ["crit"], "an unrouted alert is not planned at all");

    // Telegram critical only, SNS everything (unnamed channels get everything).
    case.policy.policy.routes.truncate(1);
    case.decide(&mut rows);
    assert_eq!(policy_of(&rows[0]).channels, ["sns"]);
    assert_eq!(policy_of(&rows[1]).channels, ["sns", "telegram"]);
}

#[test]
fn silences_match_by_glob_owner_or_cadence_within_their_window() {
    let recurring = Recurrence {
        // Saturdays 13:00 UTC for two hours.
        schedule: CronSchedule::parse("0 13 * * 6").unwrap(),
        timezone: chrono_tz::UTC,
        duration: chrono::Duration::hours(2),
    };
    let by_owner = Silence {
        artifact_id: None,
        owner_repo: Some("research".into()),
        ..silence("", None, Some("2026-07-01T00:00:00Z"))
    };
    for (silence, id, owner, silenced) in [
        (
            silence("pit_*", None, Some("2026-06-07T00:00:00Z")),
            "pit_parity",
            "o",
            true,
        ),
        (
            silence("pit_*", None, Some("2026-06-07T00:00:00Z")),
            "prices",
            "o",
            false,
        ),
        (
            silence(
                "pit_*",
                Some("2026-06-06T15:00:00Z"),
                Some("2026-06-07T00:00:00Z"),
            ),
            "pit_a",
            "o",
            false,
        ),
        (
            silence("pit_*", None, Some("2026-06-06T14:00:00Z")),
            "pit_a",
            "o",
            false,
        ),
        (by_owner.clone(), "anything", "research", true),
        (by_owner, "anything", "other", false),
        (
            Silence {
                recurring: Some(recurring.clone()),
                until: None,
                ..silence("*", None, None)
            },
            "x",
            "o",
            true,
        ),
        (
            Silence {
                recurring: Some(Recurrence {
                    duration: chrono::Duration::minutes(30),
                    ..recurring
                }),
                until: None,
                ..silence("*", None, None)
            },
            "x",
            "o",
            false,
        ),
    ] {
        let mut case = Case::new();
        case.policy.policy.silences = vec![silence.clone()];
        let mut rows = vec![row(id, Severity::Critical, owner)];
        case.decide(&mut rows);
        let p = policy_of(&rows[0]);
        assert_eq!(
            p.action == PolicyAction::Silenced,
            silenced,
            "{silence:?} on {id}/{owner}"
        );
        if silenced {
            assert_eq!(
                p.silenced.as_deref(),
                Some("silences[0] (line 7): producer migration")
            );
            assert!(new_alerts(&rows, now()).is_empty());
        }
    }
}

#[test]
fn a_warning_escalates_after_n_missed_cycles_unless_acknowledged() {
    let mut case = Case::new();
    case.policy.policy.escalate_after_cycles = Some(3);
    // (ledger entry, expected count, escalated)
    for (entry, count, escalated) in [
        (None, 1, false),
        // Same cycle, two missed before: this is the third.
        (Some(ledger_entry("2026-W23", 2, State::Missing)), 3, true),
        // The previous cycle ended missed after one before it: 1 + 1 + this one.
        (Some(ledger_entry("2026-W22", 1, State::Missing)), 3, true),
        (Some(ledger_entry("2026-W22", 0, State::Missing)), 2, false),
        // The previous cycle ended fresh: the count starts again.
        (Some(ledger_entry("2026-W22", 5, State::Fresh)), 1, false),
    ] {
        let mut ledger = Ledger::new();
        if let Some(entry) = entry {
            ledger.artifacts.insert("w", entry);
        }
        case.ledger = Some(ledger);
        let mut rows = vec![row("w", Severity::Warning, "o")];
        case.decide(&mut rows);
        let p = policy_of(&rows[0]);
        assert_eq!(
            (p.missed_cycles, p.escalated),
            (count, escalated),
            "{}",
            p.rule
        );
        let expected = if escalated {
            Severity::Critical
        } else {
            Severity::Warning
        };
        assert_eq!(p.effective_severity, expected);
        assert_eq!(
            rows[0].alert_severity(),
            expected,
            "the alert goes out escalated"
        );
    }
    let mut ledger = Ledger::new();
    ledger
        .artifacts
        .insert("w", ledger_entry("2026-W23", 2, State::Missing));
    case.ledger = Some(ledger);
    case.acks = vec![ack("w", "2026-06-06T13:00:00Z", None)];
    let mut rows = vec![row("w", Severity::Warning, "o")];
    case.decide(&mut rows);
    let p = policy_of(&rows[0]);
    assert!(!p.escalated, "acknowledged: held back");
    assert_eq!(p.effective_severity, Severity::Warning);
    assert_eq!(p.acknowledged.as_ref().unwrap().by, "alice");
    assert!(p.rule.contains("not escalated: acknowledged"), "{}", p.rule);
}

#[test]
fn an_ack_ends_at_its_time_or_once_the_artifact_was_fresh_after_it() {
    let mut entry = ledger_entry("2026-W23", 0, State::Missing);
    for (ack, last_fresh, active) in [
        (ack("a", "2026-06-06T13:00:00Z", None), None, true),
        (
            ack("a", "2026-06-06T13:00:00Z", None),
            Some("2026-06-06T12:00:00Z"),
            true,
        ),
        (
            ack("a", "2026-06-06T13:00:00Z", None),
            Some("2026-06-06T13:30:00Z"),
            false,
        ),
        (
            ack("a", "2026-06-06T13:00:00Z", Some("2026-06-06T15:00:00Z")),
            None,
            true,
        ),
        (
            ack("a", "2026-06-06T13:00:00Z", Some("2026-06-06T14:00:00Z")),
            None,
            false,
        ),
        // A timed ack is not ended by freshness.
        (
            ack("a", "2026-06-06T13:00:00Z", Some("2026-06-06T15:00:00Z")),
            Some("2026-06-06T13:30:00Z"),
            true,
        ),
    ] {
        entry.last_fresh_at = last_fresh.map(|t| t.parse().unwrap());
        assert_eq!(
            ack.is_active(now(), Some(&entry)),
            active,
            "{ack:?} fresh {last_fresh:?}"
        );
    }
}

#[test]
fn silenced_acknowledged_and_escalation_due_at_once_the_silence_decides() {
    let mut case = Case::new();
    case.policy.policy.escalate_after_cycles = Some(2);
    case.policy.policy.silences = vec![silence("w", None, Some("2026-06-07T00:00:00Z"))];
    let mut ledger = Ledger::new();
    ledger
        .artifacts
        .insert("w", ledger_entry("2026-W22", 0, State::Missing));
    case.ledger = Some(ledger);
    case.acks = vec![ack("w", "2026-06-06T13:00:00Z", None)];
    let mut rows = vec![row("w", Severity::Warning, "o")];
    case.decide(&mut rows);
    let p = policy_of(&rows[0]);
    assert_eq!(p.action, PolicyAction::Silenced);
    assert_eq!(p.missed_cycles, 2);
    assert!(!p.escalated && p.acknowledged.is_some() && p.silenced.is_some());
    assert!(
        p.rule.starts_with("silenced by silences[0]") && p.rule.contains("acknowledged"),
        "{}",
        p.rule
    );
}

#[test]
fn downstream_alerts_fold_under_their_alerting_root() {
    let mut case = Case::new();
    // pit_parity <- features <- model; prices alone; report <- prices (fresh).
    case.policy.depends_on = graph(vec![
        (id("features"), ids(&["pit_parity"])),
        (id("model"), ids(&["features"])),
        (id("report"), ids(&["prices"])),
    ]);
    let mut rows = vec![
        row("model", Severity::Warning, "ml"),
        row("pit_parity", Severity::Critical, "data"),
        row("features", Severity::Critical, "ml"),
        ResultRow {
            alerting: false,
            state: State::Fresh,
            ..row("prices", Severity::Critical, "data")
        },
        row("report", Severity::Warning, "data"),
    ];
    case.decide(&mut rows);
    let folded = |i: usize| policy_of(&rows[i]).folded_under.clone();
    assert_eq!(
        folded(0).as_deref(),
        Some("pit_parity"),
        "to the root, not the parent"
    );
    assert_eq!(folded(2).as_deref(), Some("pit_parity"));
    assert_eq!(folded(1), None);
    assert_eq!(folded(4), None, "its upstream does not alert");

    let alerts = new_alerts(&rows, now());
    let refs: Vec<&crate::alert::digest::PlannedAlert> = alerts.iter().collect();
    let body = alert_digest(&refs, now()).body;
    assert!(
        body.contains(
            "2 downstream artifacts alerting because of it: features (missing, critical), \
             model (missing, warning)"
        ),
        "{body}"
    );
    // Grouped by root then owner, worst first: the data owner's critical root, then its
    // warning, each entry once.
    let order: Vec<usize> = [
        "== owner: data ==",
        "[CRITICAL] pit_parity",
        "[WARNING] report",
    ]
    .iter()
    .map(|s| body.find(s).unwrap_or_else(|| panic!("{s} in {body}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{body}");
    assert!(
        !body.contains("[WARNING] model"),
        "folded, not listed alone: {body}"
    );
    assert_eq!(
        alert_digest(&refs, now()).n_items,
        4,
        "every alert is still counted"
    );
}

#[test]
fn a_long_chain_of_alerts_folds_under_its_head_and_the_nearest_upstream_leads_the_way() {
    let mut case = Case::new();
    let n = 5_000;
    case.policy.depends_on = graph(
        (1..n)
            .map(|i| (id(&format!("a{i}")), ids(&[&format!("a{}", i - 1)])))
            .collect(),
    );
    let mut rows: Vec<ResultRow> = (0..n)
        .map(|i| row(&format!("a{i}"), Severity::Warning, "data"))
        .collect();
    // a2500 does not alert: the chain above it still folds through it.
    rows[2500].alerting = false;
    rows[2500].state = State::Fresh;
    case.decide(&mut rows);
    assert_eq!(rows[0].policy.as_ref().unwrap().folded_under, None);
    for i in [1, 2499, 2501, n - 1] {
        assert_eq!(
            policy_of(&rows[i]).folded_under.as_deref(),
            Some("a0"),
            "a{i} folds under the chain's head"
        );
    }

    // x depends on [far, near]: near alerts and has an alerting upstream `top`; far is
    // two steps from its alerting upstream `other`. The nearest alerting upstream (near, one
    // step) leads to the root, as a breadth-first walk finds it.
    let mut case = Case::new();
    case.policy.depends_on = graph(vec![
        (id("x"), ids(&["far", "near"])),
        (id("far"), ids(&["other"])),
        (id("near"), ids(&["top"])),
    ]);
    let mut rows: Vec<ResultRow> = ["x", "far", "near", "top", "other"]
        .iter()
        .map(|id| row(id, Severity::Warning, "data"))
        .collect();
    rows[1].alerting = false;
    rows[1].state = State::Fresh;
    case.decide(&mut rows);
    assert_eq!(policy_of(&rows[0]).folded_under.as_deref(), Some("top"));
}

#[test]
fn a_pass_over_some_artifacts_folds_through_the_upstreams_it_did_not_judge() {
    // top <- mid <- low; the pass judged low and top only (`--only`, `explain`): low still
    // folds under top, through mid.
    let mut case = Case::new();
    case.policy.depends_on = graph(vec![(id("mid"), ids(&["top"])), (id("low"), ids(&["mid"]))]);
    let mut rows = vec![
        row("low", Severity::Warning, "data"),
        row("top", Severity::Warning, "data"),
    ];
    case.decide(&mut rows);
    assert_eq!(policy_of(&rows[0]).folded_under.as_deref(), Some("top"));
    assert_eq!(policy_of(&rows[1]).folded_under, None);
}

#[test]
fn groups_are_ordered_by_owner_worst_severity_first() {
    let rows = vec![
        row("w1", Severity::Warning, "alpha"),
        row("c1", Severity::Critical, "zeta"),
        row("w2", Severity::Warning, "zeta"),
        row("w3", Severity::Warning, "beta"),
    ];
    let alerts = new_alerts(&rows, now());
    let refs: Vec<&crate::alert::digest::PlannedAlert> = alerts.iter().collect();
    let body = alert_digest(&refs, now()).body;
    let positions: Vec<usize> = [
        "== owner: zeta ==",
        "[CRITICAL] c1",
        "[WARNING] w2",
        "== owner: alpha ==",
        "[WARNING] w1",
        "== owner: beta ==",
        "[WARNING] w3",
    ]
    .iter()
    .map(|s| body.find(s).unwrap_or_else(|| panic!("{s} in {body}")))
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{body}");
}

#[test]
fn observe_mode_marks_what_would_have_happened() {
    let case = Case::new();
    let mut rows = vec![row("a", Severity::Critical, "o")];
    let inputs = PolicyInputs {
        policy: &case.policy,
        ledger: None,
        acks: &[],
        channels: &case.channels,
        alerts_enabled: false,
    };
    decide(&mut rows, &inputs, now());
    let p = policy_of(&rows[0]);
    assert!(p.observe);
    assert_eq!(p.action, PolicyAction::Send);
    let json = serde_json::to_value(p).unwrap();
    assert_eq!(json["action"], "send");
    assert_eq!(json["observe"], true);
}
