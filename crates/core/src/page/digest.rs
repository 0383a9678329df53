//! The part of a history scan the page draws: per artifact its newest cycles as marks and its
//! SLA counts. Built from a scan in memory (`history --html`) or from `history.json` (the
//! pass reads the last daily scan's file), so both pages show the same strips.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::history::cell::CellOutcome;
use crate::history::{History, SlaCounts};

/// Cycles drawn per artifact (the newest); the SLA counts cover the whole scanned window.
pub const STRIP_CELLS: usize = 12;

/// What the page knows of the last history scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryDigest {
    /// The scan's `now`.
    pub generated_at: DateTime<Utc>,
    pub artifacts: HashMap<String, ArtifactStrip>,
}

/// One artifact's strip: its newest [`STRIP_CELLS`] cycles, **oldest first** (as drawn).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArtifactStrip {
    pub cells: Vec<StripCell>,
    /// Over every scanned cycle, not only the drawn ones.
    pub sla: SlaCounts,
}

/// One past cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct StripCell {
    pub cycle_label: String,
    pub mark: CellMark,
}

/// How a cycle went, as the strip draws it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellMark {
    OnTime,
    Late {
        minutes: i64,
    },
    Missing,
    /// Not expected (a closed market day, before the grace period ended): never a gap.
    NotExpected,
    /// The probe failed: nothing is known.
    Unknown,
}

impl CellMark {
    pub(crate) fn of(cell: &CellOutcome) -> CellMark {
        match cell {
            CellOutcome::NotExpected(_) => CellMark::NotExpected,
            CellOutcome::Landed(l) if l.on_time => CellMark::OnTime,
            CellOutcome::Landed(l) => CellMark::Late {
                minutes: l.minutes_late,
            },
            CellOutcome::Absent { .. } => CellMark::Missing,
            CellOutcome::Failed(_) => CellMark::Unknown,
        }
    }

    pub(crate) fn count_into(self, counts: &mut SlaCounts) {
        let slot = match self {
            CellMark::NotExpected => return,
            CellMark::OnTime => &mut counts.on_time,
            CellMark::Late { .. } => &mut counts.late,
            CellMark::Missing => &mut counts.missing,
            CellMark::Unknown => &mut counts.unknown,
        };
        *slot += 1;
        counts.expected += 1;
    }
}

impl ArtifactStrip {
    /// From cycles newest first, as the scan and `history.json` list them.
    pub(crate) fn from_newest_first(
        cycles: impl Iterator<Item = (String, CellMark)>,
    ) -> ArtifactStrip {
        let mut strip = ArtifactStrip::default();
        for (cycle_label, mark) in cycles {
            mark.count_into(&mut strip.sla);
            if strip.cells.len() < STRIP_CELLS {
                strip.cells.push(StripCell { cycle_label, mark });
            }
        }
        strip.cells.reverse();
        strip
    }
}

impl HistoryDigest {
    /// From a scan in memory.
    pub fn of(history: &History<'_>) -> HistoryDigest {
        let artifacts = history
            .artifacts
            .iter()
            .map(|a| {
                let cycles = a
                    .cycles()
                    .map(|(cycle, cell)| (cycle.label.clone(), CellMark::of(cell)));
                (
                    a.spec.id.to_string(),
                    ArtifactStrip::from_newest_first(cycles),
                )
            })
            .collect();
        HistoryDigest {
            generated_at: history.generated_at,
            artifacts,
        }
    }

    /// From the bytes of `history.json` (docs/outputs.md#historyjson); only the fields the
    /// page needs are read.
    pub fn from_json(bytes: &[u8]) -> Result<HistoryDigest, serde_json::Error> {
        let file: HistoryJson = serde_json::from_slice(bytes)?;
        let artifacts = file
            .artifacts
            .into_iter()
            .map(|(id, artifact)| {
                let cycles = artifact
                    .history
                    .into_iter()
                    .map(|c| (c.cycle_label.clone(), c.mark()));
                (id, ArtifactStrip::from_newest_first(cycles))
            })
            .collect();
        Ok(HistoryDigest {
            generated_at: file.generated_at,
            artifacts,
        })
    }

    /// The SLA counts of these artifacts together (an owner's).
    pub fn sla_of<'a>(&self, ids: impl Iterator<Item = &'a str>) -> SlaCounts {
        let mut total = SlaCounts::default();
        for id in ids {
            if let Some(strip) = self.artifacts.get(id) {
                total.add(strip.sla);
            }
        }
        total
    }
}

#[derive(Deserialize)]
struct HistoryJson {
    #[serde(deserialize_with = "rfc3339_time")]
    generated_at: DateTime<Utc>,
    artifacts: HashMap<String, ArtifactJson>,
}

#[derive(Deserialize)]
struct ArtifactJson {
    history: Vec<CellJson>,
}

#[derive(Deserialize)]
struct CellJson {
    cycle_label: String,
    expected: bool,
    present: bool,
    #[serde(default)]
    error_code: Option<String>,
    on_time: Option<bool>,
    minutes_late: Option<i64>,
}

impl CellJson {
    fn mark(&self) -> CellMark {
        if !self.expected {
            CellMark::NotExpected
        } else if self.error_code.is_some() {
            CellMark::Unknown
        } else if !self.present {
            CellMark::Missing
        } else if self.on_time == Some(true) {
            CellMark::OnTime
        } else {
            CellMark::Late {
                minutes: self.minutes_late.unwrap_or(0),
            }
        }
    }
}

fn rfc3339_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time: {e}")))
}
