//! Integration tests: the real binary and the real protocols, one crate with modules.

mod alerts;
mod check;
mod coverage;
mod deploy;
mod emulator;
mod faults;
mod history;
mod isolation;
mod lambda;
mod properties;
mod requests;
mod s3_store;
mod support;
mod validate;
