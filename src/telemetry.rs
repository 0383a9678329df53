//! Logging set-up: one JSON object per line, as CloudWatch Logs reads them, for the Lambda and
//! for `run`. Kept apart from the Lambda shell because the CLI sets it up too.

/// JSON logs on stdout (CloudWatch reads them), level from `RUST_LOG` (default `info`).
/// Calling it twice is harmless: the second call leaves the first subscriber in place.
pub fn init_json_logging() {
    init_json_logging_to(std::io::stdout);
}

/// JSON logs on stderr, for CLI commands whose stdout is their answer (`run`).
pub fn init_json_logging_to_stderr() {
    init_json_logging_to(std::io::stderr);
}

fn init_json_logging_to<W>(writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init();
}
