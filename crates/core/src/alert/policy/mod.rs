//! The alert policy (docs/alerts.md#policy), pure: given a pass's rows, the registry's policy,
//! the ledger as the pass read it, the acknowledgements and `now`, what each alerting row
//! becomes: sent (to which channels, at which severity), silenced, or routed nowhere; and
//! which rule decided, in words `explain` and the row print.
//!
//! - [`ack`]: acknowledgement objects under the results prefix (`freshness-monitor ack`).
//! - [`never_written`]: missing artifacts whose template prefix never held anything.
//!
//! The order of the rules: a silence wins (nothing is sent); an acknowledgement holds back
//! escalation; escalation raises a warning to critical; routing picks the channels for the
//! effective severity; a downstream artifact whose upstream alerts too is folded under it.

pub mod ack;
mod links;
pub mod never_written;
mod roots;

pub use links::DependsOn;

use chrono::{DateTime, Utc};

use crate::classify::State;
use crate::ledger::Ledger;
use crate::registry::policy::AlertPolicy;
use crate::registry::{Registry, Severity};
use crate::report::ResultRow;
pub use crate::report::{AckNote, PolicyAction, RowPolicy};
use ack::Ack;

/// The registry's side of the policy as a pass keeps it: the policy itself and the
/// `depends_on` of the artifacts that have one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassPolicy {
    pub policy: AlertPolicy,
    /// The registry's links, its own ids shared, in `u32` nodes ([`DependsOn`]).
    pub depends_on: DependsOn,
}

impl PassPolicy {
    pub fn of(registry: &Registry) -> PassPolicy {
        PassPolicy {
            policy: registry.alert_policy.clone(),
            depends_on: DependsOn::of(registry),
        }
    }
}

/// Everything the policy reads besides the rows.
#[derive(Debug, Clone, Copy)]
pub struct PolicyInputs<'a> {
    pub policy: &'a PassPolicy,
    /// The ledger as the pass read it (before this pass); `None` when not read.
    pub ledger: Option<&'a Ledger>,
    pub acks: &'a [Ack],
    /// The channels alerts can go to (the names of the shell's alert channels).
    pub channels: &'a [&'static str],
    pub alerts_enabled: bool,
}

/// Sets `policy` on every alerting row (and clears it elsewhere).
pub fn decide(rows: &mut [ResultRow], inputs: &PolicyInputs<'_>, now: DateTime<Utc>) {
    for row in rows.iter_mut() {
        row.policy = row.alerting.then(|| Box::new(decide_row(row, inputs, now)));
    }
    fold_downstream(rows, &inputs.policy.depends_on);
}

/// The policy of one alerting row, before folding.
fn decide_row(row: &ResultRow, inputs: &PolicyInputs<'_>, now: DateTime<Utc>) -> RowPolicy {
    let policy = &inputs.policy.policy;
    let entry = inputs
        .ledger
        .and_then(|l| l.artifacts.get(&row.artifact_id));
    let missed_cycles = match (entry, row.cycle_label(), row.state) {
        (Some(entry), Some(cycle), State::Missing | State::Stale | State::Suspect) => {
            entry.consecutive_misses_through(cycle)
        }
        (_, _, State::Missing | State::Stale | State::Suspect) => 1,
        _ => 0,
    };
    let acknowledged = inputs
        .acks
        .iter()
        .find(|a| *a.artifact_id == *row.artifact_id && a.is_active(now, entry))
        .map(|a| Box::new(a.note()));
    let declared = row.declared_alert_severity();
    let due_escalation = declared == Severity::Warning
        && policy
            .escalate_after_cycles
            .is_some_and(|n| missed_cycles >= n);
    let escalated = due_escalation && acknowledged.is_none();
    let effective_severity = if escalated {
        Severity::Critical
    } else {
        declared
    };
    let silence = policy.silences.iter().find(|s| {
        s.is_active(now)
            && s.matches_parts(
                &row.artifact_id,
                row.owner_repo().unwrap_or(""),
                row.cadence().unwrap_or(""),
            )
    });
    let channels: Vec<&'static str> = inputs
        .channels
        .iter()
        .copied()
        .filter(|c| policy.routes_to(c, effective_severity))
        .collect();
    let mut decided = RowPolicy {
        action: PolicyAction::Send,
        observe: !inputs.alerts_enabled,
        effective_severity,
        missed_cycles,
        escalated,
        never_written: never_written::is_never_written(row),
        silenced: silence.map(|s| format!("{}: {}", s.name(), s.reason)),
        acknowledged,
        folded_under: None,
        channels,
        rule: String::new(),
    };
    decided.action = if silence.is_some() {
        PolicyAction::Silenced
    } else if decided.channels.is_empty() && !inputs.channels.is_empty() {
        PolicyAction::NotRouted
    } else {
        PolicyAction::Send
    };
    decided.rule = rule_text(&decided, policy, inputs.channels, due_escalation);
    decided
}

/// The rule that decided, then what the other rules added, in words.
fn rule_text(
    decided: &RowPolicy,
    policy: &AlertPolicy,
    configured: &[&str],
    due_escalation: bool,
) -> String {
    let severity = decided.effective_severity;
    let mut rule = match decided.action {
        PolicyAction::Silenced => format!(
            "silenced by {}",
            decided.silenced.as_deref().unwrap_or_default()
        ),
        PolicyAction::NotRouted => format!(
            "routed to no channel: alert_policy.routes sends {severity} to none of {}",
            configured.join(", ")
        ),
        PolicyAction::Send if decided.channels.is_empty() => {
            format!("sent as {severity} (no channel is configured)")
        }
        PolicyAction::Send => {
            format!("routed as {severity} to {}", decided.channels.join(", "))
        }
    };
    if due_escalation && !decided.escalated {
        rule.push_str("; not escalated: acknowledged");
    }
    if decided.never_written {
        rule.push_str("; never written: alerts at most once a day (daily dedup key)");
    }
    if decided.action == PolicyAction::Send
        && let Some(every) = policy.remind_every
    {
        if decided.acknowledged.is_some() {
            rule.push_str("; no reminders: acknowledged");
        } else {
            rule.push_str(&format!(
                "; reminders every {} while it alerts",
                crate::text::minutes_text(every.num_minutes())
            ));
        }
    }
    if decided.escalated {
        rule.push_str(&format!(
            "; escalated to critical: {} cycles missed in a row \
             (alert_policy.escalate_after_cycles: {})",
            decided.missed_cycles,
            policy.escalate_after_cycles.unwrap_or_default()
        ));
    }
    rule
}

/// Folds every sent alert whose upstream (followed through `depends_on` to the topmost one
/// that is also sent) alerts in the same pass under that root ([`roots::alerting_roots`]).
fn fold_downstream(rows: &mut [ResultRow], depends_on: &DependsOn) {
    if depends_on.is_empty() {
        return;
    }
    let sending = |r: &ResultRow| {
        r.policy
            .as_ref()
            .is_some_and(|p| p.action == PolicyAction::Send)
    };
    let roots = roots::alerting_roots(depends_on, rows, sending);
    for (i, root) in roots.into_iter().enumerate() {
        if root == links::NONE {
            continue;
        }
        let root = std::sync::Arc::clone(&rows[root as usize].artifact_id);
        let Some(policy) = rows[i].policy.as_mut() else {
            continue;
        };
        if policy.action != PolicyAction::Send {
            continue;
        }
        // The fold's words are added to the rule when it is written (`RowPolicy::rule`).
        policy.folded_under = Some(root);
    }
}

#[cfg(test)]
mod tests;
