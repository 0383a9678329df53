//! Fuzz target: the registry parser over arbitrary bytes. The parser reads text an operator
//! wrote by hand (and YAML with aliases and merge keys), so whatever the bytes it must return
//! a registry or located errors: never panic, never hang, never blow the stack or the heap.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match freshness_monitor::registry::parse_registry("fuzz.yaml", data) {
        Ok(registry) => {
            for error in registry.artifact_errors() {
                assert!(!error.message.is_empty(), "an artifact error without a message");
            }
        }
        Err(err) => {
            assert!(!err.errors.is_empty(), "a rejection without errors");
            for error in &err.errors {
                assert!(!error.message.is_empty(), "an error without a message");
            }
        }
    }
});
