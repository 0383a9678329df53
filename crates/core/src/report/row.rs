//! One row of `check_results.json`, held compactly: a pass at a million artifacts holds a
//! million rows at once (issue 17), so a row keeps per artifact only what is its own.
//!
//! - What many rows repeat (owner, bucket, cadence, cycle label, tick) is one shared
//!   [`RowContext`]; the id is the spec's own shared bytes.
//! - The reasons most rows carry (present since the tick; not found or stale, and how far
//!   past the SLA) are not held but written from the row's own fields when asked
//!   ([`Reason::Derived`]); other reasons are text, shared when rows repeat it.
//! - The dedup key is derived from the id and the cycle label; only rows whose key is of
//!   another shape (a broken entry's, a never-written alert's) hold theirs, with the
//!   off-cycle key, in the rarely-set [`RowExtras`].
//!
//! What is written is unchanged: [`ResultRow`]'s `Serialize` writes the same fields, in the
//! same order, as when each was its own field (docs/outputs.md).

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::classify::{
    ContentSeen, SetSummary, State, not_found_what, present_reason, push_sla, stale_what,
};
use crate::registry::{
    CarriedFields, Severity, ValidationError, invalid_entry_reason, located_errors,
};
use crate::text::Rfc3339;

use super::stamp::Stamp;

/// One row of `check_results.json`: one artifact in registry order.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// The artifact's id (an invalid entry's label), shared with its spec.
    pub artifact_id: Arc<str>,
    /// Owner, bucket, cadence, cycle label and tick, shared by the rows that have them alike.
    pub context: Arc<RowContext>,
    pub severity: Option<Severity>,
    pub canonical_key: Option<Box<str>>,
    pub state: State,
    pub reason: Reason,
    /// When the key was last written, on its whole second ([`ResultRow::last_modified`]).
    pub last_modified: Option<Stamp>,
    pub sla_violated_by_minutes: i64,
    pub recovery_substituted: bool,
    /// When the cycle's artifact was due, on its whole second ([`ResultRow::due_at`]).
    pub due_at: Option<Stamp>,
    pub alerting: bool,
    /// When a HEAD last looked at the key: this pass's `now` when it probed, an earlier pass's
    /// when the ledger had already settled the cycle (docs/outputs.md); absent when no probe
    /// was needed (grace period, closed market day, invalid entry). On its whole second
    /// ([`ResultRow::last_probed_at`]).
    pub last_probed_at: Option<Stamp>,
    /// What few rows have: an off-cycle key, a dedup key of another shape.
    pub extras: Option<Box<RowExtras>>,
    /// What the artifact's registry entry carries to its row as it is (its `x_` keys, the
    /// loader table's `@to_the_row` fields), shared with its spec; absent when it sets none.
    pub carried: Option<Arc<CarriedFields>>,
    /// What the alert policy decided for an alerting row (docs/alerts.md#policy); absent on
    /// rows that do not alert.
    pub policy: Option<Box<super::RowPolicy>>,
    /// Not probed in its cycle yet and not yet due, with object events on: its landing is told
    /// by its event, and a pass probes it at its deadline (docs/lambda.md#passes-with-events-on).
    /// Its reason says so; not a field of `check_results.json`. The ledger keeps its last
    /// probe and does not count it seen missing.
    pub awaiting_event: bool,
}

/// What rows repeat: the rows of one owner and bucket in one cycle share one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RowContext {
    pub owner_repo: Option<Arc<str>>,
    pub cadence: Option<Arc<str>>,
    pub cycle_label: Option<Arc<str>>,
    pub cycle_tick: Option<DateTime<Utc>>,
    /// The bucket the key lives in (not in the original monitor's rows, useful to operators).
    pub s3_bucket: Option<Arc<str>>,
}

/// Why a row has its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The reason the row's state gives from the row's own fields ([`ResultRow::derived_reason`]):
    /// held only when that is exactly the verdict's text ([`ResultRow::set_reason`]).
    Derived,
    /// Any other reason, as written (shared when rows repeat it word for word).
    Said(Arc<str>),
}

impl From<String> for Reason {
    fn from(text: String) -> Reason {
        Reason::Said(Arc::from(text))
    }
}

impl From<&str> for Reason {
    fn from(text: &str) -> Reason {
        Reason::Said(Arc::from(text))
    }
}

/// The fields few rows set, boxed so the others pay one pointer for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowExtras {
    /// For an `off_cycle` artifact, the key of the newest object of its template's shape: the
    /// one that satisfied it, or the newest there was when it did not.
    pub off_cycle_key: Option<Box<str>>,
    /// A dedup key not of the cycle's shape (a broken entry's daily key, a never-written
    /// alert's); `None`: `freshness_{id}_{cycle_label}`.
    pub dedup_key: Option<Box<str>>,
    /// What a probe saw of an object written since the tick, for an artifact with content
    /// checks: the ledger remembers it (not written to `check_results.json`).
    pub content_seen: Option<ContentSeen>,
    /// A set's counts (`partitions:`), written as the row's `set`.
    pub set: Option<Box<SetSummary>>,
    /// An invalid registry entry's errors, shared with the entry: the row's reason and its
    /// daily dedup key are written from them ([`ResultRow::derived_reason`],
    /// [`ResultRow::dedup_key`]).
    pub invalid_entry: Option<InvalidEntryRow>,
}

/// What the row of an invalid registry entry keeps to write its reason and dedup key when
/// asked: a ring of millions is millions of such rows (issue 27), so neither text is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEntryRow {
    /// The entry's errors, shared with it (and, for a dependency cycle's members, with each
    /// other).
    pub errors: Arc<[ValidationError]>,
    /// The entry's line when `errors` are located at it as they are reported
    /// (`InvalidArtifact::errors_located_here`), with the row's id as their artifact.
    pub located_at: Option<std::num::NonZeroU32>,
    /// The pass's UTC day: the row alerts once a day, its dedup key
    /// `freshness_{id}_invalid_{day}` ([`broken_entry_dedup_key`]).
    pub day: NaiveDate,
}

/// The dedup key of a broken entry's alert on `day` (it alerts once per UTC day until fixed).
pub fn broken_entry_dedup_key(label: &str, day: NaiveDate) -> String {
    format!("freshness_{label}_invalid_{}", day.format("%Y-%m-%d"))
}

/// The dedup key of an artifact's alert in a cycle.
pub fn cycle_dedup_key(id: &str, cycle_label: &str) -> String {
    let mut key = String::with_capacity("freshness_".len() + id.len() + 1 + cycle_label.len());
    key.push_str("freshness_");
    key.push_str(id);
    key.push('_');
    key.push_str(cycle_label);
    key
}

impl ResultRow {
    /// A row with only an id and a state: no context, no times, not alerting (callers fill in
    /// what they know).
    pub fn blank(artifact_id: Arc<str>, state: State, reason: Reason) -> ResultRow {
        ResultRow {
            artifact_id,
            context: Arc::default(),
            severity: None,
            canonical_key: None,
            state,
            reason,
            last_modified: None,
            sla_violated_by_minutes: 0,
            recovery_substituted: false,
            due_at: None,
            alerting: false,
            last_probed_at: None,
            extras: None,
            carried: None,
            policy: None,
            awaiting_event: false,
        }
    }

    /// When the key was last written (whole seconds: all any output writes).
    pub fn last_modified(&self) -> Option<DateTime<Utc>> {
        self.last_modified.map(Stamp::to_utc)
    }

    /// When the cycle's artifact was due.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.due_at.map(Stamp::to_utc)
    }

    /// When a HEAD last looked at the key.
    pub fn last_probed_at(&self) -> Option<DateTime<Utc>> {
        self.last_probed_at.map(Stamp::to_utc)
    }

    pub fn set_last_modified(&mut self, t: Option<DateTime<Utc>>) {
        self.last_modified = t.map(Stamp::new);
    }

    pub fn set_due_at(&mut self, t: Option<DateTime<Utc>>) {
        self.due_at = t.map(Stamp::new);
    }

    pub fn set_last_probed_at(&mut self, t: Option<DateTime<Utc>>) {
        self.last_probed_at = t.map(Stamp::new);
    }

    pub fn owner_repo(&self) -> Option<&str> {
        self.context.owner_repo.as_deref()
    }

    pub fn cadence(&self) -> Option<&str> {
        self.context.cadence.as_deref()
    }

    pub fn cycle_label(&self) -> Option<&str> {
        self.context.cycle_label.as_deref()
    }

    pub fn cycle_tick(&self) -> Option<DateTime<Utc>> {
        self.context.cycle_tick
    }

    pub fn s3_bucket(&self) -> Option<&str> {
        self.context.s3_bucket.as_deref()
    }

    pub fn off_cycle_key(&self) -> Option<&str> {
        self.extras.as_ref()?.off_cycle_key.as_deref()
    }

    /// What the artifact's registry entry carries to its row ([`CarriedFields`]).
    pub fn carried(&self) -> Option<&CarriedFields> {
        self.carried.as_deref()
    }

    /// The artifact's `x_` registry keys, as a JSON object.
    pub fn extensions(&self) -> Option<&serde_json::Value> {
        self.carried()?.extensions.as_ref()
    }

    /// The row's reason as text.
    pub fn reason(&self) -> Cow<'_, str> {
        match &self.reason {
            Reason::Said(text) => Cow::Borrowed(text),
            // `set_reason` holds `Derived` only where there is one.
            Reason::Derived => Cow::Owned(self.derived_reason().unwrap_or_default()),
        }
    }

    /// The reason the classifier gives a row of this state with these fields, when its state
    /// has one: fresh, "present, last modified … (cycle tick …)"; missing, "s3://… not found"
    /// and the SLA; stale, "s3://… last modified …, before the cycle tick …" and the SLA; an
    /// invalid entry's, "invalid registry entry: " and its errors.
    pub fn derived_reason(&self) -> Option<String> {
        if let Some(invalid) = self.extras.as_ref().and_then(|e| e.invalid_entry.as_ref()) {
            let at = invalid
                .located_at
                .map(|line| (line.get() as usize, &self.artifact_id));
            return Some(invalid_entry_reason(located_errors(&invalid.errors, at)));
        }
        let tick = self.cycle_tick();
        let url = || {
            Some(crate::object::S3Url(
                self.s3_bucket()?,
                self.canonical_key.as_deref()?,
            ))
        };
        let mut reason = match self.state {
            State::Fresh => return Some(present_reason(self.last_modified()?, tick?)),
            State::Missing => not_found_what(&url()?),
            State::Stale => stale_what(&url()?, self.last_modified()?, tick?),
            // A suspect row holds its reason: the sizes or the cycle it names.
            State::ProbeFailed | State::GracePeriod | State::Suspect => return None,
        };
        push_sla(&mut reason, self.sla_violated_by_minutes, self.due_at()?);
        Some(reason)
    }

    /// Gives the row the verdict's reason: [`Reason::Derived`] when the row's fields write
    /// exactly this text back, else the text itself.
    pub fn set_reason(&mut self, text: String) {
        self.reason = if self.derived_reason().is_some_and(|derived| derived == text) {
            Reason::Derived
        } else {
            Reason::from(text)
        };
    }

    /// The key of the row's alert marker: its own when it has one, an invalid entry's daily
    /// one ([`broken_entry_dedup_key`]), else `freshness_{id}_{cycle_label}`; `None` for a row
    /// without a cycle.
    pub fn dedup_key(&self) -> Option<Cow<'_, str>> {
        if let Some(extras) = &self.extras {
            if let Some(own) = extras.dedup_key.as_deref() {
                return Some(Cow::Borrowed(own));
            }
            if let Some(invalid) = &extras.invalid_entry {
                return Some(Cow::Owned(broken_entry_dedup_key(
                    &self.artifact_id,
                    invalid.day,
                )));
            }
        }
        let label = self.cycle_label()?;
        Some(Cow::Owned(cycle_dedup_key(&self.artifact_id, label)))
    }

    /// Gives the row a dedup key of its own shape.
    pub fn set_dedup_key(&mut self, key: String) {
        self.extras.get_or_insert_default().dedup_key = Some(key.into_boxed_str());
    }

    /// What a probe saw of the object's content (see [`RowExtras::content_seen`]).
    pub fn content_seen(&self) -> Option<ContentSeen> {
        self.extras.as_ref()?.content_seen
    }

    /// Sets what a probe saw of the object's content; `None` allocates nothing.
    pub fn set_content_seen(&mut self, seen: Option<ContentSeen>) {
        if let Some(seen) = seen {
            self.extras.get_or_insert_default().content_seen = Some(seen);
        }
    }

    /// A set's counts (`partitions:`).
    pub fn set_summary(&self) -> Option<&SetSummary> {
        self.extras.as_ref()?.set.as_deref()
    }

    /// Gives a set's row its counts; `None` allocates nothing.
    pub fn set_set_summary(&mut self, set: Option<Box<SetSummary>>) {
        if let Some(set) = set {
            self.extras.get_or_insert_default().set = Some(set);
        }
    }

    /// Sets (or clears) the off-cycle key.
    pub fn set_off_cycle_key(&mut self, key: Option<String>) {
        match (key, &mut self.extras) {
            (Some(key), extras) => {
                extras.get_or_insert_default().off_cycle_key = Some(key.into_boxed_str());
            }
            (None, Some(extras)) => extras.off_cycle_key = None,
            (None, None) => {}
        }
    }

    /// A mutable context (copied first when shared): for tests and for rows built by hand.
    pub fn context_mut(&mut self) -> &mut RowContext {
        Arc::make_mut(&mut self.context)
    }

    /// The severity an alert for this row goes out with: probe failures are always critical
    /// (the monitor itself cannot see), otherwise the artifact's own.
    pub fn alert_severity(&self) -> Severity {
        if let Some(policy) = &self.policy {
            return policy.effective_severity;
        }
        self.declared_alert_severity()
    }

    /// [`ResultRow::alert_severity`] before the policy (escalation) had its say.
    pub fn declared_alert_severity(&self) -> Severity {
        if self.state == State::ProbeFailed {
            Severity::Critical
        } else {
            self.severity.unwrap_or(Severity::Critical)
        }
    }
}

impl Serialize for ResultRow {
    /// The fields in the order and shape `check_results.json` always had (docs/outputs.md).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = &*self.context;
        let mut row = s.serialize_struct("ResultRow", 20 + CarriedFields::KEYS)?;
        row.serialize_field("artifact_id", &*self.artifact_id)?;
        row.serialize_field("owner_repo", &c.owner_repo)?;
        row.serialize_field("severity", &self.severity)?;
        row.serialize_field("cadence", &c.cadence)?;
        row.serialize_field("canonical_key", &self.canonical_key)?;
        row.serialize_field("state", &self.state)?;
        row.serialize_field("reason", &*self.reason())?;
        row.serialize_field("last_modified", &self.last_modified().map(Time))?;
        row.serialize_field("sla_violated_by_minutes", &self.sla_violated_by_minutes)?;
        row.serialize_field("recovery_substituted", &self.recovery_substituted)?;
        row.serialize_field("cycle_label", &c.cycle_label)?;
        row.serialize_field("cycle_tick", &c.cycle_tick.map(Time))?;
        row.serialize_field("due_at", &self.due_at().map(Time))?;
        row.serialize_field("dedup_key", &self.dedup_key())?;
        row.serialize_field("alerting", &self.alerting)?;
        row.serialize_field("s3_bucket", &c.s3_bucket)?;
        match self.last_probed_at() {
            Some(t) => row.serialize_field("last_probed_at", &Time(t))?,
            None => row.skip_field("last_probed_at")?,
        }
        row.serialize_field("off_cycle_key", &self.off_cycle_key())?;
        match self.set_summary() {
            Some(set) => row.serialize_field("set", set)?,
            None => row.skip_field("set")?,
        }
        CarriedFields::serialize_into(self.carried(), &mut row)?;
        match &self.policy {
            Some(p) => row.serialize_field("policy", p)?,
            None => row.skip_field("policy")?,
        }
        row.end()
    }
}

/// A time as `check_results.json` writes it.
struct Time(DateTime<Utc>);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match Rfc3339(self.0).ascii() {
            Some(ascii) => s.serialize_str(std::str::from_utf8(&ascii).expect("ASCII")),
            None => s.serialize_str(&Rfc3339(self.0).to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::S3Url;

    fn t(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// A judged row: bucket, key, tick, due time; the state and what was seen set by each test.
    fn judged(state: State, last_modified: Option<&str>, minutes_past: i64) -> ResultRow {
        ResultRow {
            context: Arc::new(RowContext {
                owner_repo: Some("owner".into()),
                cadence: Some("weekday_sf".into()),
                cycle_label: Some("2026-06-05".into()),
                cycle_tick: Some(t("2026-06-05T06:00:00Z")),
                s3_bucket: Some("bkt".into()),
            }),
            severity: Some(Severity::Critical),
            canonical_key: Some("daily/2026-06-05/a.json".into()),
            last_modified: last_modified.map(|lm| t(lm).into()),
            sla_violated_by_minutes: minutes_past,
            due_at: Some(t("2026-06-05T07:00:00Z").into()),
            ..ResultRow::blank("a".into(), state, Reason::Derived)
        }
    }

    #[test]
    fn the_classifiers_usual_reasons_are_derived_and_written_back_byte_for_byte() {
        let url = S3Url("bkt", "daily/2026-06-05/a.json");
        let (tick, due) = (t("2026-06-05T06:00:00Z"), t("2026-06-05T07:00:00Z"));
        let mut missing = not_found_what(&url);
        push_sla(&mut missing, 30, due);
        let mut stale = stale_what(&url, t("2026-06-04T06:00:00Z"), tick);
        push_sla(&mut stale, 0, due);
        let cases = [
            (
                judged(State::Fresh, Some("2026-06-05T06:30:00Z"), 0),
                present_reason(t("2026-06-05T06:30:00Z"), tick),
            ),
            (judged(State::Missing, None, 30), missing),
            (judged(State::Stale, Some("2026-06-04T06:00:00Z"), 0), stale),
        ];
        for (mut row, text) in cases {
            row.set_reason(text.clone());
            assert_eq!(row.reason, Reason::Derived, "{text}");
            assert_eq!(row.reason(), text);
        }
    }

    #[test]
    fn a_reason_the_row_would_not_write_back_is_kept_as_said() {
        let tick = t("2026-06-05T06:00:00Z");
        let present = present_reason(t("2026-06-05T06:30:00Z"), tick);
        let texts = [
            // What a recovery key added; another minute past the SLA; another time.
            format!("{present}; recovery s3://bkt/r.json present"),
            "s3://bkt/daily/2026-06-05/a.json not found; 31 min past its SLA (due \
             2026-06-05T07:00:00Z)"
                .to_string(),
            present_reason(t("2026-06-05T06:31:00Z"), tick),
        ];
        let rows = [
            judged(State::Fresh, Some("2026-06-05T06:30:00Z"), 0),
            judged(State::Missing, None, 30),
            judged(State::Fresh, Some("2026-06-05T06:30:00Z"), 0),
        ];
        for (mut row, text) in rows.into_iter().zip(texts) {
            row.set_reason(text.clone());
            assert_eq!(row.reason, Reason::Said(text.as_str().into()));
            assert_eq!(row.reason(), text);
        }
        let mut grace = judged(State::GracePeriod, None, 0);
        grace.set_reason("new artifact: in its grace period".into());
        assert!(matches!(grace.reason, Reason::Said(_)));
    }

    #[test]
    fn an_invalid_entrys_row_writes_its_reason_located_at_it_and_its_daily_key() {
        let shared: Arc<[ValidationError]> = Arc::from([ValidationError {
            file: "r.yaml".into(),
            line: 0,
            artifact: None,
            field: Some("depends_on".into()),
            message: "on a dependency cycle with `a0`".into(),
        }]);
        let row_at = |id: &str, line: u32| ResultRow {
            extras: Some(Box::new(RowExtras {
                invalid_entry: Some(InvalidEntryRow {
                    errors: Arc::clone(&shared),
                    located_at: std::num::NonZeroU32::new(line),
                    day: "2026-06-03".parse().unwrap(),
                }),
                ..RowExtras::default()
            })),
            ..ResultRow::blank(id.into(), State::ProbeFailed, Reason::Derived)
        };
        let (a3, a4) = (row_at("a3", 13), row_at("a4", 14));
        assert_eq!(
            a4.reason(),
            "invalid registry entry: r.yaml:14: artifact a4: field depends_on: on a dependency \
             cycle with `a0`"
        );
        assert_eq!(a3.dedup_key().unwrap(), "freshness_a3_invalid_2026-06-03");
        assert!(
            a3.reason()
                .starts_with("invalid registry entry: r.yaml:13: artifact a3: ")
        );
        // Errors held with their own place are written as they are.
        let own = row_at("a5", 0);
        assert_eq!(
            own.reason(),
            "invalid registry entry: r.yaml: field depends_on: on a dependency cycle with `a0`"
        );
        // The box a ring's member row holds: no text of its own.
        assert_eq!(size_of::<RowExtras>(), 88);
    }

    #[test]
    fn a_row_holds_its_three_times_in_8_bytes_each() {
        // 128 bytes when each was an `Option<DateTime<Utc>>` (12 bytes): 116 now, padded to 120.
        // A pass holds a million rows at once (issue 17): every byte here is a megabyte of its
        // peak, so the size may only shrink.
        assert_eq!(size_of::<Option<Stamp>>(), 8);
        assert_eq!(size_of::<ResultRow>(), 120);
    }

    #[test]
    fn a_row_is_written_with_every_field_in_the_contracts_order() {
        let mut row = judged(State::Missing, None, 30);
        row.set_reason("s3://bkt/daily/2026-06-05/a.json not found".into());
        row.alerting = true;
        row.set_last_probed_at(Some(t("2026-06-05T07:30:00Z")));
        row.set_off_cycle_key(Some("daily/2026-06-04/a.json".into()));
        // `..default()` stays right whatever fields the loader's table carries to the row.
        #[allow(clippy::needless_update)]
        let carried = CarriedFields {
            extensions: Some(serde_json::json!({"x_team": "risk"})),
            runbook_url: Some("https://wiki.example/a".into()),
            ..CarriedFields::default()
        };
        row.carried = Some(Arc::new(carried));
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"{"artifact_id":"a","owner_repo":"owner","severity":"critical","cadence":"weekday_sf","canonical_key":"daily/2026-06-05/a.json","state":"missing","reason":"s3://bkt/daily/2026-06-05/a.json not found","last_modified":null,"sla_violated_by_minutes":30,"recovery_substituted":false,"cycle_label":"2026-06-05","cycle_tick":"2026-06-05T06:00:00Z","due_at":"2026-06-05T07:00:00Z","dedup_key":"freshness_a_2026-06-05","alerting":true,"s3_bucket":"bkt","last_probed_at":"2026-06-05T07:30:00Z","off_cycle_key":"daily/2026-06-04/a.json","extensions":{"x_team":"risk"},"runbook_url":"https://wiki.example/a"}"#
        );
        let mut broken = ResultRow::blank("b c".into(), State::ProbeFailed, "bad".into());
        broken.set_dedup_key("freshness_b c_invalid_2026-06-05".into());
        assert_eq!(
            serde_json::to_string(&broken).unwrap(),
            r#"{"artifact_id":"b c","owner_repo":null,"severity":null,"cadence":null,"canonical_key":null,"state":"probe_failed","reason":"bad","last_modified":null,"sla_violated_by_minutes":0,"recovery_substituted":false,"cycle_label":null,"cycle_tick":null,"due_at":null,"dedup_key":"freshness_b c_invalid_2026-06-05","alerting":false,"s3_bucket":null,"off_cycle_key":null}"#
        );
    }
}
