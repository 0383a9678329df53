//! Alert delivery (docs/alerts.md): what a pass says about the artifacts that alert, to whom, and
//! exactly once.
//!
//! - [`digest`], [`policy`]: pure, from the core crate (`freshness_core::alert`): which rows
//!   alert, every word of a digest, and what the alert policy makes of each alerting row.
//! - [`gather`]: the policy's inputs read from the store (acknowledgements, never-written
//!   listings), and the `ack` command's writes.
//! - [`dedup`]: the markers in the original monitor's place and shape, used as the lock that
//!   makes one alert per artifact per cycle.
//! - [`channel`], [`sns`], [`telegram`]: where digests go.
//! - [`deliver`]: the orchestration a pass calls, returning the figures for the heartbeat.

pub use freshness_core::alert::{digest, policy};

pub mod channel;
pub mod dedup;
pub mod deliver;
pub mod gather;
pub mod sns;
pub mod telegram;

pub use channel::{AlertChannel, ChannelError, StdoutChannel};
pub use deliver::{Alerter, would_send};
