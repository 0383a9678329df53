//! An artifact's recent history as a strip of cells, oldest left, newest right, each a letter
//! on a colour (the letter carries the meaning; the colour only helps), with the cycle label
//! in its tooltip, then the SLA hit rate over the scanned window.

use maud::{Markup, html};

use super::digest::{CellMark, HistoryDigest};
use super::times;
use crate::history::SlaCounts;

/// The strip and hit rate of `id`, or a dash when the scan has nothing for it.
pub fn history_cell(digest: Option<&HistoryDigest>, id: &str) -> Markup {
    let Some(strip) = digest.and_then(|d| d.artifacts.get(id)) else {
        return html! { span.meta { "—" } };
    };
    html! {
        ol.strip aria-label="recent cycles, oldest first" {
            @for cell in &strip.cells {
                li class=(mark_class(cell.mark)) title={ (cell.cycle_label) ": " (mark_words(cell.mark)) } {
                    (mark_letter(cell.mark))
                }
            }
        }
        span.rate { (hit_rate(&strip.sla)) }
    }
}

/// `92% on time (11 of 12)`, or `no known cycle`.
pub fn hit_rate(counts: &SlaCounts) -> String {
    let known = counts.on_time + counts.late + counts.missing;
    match counts.hit_rate() {
        Some(rate) => format!(
            "{:.0}% on time ({} of {known})",
            rate * 100.0,
            counts.on_time
        ),
        None => "no known cycle".to_string(),
    }
}

/// The key to the strips.
pub fn legend() -> Markup {
    let marks = [
        CellMark::OnTime,
        CellMark::Late { minutes: 0 },
        CellMark::Missing,
        CellMark::NotExpected,
        CellMark::Unknown,
    ];
    html! {
        div.legend {
            "History, oldest cycle first: "
            @for mark in marks {
                span.item {
                    span class={ "sw " (mark_class(mark)) } aria-hidden="true" { (mark_letter(mark)) }
                    " " (mark_name(mark))
                }
            }
            " · hit rate = on time ÷ (on time + late + missing); failed probes are left out."
        }
    }
}

fn mark_class(mark: CellMark) -> &'static str {
    match mark {
        CellMark::OnTime => "m-ok",
        CellMark::Late { .. } => "m-late",
        CellMark::Missing => "m-miss",
        CellMark::NotExpected => "m-na",
        CellMark::Unknown => "m-unk",
    }
}

fn mark_letter(mark: CellMark) -> &'static str {
    match mark {
        CellMark::OnTime => "✓",
        CellMark::Late { .. } => "L",
        CellMark::Missing => "✗",
        CellMark::NotExpected => "–",
        CellMark::Unknown => "?",
    }
}

fn mark_name(mark: CellMark) -> &'static str {
    match mark {
        CellMark::OnTime => "on time",
        CellMark::Late { .. } => "late",
        CellMark::Missing => "missing",
        CellMark::NotExpected => "not expected",
        CellMark::Unknown => "probe failed",
    }
}

fn mark_words(mark: CellMark) -> String {
    match mark {
        CellMark::Late { minutes } => format!("late by {}", times::minutes(minutes)),
        other => mark_name(other).to_string(),
    }
}
