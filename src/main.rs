//! The one binary: a Lambda function when the runtime starts it, a CLI otherwise.

use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("start the tokio runtime");
        return match runtime.block_on(freshness_monitor::lambda::serve()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("freshness-monitor: the Lambda runtime stopped: {err}");
                ExitCode::FAILURE
            }
        };
    }
    ExitCode::SUCCESS
}
