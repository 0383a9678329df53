//! Alert latency after the deadline (issue 25 item 2): a day of passes over a registry whose
//! deadlines fall anywhere in the quarter hour, run twice against the S3 stand-in: with the
//! 15-minute passes alone (today), and with a deadline pass wherever the schedule would put
//! it (`next_deadline` after every pass, `at` its moment + 5 s, one schedule: the last pass's
//! answer replaces the pending one). Time is the passes' `now`, not the wall clock: what is
//! measured is the model's latency (the pass that alerts, minus the moment the artifact
//! started to alert), not Scheduler's delivery or a cold start, which add seconds in AWS.
//!
//! Each alert's latency is the alerting pass's `now` minus its row's `due_at` + 1 minute
//! (the first moment it alerts). The first pass of the day is left out of the figures: it
//! alerts a backlog from before the day. The (artifact, cycle) pairs only one mode alerted
//! are counted: an object landing within the quarter hour after its deadline is alerted by
//! a deadline pass and never by polling.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use freshness_monitor::alert::Alerter;
use freshness_monitor::deadline::{next_deadline, pass_time};
use freshness_monitor::lambda::steps::{PassSteps, run_steps};
use freshness_monitor::pass::{PageHistoryCache, PassSettings};
use freshness_monitor::registry::{Registry, parse_registry};
use freshness_monitor::settings::Settings;
use freshness_monitor::store::counting::RequestCounts;
use freshness_monitor::store::s3::S3Store;

use super::common::{BUCKET, runtime};
use super::day::{AcceptingChannel, Producers, free_port};

const REGISTRY_KEY: &str = "_freshness_monitor/ARTIFACT_REGISTRY.yaml";

/// The schedule's margin after the moment an artifact starts to alert (the default).
const MARGIN_SECONDS: i64 = 5;

/// `n` artifacts, deadlines spread over the quarter hour: hourly buckets with SLAs of 0 to 59
/// minutes, an hourly cron at :07 with SLAs of 0 to 14, and `weekday_sf` with SLAs of 60 to
/// 104.
fn registry_yaml(n: usize) -> String {
    let mut yaml = String::from(
        "schema_version: 1\ndefaults:\n  s3_bucket: bench-bucket\n  severity: warning\n  \
         owner_repo: producer\n  created_at: 2025-01-01\n\
         cadences:\n  at_07: {cron: \"7 * * * *\", timezone: UTC}\nartifacts:\n",
    );
    for i in 0..n {
        let (cadence, template, sla) = match i % 3 {
            0 => (
                "continuous\n    interval_minutes: 60",
                "feed/{cycle_label}/a{i}.json",
                i % 60,
            ),
            1 => ("at_07", "cron/{cycle_label}/a{i}.json", i % 15),
            _ => ("weekday_sf", "daily/{date}/a{i}.json", 60 + i % 45),
        };
        let template = template.replace("{i}", &i.to_string());
        yaml.push_str(&format!(
            "  - artifact_id: a{i}\n    s3_key_template: \"{template}\"\n    cadence: {cadence}\n    \
             sla_minutes_after_cron: {sla}\n"
        ));
    }
    yaml
}

/// One mode's day.
struct Latencies {
    /// Seconds from the moment each alert was due to go out to the pass that sent it.
    seconds: Vec<i64>,
    /// (artifact, cycle) pairs alerted.
    alerted: BTreeSet<(String, String)>,
    passes: usize,
    deadline_passes: usize,
    requests: RequestCounts,
}

pub fn deadline_day(n: usize, hours: i64) {
    let start: DateTime<Utc> = "2026-11-24T00:00:00Z".parse().unwrap();
    let yaml = registry_yaml(n);
    let registry = parse_registry("bench.yaml", yaml.as_bytes()).expect("generated registry");
    let (polling, deadline) = runtime().block_on(async {
        let polling = run(&registry, &yaml, start, hours, false).await;
        let deadline = run(&registry, &yaml, start, hours, true).await;
        (polling, deadline)
    });
    // Deadline passes alert what polling alerts, and also what lands within the quarter hour
    // after its deadline (polling never sees it late); polling alerts nothing they do not,
    // but for deadlines in the last quarter hour of the run (its next pass is past the end).
    let only_deadline = deadline.alerted.difference(&polling.alerted).count();
    let only_polling = polling.alerted.difference(&deadline.alerted).count();
    println!(
        "deadline day: {n} artifacts, {hours} h from {start}; (artifact, cycle) alerted by \
         deadline passes only: {only_deadline} (landed within the quarter hour after their \
         deadline), by polling only: {only_polling}"
    );
    println!(
        "| mode | passes | of which deadline passes | alerts | p50 | p95 | max | S3 requests |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, day) in [
        ("every 15 minutes", &polling),
        ("+ deadline passes", &deadline),
    ] {
        let mut s = day.seconds.clone();
        s.sort_unstable();
        let at = |q: f64| s[((s.len() as f64 * q).ceil() as usize).clamp(1, s.len()) - 1];
        println!(
            "| {name} | {} | {} | {} | {} s | {} s | {} s | {} |",
            day.passes,
            day.deadline_passes,
            s.len(),
            at(0.5),
            at(0.95),
            s.last().unwrap(),
            day.requests.total()
        );
    }
}

async fn run(
    registry: &Registry,
    yaml: &str,
    start: DateTime<Utc>,
    hours: i64,
    deadline_passes: bool,
) -> Latencies {
    let port = free_port();
    let root = tempfile::tempdir().unwrap();
    let extra = vec![(REGISTRY_KEY.to_string(), yaml.as_bytes().to_vec())];
    let root_path = root.path().to_path_buf();
    let server =
        tokio::spawn(
            async move { super::s3_standin::serve(port, BUCKET, &root_path, extra).await },
        );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let client = super::client(&format!("http://127.0.0.1:{port}")).await;
    let store = S3Store::new(client.clone(), std::time::Duration::from_secs(10));
    let settings = Settings::from_lookup(|name| match name {
        "REGISTRY_BUCKET" => Some(BUCKET.to_string()),
        "FRESHNESS_MONITOR_ENABLED" => Some("true".to_string()),
        _ => None,
    })
    .unwrap();
    let alerter = Alerter::new(
        vec![Box::new(AcceptingChannel(Mutex::new(0)))],
        BUCKET,
        settings.dedup_prefix.clone(),
    );
    let mut producers = Producers::default();
    let page_history = PageHistoryCache::default();
    // The passes to run, by time: `false` for the 15-minute rule's, `true` for the schedule's.
    let mut queue: BTreeMap<DateTime<Utc>, bool> = (0..hours * 4)
        .map(|q| (start + Duration::minutes(15 * q), false))
        .collect();
    let end = start + Duration::hours(hours);
    let mut pending: Option<DateTime<Utc>> = None;
    let mut day = Latencies {
        seconds: Vec::new(),
        alerted: BTreeSet::new(),
        passes: 0,
        deadline_passes: 0,
        requests: RequestCounts::default(),
    };
    while let Some((now, scheduled)) = queue.pop_first() {
        if scheduled && pending != Some(now) {
            continue; // the schedule was moved since
        }
        producers.land(&client, registry, now).await;
        let steps = PassSteps {
            settings: &settings,
            // A deadline pass probes only what is due, as the Lambda's does.
            pass_settings: PassSettings {
                probe_only_due: scheduled,
                ..PassSettings::from_settings(&settings)
            },
            alerter: Some(&alerter),
            now,
            dry_run: false,
            deadline: None,
            ledger_spares: true,
            page_history: &page_history,
            deadline_schedule: None,
        };
        let done = run_steps(&store, &steps).await;
        done.written.expect("outputs written");
        day.passes += 1;
        day.deadline_passes += usize::from(scheduled);
        day.requests = day.requests.plus(done.outcome.requests.unwrap());
        let first = now == start;
        for id in &done.alerts.alerted_artifacts {
            let row = (done.outcome.rows.iter())
                .find(|r| &*r.artifact_id == id.as_str())
                .expect("an alerted artifact has a row");
            let cycle = row.cycle_label().unwrap_or_default().to_string();
            day.alerted.insert((id.clone(), cycle));
            if !first && let Some(due) = row.due_at() {
                day.seconds
                    .push((now - (due + Duration::minutes(1))).num_seconds());
            }
        }
        if deadline_passes && let Some(next) = next_deadline(registry, &done.outcome.rows, now) {
            let at = pass_time(&next, Duration::seconds(MARGIN_SECONDS), now);
            pending = Some(at);
            if at < end {
                queue.insert(at, true);
            }
        }
    }
    server.abort();
    day
}
