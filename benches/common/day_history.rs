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
use freshness_monitor::cadence::Cycle;
use freshness_monitor::classify::ResolvedKeys;
use freshness_monitor::history::from_log::recheck_due;
use freshness_monitor::history::plan::{not_expected, plan};
use freshness_monitor::history::{Lookback, ScanSettings, scan_history};
use freshness_monitor::ledger::LedgerTime;
use freshness_monitor::outcome_log::compacted::COMPACTED;
use freshness_monitor::outcome_log::packed::{PACKED_FORMAT, PackedArtifact, PackedCycle};
use freshness_monitor::outcome_log::{KnownBy, Outcome, OutcomeRecord, Recorded, SCHEMA_VERSION};
use freshness_monitor::registry::{ArtifactSpec, Registry};
use freshness_monitor::settings::Settings;
use freshness_monitor::store::s3::S3Store;

use super::day::{Fate, fate, put_object};

/// One history scan's figures.
pub struct HistoryRun {
    /// HEADs, the log's GETs, LISTs and PUT, the registry's GET and `history.json`'s PUT.
    pub requests: u64,
    pub heads: usize,
    /// LIST pages answering probed cycles' keys.
    pub lists: usize,
    pub log_requests: usize,
    pub from_log: usize,
    pub probes_by_reason: String,
    pub wall: StdDuration,
    /// The process's CPU time (user + system, all threads) over the scan.
    pub cpu: StdDuration,
    pub phases: freshness_monitor::history::ScanPhases,
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

pub async fn scan(
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
    let cpu_before = process_cpu();
    let history = scan_history(store, registry, &scan_settings, now).await;
    let wall = started.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_before);
    assert!(history.warnings.is_empty(), "{:?}", history.warnings);
    HistoryRun {
        // + the registry's GET and history.json's PUT, as the historical invocation makes.
        requests: (history.n_head_requests + history.n_list_requests + history.n_log_requests + 2)
            as u64,
        heads: history.n_head_requests,
        lists: history.n_list_requests,
        log_requests: history.n_log_requests,
        from_log: history.n_cycles_from_log,
        probes_by_reason: format!("{:?}", history.probes_by_reason()),
        wall,
        cpu,
        phases: history.phases,
    }
}

/// The process's CPU time so far (`/proc/self/stat`'s utime + stime, in clock ticks of
/// 1/100 s).
fn process_cpu() -> StdDuration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    StdDuration::from_millis(ticks * 10)
}

/// The producers' objects of the window's past cycles, and the compacted log of the earlier
/// daily scans.
async fn seed_past(
    client: &aws_sdk_s3::Client,
    registry: &Registry,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    for (key, last_modified) in past_objects(registry, start, now) {
        put_object(client, &key, last_modified).await;
    }
    let (body, records) = compacted_log(registry, start, now);
    println!(
        "seeded: {records} past cycles in the compacted log ({} bytes gzipped)",
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

/// The producers' objects of the cycles of a scan at `now` due before `start`.
fn past_objects(
    registry: &Registry,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<(String, DateTime<Utc>)> {
    let mut objects = Vec::new();
    for_past_cycles(registry, start, now, |spec, cycle, keys| {
        match fate(spec.id.as_str(), &cycle.label) {
            Fate::Lands(delay) => objects.push((keys.canonical_key.clone(), cycle.tick + delay)),
            Fate::Stale => {
                objects.push((keys.canonical_key.clone(), cycle.tick - Duration::days(1)))
            }
            Fate::Never => {}
        }
    });
    objects
}

/// Every planned cycle of a scan at `now` that was due before `start`.
fn for_past_cycles(
    registry: &Registry,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    mut each: impl FnMut(&ArtifactSpec, &Cycle, &ResolvedKeys),
) {
    let plan = plan(registry, &[], &Lookback::default(), now);
    for target in &plan.artifacts {
        for c in 0..target.len {
            let cycle = target.cycle(c);
            let keys = ResolvedKeys::resolve(target.spec, cycle);
            if keys.due_at < start {
                each(target.spec, cycle, &keys);
            }
        }
    }
}

/// The compacted log the earlier daily scans left, covering the expected cycles due before
/// `start` (gzipped, written as it is made, packed as this build's scan writes it), and how
/// many records it holds.
pub fn compacted_log(
    registry: &Registry,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Vec<u8>, usize) {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Buffered: flate2 zeroes its output buffer on every write it is given.
    let mut gz = std::io::BufWriter::with_capacity(256 * 1024, gz);
    writeln!(
        gz,
        r#"{{"history_outcomes":{PACKED_FORMAT},"through":null,"written_at":"{}"}}"#,
        start.format("%Y-%m-%dT%H:%M:%SZ")
    )
    .unwrap();
    let mut records = 0;
    let mut artifact: Option<PackedArtifact> = None;
    for_past_cycles(registry, start, now, |spec, cycle, keys| {
        if not_expected(spec, cycle).is_some() {
            return;
        }
        let record = record(spec, cycle, keys, start);
        if artifact
            .as_ref()
            .is_none_or(|a| *a.id != *record.artifact_id)
        {
            flush(artifact.take(), &mut gz);
            artifact = Some(PackedArtifact {
                id: String::from(&*record.artifact_id).into(),
                cycles: Vec::new(),
                sets: Vec::new(),
            });
        }
        let packed = PackedCycle::of(&Recorded::of(&record));
        artifact.as_mut().unwrap().cycles.push(packed);
        records += 1;
    });
    flush(artifact, &mut gz);
    (gz.into_inner().unwrap().finish().unwrap(), records)
}

/// One artifact's packed line.
fn flush(artifact: Option<PackedArtifact>, out: &mut impl Write) {
    if let Some(artifact) = artifact {
        serde_json::to_writer(&mut *out, &artifact).unwrap();
        out.write_all(b"\n").unwrap();
    }
}

/// The record of a past cycle by its fate, looked at as the passes and the daily scans did.
fn record(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: &ResolvedKeys,
    start: DateTime<Utc>,
) -> OutcomeRecord {
    let t = LedgerTime::saturating_from;
    let (outcome, landed, checked) = match fate(spec.id.as_str(), &cycle.label) {
        Fate::Lands(delay) => {
            let landed = cycle.tick + delay;
            let outcome = if landed <= keys.due_at {
                Outcome::OnTime
            } else {
                Outcome::Late
            };
            (outcome, Some(landed), keys.due_at + Duration::days(1))
        }
        Fate::Stale | Fate::Never => (Outcome::Missing, None, last_look(keys.due_at, start)),
    };
    OutcomeRecord {
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
        recorded_at: t(checked.min(start)),
        set_total: None,
        set_written: None,
    }
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

/// `history N DELAY_MS`: the daily history scan of N generated artifacts once the log covers
/// its window, through the delaying proxy in front of the stand-in: the compacted log holds
/// every expected cycle due before the scan (the day's passes' records included, so the ~96
/// GETs of the day's own objects are not in this figure), misses looked at on the recheck
/// schedule. Prints the requests, the wall and CPU time by phase and what the log answered.
///
/// `history N DELAY_MS first`: the first scan after a deploy (no log yet) against the scan
/// before the log (`log_location: None`), alternately, RUNS times each (`HISTORY_RUNS`,
/// default 1), on the same stand-in: the ratio in one run.
pub fn at_scale(n: usize, delay_ms: u64, first: bool) {
    let now: DateTime<Utc> = SCAN_AT.parse().unwrap();
    let (yaml, _) = super::common::generate(n, now, 60);
    let registry = freshness_monitor::registry::parse_registry("bench.yaml", yaml.as_bytes())
        .expect("generated registry");
    let mut extra = vec![(
        "_freshness_monitor/ARTIFACT_REGISTRY.yaml".to_string(),
        yaml.into_bytes(),
    )];
    if !first {
        let made = Instant::now();
        let (body, records) = compacted_log(&registry, now, now);
        println!(
            "compacted log: {records} records, {} bytes gzipped, made in {:.1} s",
            body.len(),
            made.elapsed().as_secs_f64()
        );
        extra.push((format!("_freshness_monitor/{COMPACTED}"), body));
    }
    super::common::runtime().block_on(async move {
        let port = free_port();
        let proxy_port = free_port();
        tokio::spawn(async move {
            super::s3_standin::serve_objects(port, super::common::BUCKET, Vec::new(), extra).await
        });
        let delay = StdDuration::from_millis(delay_ms);
        tokio::spawn(super::proxy(proxy_port, port, delay));
        tokio::time::sleep(StdDuration::from_millis(300)).await;
        let client = super::client(&format!("http://127.0.0.1:{proxy_port}")).await;
        let store = S3Store::new(client, StdDuration::from_secs(10));
        let settings = Settings::from_lookup(|name| match name {
            "REGISTRY_BUCKET" => Some(super::common::BUCKET.to_string()),
            _ => None,
        })
        .unwrap();
        if !first {
            let run = scan(&store, &registry, &settings, now, true).await;
            print_run(
                &format!("history of {n} artifacts at +{delay_ms} ms from the log"),
                &run,
            );
            write_outputs(&store, &registry, &settings, now).await;
            return;
        }
        let runs: usize = std::env::var("HISTORY_RUNS").map_or(1, |r| r.parse().unwrap());
        for _ in 0..runs {
            let before = scan(&store, &registry, &settings, now, false).await;
            print_run(
                &format!("{n} at +{delay_ms} ms, without the log (before it)"),
                &before,
            );
            let first = scan(&store, &registry, &settings, now, true).await;
            print_run(
                &format!("{n} at +{delay_ms} ms, first scan with the log"),
                &first,
            );
            delete_compacted(&store).await;
        }
    });
}

/// The `now` of the benchmark's history scans.
const SCAN_AT: &str = "2026-12-04T04:00:00Z";

/// `serve-history PORT N`: the stand-in with `history N`'s registry and compacted log, until
/// the process is killed. Made at the clock's now (`run --historical` scans at its own
/// clock): the cycles due between the start and the scan are not in the log and are probed.
///
/// With `HISTORY_PASSES` other than `off` (on by default), what a day of passes since the last
/// scan leaves too: the compacted log covers the cycles due before a day ago
/// ([`passes_objects`] the cycles closed since, [`last_ledger`] the current cycles). The
/// continuous feeds (a sixth of the artifacts) tick every `HISTORY_FEED_MINUTES` (60).
pub fn serve(port: u16, n: usize) {
    let now = Utc::now();
    let feed_minutes = std::env::var("HISTORY_FEED_MINUTES").map_or(60, |m| m.parse().unwrap());
    let (yaml, _) = super::common::generate(n, now, feed_minutes);
    let registry = freshness_monitor::registry::parse_registry("bench.yaml", yaml.as_bytes())
        .expect("generated registry");
    let passes = std::env::var("HISTORY_PASSES").map_or(true, |v| v != "off");
    let compacted_at = if passes { now - Duration::days(1) } else { now };
    let (body, records) = compacted_log(&registry, compacted_at, now);
    eprintln!(
        "compacted log: {records} records, {} bytes gzipped",
        body.len()
    );
    let mut extra = vec![(format!("_freshness_monitor/{COMPACTED}"), body)];
    if passes {
        extra.extend(passes_objects(&registry, compacted_at, now));
        extra.push(last_ledger(&registry, now));
    }
    drop(registry);
    extra.push((
        "_freshness_monitor/ARTIFACT_REGISTRY.yaml".to_string(),
        yaml.into_bytes(),
    ));
    super::common::runtime().block_on(super::s3_standin::serve_objects(
        port,
        super::common::BUCKET,
        Vec::new(),
        extra,
    ));
}

/// The passes' outcome objects since `from` (the last scan's compaction): one per pass every
/// 15 minutes that closed any cycle, holding the records of the expected cycles it closed (a
/// cycle closes at the next one's tick, the first pass after it records it), in registry order
/// as a pass writes its rows, as [`record`] makes them, looked at by that pass.
fn passes_objects(
    registry: &Registry,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<(String, Vec<u8>)> {
    let made = Instant::now();
    let slot = |at: DateTime<Utc>| ((at - from).num_seconds().max(0) as u64).div_ceil(900) as usize;
    let slots = slot(now);
    let mut objects: Vec<_> = (0..=slots).map(|_| NdjsonGz::default()).collect();
    for_cycles_closed(registry, from, now, |spec, cycle, keys, closed| {
        let pass_at = from + Duration::seconds(900 * slot(closed) as i64);
        let mut record = record(spec, cycle, keys, pass_at);
        record.recorded_at = LedgerTime::saturating_from(pass_at);
        objects[slot(closed)].line(&record);
    });
    let mut out = Vec::new();
    let mut records = 0;
    for (i, object) in objects.into_iter().enumerate() {
        if object.lines == 0 {
            continue;
        }
        records += object.lines;
        let pass_at = from + Duration::seconds(900 * i as i64);
        let key = freshness_monitor::outcome_log::object_key("_freshness_monitor/", pass_at, 0);
        out.push((key, object.finish()));
    }
    let bytes: usize = out.iter().map(|(_, b)| b.len()).sum();
    eprintln!(
        "passes' objects since {from}: {} objects, {records} records, {bytes} bytes gzipped, \
         made in {:.1} s",
        out.len(),
        made.elapsed().as_secs_f64()
    );
    out
}

/// Every expected planned cycle of a scan at `now` closed in (`from`, `now`]: its next cycle
/// ticked then (`closed`).
fn for_cycles_closed(
    registry: &Registry,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    mut each: impl FnMut(&ArtifactSpec, &Cycle, &ResolvedKeys, DateTime<Utc>),
) {
    let plan = plan(registry, &[], &Lookback::default(), now);
    for target in &plan.artifacts {
        for c in 0..target.len {
            let cycle = target.cycle(c);
            let closed = cycle.tick + cycle.length;
            if closed <= from || closed > now || not_expected(target.spec, cycle).is_some() {
                continue;
            }
            each(
                target.spec,
                cycle,
                &ResolvedKeys::resolve(target.spec, cycle),
                closed,
            );
        }
    }
}

/// One passes' object as it is made: gzipped NDJSON records.
struct NdjsonGz {
    gz: std::io::BufWriter<flate2::write::GzEncoder<Vec<u8>>>,
    lines: usize,
}

impl Default for NdjsonGz {
    fn default() -> Self {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        NdjsonGz {
            gz: std::io::BufWriter::with_capacity(64 * 1024, gz),
            lines: 0,
        }
    }
}

impl NdjsonGz {
    fn line(&mut self, record: &OutcomeRecord) {
        serde_json::to_writer(&mut self.gz, record).unwrap();
        self.gz.write_all(b"\n").unwrap();
        self.lines += 1;
    }

    fn finish(self) -> Vec<u8> {
        self.gz.into_inner().unwrap().finish().unwrap()
    }
}

/// `ledger.json` as the last pass before `now` leaves it: each artifact in its cycle at
/// `now`, fresh since its landing when its fate landed it by then, else missing.
fn last_ledger(registry: &Registry, now: DateTime<Utc>) -> (String, Vec<u8>) {
    use freshness_monitor::classify::State;
    use freshness_monitor::ledger::{Ledger, LedgerEntries, LedgerEntry};
    let t = LedgerTime::saturating_from;
    let mut entries = Vec::new();
    for spec in registry.valid_artifacts() {
        let Some(cycle) = spec.cadence.cycle_at(now, &registry.calendar) else {
            continue;
        };
        let landed = match fate(spec.id.as_str(), &cycle.label) {
            Fate::Lands(delay) if cycle.tick + delay <= now => Some(cycle.tick + delay),
            _ => None,
        };
        let state = landed.map_or(State::Missing, |_| State::Fresh);
        let mut entry = LedgerEntry::new_cycle(cycle.label.as_str().into(), state);
        entry.fresh_at = landed.map(t);
        entry.last_modified = landed.map(t);
        entry.last_probe_at = Some(t(now));
        entries.push((spec.id.as_str().into(), entry));
    }
    let ledger = Ledger {
        version: freshness_monitor::ledger::LEDGER_VERSION,
        written_at: Some(now),
        artifacts: LedgerEntries::from_unsorted(entries),
        ..Ledger::default()
    };
    let body = serde_json::to_vec(&ledger).unwrap();
    eprintln!(
        "ledger: {} entries, {} bytes",
        ledger.artifacts.len(),
        body.len()
    );
    ("_freshness_monitor/ledger.json".to_string(), body)
}

/// The historical run's writes after its scan (scanned again: [`scan`] keeps no history):
/// `history.json` and the page's digest, each uploaded in parts through the proxy, with their
/// bytes, parts and wall time, and `history.json`'s size gzipped (read back and compressed
/// here, not by the monitor).
async fn write_outputs(
    store: &S3Store,
    registry: &Registry,
    settings: &Settings,
    now: DateTime<Utc>,
) {
    use freshness_monitor::history::write::{put_digest, put_history_json};
    use freshness_monitor::store::ObjectStore;
    let scan_settings = ScanSettings {
        log_location: Some(settings.output_location()),
        ..ScanSettings::default()
    };
    let history = scan_history(store, registry, &scan_settings, now).await;
    let bucket = super::common::BUCKET;
    let started = Instant::now();
    let key = "_freshness_monitor/history.json";
    let file = put_history_json(store, bucket, key, &history)
        .await
        .unwrap();
    let file_took = started.elapsed();
    let digest_key = "_freshness_monitor/history_digest.ndjson.gz";
    let digest = put_digest(store, bucket, digest_key, &history)
        .await
        .unwrap();
    let digest_took = started.elapsed() - file_took;
    let body = store.get(bucket, key).await.unwrap().body;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for chunk in body.chunks(256 * 1024) {
        gz.write_all(chunk).unwrap();
    }
    let gzipped = gz.finish().unwrap().len();
    let n = history.artifacts.len().max(1) as f64;
    println!(
        "history.json: {} bytes ({:.0} B/artifact) in {} parts, {:.1} s; gzipped {} bytes \
         ({:.0} B/artifact); digest: {} bytes gzipped ({:.0} B/artifact) in {} parts, {:.1} s",
        file.bytes,
        file.bytes as f64 / n,
        file.parts,
        file_took.as_secs_f64(),
        gzipped,
        gzipped as f64 / n,
        digest.bytes,
        digest.bytes as f64 / n,
        digest.parts,
        digest_took.as_secs_f64()
    );
}

fn print_run(what: &str, run: &HistoryRun) {
    let s = |d: StdDuration| d.as_secs_f64();
    println!(
        "{what}: {:.1} s wall, {:.1} s CPU (read log {:.1} s, cycles {:.1} s, write log {:.1} s), \
         {} requests ({} HEAD, {} LIST, {} log), {} cycles from the log, probes {}",
        s(run.wall),
        s(run.cpu),
        s(run.phases.read_log),
        s(run.phases.cycles),
        s(run.phases.write_log),
        run.requests,
        run.heads,
        run.lists,
        run.log_requests,
        run.from_log,
        run.probes_by_reason
    );
}

/// The compacted log a first scan wrote, so the next run is a first scan again.
async fn delete_compacted(store: &S3Store) {
    use freshness_monitor::store::ObjectStore;
    let key = format!("_freshness_monitor/{COMPACTED}");
    store.delete(super::common::BUCKET, &key).await.unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
