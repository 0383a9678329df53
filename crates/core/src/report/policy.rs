//! The `policy` object of an alerting row (docs/outputs.md#policy): what the alert policy
//! decided for it. Data the row carries; the decisions are `alert::policy`'s.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::registry::Severity;

/// What the policy did with one alerting row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyAction {
    /// Goes to `channels` (in observe mode: would go).
    Send,
    /// A silence holds it back: reported, not sent.
    Silenced,
    /// No configured channel receives its severity: results and status page only.
    NotRouted,
}

/// The `policy` object of an alerting row (docs/outputs.md#policy).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowPolicy {
    pub action: PolicyAction,
    /// Observe mode: nothing was sent; `action` is what would have happened.
    pub observe: bool,
    /// The severity the alert goes out with (after escalation).
    pub effective_severity: Severity,
    /// Cycles missed in a row, this one included (known from the ledger; 1 without it).
    pub missed_cycles: u32,
    pub escalated: bool,
    /// No object ever existed under its template's prefix (docs/alerts.md#never-written).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub never_written: bool,
    /// The silence's name and reason, when one holds the row back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silenced: Option<String>,
    /// Boxed: few rows are acknowledged, and every alerting row (a million at the limit)
    /// would otherwise carry its ~90 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Box<AckNote>>,
    /// The alerting upstream artifact (`depends_on`, followed to its root) this alert is
    /// folded under in the digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folded_under: Option<String>,
    /// The channels it goes (or would go) to.
    pub channels: Vec<&'static str>,
    /// The rule that decided, in words.
    pub rule: String,
}

impl RowPolicy {
    /// Whether any rule did more than send at the declared severity to every channel given:
    /// what `check` shows a policy line for.
    pub fn did_something(&self) -> bool {
        self.action != PolicyAction::Send || self.rule.contains(';')
    }
}

/// Who acknowledged a row and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AckNote {
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(serialize_with = "super::time")]
    pub at: DateTime<Utc>,
    /// `until resolved` or `until <time>`.
    pub until: String,
}

impl AckNote {
    /// `acknowledged by alice (until resolved): rerun scheduled`, the note on one line: how
    /// the digest, the `check` table and the status page say it.
    pub fn summary(&self) -> String {
        let note = self
            .note
            .as_deref()
            .map(|n| format!(": {}", crate::text::one_line(n)))
            .unwrap_or_default();
        format!("acknowledged by {} ({}){note}", self.by, self.until)
    }
}
