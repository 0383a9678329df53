//! The Lambda shell: serves invocations on the custom runtime (`provided.al2023`).
//!
//! `main` calls [`serve`] when `AWS_LAMBDA_RUNTIME_API` is set. The shell is thin: it parses the
//! event ([`event`]) and the env contract ([`settings`]), builds the AWS clients once per
//! container, and hands each invocation to the same pass the CLI runs ([`handler`]).

pub mod event;
pub mod handler;
pub mod settings;

pub use handler::serve;

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
