//! The whole document: `<head>` with the inline stylesheet, then the sections most urgent
//! first, then a footer saying where the full data is.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::strip::legend;
use super::style::CSS;
use super::times::instant;
use super::{PageInput, alerting, by_owner, headline, verdicts};

/// The page, as one HTML string.
pub fn render_status_page(input: &PageInput<'_>) -> String {
    page(input).into_string()
}

fn page(input: &PageInput<'_>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content={ "freshness-monitor " (env!("CARGO_PKG_VERSION")) };
                title { (headline::title(input)) }
                style { (PreEscaped(CSS)) }
            }
            body {
                main {
                    (headline::header(input))
                    @if input.history.digest().is_some() { (legend()) }
                    (alerting::section(input))
                    (verdicts::section(input))
                    (by_owner::section(input))
                    (footer(input))
                }
            }
        }
    }
}

fn footer(input: &PageInput<'_>) -> Markup {
    html! {
        footer {
            p {
                "freshness-monitor " (env!("CARGO_PKG_VERSION")) " · pass of "
                (instant(input.outcome.run_at, None)) " · every row: check_results.json; "
                "cycle verdicts: cycle_verdict.json; the pass itself: heartbeat.json; "
                "history: history.json (same folder as this page)."
            }
        }
    }
}
