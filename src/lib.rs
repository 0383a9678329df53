//! freshness-monitor: an absence-driven monitor for data artifacts in S3.
//!
//! A declarative registry says which artifacts must exist, where and by when; a pass probes
//! each one and reports what is missing or stale past its SLA. This crate is the shell: the
//! object stores (S3, a local directory), the AWS clients, the alert channels, the pass's steps
//! that gather inputs and act on decisions, the Lambda runtime and the CLI. Every decision is
//! the pure core's (`freshness_core`, re-exported here under the same module names), and the
//! producer coverage guard is `freshness_coverage`.
//!
//! The shell's modules, bottom up (a module imports only from the ones before it;
//! `tests/it/layers.rs` checks it): [`settings`], [`telemetry`], [`guard`], [`boxed`],
//! [`aws`], [`store`], [`probe`], [`registry_source`], [`ledger`], [`history`], [`alert`],
//! [`metrics`], [`pass`], [`lambda`].

pub use freshness_core::{
    cadence, calendar, classify, deadline, matcher, object, outcome, page, registry, report,
    template, text, yaml,
};
pub use freshness_coverage as coverage;

pub mod settings;
pub mod telemetry;
pub mod guard;
pub mod boxed;
pub mod tls;
pub mod aws;
pub mod store;
pub mod probe;
pub mod registry_source;
pub mod ledger;
pub mod outcome_log;
pub mod history;
pub mod alert;
pub mod metrics;
pub mod pass;
pub mod deadline_schedule;
pub mod lambda;
