//! Everything that does not alert, by owner: first a summary of every owner (all artifacts
//! counted, alerting ones too, with the owner's SLA hit rate), then the rows themselves
//! grouped per owner, owners sorted, registry order within, up to [`OTHER_ROWS_SHOWN`] rows.
//! At 100,000 artifacts the summary still counts everything; the listing stops and says where
//! the rest is (`check_results.json`).

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::alerting::state_badge;
use super::strip::{history_cell, hit_rate};
use super::times::instant_aged;
use super::{OTHER_ROWS_SHOWN, PageInput};
use crate::classify::State;
use crate::report::ResultRow;

const NO_OWNER: &str = "(no owner)";

/// Every row by owner, sorted by owner, in registry order within one.
fn by_owner(rows: &[ResultRow]) -> BTreeMap<&str, Vec<&ResultRow>> {
    let mut owners: BTreeMap<&str, Vec<&ResultRow>> = BTreeMap::new();
    for row in rows {
        owners
            .entry(row.owner_repo().unwrap_or(NO_OWNER))
            .or_default()
            .push(row);
    }
    owners
}

pub fn section(input: &PageInput<'_>) -> Markup {
    let owners = by_owner(&input.outcome.rows);
    let others = input.outcome.rows.iter().filter(|r| !r.alerting).count();
    html! {
        section id="owners" aria-labelledby="owners-h" {
            h2 id="owners-h" { "By owner (" (owners.len()) ")" }
            (summary(input, &owners))
            h2 id="others-h" { "Not alerting (" (others) ")" }
            @if others > OTHER_ROWS_SHOWN {
                p.more { "The first " (OTHER_ROWS_SHOWN) " are listed, by owner; the other "
                    (others - OTHER_ROWS_SHOWN) " are counted above and listed in check_results.json." }
            }
            (listing(input, &owners))
        }
    }
}

fn summary(input: &PageInput<'_>, owners: &BTreeMap<&str, Vec<&ResultRow>>) -> Markup {
    let digest = input.history.digest();
    html! {
        div.scroll { table.cards id="owner-summary" {
            thead { tr {
                th scope="col" { "Owner" } th scope="col" { "Artifacts" }
                th scope="col" { "Alerting" } th scope="col" { "Fresh" }
                th scope="col" { "Grace period" } th scope="col" { "Other" }
                th scope="col" { "SLA hit rate" }
            } }
            tbody {
                @for (owner, rows) in owners {
                    @let alerting = rows.iter().filter(|r| r.alerting).count();
                    @let fresh = rows.iter().filter(|r| !r.alerting && r.state == State::Fresh).count();
                    @let grace = rows.iter().filter(|r| !r.alerting && r.state == State::GracePeriod).count();
                    tr {
                        th scope="row" data-label="Owner" { (owner) }
                        td.num data-label="Artifacts" { (rows.len()) }
                        td.num data-label="Alerting" {
                            @if alerting > 0 { strong.sev-critical { (alerting) } } @else { "0" }
                        }
                        td.num data-label="Fresh" { (fresh) }
                        td.num data-label="Grace period" { (grace) }
                        td.num data-label="Other" { (rows.len() - alerting - fresh - grace) }
                        td data-label="SLA hit rate" {
                            @match digest {
                                Some(d) => (hit_rate(&d.sla_of(rows.iter().map(|r| &*r.artifact_id)))),
                                None => "—",
                            }
                        }
                    }
                }
            }
        } }
    }
}

/// Per owner: its non-alerting rows and how many of them fit in [`OTHER_ROWS_SHOWN`].
fn listed<'a>(
    owners: &BTreeMap<&'a str, Vec<&'a ResultRow>>,
) -> Vec<(&'a str, Vec<&'a ResultRow>, usize)> {
    let mut budget = OTHER_ROWS_SHOWN;
    let mut groups = Vec::new();
    for (owner, rows) in owners {
        let quiet: Vec<&ResultRow> = rows.iter().copied().filter(|r| !r.alerting).collect();
        let shown = quiet.len().min(budget);
        if shown > 0 {
            budget -= shown;
            groups.push((*owner, quiet, shown));
        }
    }
    groups
}

fn listing(input: &PageInput<'_>, owners: &BTreeMap<&str, Vec<&ResultRow>>) -> Markup {
    html! {
        div.scroll { table.cards id="others" {
            thead { tr {
                th scope="col" { "State" } th scope="col" { "Artifact" }
                th scope="col" { "Cadence · cycle" } th scope="col" { "Due, last modified" }
                th scope="col" { "History" }
            } }
            @for (owner, quiet, shown) in listed(owners) {
                tbody {
                    tr { th scope="rowgroup" colspan="5" { (owner) " — " (quiet.len()) " not alerting"
                        @if shown < quiet.len() { " (" (shown) " listed)" } } }
                    @for row in &quiet[..shown] { (quiet_row(input, row)) }
                }
            }
        } }
    }
}

fn quiet_row(input: &PageInput<'_>, row: &ResultRow) -> Markup {
    let zone = input.zone_of(row);
    let run_at = input.outcome.run_at;
    html! {
        tr {
            td data-label="State" { (state_badge(row)) }
            th scope="row" data-label="Artifact" {
                (row.artifact_id)
                @if let Some(key) = &row.canonical_key { div.key { (key) } }
                @if row.state != State::Fresh { div.reason.meta { (row.reason()) } }
            }
            td data-label="Cadence · cycle" {
                (row.cadence().unwrap_or("—")) " · " (row.cycle_label().unwrap_or("—"))
            }
            td data-label="Due, last modified" {
                div { "due " @match row.due_at() { Some(t) => (instant_aged(t, zone, run_at)), None => "—" } }
                div { "last modified " @match row.last_modified() { Some(t) => (instant_aged(t, zone, run_at)), None => "—" } }
            }
            td.hist data-label="History" { (history_cell(input.history.digest(), &row.artifact_id)) }
        }
    }
}
