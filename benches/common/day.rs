//! The day benchmark (issue 17): 96 passes at 15-minute steps over the generator's registry,
//! alerts on, against the S3 stand-in (served in this process on a loopback port, one fresh
//! stand-in per mode), with producers landing their objects at spread times after their
//! ticks: most within the SLA, some late, some never, a few stale. Each pass is the Lambda's
//! own sequence (`lambda::steps::run_steps`: ledger, probes, alerts, ledger, outputs) through
//! the real S3 store, with every request counted. Alerts go to a channel that records them.
//!
//! Two modes over the same day: `every-pass` (every artifact probed every pass with HEADs,
//! every fresh artifact's marker read, every alerting one claimed: the monitor before issue
//! 17) and `ledger` (settled artifacts skipped, listings where they pay, the ledger answering
//! for alerts). The run asserts that both send exactly the same alerts and RESOLVED notices
//! at the same passes, then prints the requests per day of each.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use freshness_monitor::alert::Alerter;
use freshness_monitor::alert::channel::{AlertChannel, ChannelError};
use freshness_monitor::alert::digest::Digest;
use freshness_monitor::classify::ResolvedKeys;
use freshness_monitor::lambda::steps::{PassSteps, run_steps};
use freshness_monitor::ledger::probe_fingerprint;
use freshness_monitor::pass::PassSettings;
use freshness_monitor::registry::{Registry, RegistryEntry, parse_registry};
use freshness_monitor::settings::Settings;
use freshness_monitor::store::counting::RequestCounts;
use freshness_monitor::store::s3::S3Store;
use futures_util::future::BoxFuture;

use super::common::{BUCKET, generate, runtime};

const REGISTRY_KEY: &str = "_freshness_monitor/ARTIFACT_REGISTRY.yaml";

/// What one pass did, as compared between the modes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PassAlerts {
    alerted: BTreeSet<String>,
    resolved: BTreeSet<String>,
}

/// The day of one mode.
struct Day {
    requests: RequestCounts,
    alerts: Vec<PassAlerts>,
    /// Per pass, the requests (for the steady-state figure).
    per_pass: Vec<RequestCounts>,
    /// The daily history at the day's end, with the outcome log and without (ledger mode).
    history: Option<(
        super::day_history::HistoryRun,
        super::day_history::HistoryRun,
    )>,
    /// Outcome-log objects the passes wrote.
    log_objects: usize,
}

/// A channel that accepts everything (the benchmark reads what went out from the figures).
pub(super) struct AcceptingChannel(pub(super) Mutex<usize>);

impl AlertChannel for AcceptingChannel {
    fn name(&self) -> &'static str {
        "stdout"
    }

    fn send<'a>(
        &'a self,
        _digest: &'a Digest,
        _deadline: Option<tokio::time::Instant>,
    ) -> BoxFuture<'a, Result<usize, ChannelError>> {
        *self.0.lock().unwrap() += 1;
        Box::pin(async { Ok(1) })
    }
}

/// What happens to one artifact's object in one cycle.
pub enum Fate {
    /// Lands this long after the tick.
    Lands(Duration),
    /// An old object sits at the key (LastModified a day before the tick).
    Stale,
    Never,
}

/// Deterministic per (artifact, cycle): 70% land within the 60-minute SLA, 15% late (70 to
/// 300 minutes), 10% never, 5% stale.
pub fn fate(id: &str, label: &str) -> Fate {
    let h = probe_fingerprint(id, label);
    let spread = (h / 100) as i64;
    match h % 100 {
        0..70 => Fate::Lands(Duration::minutes(5 + spread % 50)),
        70..85 => Fate::Lands(Duration::minutes(70 + spread % 230)),
        85..95 => Fate::Never,
        _ => Fate::Stale,
    }
}

/// Runs the day in both modes, asserts the alerts match and prints the figures.
pub fn day(n: usize, passes: usize) {
    let start: DateTime<Utc> = "2026-11-24T00:00:00Z".parse().unwrap();
    let (yaml, _) = generate(n, start, 60);
    let registry = parse_registry("bench.yaml", yaml.as_bytes()).expect("generated registry");
    let (every, ledger) = runtime().block_on(async {
        let every = run_day(&registry, &yaml, start, passes, false).await;
        let ledger = run_day(&registry, &yaml, start, passes, true).await;
        (every, ledger)
    });
    for (i, (a, b)) in every.alerts.iter().zip(&ledger.alerts).enumerate() {
        assert_eq!(a, b, "pass {i} sends different alerts");
    }
    let sent: usize = ledger.alerts.iter().map(|p| p.alerted.len()).sum();
    let resolved: usize = ledger.alerts.iter().map(|p| p.resolved.len()).sum();
    let passes_alerting = ledger
        .alerts
        .iter()
        .filter(|p| !p.alerted.is_empty())
        .count();
    println!(
        "day: {n} artifacts, {passes} passes from {start}: the same {sent} alerts and {resolved} \
         RESOLVED notices at the same passes in both modes ({passes_alerting} passes alerted)"
    );
    println!(
        "alerts per pass: {}",
        ledger
            .alerts
            .iter()
            .map(|p| format!("{}/{}", p.alerted.len(), p.resolved.len()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("| mode | HEAD | LIST | GET | PUT | DELETE | requests/day | cost in HEADs |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, day) in [("every pass", &every), ("ledger", &ledger)] {
        let r = day.requests;
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {:.0} |",
            r.head,
            r.list,
            r.get,
            r.put,
            r.delete,
            r.total(),
            cost_in_heads(r)
        );
    }
    let ratio = every.requests.total() as f64 / ledger.requests.total() as f64;
    let cost_ratio = cost_in_heads(every.requests) / cost_in_heads(ledger.requests);
    println!("requests: {ratio:.1}x fewer; cost: {cost_ratio:.1}x less");
    let quiet = ledger.per_pass.iter().map(|r| r.total()).min().unwrap_or(0);
    println!("the quietest ledger pass: {quiet} requests");
    println!(
        "outcome log: {} objects written by the ledger passes (every-pass mode: {})",
        ledger.log_objects, every.log_objects
    );
    let Some((with_log, without)) = &ledger.history else {
        return;
    };
    println!(
        "| the daily history at the day's end | HEAD | LIST | log requests | requests | cycles from the log | probes by reason | wall |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
    for (name, run) in [
        ("from the outcome log", with_log),
        ("without it (today)", without),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {:.2} s |",
            run.heads,
            run.lists,
            run.log_requests,
            run.requests,
            run.from_log,
            run.probes_by_reason,
            run.wall.as_secs_f64()
        );
    }
    let passes = ledger.requests.total();
    let baseline = every.requests.total();
    let with = passes + with_log.requests;
    let today = passes + without.requests;
    println!(
        "the day with its history: {with} requests ({passes} passes + {} history) = {:.1}x fewer \
         than every pass probing everything ({baseline}); {:.1}x fewer than that with its own \
         scan ({}); today's (passes + a scan without the log): {today} = {:.1}x",
        with_log.requests,
        baseline as f64 / with as f64,
        (baseline + without.requests) as f64 / with as f64,
        baseline + without.requests,
        baseline as f64 / today as f64,
    );
}

/// HEAD and GET at $0.0004 per 1,000, LIST and PUT at $0.005: the cost in HEADs.
fn cost_in_heads(r: RequestCounts) -> f64 {
    (r.head + r.get) as f64 + 12.5 * (r.list + r.put) as f64
}

async fn run_day(
    registry: &Registry,
    yaml: &str,
    start: DateTime<Utc>,
    passes: usize,
    ledger_spares: bool,
) -> Day {
    let port = free_port();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path()).unwrap();
    let extra = vec![(REGISTRY_KEY.to_string(), yaml.as_bytes().to_vec())];
    let root_path = root.path().to_path_buf();
    let server =
        tokio::spawn(
            async move { super::s3_standin::serve(port, BUCKET, &root_path, extra).await },
        );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = super::client(&endpoint).await;
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
    producers.seed_pointers(&client, registry, start).await;
    // One warm container for the day: the page's history.json is kept between passes.
    let page_history = freshness_monitor::pass::PageHistoryCache::default();
    let mut day = Day {
        requests: RequestCounts::default(),
        alerts: Vec::new(),
        per_pass: Vec::new(),
        history: None,
        log_objects: 0,
    };
    for pass in 0..passes {
        let now = start + Duration::minutes(15 * pass as i64);
        producers.land(&client, registry, now).await;
        let steps = PassSteps {
            settings: &settings,
            // As the Lambda's, listing off when nothing is spared.
            pass_settings: PassSettings {
                list_max_pages: if ledger_spares {
                    settings.list_max_pages
                } else {
                    0
                },
                ..PassSettings::from_settings(&settings)
            },
            alerter: Some(&alerter),
            now,
            dry_run: false,
            deadline: None,
            ledger_spares,
            page_history: &page_history,
            deadline_schedule: None,
        };
        let done = run_steps(&store, &steps).await;
        done.written.expect("outputs written");
        assert!(
            done.outcome
                .ledger
                .as_ref()
                .is_none_or(|l| l.status != "failed"),
            "ledger written"
        );
        assert_eq!(done.alerts.failed, 0);
        let requests = done.outcome.requests.unwrap();
        day.requests = day.requests.plus(requests);
        day.per_pass.push(requests);
        day.alerts.push(PassAlerts {
            alerted: done.alerts.alerted_artifacts.iter().cloned().collect(),
            resolved: done.alerts.resolved_artifacts.iter().cloned().collect(),
        });
    }
    let end = start + Duration::minutes(15 * passes as i64);
    day.log_objects = count_log_objects(&client).await;
    if ledger_spares {
        let runs =
            super::day_history::daily_history(&client, &store, registry, &settings, start, end)
                .await;
        day.history = Some(runs);
    }
    server.abort();
    day
}

/// The outcome log's objects in the bucket.
async fn count_log_objects(client: &aws_sdk_s3::Client) -> usize {
    let listed = client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("_freshness_monitor/outcomes/")
        .send()
        .await
        .unwrap();
    listed.key_count().unwrap_or(0) as usize
}

/// The producers: which objects have landed.
#[derive(Default)]
pub(super) struct Producers {
    landed: HashSet<(String, String)>,
}

impl Producers {
    /// Pointers exist from before the day (written a day before it starts).
    pub(super) async fn seed_pointers(
        &mut self,
        client: &aws_sdk_s3::Client,
        registry: &Registry,
        start: DateTime<Utc>,
    ) {
        for entry in &registry.entries {
            if let RegistryEntry::Valid(spec) = entry
                && spec.s3_key_template.source().starts_with("pointers/")
            {
                put_object(
                    client,
                    spec.s3_key_template.source(),
                    start - Duration::days(1),
                )
                .await;
            }
        }
    }

    /// Lands every object due by `now` in its artifact's current cycle.
    pub(super) async fn land(
        &mut self,
        client: &aws_sdk_s3::Client,
        registry: &Registry,
        now: DateTime<Utc>,
    ) {
        for entry in &registry.entries {
            let RegistryEntry::Valid(spec) = entry else {
                continue;
            };
            let Some(cycle) = spec.cadence.cycle_at(now, &registry.calendar) else {
                continue;
            };
            let id = spec.id.to_string();
            if self.landed.contains(&(id.clone(), cycle.label.clone())) {
                continue;
            }
            let key = ResolvedKeys::resolve(spec, &cycle).canonical_key;
            let last_modified = match fate(&id, &cycle.label) {
                Fate::Lands(delay) if cycle.tick + delay <= now => cycle.tick + delay,
                Fate::Stale => cycle.tick - Duration::days(1),
                Fate::Lands(_) | Fate::Never => continue,
            };
            put_object(client, &key, last_modified).await;
            self.landed.insert((id, cycle.label));
        }
    }
}

/// A producer's PUT with the LastModified it should have (the stand-in honours the header).
pub(super) async fn put_object(
    client: &aws_sdk_s3::Client,
    key: &str,
    last_modified: DateTime<Utc>,
) {
    client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .metadata("last-modified", last_modified.to_rfc3339())
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
}

pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
