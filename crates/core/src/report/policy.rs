//! The `policy` object of an alerting row (docs/outputs.md#policy): what the alert policy
//! decided for it. Data the row carries; the decisions are `alert::policy`'s.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

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
#[derive(Debug, Clone, PartialEq)]
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
    pub never_written: bool,
    /// The silence's name and reason, when one holds the row back.
    pub silenced: Option<String>,
    /// Boxed: few rows are acknowledged, and every alerting row (a million at the limit)
    /// would otherwise carry its ~90 bytes.
    pub acknowledged: Option<Box<AckNote>>,
    /// The alerting upstream artifact (`depends_on`, followed to its root) this alert is
    /// folded under in the digest: that row's id, shared.
    pub folded_under: Option<Arc<str>>,
    /// The channels it goes (or would go) to.
    pub channels: Vec<&'static str>,
    /// The rule that decided, in words, without the fold's: [`RowPolicy::rule`] adds them
    /// (a chain of millions folded under its head holds that sentence once per row only when
    /// written).
    pub rule: String,
}

impl RowPolicy {
    /// Whether any rule did more than send at the declared severity to every channel given:
    /// what `check` shows a policy line for.
    pub fn did_something(&self) -> bool {
        self.action != PolicyAction::Send || self.folded_under.is_some() || self.rule.contains(';')
    }

    /// The rule in words, as written: what decided, then the fold when folded.
    pub fn rule(&self) -> Cow<'_, str> {
        match &self.folded_under {
            None => Cow::Borrowed(&self.rule),
            Some(root) => Cow::Owned(format!("{}{}", self.rule, fold_words(root))),
        }
    }
}

/// What folding under `root` adds to a row's rule.
pub fn fold_words(root: &str) -> String {
    format!("; folded under {root} in the digest (depends_on: its upstream alerts too)")
}

/// The fields in their order, as when derived, the rule with its fold's words.
impl Serialize for RowPolicy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("RowPolicy", 11)?;
        out.serialize_field("action", &self.action)?;
        out.serialize_field("observe", &self.observe)?;
        out.serialize_field("effective_severity", &self.effective_severity)?;
        out.serialize_field("missed_cycles", &self.missed_cycles)?;
        out.serialize_field("escalated", &self.escalated)?;
        if self.never_written {
            out.serialize_field("never_written", &self.never_written)?;
        }
        if let Some(silenced) = &self.silenced {
            out.serialize_field("silenced", silenced)?;
        }
        if let Some(acknowledged) = &self.acknowledged {
            out.serialize_field("acknowledged", acknowledged)?;
        }
        if let Some(root) = &self.folded_under {
            out.serialize_field("folded_under", root)?;
        }
        out.serialize_field("channels", &self.channels)?;
        out.serialize_field("rule", &*self.rule())?;
        out.end()
    }
}

/// Who acknowledged a row and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AckNote {
    pub by: String,
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
