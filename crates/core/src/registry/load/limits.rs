//! What can never work or cannot be meaningful, refused at validation: bucket names S3 would
//! refuse, keys longer than S3 allows, intervals longer than a century and grace periods that
//! end after the year 9999 (the last year a pass computes with).

use chrono::{Duration, NaiveDate, NaiveTime};

use super::values::Bound;
use crate::cadence::Cadence;
use crate::template::{KeyTemplate, MAX_S3_KEY_BYTES};
use crate::text::{human_duration, quote_short};

/// The longest `interval_minutes`: a century of minutes (100 × 365.25 days).
pub(super) const MAX_INTERVAL: Bound = Bound {
    value: 52_596_000,
    why: Some("a century"),
};

/// A recovery key equal to the canonical key would count the artifact present as itself.
pub(super) const RECOVERY_IS_CANONICAL: &str =
    "the recovery key is the canonical key; remove it or point it elsewhere";

/// Why `name` cannot be an S3 bucket, by the first of S3's naming rules it breaks.
pub(super) fn bucket_name_problem(name: &str) -> Option<String> {
    let rule = bucket_rule_broken(name)?;
    Some(format!("{}: {rule}", quote_short(name)))
}

fn bucket_rule_broken(name: &str) -> Option<String> {
    let chars = name.chars().count();
    if !(3..=63).contains(&chars) {
        return Some(format!(
            "S3 bucket names are 3 to 63 characters long; this one has {chars}"
        ));
    }
    if name.chars().any(|c| c.is_uppercase()) {
        return Some("uppercase letters are not allowed in S3 bucket names".to_string());
    }
    if name.contains('_') {
        return Some("underscores are not allowed in S3 bucket names".to_string());
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'))
    {
        return Some(format!(
            "{c:?} is not allowed in S3 bucket names (only lowercase letters, digits, `.` and `-`)"
        ));
    }
    let alphanumeric = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alphanumeric(name.chars().next()) || !alphanumeric(name.chars().last()) {
        return Some("S3 bucket names must start and end with a letter or digit".to_string());
    }
    if name.contains("..") {
        return Some("S3 bucket names must not contain two adjacent periods".to_string());
    }
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() == 4 && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
        return Some("S3 bucket names must not be formatted as an IP address".to_string());
    }
    // Reserved by S3 for its own naming schemes.
    if let Some(prefix) = ["xn--", "sthree-", "amzn-s3-demo-"]
        .into_iter()
        .find(|p| name.starts_with(p))
    {
        return Some(format!("S3 bucket names must not start with `{prefix}`"));
    }
    if let Some(suffix) = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
        .into_iter()
        .find(|s| name.ends_with(s))
    {
        return Some(format!("S3 bucket names must not end with `{suffix}`"));
    }
    None
}

/// Why keys rendered from `template` can be too long for S3, `label` being the cadence whose
/// cycle label fills `{cycle_label}` (`None`: no such placeholder, or no cadence to know it).
pub(super) fn key_length_problem(
    template: &KeyTemplate,
    label: Option<&Cadence>,
) -> Option<String> {
    let label_bytes = label.map_or(0, Cadence::longest_label);
    let longest = template.check_key_length(label_bytes).err()?;
    let with_label = match label {
        Some(cadence) if template.uses_cycle_label() => format!(
            " (with `{{cycle_label}}` at its longest for cadence `{}`, {label_bytes} bytes)",
            cadence.name()
        ),
        _ => String::new(),
    };
    Some(format!(
        "the rendered key can be {longest} bytes long{with_label}; S3 keys are at most \
         {MAX_S3_KEY_BYTES} bytes"
    ))
}

/// Why `grace` cycles of `cadence` from `created_at` cannot be meaningful: they would end
/// after 9999-12-31 23:59:59. `longest_cycle` computes the cadence's longest cycle, asked only
/// when the free bound ([`Cadence::longest_cycle_bound`]) does not settle it.
pub(super) fn grace_problem(
    grace: u32,
    created_at: NaiveDate,
    cadence: &Cadence,
    longest_cycle: impl FnOnce() -> Duration,
) -> Option<String> {
    let last = NaiveDate::from_ymd_opt(9999, 12, 31)?.and_hms_opt(23, 59, 59)?;
    let room = (last - created_at.and_time(NaiveTime::MIN))
        .num_seconds()
        .max(0);
    let fits =
        |cycle: Duration| u128::from(grace) * cycle.num_seconds().max(1) as u128 <= room as u128;
    if fits(cadence.longest_cycle_bound()) {
        return None;
    }
    let cycle = longest_cycle();
    if fits(cycle) {
        return None;
    }
    let at_most = room / cycle.num_seconds().max(1);
    let up_to = if matches!(cadence, Cadence::User(_)) {
        "up to "
    } else {
        ""
    };
    Some(format!(
        "is too large (at most {at_most}): {grace} cycles of {up_to}{} from created_at \
         {created_at} end after the year 9999",
        human_duration(cycle)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_break_the_first_rule_they_break() {
        assert_eq!(bucket_name_problem("research-bucket"), None);
        assert_eq!(
            bucket_name_problem("My_Bucket").as_deref(),
            Some("\"My_Bucket\": uppercase letters are not allowed in S3 bucket names")
        );
        assert_eq!(
            bucket_name_problem("1.2.3.4").as_deref(),
            Some("\"1.2.3.4\": S3 bucket names must not be formatted as an IP address")
        );
        // Four labels, not all digits: allowed.
        assert_eq!(bucket_name_problem("1.2.3.a"), None);
        assert_eq!(
            bucket_name_problem("bücket").as_deref(),
            Some(
                "\"bücket\": 'ü' is not allowed in S3 bucket names (only lowercase letters, \
                 digits, `.` and `-`)"
            )
        );
    }

    #[test]
    fn a_grace_period_fits_exactly_up_to_the_last_second_of_9999() {
        let created = NaiveDate::from_ymd_opt(9999, 12, 30).unwrap();
        let daily = Cadence::WeekdaySf;
        let cycle = || daily.longest_cycle();
        assert_eq!(grace_problem(1, created, &daily, cycle), None);
        assert_eq!(
            grace_problem(2, created, &daily, cycle).as_deref(),
            Some(
                "is too large (at most 1): 2 cycles of 1d from created_at 9999-12-30 end after \
                 the year 9999"
            )
        );
        assert_eq!(grace_problem(0, created, &daily, cycle), None);
    }
}
