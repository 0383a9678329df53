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

use freshness_monitor::registry::{ArtifactSpec, RegistryEntry, parse_registry};
use freshness_monitor::template::KeyTemplate;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{CountingAllocator, alive, take_peak};

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
    let before = alive();
    take_peak();
    let registry = parse_registry("bench.yaml", yaml.as_bytes()).expect("generated registry");
    let kept = alive() - before;
    let peak = take_peak() - before;
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
