//! `check --store DIR --now T --json`: every rule of docs/time.md and docs/classification.md as a named case, judged by
//! the real binary over a local store whose files and mtimes set up each situation.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::support::results::assert_row_fields;
use crate::support::scenario::LocalScenario;
use crate::support::{run_in, stderr, stdout};

const BUCKET: &str = "research-bucket";

/// A registry whose defaults fill in everything but the artifacts (`artifacts` is the YAML list
/// body), over an empty store.
fn scenario(extra_top_level: &str, artifacts: &str) -> LocalScenario {
    let registry = format!(
        "schema_version: 1\n\
         defaults:\n  s3_bucket: {BUCKET}\n  severity: warning\n  owner_repo: producer\n  \
         created_at: 2025-01-01\n  sla_minutes_after_cron: 60\n\
         {extra_top_level}\n\
         artifacts:\n{artifacts}"
    );
    LocalScenario::new(&registry, BUCKET)
}

fn artifact(id: &str, template: &str, cadence: &str, extra: &str) -> String {
    format!(
        "  - artifact_id: {id}\n    s3_key_template: \"{template}\"\n    cadence: {cadence}\n{extra}"
    )
}

fn state(row: &Value) -> &str {
    row["state"].as_str().unwrap()
}

#[test]
fn saturday_sf_dated_key_written_after_the_tick_is_fresh() {
    let s = scenario(
        "",
        &artifact("pit", "backtest/{date}/pit.json", "saturday_sf", ""),
    );
    s.put("backtest/2026-05-30/pit.json", "2026-05-30T09:30:00Z");
    let row = s.row("2026-06-03T12:00:00Z", "pit");
    assert_eq!(state(&row), "fresh");
    assert_eq!(row["cycle_label"], "2026-W22");
    assert_eq!(row["cycle_tick"], "2026-05-30T09:00:00Z");
    assert_eq!(row["canonical_key"], "backtest/2026-05-30/pit.json");
    assert_eq!(row["last_modified"], "2026-05-30T09:30:00Z");
    assert_eq!(row["dedup_key"], "freshness_pit_2026-W22");
    assert_eq!(row["alerting"], false);
}

#[test]
fn saturday_sf_before_0900_saturday_judges_the_previous_week() {
    let s = scenario(
        "",
        &artifact("pit", "backtest/{date}/pit.json", "saturday_sf", ""),
    );
    s.put("backtest/2026-05-30/pit.json", "2026-05-30T09:30:00Z");
    let row = s.row("2026-06-06T08:59:00Z", "pit");
    assert_eq!(state(&row), "fresh");
    assert_eq!(row["cycle_label"], "2026-W22");
    let row = s.row("2026-06-06T09:00:00Z", "pit");
    assert_eq!(row["cycle_label"], "2026-W23");
    assert_eq!(state(&row), "missing");
}

#[test]
fn object_written_before_the_tick_is_stale_with_its_last_modified() {
    let s = scenario(
        "",
        &artifact("ptr", "pointers/latest.json", "weekday_sf", ""),
    );
    s.put("pointers/latest.json", "2026-06-01T13:30:00Z");
    let row = s.row("2026-06-02T15:00:00Z", "ptr");
    assert_eq!(state(&row), "stale");
    assert_eq!(row["last_modified"], "2026-06-01T13:30:00Z");
    // tick 13:00 + 60 min SLA = 14:00; now 15:00.
    assert_eq!(row["sla_violated_by_minutes"], 60);
    assert_eq!(row["alerting"], true);
}

#[test]
fn object_written_exactly_at_the_tick_is_fresh() {
    let s = scenario(
        "",
        &artifact("ptr", "pointers/latest.json", "weekday_sf", ""),
    );
    s.put("pointers/latest.json", "2026-06-02T13:00:00Z");
    assert_eq!(state(&s.row("2026-06-02T15:00:00Z", "ptr")), "fresh");
}

#[test]
fn sla_arithmetic_floors_to_whole_minutes_and_alerts_only_past_zero() {
    let s = scenario(
        "",
        &artifact(
            "daily",
            "daily/{date}.json",
            "weekday_sf",
            "    sla_minutes_after_cron: 90\n",
        ),
    );
    // Due 2026-06-02T14:30:00Z.
    let at_due = s.row("2026-06-02T14:30:00Z", "daily");
    assert_eq!(state(&at_due), "missing");
    assert_eq!(at_due["due_at"], "2026-06-02T14:30:00Z");
    assert_eq!(at_due["sla_violated_by_minutes"], 0);
    assert_eq!(at_due["alerting"], false);
    let almost = s.row("2026-06-02T14:30:59Z", "daily");
    assert_eq!(almost["sla_violated_by_minutes"], 0);
    assert_eq!(almost["alerting"], false);
    let one = s.row("2026-06-02T14:31:00Z", "daily");
    assert_eq!(one["sla_violated_by_minutes"], 1);
    assert_eq!(one["alerting"], true);
    let later = s.row("2026-06-02T17:00:30Z", "daily");
    assert_eq!(later["sla_violated_by_minutes"], 150);
}

#[test]
fn weekday_sf_before_1300_judges_the_previous_weekday() {
    let s = scenario("", &artifact("d", "d/{date}.json", "weekday_sf", ""));
    let row = s.row("2026-06-01T12:00:00Z", "d"); // Monday morning
    assert_eq!(row["cycle_label"], "2026-05-29");
    assert_eq!(row["canonical_key"], "d/2026-05-29.json");
}

#[test]
fn calendar_aware_cadence_on_a_holiday_is_fresh_without_a_probe() {
    let s = scenario("", &artifact("d", "d/{date}.json", "weekday_sf", ""));
    let row = s.row("2026-07-03T18:00:00Z", "d");
    assert_eq!(state(&row), "fresh");
    assert_eq!(row["cycle_label"], "2026-07-03");
    assert_eq!(row["canonical_key"], "d/2026-07-03.json");
    let reason = row["reason"].as_str().unwrap();
    assert!(
        reason.contains("market closed on 2026-07-03: Independence Day (observed)"),
        "{reason}"
    );
}

#[test]
fn calendar_aware_false_probes_even_on_a_holiday() {
    let s = scenario(
        "",
        &artifact(
            "d",
            "d/{date}.json",
            "weekday_sf",
            "    calendar_aware: false\n",
        ),
    );
    let row = s.row("2026-07-03T18:00:00Z", "d");
    assert_eq!(state(&row), "missing");
    assert_eq!(row["alerting"], true);
}

#[test]
fn registry_extra_closures_close_the_market() {
    let s = scenario(
        "calendar:\n  extra_closures: [2026-06-10]\n",
        &artifact("d", "d/{date}.json", "eod_sf", ""),
    );
    let row = s.row("2026-06-10T22:00:00Z", "d");
    assert_eq!(state(&row), "fresh");
    assert!(row["reason"].as_str().unwrap().contains("extra_closures"));
    // The day after trades again.
    assert_eq!(state(&s.row("2026-06-11T22:30:00Z", "d")), "missing");
}

#[test]
fn trading_day_placeholder_skips_weekends_and_holidays() {
    let s = scenario(
        "",
        &[
            artifact("sat", "t/{trading_day}.json", "saturday_sf", ""),
            artifact("morning", "t/{trading_day:%Y%m%d}.json", "weekday_sf", ""),
            artifact("evening", "t/{trading_day}.json", "eod_sf", ""),
        ]
        .concat(),
    );
    let rows = s.rows("2026-07-06T22:00:00Z"); // Monday after the July 3 closure
    assert_eq!(rows["sat"]["canonical_key"], "t/2026-07-02.json");
    assert_eq!(rows["morning"]["canonical_key"], "t/20260702.json");
    assert_eq!(rows["evening"]["canonical_key"], "t/2026-07-06.json");
}

#[test]
fn continuous_cadence_uses_epoch_buckets() {
    let s = scenario(
        "",
        &artifact(
            "feed",
            "feed/{date}/{cycle_label}.json",
            "continuous",
            "    interval_minutes: 15\n    sla_minutes_after_cron: 5\n",
        ),
    );
    let now: DateTime<Utc> = "2026-06-02T10:07:00Z".parse().unwrap();
    let index = now.timestamp() / 900;
    let key = format!("feed/2026-06-02/continuous_15m_{index}.json");
    s.put(&key, "2026-06-02T10:01:00Z");
    let row = s.row("2026-06-02T10:07:00Z", "feed");
    assert_eq!(state(&row), "fresh");
    assert_eq!(row["cycle_tick"], "2026-06-02T10:00:00Z");
    assert_eq!(row["canonical_key"], key.as_str());
}

#[test]
fn user_cadence_follows_new_york_time_across_both_2026_dst_changes() {
    let s = scenario(
        "cadences:\n  ny_open: {cron: \"30 9 * * 1-5\", timezone: America/New_York, calendar: nyse}\n",
        &artifact(
            "open",
            "open/{date}/{cycle_label}.json",
            "ny_open",
            "    sla_minutes_after_cron: 30\n",
        ),
    );
    // Before the March change 09:30 is 14:30 UTC; after it, 13:30 UTC.
    for (now, tick, label) in [
        (
            "2026-03-06T15:00:00Z",
            "2026-03-06T14:30:00Z",
            "2026-03-06T09:30",
        ),
        (
            "2026-03-09T14:00:00Z",
            "2026-03-09T13:30:00Z",
            "2026-03-09T09:30",
        ),
        (
            "2026-10-30T14:00:00Z",
            "2026-10-30T13:30:00Z",
            "2026-10-30T09:30",
        ),
        (
            "2026-11-02T15:00:00Z",
            "2026-11-02T14:30:00Z",
            "2026-11-02T09:30",
        ),
    ] {
        let row = s.row(now, "open");
        assert_eq!(row["cycle_tick"], tick, "at {now}");
        assert_eq!(row["cycle_label"], label, "at {now}");
        assert_eq!(
            row["canonical_key"],
            format!("open/{}/{label}.json", &label[..10]),
            "at {now}"
        );
    }
    // 14:00 UTC on 2026-03-09 is 30 min after the EDT tick: due exactly now, not yet alerting.
    let row = s.row("2026-03-09T14:00:00Z", "open");
    assert_eq!(row["due_at"], "2026-03-09T14:00:00Z");
    assert_eq!(row["alerting"], false);
}

#[test]
fn user_cadence_with_nyse_calendar_is_not_expected_on_good_friday() {
    let s = scenario(
        "cadences:\n  ny_open: {cron: \"30 9 * * 1-5\", timezone: America/New_York, calendar: nyse}\n",
        &artifact("open", "open/{date}.json", "ny_open", ""),
    );
    let row = s.row("2026-04-03T18:00:00Z", "open");
    assert_eq!(state(&row), "fresh");
    assert!(row["reason"].as_str().unwrap().contains("Good Friday"));
}

#[test]
fn new_artifact_is_in_grace_for_its_grace_cycles() {
    let s = scenario(
        "",
        &artifact(
            "new",
            "n/{date}.json",
            "saturday_sf",
            "    created_at: 2026-05-27\n",
        ),
    );
    // created 2026-05-27 00:00 + 2 × 7 days = 2026-06-10 00:00.
    let row = s.row("2026-06-09T23:59:00Z", "new");
    assert_eq!(state(&row), "grace_period");
    assert_eq!(row["canonical_key"], "n/2026-06-06.json");
    assert_eq!(row["sla_violated_by_minutes"], 0);
    let row = s.row("2026-06-10T00:00:00Z", "new");
    assert_eq!(state(&row), "missing");
}

#[test]
fn grace_period_cycles_zero_means_no_grace() {
    let s = scenario(
        "",
        &artifact(
            "new",
            "n/{date}.json",
            "weekday_sf",
            "    created_at: 2026-06-02\n    grace_period_cycles: 0\n",
        ),
    );
    assert_eq!(state(&s.row("2026-06-02T15:00:00Z", "new")), "missing");
}

#[test]
fn recovery_key_substitutes_for_a_missing_canonical_key() {
    let s = scenario(
        "",
        &artifact(
            "p",
            "b/{date}/p.json",
            "saturday_sf",
            "    recovery_key_template: \"b/{date}/recovery/p.json\"\n",
        ),
    );
    s.put("b/2026-05-30/recovery/p.json", "2026-05-31T08:00:00Z");
    let row = s.row("2026-06-03T12:00:00Z", "p");
    assert_eq!(state(&row), "fresh");
    assert_eq!(row["recovery_substituted"], true);
    assert_eq!(row["canonical_key"], "b/2026-05-30/p.json");
    assert_eq!(row["last_modified"], "2026-05-31T08:00:00Z");
}

#[test]
fn stale_recovery_key_does_not_substitute() {
    let s = scenario(
        "",
        &artifact(
            "p",
            "ptr/p.json",
            "saturday_sf",
            "    recovery_key_template: \"ptr/recovery/p.json\"\n",
        ),
    );
    s.put("ptr/p.json", "2026-05-20T08:00:00Z");
    s.put("ptr/recovery/p.json", "2026-05-21T08:00:00Z");
    let row = s.row("2026-06-03T12:00:00Z", "p");
    assert_eq!(state(&row), "stale");
    assert_eq!(row["recovery_substituted"], false);
    assert_eq!(row["last_modified"], "2026-05-20T08:00:00Z");
}

#[test]
fn a_probe_error_is_probe_failed_and_never_falls_through_to_recovery() {
    let s = scenario(
        "",
        &[
            artifact(
                "broken",
                "blocked/{date}.json",
                "saturday_sf",
                "    recovery_key_template: \"recovery/{date}.json\"\n",
            ),
            artifact("fine", "fine/{date}.json", "saturday_sf", ""),
        ]
        .concat(),
    );
    // `blocked` is a file, so `blocked/<date>.json` cannot be looked up: the probe errors.
    s.put("blocked", "2026-05-30T10:00:00Z");
    s.put("recovery/2026-05-30.json", "2026-05-30T10:00:00Z");
    s.put("fine/2026-05-30.json", "2026-05-30T10:00:00Z");
    let rows = s.rows("2026-06-03T12:00:00Z");
    assert_eq!(state(&rows["broken"]), "probe_failed");
    assert_eq!(rows["broken"]["recovery_substituted"], false);
    assert_eq!(rows["broken"]["alerting"], true);
    assert!(
        rows["broken"]["reason"]
            .as_str()
            .unwrap()
            .contains("HEAD s3://research-bucket/blocked/2026-05-30.json")
    );
    assert_eq!(state(&rows["fine"]), "fresh");
}

#[test]
fn an_invalid_entry_fails_only_itself() {
    let s = scenario(
        "",
        &[
            artifact("good_one", "g/{date}.json", "saturday_sf", ""),
            artifact(
                "typo",
                "t/{date}.json",
                "saturday_sf",
                "    sla_minute_after_cron: 30\n",
            ),
            artifact("good_two", "g2/{date}.json", "saturday_sf", ""),
        ]
        .concat(),
    );
    s.put("g/2026-05-30.json", "2026-05-30T10:00:00Z");
    let out = s.run("2026-06-03T12:00:00Z", &["--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = json["results"].as_array().unwrap();
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["artifact_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["good_one", "typo", "good_two"], "registry order");
    assert_eq!(state(&rows[0]), "fresh");
    assert_eq!(state(&rows[1]), "probe_failed");
    let reason = rows[1]["reason"].as_str().unwrap();
    assert!(
        reason.contains("registry.yaml:")
            && reason.contains("artifact typo: field sla_minute_after_cron: unknown field; did you mean `sla_minutes_after_cron`?"),
        "{reason}"
    );
    assert_eq!(state(&rows[2]), "missing");
}

#[test]
fn check_results_have_the_documented_shape() {
    let s = scenario("", &artifact("pit", "b/{date}.json", "saturday_sf", ""));
    let out = s.run("2026-06-03T12:00:00Z", &["--json"]);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["run_at"], "2026-06-03T12:00:00Z");
    assert_eq!(json["alerts_enabled"], false);
    assert_eq!(json["n_entries"], 1);
    assert_row_fields(&json["results"][0]);
}

#[test]
fn exit_codes_say_whether_anything_would_alert() {
    let s = scenario("", &artifact("p", "b/{date}.json", "saturday_sf", ""));
    s.put("b/2026-05-30.json", "2026-05-30T10:00:00Z");
    assert_eq!(s.run("2026-06-03T12:00:00Z", &[]).status.code(), Some(0));
    assert_eq!(s.run("2026-06-07T12:00:00Z", &[]).status.code(), Some(2));
    let broken = scenario("", "  - [not, a, mapping\n");
    let out = broken.run("2026-06-03T12:00:00Z", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("registry.yaml:"), "{}", stderr(&out));
}

#[test]
fn table_output_names_states_and_summarises() {
    let s = scenario("", &artifact("p", "b/{date}.json", "saturday_sf", ""));
    let out = s.run("2026-06-07T12:00:00Z", &[]);
    let text = stdout(&out);
    assert!(text.contains("missing"), "{text}");
    assert!(text.contains("b/2026-06-06.json"), "{text}");
    assert!(
        text.contains("1 artifacts at 2026-06-07T12:00:00Z: 0 fresh, 0 stale, 1 missing"),
        "{text}"
    );
    assert!(text.contains("1 would alert (observe mode"), "{text}");
}

#[test]
fn only_restricts_the_pass_and_rejects_unknown_ids() {
    let s = scenario(
        "",
        &[
            artifact("a", "a/{date}.json", "saturday_sf", ""),
            artifact("b", "b/{date}.json", "saturday_sf", ""),
        ]
        .concat(),
    );
    let out = s.run("2026-06-07T12:00:00Z", &["--json", "--only", "b"]);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["n_entries"], 1);
    assert_eq!(json["results"][0]["artifact_id"], "b");
    let out = s.run("2026-06-07T12:00:00Z", &["--only", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--only names no artifact in the registry: nope"));
}

#[test]
fn demo_registry_shows_every_state() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("bash")
        .arg(root.join("examples/demo/run.sh"))
        .arg("--json")
        .env("FRESHNESS_MONITOR_BIN", crate::support::bin())
        .env_remove("FRESHNESS_MONITOR_ENABLED")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let by_id: HashMap<&str, &Value> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["artifact_id"].as_str().unwrap(), r))
        .collect();
    let expect = [
        ("pit_parity", "fresh", false),
        ("weekly_signals", "missing", true),
        ("eod_positions", "missing", false),
        ("latest_pointer", "stale", true),
        ("new_report", "grace_period", false),
        ("daily_manifest", "fresh", false),
        ("parity_report", "fresh", false),
        ("hourly_ticks", "fresh", false),
        ("rebalance_weights", "fresh", false),
    ];
    for (id, want_state, want_alerting) in expect {
        assert_eq!(by_id[id]["state"], want_state, "{id}");
        assert_eq!(by_id[id]["alerting"], want_alerting, "{id}");
    }
}

#[test]
fn explain_tells_why_an_artifact_alerts() {
    let s = scenario(
        "",
        &artifact(
            "p",
            "b/{date}.json",
            "saturday_sf",
            "    severity: critical\n    sla_minutes_after_cron: 180\n",
        ),
    );
    let out = s.run_with(&["explain", "p"], "2026-06-07T12:00:00Z", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "cycle         2026-W23 (tick 2026-06-06T09:00:00Z, length 7d)",
        "due at        2026-06-06T12:00:00Z (tick + 180 min SLA)",
        "key           s3://research-bucket/b/2026-06-06.json",
        "dedup key     freshness_p_2026-W23",
        "state         missing:",
        "alerting      yes, critical (observe mode: it would alert)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn explain_says_which_re_verify_interval_applies() {
    let s = scenario(
        "",
        &(artifact(
            "own",
            "a/{date}.json",
            "saturday_sf",
            "    reverify_minutes: 30\n",
        ) + &artifact("plain", "b/{date}.json", "saturday_sf", "")),
    );
    let explain = |id: &str, env: Option<&str>| {
        let store = s.store();
        let mut cmd = crate::support::command_in(s.path());
        cmd.env_remove("REVERIFY_MINUTES");
        if let Some(minutes) = env {
            cmd.env("REVERIFY_MINUTES", minutes);
        }
        let args = ["explain", id, "--registry", "registry.yaml", "--store"];
        let out = cmd
            .args(args)
            .arg(&store)
            .args(["--now", "2026-06-07T12:00:00Z"])
            .output()
            .unwrap();
        let text = stdout(&out);
        let line = text.lines().find(|l| l.starts_with("re-verify"));
        (out.status.code(), line.map(str::to_string), stderr(&out))
    };
    let once = "re-verify     once confirmed fresh,";
    let (_, line, err) = explain("own", Some("90"));
    assert_eq!(
        line.as_deref(),
        Some(
            format!(
                "{once} probed again 30 min after its last probe (the registry's \
                 reverify_minutes)"
            )
            .as_str()
        ),
        "{err}"
    );
    let (_, line, _) = explain("plain", Some("90"));
    assert_eq!(
        line.unwrap(),
        format!("{once} probed again 90 min after its last probe (REVERIFY_MINUTES)")
    );
    let (_, line, _) = explain("plain", None);
    assert_eq!(
        line.unwrap(),
        format!(
            "{once} not probed again before the next tick (neither reverify_minutes nor \
             REVERIFY_MINUTES is set)"
        )
    );
    let (code, line, err) = explain("plain", Some("soon"));
    assert_eq!((code, line), (Some(1), None));
    assert!(
        err.contains("REVERIFY_MINUTES must be a positive whole number, got \"soon\""),
        "{err}"
    );
}

#[test]
fn calendar_lists_closed_weekdays_with_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["calendar", "--from", "2026", "--to", "2026"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("2026-01-01 New Year's Day\n"), "{text}");
    assert!(text.contains("2026-07-03 Independence Day (observed)\n"));
    assert!(text.contains("2026-11-27 early close 13:00 (Day after Thanksgiving)\n"));
    assert!(text.contains("2026-12-24 early close 13:00 (Christmas Eve)\n"));
    assert_eq!(text.lines().count(), 12);
}

#[test]
fn x_keys_are_accepted_anywhere_and_an_artifacts_own_land_in_its_row() {
    let registry = r##"schema_version: 1
x_generated_by: dbt-freshness-export
defaults:
  s3_bucket: research-bucket
  severity: warning
  owner_repo: producer
  created_at: 2025-01-01
  sla_minutes_after_cron: 60
  x_team: data-platform
calendar:
  extra_closures: []
  x_source: ops
calendars:
  desk:
    x_note: {anything: [1, 2]}
    holidays:
      - {name: Desk day, month: 3, day: 2, x_ticket: OPS-1}
cadences:
  x_comment: not a cadence
  daily: {cron: "0 6 * * *", x_owner: me}
artifacts:
  - artifact_id: tagged
    s3_key_template: "t/{date}.json"
    cadence: daily
    x_dbt: {model: orders, tags: [finance, daily], sla_hours: 1.5, strict: true, note: null}
    x_pager: "#orders"
  - artifact_id: plain
    s3_key_template: "p/{date}.json"
    cadence: daily
"##;
    let s = LocalScenario::new(registry, BUCKET);
    let rows = s.rows("2026-06-02T12:00:00Z");
    assert_eq!(
        rows["tagged"]["extensions"],
        serde_json::json!({
            "x_dbt": {"model": "orders", "tags": ["finance", "daily"], "sla_hours": 1.5,
                      "strict": true, "note": null},
            "x_pager": "#orders"
        })
    );
    // No `x_` keys of its own (the defaults' are not inherited): no `extensions` at all.
    assert!(
        rows["plain"].get("extensions").is_none(),
        "{}",
        rows["plain"]
    );
}

#[test]
fn a_runbook_url_lands_in_the_row_whether_set_inherited_or_on_a_broken_entry() {
    let registry = r##"schema_version: 1
defaults:
  s3_bucket: research-bucket
  severity: warning
  owner_repo: producer
  created_at: 2025-01-01
  sla_minutes_after_cron: 60
  runbook_url: https://wiki.example/runbooks/default
artifacts:
  - artifact_id: own
    s3_key_template: "o/{date}.json"
    cadence: weekday_sf
    runbook_url: https://wiki.example/runbooks/own
    x_pager: "#own"
  - artifact_id: inherited
    s3_key_template: "i/{date}.json"
    cadence: weekday_sf
  - artifact_id: broken
    s3_key_template: "b/{date}.json"
    cadence: weekday_sfx
"##;
    let s = LocalScenario::new(registry, BUCKET);
    let rows = s.rows("2026-06-02T12:00:00Z");
    assert_eq!(
        rows["own"]["runbook_url"],
        "https://wiki.example/runbooks/own"
    );
    assert_eq!(
        rows["own"]["extensions"],
        serde_json::json!({"x_pager": "#own"})
    );
    assert_eq!(
        rows["inherited"]["runbook_url"],
        "https://wiki.example/runbooks/default"
    );
    assert_eq!(rows["broken"]["state"], "probe_failed");
    assert_eq!(
        rows["broken"]["runbook_url"], "https://wiki.example/runbooks/default",
        "an invalid entry keeps what it carries, as it keeps its x_ keys"
    );
}

#[test]
fn an_unknown_key_without_the_x_prefix_is_still_an_error_with_a_did_you_mean() {
    let s = scenario(
        "",
        &artifact(
            "p",
            "p/{date}.json",
            "saturday_sf",
            "    x-team: a\n    severty: critical\n",
        ),
    );
    let out = run_in(s.path(), &["validate", "registry.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(
        text.contains("artifact p: field x-team: unknown field; known fields:"),
        "{text}"
    );
    assert!(
        text.contains("artifact p: field severty: unknown field; did you mean `severity`?"),
        "{text}"
    );
}
