//! The end of a digest too long to tell (docs/alerts.md#a-digest-of-many-alerts): the alerts
//! past the entries told in full, counted per owner and state in a few lines.
//!
//! The groups arrive ordered by owner, so one owner's alerts are consecutive: the tally keeps
//! the owner being counted and the lines already written, never a map of every owner, and
//! stops naming owners past [`OWNERS_NAMED`].

use std::fmt::Write as _;

use crate::alert::digest::PlannedAlert;
use crate::classify::State;
use crate::text::plural;

/// At most this many owners get a line of their own in the tail; the others are summed.
pub const OWNERS_NAMED: usize = 20;

/// The alerts not told: per owner (in digest order) how many in each state.
#[derive(Debug, Default)]
pub struct Tail {
    total: usize,
    /// The owner being counted and its count per state (in [`STATES`] order).
    current: Option<(String, [usize; STATES.len()])>,
    lines: Vec<String>,
    /// Owners past [`OWNERS_NAMED`] and their alerts.
    other_owners: usize,
    other_alerts: usize,
}

/// The states an alert can be in, in the order the tail names them.
const STATES: [State; 4] = [
    State::Missing,
    State::Stale,
    State::Suspect,
    State::ProbeFailed,
];

impl Tail {
    /// Counts one alert of `owner`'s.
    pub fn count(&mut self, owner: &str, alert: &PlannedAlert) {
        self.total += 1;
        if self.current.as_ref().is_none_or(|(o, _)| o != owner) {
            self.close_owner();
            self.current = Some((owner.to_string(), [0; STATES.len()]));
        }
        if let Some((_, counts)) = &mut self.current {
            let i = STATES.iter().position(|s| *s == alert.state);
            // A state that cannot alert is counted with the first (never happens in a pass).
            counts[i.unwrap_or(0)] += 1;
        }
    }

    fn close_owner(&mut self) {
        let Some((owner, counts)) = self.current.take() else {
            return;
        };
        if self.lines.len() >= OWNERS_NAMED {
            self.other_owners += 1;
            self.other_alerts += counts.iter().sum::<usize>();
            return;
        }
        let by_state: Vec<String> = STATES
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(state, n)| format!("{n} {state}"))
            .collect();
        self.lines
            .push(format!("  {owner}: {}\n", by_state.join(", ")));
    }

    /// The tail's lines (empty when every alert was told).
    pub fn render(mut self) -> String {
        self.close_owner();
        if self.total == 0 {
            return String::new();
        }
        let mut out = format!(
            "\n… and {} more alerting artifact{} not told here, by owner (each is a row of \
             check_results.json and of the status page):\n",
            self.total,
            plural(self.total)
        );
        for line in &self.lines {
            out.push_str(line);
        }
        if self.other_owners > 0 {
            let _ = writeln!(
                out,
                "  and {} more owner{}: {} artifact{}",
                self.other_owners,
                plural(self.other_owners),
                self.other_alerts,
                plural(self.other_alerts)
            );
        }
        out
    }
}
