//! The ledger (the monitor's memory across passes): its data and pure advance come from the
//! core crate (`freshness_core::ledger`); reading it at a pass's start and writing it
//! conditionally at its end are [`store`]'s, reading what the history scan needs of it
//! [`for_history`]'s.

pub use freshness_core::ledger::*;

pub mod for_history;
pub mod store;
