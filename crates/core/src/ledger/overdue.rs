//! How often a pass probes an artifact that is already alerting, when object events are on
//! (docs/lambda.md#passes-with-events-on).
//!
//! Polling alone must probe an overdue artifact every pass: the probe is the only way to learn
//! that it landed. With S3 "Object Created" events on, the event tells the landing (and sends
//! the RESOLVED) within seconds, so the probes of an overdue artifact only guard against an
//! event that was lost. They are spaced out as the alert ages: every pass for the first hour
//! after the artifact starts to alert, then every 30 minutes for two hours, then every hour.
//! A lost event therefore costs at most that interval in latency (the landing is seen by the
//! next probe), never a missed alert (the row stays alerting from the ledger's verdict, as the
//! last probe left it) nor a missed RESOLVED (it comes from the event or from that probe).
//!
//! Pure: the alerting moment, the last probe and `now` in, a yes or no out.

use chrono::{DateTime, Duration, Utc};

/// Every pass (no spacing) for this long after an artifact starts to alert.
pub const EVERY_PASS_FOR: Duration = Duration::hours(1);
/// Then at most this long between probes ...
pub const THEN_EVERY: Duration = Duration::minutes(30);
/// ... until the alert is this old,
pub const UNTIL: Duration = Duration::hours(3);
/// and from then on at most this long between probes: a lost event's worst latency.
pub const AT_MOST_EVERY: Duration = Duration::hours(1);

/// Passes are 15 minutes apart but start a little late or early (a scheduled invocation's
/// jitter): a probe this close to its interval's end counts as due, so a 30-minute interval is
/// every second pass, not every third.
const PASS_JITTER: Duration = Duration::minutes(2);

/// The longest a pass may leave an artifact unprobed that has been alerting for
/// `alerting_for` (zero: every pass).
pub fn overdue_probe_interval(alerting_for: Duration) -> Duration {
    if alerting_for < EVERY_PASS_FOR {
        Duration::zero()
    } else if alerting_for < UNTIL {
        THEN_EVERY
    } else {
        AT_MOST_EVERY
    }
}

/// Whether a pass at `now`, with object events on, may keep an overdue artifact's verdict
/// (missing since its probe at `last_probe`) instead of probing it again: it started to alert
/// at `alerts_from`, and the interval its age allows ([`overdue_probe_interval`]) has not
/// passed since that probe. Never before `alerts_from` (not overdue), never for a probe from
/// the future.
pub fn spares_overdue_probe(
    alerts_from: DateTime<Utc>,
    last_probe: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    if now < alerts_from || last_probe > now {
        return false;
    }
    let interval = overdue_probe_interval(now - alerts_from);
    interval > Duration::zero() && (now - last_probe) + PASS_JITTER < interval
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// Which passes of a 15-minute grid probe an artifact alerting from 06:01 (due 06:00),
    /// each probe taken as the new `last_probe`.
    fn probing_passes(from: &str, until: &str) -> Vec<String> {
        let alerts_from = t("2026-06-01T06:01:00Z");
        let (mut now, end) = (t(from), t(until));
        let mut last_probe = t("2026-06-01T05:45:00Z");
        let mut probed = Vec::new();
        while now <= end {
            if !spares_overdue_probe(alerts_from, last_probe, now) {
                probed.push(now.format("%H:%M").to_string());
                last_probe = now;
            }
            now += Duration::minutes(15);
        }
        probed
    }

    #[test]
    fn every_pass_for_the_first_hour_then_every_30_minutes_then_hourly() {
        assert_eq!(
            probing_passes("2026-06-01T06:15:00Z", "2026-06-01T12:00:00Z"),
            [
                "06:15", "06:30", "06:45", "07:00", // the first hour: every pass
                "07:30", "08:00", "08:30", "09:00", // to 09:01: every 30 minutes
                "10:00", "11:00", "12:00", // then hourly
            ]
        );
    }

    #[test]
    fn a_lost_event_waits_at_most_an_hour_for_the_next_probe() {
        let alerts_from = t("2026-06-01T06:01:00Z");
        let last_probe = t("2026-06-02T03:15:00Z");
        assert!(spares_overdue_probe(
            alerts_from,
            last_probe,
            t("2026-06-02T04:00:00Z")
        ));
        // A deadline pass between two scheduled ones: still spared up to the hour.
        assert!(spares_overdue_probe(
            alerts_from,
            last_probe,
            t("2026-06-02T04:07:00Z")
        ));
        assert!(!spares_overdue_probe(
            alerts_from,
            last_probe,
            t("2026-06-02T04:15:00Z")
        ));
    }

    #[test]
    fn never_spared_before_alerting_nor_for_a_probe_from_the_future() {
        let alerts_from = t("2026-06-01T06:01:00Z");
        let now = t("2026-06-01T06:00:00Z");
        assert!(!spares_overdue_probe(
            alerts_from,
            t("2026-06-01T05:59:00Z"),
            now
        ));
        let later = t("2026-06-01T12:00:00Z");
        assert!(!spares_overdue_probe(
            alerts_from,
            t("2026-06-01T12:01:00Z"),
            later
        ));
    }

    #[test]
    fn the_intervals_grow_and_stop_at_an_hour() {
        let at = |minutes| overdue_probe_interval(Duration::minutes(minutes));
        assert_eq!(at(0), Duration::zero());
        assert_eq!(at(59), Duration::zero());
        assert_eq!(at(60), Duration::minutes(30));
        assert_eq!(at(179), Duration::minutes(30));
        assert_eq!(at(180), Duration::hours(1));
        assert_eq!(at(60 * 24 * 400), Duration::hours(1));
    }
}
