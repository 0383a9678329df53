//! "Did you mean …?" for near-miss names: a typo such as `sla_minute_after_cron` must be
//! caught and pointed at the right field, never silently fall back to a default.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
