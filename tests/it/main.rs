//! Integration tests: the real binary and the real protocols, one crate with modules.

mod alerts;
mod calendars;
mod check;
mod coverage;
mod deploy;
mod docs;
mod emulator;
mod faults;
mod first_hour;
mod history;
mod isolation;
mod lambda;
mod layers;
mod outcome_log;
mod policy;
mod producers;
mod properties;
mod requests;
mod robustness;
mod s3_store;
mod status_page;
mod support;
mod validate;
