//! What one pass found, as data: its rows, what went wrong with the registry or the pass, and
//! the figures its shell filled in (ledger, requests, listings). The reports
//! (`check_results.json`, `heartbeat.json`, `cycle_verdict.json`), the status page and the
//! digests are all read from it.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::alert::policy::ack::Ack;
use crate::alert::policy::{self, PassPolicy, PolicyAction, PolicyInputs};
use crate::ledger::Ledger;
use crate::report::{
    AlertFigures, CheckResults, CycleVerdicts, Heartbeat, LedgerFigures, ListingFigures,
    RequestCounts, ResultRow, StateCounts,
};

/// Everything a pass found.
#[derive(Debug, Clone)]
pub struct PassOutcome {
    pub run_at: DateTime<Utc>,
    pub alerts_enabled: bool,
    pub rows: Vec<ResultRow>,
    /// Why the registry could not be used; `rows` is then empty.
    pub registry_error: Option<String>,
    /// A bug stopped the pass (a panic outside any one artifact); `rows` is then empty.
    pub internal_error: Option<String>,
    /// What the pass did with the ledger, once the shell has written it.
    pub ledger: Option<LedgerFigures>,
    /// The S3 requests the pass made (probes, markers, ledger, outputs), once the shell has
    /// counted them.
    pub requests: Option<RequestCounts>,
    /// What the pass's listings did (`None`: nothing was worth listing).
    pub listing: Option<ListingFigures>,
    pub registry_etag: Option<String>,
    /// `only` ids that name no artifact.
    pub unknown_only_ids: Vec<String>,
    pub duration: std::time::Duration,
    /// The time zone of each registry cadence that has one (cron cadences), by name: the
    /// status page writes their rows' times in it too.
    pub cadence_zones: BTreeMap<String, chrono_tz::Tz>,
    /// The registry's alert policy and dependencies (docs/alerts.md#policy).
    pub alert_policy: Arc<PassPolicy>,
    /// Acknowledgement objects that could not be used (reported, ignored).
    pub ack_problems: Vec<String>,
    /// Template prefixes listed for the never-written rule: `(id, found anything)`, for
    /// the ledger.
    pub prefix_listings: Vec<(String, bool)>,
    /// How the registry was named when it was read (a path or an `s3://` URL; empty when it
    /// could not be): the status page's `explain` command lines name it.
    pub registry_name: String,
    /// The next moment an artifact not yet settled would alert (computed after judging).
    pub next_deadline: Option<crate::deadline::NextDeadline>,
    /// What the pass did about its deadline schedule, once the shell has done it.
    pub deadline_passes: Option<crate::report::DeadlinePassFigures>,
}

impl PassOutcome {
    /// A pass with no rows yet, to be filled in.
    pub fn empty(alerts_enabled: bool, now: DateTime<Utc>, etag: Option<String>) -> Self {
        PassOutcome {
            run_at: now,
            alerts_enabled,
            rows: Vec::new(),
            registry_error: None,
            internal_error: None,
            ledger: None,
            requests: None,
            listing: None,
            registry_etag: etag,
            unknown_only_ids: Vec::new(),
            duration: std::time::Duration::ZERO,
            cadence_zones: BTreeMap::new(),
            alert_policy: Arc::default(),
            ack_problems: Vec::new(),
            prefix_listings: Vec::new(),
            registry_name: String::new(),
            next_deadline: None,
            deadline_passes: None,
        }
    }

    /// A pass that could not use its registry: no rows, the reason in `registry_error` (the
    /// heartbeat carries it and the registry-error alert quotes it).
    pub fn registry_failed(
        reason: String,
        etag: Option<String>,
        alerts_enabled: bool,
        now: DateTime<Utc>,
    ) -> Self {
        PassOutcome {
            registry_error: Some(reason),
            ..PassOutcome::empty(alerts_enabled, now, etag)
        }
    }

    /// A pass that a bug stopped: no rows, the panic's message in `internal_error` (the
    /// heartbeat carries it, so the monitor is not silent).
    pub fn internal_error(message: String, alerts_enabled: bool, now: DateTime<Utc>) -> Self {
        PassOutcome {
            internal_error: Some(message),
            ..PassOutcome::empty(alerts_enabled, now, None)
        }
    }

    /// Applies the alert policy to the rows: `ledger` as read before the pass, the acks read,
    /// and the channels alerts can go to (docs/alerts.md#policy).
    pub fn apply_policy(
        &mut self,
        ledger: Option<&Ledger>,
        acks: &[Ack],
        channels: &[&'static str],
    ) {
        let policy = Arc::clone(&self.alert_policy);
        let inputs = PolicyInputs {
            policy: &policy,
            ledger,
            acks,
            channels,
            alerts_enabled: self.alerts_enabled,
        };
        policy::decide(&mut self.rows, &inputs, self.run_at);
    }

    /// Alerting rows the policy gave `action`.
    pub fn policy_count(&self, action: PolicyAction) -> usize {
        self.rows
            .iter()
            .filter(|r| r.policy.as_ref().is_some_and(|p| p.action == action))
            .count()
    }

    pub fn counts(&self) -> StateCounts {
        StateCounts::of(&self.rows)
    }

    pub fn alerting_rows(&self) -> impl Iterator<Item = &ResultRow> {
        self.rows.iter().filter(|r| r.alerting)
    }

    pub fn check_results(&self) -> CheckResults<'_> {
        CheckResults {
            run_at: self.run_at,
            alerts_enabled: self.alerts_enabled,
            n_entries: self.rows.len(),
            results: &self.rows,
        }
    }

    pub fn heartbeat(&self, alerts: AlertFigures) -> Heartbeat {
        Heartbeat {
            last_run: self.run_at,
            alerts_enabled: self.alerts_enabled,
            duration_seconds: (self.duration.as_secs_f64() * 1000.0).round() / 1000.0,
            n_entries_checked: self.rows.len(),
            counts: self.counts(),
            version: env!("CARGO_PKG_VERSION"),
            registry_etag: self.registry_etag.clone(),
            alerts,
            registry_error: self.registry_error.clone(),
            internal_error: self.internal_error.clone(),
            ledger: self.ledger.clone(),
            ack_problems: self.ack_problems.clone(),
            requests: self.requests.map(Into::into),
            listing: self.listing.clone(),
            deadline_passes: self.deadline_passes.clone(),
        }
    }

    pub fn cycle_verdicts(&self) -> CycleVerdicts {
        CycleVerdicts::of(self.run_at, &self.rows)
    }
}
