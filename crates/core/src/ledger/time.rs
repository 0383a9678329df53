//! The ledger's times in four bytes: whole seconds since the Unix epoch in a `u32`, with the
//! `Option` niche kept free, so an entry's seven optional times take 28 bytes, not 112
//! (`Option<DateTime<Utc>>` is 16). The file already stores times to the second
//! (`2026-06-01T14:00:00Z`), so nothing the file can say is lost in between, within the range.

use std::fmt;
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::text::Rfc3339;

/// A time the ledger remembers, to the second, from [`LedgerTime::MIN`]
/// (1970-01-01T00:00:00Z) to [`LedgerTime::MAX`] (2106-02-07T06:28:14Z). Sub-second parts are
/// dropped (rounded down), as the file writes them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LedgerTime(
    /// Seconds since the Unix epoch, plus one (zero is `Option`'s `None`).
    NonZeroU32,
);

impl LedgerTime {
    /// The earliest time the ledger holds: 1970-01-01T00:00:00Z.
    pub const MIN: LedgerTime = LedgerTime(NonZeroU32::MIN);
    /// The latest time the ledger holds: 2106-02-07T06:28:14Z (`u32::MAX - 1` seconds).
    pub const MAX: LedgerTime = LedgerTime(NonZeroU32::MAX);

    /// `t` to the second, or `None` outside [`LedgerTime::MIN`]..=[`LedgerTime::MAX`].
    pub fn from_utc(t: DateTime<Utc>) -> Option<LedgerTime> {
        let seconds = u32::try_from(t.timestamp()).ok()?;
        seconds
            .checked_add(1)
            .and_then(NonZeroU32::new)
            .map(LedgerTime)
    }

    /// `t` to the second, held at the nearer end of the range when outside it (a pass's clock
    /// or an object's LastModified before 1970 or after 2106).
    pub fn saturating_from(t: DateTime<Utc>) -> LedgerTime {
        LedgerTime::from_utc(t).unwrap_or(if t.timestamp() < 0 {
            LedgerTime::MIN
        } else {
            LedgerTime::MAX
        })
    }

    /// The time as chrono's.
    pub fn to_utc(self) -> DateTime<Utc> {
        let seconds = i64::from(self.0.get() - 1);
        DateTime::from_timestamp(seconds, 0).expect("a u32 of seconds is a valid time")
    }
}

impl fmt::Debug for LedgerTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LedgerTime({})", Rfc3339(self.to_utc()))
    }
}

impl fmt::Display for LedgerTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Rfc3339(self.to_utc()).fmt(f)
    }
}

/// RFC 3339 text, as the file has it (`"2026-06-01T14:00:00Z"`).
impl std::str::FromStr for LedgerTime {
    type Err = String;

    fn from_str(text: &str) -> Result<LedgerTime, String> {
        TimeVisitor
            .visit_str::<de::value::Error>(text)
            .map_err(|e| e.to_string())
    }
}

/// Written as every time the monitor writes: RFC 3339 UTC, seconds.
impl Serialize for LedgerTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&Rfc3339(self.to_utc()))
    }
}

/// Read from RFC 3339 text without allocating (a reader's scratch buffer is borrowed).
impl<'de> Deserialize<'de> for LedgerTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LedgerTime, D::Error> {
        d.deserialize_str(TimeVisitor)
    }
}

struct TimeVisitor;

impl Visitor<'_> for TimeVisitor {
    type Value = LedgerTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 time")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<LedgerTime, E> {
        let t = DateTime::parse_from_rfc3339(text)
            .map_err(|e| E::custom(format!("{text:?} is not an RFC 3339 time: {e}")))?
            .with_timezone(&Utc);
        LedgerTime::from_utc(t).ok_or_else(|| {
            E::custom(format!(
                "{text} is outside the ledger's times ({} to {})",
                LedgerTime::MIN,
                LedgerTime::MAX
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> DateTime<Utc> {
        t.parse().unwrap()
    }

    #[test]
    fn the_range_s_edges_round_trip_and_the_next_second_out_does_not() {
        for edge in ["1970-01-01T00:00:00Z", "2106-02-07T06:28:14Z"] {
            let time = LedgerTime::from_utc(at(edge)).unwrap();
            assert_eq!(time.to_utc(), at(edge));
            assert_eq!(time.to_string(), edge);
            let json = serde_json::to_string(&time).unwrap();
            assert_eq!(serde_json::from_str::<LedgerTime>(&json).unwrap(), time);
        }
        assert_eq!(LedgerTime::MIN.to_utc(), at("1970-01-01T00:00:00Z"));
        assert_eq!(LedgerTime::MAX.to_utc(), at("2106-02-07T06:28:14Z"));
        assert_eq!(LedgerTime::from_utc(at("1969-12-31T23:59:59Z")), None);
        assert_eq!(LedgerTime::from_utc(at("2106-02-07T06:28:15Z")), None);
        assert_eq!(
            LedgerTime::saturating_from(at("1900-01-01T00:00:00Z")),
            LedgerTime::MIN
        );
        assert_eq!(
            LedgerTime::saturating_from(at("2200-01-01T00:00:00Z")),
            LedgerTime::MAX
        );
        assert_eq!(std::mem::size_of::<Option<LedgerTime>>(), 4);
    }

    #[test]
    fn sub_seconds_are_dropped_as_the_file_drops_them_and_order_is_kept() {
        let t = at("2026-06-01T14:00:00.999Z");
        let time = LedgerTime::from_utc(t).unwrap();
        assert_eq!(time.to_utc(), at("2026-06-01T14:00:00Z"));
        assert_eq!(time.to_string(), Rfc3339(t).to_string());
        let later = LedgerTime::from_utc(at("2026-06-01T14:00:01Z")).unwrap();
        assert!(time < later);
    }

    #[test]
    fn a_time_out_of_range_or_not_a_time_is_refused_with_the_text() {
        let err = serde_json::from_str::<LedgerTime>(r#""2200-01-01T00:00:00Z""#).unwrap_err();
        assert!(
            err.to_string()
                .contains("2200-01-01T00:00:00Z is outside the ledger's times"),
            "{err}"
        );
        let err = serde_json::from_str::<LedgerTime>(r#""yesterday""#).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"yesterday\" is not an RFC 3339 time"),
            "{err}"
        );
        let offset = serde_json::from_str::<LedgerTime>(r#""2026-06-01T16:00:00+02:00""#);
        assert_eq!(offset.unwrap().to_string(), "2026-06-01T14:00:00Z");
    }
}
