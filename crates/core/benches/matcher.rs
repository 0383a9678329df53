//! The event matcher's cost (`freshness_core::matcher`): compiling a registry, and matching
//! one S3 "Object Created" key back to its artifact and cycle.
//!
//! Run: `cargo bench -p freshness-core --bench matcher` (optionally `-- 1000 1000000`). Method: for each size, a
//! registry of the benchmarks' mix is generated (`benches/common`'s templates and cadences:
//! `{date}`, `{date:FMT}`, `{trading_day}`, `{cycle_label}`, pointers, a fifth with recovery
//! keys) and parsed; `Matcher::new` is timed once; then 10,000 keys are matched, each the
//! current key of an artifact spread evenly over the registry (a hit: a cycle computed and a
//! key rendered per candidate), and 10,000 keys that no template has (a miss). Each figure is
//! the median of 5 rounds, per key. It lives in the core crate, so it builds without the
//! AWS SDK (and runs on the system allocator, not the binary's mimalloc).
//!
//! Memory: the process's resident set (`VmRSS` of /proc/self/status, Linux) before the
//! registry is generated and parsed and after (the generated YAML is dropped by then: one
//! large allocation, returned to the system), and again after `Matcher::new`: what an event
//! container keeps between invocations (`src/lambda/registry_cache.rs`) is the sum.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use freshness_core::classify::ResolvedKeys;
use freshness_core::matcher::{CycleOfKey, Matcher};
use freshness_core::registry::{Registry, parse_registry};

const BUCKET: &str = "bench-bucket";
const KEYS: usize = 10_000;

/// The benchmarks' registry mix (`benches/common/mod.rs`), without its objects.
fn registry(n: usize) -> Registry {
    let mut yaml = String::with_capacity(n * 220);
    yaml.push_str(
        "schema_version: 1\ndefaults:\n  s3_bucket: bench-bucket\n  severity: warning\n  \
         owner_repo: producer\n  created_at: 2025-01-01\n  sla_minutes_after_cron: 60\n\
         cadences:\n  ny_open: {cron: \"30 9 * * 1-5\", timezone: America/New_York, calendar: nyse}\n\
         artifacts:\n",
    );
    for i in 0..n {
        let (cadence, template, extra) = match i % 6 {
            0 => ("saturday_sf", "weekly/{date}/a{i}.json", ""),
            1 => ("weekday_sf", "daily/{date:%Y/%m/%d}/a{i}.json", ""),
            2 => ("eod_sf", "eod/{trading_day}/a{i}.json", ""),
            3 => (
                "continuous",
                "feed/{cycle_label}/a{i}.json",
                "    interval_minutes: 15\n",
            ),
            4 => ("ny_open", "open/{date}/a{i}.json", ""),
            _ => ("weekday_sf", "pointers/a{i}.json", ""),
        };
        let template = template.replace("{i}", &i.to_string());
        yaml.push_str(&format!(
            "  - artifact_id: a{i}\n    s3_key_template: \"{template}\"\n    cadence: {cadence}\n{extra}"
        ));
        if i % 5 == 1 {
            yaml.push_str(&format!(
                "    recovery_key_template: \"recovery/a{i}/{{date}}.json\"\n"
            ));
        }
    }
    parse_registry("bench.yaml", yaml.as_bytes()).expect("generated registry")
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The median over 5 rounds of matching every key, per key; and how many keys matched their
/// current cycle in the last round.
fn per_key(
    matcher: &Matcher,
    registry: &Registry,
    keys: &[String],
    now: DateTime<Utc>,
) -> (Duration, usize) {
    let mut rounds = Vec::new();
    let mut current = 0;
    for _ in 0..5 {
        current = 0;
        let started = Instant::now();
        for key in keys {
            let found = matcher.match_key(registry, BUCKET, key, now);
            current += found
                .iter()
                .filter(|m| matches!(m.cycle, CycleOfKey::Current(_)))
                .count();
        }
        rounds.push(started.elapsed() / keys.len() as u32);
    }
    (median(rounds), current)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let benchmarking = args.iter().any(|a| a == "--bench");
    let sizes = match (sizes.is_empty(), benchmarking) {
        (false, _) => sizes,
        (true, true) => vec![1_000, 100_000, 1_000_000],
        (true, false) => vec![48],
    };
    let now: DateTime<Utc> = "2026-06-03T15:00:00Z".parse().unwrap();
    println!(
        "{:>9}  {:>10}  {:>12}  {:>12}  {:>8}  {:>11}  {:>10}",
        "artifacts",
        "build ms",
        "hit µs/key",
        "miss µs/key",
        "matched",
        "registry MB",
        "matcher MB"
    );
    for n in sizes {
        let before = resident_bytes();
        let registry = registry(n);
        let parsed = resident_bytes();
        let started = Instant::now();
        let matcher = Matcher::new(&registry);
        let build = started.elapsed();
        let compiled = resident_bytes();
        let specs: Vec<_> = registry.valid_artifacts().collect();
        let step = (specs.len() / KEYS.min(specs.len())).max(1);
        let hits: Vec<String> = (specs.iter().step_by(step).take(KEYS))
            .filter_map(|spec| spec.cycle_at(now, &registry.calendar).map(|c| (spec, c)))
            .map(|(spec, cycle)| ResolvedKeys::resolve(spec, &cycle).canonical_key)
            .collect();
        let misses: Vec<String> = (0..hits.len())
            .map(|i| format!("landing/tmp/{i}.part"))
            .collect();
        let (hit, matched) = per_key(&matcher, &registry, &hits, now);
        let (miss, _) = per_key(&matcher, &registry, &misses, now);
        println!(
            "{n:>9}  {:>10.1}  {:>12.2}  {:>12.3}  {:>8}  {:>11.1}  {:>10.1}",
            build.as_secs_f64() * 1000.0,
            hit.as_secs_f64() * 1e6,
            miss.as_secs_f64() * 1e6,
            format!("{matched}/{}", hits.len()),
            megabytes(before, parsed),
            megabytes(parsed, compiled),
        );
    }
}

/// The process's resident set in bytes (0 where /proc is not there).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    (status.lines())
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn megabytes(from: u64, to: u64) -> f64 {
    to.saturating_sub(from) as f64 / 1e6
}
