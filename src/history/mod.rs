//! The history scan: the pure part (the cycle walk, the plan, the judging of each cell, the
//! file's shape, the SLA roll-up) comes from the core crate (`freshness_core::history`); the
//! decisions of which cycles to probe are `decide`'s, the probing of those cycles [`scan`]'s.

pub use freshness_core::history::*;

pub mod compact;
mod decide;
pub mod files;
pub mod listed;
pub mod scan;
pub mod set_cycles;
pub mod write;

pub use scan::{ScanSettings, scan_history, scan_writing};

#[cfg(test)]
mod tests;
