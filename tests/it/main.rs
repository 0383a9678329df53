//! Integration tests: the real binary and the real protocols, one crate with modules.

mod check;
mod moto;
mod support;
mod lambda;
mod loopback;
mod runtime_api;
mod s3_store;
