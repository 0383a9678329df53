//! The parsed registry's bytes, counted: what a million specs keep for a whole pass, and the
//! top of the load that makes them (issue 17's 512 MB at a million artifacts). A counting
//! global allocator (as in `benches/memory.rs`: a realloc counts its new block before the
//! old one goes) measures `parse_registry` over the generated registry of N artifacts:
//!
//!   cargo bench --profile dev --bench registry_memory -- 200000
//!
//! It prints the YAML body, the bytes alive after the parse (the registry) and the peak during
//! it above the body, in total and per artifact, and the inline sizes of the spec types.
//! Allocation sizes do not depend on the optimisation level, so the dev profile measures what
//! release allocates. Without a number (as under `cargo test --benches`, whose `--` options
//! it ignores) it prints its usage and exits.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use freshness_monitor::registry::{ArtifactSpec, RegistryEntry, parse_registry};
use freshness_monitor::template::KeyTemplate;

struct CountingAllocator;

static ALIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's own arguments, which satisfy
// `GlobalAlloc`'s contract by the caller's obligation; the counting touches only atomics.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        ALIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            grew(new_size);
            ALIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

fn grew(size: usize) {
    let alive = ALIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(alive, Ordering::Relaxed);
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const USAGE: &str = "usage: registry_memory N  (N generated artifacts, parsed once)";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.as_slice() {
        [n] => measure(n.parse().expect("N is a number")),
        _ => eprintln!("{USAGE}"),
    }
}

fn measure(n: usize) {
    let (yaml, objects) = common::generate(n, chrono::Utc::now(), 1440);
    drop(objects);
    let before = ALIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let registry = parse_registry("bench.yaml", yaml.as_bytes()).expect("generated registry");
    let kept = ALIVE.load(Ordering::Relaxed) - before;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let mb = |bytes: usize| bytes as f64 / 1e6;
    println!("{n} artifacts, a YAML body of {:.1} MB", mb(yaml.len()));
    println!(
        "kept after the parse: {:.1} MB, {} B/artifact",
        mb(kept),
        kept / n
    );
    println!(
        "the load's peak above the body: {:.1} MB, {} B/artifact ({:.1} MB with the body)",
        mb(peak),
        peak / n,
        mb(peak + yaml.len())
    );
    println!(
        "inline: RegistryEntry {} B, ArtifactSpec {} B, KeyTemplate {} B",
        size_of::<RegistryEntry>(),
        size_of::<ArtifactSpec>(),
        size_of::<KeyTemplate>()
    );
    drop(registry);
}
