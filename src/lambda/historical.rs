//! A `{"mode": "historical"}` invocation (docs/lambda.md#the-history-scan): read the registry,
//! check the event's `lookback` and `only` against it, scan the history, write `history.json`
//! under the results prefix, answer with a short summary.
//!
//! It shares the container, the settings, the store and the error types with the pass, and
//! nothing else: no alerts, no dedup markers, no heartbeat (the heartbeat is the pass's; a
//! registry the scan cannot use fails the invocation, and the next pass reports it as usual).

use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use serde_json::{Value, json};

use super::container::Container;
use super::deadline::probe_deadline;
use super::error::{HandlerError, registry_error_message};
use super::event::EventError;
use crate::history::files::HistoryFiles;
use crate::history::lookback::known_cadence_names;
use crate::history::{History, Lookback, ScanSettings, scan_writing};
use crate::pass::OutputLocation;
use crate::registry::Registry;
use crate::registry_source::{self, LoadedRegistry, RegistrySource};
use crate::report::files::{HISTORY, HISTORY_DIGEST};
use crate::settings::Settings;
use crate::store::{ObjectStore, S3Url};

/// Time kept back from the deadline, on top of the pass's, for what is written after the
/// last batch of artifacts: the scan writes `history.json` (~800 MB at 100,000 artifacts),
/// the digest and the compacted log while it judges (`history::files`), so this covers the
/// batch under way (≤ 100,000 cycles, ~20 MB of `history.json`), the SLA counts per artifact
/// (~100 MB at a million), the held first parts and three completions: a few seconds to S3
/// in region, so room for a slower link (docs/lambda.md#deadline).
pub const HISTORY_WRITE_RESERVE: Duration = Duration::from_secs(25);

/// Runs the history scan an event asked for.
pub async fn run_historical<S: ObjectStore>(
    container: &Container<S>,
    lookback: &Lookback,
    only: &[String],
    deadline: Option<SystemTime>,
    request_id: &str,
) -> Result<Value, HandlerError> {
    let settings = container
        .settings
        .as_ref()
        .map_err(|e| HandlerError::Settings(e.clone()))?;
    let now = Utc::now();
    let loaded = read_registry(container, settings).await?;
    check_event(&loaded.registry, lookback, only)?;
    let location = settings.output_location();
    let scan_settings = ScanSettings {
        probe_concurrency: settings.probe_concurrency,
        probe_deadline: deadline.map(|d| scan_deadline(d, settings)),
        only: only.to_vec(),
        lookback: lookback.clone(),
        list_max_pages: settings.list_max_pages,
        log_location: Some(location.clone()),
        ..ScanSettings::default()
    };
    let json_key = format!("{}{HISTORY}", location.prefix);
    let digest_key = format!("{}{HISTORY_DIGEST}", location.prefix);
    let store = &container.store;
    let mut files = HistoryFiles::new(store, &location.bucket, &json_key, &digest_key);
    let registry = &loaded.registry;
    let mut history = scan_writing(store, registry, &scan_settings, now, Some(&mut files)).await;
    let scanned = Memory::now();
    let writing = Instant::now();
    let written = files
        .finish(&mut history)
        .await
        .map_err(|source| HandlerError::Outputs {
            bucket: location.bucket.clone(),
            prefix: location.prefix.clone(),
            source,
        });
    let outputs = (writing.elapsed(), scanned, Memory::now());
    log_summary(request_id, &history, &written, outputs);
    written?;
    Ok(response(&history, &location))
}

/// The registry named by the env, or the invocation's `RegistryError`.
async fn read_registry<S: ObjectStore>(
    container: &Container<S>,
    settings: &Settings,
) -> Result<LoadedRegistry, HandlerError> {
    let source = RegistrySource::Store {
        bucket: settings.registry_bucket.clone(),
        key: settings.registry_key.clone(),
    };
    registry_source::load(&container.store, &source)
        .await
        .map_err(|err| HandlerError::Registry(registry_error_message(settings, &err)))
}

/// The event's cadence names and artifact ids must be the registry's: a typo must not scan
/// with a silent default (or nothing) and overwrite yesterday's file.
fn check_event(
    registry: &Registry,
    lookback: &Lookback,
    only: &[String],
) -> Result<(), EventError> {
    let unknown = lookback.unknown_names(registry);
    if !unknown.is_empty() {
        let known: Vec<&str> = known_cadence_names(registry).collect();
        return Err(EventError::unknown_lookback_cadences(&unknown, &known));
    }
    let unknown_ids: Vec<String> = only
        .iter()
        .filter(|id| !registry.entries.iter().any(|e| e.label() == id.as_str()))
        .cloned()
        .collect();
    if !unknown_ids.is_empty() {
        return Err(EventError::unknown_only_ids(&unknown_ids));
    }
    Ok(())
}

/// No probe starts later than the pass's probe deadline moved earlier by
/// [`HISTORY_WRITE_RESERVE`].
fn scan_deadline(deadline: SystemTime, settings: &Settings) -> tokio::time::Instant {
    let earlier = deadline
        .checked_sub(HISTORY_WRITE_RESERVE)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    tokio::time::Instant::from_std(probe_deadline(
        earlier,
        SystemTime::now(),
        Instant::now(),
        settings.probe_timeout,
    ))
}

/// The process's memory (Linux's `/proc/self/status`, in MB): resident now and its peak so
/// far, logged after the scan and after the writes (`None` elsewhere).
#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    rss_mb: Option<f64>,
    peak_mb: Option<f64>,
}

impl Memory {
    fn now() -> Memory {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            let line = status.lines().find(|l| l.starts_with(name))?;
            let kb: f64 = (line[name.len()..].trim().trim_end_matches("kB").trim())
                .parse()
                .ok()?;
            Some((kb / 1024.0).round())
        };
        Memory {
            rss_mb: field("VmRSS:"),
            peak_mb: field("VmHWM:"),
        }
    }
}

/// The one JSON line a history scan logs, with the writes' wall time and the memory after the
/// scan and after the writes.
fn log_summary(
    request_id: &str,
    history: &History<'_>,
    written: &Result<(), HandlerError>,
    (writing, scanned, ended): (Duration, Memory, Memory),
) {
    tracing::info!(
        message = "history scan complete",
        request_id,
        generated_at = %crate::text::rfc3339(history.generated_at),
        n_artifacts = history.n_artifacts(),
        n_cycles_probed = history.n_cycles_probed(),
        n_head_requests = history.n_head_requests,
        n_list_requests = history.n_list_requests,
        n_cycles_from_log = history.n_cycles_from_log,
        n_log_requests = history.n_log_requests,
        warnings = history.warnings.len(),
        gap_count = history.gap_count(),
        skipped_unsupported = history.skipped_unsupported,
        truncated = history.truncated(),
        not_scanned = history.not_scanned.len(),
        duration_seconds = history.duration.as_secs_f64(),
        read_log_seconds = history.phases.read_log.as_secs_f64(),
        cycles_seconds = history.phases.cycles.as_secs_f64(),
        write_log_seconds = history.phases.write_log.as_secs_f64(),
        write_files_seconds = history.phases.write_files.as_secs_f64(),
        write_outputs_seconds = writing.as_secs_f64(),
        rss_after_scan_mb = scanned.rss_mb,
        peak_rss_scan_mb = scanned.peak_mb,
        peak_rss_mb = ended.peak_mb,
        output_written = written.is_ok(),
        write_error = written.as_ref().err().map(|e| e.to_string()),
    );
}

/// The response (docs/lambda.md#the-history-scan).
pub fn response(history: &History<'_>, location: &OutputLocation) -> Value {
    let key = format!("{}{HISTORY}", location.prefix);
    json!({
        "mode": "historical",
        "generated_at": crate::text::rfc3339(history.generated_at),
        "history_file": S3Url(&location.bucket, &key).to_string(),
        "lookback": history.lookback,
        "n_artifacts": history.n_artifacts(),
        "n_cycles_probed": history.n_cycles_probed(),
        "n_head_requests": history.n_head_requests,
        "n_list_requests": history.n_list_requests,
        "n_cycles_from_log": history.n_cycles_from_log,
        "probes_by_reason": history.probes_by_reason(),
        "n_log_requests": history.n_log_requests,
        "warnings": history.warnings.len(),
        "skipped_unsupported": history.skipped_unsupported,
        "gap_count": history.gap_count(),
        "truncated": history.truncated(),
        "n_not_scanned": history.not_scanned.len(),
        "duration_seconds": history.duration_seconds(),
        "sla": history.sla().overall,
    })
}
