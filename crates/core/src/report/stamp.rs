//! A time held in 8 bytes, `None` included: a row keeps three (issue 17 holds a million rows
//! at once), and every output writes them as RFC 3339 whole seconds, so whole seconds are all
//! a row needs to keep.

use std::num::NonZeroI64;

use chrono::{DateTime, Utc};

/// Whole seconds since the Unix epoch, the sign bit flipped so that no representable time is
/// zero (the niche that makes `Option<Stamp>` 8 bytes). Any `DateTime<Utc>` fits: chrono's
/// range is a few trillion seconds either side of the epoch, far inside an `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp(NonZeroI64);

impl Stamp {
    /// The time, floored to its whole second (what RFC 3339 whole seconds write).
    pub fn new(t: DateTime<Utc>) -> Stamp {
        let flipped = t.timestamp() ^ i64::MIN;
        Stamp(NonZeroI64::new(flipped).expect("chrono's times are far from i64::MIN seconds"))
    }

    /// The time as chrono's, on its whole second.
    pub fn to_utc(self) -> DateTime<Utc> {
        let seconds = self.0.get() ^ i64::MIN;
        DateTime::from_timestamp(seconds, 0).expect("a stamp holds a time chrono gave")
    }
}

impl From<DateTime<Utc>> for Stamp {
    fn from(t: DateTime<Utc>) -> Stamp {
        Stamp::new(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_and_its_absence_take_8_bytes() {
        assert_eq!(size_of::<Option<Stamp>>(), 8);
    }

    #[test]
    fn any_time_comes_back_on_its_whole_second() {
        let times = [
            DateTime::<Utc>::MIN_UTC,
            DateTime::UNIX_EPOCH,
            "1969-12-31T23:59:59.999Z".parse().unwrap(),
            "2026-06-05T07:30:00.750Z".parse().unwrap(),
            DateTime::<Utc>::MAX_UTC,
        ];
        let whole = [
            DateTime::<Utc>::MIN_UTC,
            DateTime::UNIX_EPOCH,
            "1969-12-31T23:59:59Z".parse().unwrap(),
            "2026-06-05T07:30:00Z".parse().unwrap(),
            DateTime::from_timestamp(DateTime::<Utc>::MAX_UTC.timestamp(), 0).unwrap(),
        ];
        for (t, w) in times.into_iter().zip(whole) {
            assert_eq!(Stamp::new(t).to_utc(), w, "{t}");
        }
    }
}
