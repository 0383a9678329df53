use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::*;
use crate::alert::policy::{PolicyAction, RowPolicy};
use crate::classify::State;
use crate::history::SlaCounts;
use crate::registry::Severity;
use crate::report::ResultRow;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn row(id: &str, owner: &str, state: State, alerting: bool) -> ResultRow {
    ResultRow {
        artifact_id: id.to_string().into(),
        context: std::sync::Arc::new(crate::report::RowContext {
            owner_repo: Some(Arc::from(owner)),
            cadence: Some(Arc::from("weekday_sf")),
            cycle_label: Some(Arc::from("2026-11-27")),
            cycle_tick: Some(at("2026-11-27T13:00:00Z")),
            s3_bucket: None,
        }),
        severity: Some(Severity::Critical),
        canonical_key: Some(format!("k/{id}.json").into()),
        state,
        reason: format!("reason of {id}").into(),
        last_modified: None,
        sla_violated_by_minutes: if alerting { 90 } else { 0 },
        recovery_substituted: false,
        due_at: Some(at("2026-11-27T14:00:00Z").into()),
        alerting,
        last_probed_at: None,
        carried: None,
        policy: None,
        awaiting_event: false,
        extras: None,
    }
}

fn outcome(rows: Vec<ResultRow>) -> PassOutcome {
    let mut outcome =
        PassOutcome::registry_failed(String::new(), None, false, at("2026-11-27T15:30:00Z"));
    outcome.registry_error = None;
    outcome.rows = rows;
    outcome
}

fn render(outcome: &PassOutcome, history: &PageHistory, now: &str) -> String {
    render_status_page(&PageInput {
        outcome,
        history,
        now: at(now),
        pass_interval: DEFAULT_PASS_INTERVAL,
    })
}

#[test]
fn the_headline_says_how_many_alert_and_the_worst_severity() {
    let mut warning = row("w", "a", State::Stale, true);
    warning.severity = Some(Severity::Warning);
    let page = render(
        &outcome(vec![row("f", "a", State::Fresh, false), warning]),
        &PageHistory::None,
        "2026-11-27T15:30:00Z",
    );
    assert!(page.contains("1 of 2 artifacts would alert — worst severity: warning"));
    assert!(page.contains("Observe mode: "));
    let clear = render(
        &outcome(vec![row("f", "a", State::Fresh, false)]),
        &PageHistory::None,
        "2026-11-27T15:30:00Z",
    );
    assert!(clear.contains("All clear: nothing alerting among 1 artifacts"));
}

#[test]
fn a_page_rendered_more_than_two_passes_after_its_pass_says_so_plainly() {
    let pass = outcome(vec![row("f", "a", State::Fresh, false)]);
    let fresh = render(&pass, &PageHistory::None, "2026-11-27T15:40:00Z");
    assert!(fresh.contains("If it is later than"));
    assert!(!fresh.contains("older than two passes. The monitor"));
    let old = render(&pass, &PageHistory::None, "2026-11-27T16:01:00Z");
    assert!(old.contains("This page is 31 min older than its pass — older than two passes."));
}

#[test]
fn registry_text_is_escaped_everywhere() {
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let mut bad = row(evil, evil, State::Missing, true);
    bad.reason = evil.to_string().into();
    bad.context_mut().cycle_label = Some(Arc::from(evil));
    let mut quiet = row(&format!("q{evil}"), evil, State::GracePeriod, false);
    quiet.reason = evil.to_string().into();
    let page = render(
        &outcome(vec![bad, quiet]),
        &PageHistory::Unavailable(evil.to_string()),
        "2026-11-27T15:30:00Z",
    );
    assert!(!page.contains("<img"), "{page}");
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn big_passes_list_alerting_rows_first_and_cap_the_rest() {
    let mut rows: Vec<ResultRow> = (0..OTHER_ROWS_SHOWN + 500)
        .map(|i| {
            row(
                &format!("quiet{i}"),
                &format!("owner{}", i % 7),
                State::Fresh,
                false,
            )
        })
        .collect();
    rows.push(row("loud", "owner3", State::Missing, true));
    let page = render(&outcome(rows), &PageHistory::None, "2026-11-27T15:30:00Z");
    assert!(page.find("loud").unwrap() < page.find("quiet0").unwrap());
    assert!(page.contains("the other 500 are counted above and listed in check_results.json"));
    assert_eq!(page.matches("k/quiet").count(), OTHER_ROWS_SHOWN);
    // The summary still counts every artifact of every owner.
    assert_eq!(
        page.matches("scope=\"row\" data-label=\"Owner\">owner")
            .count(),
        7
    );
}

#[test]
fn strips_are_drawn_oldest_first_from_history_json() {
    let json = br#"{"generated_at": "2026-11-27T04:00:00Z", "artifacts": {"f": {"history": [
        {"cycle_label": "c3", "expected": true, "present": true, "on_time": false, "minutes_late": 72},
        {"cycle_label": "c2", "expected": false, "present": false, "on_time": null, "minutes_late": null},
        {"cycle_label": "c1", "expected": true, "present": false, "error_code": "503", "on_time": null, "minutes_late": null},
        {"cycle_label": "c0", "expected": true, "present": true, "on_time": true, "minutes_late": 0}
    ]}}}"#;
    let digest = HistoryDigest::from_json(json).unwrap();
    let strip = &digest.artifacts["f"];
    let labels: Vec<&str> = strip.cells.iter().map(|c| c.cycle_label.as_str()).collect();
    assert_eq!(labels, ["c0", "c1", "c2", "c3"]);
    assert_eq!(
        strip.sla,
        SlaCounts {
            expected: 3,
            on_time: 1,
            late: 1,
            missing: 0,
            unknown: 1
        }
    );
    let page = render(
        &outcome(vec![row("f", "a", State::Fresh, false)]),
        &PageHistory::Digest(digest),
        "2026-11-27T15:30:00Z",
    );
    assert!(page.contains(r#"title="c3: late by 1 h 12 min""#), "{page}");
    assert!(page.contains("50% on time (1 of 2)"));
}

fn with_policy(
    mut row: ResultRow,
    action: PolicyAction,
    severity: Severity,
    rule: &str,
) -> ResultRow {
    row.policy = Some(Box::new(RowPolicy {
        action,
        observe: false,
        effective_severity: severity,
        missed_cycles: 3,
        escalated: severity == Severity::Critical,
        never_written: false,
        silenced: None,
        acknowledged: None,
        folded_under: None,
        channels: vec![],
        rule: rule.to_string(),
    }));
    row
}

#[test]
fn the_page_shows_what_the_alert_policy_did() {
    let mut escalated = row("esc", "a", State::Missing, true);
    escalated.severity = Some(Severity::Warning);
    let escalated = with_policy(
        escalated,
        PolicyAction::Send,
        Severity::Critical,
        "send; escalated to critical: missed 3 cycles in a row",
    );
    let mut silenced = row("quiet", "a", State::Missing, true);
    silenced.severity = Some(Severity::Warning);
    let silenced = with_policy(
        silenced,
        PolicyAction::Silenced,
        Severity::Warning,
        "silenced by vendor-maintenance: vendor outage",
    );
    let page = render(
        &outcome(vec![silenced, escalated]),
        &PageHistory::None,
        "2026-11-27T15:30:00Z",
    );
    assert!(
        page.contains("worst severity: critical (1 held back by the alert policy)"),
        "{page}"
    );
    assert!(page.contains("silenced, not sent</strong> — silenced by vendor-maintenance"));
    assert!(page.contains("escalated to critical: missed 3 cycles"));
    let escalated_at = page.find(">esc<").expect("escalated row");
    let silenced_at = page.find(">quiet<").expect("silenced row");
    assert!(
        escalated_at < silenced_at,
        "the escalated row sorts as critical, first"
    );
}

#[test]
fn an_alerting_artifacts_runbook_is_linked_from_its_entry() {
    let mut with = row("with", "o", State::Missing, true);
    #[allow(clippy::needless_update)] // right whatever the table carries to the row
    let carried = crate::registry::CarriedFields {
        runbook_url: Some("https://wiki.example/r?a=1&b=\"2\"".into()),
        ..Default::default()
    };
    with.carried = Some(Arc::new(carried));
    let page = render(
        &outcome(vec![with, row("without", "o", State::Missing, true)]),
        &PageHistory::Unavailable(String::new()),
        "2026-11-27T15:30:00Z",
    );
    assert_eq!(
        page.matches(">runbook</a>").count(),
        1,
        "only the row that has one"
    );
    assert!(
        page.contains(r#"<a href="https://wiki.example/r?a=1&amp;b=&quot;2&quot;">runbook</a>"#),
        "{page}"
    );
}

#[test]
fn the_explain_command_quotes_a_registry_path_only_when_a_shell_needs_it() {
    use super::alerting::explain_command;
    assert_eq!(
        explain_command(
            "s3://bkt/_freshness_monitor/ARTIFACT_REGISTRY.yaml",
            "pit_parity"
        ),
        "freshness-monitor explain pit_parity --registry s3://bkt/_freshness_monitor/ARTIFACT_REGISTRY.yaml"
    );
    assert_eq!(
        explain_command("my registries/it's.yaml", "a.b-c"),
        "freshness-monitor explain a.b-c --registry 'my registries/it'\\''s.yaml'"
    );
    assert_eq!(
        explain_command("", "x"),
        "freshness-monitor explain x --registry REGISTRY"
    );
}

#[test]
fn a_missing_row_within_its_sla_waits_in_grey_and_the_headline_names_what_alerts() {
    let page = render(
        &outcome(vec![
            row("late", "a", State::Missing, true),
            row("due_later", "a", State::Missing, false),
            row("old", "b", State::Stale, true),
        ]),
        &PageHistory::None,
        "2026-11-27T15:30:00Z",
    );
    assert!(
        page.contains("<p class=\"what\">1 missing: late · 1 stale: old</p>"),
        "{page}"
    );
    let others = &page[page.find("id=\"others\"").unwrap()..];
    assert!(others.contains("st st-waiting") && !others.contains("st-missing"));
    assert!(others.contains("missing, not due yet"));
    // Due 14:00 and the pass at 15:30: an age beside the instant.
    assert!(page.contains("(1 h 30 min ago)"), "{page}");
}
