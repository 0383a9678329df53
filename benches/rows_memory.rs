//! Scratch (rows engineer): live and peak heap bytes of one steady pass over N generated
//! artifacts, counted by a global allocator.

#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use chrono::{DateTime, Utc};
use common::{MemoryStore, generate, runtime};
use freshness_monitor::ledger::Ledger;
use freshness_monitor::pass::{PassSettings, classify_registry, run_pass_with_ledger};
use freshness_monitor::registry::parse_registry;
use freshness_monitor::registry_source::LoadedRegistry;

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(now, Relaxed);
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if new > l.size() {
            let now = LIVE.fetch_add(new - l.size(), Relaxed) + new - l.size();
            PEAK.fetch_max(now, Relaxed);
        } else {
            LIVE.fetch_sub(l.size() - new, Relaxed);
        }
        q
    }
}

#[global_allocator]
static A: Counting = Counting;

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| a != "--bench")
        .map_or(100_000, |a| a.parse().unwrap());
    let now: DateTime<Utc> = "2026-06-05T15:00:00Z".parse().unwrap();
    let (yaml, objects) = generate(n, now, 1440);
    let registry = parse_registry("bench.yaml", yaml.as_bytes()).unwrap();
    drop(yaml);
    let store = MemoryStore::new(objects);
    let rt = runtime();
    let settings = PassSettings::default();
    let rows = rt.block_on(classify_registry(&store, &registry, &settings, now));
    let mut ledger = Ledger::new();
    ledger.advance(&rows, &[], now, |_| true);
    drop(rows);
    let loaded = LoadedRegistry {
        registry,
        name: "bench.yaml".into(),
        etag: None,
    };
    let later = now + chrono::Duration::minutes(15);
    for pass in ["steady", "steady again"] {
        let base = LIVE.load(Relaxed);
        PEAK.store(base, Relaxed);
        let outcome = rt.block_on(run_pass_with_ledger(
            &store,
            &loaded,
            &settings,
            later,
            Some(&ledger),
        ));
        let (peak, after) = (PEAK.load(Relaxed), LIVE.load(Relaxed));
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
            let sum = |f: &dyn Fn(&freshness_monitor::report::ResultRow) -> usize| {
                outcome.rows.iter().map(f).sum::<usize>() as f64 / n as f64
            };
            println!(
                "  per row: inline {} B, id {:.0}, key {:.0}, reason {:.0}, dedup {:.0}",
                std::mem::size_of::<freshness_monitor::report::ResultRow>(),
                0.0,
                sum(&|r| r.canonical_key.as_ref().map_or(0, |k| k.len())),
                sum(&|r| match &r.reason {
                    freshness_monitor::report::Reason::Said(t) => t.len() + 16,
                    freshness_monitor::report::Reason::Derived => 0,
                }),
                0.0,
            );
        }
        drop(outcome);
    }
}
