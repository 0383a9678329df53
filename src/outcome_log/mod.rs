//! The outcome log (docs/outputs.md#the-outcome-log): the records and their rules come from
//! the core crate (`freshness_core::outcome_log`); writing a pass's records ([`mod@write`]),
//! reading the log back for the history ([`read`]) and the history's compacted log
//! ([`compacted`]) are the shell's.

pub use freshness_core::outcome_log::*;

pub mod by_place;
pub mod compacted;
pub mod in_step;
pub mod read;
pub mod write;

#[cfg(test)]
mod tests;
