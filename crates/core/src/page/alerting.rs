//! The alerting artifacts, most urgent first (critical before warning, then the longest past
//! its SLA), each with its state, cycle, due time (and how long ago), how late, owner, reason,
//! acknowledgement, what to do next (whom to ask about which object, the `explain` command)
//! and history.

use maud::{Markup, html};

use super::strip::history_cell;
use super::times::{instant_aged, minutes};
use super::{ALERTING_ROWS_SHOWN, PageInput};
use crate::classify::State;
use crate::registry::Severity;
use crate::report::ResultRow;
use crate::report::{AckNote, PolicyAction};

/// The alerting section (a sentence when nothing alerts).
pub fn section(input: &PageInput<'_>) -> Markup {
    let mut rows: Vec<&ResultRow> = input.outcome.alerting_rows().collect();
    rows.sort_by_key(|r| {
        (
            std::cmp::Reverse(effective_severity(r)),
            std::cmp::Reverse(r.sla_violated_by_minutes),
        )
    });
    let hidden = rows.len().saturating_sub(ALERTING_ROWS_SHOWN);
    let heading = if input.outcome.alerts_enabled {
        "Alerting"
    } else {
        "Would alert (observe mode)"
    };
    html! {
        section id="alerting" aria-labelledby="alerting-h" {
            h2 id="alerting-h" { (heading) " (" (rows.len()) ")" }
            @if rows.is_empty() {
                p { "Nothing is alerting." }
            } @else {
                div.scroll {
                    table.cards {
                        caption.meta { "Critical first, then the longest past its SLA." }
                        thead { tr {
                            th scope="col" { "State, severity" } th scope="col" { "Artifact, key" }
                            th scope="col" { "Cycle, due" } th scope="col" { "Late by" }
                            th scope="col" { "Owner" } th scope="col" { "Reason" }
                            th scope="col" { "History" }
                        } }
                        tbody {
                            @for row in rows.iter().take(ALERTING_ROWS_SHOWN) { (alerting_row(input, row)) }
                        }
                    }
                }
                @if hidden > 0 {
                    p.more { (hidden) " more alerting artifacts are not listed here; check_results.json has every row." }
                }
            }
        }
    }
}

fn alerting_row(input: &PageInput<'_>, row: &ResultRow) -> Markup {
    let severity = effective_severity(row).as_str();
    let run_at = input.outcome.run_at;
    html! {
        tr.alerting {
            td data-label="State" {
                (state_badge(row))
                div class={ "sev-" (severity) } { (severity) }
                @if acknowledgement(row).is_some() { div.acked { "acked" } }
            }
            th scope="row" data-label="Artifact" {
                (row.artifact_id)
                @if let Some(key) = &row.canonical_key { div.key { (key) } }
                @if let Some(url) = row.carried().and_then(|c| c.runbook_url.as_deref()) { div { a href=(url) { "runbook" } } }
            }
            td data-label="Cycle, due" {
                span.nowrap { (row.cycle_label().unwrap_or("—")) }
                @if let Some(due) = row.due_at() { div { "due " (instant_aged(due, input.zone_of(row), run_at)) } }
            }
            td.nowrap data-label="Late by" {
                @if row.sla_violated_by_minutes > 0 { (minutes(row.sla_violated_by_minutes)) } @else { "—" }
            }
            td data-label="Owner" { (row.owner_repo().unwrap_or("—")) }
            td.reason data-label="Reason" {
                (row.reason())
                @if let Some(policy) = row.policy.as_deref().filter(|p| p.did_something()) {
                    div.policy { strong { (policy_word(policy.action)) } " — " (policy.rule()) }
                }
                @if let Some(ack) = acknowledgement(row) { div.ack { (ack.summary()) } }
            }
            td.hist data-label="History" { (history_cell(input.history.digest(), &row.artifact_id)) }
        }
        tr.next-row { td colspan="7" { (next_step(input, row)) } }
    }
}

/// The acknowledgement that holds for a row, when one does (docs/alerts.md#acknowledgements).
fn acknowledgement(row: &ResultRow) -> Option<&AckNote> {
    row.policy
        .as_deref()
        .and_then(|p| p.acknowledged.as_deref())
}

/// What to do next, for whoever reads this at 3 a.m.: whom to ask about which object, and
/// the command that shows why it alerts.
fn next_step(input: &PageInput<'_>, row: &ResultRow) -> Markup {
    let owner = row.owner_repo().unwrap_or("its producer");
    let object = object_url(row);
    html! {
        div.next {
            strong { "Next: " }
            @match (row.state, &object) {
                (State::Missing, Some(url)) => { "ask " (owner) " why " code { (url) } " was not written." }
                (State::Stale, Some(url)) => { "ask " (owner) " why " code { (url) } " was not rewritten this cycle." }
                (State::Suspect, Some(url)) => { "ask " (owner) " why " code { (url) } " was written without new content (the reason above)." }
                (State::ProbeFailed, Some(url)) => {
                    "the monitor could not look: check its access to " code { (url) } " (the reason above)."
                }
                _ => { "ask " (owner) "." }
            }
            " " span.cmd { "Why it alerts: " code { (explain_command(&input.outcome.registry_name, &row.artifact_id)) } }
        }
    }
}

/// `s3://bucket/key` of the row's canonical key.
fn object_url(row: &ResultRow) -> Option<String> {
    Some(format!(
        "s3://{}/{}",
        row.s3_bucket()?,
        row.canonical_key.as_deref()?
    ))
}

/// `freshness-monitor explain ID --registry REGISTRY`, the registry quoted for a shell when it
/// needs to be (`REGISTRY` when the pass did not say which it read).
pub fn explain_command(registry: &str, id: &str) -> String {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c))
    };
    let quote = |s: &str| {
        if plain(s) {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    let registry = if registry.is_empty() {
        "REGISTRY".to_string()
    } else {
        quote(registry)
    };
    format!(
        "freshness-monitor explain {} --registry {registry}",
        quote(id)
    )
}

/// The severity the alert goes (or would go) out with: escalation may raise it.
pub fn effective_severity(row: &ResultRow) -> Severity {
    row.policy
        .as_deref()
        .map_or_else(|| row.alert_severity(), |p| p.effective_severity)
}

/// What the alert policy did with a row, in a word (docs/alerts.md#policy).
fn policy_word(action: PolicyAction) -> &'static str {
    match action {
        PolicyAction::Send => "policy",
        PolicyAction::Silenced => "silenced, not sent",
        PolicyAction::NotRouted => "not routed to any channel",
    }
}

/// The state as a word on its colour. A missing or stale row still within its SLA is not
/// painted like an alert: it has the waiting colour and says so.
pub fn state_badge(row: &ResultRow) -> Markup {
    let state = row.state.as_str();
    let waiting =
        !row.alerting && matches!(row.state, State::Missing | State::Stale | State::Suspect);
    html! {
        @if waiting {
            span.st.st-waiting title="not past its SLA yet: not alerting" { (state) ", not due yet" }
        } @else {
            span class={ "st st-" (state) } { (state) }
        }
    }
}
