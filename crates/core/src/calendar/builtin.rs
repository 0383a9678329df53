//! The built-in calendars, as rule sets: `nyse` (New York Stock Exchange), `lse` (London Stock
//! Exchange) and `xetr` (Deutsche Börse Xetra, Frankfurt).
//!
//! Each is checked against the `exchange_calendars` package for 2000–2050 by
//! `tests/it/calendars.rs`, from the dates committed under `tests/data/calendars/`. Xetra is
//! the third because it is the reference market for German equities and where most European
//! ETFs list: a European data team's end-of-day jobs follow it, and its rules (Easter, fixed
//! dates, no weekend observance) are fully rule-based, unlike Tokyo's, whose equinox holidays
//! are astronomical and which `exchange_calendars` itself only tabulates.

use chrono::Weekday::{Fri, Mon, Thu, Tue, Wed};
use chrono_tz::{America, Europe};

use super::CalendarRules;
use super::rules::{CloseTime, DayRule, Observance, WeekdaySet};

/// The names of the built-in calendars.
pub const BUILTIN_CALENDARS: [&str; 3] = ["nyse", "lse", "xetr"];

/// The built-in calendar named `name`.
pub fn builtin(name: &str) -> Option<CalendarRules> {
    match name {
        "nyse" => Some(nyse()),
        "lse" => Some(lse()),
        "xetr" => Some(xetr()),
        _ => None,
    }
}

fn hm(hour: u32, minute: u32) -> CloseTime {
    CloseTime::hm(hour, minute).expect("valid close time")
}

/// NYSE: 16:00 New York; 13:00 on its early-close days.
pub fn nyse() -> CalendarRules {
    use Observance::{NearestWeekday, SundayToMonday};
    let early = hm(13, 0);
    CalendarRules {
        name: "nyse".into(),
        timezone: America::New_York,
        close: hm(16, 0),
        weekend: WeekdaySet::SAT_SUN,
        holidays: vec![
            // Saturday 1 January is not observed: the Friday before is in the previous year.
            DayRule::fixed("New Year's Day", 1, 1).observed(SundayToMonday),
            DayRule::nth("Martin Luther King Jr. Day", 1, Mon, 3).years(Some(1998), None),
            DayRule::nth("Washington's Birthday", 2, Mon, 3),
            DayRule::easter("Good Friday", -2),
            DayRule::last("Memorial Day", 5, Mon),
            DayRule::fixed("Juneteenth", 6, 19)
                .observed(NearestWeekday)
                .years(Some(2022), None),
            DayRule::fixed("Independence Day", 7, 4).observed(NearestWeekday),
            DayRule::nth("Labor Day", 9, Mon, 1),
            DayRule::nth("Thanksgiving Day", 11, Thu, 4),
            DayRule::fixed("Christmas Day", 12, 25).observed(NearestWeekday),
        ],
        closures: vec![
            DayRule::dates(
                "September 11 attacks",
                &[(2001, 9, 11), (2001, 9, 12), (2001, 9, 13), (2001, 9, 14)],
            ),
            DayRule::dates(
                "National Day of Mourning for Ronald Reagan",
                &[(2004, 6, 11)],
            ),
            DayRule::dates("National Day of Mourning for Gerald Ford", &[(2007, 1, 2)]),
            DayRule::dates("Hurricane Sandy", &[(2012, 10, 29), (2012, 10, 30)]),
            DayRule::dates(
                "National Day of Mourning for George H. W. Bush",
                &[(2018, 12, 5)],
            ),
            DayRule::dates("National Day of Mourning for Jimmy Carter", &[(2025, 1, 9)]),
        ],
        early_closes: vec![
            DayRule::fixed("Day before Independence Day", 7, 3)
                .only_on(&[Mon, Tue, Thu])
                .closing_at(early),
            DayRule::fixed("Day before Independence Day", 7, 3)
                .only_on(&[Wed])
                .years(Some(2013), None)
                .closing_at(early),
            DayRule::fixed("Day after Independence Day", 7, 5)
                .only_on(&[Fri])
                .years(None, Some(2012))
                .closing_at(early),
            DayRule::nth("Day after Thanksgiving", 11, Thu, 4)
                .shifted(1)
                .closing_at(early),
            DayRule::fixed("Christmas Eve", 12, 24)
                .only_on(&[Mon, Tue, Wed, Thu])
                .closing_at(early),
            DayRule::dates("Day after Christmas", &[(2003, 12, 26)]).closing_at(early),
        ],
    }
}

/// LSE: 16:30 London; 12:30 on Christmas Eve and New Year's Eve (the Friday before when they
/// fall on a weekend). English bank holidays move to the next free weekday.
pub fn lse() -> CalendarRules {
    use Observance::{NextWeekday, PreviousWeekday};
    let early = hm(12, 30);
    let mut holidays = vec![
        DayRule::fixed("New Year's Day", 1, 1).observed(NextWeekday),
        DayRule::easter("Good Friday", -2),
        DayRule::easter("Easter Monday", 1),
    ];
    // The early May and spring bank holidays moved in the years of a jubilee or anniversary.
    let early_may =
        |first, last| DayRule::nth("Early May bank holiday", 5, Mon, 1).years(first, last);
    holidays.extend([
        early_may(Some(1978), Some(1994)),
        early_may(Some(1996), Some(2019)),
        early_may(Some(2021), None),
    ]);
    let spring = |first, last| DayRule::last("Spring bank holiday", 5, Mon).years(first, last);
    holidays.extend([
        spring(None, Some(2001)),
        spring(Some(2003), Some(2011)),
        spring(Some(2013), Some(2021)),
        spring(Some(2023), None),
        DayRule::dates(
            "Spring bank holiday",
            &[(2002, 6, 4), (2012, 6, 4), (2022, 6, 2)],
        ),
        DayRule::last("Summer bank holiday", 8, Mon),
        DayRule::fixed("Christmas Day", 12, 25).observed(NextWeekday),
        DayRule::fixed("Boxing Day", 12, 26).observed(NextWeekday),
    ]);
    CalendarRules {
        name: "lse".into(),
        timezone: Europe::London,
        close: hm(16, 30),
        weekend: WeekdaySet::SAT_SUN,
        holidays,
        closures: vec![
            DayRule::dates("Silver Jubilee of Elizabeth II", &[(1977, 6, 7)]),
            DayRule::dates("Wedding of Prince Charles and Lady Diana", &[(1981, 7, 29)]),
            DayRule::dates("VE Day 50th anniversary", &[(1995, 5, 8)]),
            DayRule::dates("Millennium celebrations", &[(1999, 12, 31)]),
            DayRule::dates("Golden Jubilee of Elizabeth II", &[(2002, 6, 3)]),
            DayRule::dates(
                "Wedding of Prince William and Catherine Middleton",
                &[(2011, 4, 29)],
            ),
            DayRule::dates("Diamond Jubilee of Elizabeth II", &[(2012, 6, 5)]),
            DayRule::dates(
                "VE Day 75th anniversary (early May bank holiday moved)",
                &[(2020, 5, 8)],
            ),
            DayRule::dates("Platinum Jubilee of Elizabeth II", &[(2022, 6, 3)]),
            DayRule::dates("State funeral of Elizabeth II", &[(2022, 9, 19)]),
            DayRule::dates("Coronation of Charles III", &[(2023, 5, 8)]),
        ],
        early_closes: vec![
            DayRule::fixed("Christmas Eve", 12, 24)
                .observed(PreviousWeekday)
                .closing_at(early),
            DayRule::fixed("New Year's Eve", 12, 31)
                .observed(PreviousWeekday)
                .closing_at(early),
        ],
    }
}

/// Xetra: 17:30 Frankfurt; 14:00 on the last trading day before 31 December (since 2010).
/// Whit Monday and the Day of German Unity were closures from 2015 and 2014 to 2021 only.
pub fn xetr() -> CalendarRules {
    CalendarRules {
        name: "xetr".into(),
        timezone: Europe::Berlin,
        close: hm(17, 30),
        weekend: WeekdaySet::SAT_SUN,
        holidays: vec![
            DayRule::fixed("New Year's Day", 1, 1),
            DayRule::easter("Good Friday", -2),
            DayRule::easter("Easter Monday", 1),
            DayRule::fixed("Labour Day", 5, 1),
            DayRule::easter("Whit Monday", 50).years(Some(2015), Some(2021)),
            DayRule::fixed("Day of German Unity", 10, 3).years(Some(2014), Some(2021)),
            DayRule::fixed("Christmas Eve", 12, 24),
            DayRule::fixed("Christmas Day", 12, 25),
            DayRule::fixed("Boxing Day", 12, 26),
            DayRule::fixed("New Year's Eve", 12, 31),
        ],
        closures: vec![
            DayRule::dates("Whit Monday", &[(2007, 5, 28)]),
            DayRule::dates("Reformation Day (500th anniversary)", &[(2017, 10, 31)]),
        ],
        early_closes: vec![
            DayRule::fixed("Last trading day of the year", 12, 30)
                .observed(Observance::PreviousWeekday)
                .years(Some(2010), None)
                .closing_at(hm(14, 0)),
        ],
    }
}
