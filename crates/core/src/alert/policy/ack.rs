//! Acknowledgements (docs/alerts.md#acknowledgements): one JSON object per artifact under
//! `<results prefix>acks/`, written by `freshness-monitor ack` and read by every pass (the
//! reading and writing sit in the shell's `alert::gather`), so an
//! operator can say "I know, I'm on it" without a redeploy.
//!
//! An acknowledged artifact gets no escalation until it is fresh again (or until the ack's
//! `until`); its row says who acknowledged it and why. An ack object that cannot be read is
//! reported in the pass's log and heartbeat and ignored: it never fails a pass.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AckNote;
use crate::ledger::LedgerEntry;
use crate::text::rfc3339;

/// One acknowledgement object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub artifact_id: String,
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When it was made.
    #[serde(with = "req_time")]
    pub at: DateTime<Utc>,
    /// It ends at this time (`--until`); `None` with `until_resolved`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::ledger::opt_time"
    )]
    pub until: Option<DateTime<Utc>>,
    /// It ends when a pass sees the artifact fresh after `at`.
    #[serde(default)]
    pub until_resolved: bool,
}

impl Ack {
    /// Whether it holds at `now`, knowing the artifact's ledger entry (its last fresh time).
    pub fn is_active(&self, now: DateTime<Utc>, entry: Option<&LedgerEntry>) -> bool {
        if self.until.is_some_and(|u| now >= u) {
            return false;
        }
        !self.resolved_by(entry)
    }

    /// An until-resolved ack ends once a pass saw the artifact fresh after it was made.
    pub fn resolved_by(&self, entry: Option<&LedgerEntry>) -> bool {
        self.until_resolved
            && entry
                .and_then(|e| e.last_fresh_at)
                .is_some_and(|fresh| fresh.to_utc() > self.at)
    }

    pub fn note(&self) -> AckNote {
        AckNote {
            by: self.by.clone(),
            note: self.note.clone(),
            at: self.at,
            until: self.until_text(),
        }
    }

    /// `until resolved` or `until 2026-06-01T12:00:00Z`.
    pub fn until_text(&self) -> String {
        match self.until {
            Some(t) => format!("until {}", rfc3339(t)),
            None => "until resolved".to_string(),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("acks always serialize")
    }
}

/// The object key of `id`'s ack.
pub fn ack_key(results_prefix: &str, id: &str) -> String {
    format!("{results_prefix}{}{id}.json", crate::report::files::ACKS)
}

/// The acks a pass read, and the objects it could not use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AckRead {
    pub acks: Vec<Ack>,
    /// One line per unreadable object (or a failed listing), for the log and heartbeat.
    pub problems: Vec<String>,
}

pub fn time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&crate::text::Rfc3339(*t))
}

mod req_time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        super::time(t, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}
