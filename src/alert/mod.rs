//! Alert delivery (docs/alerts.md): what a pass says about the artifacts that alert, to whom, and
//! exactly once.
//!
//! - [`plan`]: pure. Which rows alert, the digest text, RESOLVED candidates, cutting a
//!   message to a channel's limit.
//! - [`policy`]: pure. What the registry's alert policy (routes, escalation, silences,
//!   acknowledgements, dependencies) makes of each alerting row, and the digest's grouping.
//! - [`dedup`]: the markers in the original monitor's place and shape, used as the lock that
//!   makes one alert per artifact per cycle.
//! - [`channel`], [`sns`], [`telegram`]: where digests go.
//! - [`deliver`]: the orchestration a pass calls, returning the figures for the heartbeat.

pub mod channel;
pub mod dedup;
pub mod gather;
pub mod deliver;
pub mod digest;
pub mod policy;
pub mod sns;
pub mod telegram;

pub use channel::{AlertChannel, ChannelError, StdoutChannel};
pub use deliver::{Alerter, would_send};
