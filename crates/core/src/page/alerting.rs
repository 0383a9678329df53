//! The alerting artifacts, most urgent first (critical before warning, then the longest past
//! its SLA), each with its state, cycle, due time, how late, owner, reason and history.

use maud::{Markup, html};

use super::strip::history_cell;
use super::times::{instant, minutes};
use super::{ALERTING_ROWS_SHOWN, PageInput};
use crate::registry::Severity;
use crate::report::PolicyAction;
use crate::report::ResultRow;

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
    html! {
        tr.alerting {
            td data-label="State" {
                (state_badge(row))
                div class={ "sev-" (severity) } { (severity) }
            }
            th scope="row" data-label="Artifact" {
                (row.artifact_id)
                @if let Some(key) = &row.canonical_key { div.key { (key) } }
                @if let Some(url) = row.carried().and_then(|c| c.runbook_url.as_deref()) { div { a href=(url) { "runbook" } } }
            }
            td data-label="Cycle, due" {
                span.nowrap { (row.cycle_label().unwrap_or("—")) }
                @if let Some(due) = row.due_at() { div { "due " (instant(due, input.zone_of(row))) } }
            }
            td.nowrap data-label="Late by" {
                @if row.sla_violated_by_minutes > 0 { (minutes(row.sla_violated_by_minutes)) } @else { "—" }
            }
            td data-label="Owner" { (row.owner_repo().unwrap_or("—")) }
            td.reason data-label="Reason" {
                (row.reason())
                @if let Some(policy) = row.policy.as_deref().filter(|p| p.did_something()) {
                    div.policy { strong { (policy_word(policy.action)) } " — " (policy.rule) }
                }
            }
            td.hist data-label="History" { (history_cell(input.history.digest(), &row.artifact_id)) }
        }
    }
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

/// The state as a word on its colour.
pub fn state_badge(row: &ResultRow) -> Markup {
    let state = row.state.as_str();
    html! { span class={ "st st-" (state) } { (state) } }
}
