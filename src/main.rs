//! The `freshness-monitor` binary: the Lambda's bootstrap when the runtime starts it, the CLI
//! otherwise.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
