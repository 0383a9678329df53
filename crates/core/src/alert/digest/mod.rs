//! What a pass would say (pure): which rows are new alerts, what the digest reads like, which
//! fresh rows may deserve a RESOLVED notice, and how a message is cut to a channel's limit.
//!
//! Everything here takes the rows and `now` and returns text, so what `check` prints and what
//! the Lambda sends are the same strings, and every formatting rule is unit-tested.

mod group;
mod tail;

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use crate::alert::policy::never_written;
use crate::classify::State;
use crate::registry::Severity;
use crate::report::ResultRow;
use crate::text::{minutes_text, one_line, plural, rfc3339};

/// Telegram's limit for one message's text (counted in UTF-16 code units, as Telegram does).
pub const TELEGRAM_MAX_UNITS: usize = 4096;
/// SNS accepts 256 KiB per message; the rest is kept for attributes and the subject.
pub const SNS_MAX_BYTES: usize = 250_000;
/// An SNS subject: at most 100 ASCII characters, on one line.
pub const SNS_SUBJECT_MAX: usize = 100;
/// The marker's `message_preview` is a preview, not the message.
pub const PREVIEW_MAX_CHARS: usize = 500;

/// The dedup key of the registry-error alert (one key, re-sent at most hourly).
pub const REGISTRY_ERROR_DEDUP_KEY: &str = "freshness_registry_error";

/// The one alert a pass that cannot read its registry plans.
pub fn registry_error_alert() -> PlannedAlert {
    PlannedAlert {
        dedup_key: REGISTRY_ERROR_DEDUP_KEY.to_string(),
        artifact_id: "registry".into(),
        severity: crate::registry::Severity::Critical,
        state: crate::classify::State::ProbeFailed,
        text: String::new(),
        owner: None,
        remind: false,
        folded_under: None,
        row: None,
    }
}

/// One new alert: one alerting row, with the line it contributes to the digest.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedAlert {
    pub dedup_key: String,
    /// Shared with its row (a digest of a million alerts copies no id).
    pub artifact_id: std::sync::Arc<str>,
    pub severity: Severity,
    pub state: State,
    /// The digest entry (several lines, no trailing newline).
    pub text: String,
    /// Shared with its row, as the id.
    pub owner: Option<std::sync::Arc<str>>,
    /// Reminders may follow it (the policy sends it and no acknowledgement holds it).
    pub remind: bool,
    /// The alerting upstream it is folded under in the digest (docs/alerts.md#dependencies).
    pub folded_under: Option<std::sync::Arc<str>>,
    /// The index of the row it was planned from, in the rows given to [`new_alerts`] or
    /// [`untold_alerts`] (`None` for the registry-error alert).
    pub row: Option<usize>,
}

/// What a digest is about; decides its heading and subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestKind {
    Alerts,
    Resolved,
    RegistryError,
}

/// One message for every channel: a subject (SNS), a body, and the worst severity in it
/// (critical pushes on Telegram, warning is silent).
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub kind: DigestKind,
    pub severity: Severity,
    pub subject: String,
    pub body: String,
    /// How many artifacts (or errors) the digest carries.
    pub n_items: usize,
}

/// The alerting rows the policy sends as alerts (all of them when no policy was applied),
/// worst severity first (registry order within a severity). Rows without a dedup key cannot
/// be deduplicated and are kept (never dropped): they get a key from their id and `now`'s
/// date.
pub fn new_alerts(rows: &[ResultRow], now: DateTime<Utc>) -> Vec<PlannedAlert> {
    let mut alerts = untold_alerts(rows);
    for alert in &mut alerts {
        let row = &rows[alert.row.expect("planned from a row")];
        alert.dedup_key = row
            .dedup_key()
            .map(String::from)
            .unwrap_or_else(|| format!("freshness_{}_{}", row.artifact_id, now.format("%Y-%m-%d")));
        alert.text = alert_entry(row);
    }
    alerts
}

/// The alerts of [`new_alerts`], in its order, without their dedup keys and digest entries
/// (both empty): what a digest needs to group, order and count them. `check` prints a digest
/// of a million alerts this way and writes the entries of the few it tells
/// ([`alert_digest_told`]), not ~0.3 KB of text for every alert.
pub fn untold_alerts(rows: &[ResultRow]) -> Vec<PlannedAlert> {
    let mut alerts: Vec<PlannedAlert> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.alerting)
        .filter(|(_, r)| {
            r.policy
                .as_ref()
                .is_none_or(|p| p.action == crate::alert::policy::PolicyAction::Send)
        })
        .map(|(i, r)| PlannedAlert {
            dedup_key: String::new(),
            artifact_id: std::sync::Arc::clone(&r.artifact_id),
            severity: r.alert_severity(),
            state: r.state,
            text: String::new(),
            owner: r.context.owner_repo.clone(),
            remind: r.policy.as_ref().is_some_and(|p| p.acknowledged.is_none()),
            folded_under: r.policy.as_ref().and_then(|p| p.folded_under.clone()),
            row: Some(i),
        })
        .collect();
    // Stable: registry order is kept within a severity.
    alerts.sort_by_key(|a| std::cmp::Reverse(a.severity));
    alerts
}

/// The digest entry of one alerting row: what, where, how late, whose, why.
pub fn alert_entry(row: &ResultRow) -> String {
    let severity = row.alert_severity().as_str().to_ascii_uppercase();
    let state = if crate::alert::policy::never_written::is_never_written(row) {
        "never written".to_string()
    } else {
        row.state.to_string()
    };
    let mut text = format!("[{severity}] {} {state}", row.artifact_id);
    if let Some(label) = row.cycle_label() {
        text.push_str(&format!(" (cycle {label})"));
    }
    text.push_str(&format!("\n  key: {}", key_of(row)));
    match row.state {
        State::Missing | State::Stale | State::Suspect => {
            let due = row
                .due_at()
                .map(|d| format!(" (due {})", rfc3339(d)))
                .unwrap_or_default();
            text.push_str(&format!(
                "\n  past SLA: {}{due}",
                minutes_text(row.sla_violated_by_minutes)
            ));
        }
        State::ProbeFailed => text.push_str("\n  past SLA: unknown, the monitor cannot see it"),
        State::Fresh | State::GracePeriod => {}
    }
    text.push_str(&format!(
        "\n  owner: {}",
        row.owner_repo().unwrap_or("unknown")
    ));
    text.push_str(&format!("\n  reason: {}", one_line(&row.reason())));
    if let Some(url) = row.carried().and_then(|c| c.runbook_url.as_deref()) {
        text.push_str(&format!("\n  runbook: {url}"));
    }
    if let Some(policy) = &row.policy {
        if policy.escalated {
            text.push_str(&format!(
                "\n  escalated: {} cycles missed in a row (declared {})",
                policy.missed_cycles,
                row.declared_alert_severity()
            ));
        }
        if let Some(ack) = &policy.acknowledged {
            text.push_str(&format!("\n  {}", ack.summary()));
        }
    }
    text
}

fn key_of(row: &ResultRow) -> String {
    match (row.s3_bucket(), &row.canonical_key) {
        (Some(bucket), Some(key)) => format!("s3://{bucket}/{key}"),
        (None, Some(key)) => key.to_string(),
        _ => "-".to_string(),
    }
}

/// The digest of a pass's new alerts (`alerts` non-empty, already ordered).
pub fn alert_digest(alerts: &[&PlannedAlert], now: DateTime<Utc>) -> Digest {
    alert_digest_told(alerts, now, &|a| Cow::Borrowed(&a.text))
}

/// [`alert_digest`], with each told entry's text from `entry` (asked for at most
/// 50 alerts, the entries a digest tells): the same digest from [`untold_alerts`] when `entry`
/// writes [`alert_entry`] of the alert's row.
pub fn alert_digest_told<'a>(
    alerts: &[&'a PlannedAlert],
    now: DateTime<Utc>,
    entry: &dyn Fn(&'a PlannedAlert) -> Cow<'a, str>,
) -> Digest {
    let severity = alerts
        .iter()
        .map(|a| a.severity)
        .max()
        .unwrap_or(Severity::Warning);
    let n = alerts.len();
    let critical = alerts
        .iter()
        .filter(|a| a.severity == Severity::Critical)
        .count();
    let mut body = format!(
        "freshness-monitor: {n} artifact{} alerting ({critical} critical, {} warning) at {}\n",
        plural(n),
        n - critical,
        rfc3339(now)
    );
    body.push_str(&group::render_groups(&group::group_alerts(alerts), entry));
    // The subject is cut at 100 characters: the first ids are all it can show.
    let ids: Vec<&str> = alerts
        .iter()
        .take(SNS_SUBJECT_MAX / 2)
        .map(|a| &*a.artifact_id)
        .collect();
    let subject = sns_subject(&format!(
        "[{}] freshness-monitor: {n} alerting: {}",
        severity.as_str().to_ascii_uppercase(),
        ids.join(", ")
    ));
    Digest {
        kind: DigestKind::Alerts,
        severity,
        subject,
        body: body.trim_end().to_string(),
        n_items: n,
    }
}

/// The dedup key of the reminders about an alert: one marker, re-claimed every interval.
pub fn reminder_dedup_key(alert_dedup_key: &str) -> String {
    format!("{alert_dedup_key}_reminder")
}

/// A reminder about `alert`, first sent at `first_sent`: the same entry, marked as such.
pub fn reminder(
    alert: &PlannedAlert,
    first_sent: DateTime<Utc>,
    now: DateTime<Utc>,
) -> PlannedAlert {
    let since = minutes_text((now - first_sent).num_minutes());
    PlannedAlert {
        dedup_key: reminder_dedup_key(&alert.dedup_key),
        text: format!(
            "[REMINDER] still alerting {since} after its alert ({})\n{}",
            rfc3339(first_sent),
            alert.text
        ),
        ..alert.clone()
    }
}

/// What an alert's dedup marker says about its sending (the shell reads the marker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentBefore {
    pub first_published_at: Option<DateTime<Utc>>,
    pub publish_count: u64,
}

/// The reminders due at `now`: alerts already sent (`held`: index into `alerts` and what its
/// marker says) that may be reminded about and went out at least `every` ago. Whether the last
/// reminder is recent enough to wait is the reminder marker's business (claimed with
/// `Repeat::After(every)`).
pub fn due_reminders(
    alerts: &[PlannedAlert],
    held: &[(usize, SentBefore)],
    every: chrono::Duration,
    now: DateTime<Utc>,
) -> Vec<PlannedAlert> {
    held.iter()
        .filter_map(|(i, marker)| {
            let alert = alerts.get(*i)?;
            let first = marker.first_published_at?;
            (alert.remind && marker.publish_count > 0 && now - first >= every)
                .then(|| reminder(alert, first, now))
        })
        .collect()
}

/// What a digest adds when some of its alerts could not be deduplicated (their markers could
/// not be written: `unguarded` names each, `key: error`), so a repeat is not a surprise.
pub fn unguarded_note(unguarded: &[String]) -> String {
    format!(
        "\n\n(dedup markers could not be written for {} of these, so they may repeat: {})",
        unguarded.len(),
        unguarded.join("; ")
    )
}

/// The digest of reminders: an alert digest, said to be one.
pub fn reminder_digest(alerts: &[&PlannedAlert], now: DateTime<Utc>) -> Digest {
    let mut digest = alert_digest(alerts, now);
    digest.body = format!("REMINDER: {}", digest.body);
    digest.subject = sns_subject(&format!("[REMINDER] {}", digest.subject));
    digest
}

/// Fresh rows of an identified cycle: the ones that may have alerted earlier in their cycle.
pub fn resolved_candidates(rows: &[ResultRow]) -> Vec<&ResultRow> {
    rows.iter()
        .filter(|r| r.state == State::Fresh && r.dedup_key().is_some() && r.cycle_label().is_some())
        .collect()
}

/// The dedup key of the RESOLVED notice for an alert's key: its own marker, so the notice
/// goes out once however many passes see the artifact fresh.
pub fn resolved_dedup_key(alert_dedup_key: &str) -> String {
    format!("{alert_dedup_key}_resolved")
}

/// The RESOLVED notice for rows that alerted this cycle and are fresh now (non-empty).
/// Warning severity: good news does not need to wake anyone.
/// An artifact seen at last after a never-written alert says so, whichever cycle that was in.
pub fn resolved_digest(rows: &[&ResultRow], now: DateTime<Utc>) -> Digest {
    let n = rows.len();
    let never_written_day = never_written::resolved_never_written_day;
    let when = if rows.iter().any(|r| never_written_day(r).is_some()) {
        ""
    } else if n == 1 {
        " in its cycle"
    } else {
        " in their cycle"
    };
    let mut body = format!(
        "RESOLVED: {n} artifact{} alerted earlier{when} and {} fresh now ({})\n",
        plural(n),
        if n == 1 { "is" } else { "are" },
        rfc3339(now)
    );
    for row in rows.iter().take(group::ENTRIES_NAMED) {
        let was = never_written_day(row)
            .map(|day| format!("  was: never written (alerted {day}); written at last\n"))
            .unwrap_or_default();
        body.push_str(&format!(
            "\n[RESOLVED] {} fresh (cycle {})\n{was}  key: {}\n  owner: {}\n  reason: {}\n",
            row.artifact_id,
            row.cycle_label().unwrap_or("-"),
            key_of(row),
            row.owner_repo().unwrap_or("unknown"),
            one_line(&row.reason())
        ));
    }
    if let Some(more) = n.checked_sub(group::ENTRIES_NAMED).filter(|m| *m > 0) {
        body.push_str(&format!(
            "\n… and {more} more fresh again, not told here (each is a row of \
             check_results.json and of the status page)\n"
        ));
    }
    let ids: Vec<&str> = rows
        .iter()
        .take(SNS_SUBJECT_MAX / 2)
        .map(|r| &*r.artifact_id)
        .collect();
    Digest {
        kind: DigestKind::Resolved,
        severity: Severity::Warning,
        subject: sns_subject(&format!("[RESOLVED] freshness-monitor: {}", ids.join(", "))),
        body: body.trim_end().to_string(),
        n_items: n,
    }
}

/// The registry could not be read or parsed: nothing is being watched.
pub fn registry_error_digest(error: &str, now: DateTime<Utc>) -> Digest {
    Digest {
        kind: DigestKind::RegistryError,
        severity: Severity::Critical,
        subject: sns_subject("[CRITICAL] freshness-monitor: the registry cannot be used"),
        body: format!(
            "[CRITICAL] freshness-monitor cannot use its registry ({}): no artifact is being \
             checked until this is fixed.\n  reason: {}\n(repeated at most once an hour while \
             it lasts)",
            rfc3339(now),
            one_line(error)
        ),
        n_items: 1,
    }
}

/// An SNS subject: printable ASCII only (others become `?`), one line, at most 100
/// characters (cut with `...`). SNS rejects anything else, and a rejected publish is a lost
/// alert.
pub fn sns_subject(text: &str) -> String {
    let ascii: String = one_line(text)
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if ascii.len() <= SNS_SUBJECT_MAX {
        ascii
    } else {
        format!("{}...", ascii[..SNS_SUBJECT_MAX - 3].trim_end())
    }
}

/// Telegram counts a message's length in UTF-16 code units.
pub fn utf16_units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Cuts `text` into parts of at most `limit` (as measured by `measure`), at line breaks when
/// a line fits and inside a line only when one line alone is too long. When there is more
/// than one part, each starts with `[part k/n]` (the room for it is kept).
pub fn split_message(text: &str, limit: usize, measure: fn(&str) -> usize) -> Vec<String> {
    if measure(text) <= limit {
        return vec![text.to_string()];
    }
    const HEADER_ROOM: usize = 24;
    let room = limit.saturating_sub(HEADER_ROOM).max(1);
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if measure(&current) + measure(line) <= room {
            current.push_str(line);
            continue;
        }
        if !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        if measure(line) <= room {
            current.push_str(line);
            continue;
        }
        // One line longer than a part: cut it at character boundaries.
        for c in line.chars() {
            let mut buf = [0u8; 4];
            let c_str: &str = c.encode_utf8(&mut buf);
            if measure(&current) + measure(c_str) > room {
                parts.push(std::mem::take(&mut current));
            }
            current.push(c);
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    let n = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| format!("[part {}/{n}]\n{}", i + 1, p.trim_end_matches('\n')))
        .collect()
}

/// The marker's preview of a message: its first characters.
pub fn preview(text: &str) -> String {
    if text.chars().count() <= PREVIEW_MAX_CHARS {
        text.to_string()
    } else {
        let cut: String = text.chars().take(PREVIEW_MAX_CHARS - 3).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 30, 14, 0, 0).unwrap()
    }

    fn row(id: &str, state: State, severity: Severity, alerting: bool) -> ResultRow {
        ResultRow {
            artifact_id: id.to_string().into(),
            context: std::sync::Arc::new(crate::report::RowContext {
                owner_repo: Some("backtester".into()),
                cadence: Some("saturday_sf".into()),
                cycle_label: Some("2026-W22".into()),
                cycle_tick: Some(Utc.with_ymd_and_hms(2026, 5, 30, 9, 0, 0).unwrap()),
                s3_bucket: Some("research-bucket".into()),
            }),
            severity: Some(severity),
            canonical_key: Some(format!("backtest/2026-05-30/{id}.json").into()),
            state,
            reason: "no object at the key".into(),
            last_modified: None,
            sla_violated_by_minutes: if alerting && state != State::ProbeFailed {
                95
            } else {
                0
            },
            recovery_substituted: false,
            due_at: Some(Utc.with_ymd_and_hms(2026, 5, 30, 12, 25, 0).unwrap().into()),
            alerting,
            last_probed_at: None,
            carried: None,
            policy: None,
            awaiting_event: false,
            extras: None,
        }
    }

    #[test]
    fn only_alerting_rows_become_alerts_worst_severity_first() {
        let rows = vec![
            row("a_warn", State::Missing, Severity::Warning, true),
            row("b_fresh", State::Fresh, Severity::Critical, false),
            row("c_crit", State::Stale, Severity::Critical, true),
            row("d_probe", State::ProbeFailed, Severity::Warning, true),
            row("e_warn", State::Missing, Severity::Warning, true),
        ];
        let alerts = new_alerts(&rows, now());
        let ids: Vec<&str> = alerts.iter().map(|a| &*a.artifact_id).collect();
        assert_eq!(ids, ["c_crit", "d_probe", "a_warn", "e_warn"]);
        assert_eq!(
            alerts[1].severity,
            Severity::Critical,
            "probe_failed is always critical"
        );
        assert_eq!(alerts[0].dedup_key, "freshness_c_crit_2026-W22");
    }

    #[test]
    fn an_entry_names_artifact_state_key_lateness_owner_and_reason() {
        let text = alert_entry(&row("pit_parity", State::Missing, Severity::Critical, true));
        assert_eq!(
            text,
            "[CRITICAL] pit_parity missing (cycle 2026-W22)\n  key: \
             s3://research-bucket/backtest/2026-05-30/pit_parity.json\n  past SLA: 1h 35m \
             (due 2026-05-30T12:25:00Z)\n  owner: backtester\n  reason: no object at the key"
        );
    }

    #[test]
    fn an_entry_gives_the_artifacts_runbook_after_its_reason() {
        let mut with = row("pit_parity", State::Missing, Severity::Critical, true);
        #[allow(clippy::needless_update)] // right whatever the table carries to the row
        let carried = crate::registry::CarriedFields {
            runbook_url: Some("https://wiki.example/runbooks/pit_parity".into()),
            ..Default::default()
        };
        with.carried = Some(std::sync::Arc::new(carried));
        assert!(
            alert_entry(&with).ends_with(
                "\n  reason: no object at the key\n  runbook: \
                 https://wiki.example/runbooks/pit_parity"
            ),
            "{}",
            alert_entry(&with)
        );
    }

    #[test]
    fn the_digest_lists_every_alert_and_takes_the_worst_severity() {
        let rows = vec![
            row("a", State::Missing, Severity::Warning, true),
            row("b", State::Missing, Severity::Critical, true),
            row("c", State::Stale, Severity::Warning, true),
        ];
        let alerts = new_alerts(&rows, now());
        let refs: Vec<&PlannedAlert> = alerts.iter().collect();
        let digest = alert_digest(&refs, now());
        assert_eq!(digest.severity, Severity::Critical);
        assert_eq!(digest.n_items, 3);
        assert!(digest.body.starts_with(
            "freshness-monitor: 3 artifacts alerting (1 critical, 2 warning) at 2026-05-30T14:00:00Z"
        ));
        for id in [
            "[CRITICAL] b missing",
            "[WARNING] a missing",
            "[WARNING] c stale",
        ] {
            assert!(digest.body.contains(id), "{id} in {}", digest.body);
        }
        assert_eq!(
            digest.subject,
            "[CRITICAL] freshness-monitor: 3 alerting: b, a, c"
        );
        let warn_only = alert_digest(&refs[1..], now());
        assert_eq!(warn_only.severity, Severity::Warning);
    }

    #[test]
    fn a_digest_of_untold_alerts_writes_only_the_entries_it_tells_and_reads_the_same() {
        // 120 separate alerts and a root with 30 folded under it: 50 entries are told.
        let mut rows: Vec<ResultRow> = (0..120)
            .map(|i| {
                let severity = [Severity::Warning, Severity::Critical][i % 2];
                row(&format!("a{i:03}"), State::Missing, severity, true)
            })
            .collect();
        rows.push(row("fresh", State::Fresh, Severity::Critical, false));
        for i in 0..30 {
            let mut down = row(&format!("d{i:02}"), State::Stale, Severity::Warning, true);
            down.policy = Some(Box::new(crate::report::RowPolicy {
                action: crate::report::PolicyAction::Send,
                observe: true,
                effective_severity: Severity::Warning,
                missed_cycles: 1,
                escalated: false,
                never_written: false,
                silenced: None,
                acknowledged: None,
                folded_under: Some("a000".into()),
                channels: vec!["sns"],
                rule: "sent; folded under a000".to_string(),
            }));
            rows.push(down);
        }
        let sent = new_alerts(&rows, now());
        let sent_refs: Vec<&PlannedAlert> = sent.iter().collect();
        let untold = untold_alerts(&rows);
        assert!(
            untold
                .iter()
                .all(|a| a.text.is_empty() && a.dedup_key.is_empty())
        );
        let untold_refs: Vec<&PlannedAlert> = untold.iter().collect();
        let written = std::cell::Cell::new(0);
        let entry = |a: &PlannedAlert| {
            written.set(written.get() + 1);
            Cow::Owned(alert_entry(&rows[a.row.unwrap()]))
        };
        assert_eq!(
            alert_digest_told(&untold_refs, now(), &entry),
            alert_digest(&sent_refs, now())
        );
        assert_eq!(written.get(), group::ENTRIES_NAMED);
    }

    #[test]
    fn subjects_are_ascii_one_line_and_at_most_100_characters() {
        let long = format!("[CRITICAL] ünïcode\nnewline {}", "x".repeat(300));
        let subject = sns_subject(&long);
        assert!(subject.len() <= 100, "{}", subject.len());
        assert!(subject.is_ascii());
        assert!(!subject.contains('\n'));
        assert!(subject.starts_with("[CRITICAL] ?n?code newline xxx"));
        assert!(subject.ends_with("..."));
        assert_eq!(sns_subject("short"), "short");
    }

    #[test]
    fn a_message_that_fits_is_one_part() {
        let text = "a\nb";
        assert_eq!(
            split_message(text, 4096, utf16_units),
            vec![text.to_string()]
        );
    }

    #[test]
    fn a_long_digest_is_cut_at_lines_into_parts_within_the_limit() {
        let line = format!("{}\n", "y".repeat(99));
        let text = line.repeat(41); // 4100 units
        assert_eq!(utf16_units(&text), 4100);
        let parts = split_message(&text, TELEGRAM_MAX_UNITS, utf16_units);
        assert_eq!(parts.len(), 2);
        for (i, part) in parts.iter().enumerate() {
            assert!(utf16_units(part) <= TELEGRAM_MAX_UNITS);
            assert!(part.starts_with(&format!("[part {}/2]\n", i + 1)));
        }
        let rejoined: String = parts
            .iter()
            .map(|p| p.split_once('\n').unwrap().1.to_string() + "\n")
            .collect();
        assert_eq!(rejoined, text, "nothing is lost or reordered");
    }

    #[test]
    fn one_overlong_line_is_cut_inside_and_astral_characters_count_double() {
        let text = "😀".repeat(3000); // 6000 UTF-16 units on one line
        let parts = split_message(&text, TELEGRAM_MAX_UNITS, utf16_units);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| utf16_units(p) <= TELEGRAM_MAX_UNITS));
        let emojis: usize = parts
            .iter()
            .map(|p| p.chars().filter(|c| *c == '😀').count())
            .sum();
        assert_eq!(emojis, 3000);
        let bytes = split_message(&"é".repeat(200), 100, str::len);
        assert!(bytes.iter().all(|p| p.len() <= 100));
    }

    #[test]
    fn a_resolved_never_written_artifact_says_what_it_was() {
        let mut ghost = row("ghost", State::Fresh, Severity::Critical, false);
        ghost.set_dedup_key("freshness_ghost_never_written_2026-05-30".into());
        let digest = resolved_digest(&[&ghost], now());
        assert!(
            digest
                .body
                .starts_with("RESOLVED: 1 artifact alerted earlier and is fresh now ("),
            "{}",
            digest.body
        );
        assert!(
            digest.body.contains(
                "[RESOLVED] ghost fresh (cycle 2026-W22)\n  was: never written (alerted \
                 2026-05-30); written at last\n  key: "
            ),
            "{}",
            digest.body
        );
    }

    #[test]
    fn a_resolved_digest_tells_its_first_rows_and_counts_the_rest() {
        let rows: Vec<ResultRow> = (0..10_000)
            .map(|i| row(&format!("r{i}"), State::Fresh, Severity::Warning, false))
            .collect();
        let refs: Vec<&ResultRow> = rows.iter().collect();
        let digest = resolved_digest(&refs, now());
        assert!(digest.body.contains("[RESOLVED] r49 fresh"));
        assert!(!digest.body.contains("[RESOLVED] r50 "));
        assert!(
            digest.body.ends_with(
                "… and 9950 more fresh again, not told here (each is a row of \
                 check_results.json and of the status page)"
            ),
            "{}",
            digest.body
        );
        assert_eq!(digest.n_items, 10_000);
        assert!(
            digest
                .subject
                .starts_with("[RESOLVED] freshness-monitor: r0, r1, ")
        );
    }

    #[test]
    fn resolved_candidates_are_fresh_rows_with_a_cycle() {
        let mut no_cycle = row("n", State::Fresh, Severity::Critical, false);
        no_cycle.context_mut().cycle_label = None;
        let rows = vec![
            row("f", State::Fresh, Severity::Critical, false),
            row("m", State::Missing, Severity::Critical, true),
            row("g", State::GracePeriod, Severity::Critical, false),
            no_cycle,
        ];
        let ids: Vec<&str> = resolved_candidates(&rows)
            .iter()
            .map(|r| &*r.artifact_id)
            .collect();
        assert_eq!(ids, ["f"]);
        let digest = resolved_digest(&resolved_candidates(&rows), now());
        assert_eq!(digest.kind, DigestKind::Resolved);
        assert_eq!(digest.severity, Severity::Warning);
        assert!(digest.body.contains("[RESOLVED] f fresh (cycle 2026-W22)"));
        assert_eq!(
            resolved_dedup_key("freshness_f_2026-W22"),
            "freshness_f_2026-W22_resolved"
        );
    }

    #[test]
    fn previews_are_bounded() {
        assert_eq!(preview("short"), "short");
        let p = preview(&"z".repeat(2000));
        assert_eq!(p.chars().count(), PREVIEW_MAX_CHARS);
        assert!(p.ends_with("..."));
    }
}
