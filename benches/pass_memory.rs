//! The pass's own heap (issue 17's million): a counting global allocator around a pass that
//! probes everything and two steady passes (`run_pass` with the ledger of a
//! pass at the same cycle) over N
//! generated artifacts in an in-memory store: the peak bytes the pass adds to what was alive
//! before it (registry, ledger, store), and what it leaves alive (its rows), per artifact.
//! `benches/memory.rs` counts the Lambda's whole steps; this isolates the pass.
//!
//!   cargo bench --profile dev --bench pass_memory -- 200000
//!
//! Without an argument (as under `cargo test --benches`) it prints this usage and exits.

mod common;

use chrono::{DateTime, Utc};
use common::{generate, memory_store, runtime};
use freshness_monitor::ledger::Ledger;
use freshness_monitor::pass::{PassSettings, classify_registry, run_pass};
use freshness_monitor::registry::parse_registry;
use freshness_monitor::registry_source::LoadedRegistry;
use freshness_monitor::report::{Reason, ResultRow};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{CountingAllocator, alive, take_peak};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn main() {
    let Some(n) = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(|a| a.parse::<usize>().expect("N: a number of artifacts"))
    else {
        println!("usage: pass_memory N (artifacts)");
        return;
    };
    let now: DateTime<Utc> = "2026-06-05T15:00:00Z".parse().unwrap();
    let (yaml, objects) = generate(n, now, 1440);
    let registry = parse_registry("bench.yaml", yaml.as_bytes()).unwrap();
    drop(yaml);
    let store = memory_store(objects);
    let rt = runtime();
    let settings = PassSettings::default();
    let rows = rt.block_on(classify_registry(&store, &registry, &settings, now, None));
    let mut ledger = Ledger::new();
    ledger.advance(&rows, &[], now, |_| true);
    drop(rows);
    let loaded = LoadedRegistry {
        registry,
        name: "bench.yaml".into(),
        etag: None,
    };
    let later = now + chrono::Duration::minutes(15);
    for pass in ["first (no ledger)", "steady", "steady again"] {
        let ledger = (pass != "first (no ledger)").then_some(&ledger);
        let base = alive();
        take_peak();
        let outcome = rt.block_on(run_pass(&store, &loaded, &settings, later, ledger));
        let (peak, after) = (take_peak(), alive());
        let per = |b: usize| (b.saturating_sub(base)) as f64 / n as f64;
        let c = outcome.counts();
        println!(
            "{pass} pass, {n} artifacts ({} fresh, {} stale, {} missing, {} grace, {} failed): \
             peak +{:.0} B/artifact, after +{:.0} B/artifact (rows held)",
            c.fresh,
            c.stale,
            c.missing,
            c.grace_period,
            c.probe_failed,
            per(peak),
            per(after)
        );
        if pass == "steady" {
            let per_row = |f: &dyn Fn(&ResultRow) -> usize| {
                outcome.rows.iter().map(f).sum::<usize>() as f64 / n as f64
            };
            println!(
                "  per row: {} B inline, {:.0} B of canonical key, {:.0} B of reason text held \
                 (shared text counted in every row that holds it)",
                std::mem::size_of::<ResultRow>(),
                per_row(&|r| r.canonical_key.as_ref().map_or(0, |k| k.len())),
                per_row(&|r| match &r.reason {
                    Reason::Said(text) => text.len(),
                    Reason::Derived => 0,
                }),
            );
        }
        drop(outcome);
    }
}
