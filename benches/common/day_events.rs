//! The day benchmark with S3 "Object Created" events on (issue 25): the `day` benchmark's
//! registry, producers and passes (`common/day.rs`, ledger mode), run twice over the same
//! day against the in-process stand-in: polling only, then with each landed object's event
//! delivered to the intake (`lambda::intake::run_object_events`, one warm container: the
//! registry kept between event invocations, dropped before each pass as the handler does).
//!
//! Simulated time. An object lands at its generated time (`day::fate`: minutes after its
//! cycle's tick); its event reaches the queue 2 to 30 s later (deterministic per artifact and
//! cycle: S3 to EventBridge "typically within seconds", the rule to SQS at once), and the
//! event source mapping invokes the function at the end of its 20 s batching window (windows
//! on a fixed 20 s grid; up to 1,000 messages a batch). The invocation is taken to answer at
//! once (its own duration is in its response, not in the latency). Objects that are stale (an
//! old object at the key) and pointers seeded before the day have no event in the day.
//!
//! Reported, per mode: after an object lands, when its row in `check_results.json` turns
//! fresh and, for an artifact that was alerted, when its RESOLVED goes out (p50, p95, max);
//! the requests of the passes and of the event invocations; the "is it there yet?" polls (a
//! row a pass probed that was not there: `missing` and probed at the pass's now); and the
//! invocations of the day.
//!
//! A third run has events on and the function told so (`OBJECT_EVENTS=on`,
//! docs/lambda.md#passes-with-events-on): its passes do not poll an artifact not yet due (they
//! keep the in-cycle verdict of one a probe saw, and leave one no probe saw awaiting its event
//! once the bucket's events are known to flow), and space out the probes of overdue ones.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use freshness_monitor::alert::Alerter;
use freshness_monitor::classify::{ResolvedKeys, State};
use freshness_monitor::lambda::container::Container;
use freshness_monitor::lambda::event::Invocation;
use freshness_monitor::lambda::intake::run_object_events;
use freshness_monitor::lambda::steps::{PassSteps, run_steps};
use freshness_monitor::ledger::probe_fingerprint;
use freshness_monitor::pass::PassSettings;
use freshness_monitor::registry::{Registry, RegistryEntry, parse_registry};
use freshness_monitor::settings::Settings;
use freshness_monitor::store::counting::RequestCounts;
use freshness_monitor::store::s3::S3Store;
use serde_json::{Value, json};

use super::common::{BUCKET, generate, runtime};
use super::day::{AcceptingChannel, Fate, Producers, fate, free_port};

/// The event source mapping's batching window `deploy.sh` sets (`day-events N PASSES
/// [WINDOW]` takes another).
pub const WINDOW_SECONDS: i64 = 20;
/// The most messages one batch carries.
const BATCH_MAX: usize = 1_000;

/// One object landed in the day.
struct Landing {
    id: String,
    label: String,
    key: String,
    at: DateTime<Utc>,
}

/// When an object's event is delivered to the function: at the end of the batching window
/// (`window` seconds) its message reached the queue in.
fn delivered_at(landing: &Landing, window: i64) -> DateTime<Utc> {
    let delay = 2 + (probe_fingerprint(&landing.id, &landing.label) / 7 % 29) as i64;
    let queued = landing.at + Duration::seconds(delay);
    let end = queued.timestamp().div_euclid(window) + 1;
    DateTime::from_timestamp(end * window, 0).unwrap()
}

/// What one mode's day came to.
#[derive(Default)]
struct EventsDay {
    pass_requests: RequestCounts,
    event_requests: RequestCounts,
    polls: usize,
    /// Of the polls, those of rows already alerting (past due + 1 minute).
    polls_overdue: usize,
    batches: usize,
    /// Rows a pass left unprobed awaiting their event (before the deadline, with
    /// `OBJECT_EVENTS=on`, once the bucket's events are known to flow).
    awaiting: usize,
    /// Alerts sent over the day (each artifact and cycle once).
    alerts: usize,
    /// Seconds from landing to the row fresh in `check_results.json`, per landed object seen.
    fresh_after: Vec<i64>,
    /// Seconds from landing to the RESOLVED, per alerted artifact that landed.
    resolved_after: Vec<i64>,
    outputs: BTreeMap<String, usize>,
}

/// Runs the day polling only and with events (batching windows of `window` seconds), and
/// prints the figures.
pub fn day_events(n: usize, passes: usize, window: i64) {
    let start: DateTime<Utc> = "2026-11-24T00:00:00Z".parse().unwrap();
    let (yaml, _) = generate(n, start, 60);
    let registry = parse_registry("bench.yaml", yaml.as_bytes()).expect("generated registry");
    let (polling, events, told) = runtime().block_on(async {
        let polling = run(&registry, &yaml, (start, passes, window), (false, false)).await;
        let events = run(&registry, &yaml, (start, passes, window), (true, false)).await;
        let told = run(&registry, &yaml, (start, passes, window), (true, true)).await;
        (polling, events, told)
    });
    let modes = [
        ("polling only", &polling),
        ("events on", &events),
        ("events on, OBJECT_EVENTS=on", &told),
    ];
    println!(
        "day-events: {n} artifacts, {passes} passes at 15-minute steps from {start}, {window} s \
         batching windows"
    );
    println!(
        "| mode | row fresh after landing p50 / p95 / max | RESOLVED after landing p50 / p95 / max (alerted) | pass requests | event requests | polls | invocations (passes + event batches) |"
    );
    println!("| --- | --- | --- | ---: | ---: | ---: | ---: |");
    for (name, day) in modes {
        println!(
            "| {name} | {} ({} objects) | {} ({}) | {} | {} | {} | {} + {} |",
            quantiles(&day.fresh_after),
            day.fresh_after.len(),
            quantiles(&day.resolved_after),
            day.resolved_after.len(),
            day.pass_requests.total(),
            day.event_requests.total(),
            day.polls,
            passes,
            day.batches,
        );
    }
    for (name, day) in modes {
        let (p, e) = (day.pass_requests, day.event_requests);
        println!(
            "{name}: passes HEAD {} LIST {} GET {} PUT {}; events HEAD {} GET {} PUT {}; outputs {:?}; polls {} not yet due, {} overdue; rows awaiting their event {}; alerts sent {}",
            p.head,
            p.list,
            p.get,
            p.put,
            e.head,
            e.get,
            e.put,
            day.outputs,
            day.polls - day.polls_overdue,
            day.polls_overdue,
            day.awaiting,
            day.alerts
        );
    }
    // S3's request prices: a PUT or a LIST costs 12.5 GETs (or HEADs).
    let in_gets = |c: RequestCounts| c.head + c.get + (c.put + c.list) * 25 / 2;
    for (name, day) in modes {
        let (p, e) = (day.pass_requests, day.event_requests);
        println!(
            "{name}: the day's requests {} ({} + {}); in GET prices {} ({} + {})",
            p.total() + e.total(),
            p.total(),
            e.total(),
            in_gets(p) + in_gets(e),
            in_gets(p),
            in_gets(e)
        );
    }
}

/// `p50 / p95 / max` of `seconds`.
fn quantiles(seconds: &[i64]) -> String {
    if seconds.is_empty() {
        return "-".to_string();
    }
    let mut sorted = seconds.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    format!(
        "{} / {} / {} s",
        at(0.5),
        at(0.95),
        sorted[sorted.len() - 1]
    )
}

async fn run(
    registry: &Registry,
    yaml: &str,
    (start, passes, window): (DateTime<Utc>, usize, i64),
    (events_on, object_events): (bool, bool),
) -> EventsDay {
    let port = free_port();
    let root = tempfile::tempdir().unwrap();
    let extra = vec![(
        "_freshness_monitor/ARTIFACT_REGISTRY.yaml".to_string(),
        yaml.as_bytes().to_vec(),
    )];
    let root_path = root.path().to_path_buf();
    let server =
        tokio::spawn(
            async move { super::s3_standin::serve(port, BUCKET, &root_path, extra).await },
        );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let client = super::client(&format!("http://127.0.0.1:{port}")).await;
    let settings = Settings::from_lookup(|name| match name {
        "REGISTRY_BUCKET" => Some(BUCKET.to_string()),
        "FRESHNESS_MONITOR_ENABLED" => Some("true".to_string()),
        "OBJECT_EVENTS" if object_events => Some("on".to_string()),
        _ => None,
    })
    .unwrap();
    let alerter = Alerter::new(
        vec![Box::new(AcceptingChannel(Mutex::new(0)))],
        BUCKET,
        settings.dedup_prefix.clone(),
    );
    let store = S3Store::new(client.clone(), std::time::Duration::from_secs(10));
    let container = Container::new(Ok(settings.clone()), store, Some(alerter));
    let mut producers = Producers::default();
    producers.seed_pointers(&client, registry, start).await;
    let mut landed = Landed {
        start,
        ..Landed::default()
    };
    let mut queue: Vec<(DateTime<Utc>, Landing)> = Vec::new();
    let mut day = EventsDay::default();
    for pass in 0..passes {
        let now = start + Duration::minutes(15 * pass as i64);
        for landing in landed.land(&client, registry, now).await {
            queue.push((delivered_at(&landing, window), landing));
        }
        if events_on {
            deliver_until(&container, &mut queue, now, &mut landed, &mut day).await;
        }
        container.forget_event_memory();
        let steps = PassSteps {
            settings: &settings,
            pass_settings: PassSettings::from_settings(&settings),
            alerter: container.alerter.as_ref(),
            now,
            dry_run: false,
            deadline: None,
            ledger_spares: true,
            page_history: &container.page_history,
            deadline_schedule: None,
        };
        let done = run_steps(&container.store, &steps).await;
        done.written.expect("outputs written");
        day.pass_requests = day.pass_requests.plus(done.outcome.requests.unwrap());
        let probed_now = |r: &&freshness_monitor::report::ResultRow| {
            r.last_probed_at() == Some(now) && r.state == State::Missing
        };
        day.polls += done.outcome.rows.iter().filter(probed_now).count();
        let overdue = |r: &&freshness_monitor::report::ResultRow| r.sla_violated_by_minutes > 0;
        day.polls_overdue += (done.outcome.rows.iter())
            .filter(probed_now)
            .filter(overdue)
            .count();
        day.awaiting += done
            .outcome
            .rows
            .iter()
            .filter(|r| r.awaiting_event)
            .count();
        day.alerts += done.alerts.alerted_artifacts.len();
        for row in &done.outcome.rows {
            let Some(label) = row.cycle_label() else {
                continue;
            };
            let cycle = (row.artifact_id.to_string(), label.to_string());
            if row.state == State::Fresh
                && let Some(at) = landed.pending_fresh.remove(&cycle)
            {
                day.fresh_after.push((now - at).num_seconds());
            }
        }
        for id in &done.alerts.resolved_artifacts {
            if let Some((cycle, at)) = landed.pending_resolved(id) {
                landed.at.remove(&cycle);
                day.resolved_after.push((now - at).num_seconds());
            }
        }
        for id in &done.alerts.alerted_artifacts {
            let row = done.outcome.rows.iter().find(|r| *r.artifact_id == **id);
            if let Some(label) = row.and_then(|r| r.cycle_label()) {
                landed.alerted.insert((id.clone(), label.to_string()));
            }
        }
    }
    server.abort();
    day
}

/// The landings of the day and what is still waiting to be seen of them.
#[derive(Default)]
struct Landed {
    start: DateTime<Utc>,
    producers: Producers,
    /// Every (artifact, cycle) landed so far, before the day too.
    seen: HashSet<(String, String)>,
    /// Landing times of objects whose row has not turned fresh yet.
    pending_fresh: HashMap<(String, String), DateTime<Utc>>,
    /// Landing times by (artifact, cycle), for the RESOLVED.
    at: HashMap<(String, String), DateTime<Utc>>,
    alerted: HashSet<(String, String)>,
}

impl Landed {
    /// Lands what is due by `now` (as `day`'s producers do) and returns those with an event.
    async fn land(
        &mut self,
        client: &aws_sdk_s3::Client,
        registry: &Registry,
        now: DateTime<Utc>,
    ) -> Vec<Landing> {
        let mut landings = Vec::new();
        for entry in &registry.entries {
            let RegistryEntry::Valid(spec) = entry else {
                continue;
            };
            let Some(cycle) = spec.cadence.cycle_at(now, &registry.calendar) else {
                continue;
            };
            let id = spec.id.to_string();
            if let Fate::Lands(delay) = fate(&id, &cycle.label)
                && cycle.tick + delay <= now
                && self.seen.insert((id.clone(), cycle.label.clone()))
                // Landed before the day: no event in the day, no latency to measure.
                && cycle.tick + delay >= self.start
            {
                let at = cycle.tick + delay;
                let key = ResolvedKeys::resolve(spec, &cycle).canonical_key;
                let pair = (id.clone(), cycle.label.clone());
                self.pending_fresh.insert(pair.clone(), at);
                self.at.insert(pair, at);
                landings.push(Landing {
                    id,
                    label: cycle.label.clone(),
                    key,
                    at,
                });
            }
        }
        // The PUTs, by `day`'s producers (stale objects too): the same objects, the same times.
        self.producers.land(client, registry, now).await;
        landings
    }

    /// The alerted (artifact, cycle) of `id` that landed and waits for its RESOLVED.
    fn pending_resolved(&self, id: &str) -> Option<((String, String), DateTime<Utc>)> {
        (self.alerted.iter())
            .filter(|(a, _)| a == id)
            .find_map(|pair| self.at.get(pair).map(|at| (pair.clone(), *at)))
    }
}

/// Delivers every queued event whose batch is invoked by `now`, batch by batch in time order.
async fn deliver_until(
    container: &Container<S3Store>,
    queue: &mut Vec<(DateTime<Utc>, Landing)>,
    now: DateTime<Utc>,
    landed: &mut Landed,
    day: &mut EventsDay,
) {
    queue.sort_by_key(|(at, _)| *at);
    let due = queue.iter().take_while(|(at, _)| *at <= now).count();
    let ready: Vec<(DateTime<Utc>, Landing)> = queue.drain(..due).collect();
    let mut i = 0;
    while i < ready.len() {
        let at = ready[i].0;
        let batch: Vec<&Landing> = (ready[i..].iter())
            .take_while(|(t, _)| *t == at)
            .take(BATCH_MAX)
            .map(|(_, l)| l)
            .collect();
        i += batch.len();
        let records: Vec<Value> = (batch.iter().enumerate())
            .map(|(m, l)| json!({"messageId": format!("m{m}"), "eventSource": "aws:sqs", "body": event(l).to_string()}))
            .collect();
        let Ok(Invocation::ObjectEvents(events)) = Invocation::parse(&json!({"Records": records}))
        else {
            panic!("not object events");
        };
        let response = run_object_events(container, &events, None, "bench", at)
            .await
            .expect("events applied");
        day.batches += 1;
        day.event_requests = day.event_requests.plus(requests_of(&response));
        let status = response["outputs"]["status"].as_str().unwrap_or("none");
        *day.outputs.entry(status.to_string()).or_default() += 1;
        let fresh = matches!(status, "written" | "unchanged");
        let resolved = response["resolved"].as_u64().unwrap_or(0) > 0;
        for landing in batch {
            let pair = (landing.id.clone(), landing.label.clone());
            if fresh && let Some(landed_at) = landed.pending_fresh.remove(&pair) {
                day.fresh_after.push((at - landed_at).num_seconds());
            }
            if resolved
                && landed.alerted.contains(&pair)
                && let Some(landed_at) = landed.at.remove(&pair)
            {
                day.resolved_after.push((at - landed_at).num_seconds());
            }
        }
    }
}

/// EventBridge's Object Created event for `landing`.
fn event(landing: &Landing) -> Value {
    json!({
        "version": "0", "id": "e", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": landing.at.to_rfc3339(), "region": "us-east-1",
        "resources": [], "detail": {"version": "0", "bucket": {"name": BUCKET},
        "object": {"key": landing.key, "size": 1, "etag": "e", "sequencer": "01"}}
    })
}

fn requests_of(response: &Value) -> RequestCounts {
    let r = &response["requests"];
    let n = |k: &str| r[k].as_u64().unwrap_or(0);
    RequestCounts {
        head: n("head"),
        list: n("list"),
        get: n("get"),
        put: n("put"),
        delete: n("delete"),
    }
}
