//! Never written (docs/alerts.md#never-written): a missing artifact whose key has never
//! existed in any cycle is most likely a wrong template or a producer that never ran, not a
//! late one. One listing of the template's fixed prefix tells (once: the answer is remembered
//! in the ledger); such a row gets its own message and alerts at most once a day.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::classify::State;
use crate::ledger::Ledger;
use crate::registry::Registry;
use crate::report::ResultRow;

/// A prefix to list: an artifact missing now that the ledger does not know to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixCheck {
    pub artifact_id: String,
    pub bucket: String,
    pub prefix: String,
}

/// What the pass learned: the artifacts that are never written, and the listings made (for
/// the ledger: `(id, found anything)`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NeverWritten {
    /// Id → the prefix listed (`s3://bucket/prefix`).
    pub ids: HashMap<String, String>,
    pub listings: Vec<(String, bool)>,
}

/// Splits the missing rows the ledger knows nothing written about: those it already
/// remembers as never written (no listing needed) and those whose prefix must be listed.
/// Without a ledger nothing is judged (a first pass knows no history).
pub fn plan_checks(
    registry: &Registry,
    rows: &[ResultRow],
    ledger: Option<&Ledger>,
) -> (HashMap<String, String>, Vec<PrefixCheck>) {
    let (mut known, mut to_list) = (HashMap::new(), Vec::new());
    let Some(ledger) = ledger else {
        return (known, to_list);
    };
    let missing: HashSet<&str> = rows
        .iter()
        .filter(|r| r.state == State::Missing)
        .map(|r| &*r.artifact_id)
        .collect();
    if missing.is_empty() {
        return (known, to_list);
    }
    for spec in registry.valid_artifacts() {
        if !missing.contains(spec.id.as_str()) {
            continue;
        }
        match ledger.artifacts.get(spec.id.as_str()) {
            Some(entry) if entry.written => {}
            Some(entry) if entry.never_written_since.is_some() => {
                let prefix = spec.s3_key_template.fixed_prefix();
                let location = format!("s3://{}/{prefix}", spec.s3_bucket);
                known.insert(spec.id.to_string(), location);
            }
            _ => to_list.push(PrefixCheck {
                artifact_id: spec.id.to_string(),
                bucket: spec.s3_bucket.to_string(),
                prefix: spec.s3_key_template.fixed_prefix().to_string(),
            }),
        }
    }
    (known, to_list)
}

/// At most this many distinct prefixes are listed per pass: a first pass over a big registry
/// with many missing artifacts spreads its listings over the next passes (the rest stay plain
/// missing until their turn) instead of delaying this one.
pub const MAX_PREFIX_LISTINGS_PER_PASS: usize = 200;

/// One distinct prefix to list, with the artifacts whose template starts there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixToList {
    pub bucket: String,
    pub prefix: String,
    pub artifact_ids: Vec<String>,
}

/// The distinct prefixes of `checks`, at most [`MAX_PREFIX_LISTINGS_PER_PASS`] of them, in
/// the order first named: what the pass lists (one page of one key: anything there at all?).
pub fn distinct_prefixes(checks: Vec<PrefixCheck>) -> Vec<PrefixToList> {
    let mut by_prefix: Vec<PrefixToList> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for c in checks {
        let place = (c.bucket, c.prefix);
        let at = match index.get(&place) {
            Some(&at) => at,
            None if by_prefix.len() == MAX_PREFIX_LISTINGS_PER_PASS => continue,
            None => {
                index.insert(place.clone(), by_prefix.len());
                by_prefix.push(PrefixToList {
                    bucket: place.0,
                    prefix: place.1,
                    artifact_ids: Vec::new(),
                });
                by_prefix.len() - 1
            }
        };
        by_prefix[at].artifact_ids.push(c.artifact_id);
    }
    by_prefix
}

/// What the listings said: for each listed prefix, whether it held anything (`None`: the
/// listing failed and judges nothing, the artifact stays plain missing), folded with what the
/// ledger already `known`.
pub fn judge_listings(
    known: HashMap<String, String>,
    listed: Vec<(PrefixToList, Option<bool>)>,
) -> NeverWritten {
    let mut found = NeverWritten {
        ids: known,
        listings: Vec::new(),
    };
    for (place, result) in listed {
        let Some(any) = result else { continue };
        let location = format!("s3://{}/{}", place.bucket, place.prefix);
        for id in place.artifact_ids {
            if !any {
                found.ids.insert(id.clone(), location.clone());
            }
            found.listings.push((id, any));
        }
    }
    found
}

/// How a never-written row's reason starts (what the digest and `policy` key on).
pub const NEVER_WRITTEN: &str = "never written";

/// Whether a row was marked never written by [`mark_rows`].
pub fn is_never_written(row: &ResultRow) -> bool {
    row.state == State::Missing && row.reason().starts_with(NEVER_WRITTEN)
}

/// The dedup key of a never-written alert: one a day.
pub fn never_written_dedup_key(id: &str, now: DateTime<Utc>) -> String {
    format!("freshness_{id}_never_written_{}", now.format("%Y-%m-%d"))
}

/// Gives the never-written rows their own message and daily dedup key.
pub fn mark_rows(
    rows: &mut [ResultRow],
    never_written: &HashMap<String, String>,
    now: DateTime<Utc>,
) {
    if never_written.is_empty() {
        return;
    }
    for row in rows.iter_mut() {
        if row.state != State::Missing {
            continue;
        }
        let Some(prefix) = never_written.get(&*row.artifact_id) else {
            continue;
        };
        row.reason = format!(
            "{NEVER_WRITTEN}: nothing has ever existed under {prefix} in any cycle; check the \
             template or the producer ({})",
            row.reason()
        )
        .into();
        row.set_dedup_key(never_written_dedup_key(&row.artifact_id, now));
    }
}

/// Gives each fresh row whose object was seen, and whose artifact the `ledger` remembers as
/// alerted never written (still unwritten, never written since a listing, its last alert at
/// or after that), the dedup key of that last never-written alert. The RESOLVED step then
/// asks that alert's marker and claims `{key}_resolved`, so the notice goes out once, in
/// whichever cycle the object finally appears (docs/alerts.md#never-written). The pass's
/// ledger then records the artifact as written: no later pass marks it again.
pub fn mark_appeared(rows: &mut [ResultRow], ledger: Option<&Ledger>) {
    let Some(ledger) = ledger else {
        return;
    };
    let alerted: HashMap<&str, DateTime<Utc>> = ledger
        .artifacts
        .iter()
        .filter(|(_, e)| !e.written)
        .filter_map(|(id, e)| {
            let (since, last_alert) = (e.never_written_since?, e.last_alert_at?);
            (last_alert >= since).then_some((id, last_alert.to_utc()))
        })
        .collect();
    if alerted.is_empty() {
        return;
    }
    for row in rows.iter_mut() {
        if row.state != State::Fresh || row.last_modified.is_none() {
            continue;
        }
        if let Some(at) = alerted.get(&*row.artifact_id) {
            row.set_dedup_key(never_written_dedup_key(&row.artifact_id, *at));
        }
    }
}

/// After [`Ledger::advance`] recorded them written: each artifact of `failed` (whose RESOLVED
/// notice reached no channel in this pass, its claim released) that was resolving a
/// never-written alert stays remembered as alerted never written, so the next pass sends the
/// notice again, as an ordinary notice is retried while its cycle lasts.
pub fn keep_unresolved(ledger: &mut Ledger, rows: &[ResultRow], failed: &[String]) {
    if failed.is_empty() {
        return;
    }
    for row in rows {
        if resolved_never_written_day(row).is_none()
            || !failed.iter().any(|f| **f == *row.artifact_id)
        {
            continue;
        }
        let Some(entry) = ledger.artifacts.get_mut(&row.artifact_id) else {
            continue;
        };
        if let Some(alerted) = entry.last_alert_at {
            entry.written = false;
            entry.never_written_since = Some(alerted);
        }
    }
}

/// The day of the never-written alert a fresh row resolves (marked by [`mark_appeared`]).
pub fn resolved_never_written_day(row: &ResultRow) -> Option<&str> {
    if row.state != State::Fresh {
        return None;
    }
    // Only a key of its own shape can be one (the cycle's is derived, never stored).
    row.extras
        .as_ref()?
        .dedup_key
        .as_deref()?
        .strip_prefix("freshness_")?
        .strip_prefix(&*row.artifact_id)?
        .strip_prefix("_never_written_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::LedgerEntry;

    fn registry() -> Registry {
        let text = "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  cadence: weekday_sf\n  \
                    sla_minutes_after_cron: 60\n  severity: critical\n  owner_repo: o\n  \
                    created_at: 2026-01-05\nartifacts:\n\
                    - {artifact_id: ghost, s3_key_template: \"ghost/{date}.json\"}\n\
                    - {artifact_id: a, s3_key_template: \"data/{date}/a.json\"}\n\
                    - {artifact_id: b, s3_key_template: \"data/{date}/b.json\"}\n\
                    - {artifact_id: known, s3_key_template: \"known/{date}.json\"}\n\
                    - {artifact_id: seen, s3_key_template: \"seen/{date}.json\"}\n";
        crate::registry::parse_registry("r.yaml", text.as_bytes()).unwrap()
    }

    fn missing(id: &str) -> ResultRow {
        let mut row: ResultRow = ResultRow {
            artifact_id: id.into(),
            context: std::sync::Arc::new(crate::report::RowContext {
                owner_repo: None,
                cadence: None,
                cycle_label: None,
                cycle_tick: None,
                s3_bucket: None,
            }),
            severity: None,
            canonical_key: None,
            state: State::Missing,
            reason: "not found".into(),
            last_modified: None,
            sla_violated_by_minutes: 5,
            recovery_substituted: false,
            due_at: None,
            alerting: true,
            last_probed_at: None,
            policy: None,
            awaiting_event: false,
            carried: None,
            extras: None,
        };
        row.set_dedup_key(format!("freshness_{id}_d"));
        row
    }

    fn entry(written: bool, never_since: Option<&str>) -> LedgerEntry {
        let mut e: LedgerEntry =
            serde_json::from_value(serde_json::json!({"cycle": "d", "state": "missing"})).unwrap();
        e.written = written;
        e.never_written_since = never_since.map(|t| t.parse().unwrap());
        e
    }

    #[test]
    fn prefixes_are_listed_once_each_and_the_ledger_answers_the_rest() {
        let mut ledger = Ledger::new();
        ledger
            .artifacts
            .insert("known", entry(false, Some("2026-05-01T00:00:00Z")));
        ledger.artifacts.insert("seen", entry(true, None));
        let mut rows: Vec<ResultRow> = ["ghost", "a", "b", "known", "seen"]
            .iter()
            .map(|id| missing(id))
            .collect();
        let (known, to_list) = plan_checks(&registry(), &rows, Some(&ledger));
        assert_eq!(known.keys().collect::<Vec<_>>(), ["known"]);
        let listed: Vec<&str> = to_list.iter().map(|c| c.artifact_id.as_str()).collect();
        assert_eq!(
            listed,
            ["ghost", "a", "b"],
            "the written one is not listed again"
        );
        let places = distinct_prefixes(to_list);
        let prefixes: Vec<&str> = places.iter().map(|p| p.prefix.as_str()).collect();
        assert_eq!(
            prefixes,
            ["ghost/", "data/"],
            "one listing per distinct prefix"
        );
        // Only `data/` holds an object (a.json of an earlier day).
        let listed = places
            .into_iter()
            .map(|p| {
                let any = p.prefix == "data/";
                (p, Some(any))
            })
            .collect();
        let found = judge_listings(known, listed);
        let mut never: Vec<&str> = found.ids.keys().map(String::as_str).collect();
        never.sort_unstable();
        assert_eq!(never, ["ghost", "known"]);
        assert_eq!(found.ids["ghost"], "s3://bkt/ghost/");
        let mut listings = found.listings.clone();
        listings.sort();
        assert_eq!(
            listings,
            [
                ("a".into(), true),
                ("b".into(), true),
                ("ghost".into(), false)
            ]
        );
        mark_rows(
            &mut rows,
            &found.ids,
            "2026-06-01T12:00:00Z".parse().unwrap(),
        );
        assert!(is_never_written(&rows[0]) && !is_never_written(&rows[1]));
        assert_eq!(
            rows[0].dedup_key().as_deref(),
            Some("freshness_ghost_never_written_2026-06-01")
        );
        assert!(
            rows[0].reason().starts_with(
                "never written: nothing has ever existed under s3://bkt/ghost/ in any cycle; \
                 check the template or the producer (not found)"
            ),
            "{}",
            rows[0].reason()
        );
        assert!(
            plan_checks(&registry(), &rows, None).1.is_empty(),
            "no ledger, no rule"
        );
    }

    #[test]
    fn a_never_written_artifact_seen_at_last_carries_its_last_never_written_alerts_key() {
        let at = |t: &str| -> DateTime<Utc> { t.parse().unwrap() };
        let lt = |t: &str| -> crate::ledger::LedgerTime { t.parse().unwrap() };
        let mut ledger = Ledger::new();
        let mut alerted = entry(false, Some("2026-05-30T12:30:00Z"));
        alerted.last_alert_at = Some(lt("2026-05-31T09:00:00Z"));
        ledger.artifacts.insert("ghost", alerted);
        // Never written, but silenced (or observed): no alert since the listing.
        let mut quiet = entry(false, Some("2026-05-30T12:30:00Z"));
        quiet.last_alert_at = Some(lt("2026-05-23T12:30:00Z"));
        ledger.artifacts.insert("quiet", quiet);
        let mut written = entry(true, None);
        written.last_alert_at = Some(lt("2026-05-31T09:00:00Z"));
        ledger.artifacts.insert("seen", written);
        let fresh = |id: &str| {
            let mut row = missing(id);
            row.state = State::Fresh;
            row.alerting = false;
            row.set_last_modified(Some(at("2026-06-06T10:00:00Z")));
            // The cycle's own key, derived from the label.
            row.extras = None;
            row.context = std::sync::Arc::new(crate::report::RowContext {
                cycle_label: Some("2026-W23".into()),
                ..Default::default()
            });
            row
        };
        let mut not_yet = fresh("ghost");
        not_yet.last_modified = None;
        let mut rows = vec![fresh("ghost"), fresh("quiet"), fresh("seen"), missing("x")];
        mark_appeared(&mut rows, Some(&ledger));
        let keys: Vec<String> = rows
            .iter()
            .filter_map(|r| r.dedup_key().map(|k| k.into_owned()))
            .collect();
        assert_eq!(
            keys,
            [
                "freshness_ghost_never_written_2026-05-31",
                "freshness_quiet_2026-W23",
                "freshness_seen_2026-W23",
                "freshness_x_d"
            ]
        );
        assert_eq!(resolved_never_written_day(&rows[0]), Some("2026-05-31"));
        assert_eq!(resolved_never_written_day(&rows[1]), None);
        // Its notice reached no channel: after the pass's advance (which records it written),
        // it stays due; the others are left as the advance made them.
        let mut after = ledger.clone();
        for id in ["ghost", "seen"] {
            let e = after.artifacts.get_mut(id).unwrap();
            (e.written, e.never_written_since) = (true, None);
        }
        keep_unresolved(&mut after, &rows, &["ghost".into(), "seen".into()]);
        assert!(!after.artifacts["ghost"].written);
        assert_eq!(
            after.artifacts["ghost"].never_written_since,
            Some(lt("2026-05-31T09:00:00Z"))
        );
        assert!(
            after.artifacts["seen"].written,
            "it resolved no never-written alert"
        );
        let mut again = rows.clone();
        again[0].extras = None;
        mark_appeared(&mut again, Some(&after));
        assert_eq!(
            again[0].dedup_key(),
            rows[0].dedup_key(),
            "the next pass asks again"
        );

        let mut unseen = vec![not_yet];
        mark_appeared(&mut unseen, Some(&ledger));
        assert_eq!(
            unseen[0].dedup_key().as_deref(),
            Some("freshness_ghost_2026-W23"),
            "fresh without an object seen (a closed day): nothing appeared"
        );
    }
}
