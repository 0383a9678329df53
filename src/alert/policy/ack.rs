//! Acknowledgements (docs/alerts.md#acknowledgements): one JSON object per artifact under
//! `<results prefix>acks/`, written by `freshness-monitor ack` and read by every pass, so an
//! operator can say "I know, I'm on it" without a redeploy.
//!
//! An acknowledged artifact gets no escalation until it is fresh again (or until the ack's
//! `until`); its row says who acknowledged it and why. An ack object that cannot be read is
//! reported in the pass's log and heartbeat and ignored: it never fails a pass.

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream;
use serde::{Deserialize, Serialize};

use super::AckNote;
use crate::ledger::LedgerEntry;
use crate::store::listing::{MAX_KEYS_PER_PAGE, list_prefix};
use crate::store::{ObjectStore, S3Url, StoreError};
use crate::text::rfc3339;

/// The folder of the ack objects under the results prefix.
pub const ACK_FOLDER: &str = "acks/";

/// At most this many listing pages of acks are read (10,000 acks).
const MAX_ACK_PAGES: u32 = 10;

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
    format!("{results_prefix}{ACK_FOLDER}{id}.json")
}

/// The acks a pass read, and the objects it could not use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AckRead {
    pub acks: Vec<Ack>,
    /// One line per unreadable object (or a failed listing), for the log and heartbeat.
    pub problems: Vec<String>,
}

/// Lists and reads every ack under `results_prefix`. Never fails: what cannot be read is a
/// problem in the result and the rest is used.
pub async fn read_acks<S: ObjectStore>(store: &S, bucket: &str, results_prefix: &str) -> AckRead {
    let prefix = format!("{results_prefix}{ACK_FOLDER}");
    let listing = match list_prefix(store, bucket, &prefix, MAX_KEYS_PER_PAGE, MAX_ACK_PAGES).await
    {
        Ok(listing) => listing,
        Err(e) => {
            return AckRead {
                acks: Vec::new(),
                problems: vec![format!(
                    "acknowledgements in {} could not be listed (ignored this pass): {e}",
                    S3Url(bucket, &prefix)
                )],
            };
        }
    };
    let mut read = AckRead::default();
    if !listing.complete {
        read.problems.push(format!(
            "more than {} acknowledgements in {}: only the first were read",
            u32::from(MAX_KEYS_PER_PAGE) * MAX_ACK_PAGES,
            S3Url(bucket, &prefix)
        ));
    }
    let fetched: Vec<Result<Ack, String>> = stream::iter(listing.objects)
        .filter(|o| std::future::ready(o.key.ends_with(".json")))
        .map(|o| async move { read_one(store, bucket, &o.key).await })
        .buffered(16)
        .collect()
        .await;
    for result in fetched {
        match result {
            Ok(ack) => read.acks.push(ack),
            Err(problem) => read.problems.push(problem),
        }
    }
    for problem in &read.problems {
        tracing::warn!(message = "acknowledgement ignored", problem = %problem);
    }
    read
}

async fn read_one<S: ObjectStore>(store: &S, bucket: &str, key: &str) -> Result<Ack, String> {
    let object = store
        .get(bucket, key)
        .await
        .map_err(|e| format!("{} could not be read (ignored): {e}", S3Url(bucket, key)))?;
    let ack: Ack = serde_json::from_slice(&object.body).map_err(|e| {
        format!(
            "{} is not an acknowledgement (ignored): {e}",
            S3Url(bucket, key)
        )
    })?;
    let expected = key
        .rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(".json"));
    if expected != Some(ack.artifact_id.as_str()) {
        return Err(format!(
            "{} names artifact `{}`, not the one its key names (ignored)",
            S3Url(bucket, key),
            ack.artifact_id
        ));
    }
    Ok(ack)
}

/// Writes `ack` (replacing any earlier ack of the same artifact).
pub async fn write_ack<S: ObjectStore>(
    store: &S,
    bucket: &str,
    results_prefix: &str,
    ack: &Ack,
) -> Result<String, StoreError> {
    let key = ack_key(results_prefix, &ack.artifact_id);
    store
        .put(bucket, &key, ack.to_json(), "application/json")
        .await?;
    Ok(key)
}

/// Removes `id`'s ack; `Ok(false)` when there was none.
pub async fn remove_ack<S: ObjectStore>(
    store: &S,
    bucket: &str,
    results_prefix: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let key = ack_key(results_prefix, id);
    match store.head(bucket, &key).await {
        Ok(Some(_)) => {}
        Ok(None) | Err(StoreError::NotFound { .. }) => return Ok(false),
        Err(e) => return Err(e),
    }
    store.delete(bucket, &key).await?;
    Ok(true)
}

pub(crate) fn time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
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
