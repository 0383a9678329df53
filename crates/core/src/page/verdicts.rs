//! The cycle verdicts (cycle_verdict.json): per cadence and cycle, whether its critical
//! artifacts are all there. Worst first; the artifacts named per list are capped so a
//! 100,000-artifact outage does not make this table the page.

use maud::{Markup, html};

use super::PageInput;
use crate::report::{CycleVerdict, CycleVerdictKind};

/// Ids named per list (missing, stale, …) before "and N more".
const IDS_NAMED: usize = 10;

/// Verdict rows listed (a registry of many continuous intervals has one cycle each).
const VERDICTS_SHOWN: usize = 200;

pub fn section(input: &PageInput<'_>) -> Markup {
    let mut verdicts = input.outcome.cycle_verdicts().verdicts;
    verdicts.sort_by_key(|v| std::cmp::Reverse(v.state));
    let hidden = verdicts.len().saturating_sub(VERDICTS_SHOWN);
    html! {
        section id="verdicts" aria-labelledby="verdicts-h" {
            h2 id="verdicts-h" { "Cycle verdicts (" (verdicts.len()) ")" }
            p.meta { "A cycle is complete when all its critical artifacts are fresh or in their grace period." }
            @if !verdicts.is_empty() {
                div.scroll { table.cards {
                    thead { tr {
                        th scope="col" { "Cadence" } th scope="col" { "Cycle" }
                        th scope="col" { "Verdict" } th scope="col" { "Critical satisfied" }
                        th scope="col" { "Not satisfied" }
                    } }
                    tbody { @for v in verdicts.iter().take(VERDICTS_SHOWN) { (verdict_row(v)) } }
                } }
            }
            @if hidden > 0 { p.more { (hidden) " more cycles are in cycle_verdict.json." } }
        }
    }
}

fn verdict_row(v: &CycleVerdict) -> Markup {
    let state = match v.state {
        CycleVerdictKind::Complete => "complete",
        CycleVerdictKind::Indeterminate => "indeterminate",
        CycleVerdictKind::Incomplete => "incomplete",
    };
    html! {
        tr {
            th scope="row" data-label="Cadence" { (v.cadence) }
            td data-label="Cycle" { (v.cycle_label) }
            td data-label="Verdict" { span class={ "st st-" (state) } { (state) } }
            td.num data-label="Critical satisfied" { (v.n_satisfied) " of " (v.n_required) }
            td.reason data-label="Not satisfied" {
                @for (what, ids) in [("missing", &v.missing), ("stale", &v.stale), ("suspect", &v.suspect), ("probe failed", &v.probe_failed)] {
                    @if !ids.is_empty() { div { strong { (what) ": " } (named(ids)) } }
                }
            }
        }
    }
}

/// `a, b, c` or `a, …, j and 40 more`.
fn named(ids: &[String]) -> String {
    let shown = ids[..ids.len().min(IDS_NAMED)].join(", ");
    match ids.len().saturating_sub(IDS_NAMED) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}
