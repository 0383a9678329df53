//! The day benchmark's daily history (issue 24): at the end of the day, the history scan as
//! the daily rule runs it, once reading the outcome log (the passes' objects of the day, and
//! the compacted log the previous day's scan left) and once without it (every expected cycle
//! probed: the scan before the log, and still the first scan after a deploy).
//!
//! What the benchmark stands in for, uncounted (it is not the monitor's): the producers'
//! objects of every past cycle of the window, by the same fates as the day's (landed at their
//! simulated LastModified, stale ones a day older than their tick, the rest never); and the
//! compacted log the earlier daily scans left: every expected cycle due before the day began,
//! landed ones with their landing, misses with the last look the recheck schedule
//! (`history::from_log::recheck_due`, a scan a day at 00:00) would have made. The past objects
//! are written after the day's passes, so the passes' listings are the day benchmark's own.

use std::io::Write;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use freshness_monitor::classify::ResolvedKeys;
use freshness_monitor::history::from_log::recheck_due;
use freshness_monitor::history::plan::{not_expected, plan};
use freshness_monitor::history::{Lookback, ScanSettings, scan_history};
use freshness_monitor::ledger::LedgerTime;
use freshness_monitor::outcome_log::compacted::COMPACTED;
use freshness_monitor::outcome_log::{KnownBy, Outcome, OutcomeRecord, SCHEMA_VERSION};
use freshness_monitor::registry::Registry;
use freshness_monitor::settings::Settings;
use freshness_monitor::store::s3::S3Store;

use super::day::{Fate, fate, put_object};

/// One history scan's figures.
pub struct HistoryRun {
    /// HEADs, the log's GETs, LISTs and PUT, the registry's GET and `history.json`'s PUT.
    pub requests: u64,
    pub heads: usize,
    pub log_requests: usize,
    pub from_log: usize,
    pub probes_by_reason: String,
    pub wall: StdDuration,
}

/// Seeds the past, runs the scan with the log and without, at `now`.
pub async fn daily_history(
    client: &aws_sdk_s3::Client,
    store: &S3Store,
    registry: &Registry,
    settings: &Settings,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (HistoryRun, HistoryRun) {
    seed_past(client, registry, start, now).await;
    let with_log = scan(store, registry, settings, now, true).await;
    let without = scan(store, registry, settings, now, false).await;
    (with_log, without)
}

async fn scan(
    store: &S3Store,
    registry: &Registry,
    settings: &Settings,
    now: DateTime<Utc>,
    with_log: bool,
) -> HistoryRun {
    let scan_settings = ScanSettings {
        log_location: with_log.then(|| settings.output_location()),
        ..ScanSettings::default()
    };
    let started = Instant::now();
    let history = scan_history(store, registry, &scan_settings, now).await;
    let wall = started.elapsed();
    assert!(history.warnings.is_empty(), "{:?}", history.warnings);
    HistoryRun {
        // + the registry's GET and history.json's PUT, as the historical invocation makes.
        requests: (history.n_head_requests + history.n_log_requests + 2) as u64,
        heads: history.n_head_requests,
        log_requests: history.n_log_requests,
        from_log: history.n_cycles_from_log,
        probes_by_reason: format!("{:?}", history.probes_by_reason()),
        wall,
    }
}

/// The producers' objects of the window's past cycles, and the compacted log of the earlier
/// daily scans.
async fn seed_past(
    client: &aws_sdk_s3::Client,
    registry: &Registry,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    let plan = plan(registry, &[], &Lookback::default(), now);
    let mut records = Vec::new();
    for target in &plan.artifacts {
        let spec = target.spec;
        for c in 0..target.len {
            let cycle = target.cycle(c);
            let keys = ResolvedKeys::resolve(spec, cycle);
            if keys.due_at >= start || cycle.tick < start - Duration::days(120) {
                continue; // the day's own cycles are the passes' to record
            }
            let fate = fate(spec.id.as_str(), &cycle.label);
            match fate {
                Fate::Lands(delay) => {
                    put_object(client, &keys.canonical_key, cycle.tick + delay).await
                }
                Fate::Stale => {
                    put_object(client, &keys.canonical_key, cycle.tick - Duration::days(1)).await
                }
                Fate::Never => {}
            }
            if not_expected(spec, cycle).is_some() {
                continue;
            }
            let t = LedgerTime::saturating_from;
            let (outcome, landed, checked) = match fate {
                Fate::Lands(delay) => {
                    let landed = cycle.tick + delay;
                    let outcome = if landed <= keys.due_at {
                        Outcome::OnTime
                    } else {
                        Outcome::Late
                    };
                    (outcome, Some(landed), keys.due_at + Duration::days(1))
                }
                Fate::Stale | Fate::Never => {
                    (Outcome::Missing, None, last_look(keys.due_at, start))
                }
            };
            records.push(OutcomeRecord {
                schema_version: SCHEMA_VERSION,
                artifact_id: spec.id.as_str().into(),
                cadence: spec.cadence.name().into(),
                cycle_label: cycle.label.as_str().into(),
                tick: t(cycle.tick),
                due_at: t(keys.due_at),
                expected: true,
                outcome,
                landed_at: landed.map(t),
                on_time: landed.map(|l| l <= keys.due_at),
                minutes_late: landed.map(|l| (l - keys.due_at).num_minutes().max(0)),
                alerted: false,
                known_by: KnownBy::Pass,
                s3_bucket: spec.s3_bucket.as_ref().into(),
                s3_key: keys.canonical_key.as_str().into(),
                recorded_at: t(checked),
            });
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    writeln!(
        gz,
        r#"{{"history_outcomes":1,"through":null,"written_at":"{}"}}"#,
        start.format("%Y-%m-%dT%H:%M:%SZ")
    )
    .unwrap();
    for record in &records {
        serde_json::to_writer(&mut gz, record).unwrap();
        gz.write_all(b"\n").unwrap();
    }
    let body = gz.finish().unwrap();
    println!(
        "seeded: {} past cycles in the compacted log ({} bytes gzipped)",
        records.len(),
        body.len()
    );
    client
        .put_object()
        .bucket(super::common::BUCKET)
        .key(format!("_freshness_monitor/{COMPACTED}"))
        .body(body.into())
        .send()
        .await
        .unwrap();
}

/// The last look at a miss due at `due` by the time the day starts: the closing pass's, a
/// day after its due time, then each daily scan's at 00:00 whose recheck was due.
fn last_look(due: DateTime<Utc>, start: DateTime<Utc>) -> DateTime<Utc> {
    let mut looked = due + Duration::days(1);
    let mut scan = looked.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc() + Duration::days(1);
    while scan < start {
        if recheck_due(looked, due, scan) {
            looked = scan;
        }
        scan += Duration::days(1);
    }
    looked.min(start)
}
