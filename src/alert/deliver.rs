//! One pass's alert delivery: claim, send one digest per channel, then record or release.
//!
//! The order is what keeps the two promises of docs/alerts.md#dedup. *Never page twice*: a key is claimed
//! (conditional create of its marker) before anything is sent, and only the pass holding the
//! claim sends. *Never drop silently*: a claim whose digest reached no channel is released so
//! the next pass retries; a key whose marker cannot be claimed at all (the store failing) is
//! sent anyway, flagged as possibly repeating, because a repeated page is better than none;
//! and every failure is in the returned figures (the heartbeat) and in an error log line.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream;
use tokio::time::Instant;

use super::channel::{AlertChannel, ChannelError};
use super::dedup::{Claim, ClaimOutcome, DedupStore, Repeat};
use super::plan::{self, Digest, PlannedAlert};
use crate::pass::PassOutcome;
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

    /// Delivers the pass's alerts (nothing but counting in observe mode). `deadline`: sends
    /// give up then, so the outputs can still be written.
    pub async fn deliver<S: ObjectStore>(
        &self,
        store: &S,
        outcome: &PassOutcome,
        deadline: Option<Instant>,
    ) -> AlertFigures {
        let mut figures = AlertFigures {
            would_alert: outcome.alerting_rows().count()
                + usize::from(outcome.registry_error.is_some()),
            ..AlertFigures::default()
        };
        if !outcome.alerts_enabled {
            return figures;
        }
        let now = outcome.run_at;
        let dedup = DedupStore::new(store, self.dedup_bucket.clone(), self.dedup_prefix.clone());
        let mut reports: Vec<ChannelReport> = self
            .channels
            .iter()
            .map(|c| ChannelReport {
                channel: c.name().to_string(),
                ..ChannelReport::default()
            })
            .collect();

        if let Some(error) = &outcome.registry_error {
            let alert = PlannedAlert {
                dedup_key: plan::REGISTRY_ERROR_DEDUP_KEY.to_string(),
                artifact_id: "registry".to_string(),
                severity: crate::registry::Severity::Critical,
                state: crate::classify::State::ProbeFailed,
                text: String::new(),
            };
            let digest = plan::registry_error_digest(error, now);
            self.claim_and_send(
                &dedup,
                &[alert],
                Repeat::After(REGISTRY_ERROR_REPEAT),
                |_| digest.clone(),
                now,
                deadline,
                &mut figures,
                &mut reports,
            )
            .await;
        }

        let alerts = plan::new_alerts(&outcome.rows, now);
        if !alerts.is_empty() {
            self.claim_and_send(
                &dedup,
                &alerts,
                Repeat::Never,
                |sending| plan::alert_digest(sending, now),
                now,
                deadline,
                &mut figures,
                &mut reports,
            )
            .await;
        }

        self.resolve(
            &dedup,
            &outcome.rows,
            now,
            deadline,
            &mut figures,
            &mut reports,
        )
        .await;
        figures.channels = if figures.sent + figures.failed + figures.resolved > 0 {
            reports
        } else {
            Vec::new()
        };
        figures
    }

    /// Claims each alert's key, sends one digest of the claimed ones, then publishes or
    /// releases the claims. Counts into `figures` (`sent`, `deduplicated`, `failed`).
    #[allow(clippy::too_many_arguments)]
    async fn claim_and_send<S: ObjectStore>(
        &self,
        dedup: &DedupStore<'_, S>,
        alerts: &[PlannedAlert],
        repeat: Repeat,
        digest_of: impl FnOnce(&[&PlannedAlert]) -> Digest,
        now: DateTime<Utc>,
        deadline: Option<Instant>,
        figures: &mut AlertFigures,
        reports: &mut [ChannelReport],
    ) {
        if self.channels.is_empty() {
            figures.failed += alerts.len();
            tracing::error!(
                message = "alerts are enabled but no channel is configured \
                           (set SNS_TOPIC_ARN and/or TELEGRAM_BOT_TOKEN_PARAM and \
                           TELEGRAM_CHAT_ID_PARAM)",
                undelivered = alerts.len(),
            );
            return;
        }
        let outcomes: Vec<(usize, ClaimOutcome)> = stream::iter(alerts.iter().enumerate())
            .map(|(i, a)| async move { (i, dedup.claim(&a.dedup_key, now, repeat).await) })
            .buffer_unordered(MARKER_CONCURRENCY)
            .collect()
            .await;
        let mut claims: Vec<Option<Claim>> = vec![None; alerts.len()];
        let mut sending = vec![false; alerts.len()];
        let mut unguarded: Vec<String> = Vec::new();
        let failures: Vec<&StoreError> = outcomes
            .iter()
            .filter_map(|(_, o)| match o {
                ClaimOutcome::Failed(e) => Some(e),
                _ => None,
            })
            .collect();
        if let Some(first) = failures.first() {
            let n = failures.len();
            figures.dedup_error.get_or_insert_with(|| {
                format!(
                    "dedup markers in {} could not be used for {n} alert{}: {first} (alerts are \
                     sent without dedup and may repeat)",
                    S3Url(dedup.bucket(), &self.dedup_prefix),
                    if n == 1 { "" } else { "s" },
                )
            });
        }
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
                    claims[i] = Some(claim);
                    sending[i] = true;
                }
                ClaimOutcome::Held(_) => figures.deduplicated += 1,
                ClaimOutcome::Failed(error) => {
                    let key = &alerts[i].dedup_key;
                    let sent_at = self
                        .unguarded_sent
                        .lock()
                        .expect("not poisoned")
                        .get(key)
                        .copied();
                    let repeat_due = match (sent_at, repeat) {
                        (None, _) => true,
                        (Some(_), Repeat::Never) => false,
                        (Some(t), Repeat::After(window)) => now - t >= window,
                    };
                    if !repeat_due {
                        tracing::warn!(
                            message = "dedup marker could not be claimed; this container already sent it",
                            dedup_key = %key,
                            error = %error,
                        );
                        figures.deduplicated += 1;
                        continue;
                    }
                    tracing::error!(
                        message = "dedup marker could not be claimed; sending anyway (it may repeat)",
                        dedup_key = %alerts[i].dedup_key,
                        bucket = %dedup.bucket(),
                        error = %error,
                    );
                    unguarded.push(format!("{}: {error}", alerts[i].dedup_key));
                    sending[i] = true;
                }
            }
        }
        let to_send: Vec<&PlannedAlert> = alerts
            .iter()
            .zip(&sending)
            .filter(|(_, s)| **s)
            .map(|(a, _)| a)
            .collect();
        if to_send.is_empty() {
            return;
        }
        let mut digest = digest_of(&to_send);
        if !unguarded.is_empty() {
            digest.body.push_str(&format!(
                "\n\n(dedup markers could not be written for {} of these, so they may repeat: \
                 {})",
                unguarded.len(),
                unguarded.join("; ")
            ));
        }
        let sent = self.send_everywhere(&digest, deadline, reports).await;
        let delivered = sent.reached_anyone();
        for (alert, claim) in alerts.iter().zip(&claims) {
            let Some(claim) = claim else { continue };
            let preview = plan::preview(if alert.text.is_empty() {
                &digest.body
            } else {
                &alert.text
            });
            let result = if delivered {
                let first = dedup.publish(claim, now, &preview).await;
                match first {
                    Err(_) => dedup.publish(claim, now, &preview).await,
                    ok => ok,
                }
            } else {
                dedup.release(claim).await
            };
            if let Err(error) = result {
                figures.dedup_error.get_or_insert_with(|| {
                    format!(
                        "dedup marker {} could not be {}: {error}",
                        S3Url(dedup.bucket(), &claim.marker_key),
                        if delivered {
                            "recorded after sending (the alert may repeat after 15 minutes)"
                        } else {
                            "released after a failed send (retried after 15 minutes)"
                        }
                    )
                });
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
        }
        if delivered {
            let mut memory = self.unguarded_sent.lock().expect("not poisoned");
            for (alert, claim) in alerts.iter().zip(&claims) {
                if claim.is_none() && to_send.iter().any(|a| a.dedup_key == alert.dedup_key) {
                    memory.insert(alert.dedup_key.clone(), now);
                }
            }
            drop(memory);
            figures.sent += to_send.len();
        } else {
            figures.failed += to_send.len();
        }
    }

    /// RESOLVED notices: fresh rows whose alert went out this cycle, once each.
    async fn resolve<S: ObjectStore>(
        &self,
        dedup: &DedupStore<'_, S>,
        rows: &[ResultRow],
        now: DateTime<Utc>,
        deadline: Option<Instant>,
        figures: &mut AlertFigures,
        reports: &mut [ChannelReport],
    ) {
        if self.channels.is_empty() {
            return;
        }
        let candidates = plan::resolved_candidates(rows);
        let found: Vec<Option<(&ResultRow, Claim)>> = stream::iter(candidates)
            .map(|row| async move {
                let key = row.dedup_key.as_deref()?;
                match dedup.was_published(key).await {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(error) => {
                        tracing::warn!(
                            message = "could not check whether a fresh artifact had alerted",
                            dedup_key = key,
                            error = %error,
                        );
                        return None;
                    }
                }
                match dedup
                    .claim(&plan::resolved_dedup_key(key), now, Repeat::Never)
                    .await
                {
                    ClaimOutcome::Claimed(claim) => Some((row, claim)),
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
        let resolved: Vec<(&ResultRow, Claim)> = found.into_iter().flatten().collect();
        if resolved.is_empty() {
            return;
        }
        let rows: Vec<&ResultRow> = resolved.iter().map(|(r, _)| *r).collect();
        let digest = plan::resolved_digest(&rows, now);
        let sent = self.send_everywhere(&digest, deadline, reports).await;
        let delivered = sent.reached_anyone();
        for (row, claim) in &resolved {
            let result = if delivered {
                dedup
                    .publish(
                        claim,
                        now,
                        &plan::preview(&format!("RESOLVED {}", row.artifact_id)),
                    )
                    .await
            } else {
                dedup.release(claim).await
            };
            if let Err(error) = result {
                tracing::warn!(
                    message = "RESOLVED marker could not be updated",
                    dedup_key = %claim.dedup_key,
                    error = %error,
                );
            }
        }
        if delivered {
            figures.resolved += resolved.len();
        }
    }

    /// One digest to every channel at once; each result is logged and added to `reports`.
    async fn send_everywhere(
        &self,
        digest: &Digest,
        deadline: Option<Instant>,
        reports: &mut [ChannelReport],
    ) -> Sent {
        let results: Vec<(&'static str, Result<usize, ChannelError>)> =
            join_all(self.channels.iter().map(|channel| async move {
                (channel.name(), channel.send(digest, deadline).await)
            }))
            .await;
        for ((name, result), report) in results.iter().zip(reports.iter_mut()) {
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
        Sent { results }
    }
}

/// What `check` prints after its table: the digest a pass would send now (before dedup).
pub fn would_send(rows: &[ResultRow], now: DateTime<Utc>) -> Option<Digest> {
    let alerts = plan::new_alerts(rows, now);
    if alerts.is_empty() {
        return None;
    }
    let refs: Vec<&PlannedAlert> = alerts.iter().collect();
    Some(plan::alert_digest(&refs, now))
}
