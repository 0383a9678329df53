//! Reading `check_results.json` back, so an event invocation can turn the rows of the
//! artifacts it saw land fresh without a pass (docs/lambda.md#outputs-after-an-event): the
//! file's rows are kept as the last pass wrote them (raw JSON, so a field this build does not
//! know survives), the event's rows replace theirs by `artifact_id`, and the status page is
//! rendered from every row read back into a [`ResultRow`].
//!
//! A file this build cannot read (not JSON, an older shape without `results`, a row without
//! `artifact_id`, `state` or `reason`) is an error naming the file and the row: the caller
//! leaves the outputs for the next pass and counts why.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::files::CHECK_RESULTS;
use super::{AckNote, PolicyAction, Reason, ResultRow, RowContext, RowPolicy, cycle_dedup_key};
use crate::classify::State;
use crate::registry::{CarriedFields, Severity};

/// `check_results.json` as read back.
#[derive(Debug)]
pub struct ResultsDoc {
    pub run_at: DateTime<Utc>,
    pub alerts_enabled: bool,
    /// Each row as the file holds it, with its `artifact_id`.
    rows: Vec<(Arc<str>, Box<RawValue>)>,
}

#[derive(Deserialize)]
struct DocWire {
    run_at: WireTime,
    alerts_enabled: bool,
    n_entries: usize,
    results: Vec<Box<RawValue>>,
}

#[derive(Deserialize)]
struct RowId<'a> {
    #[serde(borrow)]
    artifact_id: std::borrow::Cow<'a, str>,
}

/// What [`ResultsDoc::replace_rows`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replaced {
    /// Rows whose JSON changed.
    pub changed: usize,
    /// Rows already as the event would write them.
    pub unchanged: usize,
    /// Rows the file does not have (an artifact added since the last pass): left for it.
    pub absent: usize,
}

impl ResultsDoc {
    /// Reads `check_results.json`'s bytes.
    pub fn parse(body: &[u8]) -> Result<ResultsDoc, String> {
        let doc: DocWire = serde_json::from_slice(body)
            .map_err(|e| format!("{CHECK_RESULTS} is not in this version's shape: {e}"))?;
        if doc.n_entries != doc.results.len() {
            return Err(format!(
                "{CHECK_RESULTS} says n_entries {} but holds {} rows",
                doc.n_entries,
                doc.results.len()
            ));
        }
        let rows = (doc.results.into_iter().enumerate())
            .map(|(i, raw)| match serde_json::from_str::<RowId>(raw.get()) {
                Ok(id) => Ok((Arc::from(id.artifact_id), raw)),
                Err(e) => Err(format!("{CHECK_RESULTS} row {}: {e}", i + 1)),
            })
            .collect::<Result<_, _>>()?;
        Ok(ResultsDoc {
            run_at: doc.run_at.0,
            alerts_enabled: doc.alerts_enabled,
            rows,
        })
    }

    /// How many rows the file holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Puts `fresh` in place of the rows of the same artifact; `pretty`: written indented as
    /// a pass writes a file of up to 1,000 rows.
    pub fn replace_rows(&mut self, fresh: &[ResultRow], pretty: bool) -> Replaced {
        let mut replaced = Replaced::default();
        for row in fresh {
            let Some(slot) = self.rows.iter_mut().find(|(id, _)| *id == row.artifact_id) else {
                replaced.absent += 1;
                continue;
            };
            let old: serde_json::Value =
                serde_json::from_str(slot.1.get()).expect("parsed when read");
            let new = serde_json::to_value(row).expect("rows always serialize");
            if old == new {
                replaced.unchanged += 1;
                continue;
            }
            slot.1 = raw_row(row, pretty);
            replaced.changed += 1;
        }
        replaced
    }

    /// The file's bytes: indented as a pass writes them when `pretty`.
    pub fn to_json(&self, pretty: bool) -> Vec<u8> {
        let doc = DocOut {
            run_at: self.run_at,
            alerts_enabled: self.alerts_enabled,
            n_entries: self.rows.len(),
            results: self.rows.iter().map(|(_, raw)| &**raw).collect(),
        };
        match pretty {
            true => serde_json::to_vec_pretty(&doc),
            false => serde_json::to_vec(&doc),
        }
        .expect("raw rows always serialize")
    }

    /// Every row read back for the status page, the registry's carried fields given by
    /// `carried` (the file writes them flat, the page needs only their values). A set's
    /// counts are not read back (the page does not draw them).
    pub fn rows(
        &self,
        carried: impl Fn(&str) -> Option<Arc<CarriedFields>>,
    ) -> Result<Vec<ResultRow>, String> {
        (self.rows.iter().enumerate())
            .map(|(i, (id, raw))| {
                let wire: RowWire = serde_json::from_str(raw.get())
                    .map_err(|e| format!("{CHECK_RESULTS} row {} ({id}): {e}", i + 1))?;
                Ok(wire.into_row(id.clone(), carried(id)))
            })
            .collect()
    }
}

/// A row as raw JSON, indented at the depth a pass's file has its rows when `pretty`.
fn raw_row(row: &ResultRow, pretty: bool) -> Box<RawValue> {
    let text = match pretty {
        true => serde_json::to_string_pretty(row)
            .expect("rows always serialize")
            .replace('\n', "\n    "),
        false => serde_json::to_string(row).expect("rows always serialize"),
    };
    RawValue::from_string(text).expect("serde_json wrote it")
}

#[derive(Serialize)]
struct DocOut<'a> {
    #[serde(serialize_with = "super::time")]
    run_at: DateTime<Utc>,
    alerts_enabled: bool,
    n_entries: usize,
    results: Vec<&'a RawValue>,
}

/// The fields of a row the page reads.
#[derive(Deserialize)]
struct RowWire {
    owner_repo: Option<String>,
    severity: Option<Severity>,
    cadence: Option<String>,
    canonical_key: Option<String>,
    state: State,
    reason: String,
    last_modified: Option<WireTime>,
    #[serde(default)]
    sla_violated_by_minutes: i64,
    #[serde(default)]
    recovery_substituted: bool,
    cycle_label: Option<String>,
    cycle_tick: Option<WireTime>,
    due_at: Option<WireTime>,
    dedup_key: Option<String>,
    #[serde(default)]
    alerting: bool,
    s3_bucket: Option<String>,
    last_probed_at: Option<WireTime>,
    off_cycle_key: Option<String>,
    policy: Option<PolicyWire>,
}

impl RowWire {
    fn into_row(self, id: Arc<str>, carried: Option<Arc<CarriedFields>>) -> ResultRow {
        let mut row = ResultRow::blank(id, self.state, Reason::Derived);
        row.context = Arc::new(RowContext {
            owner_repo: self.owner_repo.map(Into::into),
            cadence: self.cadence.map(Into::into),
            cycle_label: self.cycle_label.map(Into::into),
            cycle_tick: self.cycle_tick.map(|t| t.0),
            s3_bucket: self.s3_bucket.map(Into::into),
        });
        row.severity = self.severity;
        row.canonical_key = self.canonical_key.map(Into::into);
        row.set_last_modified(self.last_modified.map(|t| t.0));
        row.sla_violated_by_minutes = self.sla_violated_by_minutes;
        row.recovery_substituted = self.recovery_substituted;
        row.set_due_at(self.due_at.map(|t| t.0));
        row.alerting = self.alerting;
        row.set_last_probed_at(self.last_probed_at.map(|t| t.0));
        row.set_off_cycle_key(self.off_cycle_key);
        let cycle_key = row
            .cycle_label()
            .map(|label| cycle_dedup_key(&row.artifact_id, label));
        if let Some(own) = self.dedup_key.filter(|k| Some(k) != cycle_key.as_ref()) {
            row.set_dedup_key(own);
        }
        row.carried = carried;
        row.policy = self.policy.map(|p| Box::new(p.into_policy()));
        row.set_reason(self.reason);
        row
    }
}

#[derive(Deserialize)]
struct PolicyWire {
    action: PolicyAction,
    #[serde(default)]
    observe: bool,
    effective_severity: Severity,
    #[serde(default)]
    missed_cycles: u32,
    #[serde(default)]
    escalated: bool,
    #[serde(default)]
    never_written: bool,
    silenced: Option<String>,
    acknowledged: Option<AckWire>,
    folded_under: Option<String>,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    rule: String,
}

#[derive(Deserialize)]
struct AckWire {
    by: String,
    note: Option<String>,
    at: WireTime,
    until: String,
}

impl PolicyWire {
    fn into_policy(self) -> RowPolicy {
        RowPolicy {
            action: self.action,
            observe: self.observe,
            effective_severity: self.effective_severity,
            missed_cycles: self.missed_cycles,
            escalated: self.escalated,
            never_written: self.never_written,
            silenced: self.silenced,
            acknowledged: self.acknowledged.map(|a| {
                Box::new(AckNote {
                    by: a.by,
                    note: a.note,
                    at: a.at.0,
                    until: a.until,
                })
            }),
            folded_under: self.folded_under.as_deref().map(Arc::from),
            channels: self
                .channels
                .iter()
                .filter_map(|c| channel_name(c))
                .collect(),
            // Held without the fold's words, which the row adds when written.
            rule: match &self.folded_under {
                Some(root) => match self.rule.strip_suffix(&super::policy::fold_words(root)) {
                    Some(rule) => rule.to_string(),
                    None => self.rule,
                },
                None => self.rule,
            },
        }
    }
}

/// The channel names a pass writes, as the `'static` names rows hold (another is dropped:
/// the page shows the rule, not the channels).
fn channel_name(name: &str) -> Option<&'static str> {
    ["sns", "telegram", "stdout"]
        .into_iter()
        .find(|known| *known == name)
}

/// A time as the file writes it (RFC 3339).
struct WireTime(DateTime<Utc>);

impl<'de> Deserialize<'de> for WireTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<WireTime, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| WireTime(t.with_timezone(&Utc)))
            .map_err(|e| serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time: {e}")))
    }
}

#[cfg(test)]
mod tests;
