//! Integration tests: the real binary and the real protocols, one crate with modules.

mod check;
mod coverage;
mod moto;
mod properties;
mod support;
