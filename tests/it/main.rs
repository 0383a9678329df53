//! Integration tests: the real binary and the real protocols, one crate with modules.

mod coverage;
mod moto;
mod support;
