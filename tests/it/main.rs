//! Integration tests: the real binary and the real protocols, one crate with modules.

mod moto;
mod support;
mod validate;
