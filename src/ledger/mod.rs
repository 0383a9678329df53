//! The ledger (the monitor's memory across passes): its data and pure advance come from the
//! core crate (`freshness_core::ledger`); reading it at a pass's start and writing it
//! conditionally at its end are [`store`]'s.

pub use freshness_core::ledger::*;

pub mod store;
