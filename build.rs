//! Links the `freshness-monitor` binary as a position-dependent executable (`-no-pie`), with
//! the code a small invocation runs placed together (`link/symbol-order.txt`).
//!
//! A PIE is relocated by the dynamic loader at start: every pointer in `.data.rel.ro` (the
//! SDK's vtables, tables of string slices) is written, so those pages become private dirty
//! copies, resident whether a pass ever reads them or not (~2 MiB of a small pass's peak,
//! BENCHMARKS.md "A small pass"). Linked at a fixed address those pointers are final in the
//! file, and only the pages a pass reads are mapped. Only the binary is linked so: tests,
//! benches and the library stay as rustc makes them.
//!
//! The kernel maps a binary's code on a fault 64 KiB at a time (fault-around), so the code a
//! pass runs, ~4 MiB of functions spread over a 12 MiB text segment, kept ~11 MiB of it
//! resident. `link/symbol-order.txt` lists those functions (`benches/code_order.sh` makes it
//! from callgrind traces of the release binary); lld places them first in `.text`, together
//! (BENCHMARKS.md, "A small pass's memory, fifth round"). A name the build no longer has (the
//! code or a dependency changed) is skipped; the layout is then only less good, never wrong.
//! Only where rustc links with its own lld (x86_64 Linux, rustc 1.90 or later, no linker
//! configured: not under cargo-zigbuild), since other linkers may not know the option.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // `FRESHNESS_MONITOR_PIE=1` links a PIE as before, for a same-profile comparison.
    println!("cargo:rerun-if-env-changed=FRESHNESS_MONITOR_PIE");
    let pie = std::env::var_os("FRESHNESS_MONITOR_PIE").is_some_and(|v| v == "1");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") && !pie {
        println!("cargo:rustc-link-arg-bin=freshness-monitor=-no-pie");
    }
    println!("cargo:rerun-if-changed=link/symbol-order.txt");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    if links_with_rust_lld() {
        let order = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("link/symbol-order.txt");
        let arg = "cargo:rustc-link-arg-bin=freshness-monitor=-Wl";
        println!("{arg},--symbol-ordering-file={}", order.display());
        println!("{arg},--no-warn-symbol-ordering");
    }
}

/// Whether rustc links this target with its own lld: the default on x86_64-unknown-linux-gnu
/// since rustc 1.90, unless a linker is configured (`RUSTC_LINKER`) or the flags choose
/// another (`-C linker…`, `-fuse-ld`).
fn links_with_rust_lld() -> bool {
    let target = std::env::var("TARGET").unwrap_or_default();
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    target == "x86_64-unknown-linux-gnu"
        && std::env::var_os("RUSTC_LINKER").is_none()
        && !flags.contains("linker")
        && !flags.contains("fuse-ld")
        && rustc_minor().is_some_and(|minor| minor >= 90)
}

/// The minor version of the rustc that builds this crate (`rustc 1.95.0 (…)` gives 95).
fn rustc_minor() -> Option<u32> {
    let rustc = std::env::var_os("RUSTC")?;
    let out = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text.split_whitespace().nth(1)?;
    version.split('.').nth(1)?.parse().ok()
}
