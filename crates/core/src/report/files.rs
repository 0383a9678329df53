//! The files a pass, the history run and the `ack` command keep under the results prefix, in
//! one table. Their names are a contract (docs/outputs.md): dashboards, the original monitor's
//! readers and operators' scripts fetch them by name.

/// One row per artifact: `{run_at, alerts_enabled, n_entries, results}`.
pub const CHECK_RESULTS: &str = "check_results.json";
/// One verdict per (cadence, cycle label), in the original system's shape.
pub const CYCLE_VERDICT: &str = "cycle_verdict.json";
/// The pass's own health, written last.
pub const HEARTBEAT: &str = "heartbeat.json";
/// The status page.
pub const STATUS_PAGE: &str = "status.html";
/// The history scan's file (the daily `{"mode": "historical"}` run).
pub const HISTORY: &str = "history.json";
/// What the status page draws of the history scan, written beside `history.json`.
pub const HISTORY_DIGEST: &str = "history_digest.ndjson.gz";
/// What earlier passes learned, per artifact.
pub const LEDGER: &str = "ledger.json";
/// The folder of the acknowledgement objects (`acks/<artifact id>.json`).
pub const ACKS: &str = "acks/";
