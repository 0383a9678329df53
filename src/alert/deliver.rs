//! One pass's alert delivery: claim, send one digest per channel, then record or release.
//!
//! The order is what keeps the two promises of docs/alerts.md#dedup. *Never page twice*: a key is claimed
//! (conditional create of its marker) before anything is sent, and only the pass holding the
//! claim sends. *Never drop silently*: a claim whose digest reached no channel is released so
//! the next pass retries; a key whose marker cannot be claimed at all (the store failing) is
//! sent anyway, flagged as possibly repeating, because a repeated page is better than none;
//! and every failure is in the returned figures (the heartbeat) and in an error log line.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream;
use tokio::time::Instant;

use super::channel::{AlertChannel, ChannelError};
use super::dedup::{Claim, ClaimOutcome, DedupStore, Marker, Repeat};
use super::digest::{self, Digest, PlannedAlert};
use super::policy::never_written;
use crate::ledger::Ledger;
use crate::outcome::PassOutcome;
use crate::registry::policy::AlertPolicy;
use crate::report::{AlertFigures, ChannelReport, ResultRow};
use crate::store::{ObjectStore, S3Url, StoreError};

/// How many marker reads and writes a pass keeps in flight.
const MARKER_CONCURRENCY: usize = 16;

/// The registry-error alert goes out at most this often.
pub const REGISTRY_ERROR_REPEAT: chrono::Duration = chrono::Duration::hours(1);

/// The channels of a container and where the dedup markers live. Built once per container.
pub struct Alerter {
    pub channels: Vec<Box<dyn AlertChannel>>,
    pub dedup_bucket: String,
    /// Empty or ending in `/`.
    pub dedup_prefix: String,
    /// Keys sent while their marker could not be claimed (the store failing), with when:
    /// while the store is down, a warm container still does not repeat them.
    unguarded_sent: Mutex<HashMap<String, DateTime<Utc>>>,
}

/// How sending one digest to every channel went.
struct Sent {
    /// Per channel: messages that went out, and the error.
    results: Vec<(&'static str, Result<usize, ChannelError>)>,
}

/// Which alerts of a routed batch reached a channel, and the first digest's body (the
/// preview of an alert without an entry of its own).
struct Routed {
    delivered: Vec<bool>,
    first_body: String,
}

impl Sent {
    /// At least one message reached at least one channel: the news is out.
    fn reached_anyone(&self) -> bool {
        self.results.iter().any(|(_, r)| match r {
            Ok(n) => *n > 0,
            Err(e) => e.delivered_parts > 0,
        })
    }
}

impl Alerter {
    pub fn new(
        channels: Vec<Box<dyn AlertChannel>>,
        dedup_bucket: impl Into<String>,
        dedup_prefix: impl Into<String>,
    ) -> Self {
        Alerter {
            channels,
            dedup_bucket: dedup_bucket.into(),
            dedup_prefix: dedup_prefix.into(),
            unguarded_sent: Mutex::new(HashMap::new()),
        }
    }

    /// The names of the channels, as routes name them.
    pub fn channel_names(&self) -> Vec<&'static str> {
        self.channels.iter().map(|c| c.name()).collect()
    }

    /// Delivers the pass's alerts (nothing but counting in observe mode). `deadline`: sends
    /// give up then, so the outputs can still be written. The `ledger` read at the pass's
    /// start (if any) spares the marker requests it can answer (docs/alerts.md#what-the-ledger-spares): an alert it says is
    /// out for this cycle needs no claim, and only the artifacts it says alerted this cycle
    /// are RESOLVED candidates. Artifacts it knows nothing about are asked of the markers.
    /// With reminders configured, alerting artifacts are still claimed every pass: the held
    /// marker says when the alert went out, which a reminder is timed from.
    pub async fn deliver<S: ObjectStore>(
        &self,
        store: &S,
        outcome: &PassOutcome,
        deadline: Option<Instant>,
        ledger: Option<&Ledger>,
    ) -> AlertFigures {
        let figures = AlertFigures {
            would_alert: outcome.alerting_rows().count()
                + usize::from(outcome.registry_error.is_some()),
            ..AlertFigures::default()
        };
        if !outcome.alerts_enabled {
            return figures;
        }
        let now = outcome.run_at;
        let dedup = DedupStore::new(store, self.dedup_bucket.clone(), self.dedup_prefix.clone());
        let mut delivery = Delivery {
            alerter: self,
            dedup: &dedup,
            now,
            deadline,
            figures,
            reports: self.empty_reports(),
        };
        if let Some(error) = &outcome.registry_error {
            let digest = digest::registry_error_digest(error, now);
            delivery
                .claim_and_send(
                    &[digest::registry_error_alert()],
                    Repeat::After(REGISTRY_ERROR_REPEAT),
                    None,
                    |_| digest.clone(),
                )
                .await;
        }
        let mut alerts = digest::new_alerts(&outcome.rows, now);
        let policy = &outcome.alert_policy.policy;
        if let Some(ledger) = ledger.filter(|_| policy.remind_every.is_none()) {
            let out = alerts_known_out(ledger, &outcome.rows);
            alerts.retain(|a| !out.contains(&*a.artifact_id));
            delivery.figures.deduplicated += out.len();
        }
        // The RESOLVED notices go out beside the new alerts, not after them: they are of
        // other artifacts (fresh rows, not alerting ones), with markers of their own, so
        // neither waits for the other's claims, sends or marker writes.
        let mut resolving = delivery.beside();
        tokio::join!(
            delivery.alert(&alerts, policy),
            resolving.resolve(&outcome.rows, policy, ledger),
        );
        delivery.absorb(resolving);
        delivery.finish()
    }

    /// A report per channel, nothing counted yet.
    fn empty_reports(&self) -> Vec<ChannelReport> {
        self.channels
            .iter()
            .map(|c| ChannelReport {
                channel: c.name().to_string(),
                ..ChannelReport::default()
            })
            .collect()
    }

    /// Channel `i` gets `digests[i]` (none when `None`), all at once; says per channel whether
    /// anything reached it. Each result is logged and added to `reports`.
    async fn send_each(
        &self,
        digests: &[Option<Digest>],
        deadline: Option<Instant>,
        reports: &mut [ChannelReport],
    ) -> Vec<bool> {
        let results: Vec<Option<(&'static str, Result<usize, ChannelError>)>> = join_all(
            self.channels
                .iter()
                .zip(digests)
                .map(|(channel, digest)| async move {
                    match digest {
                        Some(d) => Some((channel.name(), channel.send(d, deadline).await)),
                        None => None,
                    }
                }),
        )
        .await;
        let mut reached = Vec::with_capacity(results.len());
        for ((result, report), digest) in results.into_iter().zip(reports.iter_mut()).zip(digests) {
            let (Some((name, result)), Some(digest)) = (result, digest) else {
                reached.push(false);
                continue;
            };
            let sent = Sent {
                results: vec![(name, result)],
            };
            reached.push(sent.reached_anyone());
            log_result(name, &sent.results[0].1, digest, report);
        }
        reached
    }
}

/// Whether `channel` gets the RESOLVED notice of `row`: it receives the row's severity, or,
/// for a warning that escalation could have raised, critical.
fn resolved_routes_to(policy: &AlertPolicy, channel: &str, row: &ResultRow) -> bool {
    let declared = row.declared_alert_severity();
    policy.routes_to(channel, declared)
        || (declared == crate::registry::Severity::Warning
            && policy.escalate_after_cycles.is_some()
            && policy.routes_to(channel, crate::registry::Severity::Critical))
}

/// Logs one channel's send and counts it into the channel's report.
fn log_result(
    name: &str,
    result: &Result<usize, ChannelError>,
    digest: &Digest,
    report: &mut ChannelReport,
) {
    match result {
        Ok(n) => {
            report.messages_sent += n;
            tracing::info!(
                message = "alert digest sent",
                channel = name,
                kind = ?digest.kind,
                severity = %digest.severity,
                items = digest.n_items,
                messages = n,
            );
        }
        Err(e) => {
            report.messages_sent += e.delivered_parts;
            if report.error.is_none() {
                report.error = Some(e.message.clone());
            }
            tracing::error!(
                message = "alert digest not delivered on a channel",
                channel = name,
                kind = ?digest.kind,
                items = digest.n_items,
                delivered_messages = e.delivered_parts,
                permanent = e.permanent,
                error = %e.message,
            );
        }
    }
}

/// One pass's delivery: the dedup markers, the pass's moment and deadline, and the figures
/// and channel reports it has counted so far.
struct Delivery<'a, S> {
    alerter: &'a Alerter,
    dedup: &'a DedupStore<'a, S>,
    now: DateTime<Utc>,
    deadline: Option<Instant>,
    figures: AlertFigures,
    reports: Vec<ChannelReport>,
}

/// The alerts of one batch that go out, and why.
struct Sending {
    /// Per alert: its claim, when this pass holds one.
    claims: Vec<Option<Claim>>,
    /// Per alert: whether it is in the digest.
    sending: Vec<bool>,
    /// `key: error` of alerts sent without a claim (the marker store failing).
    unguarded: Vec<String>,
    /// Per alert already sent: its index and marker (what reminders start from).
    held: Vec<(usize, Marker)>,
}

impl<S: ObjectStore> Delivery<'_, S> {
    /// A delivery of the same pass that counts on its own, to run beside this one and be
    /// [absorbed](Self::absorb) into it.
    fn beside(&self) -> Self {
        Delivery {
            alerter: self.alerter,
            dedup: self.dedup,
            now: self.now,
            deadline: self.deadline,
            figures: AlertFigures::default(),
            reports: self.alerter.empty_reports(),
        }
    }

    /// Adds what a delivery run [beside](Self::beside) this one counted: its figures, its
    /// messages per channel; this one's first error (of a channel, of the markers) stays the
    /// one reported.
    fn absorb(&mut self, other: Self) {
        let (mine, theirs) = (&mut self.figures, other.figures);
        mine.would_alert += theirs.would_alert;
        mine.sent += theirs.sent;
        mine.deduplicated += theirs.deduplicated;
        mine.failed += theirs.failed;
        mine.resolved += theirs.resolved;
        mine.reminded += theirs.reminded;
        if mine.dedup_error.is_none() {
            mine.dedup_error = theirs.dedup_error;
        }
        mine.alerted_artifacts.extend(theirs.alerted_artifacts);
        mine.held_artifacts.extend(theirs.held_artifacts);
        mine.resolved_artifacts.extend(theirs.resolved_artifacts);
        mine.resolved_held_artifacts
            .extend(theirs.resolved_held_artifacts);
        mine.resolved_failed_artifacts
            .extend(theirs.resolved_failed_artifacts);
        for (mine, theirs) in self.reports.iter_mut().zip(other.reports) {
            mine.messages_sent += theirs.messages_sent;
            if mine.error.is_none() {
                mine.error = theirs.error;
            }
        }
    }

    /// The pass's new alerts (claimed, sent, recorded), then the reminders of those still
    /// alerting when the policy asks for them.
    async fn alert(&mut self, alerts: &[PlannedAlert], policy: &AlertPolicy) {
        if alerts.is_empty() {
            return;
        }
        let now = self.now;
        let held = self
            .claim_and_send(alerts, Repeat::Never, Some(policy), |sending| {
                digest::alert_digest(sending, now)
            })
            .await;
        let Some(every) = policy.remind_every else {
            return;
        };
        let reminders = {
            let held: Vec<_> = held.iter().map(|(i, m)| (*i, m.sent_before())).collect();
            digest::due_reminders(alerts, &held, every, now)
        };
        if reminders.is_empty() {
            return;
        }
        // A reminder is counted as `reminded` when sent and nowhere when its marker holds it
        // (not due again yet): `sent` and `deduplicated` count the cycle's alerts only
        // (docs/lambda.md#response).
        let sent_before = self.figures.sent;
        let deduplicated_before = self.figures.deduplicated;
        let held_before = self.figures.held_artifacts.len();
        self.claim_and_send(&reminders, Repeat::After(every), Some(policy), |s| {
            digest::reminder_digest(s, now)
        })
        .await;
        self.figures.reminded += self.figures.sent - sent_before;
        self.figures.sent = sent_before;
        self.figures.deduplicated = deduplicated_before;
        self.figures.held_artifacts.truncate(held_before);
    }

    /// The figures, with the channel reports when anything was attempted.
    fn finish(mut self) -> AlertFigures {
        let figures = &self.figures;
        if figures.sent + figures.failed + figures.resolved > 0 {
            self.figures.channels = self.reports;
        }
        self.figures
    }

    /// Claims each alert's key, sends one digest of the claimed ones, then publishes or
    /// releases the claims. Counts into the figures (`sent`, `deduplicated`, `failed`).
    async fn claim_and_send(
        &mut self,
        alerts: &[PlannedAlert],
        repeat: Repeat,
        routing: Option<&AlertPolicy>,
        digest_of: impl Fn(&[&PlannedAlert]) -> Digest,
    ) -> Vec<(usize, Marker)> {
        if self.alerter.channels.is_empty() {
            self.figures.failed += alerts.len();
            tracing::error!(
                message = "alerts are enabled but no channel is configured \
                           (set SNS_TOPIC_ARN and/or TELEGRAM_BOT_TOKEN_PARAM and \
                           TELEGRAM_CHAT_ID_PARAM)",
                undelivered = alerts.len(),
            );
            return Vec::new();
        }
        let outcomes = self.claim_all(alerts, repeat).await;
        let batch = self.sort_claims(alerts, outcomes, repeat);
        // Per alert, its place among those sent.
        let mut place: Vec<Option<usize>> = vec![None; alerts.len()];
        let mut to_send: Vec<&PlannedAlert> = Vec::new();
        for (i, (alert, sending)) in alerts.iter().zip(&batch.sending).enumerate() {
            if *sending {
                place[i] = Some(to_send.len());
                to_send.push(alert);
            }
        }
        if to_send.is_empty() {
            return batch.held;
        }
        let note = (!batch.unguarded.is_empty()).then(|| digest::unguarded_note(&batch.unguarded));
        let digest_of = |alerts: &[&PlannedAlert]| {
            let mut digest = digest_of(alerts);
            if let Some(note) = &note {
                digest.body.push_str(note);
            }
            digest
        };
        let routed = self.send_routed(&to_send, routing, &digest_of).await;
        let delivered: Vec<bool> = place
            .iter()
            .map(|p| p.is_some_and(|i| routed.delivered[i]))
            .collect();
        self.settle_claims(alerts, &batch.claims, &delivered, &routed.first_body)
            .await;
        let (reached, missed): (Vec<_>, Vec<_>) = to_send
            .iter()
            .zip(&routed.delivered)
            .partition(|(_, delivered)| **delivered);
        if !reached.is_empty() {
            let reached: Vec<&PlannedAlert> = reached.into_iter().map(|(a, _)| *a).collect();
            self.remember_unguarded(alerts, &batch.claims, &reached);
            self.figures.sent += reached.len();
            let ids = reached.iter().map(|a| a.artifact_id.to_string());
            self.figures.alerted_artifacts.extend(ids);
        }
        self.figures.failed += missed.len();
        batch.held
    }

    /// One digest per channel of the alerts routed to it (every alert to every channel when
    /// `routing` is `None`), sent at once; says which alerts reached at least one channel.
    async fn send_routed(
        &mut self,
        to_send: &[&PlannedAlert],
        routing: Option<&AlertPolicy>,
        digest_of: &impl Fn(&[&PlannedAlert]) -> Digest,
    ) -> Routed {
        let per_channel: Vec<Vec<usize>> = self
            .alerter
            .channels
            .iter()
            .map(|c| {
                (0..to_send.len())
                    .filter(|&i| routing.is_none_or(|p| p.routes_to(c.name(), to_send[i].severity)))
                    .collect()
            })
            .collect();
        let digests: Vec<Option<Digest>> = per_channel
            .iter()
            .map(|indices| {
                let subset: Vec<&PlannedAlert> = indices.iter().map(|&i| to_send[i]).collect();
                (!subset.is_empty()).then(|| digest_of(&subset))
            })
            .collect();
        let sent = self
            .alerter
            .send_each(&digests, self.deadline, &mut self.reports)
            .await;
        let mut delivered = vec![false; to_send.len()];
        for (indices, reached) in per_channel.iter().zip(&sent) {
            if *reached {
                for &i in indices {
                    delivered[i] = true;
                }
            }
        }
        Routed {
            delivered,
            first_body: digests
                .into_iter()
                .flatten()
                .next()
                .map(|d| d.body)
                .unwrap_or_default(),
        }
    }

    /// Claims every alert's marker, a few at a time.
    async fn claim_all(
        &mut self,
        alerts: &[PlannedAlert],
        repeat: Repeat,
    ) -> Vec<(usize, ClaimOutcome)> {
        let (dedup, now) = (self.dedup, self.now);
        let outcomes: Vec<(usize, ClaimOutcome)> = stream::iter(alerts.iter().enumerate())
            .map(|(i, a)| async move { (i, dedup.claim(&a.dedup_key, now, repeat).await) })
            .buffer_unordered(MARKER_CONCURRENCY)
            .collect()
            .await;
        let failures: Vec<&StoreError> = outcomes
            .iter()
            .filter_map(|(_, o)| match o {
                ClaimOutcome::Failed(e) => Some(e),
                _ => None,
            })
            .collect();
        if let Some(first) = failures.first() {
            let n = failures.len();
            let message = format!(
                "dedup markers in {} could not be used for {n} alert{}: {first} (alerts are \
                 sent without dedup and may repeat)",
                S3Url(self.dedup.bucket(), &self.alerter.dedup_prefix),
                crate::text::plural(n),
            );
            self.note_dedup_error(message);
        }
        outcomes
    }

    /// Which alerts go out: those claimed here, and those whose marker could not be claimed
    /// at all unless this container already sent them (a repeated page beats none).
    fn sort_claims(
        &mut self,
        alerts: &[PlannedAlert],
        outcomes: Vec<(usize, ClaimOutcome)>,
        repeat: Repeat,
    ) -> Sending {
        let mut batch = Sending {
            claims: vec![None; alerts.len()],
            sending: vec![false; alerts.len()],
            unguarded: Vec::new(),
            held: Vec::new(),
        };
        for (i, claimed) in outcomes {
            match claimed {
                ClaimOutcome::Claimed(claim) => {
                    if claim.took_over {
                        tracing::warn!(
                            message = "took over an abandoned or unreadable dedup claim",
                            dedup_key = %claim.dedup_key,
                            marker = %claim.marker_key,
                        );
                    }
                    batch.claims[i] = Some(claim);
                    batch.sending[i] = true;
                }
                ClaimOutcome::Held(marker) => {
                    self.figures.deduplicated += 1;
                    if marker.publish_count > 0 {
                        self.figures
                            .held_artifacts
                            .push(alerts[i].artifact_id.to_string());
                    }
                    batch.held.push((i, marker));
                }
                ClaimOutcome::Failed(error) => {
                    let key = &alerts[i].dedup_key;
                    if !self.unguarded_repeat_due(key, repeat) {
                        tracing::warn!(
                            message = "dedup marker could not be claimed; this container already sent it",
                            dedup_key = %key,
                            error = %error,
                        );
                        self.figures.deduplicated += 1;
                        continue;
                    }
                    tracing::error!(
                        message = "dedup marker could not be claimed; sending anyway (it may repeat)",
                        dedup_key = %key,
                        bucket = %self.dedup.bucket(),
                        error = %error,
                    );
                    batch.unguarded.push(format!("{key}: {error}"));
                    batch.sending[i] = true;
                }
            }
        }
        batch
    }

    /// Whether an alert sent without a claim may go out again from this container.
    fn unguarded_repeat_due(&self, key: &str, repeat: Repeat) -> bool {
        let sent_at = self
            .alerter
            .unguarded_sent
            .lock()
            .expect("not poisoned")
            .get(key)
            .copied();
        match (sent_at, repeat) {
            (None, _) => true,
            (Some(_), Repeat::Never) => false,
            (Some(t), Repeat::After(window)) => self.now - t >= window,
        }
    }

    /// After sending: publish the claims (retried once) when the digest reached anyone,
    /// release them otherwise so the next pass retries. The markers are written together, a
    /// few at a time; their problems are noted in the alerts' order.
    async fn settle_claims(
        &mut self,
        alerts: &[PlannedAlert],
        claims: &[Option<Claim>],
        delivered: &[bool],
        digest_body: &str,
    ) {
        let (dedup, now) = (self.dedup, self.now);
        let settling =
            alerts
                .iter()
                .zip(claims)
                .zip(delivered)
                .filter_map(|((alert, claim), &delivered)| {
                    claim.as_ref().map(|c| (alert, c, delivered))
                });
        let results: Vec<(&Claim, bool, Result<(), StoreError>)> = stream::iter(settling)
            .map(|(alert, claim, delivered)| async move {
                let result = if delivered {
                    let text = match alert.text.is_empty() {
                        true => digest_body,
                        false => &alert.text,
                    };
                    let preview = digest::preview(text);
                    match dedup.publish(claim, now, &preview).await {
                        Err(_) => dedup.publish(claim, now, &preview).await,
                        ok => ok,
                    }
                } else {
                    dedup.release(claim).await
                };
                (claim, delivered, result)
            })
            .buffered(MARKER_CONCURRENCY)
            .collect()
            .await;
        for (claim, delivered, result) in results {
            if let Err(error) = result {
                self.claim_not_settled(claim, delivered, &error);
            }
        }
    }

    fn claim_not_settled(&mut self, claim: &Claim, delivered: bool, error: &StoreError) {
        let message = format!(
            "dedup marker {} could not be {}: {error}",
            S3Url(self.dedup.bucket(), &claim.marker_key),
            if delivered {
                "recorded after sending (the alert may repeat after 15 minutes)"
            } else {
                "released after a failed send (retried after 15 minutes)"
            }
        );
        self.note_dedup_error(message);
        tracing::error!(
            message = if delivered {
                "alert sent but its dedup marker could not be recorded; it may repeat \
                 after 15 minutes"
            } else {
                "alert not delivered and its claim could not be released; it will be \
                 retried after 15 minutes"
            },
            dedup_key = %claim.dedup_key,
            error = %error,
        );
    }

    /// The container remembers what it sent without a claim, so it does not repeat it while
    /// the marker store is down.
    fn remember_unguarded(
        &self,
        alerts: &[PlannedAlert],
        claims: &[Option<Claim>],
        to_send: &[&PlannedAlert],
    ) {
        let mut memory = self.alerter.unguarded_sent.lock().expect("not poisoned");
        for (alert, claim) in alerts.iter().zip(claims) {
            if claim.is_none() && to_send.iter().any(|a| a.dedup_key == alert.dedup_key) {
                memory.insert(alert.dedup_key.clone(), self.now);
            }
        }
    }

    /// The first dedup problem of the pass is the one the heartbeat shows.
    fn note_dedup_error(&mut self, message: String) {
        self.figures.dedup_error.get_or_insert(message);
    }

    /// RESOLVED notices: fresh rows whose alert went out this cycle, once each.
    async fn resolve(&mut self, rows: &[ResultRow], policy: &AlertPolicy, ledger: Option<&Ledger>) {
        if self.alerter.channels.is_empty() {
            return;
        }
        let (resolved, held) = self.claim_resolved(rows, ledger).await;
        self.figures.resolved_held_artifacts.extend(held);
        if resolved.is_empty() {
            return;
        }
        let rows: Vec<&ResultRow> = resolved.iter().map(|(r, _)| *r).collect();
        // Each channel hears of the artifacts whose alerts it could have received.
        let digests: Vec<Option<Digest>> = self
            .alerter
            .channels
            .iter()
            .map(|c| {
                let routed: Vec<&ResultRow> = rows
                    .iter()
                    .copied()
                    .filter(|r| resolved_routes_to(policy, c.name(), r))
                    .collect();
                (!routed.is_empty()).then(|| digest::resolved_digest(&routed, self.now))
            })
            .collect();
        let sent = self
            .alerter
            .send_each(&digests, self.deadline, &mut self.reports)
            .await;
        let delivered = sent.iter().any(|reached| *reached);
        let (dedup, now) = (self.dedup, self.now);
        let results: Vec<(&Claim, Result<(), StoreError>)> = stream::iter(&resolved)
            .map(|(row, claim)| async move {
                let result = if delivered {
                    let preview = digest::preview(&format!("RESOLVED {}", row.artifact_id));
                    dedup.publish(claim, now, &preview).await
                } else {
                    dedup.release(claim).await
                };
                (claim, result)
            })
            .buffered(MARKER_CONCURRENCY)
            .collect()
            .await;
        for (claim, result) in results {
            if let Err(error) = result {
                tracing::warn!(
                    message = "RESOLVED marker could not be updated",
                    dedup_key = %claim.dedup_key,
                    error = %error,
                );
            }
        }
        let ids = resolved.iter().map(|(r, _)| r.artifact_id.to_string());
        if delivered {
            self.figures.resolved += resolved.len();
            self.figures.resolved_artifacts.extend(ids);
        } else {
            self.figures.resolved_failed_artifacts.extend(ids);
        }
    }

    /// The fresh rows whose alert was published this cycle, each with its RESOLVED claim, and
    /// the artifacts whose RESOLVED notice a published marker already holds.
    async fn claim_resolved<'r>(
        &self,
        rows: &'r [ResultRow],
        ledger: Option<&Ledger>,
    ) -> (Vec<(&'r ResultRow, Claim)>, Vec<String>) {
        let (dedup, now) = (self.dedup, self.now);
        let candidates = digest::resolved_candidates(rows)
            .into_iter()
            .filter_map(|row| resolved_candidate(ledger, row));
        let found: Vec<ResolvedClaim<'r>> = stream::iter(candidates)
            .map(|(row, alert_known_out)| async move {
                let key = row.dedup_key()?;
                let key = &*key;
                if !alert_known_out && !alert_published(dedup, key).await {
                    return None;
                }
                match dedup
                    .claim(&digest::resolved_dedup_key(key), now, Repeat::Never)
                    .await
                {
                    ClaimOutcome::Claimed(claim) => Some(Ok((row, claim))),
                    ClaimOutcome::Held(marker) if marker.publish_count > 0 => {
                        Some(Err(row.artifact_id.to_string()))
                    }
                    ClaimOutcome::Held(_) => None,
                    ClaimOutcome::Failed(error) => {
                        // A RESOLVED notice that may repeat is noise; one that is skipped is
                        // harmless (the alert already went out). Skip it.
                        tracing::warn!(
                            message = "RESOLVED marker could not be claimed; notice skipped",
                            dedup_key = key,
                            error = %error,
                        );
                        None
                    }
                }
            })
            .buffered(MARKER_CONCURRENCY)
            .collect()
            .await;
        let mut claimed = Vec::new();
        let mut held = Vec::new();
        for result in found.into_iter().flatten() {
            match result {
                Ok(pair) => claimed.push(pair),
                Err(id) => held.push(id),
            }
        }
        (claimed, held)
    }
}

/// A RESOLVED claim made, or the id of an artifact whose notice is already out.
type ResolvedClaim<'r> = Option<Result<(&'r ResultRow, Claim), String>>;

/// Whether the alert of `dedup_key` was published (by either monitor), read from its marker.
/// A marker that cannot be read is taken as not published (no RESOLVED notice: harmless).
async fn alert_published<S: ObjectStore>(dedup: &DedupStore<'_, S>, dedup_key: &str) -> bool {
    match dedup.was_published(dedup_key).await {
        Ok(published) => published,
        Err(error) => {
            tracing::warn!(
                message = "could not check whether a fresh artifact had alerted",
                dedup_key,
                error = %error,
            );
            false
        }
    }
}

/// A fresh row that may deserve a RESOLVED notice, with whether the ledger says its alert is
/// out. An artifact seen at last after a never-written alert is asked of that alert's marker.
/// Otherwise, with a ledger that knows the artifact, only a cycle whose alert is out and whose
/// notice is not is a candidate (no marker read); an artifact the ledger does not know (or no
/// ledger) is asked of its marker.
fn resolved_candidate<'r>(
    ledger: Option<&Ledger>,
    row: &'r ResultRow,
) -> Option<(&'r ResultRow, bool)> {
    // An artifact alerted as never written, seen at last: its never-written alert's marker
    // decides, whichever cycle that alert went out in.
    if never_written::resolved_never_written_day(row).is_some() {
        return Some((row, false));
    }
    let Some(ledger) = ledger.filter(|l| l.artifacts.contains_key(&row.artifact_id)) else {
        return Some((row, false));
    };
    let entry = ledger.in_cycle(&row.artifact_id, row.cycle_label()?)?;
    (entry.alert_out && !entry.resolved_out).then_some((row, true))
}

/// The alerting artifacts whose alert for their current cycle the ledger says is out. A
/// never-written row is not among them: its dedup key changes daily within a cycle
/// (docs/alerts.md#never-written), so its marker decides.
fn alerts_known_out<'r>(ledger: &Ledger, rows: &'r [ResultRow]) -> HashSet<&'r str> {
    rows.iter()
        .filter(|r| r.alerting)
        .filter(|r| r.policy.as_ref().is_none_or(|p| !p.never_written))
        .filter(|r| {
            r.cycle_label()
                .and_then(|cycle| ledger.in_cycle(&r.artifact_id, cycle))
                .is_some_and(|e| e.alert_out)
        })
        .map(|r| &*r.artifact_id)
        .collect()
}
/// What `check` prints after its table: per channel, the digest a pass would send now
/// (before dedup), with the routes applied. Without dedup markers to write, no alert needs
/// its dedup key or preview: only the entries a digest tells are written
/// ([`digest::untold_alerts`]), so a million alerts cost their grouping, not their text.
pub fn would_send(outcome: &PassOutcome, channels: &[&str]) -> Vec<(String, Digest)> {
    let alerts = digest::untold_alerts(&outcome.rows);
    let policy = &outcome.alert_policy.policy;
    let rows = &outcome.rows;
    let entry = |a: &PlannedAlert| {
        Cow::Owned(
            a.row
                .map(|i| digest::alert_entry(&rows[i]))
                .unwrap_or_default(),
        )
    };
    channels
        .iter()
        .filter_map(|channel| {
            let routed: Vec<&PlannedAlert> = alerts
                .iter()
                .filter(|a| policy.routes_to(channel, a.severity))
                .collect();
            (!routed.is_empty()).then(|| {
                (
                    channel.to_string(),
                    digest::alert_digest_told(&routed, outcome.run_at, &entry),
                )
            })
        })
        .collect()
}
