//! `history.json` (docs/outputs.md#historyjson): the scan in the original monitor's shape, so
//! its dashboard (gap count, history column, SLA hit rate) reads it unchanged, plus our fields.
//!
//! The original's fields: `{generated_at, lookback, duration_seconds, n_artifacts,
//! n_cycles_probed, skipped_unsupported, artifacts: {ID: {cadence, severity, owner_repo,
//! s3_key_template, is_latest_pointer, lookback_cycles, gap_count, continuous, history: [{date,
//! present, size, last_modified, error_code?}]}}}`, history newest first. Ours: per cycle
//! `cycle_label`, `expected`, `on_time`, `minutes_late` (and `error`, `reason`,
//! `recovery_substituted` when they apply); at the top `truncated`, `not_scanned`,
//! `n_head_requests` and the SLA report `sla`. The views here borrow the scan's result and
//! write it straight into the serializer.

use std::borrow::Cow;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::cell::{CellOutcome, NotExpected};
use super::sla::SlaReport;
use super::{ArtifactHistory, History};
use crate::cadence::window::WindowCheck;
use crate::cadence::{Cadence, Cycle};
use crate::classify::grace_ends_at;
use crate::outcome_log::SetCycle;
use crate::registry::Severity;
use crate::text::Rfc3339;

/// The whole file.
pub struct HistoryFile<'a>(pub &'a History<'a>);

impl Serialize for HistoryFile<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let h = self.0;
        let mut map = serializer.serialize_map(Some(16))?;
        map.serialize_entry("generated_at", &Rfc3339(h.generated_at).to_string())?;
        map.serialize_entry("lookback", &h.lookback)?;
        map.serialize_entry("duration_seconds", &h.duration_seconds())?;
        map.serialize_entry("n_artifacts", &h.n_artifacts())?;
        map.serialize_entry("n_cycles_probed", &h.n_cycles_probed())?;
        map.serialize_entry("skipped_unsupported", &h.skipped_unsupported)?;
        map.serialize_entry("truncated", &h.truncated())?;
        map.serialize_entry("not_scanned", &h.not_scanned)?;
        map.serialize_entry("n_head_requests", &h.n_head_requests)?;
        map.serialize_entry("n_list_requests", &h.n_list_requests)?;
        map.serialize_entry("n_cycles_from_log", &h.n_cycles_from_log)?;
        map.serialize_entry("probes_by_reason", &h.probes_by_reason())?;
        map.serialize_entry("n_log_requests", &h.n_log_requests)?;
        map.serialize_entry("warnings", &h.warnings)?;
        map.serialize_entry("artifacts", &Artifacts(&h.artifacts))?;
        map.serialize_entry("sla", h.sla())?;
        map.end()
    }
}

/// `{ID: artifact}` in registry order.
struct Artifacts<'a>(&'a [ArtifactHistory<'a>]);

impl Serialize for Artifacts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.0
                .iter()
                .map(|a| (a.spec.id.as_str(), ArtifactEntry::of(a))),
        )
    }
}

#[derive(Serialize)]
struct ArtifactEntry<'a> {
    cadence: &'a str,
    severity: Severity,
    owner_repo: &'a str,
    s3_key_template: &'a str,
    is_latest_pointer: bool,
    lookback_cycles: usize,
    /// `null` for a latest pointer, as the original's historical mode writes it: one probe of
    /// one key cannot tell gaps.
    gap_count: Option<usize>,
    /// The cadence is `continuous`; for a latest pointer, whether its one probe found the
    /// object, of any age (the original's meaning there).
    continuous: bool,
    history: Cells<'a>,
}

impl<'a> ArtifactEntry<'a> {
    fn of(a: &'a ArtifactHistory<'a>) -> Self {
        let pointer = a.spec.s3_key_template.is_pointer();
        ArtifactEntry {
            cadence: a.spec.cadence.name(),
            severity: a.spec.severity,
            owner_repo: &a.spec.owner_repo,
            s3_key_template: a.spec.s3_key_template.source(),
            is_latest_pointer: pointer,
            lookback_cycles: a.cells.len(),
            gap_count: (!pointer).then(|| a.gap_count()),
            continuous: if pointer {
                a.cycles().any(|(_, cell)| match cell {
                    CellOutcome::Landed(_) => true,
                    CellOutcome::Absent { seen } => seen.is_some(),
                    CellOutcome::NotExpected(_) | CellOutcome::Failed(_) => false,
                })
            } else {
                matches!(a.spec.cadence, Cadence::Continuous { .. })
            },
            history: Cells(a),
        }
    }
}

/// The history list, newest first.
struct Cells<'a>(&'a ArtifactHistory<'a>);

impl Serialize for Cells<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.0
                .cycles()
                .enumerate()
                .map(|(i, (cycle, cell))| CellEntry {
                    set: self.0.set_cycle(i).map(SetEntry::of),
                    ..CellEntry::of(self.0, cycle, cell)
                }),
        )
    }
}

#[derive(Serialize)]
struct CellEntry<'a> {
    #[serde(serialize_with = "display")]
    date: chrono::NaiveDate,
    present: bool,
    size: Option<u64>,
    #[serde(serialize_with = "opt_display")]
    last_modified: Option<Rfc3339>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    cycle_label: &'a str,
    expected: bool,
    on_time: Option<bool>,
    minutes_late: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    recovery_substituted: bool,
    /// A set's counts in the cycle, when it is a set and they are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    set: Option<SetEntry>,
}

/// `{total, written, fraction, complete}`: a set's cycle, complete or partial.
#[derive(Serialize)]
struct SetEntry {
    total: u32,
    written: u32,
    fraction: f64,
    complete: bool,
}

impl SetEntry {
    fn of(set: SetCycle) -> Self {
        SetEntry {
            total: set.total,
            written: set.written,
            fraction: set.fraction(),
            complete: set.complete(),
        }
    }
}

impl<'a> CellEntry<'a> {
    fn of(a: &'a ArtifactHistory<'a>, cycle: &'a Cycle, cell: &'a CellOutcome) -> Self {
        let base = CellEntry {
            date: cycle.date,
            present: false,
            size: None,
            last_modified: None,
            error_code: None,
            error: None,
            cycle_label: &cycle.label,
            expected: true,
            on_time: None,
            minutes_late: None,
            reason: None,
            recovery_substituted: false,
            set: None,
        };
        match cell {
            CellOutcome::NotExpected(why) => CellEntry {
                expected: false,
                reason: Some(not_expected_reason(a, cycle, *why)),
                ..base
            },
            CellOutcome::Landed(landed) => CellEntry {
                present: true,
                size: landed.meta.size,
                last_modified: Some(Rfc3339(landed.meta.last_modified)),
                on_time: Some(landed.on_time),
                minutes_late: Some(landed.minutes_late),
                recovery_substituted: landed.recovery_substituted,
                ..base
            },
            CellOutcome::Absent { seen } => CellEntry {
                size: seen.and_then(|m| m.size),
                last_modified: seen.map(|m| Rfc3339(m.last_modified)),
                on_time: Some(false),
                reason: seen.map(|m| {
                    Cow::Owned(format!(
                        "the object was last modified {}, before the cycle's tick {}",
                        Rfc3339(m.last_modified),
                        Rfc3339(cycle.tick)
                    ))
                }),
                ..base
            },
            CellOutcome::Failed(e) => CellEntry {
                error_code: Some(&e.code),
                error: Some(&e.message),
                ..base
            },
        }
    }
}

fn not_expected_reason<'a>(
    a: &ArtifactHistory<'_>,
    cycle: &'a Cycle,
    why: NotExpected,
) -> Cow<'a, str> {
    match (why, &cycle.closure) {
        (NotExpected::MarketClosed, Some(closure)) => Cow::Borrowed(closure),
        (NotExpected::MarketClosed, None) => Cow::Borrowed("market closed"),
        (NotExpected::OutsideWindows, _) => match &cycle.window {
            Some(WindowCheck::Outside(why)) => {
                Cow::Owned(format!("outside its active windows ({why})"))
            }
            _ => Cow::Borrowed("outside its active windows"),
        },
        (NotExpected::BeforeGraceEnd, _) => Cow::Owned(format!(
            "before the artifact's grace period ended at {} (created {})",
            Rfc3339(grace_ends_at(a.spec, cycle)),
            a.spec.created_at
        )),
    }
}

fn display<S: Serializer, T: std::fmt::Display>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn opt_display<S: Serializer, T: std::fmt::Display>(
    value: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// `history.json` compact, a piece at a time: the same bytes as `serde_json::to_vec` of
/// [`HistoryFile`], but written into a buffer the caller sends on as it fills (the shell's
/// upload in parts), so the whole document is never held. The pieces are the fields before
/// `artifacts` ([`write_compact_head`]), then each artifact's entry
/// ([`write_compact_artifact`]), then the SLA report ([`CompactTail`]). A scan that writes
/// its artifacts as it judges them uses the three itself: the head, known only at the end,
/// goes first in the object but is written last (the shell's upload holds its first part).
pub struct CompactPieces<'a> {
    history: &'a History<'a>,
    next: Piece<'a>,
}

enum Piece<'a> {
    Head,
    Artifact(usize),
    Tail(CompactTail<'a>),
}

impl<'a> CompactPieces<'a> {
    pub fn new(history: &'a History<'a>) -> Self {
        CompactPieces {
            history,
            next: Piece::Head,
        }
    }

    /// Appends the next piece to `out`; false once the document is complete.
    pub fn write_next(&mut self, out: &mut Vec<u8>) -> bool {
        let artifacts = &self.history.artifacts;
        match &mut self.next {
            Piece::Head => {
                write_compact_head(out, self.history);
                self.next = Piece::Artifact(0);
            }
            Piece::Artifact(i) if *i < artifacts.len() => {
                write_compact_artifact(out, *i, &artifacts[*i]);
                *i += 1;
            }
            Piece::Artifact(_) => {
                let mut tail = CompactTail::new(self.history.sla());
                tail.write_next(out);
                self.next = Piece::Tail(tail);
            }
            Piece::Tail(tail) => return tail.write_next(out),
        }
        true
    }
}

/// `{` and every field before `artifacts`, then `"artifacts":{`.
pub fn write_compact_head(out: &mut Vec<u8>, h: &History<'_>) {
    out.push(b'{');
    field(out, "generated_at", &Rfc3339(h.generated_at).to_string());
    field(out, "lookback", &h.lookback);
    field(out, "duration_seconds", &h.duration_seconds());
    field(out, "n_artifacts", &h.n_artifacts());
    field(out, "n_cycles_probed", &h.n_cycles_probed());
    field(out, "skipped_unsupported", &h.skipped_unsupported);
    field(out, "truncated", &h.truncated());
    field(out, "not_scanned", &h.not_scanned);
    field(out, "n_head_requests", &h.n_head_requests);
    field(out, "n_list_requests", &h.n_list_requests);
    field(out, "n_cycles_from_log", &h.n_cycles_from_log);
    field(out, "probes_by_reason", &h.probes_by_reason());
    field(out, "n_log_requests", &h.n_log_requests);
    field(out, "warnings", &h.warnings);
    out.extend_from_slice(b"\"artifacts\":{");
}

/// The `index`-th artifact's `"id":{…}` (a comma before all but the first).
pub fn write_compact_artifact(out: &mut Vec<u8>, index: usize, a: &ArtifactHistory<'_>) {
    comma_key(out, index, a.spec.id.as_str());
    json_into(out, &ArtifactEntry::of(a));
}

/// What follows the artifacts: `},"sla":{…}}`, the per-artifact counts a piece at a time.
pub struct CompactTail<'a> {
    sla: &'a SlaReport<'a>,
    /// The next artifact's counts to write; `None` before the totals.
    next: Option<usize>,
}

impl<'a> CompactTail<'a> {
    pub fn new(sla: &'a SlaReport<'a>) -> Self {
        CompactTail { sla, next: None }
    }

    /// Appends the next piece to `out`; false once the document is complete.
    pub fn write_next(&mut self, out: &mut Vec<u8>) -> bool {
        let artifacts = &self.sla.artifacts;
        self.next = match self.next {
            None => {
                out.extend_from_slice(b"},\"sla\":{\"overall\":");
                json_into(out, &self.sla.overall);
                out.extend_from_slice(b",\"owners\":");
                json_into(out, &self.sla.owners);
                out.extend_from_slice(b",\"artifacts\":{");
                Some(0)
            }
            Some(i) if i < artifacts.len() => {
                comma_key(out, i, artifacts[i].0);
                json_into(out, &artifacts[i].1);
                Some(i + 1)
            }
            Some(i) if i == artifacts.len() => {
                out.extend_from_slice(b"}}}");
                Some(i + 1)
            }
            Some(_) => return false,
        };
        true
    }
}

/// `"key":value,`
fn field<T: Serialize + ?Sized>(out: &mut Vec<u8>, key: &str, value: &T) {
    json_into(out, key);
    out.push(b':');
    json_into(out, value);
    out.push(b',');
}

/// `,"key":` (no comma before the first entry of a map).
fn comma_key(out: &mut Vec<u8>, index: usize, key: &str) {
    if index > 0 {
        out.push(b',');
    }
    json_into(out, key);
    out.push(b':');
}

fn json_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(out, value).expect("history.json's parts always serialize");
}
