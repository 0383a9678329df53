//! The built-in calendars against a published source: every closed weekday and early close of
//! 2000–2050 as the `exchange_calendars` package (version in each data file's header) gives
//! them, generated once by `tests/data/calendars/generate.py` and committed.

use std::collections::BTreeSet;

use freshness_monitor::calendar::{BUILTIN_CALENDARS, Calendars};

/// `(date, what)` lines of one data file: `closed` or `early HH:MM`.
fn expected(name: &str) -> (String, BTreeSet<(String, String)>) {
    let path = format!(
        "{}/tests/data/calendars/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let header = text.lines().next().unwrap_or_default().to_string();
    let lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (date, what) = l.split_once(' ').expect("date and what");
            (date.to_string(), what.to_string())
        })
        .collect();
    (header, lines)
}

fn computed(name: &str, first: i32, last: i32) -> BTreeSet<(String, String)> {
    let calendars = Calendars::builtin([]);
    let calendar = calendars.get(name).expect("built-in calendar");
    let mut out = BTreeSet::new();
    for year in first..=last {
        for (date, _) in calendar.closed_weekdays(year) {
            out.insert((date.to_string(), "closed".to_string()));
        }
        for (date, close, _) in calendar.early_closes(year) {
            out.insert((date.to_string(), format!("early {close}")));
        }
    }
    out
}

#[test]
fn every_builtin_calendar_matches_exchange_calendars_2000_to_2050() {
    for name in BUILTIN_CALENDARS {
        let (header, expected) = expected(name);
        assert!(
            header.contains("exchange_calendars") && header.contains("2000-01-01 to 2050-12-31"),
            "{name}: {header}"
        );
        // 51 years of about ten closures and a few early closes each.
        assert!(expected.len() > 300, "{name}: {} dates", expected.len());
        let computed = computed(name, 2000, 2050);
        let missing: Vec<_> = expected.difference(&computed).collect();
        let extra: Vec<_> = computed.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name} differs from {header}\nmissing: {missing:?}\nnot in the source: {extra:?}"
        );
    }
}
