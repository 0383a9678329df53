//! Gregorian Easter Sunday, the base of the moveable feasts (Good Friday, Easter Monday, Whit
//! Monday) that many exchanges close for.

use chrono::NaiveDate;

/// Gregorian Easter Sunday (the anonymous Gregorian algorithm). The algorithm wants a positive
/// year; Easter dates repeat every 5,700,000 years, so any year (a far-off cycle of an absurd
/// cadence reaches year 0 and before) is mapped onto that cycle first and never panics.
pub fn easter_sunday(year: i32) -> NaiveDate {
    const EASTER_CYCLE_YEARS: i32 = 5_700_000;
    let (month, day) = easter_month_day(match year.rem_euclid(EASTER_CYCLE_YEARS) {
        0 => EASTER_CYCLE_YEARS,
        positive => positive,
    });
    NaiveDate::from_ymd_opt(year, month, day).expect("March or April, day 1 to 31")
}

fn easter_month_day(year: i32) -> (u32, u32) {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    (month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use chrono::Datelike;

    use super::*;

    #[test]
    fn easter_of_any_year_is_a_date_in_march_or_april() {
        assert_eq!(
            easter_sunday(2026),
            NaiveDate::from_ymd_opt(2026, 4, 5).unwrap()
        );
        // Year 1 and year 5,700,001 share the Gregorian computus's cycle.
        for year in [-3494, -1, 0, 1, 9999, 262_000] {
            let easter = easter_sunday(year);
            assert_eq!(easter.year(), year);
            assert!(matches!(easter.month(), 3 | 4), "{easter}");
        }
        let minus_one = easter_sunday(-1);
        assert_eq!(
            (minus_one.month(), minus_one.day()),
            easter_month_day(5_699_999)
        );
    }
}
