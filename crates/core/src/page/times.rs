//! Instants and spans as the page writes them: UTC always, the cadence's own zone beside it
//! where the cadence has one, spans in days, hours and minutes, and ages seen from the pass
//! (`3 h ago`, `in 20 min`) beside the instants a person acts on.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use crate::text::rfc3339;

/// `2026-11-27 15:08 UTC` in a `<time>` element (machine-readable RFC 3339 in `datetime`),
/// followed by `· 10:08 EST` when `zone` is given.
pub fn instant(t: DateTime<Utc>, zone: Option<Tz>) -> Markup {
    html! {
        time datetime=(rfc3339(t)) {
            span.nowrap { (t.format("%Y-%m-%d")) } " " span.nowrap { (t.format("%H:%M UTC")) }
        }
        @if let Some(zone) = zone {
            " · " span.zone.nowrap { (t.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z")) }
        }
    }
}

/// `3 d 4 h`, `2 h 5 min`, `12 min`, `under a minute`.
pub fn span(d: Duration) -> String {
    let minutes = d.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours, mins) {
        (0, 0, 0) => "under a minute".to_string(),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// `t` as an age seen from `at` (the pass): `3 h ago`, `in 20 min`, or `now` within a
/// minute either way.
pub fn relative(t: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let d = at - t;
    if d.num_minutes().abs() < 1 {
        "now".to_string()
    } else if d > Duration::zero() {
        format!("{} ago", span(d))
    } else {
        format!("in {}", span(-d))
    }
}

/// [`instant`] followed by its age at the pass, `(3 h ago)`, in a muted span.
pub fn instant_aged(t: DateTime<Utc>, zone: Option<Tz>, at: DateTime<Utc>) -> Markup {
    html! {
        (instant(t, zone)) " " span.age.nowrap { "(" (relative(t, at)) ")" }
    }
}

/// A span given in whole minutes.
pub fn minutes(m: i64) -> String {
    span(Duration::minutes(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_ago_or_in_from_the_pass() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let pass = at("2026-07-03T15:00:00Z");
        assert_eq!(relative(at("2026-07-03T12:00:00Z"), pass), "3 h ago");
        assert_eq!(relative(at("2026-07-03T15:20:00Z"), pass), "in 20 min");
        assert_eq!(relative(at("2026-07-03T15:00:30Z"), pass), "now");
        assert_eq!(relative(at("2026-06-27T13:00:00Z"), pass), "6 d 2 h ago");
    }

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(minutes(0), "under a minute");
        assert_eq!(minutes(45), "45 min");
        assert_eq!(minutes(120), "2 h");
        assert_eq!(minutes(125), "2 h 5 min");
        assert_eq!(minutes(8768), "6 d 2 h");
        assert_eq!(minutes(2880), "2 d");
    }
}
