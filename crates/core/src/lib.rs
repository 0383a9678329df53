//! freshness-monitor's pure core: everything the monitor decides, and nothing it does.
//!
//! Given a registry's text, what the object store answered and `now`, these modules say which
//! cycle each artifact is in, what it should look like, whether it is fresh, what alerts and to
//! whom, what every digest says, what the reports and the status page hold, and what the
//! history shows. None of them reads a clock, a file or the network: this crate depends on
//! neither tokio nor any AWS SDK crate (`cargo tree -p freshness-core`), so the compiler keeps
//! the core pure. The binary crate's shells (stores, channels, the pass's steps, the Lambda and
//! the CLI) gather the inputs and act on the answers.
//!
//! The modules, bottom up (a module imports only from the ones before it; `tests/it/layers.rs`
//! checks it):
//! - [`text`]: the words and times every message shares.
//! - [`yaml`]: the registry's YAML, with line numbers.
//! - [`object`]: what the object store answers (a HEAD's metadata, a listing, its errors).
//! - [`calendar`]: exchange and business calendars.
//! - [`cadence`]: schedules, cycles, ticks and active windows.
//! - [`template`]: key templates.
//! - [`registry`]: the registry model and its loader.
//! - [`classify`]: one artifact's state at one `now`.
//! - [`matcher`]: from a created object's bucket and key back to its artifacts and cycle.
//! - [`report`]: rows and the output files' shapes.
//! - [`ledger`]: the memory across passes, as data, and its pure advance.
//! - [`outcome_log`]: the records of closed cycles a pass leaves, and reading them back.
//! - [`alert`]: the alert policy's decisions and every word of a digest.
//! - [`deadline`]: the next moment an artifact not yet settled would start to alert.
//! - [`outcome`]: what one pass found.
//! - [`history`]: the history of each artifact's cycles, and its SLA report.
//! - [`page`]: the status page.

pub mod text;
pub mod yaml;
pub mod object;
pub mod calendar;
pub mod cadence;
pub mod template;
pub mod registry;
pub mod classify;
pub mod matcher;
pub mod report;
pub mod ledger;
pub mod outcome_log;
pub mod alert;
pub mod deadline;
pub mod outcome;
pub mod history;
pub mod page;
