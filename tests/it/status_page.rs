//! `status.html` in a real browser: pages rendered from known passes (`check --html`,
//! `history --html` over the demo's registry and store) opened in headless Chromium, at phone
//! and desktop widths, their DOM read back after the page's own script ran; and a registry
//! whose id, owner, key and reason carry markup, which must leave no element or script behind.
//! The screenshots stay in `$CARGO_TARGET_TMPDIR/status-page/` for a person to look at.
//! Last, the Lambda against moto: its pass writes `status.html` beside `check_results.json`,
//! and after the daily history scan the next pass's page draws the strips.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::support::aws::{self, get_bytes};
use crate::support::browser::{dump_dom, screenshot};
use crate::support::function::Function;
use crate::support::results::REGISTRY_KEY;
use crate::support::scenario::LocalScenario;
use crate::support::scenario::Scenario;
use crate::support::stderr;

const NOW: &str = "2026-07-03T15:00:00Z";

/// The demo's registry and store (examples/demo/run.sh): every state, a closed market day and
/// a cron cadence in New York time.
fn demo() -> LocalScenario {
    let registry = include_str!("../../examples/demo/ARTIFACT_REGISTRY.yaml");
    let s = LocalScenario::new(registry, "research-bucket");
    s.put(
        "backtest/2026-06-27/pit_parity.json",
        "2026-06-27T10:12:00Z",
    )
    .put("pointers/latest.json", "2026-07-02T13:40:00Z")
    .put(
        "backtest/2026-06-27/recovery/parity_report.json",
        "2026-06-27T11:30:00Z",
    )
    .put(
        "ticks/2026-07-03/continuous_60m_495303.json",
        "2026-07-03T15:00:00Z",
    )
    .put("rebalance/20260701/weights.parquet", "2026-07-01T18:20:00Z");
    s
}

fn screenshots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in {text}"))
        + start.len();
    let len = text[from..].find(end).expect("end marker");
    &text[from..from + len]
}

/// Renders the page with `leading` (a subcommand) and `extra` arguments; returns its path.
fn render(s: &LocalScenario, leading: &[&str], extra: &[&str], expect_exit: i32) -> PathBuf {
    let page = s.path().join("status.html");
    let mut args = vec!["--html", page.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = s.run_with(leading, NOW, &args);
    assert_eq!(out.status.code(), Some(expect_exit), "{}", stderr(&out));
    page
}

#[test]
fn status_page_check_html_shows_headline_and_alerting_rows_first_at_both_widths() {
    let s = demo();
    let page = render(&s, &["check"], &[], 2);
    let dom = dump_dom(&page);

    let headline = between(&dom, "<h1>", "</h1>");
    assert_eq!(
        headline,
        "2 of 9 artifacts would alert — worst severity: critical"
    );
    assert!(dom.contains("Observe mode: "), "observe mode is said");
    // Most urgent first: the critical one, then the warning; nothing else alerts.
    let alerting = between(&dom, "<section id=\"alerting\"", "</section>");
    let rows: Vec<&str> = alerting.split("<tr class=\"alerting\">").skip(1).collect();
    assert_eq!(rows.len(), 2, "{alerting}");
    assert!(rows[0].contains("weekly_signals") && rows[0].contains(">missing<"));
    assert!(rows[0].contains(">critical<") && rows[0].contains("6 d 2 h"));
    assert!(rows[1].contains("latest_pointer") && rows[1].contains(">stale<"));
    // Everything else, by owner, with the cron cadence's times in New York too.
    let others = between(&dom, "<table class=\"cards\" id=\"others\">", "</table>");
    assert_eq!(others.matches("<th scope=\"row\"").count(), 7, "{others}");
    assert!(others.contains("backtester — 1 not alerting"));
    assert!(others.contains("2026-07-01 14:20 EDT"), "{others}");
    // The pass is from July; the script measured the page against today's clock.
    let live = between(&dom, "id=\"live-age\"", "</p>");
    assert!(live.contains("older than two passes"), "{live}");

    let dir = screenshots_dir();
    let desktop = dir.join("check-desktop.png");
    assert_eq!(screenshot(&page, &desktop, 1280, 1400), (1280, 1400));
    let phone = dir.join("check-phone.png");
    assert_eq!(screenshot(&page, &phone, 390, 1600), (390, 1600));
}

/// As on-call reads it at 3 a.m. (issue 27): the headline names what is wrong; a row still
/// within its SLA is not painted like an alert; the times a person acts on read as ages too;
/// each alerting row says whom to ask about which object and how to ask the monitor why; an
/// acknowledgement shows on its row.
#[test]
fn status_page_at_3am_names_what_is_wrong_ages_next_steps_and_acks() {
    let s = demo();
    let results = ["--results", "s3://research-bucket/monitor/"];
    let ack = s.run_with(
        &[
            "ack",
            "weekly_signals",
            "--by",
            "alice",
            "--note",
            "vendor is late",
        ],
        NOW,
        &results,
    );
    assert!(ack.status.success(), "{}", stderr(&ack));
    let page = render(&s, &["check"], &results, 2);
    let dom = dump_dom(&page);

    let what = between(&dom, "<p class=\"what\">", "</p>");
    assert_eq!(
        what,
        "1 missing: weekly_signals (acked) · 1 stale: latest_pointer"
    );

    let alerting = between(&dom, "<section id=\"alerting\"", "</section>");
    let rows: Vec<&str> = alerting.split("<tr class=\"alerting\">").skip(1).collect();
    let weekly = rows[0];
    assert!(weekly.contains("weekly_signals"), "{weekly}");
    assert!(weekly.contains("(6 d 2 h ago)"), "due, as an age: {weekly}");
    assert!(
        weekly.contains("<div class=\"acked\">acked</div>")
            && weekly.contains("acknowledged by alice (until resolved): vendor is late"),
        "{weekly}"
    );
    let next = between(weekly, "<div class=\"next\">", "</div>");
    assert!(
        next.contains("ask data-platform why <code>s3://research-bucket/signals/2026-W26/signals.parquet</code> was not written."),
        "{next}"
    );
    assert!(
        next.contains(
            "<code>freshness-monitor explain weekly_signals --registry registry.yaml</code>"
        ),
        "{next}"
    );
    assert!(
        rows[1].contains("was not rewritten this cycle."),
        "{}",
        rows[1]
    );
    assert!(!rows[1].contains("acked"), "{}", rows[1]);

    // eod_positions is missing but due at 21:00: waiting, not an alert.
    let others = between(&dom, "<table class=\"cards\" id=\"others\">", "</table>");
    let eod = between(others, "<span class=\"st st-waiting\"", "</tr>");
    assert!(
        eod.contains(">missing, not due yet</span>") && eod.contains("eod_positions"),
        "{eod}"
    );
    assert!(eod.contains("(in 6 h)"), "{eod}");
    assert!(!others.contains("st-missing"), "{others}");
    assert!(
        others.contains("(6 d 4 h ago)"),
        "pit_parity landed: {others}"
    );

    let dir = screenshots_dir();
    assert_eq!(
        screenshot(&page, &dir.join("3am-desktop.png"), 1280, 2000),
        (1280, 2000)
    );
    assert_eq!(
        screenshot(&page, &dir.join("3am-phone.png"), 390, 900),
        (390, 900)
    );
}

#[test]
fn status_page_history_html_draws_each_artifacts_strip_and_hit_rate() {
    let s = demo();
    let page = render(
        &s,
        &["history"],
        &["--lookback", "saturday_sf=4", "--lookback", "weekday_sf=5"],
        0,
    );
    let dom = dump_dom(&page);
    assert!(dom.contains("History and SLA hit rates from the scan of"));
    let row = between(&dom, "pit_parity", "</tr>");
    let strip = between(row, "<ol class=\"strip\"", "</ol>");
    assert_eq!(
        strip.matches("<li").count(),
        4,
        "four saturday_sf cycles: {strip}"
    );
    assert!(strip.contains("title=\"2026-W26: on time\""), "{strip}");
    assert!(row.contains("on time (1 of 4)"), "{row}");
    // The weekday cadence's strip shows the Independence Day closure as not expected.
    let row = between(&dom, "daily_manifest", "</tr>");
    assert!(row.contains("2026-07-03: not expected"), "{row}");
    let png = screenshots_dir().join("history-desktop.png");
    assert_eq!(screenshot(&page, &png, 1280, 1400), (1280, 1400));
}

#[test]
fn status_page_markup_in_an_id_owner_key_and_reason_leaves_no_element_or_script() {
    let registry = "schema_version: 1\n\
        defaults:\n  s3_bucket: research-bucket\n  severity: critical\n  created_at: 2025-01-01\n  \
        sla_minutes_after_cron: 60\n\
        artifacts:\n\
        \x20 - artifact_id: \"<img id=injected-id src=x onerror=alert(1)>\"\n\
        \x20   owner_repo: \"<b id=injected-owner>evil</b><script>document.title='pwned'</script>\"\n\
        \x20   s3_key_template: \"k/<i id=injected-key>{date}</i>.json\"\n\
        \x20   cadence: weekday_sf\n\
        \x20 - artifact_id: ok_one\n\
        \x20   owner_repo: \"</td></tr></table><h1 id=injected-h1>x</h1>\"\n\
        \x20   s3_key_template: \"k/{date}/<script>document.title='pwned'</script>.json\"\n\
        \x20   cadence: weekday_sf\n";
    let s = LocalScenario::new(registry, "research-bucket");
    let page = render(&s, &["check"], &[], 2);
    let dom = dump_dom(&page);
    for id in [
        "injected-id",
        "injected-owner",
        "injected-key",
        "injected-h1",
    ] {
        assert!(
            !dom.contains(&format!("id=\"{id}\"")),
            "{id} became an element"
        );
    }
    assert!(
        !dom.contains("<img") && !dom.contains("<b "),
        "no injected element"
    );
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert_eq!(dom.matches("<h1").count(), 1, "only the headline");
    assert!(!dom.contains("pwned</title>"), "no injected script ran");
    // The text is shown as text.
    assert!(
        dom.contains("&lt;b id=injected-owner&gt;evil&lt;/b&gt;"),
        "{dom}"
    );
    assert!(dom.contains("&lt;img id=injected-id"), "{dom}");
    let png = screenshots_dir().join("injection-desktop.png");
    screenshot(&page, &png, 1280, 900);
}

const STATUS_PAGE: &str = "_freshness_monitor/status.html";

#[tokio::test(flavor = "multi_thread")]
async fn status_page_lambda_pass_writes_status_html_to_the_results_prefix() {
    let s3 = aws::s3().await;
    let scenario = Scenario::build(&s3, "").await;
    let function = Function::on_moto(&[
        ("REGISTRY_BUCKET", &scenario.bucket),
        ("PROBE_CONCURRENCY", "4"),
    ]);
    let page = async || {
        let bytes = get_bytes(&s3, &scenario.bucket, STATUS_PAGE).await;
        String::from_utf8(bytes.expect("status.html written")).unwrap()
    };

    assert_eq!(
        function.pass(scenario.now).response()["n_entries_checked"],
        6
    );
    let first = page().await;
    assert!(
        first.contains("of 6 artifacts would alert — worst severity: critical"),
        "{first}"
    );
    assert!(first.contains("No history scan yet (history_digest.ndjson.gz)"));
    assert!(first.contains("missing_report"));
    // The next step names the registry the Lambda read, as `explain` takes it.
    let explain = format!(
        "<code>freshness-monitor explain missing_report --registry s3://{}/{REGISTRY_KEY}</code>",
        scenario.bucket
    );
    assert!(first.contains(&explain), "{first}");
    let head = s3
        .head_object()
        .bucket(&scenario.bucket)
        .key(STATUS_PAGE)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/html; charset=utf-8"));

    // The daily scan writes history.json and its digest; the next pass reads the digest for
    // the strips (history.json deleted here, so only the digest can draw them).
    let scan = function.invoke(&json!({"mode": "historical"}));
    assert_eq!(scan.response()["mode"], "historical");
    let digest = "_freshness_monitor/history_digest.ndjson.gz";
    assert!(get_bytes(&s3, &scenario.bucket, digest).await.is_some());
    (s3.delete_object().bucket(&scenario.bucket))
        .key("_freshness_monitor/history.json")
        .send()
        .await
        .unwrap();
    function.pass(scenario.now).response();
    let second = page().await;
    assert!(
        second.contains("History and SLA hit rates from the scan of"),
        "{second}"
    );
    assert!(second.contains("<ol class=\"strip\""));
}
