//! The `freshness-monitor` binary: the Lambda's bootstrap when the runtime starts it, the CLI
//! otherwise.

mod cli;

/// mimalloc instead of glibc's malloc: a pass allocates a few small strings per artifact, and
/// at 100,000 artifacts glibc's malloc and free were ~40% of the pure core's CPU (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return serve_lambda();
    }
    cli::main()
}

/// Serves invocations on the custom runtime until it stops.
fn serve_lambda() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the tokio runtime");
    match runtime.block_on(freshness_monitor::lambda::serve()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("freshness-monitor: the Lambda runtime stopped: {err}");
            ExitCode::FAILURE
        }
    }
}
