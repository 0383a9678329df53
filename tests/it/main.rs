//! Integration tests: the real binary and the real protocols, one crate with modules.

mod deploy;
mod moto;
mod support;
