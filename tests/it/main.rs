//! Integration tests: the real binary and the real protocols, one crate with modules.

mod alerts;
mod calendars;
mod check;
mod coverage;
mod deploy;
mod emulator;
mod faults;
mod history;
mod isolation;
mod lambda;
mod policy;
mod producers;
mod properties;
mod requests;
mod robustness;
mod s3_store;
mod status_page;
mod support;
mod validate;
