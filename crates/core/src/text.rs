//! Small text helpers shared by the registry, templates, events and reports: "did you
//! mean", user text cut short for messages, and the monitor's time and duration formats.
//! They live apart so the modules that use them need not import each other.

use std::fmt;

use chrono::{DateTime, Duration, Utc};

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    let word_chars = word_lower.chars().count();
    let allowed = |c: &str| (c.len() / 4).clamp(1, 3);
    candidates
        .iter()
        // The distance is at least the difference in length: skip the candidates that cannot
        // be close, so a pasted megabyte is not compared against every time zone name.
        .filter(|&&c| word_chars.abs_diff(c.chars().count()) <= allowed(c))
        .map(|&c| (edit_distance(&word_lower, &c.to_ascii_lowercase()), c))
        .filter(|&(d, c)| d <= allowed(c))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// How much of a user's text an error message repeats: enough to recognise it, never a
/// pasted megabyte.
const SHORT_TEXT_CHARS: usize = 60;

/// `"text"`, cut short when long, for error messages.
pub fn quote_short(text: &str) -> String {
    if text.chars().count() > SHORT_TEXT_CHARS {
        let cut: String = text.chars().take(SHORT_TEXT_CHARS).collect();
        format!("{cut:?}…")
    } else {
        format!("{text:?}")
    }
}

/// `text` as is, or its start and `…` when long, for names repeated in error messages.
pub fn shorten(text: &str) -> String {
    if text.chars().count() > SHORT_TEXT_CHARS {
        let cut: String = text.chars().take(SHORT_TEXT_CHARS).collect();
        format!("{cut}…")
    } else {
        text.to_string()
    }
}

/// RFC 3339 UTC with a `Z`, seconds precision: the format of every time the monitor writes.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    Rfc3339(t).to_string()
}

/// A time written as [`rfc3339`] writes it, without allocating: every result row carries
/// two or three times and a reason quoting more, so at 100,000 rows chrono's general-purpose
/// formatter (and a `String` per time) was a fifth of the core's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub DateTime<Utc>);

impl Rfc3339 {
    /// `YYYY-MM-DDTHH:MM:SSZ` for years 0 to 9999 (every time a pass meets); `None` for the
    /// rest and for leap seconds, which chrono's formatter then writes.
    pub fn ascii(self) -> Option<[u8; 20]> {
        use chrono::{Datelike, Timelike};
        let t = self.0;
        let year = t.year();
        if !(0..=9999).contains(&year) || t.nanosecond() >= 1_000_000_000 {
            return None;
        }
        let mut out = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, width: usize, mut value: u32| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year as u32);
        put(5, 2, t.month());
        put(8, 2, t.day());
        put(11, 2, t.hour());
        put(14, 2, t.minute());
        put(17, 2, t.second());
        Some(out)
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ascii() {
            // Only ASCII digits and separators were written.
            Some(ascii) => f.write_str(std::str::from_utf8(&ascii).map_err(|_| fmt::Error)?),
            None => f.write_str(&self.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        }
    }
}

/// `7d`, `1d`, `71h`, `15m` for messages.
pub fn human_duration(d: Duration) -> String {
    let minutes = d.num_minutes();
    if minutes % (24 * 60) == 0 {
        format!("{}d", minutes / (24 * 60))
    } else if minutes % 60 == 0 {
        format!("{}h", minutes / 60)
    } else {
        format!("{minutes}m")
    }
}

/// `95 min` / `3h 5m` / `2d 4h`.
pub fn minutes_text(minutes: i64) -> String {
    let minutes = minutes.max(0);
    if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 24 * 60 {
        format!("{}h {}m", minutes / 60, minutes % 60)
    } else {
        format!("{}d {}h", minutes / (24 * 60), (minutes % (24 * 60)) / 60)
    }
}

/// `text` on one line: every run of whitespace (newlines included) one space, none at the
/// ends. A reason, a note or a library's multi-line message quoted in a one-line place.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `s` of a count's noun: `""` for one, `"s"` otherwise (`format!("{n} file{}", plural(n))`).
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `text` as a quoted string, cut after `max` characters with its full length told: a
/// rejection that quotes an input megabytes long stays one readable line.
pub fn quote_within(text: &str, max: usize) -> String {
    match cut_at(text, max) {
        None => format!("{text:?}"),
        Some((head, n)) => format!("{head:?}… ({n} characters)"),
    }
}

/// Already-rendered text (a JSON value, an id), cut like [`quote_within`] but not quoted.
pub fn within(text: &str, max: usize) -> String {
    match cut_at(text, max) {
        None => text.to_string(),
        Some((head, n)) => format!("{head}… ({n} characters)"),
    }
}

/// The first `max` characters and the whole count, when `text` is longer.
fn cut_at(text: &str, max: usize) -> Option<(String, usize)> {
    let n = text.chars().count();
    (n > max).then(|| (text.chars().take(max).collect(), n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIELDS: &[&str] = &["sla_minutes_after_cron", "severity", "cadence", "s3_bucket"];

    #[test]
    fn suggests_near_misses() {
        assert_eq!(
            did_you_mean("sla_minute_after_cron", FIELDS),
            Some("sla_minutes_after_cron")
        );
        assert_eq!(did_you_mean("severty", FIELDS), Some("severity"));
        assert_eq!(did_you_mean("Cadence", FIELDS), Some("cadence"));
        assert_eq!(did_you_mean("s3_buckets", FIELDS), Some("s3_bucket"));
    }

    #[test]
    fn a_huge_word_is_dismissed_without_comparing_it() {
        let huge = "x".repeat(10_000_000);
        let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
        assert_eq!(did_you_mean(&huge, &names), None);
    }

    #[test]
    fn stays_quiet_for_unrelated_words() {
        assert_eq!(did_you_mean("colour", FIELDS), None);
        assert_eq!(did_you_mean("x", FIELDS), None);
    }

    proptest! {
        /// The fast writer and chrono's RFC 3339 agree on every time from year -300 to 12000,
        /// leap seconds included (the writer hands those and the far years to chrono).
        #[test]
        fn rfc3339_matches_chrono(seconds in -71_000_000_000i64..316_000_000_000, leap in any::<bool>()) {
            // chrono represents a leap second as :59 with 1e9 nanoseconds or more.
            let t = if leap {
                DateTime::from_timestamp(seconds - seconds.rem_euclid(60) + 59, 1_500_000_000)
            } else {
                DateTime::from_timestamp(seconds, 0)
            }
            .expect("in range");
            prop_assert_eq!(
                rfc3339(t),
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
    }

    #[test]
    fn rfc3339_pads_every_field() {
        let t: DateTime<Utc> = "0042-01-02T03:04:05Z".parse().unwrap();
        assert_eq!(rfc3339(t), "0042-01-02T03:04:05Z");
        assert_eq!(Rfc3339(t).ascii(), Some(*b"0042-01-02T03:04:05Z"));
    }

    #[test]
    fn long_texts_are_cut_short_in_messages() {
        let long = "x".repeat(1000);
        assert_eq!(quote_short(&long), format!("\"{}\"…", "x".repeat(60)));
        assert_eq!(shorten(&long), format!("{}…", "x".repeat(60)));
        assert_eq!(quote_short("abc"), "\"abc\"");
        assert_eq!(shorten("abc"), "abc");
    }
}
