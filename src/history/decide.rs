//! The history scan's decisions: which planned past cycles are known without a probe (not
//! expected, or answered by the outcome log or the ledger, with a set's counts) and which
//! must be probed, and why. Kept apart from the probing (`scan.rs`), which sends the
//! probes this decides and assembles the history.

use chrono::{DateTime, Utc};

use super::cell::CellOutcome;
use super::from_log::{self, Answer};
use super::plan::{ArtifactPlan, not_expected};
use crate::classify::ResolvedKeys;
use crate::ledger::current::CurrentCycles;
use crate::outcome_log::{LogIndex, SetCycle};

/// Every planned cycle's judgement, per artifact of a batch.
pub(super) type Cells = Vec<Vec<Option<Judged>>>;

/// One cycle's outcome, whether it was probed, and a set's counts.
#[derive(Debug, Clone)]
pub(super) struct Judged {
    pub cell: CellOutcome,
    pub probed: bool,
    pub set: Option<SetCycle>,
}

impl Judged {
    fn unprobed(cell: CellOutcome, set: Option<SetCycle>) -> Option<Judged> {
        let probed = false;
        Some(Judged { cell, probed, set })
    }
}

/// What was decided of one batch of artifacts: the cells known without a probe, and the
/// cycles to probe; and over the whole scan, why cycles were probed and how many the log
/// answered.
#[derive(Default)]
pub(super) struct Decided {
    /// The batch's artifacts' cells, in registry order.
    pub cells: Cells,
    /// The batch's cells in all.
    pub n_cells: usize,
    /// `(artifact in the batch, cell)` of each cycle to probe, in registry order.
    pub probes: Vec<(usize, usize)>,
    pub reasons: [usize; 4],
    /// Expected cycles the log (or the ledger) answered.
    pub logged: usize,
}

impl Decided {
    /// Decides the batch's next artifact's cycles: known ones judged, the rest queued to
    /// probe.
    pub fn decide_artifact(
        &mut self,
        (place, target): (usize, &ArtifactPlan<'_>),
        known: Known<'_>,
        now: DateTime<Utc>,
    ) {
        let a = self.cells.len();
        self.cells.push(vec![None; target.len]);
        self.n_cells += target.len;
        for c in 0..target.len {
            match decide((place, target), c, known, now) {
                Decision::NotExpected(cell) => self.cells[a][c] = Judged::unprobed(cell, None),
                Decision::Known(cell, set) => {
                    self.logged += 1;
                    self.cells[a][c] = Judged::unprobed(cell, set);
                }
                Decision::Probe(reason) => {
                    self.reasons[reason.index()] += 1;
                    self.probes.push((a, c));
                }
            }
        }
    }
}

/// What the scan knows without a probe: the outcome log, and the ledger's current cycles.
#[derive(Clone, Copy)]
pub(super) struct Known<'a> {
    pub log: Option<&'a LogIndex>,
    pub ledger: Option<&'a CurrentCycles>,
}

/// What the scan does with one planned cycle.
enum Decision {
    NotExpected(CellOutcome),
    /// The outcome log or the ledger answers it (with a set's counts when they are known).
    Known(CellOutcome, Option<SetCycle>),
    Probe(from_log::ProbeReason),
}

/// One past cycle: not expected (no probe), answered by the outcome log or the ledger, or to
/// be probed, and why.
fn decide(
    (place, target): (usize, &ArtifactPlan<'_>),
    cell: usize,
    known: Known<'_>,
    now: DateTime<Utc>,
) -> Decision {
    let cycle = target.cycle(cell);
    if let Some(why) = not_expected(target.spec, cycle) {
        return Decision::NotExpected(CellOutcome::NotExpected(why));
    }
    let keys = ResolvedKeys::resolve(target.spec, cycle);
    let entry = known.ledger.and_then(|l| l.at(place));
    if let Some(cell) = from_log::answer_from_ledger(entry, cycle, keys.due_at) {
        let set = (known.ledger)
            .and_then(|l| l.sets.get(target.spec.id.as_str(), &cycle.label))
            .map(|c| SetCycle {
                total: c.total,
                written: c.written,
            });
        return Decision::Known(cell, set);
    }
    let answer = from_log::answer(
        known.log,
        target.spec,
        cycle,
        &keys.canonical_key,
        keys.due_at,
        now,
    );
    match answer {
        Answer::Logged(cell) => {
            let set = (known.log).and_then(|l| l.set_cycle(target.spec.id.as_str(), cycle.tick));
            Decision::Known(cell, set)
        }
        Answer::Probe(reason) => Decision::Probe(reason),
    }
}
