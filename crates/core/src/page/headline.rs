//! The top of the page: the verdict in one line and the alerting artifacts named by state,
//! when the pass ran, how old the page is (in
//! words without a script: the pass time, when the next one is due and from when this page
//! is stale), observe mode, and where the history strips come from.

use maud::{Markup, PreEscaped, html};

use super::alerting::effective_severity;
use super::style::AGE_SCRIPT;
use super::times::{instant, span};
use super::{PageHistory, PageInput};
use crate::classify::State;
use crate::registry::Severity;
use crate::report::PolicyAction;
use crate::report::StateCounts;

/// The `<header>`.
pub fn header(input: &PageInput<'_>) -> Markup {
    html! {
        header {
            (verdict(input))
            (age(input))
            (observe_mode(input))
            (history_source(input))
        }
    }
}

/// The page's `<title>`: the verdict in a few words, so a browser tab says it.
pub fn title(input: &PageInput<'_>) -> String {
    let alerting = input.outcome.alerting_rows().count();
    if alerting == 0 {
        "freshness: all clear".to_string()
    } else {
        format!("freshness: {alerting} alerting")
    }
}

fn verdict(input: &PageInput<'_>) -> Markup {
    let outcome = input.outcome;
    let alerting = outcome.alerting_rows().count();
    let worst = outcome.alerting_rows().map(effective_severity).max();
    let held_back = outcome
        .alerting_rows()
        .filter(|r| {
            r.policy
                .as_ref()
                .is_some_and(|p| p.action != PolicyAction::Send)
        })
        .count();
    let class = match worst {
        None => "headline ok",
        Some(Severity::Critical) => "headline critical",
        Some(Severity::Warning) => "headline warning",
    };
    let verb = if outcome.alerts_enabled {
        "alerting"
    } else {
        "would alert"
    };
    html! {
        div class=(class) id="headline" {
            h1 {
                @match worst {
                    None => { "All clear: nothing alerting among " (outcome.rows.len()) " artifacts" }
                    Some(worst) => {
                        (alerting) " of " (outcome.rows.len()) " artifacts " (verb)
                        " — worst severity: " (worst.as_str())
                        @if held_back > 0 { " (" (held_back) " held back by the alert policy)" }
                    }
                }
            }
            @if alerting > 0 { p.what { (what_is_wrong(input)) } }
            p { (counts_sentence(&outcome.counts())) }
        }
    }
}

/// How many names the headline lists per state before `and N more`.
const NAMES_PER_STATE: usize = 3;

/// The alerting artifacts by state, named, `(acked)` after an acknowledged one: `1 missing:
/// weekly_signals (acked) · 1 stale: latest_pointer` (a phone's first screen says what is
/// wrong, not only how much).
fn what_is_wrong(input: &PageInput<'_>) -> String {
    let mut parts = Vec::new();
    for state in [
        State::Missing,
        State::Stale,
        State::Suspect,
        State::ProbeFailed,
    ] {
        let ids: Vec<String> = input
            .outcome
            .alerting_rows()
            .filter(|r| r.state == state)
            .map(|r| {
                let acked = r.policy.as_ref().is_some_and(|p| p.acknowledged.is_some());
                format!("{}{}", r.artifact_id, if acked { " (acked)" } else { "" })
            })
            .collect();
        if ids.is_empty() {
            continue;
        }
        let mut names = ids[..ids.len().min(NAMES_PER_STATE)].join(", ");
        if ids.len() > NAMES_PER_STATE {
            names.push_str(&format!(" and {} more", ids.len() - NAMES_PER_STATE));
        }
        parts.push(format!(
            "{} {}: {names}",
            ids.len(),
            state.as_str().replace('_', " ")
        ));
    }
    parts.join(" · ")
}

/// `3 fresh, 1 missing, 1 probe_failed, 1 grace_period` (zero states left out).
fn counts_sentence(c: &StateCounts) -> String {
    let parts: Vec<String> = [
        (c.fresh, "fresh"),
        (c.grace_period, "in grace period"),
        (c.stale, "stale"),
        (c.suspect, "suspect"),
        (c.missing, "missing"),
        (c.probe_failed, "probe failed"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        "The registry has no artifacts.".to_string()
    } else {
        format!("States: {}.", parts.join(", "))
    }
}

fn age(input: &PageInput<'_>) -> Markup {
    let run_at = input.outcome.run_at;
    let interval = input.pass_interval;
    let next = run_at + interval;
    let stale_from = run_at + interval * 2;
    let age = input.now - run_at;
    html! {
        p {
            "Pass ran at " (instant(run_at, None)) "; page written at "
            (instant(input.now, None)) ". Passes run every " (span(interval))
            ": the next page is due by " (instant(next, None)) "."
        }
        @if age > interval * 2 {
            p.banner.stale id="static-age" {
                "This page is " (span(age)) " older than its pass — older than two passes. "
                "The monitor may have stopped: check heartbeat.json and the function's logs."
            }
        } @else {
            p.banner id="static-age" {
                "If it is later than " (instant(stale_from, None))
                " as you read this, this page is older than two passes: the monitor may have "
                "stopped (check heartbeat.json and the function's logs)."
            }
        }
        p.banner.live id="live-age" data-run-at-ms=(run_at.timestamp_millis())
            data-interval-ms=(interval.num_milliseconds()) hidden {}
        script { (PreEscaped(AGE_SCRIPT)) }
    }
}

fn observe_mode(input: &PageInput<'_>) -> Markup {
    html! {
        @if input.outcome.alerts_enabled {
            p.meta id="mode" { "Alerts are enabled: alerting artifacts were sent to the alert channels." }
        } @else {
            p.banner id="mode" {
                strong { "Observe mode: " }
                "no alert is sent (FRESHNESS_MONITOR_ENABLED is not true). "
                "\u{201c}Would alert\u{201d} marks what would be sent once it is."
            }
        }
    }
}

fn history_source(input: &PageInput<'_>) -> Markup {
    html! {
        p.meta id="history-source" {
            @match input.history {
                PageHistory::None => "No history scan yet (history_digest.ndjson.gz): the strips and SLA hit rates appear after the daily scan.",
                PageHistory::Unavailable(why) => { "History not shown: " (why) }
                PageHistory::Digest(d) => {
                    "History and SLA hit rates from the scan of " (instant(d.generated_at, None))
                    " (" (span(input.now - d.generated_at)) " before this page)."
                }
            }
        }
    }
}
