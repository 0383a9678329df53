//! The `freshness-monitor` binary: the Lambda's bootstrap when the runtime starts it, the CLI
//! otherwise.

mod cli;

use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: a pass allocates a few small strings per artifact, and
/// at 100,000 artifacts glibc's malloc and free were ~40% of the pure core's CPU (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` in mimalloc v3's `mimalloc.h` (the Rust bindings name only
/// v2's options; libmimalloc-sys 0.1.49, locked in Cargo.lock, vendors v3). Re-check the
/// index when that crate is upgraded.
#[cfg(target_os = "linux")]
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// `mi_option_purge_delay` in the same header (index 15): how long freed pages stay committed
/// before mimalloc returns them (10 ms by default).
#[cfg(target_os = "linux")]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Runs before `main` and before the first allocation (from the ELF `.init_array`, as a C
/// constructor would): mimalloc reads this option when it makes its arena, at the first
/// allocation, so setting it in `main` is too late. Not committing arena memory eagerly lets
/// mimalloc return freed pages: a 100,000-artifact pass held ~35 MB more without it
/// (BENCHMARKS.md). Returning them at once rather than 10 ms later keeps a million-artifact
/// pass ~23 MB smaller at its peak (the registry's text and the parse's scaffolding, freed as
/// the pass starts, are not still resident when its rows are made), at the same wall time.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = {
    extern "C" fn tune_allocator() {
        // SAFETY: sets a process-wide allocator option; mimalloc allows it at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
        // SAFETY: as above.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
    tune_allocator
};

/// `pow` for the whole process, in place of glibc's libm: `f64::powf` in tokio's scheduler
/// statistics is the binary's one use of libm, and with `pow` defined here the linker leaves
/// `libm.so.6` out (`--as-needed`). The loader would map it, relocate it and run its IFUNC
/// resolvers at every start for that one function: ~0.5 MiB of a small invocation's memory
/// (BENCHMARKS.md, "A small pass's memory, fourth round"). musl's `pow`, ported to Rust by
/// the `libm` crate: within 1 ULP, as glibc's is; it does not set `errno`, which no Rust
/// caller reads. `tests/it/bootstrap.rs` checks that the binary needs no libm.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
// SAFETY: the symbol `pow` is C's `double pow(double, double)`; this definition has that
// signature and its contract (a pure function of its arguments, no state, no panics).
#[unsafe(no_mangle)]
pub extern "C" fn pow(base: f64, exponent: f64) -> f64 {
    libm::pow(base, exponent)
}

fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return serve_lambda();
    }
    cli::main()
}

/// Serves invocations on the custom runtime until it stops. The future is boxed: unboxed, its
/// tens of KiB (the container's SDK setup, the runtime's loop, an invocation's pass) were
/// copied through each of `block_on`'s frames on the main thread's stack (BENCHMARKS.md, "A
/// small pass's memory, fifth round").
fn serve_lambda() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the tokio runtime");
    match runtime.block_on(Box::pin(freshness_monitor::lambda::serve())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("freshness-monitor: the Lambda runtime stopped: {err}");
            ExitCode::FAILURE
        }
    }
}
