//! The passes' records since the compacted log, sorted by their artifact's place in the scan's
//! plan so the scan takes each artifact's records when it comes to it, as it takes the
//! compacted log's line ([`super::in_step`]). A day of passes' objects at a million artifacts
//! of the benchmark's mix is ~14 million records (~450 MB in an index): they are held instead
//! as sorted runs in the temp dir (34 bytes a record), at most [`RUN_RECORDS`] in memory at
//! once, and merged as the scan walks the plan.
//!
//! Records are read in the objects' key order (the passes' times) and a run is sorted stably
//! by place, so an artifact's records reach the scan in the order they were read, whatever
//! order each object has them in: the scan's index collapses a cycle's duplicates as the
//! whole index did (`LogIndex::add_recorded`). No id is kept: the scan names the artifact.

use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use super::packed::PackedCycle;
use super::{LogIndex, Recorded, SetCycle};

/// How many records are sorted in memory before they go to a run in the temp dir (40 bytes
/// each: ~10 MB).
pub const RUN_RECORDS: usize = 256 * 1024;

/// One record as a run holds it: its artifact's place, the cycle packed as the compacted log
/// packs it, and a set's counts.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Held {
    place: u32,
    cycle: PackedCycle,
    set: Option<SetCycle>,
}

/// A run's bytes for one record.
const ENCODED: usize = 34;

impl Held {
    fn encode(&self, out: &mut impl Write) -> std::io::Result<()> {
        let PackedCycle(tick, landed, checked, flags, fingerprint) = self.cycle;
        let mut bytes = [0u8; ENCODED];
        bytes[0..4].copy_from_slice(&self.place.to_le_bytes());
        bytes[4..8].copy_from_slice(&tick.to_le_bytes());
        bytes[8..12].copy_from_slice(&landed.to_le_bytes());
        bytes[12..16].copy_from_slice(&checked.to_le_bytes());
        bytes[16] = flags;
        bytes[17..25].copy_from_slice(&fingerprint.to_le_bytes());
        if let Some(set) = self.set {
            bytes[25] = 1;
            bytes[26..30].copy_from_slice(&set.total.to_le_bytes());
            bytes[30..34].copy_from_slice(&set.written.to_le_bytes());
        }
        out.write_all(&bytes)
    }

    fn decode(bytes: &[u8; ENCODED]) -> Held {
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap_or_default());
        let fingerprint = u64::from_le_bytes(bytes[17..25].try_into().unwrap_or_default());
        Held {
            place: u32_at(0),
            cycle: PackedCycle(u32_at(4), u32_at(8), u32_at(12), bytes[16], fingerprint),
            set: (bytes[25] == 1).then(|| SetCycle {
                total: u32_at(26),
                written: u32_at(30),
            }),
        }
    }
}

/// The records as they are read, spilled to sorted runs.
#[derive(Debug)]
pub struct Spilling {
    buffer: Vec<Held>,
    run_records: usize,
    runs: Vec<Run>,
    /// Records kept.
    pub records: usize,
}

impl Default for Spilling {
    fn default() -> Self {
        Spilling::with_run_records(RUN_RECORDS)
    }
}

impl Spilling {
    /// Runs of at most `run_records` records (tests use small ones).
    pub fn with_run_records(run_records: usize) -> Spilling {
        let run_records = run_records.max(1);
        Spilling {
            buffer: Vec::with_capacity(run_records.min(RUN_RECORDS)),
            run_records,
            runs: Vec::new(),
            records: 0,
        }
    }

    /// Keeps `recorded` (and a set's counts) of the artifact at `place` in the plan.
    pub fn push(&mut self, place: usize, recorded: &Recorded, set: Option<SetCycle>) {
        let place = u32::try_from(place).unwrap_or(u32::MAX);
        let cycle = PackedCycle::of(recorded);
        self.buffer.push(Held { place, cycle, set });
        self.records += 1;
        if self.buffer.len() >= self.run_records {
            let next = Vec::with_capacity(self.run_records.min(RUN_RECORDS));
            let full = std::mem::replace(&mut self.buffer, next);
            self.runs.push(Run::spilled(full));
        }
    }

    /// The runs, to be merged as the scan walks the plan: the last one kept in memory when it
    /// is the only one (a small scan), else in the temp dir too.
    pub fn finish(mut self) -> ByPlace {
        let mut last = std::mem::take(&mut self.buffer);
        if !self.runs.is_empty() && !last.is_empty() {
            self.runs.push(Run::spilled(last));
        } else if !last.is_empty() {
            last.sort_by_key(|h| h.place);
            self.runs.push(Run::Memory(last.into_iter()));
        }
        ByPlace::new(self.runs)
    }
}

/// One sorted run: in the temp dir, or in memory (the last one, or when the temp dir cannot
/// serve).
enum Run {
    Disk(BufReader<std::fs::File>),
    Memory(std::vec::IntoIter<Held>),
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Run::Disk(_) => f.write_str("Run::Disk"),
            Run::Memory(held) => write!(f, "Run::Memory({})", held.len()),
        }
    }
}

/// What a run reads at once from the temp dir.
const RUN_READ_BUFFER: usize = 16 * 1024;

impl Run {
    /// `held` sorted by place (stably: the order read within a place) and written to an
    /// unnamed temp file; kept in memory when that fails.
    fn spilled(mut held: Vec<Held>) -> Run {
        held.sort_by_key(|h| h.place);
        match write_run(&held) {
            Ok(file) => Run::Disk(BufReader::with_capacity(RUN_READ_BUFFER, file)),
            Err(e) => {
                tracing::warn!(
                    message = "a run of the outcome log's records could not go to the temp dir; held in memory",
                    error = %e,
                    records = held.len(),
                );
                Run::Memory(held.into_iter())
            }
        }
    }

    /// The next record; `None` at the end (a run cut short, which only a full disk could make,
    /// ends there).
    fn next_held(&mut self) -> Option<Held> {
        match self {
            Run::Memory(held) => held.next(),
            Run::Disk(file) => {
                let mut bytes = [0u8; ENCODED];
                file.read_exact(&mut bytes).ok()?;
                Some(Held::decode(&bytes))
            }
        }
    }
}

/// The records to a temp file, rewound to be read.
fn write_run(held: &[Held]) -> std::io::Result<std::fs::File> {
    let file = tempfile::tempfile()?;
    let mut out = BufWriter::with_capacity(256 * 1024, file);
    for h in held {
        h.encode(&mut out)?;
    }
    let mut file = out.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(0))?;
    Ok(file)
}

/// The runs merged by place, read as the scan asks for artifacts in plan order.
#[derive(Debug)]
pub struct ByPlace {
    runs: Vec<(Run, Option<Held>)>,
}

impl ByPlace {
    fn new(runs: Vec<Run>) -> ByPlace {
        let runs = (runs.into_iter())
            .map(|mut run| {
                let first = run.next_held();
                (run, first)
            })
            .collect();
        ByPlace { runs }
    }

    /// Moves the records of `id`, at `at` in the plan, into `into`, run by run (the order they
    /// were read); records of places before `at` (artifacts the scan did not ask for) are
    /// passed over. Artifacts are asked for in plan order.
    pub fn take(&mut self, id: &str, at: usize, into: &mut LogIndex) {
        let at = u32::try_from(at).unwrap_or(u32::MAX);
        for (run, next) in &mut self.runs {
            while let Some(held) = next.filter(|h| h.place <= at) {
                if held.place == at {
                    add_held(id, &held, into);
                }
                *next = run.next_held();
            }
        }
    }
}

/// One record into `into` as `LogIndex::add_one` adds it.
fn add_held(id: &str, held: &Held, into: &mut LogIndex) {
    let Some(recorded) = held.cycle.recorded() else {
        return;
    };
    if into.add_recorded(id, recorded)
        && let Some(set) = held.set
    {
        into.add_set_cycle(id, recorded.tick, set);
    }
}

#[cfg(test)]
#[path = "by_place_tests.rs"]
mod tests;
