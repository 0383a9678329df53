//! freshness-monitor: an absence-driven monitor for data artifacts in S3.
//!
//! A declarative registry says which artifacts must exist, where and by when; a pass probes
//! each one and reports what is missing or stale past its SLA. The core (registry, calendar,
//! cadences, templates, classification, reports) is pure and takes `now` as a parameter; I/O
//! sits behind small traits ([`store::ObjectStore`]) so the Lambda and the CLI share one pass.

pub mod alert;
pub mod aws;
pub mod cadence;
pub mod calendar;
pub mod classify;
pub mod coverage;
pub mod history;
pub mod lambda;
pub mod ledger;
pub mod metrics;
pub mod object;
pub mod outcome;
pub mod page;
pub mod pass;
pub mod probe;
pub mod registry;
pub mod registry_source;
pub mod report;
pub mod settings;
pub mod store;
pub mod telemetry;
pub mod template;
pub mod text;
pub mod yaml;
