//! The status page's cost: its size and render time at each registry size, against the pass
//! it is rendered from (`cargo bench --bench page`, optionally `-- 1000 100000`).
//!
//! Method: the benchmark's generated registry (`common::generate`, its owners spread over 40
//! teams) is judged by the pure pass over an in-memory store (`classify_registry`, as
//! `benches/core.rs`); then `render_status_page` runs 5 times after a warm-up, without a
//! history (what a pass whose `history.json` is missing or over 32 MB draws) and with a
//! synthetic history of 21 cycles per artifact (the generated mix's mean; what
//! `history --html` draws). Medians are printed; the page's bytes are exact.
//! BENCHMARKS.md#status-page turns them into shares of the measured passes.

mod common;

/// The binary's allocator (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{generate, memory_store, runtime};
use freshness_monitor::history::SlaCounts;
use freshness_monitor::page::{
    ArtifactStrip, CellMark, DEFAULT_PASS_INTERVAL, HistoryDigest, PageHistory, PageInput,
    StripCell, render_status_page,
};
use freshness_monitor::pass::{PassSettings, run_pass};
use freshness_monitor::registry::parse_registry;
use freshness_monitor::registry_source::LoadedRegistry;

/// The generated registry with `owner_repo: team-K` (K = index mod 40) on every artifact.
fn with_owners(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() * 2);
    let mut index = 0;
    for line in yaml.lines() {
        out.push_str(line);
        out.push('\n');
        if line.starts_with("  - artifact_id:") {
            out.push_str(&format!("    owner_repo: team-{}\n", index % 40));
            index += 1;
        }
    }
    out
}

/// 21 cycles per artifact: mostly on time, some late, a gap, a closed day.
fn synthetic_history(ids: impl Iterator<Item = String>, now: DateTime<Utc>) -> HistoryDigest {
    let artifacts = ids
        .enumerate()
        .map(|(i, id)| {
            let cells: Vec<StripCell> = (0..21)
                .map(|c| StripCell {
                    cycle_label: format!("2026-06-{:02}", c + 1),
                    mark: match (i + c) % 10 {
                        0 => CellMark::Late { minutes: 42 },
                        1 if i % 3 == 0 => CellMark::Missing,
                        2 => CellMark::NotExpected,
                        _ => CellMark::OnTime,
                    },
                })
                .collect();
            let strip = ArtifactStrip {
                cells: cells[cells.len() - 12..].to_vec(),
                sla: SlaCounts {
                    expected: 19,
                    on_time: 17,
                    late: 2,
                    ..SlaCounts::default()
                },
            };
            (id, strip)
        })
        .collect::<HashMap<_, _>>();
    HistoryDigest {
        generated_at: now,
        artifacts,
    }
}

fn median_of_5(mut work: impl FnMut() -> usize) -> (Duration, usize) {
    let bytes = work();
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(work(), bytes);
            t.elapsed()
        })
        .collect();
    times.sort();
    (times[2], bytes)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benchmarking = args.iter().any(|a| a == "--bench");
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = match (sizes.is_empty(), benchmarking) {
        (false, _) => sizes,
        (true, true) => vec![1_000, 100_000],
        (true, false) => vec![48],
    };
    let now: DateTime<Utc> = "2026-06-03T15:00:00Z".parse().unwrap();
    let rt = runtime();
    println!(
        "{:>8} {:>9} {:>9} {:>11} {:>12} {:>11} {:>12} {:>11}",
        "size",
        "alerting",
        "pass ms",
        "page bytes",
        "render ms",
        "% of pass",
        "+history B",
        "render ms"
    );
    for n in sizes {
        let (yaml, objects) = generate(n, now, 15);
        let store = memory_store(objects);
        let loaded = LoadedRegistry {
            registry: parse_registry("bench.yaml", with_owners(&yaml).as_bytes()).unwrap(),
            name: "bench.yaml".into(),
            etag: None,
        };
        let t = Instant::now();
        let outcome = rt.block_on(run_pass(
            &store,
            &loaded,
            &PassSettings::default(),
            now,
            None,
        ));
        let pass = t.elapsed();
        let render = |history: &PageHistory| {
            render_status_page(&PageInput {
                outcome: &outcome,
                history,
                now,
                pass_interval: DEFAULT_PASS_INTERVAL,
            })
            .len()
        };
        let (plain, plain_bytes) = median_of_5(|| render(&PageHistory::None));
        let digest = synthetic_history(outcome.rows.iter().map(|r| r.artifact_id.to_string()), now);
        let history = PageHistory::Digest(digest);
        let (with_history, history_bytes) = median_of_5(|| render(&history));
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{:>8} {:>9} {:>9.1} {:>11} {:>12.1} {:>10.1}% {:>12} {:>11.1}",
            n,
            outcome.alerting_rows().count(),
            ms(pass),
            plain_bytes,
            ms(plain),
            ms(plain) / ms(pass) * 100.0,
            history_bytes,
            ms(with_history)
        );
    }
}
