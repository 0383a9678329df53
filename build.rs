//! Links the `freshness-monitor` binary as a position-dependent executable (`-no-pie`).
//!
//! A PIE is relocated by the dynamic loader at start: every pointer in `.data.rel.ro` (the
//! SDK's vtables, tables of string slices) is written, so those pages become private dirty
//! copies, resident whether a pass ever reads them or not (~2 MiB of a small pass's peak,
//! BENCHMARKS.md "A small pass"). Linked at a fixed address those pointers are final in the
//! file, and only the pages a pass reads are mapped. Only the binary is linked so: tests,
//! benches and the library stay as rustc makes them.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // `FRESHNESS_MONITOR_PIE=1` links a PIE as before, for a same-profile comparison.
    println!("cargo:rerun-if-env-changed=FRESHNESS_MONITOR_PIE");
    let pie = std::env::var_os("FRESHNESS_MONITOR_PIE").is_some_and(|v| v == "1");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") && !pie {
        println!("cargo:rustc-link-arg-bin=freshness-monitor=-no-pie");
    }
}
