//! Integration tests: the real binary and the real protocols, one crate with modules.

mod alerts;
mod calendars;
mod check;
mod content;
mod coverage;
mod deadline_passes;
mod deploy;
mod docs;
mod emulator;
mod faults;
mod first_hour;
mod history;
mod isolation;
mod lambda;
mod layers;
mod policy;
mod producers;
mod properties;
mod requests;
mod robustness;
mod round_trips;
mod s3_store;
mod sets;
mod status_page;
mod support;
mod validate;
