//! The outcome log (docs/outputs.md#the-outcome-log): the records and their rules come from
//! the core crate (`freshness_core::outcome_log`); writing a pass's records ([`write`]) and
//! reading the log back for the history ([`read`]) are the shell's.

pub use freshness_core::outcome_log::*;

pub mod read;
pub mod write;
