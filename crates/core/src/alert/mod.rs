//! What the alert policy decides and what a digest says, pure: the shell's delivery
//! (`alert::deliver` in the binary crate) sends what these return.
//!
//! - [`digest`]: which rows are new alerts, every word of a digest (alerts, reminders,
//!   RESOLVED, the registry error), grouped by cause, cut to a channel's limit.
//! - [`policy`]: what the registry's alert policy (routes, escalation, silences,
//!   acknowledgements, dependencies, never written) makes of each alerting row, from inputs
//!   the pass gathered.

pub mod digest;
pub mod policy;
