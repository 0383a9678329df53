//! The history's compacted log in its packed form (format 2): one line per artifact, its
//! recorded cycles as arrays of numbers.
//!
//! The compacted log is the history's own cache (docs/outputs.md#from-the-outcome-log), read
//! and rewritten whole by every daily scan: ~4 million cycles at 100,000 artifacts. Written in
//! the log's schema (format 1) each cycle was ~330 bytes of JSON with four RFC 3339 times and
//! five strings to parse, allocate and write back; packed, a cycle is what the history keeps
//! of it ([`Recorded`]) in ~55 bytes of integers, and the artifact's id is written once.
//! Format 1 objects are still read (`reading::ObjectReader`).

use std::borrow::Cow;

use chrono::DateTime;
use serde::{Deserialize, Serialize};

use super::reading::Recorded;
use super::record::{KnownBy, Outcome, SetCycle};
use crate::ledger::LedgerTime;

/// The packed format's number, in the compacted log's header (`history_outcomes`).
pub const PACKED_FORMAT: u32 = 2;

/// One artifact's line: `{"id": ID, "c": [[tick, landed_at, checked_at, flags, key], …]}`, and
/// for a set `"s": [[tick, total, written], …]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackedArtifact<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(rename = "c")]
    pub cycles: Vec<PackedCycle>,
    /// A set's counts per cycle (`"s": [[tick, total, written], …]`), absent for the
    /// artifacts that are not sets.
    #[serde(rename = "s", default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<PackedSetCycle>,
}

/// A set's counts in the cycle that ticked at the first number (Unix seconds): its keys, and
/// those written since the tick (`set_total`, `set_written` in the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedSetCycle(pub u32, pub u32, pub u32);

impl PackedSetCycle {
    pub fn of(tick: LedgerTime, set: SetCycle) -> PackedSetCycle {
        PackedSetCycle(seconds(tick), set.total, set.written)
    }

    /// The tick and the counts; `None` when the tick is not one this build writes.
    pub fn set_cycle(self) -> Option<(LedgerTime, SetCycle)> {
        let PackedSetCycle(tick, total, written) = self;
        Some((time(tick)?, SetCycle { total, written }))
    }
}

/// One recorded cycle: the tick, the landing (0: none), the last look, in Unix seconds; the
/// outcome, `alerted` and `known_by` in one number (bits 0–2, 3, 4–5); the key's fingerprint
/// (`ledger::probe_fingerprint` of the bucket and the canonical key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedCycle(pub u32, pub u32, pub u32, pub u8, pub u64);

impl PackedCycle {
    pub fn of(r: &Recorded) -> PackedCycle {
        PackedCycle(
            seconds(r.tick),
            r.landed_at.map_or(0, seconds),
            seconds(r.checked_at),
            flags(r.outcome, r.alerted, r.known_by),
            r.key_fingerprint,
        )
    }

    /// The cycle as the history holds it; `None` when a number is not one this build writes.
    pub fn recorded(self) -> Option<Recorded> {
        let PackedCycle(tick, landed, checked, flags, key_fingerprint) = self;
        let (outcome, alerted, known_by) = unflag(flags)?;
        Some(Recorded {
            tick: time(tick)?,
            landed_at: if landed == 0 {
                None
            } else {
                Some(time(landed)?)
            },
            checked_at: time(checked)?,
            outcome,
            alerted,
            known_by,
            key_fingerprint,
        })
    }
}

fn seconds(t: LedgerTime) -> u32 {
    u32::try_from(t.to_utc().timestamp()).unwrap_or(u32::MAX)
}

fn time(seconds: u32) -> Option<LedgerTime> {
    LedgerTime::from_utc(DateTime::from_timestamp(i64::from(seconds), 0)?)
}

const OUTCOMES: [Outcome; 5] = [
    Outcome::OnTime,
    Outcome::Late,
    Outcome::Missing,
    Outcome::Unknown,
    Outcome::NotExpected,
];
const KNOWN_BY: [KnownBy; 3] = [KnownBy::Pass, KnownBy::Recheck, KnownBy::None];

/// The outcome's index (bits 0–2), `alerted` (bit 3), `known_by`'s index (bits 4–5).
fn flags(outcome: Outcome, alerted: bool, known_by: KnownBy) -> u8 {
    let o = OUTCOMES.iter().position(|x| *x == outcome).unwrap_or(3) as u8;
    let k = KNOWN_BY.iter().position(|x| *x == known_by).unwrap_or(2) as u8;
    o | (u8::from(alerted) << 3) | (k << 4)
}

fn unflag(flags: u8) -> Option<(Outcome, bool, KnownBy)> {
    let outcome = *OUTCOMES.get(usize::from(flags & 0b111))?;
    let known_by = *KNOWN_BY.get(usize::from(flags >> 4))?;
    Some((outcome, flags & 0b1000 != 0, known_by))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> LedgerTime {
        text.parse().unwrap()
    }

    #[test]
    fn a_cycle_packs_and_unpacks_to_itself() {
        for (outcome, landed, alerted, known_by) in [
            (
                Outcome::OnTime,
                Some(t("2026-12-01T10:05:00Z")),
                false,
                KnownBy::Pass,
            ),
            (
                Outcome::Late,
                Some(t("2026-12-01T13:00:59Z")),
                true,
                KnownBy::Recheck,
            ),
            (Outcome::Missing, None, true, KnownBy::Pass),
            (Outcome::Unknown, None, false, KnownBy::None),
            (Outcome::NotExpected, None, false, KnownBy::None),
        ] {
            let r = Recorded {
                tick: t("2026-12-01T10:00:00Z"),
                landed_at: landed,
                checked_at: t("2026-12-03T00:00:00Z"),
                outcome,
                alerted,
                known_by,
                key_fingerprint: u64::MAX - 7,
            };
            let line = serde_json::to_string(&PackedCycle::of(&r)).unwrap();
            let back: PackedCycle = serde_json::from_str(&line).unwrap();
            assert_eq!(back.recorded(), Some(r), "{line}");
        }
    }

    #[test]
    fn numbers_this_build_does_not_write_are_refused() {
        assert_eq!(PackedCycle(1, 0, 1, 7, 0).recorded(), None, "outcome 7");
        assert_eq!(
            PackedCycle(1, 0, 1, 3 << 4, 0).recorded(),
            None,
            "known_by 3"
        );
        assert_eq!(
            PackedCycle(u32::MAX, 0, 1, 0, 0).recorded(),
            None,
            "a tick past 2106"
        );
    }

    #[test]
    fn an_artifact_line_reads_back_with_its_id_borrowed() {
        let line = r#"{"id":"a.b","c":[[1796119200,0,1796169600,2,42]]}"#;
        let packed: PackedArtifact = serde_json::from_str(line).unwrap();
        assert!(matches!(packed.id, Cow::Borrowed("a.b")));
        assert_eq!(
            packed.cycles,
            vec![PackedCycle(1796119200, 0, 1796169600, 2, 42)]
        );
        assert_eq!(serde_json::to_string(&packed).unwrap(), line);
    }

    #[test]
    fn a_sets_counts_travel_beside_its_cycles_and_others_write_none() {
        let line =
            r#"{"id":"prices","c":[[1796119200,0,1796169600,2,42]],"s":[[1796119200,500,497]]}"#;
        let packed: PackedArtifact = serde_json::from_str(line).unwrap();
        let (tick, set) = packed.sets[0].set_cycle().unwrap();
        assert_eq!(tick, packed.cycles[0].recorded().unwrap().tick);
        assert_eq!((set.total, set.written), (500, 497));
        assert_eq!(serde_json::to_string(&packed).unwrap(), line);
        let plain = r#"{"id":"a.b","c":[]}"#;
        let packed: PackedArtifact = serde_json::from_str(plain).unwrap();
        assert!(packed.sets.is_empty());
        assert_eq!(serde_json::to_string(&packed).unwrap(), plain);
    }
}
